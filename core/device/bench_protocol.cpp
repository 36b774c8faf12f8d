#include "core/device/bench_protocol.h"

#include "core/device/deploy.h"
#include "core/device/power.h"
#include "core/runtime/model_package.h"
#include "core/runtime/package.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace mq::device {

namespace fs = std::filesystem;

namespace {

std::string nowIso()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm {};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string trim(const std::string &s)
{
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
        return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool sleepUnlessCancelled(double seconds, const std::atomic<bool> *cancel)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (cancel && cancel->load())
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return !(cancel && cancel->load());
}

std::string jsonStr(const nlohmann::json &j, const char *key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double jsonNum(const nlohmann::json &j, const char *key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : std::numeric_limits<double>::quiet_NaN();
}

} // namespace

VariantResult parseBenchJson(const std::string &text, const PowerNormalization &n)
{
    // mq-run may print diagnostics before the object; the JSON is the outermost {...}.
    const auto b = text.find('{'), e = text.rfind('}');
    if (b == std::string::npos || e == std::string::npos || e < b)
        throw Error("mq-run bench printed no JSON object: " + trim(text).substr(0, 300));
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.substr(b, e - b + 1));
    } catch (const std::exception &ex) {
        throw Error(std::string("mq-run bench printed JSON that does not parse (") + ex.what() + ")");
    }
    VariantResult v;
    v.rawJson = text.substr(b, e - b + 1);
    v.variant = jsonStr(j, "variant");
    v.contentHash = jsonStr(j, "content_hash");
    v.kernels = jsonStr(j, "kernels");
    v.promptTokens = int(j.value("prompt_tokens", 0));
    v.decodeTokens = int(j.value("decode_tokens", 0));
    v.warmup = int(j.value("warmup", 0));
    v.repeats = int(j.value("repeats", 0));
    v.threads = int(j.value("threads", 0));
    v.peakRssBytes = jsonNum(j, "peak_rss_bytes");
    auto power = j.find("power");
    if (power == j.end() || !power->is_object())
        throw Error("mq-run bench returned no \"power\" section: it needs --power-files (is this mq-run too old?)");
    for (const auto &s : power->value("samples", nlohmann::json::array())) {
        const double t = s.value("t", std::numeric_limits<double>::quiet_NaN());
        std::vector<std::string> vals;
        for (const auto &x : s.value("values", nlohmann::json::array()))
            vals.push_back(x.is_string() ? x.get<std::string>() : x.dump());
        const bool clock = vals.size() >= 4; // /proc/uptime, sampled when ODPM readings need aligning
        vals.resize(std::max<size_t>(vals.size(), 3));
        v.trace.seconds.push_back(t);
        v.trace.rawCurrent.push_back(vals[0]);
        v.trace.rawVoltage.push_back(vals[1]);
        v.trace.rawTemperature.push_back(vals[2]);
        if (clock)
            v.trace.rawClock.push_back(vals[3]);
        v.trace.watts.push_back(
            n.source == "none" ? std::numeric_limits<double>::quiet_NaN() : toWatts(n, vals[0], vals[1]));
        v.trace.celsius.push_back(toCelsius(vals[2]));
    }
    for (const auto &m : power->value("marks", nlohmann::json::array()))
        v.marks.push_back({ m.value("t", 0.0), m.value("name", std::string()) });
    return v;
}

namespace {

constexpr const char *kOdpmMarker = "__MQ_ODPM__";
constexpr const char *kOdpmLogMarker = "__MQ_ODPM_LOG__";

double firstNumber(const std::string &line)
{
    const std::string t = trim(line);
    return parseNumber(t.substr(0, t.find(' ')));
}

} // namespace

int packageContext(const std::string &path)
{
    try {
        return int(readModelConfig(Package::open(path)).maxPositions);
    } catch (const std::exception &) {
        return 0; // mq-run will say what is wrong with it
    }
}

std::string odpmReadCommand()
{
    return std::string("echo ") + kOdpmMarker
        + "; cat /proc/uptime; dumpsys android.hardware.power.stats.IPowerStats/default 2>/dev/null"
          " | sed -n '/energy meter/,/End of/p'; cat /proc/uptime";
}

