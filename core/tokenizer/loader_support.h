#pragma once

#include <string>

namespace mq {

// The whole file as bytes. Throws mq::Error naming `path` when it cannot be read.
std::string readWholeFile(const std::string &path);

// The BOS or EOS id a tokenizer uses: `configured` (from the model's config.json) when >= 0,
// else `own` (the tokenizer's own id, -1 for none). Throws mq::Error naming `path` when
// `configured` is not a token of a tokenizer with `vocabSize` tokens. `name` is "bos" or "eos".
int resolveSpecialToken(const std::string &path, const char *name, int configured, int own,
                        int vocabSize);

} // namespace mq
