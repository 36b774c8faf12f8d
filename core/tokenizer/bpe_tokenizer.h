#pragma once

#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace mq {

// Byte-level BPE from a Hugging Face `tokenizer.json` (GPT-2, Qwen2, StableLM-2): added tokens
// matched in the raw text first, then the pre_tokenizer (ByteLevel, Split, or a Sequence of them),
// then BPE merges by rank over the GPT-2 byte-level characters of each piece. The decoder maps
// the characters back to bytes. BOS/EOS come only from SpecialTokens (config.json).
class BpeTokenizer final : public Tokenizer
{
public:
    // Throws mq::Error naming `path` for invalid JSON and for anything this reader does not
    // support or cannot make sense of (unknown model type, merges naming unknown symbols, ...).
    BpeTokenizer(const std::string &path, SpecialTokens special);

    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override;
    std::string decode(const std::vector<int> &ids) const override;
    std::string decodePiece(int previous, int id) const override;
    int vocabSize() const override { return static_cast<int>(m_pieceBytes.size()); }
    int bosId() const override { return m_bos; }
    int eosId() const override { return m_eos; }
    std::string kind() const override { return "bpe"; }

private:
    struct AddedToken
    {
        std::string content;
        int id = -1;
        bool special = false;
        bool lstrip = false;
        bool rstrip = false;
    };

    struct PreTokenizerStep
    {
        // Split: the splitter; ByteLevel: no splitter unless use_regex.
        bool byteLevel = false;
        bool addPrefixSpace = false;
        std::optional<RegexSplitter> splitter;
    };

    struct Merge
    {
        int rank;
        int merged;
    };

    std::vector<std::string> preTokenize(std::string_view text) const;
    void encodeWord(std::string_view bytes, std::vector<int> &ids) const;

    static uint64_t pairKey(int left, int right)
    {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
               static_cast<uint32_t>(right);
    }

    std::string m_path;
    std::unordered_map<std::string, int> m_vocab;
    std::unordered_map<uint64_t, Merge> m_merges;
    std::vector<AddedToken> m_added;
    // Indices into m_added by the first byte of the content, longest content first.
    std::array<std::vector<size_t>, 256> m_addedByFirstByte;
    std::vector<PreTokenizerStep> m_steps;
    bool m_ignoreMerges = false;
    // Per id: the bytes it decodes to, whether the id exists, whether decode() drops it.
    std::vector<std::string> m_pieceBytes;
    std::vector<char> m_known;
    std::vector<char> m_dropped;
    int m_bos = -1;
    int m_eos = -1;
};

} // namespace mq
