#!/usr/bin/python3
"""peer_torch.py: the project's PyTorch peers of the default experiment and of the MLP.

Three models (--model), each the same model and training step as grok's,
written independently of grok's C code.

transformer (the default): experiments/nanda2023_mod_add.cfg, Nanda et al.'s
(2023) one-layer transformer
(p = 113, inputs [a, b, '=' = p], d_model 128, 4 heads of 32, d_mlp 512,
ReLU, no LayerNorm, causal attention scaled by 1/sqrt(d_head), logits at the
last position, TransformerLens parameter names and layouts), the float64
softmax cross-entropy of the float32 logits, full batch, AdamW (lr 1e-3,
weight decay 1, betas 0.9/0.98, eps 1e-8) with a linear warmup over 10 steps
(LambdaLR: lr * min(step / 10, 1), the first step at 0).

mlp: the MLP of Prieto et al. (2025) as `grok bench`'s mlp row sets it
(model.family = "mlp", model.combine = "onehot"): a + b mod 113 with 40% of
the pairs, the one-hot pair [onehot(a), onehot(b)] (226 wide) as the input,
two hidden layers of 200 ReLUs, 113 logits, written as their code does (the
one-hot float inputs built once, multiplied by the first weight matrix);
grok's parameter names and [in, out] layouts (mlp.0.W [226, 200], mlp.0.b,
mlp.1.W, mlp.1.b, unembed.W_U [200, 113], unembed.b_U); the float32 softmax
cross-entropy; full batch; Adam (lr 0.01, betas 0.9/0.99, eps 1e-8, no
weight decay, no warmup).

stablemax: Prieto et al.'s (2025) StableMax run as
experiments/prieto2025_stablemax.cfg sets it: the same one-hot MLP without
biases (mlp.0.W, mlp.1.W, unembed.W_U), their StableMax cross-entropy in
float64 of the float32 logits (s(x) = x + 1 for x >= 0, 1 / (1 - x + 1e-30)
below), AdamW (lr 0.01, betas 0.9/0.999, eps 1e-25, no weight decay).
Torch keeps IEEE subnormals on the CPU, as their run on its GPU did.

Two uses:
  peer_torch.py [--model M] --run DIR --steps N [--eval-every K]
      loads DIR/checkpoints/epoch-000000.safetensors (grok's initial weights)
      and DIR/split.tsv (its training set), trains N full-batch steps and
      prints "step<TAB>train_loss" for steps 0..N-1 (the loss before each
      update, as grok's metrics.tsv with train.eval_every = 1); with
      --eval-every K it prints "step<TAB>train_loss<TAB>train_acc<TAB>test_acc"
      every K steps instead (accuracies before the update, on split.tsv's
      training and test rows), for a long run to set beside grok's;
  peer_torch.py --model stablemax --seed S --out DIR --steps N --eval-every K
      the same long run from torch's own draw, made as Prieto et al.'s script
      makes it: torch.manual_seed(S), then a random_split of the 113^2 pairs
      (a-major) into the first 40% of torch.randperm as training rows, then
      three bias-free nn.Linear layers with PyTorch's initialisation, in
      order; DIR/split.tsv records the split (grok's format, the training
      rows first, each side in ascending order) and DIR/epoch-0.safetensors the
      initial weights under grok's names, so that grok can start from the
      same draw: grok import DIR/epoch-0.safetensors --split DIR/split.tsv
      --config experiments/prieto2025_stablemax.cfg --out RUN, then grok
      train experiments/prieto2025_stablemax.cfg --init-from RUN@0 --set
      init.split=true.  (Their script also shuffles the full batch each
      epoch, which changes only the order of the sums.)
  peer_torch.py [--model M] --bench --steps N [--threads T]
      times N steps on a fresh random model and split (after 3 warm-up
      steps) and prints "peer_ms_per_step<TAB>X" (the median) and
      "peer_best_ms<TAB>Y" (the fastest step).
--threads T sets both torch's threads and BLIS's (BLIS_NUM_THREADS, read
when BLIS starts: without it the BLIS under torch runs one thread); the BLIS
kernels are those of BLIS_ARCH_TYPE, which `grok bench --peer` passes on.
Needs Debian's python3-torch and python3-numpy; exits 77 without them.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

if __name__ == "__main__":  # before torch loads BLIS
    for i, a in enumerate(sys.argv):
        t = a.split("=", 1)[1] if a.startswith("--threads=") else (
            sys.argv[i + 1] if a == "--threads" and i + 1 < len(sys.argv) else None)
        if t and t.isdigit() and int(t) > 0:
            os.environ["BLIS_NUM_THREADS"] = t

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


def step(model, w, opt, sched, inputs, labels):
    fwd, lossf, _ = MODELS[model]
    loss = lossf(fwd(w, inputs), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if sched:
        sched.step()
    return loss.item()


MLP_P, MLP_H, MLP_FRAC = 113, 200, 0.4


def mlp_init_params(gen):
    """N(0, 1/fan_in) weights, zero biases, as grok draws them (other numbers)."""
    def g(*shape):
        return torch.randn(*shape, generator=gen) / math.sqrt(shape[0])
    return {
        "mlp.0.W": g(2 * MLP_P, MLP_H), "mlp.0.b": torch.zeros(MLP_H),
        "mlp.1.W": g(MLP_H, MLP_H), "mlp.1.b": torch.zeros(MLP_H),
        "unembed.W_U": g(MLP_H, MLP_P), "unembed.b_U": torch.zeros(MLP_P),
    }


def mlp_inputs(a, b):
    """The one-hot pairs [n, 2P] (float32) of operands a, b."""
    x = torch.zeros(len(a), 2 * MLP_P)
    rows = torch.arange(len(a))
    x[rows, a] = 1.0
    x[rows, MLP_P + b] = 1.0
    return x


def mlp_forward(w, x):
    """Logits [n, P] of one-hot pairs x [n, 2P]."""
    h = torch.relu(x @ w["mlp.0.W"] + w["mlp.0.b"])
    h = torch.relu(h @ w["mlp.1.W"] + w["mlp.1.b"])
    return h @ w["unembed.W_U"] + w["unembed.b_U"]


def mlp_loss_fn(logits, labels):
    """Mean float32 softmax cross-entropy (Prieto et al.'s loss)."""
    return torch.nn.functional.cross_entropy(logits, labels)


def mlp_make_optimizer(params):
    return torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.99), eps=1e-8), None


