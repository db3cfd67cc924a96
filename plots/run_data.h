/* run_data.h: inside plots/ only: a run directory's tables as the run
 * figures' recipes read them (run_data.c).
 *
 * The files are read by model/rundir.h (its TSV policy: columns by header
 * name, text cells such as key_freqs' "14,35,41" are NaN).  A file that the
 * reader refuses (a row of the wrong width) is unusable for its figures:
 * the reader's message is the figures' reason, not an error.  A
 * summary.json that is not JSON leaves the figures without marks.  Only
 * files are read, so a copied run directory is enough to redraw every
 * figure.
 *
 * Curves with more than PLOT_MAX_POINTS rows are thinned by a fixed stride
 * when sent as data blocks, always keeping the first and last rows and the
 * rows nearest the marked epochs; fewer rows are sent exactly. */
#ifndef GROK_RUN_DATA_H
#define GROK_RUN_DATA_H

#include <stddef.h>

#include "fileio.h"
#include "plot.h"
#include "rundir.h"

/* Rows sent per curve before thinning starts. */
#define PLOT_MAX_POINTS 5000
/* Key frequencies read from summary.json, at most. */
#define PLOT_MAX_KEY_FREQS 256

typedef struct {
    int present;       /* the file exists */
    char problem[256]; /* why the file cannot be used; "" when it can */
    size_t n_rows;     /* 0 when there is a problem */
    rundir_tsv tsv;
} plot_table;

struct plot_run {
    char *dir;
    plot_table metrics, measures, fourier, neurons, attention;
    /* which algorithm (issue 12): per epoch, and at the final checkpoint */
    plot_table excluded, coefs, irreps, circles, logit_sd;

    /* logit_spectrum.tsv: a p x p matrix after a '#' comment line */
    plot_table spec_tsv;
    const char *spec_comment;
    int spec_p;
    const double *spec; /* [spec_p][spec_p]: rows f, columns g, basis const, cos1, sin1, ... */

    /* summary.json */
    int has_summary;
    double memorised, grokked; /* NaN when null or absent */
    double phase_end[3];       /* memorisation, circuit formation, cleanup; NaN when absent */
    int n_key_freqs;
    int key_freqs[PLOT_MAX_KEY_FREQS];
    char fourier_reason[256]; /* why the Fourier measures do not apply; "" when they do */
    char verdict[32];         /* algorithm.verdict ("clock", "pizza", ...); "" when absent */

    /* config.cfg: the range of the task's two operands (rundir_config_operands);
     * 0 when config.cfg is missing, unreadable or names no such task */
    int n_operands;
    /* config.cfg's train.loss ("softmax_ce", "stablemax_ce", "mse"); "" when
     * absent: what metrics.tsv's train_loss and test_loss hold */
    char loss[24];
};

/* The axis label of metrics.tsv's train_loss and test_loss for a run
 * trained on loss (plot_run.loss): "mean squared error", "StableMax
 * cross-entropy (nats)", else "cross-entropy loss (nats)". */
const char *plot_loss_label(const char *loss);

/* The table read from file (a RUNDIR_* name), or NULL for a file the run
 * figures do not read as a table (summary.json). */
const plot_table *plot_run_table(const plot_run *r, const char *file);

int plot_table_col(const plot_table *t, const char *name);
double plot_table_at(const plot_table *t, size_t row, int col);

/* 1 when table t (read from file) can serve a figure; else 0 with the
 * reason appended to why: the file is missing or malformed, lacks one of
 * cols, or has no rows. */
int plot_need(const plot_table *t, const char *file, const char *const *cols, int n, sbuf *why);

/* $name << EOD ... EOD with the columns cols[0..n) of t (cols[0] is the
 * epoch), each multiplied by scale[i] when scale is not NULL, thinned as
 * above keeping the rows nearest marks[0..n_marks).  GROK_ENOMEM. */
int plot_block(sbuf *s, const char *name, const plot_table *t, const char *const *cols, int n,
               const double *scale, const double *marks, int n_marks);

/* The rows of plot_block without the block's first and last lines: a
 * comment naming the columns, then the rows.  GROK_ENOMEM. */
int plot_block_rows(sbuf *s, const plot_table *t, const char *const *cols, int n,
                    const double *scale, const double *marks, int n_marks);

/* plot_run_load reading only metrics.tsv and measures.tsv of the tables
 * (with summary.json and config.cfg): the curves that runs are compared by. */
int plot_run_load_curves(const char *dir, plot_run **out, grok_err *e);

#endif
