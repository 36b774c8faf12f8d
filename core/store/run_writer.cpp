#include "core/store/run_writer.h"

#include "core/store/h5.h"
#include "core/store/run_schema.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>

namespace mq {

using h5::Hid;

namespace {

// Rows per chunk: about 64 KiB a chunk keeps appends cheap without bloating tiny runs.
hsize_t chunkRows(hsize_t cols, std::size_t elementSize)
{
    const hsize_t bytesPerRow = std::max<hsize_t>(1, cols) * elementSize;
    return std::clamp<hsize_t>(65536 / bytesPerRow, 1, 1024);
}

// An empty extendible dataset: 1-D when cols == 0, else [0, cols] growing in the first dim.
void createSeries(hid_t loc, const std::string &name, hid_t type, hsize_t cols, bool twoD, const std::string &units,
    const std::string &description, const std::string &path)
{
    const int rank = twoD ? 2 : 1;
    const hsize_t current[2] = { 0, cols };
    // A zero-width matrix (a run without sites) still needs a non-zero chunk.
    const hsize_t maximum[2] = { H5S_UNLIMITED, cols == 0 ? H5S_UNLIMITED : cols };
    const hsize_t chunk[2] = { chunkRows(twoD ? cols : 1, H5Tget_size(type)), std::max<hsize_t>(cols, 1) };
    Hid space(H5Screate_simple(rank, current, maximum), H5Sclose);
    Hid plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(plist, rank, chunk);
    Hid dataset = h5::check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, plist, H5P_DEFAULT), H5Dclose, path,
        "cannot create dataset " + name);
    h5::writeStringAttribute(dataset, "units", units, path);
    h5::writeStringAttribute(dataset, "description", description, path);
}

std::string utcNow()
{
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm {};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

void checkJson(const std::string &json, const std::string &what, const std::string &path)
{
    if (!nlohmann::json::accept(json))
        failFile(path, what + " is not valid JSON");
}

std::size_t product(const std::vector<std::size_t> &shape)
{
    std::size_t n = 1;
    for (std::size_t d : shape)
        n *= d;
    return n;
}

Hid fileAccess(bool clearStatusFlags)
{
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    // SWMR needs the 1.10 file format.
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    if (clearStatusFlags) {
        // A killed SWMR writer leaves "open for writing" in the superblock and HDF5 then refuses
        // to open the file for writing; this is what `h5clear -s` sets (a property of 1.10's
        // file-access class, not in its public headers).
        hbool_t clear = true;
        if (H5Pset(fapl, "clear_status_flags", &clear) < 0)
            h5::takeErrorMessage();
    }
    return fapl;
}

} // namespace

struct RunWriter::Impl
{
    std::string path;
    RunHeader header;
    Hid file;
    bool swmr = false;
    std::map<std::string, Hid> datasets; // open datasets by absolute path, kept for fast appends

    hid_t dataset(const std::string &name)
    {
        auto it = datasets.find(name);
        if (it == datasets.end())
            it = datasets.emplace(name, h5::openDataset(file, name, path)).first;
        return it->second;
    }

    void appendRow(const std::string &name, hid_t memType, const void *data, hsize_t cols)
    {
        const hid_t ds = dataset(name);
        std::vector<hsize_t> shape = h5::dims(ds, path);
        const hsize_t row = shape[0];
        shape[0] = row + 1;
        if (H5Dset_extent(ds, shape.data()) < 0)
            h5::fail(path, "cannot extend " + name);
        Hid fileSpace = h5::check(H5Dget_space(ds), H5Sclose, path, "cannot extend " + name);
        const hsize_t start[2] = { row, 0 };
        const hsize_t count[2] = { 1, cols };
        const int rank = static_cast<int>(shape.size());
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
        Hid memSpace(H5Screate_simple(rank, count, nullptr), H5Sclose);
        if (cols > 0 && H5Dwrite(ds, memType, memSpace, fileSpace, H5P_DEFAULT, data) < 0)
            h5::fail(path, "cannot write to " + name);
    }

    void openFile(unsigned flags, bool clearStatusFlags)
    {
        Hid fapl = fileAccess(clearStatusFlags);
        file = h5::check(H5Fopen(path.c_str(), flags, fapl), H5Fclose, path, "cannot open the run file for writing");
    }

    void closeFile()
    {
        datasets.clear();
        file.reset();
        swmr = false;
    }

    void startSwmr()
    {
        datasets.clear(); // start_swmr_write wants no other open objects
        if (H5Fstart_swmr_write(file) < 0)
            h5::fail(path, "cannot start SWMR writing");
        swmr = true;
    }

