#!/usr/bin/python3
"""gen_golden.py: writes the golden fixtures tests/golden/tfm_*.safetensors that
tests/test_golden.c compares the C transformer (model/tfm.h) and AdamW
(model/optim.h) against.  The C tests never need PyTorch; run this script only
to regenerate the committed fixtures:

    /usr/bin/python3 tests/gen_golden.py [OUTDIR]     (default: tests/golden)

The model is an independent PyTorch implementation of tfm.h in TransformerLens
(HookedTransformer) conventions: resid = W_E[tok] + W_pos; per block an
optional pre-LayerNorm ((x - mean) / sqrt(var_biased + 1e-5) * w + b),
multi-head attention scaled by 1/sqrt(Dh) with optional biases b_Q, b_K, b_V,
b_O, causal or not (model.causal), its weights attn_rate * softmax +
(1 - attn_rate) on the allowed positions (model.attn_rate, Zhong et al. 2023;
1 = the softmax), an MLP with ReLU or exact (erf) GELU; an optional final
LayerNorm and logits = x[:, -1] @ W_U.  Tokens are [a, b, '='=p] (layout
"a b =", V = p + 1) or [a, b] (layout "a b", V = p).  The loss is the mean cross-entropy of
log_softmax(logits.double()), as in Nanda et al. (2023).  Parameters are float32
and drawn from a seeded torch.Generator (not the C initialisation: the C test
loads them from the fixture), with non-trivial LayerNorm scales and biases so
that every path is exercised.

Each fixture holds, in this order (float64 tensors first, as the reference
writer aligns them; the parameters back to back in table order, so their
offsets are those of the C parameter buffer):
  logits_f64                    F64   [N, Vo] float64 forward of the float32
                                              parameters (plain per-example loops)
  loss                          F64   []      mean cross-entropy of `logits`
  <name>                        F32   every parameter, tfm.h names and table order
  tokens                        I32   [N, T]  rows [a, b, p] (T = 3) or [a, b]
  labels                        I32   [N]     (a + b) mod p
  logits                        F32   [N, Vo] the float32 torch forward
  act.blocks.<l>.attn.pattern_last F32 [N, H, T] attention weights of the last
                                              query position (after the attn_rate
                                              mix), every layer
  act.mlp_post_last             F32   [N, M]  MLP activation output of the last
                                              layer at the last position
  grad.<name>                   F32   gradient of the mean loss at the parameters
  adamw1.<name>                 F32   parameters after one torch.optim.AdamW step
  grad1.<name>                  F32   gradient of the mean loss at adamw1
  adamw2.<name>                 F32   parameters after the second AdamW step
and string metadata: the model config (p, n_layers, d_model, n_heads, d_head,
d_mlp, act, layernorm, attn_bias; causal, attn_rate and layout only where they
differ from the defaults 1, 1.0 and "a b =", so the first fixtures are written
unchanged), the AdamW hyperparameters (lr, beta1, beta2, eps, weight_decay; no
warmup, both steps on the same batch), n_examples, seed, torch (version) and
generator.

Safetensors is written by hand (there is no safetensors package here), following
the reference writer: compact JSON header with __metadata__ first, padded with
spaces to a multiple of 8, tensors back to back, offsets relative to the data
section; the file is read back and checked after writing.

Before writing, the script checks itself: the float32 torch logits against
per-example float64 loops (1e-6 of the largest logit), the float64 torch forward
against the same loops (1e-12), and that the tolerances test_golden.c uses
accept the float64 torch computation (a stand-in for an independent
implementation) while rejecting swapped W_Q/W_K (W_K/W_V with attn_rate 0,
where the queries and keys do not matter) and doubled gradients."""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

GENERATOR = "tests/gen_golden.py"

