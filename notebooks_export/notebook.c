/* notebook.c: the cells of the run and sweep notebooks (notebook.h).
 *
 * The Python of the code cells is kept below as C string constants, one per
 * cell, exactly as it appears in the notebook.  The only values spliced into
 * code are the run (or sweep) directory, as a Python string literal; all
 * other numbers are read by the code itself from the run's files, so the
 * notebook stays right if the run is resumed and its files change.  The
 * markdown cells (summary table, figure captions) are written from
 * config.cfg and summary.json at export time. */
#include "notebook.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipynb.h"

/* Larger figures are left out of the notebook (named in a note). */
#define NOTEBOOK_FIGURE_MAX (20u << 20)

/* ------------------------------------------------------------------------ */
/* the code cells */

static const char NB_SETUP_HEAD[] =
    "import json\n"
    "import math\n"
    "import re\n"
    "from pathlib import Path\n"
    "\n"
    "import numpy as np\n"
    "import pandas as pd\n"
    "import matplotlib.pyplot as plt\n"
    "\n"
    "# The run directory, relative to this notebook (as grok export wrote it);\n"
    "# change it if you move one without the other.\n";

static const char NB_SETUP_TAIL[] =
    "assert (RUN_DIR / 'metrics.tsv').exists(), f'no metrics.tsv in {RUN_DIR.resolve()}'\n"
    "print('run directory:', RUN_DIR.resolve())";

static const char NB_TABLES[] =
    "metrics = pd.read_csv(RUN_DIR / 'metrics.tsv', sep='\\t')\n"
    "measures = (pd.read_csv(RUN_DIR / 'measures.tsv', sep='\\t')\n"
    "            if (RUN_DIR / 'measures.tsv').exists() else None)\n"
    "summary = (json.loads((RUN_DIR / 'summary.json').read_text())\n"
    "           if (RUN_DIR / 'summary.json').exists() else {})\n"
    "print(f'metrics.tsv: {len(metrics)} rows; columns {\", \".join(metrics.columns)}')\n"
    "if measures is not None:\n"
    "    print(f'measures.tsv: {len(measures)} rows; columns {\", \".join(measures.columns)}')\n"
    "metrics.tail()";

static const char NB_CURVES[] =
    "def mark_epochs(ax):\n"
    "    \"\"\"Vertical lines at the memorised and grokked epochs of summary.json.\"\"\"\n"
    "    for key, style in (('memorised_epoch', ':'), ('grokked_epoch', '--')):\n"
    "        if summary.get(key) is not None:\n"
    "            ax.axvline(summary[key], color='grey', linestyle=style, linewidth=1,\n"
    "                       label=key.replace('_', ' '))\n"
    "\n"
    "\n"
    "fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))\n"
    "ax_loss.plot(metrics.epoch, metrics.train_loss, label='train')\n"
    "ax_loss.plot(metrics.epoch, metrics.test_loss, label='test')\n"
    "ax_loss.set_yscale('log')\n"
    "ax_loss.set(xlabel='epoch', ylabel='cross-entropy loss', title='loss')\n"
    "ax_acc.plot(metrics.epoch, metrics.train_acc, label='train')\n"
    "ax_acc.plot(metrics.epoch, metrics.test_acc, label='test')\n"
    "ax_acc.set(xlabel='epoch', ylabel='accuracy', title='accuracy', ylim=(-0.02, 1.02))\n"
    "for ax in (ax_loss, ax_acc):\n"
    "    mark_epochs(ax)\n"
    "    ax.legend()\n"
    "plt.tight_layout()\n"
    "plt.show()";

static const char NB_PROGRESS[] =
    "columns = ['loss_train', 'loss_test', 'loss_restricted', 'loss_excluded']\n"
    "if measures is not None and set(columns) <= set(measures.columns):\n"
    "    fig, ax = plt.subplots(figsize=(7, 3.8))\n"
    "    for c in columns:\n"
    "        ax.plot(measures.epoch, measures[c], label=c[len('loss_'):])\n"
    "    ax.set_yscale('log')\n"
    "    ax.set(xlabel='epoch', ylabel='cross-entropy loss',\n"
    "           title='progress measures: restricted and excluded loss')\n"
    "    start = 0\n"
    "    phases = summary.get('phases') or {}\n"
    "    for key, color in (('memorisation_end', 'C0'), ('circuit_formation_end', 'C1'),\n"
    "                       ('cleanup_end', 'C2')):\n"
    "        if phases.get(key) is not None:\n"
    "            ax.axvspan(start, phases[key], color=color, alpha=0.08,\n"
    "                       label=key[:-len('_end')].replace('_', ' '))\n"
    "            start = phases[key]\n"
    "    ax.legend(fontsize='small')\n"
    "    plt.show()\n"
    "else:\n"
    "    print('measures.tsv has no restricted/excluded losses (a task without Fourier '\n"
    "          'measures, or no measures yet: grok measure DIR computes them)')";

static const char NB_READER[] =
    "SAFETENSORS_DTYPES = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4',\n"
    "                      'I16': '<i2', 'I8': 'i1', 'U8': 'u1', 'BOOL': '?'}\n"
    "\n"
    "\n"
    "def load_safetensors(path):\n"
    "    \"\"\"Reads a safetensors file with NumPy alone.\n"
    "\n"
    "    Layout: a u64 little-endian header length N, N bytes of JSON\n"
    "    {name: {\"dtype\", \"shape\", \"data_offsets\": [begin, end]}, \"__metadata__\": {...}},\n"
    "    then the tensors' bytes, offsets counted from byte 8 + N.\n"
    "    Returns (tensors, metadata): read-only arrays over the file's bytes, in\n"
    "    file order, and a dict of strings.\"\"\"\n"
    "    raw = Path(path).read_bytes()\n"
    "    if len(raw) < 8:\n"
    "        raise ValueError(f'{path}: {len(raw)} bytes, too short for safetensors')\n"
    "    n = int.from_bytes(raw[:8], 'little')\n"
    "    if 8 + n > len(raw):\n"
    "        raise ValueError(f'{path}: its {n}-byte header runs past the end of the file '\n"
    "                         f'({len(raw)} bytes): truncated?')\n"
    "    header = json.loads(raw[8:8 + n])\n"
    "    metadata = header.pop('__metadata__', {})\n"
    "    base, tensors, end_max = 8 + n, {}, 0\n"
    "    for name, info in header.items():\n"
    "        begin, end = info['data_offsets']\n"
    "        dtype = np.dtype(SAFETENSORS_DTYPES[info['dtype']])\n"
    "        count = int(np.prod(info['shape'], dtype=np.int64))\n"
    "        if end - begin != count * dtype.itemsize or base + end > len(raw):\n"
    "            raise ValueError(f'{path}: tensor {name} does not fit its offsets: truncated?')\n"
    "        array = np.frombuffer(raw, dtype, count, base + begin)\n"
    "        tensors[name] = array.reshape(info['shape'])\n"
    "        end_max = max(end_max, end)\n"
    "    if base + end_max != len(raw):\n"
    "        raise ValueError(f'{path}: {len(raw) - base - end_max} bytes after the last tensor')\n"
    "    return tensors, metadata";

