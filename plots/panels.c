/* panels.c: multi-panel figures (figure.h, plot_panels_draw): several
 * figures as panels (a), (b), (c) of one gnuplot multiplot: several recipes
 * of one run, one recipe of several runs side by side (plot.h,
 * plot_panels), or sweep figures (sweep_plot.h, sweep_plot_panels).
 *
 * Each panel is the recipe's own script (the table's script function)
 * without its terminal and output lines, its data blocks renamed
 * $p<i>_<name> so the panels share one gnuplot session, after a `reset`
 * that clears what the previous panel set, placed by `set origin` and `set
 * size` in a grid of rows x cols.  The figure's header (size, fonts,
 * colours as named variables, style.c) is written once, for the whole
 * figure; every panel repeats the shared settings after its reset.
 *
 * One legend for all: when every panel's legend lists the same titles
 * (several runs of one recipe, or recipes of the same curves), the panels
 * draw none and a last frameless plot across the top draws the first
 * panel's entries once (keyentry clauses of the same styles); otherwise
 * each panel keeps its own above it, and the top margin fits the fullest.
 *
 * The figure is drawn like any other (gp.c), and its editable copy written
 * to figures/src (plot_src.c).  It is not listed in figures/index.tsv: that
 * index is the run's own figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "gp.h"
#include "run_data.h"
#include "run_fig.h"
#include "style.h"


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
    if (r < 1 || c < 1 || r > PLOT_PANELS_MAX || c > PLOT_PANELS_MAX || *end)
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

/* The legend entries of one panel: its plot command's clauses that carry
 * a title, each as a `keyentry` clause of the same style, for a legend drawn
 * apart from the data.  n is -1 when the panel's script has no single plot
 * command, or a clause draws with a palette: its legend is not shared. */
enum { PLOT_PANELS_MAX_ENTRIES = 24 };
typedef struct {
    int n;
    int titled;                            /* the key has a title: one row more */
    size_t plot_at;                        /* the plot command's offset in the body */
    char *title[PLOT_PANELS_MAX_ENTRIES];       /* the title as written: 'train' */
    char *entry[PLOT_PANELS_MAX_ENTRIES];       /* keyentry with ... title 'train' */
} panel_keys;

static void panel_keys_free(panel_keys *k)
{
    for (int i = 0; i < k->n; i++) {
        free(k->title[i]);
        free(k->entry[i]);
    }
    k->n = 0;
}

/* The end of the quoted string starting at s[i] (a quote character), or n. */
static size_t panels_quote_end(const char *s, size_t i, size_t n)
{
    char q = s[i];
    for (i++; i < n; i++) {
        if (q == '\'' && s[i] == '\'' && i + 1 < n && s[i + 1] == '\'')
            i++; /* '' inside a single-quoted string */
        else if (q == '"' && s[i] == '\\')
            i++;
        else if (s[i] == q)
            return i + 1;
    }
    return n;
}

/* Reads one clause [a, b) of a plot command into k (when it has a title). */
static int panels_clause(const char *s, size_t a, size_t b, panel_keys *k)
{
    while (a < b && strchr(" \\\n", s[a]))
        a++;
    size_t t = 0; /* the title's quote */
    int palette = 0;
    for (size_t i = a; i < b; i++) {
        if (s[i] == '\'' || s[i] == '"') {
            i = panels_quote_end(s, i, b) - 1;
            continue;
        }
        if (!strncmp(s + i, " title ", 7) && i + 7 < b && (s[i + 7] == '\'' || s[i + 7] == '"'))
            t = i + 7;
        palette |= !strncmp(s + i, "palette", 7);
    }
    if (!t)
        return 0; /* notitle, or no title: not in the legend */
    if (palette || k->n == PLOT_PANELS_MAX_ENTRIES)
        return -1;
    size_t t_end = panels_quote_end(s, t, b);
    const char *with = NULL;
    if (!strncmp(s + a, "keyentry", 8)) {
        with = s + a + 8;
    } else {
        for (size_t i = a; i + 6 < b && !with; i++)
            if (!strncmp(s + i, " with ", 6))
                with = s + i;
    }
    if (!with)
        return -1;
    sbuf e;
    sbuf_init(&e);
    sbuf_puts(&e, "keyentry");
    sbuf_append(&e, with, (size_t)(s + t_end - with));
    k->title[k->n] = strndup(s + t, t_end - t);
    k->entry[k->n] = e.data ? strndup(e.data, e.len) : NULL;
    sbuf_free(&e);
    k->n++;
    return k->title[k->n - 1] && k->entry[k->n - 1] ? 0 : GROK_ENOMEM;
}

