#!/usr/bin/python3
"""gen_filters_golden.py: writes tests/golden/filters_golden.h for tests/test_filters.c.

A small parameter table of three tensors (a [4, 5], b [7], c [3, 2, 2]; 39
floats), float32 weights and gradients for 6 steps, and the gradients after
each filter of model/filters.c, step by step:
  ema    Grokfast EMA, alpha 0.8, lambda 2.0: ironjr/grokfast gradfilter_ema,
         run on a torch module holding the three tensors;
  ma     Grokfast MA, window 3, lambda 5.0: gradfilter_ma (warmup=True,
         "mean"), so the gradients change from the third step on;
  ortho  the orthogonal gradient (Prieto et al. 2025) per tensor, from its
         definition in float64 with numpy:
         g_perp = g - (w.g / (w.w + 1e-30)) w, g_perp * |g| / (|g_perp| + 1e-30);
  clip   torch.nn.utils.clip_grad_norm_(max_norm=4.0) over the three tensors
         (steps 0, 2, 4 are clipped, 1, 3, 5 are not);
  all    EMA, MA, orthogonal and clipping in that order, each as above.
Weights of b are all zero at step 1 (⊥Grad must leave that gradient as it
is) and the gradient of c is zero at step 3.  Also the weights of step 0
rescaled to total L2 norm 2.5 in float64 (the norm constraint).

The functions gradfilter_ema and gradfilter_ma below are those of
ironjr/grokfast (grokfast.py), restated so the script runs without it.
Floats are written as C hex literals, so the header holds the bits exactly.

Run from the repository root with Debian's Python (python3-torch):
    /usr/bin/python3 tests/gen_filters_golden.py > tests/golden/filters_golden.h
"""
from collections import deque
import sys

import numpy as np
import torch

SHAPES = [("a", (4, 5)), ("b", (7,)), ("c", (3, 2, 2))]
STEPS = 6
SEED = 20240311
CLIP = 4.0
TARGET_NORM = 2.5
SCALES = [1.0, 0.3, 2.5, 0.5, 1.7, 0.05]

# name, filter_config initializer, the filters in order
CASES = [
    ("ema", "{.ema = {1, 0.8, 2.0}}", ["ema"]),
    ("ma", "{.ma = {1, 3, 5.0}}", ["ma"]),
    ("ortho", "{.ortho = 1}", ["ortho"]),
    ("clip", "{.clip_norm = 4.0}", ["clip"]),
    ("all", "{.ema = {1, 0.8, 2.0}, .ma = {1, 3, 5.0}, .ortho = 1, .clip_norm = 4.0}",
     ["ema", "ma", "ortho", "clip"]),
]


def gradfilter_ma(m, grads=None, window_size=100, lamb=5.0, filter_type="mean", warmup=True,
                  trigger=False):
    if grads is None:
        grads = {n: deque(maxlen=window_size) for n, p in m.named_parameters()
                 if p.requires_grad and p.grad is not None}
    for n, p in m.named_parameters():
        if p.requires_grad and p.grad is not None:
            grads[n].append(p.grad.data.detach())
            if not warmup or len(grads[n]) == window_size and not trigger:
                if filter_type == "mean":
                    avg = sum(grads[n]) / len(grads[n])
                elif filter_type == "sum":
                    avg = sum(grads[n])
                else:
                    raise ValueError(filter_type)
                p.grad.data = p.grad.data + avg * lamb
    return grads


def gradfilter_ema(m, grads=None, alpha=0.98, lamb=2.0):
    if grads is None:
        grads = {n: p.grad.data.detach() for n, p in m.named_parameters()
                 if p.requires_grad and p.grad is not None}
    for n, p in m.named_parameters():
        if p.requires_grad and p.grad is not None:
            grads[n] = grads[n] * alpha + p.grad.data.detach() * (1 - alpha)
            p.grad.data = p.grad.data + grads[n] * lamb
    return grads


def ortho(w, g):
    """Orthogonal gradient of one tensor, float64 from float32 inputs."""
    w = w.detach().double().numpy().ravel()
    g = g.detach().double().numpy().ravel()
    proj = np.dot(w, g) / (np.dot(w, w) + 1e-30)
    gp = g - proj * w
    out = gp * (np.linalg.norm(g) / (np.linalg.norm(gp) + 1e-30))
    return torch.from_numpy(out.astype(np.float32))


class Table(torch.nn.Module):
    def __init__(self):
        super().__init__()
        for name, shape in SHAPES:
            self.register_parameter(name, torch.nn.Parameter(torch.zeros(shape)))


def numel(shape):
    return int(np.prod(shape))


N = sum(numel(s) for _, s in SHAPES)


def fixture():
    g = torch.Generator().manual_seed(SEED)
    params = torch.randn(STEPS, N, generator=g, dtype=torch.float32)
    grads = torch.randn(STEPS, N, generator=g, dtype=torch.float32)
    grads *= torch.tensor(SCALES, dtype=torch.float32)[:, None]
    params[1, 20:27] = 0.0  # b
    grads[3, 27:39] = 0.0   # c
    return params, grads


