#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_support.h"

#include <nlohmann/json.hpp>

namespace mq::test {
namespace {

using Json = nlohmann::json;
using Pieces = std::vector<std::string_view>;

// The two patterns as the model files spell them (GPT-2's ByteLevel, Qwen2's Split).
const char *const kGpt2Pattern =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
const char *const kQwen2Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*)re"
    R"re(|\s*[\r\n]+|\s+(?!\S)|\s+)re";

const char *const kUnicodeText = "naïve café — 日本";

// A handcrafted byte-level vocabulary. "Ġ" (U+0120) is the byte-level character of a space.
Json smallVocab()
{
    return {{"h", 0},     {"e", 1},    {"l", 2},     {"o", 3},     {"w", 4},    {"r", 5},
            {"d", 6},     {"Ġ", 7},    {"ll", 8},    {"he", 9},    {"hell", 10}, {"hello", 11},
            {"Ġw", 12},   {"or", 13},  {"Ġwor", 14}, {"ld", 15},   {"!", 16},   {"'", 17},
            {"s", 18},    {"'s", 19},  {"1", 20},    {"2", 21},    {"3", 22},   {"12", 23}};
}

// Rank = position: "l l" merges before "h e", and so on.
Json smallMerges()
{
    return Json::array(
        {"l l", "h e", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "' s", "1 2"});
}

Json endOfText()
{
    return {{"id", 24},          {"content", "<|endoftext|>"}, {"single_word", false},
            {"lstrip", false},   {"rstrip", false},            {"normalized", false},
            {"special", true}};
}

Json gpt2PreTokenizer(bool addPrefixSpace)
{
    return {{"type", "ByteLevel"},
            {"add_prefix_space", addPrefixSpace},
            {"trim_offsets", true},
            {"use_regex", true}};
}

Json qwen2PreTokenizer()
{
    return {{"type", "Sequence"},
            {"pretokenizers",
             Json::array({{{"type", "Split"},
                           {"pattern", {{"Regex", kQwen2Pattern}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                          {{"type", "ByteLevel"},
                           {"add_prefix_space", false},
                           {"trim_offsets", false},
                           {"use_regex", false}}})}};
}

Json tokenizerJson(const Json &preTokenizer, const Json &vocab = smallVocab(),
                   const Json &merges = smallMerges(),
                   const Json &added = Json::array({endOfText()}))
{
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer", nullptr},
            {"pre_tokenizer", preTokenizer},
            {"post_processor", nullptr},
            {"decoder",
             {{"type", "ByteLevel"},
              {"add_prefix_space", true},
              {"trim_offsets", true},
              {"use_regex", true}}},
            {"model",
             {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", nullptr},
              {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr},
              {"fuse_unk", false},
              {"byte_fallback", false},
              {"vocab", vocab},
              {"merges", merges}}}};
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

using TokenizerBpe = TempDirTest;

// Derivations (rank in brackets; the lowest-ranked adjacent pair merges first, leftmost first):
//  "hello": h e l l o -> (l l)[0] -> h e ll o -> (h e)[1] -> he ll o -> (he ll)[2] -> hell o
//           -> (hell o)[3] -> hello = 11.
//  " world" -> Ġ w o r l d -> (Ġ w)[4] -> Ġw o r l d -> (o r)[5] -> Ġw or l d -> (Ġw or)[6]
//           -> Ġwor l d -> (l d)[7] -> Ġwor ld = 14 15 (no "Ġwor ld" merge).
//  "lll": both pairs are (l l)[0]; the leftmost merges -> ll l = 8 2.
//  "'s" -> (' s)[8] -> 19.  GPT-2 keeps " 123" whole: Ġ 1 2 3 -> (1 2)[9] -> Ġ 12 3 = 7 23 22.
TEST_F(TokenizerBpe, EncodesByHandDerivedMerges)
{
    const auto tokenizer =
        loadTokenizer(writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump()));
    EXPECT_EQ(tokenizer->kind(), "bpe");
    EXPECT_EQ(tokenizer->vocabSize(), 25);
    EXPECT_EQ(tokenizer->bosId(), -1);
    EXPECT_EQ(tokenizer->eosId(), -1);
    EXPECT_EQ(tokenizer->encode("hello world", false, false), (std::vector<int>{11, 14, 15}));
    EXPECT_EQ(tokenizer->encode("lll", false, false), (std::vector<int>{8, 2}));
    EXPECT_EQ(tokenizer->encode("hello world's 123", false, false),
              (std::vector<int>{11, 14, 15, 19, 7, 23, 22}));
    // Without BOS/EOS ids, asking for them adds nothing.
    EXPECT_EQ(tokenizer->encode("hello", true, true), (std::vector<int>{11}));
    EXPECT_EQ(tokenizer->decode({11, 14, 15, 19, 7, 23, 22}), "hello world's 123");
}

// Qwen2's pattern splits " 123" into " ", "1", "2", "3" before BPE, so (1 2) never applies:
// hello | Ġwor ld | 's | Ġ | 1 | 2 | 3.
TEST_F(TokenizerBpe, Qwen2SplitKeepsDigitsApart)
{
    const auto tokenizer =
        loadTokenizer(writeFile("tokenizer.json", tokenizerJson(qwen2PreTokenizer()).dump()));
    EXPECT_EQ(tokenizer->encode("hello world's 123", false, false),
              (std::vector<int>{11, 14, 15, 19, 7, 20, 21, 22}));
    EXPECT_EQ(tokenizer->decode({11, 14, 15, 19, 7, 20, 21, 22}), "hello world's 123");
}

TEST_F(TokenizerBpe, MergesAsStringPairs)
{
    Json merges = Json::array();
    for (const Json &merge : smallMerges()) {
        const std::string text = merge.get<std::string>();
        const size_t space = text.find(' ');
        merges.push_back({text.substr(0, space), text.substr(space + 1)});
    }
    const auto tokenizer = loadTokenizer(writeFile(
        "tokenizer.json", tokenizerJson(gpt2PreTokenizer(false), smallVocab(), merges).dump()));
    EXPECT_EQ(tokenizer->encode("hello world's 123", false, false),
              (std::vector<int>{11, 14, 15, 19, 7, 23, 22}));
}

// "<|endoftext|>" is cut out of the raw text before the pre-tokenizer sees it; " world!" then
// splits into " world" and "!".
TEST_F(TokenizerBpe, AddedTokensAreMatchedFirstAndNeverSplit)
{
    const auto tokenizer =
        loadTokenizer(writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump()));
    const std::vector<int> ids = tokenizer->encode("hello<|endoftext|> world!", false, false);
    EXPECT_EQ(ids, (std::vector<int>{11, 24, 14, 15, 16}));
    // Special added tokens are dropped from decoded text.
    EXPECT_EQ(tokenizer->decode(ids), "hello world!");
    EXPECT_EQ(concatenatedPieces(*tokenizer, ids), tokenizer->decode(ids));
    EXPECT_EQ(tokenizer->encode("<|endoftext|>", false, false), (std::vector<int>{24}));
}

// A non-special added token "wor" wins over BPE: "hello " | wor | "ld" -> hello Ġ | 25 | ld.
TEST_F(TokenizerBpe, NonSpecialAddedTokenIsKeptInText)
{
    Json added = Json::array({endOfText()});
    added.push_back({{"id", 25}, {"content", "wor"}, {"special", false}});
    const auto tokenizer = loadTokenizer(writeFile(
        "tokenizer.json",
        tokenizerJson(gpt2PreTokenizer(false), smallVocab(), smallMerges(), added).dump()));
    EXPECT_EQ(tokenizer->vocabSize(), 26);
    const std::vector<int> ids = tokenizer->encode("hello world", false, false);
    EXPECT_EQ(ids, (std::vector<int>{11, 7, 25, 15}));
    EXPECT_EQ(tokenizer->decode(ids), "hello world");
}

// add_prefix_space: "world" is read as " world" (14 15); "hello" as " hello": Ġ h e l l o merges
// to Ġ hello (no "Ġ hello" merge) = 7 11.
TEST_F(TokenizerBpe, AddPrefixSpace)
{
    const auto tokenizer =
        loadTokenizer(writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(true)).dump()));
    EXPECT_EQ(tokenizer->encode("world", false, false), (std::vector<int>{14, 15}));
    EXPECT_EQ(tokenizer->encode("hello", false, false), (std::vector<int>{7, 11}));
    EXPECT_EQ(tokenizer->decode({7, 11}), " hello");
}

