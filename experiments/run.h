/* run.h: the training loop and the run directory it fills.
 *
 * A run directory (docs/formats.md, "The run directory") holds
 *   config.cfg        the fully resolved config (cfg_write)
 *   split.tsv         every example and its side of the split (format in run_files.c)
 *   metrics.tsv       one row per evaluation: epoch lr train_loss test_loss
 *                     train_acc test_acc elapsed_s
 *   checkpoints/epoch-NNNNNN.safetensors   the weights after NNNNNN epochs
 *   manifest.tsv      the CRC-32 and size of split.tsv (group.tsv, parity.tsv)
 *   state.safetensors what resume reads (weights, AdamW moments, step, epoch,
 *                     metrics history); its write is the commit point
 *   summary.json      memorised/grokked epochs, final metrics, timings
 *   log.txt           the progress lines and events
 * Every file is written atomically.  Everything except elapsed_s, wall times
 * and log.txt is a function of the config alone: the same bits for any thread
 * count, and a run killed at any instant then resumed writes the same bytes
 * as one that was never interrupted.
 *
 * These functions print progress on stderr (unless quiet) but never exit;
 * they return a grok_status and fill e. */
#ifndef GROK_RUN_H
#define GROK_RUN_H

#include "blisarch.h"
#include "cfg.h"
#include "fileio.h"
#include "grok.h"

/* Columns of metrics.tsv and of the state's "metrics" tensor, in order. */
#define RUN_METRICS_COLS 7
#define RUN_METRICS_HEADER "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s"

/* Accuracy that counts as memorised (train) or grokked (test). */
#define RUN_SOLVED_ACC 0.99

typedef struct {
    int quiet;                 /* 1: nothing on stderr except what the caller prints */
    const blisarch_info *blis; /* kernel and threads for the log and summary.json; may be NULL */
} run_opts;

/* Trains config c (as filled by cfg_load: checked, derived fields set) into
 * out_dir, creating it.  Everything is validated and allocated before the
 * directory is touched, so a failure before training leaves nothing behind.
 * GROK_EINVAL when out_dir already holds a run (state.safetensors: use
 * run_resume or another directory) or the loss becomes non-finite (the
 * message names the epoch, the value and the last good checkpoint); GROK_EIO
 * for file errors; GROK_ENOMEM. */
int run_train(const cfg_run *c, const char *out_dir, const run_opts *o, grok_err *e);

/* Continues the run in dir from its state.safetensors (or from the start
 * when it was killed before its first checkpoint), with config.cfg plus the
 * overrides sets[0..n_sets) ("key=value").  Only keys that do not change the
 * training itself may be overridden, those the key table marks resumable
 * (cfg_key_resumable): train.epochs (a finished run continues to the new
 * count), train.stop_test_acc, train.eval_every, checkpoint.*,
 * measures.*, plots.formats.  The same holds for hand edits of
 * config.cfg: any other difference from the state's config is GROK_EINVAL.
 * A run already complete is left as it is (GROK_OK, nothing written).
 * Before anything else the run's checksums are checked (run_verify_use): a
 * damaged file is GROK_EINVAL and nothing is read or written.  Resume never
 * overwrites split.tsv, group.tsv, parity.tsv or a checkpoint with other
 * content, rewrites config.cfg only for --set, and starts over without a
 * state only when that writes the same bytes (docs/formats.md, "Written
 * once"); otherwise GROK_EINVAL says why and what to do. */
int run_resume(const char *dir, const char *const *sets, int n_sets, const run_opts *o,
               grok_err *e);

/* Appends a one-screen description of the run in dir to out: config
 * essentials, epochs done, memorised/grokked epochs, final metrics,
 * checkpoints, wall time, files present. */
int run_info(const char *dir, sbuf *out, grok_err *e);

/* `grok measure DIR`: recomputes measures.tsv and the other measure files from
 * the run's checkpoints with `jobs` threads (measure_run_dir_result), and
 * replaces the measure members of summary.json.  Prints one line unless quiet. */
int run_remeasure(const char *dir, int jobs, int quiet, grok_err *e);

/* `grok import` (run_import.c): a run directory made from weights trained
 * elsewhere (docs/formats.md, "Import"). */
typedef struct {
    const char *out;                 /* the new run directory (must not exist) */
    const char *const *inputs;       /* checkpoint files, .safetensors or .npz */
    int n_inputs;
    const long *epochs;              /* one per checkpoint, in input order; NULL: from
                                        metadata or file names */
    int n_epochs;
    const char *config;              /* a grok config file, or NULL */
    const char *tl_config;           /* a TransformerLens config (JSON), or NULL */
    const char *const *sets;         /* --set key=value, applied last */
    int n_sets;
    const char *split;               /* split.tsv, training pairs or indices; NULL: the seed's */
    const char *curves;              /* a TSV of loss curves for metrics.tsv, or NULL */
    int ignore_extra, allow_missing; /* drop tensors the model lacks; fill missing ones */
    int jobs;                        /* threads of the measure pass (0: all) */
    int quiet;
    const blisarch_info *blis;       /* threads and kernel for summary.json; may be NULL */
} run_import_opts;

/* Checks every input, then writes OUT atomically (a sibling temporary
 * directory renamed into place; nothing is left on failure): config.cfg,
 * split.tsv, manifest.tsv, the checkpoints, the measures, metrics.tsv,
 * summary.json (status "imported") and log.txt.  GROK_EINVAL for bad input
 * (each unknown, missing or misshapen tensor named), GROK_EFORMAT for a
 * damaged file, GROK_EIO, GROK_ENOMEM. */
int run_import(const run_import_opts *o, grok_err *e);

/* What run_verify found. */
typedef struct {
    int runs;      /* run directories checked */
    int intact;    /* files whose checksum matched */
    int damaged;   /* files unreadable, truncated or whose checksum did not match */
    int unchecked; /* files without a checksum (written before checksums): accepted */
} run_verify_counts;

/* `grok verify DIR`: checks every checksummed file of the run in dir, or of
 * every run below dir (a sweep): state.safetensors and the checkpoints
 * (their "grok_crc32" metadata) and the files manifest.tsv lists.  Appends
 * one line per file and, for a damaged run, how to recover, to report;
 * counts in *n.  Damage is counted, not an error: GROK_OK whenever it could
 * look; GROK_EINVAL when dir holds no run. */
int run_verify(const char *dir, sbuf *report, run_verify_counts *n, grok_err *e);

/* What resume, measure, export and info call before they read the run in
 * dir (or the runs below it, for a sweep): GROK_OK when nothing is damaged (*unchecked, when not NULL: the
 * number of files without a checksum), else GROK_EINVAL with a message
 * naming every damaged file with its expected and found checksum. */
int run_verify_use(const char *dir, int *unchecked, grok_err *e);

#endif
