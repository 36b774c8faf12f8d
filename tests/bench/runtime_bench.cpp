// Matrix-product throughput of the runtime's kernels (core/runtime/kernels.h) at TinyLlama-1.1B
// widths, against this CPU's measured int8 peak, and, where the libraries were found at configure
// time, the same products through oneDNN (u8 x s8 -> s32) and OpenBLAS (sgemm) for comparison.
// A benchmark, not a test: it prints a table and, with --json FILE, writes the figures.
//
//   mq_runtime_bench [--json FILE] [--quick] [--no-alternatives] [--min-seconds S] [--layer SUBSTRING]
//                    [--rows N]... [--threads N]...

#include "core/runtime/gemm.h"
#include "core/runtime/kernels.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(MQ_BENCH_HAVE_DNNL)
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if defined(MQ_BENCH_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing
{
    double best = 0; // fastest run: what the kernel does when it has the cores
    double median = 0; // typical run, including interference from other processes
    double cpuBest = 0; // least CPU time of the process in one run: with one thread, the run's
                        // time without the periods another process held the core
    int runs = 0;
};

double processCpuSeconds()
{
    timespec t {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// One call to `f` timed repeatedly after one warm-up, for at least minSeconds and 5 runs. The
// machine is shared (2 cores, other builds running), so the best run is the headline figure and
// the median says how noisy it was.
Timing timeRuns(const std::function<void()> &f, double minSeconds)
{
    f();
    std::vector<double> runs;
    double cpuBest = 1e30;
    const Clock::time_point start = Clock::now();
    while (runs.size() < 5 || (secondsSince(start) < minSeconds && runs.size() < 1000)) {
        const double c0 = processCpuSeconds();
        const Clock::time_point t0 = Clock::now();
        f();
        runs.push_back(secondsSince(t0));
        cpuBest = std::min(cpuBest, processCpuSeconds() - c0);
    }
    std::sort(runs.begin(), runs.end());
    return Timing { runs.front(), runs[runs.size() / 2], cpuBest, static_cast<int>(runs.size()) };
}

// Runs `body(thread)` on n threads at once and returns the wall time.
double onThreads(int n, const std::function<void(int)> &body)
{
    std::vector<std::thread> workers;
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < n; ++i)
        workers.emplace_back(body, i);
    for (std::thread &t : workers)
        t.join();
    return secondsSince(t0);
}

#if defined(__x86_64__)
// Register-resident loops of one instruction over 12 independent accumulators (named variables:
// GCC keeps an array of vectors on the stack, which would measure store-to-load latency instead):
// the throughput a perfect kernel could reach, with no loads and no dependencies between
// neighbouring instructions. ops = 2 x multiply-adds per lane.
#define MQ_PEAK_BODY(OP)                                                                                               \
    for (long i = 0; i < iterations; ++i) {                                                                            \
        x0 = OP(x0, a, b);                                                                                             \
        x1 = OP(x1, a, b);                                                                                             \
        x2 = OP(x2, a, b);                                                                                             \
        x3 = OP(x3, a, b);                                                                                             \
        x4 = OP(x4, a, b);                                                                                             \
        x5 = OP(x5, a, b);                                                                                             \
        x6 = OP(x6, a, b);                                                                                             \
        x7 = OP(x7, a, b);                                                                                             \
        x8 = OP(x8, a, b);                                                                                             \
        x9 = OP(x9, a, b);                                                                                             \
        x10 = OP(x10, a, b);                                                                                           \
        x11 = OP(x11, a, b);                                                                                           \
        __asm__ volatile("" : "+v"(x0), "+v"(x1), "+v"(x2), "+v"(x3), "+v"(x4), "+v"(x5));                             \
        __asm__ volatile("" : "+v"(x6), "+v"(x7), "+v"(x8), "+v"(x9), "+v"(x10), "+v"(x11));                           \
    }

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t dpbusdLoop(long iterations)
{
    __m512i x0 = _mm512_setzero_si512(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0, x8 = x0,
            x9 = x0, x10 = x0, x11 = x0;
    const __m512i a = _mm512_set1_epi32(0x01020304), b = _mm512_set1_epi32(0x01FF01FF);
    MQ_PEAK_BODY(_mm512_dpbusd_epi32)
    alignas(64) int32_t lanes[16];
    _mm512_store_si512(lanes,
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(x0, x1), _mm512_add_epi32(x2, x3)),
            _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(x4, x5), _mm512_add_epi32(x6, x7)),
                _mm512_add_epi32(_mm512_add_epi32(x8, x9), _mm512_add_epi32(x10, x11)))));
    return lanes[0];
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t dpwssdLoop(long iterations)
{
    __m512i x0 = _mm512_setzero_si512(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0, x8 = x0,
            x9 = x0, x10 = x0, x11 = x0;
    const __m512i a = _mm512_set1_epi32(0x00020003), b = _mm512_set1_epi32(0x00050007);
    MQ_PEAK_BODY(_mm512_dpwssd_epi32)
    alignas(64) int32_t lanes[16];
    _mm512_store_si512(lanes,
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(x0, x1), _mm512_add_epi32(x2, x3)),
            _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(x4, x5), _mm512_add_epi32(x6, x7)),
                _mm512_add_epi32(_mm512_add_epi32(x8, x9), _mm512_add_epi32(x10, x11)))));
    return lanes[0];
}

