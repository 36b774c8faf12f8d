#include "core/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_support.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <sstream>

namespace mq::test {
namespace {

using Json = nlohmann::json;

struct Reference
{
    std::string sampleText;
    std::vector<int> sampleTokens;
    std::vector<int> greedyTokens;
    std::string greedyText;
};

Reference readReference(const std::string &path)
{
    const Json json = Json::parse(readFile(path));
    return {json.at("sample_text").get<std::string>(),
            json.at("sample_tokens").get<std::vector<int>>(),
            json.at("greedy_tokens_from_BOS").get<std::vector<int>>(),
            json.at("greedy_text").get<std::string>()};
}

std::vector<std::string> nonEmptyLines(const std::string &path, size_t count)
{
    std::vector<std::string> lines;
    std::istringstream in(readFile(path));
    std::string line;
    while (lines.size() < count && std::getline(in, line))
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

std::string concatenatedPieces(const Tokenizer &tokenizer, const std::vector<int> &ids)
{
    std::string text;
    int previous = -1;
    for (const int id : ids) {
        text += tokenizer.decodePiece(previous, id);
        previous = id;
    }
    return text;
}

// A line-for-line port of encode() in llama2.c's run.c (its O(n^2) merge loop included), reading
// tokenizer.bin on its own: the reference the heap-based encoder must agree with.
class RunCEncoder
{
public:
    explicit RunCEncoder(const std::string &path)
    {
        const std::string data = readFile(path);
        size_t at = 4;
        while (at < data.size()) {
            float score = 0;
            int32_t length = 0;
            std::memcpy(&score, data.data() + at, 4);
            std::memcpy(&length, data.data() + at + 4, 4);
            m_vocab.push_back(data.substr(at + 8, static_cast<size_t>(length)));
            m_scores.push_back(score);
            at += 8 + static_cast<size_t>(length);
        }
        for (size_t i = 0; i < m_vocab.size(); ++i)
            m_sorted.emplace(m_vocab[i], static_cast<int>(i));
    }

    std::vector<int> encode(const std::string &text, bool bos, bool eos) const
    {
        std::vector<int> tokens;
        if (bos)
            tokens.push_back(1);
        if (!text.empty())
            tokens.push_back(lookup(" "));
        std::string buffer;
        for (size_t c = 0; c < text.size(); ++c) {
            if ((text[c] & 0xC0) != 0x80)
                buffer.clear();
            buffer += text[c];
            if (c + 1 < text.size() && (text[c + 1] & 0xC0) == 0x80 && buffer.size() < 4)
                continue;
            const int id = lookup(buffer);
            if (id != -1) {
                tokens.push_back(id);
            } else {
                for (const char b : buffer)
                    tokens.push_back(static_cast<unsigned char>(b) + 3);
            }
            buffer.clear();
        }
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (size_t i = 0; i + 1 < tokens.size(); ++i) {
                const int id = lookup(m_vocab[tokens[i]] + m_vocab[tokens[i + 1]]);
                if (id != -1 && m_scores[id] > bestScore) {
                    bestScore = m_scores[id];
                    bestId = id;
                    bestIdx = static_cast<int>(i);
                }
            }
            if (bestIdx == -1)
                break;
            tokens[bestIdx] = bestId;
            tokens.erase(tokens.begin() + bestIdx + 1);
        }
        if (eos)
            tokens.push_back(2);
        return tokens;
    }

private:
    int lookup(const std::string &s) const
    {
        const auto it = m_sorted.find(s);
        return it == m_sorted.end() ? -1 : it->second;
    }

    std::vector<std::string> m_vocab;
    std::vector<float> m_scores;
    std::map<std::string, int> m_sorted;
};

const char *const kUnicodeText = "naïve café — 日本 🙂 «ok»";

using TokenizerLlama2c = SharedDataTest;

TEST_F(TokenizerLlama2c, EncodesSampleLikeReference)
{
    const Reference ref = readReference(shared("reference/stories260K.json"));
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.bin"), 512);
    EXPECT_EQ(tokenizer->kind(), "llama2c");
    EXPECT_EQ(tokenizer->vocabSize(), 512);
    EXPECT_EQ(tokenizer->bosId(), 1);
    EXPECT_EQ(tokenizer->eosId(), 2);
    EXPECT_EQ(tokenizer->encode(ref.sampleText, true, false), ref.sampleTokens);

    std::vector<int> withEos = ref.sampleTokens;
    withEos.push_back(2);
    EXPECT_EQ(tokenizer->encode(ref.sampleText, true, true), withEos);
    EXPECT_EQ(tokenizer->encode(ref.sampleText, false, false),
              std::vector<int>(ref.sampleTokens.begin() + 1, ref.sampleTokens.end()));
}

TEST_F(TokenizerLlama2c, DecodesGreedyTokensLikeReference)
{
    const Reference ref = readReference(shared("reference/stories260K.json"));
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.bin"), 512);
    EXPECT_EQ(tokenizer->decode(ref.greedyTokens), ref.greedyText);
    EXPECT_EQ(tokenizer->decode(ref.sampleTokens), ref.sampleText);
}

TEST_F(TokenizerLlama2c, DecodePieceConcatenationEqualsDecode)
{
    const Reference ref = readReference(shared("reference/stories260K.json"));
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.bin"), 512);
    std::vector<std::vector<int>> sequences = {ref.greedyTokens, ref.sampleTokens,
                                               tokenizer->encode(kUnicodeText, true, true),
                                               tokenizer->encode(kUnicodeText, false, false)};
    for (const std::string &line :
         nonEmptyLines(shared("data/tinystories/TinyStories-valid.sample30K.txt"), 5))
        sequences.push_back(tokenizer->encode(line, true, true));
    for (const auto &ids : sequences)
        EXPECT_EQ(concatenatedPieces(*tokenizer, ids), tokenizer->decode(ids));
    // A streaming generator starts after BOS: the first word's dummy-prefix space is dropped.
    EXPECT_EQ(tokenizer->decodePiece(1, 403), "Once");
    EXPECT_EQ(tokenizer->decodePiece(403, 403), " Once");
}

TEST_F(TokenizerLlama2c, MatchesRunCEncoderOnStoriesAndUnicode)
{
    for (const char *file :
         {"models/stories260K/tok512.bin", "models/aidreams260K/tok512_aidreams.bin"}) {
        SCOPED_TRACE(file);
        const auto tokenizer = loadTokenizer(shared(file), 512);
        const RunCEncoder reference(shared(file));
        std::vector<std::string> texts =
            nonEmptyLines(shared("data/tinystories/TinyStories-valid.sample30K.txt"), 19);
        texts.insert(texts.end(), {kUnicodeText, "", " ", "  two  spaces\n\nand\ttabs ",
                                   "aaaaaaaaaaaaaaaaaaaaaa", "x\xE2\x82", "\x80\x80 stray"});
        for (const std::string &text : texts) {
            EXPECT_EQ(tokenizer->encode(text, true, true), reference.encode(text, true, true))
                << "text: " << text;
            // The O(n^2) reference is slow on the long lines; without BOS/EOS, short texts do.
            if (text.size() < 100) {
                EXPECT_EQ(tokenizer->encode(text, false, false),
                          reference.encode(text, false, false))
                    << "text: " << text;
            }
        }
    }
}

TEST_F(TokenizerLlama2c, RoundTripsUtf8ThroughByteFallback)
{
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.bin"), 512);
    const std::vector<int> ids = tokenizer->encode(kUnicodeText, true, false);
    // "日" (E6 97 A5) is not a piece of this 512-token vocabulary: its bytes are ids byte + 3.
    const std::vector<int> nichi = {0xE6 + 3, 0x97 + 3, 0xA5 + 3};
    EXPECT_NE(std::search(ids.begin(), ids.end(), nichi.begin(), nichi.end()), ids.end());
    EXPECT_EQ(tokenizer->decode(ids), kUnicodeText);
}

TEST_F(TokenizerLlama2c, EmptyTextIsOnlySpecialTokens)
{
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.bin"));
    EXPECT_EQ(tokenizer->encode("", true, true), (std::vector<int>{1, 2}));
    EXPECT_TRUE(tokenizer->encode("", false, false).empty());
    EXPECT_EQ(tokenizer->decode({1, 2}), "");
}

TEST_F(TokenizerLlama2c, AidreamsTokenizerRoundTrips)
{
    const auto tokenizer = loadTokenizer(shared("models/aidreams260K/tok512_aidreams.bin"), 512);
    EXPECT_EQ(tokenizer->vocabSize(), 512);
    for (const std::string &line :
         nonEmptyLines(shared("data/tinystories/TinyStories-valid.sample30K.txt"), 3))
        EXPECT_EQ(tokenizer->decode(tokenizer->encode(line, true, true)), line);
}

using TokenizerSentencePiece = SharedDataTest;

TEST_F(TokenizerSentencePiece, LoadsModel)
{
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.model"), 512);
    EXPECT_EQ(tokenizer->kind(), "sentencepiece");
    EXPECT_EQ(tokenizer->vocabSize(), 512);
    EXPECT_EQ(tokenizer->bosId(), 1);
    EXPECT_EQ(tokenizer->eosId(), 2);
}

TEST_F(TokenizerSentencePiece, EncodesAndDecodesSample)
{
    const Reference ref = readReference(shared("reference/stories260K.json"));
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.model"), 512);
    EXPECT_EQ(tokenizer->encode(ref.sampleText, true, false), ref.sampleTokens);
    EXPECT_EQ(tokenizer->decode(ref.sampleTokens), ref.sampleText);
    EXPECT_EQ(tokenizer->decode(ref.greedyTokens), ref.greedyText);
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(kUnicodeText, true, true)), kUnicodeText);
}

