#pragma once

#include <cstdint>

namespace mq {

// How one site is quantized (mobilequant-method.md §1.1). Plain value type without LibTorch, so
// the precision map and the GUI can use it. `bits > 16` means "not quantized": the reference's
// quantizers are the identity above 16 bits (its default bit width is 32 = off).
struct QuantSpec
{
    int bits = 8;
    bool symmetric = false;
    bool perChannel = false; // per output row of a [out, in] weight; activations are per tensor

    bool quantized() const { return bits <= 16; }
    // Integer grid: asymmetric [0, 2^b − 1]; symmetric [−2^(b−1), 2^(b−1) − 1].
    int64_t qmin() const { return symmetric ? -(int64_t(1) << (bits - 1)) : 0; }
    int64_t qmax() const { return symmetric ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1; }

    bool operator==(const QuantSpec &o) const
    {
        return bits == o.bits && symmetric == o.symmetric && perChannel == o.perChannel;
    }
    bool operator!=(const QuantSpec &o) const { return !(*this == o); }
};

constexpr int kMinQuantBits = 2;
constexpr int kMaxQuantBits = 16;
constexpr int kDisabledBits = 32; // what a disabled site's spec holds

} // namespace mq
