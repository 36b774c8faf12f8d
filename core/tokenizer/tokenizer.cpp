#include "core/tokenizer/tokenizer.h"

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/llama2c_tokenizer.h"
#include "core/tokenizer/loader_support.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/util/error.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace mq {

std::string readWholeFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        failFile(path, "cannot open the file for reading");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        failFile(path, "reading the file failed");
    return data;
}

int resolveSpecialToken(const std::string &path, const char *name, int configured, int own,
                        int vocabSize)
{
    if (configured < 0)
        return own;
    if (configured >= vocabSize)
        failFile(path, std::string(name) + "_token_id " + std::to_string(configured) +
                           " from the model's config is not a token of this tokenizer (it has " +
                           std::to_string(vocabSize) + ")");
    return configured;
}

std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path, int vocabHint,
                                         SpecialTokens special)
{
    std::error_code error;
    const std::filesystem::file_status status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status))
        failFile(path, "no such tokenizer file");
    if (!std::filesystem::is_regular_file(status))
        failFile(path, "is not a regular file; pass the tokenizer file itself");

    std::string extension = std::filesystem::path(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

    std::unique_ptr<Tokenizer> tokenizer;
    bool mustMatchExactly = false;
    if (extension == ".model") {
        tokenizer = std::make_unique<SentencePieceTokenizer>(path, special);
    } else if (extension == ".json") {
        tokenizer = std::make_unique<BpeTokenizer>(path, special);
    } else {
        tokenizer = std::make_unique<Llama2cTokenizer>(path, special);
        // llama2.c files do not store their size, so a mismatch is the only sign of a wrong file.
        mustMatchExactly = true;
    }

    // Hugging Face checkpoints often pad the embedding beyond the tokenizer, so only a tokenizer
    // larger than the model is wrong there.
    const int size = tokenizer->vocabSize();
    if (vocabHint > 0 && (mustMatchExactly ? size != vocabHint : size > vocabHint))
        failFile(path, "tokenizer has " + std::to_string(size) +
                           " tokens but the model's vocabulary has " + std::to_string(vocabHint) +
                           "; pass the tokenizer that belongs to this model");
    return tokenizer;
}

} // namespace mq
