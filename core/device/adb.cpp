#include "core/device/adb.h"

#include "core/util/error.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

namespace mq::device {

namespace {

std::string trim(const std::string &s)
{
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
        return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        out.push_back(line);
    }
    return out;
}

// A marker the device prints after the command with its exit status: adb's shell v2 client
// returns 0 when the connection drops before the exit packet, so only the marker proves the
// command really finished.
constexpr const char *kExitMarker = "__MQ_EXIT__:";

} // namespace

std::vector<AdbListEntry> parseDevicesList(const std::string &text)
{
    std::vector<AdbListEntry> out;
    for (const std::string &raw : lines(text)) {
        const std::string line = trim(raw);
        if (line.empty() || line.rfind("List of devices", 0) == 0 || line[0] == '*' || line.rfind("adb", 0) == 0)
            continue;
        // serial, then blanks (a tab without -l, spaces with -l), then the state, which can be two
        // words ("no permissions (user in plugdev group; ...)"), then key:value qualifiers.
        const auto sp = line.find_first_of(" \t");
        if (sp == std::string::npos)
            continue;
        AdbListEntry e;
        e.serial = line.substr(0, sp);
        std::string rest = trim(line.substr(sp));
        if (rest.rfind("no permissions", 0) == 0) {
            e.state = "no permissions";
            rest = trim(rest.substr(14));
            if (!rest.empty() && rest[0] == '(') {
                // The hint runs to the matching ')' (it may contain spaces and ';').
                int depth = 0;
                size_t i = 0;
                for (; i < rest.size(); ++i) {
                    depth += rest[i] == '(' ? 1 : rest[i] == ')' ? -1 : 0;
                    if (depth == 0)
                        break;
                }
                e.detail = rest.substr(1, i > 0 ? i - 1 : 0);
                rest = i < rest.size() ? trim(rest.substr(i + 1)) : std::string();
            }
        } else {
            const auto sp2 = rest.find_first_of(" \t");
            e.state = rest.substr(0, sp2);
            rest = sp2 == std::string::npos ? std::string() : trim(rest.substr(sp2));
        }
        std::istringstream words(rest);
        std::string w;
        while (words >> w) {
            const auto colon = w.find(':');
            if (colon != std::string::npos && colon > 0)
                e.qualifiers[w.substr(0, colon)] = w.substr(colon + 1);
            else if (!w.empty() && e.state == "no permissions")
                e.detail += (e.detail.empty() ? "" : " ") + w;
        }
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const AdbListEntry &a, const AdbListEntry &b) { return a.serial < b.serial; });
    return out;
}

std::map<std::string, std::string> parseGetprop(const std::string &text)
{
    std::map<std::string, std::string> props;
    // "[key]: [value]"; a value with newlines continues on the next lines until one ends in ']'.
    std::string pendingKey, pendingValue;
    bool inValue = false;
    for (const std::string &line : lines(text)) {
        if (inValue) {
            if (!line.empty() && line.back() == ']') {
                props[pendingKey] = pendingValue + "\n" + line.substr(0, line.size() - 1);
                inValue = false;
            } else {
                pendingValue += "\n" + line;
            }
            continue;
        }
        if (line.size() < 6 || line[0] != '[')
            continue;
        const auto close = line.find("]: [");
        if (close == std::string::npos)
            continue;
        const std::string key = line.substr(1, close - 1);
        const std::string value = line.substr(close + 4);
        if (!value.empty() && value.back() == ']') {
            props[key] = value.substr(0, value.size() - 1);
        } else {
            pendingKey = key;
            pendingValue = value;
            inValue = true;
        }
    }
    return props;
}

