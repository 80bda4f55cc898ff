// Writing a repetition's workload payload (result/measurement.h): one function per payload, each
// inside the caller's transaction. The common facts are store.cc's; a new workload's payload adds
// its writer here and its tables in schema.cc, and nothing else in the store changes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "result/measurement.h"
#include "result/request_trace.h"
#include "store/db.h"

namespace dlb::store {

void InsertMeasurement(Db& db, int64_t repetition_id, const result::Measurement& m);

// One repetition's request traces and their chunks (the tables requests and token_chunks). A
// request is warm-up where `warmup` says so (by position), else where its own flag does.
void InsertRequests(Db& db, int64_t repetition_id, std::span<const result::RequestTrace> requests,
                    const std::vector<bool>& warmup = {});

}  // namespace dlb::store
