#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mq {

// The parts of a SentencePiece `.model` file (a serialised `sentencepiece.ModelProto`, see
// sentencepiece_model.proto in SentencePiece v0.1.97) that encoding and decoding use, read by
// hand from the protobuf wire format so that no protobuf runtime is linked (see
// docs/tokenizers.md for why). Field defaults are the .proto's. A plain value: any thread may
// read it.
struct SentencePieceModel
{
    // ModelProto.SentencePiece.Type.
    enum class PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };
    // TrainerSpec.ModelType.
    enum class ModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 };

    struct Piece
    {
        std::string text;
        float score = 0;
        PieceType type = PieceType::Normal;
    };

    // A NormalizerSpec (normalizer_spec, field 3, or denormalizer_spec, field 5).
    struct Normalizer
    {
        std::string name;
        // sentencepiece's compiled rules: a uint32 trie size, a Darts-clone double array, then the
        // NUL-separated replacement strings. Empty for the "identity" rule.
        std::string precompiledCharsmap;
        bool addDummyPrefix = true;
        bool removeExtraWhitespaces = true;
        bool escapeWhitespaces = true;
    };

    // ModelProto.pieces (field 1), in id order.
    std::vector<Piece> pieces;

    // From ModelProto.trainer_spec (field 2).
    ModelType modelType = ModelType::Unigram;
    bool byteFallback = false;
    bool treatWhitespaceAsSuffix = false;
    // The ids the trainer was asked for. The library itself finds unk / bos / eos by piece text
    // (unkPiece, bosPiece, eosPiece), so those are what the tokenizer uses.
    int unkId = 0;
    int bosId = 1;
    int eosId = 2;
    int padId = -1;
    std::string unkPiece = "<unk>";
    std::string bosPiece = "<s>";
    std::string eosPiece = "</s>";
    std::string padPiece = "<pad>";
    // What decoding prints for <unk>; the library's default (" \u2047 ") applies only when the
    // field is absent, so presence is recorded.
    bool hasUnkSurface = false;
    std::string unkSurface;

    Normalizer normalizer;
    bool hasDenormalizer = false;
    Normalizer denormalizer;
};

// Parses the bytes of a `.model` file. Throws mq::Error naming `path` and the byte offset for
// anything malformed: a truncated varint or fixed field, a length that runs past the end, a
// known field with the wrong wire type, a group (wire types 3 and 4), an unknown enum value, or
// no pieces at all. Unknown fields are skipped, as protobuf does.
SentencePieceModel parseSentencePieceModel(std::string_view bytes, const std::string &path);

// Reads and parses `path`; throws mq::Error naming it when it cannot be read or parsed.
SentencePieceModel loadSentencePieceModel(const std::string &path);

} // namespace mq
