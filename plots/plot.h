/* plot.h: the figures of a run, drawn from its run-directory files alone.
 *
 * Every figure is one row of a table (plot_figure): its name, the caption a
 * paper would put under it, the run-directory files it cannot be drawn
 * without, and its recipe, a builder that turns the run's data into one
 * gnuplot script (the data sent inline as `$name << EOD` blocks, then the
 * commands).  `grok plot` (its --help list and its --only check), the
 * figures drawn at the end of a run, figures/index.tsv, the notebook's
 * captions and the tests all walk that table: plot_figures().  Builders
 * only build text, so tests compare scripts without running gnuplot;
 * gp.c runs them.  Every recipe draws in one shared style (style.h).
 *
 * Where things are (plots/):
 *   plot.c        the driver: formats, output names, one gnuplot run per
 *                 figure and format, figures/index.tsv (shared with the
 *                 sweep figures)
 *   figures.c     the table of run figures and their recipes
 *   run_data.c    loading a run directory's tables for the recipes
 *   style.c       the look every figure shares (terminal, colours, text)
 *   sweep_plot.c  the sweep figures, sweep_data.c their data; gp.c gnuplot
 *   plot_src.c    the editable copy of every figure (figures/src)
 *   panels.c      several figures as lettered panels of one (multiplot)
 *   compare.c     several runs' curves in one figure per quantity
 *
 * A figure whose file or column is missing is skipped with a note, never an
 * error; when summary.json says the Fourier measures do not apply to the
 * run (another task kind, the MLP family), the note of a Fourier figure
 * gives that reason.  The file formats are the run directory's
 * (docs/formats.md); columns are found by header name, so added columns do
 * not matter.
 *
 * Output: DIR/figures/<name>.png | .pdf | .svg; the LaTeX form (cairolatex)
 * is DIR/figures/tex/<name>.tex plus its graphics DIR/figures/tex/<name>.pdf
 * (a subdirectory, because cairolatex's graphics file is <name>.pdf too).
 * The .tex includes `\includegraphics{<name>}`, so a document uses
 *   \graphicspath{{figures/tex/}} ... \input{figures/tex/loss.tex}
 * and needs graphicx and color.  Every drawing also writes
 * DIR/figures/index.tsv (model/rundir.h, RUNDIR_FIGURE_INDEX): columns name,
 * file, caption, one row per figure drawn, in table order.  Every figure
 * drawn also leaves DIR/figures/src/<name>.gp (NAME.<ext>.gp for a second
 * format) and its data files, which gnuplot alone redraws unchanged
 * (plot_src.c); a plot_style (below) resizes and restyles every figure. */
#ifndef GROK_PLOT_H
#define GROK_PLOT_H

#include "fileio.h"
#include "grok.h"

typedef enum { PLOT_PNG, PLOT_PDF, PLOT_SVG, PLOT_TEX, PLOT_N_FORMATS } plot_format;

/* What a recipe is told: the format and the figure's name (the output file
 * stem).  Defined in figure.h, for the recipes. */
typedef struct plot_ctx plot_ctx;

/* Figure flags. */
#define PLOT_FIG_FOURIER 1u /* drawn from the Fourier measures (modular tasks, transformers) */

/* One figure: a row of a figure table. */
typedef struct {
    const char *name;     /* output file stem and --only NAME */
    const char *caption;  /* one sentence for under the figure (index.tsv, the notebook) */
    const char *needs[3]; /* the files it cannot be drawn without, NULL-ended; run
                             figures: checked before build, "no FILE" */
    const char *uses;     /* a file read when present (marks), or NULL */
    unsigned flags;       /* PLOT_FIG_* */
    /* Appends the script for data (a plot_run for the run figures) and
     * returns 1; or returns 0 with the reason it cannot be drawn in why (one
     * line, no figure name); GROK_ENOMEM. */
    int (*build)(const void *data, const plot_ctx *c, sbuf *s, sbuf *why);
} plot_figure;

/* The look a researcher chooses for a paper (grok plot's style flags).
 * Every field has a "the figure's own" value, so a zeroed-then-defaulted
 * style (plot_style_default) draws every figure exactly as before. */
