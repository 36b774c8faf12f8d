#pragma once

#include <QString>

namespace mq {

// Versions for the About box and --version: this workbench (PROJECT_VERSION), Qt at run time
// (qVersion), LibTorch (torch/version.h, as built against) and HDF5 (H5get_libversion, the
// library loaded at run time).
QString workbenchVersion();
QString qtVersion();
QString torchVersion();
QString hdf5Version();
QString versionSummary(); // one line per component

} // namespace mq
