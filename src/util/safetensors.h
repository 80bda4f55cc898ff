// safetensors files (the format of huggingface/safetensors, read 2026-11): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {str: str}} padded with spaces, then the raw little-endian data. Weights and
// validation inputs/outputs travel between the controller and the workers in this format. Only
// F32 tensors are read into memory; other dtypes are named in the error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dlb {

struct F32Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, product(shape) values
};

using Metadata = std::map<std::string, std::string>;

// Throws EnvError naming the path when the file cannot be written.
void WriteSafetensors(const std::string& path, const std::map<std::string, F32Tensor>& tensors,
                      const Metadata& metadata = {});

// Throws UserError naming the path and the problem (not a safetensors file, a dtype other than
// F32, offsets outside the file).
std::map<std::string, F32Tensor> ReadSafetensors(const std::string& path, Metadata* metadata = nullptr);
// The same for bytes already in memory; path is used only in messages. Every malformed input, of
// any length or content, is a UserError (tests/fuzz/safetensors.cc holds it to that).
std::map<std::string, F32Tensor> ParseSafetensors(std::string_view bytes, const std::string& path,
                                                  Metadata* metadata = nullptr);

}  // namespace dlb
