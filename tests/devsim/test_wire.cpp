#include "wire.h"

#include <gtest/gtest.h>

using namespace mq::devsim;

TEST(DevsimWire, CommandWordsAreTheAsciiLetters)
{
    // The constants are the little-endian reading of the four letters (protocol.txt).
    const std::string cnxn = encodePacket(kCnxn, 0, 0, {});
    EXPECT_EQ(cnxn.substr(0, 4), "CNXN");
    EXPECT_EQ(encodePacket(kWrte, 0, 0, {}).substr(0, 4), "WRTE");
    EXPECT_EQ(encodePacket(kClse, 0, 0, {}).substr(0, 4), "CLSE");
    EXPECT_EQ(encodePacket(kOkay, 0, 0, {}).substr(0, 4), "OKAY");
    EXPECT_EQ(encodePacket(kOpen, 0, 0, {}).substr(0, 4), "OPEN");
    EXPECT_EQ(encodePacket(kAuth, 0, 0, {}).substr(0, 4), "AUTH");
}

TEST(DevsimWire, EncodeDecodeRoundTripWithByteSumAndMagic)
{
    const std::string payload = "host::features=shell_v2\xff";
    const std::string bytes = encodePacket(kCnxn, 0x01000001, 1048576, payload);
    ASSERT_EQ(bytes.size(), kHeaderSize + payload.size());
    const PacketHeader h = decodeHeader(reinterpret_cast<const unsigned char *>(bytes.data()));
    EXPECT_EQ(h.command, kCnxn);
    EXPECT_EQ(h.arg0, 0x01000001u);
    EXPECT_EQ(h.arg1, 1048576u);
    EXPECT_EQ(h.dataLength, payload.size());
    // Independent byte sum: 0xff counts as 255, not -1.
    std::uint32_t sum = 0;
    for (unsigned char c : payload)
        sum += c;
    EXPECT_EQ(h.dataCheck, sum);
    EXPECT_EQ(h.magic, kCnxn ^ 0xffffffffu);
    EXPECT_FALSE(headerProblem(h, kAbsoluteMaxPayload));
    EXPECT_FALSE(checksumProblem(h, payload, true));
}

TEST(DevsimWire, RejectsBadMagicOversizeUnknownAndWrongChecksum)
{
    PacketHeader h { kWrte, 1, 2, 10, 0, kWrte ^ 0xffffffffu };
    EXPECT_FALSE(headerProblem(h, kDeviceMaxPayload));
    h.magic = 0;
    EXPECT_TRUE(headerProblem(h, kDeviceMaxPayload));
    h.magic = kWrte ^ 0xffffffffu;
    h.dataLength = kDeviceMaxPayload + 1;
    EXPECT_TRUE(headerProblem(h, kDeviceMaxPayload));
    PacketHeader unknown { 0x434e5953 /* SYNC: obsolete, never on the wire */, 0, 0, 0, 0, 0x434e5953 ^ 0xffffffffu };
    EXPECT_TRUE(headerProblem(unknown, kDeviceMaxPayload));

    // After version 0x01000001 a zero checksum is allowed, a wrong non-zero one is not.
    PacketHeader w { kWrte, 1, 2, 3, 0, kWrte ^ 0xffffffffu };
    EXPECT_FALSE(checksumProblem(w, "abc", false));
    EXPECT_TRUE(checksumProblem(w, "abc", true));
    w.dataCheck = 'a' + 'b' + 'c';
    EXPECT_FALSE(checksumProblem(w, "abc", true));
    w.dataCheck = 7;
    EXPECT_TRUE(checksumProblem(w, "abc", false));
}

TEST(DevsimWire, ShellPacketsSurviveArbitrarySplitsAndMerges)
{
    const std::string stream = encodeShellPacket(ShellId::Stdin, "hello") + encodeShellPacket(ShellId::CloseStdin, "")
        + encodeShellPacket(ShellId::WindowSize, "24x80,0x0");
    for (std::size_t step = 1; step <= stream.size(); ++step) {
        ShellPacketParser parser;
        std::vector<ShellPacketParser::Packet> got;
        for (std::size_t i = 0; i < stream.size(); i += step) {
            parser.feed(stream.substr(i, step));
            while (auto p = parser.next())
                got.push_back(*p);
        }
        ASSERT_EQ(got.size(), 3u) << "split every " << step << " bytes";
        EXPECT_EQ(got[0].id, ShellId::Stdin);
        EXPECT_EQ(got[0].data, "hello");
        EXPECT_EQ(got[1].id, ShellId::CloseStdin);
        EXPECT_EQ(got[2].data, "24x80,0x0");
        EXPECT_FALSE(parser.malformed());
    }
    // Exit packet layout as adbd sends it: id 3, length 1, status byte.
    EXPECT_EQ(encodeShellPacket(ShellId::Exit, std::string(1, char(3))), std::string("\x03\x01\x00\x00\x00\x03", 6));
}

TEST(DevsimWire, ShellParserFlagsGarbage)
{
    ShellPacketParser parser;
    parser.feed(std::string("\x09\x01\x00\x00\x00x", 6));
    EXPECT_FALSE(parser.next());
    EXPECT_TRUE(parser.malformed());
}
