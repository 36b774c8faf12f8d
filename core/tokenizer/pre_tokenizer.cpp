#include "core/tokenizer/pre_tokenizer.h"

#include "core/util/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <utility>

namespace mq {

namespace {

struct Span
{
    size_t begin;
    size_t end;
    bool isMatch;
};

size_t utf8Length(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    return 4;
}

void appendUtf8(std::string &out, char32_t c)
{
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

struct ByteLevelTable
{
    std::array<std::string, 256> byteToText;
    // Code points used are 33..323 (256 + 68 - 1).
    std::array<int, 324> codeToByte;

    ByteLevelTable()
    {
        codeToByte.fill(-1);
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t code = printable ? static_cast<char32_t>(b) : next++;
            appendUtf8(byteToText[b], code);
            codeToByte[code] = b;
        }
    }
};

const ByteLevelTable &byteLevelTable()
{
    static const ByteLevelTable table;
    return table;
}

std::string pcre2Message(int code)
{
    PCRE2_UCHAR buffer[256];
    if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0)
        return "PCRE2 error " + std::to_string(code);
    return reinterpret_cast<const char *>(buffer);
}

// The split rules of `tokenizers`' NormalizedString::split, applied to the alternating list of
// gaps and matches that a pattern produces.
std::vector<Span> applyBehavior(const std::vector<Span> &spans, SplitBehavior behavior)
{
    std::vector<Span> out;
    bool previousMatch = false;
    switch (behavior) {
    case SplitBehavior::Removed:
        for (const Span &s : spans)
            if (!s.isMatch)
                out.push_back(s);
        break;
    case SplitBehavior::Isolated:
        out = spans;
        break;
    case SplitBehavior::MergedWithPrevious:
        for (const Span &s : spans) {
            if (s.isMatch && !previousMatch && !out.empty())
                out.back().end = s.end;
            else
                out.push_back(s);
            previousMatch = s.isMatch;
        }
        break;
    case SplitBehavior::MergedWithNext:
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            if (it->isMatch && !previousMatch && !out.empty())
                out.back().begin = it->begin;
            else
                out.push_back(*it);
            previousMatch = it->isMatch;
        }
        std::reverse(out.begin(), out.end());
        break;
    case SplitBehavior::Contiguous:
        for (const Span &s : spans) {
            if (s.isMatch == previousMatch && !out.empty())
                out.back().end = s.end;
            else
                out.push_back(s);
            previousMatch = s.isMatch;
        }
        break;
    }
    return out;
}

} // namespace

SplitBehavior splitBehaviorFromName(const std::string &name)
{
    if (name == "Removed")
        return SplitBehavior::Removed;
    if (name == "Isolated")
        return SplitBehavior::Isolated;
    if (name == "MergedWithPrevious")
        return SplitBehavior::MergedWithPrevious;
    if (name == "MergedWithNext")
        return SplitBehavior::MergedWithNext;
    if (name == "Contiguous")
        return SplitBehavior::Contiguous;
    throw Error("unknown split behavior \"" + name +
                "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                "Contiguous)");
}

struct RegexSplitter::Impl
{
    pcre2_code *code = nullptr;
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;

    ~Impl() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::string &pattern, SplitBehavior behavior, bool invert,
                             bool literal)
    : m_impl(std::make_unique<Impl>())
{
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    // PCRE2 rejects UCP together with LITERAL, and a literal needs no character classes.
    const uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    m_impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 options, &errorCode, &errorOffset, nullptr);
    if (!m_impl->code)
        throw Error("cannot compile the regex \"" + pattern + "\" at offset " +
                    std::to_string(errorOffset) + ": " + pcre2Message(errorCode));
    // JIT only speeds matching up; the interpreter gives the same matches when it is unavailable.
    pcre2_jit_compile(m_impl->code, PCRE2_JIT_COMPLETE);
    m_impl->behavior = behavior;
    m_impl->invert = invert;
}

RegexSplitter::RegexSplitter(RegexSplitter &&) noexcept = default;
RegexSplitter &RegexSplitter::operator=(RegexSplitter &&) noexcept = default;
RegexSplitter::~RegexSplitter() = default;

std::vector<std::string_view> RegexSplitter::split(std::string_view text) const
{
    std::vector<std::string_view> pieces;
    if (text.empty())
        return pieces;
    const size_t bad = invalidUtf8Offset(text);
    if (bad != std::string_view::npos)
        throw Error("the text is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");

    // Match data is per call so concurrent callers do not share it.
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> matchData(
        pcre2_match_data_create_from_pattern(m_impl->code, nullptr), pcre2_match_data_free);
    if (!matchData)
        throw Error("out of memory for regex match data");

    const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::vector<Span> spans;
    size_t previous = 0;
    size_t start = 0;
    while (start <= text.size()) {
        const int rc = pcre2_match(m_impl->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                   matchData.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0)
            throw Error("regex matching failed: " + pcre2Message(rc));
        const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(matchData.get());
        const size_t begin = ovector[0];
        const size_t end = ovector[1];
        if (end < begin || begin < previous)
            throw Error("the regex uses \\K in a way a split cannot follow");
        if (begin != previous)
            spans.push_back({previous, begin, false});
        spans.push_back({begin, end, true});
        previous = end;
        if (end == begin) {
            // An empty match: go on from the next character, as Oniguruma's find_iter does.
            if (begin >= text.size())
                break;
            start = begin + utf8Length(static_cast<unsigned char>(text[begin]));
        } else {
            start = end;
        }
    }
    if (previous != text.size())
        spans.push_back({previous, text.size(), false});

    if (m_impl->invert)
        for (Span &s : spans)
            s.isMatch = !s.isMatch;

    for (const Span &s : applyBehavior(spans, m_impl->behavior))
        if (s.end > s.begin)
            pieces.push_back(text.substr(s.begin, s.end - s.begin));
    return pieces;
}

size_t invalidUtf8Offset(std::string_view text)
{
    // Well-formed sequences per Unicode table 3-7: no overlong forms, no surrogates, <= U+10FFFF.
    const auto *s = reinterpret_cast<const unsigned char *>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t length = 0;
        unsigned char low = 0x80;
        unsigned char high = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0)
                low = 0xA0;
            else if (c == 0xED)
                high = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0)
                low = 0x90;
            else if (c == 0xF4)
                high = 0x8F;
        } else {
            return i;
        }
        if (i + length > n)
            return i;
        if (s[i + 1] < low || s[i + 1] > high)
            return i;
        for (size_t k = 2; k < length; ++k)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += length;
    }
    return std::string_view::npos;
}

std::string bytesToByteLevel(std::string_view bytes)
{
    const ByteLevelTable &table = byteLevelTable();
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char b : bytes)
        out += table.byteToText[static_cast<unsigned char>(b)];
    return out;
}

int byteLevelToByte(std::string_view character)
{
    if (character.empty() || character.size() > 2)
        return -1;
    char32_t code = 0;
    const auto lead = static_cast<unsigned char>(character[0]);
    if (character.size() == 1) {
        if (lead >= 0x80)
            return -1;
        code = lead;
    } else {
        const auto tail = static_cast<unsigned char>(character[1]);
        if ((lead & 0xE0) != 0xC0 || (tail & 0xC0) != 0x80)
            return -1;
        code = (static_cast<char32_t>(lead & 0x1F) << 6) | (tail & 0x3F);
        if (code < 0x80)
            return -1;
    }
    const ByteLevelTable &table = byteLevelTable();
    if (code >= table.codeToByte.size())
        return -1;
    return table.codeToByte[code];
}

} // namespace mq
