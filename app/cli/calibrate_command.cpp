#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/calib/session.h"
#include "plugins/api/method_plugin.h"
#include "plugins/api/plugin_manager.h"

#include <QFileInfo>
#include <unistd.h>
#include "core/store/run_reader.h"
#include "core/util/error.h"
#include "core/util/progress.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace mq::cli {

namespace {

Session *g_running = nullptr;

extern "C" void onInterrupt(int)
{
    // Cooperative: the worker stops after the current step and the run file keeps what it has.
    if (g_running)
        g_running->cancel();
}

// Prints progress on stderr from the session's worker thread.
class ConsoleListener : public SessionListener
{
public:
    void stage(const std::string &what) override
    {
        if (m_bar)
            m_bar->finish();
        m_bar.reset();
        std::fprintf(stderr, "%s\n", what.c_str());
    }
    void step(const StepEvent &e) override
    {
        if (!m_bar || m_total != e.total) {
            m_total = e.total;
            m_bar = std::make_unique<ProgressBar>("calibrate", e.total, "step");
        }
        m_bar->update(e.step);
        m_lastLoss = e.loss;
    }
    void snapshot(const SnapshotEvent &) override {}
    void checkpoint(int64_t, const std::map<std::string, std::vector<float>> &,
                    const std::map<std::string, std::vector<int64_t>> &) override
    {
    }
    void finished(const SessionResult &) override
    {
        if (m_bar)
            m_bar->finish();
    }
    double m_lastLoss = 0;

private:
    std::unique_ptr<ProgressBar> m_bar;
    int64_t m_total = 0;
};

std::vector<std::string> splitComma(const std::string &s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty())
            out.push_back(item);
    return out;
}

// The method comes from its plugin (plugins/methods, or a researcher's own in MQ_PLUGIN_PATH or
// ~/.local/share/mq-workbench/plugins), configured from the session's settings.
Session::MethodFactory pluginFactory()
{
    return [](const SessionConfig &c) -> std::unique_ptr<CalibrationMethod> {
        char exe[4096] = {};
        const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
        const QString appDir = n > 0 ? QFileInfo(QString::fromLocal8Bit(exe, int(n))).absolutePath() : QString();
        PluginManager plugins(PluginManager::defaultSearchPaths(appDir));
        plugins.scan();
        const QString id = QString::fromStdString(c.method == "e2e" ? "mobilequant" : c.method);
        const QuantMethodPlugin *plugin = plugins.method(id);
        if (!plugin) {
            std::string known, failures;
            for (const PluginInfo &p : plugins.plugins())
                known += (known.empty() ? "" : ", ") + p.id.toStdString();
            for (const PluginFailure &f : plugins.failures())
                failures += "\n  " + f.message.toStdString();
            throw Error("unknown method '" + c.method + "'; the method plugins found are: "
                        + (known.empty() ? std::string("none") : known)
                        + (failures.empty() ? "" : "; plugins that failed to load:" + failures));
        }
        QVariantMap settings;
        for (const SettingSpec &spec : plugin->settingSpecs()) {
            const std::string k = spec.key.toStdString();
            if (k == "alpha") settings[spec.key] = c.train.alpha;
            else if (k == "epochs") settings[spec.key] = c.train.epochs;
            else if (k == "let") settings[spec.key] = c.train.let;
            else if (k == "lwc") settings[spec.key] = c.train.lwc;
            else if (k == "lrl") settings[spec.key] = c.train.lrl;
            else if (k == "let-lr") settings[spec.key] = c.train.letLr;
            else if (k == "let-min-lr") settings[spec.key] = c.train.letMinLr;
            else if (k == "lwc-lr") settings[spec.key] = c.train.lwcLr;
            else if (k == "lwc-min-lr") settings[spec.key] = c.train.lwcMinLr;
            else if (k == "lrl-lr") settings[spec.key] = c.train.lrlLr;
            else if (k == "lrl-min-lr") settings[spec.key] = c.train.lrlMinLr;
            else if (k == "checkpoint-layers") settings[spec.key] = c.train.checkpointLayers;
        }
        const QStringList problems = plugin->validateSettings(settings);
        if (!problems.isEmpty())
            throw Error("the settings of method '" + c.method + "' are not valid: " + problems.join("; ").toStdString());
        return plugin->createMethod(settings);
    };
}

