#include "core/tokenizer/sentencepiece_model.h"

#include "core/tokenizer/loader_support.h"
#include "core/util/error.h"

#include <cstdint>
#include <cstring>

namespace mq {

namespace {

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/#structure).
enum WireType : int {
    kVarint = 0,
    kFixed64 = 1,
    kLengthDelimited = 2,
    kStartGroup = 3,
    kEndGroup = 4,
    kFixed32 = 5,
};

// A 64-bit varint never takes more than 10 bytes.
constexpr int kMaxVarintBytes = 10;

const char *wireTypeName(int type)
{
    switch (type) {
    case kVarint:
        return "varint";
    case kFixed64:
        return "fixed64";
    case kLengthDelimited:
        return "length-delimited";
    case kStartGroup:
        return "start group";
    case kEndGroup:
        return "end group";
    case kFixed32:
        return "fixed32";
    default:
        return "invalid";
    }
}

struct Field
{
    uint32_t number = 0;
    int wireType = 0;
    // Where the field's tag starts, counted from the start of the file.
    size_t offset = 0;
};

// Reads the fields of one message: bytes [begin, end) of the whole file, so that every error can
// give the offset from the start of the file, which is what a hex dump shows.
class WireReader
{
public:
    WireReader(std::string_view file, size_t begin, size_t end, const std::string &path, std::string message)
        : m_file(file)
        , m_at(begin)
        , m_end(end)
        , m_path(path)
        , m_message(std::move(message))
    {
    }

    bool atEnd() const { return m_at >= m_end; }
    const std::string &message() const { return m_message; }

    Field nextField()
    {
        Field field;
        field.offset = m_at;
        const uint64_t tag = readVarint("field tag");
        field.wireType = static_cast<int>(tag & 7);
        const uint64_t number = tag >> 3;
        // Field numbers are 1 .. 2^29 - 1.
        if (number == 0 || number > (uint64_t { 1 } << 29) - 1)
            fail(field.offset, "field number " + std::to_string(number) + " is not a valid one");
        field.number = static_cast<uint32_t>(number);
        if (field.wireType == kStartGroup || field.wireType == kEndGroup)
            fail(field.offset,
                "field " + std::to_string(number) + " is a group (wire type " + std::to_string(field.wireType)
                    + "), which no SentencePiece model uses");
        if (field.wireType > kFixed32)
            fail(field.offset,
                "field " + std::to_string(number) + " has wire type " + std::to_string(field.wireType)
                    + ", which does not exist");
        return field;
    }

    uint64_t varint(const Field &field, const char *name)
    {
        expect(field, kVarint, name);
        return readVarint(name);
    }

    int32_t int32(const Field &field, const char *name)
    {
        // protobuf keeps the low 32 bits (negative int32 values are written as 10-byte varints).
        return static_cast<int32_t>(static_cast<uint32_t>(varint(field, name)));
    }

    bool boolean(const Field &field, const char *name) { return varint(field, name) != 0; }

    float float32(const Field &field, const char *name)
    {
        expect(field, kFixed32, name);
        if (m_end - m_at < 4)
            fail(m_at, std::string("truncated fixed32 (") + name + ")");
        uint32_t bits = 0;
        for (int i = 3; i >= 0; --i)
            bits = (bits << 8) | static_cast<unsigned char>(m_file[m_at + static_cast<size_t>(i)]);
        m_at += 4;
        float value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }

    std::string string(const Field &field, const char *name)
    {
        const auto [begin, end] = lengthDelimited(field, name);
        return std::string(m_file.substr(begin, end - begin));
    }

    WireReader subMessage(const Field &field, const char *name, const std::string &message)
    {
        const auto [begin, end] = lengthDelimited(field, name);
        return WireReader(m_file, begin, end, m_path, message);
    }

    void skip(const Field &field)
    {
        switch (field.wireType) {
        case kVarint:
            readVarint("unknown varint field");
            break;
        case kFixed64:
        case kFixed32: {
            const size_t size = field.wireType == kFixed64 ? 8 : 4;
            if (m_end - m_at < size)
                fail(m_at,
                    "truncated " + std::string(wireTypeName(field.wireType)) + " field "
                        + std::to_string(field.number));
            m_at += size;
            break;
        }
        case kLengthDelimited:
            lengthDelimited(field, "unknown field");
            break;
        default:
            fail(field.offset, "cannot skip wire type " + std::to_string(field.wireType));
        }
    }

    [[noreturn]] void fail(size_t offset, const std::string &what) const
    {
        failFile(m_path,
            "not a valid SentencePiece model: " + what + " at byte " + std::to_string(offset) + " (in " + m_message
                + ")");
    }

private:
    void expect(const Field &field, int wireType, const char *name) const
    {
        if (field.wireType != wireType)
            fail(field.offset,
                std::string(name) + " (field " + std::to_string(field.number) + ") has wire type "
                    + std::to_string(field.wireType) + " (" + wireTypeName(field.wireType) + "), expected "
                    + std::to_string(wireType) + " (" + wireTypeName(wireType) + ")");
    }

    uint64_t readVarint(const std::string &what)
    {
        const size_t start = m_at;
        uint64_t value = 0;
        for (int i = 0; i < kMaxVarintBytes; ++i) {
            if (m_at >= m_end)
                fail(start, "truncated varint (" + what + ")");
            const auto byte = static_cast<unsigned char>(m_file[m_at++]);
            value |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
            if ((byte & 0x80) == 0)
                return value;
        }
        fail(start, "varint longer than 10 bytes (" + what + ")");
    }

