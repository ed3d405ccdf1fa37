#!/usr/bin/env python3
"""PyTorch DistributedDataParallel (gloo) peer of bench/mpi-scaling.mjs.

Trains shared/bench/torch_gpt_bench.py's GPT (imported, not copied; it re-executes this process
under jemalloc when libjemalloc2 is installed) with the same step as lrw's data-parallel trainer:
per-sample losses, all-gather of the detached losses, linupper weights over the global batch,
backward of sum_i c_i l_i on this rank's slice (DDP all-reduces the gradients), clip, AdamW.
--world 1 runs one plain process (no process group), as lrw's 1-process run has no MPI;
--world 2 starts 2 ranks on localhost (MASTER_ADDR=127.0.0.1, a free port, env:// init, no
torchrun), each with --batch samples and 1 thread. Prints one JSON line from rank 0:
{"tokensPerSecond": global tokens / median step time, ...}, or {"skipped": reason} (exit 0)
when torch, torch.distributed's gloo backend or the shared model script is missing.
--verify checks the peer's update numerically instead of timing it: one DDP step on --world
ranks x --batch against one plain step on the world x batch rows (see verify()), printing the
largest gradient and parameter differences.
  /usr/bin/python3 torch_ddp_bench.py --world 2 --batch 4 --vocab 257 --layers 4 --heads 4 \
      --embd 128 --context 256 --seq 64 --steps 8 --warmup 2
"""
import argparse, importlib.util, json, os, socket, statistics, subprocess, sys, time

p = argparse.ArgumentParser()
for k, v in dict(world=1, batch=8, vocab=257, layers=4, heads=4, embd=128, context=256, seq=64,
                 steps=8, warmup=2, threads=1, seed=0).items():
    p.add_argument(f"--{k}", type=int, default=v)
p.add_argument("--r", type=float, default=0.4)
p.add_argument("--rank", type=int, default=-1, help="internal: set by the launcher")
p.add_argument("--verify", action="store_true",
               help="one DDP step on --world ranks x --batch against one plain step on the whole batch")
a = p.parse_args()


def skip(reason):
    print(json.dumps({"skipped": reason}))
    sys.exit(0)


# Debian torch's OpenBLAS ignores torch.set_num_threads: pin its threads before torch loads.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(a.threads)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("LRW_TORCH_BENCH",
                        os.path.join(HERE, "..", "..", "..", "..", "shared", "bench", "torch_gpt_bench.py"))
if not os.path.exists(SHARED):
    skip(f"the PyTorch model script {os.path.normpath(SHARED)} is absent (set LRW_TORCH_BENCH to its path)")
if importlib.util.find_spec("torch") is None:  # a probe that does not load torch before the re-exec
    skip(f"{sys.executable} has no torch module; on Debian: apt-get install python3-torch libjemalloc2")
spec = importlib.util.spec_from_file_location("torch_gpt_bench", SHARED)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)  # may re-execute this process under jemalloc
torch = bench.torch
import torch.distributed as dist  # noqa: E402

if a.world > 1 and (not dist.is_available() or not dist.is_gloo_available()):
    skip("this torch build has no torch.distributed gloo backend")


