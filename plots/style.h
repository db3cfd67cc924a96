/* style.h: inside plots/ only: the look every figure shares, run and sweep
 * figures alike (style.c).
 *
 * Geometry (the default; a plot_style may change size, font, line width
 * and colours) is that of a paper column: 3.4 in wide, 8 pt text in the PDF;
 * the PNG is the same page at 470 px per inch, so 1600 px wide, with text,
 * line widths and points scaled to match (checked by rendering the PDF at
 * the same resolution); the SVG is 180 px per inch.  Line colours are the
 * Okabe-Ito set (Okabe & Ito 2008, the colour-blind-safe set of `set
 * colorsequence podo`), assigned explicitly so each quantity keeps its
 * colour across figures: train blue, test vermillion, restricted bluish
 * green, excluded reddish purple.  Heatmaps use viridis(9), defined by hand
 * (gnuplot 5.4 has no `set palette viridis`, docs/formats.md, gnuplot).
 * Legends sit above the plot, never over data.
 *
 * Text is written once, in LaTeX notation ($W_E$, \%); plot_text turns it
 * into gnuplot enhanced text for the cairo terminals and passes it through
 * for cairolatex. */
#ifndef GROK_STYLE_H
#define GROK_STYLE_H

#include "fileio.h"
#include "plot.h"

/* Page geometry: inches, and PNG and SVG pixels per inch. */
#define PLOT_COL_W 3.4
#define PLOT_COL_H 2.3
#define PLOT_PAGE_W 7.0
#define PLOT_PNG_PPI (1600.0 / PLOT_COL_W)
#define PLOT_SVG_PPI 180.0

/* The file extension of format f: png, pdf, svg, tex. */
const char *plot_ext(plot_format f);
/* The base font size of format f in points (the terminal's) for style st
 * (NULL: the default, 8 pt in print). */
double plot_font_pt(plot_format f, const plot_style *st);

/* The start of every figure script: the terminal for format f at w_in x h_in
 * inches, the output file name.ext, and the style shared by all figures
 * (Okabe-Ito line colours, viridis palette, light grid, legend above the
 * plot).  enhanced: gnuplot's enhanced text (sub- and superscripts); 0 where
 * labels carry raw names such as config keys.  st (NULL: the default) may
 * override the size and sets the font, line width and colours; the script
 * starts with them as named variables (width_in, font_pt, c1..c8, ...) so a
 * researcher can edit the copy in figures/src and redraw. */
void plot_begin_figure(sbuf *s, plot_format f, const char *name, double w_in, double h_in,
                       int enhanced, const plot_style *st);
/* GROK_EINVAL when st's epoch range is empty; GROK_OK for NULL. */
int plot_style_check(const plot_style *st, grok_err *e);

/* Writes tex (LaTeX notation) as a gnuplot single-quoted string for f. */
void plot_text(sbuf *s, plot_format f, const char *tex);
/* Writes raw text (config keys, directory names: not LaTeX notation) as a
 * gnuplot single-quoted string, escaping _ % & # $ for tex; for figures
 * drawn without enhanced text. */
void plot_raw_text(sbuf *s, plot_format f, const char *text);
/* "set <what> '<text>'\n" with text through plot_text. */
void plot_set_text(sbuf *s, plot_format f, const char *what, const char *tex);
/* A number for a data block: %.9g, or NaN (gnuplot skips the point). */
void plot_num(sbuf *s, double v);
/* Log y axis with powers-of-ten labels. */
void plot_log_y(sbuf *s, plot_format f);

#endif
