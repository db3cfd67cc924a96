#!/usr/bin/python3
"""gen_algo_golden.py: writes tests/golden/algo_p13.safetensors, the fixture
that tests/test_algo.c compares the clock and pizza measures
(measures/algo.h) against.  Run it only to regenerate the committed fixture:

    /usr/bin/python3 tests/gen_algo_golden.py [OUTDIR]   (default: tests/golden)

NumPy and PyTorch (autograd for the gradients), straight from the
definitions of docs/measures.md ("Clock or pizza"), independently of the C
code:
  triples      the project's rng re-implemented here (splitmix64 stream
               derivation, GSL's mt19937 seeding and gsl_rng_uniform_int), a
               front-to-back Fisher-Yates over the p^3 triples
               a p^2 + b p + c run in full, the first 100 kept.
  dist_irrel   T[s, d] = correct-class logit of (a, b) with s = a+b, d = a-b;
               mean over d of np.std over s / np.std of T.
  grad_sym     torch autograd of logit c at the last position with respect to
               the input embeddings x[0] (a) and x[1] (b); mean cosine.
  circularity  PCA by np.linalg.svd of the centred token rows of W_E; the
               first 4 left singular vectors scored by the definition
               (v = u / (|u| sqrt p), max over i of 2 |sum_t v[t i mod p]
               e^(2 pi i t / p)|^2, capped at 1); mean.
  fve          W_E[:p] replaced by the rank-2 PCA reconstruction (mean plus
               the first two components), float32; the forward's logit cube
               [a, b, c] vs the clock and pizza templates with w = 2 pi k / p,
               k = argmax over 1..K of |np.fft.fft(u_1)[k]|; sklearn's
               explained_variance_score written out: 1 - var(y - q) / var(y)
               of the standardised sides.
  circles      for each key k: E_k = (c c^T + s s^T) W_E[:p] (c, s the unit
               cos/sin rows), np.linalg.svd; x, y = the first two columns of
               U S, signs token 0 x >= 0, token 1 y >= 0.

The model is the planted one of gen_measures_golden.py (p = 13, 1 layer,
ReLU, no LayerNorm, causal) with the planted frequencies' cos and sin
written with distinct amplitudes (2, 1.5 for k = 2; 1, 0.7 for k = 5) so
the four leading principal components are well separated (checked).

File layout (safetensors as gen_measures_golden.py): the parameters (F32,
tfm.h names), expect.<measure> F64 [], expect.logits F64 [P2, p],
expect.logits_restricted F64 [P2, p], expect.grad F64 [100, 2, D] (d logit /
d x at positions 0 and 1), expect.circles F64 [2, p, 2], expect.logit_sd F64
[p, p], triples I32 [100, 3], keys I32 [2]."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_measures_golden as gm  # noqa: E402

GENERATOR = "tests/gen_algo_golden.py"
P = gm.P
CFG = gm.CFG
SEED = 777
TRIPLE_SEED = 42      # ALGO_TRIPLE_SEED
STREAM_ALGO = 5       # RNG_STREAM_ALGO
N_TRIPLES = 100
KEYS = (2, 5)
M64 = (1 << 64) - 1


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


class MT19937:
    """GSL's mt19937 (gsl_rng_set: the 2002 init_genrand, 0 -> 4357)."""

    def __init__(self, s):
        s &= 0xFFFFFFFF
        if s == 0:
            s = 4357
        self.mt = [s]
        for i in range(1, 624):
            self.mt.append((1812433253 * (self.mt[-1] ^ (self.mt[-1] >> 30)) + i) & 0xFFFFFFFF)
        self.i = 624

    def get(self):
        if self.i >= 624:
            mt = self.mt
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7FFFFFFF)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y

    def uniform_int(self, n):
        scale = 0xFFFFFFFF // n
        while True:
            k = self.get() // scale
            if k < n:
                return k


