#pragma once

#include "options.h"

#include <map>
#include <string>
#include <vector>

// The simulated battery and thermal zones (docs/devsim.md "Power model"). Pure arithmetic on
// simulated time, so it is unit-tested against closed forms; BatteryService feeds it the measured
// CPU rate and writes what it reports to the sandbox's sysfs files.
//
//   P      = P_idle + k · r                      r: CPU-seconds per second, smoothed, ≤ maxCores
//   V_oc   = V_empty + (V_full − V_empty) · soc
//   V      = V_oc − I · R_int,  I = P / V         ⇒ V = (V_oc + sqrt(V_oc² − 4·P·R_int)) / 2
//   charging: I_batt = I_charger − P / V (into the battery), V = V_oc + I_batt · R_int
//   soc   −= I_discharge · dt / (3.6 · capacity_mAh)
//   T     += (T_amb + P · R_th − T) · (1 − exp(−dt / τ))    (SoC zone and battery, own R_th, τ)
//   ODPM rail j (with --odpm): P_j = a_j · P_idle + b_j · k · r, Σa_j = Σb_j = 1, so Σ P_j = P;
//         E_j += ½ (P_j(before) + P_j(after)) · dt, cumulative since the phone started

namespace mq::devsim {

struct PowerState
{
    double cpuCores = 0; // smoothed CPU-seconds per second
    double watts = 0; // P drawn by the phone
    double volts = 0; // battery terminal voltage
    double dischargeAmps = 0; // > 0 leaving the battery, < 0 charging it
    double socFraction = 0; // 0..1
    double socTempC = 0; // thermal_zone0
    double batteryTempC = 0; // battery/temp
    double averageDischargeAmps = 0; // current_avg: a 1 s moving average of dischargeAmps
    bool charging = false;
    double seconds = 0; // simulated time since start
    std::vector<double> railJoules; // cumulative energy per ODPM rail (odpmRails() order)
};

// One simulated ODPM rail: the name and subsystem a Pixel prints, and its share of the idle power
// and of the CPU-driven power.
struct OdpmRail
{
    const char *name; // "S2M_VDD_CPUCL2"
    const char *subsystem; // "CPU(BIG)"
    double idleShare; // a_j
    double activeShare; // b_j
};
const std::vector<OdpmRail> &odpmRails();

class PowerModel
{
public:
    explicit PowerModel(const PowerParams &params);

    // Advances by dt seconds during which the phone's processes used `cpuCoresRaw` CPU-seconds per
    // second (measured, unsmoothed).
    void step(double dtSeconds, double cpuCoresRaw);

    const PowerState &state() const { return m_state; }
    const PowerParams &params() const { return m_params; }

    // Terminal voltage for a load of `watts` at open-circuit voltage `voc` (discharging).
    static double sagVoltage(double voc, double watts, double ohms);

    // The sysfs files' contents, by path relative to the sandbox root ("sys/class/...").
    std::map<std::string, std::string> sysfsFiles() const;

private:
    void solveElectrical();
    double railWatts(std::size_t rail) const;

    PowerParams m_params;
    PowerState m_state;
};

} // namespace mq::devsim
