// The serving side's names for the request trace, which lives with the other result types
// (result/request_trace.h) because the store writes it and the engines' generates produce it too.
#pragma once

#include "result/request_trace.h"

namespace dlb::serve {

using result::Chunk;
using result::kTokensFromChunks;
using result::kTokensFromLogprobs;
using result::kTokensFromUsage;
using result::RequestTrace;

}  // namespace dlb::serve