def split(flat):
    out, off = {}, 0
    for name, shape in SHAPES:
        out[name] = flat[off:off + numel(shape)].reshape(shape).clone()
        off += numel(shape)
    return out


def run(filters, params, grads):
    m = Table()
    ema_state = ma_state = None
    out = []
    for s in range(STEPS):
        w = split(params[s])
        with torch.no_grad():
            for name, p in m.named_parameters():
                p.copy_(w[name])
        gs = split(grads[s])
        for name, p in m.named_parameters():
            p.grad = gs[name]
        for f in filters:
            if f == "ema":
                ema_state = gradfilter_ema(m, ema_state, alpha=0.8, lamb=2.0)
            elif f == "ma":
                ma_state = gradfilter_ma(m, ma_state, window_size=3, lamb=5.0)
            elif f == "ortho":
                for name, p in m.named_parameters():
                    p.grad = ortho(p, p.grad).reshape(p.shape)
            elif f == "clip":
                torch.nn.utils.clip_grad_norm_(m.parameters(), max_norm=CLIP)
        out.append(torch.cat([p.grad.detach().reshape(-1) for _, p in m.named_parameters()]))
    return torch.stack(out)


def c_hex(x):
    """Exact C hex literal of a float, trailing zero digits dropped."""
    m, e = float(x).hex().split("p")
    if "." in m:
        m = m.rstrip("0").rstrip(".")
    return m + "p" + e


def c_floats(t, indent):
    vals = [c_hex(x) + "f" for x in t.tolist()]
    return "\n".join(indent + ", ".join(vals[i:i + 4]) + "," for i in range(0, len(vals), 4))


def c_matrix(name, rows, comment):
    lines = ["/* %s */" % comment,
             "static const float %s[FILTERS_GOLDEN_STEPS][FILTERS_GOLDEN_N] = {" % name]
    for r in rows:
        lines.append("    {\n%s\n    }," % c_floats(r, "        "))
    return "\n".join(lines) + "\n};\n\n"


def main():
    torch.set_num_threads(1)
    params, grads = fixture()
    w = sys.stdout.write
    w("/* filters_golden.h: generated by tests/gen_filters_golden.py (torch %s, numpy %s);\n"
      " * do not edit.\n"
      " *\n"
      " * Gradients after the filters of model/filters.c on a table of three tensors\n"
      " * over %d steps: Grokfast EMA and MA (ironjr/grokfast gradfilter_ema,\n"
      " * gradfilter_ma in torch), the orthogonal gradient (float64 numpy),\n"
      " * clip_grad_norm_ (torch) and all four in order; and the norm constraint.\n"
      " * Floats are exact (hex literals). */\n" % (torch.__version__, np.__version__, STEPS))
    w("#ifndef FILTERS_GOLDEN_H\n#define FILTERS_GOLDEN_H\n\n#include \"filters.h\"\n\n")
    w("#define FILTERS_GOLDEN_N %d\n#define FILTERS_GOLDEN_STEPS %d\n" % (N, STEPS))
    w("#define FILTERS_GOLDEN_TENSORS %d\n#define FILTERS_GOLDEN_CASES %d\n" % (len(SHAPES),
                                                                              len(CASES)))
    w("#define FILTERS_GOLDEN_TARGET_NORM %r\n\n" % TARGET_NORM)
    w("/* The table: name, ndim, shape (in buffer order) */\n")
    w("static const struct {\n    const char *name;\n    int ndim, shape[3];\n"
      "} filters_golden_table[FILTERS_GOLDEN_TENSORS] = {\n")
    for name, shape in SHAPES:
        sh = list(shape) + [0] * (3 - len(shape))
        w("    {\"%s\", %d, {%d, %d, %d}},\n" % (name, len(shape), sh[0], sh[1], sh[2]))
    w("};\n\n")
    w(c_matrix("filters_golden_params", params, "[STEPS][N] the weights at each step"))
    w(c_matrix("filters_golden_grads", grads, "[STEPS][N] the raw gradient of each step"))
    x = params[0].double().numpy()
    rescaled = (x * (TARGET_NORM / np.sqrt(np.dot(x, x)))).astype(np.float32)
    w("/* [N] filters_golden_params[0] rescaled to L2 norm TARGET_NORM (float64) */\n")
    w("static const float filters_golden_rescaled[FILTERS_GOLDEN_N] = {\n%s\n};\n\n"
      % c_floats(torch.from_numpy(rescaled), "    "))
    w("typedef struct {\n    const char *name;\n    filter_config cfg;\n"
      "    float grads[FILTERS_GOLDEN_STEPS][FILTERS_GOLDEN_N]; /* after the filters */\n"
      "} filters_golden_case;\n\n")
    w("static const filters_golden_case filters_golden[FILTERS_GOLDEN_CASES] = {\n")
    for name, cfg, filters in CASES:
        out = run(filters, params, grads)
        w("    {\n        .name = \"%s\",\n        .cfg = %s,\n        .grads = {\n" % (name, cfg))
        for s in range(STEPS):
            w("            {\n%s\n            },\n" % c_floats(out[s], "                "))
        w("        },\n    },\n")
    w("};\n\n#endif\n")


if __name__ == "__main__":
    main()
