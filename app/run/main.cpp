// mq-run: executes an exported model package (`mq export`) on the integer runtime. C++17 with the
// runtime alone (no LibTorch, Qt or JSON library), so it builds for phones with the NDK; the
// tokenizer library is used when the build has it (MQ_RUN_HAVE_TOKENIZER), otherwise prompts and
// evaluation data are token ids.
#include "core/runtime/executor.h"
#include "core/runtime/kernels.h"
#include "core/runtime/package.h"
#include "core/runtime/power_sampler.h"

#ifdef MQ_RUN_HAVE_TOKENIZER
#include "core/tokenizer/tokenizer.h"
#endif

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char *kVersion = "mq-run 0.1.0 (model schema 1, package format 1)";

// A bad command line or input file: reported as "mq-run CMD: error: ..." with exit code 1.
class UsageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

#ifdef MQ_RUN_HAVE_TOKENIZER
constexpr bool kHaveTokenizer = true;
#else
constexpr bool kHaveTokenizer = false;
#endif

struct Option
{
    std::string name, value, help, def;
};

// `--name value` / `--flag` options and positionals, declared per command so that --help comes
// from the same table that parses.
class Args
{
public:
    Args(const std::vector<std::string> &argv, const std::vector<Option> &specs)
        : m_specs(specs)
    {
        for (size_t i = 0; i < argv.size(); ++i) {
            const std::string &a = argv[i];
            if (a.rfind("--", 0) != 0 || a.size() == 2) {
                m_positional.push_back(a);
                continue;
            }
            std::string name = a.substr(2), value;
            const size_t eq = name.find('=');
            bool inlineValue = false;
            if (eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inlineValue = true;
            }
            auto it = std::find_if(specs.begin(), specs.end(), [&](const Option &o) { return o.name == name; });
            if (it == specs.end())
                throw UsageError("unknown option --" + name + " (see --help)");
            if (it->value.empty()) {
                m_values[name] = "1";
                continue;
            }
            if (!inlineValue) {
                if (i + 1 >= argv.size())
                    throw UsageError("option --" + name + " needs a value (" + it->value + ")");
                value = argv[++i];
            }
            m_values[name] = value;
        }
    }
    bool has(const std::string &n) const { return m_values.count(n) != 0; }
    std::string str(const std::string &n) const
    {
        auto it = m_values.find(n);
        if (it != m_values.end())
            return it->second;
        for (const Option &o : m_specs)
            if (o.name == n)
                return o.def;
        return {};
    }
    long long integer(const std::string &n) const
    {
        const std::string s = str(n);
        char *end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0')
            throw UsageError("--" + n + " needs an integer, got '" + s + "'");
        return v;
    }
    double real(const std::string &n) const
    {
        const std::string s = str(n);
        char *end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0')
            throw UsageError("--" + n + " needs a number, got '" + s + "'");
        return v;
    }
    const std::vector<std::string> &positional() const { return m_positional; }

private:
    std::vector<Option> m_specs;
    std::map<std::string, std::string> m_values;
    std::vector<std::string> m_positional;
};

std::string helpText(const std::string &usage, const std::string &summary, const std::vector<Option> &specs)
{
    std::string s = "usage: " + usage + "\n\n" + summary + "\n\noptions:\n";
    for (const Option &o : specs) {
        std::string left = "  --" + o.name + (o.value.empty() ? "" : " " + o.value);
        if (left.size() < 26)
            left.resize(26, ' ');
        else
            left += "\n" + std::string(26, ' ');
        s += left + o.help + (o.def.empty() ? "" : " (default " + o.def + ")") + "\n";
    }
    return s;
}

std::string jsonString(const std::string &s)
{
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                o += buf;
            } else {
                o += char(c);
            }
        }
    }
    return o + "\"";
}

std::string jsonNumber(double v)
{
    if (!std::isfinite(v))
        return "null";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

std::string readFile(const std::string &path, const std::string &what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw UsageError("cannot read " + what + " " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<int32_t> parseIds(const std::string &text, const std::string &what)
{
    std::vector<int32_t> ids;
    std::string cur;
    auto flush = [&]() {
        if (cur.empty())
            return;
        char *end = nullptr;
        const long v = std::strtol(cur.c_str(), &end, 10);
        if (*end != '\0' || v < 0 || v > INT32_MAX)
            throw UsageError(what + ": '" + cur + "' is not a token id");
        ids.push_back(int32_t(v));
        cur.clear();
    };
    for (char c : text) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c)))
            flush();
        else
            cur += c;
    }
    flush();
    return ids;
}

