// The man pages (packaging/man/*.1) against what the programs print with --help: every option a
// program offers must be documented in its page (in the command's own subsection for mq and
// mq-run), and every option a page lists as an item must still exist.

#include "tests/packaging/man_page.h"
#include "tests/common/run_program.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace {

using mq::test::helpCommands;
using mq::test::helpOptions;
using mq::test::ManPage;
using mq::test::readManPage;
using mq::test::runProgram;

std::string manPath(const std::string &program)
{
    return std::string(MQ_MAN_DIR) + "/" + program + ".1";
}

std::string help(const std::string &program, const std::string &args)
{
    const mq::test::ProgramRun r = runProgram(program + " " + args);
    EXPECT_EQ(r.exitCode, 0) << program << " " << args << ":\n" << r.err;
    EXPECT_FALSE(r.out.empty()) << program << " " << args << " printed nothing on stdout";
    return r.out;
}

// Every option of `help` is mentioned in `part`, and every option `part` lists as an item is one
// of them. `where` names the place in the page for the messages.
void expectAgree(const std::string &help, const ManPage::Part &part, const std::string &what, const std::string &where)
{
    const std::set<std::string> offered = helpOptions(help);
    EXPECT_FALSE(offered.empty()) << what << " --help names no option:\n" << help;
    for (const std::string &o : offered)
        EXPECT_TRUE(part.mentioned.count(o))
            << what << " --help offers " << o << " but " << where << " does not document it: add it there";
    for (const std::string &o : part.listed)
        EXPECT_TRUE(offered.count(o)) << where << " documents " << o << " but " << what
                                      << " --help does not offer it any more: remove or correct it\n"
                                      << help;
}

void expectCommandsAgree(const std::string &program, const std::string &binary)
{
    const ManPage page = readManPage(manPath(program));
    ASSERT_TRUE(page.found) << manPath(program) << " is missing";
    const std::string top = help(binary, "--help");
    ASSERT_TRUE(page.sections.count("GLOBAL OPTIONS")) << manPath(program) << " has no GLOBAL OPTIONS section";
    // The top level's own options (--help, --version) belong in GLOBAL OPTIONS.
    expectAgree(top, page.sections.at("GLOBAL OPTIONS"), program, manPath(program) + " GLOBAL OPTIONS");

    const std::vector<std::string> commands = helpCommands(top);
    ASSERT_GE(commands.size(), 4u) << program << " --help lists no commands:\n" << top;
    for (const std::string &c : commands) {
        const auto it = page.subsections.find(c);
        if (it == page.subsections.end()) {
            ADD_FAILURE() << program << " has the command '" << c << "' but " << manPath(program) << " has no '.SS "
                          << c << "' subsection for it";
            continue;
        }
        expectAgree(help(binary, c + " --help"), it->second, program + " " + c, manPath(program) + " (.SS " + c + ")");
    }
    // And no subsection of COMMANDS describes a command that is gone.
    for (const auto &[name, part] : page.subsections) {
        if (part.text.find(program + " " + name) != std::string::npos) {
            EXPECT_NE(std::find(commands.begin(), commands.end(), name), commands.end())
                << manPath(program) << " describes '" << program << " " << name << "' which " << program
                << " --help does not list";
        }
    }
}

TEST(ManPages, MqAndEveryCommand)
{
    expectCommandsAgree("mq", MQ_BIN_MQ);
}

TEST(ManPages, MqRunAndEveryCommand)
{
    expectCommandsAgree("mq-run", MQ_BIN_MQ_RUN);
}

TEST(ManPages, MqWorkbench)
{
    const ManPage page = readManPage(manPath("mq-workbench"));
    ASSERT_TRUE(page.found) << manPath("mq-workbench") << " is missing";
    // --help must not need a display.
    const std::string text
        = help("env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM " + std::string(MQ_BIN_WORKBENCH), "--help");
    ASSERT_TRUE(page.sections.count("OPTIONS"));
    expectAgree(text, page.sections.at("OPTIONS"), "mq-workbench", manPath("mq-workbench") + " OPTIONS");
}

TEST(ManPages, MqDevsim)
{
    const ManPage page = readManPage(manPath("mq-devsim"));
    ASSERT_TRUE(page.found) << manPath("mq-devsim") << " is missing";
    ASSERT_TRUE(page.sections.count("OPTIONS"));
    expectAgree(
        help(MQ_BIN_DEVSIM, "--help"), page.sections.at("OPTIONS"), "mq-devsim", manPath("mq-devsim") + " OPTIONS");
}

// The check itself must be able to fail: an option missing from a page, or a page listing an
// option the program lacks, is reported.
TEST(ManPages, CheckerSeesMissingAndStaleOptions)
{
    const std::string helpText = "usage: tool run FILE [--json]\n\noptions:\n  --json          print JSON\n"
                                 "  --seq-len N     window (default 512)\n  --manufacturer M, --soc M\n"
                                 "  --help\n\nThe --prose-only option is not an option line.\n";
    EXPECT_EQ(
        helpOptions(helpText), (std::set<std::string> { "--help", "--json", "--manufacturer", "--seq-len", "--soc" }));
    EXPECT_EQ(helpCommands("usage: x\n\ncommands:\n  info   what\n  eval   how\n\n  --version  v\n"),
        (std::vector<std::string> { "info", "eval" }));

    const std::string dir = ::testing::TempDir();
    const std::string path = dir + "/tool.1";
    {
        std::ofstream f(path);
        f << ".TH TOOL 1\n.SH OPTIONS\n.SS run\n.TP\n.B \\-\\-json\nJSON.\n.TP\n.BI \\-\\-stale "
             "N\nGone.\n"
          << "Text that mentions \\fB\\-\\-help\\fR and \\-\\-manufacturer, \\-\\-soc.\n";
    }
    const ManPage page = readManPage(path);
    ASSERT_TRUE(page.found);
    const ManPage::Part &run = page.subsections.at("run");
    EXPECT_EQ(run.listed, (std::set<std::string> { "--json", "--stale" }));
    EXPECT_TRUE(run.mentioned.count("--help"));
    EXPECT_FALSE(run.mentioned.count("--seq-len"));
    // expectAgree reports both problems (non-fatal failures, counted here).
    ::testing::TestPartResultArray failures;
    {
        ::testing::ScopedFakeTestPartResultReporter reporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
        expectAgree(helpText, run, "tool run", "tool.1");
    }
    std::string messages;
    for (int i = 0; i < failures.size(); ++i)
        messages += failures.GetTestPartResult(i).message() + std::string("\n");
    EXPECT_EQ(failures.size(), 2) << messages;
    EXPECT_NE(messages.find("offers --seq-len"), std::string::npos) << messages;
    EXPECT_NE(messages.find("documents --stale"), std::string::npos) << messages;
}

} // namespace
