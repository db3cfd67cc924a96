#!/usr/bin/python3
"""gen_irrep_golden.py: writes tests/golden/irreps_s4.safetensors, the fixture
that tests/test_irrep.c compares the C group measures (measures/meas.h:
irreps.tsv, key_irreps, loss_restricted_irrep, loss_excluded_irrep) against.
Run it only to regenerate the committed fixture:

    /usr/bin/python3 tests/gen_irrep_golden.py [OUTDIR]   (default: tests/golden)

NumPy only, and independent of the C construction: the C code builds the
irreps of S_n by Young's orthogonal form and projects on their matrix
elements; here no representation matrix is built at all.
  group   S4 as itertools.permutations(range(4)) (lexicographic), composition
          (x*y)(i) = x[y[i]], inverses by argsort.
  chars   the irreducible characters by the Frobenius formula: chi^lambda(mu)
          = the coefficient of x^(lambda + delta) in a_delta * p_mu, with
          polynomials in 4 variables as dicts of exponent tuples; partitions
          in reverse lexicographic order (the C order, so the columns line
          up).
  proj    the projector on the isotypic component of irrep lambda in the
          functions on G: P[g, h] = (d/|G|) chi(h^-1 g) (a basis-free
          definition; the span of lambda's matrix elements, whatever basis
          they are written in).
  embed   fraction of irrep lambda: |P Xc|^2 / |Xc|^2, Xc = W_E[:24] centred
          over the elements (rows); unembed the same with W_U^T.
  logit   each irrep's subspace of functions of (x, y) that depend on x*y
          only, lifted explicitly to the 576 inputs (U[x*24+y, k] =
          v_k(x*y), v an orthonormal basis of P's range by eigh); the
          logits projected on it by least squares (np.linalg.lstsq over all
          classes), fraction = |proj|^2 / |L - class means|^2.  The C code
          averages over the fibres x*y = g instead.
  key     the non-trivial irreps with logit fraction >= 0.05 (margin checked).
  losses  restricted = PL + (mean L - mean PL), CE on all inputs; excluded
          = L - PL, CE on the training rows; for the key irreps of the rule
          (when any) and for a fixed pair ("31", "211").
The model is a tiny 1-layer transformer (the forward of
tests/gen_measures_golden.py, float64 from float32 parameters, tokens
[x, y, 24]) whose W_E holds the functions of two irreps ("31" weight 2,
"22" weight 1, by projecting random vectors) plus noise, and whose W_U holds
"211" plus noise, so the fractions are far from uniform.

File layout (safetensors, F64 then F32 then I32):
  expect.embed, expect.unembed, expect.logit   F64 [5]  fractions per irrep
  expect.loss_restricted_irrep, expect.loss_excluded_irrep  F64 []  (rule's keys)
  fixed.loss_restricted_irrep, fixed.loss_excluded_irrep    F64 []
  <parameter>  F32 (tfm.h names)
  train_order  I32 [576]; expect.key_irreps I32 [k]; fixed.key_irreps I32 [2]
metadata: group, n_train, the model config, generator."""
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_measures_golden import acc, ce, forward, param_table, write_safetensors  # noqa: E402

GENERATOR = "tests/gen_irrep_golden.py"
N = 4
CFG = dict(n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=24, act="relu", layernorm=0,
           attn_bias=0)
FRAC_TRAIN = 0.3
SEED = 20230512
SHARE = 0.05
FIXED = ("31", "211")
MARGIN_SHARE = 5e-3


def partitions(n):
    """reverse lexicographic order"""
    out = []

    def rec(rest, mx, cur):
        if rest == 0:
            out.append(tuple(cur))
            return
        for v in range(min(rest, mx), 0, -1):
            rec(rest - v, v, cur + [v])
    rec(n, n, [])
    return out


def poly_mul(a, b):
    out = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            out[e] = out.get(e, 0) + ca * cb
    return {e: c for e, c in out.items() if c != 0}


def character(lam, mu, n):
    """Frobenius: coefficient of x^(lam + delta) in a_delta p_mu"""
    one = {tuple([0] * n): 1}
    a = one
    for i in range(n):
        for j in range(i + 1, n):
            xi = {tuple(1 if k == i else 0 for k in range(n)): 1}
            xj = {tuple(1 if k == j else 0 for k in range(n)): -1}
            a = poly_mul(a, {**xi, **xj})
    for m in mu:
        pm = {tuple(m if k == i else 0 for k in range(n)): 1 for i in range(n)}
        a = poly_mul(a, pm)
    lam = list(lam) + [0] * (n - len(lam))
    target = tuple(lam[i] + n - 1 - i for i in range(n))
    return a.get(target, 0)


def cycle_type(p):
    seen, ct = set(), []
    for i in range(len(p)):
        if i in seen:
            continue
        c, j = 0, i
        while j not in seen:
            seen.add(j)
            j = p[j]
            c += 1
        ct.append(c)
    return tuple(sorted(ct, reverse=True))


def group_tables(n):
    els = list(itertools.permutations(range(n)))
    index = {p: i for i, p in enumerate(els)}
    G = len(els)
    mul = np.zeros((G, G), dtype=np.int64)
    for a, pa in enumerate(els):
        for b, pb in enumerate(els):
            mul[a, b] = index[tuple(pa[pb[i]] for i in range(n))]
    inv = np.array([index[tuple(np.argsort(p))] for p in els])
    return els, mul, inv


