// mox::file's exceptions, named as in the MoXing manual (mox.file.MoxFile*Exception). Every
// message names the URL; none ever holds a credential.
//
//   MoxFileException                 any file-layer failure (bad URL, local I/O error, ...)
//   +- MoxFileRespException          the server (or the local file system) answered with an
//   |  |                             error: status() is the HTTP status (>= 300; 0 for a local
//   |  |                             path), code() the S3 error code ("NoSuchKey",
//   |  |                             "SignatureDoesNotMatch", ...) or the errno name locally
//   |  +- MoxFileNotExistsException  the file, object, directory or bucket does not exist
//   |  +- MoxFileReadException       a response that began well (200/206) broke off mid-stream
//   +- MoxFileNameDuplicateException a download would put a file and a directory on one name
#pragma once
#include <string>

#include "core/error.h"

namespace mox::file {

class MoxFileException : public IOError {
 public:
  MoxFileException(const std::string& url, const std::string& message)
      : IOError(message), url_(url) {}
  const std::string& url() const { return url_; }

 private:
  std::string url_;
};

class MoxFileRespException : public MoxFileException {
 public:
  MoxFileRespException(const std::string& url, const std::string& message, int status,
                       std::string code)
      : MoxFileException(url, message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

class MoxFileNotExistsException : public MoxFileRespException {
 public:
  using MoxFileRespException::MoxFileRespException;
};

class MoxFileReadException : public MoxFileRespException {
 public:
  using MoxFileRespException::MoxFileRespException;
};

class MoxFileNameDuplicateException : public MoxFileException {
 public:
  using MoxFileException::MoxFileException;
};

}  // namespace mox::file
