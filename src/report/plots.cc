#include "report/plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "report/escape.h"
#include "report/gnuplot.h"
#include "stats/descriptive.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/strings.h"

namespace dlb::report {
namespace {

namespace fs = std::filesystem;

bool IsSet(const std::string& s) {
  return !s.empty() && s != "default" && s != "-" && s != "native";
}

// Labels inside gnuplot data files are double-quoted; a '"' would end them early, and a control
// character would reach the SVG (TerminalSafe shows it, a newline included, on one line).
std::string DataLabel(const std::string& label) {
  std::string s = TerminalSafe(label);
  std::replace(s.begin(), s.end(), '"', '\'');
  return "\"" + s + "\"";
}

// The data files and scripts in the temporary directory.
void WriteFile(const fs::path& p, const std::string& text) { WriteFileAtomically(p.string(), text); }

std::string ReadFile(const fs::path& p) {
  std::string text;
  if (!dlb::ReadFile(p.string(), &text)) {
    throw EnvError(fmt::format("cannot read {}: {}", p.string(), std::strerror(errno)));
  }
  return text;
}

// gnuplot's SVGs reuse ids (gnuplot_canvas, gpDot, clip paths); several inline in one page would
// clash, so each plot's ids get its own prefix.
std::string Inline(std::string svg, const std::string& prefix) {
  auto start = svg.find("<svg");
  if (start != std::string::npos) svg.erase(0, start);
  auto replace_all = [&](const std::string& from, const std::string& to) {
    std::string out;
    size_t pos = 0, hit;
    while ((hit = svg.find(from, pos)) != std::string::npos) {
      out.append(svg, pos, hit - pos);
      out += to;
      pos = hit + from.size();
    }
    out.append(svg, pos);
    svg = std::move(out);
  };
  replace_all("id='", "id='" + prefix);
  replace_all("id=\"", "id=\"" + prefix);
  replace_all("url(#", "url(#" + prefix);
  replace_all("href='#", "href='#" + prefix);
  replace_all("href=\"#", "href=\"#" + prefix);
  return svg;
}

// A plot's size in SVG pixels. Most plots are drawn at 900 × 480 and shown a column wide; the
// opening's plot sits beside the answer, in about 500 pixels of a laptop's window, so it is drawn
// at its own, smaller size: a 900-pixel drawing scaled into half a page shrinks its labels to 8.
struct Size {
  int width_px = 900, height_px = 480;
};

struct Script {
  std::string body;  // everything after the first terminal line
  std::vector<std::string> outputs;
  std::map<std::string, Size> sizes;  // by output file; Size{} where absent
};

const char* kCommon =
    "set grid lc rgb '#dddddd'\nset key noautotitle\nset border lw 1\nset tics nomirror\n";

void Begin(Script& s, const std::string& file, const std::string& title) {
  s.outputs.push_back(file);
  s.body += fmt::format("reset\n{}@TERM_{}@\nset output @OUT_{}@\nset title {}\n", kCommon,
                        file, file, GnuplotString(title));
}

struct Unit {
  double ns;
  const char* name;
};
Unit LatencyUnit(double max_ns) {
  if (max_ns >= 1e6) return {1e6, "ms"};
  if (max_ns >= 1e3) return {1e3, "µs"};
  return {1, "ns"};
}

// One plot per model: a line per series, CI bars from the cell's median CI.
void Throughput(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  std::map<std::string, std::map<std::string, std::vector<const store::CellRow*>>> by_model;
  for (const auto& rc : in.cells) {
    if (rc.cell.p50_ns && *rc.cell.p50_ns > 0)
      by_model[rc.cell.model][SeriesLabel(rc.cell)].push_back(&rc.cell);
  }
  if (by_model.empty()) {
    set.absent.push_back(
        "Throughput vs batch size: no cell recorded a throughput, so there is no plot.");
    return;
  }
  int m_idx = 0;
  for (const auto& [model, series] : by_model) {
    std::string file = fmt::format("throughput-{}-{}", m_idx++, FileSafe(model));
    Begin(s, file, "Throughput vs batch size: " + model);
    int64_t lo = INT64_MAX, hi = 0;
    std::vector<std::string> parts;
    int s_idx = 0;
    for (const auto& [label, cells] : series) {
      std::vector<const store::CellRow*> sorted = cells;
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->batch < b->batch; });
      std::string data;
      for (const auto* c : sorted) {
        double t = static_cast<double>(c->batch) * 1e9 / *c->p50_ns, tlo = t, thi = t;
        if (c->median_ci_lo_ns && c->median_ci_hi_ns && *c->median_ci_lo_ns > 0) {
          tlo = static_cast<double>(c->batch) * 1e9 / *c->median_ci_hi_ns;
          thi = static_cast<double>(c->batch) * 1e9 / *c->median_ci_lo_ns;
        }
        data += fmt::format("{} {:.6g} {:.6g} {:.6g}\n", c->batch, t, tlo, thi);
        lo = std::min(lo, c->batch);
        hi = std::max(hi, c->batch);
      }
      std::string dat = fmt::format("{}-{}.dat", file, s_idx++);
      WriteFile(tmp / dat, data);
      parts.push_back(fmt::format("{} using 1:2:3:4 with yerrorlines lw 2 pt 7 title {}",
                                  GnuplotString(dat), GnuplotString(label)));
    }
    s.body += fmt::format(
        "set xlabel 'batch size (samples, log scale)'\nset ylabel 'throughput at the median "
        "latency (samples/s)'\n"
        "set logscale x 2\nset xrange [{}:{}]\nset yrange [0:*]\nset key outside right top\nplot "
        "{}\n",
        static_cast<double>(lo) / 1.5, static_cast<double>(hi) * 1.5, fmt::join(parts, ", \\\n  "));
    set.plots.push_back({file, "Throughput vs batch size: " + model, ""});
  }
}