// Peak resident memory of this process in bytes: VmHWM from /proc (Linux, Android), else getrusage.
// CPU time of the whole process (every thread), seconds: on a shared machine it leaves out the time
// other processes held the cores, which wall-clock time includes.
double processCpuSeconds()
{
    timespec ts {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

uint64_t peakRssBytes()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return uint64_t(std::strtoull(line.c_str() + 6, nullptr, 10)) * 1024;
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return uint64_t(ru.ru_maxrss) * 1024; // Linux reports KiB
}

#ifdef MQ_RUN_HAVE_TOKENIZER
// The tokenizer embedded in the package, loaded through a temporary file (the tokenizer library
// reads files; its name tells the format).
std::unique_ptr<mq::Tokenizer> packageTokenizer(const mq::ModelExecutor &m)
{
    const mq::ModelPackageConfig &c = m.config();
    if (c.tokenizer == mq::TokenizerKind::None)
        return nullptr;
    const mq::PackageTensor t = m.package().tensor("tokenizer");
    const char *file = c.tokenizer == mq::TokenizerKind::SentencePiece ? "tokenizer.model"
        : c.tokenizer == mq::TokenizerKind::Bpe                         ? "tokenizer.json"
                                                                        : "tokenizer.bin";
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("mq-run-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const fs::path path = dir / file;
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char *>(t.data), std::streamsize(t.size));
    }
    mq::SpecialTokens special;
    special.bos = c.bosId;
    special.eos = c.eosId;
    std::unique_ptr<mq::Tokenizer> tok;
    try {
        tok = mq::loadTokenizer(path.string(), c.vocab, special);
    } catch (...) {
        fs::remove_all(dir);
        throw;
    }
    fs::remove_all(dir);
    return tok;
}
#endif

std::unique_ptr<mq::ModelExecutor> openModel(const Args &a, const std::string &cmd)
{
    if (a.positional().size() != 1)
        throw UsageError("mq-run " + cmd + " needs exactly one PACKAGE (see --help)");
    const long long threads = a.has("threads") ? a.integer("threads") : 1;
    if (threads < 1)
        throw UsageError("--threads must be at least 1");
    mq::kernels::setThreads(int(threads));
    return mq::ModelExecutor::open(a.positional()[0]);
}

const char *kTokenizerNote = kHaveTokenizer
    ? "This build reads text with the tokenizer embedded in the package; --prompt-ids / --ids take token ids instead."
    : "This build has no tokenizer (runtime-only configure): prompts are --prompt-ids 1,2,3 and --data files hold "
      "whitespace-separated token ids.";

// ---------------------------------------------------------------------------------------------