    void flush()
    {
        if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
            h5::fail(path, "cannot flush the run file");
    }

    // SWMR readers cannot follow new objects, so they are created with the file briefly opened
    // the ordinary way; live readers keep seeing what existed when they opened.
    void restructure(const std::function<void()> &change)
    {
        if (!swmr) {
            change();
            return;
        }
        flush();
        closeFile();
        openFile(H5F_ACC_RDWR, false);
        change();
        flush();
        closeFile();
        openFile(H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, false);
        swmr = true;
    }

    void requireOpen() const
    {
        h5::silenceErrors(); // per thread in a thread-safe HDF5: the owning thread may have changed
        if (!file.valid())
            failFile(path, "the run writer is closed");
    }

    bool checkpointLayoutMatches(const std::string &name, const NamedArrays &arrays)
    {
        const std::string groupName = "checkpoints/" + name;
        if (!h5::exists(file, groupName))
            return false;
        Hid group = h5::openGroup(file, groupName, path);
        const auto names = h5::members(group, path);
        if (names.size() != arrays.size())
            return false;
        for (const auto &[arrayName, array] : arrays) {
            if (!std::binary_search(names.begin(), names.end(), arrayName))
                return false;
            Hid ds = h5::openDataset(group, arrayName, path);
            const auto shape = h5::dims(ds, path);
            if (!std::equal(shape.begin(), shape.end(), array.shape.begin(), array.shape.end(),
                    [](hsize_t a, std::size_t b) { return a == b; }))
                return false;
        }
        return true;
    }

