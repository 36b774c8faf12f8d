#pragma once

#include "core/device/results.h"

#include <string>
#include <vector>

// On-device benchmark results in the run file, under /device (docs/run-file.md "Device results").
// Every raw power sample is stored, with the normalisation that turned it into watts, so energy
// can be recomputed from the file alone. Adding /device does not change schema_version: older
// readers ignore the group.
//
// Not for use while a RunWriter holds the same file open in SWMR mode (a calibration still
// running): benchmarks are written to a finished run file, or to a new one. Every failure
// throws mq::Error naming the file.

namespace mq {

// Appends `report` as /device/benchmarks/<id> and returns the id ("0001", "0002", ...). Creates a
// run file (schema mq-run, no calibration) when `path` does not exist.
std::string writeDeviceBenchmark(const std::string &path, const device::BenchmarkReport &report);

struct StoredBenchmark
{
    std::string id;
    device::BenchmarkReport report; // estimates read back as stored (values, median, CI, ...)
};

// All benchmarks of a run file, oldest first; empty when it has none.
std::vector<StoredBenchmark> readDeviceBenchmarks(const std::string &path);

} // namespace mq
