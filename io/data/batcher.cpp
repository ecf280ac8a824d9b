#include "io/data/batcher.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

namespace mox::data {

Tensor gather_rows(const Tensor& x, const int64_t* idx, int64_t n) {
  MOX_CHECK(x.dim() >= 1 && x.device().is_cpu(), "gather_rows", "needs a CPU tensor with a batch dim, got ", x.str());
  Tensor src = x.contiguous();
  Shape shape = src.sizes();
  shape[0] = n;
  Tensor out = empty(shape, opts(src.dtype()));
  size_t row = size_t(src.numel() / std::max<int64_t>(src.size(0), 1) * src.element_size());
  auto* dst = static_cast<char*>(out.raw_data());
  const auto* from = static_cast<const char*>(src.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    MOX_CHECK_T(IndexError, idx[i] >= 0 && idx[i] < src.size(0), "gather_rows", "row ", idx[i],
                " is out of range for ", src.str());
    std::memcpy(dst + size_t(i) * row, from + size_t(idx[i]) * row, row);
  }
  return out;
}

BatchSource batches(std::vector<Tensor> arrays, BatchOptions o) {
  MOX_CHECK(!arrays.empty(), "batches", "no arrays given");
  MOX_CHECK(o.batch_size > 0, "batches", "batch_size must be positive, got ", o.batch_size);
  int64_t n = arrays[0].size(0);
  for (const Tensor& a : arrays)
    MOX_CHECK_T(ShapeError, a.dim() >= 1 && a.size(0) == n, "batches", "arrays differ in length: ",
                arrays[0].str(), " and ", a.str());
  struct State {
    std::vector<int64_t> order;
    int64_t epoch = -1, pos = 0;
  };
  auto st = std::make_shared<State>();
  st->order.resize(size_t(n));
  st->pos = n;  // start a new epoch on the first call
  return [arrays = std::move(arrays), o, n, st]() -> std::optional<Batch> {
    int64_t left = n - st->pos;
    if (left == 0 || (o.drop_remainder && left < o.batch_size)) {
      if (o.num_epochs >= 0 && st->epoch + 1 >= o.num_epochs) return std::nullopt;
      ++st->epoch;
      st->pos = 0;
      std::iota(st->order.begin(), st->order.end(), 0);
      if (o.shuffle) {
        std::mt19937_64 rng(o.seed * 1000003 + uint64_t(st->epoch));
        std::shuffle(st->order.begin(), st->order.end(), rng);
      }
      left = n;
      if (n == 0 || (o.drop_remainder && n < o.batch_size)) return std::nullopt;
    }
    int64_t take = std::min(o.batch_size, left);
    Batch b;
    for (const Tensor& a : arrays) b.push_back(gather_rows(a, st->order.data() + st->pos, take));
    st->pos += take;
    return b;
  };
}

}  // namespace mox::data
