// Mox's exception family. MOX_CHECK(cond, op, parts...) throws mox::Error whose message names
// the op and whatever the caller streams in (shapes, dtypes, flags); every bad input takes
// this path instead of crashing.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace mox {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { using Error::Error; };
class TypeError : public Error { using Error::Error; };
class IndexError : public Error { using Error::Error; };
class DeviceError : public Error { using Error::Error; };
class AutogradError : public Error { using Error::Error; };
class IOError : public Error { using Error::Error; };

namespace detail {
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace mox

// Throws ErrType("<op>: <parts...>") unless cond holds.
#define MOX_CHECK_T(ErrType, cond, op, ...)                                  \
  do {                                                                       \
    if (!(cond)) throw ErrType(::mox::detail::cat(op, ": ", __VA_ARGS__));   \
  } while (0)
#define MOX_CHECK(cond, op, ...) MOX_CHECK_T(::mox::Error, cond, op, __VA_ARGS__)
