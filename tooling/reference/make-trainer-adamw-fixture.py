"""Expected AdamW updates and gradient clipping from PyTorch, for src/adamw.test.ts.

Run from packages/trainer with Debian's python3-torch:
    /usr/bin/python3 tooling/reference/make-trainer-adamw-fixture.py > packages/trainer/test/fixtures/adamw-torch.json

Three parameters (a matrix that gets weight decay, a bias and an embedding that do not, as the
trainer's decayOnlyMatrices grouping does), four steps with fixed gradients and a changing
learning rate, torch.nn.utils.clip_grad_norm_(max_norm=1.0) before each step, and
torch.optim.AdamW(betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1) in float32.
"""
import json

import torch

torch.manual_seed(0)
shapes = {"w": (3, 4), "b": (4,), "emb": (5, 2)}
params = {k: torch.randn(*s, dtype=torch.float32).requires_grad_() for k, s in shapes.items()}
initial = {k: p.detach().clone().flatten().tolist() for k, p in params.items()}
opt = torch.optim.AdamW(
    [
        {"params": [params["w"]], "weight_decay": 0.1},
        {"params": [params["b"], params["emb"]], "weight_decay": 0.0},
    ],
    lr=1e-3,
    betas=(0.9, 0.95),
    eps=1e-8,
)
lrs = [1e-2, 5e-3, 2e-2, 1e-3]
grad_scale = [0.1, 2.0, 0.5, 3.0]  # some steps clip (norm > 1), some do not
steps = []
for t, (lr, scale) in enumerate(zip(lrs, grad_scale)):
    grads = {k: (torch.randn(*s, dtype=torch.float32) * scale) for k, s in shapes.items()}
    for k, p in params.items():
        p.grad = grads[k].clone()
    norm = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=1.0)
    for g in opt.param_groups:
        g["lr"] = lr
    opt.step()
    steps.append(
        {
            "lr": lr,
            "grads": {k: g.flatten().tolist() for k, g in grads.items()},
            "norm": float(norm),
            "params": {k: p.detach().flatten().tolist() for k, p in params.items()},
        }
    )
print(
    json.dumps(
        {
            "source": f"torch {torch.__version__}, reference/make-adamw-fixture.py",
            "shapes": {k: list(s) for k, s in shapes.items()},
            "weightDecay": 0.1,
            "beta1": 0.9,
            "beta2": 0.95,
            "eps": 1e-8,
            "maxNorm": 1.0,
            "initial": initial,
            "steps": steps,
        }
    )
)
