#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mq {

// Immutable value types a calibration publishes; no LibTorch, so Qt code can hold and queue them.

struct StepEvent
{
    int64_t step = 0;  // 1-based
    int64_t total = 0; // steps in the whole run (all layers for block-wise)
    int layer = -1;    // block-wise: the layer being trained
    double loss = 0;
    std::map<std::string, double> learningRates; // "let", "lwc", "lrl"
    double seconds = 0;    // since the start
    double etaSeconds = 0; // estimate of what is left
};

struct SnapshotEvent
{
    int64_t step = 0;
    std::vector<std::string> sites; // quantized activation sites, fixed order
    std::vector<float> fmin, fmax;  // their current ranges
    std::map<std::string, std::vector<float>> letScales;   // "layers.0.qkv" → per-channel scale
    std::map<std::string, std::vector<float>> clipUpper;   // weight site → σ(f_up) per row
    std::map<std::string, std::vector<float>> clipLower;   // weight site → σ(f_low) per row
    struct Histogram
    {
        std::vector<float> edges;      // bins + 1, in activation units
        std::vector<uint64_t> counts;  // bins
    };
    std::map<std::string, Histogram> histograms; // watched sites, float values before quantization

    // Measured at every snapshot on one forward of the first calibration window through the
    // current quantized model (values entering each quantizer):
    std::vector<float> clipRate; // per site in `sites` order: fraction of values outside [fmin, fmax]
    std::vector<float> sqnrDb;   // per site: 10·log10(Σx² / Σ(x − q(x))²), dB; +inf when q(x) = x
    std::map<std::string, std::vector<float>> channelMaxAbs; // watched site → max|x| per channel (last dim)
    // Weight site → per-output-row min / max of the LET-transformed weight before clipping
    // (clipUpper/clipLower scale these into the clipped range).
    std::map<std::string, std::vector<float>> weightMin, weightMax;
};

// Where a calibration reports to. Called on the worker thread; implementations forward to the
// GUI (queued) or a run file. Must not throw.
class CalibrationObserver
{
public:
    virtual ~CalibrationObserver() = default;
    virtual void stage(const std::string &description) = 0;
    virtual void step(const StepEvent &event) = 0;
    virtual void snapshot(const SnapshotEvent &event) = 0;
    // The learned parameters as named float arrays, to persist for resuming.
    virtual void checkpoint(int64_t step, const std::map<std::string, std::vector<float>> &state,
                            const std::map<std::string, std::vector<int64_t>> &shapes) = 0;
};

// Thrown by StopToken::check() when the run is cancelled; the session catches it.
struct CalibrationCancelled
{
};

// Cooperative cancel and pause, checked between steps. Any thread may call request*/resume; the
// worker calls check().
class StopToken
{
public:
    void requestStop()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
        m_cv.notify_all();
    }
    void requestPause()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = true;
    }
    void resume()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = false;
        m_cv.notify_all();
    }
    bool stopRequested() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_stop;
    }
    bool paused() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_paused;
    }
    // Blocks while paused; throws CalibrationCancelled once a stop was requested.
    void check()
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait(lock, [this] { return !m_paused || m_stop; });
        if (m_stop)
            throw CalibrationCancelled{};
    }

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    bool m_paused = false;
};

} // namespace mq