def projectors(els, mul, inv, n):
    G = len(els)
    parts = partitions(n)
    chars = np.array([[character(lam, cycle_type(p), n) for p in els] for lam in parts],
                     dtype=np.float64)
    dims = chars[:, 0].astype(int)
    assert (dims ** 2).sum() == G
    assert np.abs(chars @ chars.T / G - np.eye(len(parts))).max() < 1e-12
    P = []
    hinv_g = mul[inv[None, :], np.arange(G)[:, None]]  # [g, h] = h^-1 g
    for r in range(len(parts)):
        Pr = dims[r] / G * chars[r][hinv_g]
        assert np.abs(Pr @ Pr - Pr).max() < 1e-12 and abs(np.trace(Pr) - dims[r] ** 2) < 1e-9
        P.append(Pr)
    assert np.abs(sum(P) - np.eye(G)).max() < 1e-12
    return ["".join(str(v) for v in lam) for lam in parts], P


def fractions(X, P):
    Xc = X - X.mean(axis=0, keepdims=True)
    tot = (Xc ** 2).sum()
    return np.array([0.0] + [((Pr @ Xc) ** 2).sum() / tot for Pr in P[1:]])


def lifted_bases(P, mul):
    G = mul.shape[0]
    out = []
    for Pr in P:
        w, v = np.linalg.eigh(Pr)
        V = v[:, w > 0.5]
        out.append(V[mul.reshape(-1)])  # [G*G, d^2]: row x*G+y = V[x*y]
    return out


def project(L, U):
    if U.shape[1] == 0:
        return np.zeros_like(L)
    coef, *_ = np.linalg.lstsq(U, L, rcond=None)
    return U @ coef


def losses(L, PL, labels, train):
    allr = np.arange(L.shape[0])
    Lr = PL + (L.mean(0) - PL.mean(0))
    return ce(Lr, labels, allr), ce(L - PL, labels, train)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "golden")
    rng = np.random.default_rng(SEED)
    els, mul, inv = group_tables(N)
    G = len(els)
    names, P = projectors(els, mul, inv, N)
    ix = {nm: i for i, nm in enumerate(names)}
    D = CFG["d_model"]

    # parameters: the forward's table with p = G (tokens x, y, '=' = G; G classes)
    table = param_table(CFG, G)
    params = {}
    for name, shape in table:
        params[name] = 0.2 * rng.standard_normal(shape)
    WE = 0.1 * rng.standard_normal((G + 1, D))
    WE[:G] += 2 * P[ix["31"]] @ rng.standard_normal((G, D)) + P[ix["22"]] @ rng.standard_normal((G, D))
    params["embed.W_E"] = WE
    WU = 0.1 * rng.standard_normal((D, G))
    WU += (P[ix["211"]] @ rng.standard_normal((G, D))).T
    params["unembed.W_U"] = WU
    params["blocks.0.mlp.W_in"] = 0.5 * rng.standard_normal((D, CFG["d_mlp"]))
    params = {k: v.astype(np.float32) for k, v in params.items()}

    order = rng.permutation(G * G).astype(np.int32)
    n_train = int(np.floor(FRAC_TRAIN * G * G))
    train = order[:n_train]
    labels = mul.reshape(-1)

    L, _, _ = forward(params, CFG, G)
    f_embed = fractions(params["embed.W_E"].astype(np.float64)[:G], P)
    f_unembed = fractions(params["unembed.W_U"].astype(np.float64).T, P)
    Us = lifted_bases(P, mul)
    Lc = L - L.mean(axis=0, keepdims=True)
    tot = (Lc ** 2).sum()
    f_logit = np.array([0.0] + [(project(L, U) ** 2).sum() / tot for U in Us[1:]])
    # the product part of each irrep of a centred table is the same as the uncentred one's
    assert abs((project(Lc, Us[1]) ** 2).sum() / tot - f_logit[1]) < 1e-12

    keys = [i for i in range(1, len(names)) if f_logit[i] >= SHARE]
    margin = min(abs(f - SHARE) for f in f_logit[1:])
    assert margin > MARGIN_SHARE, f"a logit fraction is within {margin} of the key share"
    PLk = sum((project(L, Us[i]) for i in keys), np.zeros_like(L))
    lr, lx = losses(L, PLk, labels, train)
    fixed = [ix[nm] for nm in FIXED]
    PLf = sum(project(L, Us[i]) for i in fixed)
    fr, fx = losses(L, PLf, labels, train)

    print("irreps", names)
    print("embed  ", np.round(f_embed, 4))
    print("unembed", np.round(f_unembed, 4))
    print("logit  ", np.round(f_logit, 4), "keys", [names[i] for i in keys])
    print("max |logit|", np.abs(L).max())
    print("losses rule", lr, lx, "fixed", fr, fx, "full train", ce(L, labels, train),
          "acc", acc(L, labels, train))

    f64 = [("expect.embed", f_embed), ("expect.unembed", f_unembed), ("expect.logit", f_logit),
           ("expect.loss_restricted_irrep", np.array(lr)),
           ("expect.loss_excluded_irrep", np.array(lx)),
           ("fixed.loss_restricted_irrep", np.array(fr)),
           ("fixed.loss_excluded_irrep", np.array(fx))]
    f32 = [(name, params[name]) for name, _ in table]
    i32 = [("train_order", order), ("expect.key_irreps", np.array(keys, dtype=np.int32)),
           ("fixed.key_irreps", np.array(fixed, dtype=np.int32))]
    meta = {"group": "S4", "n_train": str(n_train), "generator": GENERATOR,
            **{k: str(v) for k, v in CFG.items()}}
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "irreps_s4.safetensors")
    write_safetensors(path, [(n, np.asarray(a, dtype=np.float64)) for n, a in f64] + f32 + i32,
                      meta)
    print("wrote", path)


if __name__ == "__main__":
    main()
