#include "nn/sequential.h"

#include <cctype>
#include <map>
#include <sstream>

#include "core/autograd/node.h"

namespace mox::nn {

std::string snake_case(const std::string& t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    bool upper = std::isupper(static_cast<unsigned char>(t[i]));
    if (upper && i > 0 && std::islower(static_cast<unsigned char>(t[i - 1]))) out += '_';
    out += char(std::tolower(static_cast<unsigned char>(t[i])));
  }
  return out;
}

Sequential::Sequential(std::vector<ModulePtr> layers) {
  for (auto& l : layers) add(std::move(l));
}

Sequential& Sequential::add(ModulePtr layer) {
  MOX_CHECK(layer != nullptr, "Sequential", "cannot add a null layer");
  std::string base = snake_case(layer->type_name());
  int same = 0;
  for (auto& [name, m] : children())
    if (snake_case(m->type_name()) == base) ++same;
  register_module(same ? base + "_" + std::to_string(same) : base, std::move(layer));
  output_shapes_.clear();
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, layer] : children()) {
    try {
      h = (*layer)(h);
    } catch (const Error& e) {
      throw Error("layer '" + name + "' (" + layer->type_name() + "): " + e.what());
    }
  }
  return h;
}

Sequential& Sequential::build(const Shape& input_shape) {
  input_shape_ = input_shape;
  Shape batch1 = input_shape;
  batch1.insert(batch1.begin(), 1);
  NoGradGuard no_grad;
  bool was_training = is_training();
  eval();  // batch norm and dropout leave their state alone
  Tensor h = zeros(batch1);
  std::vector<Shape> shapes;
  for (auto& [name, layer] : children()) {
    h = (*layer)(h);
    shapes.emplace_back(h.sizes().begin() + 1, h.sizes().end());
  }
  train(was_training);
  output_shapes_ = std::move(shapes);
  return *this;
}

namespace {
std::string with_commas(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}
// Keras counts batch norm's moving statistics as (non-trainable) parameters.
int64_t keras_params(const Module& m) {
  int64_t n = m.num_parameters();
  for (auto& [name, b] : m.named_buffers()) n += b.numel();
  return n;
}
std::string keras_shape(const Shape& s) {
  std::string r = "(None";
  for (int64_t d : s) r += ", " + std::to_string(d);
  return r + ")";
}
}  // namespace

void Sequential::summary(std::ostream& os) const {
  MOX_CHECK(built(), "summary", "the model is not built: call build(input_shape) first");
  const std::string rule(65, '_'), double_rule(65, '=');
  // Keras's print_row: each field is cut at its column's end (29, 55, 65) and the character
  // before the next field is blanked, so a long name never pushes the columns right.
  auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
    std::string line;
    const size_t ends[3] = {29, 55, 65};
    const std::string* fields[3] = {&a, &b, &c};
    for (size_t i = 0; i < 3; ++i) {
      if (i > 0) line.back() = ' ';
      line = (line + *fields[i]).substr(0, ends[i]);
      line.resize(ends[i], ' ');
    }
    os << line << "\n";
  };
  os << "Model: \"sequential\"\n" << rule << "\n";
  row("Layer (type)", "Output Shape", "Param #");
  os << double_rule << "\n";
  size_t i = 0;
  for (auto& [name, layer] : children()) {
    row(name + " (" + layer->type_name() + ")", keras_shape(output_shapes_[i]),
        std::to_string(keras_params(*layer)));
    os << (++i == children().size() ? double_rule : rule) << "\n";
  }
  int64_t total = keras_params(*this), trainable = num_parameters(true);
  os << "Total params: " << with_commas(total) << "\n"
     << "Trainable params: " << with_commas(trainable) << "\n"
     << "Non-trainable params: " << with_commas(total - trainable) << "\n";
}

std::string Sequential::summary() const {
  std::ostringstream os;
  summary(os);
  return os.str();
}

}  // namespace mox::nn
