#include "sandbox.h"

#include "core/util/error.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace mq::devsim {

namespace {

bool under(const std::string &path, const std::string &base)
{
    return path == base
        || (path.size() > base.size() && path.compare(0, base.size(), base) == 0 && path[base.size()] == '/');
}

std::optional<std::string> realPath(const std::string &path, int &err)
{
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) {
        err = errno;
        return std::nullopt;
    }
    return std::string(buf);
}

bool isPathChar(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '+';
}

const char *kGetprop = R"SH(#!/bin/sh
# getprop of mq-devsim, the simulated phone: answers from the properties the daemon wrote at start.
props="$(dirname "$0")/../build.prop"
if [ $# -eq 0 ]; then
  while IFS='=' read -r k v; do printf '[%s]: [%s]\n' "$k" "$v"; done < "$props"
  exit 0
fi
while IFS='=' read -r k v; do
  if [ "$k" = "$1" ]; then printf '%s\n' "$v"; exit 0; fi
done < "$props"
printf '%s\n' "${2-}"
)SH";

const char *kCmd = R"SH(#!/bin/sh
# cmd of mq-devsim, the simulated phone: it has no Android system services, and says so.
case "$1" in
  package)
    if [ "$2" = install ]; then
      # A streamed install (-S SIZE) sends the APK on stdin: read exactly that much.
      prev=""; size=""
      for a in "$@"; do [ "$prev" = -S ] && size="$a"; prev="$a"; done
      [ -n "$size" ] && head -c "$size" > /dev/null
    fi
    echo "Failure [MQ_DEVSIM_NO_PACKAGE_MANAGER: the simulated phone (mq-devsim) cannot install or manage apps]"
    exit 1 ;;
  *)
    echo "cmd: Can't find service: $1 (mq-devsim simulates no Android system services)" >&2
    exit 20 ;;
esac
)SH";

const char *kDumpsys = R"SH(#!/bin/sh
# dumpsys of mq-devsim, the simulated phone: battery and thermalservice from its simulated sysfs files.
root="$(dirname "$0")/../.."
b="$root/sys/class/power_supply/battery"
case "$1" in
  battery)
    case "$(cat "$b/status")" in Charging) code=2;; Discharging) code=3;; Full) code=5;; *) code=1;; esac
    usb=false; [ "$(cat "$root/sys/class/power_supply/usb/online")" = 1 ] && usb=true
    echo "Current Battery Service state (SIMULATED by mq-devsim):"
    echo "  AC powered: false"
    echo "  USB powered: $usb"
    echo "  Wireless powered: false"
    echo "  status: $code"
    echo "  health: 2"
    echo "  present: true"
    echo "  level: $(cat "$b/capacity")"
    echo "  scale: 100"
    echo "  voltage: $(( $(cat "$b/voltage_now") / 1000 ))"
    echo "  temperature: $(cat "$b/temp")"
    echo "  technology: Li-ion" ;;
  thermalservice)
    t=$(cat "$root/sys/class/thermal/thermal_zone0/temp")
    s=0; [ "$t" -ge 40000 ] && s=1; [ "$t" -ge 45000 ] && s=2; [ "$t" -ge 50000 ] && s=3
    echo "IsStatusOverride: false"
    echo "Thermal Status: $s"
    echo "Current temperatures from HAL (SIMULATED by mq-devsim):"
    echo "	Temperature{mValue=$(( t / 1000 )).$(( t % 1000 / 100 )), mType=0, mName=soc-simulated, mStatus=$s}" ;;
  android.hardware.power.stats.IPowerStats/default)
    # Only with --odpm: the power HAL's energy meter section over the simulated ODPM counters.
    e="$root/sys/bus/iio/devices/iio:device0/energy_value"
    if [ ! -r "$e" ]; then
      echo "Can't find service: $1 (this simulated phone has no ODPM power rails; start mq-devsim with --odpm)"
      exit 0
    fi
    echo "============= PowerStats HAL 2.0 energy meter =============="
    echo "(SIMULATED by mq-devsim: the simulated power split into rails)"
    echo "            Channel    Cumulative Energy"
    while IFS= read -r line; do
      case "$line" in
        CH*)
          rail=${line#*[}; rail=${rail%%]*}; uws=${line##*, }
          case "$rail" in
            S2M_VDD_CPUCL2) sub="CPU(BIG)";; S3M_VDD_CPUCL1) sub="CPU(MID)";; S4M_VDD_CPUCL0) sub="CPU(LITTLE)";;
            S1M_VDD_MIF) sub="DDR";; VSYS_PWR_DISPLAY) sub="Display";; *) sub="Modem";;
          esac
          printf '  [%s]:%s    %d.%03d mWs\n' "$rail" "$sub" $((uws / 1000)) $((uws % 1000)) ;;
      esac
    done < "$e"
    echo "========== End of PowerStats HAL 2.0 energy meter ==========" ;;
  *)
    echo "Can't find service: $1 (mq-devsim simulates only 'battery', 'thermalservice' and, with --odpm, 'android.hardware.power.stats.IPowerStats/default')" ;;