static const char NB_LOAD[] =
    "def checkpoint_epoch(path):\n"
    "    return int(path.name[len('epoch-'):-len('.safetensors')])\n"
    "\n"
    "\n"
    "checkpoints = sorted((RUN_DIR / 'checkpoints').glob('epoch-*.safetensors'),\n"
    "                     key=checkpoint_epoch)\n"
    "ckpt_epochs = [checkpoint_epoch(p) for p in checkpoints]\n"
    "print(f'{len(checkpoints)} checkpoints, epochs {ckpt_epochs[0]} to {ckpt_epochs[-1]}')\n"
    "\n"
    "weights, meta = load_safetensors(checkpoints[-1])\n"
    "print(f'\\n{checkpoints[-1].name}:')\n"
    "for name, w in weights.items():\n"
    "    print(f'  {name:30s} {str(list(w.shape)):18s} {w.dtype}')\n"
    "print('\\nmetadata:', {k: v for k, v in meta.items() if k != 'config'})";

static const char NB_FORWARD[] =
    "def model_config(meta):\n"
    "    \"\"\"The model's shape, from a checkpoint's metadata.\"\"\"\n"
    "    cfg = {k: int(meta[k]) for k in ('n_layers', 'd_model', 'n_heads', 'd_head', 'd_mlp',\n"
    "                                     'd_vocab', 'd_vocab_out', 'n_ctx', 'layernorm',\n"
    "                                     'attn_bias', 'p')}\n"
    "    cfg['act'] = meta['act']\n"
    "    # the attention mask and rate, from the run's config text (absent in runs\n"
    "    # older than the keys: causal, rate 1)\n"
    "    text = meta.get('config', '')\n"
    "    cfg['causal'] = re.search(r'^\\s*causal\\s*=\\s*false\\s*;', text, re.M) is None\n"
    "    rate = re.search(r'^\\s*attn_rate\\s*=\\s*([-+0-9.eE]+)\\s*;', text, re.M)\n"
    "    cfg['attn_rate'] = float(rate.group(1)) if rate else 1.0\n"
    "    cfg['normed_residual'] = re.search(r'^\\s*normed_residual\\s*=\\s*true\\s*;', text,\n"
    "                                       re.M) is not None\n"
    "    return cfg\n"
    "\n"
    "\n"
    "def layer_norm(x, w, b, eps=1e-5):\n"
    "    mu = x.mean(-1, keepdims=True)\n"
    "    var = ((x - mu) ** 2).mean(-1, keepdims=True)\n"
    "    return (x - mu) / np.sqrt(var + eps) * w + b\n"
    "\n"
    "\n"
    "def gelu(x):\n"
    "    \"\"\"The exact (erf) GELU, TransformerLens's act_fn='gelu'.\"\"\"\n"
    "    erf = np.vectorize(math.erf, otypes=[np.float64])\n"
    "    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))\n"
    "\n"
    "\n"
    "def heads(x, w):\n"
    "    \"\"\"x [n, T, D] times w [H, D, Dh] for every head: [n, T, H, Dh], as one matmul.\"\"\"\n"
    "    H, D, Dh = w.shape\n"
    "    return (x @ w.transpose(1, 0, 2).reshape(D, H * Dh)).reshape(*x.shape[:-1], H, Dh)\n"
    "\n"
    "\n"
    "def forward(W, cfg, tokens):\n"
    "    \"\"\"The logits at the last position, [n, d_vocab_out], in float64.\n"
    "\n"
    "    TransformerLens conventions: resid = W_E[token] + W_pos; in each block\n"
    "    (LayerNorm first when cfg['layernorm']) attention with scores\n"
    "    q.k / sqrt(d_head), causal unless model.causal = false, its weights\n"
    "    r * softmax + (1 - r) on the allowed positions (r = model.attn_rate),\n"
    "    resid += z @ W_O (+ b_O) (model.normed_residual: resid = LN1(resid) first), then\n"
    "    resid += act(x @ W_in + b_in) @ W_out + b_out; logits = resid[last] @ W_U.\"\"\"\n"
    "    W = {k: v.astype(np.float64) for k, v in W.items()}\n"
    "    n, T = tokens.shape\n"
    "    resid = W['embed.W_E'][tokens] + W['pos_embed.W_pos'][:T]              # [n, T, D]\n"
    "    allowed = np.tril(np.ones((T, T), dtype=bool)) if cfg['causal'] else np.ones((T, T), bool)\n"
    "    r = cfg['attn_rate']\n"
    "    for layer in range(cfg['n_layers']):\n"
    "        b = f'blocks.{layer}.'\n"
    "        x = layer_norm(resid, W[b + 'ln1.w'], W[b + 'ln1.b']) if cfg['layernorm'] else resid\n"
    "        if cfg['normed_residual']:\n"
    "            resid = x                                                       # Grokfast's block\n"
    "        q, k, v = (heads(x, W[b + 'attn.W_' + m]) for m in 'QKV')          # [n, T, H, Dh]\n"
    "        if cfg['attn_bias']:\n"
    "            q, k, v = q + W[b + 'attn.b_Q'], k + W[b + 'attn.b_K'], v + W[b + 'attn.b_V']\n"
    "        scores = np.einsum('nqhe,nkhe->nhqk', q, k) / math.sqrt(cfg['d_head'])  # [n,H,T,T]\n"
    "        scores = np.where(allowed, scores, -np.inf)\n"
    "        pattern = np.exp(scores - scores.max(-1, keepdims=True))\n"
    "        pattern /= pattern.sum(-1, keepdims=True)\n"
    "        if r != 1:\n"
    "            pattern = r * pattern + (1 - r) * allowed\n"
    "        z = np.einsum('nhqk,nkhe->nqhe', pattern, v)                        # [n, T, H, Dh]\n"
    "        H, Dh, D = W[b + 'attn.W_O'].shape\n"
    "        attn_out = z.reshape(n, T, H * Dh) @ W[b + 'attn.W_O'].reshape(H * Dh, D)\n"
    "        if cfg['attn_bias']:\n"
    "            attn_out = attn_out + W[b + 'attn.b_O']\n"
    "        resid = resid + attn_out\n"
    "        x = layer_norm(resid, W[b + 'ln2.w'], W[b + 'ln2.b']) if cfg['layernorm'] else resid\n"
    "        pre = x @ W[b + 'mlp.W_in'] + W[b + 'mlp.b_in']                    # [n, T, M]\n"
    "        post = np.maximum(pre, 0.0) if cfg['act'] == 'relu' else gelu(pre)\n"
    "        resid = resid + post @ W[b + 'mlp.W_out'] + W[b + 'mlp.b_out']\n"
    "    x = resid[:, -1]\n"
    "    if cfg['layernorm']:\n"
    "        x = layer_norm(x, W['ln_final.w'], W['ln_final.b'])\n"
    "    return x @ W['unembed.W_U']\n"
    "\n"
    "\n"
    "def cross_entropy(logits, labels):\n"
    "    \"\"\"Per-example cross-entropy in float64; log1p keeps tiny losses exact.\"\"\"\n"
    "    rows = np.arange(len(labels))\n"
    "    top = logits.argmax(1)\n"
    "    z = logits - logits[rows, top][:, None]\n"
    "    rest = np.exp(z)\n"
    "    rest[rows, top] = 0.0\n"
    "    return np.log1p(rest.sum(1)) - z[rows, labels]";

