#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/model/model.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace mq::cli {

namespace {

const OptionSpec kHelp{"help", "", "show this help", ""};
const OptionSpec kTokenizer{"tokenizer", "PATH", "tokenizer file (default: found beside the checkpoint)", ""};
const OptionSpec kThreads{"threads", "N", "LibTorch threads; 0 = all cores", "0"};

bool wantsHelp(const Args &a, const std::string &usage, const std::string &summary,
               const std::vector<OptionSpec> &specs)
{
    if (!a.flag("help"))
        return false;
    std::cout << helpText(usage, summary, specs);
    return true;
}

std::string modelArg(const Args &a, const std::string &command)
{
    if (a.positional().size() != 1)
        throw Error("mq " + command + " needs exactly one MODEL (a llama2.c .bin or a Hugging Face directory); see --help");
    return a.positional()[0];
}

const char *normName(NormKind n) { return n == NormKind::RmsNorm ? "rmsnorm" : "layernorm"; }

} // namespace

void configureThreads(int threads)
{
    const int n = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
}

int runInfo(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"json", "", "machine-readable output on stdout", ""},
        {"sites", "", "list every site name (default: one layer's sites)", ""}, kTokenizer, kHelp};
    Args a(argv, specs);
    if (wantsHelp(a, "mq info MODEL [--json] [--sites]",
                  "Architecture, parameter count, layers and the quantization sites of a checkpoint.", specs))
        return 0;
    LoadOptions lo;
    lo.tokenizerPath = a.str("tokenizer");
    Model m = loadModel(modelArg(a, "info"), lo);
    const ModelConfig &c = m.config();
    const int64_t params = m.transformer->weights().parameterCount(c.tiedEmbeddings);
    const bool silu = c.act == Activation::Silu;
    const std::vector<std::string> sites = allSiteNames(c.numLayers, silu);

    if (a.flag("json")) {
        nlohmann::json j = {
            {"path", m.path}, {"format", m.format == CheckpointFormat::Llama2c ? "llama2c" : "huggingface"},
            {"architecture", archName(c.arch)}, {"parameters", params}, {"layers", c.numLayers},
            {"hidden_size", c.hiddenSize}, {"intermediate_size", c.intermediateSize},
            {"attention_heads", c.numHeads}, {"kv_heads", c.numKvHeads}, {"head_dim", c.headDim},
            {"vocab_size", c.vocabSize}, {"max_positions", c.maxPositions}, {"norm", normName(c.norm)},
            {"norm_eps", c.normEps}, {"activation", activationName(c.act)}, {"rope_theta", c.ropeTheta},
            {"rotary_dim", c.rotaryDim()}, {"tied_embeddings", c.tiedEmbeddings}, {"qkv_bias", c.qkvBias},
            {"tokenizer", m.tokenizerPath}, {"tokenizer_kind", m.tokenizer ? m.tokenizer->kind() : ""},
            {"bos_id", c.bosId}, {"eos_id", c.eosId}, {"synthetic", c.synthetic}, {"sites", sites}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("model          %s (%s)\n", m.path.c_str(),
                m.format == CheckpointFormat::Llama2c ? "llama2.c" : "Hugging Face");
    if (!c.synthetic.empty())
        std::printf("WARNING        %s\n", c.synthetic.c_str());
    std::printf("architecture   %s\n", archName(c.arch));
    std::printf("parameters     %lld\n", static_cast<long long>(params));
    std::printf("layers         %d\n", c.numLayers);
    std::printf("hidden         %d (intermediate %d)\n", c.hiddenSize, c.intermediateSize);
    std::printf("attention      %d heads, %d kv heads (%s), head_dim %d\n", c.numHeads, c.numKvHeads,
                c.numKvHeads == c.numHeads ? "MHA" : c.numKvHeads == 1 ? "MQA" : "GQA", c.headDim);
    std::printf("rope           theta %g, rotary dims %d of %d\n", c.ropeTheta, c.rotaryDim(), c.headDim);
    std::printf("norm           %s eps %g%s\n", normName(c.norm), c.normEps, c.normPlusOne ? " (1+w)" : "");
    std::printf("mlp            %s, biases %s\n", activationName(c.act), c.mlpBias ? "yes" : "no");
    std::printf("vocab          %d, context %d, embeddings %s\n", c.vocabSize, c.maxPositions,
                c.tiedEmbeddings ? "tied" : "untied");
    std::printf("tokenizer      %s%s\n", m.tokenizerPath.empty() ? "(none found)" : m.tokenizerPath.c_str(),
                m.tokenizer ? (" [" + m.tokenizer->kind() + ", " + std::to_string(m.tokenizer->vocabSize()) + " tokens]").c_str() : "");
    std::printf("sites          %zu (%d per layer + 2)\n", sites.size(), int(sites.size() - 2) / c.numLayers);
    if (a.flag("sites")) {
        for (const std::string &s : sites)
            std::printf("  %s\n", s.c_str());
    } else {
        std::printf("  layers.0.*:");
        const size_t perLayer = (sites.size() - 2) / size_t(c.numLayers);
        for (size_t i = 0; i < perLayer; ++i)
            std::printf("%s%s", i % 5 == 0 ? "\n    " : "  ", sites[i].substr(std::string("layers.0.").size()).c_str());
        std::printf("\n  model: final_norm.in  lm_head.in   (--sites lists all)\n");
    }
    return 0;
}

int runGenerate(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"prompt", "TEXT", "text to continue (BOS is prepended)", ""},
        {"max-tokens", "N", "tokens to generate", "128"},
        {"greedy", "", "always take the most likely token (the default unless --temperature is given)", ""},
        {"temperature", "T", "sample from softmax(logits / T)", ""},
        {"seed", "N", "random seed for sampling", "1337"},
        {"json", "", "print {prompt_tokens, tokens, text, tokens_per_second} instead of streaming", ""},
        kTokenizer, kThreads, kHelp};
    Args a(argv, specs);
    if (wantsHelp(a, "mq generate MODEL --prompt TEXT --max-tokens N [--greedy | --temperature T]",
                  "Generate text with the float model (KV-cache decoding); stops at EOS.", specs))
        return 0;
    configureThreads(a.integer("threads"));
    LoadOptions lo;
    lo.tokenizerPath = a.str("tokenizer");
    lo.requireTokenizer = true;
    Model m = loadModel(modelArg(a, "generate"), lo);
    const Tokenizer &tok = *m.tokenizer;
    const bool sample = a.has("temperature") && !a.flag("greedy");
    const double temperature = sample ? a.real("temperature") : 0.0;
    if (sample && temperature <= 0)
        throw Error("--temperature must be positive (use --greedy for argmax decoding)");
    const int maxTokens = a.integer("max-tokens");
    std::mt19937_64 rng(uint64_t(a.integer("seed")));

    c10::NoGradGuard noGrad;
    std::vector<int> ids = tok.encode(a.str("prompt"), true, false);
    const size_t promptLen = ids.size();
    KvCache cache;
    at::Tensor input = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
    const bool json = a.flag("json");
    if (!json) {
        std::string shown;
        for (size_t i = 0; i < ids.size(); ++i)
            shown += tok.decodePiece(i ? ids[i - 1] : -1, ids[i]);
        std::cout << shown << std::flush;
    }
    const auto start = std::chrono::steady_clock::now();
    int generated = 0;
    for (; generated < maxTokens; ++generated) {
        if (cache.length + input.size(1) > m.config().maxPositions)
            break; // past the trained context the model's output is meaningless
        at::Tensor logits = m.transformer->forward(input, &cache)[0][-1];
        int next = 0;
        if (sample) {
            at::Tensor p = at::softmax(logits / temperature, -1);
            std::uniform_real_distribution<double> u(0.0, 1.0);
            double r = u(rng), acc = 0;
            const float *pp = p.data_ptr<float>();
            next = int(p.size(0)) - 1;
            for (int64_t i = 0; i < p.size(0); ++i)
                if ((acc += pp[i]) >= r) {
                    next = int(i);
                    break;
                }
        } else {
            next = int(logits.argmax().item<int64_t>());
        }
        if (next == tok.eosId() || next == m.config().eosId)
            break;
        if (!json)
            std::cout << tok.decodePiece(ids.back(), next) << std::flush;
        ids.push_back(next);
        input = at::full({1, 1}, next, at::kLong);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double tps = secs > 0 ? generated / secs : 0.0;
    if (json) {
        std::vector<int> out(ids.begin() + long(promptLen), ids.end());
        nlohmann::json j = {{"prompt_tokens", std::vector<int>(ids.begin(), ids.begin() + long(promptLen))},
                            {"tokens", out}, {"text", tok.decode(ids)}, {"tokens_per_second", tps}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "\n";
        std::fprintf(stderr, "[%d tokens, %.1f tokens/s]\n", generated, tps);
    }
    return 0;
}

int runLogits(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"tokens", "IDS", "comma-separated token ids, e.g. 1,403,407", ""},
        {"all-positions", "", "logits of every position (default: the last)", ""},
        {"json", "", "JSON output (the only format; accepted for clarity)", ""}, kThreads, kHelp};
    Args a(argv, specs);
    if (wantsHelp(a, "mq logits MODEL --tokens 1,403,407 [--all-positions] --json",
                  "Raw float32 logits of the float model, for checking against other implementations.", specs))
        return 0;
    configureThreads(a.integer("threads"));
    std::vector<int64_t> ids;
    std::stringstream ss(a.str("tokens"));
    for (std::string item; std::getline(ss, item, ',');) {
        char *end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0')
            throw Error("--tokens: '" + item + "' is not a token id");
        ids.push_back(v);
    }
    if (ids.empty())
        throw Error("--tokens is required (comma-separated ids)");
    Model m = loadModel(modelArg(a, "logits"));
    c10::NoGradGuard noGrad;
    at::Tensor input = at::tensor(ids, at::kLong).unsqueeze(0);
    at::Tensor logits = m.transformer->forward(input)[0].contiguous();
    nlohmann::json rows = nlohmann::json::array();
    const int64_t first = a.flag("all-positions") ? 0 : logits.size(0) - 1;
    for (int64_t p = first; p < logits.size(0); ++p) {
        const float *row = logits[p].data_ptr<float>();
        rows.push_back(std::vector<float>(row, row + logits.size(1)));
    }
    nlohmann::json j = {{"tokens", ids}, {"first_position", first}, {"vocab_size", logits.size(1)}, {"logits", rows}};
    std::cout << j.dump() << "\n";
    return 0;
}

