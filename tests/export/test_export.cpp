// `mq export` and the integer runtime on stories260K: calibrate short real runs here (RTN W8A8,
// end-to-end MobileQuant W4A8 with a few steps), export every variant, and compare the packages
// with the LibTorch float model and with the deployment simulation of the same run (the one
// `mq eval --run` evaluates) on evaluation text from ../shared/data/tinystories.
#include "../model/test_support.h"
#include "parity.h"

#include "core/calib/session.h"
#include "core/eval/eval.h"
#include "core/export/exporter.h"
#include "core/quant/fake_quant.h"
#include "core/runtime/executor.h"
#include "core/store/run_writer.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <unistd.h>
#include <set>
#include <sstream>

using namespace mq;
using mq::test::agreementOf;
using mq::test::Float64Sim;
using mq::test::widened;
namespace fs = std::filesystem;

namespace {

constexpr int kSeqLen = 128;
constexpr int64_t kEvalTokens = 4000; // the first 4000 tokens of the evaluation text keep tests fast

struct Fixture
{
    fs::path dir;
    std::string rtnRun, e2eRun;
    std::unique_ptr<Deployment> rtn, e2e;
    std::vector<int> evalIds;
    std::map<std::string, std::string> packages; // "w8a8", "w4a8", "a16", "fp32"
};

Fixture *g_fixture = nullptr;

std::string readAll(const fs::path &p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void calibrate(const fs::path &dir, const std::string &method, const std::string &bits, const std::string &run)
{
    SessionConfig c;
    c.modelPath = (test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string();
    c.method = method;
    c.bits = bits;
    c.calibPath = (dir / "calib.txt").string();
    c.samples = 4;
    c.seqLen = 64;
    c.train.epochs = 2; // 8 end-to-end steps: a real trained checkpoint, quickly
    c.snapshotEvery = 4;
    c.checkpointEvery = 4;
    c.threads = 1;
    c.runPath = run;
    c.overwrite = true;
    Session s(c);
    s.start();
    const SessionResult r = s.wait();
    ASSERT_EQ(int(r.status), int(SessionResult::Status::Finished)) << r.error;
}

class Export : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        at::set_num_threads(1);
        g_fixture = new Fixture;
        Fixture &f = *g_fixture;
        // One folder per process: ctest runs each TEST as its own process, in parallel.
        f.dir = fs::temp_directory_path() / "mq-tests" / ("Export-" + std::to_string(getpid()));
        fs::remove_all(f.dir);
        fs::create_directories(f.dir);
        // The split of docs/quantization.md: calibration = the first 10 lines, evaluation = the next 9.
        std::ifstream in(test::sharedDir() / "data" / "tinystories" / "TinyStories-valid.sample30K.txt");
        std::ofstream calib(f.dir / "calib.txt"), eval(f.dir / "eval.txt");
        std::string line;
        for (int i = 0; i < 19 && std::getline(in, line); ++i)
            (i < 10 ? calib : eval) << line << "\n";
        calib.close();
        eval.close();
        f.rtnRun = (f.dir / "rtn-w8a8.h5").string();
        f.e2eRun = (f.dir / "mobilequant-w4a8.h5").string();
        calibrate(f.dir, "rtn", "W8A8", f.rtnRun);
        calibrate(f.dir, "mobilequant", "W4A8", f.e2eRun);
        f.rtn = std::make_unique<Deployment>(rebuildDeployment(f.rtnRun));
        f.e2e = std::make_unique<Deployment>(rebuildDeployment(f.e2eRun));
        f.evalIds = f.rtn->model.tokenizer->encode(readAll(f.dir / "eval.txt"), true, false);
        for (auto [name, d, v] : {std::tuple {"w8a8", f.rtn.get(), ModelVariant::W8A8},
                 std::tuple {"w4a8", f.e2e.get(), ModelVariant::W4A8}, std::tuple {"a16", f.rtn.get(), ModelVariant::A16},
                 std::tuple {"fp32", f.rtn.get(), ModelVariant::FP32}}) {
            const std::string path = (f.dir / (std::string(name) + ".mqpkg")).string();
            exportPackage(*d, v, path, name == std::string("w4a8") ? f.e2eRun : f.rtnRun);
            f.packages[name] = path;
        }
    }
    static void TearDownTestSuite()
    {
        fs::remove_all(g_fixture->dir);
        delete g_fixture;
        g_fixture = nullptr;
    }
    Fixture &f() { return *g_fixture; }
};

std::vector<int32_t> ids32(const std::vector<int> &ids) { return std::vector<int32_t>(ids.begin(), ids.end()); }

// The deployment simulation's argmax over the same windows as runtimePerplexity (parity.h).
RuntimePerplexity simulate(const std::vector<int> &ids, SiteHook *hook, const Transformer &model, std::vector<double> &margins)
{
    return test::simulate(ids, hook, model, margins, kSeqLen, kEvalTokens);
}

void expectParity(Fixture &f, const Deployment &d, const std::string &variant)
{
    auto sim = d.simulation();
    const Package pkg = Package::open(f.packages.at(variant));
    Float64Sim sim64(*sim, d, &pkg);
    const Transformer folded(d.model.config(), d.folded), folded64(d.model.config(), widened(d.folded));
    std::vector<double> margins, margins64;
    const RuntimePerplexity s = simulate(f.evalIds, sim.get(), folded, margins);
    const RuntimePerplexity s64 = simulate(f.evalIds, &sim64, folded64, margins64);
    auto m = ModelExecutor::open(f.packages.at(variant));
    const RuntimePerplexity p = runtimePerplexity(*m, ids32(f.evalIds), kSeqLen, 0, kEvalTokens);
    ASSERT_EQ(p.argmax.size(), s.argmax.size());
    ASSERT_EQ(s64.argmax.size(), s.argmax.size());
    std::vector<double> disagreeMargins;
    for (size_t i = 0; i < p.argmax.size(); ++i)
        if (p.argmax[i] != s.argmax[i])
            disagreeMargins.push_back(margins[i]);
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
    };
    std::printf("[ parity ] %s: simulation's top-1 minus top-2 log-probability: median %.4f over all positions, "
                "%.4f where package and simulation disagree\n",
        variant.c_str(), median(margins), median(disagreeMargins));
    const double agreement = agreementOf(p.argmax, s.argmax), agreement64 = agreementOf(p.argmax, s64.argmax);
    const double noiseFloor = agreementOf(s.argmax, s64.argmax);
    const double rel = p.perplexity() / s.perplexity() - 1.0, rel64 = p.perplexity() / s64.perplexity() - 1.0;
    std::printf("[ parity ] %s: argmax agreement %.2f%% of %zu positions; perplexity package %.4f, simulation %.4f "
                "(%+.3f%%); package %.0f tokens/s\n",
        variant.c_str(), 100.0 * agreement, p.argmax.size(), p.perplexity(), s.perplexity(), 100.0 * rel,
        p.tokensPerSecond());
    std::printf("[ parity ] %s: noise floor: the float32 simulation agrees with itself computed in float64 on %.2f%% "
                "(perplexity %.4f vs %.4f); the package agrees with the float64 simulation on %.2f%% (%+.3f%%)\n",
        variant.c_str(), 100.0 * noiseFloor, s.perplexity(), s64.perplexity(), 100.0 * agreement64, 100.0 * rel64);
    // The issue asks for >= 99% agreement with the simulation. The integer runtime computes every
    // site from the codes before it exactly (one rounding); the float32 simulation rounds every
    // operation between the sites to 24 bits, which at the 16-bit sites moves a code by one step
    // wherever the exact value lies within ~0.004 of a step of a half (SiteCodesMatchTheSimulation:
    // ~0.01-0.1 % of the codes of each 16-bit site, never an 8-bit site on its own), and this tiny
    // model amplifies such steps into flipped near-ties of its top-2 logits. The same simulation
    // evaluated in float64 is the yardstick with that noise removed: the package must agree with
    // it on >= 99 % (measured 100.00 % for both, perplexity equal to 4 decimals, since the float
    // end's codes are dequantized exactly as the runtime carries them, parity.h; 99.97 % before).
    // Against the float32 simulation the package cannot do better than the float32 simulation
    // does against its own float64 evaluation (measured 98.15 % W8A8, 98.95 % W4A8, the same as
    // the package), so that bound is the noise floor measured here minus 0.5 % (20 positions; a
    // real regression of the runtime fails it).
    EXPECT_GE(agreement64, 0.99);
    EXPECT_GE(agreement, std::min(0.99, noiseFloor - 0.005));
    EXPECT_LE(std::abs(rel), 0.01);
    EXPECT_LE(std::abs(rel64), 0.01);
}