static const char NB_CHECK[] =
    "def example_tokens(rows, cfg):\n"
    "    \"\"\"The token sequences of split.tsv's rows as the run built them (model/task.h):\n"
    "    parity: the bits; otherwise the operands (a, b mod p, or x, y of a group), laid\n"
    "    out by n_ctx: [a, b] (2), [a, b, =] (3; '=' is the last token, d_vocab - 1), or\n"
    "    [a, op, b, =] (4; op is d_vocab - 2).\"\"\"\n"
    "    if 'bits' in rows:\n"
    "        return np.array([[int(c) for c in bits] for bits in rows.bits], dtype=np.int64)\n"
    "    x, y = (rows.a, rows.b) if 'a' in rows else (rows.x, rows.y)\n"
    "    x, y = x.to_numpy(np.int64), y.to_numpy(np.int64)\n"
    "    V, n = cfg['d_vocab'], len(rows)\n"
    "    if cfg['n_ctx'] == 2:\n"
    "        return np.stack([x, y], axis=1)\n"
    "    if cfg['n_ctx'] == 4:\n"
    "        return np.stack([x, np.full(n, V - 2), y, np.full(n, V - 1)], axis=1)\n"
    "    return np.stack([x, y, np.full(n, V - 1)], axis=1)\n"
    "\n"
    "\n"
    "cfg = model_config(meta)\n"
    "# every column as text: parity's bits keep their leading zeros\n"
    "split = pd.read_csv(RUN_DIR / 'split.tsv', sep='\\t', dtype=str)\n"
    "# The latest checkpoint whose epoch has a metrics row (the last one, normally).\n"
    "epoch = next((e for e in reversed(ckpt_epochs) if (metrics.epoch == e).any()), None)\n"
    "assert epoch is not None, 'no checkpoint epoch has a row in metrics.tsv'\n"
    "W = load_safetensors(checkpoints[ckpt_epochs.index(epoch)])[0]\n"
    "row = metrics[metrics.epoch == epoch].iloc[-1]\n"
    "# The trainer's forward runs in float32 and this one in float64 from the same\n"
    "# weights, so the losses differ by float32 rounding: below 1e-6 relative on the\n"
    "# p = 23 and p = 113 (Nanda et al.) runs.\n"
    "TOLERANCE = 1e-5\n"
    "worst = 0.0\n"
    "for part in ('train', 'test'):\n"
    "    rows = split[split.split == part]\n"
    "    tokens = example_tokens(rows, cfg)\n"
    "    labels = rows.label.to_numpy(np.int64)\n"
    "    logits = forward(W, cfg, tokens)\n"
    "    loss = float(cross_entropy(logits, labels).mean())\n"
    "    acc = float((logits.argmax(1) == labels).mean())\n"
    "    recorded = float(row[part + '_loss'])\n"
    "    rel = abs(loss - recorded) / max(abs(recorded), 1e-300)\n"
    "    worst = max(worst, rel)\n"
    "    print(f'epoch {epoch}, {part} set ({len(rows)} examples): loss NumPy {loss:.9g}, '\n"
    "          f'metrics.tsv {recorded:.9g}, relative difference {rel:.2e}; '\n"
    "          f'accuracy NumPy {acc:.6f}, metrics.tsv {float(row[part + \"_acc\"]):.6f}')\n"
    "    assert rel < TOLERANCE, f'{part} loss differs by {rel:.2e} (relative) from metrics.tsv'\n"
    "    # argmax ties between float32 and float64 may flip an example or two\n"
    "    assert abs(acc - float(row[part + '_acc'])) * len(rows) <= 2.5, f'{part} accuracy'\n"
    "test_tokens, test_logits = tokens, logits\n"
    "print(f'logits check passed: largest relative loss difference {worst:.2e} '\n"
    "      f'(tolerance {TOLERANCE:g})')";

static const char NB_NO_SPLIT[] =
    "cfg = model_config(meta)\n"
    "print('no split.tsv in the run directory: the logits check needs it (grok train writes it)')\n"
    "test_tokens = test_logits = None";

static const char NB_NORMS[] =
    "# Squared weight norms over training, one checkpoint at a time.  For every\n"
    "# checkpoint as stacked arrays, `grok export RUN_DIR --to npz` writes run.npz:\n"
    "# np.load(RUN_DIR / 'run.npz')['blocks.0.mlp.W_in'] is [checkpoints, d_model, d_mlp].\n"
    "sq = {name: [] for name in weights}\n"
    "for path in checkpoints:\n"
    "    tensors, _ = load_safetensors(path)\n"
    "    for name, w in tensors.items():\n"
    "        sq[name].append(float(np.sum(w.astype(np.float64) ** 2)))\n"
    "fig, ax = plt.subplots(figsize=(8, 4))\n"
    "ax.plot(ckpt_epochs, np.sum([sq[k] for k in sq], axis=0), color='black', linewidth=2,\n"
    "        label='all weights')\n"
    "for name, s in sq.items():\n"
    "    if max(s) > 0:\n"
    "        ax.plot(ckpt_epochs, s, linewidth=0.8, label=name)\n"
    "ax.set_yscale('log')\n"
    "ax.set(xlabel='epoch', ylabel='sum of squared weights', title='weight norms over training')\n"
    "ax.legend(fontsize='x-small', bbox_to_anchor=(1.02, 1), loc='upper left')\n"
    "plt.tight_layout()\n"
    "plt.show()\n"
    "npz_path = RUN_DIR / 'run.npz'\n"
    "if npz_path.exists():\n"
    "    with np.load(npz_path) as run:\n"
    "        print(f'{npz_path}: {len(run[\"epochs\"])} checkpoints;',\n"
    "              ', '.join(f'{k} {list(run[k].shape)}' for k in run.files if '.' in k and\n"
    "                        not k.startswith(('metrics.', 'measures.', 'meta.'))))";

static const char NB_FOURIER[] =
    "if (RUN_DIR / 'fourier_embed.tsv').exists():\n"
    "    fourier = pd.read_csv(RUN_DIR / 'fourier_embed.tsv', sep='\\t')\n"
    "    last = fourier.iloc[-1]\n"
    "    freq_cols = [c for c in fourier.columns if c.startswith('freq_')]\n"
    "    ks = [int(c[len('freq_'):]) for c in freq_cols]\n"
    "    key = set(summary.get('key_freqs') or [])\n"
    "    fig, ax = plt.subplots(figsize=(9, 3))\n"
    "    ax.bar(ks, last[freq_cols], color=['C3' if k in key else 'C7' for k in ks])\n"
    "    ax.set(xlabel='frequency k', ylabel='norm of W_E in frequency k',\n"
    "           title=f'Fourier norms of W_E, epoch {int(last.epoch)} (key frequencies red)')\n"
    "    plt.show()\n"
    "else:\n"
    "    print('no fourier_embed.tsv (a task without Fourier measures)')";

