#pragma once

#include <map>
#include <string>
#include <vector>

// Command-line options of mq-devsim and the phone they describe. Parsing is a pure function so
// that bad input is tested without starting a daemon.

namespace mq::devsim {

enum class CurrentUnit { MicroAmps, MilliAmps };

struct PowerParams
{
    // Plausible figures for a mid-range phone with the screen off, running a native benchmark
    // from adb shell (docs/devsim.md "Power model"). All of them are simulated.
    double idleWatts = 0.55; // P_idle: SoC, RAM and radios idling
    double wattsPerCore = 1.60; // k: one big core busy at a high clock
    double maxCores = 8; // CPU-seconds per second are clipped here (an 8-core phone)
    double cpuSmoothingSeconds = 0.25; // time constant of the CPU-rate moving average (fuel gauge lag)
    double openCircuitEmpty = 3.50; // V at 0 % charge
    double openCircuitFull = 4.35; // V at 100 % charge
    double internalOhms = 0.12; // sag: V = V_oc - I·R
    double capacityMah = 4500;
    double startPercent = 80;
    double chargerAmps = 1.5; // with --charging: current the charger pushes in
    double ambientC = 25;
    double socKelvinPerWatt = 12; // thermal_zone0: steady rise per watt
    double socTimeConstantS = 20; // thermal_zone0: first-order time constant
    double batteryKelvinPerWatt = 5; // battery temp: steady rise per watt
    double batteryTimeConstantS = 180;
    bool charging = false;
    // Sign of current_now while discharging: -1 (kernel ABI / BatteryManager convention) or +1
    // (what many Qualcomm phones report).
    int dischargeSign = -1;
    CurrentUnit currentUnit = CurrentUnit::MicroAmps;
    // With --odpm the phone also has On-Device Power Monitor rails (Pixel 6+): cumulative energy
    // counters per rail, split from the same P (power_model.h, odpmRails()).
    bool odpm = false;
};

struct DeviceProfile
{
    std::string serial = "MQSIM0001";
    std::string model = "MQ Virtual Phone (simulated)";
    std::string manufacturer = "MQ Workbench (simulated)";
    std::string product = "mq_devsim";
    std::string device = "devsim";
    std::string socModel = "MQ-SIM-x86_64 (simulated)";
    std::string abi = "x86_64";
    int sdk = 34;

    // Every property getprop answers, by name.
    std::map<std::string, std::string> properties() const;
    // The CNXN payload: "device::ro.product.name=…;ro.product.model=…;ro.product.device=…;features=…".
    std::string banner(const std::vector<std::string> &features) const;
};

struct Options
{
    int port = 0; // 0: let the kernel pick one, printed on stdout
    std::string sandbox;
    DeviceProfile profile;
    PowerParams power;
    bool unauthorized = false;
    double dropAfterSeconds = 0; // 0: never
    double slowLinkKBps = 0; // 0: unthrottled; kilobytes (1000 B) per second in each direction
    double updateSeconds = 0.05; // battery/thermal sampling and rewrite period
    bool verbose = false;
    bool help = false;
    bool version = false;
};

// Throws mq::Error with a message that names the option and says what is expected.
Options parseOptions(const std::vector<std::string> &args);

std::string usageText();

// Android release for an API level ("34" -> "14"); the level itself for levels it does not know.
std::string androidRelease(int sdk);

// adb's banner grammar forbids ':' ';' '=' ',' in values; they become '_'.
std::string bannerSafe(const std::string &value);

} // namespace mq::devsim
