// The report's plots, drawn by gnuplot from the report's data: throughput vs batch per model,
// batch-1 latency boxes, peak memory vs batch, the speedup heatmap, load/compile/first-call
// times, and each stored rate sweep's p99 latency vs throughput. A plot with no data is a sentence
// instead (PlotSet::absent).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "report/document.h"

namespace dlb::report {

struct Plot {
  std::string file;  // name under plots/, without extension
  std::string title;
  std::string svg;  // ready to inline: no XML prolog, ids made unique
};

struct PlotSet {
  std::vector<Plot> plots;
  std::vector<std::string> absent;  // plain-text sentences for plots without data
};

PlotSet DrawPlots(const ReportInput& in, const std::filesystem::path& plots_dir, bool png);

// Display label of a cell's series: framework, precision, and variant/layout/environment when set.
std::string SeriesLabel(const store::CellRow& c);

}  // namespace dlb::report
