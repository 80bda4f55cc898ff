// CSV and JSON export of one run, for other tools. CSV: one row per cell (RFC 4180 quoting).
// JSON: the run, its cells, their repetitions and, on request, every raw sample; the layout is
// versioned ("format": "dlbench-run", "version": 1) and documented in docs/storage.md.
#pragma once

#include <cstdint>
#include <ostream>

#include "store/db.h"

namespace dlb::store {

void ExportCsv(Db& db, int64_t run_id, std::ostream& out);
void ExportJson(Db& db, int64_t run_id, bool with_samples, std::ostream& out);

}  // namespace dlb::store
