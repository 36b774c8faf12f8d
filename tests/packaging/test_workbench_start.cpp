// mq-workbench started as the desktop file and the packaging test start it: files given
// positionally (the desktop file's %F), --quit-after, offscreen. A scratch HOME keeps the
// developer's settings out of it.

#include "tests/common/temp_dir.h"
#include "tests/common/run_program.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;
using mq::test::ProgramRun;
using mq::test::runProgram;
using mq::test::shellQuote;

std::string sharedDir()
{
    const char *d = std::getenv("MQ_SHARED_DIR");
    return d != nullptr ? d : "";
}

std::string stories260K()
{
    return sharedDir() + "/models/stories260K/stories260K.bin";
}

// A real run file: an RTN calibration of stories260K (about a second).
std::string makeRun(const mq::test::TempDir &dir, const std::string &name)
{
    const std::string calib = dir.file("calib.txt");
    if (!fs::exists(calib)) {
        std::ifstream in(sharedDir() + "/data/tinystories/TinyStories-valid.sample30K.txt");
        std::string text(4000, '\0');
        in.read(text.data(), std::streamsize(text.size()));
        text.resize(size_t(in.gcount()));
        std::ofstream(calib) << text;
    }
    std::string run = dir.file(name);
    const ProgramRun r = runProgram(std::string(MQ_BIN_MQ) + " calibrate " + shellQuote(stories260K())
        + " --method rtn --bits W8A8 --samples 2 --seqlen 32 --calib " + shellQuote(calib) + " --out "
        + shellQuote(run));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return run;
}

ProgramRun workbench(const mq::test::TempDir &dir, const std::string &args)
{
    const std::string home = dir.file("home");
    fs::create_directories(home);
    return runProgram("env HOME=" + shellQuote(home) + " XDG_CONFIG_HOME=" + shellQuote(home + "/.config")
        + " XDG_DATA_HOME=" + shellQuote(home + "/.local/share") + " QT_QPA_PLATFORM=offscreen timeout 120 "
        + MQ_BIN_WORKBENCH + " " + args);
}

class WorkbenchStart : public ::testing::Test
{
protected:
    void SetUp() override { ASSERT_TRUE(fs::exists(stories260K())) << "MQ_SHARED_DIR must hold models/stories260K"; }
    mq::test::TempDir dir;
};

TEST_F(WorkbenchStart, OpensRunFilesFolderAndModelGivenPositionally)
{
    const std::string run = makeRun(dir, "rtn.h5");
    // The MIME type's other names for a run file.
    fs::copy_file(run, dir.file("copy.mqrun"));
    fs::create_directories(dir.file("runs"));
    fs::copy_file(run, dir.file("runs/a.h5"));
    const ProgramRun r = workbench(dir,
        shellQuote(run) + " " + shellQuote(dir.file("copy.mqrun")) + " " + shellQuote(dir.file("runs")) + " "
            + shellQuote(stories260K()) + " --quit-after 1");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err.find("mq-workbench:"), std::string::npos) << r.err;
    // --quit-after lists what was opened, by kind.
    EXPECT_NE(r.out.find("opened run " + run + "\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("opened run " + dir.file("copy.mqrun") + "\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("opened run folder " + dir.file("runs") + " (1 run files)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("opened model " + stories260K() + "\n"), std::string::npos) << r.out;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(WorkbenchStart, WelcomePageGreetsAPlainFirstStartOnly)
{
    // Opened on a file (as from a file manager): straight to the file, no welcome page.
    const std::string run = makeRun(dir, "rtn.h5");
    ProgramRun r = workbench(dir, shellQuote(run) + " --quit-after 0.5");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string settings = dir.file("home/.config/mq-workbench/mq-workbench.conf");
    EXPECT_EQ(readFile(settings).find("[welcome]"), std::string::npos) << readFile(settings);

    // A plain first start shows it (and records that it did: "welcome/shown").
    r = workbench(dir, "--quit-after 0.5");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string text = readFile(settings);
    EXPECT_NE(text.find("[welcome]"), std::string::npos) << text;
    EXPECT_NE(text.find("shown=true"), std::string::npos) << text;
}

TEST_F(WorkbenchStart, PackageOpensInThePackageView)
{
    // What a double-click on a .mqpkg does (the MIME type's handler is mq-workbench %F).
    const std::string run = makeRun(dir, "rtn.h5");
    const std::string pkg = dir.file("rtn-w8a8.mqpkg");
    const ProgramRun e = runProgram(
        std::string(MQ_BIN_MQ) + " export " + shellQuote(run) + " --out " + shellQuote(pkg) + " --variant w8a8");
    ASSERT_EQ(e.exitCode, 0) << e.err;
    const ProgramRun r = workbench(dir, shellQuote(pkg) + " --quit-after 0.5");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("opened package " + pkg + "\n"), std::string::npos) << r.out << r.err;
}

TEST_F(WorkbenchStart, HuggingFaceFolderOpensAsTheModel)
{
    // mq convert writes config.json + safetensors: a folder that is a checkpoint, not a run folder.
    const std::string hf = dir.file("hf");
    const ProgramRun c
        = runProgram(std::string(MQ_BIN_MQ) + " convert " + shellQuote(stories260K()) + " --out " + shellQuote(hf));
    ASSERT_EQ(c.exitCode, 0) << c.err;
    const ProgramRun r = workbench(dir, shellQuote(hf) + " --quit-after 0.5");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("opened model " + hf + "\n"), std::string::npos) << r.out << r.err;
}

TEST_F(WorkbenchStart, FailsWithAMessageForFilesItCannotOpen)
{
    // A missing file.
    ProgramRun r = workbench(dir, shellQuote(dir.file("nothing-here.h5")) + " --quit-after 0.2");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("nothing-here.h5: no such file or folder"), std::string::npos) << r.err;

    // Not a run file although named like one.
    std::ofstream(dir.file("notes.h5")) << "not HDF5\n";
    r = workbench(dir, shellQuote(dir.file("notes.h5")) + " --quit-after 0.2");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("notes.h5"), std::string::npos) << r.err;

    // A truncated package: the reader's reason, naming the file.
    std::ofstream(dir.file("w8a8.mqpkg"), std::ios::binary) << std::string("MQPKG\0\0\0", 8);
    r = workbench(dir, shellQuote(dir.file("w8a8.mqpkg")) + " --quit-after 0.2");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("w8a8.mqpkg cannot be shown"), std::string::npos) << r.err;

    // A folder without run files.
    fs::create_directories(dir.file("empty"));
    r = workbench(dir, shellQuote(dir.file("empty")) + " --quit-after 0.2");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
}

TEST_F(WorkbenchStart, RejectsABadQuitAfter)
{
    for (const char *bad : { "soon", "-1" }) {
        const ProgramRun r = workbench(dir, std::string("--quit-after ") + bad);
        EXPECT_EQ(r.exitCode, 1) << bad;
        EXPECT_NE(r.err.find("--quit-after expects a number of seconds"), std::string::npos) << r.err;
    }
}

} // namespace
