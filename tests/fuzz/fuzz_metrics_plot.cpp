// `cutrain plot`'s input path on arbitrary file contents: read_metrics (JSON lines, or CSV when
// the first input byte is odd) loads records or throws DataError naming the file, and any
// records it loads render to an SVG document.
#include "cutrain/error.h"
#include "cutrain/plot/svg_plot.h"
#include "cutrain/train/metrics.h"
#include "fuzz_target.h"

namespace cutrain::fuzz {

void write_fuzz_seeds(const std::filesystem::path& dir) {
  write_file(dir / "jsonl",
             std::string("\x00", 1) +
                 "{\"epoch\":1,\"train_loss\":0.9,\"train_acc\":0.6,\"test_loss\":0.7,"
                 "\"test_acc\":0.7,\"examples_per_sec\":15000,\"seconds\":4.1,\"lr\":0.3}\n"
                 "{\"epoch\":2,\"train_loss\":0.5,\"train_acc\":0.8,\"test_acc\":0.79}\n");
  write_file(dir / "csv",
             "\x01"
             "epoch,train_loss,train_acc,test_loss,test_acc,examples_per_sec,"
             "seconds,lr\n1,0.9,0.6,0.7,0.7,15000,4.1,0.3\n"
             "2,0.5,0.8,0.6,0.79,16000,4.0,0.3\n");
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  if (size == 0) return 0;
  const std::string path = scratch_path(data[0] & 1 ? ".csv" : ".jsonl");
  write_file(path, data + 1, size - 1);
  std::vector<EpochMetrics> rows;
  if (!loads_or_rejects<DataError>(path, [&] { rows = read_metrics(path); })) return 0;
  check(!rows.empty(), "loaded no records without an error");
  PlotSeries loss{"train loss", {}, {}}, test_acc{"test acc", {}, {}, true};
  for (const EpochMetrics& m : rows) {
    loss.x.push_back(static_cast<double>(m.epoch)), loss.y.push_back(m.train_loss);
    test_acc.x.push_back(static_cast<double>(m.epoch)), test_acc.y.push_back(m.test_acc);
  }
  const std::string svg = render_svg_plot({loss, test_acc}, {"fuzz", "epoch", ""});
  check(svg.rfind("<svg", 0) == 0 && svg.find("</svg>") != std::string::npos,
        "the plot is not an SVG document");
  return 0;
}
