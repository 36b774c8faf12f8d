// Our SentencePiece reader against the library it replaces. Debian's libsentencepiece (v0.1.97)
// is the independent oracle here and only here: mq_tokenizer no longer links it.

#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_support.h"

#include <nlohmann/json.hpp>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

namespace mq::test {
namespace {

// Texts that exercise normalisation and unknown characters. Shakespeare (what the trained models
// see) is plain ASCII, so almost all of this is unknown to them.
const std::vector<std::string> kUnicodeTexts = {
    "naïve café — 日本 🙂 «ok»",
    "👩‍👩‍👧‍👦 family, 🇫🇷 flag, 👍🏽 thumbs, ❤️ heart",
    "Ελληνικά, русский, עברית, العربية, हिन्दी, 한국어, ไทย",
    "e\xCC\x81 (decomposed) vs \xC3\xA9 (composed); A\xCC\x8A vs \xC3\x85",
    "ＦＵＬＬ ｗｉｄｔｈ １２３, ﬁne ligature, ① ② ⅷ, ㍿, x² H₂O",
    "no\xC2\xA0"
    "break, ideographic\xE3\x80\x80space, zero\xE2\x80\x8Bwidth, \xEF\xBB\xBF"
    "bom",
    "soft\xC2\xADhyphen, thin\xE2\x80\x89space, em\xE2\x80\x83space",
    "a literal \xE2\x96\x81 lower block and \xE2\x96\x81\xE2\x96\x81 two",
    "replacement \xEF\xBF\xBD character, \xEF\xBF\xBF noncharacter, \xF4\x8F\xBF\xBF last",
    "control \x01\x02\x1F\x7F chars",
    std::string("nul\0inside", 10),
    "bad utf-8: \xC0\x80 overlong, \xED\xA0\x80 surrogate, \xF4\x90\x80\x80 too big, \x80 stray, "
    "\xE2\x82 cut",
    "\xE6\x97",
    "<s> </s> <unk> <pad> <0x41> [MASK] <sep> look like special pieces",
    "🙂",
    "日本語のテキスト、中文文本。",
};

const std::vector<std::string> kWhitespaceTexts = {
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    " \t \n ",
    "  two  spaces\n\nand\ttabs ",
    "a  b   c    d",
    "a\t\tb\n\n\nc",
    "   leading",
    "trailing   ",
    "line one\nline two\r\nline three\n",
    "\n\n\nx\n\n",
    " \xE2\x96\x81 ",
    "x",
};

// Runs of one character: the same pair can merge at several places, so BPE's leftmost-first rule
// on equal scores decides the pieces.
const std::vector<std::string> kRepeatTexts = {
    "aaaaaaaaaa",
    "eeeeeee",
    "llllll",
    "ooooooo",
    "sssssss",
    "ttttttt",
    "!!!!!!!",
    "......",
    "------",
    "=======",
    "ab ab ab abab ababab",
    "the the thethe thethethe",
    "1111122222",
    "mmmmhmmm",
    "Hooooold! Sooooft!",
    "zzzzzzzzz",
};

std::string printable(std::string_view text)
{
    std::string out = "\"";
    for (const char c : text.substr(0, 160)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || u == '"' || u == '\\') {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02X", u);
            out += buffer;
        } else {
            out += c;
        }
    }
    return out + (text.size() > 160 ? "\"..." : "\"");
}

std::string joined(const std::vector<int> &ids)
{
    std::ostringstream out;
    for (size_t i = 0; i < ids.size() && i < 60; ++i)
        out << (i ? " " : "") << ids[i];
    if (ids.size() > 60)
        out << " ...";
    return out.str();
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

class SentencePieceOracleTest : public SharedDataTest
{
protected:
    // What every model is compared on: the reference sample, every line of the TinyStories
    // sample, 200 consecutive chunks covering wikitext-2's test split, Shakespeare beyond what
    // the trained models saw, Unicode and emoji, whitespace runs, the empty string and runs of
    // one character.
    std::vector<std::string> corpus() const
    {
        std::vector<std::string> texts;
        const nlohmann::json reference = nlohmann::json::parse(readFile(shared("reference/stories260K.json")));
        texts.push_back(reference.at("sample_text").get<std::string>());

        std::istringstream stories(readFile(shared("data/tinystories/TinyStories-valid.sample30K.txt")));
        for (std::string line; std::getline(stories, line);)
            texts.push_back(line);

        // Chunk edges fall anywhere, inside UTF-8 characters too: malformed input for free.
        const std::string wiki = readFile(shared("data/wikitext-2-raw/wiki.test.raw"));
        constexpr size_t kChunks = 200;
        const size_t chunk = (wiki.size() + kChunks - 1) / kChunks;
        for (size_t at = 0; at < wiki.size(); at += chunk)
            texts.push_back(wiki.substr(at, chunk));

        const std::string shakespeare = readFile(shared("data/tinyshakespeare/input.txt"));
        for (size_t at = kTrainingBytes; at + 1500 <= shakespeare.size() && texts.size() < 500; at += 17000)
            texts.push_back(shakespeare.substr(at, 1500));

        texts.insert(texts.end(), kUnicodeTexts.begin(), kUnicodeTexts.end());
        texts.insert(texts.end(), kWhitespaceTexts.begin(), kWhitespaceTexts.end());
        texts.insert(texts.end(), kRepeatTexts.begin(), kRepeatTexts.end());
        return texts;
    }

    // Trains a SentencePiece model on the start of Tiny Shakespeare with Debian's spm_train into
    // the test's temp dir; "" (and a failure) when that cannot be done.
    std::string trainModel(const std::string &name, const std::vector<std::string> &options)
    {
        const char *pathVariable = std::getenv("PATH");
        std::string trainer;
        std::istringstream dirs(pathVariable ? pathVariable : "");
        for (std::string dir; trainer.empty() && std::getline(dirs, dir, ':');)
            if (!dir.empty() && ::access((dir + "/spm_train").c_str(), X_OK) == 0)
                trainer = dir + "/spm_train";
        if (trainer.empty()) {
            ADD_FAILURE() << "spm_train is not on PATH. These tests train their SentencePiece "
                             "models with it: install Debian's `sentencepiece` package "
                             "(apt-get install sentencepiece), which scripts/setup.sh lists.";
            return {};
        }
        const std::string input = writeFile(
            "shakespeare.txt", readFile(shared("data/tinyshakespeare/input.txt")).substr(0, kTrainingBytes));
        const std::string prefix = (m_tempDir / name).string();
        const std::string log = prefix + ".log";
        // Options such as --user_defined_symbols=<sep> must not reach the shell unquoted.
        std::string command = "'" + trainer + "' '--input=" + input + "' '--model_prefix=" + prefix
            + "' --num_threads=1 --minloglevel=1";
        for (const std::string &option : options)
            command += " '" + option + "'";
        command += " > '" + log + "' 2>&1";
        if (std::system(command.c_str()) != 0) {
            ADD_FAILURE() << "spm_train failed: " << command << "\n" << readFile(log);
            return {};
        }
        return prefix + ".model";
    }

    static void loadOracle(sentencepiece::SentencePieceProcessor &oracle, const std::string &path)
    {
        const sentencepiece::util::Status status = oracle.Load(path);
        ASSERT_TRUE(status.ok()) << path << ": " << status.ToString();
    }

    // Encode with and without BOS/EOS, decode of those ids, and decodePiece concatenation, on
    // every text; reports the first few mismatches in full.
    static void expectAgreement(const std::string &path, const std::vector<std::string> &texts)
    {
        sentencepiece::SentencePieceProcessor oracle;
        ASSERT_NO_FATAL_FAILURE(loadOracle(oracle, path));
        const auto loaded = loadTokenizer(path);
        const auto &ours = dynamic_cast<const SentencePieceTokenizer &>(*loaded);
        ASSERT_EQ(ours.vocabSize(), oracle.GetPieceSize());
        ASSERT_EQ(ours.bosId(), oracle.bos_id());
        ASSERT_EQ(ours.eosId(), oracle.eos_id());

        size_t mismatches = 0;
        const auto report = [&](const std::string &what, const std::string &text, const std::string &detail) {
            if (++mismatches <= 5)
                ADD_FAILURE() << path << ": " << what << " differs on " << printable(text) << "\n" << detail;
        };
        for (const std::string &text : texts) {
            std::vector<int> expected;
            ASSERT_TRUE(oracle.Encode(text, &expected).ok());
            const std::vector<int> ids = ours.encode(text, false, false);
            if (ids != expected) {
                std::vector<std::string> pieces;
                oracle.Encode(text, &pieces).IgnoreError();
                std::string libraryPieces;
                for (const std::string &piece : pieces)
                    libraryPieces += piece + " ";
                report("encode", text,
                    "  ours:    " + joined(ids) + "\n  library: " + joined(expected) + "\n  library pieces: "
                        + printable(libraryPieces) + "\n  our normalisation: " + printable(ours.normalize(text)));
                continue;
            }
            std::vector<int> framed = expected;
            if (oracle.bos_id() >= 0)
                framed.insert(framed.begin(), oracle.bos_id());
            if (oracle.eos_id() >= 0)
                framed.push_back(oracle.eos_id());
            if (ours.encode(text, true, true) != framed)
                report("encode with BOS/EOS", text, "  ours: " + joined(ours.encode(text, true, true)));

            for (const std::vector<int> *sequence : { &expected, &framed }) {
                std::string libraryText;
                ASSERT_TRUE(oracle.Decode(*sequence, &libraryText).ok());
                const std::string decoded = ours.decode(*sequence);
                if (decoded != libraryText)
                    report(
                        "decode", text, "  ours:    " + printable(decoded) + "\n  library: " + printable(libraryText));
                if (concatenatedPieces(ours, *sequence) != decoded)
                    report("decodePiece concatenation", text, "  ids: " + joined(*sequence));
            }
        }
        EXPECT_EQ(mismatches, 0u) << "mismatches over " << texts.size() << " texts";
    }

    // Decoding of arbitrary sequences of ordinary pieces (what a model generates), BOS first or
    // not. Byte pieces >= 0x80 and control pieces are left out: there our decoding differs on
    // purpose (see DocumentsWhereDecodingDiffers).
    static void expectRandomSequencesDecodeAlike(const std::string &path)
    {
        sentencepiece::SentencePieceProcessor oracle;
        ASSERT_NO_FATAL_FAILURE(loadOracle(oracle, path));
        const auto ours = loadTokenizer(path);
        std::vector<int> ordinary;
        for (int id = 0; id < oracle.GetPieceSize(); ++id) {
            const bool highByte = oracle.IsByte(id) && oracle.IdToPiece(id) >= "<0x80>";
            if (!oracle.IsControl(id) && !highByte)
                ordinary.push_back(id);
        }
        ASSERT_FALSE(ordinary.empty());
        std::mt19937 random(20240607);
        std::uniform_int_distribution<size_t> pick(0, ordinary.size() - 1);
        std::uniform_int_distribution<int> length(1, 12);
        size_t mismatches = 0;
        for (int round = 0; round < 2000; ++round) {
            std::vector<int> ids;
            if (round % 2 == 0 && oracle.bos_id() >= 0)
                ids.push_back(oracle.bos_id());
            for (int n = length(random); n > 0; --n)
                ids.push_back(ordinary[pick(random)]);
            // A lone U+2581 piece first decodes to nothing, after which the library drops the
            // next piece's space too; decodePiece cannot see that far back.
            const size_t first = ids.front() == oracle.bos_id() ? 1 : 0;
            if (oracle.IdToPiece(ids[first]) == "\xE2\x96\x81")
                continue;
            std::string libraryText;
            ASSERT_TRUE(oracle.Decode(ids, &libraryText).ok());
            if (ours->decode(ids) != libraryText && ++mismatches <= 5)
                ADD_FAILURE() << path << ": decode of " << joined(ids)
                              << "\n  ours:    " << printable(ours->decode(ids))
                              << "\n  library: " << printable(libraryText);
        }
        EXPECT_EQ(mismatches, 0u);
    }

    static constexpr size_t kTrainingBytes = 200000;
};

using TokenizerSentencePieceOracle = SentencePieceOracleTest;

// llama2.c's tok512: BPE, byte fallback, identity normalisation, extra whitespace removed.
TEST_F(TokenizerSentencePieceOracle, Tok512AgreesWithLibrary)
{
    const std::string path = shared("models/stories260K/tok512.model");
    expectAgreement(path, corpus());
    expectRandomSequencesDecodeAlike(path);
}

// Default normalisation (nmt_nfkc, run from the model's own compiled rules), byte fallback and
// user-defined pieces, which UNIGRAM favours by a bonus.
TEST_F(TokenizerSentencePieceOracle, TrainedUnigramWithByteFallbackAgrees)
{
    const std::string path = trainModel("unigram_bytes",
        { "--model_type=unigram", "--vocab_size=500", "--byte_fallback=true",
            "--user_defined_symbols=<sep>,[MASK],lord" });
    ASSERT_FALSE(path.empty());
    expectAgreement(path, corpus());
    expectRandomSequencesDecodeAlike(path);
}

// Unknown characters as <unk> (a run of them becomes one id), nmt_nfkc normalisation.
TEST_F(TokenizerSentencePieceOracle, TrainedBpeWithUnkAgrees)
{
    const std::string path = trainModel("bpe_unk", { "--model_type=bpe", "--vocab_size=300" });
    ASSERT_FALSE(path.empty());
    expectAgreement(path, corpus());
    expectRandomSequencesDecodeAlike(path);
}

// Whitespace kept as it is (no dummy prefix, no removal), identity normalisation, digits split.
TEST_F(TokenizerSentencePieceOracle, TrainedUnigramKeepingWhitespaceAgrees)
{
    const std::string path = trainModel("unigram_raw",
        { "--model_type=unigram", "--vocab_size=300", "--normalization_rule_name=identity", "--add_dummy_prefix=false",
            "--remove_extra_whitespaces=false", "--split_digits=true", "--allow_whitespace_only_pieces=true",
            "--unk_surface=<?>" });
    ASSERT_FALSE(path.empty());
    expectAgreement(path, corpus());
    expectRandomSequencesDecodeAlike(path);
}

// U+2581 as a suffix, case-folding NFKC, byte fallback, user-defined and control pieces, and
// BOS/EOS at other ids.
TEST_F(TokenizerSentencePieceOracle, TrainedBpeWithSuffixSpacesAgrees)
{
    const std::string path = trainModel("bpe_suffix",
        { "--model_type=bpe", "--vocab_size=500", "--byte_fallback=true", "--normalization_rule_name=nmt_nfkc_cf",
            "--treat_whitespace_as_suffix=true", "--user_defined_symbols=<sep>,[MASK]", "--control_symbols=<ctl>",
            "--unk_id=3", "--bos_id=0", "--eos_id=1", "--pad_id=2" });
    ASSERT_FALSE(path.empty());
    expectAgreement(path, corpus());
    expectRandomSequencesDecodeAlike(path);
}

TEST_F(TokenizerSentencePieceOracle, TrainedWordAndCharModelsAgree)
{
    for (const char *type : { "word", "char" }) {
        const std::string path = trainModel(type, { std::string("--model_type=") + type, "--vocab_size=300" });
        ASSERT_FALSE(path.empty());
        expectAgreement(path, corpus());
    }
}

// A rule of our own (spm_train compiles the TSV into the same precompiled_charsmap form): A -> a,
// "th" -> "TH", ideographic space -> space, zero-width space -> nothing.
TEST_F(TokenizerSentencePieceOracle, TrainedWithCustomNormalisationRuleAgrees)
{
    const std::string rules = writeFile("rules.tsv", "41\t61\n74 68\t54 48\n3000\t20\n200B\t\n");
    const std::string path
        = trainModel("custom_rule", { "--model_type=bpe", "--vocab_size=300", "--normalization_rule_tsv=" + rules });
    ASSERT_FALSE(path.empty());
    EXPECT_FALSE(loadSentencePieceModel(path).normalizer.precompiledCharsmap.empty());
    expectAgreement(path, corpus());
}

// A decode-side rule rewrites the whole decoded text, which decodePiece cannot do: refused.
TEST_F(TokenizerSentencePieceOracle, RefusesDecodeSideNormalisation)
{
    const std::string rules = writeFile("denormalize.tsv", "41\t42\n");
    const std::string path
        = trainModel("denormalized", { "--model_type=bpe", "--vocab_size=300", "--denormalization_rule_tsv=" + rules });
    ASSERT_FALSE(path.empty());
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("decoding normalisation rule"), std::string::npos) << message;
    EXPECT_NE(message.find("not supported"), std::string::npos) << message;
}

// Where decodePiece, seeing only the previous id, cannot do what the library does with the
// whole sequence. docs/tokenizers.md lists these; the assertions keep that list honest.
TEST_F(TokenizerSentencePieceOracle, DocumentsWhereDecodingDiffers)
{
    const std::string path = shared("models/stories260K/tok512.model");
    sentencepiece::SentencePieceProcessor oracle;
    ASSERT_NO_FATAL_FAILURE(loadOracle(oracle, path));
    const auto ours = loadTokenizer(path);
    const auto libraryDecode = [&](const std::vector<int> &ids) {
        std::string text;
        EXPECT_TRUE(oracle.Decode(ids, &text).ok());
        return text;
    };
    const int once = oracle.PieceToId("\xE2\x96\x81Once");
    const int space = oracle.PieceToId("\xE2\x96\x81");
    const int e6 = oracle.PieceToId("<0xE6>");
    ASSERT_NE(once, oracle.unk_id());
    ASSERT_NE(space, oracle.unk_id());
    ASSERT_TRUE(oracle.IsByte(e6));

    // Byte pieces that do not form UTF-8: the library prints U+FFFD, we the raw byte (a stream
    // completes the character with the next pieces).
    EXPECT_EQ(libraryDecode({ 1, e6 }), "\xEF\xBF\xBD");
    EXPECT_EQ(ours->decode({ 1, e6 }), "\xE6");
    // A control token other than a leading BOS before a word: the library still drops the space.
    EXPECT_EQ(libraryDecode({ 2, once }), "Once");
    EXPECT_EQ(ours->decode({ 2, once }), " Once");
    // A lone U+2581 first leaves the text empty, so the library drops the next space as well.
    EXPECT_EQ(libraryDecode({ space, once }), "Once");
    EXPECT_EQ(ours->decode({ space, once }), " Once");
    // Everywhere else they agree, e.g. after a leading BOS.
    EXPECT_EQ(ours->decode({ 1, once, once }), libraryDecode({ 1, once, once }));
}

// A protobuf writer for hand-made model files.
std::string varint(uint64_t value)
{
    std::string out;
    do {
        out += static_cast<char>((value & 0x7F) | (value > 0x7F ? 0x80 : 0));
        value >>= 7;
    } while (value != 0);
    return out;
}

std::string tag(int field, int wireType)
{
    return varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wireType));
}
std::string varintField(int field, uint64_t value)
{
    return tag(field, 0) + varint(value);
}
std::string bytesField(int field, const std::string &payload)
{
    return tag(field, 2) + varint(payload.size()) + payload;
}