static const char NB_TL[] =
    "tl_config = dict(n_layers=cfg['n_layers'], d_model=cfg['d_model'], n_heads=cfg['n_heads'],\n"
    "                 d_head=cfg['d_head'], d_mlp=cfg['d_mlp'], act_fn=cfg['act'],\n"
    "                 normalization_type='LN' if cfg['layernorm'] else None,\n"
    "                 d_vocab=cfg['d_vocab'], d_vocab_out=cfg['d_vocab_out'], n_ctx=cfg['n_ctx'])\n"
    "print(f'HookedTransformerConfig(**{tl_config})')\n"
    "if cfg['normed_residual']:\n"
    "    print('model.normed_residual = true: TransformerLens has no block that replaces the '\n"
    "          'residual stream by its LayerNorm; the NumPy forward above is the model.')\n"
    "else:\n"
    "    try:\n"
    "        import torch\n"
    "        from transformer_lens import HookedTransformer, HookedTransformerConfig\n"
    "    except ImportError as err:\n"
    "        print(f'TransformerLens is not installed here ({err}); where it is, this cell '\n"
    "              'builds the HookedTransformer and loads the checkpoint into it.')\n"
    "    else:\n"
    "        tl_model = HookedTransformer(HookedTransformerConfig(**tl_config))\n"
    "        state = tl_model.state_dict()\n"
    "        for name, w in W.items():\n"
    "            state[name] = torch.tensor(np.array(w))\n"
    "        # The checkpoint has no b_Q, b_K, b_V, b_O (unless attn_bias) and no b_U: zero in grok.\n"
    "        for name in state:\n"
    "            if name not in W and name.rsplit('.', 1)[-1] in ('b_Q', 'b_K', 'b_V', 'b_O', 'b_U'):\n"
    "                state[name] = torch.zeros_like(state[name])\n"
    "        tl_model.load_state_dict(state)\n"
    "        if test_tokens is not None:\n"
    "            with torch.no_grad():\n"
    "                tl_logits = tl_model(torch.tensor(test_tokens[:512]))[:, -1].double().numpy()\n"
    "            print('largest |logit| difference, TransformerLens vs NumPy:',\n"
    "                  float(np.abs(tl_logits - test_logits[:512]).max()))";

static const char SW_SETUP_HEAD[] =
    "import json\n"
    "from pathlib import Path\n"
    "\n"
    "import numpy as np\n"
    "import pandas as pd\n"
    "import matplotlib.pyplot as plt\n"
    "\n"
    "# The sweep directory, relative to this notebook (as grok export wrote it).\n";

static const char SW_SETUP_TAIL[] =
    "# 'none' marks an epoch never reached or a value a point does not have yet.\n"
    "sweep = pd.read_csv(SWEEP_DIR / 'sweep.tsv', sep='\\t', na_values=['none'])\n"
    "# The swept config keys: points.tsv's columns, else those between name and status.\n"
    "if (SWEEP_DIR / 'points.tsv').exists():\n"
    "    axes = [c for c in pd.read_csv(SWEEP_DIR / 'points.tsv', sep='\\t', nrows=0).columns\n"
    "            if c not in ('index', 'name')]\n"
    "elif {'name', 'status'} <= set(sweep.columns):\n"
    "    axes = list(sweep.columns[list(sweep.columns).index('name') + 1:\n"
    "                              list(sweep.columns).index('status')])\n"
    "else:\n"
    "    axes = []\n"
    "print(f'sweep.tsv: {len(sweep)} points; axes: {\", \".join(axes) or \"none found\"}')\n"
    "sweep";

static const char SW_RUNS[] =
    "# One row per run directory of the sweep, from its summary.json, and every\n"
    "# run's metrics.tsv.\n"
    "rows, curves = [], {}\n"
    "for d in sorted(p for p in SWEEP_DIR.iterdir() if (p / 'metrics.tsv').exists()):\n"
    "    summary_path = d / 'summary.json'\n"
    "    s = json.loads(summary_path.read_text()) if summary_path.exists() else {}\n"
    "    final, phases = s.get('final') or {}, s.get('phases') or {}\n"
    "    rows.append(dict(run=d.name, status=s.get('status'), epochs_done=s.get('epochs_done'),\n"
    "                     memorised_epoch=s.get('memorised_epoch'),\n"
    "                     grokked_epoch=s.get('grokked_epoch'),\n"
    "                     train_acc=final.get('train_acc'), test_acc=final.get('test_acc'),\n"
    "                     test_loss=final.get('test_loss'),\n"
    "                     circuit_formation_end=phases.get('circuit_formation_end'),\n"
    "                     cleanup_end=phases.get('cleanup_end'), key_freqs=s.get('key_freqs')))\n"
    "    curves[d.name] = pd.read_csv(d / 'metrics.tsv', sep='\\t')\n"
    "runs = pd.DataFrame(rows) if rows else pd.DataFrame({'run': []})\n"
    "# Joined to sweep.tsv on the column that names the run directories (name);\n"
    "# sweep.tsv's own columns win.\n"
    "key = next((c for c in sweep.columns\n"
    "            if rows and set(runs.run) <= set(sweep[c].astype(str))), None)\n"
    "if key is not None:\n"
    "    extra = runs[[c for c in runs.columns if c == 'run' or c not in sweep.columns]]\n"
    "    runs = sweep.assign(run=sweep[key].astype(str)).merge(extra, on='run', how='left')\n"
    "runs";

static const char SW_CURVES[] =
    "if curves:\n"
    "    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))\n"
    "    for name, m in curves.items():\n"
    "        ax_loss.plot(m.epoch, m.test_loss, linewidth=0.8, label=name)\n"
    "        ax_acc.plot(m.epoch, m.test_acc, linewidth=0.8, label=name)\n"
    "    ax_loss.set_yscale('log')\n"
    "    ax_loss.set(xlabel='epoch', ylabel='test loss', title='test loss of every run')\n"
    "    ax_acc.set(xlabel='epoch', ylabel='test accuracy', title='test accuracy of every run',\n"
    "               ylim=(-0.02, 1.02))\n"
    "    if len(curves) <= 12:\n"
    "        ax_acc.legend(fontsize='x-small')\n"
    "    plt.tight_layout()\n"
    "    plt.show()\n"
    "else:\n"
    "    print('no run directories in the sweep yet')";

