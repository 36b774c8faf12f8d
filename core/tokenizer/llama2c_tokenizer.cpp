#include "core/tokenizer/llama2c_tokenizer.h"
#include "core/tokenizer/pair_merge.h"

#include "core/tokenizer/loader_support.h"
#include "core/util/error.h"

#include <cstdint>
#include <cstring>

namespace mq {

namespace {

// run.c starts its search with best_score = -1e10 and needs a strictly larger score to merge.
constexpr float kNoMergeScore = -1e10f;

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// The byte of a SentencePiece byte-fallback piece "<0xXX>", or -1.
int byteOfPiece(const std::string &piece)
{
    if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>')
        return -1;
    const int high = hexDigit(piece[3]);
    const int low = hexDigit(piece[4]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
}

} // namespace

Llama2cTokenizer::Llama2cTokenizer(const std::string &path, SpecialTokens special)
    : m_path(path)
{
    const std::string data = readWholeFile(path);
    size_t offset = 0;
    auto readInt32 = [&](int32_t &value) {
        if (data.size() - offset < sizeof value)
            return false;
        std::memcpy(&value, data.data() + offset, sizeof value);
        offset += sizeof value;
        return true;
    };

    int32_t maxTokenLength = 0;
    if (!readInt32(maxTokenLength))
        failFile(path, "truncated: the file is shorter than its 4-byte header (max_token_length); "
                       "is it a llama2.c tokenizer.bin?");
    if (maxTokenLength <= 0)
        failFile(path, "corrupt header: max_token_length is " + std::to_string(maxTokenLength) +
                           "; is it a llama2.c tokenizer.bin?");

    // The vocabulary size is not stored: tokens run to the end of the file.
    while (offset < data.size()) {
        const size_t token = m_pieces.size();
        const size_t tokenStart = offset;
        float score = 0.0f;
        int32_t length = 0;
        if (data.size() - offset < sizeof score + sizeof length)
            failFile(path, "truncated: the file ends inside token " + std::to_string(token) +
                               " (byte offset " + std::to_string(tokenStart) +
                               ", before its score and length are complete)");
        std::memcpy(&score, data.data() + offset, sizeof score);
        offset += sizeof score;
        readInt32(length);
        if (length < 0)
            failFile(path, "corrupt: token " + std::to_string(token) + " (byte offset " +
                               std::to_string(tokenStart) + ") has a negative length (" +
                               std::to_string(length) + ")");
        const size_t remaining = data.size() - offset;
        if (static_cast<size_t>(length) > remaining)
            failFile(path, "truncated or corrupt: token " + std::to_string(token) +
                               " (byte offset " + std::to_string(tokenStart) + ") claims " +
                               std::to_string(length) + " bytes but only " +
                               std::to_string(remaining) + " remain in the file");
        m_pieces.emplace_back(data, offset, static_cast<size_t>(length));
        m_scores.push_back(score);
        offset += static_cast<size_t>(length);
    }
    if (m_pieces.empty())
        failFile(path, "holds no tokens, only the header");

    m_byteValue.reserve(m_pieces.size());
    for (size_t id = 0; id < m_pieces.size(); ++id) {
        m_byteValue.push_back(byteOfPiece(m_pieces[id]));
        // run.c looks pieces up by binary search; with duplicate pieces we take the lowest id.
        m_ids.emplace(m_pieces[id], static_cast<int>(id));
    }

    const int size = vocabSize();
    m_bos = resolveSpecialToken(path, "bos", special.bos, size > 1 ? 1 : -1, size);
    m_eos = resolveSpecialToken(path, "eos", special.eos, size > 2 ? 2 : -1, size);
}

int Llama2cTokenizer::lookup(const std::string &piece) const
{
    const auto it = m_ids.find(piece);
    return it == m_ids.end() ? -1 : it->second;
}

void Llama2cTokenizer::appendFallbackBytes(std::string_view bytes, std::vector<int> &tokens) const
{
    // SentencePiece byte fallback: <0x00>..<0xFF> follow <unk>, <s>, </s>, so byte b is id b + 3.
    for (const char c : bytes) {
        const int id = static_cast<unsigned char>(c) + 3;
        if (id >= vocabSize())
            failFile(m_path, "the text needs the byte-fallback token " + std::to_string(id) +
                                 " but the tokenizer has only " + std::to_string(vocabSize()) +
                                 " tokens");
        tokens.push_back(id);
    }
}

std::vector<int> Llama2cTokenizer::encode(std::string_view text, bool addBos, bool addEos) const
{
    std::vector<int> tokens;
    tokens.reserve(text.size() + 3);
    if (addBos && m_bos >= 0)
        tokens.push_back(m_bos);

    // SentencePiece's add_dummy_prefix, as run.c does it.
    if (!text.empty()) {
        const int dummyPrefix = lookup(" ");
        // run.c would emit id -1 here; a byte token is the only valid reading.
        if (dummyPrefix >= 0)
            tokens.push_back(dummyPrefix);
        else
            appendFallbackBytes(" ", tokens);
    }

    // One piece per UTF-8 code point (at most 4 bytes, as run.c caps it), else its bytes.
    std::string codePoint;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80)
            codePoint.clear();
        codePoint += static_cast<char>(c);
        const bool nextContinues =
            i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
        if (nextContinues && codePoint.size() < 4)
            continue;
        const int id = lookup(codePoint);
        if (id >= 0)
            tokens.push_back(id);
        else
            appendFallbackBytes(codePoint, tokens);
        codePoint.clear();
    }

    mergePairs(tokens);

    if (addEos && m_eos >= 0)
        tokens.push_back(m_eos);
    return tokens;
}

// run.c merges, again and again, the adjacent pair whose concatenation is in the vocabulary with
// the highest score, the leftmost among equal scores (pair_merge.h does the same in O(n log n)).
void Llama2cTokenizer::mergePairs(std::vector<int> &tokens) const
{
    std::string joined;
    mergeAdjacentPairs(tokens, [&](int left, int right) {
        joined = m_pieces[left];
        joined += m_pieces[right];
        const int merged = lookup(joined);
        if (merged < 0 || !(m_scores[merged] > kNoMergeScore))
            return PairMerge{};
        return PairMerge{merged, double(m_scores[merged])};
    });
}

std::string Llama2cTokenizer::decodePiece(int previous, int id) const
{
    if (id < 0 || id >= vocabSize())
        failFile(m_path, "token id " + std::to_string(id) + " is outside the tokenizer's " +
                             std::to_string(vocabSize()) + " tokens");
    if (id == m_bos || id == m_eos)
        return {};
    if (m_byteValue[id] >= 0)
        return std::string(1, static_cast<char>(m_byteValue[id]));
    const std::string &piece = m_pieces[id];
    // Following BOS, SentencePiece's decoder drops the dummy-prefix space.
    if (previous == m_bos && !piece.empty() && piece[0] == ' ')
        return piece.substr(1);
    return piece;
}

std::string Llama2cTokenizer::decode(const std::vector<int> &ids) const
{
    return decodeByPieces(*this, ids);
}

} // namespace mq
