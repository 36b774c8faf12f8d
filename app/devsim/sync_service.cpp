#include "log.h"
#include "services.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <functional>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

// The file sync service (SYNC.TXT, file_sync_service.cpp of adb 29.0.6): a byte stream of
// little-endian records, not aligned to WRTE boundaries.

namespace mq::devsim {

namespace {

constexpr std::uint32_t id4(const char (&s)[5])
{
    return std::uint32_t(std::uint8_t(s[0])) | (std::uint32_t(std::uint8_t(s[1])) << 8)
        | (std::uint32_t(std::uint8_t(s[2])) << 16) | (std::uint32_t(std::uint8_t(s[3])) << 24);
}

constexpr std::uint32_t kStat = id4("STAT"), kSta2 = id4("STA2"), kLst2 = id4("LST2"), kList = id4("LIST"),
                        kLis2 = id4("LIS2"), kSend = id4("SEND"), kRecv = id4("RECV"), kQuit = id4("QUIT"),
                        kData = id4("DATA"), kDone = id4("DONE"), kOkaySync = id4("OKAY"), kFail = id4("FAIL"),
                        kDent = id4("DENT"), kDnt2 = id4("DNT2");

constexpr std::size_t kMaxPath = 1024;
constexpr std::size_t kMaxData = 64 * 1024; // SYNC_DATA_MAX

class SyncIo
{
public:
    explicit SyncIo(Stream &stream)
        : m_stream(stream)
    {
    }

    // False when the stream ended before `n` more bytes arrived.
    bool read(std::string &out, std::size_t n)
    {
        while (m_buffer.size() - m_pos < n) {
            std::string chunk;
            if (!m_stream.takeInput(chunk))
                return false;
            m_buffer.erase(0, m_pos);
            m_pos = 0;
            m_buffer += chunk;
        }
        out.assign(m_buffer, m_pos, n);
        m_pos += n;
        return true;
    }

    bool readU32(std::uint32_t &v)
    {
        std::string b;
        if (!read(b, 4))
            return false;
        v = getLe32(reinterpret_cast<const unsigned char *>(b.data()));
        return true;
    }

    // Replies are batched into WRTEs of at most the negotiated size, so a pull moves three
    // 64 KiB DATA records per round trip instead of one.
    void put(const std::string &bytes)
    {
        if (!m_out.empty() && m_out.size() + bytes.size() > m_stream.maxPayload())
            flush();
        m_out += bytes;
    }

    bool flush()
    {
        if (m_out.empty())
            return !m_stream.isClosed();
        const bool ok = m_stream.send(m_out);
        m_out.clear();
        return ok;
    }