void LatencyBoxes(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  std::vector<const ReportCell*> cells;
  double max_ns = 0;
  for (const auto& rc : in.cells) {
    if (rc.box) {
      cells.push_back(&rc);
      max_ns = std::max(max_ns, rc.box->p99_ns);
    }
  }
  if (cells.empty()) {
    set.absent.push_back(
        "Latency distributions at batch 1: no batch-1 cell has samples, so there is no plot.");
    return;
  }
  Unit u = LatencyUnit(max_ns);
  std::string data;
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& b = *cells[i]->box;
    data += fmt::format("{} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {}\n", i + 1, b.p1_ns / u.ns,
                        b.p25_ns / u.ns, b.p50_ns / u.ns, b.p75_ns / u.ns, b.p99_ns / u.ns,
                        DataLabel(cells[i]->cell.model + " " + SeriesLabel(cells[i]->cell)));
  }
  WriteFile(tmp / "latency.dat", data);
  std::string title = "Latency distribution per cell at batch 1";
  Begin(s, "latency-bs1", title);
  s.body += fmt::format(
      "set xlabel 'cell'\nset ylabel 'latency per call ({})'\nset xrange [0.4:{}]\nset autoscale "
      "y\n"
      "set boxwidth 0.5\nset style fill solid 0.3 border -1\nset xtics rotate by -20 noenhanced\n"
      "set key outside right top\n"
      "plot 'latency.dat' using 1:3:2:6:5:xticlabels(7) with candlesticks whiskerbars lc rgb "
      "'#3465a4' "
      "title 'box p25-p75, whiskers p1-p99', \\\n"
      "  '' using 1:4:4:4:4 with candlesticks lc rgb 'black' lw 2 title 'median', \\\n"
      "  '' using 1:6 with points pt 7 ps 1.2 lc rgb '#cc0000' title 'p99'\n",
      u.name, cells.size() + 0.6);
  set.plots.push_back({"latency-bs1", title, ""});
}