/* The legend entries of the panel body s[0..n). */
static int panels_keys(const char *s, size_t n, panel_keys *k)
{
    memset(k, 0, sizeof *k);
    size_t at = n;
    for (size_t i = 0; i < n; i = (size_t)((const char *)memchr(s + i, '\n', n - i) - s) + 1) {
        if (!strncmp(s + i, "plot ", 5)) {
            if (at != n) {
                k->n = -1; /* several plot commands */
                return 0;
            }
            at = i;
        }
        if (!memchr(s + i, '\n', n - i))
            break;
    }
    if (at == n) {
        k->n = -1;
        return 0;
    }
    k->plot_at = at;
    k->titled = strstr(s, "\nset key title ") != NULL;
    /* the command runs to the first line that does not end in a backslash */
    size_t end = at;
    for (;;) {
        const char *eol = memchr(s + end, '\n', n - end);
        end = eol ? (size_t)(eol - s) : n;
        if (end == n || end == 0 || s[end - 1] != '\\')
            break;
        end++;
    }
    /* clauses: split at the commas outside quotes and brackets */
    int depth = 0, rc = 0;
    size_t a = at + 5;
    for (size_t i = a; i <= end && rc == 0; i++) {
        if (i < end && (s[i] == '\'' || s[i] == '"')) {
            i = panels_quote_end(s, i, end) - 1;
            continue;
        }
        if (i < end && (s[i] == '(' || s[i] == '['))
            depth++;
        else if (i < end && (s[i] == ')' || s[i] == ']'))
            depth--;
        else if (i == end || (s[i] == ',' && depth == 0)) {
            rc = panels_clause(s, a, i, k);
            a = i + 1;
        }
    }
    if (rc < 0) {
        panel_keys_free(k);
        k->n = -1;
        return rc == GROK_ENOMEM ? rc : 0;
    }
    return 0;
}

/* 1 when every panel has a legend and all of them list the same titles. */
static int panels_same_keys(const panel_keys *k, int n)
{
    if (n < 2 || k[0].n <= 0 || k[0].titled)
        return 0;
    for (int i = 1; i < n; i++) {
        if (k[i].n != k[0].n)
            return 0;
        for (int j = 0; j < k[0].n; j++)
            if (strcmp(k[i].title[j], k[0].title[j]))
                return 0;
    }
    return 1;
}

/* The rows a horizontal legend of k's entries needs across w_in inches at
 * font_pt: gnuplot makes every column as wide as the longest title, its
 * sample and gaps, about 4.3 em and 0.33 em a character (measured on
 * gnuplot 5.4's cairo terminals), and puts fewer columns, so more rows,
 * when they do not fit across.  At least two rows for two entries or more
 * when cap2 (a panel's own legend, style.c's maxrows 2). */
static int panels_key_rows(const panel_keys *k, double w_in, double font_pt, int cap2)
{
    if (k->n <= 0)
        return 0;
    int longest = 0;
    for (int i = 0; i < k->n; i++) {
        int len = (int)strlen(k->title[i]) - 2;
        if (len > longest)
            longest = len;
    }
    int fit = (int)(w_in * 72.0 / (font_pt * (4.3 + 0.33 * longest)));
    if (fit < 1)
        fit = 1;
    int rows = (k->n + fit - 1) / fit;
    return (cap2 && rows < 2 && k->n >= 2 ? 2 : rows) + k->titled;
}

