#!/usr/bin/env python3
"""Records per-sample language-model losses, batch by batch, during a short pretraining run.

What it produces: the per-sample losses that loss-based reweighting sees at each step (mean
token cross-entropy of each sequence of the batch, computed before the update), as JSON, for
`cap-on-lm-batches.mjs`, which measures how often Eq. 4's plain softmax already respects the
2/n weight cap.

The setup imitates the paper's GPT-2 runs at a size two shared CPU cores can train: a
decoder-only transformer (byte-level, 2 layers, width 128, 4 heads, context 256) trained from
scratch with AdamW (lr 1e-3, 20 warm-up steps, cosine to 1e-4, weight decay 0.01, clip 1.0) on a
mixture of five text domains from shared/data/corpora (arXiv LaTeX, StackExchange, Common Crawl
(RedPajama and Dolma), C4, Shakespeare); each sequence of a batch comes from one domain drawn
uniformly, at a random offset, as in a packed multi-domain pretraining stream.

Run with Debian's PyTorch (not the pyenv python):
  /usr/bin/python3 bench/lm-losses/record_lm_losses.py ../../../shared/data/corpora bench/lm-losses/fixtures/lm-losses.json
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
STEPS = int(os.environ.get("LRW_LM_STEPS", "300"))
BATCH = 32
CONTEXT = 256
LAYERS, WIDTH, HEADS = 2, 128, 4


def read_jsonl_text(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line)["text"])
    return "\n\n".join(out)


def load_domains(root):
    rp = os.path.join(root, "datajuicer_redpajama")
    dolma = os.path.join(root, "dolma_cc")
    domains = {
        "arxiv": read_jsonl_text(os.path.join(rp, "arxiv.jsonl")),
        "stackexchange": read_jsonl_text(os.path.join(rp, "stack_exchange.jsonl"))
        + "\n\n"
        + read_jsonl_text(os.path.join(rp, "redpajama-pile-stackexchange-refined.jsonl")),
        "cc": read_jsonl_text(os.path.join(rp, "redpajama-cc-2023-06-refined.jsonl"))
        + "\n\n"
        + "\n\n".join(read_jsonl_text(os.path.join(dolma, f)) for f in sorted(os.listdir(dolma))),
        "c4": read_jsonl_text(os.path.join(rp, "redpajama-c4-refined.jsonl")),
        "books": open(os.path.join(root, "tinyshakespeare", "input.txt"), encoding="utf-8").read(),
    }
    return {k: torch.tensor(list(v.encode("utf-8")), dtype=torch.long) for k, v in domains.items()}


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(WIDTH)
        self.attn = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        self.ln2 = nn.LayerNorm(WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn(self.ln1(x)).split(WIDTH, dim=2)
        q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // HEADS)
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        y = att.softmax(dim=-1) @ v
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(256, WIDTH)
        self.pos = nn.Embedding(CONTEXT, WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = nn.LayerNorm(WIDTH)
        for p in self.parameters():  # GPT-2's initialisation
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.ln(x) @ self.tok.weight.T  # tied head


def main():
    root, out_path = sys.argv[1], sys.argv[2]
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    domains = load_domains(root)
    names = sorted(domains)
    gen = torch.Generator().manual_seed(SEED)
    model = Gpt()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    records = []
    started = time.time()
    for step in range(STEPS):
        lr = 1e-3 * (step + 1) / 20 if step < 20 else 1e-4 + 0.5 * (1e-3 - 1e-4) * (1 + math.cos(math.pi * (step - 20) / (STEPS - 20)))
        for g in opt.param_groups:
            g["lr"] = lr
        dom = torch.randint(len(names), (BATCH,), generator=gen).tolist()
        rows = []
        for d in dom:
            data = domains[names[d]]
            off = int(torch.randint(len(data) - CONTEXT - 1, (1,), generator=gen))
            rows.append(data[off : off + CONTEXT + 1])
        batch = torch.stack(rows)
        logits = model(batch[:, :-1])
        token_ce = F.cross_entropy(logits.reshape(-1, 256), batch[:, 1:].reshape(-1), reduction="none")
        per_sample = token_ce.view(BATCH, CONTEXT).mean(dim=1)
        records.append({"step": step, "domains": [names[d] for d in dom], "losses": [round(float(v), 4) for v in per_sample.detach()]})
        loss = per_sample.mean()  # the uniform baseline trains; the losses are what reweighting would see
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == STEPS - 1:
            print(f"step {step} mean loss {float(loss):.4f} ({time.time() - started:.0f} s)", flush=True)
    result = {
        "what": "per-sample mean token cross-entropy (nats) of each sequence of each batch, before the update",
        "source": "packages/theory/bench/lm-losses/record_lm_losses.py on shared/data/corpora (five domains)",
        "model": {"layers": LAYERS, "width": WIDTH, "heads": HEADS, "context": CONTEXT, "vocab": "bytes (256)", "parameters": sum(p.numel() for p in model.parameters())},
        "training": {"steps": STEPS, "batch": BATCH, "optimizer": "AdamW lr 1e-3 warm-up 20 cosine to 1e-4, wd 0.01, clip 1.0", "seed": SEED, "torch": torch.__version__},
        "domains": {k: int(v.numel()) for k, v in domains.items()},
        "batches": records,
    }
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out_path)
    print(f"wrote {out_path}: {len(records)} batches in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