void Memory(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  std::map<std::string, std::vector<std::pair<int64_t, double>>> series;
  for (const auto& rc : in.cells) {
    const auto& c = rc.cell;
    std::string base = c.model + " " + SeriesLabel(c);
    if (c.peak_rss_bytes)
      series[base + " (host RSS)"].push_back({c.batch, *c.peak_rss_bytes / 1048576.0});
    if (c.peak_device_bytes) {
      series[base + " (device)"].push_back({c.batch, *c.peak_device_bytes / 1048576.0});
    }
  }
  if (series.empty()) {
    set.absent.push_back(
        "Peak memory vs batch size: no cell recorded its peak memory, so there is no plot.");
    return;
  }
  std::vector<std::string> parts;
  int64_t lo = INT64_MAX, hi = 0;
  int idx = 0;
  for (auto& [label, pts] : series) {
    std::sort(pts.begin(), pts.end());
    std::string data;
    for (auto [b, mib] : pts) {
      data += fmt::format("{} {:.6g}\n", b, mib);
      lo = std::min(lo, b);
      hi = std::max(hi, b);
    }
    std::string dat = fmt::format("memory-{}.dat", idx++);
    WriteFile(tmp / dat, data);
    parts.push_back(fmt::format("{} using 1:2 with linespoints lw 2 pt 7 title {}",
                                GnuplotString(dat), GnuplotString(label)));
  }
  std::string title = "Peak memory vs batch size";
  Begin(s, "memory", title);
  s.body += fmt::format(
      "set xlabel 'batch size (samples, log scale)'\nset ylabel 'peak memory (MiB)'\nset logscale "
      "x 2\n"
      "set xrange [{}:{}]\nset yrange [0:*]\nset key outside right top\nplot {}\n",
      static_cast<double>(lo) / 1.5, static_cast<double>(hi) * 1.5, fmt::join(parts, ", \\\n  "));
  set.plots.push_back({"memory", title, ""});
}

// Rows: comparison (A vs B, model, precision); columns: batch. Each cell is drawn as 2x2 image
// pixels because gnuplot's `with image` needs a grid of at least 2x2 points.
void Heatmap(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  if (in.findings.empty()) {
    set.absent.push_back(
        "Speedup heatmap: no two successful cells differ only in framework or variant, so "
        "there is nothing to compare and no plot.");
    return;
  }
  std::vector<std::string> rows;
  std::set<int64_t> batch_set;
  for (const auto& f : in.findings) {
    std::string r = fmt::format("{} vs {} · {} {}", f.b, f.a, f.model, f.precision);
    if (std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
    batch_set.insert(f.batch);
  }
  std::vector<int64_t> batches(batch_set.begin(), batch_set.end());
  std::vector<std::vector<std::optional<double>>> grid(
      rows.size(), std::vector<std::optional<double>>(batches.size()));
  std::string labels;
  double max_abs = 0.1;
  for (const auto& f : in.findings) {
    size_t r = std::find(rows.begin(), rows.end(),
                         fmt::format("{} vs {} · {} {}", f.b, f.a, f.model, f.precision)) -
               rows.begin();
    size_t c = std::find(batches.begin(), batches.end(), f.batch) - batches.begin();
    double speedup = f.ratio > 0 ? 1.0 / f.ratio : NAN;  // A's latency / B's: above 1, B is faster
    double v = std::log2(speedup);
    if (!std::isfinite(v)) continue;
    grid[r][c] = v;
    max_abs = std::max(max_abs, std::fabs(v));
    labels += fmt::format("{} {} \"{:.2f}x{}\"\n", c, r, speedup,
                          f.significant ? "" : " (n.s.)");
  }
  std::string data;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (double dy : {-0.25, 0.25}) {  // one scan line: every column's two pixels, left to right
      for (size_t c = 0; c < batches.size(); ++c) {
        for (double dx : {-0.25, 0.25}) {
          data += fmt::format("{} {} {}\n", c + dx, r + dy,
                              grid[r][c] ? fmt::format("{:.6g}", *grid[r][c]) : "NaN");
        }
      }
      data += "\n";
    }
  }
  WriteFile(tmp / "heat.dat", data);
  WriteFile(tmp / "heat-labels.dat", labels);
  std::vector<std::string> xt, yt;
  for (size_t c = 0; c < batches.size(); ++c) xt.push_back(fmt::format("'{}' {}", batches[c], c));
  for (size_t r = 0; r < rows.size(); ++r) {
    // an explicit tic label is a format string to gnuplot: a literal % is written %%
    std::string label;
    for (char ch : rows[r]) label += ch == '%' ? std::string("%%") : std::string(1, ch);
    yt.push_back(fmt::format("{} {}", GnuplotString(label), r));
  }
  std::string title = "Speedup of B over A (latency A/B), n.s. = not significant";
  Begin(s, "speedup-heatmap", title);
  s.body += fmt::format(
      "set xlabel 'batch size (samples)'\nset xtics ({})\nset ytics ({})\nset xrange [-0.5:{}]\n"
      "set yrange [-0.5:{}]\nset cbrange [{:.4g}:{:.4g}]\nset cblabel 'log2 speedup (B over A)'\n"
      "set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 1 '#b2182b')\nset grid noxtics noytics\n"
      "plot 'heat.dat' using 1:2:3 with image pixels notitle, \\\n"
      "  'heat-labels.dat' using 1:2:3 with labels font 'sans,11' notitle\n",
      Join(xt, ", "), Join(yt, ", "), batches.size() - 0.5, rows.size() - 0.5, -max_abs, max_abs);
  set.plots.push_back({"speedup-heatmap", title, ""});
}

