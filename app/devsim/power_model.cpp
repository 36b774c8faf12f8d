#include "power_model.h"

#include <algorithm>
#include <cmath>

namespace mq::devsim {

const std::vector<OdpmRail> &odpmRails()
{
    // Plausible for a phone with the screen off running one native thread on a big core; the names
    // are those of a Pixel 6's power monitor. Idle shares and active shares each sum to 1.
    static const std::vector<OdpmRail> rails {
        { "S2M_VDD_CPUCL2", "CPU(BIG)", 0.04, 0.70 },
        { "S3M_VDD_CPUCL1", "CPU(MID)", 0.06, 0.10 },
        { "S4M_VDD_CPUCL0", "CPU(LITTLE)", 0.10, 0.05 },
        { "S1M_VDD_MIF", "DDR", 0.16, 0.15 },
        { "VSYS_PWR_DISPLAY", "Display", 0.18, 0.0 },
        { "VSYS_PWR_MODEM", "Modem", 0.46, 0.0 },
    };
    return rails;
}

PowerModel::PowerModel(const PowerParams &params)
    : m_params(params)
{
    m_state.railJoules.assign(odpmRails().size(), 0.0);
    m_state.socFraction = std::clamp(params.startPercent / 100.0, 0.0, 1.0);
    m_state.socTempC = params.ambientC;
    m_state.batteryTempC = params.ambientC;
    m_state.charging = params.charging;
    solveElectrical();
    // Start from the idle steady state, as a phone that has been lying on the desk.
    m_state.socTempC = params.ambientC + m_state.watts * params.socKelvinPerWatt;
    m_state.batteryTempC = params.ambientC + m_state.watts * params.batteryKelvinPerWatt;
    m_state.averageDischargeAmps = m_state.dischargeAmps;
}

double PowerModel::sagVoltage(double voc, double watts, double ohms)
{
    const double disc = voc * voc - 4 * watts * ohms;
    // Beyond the battery's maximum power the quadratic has no root; hold at the peak-power point.
    return disc > 0 ? (voc + std::sqrt(disc)) / 2 : voc / 2;
}

void PowerModel::solveElectrical()
{
    const PowerParams &p = m_params;
    m_state.watts = p.idleWatts + p.wattsPerCore * m_state.cpuCores;
    const double voc = p.openCircuitEmpty + (p.openCircuitFull - p.openCircuitEmpty) * m_state.socFraction;
    if (!m_state.charging) {
        m_state.volts = sagVoltage(voc, m_state.watts, p.internalOhms);
        m_state.dischargeAmps = m_state.watts / m_state.volts;
        return;
    }
    // The charger feeds the load and the rest goes into the battery: a fixed point in V, which
    // converges in a few steps because R_int·I is small against V.
    double v = voc;
    double into = 0;
    for (int i = 0; i < 20; ++i) {
        into = p.chargerAmps - m_state.watts / v;
        v = voc + into * p.internalOhms;
    }
    m_state.volts = v;
    m_state.dischargeAmps = -into;
}

double PowerModel::railWatts(std::size_t rail) const
{
    const OdpmRail &r = odpmRails()[rail];
    return r.idleShare * m_params.idleWatts + r.activeShare * m_params.wattsPerCore * m_state.cpuCores;
}

void PowerModel::step(double dt, double cpuCoresRaw)
{
    if (!(dt > 0))
        return;
    const PowerParams &p = m_params;
    const double target = std::clamp(cpuCoresRaw, 0.0, p.maxCores);
    const double a = p.cpuSmoothingSeconds > 0 ? 1 - std::exp(-dt / p.cpuSmoothingSeconds) : 1;
    std::vector<double> before(odpmRails().size());
    for (std::size_t j = 0; j < before.size(); ++j)
        before[j] = railWatts(j);
    m_state.cpuCores += (target - m_state.cpuCores) * a;
    solveElectrical();
    m_state.seconds += dt;
    // The rails integrate the power exactly as the fuel gauge's P moves (trapezoid over the step).
    for (std::size_t j = 0; j < before.size(); ++j)
        m_state.railJoules[j] += 0.5 * (before[j] + railWatts(j)) * dt;

    m_state.socFraction -= m_state.dischargeAmps * dt / (3.6 * p.capacityMah);
    m_state.socFraction = std::clamp(m_state.socFraction, 0.0, 1.0);

    // All electrical power ends up as heat; charging adds the battery's resistive loss.
    const double heat
        = m_state.watts + (m_state.charging ? m_state.dischargeAmps * m_state.dischargeAmps * p.internalOhms : 0);
    const double socSteady = p.ambientC + heat * p.socKelvinPerWatt;
    const double batSteady = p.ambientC + heat * p.batteryKelvinPerWatt;
    m_state.socTempC += (socSteady - m_state.socTempC) * (1 - std::exp(-dt / p.socTimeConstantS));
    m_state.batteryTempC += (batSteady - m_state.batteryTempC) * (1 - std::exp(-dt / p.batteryTimeConstantS));
    m_state.averageDischargeAmps += (m_state.dischargeAmps - m_state.averageDischargeAmps) * (1 - std::exp(-dt / 1.0));
}

std::map<std::string, std::string> PowerModel::sysfsFiles() const
{
    const PowerParams &p = m_params;
    const PowerState &s = m_state;
    const double scale = p.currentUnit == CurrentUnit::MicroAmps ? 1e6 : 1e3;
    auto current = [&](double dischargeAmps) {
        return std::to_string(std::llround(p.dischargeSign * dischargeAmps * scale)) + "\n";
    };
    auto integer = [](double v) { return std::to_string(std::llround(v)) + "\n"; };
    const double percent = s.socFraction * 100;
    std::string status = "Discharging";
    if (s.charging)
        status = percent >= 99.5 ? "Full" : "Charging";
    const std::string bat = "sys/class/power_supply/battery/";
    std::map<std::string, std::string> files {
        { bat + "current_now", current(s.dischargeAmps) },
        { bat + "current_avg", current(s.averageDischargeAmps) },
        { bat + "voltage_now", integer(s.volts * 1e6) },
        { bat + "voltage_ocv",
            integer((p.openCircuitEmpty + (p.openCircuitFull - p.openCircuitEmpty) * s.socFraction) * 1e6) },
        { bat + "capacity", integer(percent) },
        { bat + "charge_counter", integer(s.socFraction * p.capacityMah * 1000) },
        { bat + "charge_full_design", integer(p.capacityMah * 1000) },
        { bat + "status", status + "\n" },
        { bat + "temp", integer(s.batteryTempC * 10) },
        { bat + "present", "1\n" },
        { bat + "health", "Good\n" },
        { bat + "technology", "Li-ion\n" },
        { bat + "model_name", "MQ simulated battery\n" },
        { "sys/class/power_supply/usb/online", s.charging ? "1\n" : "0\n" },
        { "sys/class/thermal/thermal_zone0/type", "soc-simulated\n" },
        { "sys/class/thermal/thermal_zone0/temp", integer(s.socTempC * 1000) },
        { "sys/class/thermal/thermal_zone1/type", "battery-simulated\n" },
        { "sys/class/thermal/thermal_zone1/temp", integer(s.batteryTempC * 1000) },
    };
    if (p.odpm) {
        // The format of a Pixel's ODPM driver (iio:device0/energy_value): time in ms, then one line
        // per channel with the cumulative energy in µWs. dumpsys formats it as the power HAL does.
        const std::string ms = std::to_string(std::llround(s.seconds * 1000));
        std::string text = "t=" + ms + "\n";
        for (std::size_t j = 0; j < odpmRails().size(); ++j)
            text += "CH" + std::to_string(j) + "(T=" + ms + ")[" + odpmRails()[j].name + "], "
                + std::to_string(std::llround(s.railJoules[j] * 1e6)) + "\n";
        files["sys/bus/iio/devices/iio:device0/energy_value"] = text;
    }
    return files;
}

} // namespace mq::devsim
