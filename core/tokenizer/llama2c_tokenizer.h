#pragma once

#include "core/tokenizer/tokenizer.h"

#include <unordered_map>

namespace mq {

// Karpathy's llama2.c `tokenizer.bin`: int32 max_token_length, then per token a float32 score, an
// int32 byte length and the bytes. Encoding and decoding follow encode() / decode() of llama2.c's
// run.c; BOS is 1 and EOS is 2 unless SpecialTokens says otherwise.
class Llama2cTokenizer final : public Tokenizer
{
public:
    // Throws mq::Error naming `path` when the file is truncated or corrupt.
    Llama2cTokenizer(const std::string &path, SpecialTokens special);

    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override;
    std::string decode(const std::vector<int> &ids) const override;
    std::string decodePiece(int previous, int id) const override;
    int vocabSize() const override { return static_cast<int>(m_pieces.size()); }
    int bosId() const override { return m_bos; }
    int eosId() const override { return m_eos; }
    std::string kind() const override { return "llama2c"; }

private:
    int lookup(const std::string &piece) const;
    void appendFallbackBytes(std::string_view bytes, std::vector<int> &tokens) const;
    void mergePairs(std::vector<int> &tokens) const;

    std::string m_path;
    std::vector<std::string> m_pieces;
    std::vector<float> m_scores;
    // The byte a `<0xXX>` piece stands for, -1 for other pieces.
    std::vector<int> m_byteValue;
    std::unordered_map<std::string, int> m_ids;
    int m_bos = -1;
    int m_eos = -1;
};

} // namespace mq
