#pragma once

#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"

#include <functional>
#include <string>
#include <vector>

namespace mq {

// Called with (done, total) as evaluation proceeds; on the evaluating thread.
using EvalProgress = std::function<void(int64_t done, int64_t total)>;

struct PerplexityOptions
{
    int seqLen = 512;
    int stride = 0; // 0 = seqLen (non-overlapping windows)
    int64_t maxTokens = 0; // 0 = all
};

struct PerplexityResult
{
    double nll = 0;        // summed negative log-likelihood of the scored tokens, nats
    int64_t tokens = 0;    // scored tokens (every token but the leading BOS)
    int64_t words = 0;     // whitespace-separated words of the text (word perplexity)
    int64_t bytes = 0;     // UTF-8 bytes of the text (bits per byte)
    int windows = 0;
    double seconds = 0;
    double tokenPerplexity() const;
    double wordPerplexity() const;
    double bitsPerByte() const;
    double tokensPerSecond() const;
};

// Rolling-window perplexity of `ids` (ids[0] is BOS and is not scored). Each window of up to
// seqLen tokens scores only the tokens no earlier window scored, with as much left context as fits
// (the strided evaluation of HF's perplexity guide; stride = seqLen gives disjoint windows).
PerplexityResult perplexity(const Transformer &model, const std::vector<int> &ids, const PerplexityOptions &options,
                            SiteHook *hook = nullptr, const EvalProgress &progress = {});

// lm-evaluation-harness's WikiText detokenizer: undoes the " @-@ ", " , " … spacing of the
// raw WikiText files so the text reads as prose before it is tokenized.
std::string wikitextDetokenize(const std::string &text);

int64_t countWords(const std::string &text);

struct LambadaResult
{
    int64_t examples = 0;
    int64_t correct = 0; // every target token is the greedy argmax
    double targetNll = 0;
    int64_t targetTokens = 0;
    double seconds = 0;
    double accuracy() const { return examples ? double(correct) / double(examples) : 0.0; }
    double perplexity() const;
};

// LAMBADA last-word prediction from a JSONL file of {"text": ...}: the target is the last
// space-separated word. Context and target are tokenized together and split at the context's
// token count (as lm-evaluation-harness does). `limit` 0 = all lines.
LambadaResult lambada(const Transformer &model, const Tokenizer &tokenizer, const std::string &jsonlPath,
                      int64_t limit = 0, SiteHook *hook = nullptr, const EvalProgress &progress = {});

} // namespace mq
