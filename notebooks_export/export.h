/* export.h: hand a run directory to Python (`grok export`).
 *
 *   export_ipynb        a Jupyter notebook that tells the run's story
 *                       (notebook.h lists its cells); default DIR/run.ipynb.
 *                       For a sweep directory (SWEEPDIR/sweep.tsv plus one
 *                       run directory per point) one notebook over the whole
 *                       sweep; default SWEEPDIR/sweep.ipynb.
 *   export_npz          every checkpoint (or the chosen ones) as one .npz:
 *                       default DIR/run.npz, holding
 *                         <tensor name>     one array per parameter, stacked
 *                                           over checkpoints: [C, *shape], the
 *                                           checkpoint's dtype (float32), with
 *                                           TransformerLens names
 *                                           ("blocks.0.attn.W_Q": [C, H, D, Dh])
 *                         epochs            int64 [C], the checkpoints' epochs
 *                         metrics.<column>  every numeric column of metrics.tsv
 *                                           (metrics.epoch int64, others float64)
 *                         measures.<column> the same for measures.tsv, if any
 *                         meta.<key>        the checkpoints' metadata: int64
 *                                           scalars for whole numbers
 *                                           (meta.d_model), else 0-d unicode
 *                                           (meta.act); meta.config is the
 *                                           resolved config text
 *                       so np.load("run.npz")["blocks.0.mlp.W_in"][i] is the
 *                       checkpoint of epoch np.load(...)["epochs"][i].
 *   export_safetensors  one safetensors file per checkpoint (or the chosen
 *                       ones), default DIR/safetensors/epoch-NNNNNN.safetensors:
 *                       the checkpoint's TransformerLens tensors and metadata,
 *                       plus "tl_config", the HookedTransformerConfig keyword
 *                       arguments as a JSON object.
 *
 * Every checkpoint to be exported is read and checked before anything is
 * written (the safetensors reader's checks, then the same tensor names,
 * dtypes and shapes in every checkpoint, and the "epoch" metadata matching
 * the file name), and each output file appears atomically, so bad input
 * (not a run directory, a truncated checkpoint, an unknown epoch) writes
 * nothing.  Nothing here prints; every function returns a grok_status. */
#ifndef GROK_EXPORT_H
#define GROK_EXPORT_H

#include <stddef.h>

#include "grok.h"

/* In export_opts.epochs: the last checkpoint. */
#define EXPORT_LAST (-1L)

#define EXPORT_IPYNB_NAME "run.ipynb"
#define EXPORT_SWEEP_IPYNB_NAME "sweep.ipynb"
#define EXPORT_NPZ_NAME "run.npz"
#define EXPORT_SAFETENSORS_DIR "safetensors"

typedef struct {
    const long *epochs; /* [n_epochs] checkpoint epochs (or EXPORT_LAST); NULL: every one */
    int n_epochs;
    const char *out;    /* output file (ipynb, npz; an existing directory gets the default
                           name inside it) or directory (safetensors); NULL: default */
    const grok_progress *progress; /* npz, safetensors: each checkpoint checked, then each
                                      array (npz) or file (safetensors) written, as steps of
                                      2 x checkpoints; may be NULL */
} export_opts;

typedef struct {
    char path[4096];   /* the file or directory written */
    int n_checkpoints; /* checkpoints exported (npz, safetensors) or found (ipynb) */
    int n_figures;     /* figures embedded (ipynb) */
    int n_runs;        /* sweep points (sweep notebook), else 0 */
    size_t bytes;      /* bytes written in all */
} export_result;

/* GROK_EINVAL: dir is not a run (or sweep) directory, an epoch has no
 * checkpoint (the message lists the available ones), epochs were given for a
 * notebook, or out is the run's own checkpoints/ folder.  GROK_EFORMAT: a
 * damaged file (its path and the failed check named).  GROK_EIO, GROK_ENOMEM.
 * res (may be NULL) describes what was written. */
int export_ipynb(const char *dir, const export_opts *o, export_result *res, grok_err *e);
int export_npz(const char *dir, const export_opts *o, export_result *res, grok_err *e);
int export_safetensors(const char *dir, const export_opts *o, export_result *res, grok_err *e);

#endif
