#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mq {

// SHA-256 as specified in FIPS 180-4 (section 6.2), written from the standard. Used for the
// content hash of integer packages. A Sha256 object is a plain value; one thread at a time.
class Sha256
{
public:
    using Digest = std::array<uint8_t, 32>;

    Sha256();
    void update(const void *data, size_t size);
    // Pads, finishes and returns the digest; the object then starts a new, empty message.
    Digest finish();

private:
    void compressBlock(const uint8_t *block);

    std::array<uint32_t, 8> m_state {};
    std::array<uint8_t, 64> m_block {};
    size_t m_blockUsed = 0;
    uint64_t m_totalBytes = 0;
};

Sha256::Digest sha256(const void *data, size_t size);
// Lower-case hexadecimal, two characters per byte.
std::string toHex(const uint8_t *bytes, size_t size);
std::string toHex(const Sha256::Digest &digest);

} // namespace mq
