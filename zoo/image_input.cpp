#include "zoo/image_input.h"

namespace mox::zoo {

void check_image_input(const std::string& model, const Tensor& images, int64_t channels,
                       int64_t height, int64_t width) {
  const Shape& s = images.sizes();
  MOX_CHECK_T(ShapeError,
              s.size() == 4 && s[0] >= 1 && s[1] == channels && s[2] == height && s[3] == width,
              model, "expects images of shape [N, ", channels, ", ", height, ", ", width,
              "] (NCHW), got ", shape_str(s));
}

void check_min_image_input(const std::string& model, const Tensor& images, int64_t channels,
                           int64_t min_size) {
  const Shape& s = images.sizes();
  MOX_CHECK_T(ShapeError,
              s.size() == 4 && s[0] >= 1 && s[1] == channels && s[2] >= min_size &&
                  s[3] >= min_size,
              model, "expects images of shape [N, ", channels, ", H, W] (NCHW) with H, W >= ",
              min_size, ", got ", shape_str(s));
}

int64_t fixed_image_size(const std::string& model, const NetOptions& options, int64_t size) {
  for (int64_t asked : {options.image_height, options.image_width})
    MOX_CHECK_T(ShapeError, asked == 0 || asked == size, model, "is built for ", size, "x", size,
                " images only (its dense layers are sized for them), got image size ",
                options.image_height, "x", options.image_width);
  return size;
}

}  // namespace mox::zoo
