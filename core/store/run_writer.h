#pragma once

#include "core/store/run_types.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mq {

// Appends a calibration run to its run file (docs/run-file.md). One thread owns a RunWriter
// (the worker that runs the calibration); it is not thread-safe. Readers in other threads or
// processes follow the file through RunReader while it is written (HDF5 SWMR): what they see is
// everything up to the last flush(). After a crash (even SIGKILL) the file holds everything up
// to the last flush(). Every failure throws mq::Error naming the file.
class RunWriter
{
public:
    enum class IfExists { Fail, Overwrite };

    // Creates the file with every group and dataset the header declares, then enters SWMR mode.
    static RunWriter create(const std::string &path, const RunHeader &header, IfExists ifExists = IfExists::Fail);

    // Reopens a run file (also one left by a killed writer) to keep appending. Series that a crash
    // left with unequal lengths are cut to their common length; with keepUpToStep, rows of a
    // later step are dropped too (a run resumed from the checkpoint of that step).
    static RunWriter openForResume(const std::string &path, std::optional<std::int64_t> keepUpToStep = std::nullopt);

    RunWriter(RunWriter &&other) noexcept;
    RunWriter &operator=(RunWriter &&other) noexcept;
    ~RunWriter(); // closes the file; call close() to see errors

    const std::string &path() const;
    const RunHeader &header() const;

    // lrs must give exactly the header's lrGroups.
    void appendStep(std::int64_t step, double loss, double seconds, const std::map<std::string, double> &lrs);
    // One value per header site, in the header's order.
    void appendRanges(std::int64_t step, const std::vector<float> &fmin, const std::vector<float> &fmax);
    // One snapshot of a whole vector group ("scales", "clipping"): every declared series, each
    // with its declared channel count.
    void appendVectors(
        const std::string &group, std::int64_t step, const std::map<std::string, std::vector<float>> &values);
    // edges has bins + 1 values, counts bins values, for a site declared in header.histograms.
    void appendHistogram(const std::string &site, std::int64_t step, const std::vector<float> &edges,
        const std::vector<std::uint64_t> &counts);

    // Replaces checkpoint `name` with these arrays. A layout declared in the header (or written
    // before) is overwritten in place; another one briefly leaves SWMR mode to create it (live
    // readers must reopen to see it). Flushes; the step attribute reads -1 while it is written.
    void writeCheckpoint(const std::string &name, const NamedArrays &arrays, std::int64_t step);

    // Stores an evaluation result (a JSON object) as /eval/<name>; replaces one of the same name.
    // Creates objects, so it briefly leaves SWMR mode like an undeclared checkpoint.
    void writeEval(const std::string &name, const std::string &json);

    // Makes everything appended so far visible to readers and durable against a crash.
    void flush();

    void close();

private:
    struct Impl;
    explicit RunWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace mq
