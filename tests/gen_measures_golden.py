#!/usr/bin/python3
"""gen_measures_golden.py: writes tests/golden/measures_p13.safetensors, the
fixture that tests/test_measures.c compares the C progress measures
(measures/meas.h) against.  Run it only to regenerate the committed fixture:

    /usr/bin/python3 tests/gen_measures_golden.py [OUTDIR]   (default: tests/golden)

NumPy only.  The measures are computed here independently of the C code,
straight from the definitions of docs/measures.md (the formulas of Nanda et
al. 2023), by section:
  basis  F: row 0 = 1/sqrt(p); rows 2k-1, 2k = cos, sin(2 pi k x / p), unit norm.
  fft2d  fft2d = einsum('xyz,fx,Fy->fFz'); the sum directions
       u_k = (vec(cos_k (x) cos_k) - vec(sin_k (x) sin_k)) / sqrt 2,
       v_k = (vec(sin_k (x) cos_k) + vec(cos_k (x) sin_k)) / sqrt 2,
       built from np.outer of basis rows.
  key    R1: post-ReLU neurons at the last position over all p^2 inputs,
       centred, fft2d; FVE_k = 3x3 block {0, 2k-1, 2k}^2 / total; best =
       argmax over k = 1..K, K = (p-1)/2; key_freqs = the distinct best
       frequencies; clusters = neurons with frac > 0.85.  Convention of this
       workbench: a neuron with zero total (constant over inputs) gets
       frequency 0 and frac 0 and adds no key frequency.
  restr. restricted: P L + (mean L - mean P L), CE on all rows and on the train
       rows, accuracy on all rows.
  excl.  excluded: L - P L, CE and accuracy on the train rows.
  Gini   Gini by the closed form 2 sum_k k c_(k) / (n sum c) - (n+1)/n (the C
       code uses the other form, docs/measures.md) of the W_E spectrum
       |(F W_E[:p])[i, :]| and the W_L spectrum |(F W_L)[i, :]|, W_L =
       W_U^T W_out^T, over all p components, the p-1 non-constant ones, and
       the K per-frequency norms sqrt(cos^2 + sin^2).
  norms  the sum of squared weights, per tensor and in total.
and the logit spectrum (norm over classes of fft2d of the centred logits),
the attention of the '=' position, and the neuron table.

The forward pass (1 layer, ReLU, no LayerNorm, no attention biases,
TransformerLens conventions: attention scaled by 1/sqrt(d_head) with a causal
mask) is computed in float64 from the float32 parameters; the C code runs the
same parameters in float32, so the C test's tolerances allow for float32
activations.

The model (p = 13, d_model 16, 2 heads of 4, d_mlp 24) has planted
frequencies 2 and 5: W_E holds cos/sin(w_k a) for both in dims 0..3, the
value/output maps carry them into dims 8..15, and most neurons read one
frequency's (cos, sin) plane at a random phase; three read random directions
and one is dead (b_in = -50).  The script checks that every discrete outcome
the C test compares is robust to float32 rounding: every argmax (accuracy,
each neuron's best frequency) wins by a clear margin and no fraction sits
near the 0.85 cluster threshold; it fails otherwise.

File layout (safetensors, written by hand: compact JSON header with
__metadata__ first, padded with spaces to a multiple of 8; F64 tensors, then
F32, then I32):
  expect.<measure>            F64 []     every scalar measure of measures.tsv
  expect.sq.<tensor>          F64 []     sum of squares per parameter tensor
  expect.logits               F64 [P2, p]
  expect.attention            F64 [P2, H, 3]
  expect.embed                F64 [K+1]  W_E norm: const, freq 1..K
  expect.spec_WE, spec_WL     F64 [p]    component norms (for diagnosis; the C test
                                         compares the Gini values and expect.embed)
  expect.neuron_frac          F64 [M]
  expect.logit_spectrum       F64 [p, p]
  fixed.<measure>             F64 []     restricted/excluded with keys fixed.key_freqs
  <parameter>                 F32        tfm.h names and shapes
  train_order                 I32 [P2]   permutation of the inputs, train rows first
  expect.neuron_freq          I32 [M]
  expect.key_freqs, cluster_freq, cluster_size   I32
  expect.n_dead               I32 []
  fixed.key_freqs             I32 [2]
metadata: p, n_train, the model config, planted, generator."""
import json
import os
import struct
import sys

import numpy as np

GENERATOR = "tests/gen_measures_golden.py"
P = 13
CFG = dict(n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=24, act="relu", layernorm=0,
           attn_bias=0)
FRAC_TRAIN = 0.3
PLANTED = (2, 5)
FIXED_KEYS = (1, 4)
SEED = 20231
CLUSTER_FRAC = 0.85
MARGIN_LOGIT = 2e-3   # smallest top-1 minus top-2 gap allowed for any argmax compared
MARGIN_FVE = 2e-3     # smallest best minus second FVE gap, and distance from 0.85


