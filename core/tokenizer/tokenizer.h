#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mq {

// Text <-> token ids. Implementations: llama2.c `tokenizer.bin`, SentencePiece `tokenizer.model`,
// byte-level BPE from a Hugging Face `tokenizer.json`. Immutable after loading, so any thread may
// call const members concurrently. No LibTorch, no Qt: the on-device runner links it too.
class Tokenizer
{
public:
    virtual ~Tokenizer() = default;

    // Token ids for `text`; BOS / EOS prepended / appended when asked and the tokenizer has them.
    virtual std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const = 0;

    // Text of a whole id sequence (special tokens such as BOS/EOS are dropped).
    virtual std::string decode(const std::vector<int> &ids) const = 0;

    // Bytes that token `id` adds when it follows `previous` (-1 at the start): what a streaming
    // generator prints. Concatenating decodePiece over a sequence equals decode() of it.
    virtual std::string decodePiece(int previous, int id) const = 0;

    virtual int vocabSize() const = 0;
    // -1 when the tokenizer has no such token.
    virtual int bosId() const = 0;
    virtual int eosId() const = 0;

    // "llama2c", "sentencepiece" or "bpe": shown by `mq info` and recorded in run files.
    virtual std::string kind() const = 0;
};

// Special-token overrides from a model's config.json (bos_token_id / eos_token_id); -1 = keep the
// tokenizer's own.
struct SpecialTokens
{
    int bos = -1;
    int eos = -1;
};

// Loads a tokenizer by file: `*.model` -> SentencePiece, `tokenizer.json` (or any `*.json`) ->
// byte-level BPE, anything else -> llama2.c `tokenizer.bin` format. `vocabHint` is the vocab size
// of the model (llama2.c tokenizer files do not store it; pass 0 when unknown).
// Throws mq::Error naming the file and what is wrong with it.
std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path, int vocabHint = 0,
                                         SpecialTokens special = {});

} // namespace mq
