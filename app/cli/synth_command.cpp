#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/model/model.h"
#include "core/util/error.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace mq::cli {

namespace {

// The published shapes of the MobileQuant paper's three models (mobilequant-method.md §6).
ModelConfig shapeOf(const std::string &name)
{
    ModelConfig c;
    c.hiddenSize = 2048;
    c.maxPositions = 2048;
    c.ropeTheta = 10000.0;
    c.bosId = 1;
    c.eosId = 2;
    if (name == "tinyllama-1.1b") {
        c.arch = Arch::Llama;
        c.numLayers = 22;
        c.intermediateSize = 5632;
        c.numHeads = 32;
        c.numKvHeads = 4;
        c.headDim = 64;
        c.vocabSize = 32000;
        c.normEps = 1e-5;
    } else if (name == "gemma-2b") {
        c.arch = Arch::Gemma;
        c.numLayers = 18;
        c.intermediateSize = 16384;
        c.numHeads = 8;
        c.numKvHeads = 1;
        c.headDim = 256;
        c.vocabSize = 256000;
        c.normEps = 1e-6;
        c.normPlusOne = true;
        c.act = Activation::GeluTanh;
        c.tiedEmbeddings = true;
        c.embedScale = std::sqrt(2048.0);
    } else if (name == "stablelm-2-1.6b") {
        c.arch = Arch::StableLm;
        c.numLayers = 24;
        c.intermediateSize = 5632;
        c.numHeads = 32;
        c.numKvHeads = 32;
        c.headDim = 64;
        c.vocabSize = 100352;
        c.norm = NormKind::LayerNorm;
        c.normEps = 1e-5;
        c.partialRotaryFactor = 0.25;
        c.qkvBias = true;
    } else {
        throw Error("unknown --shape '" + name + "': use tinyllama-1.1b, gemma-2b or stablelm-2-1.6b");
    }
    return c;
}

} // namespace

int runSynth(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"shape", "NAME", "tinyllama-1.1b, gemma-2b or stablelm-2-1.6b", ""},
        {"layers", "N", "decoder layers to keep (0 = all of the real model's)", "0"},
        {"out", "DIR", "output Hugging Face directory", ""},
        {"seed", "N", "random seed", "1"},
        {"dtype", "T", "F32, F16 or BF16", "F32"},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.flag("help")) {
        std::cout << helpText("mq synth --shape tinyllama-1.1b|gemma-2b|stablelm-2-1.6b [--layers N] --out DIR",
                              "Write a checkpoint with RANDOM weights in a real model's shapes, for performance "
                              "work at real sizes (calibration throughput, runtime latency). It is labelled "
                              "random in config.json, in the safetensors metadata, in a README beside it and by "
                              "`mq info`; its outputs mean nothing.",
                              specs);
        return 0;
    }
    const std::string out = a.str("out");
    if (out.empty())
        throw Error("mq synth needs --out DIR");
    const std::string shape = a.str("shape");
    ModelConfig c = shapeOf(shape);
    const int layers = a.integer("layers");
    if (layers < 0 || layers > c.numLayers)
        throw Error("--layers must be between 1 and " + std::to_string(c.numLayers) + " for " + shape);
    const int realLayers = c.numLayers;
    if (layers > 0)
        c.numLayers = layers;
    c.synthetic = "random weights in the shapes of " + shape + " (" + std::to_string(c.numLayers) + " of "
        + std::to_string(realLayers) + " layers); not a trained model";
    c.validate(shape);
    const ModelWeights w = randomWeights(c, uint64_t(a.integer("seed")));
    writeHuggingFace(out, c, w, a.str("dtype"));
    std::ofstream(out + "/README.txt") << "This checkpoint was written by `mq synth`: " << c.synthetic
                                       << ".\nUse it for speed and memory measurements only.\n";
    std::fprintf(stderr, "wrote %s: %s, %lld parameters\n", out.c_str(), c.synthetic.c_str(),
                 static_cast<long long>(w.parameterCount(c.tiedEmbeddings)));
    return 0;
}

} // namespace mq::cli