// Records the codes of every activation site of one simulation forward: the fake-quantized value
// y = (c - z) s (float32) gives back c = round(y / s) + z exactly (|y / s - (c - z)| <= 65535 *
// 2^-24 < 0.01), with (s, z) the package's grid of the site.
class SimCodes : public SiteHook
{
public:
    SimCodes(SiteHook &sim, const Package &pkg)
        : m_sim(sim)
        , m_pkg(pkg)
    {
    }
    at::Tensor activation(int layer, ActSite site, const at::Tensor &x) override
    {
        at::Tensor y = m_sim.activation(layer, site, x);
        const std::string stem = "layers." + std::to_string(layer) + "." + actSiteName(site);
        const double scale = *reinterpret_cast<const float *>(m_pkg.tensor(stem + ".scale").data);
        const int32_t zp = reinterpret_cast<const int32_t *>(m_pkg.tensor(stem + ".quant").data)[0];
        at::Tensor c = at::round(y.detach().to(at::kDouble) / scale) + double(zp);
        // The runtime's layouts: [T, heads * head_dim] for the per-head sites ([1, heads, T, D]
        // here); qk.out and pv.in stay [heads, T, S] and are read row by row; the rest are [T, width].
        if (site == ActSite::QkIn || site == ActSite::QkIn2 || site == ActSite::PvIn2)
            c = c[0].transpose(0, 1).reshape({c.size(2), -1});
        else
            c = c[0];
        codes[{layer, int(site)}] = c.to(at::kInt).contiguous();
        return y;
    }
    at::Tensor weight(int layer, WeightSite site, const at::Tensor &w) override { return m_sim.weight(layer, site, w); }

