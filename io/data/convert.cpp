#include "io/data/convert.h"

#include <atomic>
#include <mutex>
#include <cstdio>
#include <thread>

#include "io/data/example.h"
#include "io/data/storage.h"
#include "io/formats/record.h"

namespace mox::data {

ConvertResult write_records(const std::vector<LabeledFile>& samples, const std::vector<std::string>& label_names,
                            const std::string& dst, const ConvertOptions& o) {
  MOX_CHECK(o.records_per_file > 0, "write_records", "records_per_file must be positive, got ", o.records_per_file);
  MOX_CHECK(o.threads > 0, "write_records", "threads must be positive, got ", o.threads);
  MOX_CHECK_T(IOError, !samples.empty(), "write_records", "no samples to write to ", dst);
  int64_t n = int64_t(samples.size());
  int64_t shards = (n + o.records_per_file - 1) / o.records_per_file;
  ConvertResult result;
  for (int64_t k = 0; k < shards; ++k) {
    int64_t begin = k * o.records_per_file, end = std::min(n, begin + o.records_per_file);
    std::vector<std::string> bytes(size_t(end - begin));
    std::atomic<int64_t> next{begin};
    std::vector<std::thread> pool;
    std::exception_ptr err;
    std::mutex err_mu;
    for (int t = 0; t < o.threads; ++t)
      pool.emplace_back([&] {
        try {
          for (int64_t i; (i = next++) < end;) bytes[size_t(i - begin)] = read_file(samples[size_t(i)].url);
        } catch (...) {
          std::lock_guard lk(err_mu);
          err = std::current_exception();
          next = end;
        }
      });
    for (std::thread& t : pool) t.join();
    if (err) std::rethrow_exception(err);
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, "-%05lld-of-%05lld.rec", static_cast<long long>(k), static_cast<long long>(shards));
    formats::RecordWriter w(join(dst, o.name + suffix));
    for (int64_t i = begin; i < end; ++i) {
      const LabeledFile& s = samples[size_t(i)];
      w.write(serialize_example({s.url, std::move(bytes[size_t(i - begin)]), Tensor(), s.labels}));
    }
    result.bytes += int64_t(w.bytes());
    w.close();
    result.files.push_back(w.url());
    result.records += end - begin;
  }
  std::string index;
  for (size_t l = 0; l < label_names.size(); ++l) index += std::to_string(l) + ": " + label_names[l] + "\n";
  write_file(join(dst, "labels.txt"), index);
  return result;
}

}  // namespace mox::data
