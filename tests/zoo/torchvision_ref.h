// The zoo tests' access to torchvision through tests/ref/torchvision_models.py (run with
// Debian's /usr/bin/python3): parameter counts and logits parity with exported weights.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mox::test {

// False (after a doctest MESSAGE saying so) when /usr/bin/python3 is missing.
bool have_torchvision_python();

// The script's `count` for each name (torchvision names or the script's variants such as
// mobilenet_v2_140), in order; fails the test when the script fails.
std::vector<int64_t> torchvision_counts(const std::vector<std::string>& names);

// Exports torchvision's tv_name (random weights, randomized batch norm statistics) with the
// script, loads the weights into the zoo's mox_name built in EVAL mode for num_classes 1000,
// runs the exported input through it and checks the logits within rtol of the logits' scale.
void check_torchvision_parity(const std::string& mox_name, const std::string& tv_name,
                              double rtol = 1e-4);

}  // namespace mox::test