    void createCheckpoint(const std::string &name, const std::vector<ArraySpec> &arrays)
    {
        Hid checkpoints = h5::openGroup(file, "checkpoints", path);
        if (h5::exists(checkpoints, name) && H5Ldelete(checkpoints, name.c_str(), H5P_DEFAULT) < 0)
            h5::fail(path, "cannot replace checkpoint " + name);
        Hid group = h5::createGroup(checkpoints, name, path);
        h5::writeInt64Attribute(group, "step", -1, path);
        for (const auto &array : arrays) {
            std::vector<hsize_t> shape(array.shape.begin(), array.shape.end());
            Hid space(shape.empty() ? H5Screate(H5S_SCALAR)
                                    : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                H5Sclose);
            Hid ds = h5::check(
                H5Dcreate2(group, array.name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Dclose, path, "cannot create checkpoint array " + name + "/" + array.name);
        }
    }

    void createLayout()
    {
        Hid root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose);
        h5::writeStringAttribute(root, "schema", store::kSchemaName, path);
        h5::writeInt64Attribute(root, "schema_version", store::kSchemaVersion, path);
        h5::writeStringAttribute(root, "writer", "MQ Workbench", path);
        h5::writeStringAttribute(root, "created", utcNow(), path);

        Hid config = h5::createGroup(file, "config", path);
        h5::writeStringAttribute(config, "run_config", header.configJson, path);
        h5::writeStringAttribute(config, "precision_map", header.precisionMapJson, path);
        h5::writeStringAttribute(config, "model_path", header.model.path, path);
        h5::writeStringAttribute(config, "model_hash", header.model.contentHash, path);
        h5::writeStringAttribute(config, "model_architecture", header.model.architecture, path);

        Hid train = h5::createGroup(file, "train", path);
        createSeries(train, "step", H5T_STD_I64LE, 0, false, "step", "optimizer step of each row", path);
        createSeries(train, "loss", H5T_IEEE_F64LE, 0, false, header.lossUnits, "training loss of the step", path);
        createSeries(train, "seconds", H5T_IEEE_F64LE, 0, false, "s", "wall-clock seconds since the run started", path);
        Hid lr = h5::createGroup(train, "lr", path);
        for (const auto &group : header.lrGroups)
            createSeries(lr, group, H5T_IEEE_F64LE, 0, false, "1", "learning rate of parameter group " + group, path);

        {
            const hsize_t n = header.sites.size();
            Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
            Hid type = h5::stringType();
            Hid sites = h5::check(H5Dcreate2(file, "sites", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Dclose, path, "cannot create /sites");
            std::vector<const char *> names;
            for (const auto &site : header.sites)
                names.push_back(site.c_str());
            if (n > 0 && H5Dwrite(sites, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, names.data()) < 0)
                h5::fail(path, "cannot write /sites");
            h5::writeStringAttribute(sites, "description", "activation sites: the columns of /ranges/fmin, fmax", path);
        }

        Hid ranges = h5::createGroup(file, "ranges", path);
        const hsize_t siteCount = header.sites.size();
        createSeries(ranges, "step", H5T_STD_I64LE, 0, false, "step", "step of each snapshot", path);
        createSeries(ranges, "fmin", H5T_IEEE_F32LE, siteCount, true, "activation",
            "learned range minimum per site (columns follow /sites)", path);
        createSeries(ranges, "fmax", H5T_IEEE_F32LE, siteCount, true, "activation",
            "learned range maximum per site (columns follow /sites)", path);

        for (const auto &spec : header.vectorGroups) {
            Hid group = h5::createGroup(file, spec.name, path);
            h5::writeStringAttribute(group, "kind", "vector-series", path);
            h5::writeStringAttribute(group, "units", spec.units, path);
            createSeries(group, "step", H5T_STD_I64LE, 0, false, "step", "step of each snapshot", path);
            for (const auto &series : spec.series)
                createSeries(group, series.name, H5T_IEEE_F32LE, series.channels, true, spec.units,
                    "one row of channel values per snapshot", path);
        }

        Hid histograms = h5::createGroup(file, "histograms", path);
        for (const auto &spec : header.histograms) {
            Hid site = h5::createGroup(histograms, spec.site, path);
            createSeries(site, "step", H5T_STD_I64LE, 0, false, "step", "step of each snapshot", path);
            createSeries(site, "edges", H5T_IEEE_F32LE, spec.bins + 1, true, "activation", "bin edges", path);
            createSeries(site, "counts", H5T_STD_U64LE, spec.bins, true, "count", "values per bin", path);
        }

        Hid checkpoints = h5::createGroup(file, "checkpoints", path);
        checkpoints.reset();
        for (const auto &spec : header.checkpoints)
            createCheckpoint(spec.name, spec.arrays);

        h5::createGroup(file, "eval", path);
    }

    // Cuts every set of datasets appended together to its common length (a crash may have
    // extended some before others), and to rows with step <= keepUpToStep.
    void trimSeries(std::optional<std::int64_t> keepUpToStep)
    {
        for (const auto &set : store::appendedTogether(header)) {
            hsize_t rows = ~hsize_t(0);
            for (const auto &name : set)
                rows = std::min(rows, h5::dims(dataset(name), path)[0]);
            if (keepUpToStep) {
                std::vector<std::int64_t> steps(rows);
                Hid fileSpace(H5Dget_space(dataset(set.front())), H5Sclose);
                const hsize_t start = 0;
                Hid memSpace(H5Screate_simple(1, &rows, nullptr), H5Sclose);
                H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nullptr, &rows, nullptr);
                if (rows > 0
                    && H5Dread(dataset(set.front()), H5T_NATIVE_INT64, memSpace, fileSpace, H5P_DEFAULT, steps.data())
                        < 0)
                    h5::fail(path, "cannot read " + set.front());
                rows = static_cast<hsize_t>(std::find_if(steps.begin(), steps.end(), [&](std::int64_t s) {
                    return s > *keepUpToStep;
                }) - steps.begin());
            }
            for (const auto &name : set) {
                std::vector<hsize_t> shape = h5::dims(dataset(name), path);
                if (shape[0] != rows) {
                    shape[0] = rows;
                    if (H5Dset_extent(dataset(name), shape.data()) < 0)
                        h5::fail(path, "cannot trim " + name);
                }
            }
        }
    }
};

RunWriter::RunWriter(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl))
{
}

RunWriter::RunWriter(RunWriter &&other) noexcept = default;
RunWriter &RunWriter::operator=(RunWriter &&other) noexcept = default;

RunWriter::~RunWriter()
{
    try {
        close();
    } catch (...) {
        // A destructor cannot report; close() explicitly to see the error.
    }
}

RunWriter RunWriter::create(const std::string &path, const RunHeader &header, IfExists ifExists)
{
    h5::silenceErrors();
    store::checkHeader(header, path);
    checkJson(header.configJson, "the run configuration", path);
    checkJson(header.precisionMapJson, "the precision map", path);
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && ifExists == IfExists::Fail)
        failFile(path, "a run file already exists there; choose another name or overwrite it explicitly");

    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->header = header;
    Hid fapl = fileAccess(false);
    impl->file = h5::check(
        H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose, path, "cannot create the run file");
    impl->createLayout();
    impl->flush();
    impl->startSwmr();
    return RunWriter(std::move(impl));
}

