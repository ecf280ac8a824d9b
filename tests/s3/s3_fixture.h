// The S3 test bed: a real S3 server (s3rver, from tests/s3/node, installed by
// scripts/setup.sh) on 127.0.0.1 behind a signature-checking proxy (sigproxy.py: botocore
// re-signs every request and refuses any mismatch), with mox::file pointed at the proxy.
// Optionally a fault-injecting proxy (faultproxy.py) in front, and awscli (/usr/bin/aws)
// talking to s3rver directly as a client Mox did not write.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/command.h"

namespace mox::test {

// A child process, stopped (SIGTERM, then SIGKILL) when destroyed.
class Child {
 public:
  Child() = default;
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, const std::string& log);
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;
  ~Child() { stop(); }
  void stop();
  bool running();

 private:
  pid_t pid_ = -1;
};

class S3Fixture {
 public:
  // Starts everything once per test program; each test takes a fresh prefix with unique().
  static S3Fixture& get();
  ~S3Fixture();

  static constexpr const char* kBucket = "mox-tests";
  static constexpr const char* kKey = "S3RVER";  // s3rver's access key and secret

  // "s3://mox-tests/<name>-<n>": a prefix no other test uses.
  std::string unique(const std::string& name);
  // A fresh local scratch directory.
  std::string local_dir(const std::string& name);
  // Points mox::file at the signing proxy with the right keys and short retries.
  void use_proxy();
  // Points mox::file at s3rver itself, bypassing the proxy (for timing: bench_s3).
  void use_direct();
  // Starts a fault proxy in front of the signing proxy and points mox::file at it.
  void use_fault_proxy();
  // Sends a command to the fault proxy ("503/3", "reset/2", "cut/100000", "stats"); returns its body.
  std::string fault(const std::string& command);
  void stop_fault_proxy();

  // Starts a second s3rver serving HTTPS with a fresh self-signed certificate (made with
  // openssl); returns its port. mox::file settings are left alone.
  int start_tls_server();

  // Runs /usr/bin/aws with args against s3rver directly; returns its exit status.
  int aws(const std::vector<std::string>& args, std::string* output = nullptr);
  // The environment (AWS_*) that points a Mox program at the signing proxy.
  std::vector<std::string> mox_env() const;

  std::string root;  // scratch directory of this test program
  int s3rver_port = 0, proxy_port = 0, fault_port = 0;

 private:
  S3Fixture();
  Child s3rver_, proxy_, fault_, tls_;
  int counter_ = 0;
};

// n pseudo-random bytes (every byte value occurs) from seed.
std::string random_bytes(size_t n, unsigned seed);

}  // namespace mox::test
