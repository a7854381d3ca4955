// SVG line plots: the document's structure, escaping, axis ticks, and the atomic file writes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/plot/svg_plot.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;
using test::file_contents;

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The points="..." attributes of the polylines, in order, each as its list of "x,y" pairs.
std::vector<std::vector<std::string>> polyline_points(const std::string& svg) {
  std::vector<std::vector<std::string>> out;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    const size_t open = svg.find("points=\"", at) + 8;
    const size_t close = svg.find('"', open);
    std::istringstream in(svg.substr(open, close - open));
    std::vector<std::string> pairs;
    for (std::string p; in >> p;) pairs.push_back(p);
    out.push_back(pairs);
  }
  return out;
}

PlotSeries line(const std::string& name, int n, double slope) {
  PlotSeries s;
  s.name = name;
  for (int i = 0; i < n; ++i) {
    s.x.push_back(i);
    s.y.push_back(100 + slope * i);
  }
  return s;
}

TEST(SvgPlot, IsOneSvgDocumentWithAPolylinePerSeries) {
  const std::string svg =
      render_svg_plot({line("a", 11, 10), line("b", 5, 2), line("c", 2, 1)}, {"t", "x", "y"});
  EXPECT_TRUE(test::StartsWith(svg, "<svg"));
  const size_t end = svg.find_last_not_of(" \n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(svg.substr(0, end + 1).substr(end + 1 - 6), "</svg>");
  EXPECT_EQ(count_of(svg, "<svg"), 1u);
  EXPECT_EQ(count_of(svg, "</svg>"), 1u);
  const auto lines = polyline_points(svg);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 11u);
  EXPECT_EQ(lines[1].size(), 5u);
  EXPECT_EQ(lines[2].size(), 2u);
  for (const auto& pts : lines)
    for (const std::string& p : pts) {
      const size_t comma = p.find(',');
      ASSERT_NE(comma, std::string::npos) << p;
      EXPECT_TRUE(std::isfinite(std::stod(p.substr(0, comma)))) << p;
      EXPECT_TRUE(std::isfinite(std::stod(p.substr(comma + 1)))) << p;
    }
  EXPECT_EQ(count_of(svg, "<text"), count_of(svg, "</text>"));
  for (const char* name : {">a</text>", ">b</text>", ">c</text>"}) EXPECT_TRUE(Contains(svg, name));
}

TEST(SvgPlot, NonFinitePointsAreSkipped) {
  PlotSeries s = line("lr", 6, 1);
  s.y[1] = std::numeric_limits<double>::quiet_NaN();
  s.y[3] = std::numeric_limits<double>::infinity();
  s.x[4] = -std::numeric_limits<double>::infinity();
  const std::string svg = render_svg_plot({s}, {});
  const auto lines = polyline_points(svg);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 3u);
  EXPECT_FALSE(Contains(svg, "nan"));
  EXPECT_FALSE(Contains(svg, "inf"));
}

TEST(SvgPlot, MismatchedOrEmptySeriesStillRender) {
  PlotSeries uneven = line("uneven", 4, 1);
  uneven.y.pop_back();
  PlotSeries empty;
  empty.name = "empty";
  const std::string svg = render_svg_plot({uneven, empty}, {});
  const auto lines = polyline_points(svg);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 3u);
  EXPECT_EQ(lines[1].size(), 0u);
  const std::string nothing = render_svg_plot({}, {"nothing", "", ""});
  EXPECT_TRUE(test::StartsWith(nothing, "<svg"));
  EXPECT_FALSE(Contains(nothing, "nan"));
  EXPECT_EQ(polyline_points(nothing).size(), 0u);
}

TEST(SvgPlot, EscapesMarkupInNamesTitlesAndLabels) {
  const std::string svg =
      render_svg_plot({line("cos<T & w>", 3, 1)}, {"lr <schedule> & more", "t<x", "a&b"});
  EXPECT_TRUE(Contains(svg, "cos&lt;T &amp; w&gt;"));
  EXPECT_TRUE(Contains(svg, "lr &lt;schedule&gt; &amp; more"));
  EXPECT_TRUE(Contains(svg, "t&lt;x"));
  EXPECT_TRUE(Contains(svg, "a&amp;b"));
  EXPECT_FALSE(Contains(svg, "cos<T"));
  EXPECT_FALSE(Contains(svg, "<schedule>"));
  EXPECT_FALSE(Contains(svg, "& w"));
  EXPECT_FALSE(Contains(svg, "a&b"));
}

TEST(SvgPlot, AxisTicksAreRoundNumbersOverTheRange) {
  // x from 0 to 10: ticks 0, 2, .., 10; y from 100 to 200 (labels that cannot clash).
  const std::string svg = render_svg_plot({line("a", 11, 10)}, {});
  for (const char* tick : {">0</text>", ">2</text>", ">4</text>", ">6</text>", ">8</text>",
                           ">10</text>", ">100</text>", ">150</text>", ">200</text>"})
    EXPECT_TRUE(Contains(svg, tick)) << tick;
  for (const char* not_a_tick : {">1</text>", ">3</text>", ">12</text>", ">-2</text>"})
    EXPECT_FALSE(Contains(svg, not_a_tick)) << not_a_tick;
  // A small range gets decimal ticks.
  PlotSeries small;
  small.x = {0, 1};
  small.y = {0.0, 0.3};
  const std::string lr = render_svg_plot({small}, {});
  for (const char* tick :
       {">0.2</text>", ">0.4</text>", ">0.6</text>", ">0.8</text>", ">0.1</text>", ">0.3</text>"})
    EXPECT_TRUE(Contains(lr, tick)) << tick;
}

TEST(SvgPlot, WriteSvgPlotWritesTheDocumentAndNoTempFile) {
  const test::TempDir dir;
  const std::string path = dir.file("lr.svg");
  const std::vector<PlotSeries> series = {line("a", 5, 1)};
  write_svg_plot(path, series, {"title", "t", "lr"});
  EXPECT_EQ(file_contents(path), render_svg_plot(series, {"title", "t", "lr"}));
  EXPECT_EQ(test::directory_entries(dir.path()), std::vector<std::string>{"lr.svg"});
}

TEST(SvgPlot, WriteIntoAMissingDirectoryNamesThePath) {
  const test::TempDir dir;
  const std::string path = dir.file("no/such/dir/lr.svg");
  const std::string msg =
      test::data_error_message([&] { write_svg_plot(path, {line("a", 3, 1)}, {}); });
  EXPECT_TRUE(Contains(msg, path));
  EXPECT_TRUE(test::directory_entries(dir.path()).empty());
}

}  // namespace
}  // namespace cutrain