def sm_forward(w, x):
    """Logits [n, P] of the bias-free MLP."""
    h = torch.relu(x @ w["mlp.0.W"])
    h = torch.relu(h @ w["mlp.1.W"])
    return h @ w["unembed.W_U"]


def sm_loss_fn(logits, labels):
    """Mean StableMax cross-entropy, in float64, of float32 logits."""
    x = logits.to(torch.float64)
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    lp = torch.log(s / s.sum(dim=-1, keepdim=True))
    return -lp.gather(-1, labels[:, None]).mean()


def sm_make_optimizer(params):
    return torch.optim.AdamW(params, lr=0.01, betas=(0.9, 0.999), eps=1e-25,
                             weight_decay=0.0), None


MODELS = {
    "transformer": (forward, loss_fn, make_optimizer),
    "mlp": (mlp_forward, mlp_loss_fn, mlp_make_optimizer),
    "stablemax": (sm_forward, sm_loss_fn, sm_make_optimizer),
}


def train_rows(path, mlp=False, which="train"):
    """tokens [n, 3] (the mlp: the one-hot pairs [n, 2P]) and labels [n] of the
    training rows (which = "test": the test rows) of split.tsv, in file order."""
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        ia, ib, il, isp = (head.index(c) for c in ("a", "b", "label", "split"))
        for line in f:
            c = line.rstrip("\n").split("\t")
            if c[isp] == which:
                rows.append((int(c[ia]), int(c[ib]), int(c[il])))
    a = torch.tensor(rows, dtype=torch.long)
    if mlp:
        return mlp_inputs(a[:, 0], a[:, 1]), a[:, 2]
    tokens = torch.stack([a[:, 0], a[:, 1], torch.full_like(a[:, 0], P)], dim=1)
    return tokens, a[:, 2]


