#include "app/workbench/versions.h"

// torch/version.h is a handful of #defines: including it costs nothing, unlike the rest of torch.
#include <torch/version.h>

#include <H5public.h>

namespace mq {

QString workbenchVersion()
{
    return QStringLiteral(MQ_WORKBENCH_VERSION);
}

QString qtVersion()
{
    return QString::fromLatin1(qVersion());
}

QString torchVersion()
{
    return QStringLiteral(TORCH_VERSION);
}

QString hdf5Version()
{
    unsigned major = 0, minor = 0, release = 0;
    if (H5get_libversion(&major, &minor, &release) < 0)
        return QStringLiteral("unknown");
    return QStringLiteral("%1.%2.%3").arg(major).arg(minor).arg(release);
}

QString versionSummary()
{
    return QStringLiteral("mq-workbench %1\nQt %2\nLibTorch %3\nHDF5 %4")
        .arg(workbenchVersion(), qtVersion(), torchVersion(), hdf5Version());
}

} // namespace mq