// The opening's plot: each comparison's speedup of B over A (A's latency / B's) with its 95%
// interval on a log axis, the equivalence band shaded, one colour per verdict. Each row's label
// is written above its bar, across the plot's width, rather than as a tick label beside it, which
// took half the width; what all rows share (the model, the batch) is left out of the labels. At
// most kForestRows rows, the largest effects first, so that it fits the first screen; the figure's
// caption carries the title.
constexpr size_t kForestRows = 12;

std::string ForestLabel(const Finding& f, bool one_model, bool one_batch) {
  std::string s = f.b + " vs " + f.a + " ·";
  if (!one_model) s += " " + f.model;
  if (!one_batch) s += fmt::format(" bs{}", f.batch);
  return s + " " + f.precision;
}

void Forest(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  if (in.findings.empty()) return;  // the heatmap's sentence already says why
  std::vector<const Finding*> rows;
  for (const auto& f : in.findings) {
    if (f.ratio > 0 && std::isfinite(f.ratio)) rows.push_back(&f);
  }
  if (rows.empty()) return;
  std::stable_sort(rows.begin(), rows.end(), [](const Finding* a, const Finding* b) {
    return std::fabs(std::log(a->ratio)) > std::fabs(std::log(b->ratio));
  });
  const size_t total = rows.size();
  if (rows.size() > kForestRows) rows.resize(kForestRows);
  bool one_model = true, one_batch = true;
  for (const Finding* f : rows) {
    one_model = one_model && f->model == rows[0]->model;
    one_batch = one_batch && f->batch == rows[0]->batch;
  }
  std::string data[3], labels;  // data: B faster or slower, equivalent, not decided
  double lo = 1 / (1 + in.threshold), hi = 1 / (1 - in.threshold);
  for (const Finding* f : rows) {
    double x = 1 / f->ratio;
    lo = std::min(lo, f->ci && f->ci->lo > 0 ? 1 / f->ci->hi : x);
    hi = std::max(hi, f->ci && f->ci->lo > 0 ? 1 / f->ci->lo : x);
  }
  lo /= 1.15;
  hi *= 1.15;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Finding& f = *rows[i];
    double x = 1 / f.ratio, xlo = x, xhi = x;
    if (f.ci && f.ci->lo > 0) {
      xlo = 1 / f.ci->hi;
      xhi = 1 / f.ci->lo;
    }
    int k = f.kind == analysis::VerdictKind::kEquivalent  ? 1
            : f.kind == analysis::VerdictKind::kUndecided ? 2
                                                           : 0;
    const double y = static_cast<double>(rows.size() - i);
    data[k] += fmt::format("{} {:.6g} {:.6g} {:.6g}\n", y, x, xlo, xhi);
    labels += fmt::format("{:.6g} {} {}\n", lo * 1.02, y + 0.42,
                          DataLabel(ForestLabel(f, one_model, one_batch)));
  }
  const char* names[3] = {"difference claimed", "equivalent", "not decided"};
  const char* colours[3] = {"#b2182b", "#1a9850", "#888888"};
  std::vector<std::string> parts;
  WriteFile(tmp / "forest-labels.dat", labels);
  parts.push_back("'forest-labels.dat' using 1:2:3 with labels left font ',13' notitle");
  for (int k = 0; k < 3; ++k) {
    if (data[k].empty()) continue;
    std::string dat = fmt::format("forest-{}.dat", k);
    WriteFile(tmp / dat, data[k]);
    parts.push_back(fmt::format("{} using 2:1:3:4 with xerrorbars pt 7 ps 1.2 lw 2 lc rgb '{}' "
                                "title '{}'",
                                GnuplotString(dat), colours[k], names[k]));
  }
  std::string title = "Speedup of B over A with its 95% CI (right of 1: B faster)";
  if (one_model) title += fmt::format(", {}", rows[0]->model);
  if (one_batch) title += fmt::format(" at batch {}", rows[0]->batch);
  if (total > rows.size()) title += fmt::format("; the {} largest of {} comparisons", rows.size(), total);
  Begin(s, "findings", title);
  s.sizes["findings"] = {520, 110 + 44 * static_cast<int>(rows.size())};
  s.body += fmt::format(
      "unset title\nset xlabel 'A latency / B latency (log scale)'\nset logscale x 2\n"
      "set xrange [{:.6g}:{:.6g}]\nset yrange [0.5:{}]\nunset ytics\nset grid noytics\n"
      "set key outside bottom center horizontal\nset lmargin 2\nset rmargin 2\n"
      "set object 1 rect from {:.6g}, graph 0 to {:.6g}, graph 1 fc rgb '#e8f4e8' fs solid noborder "
      "behind\nset arrow 1 from 1, graph 0 to 1, graph 1 nohead lc rgb '#444444' dt 2\nplot {}\n",
      lo, hi, rows.size() + 0.9, 1 / (1 + in.threshold), 1 / (1 - in.threshold),
      fmt::join(parts, ", \\\n  "));
  set.plots.push_back({"findings", title, ""});
}

