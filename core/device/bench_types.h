#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

// Plain values shared by the device back-end interface (device_backend.h, header-only), the deploy
// step and the benchmark protocol. No Qt, no LibTorch.

namespace mq::device {

struct BenchOptions
{
    int promptTokens = 128;
    int decodeTokens = 32;
    int warmup = 1;
    int repeats = 5;
    int threads = 1;
    double powerHz = 10; // sampling rate of the on-device sampler (mq-run --power-hz)
    // ODPM rails (docs/device-benchmarking.md "ODPM rails"): read every 1/odpmHz s during a run when
    // the phone has them (each read is a dumpsys, so slower than the battery files); false: battery only.
    bool useOdpm = true;
    double odpmHz = 4;
    double idleSeconds = 3; // idle baseline before the first variant
    double cooldownCelsius = 1.0; // wait until the temperature is within this of the start
    double cooldownTimeoutSeconds = 120;
    double cooldownPollSeconds = 2;
    double variantTimeoutSeconds = 1800; // one mq-run bench may not take longer
    std::string runnerPath; // host mq-run built for the device's ABI; empty: search
    std::string remoteRoot = "/data/local/tmp/mq";
};

// Progress reports, called on the thread that runs the work. Any of them may be empty.
struct DeviceEvents
{
    std::function<void(const std::string &message)> stage; // "deploying", "idle baseline", ...
    std::function<void(const std::string &file, int percent, std::uint64_t bytes)> push; // per file
    std::function<void(const std::string &message)> warning; // charging, unit guessed, timeouts
};

struct DeployedFile
{
    std::string local;
    std::string remote;
    std::string sha256;
    std::uint64_t bytes = 0;
    bool uploaded = false; // false: already on the device with the same size and hash
};

struct DeployResult
{
    DeployedFile runner;
    std::vector<DeployedFile> packages;
    std::uint64_t bytesUploaded = 0;
    int filesUploaded = 0;
    int filesSkipped = 0;
};

} // namespace mq::device