TEST_F(TokenizerSentencePiece, DecodePieceConcatenationEqualsDecode)
{
    const Reference ref = readReference(shared("reference/stories260K.json"));
    const auto tokenizer = loadTokenizer(shared("models/stories260K/tok512.model"), 512);
    std::vector<std::vector<int>> sequences = {ref.greedyTokens, ref.sampleTokens,
                                               tokenizer->encode(kUnicodeText, true, true),
                                               tokenizer->encode(kUnicodeText, false, false)};
    for (const std::string &line :
         nonEmptyLines(shared("data/tinystories/TinyStories-valid.sample30K.txt"), 5))
        sequences.push_back(tokenizer->encode(line, true, true));
    for (const auto &ids : sequences)
        EXPECT_EQ(concatenatedPieces(*tokenizer, ids), tokenizer->decode(ids));
}

TEST_F(TokenizerSentencePiece, SpecialTokensFromConfigOverride)
{
    const auto tokenizer =
        loadTokenizer(shared("models/stories260K/tok512.model"), 512, SpecialTokens{5, 6});
    EXPECT_EQ(tokenizer->bosId(), 5);
    EXPECT_EQ(tokenizer->eosId(), 6);
    const std::vector<int> ids = tokenizer->encode("Once", true, true);
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids.front(), 5);
    EXPECT_EQ(ids.back(), 6);
}

