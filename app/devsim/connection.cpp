#include "connection.h"

#include "log.h"
#include "services.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <poll.h>
#include <random>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mq::devsim {

using Clock = std::chrono::steady_clock;

LinkPacer::LinkPacer(double bytesPerSecond)
    : m_rate(bytesPerSecond)
    , m_next(Clock::now())
{
}

void LinkPacer::pace(std::size_t bytes)
{
    if (m_rate <= 0)
        return;
    const auto now = Clock::now();
    if (m_next < now)
        m_next = now;
    m_next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(bytes) / m_rate));
    std::this_thread::sleep_until(m_next);
}

// ---- Stream ------------------------------------------------------------------------------------

Stream::Stream(Connection &connection, std::uint32_t localId, std::uint32_t remoteId)
    : m_connection(connection)
    , m_localId(localId)
    , m_remoteId(remoteId)
    , m_wakeFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
}

Stream::~Stream()
{
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
}

void Stream::wake()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(m_wakeFd, &one, sizeof one);
    m_cv.notify_all();
}

void Stream::clearWake()
{
    std::uint64_t v;
    [[maybe_unused]] const auto n = ::read(m_wakeFd, &v, sizeof v);
}

void Stream::deliver(std::string data)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed)
            return;
        m_input.push_back(std::move(data));
    }
    wake();
}

void Stream::okayReceived()
{
    {
        std::lock_guard lock(m_mutex);
        m_canSend = true;
    }
    wake();
}

void Stream::remoteClosed()
{
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_closedByRemote = true;
    }
    wake();
}

bool Stream::wasClosedByRemote()
{
    std::lock_guard lock(m_mutex);
    return m_closedByRemote;
}

std::optional<std::string> Stream::tryTakeInput()
{
    std::string data;
    {
        std::lock_guard lock(m_mutex);
        if (m_input.empty())
            return std::nullopt;
        data = std::move(m_input.front());
        m_input.pop_front();
        if (m_closed)
            return data;
    }
    m_connection.sendPacket(kOkay, m_localId, m_remoteId, {});
    return data;
}

bool Stream::takeInput(std::string &out)
{
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return !m_input.empty() || m_closed; });
        if (m_input.empty())
            return false;
        out = std::move(m_input.front());
        m_input.pop_front();
        if (m_closed)
            return true;
    }
    m_connection.sendPacket(kOkay, m_localId, m_remoteId, {});
    return true;
}

bool Stream::canSend()
{
    std::lock_guard lock(m_mutex);
    return m_canSend && !m_closed;
}

bool Stream::isClosed()
{
    std::lock_guard lock(m_mutex);
    return m_closed;
}

std::size_t Stream::maxPayload() const
{
    return m_connection.maxSendPayload();
}

bool Stream::trySend(const std::string &payload)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed || !m_canSend)
            return false;
        m_canSend = false;
    }
    return m_connection.sendPacket(kWrte, m_localId, m_remoteId, payload);
}

bool Stream::send(const std::string &bytes)
{
    std::size_t offset = 0;
    const std::size_t chunk = maxPayload();
    while (offset < bytes.size()) {
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_canSend || m_closed; });
            if (m_closed)
                return false;
            m_canSend = false;
        }
        const std::size_t n = std::min(chunk, bytes.size() - offset);
        if (!m_connection.sendPacket(kWrte, m_localId, m_remoteId, bytes.substr(offset, n)))
            return false;
        offset += n;
    }
    return true;
}

// ---- Connection --------------------------------------------------------------------------------

Connection::Connection(int fd, const DaemonContext &context, int number)
    : m_fd(fd)
    , m_context(context)
    , m_number(number)
    , m_established(Clock::now())
    , m_sendPacer(context.options.slowLinkKBps * 1000)
    , m_receivePacer(context.options.slowLinkKBps * 1000)
{
}

Connection::~Connection()
{
    stop();
    endAllStreams();
    ::close(m_fd);
}

std::string Connection::name() const
{
    return "connection " + std::to_string(m_number);
}

void Connection::stop()
{
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
}

bool Connection::sendPacket(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1, const std::string &payload)
{
    const std::string bytes = encodePacket(command, arg0, arg1, payload);
    std::lock_guard lock(m_writeMutex);
    if (m_writeFailed)
        return false;
    m_sendPacer.pace(bytes.size());
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        const ssize_t n = ::send(m_fd, bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            m_writeFailed = true;
            ::shutdown(m_fd, SHUT_RDWR);
            return false;
        }
        offset += static_cast<std::size_t>(n);
    }
    return true;
}

