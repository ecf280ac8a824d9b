// Distributed training for real: mpirun starts tests/dist/helper (mox_dist_helper) on 2-4
// ranks over shared memory. Equivalence (N ranks at batch B end with the weights of one
// process at batch N*B), every collective on rank counts that do not divide the sizes, and
// faults (a rank that throws, exits, is killed or hangs; ranks with different models) that
// must end the job with an error naming the rank instead of a hang.

#include <filesystem>
#include <regex>
#include <string>

#include "nn/checkpoint.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;
namespace {

const std::string kHelper = std::string(MOX_BIN_DIR) + "/mox_dist_helper";

// Runs `cmd` under a hard time limit, so a hang fails the test (status 124).
Run shell(const std::string& cmd, int limit_s = 120) {
  return run_command("timeout -k 5 " + std::to_string(limit_s) + " " + cmd);
}

// mpirun as root, more ranks than cores, shared-memory transport; OMP threads kept to one per
// rank so the ranks do not fight over the two cores.
std::string mpirun(int ranks, const std::string& env = "") {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 " + env +
         " mpirun --oversubscribe --mca btl self,vader -np " + std::to_string(ranks) + " " + kHelper;
}

std::string temp_file(const std::string& name) {
  std::string f = (fs::temp_directory_path() / ("mox_dist_" + name + ".safetensors")).string();
  fs::remove(f);
  return f;
}

std::map<std::string, Tensor> trained(const std::string& launcher, const std::string& args, const std::string& name) {
  std::string out = temp_file(name);
  Run o = shell(launcher + " train --steps 12 --out " + out + " " + args);
  INFO(o.output);
  REQUIRE(o.status == 0);
  return nn::load_checkpoint(out).tensors;
}

void check_same_weights(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == 6);  // conv, two dense layers: weight and bias each
  for (auto& [name, t] : a) {
    INFO(name);
    REQUIRE(b.count(name) == 1);
    CHECK_ALLCLOSE(t, b.at(name), (Tolerance{1e-5, 1e-5}));
  }
}

}  // namespace

TEST_SUITE("mpi") {

TEST_CASE("mpirun -np 2 at batch 32 ends with the weights of one process at batch 64") {
  auto single = trained(kHelper, "--batch_size 64", "single64");
  auto two = trained(mpirun(2), "--batch_size 32", "two32");
  check_same_weights(two, single);
  // The same through the flat MPI_Allreduce strategy, with gradients reduced after backward.
  auto flat = trained(mpirun(2), "--batch_size 32 --variable_update replicated --allreduce mpi --no_overlap", "two32mpi");
  check_same_weights(flat, single);
}

TEST_CASE("mpirun -np 3 with the ring allreduce ends with the weights of one process at batch 96") {
  auto single = trained(kHelper, "--batch_size 96", "single96");
  auto three = trained(mpirun(3), "--batch_size 32 --variable_update replicated --allreduce ring", "three32");
  check_same_weights(three, single);
}

TEST_CASE("mpirun -np 4 replicated_host over two nodes of two ranks matches one process at batch 64") {
  auto single = trained(kHelper, "--batch_size 64", "single64b");
  auto four = trained(mpirun(4), "--batch_size 16 --ranks_per_node 2", "four16");
  check_same_weights(four, single);
}

TEST_CASE("collectives agree with closed-form results on 2 3 and 4 ranks") {
  for (int ranks : {2, 3, 4}) {
    INFO(ranks, " ranks");
    Run o = shell(mpirun(ranks) + " collectives");
    INFO(o.output);
    CHECK(o.status == 0);
    for (int r = 0; r < ranks; ++r)
      CHECK(o.output.find("rank " + std::to_string(r) + " of " + std::to_string(ranks) + ": ") != std::string::npos);
    CHECK(o.output.find("FAILED") == std::string::npos);
  }
}

TEST_CASE("a rank that throws stops the job with an error naming it") {
  Run o = shell(mpirun(2) + " train --fault throw --fault_rank 1 --fault_step 3", 60);
  INFO(o.output);
  CHECK(o.status != 0);
  CHECK(o.status != 124);  // ended by itself, not by the time limit
  mentions(o.output, {"rank 1 of 2 failed", "injected failure at step 3", "stopping every rank"});
}

TEST_CASE("a rank that exits or is killed mid-training stops the job") {
  for (const char* kind : {"exit", "kill"}) {
    INFO(kind);
    Run o = shell(mpirun(3) + " train --fault " + kind + " --fault_rank 2 --fault_step 2", 60);
    INFO(o.output);
    CHECK(o.status != 0);
    CHECK(o.status != 124);
    // mpirun's own report names the rank that died: "process rank 2" after a signal, the
    // process name "[[job,1],2]" after an exit.
    CHECK(std::regex_search(o.output, std::regex(R"(process rank 2 |\[\[\d+,\d+\],2\])")));
  }
}

TEST_CASE("a rank that hangs is reported after MOX_DIST_TIMEOUT") {
  // The ring knows its neighbours: rank 0 names rank 1.
  Run o = shell(mpirun(2, "MOX_DIST_TIMEOUT=3") +
                       " train --variable_update replicated --fault hang --fault_rank 1 --fault_step 2",
                   60);
  INFO(o.output);
  CHECK(o.status != 0);
  CHECK(o.status != 124);
  mentions(o.output, {"rank 0 of 2 failed", "for rank 1, which stopped answering", "MOX_DIST_TIMEOUT"});
  // replicated_host's reduce on the node cannot tell which rank is missing, but still stops.
  o = shell(mpirun(2, "MOX_DIST_TIMEOUT=3") + " train --fault hang --fault_rank 1 --fault_step 2", 60);
  CHECK(o.status != 0);
  CHECK(o.status != 124);
  mentions(o.output, {"rank 0 of 2 failed", "which stopped answering"});
}

TEST_CASE("ranks whose models differ are stopped at the start naming the parameter") {
  Run o = shell(mpirun(2) + " train --mismatch --fault_rank 1", 60);
  INFO(o.output);
  CHECK(o.status != 0);
  CHECK(o.status != 124);
  mentions(o.output, {"rank 0 of 2 failed", "parameters of rank(s) 1 differ from rank 0's",
                    "rank 1 has dense.weight f32 [24,36] where rank 0 has dense.weight f32 [16,36]"});
  CHECK(o.output.find("trained") == std::string::npos);
}

}  // TEST_SUITE

}  // namespace mox::test
