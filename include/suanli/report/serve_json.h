// The JSON form of a serving result (what `serve --json` prints) and its
// per-iteration timeline as CSV. Numbers in SI base units, the unit in the key.
#pragma once

#include <string>

#include "suanli/api/serve.h"

namespace suanli {

std::string ToJson(const ServeResult& result);
// One header line and a row per iteration: start_s, seconds, pool, instance,
// decode_sequences, prefill_tokens, waiting, kv_utilization.
std::string TimelineCsv(const ServeResult& result);

}  // namespace suanli
