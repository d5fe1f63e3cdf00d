// Device memory of a serving deployment: what the weights, the runtime's
// reserve and the workspace of the largest pass take, and what is left for
// the KV cache. The analytical estimator (infer.h) and the serving simulator
// (serve/) size their KV cache from the same figures.
#pragma once

#include "suanli/infer/iteration.h"

namespace suanli {

struct ServingMemory {  // per device, bytes
  double capacity = 0;
  double weights = 0;
  double activations = 0;  // the largest pass's workspace and the per-sequence buffers
  double reserved = 0;     // the runtime's fixed reserve and the share of the rest it keeps free
  double kv_cache = 0;     // what is left: capacity - weights - activations - reserved (0 when negative)
};

// For passes of at most `pass_tokens` tokens and `sequences` sequences per
// attention replica (one DP rank).
ServingMemory ServingMemoryFor(const IterationModel& model, double pass_tokens, double sequences);

}  // namespace suanli
