#pragma once

#include "core/device/results.h"

#include <map>
#include <string>
#include <vector>

// Turning a phone's raw battery readings into watts (docs/device-benchmarking.md "Units and
// sign"). Vendors disagree: current_now is µA on most phones but mA on some (Samsung, Huawei), and
// negative while discharging on some (kernel ABI, BatteryManager) but positive on others
// (many Qualcomm phones). Pure functions, unit-tested on each case.

namespace mq::device {

// Decides the current and voltage units and the discharge sign from raw readings taken while the
// phone runs (idle and under load) and the battery `status` text:
// - voltage: a median above 100 000 is µV, above 1 000 mV, else V;
// - current unit: the one (µA or mA) that puts the median |I|·V in a phone's range, 0.05–40 W
//   (the two candidates differ by 1000×, so at most one can fit); if neither fits, adb-era
//   convention: median |I| < 20 000 ⇒ mA, else µA, with a warning;
// - sign: while "Discharging" / "Not charging" the phone draws power, so the sign that makes the
//   median current positive is the discharge sign; while "Charging" / "Full" the readings show the
//   charger, not the load: the kernel convention (negative = discharging) is assumed and the
//   result is marked charging.
// Warnings (if any) are appended to `warnings`.
PowerNormalization detectNormalization(const std::vector<std::string> &rawCurrent,
    const std::vector<std::string> &rawVoltage, const std::string &status, std::vector<std::string> &warnings);

// Watts drawn by the phone for one raw (current, voltage) pair; NaN when either is not a number.
double toWatts(const PowerNormalization &n, const std::string &rawCurrent, const std::string &rawVoltage);

// °C from a thermal zone (m°C, e.g. 41500) or a battery temp (0.1 °C, e.g. 315); NaN if not a number.
double toCelsius(const std::string &raw);

// Parses a number as the kernel prints it ("-136521", " 4163613\n"); NaN on anything else.
double parseNumber(const std::string &raw);

// ODPM energy meter section of `dumpsys android.hardware.power.stats.IPowerStats/default`
// (Pixel 6+): "[RAIL]:Subsystem   123456.78 mWs (...)" lines → rail name → cumulative energy in
// joules (1 mWs = 1 mJ). Empty when the section is absent (most phones).
std::map<std::string, double> parseOdpmEnergy(const std::string &dumpsysText);

} // namespace mq::device
