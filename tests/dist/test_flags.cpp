// MoXing's cluster flags against the process's place: outside mpirun a job is one rank, so
// flags that describe several workers or parameter servers are errors naming the flag.
#include "nn/run/data_parallel.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

flags::FlagSet dist_flags(const std::vector<std::string>& args) {
  flags::FlagSet f;
  f.define_integer("num_gpus", 0, "");
  define_data_parallel_flags(f);
  f.parse(args);
  return f;
}

}  // namespace

TEST_CASE("data parallel flags outside mpirun give a single process") {
  CHECK(data_parallel_from_flags(dist_flags({})) == nullptr);
  CHECK(data_parallel_from_flags(dist_flags({"--worker_hosts=localhost", "--task_index=0"})) == nullptr);
}

TEST_CASE("data parallel flags that contradict the job are errors naming the flag") {
  mentions(thrown<Error>([] { data_parallel_from_flags(dist_flags({"--worker_hosts=a:2222,b:2222"})); }),
           {"--worker_hosts lists 2 hosts", "mpirun -np 2 -H a:2222,b:2222"});
  mentions(thrown<Error>([] { data_parallel_from_flags(dist_flags({"--task_index=1"})); }), {"--task_index=1"});
  mentions(thrown<Error>([] { data_parallel_from_flags(dist_flags({"--job_name=ps"})); }),
           {"--job_name=ps", "no parameter servers"});
  mentions(thrown<Error>([] { data_parallel_from_flags(dist_flags({"--ps_hosts=p:2222"})); }), {"--ps_hosts"});
  mentions(thrown<Error>([] { data_parallel_from_flags(dist_flags({"--bucket_mb=0"})); }), {"--bucket_mb"});
}

}  // namespace mox::test
