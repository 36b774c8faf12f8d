#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/tokenizer/pair_merge.h"

#include "core/tokenizer/loader_support.h"
#include "core/util/error.h"

#include <algorithm>
#include <cfloat>
#include <functional>
#include <queue>

// The algorithms below are ports of SentencePiece v0.1.97 (Debian 12's libsentencepiece, which
// the tests use as the oracle): normalizer.cc, model_interface.cc, bpe_model.cc,
// unigram_model.cc (EncodeOptimized, the library's default), word_model.cc, char_model.cc and
// SentencePieceProcessor::{Encode,Decode}. Their quirks are kept on purpose, since agreement
// with the library is the point; each is marked where it occurs.

namespace mq {

namespace {

using PieceType = SentencePieceModel::PieceType;
using ModelType = SentencePieceModel::ModelType;

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space.
constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";
// What malformed UTF-8 becomes, one per bad byte (normalizer.cc).
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";
constexpr char32_t kUnicodeError = 0xFFFD;
// The library's default unk_surface: " \u2047 ".
constexpr std::string_view kDefaultUnknownSurface = " \xE2\x81\x87 ";
// unigram_model.cc: an unknown character costs this much below the lowest piece score.
constexpr float kUnkPenalty = 10.0f;

// string_util::OneCharLen: the length a UTF-8 lead byte announces (1 for stray trail bytes).
size_t oneCharLength(char lead)
{
    return static_cast<size_t>("\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[(lead & 0xFF) >> 4]);
}

size_t charLengthAt(std::string_view text)
{
    return std::min(oneCharLength(text[0]), text.size());
}

bool isTrailByte(char c)
{
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool isValidCodepoint(char32_t c)
{
    return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF);
}

// string_util::DecodeUTF8: the code point at the start of `text` and its length; U+FFFD and
// length 1 for malformed input (overlong forms and surrogates included).
char32_t decodeUtf8(std::string_view text, size_t &length)
{
    const auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[i])); };
    const size_t size = text.size();
    if (b(0) < 0x80) {
        length = 1;
        return b(0);
    }
    if (size >= 2 && (b(0) & 0xE0) == 0xC0) {
        const char32_t cp = ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
        if (isTrailByte(text[1]) && cp >= 0x80 && isValidCodepoint(cp)) {
            length = 2;
            return cp;
        }
    } else if (size >= 3 && (b(0) & 0xF0) == 0xE0) {
        const char32_t cp = ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        if (isTrailByte(text[1]) && isTrailByte(text[2]) && cp >= 0x800 && isValidCodepoint(cp)) {
            length = 3;
            return cp;
        }
    } else if (size >= 4 && (b(0) & 0xF8) == 0xF0) {
        const char32_t cp = ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
        if (isTrailByte(text[1]) && isTrailByte(text[2]) && isTrailByte(text[3]) && cp >= 0x10000
            && isValidCodepoint(cp)) {
            length = 4;
            return cp;
        }
    }
    length = 1;
    return kUnicodeError;
}

// The byte of a byte piece, which must read exactly "<0xXX>" with upper-case hex as the library
// writes it (model_interface.cc PieceToByte), or -1.
int byteOfPiece(std::string_view piece)
{
    static const char digits[] = "0123456789ABCDEF";
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>')
        return -1;
    const char *high = std::find(digits, digits + 16, piece[3]);
    const char *low = std::find(digits, digits + 16, piece[4]);
    if (high == digits + 16 || low == digits + 16)
        return -1;
    return static_cast<int>((high - digits) * 16 + (low - digits));
}

std::string replaceSpaceSymbols(std::string_view piece)
{
    std::string out;
    out.reserve(piece.size());
    size_t at = 0;
    while (at < piece.size()) {
        const size_t found = piece.find(kSpaceSymbol, at);
        if (found == std::string_view::npos) {
            out.append(piece.substr(at));
            break;
        }
        out.append(piece.substr(at, found - at));
        out += ' ';
        at = found + kSpaceSymbol.size();
    }
    return out;
}

