#include "nn/run/flags.h"

#include <iomanip>
#include <sstream>

#include "core/error.h"

namespace mox::flags {
namespace {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::string: return "string";
    case Kind::integer: return "integer";
    case Kind::number: return "float";
    case Kind::boolean: return "bool";
  }
  return "?";
}

// Checks value parses as the flag's kind; returns it normalized.
std::string checked(const Flag& f, const std::string& value) {
  try {
    size_t used = 0;
    switch (f.kind) {
      case Kind::string: return value;
      case Kind::integer: {
        long long v = std::stoll(value, &used);
        if (used == value.size()) return std::to_string(v);
        break;
      }
      case Kind::number: {
        std::stod(value, &used);
        if (used == value.size()) return value;
        break;
      }
      case Kind::boolean:
        if (value == "true" || value == "1" || value == "True") return "true";
        if (value == "false" || value == "0" || value == "False") return "false";
        break;
    }
  } catch (const std::exception&) {
  }
  throw Error("flags: --" + f.name + " expects " + kind_name(f.kind) + ", got '" + value + "'");
}

}  // namespace

void FlagSet::define(Flag f) {
  MOX_CHECK(!flags_.count(f.name), "flags", "flag --", f.name, " is defined twice");
  order_.push_back(f.name);
  flags_[f.name] = std::move(f);
}

void FlagSet::define_string(const std::string& n, const std::string& d, const std::string& h) {
  define({n, d, d, h, Kind::string});
}
void FlagSet::define_integer(const std::string& n, long long d, const std::string& h) {
  define({n, std::to_string(d), std::to_string(d), h, Kind::integer});
}
void FlagSet::define_float(const std::string& n, double d, const std::string& h) {
  std::ostringstream os;
  os << d;
  define({n, os.str(), os.str(), h, Kind::number});
}
void FlagSet::define_bool(const std::string& n, bool d, const std::string& h) {
  define({n, d ? "true" : "false", d ? "true" : "false", h, Kind::boolean});
}

const Flag& FlagSet::find(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) {
    std::string known;
    for (const std::string& n : order_) known += (known.empty() ? "--" : ", --") + n;
    throw Error("flags: unknown flag --" + name + " (known: " + known + ")");
  }
  return it->second;
}

void FlagSet::set_flag(const std::string& name, const std::string& value) {
  const Flag& f = find(name);
  flags_[name].value = checked(f, value);
  set_[name] = true;
}

bool FlagSet::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") return false;
    MOX_CHECK(a.rfind("--", 0) == 0 && a.size() > 2, "flags", "unexpected argument '", a, "' (flags look like --name=value)");
    std::string body = a.substr(2), name = body, value;
    size_t eq = body.find('=');
    if (eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    } else if (find(name).kind == Kind::boolean) {
      value = "true";
    } else {
      MOX_CHECK(i + 1 < args.size(), "flags", "--", name, " needs a value");
      value = args[++i];
    }
    set_flag(name, value);
  }
  return true;
}

std::string FlagSet::help(const std::string& program) const {
  std::ostringstream os;
  os << "usage: " << program << " [--flag=value ...]\n\nflags:\n";
  for (const std::string& n : order_) {
    const Flag& f = flags_.at(n);
    os << "  --" << std::left << std::setw(26) << (n + " (" + kind_name(f.kind) + ")") << f.help
       << " [default: " << (f.default_value.empty() ? "\"\"" : f.default_value) << "]\n";
  }
  return os.str();
}

std::string FlagSet::get_string(const std::string& n) const { return find(n).value; }
long long FlagSet::get_integer(const std::string& n) const {
  const Flag& f = find(n);
  MOX_CHECK(f.kind == Kind::integer, "flags", "--", n, " is a ", kind_name(f.kind), ", not an integer");
  return std::stoll(f.value);
}
double FlagSet::get_float(const std::string& n) const {
  const Flag& f = find(n);
  MOX_CHECK(f.kind == Kind::number || f.kind == Kind::integer, "flags", "--", n, " is a ", kind_name(f.kind), ", not a float");
  return std::stod(f.value);
}
bool FlagSet::get_bool(const std::string& n) const {
  const Flag& f = find(n);
  MOX_CHECK(f.kind == Kind::boolean, "flags", "--", n, " is a ", kind_name(f.kind), ", not a bool");
  return f.value == "true";
}
bool FlagSet::is_set(const std::string& n) const {
  find(n);
  auto it = set_.find(n);
  return it != set_.end() && it->second;
}

DType compute_dtype(const std::string& value, const std::string& flag) {
  for (DType t : {DType::f32, DType::f16, DType::bf16})
    if (value == dtype_name(t)) return t;
  throw Error("flags: " + flag + " must be a floating compute dtype (f32, f16 or bf16), got '" + value + "'");
}

FlagSet& global() {
  static FlagSet* g = [] {
    auto* f = new FlagSet;
    f->define_string("data_url", "", "where the dataset is read from");
    f->define_string("train_url", "", "where checkpoints and summaries are written (log_dir)");
    f->define_string("checkpoint_url", "", "a checkpoint to start from");
    f->define_integer("batch_size", 64, "samples per step");
    f->define_integer("num_gpus", 0, "GPUs to use (0: CPU)");
    f->define_integer("log_every_n_steps", 100, "steps between log lines");
    f->define_integer("max_number_of_steps", 0, "stop after this many steps (0: by epochs)");
    f->define_integer("save_summary_steps", 100, "steps between TensorBoard summaries");
    f->define_integer("save_model_steps", 500, "steps between checkpoints");
    f->define_string("dtype", "f32", "compute dtype: f32, or f16 / bf16 (mixed precision, f32 master weights)");
    f->define_string("loss_scale", "1", "loss scale: a number (static, 1 = off) or 'dynamic' (2^15, adapted)");
    return f;
  }();
  return *g;
}

}  // namespace mox::flags
