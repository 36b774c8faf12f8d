#pragma once

#include "cpu_meter.h"
#include "options.h"
#include "sandbox.h"
#include "wire.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// One adb transport (a TCP connection from the adb server) and its streams.
//
// Threads: Connection::run() is the connection's reader thread; it parses packets and hands them
// to streams. Every stream (one OPEN) has a worker thread of its own that runs the service (shell,
// sync) with blocking calls. Packets from all threads go out through sendPacket(), which holds the
// writer lock for a whole packet so packets never interleave. Flow control is adb's: one
// unacknowledged WRTE per stream and direction; a stream acknowledges the host's WRTE (OKAY) when
// its worker takes the data, which is what throttles a push to the speed the file is written.

namespace mq::devsim {

// What every connection shares; owned by the daemon, outlives all connections.
struct DaemonContext
{
    const Options &options;
    const Sandbox &sandbox;
    CpuMeter &meter;
};

// Paces bytes to a rate (--slow-link): each call waits until `bytes` would have passed a link of
// `bytesPerSecond` after the previous ones. Rate 0 means no limit. One user at a time.
class LinkPacer
{
public:
    explicit LinkPacer(double bytesPerSecond);
    void pace(std::size_t bytes);

private:
    double m_rate;
    std::chrono::steady_clock::time_point m_next;
};

class Connection;

class Stream
{
public:
    Stream(Connection &connection, std::uint32_t localId, std::uint32_t remoteId);
    ~Stream();
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;

    std::uint32_t localId() const { return m_localId; }
    std::uint32_t remoteId() const { return m_remoteId; }

    // Reader thread.
    void deliver(std::string data);
    void okayReceived();
    void remoteClosed(); // CLSE from the host, or the connection is going away
    bool wasClosedByRemote();

    // Worker thread. An eventfd that becomes readable when input, an OKAY or a close arrived,
    // for workers that poll other descriptors too.
    int wakeFd() const { return m_wakeFd; }
    void clearWake();
    // The next chunk of host data, acknowledged to the host as it is taken.
    std::optional<std::string> tryTakeInput();
    // Blocks for the next chunk; false when the stream was closed and nothing is left.
    bool takeInput(std::string &out);
    bool canSend();
    bool isClosed();
    // One WRTE of `payload` (≤ maxPayload()) when canSend(); false when closed.
    bool trySend(const std::string &payload);
    // As many WRTEs as needed, each after the host's OKAY for the previous one; false when closed.
    bool send(const std::string &bytes);
    std::size_t maxPayload() const;

private:
    void wake();

    Connection &m_connection;
    const std::uint32_t m_localId;
    const std::uint32_t m_remoteId;
    int m_wakeFd = -1;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::string> m_input;
    bool m_canSend = true; // the host's OPEN implies it is ready for one WRTE
    bool m_closed = false;
    bool m_closedByRemote = false;
};

class Connection
{
public:
    Connection(int fd, const DaemonContext &context, int number);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Runs the transport until the host disconnects, a malformed packet arrives, --drop-after
    // fires or stop() is called; then ends every stream (killing their processes) and returns.
    void run();
    // Any thread: makes run() return soon.
    void stop();
    bool finished() const { return m_finished; }

    bool sendPacket(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1, const std::string &payload);
    std::size_t maxSendPayload() const { return m_hostMaxPayload; }
    const DaemonContext &context() const { return m_context; }
    std::string name() const;

private:
    enum class ReadResult { Ok, Closed, Deadline, Stopped };
    ReadResult readExact(void *buffer, std::size_t size);
    bool handlePacket(const PacketHeader &header, std::string payload);
    void handleConnect(const PacketHeader &header, const std::string &payload);
    void openStream(std::uint32_t remoteId, std::string service);
    void refuseService(std::uint32_t remoteId, const std::string &service, const std::string &why);
    void streamDone(std::uint32_t localId);
    void joinFinishedWorkers();
    void endAllStreams();
    void sendAuthToken();
    std::shared_ptr<Stream> findStream(std::uint32_t localId);

    int m_fd;
    const DaemonContext &m_context;
    const int m_number;
    const std::chrono::steady_clock::time_point m_established;
    std::atomic<bool> m_stop { false };
    std::atomic<bool> m_finished { false };

    std::mutex m_writeMutex;
    bool m_writeFailed = false;
    LinkPacer m_sendPacer;
    LinkPacer m_receivePacer;

    bool m_online = false;
    std::uint32_t m_version = kVersionMin;
    std::size_t m_hostMaxPayload = 4096;
    std::uint32_t m_nextLocalId = 1;

    std::mutex m_streamsMutex;
    std::map<std::uint32_t, std::shared_ptr<Stream>> m_streams;
    std::map<std::uint32_t, std::thread> m_workers;
    std::vector<std::uint32_t> m_finishedWorkers;
};

} // namespace mq::devsim
