// mox::file::File: mode parsing and the Python-like methods, on top of a backend's Impl.
#include <iostream>

#include "io/file/backend.h"

namespace mox::file {

OpenMode parse_mode(const std::string& mode) {
  OpenMode m;
  int bases = 0, pluses = 0, bs = 0;
  for (char c : mode) {
    if (c == 'r' || c == 'w' || c == 'a') {
      m.base = c;
      ++bases;
    } else if (c == '+') {
      ++pluses;
    } else if (c == 'b') {
      ++bs;
    } else if (c != 't') {
      bases = 99;
    }
  }
  if (bases != 1 || pluses > 1 || bs > 1)
    throw MoxFileException(mode, "File: invalid mode '" + mode +
                                     "' (one of r, w, a, r+, w+, a+ with an optional b)");
  m.plus = pluses == 1;
  m.binary = bs == 1;
  return m;
}

std::string File::Impl::readline(int64_t limit) {
  std::string line;
  char c;
  while ((limit < 0 || int64_t(line.size()) < limit) && read(&c, 1) == 1) {
    line.push_back(c);
    if (c == '\n') break;
  }
  return line;
}

File::File(const std::string& url, const std::string& mode) {
  OpenMode how = parse_mode(mode);
  impl_ = backend_for(url).open(url, how);
  impl_->url = url;
  impl_->mode = mode;
  impl_->how = how;
}

File::~File() {
  if (!impl_ || impl_->is_closed) return;
  try {
    close();
  } catch (const std::exception& e) {
    std::cerr << "mox::file::File: closing " << impl_->url << " failed: " << e.what() << "\n";
  }
}

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;

namespace {
File::Impl& usable(const std::unique_ptr<File::Impl>& impl, const char* op, bool need_read,
                   bool need_write) {
  if (!impl) throw MoxFileException("", std::string("File.") + op + ": moved-from file object");
  auto fail = [&](const std::string& why) {
    throw MoxFileException(impl->url, std::string("File.") + op + ": " + impl->url + " " + why);
  };
  if (impl->is_closed) fail("is closed");
  if (need_read && !impl->how.reads()) fail("was opened with mode '" + impl->mode + "', not for reading");
  if (need_write && !impl->how.writes()) fail("was opened with mode '" + impl->mode + "', not for writing");
  return *impl;
}
}  // namespace

std::string File::read(int64_t n) {
  Impl& f = usable(impl_, "read", true, false);
  std::string out;
  if (n >= 0) {
    out.resize(size_t(n));
    out.resize(f.read(out.data(), size_t(n)));
    return out;
  }
  char buf[1 << 16];
  size_t got;
  while ((got = f.read(buf, sizeof buf)) > 0) out.append(buf, got);
  return out;
}

std::string File::readline(int64_t size) { return usable(impl_, "readline", true, false).readline(size); }

std::vector<std::string> File::readlines(int64_t sizehint) {
  Impl& f = usable(impl_, "readlines", true, false);
  std::vector<std::string> lines;
  int64_t total = 0;
  for (std::string l = f.readline(-1); !l.empty(); l = f.readline(-1)) {
    total += int64_t(l.size());
    lines.push_back(std::move(l));
    if (sizehint > 0 && total >= sizehint) break;
  }
  return lines;
}

std::optional<std::string> File::next() {
  std::string l = usable(impl_, "next", true, false).readline(-1);
  if (l.empty()) return std::nullopt;
  return l;
}

void File::write(std::string_view data) { usable(impl_, "write", false, true).write(data.data(), data.size()); }

void File::writelines(const std::vector<std::string>& lines) {
  Impl& f = usable(impl_, "writelines", false, true);
  for (const std::string& l : lines) f.write(l.data(), l.size());
}

void File::seek(int64_t offset, int whence) {
  Impl& f = usable(impl_, "seek", false, false);
  int64_t base = whence == 0 ? 0 : whence == 1 ? f.tell() : whence == 2 ? f.size() : -1;
  if (base < 0)
    throw MoxFileException(f.url, "File.seek: " + f.url + ": whence must be 0, 1 or 2, got " +
                                      std::to_string(whence));
  if (base + offset < 0)
    throw MoxFileException(f.url, "File.seek: " + f.url + ": position " +
                                      std::to_string(base + offset) + " is before the start");
  f.seek(base + offset);
}

int64_t File::tell() const { return usable(impl_, "tell", false, false).tell(); }
void File::flush() { usable(impl_, "flush", false, false).flush(); }
int64_t File::size() { return usable(impl_, "size", false, false).size(); }

void File::close() {
  if (!impl_ || impl_->is_closed) return;
  impl_->is_closed = true;  // even if close throws: the object is unusable afterwards
  impl_->close();
}

bool File::readable() const { return impl_ && impl_->how.reads(); }
bool File::writable() const { return impl_ && impl_->how.writes(); }
bool File::seekable() const {
  return impl_ && !(is_s3_url(impl_->url) && impl_->how.base == 'w' && !impl_->how.plus);
}
bool File::isatty() const { return false; }
bool File::closed() const { return !impl_ || impl_->is_closed; }
const std::string& File::name() const { return impl_->url; }
const std::string& File::mode() const { return impl_->mode; }

}  // namespace mox::file
