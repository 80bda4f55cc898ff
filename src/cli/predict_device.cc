#include "cli/predict_device.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/peaks.h"
#include "analysis/predict.h"
#include "cli/common.h"
#include "plan/catalog.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/limits.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

// One measured rate from a `doctor --probe --json` file: dense matmul FLOP/s and copy bandwidth of
// one device, through one framework, at one precision.
struct ProbedPeak {
  std::string file, framework, device_name, precision;
  double flops_per_s = 0, bytes_per_s = 0;
};

std::vector<ProbedPeak> ReadProbes(const std::vector<std::string>& files) {
  std::vector<ProbedPeak> out;
  for (const auto& file : files) {
    std::string text;
    if (!ReadFile(file, &text)) {
      throw UserError(fmt::format("--probe {}: cannot read it: {}", file, std::strerror(errno)));
    }
    if (text.size() > kMaxExperimentFileBytes) {
      throw UserError(fmt::format("--probe {}: larger than {} bytes; give the output of `dlbench doctor "
                                  "--probe --json`", file, kMaxExperimentFileBytes));
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    const size_t before = out.size();
    if (j.is_object() && j.contains("workers") && j["workers"].is_array()) {
      for (const auto& w : j["workers"]) {
        if (!w.is_object() || !w.contains("probes") || !w["probes"].is_array()) continue;
        const std::string framework = w.contains("hello") && w["hello"].is_object()
                                          ? w["hello"].value("framework", "")
                                          : "";
        for (const auto& p : w["probes"]) {
          if (!p.is_object() || !p.value("ok", false)) continue;
          ProbedPeak peak{file, framework, p.value("device_name", ""), p.value("precision", ""),
                          p.value("matmul_flops_per_s", 0.0), p.value("copy_bytes_per_s", 0.0)};
          if (!peak.device_name.empty() && peak.flops_per_s > 0) out.push_back(peak);
        }
      }
    }
    if (out.size() == before) {
      throw UserError(fmt::format("--probe {}: no measured probe in it (workers[].probes[] with "
                                  "matmul_flops_per_s); give the output of `dlbench doctor --probe --json`",
                                  file));
    }
  }
  return out;
}

// A device's ceiling for one math mode, and where its figures came from.
struct Peak {
  analysis::Roofline roof;
  std::string source;  // "probe, torch, FILE" or "datasheet H100 SXM5 80GB"
};

// The measured probe of this device and math (the cell's framework's where there is one), else
// the datasheet's.
std::optional<Peak> PeakFor(const std::string& device_name, const std::string& framework,
                            const std::string& math, const std::vector<ProbedPeak>& probes) {
  const ProbedPeak* found = nullptr;
  for (const auto& p : probes) {
    if (p.device_name != device_name || p.precision != math) continue;
    if (found == nullptr || (p.framework == framework && found->framework != framework)) found = &p;
  }
  if (found) {
    return Peak{{found->flops_per_s, found->bytes_per_s},
                fmt::format("probe, {}, {}", found->framework, found->file)};
  }
  const analysis::DevicePeak* sheet = analysis::FindDevicePeak(device_name);
  if (sheet == nullptr) return std::nullopt;
  auto flops = analysis::PeakFlops(*sheet, math);
  if (!flops) return std::nullopt;
  return Peak{{*flops, sheet->memory_gbps * 1e9}, "datasheet " + sheet->name};
}

// The target named by --on-device: a probed device whose name contains it, else a datasheet entry.
struct Target {
  std::string device_name;  // what PeakFor looks up
  bool has_tf32 = false;
};

Target ResolveTarget(const std::string& name, const std::vector<ProbedPeak>& probes) {
  for (const auto& p : probes) {
    if (p.device_name.find(name) == std::string::npos) continue;
    Target t{p.device_name, false};
    for (const auto& q : probes) t.has_tf32 |= q.device_name == p.device_name && q.precision == "tf32";
    return t;
  }
  if (const auto* sheet = analysis::FindDevicePeak(name)) return {name, sheet->tf32_tflops > 0};
  std::vector<std::string> names;
  for (const auto& p : analysis::DevicePeaks()) names.push_back(p.matches);
  throw UserError(fmt::format("--on-device {}: no peaks known for it: not in the datasheet table ({}) "
                              "and not measured by a --probe file; give --probe FILE from `dlbench "
                              "doctor --probe --json` on a host with it",
                              name, Join(names, ", ")));
}

double BytesPerValue(const std::string& precision) {
  return precision == "bf16" || precision == "fp16" ? 2 : 4;
}

double GeometricMean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

// The cells of one configuration on one device (several runs, several databases), pooled.
struct Group {
  const MeasuredCell* first = nullptr;
  std::vector<double> throughput_sps;  // per repetition
};

// One source configuration scaled to the target, before any correction.
struct Scaled {
  const MeasuredCell* cell = nullptr;
  std::string math_source, math_target;
  Peak source, target;
  double measured_sps = 0, scaled_sps = 0;
  std::optional<double> ceiling_sps;  // the target's ceiling in samples/s, where FLOPs are known
  const std::vector<double>* target_sps = nullptr;  // measured on the target too: a pair
};

std::string PeakText(const std::string& math, const Peak& p) {
  const double f = p.roof.peak_flops_per_s;
  return fmt::format("{} {} FLOP/s ({})", math, f >= 1e12 ? fmt::format("{:.4g} T", f / 1e12)
                                                          : fmt::format("{:.4g} G", f / 1e9),
                     p.source);
}

std::string Pct(double x) { return fmt::format("{:.1f}%", 100 * x); }

}  // namespace

