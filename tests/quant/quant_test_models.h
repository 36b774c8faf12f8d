#pragma once

// Tiny random models of tests/model/tiny_models.h loaded through the real loader, shared by the
// quantization tests.
#include "../model/test_support.h"
#include "../model/tiny_models.h"

#include "core/model/model.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <vector>

namespace mq::test {

inline Model loadTiny(const std::string &family, uint64_t seed = 7)
{
    for (const TinyFamily &f : tinyFamilies())
        if (f.name == family)
            return loadModel(writeTinyCheckpoint(freshDir("-" + f.name), f, tinyTensors(f, seed)).string());
    throw std::runtime_error("no tiny family " + family);
}

inline at::Tensor tokenRow(const std::vector<int64_t> &v)
{
    return at::tensor(v, at::kLong).unsqueeze(0);
}

// max |a − b| / max |b|
inline double relativeDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

} // namespace mq::test
