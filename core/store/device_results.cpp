#include "core/store/device_results.h"

#include "core/store/h5.h"
#include "core/store/run_schema.h"
#include "core/store/run_writer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace mq {

using device::BenchmarkReport;
using device::Estimate;
using device::PowerTrace;
using device::VariantResult;
using h5::Hid;

namespace {

Hid fileAccess()
{
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST); // as RunWriter: the 1.10 format
    return fapl;
}

void writeDoubles(hid_t loc, const std::string &name, const std::vector<double> &v, const std::string &units,
    const std::string &description, const std::string &path)
{
    const hsize_t n = v.size();
    Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Hid ds = h5::check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Dclose, path, "cannot create " + name);
    if (n && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        h5::fail(path, "cannot write " + name);
    h5::writeStringAttribute(ds, "units", units, path);
    h5::writeStringAttribute(ds, "description", description, path);
}

void writeStrings(hid_t loc, const std::string &name, const std::vector<std::string> &v, const std::string &description,
    const std::string &path)
{
    const hsize_t n = v.size();
    Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Hid type = h5::stringType();
    Hid ds = h5::check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
        path, "cannot create " + name);
    std::vector<const char *> ptrs;
    for (const auto &s : v)
        ptrs.push_back(s.c_str());
    if (n && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
        h5::fail(path, "cannot write " + name);
    h5::writeStringAttribute(ds, "units", "raw text", path);
    h5::writeStringAttribute(ds, "description", description, path);
}

