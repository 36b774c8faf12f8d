#include "core/device/results.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace mq::device {

namespace {

double percentile(const std::vector<double> &sorted, double p)
{
    const double pos = p * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}

// Linear interpolation of p at time x (held constant outside the sampled span).
double valueAt(const std::vector<double> &t, const std::vector<double> &p, double x)
{
    if (x <= t.front())
        return p.front();
    if (x >= t.back())
        return p.back();
    const size_t hi = size_t(std::upper_bound(t.begin(), t.end(), x) - t.begin());
    const size_t lo = hi - 1;
    const double w = (x - t[lo]) / (t[hi] - t[lo]);
    return p[lo] + w * (p[hi] - p[lo]);
}

} // namespace

double tQuantile975(int dof)
{
    static const double table[]
        = { 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
              2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042 };
    if (dof < 1)
        return std::numeric_limits<double>::quiet_NaN();
    if (dof <= 30)
        return table[dof - 1];
    return 1.959964 + 2.4 / double(dof);
}

Estimate estimate(const std::vector<double> &values)
{
    Estimate e;
    e.values = values;
    std::vector<double> v;
    for (double x : values)
        if (std::isfinite(x))
            v.push_back(x);
    e.n = int(v.size());
    if (v.empty())
        return e;
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    e.median = percentile(sorted, 0.5);
    e.p10 = percentile(sorted, 0.1);
    e.p90 = percentile(sorted, 0.9);
    e.min = sorted.front();
    e.max = sorted.back();
    double sum = 0;
    for (double x : v)
        sum += x;
    e.mean = sum / double(v.size());
    if (v.size() >= 2) {
        double ss = 0;
        for (double x : v)
            ss += (x - e.mean) * (x - e.mean);
        e.stddev = std::sqrt(ss / double(v.size() - 1));
        const double half = tQuantile975(int(v.size()) - 1) * e.stddev / std::sqrt(double(v.size()));
        e.ciLow = e.mean - half;
        e.ciHigh = e.mean + half;
    } else {
        e.ciLow = e.ciHigh = e.mean;
    }
    return e;
}

std::optional<double> reductionPercent(double baseline, double value)
{
    if (!(baseline > 0) || !std::isfinite(value))
        return std::nullopt;
    return 100.0 * (baseline - value) / baseline;
}

double trapezoidIntegral(const std::vector<double> &t, const std::vector<double> &p, double t0, double t1)
{
    if (t.empty() || t.size() != p.size() || !(t1 > t0))
        return 0;
    if (t.size() == 1)
        return p.front() * (t1 - t0);
    double sum = 0;
    double prevT = t0, prevP = valueAt(t, p, t0);
    const size_t first = size_t(std::upper_bound(t.begin(), t.end(), t0) - t.begin());
    for (size_t i = first; i < t.size() && t[i] < t1; ++i) {
        sum += 0.5 * (prevP + p[i]) * (t[i] - prevT);
        prevT = t[i];
        prevP = p[i];
    }
    sum += 0.5 * (prevP + valueAt(t, p, t1)) * (t1 - prevT);
    return sum;
}

double counterDifference(const std::vector<double> &t, const std::vector<double> &e, double t0, double t1)
{
    if (t.size() < 2 || t.size() != e.size())
        return std::numeric_limits<double>::quiet_NaN();
    auto at = [&](double x) {
        size_t hi = size_t(std::upper_bound(t.begin(), t.end(), x) - t.begin());
        hi = std::clamp<size_t>(hi, 1, t.size() - 1);
        const size_t lo = hi - 1;
        const double span = t[hi] - t[lo];
        return span > 0 ? e[lo] + (x - t[lo]) * (e[hi] - e[lo]) / span : e[lo];
    };
    return at(t1) - at(t0);
}

double trapezoidIntegral(const std::vector<double> &t, const std::vector<double> &p)
{
    if (t.size() < 2 || t.size() != p.size())
        return 0;
    return trapezoidIntegral(t, p, t.front(), t.back());
}

