#include "tiny_models.h"

#include "core/safetensors/safetensors.h"

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace mq::test {

std::vector<TinyFamily> tinyFamilies()
{
    std::vector<TinyFamily> out;
    // GQA 4/2, untied, RMSNorm, SwiGLU.
    out.push_back({"llama",
                   R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":32,"intermediate_size":48,
                       "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":50,
                       "rms_norm_eps":1e-5,"rope_theta":10000.0,"max_position_embeddings":64,"hidden_act":"silu",
                       "tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2})",
                   2, 32, 48, 4, 2, 8, 50, 8, false, false, false, false, 1e-5, 10000.0, 0});
    // GQA 4/1 with a sliding window shorter than the test sequence.
    out.push_back({"mistral",
                   R"({"architectures":["MistralForCausalLM"],"model_type":"mistral","hidden_size":32,"intermediate_size":40,
                       "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":50,
                       "rms_norm_eps":1e-6,"rope_theta":10000.0,"max_position_embeddings":64,"hidden_act":"silu",
                       "sliding_window":5,"tie_word_embeddings":false})",
                   2, 32, 40, 4, 1, 8, 50, 8, false, false, false, false, 1e-6, 10000.0, 5});
    // q/k/v biases, tied embeddings, large rope_theta.
    out.push_back({"qwen2",
                   R"({"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","hidden_size":32,"intermediate_size":48,
                       "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":50,
                       "rms_norm_eps":1e-6,"rope_theta":1000000.0,"max_position_embeddings":64,"hidden_act":"silu",
                       "tie_word_embeddings":true,"use_sliding_window":false})",
                   2, 32, 48, 4, 2, 8, 50, 8, true, true, false, false, 1e-6, 1e6, 0});
    // MQA, explicit head_dim (heads·head_dim ≠ hidden), (1+w) RMSNorm, sqrt(hidden) embeddings,
    // tanh-GELU GeGLU, tied.
    out.push_back({"gemma",
                   R"({"architectures":["GemmaForCausalLM"],"model_type":"gemma","hidden_size":32,"intermediate_size":64,
                       "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"head_dim":16,
                       "vocab_size":50,"rms_norm_eps":1e-6,"rope_theta":10000.0,"max_position_embeddings":64,
                       "hidden_act":"gelu_pytorch_tanh","hidden_activation":"gelu_pytorch_tanh"})",
                   2, 32, 64, 4, 1, 16, 50, 16, true, false, false, true, 1e-6, 10000.0, 0});
    // StableLM-2: LayerNorm with bias, 25% partial rotary, q/k/v biases, MHA, untied.
    out.push_back({"stablelm",
                   R"({"architectures":["StableLmForCausalLM"],"model_type":"stablelm","hidden_size":32,"intermediate_size":48,
                       "num_hidden_layers":2,"num_attention_heads":2,"num_key_value_heads":2,"vocab_size":50,
                       "layer_norm_eps":1e-5,"rope_theta":10000.0,"partial_rotary_factor":0.25,"use_qkv_bias":true,
                       "max_position_embeddings":64,"hidden_act":"silu","tie_word_embeddings":false,
                       "use_parallel_residual":false,"qk_layernorm":false})",
                   2, 32, 48, 2, 2, 16, 50, 4, false, true, true, false, 1e-5, 10000.0, 0});
    return out;
}

std::map<std::string, at::Tensor> tinyTensors(const TinyFamily &f, uint64_t seed)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    auto rnd = [&](std::vector<int64_t> shape, double std) { return std * at::randn(shape, gen, at::kFloat); };
    std::map<std::string, at::Tensor> t;
    const int64_t q = int64_t(f.heads) * f.headDim, kv = int64_t(f.kvHeads) * f.headDim;
    auto normW = [&]() { return f.gemma ? rnd({f.hidden}, 0.1) : 1.0 + rnd({f.hidden}, 0.1); };
    t["model.embed_tokens.weight"] = rnd({f.vocab, f.hidden}, 1.0);
    for (int l = 0; l < f.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t[p + "input_layernorm.weight"] = normW();
        t[p + "post_attention_layernorm.weight"] = normW();
        if (f.layerNorm) {
            t[p + "input_layernorm.bias"] = rnd({f.hidden}, 0.1);
            t[p + "post_attention_layernorm.bias"] = rnd({f.hidden}, 0.1);
        }
        t[p + "self_attn.q_proj.weight"] = rnd({q, f.hidden}, 0.3);
        t[p + "self_attn.k_proj.weight"] = rnd({kv, f.hidden}, 0.3);
        t[p + "self_attn.v_proj.weight"] = rnd({kv, f.hidden}, 0.3);
        t[p + "self_attn.o_proj.weight"] = rnd({f.hidden, q}, 0.3);
        if (f.qkvBias) {
            t[p + "self_attn.q_proj.bias"] = rnd({q}, 0.3);
            t[p + "self_attn.k_proj.bias"] = rnd({kv}, 0.3);
            t[p + "self_attn.v_proj.bias"] = rnd({kv}, 0.3);
        }
        t[p + "mlp.gate_proj.weight"] = rnd({f.inter, f.hidden}, 0.3);
        t[p + "mlp.up_proj.weight"] = rnd({f.inter, f.hidden}, 0.3);
        t[p + "mlp.down_proj.weight"] = rnd({f.hidden, f.inter}, 0.3);
    }
    t["model.norm.weight"] = normW();
    if (f.layerNorm)
        t["model.norm.bias"] = rnd({f.hidden}, 0.1);
    if (!f.tied)
        t["lm_head.weight"] = rnd({f.vocab, f.hidden}, 0.3);
    return t;
}

