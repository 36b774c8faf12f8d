#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/device/adb.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace mq::cli {

int runDevices(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        { "adb", "PATH", "the adb executable (default: $ADB, PATH, $ANDROID_HOME/platform-tools)", "" },
        { "connect", "HOST:PORT", "adb connect to this address first (a phone over Wi-Fi, the virtual phone)", "" },
        { "json", "", "machine-readable list on stdout", "" }, { "help", "", "show this help", "" }
    };
    Args a(argv, specs);
    if (a.flag("help")) {
        std::cout << helpText("mq devices [--connect HOST:PORT] [--json]",
            "List the Android devices adb sees, with their state and facts (model, ABI, Android "
            "version, battery, charging). Devices that are not ready get a sentence saying what to "
            "do.",
            specs);
        return 0;
    }
    device::AdbClient adb(device::findAdb(a.str("adb")));
    adb.startServer();
    if (a.has("connect"))
        adb.connect(a.str("connect"));
    const std::vector<DeviceInfo> devices = adb.listDevices();
    auto fact = [](const DeviceInfo &d, const std::string &k) {
        auto it = d.facts.find(k);
        return it == d.facts.end() ? std::string() : it->second;
    };
    if (a.flag("json")) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto &d : devices)
            j.push_back({ { "serial", d.serial }, { "state", d.state }, { "model", d.model }, { "abi", d.abi },
                { "facts", d.facts } });
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    if (devices.empty()) {
        std::printf("no devices: plug a phone in with USB debugging on, or `mq devices --connect HOST:PORT`\n");
        return 0;
    }
    std::printf(
        "%-24s %-14s %-30s %-12s %-8s %-8s %s\n", "serial", "state", "model", "ABI", "Android", "battery", "charging");
    for (const auto &d : devices) {
        const std::string battery = fact(d, "battery.capacity").empty() ? "-" : fact(d, "battery.capacity") + "%";
        std::printf("%-24s %-14s %-30s %-12s %-8s %-8s %s\n", d.serial.c_str(), d.state.c_str(),
            (d.model.empty() ? std::string("-") : d.model).c_str(), (d.abi.empty() ? std::string("-") : d.abi).c_str(),
            (fact(d, "android").empty() ? std::string("-") : fact(d, "android")).c_str(), battery.c_str(),
            (fact(d, "charging").empty() ? std::string("-") : fact(d, "charging")).c_str());
    }
    for (const auto &d : devices) {
        if (!fact(d, "advice").empty())
            std::printf("\n%s\n", fact(d, "advice").c_str());
        if (!fact(d, "error").empty())
            std::printf("\n%s: %s\n", d.serial.c_str(), fact(d, "error").c_str());
        if (fact(d, "simulated") == "yes")
            std::printf(
                "\n%s is a virtual phone: its battery and temperature figures are simulated\n", d.serial.c_str());
    }
    return 0;
}

} // namespace mq::cli
