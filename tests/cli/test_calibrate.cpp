// `mq calibrate` / `mq runs show` end to end: a run file per method, Ctrl-C and SIGKILL
// followed by --resume, and readable errors.
#include "../model/test_support.h"
#include "run_mq.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using mq::test::freshDir;
using mq::test::sharedDir;

namespace {

using Result = mq::test::MqRun;

Result run(const std::string &args) { return mq::test::runMq(args); }

std::string model() { return (sharedDir() / "models" / "stories260K" / "stories260K.bin").string(); }

fs::path calibText(const fs::path &dir)
{
    std::ifstream in(sharedDir() / "data" / "tinystories" / "TinyStories-valid.sample30K.txt");
    std::ofstream out(dir / "calib.txt");
    std::string line;
    for (int i = 0; i < 10 && std::getline(in, line); ++i)
        out << line << "\n";
    return dir / "calib.txt";
}

// Starts `mq ARGS` as a child process (stdout/stderr to files) and returns its pid.
pid_t spawn(const std::vector<std::string> &args, const fs::path &log)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::FILE *f = std::freopen(log.c_str(), "w", stderr);
        (void)f;
        std::FILE *o = std::freopen((log.string() + ".out").c_str(), "w", stdout);
        (void)o;
        std::vector<char *> argv{const_cast<char *>(MQ_CLI)};
        for (const std::string &a : args)
            argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(MQ_CLI, argv.data());
        ::_exit(127);
    }
    return pid;
}

int checkpointStep(const fs::path &runFile)
{
    Result r = run("runs show " + runFile.string() + " --json");
    if (r.exitCode != 0)
        return -1;
    return nlohmann::json::parse(r.out).value("checkpoint_step", -1);
}

std::vector<std::string> longRun(const fs::path &dir)
{
    return {"calibrate", model(), "--method", "mobilequant", "--bits", "w8a8", "--calib", calibText(dir).string(),
            "--samples", "8", "--seqlen", "64", "--epochs", "40", "--checkpoint-every", "5",
            "--snapshot-every", "5", "--out", (dir / "run.h5").string(), "--threads", "1"};
}

} // namespace

TEST(CliCalibrate, EveryMethodWritesARunFileAndEvaluates)
{
    const fs::path dir = freshDir();
    const std::string calib = calibText(dir).string();
    for (const char *method : {"rtn", "smoothquant", "blockwise", "mobilequant"}) {
        const fs::path file = dir / (std::string(method) + ".h5");
        Result r = run("calibrate " + model() + " --method " + method + " --bits w4a8 --calib " + calib +
                       " --samples 4 --seqlen 64 --epochs 2 --out " + file.string() + " --eval " + calib +
                       " --eval-max-tokens 600 --watch layers.1.mlp.down.in --json");
        ASSERT_EQ(r.exitCode, 0) << method << ": " << r.err;
        auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["status"], "finished") << method;
        EXPECT_GT(j["quant_perplexity"].get<double>(), 1.0) << method;
        EXPECT_GT(j["fp_perplexity"].get<double>(), 1.0) << method;
        Result show = run("runs show " + file.string() + " --json");
        ASSERT_EQ(show.exitCode, 0) << show.err;
        auto s = nlohmann::json::parse(show.out);
        EXPECT_EQ(s["config"]["method"], method);
        EXPECT_EQ(s["config"]["bits"], "W4A8");
        EXPECT_EQ(s["config"]["alpha"], 0.5) << "auto alpha of a llama model";
        const int expectedSteps = std::string(method) == "blockwise" ? 5 * 2 * 4 : std::string(method) == "mobilequant" ? 2 * 4 : 0;
        EXPECT_EQ(s["steps"], expectedSteps) << method;
        EXPECT_EQ(s["sites"], 100) << method;
        EXPECT_GE(s["snapshots"].get<int>(), 1) << method;
        EXPECT_NEAR(s["eval"]["perplexity"]["quant_perplexity"].get<double>(), j["quant_perplexity"].get<double>(), 1e-9);
        // The run file alone rebuilds the same quantized model.
        Result again = run("eval --run " + file.string() + " --data " + calib + " --max-tokens 600 --json");
        ASSERT_EQ(again.exitCode, 0) << again.err;
        EXPECT_NEAR(nlohmann::json::parse(again.out)["quant_perplexity"].get<double>(), j["quant_perplexity"].get<double>(),
                    1e-9) << method;
    }
}