std::filesystem::path writeTinyCheckpoint(const std::filesystem::path &dir, const TinyFamily &f,
                                          const std::map<std::string, at::Tensor> &tensors)
{
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << f.configJson;
    std::vector<TensorToWrite> out;
    for (const auto &[name, t] : tensors)
        out.push_back({name, t.sizes().vec(), t.data_ptr<float>(), DType::F32});
    writeSafetensors((dir / "model.safetensors").string(), out);
    return dir;
}

namespace {

at::Tensor get(const std::map<std::string, at::Tensor> &t, const std::string &name)
{
    return t.at(name).to(at::kDouble);
}

at::Tensor maybe(const std::map<std::string, at::Tensor> &t, const std::string &name)
{
    auto it = t.find(name);
    return it == t.end() ? at::Tensor() : it->second.to(at::kDouble);
}

} // namespace

at::Tensor referenceLogits(const TinyFamily &f, const std::map<std::string, at::Tensor> &t,
                           const std::vector<int64_t> &tokens)
{
    const int64_t T = int64_t(tokens.size());
    const int64_t D = f.headDim, rd = f.rotary;
    auto normalize = [&](const at::Tensor &x, const std::string &prefix) {
        at::Tensor w = get(t, prefix + ".weight");
        if (f.layerNorm) {
            at::Tensor mu = x.mean(-1, true);
            at::Tensor var = (x - mu).pow(2).mean(-1, true);
            return (x - mu) / at::sqrt(var + f.eps) * w + get(t, prefix + ".bias");
        }
        at::Tensor y = x / at::sqrt(x.pow(2).mean(-1, true) + f.eps);
        return f.gemma ? y * (1.0 + w) : y * w;
    };
    auto lin = [&](const at::Tensor &x, const std::string &prefix) {
        at::Tensor y = at::matmul(x, get(t, prefix + ".weight").t());
        at::Tensor b = maybe(t, prefix + ".bias");
        return b.defined() ? y + b : y;
    };
    // Rotate-half RoPE on the first rd dims of one head's vectors [T, D], angle pos·θ^(-2i/rd).
    auto rope = [&](const at::Tensor &x) {
        at::Tensor y = x.clone();
        for (int64_t pos = 0; pos < T; ++pos)
            for (int64_t i = 0; i < rd / 2; ++i) {
                const double a = double(pos) * std::pow(f.theta, -2.0 * double(i) / double(rd));
                const double x1 = x[pos][i].item<double>(), x2 = x[pos][i + rd / 2].item<double>();
                y[pos][i] = x1 * std::cos(a) - x2 * std::sin(a);
                y[pos][i + rd / 2] = x2 * std::cos(a) + x1 * std::sin(a);
            }
        return y;
    };

    at::Tensor x = get(t, "model.embed_tokens.weight").index_select(0, at::tensor(tokens, at::kLong));
    if (f.gemma)
        x = x * std::sqrt(double(f.hidden));
    for (int l = 0; l < f.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        at::Tensor h = normalize(x, p + "input_layernorm");
        at::Tensor q = lin(h, p + "self_attn.q_proj"), k = lin(h, p + "self_attn.k_proj"),
                   v = lin(h, p + "self_attn.v_proj");
        std::vector<at::Tensor> heads;
        for (int hd = 0; hd < f.heads; ++hd) {
            const int kvh = hd / (f.heads / f.kvHeads); // repeat_kv: each KV head serves a block of query heads
            at::Tensor qh = rope(q.narrow(1, hd * D, D));
            at::Tensor kh = rope(k.narrow(1, kvh * D, D));
            at::Tensor vh = v.narrow(1, kvh * D, D);
            at::Tensor s = at::matmul(qh, kh.t()) / std::sqrt(double(D));
            for (int64_t i = 0; i < T; ++i)
                for (int64_t j = 0; j < T; ++j)
                    if (j > i || (f.slidingWindow > 0 && i - j >= f.slidingWindow))
                        s[i][j] = -INFINITY;
            heads.push_back(at::matmul(at::softmax(s, -1), vh));
        }
        x = x + lin(at::cat(heads, 1), p + "self_attn.o_proj");
        at::Tensor h2 = normalize(x, p + "post_attention_layernorm");
        at::Tensor g = lin(h2, p + "mlp.gate_proj");
        at::Tensor act = f.gemma ? 0.5 * g * (1.0 + at::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g.pow(3))))
                                 : g / (1.0 + at::exp(-g));
        x = x + lin(act * lin(h2, p + "mlp.up_proj"), p + "mlp.down_proj");
    }
    x = normalize(x, "model.norm");
    at::Tensor head = f.tied ? get(t, "model.embed_tokens.weight") : get(t, "lm_head.weight");
    return at::matmul(x, head.t());
}

} // namespace mq::test
