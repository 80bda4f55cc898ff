#include "util/safetensors.h"

#include <bit>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fd.h"

namespace dlb {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

void WriteSafetensors(const std::string& path, const std::map<std::string, F32Tensor>& tensors,
                      const Metadata& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    uint64_t bytes = t.data.size() * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  uint64_t n = text.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& [name, t] : tensors) {
    out.write(reinterpret_cast<const char*>(t.data.data()),
              static_cast<std::streamsize>(t.data.size() * sizeof(float)));
  }
  out.close();
  if (!out) throw EnvError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

std::map<std::string, F32Tensor> ReadSafetensors(const std::string& path, Metadata* metadata) {
  std::string bytes;
  if (!ReadFile(path, &bytes)) {
    throw UserError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  return ParseSafetensors(bytes, path, metadata);
}

std::map<std::string, F32Tensor> ParseSafetensors(std::string_view bytes, const std::string& path,
                                                  Metadata* metadata) {
  auto bad = [&](const std::string& why) {
    return UserError(fmt::format("{}: not a valid safetensors file: {}", path, why));
  };
  if (bytes.size() < 8) throw bad("shorter than its 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8) throw bad("header length beyond the end of the file");
  const size_t data_start = 8 + n;
  const uint64_t data_bytes = bytes.size() - data_start;
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n), nullptr, false);
  if (header.is_discarded() || !header.is_object()) throw bad("header is not a JSON object");
  std::map<std::string, F32Tensor> out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw bad("\"__metadata__\" is not an object");
      if (metadata) {
        for (const auto& [k, v] : info.items()) {
          if (v.is_string()) (*metadata)[k] = v.get<std::string>();
        }
      }
      continue;
    }
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
        !info.contains("data_offsets")) {
      throw bad(fmt::format("tensor \"{}\" lacks dtype, shape or data_offsets", name));
    }
    if (info["dtype"] != "F32") {
      throw UserError(fmt::format("{}: tensor \"{}\" is {}; allowed: F32", path, name,
                                  info["dtype"].dump()));
    }
    // The shape's product is bounded by the data that follows the header, so it cannot overflow.
    const nlohmann::json& shape = info["shape"];
    if (!shape.is_array()) throw bad(fmt::format("tensor \"{}\": shape is not an array", name));
    F32Tensor t;
    uint64_t count = 1;
    for (const nlohmann::json& d : shape) {
      if (!d.is_number_unsigned()) {
        throw bad(fmt::format("tensor \"{}\": shape holds {}, not a non-negative integer", name, d.dump()));
      }
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && count > data_bytes / sizeof(float) / dim) {
        throw bad(fmt::format("tensor \"{}\": shape {} needs more data than the file holds", name,
                              shape.dump()));
      }
      count *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const nlohmann::json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      throw bad(fmt::format("tensor \"{}\": data_offsets is not [begin, end]", name));
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (end < begin || end - begin != count * sizeof(float) || end > data_bytes) {
      throw bad(fmt::format("tensor \"{}\" has offsets that do not match its shape or the file", name));
    }
    t.data.resize(static_cast<size_t>(count));
    if (count > 0) std::memcpy(t.data.data(), bytes.data() + data_start + begin, end - begin);
    out.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace dlb