std::string fixed32Field(int field, float value)
{
    uint32_t bits = 0;
    std::memcpy(&bits, &value, 4);
    std::string out = tag(field, 5);
    for (int i = 0; i < 4; ++i)
        out += static_cast<char>((bits >> (8 * i)) & 0xFF);
    return out;
}

std::string fixed64Field(int field, uint64_t value)
{
    std::string out = tag(field, 1);
    for (int i = 0; i < 8; ++i)
        out += static_cast<char>((value >> (8 * i)) & 0xFF);
    return out;
}

// Unknown fields of every wire type protobuf lets a message carry (no groups).
std::vector<std::string> unknownFieldList(int firstField)
{
    return { varintField(firstField, 300), fixed64Field(firstField + 1, 0x0123456789ABCDEFull),
        bytesField(firstField + 2, "skip me"), fixed32Field(firstField + 3, 1.5f) };
}

std::string unknownFields(int firstField)
{
    std::string out;
    for (const std::string &field : unknownFieldList(firstField))
        out += field;
    return out;
}

std::string pieceField(const std::string &text, float score, int type, const std::string &extra = {})
{
    return bytesField(
        1, bytesField(1, text) + fixed32Field(2, score) + varintField(3, static_cast<uint64_t>(type)) + extra);
}

// The top-level fields of a tiny BPE model: <unk> <s> </s> ▁a ab ▁ a b c, with unknown fields
// everywhere.
std::vector<std::string> tinyBpeFields(const std::string &extraPieces = {}, bool withUnk = true)
{
    const std::string space = "\xE2\x96\x81";
    std::vector<std::string> fields;
    if (withUnk)
        fields.push_back(pieceField("<unk>", 0, 2, unknownFields(200)));
    fields.push_back(pieceField("<s>", 0, 3));
    fields.push_back(pieceField("</s>", 0, 3));
    for (const std::string &field : unknownFieldList(90))
        fields.push_back(field);
    for (const auto &[text, score] : std::vector<std::pair<std::string, float>> {
             { space + "a", -1 }, { "ab", -2 }, { space, -3 }, { "a", -4 }, { "b", -5 }, { "c", -6 } })
        fields.push_back(pieceField(text, score, 1, text == "ab" ? unknownFields(210) : std::string()));
    if (!extraPieces.empty())
        fields.push_back(extraPieces);
    // pad_id = -1 is written as a 10-byte varint, as protobuf writes negative int32s.
    fields.push_back(bytesField(2,
        unknownFields(100) + varintField(3, 2) + varintField(43, static_cast<uint64_t>(-1))
            + bytesField(1, "input.txt")));
    fields.push_back(bytesField(3, bytesField(1, "identity") + unknownFields(100) + varintField(3, 1)));
    fields.push_back(bytesField(4, ""));
    return fields;
}

