#!/usr/bin/env python3
"""Parity fixtures for @lrw/models: a tiny GPT-2 and a tiny Llama in PyTorch.

Our own module code, written to match Hugging Face's GPT2LMHeadModel and LlamaForCausalLM
(parameter names, Conv1D layout, gelu_new, pre-LayerNorm, tied head; RMSNorm, rotate-half RoPE,
SwiGLU, repeat_kv grouped-query attention, untied head). Weights are drawn once from a fixed
seed (float32 values, so TypeScript loads them exactly) and computations run in float64.

Writes, per model, into packages/models/test/fixtures/parity/<name>/:
  config.json        Hugging Face config
  model.safetensors  the weights under HF names, written by the minimal writer below
                     (independent of the TypeScript writer under test)
  expected.json      inputs, logits, per-token and per-sample losses, and the gradient of
                     sum_i w_i l_i with respect to every parameter (HF names and layouts)

Run with Debian's python3-torch:  /usr/bin/python3 tooling/reference/make-models-parity-fixtures.py
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "packages", "models", "test", "fixtures", "parity")


# ---------------------------------------------------------------- GPT-2 (HF layout)
class Conv1D(nn.Module):
    """HF's Conv1D: weight (in, out), y = x @ W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.empty(nf))

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["n_head"]
        self.c_attn = Conv1D(3 * c["n_embd"], c["n_embd"])
        self.c_proj = Conv1D(c["n_embd"], c["n_embd"])

    def forward(self, x):
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, H, C // H).transpose(1, 2)
        k = k.view(B, T, H, C // H).transpose(1, 2)
        v = v.view(B, T, H, C // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class GPT2MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(4 * c["n_embd"], c["n_embd"])
        self.c_proj = Conv1D(c["n_embd"], 4 * c["n_embd"])

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.mlp = GPT2MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])

    def forward(self, ids):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = GPT2Model(c)

    def forward(self, ids):
        return self.transformer(ids) @ self.transformer.wte.weight.T  # tied head


# ---------------------------------------------------------------- Llama (HF layout)
class LlamaRMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope_tables(T, D, theta, dtype):
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))  # float32, as HF
    freqs = torch.arange(T).float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.H = c["num_attention_heads"]
        self.Hkv = c["num_key_value_heads"]
        self.D = c["hidden_size"] // self.H
        self.theta = c["rope_theta"]
        C = c["hidden_size"]
        self.q_proj = nn.Linear(C, self.H * self.D, bias=False)
        self.k_proj = nn.Linear(C, self.Hkv * self.D, bias=False)
        self.v_proj = nn.Linear(C, self.Hkv * self.D, bias=False)
        self.o_proj = nn.Linear(self.H * self.D, C, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.D).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.Hkv, self.D).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.Hkv, self.D).transpose(1, 2)
        cos, sin = rope_tables(T, self.D, self.theta, x.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        G = self.H // self.Hkv
        k = k[:, :, None].expand(B, self.Hkv, G, T, self.D).reshape(B, self.H, T, self.D)  # repeat_kv
        v = v[:, :, None].expand(B, self.Hkv, G, T, self.D).reshape(B, self.H, T, self.D)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.D)
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        return self.o_proj((att @ v).transpose(1, 2).reshape(B, T, C))


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, F_ = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(C, F_, bias=False)
        self.up_proj = nn.Linear(C, F_, bias=False)
        self.down_proj = nn.Linear(F_, C, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = LlamaMLP(c)

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, ids):
        return self.lm_head(self.model(ids))


# ---------------------------------------------------------------- shared
def fill_weights(model, seed):
    """Random float32-representable values: matrices N(0, 0.3^2), norm gains 1 + N(0, 0.1^2),
    biases N(0, 0.1^2), so that every parameter (biases and gains too) affects the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            z = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if "norm" in name or "ln_" in name:
                v = 1 + 0.1 * z if name.endswith("weight") else 0.1 * z
            elif name.endswith("bias"):
                v = 0.1 * z
            else:
                v = 0.3 * z
            p.copy_(v.to(torch.float32))


def per_sample_loss(logits, targets, mask):
    """Spec section 1: sum of token CE over active targets / number of active targets; 0 if none."""
    B, T, V = logits.shape
    active = (targets != -100) & (mask != 0)
    safe = torch.where(active, targets, torch.zeros_like(targets))
    ce = F.cross_entropy(logits.reshape(-1, V), safe.reshape(-1), reduction="none").reshape(B, T)
    ce = torch.where(active, ce, torch.zeros_like(ce))
    counts = active.sum(1)
    return ce.sum(1) / counts.clamp(min=1).to(ce.dtype), ce, counts


def write_safetensors(path, tensors):
    """Minimal safetensors writer: 8-byte LE header length, JSON header, raw LE float32 data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make(name, model, hf_config, ids, targets, mask, weights, seed):
    fill_weights(model, seed)
    model = model.to(torch.float64)
    logits = model(ids)
    losses, ce, counts = per_sample_loss(logits, targets, mask)
    (losses * weights).sum().backward()
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    params = dict(model.named_parameters())
    write_safetensors(os.path.join(folder, "model.safetensors"), params)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config, f, indent=2)
        f.write("\n")
    expected = {
        "source": "tooling/reference/make-models-parity-fixtures.py (PyTorch %s, float64)" % torch.__version__,
        "ids": ids.tolist(),
        "targets": targets.tolist(),
        "mask": mask.tolist(),
        "sample_weights": weights.tolist(),
        "objective": "sum_i sample_weights[i] * per_sample_loss[i]",
        "logits": logits.tolist(),
        "token_losses": ce.tolist(),
        "per_sample_loss": losses.tolist(),
        "num_active": counts.tolist(),
        "grads": {n: p.grad.flatten().tolist() for n, p in params.items()},
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print(name, "params", sum(p.numel() for p in params.values()), "losses", losses.tolist())


def main():
    torch.manual_seed(0)
    B, T = 3, 6
    # Sample 0: all active; sample 1: an ignored target (-100) and a masked one;
    # sample 2: nothing active (loss 0, no gradient).
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]])
    weights = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)

    gpt2 = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 13,
        "n_positions": 8, "n_ctx": 8, "n_embd": 16, "n_layer": 2, "n_head": 2, "n_inner": None,
        "activation_function": "gelu_new", "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "tie_word_embeddings": True,
        "torch_dtype": "float32",
    }
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 13, (B, T), generator=g)
    targets = torch.randint(0, 13, (B, T), generator=g)
    targets[1, 4] = -100
    make("gpt2-tiny", GPT2LMHeadModel(gpt2), gpt2, ids, targets, mask, weights, seed=2)

    llama = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 17,
        "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 4,
        "max_position_embeddings": 8, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "rope_scaling": None, "hidden_act": "silu", "attention_bias": False, "mlp_bias": False,
        "tie_word_embeddings": False, "initializer_range": 0.02, "torch_dtype": "float32",
    }
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 17, (B, T), generator=g)
    targets = torch.randint(0, 17, (B, T), generator=g)
    targets[1, 0] = -100
    make("llama-tiny", LlamaForCausalLM(llama), llama, ids, targets, mask, weights, seed=4)


if __name__ == "__main__":
    main()
