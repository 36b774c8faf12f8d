#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

namespace mq {

// Calibration windows as the reference draws them (mobilequant-method.md §5.1): the text is
// tokenized once (BOS at the very start only) and `count` windows of `seqLen` tokens start at
// random offsets from a seeded generator. Returns [count, seqLen] int64. Throws mq::Error when the
// text is shorter than one window.
at::Tensor sampleWindows(const std::vector<int> &ids, int count, int seqLen, uint64_t seed = 1337);

} // namespace mq
