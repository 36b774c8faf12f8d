#pragma once

#include <map>
#include <string>
#include <vector>

namespace mq::cli {

// A command's options as `--name value` / `--flag`, plus positional arguments. Each command
// declares its options so that --help is generated from the same table that parses.
struct OptionSpec
{
    std::string name; // without the leading dashes
    std::string valueName; // empty for a flag
    std::string help;
    std::string defaultValue;
};

class Args
{
public:
    // Throws mq::Error for an unknown option or a missing value.
    Args(const std::vector<std::string> &argv, const std::vector<OptionSpec> &specs);

    bool flag(const std::string &name) const;
    bool has(const std::string &name) const;
    std::string str(const std::string &name) const; // the value, else the declared default
    int integer(const std::string &name) const;     // throws naming the option if not an integer
    double real(const std::string &name) const;
    const std::vector<std::string> &positional() const { return m_positional; }

private:
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::string> m_defaults;
    std::vector<std::string> m_positional;
};

std::string helpText(const std::string &usage, const std::string &summary, const std::vector<OptionSpec> &specs);

} // namespace mq::cli
