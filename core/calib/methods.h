#pragma once

#include "core/calib/calibration_method.h"

#include <memory>

namespace mq {

// Hyper-parameters of the trained methods; defaults are the reference's TinyLlama W8A8 values
// (mobilequant-method.md §5.2–5.3) except the epochs, sized for models that run on a CPU here.
// Plain C++ (no LibTorch), so plugins and the GUI can fill it.
struct TrainSettings
{
    int epochs = 10;
    bool let = true, lwc = true, lrl = true;
    double letLr = 1e-3, letMinLr = 1e-4;
    double lwcLr = 1e-2, lwcMinLr = 1e-3;
    double lrlLr = 1e-6, lrlMinLr = 1e-7;
    double alpha = 0.5; // SmoothQuant pre-smoothing
    // End-to-end only: recompute each decoder layer in the backward pass instead of keeping its
    // activations (trades ~1 extra forward per step for memory that no longer grows with depth).
    bool checkpointLayers = false;
};

// The four built-in methods (ids "rtn", "smoothquant", "blockwise", "mobilequant"). Each runs on
// the session's worker thread and leaves its result in the CalibrationContext; all of them first
// collect activation statistics on the calibration windows.
std::unique_ptr<CalibrationMethod> makeRtnMethod();
std::unique_ptr<CalibrationMethod> makeSmoothQuantMethod(double alpha);
std::unique_ptr<CalibrationMethod> makeBlockwiseMethod(TrainSettings settings);
std::unique_ptr<CalibrationMethod> makeEndToEndMethod(TrainSettings settings);

} // namespace mq