// Same vocabulary, two encoders: SentencePiece's (ours, which test_sentencepiece.cpp holds to
// libsentencepiece) and run.c's greedy merge by score. They give the same ids on ordinary text;
// they differ only where SentencePiece normalises the input first.
TEST_F(TokenizerSentencePiece, AgreesWithLlama2cTokenizerOnOrdinaryText)
{
    const Reference ref = readReference(shared("reference/stories260K.json"));
    const auto sp = loadTokenizer(shared("models/stories260K/tok512.model"), 512);
    const auto llama2c = loadTokenizer(shared("models/stories260K/tok512.bin"), 512);
    std::vector<std::string> texts =
        nonEmptyLines(shared("data/tinystories/TinyStories-valid.sample30K.txt"), 19);
    texts.insert(texts.end(), {ref.sampleText, kUnicodeText, "tabs\tand\n\nnew lines", "1234"});
    for (const std::string &text : texts)
        EXPECT_EQ(sp->encode(text, true, true), llama2c->encode(text, true, true))
            << "text: " << text;

    // tok512.model removes extra whitespace (leading, trailing, runs of spaces); run.c keeps
    // every space as a token.
    const std::string spaced = "  two  spaces\n\nand\ttabs ";
    EXPECT_NE(sp->encode(spaced, true, true), llama2c->encode(spaced, true, true));
    EXPECT_EQ(sp->encode(spaced, true, true),
              llama2c->encode("two spaces\n\nand\ttabs", true, true));
    // Invalid UTF-8: SentencePiece encodes U+FFFD per bad byte, run.c the raw bytes.
    EXPECT_EQ(sp->encode("x\xE2\x82", true, true),
              llama2c->encode("x\xEF\xBF\xBD\xEF\xBF\xBD", true, true));
    const std::vector<int> raw = llama2c->encode("x\xE2\x82", true, true);
    ASSERT_GE(raw.size(), 3u);
    EXPECT_EQ(std::vector<int>(raw.end() - 3, raw.end() - 1),
              (std::vector<int>{0xE2 + 3, 0x82 + 3}));
}

using TokenizerErrors = SharedDataTest;

