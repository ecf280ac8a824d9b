// mox::file: the MoXing manual's file API (mox.file) for local paths and s3://bucket/key URLs
// alike. Every function takes either; a URL is S3 when it starts with "s3://", else a local
// path. Errors are the exceptions of io/file/errors.h and name the URL.
//
// S3 credentials and the endpoint come from the standard AWS environment variables
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3), read on first use, and
// set_auth() overrides any of them (README, "Files and S3").
//
// Text and binary modes read and write the same bytes (std::string holds bytes; Linux has no
// newline translation); "binary" arguments are accepted for the manual's sake.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/file/errors.h"

namespace mox::file {

// ---- File: a file object like Python's open(). Modes: "r", "w", "a", "r+", "w+", "a+" and
// the binary variants ("rb"/"br", "wb"/"bw", "ab"/"ba", "rb+"/"br+"/"r+b", ...).
// On S3, "r" streams with range GETs; "w" uploads on close (multipart above the threshold, so
// large files stream out while being written); the other modes work on a local temporary copy
// that is uploaded on flush() and close(). Writes become visible on S3 at close()/flush().
class File {
 public:
  File(const std::string& url, const std::string& mode = "r");
  ~File();  // closes; an error there is printed to stderr (call close() to get it thrown)
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Up to n bytes from the current position (n < 0: to the end). "" at the end.
  std::string read(int64_t n = -1);
  // The next line with its '\n' (at most size bytes when size >= 0); "" at the end.
  std::string readline(int64_t size = -1);
  // The remaining lines; stops after the line that brings the total to sizehint (if > 0).
  std::vector<std::string> readlines(int64_t sizehint = -1);
  // The next line, or nullopt at the end (the manual's next()).
  std::optional<std::string> next();
  void write(std::string_view data);
  void writelines(const std::vector<std::string>& lines);
  // whence 0: from the start, 1: from the current position, 2: from the end.
  void seek(int64_t offset, int whence = 0);
  int64_t tell() const;
  void flush();
  void close();
  // The file's current size in bytes (including what this object has written).
  int64_t size();

  bool readable() const;
  bool writable() const;
  bool seekable() const;  // false only for an S3 file opened with "w", which streams out
  bool isatty() const;    // always false
  bool closed() const;
  const std::string& name() const;
  const std::string& mode() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- whole-file helpers
std::string read(const std::string& url, bool binary = true);
// Replaces the file's contents.
void write(const std::string& url, std::string_view data, bool binary = true);
// Appends data (creates the file when missing).
void append(const std::string& url, std::string_view data, bool binary = true);
// Appends the contents of src_url to dst_url (both local or S3, in any combination).
void append_remote(const std::string& src_url, const std::string& dst_url);

// ---- queries
// A file, or a directory (on S3: a bucket, or a prefix holding objects or a "dir/" marker).
bool exists(const std::string& url);
bool is_directory(const std::string& url);
// A file's size; with recursive, the total of every file under a directory (local paths are
// always recursive, as in the manual).
int64_t get_size(const std::string& url, bool recursive = false);

struct Stat {
  int64_t length = 0;      // bytes (0 for a directory)
  int64_t mtime_nsec = 0;  // last modification, nanoseconds since the epoch
  bool is_directory = false;
};
Stat stat(const std::string& url);

// Names under url, relative to it, sorted; directories without a trailing '/'. With
// recursive, every file and directory below (paths joined with '/').
std::vector<std::string> list_directory(const std::string& url, bool recursive = false,
                                        bool skip_file = false, bool skip_dir = false);
// Full paths/URLs matching a pattern whose last parts may hold *, ? and [...] (like
// glob.glob: * and ? do not match '/').
std::vector<std::string> glob(const std::string& pattern);

struct DirEntry {
  std::string name;  // the entry's name
  std::string path;  // url + '/' + name
  bool is_dir = false;
  bool is_file() const { return !is_dir; }
  int64_t size = 0;  // bytes for a file (from the listing; 0 for a directory)
};
// The entries directly under url (the manual's scan_dir, like os.scandir).
std::vector<DirEntry> scan_dir(const std::string& url);

struct WalkEntry {
  std::string top;                  // the directory (a path or URL)
  std::vector<std::string> dirs;    // names of its subdirectories
  std::vector<std::string> files;   // names of its files
};
// The directory tree under url, like os.walk (topdown: each directory before its children).
std::vector<WalkEntry> walk(const std::string& url, bool topdown = true);

// ---- changes
void make_dirs(const std::string& url);  // with parents; fine when it exists
void mk_dir(const std::string& url);     // the parent must exist (MoxFileNotExistsException)
// The manual's table (same for local paths and S3), returning whether anything was removed:
//   url               recursive=false   recursive=true
//   a file            removes it        removes only that file
//   a file + '/'      nothing           nothing
//   a directory       nothing           removes it and everything below
//   a directory + '/' nothing           removes it and everything below
// A url that names nothing throws MoxFileNotExistsException.
bool remove(const std::string& url, bool recursive = false);
// Moves a file or a directory tree (any combination of local and S3).
void rename(const std::string& src_url, const std::string& dst_url);
// Copies one file (local->local, local->S3, S3->local, S3->S3 server-side). A download is
// written to a temporary name beside dst and renamed when complete, so a failed transfer
// never leaves a partial dst.
void copy(const std::string& src_url, const std::string& dst_url);

struct CopyParallelOptions {
  int threads = 8;
  // Names relative to src_url to copy; empty: every file under it.
  std::vector<std::string> file_list = {};
};
// Copies the directory tree src_url into dst_url with a pool of threads. Throws
// MoxFileNameDuplicateException (before copying anything) when an S3 source holds both
// "x" and "x/..." and dst is local, where one name cannot be a file and a directory.
void copy_parallel(const std::string& src_url, const std::string& dst_url,
                   const CopyParallelOptions& options = {});

// ---- S3 settings (the manual's set_auth). Unset fields keep their current value; the
// first S3 call reads the AWS environment variables first, so set_auth() wins over them.
struct Auth {
  std::optional<std::string> ak = {}, sk = {};        // access key id, secret access key
  std::optional<std::string> session_token = {};  // AWS_SESSION_TOKEN
  std::optional<std::string> server = {};         // host name or address of the endpoint
  std::optional<int> port = {};
  std::optional<bool> is_secure = {};       // https (default true)
  std::optional<bool> ssl_verify = {};      // verify the server's certificate (default true)
  std::optional<bool> long_conn_mode = {};  // reuse connections (default true)
  std::optional<bool> path_style = {};      // host/bucket/key instead of bucket.host/key
  std::optional<double> retry = {};         // seconds to keep retrying a failing request (default 30)
  std::optional<double> retry_wait = {};    // first backoff wait in seconds (default 0.2), doubled
  std::optional<double> client_timeout = {};  // seconds without progress before a request fails
  std::optional<int> list_max_keys = {};      // keys per ListObjectsV2 page (default 1000)
  std::optional<std::string> region = {};     // signing region (default us-east-1)
};
void set_auth(const Auth& auth);
// Forgets set_auth() and the environment; the next S3 call reads the environment again.
void reset_auth();

// True when url is an s3:// URL.
bool is_s3_url(std::string_view url);

}  // namespace mox::file