std::string tinyBpeModel(const std::string &extraPieces = {}, bool withUnk = true)
{
    std::string model;
    for (const std::string &field : tinyBpeFields(extraPieces, withUnk))
        model += field;
    return model;
}

using TokenizerSentencePieceParser = TempDirTest;

TEST_F(TokenizerSentencePieceParser, SkipsUnknownFieldsOfEveryWireType)
{
    const std::string path = writeFile("tiny.model", tinyBpeModel());
    const SentencePieceModel model = loadSentencePieceModel(path);
    ASSERT_EQ(model.pieces.size(), 9u);
    EXPECT_EQ(model.pieces[4].text, "ab");
    EXPECT_EQ(model.pieces[4].score, -2.0f);
    EXPECT_EQ(model.pieces[1].type, SentencePieceModel::PieceType::Control);
    EXPECT_EQ(model.modelType, SentencePieceModel::ModelType::Bpe);
    EXPECT_EQ(model.padId, -1);
    EXPECT_EQ(model.normalizer.name, "identity");

    // "ab abc" -> ▁a b ▁a b c: ▁a outscores ab, and ▁ab is no piece. The library reads the same
    // file the same way.
    const auto tokenizer = loadTokenizer(path);
    EXPECT_EQ(tokenizer->encode("ab abc", true, true), (std::vector<int> { 1, 3, 7, 3, 7, 8, 2 }));
    sentencepiece::SentencePieceProcessor oracle;
    ASSERT_TRUE(oracle.Load(path).ok());
    std::vector<int> ids;
    ASSERT_TRUE(oracle.Encode("ab abc", &ids).ok());
    EXPECT_EQ(ids, (std::vector<int> { 3, 7, 3, 7, 8 }));
}

