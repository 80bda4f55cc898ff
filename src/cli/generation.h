// The generation figures of stored cells, derived from their request traces (the tables requests and
// token_chunks) with the one set of definitions in serve/metrics.h: time to first token, time per
// output token and inter-token latency, for an in-process engine's generates and for an HTTP load
// alike. Nothing here is stored: the traces are the data, these are views of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/document.h"
#include "serve/metrics.h"
#include "serve/sweep.h"
#include "store/db.h"
#include "store/query.h"

namespace dlb::cli {

// One repetition's measured requests' values in ns: "ttft" the time to first token from the send,
// "tpot" the time per output token after it. Empty for a repetition without traces.
std::vector<double> GenerationValues(store::Db& db, int64_t repetition_id, const std::string& metric);

// The cell's figures pooled over the measured requests of its ok repetitions (see GenerationTable);
// nullopt for a cell without traces.
std::optional<report::GenerationFigures> GenerationFiguresOf(store::Db& db, const store::CellRow& c);

// One row per generation cell that has traces: output tokens/s, TTFT, TPOT and ITL pooled over the
// measured requests of its ok repetitions, each percentile with its 95% interval where the sample
// allows it; empty when no cell has traces.
std::string GenerationTable(store::Db& db, const std::vector<store::CellRow>& cells);

// "p99 TTFT (from due) <= 500 ms and p99 TPOT <= 50 ms": the limits a sweep judges each rate by.
std::string SloText(const serve::Slo& slo);

// One rate of a sweep as the table and the plot show it.
report::SweepRow SweepRowOf(double rate, const serve::LoadMetrics& m, const serve::RateVerdict& v);

// The sweep's table (rate, achieved, p99 TTFT and TPOT with intervals, tokens/s, requests/s,
// goodput, verdict), its failed requests per rate, and the answer: what `load --sweep` prints and
// `show` prints for a stored one.
std::string SweepText(const report::SweepFigures& sweep);

// A cell of a stored sweep: one rate's load (its options hold the sweep's limits). Its repetitions
// are rates, not observations of one configuration, so they are not paired as findings.
bool IsSweepCell(const store::CellRow& c);

// The stored sweeps among a run's cells (`load --sweep --db`: one cell per rate, each with the
// sweep's limits in its options), judged again from their stored traces; empty when there is none.
std::vector<report::SweepFigures> SweepsOf(store::Db& db, int64_t run_id, const std::vector<store::CellRow>& cells);

}  // namespace dlb::cli
