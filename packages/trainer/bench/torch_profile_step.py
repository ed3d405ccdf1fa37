#!/usr/bin/env python3
"""PyTorch's profile of one training step of shared/bench/torch_gpt_bench.py's GPT (same model,
same step: forward, per-sample losses, backward, clip, AdamW), beside bench/profile-step.mjs.

Imports the shared script (which re-executes this process under jemalloc when libjemalloc2 is
installed) and prints one JSON line: {"allocator", "step_ms", "step_cpu_ms", "ops": [[name,
self_ms, calls, input_shapes]]} (grouped by op and input shapes): the profiler's self time of each aten op (its thread's wall clock) in the step
of median process CPU time among --steps profiled steps.
  /usr/bin/python3 torch_profile_step.py --vocab 257 --layers 4 --heads 4 --embd 128
"""
import argparse, importlib.util, json, os, statistics, sys, time

p = argparse.ArgumentParser()
for k, v in dict(vocab=50304, layers=4, heads=4, embd=128, seq=128, batch=8, threads=1, steps=5, warmup=3).items():
    p.add_argument(f"--{k}", type=int, default=v)
a = p.parse_args()
# Debian torch's OpenBLAS ignores torch.set_num_threads: pin its threads before torch loads.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(a.threads)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "..", "shared", "bench", "torch_gpt_bench.py")
spec = importlib.util.spec_from_file_location("torch_gpt_bench", os.environ.get("LRW_TORCH_BENCH", SHARED))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)  # may re-execute this process under jemalloc
torch = bench.torch
torch.manual_seed(0)
torch.set_num_threads(a.threads)
model = bench.GPT(a.vocab, a.layers, a.heads, a.embd, a.seq)
opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)


def step():
    idx = torch.randint(0, a.vocab, (a.batch, a.seq))
    tgt = torch.randint(0, a.vocab, (a.batch, a.seq))
    losses = model.per_sample_loss(idx, tgt)
    loss = (bench.weights(losses, "uniform", 0.4) * losses).sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


for _ in range(a.warmup):
    step()
runs = []
for _ in range(a.steps):
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        ms, cpu_ms = (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3
    ops = [[e.key, e.self_cpu_time_total / 1e3, e.count, e.input_shapes]
           for e in prof.key_averages(group_by_input_shape=True)]
    runs.append((cpu_ms, ms, ops))
runs.sort(key=lambda r: r[0])
cpu_ms, ms, ops = runs[len(runs) // 2]
ops.sort(key=lambda o: -o[1])
print(json.dumps({"allocator": bench.ALLOCATOR, "step_ms": round(ms, 2), "step_cpu_ms": round(cpu_ms, 2), "ops": ops}))