ExitCode PredictOnDevice(const DeviceRequest& request, const std::vector<MeasuredCell>& cells) {
  const auto probes = ReadProbes(request.probes);
  const Target target = ResolveTarget(request.target, probes);
  auto on_target = [&](const MeasuredCell& m) {
    return !m.device_name.empty() && (m.device_name.find(request.target) != std::string::npos ||
                                      m.device_name == target.device_name);
  };
  // Sources by configuration and device; the target's measurements by configuration alone.
  std::map<std::string, Group> sources;
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> measured_on_target;
  for (const auto& m : cells) {
    const auto tput = ThroughputPerRepetition(m);
    if (on_target(m)) {
      auto& v = measured_on_target[CombinationKey(m, {"device", "host"})];
      v.insert(v.end(), tput.begin(), tput.end());
      continue;
    }
    auto [it, fresh] = sources.try_emplace(CombinationKey(m), Group{&m, {}});
    if (fresh) order.push_back(CombinationKey(m));
    it->second.throughput_sps.insert(it->second.throughput_sps.end(), tput.begin(), tput.end());
  }
  // Scale each source; the ones without peaks are said once per device and math.
  std::map<std::string, std::vector<Scaled>> by_device;  // source device name -> its configurations
  std::vector<std::string> devices, missing;
  for (const auto& key : order) {
    const Group& g = sources[key];
    const auto& c = g.first->cell;
    const std::string flops_mostly = plan::DominantFlopOp(c.model);
    Scaled s;
    s.cell = g.first;
    s.math_source = analysis::MathMode(c.precision, c.settings_json.value_or("{}"), c.device, flops_mostly);
    s.math_target = analysis::ExpectedMathMode(c.precision, c.profile, c.framework, flops_mostly, target.has_tf32);
    const std::string source_name = g.first->device_name.empty() ? c.device : g.first->device_name;
    auto sp = PeakFor(g.first->device_name, c.framework, s.math_source, probes);
    auto tp = PeakFor(target.device_name, c.framework, s.math_target, probes);
    if (!sp || !tp) {
      std::string what = !sp ? fmt::format("no {} peak known for {} (not in the datasheet table, and "
                                           "no --probe file measured it)", s.math_source, source_name)
                             : fmt::format("no {} peak known for {}", s.math_target, target.device_name);
      if (std::find(missing.begin(), missing.end(), what) == missing.end()) missing.push_back(what);
      continue;
    }
    s.source = *sp;
    s.target = *tp;
    double intensity = 0;  // FLOPs per byte of weights, per call
    if (c.flops_per_sample && c.parameters && *c.parameters > 0) {
      intensity = static_cast<double>(*c.flops_per_sample) * static_cast<double>(c.batch) /
                  (static_cast<double>(*c.parameters) * BytesPerValue(c.precision));
    }
    s.measured_sps = GeometricMean(g.throughput_sps);
    s.scaled_sps = analysis::ScaleByPeaks(s.measured_sps, s.source.roof, s.target.roof, intensity);
    if (c.flops_per_sample && *c.flops_per_sample > 0) {
      const bool both_bw = s.source.roof.bandwidth_bytes_per_s > 0 && s.target.roof.bandwidth_bytes_per_s > 0;
      s.ceiling_sps = analysis::Ceiling(s.target.roof, both_bw ? intensity : 0) /
                      static_cast<double>(*c.flops_per_sample);
    }
    if (auto it = measured_on_target.find(CombinationKey(*g.first, {"device", "host"}));
        it != measured_on_target.end()) {
      s.target_sps = &it->second;
    }
    if (!by_device.count(source_name)) devices.push_back(source_name);
    by_device[source_name].push_back(s);
  }
  if (devices.empty()) {
    if (!missing.empty()) throw UserError(fmt::format("--on-device {}: {}", request.target, Join(missing, "; ")));
    throw UserError(fmt::format("--on-device {}: no configuration measured on another device to "
                                "predict from", request.target));
  }

  std::string out;
  ordered_json jchecks = ordered_json::array(), jrows = ordered_json::array();
  for (const auto& device : devices) {
    const auto& scaled = by_device[device];
    std::vector<analysis::TransferPair> pairs;
    for (const auto& s : scaled) {
      if (s.target_sps) pairs.push_back({s.scaled_sps, *s.target_sps});
    }
    ordered_json jcheck = {{"source_device", device}, {"target_device", target.device_name},
                           {"pairs", pairs.size()}};
    if (pairs.empty()) {
      out += fmt::format("from {} to {}: no configuration was measured on both, so how far the peaks "
                         "miss cannot be measured here; the figures below have no interval\n",
                         device, target.device_name);
    } else {
      const auto e = analysis::UncorrectedError(pairs);
      const auto loo = analysis::LeaveOnePairOut(pairs);
      out += fmt::format("from {} to {}: {} configuration(s) measured on both; there the peaks alone "
                         "predicted {:.3g}x to {:.3g}x what the target measured (median error {})\n",
                         device, target.device_name, pairs.size(), 1 / e.max_ratio, 1 / e.min_ratio,
                         Pct(e.median_abs_error));
      out += loo.held_out == 0
                 ? "  leave-one-out: too few configurations measured on both (3 needed) to check "
                   "the corrected prediction and its interval\n"
                 : fmt::format("  leave-one-out, corrected by the others: median error {}, {} of "
                               "{} held-out repetitions inside their 95% interval ({})\n",
                               Pct(loo.median_abs_error),
                               std::lround(loo.coverage * static_cast<double>(loo.repetitions)),
                               loo.repetitions, Pct(loo.coverage));
      jcheck["uncorrected"] = {{"min_ratio", e.min_ratio}, {"max_ratio", e.max_ratio},
                               {"median_abs_error", e.median_abs_error}};
      jcheck["leave_one_out"] = {{"held_out", loo.held_out}, {"skipped", loo.skipped},
                                 {"median_abs_error", loo.median_abs_error},
                                 {"coverage", loo.coverage}, {"repetitions", loo.repetitions}};
    }
    jchecks.push_back(jcheck);
    size_t predicted = 0;
    for (const auto& s : scaled) {
      if (s.target_sps) continue;  // measured there: a pair above, nothing to predict
      ++predicted;
      const auto p = analysis::PredictTransfer(s.scaled_sps, pairs);
      const bool capped = s.ceiling_sps && p.throughput_sps > *s.ceiling_sps;
      const double figure = capped ? *s.ceiling_sps : p.throughput_sps;
      std::string line = fmt::format("{} -> {}: {} samples/s", Label(*s.cell), target.device_name,
                                     FormatFigure(figure));
      if (p.throughput_pi) {
        line += fmt::format(" (95% prediction interval {} to {})", FormatFigure(p.throughput_pi->lo),
                            FormatFigure(p.throughput_pi->hi));
      }
      line += p.pairs > 0 ? fmt::format(", the peaks' {} x {:.3g} (the correction from {} "
                                        "configuration(s) measured on both)",
                                        FormatFigure(s.scaled_sps), p.correction, p.pairs)
                          : ", by the peaks alone, no interval";
      if (capped) line += ", capped at the target's ceiling";
      line += fmt::format("; measured {} samples/s; {} against {}", FormatFigure(s.measured_sps),
                          PeakText(s.math_target, s.target), PeakText(s.math_source, s.source));
      if (s.ceiling_sps) line += fmt::format("; at most {} samples/s there", FormatFigure(*s.ceiling_sps));
      out += line + "\n";
      ordered_json row = {{"configuration", Label(*s.cell)}, {"source_device", device},
                          {"target_device", target.device_name}, {"measured_sps", s.measured_sps},
                          {"math_source", s.math_source}, {"peak_source", s.source.source},
                          {"math_target", s.math_target}, {"peak_target", s.target.source},
                          {"scaled_sps", s.scaled_sps}, {"throughput_sps", figure},
                          {"throughput_pi", p.throughput_pi ? ordered_json::array({p.throughput_pi->lo,
                                                                                   p.throughput_pi->hi})
                                                            : ordered_json()},
                          {"pairs", p.pairs}, {"correction", p.correction},
                          {"ceiling_sps", s.ceiling_sps ? ordered_json(*s.ceiling_sps) : ordered_json()}};
      jrows.push_back(row);
    }
    if (predicted == 0) {
      out += fmt::format("  every configuration measured on {} was measured on {} too: nothing to "
                         "predict\n",
                         device, target.device_name);
    }
  }
  for (const auto& m : missing) out += "no prediction: " + m + "\n";
  if (request.json_output) {
    ordered_json j = {{"format", "dlbench-predict"}, {"version", 1}, {"method", "device-roofline"},
                      {"checks", jchecks}, {"predictions", jrows}};
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
  } else {
    fmt::print("{}", TerminalSafe(out, true));
  }
  return ExitCode::kDone;
}

}  // namespace dlb::cli