    std::map<std::pair<int, int>, at::Tensor> codes; // (layer, site) → int32 codes in the runtime's layout

private:
    SiteHook &m_sim;
    const Package &m_pkg;
};

struct SiteDiff
{
    int64_t total = 0, differ = 0, maxAbs = 0;
};

// Compares the package's codes with the simulation's at every site of one window of T tokens. With
// `force`, the runtime continues from the simulation's codes after each site, so each row measures
// one operator on identical inputs; without, differences propagate as in a real run.
std::map<std::pair<int, int>, SiteDiff> compareSites(ModelExecutor &m, const Package &pkg, const Deployment &d,
    const std::vector<int32_t> &tokens, bool force, bool float64)
{
    c10::NoGradGuard noGrad;
    auto sim = d.simulation();
    Float64Sim sim64(*sim, d, &pkg);
    SimCodes rec(float64 ? static_cast<SiteHook &>(sim64) : *sim, pkg);
    const Transformer folded(d.model.config(), float64 ? widened(d.folded) : d.folded);
    at::Tensor input = at::empty({1, int64_t(tokens.size())}, at::kLong);
    for (size_t i = 0; i < tokens.size(); ++i)
        input[0][int64_t(i)] = int64_t(tokens[i]);
    folded.forward(input, nullptr, &rec);
    std::map<std::pair<int, int>, SiteDiff> diffs;
    m.setSiteObserver([&](const ModelExecutor::SiteCodes &sc) {
        const at::Tensor &ref = rec.codes.at({sc.layer, int(sc.site)});
        const int32_t *r = ref.data_ptr<int32_t>();
        if (sc.head >= 0) // one attention row: [heads, T, S] in the simulation, keys from `first`
            r += (int64_t(sc.head) * ref.size(1) + sc.row) * ref.size(2) + sc.first;
        else
            EXPECT_EQ(size_t(ref.numel()), sc.count) << rtSiteName(sc.site);
        SiteDiff &dd = diffs[{sc.layer, int(sc.site)}];
        for (size_t i = 0; i < sc.count; ++i) {
            const int64_t delta = std::abs(int64_t(sc.codes[i]) - r[i]);
            dd.differ += delta != 0;
            dd.maxAbs = std::max(dd.maxAbs, delta);
            if (force)
                sc.codes[i] = r[i];
        }
        dd.total += int64_t(sc.count);
    });
    std::vector<float> logits;
    m.reset();
    m.forward(tokens.data(), int(tokens.size()), logits, true);
    m.setSiteObserver({});
    m.reset();
    return diffs;
}