void Startup(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  // One bar group per framework/model/precision series, from its smallest batch.
  std::map<std::string, const store::CellRow*> first;
  for (const auto& rc : in.cells) {
    const auto& c = rc.cell;
    if (!c.load_s && !c.compile_s && !c.first_call_s) continue;
    std::string key = c.model + " " + SeriesLabel(c);
    if (!first.count(key) || c.batch < first[key]->batch) first[key] = &c;
  }
  if (first.empty()) {
    set.absent.push_back(
        "Load, compile and first-call times: no cell recorded them, so there is no plot.");
    return;
  }
  // Only the phases some cell recorded: gnuplot's histogram rejects a column with no values.
  struct Phase {
    const char* name;
    std::optional<double> store::CellRow::*field;
  };
  std::vector<Phase> phases;
  for (Phase p :
       {Phase{"load", &store::CellRow::load_s}, Phase{"compile", &store::CellRow::compile_s},
        Phase{"first call", &store::CellRow::first_call_s}}) {
    for (const auto& [key, c] : first) {
      if (c->*p.field) {
        phases.push_back(p);
        break;
      }
    }
  }
  std::string data;
  for (const auto& [key, c] : first) {
    data += DataLabel(key);
    for (const auto& p : phases)
      data += (c->*p.field) ? fmt::format(" {:.6g}", *(c->*p.field)) : " NaN";
    data += "\n";
  }
  WriteFile(tmp / "startup.dat", data);
  std::vector<std::string> parts;
  for (size_t i = 0; i < phases.size(); ++i) {
    parts.push_back(fmt::format("{} using {}{} title {}", i == 0 ? "'startup.dat'" : "''", i + 2,
                                i == 0 ? ":xtic(1)" : "", GnuplotString(phases[i].name)));
  }
  std::string title = "Load, compile and first-call time per framework and model";
  Begin(s, "startup", title);
  s.body +=
      "set ylabel 'time (s)'\nset xlabel 'framework, model (smallest batch)'\nset yrange [0:*]\n"
      "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 "
      "border -1\n"
      "set xtics rotate by -20 noenhanced\nset key outside right top\nplot " +
      Join(parts, ", ") + "\n";
  set.plots.push_back({"startup", title, ""});
}