int runConvert(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = {
        {"out", "DIR", "output Hugging Face directory", ""},
        {"dtype", "T", "F32, F16 or BF16", "F32"},
        {"shard-mb", "N", "split into shards of at most N MiB with an index (0 = one file)", "0"},
        kTokenizer, kHelp};
    Args a(argv, specs);
    if (wantsHelp(a, "mq convert MODEL.bin --out DIR [--dtype F32|F16|BF16] [--shard-mb N]",
                  "Convert a llama2.c checkpoint into a Hugging Face directory (config.json, safetensors, "
                  "tokenizer). The q/k rows are permuted per head from llama2.c's interleaved RoPE to HF's "
                  "rotate-half, so the converted model computes the same function.",
                  specs))
        return 0;
    const std::string in = modelArg(a, "convert");
    const std::string out = a.str("out");
    if (out.empty())
        throw Error("mq convert needs --out DIR");
    if (fs::is_directory(in))
        throw Error(in + ": already a Hugging Face directory; mq convert reads llama2.c .bin files");
    auto [config, weights] = readLlama2c(in);
    writeHuggingFace(out, config, weights, a.str("dtype"), size_t(a.integer("shard-mb")) << 20);
    const std::string tok = a.str("tokenizer").empty() ? findTokenizer(in) : a.str("tokenizer");
    if (!tok.empty()) {
        fs::copy_file(tok, fs::path(out) / "tokenizer.bin", fs::copy_options::overwrite_existing);
        // The same vocabulary as a SentencePiece model, when it sits beside the llama2.c one.
        fs::path sp = fs::path(tok).replace_extension(".model");
        if (fs::exists(sp))
            fs::copy_file(sp, fs::path(out) / "tokenizer.model", fs::copy_options::overwrite_existing);
    }
    std::fprintf(stderr, "wrote %s (%s, %s%s)\n", out.c_str(), archName(config.arch), a.str("dtype").c_str(),
                 tok.empty() ? ", no tokenizer found" : "");
    return 0;
}

} // namespace mq::cli