TEST(CliCalibrate, SavesAFoldedCheckpointThatLoads)
{
    const fs::path dir = freshDir();
    Result r = run("calibrate " + model() + " --method mobilequant --calib " + calibText(dir).string() +
                   " --samples 2 --seqlen 64 --epochs 1 --out " + (dir / "r.h5").string() + " --save " +
                   (dir / "folded").string());
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(fs::exists(dir / "folded" / "model.safetensors"));
    EXPECT_TRUE(fs::exists(dir / "folded" / "act_ranges.json"));
    EXPECT_TRUE(fs::exists(dir / "folded" / "precision_map.json"));
    Result info = run("info " + (dir / "folded").string() + " --json");
    ASSERT_EQ(info.exitCode, 0) << info.err;
    EXPECT_EQ(nlohmann::json::parse(info.out)["layers"], 5);
}

TEST(CliCalibrate, InterruptedRunResumesFromItsFile)
{
    const fs::path dir = freshDir();
    const pid_t pid = spawn(longRun(dir), dir / "first.log");
    // Wait for a checkpoint past the start, then interrupt (Ctrl-C: cooperative stop).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (checkpointStep(dir / "run.h5") < 10 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3) << "cancelled runs exit with 3";
    const int stoppedAt = checkpointStep(dir / "run.h5");
    EXPECT_GE(stoppedAt, 10);
    EXPECT_LT(stoppedAt, 320);

    Result r = run("calibrate --resume " + (dir / "run.h5").string() + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "finished");
    auto s = nlohmann::json::parse(run("runs show " + (dir / "run.h5").string() + " --json").out);
    EXPECT_EQ(s["checkpoint_step"], 320);
    EXPECT_EQ(s["steps"], 320) << "steps recorded once each, across both processes";
}

TEST(CliCalibrate, KilledRunResumesFromItsFile)
{
    const fs::path dir = freshDir();
    const pid_t pid = spawn(longRun(dir), dir / "first.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (checkpointStep(dir / "run.h5") < 15 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    // The killed file opens with everything up to its last flush.
    auto before = nlohmann::json::parse(run("runs show " + (dir / "run.h5").string() + " --json").out);
    EXPECT_GE(before["checkpoint_step"].get<int>(), 15);
    EXPECT_GE(before["steps"].get<int>(), before["checkpoint_step"].get<int>());

    Result r = run("calibrate --resume " + (dir / "run.h5").string() + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto s = nlohmann::json::parse(run("runs show " + (dir / "run.h5").string() + " --json").out);
    EXPECT_EQ(s["checkpoint_step"], 320);
    EXPECT_EQ(s["steps"], 320);
}

TEST(CliCalibrate, BadInputIsExplained)
{
    const fs::path dir = freshDir();
    Result noCalib = run("calibrate " + model() + " --out " + (dir / "x.h5").string());
    EXPECT_EQ(noCalib.exitCode, 1);
    EXPECT_NE(noCalib.err.find("--calib"), std::string::npos) << noCalib.err;
    Result badMethod = run("calibrate " + model() + " --method gptq --calib x --out " + (dir / "x.h5").string());
    EXPECT_NE(badMethod.err.find("unknown method 'gptq'"), std::string::npos) << badMethod.err;
    Result missing = run("calibrate " + model() + " --calib /nonexistent.txt --out " + (dir / "x.h5").string());
    EXPECT_NE(missing.err.find("/nonexistent.txt"), std::string::npos) << missing.err;
    Result notRun = run("runs show " + calibText(dir).string());
    EXPECT_EQ(notRun.exitCode, 1);
    EXPECT_NE(notRun.err.find("not an HDF5 file"), std::string::npos) << notRun.err;
    const std::string calib = calibText(dir).string();
    ASSERT_EQ(run("calibrate " + model() + " --method rtn --calib " + calib + " --samples 2 --seqlen 32 --out " +
                  (dir / "y.h5").string()).exitCode, 0);
    Result exists = run("calibrate " + model() + " --method rtn --calib " + calib + " --samples 2 --seqlen 32 --out " +
                        (dir / "y.h5").string());
    EXPECT_EQ(exists.exitCode, 1);
    EXPECT_NE(exists.err.find("y.h5"), std::string::npos) << exists.err;
}
