#include "bench/scaling_projection.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "bench/common.h"

namespace mox::bench {

double CostModel::allreduce_s(int gpus) const {
  auto ring = [](int n, double alpha, double bw, double bytes) {
    return n <= 1 ? 0.0 : 2.0 * (n - 1) * alpha + 2.0 * (n - 1) / n * bytes / bw;
  };
  int local = std::min(gpus, gpus_per_node), nodes = (gpus + gpus_per_node - 1) / gpus_per_node;
  return ring(local, alpha_s, bus_Bps, grad_bytes) + ring(nodes, net_alpha_s, net_Bps, grad_bytes);
}

double CostModel::fps(int gpus, double fps1, double batch) const {
  double compute = batch / fps1;
  return gpus * batch / (compute + (1 - overlap) * allreduce_s(gpus));
}

CostModel cost_model_from(const json& points, int ranks) {
  if (points.size() < 2 || ranks < 2) throw std::runtime_error("cost model: needs two sizes measured on two or more ranks");
  // Latency from the smallest buffer (all latency), bandwidth from the largest (all bandwidth):
  // on a loaded machine a least-squares line through every point is pulled around by outliers.
  const json& small = points.front();
  const json& large = points.back();
  CostModel m{};
  m.alpha_s = small.at("ring_s").get<double>() / (2.0 * (ranks - 1));
  m.bus_Bps = large.at("bytes").get<double>() / large.at("ring_s").get<double>() * 2.0 * (ranks - 1) / ranks;
  return m;
}

namespace {

// Seed 001 §1.4.1, first table: P100, TensorFlow 1.4, real data, MoXing replicated_host+gpu.
const int kGpus1[] = {1, 4, 8};
const double kFps1[] = {235.03, 798.54, 1505.26};
// Second table: 8xV100 nodes, fp16, 256 images per GPU per step.
const int kNodes2[] = {1, 1, 1, 2, 4, 8, 16};
const int kGpus2[] = {1, 4, 8, 16, 32, 64, 128};
const double kFps2[] = {885.50, 3117.86, 5906.59, 11104.78, 21821.73, 43396.89, 85993.14};

}  // namespace

json print_projection(const CostModel& m) {
  const double batch1 = 64, batch2 = 256;
  std::printf("\nScaling projection (alpha-beta model) beside the manual's ResNet-50 tables (seed 001, 1.4.1)\n");
  std::printf("  assumptions: gradient %.1f MB (ResNet-50, f32) allreduced once per step by replicated_host;\n"
              "  inside a node: alpha %.1f us and bus bandwidth %.2f GB/s from the ring measured here (host\n"
              "  shared memory, standing in for the GPUs' host path); between nodes %.1f GB/s and %.1f us (assumed,\n"
              "  --net_gbps); %d GPUs per node; %.0f%% of the allreduce hidden behind backward (--overlap); compute per\n"
              "  step = batch / the manual's 1-GPU images/s (table 1: batch %.0f per GPU assumed, table 2: batch %.0f).\n",
              m.grad_bytes / 1e6, m.alpha_s * 1e6, m.bus_Bps / 1e9, m.net_Bps / 1e9, m.net_alpha_s * 1e6,
              m.gpus_per_node, m.overlap * 100, batch1, batch2);
  json out = {{"alpha_us", m.alpha_s * 1e6}, {"bus_GBps", m.bus_Bps / 1e9}, {"net_GBps", m.net_Bps / 1e9},
              {"overlap", m.overlap}, {"grad_bytes", m.grad_bytes}, {"table1", json::array()}, {"table2", json::array()}};
  std::printf("\n  P100, 1-8 GPUs (manual: replicated_host+gpu, real data)\n");
  print_row({"GPUs", "manual img/s", "manual eff", "model img/s", "model eff", "allreduce ms"}, {6, 14, 12, 13, 11, 14});
  for (int i = 0; i < 3; ++i) {
    int g = kGpus1[i];
    double f = m.fps(g, kFps1[0], batch1);
    print_row({std::to_string(g), fmt(kFps1[i]), fmt(kFps1[i] / (g * kFps1[0]), 3), fmt(f), fmt(f / (g * kFps1[0]), 3),
               fmt(m.allreduce_s(g) * 1e3)},
              {6, 14, 12, 13, 11, 14});
    out["table1"].push_back({{"gpus", g}, {"manual_fps", kFps1[i]}, {"model_fps", f}});
  }
  std::printf("\n  V100 fp16, 1-128 GPUs on 1-16 nodes (manual: distributed_imagenet_benchmarks.py)\n");
  print_row({"nodes", "GPUs", "manual img/s", "manual eff", "model img/s", "model eff", "allreduce ms"},
            {6, 6, 14, 12, 13, 11, 14});
  for (int i = 0; i < 7; ++i) {
    int g = kGpus2[i];
    double f = m.fps(g, kFps2[0], batch2);
    print_row({std::to_string(kNodes2[i]), std::to_string(g), fmt(kFps2[i]), fmt(kFps2[i] / (g * kFps2[0]), 3), fmt(f),
               fmt(f / (g * kFps2[0]), 3), fmt(m.allreduce_s(g) * 1e3)},
              {6, 6, 14, 12, 13, 11, 14});
    out["table2"].push_back({{"nodes", kNodes2[i]}, {"gpus", g}, {"manual_fps", kFps2[i]}, {"model_fps", f}});
  }
  return out;
}

}  // namespace mox::bench