static const char SW_PHASE[] =
    "# The grokked epoch over the numeric axes that vary; runs that never grokked\n"
    "# are grey crosses.\n"
    "params = [c for c in axes if c in runs and pd.api.types.is_numeric_dtype(runs[c])\n"
    "          and runs[c].nunique() > 1]\n"
    "if 'grokked_epoch' in runs and params:\n"
    "    grokked = runs.grokked_epoch.notna()\n"
    "    fig, ax = plt.subplots(figsize=(6, 4))\n"
    "    if len(params) >= 2:\n"
    "        x, y = params[:2]\n"
    "        sc = ax.scatter(runs[x][grokked], runs[y][grokked], c=runs.grokked_epoch[grokked],\n"
    "                        cmap='viridis')\n"
    "        fig.colorbar(sc, label='grokked epoch')\n"
    "        ax.scatter(runs[x][~grokked], runs[y][~grokked], marker='x', color='grey',\n"
    "                   label='did not grok')\n"
    "        ax.set(xlabel=x, ylabel=y, title='phase diagram')\n"
    "    else:\n"
    "        x = params[0]\n"
    "        ax.plot(runs[x][grokked], runs.grokked_epoch[grokked], 'o', label='grokked')\n"
    "        ax.plot(runs[x][~grokked], np.zeros(int((~grokked).sum())), 'x', color='grey',\n"
    "                label='did not grok')\n"
    "        ax.set(xlabel=x, ylabel='grokked epoch', title='grokked epoch over the sweep')\n"
    "    ax.legend(fontsize='small')\n"
    "    plt.show()\n"
    "else:\n"
    "    print('no numeric axis that varies, or no grokked_epoch column: nothing to draw')";
/* ------------------------------------------------------------------------ */
/* text helpers */

/* Appends s escaped for a markdown table cell: markdown's punctuation is
 * backslash-escaped, newlines and tabs become spaces. */
static void notebook_md(sbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (c == '\n' || c == '\r' || c == '\t') {
            sbuf_append(b, " ", 1);
            continue;
        }
        if (strchr("\\`*_{}[]<>|#!", c))
            sbuf_append(b, "\\", 1);
        sbuf_append(b, &c, 1);
    }
}

/* Appends s as a markdown code span: `s` (``s`` when s holds a backtick);
 * inside a code span nothing is escaped, so only newlines become spaces. */
static void notebook_code_span(sbuf *b, const char *s)
{
    const char *fence = strchr(s, '`') ? "`` " : "`";
    sbuf_puts(b, fence);
    for (const char *p = s; *p; p++)
        sbuf_append(b, *p == '\n' || *p == '\r' ? " " : p, 1);
    sbuf_puts(b, strchr(s, '`') ? " ``" : "`");
}

/* Appends s as a Python string literal ('...'); bytes >= 0x80 pass through
 * (the notebook is UTF-8), control characters become \xNN. */
static void notebook_py_str(sbuf *b, const char *s)
{
    sbuf_append(b, "'", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == '\'')
            sbuf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7F)
            sbuf_printf(b, "\\x%02x", *p);
        else
            sbuf_append(b, (const char *)p, 1);
    }
    sbuf_append(b, "'", 1);
}

/* "12,345" */
static void notebook_thousands(sbuf *b, long long v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    if (v < 0)
        sbuf_append(b, "-", 1);
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            sbuf_append(b, ",", 1);
        sbuf_append(b, &digits[i], 1);
    }
}

/* An epoch member of summary.json: "1400", or `none` when null or absent. */
static void notebook_epoch(sbuf *b, const rundir_summary *S, const char *key, const char *none)
{
    long v = rundir_summary_epoch(S, key);
    if (v >= 0)
        sbuf_printf(b, "%ld", v);
    else
        sbuf_puts(b, none);
}

/* A config value, markdown-escaped, or "?" */
static void notebook_cfg(sbuf *b, const rdir *r, const char *key)
{
    char v[256];
    const char *t = rundir_config_text(&r->config, key, v, sizeof v);
    notebook_md(b, t ? t : "?");
}

static const char *notebook_op_formula(const char *op)
{
    static const char *const ops[][2] = {
        {"add", "a + b"},           {"sub", "a - b"},           {"mul", "a * b"},
        {"div", "a * b^-1"},        {"x2y2", "a^2 + b^2"},      {"x2xyy2", "a^2 + ab + b^2"},
        {"x3xy", "a^3 + ab"},       {"x3xy2y", "a^3 + ab^2 + b"}, {"rand", "a fixed random table"},
    };
    for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i][0]) == 0)
            return ops[i][1];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* the run notebook */

/* The token layout of r's examples in words (model/task.h), from config.cfg. */
static void notebook_token_layout(sbuf *b, const rdir *r)
{
    char kind[64], layout[64];
    const char *k = rundir_config_text(&r->config, "task.kind", kind, sizeof kind);
    const char *l = rundir_config_text(&r->config, "task.layout", layout, sizeof layout);
    if (k && strcmp(k, "group") == 0)
        sbuf_puts(b, "here `[x, y, =]`, with `=` the token |G|");
    else if (k && strcmp(k, "parity") == 0)
        sbuf_puts(b, "here the bits of `bits`, one token each");
    else if (l && strcmp(l, "a b") == 0)
        sbuf_puts(b, "here `[a, b]`");
    else if (l && strcmp(l, "a op b =") == 0)
        sbuf_puts(b, "here `[a, op, b, =]`, with op the token p and `=` the token p + 1");
    else
        sbuf_puts(b, "here `[a, b, =]`, with `=` the token p");
}

static void notebook_row(sbuf *b, const char *label)
{
    sbuf_printf(b, "| %s | ", label);
}