/* The offset of the line starting with word (e.g. "plot ") in s[0..n) and
 * the number of such lines in *count. */
static size_t panels_line_at(const char *s, size_t n, const char *word, int *count)
{
    size_t at = n, len = strlen(word);
    *count = 0;
    for (size_t i = 0; i < n;) {
        if (n - i >= len && !strncmp(s + i, word, len)) {
            at = *count ? at : i;
            ++*count;
        }
        const char *eol = memchr(s + i, '\n', n - i);
        if (!eol)
            break;
        i = (size_t)(eol - s) + 1;
    }
    return at;
}

/* 1 when the panels can share one y range: the same figure in every panel
 * (one run per panel), each body drawn by a single plot command (no splot),
 * whose autoscaled range gnuplot reports in GPVAL_Y_MIN and GPVAL_Y_MAX. */
static int panels_same_y(const plot_panel *p, const sbuf *sub, int n)
{
    if (n < 2)
        return 0;
    for (int i = 0; i < n; i++) {
        int plots, splots;
        panels_line_at(sub[i].data, sub[i].len, "plot ", &plots);
        panels_line_at(sub[i].data, sub[i].len, "splot ", &splots);
        if (p[i].fig != p[0].fig || plots != 1 || splots)
            return 0;
    }
    return 1;
}

