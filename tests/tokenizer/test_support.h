#pragma once

#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <unistd.h>

namespace mq::test {

inline std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A fresh directory per test (ctest runs tests as parallel processes), removed afterwards.
class TempDirTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_tempDir = std::filesystem::temp_directory_path() /
                    ("mq_tokenizer_" + std::to_string(::getpid()) + "_" +
                     info->test_suite_name() + "_" + info->name());
        std::filesystem::remove_all(m_tempDir);
        std::filesystem::create_directories(m_tempDir);
    }

    void TearDown() override
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_tempDir, ignored);
    }

    std::string writeFile(const std::string &name, const std::string &bytes) const
    {
        const std::string path = (m_tempDir / name).string();
        std::ofstream out(path, std::ios::binary);
        out << bytes;
        return path;
    }

    std::filesystem::path m_tempDir;
};

// Tests that read the real models and data under MQ_SHARED_DIR; without it they fail, not skip.
class SharedDataTest : public TempDirTest
{
protected:
    void SetUp() override
    {
        TempDirTest::SetUp();
        const char *dir = std::getenv("MQ_SHARED_DIR");
        ASSERT_TRUE(dir != nullptr && *dir != '\0')
            << "MQ_SHARED_DIR is not set: run the tests through ctest, or export "
               "MQ_SHARED_DIR=/path/to/shared (the folder with models/, data/, reference/)";
        m_shared = dir;
        ASSERT_TRUE(std::filesystem::is_directory(m_shared / "models"))
            << "MQ_SHARED_DIR=" << dir << " has no models/ folder";
    }

    std::string shared(const std::string &relative) const
    {
        const std::string path = (m_shared / relative).string();
        EXPECT_TRUE(std::filesystem::exists(path)) << "missing shared file " << path;
        return path;
    }

    std::filesystem::path m_shared;
};

// The message of the mq::Error that `action` throws ("" and a test failure when it throws none or
// something else).
inline std::string errorMessage(const std::function<void()> &action)
{
    try {
        action();
    } catch (const mq::Error &e) {
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected mq::Error, got another exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected mq::Error, nothing was thrown";
    return {};
}

} // namespace mq::test
