#pragma once

// Internal to mq_store: the layout shared by RunWriter and RunReader (docs/run-file.md).

#include "core/store/h5.h"
#include "core/store/run_types.h"

#include <string>
#include <vector>

namespace mq::store {

inline constexpr const char *kSchemaName = "mq-run";
// Bump when a reader of the previous version would misread the file; adding groups or
// attributes that old readers may ignore does not need a bump.
inline constexpr std::int64_t kSchemaVersion = 1;

// Throws mq::Error unless `name` can be one HDF5 link name (no '/', not empty, not "." ).
void checkName(const std::string &name, const std::string &what, const std::string &path);

// Throws mq::Error naming the file unless the header is internally consistent.
void checkHeader(const RunHeader &header, const std::string &path);

// Throws mq::Error unless the root carries schema = "mq-run" and a schema_version this build
// can read.
std::int64_t checkSchema(hid_t file, const std::string &path);

// Rebuilds the header from the file's structure and /config attributes.
RunHeader readHeader(hid_t file, const std::string &path);

// Datasets appended together: each set must keep equal first dimensions. Paths are absolute.
std::vector<std::vector<std::string>> appendedTogether(const RunHeader &header);

} // namespace mq::store