int runSession(Session &session, bool json)
{
    session.setMethodFactory(pluginFactory());
    g_running = &session;
    std::signal(SIGINT, onInterrupt);
    session.start();
    SessionResult r = session.wait();
    std::signal(SIGINT, SIG_DFL);
    g_running = nullptr;
    const char *status = r.status == SessionResult::Status::Finished ? "finished"
        : r.status == SessionResult::Status::Cancelled               ? "cancelled"
                                                                      : "failed";
    if (json) {
        nlohmann::json j = {{"status", status}, {"run", session.config().runPath}, {"steps", r.steps},
                            {"final_loss", r.finalLoss}};
        if (r.evalTokens > 0)
            j.update({{"fp_perplexity", r.fpPerplexity}, {"quant_perplexity", r.quantPerplexity},
                      {"eval_tokens", r.evalTokens}});
        if (!r.error.empty())
            j["error"] = r.error;
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("%s: %s after %lld steps, final loss %.6g\n", session.config().runPath.c_str(), status,
                    static_cast<long long>(r.steps), r.finalLoss);
        if (r.evalTokens > 0)
            std::printf("perplexity on %s (%lld tokens): float %.4f, quantized %.4f (%+.2f%%)\n",
                        session.config().evalPath.c_str(), static_cast<long long>(r.evalTokens), r.fpPerplexity,
                        r.quantPerplexity, 100.0 * (r.quantPerplexity / r.fpPerplexity - 1.0));
    }
    if (r.status == SessionResult::Status::Failed)
        throw Error(r.error);
    return r.status == SessionResult::Status::Finished ? 0 : 3;
}

} // namespace

int runCalibrate(const std::vector<std::string> &argv)
{
    const SessionConfig d;
    auto num = [](double v) {
        std::ostringstream s;
        s << v;
        return s.str();
    };
    const std::vector<OptionSpec> specs = {
        {"method", "NAME", "mobilequant (end-to-end), blockwise, smoothquant or rtn", d.method},
        {"bits", "B", "W8A8, W4A8 or W4A8-sym (weights; activations 8-bit with the 16-bit sites)", d.bits},
        {"precision-map", "FILE", "a precision map JSON (docs/precision-map.md) instead of --bits", ""},
        {"calib", "FILE", "calibration text", ""},
        {"samples", "N", "calibration windows", std::to_string(d.samples)},
        {"seqlen", "T", "tokens per window", std::to_string(d.seqLen)},
        {"seed", "N", "seed of the window offsets", std::to_string(d.seed)},
        {"epochs", "E", "passes over the windows (steps = epochs x samples, per layer for blockwise)",
         std::to_string(d.train.epochs)},
        {"let-lr", "LR", "LET learning rate (cosine to --let-min-lr)", num(d.train.letLr)},
        {"let-min-lr", "LR", "", num(d.train.letMinLr)},
        {"lwc-lr", "LR", "LWC learning rate", num(d.train.lwcLr)},
        {"lwc-min-lr", "LR", "", num(d.train.lwcMinLr)},
        {"lrl-lr", "LR", "activation-range learning rate", num(d.train.lrlLr)},
        {"lrl-min-lr", "LR", "", num(d.train.lrlMinLr)},
        {"alpha", "A", "SmoothQuant alpha; auto = 0.6 for StableLM, 0.5 otherwise (the reference's values)", "auto"},
        {"no-let", "", "train without LET", ""},
        {"no-lwc", "", "train without LWC", ""},
        {"no-lrl", "", "train without learned activation ranges (default for blockwise: use --lrl)", ""},
        {"lrl", "", "blockwise: also learn activation ranges", ""},
        {"checkpoint-layers", "", "mobilequant: recompute layers in the backward pass to save memory", ""},
        {"snapshot-every", "N", "steps between range/scale snapshots in the run file", std::to_string(d.snapshotEvery)},
        {"checkpoint-every", "N", "steps between checkpoints of the learned parameters", std::to_string(d.checkpointEvery)},
        {"watch", "SITES", "comma-separated sites whose histograms are recorded, e.g. layers.0.mlp.down.in", ""},
        {"out", "RUN.h5", "the run file to write", ""},
        {"overwrite", "", "replace an existing run file", ""},
        {"eval", "FILE", "evaluate float and quantized perplexity on this text afterwards", ""},
        {"eval-seqlen", "N", "", std::to_string(d.evalSeqLen)},
        {"eval-max-tokens", "N", "evaluate only the first N tokens (0 = all)", "0"},
        {"save", "DIR", "write the folded FP32 model + act_ranges.json + precision_map.json here", ""},
        {"resume", "RUN.h5", "continue a cancelled or killed run from its last checkpoint", ""},
        {"tokenizer", "PATH", "tokenizer file (default: found beside the checkpoint)", ""},
        {"threads", "N", "LibTorch threads; 0 = all cores", "0"},
        {"json", "", "print the result as JSON", ""},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.flag("help")) {
        std::cout << helpText("mq calibrate MODEL --method mobilequant|blockwise|smoothquant|rtn --bits w8a8|w4a8|w4a8-sym "
                              "--calib FILE --samples N --seqlen T --epochs E --out RUN.h5",
                              "Calibrate a quantized model and record every step to an HDF5 run file "
                              "(docs/run-file.md). Ctrl-C stops after the current step; --resume continues.",
                              specs);
        return 0;
    }
    if (a.has("resume")) {
        ConsoleListener listener;
        auto s = Session::resumeFrom(a.str("resume"), &listener);
        return runSession(*s, a.flag("json"));
    }
    if (a.positional().size() != 1)
        throw Error("mq calibrate needs exactly one MODEL; see --help");
    SessionConfig c;
    c.modelPath = a.positional()[0];
    c.tokenizerPath = a.str("tokenizer");
    c.method = a.str("method");
    std::string bits = a.str("bits");
    for (char &ch : bits)
        ch = char(std::toupper(static_cast<unsigned char>(ch)));
    if (bits == "W4A8-SYM")
        bits = "W4A8-sym";
    c.bits = bits;
    c.precisionMapPath = a.str("precision-map");
    c.calibPath = a.str("calib");
    if (c.calibPath.empty())
        throw Error("mq calibrate needs --calib FILE (calibration text)");
    c.runPath = a.str("out");
    if (c.runPath.empty())
        throw Error("mq calibrate needs --out RUN.h5");
    c.samples = a.integer("samples");
    c.seqLen = a.integer("seqlen");
    c.seed = uint64_t(a.integer("seed"));
    c.train.epochs = a.integer("epochs");
    c.train.letLr = a.real("let-lr");
    c.train.letMinLr = a.real("let-min-lr");
    c.train.lwcLr = a.real("lwc-lr");
    c.train.lwcMinLr = a.real("lwc-min-lr");
    c.train.lrlLr = a.real("lrl-lr");
    c.train.lrlMinLr = a.real("lrl-min-lr");
    c.train.alpha = a.str("alpha") == "auto" ? -1.0 : a.real("alpha");
    c.train.let = !a.flag("no-let");
    c.train.lwc = !a.flag("no-lwc");
    c.train.lrl = c.method == "blockwise" ? a.flag("lrl") : !a.flag("no-lrl");
    c.train.checkpointLayers = a.flag("checkpoint-layers");
    c.snapshotEvery = a.integer("snapshot-every");
    c.checkpointEvery = a.integer("checkpoint-every");
    c.watchSites = splitComma(a.str("watch"));
    c.overwrite = a.flag("overwrite");
    c.evalPath = a.str("eval");
    c.evalSeqLen = a.integer("eval-seqlen");
    c.evalMaxTokens = a.integer("eval-max-tokens");
    c.saveDir = a.str("save");
    c.threads = a.integer("threads");
    if (c.samples < 1 || c.seqLen < 2 || c.train.epochs < 1)
        throw Error("--samples and --epochs must be at least 1 and --seqlen at least 2");
    SessionConfig check = c; // rejects an unknown --method or bad settings before any work
    if (check.train.alpha < 0)
        check.train.alpha = 0.5;
    pluginFactory()(check);
    ConsoleListener listener;
    Session session(c, &listener);
    return runSession(session, a.flag("json"));
}

