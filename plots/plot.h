/* plot.h: the figures of a run, drawn from its run-directory files alone.
 *
 * A figure is a recipe: a name, the files and columns it needs, and a
 * builder that turns the run's data into one gnuplot script (the data sent
 * inline as `$name << EOD` blocks, then the commands).  Builders only build
 * text, so tests compare scripts without running gnuplot; gp.c runs them.
 * Every recipe draws in one shared style (plot.c, plot_style): Okabe-Ito
 * colour-blind-safe line colours, viridis for heatmaps, sizes and fonts for a
 * 3.4 in paper column (a full 7 in page width for the attention panels).
 *
 * The figures (plot_figure_name):
 *   loss               train and test loss against epoch, log y, memorised and
 *                      grokked epochs marked                 metrics.tsv, summary.json
 *   accuracy           train and test accuracy, same marks   metrics.tsv, summary.json
 *   progress           train, test, restricted and excluded loss on one log
 *                      axis, the three phases shaded (Nanda et al. 2023, Fig. 7)
 *                                                            measures.tsv, summary.json
 *   gini               Gini coefficient of the Fourier norms of W_E and W_L
 *   weights            total sum of squared weights          measures.tsv, summary.json
 *   fourier_embed      Fourier norms of W_E by frequency at the last measured
 *                      epoch, key frequencies highlighted    fourier_embed.tsv
 *   fourier_embed_epochs   the same over epochs, as a heatmap fourier_embed.tsv
 *   neurons            each MLP neuron's fraction of variance explained by its
 *                      best frequency, grouped by key frequency   neurons.tsv
 *   attention          attention from the '=' position to a, per head, over
 *                      the (a, b) input grid                 attention.tsv
 *   logit_spectrum     the logits' 2-D Fourier spectrum       logit_spectrum.tsv
 * A figure whose file or column is missing is skipped with a note, never an
 * error.  The file formats are the run directory's (docs/formats.md); columns are
 * found by header name, so added columns do not matter.
 *
 * Output: DIR/figures/<name>.png | .pdf | .svg; the LaTeX form (cairolatex)
 * is DIR/figures/tex/<name>.tex plus its graphics DIR/figures/tex/<name>.pdf
 * (a subdirectory, because cairolatex's graphics file is <name>.pdf too).
 * The .tex includes `\includegraphics{<name>}`, so a document uses
 *   \graphicspath{{figures/tex/}} ... \input{figures/tex/loss.tex}
 * and needs graphicx and color. */
#ifndef GROK_PLOT_H
#define GROK_PLOT_H

#include "fileio.h"
#include "grok.h"

typedef enum { PLOT_PNG, PLOT_PDF, PLOT_SVG, PLOT_TEX, PLOT_N_FORMATS } plot_format;

/* Draws the figures of the run in dir into dir/figures (created as needed).
 *   formats  comma list of png, pdf, svg, tex (spaces allowed, repeats
 *            ignored); NULL means "png"; "" means none (nothing is drawn).
 *   only     one figure name, or NULL for all.
 *   notes    receives one line per skipped figure ("neurons: skipped: no
 *            neurons.tsv"), per gnuplot warning, per failed figure, and a
 *            last summary line; may be NULL.
 * Each figure is one gnuplot process; its files appear atomically or not at
 * all, and no temporary file is left behind.  A figure that fails does not
 * stop the others.
 * Returns GROK_OK when every figure was drawn or skipped; GROK_EINVAL for an
 * unknown format or figure name (the message lists the valid ones) or a dir
 * that is not a directory; GROK_EIO when gnuplot is missing (the message is
 * GP_MISSING_MSG from gp.h and nothing is drawn) or a figure failed (the
 * message names it, with gnuplot's exit status and messages); GROK_ENOMEM.
 * The gnuplot executable is $GP_BIN when set, else gnuplot from PATH.
 * Training calls this at its end and only logs a failure. */
int plot_run_dir(const char *dir, const char *formats, const char *only, sbuf *notes,
                 grok_err *e);

/* The figures, in drawing order: i in [0, plot_n_figures()). */
int plot_n_figures(void);
const char *plot_figure_name(int i);
const char *plot_figure_about(int i); /* one line, for `grok plot --help` */

/* Parses a formats string as plot_run_dir does into a bit mask
 * (1u << PLOT_PNG | ...).  GROK_EINVAL names the bad entry and the valid ones. */
int plot_parse_formats(const char *formats, unsigned *mask, grok_err *e);

/* ---- for tests and tools: the data and the scripts ----------------------- */

/* Everything the recipes read from one run directory.  Missing files leave
 * their part empty; a malformed file is kept as a reason for the figures
 * that need it. */
typedef struct plot_run plot_run;

/* Reads dir's metrics.tsv, measures.tsv, summary.json, fourier_embed.tsv,
 * neurons.tsv, attention.tsv and logit_spectrum.tsv, whichever exist.
 * GROK_EINVAL when dir is not a directory; GROK_ENOMEM.  Free with
 * plot_run_free. */
int plot_run_load(const char *dir, plot_run **out, grok_err *e);
void plot_run_free(plot_run *r);

/* Appends to script the whole gnuplot script for figure name in format f:
 * terminal and output (a bare file name: gp_draw runs gnuplot inside a
 * temporary directory), the shared style, the data blocks, the commands and
 * `unset output`.  Returns 1 when built; 0 when the figure is skipped, with
 * the reason appended to why (one line, no figure name, no newline);
 * GROK_EINVAL (message in e) for an unknown name. */
int plot_script(const plot_run *r, const char *name, plot_format f, sbuf *script, sbuf *why,
                grok_err *e);

/* The files figure name writes in format f, bare names in the format's
 * directory (figures/ or figures/tex/): n[0] = "<name>.<ext>", and for tex
 * also n[1] = "<name>.pdf".  Returns the count (1 or 2).  Each entry holds up
 * to 95 characters. */
int plot_outputs(const char *name, plot_format f, char out[2][96]);

/* The start of every figure script: the terminal for format f at w_in x h_in
 * inches, the output file name.ext, and the style shared by all figures
 * (Okabe-Ito line colours, viridis palette, light grid, legend above the
 * plot).  enhanced: gnuplot's enhanced text (sub- and superscripts); 0 where
 * labels carry raw names such as config keys. */
void plot_begin_figure(sbuf *s, plot_format f, const char *name, double w_in, double h_in,
                       int enhanced);

#endif