CONFIGS = [
    dict(file="tfm_l1_relu", p=11, n_layers=1, d_model=16, n_heads=2, d_head=8, d_mlp=32,
         act="relu", layernorm=0, attn_bias=0, n=40, seed=101),
    dict(file="tfm_l2_gelu_ln", p=7, n_layers=2, d_model=12, n_heads=3, d_head=4, d_mlp=24,
         act="gelu", layernorm=1, attn_bias=1, n=30, seed=202),
    dict(file="tfm_l1_relu_ln", p=13, n_layers=1, d_model=16, n_heads=4, d_head=4, d_mlp=20,
         act="relu", layernorm=1, attn_bias=0, n=50, seed=303),
    # model.causal = false (2 layers: with one, the last query sees every
    # position either way) and model.attn_rate 0 and 0.5, causal or not
    dict(file="tfm_l2_bidir", p=7, n_layers=2, d_model=12, n_heads=3, d_head=4, d_mlp=24,
         act="gelu", layernorm=1, attn_bias=1, n=30, seed=404, causal=0),
    dict(file="tfm_l2_rate0", p=11, n_layers=2, d_model=16, n_heads=2, d_head=8, d_mlp=32,
         act="relu", layernorm=0, attn_bias=0, n=40, seed=505, attn_rate=0.0),
    dict(file="tfm_l2_rate0_bidir", p=7, n_layers=2, d_model=12, n_heads=3, d_head=4, d_mlp=24,
         act="gelu", layernorm=1, attn_bias=1, n=30, seed=606, causal=0, attn_rate=0.0),
    dict(file="tfm_l2_rate05", p=13, n_layers=2, d_model=16, n_heads=4, d_head=4, d_mlp=20,
         act="relu", layernorm=1, attn_bias=0, n=40, seed=707, attn_rate=0.5),
    dict(file="tfm_l2_rate05_bidir", p=11, n_layers=2, d_model=12, n_heads=3, d_head=4,
         d_mlp=24, act="gelu", layernorm=0, attn_bias=1, n=30, seed=808, causal=0,
         attn_rate=0.5),
    # the layout of Zhong et al. 2023, [a, b] without '=', no mask: their
    # pizza (attn_rate 0) and clock (1) models in small, and 2 layers at 0.5
    dict(file="tfm_ab_l1_rate0_bidir", p=13, n_layers=1, d_model=16, n_heads=4, d_head=4,
         d_mlp=32, act="relu", layernorm=0, attn_bias=0, n=50, seed=909, causal=0,
         attn_rate=0.0, layout="a b"),
    dict(file="tfm_ab_l1_bidir", p=13, n_layers=1, d_model=16, n_heads=4, d_head=4, d_mlp=32,
         act="relu", layernorm=0, attn_bias=0, n=50, seed=1010, causal=0, layout="a b"),
    dict(file="tfm_ab_l2_rate05_bidir", p=11, n_layers=2, d_model=12, n_heads=3, d_head=4,
         d_mlp=24, act="gelu", layernorm=1, attn_bias=1, n=40, seed=1111, causal=0,
         attn_rate=0.5, layout="a b"),
]
# keys a config may leave out, with their defaults (written to the metadata
# only when a config differs)
DEFAULTS = dict(causal=1, attn_rate=1.0, layout="a b =")
OPTIM = dict(lr=1e-2, beta1=0.9, beta2=0.98, eps=1e-8, weight_decay=1.0)
LN_EPS = 1e-5

# The tolerances of tests/test_golden.c (its comments give the reasons); the
# self-check below applies them to the float64 computation.
TOL_LOGIT_ABS, TOL_LOGIT_REL = 1e-5, 1e-4
TOL_GRAD_REL_MAX, TOL_GRAD_ABS = 1e-4, 1e-6
TOL_ADAM_ABS = 1e-5
ADAM_FLIP = 2.01  # a sign-ambiguous element may move by up to this * lr per step


def opt(c, key):
    """c's value of an optional key (DEFAULTS)."""
    return c.get(key, DEFAULTS[key])


def n_ctx(c):
    return 2 if opt(c, "layout") == "a b" else 3


def d_vocab(c):
    return c["p"] if opt(c, "layout") == "a b" else c["p"] + 1


