#pragma once

#include "core/calib/calibration_context.h"
#include "core/calib/calibration_events.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace mq {

// Everything a calibration run is made of. Stored in the run file as JSON (config attribute), so a
// run can be resumed or repeated from its file alone.
struct SessionConfig
{
    std::string modelPath;
    std::string tokenizerPath; // empty: found beside the checkpoint
    std::string method = "mobilequant"; // rtn | smoothquant | blockwise | mobilequant
    std::string bits = "W8A8";          // W8A8 | W4A8 | W4A8-sym
    std::string precisionMapPath;       // optional JSON; overrides `bits`
    std::string calibPath;
    int samples = 16;
    int seqLen = 128;
    uint64_t seed = 1337;
    TrainSettings train; // train.alpha < 0 = per model: 0.6 for StableLM, 0.5 otherwise
    int snapshotEvery = 10;
    int checkpointEvery = 50;
    int threads = 0; // LibTorch intra-op threads; 0 = all cores
    std::vector<std::string> watchSites; // histograms of these sites at every snapshot
    int histogramBins = 128;
    std::string runPath;
    bool overwrite = false;
    std::string evalPath; // optional text to evaluate the float and quantized models on
    int evalSeqLen = 128;
    int64_t evalMaxTokens = 0;
    std::string saveDir; // optional: folded FP32 HF checkpoint + ranges + precision map

    std::string toJson() const;
    static SessionConfig fromJson(const std::string &json, const std::string &source);
};

// The outcome of a run, as a listener and the CLI see it.
struct SessionResult
{
    enum class Status { Finished, Cancelled, Failed } status = Status::Failed;
    std::string error; // a message for a person when Failed
    int64_t steps = 0;
    double finalLoss = 0;
    double fpPerplexity = 0;    // 0 when no evaluation text was given
    double quantPerplexity = 0;
    int64_t evalTokens = 0;
};

// Receives a run's events on the session's worker thread (queue them to the GUI thread).
class SessionListener : public CalibrationObserver
{
public:
    virtual void finished(const SessionResult &result) = 0;
};

// Runs one calibration on a worker thread that owns the model and every tensor: start() returns
// at once; pause()/resume()/cancel() may be called from any thread and take effect between
// training steps (cancel within one step; pause keeps the optimiser state). Every event goes to
// the run file (HDF5, docs/run-file.md) and to the listener. No exception leaves the worker: a
// failure becomes SessionResult::error.
class Session
{
public:
    Session(SessionConfig config, SessionListener *listener = nullptr);
    ~Session(); // cancels and joins

    // Continue a cancelled or killed run from the last checkpoint in its file.
    static std::unique_ptr<Session> resumeFrom(const std::string &runPath, SessionListener *listener = nullptr);
    // Rebuild the quantized model of a run from its file (its last checkpoint; no training) and
    // evaluate float and quantized perplexity on `evalPath`; the result is stored in the run file
    // as /eval/perplexity-<file stem>.
    static std::unique_ptr<Session> evaluateRun(const std::string &runPath, const std::string &evalPath, int seqLen,
                                                int64_t maxTokens, SessionListener *listener = nullptr);

    // Where the method comes from: by default the built-in factories (makeMethod); the CLI and the
    // GUI pass one that asks the method plugins, so a researcher's own plugin runs the same way.
    using MethodFactory = std::function<std::unique_ptr<CalibrationMethod>(const SessionConfig &)>;
    void setMethodFactory(MethodFactory factory) { m_factory = std::move(factory); }

    void start();
    void pause();
    void resume();
    void cancel();
    // Blocks until the worker is done and returns its result.
    SessionResult wait();

    const SessionConfig &config() const { return m_config; }

private:
    void work();

    SessionConfig m_config;
    SessionListener *m_listener;
    StopToken m_stop;
    std::thread m_thread;
    SessionResult m_result;
    bool m_resuming = false;
    bool m_evalOnly = false;
    MethodFactory m_factory;
};

// Builds the calibration method a config names. Throws mq::Error for an unknown name.
std::unique_ptr<CalibrationMethod> makeMethod(const SessionConfig &config);

// A stable hash of a checkpoint's bytes (the weights file(s)), "fnv1a64:<hex>".
std::string checkpointHash(const std::string &modelPath);

} // namespace mq