static void notebook_summary(sbuf *b, const rdir *r)
{
    const rundir_summary *S = r->has_summary ? &r->summary : NULL;
    char op[64], p[64], nl[64], ln[64], ab[64], batch[64];
    sbuf_puts(b, "## Summary\n\n| | |\n|---|---|\n");

    notebook_row(b, "task");
    const char *opv = rundir_config_text(&r->config, "task.op", op, sizeof op);
    const char *pv = rundir_config_text(&r->config, "task.p", p, sizeof p);
    const char *formula = notebook_op_formula(opv);
    if (formula && strcmp(opv, "rand") == 0)
        sbuf_puts(b, "labels from a fixed random table");
    else if (formula)
        sbuf_printf(b, "`(%s) mod %s`", formula, pv ? pv : "p");
    else
        notebook_cfg(b, r, "task.op");
    sbuf_puts(b, " (");
    notebook_cfg(b, r, "task.op");
    sbuf_puts(b, ", p = ");
    notebook_cfg(b, r, "task.p");
    sbuf_puts(b, "); training fraction ");
    notebook_cfg(b, r, "task.frac_train");
    double ntr = rundir_summary_num(S, "n_train"), nte = rundir_summary_num(S, "n_test");
    if (!isnan(ntr) && !isnan(nte)) {
        sbuf_puts(b, ": ");
        notebook_thousands(b, (long long)ntr);
        sbuf_puts(b, " train, ");
        notebook_thousands(b, (long long)nte);
        sbuf_puts(b, " test examples");
    }
    sbuf_puts(b, " |\n");

    notebook_row(b, "model");
    notebook_cfg(b, r, "model.n_layers");
    const char *nlv = rundir_config_text(&r->config, "model.n_layers", nl, sizeof nl);
    sbuf_puts(b, nlv && strcmp(nlv, "1") == 0 ? " layer, d_model " : " layers, d_model ");
    notebook_cfg(b, r, "model.d_model");
    sbuf_puts(b, ", ");
    notebook_cfg(b, r, "model.n_heads");
    sbuf_puts(b, " heads of d_head ");
    notebook_cfg(b, r, "model.d_head");
    sbuf_puts(b, ", d_mlp ");
    notebook_cfg(b, r, "model.d_mlp");
    sbuf_puts(b, ", ");
    notebook_cfg(b, r, "model.act");
    const char *lnv = rundir_config_text(&r->config, "model.layernorm", ln, sizeof ln);
    const char *abv = rundir_config_text(&r->config, "model.attn_bias", ab, sizeof ab);
    sbuf_puts(b, lnv && strcmp(lnv, "true") == 0 ? ", LayerNorm" : ", no LayerNorm");
    sbuf_puts(b, abv && strcmp(abv, "true") == 0 ? ", attention biases" : ", no attention biases");
    double np_ = rundir_summary_num(S, "n_params");
    if (!isnan(np_)) {
        sbuf_puts(b, "; ");
        notebook_thousands(b, (long long)np_);
        sbuf_puts(b, " parameters");
    }
    sbuf_puts(b, " |\n");

    notebook_row(b, "optimiser");
    notebook_cfg(b, r, "optim.kind");
    sbuf_puts(b, ", lr ");
    notebook_cfg(b, r, "optim.lr");
    sbuf_puts(b, ", weight decay ");
    notebook_cfg(b, r, "optim.weight_decay");
    sbuf_puts(b, ", betas ");
    notebook_cfg(b, r, "optim.betas");
    sbuf_puts(b, ", warmup ");
    notebook_cfg(b, r, "optim.warmup");
    sbuf_puts(b, " steps |\n");

    notebook_row(b, "training");
    notebook_cfg(b, r, "train.epochs");
    const char *bv = rundir_config_text(&r->config, "train.batch", batch, sizeof batch);
    sbuf_puts(b, " epochs, ");
    if (bv && strcmp(bv, "0") == 0) {
        sbuf_puts(b, "full batch");
    } else {
        sbuf_puts(b, "batch ");
        notebook_cfg(b, r, "train.batch");
    }
    sbuf_puts(b, ", seed ");
    notebook_cfg(b, r, "seed");
    sbuf_puts(b, " |\n");

    if (S) {
        const char *status = rundir_summary_str(S, "status");
        notebook_row(b, "status");
        notebook_md(b, status ? status : "?");
        sbuf_puts(b, ", ");
        notebook_epoch(b, S, "epochs_done", "?");
        sbuf_puts(b, " epochs done |\n");
        notebook_row(b, "memorised (train acc &ge; 0.99)");
        notebook_epoch(b, S, "memorised_epoch", "not reached");
        sbuf_puts(b, " |\n");
        notebook_row(b, "grokked (test acc &ge; 0.99)");
        notebook_epoch(b, S, "grokked_epoch", "not reached");
        sbuf_puts(b, " |\n");
    }

    /* final metrics: summary.json, else the last metrics row */
    double ep = rundir_summary_num(S, "final.epoch");
    double trl = rundir_summary_num(S, "final.train_loss");
    double tel = rundir_summary_num(S, "final.test_loss");
    double tra = rundir_summary_num(S, "final.train_acc");
    double tea = rundir_summary_num(S, "final.test_acc");
    int have = !isnan(ep) && !isnan(trl) && !isnan(tel) && !isnan(tra) && !isnan(tea);
    if (!have && r->metrics.n_rows > 0) {
        const rundir_tsv *m = &r->metrics;
        const double *last = m->v + (size_t)(m->n_rows - 1) * (size_t)m->n_cols;
        ep = last[rundir_tsv_col(m, "epoch")];
        trl = last[rundir_tsv_col(m, "train_loss")];
        tel = last[rundir_tsv_col(m, "test_loss")];
        tra = last[rundir_tsv_col(m, "train_acc")];
        tea = last[rundir_tsv_col(m, "test_acc")];
        have = 1;
    }
    if (have) {
        sbuf_printf(b, "| final (epoch %.0f) | train loss %.4g, test loss %.4g; train accuracy "
                       "%.4f, test accuracy %.4f |\n",
                    ep, trl, tel, tra, tea);
    }

    notebook_row(b, "key frequencies");
    int kf[256];
    int n_kf = rundir_summary_ints(S, "key_freqs", kf, 256);
    const char *reason = rundir_summary_str(S, "fourier.reason");
    if (n_kf > 0) {
        for (int i = 0; i < n_kf; i++)
            sbuf_printf(b, "%s%d", i ? ", " : "", kf[i]);
    } else if (reason) {
        sbuf_puts(b, "none: ");
        notebook_md(b, reason);
    } else {
        sbuf_puts(b, "not measured yet (`grok measure DIR`)");
    }
    sbuf_puts(b, " |\n");

    notebook_row(b, "phases (Nanda et al. 2023)");
    if (rundir_summary_get(S, "phases")) {
        sbuf_puts(b, "memorisation until epoch ");
        notebook_epoch(b, S, "phases.memorisation_end", "(not reached)");
        sbuf_puts(b, "; circuit formation until ");
        notebook_epoch(b, S, "phases.circuit_formation_end", "(not reached)");
        sbuf_puts(b, "; cleanup until ");
        notebook_epoch(b, S, "phases.cleanup_end", "(not reached)");
    } else {
        sbuf_puts(b, "not measured yet (`grok measure DIR`)");
    }
    sbuf_puts(b, " |\n");

    sbuf_printf(b, "| checkpoints | %d, epochs %ld to %ld |\n", r->n_ckpt, r->ckpt_epoch[0],
                r->ckpt_epoch[r->n_ckpt - 1]);
    double wall = rundir_summary_num(S, "wall_s"), ms = rundir_summary_num(S, "ms_per_epoch"),
           thr = rundir_summary_num(S, "threads");
    if (!isnan(wall)) {
        sbuf_printf(b, "| time | %.1f s", wall);
        if (!isnan(ms))
            sbuf_printf(b, ", %.3g ms per epoch", ms);
        if (!isnan(thr))
            sbuf_printf(b, ", %.0f threads", thr);
        const char *k = rundir_summary_str(S, "blis_kernel");
        if (k) {
            sbuf_puts(b, ", BLIS kernel ");
            notebook_md(b, k);
        }
        sbuf_puts(b, " |\n");
    }
}

/* A figure file's place in figures/index.tsv (the order grok plot drew
 * them in) and its caption there; files the index does not name (or all,
 * without an index: older runs) come after, by name, with no caption. */
