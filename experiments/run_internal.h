/* run_internal.h: what the pieces of the run module share (not public: run.h
 * is the interface).
 *
 *   run_loop.c       the training session: run_ctx built, the loop, the end;
 *                    run_train
 *   run_files.c      the run-directory files: paths, lock, writers, commit
 *   run_fork.c       init.from: starting from another run's checkpoint
 *   run_resume.c     reading a state back; run_resume
 *   run_info.c       run_info
 *   run_remeasure.c  run_remeasure
 *   run_verify.c     run_verify, run_verify_use: checksums of a run directory
 *   run_import.c     run_import: a run directory from weights trained elsewhere */
#ifndef GROK_RUN_INTERNAL_H
#define GROK_RUN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "measure.h"
#include "model.h"
#include "progress.h"
#include "run.h"
#include "safetensors.h"
#include "task.h"
#include "threadtune.h"
#include "trainer.h"

#define RUN_PATH_MAX 4096
#define RUN_CKPT_FORMAT "grok-checkpoint-1"
#define RUN_STATE_FORMAT "grok-state-1"
#define RUN_SUMMARY_FORMAT "grok-summary-1"

/* Column indices of a metrics row. */
enum { COL_EPOCH, COL_LR, COL_TRAIN_LOSS, COL_TEST_LOSS, COL_TRAIN_ACC, COL_TEST_ACC, COL_ELAPSED };

/* Everything one training session holds. */
typedef struct {
    cfg_run cfg;
    const run_opts *opts;
    char dir[RUN_PATH_MAX];
    int lock_fd;              /* the run directory, flock'ed; -1 when not open */
    task_data task;
    model model;
    trainer tr;               /* the training step, its optimizer, filters and workspace */
    int batch;                /* examples per step: n_train for the full batch */
    int32_t *perm;            /* [n_train] one epoch's minibatch order */
    int32_t *batch_tokens;    /* [batch, T] */
    int32_t *batch_labels;    /* [batch] */
    double *hist;             /* [n_rows, RUN_METRICS_COLS] */
    size_t n_rows, cap_rows;
    long epoch;               /* completed epochs */
    long last_commit;         /* epoch of the last state written; -1: none */
    long memorised, grokked;  /* first such eval epoch; -1: not yet */
    double elapsed_base;      /* seconds spent in earlier sessions */
    double t_start;           /* monotonic start of this session */
    sbuf cfg_text;            /* resolved config: checkpoint and state metadata */
    sbuf core_text;           /* training_config (see the file comment) */
    sbuf log;                 /* log.txt */
    progress prog;
    measure_live meas;        /* progress measures from the live parameters */
    int meas_ready;
    sbuf measure_json;        /* "fourier", "key_freqs", "phases" for summary.json */
    const char *ckpt_note;    /* grok import: the "imported_from" metadata of the next
                                 checkpoint written; NULL otherwise */
    const char *import_json;  /* grok import: the "import" member of summary.json (whose
                                 wall_s and ms_per_epoch are then null); NULL otherwise */
    threadtune tune;          /* the loop's thread count (threadtune.h) */
} run_ctx;


/* ---- run_files.c: paths, the lock, the files ---------------------------- */

/* dir/name into buf (RUN_PATH_MAX bytes); GROK_EINVAL when too long. */
int run_path(char *buf, const char *dir, const char *name, grok_err *e);
/* "checkpoints/epoch-NNNNNN.safetensors" for epoch ep. */
void run_ckpt_name(char *buf, size_t n, long ep);
/* The exclusive flock on r->dir for this process's lifetime. */
int run_lock(run_ctx *r, grok_err *e);
/* Removes the "NAME.tmp.PID" files a killed writer left in dir. */
void run_remove_stale_tmp(const char *dir);
/* b written atomically to r->dir/name. */
int run_write_text(const run_ctx *r, const char *name, const sbuf *b, grok_err *e);
int run_write_split(const run_ctx *r, grok_err *e);
int run_write_metrics(const run_ctx *r, grok_err *e);
int run_write_summary(const run_ctx *r, long ep, const char *status, grok_err *e);
/* checkpoints/epoch-NNNNNN.safetensors of r's parameters (never overwriting
 * other weights: run_files.c, written once). */
int run_write_checkpoint(const run_ctx *r, long ep, grok_err *e);
/* The commit at epoch ep: metrics, checkpoint, state (the commit point),
 * summary, log. */
int run_commit(run_ctx *r, long ep, const char *status, grok_err *e);

/* ---- run_loop.c: the session -------------------------------------------- */

/* Seconds of training so far, earlier sessions included. */
double run_elapsed(const run_ctx *r);
/* Builds task, model, trainer and workspaces for c; touches no file. */
int run_build(run_ctx *r, const cfg_run *c, const char *dir, const run_opts *o, grok_err *e);
/* c with every resumable key at its default, as config text: the state's
 * "training_config", what a resume must not change. */
int run_core_text(const cfg_run *c, sbuf *out);
void run_ctx_free(run_ctx *r);
/* The initial parameters: seeded, or init.from's (run_fork). */
int run_init_params(run_ctx *r, grok_err *e);
/* The metrics history: append a row, the last row (NULL: none), and the
 * first eval epochs that reached RUN_SOLVED_ACC (-1: none). */
int run_append_row(run_ctx *r, const double row[RUN_METRICS_COLS], grok_err *e);
const double *run_last_row(const run_ctx *r);
void run_solved_epochs(const double *hist, size_t n_rows, long *memorised, long *grokked);
/* The rest of a train or resume once r is set up (rc: how the set-up went),
 * config.cfg rewritten when write_cfg; frees r. */
int run_session(run_ctx *r, int rc, int write_cfg, const char *what, grok_err *e);

/* ---- run_fork.c, run_resume.c ------------------------------------------- */

/* init.from: the weights (and with init.optim the optimizer state) of
 * another run. */
int run_fork(run_ctx *r, grok_err *e);
/* init.split: r->task's split replaced by the origin's split.tsv (by the
 * run's own once it has one: a resume); called while building r, before
 * anything is sized by the number of training examples. */
int run_fork_split(run_ctx *r, grok_err *e);
/* Fails unless f holds tensor name with dtype and numel elements (ndim
 * dimensions; numel (size_t)-1: any); on success *data points at it. */
int run_state_tensor(const st_file *f, const char *path, const char *name, st_dtype dt, int ndim,
                     size_t numel, const void **data, grok_err *e);

#endif
