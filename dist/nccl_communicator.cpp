#include "dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <mutex>

#include "dist/mpi_communicator.h"
#include "dist/mpi_util.h"

namespace mox::dist {
namespace {

void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw DistError(std::string("nccl backend: ") + what + ": " + cudaGetErrorString(err));
}

void nccl_check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw DistError(std::string("nccl backend: ") + what + ": " + ncclGetErrorString(r));
}

ncclDataType_t nccl_type(DType dtype, const char* op) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::f16: return ncclFloat16;
    case DType::bf16: return ncclBfloat16;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8:
    case DType::boolean: return ncclUint8;
  }
  throw DistError(std::string(op) + ": dtype not supported by NCCL");
}

}  // namespace

struct NcclCommunicator::Impl {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  cudaEvent_t ready = nullptr;
  std::mutex mu;  // one collective at a time, in call order

  // Orders the communicator's stream after the work queued on the default stream so far.
  void follow_default_stream() {
    cuda_check(cudaEventRecord(ready, cudaStreamLegacy), "cudaEventRecord");
    cuda_check(cudaStreamWaitEvent(stream, ready, 0), "cudaStreamWaitEvent");
  }
  void complete() { cuda_check(cudaStreamSynchronize(stream), "cudaStreamSynchronize"); }
};

NcclCommunicator::NcclCommunicator(MPI_Comm comm, int device) : impl_(std::make_unique<Impl>()), device_(device) {
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
  int devices = 0;
  cuda_check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  MOX_CHECK_T(DistError, device >= 0 && device < devices, "nccl backend", "rank ", rank_, " asked for CUDA device ",
              device, " but this node has ", devices);
  cuda_check(cudaSetDevice(device_), "cudaSetDevice");
  ncclUniqueId id;
  if (rank_ == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  detail::mpi_check(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, comm), "nccl backend: MPI_Bcast of the unique id");
  nccl_check(ncclCommInitRank(&impl_->comm, size_, id, rank_), "ncclCommInitRank");
  cuda_check(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking), "cudaStreamCreate");
  cuda_check(cudaEventCreateWithFlags(&impl_->ready, cudaEventDisableTiming), "cudaEventCreate");
}

NcclCommunicator::~NcclCommunicator() {
  if (impl_->comm) ncclCommDestroy(impl_->comm);
  if (impl_->ready) cudaEventDestroy(impl_->ready);
  if (impl_->stream) cudaStreamDestroy(impl_->stream);
}

std::shared_ptr<NcclCommunicator> NcclCommunicator::world() {
  init_mpi();
  MPI_Comm local;
  detail::mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local),
                    "nccl backend: MPI_Comm_split_type");
  int local_rank = 0, devices = 0;
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_free(&local);
  cuda_check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  MOX_CHECK_T(DistError, devices > 0, "nccl backend", "no CUDA device on this node");
  return std::make_shared<NcclCommunicator>(MPI_COMM_WORLD, local_rank % devices);
}

void NcclCommunicator::check_device(const Tensor& t, const char* op) const {
  MOX_CHECK_T(DistError, t.defined() && t.device() == device() && t.is_contiguous(), op,
              "the NCCL backend works on contiguous tensors on ", device().str(), ", got ",
              t.defined() ? t.str() : "an undefined tensor");
}

void NcclCommunicator::allreduce(Tensor& t, ReduceOp op) {
  check_device(t, "allreduce");
  std::lock_guard<std::mutex> lock(impl_->mu);
  cuda_check(cudaSetDevice(device_), "cudaSetDevice");  // per thread: the reducer's thread too
  impl_->follow_default_stream();
  nccl_check(ncclAllReduce(t.raw_data(), t.raw_data(), size_t(t.numel()), nccl_type(t.dtype(), "allreduce"),
                           op == ReduceOp::mean ? ncclAvg : ncclSum, impl_->comm, impl_->stream),
             "ncclAllReduce");
  impl_->complete();
}

void NcclCommunicator::broadcast(Tensor& t, int root) {
  check_device(t, "broadcast");
  std::lock_guard<std::mutex> lock(impl_->mu);
  cuda_check(cudaSetDevice(device_), "cudaSetDevice");
  impl_->follow_default_stream();
  nccl_check(ncclBroadcast(t.raw_data(), t.raw_data(), size_t(t.numel()), nccl_type(t.dtype(), "broadcast"), root,
                           impl_->comm, impl_->stream),
             "ncclBroadcast");
  impl_->complete();
}

Tensor NcclCommunicator::allgather(const Tensor& t) {
  check_device(t, "allgather");
  Shape shape = t.sizes();
  shape.insert(shape.begin(), size_);
  Tensor out = empty(shape, opts(t.dtype(), device()));
  std::lock_guard<std::mutex> lock(impl_->mu);
  cuda_check(cudaSetDevice(device_), "cudaSetDevice");
  impl_->follow_default_stream();
  nccl_check(ncclAllGather(t.raw_data(), out.raw_data(), size_t(t.numel()), nccl_type(t.dtype(), "allgather"),
                           impl_->comm, impl_->stream),
             "ncclAllGather");
  impl_->complete();
  return out;
}

void NcclCommunicator::barrier() {
  // A one-element allreduce: returns only when every rank has reached it.
  Tensor one = ones({1}, opts(DType::f32, device()));
  allreduce(one);
}

}  // namespace mox::dist
