"""PyTorch eager peer of cuda-training-check.mjs: the same GPT-2 (pre-LN, learned positions,
GELU-tanh, tied head, biases) trained on random tokens with AdamW, fp32 or TF32 matmuls, on the
GPU. Prints one JSON line: tokens/s and the median step time (after two warm-up steps)."""
import argparse, json, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
for name in ("vocab", "ctx", "layers", "heads", "embd", "batch", "seq", "steps"):
    p.add_argument(f"--{name}", type=int, required=True)
p.add_argument("--mode", choices=("fp32", "tf32"), default="fp32")
a = p.parse_args()
torch.backends.cuda.matmul.allow_tf32 = a.mode == "tf32"
torch.backends.cudnn.allow_tf32 = a.mode == "tf32"
dev = "cuda"
C, H = a.embd, a.heads


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.l1, s.l2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.qkv, s.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.fc, s.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, x):
        B, T, _ = x.shape
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in s.qkv(s.l1(x)).split(C, 2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + s.proj(y)
        return x + s.out(F.gelu(s.fc(s.l2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(a.vocab, C), nn.Embedding(a.ctx, C)
        s.blocks = nn.ModuleList([Block() for _ in range(a.layers)])
        s.lf = nn.LayerNorm(C)

    def forward(s, idx, tgt):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1], device=dev))
        for b in s.blocks:
            x = b(x)
        logits = s.lf(x).view(-1, C) @ s.wte.weight.t()
        return F.cross_entropy(logits, tgt.view(-1), reduction="none").view(idx.shape).mean(1).mean()


m = GPT().to(dev)
opt = torch.optim.AdamW(m.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.01)
times = []
for i in range(a.steps):
    idx = torch.randint(0, a.vocab, (a.batch, a.seq), device=dev)
    tgt = torch.randint(0, a.vocab, (a.batch, a.seq), device=dev)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss = m(idx, tgt)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    loss.item()
    torch.cuda.synchronize()
    if i >= 2:
        times.append(time.perf_counter() - t0)
med = statistics.median(times)
print(json.dumps({"system": f"pytorch {torch.__version__} eager {a.mode}", "ms": med * 1e3,
                  "tokensPerSecond": a.batch * a.seq / med, "loss": loss.item()}))
