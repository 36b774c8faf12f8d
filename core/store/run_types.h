#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// Value types of the run file (docs/run-file.md). Plain C++ so that the worker, the GUI and the
// CLI can all hold them; they carry no HDF5 handle and may cross threads freely.

namespace mq {

// Which model a run calibrated: enough to refuse resuming a run on different weights.
struct ModelIdentity
{
    std::string path;
    std::string contentHash; // e.g. "sha256:..." of the weights file(s)
    std::string architecture; // e.g. "llama"
};

// One series of a vector group: a row of `channels` floats per snapshot (1 for a scalar factor).
struct SeriesSpec
{
    std::string name; // e.g. "layers.0.qkv"
    std::size_t channels = 1;
};

// A root group of vector series appended together, one snapshot at a time ("scales" holds
// the LET/SmoothQuant pair scales, "clipping" the LWC factors).
struct VectorGroupSpec
{
    std::string name;
    std::string units = "1";
    std::vector<SeriesSpec> series;
};

struct HistogramSpec
{
    std::string site;
    std::size_t bins = 0;
};

struct ArraySpec
{
    std::string name;
    std::vector<std::size_t> shape;
};

// A checkpoint layout declared up front, so that writing it later stays inside SWMR (no new
// objects); an undeclared checkpoint is still accepted but briefly leaves SWMR to create it.
struct CheckpointSpec
{
    std::string name;
    std::vector<ArraySpec> arrays;
};

// Everything fixed when a run file is created. The series declared here are every series the
// run will append to: HDF5 1.10's SWMR forbids creating datasets once readers may be attached.
struct RunHeader
{
    std::string configJson = "{}"; // method, bits, hyper-parameters
    std::string precisionMapJson = "{}";
    ModelIdentity model;
    std::string lossUnits = "mse";
    std::vector<std::string> lrGroups; // e.g. "let", "lwc", "lrl"
    std::vector<std::string> sites; // columns of /ranges/fmin and /ranges/fmax
    std::vector<VectorGroupSpec> vectorGroups;
    std::vector<HistogramSpec> histograms;
    std::vector<CheckpointSpec> checkpoints;
};

struct FloatArray
{
    std::vector<std::size_t> shape;
    std::vector<float> data; // row-major, product(shape) values
};

using NamedArrays = std::map<std::string, FloatArray>;

// The per-step training record; all vectors have the same length.
struct TrainSeries
{
    std::vector<std::int64_t> step;
    std::vector<double> loss;
    std::vector<double> seconds;
    std::map<std::string, std::vector<double>> lr; // by parameter group
};

// Ranges snapshots: fmin and fmax are row-major [step.size(), sites].
struct RangeSeries
{
    std::vector<std::int64_t> step;
    std::size_t sites = 0;
    std::vector<float> fmin;
    std::vector<float> fmax;
};

struct FloatMatrix
{
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<float> values; // row-major
};

// Snapshots of one vector group: every matrix has step.size() rows.
struct VectorSeries
{
    std::vector<std::int64_t> step;
    std::map<std::string, FloatMatrix> series;
};

// Histogram snapshots of one site: edges row-major [n, bins + 1], counts [n, bins].
struct HistogramSeries
{
    std::vector<std::int64_t> step;
    std::size_t bins = 0;
    std::vector<float> edges;
    std::vector<std::uint64_t> counts;
};

struct Checkpoint
{
    std::int64_t step = -1;
    NamedArrays arrays;
};

} // namespace mq
