// 'cutrain optim-lab' as a user runs it: trace output and plots, usage errors (exit 2), and the
// regression command's data checks (exit 1 with where to get the file).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;

using Result = test::CliResult;

// `stderr_to`: "2>&1" to capture both streams, "2>/dev/null" for stdout alone.
Result run_cli(const std::string& args, const std::string& stderr_to = "2>&1") {
  return test::run_shell("'" CUTRAIN_CLI_PATH "' " + args + " " + stderr_to);
}

// Output lines that are not '#' comments.
std::vector<std::string> table_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(OptimLabCli, TracePrintsHeaderAndOneLinePerStep) {
  const Result r = run_cli(
      "optim-lab trace --function quadratic2d --optimizer sgd --lr 0.1 --steps 5", "2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::vector<std::string> lines = table_lines(r.output);
  ASSERT_EQ(lines.size(), 7u) << r.output;  // header + steps 0..5
  EXPECT_EQ(lines[0], "step x1 x2 f");
  EXPECT_EQ(lines[1], "0 -5 -2 33");
  EXPECT_EQ(lines[2], "1 -4 -1.2 18.88");
  EXPECT_TRUE(Contains(r.output, "(engine optimizer)"));
}

TEST(OptimLabCli, OneDimensionalTraceAndNewton) {
  Result r = run_cli("optim-lab trace --function square --lr 0.2 --steps 10", "2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<std::string> lines = table_lines(r.output);
  ASSERT_EQ(lines.size(), 12u) << r.output;
  EXPECT_EQ(lines[0], "step x f");
  EXPECT_TRUE(Contains(lines[11], "10 0.06046")) << lines[11];
  r = run_cli("optim-lab trace --function cosh --optimizer newton --steps 10", "2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "not an engine optimizer"));
  lines = table_lines(r.output);
  ASSERT_EQ(lines.size(), 12u);
  EXPECT_EQ(lines[11], "10 0 1");
}

TEST(OptimLabCli, PlotWritesAnSvgWithContoursAndThePath) {
  const test::TempDir dir;
  const std::string path = dir.file("trace.svg");
  Result r = run_cli(
      "optim-lab trace --function ill-conditioned --optimizer momentum --lr 0.6 "
      "--momentum 0.5 --steps 20 --plot '" +
      path + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  std::string svg = read(path);
  EXPECT_TRUE(test::StartsWith(svg, "<svg")) << svg.substr(0, 80);
  EXPECT_TRUE(Contains(svg, "</svg>"));
  EXPECT_TRUE(Contains(svg, "<path"));  // contour lines
  size_t dots = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1))
    ++dots;
  EXPECT_EQ(dots, 21u);  // one per point of the path
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const std::string curve = dir.file("curve.svg");
  r = run_cli("optim-lab trace --function xcos --lr 2 --steps 10 --plot '" + curve + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(read(curve), "<polyline"));
}

TEST(OptimLabCli, UnknownFunctionOrOptimizerIsAUsageError) {
  Result r = run_cli("optim-lab trace --function rosenbrock --optimizer sgd --steps 3");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "rosenbrock"));
  r = run_cli("optim-lab trace --function square --optimizer lbfgs --steps 3");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "lbfgs"));
  r = run_cli("optim-lab trace --function square --start 1,2");
  EXPECT_EQ(r.code, 2) << r.output;
  r = run_cli("optim-lab trace --function square --c 3");
  EXPECT_EQ(r.code, 2) << r.output;
  r = run_cli("optim-lab regression --data x.dat --compare --optimizer adam");
  EXPECT_EQ(r.code, 2) << r.output;
}

TEST(OptimLabCli, RegressionWithMissingFileSaysWhereToGetIt) {
  const Result r = run_cli(
      "optim-lab regression --data /nonexistent/airfoil_self_noise.dat "
      "--optimizer sgd --lr 0.05 --batch-size 10 --epochs 2");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "/nonexistent/airfoil_self_noise.dat"));
  EXPECT_TRUE(Contains(r.output, "archive.ics.uci.edu"));
  EXPECT_TRUE(Contains(r.output, "Airfoil Self-Noise"));
}

TEST(OptimLabCli, RegressionOnASmallFilePrintsAndPlotsTheCurve) {
  const test::TempDir dir;
  std::string text;
  for (int i = 0; i < 400; ++i) {
    const double a = i % 13, b = (i * 7) % 11, c = i % 5, d = (i * 3) % 17, e = i % 9;
    text += std::to_string(a) + "\t" + std::to_string(b) + "\t" + std::to_string(c) + "\t" +
            std::to_string(d) + "\t" + std::to_string(e) + "\t" +
            std::to_string(2 * a - b + 0.5 * c + 0.1 * d - e) + "\n";
  }
  std::ofstream(dir.file("small.dat")) << text;
  const std::string svg = dir.file("loss.svg");
  const Result r = run_cli("optim-lab regression --data '" + dir.file("small.dat") +
                               "' --rows 400 --optimizer adam --lr 0.01 --batch-size 10 --epochs 2 "
                               "--plot '" +
                               svg + "'",
                           "2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::vector<std::string> lines = table_lines(r.output);
  ASSERT_EQ(lines.size(), 5u) << r.output;  // header + 800 examples / 200
  EXPECT_EQ(lines[0], "epoch seconds loss");
  EXPECT_TRUE(Contains(r.output, "# final loss"));
  const std::string doc = read(svg);
  EXPECT_TRUE(Contains(doc, "loss"));
  size_t panels = 0;
  for (size_t at = doc.find("<svg"); at != std::string::npos; at = doc.find("<svg", at + 1))
    ++panels;
  EXPECT_EQ(panels, 3u);  // the document and its two panels
}

}  // namespace
}  // namespace cutrain
