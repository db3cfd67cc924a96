/* style.c: the look every figure shares (style.h): the terminal line and
 * the common settings at the top of every script, and the text helpers that
 * write LaTeX-notation labels for each terminal. */
#include "style.h"

#include <math.h>
#include <string.h>

static const char *const plot_exts[PLOT_N_FORMATS] = {"png", "pdf", "svg", "tex"};
static const double plot_fonts[PLOT_N_FORMATS] = {26, 8, 16, 8}; /* as in plot_begin_figure */

const char *plot_ext(plot_format f)
{
    GROK_ASSERT(f >= 0 && f < PLOT_N_FORMATS);
    return plot_exts[f];
}

double plot_font_pt(plot_format f)
{
    GROK_ASSERT(f >= 0 && f < PLOT_N_FORMATS);
    return plot_fonts[f];
}

/* Writes tex as a gnuplot single-quoted string.  tex uses LaTeX notation;
 * for the cairo terminals (enhanced text) the $ signs go and the few macros
 * the recipes use become UTF-8, while ^{..} and _{..} keep their meaning. */
void plot_text(sbuf *s, plot_format f, const char *tex)
{
    static const char *const map[][2] = {
        {"\\theta", "\xce\xb8"}, {"\\Sigma", "\xce\xa3"}, {"\\ell", "\xe2\x84\x93"},
        {"\\times", "\xc3\x97"}, {"\\%", "%"},            {"\\,", "\xe2\x80\x89"},
        {"\\le", "\xe2\x89\xa4"}, {"\\hat ", ""},          {"\\mathrm", ""},
        {"\\alpha", "\xce\xb1"}, {"\\|", "\xe2\x80\x96"},  {"\\rho", "\xcf\x81"},
    };
    sbuf_puts(s, "'");
    for (const char *p = tex; *p;) {
        if (*p == '\'') {
            sbuf_puts(s, "''");
            p++;
            continue;
        }
        if (f != PLOT_TEX) {
            if (*p == '$') {
                p++;
                continue;
            }
            int hit = 0;
            for (size_t i = 0; i < sizeof map / sizeof map[0] && !hit; i++) {
                size_t k = strlen(map[i][0]);
                if (!strncmp(p, map[i][0], k)) {
                    sbuf_puts(s, map[i][1]);
                    p += k;
                    hit = 1;
                }
            }
            if (hit)
                continue;
        }
        sbuf_append(s, p, 1);
        p++;
    }
    sbuf_puts(s, "'");
}

/* "set <what> '<text>'\n" with text through plot_text. */
void plot_set_text(sbuf *s, plot_format f, const char *what, const char *tex)
{
    sbuf_printf(s, "set %s ", what);
    plot_text(s, f, tex);
    sbuf_puts(s, "\n");
}

/* A number for a data block: %.9g, or NaN (gnuplot skips the point). */
void plot_num(sbuf *s, double v)
{
    if (isfinite(v))
        sbuf_printf(s, "%.9g", v);
    else
        sbuf_puts(s, "NaN");
}

void plot_log_y(sbuf *s, plot_format f)
{
    sbuf_puts(s, "set logscale y\n");
    plot_set_text(s, f, "format y", "$10^{%L}$");
}

void plot_begin_figure(sbuf *s, plot_format f, const char *name, double w_in, double h_in,
                       int enhanced)
{
    const char *enh = enhanced ? "enhanced" : "noenhanced";
    switch (f) {
    case PLOT_PNG:
        sbuf_printf(s,
                    "set terminal pngcairo %s color size %ld,%ld "
                    "font 'DejaVu Sans,26' linewidth 3.5 pointscale 3.2\n",
                    enh, lround(w_in * PLOT_PNG_PPI), lround(h_in * PLOT_PNG_PPI));
        break;
    case PLOT_PDF:
        sbuf_printf(s,
                    "set terminal pdfcairo %s color size %.2fin,%.2fin "
                    "font 'DejaVu Sans,8' linewidth 1.25 pointscale 0.45\n",
                    enh, w_in, h_in);
        break;
    case PLOT_SVG:
        sbuf_printf(s,
                    "set terminal svg %s size %ld,%ld dynamic "
                    "font 'DejaVu Sans,16' linewidth 1.5 background '#ffffff'\n",
                    enh, lround(w_in * PLOT_SVG_PPI), lround(h_in * PLOT_SVG_PPI));
        break;
    case PLOT_TEX:
        sbuf_printf(s,
                    "set terminal cairolatex pdf color colortext size %.2fin,%.2fin "
                    "font ',8' linewidth 1.25 pointscale 0.45\n",
                    w_in, h_in);
        break;
    default:
        GROK_ASSERT(0);
    }
    sbuf_printf(s, "set output '%s.%s'\n", name, plot_ext(f));
    sbuf_puts(s,
              "set encoding utf8\n"
              "# Okabe-Ito colour-blind-safe colours, fixed per quantity across figures\n"
              "set linetype 1 lc rgb '#0072B2' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 2 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 3 lc rgb '#009E73' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 4 lc rgb '#CC79A7' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 5 lc rgb '#E69F00' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 6 lc rgb '#56B4E9' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 7 lc rgb '#000000' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype 8 lc rgb '#F0E442' lw 1.5 pt 7 ps 0.5 dt solid\n"
              "set linetype cycle 8\n"
              "# viridis(9); gnuplot 5.4 has no built-in viridis\n"
              "set palette defined (0 '#440154', 1 '#472D7B', 2 '#3B528B', 3 '#2C728E', "
              "4 '#21908C', 5 '#27AD81', 6 '#5DC863', 7 '#AADC32', 8 '#FDE725')\n"
              "set border 3 front lw 1\n"
              "set tics nomirror out scale 0.6\n"
              "set style line 100 lc rgb '#E0E0E0' lw 0.5 dt solid\n"
              "set grid back ls 100, ls 100\n"
              "# legend above the plot, never over data; two rows filled column by column\n"
              "set key outside top center horizontal reverse Left noautotitle samplen 2 "
              "spacing 1.1 maxrows 2\n");
}