bool endsWith(const std::string &text, std::string_view suffix)
{
    return text.size() >= suffix.size() && std::string_view(text).substr(text.size() - suffix.size()) == suffix;
}

// Darts-clone's double-array unit (third_party/darts_clone/darts.h, DoubleArrayUnit).
bool unitHasLeaf(uint32_t unit)
{
    return ((unit >> 8) & 1) == 1;
}
uint32_t unitValue(uint32_t unit)
{
    return unit & ((1U << 31) - 1);
}
uint32_t unitLabel(uint32_t unit)
{
    return unit & ((1U << 31) | 0xFF);
}
uint32_t unitOffset(uint32_t unit)
{
    return (unit >> 10) << ((unit & (1U << 9)) >> 6);
}

} // namespace

void SentencePieceTokenizer::PrefixTrie::insert(std::string_view key, int value)
{
    size_t node = 0;
    for (const char c : key) {
        const uint64_t edge = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(c);
        const auto [it, added] = m_edges.emplace(edge, static_cast<int>(m_values.size()));
        if (added)
            m_values.push_back(-1);
        node = static_cast<size_t>(it->second);
    }
    m_values[node] = value;
}

template <typename Visit>
void SentencePieceTokenizer::PrefixTrie::forEachPrefix(std::string_view text, Visit &&visit) const
{
    uint64_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto it = m_edges.find((node << 8) | static_cast<unsigned char>(text[i]));
        if (it == m_edges.end())
            return;
        node = static_cast<uint64_t>(it->second);
        if (m_values[node] >= 0)
            visit(i + 1, m_values[node]);
    }
}

size_t SentencePieceTokenizer::PrefixTrie::longestPrefix(std::string_view text) const
{
    size_t longest = 0;
    forEachPrefix(text, [&](size_t length, int) { longest = length; });
    return longest;
}

