#!/usr/bin/env python3
"""PyTorch peer of bench/transformer-block.mjs: one GPT-2 block forward + backward.

Reads one JSON request per line on stdin ({"B","T","C","H","threads","reps"}) and answers one
JSON line {"ms": median wall ms per step, "cpuMs": median process CPU ms per step}. Persistent, so the Node side can alternate with it
round by round on a shared machine. The block mirrors the Node one (and shared/bench's GPT):
LayerNorm, fused qkv with bias, causal softmax attention, projection, LayerNorm, MLP with
GELU-tanh; loss = mean(y^2); fp32.

Allocator: as ../../../../shared/bench/torch_gpt_bench.py, the script re-executes itself once
under jemalloc with memory retained when Debian's libjemalloc2 is installed (PyTorch CPU users
preload jemalloc or tcmalloc: with glibc malloc its per-step buffers are mapped afresh every
step, and a fresh page costs a slow fault on these VMs), and names the allocator in each answer.
LRW_BENCH_ALLOCATOR=system keeps glibc malloc.
"""
import json, math, os, statistics, sys, time

JEMALLOC_PATHS = ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2")
JEMALLOC_CONF = "retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1"


def allocator():
    """Re-execute once under jemalloc (memory retained) unless told not to; return its name."""
    if os.environ.get("LRW_BENCH_ALLOCATOR", "jemalloc") == "system":
        return "system"
    if "jemalloc" in os.environ.get("LD_PRELOAD", ""):
        return "jemalloc-retain" if os.environ.get("MALLOC_CONF") == JEMALLOC_CONF else "jemalloc"
    lib = next((p for p in JEMALLOC_PATHS if os.path.exists(p)), None)
    if lib is None:
        print("torch_block.py: libjemalloc2 not installed; PyTorch runs on glibc malloc and may be "
              "slower than it really is (apt-get install libjemalloc2)", file=sys.stderr)
        return "system"
    preload = ":".join(filter(None, (lib, os.environ.get("LD_PRELOAD"))))
    env = dict(os.environ, LD_PRELOAD=preload, MALLOC_CONF=JEMALLOC_CONF)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


ALLOCATOR = allocator()

import torch  # noqa: E402  (after the re-exec, so the allocator is in place before torch loads)
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H, T):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        self.H = H
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T))

    def attn(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        a = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.H)
        a = F.softmax(a.masked_fill(~self.mask[:, :, :T, :T], float("-inf")), dim=-1)
        return self.c_proj((a @ v).transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


cache = {}
for line in sys.stdin:
    req = json.loads(line)
    torch.set_num_threads(req["threads"])
    key = (req["B"], req["T"], req["C"], req["H"])
    if key not in cache:
        torch.manual_seed(0)
        blk = Block(req["C"], req["H"], req["T"])
        cache[key] = (blk, torch.randn(req["B"], req["T"], req["C"]))
    blk, x = cache[key]

    def step():
        y = blk(x)
        (y * y).mean().backward()
        blk.zero_grad(set_to_none=True)

    step()
    ts, cs = [], []
    for _ in range(req["reps"]):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        ts.append((time.perf_counter() - t0) * 1000)
        cs.append((time.process_time() - c0) * 1000)
    print(json.dumps({"ms": statistics.median(ts), "cpuMs": statistics.median(cs), "torch": torch.__version__, "allocator": ALLOCATOR}), flush=True)
