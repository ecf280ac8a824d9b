#include "dist/sync.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace mox::dist {
namespace {

std::string describe(const std::string& name, const Tensor& t) {
  std::ostringstream os;
  os << name << " " << dtype_name(t.dtype()) << " [";
  for (size_t i = 0; i < t.sizes().size(); ++i) os << (i ? "," : "") << t.sizes()[i];
  os << "]";
  return os.str();
}

std::vector<std::string> describe_all(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (auto& [name, t] : tensors) out.push_back(describe(name, t));
  return out;
}

// Rank 0's list of descriptions, on every rank (one line per tensor).
std::vector<std::string> root_descriptions(Communicator& comm, const std::vector<std::string>& mine) {
  std::string text;
  for (const std::string& d : mine) text += d + "\n";
  Tensor len = tensor({double(text.size())}, opts(DType::i64));
  comm.broadcast(len, 0);
  Tensor bytes = zeros({int64_t(len.item())}, opts(DType::u8));
  if (comm.rank() == 0) std::memcpy(bytes.raw_data(), text.data(), text.size());
  comm.broadcast(bytes, 0);
  std::string root(static_cast<const char*>(bytes.raw_data()), size_t(bytes.numel()));
  std::vector<std::string> out;
  std::istringstream in(root);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every rank's string, on every rank (padded to the longest).
std::vector<std::string> allgather_strings(Communicator& comm, const std::string& mine) {
  Tensor len = tensor({double(mine.size())}, opts(DType::i64));
  int64_t longest = 0;
  for (double l : comm.allgather(len).tolist()) longest = std::max(longest, int64_t(l));
  std::vector<std::string> out(size_t(comm.size()));
  if (longest == 0) return out;
  Tensor bytes = zeros({longest}, opts(DType::u8));
  std::memcpy(bytes.raw_data(), mine.data(), mine.size());
  Tensor all = comm.allgather(bytes);
  const char* p = static_cast<const char*>(all.raw_data());
  for (size_t r = 0; r < out.size(); ++r) out[r] = std::string(p + r * size_t(longest), size_t(longest)).c_str();
  return out;
}

}  // namespace

void check_same_tensors(Communicator& comm, const NamedTensors& tensors, const std::string& what) {
  std::vector<std::string> mine = describe_all(tensors);
  std::vector<std::string> root = root_descriptions(comm, mine);
  std::string diff;
  for (size_t i = 0; diff.empty() && i < std::max(mine.size(), root.size()); ++i) {
    if (i >= mine.size())
      diff = "rank 0 has " + root[i] + " that rank " + std::to_string(comm.rank()) + " lacks";
    else if (i >= root.size())
      diff = "rank " + std::to_string(comm.rank()) + " has " + mine[i] + " that rank 0 lacks";
    else if (mine[i] != root[i])
      diff = "rank " + std::to_string(comm.rank()) + " has " + mine[i] + " where rank 0 has " + root[i];
  }
  if (!diff.empty())
    diff += " (" + std::to_string(mine.size()) + " " + what + " there, " + std::to_string(root.size()) + " on rank 0)";
  // Every rank gets every rank's finding, so each throws the same message (whichever rank
  // aborts the job first, the detail is printed).
  std::vector<std::string> diffs = allgather_strings(comm, diff);
  std::string ranks, detail;
  for (size_t r = 0; r < diffs.size(); ++r) {
    if (diffs[r].empty()) continue;
    ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
    if (detail.empty()) detail = ": " + diffs[r];
  }
  if (ranks.empty()) return;
  throw DistError("data-parallel start: the " + what + " of rank(s) " + ranks +
                  " differ from rank 0's (every rank must build the same model)" + detail);
}

void broadcast_tensors(Communicator& comm, const NamedTensors& tensors, int root) {
  for (auto& [name, t] : tensors) {
    if (t.numel() == 0) continue;
    if (t.device() == comm.device() && t.is_contiguous()) {
      Tensor view = t;
      comm.broadcast(view, root);
      continue;
    }
    Tensor tmp = t.to(comm.device()).contiguous();
    comm.broadcast(tmp, root);
    Tensor dst = t;
    dst.copy_(tmp);
  }
}

}  // namespace mox::dist