SentencePieceTokenizer::SentencePieceTokenizer(const std::string &path, SpecialTokens special)
    : m_path(path)
    , m_model(loadSentencePieceModel(path))
{
    const std::vector<SentencePieceModel::Piece> &pieces = m_model.pieces;
    const auto describe = [&](size_t id) { return "piece " + std::to_string(id) + " (\"" + pieces[id].text + "\")"; };

    // The checks of model_interface.cc InitializePieces, so that a file the library refuses is
    // refused here too.
    m_byteIds.assign(256, -1);
    for (size_t id = 0; id < pieces.size(); ++id) {
        const SentencePieceModel::Piece &piece = pieces[id];
        if (piece.text.empty())
            failFile(path, "piece " + std::to_string(id) + " is empty");
        const bool producible = piece.type == PieceType::Normal || piece.type == PieceType::UserDefined
            || piece.type == PieceType::Unused;
        auto &ids = producible ? m_pieceIds : m_reservedIds;
        const auto [it, added] = ids.emplace(piece.text, static_cast<int>(id));
        if (!added)
            failFile(path, describe(id) + " repeats piece " + std::to_string(it->second));
        if (piece.type == PieceType::UserDefined)
            m_userDefined.insert(piece.text, static_cast<int>(id));
        if (piece.type == PieceType::Unknown) {
            if (m_unk >= 0)
                failFile(path, describe(id) + " is a second unknown piece after piece " + std::to_string(m_unk));
            m_unk = static_cast<int>(id);
        }
        if (piece.type == PieceType::Byte) {
            if (!m_model.byteFallback)
                failFile(path,
                    describe(id)
                        + " is a byte piece but trainer_spec.byte_fallback is "
                          "false");
            const int byte = byteOfPiece(piece.text);
            if (byte < 0)
                failFile(path, describe(id) + " is a byte piece but does not read <0xXX>");
            m_byteIds[static_cast<size_t>(byte)] = static_cast<int>(id);
        }
    }
    if (m_unk < 0)
        failFile(path, "the model has no unknown piece (type UNKNOWN)");
    if (m_model.byteFallback) {
        const auto missing = std::find(m_byteIds.begin(), m_byteIds.end(), -1);
        if (missing != m_byteIds.end())
            failFile(path,
                "trainer_spec.byte_fallback is true but there is no byte piece for "
                "byte "
                    + std::to_string(missing - m_byteIds.begin()));
    }

    if (m_model.modelType == ModelType::Unigram) {
        if (m_pieceIds.empty())
            failFile(path, "the UNIGRAM model has no normal pieces");
        for (const auto &[text, id] : m_pieceIds)
            m_pieceTrie.insert(text, id);
        // unigram_model.cc starts from FLT_MAX / FLT_MIN (the smallest positive float, not the
        // most negative), over normal pieces only.
        m_minScore = FLT_MAX;
        m_maxScore = FLT_MIN;
        for (const SentencePieceModel::Piece &piece : pieces) {
            if (piece.type == PieceType::Normal) {
                m_minScore = std::min(m_minScore, piece.score);
                m_maxScore = std::max(m_maxScore, piece.score);
            }
        }
    }

    // The decode-side rule would have to run over the whole text, which decodePiece cannot do.
    if (m_model.hasDenormalizer && !m_model.denormalizer.precompiledCharsmap.empty())
        failFile(path,
            "the model has a decoding normalisation rule (denormalizer_spec \"" + m_model.denormalizer.name
                + "\"), which is not supported");

    const std::string &charsmap = m_model.normalizer.precompiledCharsmap;
    if (!charsmap.empty()) {
        // <uint32 trie size><Darts double array><NUL-separated strings>, little-endian.
        const auto readUnit = [&](size_t at) {
            uint32_t unit = 0;
            for (int i = 3; i >= 0; --i)
                unit = (unit << 8) | static_cast<unsigned char>(charsmap[at + static_cast<size_t>(i)]);
            return unit;
        };
        const std::string rule = "normalisation rule \"" + m_model.normalizer.name + "\"";
        if (charsmap.size() <= 4)
            failFile(path,
                "the " + rule + " (precompiled_charsmap) is broken: only " + std::to_string(charsmap.size())
                    + " bytes");
        const size_t trieSize = readUnit(0);
        if (trieSize < 4 || trieSize > charsmap.size() - 4)
            failFile(path,
                "the " + rule + " (precompiled_charsmap) is broken: its trie claims " + std::to_string(trieSize)
                    + " of " + std::to_string(charsmap.size()) + " bytes");
        m_charsmapUnits.resize(trieSize / 4);
        for (size_t i = 0; i < m_charsmapUnits.size(); ++i)
            m_charsmapUnits[i] = readUnit(4 + 4 * i);
        m_charsmapStrings = std::string_view(charsmap).substr(4 + trieSize);
    }

    const bool dropsLeadingSpace = m_model.normalizer.addDummyPrefix || m_model.normalizer.removeExtraWhitespaces;
    const std::string_view unkSurface
        = m_model.hasUnkSurface ? std::string_view(m_model.unkSurface) : kDefaultUnknownSurface;
    m_surfaces.resize(pieces.size());
    m_leadingSpace.assign(pieces.size(), 0);
    for (size_t id = 0; id < pieces.size(); ++id) {
        const SentencePieceModel::Piece &piece = pieces[id];
        std::string &surface = m_surfaces[id];
        switch (piece.type) {
        case PieceType::Control:
            break;
        case PieceType::Unknown:
            surface = unkSurface;
            break;
        case PieceType::Byte:
            surface.assign(1, static_cast<char>(byteOfPiece(piece.text)));
            break;
        default:
            m_leadingSpace[id] = dropsLeadingSpace && piece.text.compare(0, kSpaceSymbol.size(), kSpaceSymbol) == 0;
            surface = replaceSpaceSymbols(piece.text);
        }
    }

    // SentencePieceProcessor::bos_id() and eos_id() look the ids up by piece text and accept
    // them only when they are control pieces.
    const auto controlId = [&](const std::string &text, const char *fallback) {
        const int id = pieceToId(text.empty() ? std::string_view(fallback) : std::string_view(text));
        return isType(id, PieceType::Control) ? id : -1;
    };
    const int size = vocabSize();
    m_bos = resolveSpecialToken(path, "bos", special.bos, controlId(m_model.bosPiece, "<s>"), size);
    m_eos = resolveSpecialToken(path, "eos", special.eos, controlId(m_model.eosPiece, "</s>"), size);
}

