// File objects on S3 (see File in file.h for what each mode does).
#pragma once
#include <memory>
#include <string>

#include "io/file/backend.h"

namespace mox::file {

std::unique_ptr<File::Impl> open_s3_file(const std::string& url, const OpenMode& how);

}  // namespace mox::file