__attribute__((target("avx512f,fma"))) static inline __m512 fmaOp(__m512 x, __m512 a, __m512 b)
{
    return _mm512_fmadd_ps(x, a, b);
}

__attribute__((target("avx512f,fma"))) int64_t fmaLoop(long iterations)
{
    __m512 x0 = _mm512_setzero_ps(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0, x8 = x0, x9 = x0,
           x10 = x0, x11 = x0;
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
    MQ_PEAK_BODY(fmaOp)
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes,
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)),
            _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x4, x5), _mm512_add_ps(x6, x7)),
                _mm512_add_ps(_mm512_add_ps(x8, x9), _mm512_add_ps(x10, x11)))));
    return static_cast<int64_t>(lanes[0]);
}
#undef MQ_PEAK_BODY

struct Peaks
{
    double int8[3] = {}; // GOP/s with 1 and 2 threads (index = threads)
    double int16[3] = {};
    double f32[3] = {};
};

Peaks measurePeaks()
{
    Peaks p;
    if (!__builtin_cpu_supports("avx512vnni"))
        return p;
    // Short runs, best of many: on a shared machine the best run is the one that had its cores.
    const long iterations = 500000;
    std::atomic<int64_t> sink { 0 };
    for (int threads : { 1, 2 }) {
        auto best = [&](int64_t (*loop)(long)) {
            double t = 1e30;
            for (int rep = 0; rep < 100; ++rep)
                t = std::min(t, onThreads(threads, [&](int) { sink += loop(iterations); }));
            return t;
        };
        const double instructions = double(iterations) * 12 * threads;
        p.int8[threads] = instructions * 64 * 2 / best(dpbusdLoop) / 1e9;
        p.int16[threads] = instructions * 32 * 2 / best(dpwssdLoop) / 1e9;
        p.f32[threads] = instructions * 16 * 2 / best(fmaLoop) / 1e9;
    }
    // The cores are independent, so the 2-thread peak is twice the 1-thread one; a 2-thread loop
    // that never had both cores at once (a busy shared machine) would understate it.
    for (double *peak : { p.int8, p.int16, p.f32 }) {
        peak[1] = std::max(peak[1], peak[2] / 2);
        peak[2] = 2 * peak[1];
    }
    return p;
}
#else
struct Peaks
{
    double int8[3] = {};
    double int16[3] = {};
    double f32[3] = {};
};
Peaks measurePeaks()
{
    return {};
}
#endif

struct LayerShape
{
    const char *name;
    int in, out;
};

// TinyLlama-1.1B: hidden 2048, intermediate 5632, 4 kv heads x 64 = 256.
const LayerShape kLayers[] = {
    { "q_proj/o_proj", 2048, 2048 },
    { "k_proj/v_proj", 2048, 256 },
    { "gate_proj/up_proj", 2048, 5632 },
    { "down_proj", 5632, 2048 },
};

template <typename T> std::vector<T> randomInts(size_t n, int lo, int hi, std::mt19937 &rng)
{
    std::uniform_int_distribution<int> d(lo, hi);
    std::vector<T> v(n);
    for (T &x : v)
        x = static_cast<T>(d(rng));
    return v;
}

