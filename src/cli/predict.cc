// dlbench predict DB [DB ...] --batch N | --model M | --on-device NAME: latency and throughput of
// configurations that were not measured, from fits on those that were (analysis/predict.h), each
// with its prediction interval where the data give one, and a leave-one-out check on the measured
// cells. Read-only. The device transfer is in cli/predict_device.cc.
#include <fmt/format.h>

#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "analysis/predict.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/measured.h"
#include "cli/predict_device.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::cli {
namespace {

using nlohmann::ordered_json;

struct PredictOptions {
  std::vector<std::string> dbs;
  int64_t batch = 0;
  std::string model;
  std::vector<std::string> devices, frameworks, where;
  DeviceRequest on_device;  // --on-device, --probe
  bool json_output = false;
};

// A configuration without the axes a prediction varies: "torch resnet50 fp32 cpu on host".
std::string GroupLabel(const MeasuredCell& m, bool with_model) {
  std::string label = Label(m);
  std::string bs = fmt::format(" bs{}", m.cell.batch);
  if (auto p = label.find(bs); p != std::string::npos) label.erase(p, bs.size());
  if (!with_model) {
    if (auto p = label.find(" " + m.cell.model + " "); p != std::string::npos) label.erase(p, m.cell.model.size() + 1);
  }
  return label;
}

ordered_json Interval(const stats::Interval& i) { return ordered_json::array({i.lo, i.hi}); }

ExitCode PredictBatches(const PredictOptions& o, const std::vector<MeasuredCell>& cells) {
  std::map<std::string, std::pair<const MeasuredCell*, std::map<int64_t, std::vector<double>>>> groups;
  std::vector<std::string> order;
  for (const auto& m : cells) {
    auto key = CombinationKey(m, {"batch"});
    auto [it, fresh] = groups.try_emplace(key, &m, std::map<int64_t, std::vector<double>>{});
    if (fresh) order.push_back(key);
    auto& reps = it->second.second[m.cell.batch];
    reps.insert(reps.end(), m.latency_ns.begin(), m.latency_ns.end());
  }
  ordered_json jrows = ordered_json::array();
  std::string out;
  size_t predicted = 0;
  for (const auto& key : order) {
    const auto& [first, by_batch] = groups[key];
    std::vector<analysis::BatchObservation> obs;
    std::vector<std::string> measured;
    for (const auto& [b, reps] : by_batch) {
      obs.push_back({b, reps});
      measured.push_back(std::to_string(b));
    }
    const std::string label = GroupLabel(*first, true);
    auto p = analysis::PredictBatch(obs, o.batch);
    ordered_json row = {{"configuration", label}, {"measured_batches", measured}};
    if (!p) {
      out += fmt::format("{}: no prediction at batch {}: {}\n", label, o.batch, p.error());
      row["error"] = p.error();
      jrows.push_back(row);
      continue;
    }
    ++predicted;
    auto v = analysis::LeaveOneOut(obs);
    const double b = static_cast<double>(o.batch);
    out += fmt::format(
        "{} at batch {}: latency {} (95% prediction interval {} to {}), throughput {} samples/s "
        "({} to {}); latency grows as batch^{:.2f}, fitted on batches {} ({} repetitions)\n",
        label, o.batch, FormatNs(p->latency_ns), FormatNs(p->latency_pi.lo), FormatNs(p->latency_pi.hi),
        FormatFigure(b * 1e9 / p->latency_ns), FormatFigure(b * 1e9 / p->latency_pi.hi),
        FormatFigure(b * 1e9 / p->latency_pi.lo), p->exponent,
        Join(measured, ", "), p->points);
    out += v.held_out.empty()
               ? "  leave-one-out: no measured batch could be predicted from the others\n"
               : fmt::format("  leave-one-out over {} batches: median error {:.1f}%, {:.0f}% of held-out "
                             "repetitions inside their 95% interval{}\n",
                             v.held_out.size(), v.median_abs_error * 100, v.coverage * 100,
                             v.skipped ? fmt::format(" ({} batches too far to predict)", v.skipped) : "");
    row.update({{"batch", o.batch}, {"latency_ns", p->latency_ns}, {"latency_pi", Interval(p->latency_pi)},
                {"throughput_sps", b * 1e9 / p->latency_ns},
                {"throughput_pi", ordered_json::array({b * 1e9 / p->latency_pi.hi, b * 1e9 / p->latency_pi.lo})},
                {"exponent", p->exponent}, {"points", p->points},
                {"leave_one_out", {{"held_out", v.held_out.size()}, {"skipped", v.skipped},
                                   {"median_abs_error", v.median_abs_error}, {"coverage", v.coverage}}}});
    jrows.push_back(row);
  }
  if (o.json_output) {
    ordered_json j = {{"format", "dlbench-predict"}, {"version", 1}, {"method", "batch-power-law"},
                      {"predictions", jrows}};
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
  } else {
    fmt::print("{}", TerminalSafe(out, true));
  }
  return predicted > 0 ? ExitCode::kDone : ExitCode::kSomeFailed;
}

ExitCode PredictModel(const PredictOptions& o, const std::vector<MeasuredCell>& all,
                      const std::vector<MeasuredCell>& cells) {
  std::optional<double> flops;
  for (const auto& m : all) {
    if (m.cell.model == o.model && m.cell.flops_per_sample && *m.cell.flops_per_sample > 0) {
      flops = static_cast<double>(*m.cell.flops_per_sample);
    }
  }
  if (!flops) {
    throw UserError(fmt::format("--model {}: its FLOPs per sample are unknown (no stored cell of it "
                                "in {} reports them)",
                                o.model, Join(o.dbs, ", ")));
  }
  std::map<std::string, std::pair<const MeasuredCell*, std::vector<analysis::ModelObservation>>> groups;
  std::vector<std::string> order;
  std::set<std::string> measured_target;
  for (const auto& m : cells) {
    auto key = CombinationKey(m, {"model"});
    if (m.cell.model == o.model) {
      measured_target.insert(key);
      continue;
    }
    auto [it, fresh] = groups.try_emplace(key, &m, std::vector<analysis::ModelObservation>{});
    if (fresh) order.push_back(key);
    if (m.cell.flops_per_sample && *m.cell.flops_per_sample > 0) {
      it->second.second.push_back({m.cell.model, static_cast<double>(*m.cell.flops_per_sample),
                                   ThroughputPerRepetition(m)});
    }
  }
  std::string out;
  ordered_json jrows = ordered_json::array();
  size_t predicted = 0;
  for (const auto& key : order) {
    const auto& [first, obs] = groups[key];
    std::string label = GroupLabel(*first, false);
    if (measured_target.count(key)) continue;  // measured: nothing to predict
    auto p = analysis::PredictModel(obs, *flops);
    auto v = analysis::LeaveOneModelOut(obs);
    ordered_json row = {{"configuration", label}, {"model", o.model}, {"models", obs.size()},
                        {"leave_one_out", {{"held_out", v.held_out}, {"skipped", v.skipped},
                                           {"median_abs_error", v.median_abs_error},
                                           {"coverage", v.coverage}}}};
    if (!p) {
      out += fmt::format("{}: no prediction for {}: {}\n", label, o.model, p.error());
      row["error"] = p.error();
    } else {
      ++predicted;
      out += fmt::format("{} for {} ({:.3g} FLOPs per sample): {} samples/s (95% prediction "
                         "interval {} to {}), from the achieved FLOP/s of {} measured models\n",
                         label, o.model, *flops, FormatFigure(p->throughput_sps),
                         FormatFigure(p->throughput_pi.lo), FormatFigure(p->throughput_pi.hi), p->models);
      row.update({{"throughput_sps", p->throughput_sps}, {"throughput_pi", Interval(p->throughput_pi)}});
    }
    out += v.held_out == 0
               ? "  leave-one-out: too few measured models (3 needed) to predict one from the others\n"
               : fmt::format("  leave-one-out over {} models: median error {:.1f}%, {:.0f}% of held-out "
                             "repetitions inside their 95% interval{}\n",
                             v.held_out, v.median_abs_error * 100, v.coverage * 100,
                             v.skipped ? fmt::format(" ({} models too far to predict)", v.skipped) : "");
    jrows.push_back(row);
  }
  if (order.empty()) out += "no configuration measures other models than " + o.model + "\n";
  if (o.json_output) {
    ordered_json j = {{"format", "dlbench-predict"}, {"version", 1}, {"method", "model-flops"},
                      {"predictions", jrows}};
    fmt::print("{}\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace));
  } else {
    fmt::print("{}", TerminalSafe(out, true));
  }
  return predicted > 0 ? ExitCode::kDone : ExitCode::kSomeFailed;
}

ExitCode Predict(const PredictOptions& o) {
  const bool device = !o.on_device.target.empty();
  if (o.batch <= 0 && o.model.empty() && !device) {
    throw UserError("give --batch N (another batch size), --model M (another model) or --on-device "
                    "NAME (another device)");
  }
  if (device && (o.batch > 0 || !o.model.empty())) {
    throw UserError("--on-device predicts the measured configurations on another device; give it "
                    "without --batch and --model (filter with --where instead)");
  }
  if (!device && !o.on_device.probes.empty()) throw UserError("--probe FILE goes with --on-device NAME");
  std::vector<Filter> filters;
  for (const auto& v : o.devices) filters.push_back({"device", v});
  for (const auto& v : o.frameworks) filters.push_back({"framework", v});
  for (const auto& w : o.where) filters.push_back(ParseWhere(w));
  const auto all = LoadMeasured(o.dbs);
  auto cells = Select(all, filters);
  if (device) {
    DeviceRequest r = o.on_device;
    r.json_output = o.json_output;
    return PredictOnDevice(r, cells);
  }
  if (o.batch > 0) {
    if (!o.model.empty()) cells = Select(cells, {{"model", o.model}});
    if (cells.empty()) throw UserError(fmt::format("no measured cell in {} matches the filters", Join(o.dbs, ", ")));
    return PredictBatches(o, cells);
  }
  return PredictModel(o, all, cells);
}

}  // namespace

void AddPredictCommand(CLI::App& app, ExitCode& result) {
  auto* cmd = app.add_subcommand(
      "predict", "Predict unmeasured batch sizes, models or devices from measured cells, with intervals");
  auto o = std::make_shared<PredictOptions>();
  cmd->add_option("DB", o->dbs, "SQLite database(s)")->required();
  cmd->add_option("--batch", o->batch, "predict this batch size for each configuration measured at 3+ batches");
  cmd->add_option("--model", o->model,
                  "with --batch: only this model; alone: predict this model where other models were measured");
  cmd->add_option("--on-device", o->on_device.target,
                  "predict the measured configurations on this device: part of a name in the datasheet "
                  "table (docs/peaks.md) or in a --probe file, e.g. H100");
  cmd->add_option("--probe", o->on_device.probes,
                  "with --on-device: a `dlbench doctor --probe --json` output, measured peaks of its "
                  "host's devices (repeatable; needed for a CPU)");
  cmd->add_option("--device", o->devices, "only this device: cpu, cuda, or part of its name (repeatable)");
  cmd->add_option("--framework", o->frameworks, "only this framework (repeatable)");
  cmd->add_option("--where", o->where, "AXIS=VALUE on any axis or host (repeatable)");
  cmd->add_flag("--json", o->json_output, "machine-readable output (format dlbench-predict, version 1)");
  cmd->callback([o, &result] { result = Predict(*o); });
}

}  // namespace dlb::cli
