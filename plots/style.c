/* style.c: the look every figure shares (style.h): the terminal line and
 * the common settings at the top of every script, and the text helpers that
 * write LaTeX-notation labels for each terminal. */
#include "style.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const plot_exts[PLOT_N_FORMATS] = {"png", "pdf", "svg", "tex"};
static const double plot_fonts[PLOT_N_FORMATS] = {26, 8, 16, 8}; /* as in plot_begin_figure */

const char *plot_ext(plot_format f)
{
    GROK_ASSERT(f >= 0 && f < PLOT_N_FORMATS);
    return plot_exts[f];
}

double plot_font_pt(plot_format f, const plot_style *st)
{
    GROK_ASSERT(f >= 0 && f < PLOT_N_FORMATS);
    return plot_fonts[f] * (st && st->font_pt > 0 ? st->font_pt / 8.0 : 1.0);
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

void plot_raw_text(sbuf *s, plot_format f, const char *t)
{
    sbuf_puts(s, "'");
    for (; *t; t++) {
        if (*t == '\'')
            sbuf_puts(s, "''");
        else if (f == PLOT_TEX && strchr("_%&#$", *t))
            sbuf_printf(s, "\\%c", *t);
        else
            sbuf_append(s, t, 1);
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

void plot_style_default(plot_style *st)
{
    GROK_ASSERT(st);
    memset(st, 0, sizeof *st);
    st->from = NAN;
    st->to = NAN;
    st->phases = 1;
    st->marks = 1;
}

/* The names of the colour schemes and of the epoch axes (plot.h). */
static const char *const plot_scheme_names[PLOT_N_SCHEMES] = {"default", "grey"};
static const char *const plot_axis_names[2] = {"linear", "log"};

const char *plot_scheme_name(int v)
{
    return v >= 0 && v < PLOT_N_SCHEMES ? plot_scheme_names[v] : "?";
}

int plot_scheme_parse(const char *name)
{
    for (int i = 0; i < PLOT_N_SCHEMES; i++)
        if (!strcmp(name, plot_scheme_names[i]))
            return i;
    return !strcmp(name, "gray") ? PLOT_SCHEME_GREY : -1;
}

const char *plot_epoch_axis_name(int v)
{
    return v == 0 || v == 1 ? plot_axis_names[v] : "?";
}

int plot_epoch_axis_parse(const char *name)
{
    for (int i = 0; i < 2; i++)
        if (!strcmp(name, plot_axis_names[i]))
            return i;
    return -1;
}

/* A length in inches from "3.4in", "8.6cm", "86mm", "245pt" or a preset;
 * -1 with the problem in why when it is not one. */
static double plot_length(const char *v, int presets, char *why, size_t n)
{
    if (presets && !strcmp(v, "column"))
        return PLOT_COL_W;
    if (presets && !strcmp(v, "page"))
        return PLOT_PAGE_W;
    char *end;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x)) {
        snprintf(why, n, "not a length; give a number and a unit (in, cm, mm, pt)%s",
                 presets ? ", or column (3.4 in) or page (7.0 in)" : "");
        return -1;
    }
    static const struct {
        const char *unit;
        double per_in;
    } units[] = {{"in", 1}, {"cm", 2.54}, {"mm", 25.4}, {"pt", 72}};
    double per_in = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit))
            per_in = units[i].per_in;
    if (per_in == 0) {
        snprintf(why, n, "%s unit \"%.16s\"; valid units are in, cm, mm, pt",
                 end[0] ? "unknown" : "no", end);
        return -1;
    }
    if (!(x > 0) || x / per_in > 100) {
        snprintf(why, n, "a figure side must be positive and at most 100 in");
        return -1;
    }
    return x / per_in;
}