// `terminal` is a format with the width and height in pixels as its two arguments, each plot's
// size times `scale`.
std::string WithTerminal(const Script& s, const fs::path& tmp, const fs::path& plots_dir,
                         std::string_view terminal, double scale, const std::string& ext) {
  std::string body = s.body;
  auto replace = [&](const std::string& marker, const std::string& with) {
    auto pos = body.find(marker);
    DLB_CHECK(pos != std::string::npos) << marker;
    body.replace(pos, marker.size(), with);
  };
  for (const auto& file : s.outputs) {
    auto it = s.sizes.find(file);
    const Size size = it == s.sizes.end() ? Size{} : it->second;
    replace("@TERM_" + file + "@", fmt::format(fmt::runtime(terminal), std::lround(size.width_px * scale),
                                               std::lround(size.height_px * scale)));
    replace("@OUT_" + file + "@", GnuplotString((plots_dir / (file + ext)).string()));
  }
  // `reset` keeps the directory, so it is set once before the first plot.
  return "cd " + GnuplotString(tmp.string()) + "\n" + body;
}

}  // namespace

std::string SeriesLabel(const store::CellRow& c) {
  std::string s = c.framework + " " + c.precision;
  if (!c.profile.empty()) s += " " + c.profile;
  if (IsSet(c.variant)) s += " " + c.variant;
  if (IsSet(c.layout)) s += " " + c.layout;
  if (IsSet(c.environment)) s += " [" + c.environment + "]";
  if (c.device != "cpu" && IsSet(c.device)) s += " " + c.device;
  return s;
}