std::vector<double> readDoubles(hid_t loc, const std::string &name, const std::string &path)
{
    if (!h5::exists(loc, name))
        return {};
    Hid ds = h5::openDataset(loc, name, path);
    const auto d = h5::dims(ds, path);
    std::vector<double> v(d.empty() ? 0 : d[0]);
    if (!v.empty() && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        h5::fail(path, "cannot read " + name);
    return v;
}

std::vector<std::string> readStrings(hid_t loc, const std::string &name, const std::string &path)
{
    if (!h5::exists(loc, name))
        return {};
    Hid ds = h5::openDataset(loc, name, path);
    const auto d = h5::dims(ds, path);
    std::vector<char *> ptrs(d.empty() ? 0 : d[0], nullptr);
    Hid type = h5::stringType();
    if (!ptrs.empty() && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
        h5::fail(path, "cannot read " + name);
    std::vector<std::string> out;
    for (char *p : ptrs)
        out.emplace_back(p ? p : "");
    if (!ptrs.empty()) {
        Hid space(H5Dget_space(ds), H5Sclose);
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
    }
    return out;
}

double readDoubleAttribute(hid_t loc, const std::string &name)
{
    if (!h5::attributeExists(loc, name))
        return std::numeric_limits<double>::quiet_NaN();
    Hid a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose);
    double v = std::numeric_limits<double>::quiet_NaN();
    if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
        h5::takeErrorMessage();
    return v;
}

std::string readStringOr(hid_t loc, const std::string &name, const std::string &path)
{
    return h5::attributeExists(loc, name) ? h5::readStringAttribute(loc, name, path) : std::string();
}

void writeTrace(hid_t group, const PowerTrace &t, const std::string &path)
{
    writeDoubles(group, "seconds", t.seconds, "s", "sample time since the on-device sampler started", path);
    writeDoubles(group, "watts", t.watts, "W",
        "power drawn by the phone: raw current x current scale x discharge sign x raw voltage x voltage scale", path);
    writeDoubles(group, "celsius", t.celsius, "degC", "temperature zone sampled with the battery", path);
    writeStrings(group, "raw_current", t.rawCurrent, "current_now exactly as read", path);
    writeStrings(group, "raw_voltage", t.rawVoltage, "voltage_now exactly as read", path);
    writeStrings(group, "raw_temperature", t.rawTemperature, "temperature file exactly as read", path);
    if (!t.rawClock.empty())
        writeStrings(group, "raw_clock", t.rawClock,
            "/proc/uptime exactly as read with the battery (aligns the ODPM readings with this clock)", path);
}

// ODPM rail readings: the energy meter text verbatim per reading, with its device uptimes; the
// per-rail values are in that text (parseOdpmEnergy reads them).
void writeRails(hid_t parent, const char *name, const device::RailReadings &r, const std::string &path)
{
    if (r.seconds.empty())
        return;
    Hid g = h5::createGroup(parent, name, path);
    writeDoubles(g, "seconds", r.seconds, "s",
        "reading time on the sampler's clock: midpoint of the two uptimes minus clock_offset", path);
    writeDoubles(g, "uptime_before", r.uptimeBefore, "s", "device /proc/uptime before dumpsys", path);
    writeDoubles(g, "uptime_after", r.uptimeAfter, "s", "device /proc/uptime after dumpsys", path);
    writeDoubles(g, "total_joules", r.totalJoules, "J", "sum of the rails' cumulative energy (1 mWs = 1 mJ)", path);
    writeStrings(g, "raw", r.raw,
        "energy meter section of dumpsys android.hardware.power.stats.IPowerStats/default, verbatim", path);
    h5::writeDoubleAttribute(g, "clock_offset", r.clockOffset, path);
}

device::RailReadings readRails(hid_t parent, const char *name, const std::string &path)
{
    device::RailReadings r;
    if (!h5::exists(parent, name))
        return r;
    Hid g = h5::openGroup(parent, name, path);
    r.seconds = readDoubles(g, "seconds", path);
    r.uptimeBefore = readDoubles(g, "uptime_before", path);
    r.uptimeAfter = readDoubles(g, "uptime_after", path);
    r.totalJoules = readDoubles(g, "total_joules", path);
    r.raw = readStrings(g, "raw", path);
    r.clockOffset = readDoubleAttribute(g, "clock_offset");
    return r;
}

PowerTrace readTrace(hid_t group, const std::string &path)
{
    PowerTrace t;
    t.seconds = readDoubles(group, "seconds", path);
    t.watts = readDoubles(group, "watts", path);
    t.celsius = readDoubles(group, "celsius", path);
    t.rawCurrent = readStrings(group, "raw_current", path);
    t.rawVoltage = readStrings(group, "raw_voltage", path);
    t.rawTemperature = readStrings(group, "raw_temperature", path);
    t.rawClock = readStrings(group, "raw_clock", path);
    return t;
}

struct EstimateSpec
{
    const char *name;
    Estimate VariantResult::*member;
    const char *units;
    const char *description;
};

const std::vector<EstimateSpec> &estimateSpecs()
{
    static const std::vector<EstimateSpec> specs { { "prompt_seconds", &VariantResult::promptSeconds, "s",
                                                       "prompt encoding latency, per repeat" },
        { "decode_seconds_per_token", &VariantResult::decodeSecondsPerToken, "s/token",
            "mean per-token decode latency, per repeat" },
        { "prompt_tokens_per_second", &VariantResult::promptTokensPerSecond, "tokens/s", "prompt tokens / latency" },
        { "decode_tokens_per_second", &VariantResult::decodeTokensPerSecond, "tokens/s", "1 / per-token latency" },
        { "average_watts", &VariantResult::averageWatts, "W", "mean gross power over prompt + decode" },
        { "energy_per_inference_j", &VariantResult::energyPerInferenceJ, "J",
            "(P - idle) over prompt + decode: trapezoid integral of the battery trace, or the ODPM counters' "
            "difference" },
        { "energy_per_prompt_j", &VariantResult::energyPerPromptJ, "J",
            "trapezoid integral of (P - idle) over the prompt" },
        { "energy_per_token_j", &VariantResult::energyPerTokenJ, "J/token",
            "trapezoid integral of (P - idle) over decode / decoded tokens" } };
    return specs;
}

void writeEstimate(hid_t group, const EstimateSpec &spec, const Estimate &e, const std::string &path)
{
    writeDoubles(group, spec.name, e.values, spec.units, spec.description, path);
    Hid ds = h5::openDataset(group, spec.name, path);
    h5::writeDoubleAttribute(ds, "median", e.median, path);
    h5::writeDoubleAttribute(ds, "mean", e.mean, path);
    h5::writeDoubleAttribute(ds, "stddev", e.stddev, path);
    h5::writeDoubleAttribute(ds, "min", e.min, path);
    h5::writeDoubleAttribute(ds, "max", e.max, path);
    h5::writeDoubleAttribute(ds, "p10", e.p10, path);
    h5::writeDoubleAttribute(ds, "p90", e.p90, path);
    h5::writeDoubleAttribute(ds, "ci95_low", e.ciLow, path);
    h5::writeDoubleAttribute(ds, "ci95_high", e.ciHigh, path);
    h5::writeInt64Attribute(ds, "n", e.n, path);
    h5::writeStringAttribute(ds, "interval", "95% Student-t interval of the mean over repeats", path);
}

Estimate readEstimate(hid_t group, const EstimateSpec &spec, const std::string &path)
{
    Estimate e;
    if (!h5::exists(group, spec.name))
        return e;
    e.values = readDoubles(group, spec.name, path);
    Hid ds = h5::openDataset(group, spec.name, path);
    e.median = readDoubleAttribute(ds, "median");
    e.mean = readDoubleAttribute(ds, "mean");
    e.stddev = readDoubleAttribute(ds, "stddev");
    e.min = readDoubleAttribute(ds, "min");
    e.max = readDoubleAttribute(ds, "max");
    e.p10 = readDoubleAttribute(ds, "p10");
    e.p90 = readDoubleAttribute(ds, "p90");
    e.ciLow = readDoubleAttribute(ds, "ci95_low");
    e.ciHigh = readDoubleAttribute(ds, "ci95_high");
    e.n = h5::attributeExists(ds, "n") ? int(h5::readInt64Attribute(ds, "n", path)) : int(e.values.size());
    return e;
}

nlohmann::json normalizationJson(const device::PowerNormalization &n)
{
    return { { "source", n.source }, { "current_file", n.currentFile }, { "voltage_file", n.voltageFile },
        { "temperature_file", n.temperatureFile }, { "current_scale_to_amps", n.currentScaleToAmps },
        { "voltage_scale_to_volts", n.voltageScaleToVolts }, { "discharge_sign", n.dischargeSign },
        { "current_unit", n.currentUnit }, { "rule", n.rule }, { "charging", n.charging },
        { "odpm_rails", n.odpmRails } };
}

device::PowerNormalization normalizationFromJson(const std::string &text)
{
    device::PowerNormalization n;
    if (text.empty())
        return n;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return n;
    n.source = j.value("source", n.source);
    n.currentFile = j.value("current_file", "");
    n.voltageFile = j.value("voltage_file", "");
    n.temperatureFile = j.value("temperature_file", "");
    n.currentScaleToAmps = j.value("current_scale_to_amps", n.currentScaleToAmps);
    n.voltageScaleToVolts = j.value("voltage_scale_to_volts", n.voltageScaleToVolts);
    n.dischargeSign = j.value("discharge_sign", n.dischargeSign);
    n.currentUnit = j.value("current_unit", n.currentUnit);
    n.rule = j.value("rule", "");
    n.charging = j.value("charging", false);
    if (auto it = j.find("odpm_rails"); it != j.end() && it->is_array())
        for (const auto &r : *it)
            if (r.is_string())
                n.odpmRails.push_back(r.get<std::string>());
    return n;
}

void writeMarks(hid_t group, const std::vector<device::PhaseMarkValue> &marks, const std::string &path)
{
    std::vector<double> t;
    std::vector<std::string> names;
    for (const auto &m : marks) {
        t.push_back(m.seconds);
        names.push_back(m.name);
    }
    writeDoubles(group, "seconds", t, "s", "phase mark time on the sampler's clock", path);
    writeStrings(group, "name", names, "prompt:begin, prompt:end, decode:begin, decode:end (one set per repeat)", path);
}

std::string variantLinkName(const std::string &name, const std::vector<std::string> &taken)
{
    std::string base;
    for (char c : name)
        base += (c == '/' || c == '.') ? '_' : c;
    if (base.empty())
        base = "variant";
    std::string candidate = base;
    for (int i = 2; std::find(taken.begin(), taken.end(), candidate) != taken.end(); ++i)
        candidate = base + "_" + std::to_string(i);
    return candidate;
}

} // namespace