RailReadings parseOdpmReadings(const std::string &text, std::vector<std::string> *railNames)
{
    RailReadings out;
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> records;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (trim(line) == kOdpmMarker)
            records.emplace_back();
        else if (!records.empty())
            records.back().push_back(line);
    }
    for (const auto &rec : records) {
        // uptime, the section, uptime: a reading cut off (the stop came mid-way) lacks the last.
        if (rec.size() < 3)
            continue;
        const double before = firstNumber(rec.front()), after = firstNumber(rec.back());
        if (!std::isfinite(before) || !std::isfinite(after) || after < before)
            continue;
        std::string section;
        for (size_t i = 1; i + 1 < rec.size(); ++i)
            section += rec[i] + "\n";
        const auto rails = parseOdpmEnergy(section);
        if (rails.empty())
            continue;
        if (names.empty())
            for (const auto &r : rails)
                names.push_back(r.first);
        double total = 0;
        bool complete = true;
        for (const auto &n : names) {
            auto it = rails.find(n);
            complete = complete && it != rails.end();
            if (it != rails.end())
                total += it->second;
        }
        const double mid = 0.5 * (before + after);
        if (!complete || (!out.seconds.empty() && mid <= out.seconds.back()))
            continue;
        out.seconds.push_back(mid);
        out.uptimeBefore.push_back(before);
        out.uptimeAfter.push_back(after);
        out.raw.push_back(trim(section));
        out.totalJoules.push_back(total);
    }
    if (railNames) {
        // "NAME:Subsystem" as dumpsys shows them, from the first reading.
        railNames->clear();
        if (!out.raw.empty()) {
            static const std::regex rail(R"(\[([^\]]+)\](:[^\s]*)?)");
            const std::string &first = out.raw.front();
            for (auto it = std::sregex_iterator(first.begin(), first.end(), rail); it != std::sregex_iterator(); ++it)
                railNames->push_back((*it)[1].str() + (*it)[2].str());
        }
    }
    return out;
}

double uptimeOffset(const std::vector<double> &t, const std::vector<std::string> &rawUptime)
{
    // uptime = floor_10ms(t + c + read delay): every sample puts c in [u - t, u - t + 10 ms) (the
    // read delay, microseconds, is neglected); the intersection narrows with more samples.
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    std::vector<double> diffs;
    for (size_t i = 0; i < t.size() && i < rawUptime.size(); ++i) {
        const double u = firstNumber(rawUptime[i]);
        if (!std::isfinite(u) || !std::isfinite(t[i]))
            continue;
        diffs.push_back(u - t[i]);
        lo = std::max(lo, u - t[i]);
        hi = std::min(hi, u - t[i] + 0.01);
    }
    if (diffs.empty())
        return std::numeric_limits<double>::quiet_NaN();
    if (lo <= hi)
        return 0.5 * (lo + hi);
    // Inconsistent (a stalled read): the median, corrected by half a step.
    std::sort(diffs.begin(), diffs.end());
    return diffs[diffs.size() / 2] + 0.005;
}

DeviceBenchmark::DeviceBenchmark(const AdbClient &adb, std::string serial, BenchOptions options, DeviceEvents events)
    : m_adb(adb)
    , m_serial(std::move(serial))
    , m_options(std::move(options))
    , m_events(std::move(events))
{
}

std::string DeviceBenchmark::executableDir()
{
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::current_path().string() : self.parent_path().string();
}

void DeviceBenchmark::stage(const std::string &s) const
{
    if (m_events.stage)
        m_events.stage(s);
}

void DeviceBenchmark::warn(BenchmarkReport &report, const std::string &s) const
{
    report.warnings.push_back(s);
    if (m_events.warning)
        m_events.warning(s);
}