esac
)SH";

} // namespace

Sandbox::Sandbox(const std::string &root)
{
    std::error_code ec;
    fs::create_directories(root, ec);
    int err = 0;
    const auto canonical = realPath(root, err);
    if (!canonical)
        throw Error("--sandbox " + root + ": cannot create or open the folder (" + std::strerror(err) + ")");
    m_root = *canonical;
    if (m_root == "/")
        throw Error("--sandbox /: the sandbox must be a folder of its own, not the host's root");
    for (char c : m_root)
        if (!isPathChar(c) && c != '/')
            throw Error("--sandbox " + m_root
                + ": the path may hold only letters, digits and _ . - + / because it is written into shell commands "
                  "unquoted; choose another folder");
    m_writableRoots = { m_root + "/data/local/tmp", m_root + "/sdcard" };
}

const std::vector<std::string> &Sandbox::deviceRoots()
{
    static const std::vector<std::string> roots { "/data", "/sdcard", "/storage", "/sys", "/system", "/proc/cpuinfo" };
    return roots;
}

void Sandbox::writeFileAtomic(const std::string &path, const std::string &content)
{
    const auto slash = path.rfind('/');
    const std::string tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(tmp + ": cannot write (" + std::strerror(errno) + ")");
    const char *p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int e = errno;
            ::close(fd);
            throw Error(tmp + ": write failed (" + std::strerror(e) + ")");
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        throw Error(path + ": rename failed (" + std::strerror(errno) + ")");
}

void Sandbox::populate(const DeviceProfile &profile) const
{
    for (const char *d :
        { "/data/local/tmp", "/sdcard", "/storage/emulated", "/system/bin", "/proc", "/sys/class/power_supply/battery",
            "/sys/class/power_supply/usb", "/sys/class/thermal/thermal_zone0", "/sys/class/thermal/thermal_zone1" }) {
        std::error_code ec;
        fs::create_directories(m_root + d, ec);
        if (ec)
            throw Error(m_root + d + ": cannot create the folder (" + ec.message() + ")");
    }
    ::chmod((m_root + "/data/local/tmp").c_str(), 0771);
    const std::string link = m_root + "/storage/emulated/0";
    struct stat st
    {
    };
    if (::lstat(link.c_str(), &st) != 0 && ::symlink("../../sdcard", link.c_str()) != 0)
        throw Error(link + ": cannot create the symlink to /sdcard (" + std::strerror(errno) + ")");

    std::ifstream cpuinfo("/proc/cpuinfo");
    std::stringstream ss;
    ss << cpuinfo.rdbuf();
    writeFileAtomic(m_root + "/proc/cpuinfo", ss.str());

    std::string props;
    for (const auto &[k, v] : profile.properties())
        props += k + "=" + v + "\n";
    writeFileAtomic(m_root + "/system/build.prop", props);
    writeFileAtomic(m_root + "/system/bin/getprop", kGetprop);
    writeFileAtomic(m_root + "/system/bin/cmd", kCmd);
    writeFileAtomic(m_root + "/system/bin/dumpsys", kDumpsys);
    for (const char *tool : { "getprop", "cmd", "dumpsys" })
        ::chmod((m_root + "/system/bin/" + tool).c_str(), 0755);
}

