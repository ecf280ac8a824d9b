// `mox file ls|cp|rm|cat|stat|mkdir`: mox::file from the command line, for local paths and
// s3:// URLs (credentials and endpoint from the AWS environment variables).
#pragma once
#include <string>
#include <vector>

namespace mox::tools {

// args: what follows "mox file". Returns the exit status.
int file_main(const std::vector<std::string>& args);

}  // namespace mox::tools