def triples(p):
    h = splitmix64(TRIPLE_SEED)
    h = splitmix64(h ^ STREAM_ALGO)
    h = splitmix64(h ^ 0)
    g = MT19937((h ^ (h >> 32)) & 0xFFFFFFFF)
    n3 = p ** 3
    perm = np.arange(n3)
    for i in range(n3 - 1):
        j = i + g.uniform_int(n3 - i)
        perm[i], perm[j] = perm[j], perm[i]
    x = perm[:N_TRIPLES]
    return np.stack([x // (p * p), (x // p) % p, x % p], axis=1).astype(np.int32)


def params_of(rng):
    prm = gm.planted_params(rng, CFG, P)
    W = prm["embed.W_E"].astype(np.float64)
    a = np.arange(P)
    amps = {2: (2.0, 1.5), 5: (1.0, 0.7)}
    for i, k in enumerate(gm.PLANTED):
        w = 2 * np.pi * k / P
        W[:P, 2 * i] += (amps[k][0] - 2) * np.cos(w * a)
        W[:P, 2 * i + 1] += (amps[k][1] - 2) * np.sin(w * a)
    prm["embed.W_E"] = W.astype(np.float32)
    return prm


def forward_x(P64, x):
    """torch float64 forward from input embeddings x [n, 3, D]: logits [n, p]."""
    H, Dh = CFG["n_heads"], CFG["d_head"]
    q = torch.einsum('ntd,hde->nhte', x, P64["blocks.0.attn.W_Q"])
    k = torch.einsum('ntd,hde->nhte', x, P64["blocks.0.attn.W_K"])
    v = torch.einsum('ntd,hde->nhte', x, P64["blocks.0.attn.W_V"])
    s = torch.einsum('nhie,nhje->nhij', q, k) / np.sqrt(Dh)
    mask = torch.tril(torch.ones(3, 3, dtype=torch.bool))
    s = s.masked_fill(~mask, float('-inf'))
    att = torch.softmax(s, dim=-1)
    z = torch.einsum('nhij,nhje->nhie', att, v)
    x = x + torch.einsum('nhie,hed->nid', z, P64["blocks.0.attn.W_O"])
    last = x[:, -1]
    post = torch.relu(last @ P64["blocks.0.mlp.W_in"] + P64["blocks.0.mlp.b_in"])
    last = last + post @ P64["blocks.0.mlp.W_out"] + P64["blocks.0.mlp.b_out"]
    return last @ P64["unembed.W_U"]


def to64(prm):
    return {k: torch.tensor(v.astype(np.float64)) for k, v in prm.items()}


def all_logits(prm):
    P64 = to64(prm)
    a = np.repeat(np.arange(P), P)
    b = np.tile(np.arange(P), P)
    tok = torch.tensor(np.stack([a, b, np.full_like(a, P)], axis=1))
    x = P64["embed.W_E"][tok] + P64["pos_embed.W_pos"][None]
    with torch.no_grad():
        return forward_x(P64, x).numpy()


def circ_score(u, p):
    n = np.linalg.norm(u)
    if n == 0:
        return 0.0
    v = u / (n * np.sqrt(p))
    t = np.arange(p)
    best = max(2 * abs((v[(t * i) % p] * np.exp(2j * np.pi * t / p)).sum()) ** 2
               for i in range(1, p))
    return float(min(1.0, best))


def templates(p, k):
    w = 2 * np.pi * k / p
    a, b, c = np.meshgrid(np.arange(p), np.arange(p), np.arange(p), indexing='ij')
    clock = np.cos(w * (a + b - c))
    ca, cb, sa, sb = np.cos(w * a), np.cos(w * b), np.sin(w * a), np.sin(w * b)
    h = w * c / 2
    pizza = (np.abs(np.cos(h) * (ca + cb) + np.sin(h) * (sa + sb)) -
             np.abs(-np.sin(h) * (ca + cb) + np.cos(h) * (sa + sb)))
    return clock.reshape(p * p, p), pizza.reshape(p * p, p)


def ev_score(L, Q):
    y = (L - L.mean()) / L.std()
    q = (Q - Q.mean()) / Q.std()
    return float(1 - np.var(y - q) / np.var(y))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "golden")
    p, K = P, (P - 1) // 2
    prm = params_of(np.random.default_rng(SEED))
    a = np.repeat(np.arange(p), p)
    b = np.tile(np.arange(p), p)
    labels = (a + b) % p
    L = all_logits(prm)

    # distance irrelevance
    T = np.zeros((p, p))
    T[(a + b) % p, (a - b) % p] = L[np.arange(p * p), labels]
    dist_irrel = float(T.std(axis=0).mean() / T.std())

    # gradient symmetricity
    tr = triples(p)
    P64 = to64(prm)
    tok = torch.tensor(np.stack([tr[:, 0], tr[:, 1], np.full(len(tr), p)], axis=1))
    x = (P64["embed.W_E"][tok] + P64["pos_embed.W_pos"][None]).detach().requires_grad_(True)
    z = forward_x(P64, x)
    z.gather(1, torch.tensor(tr[:, 2:3]).long()).sum().backward()
    g = x.grad.numpy()[:, :2, :]
    cos = (g[:, 0] * g[:, 1]).sum(1) / (np.linalg.norm(g[:, 0], axis=1) *
                                       np.linalg.norm(g[:, 1], axis=1))
    grad_sym = float(cos.mean())

    # PCA, circularity
    W = prm["embed.W_E"].astype(np.float64)[:p]
    mu = W.mean(0)
    U, S, Vt = np.linalg.svd(W - mu, full_matrices=False)
    lam = S ** 2
    gaps = np.abs(np.diff(lam[:5])) / lam[0]
    assert gaps.min() > 0.05, lam[:5]
    circularity = float(np.mean([circ_score(U[:, j], p) for j in range(4)]))

    # logit FVE with the embedding restricted to the first circle
    power = np.abs(np.fft.fft(U[:, 0]))[1:K + 1] ** 2
    k = int(np.argmax(power)) + 1
    assert np.sort(power)[-1] > 1.5 * np.sort(power)[-2]
    prm_r = dict(prm)
    Wr = prm["embed.W_E"].astype(np.float64).copy()
    Wr[:p] = mu + U[:, :2] @ U[:, :2].T @ (W - mu)
    prm_r["embed.W_E"] = Wr.astype(np.float32)
    Lr = all_logits(prm_r)
    Qc, Qp = templates(p, k)
    fve_clock, fve_pizza = ev_score(Lr, Qc), ev_score(Lr, Qp)

    # embedding circles
    F = gm.basis(p)
    circles = np.zeros((len(KEYS), p, 2))
    for i, kk in enumerate(KEYS):
        c, s = F[2 * kk - 1], F[2 * kk]
        Ek = (np.outer(c, c) + np.outer(s, s)) @ W
        Uk, Sk, _ = np.linalg.svd(Ek, full_matrices=False)
        xy = Uk[:, :2] * Sk[:2]
        if xy[0, 0] < 0:
            xy[:, 0] *= -1
        if xy[1, 1] < 0:
            xy[:, 1] *= -1
        circles[i] = xy

    ex = dict(dist_irrel=dist_irrel, grad_sym=grad_sym, circularity=circularity,
              fve_clock=fve_clock, fve_pizza=fve_pizza, circle_freq=float(k))
    f64 = [("expect." + n, np.array(v, dtype=np.float64)) for n, v in ex.items()]
    f64 += [("expect.logits", L), ("expect.logits_restricted", Lr),
            ("expect.grad", np.ascontiguousarray(g)), ("expect.circles", circles),
            ("expect.logit_sd", T), ("expect.pc_eigenvalues", lam[:4].copy())]
    f32 = [(name, prm[name]) for name, _ in gm.param_table(CFG, p)]
    i32 = [("triples", tr), ("keys", np.array(KEYS, dtype=np.int32))]
    meta = {"p": str(p), "generator": GENERATOR, "seed": str(SEED), "numpy": np.__version__,
            "torch": torch.__version__}
    meta.update({kk: str(v) for kk, v in CFG.items()})
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "algo_p13.safetensors")
    gm.write_safetensors(path, f64 + f32 + i32, meta)
    print(f"{path}: {ex}; eigenvalues {lam[:5]}")


if __name__ == "__main__":
    main()
