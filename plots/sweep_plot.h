/* sweep_plot.h: the figures of a sweep, drawn from the sweep directory's
 * sweep.tsv and its points' metrics.tsv alone (the formats are
 * experiments/sweep.h's and the run directory's), so a copied sweep
 * directory is enough to redraw them.
 *
 * The figures, in DIR/figures (tex: DIR/figures/tex, as plot.h):
 *   sweep_phase    the phase diagram: grokked epoch as a heatmap over two
 *                  axes (x and y), the mean over the points that share a cell
 *                  (seeds, other axes); cells where no point grokked are grey
 *                  with a cross ("did not grok in N epochs"), cells not run
 *                  yet are left blank with a dashed outline, and a cell where
 *                  only some points grokked carries a '*' after its number.
 *   sweep_grokked  grokked epoch against the x axis: every point as an open
 *                  circle, the mean over the cell as a line with min-max bars;
 *                  points that did not grok are open triangles at their epoch
 *                  budget (a dashed line); one colour per value of the y axis
 *                  unless y is the seed (the legend titled by its key).
 *   sweep_loss     train (left) and test (right) loss of every point against
 *                  epoch, log y, each curve coloured by its x value.
 *   sweep_algorithm  which algorithm each cell learned (Zhong et al. 2023):
 *                  gradient symmetricity and distance irrelevance (sweep.tsv's
 *                  grad_sym, dist_irrel) as two heatmaps over x and y on one
 *                  colour scale, the mean over a cell's points, each cell
 *                  lettered with its points' verdicts (column algorithm: C
 *                  clock, P pizza, N neither, the most frequent first; the
 *                  mean itself without that column); skipped without the
 *                  columns or any value.
 *   sweep_liu_phases  Liu et al. 2022's phases over x and y: from each
 *                  point's metrics.tsv, t_train and t_test the first epochs at
 *                  90% train and test accuracy; comprehension (test within
 *                  1,000 epochs of train), grokking (later), memorisation
 *                  (train only), confusion (neither); a cell takes the phase
 *                  of most of its points (letters C, G, M, X; '*' when its
 *                  points differ).  Needs two axes.
 * The axes: x is opts->x when given, else the first axis that is not "seed"
 * (or the seed when it is the only axis); y is opts->y when given, else the
 * next axis that is not the seed, else "seed", else none (one row).
 *
 * Each drawing also writes DIR/figures/index.tsv (name, file, caption), as
 * for a run (plot.h).  Files: sweep_plot.c (the table, the recipes, the
 * entry points), sweep_data.c (reading the sweep directory).
 *
 * Library layer: prints nothing, never exits; statuses and grok_err as in
 * plot.h. */
#ifndef GROK_SWEEP_PLOT_H
#define GROK_SWEEP_PLOT_H

#include "fileio.h"
#include "grok.h"
#include "plot.h"

typedef struct {
    const char *x; /* axis column (a config key) for the x axis; NULL: automatic */
    const char *y; /* for the heatmap's y axis and the colour groups; NULL: automatic */
    int x_log;     /* 1: log x axis (a log-spaced range), 0: linear, -1: decide from the values */
    const plot_style *st; /* the style (plot.h); NULL: the default */
    const char *only;     /* one sweep figure's name; NULL: all */
} sweep_plot_opts;

/* Draws every sweep figure (opts->only: that one) of the sweep directory
 * dir in formats (as plot_run_dir: comma list of png, pdf, svg, tex; NULL
 * = png; "" = none) in style opts->st.  notes (may be NULL) receives a line
 * per skipped or failed figure and a summary line.  GROK_EINVAL when
 * sweep.tsv is missing or malformed, a format or figure name is unknown or
 * the style's epoch range is empty; GROK_EIO when gnuplot is missing
 * (GP_MISSING_MSG) or a figure failed; GROK_ENOMEM. */
int sweep_plot_dir(const char *dir, const char *formats, const sweep_plot_opts *opts, sbuf *notes,
                   grok_err *e);

/* Draws the sweep figures named in panels ("sweep_phase,sweep_grokked")
 * as the panels (a), (b), ... of one figure, dir/figures/<name>.<ext>
 * (name NULL: "panels"), with its editable copy in figures/src (plot.h,
 * plot_panels, for the layout, the size and the shared legend).  The
 * sweep preset is panels "sweep_phase,sweep_grokked", layout 1x2, name
 * "sweep": the phase diagram beside the grokked-epoch curve.  GROK_EINVAL
 * (nothing drawn) for an unknown or multi-panel figure (sweep_loss,
 * sweep_algorithm), one the sweep cannot draw yet, a layout too small, a
 * bad name; otherwise as sweep_plot_dir. */
int sweep_plot_panels(const char *dir, const char *panels, const char *layout, const char *name,
                      const char *formats, const sweep_plot_opts *opts, sbuf *notes,
                      grok_err *e);

/* The sweep figures, in drawing order: [0, *n) (plot.h's plot_figure; a
 * recipe's data is sweep_plot.c's view of a sweep_plot_data). */
const plot_figure *sweep_plot_figures(int *n);

/* ---- for tests: the data and the scripts --------------------------------- */

typedef struct sweep_plot_data sweep_plot_data;

/* Reads dir/sweep.tsv and each listed point's dir/<name>/metrics.tsv (when
 * present).  GROK_EINVAL names the problem with sweep.tsv; GROK_ENOMEM.
 * Free with sweep_plot_free. */
int sweep_plot_load(const char *dir, sweep_plot_data **out, grok_err *e);
void sweep_plot_free(sweep_plot_data *d);

/* Appends figure name's gnuplot script in format f to script.  Returns 1
 * when built; 0 when skipped, with the reason in why; GROK_EINVAL for an
 * unknown figure or an axis that is not a column of sweep.tsv. */
int sweep_plot_script(const sweep_plot_data *d, const char *name, plot_format f,
                      const sweep_plot_opts *opts, sbuf *script, sbuf *why, grok_err *e);

#endif
