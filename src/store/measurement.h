// Writing a repetition's workload payload (result/measurement.h): one function per payload, each
// inside the caller's transaction. The common facts are store.cc's; a new workload's payload adds
// its writer here and its tables in schema.cc, and nothing else in the store changes.
#pragma once

#include <cstdint>

#include "result/measurement.h"
#include "store/db.h"

namespace dlb::store {

void InsertMeasurement(Db& db, int64_t repetition_id, const result::Measurement& m);

}  // namespace dlb::store
