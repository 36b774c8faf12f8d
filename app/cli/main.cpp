#include "app/cli/commands.h"

#include "core/store/hdf5_version.h"
#include "core/util/error.h"
#include "core/util/process_env.h"

#include <c10/util/Exception.h>
#include <torch/version.h> // a handful of #defines

#include <QtGlobal>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <vector>

namespace {

const char *kUsage =
    "usage: mq COMMAND [options]   (mq COMMAND --help for a command's options; mq --version)\n"
    "\n"
    "commands:\n"
    "  info      architecture, parameter count, layers and quantization sites of a checkpoint\n"
    "  generate  generate text with the float model\n"
    "  logits    raw logits for given token ids (JSON)\n"
    "  eval      perplexity (WikiText, any text) or LAMBADA accuracy\n"
    "  convert   llama2.c .bin -> Hugging Face safetensors directory\n"
    "  calibrate quantize a model (MobileQuant, block-wise, SmoothQuant, RTN) into an HDF5 run file\n"
    "  runs      runs show RUN.h5: summarise a run file\n"
    "  synth     write a RANDOM-weight checkpoint in a real model's shapes (for benchmarks)\n"
    "  export    export a calibration run as an integer-only model package for mq-run\n"
    "  devices   list Android devices over adb with their state, model, ABI, battery\n"
    "  bench     benchmark packages on a phone over adb: latency, energy, vs a baseline\n"
    "\n"
    "options:\n"
    "  -h, --help     this list\n"
    "  -V, --version  the version of mq and of the Qt, LibTorch and HDF5 libraries it runs with\n"
    "\n"
    "MODEL is a llama2.c .bin file or a Hugging Face directory (config.json + model.safetensors).\n"
    "The manual page (man mq) describes every command and option.\n";

} // namespace

int main(int argc, char **argv)
{
    mq::ensurePassiveOpenMpWait(argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        std::printf("mq %s\nQt %s\nLibTorch %s\nHDF5 %s\n", MQ_VERSION, qVersion(), TORCH_VERSION,
                    mq::hdf5LibraryVersion().c_str());
        return 0;
    }
    const std::map<std::string, int (*)(const std::vector<std::string> &)> commands = {
        {"info", mq::cli::runInfo},   {"generate", mq::cli::runGenerate}, {"logits", mq::cli::runLogits},
        {"eval", mq::cli::runEval},   {"convert", mq::cli::runConvert},
        {"calibrate", mq::cli::runCalibrate}, {"runs", mq::cli::runRuns},
        {"synth", mq::cli::runSynth}, {"export", mq::cli::runExport},
        {"devices", mq::cli::runDevices}, {"bench", mq::cli::runBench}};
    auto it = commands.find(args[0]);
    if (it == commands.end()) {
        std::fprintf(stderr, "mq: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
        return 2;
    }
    try {
        return it->second(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const mq::Error &e) {
        std::fprintf(stderr, "mq %s: error: %s\n", args[0].c_str(), e.what());
    } catch (const c10::Error &e) {
        std::fprintf(stderr, "mq %s: internal tensor error: %s\n", args[0].c_str(), e.what_without_backtrace());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "mq %s: error: %s\n", args[0].c_str(), e.what());
    }
    return 1;
}