int SentencePieceTokenizer::pieceToId(std::string_view piece) const
{
    if (const auto it = m_reservedIds.find(piece); it != m_reservedIds.end())
        return it->second;
    if (const auto it = m_pieceIds.find(piece); it != m_pieceIds.end())
        return it->second;
    return m_unk;
}

size_t SentencePieceTokenizer::userDefinedPrefix(std::string_view text) const
{
    return m_userDefined.empty() ? 0 : m_userDefined.longestPrefix(text);
}

// Normalizer::NormalizePrefix: the normalised form of the first character (or rule match) of
// `input` and how many input bytes it consumed.
std::pair<std::string_view, size_t> SentencePieceTokenizer::normalizePrefix(std::string_view input) const
{
    if (input.empty())
        return {};
    // User-defined pieces pass through unnormalised.
    if (const size_t length = userDefinedPrefix(input); length > 0)
        return { input.substr(0, length), length };

    size_t longestLength = 0;
    uint32_t longestValue = 0;
    if (!m_charsmapUnits.empty()) {
        // Darts-clone commonPrefixSearch, keeping the longest match; bounds are checked because
        // the file is untrusted.
        const auto unitAt = [&](size_t pos) {
            if (pos >= m_charsmapUnits.size())
                failFile(m_path,
                    "the normalisation rule (precompiled_charsmap) is corrupt: trie "
                    "node "
                        + std::to_string(pos) + " is past its end");
            return m_charsmapUnits[pos];
        };
        size_t nodePos = unitOffset(unitAt(0));
        for (size_t i = 0; i < input.size(); ++i) {
            const auto label = static_cast<unsigned char>(input[i]);
            nodePos ^= label;
            const uint32_t unit = unitAt(nodePos);
            if (unitLabel(unit) != label)
                break;
            nodePos ^= unitOffset(unit);
            if (unitHasLeaf(unit)) {
                longestLength = i + 1;
                longestValue = unitValue(unitAt(nodePos));
            }
        }
    }

    if (longestLength == 0) {
        size_t length = 0;
        const char32_t c = decodeUtf8(input, length);
        // IsValidDecodeUTF8: a literal U+FFFD is valid, a malformed byte becomes one.
        if (c == kUnicodeError && length != 3)
            return { kReplacementChar, 1 };
        return { input.substr(0, length), length };
    }
    if (longestValue >= m_charsmapStrings.size())
        failFile(m_path,
            "the normalisation rule (precompiled_charsmap) is corrupt: replacement " + std::to_string(longestValue)
                + " is past its end");
    std::string_view replacement = m_charsmapStrings.substr(longestValue);
    replacement = replacement.substr(0, replacement.find('\0'));
    return { replacement, longestLength };
}