TEST_F(TokenizerBpe, SpecialTokensFromConfig)
{
    const std::string path =
        writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump());
    const auto tokenizer = loadTokenizer(path, 0, SpecialTokens{24, 24});
    EXPECT_EQ(tokenizer->bosId(), 24);
    EXPECT_EQ(tokenizer->eosId(), 24);
    const std::vector<int> ids = tokenizer->encode("hello", true, true);
    EXPECT_EQ(ids, (std::vector<int>{24, 11, 24}));
    EXPECT_EQ(tokenizer->decode(ids), "hello");
}

// Every byte has a symbol (ids 0..255 in byte order), plus one merge for "ï" (C3 AF).
TEST_F(TokenizerBpe, RoundTripsUtf8)
{
    Json vocab = Json::object();
    for (int b = 0; b < 256; ++b)
        vocab[bytesToByteLevel(std::string(1, static_cast<char>(b)))] = b;
    const std::string iTrema = bytesToByteLevel("\xC3\xAF");
    vocab[iTrema] = 256;
    const Json merges = Json::array({bytesToByteLevel("\xC3") + " " + bytesToByteLevel("\xAF")});

    for (const Json &preTokenizer : {gpt2PreTokenizer(false), qwen2PreTokenizer()}) {
        SCOPED_TRACE(preTokenizer.dump());
        const auto tokenizer = loadTokenizer(writeFile(
            "tokenizer.json", tokenizerJson(preTokenizer, vocab, merges, Json::array()).dump()));
        EXPECT_EQ(tokenizer->vocabSize(), 257);
        for (const std::string &text :
             {std::string(kUnicodeText), std::string("Tabs\tand\r\nnew lines  \n\n x 🙂")}) {
            const std::vector<int> ids = tokenizer->encode(text, true, true);
            EXPECT_EQ(tokenizer->decode(ids), text);
            EXPECT_EQ(concatenatedPieces(*tokenizer, ids), text);
        }
        // "naïve" is n a ï v e: 110 97 256 118 101.
        const std::vector<int> ids = tokenizer->encode("naïve", false, false);
        EXPECT_EQ(ids, (std::vector<int>{110, 97, 256, 118, 101}));
    }
}