static int notebook_figure_rank(const rundir_tsv *index, const char *file, const char **caption)
{
    size_t n = strlen(file) - 4; /* without ".png" */
    int c_name = index ? rundir_tsv_col(index, "name") : -1;
    int c_cap = index ? rundir_tsv_col(index, "caption") : -1;
    int n_rows = c_name >= 0 ? index->n_rows : 0;
    *caption = NULL;
    for (int i = 0; i < n_rows; i++) {
        const char *name = index->text[(size_t)i * (size_t)index->n_cols + (size_t)c_name];
        if (strlen(name) == n && strncmp(file, name, n) == 0) {
            if (c_cap >= 0)
                *caption = index->text[(size_t)i * (size_t)index->n_cols + (size_t)c_cap];
            return i;
        }
    }
    return n_rows;
}

/* One markdown cell per figure of dir/figures/<files>, captioned from
 * figures/index.tsv (index, or NULL) and in its order.  Returns the number
 * embedded in *n. */
static int notebook_add_figures(ipynb *nb, const char *dir, char *const *files, int n_files,
                                const rundir_tsv *index, const char *redraw, int *n, grok_err *e)
{
    int n_known = index && rundir_tsv_col(index, "name") >= 0 ? index->n_rows : 0;
    *n = 0;
    sbuf md, skipped;
    sbuf_init(&md);
    sbuf_init(&skipped);
    int rc = GROK_OK;
    for (int rank = 0; rank <= n_known && rc == GROK_OK; rank++) {
        for (int i = 0; i < n_files && rc == GROK_OK; i++) {
            const char *caption;
            if (notebook_figure_rank(index, files[i], &caption) != rank)
                continue;
            size_t len = strlen(dir) + strlen(files[i]) + 16;
            char *path = malloc(len);
            if (!path) {
                rc = grok_fail(e, GROK_ENOMEM, "out of memory");
                break;
            }
            snprintf(path, len, "%s/figures/%s", dir, files[i]);
            char *data = NULL;
            size_t bytes = 0;
            rc = fileio_read_all(path, &data, &bytes, e);
            free(path);
            if (rc != GROK_OK)
                break;
            if (!ipynb_is_png((const unsigned char *)data, bytes) || bytes > NOTEBOOK_FIGURE_MAX) {
                sbuf_puts(&skipped, skipped.len ? ", " : "");
                notebook_md(&skipped, files[i]);
                free(data);
                continue;
            }
            char att[80];
            if (strlen(files[i]) <= 64)
                snprintf(att, sizeof att, "%s", files[i]);
            else
                snprintf(att, sizeof att, "figure-%d.png", *n + 1);
            sbuf_clear(&md);
            size_t stem = strlen(files[i]) - 4;
            sbuf_printf(&md, "### %.*s\n\n", (int)stem, files[i]);
            if (caption)
                sbuf_printf(&md, "%s\n\n", caption);
            sbuf_printf(&md, "![%.*s](attachment:%s)", (int)stem, files[i], att);
            ipynb_markdown_png(nb, md.data, att, (const unsigned char *)data, bytes);
            free(data);
            (*n)++;
        }
    }
    if (rc == GROK_OK && (*n == 0 || skipped.len)) {
        sbuf_clear(&md);
        if (*n == 0) {
            sbuf_puts(&md, "No figures in `figures/` yet: ");
            notebook_code_span(&md, redraw);
            sbuf_puts(&md, " draws them, and a new export embeds them.");
        }
        if (skipped.len)
            sbuf_printf(&md, "%sLeft out (not PNG, or over 20 MB): %s.", *n == 0 ? " " : "",
                        skipped.data);
        ipynb_markdown(nb, md.data);
    }
    sbuf_free(&md);
    sbuf_free(&skipped);
    return rc;
}

