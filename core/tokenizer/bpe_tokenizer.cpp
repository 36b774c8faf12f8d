#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/pair_merge.h"

#include "core/tokenizer/loader_support.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

namespace mq {

namespace {

using Json = nlohmann::json;

// Ids beyond this (4M; the largest real vocabularies hold ~256K) are surely a corrupt file, and
// would make the per-id tables absurdly large.
constexpr int64_t kMaxTokenId = (int64_t{1} << 22) - 1;

size_t utf8Length(char lead)
{
    const auto c = static_cast<unsigned char>(lead);
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    return 4;
}

// What the ByteLevel decoder makes of a token's text: each character mapped back to its byte, or
// the text itself when one of its characters is not a byte-level one (as `tokenizers` does it).
std::string byteLevelDecode(const std::string &text)
{
    std::string bytes;
    bytes.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const size_t length = std::min(utf8Length(text[i]), text.size() - i);
        const int byte = byteLevelToByte(std::string_view(text).substr(i, length));
        if (byte < 0)
            return text;
        bytes += static_cast<char>(byte);
        i += length;
    }
    return bytes;
}

std::string hexByte(unsigned char b)
{
    static const char digits[] = "0123456789ABCDEF";
    return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

bool isAsciiSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

} // namespace

BpeTokenizer::BpeTokenizer(const std::string &path, SpecialTokens special)
    : m_path(path)
{
    Json root;
    try {
        root = Json::parse(readWholeFile(path));
    } catch (const Json::parse_error &e) {
        failFile(path, std::string("is not valid JSON: ") + e.what());
    }

    std::unordered_map<int, std::string> vocabTextOfId;
    std::unordered_map<std::string, int> addedIdOfContent;
    int64_t maxId = -1;

    // Every structural check below names what it expected; the catch turns type mismatches that
    // nlohmann finds on the way (a string where a bool belongs, ...) into the same kind of error.
    try {
        if (!root.is_object())
            failFile(path, "is not a tokenizer.json: its top level is not a JSON object");
        const auto model = root.find("model");
        if (model == root.end() || !model->is_object())
            failFile(path, "has no \"model\" object; is it a Hugging Face tokenizer.json?");
        if (model->contains("type")) {
            const Json &type = (*model)["type"];
            if (!type.is_string() || type.get<std::string>() != "BPE")
                failFile(path, "model.type is " + type.dump() +
                                   ", but only byte-level \"BPE\" tokenizer.json files are "
                                   "supported (for a SentencePiece model pass its "
                                   "tokenizer.model)");
        }

        const auto vocab = model->find("vocab");
        if (vocab == model->end() || !vocab->is_object())
            failFile(path, "has no model.vocab object (token text -> id)");
        for (auto it = vocab->begin(); it != vocab->end(); ++it) {
            if (!it.value().is_number_integer())
                failFile(path, "model.vocab[\"" + it.key() + "\"] is " + it.value().dump() +
                                   ", not an integer id");
            const auto id = it.value().get<int64_t>();
            if (id < 0 || id > kMaxTokenId)
                failFile(path, "model.vocab[\"" + it.key() + "\"] has the id " +
                                   std::to_string(id) + ", outside 0.." +
                                   std::to_string(kMaxTokenId));
            const auto [other, fresh] = vocabTextOfId.emplace(static_cast<int>(id), it.key());
            if (!fresh)
                failFile(path, "model.vocab gives the id " + std::to_string(id) + " to both \"" +
                                   other->second + "\" and \"" + it.key() + "\"");
            m_vocab.emplace(it.key(), static_cast<int>(id));
            maxId = std::max(maxId, id);
        }

        for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
            const auto value = model->find(key);
            if (value != model->end() && value->is_string() && !value->get<std::string>().empty())
                failFile(path, std::string("model.") + key +
                                   " is set, which byte-level BPE does not use and this reader "
                                   "does not support");
        }
        m_ignoreMerges = model->value("ignore_merges", false);

        const auto merges = model->find("merges");
        if (merges != model->end() && !merges->is_null()) {
            if (!merges->is_array())
                failFile(path, "model.merges is not an array");
            for (size_t rank = 0; rank < merges->size(); ++rank) {
                const Json &entry = (*merges)[rank];
                const std::string where = "model.merges[" + std::to_string(rank) + "]";
                std::string left;
                std::string right;
                if (entry.is_string()) {
                    const std::string pair = entry.get<std::string>();
                    const size_t space = pair.find(' ');
                    if (space == std::string::npos || space == 0 || space + 1 == pair.size() ||
                        pair.find(' ', space + 1) != std::string::npos)
                        failFile(path, where + " is \"" + pair + "\", not two symbols \"a b\"");
                    left = pair.substr(0, space);
                    right = pair.substr(space + 1);
                } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
                           entry[1].is_string()) {
                    left = entry[0].get<std::string>();
                    right = entry[1].get<std::string>();
                } else {
                    failFile(path, where + " is " + entry.dump() +
                                       ", neither \"a b\" nor [\"a\", \"b\"]");
                }
                const auto leftId = m_vocab.find(left);
                const auto rightId = m_vocab.find(right);
                const auto merged = m_vocab.find(left + right);
                for (const auto &[symbol, found] :
                     {std::pair{left, leftId}, std::pair{right, rightId}})
                    if (found == m_vocab.end())
                        failFile(path, where + " (\"" + left + "\" + \"" + right +
                                           "\") names the symbol \"" + symbol +
                                           "\", which is not in model.vocab");
                if (merged == m_vocab.end())
                    failFile(path, where + " merges \"" + left + "\" and \"" + right +
                                       "\" into \"" + left + right +
                                       "\", which is not in model.vocab");
                // A repeated pair keeps its last rank, as `tokenizers` builds its map.
                m_merges[pairKey(leftId->second, rightId->second)] = {static_cast<int>(rank),
                                                                      merged->second};
            }
        }

