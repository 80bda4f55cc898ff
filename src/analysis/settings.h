// The numeric settings that change a model's arithmetic, read back from each worker after load
// (docs/settings.md), put in one vocabulary for both frameworks so that two cells can be checked for
// running under different numeric worlds: layout, dtype, and the precision fp32 matmuls and
// convolutions actually get (ieee or tf32; methodology T3, T4).
#pragma once

#include <map>
#include <string>

namespace dlb::analysis {

// {"layout", "dtype", "fp32 matmul", "fp32 conv", "threads"} from a worker's settings JSON.
std::map<std::string, std::string> NumericProfile(const std::string& settings_json,
                                                  const std::string& device);

// "layout NCHW vs NHWC; fp32 conv tf32 vs ieee", or empty when the arithmetic settings agree
// (thread counts are not compared: the frameworks' thread pools differ by design).
std::string NumericDifference(const std::string& settings_a, const std::string& device_a,
                              const std::string& settings_b, const std::string& device_b);

}  // namespace dlb::analysis
