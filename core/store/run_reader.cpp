#include "core/store/run_reader.h"

#include "core/store/h5.h"
#include "core/store/run_schema.h"
#include "core/util/error.h"

#include <algorithm>
#include <filesystem>

namespace mq {

using h5::Hid;

struct RunReader::Impl
{
    std::string path;
    Hid file;
    bool live = false;
    std::int64_t schemaVersion = 0;
    RunHeader header;

    Hid openFresh(const std::string &name) const
    {
        h5::silenceErrors(); // per thread in a thread-safe HDF5: the owning thread may have changed
        Hid ds = h5::openDataset(file, name, path);
        // A SWMR reader caches the dataset's header; refreshing picks up the writer's extents.
        if (live && H5Drefresh(ds) < 0)
            h5::fail(path, "cannot refresh " + name);
        return ds;
    }

    // Opens datasets appended together and returns them with their common number of rows.
    hsize_t openSet(const std::vector<std::string> &names, std::vector<Hid> &datasets) const
    {
        hsize_t rows = ~hsize_t(0);
        for (const auto &name : names) {
            datasets.push_back(openFresh(name));
            rows = std::min(rows, h5::dims(datasets.back(), path)[0]);
        }
        return rows;
    }

    template <typename T> std::vector<T> readRows(hid_t ds, hid_t memType, hsize_t rows, const std::string &name) const
    {
        const auto shape = h5::dims(ds, path);
        const hsize_t cols = shape.size() > 1 ? shape[1] : 1;
        std::vector<T> values(static_cast<std::size_t>(rows * cols));
        if (values.empty())
            return values;
        Hid fileSpace = h5::check(H5Dget_space(ds), H5Sclose, path, "cannot read " + name);
        const hsize_t start[2] = { 0, 0 };
        const hsize_t count[2] = { rows, cols };
        const int rank = static_cast<int>(shape.size());
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
        Hid memSpace(H5Screate_simple(rank, count, nullptr), H5Sclose);
        if (H5Dread(ds, memType, memSpace, fileSpace, H5P_DEFAULT, values.data()) < 0)
            h5::fail(path, "cannot read " + name + " (the file may be damaged)");
        return values;
    }

    std::vector<std::int64_t> readSteps(hid_t ds, hsize_t rows, const std::string &name) const
    {
        return readRows<std::int64_t>(ds, H5T_NATIVE_INT64, rows, name);
    }
};

RunReader::RunReader(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl))
{
}

RunReader::RunReader(RunReader &&other) noexcept = default;
RunReader &RunReader::operator=(RunReader &&other) noexcept = default;
RunReader::~RunReader() = default;

RunReader RunReader::open(const std::string &path)
{
    h5::silenceErrors();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        failFile(path, "no such run file");
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        h5::takeErrorMessage();
        failFile(path, "not an HDF5 file, so not a run file");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    // SWMR reading works both while a writer is attached and after it finished (or was killed);
    // a file in the older format cannot be opened that way, so fall back to a plain open.
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (file >= 0) {
        impl->live = true;
    } else {
        h5::takeErrorMessage();
        file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        if (file < 0) {
            const std::string detail = h5::takeErrorMessage();
            if (detail.find("truncated") != std::string::npos)
                failFile(path,
                    "the file is truncated (cut short by a crash, a full disk or an interrupted copy): " + detail);
            failFile(path, "cannot open the HDF5 file" + (detail.empty() ? std::string() : " (HDF5: " + detail + ")"));
        }
    }
    impl->file = Hid(file, H5Fclose);
    impl->schemaVersion = store::checkSchema(impl->file, path);
    impl->header = store::readHeader(impl->file, path);
    return RunReader(std::move(impl));
}

const std::string &RunReader::path() const
{
    return m_impl->path;
}

std::int64_t RunReader::schemaVersion() const
{
    return m_impl->schemaVersion;
}

bool RunReader::live() const
{
    return m_impl->live;
}

const RunHeader &RunReader::header() const
{
    return m_impl->header;
}

TrainSeries RunReader::train() const
{
    const Impl &d = *m_impl;
    std::vector<std::string> names { "/train/step", "/train/loss", "/train/seconds" };
    for (const auto &group : d.header.lrGroups)
        names.push_back("/train/lr/" + group);
    std::vector<Hid> ds;
    const hsize_t rows = d.openSet(names, ds);
    TrainSeries series;
    series.step = d.readSteps(ds[0], rows, names[0]);
    series.loss = d.readRows<double>(ds[1], H5T_NATIVE_DOUBLE, rows, names[1]);
    series.seconds = d.readRows<double>(ds[2], H5T_NATIVE_DOUBLE, rows, names[2]);
    for (std::size_t i = 0; i < d.header.lrGroups.size(); ++i)
        series.lr[d.header.lrGroups[i]] = d.readRows<double>(ds[3 + i], H5T_NATIVE_DOUBLE, rows, names[3 + i]);
    return series;
}

