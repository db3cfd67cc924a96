#!/usr/bin/env python3
"""gen_import_golden.py: the fixture of tests/test_import.c, made once with
PyTorch and committed under tests/golden/import/.

A one-layer transformer in the layout of Nanda et al.'s own code (their
Transformer class: embed.W_E [d_model, d_vocab], W_Q/W_K/W_V [n_heads,
d_head, d_model], W_O [d_model, n_heads*d_head], MLP with biases, no
LayerNorm, an unembedding over all p + 1 tokens, so 24 output columns for
p = 23) is trained on a + b mod 23 for 300 full-batch AdamW epochs on its own
random 30% split, with their loss over every output column.  tools/to_grok.py
writes checkpoints 0, 100 and 300 in the import form.  Also written: a second
split (split_b.txt), the last checkpoint as a float64 .npz (f64.npz) and as
bfloat16 (bf16.safetensors), and the numbers an independent NumPy float64
forward of the original (untransposed) weights gives, dropping the '=' column
as Nanda et al.'s analysis does: expected.tsv (loss and accuracy on both
splits) and expected_fourier.tsv (the per-frequency norms of W_E's first p
rows in the Fourier basis, docs/measures.md).

Run: /usr/bin/python3 tests/gen_import_golden.py  (needs python3-torch)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'golden', 'import')
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
import to_grok  # noqa: E402

P, D, H, DH, M, T = 23, 32, 4, 8, 64, 3
V = P + 1


class Nanda(torch.nn.Module):
    """Their Transformer, one block, no LayerNorm, ReLU."""

    def __init__(self):
        super().__init__()
        r = torch.randn
        self.embed = torch.nn.Module()
        self.embed.W_E = torch.nn.Parameter(r(D, V) / np.sqrt(D))
        self.pos_embed = torch.nn.Module()
        self.pos_embed.W_pos = torch.nn.Parameter(r(T, D) / np.sqrt(D))
        blk = torch.nn.Module()
        blk.attn = torch.nn.Module()
        blk.attn.W_K = torch.nn.Parameter(r(H, DH, D) / np.sqrt(D))
        blk.attn.W_Q = torch.nn.Parameter(r(H, DH, D) / np.sqrt(D))
        blk.attn.W_V = torch.nn.Parameter(r(H, DH, D) / np.sqrt(D))
        blk.attn.W_O = torch.nn.Parameter(r(D, DH * H) / np.sqrt(D))
        blk.attn.register_buffer('mask', torch.tril(torch.ones((T, T))))
        blk.mlp = torch.nn.Module()
        blk.mlp.W_in = torch.nn.Parameter(r(M, D) / np.sqrt(D))
        blk.mlp.b_in = torch.nn.Parameter(torch.zeros(M))
        blk.mlp.W_out = torch.nn.Parameter(r(D, M) / np.sqrt(D))
        blk.mlp.b_out = torch.nn.Parameter(torch.zeros(D))
        self.blocks = torch.nn.ModuleList([blk])
        self.unembed = torch.nn.Module()
        self.unembed.W_U = torch.nn.Parameter(r(D, V) / np.sqrt(V))

    def forward(self, x):
        x = torch.einsum('dbp->bpd', self.embed.W_E[:, x]) + self.pos_embed.W_pos[:x.shape[-1]]
        a = self.blocks[0].attn
        k = torch.einsum('ihd,bpd->biph', a.W_K, x)
        q = torch.einsum('ihd,bpd->biph', a.W_Q, x)
        v = torch.einsum('ihd,bpd->biph', a.W_V, x)
        s = torch.einsum('biph,biqh->biqp', k, q)
        s = torch.tril(s) - 1e10 * (1 - a.mask)
        att = torch.softmax(s / np.sqrt(DH), dim=-1)
        z = torch.einsum('biph,biqp->biqh', v, att)
        z = z.permute(0, 2, 1, 3).reshape(z.shape[0], T, H * DH)
        x = x + torch.einsum('df,bqf->bqd', a.W_O, z)
        m = self.blocks[0].mlp
        post = torch.relu(torch.einsum('md,bpd->bpm', m.W_in, x) + m.b_in)
        x = x + torch.einsum('dm,bpm->bpd', m.W_out, post) + m.b_out
        return x @ self.unembed.W_U


def np_forward(sd, tokens):
    """float64 NumPy forward of the original layout: logits [n, V] at '='."""
    g = {k: v.detach().double().numpy() for k, v in sd.items()}
    x = g['embed.W_E'][:, tokens].transpose(1, 2, 0) + g['pos_embed.W_pos'][None]
    k = np.einsum('ihd,bpd->biph', g['blocks.0.attn.W_K'], x)
    q = np.einsum('ihd,bpd->biph', g['blocks.0.attn.W_Q'], x)
    v = np.einsum('ihd,bpd->biph', g['blocks.0.attn.W_V'], x)
    s = np.einsum('biph,biqh->biqp', k, q) / np.sqrt(DH)
    s = np.where(np.tril(np.ones((T, T))) > 0, s, -np.inf)
    s = np.exp(s - s.max(-1, keepdims=True))
    att = s / s.sum(-1, keepdims=True)
    z = np.einsum('biph,biqp->biqh', v, att).transpose(0, 2, 1, 3).reshape(len(tokens), T, H * DH)
    x = x + np.einsum('df,bqf->bqd', g['blocks.0.attn.W_O'], z)
    post = np.maximum(np.einsum('md,bpd->bpm', g['blocks.0.mlp.W_in'], x) + g['blocks.0.mlp.b_in'], 0)
    x = x + np.einsum('dm,bpm->bpd', g['blocks.0.mlp.W_out'], post) + g['blocks.0.mlp.b_out']
    return (x @ g['unembed.W_U'])[:, -1]


def ce_acc(logits, labels):
    z = logits - logits.max(1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return -lp[np.arange(len(labels)), labels].mean(), (logits.argmax(1) == labels).mean()


def fourier_norms(W_E):
    """const, then sqrt(cos_k^2 + sin_k^2) of ||F W_E[:p]|| rows."""
    x = np.arange(P)
    F = [np.ones(P)]
    for k in range(1, P // 2 + 1):
        F += [np.cos(2 * np.pi * (k * x % P) / P), np.sin(2 * np.pi * (k * x % P) / P)]
    F = np.array([f / np.linalg.norm(f) for f in F])
    c = np.linalg.norm(F @ W_E, axis=1)
    return [c[0]] + [np.hypot(c[2 * k - 1], c[2 * k]) for k in range(1, P // 2 + 1)]


def main():
    torch.manual_seed(0)
    model = Nanda()
    pairs = np.array([(a, b) for a in range(P) for b in range(P)])
    tokens_all = np.concatenate([pairs, np.full((P * P, 1), P)], 1)
    labels_all = (pairs[:, 0] + pairs[:, 1]) % P
    perm = torch.randperm(P * P).numpy()
    n_train = int(0.3 * P * P)
    train_a, test_a = perm[:n_train], perm[n_train:]
    perm_b = np.random.default_rng(7).permutation(P * P)
    train_b, test_b = perm_b[:n_train], perm_b[n_train:]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
    X, Y = torch.tensor(tokens_all), torch.tensor(labels_all)
    ckpts, ck_epochs, tr_l, te_l = [], [], [], []
    for ep in range(301):
        if ep in (0, 100, 300):
            ckpts.append({k: v.detach().clone() for k, v in model.state_dict().items()})
            ck_epochs.append(ep)
        logits = model(X)[:, -1].double()
        lp = logits.log_softmax(-1)
        loss = -lp[train_a, Y[train_a]].mean()
        tr_l.append(loss.item())
        te_l.append(-lp[test_a, Y[test_a]].mean().item())
        if ep == 300:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    saved = {'model': ckpts[-1], 'checkpoints': ckpts, 'checkpoint_epochs': ck_epochs,
             'train_losses': tr_l, 'test_losses': te_l, 'train_data': [tuple(pairs[i]) + (P,) for i in train_a]}
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        pt = os.path.join(td, 'nanda.pt')
        torch.save(saved, pt)
        # the shipped script, as a user would run it
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'tools', 'to_grok.py'), pt,
                        '--out', OUT], check=True)
    with open(os.path.join(OUT, 'split_b.txt'), 'w') as f:
        f.write('# a second split: training pairs a b\n')
        for i in train_b:
            f.write(f'{pairs[i][0]} {pairs[i][1]}\n')
    last = to_grok.to_tl(ckpts[-1])
    np.savez(os.path.join(OUT, 'f64.npz'), **{k: v.double().numpy() for k, v in last.items()})
    to_grok.write_safetensors(os.path.join(OUT, 'bf16.safetensors'),
                              {k: to_grok.tensor_bytes(v.bfloat16(), True) for k, v in last.items()},
                              {'epoch': '300'})
    with open(os.path.join(OUT, 'expected.tsv'), 'w') as f:
        f.write('# NumPy float64 forward of the original weights, logits[:, :p] (gen_import_golden.py)\n')
        f.write('split\tepoch\tloss_train\tloss_test\tacc_train\tacc_test\n')
        for name, (tr, te) in (('a', (train_a, test_a)), ('b', (train_b, test_b))):
            for sd, ep in zip(ckpts, ck_epochs):
                lg = np_forward(sd, tokens_all)[:, :P]
                l1, a1 = ce_acc(lg[tr], labels_all[tr])
                l2, a2 = ce_acc(lg[te], labels_all[te])
                f.write(f'{name}\t{ep}\t{l1:.17g}\t{l2:.17g}\t{a1:.17g}\t{a2:.17g}\n')
    with open(os.path.join(OUT, 'expected_fourier.tsv'), 'w') as f:
        f.write('epoch\tconst\t' + '\t'.join(f'freq_{k}' for k in range(1, P // 2 + 1)) + '\n')
        for sd, ep in zip(ckpts, ck_epochs):
            n = fourier_norms(sd['embed.W_E'].double().numpy()[:, :P].T)
            f.write(f'{ep}\t' + '\t'.join(f'{v:.17g}' for v in n) + '\n')
    print('torch train loss at epoch 300:', tr_l[-1], 'test loss:', te_l[-1])
    print('wrote', OUT)


if __name__ == '__main__':
    main()