        const auto added = root.find("added_tokens");
        if (added != root.end() && !added->is_null()) {
            if (!added->is_array())
                failFile(path, "added_tokens is not an array");
            for (size_t i = 0; i < added->size(); ++i) {
                const Json &entry = (*added)[i];
                const std::string where = "added_tokens[" + std::to_string(i) + "]";
                if (!entry.is_object() || !entry.contains("id") || !entry.contains("content") ||
                    !entry["id"].is_number_integer() || !entry["content"].is_string())
                    failFile(path, where + " lacks an integer \"id\" or a string \"content\"");
                AddedToken token;
                const auto id = entry["id"].get<int64_t>();
                token.content = entry["content"].get<std::string>();
                if (id < 0 || id > kMaxTokenId)
                    failFile(path, where + " has the id " + std::to_string(id) +
                                       ", outside 0.." + std::to_string(kMaxTokenId));
                if (token.content.empty() ||
                    invalidUtf8Offset(token.content) != std::string_view::npos)
                    failFile(path, where + " has empty or invalid UTF-8 content");
                token.id = static_cast<int>(id);
                token.special = entry.value("special", false);
                token.lstrip = entry.value("lstrip", false);
                token.rstrip = entry.value("rstrip", false);
                // single_word is not honoured: none of the byte-level models we load sets it.
                maxId = std::max(maxId, id);
                addedIdOfContent[token.content] = token.id;
                m_added.push_back(std::move(token));
            }
        }

        // NFC is what Qwen2 declares; text is taken to be NFC already (nearly all text is), as
        // composing Unicode here would need ICU.
        std::function<void(const Json &, const std::string &)> checkNormalizer =
            [&](const Json &node, const std::string &where) {
                if (node.is_null())
                    return;
                const std::string type = node.is_object() ? node.value("type", "") : "";
                if (type == "NFC")
                    return;
                if (type == "Sequence" && node.contains("normalizers") &&
                    node["normalizers"].is_array()) {
                    for (size_t i = 0; i < node["normalizers"].size(); ++i)
                        checkNormalizer(node["normalizers"][i],
                                        where + ".normalizers[" + std::to_string(i) + "]");
                    return;
                }
                failFile(path, where + " is " + node.dump() +
                                   "; only none or NFC is supported for byte-level BPE");
            };
        if (root.contains("normalizer"))
            checkNormalizer(root["normalizer"], "normalizer");