TEST_F(TokenizerSentencePieceParser, TruncatedFileNamesFileAndOffset)
{
    const std::string model = tinyBpeModel();
    std::vector<size_t> boundaries;
    size_t end = 0;
    for (const std::string &field : tinyBpeFields())
        boundaries.push_back(end += field.size());
    // Every cut inside a field; a cut between fields leaves a shorter but valid file.
    for (size_t cut = 1; cut < model.size(); ++cut) {
        if (std::find(boundaries.begin(), boundaries.end(), cut) != boundaries.end())
            continue;
        const std::string path = writeFile("cut.model", model.substr(0, cut));
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("at byte "), std::string::npos) << message;
    }
    // Inside a varint: a tag and then a length whose continuation bit promises more.
    const std::string path = writeFile("varint.model", "\x0A\x80");
    EXPECT_EQ(errorMessage([&] { loadTokenizer(path); }),
        path
            + ": not a valid SentencePiece model: truncated varint (length of pieces) at "
              "byte 1 (in ModelProto)");
}

TEST_F(TokenizerSentencePieceParser, GarbageBytesNameFileAndOffset)
{
    for (const std::string &bytes : { std::string("this is not a protobuf \xFF\xFF\xFF\xFF"), std::string(12, '\xFF'),
             std::string("\x07\x00\x00\x00", 4) }) {
        const std::string path = writeFile("garbage.model", bytes);
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("not a valid SentencePiece model"), std::string::npos) << message;
        EXPECT_NE(message.find("at byte 0"), std::string::npos) << message;
    }
}

