#include "app/cli/args.h"

#include "core/util/error.h"

#include <cstdlib>

namespace mq::cli {

Args::Args(const std::vector<std::string> &argv, const std::vector<OptionSpec> &specs)
{
    std::map<std::string, const OptionSpec *> byName;
    for (const OptionSpec &s : specs) {
        byName[s.name] = &s;
        if (!s.defaultValue.empty())
            m_defaults[s.name] = s.defaultValue;
    }
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string &a = argv[i];
        if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
            std::string name = a.substr(2), value;
            const size_t eq = name.find('=');
            const bool inlineValue = eq != std::string::npos;
            if (inlineValue) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            auto it = byName.find(name);
            if (it == byName.end())
                throw Error("unknown option --" + name + " (see --help)");
            if (it->second->valueName.empty()) {
                m_values[name] = "1";
                continue;
            }
            if (!inlineValue) {
                if (i + 1 >= argv.size())
                    throw Error("option --" + name + " needs a value " + it->second->valueName);
                value = argv[++i];
            }
            m_values[name] = value;
        } else {
            m_positional.push_back(a);
        }
    }
}

bool Args::flag(const std::string &name) const { return m_values.count(name) != 0; }
bool Args::has(const std::string &name) const { return m_values.count(name) != 0; }

std::string Args::str(const std::string &name) const
{
    if (auto it = m_values.find(name); it != m_values.end())
        return it->second;
    auto d = m_defaults.find(name);
    return d != m_defaults.end() ? d->second : std::string();
}

int Args::integer(const std::string &name) const
{
    const std::string v = str(name);
    char *end = nullptr;
    const long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0')
        throw Error("--" + name + " expects an integer, got '" + v + "'");
    return int(x);
}

double Args::real(const std::string &name) const
{
    const std::string v = str(name);
    char *end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0')
        throw Error("--" + name + " expects a number, got '" + v + "'");
    return x;
}

std::string helpText(const std::string &usage, const std::string &summary, const std::vector<OptionSpec> &specs)
{
    std::string out = "usage: " + usage + "\n\n" + summary + "\n";
    if (!specs.empty())
        out += "\noptions:\n";
    for (const OptionSpec &s : specs) {
        std::string left = "  --" + s.name + (s.valueName.empty() ? "" : " " + s.valueName);
        if (left.size() < 28)
            left.resize(28, ' ');
        else
            left += "\n" + std::string(28, ' ');
        out += left + s.help;
        if (!s.defaultValue.empty())
            out += (s.help.empty() ? "(default " : " (default ") + s.defaultValue + ")";
        out += "\n";
    }
    return out;
}

} // namespace mq::cli
