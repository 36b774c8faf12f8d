#include "core/calib/session.h"

#include "core/calib/calib_data.h"
#include "core/eval/eval.h"
#include "core/model/model.h"
#include "core/store/run_reader.h"
#include "core/store/run_writer.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace mq {

std::string SessionConfig::toJson() const
{
    nlohmann::json j = {
        {"model", modelPath}, {"tokenizer", tokenizerPath}, {"method", method}, {"bits", bits},
        {"precision_map_file", precisionMapPath}, {"calib", calibPath}, {"samples", samples},
        {"seqlen", seqLen}, {"seed", seed}, {"epochs", train.epochs}, {"let", train.let}, {"lwc", train.lwc},
        {"lrl", train.lrl}, {"let_lr", train.letLr}, {"let_min_lr", train.letMinLr}, {"lwc_lr", train.lwcLr},
        {"lwc_min_lr", train.lwcMinLr}, {"lrl_lr", train.lrlLr}, {"lrl_min_lr", train.lrlMinLr},
        {"alpha", train.alpha}, {"checkpoint_layers", train.checkpointLayers}, {"snapshot_every", snapshotEvery}, {"checkpoint_every", checkpointEvery},
        {"threads", threads}, {"watch", watchSites}, {"histogram_bins", histogramBins}, {"run", runPath},
        {"eval", evalPath}, {"eval_seqlen", evalSeqLen}, {"eval_max_tokens", evalMaxTokens}, {"save", saveDir}};
    return j.dump(2);
}

SessionConfig SessionConfig::fromJson(const std::string &text, const std::string &source)
{
    SessionConfig c;
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        auto get = [&](const char *key, auto &field) {
            if (j.contains(key))
                field = j.at(key).get<std::decay_t<decltype(field)>>();
        };
        get("model", c.modelPath);
        get("tokenizer", c.tokenizerPath);
        get("method", c.method);
        get("bits", c.bits);
        get("precision_map_file", c.precisionMapPath);
        get("calib", c.calibPath);
        get("samples", c.samples);
        get("seqlen", c.seqLen);
        get("seed", c.seed);
        get("epochs", c.train.epochs);
        get("let", c.train.let);
        get("lwc", c.train.lwc);
        get("lrl", c.train.lrl);
        get("let_lr", c.train.letLr);
        get("let_min_lr", c.train.letMinLr);
        get("lwc_lr", c.train.lwcLr);
        get("lwc_min_lr", c.train.lwcMinLr);
        get("lrl_lr", c.train.lrlLr);
        get("lrl_min_lr", c.train.lrlMinLr);
        get("alpha", c.train.alpha);
        get("checkpoint_layers", c.train.checkpointLayers);
        get("snapshot_every", c.snapshotEvery);
        get("checkpoint_every", c.checkpointEvery);
        get("threads", c.threads);
        get("watch", c.watchSites);
        get("histogram_bins", c.histogramBins);
        get("run", c.runPath);
        get("eval", c.evalPath);
        get("eval_seqlen", c.evalSeqLen);
        get("eval_max_tokens", c.evalMaxTokens);
        get("save", c.saveDir);
    } catch (const nlohmann::json::exception &e) {
        throw Error(source + ": the run configuration is not valid (" + std::string(e.what()) + ")");
    }
    return c;
}

std::unique_ptr<CalibrationMethod> makeMethod(const SessionConfig &c)
{
    if (c.method == "rtn")
        return makeRtnMethod();
    if (c.method == "smoothquant")
        return makeSmoothQuantMethod(c.train.alpha);
    if (c.method == "blockwise")
        return makeBlockwiseMethod(c.train);
    if (c.method == "mobilequant" || c.method == "e2e")
        return makeEndToEndMethod(c.train);
    throw Error("unknown method '" + c.method + "': use mobilequant, blockwise, smoothquant or rtn");
}