struct Row
{
    std::string impl, type, layer;
    int rows = 0, in = 0, out = 0, threads = 0;
    double seconds = 0; // best run
    double medianSeconds = 0;
    double cpuSeconds = 0; // least process CPU time of a run (meaningful for 1 thread)
    int runs = 0;
    double gops = 0; // at the best run
    double int8PeakFraction = 0;
    bool exact = true; // integer result equal to the runtime's kernels (alternatives)

    void setTiming(const Timing &t)
    {
        seconds = t.best;
        medianSeconds = t.median;
        cpuSeconds = t.cpuBest;
        runs = t.runs;
    }
};

// Decode (rows = 1) streams every weight once per call, so it is timed over enough copies of the
// weights to exceed the L3 cache (32 MiB here): otherwise the figure would be the cache's, not the
// memory's, which is what a real model's decode step sees.
int copiesFor(int rows, size_t weightBytes)
{
    if (rows > 1)
        return 1;
    const size_t target = size_t(96) << 20;
    return static_cast<int>(std::clamp<size_t>(target / std::max<size_t>(weightBytes, 1), 1, 64));
}

} // namespace

int main(int argc, char **argv)
{
    std::string jsonPath;
    bool quick = false, alternatives = true;
    double minSeconds = 0.3;
    std::string layerFilter;
    std::vector<int> onlyRows, threadCounts;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--json" && i + 1 < argc)
            jsonPath = argv[++i];
        else if (arg == "--quick")
            quick = true;
        else if (arg == "--no-alternatives")
            alternatives = false;
        else if (arg == "--min-seconds" && i + 1 < argc)
            minSeconds = std::stod(argv[++i]);
        else if (arg == "--layer" && i + 1 < argc)
            layerFilter = argv[++i];
        else if (arg == "--rows" && i + 1 < argc)
            onlyRows.push_back(std::stoi(argv[++i]));
        else if (arg == "--threads" && i + 1 < argc)
            threadCounts.push_back(std::stoi(argv[++i]));
        else {
            std::cerr << "usage: mq_runtime_bench [--json FILE] [--quick] [--no-alternatives] [--min-seconds S]"
                         " [--layer SUBSTRING] [--rows N]... [--threads N]...\n"
                      << "unknown argument: " << arg << "\n";
            return 2;
        }
    }

    std::cout << "kernel path: " << mq::kernels::pathName() << "\n";
    const Peaks peaks = measurePeaks();
    std::printf("measured peak (register-resident loop, 12 independent accumulators, best of 100; 2 threads = 2 x 1 "
                "thread):\n");
    std::printf("  int8 VPDPBUSD : %8.1f GOP/s (1 thread) %8.1f GOP/s (2 threads)\n", peaks.int8[1], peaks.int8[2]);
    std::printf("  int16 VPDPWSSD: %8.1f GOP/s (1 thread) %8.1f GOP/s (2 threads)\n", peaks.int16[1], peaks.int16[2]);
    std::printf("  f32 FMA       : %8.1f GOP/s (1 thread) %8.1f GOP/s (2 threads)\n", peaks.f32[1], peaks.f32[2]);

    const std::vector<int> rowCounts = !onlyRows.empty() ? onlyRows
        : quick                                          ? std::vector<int> { 1, 256 }
                                                         : std::vector<int> { 1, 256, 1024 };
    if (threadCounts.empty())
        threadCounts = { 1, 2 };
    std::vector<Row> results;
    std::mt19937 rng(5);
    std::printf("\nGOP/s and %%int8 at the best wall-clock run; cpu ms = least CPU time of a run (1 thread: the\n"
                "time with the core to itself on this shared machine), cpuGOP/s from it.\n");
    std::printf("%-8s %-6s %-18s %5s %5s %5s %3s %9s %9s %9s %9s %6s %9s\n", "impl", "type", "layer", "rows", "in",
        "out", "thr", "best ms", "median ms", "cpu ms", "GOP/s", "%int8", "cpuGOP/s");
    auto report = [&](Row r) {
        r.gops = 2.0 * r.rows * r.in * r.out / r.seconds / 1e9;
        const double peak = peaks.int8[std::min(r.threads, 2)];
        r.int8PeakFraction = peak > 0 ? r.gops / peak : 0;
        const double cpuGops
            = r.threads == 1 && r.cpuSeconds > 0 ? 2.0 * r.rows * r.in * r.out / r.cpuSeconds / 1e9 : 0;
        std::printf("%-8s %-6s %-18s %5d %5d %5d %3d %9.3f %9.3f %9.3f %9.1f %5.1f%% %9.1f%s\n", r.impl.c_str(),
            r.type.c_str(), r.layer.c_str(), r.rows, r.in, r.out, r.threads, r.seconds * 1e3, r.medianSeconds * 1e3,
            r.cpuSeconds * 1e3, r.gops, 100 * r.int8PeakFraction, cpuGops, r.exact ? "" : "  (NOT EXACT)");
        std::fflush(stdout);
        results.push_back(r);
    };

    for (const LayerShape &layer : kLayers) {
        if (std::string(layer.name).find(layerFilter) == std::string::npos)
            continue;
        const size_t wCount = size_t(layer.in) * layer.out;
        const auto w8 = randomInts<int8_t>(wCount, -127, 127, rng);
        const auto w4 = randomInts<int8_t>(wCount, -8, 7, rng);
        const auto packed4 = mq::packInt4Rows(w4.data(), layer.out, layer.in);
        std::vector<float> wf(wCount);
        for (size_t i = 0; i < wCount; ++i)
            wf[i] = w8[i] / 127.0f;
        const int maxCopies = copiesFor(1, wCount);
        std::vector<mq::kernels::PackedWeights> p8, p4;
        std::vector<mq::kernels::PackedF32> pf;
        for (int c = 0; c < maxCopies; ++c) {
            p8.push_back(mq::kernels::PackedWeights::fromS8(w8.data(), layer.out, layer.in, { 0 }));
            p4.push_back(mq::kernels::PackedWeights::fromS4(packed4.data(), layer.out, layer.in, { 0 }));
            pf.push_back(mq::kernels::PackedF32::from(wf.data(), layer.out, layer.in));
        }
        for (int rows : rowCounts) {
            const auto a8 = randomInts<uint8_t>(size_t(rows) * layer.in, 0, 255, rng);
            const auto a16 = randomInts<int16_t>(size_t(rows) * layer.in, -32768, 32767, rng);
            std::vector<float> af(a8.size());
            for (size_t i = 0; i < af.size(); ++i)
                af[i] = (a8[i] - 128) / 64.0f;
            const auto bias = randomInts<int32_t>(size_t(layer.out), -100000, 100000, rng);
            std::vector<int32_t> acc(size_t(rows) * layer.out), reference(acc.size());
            std::vector<float> y(acc.size());
            const int copies = rows == 1 ? maxCopies : 1;
            for (int threads : threadCounts) {
                mq::kernels::setThreads(threads);
                Row r { "mq", "", layer.name, rows, layer.in, layer.out, threads };
                int c = 0;
                r.type = "u8s8";
                r.setTiming(timeRuns(
                    [&] {
                        mq::kernels::matmul(p8[size_t(c++ % copies)], rows, a8.data(), 128, bias.data(), acc.data());
                    },
                    minSeconds));
                report(r);
                if (threads == 1) { // the oneDNN comparison checks its integers against these
                    mq::kernels::matmul(p8[0], rows, a8.data(), 128, nullptr, reference.data());
                }
                r.type = "u8s4";
                r.setTiming(timeRuns(
                    [&] {
                        mq::kernels::matmul(p4[size_t(c++ % copies)], rows, a8.data(), 128, bias.data(), acc.data());
                    },
                    minSeconds));
                report(r);
                r.type = "s16s8";
                r.setTiming(timeRuns(
                    [&] {
                        mq::kernels::matmul(p8[size_t(c++ % copies)], rows, a16.data(), 0, bias.data(), acc.data());
                    },
                    minSeconds));
                report(r);
                r.type = "f32";
                r.setTiming(
                    timeRuns([&] { mq::kernels::matmul(pf[size_t(c++ % copies)], rows, af.data(), nullptr, y.data()); },
                        minSeconds));
                report(r);
            }
            mq::kernels::setThreads(1);
            if (!alternatives)
                continue;
#if defined(MQ_BENCH_HAVE_OPENBLAS)
            for (int threads : threadCounts) {
                openblas_set_num_threads(threads);
                Row r { "openblas", "f32", layer.name, rows, layer.in, layer.out, threads };
                std::vector<std::vector<float>> copiesF(size_t(copies), wf);
                int c = 0;
                r.setTiming(timeRuns(
                    [&] {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, layer.out, layer.in, 1.0f, af.data(),
                            layer.in, copiesF[size_t(c++ % copies)].data(), layer.in, 0.0f, y.data(), layer.out);
                    },
                    minSeconds));
                report(r);
            }
#endif
#if defined(MQ_BENCH_HAVE_DNNL)
            {
                using namespace dnnl;
                using dt = memory::data_type;
                using tag = memory::format_tag;
                engine eng(engine::kind::cpu, 0);
                stream strm(eng);
                const memory::dim M = rows, K = layer.in, N = layer.out;
                primitive_attr attr;
                attr.set_zero_points(DNNL_ARG_SRC, 0, { DNNL_RUNTIME_S32_VAL });
                const matmul::desc desc(memory::desc({ M, K }, dt::u8, tag::ab),
                    memory::desc({ K, N }, dt::s8, tag::any), memory::desc({ M, N }, dt::s32, tag::ab));
                const matmul::primitive_desc pd(desc, attr, eng);
                // Our [out, in] rows are oneDNN's [K, N] weights in the "ba" order; reordered once,
                // as a runtime would at load.
                memory userW(memory::desc({ K, N }, dt::s8, tag::ba), eng, const_cast<int8_t *>(w8.data()));
                std::vector<memory> wCopies;
                for (int c = 0; c < copies; ++c) {
                    wCopies.emplace_back(pd.weights_desc(), eng);
                    reorder(userW, wCopies.back()).execute(strm, userW, wCopies.back());
                }
                memory src(pd.src_desc(), eng, const_cast<uint8_t *>(a8.data()));
                std::vector<int32_t> dnnlOut(acc.size());
                memory dst(pd.dst_desc(), eng, dnnlOut.data());
                int32_t zeroPoint = 128;
                memory zp(memory::desc({ 1 }, dt::s32, tag::x), eng, &zeroPoint);
                const matmul prim(pd);
                for (int threads : threadCounts) {
                    omp_set_num_threads(threads);
                    Row r { "onednn", "u8s8", layer.name, rows, layer.in, layer.out, threads };
                    int c = 0;
                    r.setTiming(timeRuns(
                        [&] {
                            prim.execute(strm,
                                { { DNNL_ARG_SRC, src }, { DNNL_ARG_WEIGHTS, wCopies[size_t(c++ % copies)] },
                                    { DNNL_ARG_DST, dst }, { DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp } });
                            strm.wait();
                        },
                        minSeconds));
                    r.exact = dnnlOut == reference;
                    report(r);
                }
            }
#endif
        }
    }

    if (!jsonPath.empty()) {
        nlohmann::json j;
        j["kernel_path"] = mq::kernels::pathName();
        j["peak_gops"]
            = { { "method",
                    "register-resident loop of one instruction, 12 independent accumulators, "
                    "best of 100 runs; the 2-thread peak is twice the 1-thread one; ops = 2 x multiply-adds" },
                  { "int8_vpdpbusd", { { "1", peaks.int8[1] }, { "2", peaks.int8[2] } } },
                  { "int16_vpdpwssd", { { "1", peaks.int16[1] }, { "2", peaks.int16[2] } } },
                  { "f32_fma", { { "1", peaks.f32[1] }, { "2", peaks.f32[2] } } } };
        nlohmann::json rows = nlohmann::json::array();
        for (const Row &r : results)
            rows.push_back({ { "impl", r.impl }, { "type", r.type }, { "layer", r.layer }, { "rows", r.rows },
                { "in", r.in }, { "out", r.out }, { "threads", r.threads }, { "seconds_best", r.seconds },
                { "seconds_median", r.medianSeconds }, { "cpu_seconds_best", r.cpuSeconds }, { "runs", r.runs },
                { "gops", r.gops }, { "int8_peak_fraction", r.int8PeakFraction }, { "exact", r.exact } });
        j["results"] = rows;
        std::ofstream out(jsonPath);
        out << j.dump(2) << "\n";
        if (!out) {
            std::cerr << "cannot write " << jsonPath << "\n";
            return 1;
        }
        std::cout << "wrote " << jsonPath << "\n";
    }
    return 0;
}
