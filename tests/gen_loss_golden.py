#!/usr/bin/python3
"""gen_loss_golden.py: writes tests/golden/loss_golden.safetensors, the PyTorch
reference that tests/test_loss.c compares model/loss.c against.  The C test
never needs PyTorch; run this script only to regenerate the committed fixture:

    /usr/bin/python3 tests/gen_loss_golden.py [OUTDIR]     (default: tests/golden)

Rows of float32 logits (N x K, drawn from a seeded torch.Generator): ordinary
Gaussian rows, rows confident in the label (float32 collapses to 0, float64
not), large confidently wrong rows, rows with tied maxima (the label first or second of the
tie), a constant row, rows of mixed signs for StableMax's two branches.  For
each kind, the per-row losses, the batch mean and the gradient of the mean
with respect to the logits (torch.autograd):
  softmax_ce      F.cross_entropy of the logits in float64
  softmax_ce_f32  F.cross_entropy of the float32 logits, in float32
  stablemax_ce    Prieto et al. (2025), "Grokking at the edge of numerical
                  stability", as their code writes it: s(x) = x + 1 for
                  x >= 0, 1 / (1 - x + 1e-30) for x < 0, in float64,
                  log(s / sum s), minus the label's entry
  mse             F.mse_loss(logits, one_hot) in float64 (per row: the mean
                  over classes of reduction='none')
Tensors (float64 first, so that they lie 8-aligned in the data section):
  <kind>.loss F64 [N] (F32 for softmax_ce_f32), <kind>.mean F64 [],
  <kind>.grad F64 [N, K] (F32 for softmax_ce_f32), logits F32 [N, K],
  labels I32 [N], argmax I32 [N] (torch.argmax: the first of tied maxima).
Metadata: n, k, seed, torch (version), generator.

Before writing, the script checks itself: per-row means against the batch
mean, autograd against the closed-form gradients, the StableMax identity
softmax(sign(x) log1p|x|), and that the float32 loss is exactly 0 on a
confident row where the float64 one is not.  The safetensors writer and
reader are tests/gen_golden.py's."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from gen_golden import st_parse, st_serialize, write_atomic

GENERATOR = "tests/gen_loss_golden.py"
N, K, SEED = 24, 7, 4242


def make_rows(g):
    x = torch.randn(N, K, generator=g, dtype=torch.float64)
    y = torch.randint(0, K, (N,), generator=g)
    # rows 0-7 ordinary (scale 2); 8-11 confident in the label (margins
    # about 20 to 35: float32 collapses, float64 not);
    # 12-13 large and confidently wrong; 14-17 tied maxima; 18 constant;
    # 19-23 mixed signs of varied size (StableMax's branches)
    x[:8] *= 2
    for i in range(8, 12):
        x[i, y[i]] = 24 + (i - 8) * 4
    for i in range(12, 14):
        x[i] = 30 * x[i].abs().neg()
        x[i, (y[i] + 1) % K] = 25
    for i in range(14, 18):
        a, b = int(y[i]), int((y[i] + 2) % K)
        lo, hi = min(a, b), max(a, b)
        x[i].clamp_(max=1.0)
        x[i, lo] = x[i, hi] = 2.5
        y[i] = hi if i % 2 else lo  # odd rows: the label second of the tie, missed
    x[18] = 0.75
    x[19:] = x[19:] * torch.tensor([0.1, 1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)[:, None]
    return x.float(), y


def stablemax_s(x, epsilon=1e-30):
    return torch.where(x < 0, 1 / (1 - x + epsilon), x + 1)


def stablemax_ce_rows(logits):
    """-log StableMax(x)_y per row, as Prieto et al.'s stablemax_cross_entropy."""
    s = stablemax_s(logits.to(torch.float64))
    return torch.log(s / torch.sum(s, dim=-1, keepdim=True))


def with_grad(fn, x):
    x = x.clone().requires_grad_(True)
    rows = fn(x)
    mean = rows.mean()
    (grad,) = torch.autograd.grad(mean, x)
    return rows.detach(), mean.detach(), grad.detach()


