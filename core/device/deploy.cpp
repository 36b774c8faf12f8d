#include "core/device/deploy.h"

#include "core/runtime/sha256.h"
#include "core/util/error.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/utsname.h>

namespace mq::device {

namespace fs = std::filesystem;

std::string fileSha256(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        failFile(path, "cannot be read; check the path");
    Sha256 h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), std::streamsize(buf.size()));
        if (in.gcount() > 0)
            h.update(buf.data(), size_t(in.gcount()));
    }
    return toHex(h.finish());
}

namespace {

bool hostRuns(const std::string &abi)
{
    struct utsname u
    {
    };
    if (::uname(&u) != 0)
        return false;
    const std::string m = u.machine;
    return (m == "x86_64" && (abi == "x86_64" || abi == "x86")) || (m == "aarch64" && abi == "arm64-v8a");
}

} // namespace

std::string findRunner(const std::string &abi, const std::string &explicitPath, const std::string &hostBinDir)
{
    if (!explicitPath.empty()) {
        if (isExecutable(explicitPath))
            return explicitPath;
        failFile(explicitPath, "is not an executable mq-run; build it (target mq-run) or fix the path");
    }
    std::string var = "MQ_RUN_";
    for (char c : abi)
        var += c == '-' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
    if (const char *env = std::getenv(var.c_str()); env && *env) {
        if (isExecutable(env))
            return env;
        failFile(env, "($" + var + ") is not an executable mq-run");
    }
    std::vector<std::string> tried;
    if (hostRuns(abi)) {
        const std::string p = (fs::path(hostBinDir) / "mq-run").string();
        if (isExecutable(p))
            return p;
        tried.push_back(p);
    }
    const std::string p
        = (fs::path(hostBinDir) / ".." / ("android-" + abi) / "bin" / "mq-run").lexically_normal().string();
    if (isExecutable(p))
        return p;
    tried.push_back(p);
    std::string list;
    for (const auto &t : tried)
        list += (list.empty() ? "" : ", ") + t;
    throw Error("no mq-run built for the device's ABI " + abi + " (looked at " + list + " and $" + var
        + "); build one (for arm64-v8a: cmake --preset android-arm64 && cmake --build --preset android-arm64 "
          "--target mq-run) and pass --runner PATH or set $"
        + var);
}

std::string remotePathFor(const std::string &remoteRoot, const std::string &local, const std::string &sha256)
{
    return remoteRoot + "/" + sha256.substr(0, 16) + "/" + fs::path(local).filename().string();
}

DeployResult deploy(const AdbClient &adb, const std::string &serial, const std::string &runner,
    const std::vector<std::string> &packages, const BenchOptions &options, const DeviceEvents &events,
    const std::atomic<bool> *cancel)
{
    DeployResult result;
    std::vector<DeployedFile *> files;
    auto describe = [&](DeployedFile &f, const std::string &local) {
        std::error_code ec;
        const auto size = fs::file_size(local, ec);
        if (ec)
            failFile(local, "cannot be read: " + ec.message());
        f.local = local;
        f.bytes = size;
        f.sha256 = fileSha256(local);
        f.remote = remotePathFor(options.remoteRoot, local, f.sha256);
    };
    if (events.stage)
        events.stage("hashing " + std::to_string(packages.size() + 1) + " files");
    describe(result.runner, runner);
    files.push_back(&result.runner);
    result.packages.resize(packages.size());
    for (size_t i = 0; i < packages.size(); ++i) {
        describe(result.packages[i], packages[i]);
        files.push_back(&result.packages[i]);
    }

    // One round trip: "<index> <size> <sha256>" for every file already on the device. The index,
    // not the path, identifies the file (the virtual phone rewrites paths in commands).
    std::string check;
    for (size_t i = 0; i < files.size(); ++i) {
        const std::string q = shellQuote(files[i]->remote);
        check += "if [ -f " + q + " ]; then echo \"" + std::to_string(i) + " $(stat -c %s " + q + ") $(sha256sum " + q
            + " | cut -d' ' -f1)\"; fi\n";
    }
    check += "true";
    const std::string present = adb.shellChecked(serial, check, 600);
    std::vector<bool> skip(files.size(), false);
    std::istringstream in(present);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream w(line);
        size_t idx = 0;
        std::uint64_t size = 0;
        std::string hash;
        if (w >> idx >> size >> hash && idx < files.size())
            skip[idx] = size == files[idx]->bytes && hash == files[idx]->sha256;
    }
    for (size_t i = 0; i < files.size(); ++i) {
        DeployedFile &f = *files[i];
        if (skip[i]) {
            ++result.filesSkipped;
            if (events.stage)
                events.stage(fs::path(f.local).filename().string() + " is already on the device (" + f.remote + ")");
            continue;
        }
        if (events.stage)
            events.stage("pushing " + fs::path(f.local).filename().string() + " (" + std::to_string(f.bytes)
                + " bytes) to " + f.remote);
        const std::string name = fs::path(f.local).filename().string();
        adb.push(
            serial, f.local, f.remote,
            [&](int percent) {
                if (events.push)
                    events.push(name, percent, f.bytes);
            },
            cancel);
        f.uploaded = true;
        ++result.filesUploaded;
        result.bytesUploaded += f.bytes;
    }
    adb.shellChecked(serial, "chmod 755 " + shellQuote(result.runner.remote), 60);
    return result;
}

} // namespace mq::device
