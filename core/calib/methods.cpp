#include "core/calib/calibration_context.h"

#include "core/calib/layer_checkpoint.h"
#include "core/quant/act_stats.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <functional>
#include <set>
#include <cmath>
#include <limits>

namespace mq {

CalibrationContext::CalibrationContext(const Transformer &model, at::Tensor samples, PrecisionMap map,
                                       CalibrationObserver *observer, StopToken *stop)
    : m_model(model)
    , m_samples(std::move(samples))
    , m_map(std::move(map))
    , m_observer(observer)
    , m_stop(stop)
{
}

void CalibrationContext::stage(const std::string &what)
{
    if (m_observer)
        m_observer->stage(what);
}

void CalibrationContext::reportStep(const StepEvent &event)
{
    if (m_observer)
        m_observer->step(event);
}

namespace {

std::vector<float> toVector(const at::Tensor &t)
{
    at::Tensor c = t.detach().to(at::kFloat).contiguous().reshape({-1});
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

} // namespace

void CalibrationContext::maybeSnapshot(QuantSim &sim, int64_t step, bool force)
{
    if (!m_observer || (!force && (snapshotEvery <= 0 || step % snapshotEvery != 0)))
        return;
    c10::NoGradGuard noGrad;
    SnapshotEvent e;
    e.step = step;
    e.sites = sim.activationSiteNames();
    const SiteRanges ranges = sim.activationRanges();
    for (const std::string &s : e.sites) {
        e.fmin.push_back(float(ranges.at(s).first));
        e.fmax.push_back(float(ranges.at(s).second));
    }
    for (auto &[name, t] : sim.letScales())
        e.letScales[name] = toVector(t);
    for (auto &[name, f] : sim.clippingFactors()) {
        e.clipUpper[name] = toVector(at::sigmoid(f.first));
        e.clipLower[name] = toVector(at::sigmoid(f.second));
    }
    if (workingWeights)
        measure(sim, *workingWeights, e);
    m_observer->snapshot(e);
}

namespace {

// Looks at every site of one quantized forward: clipping rate and SQNR of each quantized
// activation site, histograms and per-channel max|x| of the watched ones.
class SnapshotProbe : public SiteHook
{
public:
    SnapshotProbe(QuantSim &sim, const std::vector<std::string> &watched, int bins, SnapshotEvent &e)
        : m_sim(sim)
        , m_watched(watched.begin(), watched.end())
        , m_bins(bins)
        , m_event(e)
    {
        for (size_t i = 0; i < e.sites.size(); ++i)
            m_column[e.sites[i]] = i;
        e.clipRate.assign(e.sites.size(), std::numeric_limits<float>::quiet_NaN());
        e.sqnrDb.assign(e.sites.size(), std::numeric_limits<float>::quiet_NaN());
    }
    at::Tensor activation(int layer, ActSite s, const at::Tensor &x) override
    {
        const std::string name = actSiteName(layer, s);
        at::Tensor v = x.detach().to(at::kFloat);
        if (m_watched.count(name)) {
            histogram(name, v.reshape({-1}));
            m_event.channelMaxAbs[name] = toVector(v.abs().reshape({-1, v.size(-1)}).amax(0));
        }
        at::Tensor q = m_sim.activation(layer, s, x);
        auto column = m_column.find(name);
        if (column != m_column.end()) {
            const size_t c = column->second;
            const double lo = m_event.fmin[c], hi = m_event.fmax[c];
            const double n = double(v.numel());
            m_event.clipRate[c] = n > 0 ? float(((v < lo) | (v > hi)).sum().item<double>() / n) : 0.0f;
            const double signal = v.square().sum().item<double>();
            const double noise = (v - q.detach().to(at::kFloat)).square().sum().item<double>();
            m_event.sqnrDb[c] = noise > 0 ? float(10.0 * std::log10(signal / noise))
                                          : std::numeric_limits<float>::infinity();
        }
        return q;
    }
    at::Tensor weight(int layer, WeightSite s, const at::Tensor &w) override
    {
        // The LET-transformed weight before clipping, one range per output row (norm weights: one row).
        at::Tensor rows = w.detach().to(at::kFloat);
        rows = rows.dim() == 1 ? rows.reshape({1, -1}) : rows.reshape({rows.size(0), -1});
        const std::string name = weightSiteName(layer, s);
        m_event.weightMin[name] = toVector(std::get<0>(rows.min(1)));
        m_event.weightMax[name] = toVector(std::get<0>(rows.max(1)));
        return m_sim.weight(layer, s, w);
    }

private:
    void histogram(const std::string &name, const at::Tensor &v)
    {
        float lo = v.min().item<float>(), hi = v.max().item<float>();
        if (!(hi > lo))
            hi = lo + 1e-6f;
        at::Tensor counts = at::histc(v, m_bins, lo, hi).to(at::kLong);
        SnapshotEvent::Histogram h;
        for (int i = 0; i <= m_bins; ++i)
            h.edges.push_back(lo + (hi - lo) * float(i) / float(m_bins));
        const int64_t *c = counts.data_ptr<int64_t>();
        h.counts.assign(c, c + m_bins);
        m_event.histograms[name] = std::move(h);
    }

