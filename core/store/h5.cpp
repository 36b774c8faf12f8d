#include "core/store/h5.h"
#include "core/store/hdf5_version.h"

#include "core/util/error.h"

#include <algorithm>

namespace mq::h5 {

void silenceErrors()
{
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {

herr_t collectMessage(unsigned, const H5E_error2_t *error, void *clientData)
{
    auto *messages = static_cast<std::vector<std::string> *>(clientData);
    if (error->desc && *error->desc)
        messages->emplace_back(error->desc);
    return 0;
}

} // namespace

std::string takeErrorMessage()
{
    std::vector<std::string> messages;
    // Upward walks from the innermost call, whose message is the specific one.
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collectMessage, &messages);
    H5Eclear2(H5E_DEFAULT);
    return messages.empty() ? std::string() : messages.front();
}

void fail(const std::string &path, const std::string &what)
{
    const std::string detail = takeErrorMessage();
    failFile(path, detail.empty() ? what : what + " (HDF5: " + detail + ")");
}

Hid check(hid_t id, Hid::Closer closer, const std::string &path, const std::string &what)
{
    if (id < 0)
        fail(path, what);
    return Hid(id, closer);
}

hid_t utf8StringType()
{
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    return type;
}

Hid stringType()
{
    return Hid(utf8StringType(), H5Tclose);
}

bool exists(hid_t loc, const std::string &name)
{
    // H5Lexists fails on a missing intermediate group, so test every prefix.
    std::size_t pos = name.rfind('/', 0) == 0 ? 1 : 0;
    while (pos < name.size()) {
        std::size_t slash = name.find('/', pos);
        if (slash == std::string::npos)
            slash = name.size();
        const std::string prefix = name.substr(0, slash);
        if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
        pos = slash + 1;
    }
    return true;
}

bool attributeExists(hid_t loc, const std::string &name)
{
    const htri_t found = H5Aexists(loc, name.c_str());
    H5Eclear2(H5E_DEFAULT);
    return found > 0;
}

namespace {

void writeAttribute(hid_t loc, const std::string &name, hid_t type, const void *value, const std::string &path)
{
    if (attributeExists(loc, name)) {
        Hid attr = check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose, path, "cannot open attribute " + name);
        if (H5Awrite(attr, type, value) < 0)
            fail(path, "cannot write attribute " + name);
        return;
    }
    Hid space(H5Screate(H5S_SCALAR), H5Sclose);
    Hid attr = check(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, path,
        "cannot create attribute " + name);
    if (H5Awrite(attr, type, value) < 0)
        fail(path, "cannot write attribute " + name);
}

} // namespace

void writeStringAttribute(hid_t loc, const std::string &name, const std::string &value, const std::string &path)
{
    Hid type = stringType();
    const char *data = value.c_str();
    writeAttribute(loc, name, type, &data, path);
}

void writeInt64Attribute(hid_t loc, const std::string &name, std::int64_t value, const std::string &path)
{
    writeAttribute(loc, name, H5T_STD_I64LE, &value, path);
}

void writeDoubleAttribute(hid_t loc, const std::string &name, double value, const std::string &path)
{
    writeAttribute(loc, name, H5T_IEEE_F64LE, &value, path);
}

std::string readStringAttribute(hid_t loc, const std::string &name, const std::string &path)
{
    Hid attr = check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose, path, "missing attribute " + name);
    Hid fileType = check(H5Aget_type(attr), H5Tclose, path, "cannot read attribute " + name);
    if (H5Tget_class(fileType) != H5T_STRING)
        failFile(path, "attribute " + name + " is not a string");
    if (H5Tis_variable_str(fileType) > 0) {
        // Read with the file's own type: HDF5 1.10 cannot convert between ASCII and UTF-8 sets.
        Hid memType(H5Tcopy(fileType), H5Tclose);
        char *data = nullptr;
        if (H5Aread(attr, memType, &data) < 0)
            fail(path, "cannot read attribute " + name);
        std::string value = data ? data : "";
        H5free_memory(data);
        return value;
    }
    // Fixed-length strings, as other tools may write them.
    const std::size_t size = H5Tget_size(fileType);
    std::string value(size, '\0');
    Hid memType(H5Tcopy(fileType), H5Tclose);
    if (H5Aread(attr, memType, value.data()) < 0)
        fail(path, "cannot read attribute " + name);
    value.resize(std::min(value.find('\0'), value.size()));
    return value;
}

std::int64_t readInt64Attribute(hid_t loc, const std::string &name, const std::string &path)
{
    Hid attr = check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose, path, "missing attribute " + name);
    Hid fileType = check(H5Aget_type(attr), H5Tclose, path, "cannot read attribute " + name);
    if (H5Tget_class(fileType) != H5T_INTEGER)
        failFile(path, "attribute " + name + " is not an integer");
    std::int64_t value = 0;
    if (H5Aread(attr, H5T_NATIVE_INT64, &value) < 0)
        fail(path, "cannot read attribute " + name);
    return value;
}

Hid createGroup(hid_t loc, const std::string &name, const std::string &path)
{
    return check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, path,
        "cannot create group " + name);
}

Hid openGroup(hid_t loc, const std::string &name, const std::string &path)
{
    if (!exists(loc, name))
        failFile(path, "missing group " + name + ": the file is damaged or was not written by MQ Workbench");
    return check(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose, path, "cannot open group " + name);
}

Hid openDataset(hid_t loc, const std::string &name, const std::string &path)
{
    if (!exists(loc, name))
        failFile(path, "missing dataset " + name + ": the file is damaged or was not written by MQ Workbench");
    return check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, path, "cannot open dataset " + name);
}

namespace {

herr_t collectName(hid_t, const char *name, const H5L_info_t *, void *clientData)
{
    static_cast<std::vector<std::string> *>(clientData)->emplace_back(name);
    return 0;
}

} // namespace

std::vector<std::string> members(hid_t group, const std::string &path)
{
    std::vector<std::string> names;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collectName, &names) < 0)
        fail(path, "cannot list a group");
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<hsize_t> dims(hid_t dataset, const std::string &path)
{
    Hid space = check(H5Dget_space(dataset), H5Sclose, path, "cannot read a dataset's shape");
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0)
        fail(path, "cannot read a dataset's shape");
    std::vector<hsize_t> result(static_cast<std::size_t>(rank));
    if (rank > 0)
        H5Sget_simple_extent_dims(space, result.data(), nullptr);
    return result;
}

} // namespace mq::h5

namespace mq {

std::string hdf5LibraryVersion()
{
    unsigned major = 0, minor = 0, release = 0;
    if (H5get_libversion(&major, &minor, &release) < 0)
        return "unknown";
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

} // namespace mq
