#!/usr/bin/python3
"""gen_nanda_golden.py: writes tests/golden/nanda_p13.safetensors, the fixture
that tests/test_nanda.c compares the rest of Nanda et al.'s measures
(measures/meas.h: per-frequency, model-independent and 3-D excluded loss, the
coefficients alpha_k, the attention heads' frequencies, the cluster rule)
against.  Run it only to regenerate the committed fixture:

    /usr/bin/python3 tests/gen_nanda_golden.py [OUTDIR]   (default: tests/golden)

It reads the planted p = 13 model of tests/golden/measures_p13.safetensors
(parameters and train split, written by gen_measures_golden.py, whose
forward pass it reuses) and computes, NumPy only and straight from
docs/measures.md, without the shortcuts of the C code (no grouping by
s = (a+b) mod p; every projection is an explicit p^2 x p or p^3 array):
  excl_freq  for every k = 1..K: L - (u_k u_k^T + v_k v_k^T) L with the sum
             directions built from np.outer of basis rows; CE on the train rows.
  excl_max   the largest of those.
  C_k        the p^3 cube cos(w_k(a+b-c)) / its Frobenius norm (np.linalg.norm).
  alpha      alpha_k = <C_k, L>_F; cos_k = alpha_k / |L|_F; residual
             |L - sum_k alpha_k C_k|_F / |L|_F.
  excl_3d    L - sum over the key frequencies (R1, expect.key_freqs of the
             model fixture) of alpha_k C_k; CE on the train rows; and the same
             for the fixed key set {1, 4}.
  heads      attention from the last position to position 0 per head,
             centred over the p^2 inputs, fft2d, FVE_k = 3x3 block
             {0, 2k-1, 2k}^2 / total, best = argmax over k = 1..K.
  cluster    the cluster rule on the model's neuron table for two shares,
             and on a constructed neuron table (CLUSTER_TABLE below).
Also checked here before anything is written: sum_k alpha_k^2 + residual^2 =
|L|^2 (the C_k are orthonormal); logits made of frequency k alone give
per-frequency excluded loss log p at k.

File layout (safetensors by gen_measures_golden.write_safetensors):
  expect.excluded_freq   F64 [K]
  expect.alpha, expect.cos_sim   F64 [K]
  expect.<scalar>        F64 []   loss_excluded_max, loss_excluded_3d,
                                  loss_excluded_3d_fixed, coef_residual, logit_norm
  expect.head_frac       F64 [H]
  expect.head_freq       I32 [H]
  cluster.best           I32 [M'], cluster.frac F64 [M'] (the constructed table)
  cluster.keys_<share>   I32      the cluster rule's frequencies for each share
                                  (share written as e.g. 0p05); and
  model.keys_<share>     I32      the same on the model's neuron table
metadata: p, generator, the shares, the source fixture's name."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_measures_golden as gm  # noqa: E402

GENERATOR = "tests/gen_nanda_golden.py"
SHARES = (0.05, 0.3)
# A constructed neuron table: (best frequency, frac) per neuron; 0 = dead.
# 20 neurons, 2 dead: 18 live.  Clusters (frac > 0.85): k=1: 6, k=3: 2, k=4: 1;
# k=2 and k=5 have neurons but none above 0.85.  Share 0.05 keeps clusters of
# >= 0.9 neurons (1, 3, 4); share 0.3 keeps >= 5.4 (1 only); share 1/9 keeps
# >= 2 exactly (1, 3: the boundary is inclusive).
CLUSTER_TABLE = ([1] * 6 + [1, 1] + [3, 3] + [3] + [4] + [2, 2] + [5] + [4, 1] + [0, 0],
                 [0.9, 0.95, 0.99, 0.86, 0.9, 0.97] + [0.5, 0.85] + [0.9, 0.88] + [0.2] +
                 [0.91] + [0.6, 0.7] + [0.3] + [0.4, 0.1] + [0.0, 0.0])
CLUSTER_SHARES = (0.05, 0.3, 1.0 / 9.0)


def read_safetensors(path):
    import json
    import struct
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    hd = json.loads(data[8:8 + n])
    meta = hd.pop("__metadata__", {})
    dt = {"F64": np.float64, "F32": np.float32, "I32": np.int32}
    out = {}
    for name, h in hd.items():
        b0, b1 = h["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + b0:8 + n + b1],
                                  dtype=dt[h["dtype"]]).reshape(h["shape"])
    return out, meta


def excluded_per_freq(L, F, labels, train, p):
    K = (p - 1) // 2
    out = np.zeros(K)
    for k in range(1, K + 1):
        PL = np.zeros_like(L)
        for d in gm.sum_dirs(F, k):
            PL += np.outer(d, d @ L)
        out[k - 1] = gm.ce(L - PL, labels, train)
    return out


def cubes(p):
    """C [K, p^2, p]: cos(w_k(a+b-c)) over (a, b) rows (r = a*p + b) and c, unit norm."""
    K = (p - 1) // 2
    a = np.repeat(np.arange(p), p)[:, None]
    b = np.tile(np.arange(p), p)[:, None]
    c = np.arange(p)[None, :]
    C = np.zeros((K, p * p, p))
    for k in range(1, K + 1):
        x = np.cos(2 * np.pi * k * (a + b - c) / p)
        C[k - 1] = x / np.linalg.norm(x)
    return C


def cluster_rule(best, frac, K, share):
    live = int((best > 0).sum())
    keys = []
    for k in range(1, K + 1):
        size = int(((best == k) & (frac > gm.CLUSTER_FRAC)).sum())
        if size > 0 and size >= share * live:
            keys.append(k)
    return np.array(keys, dtype=np.int32)


def head_rule(att0, F, p):
    """att0 [P2, H]: attention to position 0; returns best [H], frac [H]."""
    best, frac, _ = gm.neuron_rule(att0, F, p)
    return best, frac


def self_checks(F, p, rng):
    K = (p - 1) // 2
    C = cubes(p)
    G = np.einsum('irc,jrc->ij', C, C)
    assert np.abs(G - np.eye(K)).max() < 1e-12
    # logits of frequency 3 alone (both sum directions): excluding k = 3 leaves
    # constant logits, so the CE at k = 3 is log p
    u, v = gm.sum_dirs(F, 3)
    L = np.outer(u, rng.standard_normal(p)) + np.outer(v, rng.standard_normal(p))
    labels = rng.integers(0, p, p * p)
    ex = excluded_per_freq(L, F, labels, np.arange(p * p), p)
    assert abs(ex[2] - np.log(p)) < 1e-12, ex


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "golden")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden",
                       "measures_p13.safetensors")
    fx, meta = read_safetensors(src)
    p = int(meta["p"])
    K = (p - 1) // 2
    n_train = int(meta["n_train"])
    cfg = dict(gm.CFG)
    F = gm.basis(p)
    self_checks(F, p, np.random.default_rng(7))
    params = {name: np.array(fx[name]) for name, _ in gm.param_table(cfg, p)}
    order = np.array(fx["train_order"])
    train = order[:n_train]
    a = np.repeat(np.arange(p), p)
    b = np.tile(np.arange(p), p)
    labels = (a + b) % p

    L, post, att = gm.forward(params, cfg, p)
    assert np.abs(L - fx["expect.logits"]).max() < 1e-12
    best, frac, _ = gm.neuron_rule(post, F, p)
    keys = np.unique(best[best > 0])
    assert np.array_equal(keys, fx["expect.key_freqs"])

    exf = excluded_per_freq(L, F, labels, train, p)
    C = cubes(p)
    alpha = np.einsum('krc,rc->k', C, L)
    norm = float(np.linalg.norm(L))
    resid = float(np.linalg.norm(L - np.einsum('k,krc->rc', alpha, C))) / norm
    assert abs((alpha ** 2).sum() / norm ** 2 + resid ** 2 - 1) < 1e-12

    def excl3d(ks):
        L3 = L - sum(alpha[k - 1] * C[k - 1] for k in ks)
        return gm.ce(L3, labels, train)

    hbest, hfrac = head_rule(att[:, :, 0], F, p)
    # the heads' discrete outcome is robust to float32 attention
    h0 = att[:, :, 0] - att[:, :, 0].mean(0)
    Nh = gm.fft2d(h0, F).reshape(p, p, -1)
    fve = np.array([(Nh[np.ix_([0, 2 * k - 1, 2 * k], [0, 2 * k - 1, 2 * k])] ** 2).sum((0, 1))
                    for k in range(1, K + 1)]) / (Nh ** 2).sum((0, 1))
    srt = np.sort(fve, axis=0)
    assert (srt[-1] - srt[-2]).min() > 2e-3, srt

    scal = dict(loss_excluded_max=float(exf.max()), loss_excluded_3d=excl3d(keys),
                loss_excluded_3d_fixed=excl3d(gm.FIXED_KEYS), coef_residual=resid,
                logit_norm=norm)
    cb = np.array(CLUSTER_TABLE[0], dtype=np.int32)
    cf = np.array(CLUSTER_TABLE[1], dtype=np.float64)

    def tag(s):
        return ("%.6g" % s).replace(".", "p")

    f64 = [("expect.excluded_freq", exf), ("expect.alpha", alpha),
           ("expect.cos_sim", alpha / norm), ("expect.head_frac", hfrac),
           ("cluster.frac", cf)]
    f64 += [("expect." + k, np.array(v, dtype=np.float64)) for k, v in scal.items()]
    i32 = [("expect.head_freq", hbest.astype(np.int32)), ("cluster.best", cb)]
    i32 += [("cluster.keys_" + tag(s), cluster_rule(cb, cf, 5, s)) for s in CLUSTER_SHARES]
    i32 += [("model.keys_" + tag(s), cluster_rule(best, frac, K, s)) for s in SHARES]
    out_meta = {"p": str(p), "generator": GENERATOR, "source": "tests/golden/measures_p13.safetensors",
                "cluster_shares": ",".join("%.17g" % s for s in CLUSTER_SHARES),
                "model_shares": ",".join("%.17g" % s for s in SHARES),
                "numpy": np.__version__}
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "nanda_p13.safetensors")
    gm.write_safetensors(path, f64 + i32, out_meta)
    print(f"{path}: excluded per freq {np.round(exf, 4).tolist()}, alpha "
          f"{np.round(alpha, 4).tolist()}, residual {resid:.6f}, heads {hbest.tolist()} "
          f"{np.round(hfrac, 4).tolist()}, 3-D {scal['loss_excluded_3d']:.6f}, cluster keys "
          f"{[cluster_rule(cb, cf, 5, s).tolist() for s in CLUSTER_SHARES]} model "
          f"{[cluster_rule(best, frac, K, s).tolist() for s in SHARES]}")


if __name__ == "__main__":
    main()