using SiteDiffs = std::map<std::pair<int, int>, SiteDiff>;

void printSiteDiffs(const std::string &title, const ModelPackageConfig &c, const SiteDiffs &free, const SiteDiffs &forced)
{
    std::printf("[ sites ] %s, one window of %d tokens: codes differing, %% (max |diff|); 'alone' = the runtime's "
                "operator on the simulation's inputs, 'propagated' = a free run; sites not listed: identical\n",
        title.c_str(), kSeqLen);
    for (int l = 0; l < c.layers; ++l)
        for (int s = 0; s < kRtSiteCount; ++s) {
            auto a = forced.find({l, s}), b = free.find({l, s});
            if (a == forced.end() || b == free.end() || (a->second.differ == 0 && b->second.differ == 0))
                continue;
            std::printf("[ sites ]   layer %d %-14s alone %7.3f%% (%lld)   propagated %7.3f%% (%lld)\n", l,
                rtSiteName(RtSite(s)), 100.0 * double(a->second.differ) / double(a->second.total),
                (long long)a->second.maxAbs, 100.0 * double(b->second.differ) / double(b->second.total),
                (long long)b->second.maxAbs);
        }
}

} // namespace

TEST_F(Export, SiteCodesMatchTheSimulation)
{
    for (auto [variant, d] : {std::pair {"w8a8", f().rtn.get()}, std::pair {"w4a8", f().e2e.get()}}) {
        auto m = ModelExecutor::open(f().packages.at(variant));
        const Package pkg = Package::open(f().packages.at(variant));
        const std::vector<int32_t> tokens(f().evalIds.begin(), f().evalIds.begin() + kSeqLen);
        for (bool float64 : {false, true}) {
            const SiteDiffs forced = compareSites(*m, pkg, *d, tokens, true, float64);
            const SiteDiffs free = compareSites(*m, pkg, *d, tokens, false, float64);
            printSiteDiffs(std::string(variant) + (float64 ? " vs the float64 simulation" : " vs the float32 simulation"),
                m->config(), free, forced);
            // Each operator on the simulation's inputs: at most one step, and rarely. Against the
            // float32 simulation only its 16-bit sites differ (its 24-bit arithmetic near halves;
            // measured <= 0.1 % of a site's codes); against the float64 one only the softmax's
            // table rounding remains (measured <= 0.003 %).
            ASSERT_EQ(forced.size(), size_t(m->config().layers) * 20u) << variant;
            for (const auto &[key, diff] : forced) {
                const std::string where = std::string(variant) + " layer " + std::to_string(key.first) + " "
                    + rtSiteName(RtSite(key.second));
                EXPECT_LE(diff.maxAbs, 1) << where;
                EXPECT_LE(double(diff.differ), (float64 ? 1e-3 : 5e-3) * double(diff.total)) << where;
            }
        }
    }
}

TEST_F(Export, Fp32PackageLogitsEqualTheFloatModel)
{
    c10::NoGradGuard noGrad;
    const Deployment &d = *f().rtn;
    auto m = ModelExecutor::open(f().packages.at("fp32"));
    const int T = 100;
    std::vector<int32_t> tokens(f().evalIds.begin(), f().evalIds.begin() + T);
    std::vector<float> logits;
    m->forward(tokens.data(), T, logits, true);
    at::Tensor input = at::empty({1, T}, at::kLong);
    for (int i = 0; i < T; ++i)
        input[0][i] = int64_t(tokens[size_t(i)]);
    const at::Tensor ref = d.model.transformer->forward(input)[0].contiguous();
    const float *r = ref.data_ptr<float>();
    double worst = 0;
    for (size_t i = 0; i < logits.size(); ++i)
        worst = std::max(worst, double(std::abs(logits[i] - r[i])));
    std::printf("[ fp32 ] max |package - LibTorch| logit difference over %d positions: %.3g\n", T, worst);
    EXPECT_LE(worst, 1e-4);

    // Perplexity with the windows of `mq eval` (core/eval) equals the float model's.
    PerplexityOptions po;
    po.seqLen = kSeqLen;
    po.maxTokens = kEvalTokens;
    const PerplexityResult ref2 = perplexity(*d.model.transformer, f().evalIds, po);
    const RuntimePerplexity p = runtimePerplexity(*m, ids32(f().evalIds), kSeqLen, 0, kEvalTokens);
    EXPECT_EQ(p.tokens, ref2.tokens);
    EXPECT_NEAR(p.perplexity(), ref2.tokenPerplexity(), 1e-4 * ref2.tokenPerplexity());
}

