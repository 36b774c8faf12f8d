#pragma once

#include "core/calib/calibration_events.h"
#include "core/calib/calibration_method.h"
#include "core/calib/methods.h"
#include "core/calib/quant_sim.h"
#include "core/model/transformer.h"
#include "core/quant/precision_map.h"

#include <ATen/Tensor.h>

#include <memory>

namespace mq {

// Everything a CalibrationMethod works with (see calibration_method.h): the float model, the
// calibration windows, the precision map, the observer and the stop token. The method leaves its
// result here: the (possibly SmoothQuant-smoothed) base weights and the trained QuantSim.
// Owned by the session; used on its worker thread only.
class CalibrationContext
{
public:
    CalibrationContext(const Transformer &model, at::Tensor samples, PrecisionMap map,
                       CalibrationObserver *observer, StopToken *stop);

    const Transformer &model() const { return m_model; }
    const ModelConfig &config() const { return m_model.config(); }
    const at::Tensor &samples() const { return m_samples; } // [N, T] int64 token windows
    const PrecisionMap &precisionMap() const { return m_map; }

    // Steps between snapshots of ranges / scales / clipping (0 = none) and between checkpoints.
    int snapshotEvery = 10;
    int checkpointEvery = 50;
    // Every snapshot runs one forward of the first calibration window through `workingWeights`
    // and measures each quantized site's clipping rate and SQNR; for these sites also the
    // histogram and the per-channel max|x| (float values entering the quantizer).
    std::vector<std::string> watchSites;
    int histogramBins = 128;
    const ModelWeights *workingWeights = nullptr; // set by the method once its base weights exist

    // Resume: parameters to start from and the step they belong to (0 = fresh start).
    std::map<std::string, at::Tensor> resumeState;
    int64_t resumeStep = 0;

    void stage(const std::string &what);
    void reportStep(const StepEvent &event);
    // Publishes a snapshot / checkpoint of `sim` when `step` is due (or `force`).
    void maybeSnapshot(QuantSim &sim, int64_t step, bool force = false);
    void maybeCheckpoint(QuantSim &sim, int64_t step, bool force = false);
    // Blocks while paused; throws CalibrationCancelled when stopped.
    void checkStop();

    // The result.
    void setResult(ModelWeights base, std::unique_ptr<QuantSim> sim);
    const ModelWeights &baseWeights() const { return m_base; }
    QuantSim *sim() const { return m_sim.get(); }
    std::unique_ptr<QuantSim> takeSim() { return std::move(m_sim); }

private:
    // Fills the measured fields of `e` (histograms, channel maxima, clipping rate, SQNR, weight ranges).
    void measure(QuantSim &sim, const ModelWeights &w, SnapshotEvent &e);

    const Transformer &m_model;
    at::Tensor m_samples;
    PrecisionMap m_map;
    CalibrationObserver *m_observer;
    StopToken *m_stop;
    ModelWeights m_base;
    std::unique_ptr<QuantSim> m_sim;
};

// Cosine schedule of the reference (no warm-up): min + ½(1 + cos(π·it/max))·(max − min).
double cosineLr(double maxLr, double minLr, int64_t it, int64_t maxIt);

} // namespace mq