// One plot per stored rate sweep: each rate's p99 TTFT (and p99 TPOT, on the right axis) against
// the throughput it achieved, the limits as dashed lines; a rate whose p99 needs more requests than
// it had is left out of its line.
void Sweeps(const ReportInput& in, const fs::path& tmp, Script& s, PlotSet& set) {
  int idx = 0;
  for (const SweepFigures& w : in.sweeps) {
    std::string data;
    bool any = false, tpot = false;
    // Each axis reaches above its limit, so that a limit line is never hidden in the border.
    double ttft_top = w.ttft_limit_ms.value_or(0), tpot_top = w.tpot_limit_ms.value_or(0);
    for (const SweepRow& r : w.rows) {
      if (!r.requests_per_s) continue;
      ttft_top = std::max(ttft_top, r.ttft_p99_ms.value_or(0));
      tpot_top = std::max(tpot_top, r.tpot_p99_ms.value_or(0));
      data += fmt::format("{:.6g} {} {} {}\n", *r.requests_per_s,
                          r.ttft_p99_ms ? fmt::format("{:.6g}", *r.ttft_p99_ms) : "NaN",
                          r.tpot_p99_ms ? fmt::format("{:.6g}", *r.tpot_p99_ms) : "NaN", DataLabel(FormatFigure(r.rate)));
      any = any || r.ttft_p99_ms || r.tpot_p99_ms;
      tpot = tpot || r.tpot_p99_ms;
    }
    if (!any) {
      set.absent.push_back(fmt::format("Latency vs throughput of the sweep in run {}: no rate had the {} measured "
                                       "requests a p99 needs, so there is no plot.",
                                       w.run_id, stats::kMinSamplesP99));
      continue;
    }
    const std::string file = fmt::format("sweep-{}", idx++);
    const std::string title = fmt::format("p99 latency vs throughput: run {} rate sweep", w.run_id);
    Begin(s, file, title);
    const std::string dat = file + ".dat";
    WriteFile(tmp / dat, data);
    std::vector<std::string> parts = {
        fmt::format("{} using 1:2 with linespoints lw 2 pt 7 title 'p99 TTFT from due'", GnuplotString(dat)),
        fmt::format("{} using 1:2:4 with labels offset 0,1 notitle", GnuplotString(dat))};
    if (tpot) {
      parts.push_back(fmt::format("{} using 1:3 axes x1y2 with linespoints lw 2 pt 5 dt 2 title 'p99 TPOT'",
                                  GnuplotString(dat)));
    }
    if (w.ttft_limit_ms) {
      parts.push_back(fmt::format("{:.6g} with lines dt 3 lc rgb '#aa0000' title 'TTFT limit'", *w.ttft_limit_ms));
    }
    if (w.tpot_limit_ms && tpot) {
      parts.push_back(fmt::format("{:.6g} axes x1y2 with lines dt 4 lc rgb '#0000aa' title 'TPOT limit'",
                                  *w.tpot_limit_ms));
    }
    s.body += fmt::format(
        "set xlabel 'requests/s completed in the measured window (each point: its target rate)'\nset ylabel "
        "'p99 TTFT from due (ms)'\n{}set yrange [0:{:.6g}]\nset key outside right top\nplot {}\n",
        tpot ? fmt::format("set y2label 'p99 TPOT (ms)'\nset y2tics\nset y2range [0:{:.6g}]\n", tpot_top * 1.15) : "",
        ttft_top * 1.15, fmt::join(parts, ", \\\n  "));
    set.plots.push_back({file, title, ""});
  }
}

PlotSet DrawPlots(const ReportInput& in, const fs::path& plots_dir, bool png) {
  RequireGnuplot();
  TempDir tmp_dir("dlbench-report");
  const fs::path tmp = tmp_dir.path();
  Script s;
  PlotSet set;
  Forest(in, tmp, s, set);
  Throughput(in, tmp, s, set);
  LatencyBoxes(in, tmp, s, set);
  Memory(in, tmp, s, set);
  Heatmap(in, tmp, s, set);
  Startup(in, tmp, s, set);
  Sweeps(in, tmp, s, set);
  if (s.outputs.empty()) return set;
  // gnuplot writes into the temporary directory; each plot is then renamed into place whole.
  const fs::path drawn = tmp;
  WriteFile(
      tmp / "plots.gp",
      WithTerminal(
          s, tmp, drawn,
          "set terminal svg size {},{} fixed font 'sans,13' background rgb 'white' noenhanced", 1,
          ".svg"));
  RunGnuplot(tmp, "plots.gp");
  if (png) {
    WriteFile(
        tmp / "plots-png.gp",
        WithTerminal(s, tmp, drawn,
                     "set terminal pngcairo size {},{} font 'sans,13' noenhanced", 4.0 / 3,
                     ".png"));
    RunGnuplot(tmp, "plots-png.gp");
  }
  for (size_t i = 0; i < set.plots.size(); ++i) {
    const std::string svg = ReadFile(drawn / (set.plots[i].file + ".svg"));
    WriteFileAtomically((plots_dir / (set.plots[i].file + ".svg")).string(), svg);
    if (png) {
      const std::string name = set.plots[i].file + ".png";
      WriteFileAtomically((plots_dir / name).string(), ReadFile(drawn / name));
    }
    set.plots[i].svg = Inline(svg, fmt::format("p{}_", i));
  }
  return set;
}

}  // namespace dlb::report