TEST_F(Export, W8A8PackageMatchesTheDeploymentSimulation) { expectParity(f(), *f().rtn, "w8a8"); }

TEST_F(Export, W4A8PackageMatchesTheDeploymentSimulation) { expectParity(f(), *f().e2e, "w4a8"); }

TEST_F(Export, A16PerplexityIsWithinPointTwoPercentOfFp32)
{
    auto a16 = ModelExecutor::open(f().packages.at("a16"));
    auto fp32 = ModelExecutor::open(f().packages.at("fp32"));
    const RuntimePerplexity a = runtimePerplexity(*a16, ids32(f().evalIds), kSeqLen, 0, kEvalTokens);
    const RuntimePerplexity b = runtimePerplexity(*fp32, ids32(f().evalIds), kSeqLen, 0, kEvalTokens);
    const double rel = a.perplexity() / b.perplexity() - 1.0;
    std::printf("[ a16 ] perplexity a16 %.4f, fp32 %.4f (%+.3f%%)\n", a.perplexity(), b.perplexity(), 100.0 * rel);
    EXPECT_LE(std::abs(rel), 0.002);
}

TEST_F(Export, DecodingMatchesPromptEncodingOnStories260K)
{
    for (const char *variant : {"w8a8", "w4a8", "a16", "fp32"}) {
        auto m = ModelExecutor::open(f().packages.at(variant));
        const int T = 48, split = 16;
        std::vector<int32_t> tokens(f().evalIds.begin(), f().evalIds.begin() + T);
        std::vector<float> prefill, step, decoded;
        m->forward(tokens.data(), T, prefill, true);
        m->reset();
        m->forward(tokens.data(), split, decoded, true);
        for (int t = split; t < T; ++t) {
            m->forward(&tokens[size_t(t)], 1, step, false);
            decoded.insert(decoded.end(), step.begin(), step.end());
        }
        double worst = 0;
        for (size_t i = 0; i < prefill.size(); ++i)
            worst = std::max(worst, double(std::abs(prefill[i] - decoded[i])));
        std::printf("[ decode vs prefill ] %s: max |logit difference| %.3g\n", variant, worst);
        EXPECT_LE(worst, std::string(variant) == "fp32" ? 1e-4 : 0.0) << variant;
    }
}

