#include "tests/support/command.h"

#include <sys/wait.h>

#include <cstdio>

namespace mox::test {

Run run_command(const std::string& command) {
  Run r{-1, ""};
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

nlohmann::json json_of_last_line(std::string output) {
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  size_t nl = output.find_last_of('\n');
  return nlohmann::json::parse(nl == std::string::npos ? output : output.substr(nl + 1), nullptr, false);
}

}  // namespace mox::test
