#include "power_model.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace mq::devsim;

namespace {

PowerParams plain()
{
    PowerParams p;
    p.cpuSmoothingSeconds = 0; // a clean step, for closed-form comparisons
    return p;
}

double voc(const PowerParams &p, double soc)
{
    return p.openCircuitEmpty + (p.openCircuitFull - p.openCircuitEmpty) * soc;
}

} // namespace

TEST(DevsimPowerModel, IdleDrawAndVoltageSagSatisfyOhmsLaw)
{
    const PowerParams p = plain();
    PowerModel m(p);
    const PowerState &s = m.state();
    EXPECT_DOUBLE_EQ(s.watts, p.idleWatts);
    // V = V_oc - I·R with I = P/V, checked directly rather than through the formula used.
    const double v = s.volts;
    EXPECT_NEAR(v, voc(p, 0.8) - (p.idleWatts / v) * p.internalOhms, 1e-12);
    EXPECT_NEAR(s.dischargeAmps * s.volts, p.idleWatts, 1e-12);
    EXPECT_LT(v, voc(p, 0.8));
    EXPECT_GT(v, voc(p, 0.8) - 0.05); // "a small sag": < 50 mV at idle
}

TEST(DevsimPowerModel, PowerIsLinearInCpuAndClipped)
{
    const PowerParams p = plain();
    PowerModel m(p);
    m.step(0.05, 1.5);
    EXPECT_NEAR(m.state().watts, p.idleWatts + 1.5 * p.wattsPerCore, 1e-12);
    m.step(0.05, 100);
    EXPECT_NEAR(m.state().watts, p.idleWatts + p.maxCores * p.wattsPerCore, 1e-12);
    m.step(0.05, -3); // a measurement glitch never means negative power
    EXPECT_NEAR(m.state().watts, p.idleWatts, 1e-12);
}

TEST(DevsimPowerModel, TemperatureFollowsFirstOrderStepResponse)
{
    const PowerParams p = plain();
    PowerModel m(p);
    const double t0 = m.state().socTempC;
    EXPECT_NEAR(t0, p.ambientC + p.idleWatts * p.socKelvinPerWatt, 1e-9); // starts at idle steady state
    const double watts = p.idleWatts + 2 * p.wattsPerCore;
    // The heat includes no charging loss here; the steady state is ambient + P·R_th.
    const double steady = p.ambientC + watts * p.socKelvinPerWatt;
    double t = 0;
    for (int i = 0; i < 200; ++i) { // 10 s in 50 ms steps
        m.step(0.05, 2);
        t += 0.05;
    }
    const double expected = steady + (t0 - steady) * std::exp(-t / p.socTimeConstantS);
    EXPECT_NEAR(m.state().socTempC, expected, 1e-9);
    for (int i = 0; i < 4000; ++i)
        m.step(0.05, 2);
    EXPECT_NEAR(m.state().socTempC, steady, 0.01);
}

TEST(DevsimPowerModel, ChargeDrainsByIntegratedCurrent)
{
    const PowerParams p = plain();
    PowerModel m(p);
    double coulombs = 0;
    for (int i = 0; i < 3600; ++i) { // one hour at one busy core
        m.step(1.0, 1.0);
        coulombs += m.state().dischargeAmps * 1.0;
    }
    const double expectedSoc = p.startPercent / 100 - coulombs / (3.6 * p.capacityMah);
    EXPECT_NEAR(m.state().socFraction, expectedSoc, 1e-9);
    // Sanity of the figures: ~2.15 W for an hour drains 10–20 % of a 4500 mAh phone.
    EXPECT_GT(p.startPercent / 100 - m.state().socFraction, 0.10);
    EXPECT_LT(p.startPercent / 100 - m.state().socFraction, 0.20);
}

