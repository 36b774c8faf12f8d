#pragma once

#include "core/device/adb.h"
#include "core/device/bench_types.h"

#include <string>
#include <vector>

// Deploying mq-run and model packages to a phone: each file goes to
// <remoteRoot>/<first 16 hex digits of its SHA-256>/<file name>, so a changed file never
// overwrites the one a past benchmark used, and a file already there with the same size and hash
// is not uploaded again (pushes of big packages over a slow link take minutes).

namespace mq::device {

// SHA-256 of a file, lower-case hex. Throws mq::Error naming the file if it cannot be read.
std::string fileSha256(const std::string &path);

// The host mq-run for a device ABI: `explicitPath` if given; else $MQ_RUN_<ABI> (ABI upper-cased,
// '-' as '_', e.g. MQ_RUN_ARM64_V8A); else, when the host can run that ABI, mq-run next to
// `hostBinDir`; else <hostBinDir>/../android-<abi>/bin/mq-run. Throws mq::Error saying how to build
// one when none exists.
std::string findRunner(const std::string &abi, const std::string &explicitPath, const std::string &hostBinDir);

// Remote path of `local` with content hash `sha256` under `remoteRoot`.
std::string remotePathFor(const std::string &remoteRoot, const std::string &local, const std::string &sha256);

DeployResult deploy(const AdbClient &adb, const std::string &serial, const std::string &runner,
    const std::vector<std::string> &packages, const BenchOptions &options, const DeviceEvents &events = {},
    const std::atomic<bool> *cancel = nullptr);

} // namespace mq::device
