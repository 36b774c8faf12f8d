#include "core/calib/calib_data.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <random>

namespace mq {

at::Tensor sampleWindows(const std::vector<int> &ids, int count, int seqLen, uint64_t seed)
{
    if (count <= 0 || seqLen <= 1)
        throw Error("calibration needs at least one sample of two or more tokens");
    if (int64_t(ids.size()) <= seqLen)
        throw Error("the calibration text has " + std::to_string(ids.size()) + " tokens, fewer than one window of "
                    + std::to_string(seqLen) + "; use a longer text or a smaller --seqlen");
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int64_t> start(0, int64_t(ids.size()) - seqLen - 1);
    at::Tensor out = at::empty({count, seqLen}, at::kLong);
    int64_t *p = out.data_ptr<int64_t>();
    for (int i = 0; i < count; ++i) {
        const int64_t s = start(rng);
        for (int t = 0; t < seqLen; ++t)
            p[int64_t(i) * seqLen + t] = ids[size_t(s + t)];
    }
    return out;
}

} // namespace mq