        std::function<void(const Json &, const std::string &)> addStep =
            [&](const Json &node, const std::string &where) {
                if (node.is_null())
                    return;
                if (!node.is_object() || !node.contains("type") || !node["type"].is_string())
                    failFile(path, where + " has no \"type\"");
                const std::string type = node["type"].get<std::string>();
                if (!m_steps.empty() && m_steps.back().byteLevel)
                    failFile(path, where + " (" + type +
                                       ") follows the ByteLevel step; this reader supports "
                                       "ByteLevel only as the last step");
                if (type == "Sequence") {
                    const auto list = node.find("pretokenizers");
                    if (list == node.end() || !list->is_array())
                        failFile(path, where + " has no \"pretokenizers\" array");
                    for (size_t i = 0; i < list->size(); ++i)
                        addStep((*list)[i], where + ".pretokenizers[" + std::to_string(i) + "]");
                } else if (type == "ByteLevel") {
                    PreTokenizerStep step;
                    step.byteLevel = true;
                    step.addPrefixSpace = node.value("add_prefix_space", true);
                    if (node.value("use_regex", true))
                        step.splitter.emplace(kGpt2SplitPattern);
                    m_steps.push_back(std::move(step));
                } else if (type == "Split") {
                    const auto pattern = node.find("pattern");
                    const bool isRegex = pattern != node.end() && pattern->is_object() &&
                                         pattern->contains("Regex") &&
                                         (*pattern)["Regex"].is_string();
                    const bool isString = pattern != node.end() && pattern->is_object() &&
                                          pattern->contains("String") &&
                                          (*pattern)["String"].is_string();
                    if (!isRegex && !isString)
                        failFile(path,
                                 where + " has no pattern {\"Regex\": ...} or {\"String\": ...}");
                    const std::string text = (*pattern)[isRegex ? "Regex" : "String"];
                    PreTokenizerStep step;
                    try {
                        step.splitter.emplace(text,
                                              splitBehaviorFromName(
                                                  node.value("behavior", std::string("Isolated"))),
                                              node.value("invert", false), !isRegex);
                    } catch (const Error &e) {
                        failFile(path, where + ": " + e.what());
                    }
                    m_steps.push_back(std::move(step));
                } else {
                    failFile(path, where + " has the type \"" + type +
                                       "\", which is not supported (ByteLevel, Split and "
                                       "Sequence are)");
                }
            };
        if (root.contains("pre_tokenizer"))
            addStep(root["pre_tokenizer"], "pre_tokenizer");
        if (m_steps.empty() || !m_steps.back().byteLevel)
            failFile(path, "the pre_tokenizer has no ByteLevel step, so this is not a byte-level "
                           "BPE; for a SentencePiece model pass its tokenizer.model");

        const auto decoder = root.find("decoder");
        if (decoder != root.end() && !decoder->is_null() &&
            !(decoder->is_object() && decoder->value("type", "") == "ByteLevel"))
            failFile(path, "decoder is " + decoder->dump() + "; only ByteLevel is supported");
    } catch (const Json::exception &e) {
        failFile(path, std::string("unexpected tokenizer.json content: ") + e.what());
    }

    const size_t size = static_cast<size_t>(maxId + 1);
    m_pieceBytes.assign(size, std::string());
    m_known.assign(size, 0);
    m_dropped.assign(size, 0);
    for (const auto &[id, text] : vocabTextOfId) {
        m_pieceBytes[static_cast<size_t>(id)] = byteLevelDecode(text);
        m_known[static_cast<size_t>(id)] = 1;
    }
    for (const AddedToken &token : m_added) {
        const auto id = static_cast<size_t>(token.id);
        // An added token may share its id with the vocab entry of the same text; it wins.
        m_pieceBytes[id] = byteLevelDecode(token.content);
        m_known[id] = 1;
        m_dropped[id] = token.special;
    }
    for (size_t i = 0; i < m_added.size(); ++i)
        m_addedByFirstByte[static_cast<unsigned char>(m_added[i].content[0])].push_back(i);
    for (auto &bucket : m_addedByFirstByte)
        std::stable_sort(bucket.begin(), bucket.end(), [this](size_t a, size_t b) {
            return m_added[a].content.size() > m_added[b].content.size();
        });

    m_bos = resolveSpecialToken(path, "bos", special.bos, -1, vocabSize());
    m_eos = resolveSpecialToken(path, "eos", special.eos, -1, vocabSize());
}

std::vector<std::string> BpeTokenizer::preTokenize(std::string_view text) const
{
    std::vector<std::string> pieces{std::string(text)};
    for (const PreTokenizerStep &step : m_steps) {
        std::vector<std::string> next;
        for (std::string &piece : pieces) {
            // `tokenizers` adds the prefix space to every piece that reaches ByteLevel.
            if (step.addPrefixSpace && piece[0] != ' ')
                piece.insert(piece.begin(), ' ');
            if (step.splitter) {
                for (const std::string_view part : step.splitter->split(piece))
                    next.emplace_back(part);
            } else {
                next.push_back(std::move(piece));
            }
        }
        pieces = std::move(next);
    }
    return pieces;
}