/* The whole script of the panel figure in format f. */
static int panels_script(const plot_panel *p, int n, int rows, int cols, const char *name,
                         plot_format f, const plot_style *st, int enhanced, sbuf *s,
                         grok_err *e)
{
    double w = cols >= 2 ? PLOT_PAGE_W : PLOT_COL_W, h = PLOT_COL_H * rows;
    if (st->width_in > 0)
        w = st->width_in;
    if (st->height_in > 0)
        h = st->height_in;
    double font_pt = st->font_pt > 0 ? st->font_pt : 8.0;
    sbuf *sub = calloc((size_t)n, sizeof *sub);
    panel_keys *keys = calloc((size_t)n, sizeof *keys);
    sbuf why, body;
    sbuf_init(&why);
    sbuf_init(&body);
    int rc = sub && keys ? GROK_OK : grok_fail(e, GROK_ENOMEM, "panels: out of memory");
    /* every panel's script first, at the panel's size (so that its recipe
     * sizes tics for it): its legend decides the margins */
    plot_style pst = *st;
    pst.width_in = w / cols;
    pst.height_in = h / rows;
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        sbuf_init(&sub[i]);
        sbuf_clear(&why);
        int built = p[i].script(p[i].data, p[i].fig, f, &pst, &sub[i], &why, e);
        if (built < 0) {
            rc = built;
        } else if (built == 0) {
            rc = grok_fail(e, GROK_EINVAL, "panel (%c), %s%s%s: cannot be drawn: %s", 'a' + i,
                           p[i].fig->name, p[i].label ? " of " : "", p[i].label ? p[i].label : "",
                           why.data ? why.data : "");
        } else if (strstr(sub[i].data, "set multiplot")) {
            rc = grok_fail(e, GROK_EINVAL, "panel (%c): %s is itself a figure of several "
                           "panels; it cannot be one panel", 'a' + i, p[i].fig->name);
        } else {
            size_t a, b;
            panels_body(sub[i].data, sub[i].len, &a, &b);
            sbuf_clear(&body);
            sbuf_append(&body, sub[i].data + a, b - a);
            if (body.oom || panels_keys(body.data, body.len, &keys[i]))
                rc = grok_fail(e, GROK_ENOMEM, "panels: out of memory");
        }
    }
    int shared = rc == GROK_OK && panels_same_keys(keys, n);
    /* the legend rows: of the shared legend, or each row's fullest panel's */
    int key_rows = 0, row_keys[PLOT_PANELS_MAX] = {0};
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        /* a panel's own legend is as wide as its plot: the panel less its
         * left margin (10 characters, about 0.7 in at 8 pt) */
        int k = shared ? panels_key_rows(&keys[0], w * 0.98, font_pt, 0)
                       : panels_key_rows(&keys[i], w / cols - 0.7 * font_pt / 8.0, font_pt, 1);
        key_rows = k > key_rows ? k : key_rows;
        row_keys[i / cols] = k > row_keys[i / cols] ? k : row_keys[i / cols];
    }
    int same_y = rc == GROK_OK && panels_same_y(p, sub, n);
    /* the shared legend's band: its rows and a little room above and below */
    double legend_h = shared ? (0.4 + 1.15 * key_rows) * font_pt / 72.0 / h : 0;
    if (rc == GROK_OK) {
        plot_begin_figure(s, f, name, w, h, enhanced, st);
        sbuf_puts(s, "set style fill solid 1.0 noborder\n");
        sbuf_printf(s,
                    "# ---- %d panels, %d row%s of %d ----\n"
                    "rows = %d; cols = %d\n"
                    "# the shared legend's band at the top (a share of the figure height; 0: "
                    "each panel has its own legend)\n"
                    "legend_h = %.4f\n"
                    "panel_w = 1.0 / cols; panel_h = (1.0 - legend_h) / rows\n"
                    "# margins in character heights: room for the %s above (each\n"
                    "# row's own), the x label below, the tic labels and y label on the left\n",
                    n, rows, rows == 1 ? "" : "s", cols, rows, cols, legend_h,
                    shared ? "panel letter" : "legend rows");
        for (int r = 0; r < rows; r++)
            sbuf_printf(s, "tmargin_row%d = %.3g\n", r + 1,
                        shared ? 2.0 : 1.5 + 1.1 * (row_keys[r] > 1 ? row_keys[r] : 1));
        sbuf_puts(s, "panel_bmargin = 3.5; panel_lmargin = 10\n");
    }
    /* one run per panel: a first pass draws each panel into a table, not
     * onto the page, to read the y range gnuplot chooses for it; every panel
     * then draws the union, so that the runs compare at a glance (the epoch
     * axis is shared by the caller's style, which sets its end) */
    for (int i = 0; i < n && rc == GROK_OK && same_y; i++) {
        size_t a, b;
        panels_body(sub[i].data, sub[i].len, &a, &b);
        if (i == 0)
            sbuf_puts(s, "# ---- first pass: each panel's data, and the y range gnuplot chooses "
                         "for it\n# (drawn into a table, not onto the page) ----\n");
        sbuf_printf(s, "# panel (%c)\nreset\n", 'a' + i);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "p%d_", i + 1);
        sbuf_clear(&body);
        if ((rc = plot_rename_blocks(&body, sub[i].data + a, b - a, prefix, 1)) != GROK_OK)
            break;
        int count;
        size_t at = panels_line_at(body.data, body.len, "plot ", &count);
        sbuf_append(s, body.data, at);
        sbuf_puts(s, "set table $panel_ranges\n");
        sbuf_append(s, body.data + at, body.len - at);
        sbuf_printf(s, "unset table\ny_lo_%d = GPVAL_Y_MIN; y_hi_%d = GPVAL_Y_MAX\n", i + 1,
                    i + 1);
    }
    if (rc == GROK_OK && same_y) {
        sbuf_puts(s, "undefine $panel_ranges\n# the same y range in every panel: the union of "
                     "theirs\ny_lo = y_lo_1; y_hi = y_hi_1\n");
        for (int i = 1; i < n; i++)
            sbuf_printf(s, "y_lo = y_lo_%d < y_lo ? y_lo_%d : y_lo; "
                           "y_hi = y_hi_%d > y_hi ? y_hi_%d : y_hi\n",
                        i + 1, i + 1, i + 1, i + 1);
    }
    if (rc == GROK_OK)
        sbuf_puts(s, "set multiplot\n");
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        size_t a, b;
        panels_body(sub[i].data, sub[i].len, &a, &b);
        sbuf_printf(s, "# ---- panel (%c): %s%s%s ----\nreset\n", 'a' + i, p[i].fig->name,
                    p[i].label ? " of " : "", p[i].label ? p[i].label : "");
        sbuf_printf(s, "set origin %d * panel_w, %d * panel_h; set size panel_w, panel_h\n",
                    i % cols, rows - 1 - i / cols);
        char letter[160];
        snprintf(letter, sizeof letter, "(%c)%s%s", 'a' + i, p[i].label ? " " : "",
                 p[i].label ? p[i].label : "");
        sbuf_puts(s, "set label 1000 ");
        if (enhanced)
            plot_text(s, f, letter);
        else
            plot_raw_text(s, f, letter);
        sbuf_printf(s, " at graph 0, graph 1 offset char -8, char tmargin_row%d - 1 left front\n"
                       "# the same margins in every panel of a row, so that the axes line up\n"
                       "set tmargin tmargin_row%d; set bmargin panel_bmargin; "
                       "set lmargin panel_lmargin\n",
                    i / cols + 1, i / cols + 1);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "p%d_", i + 1);
        sbuf_clear(&body);
        rc = plot_rename_blocks(&body, sub[i].data + a, b - a, prefix, !same_y);
        if (rc == GROK_EINVAL) {
            rc = grok_fail(e, rc, "panel (%c): %s: a data block is not closed", 'a' + i,
                           p[i].fig->name);
            break;
        } else if (rc) {
            rc = grok_fail(e, rc, "panels: out of memory");
            break;
        }
        int count;
        size_t at = panels_line_at(body.data, body.len, "plot ", &count);
        sbuf_append(s, body.data, at);
        if (shared)
            sbuf_puts(s, "# the legend is shared: drawn once, above the panels\nunset key\n");
        if (same_y)
            sbuf_puts(s, "# the y range shared by all panels\nset yrange [y_lo:y_hi]\n");
        sbuf_append(s, body.data + at, body.len - at);
    }
    if (rc == GROK_OK && shared) {
        /* a frameless plot across the whole width (a key is never wider than
         * its own plot), its entries those of the first panel */
        sbuf_printf(s,
                    "# ---- the shared legend, across the top ----\nreset\nset encoding utf8\n"
                    "set origin 0, 1 - legend_h; set size 1, legend_h\n"
                    "set lmargin at screen 0.01; set rmargin at screen 0.99\n"
                    "set tmargin at screen 1; set bmargin at screen 1 - legend_h\n"
                    "set border 0; unset xtics; unset ytics; unset grid\n"
                    "set style fill solid 1.0 noborder\n"
                    "set key at screen 0.5, screen 1 - 0.3 * legend_h / %d center top "
                    "horizontal reverse Left noautotitle samplen 2 spacing 1.1 maxrows %d\n"
                    "plot [0:1] [0:1] NaN notitle",
                    key_rows + 1, key_rows);
        for (int j = 0; j < keys[0].n; j++)
            sbuf_printf(s, ", \\\n     %s", keys[0].entry[j]);
        sbuf_puts(s, "\n");
    }
    if (rc == GROK_OK)
        sbuf_puts(s, "unset multiplot\nunset output\n");
    for (int i = 0; i < n && sub && keys; i++) {
        sbuf_free(&sub[i]);
        panel_keys_free(&keys[i]);
    }
    free(sub);
    free(keys);
    sbuf_free(&why);
    sbuf_free(&body);
    if (rc == GROK_OK && s->oom)
        rc = grok_fail(e, GROK_ENOMEM, "panels: out of memory");
    return rc;
}