int runInfo(const std::vector<std::string> &argv)
{
    const std::vector<Option> specs = {{"metadata", "", "print the package's JSON metadata", ""},
        {"tensors", "", "list every tensor with its dtype and shape", ""}, {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.has("help")) {
        std::fputs(helpText("mq-run info PACKAGE [--metadata] [--tensors]",
                       "Describe a model package: variant, architecture, sizes, tokenizer, content hash.", specs)
                       .c_str(),
            stdout);
        return 0;
    }
    auto m = openModel(a, "info");
    const mq::ModelPackageConfig &c = m->config();
    const mq::Package &p = m->package();
    std::printf("package      %s\n", p.sourceName().c_str());
    std::printf("variant      %s\n", mq::modelVariantName(c.variant));
    std::printf("architecture %s: %d layers, hidden %d, intermediate %d, %d heads (%d KV) of %d, vocab %d, context %d\n",
        mq::modelArchName(c.arch), c.layers, c.hidden, c.inter, c.heads, c.kvHeads, c.headDim, c.vocab, c.maxPositions);
    std::printf("tokenizer    %s\n", mq::tokenizerKindName(c.tokenizer));
    std::printf("tensors      %zu, weights in memory %.2f MiB\n", p.names().size(), double(m->weightBytes()) / 1048576.0);
    std::printf("sha256       %s\n", p.contentHash().c_str());
    std::printf("kernels      %s\n", mq::kernels::pathName().c_str());
    if (a.has("tensors"))
        for (const std::string &n : p.names()) {
            const mq::PackageTensor t = p.tensor(n);
            std::string shape;
            for (size_t i = 0; i < t.shape.size(); ++i)
                shape += (i ? "x" : "") + std::to_string(t.shape[i]);
            std::printf("  %-44s %-4s [%s]\n", n.c_str(), mq::packageDTypeName(t.dtype), shape.c_str());
        }
    if (a.has("metadata"))
        std::printf("%s\n", p.metadata().c_str());
    return 0;
}

int runGenerate(const std::vector<std::string> &argv)
{
    const std::vector<Option> specs = {{"prompt", "TEXT", "the prompt (needs the tokenizer)", ""},
        {"prompt-ids", "IDS", "the prompt as comma-separated token ids", ""},
        {"tokens", "N", "tokens to generate", "64"},
        {"temperature", "T", "0 = greedy (argmax); above 0 samples from softmax(logits / T)", "0"},
        {"seed", "N", "sampling seed", "1"}, {"threads", "N", "threads for the matrix products", "1"},
        {"print-ids", "", "print the generated token ids, not text (to compare builds or devices token by token)", ""},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.has("help")) {
        std::fputs(helpText("mq-run generate PACKAGE (--prompt TEXT | --prompt-ids 1,2,3) --tokens N [--temperature 0]",
                       std::string("Generate text with the package's model: prompt encoding, then incremental decoding "
                                   "with the KV cache. ")
                           + kTokenizerNote,
                       specs)
                       .c_str(),
            stdout);
        return 0;
    }
    auto m = openModel(a, "generate");
    const mq::ModelPackageConfig &c = m->config();
    std::vector<int32_t> ids;
#ifdef MQ_RUN_HAVE_TOKENIZER
    std::unique_ptr<mq::Tokenizer> tok = packageTokenizer(*m);
#endif
    if (a.has("prompt-ids")) {
        ids = parseIds(a.str("prompt-ids"), "--prompt-ids");
    } else if (a.has("prompt")) {
#ifdef MQ_RUN_HAVE_TOKENIZER
        if (!tok)
            throw UsageError("the package has no tokenizer: pass --prompt-ids");
        for (int id : tok->encode(a.str("prompt"), true, false))
            ids.push_back(id);
#else
        throw UsageError("this mq-run was built without a tokenizer: pass --prompt-ids");
#endif
    } else if (c.bosId >= 0) {
        ids.push_back(c.bosId);
    }
    if (ids.empty())
        throw UsageError("no prompt: pass --prompt or --prompt-ids");
    const long long n = a.integer("tokens");
    const double temperature = a.real("temperature");
    std::mt19937_64 rng(uint64_t(a.integer("seed")));
    std::vector<float> logits;
    const auto t0 = std::chrono::steady_clock::now();
    m->forward(ids.data(), int(ids.size()), logits, false);
    const double prefill = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    [[maybe_unused]] int32_t prev = ids.back(); // the tokenizer's streaming decode needs it
    [[maybe_unused]] const bool printIds = a.has("print-ids");
#ifdef MQ_RUN_HAVE_TOKENIZER
    if (tok && a.has("prompt") && !printIds)
        std::fputs(a.str("prompt").c_str(), stdout);
#endif
    const auto t1 = std::chrono::steady_clock::now();
    long long produced = 0;
    for (long long i = 0; i < n && m->position() < c.maxPositions; ++i) {
        int32_t next = 0;
        if (temperature <= 0) {
            next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        } else {
            const float mx = *std::max_element(logits.begin(), logits.end());
            std::vector<double> w(logits.size());
            for (size_t k = 0; k < w.size(); ++k)
                w[k] = std::exp((double(logits[k]) - mx) / temperature);
            next = int32_t(std::discrete_distribution<int>(w.begin(), w.end())(rng));
        }
        if (next == c.eosId)
            break;
#ifdef MQ_RUN_HAVE_TOKENIZER
        if (tok && !printIds)
            std::fputs(tok->decodePiece(prev, next).c_str(), stdout);
        else
            std::printf("%d ", next);
#else
        std::printf("%d ", next);
#endif
        std::fflush(stdout);
        prev = next;
        ++produced;
        if (m->position() >= c.maxPositions)
            break;
        m->forward(&next, 1, logits, false);
    }
    const double decode = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("\n");
    std::fprintf(stderr, "[prompt %zu tokens in %.3f s; %lld tokens generated at %.1f tokens/s]\n", ids.size(),
        prefill, produced, decode > 0 ? double(produced) / decode : 0.0);
    return 0;
}

int runEval(const std::vector<std::string> &argv)
{
    const std::vector<Option> specs = {
        {"data", "FILE", kHaveTokenizer ? "text to compute perplexity on" : "whitespace-separated token ids", ""},
        {"ids", "", "--data holds whitespace-separated token ids (the first is BOS, not scored)", ""},
        {"seq-len", "N", "window length in tokens (as mq eval --seqlen)", "512"},
        {"stride", "S", "new tokens scored per window (0 = seq-len - 1, as mq eval)", "0"},
        {"max-tokens", "N", "evaluate only the first N tokens (0 = all)", "0"},
        {"threads", "N", "threads for the matrix products", "1"}, {"json", "", "machine-readable result", ""},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.has("help")) {
        std::fputs(helpText("mq-run eval PACKAGE --data FILE [--seq-len N] [--json]",
                       std::string("Token perplexity with the rolling windows of `mq eval` (each window scores the "
                                   "tokens no earlier window scored, with as much left context as fits). ")
                           + kTokenizerNote,
                       specs)
                       .c_str(),
            stdout);
        return 0;
    }
    if (a.str("data").empty())
        throw UsageError("mq-run eval needs --data FILE");
    auto m = openModel(a, "eval");
    const std::string text = readFile(a.str("data"), "the evaluation data");
    std::vector<int32_t> ids;
    if (a.has("ids") || !kHaveTokenizer) {
        ids = parseIds(text, a.str("data"));
    } else {
#ifdef MQ_RUN_HAVE_TOKENIZER
        std::unique_ptr<mq::Tokenizer> tok = packageTokenizer(*m);
        if (!tok)
            throw UsageError("the package has no tokenizer: pass --ids with a file of token ids");
        for (int id : tok->encode(text, true, false))
            ids.push_back(id);
#endif
    }
    if (ids.size() < 2)
        throw UsageError("the evaluation data has fewer than two tokens");
    const int seqLen = int(a.integer("seq-len"));
    if (seqLen > m->config().maxPositions)
        throw UsageError("--seq-len " + std::to_string(seqLen) + " exceeds the model's context of "
            + std::to_string(m->config().maxPositions));
    const mq::RuntimePerplexity r = mq::runtimePerplexity(*m, ids, seqLen, int(a.integer("stride")), a.integer("max-tokens"));
    if (a.has("json")) {
        std::printf("{\n  \"package\": %s,\n  \"variant\": %s,\n  \"data\": %s,\n  \"seq_len\": %d,\n  \"tokens\": %lld,\n"
                    "  \"windows\": %d,\n  \"token_perplexity\": %s,\n  \"nll_per_token\": %s,\n  \"seconds\": %s,\n"
                    "  \"tokens_per_second\": %s,\n  \"threads\": %d,\n  \"kernels\": %s\n}\n",
            jsonString(m->package().sourceName()).c_str(), jsonString(mq::modelVariantName(m->config().variant)).c_str(),
            jsonString(a.str("data")).c_str(), seqLen, static_cast<long long>(r.tokens), r.windows,
            jsonNumber(r.perplexity()).c_str(), jsonNumber(r.tokens ? r.nll / double(r.tokens) : 0).c_str(),
            jsonNumber(r.seconds).c_str(), jsonNumber(r.tokensPerSecond()).c_str(), mq::kernels::threads(),
            jsonString(mq::kernels::pathName()).c_str());
    } else {
        std::printf("%s (%s)  token perplexity %.4f over %lld tokens  [%.2f s, %.0f tokens/s]\n",
            m->package().sourceName().c_str(), mq::modelVariantName(m->config().variant), r.perplexity(),
            static_cast<long long>(r.tokens), r.seconds, r.tokensPerSecond());
    }
    return 0;
}

struct Stats
{
    double median = 0, p10 = 0, p90 = 0, mean = 0, min = 0, max = 0;
};

// Percentiles by linear interpolation between order statistics.
Stats statsOf(std::vector<double> v)
{
    Stats s;
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) {
        const double pos = p * double(v.size() - 1);
        const size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
    };
    s.median = pct(0.5);
    s.p10 = pct(0.1);
    s.p90 = pct(0.9);
    double sum = 0;
    for (double x : v)
        sum += x;
    s.mean = sum / double(v.size());
    s.min = v.front();
    s.max = v.back();
    return s;
}

