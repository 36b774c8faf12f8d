#pragma once

#include "options.h"

#include <optional>
#include <string>
#include <vector>

// The folder that stands for the phone's file system, and the one place that maps device paths
// ("/data/local/tmp/x") to host paths ("<root>/data/local/tmp/x").
//
// Two mappings, documented in docs/devsim.md "Path mapping":
// - Sync (push, pull, stat, ls) resolves every path here and refuses anything that leaves the
//   sandbox, lexically (".." above "/") or through a symlink; writes are allowed only under
//   /data/local/tmp and /sdcard, as for Android's shell user.
// - Shell commands run on this host with cwd = root, and rewriteCommand() prefixes the root onto
//   words that start with a device root (/data, /sdcard, /storage, /sys, /system, /proc/cpuinfo).
//   This is a view, not a jail: a command can still name any host path.
//
// Immutable after construction; any thread may call it.

namespace mq::devsim {

class Sandbox
{
public:
    // Creates the folder if needed; throws mq::Error when it cannot, or when its absolute path has
    // characters that would need shell quoting once rewritten into a command.
    explicit Sandbox(const std::string &root);

    const std::string &root() const { return m_root; }

    // Creates the phone's folders and files: /data/local/tmp, /sdcard, /storage/emulated/0,
    // /proc/cpuinfo (a copy of this host's), /system/build.prop with the profile's properties and
    // /system/bin/{getprop,cmd,dumpsys}. Keeps what /data and /sdcard already hold (a phone keeps its files).
    void populate(const DeviceProfile &profile) const;

    enum class Access {
        Read, // follow a final symlink (stat, pull)
        NoFollow, // the entry itself (lstat, list entries)
        Write, // create or replace (push): must land under a writable root
    };

    struct Resolved
    {
        std::string hostPath; // valid when error == 0
        int error = 0; // errno to report (ENOENT, EACCES, ENAMETOOLONG, ...)
        std::string reason; // for a person: why it was refused
    };

    // `devicePath` as adb sent it; relative paths are taken from "/" (adbd's cwd). For Write, the
    // missing parent folders are created as part of resolving (adbd's secure_mkdirs).
    Resolved resolve(const std::string &devicePath, Access access) const;

    // Lexical normalisation of a device path: "/a/./b/../c" -> "/a/c". nullopt when ".." would go
    // above "/" (on a phone it would silently stay at "/"; here it is refused, because it is
    // almost always a mistake or an attack).
    static std::optional<std::string> normalize(const std::string &devicePath);

    // Prefixes the root onto device paths in a shell command (see above). Pure text processing.
    std::string rewriteCommand(const std::string &command) const;
    static std::string rewriteCommand(const std::string &command, const std::string &root);

    static const std::vector<std::string> &deviceRoots();

    // The way back for shell output: "<root>/data/x" -> "/data/x", and the root alone -> "/", so
    // that pwd, error messages and programs' reports show device paths. Streaming: a root split
    // across two reads is carried over. Not used for exec: (binary output, e.g. exec-out).
    class OutputUnmapper
    {
    public:
        explicit OutputUnmapper(std::string root);
        std::string feed(const std::string &bytes);
        std::string flush(); // at end of output: whatever was held back

    private:
        std::string m_root;
        std::string m_carry;
    };

    // Atomic replacement (temp file + rename), so a concurrent reader sees old or new, never half.
    static void writeFileAtomic(const std::string &path, const std::string &content);

private:
    bool isWritable(const std::string &resolvedHostPath) const;

    std::string m_root; // absolute, canonical, no trailing '/'
    std::vector<std::string> m_writableRoots;
};

} // namespace mq::devsim
