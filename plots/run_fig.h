/* run_fig.h: inside plots/ only: what the run figures' recipes share.
 * The helpers are defined in figures.c (with the table of run figures and
 * the recipes of the training curves and the Fourier measures); the
 * recipes declared at the end are those of algo_figs.c, the figures that
 * tell which algorithm a run learned (the clock and pizza pictures, the
 * coefficients alpha_k, the per-frequency excluded loss, the irreps of a
 * group). */
#ifndef GROK_RUN_FIG_H
#define GROK_RUN_FIG_H

#include <stddef.h>

#include "figure.h"
#include "run_data.h"

/* 1 when k is one of r's key frequencies (summary.json). */
int plot_is_key(const plot_run *r, int k);

/* The entries of a tics list ("'3' 3, '7,9' 8") at the centres of the runs
 * of key frequencies in [1, max_k] (neighbours closer than min_gap share a
 * label), at position a*k + b. */
void plot_key_tics(sbuf *s, const plot_run *r, int max_k, double min_gap, double a, double b);

/* The terminal, the shared style, enhanced text and solid fills. */
void plot_begin(sbuf *s, const plot_ctx *c, double w_in, double h_in);

/* The largest epoch in t's column "epoch". */
double plot_last_epoch(const plot_table *t);

/* Curves of at most PLOT_FEW_ROWS rows are drawn with their points marked
 * (linespoints), a curve of one row as a point alone: a line through one
 * point draws nothing, and a few points joined by straight lines hide
 * where the measurements are. */
#define PLOT_FEW_ROWS 25

/* The `with` clause of a curve of n rows: "lines", "linespoints" or
 * "points ps 1.2". */
const char *plot_with(size_t n);

/* When every epoch of t is the same one (a single checkpoint), an x range
 * around it (autoscale would give an empty range and a gnuplot warning),
 * unless the style sets --from or --to. */
void plot_single_epoch_x(sbuf *s, const plot_ctx *c, const plot_table *t);

/* When columns cols[0..n) of t hold one value only (one row), a y range
 * around it (a factor of 2 on a log axis, 10% on a linear one), so that
 * gnuplot does not warn of an empty range. */
void plot_flat_y(sbuf *s, const plot_table *t, const char *const *cols, int n, int log_y);

/* The three phases as shaded bands (set object 1..3) up to xmax, their
 * legend entries appended to keys (each starting ", "). */
void plot_phases(sbuf *s, sbuf *keys, const plot_run *r, const plot_ctx *c, double xmax);

/* The epoch x axis: autoscaled to the data, log(1 + epoch) with epoch 0
 * drawn when the style asks, cut to the style's --from/--to. */
void plot_epoch_x(sbuf *s, const plot_ctx *c, double xmax);

/* An epoch x k heatmap of table t (read from file): 1 when t has at least
 * two increasing epochs, else 0 with the reason in why. */
int plot_heat_check(const plot_table *t, const char *file, sbuf *why);
/* $name << EOD: rows "epoch k value" for k = 1..K (column idx[k] of t),
 * a blank line after each epoch, as `with image` reads them.  The rows
 * are sent as they are when the epochs are evenly spaced, else resampled
 * to PLOT_HEAT_COLS even columns (nearest measured epoch).  what names the
 * value in the block's comment.  Values are passed through keep (NULL:
 * all), which returns NaN for the ones not to draw. */
void plot_heat_block(sbuf *s, const char *name, const plot_table *t, const int *idx, int K,
                     const char *what, double (*keep)(double));

/* The recipes of algo_figs.c (plot_figure.build). */
int fig_coefs(const void *data, const plot_ctx *c, sbuf *s, sbuf *why);
int fig_excluded_freq(const void *data, const plot_ctx *c, sbuf *s, sbuf *why);
int fig_embed_circles(const void *data, const plot_ctx *c, sbuf *s, sbuf *why);
int fig_logit_sd(const void *data, const plot_ctx *c, sbuf *s, sbuf *why);
int fig_irreps(const void *data, const plot_ctx *c, sbuf *s, sbuf *why);

#endif
