#include "core/tokenizer/sentencepiece_tokenizer.h"

#include "core/tokenizer/loader_support.h"
#include "core/util/error.h"

#include <sentencepiece_processor.h>

namespace mq {

namespace {

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space.
constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";

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

} // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string &path, SpecialTokens special)
    : m_path(path), m_processor(std::make_unique<sentencepiece::SentencePieceProcessor>())
{
    const sentencepiece::util::Status status = m_processor->Load(path);
    if (!status.ok())
        failFile(path, "SentencePiece cannot load it as a model: " + status.ToString());

    const int size = m_processor->GetPieceSize();
    if (size <= 0)
        failFile(path, "the SentencePiece model has no pieces");
    m_surfaces.resize(static_cast<size_t>(size));
    m_leadingSpace.assign(static_cast<size_t>(size), 0);
    const int unk = m_processor->unk_id();
    const std::string unkSurface = unk >= 0 ? libraryDecode({unk}) : std::string();
    for (int id = 0; id < size; ++id) {
        const std::string &piece = m_processor->IdToPiece(id);
        std::string &surface = m_surfaces[static_cast<size_t>(id)];
        if (m_processor->IsControl(id)) {
            surface.clear();
        } else if (m_processor->IsUnknown(id)) {
            surface = unkSurface;
        } else if (m_processor->IsByte(id)) {
            // Byte pieces are "<0xXX>".
            if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0)
                failFile(path, "byte piece " + std::to_string(id) + " is \"" + piece +
                                   "\", not <0xXX>");
            surface.assign(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
        } else {
            m_leadingSpace[static_cast<size_t>(id)] =
                piece.compare(0, kSpaceSymbol.size(), kSpaceSymbol) == 0;
            surface = replaceSpaceSymbols(piece);
        }
    }

    m_bos = resolveSpecialToken(path, "bos", special.bos, m_processor->bos_id(), size);
    m_eos = resolveSpecialToken(path, "eos", special.eos, m_processor->eos_id(), size);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int> SentencePieceTokenizer::encode(std::string_view text, bool addBos,
                                                bool addEos) const
{
    std::vector<int> pieces;
    const sentencepiece::util::Status status = m_processor->Encode(text, &pieces);
    if (!status.ok())
        failFile(m_path, "SentencePiece cannot encode the text: " + status.ToString());
    std::vector<int> ids;
    ids.reserve(pieces.size() + 2);
    if (addBos && m_bos >= 0)
        ids.push_back(m_bos);
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    if (addEos && m_eos >= 0)
        ids.push_back(m_eos);
    return ids;
}

// The library drops a piece's leading U+2581 while the decoded text is still empty. With only
// the previous id to go by, "still empty" is read as "at the start or just after BOS", the rule
// of llama2.c's run.c. The two differ only when a control token other than a leading BOS comes
// before a piece that starts a word, or when a BOS appears mid-sequence; and the library turns
// byte pieces that do not form valid UTF-8 into U+FFFD where this keeps the raw bytes.
std::string SentencePieceTokenizer::decodePiece(int previous, int id) const
{
    if (id < 0 || id >= vocabSize())
        failFile(m_path, "token id " + std::to_string(id) + " is outside the tokenizer's " +
                             std::to_string(vocabSize()) + " tokens");
    if (id == m_bos || id == m_eos)
        return {};
    const std::string &surface = m_surfaces[static_cast<size_t>(id)];
    if ((previous < 0 || previous == m_bos) && m_leadingSpace[static_cast<size_t>(id)])
        return surface.substr(1);
    return surface;
}

std::string SentencePieceTokenizer::decode(const std::vector<int> &ids) const
{
    std::string text;
    int previous = -1;
    for (const int id : ids) {
        text += decodePiece(previous, id);
        previous = id;
    }
    return text;
}

std::string SentencePieceTokenizer::libraryDecode(const std::vector<int> &ids) const
{
    for (const int id : ids)
        if (id < 0 || id >= vocabSize())
            failFile(m_path, "token id " + std::to_string(id) + " is outside the tokenizer's " +
                                 std::to_string(vocabSize()) + " tokens");
    std::string text;
    const sentencepiece::util::Status status = m_processor->Decode(ids, &text);
    if (!status.ok())
        failFile(m_path, "SentencePiece cannot decode the ids: " + status.ToString());
    return text;
}

} // namespace mq