/* Sets key from v; 0 with the problem (no key or value in it) in why. */
static int plot_style_parse(plot_style *st, const char *key, const char *v, char *why, size_t n)
{
    char *end;
    if (!strcmp(key, "width") || !strcmp(key, "height")) {
        double x = plot_length(v, key[0] == 'w', why, n);
        if (x < 0)
            return 0;
        *(key[0] == 'w' ? &st->width_in : &st->height_in) = x;
    } else if (!strcmp(key, "font")) {
        if (!v[0] || strlen(v) >= sizeof st->font || strpbrk(v, "'\"\\,\n")) {
            snprintf(why, n, "give a font family name (no quotes or commas, under %zu "
                     "characters)", sizeof st->font);
            return 0;
        }
        snprintf(st->font, sizeof st->font, "%s", v);
    } else if (!strcmp(key, "font-size")) {
        double x = strtod(v, &end);
        if (end == v || (end[0] && strcmp(end, "pt"))) {
            snprintf(why, n, "%s; give points, e.g. 8 or 8pt",
                     end == v ? "not a number" : "unknown unit");
            return 0;
        }
        if (!(x >= 4 && x <= 72)) {
            snprintf(why, n, "must be 4 to 72 pt");
            return 0;
        }
        st->font_pt = x;
    } else if (!strcmp(key, "line-width")) {
        double x = strtod(v, &end);
        if (end == v || end[0] || !(x > 0 && x <= 10)) {
            snprintf(why, n, "give a factor above 0 and at most 10 (1: the default)");
            return 0;
        }
        st->line_w = x;
    } else if (!strcmp(key, "colours") || !strcmp(key, "colors")) {
        int k = plot_scheme_parse(v);
        if (k < 0) {
            snprintf(why, n, "valid schemes are default (Okabe-Ito), grey");
            return 0;
        }
        st->scheme = (plot_scheme)k;
    } else if (!strcmp(key, "epoch-axis")) {
        int k = plot_epoch_axis_parse(v);
        if (k < 0) {
            snprintf(why, n, "valid values are linear, log");
            return 0;
        }
        st->log_epoch = k;
    } else if (!strcmp(key, "from") || !strcmp(key, "to")) {
        double x = strtod(v, &end);
        if (end == v || end[0] || !(x >= 0) || !isfinite(x)) {
            snprintf(why, n, "give an epoch (a number >= 0)");
            return 0;
        }
        *(key[0] == 'f' ? &st->from : &st->to) = x;
    } else if (!strcmp(key, "phases") || !strcmp(key, "marks")) {
        int *out = key[0] == 'p' ? &st->phases : &st->marks;
        if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
            *out = 1;
        } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
            *out = 0;
        } else {
            snprintf(why, n, "valid values are on, off");
            return 0;
        }
    } else {
        snprintf(why, n, "unknown style key: valid keys are width, height, font, font-size, "
                 "line-width, colours, epoch-axis, from, to, phases, marks");
        return 0;
    }
    return 1;
}

int plot_style_set(plot_style *st, const char *key, const char *v, grok_err *e)
{
    GROK_ASSERT(st && key && v);
    char why[256];
    if (plot_style_parse(st, key, v, why, sizeof why))
        return GROK_OK;
    if (!strncmp(why, "unknown style key", 17))
        return grok_fail(e, GROK_EINVAL, "unknown style key \"%s\"%s", key, why + 17);
    return grok_fail(e, GROK_EINVAL, "--%s \"%s\": %s", key, v, why);
}

int plot_style_value_ok(const char *key, const char *v, char *why, size_t n)
{
    GROK_ASSERT(key && v && why);
    plot_style scratch;
    plot_style_default(&scratch);
    return plot_style_parse(&scratch, key, v, why, n);
}

int plot_style_check(const plot_style *st, grok_err *e)
{
    if (st && isfinite(st->from) && isfinite(st->to) && !(st->from < st->to))
        return grok_fail(e, GROK_EINVAL, "--from %g --to %g: the range is empty (from must be "
                         "below to)", st->from, st->to);
    return GROK_OK;
}

/* The line colours of each scheme: Okabe-Ito (fixed per quantity), or
 * greys told apart by dash type. */
static const char *const plot_okabe[8] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                          "#E69F00", "#56B4E9", "#000000", "#F0E442"};
static const char *const plot_greys[8] = {"#000000", "#707070", "#000000", "#707070",
                                          "#404040", "#A0A0A0", "#000000", "#B0B0B0"};
static const int plot_grey_dt[8] = {1, 1, 2, 2, 4, 4, 1, 5};
static const char *const plot_phase_okabe[3] = {"#E69F00", "#56B4E9", "#009E73"};
static const char *const plot_phase_greys[3] = {"#A0A0A0", "#E0E0E0", "#606060"};