RangeSeries RunReader::ranges() const
{
    const Impl &d = *m_impl;
    const std::vector<std::string> names { "/ranges/step", "/ranges/fmin", "/ranges/fmax" };
    std::vector<Hid> ds;
    const hsize_t rows = d.openSet(names, ds);
    RangeSeries series;
    series.sites = d.header.sites.size();
    series.step = d.readSteps(ds[0], rows, names[0]);
    if (series.sites > 0) {
        series.fmin = d.readRows<float>(ds[1], H5T_NATIVE_FLOAT, rows, names[1]);
        series.fmax = d.readRows<float>(ds[2], H5T_NATIVE_FLOAT, rows, names[2]);
    }
    return series;
}

VectorSeries RunReader::vectors(const std::string &group) const
{
    const Impl &d = *m_impl;
    const auto spec = std::find_if(d.header.vectorGroups.begin(), d.header.vectorGroups.end(),
        [&](const VectorGroupSpec &g) { return g.name == group; });
    if (spec == d.header.vectorGroups.end())
        failFile(d.path, "the run file has no vector group " + group);
    std::vector<std::string> names { "/" + group + "/step" };
    for (const auto &series : spec->series)
        names.push_back("/" + group + "/" + series.name);
    std::vector<Hid> ds;
    const hsize_t rows = d.openSet(names, ds);
    VectorSeries result;
    result.step = d.readSteps(ds[0], rows, names[0]);
    for (std::size_t i = 0; i < spec->series.size(); ++i) {
        FloatMatrix matrix;
        matrix.rows = static_cast<std::size_t>(rows);
        matrix.cols = spec->series[i].channels;
        matrix.values = d.readRows<float>(ds[1 + i], H5T_NATIVE_FLOAT, rows, names[1 + i]);
        result.series[spec->series[i].name] = std::move(matrix);
    }
    return result;
}

HistogramSeries RunReader::histogram(const std::string &site) const
{
    const Impl &d = *m_impl;
    const auto spec = std::find_if(
        d.header.histograms.begin(), d.header.histograms.end(), [&](const HistogramSpec &h) { return h.site == site; });
    if (spec == d.header.histograms.end())
        failFile(d.path, "the run file has no histogram of site " + site);
    const std::string base = "/histograms/" + site + "/";
    const std::vector<std::string> names { base + "step", base + "edges", base + "counts" };
    std::vector<Hid> ds;
    const hsize_t rows = d.openSet(names, ds);
    HistogramSeries result;
    result.bins = spec->bins;
    result.step = d.readSteps(ds[0], rows, names[0]);
    result.edges = d.readRows<float>(ds[1], H5T_NATIVE_FLOAT, rows, names[1]);
    result.counts = d.readRows<std::uint64_t>(ds[2], H5T_NATIVE_UINT64, rows, names[2]);
    return result;
}

std::vector<std::string> RunReader::checkpointNames() const
{
    h5::silenceErrors();
    Hid group = h5::openGroup(m_impl->file, "checkpoints", m_impl->path);
    return h5::members(group, m_impl->path);
}

Checkpoint RunReader::checkpoint(const std::string &name) const
{
    const Impl &d = *m_impl;
    const std::string groupName = "checkpoints/" + name;
    if (!h5::exists(d.file, groupName))
        failFile(d.path, "the run file has no checkpoint " + name);
    Hid group = h5::openGroup(d.file, groupName, d.path);
    // The writer rewrites the step attribute in place; drop the cached object header first.
    if (d.live && H5Orefresh(group) < 0)
        h5::fail(d.path, "cannot refresh checkpoint " + name);
    Checkpoint result;
    result.step = h5::readInt64Attribute(group, "step", d.path);
    for (const auto &arrayName : h5::members(group, d.path)) {
        const std::string full = groupName + "/" + arrayName;
        Hid ds = d.openFresh(full);
        FloatArray array;
        for (hsize_t dim : h5::dims(ds, d.path))
            array.shape.push_back(static_cast<std::size_t>(dim));
        std::size_t n = 1;
        for (std::size_t dim : array.shape)
            n *= dim;
        array.data.resize(n);
        if (n > 0 && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.data.data()) < 0)
            h5::fail(d.path, "cannot read checkpoint array " + full);
        result.arrays[arrayName] = std::move(array);
    }
    return result;
}

std::vector<std::string> RunReader::evalNames() const
{
    h5::silenceErrors();
    Hid group = h5::openGroup(m_impl->file, "eval", m_impl->path);
    return h5::members(group, m_impl->path);
}

std::string RunReader::eval(const std::string &name) const
{
    h5::silenceErrors();
    const Impl &d = *m_impl;
    if (!h5::exists(d.file, "eval/" + name))
        failFile(d.path, "the run file has no evaluation " + name);
    Hid group = h5::openGroup(d.file, "eval/" + name, d.path);
    return h5::readStringAttribute(group, "json", d.path);
}

} // namespace mq
