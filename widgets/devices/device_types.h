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
    device::BenchOptions options;
};

} // namespace mq

Q_DECLARE_METATYPE(mq::BenchmarkRequest)
Q_DECLARE_METATYPE(mq::device::BenchmarkReport)
Q_DECLARE_METATYPE(std::vector<mq::DeviceInfo>)
