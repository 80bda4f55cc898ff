// A repetition of a serving stack's cell ([servers.NAME] in an experiment): start the server from
// its command (through the cell's environment prefix, with the cell's environment variables), wait
// until its health check passes, drive the cell's load over HTTP, stop it and keep the tail of its
// log with the repetition; or drive an existing server at the entry's URL. Every request's token
// timestamps become the repetition's generation measurement, as an in-process engine's generate
// calls do, so show, report and compare treat both alike.
#pragma once

#include <vector>

#include "plan/registry.h"
#include "result/repetition.h"
#include "run/repetition.h"

namespace dlb::run {

// A load's traces as a repetition's measurement and outcome: each request's E2E latency is a
// sample (0 for a failed request, which is never one), the traces are stored whole; ok when any
// measured request succeeded, else failed with the failures counted in the message. The load's
// own figures come from the traces (serve/metrics.h). Shared by the serving cells and `dlbench
// load --db`.
void SetLoadOutcome(RepetitionResult& r, std::vector<result::RequestTrace> traces);

RepetitionResult RunServingRepetition(const RepetitionSpec& spec, const WorkerLaunch& launch,
                                      const plan::WorkerEntry& server);

}  // namespace dlb::run
