#include "core/eval/eval.h"

#include "core/util/error.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <regex>

namespace mq {

double PerplexityResult::tokenPerplexity() const { return tokens ? std::exp(nll / double(tokens)) : 0.0; }
double PerplexityResult::wordPerplexity() const { return words ? std::exp(nll / double(words)) : 0.0; }
double PerplexityResult::bitsPerByte() const { return bytes ? nll / double(bytes) / std::log(2.0) : 0.0; }
double PerplexityResult::tokensPerSecond() const { return seconds > 0 ? double(tokens) / seconds : 0.0; }
double LambadaResult::perplexity() const { return targetTokens ? std::exp(targetNll / double(targetTokens)) : 0.0; }

namespace {

at::Tensor toTensor(const int *ids, int64_t n)
{
    at::Tensor t = at::empty({1, n}, at::kLong);
    int64_t *p = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i)
        p[i] = ids[i];
    return t;
}

double seconds(std::chrono::steady_clock::time_point since)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void replaceAll(std::string &s, const std::string &from, const std::string &to)
{
    if (from.empty())
        return;
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
    }
}

} // namespace

PerplexityResult perplexity(const Transformer &model, const std::vector<int> &ids, const PerplexityOptions &opt,
                            SiteHook *hook, const EvalProgress &progress)
{
    if (opt.seqLen < 2)
        throw Error("--seqlen must be at least 2");
    c10::NoGradGuard noGrad;
    const auto start = std::chrono::steady_clock::now();
    const int64_t n = opt.maxTokens > 0 ? std::min<int64_t>(opt.maxTokens, int64_t(ids.size())) : int64_t(ids.size());
    // A window ids[s, e) scores targets s+1 .. e-1, so at most seqLen-1 new targets per window.
    const int64_t step = std::min<int64_t>(opt.stride > 0 ? opt.stride : opt.seqLen, opt.seqLen - 1);

    PerplexityResult r;
    int64_t next = 1;
    while (next < n) {
        const int64_t e = std::min<int64_t>(n, next + step);
        const int64_t s = std::max<int64_t>(0, e - opt.seqLen);
        at::Tensor input = toTensor(ids.data() + s, e - s);
        at::Tensor logp = at::log_softmax(model.forward(input, nullptr, hook)[0], -1); // [T, V]
        // Position i predicts token s+i+1; the new targets are next .. e-1.
        const int64_t first = next - s - 1, count = e - next;
        at::Tensor targets = input[0].narrow(0, next - s, count);
        at::Tensor picked = logp.narrow(0, first, count).gather(1, targets.unsqueeze(1));
        r.nll -= picked.sum().item<double>();
        r.tokens += count;
        ++r.windows;
        next = e;
        if (progress)
            progress(next - 1, n - 1);
    }
    r.seconds = seconds(start);
    return r;
}

std::string wikitextDetokenize(const std::string &input)
{
    // The rules of lm-evaluation-harness's wikitext_detokenizer, in its order.
    std::string s = input;
    replaceAll(s, "s '", "s'");
    s = std::regex_replace(s, std::regex(R"(/' [0-9]/)"), "/'[0-9]/");
    replaceAll(s, " @-@ ", "-");
    replaceAll(s, " @,@ ", ",");
    replaceAll(s, " @.@ ", ".");
    replaceAll(s, " : ", ": ");
    replaceAll(s, " ; ", "; ");
    replaceAll(s, " . ", ". ");
    replaceAll(s, " ! ", "! ");
    replaceAll(s, " ? ", "? ");
    replaceAll(s, " , ", ", ");
    s = std::regex_replace(s, std::regex(R"(\(\s*([^\)]*?)\s*\))"), "($1)");
    s = std::regex_replace(s, std::regex(R"(\[\s*([^\]]*?)\s*\])"), "[$1]");
    s = std::regex_replace(s, std::regex(R"(\{\s*([^}]*?)\s*\})"), "{$1}");
    s = std::regex_replace(s, std::regex(R"(\"\s*([^\"]*?)\s*\")"), "\"$1\"");
    s = std::regex_replace(s, std::regex(R"('\s*([^']*?)\s*')"), "'$1'");
    replaceAll(s, "= = = =", "====");
    replaceAll(s, "= = =", "===");
    replaceAll(s, "= =", "==");
    replaceAll(s, " \xC2\xB0 ", "\xC2\xB0"); // degree sign
    replaceAll(s, " \n", "\n");
    replaceAll(s, "\n ", "\n");
    replaceAll(s, " N ", " 1 ");
    replaceAll(s, " 's", "'s");
    return s;
}

int64_t countWords(const std::string &text)
{
    int64_t words = 0;
    bool inWord = false;
    for (unsigned char ch : text) {
        const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
        if (!space && !inWord)
            ++words;
        inWord = !space;
    }
    return words;
}

LambadaResult lambada(const Transformer &model, const Tokenizer &tok, const std::string &path, int64_t limit,
                      SiteHook *hook, const EvalProgress &progress)
{
    std::ifstream in(path);
    if (!in)
        failFile(path, "cannot open the LAMBADA file");
    std::vector<std::string> texts;
    std::string line;
    int64_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty())
            continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception &) {
            failFile(path, "line " + std::to_string(lineNo) + " is not JSON; LAMBADA files hold one {\"text\": ...} per line");
        }
        if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
            failFile(path, "line " + std::to_string(lineNo) + " has no string field \"text\"");
        texts.push_back(j["text"].get<std::string>());
        if (limit > 0 && int64_t(texts.size()) >= limit)
            break;
    }
    c10::NoGradGuard noGrad;
    const auto start = std::chrono::steady_clock::now();
    LambadaResult r;
    for (size_t i = 0; i < texts.size(); ++i) {
        const std::string &text = texts[i];
        const size_t cut = text.find_last_of(' ');
        if (cut == std::string::npos || cut == 0)
            continue;
        const std::vector<int> ctx = tok.encode(std::string_view(text).substr(0, cut), true, false);
        const std::vector<int> full = tok.encode(text, true, false);
        if (full.size() <= ctx.size())
            continue;
        const int64_t n = int64_t(full.size()), c = int64_t(ctx.size());
        at::Tensor input = toTensor(full.data(), n);
        at::Tensor logp = at::log_softmax(model.forward(input, nullptr, hook)[0], -1);
        at::Tensor preds = logp.narrow(0, c - 1, n - c);
        at::Tensor targets = input[0].narrow(0, c, n - c);
        r.targetNll -= preds.gather(1, targets.unsqueeze(1)).sum().item<double>();
        r.targetTokens += n - c;
        r.correct += preds.argmax(1).eq(targets).all().item<bool>() ? 1 : 0;
        ++r.examples;
        if (progress)
            progress(int64_t(i) + 1, int64_t(texts.size()));
    }
    r.seconds = seconds(start);
    return r;
}

} // namespace mq
