#pragma once

#include "core/runtime/model_package.h"
#include "core/runtime/package.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

// Runs an exported model package (docs/package-format.md, "Model package"): prompt encoding over
// T tokens and incremental decoding with a KV cache. The integer variants (W8A8, W4A8, A16) keep
// every value between the embedding lookup and the final norm as integer codes of the sites of
// docs/sites.md — linear layers through kernels.h, everything else through int_ops.h — so their
// codes are the fake-quant simulation's codes up to rounding; the KV cache holds the codes of
// attn.qk.in2 (k after RoPE) and attn.pv.in2 (v), 8-bit in W8A8/W4A8. FP32 runs the float model.
//
// An executor owns its package and its cache: one thread at a time (the matrix products may use
// kernels::setThreads workers underneath).

namespace mq {

// The categories of work forward() is split into for timing (mq-run bench --profile).
enum class ProfileOp : int {
    Embedding,      // embedding lookup (and its quantization into the first grid)
    Norm,           // RMSNorm / LayerNorm of the layers
    LinearProduct,  // q/k/v/o/gate/up/down matrix products (kernels::matmul)
    LinearRequant,  // their requantization into the output grids
    Convert,        // codes narrowed or widened between buffers, KV cache appends
    Rope,           // rotary embedding (and v into attn.pv.in2)
    KvPack,         // the KV cache packed for the attention kernels
    AttnScores,     // q·kᵀ and its requantization into attn.qk.out
    Softmax,        // softmax rows (with their gathering and scattering)
    AttnValues,     // p·v and its requantization into attn.pv.out
    Mlp,            // activation and the gate·up product
    Residual,       // residual adds
    Head,           // final norm and LM head
    Count
};
constexpr int kProfileOpCount = int(ProfileOp::Count);
const char *profileOpName(ProfileOp op); // "linear products"
const char *profileOpKey(ProfileOp op);  // "linear_products", for JSON

// Seconds and calls per category, summed over forward() calls since the last clear.
struct ExecutorProfile
{
    std::array<double, kProfileOpCount> seconds {};
    std::array<int64_t, kProfileOpCount> calls {};
    double total() const;
    ExecutorProfile &operator+=(const ExecutorProfile &o);
};

class ModelExecutor
{
public:
    // Validates the model schema (every tensor the config promises, with its dtype and shape;
    // grids and table lengths) and prepares the weights. Throws PackageError naming the tensor.
    static std::unique_ptr<ModelExecutor> load(Package package);
    static std::unique_ptr<ModelExecutor> open(const std::string &path);

    virtual ~ModelExecutor() = default;

    const ModelPackageConfig &config() const { return m_config; }
    const Package &package() const { return m_package; }
    // Tokens in the cache = position of the next token.
    int position() const { return m_position; }
    void reset();

    // Appends `count` tokens after the cached ones and writes logits: [count, vocab] with allRows,
    // else only the last token's [vocab] row (what generation needs; skips the LM head elsewhere).
    // Throws PackageError for a token outside the vocabulary or positions past max_positions.
    void forward(const int32_t *tokens, int count, std::vector<float> &logits, bool allRows = true);

    // Bytes of the packed weights and of the KV cache currently allocated.
    virtual size_t weightBytes() const = 0;

    // Inspection (tests, diagnostics; integer variants only). With an observer set, forward()
    // calls it with the codes of every activation site as soon as the runtime has produced them,
    // layer by layer in forward order, before anything reads them. The codes are writable: an
    // observer may replace them (e.g. by a reference's codes, to measure each operator on the same
    // inputs). Layouts: [count, width] for the sites of one token row (the heads side by side for
    // attn.qk.in, attn.qk.in2 and attn.pv.in2); attn.qk.out and attn.pv.in come one (head, query)
    // row at a time, the keys firstVisible..position. Unset, it costs one test per site and layer
    // (and the MLP fuses activation and gate·up into one pass, which skips act.in2 / act.out as
    // buffers; the integers are the same).
    struct SiteCodes
    {
        int layer = 0;
        RtSite site = RtSite::AttnNormIn;
        int head = -1;  // attn.qk.out / attn.pv.in: the query head; else -1
        int row = -1;   // attn.qk.out / attn.pv.in: the query's index in this forward call; else -1
        int first = 0;  // attn.qk.out / attn.pv.in: position of the first key in `codes`
        int32_t *codes = nullptr;
        size_t count = 0;
    };
    using SiteObserver = std::function<void(const SiteCodes &)>;
    void setSiteObserver(SiteObserver observer) { m_observer = std::move(observer); }

    // Timing per ProfileOp (a steady clock read around each operation). Off by default; off, each
    // operation costs one pointer test. clearProfile() zeroes the sums.
    void setProfiling(bool on);
    bool profiling() const { return m_profile != nullptr; }
    ExecutorProfile profile() const { return m_profile ? *m_profile : ExecutorProfile {}; }
    void clearProfile()
    {
        if (m_profile)
            *m_profile = ExecutorProfile {};
    }

protected:
    ModelExecutor(Package package, ModelPackageConfig config);
    // Runs the decoder stack for `count` tokens at positions [position(), position() + count) and
    // returns the last decoder layer's output (the final norm's input) in float, [count, hidden].
    virtual void decoderLayers(const int32_t *tokens, int count, std::vector<float> &hidden) = 0;
    virtual void clearCache() = 0;

    Package m_package;
    ModelPackageConfig m_config;
    int m_position = 0;
    SiteObserver m_observer;
    std::unique_ptr<ExecutorProfile> m_profile;

private:
    struct Head;
    std::shared_ptr<Head> m_head;
    std::vector<float> m_hidden, m_normed; // forward()'s scratch, kept between calls
};

// Rolling-window perplexity with exactly the windows of core/eval's perplexity() (`mq eval`):
// ids[0] is BOS and is not scored; each window of up to seqLen tokens scores the tokens no earlier
// window scored, with as much left context as fits; stride 0 = seqLen - 1.
struct RuntimePerplexity
{
    double nll = 0;
    int64_t tokens = 0;
    int windows = 0;
    double seconds = 0;
    // Positions where the argmax of the logits is the next token (greedy accuracy), for parity.
    std::vector<int32_t> argmax; // one per scored token, in order
    double perplexity() const;
    double tokensPerSecond() const { return seconds > 0 ? double(tokens) / seconds : 0.0; }
};
RuntimePerplexity runtimePerplexity(ModelExecutor &model, const std::vector<int32_t> &ids, int seqLen, int stride = 0,
    int64_t maxTokens = 0);

} // namespace mq