std::string writeDeviceBenchmark(const std::string &path, const BenchmarkReport &report)
{
    h5::silenceErrors();
    if (!std::filesystem::exists(path)) {
        RunHeader header;
        header.configJson = R"({"kind": "device-benchmark"})";
        RunWriter w = RunWriter::create(path, header);
        w.close();
    }
    Hid fapl = fileAccess();
    Hid file = h5::check(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl), H5Fclose, path,
        "cannot open the run file for writing (is a calibration still writing it?)");
    store::checkSchema(file, path);
    if (!h5::exists(file, "device"))
        h5::createGroup(file, "device", path);
    Hid deviceGroup = h5::openGroup(file, "device", path);
    if (!h5::exists(deviceGroup, "benchmarks"))
        h5::createGroup(deviceGroup, "benchmarks", path);
    Hid benches = h5::openGroup(deviceGroup, "benchmarks", path);
    const auto existing = h5::members(benches, path);
    char idBuf[16];
    std::snprintf(idBuf, sizeof idBuf, "%04zu", existing.size() + 1);
    std::string id = idBuf;
    for (int k = int(existing.size()) + 2; std::find(existing.begin(), existing.end(), id) != existing.end(); ++k) {
        std::snprintf(idBuf, sizeof idBuf, "%04d", k);
        id = idBuf;
    }
    Hid g = h5::createGroup(benches, id, path);
    h5::writeStringAttribute(g, "serial", report.serial, path);
    h5::writeStringAttribute(g, "created", report.created, path);
    h5::writeStringAttribute(g, "device_facts", nlohmann::json(report.deviceFacts).dump(), path);
    h5::writeInt64Attribute(g, "prompt_tokens", report.promptTokens, path);
    h5::writeInt64Attribute(g, "decode_tokens", report.decodeTokens, path);
    h5::writeInt64Attribute(g, "warmup", report.warmup, path);
    h5::writeInt64Attribute(g, "repeats", report.repeats, path);
    h5::writeDoubleAttribute(g, "power_hz", report.powerHz, path);
    h5::writeDoubleAttribute(g, "cooldown_celsius", report.cooldownCelsius, path);
    h5::writeDoubleAttribute(g, "idle_watts", report.idleWatts, path);
    h5::writeStringAttribute(g, "power_normalization", normalizationJson(report.power).dump(), path);
    h5::writeStringAttribute(g, "warnings", nlohmann::json(report.warnings).dump(), path);
    h5::writeStringAttribute(g, "error", report.error, path);
    h5::writeInt64Attribute(g, "simulated", report.simulated ? 1 : 0, path);
    {
        Hid idle = h5::createGroup(g, "idle", path);
        writeTrace(idle, report.idleTrace, path);
        writeRails(idle, "odpm", report.idleRails, path);
    }
    Hid variants = h5::createGroup(g, "variants", path);
    std::vector<std::string> order;
    for (const VariantResult &v : report.variants) {
        const std::string link = variantLinkName(v.name, order);
        order.push_back(link);
        Hid vg = h5::createGroup(variants, link, path);
        h5::writeStringAttribute(vg, "name", v.name, path);
        h5::writeStringAttribute(vg, "package", v.packagePath, path);
        h5::writeStringAttribute(vg, "variant", v.variant, path);
        h5::writeStringAttribute(vg, "content_hash", v.contentHash, path);
        h5::writeStringAttribute(vg, "remote_dir", v.remoteDir, path);
        h5::writeStringAttribute(vg, "kernels", v.kernels, path);
        h5::writeInt64Attribute(vg, "prompt_tokens", v.promptTokens, path);
        h5::writeInt64Attribute(vg, "decode_tokens", v.decodeTokens, path);
        h5::writeInt64Attribute(vg, "warmup", v.warmup, path);
        h5::writeInt64Attribute(vg, "repeats", v.repeats, path);
        h5::writeInt64Attribute(vg, "threads", v.threads, path);
        h5::writeDoubleAttribute(vg, "peak_rss_bytes", v.peakRssBytes, path);
        h5::writeDoubleAttribute(vg, "start_celsius", v.startCelsius, path);
        h5::writeDoubleAttribute(vg, "cooldown_seconds", v.cooldownSeconds, path);
        h5::writeStringAttribute(vg, "mq_run_json", v.rawJson, path);
        h5::writeStringAttribute(vg, "power_source", v.powerSource, path);
        writeRails(vg, "odpm", v.rails, path);
        {
            Hid trace = h5::createGroup(vg, "trace", path);
            writeTrace(trace, v.trace, path);
        }
        {
            Hid marks = h5::createGroup(vg, "marks", path);
            writeMarks(marks, v.marks, path);
        }
        Hid rep = h5::createGroup(vg, "repeats", path);
        for (const auto &spec : estimateSpecs())
            writeEstimate(rep, spec, v.*(spec.member), path);
    }
    h5::writeStringAttribute(g, "variant_order", nlohmann::json(order).dump(), path);
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
        h5::fail(path, "cannot flush the run file");
    return id;
}