// BPE over one pre-tokenized piece as `tokenizers`' Word::merge_all does it: the pair with the
// lowest merge rank first, the leftmost among equals, until no pair has a merge.
void BpeTokenizer::encodeWord(std::string_view bytes, std::vector<int> &ids) const
{
    const std::string word = bytesToByteLevel(bytes);
    if (m_ignoreMerges) {
        const auto whole = m_vocab.find(word);
        if (whole != m_vocab.end()) {
            ids.push_back(whole->second);
            return;
        }
    }

    // One symbol per byte: each byte-level character stands for exactly one byte of `bytes`.
    std::vector<int> symbols;
    symbols.reserve(bytes.size());
    for (size_t at = 0; at < word.size();) {
        const size_t length = utf8Length(word[at]);
        const auto found = m_vocab.find(word.substr(at, length));
        if (found == m_vocab.end()) {
            const auto byte = static_cast<unsigned char>(bytes[symbols.size()]);
            failFile(m_path, "the byte " + hexByte(byte) + " (byte-level symbol \"" +
                                 word.substr(at, length) +
                                 "\") is not in model.vocab, so the text cannot be encoded");
        }
        symbols.push_back(found->second);
        at += length;
    }

    mergeAdjacentPairs(symbols, [this](int left, int right) {
        const auto merge = m_merges.find(pairKey(left, right));
        // Lower rank merges first.
        return merge == m_merges.end() ? PairMerge{} : PairMerge{merge->second.merged, -double(merge->second.rank)};
    });
    ids.insert(ids.end(), symbols.begin(), symbols.end());
}

std::vector<int> BpeTokenizer::encode(std::string_view text, bool addBos, bool addEos) const
{
    const size_t bad = invalidUtf8Offset(text);
    if (bad != std::string_view::npos)
        failFile(m_path, "cannot encode text that is not valid UTF-8 (byte offset " +
                             std::to_string(bad) + ")");

    std::vector<int> ids;
    if (addBos && m_bos >= 0)
        ids.push_back(m_bos);

    size_t segmentStart = 0;
    auto encodeSegment = [&](size_t end) {
        if (end <= segmentStart)
            return;
        std::vector<std::string> pieces;
        try {
            pieces = preTokenize(text.substr(segmentStart, end - segmentStart));
        } catch (const Error &e) {
            failFile(m_path, e.what());
        }
        for (const std::string &piece : pieces)
            encodeWord(piece, ids);
    };

    // Added tokens are found in the raw text first (leftmost, then longest) and never split.
    size_t at = 0;
    while (at < text.size()) {
        const AddedToken *match = nullptr;
        for (const size_t index : m_addedByFirstByte[static_cast<unsigned char>(text[at])]) {
            const AddedToken &token = m_added[index];
            if (text.compare(at, token.content.size(), token.content) == 0) {
                match = &token;
                break;
            }
        }
        if (!match) {
            ++at;
            continue;
        }
        size_t begin = at;
        size_t end = at + match->content.size();
        if (match->lstrip)
            while (begin > segmentStart && isAsciiSpace(text[begin - 1]))
                --begin;
        if (match->rstrip)
            while (end < text.size() && isAsciiSpace(text[end]))
                ++end;
        encodeSegment(begin);
        ids.push_back(match->id);
        segmentStart = at = end;
    }
    encodeSegment(text.size());

    if (addEos && m_eos >= 0)
        ids.push_back(m_eos);
    return ids;
}

std::string BpeTokenizer::decodePiece(int previous, int id) const
{
    if (id < 0 || id >= vocabSize() || !m_known[static_cast<size_t>(id)])
        failFile(m_path, "token id " + std::to_string(id) +
                             " is neither in model.vocab nor in added_tokens");
    if (id == m_bos || id == m_eos || m_dropped[static_cast<size_t>(id)])
        return {};
    return m_pieceBytes[static_cast<size_t>(id)];
}

std::string BpeTokenizer::decode(const std::vector<int> &ids) const
{
    return decodeByPieces(*this, ids);
}

} // namespace mq
