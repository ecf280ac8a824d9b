// Command-line flags in MoXing's style (tf.flags): define a flag with a default and help,
// parse "--name=value" / "--name value" / "--flag" (booleans), read with get_flag, change
// with set_flag. Unknown flags, bad values and flags that contradict each other raise
// mox::Error naming the flag.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kernels/common/dtype.h"

namespace mox::flags {

enum class Kind { string, integer, number, boolean };

struct Flag {
  std::string name, value, default_value, help;
  Kind kind;
};

class FlagSet {
 public:
  void define_string(const std::string& name, const std::string& def, const std::string& help);
  void define_integer(const std::string& name, long long def, const std::string& help);
  void define_float(const std::string& name, double def, const std::string& help);
  void define_bool(const std::string& name, bool def, const std::string& help);

  // Parses args (program name excluded); returns false when --help was asked for (the help
  // text is then in help()).
  bool parse(const std::vector<std::string>& args);
  std::string help(const std::string& program) const;

  void set_flag(const std::string& name, const std::string& value);
  std::string get_string(const std::string& name) const;
  long long get_integer(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  bool is_set(const std::string& name) const;  // given on the command line or by set_flag

 private:
  const Flag& find(const std::string& name) const;
  void define(Flag f);
  std::map<std::string, Flag> flags_;
  std::vector<std::string> order_;
  std::map<std::string, bool> set_;
};

// The process-wide flags that get_flag/set_flag use, with MoXing's standard ones defined:
// data_url, train_url, batch_size, num_gpus, log_every_n_steps, max_number_of_steps,
// save_summary_steps, save_model_steps, checkpoint_url, and mixed precision's dtype (the
// compute dtype: f32, f16, bf16) and loss_scale (a number, 1 = off, or "dynamic"; read it with
// nn::LossScaler::from_flag).
FlagSet& global();
inline std::string get_flag(const std::string& name) { return global().get_string(name); }
inline void set_flag(const std::string& name, const std::string& value) { global().set_flag(name, value); }

// The compute dtype a --dtype value names: f32, f16 or bf16. Anything else (i32, foo, ...)
// raises mox::Error naming flag and the accepted values.
DType compute_dtype(const std::string& value, const std::string& flag = "--dtype");

}  // namespace mox::flags