typedef enum { PLOT_SCHEME_DEFAULT, PLOT_SCHEME_GREY, PLOT_N_SCHEMES } plot_scheme;
typedef struct {
    double width_in;  /* figure width in inches; 0: each figure's own */
    double height_in; /* figure height in inches; 0: each figure's own */
    char font[64];    /* font family; "": DejaVu Sans */
    double font_pt;   /* text size in points in the PDF; 0: 8 */
    double line_w;    /* line width factor; 0: 1 */
    plot_scheme scheme;
    int log_epoch;    /* epoch axis log(1 + epoch), epoch 0 drawn */
    double from, to;  /* epoch range; NaN: the data's */
    int phases;       /* draw the three phases (default 1) */
    int marks;        /* draw the memorised and grokked epochs (default 1) */
} plot_style;

/* The default style: every figure at its own size, 8 pt DejaVu Sans. */
void plot_style_default(plot_style *st);

/* Sets one style field from text, as `grok plot` flags give them:
 *   width, height  a length with its unit ("3.4in", "8.6cm", "72pt") or a
 *                  preset ("column" 3.4 in, "page" 7.0 in; width only)
 *   font           a family name ("Times", "DejaVu Sans")
 *   font-size      points ("8" or "8pt")
 *   line-width     a factor (> 0)
 *   colours        "default" (Okabe-Ito) or "grey"
 *   epoch-axis     "linear" or "log"
 *   from, to       an epoch (>= 0)
 *   phases, marks  "on" or "off"
 * GROK_EINVAL with a message naming the key, the value and what is valid
 * (a negative or zero length, an unknown unit, an unknown key). */
int plot_style_set(plot_style *st, const char *key, const char *value, grok_err *e);

/* Whether value is valid for style key (as plot_style_set, nothing set):
 * 1, or 0 with the problem written into why (n bytes; no key or value in
 * it), for a config key's check. */
int plot_style_value_ok(const char *key, const char *value, char *why, size_t n);

/* The names of the colour schemes ("default", "grey") and of the epoch axes
 * (0 "linear", 1 "log"), and their parsers (-1: unknown; "gray" is grey). */
const char *plot_scheme_name(int v);
int plot_scheme_parse(const char *name);
const char *plot_epoch_axis_name(int v);
int plot_epoch_axis_parse(const char *name);

/* The run figures, in drawing order: [0, *n). */
const plot_figure *plot_figures(int *n);

/* Draws the figures of the run in dir into dir/figures (created as needed).
 *   formats  comma list of png, pdf, svg, tex (spaces allowed, repeats
 *            ignored); NULL means "png"; "" means none (nothing is drawn).
 *   only     one figure name, or NULL for all.
 *   notes    receives one line per skipped figure ("neurons: skipped: no
 *            neurons.tsv"), per gnuplot warning, per failed figure, and a
 *            last summary line; may be NULL.
 * Each figure is one gnuplot process; its files appear atomically or not at
 * all, and no temporary file is left behind.  A figure that fails does not
 * stop the others.  figures/index.tsv is then rewritten (atomically) with a
 * row per figure drawn; with only, the rows of the other figures already
 * in it are kept.
 * Returns GROK_OK when every figure was drawn or skipped; GROK_EINVAL for an
 * unknown format or figure name (the message lists the valid ones) or a dir
 * that is not a directory; GROK_EIO when gnuplot is missing (the message is
 * GP_MISSING_MSG from gp.h and nothing is drawn) or a figure failed (the
 * message names it, with gnuplot's exit status and messages); GROK_ENOMEM.
 * The gnuplot executable is $GP_BIN when set, else gnuplot from PATH.
 * Training calls this at its end and only logs a failure. */
int plot_run_dir(const char *dir, const char *formats, const char *only, sbuf *notes,
                 grok_err *e);

/* plot_run_dir with a style (NULL: plot_style_default).  The style is
 * checked before anything is drawn (from >= to is GROK_EINVAL). */
int plot_run_dir_style(const char *dir, const char *formats, const char *only,
                       const plot_style *st, sbuf *notes, grok_err *e);

