#include "options.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>

namespace mq::devsim {

namespace {

double parseNumber(const std::string &option, const std::string &text, double lo, double hi)
{
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < lo || v > hi)
        throw Error(option + " expects a number between " + std::to_string(lo) + " and " + std::to_string(hi)
            + ", got '" + text + "'");
    return v;
}

} // namespace

std::string androidRelease(int sdk)
{
    static const std::map<int, std::string> releases { { 28, "9" }, { 29, "10" }, { 30, "11" }, { 31, "12" },
        { 32, "12" }, { 33, "13" }, { 34, "14" }, { 35, "15" } };
    const auto it = releases.find(sdk);
    return it != releases.end() ? it->second : std::to_string(sdk);
}

std::string bannerSafe(const std::string &value)
{
    std::string out = value;
    for (char &c : out)
        if (c == ':' || c == ';' || c == '=' || c == ',' || c == '\0')
            c = '_';
    return out;
}

std::map<std::string, std::string> DeviceProfile::properties() const
{
    std::string abiList = abi;
    if (abi == "x86_64")
        abiList = "x86_64,x86";
    else if (abi == "arm64-v8a")
        abiList = "arm64-v8a,armeabi-v7a,armeabi";
    return {
        { "ro.product.model", model },
        { "ro.product.manufacturer", manufacturer },
        { "ro.product.brand", "mq" },
        { "ro.product.name", product },
        { "ro.product.device", device },
        { "ro.product.board", device },
        { "ro.board.platform", "devsim" },
        { "ro.soc.manufacturer", "MQ (simulated)" },
        { "ro.soc.model", socModel },
        { "ro.product.cpu.abi", abi },
        { "ro.product.cpu.abilist", abiList },
        { "ro.build.version.release", androidRelease(sdk) },
        { "ro.build.version.sdk", std::to_string(sdk) },
        { "ro.build.type", "userdebug" },
        { "ro.build.fingerprint",
            "mq/" + product + "/" + device + ":" + androidRelease(sdk) + "/MQSIM/1:userdebug/test-keys" },
        { "ro.serialno", serial },
        { "ro.hardware", "devsim" },
        { "ro.kernel.qemu", "0" },
        { "sys.boot_completed", "1" },
        { "mq.devsim.simulated", "1" },
    };
}

std::string DeviceProfile::banner(const std::vector<std::string> &features) const
{
    std::string f;
    for (const auto &x : features)
        f += (f.empty() ? "" : ",") + x;
    return "device:" + bannerSafe(serial) + ":ro.product.name=" + bannerSafe(product)
        + ";ro.product.model=" + bannerSafe(model) + ";ro.product.device=" + bannerSafe(device) + ";features=" + f;
}

