// bench_dataset: data-reading throughput shaped like the MoXing manual's table (seed 001,
// 1.4.2): images per second reading bytes only, decoded images, and record files, each
// without and with the loader's local cache, on Fashion-MNIST written out as PNG and JPEG
// files, from local disk and (with --s3) from s3rver through mox::file. "Without cache" reads
// the source every epoch (after --warmup untimed epochs); "with cache" is the epochs after the
// first, which read the decoded (for bytes: raw) examples the first epoch cached. Each cell is
// the median over --reps epochs. The peer is torchvision's ImageFolder + DataLoader on the same
// local files (decode to uint8 tensors), compared with Mox's decoded images without cache.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "bench/common.h"
#include "io/data/convert.h"
#include "io/data/image_folder.h"
#include "io/data/loader.h"
#include "io/data/mnist.h"
#include "io/file/file.h"
#include "tests/s3/s3_fixture.h"

using namespace mox;
using bench::json;
namespace fs = std::filesystem;

namespace {

struct Config {
  int64_t count = 10000, batch = 64, warmup = 1, epochs = 3;
  int readers = 8;
  std::string workdir = (fs::temp_directory_path() / "mox_bench_dataset").string();
};

using Clock = std::chrono::steady_clock;

// Images per second of each epoch after the first `skip`, timed from the consumer's side at
// the points where n, 2n, ... examples have arrived (batches run across epoch boundaries).
std::vector<double> epoch_rates(data::Loader& loader, int64_t n, int64_t skip) {
  std::vector<Clock::time_point> marks = {Clock::now()};
  int64_t seen = 0;
  while (auto b = loader.next()) {
    seen += b->size();
    while (seen >= n * int64_t(marks.size())) marks.push_back(Clock::now());
  }
  std::vector<double> rates;
  for (size_t k = size_t(skip) + 1; k < marks.size(); ++k)
    rates.push_back(double(n) / std::chrono::duration<double>(marks[k] - marks[k - 1]).count());
  return rates;
}

double run_cell(const data::Source& src, bool decode, bool cache, const Config& c, int64_t n) {
  int64_t skip = cache ? 1 : c.warmup;  // with a cache, the first epoch fills it
  data::LoaderOptions o{.batch_size = c.batch, .num_readers = c.readers, .num_epochs = c.epochs + skip,
                        .shuffle = true, .shuffle_buffer_size = 256, .capacity = 1024, .decode = decode,
                        .channels = 1};
  if (cache) o.cache_dir = c.workdir + "/cache";
  data::Loader loader(src, o);
  std::vector<double> r = epoch_rates(loader, n, skip);
  return bench::median(r);
}

// One row of the table: every kind of reading of one format from one place.
json measure(const std::string& fmt, const std::string& where, const std::string& folder, const std::string& records,
             const Config& c) {
  data::ImageClassificationRawMetadata meta(folder);
  data::Source files = data::raw_source(meta), recs = data::record_dir_source(records);
  int64_t n = meta.total_num_samples();
  json r = {{"format", fmt}, {"source", where}};
  r["bytes"] = run_cell(files, false, false, c, n);
  r["bytes_cache"] = run_cell(files, false, true, c, n);
  r["images"] = run_cell(files, true, false, c, n);
  r["images_cache"] = run_cell(files, true, true, c, n);
  r["records"] = run_cell(recs, true, false, c, n);
  r["records_cache"] = run_cell(recs, true, true, c, n);
  return r;
}

const char* kTorchBody = R"PY(
import time, torch
from torchvision import datasets, transforms
from torch.utils.data import DataLoader
for fmt in ("png", "jpg"):
    ds = datasets.ImageFolder(ARGS["dirs"][fmt], transform=transforms.PILToTensor())
    dl = DataLoader(ds, batch_size=ARGS["batch"], shuffle=True, num_workers=ARGS["readers"], persistent_workers=True)
    rates = []
    for epoch in range(ARGS["warmup"] + ARGS["reps"]):
        t = time.perf_counter()
        n = sum(x.shape[0] for x, y in dl)
        if epoch >= ARGS["warmup"]:
            rates.append(n / (time.perf_counter() - t))
    rates.sort()
    RESULT[fmt] = rates[len(rates) // 2]
)PY";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_dataset: data-reading throughput (images/s): bytes, decoded images and records, "
               "without and with the local cache, on Fashion-MNIST as PNG and JPEG from local disk and S3; "
               "peer: torchvision ImageFolder"};
  bench::Options o;
  o.warmup = 1;  // epochs
  o.reps = 3;
  bench::add_common_options(app, o, true);
  Config c;
  bool s3 = false;
  app.add_option("--count", c.count, "Fashion-MNIST training images to write out")->capture_default_str()->check(CLI::Range(1, 60000));
  app.add_option("--readers", c.readers, "num_readers (and the peer's num_workers)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", c.batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--workdir", c.workdir, "where the image folders, records and cache go (removed at the end)")->capture_default_str();
  app.add_flag("--s3", s3, "also read the same files from s3rver (started like the S3 tests do) through mox::file");
  CLI11_PARSE(app, argc, argv);
  c.warmup = o.warmup;
  c.epochs = o.reps;
  try {
    bench::apply_threads(o);
    fs::remove_all(c.workdir);
    std::string mnist = data::kFashionMnistDir;
    Tensor images = data::read_idx(mnist + "/train-images-idx3-ubyte.gz");
    Tensor labels = data::read_idx(mnist + "/train-labels-idx1-ubyte.gz");
    json dirs, sizes;
    for (const char* fmt : {"png", "jpg"}) {
      std::string dir = c.workdir + "/" + fmt;
      sizes[fmt] = data::write_image_folder(images, labels, data::fashion_mnist_classes(), dir, fmt, c.count);
      dirs[fmt] = dir;
      data::ImageClassificationRawMetadata meta(dir);
      data::write_records(meta.samples(), meta.labels_list(), dir + "-records", {.records_per_file = 1000});
    }
    json cond = bench::conditions(
        "bench_dataset", o,
        {{"images", c.count}, {"sources", s3 ? "local disk (files just written: page cache), s3rver on 127.0.0.1" : "local disk (files just written: page cache)"},
         {"num_readers", c.readers}, {"batch", c.batch}, {"image_bytes", sizes}, {"jpeg_quality", 90},
         {"records_per_file", 1000}, {"epochs", "warmup untimed, then reps timed; median images/s"},
         {"with_cache", "epochs after the first, which filled the cache under workdir"},
         {"peer", o.no_peer ? "none" : "torchvision ImageFolder + DataLoader(num_workers=readers), PILToTensor, local files"}});
    bench::print_conditions(cond);
    std::optional<json> peer;
    if (!o.no_peer) {
      peer = bench::run_torch_peer(kTorchBody, {{"dirs", dirs}, {"batch", c.batch}, {"readers", c.readers}}, o);
      if (!peer) cond["peer_error"] = "the torchvision peer failed (message on stderr); no ratio";
    }
    json results = json::array();
    for (const char* fmt : {"png", "jpg"}) results.push_back(measure(fmt, "local", dirs[fmt], dirs[fmt].get<std::string>() + "-records", c));
    if (s3) {
      test::S3Fixture& server = test::S3Fixture::get();
      server.use_direct();
      for (const char* fmt : {"png", "jpg"}) {
        std::string url = server.unique(std::string("bench-") + fmt);
        file::copy_parallel(dirs[fmt], url);
        file::copy_parallel(dirs[fmt].get<std::string>() + "-records", url + "-records");
        results.push_back(measure(fmt, "s3", url, url + "-records", c));
      }
    }
    std::vector<int> w = {6, 7, 10, 10, 10, 10, 10, 10, 8, 7};
    bench::print_row({"source", "format", "bytes", "bytes+c", "images", "images+c", "records", "records+c", "torch", "ratio"}, w);
    for (json& r : results) {
      std::optional<double> torch;
      if (peer && r["source"] == "local" && peer->contains(r["format"].get<std::string>()))
        torch = (*peer)[r["format"].get<std::string>()].get<double>();
      r["torch_images"] = torch ? json(*torch) : json();
      r["ratio_images"] = bench::speed_ratio(r["images"].get<double>(), torch);
      bench::print_row({r["source"], r["format"], bench::fmt(r["bytes"], 0), bench::fmt(r["bytes_cache"], 0),
                        bench::fmt(r["images"], 0), bench::fmt(r["images_cache"], 0), bench::fmt(r["records"], 0),
                        bench::fmt(r["records_cache"], 0), torch ? bench::fmt(*torch, 0) : "-",
                        bench::ratio_str(r["ratio_images"])},
                       w);
    }
    std::cout << "  (images/s; +c: with cache; ratio: Mox images without cache over torch, local files)\n";
    fs::remove_all(c.workdir);
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
  } catch (const std::exception& e) {
    std::cerr << "bench_dataset: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