std::string statsJson(const Stats &s)
{
    return "{\"median\": " + jsonNumber(s.median) + ", \"p10\": " + jsonNumber(s.p10) + ", \"p90\": " + jsonNumber(s.p90)
        + ", \"mean\": " + jsonNumber(s.mean) + ", \"min\": " + jsonNumber(s.min) + ", \"max\": " + jsonNumber(s.max) + "}";
}

std::vector<std::string> splitComma(const std::string &s)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

int runBench(const std::vector<std::string> &argv)
{
    const std::vector<Option> specs = {{"prompt-tokens", "N", "prompt length encoded in one pass", "128"},
        {"decode-tokens", "M", "tokens decoded one at a time after the prompt", "32"},
        {"warmup", "W", "unmeasured repetitions first", "1"}, {"repeats", "R", "measured repetitions", "5"},
        {"threads", "T", "threads for the matrix products", "1"}, {"json", "", "print the result as JSON", ""},
        {"power-files", "A,B,C", "files to sample during the measurement (battery current/voltage, thermal zones)", ""},
        {"power-hz", "H", "sampling rate of --power-files", "10"},
        {"profile", "", "time each kind of operation: a table on stderr and \"profile\" in the JSON", ""},
        {"help", "", "show this help", ""}};
    Args a(argv, specs);
    if (a.has("help")) {
        std::fputs(helpText("mq-run bench PACKAGE --prompt-tokens N --decode-tokens M --warmup W --repeats R "
                            "[--threads T] --json [--power-files a,b,c --power-hz H] [--profile]",
                       "Latency of prompt encoding (one pass over N tokens) and of each decoded token (KV cache), "
                       "R measured repetitions after W warm-ups, on fixed pseudo-random token ids (no tokenizer "
                       "needed). Reports median / p10 / p90 / mean, tokens per second, the process CPU time of each prompt "
                       "pass and peak RSS; with "
                       "--power-files a side thread samples the files at --power-hz and the JSON holds every "
                       "timestamped sample and the phase marks (seconds since the sampler started). --profile times "
                       "each kind of operation (norms, matrix products, requantization, softmax, ...) over the "
                       "measured repetitions and reports it per prompt pass and per decoded token (the timing "
                       "itself adds a little to the totals).",
                       specs)
                       .c_str(),
            stdout);
        return 0;
    }
    auto m = openModel(a, "bench");
    const mq::ModelPackageConfig &c = m->config();
    const long long n = a.integer("prompt-tokens"), decodeN = a.integer("decode-tokens");
    const long long warmup = a.integer("warmup"), repeats = a.integer("repeats");
    if (n < 1 || decodeN < 0 || warmup < 0 || repeats < 1)
        throw UsageError("need --prompt-tokens >= 1, --decode-tokens >= 0, --warmup >= 0, --repeats >= 1");
    if (n + decodeN > c.maxPositions)
        throw UsageError(std::to_string(n + decodeN) + " positions exceed the model's context of "
            + std::to_string(c.maxPositions));
    std::vector<int32_t> prompt(static_cast<size_t>(n));
    for (long long i = 0; i < n; ++i) // fixed, spread over the vocabulary; the content does not matter
        prompt[size_t(i)] = int32_t((uint64_t(i) * 7919u + 13u) % uint64_t(c.vocab));
    std::unique_ptr<mq::PowerSampler> sampler;
    const std::vector<std::string> powerFiles = splitComma(a.str("power-files"));
    if (!powerFiles.empty()) {
        const double hz = a.real("power-hz");
        if (!(hz > 0))
            throw UsageError("--power-hz must be positive");
        sampler = std::make_unique<mq::PowerSampler>(powerFiles, hz);
    }
    auto mark = [&](const std::string &name) {
        if (sampler)
            sampler->mark(name);
    };
    using Clock = std::chrono::steady_clock;
    std::vector<double> promptSec, decodeSec, promptCpuSec;
    std::vector<float> logits;
    const bool profiling = a.has("profile");
    m->setProfiling(profiling);
    mq::ExecutorProfile promptProfile, decodeProfile;
    for (long long r = 0; r < warmup + repeats; ++r) {
        const bool measured = r >= warmup;
        if (measured && r == warmup && sampler)
            sampler->start();
        m->reset();
        if (measured)
            mark("prompt:begin");
        m->clearProfile();
        const double cpu0 = processCpuSeconds();
        auto t0 = Clock::now();
        m->forward(prompt.data(), int(n), logits, false);
        const double tp = std::chrono::duration<double>(Clock::now() - t0).count();
        const double cpu = processCpuSeconds() - cpu0;
        if (measured) {
            mark("prompt:end");
            promptSec.push_back(tp);
            promptCpuSec.push_back(cpu);
            promptProfile += m->profile();
            mark("decode:begin");
        }
        m->clearProfile();
        int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        for (long long i = 0; i < decodeN; ++i) {
            t0 = Clock::now();
            m->forward(&next, 1, logits, false);
            const double td = std::chrono::duration<double>(Clock::now() - t0).count();
            next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
            if (measured)
                decodeSec.push_back(td);
        }
        if (measured) {
            decodeProfile += m->profile();
            mark("decode:end");
        }
    }
    if (sampler)
        sampler->stop();
    const Stats ps = statsOf(promptSec), ds = statsOf(decodeSec), pcs = statsOf(promptCpuSec);
    const uint64_t rss = peakRssBytes();
    // Per prompt pass and per decoded token; "other" is the measured time outside the categories.
    const double promptWall = ps.mean * double(promptSec.size()), decodeWall = ds.mean * double(decodeSec.size());
    const double perPrompt = 1.0 / double(promptSec.size()), perToken = decodeSec.empty() ? 0.0 : 1.0 / double(decodeSec.size());
    if (profiling) {
        std::fprintf(stderr, "%-24s %14s %7s %16s %7s\n", "operation", "prompt ms/pass", "%", "decode ms/token", "%");
        auto row = [&](const char *name, double p, double d) {
            std::fprintf(stderr, "%-24s %14.3f %6.1f%% %16.4f %6.1f%%\n", name, p * perPrompt * 1e3,
                promptWall > 0 ? 100.0 * p / promptWall : 0.0, d * perToken * 1e3,
                decodeWall > 0 ? 100.0 * d / decodeWall : 0.0);
        };
        for (int i = 0; i < mq::kProfileOpCount; ++i)
            row(mq::profileOpName(mq::ProfileOp(i)), promptProfile.seconds[size_t(i)], decodeProfile.seconds[size_t(i)]);
        row("other", promptWall - promptProfile.total(), decodeWall - decodeProfile.total());
        row("total (measured)", promptWall, decodeWall);
    }
    auto profileJson = [&](const mq::ExecutorProfile &p, double wall, double per) {
        std::string j = "{";
        for (int i = 0; i < mq::kProfileOpCount; ++i)
            j += std::string(i ? ", " : "") + "\"" + mq::profileOpKey(mq::ProfileOp(i)) + "\": " + jsonNumber(p.seconds[size_t(i)] * per);
        return j + ", \"other\": " + jsonNumber((wall - p.total()) * per) + ", \"total\": " + jsonNumber(wall * per) + "}";
    };
    if (a.has("json")) {
        std::string j = "{\n";
        j += "  \"package\": " + jsonString(m->package().sourceName()) + ",\n";
        j += "  \"content_hash\": " + jsonString(m->package().contentHash()) + ",\n";
        j += "  \"variant\": " + jsonString(mq::modelVariantName(c.variant)) + ",\n";
        j += "  \"architecture\": " + jsonString(mq::modelArchName(c.arch)) + ",\n";
        j += "  \"layers\": " + std::to_string(c.layers) + ", \"hidden\": " + std::to_string(c.hidden)
            + ", \"intermediate\": " + std::to_string(c.inter) + ", \"vocab\": " + std::to_string(c.vocab) + ",\n";
        j += "  \"kernels\": " + jsonString(mq::kernels::pathName()) + ",\n";
        j += "  \"threads\": " + std::to_string(mq::kernels::threads()) + ",\n";
        j += "  \"prompt_tokens\": " + std::to_string(n) + ", \"decode_tokens\": " + std::to_string(decodeN)
            + ", \"warmup\": " + std::to_string(warmup) + ", \"repeats\": " + std::to_string(repeats) + ",\n";
        j += "  \"prompt_seconds\": " + statsJson(ps) + ",\n";
        j += "  \"prompt_tokens_per_second\": " + jsonNumber(ps.median > 0 ? double(n) / ps.median : 0) + ",\n";
        j += "  \"prompt_cpu_seconds\": " + statsJson(pcs) + ",\n";
        j += "  \"decode_seconds_per_token\": " + statsJson(ds) + ",\n";
        j += "  \"decode_tokens_per_second\": " + jsonNumber(ds.median > 0 ? 1.0 / ds.median : 0) + ",\n";
        j += "  \"weight_bytes\": " + std::to_string(m->weightBytes()) + ",\n";
        j += "  \"peak_rss_bytes\": " + std::to_string(rss);
        if (profiling)
            j += ",\n  \"profile\": {\"unit\": \"seconds per prompt pass / per decoded token\",\n    \"prompt\": "
                + profileJson(promptProfile, promptWall, perPrompt) + ",\n    \"decode\": "
                + profileJson(decodeProfile, decodeWall, perToken) + "}";
        if (sampler) {
            j += ",\n  \"power\": {\n    \"files\": [";
            for (size_t i = 0; i < powerFiles.size(); ++i)
                j += (i ? ", " : "") + jsonString(powerFiles[i]);
            j += "],\n    \"hz\": " + jsonNumber(sampler->hz()) + ",\n";
            j += "    \"read_errors\": " + std::to_string(sampler->readErrors()) + ",\n    \"samples\": [";
            const std::vector<mq::PowerSample> samples = sampler->samples();
            for (size_t i = 0; i < samples.size(); ++i) {
                j += std::string(i ? ",\n      " : "\n      ") + "{\"t\": " + jsonNumber(samples[i].seconds) + ", \"values\": [";
                for (size_t k = 0; k < samples[i].values.size(); ++k)
                    j += (k ? ", " : "") + jsonString(samples[i].values[k]);
                j += "]}";
            }
            j += "],\n    \"marks\": [";
            const std::vector<mq::PhaseMark> marks = sampler->marks();
            for (size_t i = 0; i < marks.size(); ++i)
                j += std::string(i ? ",\n      " : "\n      ") + "{\"t\": " + jsonNumber(marks[i].seconds)
                    + ", \"name\": " + jsonString(marks[i].name) + "}";
            j += "]\n  }";
        }
        j += "\n}\n";
        std::fputs(j.c_str(), stdout);
    } else {
        std::printf("%s (%s, %s kernels, %d threads)\n", m->package().sourceName().c_str(),
            mq::modelVariantName(c.variant), mq::kernels::pathName().c_str(), mq::kernels::threads());
        std::printf("prompt encoding %lld tokens: median %.4f s (p10 %.4f, p90 %.4f, mean %.4f) = %.1f tokens/s; "
                    "process CPU time median %.4f s (min %.4f)\n",
            n, ps.median, ps.p10, ps.p90, ps.mean, ps.median > 0 ? double(n) / ps.median : 0.0, pcs.median, pcs.min);
        if (decodeN > 0)
            std::printf("decode: median %.5f s/token (p10 %.5f, p90 %.5f, mean %.5f) = %.1f tokens/s\n", ds.median,
                ds.p10, ds.p90, ds.mean, ds.median > 0 ? 1.0 / ds.median : 0.0);
        std::printf("peak RSS %.1f MiB\n", double(rss) / 1048576.0);
    }
    return 0;
}

