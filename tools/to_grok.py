#!/usr/bin/env python3
"""to_grok.py: writes a model trained in PyTorch into the input of `grok import`.

Reads a PyTorch checkpoint (torch.load) holding a state dict, Nanda et al.'s
saved dict ({'model': state_dict, 'checkpoints': [...], 'checkpoint_epochs':
[...], 'train_losses', 'test_losses', 'train_data' or 'train_indices'}) or a
pickled TransformerLens HookedTransformer, and writes into OUT:

  epoch-N.safetensors  one per checkpoint, TransformerLens names and shapes
                       (float32, or the tensors' own dtype with --keep-dtype)
  tl_config.json       the HookedTransformerConfig keys grok import reads
  split.txt            the training pairs "a b", one a line (when known)
  curves.tsv           epoch train_loss test_loss (when the losses are known)

Nanda et al.'s own layout (embed.W_E [d_model, d_vocab], attn.W_Q [n_heads,
d_head, d_model], attn.W_O [d_model, n_heads*d_head], mlp.W_in [d_mlp,
d_model], mlp.W_out [d_model, d_mlp]) is transposed into TransformerLens's;
the attention mask buffers are left out.  Then:

  grok import OUT/epoch-*.safetensors --tl-config OUT/tl_config.json \\
      --split OUT/split.txt --curves OUT/curves.tsv --out RUN

Needs torch and numpy (Debian: python3-torch, python3-numpy).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

ST_DTYPES = {np.dtype('float32'): 'F32', np.dtype('float64'): 'F64', np.dtype('float16'): 'F16'}


def write_safetensors(path, tensors, meta):
    """The safetensors format (huggingface/safetensors README): u64 header
    length, JSON header, packed little-endian data.  tensors: name -> (dtype
    name, shape, bytes)."""
    header, offset, blobs = {'__metadata__': meta}, 0, []
    for name, (dt, shape, data) in tensors.items():
        header[name] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def tensor_bytes(t, keep_dtype):
    """(dtype name, shape, little-endian bytes) of a torch tensor."""
    import torch
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16 and keep_dtype:
        raw = t.view(torch.int16).numpy().astype('<i2').tobytes()
        return 'BF16', tuple(t.shape), raw
    a = t.float().numpy() if (t.dtype == torch.bfloat16 or not keep_dtype) else t.numpy()
    if a.dtype not in ST_DTYPES:
        a = a.astype(np.float32)
    return ST_DTYPES[a.dtype], a.shape, a.astype(a.dtype.newbyteorder('<')).tobytes()


def is_nanda_layout(sd):
    """Nanda et al.'s Transformer: W_O is [d_model, n_heads * d_head]."""
    return any(k.endswith('attn.W_O') and v.dim() == 2 for k, v in sd.items())


