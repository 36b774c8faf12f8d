#include "core/store/run_schema.h"

#include "core/util/error.h"

#include <set>

namespace mq::store {

using h5::Hid;

void checkName(const std::string &name, const std::string &what, const std::string &path)
{
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        failFile(path, what + " name \"" + name + "\" cannot be an HDF5 name (empty, '.' or contains '/')");
}

namespace {

void checkUnique(const std::vector<std::string> &names, const std::string &what, const std::string &path)
{
    std::set<std::string> seen;
    for (const auto &name : names) {
        checkName(name, what, path);
        if (!seen.insert(name).second)
            failFile(path, what + " \"" + name + "\" is declared twice");
    }
}

const std::set<std::string> &reservedRootNames()
{
    static const std::set<std::string> names { "config", "train", "sites", "ranges", "histograms", "checkpoints",
        "eval", "device" };
    return names;
}

} // namespace

void checkHeader(const RunHeader &header, const std::string &path)
{
    checkUnique(header.lrGroups, "learning-rate group", path);
    checkUnique(header.sites, "site", path);
    std::vector<std::string> groupNames;
    for (const auto &group : header.vectorGroups) {
        groupNames.push_back(group.name);
        if (reservedRootNames().count(group.name))
            failFile(path, "vector group \"" + group.name + "\" clashes with a fixed part of the run file");
        std::vector<std::string> seriesNames;
        for (const auto &series : group.series) {
            seriesNames.push_back(series.name);
            if (series.name == "step")
                failFile(path, "vector series in " + group.name + " cannot be called \"step\"");
            if (series.channels == 0)
                failFile(path, "vector series " + group.name + "/" + series.name + " has zero channels");
        }
        checkUnique(seriesNames, "vector series", path);
    }
    checkUnique(groupNames, "vector group", path);
    std::vector<std::string> histogramSites;
    for (const auto &histogram : header.histograms) {
        histogramSites.push_back(histogram.site);
        if (histogram.bins == 0)
            failFile(path, "histogram " + histogram.site + " has zero bins");
    }
    checkUnique(histogramSites, "histogram site", path);
    std::vector<std::string> checkpointNames;
    for (const auto &checkpoint : header.checkpoints) {
        checkpointNames.push_back(checkpoint.name);
        std::vector<std::string> arrayNames;
        for (const auto &array : checkpoint.arrays)
            arrayNames.push_back(array.name);
        checkUnique(arrayNames, "checkpoint array", path);
    }
    checkUnique(checkpointNames, "checkpoint", path);
}

std::int64_t checkSchema(hid_t file, const std::string &path)
{
    Hid root = h5::check(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose, path, "cannot open the root group");
    if (!h5::attributeExists(root, "schema"))
        failFile(path, "not an MQ Workbench run file (HDF5, but no schema = \"mq-run\" attribute at /)");
    const std::string schema = h5::readStringAttribute(root, "schema", path);
    if (schema != kSchemaName)
        failFile(path, "not an MQ Workbench run file (schema is \"" + schema + "\", expected \"mq-run\")");
    if (!h5::attributeExists(root, "schema_version"))
        failFile(path, "run file without a schema_version attribute at /: the file is damaged");
    const std::int64_t version = h5::readInt64Attribute(root, "schema_version", path);
    if (version > kSchemaVersion)
        failFile(path,
            "written by a newer MQ Workbench (run-file schema_version " + std::to_string(version)
                + ", this build reads up to " + std::to_string(kSchemaVersion) + "); update the workbench");
    if (version < 1)
        failFile(path, "invalid run-file schema_version " + std::to_string(version));
    return version;
}

namespace {

std::vector<std::string> readStringDataset(hid_t file, const std::string &name, const std::string &path)
{
    Hid dataset = h5::openDataset(file, name, path);
    const auto shape = h5::dims(dataset, path);
    if (shape.size() != 1)
        failFile(path, name + " is not a 1-D string dataset");
    std::vector<char *> raw(shape[0], nullptr);
    Hid type = h5::check(H5Dget_type(dataset), H5Tclose, path, "cannot read " + name);
    if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) <= 0)
        failFile(path, name + " is not a variable-length string dataset");
    if (!raw.empty() && H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
        h5::fail(path, "cannot read " + name);
    std::vector<std::string> result;
    for (char *value : raw) {
        result.emplace_back(value ? value : "");
        H5free_memory(value);
    }
    return result;
}

std::size_t secondDim(hid_t file, const std::string &name, const std::string &path)
{
    Hid dataset = h5::openDataset(file, name, path);
    const auto shape = h5::dims(dataset, path);
    if (shape.size() != 2)
        failFile(path, name + " is not a 2-D dataset");
    return static_cast<std::size_t>(shape[1]);
}

} // namespace

