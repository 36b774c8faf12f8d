#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/calib/session.h"
#include "core/eval/eval.h"
#include "core/model/model.h"
#include "core/util/error.h"
#include "core/util/progress.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <iostream>
#include <sstream>

namespace mq::cli {

namespace {

std::string readText(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        failFile(path, "cannot open the evaluation text");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

int runEval(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"task", "NAME", "wikitext (token + word perplexity, lm-eval detokenization), lambada (last-word "
                         "accuracy) or text (token perplexity of a plain file)", "text"},
        {"data", "FILE", "the evaluation file (WikiText raw text, LAMBADA jsonl, any text)", ""},
        {"seqlen", "N", "window length in tokens", "512"},
        {"stride", "S", "new tokens scored per window (default: seqlen-1, disjoint windows)", "0"},
        {"max-tokens", "N", "evaluate only the first N tokens (0 = all)", "0"},
        {"limit", "N", "lambada: only the first N examples (0 = all)", "0"},
        {"no-detokenize", "", "wikitext: score the raw file as it is", ""},
        {"run", "RUN.h5", "evaluate the quantized model of a calibration run (offsets rounded as at deployment) "
                          "next to its float model; the result is stored in the run file", ""},
        {"json", "", "machine-readable result on stdout", ""},
        {"tokenizer", "PATH", "tokenizer file (default: found beside the checkpoint)", ""},
        {"threads", "N", "LibTorch threads; 0 = all cores", "0"},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.flag("help")) {
        std::cout << helpText("mq eval MODEL --task wikitext|lambada|text --data FILE [--seqlen N --stride S] [--json]\n"
                              "       mq eval --run RUN.h5 --data FILE [--seqlen N]",
                              "Evaluate the float model: rolling-window perplexity, or LAMBADA accuracy.", specs);
        return 0;
    }
    if (a.has("run")) {
        if (a.str("data").empty())
            throw Error("mq eval --run needs --data FILE (text to compute perplexity on)");
        const int seqLen = a.has("seqlen") ? a.integer("seqlen") : 128;
        auto session = Session::evaluateRun(a.str("run"), a.str("data"), seqLen, a.integer("max-tokens"));
        session->start();
        const SessionResult r = session->wait();
        if (r.status != SessionResult::Status::Finished)
            throw Error(r.error.empty() ? "evaluation cancelled" : r.error);
        if (a.flag("json")) {
            nlohmann::json j = {{"run", a.str("run")}, {"data", a.str("data")}, {"seqlen", seqLen}, {"tokens", r.evalTokens},
                                {"fp_perplexity", r.fpPerplexity}, {"quant_perplexity", r.quantPerplexity}};
            std::cout << j.dump(2) << "\n";
        } else {
            std::printf("%s on %s (%lld tokens): float %.4f, quantized %.4f (%+.2f%%)\n", a.str("run").c_str(),
                        a.str("data").c_str(), static_cast<long long>(r.evalTokens), r.fpPerplexity, r.quantPerplexity,
                        100.0 * (r.quantPerplexity / r.fpPerplexity - 1.0));
        }
        return 0;
    }
    if (a.positional().size() != 1)
        throw Error("mq eval needs exactly one MODEL (or --run RUN.h5); see --help");
    const std::string task = a.str("task");
    const std::string data = a.str("data");
    if (data.empty())
        throw Error("mq eval needs --data FILE");
    if (task != "wikitext" && task != "lambada" && task != "text")
        throw Error("--task must be wikitext, lambada or text, not '" + task + "'");
    configureThreads(a.integer("threads"));
    LoadOptions lo;
    lo.tokenizerPath = a.str("tokenizer");
    lo.requireTokenizer = true;
    Model m = loadModel(a.positional()[0], lo);
    nlohmann::json j = {{"model", m.path}, {"task", task}, {"data", data}};

    if (task == "lambada") {
        std::unique_ptr<ProgressBar> bar; // the total is known once the file is read
        LambadaResult r = lambada(*m.transformer, *m.tokenizer, data, a.integer("limit"), nullptr,
                                  [&](int64_t done, int64_t total) {
                                      if (!bar)
                                          bar = std::make_unique<ProgressBar>("lambada", total, "ex");
                                      bar->update(done);
                                  });
        if (bar)
            bar->finish();
        j.update({{"examples", r.examples}, {"accuracy", r.accuracy()}, {"target_perplexity", r.perplexity()},
                  {"seconds", r.seconds}});
        if (a.flag("json"))
            std::cout << j.dump(2) << "\n";
        else
            std::printf("lambada  accuracy %.4f (%lld/%lld)  target-token perplexity %.4f  [%.1f s]\n", r.accuracy(),
                        static_cast<long long>(r.correct), static_cast<long long>(r.examples), r.perplexity(), r.seconds);
        return 0;
    }

    std::string text = readText(data);
    const bool detok = task == "wikitext" && !a.flag("no-detokenize");
    if (detok)
        text = wikitextDetokenize(text);
    const std::vector<int> ids = m.tokenizer->encode(text, true, false);
    PerplexityOptions po;
    po.seqLen = a.integer("seqlen");
    po.stride = a.integer("stride");
    po.maxTokens = a.integer("max-tokens");
    if (po.seqLen > m.config().maxPositions)
        std::fprintf(stderr, "warning: --seqlen %d is longer than the model's context (%d)\n", po.seqLen,
                     m.config().maxPositions);
    const int64_t total = po.maxTokens > 0 ? std::min<int64_t>(po.maxTokens, int64_t(ids.size())) - 1 : int64_t(ids.size()) - 1;
    ProgressBar bar("eval", total, "tok");
    PerplexityResult r = perplexity(*m.transformer, ids, po, nullptr, [&](int64_t done, int64_t) { bar.update(done); });
    bar.finish();
    const bool partial = po.maxTokens > 0 && po.maxTokens < int64_t(ids.size());
    r.words = partial ? 0 : countWords(text);
    r.bytes = partial ? 0 : int64_t(text.size());
    j.update({{"tokens", r.tokens}, {"windows", r.windows}, {"seqlen", po.seqLen}, {"token_perplexity", r.tokenPerplexity()},
              {"nll_per_token", r.tokens ? r.nll / double(r.tokens) : 0.0}, {"seconds", r.seconds},
              {"tokens_per_second", r.tokensPerSecond()}, {"detokenized", detok}});
    if (!partial)
        j.update({{"words", r.words}, {"word_perplexity", r.wordPerplexity()}, {"bits_per_byte", r.bitsPerByte()}});
    if (a.flag("json")) {
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("%s  token perplexity %.4f over %lld tokens", task.c_str(), r.tokenPerplexity(),
                    static_cast<long long>(r.tokens));
        if (!partial)
            std::printf("  word perplexity %.4f (%lld words)  %.4f bits/byte", r.wordPerplexity(),
                        static_cast<long long>(r.words), r.bitsPerByte());
        std::printf("  [%.1f s, %.0f tokens/s]\n", r.seconds, r.tokensPerSecond());
    }
    return 0;
}

} // namespace mq::cli