void plot_begin_figure(sbuf *s, plot_format f, const char *name, double w_in, double h_in,
                       int enhanced, const plot_style *st)
{
    plot_style def;
    if (!st) {
        plot_style_default(&def);
        st = &def;
    }
    if (st->width_in > 0)
        w_in = st->width_in;
    if (st->height_in > 0)
        h_in = st->height_in;
    int grey = st->scheme == PLOT_SCHEME_GREY;
    const char *enh = enhanced ? "enhanced" : "noenhanced";
    sbuf_printf(s,
                "# ---- style of figure %s: sizes, fonts, colours ----\n"
                "width_in = %.9g    # figure width (inches; 1 cm = 1/2.54 in)\n"
                "height_in = %.9g   # figure height (inches)\n"
                "font = '%s'\n"
                "font_pt = %.9g     # text size in points in the printed figure\n"
                "line_w = %.9g      # line width factor\n",
                name, w_in, h_in, st->font[0] ? st->font : "DejaVu Sans",
                st->font_pt > 0 ? st->font_pt : 8.0, st->line_w > 0 ? st->line_w : 1.0);
    sbuf_puts(s, "# line colours (linetype 1..8) and dash types, the phases' shades\n");
    for (int i = 0; i < 8; i++)
        sbuf_printf(s, "c%d = '%s'; dt%d = %d\n", i + 1, grey ? plot_greys[i] : plot_okabe[i],
                    i + 1, grey ? plot_grey_dt[i] : 1);
    for (int i = 0; i < 3; i++)
        sbuf_printf(s, "c_phase%d = '%s'\n", i + 1,
                    grey ? plot_phase_greys[i] : plot_phase_okabe[i]);
    sbuf_puts(s, "# the terminal: text and lines scale with the page so that font_pt is "
                 "font_pt\n");
    switch (f) {
    case PLOT_PNG:
        sbuf_printf(s,
                    "png_ppi = 1600.0 / 3.4   # PNG pixels per inch\n"
                    "set terminal pngcairo %s color "
                    "size int(width_in * png_ppi + 0.5), int(height_in * png_ppi + 0.5) "
                    "font sprintf('%%s,%%g', font, font_pt * 3.25) linewidth 3.5 * line_w "
                    "pointscale 3.2\n",
                    enh);
        break;
    case PLOT_PDF:
        sbuf_printf(s,
                    "set terminal pdfcairo %s color size width_in * 1.0in, height_in * 1.0in "
                    "font sprintf('%%s,%%g', font, font_pt) linewidth 1.25 * line_w "
                    "pointscale 0.45\n",
                    enh);
        break;
    case PLOT_SVG:
        sbuf_printf(s,
                    "svg_ppi = 180.0   # SVG pixels per inch\n"
                    "set terminal svg %s size int(width_in * svg_ppi + 0.5), "
                    "int(height_in * svg_ppi + 0.5) dynamic "
                    "font sprintf('%%s,%%g', font, font_pt * 2) linewidth 1.5 * line_w "
                    "background '#ffffff'\n",
                    enh);
        break;
    case PLOT_TEX:
        /* the document's font at font_pt, so that the text is the size the
         * margins were made for */
        sbuf_puts(s, "set terminal cairolatex pdf color colortext size width_in * 1.0in, "
                     "height_in * 1.0in font sprintf(',%g', font_pt) linewidth 1.25 * line_w "
                     "pointscale 0.45 header sprintf('\\fontsize{%g}{%g}\\selectfont', "
                     "font_pt, 1.2 * font_pt)\n");
        break;
    default:
        GROK_ASSERT(0);
    }
    sbuf_printf(s, "set output '%s.%s'\n", name, plot_ext(f));
    sbuf_puts(s, "set encoding utf8\n");
    sbuf_puts(s, grey ? "# greys told apart by dash type, for print\n"
                      : "# Okabe-Ito colour-blind-safe colours, fixed per quantity across "
                        "figures\n");
    for (int i = 1; i <= 8; i++)
        sbuf_printf(s, "set linetype %d lc rgb c%d lw 1.5 pt 7 ps 0.5 dt dt%d\n", i, i, i);
    sbuf_puts(s, "set linetype cycle 8\n");
    if (grey)
        sbuf_puts(s, "# heatmaps: black (low) to white (high)\nset palette gray\n");
    else
        sbuf_puts(s, "# viridis(9); gnuplot 5.4 has no built-in viridis\n"
                     "set palette defined (0 '#440154', 1 '#472D7B', 2 '#3B528B', 3 '#2C728E', "
                     "4 '#21908C', 5 '#27AD81', 6 '#5DC863', 7 '#AADC32', 8 '#FDE725')\n");
    sbuf_puts(s,
              "# axes, tics and a light grid\n"
              "set border 3 front lw 1\n"
              "set tics nomirror out scale 0.6\n"
              "set style line 100 lc rgb '#E0E0E0' lw 0.5 dt solid\n"
              "set grid back ls 100, ls 100\n"
              "# legend above the plot, never over data; two rows filled column by column\n"
              "set key outside top center horizontal reverse Left noautotitle samplen 2 "
              "spacing 1.1 maxrows 2\n");
}