Options parseOptions(const std::vector<std::string> &args)
{
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&]() -> const std::string & {
            if (i + 1 >= args.size())
                throw Error(a + " needs a value (see mq-devsim --help)");
            return args[++i];
        };
        if (a == "--help" || a == "-h")
            o.help = true;
        else if (a == "--version")
            o.version = true;
        else if (a == "--port")
            o.port = static_cast<int>(parseNumber(a, value(), 0, 65535));
        else if (a == "--sandbox")
            o.sandbox = value();
        else if (a == "--serial")
            o.profile.serial = value();
        else if (a == "--model")
            o.profile.model = value();
        else if (a == "--manufacturer")
            o.profile.manufacturer = value();
        else if (a == "--soc")
            o.profile.socModel = value();
        else if (a == "--sdk")
            o.profile.sdk = static_cast<int>(parseNumber(a, value(), 1, 100));
        else if (a == "--abi") {
            o.profile.abi = value();
            static const char *known[] = { "x86_64", "arm64-v8a", "armeabi-v7a", "x86" };
            if (std::find(std::begin(known), std::end(known), o.profile.abi) == std::end(known))
                throw Error("--abi " + o.profile.abi + ": expected one of x86_64, arm64-v8a, armeabi-v7a, x86");
        } else if (a == "--unauthorized")
            o.unauthorized = true;
        else if (a == "--drop-after")
            o.dropAfterSeconds = parseNumber(a, value(), 0.01, 1e6);
        else if (a == "--slow-link")
            o.slowLinkKBps = parseNumber(a, value(), 0.1, 1e7);
        else if (a == "--charging")
            o.power.charging = true;
        else if (a == "--odpm")
            o.power.odpm = true;
        else if (a == "--battery-capacity-mah")
            o.power.capacityMah = parseNumber(a, value(), 100, 100000);
        else if (a == "--battery-percent")
            o.power.startPercent = parseNumber(a, value(), 0, 100);
        else if (a == "--idle-watts")
            o.power.idleWatts = parseNumber(a, value(), 0, 50);
        else if (a == "--watts-per-core")
            o.power.wattsPerCore = parseNumber(a, value(), 0, 50);
        else if (a == "--ambient-c")
            o.power.ambientC = parseNumber(a, value(), -40, 80);
        else if (a == "--current-sign") {
            const std::string v = value();
            if (v == "negative")
                o.power.dischargeSign = -1;
            else if (v == "positive")
                o.power.dischargeSign = 1;
            else
                throw Error(
                    "--current-sign expects 'negative' or 'positive' (the sign of current_now while discharging), got '"
                    + v + "'");
        } else if (a == "--current-unit") {
            const std::string v = value();
            if (v == "uA")
                o.power.currentUnit = CurrentUnit::MicroAmps;
            else if (v == "mA")
                o.power.currentUnit = CurrentUnit::MilliAmps;
            else
                throw Error("--current-unit expects 'uA' or 'mA', got '" + v + "'");
        } else if (a == "--update-ms")
            o.updateSeconds = parseNumber(a, value(), 5, 10000) / 1000.0;
        else if (a == "--verbose" || a == "-v")
            o.verbose = true;
        else
            throw Error("unknown option '" + a + "' (see mq-devsim --help)");
    }
    if (!o.help && !o.version && o.sandbox.empty())
        throw Error("--sandbox DIR is required: the folder that stands for the phone's file system");
    return o;
}

std::string usageText()
{
    return R"USAGE(mq-devsim: a virtual Android phone (simulated) that the real adb talks to.

Usage: mq-devsim --sandbox DIR [--port P] [options]

Listens on 127.0.0.1:P (P=0 or omitted: a free port) and prints "listening on 127.0.0.1:PORT" on
stdout. Connect with: adb connect 127.0.0.1:PORT. DIR stands for the phone's file system
(/data/local/tmp, /sdcard, /sys/class/power_supply/battery, /sys/class/thermal/thermal_zone0,
/proc/cpuinfo); pushed programs run on this host with DIR mapped in (docs/devsim.md).

Device:
  --serial NAME            ro.serialno and the banner's serial (default MQSIM0001)
  --model M                ro.product.model (default "MQ Virtual Phone (simulated)")
  --manufacturer M, --soc M
  --sdk N                  API level (default 34 = Android 14)
  --abi ABI                ro.product.cpu.abi (default x86_64). Pushed programs always run on
                           this x86_64 host; another ABI only tests how a client picks binaries

Battery and thermal zone (ALL FIGURES ARE SIMULATED, from a power model driven by the CPU time
of the processes the daemon runs: P = idle + k * CPU-seconds per second):
  --idle-watts W           P_idle (default 0.55)
  --watts-per-core W       k (default 1.60)
  --battery-capacity-mah C (default 4500)
  --battery-percent P      charge at start (default 80)
  --ambient-c T            ambient temperature (default 25)
  --current-sign negative|positive   sign of current_now while discharging (default negative)
  --current-unit uA|mA     unit of current_now/current_avg (default uA)
  --charging               status Charging, current of the other sign
  --update-ms MS           sampling and sysfs rewrite period (default 50)
  --odpm                   also offer ODPM power rails (as Pixel 6+ phones): `dumpsys
                           android.hardware.power.stats.IPowerStats/default` prints per-rail
                           cumulative energy (CPU big/mid/little, DDR, display, modem) that sums
                           to the same simulated P

Misbehaviour:
  --unauthorized           never accept the host's key: adb shows "unauthorized"
  --drop-after S           close every connection S seconds after it was established
  --slow-link KBPS         throttle each direction to KBPS kilobytes (1000 B) per second

  --verbose                log connections, services and packets' summaries to stderr
  --version                print the version
  --help
)USAGE";
}

} // namespace mq::devsim