// Normalizer::Normalize, without the offsets map.
std::string SentencePieceTokenizer::normalize(std::string_view input) const
{
    const SentencePieceModel::Normalizer &spec = m_model.normalizer;
    std::string normalized;
    if (spec.removeExtraWhitespaces) {
        while (!input.empty()) {
            const auto [piece, consumed] = normalizePrefix(input);
            if (piece != " ")
                break;
            input.remove_prefix(consumed);
        }
    }
    if (input.empty())
        return normalized;

    normalized.reserve(input.size() * 3);
    const auto addSpace = [&] {
        if (spec.escapeWhitespaces)
            normalized += kSpaceSymbol;
        else
            normalized += ' ';
    };
    if (!m_model.treatWhitespaceAsSuffix && spec.addDummyPrefix)
        addSpace();

    bool previousIsSpace = spec.removeExtraWhitespaces;
    while (!input.empty()) {
        auto [piece, consumed] = normalizePrefix(input);
        while (previousIsSpace && !piece.empty() && piece.front() == ' ')
            piece.remove_prefix(1);
        if (!piece.empty()) {
            for (const char c : piece) {
                if (spec.escapeWhitespaces && c == ' ')
                    normalized += kSpaceSymbol;
                else
                    normalized += c;
            }
            previousIsSpace = piece.back() == ' ';
        }
        input.remove_prefix(consumed);
        if (!spec.removeExtraWhitespaces)
            previousIsSpace = false;
    }

    if (spec.removeExtraWhitespaces) {
        const std::string_view space = spec.escapeWhitespaces ? kSpaceSymbol : std::string_view(" ");
        while (endsWith(normalized, space))
            normalized.resize(normalized.size() - space.size());
    }
    if (m_model.treatWhitespaceAsSuffix && spec.addDummyPrefix)
        addSpace();
    return normalized;
}