DeviceBenchmark::PowerFiles DeviceBenchmark::findPowerFiles()
{
    // The battery is /sys/class/power_supply/battery on nearly every phone; otherwise the first
    // supply whose type is Battery. The temperature: thermal_zone0 (the SoC on most phones and
    // on the virtual one), else the battery's own temp.
    const std::string script
        = "b=/sys/class/power_supply/battery; if [ ! -r $b/current_now ]; then for s in /sys/class/power_supply/*; do "
          "[ \"$(cat $s/type 2>/dev/null)\" = Battery ] && b=$s && break; done; fi; echo battery=$b; "
          "[ -r $b/current_now ] && echo current=1; [ -r $b/voltage_now ] && echo voltage=1; "
          "[ -r /sys/class/thermal/thermal_zone0/temp ] && echo zone0=1; [ -r $b/temp ] && echo btemp=1; true";
    const std::string out = m_adb.shellChecked(m_serial, script, 30);
    PowerFiles f;
    std::string dir = "/sys/class/power_supply/battery";
    bool zone0 = false, btemp = false, cur = false, volt = false;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.rfind("battery=", 0) == 0) {
            // The virtual phone shows host paths; keep the device path it stands for.
            const std::string p = line.substr(8);
            const auto at = p.find("/sys/class/power_supply/");
            dir = at == std::string::npos ? p : p.substr(at);
        }
        cur |= line == "current=1";
        volt |= line == "voltage=1";
        zone0 |= line == "zone0=1";
        btemp |= line == "btemp=1";
    }
    if (cur)
        f.current = dir + "/current_now";
    if (volt)
        f.voltage = dir + "/voltage_now";
    f.status = dir + "/status";
    f.temperature = zone0 ? "/sys/class/thermal/thermal_zone0/temp" : btemp ? dir + "/temp" : std::string();
    return f;
}

RailReadings DeviceBenchmark::readOdpm(std::vector<std::string> *rails)
{
    if (!m_options.useOdpm)
        return {};
    return parseOdpmReadings(m_adb.shellChecked(m_serial, odpmReadCommand() + "; true", 30), rails);
}

double DeviceBenchmark::readCelsius(const PowerFiles &files)
{
    if (files.temperature.empty())
        return std::numeric_limits<double>::quiet_NaN();
    return toCelsius(m_adb.shellChecked(m_serial, "cat " + shellQuote(files.temperature), 30));
}

void DeviceBenchmark::idleBaseline(BenchmarkReport &report, const PowerFiles &files)
{
    const double period = 0.2;
    const int n = std::max(3, int(std::lround(m_options.idleSeconds / period)));
    stage("idle baseline: " + std::to_string(n) + " battery samples over about "
        + std::to_string(int(std::lround(n * period))) + " s with nothing running");
    auto cat = [](const std::string &f) { return f.empty() ? std::string("echo x") : "cat " + shellQuote(f); };
    const std::string script = "cat " + shellQuote(files.status) + " 2>/dev/null || echo unknown; i=0; while [ $i -lt "
        + std::to_string(n) + " ]; do date +%s.%N; " + cat(files.current) + "; " + cat(files.voltage) + "; "
        + cat(files.temperature) + "; sleep " + std::to_string(period).substr(0, 3) + "; i=$((i+1)); done";
    const std::string out = m_adb.shellChecked(m_serial, script, 60 + n * 2 * period);
    std::vector<std::string> ls;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        ls.push_back(trim(line));
    if (ls.empty())
        throw Error("the idle baseline printed nothing");
    const std::string status = ls[0];
    report.deviceFacts["battery.status"] = status;
    std::vector<std::string> rawT;
    for (size_t i = 1; i + 3 < ls.size(); i += 4) {
        rawT.push_back(ls[i]);
        report.idleTrace.rawCurrent.push_back(ls[i + 1]);
        report.idleTrace.rawVoltage.push_back(ls[i + 2]);
        report.idleTrace.rawTemperature.push_back(ls[i + 3]);
    }
    std::vector<std::string> w;
    report.power = detectNormalization(report.idleTrace.rawCurrent, report.idleTrace.rawVoltage, status, w);
    report.power.currentFile = files.current;
    report.power.voltageFile = files.voltage;
    report.power.temperatureFile = files.temperature;
    for (const auto &s : w)
        warn(report, s);
    // Timestamps: the device clock when `date +%s.%N` works, else the nominal period.
    const double t0 = parseNumber(rawT.empty() ? std::string() : rawT[0]);
    double sum = 0;
    int count = 0;
    for (size_t i = 0; i < rawT.size(); ++i) {
        const double t = parseNumber(rawT[i]);
        report.idleTrace.seconds.push_back(std::isfinite(t) && std::isfinite(t0) ? t - t0 : double(i) * period);
        const double p = report.power.source == "none"
            ? std::numeric_limits<double>::quiet_NaN()
            : toWatts(report.power, report.idleTrace.rawCurrent[i], report.idleTrace.rawVoltage[i]);
        report.idleTrace.watts.push_back(p);
        report.idleTrace.celsius.push_back(toCelsius(report.idleTrace.rawTemperature[i]));
        if (std::isfinite(p)) {
            sum += p;
            ++count;
        }
    }
    // The mean of evenly spaced samples, not the integral over a possibly uneven device clock.
    report.idleWatts = count ? sum / count : 0;
}

