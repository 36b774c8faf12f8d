#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

// The adb transport as Debian's adb 29.0.6 speaks it over TCP (docs/devsim.md, "Protocol subset";
// ../shared/docs/adb-device-benchmarking.md §1): 24-byte little-endian headers, then the payload.
// Pure functions and value types only, so that the framing is unit-tested without sockets.

namespace mq::devsim {

// Command words: the little-endian reading of the four ASCII letters.
constexpr std::uint32_t kCnxn = 0x4e584e43;
constexpr std::uint32_t kAuth = 0x48545541;
constexpr std::uint32_t kOpen = 0x4e45504f;
constexpr std::uint32_t kOkay = 0x59414b4f;
constexpr std::uint32_t kWrte = 0x45545257;
constexpr std::uint32_t kClse = 0x45534c43;

// 0x01000001 is the first version whose peers may leave data_check at 0 (adb.h A_VERSION).
constexpr std::uint32_t kVersionMin = 0x01000000;
constexpr std::uint32_t kVersionSkipChecksum = 0x01000001;
// What this daemon accepts in one packet; the host's limit is what its CNXN says (1 MiB in 29.0.6).
constexpr std::uint32_t kDeviceMaxPayload = 256 * 1024;
// Nothing larger is ever valid on the wire, whatever was negotiated.
constexpr std::uint32_t kAbsoluteMaxPayload = 1024 * 1024;

constexpr std::uint32_t kAuthToken = 1;
constexpr std::uint32_t kAuthSignature = 2;
constexpr std::uint32_t kAuthRsaPublicKey = 3;

constexpr std::size_t kHeaderSize = 24;

struct PacketHeader
{
    std::uint32_t command = 0;
    std::uint32_t arg0 = 0;
    std::uint32_t arg1 = 0;
    std::uint32_t dataLength = 0;
    std::uint32_t dataCheck = 0;
    std::uint32_t magic = 0;
};

// The 29.0.6 "checksum": a plain byte sum (calculate_apacket_checksum), not a CRC.
std::uint32_t payloadChecksum(const void *data, std::size_t size);

// Header + payload as bytes, with the byte-sum checksum and the magic filled in.
std::string encodePacket(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1, const std::string &payload);

PacketHeader decodeHeader(const unsigned char *bytes);

// Why a header (or header + payload) is not acceptable, or nullopt when it is. `maxPayload` is the
// limit the daemon announced; `requireChecksum` is true while the negotiated version is below
// kVersionSkipChecksum. A zero data_check is accepted otherwise (29.0.6 sends 0 after CNXN), a
// non-zero one must match.
std::optional<std::string> headerProblem(const PacketHeader &h, std::uint32_t maxPayload);
std::optional<std::string> checksumProblem(const PacketHeader &h, const std::string &payload, bool requireChecksum);

// "CNXN" etc. for log lines; unknown words as hex.
std::string commandName(std::uint32_t command);

void putLe32(std::string &out, std::uint32_t v);
void putLe64(std::string &out, std::uint64_t v);
std::uint32_t getLe32(const unsigned char *p);

// Shell protocol v2 (shell_protocol.h): id u8 + length u32 LE + data, inside the stream's bytes.
enum class ShellId : std::uint8_t { Stdin = 0, Stdout = 1, Stderr = 2, Exit = 3, CloseStdin = 4, WindowSize = 5 };

std::string encodeShellPacket(ShellId id, const std::string &data);

// Splits a byte stream into shell v2 packets whatever the WRTE boundaries were.
class ShellPacketParser
{
public:
    struct Packet
    {
        ShellId id;
        std::string data;
    };
    void feed(const std::string &bytes);
    // The next complete packet, or nullopt when more bytes are needed.
    std::optional<Packet> next();
    // A declared length above this is a protocol error (the host never sends more than its
    // buffer, 32 KiB in 29.0.6); the connection is closed rather than buffering without bound.
    static constexpr std::uint32_t kMaxPacket = 1024 * 1024;
    bool malformed() const { return m_malformed; }

private:
    std::string m_buffer;
    std::size_t m_pos = 0;
    bool m_malformed = false;
};

} // namespace mq::devsim
