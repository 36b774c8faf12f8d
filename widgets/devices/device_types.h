#pragma once

// Metatypes for the device values that cross from the benchmark worker to the GUI thread.

#include "core/device/device_backend.h"
#include "core/device/results.h"

#include <QMetaType>
#include <QString>
#include <QStringList>

#include <vector>

namespace mq {

// What one click on "Benchmark" asks for.
struct BenchmarkRequest
{
    QString serial;
    QString calibrationRun; // a calibration run file: packages are exported from it when missing
    QStringList variants; // exported from calibrationRun: "a16", "w8a8", "w4a8", "fp32"
    QStringList packages; // ready packages, benchmarked after the exported ones
    QString resultsFile; // run file the results go to (default: calibrationRun)
    // Prompt lengths, one benchmark each (the default: 1024 and 256). Empty: only
    // options.promptTokens. A length the model's context cannot hold with the decoded tokens is
    // clamped to it, with a note.
    QList<int> promptLengths;
    device::BenchOptions options;
};

} // namespace mq

Q_DECLARE_METATYPE(mq::BenchmarkRequest)
Q_DECLARE_METATYPE(mq::device::BenchmarkReport)
Q_DECLARE_METATYPE(std::vector<mq::DeviceInfo>)
