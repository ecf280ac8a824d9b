#include "dist/sync.h"

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
  Tensor flag = tensor({diff.empty() ? 0.0 : 1.0}, opts(DType::i32));
  std::vector<double> flags = comm.allgather(flag).tolist();
  std::string ranks;
  for (size_t r = 0; r < flags.size(); ++r)
    if (flags[r] != 0) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  if (ranks.empty()) return;
  throw DistError("data-parallel start: the " + what + " of rank(s) " + ranks +
                  " differ from rank 0's (every rank must build the same model)" +
                  (diff.empty() ? std::string() : ": " + diff + " (" + std::to_string(mine.size()) + " " + what +
                                                       " here, " + std::to_string(root.size()) + " on rank 0)"));
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