void computeVariantStatistics(VariantResult &v, double idleWatts)
{
    std::vector<double> pb, pe, db, de;
    for (const auto &m : v.marks) {
        if (m.name == "prompt:begin")
            pb.push_back(m.seconds);
        else if (m.name == "prompt:end")
            pe.push_back(m.seconds);
        else if (m.name == "decode:begin")
            db.push_back(m.seconds);
        else if (m.name == "decode:end")
            de.push_back(m.seconds);
    }
    const size_t n = pb.size();
    if (n == 0 || pe.size() != n || db.size() != n || de.size() != n)
        throw Error("the benchmark of " + v.name + " returned " + std::to_string(pb.size()) + " prompt:begin, "
            + std::to_string(pe.size()) + " prompt:end, " + std::to_string(db.size()) + " decode:begin and "
            + std::to_string(de.size()) + " decode:end marks; they must pair up, one set per repeat");
    // Samples whose power is not a number (an unreadable file) are left out of the integral.
    std::vector<double> t, p;
    for (size_t i = 0; i < v.trace.seconds.size() && i < v.trace.watts.size(); ++i)
        if (std::isfinite(v.trace.watts[i])) {
            if (!t.empty() && v.trace.seconds[i] <= t.back())
                continue;
            t.push_back(v.trace.seconds[i]);
            p.push_back(v.trace.watts[i]);
        }
    const bool odpm = v.powerSource == "odpm" && v.rails.seconds.size() >= 2;
    const bool havePower = odpm || !t.empty();
    auto energy = [&](double t0, double t1) {
        return odpm ? counterDifference(v.rails.seconds, v.rails.totalJoules, t0, t1) : trapezoidIntegral(t, p, t0, t1);
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> prompt, perToken, promptTps, decodeTps, watts, eInf, ePrompt, eTok;
    for (size_t k = 0; k < n; ++k) {
        const double ps = pe[k] - pb[k], ds = de[k] - db[k];
        prompt.push_back(ps);
        promptTps.push_back(ps > 0 ? double(v.promptTokens) / ps : nan);
        const double tok = v.decodeTokens > 0 ? ds / double(v.decodeTokens) : nan;
        perToken.push_back(tok);
        decodeTps.push_back(tok > 0 ? 1.0 / tok : nan);
        if (havePower) {
            const double whole = de[k] - pb[k];
            const double e = energy(pb[k], de[k]);
            watts.push_back(whole > 0 ? e / whole : nan);
            eInf.push_back(e - idleWatts * whole);
            ePrompt.push_back(energy(pb[k], pe[k]) - idleWatts * ps);
            eTok.push_back(v.decodeTokens > 0 ? (energy(db[k], de[k]) - idleWatts * ds) / double(v.decodeTokens) : nan);
        }
    }
    v.repeats = int(n);
    v.promptSeconds = estimate(prompt);
    v.decodeSecondsPerToken = estimate(perToken);
    v.promptTokensPerSecond = estimate(promptTps);
    v.decodeTokensPerSecond = estimate(decodeTps);
    v.averageWatts = estimate(watts);
    v.energyPerInferenceJ = estimate(eInf);
    v.energyPerPromptJ = estimate(ePrompt);
    v.energyPerTokenJ = estimate(eTok);
}

namespace {

struct Figure
{
    const char *label;
    const char *unit;
    double scale; // shown value = stored value × scale
    Estimate VariantResult::*member;
    bool lowerIsBetter;
};

const std::vector<Figure> &figures()
{
    static const std::vector<Figure> f {
        { "prompt latency", "ms", 1e3, &VariantResult::promptSeconds, true },
        { "decode latency", "ms/token", 1e3, &VariantResult::decodeSecondsPerToken, true },
        { "decode speed", "tokens/s", 1, &VariantResult::decodeTokensPerSecond, false },
        { "prompt speed", "tokens/s", 1, &VariantResult::promptTokensPerSecond, false },
        { "average power", "W", 1, &VariantResult::averageWatts, true },
        { "energy/token", "mJ", 1e3, &VariantResult::energyPerTokenJ, true },
        { "energy/inference", "J", 1, &VariantResult::energyPerInferenceJ, true },
    };
    return f;
}

std::string fmt(double v)
{
    if (!std::isfinite(v))
        return "-";
    char buf[32];
    const double a = std::fabs(v);
    std::snprintf(buf, sizeof buf, a >= 100 ? "%.1f" : a >= 1 ? "%.3g" : "%.3g", v);
    return buf;
}

} // namespace

std::string resultsTable(const BenchmarkReport &report)
{
    std::ostringstream out;
    if (report.variants.empty())
        return "no finished variants\n";
    const VariantResult &base = report.variants.front();
    char line[512];
    std::snprintf(line, sizeof line, "%-26s", "figure");
    out << line;
    for (const auto &v : report.variants) {
        std::snprintf(line, sizeof line, " | %-34s", v.name.substr(0, 34).c_str());
        out << line;
    }
    out << "\n";
    for (const Figure &f : figures()) {
        const std::string label = std::string(f.label) + " (" + f.unit + ")";
        std::snprintf(line, sizeof line, "%-26s", label.c_str());
        out << line;
        for (size_t i = 0; i < report.variants.size(); ++i) {
            const Estimate &e = report.variants[i].*(f.member);
            std::string cell = e.n
                ? fmt(e.median * f.scale) + " [" + fmt(e.ciLow * f.scale) + ", " + fmt(e.ciHigh * f.scale) + "]"
                : std::string("-");
            if (i > 0 && e.n) {
                const Estimate &b = base.*(f.member);
                // Reductions of the medians; for speeds the gain is reported as a negative reduction.
                if (auto r = reductionPercent(b.median, e.median)) {
                    char red[32];
                    std::snprintf(red, sizeof red, " %+.1f%%", -*r);
                    cell += red;
                }
            }
            std::snprintf(line, sizeof line, " | %-34s", cell.substr(0, 34).c_str());
            out << line;
        }
        out << "\n";
    }
    out << "median [95% t-interval of the mean over " << base.repeats << " repeats]; % = change vs " << base.name
        << " (the baseline); energies are above the idle power of " << fmt(report.idleWatts) << " W";
    if (report.simulated)
        out << "; ALL POWER FIGURES ARE SIMULATED (virtual phone)";
    out << "\npower source: " << powerSourceText(report) << "\n";
    return out.str();
}

std::string powerSourceText(const BenchmarkReport &report)
{
    const PowerNormalization &n = report.power;
    std::string s;
    if (n.source == "odpm") {
        s = "ODPM power rails (" + std::to_string(n.odpmRails.size())
            + " rails summed, dumpsys android.hardware.power.stats.IPowerStats/default)";
        for (const VariantResult &v : report.variants)
            if (v.powerSource != "odpm")
                s += "; " + v.name + " from the battery (no rail readings)";
    } else if (n.source == "none") {
        s = "none (no readable battery current/voltage and no ODPM rails): latency only";
    } else {
        s = "battery current_now x voltage_now (" + n.currentUnit + ", discharge "
            + (n.dischargeSign < 0 ? "negative" : "positive") + "; no ODPM rails on this phone)";
    }
    if (report.simulated)
        s += ", simulated";
    return s;
}

std::string resultsCsv(const BenchmarkReport &report)
{
    std::ostringstream out;
    out.precision(9);
    out << "variant,package,figure,unit,n,median,mean,stddev,min,max,p10,p90,ci95_low,ci95_high,reduction_vs_baseline_"
           "percent\n";
    for (size_t i = 0; i < report.variants.size(); ++i) {
        const VariantResult &v = report.variants[i];
        for (const Figure &f : figures()) {
            const Estimate &e = v.*(f.member);
            const Estimate &b = report.variants.front().*(f.member);
            out << '"' << v.name << "\",\"" << v.packagePath << "\"," << f.label << ',' << f.unit << ',' << e.n << ','
                << e.median * f.scale << ',' << e.mean * f.scale << ',' << e.stddev * f.scale << ',' << e.min * f.scale
                << ',' << e.max * f.scale << ',' << e.p10 * f.scale << ',' << e.p90 * f.scale << ','
                << e.ciLow * f.scale << ',' << e.ciHigh * f.scale << ',';
            if (auto r = reductionPercent(b.median, e.median))
                out << *r;
            out << "\n";
        }
    }
    return out.str();
}

} // namespace mq::device
