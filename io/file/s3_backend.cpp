// mox::file over S3: directories are key prefixes ("a/b/" holds "a/b/c"), optionally marked
// by an empty "a/b/" object as make_dirs writes; remove follows the manual's table.
#include <set>

#include "io/file/backend.h"
#include "io/file/parallel.h"
#include "io/file/s3_backend.h"
#include "io/file/s3_files.h"
#include "io/s3/client.h"

namespace mox::file {
namespace {

using s3::Client;

bool valid_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  return b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-';
}

std::string strip_slashes(std::string key) {
  while (!key.empty() && key.back() == '/') key.pop_back();
  return key;
}

// The prefix that holds a directory's contents: "" for the bucket, else "key/".
std::string dir_prefix(const std::string& key) {
  std::string k = strip_slashes(key);
  return k.empty() ? "" : k + "/";
}

[[noreturn]] void not_exists(const std::string& op, const std::string& url) {
  throw MoxFileNotExistsException(url, op + ": " + url + " does not exist", 404, "NoSuchKey");
}

class S3Backend : public Backend {
 public:
  bool exists(const std::string& url) override {
    S3Url u = parse_s3_url(url, "exists");
    Client c = Client::current();
    if (u.key.empty()) return c.bucket_exists(u.bucket);
    if (u.key.back() != '/' && c.head_object(u.bucket, u.key)) return true;
    return has_children(c, u);
  }
  bool is_directory(const std::string& url) override {
    S3Url u = parse_s3_url(url, "is_directory");
    Client c = Client::current();
    return u.key.empty() ? c.bucket_exists(u.bucket) : has_children(c, u);
  }
  Stat stat(const std::string& url) override {
    S3Url u = parse_s3_url(url, "stat");
    Client c = Client::current();
    Stat s;
    s.is_directory = true;
    if (u.key.empty()) {
      if (!c.bucket_exists(u.bucket)) not_exists("stat", url);
      return s;
    }
    if (u.key.back() != '/') {
      if (auto info = c.head_object(u.bucket, u.key)) {
        s.is_directory = false;
        s.length = info->size;
        s.mtime_nsec = info->mtime_nsec;
        return s;
      }
    }
    if (!has_children(c, u)) not_exists("stat", url);
    return s;
  }
  std::vector<DirEntry> scan_dir(const std::string& url) override {
    S3Url u = parse_s3_url(url, "scan_dir");
    Client c = Client::current();
    std::string prefix = dir_prefix(u.key);
    s3::Listing l = c.list(u.bucket, prefix, "/");
    std::vector<DirEntry> out;
    for (const s3::ObjectInfo& o : l.objects) {
      if (o.key.size() <= prefix.size()) continue;  // the directory's own marker
      out.push_back({o.key.substr(prefix.size()), join(url, o.key.substr(prefix.size())), false, o.size});
    }
    for (const std::string& p : l.prefixes) {
      std::string name = strip_slashes(p.substr(prefix.size()));
      if (!name.empty()) out.push_back({name, join(url, name), true, 0});
    }
    if (l.objects.empty() && l.prefixes.empty()) require_directory(c, u, url, "scan_dir");
    return out;
  }
  std::vector<DirEntry> list_recursive(const std::string& url) override {
    S3Url u = parse_s3_url(url, "list_directory");
    Client c = Client::current();
    std::string prefix = dir_prefix(u.key);
    s3::Listing l = c.list(u.bucket, prefix);
    if (l.objects.empty()) require_directory(c, u, url, "list_directory");
    std::vector<DirEntry> out;
    std::set<std::string> dirs;
    for (const s3::ObjectInfo& o : l.objects) {
      std::string rel = o.key.substr(prefix.size());
      for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1))
        if (slash > 0) dirs.insert(rel.substr(0, slash));
      if (!rel.empty() && rel.back() != '/') out.push_back({rel, join(url, rel), false, o.size});
    }
    for (const std::string& d : dirs) out.push_back({d, join(url, d), true, 0});
    return out;
  }
  void make_dirs(const std::string& url) override {
    S3Url u = parse_s3_url(url, "make_dirs");
    Client c = Client::current();
    if (!c.bucket_exists(u.bucket)) c.create_bucket(u.bucket);
    if (!strip_slashes(u.key).empty()) c.put_object(u.bucket, dir_prefix(u.key), "");
  }
  void mk_dir(const std::string& url) override {
    S3Url u = parse_s3_url(url, "mk_dir");
    Client c = Client::current();
    std::string key = strip_slashes(u.key);
    if (key.empty()) {
      if (!c.bucket_exists(u.bucket)) c.create_bucket(u.bucket);
      return;
    }
    size_t slash = key.rfind('/');
    S3Url parent{u.bucket, slash == std::string::npos ? "" : key.substr(0, slash)};
    bool parent_ok = parent.key.empty() ? c.bucket_exists(u.bucket) : has_children(c, parent);
    if (!parent_ok)
      throw MoxFileNotExistsException(url, "mk_dir: the parent of " + url + " does not exist (make_dirs creates it)",
                                      404, "NoSuchKey");
    c.put_object(u.bucket, key + "/", "");
  }
  bool remove(const std::string& url, bool recursive) override {
    S3Url u = parse_s3_url(url, "remove");
    if (strip_slashes(u.key).empty())
      throw MoxFileException(url, "remove: " + url + " is a whole bucket; remove its contents by their URLs");
    Client c = Client::current();
    bool slash = u.key.back() == '/';
    std::string key = strip_slashes(u.key);
    if (!slash && c.head_object(u.bucket, key)) {
      c.delete_object(u.bucket, key);  // a file: removed whatever recursive says, and only it
      return true;
    }
    bool dir = has_children(c, {u.bucket, key});
    if (dir && recursive) {
      remove_all(c, u.bucket, key + "/");
      return true;
    }
    if (dir || (slash && c.head_object(u.bucket, key))) return false;  // the table's "nothing" rows
    not_exists("remove", url);
  }
  std::unique_ptr<File::Impl> open(const std::string& url, const OpenMode& how) override {
    S3Url u = parse_s3_url(url, "File");
    if (u.key.empty() || u.key.back() == '/')
      throw MoxFileException(url, "File: " + url + " names a directory, not an object");
    return open_s3_file(url, how);
  }
  void copy_within(const std::string& src, const std::string& dst) override {
    S3Url s = parse_s3_url(src, "copy"), d = parse_s3_url(dst, "copy");
    Client c = Client::current();
    if (!c.head_object(s.bucket, s.key)) not_exists("copy", src);
    server_side_copy(c, src, s.bucket, s.key, d.bucket, d.key);
  }
  void rename_within(const std::string& src, const std::string& dst) override {
    S3Url s = parse_s3_url(src, "rename"), d = parse_s3_url(dst, "rename");
    Client c = Client::current();
    if (c.head_object(s.bucket, strip_slashes(s.key))) {
      server_side_copy(c, src, s.bucket, strip_slashes(s.key), d.bucket, strip_slashes(d.key));
      c.delete_object(s.bucket, strip_slashes(s.key));
      return;
    }
    std::string from = dir_prefix(s.key), to = dir_prefix(d.key);
    s3::Listing l = c.list(s.bucket, from);
    if (l.objects.empty()) not_exists("rename", src);
    parallel_for(l.objects.size(), c.settings().transfer_threads, [&](size_t i) {
      const std::string& key = l.objects[i].key;
      server_side_copy(c, join("s3://" + s.bucket, key), s.bucket, key, d.bucket, to + key.substr(from.size()));
    });
    parallel_for(l.objects.size(), c.settings().transfer_threads,
                 [&](size_t i) { c.delete_object(s.bucket, l.objects[i].key); });
  }

 private:
  static bool has_children(Client& c, const S3Url& u) {
    try {
      return !c.list(u.bucket, dir_prefix(u.key), "", 1).objects.empty();
    } catch (const MoxFileNotExistsException&) {  // no such bucket
      return false;
    }
  }
  // CopyObject, for an object known to exist. Some S3-compatible servers (s3rver) decode
  // x-amz-copy-source only partly and miss keys with reserved characters (+ = ? & ...); then
  // the bytes go through this client instead.
  static void server_side_copy(Client& c, const std::string& src_url, const std::string& src_bucket,
                               const std::string& src_key, const std::string& dst_bucket, const std::string& dst_key) {
    try {
      c.copy_object(src_bucket, src_key, dst_bucket, dst_key);
    } catch (const MoxFileNotExistsException&) {
      File in(src_url, "rb");
      File out(join("s3://" + dst_bucket, dst_key), "wb");
      const int64_t chunk = int64_t(c.settings().part_size);
      for (std::string part = in.read(chunk); !part.empty(); part = in.read(chunk)) out.write(part);
      out.close();
    }
  }
  static void require_directory(Client& c, const S3Url& u, const std::string& url, const std::string& op) {
    if (!strip_slashes(u.key).empty() || !c.bucket_exists(u.bucket))
      throw MoxFileNotExistsException(url, op + ": " + url + " is not a directory (no objects under it)", 404,
                                      "NoSuchKey");
  }
  static void remove_all(Client& c, const std::string& bucket, const std::string& prefix) {
    s3::Listing l = c.list(bucket, prefix);
    parallel_for(l.objects.size(), c.settings().transfer_threads,
                 [&](size_t i) { c.delete_object(bucket, l.objects[i].key); });
  }
};

}  // namespace

S3Url parse_s3_url(const std::string& url, const char* op) {
  auto bad = [&](const std::string& why) -> MoxFileException {
    return MoxFileException(url, std::string(op) + ": invalid S3 URL '" + url + "': " + why);
  };
  if (url.rfind("s3://", 0) != 0) throw bad("it must start with s3://");
  std::string rest = url.substr(5);
  size_t slash = rest.find('/');
  S3Url u{rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1)};
  if (u.bucket.empty()) throw bad("no bucket name (expected s3://bucket/key)");
  if (!valid_bucket(u.bucket))
    throw bad("bucket name '" + u.bucket + "' is not valid (3 to 63 lowercase letters, digits, '.' and '-')");
  if (u.key.size() > 1024) throw bad("the key is longer than 1024 bytes");
  return u;
}

Backend& s3_backend() {
  static S3Backend b;
  return b;
}

}  // namespace mox::file
