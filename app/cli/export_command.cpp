#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/export/exporter.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace mq::cli {

int runExport(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"out", "FILE", "the package to write (.mqpkg)", ""},
        {"variant", "NAME", "w8a8 | w4a8 (default: the run's weight bits), a16 (8-bit per-channel weights and 16-bit "
                            "activations from the same float checkpoint, ranges from its calibration data) or fp32 "
                            "(float reference)", ""},
        {"threads", "N", "LibTorch threads; 0 = all cores", "0"},
        {"json", "", "machine-readable result on stdout", ""},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.flag("help")) {
        std::cout << helpText("mq export RUN.h5 --out model.mqpkg [--variant w8a8|w4a8|a16|fp32] [--json]",
                              "Fold a calibration run's transforms and clipping into an integer-only model package "
                              "for mq-run (docs/package-format.md). The model and calibration text the run used must "
                              "still be where the run file says.",
                              specs);
        return 0;
    }
    if (a.positional().size() != 1)
        throw Error("mq export needs exactly one RUN.h5; see --help");
    if (a.str("out").empty())
        throw Error("mq export needs --out FILE (the package to write)");
    configureThreads(a.integer("threads"));
    const std::string run = a.positional()[0];
    Deployment d = rebuildDeployment(run, [](const std::string &s) { std::fprintf(stderr, "%s\n", s.c_str()); });
    ModelVariant variant = runVariant(d.map);
    if (a.has("variant")) {
        auto v = parseModelVariant(a.str("variant"));
        if (!v)
            throw Error("--variant must be w8a8, w4a8, a16 or fp32, not '" + a.str("variant") + "'");
        variant = *v;
    }
    std::fprintf(stderr, "writing the %s package\n", modelVariantName(variant));
    const ExportResult r = exportPackage(d, variant, a.str("out"), run);
    if (a.flag("json")) {
        nlohmann::json j = {{"run", run}, {"package", r.path}, {"variant", modelVariantName(r.variant)},
                            {"content_hash", r.contentHash}, {"tensors", r.tensors}, {"bytes", r.bytes}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("%s: %s package, %zu tensors, %llu bytes, sha256 %s\n", r.path.c_str(), modelVariantName(r.variant),
                    r.tensors, static_cast<unsigned long long>(r.bytes), r.contentHash.c_str());
    }
    return 0;
}

} // namespace mq::cli