RunHeader readHeader(hid_t file, const std::string &path)
{
    RunHeader header;
    Hid config = h5::openGroup(file, "config", path);
    header.configJson = h5::readStringAttribute(config, "run_config", path);
    header.precisionMapJson = h5::readStringAttribute(config, "precision_map", path);
    header.model.path = h5::readStringAttribute(config, "model_path", path);
    header.model.contentHash = h5::readStringAttribute(config, "model_hash", path);
    header.model.architecture = h5::readStringAttribute(config, "model_architecture", path);

    Hid lossDataset = h5::openDataset(file, "train/loss", path);
    header.lossUnits = h5::readStringAttribute(lossDataset, "units", path);
    Hid lr = h5::openGroup(file, "train/lr", path);
    header.lrGroups = h5::members(lr, path);

    header.sites = readStringDataset(file, "sites", path);

    Hid root = h5::check(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose, path, "cannot open the root group");
    for (const auto &name : h5::members(root, path)) {
        H5O_info_t info;
        if (H5Oget_info_by_name(file, name.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_GROUP)
            continue;
        Hid group = h5::openGroup(file, name, path);
        if (!h5::attributeExists(group, "kind") || h5::readStringAttribute(group, "kind", path) != "vector-series")
            continue;
        VectorGroupSpec spec;
        spec.name = name;
        spec.units = h5::readStringAttribute(group, "units", path);
        for (const auto &member : h5::members(group, path)) {
            if (member != "step")
                spec.series.push_back({ member, secondDim(file, name + "/" + member, path) });
        }
        header.vectorGroups.push_back(spec);
    }

    Hid histograms = h5::openGroup(file, "histograms", path);
    for (const auto &site : h5::members(histograms, path))
        header.histograms.push_back({ site, secondDim(file, "histograms/" + site + "/counts", path) });

    Hid checkpoints = h5::openGroup(file, "checkpoints", path);
    for (const auto &name : h5::members(checkpoints, path)) {
        CheckpointSpec spec;
        spec.name = name;
        Hid group = h5::openGroup(checkpoints, name, path);
        for (const auto &arrayName : h5::members(group, path)) {
            Hid dataset = h5::openDataset(group, arrayName, path);
            ArraySpec array;
            array.name = arrayName;
            for (hsize_t d : h5::dims(dataset, path))
                array.shape.push_back(static_cast<std::size_t>(d));
            spec.arrays.push_back(array);
        }
        header.checkpoints.push_back(spec);
    }
    return header;
}

std::vector<std::vector<std::string>> appendedTogether(const RunHeader &header)
{
    std::vector<std::vector<std::string>> sets;
    std::vector<std::string> train { "/train/step", "/train/loss", "/train/seconds" };
    for (const auto &group : header.lrGroups)
        train.push_back("/train/lr/" + group);
    sets.push_back(train);
    sets.push_back({ "/ranges/step", "/ranges/fmin", "/ranges/fmax" });
    for (const auto &group : header.vectorGroups) {
        std::vector<std::string> set { "/" + group.name + "/step" };
        for (const auto &series : group.series)
            set.push_back("/" + group.name + "/" + series.name);
        sets.push_back(set);
    }
    for (const auto &histogram : header.histograms) {
        const std::string base = "/histograms/" + histogram.site + "/";
        sets.push_back({ base + "step", base + "edges", base + "counts" });
    }
    return sets;
}

} // namespace mq::store