/* Draws one figure of several panels (a), (b), ... (gnuplot multiplot):
 *   one run (n_dirs 1): the run figures named in panels ("loss,progress,
 *     fourier_embed"), one per panel;
 *   several runs: the one figure named in panels for each run, side by
 *     side, each letter followed by the run directory's name.
 * layout "RxC" (NULL: 1 x n up to 3 panels, else 2 or 3 columns); the
 * figure is page wide (7 in) with two columns or more, 2.3 in tall per row,
 * unless st sets a size.  It is written to out_root/figures/<name>.<ext>
 * (out_root NULL: dirs[0]; name NULL: "panels", or "compare" for several
 * runs) with its editable copy in figures/src, and not listed in
 * figures/index.tsv.  GROK_EINVAL for an unknown figure (the message lists
 * the valid ones), a layout too small, a figure the run cannot draw, a
 * figure that is itself multi-panel, or a bad name; nothing is drawn then.
 * notes gets a line per file drawn and gnuplot's warnings. */
int plot_panels(const char *const *dirs, int n_dirs, const char *panels, const char *layout,
                const char *out_root, const char *name, const char *formats,
                const plot_style *st, sbuf *notes, grok_err *e);

/* ---- several runs compared (compare.c) ------------------------------------ */

/* Runs one comparison draws, at most. */
#define PLOT_COMPARE_MAX 16

/* The comparison figures, in drawing order: [0, *n). */
const plot_figure *plot_compare_figures(int *n);

/* Draws the curves of several runs in one figure per quantity (loss,
 * accuracy, restricted and excluded loss, Gini coefficients, weight norm;
 * plot_compare_figures) into out_root/figures, with their editable copies
 * in figures/src and figures/index.tsv.  dirs are run directories or sweep
 * directories (points.tsv: their point runs that have started); two runs
 * at least, PLOT_COMPARE_MAX at most.  Each run is labelled by the
 * config.cfg keys whose values differ between the runs ("optim.weight_
 * decay=0.3"), else by its directory name, with its grokked epoch
 * (summary.json), drawn as a dash-dot line in its colour.  out_root NULL is
 * DIR/compare for one sweep directory, else an error; it may not be a run
 * or sweep directory.  formats, only (a compare figure's name or NULL), st
 * (NULL: the default) and notes as plot_run_dir_style; notes also get one
 * line per run with its label.  GROK_EINVAL (nothing drawn) for fewer than
 * two runs, a directory that is neither a run nor a sweep, too many runs,
 * a bad --out, format, figure name or style; otherwise as plot_run_dir. */
int plot_compare(const char *const *dirs, int n_dirs, const char *out_root, const char *formats,
                 const char *only, const plot_style *st, sbuf *notes, grok_err *e);

/* Reports each figure that the following drawings (plot_run_dir_style,
 * plot_compare, sweep_plot_dir) draw or skip to prog: done of total
 * figures, item the figure's name.  NULL stops the reports.  The hook is
 * copied and process-wide: `grok plot` sets it around its drawing. */
void plot_set_progress(const grok_progress *prog);

/* Parses a formats string as plot_run_dir does into a bit mask
 * (1u << PLOT_PNG | ...).  GROK_EINVAL names the bad entry and the valid ones. */
int plot_parse_formats(const char *formats, unsigned *mask, grok_err *e);

/* ---- for tests and tools: the data and the scripts ----------------------- */

/* Everything the recipes read from one run directory.  Missing files leave
 * their part empty; a malformed file is kept as a reason for the figures
 * that need it. */
typedef struct plot_run plot_run;

/* Reads dir's metrics.tsv, measures.tsv, summary.json, fourier_embed.tsv,
 * neurons.tsv, attention.tsv, logit_spectrum.tsv, excluded_freq.tsv,
 * coefs.tsv, irreps.tsv, embed_circles.tsv and logit_sd.tsv, whichever exist.
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

/* plot_script with a style (NULL: the default). */
int plot_script_style(const plot_run *r, const char *name, plot_format f, const plot_style *st,
                      sbuf *script, sbuf *why, grok_err *e);

/* The files figure name writes in format f, bare names in the format's
 * directory (figures/ or figures/tex/): n[0] = "<name>.<ext>", and for tex
 * also n[1] = "<name>.pdf".  Returns the count (1 or 2).  Each entry holds up
 * to 95 characters. */
int plot_outputs(const char *name, plot_format f, char out[2][96]);

#endif
