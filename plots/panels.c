/* panels.c: multi-panel figures (plot.h, plot_panels): several run figures
 * as panels (a), (b), (c) of one gnuplot multiplot, either several recipes
 * of one run or one recipe of several runs side by side.
 *
 * Each panel is the recipe's own script (plot_script_style) without its
 * terminal and output lines, its data blocks renamed $p<i>_<name> so the
 * panels share one gnuplot session, after a `reset` that clears what the
 * previous panel set.  The figure's header (size, fonts, colours as named
 * variables, style.c) is written once, for the whole figure; every panel
 * repeats the shared settings after its reset.  The figure is drawn like
 * any other (gp.c), and its editable copy written to figures/src
 * (plot_src.c).  It is not listed in figures/index.tsv: that index is the
 * run's own figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "gp.h"
#include "run_data.h"
#include "style.h"

enum { PANELS_MAX = 12 };

/* Parses "RxC" into rows and columns; GROK_EINVAL unless n panels fit. */
static int panels_layout(const char *layout, int n, int *rows, int *cols, grok_err *e)
{
    if (!layout || !layout[0]) {
        *cols = n <= 3 ? n : n == 4 ? 2 : 3;
        *rows = (n + *cols - 1) / *cols;
        return GROK_OK;
    }
    char *end;
    long r = strtol(layout, &end, 10);
    long c = 0;
    if (end != layout && (*end == 'x' || *end == 'X')) {
        const char *p = end + 1;
        c = strtol(p, &end, 10);
        if (end == p)
            c = 0;
    }
    if (r < 1 || c < 1 || r > PANELS_MAX || c > PANELS_MAX || *end)
        return grok_fail(e, GROK_EINVAL, "--layout \"%s\": give rows x columns, e.g. 1x3 or 2x2",
                         layout);
    if (r * c < n)
        return grok_fail(e, GROK_EINVAL, "--layout %s has %ld places for %d panels", layout,
                         r * c, n);
    *rows = (int)r;
    *cols = (int)c;
    return GROK_OK;
}

/* The part of a recipe's script between its `set output` line and its
 * final `unset output`: [*a, *b). */
static void panels_body(const char *s, size_t n, size_t *a, size_t *b)
{
    const char *o = strstr(s, "\nset output '");
    *a = 0;
    if (o) {
        const char *eol = strchr(o + 1, '\n');
        *a = eol ? (size_t)(eol - s) + 1 : n;
    }
    *b = n;
    static const char tail[] = "unset output\n";
    if (n >= sizeof tail - 1 && !strcmp(s + n - (sizeof tail - 1), tail))
        *b = n - (sizeof tail - 1);
}

/* The legend rows a panel's key needs at panel_w_in inches and font_pt:
 * the key is horizontal with at most two rows (style.c), but gnuplot puts
 * fewer columns, so more rows, when the titles do not fit across. */
static int panels_key_rows(const char *sub, double panel_w_in, double font_pt)
{
    int entries = 0, longest = 0;
    for (const char *q = strstr(sub, "title '"); q; q = strstr(q + 1, "title '")) {
        if (q >= sub + 4 && !strncmp(q - 4, "set ", 4))
            continue; /* a panel title, not a legend entry */
        const char *t = q + 7, *end = strchr(t, '\'');
        int len = end ? (int)(end - t) : 0;
        entries++;
        if (len > longest)
            longest = len;
    }
    if (entries == 0)
        return 0;
    /* an entry: its sample and gaps (~3 em) and its text (~0.5 em a character) */
    int fit = (int)(panel_w_in * 72.0 / (font_pt * (3.0 + 0.5 * longest)));
    if (fit < 1)
        fit = 1;
    int rows = (entries + fit - 1) / fit;
    return rows < 2 && entries >= 2 ? 2 : rows;
}

/* One panel: the run, the figure, an optional label after the letter. */
typedef struct {
    const plot_run *r;
    const char *fig;
    const char *label;
} panel;