def param_table(c):
    """(name, shape, kind) in the order of tfm.h's table."""
    V, Vo, D, H, Dh, M = d_vocab(c), c["p"], c["d_model"], c["n_heads"], c["d_head"], c["d_mlp"]
    t = [("embed.W_E", (V, D), "W"), ("pos_embed.W_pos", (n_ctx(c), D), "W")]
    for l in range(c["n_layers"]):
        b = "blocks.%d." % l
        if c["layernorm"]:
            t += [(b + "ln1.w", (D,), "ln_w"), (b + "ln1.b", (D,), "bias")]
        t += [(b + "attn.W_Q", (H, D, Dh), "W"), (b + "attn.W_K", (H, D, Dh), "W"),
              (b + "attn.W_V", (H, D, Dh), "W"), (b + "attn.W_O", (H, Dh, D), "W")]
        if c["attn_bias"]:
            t += [(b + "attn.b_Q", (H, Dh), "bias"), (b + "attn.b_K", (H, Dh), "bias"),
                  (b + "attn.b_V", (H, Dh), "bias"), (b + "attn.b_O", (D,), "bias")]
        if c["layernorm"]:
            t += [(b + "ln2.w", (D,), "ln_w"), (b + "ln2.b", (D,), "bias")]
        t += [(b + "mlp.W_in", (D, M), "W"), (b + "mlp.b_in", (M,), "bias"),
              (b + "mlp.W_out", (M, D), "W"), (b + "mlp.b_out", (D,), "bias")]
    if c["layernorm"]:
        t += [("ln_final.w", (D,), "ln_w"), ("ln_final.b", (D,), "bias")]
    t += [("unembed.W_U", (D, Vo), "W_U")]
    return t


def init_params(c, g):
    """Float32 parameters: weights N(0, 1/D), W_U N(0, 1/V), LayerNorm scales
    1 + 0.1 N(0,1), every bias 0.1 N(0,1)."""
    D, V = c["d_model"], d_vocab(c)
    P = {}
    for name, shape, kind in param_table(c):
        r = torch.randn(shape, generator=g, dtype=torch.float64)
        if kind == "W":
            x = r / math.sqrt(D)
        elif kind == "W_U":
            x = r / math.sqrt(V)
        elif kind == "ln_w":
            x = 1.0 + 0.1 * r
        else:
            x = 0.1 * r
        P[name] = x.to(torch.float32)
    return P


def layer_norm(x, w, b):
    x = x - x.mean(-1, keepdim=True)
    scale = (x.pow(2).mean(-1, keepdim=True) + LN_EPS).sqrt()
    return x / scale * w + b


def forward(P, c, tokens):
    """logits [N, Vo], attention patterns of the last query [L][N, H, T], MLP
    post of the last layer at the last position [N, M]."""
    T, Dh = tokens.shape[1], c["d_head"]
    resid = P["embed.W_E"][tokens] + P["pos_embed.W_pos"][None]           # [N,T,D]
    # masked: k > q when causal, nothing otherwise
    masked = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1 if opt(c, "causal") else T)
    rate = opt(c, "attn_rate")
    patterns, post = [], None
    for l in range(c["n_layers"]):
        b = "blocks.%d." % l
        x = layer_norm(resid, P[b + "ln1.w"], P[b + "ln1.b"]) if c["layernorm"] else resid
        q = torch.einsum("ntd,hde->nthe", x, P[b + "attn.W_Q"])
        k = torch.einsum("ntd,hde->nthe", x, P[b + "attn.W_K"])
        v = torch.einsum("ntd,hde->nthe", x, P[b + "attn.W_V"])
        if c["attn_bias"]:
            q, k, v = q + P[b + "attn.b_Q"], k + P[b + "attn.b_K"], v + P[b + "attn.b_V"]
        scores = torch.einsum("nqhe,nkhe->nhqk", q, k) / math.sqrt(Dh)
        pattern = torch.softmax(scores.masked_fill(masked, float("-inf")), dim=-1)
        if rate != 1:
            pattern = rate * pattern + (1 - rate) * (~masked).to(pattern.dtype)
        z = torch.einsum("nhqk,nkhe->nqhe", pattern, v)
        attn_out = torch.einsum("nqhe,hed->nqd", z, P[b + "attn.W_O"])
        if c["attn_bias"]:
            attn_out = attn_out + P[b + "attn.b_O"]
        resid = resid + attn_out
        x = layer_norm(resid, P[b + "ln2.w"], P[b + "ln2.b"]) if c["layernorm"] else resid
        pre = x @ P[b + "mlp.W_in"] + P[b + "mlp.b_in"]
        post = torch.relu(pre) if c["act"] == "relu" else F.gelu(pre)
        resid = resid + post @ P[b + "mlp.W_out"] + P[b + "mlp.b_out"]
        patterns.append(pattern[:, :, -1, :])
    x = layer_norm(resid, P["ln_final.w"], P["ln_final.b"]) if c["layernorm"] else resid
    return x[:, -1] @ P["unembed.W_U"], patterns, post[:, -1, :]


