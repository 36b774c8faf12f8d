#pragma once

#include <string>

namespace mq {

// The version of the HDF5 library loaded at run time ("1.10.8"), for --version and About boxes.
std::string hdf5LibraryVersion();

} // namespace mq