std::vector<StoredBenchmark> readDeviceBenchmarks(const std::string &path)
{
    h5::silenceErrors();
    if (!std::filesystem::exists(path))
        failFile(path, "no such run file");
    Hid fapl = fileAccess();
    // SWMR reading, so that a file a calibration is still writing can be opened too.
    hid_t raw = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (raw < 0) {
        h5::takeErrorMessage();
        raw = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
    }
    Hid file = h5::check(raw, H5Fclose, path, "cannot open the run file");
    store::checkSchema(file, path);
    std::vector<StoredBenchmark> out;
    if (!h5::exists(file, "device/benchmarks"))
        return out;
    Hid benches = h5::openGroup(file, "device/benchmarks", path);
    for (const std::string &id : h5::members(benches, path)) {
        Hid g = h5::openGroup(benches, id, path);
        StoredBenchmark sb;
        sb.id = id;
        BenchmarkReport &r = sb.report;
        r.serial = readStringOr(g, "serial", path);
        r.created = readStringOr(g, "created", path);
        if (auto facts = nlohmann::json::parse(readStringOr(g, "device_facts", path), nullptr, false);
            facts.is_object())
            for (auto it = facts.begin(); it != facts.end(); ++it)
                if (it->is_string())
                    r.deviceFacts[it.key()] = it->get<std::string>();
        auto readInt
            = [&](const char *n) { return h5::attributeExists(g, n) ? int(h5::readInt64Attribute(g, n, path)) : 0; };
        r.promptTokens = readInt("prompt_tokens");
        r.decodeTokens = readInt("decode_tokens");
        r.warmup = readInt("warmup");
        r.repeats = readInt("repeats");
        r.simulated = readInt("simulated") != 0;
        r.powerHz = readDoubleAttribute(g, "power_hz");
        r.cooldownCelsius = readDoubleAttribute(g, "cooldown_celsius");
        r.idleWatts = readDoubleAttribute(g, "idle_watts");
        r.power = normalizationFromJson(readStringOr(g, "power_normalization", path));
        if (auto w = nlohmann::json::parse(readStringOr(g, "warnings", path), nullptr, false); w.is_array())
            for (const auto &s : w)
                if (s.is_string())
                    r.warnings.push_back(s.get<std::string>());
        r.error = readStringOr(g, "error", path);
        if (h5::exists(g, "idle")) {
            Hid idle = h5::openGroup(g, "idle", path);
            r.idleTrace = readTrace(idle, path);
            r.idleRails = readRails(idle, "odpm", path);
        }
        std::vector<std::string> order;
        if (auto o = nlohmann::json::parse(readStringOr(g, "variant_order", path), nullptr, false); o.is_array())
            for (const auto &s : o)
                if (s.is_string())
                    order.push_back(s.get<std::string>());
        if (h5::exists(g, "variants")) {
            Hid variants = h5::openGroup(g, "variants", path);
            if (order.empty())
                order = h5::members(variants, path);
            for (const std::string &link : order) {
                if (!h5::exists(variants, link))
                    continue;
                Hid vg = h5::openGroup(variants, link, path);
                VariantResult v;
                v.name = readStringOr(vg, "name", path);
                v.packagePath = readStringOr(vg, "package", path);
                v.variant = readStringOr(vg, "variant", path);
                v.contentHash = readStringOr(vg, "content_hash", path);
                v.remoteDir = readStringOr(vg, "remote_dir", path);
                v.kernels = readStringOr(vg, "kernels", path);
                auto vInt = [&](const char *n) {
                    return h5::attributeExists(vg, n) ? int(h5::readInt64Attribute(vg, n, path)) : 0;
                };
                v.promptTokens = vInt("prompt_tokens");
                v.decodeTokens = vInt("decode_tokens");
                v.warmup = vInt("warmup");
                v.repeats = vInt("repeats");
                v.threads = vInt("threads");
                v.peakRssBytes = readDoubleAttribute(vg, "peak_rss_bytes");
                v.startCelsius = readDoubleAttribute(vg, "start_celsius");
                v.cooldownSeconds = readDoubleAttribute(vg, "cooldown_seconds");
                v.rawJson = readStringOr(vg, "mq_run_json", path);
                if (h5::attributeExists(vg, "power_source"))
                    v.powerSource = readStringOr(vg, "power_source", path);
                v.rails = readRails(vg, "odpm", path);
                if (h5::exists(vg, "trace")) {
                    Hid t = h5::openGroup(vg, "trace", path);
                    v.trace = readTrace(t, path);
                }
                if (h5::exists(vg, "marks")) {
                    Hid m = h5::openGroup(vg, "marks", path);
                    const auto t = readDoubles(m, "seconds", path);
                    const auto n = readStrings(m, "name", path);
                    for (size_t i = 0; i < t.size() && i < n.size(); ++i)
                        v.marks.push_back({ t[i], n[i] });
                }
                if (h5::exists(vg, "repeats")) {
                    Hid rep = h5::openGroup(vg, "repeats", path);
                    for (const auto &spec : estimateSpecs())
                        v.*(spec.member) = readEstimate(rep, spec, path);
                }
                r.variants.push_back(std::move(v));
            }
        }
        out.push_back(std::move(sb));
    }
    return out;
}

} // namespace mq
