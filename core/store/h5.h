#pragma once

// Internal to mq_store: thin RAII and helpers over the HDF5 C API. Never included by a public
// header, so HDF5's headers and definitions stay inside this library.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mq::h5 {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Hid
{
public:
    using Closer = herr_t (*)(hid_t);

    Hid() = default;
    Hid(hid_t id, Closer closer)
        : m_id(id)
        , m_closer(closer)
    {
    }
    Hid(const Hid &) = delete;
    Hid &operator=(const Hid &) = delete;
    Hid(Hid &&other) noexcept { swap(other); }
    Hid &operator=(Hid &&other) noexcept
    {
        Hid tmp(std::move(other));
        swap(tmp);
        return *this;
    }
    ~Hid() { reset(); }

    hid_t get() const { return m_id; }
    operator hid_t() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    hid_t release()
    {
        const hid_t id = m_id;
        m_id = -1;
        return id;
    }
    void reset()
    {
        if (m_id >= 0 && m_closer)
            m_closer(m_id);
        m_id = -1;
    }

private:
    void swap(Hid &other) noexcept
    {
        std::swap(m_id, other.m_id);
        std::swap(m_closer, other.m_closer);
    }

    hid_t m_id = -1;
    Closer m_closer = nullptr;
};

// Turns off HDF5's printing of its error stack; our errors carry the message instead.
void silenceErrors();

// The innermost message of HDF5's current error stack (the most specific one, e.g.
// "truncated file: eof = ..."), then clears the stack. Empty if there is none.
std::string takeErrorMessage();

// Throws mq::Error "<path>: <what> (HDF5: <innermost message>)".
[[noreturn]] void fail(const std::string &path, const std::string &what);

// Each throws mq::Error through fail() when HDF5 returns a negative id.
Hid check(hid_t id, Hid::Closer closer, const std::string &path, const std::string &what);

hid_t utf8StringType(); // variable-length UTF-8 string, owned by the caller via Hid
Hid stringType();

bool exists(hid_t loc, const std::string &name); // every component of a relative path
bool attributeExists(hid_t loc, const std::string &name);

void writeStringAttribute(hid_t loc, const std::string &name, const std::string &value, const std::string &path);
void writeInt64Attribute(hid_t loc, const std::string &name, std::int64_t value, const std::string &path);
void writeDoubleAttribute(hid_t loc, const std::string &name, double value, const std::string &path);
std::string readStringAttribute(hid_t loc, const std::string &name, const std::string &path);
std::int64_t readInt64Attribute(hid_t loc, const std::string &name, const std::string &path);

Hid createGroup(hid_t loc, const std::string &name, const std::string &path);
Hid openGroup(hid_t loc, const std::string &name, const std::string &path);
Hid openDataset(hid_t loc, const std::string &name, const std::string &path);

// Member names of a group, sorted.
std::vector<std::string> members(hid_t group, const std::string &path);

// The current dimensions of a dataset.
std::vector<hsize_t> dims(hid_t dataset, const std::string &path);

} // namespace mq::h5