Connection::ReadResult Connection::readExact(void *buffer, std::size_t size)
{
    auto *p = static_cast<char *>(buffer);
    const double drop = m_context.options.dropAfterSeconds;
    const auto deadline
        = m_established + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(drop));
    while (size > 0) {
        if (m_stop)
            return ReadResult::Stopped;
        int timeoutMs = 200; // also how often finished stream workers are joined
        if (drop > 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0)
                return ReadResult::Deadline;
            timeoutMs = static_cast<int>(std::min<long long>(timeoutMs, left));
        }
        pollfd pfd { m_fd, POLLIN, 0 };
        const int r = ::poll(&pfd, 1, timeoutMs);
        if (r < 0 && errno != EINTR)
            return ReadResult::Closed;
        if (r <= 0) {
            joinFinishedWorkers();
            continue;
        }
        const ssize_t n = ::recv(m_fd, p, size, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return m_stop ? ReadResult::Stopped : ReadResult::Closed;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return ReadResult::Ok;
}

void Connection::run()
{
    logVerbose(name() + ": accepted");
    std::string why = "the host closed it";
    for (;;) {
        unsigned char head[kHeaderSize];
        ReadResult r = readExact(head, sizeof head);
        std::string payload;
        PacketHeader h;
        if (r == ReadResult::Ok) {
            h = decodeHeader(head);
            if (const auto problem = headerProblem(h, m_online ? kDeviceMaxPayload : kAbsoluteMaxPayload)) {
                logLine(name() + ": malformed packet (" + *problem + "); closing the connection");
                why.clear();
                break;
            }
            payload.resize(h.dataLength);
            if (h.dataLength > 0)
                r = readExact(payload.data(), payload.size());
        }
        if (r == ReadResult::Deadline) {
            logLine(name() + ": dropping it " + std::to_string(m_context.options.dropAfterSeconds)
                + " s after it was established (--drop-after)");
            why.clear();
            break;
        }
        if (r == ReadResult::Stopped) {
            why = "the daemon is stopping";
            break;
        }
        if (r == ReadResult::Closed)
            break;
        m_receivePacer.pace(kHeaderSize + payload.size());
        const bool requireChecksum = !m_online || m_version < kVersionSkipChecksum;
        if (const auto problem = checksumProblem(h, payload, requireChecksum)) {
            logLine(name() + ": malformed packet " + commandName(h.command) + " (" + *problem
                + "); closing the connection");
            why.clear();
            break;
        }
        if (!handlePacket(h, std::move(payload))) {
            why.clear();
            break;
        }
        joinFinishedWorkers();
    }
    if (!why.empty())
        logVerbose(name() + ": closed (" + why + ")");
    stop();
    endAllStreams();
    m_finished = true;
}

void Connection::sendAuthToken()
{
    static thread_local std::mt19937 rng { std::random_device {}() };
    std::string token(20, '\0');
    for (char &c : token)
        c = static_cast<char>(rng() & 0xff);
    sendPacket(kAuth, kAuthToken, 0, token);
}

void Connection::handleConnect(const PacketHeader &h, const std::string &payload)
{
    logVerbose(name() + ": CNXN from host, version 0x" +
        [&] {
            char b[16];
            std::snprintf(b, sizeof b, "%08x", h.arg0);
            return std::string(b);
        }()
        + ", maxdata " + std::to_string(h.arg1) + ", \"" + payload + "\"");
    if (m_context.options.unauthorized) {
        // adb signs the token with each of its keys, then offers its public key: never accept.
        sendAuthToken();
        return;
    }
    if (m_online) {
        // The host restarted the transport: the old streams are gone on its side.
        endAllStreams();
    }
    m_version = std::min(h.arg0, kVersionSkipChecksum);
    // The host accepts packets up to min(its maxdata, ours) (atransport::update_version).
    m_hostMaxPayload = std::min<std::size_t>(std::max<std::uint32_t>(h.arg1, 4096), kDeviceMaxPayload);
    static const std::vector<std::string> features { "shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir" };
    sendPacket(kCnxn, kVersionSkipChecksum, kDeviceMaxPayload, m_context.options.profile.banner(features));
    m_online = true;
}