std::optional<std::string> Sandbox::normalize(const std::string &devicePath)
{
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i <= devicePath.size()) {
        std::size_t j = devicePath.find('/', i);
        if (j == std::string::npos)
            j = devicePath.size();
        const std::string part = devicePath.substr(i, j - i);
        if (part == "..") {
            if (parts.empty())
                return std::nullopt;
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out;
    for (const auto &p : parts)
        out += "/" + p;
    return out.empty() ? "/" : out;
}

bool Sandbox::isWritable(const std::string &resolved) const
{
    for (const auto &w : m_writableRoots)
        if (under(resolved, w))
            return true;
    return false;
}

Sandbox::Resolved Sandbox::resolve(const std::string &devicePath, Access access) const
{
    Resolved r;
    auto refuse = [&](int err, std::string reason) {
        r.error = err;
        r.reason = std::move(reason);
        r.hostPath.clear();
        return r;
    };
    if (devicePath.size() > 1024)
        return refuse(ENAMETOOLONG, "path longer than 1024 bytes");
    if (devicePath.find('\0') != std::string::npos)
        return refuse(EINVAL, "path contains a NUL byte");
    const auto norm = normalize(devicePath);
    if (!norm)
        return refuse(EACCES, "'" + devicePath + "' leaves the phone's file system ('..' above '/')");
    const std::string host = *norm == "/" ? m_root : m_root + *norm;
    int err = 0;

    if (access == Access::Read) {
        const auto real = realPath(host, err);
        if (!real)
            return refuse(err, std::strerror(err));
        if (!under(*real, m_root))
            return refuse(EACCES, "'" + devicePath + "' is a symlink that leaves the phone's file system");
        r.hostPath = *real;
        return r;
    }
    if (access == Access::NoFollow) {
        if (*norm == "/") {
            r.hostPath = m_root;
            return r;
        }
        const auto slash = host.rfind('/');
        const auto parent = realPath(host.substr(0, slash), err);
        if (!parent)
            return refuse(err, std::strerror(err));
        if (!under(*parent, m_root))
            return refuse(
                EACCES, "'" + devicePath + "' is reached through a symlink that leaves the phone's file system");
        r.hostPath = *parent + host.substr(slash);
        return r;
    }

    // Write: find the deepest folder that exists, check it, then create the rest.
    if (*norm == "/")
        return refuse(EISDIR, "'/' is a folder");
    std::string existing = host.substr(0, host.rfind('/'));
    std::vector<std::string> missing;
    struct stat st
    {
    };
    while (::lstat(existing.c_str(), &st) != 0) {
        const auto slash = existing.rfind('/');
        missing.insert(missing.begin(), existing.substr(slash + 1));
        existing = existing.substr(0, slash);
    }
    const auto realParent = realPath(existing, err);
    if (!realParent)
        return refuse(err, std::strerror(err));
    if (!under(*realParent, m_root))
        return refuse(EACCES, "'" + devicePath + "' is reached through a symlink that leaves the phone's file system");
    std::string dir = *realParent;
    for (const auto &m : missing)
        dir += "/" + m;
    const std::string target = dir + host.substr(host.rfind('/'));
    if (!isWritable(dir + "/"))
        return refuse(EACCES, "only /data/local/tmp and /sdcard are writable on the simulated phone");
    // A final component that is a symlink is followed (as adbd's open() does) but must stay inside.
    if (missing.empty() && ::lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        const auto real = realPath(target, err);
        if (real && !under(*real, m_root))
            return refuse(EACCES, "'" + devicePath + "' is a symlink that leaves the phone's file system");
    }
    std::string build = *realParent;
    for (const auto &m : missing) {
        build += "/" + m;
        if (::mkdir(build.c_str(), 0771) != 0 && errno != EEXIST)
            return refuse(errno, std::string("couldn't create folder: ") + std::strerror(errno));
    }
    r.hostPath = target;
    return r;
}

Sandbox::OutputUnmapper::OutputUnmapper(std::string root)
    : m_root(std::move(root))
{
}

std::string Sandbox::OutputUnmapper::feed(const std::string &bytes)
{
    std::string data = m_carry + bytes;
    m_carry.clear();
    std::string out;
    out.reserve(data.size());
    std::size_t i = 0;
    const std::size_t n = m_root.size();
    while (i < data.size()) {
        const std::size_t hit = data.find(m_root, i);
        if (hit == std::string::npos)
            break;
        out.append(data, i, hit - i);
        const std::size_t after = hit + n;
        if (after == data.size()) { // need the next byte to decide
            m_carry = data.substr(hit);
            return out;
        }
        if (data[after] == '/') {
            i = after; // "<root>/x" -> "/x"
        } else if (!isPathChar(data[after])) {
            out.push_back('/'); // the root itself is "/"
            i = after;
        } else {
            out.append(m_root); // "<root>x" is another path
            i = after;
        }
    }
    // Hold back a tail that could be the start of the root.
    std::size_t keep = 0;
    for (std::size_t k = std::min(n - 1, data.size() - i); k > 0; --k) {
        if (data.compare(data.size() - k, k, m_root, 0, k) == 0) {
            keep = k;
            break;
        }
    }
    out.append(data, i, data.size() - i - keep);
    m_carry = data.substr(data.size() - keep);
    return out;
}

std::string Sandbox::OutputUnmapper::flush()
{
    std::string rest;
    rest.swap(m_carry);
    if (rest == m_root)
        return "/";
    return rest;
}

std::string Sandbox::rewriteCommand(const std::string &command) const
{
    return rewriteCommand(command, m_root);
}

std::string Sandbox::rewriteCommand(const std::string &command, const std::string &root)
{
    // A device root is recognised at the start of a word: after the start, blanks, shell
    // operators, quotes, '=' (VAR=/data/..), ':' (PATH lists) or ',' (--files a,b lists), and when
    // it ends there or continues with '/' (so "/database" and "/system32" are left alone).
    static const std::string before = " \t\n;&|()<>='\"`:,";
    std::string out;
    out.reserve(command.size() + 64);
    std::size_t i = 0;
    while (i < command.size()) {
        const bool atWord = command[i] == '/' && (i == 0 || before.find(command[i - 1]) != std::string::npos);
        if (atWord) {
            for (const auto &r : deviceRoots()) {
                if (command.compare(i, r.size(), r) != 0)
                    continue;
                const std::size_t end = i + r.size();
                if (end == command.size() || !isPathChar(command[end])) {
                    out += root;
                    break;
                }
            }
        }
        out.push_back(command[i]);
        ++i;
    }
    return out;
}

} // namespace mq::devsim