def mean_ce(logits, labels):
    """Mean cross-entropy in float64 (float32 log-softmax underflows)."""
    return -F.log_softmax(logits.double(), dim=-1).gather(1, labels[:, None].long()).mean()


def loss_and_grads(P, names, c, tokens, labels, fwd=forward):
    """The loss and the gradients of P's tensors `names`; fwd(P, c, tokens)
    returns the logits first (gen_mlp_golden.py passes the MLP's)."""
    for n in names:
        P[n].grad = None
    logits = fwd(P, c, tokens)[0]
    loss = mean_ce(logits, labels)
    loss.backward()
    return loss.item(), {n: P[n].grad.detach().clone() for n in names}


def train_two_steps(P0, names, c, tokens, labels, dtype, fwd=forward):
    """Gradient at P0, one AdamW step, gradient there, a second step."""
    P = {n: P0[n].detach().to(dtype).clone().requires_grad_(True) for n in names}
    opt = torch.optim.AdamW([P[n] for n in names], lr=OPTIM["lr"],
                            betas=(OPTIM["beta1"], OPTIM["beta2"]), eps=OPTIM["eps"],
                            weight_decay=OPTIM["weight_decay"], foreach=False)
    out = {}
    _, out["grad"] = loss_and_grads(P, names, c, tokens, labels, fwd)
    opt.step()
    out["adamw1"] = {n: P[n].detach().clone() for n in names}
    _, out["grad1"] = loss_and_grads(P, names, c, tokens, labels, fwd)
    opt.step()
    out["adamw2"] = {n: P[n].detach().clone() for n in names}
    return out


def gelu_exact(x):
    return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))


def ref_logits_loops(P, c, tokens):
    """Float64 logits [N, Vo] from plain per-example loops, all positions."""
    L, H, Dh, M = c["n_layers"], c["n_heads"], c["d_head"], c["d_mlp"]
    P = {k: v.detach().double().numpy() for k, v in P.items()}

    def ln(x, w, b):
        mu = sum(x) / len(x)
        var = sum((xi - mu) ** 2 for xi in x) / len(x)
        return np.array([(x[i] - mu) / math.sqrt(var + LN_EPS) * w[i] + b[i]
                         for i in range(len(x))])

    out = np.zeros((tokens.shape[0], c["p"]))
    for n, tok in enumerate(tokens.tolist()):
        T = len(tok)
        resid = [P["embed.W_E"][tok[t]] + P["pos_embed.W_pos"][t] for t in range(T)]
        for l in range(L):
            b = "blocks.%d." % l
            x = [ln(r, P[b + "ln1.w"], P[b + "ln1.b"]) if c["layernorm"] else r for r in resid]
            new = []
            for qp in range(T):
                a = np.zeros(c["d_model"]) + (P[b + "attn.b_O"] if c["attn_bias"] else 0.0)
                for h in range(H):
                    def proj(W, t):
                        y = np.array([sum(x[t][d] * P[b + "attn." + W][h, d, e]
                                          for d in range(c["d_model"])) for e in range(Dh)])
                        if c["attn_bias"]:
                            y = y + P[b + "attn.b_" + W[2]][h]
                        return y
                    q = proj("W_Q", qp)
                    keys = range(qp + 1) if opt(c, "causal") else range(T)
                    s = [float(np.dot(q, proj("W_K", kp))) / math.sqrt(Dh) for kp in keys]
                    smax = max(s)
                    e = [math.exp(si - smax) for si in s]
                    rate = opt(c, "attn_rate")
                    z = sum((rate * (e[kp] / sum(e)) + (1 - rate)) * proj("W_V", kp) for kp in keys)
                    a = a + np.array([sum(z[j] * P[b + "attn.W_O"][h, j, d] for j in range(Dh))
                                      for d in range(c["d_model"])])
                new.append(resid[qp] + a)
            resid = new
            for t in range(T):
                x = ln(resid[t], P[b + "ln2.w"], P[b + "ln2.b"]) if c["layernorm"] else resid[t]
                pre = [float(np.dot(x, P[b + "mlp.W_in"][:, m])) + P[b + "mlp.b_in"][m]
                       for m in range(M)]
                post = [max(u, 0.0) if c["act"] == "relu" else gelu_exact(u) for u in pre]
                resid[t] = resid[t] + np.array(
                    [sum(post[m] * P[b + "mlp.W_out"][m, d] for m in range(M))
                     for d in range(c["d_model"])]) + P[b + "mlp.b_out"]
        x = resid[T - 1]
        if c["layernorm"]:
            x = ln(x, P["ln_final.w"], P["ln_final.b"])
        out[n] = [float(np.dot(x, P["unembed.W_U"][:, j])) for j in range(c["p"])]
    return out


