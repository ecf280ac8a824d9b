// Running a command line from a test or a bench's test bed (no doctest here: the benches link it).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace mox::test {

// A command line run through the shell: its exit status (-1 when it did not exit normally) and
// its output, stdout and stderr together.
struct Run {
  int status;
  std::string output;
};
Run run_command(const std::string& command);
// s in single quotes for the shell.
std::string shell_quote(const std::string& s);
// The JSON on the last non-empty line of a program's output (what a --json flag prints last);
// discarded (is_discarded()) when that line is not JSON.
nlohmann::json json_of_last_line(std::string output);

}  // namespace mox::test