const char *kUsage = "usage: mq-run COMMAND PACKAGE [options]   (mq-run COMMAND --help for a command's options)\n"
                     "\n"
                     "Runs a model package written by `mq export` on the integer runtime.\n"
                     "\n"
                     "commands:\n"
                     "  generate  generate tokens from a prompt (prompt encoding + KV-cache decoding)\n"
                     "  eval      perplexity over a text (the windows of `mq eval`)\n"
                     "  bench     latency of prompt encoding and decoding, tokens/s, peak memory, power samples\n"
                     "  info      what a package holds\n"
                     "\n"
                     "  --version  print the version\n";

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        if (!args.empty())
            std::printf("\n%s\n", kTokenizerNote);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::printf("%s, kernels %s\nno Qt/LibTorch/HDF5 (runtime only)\n", kVersion, mq::kernels::pathName().c_str());
        return 0;
    }
    const std::map<std::string, int (*)(const std::vector<std::string> &)> commands = {
        {"generate", runGenerate}, {"eval", runEval}, {"bench", runBench}, {"info", runInfo}};
    auto it = commands.find(args[0]);
    if (it == commands.end()) {
        std::fprintf(stderr, "mq-run: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
        return 2;
    }
    try {
        return it->second(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "mq-run %s: error: %s\n", args[0].c_str(), e.what());
    }
    return 1;
}