TEST_F(TokenizerErrors, MissingFileIsNamed)
{
    for (const std::string name : {"absent.bin", "absent.model", "absent.json"}) {
        const std::string path = (m_tempDir / name).string();
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("no such"), std::string::npos) << message;
    }
}

TEST_F(TokenizerErrors, TruncatedTokenizerBin)
{
    const std::string original = readFile(shared("models/stories260K/tok512.bin"));
    // Token 300 starts after the 4-byte header and 300 records of score, length and bytes.
    size_t token300 = 4;
    for (int i = 0; i < 300; ++i) {
        int32_t length = 0;
        std::memcpy(&length, original.data() + token300 + 4, 4);
        token300 += 8 + static_cast<size_t>(length);
    }
    int32_t length300 = 0;
    std::memcpy(&length300, original.data() + token300 + 4, 4);
    ASSERT_GE(length300, 2);
    // Cut inside its bytes, inside its length field, and inside its score.
    for (const size_t cut : {token300 + 9, token300 + 6, token300 + 2}) {
        const std::string path = writeFile("cut.bin", original.substr(0, cut));
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("truncated"), std::string::npos) << message;
    }
}

std::string int32Bytes(int32_t value)
{
    std::string bytes(4, '\0');
    std::memcpy(bytes.data(), &value, 4);
    return bytes;
}

std::string binToken(float score, int32_t length, const std::string &bytes)
{
    std::string out(4, '\0');
    std::memcpy(out.data(), &score, 4);
    return out + int32Bytes(length) + bytes;
}

TEST_F(TokenizerErrors, NegativeTokenLength)
{
    const std::string path = writeFile(
        "negative.bin", int32Bytes(8) + binToken(0, 1, "a") + binToken(0, -5, "bcdefgh"));
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("token 1"), std::string::npos) << message;
    EXPECT_NE(message.find("negative length (-5)"), std::string::npos) << message;
}

TEST_F(TokenizerErrors, TokenLengthBeyondEndOfFile)
{
    const std::string path =
        writeFile("long.bin", int32Bytes(8) + binToken(0, 1, "a") + binToken(0, 1000, "bcd"));
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("claims 1000 bytes but only 3 remain"), std::string::npos) << message;
}

TEST_F(TokenizerErrors, TokenizerBinVocabDiffersFromModel)
{
    const std::string path = shared("models/stories260K/tok512.bin");
    const std::string message = errorMessage([&] { loadTokenizer(path, 1000); });
    EXPECT_EQ(message, path + ": tokenizer has 512 tokens but the model's vocabulary has 1000; "
                              "pass the tokenizer that belongs to this model");
    // llama2.c files must match exactly, smaller or larger.
    EXPECT_NE(errorMessage([&] { loadTokenizer(path, 256); }).find("has 256"), std::string::npos);
}

TEST_F(TokenizerErrors, SentencePieceLargerThanModel)
{
    const std::string path = shared("models/stories260K/tok512.model");
    const std::string message = errorMessage([&] { loadTokenizer(path, 256); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("tokenizer has 512 tokens but the model's vocabulary has 256"),
              std::string::npos)
        << message;
    // An embedding padded beyond the tokenizer is normal for Hugging Face checkpoints.
    EXPECT_EQ(loadTokenizer(path, 576)->vocabSize(), 512);
}

TEST_F(TokenizerErrors, CorruptSentencePieceModel)
{
    const std::string original = readFile(shared("models/stories260K/tok512.model"));
    for (const std::string &bytes :
         {std::string("this is not a protobuf \xFF\xFF\xFF\xFF"), original.substr(0, 1000)}) {
        const std::string path = writeFile("corrupt.model", bytes);
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("not a valid SentencePiece model"), std::string::npos) << message;
    }
}

TEST_F(TokenizerErrors, IdOutsideVocabulary)
{
    for (const char *file : {"models/stories260K/tok512.bin", "models/stories260K/tok512.model"}) {
        const std::string path = shared(file);
        const auto tokenizer = loadTokenizer(path);
        const std::string message = errorMessage([&] { tokenizer->decode({5, 512}); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("token id 512"), std::string::npos) << message;
    }
}

TEST_F(TokenizerErrors, SpecialTokenOutsideVocabulary)
{
    const std::string path = shared("models/stories260K/tok512.bin");
    const std::string message = errorMessage([&] { loadTokenizer(path, 512, {600, -1}); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("bos_token_id 600"), std::string::npos) << message;
}

} // namespace
} // namespace mq::test