std::string stateAdvice(const std::string &serial, const std::string &state, const std::string &detail)
{
    if (state == "device")
        return {};
    if (state == "unauthorized")
        return "device " + serial
            + " is unauthorized: unlock the phone and accept the \"Allow USB debugging?\" prompt on it (tick \"Always "
              "allow from this computer\"); if no prompt appears, revoke USB debugging authorisations in Developer "
              "options and reconnect";
    if (state == "offline")
        return "device " + serial
            + " is offline: adb sees it but cannot talk to it; reconnect the cable (or `adb connect` again over "
              "Wi-Fi) and check that USB debugging is still on";
    if (state == "no permissions")
        return "device " + serial + " cannot be opened (no permissions"
            + (detail.empty() ? std::string() : ": " + detail)
            + "): add a udev rule for the phone's USB vendor id or join the plugdev group, then replug it";
    if (state == "missing")
        return "device " + serial
            + " is not connected: `adb devices` does not list it; check the cable or `adb connect`";
    return "device " + serial + " is in state \"" + state + "\", not ready for commands; reboot it into Android";
}

std::string shellQuote(const std::string &word)
{
    static const std::string safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,:=+@%";
    if (!word.empty() && word.find_first_not_of(safe) == std::string::npos)
        return word;
    std::string out = "'";
    for (char c : word) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string shellJoin(const std::vector<std::string> &words)
{
    std::string out;
    for (const auto &w : words)
        out += (out.empty() ? "" : " ") + shellQuote(w);
    return out;
}

std::optional<int> parsePushPercent(const std::string &text)
{
    static const std::regex re(R"(\[\s*(\d{1,3})%\])");
    std::optional<int> last;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        last = std::stoi((*it)[1].str());
    return last;
}

std::string findAdb(const std::string &explicitPath)
{
    namespace fs = std::filesystem;
    std::vector<std::string> tried;
    auto consider = [&](const std::string &p) {
        tried.push_back(p);
        return isExecutable(p);
    };
    if (!explicitPath.empty()) {
        if (consider(explicitPath))
            return explicitPath;
        throw Error("adb was set to " + explicitPath
            + ", which is not an executable file; fix the setting or "
              "clear it to search $ADB, PATH and $ANDROID_HOME");
    }
    if (const char *env = std::getenv("ADB"); env && *env && consider(env))
        return env;
    if (const char *path = std::getenv("PATH")) {
        std::istringstream dirs(path);
        std::string dir;
        while (std::getline(dirs, dir, ':'))
            if (!dir.empty() && consider((fs::path(dir) / "adb").string()))
                return (fs::path(dir) / "adb").string();
    }
    for (const char *var : { "ANDROID_HOME", "ANDROID_SDK_ROOT" })
        if (const char *home = std::getenv(var); home && *home)
            if (const std::string p = (fs::path(home) / "platform-tools" / "adb").string(); consider(p))
                return p;
    std::string list;
    for (size_t i = 0; i < tried.size() && i < 8; ++i)
        list += (i ? ", " : "") + tried[i];
    throw Error("adb not found (tried $ADB, PATH, $ANDROID_HOME/platform-tools" + (list.empty() ? "" : ": " + list)
        + "); install it (Debian: apt install adb) or set $ADB / the adb path setting");
}

bool looksLikeDeviceLost(const std::string &text)
{
    for (const char *s : { "device offline", "not found", "error: closed", "no devices/emulators found",
             "device still connecting", "protocol fault", "connection reset", "Connection reset", "failed to connect" })
        if (text.find(s) != std::string::npos)
            return true;
    return false;
}

AdbClient::AdbClient(std::string adbPath, std::map<std::string, std::string> env)
    : m_adb(std::move(adbPath))
    , m_env(std::move(env))
{
}

ProcessResult AdbClient::run(const std::vector<std::string> &args, ProcessOptions options) const
{
    std::vector<std::string> argv { m_adb };
    argv.insert(argv.end(), args.begin(), args.end());
    for (const auto &[k, v] : m_env)
        options.env.emplace(k, v);
    ProcessResult r = runProcess(argv, options);
    if (!r.started)
        throw Error(r.err + "; set the adb path (--adb, $ADB or the setting)");
    return r;
}

void AdbClient::startServer() const
{
    const ProcessResult r = run({ "start-server" }, withTimeout(30));
    if (r.exitCode != 0)
        throw Error("adb start-server failed: " + trim(r.err + r.out));
}

void AdbClient::connect(const std::string &address) const
{
    const ProcessResult r = run({ "connect", address }, withTimeout(20));
    const std::string text = trim(r.out + "\n" + r.err);
    if (text.find("connected to") != std::string::npos && text.find("failed") == std::string::npos
        && text.find("cannot") == std::string::npos)
        return;
    if (text.find("authenticate") != std::string::npos)
        throw Error("adb connect " + address + ": " + text + "; " + stateAdvice(address, "unauthorized"));
    throw Error("adb connect " + address + " failed: " + text
        + "; check the address and that the phone listens (adb tcpip 5555, or the virtual phone is running)");
}

void AdbClient::disconnect(const std::string &address) const
{
    run({ "disconnect", address }, withTimeout(10));
}

std::vector<AdbListEntry> AdbClient::devices() const
{
    const ProcessResult r = run({ "devices", "-l" }, withTimeout(30));
    if (r.exitCode != 0)
        throw Error("adb devices failed: " + trim(r.err + r.out));
    return parseDevicesList(r.out);
}

std::vector<DeviceInfo> AdbClient::listDevices() const
{
    std::vector<DeviceInfo> out;
    for (const AdbListEntry &e : devices()) {
        DeviceInfo d;
        d.serial = e.serial;
        d.state = e.state;
        auto model = e.qualifiers.find("model");
        if (model != e.qualifiers.end())
            d.model = model->second;
        for (const auto &[k, v] : e.qualifiers)
            d.facts["adb." + k] = v;
        if (!e.detail.empty())
            d.facts["adb.detail"] = e.detail;
        if (e.state == "device") {
            try {
                d.facts.merge(deviceFacts(e.serial));
                if (auto it = d.facts.find("model"); it != d.facts.end() && !it->second.empty())
                    d.model = it->second;
                if (auto it = d.facts.find("abi"); it != d.facts.end())
                    d.abi = it->second;
            } catch (const std::exception &ex) {
                d.facts["error"] = ex.what();
            }
        } else {
            d.facts["advice"] = stateAdvice(e.serial, e.state, e.detail);
        }
        out.push_back(std::move(d));
    }
    return out;
}

void AdbClient::requireReady(const std::string &serial) const
{
    for (const AdbListEntry &e : devices())
        if (e.serial == serial) {
            if (e.state == "device")
                return;
            throw Error(stateAdvice(serial, e.state, e.detail));
        }
    throw Error(stateAdvice(serial, "missing"));
}

void AdbClient::throwFailure(const std::string &serial, const std::string &what, const ProcessResult &r) const
{
    const std::string text = trim(r.err + "\n" + r.out);
    if (text.find("unauthorized") != std::string::npos)
        throw Error(stateAdvice(serial, "unauthorized"));
    if (looksLikeDeviceLost(text))
        throw DeviceLostError("lost the connection to device " + serial + " during " + what + " (adb: " + text + ")");
    throw Error(what + " on device " + serial + " failed (exit " + std::to_string(r.exitCode) + "): " + text);
}

ProcessResult AdbClient::shell(const std::string &serial, const std::string &command, ProcessOptions options) const
{
    // The marker is printed on a line of its own after the command, with its status.
    const std::string wrapped = command + "\necho \"" + kExitMarker + "$?\"";
    ProcessResult r = run({ "-s", serial, "shell", wrapped }, options);
    if (r.cancelled || r.timedOut)
        return r;
    const auto pos = r.out.rfind(kExitMarker);
    if (pos == std::string::npos) {
        const std::string text = trim(r.err + "\n" + r.out);
        if (text.find("unauthorized") != std::string::npos)
            throw Error(stateAdvice(serial, "unauthorized"));
        if (text.find("not found") != std::string::npos && text.find("device") != std::string::npos)
            throw Error(stateAdvice(serial, "missing"));
        throw DeviceLostError("lost the connection to device " + serial + " while it ran `" + command.substr(0, 80)
            + (command.size() > 80 ? "…" : "") + "`" + (text.empty() ? std::string() : " (adb: " + text + ")"));
    }
    r.exitCode = std::atoi(r.out.c_str() + pos + std::string(kExitMarker).size());
    r.out.erase(pos);
    return r;
}

std::string AdbClient::shellChecked(const std::string &serial, const std::string &command, double timeoutSeconds) const
{
    ProcessResult r = shell(serial, command, withTimeout(timeoutSeconds));
    if (r.timedOut)
        throw DeviceLostError("device " + serial + " did not answer `" + command.substr(0, 80) + "` within "
            + std::to_string(int(timeoutSeconds)) + " s");
    if (r.exitCode != 0)
        throw Error("`" + command.substr(0, 120) + "` on device " + serial + " failed (exit "
            + std::to_string(r.exitCode) + "): " + trim(r.err + r.out));
    return r.out;
}

void AdbClient::push(const std::string &serial, const std::string &local, const std::string &remote,
    const std::function<void(int)> &progress, const std::atomic<bool> *cancel) const
{
    ProcessOptions o;
    o.pty = true; // adb prints "[ NN%] path" progress only on a terminal
    o.env["TERM"] = "xterm";
    o.cancel = cancel;
    int last = -1;
    std::string tail;
    o.onOutput = [&](const std::string &chunk) {
        tail += chunk;
        if (tail.size() > 4096)
            tail.erase(0, tail.size() - 256);
        if (auto p = parsePushPercent(tail); p && *p != last) {
            last = *p;
            if (progress)
                progress(*p);
        }
    };
    const ProcessResult r = run({ "-s", serial, "push", local, remote }, o);
    if (r.cancelled)
        throw Error("push of " + local + " to " + serial + " cancelled");
    if (r.exitCode != 0 || r.out.find("1 file pushed") == std::string::npos) {
        ProcessResult shown = r;
        // Keep adb's message, not the progress lines.
        shown.out = std::regex_replace(r.out, std::regex(R"(\r?\[\s*\d+%\][^\r\n]*)"), "");
        throwFailure(serial, "adb push " + local + " " + remote, shown);
    }
    if (progress && last != 100)
        progress(100);
}

void AdbClient::pull(const std::string &serial, const std::string &remote, const std::string &local) const
{
    const ProcessResult r = run({ "-s", serial, "pull", remote, local }, withTimeout(600));
    if (r.exitCode != 0)
        throwFailure(serial, "adb pull " + remote, r);
}

std::map<std::string, std::string> AdbClient::properties(const std::string &serial) const
{
    return parseGetprop(shellChecked(serial, "getprop", 30));
}

std::map<std::string, std::string> AdbClient::deviceFacts(const std::string &serial) const
{
    const auto props = properties(serial);
    auto prop = [&](const std::string &k) {
        auto it = props.find(k);
        return it == props.end() ? std::string() : it->second;
    };
    std::map<std::string, std::string> f;
    f["model"] = prop("ro.product.model");
    f["manufacturer"] = prop("ro.product.manufacturer");
    std::string abi = prop("ro.product.cpu.abi");
    if (abi.empty())
        abi = prop("ro.product.cpu.abilist").substr(0, prop("ro.product.cpu.abilist").find(','));
    f["abi"] = abi;
    f["android"] = prop("ro.build.version.release");
    f["sdk"] = prop("ro.build.version.sdk");
    f["soc"] = !prop("ro.soc.model").empty() ? prop("ro.soc.model") : prop("ro.board.platform");
    f["fingerprint"] = prop("ro.build.fingerprint");
    if (!prop("mq.devsim.simulated").empty())
        f["simulated"] = "yes";
    // One shell round trip for battery and thermal: "key=value" lines, missing files skipped.
    const std::string script
        = "b=/sys/class/power_supply/battery; for k in capacity status current_now voltage_now temp; do "
          "[ -r $b/$k ] && echo battery.$k=$(cat $b/$k); done; for z in /sys/class/thermal/thermal_zone*; do "
          "[ -r $z/temp ] && echo thermal.${z##*/}=$(cat $z/type 2>/dev/null):$(cat $z/temp); done; true";
    const ProcessResult r = shell(serial, script, withTimeout(30));
    for (const std::string &line : lines(r.out)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos && eq > 0)
            f[line.substr(0, eq)] = trim(line.substr(eq + 1));
    }
    if (auto it = f.find("battery.status"); it != f.end())
        f["charging"] = (it->second == "Charging" || it->second == "Full") ? "yes" : "no";
    return f;
}

} // namespace mq::device
