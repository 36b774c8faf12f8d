// --version of every installed program: the project version and the versions of the libraries
// it runs with, printed without a display.

#include "tests/common/run_program.h"

#include <QtGlobal>

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace {

using mq::test::runProgram;

// No display and no Qt platform: --version must not need either.
const std::string kNoDisplay = "env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM ";

bool names(const std::string &text, const std::string &library)
{
    return std::regex_search(text, std::regex(library + R"( [0-9]+\.[0-9]+)"));
}

TEST(Versions, Mq)
{
    const auto r = runProgram(kNoDisplay + MQ_BIN_MQ + " --version");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find(std::string("mq ") + MQ_PROJECT_VERSION), std::string::npos) << r.out;
    // Qt is the library loaded at run time, so it must equal what this test loads.
    EXPECT_NE(r.out.find(std::string("Qt ") + qVersion()), std::string::npos) << r.out;
    EXPECT_TRUE(names(r.out, "LibTorch")) << r.out;
    EXPECT_TRUE(names(r.out, "HDF5")) << r.out;
    EXPECT_EQ(runProgram(kNoDisplay + MQ_BIN_MQ + " -V").out, r.out);
}

TEST(Versions, MqWorkbench)
{
    for (const char *flag : { "--version", "-v" }) {
        const auto r = runProgram(kNoDisplay + MQ_BIN_WORKBENCH + " " + flag);
        ASSERT_EQ(r.exitCode, 0) << flag << ": " << r.err;
        EXPECT_NE(r.out.find(std::string("mq-workbench ") + MQ_PROJECT_VERSION), std::string::npos) << r.out;
        EXPECT_NE(r.out.find(std::string("Qt ") + qVersion()), std::string::npos) << r.out;
        EXPECT_TRUE(names(r.out, "LibTorch")) << r.out;
        EXPECT_TRUE(names(r.out, "HDF5")) << r.out;
    }
}

TEST(Versions, MqRunSaysItIsRuntimeOnly)
{
    const auto r = runProgram(kNoDisplay + MQ_BIN_MQ_RUN + " --version");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find(std::string("mq-run ") + MQ_PROJECT_VERSION), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no Qt/LibTorch/HDF5 (runtime only)"), std::string::npos) << r.out;
    // ... and that is true: the dynamic section names none of them.
    const auto needed = runProgram(std::string("readelf -d ") + MQ_BIN_MQ_RUN + " | grep NEEDED");
    ASSERT_EQ(needed.exitCode, 0) << needed.err;
    for (const char *lib : { "libQt", "libtorch", "libc10", "libhdf5" })
        EXPECT_EQ(needed.out.find(lib), std::string::npos) << "mq-run links " << lib << ":\n" << needed.out;
}

TEST(Versions, MqDevsim)
{
    const auto r = runProgram(kNoDisplay + MQ_BIN_DEVSIM + " --version");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find(MQ_PROJECT_VERSION), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("mq-devsim"), std::string::npos) << r.out;
}

} // namespace
