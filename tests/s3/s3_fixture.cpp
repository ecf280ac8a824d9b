#include "tests/s3/s3_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "io/file/file.h"
#include "io/s3/config.h"
#include "io/s3/http.h"

extern char** environ;

namespace mox::test {
namespace fs = std::filesystem;

namespace {

const std::string kS3Dir = std::string(MOX_TEST_DATA) + "/../s3";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls until f() returns a non-empty string or the time is up.
std::string wait_for(const std::function<std::string()>& f, double seconds, const std::string& what) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    std::string v = f();
    if (!v.empty()) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("S3 test bed: " + what + " did not start within " + std::to_string(int(seconds)) + " s");
}

int port_from_file(const std::string& file, Child& child, const std::string& what, const std::string& log) {
  std::string port = wait_for([&] {
    if (!child.running()) throw std::runtime_error("S3 test bed: " + what + " exited: " + read_text(log));
    return fs::exists(file) ? read_text(file) : std::string();
  }, 20, what);
  return std::stoi(port);
}

std::string s3rver_path() {
  std::string s3rver = kS3Dir + "/node/node_modules/s3rver/bin/s3rver.js";
  if (!fs::exists(s3rver))
    throw std::runtime_error("S3 test bed: " + s3rver + " is missing; run scripts/setup.sh (it runs npm ci in tests/s3/node)");
  return s3rver;
}

std::string node_path() { return fs::exists("/usr/bin/node") ? "/usr/bin/node" : "/usr/local/bin/node"; }

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("S3 test bed: no free port on 127.0.0.1");
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  env_store.insert(env_store.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> env;
  for (std::string& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("S3 test bed: cannot start " + argv[0]);
  }
}

Child& Child::operator=(Child&& o) noexcept {
  stop();
  pid_ = o.pid_;
  o.pid_ = -1;
  return *this;
}

bool Child::running() {
  if (pid_ < 0) return false;
  int status;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Child::stop() {
  if (!running()) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (!running()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

S3Fixture& S3Fixture::get() {
  static S3Fixture fixture;
  return fixture;
}

S3Fixture::S3Fixture() {
  std::string s3rver = s3rver_path();
  root = (fs::temp_directory_path() / ("mox_s3_" + std::to_string(getpid()))).string();
  fs::remove_all(root);
  fs::create_directories(root + "/data");
  std::string node = node_path();
  // s3rver and the proxy start side by side: s3rver gets a port that was free a moment ago.
  s3rver_port = free_port();
  // NODE_OPTIONS: s3rver's paginated listings need the legacy OpenSSL provider on Node 20.
  s3rver_ = Child({node, s3rver, "-d", root + "/data", "-a", "127.0.0.1", "-p", std::to_string(s3rver_port),
                   "--configure-bucket", kBucket},
                  {"NODE_OPTIONS=--openssl-legacy-provider"}, root + "/s3rver.log");
  proxy_ = Child({"/usr/bin/python3", kS3Dir + "/sigproxy.py", "--upstream", "127.0.0.1:" + std::to_string(s3rver_port),
                  "--port-file", root + "/proxy.port"},
                 {}, root + "/sigproxy.log");
  wait_for([&] {
    if (!s3rver_.running()) throw std::runtime_error("S3 test bed: s3rver exited: " + read_text(root + "/s3rver.log"));
    return read_text(root + "/s3rver.log").find("listening on") != std::string::npos ? "up" : "";
  }, 20, "s3rver");
  proxy_port = port_from_file(root + "/proxy.port", proxy_, "sigproxy", root + "/sigproxy.log");
  use_proxy();
}

S3Fixture::~S3Fixture() {
  tls_.stop();
  fault_.stop();
  proxy_.stop();
  s3rver_.stop();
  std::error_code ec;
  fs::remove_all(root, ec);
}

std::string S3Fixture::unique(const std::string& name) {
  return std::string("s3://") + kBucket + "/" + name + "-" + std::to_string(++counter_);
}

std::string S3Fixture::local_dir(const std::string& name) {
  std::string d = root + "/local/" + name + "-" + std::to_string(++counter_);
  fs::create_directories(d);
  return d;
}

void S3Fixture::use_proxy() {
  file::reset_auth();
  file::set_auth({.ak = kKey, .sk = kKey, .server = "127.0.0.1", .port = proxy_port, .is_secure = false,
                  .path_style = true, .retry = 4, .retry_wait = 0.05, .client_timeout = 10});
  // Small parts so that tests reach multipart uploads and parallel ranges with a few MiB.
  s3::update_config([](s3::Config& c) {
    c.multipart_threshold = 6 << 20;
    c.part_size = 5 << 20;
  });
}

void S3Fixture::use_direct() {
  use_proxy();
  file::set_auth({.port = s3rver_port});
}

void S3Fixture::use_fault_proxy() {
  fault_.stop();
  std::string port_file = root + "/fault.port." + std::to_string(++counter_);
  fault_ = Child({"/usr/bin/python3", kS3Dir + "/faultproxy.py", "--upstream", "127.0.0.1:" + std::to_string(proxy_port),
                  "--port-file", port_file},
                 {}, root + "/faultproxy.log");
  fault_port = port_from_file(port_file, fault_, "faultproxy", root + "/faultproxy.log");
  file::set_auth({.port = fault_port});
}

std::string S3Fixture::fault(const std::string& command) {
  s3::HttpRequest r{"GET", "http://127.0.0.1:" + std::to_string(fault_port) + "/__fault__/" + command, {}, {}, nullptr};
  s3::HttpResponse resp = s3::perform(r, {});
  if (resp.status != 200) throw std::runtime_error("fault proxy: " + command + " answered " + std::to_string(resp.status));
  return resp.body;
}

void S3Fixture::stop_fault_proxy() {
  fault_.stop();
  use_proxy();
}

int S3Fixture::start_tls_server() {
  std::string dir = root + "/tls";
  fs::create_directories(dir + "/data");
  Run cert = run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + dir +
                         "/key.pem -out " + dir + "/cert.pem");
  if (cert.status != 0) throw std::runtime_error("S3 test bed: openssl could not make a certificate: " + cert.output);
  int port = free_port();
  tls_ = Child({node_path(), s3rver_path(), "-d", dir + "/data", "-a", "127.0.0.1", "-p", std::to_string(port),
                "--key", dir + "/key.pem", "--cert", dir + "/cert.pem", "--configure-bucket", kBucket},
               {"NODE_OPTIONS=--openssl-legacy-provider"}, dir + "/s3rver.log");
  wait_for([&] {
    if (!tls_.running()) throw std::runtime_error("S3 test bed: TLS s3rver exited: " + read_text(dir + "/s3rver.log"));
    return read_text(dir + "/s3rver.log").find("listening on") != std::string::npos ? "up" : "";
  }, 20, "TLS s3rver");
  return port;
}

std::vector<std::string> S3Fixture::mox_env() const {
  return {"AWS_ACCESS_KEY_ID=" + std::string(kKey), "AWS_SECRET_ACCESS_KEY=" + std::string(kKey),
          "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string(proxy_port)};
}

int S3Fixture::aws(const std::vector<std::string>& args, std::string* output) {
  std::string cmd = "env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
                    "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= "
                    "/usr/bin/aws --endpoint-url http://127.0.0.1:" + std::to_string(s3rver_port);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  Run r = run_command(cmd);
  if (output) *output = r.output;
  return r.status;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(rng() & 0xff);
  return s;
}

}  // namespace mox::test