int notebook_run(const rdir *r, const char *run_dir, sbuf *out, notebook_info *info,
                 grok_err *e)
{
    GROK_ASSERT(r && run_dir && out && r->n_ckpt > 0);
    ipynb nb;
    ipynb_init(&nb);
    sbuf t;
    sbuf_init(&t);

    sbuf_puts(&t, "# grok run ");
    notebook_code_span(&t, r->name);
    sbuf_puts(&t, "\n\nExported by `grok export` from the run directory ");
    notebook_code_span(&t, r->real);
    sbuf_puts(&t, ". The summary and figures below are a snapshot of the export; the code "
                  "cells read the run's files themselves (`metrics.tsv`, `measures.tsv`, "
                  "`split.tsv`, `checkpoints/`), so they need only NumPy, pandas and "
                  "matplotlib, and stay right if the run goes on.");
    ipynb_markdown(&nb, t.data);

    sbuf_clear(&t);
    notebook_summary(&t, r);
    ipynb_markdown(&nb, t.data);

    ipynb_markdown(&nb, "## Figures\n\nAs `grok plot` drew them into `figures/`.");
    sbuf_clear(&t);
    sbuf_puts(&t, "grok plot ");
    sbuf_puts(&t, r->dir);
    int n_fig = 0;
    int rc = notebook_add_figures(&nb, r->dir, r->figures, r->n_figures,
                                  r->has_figure_index ? &r->figure_index : NULL, t.data, &n_fig, e);

    if (rc == GROK_OK) {
        ipynb_markdown(&nb, "## The run in pandas\n\n`metrics.tsv` has one row per evaluation "
                            "(epoch, lr, train and test loss and accuracy, elapsed seconds); "
                            "`measures.tsv` one row per measured checkpoint (the progress "
                            "measures); `summary.json` the run's outcome.");
        sbuf_clear(&t);
        sbuf_puts(&t, NB_SETUP_HEAD);
        sbuf_puts(&t, "RUN_DIR = Path(");
        notebook_py_str(&t, run_dir);
        sbuf_puts(&t, ")\n");
        sbuf_puts(&t, NB_SETUP_TAIL);
        ipynb_code(&nb, t.data);
        ipynb_code(&nb, NB_TABLES);
        ipynb_code(&nb, NB_CURVES);
        ipynb_code(&nb, NB_PROGRESS);

        ipynb_markdown(&nb, "## Checkpoints with NumPy alone\n\n`checkpoints/epoch-NNNNNN."
                            "safetensors` holds the weights after NNNNNN epochs, one float32 "
                            "tensor per parameter under its TransformerLens name and shape "
                            "(`embed.W_E` [d_vocab, d_model], `blocks.0.attn.W_Q` [n_heads, "
                            "d_model, d_head], `unembed.W_U` [d_model, d_vocab_out], ...), and "
                            "the model's dimensions in its metadata. The format is simple "
                            "enough to read without the `safetensors` package:");
        ipynb_code(&nb, NB_READER);
        ipynb_code(&nb, NB_LOAD);

        char family[64];
        const char *fam = rundir_config_text(&r->config, "model.family", family, sizeof family);
        int transformer = !fam || strcmp(fam, "transformer") == 0;
        sbuf_clear(&t);
        if (transformer) {
            sbuf_puts(&t, "## The logits in NumPy\n\nThe model's forward pass written out "
                          "in NumPy, in float64, following TransformerLens's conventions "
                          "(the trainer's own is float32). Each example's tokens are rebuilt "
                          "from `split.tsv` as the run built them (");
            notebook_token_layout(&t, r);
            sbuf_puts(&t, "), and the answer is read at the last position. Running it on the "
                          "train and test sets of `split.tsv` must give back the losses and "
                          "accuracies that `metrics.tsv` recorded for the checkpoint's epoch.");
            ipynb_markdown(&nb, t.data);
            ipynb_code(&nb, NB_FORWARD);
            ipynb_code(&nb, r->has_split ? NB_CHECK : NB_NO_SPLIT);
        } else {
            sbuf_puts(&t, "## The logits in NumPy\n\nLeft out: this run's model is the ");
            notebook_code_span(&t, fam);
            sbuf_puts(&t, " family (`model.family`), and the NumPy forward pass and logits "
                          "check of these notebooks, like the TransformerLens cell, are the "
                          "transformer's. Its checkpoints load as above; their tensors are "
                          "listed there.");
            ipynb_markdown(&nb, t.data);
        }

        ipynb_markdown(&nb, "## Over training\n\nThe squared norm of every weight tensor at "
                            "every checkpoint (weight decay at work), and the Fourier "
                            "structure of the embedding at the end.");
        ipynb_code(&nb, NB_NORMS);
        ipynb_code(&nb, NB_FOURIER);

        if (transformer) {
            ipynb_markdown(&nb, "## TransformerLens\n\nThe checkpoints already use "
                                "TransformerLens's parameter names and shapes, so a "
                                "`HookedTransformer` takes them as they are. The missing "
                                "biases (`b_Q`, `b_K`, `b_V`, `b_O` without attention biases, "
                                "and `b_U`) are zero in this model. Avoid "
                                "`load_and_process_state_dict` with its defaults: "
                                "`center_unembed` and `fold_value_biases` change `W_U` and "
                                "`b_O`.");
            ipynb_code(&nb, NB_TL);
        }
    }
    sbuf md;
    sbuf_init(&md);
    if (rc == GROK_OK) {
        sbuf_puts(&md, "\"grok\": {\"format\": \"grok-notebook-1\", \"version\": \"" GROK_VERSION
                       "\", \"kind\": \"run\", \"run\": ");
        sbuf_json_string(&md, r->name);
        sbuf_printf(&md, ", \"checkpoints\": %d, \"figures\": %d}", r->n_ckpt, n_fig);
        rc = ipynb_format(&nb, md.data, out, e);
    }
    if (rc == GROK_OK && info) {
        info->n_checkpoints = r->n_ckpt;
        info->n_figures = n_fig;
        info->n_runs = 0;
    }
    if (rc == GROK_OK && (t.oom || md.oom))
        rc = grok_fail(e, GROK_ENOMEM, "out of memory building the notebook");
    sbuf_free(&md);
    sbuf_free(&t);
    ipynb_free(&nb);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the sweep notebook */

int notebook_sweep(const rdir_sweep *s, const char *sweep_dir, sbuf *out, notebook_info *info,
                   grok_err *e)
{
    GROK_ASSERT(s && sweep_dir && out);
    ipynb nb;
    ipynb_init(&nb);
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "# grok sweep ");
    notebook_code_span(&t, s->name);
    sbuf_puts(&t, "\n\nExported by `grok export` from the sweep directory ");
    notebook_code_span(&t, s->real);
    sbuf_printf(&t, ": %d points in `sweep.tsv`, %d run directories. Each run directory "
                    "exports on its own as well (`grok export DIR --to ipynb`).\n\n",
                s->table.n_rows, s->n_runs);
    /* the sweep table, as a snapshot (the code below reads sweep.tsv itself) */
    const rundir_tsv *T = &s->table;
    const int max_rows = 40;
    sbuf_puts(&t, "|");
    for (int c = 0; c < T->n_cols; c++) {
        sbuf_puts(&t, " ");
        notebook_md(&t, T->cols[c]);
        sbuf_puts(&t, " |");
    }
    sbuf_puts(&t, "\n|");
    for (int c = 0; c < T->n_cols; c++)
        sbuf_puts(&t, "---|");
    for (int i = 0; i < T->n_rows && i < max_rows; i++) {
        sbuf_puts(&t, "\n|");
        for (int c = 0; c < T->n_cols; c++) {
            sbuf_puts(&t, " ");
            notebook_md(&t, T->text[(size_t)i * (size_t)T->n_cols + (size_t)c]);
            sbuf_puts(&t, " |");
        }
    }
    if (T->n_rows > max_rows)
        sbuf_printf(&t, "\n\n(%d more rows in `sweep.tsv`)", T->n_rows - max_rows);
    ipynb_markdown(&nb, t.data);

    ipynb_markdown(&nb, "## Figures\n\nThe sweep's figures, from `figures/`.");
    sbuf_clear(&t);
    sbuf_printf(&t, "grok sweep --summary %s", s->dir);
    int n_fig = 0;
    int rc = notebook_add_figures(&nb, s->dir, s->figures, s->n_figures,
                                  s->has_figure_index ? &s->figure_index : NULL, t.data, &n_fig, e);
    if (rc == GROK_OK) {
        ipynb_markdown(&nb, "## The sweep in pandas");
        sbuf_clear(&t);
        sbuf_puts(&t, SW_SETUP_HEAD);
        sbuf_puts(&t, "SWEEP_DIR = Path(");
        notebook_py_str(&t, sweep_dir);
        sbuf_puts(&t, ")\n");
        sbuf_puts(&t, SW_SETUP_TAIL);
        ipynb_code(&nb, t.data);
        ipynb_markdown(&nb, "Every run's outcome from its `summary.json`, joined to its row "
                            "of `sweep.tsv`:");
        ipynb_code(&nb, SW_RUNS);
        ipynb_code(&nb, SW_CURVES);
        ipynb_code(&nb, SW_PHASE);
    }
    sbuf md;
    sbuf_init(&md);
    if (rc == GROK_OK) {
        sbuf_puts(&md, "\"grok\": {\"format\": \"grok-notebook-1\", \"version\": \"" GROK_VERSION
                       "\", \"kind\": \"sweep\", \"sweep\": ");
        sbuf_json_string(&md, s->name);
        sbuf_printf(&md, ", \"runs\": %d, \"figures\": %d}", s->n_runs, n_fig);
        rc = ipynb_format(&nb, md.data, out, e);
    }
    if (rc == GROK_OK && info) {
        info->n_checkpoints = 0;
        info->n_figures = n_fig;
        info->n_runs = s->n_runs;
    }
    if (rc == GROK_OK && (t.oom || md.oom))
        rc = grok_fail(e, GROK_ENOMEM, "out of memory building the notebook");
    sbuf_free(&md);
    sbuf_free(&t);
    ipynb_free(&nb);
    return rc;
}