    // [begin, end) of a length-delimited field's payload; moves past it.
    std::pair<size_t, size_t> lengthDelimited(const Field &field, const char *name)
    {
        expect(field, kLengthDelimited, name);
        const size_t lengthAt = m_at;
        const uint64_t length = readVarint(std::string("length of ") + name);
        const size_t remain = m_end - m_at;
        if (length > remain)
            fail(lengthAt,
                std::string("length ") + std::to_string(length) + " of " + name + " runs past the end of " + m_message
                    + " (only " + std::to_string(remain) + " bytes remain)");
        const size_t begin = m_at;
        m_at += static_cast<size_t>(length);
        return { begin, m_at };
    }

    std::string_view m_file;
    size_t m_at;
    size_t m_end;
    const std::string &m_path;
    std::string m_message;
};

SentencePieceModel::Piece readPiece(WireReader reader)
{
    SentencePieceModel::Piece piece;
    while (!reader.atEnd()) {
        const Field field = reader.nextField();
        switch (field.number) {
        case 1:
            piece.text = reader.string(field, "piece");
            break;
        case 2:
            piece.score = reader.float32(field, "score");
            break;
        case 3: {
            const int32_t type = reader.int32(field, "type");
            if (type < 1 || type > 6)
                reader.fail(field.offset, "type " + std::to_string(type) + " is not a known piece type (1..6)");
            piece.type = static_cast<SentencePieceModel::PieceType>(type);
            break;
        }
        default:
            reader.skip(field);
        }
    }
    return piece;
}

void readTrainerSpec(WireReader reader, SentencePieceModel &model)
{
    while (!reader.atEnd()) {
        const Field field = reader.nextField();
        switch (field.number) {
        case 3: {
            const int32_t type = reader.int32(field, "model_type");
            if (type < 1 || type > 4)
                reader.fail(field.offset, "model_type " + std::to_string(type) + " is not a known model type (1..4)");
            model.modelType = static_cast<SentencePieceModel::ModelType>(type);
            break;
        }
        case 24:
            model.treatWhitespaceAsSuffix = reader.boolean(field, "treat_whitespace_as_suffix");
            break;
        case 35:
            model.byteFallback = reader.boolean(field, "byte_fallback");
            break;
        case 40:
            model.unkId = reader.int32(field, "unk_id");
            break;
        case 41:
            model.bosId = reader.int32(field, "bos_id");
            break;
        case 42:
            model.eosId = reader.int32(field, "eos_id");
            break;
        case 43:
            model.padId = reader.int32(field, "pad_id");
            break;
        case 44:
            model.unkSurface = reader.string(field, "unk_surface");
            model.hasUnkSurface = true;
            break;
        case 45:
            model.unkPiece = reader.string(field, "unk_piece");
            break;
        case 46:
            model.bosPiece = reader.string(field, "bos_piece");
            break;
        case 47:
            model.eosPiece = reader.string(field, "eos_piece");
            break;
        case 48:
            model.padPiece = reader.string(field, "pad_piece");
            break;
        default:
            reader.skip(field);
        }
    }
}

void readNormalizerSpec(WireReader reader, SentencePieceModel::Normalizer &spec)
{
    while (!reader.atEnd()) {
        const Field field = reader.nextField();
        switch (field.number) {
        case 1:
            spec.name = reader.string(field, "name");
            break;
        case 2:
            spec.precompiledCharsmap = reader.string(field, "precompiled_charsmap");
            break;
        case 3:
            spec.addDummyPrefix = reader.boolean(field, "add_dummy_prefix");
            break;
        case 4:
            spec.removeExtraWhitespaces = reader.boolean(field, "remove_extra_whitespaces");
            break;
        case 5:
            spec.escapeWhitespaces = reader.boolean(field, "escape_whitespaces");
            break;
        default:
            reader.skip(field);
        }
    }
}

} // namespace

SentencePieceModel parseSentencePieceModel(std::string_view bytes, const std::string &path)
{
    SentencePieceModel model;
    WireReader reader(bytes, 0, bytes.size(), path, "ModelProto");
    // A message field that appears twice is merged, as protobuf does, so each spec is read into
    // the same struct.
    while (!reader.atEnd()) {
        const Field field = reader.nextField();
        switch (field.number) {
        case 1: {
            const std::string name = "ModelProto.pieces[" + std::to_string(model.pieces.size()) + "]";
            model.pieces.push_back(readPiece(reader.subMessage(field, "pieces", name)));
            break;
        }
        case 2:
            readTrainerSpec(reader.subMessage(field, "trainer_spec", "ModelProto.trainer_spec"), model);
            break;
        case 3:
            readNormalizerSpec(
                reader.subMessage(field, "normalizer_spec", "ModelProto.normalizer_spec"), model.normalizer);
            break;
        case 5:
            readNormalizerSpec(
                reader.subMessage(field, "denormalizer_spec", "ModelProto.denormalizer_spec"), model.denormalizer);
            model.hasDenormalizer = true;
            break;
        default:
            reader.skip(field);
        }
    }
    if (model.pieces.empty())
        reader.fail(bytes.size(), "no pieces (ModelProto field 1) before the end of the file");
    return model;
}

SentencePieceModel loadSentencePieceModel(const std::string &path)
{
    return parseSentencePieceModel(readWholeFile(path), path);
}

} // namespace mq
