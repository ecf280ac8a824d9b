// The alpha-beta cost model bench_allreduce prints beside the MoXing manual's ResNet-50
// throughput tables (seed 001, §1.4.1): a step takes its compute time plus the part of the
// gradient allreduce that does not overlap with it; a ring allreduce of G bytes over n ranks
// takes 2(n-1)*alpha + 2(n-1)/n * G / B. Across nodes the replicated_host strategy reduces
// on each node first, so the time is the node's allreduce plus the leaders' over the network.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace mox::bench {

struct CostModel {
  double alpha_s;          // per-message latency, from the measured ring (smallest size)
  double bus_Bps;          // bytes/s per link inside a node, from the measured ring (largest size)
  double net_Bps;          // bytes/s per link between nodes (an assumption: --net_gbps)
  double net_alpha_s;      // latency between nodes (an assumption)
  double grad_bytes;       // ResNet-50: 25,557,032 f32 parameters
  double overlap;          // fraction of the allreduce hidden behind backward (0: none)
  int gpus_per_node = 8;

  double allreduce_s(int gpus) const;
  // Images/s of `gpus` GPUs when one GPU does `fps1` at `batch` images per step.
  double fps(int gpus, double fps1, double batch) const;
};

// alpha and B from the measured ring times of `ranks` ranks: alpha = t(smallest) / (2(n-1)),
// B = the bus bandwidth at the largest size. Points: {"bytes", "ring_s"} objects, by size.
CostModel cost_model_from(const nlohmann::json& points, int ranks);

// Prints both tables (manual's figures, the model's projection beside them) and the
// assumptions; returns them as JSON.
nlohmann::json print_projection(const CostModel& m);

}  // namespace mox::bench
