#!/usr/bin/python3
"""gen_mlp_golden.py: writes the golden fixtures tests/golden/mlp_*.safetensors
that tests/test_mlp.c compares the C embedding MLP (model/mlp.h) and AdamW
(model/optim.h) against.  The C tests never need PyTorch; run this script only
to regenerate the committed fixtures:

    /usr/bin/python3 tests/gen_mlp_golden.py [OUTDIR]     (default: tests/golden)

The model is an independent PyTorch implementation of mlp.h: e = W_E[tokens]
[N, T, E]; x = e.reshape(N, T*E) (concat) or e.sum(1) (sum); h = act(h @ W_l +
b_l) for each hidden layer, act ReLU, exact (erf) GELU or tanh; logits = h @ W_U
+ b_U.  The loss is the mean cross-entropy of log_softmax(logits.double()).
Parameters are float32 drawn from a seeded torch.Generator (weights with
mlp.h's scales, biases 0.1 N(0, 1) so that every path is exercised); the C test
loads them from the fixture.  Tokens are [a, b] (T = 2, V = p) or [a, b, p]
(T = 3, V = p + 1), labels (a + b) mod p.

Each fixture holds, in this order (float64 tensors first; the parameters back
to back in table order, so their offsets are those of the C buffer):
  logits_f64        F64 [N, Vo]    float64 per-example loops on the float32
                                   parameters
  loss              F64 []         mean cross-entropy of `logits`
  <name>            F32            every parameter, mlp.h names, table order
  tokens            I32 [N, T]
  labels            I32 [N]
  logits            F32 [N, Vo]    the float32 torch forward
  act.hidden_last   F32 [N, H]     the last hidden layer after its activation
  embed_cls         I32 [N]        a random class per example
  embed_grad        F32 [N, T, E]  d logits[n, embed_cls[n]] / d e[n] (autograd)
  grad.<name>       F32            gradient of the mean loss at the parameters
  adamw1.<name>     F32            after one torch.optim.AdamW step
  grad1.<name>      F32            gradient at adamw1
  adamw2.<name>     F32            after the second step
and string metadata: the config (p, n_ctx, d_vocab, d_vocab_out, d_embed,
combine, n_layers, d_hidden, act), the AdamW hyperparameters (lr, beta1,
beta2, eps, weight_decay; both steps on the same batch), n_examples, seed,
torch, generator.

The safetensors writer and reader, the loss, the AdamW steps and settings,
the comparison rules and main are gen_golden.py's (the transformer's generator), so both
families are held to the same tolerances.  Before writing, the script checks
itself: the float32 torch logits against the float64 loops, the float64
torch forward against them, that the C test's tolerances accept the float64
torch computation (logits, gradients, embedding gradients, AdamW) and reject a
doubled gradient and layer-0 weights with two input rows swapped."""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import gen_golden
from gen_golden import OPTIM, adam_tol, gelu_exact, grad_ok, grad_tol, logits_ok, mean_ce

GENERATOR = "tests/gen_mlp_golden.py"

CONFIGS = [
    dict(file="mlp_concat_relu_l1", p=11, n_ctx=2, d_embed=8, combine="concat", n_layers=1,
         d_hidden=24, act="relu", n=40, seed=411),
    dict(file="mlp_sum_gelu_l2", p=7, n_ctx=3, d_embed=10, combine="sum", n_layers=2,
         d_hidden=16, act="gelu", n=30, seed=422),
    dict(file="mlp_concat_tanh_l2", p=13, n_ctx=2, d_embed=6, combine="concat", n_layers=2,
         d_hidden=20, act="tanh", n=50, seed=433),
]


def dims(c):
    V = c["p"] if c["n_ctx"] == 2 else c["p"] + 1
    d_in = c["n_ctx"] * c["d_embed"] if c["combine"] == "concat" else c["d_embed"]
    return V, c["p"], d_in


