#pragma once

// Reads the options a program's --help prints and the options a hand-written troff man page
// documents, so that tests can hold the two together.

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mq::test {

// Long options ("--name") in a piece of text.
inline std::set<std::string> longOptions(const std::string &text)
{
    static const std::regex option(R"((^|[^A-Za-z0-9_-])(--[A-Za-z0-9][A-Za-z0-9-]*))");
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), option); it != std::sregex_iterator(); ++it)
        out.insert((*it)[2].str());
    return out;
}

// The options a --help text offers: on its usage lines, and in the left column of its option
// lines (an indented line that starts with '-'; the column ends at the first run of two spaces).
// Options named only in running text ("with --power-files a side thread ...") do not count.
inline std::set<std::string> helpOptions(const std::string &help)
{
    std::set<std::string> out;
    std::istringstream in(help);
    bool inUsage = false;
    for (std::string line; std::getline(in, line);) {
        const size_t start = line.find_first_not_of(' ');
        if (start == std::string::npos) {
            inUsage = false;
            continue;
        }
        const std::string body = line.substr(start);
        if (body.rfind("usage:", 0) == 0 || body.rfind("Usage:", 0) == 0)
            inUsage = true;
        if (inUsage) {
            for (const std::string &o : longOptions(body))
                out.insert(o);
            continue;
        }
        if (start > 0 && body[0] == '-') {
            const size_t gap = body.find("  ");
            for (const std::string &o : longOptions(body.substr(0, gap)))
                out.insert(o);
        }
    }
    return out;
}

// The commands a top-level --help lists under "commands:" (one per line, the first word).
inline std::vector<std::string> helpCommands(const std::string &help)
{
    std::vector<std::string> out;
    std::istringstream in(help);
    bool inCommands = false;
    for (std::string line; std::getline(in, line);) {
        if (line == "commands:") {
            inCommands = true;
            continue;
        }
        if (!inCommands)
            continue;
        if (line.empty() || line[0] != ' ')
            break;
        std::istringstream words(line);
        std::string word;
        words >> word;
        if (!word.empty() && word[0] != '-')
            out.push_back(word);
    }
    return out;
}

// A man page as a reader sees its words: troff escapes for dashes and fonts removed.
struct ManPage
{
    struct Part
    {
        std::string text; // every line of the part, escapes removed
        std::set<std::string> mentioned; // every --option anywhere in it
        std::set<std::string> listed; // the --options of its .TP item tags
    };
    bool found = false;
    Part whole;
    std::map<std::string, Part> sections; // .SH NAME -> its lines, subsections included
    std::map<std::string, Part> subsections; // .SS NAME (first word) -> its lines
};

inline std::string plainTroff(const std::string &line)
{
    std::string s;
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] != '\\' || i + 1 >= line.size()) {
            s += line[i];
            continue;
        }
        const char c = line[i + 1];
        if (c == '-' || c == '\\' || c == '.' || c == ' ') {
            s += c;
            ++i;
        } else if (c == 'e') {
            s += '\\';
            ++i;
        } else if (c == 'f' && i + 2 < line.size()) {
            i += 2; // \fB, \fI, \fR, \fP
        } else if (c == '(' && i + 3 < line.size()) {
            s += ' ';
            i += 3; // \(mu, \(en, ...
        } else {
            s += c;
            ++i;
        }
    }
    return s;
}

inline ManPage readManPage(const std::string &path)
{
    ManPage page;
    std::ifstream in(path);
    if (!in)
        return page;
    page.found = true;
    auto add = [](ManPage::Part &part, const std::string &plain, bool tag) {
        part.text += plain + "\n";
        for (const std::string &o : longOptions(plain)) {
            part.mentioned.insert(o);
            if (tag)
                part.listed.insert(o);
        }
    };
    auto firstWord = [](std::string rest) {
        rest.erase(0, rest.find_first_not_of(" \""));
        return rest.substr(0, rest.find_first_of(" \""));
    };
    std::string section, subsection;
    bool nextIsTag = false;
    for (std::string raw; std::getline(in, raw);) {
        if (raw.rfind(".\\\"", 0) == 0)
            continue; // a comment
        const std::string plain = plainTroff(raw);
        if (raw.rfind(".SH", 0) == 0) {
            std::string name = raw.substr(3);
            name.erase(0, name.find_first_not_of(" \""));
            name = name.substr(0, name.find_last_not_of(" \"") + 1);
            section = name;
            subsection.clear();
            continue;
        }
        if (raw.rfind(".SS", 0) == 0) {
            subsection = firstWord(raw.substr(3));
            continue;
        }
        if (raw.rfind(".TP", 0) == 0) {
            nextIsTag = true;
            continue;
        }
        const bool tag = nextIsTag;
        nextIsTag = false;
        add(page.whole, plain, tag);
        if (!section.empty())
            add(page.sections[section], plain, tag);
        if (!subsection.empty())
            add(page.subsections[subsection], plain, tag);
    }
    return page;
}

} // namespace mq::test
