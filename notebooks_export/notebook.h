/* notebook.h: the notebooks `grok export --to ipynb` writes (their cells;
 * ipynb.c owns the file format).
 *
 * A run's notebook tells its story, top to bottom:
 *   1. a summary table: task, model, optimiser, training, memorised and
 *      grokked epochs, final metrics, key frequencies, phase boundaries,
 *      checkpoints, timing (config.cfg and summary.json);
 *   2. the run's figures (figures/ *.png, as grok plot draws them) embedded as
 *      cell attachments, so the notebook shows them without the directory;
 *   3. code: metrics.tsv and measures.tsv into pandas, the curves and the
 *      progress measures redrawn with matplotlib; a safetensors reader in
 *      NumPy alone; every checkpoint listed, the last one loaded; the
 *      model's forward pass in NumPy (float64, TransformerLens conventions,
 *      model/tfm.h) rebuilding the logits of the train and test sets of
 *      split.tsv and checking their losses and accuracies against
 *      metrics.tsv; weight norms over all checkpoints; the Fourier norms of
 *      W_E; and the HookedTransformerConfig and state dict for
 *      TransformerLens, loaded where that package is installed.
 * It runs with `jupyter nbconvert --to notebook --execute` using only numpy,
 * pandas and matplotlib, and finds the run directory relative to itself.
 *
 * A sweep's notebook: the sweep's points as a table, the sweep figures
 * (SWEEPDIR/figures/ *.png), sweep.tsv as a DataFrame joined with each run's
 * summary.json, every run's test curves, and the grokked epoch over the swept
 * parameters.
 *
 * The notebooks are deterministic: the same directory gives the same bytes. */
#ifndef GROK_NOTEBOOK_H
#define GROK_NOTEBOOK_H

#include "fileio.h"
#include "grok.h"
#include "rdir.h"

typedef struct {
    int n_checkpoints; /* the run's checkpoints */
    int n_figures;     /* figures embedded */
    int n_runs;        /* sweep: run directories found */
} notebook_info;

/* Appends the notebook of run r to out.  run_dir is the run directory as
 * the notebook's code should name it (relative to where the notebook will
 * be written).  info (may be NULL) gets counts.  GROK_EIO when a figure
 * cannot be read; GROK_ENOMEM. */
int notebook_run(const rdir *r, const char *run_dir, sbuf *out, notebook_info *info,
                 grok_err *e);

/* The same for a sweep directory. */
int notebook_sweep(const rdir_sweep *s, const char *sweep_dir, sbuf *out, notebook_info *info,
                   grok_err *e);

#endif