def param_table(c):
    """(name, shape, init std or None for a bias) in the order of mlp.h's table."""
    V, Vo, d_in = dims(c)
    E, H = c["d_embed"], c["d_hidden"]
    t = [("embed.W_E", (V, E), 1 / math.sqrt(E))]
    for l in range(c["n_layers"]):
        fan_in = d_in if l == 0 else H
        t += [("mlp.%d.W" % l, (fan_in, H), 1 / math.sqrt(fan_in)), ("mlp.%d.b" % l, (H,), None)]
    t += [("unembed.W_U", (H, Vo), 1 / math.sqrt(H)), ("unembed.b_U", (Vo,), None)]
    return t


def init_params(c, g):
    P = {}
    for name, shape, std in param_table(c):
        r = torch.randn(shape, generator=g, dtype=torch.float64)
        P[name] = (r * std if std else 0.1 * r).to(torch.float32)
    return P


ACTS = {"relu": torch.relu, "gelu": F.gelu, "tanh": torch.tanh}


def forward_embed(P, c, e):
    """logits [N, Vo] and the last hidden layer [N, H] from position
    embeddings e [N, T, E]."""
    h = e.reshape(e.shape[0], -1) if c["combine"] == "concat" else e.sum(1)
    for l in range(c["n_layers"]):
        h = ACTS[c["act"]](h @ P["mlp.%d.W" % l] + P["mlp.%d.b" % l])
    return h @ P["unembed.W_U"] + P["unembed.b_U"], h


def forward(P, c, tokens):
    return forward_embed(P, c, P["embed.W_E"][tokens])


def train_two_steps(P0, names, c, tokens, labels, dtype):
    """gen_golden's two AdamW steps, through this model's forward."""
    return gen_golden.train_two_steps(P0, names, c, tokens, labels, dtype, fwd=forward)


def embed_grad(P, c, tokens, cls, dtype):
    Pd = {n: v.detach().to(dtype) for n, v in P.items()}
    e = Pd["embed.W_E"][tokens].clone().requires_grad_(True)
    logits, _ = forward_embed(Pd, c, e)
    logits.gather(1, cls[:, None]).sum().backward()
    return e.grad.detach()


def ref_logits_loops(P, c, tokens):
    """Float64 logits [N, Vo] from plain per-example loops."""
    P = {k: v.detach().double().numpy() for k, v in P.items()}
    act = {"relu": lambda u: max(u, 0.0), "gelu": gelu_exact, "tanh": math.tanh}[c["act"]]
    E, H = c["d_embed"], c["d_hidden"]
    out = []
    for tok in tokens.tolist():
        if c["combine"] == "concat":
            h = [float(P["embed.W_E"][v][e]) for v in tok for e in range(E)]
        else:
            h = [sum(float(P["embed.W_E"][v][e]) for v in tok) for e in range(E)]
        for l in range(c["n_layers"]):
            W, b = P["mlp.%d.W" % l], P["mlp.%d.b" % l]
            h = [act(sum(h[k] * W[k][j] for k in range(len(h))) + b[j]) for j in range(H)]
        W, b = P["unembed.W_U"], P["unembed.b_U"]
        out.append([sum(h[j] * W[j][o] for j in range(H)) + b[o] for o in range(c["p"])])
    return np.array(out)