double DeviceBenchmark::cooldown(double target, const PowerFiles &files, const std::atomic<bool> *cancel)
{
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    while (true) {
        const double c = readCelsius(files);
        if (!std::isfinite(c) || !std::isfinite(target) || c <= target)
            return elapsed();
        if (elapsed() >= m_options.cooldownTimeoutSeconds)
            return -elapsed();
        char s[96];
        std::snprintf(s, sizeof s, "cooling down: %.1f °C, waiting for %.1f °C", c, target);
        stage(s);
        if (!sleepUnlessCancelled(m_options.cooldownPollSeconds, cancel))
            return elapsed();
    }
}

VariantResult DeviceBenchmark::runVariant(const DeployedFile &runner, const DeployedFile &package,
    const PowerFiles &files, BenchmarkReport &report, const std::atomic<bool> *cancel)
{
    const std::string dir = fs::path(package.remote).parent_path().string();
    const std::string pidFile = dir + "/bench.pid";
    const bool odpm = report.power.source == "odpm";
    std::string powerFiles = (files.current.empty() ? std::string("/dev/null") : files.current) + ","
        + (files.voltage.empty() ? std::string("/dev/null") : files.voltage) + ","
        + (files.temperature.empty() ? std::string("/dev/null") : files.temperature);
    if (odpm)
        powerFiles += ",/proc/uptime"; // puts the rail readings on the sampler's clock
    const std::vector<std::string> argv { runner.remote, "bench", package.remote, "--prompt-tokens",
        std::to_string(m_options.promptTokens), "--decode-tokens", std::to_string(m_options.decodeTokens), "--warmup",
        std::to_string(m_options.warmup), "--repeats", std::to_string(m_options.repeats), "--threads",
        std::to_string(m_options.threads), "--json", "--power-files", powerFiles, "--power-hz",
        std::to_string(m_options.powerHz) };
    // The inner shell writes its pid and then becomes mq-run (exec), so the pid file names the
    // process that cancel must kill.
    const std::string inner = "echo $$ > " + shellQuote(pidFile) + "; exec " + shellJoin(argv);
    std::string command = "cd " + shellQuote(dir) + " && sh -c " + shellQuote(inner);
    if (odpm) {
        // The rails are read before mq-run starts, every 1/odpmHz s by a background loop while it
        // runs (stopped by a file, or when this shell is gone), and once after; the log follows
        // mq-run's JSON on stdout. `(exit $rc)` leaves mq-run's status in $? for the exit marker.
        char period[32];
        std::snprintf(period, sizeof period, "%.3f", 1.0 / std::max(0.1, m_options.odpmHz));
        const std::string read = "{ " + odpmReadCommand() + "; }";
        command = "cd " + shellQuote(dir) + " && { rm -f odpm.stop; " + read + " > odpm.log 2>&1; p=$$; "
            + "( while [ ! -e odpm.stop ] && kill -0 $p 2>/dev/null; do sleep " + period + "; " + read
            + "; done ) >> odpm.log 2>&1 & s=$!; sh -c " + shellQuote(inner) + "; rc=$?; touch odpm.stop; wait $s; "
            + read + " >> odpm.log 2>&1; echo " + kOdpmLogMarker + "; cat odpm.log; (exit $rc); }";
    }
    ProcessOptions o;
    o.cancel = cancel;
    o.timeoutSeconds = m_options.variantTimeoutSeconds;
    ProcessResult r = m_adb.shell(m_serial, command, o);
    if (r.cancelled || r.timedOut) {
        // Closing adb's stream makes adbd hang up the child; kill it by pid as well, since some
        // vendors' adbd leave it running.
        try {
            m_adb.shell(m_serial,
                "kill -9 $(cat " + shellQuote(pidFile) + ") 2>/dev/null; touch " + shellQuote(dir + "/odpm.stop")
                    + " 2>/dev/null; true",
                withTimeout(15));
        } catch (const std::exception &) {
        }
        if (r.cancelled)
            throw Error("cancelled");
        throw Error("mq-run bench of " + package.local + " did not finish within "
            + std::to_string(int(m_options.variantTimeoutSeconds)) + " s and was killed");
    }
    if (r.exitCode != 0)
        throw Error("mq-run bench of " + fs::path(package.local).filename().string() + " failed on the device (exit "
            + std::to_string(r.exitCode) + "): " + trim(r.err.empty() ? r.out : r.err).substr(0, 600));
    std::string log;
    if (const auto at = r.out.find(kOdpmLogMarker); at != std::string::npos) {
        log = r.out.substr(at);
        r.out.erase(at);
    }
    VariantResult v = parseBenchJson(r.out, report.power);
    v.packagePath = package.local;
    v.remoteDir = dir;
    v.name = fs::path(package.local).stem().string();
    if (v.contentHash.empty())
        v.contentHash = package.sha256;
    v.powerSource = report.power.source == "none" ? "none" : "battery-sysfs";
    if (odpm)
        attachRails(v, log, report);
    computeVariantStatistics(v, report.idleWatts);
    const auto j = nlohmann::json::parse(v.rawJson, nullptr, false);
    if (j.is_object() && j.contains("power") && j["power"].value("read_errors", 0) > 0)
        warn(report,
            v.name + ": " + std::to_string(j["power"].value("read_errors", 0))
                + " battery or temperature reads failed on the phone; those samples are left out of the energy");
    if (v.trace.seconds.size() < 4)
        warn(report,
            v.name + ": only " + std::to_string(v.trace.seconds.size())
                + " power samples during the measurement; raise --repeats, --decode-tokens or --power-hz for an "
                  "energy figure that means something");
    return v;
}

