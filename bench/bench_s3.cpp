// bench_s3: S3 read throughput of mox::file against awscli (`/usr/bin/aws s3 cp`, Debian's
// awscli v2) on the same objects in the same run: one large object downloaded to a local file
// (Mox: parallel range GETs), the same object read into memory (Mox only), and a prefix of
// many small objects downloaded as a tree (Mox: copy_parallel; awscli: cp --recursive).
// The server is s3rver (tests/s3/node, started here on 127.0.0.1) unless --endpoint names
// another; both clients talk to it directly. awscli's times include its start-up (a Python
// program), measured alone as aws_startup_s; the table shows its speeds with and without it.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/common.h"
#include "io/file/file.h"
#include "io/s3/config.h"
#include "tests/s3/s3_fixture.h"

using namespace mox;
using bench::json;
namespace fs = std::filesystem;

namespace {

void run_aws(test::S3Fixture& s3, const std::vector<std::string>& args) {
  std::string out;
  if (s3.aws(args, &out) != 0) throw std::runtime_error("aws " + args[0] + " " + args[1] + " failed: " + out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_s3: S3 read throughput, mox::file vs awscli `s3 cp`, same objects, same run (s3rver)"};
  bench::Options o;
  o.reps = 3;  // a run moves real bytes through a real server: fewer repetitions than kernels
  o.warmup = 1;
  bench::add_common_options(app, o, false);
  int large_mb = 256, small_count = 200, small_kb = 64;
  app.add_option("--large-mb", large_mb, "size of the large object in MiB")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--small-count", small_count, "number of small objects")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--small-kb", small_kb, "size of each small object in KiB")->capture_default_str()->check(CLI::Range(1, 65536));
  CLI11_PARSE(app, argc, argv);

  try {
    test::S3Fixture& s3 = test::S3Fixture::get();
    s3.use_direct();
    int transfer_threads = std::min(o.threads * 4, 16);
    s3::update_config([&](s3::Config& c) {
      c.transfer_threads = transfer_threads;
      c.part_size = 8 << 20;
    });
    std::string prefix = s3.unique("bench");
    std::string local = s3.local_dir("bench");
    std::string large = prefix + "/large.bin";
    file::write(large, test::random_bytes(size_t(large_mb) << 20, 1));
    std::string one_small = test::random_bytes(size_t(small_kb) << 10, 2);
    for (int i = 0; i < small_count; ++i) file::write(prefix + "/small/" + std::to_string(i) + ".bin", one_small);

    json cond = bench::conditions(
        "bench_s3", o,
        {{"server", "s3rver 3 (node) on 127.0.0.1, path-style, plain HTTP; both clients direct"},
         {"large_object_bytes", int64_t(large_mb) << 20},
         {"small_objects", small_count},
         {"small_object_bytes", small_kb << 10},
         {"mox_transfer_threads", transfer_threads},
         {"mox_part_bytes", 8 << 20},
         {"peer", o.no_peer ? "none" : "/usr/bin/aws s3 cp (awscli v2, default settings: 10 concurrent requests)"},
         {"machine", "shared, loaded machine; figures vary between runs"}});
    if (!o.no_peer)
      cond["aws_startup_s"] = bench::median_seconds([&] { test::run_command("/usr/bin/aws --version"); }, 1, 3);
    bench::print_conditions(cond);

    double large_bytes = double(int64_t(large_mb) << 20), small_bytes = double(small_count) * double(small_kb << 10);
    struct Case {
      std::string name;
      double bytes;
      std::function<void()> mox, peer;
    };
    std::vector<Case> cases = {
        {"large -> file", large_bytes, [&] { file::copy(large, local + "/mox_large.bin"); },
         [&] { run_aws(s3, {"s3", "cp", "--quiet", large, local + "/aws_large.bin"}); }},
        {"large -> memory", large_bytes, [&] { file::read(large); }, nullptr},
        {"small tree -> dir", small_bytes,
         [&] {
           fs::remove_all(local + "/mox_small");
           file::copy_parallel(prefix + "/small", local + "/mox_small", {.threads = transfer_threads});
         },
         [&] {
           fs::remove_all(local + "/aws_small");
           run_aws(s3, {"s3", "cp", "--quiet", "--recursive", prefix + "/small", local + "/aws_small"});
         }},
    };
    // awscli is a Python program that starts for every command: its figures are shown as
    // measured and, beside, with the median start-up time taken off (when that leaves a
    // meaningful remainder: over a quarter of the measured time).
    double startup = o.no_peer ? 0 : cond["aws_startup_s"].get<double>();
    json results = json::array();
    std::vector<int> w = {18, 10, 10, 8, 16, 14};
    bench::print_row({"case", "mox MB/s", "aws MB/s", "ratio", "aws MB/s -start", "ratio -start"}, w);
    for (const Case& c : cases) {
      double t_mox = bench::median_seconds(c.mox, o.warmup, o.reps);
      std::optional<double> peer_speed, peer_speed_net;
      if (c.peer && !o.no_peer) {
        double t_peer = bench::median_seconds(c.peer, o.warmup, o.reps);
        peer_speed = c.bytes / t_peer / 1e6;
        if (t_peer - startup > 0.25 * t_peer) peer_speed_net = c.bytes / (t_peer - startup) / 1e6;
      }
      double mox_speed = c.bytes / t_mox / 1e6;
      json r = {{"case", c.name}, {"bytes", c.bytes}, {"mox_mbps", mox_speed},
                {"aws_mbps", peer_speed ? json(*peer_speed) : json(nullptr)},
                {"ratio", bench::speed_ratio(mox_speed, peer_speed)},
                {"aws_mbps_without_startup", peer_speed_net ? json(*peer_speed_net) : json(nullptr)},
                {"ratio_without_startup", bench::speed_ratio(mox_speed, peer_speed_net)}};
      bench::print_row({c.name, bench::fmt(mox_speed, 1), peer_speed ? bench::fmt(*peer_speed, 1) : "-",
                        bench::ratio_str(r["ratio"]), peer_speed_net ? bench::fmt(*peer_speed_net, 1) : "-",
                        bench::ratio_str(r["ratio_without_startup"])},
                       w);
      results.push_back(r);
    }
    // The downloads are checked, not only timed.
    if (!o.no_peer && file::read(local + "/mox_large.bin") != file::read(local + "/aws_large.bin"))
      throw std::runtime_error("Mox's and awscli's downloads of the large object differ");
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
  } catch (const std::exception& e) {
    std::cerr << "bench_s3: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
