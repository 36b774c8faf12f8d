// Calibration throughput of the end-to-end method: time per training step (forward + backward
// through every layer + AdamW), tokens/s and peak memory, on stories260K and on a random-weight
// model with TinyLlama-1.1B's layer shapes (fewer layers). A benchmark, not a test: it prints JSON.
//
//   mq_calib_bench [--layers N] [--seqlen T] [--steps S] [--threads N] [--checkpoint-layers]
#include "core/calib/calibration_context.h"
#include "core/model/model.h"
#include "core/util/process_env.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sys/resource.h>
#include <thread>

using namespace mq;

namespace {

class StepTimes : public CalibrationObserver
{
public:
    void stage(const std::string &) override {}
    void step(const StepEvent &e) override { seconds.push_back(e.seconds); }
    void snapshot(const SnapshotEvent &) override {}
    void checkpoint(int64_t, const std::map<std::string, std::vector<float>> &,
                    const std::map<std::string, std::vector<int64_t>> &) override
    {
    }
    std::vector<double> seconds;
};

double peakRssMiB()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

nlohmann::json measure(const std::string &name, const ModelConfig &config, const ModelWeights &weights, int seqLen,
                       int steps, bool checkpoint)
{
    Transformer model(config, weights);
    at::Generator gen = at::detail::createCPUGenerator(7);
    at::Tensor samples = at::randint(3, config.vocabSize, {steps, seqLen}, gen, at::kLong);
    StepTimes times;
    CalibrationContext ctx(model, samples, PrecisionMap(WeightPreset::W8A8), &times, nullptr);
    ctx.snapshotEvery = 0;
    ctx.checkpointEvery = 0;
    TrainSettings s;
    s.epochs = 1;
    s.checkpointLayers = checkpoint;
    const double rssBefore = peakRssMiB();
    makeEndToEndMethod(s)->run(ctx);
    // The first step pays for allocations; time the rest.
    const double perStep = steps > 1 ? (times.seconds.back() - times.seconds.front()) / double(steps - 1)
                                     : times.seconds.back();
    return {{"model", name},
            {"layers", config.numLayers},
            {"hidden", config.hiddenSize},
            {"intermediate", config.intermediateSize},
            {"parameters", weights.parameterCount(config.tiedEmbeddings)},
            {"seqlen", seqLen},
            {"steps_timed", steps - 1},
            {"checkpoint_layers", checkpoint},
            {"seconds_per_step", perStep},
            {"tokens_per_second", double(seqLen) / perStep},
            {"peak_rss_mib", peakRssMiB()},
            {"peak_rss_mib_before_run", rssBefore}};
}

} // namespace

int main(int argc, char **argv)
{
    ensurePassiveOpenMpWait(argv);
    int layers = 2, seqLen = 128, steps = 6, threads = 0;
    bool checkpoint = false;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
        if (a == "--layers") layers = next();
        else if (a == "--seqlen") seqLen = next();
        else if (a == "--steps") steps = next();
        else if (a == "--threads") threads = next();
        else if (a == "--checkpoint-layers") checkpoint = true;
        else if (a == "--only" && i + 1 < argc) only = argv[++i];
        else {
            std::fprintf(stderr, "usage: mq_calib_bench [--layers N] [--seqlen T] [--steps S] [--threads N] "
                                 "[--checkpoint-layers] [--only stories|tinyllama]\n");
            return 2;
        }
    }
    at::set_num_threads(threads > 0 ? threads : int(std::thread::hardware_concurrency()));
    nlohmann::json out = {{"threads", at::get_num_threads()}, {"results", nlohmann::json::array()}};
    if (only.empty() || only == "stories") {
        const char *shared = std::getenv("MQ_SHARED_DIR");
        const std::string path = std::string(shared ? shared : "../shared") + "/models/stories260K/stories260K.bin";
        auto [c, w] = readLlama2c(path);
        out["results"].push_back(measure("stories260K", c, w, seqLen, steps, checkpoint));
    }
    if (only.empty() || only == "tinyllama") {
        // TinyLlama-1.1B's shapes (mobilequant-method.md §6), random weights, `layers` of its 22 layers.
        ModelConfig c;
        c.arch = Arch::Llama;
        c.hiddenSize = 2048;
        c.intermediateSize = 5632;
        c.numLayers = layers;
        c.numHeads = 32;
        c.numKvHeads = 4;
        c.headDim = 64;
        c.vocabSize = 32000;
        c.maxPositions = 2048;
        c.normEps = 1e-5;
        out["results"].push_back(measure("tinyllama-shaped (random weights)", c, randomWeights(c, 1), seqLen, steps,
                                         checkpoint));
    }
    std::cout << out.dump(2) << "\n";
    return 0;
}