bool Connection::handlePacket(const PacketHeader &h, std::string payload)
{
    if (h.command == kCnxn) {
        handleConnect(h, payload);
        return true;
    }
    if (h.command == kAuth) {
        if (!m_context.options.unauthorized)
            return true;
        if (h.arg0 == kAuthSignature) {
            sendAuthToken();
        } else if (h.arg0 == kAuthRsaPublicKey) {
            logLine(name()
                + ": the host offered its public key; --unauthorized never accepts it (adb shows 'unauthorized')");
        }
        return true;
    }
    if (!m_online) {
        logVerbose(name() + ": ignoring " + commandName(h.command) + " before the connection is authorised");
        return true;
    }
    switch (h.command) {
    case kOpen: {
        if (h.arg0 == 0) {
            logLine(name() + ": malformed packet (OPEN with local id 0); closing the connection");
            return false;
        }
        while (!payload.empty() && payload.back() == '\0')
            payload.pop_back();
        openStream(h.arg0, std::move(payload));
        return true;
    }
    case kOkay:
        if (auto s = findStream(h.arg1))
            s->okayReceived();
        return true;
    case kWrte:
        if (auto s = findStream(h.arg1))
            s->deliver(std::move(payload));
        return true;
    case kClse:
        if (auto s = findStream(h.arg1))
            s->remoteClosed();
        return true;
    default:
        return true;
    }
}

std::shared_ptr<Stream> Connection::findStream(std::uint32_t localId)
{
    std::lock_guard lock(m_streamsMutex);
    const auto it = m_streams.find(localId);
    return it == m_streams.end() ? nullptr : it->second;
}

void Connection::refuseService(std::uint32_t remoteId, const std::string &service, const std::string &why)
{
    // A failed OPEN (CLSE with local id 0) only makes adb print "error: closed"; accepting the
    // stream and writing one line before closing it lets the person read why.
    logLine(name() + ": refused service '" + service + "': " + why);
    const std::uint32_t id = m_nextLocalId++;
    sendPacket(kOkay, id, remoteId, {});
    sendPacket(kWrte, id, remoteId, "error: " + why + "\n");
    sendPacket(kClse, id, remoteId, {});
}

void Connection::openStream(std::uint32_t remoteId, std::string service)
{
    logVerbose(name() + ": OPEN " + std::to_string(remoteId) + " '" + service + "'");
    std::function<void(Stream &)> work;
    if (const auto shell = parseShellService(service)) {
        work = [request = *shell, this](Stream &s) { runShell(s, request, m_context); };
    } else if (service == "sync:") {
        work = [this](Stream &s) { runSync(s, m_context); };
    } else {
        std::string kind = service.substr(0, service.find_first_of(":,"));
        refuseService(remoteId, service,
            "mq-devsim (a simulated phone) does not implement the '" + kind
                + ":' service; it offers shell, exec and sync (push, pull, ls)");
        return;
    }
    const std::uint32_t localId = m_nextLocalId++;
    if (m_nextLocalId == 0)
        m_nextLocalId = 1;
    auto stream = std::make_shared<Stream>(*this, localId, remoteId);
    std::lock_guard lock(m_streamsMutex);
    m_streams[localId] = stream;
    // OKAY before the worker can send its first WRTE, so the host knows the stream.
    sendPacket(kOkay, localId, remoteId, {});
    m_workers[localId] = std::thread([this, stream, work = std::move(work)] {
        try {
            work(*stream);
        } catch (const std::exception &e) {
            logLine(name() + ": stream " + std::to_string(stream->localId()) + " failed: " + e.what());
        }
        streamDone(stream->localId());
    });
}

void Connection::streamDone(std::uint32_t localId)
{
    std::shared_ptr<Stream> stream;
    {
        std::lock_guard lock(m_streamsMutex);
        const auto it = m_streams.find(localId);
        if (it != m_streams.end()) {
            stream = it->second;
            m_streams.erase(it);
        }
        m_finishedWorkers.push_back(localId);
    }
    // The host echoes our CLSE; it is ignored as a CLSE for an unknown stream.
    if (stream && !stream->wasClosedByRemote())
        sendPacket(kClse, localId, stream->remoteId(), {});
}

void Connection::joinFinishedWorkers()
{
    std::vector<std::thread> done;
    {
        std::lock_guard lock(m_streamsMutex);
        for (const auto id : m_finishedWorkers) {
            const auto it = m_workers.find(id);
            if (it != m_workers.end()) {
                done.push_back(std::move(it->second));
                m_workers.erase(it);
            }
        }
        m_finishedWorkers.clear();
    }
    for (auto &t : done)
        t.join();
}

void Connection::endAllStreams()
{
    std::vector<std::shared_ptr<Stream>> streams;
    std::map<std::uint32_t, std::thread> workers;
    {
        std::lock_guard lock(m_streamsMutex);
        for (auto &[id, s] : m_streams)
            streams.push_back(s);
    }
    for (auto &s : streams)
        s->remoteClosed();
    {
        std::lock_guard lock(m_streamsMutex);
        workers.swap(m_workers);
    }
    for (auto &[id, t] : workers)
        t.join();
    std::lock_guard lock(m_streamsMutex);
    m_streams.clear();
    m_finishedWorkers.clear();
}

} // namespace mq::devsim
