#include "wire.h"

#include <cstdio>
#include <cstring>

namespace mq::devsim {

std::uint32_t payloadChecksum(const void *data, std::size_t size)
{
    const auto *p = static_cast<const unsigned char *>(data);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < size; ++i)
        sum += p[i];
    return sum;
}

void putLe32(std::string &out, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void putLe64(std::string &out, std::uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t getLe32(const unsigned char *p)
{
    return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}

std::string encodePacket(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1, const std::string &payload)
{
    std::string out;
    out.reserve(kHeaderSize + payload.size());
    putLe32(out, command);
    putLe32(out, arg0);
    putLe32(out, arg1);
    putLe32(out, static_cast<std::uint32_t>(payload.size()));
    putLe32(out, payloadChecksum(payload.data(), payload.size()));
    putLe32(out, command ^ 0xffffffffu);
    out += payload;
    return out;
}

PacketHeader decodeHeader(const unsigned char *b)
{
    PacketHeader h;
    h.command = getLe32(b);
    h.arg0 = getLe32(b + 4);
    h.arg1 = getLe32(b + 8);
    h.dataLength = getLe32(b + 12);
    h.dataCheck = getLe32(b + 16);
    h.magic = getLe32(b + 20);
    return h;
}

std::optional<std::string> headerProblem(const PacketHeader &h, std::uint32_t maxPayload)
{
    if (h.magic != (h.command ^ 0xffffffffu))
        return "bad magic 0x" +
            [&] {
                char buf[16];
                std::snprintf(buf, sizeof buf, "%08x", h.magic);
                return std::string(buf);
            }()
            + " for command " + commandName(h.command);
    if (h.dataLength > maxPayload || h.dataLength > kAbsoluteMaxPayload)
        return "payload of " + std::to_string(h.dataLength) + " bytes exceeds the limit of "
            + std::to_string(maxPayload);
    switch (h.command) {
    case kCnxn:
    case kAuth:
    case kOpen:
    case kOkay:
    case kWrte:
    case kClse:
        return std::nullopt;
    default:
        return "unknown command " + commandName(h.command);
    }
}

std::optional<std::string> checksumProblem(const PacketHeader &h, const std::string &payload, bool requireChecksum)
{
    if (!requireChecksum && h.dataCheck == 0)
        return std::nullopt;
    const std::uint32_t sum = payloadChecksum(payload.data(), payload.size());
    if (sum == h.dataCheck)
        return std::nullopt;
    return "data_check " + std::to_string(h.dataCheck) + " does not match the payload's byte sum "
        + std::to_string(sum);
}

std::string commandName(std::uint32_t command)
{
    std::string s;
    for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>((command >> (8 * i)) & 0xff);
        if ((c < 'A' || c > 'Z') && (c < '0' || c > '9')) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "0x%08x", command);
            return buf;
        }
        s.push_back(c);
    }
    return s;
}

std::string encodeShellPacket(ShellId id, const std::string &data)
{
    std::string out;
    out.reserve(5 + data.size());
    out.push_back(static_cast<char>(id));
    putLe32(out, static_cast<std::uint32_t>(data.size()));
    out += data;
    return out;
}

void ShellPacketParser::feed(const std::string &bytes)
{
    if (m_pos > 0 && m_pos == m_buffer.size()) {
        m_buffer.clear();
        m_pos = 0;
    }
    m_buffer += bytes;
}

std::optional<ShellPacketParser::Packet> ShellPacketParser::next()
{
    if (m_malformed || m_buffer.size() - m_pos < 5)
        return std::nullopt;
    const auto *p = reinterpret_cast<const unsigned char *>(m_buffer.data()) + m_pos;
    const std::uint32_t len = getLe32(p + 1);
    if (len > kMaxPacket || p[0] > static_cast<unsigned char>(ShellId::WindowSize)) {
        m_malformed = true;
        return std::nullopt;
    }
    if (m_buffer.size() - m_pos < 5 + std::size_t(len))
        return std::nullopt;
    Packet packet { static_cast<ShellId>(p[0]), m_buffer.substr(m_pos + 5, len) };
    m_pos += 5 + len;
    if (m_pos > 64 * 1024) {
        m_buffer.erase(0, m_pos);
        m_pos = 0;
    }
    return packet;
}

} // namespace mq::devsim