/* The whole script of the panel figure in format f. */
static int panels_script(const panel *p, int n, int rows, int cols, const char *name,
                         plot_format f, const plot_style *st, sbuf *s, grok_err *e)
{
    double w = cols >= 2 ? PLOT_PAGE_W : PLOT_COL_W, h = PLOT_COL_H * rows;
    if (st->width_in > 0)
        w = st->width_in;
    double font_pt = st->font_pt > 0 ? st->font_pt : 8.0;
    sbuf sub, why;
    sbuf_init(&sub);
    sbuf_init(&why);
    int rc = GROK_OK, key_rows = 2;
    /* first pass: the legend rows of the fullest panel set the top margin */
    for (int i = 0; i < n; i++) {
        sbuf_clear(&sub);
        sbuf_clear(&why);
        if (plot_script_style(p[i].r, p[i].fig, f, st, &sub, &why, e) == 1) {
            int k = panels_key_rows(sub.data, w / cols, font_pt);
            if (k > key_rows)
                key_rows = k;
        }
    }
    plot_begin_figure(s, f, name, w, h, 1, st);
    sbuf_puts(s, "set style fill solid 1.0 noborder\n");
    sbuf_printf(s,
                "# ---- %d panels, %d row%s of %d ----\n"
                "# margins in character heights: room for the legend rows above, the\n"
                "# x label below, the tic labels and y label on the left\n"
                "panel_tmargin = %.3g; panel_bmargin = 3.5; panel_lmargin = 10\n"
                "set multiplot layout %d,%d\n",
                n, rows, rows == 1 ? "" : "s", cols, 1.5 + 1.1 * key_rows, rows, cols);
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        sbuf_clear(&sub);
        sbuf_clear(&why);
        int built = plot_script_style(p[i].r, p[i].fig, f, st, &sub, &why, e);
        if (built < 0) {
            rc = built;
            break;
        }
        if (built == 0) {
            rc = grok_fail(e, GROK_EINVAL, "panel (%c), %s%s%s: cannot be drawn: %s", 'a' + i,
                           p[i].fig, p[i].label ? " of " : "", p[i].label ? p[i].label : "",
                           why.data ? why.data : "");
            break;
        }
        if (strstr(sub.data, "set multiplot")) {
            rc = grok_fail(e, GROK_EINVAL, "panel (%c): %s is itself a figure of several "
                           "panels; it cannot be one panel", 'a' + i, p[i].fig);
            break;
        }
        size_t a, b;
        panels_body(sub.data, sub.len, &a, &b);
        sbuf_printf(s, "# ---- panel (%c): %s%s%s ----\nreset\n", 'a' + i, p[i].fig,
                    p[i].label ? " of " : "", p[i].label ? p[i].label : "");
        char letter[160];
        snprintf(letter, sizeof letter, "(%c)%s%s", 'a' + i, p[i].label ? " " : "",
                 p[i].label ? p[i].label : "");
        sbuf_puts(s, "set label 1000 ");
        plot_text(s, f, letter);
        sbuf_puts(s, " at graph 0, graph 1 offset char -8, char panel_tmargin - 1 left front\n"
                     "# the same margins in every panel, so that the axes line up\n"
                     "set tmargin panel_tmargin; set bmargin panel_bmargin; "
                     "set lmargin panel_lmargin\n");
        char prefix[16];
        snprintf(prefix, sizeof prefix, "p%d_", i + 1);
        rc = plot_rename_blocks(s, sub.data + a, b - a, prefix);
        if (rc == GROK_EINVAL)
            rc = grok_fail(e, rc, "panel (%c): %s: a data block is not closed", 'a' + i,
                           p[i].fig);
        else if (rc)
            rc = grok_fail(e, rc, "panels: out of memory");
    }
    sbuf_puts(s, "unset multiplot\nunset output\n");
    sbuf_free(&sub);
    sbuf_free(&why);
    if (rc == GROK_OK && s->oom)
        rc = grok_fail(e, GROK_ENOMEM, "panels: out of memory");
    return rc;
}

/* Draws the panel figure into out_root/figures (tex: figures/tex) in every
 * format of mask, with its editable copy in figures/src. */