using TokenizerPreTokenizer = ::testing::Test;

TEST_F(TokenizerPreTokenizer, PatternsAreTheModelFilesOnes)
{
    EXPECT_STREQ(kGpt2SplitPattern, kGpt2Pattern);
    EXPECT_STREQ(kQwen2SplitPattern, kQwen2Pattern);
}

// GPT-2: "Hello" and " world" by ` ?\p{L}+`; "'s" by the contraction; " 123" by ` ?\p{N}+`; "!!"
// by ` ?[^\s\p{L}\p{N}]+` (stops at \n); at "\n\n  x" `\s+(?!\S)` backs off one space so the
// next one stays with "x": "\n\n " then " x".
TEST_F(TokenizerPreTokenizer, Gpt2PatternSplits)
{
    const RegexSplitter splitter(kGpt2Pattern);
    EXPECT_EQ(splitter.split("Hello world's 123!!\n\n  x"),
              (Pieces{"Hello", " world", "'s", " 123", "!!", "\n\n ", " x"}));
    EXPECT_EQ(splitter.split("IT'S"), (Pieces{"IT", "'", "S"}));
    EXPECT_EQ(splitter.split(kUnicodeText), (Pieces{"naïve", " café", " —", " 日本"}));
    EXPECT_TRUE(splitter.split("").empty());
}

