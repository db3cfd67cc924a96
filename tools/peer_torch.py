#!/usr/bin/python3
"""peer_torch.py: the project's PyTorch peer of the default experiment.

The same model and training step as experiments/nanda2023_mod_add.cfg, written
independently of grok's C code: Nanda et al.'s (2023) one-layer transformer
(p = 113, inputs [a, b, '=' = p], d_model 128, 4 heads of 32, d_mlp 512,
ReLU, no LayerNorm, causal attention scaled by 1/sqrt(d_head), logits at the
last position, TransformerLens parameter names and layouts), the float64
softmax cross-entropy of the float32 logits, full batch, AdamW (lr 1e-3,
weight decay 1, betas 0.9/0.98, eps 1e-8) with a linear warmup over 10 steps
(LambdaLR: lr * min(step / 10, 1), the first step at 0).

Two uses:
  peer_torch.py --run DIR --steps N
      loads DIR/checkpoints/epoch-000000.safetensors (grok's initial weights)
      and DIR/split.tsv (its training set), trains N full-batch steps and
      prints "step<TAB>train_loss" for steps 0..N-1 (the loss before each
      update, as grok's metrics.tsv with train.eval_every = 1);
  peer_torch.py --bench --steps N [--threads T]
      times N steps on a fresh random model and split (after 3 warm-up
      steps) and prints "peer_ms_per_step<TAB>X" (the median).
Needs Debian's python3-torch and python3-numpy; exits 77 without them.
"""
import argparse
import json
import math
import statistics
import struct
import sys
import time

try:
    import numpy as np
    import torch
except ImportError:  # the caller skips
    print("peer_torch.py: python3-torch or python3-numpy is missing", file=sys.stderr)
    sys.exit(77)

P, D, H, DH, M, T = 113, 128, 4, 32, 512, 3


def read_safetensors(path):
    """{name: float32 tensor} of a safetensors file (F32 tensors only)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name}: dtype {info['dtype']}, expected F32")
        a, b = info["data_offsets"]
        arr = np.frombuffer(blob[base + a:base + b], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def init_params(gen):
    """N(0, 1/D) weights (W_U: N(0, 1/V)), zero biases, as grok draws them (other numbers)."""
    def g(*shape, sd):
        return torch.randn(*shape, generator=gen) * sd
    sd = 1 / math.sqrt(D)
    return {
        "embed.W_E": g(P + 1, D, sd=sd), "pos_embed.W_pos": g(T, D, sd=sd),
        "blocks.0.attn.W_Q": g(H, D, DH, sd=sd), "blocks.0.attn.W_K": g(H, D, DH, sd=sd),
        "blocks.0.attn.W_V": g(H, D, DH, sd=sd), "blocks.0.attn.W_O": g(H, DH, D, sd=sd),
        "blocks.0.mlp.W_in": g(D, M, sd=sd), "blocks.0.mlp.b_in": torch.zeros(M),
        "blocks.0.mlp.W_out": g(M, D, sd=sd), "blocks.0.mlp.b_out": torch.zeros(D),
        "unembed.W_U": g(D, P, sd=1 / math.sqrt(P + 1)),
    }


def forward(w, tokens):
    """Logits [n, P] at the last position of tokens [n, T]."""
    x = w["embed.W_E"][tokens] + w["pos_embed.W_pos"]                   # [n, T, D]
    q = torch.einsum("ntd,hde->nhte", x, w["blocks.0.attn.W_Q"])
    k = torch.einsum("ntd,hde->nhte", x, w["blocks.0.attn.W_K"])
    v = torch.einsum("ntd,hde->nhte", x, w["blocks.0.attn.W_V"])
    s = torch.einsum("nhqe,nhke->nhqk", q, k) / math.sqrt(DH)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    att = s.masked_fill(mask, float("-inf")).softmax(dim=-1)
    z = torch.einsum("nhqk,nhke->nhqe", att, v)
    x = x + torch.einsum("nhqe,hed->nqd", z, w["blocks.0.attn.W_O"])
    h = torch.relu(x @ w["blocks.0.mlp.W_in"] + w["blocks.0.mlp.b_in"])
    x = x + h @ w["blocks.0.mlp.W_out"] + w["blocks.0.mlp.b_out"]
    return x[:, -1] @ w["unembed.W_U"]


def loss_fn(logits, labels):
    """Mean float64 softmax cross-entropy of float32 logits (Nanda et al.)."""
    lp = logits.to(torch.float64).log_softmax(dim=-1)
    return -lp.gather(-1, labels[:, None]).mean()


def make_optimizer(params):
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(s / 10, 1))
    return opt, sched


def step(w, params, opt, sched, tokens, labels):
    loss = loss_fn(forward(w, tokens), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    return loss.item()


def train_rows(path):
    """tokens [n, 3] and labels [n] of the training rows of split.tsv, in file order."""
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        ia, ib, il, isp = (head.index(c) for c in ("a", "b", "label", "split"))
        for line in f:
            c = line.rstrip("\n").split("\t")
            if c[isp] == "train":
                rows.append((int(c[ia]), int(c[ib]), int(c[il])))
    a = torch.tensor(rows, dtype=torch.long)
    tokens = torch.stack([a[:, 0], a[:, 1], torch.full_like(a[:, 0], P)], dim=1)
    return tokens, a[:, 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", help="grok run directory: initial weights and split")
    ap.add_argument("--bench", action="store_true", help="time steps on a fresh model")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.run:
        w = read_safetensors(f"{args.run}/checkpoints/epoch-000000.safetensors")
        tokens, labels = train_rows(f"{args.run}/split.tsv")
    elif args.bench:
        gen = torch.Generator().manual_seed(0)
        w = init_params(gen)
        perm = torch.randperm(P * P, generator=gen)[: int(0.3 * P * P)]
        a, b = perm // P, perm % P
        tokens = torch.stack([a, b, torch.full_like(a, P)], dim=1)
        labels = (a + b) % P
    else:
        ap.error("give --run DIR or --bench")
    params = [t.requires_grad_() for t in w.values()]
    opt, sched = make_optimizer(params)
    if args.run:
        for s in range(args.steps):
            print(f"{s}\t{step(w, params, opt, sched, tokens, labels):.17g}")
        return
    for _ in range(3):
        step(w, params, opt, sched, tokens, labels)
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step(w, params, opt, sched, tokens, labels)
        times.append(time.perf_counter() - t0)
    print(f"peer_ms_per_step\t{1e3 * statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