# --- the comparison rules of tests/test_golden.c, for the self-check ---------

def logits_ok(got, want):
    return bool(np.all(np.abs(got - want) <= TOL_LOGIT_ABS + TOL_LOGIT_REL * np.abs(want)))


def grad_tol(want):
    return TOL_GRAD_REL_MAX * np.max(np.abs(want)) + TOL_GRAD_ABS


def grad_ok(got, want):
    return bool(np.all(np.abs(got - want) <= grad_tol(want)))


def adam_tol(ref, other):
    """Per element after len(ref) steps: 1e-5, plus ADAM_FLIP*lr per step when
    at some step so far the reference gradient is within the gradient
    tolerance of zero, unless both gradients are exactly zero there (then
    m/sqrt(v) gets no contribution in either).  ref, other: the gradients of
    the steps so far."""
    amb = np.zeros(ref[0].shape, dtype=bool)
    for g, h in zip(ref, other):
        amb |= (np.abs(g) <= grad_tol(g)) & ((g != 0) | (h != 0))
    return TOL_ADAM_ABS + amb * ADAM_FLIP * OPTIM["lr"] * len(ref), amb


def self_check(c, P, tokens, labels, logits32, logits_loops, tr32):
    names = [n for n, _, _ in param_table(c)]
    # (1) the float32 forward against the loops, the float64 forward too.
    scale = np.max(np.abs(logits_loops))
    err32 = np.max(np.abs(logits32 - logits_loops))
    P64 = {n: P[n].detach().double() for n in names}
    logits64 = forward(P64, c, tokens)[0].numpy()
    err64 = np.max(np.abs(logits64 - logits_loops))
    print("  forward: f32 torch vs f64 loops %.2e (%.1e of max|logit| %.3f); "
          "f64 torch vs loops %.2e" % (err32, err32 / scale, scale, err64))
    assert err32 <= 1e-6 * scale, "float32 forward disagrees with the float64 loops"
    assert err64 <= 1e-12 * scale, "float64 forward disagrees with the float64 loops"
    assert logits_ok(logits32.astype(np.float64), logits_loops)

    # (2) the C test's tolerances accept an independent (float64) computation.
    tr64 = train_two_steps(P, names, c, tokens, labels, torch.float64)
    worst = {}
    for n in names:
        for key in ("grad", "grad1"):
            want = tr32[key][n].numpy().astype(np.float64)
            got = tr64[key][n].numpy()
            assert grad_ok(got, want), "%s.%s: f64 outside the gradient tolerance" % (key, n)
            worst[key] = max(worst.get(key, 0.0),
                             np.max(np.abs(got - want)) / grad_tol(want))
        ref = [tr32["grad"][n].numpy(), tr32["grad1"][n].numpy()]
        other = [tr64["grad"][n].numpy(), tr64["grad1"][n].numpy()]
        for s, key in ((1, "adamw1"), (2, "adamw2")):
            tol, amb = adam_tol(ref[:s], other[:s])
            d = np.abs(tr64[key][n].numpy() - tr32[key][n].numpy())
            assert np.all(d <= tol), "%s.%s: f64 outside the AdamW tolerance" % (key, n)
            worst[key] = max(worst.get(key, 0.0), np.max(d[amb == 0], initial=0.0))
        if amb.any():
            print("  %s: %d of %d elements have a sign-ambiguous gradient"
                  % (n, int((amb > 0).sum()), amb.size))
    print("  f64 vs f32 torch: grad err/tol %.2e, grad1 err/tol %.2e, "
          "adamw1 %.2e, adamw2 %.2e (unambiguous elements)"
          % (worst["grad"], worst["grad1"], worst["adamw1"], worst["adamw2"]))

    # (3) ... and reject a swapped W_Q/W_K (W_K/W_V at attn_rate 0) and a
    # doubled gradient.
    x, y = swapped_pair(c)
    Ps = dict(P64)
    Ps["blocks.0.attn." + x] = P64["blocks.0.attn." + y]
    Ps["blocks.0.attn." + y] = P64["blocks.0.attn." + x]
    swapped = forward(Ps, c, tokens)[0].numpy()
    tol = TOL_LOGIT_ABS + TOL_LOGIT_REL * np.abs(logits_loops)
    d = np.max(np.abs(swapped - logits_loops) / tol)
    print("  swapped %s/%s: worst logit error = %.0f x tolerance" % (x, y, d))
    assert d > 10, "the fixture cannot tell %s from %s" % (x, y)
    for n in names:
        want = tr32["grad"][n].numpy().astype(np.float64)
        if np.max(np.abs(want)) <= 10 * TOL_GRAD_ABS:
            # zero in exact arithmetic (b_K's; W_Q's, W_K's, b_Q's at
            # attn_rate 0): scaling cannot show, as in test_golden.c
            assert n.endswith(("attn.b_K", "attn.b_Q", "attn.W_Q", "attn.W_K")), n
            continue
        assert not grad_ok(2 * want, want), "%s: a doubled gradient would pass" % n
    if opt(c, "attn_rate") == 0:
        for n in names:
            if n.endswith(("attn.W_Q", "attn.W_K", "attn.b_Q", "attn.b_K")):
                assert not tr32["grad"][n].any(), "%s: attn_rate 0 yet a gradient" % n