def launch():
    """Starts --world ranks of this script on localhost; returns rank 0's JSON line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(a.world))
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--rank", str(r)],
                              env=dict(env, RANK=str(r)), stdout=subprocess.PIPE if r == 0 else subprocess.DEVNULL)
             for r in range(a.world)]
    out = procs[0].communicate()[0].decode()
    codes = [q.wait() for q in procs]
    if any(codes):
        sys.exit(f"torch_ddp_bench: a rank failed (exit codes {codes})")
    sys.stdout.write(out)


def verify(rank, world):
    """--verify: the peer's update checked numerically. The global batch of world x batch rows is
    drawn once (the same on every rank); rank r trains on rows r*batch..(r+1)*batch with DDP (loss
    scaled by world: DDP averages the gradients, lrw sums them), and rank 0 then takes one plain
    single-process step on the whole batch from the same initial parameters. AdamW's update is
    nearly blind to the gradients' scale (m / sqrt(v) = sign(g) at the first step), so the
    gradients themselves are compared too, before clipping; then the parameters after the step."""
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed + 1)
    idx = torch.randint(0, a.vocab, (world * a.batch, a.seq), generator=gen)
    tgt = torch.randint(0, a.vocab, (world * a.batch, a.seq), generator=gen)

    def step(model, net, rows, parts_of, scale):
        opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
        losses = net(idx[rows], tgt[rows])
        w = bench.weights(parts_of(losses.detach()), "linupper", a.r)[rows]
        loss = scale * (w * losses).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grads = [q.grad.detach().clone() for q in model.parameters()]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return grads

    model = bench.GPT(a.vocab, a.layers, a.heads, a.embd, a.context)
    reference = bench.GPT(a.vocab, a.layers, a.heads, a.embd, a.context)
    reference.load_state_dict(model.state_dict())
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)
    torch.nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
        model, [n for n, _ in model.named_buffers() if n.endswith("mask")])
    net = torch.nn.parallel.DistributedDataParallel(model, broadcast_buffers=False)

    def gathered(losses):
        parts = [torch.empty_like(losses) for _ in range(world)]
        dist.all_gather(parts, losses)
        return torch.cat(parts)

    mine = slice(rank * a.batch, (rank + 1) * a.batch)
    ddp_grads = step(model, net, mine, gathered, world)  # DDP averages: scaled to a sum
    dist.destroy_process_group()
    if rank != 0:
        return
    everything = slice(0, world * a.batch)
    # per_sample_loss directly: the plain model is not wrapped
    plain_grads = step(reference, reference.per_sample_loss, everything, lambda l: l, 1)
    grad_diff = max((g - h).abs().max().item() for g, h in zip(ddp_grads, plain_grads))
    grad_max = max(h.abs().max().item() for h in plain_grads)
    param_diff = max((p - q).abs().max().item()
                     for p, q in zip(model.parameters(), reference.parameters()))
    print(json.dumps({"system": f"pytorch-{torch.__version__}-cpu-ddp-gloo", "world": world,
                      "batchPerRank": a.batch, "params": sum(q.numel() for q in model.parameters()),
                      "maxAbsGradDiff": grad_diff, "maxAbsGrad": grad_max,
                      "maxAbsParamDiffAfterStep": param_diff}))


def train(rank, world):
    torch.manual_seed(a.seed)  # the same initial parameters on every rank (DDP also broadcasts them)
    torch.set_num_threads(a.threads)
    model = bench.GPT(a.vocab, a.layers, a.heads, a.embd, a.context)
    net = model
    if world > 1:
        dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)
        # the causal masks are constant bool buffers, which gloo cannot broadcast: DDP leaves them alone
        torch.nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            model, [n for n, _ in model.named_buffers() if n.endswith("mask")])
        net = torch.nn.parallel.DistributedDataParallel(model, broadcast_buffers=False)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    gen = torch.Generator().manual_seed(a.seed + 1 + rank)
    times = []
    for step in range(a.warmup + a.steps):
        idx = torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen)
        tgt = torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen)
        t0 = time.perf_counter()
        # DDP hooks forward(), so the per-sample loss goes through it as DDP's forward
        losses = net(idx, tgt) if world > 1 else model.per_sample_loss(idx, tgt)
        if world > 1:
            parts = [torch.empty_like(losses) for _ in range(world)]
            dist.all_gather(parts, losses.detach())
            w = bench.weights(torch.cat(parts), "linupper", a.r)[rank * a.batch:(rank + 1) * a.batch]
            loss = world * (w * losses).sum()  # DDP averages over ranks; lrw sums
        else:
            loss = (bench.weights(losses, "linupper", a.r) * losses).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    if world > 1:
        dist.destroy_process_group()
    if rank == 0:
        med = statistics.median(times)
        print(json.dumps({"system": f"pytorch-{torch.__version__}-cpu-ddp-gloo" if world > 1 else f"pytorch-{torch.__version__}-cpu",
                          "allocator": bench.ALLOCATOR, "world": world, "batchPerRank": a.batch, "seq": a.seq,
                          "params": sum(q.numel() for q in model.parameters()),
                          "medianStepMs": round(med * 1e3, 2),
                          "tokensPerSecond": round(world * a.batch * a.seq / med, 1)}))


# The model's forward for DDP: per-sample losses.
bench.GPT.forward = bench.GPT.per_sample_loss

if __name__ == "__main__":
    if a.verify and a.world < 2:
        sys.exit("torch_ddp_bench: --verify needs --world 2 or more")
    if a.world > 1 and a.rank < 0:
        launch()
    elif a.verify:
        verify(a.rank, a.world)
    else:
        train(max(a.rank, 0), a.world)