void DeviceBenchmark::attachRails(VariantResult &v, const std::string &log, BenchmarkReport &report) const
{
    v.rails = parseOdpmReadings(log);
    const double offset = uptimeOffset(v.trace.seconds, v.trace.rawClock);
    if (v.rails.seconds.size() < 2 || !std::isfinite(offset)) {
        warn(report,
            v.name + ": " + std::to_string(v.rails.seconds.size()) + " ODPM readings"
                + (std::isfinite(offset) ? std::string() : " and no device clock samples")
                + " came back; its energy is from the battery readings instead");
        return;
    }
    v.rails.clockOffset = offset;
    for (double &t : v.rails.seconds)
        t -= offset;
    v.powerSource = "odpm";
}

BenchmarkReport DeviceBenchmark::run(const std::vector<std::string> &packages, const std::atomic<bool> *cancel)
{
    if (packages.empty())
        throw Error("no packages to benchmark: give at least one .mqpkg (the first is the baseline)");
    for (const auto &p : packages)
        if (!fs::is_regular_file(p))
            failFile(p, "no such package file; export one with `mq export RUN.h5 --out FILE.mqpkg`");
    stage("checking device " + m_serial);
    m_adb.requireReady(m_serial);
    BenchmarkReport report;
    report.serial = m_serial;
    report.created = nowIso();
    report.deviceFacts = m_adb.deviceFacts(m_serial);
    report.simulated = report.deviceFacts.count("simulated") > 0;
    report.promptTokens = m_options.promptTokens;
    report.decodeTokens = m_options.decodeTokens;
    report.warmup = m_options.warmup;
    report.repeats = m_options.repeats;
    report.powerHz = m_options.powerHz;
    report.cooldownCelsius = m_options.cooldownCelsius;
    const std::string abi = report.deviceFacts["abi"];
    const std::string runner = findRunner(abi, m_options.runnerPath, executableDir());
    stage("deploying to " + m_serial);
    const DeployResult deployed = deploy(m_adb, m_serial, runner, packages, m_options, m_events, cancel);
    stage("deployed: " + std::to_string(deployed.filesUploaded) + " uploaded (" + std::to_string(deployed.bytesUploaded)
        + " bytes), " + std::to_string(deployed.filesSkipped) + " already there");
    try {
        const PowerFiles files = findPowerFiles();
        // ODPM rails where the phone has them (Pixel 6+): energy from their counters, read around
        // the idle baseline here and during each variant; the battery is sampled all the same.
        const RailReadings idleBefore = readOdpm();
        idleBaseline(report, files);
        if (!idleBefore.seconds.empty()) {
            std::vector<std::string> rails;
            const RailReadings after = readOdpm(&rails);
            if (!after.seconds.empty() && after.seconds.front() > idleBefore.seconds.front()) {
                RailReadings idle = idleBefore;
                idle.seconds.push_back(after.seconds.front());
                idle.uptimeBefore.push_back(after.uptimeBefore.front());
                idle.uptimeAfter.push_back(after.uptimeAfter.front());
                idle.raw.push_back(after.raw.front());
                idle.totalJoules.push_back(after.totalJoules.front());
                const double span = idle.seconds[1] - idle.seconds[0];
                report.idleRails = idle;
                report.power.source = "odpm";
                report.power.odpmRails = rails;
                report.power.rule += "; energy from " + std::to_string(rails.size())
                    + " ODPM rails (cumulative counters, interpolated at the phase marks); the battery is sampled "
                      "for comparison";
                report.idleWatts = (idle.totalJoules[1] - idle.totalJoules[0]) / span;
                stage("ODPM power rails found: " + std::to_string(rails.size()) + " rails; idle "
                    + std::to_string(report.idleWatts).substr(0, 5) + " W");
            }
        }
        if (report.power.charging)
            report.deviceFacts["charging"] = "yes";
        const double startCelsius = readCelsius(files);
        report.deviceFacts["start_celsius"] = std::to_string(startCelsius);
        for (size_t i = 0; i < deployed.packages.size(); ++i) {
            if (cancel && cancel->load())
                throw Error("cancelled");
            double cooled = 0;
            if (i > 0) {
                cooled = cooldown(startCelsius + m_options.cooldownCelsius, files, cancel);
                if (cooled < 0) {
                    warn(report,
                        "cooldown before " + fs::path(packages[i]).filename().string() + " timed out after "
                            + std::to_string(int(-cooled))
                            + " s; the phone was still warmer than at the start, "
                              "so this variant may run throttled");
                    cooled = -cooled;
                }
            }
            if (cancel && cancel->load())
                throw Error("cancelled");
            const double before = readCelsius(files);
            stage("benchmarking " + fs::path(packages[i]).filename().string() + " (" + std::to_string(i + 1) + "/"
                + std::to_string(packages.size()) + ")");
            try {
                VariantResult v = runVariant(deployed.runner, deployed.packages[i], files, report, cancel);
                v.startCelsius = before;
                v.cooldownSeconds = cooled;
                report.variants.push_back(std::move(v));
            } catch (const DeviceLostError &) {
                throw;
            } catch (const Error &e) {
                if (std::string(e.what()) == "cancelled")
                    throw;
                warn(report, e.what());
            }
        }
        if (report.variants.empty() && report.error.empty())
            report.error = "no variant finished";
    } catch (const DeviceLostError &e) {
        report.error = std::string(e.what()) + "; the " + std::to_string(report.variants.size())
            + " variant(s) finished before are kept";
    } catch (const std::exception &e) {
        report.error = std::string(e.what()) == "cancelled"
            ? "cancelled by the user; the " + std::to_string(report.variants.size()) + " finished variant(s) are kept"
            : std::string(e.what());
    }
    if (!report.error.empty() && m_events.warning)
        m_events.warning(report.error);
    return report;
}

} // namespace mq::device