    bool fail(const std::string &message)
    {
        std::string r;
        putLe32(r, kFail);
        putLe32(r, static_cast<std::uint32_t>(message.size()));
        put(r + message);
        return flush();
    }

private:
    Stream &m_stream;
    std::string m_buffer;
    std::size_t m_pos = 0;
    std::string m_out;
};

std::string statV1(std::uint32_t id, const struct stat *st)
{
    std::string r;
    putLe32(r, id);
    putLe32(r, st ? st->st_mode : 0);
    putLe32(r, st ? static_cast<std::uint32_t>(st->st_size) : 0);
    putLe32(r, st ? static_cast<std::uint32_t>(st->st_mtime) : 0);
    return r;
}

// The 68 bytes after the id of a stat_v2 reply / DNT2 entry: error, dev, ino, mode, nlink, uid,
// gid, size, atime, mtime, ctime.
std::string statV2Body(int error, const struct stat *st)
{
    std::string r;
    putLe32(r, static_cast<std::uint32_t>(error));
    if (st == nullptr) {
        r.append(64, '\0');
        return r;
    }
    putLe64(r, st->st_dev);
    putLe64(r, st->st_ino);
    putLe32(r, st->st_mode);
    putLe32(r, static_cast<std::uint32_t>(st->st_nlink));
    putLe32(r, st->st_uid);
    putLe32(r, st->st_gid);
    putLe64(r, static_cast<std::uint64_t>(st->st_size));
    putLe64(r, static_cast<std::uint64_t>(st->st_atime));
    putLe64(r, static_cast<std::uint64_t>(st->st_mtime));
    putLe64(r, static_cast<std::uint64_t>(st->st_ctime));
    return r;
}

void doStat(SyncIo &io, const Sandbox &sandbox, std::uint32_t id, const std::string &path)
{
    const bool follow = id == kSta2;
    const auto res = sandbox.resolve(path, follow ? Sandbox::Access::Read : Sandbox::Access::NoFollow);
    struct stat st
    {
    };
    int error = res.error;
    if (error == 0 && (follow ? ::stat(res.hostPath.c_str(), &st) : ::lstat(res.hostPath.c_str(), &st)) != 0)
        error = errno;
    if (id == kStat) {
        io.put(statV1(kStat, error == 0 ? &st : nullptr));
    } else {
        std::string r;
        putLe32(r, id);
        io.put(r + statV2Body(error, error == 0 ? &st : nullptr));
    }
    io.flush();
}

void doList(SyncIo &io, const Sandbox &sandbox, std::uint32_t id, const std::string &path)
{
    const bool v2 = id == kLis2;
    const auto res = sandbox.resolve(path, Sandbox::Access::Read);
    if (res.error == 0) {
        if (DIR *dir = ::opendir(res.hostPath.c_str())) {
            while (const dirent *e = ::readdir(dir)) {
                const std::string name = e->d_name;
                if (name == "." || name == ".." || name.size() > 255)
                    continue;
                struct stat st
                {
                };
                if (::lstat((res.hostPath + "/" + name).c_str(), &st) != 0)
                    continue;
                std::string r;
                if (v2) {
                    putLe32(r, kDnt2);
                    r += statV2Body(0, &st);
                } else {
                    r = statV1(kDent, &st);
                }
                putLe32(r, static_cast<std::uint32_t>(name.size()));
                io.put(r + name);
            }
            ::closedir(dir);
        }
    }
    // The terminator has the full size of an entry: the host reads sizeof(dent) before the id.
    std::string done;
    putLe32(done, kDone);
    done.append(v2 ? 72 : 16, '\0');
    io.put(done);
    io.flush();
}

// Reads DATA records up to DONE, handing each to `sink`; false when the stream ended or broke the
// protocol (then the reply is pointless or has been sent).
bool readSendBody(SyncIo &io, const std::function<void(const std::string &)> &sink, std::uint32_t &mtime)
{
    for (;;) {
        std::uint32_t id = 0, len = 0;
        if (!io.readU32(id) || !io.readU32(len))
            return false;
        if (id == kDone) {
            mtime = len;
            return true;
        }
        if (id != kData || len > kMaxData) {
            io.fail("invalid data message: expected DATA of at most 65536 bytes or DONE");
            return false;
        }
        std::string data;
        if (!io.read(data, len))
            return false;
        sink(data);
    }
}

bool doSend(SyncIo &io, const Sandbox &sandbox, const std::string &spec)
{
    const auto comma = spec.rfind(',');
    const std::string path = spec.substr(0, comma);
    mode_t mode
        = comma == std::string::npos ? 0644 : static_cast<mode_t>(std::strtoul(spec.c_str() + comma + 1, nullptr, 10));
    const auto res = sandbox.resolve(path, Sandbox::Access::Write);

    std::string failure;
    int fd = -1;
    std::string linkTarget;
    const bool isLink = S_ISLNK(mode);
    if (res.error != 0) {
        failure = std::string("couldn't create file: ") + std::strerror(res.error) + " (mq-devsim: " + res.reason + ")";
    } else if (!isLink) {
        struct stat st
        {
        };
        if (::lstat(res.hostPath.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            failure = std::string("couldn't create file: ") + std::strerror(EISDIR);
        } else {
            fd = ::open(res.hostPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0)
                failure = std::string("couldn't create file: ") + std::strerror(errno);
        }
    }
    std::uint32_t mtime = 0;
    const bool complete = readSendBody(
        io,
        [&](const std::string &data) {
            if (!failure.empty())
                return; // adbd keeps reading (and dropping) until DONE, then fails
            if (isLink) {
                linkTarget += data;
                return;
            }
            std::size_t off = 0;
            while (off < data.size()) {
                const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    failure = std::string("write failed: ") + std::strerror(errno);
                    return;
                }
                off += static_cast<std::size_t>(w);
            }
        },
        mtime);
    if (fd >= 0) {
        if (failure.empty() && complete) {
            // As adbd: the user's permission bits are copied to group and other.
            mode_t m = mode & 0777;
            m |= (m >> 3) & 0070;
            m |= (m >> 3) & 0007;
            ::fchmod(fd, m);
            const timeval times[2] = { { static_cast<time_t>(mtime), 0 }, { static_cast<time_t>(mtime), 0 } };
            ::futimes(fd, times);
        }
        ::close(fd);
        if (!failure.empty() || !complete)
            ::unlink(res.hostPath.c_str()); // no half-written file left behind
    }
    if (!complete) {
        if (fd >= 0)
            logLine("sync: push to " + path + " interrupted; partial file removed");
        return false;
    }
    if (isLink && failure.empty()) {
        while (!linkTarget.empty() && linkTarget.back() == '\0')
            linkTarget.pop_back();
        ::unlink(res.hostPath.c_str());
        if (::symlink(linkTarget.c_str(), res.hostPath.c_str()) != 0)
            failure = std::string("symlink failed: ") + std::strerror(errno);
    }
    if (!failure.empty()) {
        logVerbose("sync: SEND " + path + " refused: " + failure);
        return io.fail(failure);
    }
    std::string ok;
    putLe32(ok, kOkaySync);
    putLe32(ok, 0);
    io.put(ok);
    return io.flush();
}

bool doRecv(SyncIo &io, const Sandbox &sandbox, const std::string &path)
{
    const auto res = sandbox.resolve(path, Sandbox::Access::Read);
    if (res.error != 0)
        return io.fail(std::string("open failed: ") + std::strerror(res.error)
            + (res.error == EACCES ? " (mq-devsim: " + res.reason + ")" : std::string()));
    const int fd = ::open(res.hostPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io.fail(std::string("open failed: ") + std::strerror(errno));
    std::string buffer(kMaxData, '\0');
    for (;;) {
        const ssize_t r = ::read(fd, buffer.data(), buffer.size());
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            const int e = errno;
            ::close(fd);
            return io.fail(std::string("read failed: ") + std::strerror(e));
        }
        if (r == 0)
            break;
        std::string rec;
        putLe32(rec, kData);
        putLe32(rec, static_cast<std::uint32_t>(r));
        rec.append(buffer.data(), static_cast<std::size_t>(r));
        io.put(rec);
    }
    ::close(fd);
    std::string done;
    putLe32(done, kDone);
    putLe32(done, 0);
    io.put(done);
    return io.flush();
}

} // namespace

void runSync(Stream &stream, const DaemonContext &context)
{
    SyncIo io(stream);
    const Sandbox &sandbox = context.sandbox;
    for (;;) {
        std::uint32_t id = 0, len = 0;
        if (!io.readU32(id) || !io.readU32(len))
            return;
        if (len > kMaxPath) {
            io.fail("path too long: " + std::to_string(len) + " bytes (the limit is 1024)");
            return;
        }
        std::string path;
        if (!io.read(path, len))
            return;
        logVerbose("sync: " + commandName(id) + " " + path);
        if (id == kStat || id == kSta2 || id == kLst2) {
            doStat(io, sandbox, id, path);
        } else if (id == kList || id == kLis2) {
            doList(io, sandbox, id, path);
        } else if (id == kSend) {
            if (!doSend(io, sandbox, path))
                return;
        } else if (id == kRecv) {
            if (!doRecv(io, sandbox, path))
                return;
        } else if (id == kQuit) {
            return;
        } else {
            io.fail("unknown sync request " + commandName(id));
            return;
        }
        if (stream.isClosed())
            return;
    }
}

} // namespace mq::devsim