def references(x32, y):
    x64 = x32.double()
    onehot = F.one_hot(y, K).double()
    out = {}
    out["softmax_ce"] = with_grad(lambda x: F.cross_entropy(x, y, reduction="none"), x64)
    out["softmax_ce_f32"] = with_grad(lambda x: F.cross_entropy(x, y, reduction="none"), x32)
    out["stablemax_ce"] = with_grad(
        lambda x: -stablemax_ce_rows(x).gather(1, y[:, None]).squeeze(1), x64)
    out["mse"] = with_grad(lambda x: F.mse_loss(x, onehot, reduction="none").mean(1), x64)
    return out


def self_check(x32, y, ref):
    x64 = x32.double()
    onehot = F.one_hot(y, K).double()
    # batch means: per-row means against torch's own reductions
    assert abs(ref["softmax_ce"][1] / F.cross_entropy(x64, y) - 1) < 1e-14
    assert abs(ref["mse"][1] / F.mse_loss(x64, onehot) - 1) < 1e-14
    # closed-form gradients
    p = torch.softmax(x64, 1)
    assert torch.allclose(ref["softmax_ce"][2], (p - onehot) / N, rtol=0, atol=1e-16)
    s = stablemax_s(x64)
    ds = torch.where(x64 < 0, s * s, torch.ones_like(s))
    S = s.sum(1, keepdim=True)
    sy = s.gather(1, y[:, None])
    dsy = ds.gather(1, y[:, None])
    g = (ds / S - onehot * dsy / sy) / N
    assert torch.allclose(ref["stablemax_ce"][2], g, rtol=1e-12, atol=1e-18)
    assert torch.allclose(ref["mse"][2], 2 * (x64 - onehot) / (N * K), rtol=1e-15, atol=0)
    # StableMax is the softmax of sign(x) log1p|x|
    z = torch.sign(x64) * torch.log1p(x64.abs())
    soft_z = F.cross_entropy(z, y, reduction="none")
    assert torch.allclose(ref["stablemax_ce"][0], soft_z, rtol=1e-12, atol=1e-15)
    # Softmax Collapse: float32 loss 0 on a confident row, float64 positive
    for i in range(8, 12):
        assert ref["softmax_ce_f32"][0][i] == 0 and ref["softmax_ce"][0][i] > 0, i
    # float32 and float64 agree on ordinary rows
    assert torch.allclose(ref["softmax_ce_f32"][0][:8].double(), ref["softmax_ce"][0][:8],
                          rtol=1e-6, atol=1e-7)
    # torch.argmax picks the first of tied maxima; half the tie rows miss
    am = torch.argmax(x32, 1)
    assert [int(am[i] == y[i]) for i in range(14, 18)] == [1, 0, 1, 0]


def main(argv):
    torch.set_num_threads(1)
    outdir = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                         "golden")
    os.makedirs(outdir, exist_ok=True)
    g = torch.Generator().manual_seed(SEED)
    x32, y = make_rows(g)
    ref = references(x32, y)
    self_check(x32, y, ref)

    kinds = ("softmax_ce", "stablemax_ce", "mse")
    tensors = []
    for kind in kinds:
        rows, mean, grad = ref[kind]
        tensors += [(kind + ".loss", rows.numpy()), (kind + ".mean", np.array(mean.item())),
                    (kind + ".grad", grad.numpy())]
    rows, mean, grad = ref["softmax_ce_f32"]
    tensors += [("softmax_ce_f32.mean", np.array(mean.item(), dtype=np.float64)),
                ("softmax_ce_f32.loss", rows.numpy()), ("softmax_ce_f32.grad", grad.numpy())]
    tensors += [("logits", x32.numpy()), ("labels", y.numpy().astype(np.int32)),
                ("argmax", torch.argmax(x32, 1).numpy().astype(np.int32))]
    meta = dict(n=str(N), k=str(K), seed=str(SEED), torch=torch.__version__, generator=GENERATOR)

    raw = st_serialize(tensors, meta)
    back, back_meta = st_parse(raw)
    assert back_meta == meta and sorted(back) == sorted(n for n, _ in tensors)
    for n, a in tensors:
        assert back[n].dtype == a.dtype.newbyteorder("<") and np.array_equal(back[n], a), n
    path = os.path.join(outdir, "loss_golden.safetensors")
    write_atomic(path, raw)
    print("wrote %s (%d bytes): %d rows of %d logits" % (path, len(raw), N, K))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
