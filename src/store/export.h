// CSV and JSON export of one run, for other tools. CSV: one row per cell (RFC 4180 quoting).
// JSON: the run, its cells, their repetitions and, on request, every raw sample; the layout is
// versioned ("format": "dlbench-run", "version": 1) and documented in docs/storage.md. Both are
// generated from the column tables (store/columns.h, query.cc): a figure's row there says where it
// goes, so a new figure reaches the exports and `show` without code here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <span>

#include <optional>
#include <string>
#include <vector>

#include "result/request_trace.h"
#include "store/columns.h"
#include "store/db.h"
#include "store/query.h"

namespace dlb::store {

void ExportCsv(Db& db, int64_t run_id, std::ostream& out);
void ExportJson(Db& db, int64_t run_id, bool with_samples, std::ostream& out);

// A repetition figure's value as a number; nullopt for NULL and for text.
std::optional<double> NumericValue(const RepetitionRow& row, const Column<RepetitionRow>& c);
// The repetition figures whose median over a cell's ok repetitions is a cell figure, exported as
// "<name>_median" (CSV) and under "repetition_medians" (JSON), and those medians for one cell.
const std::vector<const Column<RepetitionRow>*>& CellMedianColumns();
std::vector<std::optional<double>> CellMedians(const std::vector<RepetitionRow>& reps);
// A figure as `show` prints it, by its unit: "12.3 ms", "3.2%", "812.3 MiB", "4.5".
std::string FigureText(double v, Unit unit);

// Request traces as JSON, one object per request with its chunks as [arrival_ns, tokens] pairs:
// the shape of a generation repetition's "requests" in the export and of `dlbench load --json`.
nlohmann::ordered_json RequestsJson(std::span<const result::RequestTrace> requests);

}  // namespace dlb::store