int runRuns(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {{"json", "", "machine-readable output", ""}, {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.flag("help") || a.positional().size() != 2 || a.positional()[0] != "show") {
        std::cout << helpText("mq runs show RUN.h5 [--json]", "Summarise a run file: configuration, steps, loss, evaluation.",
                              specs);
        return a.flag("help") ? 0 : 2;
    }
    RunReader r = RunReader::open(a.positional()[1]);
    const RunHeader &h = r.header();
    const TrainSeries t = r.train();
    const RangeSeries ranges = r.ranges();
    nlohmann::json config = nlohmann::json::parse(h.configJson);
    nlohmann::json j = {{"run", r.path()}, {"schema_version", r.schemaVersion()},
                        {"model", {{"path", h.model.path}, {"hash", h.model.contentHash}, {"architecture", h.model.architecture}}},
                        {"config", config}, {"steps", t.step.size()}, {"snapshots", ranges.step.size()},
                        {"sites", h.sites.size()}};
    if (!t.loss.empty())
        j["final_loss"] = t.loss.back();
    for (const std::string &e : r.evalNames())
        j["eval"][e] = nlohmann::json::parse(r.eval(e));
    const Checkpoint cp = r.checkpoint("learned");
    j["checkpoint_step"] = cp.step;
    if (a.flag("json")) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("run         %s (schema %lld)\n", r.path().c_str(), static_cast<long long>(r.schemaVersion()));
    std::printf("model       %s (%s, %s)\n", h.model.path.c_str(), h.model.architecture.c_str(), h.model.contentHash.c_str());
    std::printf("method      %s %s, %d samples x %d tokens, %d epochs\n", config.value("method", "?").c_str(),
                config.value("bits", "?").c_str(), config.value("samples", 0), config.value("seqlen", 0),
                config.value("epochs", 0));
    std::printf("steps       %zu", t.step.size());
    if (!t.loss.empty())
        std::printf(", loss %.6g -> %.6g", t.loss.front(), t.loss.back());
    std::printf("\nsnapshots   %zu of %zu sites; checkpoint at step %lld\n", ranges.step.size(), h.sites.size(),
                static_cast<long long>(cp.step));
    for (const std::string &e : r.evalNames())
        std::printf("eval        %s: %s\n", e.c_str(), r.eval(e).c_str());
    return 0;
}

} // namespace mq::cli