TEST_F(TokenizerSentencePieceParser, LengthPastTheEnd)
{
    const std::string path = writeFile("long.model",
        tinyBpeModel()
            + "\x0A\x64"
              "abc");
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    const size_t lengthAt = tinyBpeModel().size() + 1;
    EXPECT_EQ(message,
        path
            + ": not a valid SentencePiece model: length 100 of pieces runs past the "
              "end of ModelProto (only 3 bytes remain) at byte "
            + std::to_string(lengthAt) + " (in ModelProto)");
}

TEST_F(TokenizerSentencePieceParser, WrongWireTypeForKnownField)
{
    // A score written as a varint inside the first piece (which starts at byte 2).
    const std::string path = writeFile("wire.model", bytesField(1, bytesField(1, "a") + varintField(2, 1)));
    const std::string message = errorMessage([&] { loadTokenizer(path); });
    EXPECT_EQ(message,
        path
            + ": not a valid SentencePiece model: score (field 2) has wire type 0 "
              "(varint), expected 5 (fixed32) at byte 5 (in ModelProto.pieces[0])");
}

TEST_F(TokenizerSentencePieceParser, NoPieces)
{
    for (const std::string &bytes : { std::string(), varintField(4000, 1) + bytesField(3, "") }) {
        const std::string path = writeFile("empty.model", bytes);
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("no pieces"), std::string::npos) << message;
        EXPECT_NE(message.find("at byte " + std::to_string(bytes.size())), std::string::npos) << message;
    }
}

