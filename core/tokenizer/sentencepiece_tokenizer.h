#pragma once

#include "core/tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace mq {

// A SentencePiece `tokenizer.model` through libsentencepiece. Encoding is the library's; decoding
// follows the library's rules piece by piece (see decodePiece) so a streaming generator and
// decode() print the same bytes.
class SentencePieceTokenizer final : public Tokenizer
{
public:
    // Throws mq::Error naming `path` with the library's status message when it cannot load it.
    SentencePieceTokenizer(const std::string &path, SpecialTokens special);
    ~SentencePieceTokenizer() override;

    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override;
    std::string decode(const std::vector<int> &ids) const override;
    std::string decodePiece(int previous, int id) const override;
    int vocabSize() const override { return static_cast<int>(m_surfaces.size()); }
    int bosId() const override { return m_bos; }
    int eosId() const override { return m_eos; }
    std::string kind() const override { return "sentencepiece"; }

    // The library's own decoding of `ids`: what tests compare decode() with.
    std::string libraryDecode(const std::vector<int> &ids) const;

private:
    std::string m_path;
    std::unique_ptr<sentencepiece::SentencePieceProcessor> m_processor;
    // What each id prints in the middle of a text: "" for control tokens, the unknown surface for
    // <unk>, the raw byte for <0xXX>, else the piece with U+2581 turned into spaces.
    std::vector<std::string> m_surfaces;
    // Whether the piece began with U+2581, which the library drops at the start of the text.
    std::vector<char> m_leadingSpace;
    int m_bos = -1;
    int m_eos = -1;
};

} // namespace mq
