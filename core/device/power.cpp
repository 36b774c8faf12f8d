#include "core/device/power.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>
#include <sstream>

namespace mq::device {

namespace {

double median(std::vector<double> v)
{
    if (v.empty())
        return std::numeric_limits<double>::quiet_NaN();
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

std::vector<double> numbers(const std::vector<std::string> &raw)
{
    std::vector<double> out;
    for (const auto &s : raw) {
        const double x = parseNumber(s);
        if (std::isfinite(x))
            out.push_back(x);
    }
    return out;
}

} // namespace

double parseNumber(const std::string &raw)
{
    const char *b = raw.c_str();
    while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
        ++b;
    if (!*b)
        return std::numeric_limits<double>::quiet_NaN();
    char *end = nullptr;
    const double x = std::strtod(b, &end);
    while (end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        ++end;
    if (end == b || (end && *end))
        return std::numeric_limits<double>::quiet_NaN();
    return x;
}

PowerNormalization detectNormalization(const std::vector<std::string> &rawCurrent,
    const std::vector<std::string> &rawVoltage, const std::string &status, std::vector<std::string> &warnings)
{
    PowerNormalization n;
    const std::vector<double> cur = numbers(rawCurrent), volt = numbers(rawVoltage);
    if (cur.empty() || volt.empty()) {
        n.source = "none";
        n.rule = "no readable battery current/voltage: energy is not measured";
        warnings.push_back("the phone exposes no readable battery current_now/voltage_now: latency only, no energy");
        return n;
    }
    const double vMed = median(volt);
    if (vMed > 1e5)
        n.voltageScaleToVolts = 1e-6;
    else if (vMed > 1e3)
        n.voltageScaleToVolts = 1e-3;
    else
        n.voltageScaleToVolts = 1;
    const double volts = vMed * n.voltageScaleToVolts;

    std::vector<double> absCur;
    for (double c : cur)
        absCur.push_back(std::fabs(c));
    const double iMed = median(absCur);
    const double wattsIfMicro = iMed * 1e-6 * volts, wattsIfMilli = iMed * 1e-3 * volts;
    auto plausible = [](double w) { return w >= 0.05 && w <= 40; };
    std::ostringstream rule;
    rule.precision(4);
    if (plausible(wattsIfMicro)) {
        n.currentScaleToAmps = 1e-6;
        n.currentUnit = "uA";
        rule << "current in uA: median |I| = " << iMed << " gives " << wattsIfMicro << " W at " << volts
             << " V (mA would give " << wattsIfMilli << " W, outside 0.05-40 W)";
    } else if (plausible(wattsIfMilli)) {
        n.currentScaleToAmps = 1e-3;
        n.currentUnit = "mA";
        rule << "current in mA: median |I| = " << iMed << " gives " << wattsIfMilli << " W at " << volts
             << " V (uA would give " << wattsIfMicro << " W, outside 0.05-40 W)";
    } else {
        const bool milli = iMed < 20000;
        n.currentScaleToAmps = milli ? 1e-3 : 1e-6;
        n.currentUnit = milli ? "mA" : "uA";
        rule << "current unit guessed as " << n.currentUnit << " from the magnitude (median |I| = " << iMed
             << (milli ? " < 20000" : " >= 20000") << "); neither unit gives a phone's 0.05-40 W";
        warnings.push_back("battery current unit uncertain: " + rule.str());
    }
    const double signedMedian = median(cur);
    const bool charging = status == "Charging" || status == "Full";
    n.charging = charging;
    if (charging) {
        n.dischargeSign = -1;
        rule << "; sign: battery status is " << status
             << ", the readings show the charger, kernel convention (negative = discharging) assumed";
        warnings.push_back("the phone is charging (battery status \"" + status
            + "\"): the battery current shows the charger, not the benchmark, so energy figures are not valid; "
              "unplug it and use adb over Wi-Fi (adb tcpip 5555), or a USB hub that cuts VBUS");
    } else {
        n.dischargeSign = signedMedian < 0 ? -1 : 1;
        rule << "; sign: status " << (status.empty() ? "unknown" : status) << " and median current "
             << (signedMedian < 0 ? "negative" : "positive") << ", so discharge is "
             << (signedMedian < 0 ? "negative (kernel convention)" : "positive (vendor convention)");
        if (status.empty())
            warnings.push_back("battery status unreadable: the discharge sign was taken from the readings alone");
    }
    n.rule = rule.str();
    return n;
}

double toWatts(const PowerNormalization &n, const std::string &rawCurrent, const std::string &rawVoltage)
{
    const double i = parseNumber(rawCurrent), v = parseNumber(rawVoltage);
    if (!std::isfinite(i) || !std::isfinite(v))
        return std::numeric_limits<double>::quiet_NaN();
    return i * n.currentScaleToAmps * double(n.dischargeSign) * v * n.voltageScaleToVolts;
}

double toCelsius(const std::string &raw)
{
    const double x = parseNumber(raw);
    if (!std::isfinite(x))
        return x;
    if (std::fabs(x) >= 1000)
        return x / 1000; // thermal zones: m°C
    if (std::fabs(x) >= 150)
        return x / 10; // battery temp: tenths of °C
    return x;
}

std::map<std::string, double> parseOdpmEnergy(const std::string &text)
{
    std::map<std::string, double> out;
    const auto begin = text.find("energy meter");
    if (begin == std::string::npos)
        return out;
    const auto end = text.find("End of", begin);
    const std::string section = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    static const std::regex line(R"(\[([^\]]+)\](:[^\s]*)?\s+([0-9.eE+-]+)\s*mWs)");
    for (auto it = std::sregex_iterator(section.begin(), section.end(), line); it != std::sregex_iterator(); ++it)
        out[(*it)[1].str()] = std::strtod((*it)[3].str().c_str(), nullptr) * 1e-3;
    return out;
}

} // namespace mq::device
