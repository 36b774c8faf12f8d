#include "core/runtime/kernels.h"

#include "core/runtime/gemm.h"
#include "core/runtime/kernels_internal.h"
#include "core/runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace mq::kernels {

namespace {

std::atomic<bool> g_forceScalar { false };

// Which fast path this CPU offers, decided once.
enum class Path { Scalar, Avx512Vnni };

Path detectPath()
{
#if defined(__x86_64__)
    if (avx512::usable())
        return Path::Avx512Vnni;
#endif
    return Path::Scalar;
}

Path hardwarePath()
{
    static const Path path = detectPath();
    return path;
}

Path activePath()
{
    return g_forceScalar ? Path::Scalar : hardwarePath();
}

void checkDims(int out, int in)
{
    if (out < 0 || in < 0)
        throw std::invalid_argument(
            "packed weights need out >= 0 and in >= 0, got out=" + std::to_string(out) + " in=" + std::to_string(in));
}

void checkZeroPoints(const std::vector<int32_t> &zeroPoints, int out)
{
    if (zeroPoints.size() != 1 && zeroPoints.size() != static_cast<size_t>(out))
        throw std::invalid_argument("weight zero points: need 1 (per tensor) or " + std::to_string(out)
            + " (per output channel) values, got " + std::to_string(zeroPoints.size()));
}

int32_t saturateToInt32(int64_t v)
{
    return static_cast<int32_t>(
        std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

// Fills the per-channel sums and zero points from the plain rows, then moves the rows into the
// fast path's layout when this CPU has one (the packed form keeps one copy of the weights).
void finishPacking(PackedWeights::Impl &p, std::vector<int8_t> rows)
{
    const size_t padded = (static_cast<size_t>(p.out) + 15) / 16 * 16;
    p.rowSums = AlignedBuffer<int64_t>(padded);
    p.zeroPoints64 = AlignedBuffer<int64_t>(padded);
    for (int o = 0; o < p.out; ++o) {
        const int8_t *w = rows.data() + static_cast<size_t>(o) * p.in;
        int64_t s = 0;
        for (int k = 0; k < p.in; ++k)
            s += w[k];
        p.rowSums.data()[o] = s;
        p.zeroPoints64.data()[o] = p.zeroPoint(o);
    }
#if defined(__x86_64__)
    if (hardwarePath() == Path::Avx512Vnni) {
        if (p.int4) {
            avx512::packNibbles(p, rows.data());
            // The nibbles hold w + 8: the corrections use sum (w + 8) and zw + 8.
            for (int o = 0; o < p.out; ++o) {
                p.rowSums.data()[o] += int64_t(8) * p.in;
                p.zeroPoints64.data()[o] += 8;
            }
        } else {
            avx512::packTiles(p, rows.data());
        }
        return;
    }
#endif
    p.rows = std::move(rows);
}

// The fast integer path needs every intermediate within int64 and the int32 partial sums of
// kernels_avx512.cpp within their bounds; absurd zero points or sizes take the scalar path.
bool fitsFastPath(const PackedWeights::Impl &p, int32_t aZero, bool s16)
{
    if (s16 && !p.nibbles.empty())
        return false; // no s16 x int4 kernel: no exported variant pairs them
    if (p.tiles.empty() && p.nibbles.empty() && p.out > 0 && p.in > 0)
        return false;
    if (aZero < -65536 || aZero > 65536 || p.in > (1 << 24))
        return false;
    for (int32_t z : p.zeroPoints)
        if (z < -65536 || z > 65536)
            return false;
    return true;
}

// The portable path: the gemm.h arithmetic (exact 64-bit sums, saturated) over output channels
// [oBegin, oEnd) of every row.
template <typename Act>
void scalarIntRange(const PackedWeights::Impl &p, int rows, const Act *a, int32_t aZero, const int32_t *bias,
    int32_t *acc, int oBegin, int oEnd)
{
    const size_t in = static_cast<size_t>(p.in);
    for (int r = 0; r < rows; ++r) {
        const Act *row = a + static_cast<size_t>(r) * in;
        for (int o = oBegin; o < oEnd; ++o) {
            const int64_t wZero = p.zeroPoint(o);
            int64_t sum = bias ? bias[o] : 0;
            if (!p.rows.empty()) {
                const int8_t *w = p.rows.data() + static_cast<size_t>(o) * in;
                for (size_t k = 0; k < in; ++k)
                    sum += (int64_t(row[k]) - aZero) * (int64_t(w[k]) - wZero);
            } else {
                for (int k = 0; k < p.in; ++k)
                    sum += (int64_t(row[k]) - aZero) * (int64_t(p.weight(o, k)) - wZero);
            }
            acc[static_cast<size_t>(r) * p.out + o] = saturateToInt32(sum);
        }
    }
}

void scalarF32Range(
    const PackedF32::Impl &p, int rows, const float *a, const float *bias, float *y, int oBegin, int oEnd)
{
    const size_t in = static_cast<size_t>(p.in);
    for (int r = 0; r < rows; ++r) {
        const float *row = a + static_cast<size_t>(r) * in;
        for (int o = oBegin; o < oEnd; ++o) {
            float sum = 0;
            if (!p.rows.empty()) {
                const float *w = p.rows.data() + static_cast<size_t>(o) * in;
                for (size_t k = 0; k < in; ++k)
                    sum += row[k] * w[k];
            } else {
                for (int k = 0; k < p.in; ++k)
                    sum += row[k] * p.weight(o, k);
            }
            y[static_cast<size_t>(r) * p.out + o] = sum + (bias ? bias[o] : 0.0f);
        }
    }
}

void checkCall(int rows, const void *a, const void *acc, int in, int out)
{
    if (rows < 0)
        throw std::invalid_argument("matmul: negative row count " + std::to_string(rows));
    if (rows > 0 && ((in > 0 && !a) || (out > 0 && !acc)))
        throw std::invalid_argument("matmul: null activation or output buffer");
}

// Splits output channels over the pool, in whole 64-channel panels where there are enough of
// them (a panel is the fast kernels' unit of weight reuse), else in 16-channel blocks.
template <typename F> void overOutputs(int out, F &&f)
{
    const int threads = pool().size();
    const int align = out >= 64 * threads ? 64 : 16;
    const int parts = std::min(threads, std::max(1, (out + align - 1) / align));
    pool().run(parts, [&](int i) { f(splitPoint(out, parts, i, align), splitPoint(out, parts, i + 1, align)); });
}

// The per-call terms of the zero-point expansion, for the fast integer kernels.
template <typename Act>
void correctionTerms(const PackedWeights::Impl &p, int rows, const Act *a, int32_t aZero, const int32_t *bias,
    std::vector<int64_t> &colTerm, std::vector<int64_t> &rowSumA)
{
    colTerm.assign(static_cast<size_t>(p.blocks) * 16, 0);
    const int64_t inZa = int64_t(p.in) * aZero;
    for (int o = 0; o < p.out; ++o)
        colTerm[size_t(o)] = (bias ? bias[o] : 0) - aZero * p.rowSums.data()[o] + inZa * p.zeroPoints64.data()[o];
    rowSumA.assign(static_cast<size_t>(rows), 0);
    bool anyZero = false;
    for (int o = 0; o < p.out; ++o)
        anyZero = anyZero || p.zeroPoints64.data()[o] != 0;
    if (!anyZero)
        return; // the term is multiplied by zero
#if defined(__x86_64__)
    if (activePath() == Path::Avx512Vnni) {
        avx512::rowSums(a, rows, p.in, rowSumA.data());
        return;
    }
#endif
    for (int r = 0; r < rows; ++r) {
        const Act *row = a + static_cast<size_t>(r) * p.in;
        int64_t s = 0;
        for (int k = 0; k < p.in; ++k)
            s += row[k];
        rowSumA[size_t(r)] = s;
    }
}

template <typename Act, typename Fast>
void matmulInt(
    const PackedWeights &w, int rows, const Act *a, int32_t aZero, const int32_t *bias, int32_t *acc, Fast fast)
{
    const PackedWeights::Impl &p = w.impl();
    checkCall(rows, a, acc, p.in, p.out);
    if (rows == 0 || p.out == 0)
        return;
    if (activePath() != Path::Scalar && fitsFastPath(p, aZero, std::is_same_v<Act, int16_t>)) {
        std::vector<int64_t> colTerm, rowSumA;
        correctionTerms(p, rows, a, aZero, bias, colTerm, rowSumA);
        overOutputs(p.out,
            [&](int o0, int o1) { fast(p, rows, a, colTerm.data(), rowSumA.data(), acc, o0 / 16, (o1 + 15) / 16); });
        return;
    }
    overOutputs(p.out, [&](int o0, int o1) { scalarIntRange(p, rows, a, aZero, bias, acc, o0, o1); });
}

} // namespace

#if defined(__x86_64__)
// Here rather than in kernels_avx512.cpp, which is compiled with AVX-512 enabled and so must not
// run before this check.
bool avx512::usable()
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
}
#endif

void setThreads(int threads)
{
    pool().resize(std::max(1, threads));
}

int threads()
{
    return pool().size();
}

std::string pathName()
{
    switch (activePath()) {
    case Path::Avx512Vnni:
        return "avx512-vnni";
    case Path::Scalar:
        break;
    }
    return "scalar";
}

void forceScalar(bool scalar)
{
    g_forceScalar = scalar;
}

PackedWeights::PackedWeights()
    : m_impl(std::make_unique<Impl>())
{
}
PackedWeights::~PackedWeights() = default;
PackedWeights::PackedWeights(PackedWeights &&) noexcept = default;
PackedWeights &PackedWeights::operator=(PackedWeights &&) noexcept = default;

PackedWeights PackedWeights::fromS8(const int8_t *w, int out, int in, std::vector<int32_t> zeroPoints)
{
    checkDims(out, in);
    checkZeroPoints(zeroPoints, out);
    PackedWeights pw;
    Impl &p = *pw.m_impl;
    p.out = out;
    p.in = in;
    p.zeroPoints = std::move(zeroPoints);
    finishPacking(p, std::vector<int8_t>(w, w + static_cast<size_t>(out) * in));
    return pw;
}

PackedWeights PackedWeights::fromS4(const uint8_t *packedRows, int out, int in, std::vector<int32_t> zeroPoints)
{
    checkDims(out, in);
    checkZeroPoints(zeroPoints, out);
    PackedWeights pw;
    Impl &p = *pw.m_impl;
    p.out = out;
    p.in = in;
    p.int4 = true;
    p.zeroPoints = std::move(zeroPoints);
    // Kept as nibbles on x86 (kernels_avx512.cpp unpacks them in registers); the portable path
    // holds s8 rows.
    finishPacking(p, unpackInt4Rows(packedRows, out, in));
    return pw;
}

int PackedWeights::out() const
{
    return m_impl->out;
}
int PackedWeights::in() const
{
    return m_impl->in;
}
bool PackedWeights::isInt4() const
{
    return m_impl->int4;
}
std::size_t PackedWeights::bytes() const
{
    const Impl &p = *m_impl;
    return p.rows.size() + p.tiles.size() + p.nibbles.size() + p.zeroPoints.size() * sizeof(int32_t)
        + (p.rowSums.size() + p.zeroPoints64.size()) * sizeof(int64_t);
}

void matmul(const PackedWeights &w, int rows, const uint8_t *a, int32_t aZeroPoint, const int32_t *bias, int32_t *acc)
{
#if defined(__x86_64__)
    matmulInt(w, rows, a, aZeroPoint, bias, acc, avx512::matmulU8);
#else
    matmulInt(w, rows, a, aZeroPoint, bias, acc, [](auto &&...) {});
#endif
}

void matmul(const PackedWeights &w, int rows, const int16_t *a, int32_t aZeroPoint, const int32_t *bias, int32_t *acc)
{
#if defined(__x86_64__)
    matmulInt(w, rows, a, aZeroPoint, bias, acc, avx512::matmulS16);
#else
    matmulInt(w, rows, a, aZeroPoint, bias, acc, [](auto &&...) {});
#endif
}

namespace {

// round(acc * multiplier / 2^shift), halves away from zero, exact in 64 bits: |product| < 2^62, and
// a shift of 63 or more rounds every such product to 0.
int64_t roundedProduct(int32_t acc, int64_t multiplier, int shift)
{
    const int64_t product = int64_t(acc) * multiplier;
    if (shift == 0)
        return product;
    if (shift >= 63)
        return 0;
    const int64_t half = int64_t(1) << (shift - 1);
    return product >= 0 ? (product + half) >> shift : -((-product + half) >> shift);
}

template <typename Dst>
void requantizeAny(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, Dst *dst)
{
    if (rows < 0 || out < 0)
        throw std::invalid_argument("requantize: negative dimension");
    if (multipliers.size() != 1 && multipliers.size() != static_cast<size_t>(out))
        throw std::invalid_argument("requantize: need 1 (per tensor) or " + std::to_string(out)
            + " (per output channel) multipliers, got " + std::to_string(multipliers.size()));
    if (qmin > qmax || qmin < std::numeric_limits<Dst>::min() || qmax > std::numeric_limits<Dst>::max())
        throw std::invalid_argument("requantize: the clamp range [" + std::to_string(qmin) + ", " + std::to_string(qmax)
            + "] does not fit the destination type");
    const size_t padded = (static_cast<size_t>(out) + 7) / 8 * 8;
    std::vector<int64_t> mult(padded, 0), shift(padded, 0), half(padded, 0);
    for (int o = 0; o < out; ++o) {
        const FixedMultiplier m = multipliers[multipliers.size() == 1 ? 0 : size_t(o)];
        if (m.multiplier < 0 || m.rightShift < -31)
            throw std::invalid_argument("requantize: multiplier " + std::to_string(m.multiplier) + " with right shift "
                + std::to_string(m.rightShift) + " is outside [0, 2^31) x 2^-(31 + [-31, ...))");
        // |acc * multiplier| < 2^62, so a total shift of 63 or more rounds every product to 0: the
        // same as a zero multiplier, which keeps the vector path's shifts within 62.
        const bool vanishes = 31 + m.rightShift >= 63;
        mult[size_t(o)] = vanishes ? 0 : m.multiplier;
        shift[size_t(o)] = vanishes ? 0 : 31 + m.rightShift;
        half[size_t(o)] = shift[size_t(o)] > 0 ? int64_t(1) << (shift[size_t(o)] - 1) : 0;
    }
    if (rows == 0 || out == 0)
        return;
    // Whole rows per thread; small blocks (a decode step) stay on the calling thread.
    const int parts = std::min(pool().size(), std::max(1, int(int64_t(rows) * out / 16384)));
    const int threadsFor = std::min(parts, rows);
#if defined(__x86_64__)
    if (activePath() == Path::Avx512Vnni) {
        const avx512::RequantTables t { mult.data(), shift.data(), half.data(), zeroPoint, qmin, qmax };
        pool().run(threadsFor, [&](int i) {
            avx512::requantize(
                out, acc, t, dst, splitPoint(rows, threadsFor, i, 1), splitPoint(rows, threadsFor, i + 1, 1));
        });
        return;
    }
#endif
    pool().run(threadsFor, [&](int i) {
        for (int r = splitPoint(rows, threadsFor, i, 1); r < splitPoint(rows, threadsFor, i + 1, 1); ++r)
            for (int o = 0; o < out; ++o) {
                const size_t k = size_t(r) * size_t(out) + size_t(o);
                const int64_t v = roundedProduct(acc[k], mult[size_t(o)], int(shift[size_t(o)])) + zeroPoint;
                dst[k] = static_cast<Dst>(std::clamp<int64_t>(v, qmin, qmax));
            }
    });
}

} // namespace

void requantize(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, int32_t *dst)
{
    requantizeAny(rows, out, acc, multipliers, zeroPoint, qmin, qmax, dst);
}

void requantize(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, uint8_t *dst)
{
    requantizeAny(rows, out, acc, multipliers, zeroPoint, qmin, qmax, dst);
}

void requantize(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, int16_t *dst)
{
    requantizeAny(rows, out, acc, multipliers, zeroPoint, qmin, qmax, dst);
}

PackedF32::PackedF32()
    : m_impl(std::make_unique<Impl>())
{
}
PackedF32::~PackedF32() = default;
PackedF32::PackedF32(PackedF32 &&) noexcept = default;
PackedF32 &PackedF32::operator=(PackedF32 &&) noexcept = default;

PackedF32 PackedF32::from(const float *w, int out, int in)
{
    checkDims(out, in);
    PackedF32 pf;
    Impl &p = *pf.m_impl;
    p.out = out;
    p.in = in;
#if defined(__x86_64__)
    if (hardwarePath() == Path::Avx512Vnni) {
        avx512::packTiles(p, w);
        return pf;
    }
#endif
    p.rows.assign(w, w + static_cast<size_t>(out) * in);
    return pf;
}

int PackedF32::out() const
{
    return m_impl->out;
}
int PackedF32::in() const
{
    return m_impl->in;
}

void matmul(const PackedF32 &w, int rows, const float *a, const float *bias, float *y)
{
    const PackedF32::Impl &p = w.impl();
    checkCall(rows, a, y, p.in, p.out);
    if (rows == 0 || p.out == 0)
        return;
#if defined(__x86_64__)
    if (activePath() == Path::Avx512Vnni && (!p.tiles.empty() || p.in == 0) && p.rows.empty()) {
        overOutputs(p.out, [&](int o0, int o1) { avx512::matmulF32(p, rows, a, bias, y, o0 / 16, (o1 + 15) / 16); });
        return;
    }
#endif
    overOutputs(p.out, [&](int o0, int o1) { scalarF32Range(p, rows, a, bias, y, o0, o1); });
}

namespace {

// Splits n elements over the threads in parts of at least 64 Ki (waking a worker costs more than a
// smaller part), aligned to 16.
template <typename F> void overElements(size_t n, F &&f)
{
    const int parts = static_cast<int>(std::min<size_t>(size_t(pool().size()), std::max<size_t>(1, n / 65536)));
    if (parts <= 1) {
        f(size_t(0), n);
        return;
    }
    pool().run(parts, [&](int i) {
        const size_t b = std::min(n, n * size_t(i) / size_t(parts) / 16 * 16);
        const size_t e = i + 1 == parts ? n : std::min(n, n * size_t(i + 1) / size_t(parts) / 16 * 16);
        f(b, e);
    });
}

bool fastElementwise()
{
    return activePath() == Path::Avx512Vnni;
}

} // namespace

void add(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::AddParams &p)
{
#if defined(__x86_64__)
    if (fastElementwise() && p.shift >= 1 && p.shift <= 62 && p.ma >= 0 && p.mb >= 0 && p.ma <= (int64_t(1) << 32)
        && p.mb <= (int64_t(1) << 32)) {
        overElements(n, [&](size_t b0, size_t e) { avx512::add(a + b0, b + b0, out + b0, e - b0, p); });
        return;
    }
#endif
    intops::add(a, b, out, n, p);
}

void mul(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::MulParams &p)
{
#if defined(__x86_64__)
    const int shift = 31 + p.m.rightShift;
    if (fastElementwise() && shift >= 1 && shift <= 63 && p.m.multiplier >= 0) {
        overElements(n, [&](size_t b0, size_t e) { avx512::mul(a + b0, b + b0, out + b0, e - b0, p); });
        return;
    }
#endif
    intops::mul(a, b, out, n, p);
}

void lookup(const int32_t *in, int32_t *out, size_t n, const int32_t *table, int32_t qminIn)
{
#if defined(__x86_64__)
    if (fastElementwise()) {
        overElements(n, [&](size_t b0, size_t e) { avx512::lookup(in + b0, out + b0, e - b0, table, qminIn); });
        return;
    }
#endif
    intops::lookup(in, out, n, table, qminIn);
}

namespace {

bool mulFits(const intops::MulParams &p)
{
    const int shift = 31 + p.m.rightShift;
    return shift >= 1 && shift <= 63 && p.m.multiplier >= 0;
}

} // namespace

void gatedActivation(const int32_t *gate, const int32_t *up, int32_t *out, size_t n, const int32_t *table,
    int32_t gateMin, const intops::MulParams *silu, const intops::MulParams &glu)
{
#if defined(__x86_64__)
    if (fastElementwise() && mulFits(glu) && (!silu || mulFits(*silu))) {
        overElements(n, [&](size_t b0, size_t e) {
            avx512::gatedActivation(gate + b0, up + b0, out + b0, e - b0, table, gateMin, silu, glu);
        });
        return;
    }
#endif
    constexpr size_t kBlock = 256;
    int32_t act[kBlock], sig[kBlock];
    for (size_t i = 0; i < n; i += kBlock) {
        const size_t len = std::min(kBlock, n - i);
        if (silu) {
            intops::lookup(gate + i, sig, len, table, gateMin);
            intops::mul(gate + i, sig, act, len, *silu);
        } else {
            intops::lookup(gate + i, act, len, table, gateMin);
        }
        intops::mul(act, up + i, out + i, len, glu);
    }
}

void normRows(const int32_t *x, int32_t *y, int rows, const intops::NormParams &p)
{
    const size_t n = static_cast<size_t>(p.n);
#if defined(__x86_64__)
    bool fast = fastElementwise() && !p.layerNorm && p.bias.empty();
    for (size_t i = 0; fast && i < p.w.size(); ++i)
        fast = p.w[i] > -(1 << 18) && p.w[i] < (1 << 18);
    if (fast) {
        const int parts = std::min(pool().size(), std::max(1, int(size_t(rows) * n / 65536)));
        pool().run(parts, [&](int i) {
            const int r0 = splitPoint(rows, parts, i, 1), r1 = splitPoint(rows, parts, i + 1, 1);
            avx512::rmsNormRows(x + size_t(r0) * n, y + size_t(r0) * n, r1 - r0, p);
        });
        return;
    }
#endif
    for (int r = 0; r < rows; ++r)
        intops::normRow(x + size_t(r) * n, y + size_t(r) * n, p);
}

int64_t softmaxRow(const int32_t *codes, int count, int32_t *out, const intops::SoftmaxParams &p)
{
#if defined(__x86_64__)
    if (fastElementwise())
        return avx512::softmaxRow(codes, count, out, p);
#endif
    intops::softmaxRow(codes, count, out, p);
    int64_t sum = 0;
    for (int j = 0; j < count; ++j)
        sum += std::abs(int64_t(out[j]) - p.zOut);
    return sum;
}

void requantize64(
    size_t n, const int64_t *v, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax, int32_t *dst)
{
#if defined(__x86_64__)
    const int shift = 31 + m.rightShift;
    if (fastElementwise() && m.multiplier >= 0 && shift >= 33 && shift <= 95) {
        avx512::requantize64(n, v, m, zeroPoint, qmin, qmax, dst);
        return;
    }
#endif
    for (size_t i = 0; i < n; ++i)
        dst[i] = intops::requantize64(v[i], m, zeroPoint, qmin, qmax);
}

void softmaxF32(float *x, int n, float scale)
{
    if (n <= 0)
        return;
#if defined(__x86_64__)
    if (fastElementwise()) {
        avx512::softmaxF32(x, n, scale);
        return;
    }
#endif
    float mx = -INFINITY;
    for (int j = 0; j < n; ++j) {
        x[j] *= scale;
        mx = std::max(mx, x[j]);
    }
    double sum = 0;
    for (int j = 0; j < n; ++j) {
        x[j] = std::exp(x[j] - mx);
        sum += x[j];
    }
    const float rs = float(1.0 / sum);
    for (int j = 0; j < n; ++j)
        x[j] *= rs;
}

void siluMulF32(float *gate, const float *up, size_t n)
{
#if defined(__x86_64__)
    if (fastElementwise()) {
        overElements(n, [&](size_t b, size_t e) { avx512::siluMulF32(gate + b, up + b, e - b); });
        return;
    }
#endif
    for (size_t i = 0; i < n; ++i)
        gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

namespace {

template <typename Dst> void narrowAny(const int32_t *src, size_t n, int32_t shift, Dst *dst)
{
#if defined(__x86_64__)
    if (fastElementwise()) {
        avx512::narrowCodes(src, n, shift, dst);
        return;
    }
#endif
    for (size_t i = 0; i < n; ++i)
        dst[i] = static_cast<Dst>(src[i] - shift);
}

} // namespace

void narrowCodes(const int32_t *src, size_t n, int32_t shift, uint8_t *dst)
{
    narrowAny(src, n, shift, dst);
}

void narrowCodes(const int32_t *src, size_t n, int32_t shift, int16_t *dst)
{
    narrowAny(src, n, shift, dst);
}

void ropeHeads(
    const int32_t *x, int32_t *y, int heads, const int32_t *cosRow, const int32_t *sinRow, const intops::RopeParams &p)
{
#if defined(__x86_64__)
    const int shift = 31 + p.m.rightShift;
    if (fastElementwise() && p.rotaryDim == p.headDim && shift >= 33 && shift <= 95) {
        avx512::ropeHeads(x, y, heads, cosRow, sinRow, p);
        return;
    }
#endif
    for (int h = 0; h < heads; ++h)
        intops::ropeHead(x + size_t(h) * size_t(p.headDim), y + size_t(h) * size_t(p.headDim), cosRow, sinRow, p);
}

} // namespace mq::kernels
