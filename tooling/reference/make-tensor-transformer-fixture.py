#!/usr/bin/env python3
"""Writes packages/tensor/test/fixtures/transformer-fixture.json: a 2-layer GPT-2-style stack and a 2-layer Llama-style stack
with fixed small weights, their inputs, outputs (logits, per-token losses, weighted loss) and the
gradients of every parameter, computed by PyTorch in float64.

Run once with Debian's python3-torch (not part of CI):
    /usr/bin/python3 packages/tensor/reference/make-transformer-fixture.py
The test test/transformer-fixture.test.ts recomputes everything with @lrw/tensor (float32) and
compares within 1e-4.

The weights are drawn in float32 (torch.manual_seed(0)) and stored, so both sides start from the
same numbers; only the arithmetic differs (float64 here, float32 there).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)

B, T, C, H, V, LAYERS = 2, 5, 8, 2, 11, 2
D = C // H


def param(*shape, std=0.2):
    return (torch.randn(*shape, dtype=torch.float32) * std).to(torch.float64)


def gpt2_params():
    p = {"wte": param(V, C, std=0.5), "wpe": param(T, C, std=0.1)}
    for l in range(LAYERS):
        p[f"h.{l}.ln_1.weight"] = 1 + param(C, std=0.1)
        p[f"h.{l}.ln_1.bias"] = param(C, std=0.1)
        p[f"h.{l}.attn.c_attn.weight"] = param(C, 3 * C)
        p[f"h.{l}.attn.c_attn.bias"] = param(3 * C, std=0.05)
        p[f"h.{l}.attn.c_proj.weight"] = param(C, C)
        p[f"h.{l}.attn.c_proj.bias"] = param(C, std=0.05)
        p[f"h.{l}.ln_2.weight"] = 1 + param(C, std=0.1)
        p[f"h.{l}.ln_2.bias"] = param(C, std=0.1)
        p[f"h.{l}.mlp.c_fc.weight"] = param(C, 4 * C)
        p[f"h.{l}.mlp.c_fc.bias"] = param(4 * C, std=0.05)
        p[f"h.{l}.mlp.c_proj.weight"] = param(4 * C, C)
        p[f"h.{l}.mlp.c_proj.bias"] = param(C, std=0.05)
    p["ln_f.weight"] = 1 + param(C, std=0.1)
    p["ln_f.bias"] = param(C, std=0.1)
    return p


def llama_params():
    p = {"embed_tokens": param(V, C, std=0.5)}
    for l in range(LAYERS):
        p[f"layers.{l}.input_layernorm.weight"] = 1 + param(C, std=0.1)
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            p[f"layers.{l}.self_attn.{n}.weight"] = param(C, C)
        p[f"layers.{l}.post_attention_layernorm.weight"] = 1 + param(C, std=0.1)
        p[f"layers.{l}.mlp.gate_proj.weight"] = param(3 * C, C)
        p[f"layers.{l}.mlp.up_proj.weight"] = param(3 * C, C)
        p[f"layers.{l}.mlp.down_proj.weight"] = param(C, 3 * C)
    p["norm.weight"] = 1 + param(C, std=0.1)
    p["lm_head.weight"] = param(V, C, std=0.5)
    return p


def attention(q, k, v):
    # (B, T, C) -> (B, H, T, D), causal softmax(q k^T / sqrt(D)) v, back to (B, T, C)
    q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))
    s = q @ k.transpose(-2, -1) / math.sqrt(D)
    s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    return (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)


def gpt2_forward(p, tokens):
    x = p["wte"][tokens] + p["wpe"][torch.arange(T)]
    for l in range(LAYERS):
        h = F.layer_norm(x, (C,), p[f"h.{l}.ln_1.weight"], p[f"h.{l}.ln_1.bias"], 1e-5)
        qkv = h @ p[f"h.{l}.attn.c_attn.weight"] + p[f"h.{l}.attn.c_attn.bias"]
        q, k, v = qkv.split(C, dim=-1)
        x = x + attention(q, k, v) @ p[f"h.{l}.attn.c_proj.weight"] + p[f"h.{l}.attn.c_proj.bias"]
        h = F.layer_norm(x, (C,), p[f"h.{l}.ln_2.weight"], p[f"h.{l}.ln_2.bias"], 1e-5)
        h = F.gelu(h @ p[f"h.{l}.mlp.c_fc.weight"] + p[f"h.{l}.mlp.c_fc.bias"], approximate="tanh")
        x = x + h @ p[f"h.{l}.mlp.c_proj.weight"] + p[f"h.{l}.mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), p["ln_f.weight"], p["ln_f.bias"], 1e-5)
    return x @ p["wte"].T  # tied head


def rms_norm(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def llama_forward(p, tokens):
    x = p["embed_tokens"][tokens]
    for l in range(LAYERS):
        a = f"layers.{l}.self_attn."
        h = rms_norm(x, p[f"layers.{l}.input_layernorm.weight"])
        q, k, v = (h @ p[a + n + ".weight"].T for n in ("q_proj", "k_proj", "v_proj"))
        x = x + attention(q, k, v) @ p[a + "o_proj.weight"].T
        h = rms_norm(x, p[f"layers.{l}.post_attention_layernorm.weight"])
        m = f"layers.{l}.mlp."
        g = F.silu(h @ p[m + "gate_proj.weight"].T) * (h @ p[m + "up_proj.weight"].T)
        x = x + g @ p[m + "down_proj.weight"].T
    return rms_norm(x, p["norm.weight"]) @ p["lm_head.weight"].T


def run(params, forward, tokens, targets, weights):
    for t in params.values():
        t.requires_grad_(True)
    logits = forward(params, tokens)  # (B, T, V)
    losses = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none", ignore_index=-100).view(B, T)
    active = (targets != -100).to(torch.float64)
    per_sample = losses.sum(1) / active.sum(1)  # mean over active tokens
    loss = (weights * per_sample).sum()  # sum_i w_i l_i
    loss.backward()
    enc = lambda t: {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}
    return {
        "params": {k: enc(v) for k, v in params.items()},
        "logits": enc(logits),
        "perTokenLoss": enc(losses),
        "perSampleLoss": enc(per_sample),
        "loss": float(loss),
        "grads": {k: enc(v.grad) for k, v in params.items()},
    }


tokens = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))
targets[0, 4] = -100
targets[1, 0] = -100
weights = torch.tensor([0.7, 0.3], dtype=torch.float64)
fixture = {
    "source": "packages/tensor/reference/make-transformer-fixture.py, torch " + torch.__version__ + ", float64",
    "config": {"B": B, "T": T, "C": C, "H": H, "V": V, "layers": LAYERS, "layerNormEps": 1e-5, "rmsNormEps": 1e-6},
    "tokens": tokens.tolist(),
    "targets": targets.tolist(),
    "sampleWeights": weights.tolist(),
    "gpt2": run(gpt2_params(), gpt2_forward, tokens, targets, weights),
    "llama": run(llama_params(), llama_forward, tokens, targets, weights),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "tensor", "test", "fixtures", "transformer-fixture.json")
with open(out + ".tmp", "w") as f:
    json.dump(fixture, f)
os.replace(out + ".tmp", out)
print("wrote", out, "gpt2 loss", fixture["gpt2"]["loss"], "llama loss", fixture["llama"]["loss"])