RunWriter RunWriter::openForResume(const std::string &path, std::optional<std::int64_t> keepUpToStep)
{
    h5::silenceErrors();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        failFile(path, "no such run file to resume");
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        h5::takeErrorMessage();
        failFile(path, "not an HDF5 file, so not a run file");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->openFile(H5F_ACC_RDWR, true);
    store::checkSchema(impl->file, path);
    impl->header = store::readHeader(impl->file, path);
    impl->trimSeries(keepUpToStep);
    impl->flush();
    impl->startSwmr();
    return RunWriter(std::move(impl));
}

const std::string &RunWriter::path() const
{
    return m_impl->path;
}

const RunHeader &RunWriter::header() const
{
    return m_impl->header;
}

void RunWriter::appendStep(std::int64_t step, double loss, double seconds, const std::map<std::string, double> &lrs)
{
    Impl &d = *m_impl;
    d.requireOpen();
    // Check everything first so that a bad call never leaves the datasets with unequal lengths.
    for (const auto &group : d.header.lrGroups)
        if (!lrs.count(group))
            failFile(d.path, "appendStep lacks the learning rate of group " + group);
    if (lrs.size() != d.header.lrGroups.size())
        for (const auto &entry : lrs)
            if (std::find(d.header.lrGroups.begin(), d.header.lrGroups.end(), entry.first) == d.header.lrGroups.end())
                failFile(d.path, "learning-rate group " + entry.first + " was not declared in the run header");
    d.appendRow("/train/step", H5T_NATIVE_INT64, &step, 1);
    d.appendRow("/train/loss", H5T_NATIVE_DOUBLE, &loss, 1);
    d.appendRow("/train/seconds", H5T_NATIVE_DOUBLE, &seconds, 1);
    for (const auto &group : d.header.lrGroups)
        d.appendRow("/train/lr/" + group, H5T_NATIVE_DOUBLE, &lrs.at(group), 1);
}

void RunWriter::appendRanges(std::int64_t step, const std::vector<float> &fmin, const std::vector<float> &fmax)
{
    Impl &d = *m_impl;
    d.requireOpen();
    const std::size_t n = d.header.sites.size();
    if (fmin.size() != n || fmax.size() != n)
        failFile(d.path,
            "appendRanges needs " + std::to_string(n) + " values (one per site), got " + std::to_string(fmin.size())
                + " and " + std::to_string(fmax.size()));
    d.appendRow("/ranges/step", H5T_NATIVE_INT64, &step, 1);
    d.appendRow("/ranges/fmin", H5T_NATIVE_FLOAT, fmin.data(), n);
    d.appendRow("/ranges/fmax", H5T_NATIVE_FLOAT, fmax.data(), n);
}

void RunWriter::appendVectors(
    const std::string &group, std::int64_t step, const std::map<std::string, std::vector<float>> &values)
{
    Impl &d = *m_impl;
    d.requireOpen();
    const auto spec = std::find_if(d.header.vectorGroups.begin(), d.header.vectorGroups.end(),
        [&](const VectorGroupSpec &g) { return g.name == group; });
    if (spec == d.header.vectorGroups.end())
        failFile(d.path, "vector group " + group + " was not declared in the run header");
    if (values.size() != spec->series.size())
        failFile(d.path,
            "appendVectors(" + group + ") needs all " + std::to_string(spec->series.size()) + " declared series, got "
                + std::to_string(values.size()));
    for (const auto &series : spec->series) {
        const auto it = values.find(series.name);
        if (it == values.end())
            failFile(d.path, "appendVectors(" + group + ") lacks series " + series.name);
        if (it->second.size() != series.channels)
            failFile(d.path,
                group + "/" + series.name + " has " + std::to_string(series.channels) + " channels, got "
                    + std::to_string(it->second.size()) + " values");
    }
    d.appendRow("/" + group + "/step", H5T_NATIVE_INT64, &step, 1);
    for (const auto &series : spec->series)
        d.appendRow("/" + group + "/" + series.name, H5T_NATIVE_FLOAT, values.at(series.name).data(), series.channels);
}