    QuantSim &m_sim;
    std::set<std::string> m_watched;
    int m_bins;
    SnapshotEvent &m_event;
    std::map<std::string, size_t> m_column;
};

} // namespace

void CalibrationContext::measure(QuantSim &sim, const ModelWeights &w, SnapshotEvent &e)
{
    c10::NoGradGuard noGrad;
    SnapshotProbe probe(sim, watchSites, histogramBins, e);
    at::Tensor x = m_model.embed(m_samples.narrow(0, 0, 1));
    for (int l = 0; l < config().numLayers; ++l)
        x = m_model.layer(l, sim.transformedLayer(l, w.layers[size_t(l)]), x, 0, nullptr, &probe);
}

void CalibrationContext::maybeCheckpoint(QuantSim &sim, int64_t step, bool force)
{
    if (!m_observer || (!force && (checkpointEvery <= 0 || step % checkpointEvery != 0)))
        return;
    std::map<std::string, std::vector<float>> state;
    std::map<std::string, std::vector<int64_t>> shapes;
    for (auto &[name, t] : sim.stateDict()) {
        state[name] = toVector(t);
        shapes[name] = t.sizes().vec();
    }
    m_observer->checkpoint(step, state, shapes);
}

void CalibrationContext::checkStop()
{
    if (m_stop)
        m_stop->check();
}

void CalibrationContext::setResult(ModelWeights base, std::unique_ptr<QuantSim> sim)
{
    m_base = std::move(base);
    m_sim = std::move(sim);
}

double cosineLr(double maxLr, double minLr, int64_t it, int64_t maxIt)
{
    if (maxIt <= 0)
        return maxLr;
    return minLr + 0.5 * (1.0 + std::cos(M_PI * double(it) / double(maxIt))) * (maxLr - minLr);
}

namespace {

ModelWeights cloneWeights(const ModelWeights &w, bool tied)
{
    ModelWeights c;
    auto cl = [](const at::Tensor &t) { return t.defined() ? t.detach().clone() : at::Tensor(); };
    c.embed = cl(w.embed);
    c.finalNormW = cl(w.finalNormW);
    c.finalNormB = cl(w.finalNormB);
    c.lmHead = tied ? c.embed : cl(w.lmHead);
    for (const LayerWeights &l : w.layers) {
        LayerWeights n;
        n.attnNormW = cl(l.attnNormW); n.attnNormB = cl(l.attnNormB);
        n.qW = cl(l.qW); n.qB = cl(l.qB); n.kW = cl(l.kW); n.kB = cl(l.kB);
        n.vW = cl(l.vW); n.vB = cl(l.vB); n.oW = cl(l.oW); n.oB = cl(l.oB);
        n.mlpNormW = cl(l.mlpNormW); n.mlpNormB = cl(l.mlpNormB);
        n.gateW = cl(l.gateW); n.gateB = cl(l.gateB); n.upW = cl(l.upW); n.upB = cl(l.upB);
        n.downW = cl(l.downW); n.downB = cl(l.downB);
        c.layers.push_back(n);
    }
    return c;
}

// Per-site statistics of the float model with weights `w` over every calibration window.
ActStatsCollector collectStats(CalibrationContext &ctx, const ModelWeights &w)
{
    c10::NoGradGuard noGrad;
    ActStatsCollector stats;
    const Transformer model(ctx.config(), w);
    for (int64_t i = 0; i < ctx.samples().size(0); ++i) {
        ctx.checkStop();
        model.forward(ctx.samples().narrow(0, i, 1), nullptr, &stats);
    }
    return stats;
}

SiteRanges rangesOf(const ActStatsCollector &stats, const CalibrationContext &ctx)
{
    SiteRanges r;
    const bool silu = ctx.config().act == Activation::Silu;
    for (int l = 0; l < ctx.config().numLayers; ++l)
        for (int s = 0; s < kActSiteCount; ++s)
            if (actSiteExists(ActSite(s), silu)) {
                const std::string name = actSiteName(l, ActSite(s));
                r[name] = stats.initialRange(name);
            }
    return r;
}

// SmoothQuant pre-smoothing (§2.4), then the ranges of the smoothed model (§3.2).
std::pair<ModelWeights, SiteRanges> smoothedStart(CalibrationContext &ctx, double alpha)
{
    ctx.stage("collecting activation statistics");
    ActStatsCollector raw = collectStats(ctx, ctx.model().weights());
    ModelWeights w = cloneWeights(ctx.model().weights(), ctx.config().tiedEmbeddings);
    ctx.stage("SmoothQuant pre-smoothing (alpha " + std::to_string(alpha).substr(0, 4) + ")");
    smoothQuant(ctx.config(), w, raw.channelAbsMax(), alpha);
    ctx.stage("activation ranges of the smoothed model");
    ActStatsCollector smoothed = collectStats(ctx, w);
    return {std::move(w), rangesOf(smoothed, ctx)};
}

// A hook that runs the simulation and remembers the first site whose output is not finite:
// the diagnostic a NaN/inf loss gets.
class NonFiniteFinder : public SiteHook
{
public:
    explicit NonFiniteFinder(QuantSim &sim)
        : m_sim(sim)
    {
    }
    at::Tensor activation(int layer, ActSite s, const at::Tensor &x) override
    {
        at::Tensor y = m_sim.activation(layer, s, x);
        if (first.empty() && !at::isfinite(y).all().item<bool>())
            first = actSiteName(layer, s) + (at::isfinite(x).all().item<bool>() ? " (after quantization)" : "");
        return y;
    }
    at::Tensor weight(int layer, WeightSite s, const at::Tensor &w) override
    {
        at::Tensor y = m_sim.weight(layer, s, w);
        if (first.empty() && !at::isfinite(y).all().item<bool>())
            first = weightSiteName(layer, s);
        return y;
    }
    std::string first;

private:
    QuantSim &m_sim;
};

[[noreturn]] void nonFiniteLoss(CalibrationContext &ctx, QuantSim &sim, const ModelWeights &base,
                                const at::Tensor &input, int64_t step,
                                const std::map<std::string, at::Tensor> &lastGood)
{
    std::string where = sim.firstNonFiniteParameter();
    if (where.empty()) {
        c10::NoGradGuard noGrad;
        NonFiniteFinder finder(sim);
        at::Tensor x = ctx.model().embed(input);
        for (int l = 0; l < ctx.config().numLayers && finder.first.empty(); ++l)
            x = ctx.model().layer(l, sim.transformedLayer(l, base.layers[size_t(l)]), x, 0, nullptr, &finder);
        where = finder.first.empty() ? "the loss only (every site was finite)" : "site " + finder.first;
    } else {
        where = "learned parameter " + where;
    }
    sim.loadStateDict(lastGood);
    ctx.maybeCheckpoint(sim, step - 1, true);
    throw Error("the loss became NaN/inf at step " + std::to_string(step) + "; first non-finite value: " + where
                + ". The parameters of step " + std::to_string(step - 1)
                + " are kept; lower the learning rates (--let-lr, --lwc-lr, --lrl-lr) and resume");
}

struct Groups
{
    std::vector<std::string> names;
    std::vector<std::pair<double, double>> lrs; // max, min
};

std::unique_ptr<torch::optim::AdamW> makeOptimizer(QuantSim &sim, const TrainSettings &s, int layer, Groups &groups)
{
    std::vector<torch::optim::OptimizerParamGroup> pg;
    auto add = [&](const char *name, std::vector<at::Tensor> params, double maxLr, double minLr) {
        if (params.empty())
            return;
        auto opts = std::make_unique<torch::optim::AdamWOptions>(maxLr);
        opts->weight_decay(0.0); // --wd 0 in every reference script
        pg.emplace_back(std::move(params), std::move(opts));
        groups.names.emplace_back(name);
        groups.lrs.emplace_back(maxLr, minLr);
    };
    add("let", sim.letParameters(layer), s.letLr, s.letMinLr);
    add("lwc", sim.lwcParameters(layer), s.lwcLr, s.lwcMinLr);
    add("lrl", sim.lrlParameters(layer), s.lrlLr, s.lrlMinLr);
    if (pg.empty())
        throw Error("nothing to train: LET, LWC and LRL are all off");
    return std::make_unique<torch::optim::AdamW>(std::move(pg), torch::optim::AdamWOptions(s.letLr).weight_decay(0.0));
}

std::map<std::string, double> setLearningRates(torch::optim::AdamW &opt, const Groups &g, int64_t it, int64_t maxIt)
{
    std::map<std::string, double> out;
    for (size_t i = 0; i < g.names.size(); ++i) {
        const double lr = cosineLr(g.lrs[i].first, g.lrs[i].second, it, maxIt);
        static_cast<torch::optim::AdamWOptions &>(opt.param_groups()[i].options()).lr(lr);
        out[g.names[i]] = lr;
    }
    return out;
}

double secondsSince(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class RtnMethod : public CalibrationMethod
{
public:
    std::string id() const override { return "rtn"; }
    void run(CalibrationContext &ctx) override
    {
        ctx.stage("collecting activation ranges");
        ActStatsCollector stats = collectStats(ctx, ctx.model().weights());
        QuantSimOptions o{false, false, false};
        auto sim = std::make_unique<QuantSim>(ctx.config(), ctx.precisionMap(), rangesOf(stats, ctx), o);
        ModelWeights base = cloneWeights(ctx.model().weights(), ctx.config().tiedEmbeddings);
        ctx.workingWeights = &base;
        ctx.maybeSnapshot(*sim, 0, true);
        ctx.maybeCheckpoint(*sim, 0, true);
        ctx.workingWeights = nullptr;
        ctx.setResult(std::move(base), std::move(sim));
    }
};

class SmoothQuantMethod : public CalibrationMethod
{
public:
    explicit SmoothQuantMethod(double alpha)
        : m_alpha(alpha)
    {
    }
    std::string id() const override { return "smoothquant"; }
    void run(CalibrationContext &ctx) override
    {
        auto [w, ranges] = smoothedStart(ctx, m_alpha);
        QuantSimOptions o{false, false, false};
        auto sim = std::make_unique<QuantSim>(ctx.config(), ctx.precisionMap(), ranges, o);
        ctx.workingWeights = &w;
        ctx.maybeSnapshot(*sim, 0, true);
        ctx.maybeCheckpoint(*sim, 0, true);
        ctx.workingWeights = nullptr;
        ctx.setResult(std::move(w), std::move(sim));
    }

private:
    double m_alpha;
};

// What the two trained methods share: the SmoothQuant start, the simulation (restored when
// resuming), and one optimiser step with its reporting, snapshots, checkpoints and NaN check.
class Training
{
public:
    Training(CalibrationContext &ctx, const TrainSettings &s, int64_t totalSteps)
        : m_ctx(ctx)
        , m_s(s)
        , m_total(totalSteps)
    {
        auto [base, ranges] = smoothedStart(ctx, s.alpha);
        base_ = std::move(base);
        sim = std::make_unique<QuantSim>(ctx.config(), ctx.precisionMap(), ranges, QuantSimOptions{s.let, s.lwc, s.lrl});
        if (!ctx.resumeState.empty())
            sim->loadStateDict(ctx.resumeState);
        ctx.workingWeights = &base_;
        ctx.maybeSnapshot(*sim, ctx.resumeStep, true);
        ctx.maybeCheckpoint(*sim, ctx.resumeStep, true);
        m_start = std::chrono::steady_clock::now();
    }

    const ModelWeights &base() const { return base_; }

    // A fresh AdamW over one layer's parameters (or all, layer = -1), one group per kind.
    void newOptimizer(int layer)
    {
        m_groups = Groups{};
        m_opt = makeOptimizer(*sim, m_s, layer, m_groups);
    }

    // Step `step` of the run (1-based), iteration `it` of `maxIt` in the current schedule.
    void step(int64_t step, int64_t it, int64_t maxIt, int layer, const at::Tensor &input,
              const std::function<at::Tensor()> &computeLoss)
    {
        m_ctx.checkStop();
        auto lastGood = sim->stateDict();
        StepEvent e;
        e.learningRates = setLearningRates(*m_opt, m_groups, it, maxIt);
        at::Tensor loss = computeLoss();
        e.loss = loss.item<double>();
        if (!std::isfinite(e.loss))
            nonFiniteLoss(m_ctx, *sim, base_, input, step, lastGood);
        m_opt->zero_grad();
        loss.backward();
        m_opt->step();
        ++m_done;
        e.step = step;
        e.total = m_total;
        e.layer = layer;
        e.seconds = secondsSince(m_start);
        e.etaSeconds = e.seconds / double(m_done) * double(m_total - step);
        m_ctx.reportStep(e);
        m_ctx.maybeSnapshot(*sim, step);
        m_ctx.maybeCheckpoint(*sim, step);
    }

    void finish()
    {
        m_ctx.maybeSnapshot(*sim, m_total, true);
        m_ctx.maybeCheckpoint(*sim, m_total, true);
        m_ctx.workingWeights = nullptr;
        m_ctx.setResult(std::move(base_), std::move(sim));
    }

    std::unique_ptr<QuantSim> sim;

private:
    CalibrationContext &m_ctx;
    TrainSettings m_s;
    int64_t m_total;
    ModelWeights base_;
    Groups m_groups;
    std::unique_ptr<torch::optim::AdamW> m_opt;
    std::chrono::steady_clock::time_point m_start;
    int64_t m_done = 0;
};

// OmniQuant-style block-wise training (§5.3): layer by layer, MSE against the float layer's
// output, the quantized input chain feeding the next layer.
class BlockwiseMethod : public CalibrationMethod
{
public:
    explicit BlockwiseMethod(TrainSettings s)
        : m_s(s)
    {
    }
    std::string id() const override { return "blockwise"; }
    void run(CalibrationContext &ctx) override
    {
        const int64_t n = ctx.samples().size(0), L = ctx.config().numLayers;
        const int64_t perLayer = int64_t(m_s.epochs) * n;
        Training t(ctx, m_s, perLayer * L);
        const Transformer &model = ctx.model();
        at::Tensor fpIn, qIn;
        {
            c10::NoGradGuard noGrad;
            fpIn = model.embed(ctx.samples());
            qIn = fpIn.clone();
        }
        for (int l = 0; l < L; ++l) {
            const LayerWeights &lw = t.base().layers[size_t(l)];
            at::Tensor fpOut;
            {
                c10::NoGradGuard noGrad;
                fpOut = model.layer(l, lw, fpIn, 0, nullptr, nullptr);
            }
            const int64_t layerStart = int64_t(l) * perLayer;
            if (ctx.resumeStep < layerStart + perLayer) {
                ctx.stage("training layer " + std::to_string(l) + " of " + std::to_string(L));
                t.newOptimizer(l);
                for (int64_t it = std::max<int64_t>(0, ctx.resumeStep - layerStart); it < perLayer; ++it) {
                    const int64_t i = it % n;
                    t.step(layerStart + it + 1, it, perLayer, l, ctx.samples().narrow(0, i, 1), [&] {
                        at::Tensor out = t.sim->layerForward(model, l, lw, qIn.narrow(0, i, 1));
                        return (out - fpOut.narrow(0, i, 1)).pow(2).mean();
                    });
                }
            }
            c10::NoGradGuard noGrad;
            qIn = t.sim->layerForward(model, l, lw, qIn);
            fpIn = fpOut;
        }
        t.finish();
    }

private:
    TrainSettings m_s;
};

// MobileQuant end-to-end (§5.2): every layer's LET, LWC and LRL trained jointly on the MSE of the
// last decoder layer's output against the (smoothed) float model.
class EndToEndMethod : public CalibrationMethod
{
public:
    explicit EndToEndMethod(TrainSettings s)
        : m_s(s)
    {
    }
    std::string id() const override { return "mobilequant"; }
    void run(CalibrationContext &ctx) override
    {
        const int64_t n = ctx.samples().size(0), total = int64_t(m_s.epochs) * n;
        Training t(ctx, m_s, total);
        const Transformer model(ctx.config(), t.base());
        ctx.stage("float targets");
        at::Tensor targets;
        {
            c10::NoGradGuard noGrad;
            targets = model.hiddenStates(ctx.samples());
        }
        ctx.stage("end-to-end training");
        t.newOptimizer(-1);
        for (int64_t it = ctx.resumeStep; it < total; ++it) {
            const int64_t i = it % n;
            const at::Tensor input = ctx.samples().narrow(0, i, 1);
            t.step(it + 1, it, total, -1, input, [&] {
                return (hidden(*t.sim, model, t.base(), input) - targets.narrow(0, i, 1)).pow(2).mean();
            });
        }
        t.finish();
    }

private:
    at::Tensor hidden(QuantSim &sim, const Transformer &model, const ModelWeights &base, const at::Tensor &input)
    {
        if (!m_s.checkpointLayers)
            return sim.hiddenStates(model, base, input);
        at::Tensor x = model.embed(input);
        std::vector<std::function<at::Tensor(const at::Tensor &)>> layers;
        layers.reserve(size_t(model.config().numLayers));
        for (int l = 0; l < model.config().numLayers; ++l) {
            layers.emplace_back([&sim, &model, &base, l](const at::Tensor &in) {
                return sim.layerForward(model, l, base.layers[size_t(l)], in);
            });
            std::vector<at::Tensor> params = sim.letParameters(l);
            for (const auto &group : {sim.lwcParameters(l), sim.lrlParameters(l)})
                params.insert(params.end(), group.begin(), group.end());
            x = checkpointedLayer(layers.back(), x, params);
        }
        // The closures must outlive backward(): keep them with the method until the next step.
        m_layerFns = std::move(layers);
        return x;
    }

    TrainSettings m_s;
    std::vector<std::function<at::Tensor(const at::Tensor &)>> m_layerFns;
};

} // namespace

std::unique_ptr<CalibrationMethod> makeRtnMethod() { return std::make_unique<RtnMethod>(); }
std::unique_ptr<CalibrationMethod> makeSmoothQuantMethod(double alpha) { return std::make_unique<SmoothQuantMethod>(alpha); }
std::unique_ptr<CalibrationMethod> makeBlockwiseMethod(TrainSettings s) { return std::make_unique<BlockwiseMethod>(s); }
std::unique_ptr<CalibrationMethod> makeEndToEndMethod(TrainSettings s) { return std::make_unique<EndToEndMethod>(s); }

} // namespace mq