// Qwen2: " world" by `[^\r\n\p{L}\p{N}]?\p{L}+`; digits one by one (`\p{N}`), the space before
// them alone (`\s+`); "!!\n\n" by ` ?[^\s\p{L}\p{N}]+[\r\n]*`; "  x" as " " (`\s+(?!\S)` backs off)
// and " x".
TEST_F(TokenizerPreTokenizer, Qwen2PatternSplits)
{
    const RegexSplitter splitter(kQwen2Pattern);
    EXPECT_EQ(splitter.split("Hello world's 123!!\n\n  x"),
              (Pieces{"Hello", " world", "'s", " ", "1", "2", "3", "!!\n\n", " ", " x"}));
    // Contractions are case-insensitive here, unlike GPT-2's.
    EXPECT_EQ(splitter.split("IT'S"), (Pieces{"IT", "'S"}));
    EXPECT_EQ(splitter.split(kUnicodeText), (Pieces{"naïve", " café", " —", " 日本"}));
}

// The examples of `tokenizers`' SplitDelimiterBehavior documentation, on "a-b--c".
TEST_F(TokenizerPreTokenizer, SplitBehaviors)
{
    const std::string text = "a-b--c";
    auto split = [&](SplitBehavior behavior, bool invert = false) {
        return RegexSplitter("-", behavior, invert, true).split(text);
    };
    EXPECT_EQ(split(SplitBehavior::Isolated), (Pieces{"a", "-", "b", "-", "-", "c"}));
    EXPECT_EQ(split(SplitBehavior::Removed), (Pieces{"a", "b", "c"}));
    EXPECT_EQ(split(SplitBehavior::MergedWithPrevious), (Pieces{"a-", "b-", "-", "c"}));
    EXPECT_EQ(split(SplitBehavior::MergedWithNext), (Pieces{"a", "-b", "-", "-c"}));
    EXPECT_EQ(split(SplitBehavior::Contiguous), (Pieces{"a", "-", "b", "--", "c"}));
    EXPECT_EQ(split(SplitBehavior::Removed, true), (Pieces{"-", "-", "-"}));
    // A literal pattern is not a regex.
    EXPECT_EQ(RegexSplitter(".", SplitBehavior::Removed, false, true).split("a.b"),
              (Pieces{"a", "b"}));
}

TEST_F(TokenizerPreTokenizer, ByteLevelTable)
{
    // GPT-2's bytes_to_unicode: non-printable bytes 0..32 -> U+0100.., 127..160 -> U+0121..,
    // 173 -> U+0143; printable ones stand for themselves.
    EXPECT_EQ(bytesToByteLevel(" "), "Ġ");
    EXPECT_EQ(bytesToByteLevel("\n"), "Ċ");
    EXPECT_EQ(bytesToByteLevel("\x7F"), "ġ");
    EXPECT_EQ(bytesToByteLevel("\xAD"), "Ń");
    EXPECT_EQ(bytesToByteLevel("a~\xA1\xFF"), "a~¡ÿ");
    for (int b = 0; b < 256; ++b)
        EXPECT_EQ(byteLevelToByte(bytesToByteLevel(std::string(1, static_cast<char>(b)))), b);
    EXPECT_EQ(byteLevelToByte("日"), -1);
}

TEST_F(TokenizerPreTokenizer, BadPatternAndTextAreErrors)
{
    EXPECT_THROW(RegexSplitter("(unclosed"), Error);
    EXPECT_THROW(RegexSplitter(kGpt2Pattern).split("bad \xFF byte"), Error);
    EXPECT_THROW(splitBehaviorFromName("Sideways"), Error);
}

using TokenizerBpeErrors = TempDirTest;