// bpe::Model::SampleEncode without dropout: repeatedly merge the adjacent pair whose union is a
// piece with the highest score, leftmost on ties; user-defined pieces are never merged.
std::vector<SentencePieceTokenizer::Segment> SentencePieceTokenizer::encodeBpe(std::string_view normalized) const
{
    struct Symbol
    {
        int prev;
        int next;
        bool freeze;
        std::string_view piece;
    };
    struct SymbolPair
    {
        int left;
        int right;
        float score;
        size_t size;
    };
    // The library's comparator, so equal scores pop leftmost first.
    const auto lower = [](const SymbolPair &a, const SymbolPair &b) {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<SymbolPair, std::vector<SymbolPair>, decltype(lower)> agenda(lower);
    std::vector<Symbol> symbols;
    symbols.reserve(normalized.size());
    // Unused pieces may be merged through but not emitted: merged text -> its two halves.
    std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> reverseMerge;

    const auto maybeAddPair = [&](int left, int right) {
        if (left == -1 || right == -1 || symbols[static_cast<size_t>(left)].freeze
            || symbols[static_cast<size_t>(right)].freeze)
            return;
        const Symbol &l = symbols[static_cast<size_t>(left)];
        const Symbol &r = symbols[static_cast<size_t>(right)];
        const std::string_view piece(l.piece.data(), l.piece.size() + r.piece.size());
        const auto it = m_pieceIds.find(piece);
        if (it == m_pieceIds.end())
            return;
        agenda.push({ left, right, m_model.pieces[static_cast<size_t>(it->second)].score, piece.size() });
        if (isType(it->second, PieceType::Unused))
            reverseMerge[piece] = { l.piece, r.piece };
    };

    int index = 0;
    while (!normalized.empty()) {
        const size_t userDefined = userDefinedPrefix(normalized);
        const size_t length = userDefined > 0 ? userDefined : charLengthAt(normalized);
        Symbol symbol;
        symbol.freeze = userDefined > 0;
        symbol.piece = normalized.substr(0, length);
        symbol.prev = index - 1;
        normalized.remove_prefix(length);
        symbol.next = normalized.empty() ? -1 : index + 1;
        ++index;
        symbols.push_back(symbol);
    }
    if (symbols.empty())
        return {};
    for (size_t i = 1; i < symbols.size(); ++i)
        maybeAddPair(static_cast<int>(i - 1), static_cast<int>(i));

    while (!agenda.empty()) {
        const SymbolPair top = agenda.top();
        agenda.pop();
        Symbol &left = symbols[static_cast<size_t>(top.left)];
        Symbol &right = symbols[static_cast<size_t>(top.right)];
        // Stale: one side has been merged away or grown since the pair was queued.
        if (left.piece.empty() || right.piece.empty() || left.piece.size() + right.piece.size() != top.size)
            continue;
        left.piece = std::string_view(left.piece.data(), left.piece.size() + right.piece.size());
        left.next = right.next;
        if (right.next >= 0)
            symbols[static_cast<size_t>(right.next)].prev = top.left;
        right.piece = {};
        maybeAddPair(left.prev, top.left);
        maybeAddPair(top.left, left.next);
    }

    std::vector<Segment> segments;
    std::function<void(std::string_view)> resegment = [&](std::string_view piece) {
        const int id = pieceToId(piece);
        if (!isType(id, PieceType::Unused)) {
            segments.emplace_back(piece, id);
            return;
        }
        const auto it = reverseMerge.find(piece);
        if (it == reverseMerge.end()) {
            segments.emplace_back(piece, id);
            return;
        }
        resegment(it->second.first);
        resegment(it->second.second);
    };
    for (int i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next)
        resegment(symbols[static_cast<size_t>(i)].piece);
    return segments;
}

// unigram::Model::EncodeOptimized: Viterbi over byte positions, the best path ending at each.
std::vector<SentencePieceTokenizer::Segment> SentencePieceTokenizer::encodeUnigram(std::string_view normalized) const
{
    struct BestPath
    {
        int id = -1;
        float score = 0;
        int startsAt = -1;
    };
    const size_t size = normalized.size();
    const float unkScore = m_minScore - kUnkPenalty;
    std::vector<BestPath> best(size + 1);
    size_t startsAt = 0;
    while (startsAt < size) {
        const float scoreTillHere = best[startsAt].score;
        const size_t charLength = charLengthAt(normalized.substr(startsAt));
        bool hasSingleChar = false;
        m_pieceTrie.forEachPrefix(normalized.substr(startsAt), [&](size_t length, int id) {
            if (isType(id, PieceType::Unused))
                return;
            BestPath &target = best[startsAt + length];
            // The library's arithmetic exactly: the ternary makes the score a double (the
            // user-defined bonus subtracts the double 0.1), the sum is compared in double and
            // stored as float.
            const double score = isType(id, PieceType::UserDefined)
                ? static_cast<double>(static_cast<float>(length) * m_maxScore) - 0.1
                : static_cast<double>(m_model.pieces[static_cast<size_t>(id)].score);
            const double candidate = score + static_cast<double>(scoreTillHere);
            if (target.startsAt == -1 || candidate > static_cast<double>(target.score)) {
                target.score = static_cast<float>(candidate);
                target.startsAt = static_cast<int>(startsAt);
                target.id = id;
            }
            if (length == charLength)
                hasSingleChar = true;
        });
        if (!hasSingleChar) {
            BestPath &target = best[startsAt + charLength];
            const float candidate = unkScore + scoreTillHere;
            if (target.startsAt == -1 || candidate > target.score) {
                target.score = candidate;
                target.startsAt = static_cast<int>(startsAt);
                target.id = m_unk;
            }
        }
        startsAt += charLength;
    }

    std::vector<Segment> segments;
    size_t endsAt = size;
    while (endsAt > 0) {
        const BestPath &node = best[endsAt];
        // Cannot happen for a valid UTF-8 normalised text, whose every character gets a node.
        if (node.startsAt < 0)
            failFile(m_path, "internal error: no UNIGRAM path reaches byte " + std::to_string(endsAt));
        const auto begin = static_cast<size_t>(node.startsAt);
        segments.emplace_back(normalized.substr(begin, endsAt - begin), node.id);
        endsAt = begin;
    }
    std::reverse(segments.begin(), segments.end());
    return segments;
}

// word::Model::Encode: SplitIntoWords (a word starts at the text's start and at each U+2581),
// each word looked up whole.
std::vector<SentencePieceTokenizer::Segment> SentencePieceTokenizer::encodeWords(std::string_view normalized) const
{
    std::vector<Segment> segments;
    size_t wordBegin = 0;
    size_t at = 0;
    while (at < normalized.size()) {
        const size_t length = charLengthAt(normalized.substr(at));
        if (at > 0 && normalized.substr(at, length) == kSpaceSymbol) {
            const std::string_view word = normalized.substr(wordBegin, at - wordBegin);
            segments.emplace_back(word, pieceToId(word));
            wordBegin = at;
        }
        at += length;
    }
    if (at > 0) {
        const std::string_view word = normalized.substr(wordBegin);
        segments.emplace_back(word, pieceToId(word));
    }
    return segments;
}

// character::Model::Encode: one piece per character or user-defined piece.
std::vector<SentencePieceTokenizer::Segment> SentencePieceTokenizer::encodeChars(std::string_view normalized) const
{
    std::vector<Segment> segments;
    while (!normalized.empty()) {
        const size_t userDefined = userDefinedPrefix(normalized);
        const size_t length = userDefined > 0 ? userDefined : charLengthAt(normalized);
        const std::string_view piece = normalized.substr(0, length);
        segments.emplace_back(piece, pieceToId(piece));
        normalized.remove_prefix(length);
    }
    return segments;
}

std::vector<int> SentencePieceTokenizer::encode(std::string_view text, bool addBos, bool addEos) const
{
    const std::string normalized = normalize(text);
    std::vector<Segment> segments;
    if (!normalized.empty()) {
        switch (m_model.modelType) {
        case ModelType::Bpe:
            segments = encodeBpe(normalized);
            break;
        case ModelType::Unigram:
            segments = encodeUnigram(normalized);
            break;
        case ModelType::Word:
            segments = encodeWords(normalized);
            break;
        case ModelType::Char:
            segments = encodeChars(normalized);
            break;
        }
    }

    std::vector<int> ids;
    ids.reserve(segments.size() + 2);
    if (addBos && m_bos >= 0)
        ids.push_back(m_bos);
    // SentencePieceProcessor::PopulateSentencePieceText: an unknown piece becomes its UTF-8
    // bytes when the model falls back to bytes; otherwise a run of unknown pieces becomes one.
    bool previousUnknown = false;
    for (const auto &[piece, id] : segments) {
        const bool unknown = isType(id, PieceType::Unknown);
        if (unknown && m_model.byteFallback) {
            for (const char byte : piece)
                ids.push_back(m_byteIds[static_cast<unsigned char>(byte)]);
        } else if (!(unknown && previousUnknown)) {
            ids.push_back(id);
        }
        previousUnknown = unknown;
    }
    if (addEos && m_eos >= 0)
        ids.push_back(m_eos);
    return ids;
}

// The library drops a piece's leading U+2581 while the decoded text is still empty. With only
// the previous id to go by, "still empty" is read as "at the start or just after BOS", the rule
// of llama2.c's run.c. The two differ only when a control token other than a leading BOS comes
// before a piece that starts a word, when a BOS appears mid-sequence, or (for models that remove
// extra whitespace) when a lone U+2581 piece starts the text; and the library turns byte pieces
// that do not form valid UTF-8 into U+FFFD where this keeps the raw bytes.
std::string SentencePieceTokenizer::decodePiece(int previous, int id) const
{
    if (id < 0 || id >= vocabSize())
        failFile(m_path,
            "token id " + std::to_string(id) + " is outside the tokenizer's " + std::to_string(vocabSize())
                + " tokens");
    if (id == m_bos || id == m_eos)
        return {};
    const std::string &surface = m_surfaces[static_cast<size_t>(id)];
    if ((previous < 0 || previous == m_bos) && m_leadingSpace[static_cast<size_t>(id)])
        return surface.substr(1);
    return surface;
}

std::string SentencePieceTokenizer::decode(const std::vector<int> &ids) const
{
    return decodeByPieces(*this, ids);
}

} // namespace mq
