// Integration: a real calibration of the 260K-parameter model through methods that the plugins
// created, to prove the plugins hand the engine's methods their settings.
#include "../model/test_support.h"

#include "core/calib/calib_data.h"
#include "core/calib/calibration_context.h"
#include "core/model/model.h"
#include "core/quant/precision_map.h"
#include "plugins/api/plugin_manager.h"

#include <ATen/Parallel.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace {

using namespace mq;

const QuantMethodPlugin &methodPlugin(const char *id)
{
    static PluginManager *manager = [] {
        auto *m = new PluginManager(QStringList { QStringLiteral(MQ_METHOD_PLUGIN_DIR) });
        m->scan();
        return m;
    }();
    const QuantMethodPlugin *p = manager->method(QLatin1String(id));
    if (!p)
        throw std::runtime_error(std::string("method plugin not loaded: ") + id);
    return *p;
}

// The stories260K model and `count` windows of 32 tokens of a short story.
struct Stories
{
    Model model;
    at::Tensor samples;
};

Stories stories(int count)
{
    at::set_num_threads(1);
    LoadOptions options;
    options.requireTokenizer = true;
    Model model = loadModel((test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string(), options);
    const std::string text
        = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
          "One day, she saw a big, red ball. She wanted to play with it, but it was too high. Her mom said "
          "they could go to the store and buy a new one. Lily was happy and they went together.";
    const std::vector<int> ids = model.tokenizer->encode(text, true, false);
    at::Tensor samples = sampleWindows(ids, count, 32);
    return { std::move(model), samples };
}

// Counts the optimiser steps and keeps the first one's learning rates.
class StepRecorder : public CalibrationObserver
{
public:
    void stage(const std::string &) override { }
    void step(const StepEvent &e) override
    {
        if (steps.empty())
            firstLearningRates = e.learningRates;
        steps.push_back(e.step);
    }
    void snapshot(const SnapshotEvent &) override { }
    void checkpoint(int64_t, const std::map<std::string, std::vector<float>> &,
        const std::map<std::string, std::vector<int64_t>> &) override
    {
    }
    std::vector<int64_t> steps;
    std::map<std::string, double> firstLearningRates;
};

// Runs the method `id` makes from `settings`, which must be valid, on a fresh context.
std::unique_ptr<CalibrationContext> run(
    const Stories &st, const char *id, const QVariantMap &settings, CalibrationObserver *observer = nullptr)
{
    const QuantMethodPlugin &plugin = methodPlugin(id);
    const QStringList errors = plugin.validateSettings(settings);
    EXPECT_TRUE(errors.isEmpty()) << errors.join(QStringLiteral(" | ")).toStdString();
    auto context = std::make_unique<CalibrationContext>(
        *st.model.transformer, st.samples, PrecisionMap(WeightPreset::W8A8), observer, nullptr);
    std::unique_ptr<CalibrationMethod> method = plugin.createMethod(settings);
    EXPECT_EQ(method->id(), id);
    method->run(*context);
    return context;
}

TEST(MethodPluginRuns, MobileQuantTrainsWithThePluginsSettings)
{
    const Stories st = stories(2);
    StepRecorder recorder;
    const auto ctx
        = run(st, "mobilequant", { { QStringLiteral("epochs"), 2 }, { QStringLiteral("let-lr"), 2e-3 } }, &recorder);
    ASSERT_NE(ctx->sim(), nullptr);
    EXPECT_FALSE(ctx->sim()->letParameters().empty());
    EXPECT_FALSE(ctx->sim()->lwcParameters().empty());
    EXPECT_FALSE(ctx->sim()->lrlParameters().empty());
    // epochs × windows steps, batch 1 (§5.2); the cosine schedule starts at the peak rate.
    EXPECT_EQ(recorder.steps, (std::vector<int64_t> { 1, 2, 3, 4 }));
    EXPECT_DOUBLE_EQ(recorder.firstLearningRates["let"], 2e-3);
    EXPECT_DOUBLE_EQ(recorder.firstLearningRates["lwc"], 1e-2);
    EXPECT_DOUBLE_EQ(recorder.firstLearningRates["lrl"], 1e-6);
}

TEST(MethodPluginRuns, SwitchedOffGroupsAreNotTrained)
{
    const Stories st = stories(1);
    const auto ctx = run(st, "mobilequant",
        { { QStringLiteral("epochs"), 1 }, { QStringLiteral("let"), false }, { QStringLiteral("lrl"), false } });
    ASSERT_NE(ctx->sim(), nullptr);
    EXPECT_TRUE(ctx->sim()->letParameters().empty());
    EXPECT_FALSE(ctx->sim()->lwcParameters().empty());
    EXPECT_TRUE(ctx->sim()->lrlParameters().empty());
}

TEST(MethodPluginRuns, RtnLeavesAnUntrainedSim)
{
    const Stories st = stories(2);
    const auto ctx = run(st, "rtn", {});
    ASSERT_NE(ctx->sim(), nullptr);
    EXPECT_TRUE(ctx->sim()->letParameters().empty());
    EXPECT_TRUE(ctx->sim()->lwcParameters().empty());
    EXPECT_TRUE(ctx->sim()->lrlParameters().empty());
}

} // namespace
