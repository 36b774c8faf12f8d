#pragma once

#include <string>
#include <vector>

namespace mq::cli {

// Each command takes the arguments after its name, prints results on stdout (JSON with --json),
// progress and diagnostics on stderr, and returns the process exit code. Errors are thrown as
// mq::Error and reported by main().
int runInfo(const std::vector<std::string> &args);
int runGenerate(const std::vector<std::string> &args);
int runLogits(const std::vector<std::string> &args);
int runEval(const std::vector<std::string> &args);
int runConvert(const std::vector<std::string> &args);
int runCalibrate(const std::vector<std::string> &args);
int runRuns(const std::vector<std::string> &args);
int runSynth(const std::vector<std::string> &args);
int runExport(const std::vector<std::string> &args);
int runDevices(const std::vector<std::string> &args);
int runBench(const std::vector<std::string> &args);

// Sets LibTorch's intra-op threads (the Debian build starts with one): `threads` 0 = all cores.
void configureThreads(int threads);

} // namespace mq::cli
