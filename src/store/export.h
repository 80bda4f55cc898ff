// CSV and JSON export of one run, for other tools. CSV: one row per cell (RFC 4180 quoting).
// JSON: the run, its cells, their repetitions and, on request, every raw sample; the layout is
// versioned ("format": "dlbench-run", "version": 1) and documented in docs/storage.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <span>

#include "result/request_trace.h"
#include "store/db.h"

namespace dlb::store {

void ExportCsv(Db& db, int64_t run_id, std::ostream& out);
void ExportJson(Db& db, int64_t run_id, bool with_samples, std::ostream& out);

// Request traces as JSON, one object per request with its chunks as [arrival_ns, tokens] pairs:
// the shape of a generation repetition's "requests" in the export and of `dlbench load --json`.
nlohmann::ordered_json RequestsJson(std::span<const result::RequestTrace> requests);

}  // namespace dlb::store
