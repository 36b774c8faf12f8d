#pragma once

// Helpers for the safetensors tests: a scratch directory per test and raw file bytes built by
// hand, so the reader is checked against files our writer did not produce.

#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <unistd.h>

namespace mq::test {

// A fresh directory named after the running test (ctest runs tests in parallel processes, hence
// the pid), removed with everything in it at the end of the test.
class ScratchDir
{
public:
    ScratchDir()
    {
        const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_path = std::filesystem::temp_directory_path() /
                 ("mq_safetensors_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                  std::to_string(::getpid()));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~ScratchDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir &operator=(const ScratchDir &) = delete;

    std::string file(const std::string &name) const { return (m_path / name).string(); }
    std::string path() const { return m_path.string(); }

private:
    std::filesystem::path m_path;
};

using Bytes = std::vector<uint8_t>;

inline void appendLE(Bytes &out, uint64_t value, int byteCount)
{
    for (int i = 0; i < byteCount; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

inline void appendText(Bytes &out, const std::string &text)
{
    out.insert(out.end(), text.begin(), text.end());
}

inline void writeBytes(const std::string &path, const Bytes &bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

// The file layout of the spec: u64 little-endian header size, the header, the data section.
inline void writeSafetensorsBytes(const std::string &path, const std::string &header, const Bytes &data)
{
    Bytes bytes;
    appendLE(bytes, header.size(), 8);
    appendText(bytes, header);
    bytes.insert(bytes.end(), data.begin(), data.end());
    writeBytes(path, bytes);
}

inline Bytes readBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `f`, which must throw mq::Error, and returns the message ("" plus a failure otherwise).
template <class F>
std::string errorMessage(F &&f)
{
    try {
        f();
    } catch (const mq::Error &e) {
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "threw something other than mq::Error: " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected mq::Error, nothing was thrown";
    return {};
}

inline void expectMentions(const std::string &message, std::initializer_list<std::string> parts)
{
    for (const auto &part : parts)
        EXPECT_NE(message.find(part), std::string::npos) << "message lacks \"" << part << "\": " << message;
}

} // namespace mq::test
