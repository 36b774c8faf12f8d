#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mq {

// Pieces of Hugging Face `tokenizers` pre-tokenization that byte-level BPE needs. Public so tests
// can check the splits a pattern produces against splits derived by hand from the pattern.

// The regex of GPT-2's ByteLevel pre-tokenizer (`use_regex: true`).
inline constexpr const char *kGpt2SplitPattern =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";

// The regex of Qwen2's `Split` pre-tokenizer (single digits, case-insensitive contractions).
inline constexpr const char *kQwen2SplitPattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*)re"
    R"re(|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// What `Split` does with the text a pattern matches ("behavior" in tokenizer.json).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Throws mq::Error for a name tokenizer.json does not define.
SplitBehavior splitBehaviorFromName(const std::string &name);

// A compiled PCRE2 pattern (UTF + UCP, so \p{L}, \s and (?i) follow Unicode as Oniguruma does in
// `tokenizers`) and the split rule around its matches. Immutable after construction: any thread
// may call split() concurrently.
class RegexSplitter
{
public:
    // `literal` treats `pattern` as plain text (tokenizer.json's {"String": ...} patterns).
    // Throws mq::Error with PCRE2's message and offset when the pattern does not compile.
    explicit RegexSplitter(const std::string &pattern,
                           SplitBehavior behavior = SplitBehavior::Isolated, bool invert = false,
                           bool literal = false);
    RegexSplitter(RegexSplitter &&) noexcept;
    RegexSplitter &operator=(RegexSplitter &&) noexcept;
    ~RegexSplitter();

    // Non-empty pieces of `text` in order, viewing into it. `text` must be valid UTF-8 (see
    // invalidUtf8Offset); throws mq::Error otherwise.
    std::vector<std::string_view> split(std::string_view text) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Byte offset of the first byte that is not part of well-formed UTF-8, or npos.
size_t invalidUtf8Offset(std::string_view text);

// GPT-2's reversible byte <-> printable-character table (`bytes_to_unicode` in OpenAI's
// encoder.py): printable Latin-1 bytes stand for themselves, the other 68 bytes map to U+0100...
// Returns each byte of `bytes` as its character, UTF-8 encoded.
std::string bytesToByteLevel(std::string_view bytes);

// The byte a byte-level character (UTF-8 encoded, one code point) stands for, or -1.
int byteLevelToByte(std::string_view character);

} // namespace mq