def basis(p):
    F = np.zeros((p, p))
    x = np.arange(p)
    F[0] = 1.0
    for k in range(1, (p - 1) // 2 + 1):
        F[2 * k - 1] = np.cos(2 * np.pi * k * x / p)
        F[2 * k] = np.sin(2 * np.pi * k * x / p)
    return F / np.linalg.norm(F, axis=1, keepdims=True)


def fft2d(M, F):
    p = F.shape[0]
    z = M.reshape(p, p, -1)
    return np.einsum('xyz,fx,Fy->fFz', z, F, F).reshape(p * p, -1)


def term2d(F, i, j):
    return np.outer(F[i], F[j]).flatten()


def sum_dirs(F, k):
    c, s = 2 * k - 1, 2 * k
    u = (term2d(F, c, c) - term2d(F, s, s)) / np.sqrt(2)
    v = (term2d(F, s, c) + term2d(F, c, s)) / np.sqrt(2)
    return u, v


def ce(L, labels, rows):
    x = L[rows]
    m = x.max(axis=1, keepdims=True)
    lsm = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    return float(-lsm[np.arange(len(rows)), labels[rows]].mean())


def acc(L, labels, rows):
    return float((L[rows].argmax(axis=1) == labels[rows]).mean())


def min_gap(L, rows):
    x = np.sort(L[rows], axis=1)
    return float((x[:, -1] - x[:, -2]).min())


def gini(c):
    c = np.sort(np.asarray(c, dtype=np.float64))
    n = len(c)
    if c.sum() == 0:
        return 0.0
    k = np.arange(1, n + 1)
    return float(2 * (k * c).sum() / (n * c.sum()) - (n + 1) / n)


def param_table(cfg, p):
    D, H, Dh, M = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"]
    return [("embed.W_E", (p + 1, D)), ("pos_embed.W_pos", (3, D)),
            ("blocks.0.attn.W_Q", (H, D, Dh)), ("blocks.0.attn.W_K", (H, D, Dh)),
            ("blocks.0.attn.W_V", (H, D, Dh)), ("blocks.0.attn.W_O", (H, Dh, D)),
            ("blocks.0.mlp.W_in", (D, M)), ("blocks.0.mlp.b_in", (M,)),
            ("blocks.0.mlp.W_out", (M, D)), ("blocks.0.mlp.b_out", (D,)),
            ("unembed.W_U", (D, p))]


def planted_params(rng, cfg, p):
    D, H, Dh, M = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"]
    a = np.arange(p)
    W_E = 0.05 * rng.standard_normal((p + 1, D))
    for i, k in enumerate(PLANTED):
        w = 2 * np.pi * k / p
        W_E[:p, 2 * i] += 2 * np.cos(w * a)
        W_E[:p, 2 * i + 1] += 2 * np.sin(w * a)
    W_E[p] = 0.3 * rng.standard_normal(D)
    W_pos = 0.1 * rng.standard_normal((3, D))
    W_Q = 0.3 * rng.standard_normal((H, D, Dh))
    W_K = 0.3 * rng.standard_normal((H, D, Dh))
    W_V = 0.1 * rng.standard_normal((H, D, Dh))
    W_O = 0.1 * rng.standard_normal((H, Dh, D))
    for h in range(H):
        for j in range(Dh):
            W_V[h, j, j] += 1.0                # value = the planted dims 0..3
            W_O[h, j, 8 + 4 * h + j] += 1.0    # head h writes them to 8+4h..
    W_in = 0.1 * rng.standard_normal((D, M))
    for n in range(M - 4):
        i = n % 2                              # planted frequency index
        for h in range(H):
            phi = rng.uniform(0, 2 * np.pi)
            W_in[8 + 4 * h + 2 * i, n] += 3 * np.cos(phi)
            W_in[8 + 4 * h + 2 * i + 1, n] += 3 * np.sin(phi)
    W_in[:, M - 4:M - 1] += rng.standard_normal((D, 3))   # three random readers
    b_in = 0.3 * rng.standard_normal(M)
    b_in[M - 1] = -50.0                        # a dead neuron
    W_out = 0.3 * rng.standard_normal((M, D))
    b_out = 0.1 * rng.standard_normal(D)
    W_U = 0.5 * rng.standard_normal((D, p))
    vals = [W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out, W_U]
    return {name: v.astype(np.float32) for (name, _), v in zip(param_table(cfg, p), vals)}


def forward(P32, cfg, p):
    """float64 forward over all p^2 inputs [a, b, p]; returns logits [P2, p],
    post [P2, M] (last position), attention of the last position [P2, H, 3]."""
    P64 = {k: v.astype(np.float64) for k, v in P32.items()}
    H, Dh = cfg["n_heads"], cfg["d_head"]
    a = np.repeat(np.arange(p), p)
    b = np.tile(np.arange(p), p)
    tok = np.stack([a, b, np.full_like(a, p)], axis=1)          # [N, 3]
    x = P64["embed.W_E"][tok] + P64["pos_embed.W_pos"][None]      # [N, 3, D]
    q = np.einsum('ntd,hde->nhte', x, P64["blocks.0.attn.W_Q"])
    k = np.einsum('ntd,hde->nhte', x, P64["blocks.0.attn.W_K"])
    v = np.einsum('ntd,hde->nhte', x, P64["blocks.0.attn.W_V"])
    s = np.einsum('nhie,nhje->nhij', q, k) / np.sqrt(Dh)
    s = np.where(np.tril(np.ones((3, 3), dtype=bool))[None, None], s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    att = np.exp(s)
    att /= att.sum(axis=-1, keepdims=True)
    z = np.einsum('nhij,nhje->nhie', att, v)
    x = x + np.einsum('nhie,hed->nid', z, P64["blocks.0.attn.W_O"])
    last = x[:, -1]
    post = np.maximum(last @ P64["blocks.0.mlp.W_in"] + P64["blocks.0.mlp.b_in"], 0.0)
    last = last + post @ P64["blocks.0.mlp.W_out"] + P64["blocks.0.mlp.b_out"]
    logits = last @ P64["unembed.W_U"]
    return logits, post, att[:, :, -1, :]


def neuron_rule(post, F, p):
    K = (p - 1) // 2
    N = post - post.mean(axis=0, keepdims=True)
    Nh = fft2d(N, F).reshape(p, p, -1)
    total = (Nh ** 2).sum(axis=(0, 1))
    fve = np.zeros((K, N.shape[1]))
    for k in range(1, K + 1):
        idx = [0, 2 * k - 1, 2 * k]
        fve[k - 1] = (Nh[np.ix_(idx, idx)] ** 2).sum(axis=(0, 1)) / np.where(total > 0, total, 1)
    best = np.where(total > 0, fve.argmax(axis=0) + 1, 0)
    frac = np.where(total > 0, fve.max(axis=0), 0.0)
    live = total > 0
    srt = np.sort(fve[:, live], axis=0)
    gap = float((srt[-1] - srt[-2]).min())
    return best.astype(np.int32), frac, gap


def restricted_excluded(L, F, keys, labels, train, p):
    PL = np.zeros_like(L)
    for k in keys:
        for d in sum_dirs(F, k):
            PL += np.outer(d, d @ L)
    allr = np.arange(p * p)
    Lr = PL + (L.mean(0) - PL.mean(0))
    Lx = L - PL
    out = dict(loss_restricted=ce(Lr, labels, allr), loss_restricted_train=ce(Lr, labels, train),
               acc_restricted=acc(Lr, labels, allr), loss_excluded=ce(Lx, labels, train),
               acc_excluded=acc(Lx, labels, train))
    gap = min(min_gap(Lr, allr), min_gap(Lx, train))
    return out, gap


def spectra(P32, F, p):
    W_E = P32["embed.W_E"].astype(np.float64)[:p]                # [p, D]
    W_U = P32["unembed.W_U"].astype(np.float64)                   # [D, p]
    W_out = P32["blocks.0.mlp.W_out"].astype(np.float64)          # [M, D]
    W_L = W_U.T @ W_out.T                                         # [p, M]
    e = np.linalg.norm(F @ W_E, axis=1)
    l = np.linalg.norm(F @ W_L, axis=1)
    return e, l


def per_freq(c, p):
    K = (p - 1) // 2
    return np.array([c[0]] + [np.hypot(c[2 * k - 1], c[2 * k]) for k in range(1, K + 1)])


def self_checks(F, p, rng):
    """Properties of this implementation itself, before anything is written."""
    assert np.abs(F @ F.T - np.eye(p)).max() < 1e-12
    # logits entirely in the directions of keys {3}: restricted loss == full loss
    u, v = sum_dirs(F, 3)
    L = np.outer(u, rng.standard_normal(p)) + np.outer(v, rng.standard_normal(p))
    labels = rng.integers(0, p, p * p)
    out, _ = restricted_excluded(L, F, [3], labels, np.arange(p * p), p)
    assert abs(out["loss_restricted"] - ce(L, labels, np.arange(p * p))) < 1e-12
    assert abs(gini(np.ones(7))) < 1e-15 and abs(gini(np.eye(7)[2]) - (1 - 1 / 7)) < 1e-15


def write_safetensors(path, tensors, meta):
    """tensors: list of (name, np.ndarray) in file order."""
    dt = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)
    # read back
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    hd = json.loads(data[8:8 + n])
    assert 8 + n + off == len(data)
    for name, arr in tensors:
        b0, b1 = hd[name]["data_offsets"]
        back = np.frombuffer(data[8 + n + b0:8 + n + b1], dtype=arr.dtype).reshape(arr.shape)
        assert np.array_equal(back, arr)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "golden")
    p, K = P, (P - 1) // 2
    rng = np.random.default_rng(SEED)
    F = basis(p)
    self_checks(F, p, np.random.default_rng(1))

    params = planted_params(rng, CFG, p)
    order = rng.permutation(p * p).astype(np.int32)
    n_train = int(np.floor(FRAC_TRAIN * p * p))
    train, test = order[:n_train], order[n_train:]
    a = np.repeat(np.arange(p), p)
    b = np.tile(np.arange(p), p)
    labels = (a + b) % p

    logits, post, att = forward(params, CFG, p)
    best, frac, fve_gap = neuron_rule(post, F, p)
    live = best > 0
    key_freqs = np.unique(best[live]).astype(np.int32)
    cl = [(k, int(((best == k) & (frac > CLUSTER_FRAC)).sum())) for k in range(1, K + 1)]
    cl = [(k, s) for k, s in cl if s > 0]
    e_spec, l_spec = spectra(params, F, p)
    allr = np.arange(p * p)

    ex = dict(loss_train=ce(logits, labels, train), loss_test=ce(logits, labels, test),
              acc_train=acc(logits, labels, train), acc_test=acc(logits, labels, test))
    r, gap_r = restricted_excluded(logits, F, key_freqs, labels, train, p)
    ex.update(r)
    ex.update(gini_WE=gini(e_spec), gini_WL=gini(l_spec), gini_WE_nonconst=gini(e_spec[1:]),
              gini_WL_nonconst=gini(l_spec[1:]), gini_WE_freq=gini(per_freq(e_spec, p)[1:]),
              gini_WL_freq=gini(per_freq(l_spec, p)[1:]))
    sq = {name: float((params[name].astype(np.float64) ** 2).sum())
          for name, _ in param_table(CFG, p)}
    ex["sum_sq_weights"] = float(sum(sq.values()))
    fixed, gap_f = restricted_excluded(logits, F, FIXED_KEYS, labels, train, p)
    Lc = logits - logits.mean(0)
    spec = np.linalg.norm(fft2d(Lc, F), axis=1).reshape(p, p)

    # robustness of every discrete outcome to float32 activations
    gaps = dict(logits=min_gap(logits, allr), restricted_excluded=gap_r, fixed=gap_f)
    assert min(gaps.values()) > MARGIN_LOGIT, gaps
    assert fve_gap > MARGIN_FVE, fve_gap
    assert np.abs(frac[live] - CLUSTER_FRAC).min() > MARGIN_FVE
    assert (~live).sum() == 1 and live[:-1].all()
    for k in PLANTED:
        assert k in key_freqs, (key_freqs, PLANTED)

    f64 = [("expect." + k, np.array(v, dtype=np.float64)) for k, v in ex.items()]
    f64 += [("expect.sq." + k, np.array(v, dtype=np.float64)) for k, v in sq.items()]
    f64 += [("expect.logits", logits), ("expect.attention", att),
            ("expect.embed", per_freq(e_spec, p)), ("expect.spec_WE", e_spec),
            ("expect.spec_WL", l_spec), ("expect.neuron_frac", frac),
            ("expect.logit_spectrum", spec)]
    f64 += [("fixed." + k, np.array(v, dtype=np.float64)) for k, v in fixed.items()]
    f32 = [(name, params[name]) for name, _ in param_table(CFG, p)]
    i32 = [("train_order", order), ("expect.neuron_freq", best),
           ("expect.key_freqs", key_freqs),
           ("expect.cluster_freq", np.array([k for k, _ in cl], dtype=np.int32)),
           ("expect.cluster_size", np.array([s for _, s in cl], dtype=np.int32)),
           ("expect.n_dead", np.array(int((~live).sum()), dtype=np.int32)),
           ("fixed.key_freqs", np.array(FIXED_KEYS, dtype=np.int32))]
    meta = {"p": str(p), "n_train": str(n_train), "planted": ",".join(map(str, PLANTED)),
            "generator": GENERATOR, "seed": str(SEED), "numpy": np.__version__}
    meta.update({k: str(v) for k, v in CFG.items()})
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "measures_p13.safetensors")
    write_safetensors(path, f64 + f32 + i32, meta)
    print(f"{path}: key_freqs {key_freqs.tolist()}, clusters {cl}, "
          f"loss_train {ex['loss_train']:.6f} loss_restricted {ex['loss_restricted']:.6f} "
          f"loss_excluded {ex['loss_excluded']:.6f}; margins {gaps}, fve gap {fve_gap:.4f}")


if __name__ == "__main__":
    main()