std::string checkpointHash(const std::string &modelPath)
{
    std::vector<fs::path> files;
    if (fs::is_directory(modelPath)) {
        for (const auto &e : fs::directory_iterator(modelPath))
            if (e.path().extension() == ".safetensors" || e.path().filename() == "config.json")
                files.push_back(e.path());
        std::sort(files.begin(), files.end());
    } else {
        files.push_back(modelPath);
    }
    uint64_t h = 1469598103934665603ULL; // FNV-1a 64
    std::vector<char> buf(1 << 20);
    for (const fs::path &f : files) {
        std::ifstream in(f, std::ios::binary);
        while (in) {
            in.read(buf.data(), std::streamsize(buf.size()));
            for (std::streamsize i = 0; i < in.gcount(); ++i) {
                h ^= uint8_t(buf[size_t(i)]);
                h *= 1099511628211ULL;
            }
        }
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return std::string("fnv1a64:") + hex;
}

namespace {

using SeriesMap = std::map<std::string, std::vector<float>>;

// The vector groups of the run file (docs/run-file.md) a snapshot fills, by group name.
std::map<std::string, SeriesMap> vectorGroups(const SnapshotEvent &e)
{
    std::map<std::string, SeriesMap> groups;
    groups["scales"] = e.letScales;
    SeriesMap &clipping = groups["clipping"];
    for (auto &[k, v] : e.clipUpper)
        clipping[k + ".upper"] = v;
    for (auto &[k, v] : e.clipLower)
        clipping[k + ".lower"] = v;
    if (!e.clipRate.empty())
        groups["site_stats"] = {{"clip_rate", e.clipRate}, {"sqnr_db", e.sqnrDb}};
    groups["outliers"] = e.channelMaxAbs;
    SeriesMap &weights = groups["weight_ranges"];
    for (auto &[k, v] : e.weightMin)
        weights[k + ".min"] = v;
    for (auto &[k, v] : e.weightMax)
        weights[k + ".max"] = v;
    return groups;
}

std::string vectorGroupUnits(const std::string &group)
{
    if (group == "clipping")
        return "fraction of the weight range";
    if (group == "site_stats")
        return "clip_rate: fraction of values; sqnr_db: dB";
    if (group == "outliers")
        return "activation";
    if (group == "weight_ranges")
        return "weight";
    return "1";
}

// Records every event in the run file and passes it on to the listener. The file is created at
// the first snapshot, when the sites, pairs and checkpoint layout are known (SWMR needs every
// dataset declared up front).
class RunRecorder : public CalibrationObserver
{
public:
    RunRecorder(const SessionConfig &config, RunHeader header, SessionListener *listener, bool resume,
                int64_t resumeStep)
        : m_config(config)
        , m_header(std::move(header))
        , m_listener(listener)
        , m_resume(resume)
        , m_resumeStep(resumeStep)
    {
    }

    void stage(const std::string &d) override
    {
        if (m_listener)
            m_listener->stage(d);
    }

    void step(const StepEvent &e) override
    {
        m_lastLoss = e.loss;
        m_steps = e.step;
        if (m_writer)
            m_writer->appendStep(e.step, e.loss, e.seconds, e.learningRates);
        if (m_listener)
            m_listener->step(e);
    }

    void snapshot(const SnapshotEvent &e) override
    {
        if (!m_writer)
            open(e);
        if (!e.sites.empty())
            m_writer->appendRanges(e.step, e.fmin, e.fmax);
        for (auto &[group, series] : vectorGroups(e))
            if (m_groups.count(group) && !series.empty())
                m_writer->appendVectors(group, e.step, series);
        for (auto &[site, h] : e.histograms)
            if (m_histSites.count(site))
                m_writer->appendHistogram(site, e.step, h.edges, h.counts);
        m_writer->flush();
        if (m_listener)
            m_listener->snapshot(e);
    }

    void checkpoint(int64_t step, const std::map<std::string, std::vector<float>> &state,
                    const std::map<std::string, std::vector<int64_t>> &shapes) override
    {
        if (m_writer) {
            NamedArrays arrays;
            for (auto &[name, values] : state) {
                FloatArray a;
                for (int64_t d : shapes.at(name))
                    a.shape.push_back(size_t(d));
                a.data = values;
                arrays[name] = std::move(a);
            }
            m_writer->writeCheckpoint("learned", arrays, step);
        }
        if (m_listener)
            m_listener->checkpoint(step, state, shapes);
    }

    RunWriter *writer() { return m_writer.get(); }
    int64_t steps() const { return m_steps; }
    double lastLoss() const { return m_lastLoss; }

private:
    void open(const SnapshotEvent &e)
    {
        if (m_resume) {
            m_writer = std::make_unique<RunWriter>(RunWriter::openForResume(m_config.runPath, m_resumeStep));
            for (const HistogramSpec &h : m_writer->header().histograms)
                m_histSites.insert(h.site);
            // A file written by an older workbench may lack some groups: append to what it declares.
            for (const VectorGroupSpec &g : m_writer->header().vectorGroups)
                m_groups.insert(g.name);
            return;
        }
        m_header.sites = e.sites;
        for (auto &[group, series] : vectorGroups(e)) {
            if (series.empty())
                continue;
            VectorGroupSpec spec{group, vectorGroupUnits(group), {}};
            for (auto &[k, v] : series)
                spec.series.push_back({k, v.size()});
            m_header.vectorGroups.push_back(spec);
            m_groups.insert(group);
        }
        for (auto &[site, h] : e.histograms) {
            m_header.histograms.push_back({site, h.counts.size()});
            m_histSites.insert(site);
        }
        m_writer = std::make_unique<RunWriter>(RunWriter::create(
            m_config.runPath, m_header, m_config.overwrite ? RunWriter::IfExists::Overwrite : RunWriter::IfExists::Fail));
    }

    SessionConfig m_config;
    RunHeader m_header;
    SessionListener *m_listener;
    bool m_resume;
    int64_t m_resumeStep;
    std::unique_ptr<RunWriter> m_writer;
    std::set<std::string> m_histSites;
    std::set<std::string> m_groups; // vector groups the file declares
    int64_t m_steps = 0;
    double m_lastLoss = 0;
};

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        failFile(path, "cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

PrecisionMap precisionMapOf(const SessionConfig &c)
{
    if (!c.precisionMapPath.empty())
        return PrecisionMap::load(c.precisionMapPath);
    auto preset = parseWeightPreset(c.bits);
    if (!preset)
        throw Error("unknown bit setting '" + c.bits + "': use W8A8, W4A8 or W4A8-sym");
    return PrecisionMap(*preset);
}

void writeRanges(const std::string &path, const SiteRanges &ranges)
{
    nlohmann::json j = nlohmann::json::object();
    for (auto &[site, r] : ranges)
        j[site] = {r.first, r.second};
    std::ofstream(path) << j.dump(2) << "\n";
}

} // namespace

Session::Session(SessionConfig config, SessionListener *listener)
    : m_config(std::move(config))
    , m_listener(listener)
{
}

Session::~Session()
{
    cancel();
    if (m_thread.joinable())
        m_thread.join();
}

std::unique_ptr<Session> Session::resumeFrom(const std::string &runPath, SessionListener *listener)
{
    RunReader reader = RunReader::open(runPath);
    SessionConfig c = SessionConfig::fromJson(reader.header().configJson, runPath);
    c.runPath = runPath;
    auto s = std::make_unique<Session>(c, listener);
    s->m_resuming = true;
    return s;
}

std::unique_ptr<Session> Session::evaluateRun(const std::string &runPath, const std::string &evalPath, int seqLen,
                                              int64_t maxTokens, SessionListener *listener)
{
    auto s = resumeFrom(runPath, listener);
    s->m_config.evalPath = evalPath;
    s->m_config.evalSeqLen = seqLen;
    s->m_config.evalMaxTokens = maxTokens;
    s->m_config.saveDir.clear();
    s->m_evalOnly = true;
    return s;
}

void Session::start()
{
    if (m_thread.joinable())
        throw Error("the session has already been started");
    m_thread = std::thread([this] { work(); });
}

void Session::pause() { m_stop.requestPause(); }
void Session::resume() { m_stop.resume(); }
void Session::cancel() { m_stop.requestStop(); }

SessionResult Session::wait()
{
    if (m_thread.joinable())
        m_thread.join();
    return m_result;
}

void Session::work()
{
    SessionResult result;
    std::unique_ptr<RunRecorder> recorder;
    try {
        at::set_num_threads(m_config.threads > 0 ? m_config.threads
                                                  : int(std::max(1u, std::thread::hardware_concurrency())));
        LoadOptions lo;
        lo.tokenizerPath = m_config.tokenizerPath;
        lo.requireTokenizer = true;
        Model model = loadModel(m_config.modelPath, lo);
        if (m_config.train.alpha < 0) // "auto": the reference's per-model SmoothQuant alpha (§2.4)
            m_config.train.alpha = model.config().arch == Arch::StableLm ? 0.6 : 0.5;
        PrecisionMap map = precisionMapOf(m_config);
        const std::vector<int> ids = model.tokenizer->encode(readFile(m_config.calibPath), true, false);
        at::Tensor samples = sampleWindows(ids, m_config.samples, m_config.seqLen, m_config.seed);

        // Hashing reads every weight byte: once per run.
        const std::string modelHash = checkpointHash(m_config.modelPath);
        std::map<std::string, at::Tensor> resumeState;
        int64_t resumeStep = 0;
        if (m_resuming) {
            RunReader reader = RunReader::open(m_config.runPath);
            if (reader.header().model.contentHash != modelHash)
                throw Error(m_config.runPath + ": the model at " + m_config.modelPath
                            + " is not the one this run calibrated (its content hash differs)");
            Checkpoint cp = reader.checkpoint("learned");
            if (cp.step < 0)
                throw Error(m_config.runPath + ": the run has no complete checkpoint to resume from");
            for (auto &[name, a] : cp.arrays) {
                std::vector<int64_t> shape(a.shape.begin(), a.shape.end());
                resumeState[name] = at::from_blob(const_cast<float *>(a.data.data()), shape, at::kFloat).clone();
            }
            resumeStep = cp.step;
        }

        RunHeader header;
        header.configJson = m_config.toJson();
        header.precisionMapJson = map.toJson();
        header.model = {m_config.modelPath, modelHash, archName(model.config().arch)};
        if (m_config.method == "mobilequant" || m_config.method == "e2e" || m_config.method == "blockwise") {
            if (m_config.train.let) header.lrGroups.push_back("let");
            if (m_config.train.lwc) header.lrGroups.push_back("lwc");
            if (m_config.train.lrl) header.lrGroups.push_back("lrl");
        }
        recorder = std::make_unique<RunRecorder>(m_config, header, m_listener, m_resuming, resumeStep);

        auto method = m_factory ? m_factory(m_config) : makeMethod(m_config);
        if (!method)
            throw Error("no calibration method '" + m_config.method + "'");
        // Evaluating a finished run replays the method from its checkpoint without training and
        // without touching the recorded series.
        CalibrationContext ctx(*model.transformer, samples, map, m_evalOnly ? nullptr : recorder.get(), &m_stop);
        ctx.snapshotEvery = m_config.snapshotEvery;
        ctx.checkpointEvery = m_config.checkpointEvery;
        ctx.watchSites = m_config.watchSites;
        ctx.histogramBins = m_config.histogramBins;
        ctx.resumeState = resumeState;
        ctx.resumeStep = m_evalOnly ? std::numeric_limits<int64_t>::max() / 4 : resumeStep;
        method->run(ctx);

        QuantSim &sim = *ctx.sim();
        const QuantSim::WeightRanges weightRanges = sim.weightRanges(ctx.baseWeights());
        const ModelWeights folded = sim.fold(ctx.baseWeights());
        const SiteRanges ranges = sim.activationRanges();
        result.steps = recorder->steps();
        result.finalLoss = recorder->lastLoss();

        if (!m_config.saveDir.empty()) {
            if (m_listener)
                m_listener->stage("saving the folded model to " + m_config.saveDir);
            writeHuggingFace(m_config.saveDir, model.config(), folded);
            writeRanges((fs::path(m_config.saveDir) / "act_ranges.json").string(), ranges);
            map.save((fs::path(m_config.saveDir) / "precision_map.json").string());
            if (!model.tokenizerPath.empty())
                fs::copy_file(model.tokenizerPath, fs::path(m_config.saveDir) / fs::path(model.tokenizerPath).filename(),
                              fs::copy_options::overwrite_existing);
        }
        if (!m_config.evalPath.empty()) {
            if (m_listener)
                m_listener->stage("evaluating on " + m_config.evalPath);
            const std::vector<int> evalIds = model.tokenizer->encode(readFile(m_config.evalPath), true, false);
            PerplexityOptions po;
            po.seqLen = m_config.evalSeqLen;
            po.maxTokens = m_config.evalMaxTokens;
            PerplexityResult fp = perplexity(*model.transformer, evalIds, po);
            // Deployment rounds the learned offsets (§3.4): rebuild the activation quantizers from the
            // exported ranges; weights use the learned ranges that the package stores.
            QuantSim deployed(model.config(), map, ranges, QuantSimOptions{false, false, false});
            deployed.setFixedWeightRanges(weightRanges);
            const Transformer foldedModel(model.config(), folded);
            PerplexityResult q = perplexity(foldedModel, evalIds, po, &deployed);
            result.fpPerplexity = fp.tokenPerplexity();
            result.quantPerplexity = q.tokenPerplexity();
            result.evalTokens = q.tokens;
            nlohmann::json j = {{"data", m_config.evalPath}, {"seqlen", po.seqLen}, {"tokens", q.tokens},
                                {"fp_perplexity", result.fpPerplexity},
                                {"quant_perplexity", result.quantPerplexity},
                                {"offsets", "rounded as at deployment"}};
            if (m_evalOnly) {
                RunWriter writer = RunWriter::openForResume(m_config.runPath);
                writer.writeEval("perplexity-" + fs::path(m_config.evalPath).stem().string(), j.dump());
                writer.close();
            } else if (recorder->writer()) {
                recorder->writer()->writeEval("perplexity", j.dump());
            }
        }
        if (recorder->writer())
            recorder->writer()->close();
        result.status = SessionResult::Status::Finished;
    } catch (const CalibrationCancelled &) {
        result.status = SessionResult::Status::Cancelled;
        result.steps = recorder ? recorder->steps() : 0;
    } catch (const mq::Error &e) {
        result.error = e.what();
    } catch (const c10::Error &e) {
        result.error = std::string("tensor error: ") + e.what_without_backtrace();
    } catch (const std::exception &e) {
        result.error = e.what();
    }
    if (recorder && recorder->writer()) {
        try {
            recorder->writer()->flush();
        } catch (const std::exception &) {
        }
    }
    m_result = result;
    if (m_listener)
        m_listener->finished(result);
}

} // namespace mq