def self_check(c, P, tokens, labels, cls, logits32, logits_loops, tr32, eg32):
    names = [n for n, _, _ in param_table(c)]
    scale = np.max(np.abs(logits_loops))
    P64 = {n: P[n].detach().double() for n in names}
    logits64 = forward(P64, c, tokens)[0].numpy()
    err32 = np.max(np.abs(logits32 - logits_loops))
    err64 = np.max(np.abs(logits64 - logits_loops))
    print("  forward: f32 torch vs f64 loops %.2e (%.1e of max|logit| %.3f); f64 torch vs "
          "loops %.2e" % (err32, err32 / scale, scale, err64))
    assert err32 <= 1e-6 * scale and err64 <= 1e-12 * scale
    assert logits_ok(logits32.astype(np.float64), logits_loops)

    tr64 = train_two_steps(P, names, c, tokens, labels, torch.float64)
    for n in names:
        for key in ("grad", "grad1"):
            want = tr32[key][n].numpy().astype(np.float64)
            assert grad_ok(tr64[key][n].numpy(), want), "%s.%s: f64 outside tolerance" % (key, n)
            assert not grad_ok(2 * want, want), "%s.%s: a doubled gradient would pass" % (key, n)
        ref = [tr32["grad"][n].numpy(), tr32["grad1"][n].numpy()]
        other = [tr64["grad"][n].numpy(), tr64["grad1"][n].numpy()]
        for s, key in ((1, "adamw1"), (2, "adamw2")):
            tol, amb = adam_tol(ref[:s], other[:s])
            d = np.abs(tr64[key][n].numpy() - tr32[key][n].numpy())
            assert np.all(d <= tol), "%s.%s: f64 outside the AdamW tolerance" % (key, n)
    eg64 = embed_grad(P, c, tokens, cls, torch.float64).numpy()
    want = eg32.astype(np.float64)
    assert grad_ok(eg64, want) and not grad_ok(2 * want, want)
    print("  f64 torch within the gradient, AdamW and embed_grad tolerances; embed_grad err "
          "%.2e of tol %.2e" % (np.max(np.abs(eg64 - want)), grad_tol(want)))

    Ps = dict(P64)
    W0 = P64["mlp.0.W"].clone()
    W0[[0, 1]] = W0[[1, 0]]
    Ps["mlp.0.W"] = W0
    swapped = forward(Ps, c, tokens)[0].numpy()
    assert not logits_ok(swapped, logits_loops), "the fixture cannot see swapped W_0 rows"


def make_fixture(c, outdir):
    V, Vo, _ = dims(c)
    print("%s: p=%d T=%d V=%d E=%d %s L=%d H=%d %s N=%d"
          % (c["file"], c["p"], c["n_ctx"], V, c["d_embed"], c["combine"], c["n_layers"],
             c["d_hidden"], c["act"], c["n"]))
    g = torch.Generator().manual_seed(c["seed"])
    p, N = c["p"], c["n"]
    names = [n for n, _, _ in param_table(c)]
    P = init_params(c, g)
    ab = torch.randint(0, p, (N, 2), generator=g, dtype=torch.int64)
    tokens = ab if c["n_ctx"] == 2 else torch.cat([ab, torch.full((N, 1), p)], dim=1)
    labels = (ab[:, 0] + ab[:, 1]) % p
    cls = torch.randint(0, Vo, (N,), generator=g, dtype=torch.int64)

    with torch.no_grad():
        logits, hidden = forward(P, c, tokens)
        loss = mean_ce(logits, labels).item()
    logits_loops = ref_logits_loops(P, c, tokens)
    tr = train_two_steps(P, names, c, tokens, labels, torch.float32)
    eg = embed_grad(P, c, tokens, cls, torch.float32).numpy()
    self_check(c, P, tokens, labels, cls, logits.numpy(), logits_loops, tr, eg)

    f32 = lambda x: x.detach().numpy().astype(np.float32)
    i32 = lambda x: x.numpy().astype(np.int32)
    tensors = [("logits_f64", logits_loops.astype(np.float64)),
               ("loss", np.array(loss, dtype=np.float64))]
    tensors += [(n, f32(P[n])) for n in names]
    tensors += [("tokens", i32(tokens)), ("labels", i32(labels)), ("logits", f32(logits)),
                ("act.hidden_last", f32(hidden)), ("embed_cls", i32(cls)),
                ("embed_grad", eg.astype(np.float32))]
    for key in ("grad", "adamw1", "grad1", "adamw2"):
        tensors += [("%s.%s" % (key, n), f32(tr[key][n])) for n in names]
    meta = {k: str(c[k]) for k in ("p", "n_ctx", "d_embed", "combine", "n_layers", "d_hidden",
                                   "act")}
    meta.update(d_vocab=str(V), d_vocab_out=str(Vo))
    meta.update({k: repr(v) for k, v in OPTIM.items()})
    meta.update(n_examples=str(N), seed=str(c["seed"]), torch=torch.__version__,
                generator=GENERATOR)

    path, size = gen_golden.write_fixture(os.path.join(outdir, c["file"] + ".safetensors"),
                                          tensors, meta)
    print("  wrote %s (%d bytes), loss %.6f" % (path, size, loss))


if __name__ == "__main__":
    sys.exit(gen_golden.main(sys.argv, CONFIGS, make_fixture))