def torch_draw(seed, out):
    """Split (written to out/split.tsv) and bias-free MLP weights drawn with
    torch's generator in the order of Prieto et al.'s script."""
    torch.manual_seed(seed)
    n = MLP_P * MLP_P
    perm = torch.randperm(n).tolist()
    train = set(perm[: int(MLP_FRAC * n)])
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/split.tsv", "w") as f:  # grok's format: training rows first
        f.write("index\ta\tb\tlabel\tsplit\n")
        for side in ("train", "test"):
            for i in range(n):
                if (i in train) == (side == "train"):
                    a, b = divmod(i, MLP_P)
                    f.write(f"{i}\t{a}\t{b}\t{(a + b) % MLP_P}\t{side}\n")
    sizes = [2 * MLP_P, MLP_H, MLP_H, MLP_P]
    layers = [torch.nn.Linear(sizes[i], sizes[i + 1], bias=False) for i in range(3)]
    names = ("mlp.0.W", "mlp.1.W", "unembed.W_U")
    w = {k: l.weight.detach().t().contiguous() for k, l in zip(names, layers)}
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from to_grok import tensor_bytes, write_safetensors
    write_safetensors(f"{out}/epoch-0.safetensors",
                      {k: tensor_bytes(v, False) for k, v in w.items()}, {"epoch": "0"})
    return w


def long_run(args, w, opt, sched, tokens, labels):
    """Trains args.steps steps, printing loss and accuracies every eval_every."""
    test_x, test_y = train_rows(f"{args.run}/split.tsv", True, "test")
    fwd = MODELS[args.model][0]
    print("step\ttrain_loss\ttrain_acc\ttest_acc", flush=True)
    for s in range(args.steps + 1):
        if s % args.eval_every == 0 or s == args.steps:
            with torch.no_grad():
                tr = (fwd(w, tokens).argmax(-1) == labels).double().mean().item()
                te = (fwd(w, test_x).argmax(-1) == test_y).double().mean().item()
        if s == args.steps:
            print(f"{s}\t\t{tr:.6f}\t{te:.6f}", flush=True)
            break
        loss = step(args.model, w, opt, sched, tokens, labels)
        if s % args.eval_every == 0:
            print(f"{s}\t{loss:.6g}\t{tr:.6f}\t{te:.6f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="transformer")
    ap.add_argument("--run", help="grok run directory: initial weights and split")
    ap.add_argument("--bench", action="store_true", help="time steps on a fresh model")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=-1,
                    help="stablemax: draw split and weights with torch (see above)")
    ap.add_argument("--out", help="with --seed: where split.tsv is written")
    ap.add_argument("--eval-every", type=int, default=0,
                    help="with --run: print accuracies every K steps")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch and BLIS threads (0: their defaults)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    mlp = args.model in ("mlp", "stablemax")
    if args.seed >= 0:
        if args.model != "stablemax" or not args.out or args.eval_every <= 0:
            ap.error("--seed needs --model stablemax, --out DIR and --eval-every K")
        args.run = args.out
        w = torch_draw(args.seed, args.out)
        tokens, labels = train_rows(f"{args.run}/split.tsv", True)
    elif args.run:
        w = read_safetensors(f"{args.run}/checkpoints/epoch-000000.safetensors")
        if args.model == "stablemax":
            w = {k: w[k] for k in ("mlp.0.W", "mlp.1.W", "unembed.W_U")}
        tokens, labels = train_rows(f"{args.run}/split.tsv", mlp)
    elif args.bench and mlp:
        gen = torch.Generator().manual_seed(0)
        w = mlp_init_params(gen)
        perm = torch.randperm(MLP_P * MLP_P, generator=gen)[: int(MLP_FRAC * MLP_P * MLP_P)]
        a, b = perm // MLP_P, perm % MLP_P
        tokens, labels = mlp_inputs(a, b), (a + b) % MLP_P
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
    opt, sched = MODELS[args.model][2](params)
    if args.run and args.eval_every > 0:
        long_run(args, w, opt, sched, tokens, labels)
        return
    if args.run:
        for s in range(args.steps):
            print(f"{s}\t{step(args.model, w, opt, sched, tokens, labels):.17g}")
        return
    for _ in range(3):
        step(args.model, w, opt, sched, tokens, labels)
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step(args.model, w, opt, sched, tokens, labels)
        times.append(time.perf_counter() - t0)
    print(f"peer_ms_per_step\t{1e3 * statistics.median(times):.3f}")
    print(f"peer_best_ms\t{1e3 * min(times):.3f}")


if __name__ == "__main__":
    main()
