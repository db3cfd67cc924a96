/* figure.h: inside plots/ only: what the recipes are told (plot_ctx) and
 * the driver that draws a table of figures (plot.h's plot_figure), shared
 * by the run figures (figures.c) and the sweep figures (sweep_plot.c).
 *
 * plot_draw walks a table: for each figure and requested format it asks
 * the caller's script function for the script, runs it through gp_draw,
 * notes skips and failures, then writes figures/index.tsv (name, file,
 * caption; one row per figure drawn) atomically and appends the summary
 * line.  It is defined in plot.c, with the helpers the table walkers
 * share (the end of a script, a directory's base name). */
#ifndef GROK_FIGURE_H
#define GROK_FIGURE_H

#include <stdint.h>

#include "fileio.h"
#include "grok.h"
#include "plot.h"

struct plot_ctx {
    plot_format f;
    const char *name; /* the figure's name: the output file stem */
    const plot_style *st; /* the chosen style (never NULL) */
};

/* Builds figure fig's whole script in format f for data (terminal, style,
 * data, commands, `unset output`): 1 built, 0 skipped (reason in why), or a
 * negative status with e filled. */
typedef int (*plot_script_fn)(const void *data, const plot_figure *fig, plot_format f,
                              const plot_style *st, sbuf *script, sbuf *why, grok_err *e);

/* The run figures' script function (figures.c): the files figure fig
 * needs, then its recipe, for the plot_run data. */
int plot_run_script(const void *data, const plot_figure *fig, plot_format f,
                    const plot_style *st, sbuf *script, sbuf *why, grok_err *e);

/* One panel of a multi-panel figure: figure fig of data, its script built
 * by script (its table's script function), label (NULL: none) written
 * after its letter. */
typedef struct {
    plot_script_fn script;
    const void *data;
    const plot_figure *fig;
    const char *label;
} plot_panel;

/* The most panels of one figure. */
#define PLOT_PANELS_MAX 12

/* The figures named in the comma list panels, as indices of figs[0..n_figs)
 * into idx (PLOT_PANELS_MAX entries): their count, or GROK_EINVAL for an
 * unknown name ("unknown <what> ...", the valid ones listed), an empty or
 * too long list. */
int plot_panel_names(const char *panels, const plot_figure *figs, int n_figs, const char *what,
                     int *idx, grok_err *e);

/* GROK_EINVAL unless name (NULL: none) is a file stem of letters, digits,
 * _ and -, at most 60 characters. */
int plot_check_name(const char *name, grok_err *e);

/* Draws p[0..n) as the panels (a), (b), ... of one figure (panels.c) into
 * out_root/figures/<name>.<ext> (tex: figures/tex) in every format of
 * mask, with its editable copy in figures/src; not listed in
 * figures/index.tsv.  layout "RxC" (NULL: 1 x n up to 3 panels, else 2 or
 * 3 columns); the figure is page wide (7 in) with two columns or more, 2.3
 * in tall per row, unless st sets a size.  enhanced: gnuplot's enhanced
 * text (0 for figures whose labels are raw names).  One legend above all
 * panels when their legends list the same titles.  GROK_EINVAL for a
 * layout too small, a panel that cannot be drawn or is itself multi-panel
 * (nothing is drawn then); notes gets a line per file drawn. */
int plot_panels_draw(const char *out_root, const char *name, const plot_panel *p, int n,
                     const char *layout, unsigned mask, const plot_style *st, int enhanced,
                     sbuf *notes, grok_err *e);

/* The index of the figure called name in figs[0..n), or -1 with GROK_EINVAL
 * in e: "unknown <what> \"NAME\": valid <what>s are loss, accuracy, ...". */
int plot_find_figure(const plot_figure *figs, int n, const char *name, const char *what,
                     grok_err *e);

/* The figures named by list ("loss" or "loss,accuracy") as a set over
 * figs[0..n) (bit i: figs[i]; n <= 64) in *sel; GROK_EINVAL with the
 * plot_find_figure message for an unknown or empty name. */
int plot_find_figures(const plot_figure *figs, int n, const char *list, const char *what,
                      uint64_t *sel, grok_err *e);

/* Draws figs[0..n) (only those in the set only when it is not 0) of data in the formats
 * of mask into dir/figures (tex: dir/figures/tex), then writes
 * dir/figures/index.tsv: a row per figure drawn in every format, in table
 * order; with a selection only (plot_find_figures; 0: every figure) the
 * rows of the other figures of figs already in the index are kept.  notes (may be NULL) gets "NAME: skipped: WHY" lines,
 * gnuplot's warnings and failures, and the summary line "<what>: N figures
 * drawn, M skipped[, K failed] (dir/figures)".  Returns as plot_run_dir. */
int plot_draw(const char *dir, const char *what, const plot_figure *figs, int n, uint64_t only,
              unsigned mask, const plot_style *st, plot_script_fn script, const void *data,
              sbuf *notes, grok_err *e);

/* The end of a figure's script function: rc is the recipe's result (1
 * built, 0 skipped, < 0 failed).  When built, appends `unset output`;
 * otherwise drops what the recipe appended after mark.  Returns rc, or
 * GROK_ENOMEM with e filled ("figure NAME: out of memory"). */
int plot_finish_script(int rc, const plot_figure *fig, sbuf *script, size_t mark, grok_err *e);

/* The checks before a drawing: formats parsed into *mask (plot_parse_formats),
 * the style checked (plot_style_check) and, when *st is NULL, pointed at
 * def filled with the default style.  GROK_EINVAL with e filled. */
int plot_prepare(const char *formats, const plot_style **st, plot_style *def, unsigned *mask,
                 grok_err *e);

/* The last path component of dir, without trailing slashes, into out. */
void plot_dir_base(const char *dir, char *out, size_t cap);

/* Writes the editable copy of figure fig's script in format f (as sent to
 * gnuplot) into fig_dir/src: NAME.gp (first: the first format drawn of the
 * figure) or NAME.<ext>.gp, its data blocks moved to NAME.tsv or
 * NAME_BLOCK.tsv and the script pointed at them (plot_src.c).
 * GROK_EIO, GROK_ENOMEM. */
int plot_save_src(const char *fig_dir, const char *fig, plot_format f, int first,
                  const char *script, size_t n, grok_err *e);

/* Appends script[0..n) to out with every data block $X (its `$X << EOD`
 * line and its uses outside strings and comments) renamed $<prefix>X, so
 * that several scripts can share one gnuplot session (panels); without
 * with_data each block is left out (a comment in its place), for a script
 * run again after its data was defined.  GROK_EINVAL when a block is not
 * closed; GROK_ENOMEM. */
int plot_rename_blocks(sbuf *out, const char *script, size_t n, const char *prefix,
                       int with_data);

#endif