TEST_F(Export, PackageHoldsEveryTensorAndMetadataKey)
{
    const Deployment &d = *f().rtn;
    for (const auto &[variant, path] : f().packages) {
        const Package p = Package::open(path);
        const ModelPackageConfig c = readModelConfig(p);
        EXPECT_EQ(modelVariantName(c.variant), variant);
        std::set<std::string> expected, actual;
        for (const TensorSpec &s : modelPackageSpec(c))
            expected.insert(s.name);
        for (const std::string &n : p.names())
            actual.insert(n);
        EXPECT_EQ(actual, expected) << variant << ": the package holds exactly the tensors of its schema";
        const ModelConfig &mc = d.model.config();
        EXPECT_EQ(c.hidden, mc.hiddenSize);
        EXPECT_EQ(c.layers, mc.numLayers);
        EXPECT_EQ(c.kvHeads, mc.numKvHeads);
        EXPECT_EQ(c.vocab, mc.vocabSize);
        EXPECT_EQ(c.tokenizer, TokenizerKind::Llama2c);
        const PackageTensor tok = p.tensor("tokenizer");
        EXPECT_EQ(std::string(reinterpret_cast<const char *>(tok.data), tok.size), readAll(d.model.tokenizerPath));

        const nlohmann::json meta = nlohmann::json::parse(p.metadata());
        for (const char *key : {"format", "schema", "variant", "architecture", "config", "model", "run", "tokenizer",
                 "weights_from", "model_config", "activation", "exporter"})
            EXPECT_TRUE(meta.contains(key)) << variant << " metadata lacks " << key;
        EXPECT_EQ(meta["variant"], variant);
        EXPECT_EQ(meta["tokenizer"]["kind"], "llama2c");
        if (variant == "fp32")
            continue;
        for (const char *key : {"precision_map", "sites", "weights", "activation_ranges_from"})
            EXPECT_TRUE(meta.contains(key)) << variant << " metadata lacks " << key;
        // Every site's metadata equals its tensors.
        size_t sites = 0;
        for (auto &[name, s] : meta["sites"].items()) {
            const float scale = *reinterpret_cast<const float *>(p.tensor(name + ".scale").data);
            const auto *q = reinterpret_cast<const int32_t *>(p.tensor(name + ".quant").data);
            EXPECT_EQ(s["scale"].get<float>(), scale) << name;
            EXPECT_EQ(s["zero_point"].get<int32_t>(), q[0]) << name;
            EXPECT_EQ(s["qmin"].get<int32_t>(), q[1]) << name;
            EXPECT_EQ(s["qmax"].get<int32_t>(), q[2]) << name;
            ++sites;
        }
        EXPECT_EQ(sites, size_t(mc.numLayers) * 20u) << variant;
        EXPECT_EQ(meta["weights"].size(), size_t(mc.numLayers) * 9u) << variant;
    }
    // The W8A8 grids are the deployment simulation's: 8-bit sites [0, 255], the residual stream 16-bit.
    const nlohmann::json meta = nlohmann::json::parse(Package::open(f().packages.at("w8a8")).metadata());
    EXPECT_EQ(meta["sites"]["layers.0.attn.q.out"]["qmax"], 255);
    EXPECT_EQ(meta["sites"]["layers.0.attn_norm.in"]["qmax"], 65535);
    EXPECT_EQ(meta["weights"]["layers.0.mlp.down.weight"]["per_channel"], true);
}

TEST_F(Export, RuntimeSiteNamesAreTheModelsSiteNames)
{
    for (int s = 0; s < kActSiteCount; ++s)
        EXPECT_STREQ(rtSiteName(RtSite(s)), actSiteName(ActSite(s)));
    EXPECT_EQ(kRtSiteCount, kActSiteCount);
}

TEST_F(Export, ClearErrorsForRunsThatCannotBeExported)
{
    const fs::path dir = f().dir / "bad";
    fs::create_directories(dir);
    const std::string model = (test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string();
    auto fakeRun = [&](const std::string &name, const std::string &modelPath, const std::string &hash, bool declare) {
        SessionConfig c;
        c.modelPath = modelPath;
        c.method = "rtn";
        c.calibPath = (f().dir / "calib.txt").string();
        RunHeader h;
        h.configJson = c.toJson();
        h.model = {modelPath, hash, "llama"};
        if (declare)
            h.checkpoints.push_back({"learned", {{"act:layers.0.attn_norm.in:scale", {1}}}});
        const std::string path = (dir / name).string();
        RunWriter w = RunWriter::create(path, h, RunWriter::IfExists::Overwrite);
        w.close();
        return path;
    };
    auto errorOf = [](const std::string &run) {
        try {
            rebuildDeployment(run);
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string hash = checkpointHash(model);
    std::string e = errorOf(fakeRun("missing-model.h5", (dir / "nowhere.bin").string(), hash, true));
    EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
    e = errorOf(fakeRun("no-checkpoint.h5", model, hash, false));
    EXPECT_NE(e.find("no \"learned\" checkpoint"), std::string::npos) << e;
    e = errorOf(fakeRun("incomplete.h5", model, hash, true));
    EXPECT_NE(e.find("checkpoint"), std::string::npos) << e;
    e = errorOf(fakeRun("other-model.h5", model, "fnv1a64:0123456789abcdef", true));
    EXPECT_TRUE(e.find("content hash differs") != std::string::npos || e.find("checkpoint") != std::string::npos) << e;

    // A variant that does not match the run's weight bits.
    try {
        exportPackage(*f().rtn, ModelVariant::W4A8, (dir / "x.mqpkg").string());
        FAIL() << "a W8A8 run exported as w4a8";
    } catch (const Error &err) {
        EXPECT_NE(std::string(err.what()).find("does not match the run"), std::string::npos) << err.what();
    }
}