static int panels_draw(const char *out_root, const char *name, const panel *p, int n,
                       const char *layout, unsigned mask, const plot_style *st, sbuf *notes,
                       grok_err *e)
{
    int rows = 1, cols = 1;
    int rc = panels_layout(layout, n, &rows, &cols, e);
    if (rc)
        return rc;
    char fig_dir[4096], tex_dir[4096];
    snprintf(fig_dir, sizeof fig_dir, "%s/%s", out_root, RUNDIR_FIGURES);
    snprintf(tex_dir, sizeof tex_dir, "%s/%s/tex", out_root, RUNDIR_FIGURES);
    sbuf s;
    sbuf_init(&s);
    int first = 1;
    for (int f = 0; f < PLOT_N_FORMATS && rc == GROK_OK; f++) {
        if (!(mask & (1u << f)))
            continue;
        sbuf_clear(&s);
        if ((rc = panels_script(p, n, rows, cols, name, (plot_format)f, st, &s, e)) != GROK_OK)
            break;
        const char *out_dir = f == PLOT_TEX ? tex_dir : fig_dir;
        if ((rc = fileio_mkdir_p(out_dir, e)) != GROK_OK)
            break;
        char out[2][96];
        int n_out = plot_outputs(name, (plot_format)f, out);
        const char *outs[2] = {out[0], out[1]};
        char label[128];
        snprintf(label, sizeof label, "%s.%s", name, plot_ext((plot_format)f));
        rc = gp_draw(NULL, out_dir, label, s.data, s.len, outs, n_out, notes, NULL, e);
        if (rc == GROK_OK)
            rc = plot_save_src(fig_dir, name, (plot_format)f, first, s.data, s.len, e);
        first = 0;
        if (rc == GROK_OK && notes)
            sbuf_printf(notes, "panels: %s/%s%s (%d panel%s, %dx%d)\n", fig_dir,
                        f == PLOT_TEX ? "tex/" : "", out[0], n, n == 1 ? "" : "s", rows, cols);
    }
    sbuf_free(&s);
    return rc;
}

/* Splits a comma list into at most PANELS_MAX names (pointers into buf). */
static int panels_split(char *buf, const char **names, grok_err *e)
{
    int n = 0;
    for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
        if (n == PANELS_MAX)
            return grok_fail(e, GROK_EINVAL, "--panels: at most %d panels", PANELS_MAX);
        names[n++] = tok;
    }
    if (n == 0)
        return grok_fail(e, GROK_EINVAL, "--panels needs figure names, e.g. loss,progress");
    return n;
}

int plot_panels(const char *const *dirs, int n_dirs, const char *panels, const char *layout,
                const char *out_root, const char *name, const char *formats,
                const plot_style *st, sbuf *notes, grok_err *e)
{
    GROK_ASSERT(dirs && n_dirs >= 1 && panels);
    unsigned mask;
    plot_style def;
    int rc = plot_prepare(formats, &st, &def, &mask, e);
    if (rc)
        return rc;
    if (name && (!name[0] || strlen(name) > 60 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789_-") != strlen(name)))
        return grok_fail(e, GROK_EINVAL, "--name \"%s\": use letters, digits, _ and - (at most "
                         "60)", name);
    if (n_dirs > PANELS_MAX)
        return grok_fail(e, GROK_EINVAL, "panels: at most %d runs", PANELS_MAX);
    size_t len = strlen(panels);
    char *buf = malloc(len + 1);
    if (!buf)
        return grok_fail(e, GROK_ENOMEM, "panels: out of memory");
    memcpy(buf, panels, len + 1);
    const char *names[PANELS_MAX];
    int n_names = panels_split(buf, names, e);
    int n_figs;
    const plot_figure *figs = plot_figures(&n_figs);
    for (int i = 0; i < n_names && rc == GROK_OK; i++)
        if (plot_find_figure(figs, n_figs, names[i], "figure", e) < 0)
            rc = GROK_EINVAL;
    if (n_names < 0)
        rc = n_names;
    else if (rc == GROK_OK && n_dirs > 1 && n_names != 1)
        rc = grok_fail(e, GROK_EINVAL, "--panels with %d runs: give one figure (one panel per "
                       "run), not %d", n_dirs, n_names);
    plot_run *runs[PANELS_MAX] = {0};
    char bases[PANELS_MAX][128];
    for (int i = 0; i < n_dirs && rc == GROK_OK; i++) {
        rc = plot_run_load(dirs[i], &runs[i], e);
        plot_dir_base(dirs[i], bases[i], sizeof bases[i]);
    }
    if (rc == GROK_OK && mask) {
        panel p[PANELS_MAX];
        int n = n_dirs > 1 ? n_dirs : n_names;
        for (int i = 0; i < n; i++)
            p[i] = n_dirs > 1 ? (panel){runs[i], names[0], bases[i]}
                              : (panel){runs[0], names[i], NULL};
        char stem[80];
        if (name && name[0])
            snprintf(stem, sizeof stem, "%s", name);
        else
            snprintf(stem, sizeof stem, "%s", n_dirs > 1 ? "compare" : "panels");
        rc = panels_draw(out_root ? out_root : dirs[0], stem, p, n, layout, mask, st, notes, e);
    }
    for (int i = 0; i < n_dirs; i++)
        if (runs[i])
            plot_run_free(runs[i]);
    free(buf);
    return rc;
}