void RunWriter::appendHistogram(const std::string &site, std::int64_t step, const std::vector<float> &edges,
    const std::vector<std::uint64_t> &counts)
{
    Impl &d = *m_impl;
    d.requireOpen();
    const auto spec = std::find_if(
        d.header.histograms.begin(), d.header.histograms.end(), [&](const HistogramSpec &h) { return h.site == site; });
    if (spec == d.header.histograms.end())
        failFile(d.path, "histogram site " + site + " was not declared in the run header");
    if (edges.size() != spec->bins + 1 || counts.size() != spec->bins)
        failFile(d.path,
            "histogram " + site + " has " + std::to_string(spec->bins) + " bins: needs "
                + std::to_string(spec->bins + 1) + " edges and " + std::to_string(spec->bins) + " counts, got "
                + std::to_string(edges.size()) + " and " + std::to_string(counts.size()));
    const std::string base = "/histograms/" + site + "/";
    d.appendRow(base + "step", H5T_NATIVE_INT64, &step, 1);
    d.appendRow(base + "edges", H5T_NATIVE_FLOAT, edges.data(), spec->bins + 1);
    d.appendRow(base + "counts", H5T_NATIVE_UINT64, counts.data(), spec->bins);
}

void RunWriter::writeCheckpoint(const std::string &name, const NamedArrays &arrays, std::int64_t step)
{
    Impl &d = *m_impl;
    d.requireOpen();
    store::checkName(name, "checkpoint", d.path);
    std::vector<ArraySpec> layout;
    for (const auto &[arrayName, array] : arrays) {
        store::checkName(arrayName, "checkpoint array", d.path);
        if (array.data.size() != product(array.shape))
            failFile(d.path,
                "checkpoint array " + name + "/" + arrayName + " has " + std::to_string(array.data.size())
                    + " values, its shape holds " + std::to_string(product(array.shape)));
        layout.push_back({ arrayName, array.shape });
    }
    if (!d.checkpointLayoutMatches(name, arrays)) {
        d.restructure([&] { d.createCheckpoint(name, layout); });
        auto &specs = d.header.checkpoints;
        specs.erase(std::remove_if(specs.begin(), specs.end(), [&](const CheckpointSpec &c) { return c.name == name; }),
            specs.end());
        specs.push_back({ name, layout });
    }
    const std::string groupName = "checkpoints/" + name;
    // step = -1 marks a checkpoint being overwritten: a crash in between leaves it visibly
    // incomplete instead of silently mixing two steps.
    {
        Hid group = h5::openGroup(d.file, groupName, d.path);
        h5::writeInt64Attribute(group, "step", -1, d.path);
    }
    d.flush();
    for (const auto &[arrayName, array] : arrays) {
        Hid ds = h5::openDataset(d.file, groupName + "/" + arrayName, d.path);
        if (!array.data.empty() && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.data.data()) < 0)
            h5::fail(d.path, "cannot write checkpoint array " + name + "/" + arrayName);
    }
    d.flush();
    {
        Hid group = h5::openGroup(d.file, groupName, d.path);
        h5::writeInt64Attribute(group, "step", step, d.path);
    }
    d.flush();
}

void RunWriter::writeEval(const std::string &name, const std::string &json)
{
    Impl &d = *m_impl;
    d.requireOpen();
    store::checkName(name, "evaluation", d.path);
    const nlohmann::json value = nlohmann::json::parse(json, nullptr, false);
    if (value.is_discarded() || !value.is_object())
        failFile(d.path, "evaluation " + name + " is not a JSON object");
    d.restructure([&] {
        Hid evalGroup = h5::openGroup(d.file, "eval", d.path);
        if (h5::exists(evalGroup, name) && H5Ldelete(evalGroup, name.c_str(), H5P_DEFAULT) < 0)
            h5::fail(d.path, "cannot replace evaluation " + name);
        Hid group = h5::createGroup(evalGroup, name, d.path);
        h5::writeStringAttribute(group, "json", json, d.path);
        // Top-level numbers and strings also become attributes of their own, for h5dump and h5py.
        for (const auto &[key, item] : value.items()) {
            if (key == "json" || key.empty() || key.find('/') != std::string::npos)
                continue;
            if (item.is_number())
                h5::writeDoubleAttribute(group, key, item.get<double>(), d.path);
            else if (item.is_string())
                h5::writeStringAttribute(group, key, item.get<std::string>(), d.path);
        }
    });
}

void RunWriter::flush()
{
    m_impl->requireOpen();
    m_impl->flush();
}

void RunWriter::close()
{
    if (!m_impl || !m_impl->file.valid())
        return;
    m_impl->datasets.clear();
    const hid_t file = m_impl->file.release();
    // The handle is released above either way, so a failed close is reported only once.
    if (H5Fclose(file) < 0)
        h5::fail(m_impl->path, "cannot close the run file");
}

} // namespace mq