// Files the library refuses to load are refused here too, with the file and the piece named.
TEST_F(TokenizerSentencePieceParser, RejectsModelsTheLibraryRejects)
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        { tinyBpeModel({}, false), "no unknown piece" },
        { tinyBpeModel(pieceField("<0x41>", 0, 6)), "byte_fallback is false" },
        { tinyBpeModel(pieceField("ab", 0, 1)), "piece 9 (\"ab\") repeats piece 4" },
        { tinyBpeModel(pieceField("", 0, 1)), "piece 9 is empty" },
    };
    for (const auto &[bytes, expected] : cases) {
        const std::string path = writeFile("rejected.model", bytes);
        const std::string message = errorMessage([&] { loadTokenizer(path); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
        sentencepiece::SentencePieceProcessor oracle;
        EXPECT_FALSE(oracle.Load(path).ok()) << expected;
    }
}

using TokenizerSentencePieceParserFuzz = SharedDataTest;

// Random byte changes and cuts of real model files: each must load (and then encode) or throw
// mq::Error; never crash, hang or throw anything else. Worth running under the asan preset.
TEST_F(TokenizerSentencePieceParserFuzz, MutatedModelsLoadOrThrowMqError)
{
    std::mt19937 random(7);
    for (const std::string &original : { readFile(shared("models/stories260K/tok512.model")), tinyBpeModel() }) {
        std::uniform_int_distribution<size_t> position(0, original.size() - 1);
        std::uniform_int_distribution<int> byte(0, 255);
        for (int round = 0; round < 300; ++round) {
            std::string bytes = original;
            for (int n = 1 + round % 4; n > 0; --n)
                bytes[position(random)] = static_cast<char>(byte(random));
            if (round % 3 == 0)
                bytes.resize(position(random));
            const std::string path = writeFile("mutated.model", bytes);
            try {
                const auto tokenizer = loadTokenizer(path);
                const std::vector<int> ids = tokenizer->encode(kUnicodeTexts[0] + " Once upon a time", true, true);
                tokenizer->decode(ids);
            } catch (const mq::Error &e) {
                EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
            }
        }
    }
}

} // namespace
} // namespace mq::test
