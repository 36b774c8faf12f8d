#pragma once

#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/tokenizer.h"

#include <cstdint>
#include <unordered_map>
#include <utility>

namespace mq {

// A SentencePiece `tokenizer.model`, read and run by our own code (no libsentencepiece, no
// protobuf: see docs/tokenizers.md). Encoding reproduces SentencePiece v0.1.97's
// SentencePieceProcessor::Encode: the normaliser (precompiled rules such as nmt_nfkc included),
// user-defined pieces, then the BPE, UNIGRAM, WORD or CHAR model, unknown characters as byte
// pieces or <unk>. Decoding follows the library's rules piece by piece (see decodePiece) so a
// streaming generator and decode() print the same bytes.
class SentencePieceTokenizer final : public Tokenizer
{
public:
    // Throws mq::Error naming `path` (and the byte offset or piece) when the file is malformed or
    // uses something this reader does not support.
    SentencePieceTokenizer(const std::string &path, SpecialTokens special);
    // The lookup tables view the strings of m_model, so a copy would point into the original.
    SentencePieceTokenizer(const SentencePieceTokenizer &) = delete;
    SentencePieceTokenizer &operator=(const SentencePieceTokenizer &) = delete;

    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override;
    std::string decode(const std::vector<int> &ids) const override;
    std::string decodePiece(int previous, int id) const override;
    int vocabSize() const override { return static_cast<int>(m_model.pieces.size()); }
    int bosId() const override { return m_bos; }
    int eosId() const override { return m_eos; }
    std::string kind() const override { return "sentencepiece"; }

    // The text the model segments: `text` after normalisation, spaces as U+2581 (when the model
    // escapes whitespace) and the dummy prefix added. Public for tests and diagnostics.
    std::string normalize(std::string_view text) const;

private:
    // A byte trie over strings, giving what sentencepiece asks of its Darts double arrays: every
    // stored string that is a prefix of a text, shortest first.
    class PrefixTrie
    {
    public:
        void insert(std::string_view key, int value);
        // Calls visit(length, value) for each stored key that is a prefix of `text`.
        template <typename Visit> void forEachPrefix(std::string_view text, Visit &&visit) const;
        // Length of the longest stored key that is a prefix of `text`, 0 for none.
        size_t longestPrefix(std::string_view text) const;
        bool empty() const { return m_values.size() <= 1; }

    private:
        // Node 0 is the root; an edge is keyed by (node << 8 | byte).
        std::unordered_map<uint64_t, int> m_edges;
        std::vector<int> m_values { -1 };
    };

    using Segment = std::pair<std::string_view, int>;

    int pieceToId(std::string_view piece) const;
    std::pair<std::string_view, size_t> normalizePrefix(std::string_view input) const;
    size_t userDefinedPrefix(std::string_view text) const;
    std::vector<Segment> encodeBpe(std::string_view normalized) const;
    std::vector<Segment> encodeUnigram(std::string_view normalized) const;
    std::vector<Segment> encodeWords(std::string_view normalized) const;
    std::vector<Segment> encodeChars(std::string_view normalized) const;
    bool isType(int id, SentencePieceModel::PieceType type) const
    {
        return m_model.pieces[static_cast<size_t>(id)].type == type;
    }

    std::string m_path;
    SentencePieceModel m_model;
    // Piece text -> id, split as the library splits them: normal, user-defined and unused
    // pieces, which the models may produce, and the reserved ones (control, unknown, byte).
    std::unordered_map<std::string_view, int> m_pieceIds;
    std::unordered_map<std::string_view, int> m_reservedIds;
    PrefixTrie m_pieceTrie;
    PrefixTrie m_userDefined;
    // The Darts double array and replacement strings of the normalisation rule; empty for
    // identity.
    std::vector<uint32_t> m_charsmapUnits;
    std::string_view m_charsmapStrings;
    // Ids of the byte pieces <0x00> .. <0xFF>, when the model falls back to bytes.
    std::vector<int> m_byteIds;
    // UNIGRAM scores: unknown characters cost the lowest normal score minus a penalty, and
    // user-defined pieces earn their length times the highest.
    float m_minScore = 0;
    float m_maxScore = 0;
    int m_unk = -1;
    // What each id prints in the middle of a text: "" for control tokens, the unknown surface for
    // <unk>, the raw byte for <0xXX>, else the piece with U+2581 turned into spaces.
    std::vector<std::string> m_surfaces;
    // Whether decoding drops the piece's leading U+2581 at the start of the text.
    std::vector<char> m_leadingSpace;
    int m_bos = -1;
    int m_eos = -1;
};

} // namespace mq