def to_tl(sd):
    """Nanda et al.'s layout to TransformerLens's (names are the same)."""
    out = {}
    for k, v in sd.items():
        if k.endswith('attn.mask') or k.endswith('attn.IGNORE') or '.hook_' in k:
            continue
        if k == 'embed.W_E':
            v = v.T                                   # [d_vocab, d_model]
        elif k.endswith(('attn.W_Q', 'attn.W_K', 'attn.W_V')):
            v = v.transpose(1, 2)                     # [n_heads, d_model, d_head]
        elif k.endswith('attn.W_O'):
            n_heads = sd[k.replace('W_O', 'W_Q')].shape[0]
            d_model, hd = v.shape
            v = v.T.reshape(n_heads, hd // n_heads, d_model)  # [n_heads, d_head, d_model]
        elif k.endswith(('mlp.W_in', 'mlp.W_out')):
            v = v.T                                   # [d_model, d_mlp], [d_mlp, d_model]
        out[k] = v
    return out


def drop_buffers(sd):
    return {k: v for k, v in sd.items()
            if not (k.endswith('attn.mask') or k.endswith('attn.IGNORE') or '.hook_' in k)}


def tl_config_of(sd, act_fn):
    """HookedTransformerConfig keys from TransformerLens-layout shapes."""
    n_layers = 1 + max(int(k.split('.')[1]) for k in sd if k.startswith('blocks.'))
    n_heads, d_model, d_head = sd['blocks.0.attn.W_Q'].shape
    return {'n_layers': n_layers, 'd_model': d_model, 'n_heads': n_heads, 'd_head': d_head,
            'd_mlp': sd['blocks.0.mlp.W_in'].shape[1], 'd_vocab': sd['embed.W_E'].shape[0],
            'd_vocab_out': sd['unembed.W_U'].shape[1], 'n_ctx': sd['pos_embed.W_pos'].shape[0],
            'act_fn': act_fn, 'normalization_type': 'LN' if 'ln_final.w' in sd else None}


def convert(obj, out, act_fn='relu', keep_dtype=False, epoch=None):
    """Writes obj (see the module docstring) into the folder out; returns the
    files written."""
    os.makedirs(out, exist_ok=True)
    cfg = None
    if hasattr(obj, 'state_dict') and hasattr(obj, 'cfg'):       # a HookedTransformer
        cfg = {k: v for k, v in obj.cfg.to_dict().items()
               if isinstance(v, (int, float, str, bool, type(None)))}
        obj = obj.state_dict()
    if isinstance(obj, dict) and 'model' in obj and isinstance(obj['model'], dict):
        saved = obj
        states = saved.get('checkpoints') or [saved['model']]
        epochs = saved.get('checkpoint_epochs') or [saved.get('epoch', epoch or 0)]
        if len(states) != len(epochs):
            sys.exit(f'to_grok: {len(states)} checkpoints but {len(epochs)} checkpoint_epochs')
    else:
        saved, states, epochs = {}, [obj], [epoch or 0]
    written = []
    for sd, ep in zip(states, epochs):
        sd = to_tl(sd) if is_nanda_layout(sd) else drop_buffers(sd)
        path = os.path.join(out, f'epoch-{int(ep)}.safetensors')
        write_safetensors(path, {k: tensor_bytes(v, keep_dtype) for k, v in sd.items()},
                          {'epoch': str(int(ep)), 'source': 'tools/to_grok.py'})
        written.append(path)
    if cfg is None:
        cfg = tl_config_of(sd, act_fn)
    with open(os.path.join(out, 'tl_config.json'), 'w') as f:
        json.dump({k: (int(v) if isinstance(v, np.integer) else v) for k, v in cfg.items()}, f,
                  indent=1)
    written.append(os.path.join(out, 'tl_config.json'))
    train = saved.get('train_data')
    if train is not None:
        with open(os.path.join(out, 'split.txt'), 'w') as f:
            f.write('# training pairs a b\n')
            for row in train:
                f.write(f'{int(row[0])} {int(row[1])}\n')
        written.append(os.path.join(out, 'split.txt'))
    elif saved.get('train_indices') is not None:
        with open(os.path.join(out, 'split.txt'), 'w') as f:
            f.write('# training example indices a*p + b\n')
            for i in saved['train_indices']:
                f.write(f'{int(i)}\n')
        written.append(os.path.join(out, 'split.txt'))
    tr, te = saved.get('train_losses'), saved.get('test_losses')
    if tr is not None and te is not None:
        every = int(saved.get('loss_every', 1))
        with open(os.path.join(out, 'curves.tsv'), 'w') as f:
            f.write('epoch\ttrain_loss\ttest_loss\n')
            for i, (a, b) in enumerate(zip(tr, te)):
                f.write(f'{i * every}\t{float(a):.9g}\t{float(b):.9g}\n')
        written.append(os.path.join(out, 'curves.tsv'))
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('checkpoint', help='a file torch.load reads')
    ap.add_argument('--out', required=True, help='the folder to write')
    ap.add_argument('--act', default='relu', choices=['relu', 'gelu'],
                    help="act_fn when the checkpoint has no TransformerLens config (default relu)")
    ap.add_argument('--epoch', type=int, default=None, help='the epoch of a bare state dict')
    ap.add_argument('--keep-dtype', action='store_true',
                    help='keep float64/bfloat16/float16 (grok import converts them)')
    a = ap.parse_args()
    import torch
    obj = torch.load(a.checkpoint, map_location='cpu')
    files = convert(obj, a.out, a.act, a.keep_dtype, a.epoch)
    for f in files:
        print('wrote', f)
    cks = ' '.join(f for f in files if f.endswith('.safetensors'))
    extra = ''.join(f' --{n} {os.path.join(a.out, f)}' for n, f in
                    (('split', 'split.txt'), ('curves', 'curves.tsv'))
                    if os.path.exists(os.path.join(a.out, f)))
    print(f'grok import {cks} --tl-config {os.path.join(a.out, "tl_config.json")}{extra} --out RUN')


if __name__ == '__main__':
    main()