TEST(DevsimPowerModel, SysfsUnitsAndSignConventions)
{
    PowerParams p = plain();
    PowerModel neg(p);
    auto f = neg.sysfsFiles();
    const double amps = neg.state().dischargeAmps;
    EXPECT_EQ(std::stoll(f.at("sys/class/power_supply/battery/current_now")), -std::llround(amps * 1e6));
    EXPECT_EQ(std::stoll(f.at("sys/class/power_supply/battery/voltage_now")), std::llround(neg.state().volts * 1e6));
    EXPECT_EQ(f.at("sys/class/power_supply/battery/status"), "Discharging\n");
    EXPECT_EQ(f.at("sys/class/power_supply/battery/capacity"), "80\n");
    EXPECT_EQ(std::stoll(f.at("sys/class/thermal/thermal_zone0/temp")), std::llround(neg.state().socTempC * 1000));
    EXPECT_EQ(std::stoll(f.at("sys/class/power_supply/battery/temp")), std::llround(neg.state().batteryTempC * 10));

    p.dischargeSign = 1;
    p.currentUnit = CurrentUnit::MilliAmps;
    PowerModel pos(p);
    EXPECT_EQ(std::stoll(pos.sysfsFiles().at("sys/class/power_supply/battery/current_now")), std::llround(amps * 1e3));
}

TEST(DevsimPowerModel, ChargingReversesTheCurrentAndRaisesTheVoltage)
{
    PowerParams p = plain();
    p.charging = true;
    PowerModel m(p);
    const PowerState &s = m.state();
    EXPECT_LT(s.dischargeAmps, 0);
    // The charger feeds the load first: into the battery = I_charger − P/V.
    EXPECT_NEAR(-s.dischargeAmps, p.chargerAmps - s.watts / s.volts, 1e-9);
    EXPECT_GT(s.volts, voc(p, 0.8));
    auto f = m.sysfsFiles();
    EXPECT_EQ(f.at("sys/class/power_supply/battery/status"), "Charging\n");
    EXPECT_GT(std::stoll(f.at("sys/class/power_supply/battery/current_now")), 0); // other sign than discharging
    EXPECT_EQ(f.at("sys/class/power_supply/usb/online"), "1\n");
    const double before = s.socFraction;
    m.step(60, 0);
    EXPECT_GT(m.state().socFraction, before);
}

TEST(DevsimPowerModel, OdpmRailsSumToTheIntegralOfThePower)
{
    PowerParams p; // with the fuel-gauge smoothing: the rails follow the same smoothed P
    p.odpm = true;
    PowerModel m(p);
    double a = 0, b = 0;
    for (const OdpmRail &r : odpmRails()) {
        a += r.idleShare;
        b += r.activeShare;
    }
    EXPECT_NEAR(a, 1.0, 1e-12);
    EXPECT_NEAR(b, 1.0, 1e-12);
    // An independent trapezoid sum of the model's P over 2 s idle, 3 s at 1.5 cores, 2 s idle.
    double integral = 0, prev = m.state().watts;
    const double dt = 0.05;
    for (int i = 0; i < 140; ++i) {
        m.step(dt, i >= 40 && i < 100 ? 1.5 : 0.0);
        integral += 0.5 * (prev + m.state().watts) * dt;
        prev = m.state().watts;
    }
    double sum = 0;
    for (double j : m.state().railJoules)
        sum += j;
    EXPECT_NEAR(sum, integral, 1e-9);
    // The CPU rail carries most of the load: above its idle share by 70 % of k · CPU-seconds.
    const double cpuSeconds = 1.5 * 3.0;
    EXPECT_NEAR(m.state().railJoules[0] - 0.04 * p.idleWatts * 7.0, 0.70 * p.wattsPerCore * cpuSeconds, 0.02);
    // The counters are written in a Pixel ODPM driver's format, µWs per channel.
    const auto files = m.sysfsFiles();
    const std::string &text = files.at("sys/bus/iio/devices/iio:device0/energy_value");
    EXPECT_EQ(text.rfind("t=7000\nCH0(T=7000)[S2M_VDD_CPUCL2], ", 0), 0u) << text;
    EXPECT_NE(text.find("[VSYS_PWR_MODEM], " + std::to_string(std::llround(m.state().railJoules[5] * 1e6))),
        std::string::npos);
}

TEST(DevsimPowerModel, NoOdpmFilesWithoutTheOption)
{
    PowerModel m(PowerParams {});
    EXPECT_EQ(m.sysfsFiles().count("sys/bus/iio/devices/iio:device0/energy_value"), 0u);
}