def swapped_pair(c):
    """The two same-shaped block-0 tensors whose swap must change the logits."""
    return ("W_K", "W_V") if opt(c, "attn_rate") == 0 else ("W_Q", "W_K")


# --- safetensors -------------------------------------------------------------

ST_DTYPES = {np.dtype(np.float32): ("F32", "<f4"), np.dtype(np.float64): ("F64", "<f8"),
             np.dtype(np.int32): ("I32", "<i4")}


def st_serialize(tensors, meta):
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, a in tensors:
        assert name not in header, "duplicate tensor name " + name
        code, le = ST_DTYPES[a.dtype]
        b = np.ascontiguousarray(a, dtype=le).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def st_parse(raw):
    """Independent reader applying the reference loader's checks."""
    assert len(raw) >= 8
    (hn,) = struct.unpack("<Q", raw[:8])
    assert hn <= 100_000_000 and 8 + hn <= len(raw)
    header = json.loads(raw[8:8 + hn].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    rev = {v[0]: (k, v[1]) for k, v in ST_DTYPES.items()}
    data, end, out = raw[8 + hn:], 0, {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b0, b1 = e["data_offsets"]
        dt, le = rev[e["dtype"]]
        assert b0 == end and b1 - b0 == int(np.prod(e["shape"], dtype=np.int64)) * dt.itemsize
        out[name] = np.frombuffer(data[b0:b1], dtype=le).reshape(e["shape"])
        end = b1
    assert end == len(data), "trailing or missing bytes"
    return out, meta


def write_atomic(path, raw):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def write_fixture(path, tensors, meta):
    """Serialises, reads back and compares, then writes atomically; returns
    (path, size in bytes)."""
    raw = st_serialize(tensors, meta)
    back, back_meta = st_parse(raw)
    assert back_meta == meta and sorted(back) == sorted(n for n, _ in tensors)
    for n, a in tensors:
        assert back[n].dtype == a.dtype.newbyteorder("<") and np.array_equal(back[n], a), n
    assert len(raw) < 200_000
    write_atomic(path, raw)
    return path, len(raw)


# --- one fixture -------------------------------------------------------------

def make_fixture(c, outdir):
    print("%s: p=%d L=%d D=%d H=%d Dh=%d M=%d %s layernorm=%d attn_bias=%d N=%d causal=%d "
          "attn_rate=%g layout=%s"
          % (c["file"], c["p"], c["n_layers"], c["d_model"], c["n_heads"], c["d_head"],
             c["d_mlp"], c["act"], c["layernorm"], c["attn_bias"], c["n"], opt(c, "causal"),
             opt(c, "attn_rate"), opt(c, "layout")))
    g = torch.Generator().manual_seed(c["seed"])
    p, N = c["p"], c["n"]
    table = param_table(c)
    names = [n for n, _, _ in table]
    P = init_params(c, g)
    ab = torch.randint(0, p, (N, 2), generator=g, dtype=torch.int64)
    tokens = ab if n_ctx(c) == 2 else torch.cat([ab, torch.full((N, 1), p, dtype=torch.int64)],
                                                 dim=1)
    labels = (ab[:, 0] + ab[:, 1]) % p

    with torch.no_grad():
        logits, patterns, post = forward(P, c, tokens)
        loss = mean_ce(logits, labels).item()
    logits_loops = ref_logits_loops(P, c, tokens)
    tr = train_two_steps(P, names, c, tokens, labels, torch.float32)
    self_check(c, P, tokens, labels, logits.numpy(), logits_loops, tr)

    f32 = lambda x: x.detach().numpy().astype(np.float32)
    # Float64 tensors first, so that they lie 8-aligned in the data section.
    tensors = [("logits_f64", logits_loops.astype(np.float64)),
               ("loss", np.array(loss, dtype=np.float64))]
    tensors += [(n, f32(P[n])) for n in names]
    tensors += [("tokens", tokens.numpy().astype(np.int32)),
                ("labels", labels.numpy().astype(np.int32)),
                ("logits", f32(logits))]
    tensors += [("act.blocks.%d.attn.pattern_last" % l, f32(patterns[l]))
                for l in range(c["n_layers"])]
    tensors += [("act.mlp_post_last", f32(post))]
    for key in ("grad", "adamw1", "grad1", "adamw2"):
        tensors += [("%s.%s" % (key, n), f32(tr[key][n])) for n in names]
    meta = {k: str(c[k]) for k in ("p", "n_layers", "d_model", "n_heads", "d_head", "d_mlp",
                                   "act", "layernorm", "attn_bias")}
    meta.update({k: (v if isinstance(v, str) else repr(v)) for k, v in
                 ((k, opt(c, k)) for k in DEFAULTS) if v != DEFAULTS[k]})
    meta.update({k: repr(v) for k, v in OPTIM.items()})
    meta.update(n_examples=str(N), seed=str(c["seed"]), torch=torch.__version__,
                generator=GENERATOR)

    path, size = write_fixture(os.path.join(outdir, c["file"] + ".safetensors"), tensors, meta)
    print("  wrote %s (%d bytes), loss %.6f, %d parameters"
          % (path, size, loss, sum(int(np.prod(s)) for _, s, _ in table)))


def main(argv, configs=CONFIGS, make=make_fixture):
    """Writes make(c, outdir) for every c in configs (gen_mlp_golden.py passes
    its own); OUTDIR = argv[1] or tests/golden."""
    torch.set_num_threads(1)
    outdir = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                         "golden")
    os.makedirs(outdir, exist_ok=True)
    for c in configs:
        make(c, outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