TEST_F(TokenizerBpeErrors, NotJson)
{
    const std::string path = writeFile("tokenizer.json", "{ \"model\": { this is not json");
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, NoVocab)
{
    Json json = tokenizerJson(gpt2PreTokenizer(false));
    json["model"].erase("vocab");
    const std::string path = writeFile("tokenizer.json", json.dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("no model.vocab"), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, UnsupportedModelType)
{
    Json json = tokenizerJson(gpt2PreTokenizer(false));
    json["model"]["type"] = "Unigram";
    const std::string path = writeFile("tokenizer.json", json.dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("model.type is \"Unigram\""), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, MergeNamesUnknownSymbol)
{
    Json merges = smallMerges();
    merges.push_back("x y");
    const std::string path = writeFile(
        "tokenizer.json", tokenizerJson(gpt2PreTokenizer(false), smallVocab(), merges).dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("model.merges[10]"), std::string::npos) << message;
    EXPECT_NE(message.find("names the symbol \"x\", which is not in model.vocab"),
              std::string::npos)
        << message;
}

TEST_F(TokenizerBpeErrors, MergeResultMissing)
{
    Json merges = smallMerges();
    merges.push_back("h o");
    const std::string path = writeFile(
        "tokenizer.json", tokenizerJson(gpt2PreTokenizer(false), smallVocab(), merges).dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("into \"ho\", which is not in model.vocab"), std::string::npos)
        << message;
}

TEST_F(TokenizerBpeErrors, MalformedMerge)
{
    Json merges = smallMerges();
    merges.push_back("h e l");
    const std::string path = writeFile(
        "tokenizer.json", tokenizerJson(gpt2PreTokenizer(false), smallVocab(), merges).dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("model.merges[10]"), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, SymbolMissingWhenEncoding)
{
    const std::string path =
        writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump());
    const auto tokenizer = loadTokenizer(path);
    const std::string message = errorMessage([&] { tokenizer->encode("hi", false, false); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("byte 0x69"), std::string::npos) << message;
    EXPECT_NE(message.find("not in model.vocab"), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, TextNotUtf8)
{
    const std::string path =
        writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump());
    const auto tokenizer = loadTokenizer(path);
    const std::string message = errorMessage([&] { tokenizer->encode("he\xFFllo", false, false); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not valid UTF-8 (byte offset 2)"), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, BadSplitPattern)
{
    Json preTokenizer = qwen2PreTokenizer();
    preTokenizer["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
    const std::string path = writeFile("tokenizer.json", tokenizerJson(preTokenizer).dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("pre_tokenizer.pretokenizers[0]"), std::string::npos) << message;
}

TEST_F(TokenizerBpeErrors, NotByteLevel)
{
    const Json metaspace = {{"type", "Metaspace"}, {"replacement", "▁"}};
    const std::string path = writeFile("tokenizer.json", tokenizerJson(metaspace).dump());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("\"Metaspace\", which is not supported"), std::string::npos)
        << message;
}

TEST_F(TokenizerBpeErrors, TokenizerLargerThanModel)
{
    const std::string path =
        writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump());
    const std::string message = errorMessage([&] { loadTokenizer(path, 20); });
    EXPECT_EQ(message, path + ": tokenizer has 25 tokens but the model's vocabulary has 20; "
                              "pass the tokenizer that belongs to this model");
    // A model embedding padded beyond the tokenizer is fine.
    EXPECT_EQ(loadTokenizer(path, 32)->vocabSize(), 25);
}

TEST_F(TokenizerBpeErrors, IdOutsideVocabulary)
{
    const std::string path =
        writeFile("tokenizer.json", tokenizerJson(gpt2PreTokenizer(false)).dump());
    const auto tokenizer = loadTokenizer(path);
    const std::string message = errorMessage([&] { tokenizer->decode({11, 99}); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("token id 99"), std::string::npos) << message;
}

} // namespace
} // namespace mq::test