int plot_panels_draw(const char *out_root, const char *name, const plot_panel *p, int n,
                     const char *layout, unsigned mask, const plot_style *st, int enhanced,
                     sbuf *notes, grok_err *e)
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
        if ((rc = panels_script(p, n, rows, cols, name, (plot_format)f, st, enhanced, &s, e)) !=
            GROK_OK)
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

int plot_panel_names(const char *panels, const plot_figure *figs, int n_figs, const char *what,
                     int *idx, grok_err *e)
{
    char buf[1024];
    if (strlen(panels) >= sizeof buf)
        return grok_fail(e, GROK_EINVAL, "--panels: the list is too long");
    snprintf(buf, sizeof buf, "%s", panels);
    int n = 0;
    for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
        if (n == PLOT_PANELS_MAX)
            return grok_fail(e, GROK_EINVAL, "--panels: at most %d panels", PLOT_PANELS_MAX);
        if ((idx[n++] = plot_find_figure(figs, n_figs, tok, what, e)) < 0)
            return GROK_EINVAL;
    }
    if (n == 0)
        return grok_fail(e, GROK_EINVAL, "--panels needs figure names, e.g. %s,%s", figs[0].name,
                         figs[n_figs > 1].name);
    return n;
}

int plot_check_name(const char *name, grok_err *e)
{
    if (name && (!name[0] || strlen(name) > 60 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789_-") != strlen(name)))
        return grok_fail(e, GROK_EINVAL, "--name \"%s\": use letters, digits, _ and - (at most "
                         "60)", name);
    return GROK_OK;
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
    if ((rc = plot_check_name(name, e)) != GROK_OK)
        return rc;
    if (n_dirs > PLOT_PANELS_MAX)
        return grok_fail(e, GROK_EINVAL, "panels: at most %d runs", PLOT_PANELS_MAX);
    int n_figs, fig_i[PLOT_PANELS_MAX];
    const plot_figure *figs = plot_figures(&n_figs);
    int n_names = plot_panel_names(panels, figs, n_figs, "figure", fig_i, e);
    if (n_names < 0)
        return n_names;
    if (n_dirs > 1 && n_names != 1)
        return grok_fail(e, GROK_EINVAL, "--panels with %d runs: give one figure (one panel per "
                         "run), not %d", n_dirs, n_names);
    plot_run *runs[PLOT_PANELS_MAX] = {0};
    char bases[PLOT_PANELS_MAX][128];
    for (int i = 0; i < n_dirs && rc == GROK_OK; i++) {
        rc = plot_run_load(dirs[i], &runs[i], e);
        plot_dir_base(dirs[i], bases[i], sizeof bases[i]);
    }
    /* one run per panel: the epoch axis of every panel ends at the last
     * epoch of the longest run (unless the style sets its own end) */
    plot_style same_x = *st;
    for (int i = 0; i < n_dirs && rc == GROK_OK && n_dirs > 1 && !isfinite(st->to); i++) {
        double last = fmax(plot_last_epoch(&runs[i]->metrics), plot_last_epoch(&runs[i]->measures));
        if (isfinite(last) && !(last <= same_x.to))
            same_x.to = last;
    }
    if (n_dirs > 1 && !(isfinite(same_x.from) && same_x.to <= same_x.from))
        st = &same_x;
    if (rc == GROK_OK && mask) {
        plot_panel p[PLOT_PANELS_MAX];
        int n = n_dirs > 1 ? n_dirs : n_names;
        for (int i = 0; i < n; i++)
            p[i] = n_dirs > 1
                       ? (plot_panel){plot_run_script, runs[i], &figs[fig_i[0]], bases[i]}
                       : (plot_panel){plot_run_script, runs[0], &figs[fig_i[i]], NULL};
        char stem[80];
        if (name && name[0])
            snprintf(stem, sizeof stem, "%s", name);
        else
            snprintf(stem, sizeof stem, "%s", n_dirs > 1 ? "compare" : "panels");
        rc = plot_panels_draw(out_root ? out_root : dirs[0], stem, p, n, layout, mask, st, 1,
                              notes, e);
    }
    for (int i = 0; i < n_dirs; i++)
        if (runs[i])
            plot_run_free(runs[i]);
    return rc;
}
