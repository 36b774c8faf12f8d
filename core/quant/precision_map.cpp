#include "core/quant/precision_map.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace mq {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char *kFormat = "mq-precision-map";
constexpr int kVersion = 1;

// 16-bit activation sites of §1.3: the residual stream (norm inputs, o/down outputs) and the
// softmax input/output.
bool isSixteenBitActivation(ActSite s)
{
    switch (s) {
    case ActSite::AttnNormIn:
    case ActSite::QkOut:
    case ActSite::PvIn:
    case ActSite::OOut:
    case ActSite::MlpNormIn:
    case ActSite::DownOut:
        return true;
    default:
        return false;
    }
}

bool isNormWeight(WeightSite s)
{
    return s == WeightSite::AttnNorm || s == WeightSite::MlpNorm;
}

[[noreturn]] void fail(const std::string &source, const std::string &what)
{
    throw Error(source + ": " + what);
}

std::string listOf(const std::vector<std::string> &names)
{
    std::string out;
    for (const auto &n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::vector<std::string> actKindNames()
{
    std::vector<std::string> v;
    for (int i = 0; i < kActSiteCount; ++i)
        v.push_back(actSiteName(ActSite(i)));
    return v;
}

std::vector<std::string> weightKindNames()
{
    std::vector<std::string> v;
    for (int i = 0; i < kWeightSiteCount; ++i)
        v.push_back(weightSiteName(WeightSite(i)));
    return v;
}

bool readBool(const Json &j, const std::string &key, const std::string &where, const std::string &source)
{
    if (!j.is_boolean())
        fail(source, where + ": \"" + key + "\" must be true or false");
    return j.get<bool>();
}

// {"bits": 8, "symmetric": false, "per_channel": false, "enabled": true}, any subset.
QuantSpecPatch readPatch(const Json &j, const std::string &where, const std::string &source, bool allowSiteKey)
{
    if (!j.is_object())
        fail(source, where + " must be an object such as {\"bits\": 8}");
    QuantSpecPatch p;
    std::optional<bool> enabled;
    for (const auto &[key, value] : j.items()) {
        if (key == "bits") {
            if (!value.is_number_integer())
                fail(source, where + ": \"bits\" must be an integer");
            const int bits = value.get<int>();
            if (bits < kMinQuantBits)
                fail(source,
                    where + ": " + std::to_string(bits)
                        + " bits is not supported (use 2–16, or more than 16 "
                          "or \"enabled\": false to leave the site in float)");
            p.bits = bits > kMaxQuantBits ? kDisabledBits : bits;
        } else if (key == "symmetric") {
            p.symmetric = readBool(value, key, where, source);
        } else if (key == "per_channel") {
            p.perChannel = readBool(value, key, where, source);
        } else if (key == "enabled") {
            enabled = readBool(value, key, where, source);
        } else if (!(allowSiteKey && key == "site")) {
            fail(source,
                where + ": unknown key \"" + key + "\" (known: bits, symmetric, per_channel, enabled"
                    + (allowSiteKey ? ", site" : "") + ")");
        }
    }
    if (enabled && !*enabled)
        p.bits = kDisabledBits;
    else if (enabled && *enabled && p.bits && *p.bits > kMaxQuantBits)
        fail(source, where + ": \"enabled\": true contradicts more than 16 bits");
    return p;
}

Json specJson(const QuantSpec &s)
{
    if (!s.quantized())
        return Json { { "enabled", false }, { "symmetric", s.symmetric }, { "per_channel", s.perChannel } };
    return Json { { "bits", s.bits }, { "symmetric", s.symmetric }, { "per_channel", s.perChannel } };
}

Json patchJson(const std::string &pattern, const QuantSpecPatch &p)
{
    Json j { { "site", pattern } };
    if (p.bits && *p.bits > kMaxQuantBits) {
        j["enabled"] = false;
    } else if (p.bits) {
        j["bits"] = *p.bits;
    }
    if (p.symmetric)
        j["symmetric"] = *p.symmetric;
    if (p.perChannel)
        j["per_channel"] = *p.perChannel;
    return j;
}

// A pattern must name at least one quantizable site: exact names are parsed, globs are tried
// against the sites of a 100-layer SiLU model (enough for every layer number a user types).
void checkPattern(const std::string &pattern, const std::string &where, const std::string &source)
{
    if (pattern.find('*') == std::string::npos) {
        const auto parsed = parseSiteName(pattern);
        if (!parsed)
            fail(source,
                where + ": \"" + pattern
                    + "\" is not a site name (e.g. layers.3.mlp.down.in; docs/sites.md "
                      "lists them)");
        if (parsed->model)
            fail(source, where + ": \"" + pattern + "\" is never quantized (the final norm and LM head stay in float)");
        return;
    }
    static const std::vector<std::string> names = allSiteNames(100, true);
    for (const auto &n : names)
        if (globMatch(pattern, n))
            return;
    fail(source, where + ": \"" + pattern + "\" matches no site (e.g. layers.*.attn.qk.out; docs/sites.md lists them)");
}

} // namespace

const char *weightPresetName(WeightPreset p)
{
    switch (p) {
    case WeightPreset::W8A8:
        return "W8A8";
    case WeightPreset::W4A8:
        return "W4A8";
    case WeightPreset::W4A8Sym:
        return "W4A8-sym";
    }
    return "?";
}

std::optional<WeightPreset> parseWeightPreset(const std::string &name)
{
    for (WeightPreset p : { WeightPreset::W8A8, WeightPreset::W4A8, WeightPreset::W4A8Sym })
        if (name == weightPresetName(p))
            return p;
    return std::nullopt;
}

QuantSpec QuantSpecPatch::applyTo(QuantSpec spec) const
{
    if (bits)
        spec.bits = *bits;
    if (symmetric)
        spec.symmetric = *symmetric;
    if (perChannel)
        spec.perChannel = *perChannel;
    return spec;
}

bool globMatch(const std::string &pattern, const std::string &name)
{
    // Iterative wildcard match with backtracking to the last '*'.
    size_t p = 0, n = 0, star = std::string::npos, mark = 0;
    while (n < name.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = n;
        } else if (p < pattern.size() && pattern[p] == name[n]) {
            ++p;
            ++n;
        } else if (star != std::string::npos) {
            p = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

PrecisionMap::PrecisionMap(WeightPreset preset)
    : m_preset(preset)
{
    for (int i = 0; i < kActSiteCount; ++i)
        m_act[size_t(i)] = QuantSpec { isSixteenBitActivation(ActSite(i)) ? 16 : 8, false, false };
    for (int i = 0; i < kWeightSiteCount; ++i) {
        const WeightSite s = WeightSite(i);
        QuantSpec &w = m_weight[size_t(i)];
        if (isNormWeight(s)) {
            w = QuantSpec { 16, false, false };
            continue;
        }
        switch (preset) {
        case WeightPreset::W8A8:
            w = QuantSpec { 8, false, s == WeightSite::Down };
            break;
        case WeightPreset::W4A8:
            w = QuantSpec { 4, false, true };
            break;
        case WeightPreset::W4A8Sym:
            w = QuantSpec { 4, true, true };
            break;
        }
    }
}

QuantSpec PrecisionMap::apply(const std::string &name, QuantSpec spec) const
{
    for (const auto &o : m_overrides)
        if (o.pattern == name || globMatch(o.pattern, name))
            spec = o.patch.applyTo(spec);
    return spec;
}

QuantSpec PrecisionMap::activation(int layer, ActSite s) const
{
    return m_overrides.empty() ? actDefault(s) : apply(actSiteName(layer, s), actDefault(s));
}

QuantSpec PrecisionMap::weight(int layer, WeightSite s) const
{
    return m_overrides.empty() ? weightDefault(s) : apply(weightSiteName(layer, s), weightDefault(s));
}

QuantSpec PrecisionMap::site(const std::string &name) const
{
    const auto parsed = parseSiteName(name);
    if (!parsed)
        throw Error("\"" + name + "\" is not a site name (docs/sites.md lists them)");
    if (parsed->act)
        return activation(parsed->layer, *parsed->act);
    if (parsed->weight)
        return weight(parsed->layer, *parsed->weight);
    return QuantSpec { kDisabledBits, false, false };
}

PrecisionMap PrecisionMap::fromJson(const std::string &text, const std::string &source)
{
    Json j;
    try {
        j = Json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        fail(source, std::string("not valid JSON (") + e.what() + ")");
    }
    if (!j.is_object())
        fail(source, "expected a JSON object");
    if (j.contains("format") && j["format"] != kFormat)
        fail(source, std::string("\"format\" must be \"") + kFormat + "\"");
    if (j.contains("version") && (!j["version"].is_number_integer() || j["version"].get<int>() != kVersion))
        fail(source, "unsupported \"version\" (this build reads version " + std::to_string(kVersion) + ")");

    WeightPreset preset = WeightPreset::W4A8Sym;
    if (j.contains("preset")) {
        const auto p = j["preset"].is_string() ? parseWeightPreset(j["preset"].get<std::string>()) : std::nullopt;
        if (!p)
            fail(source, "\"preset\" must be one of W8A8, W4A8, W4A8-sym; got " + j["preset"].dump());
        preset = *p;
    }
    PrecisionMap map(preset);

    for (const auto &[key, value] : j.items()) {
        if (key == "format" || key == "version" || key == "preset")
            continue;
        if (key == "activations" || key == "weights") {
            if (!value.is_object())
                fail(source, "\"" + key + "\" must be an object keyed by site kind");
            const bool act = key == "activations";
            const auto kinds = act ? actKindNames() : weightKindNames();
            for (const auto &[kind, spec] : value.items()) {
                int index = -1;
                for (size_t i = 0; i < kinds.size(); ++i)
                    if (kinds[i] == kind)
                        index = int(i);
                if (index < 0)
                    fail(source, key + ": unknown site kind \"" + kind + "\" (known: " + listOf(kinds) + ")");
                const QuantSpecPatch patch = readPatch(spec, key + "." + kind, source, false);
                QuantSpec &target = act ? map.m_act[size_t(index)] : map.m_weight[size_t(index)];
                target = patch.applyTo(target);
            }
        } else if (key == "overrides") {
            if (!value.is_array())
                fail(source, "\"overrides\" must be an array of {\"site\": ..., \"bits\": ...}");
            for (size_t i = 0; i < value.size(); ++i) {
                const std::string where = "overrides[" + std::to_string(i) + "]";
                const Json &o = value[i];
                if (!o.is_object() || !o.contains("site") || !o["site"].is_string())
                    fail(source, where + " needs a \"site\" string (a site name or a glob with *)");
                const std::string pattern = o["site"].get<std::string>();
                checkPattern(pattern, where, source);
                map.m_overrides.push_back({ pattern, readPatch(o, where, source, true) });
            }
        } else {
            fail(source,
                "unknown key \"" + key + "\" (known: format, version, preset, activations, weights, overrides)");
        }
    }
    return map;
}

std::string PrecisionMap::toJson() const
{
    Json j { { "format", kFormat }, { "version", kVersion }, { "preset", weightPresetName(m_preset) } };
    Json act = Json::object(), weights = Json::object(), overrides = Json::array();
    for (int i = 0; i < kActSiteCount; ++i)
        act[actSiteName(ActSite(i))] = specJson(m_act[size_t(i)]);
    for (int i = 0; i < kWeightSiteCount; ++i)
        weights[weightSiteName(WeightSite(i))] = specJson(m_weight[size_t(i)]);
    for (const auto &o : m_overrides)
        overrides.push_back(patchJson(o.pattern, o.patch));
    j["activations"] = act;
    j["weights"] = weights;
    j["overrides"] = overrides;
    return j.dump(2) + "\n";
}

PrecisionMap PrecisionMap::load(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        failFile(path, "cannot open the precision map");
    std::ostringstream text;
    text << in.rdbuf();
    return fromJson(text.str(), path);
}

void PrecisionMap::save(const std::string &path) const
{
    std::ofstream out(path);
    out << toJson();
    if (!out)
        failFile(path, "cannot write the precision map");
}

bool PrecisionMap::operator==(const PrecisionMap &o) const
{
    if (m_preset != o.m_preset || m_act != o.m_act || m_weight != o.m_weight
        || m_overrides.size() != o.m_overrides.size())
        return false;
    for (size_t i = 0; i < m_overrides.size(); ++i) {
        const auto &a = m_overrides[i], &b = o.m_overrides[i];
        if (a.pattern != b.pattern || a.patch.bits != b.patch.bits || a.patch.symmetric != b.patch.symmetric
            || a.patch.perChannel != b.patch.perChannel)
            return false;
    }
    return true;
}

} // namespace mq
