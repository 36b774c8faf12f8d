#pragma once

#include "core/store/run_types.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mq {

// Reads a run file (docs/run-file.md), also while a RunWriter is appending to it: every getter
// re-reads what the writer has flushed by then, and the datasets appended together are cut to
// their common length, so a snapshot is always consistent. Objects the writer creates after
// the reader opened (evaluations, undeclared checkpoints) need a new RunReader to be seen.
// Not thread-safe: one thread owns a RunReader. Every failure throws mq::Error naming the file.
class RunReader
{
public:
    static RunReader open(const std::string &path);

    RunReader(RunReader &&other) noexcept;
    RunReader &operator=(RunReader &&other) noexcept;
    ~RunReader();

    const std::string &path() const;
    std::int64_t schemaVersion() const;
    // True when opened for SWMR reading (the file may still be growing).
    bool live() const;
    const RunHeader &header() const;

    TrainSeries train() const;
    RangeSeries ranges() const;
    VectorSeries vectors(const std::string &group) const;
    HistogramSeries histogram(const std::string &site) const;

    std::vector<std::string> checkpointNames() const;
    // step is -1 when a crash interrupted the checkpoint's last write.
    Checkpoint checkpoint(const std::string &name) const;

    std::vector<std::string> evalNames() const;
    std::string eval(const std::string &name) const; // the JSON object as written

private:
    struct Impl;
    explicit RunReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace mq
