/* sweep_data.h: inside plots/ only: a sweep directory's data as the sweep
 * figures read it (sweep_data.c): sweep.tsv, each point's loss curve from
 * its metrics.tsv, and the queries the figures share (a point's outcome,
 * the distinct values of an axis, the axes to draw against).
 *
 * sweep.tsv and the points' metrics.tsv are read by model/rundir.h;
 * sweep.tsv's columns are found by header name, the axis columns being
 * those between "name" and "status" (experiments/sweep.h).  Each point's
 * metrics.tsv gives its epoch, train_loss and test_loss rows (those with
 * three finite numbers), thinned to SWEEP_PLOT_CURVE rows by a fixed stride
 * that keeps the first and last rows; a metrics.tsv that the reader refuses
 * gives no curve.
 *
 * A point counts as grokked when its grokked_epoch is a number (the first
 * epoch at test accuracy 0.99 cannot change once reached), as "did not
 * grok" when it has no grokked epoch and a final status (finished, stopped,
 * diverged), and as not run yet otherwise (pending, partial). */
#ifndef GROK_SWEEP_DATA_H
#define GROK_SWEEP_DATA_H

#include "rundir.h"
#include "sweep_plot.h"

#define SWEEP_PLOT_CURVE 400 /* rows per loss curve after thinning */

typedef struct {
    long n;
    double *epoch, *train, *test; /* [n] */
    /* the first epochs at train and at test accuracy >= SWEEP_PLOT_LIU_ACC,
     * from every row of metrics.tsv; NaN when never (or no such column) */
    double t_train, t_test;
} sp_curve;

/* Liu et al. 2022's phases (sweep_liu_phases): the accuracy that counts as
 * learned, and the gap (in epochs: one step an epoch at full batch) between
 * train and test beyond which a run groks rather than comprehends. */
#define SWEEP_PLOT_LIU_ACC 0.9
#define SWEEP_PLOT_LIU_GAP 1000.0

struct sweep_plot_data {
    rundir_tsv table; /* sweep.tsv */
    int n_cols;
    char **head;    /* [n_cols]: table.cols */
    long n_rows;
    char **cell;    /* [n_rows * n_cols]: table.text */
    int c_name, c_status, c_grok, c_total;
    int c_done;        /* epochs_done, or -1 (older tables) */
    long n_stop_rows;  /* rows counted as grokked at the epoch train.stop_test_acc stopped
                          them, below the 99% of grokked_epoch (sp_row_class) */
    int axis0, n_axes; /* the axis columns are [axis0, axis0 + n_axes) */
    sp_curve *curve;   /* [n_rows] */
};

/* The text of row r's cell in column c. */
const char *sp_cell(const sweep_plot_data *d, long r, int c);
/* 1 when s is all one finite number, stored in *x. */
int sp_number(const char *s, double *x);

typedef enum { SP_GROKKED, SP_DNG, SP_PENDING } sp_class;

/* Row r's outcome; *epoch its grokked epoch (when grokked), *budget its
 * epochs_total (NaN when not a number).  A run stopped by train.stop_test_acc
 * below 99% (Grokfast's 95%) has no grokked_epoch but did reach the claim's
 * threshold: it counts as grokked at the epoch it stopped (its epochs_done),
 * not as a run that never grokked (d->n_stop_rows says how many). */
sp_class sp_row_class(const sweep_plot_data *d, long r, double *epoch, double *budget);

/* The distinct values of column c in order of first appearance. */
typedef struct {
    int n;
    const char **v; /* [n], pointing into the table */
    int numeric;    /* every value is a number */
    double *x;      /* [n] their values when numeric */
} sp_levels;

int sp_levels_of(const sweep_plot_data *d, int c, sp_levels *l); /* GROK_ENOMEM */
void sp_levels_free(sp_levels *l);
/* The index of s among l's values, or -1. */
int sp_level_index(const sp_levels *l, const char *s);

/* The x and y columns (-1: none), as sweep_plot.h describes; GROK_EINVAL
 * names an axis of o that is not a column of sweep.tsv. */
int sp_pick_axes(const sweep_plot_data *d, const sweep_plot_opts *o, int *cx, int *cy,
                 grok_err *e);

#endif
