#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mq::test {

// ../shared (models, data, reference). Tests fail, not skip, without it: CI always has it.
inline std::filesystem::path sharedDir()
{
    const char *env = std::getenv("MQ_SHARED_DIR");
    std::filesystem::path p = env ? env : "";
    if (!env || !std::filesystem::exists(p / "models"))
        ADD_FAILURE() << "MQ_SHARED_DIR must point at the shared folder (models/, data/, reference/); got '"
                      << (env ? env : "(unset)") << "'";
    return p;
}

// A fresh empty directory for one test, removed by the OS's tmp cleanup, named after the test.
inline std::filesystem::path freshDir(const std::string &tag = "")
{
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::filesystem::path p = std::filesystem::temp_directory_path() / "mq-tests"
        / (std::string(info->test_suite_name()) + "." + info->name() + tag);
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p;
}

} // namespace mq::test
