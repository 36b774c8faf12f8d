#include "core/runtime/gemm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace mq {

namespace {

void checkShape(const GemmShape &shape)
{
    if (shape.rows < 0 || shape.in < 0 || shape.out < 0)
        throw std::invalid_argument("negative GEMM dimension");
}

void checkPerChannel(size_t count, int out, const char *what)
{
    if (count != 1 && count != static_cast<size_t>(out))
        throw std::invalid_argument(
            std::string(what) + " needs 1 or " + std::to_string(out) + " values, got " + std::to_string(count));
}

int32_t saturateToInt32(int64_t v)
{
    return static_cast<int32_t>(
        std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

// One loop for every operand format: weightAt(o, k) yields W[o][k] as an int32.
template <typename Act, typename WeightAt>
void referenceGemm(const GemmShape &shape, const Act *a, int32_t aZeroPoint, WeightAt weightAt,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc)
{
    checkShape(shape);
    checkPerChannel(wZeroPoints.size(), shape.out, "weight zero points");
    const bool perChannel = wZeroPoints.size() != 1;
    for (int r = 0; r < shape.rows; ++r) {
        const Act *row = a + static_cast<size_t>(r) * shape.in;
        for (int o = 0; o < shape.out; ++o) {
            const int64_t wZero = wZeroPoints[perChannel ? o : 0];
            int64_t sum = bias ? bias[o] : 0;
            for (int k = 0; k < shape.in; ++k)
                sum += (int64_t(row[k]) - aZeroPoint) * (int64_t(weightAt(o, k)) - wZero);
            acc[static_cast<size_t>(r) * shape.out + o] = saturateToInt32(sum);
        }
    }
}

template <typename Dst>
void requantizeMatrix(const GemmShape &shape, const int32_t *acc, const OutputQuant &quant, Dst *dst)
{
    checkShape(shape);
    checkPerChannel(quant.multipliers.size(), shape.out, "output multipliers");
    if (quant.qmin > quant.qmax || quant.qmin < std::numeric_limits<Dst>::min()
        || quant.qmax > std::numeric_limits<Dst>::max())
        throw std::invalid_argument("output clamp range does not fit the output type");
    const bool perChannel = quant.multipliers.size() != 1;
    for (int r = 0; r < shape.rows; ++r)
        for (int o = 0; o < shape.out; ++o) {
            const size_t i = static_cast<size_t>(r) * shape.out + o;
            dst[i] = static_cast<Dst>(
                requantize(acc[i], quant.multipliers[perChannel ? o : 0], quant.zeroPoint, quant.qmin, quant.qmax));
        }
}

} // namespace

void gemmU8S8(const GemmShape &shape, const uint8_t *a, int32_t aZeroPoint, const int8_t *w,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc)
{
    const size_t in = static_cast<size_t>(shape.in);
    referenceGemm(
        shape, a, aZeroPoint, [&](int o, int k) { return w[o * in + k]; }, wZeroPoints, bias, acc);
}

void gemmS16S8(const GemmShape &shape, const int16_t *a, int32_t aZeroPoint, const int8_t *w,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc)
{
    const size_t in = static_cast<size_t>(shape.in);
    referenceGemm(
        shape, a, aZeroPoint, [&](int o, int k) { return w[o * in + k]; }, wZeroPoints, bias, acc);
}

void gemmU8S4(const GemmShape &shape, const uint8_t *a, int32_t aZeroPoint, const uint8_t *packedW,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc)
{
    const size_t rowBytes = int4RowBytes(shape.in);
    referenceGemm(
        shape, a, aZeroPoint, [&](int o, int k) { return int4At(packedW + o * rowBytes, k); }, wZeroPoints, bias, acc);
}

std::vector<uint8_t> packInt4Rows(const int8_t *w, int out, int in)
{
    checkShape(GemmShape { 0, in, out });
    const size_t rowBytes = int4RowBytes(in);
    std::vector<uint8_t> packed(rowBytes * static_cast<size_t>(out), 0);
    for (int o = 0; o < out; ++o)
        for (int k = 0; k < in; ++k) {
            const int8_t v = w[static_cast<size_t>(o) * in + k];
            if (v < -8 || v > 7)
                throw std::invalid_argument("int4 weight out of [-8, 7]: " + std::to_string(v));
            packed[o * rowBytes + k / 2] |= static_cast<uint8_t>((v & 0xF) << ((k % 2) * 4));
        }
    return packed;
}

std::vector<int8_t> unpackInt4Rows(const uint8_t *packed, int out, int in)
{
    checkShape(GemmShape { 0, in, out });
    const size_t rowBytes = int4RowBytes(in);
    std::vector<int8_t> w(static_cast<size_t>(out) * in);
    for (int o = 0; o < out; ++o)
        for (int k = 0; k < in; ++k)
            w[static_cast<size_t>(o) * in + k] = int4At(packed + o * rowBytes, k);
    return w;
}

OutputQuant makeOutputQuant(double actScale, const std::vector<double> &weightScales, double outScale,
    int32_t outZeroPoint, int32_t qmin, int32_t qmax)
{
    if (weightScales.empty())
        throw std::invalid_argument("no weight scales");
    OutputQuant quant;
    quant.zeroPoint = outZeroPoint;
    quant.qmin = qmin;
    quant.qmax = qmax;
    for (double ws : weightScales)
        quant.multipliers.push_back(decomposeMultiplier(actScale * ws / outScale));
    return quant;
}

std::vector<int32_t> quantizeBias(
    const std::vector<double> &bias, double actScale, const std::vector<double> &weightScales)
{
    checkPerChannel(weightScales.size(), static_cast<int>(bias.size()), "weight scales");
    std::vector<int32_t> q(bias.size());
    for (size_t o = 0; o < bias.size(); ++o) {
        const double scaled = bias[o] / (actScale * weightScales[weightScales.size() == 1 ? 0 : o]);
        // std::round rounds halves away from zero; clamp in double before converting.
        const double clamped = std::clamp(std::round(scaled), double(std::numeric_limits<int32_t>::min()),
            double(std::numeric_limits<int32_t>::max()));
        q[o] = static_cast<int32_t>(clamped);
    }
    return q;
}

void requantizeToU8(const GemmShape &shape, const int32_t *acc, const OutputQuant &quant, uint8_t *dst)
{
    requantizeMatrix(shape, acc, quant, dst);
}

void requantizeToS16(const GemmShape &shape, const int32_t *acc, const OutputQuant &quant, int16_t *dst)
{
    requantizeMatrix(shape, acc, quant, dst);
}

} // namespace mq
