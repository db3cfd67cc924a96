/* sweep_plot.c: the sweep figures declared in sweep_plot.h: their table
 * (sweep_plot_figures), their recipes and the entry points.  The data are
 * sweep_data.c's; the drawing loop and figures/index.tsv are plot.c's
 * (plot_draw), as for the run figures.
 *
 * Style.  The same page geometry, Okabe-Ito line colours and viridis(9)
 * palette as the run figures (style.h).  Axis keys contain underscores, so
 * cairo and svg text is set noenhanced, and LaTeX text is escaped. */
#include "sweep_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "style.h"
#include "sweep_data.h"

#define SWEEP_PLOT_LABELS_X 16 /* no numbers in the heatmap's cells beyond this many columns */
#define SWEEP_PLOT_LABELS_Y 14 /* ... or rows */

/* What a sweep recipe draws: the data and the chosen axes. */
typedef struct {
    const sweep_plot_data *d;
    int cx, cy; /* the x and y columns (cy -1: none) */
    int x_log;  /* opts->x_log */
} sp_view;

/* ---- drawing helpers --------------------------------------------------------- */

/* "set <which>tics (...)": the levels' texts at 0, 1, ...; every step-th. */
static void sp_cat_tics(sbuf *s, plot_format f, const char *which, const sp_levels *l)
{
    int step = l->n > 12 ? (l->n + 11) / 12 : 1;
    sbuf_printf(s, "set %stics (", which);
    int first = 1;
    for (int i = 0; i < l->n; i += step) {
        if (!first)
            sbuf_puts(s, ", ");
        first = 0;
        plot_raw_text(s, f, l->v[i]);
        sbuf_printf(s, " %d", i);
    }
    sbuf_puts(s, ")\n");
}

static void sp_num(sbuf *s, double x)
{
    sbuf_printf(s, "%.9g", x);
}

/* "set <ax>tics (...)" for a log axis over [lo, hi]: 1, 2 and 5 x 10^k (only
 * the powers of ten beyond three decades), labelled %g; nothing when no such
 * value falls inside (gnuplot's own tics then stay). */
static void sp_log_tics(sbuf *s, const char *ax, double lo, double hi)
{
    static const double m[3] = {1, 2, 5};
    int per = hi / lo > 1000 ? 1 : 3, n = 0;
    sbuf t;
    sbuf_init(&t);
    for (int k = (int)floor(log10(lo)); k <= (int)ceil(log10(hi)); k++)
        for (int j = 0; j < per; j++) {
            double v = m[j] * pow(10, k);
            if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9))
                continue;
            sbuf_printf(&t, "%s'%g' %g", n ? ", " : "", v, v);
            n++;
        }
    if (n > 0 && t.data)
        sbuf_printf(s, "set %stics (%s)\n", ax, t.data);
    sbuf_free(&t);
}

/* A log axis suits these values: all > 0, at least 3, spanning >= 20x, in
 * nearly constant ratios. */
static int sp_looks_log(const sp_levels *l)
{
    if (!l->numeric || l->n < 3)
        return 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < l->n; i++) {
        if (!(l->x[i] > 0))
            return 0;
        lo = fmin(lo, l->x[i]);
        hi = fmax(hi, l->x[i]);
    }
    if (hi / lo < 20)
        return 0;
    double r0 = log(l->x[1] / l->x[0]);
    for (int i = 2; i < l->n; i++)
        if (fabs(log(l->x[i] / l->x[i - 1]) - r0) > 0.1 * fabs(r0))
            return 0;
    return 1;
}

/* ---- sweep_phase ---------------------------------------------------------- */

static int sp_phase(const void *data, const plot_ctx *pc, sbuf *s, sbuf *why)
{
    const sp_view *v = data;
    const sweep_plot_data *d = v->d;
    plot_format f = pc->f;
    int cx = v->cx, cy = v->cy;
    sp_levels lx, ly = {0};
    int rc = sp_levels_of(d, cx, &lx);
    if (rc == GROK_OK && cy >= 0)
        rc = sp_levels_of(d, cy, &ly);
    if (rc != GROK_OK) {
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return rc;
    }
    int nx = lx.n, ny = cy >= 0 ? ly.n : 1;
    size_t nc = (size_t)nx * (size_t)ny;
    double *sum = calloc(nc, sizeof *sum);
    long *ng = calloc(nc, sizeof *ng), *nd = calloc(nc, sizeof *nd), *np = calloc(nc, sizeof *np);
    if (!sum || !ng || !nd || !np) {
        free(sum), free(ng), free(nd), free(np);
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return GROK_ENOMEM;
    }
    double budget = 0;
    for (long r = 0; r < d->n_rows; r++) {
        int ix = sp_level_index(&lx, sp_cell(d, r, cx));
        int iy = cy >= 0 ? sp_level_index(&ly, sp_cell(d, r, cy)) : 0;
        size_t k = (size_t)iy * (size_t)nx + (size_t)ix;
        double g, b;
        sp_class c = sp_row_class(d, r, &g, &b);
        if (c == SP_GROKKED) {
            ng[k]++;
            sum[k] += g;
        } else if (c == SP_DNG) {
            nd[k]++;
            if (isfinite(b) && b > budget)
                budget = b;
        } else {
            np[k]++;
        }
    }
    double lo = INFINITY, hi = -INFINITY;
    long n_grok_cells = 0, n_dng_cells = 0, n_pend_cells = 0, n_star = 0;
    for (size_t k = 0; k < nc; k++) {
        if (ng[k]) {
            double m = sum[k] / (double)ng[k];
            lo = fmin(lo, m);
            hi = fmax(hi, m);
            n_grok_cells++;
            n_star += nd[k] > 0;
        } else if (nd[k]) {
            n_dng_cells++;
        } else if (np[k]) {
            n_pend_cells++;
        }
    }
    if (n_grok_cells + n_dng_cells == 0) {
        sbuf_puts(why, "no point has finished yet");
        free(sum), free(ng), free(nd), free(np);
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return 0;
    }
    int logcb = n_grok_cells > 0 && lo > 0 && hi / lo >= 10;
    if (n_grok_cells == 0) {
        lo = 0;
        hi = 1;
    } else if (hi <= lo) {
        double pad = lo > 0 ? 0.1 * lo : 1;
        lo -= pad;
        hi += pad;
    }
    /* noenhanced: raw key names */
    plot_begin_figure(s, f, "sweep_phase", PLOT_COL_W, 2.7, 0, pc->st);
    sbuf_puts(s, "unset grid\nset tics scale 0\nset border 0\nset style fill solid 1.0 noborder\n");
    sbuf_printf(s, "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\n", nx - 1, ny - 1);
    sp_cat_tics(s, f, "x", &lx);
    sbuf_puts(s, "set xlabel ");
    plot_raw_text(s, f, d->head[cx]);
    sbuf_puts(s, "\n");
    if (cy >= 0) {
        sp_cat_tics(s, f, "y", &ly);
        sbuf_puts(s, "set ylabel ");
        plot_raw_text(s, f, d->head[cy]);
        sbuf_puts(s, "\n");
    } else {
        sbuf_puts(s, "unset ytics\n");
    }
    sbuf_puts(s, "set cblabel ");
    long most = 0; /* the most points in one cell */
    for (size_t k = 0; k < nc; k++)
        most = ng[k] + nd[k] + np[k] > most ? ng[k] + nd[k] + np[k] : most;
    plot_raw_text(s, f, d->n_stop_rows ? (most > 1 ? "epoch at the stop threshold (mean)"
                                                   : "epoch at the stop threshold")
                                       : (most > 1 ? "grokked epoch (mean)" : "grokked epoch"));
    sbuf_puts(s, " offset 0.5,0\nset rmargin 8.5\nset cbtics scale 0.6\n");
    if (logcb) {
        sbuf_puts(s, "set logscale cb\n");
        sp_log_tics(s, "cb", lo, hi);
    }
    sbuf_puts(s, "set cbrange [");
    sp_num(s, lo);
    sbuf_puts(s, ":");
    sp_num(s, hi);
    sbuf_puts(s, "]\n");
    if (n_grok_cells == 0)
        sbuf_puts(s, "unset colorbox\n");

    int labels = nx <= SWEEP_PLOT_LABELS_X && ny <= SWEEP_PLOT_LABELS_Y;
    double fs = plot_font_pt(f, pc->st) * 0.8 * fmin(1.0, 10.0 / (nx > ny * 1.5 ? nx : ny * 1.5));
    sbuf_puts(s, "$grok << EOD\n");
    for (size_t k = 0; k < nc; k++)
        if (ng[k]) {
            sbuf_printf(s, "%zu %zu ", k % (size_t)nx, k / (size_t)nx);
            sp_num(s, sum[k] / (double)ng[k]);
            sbuf_puts(s, "\n");
        }
    /* The cross, as a data column.  gnuplot reads backslash escapes in quoted
     * data fields (and in strings of a using spec), so the backslash of
     * LaTeX's \times is doubled. */
    sbuf_puts(s, "EOD\n$dng << EOD\n");
    for (size_t k = 0; k < nc; k++)
        if (!ng[k] && nd[k])
            sbuf_printf(s, "%zu %zu \"%s\"\n", k % (size_t)nx, k / (size_t)nx,
                        f == PLOT_TEX ? "$\\\\times$" : "\xc3\x97");
    sbuf_puts(s, "EOD\n$pend << EOD\n");
    for (size_t k = 0; k < nc; k++)
        if (!ng[k] && !nd[k] && np[k])
            sbuf_printf(s, "%zu %zu\n", k % (size_t)nx, k / (size_t)nx);
    /* Numbers in white on the dark half of viridis, black on the light half. */
    for (int dark = 1; dark >= 0; dark--) {
        sbuf_printf(s, "EOD\n$lab%d << EOD\n", dark);
        for (size_t k = 0; k < nc && labels; k++) {
            if (!ng[k])
                continue;
            double m = sum[k] / (double)ng[k];
            double t = logcb ? log(m / lo) / log(hi / lo) : (m - lo) / (hi - lo);
            if ((t < 0.55) != dark)
                continue;
            sbuf_printf(s, "%zu %zu \"%.0f%s\"\n", k % (size_t)nx, k / (size_t)nx, m,
                        nd[k] ? "*" : "");
        }
    }
    sbuf_puts(s, "EOD\n");
    sbuf_puts(s, "plot ");
    int first = 1;
#define SP_SEP() (first ? (first = 0, "") : ", \\\n     ")
    if (n_grok_cells)
        sbuf_printf(s, "%s$grok using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder "
                       "lc palette notitle",
                    SP_SEP());
    if (n_dng_cells) {
        char t[128];
        snprintf(t, sizeof t, "did not grok in %.0f epochs", budget);
        sbuf_printf(s, "%s$dng using 1:2:(0.5):(0.5) with boxxyerror fs solid 1.0 noborder "
                       "lc rgb '#C8C8C8' title ",
                    SP_SEP());
        plot_raw_text(s, f, t);
        sbuf_printf(s, "%s$dng using 1:2:3 with labels tc rgb '#505050' font ',%.1f' notitle",
                    SP_SEP(), fs * 1.3);
    }
    if (n_pend_cells)
        sbuf_printf(s, "%s$pend using 1:2:(0.46):(0.46) with boxxyerror "
                       "lc rgb '#808080' dt 2 lw 0.8 fs empty title 'not run yet'",
                    SP_SEP());
    if (labels) {
        for (int dark = 1; dark >= 0; dark--) {
            int any = 0;
            for (size_t k = 0; k < nc; k++) {
                if (!ng[k])
                    continue;
                double m = sum[k] / (double)ng[k];
                double t = logcb ? log(m / lo) / log(hi / lo) : (m - lo) / (hi - lo);
                any |= (t < 0.55) == dark;
            }
            if (any)
                sbuf_printf(s, "%s$lab%d using 1:2:3 with labels tc rgb '%s' font ',%.1f' notitle",
                            SP_SEP(), dark, dark ? "#FFFFFF" : "#000000", fs);
        }
        if (n_star)
            sbuf_printf(s, "%skeyentry with points pt -1 title %s", SP_SEP(),
                        f == PLOT_TEX ? "'* some points did not grok'"
                                      : "'* some points did not grok'");
    }
#undef SP_SEP
    sbuf_puts(s, "\nunset output\n");
    free(sum), free(ng), free(nd), free(np);
    sp_levels_free(&lx);
    sp_levels_free(&ly);
    return 1;
}
/* ---- sweep_grokked -------------------------------------------------------- */

static int sp_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median grokked epoch of cell (group g, x level i); vals holds n_rows. */
static double sp_cell_median(const sweep_plot_data *d, int cx, int cg, const sp_levels *lx,
                             const sp_levels *lg, int g, int i, double *vals)
{
    size_t n = 0;
    for (long r = 0; r < d->n_rows; r++) {
        double gv, b;
        if (sp_row_class(d, r, &gv, &b) != SP_GROKKED)
            continue;
        if (sp_level_index(lx, sp_cell(d, r, cx)) != i)
            continue;
        if (cg >= 0 && sp_level_index(lg, sp_cell(d, r, cg)) != g)
            continue;
        vals[n++] = gv;
    }
    qsort(vals, n, sizeof *vals, sp_cmp_double);
    return n % 2 ? vals[n / 2] : 0.5 * (vals[n / 2 - 1] + vals[n / 2]);
}

static int sp_grokked(const void *data, const plot_ctx *pc, sbuf *s, sbuf *why)
{
    const sp_view *v = data;
    const sweep_plot_data *d = v->d;
    plot_format f = pc->f;
    int cx = v->cx, cy = v->cy, x_log = v->x_log;
    /* Colour groups: the y axis, unless it is the seed. */
    int cg = cy >= 0 && strcmp(d->head[cy], "seed") != 0 ? cy : -1;
    sp_levels lx, lg = {0};
    int rc = sp_levels_of(d, cx, &lx);
    if (rc == GROK_OK && cg >= 0)
        rc = sp_levels_of(d, cg, &lg);
    if (rc != GROK_OK) {
        sp_levels_free(&lx);
        sp_levels_free(&lg);
        return rc;
    }
    int ngr = cg >= 0 ? lg.n : 1;
    size_t nc = (size_t)lx.n * (size_t)ngr;
    double *mn = calloc(nc, sizeof *mn);
    double *mx = calloc(nc, sizeof *mx);
    long *cnt = calloc(nc, sizeof *cnt);
    double *vals = malloc((size_t)(d->n_rows > 0 ? d->n_rows : 1) * sizeof *vals);
    if (!mn || !mx || !cnt || !vals) {
        free(mn), free(mx), free(cnt), free(vals);
        sp_levels_free(&lx);
        sp_levels_free(&lg);
        return GROK_ENOMEM;
    }
    long n_g = 0, n_d = 0;
    double ylo = INFINITY, yhi = -INFINITY, budget = -INFINITY;
    for (long r = 0; r < d->n_rows; r++) {
        double g, b;
        sp_class c = sp_row_class(d, r, &g, &b);
        size_t k = (size_t)(cg >= 0 ? sp_level_index(&lg, sp_cell(d, r, cg)) : 0) * (size_t)lx.n +
                   (size_t)sp_level_index(&lx, sp_cell(d, r, cx));
        if (c == SP_GROKKED) {
            n_g++;
            if (!cnt[k] || g < mn[k])
                mn[k] = g;
            if (!cnt[k] || g > mx[k])
                mx[k] = g;
            cnt[k]++;
            ylo = fmin(ylo, g);
            yhi = fmax(yhi, g);
        } else if (c == SP_DNG && isfinite(b)) {
            n_d++;
            budget = fmax(budget, b);
            ylo = fmin(ylo, b);
            yhi = fmax(yhi, b);
        }
    }
    if (n_g + n_d == 0) {
        sbuf_puts(why, "no point has finished yet");
        free(mn), free(mx), free(cnt), free(vals);
        sp_levels_free(&lx);
        sp_levels_free(&lg);
        return 0;
    }
    int logx = lx.numeric && (x_log == 1 || (x_log < 0 && sp_looks_log(&lx)));
    if (logx)
        for (int i = 0; i < lx.n; i++)
            logx &= lx.x[i] > 0;
    int logy = ylo > 0 && yhi / ylo >= 10;
    /* noenhanced: raw key names */
    plot_begin_figure(s, f, "sweep_grokked", PLOT_COL_W, 2.5, 0, pc->st);
    sbuf_puts(s, "set xlabel ");
    plot_raw_text(s, f, d->head[cx]);
    sbuf_puts(s, "\nset ylabel ");
    /* runs stopped by train.stop_test_acc below 99% count at their stop epoch */
    plot_raw_text(s, f, d->n_stop_rows ? "epoch at the stop threshold" : "grokked epoch");
    sbuf_puts(s, "\n");
    if (lx.numeric) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < lx.n; i++) {
            lo = fmin(lo, lx.x[i]);
            hi = fmax(hi, lx.x[i]);
        }
        if (logx) {
            sbuf_puts(s, "set logscale x\nset xrange [");
            sp_num(s, lo / 1.25);
            sbuf_puts(s, ":");
            sp_num(s, hi * 1.25);
        } else {
            double pad = hi > lo ? 0.05 * (hi - lo) : (lo != 0 ? 0.1 * fabs(lo) : 1);
            sbuf_puts(s, "set xrange [");
            sp_num(s, lo - pad);
            sbuf_puts(s, ":");
            sp_num(s, hi + pad);
        }
        sbuf_puts(s, "]\n");
    } else {
        sbuf_printf(s, "set xrange [-0.5:%d.5]\n", lx.n - 1);
        sp_cat_tics(s, f, "x", &lx);
    }
    double y0 = logy ? ylo / 1.3 : fmax(0, ylo - 0.08 * (yhi - ylo + 1));
    double y1 = logy ? yhi * 1.3 : yhi + 0.08 * (yhi - ylo + 1);
    if (logy) {
        sbuf_puts(s, "set logscale y\n");
        sp_log_tics(s, "y", y0, y1);
    }
    sbuf_puts(s, "set yrange [");
    sp_num(s, y0);
    sbuf_puts(s, ":");
    sp_num(s, y1);
    sbuf_puts(s, "]\n");
    if (n_d > 0) {
        sbuf_puts(s, "set arrow from graph 0, first ");
        sp_num(s, budget);
        sbuf_puts(s, " to graph 1, first ");
        sp_num(s, budget);
        sbuf_puts(s, " nohead back lc rgb '#000000' lw 0.8 dt 2\n");
    }
    if (cg >= 0) { /* the colour groups' key, once, above their values */
        sbuf_puts(s, "set key title ");
        plot_raw_text(s, f, d->head[cg]);
        sbuf_puts(s, "\n");
    }
    /* data: per group, the medians (as the reproduction tables report),
     * the points, the non-grokking points */
    for (int g = 0; g < ngr; g++) {
        sbuf_printf(s, "$m%d << EOD\n", g);
        for (int i = 0; i < lx.n; i++) {
            size_t k = (size_t)g * (size_t)lx.n + (size_t)i;
            if (!cnt[k])
                continue;
            sp_num(s, lx.numeric ? lx.x[i] : i);
            sbuf_puts(s, " ");
            sp_num(s, sp_cell_median(d, cx, cg, &lx, &lg, g, i, vals));
            sbuf_puts(s, " ");
            sp_num(s, mn[k]);
            sbuf_puts(s, " ");
            sp_num(s, mx[k]);
            sbuf_puts(s, "\n");
        }
        for (int dng = 0; dng < 2; dng++) {
            sbuf_printf(s, "EOD\n$%c%d << EOD\n", dng ? 'd' : 'p', g);
            for (long r = 0; r < d->n_rows; r++) {
                double gv, b;
                sp_class c = sp_row_class(d, r, &gv, &b);
                if (cg >= 0 && sp_level_index(&lg, sp_cell(d, r, cg)) != g)
                    continue;
                if (!((dng && c == SP_DNG && isfinite(b)) || (!dng && c == SP_GROKKED)))
                    continue;
                int i = sp_level_index(&lx, sp_cell(d, r, cx));
                sp_num(s, lx.numeric ? lx.x[i] : i);
                sbuf_puts(s, " ");
                sp_num(s, dng ? b : gv);
                sbuf_puts(s, "\n");
            }
        }
        sbuf_puts(s, "EOD\n");
    }
    sbuf_puts(s, "plot ");
    int first = 1;
#define SP_SEP() (first ? (first = 0, "") : ", \\\n     ")
    for (int g = 0; g < ngr; g++) {
        long has_m = 0, has_p = 0, has_d = 0;
        for (int i = 0; i < lx.n; i++)
            has_m += cnt[(size_t)g * (size_t)lx.n + (size_t)i] > 0;
        for (long r = 0; r < d->n_rows; r++) {
            if (cg >= 0 && sp_level_index(&lg, sp_cell(d, r, cg)) != g)
                continue;
            double gv, b;
            sp_class c = sp_row_class(d, r, &gv, &b);
            has_p += c == SP_GROKKED;
            has_d += c == SP_DNG && isfinite(b);
        }
        int lt = g % 8 + 1;
        if (has_m) {
            sbuf_printf(s, "%s$m%d using 1:2:3:4 with yerrorlines lt %d pt 7 ps 0.6 title ",
                        SP_SEP(), g, lt);
            if (cg >= 0) {
                plot_raw_text(s, f, lg.v[g]); /* the key's name is the legend's title */
            } else {
                plot_raw_text(s, f, "median (bars: min to max)");
            }
        }
        if (has_p)
            sbuf_printf(s, "%s$p%d using 1:2 with points lt %d pt 6 ps 0.7 notitle", SP_SEP(), g,
                        lt);
        if (has_d) {
            sbuf_printf(s, "%s$d%d using 1:2 with points lt %d pt 8 ps 0.9 ", SP_SEP(), g, lt);
            if (cg >= 0 && !has_m) { /* a group that never grokked keeps its legend entry */
                sbuf_puts(s, "title ");
                plot_raw_text(s, f, lg.v[g]);
            } else {
                sbuf_puts(s, "notitle");
            }
        }
    }
    sbuf_printf(s, "%skeyentry with points lc rgb '#000000' pt 6 ps 0.7 title 'each point'",
                SP_SEP());
    if (n_d > 0) /* short titles, so that the legend fits in few rows */
        sbuf_printf(s, "%skeyentry with points lc rgb '#000000' pt 8 ps 0.9 title 'not grokked', "
                       "\\\n     keyentry with lines lc rgb '#000000' lw 0.8 dt 2 "
                       "title 'epoch budget'",
                    SP_SEP());
#undef SP_SEP
    sbuf_puts(s, "\nunset output\n");
    free(mn), free(mx), free(cnt), free(vals);
    sp_levels_free(&lx);
    sp_levels_free(&lg);
    return 1;
}
/* ---- sweep_loss ------------------------------------------------------------ */

static int sp_loss(const void *data, const plot_ctx *pc, sbuf *s, sbuf *why)
{
    const sp_view *v = data;
    const sweep_plot_data *d = v->d;
    plot_format f = pc->f;
    int cx = v->cx, x_log = v->x_log;
    long n_curves = 0;
    for (long r = 0; r < d->n_rows; r++)
        n_curves += d->curve[r].n > 0;
    if (n_curves == 0) {
        sbuf_puts(why, "no point has a metrics.tsv yet");
        return 0;
    }
    sp_levels lx;
    int rc = sp_levels_of(d, cx, &lx);
    if (rc != GROK_OK)
        return rc;
    int logc = lx.numeric && (x_log == 1 || (x_log < 0 && sp_looks_log(&lx)));
    if (logc)
        for (int i = 0; i < lx.n; i++)
            logc &= lx.x[i] > 0;
    /* noenhanced: raw key names */
    plot_begin_figure(s, f, "sweep_loss", PLOT_PAGE_W, 2.6, 0, pc->st);
    sbuf_puts(s, "$c << EOD\n");
    for (long r = 0; r < d->n_rows; r++) {
        const sp_curve *c = &d->curve[r];
        if (!c->n)
            continue;
        int i = sp_level_index(&lx, sp_cell(d, r, cx));
        double colour = lx.numeric ? lx.x[i] : i;
        for (long j = 0; j < c->n; j++) {
            if (!(c->train[j] > 0) || !(c->test[j] > 0))
                continue;
            sp_num(s, c->epoch[j]);
            sbuf_puts(s, " ");
            sp_num(s, c->train[j]);
            sbuf_puts(s, " ");
            sp_num(s, c->test[j]);
            sbuf_puts(s, " ");
            sp_num(s, colour);
            sbuf_puts(s, "\n");
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
    if (logc)
        sbuf_puts(s, "set logscale cb\n");
    if (!lx.numeric) {
        sbuf_printf(s, "set cbrange [-0.5:%d.5]\n", lx.n - 1);
        sp_cat_tics(s, f, "cb", &lx);
    } else if (lx.n == 1) {
        sbuf_puts(s, "set cbrange [");
        sp_num(s, lx.x[0] - (lx.x[0] != 0 ? 0.1 * fabs(lx.x[0]) : 1));
        sbuf_puts(s, ":");
        sp_num(s, lx.x[0] + (lx.x[0] != 0 ? 0.1 * fabs(lx.x[0]) : 1));
        sbuf_puts(s, "]\n");
    }
    sbuf_puts(s, "set cblabel ");
    plot_raw_text(s, f, d->head[cx]);
    sbuf_puts(s, "\nset logscale y\n");
    sbuf_puts(s, f == PLOT_TEX ? "set format y '$10^{%L}$'\n" : "set format y '%g'\n");
    sbuf_puts(s, "set xlabel ");
    plot_raw_text(s, f, "epoch");
    sbuf_puts(s, "\nset multiplot layout 1,2\nunset colorbox\nset ylabel ");
    plot_raw_text(s, f, "train loss");
    sbuf_puts(s, "\nplot $c using 1:2:4 with lines lc palette lw 0.5 notitle\n"
                 "set colorbox\n");
    if (!lx.numeric) { /* gnuplot's margin leaves no room for named colour tics */
        size_t w = 0;
        for (int i = 0; i < lx.n; i++)
            w = strlen(lx.v[i]) > w ? strlen(lx.v[i]) : w;
        sbuf_printf(s, "set rmargin %zu\n", w + 7);
    }
    sbuf_puts(s, "set ylabel ");
    plot_raw_text(s, f, "test loss");
    sbuf_puts(s, "\nplot $c using 1:3:4 with lines lc palette lw 0.5 notitle\n"
                 "unset multiplot\nunset output\n");
    sp_levels_free(&lx);
    return 1;
}

/* ---- sweep_algorithm -------------------------------------------------------- */

/* The verdicts of sweep.tsv's algorithm column, and their letters. */
static const char *const sp_verdicts[3] = {"clock", "pizza", "neither"};
static const char sp_verdict_letter[3] = {'C', 'P', 'N'};

/* Zhong et al. (2023), Fig. 5: the clock and pizza measures over two axes
 * of a sweep (attention rate x width), one panel per measure sharing one
 * colour scale, each cell the mean over its points; the letters are the
 * verdicts of the cell's points, the most frequent first (or, without an
 * algorithm column, the mean itself). */
static int sp_algorithm(const void *data, const plot_ctx *pc, sbuf *s, sbuf *why)
{
    static const char *const meas[2] = {"grad_sym", "dist_irrel"};
    static const char *const title[2] = {"gradient symmetricity", "distance irrelevance"};
    const sp_view *v = data;
    const sweep_plot_data *d = v->d;
    plot_format f = pc->f;
    int cx = v->cx, cy = v->cy, cm[2];
    for (int i = 0; i < 2; i++)
        if ((cm[i] = rundir_tsv_col(&d->table, meas[i])) < 0) {
            sbuf_printf(why, "sweep.tsv has no column %s (no clock and pizza measures)", meas[i]);
            return 0;
        }
    int ca = rundir_tsv_col(&d->table, "algorithm");
    sp_levels lx, ly = {0};
    int rc = sp_levels_of(d, cx, &lx);
    if (rc == GROK_OK && cy >= 0)
        rc = sp_levels_of(d, cy, &ly);
    int nx = lx.n, ny = cy >= 0 ? ly.n : 1;
    size_t nc = (size_t)nx * (size_t)ny;
    double *sum = rc == GROK_OK ? calloc(2 * nc, sizeof *sum) : NULL;
    long *cnt = rc == GROK_OK ? calloc(2 * nc + 3 * nc, sizeof *cnt) : NULL, *vc = cnt + 2 * nc;
    if (!sum || !cnt) {
        free(sum), free(cnt);
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return GROK_ENOMEM;
    }
    double lo = 0, hi = 1;
    long n_val = 0, n_verdict = 0;
    for (long r = 0; r < d->n_rows; r++) {
        int ix = sp_level_index(&lx, sp_cell(d, r, cx));
        int iy = cy >= 0 ? sp_level_index(&ly, sp_cell(d, r, cy)) : 0;
        size_t k = (size_t)iy * (size_t)nx + (size_t)ix;
        for (int i = 0; i < 2; i++) {
            double x;
            if (sp_number(sp_cell(d, r, cm[i]), &x)) {
                sum[(size_t)i * nc + k] += x;
                cnt[(size_t)i * nc + k]++;
                n_val++;
            }
        }
        for (int j = 0; j < 3 && ca >= 0; j++)
            if (!strcmp(sp_cell(d, r, ca), sp_verdicts[j])) {
                vc[(size_t)j * nc + k]++;
                n_verdict++;
            }
    }
    if (n_val == 0) {
        sbuf_puts(why, "no point has a grad_sym or dist_irrel value yet");
        free(sum), free(cnt);
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return 0;
    }
    for (size_t k = 0; k < 2 * nc; k++)
        if (cnt[k]) {
            lo = fmin(lo, sum[k] / (double)cnt[k]);
            hi = fmax(hi, sum[k] / (double)cnt[k]);
        }
    /* Two panels side by side and one colour box; geometry in inches. */
    const double w = PLOT_PAGE_W, h = 2.9, m_left = 0.75, m_right = 0.95, m_bottom = 0.5,
                 m_top = 0.45, gap = 0.35;
    double pw = (w - m_left - m_right - gap) / 2;
    int labels = nx <= SWEEP_PLOT_LABELS_X && ny <= SWEEP_PLOT_LABELS_Y;
    double fs = plot_font_pt(f, pc->st) * 0.8 * fmin(1.0, 6.0 / (nx > ny ? nx : ny));
    /* noenhanced: raw key names */
    plot_begin_figure(s, f, "sweep_algorithm", w, h, 0, pc->st);
    for (int i = 0; i < 2; i++) {
        sbuf_printf(s, "$m%d << EOD\n# x y mean label (%s)\n", i, meas[i]);
        for (size_t k = 0; k < nc; k++) {
            char label[16] = "";
            if (!cnt[(size_t)i * nc + k])
                continue;
            double m = sum[(size_t)i * nc + k] / (double)cnt[(size_t)i * nc + k];
            if (n_verdict > 0) { /* the verdicts present, the most frequent first */
                int order[3] = {0, 1, 2}, o = 0;
                for (int a = 1; a < 3; a++)
                    for (int b = a; b > 0 && vc[(size_t)order[b] * nc + k] >
                                                 vc[(size_t)order[b - 1] * nc + k];
                         b--) {
                        int tmp = order[b];
                        order[b] = order[b - 1];
                        order[b - 1] = tmp;
                    }
                for (int a = 0; a < 3 && vc[(size_t)order[a] * nc + k]; a++) {
                    if (o)
                        label[o++] = '/';
                    label[o++] = sp_verdict_letter[order[a]];
                }
                label[o] = '\0';
            } else {
                snprintf(label, sizeof label, "%.2f", m);
            }
            sbuf_printf(s, "%zu %zu ", k % (size_t)nx, k / (size_t)nx);
            sp_num(s, m);
            /* white on the dark half of viridis, black on the light half */
            sbuf_printf(s, " \"%s\" %d\n", label[0] ? label : "-", (m - lo) / (hi - lo) < 0.55);
        }
        sbuf_printf(s, "EOD\n$none%d << EOD\n", i);
        for (size_t k = 0; k < nc; k++)
            if (!cnt[(size_t)i * nc + k])
                sbuf_printf(s, "%zu %zu\n", k % (size_t)nx, k / (size_t)nx);
        sbuf_puts(s, "EOD\n");
    }
    sbuf_puts(s, "unset grid\nset tics scale 0\nset border 0\nset style fill solid 1.0 noborder\n"
                 "unset key\n");
    sbuf_printf(s, "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\n", nx - 1, ny - 1);
    sp_cat_tics(s, f, "x", &lx);
    sbuf_puts(s, "set xlabel ");
    plot_raw_text(s, f, d->head[cx]);
    sbuf_puts(s, "\nset cbrange [");
    sp_num(s, lo);
    sbuf_puts(s, ":");
    sp_num(s, hi);
    sbuf_puts(s, "]\nset cbtics scale 0.6\nset cblabel ");
    plot_raw_text(s, f, "cell mean");
    sbuf_printf(s, "\nset colorbox user origin %.4f, %.4f size %.4f, %.4f\n",
                (w - m_right + 0.12) / w, m_bottom / h, 0.1 / w, 1 - (m_bottom + m_top) / h);
    if (n_verdict > 0) {
        sbuf_printf(s, "set label 1 at screen 0.5, screen %.4f center ", 1 - 0.08 / h);
        plot_raw_text(s, f, "letters: the points' verdicts, most frequent first "
                      "(C clock, P pizza, N neither)");
        sbuf_puts(s, "\n");
    }
    sbuf_printf(s, "set multiplot\nset tmargin at screen %.4f\nset bmargin at screen %.4f\n",
                1 - m_top / h, m_bottom / h);
    for (int i = 0; i < 2; i++) {
        double x0 = m_left + i * (pw + gap);
        sbuf_printf(s, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", x0 / w,
                    (x0 + pw) / w);
        sbuf_puts(s, "set title ");
        plot_raw_text(s, f, title[i]);
        sbuf_puts(s, "\n");
        if (i == 0 && cy >= 0) {
            sp_cat_tics(s, f, "y", &ly);
            sbuf_puts(s, "set ylabel ");
            plot_raw_text(s, f, d->head[cy]);
            sbuf_puts(s, "\n");
        } else {
            sbuf_puts(s, "unset ylabel\nunset ytics\n");
        }
        sbuf_puts(s, i == 0 ? "unset colorbox\n" : "set colorbox\nunset label 1\n");
        sbuf_printf(s, "plot $m%d using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder "
                       "lc palette",
                    i);
        int any[2] = {0, 0}, none = 0; /* light and dark labels; cells without a value */
        for (size_t k = 0; k < nc; k++) {
            size_t ik = (size_t)i * nc + k;
            if (cnt[ik])
                any[(sum[ik] / (double)cnt[ik] - lo) / (hi - lo) < 0.55] = 1;
            none |= !cnt[ik];
        }
        for (int dark = 1; labels && dark >= 0; dark--)
            if (any[dark])
                sbuf_printf(s, ", \\\n     $m%d using 1:($5 == %d ? $2 : NaN):4 with labels "
                               "tc rgb '%s' font ',%.1f'",
                            i, dark, dark ? "#FFFFFF" : "#000000", fs);
        if (none)
            sbuf_printf(s, ", \\\n     $none%d using 1:2:(0.46):(0.46) with boxxyerror "
                           "lc rgb '#808080' dt 2 lw 0.8 fs empty",
                        i);
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "unset multiplot\nunset output\n");
    free(sum), free(cnt);
    sp_levels_free(&lx);
    sp_levels_free(&ly);
    return 1;
}

/* ---- sweep_liu_phases ------------------------------------------------------ */

/* Liu et al. 2022's phase of a finished point from its curve, or -1. */
enum { SP_LIU_COMPREHENSION, SP_LIU_GROKKING, SP_LIU_MEMORISATION, SP_LIU_CONFUSION, SP_LIU_N };
static const char *const sp_liu_names[SP_LIU_N] = {"comprehension", "grokking", "memorisation",
                                                   "confusion"};
static const char sp_liu_letter[SP_LIU_N] = {'C', 'G', 'M', 'X'};
static const char *const sp_liu_colour[SP_LIU_N] = {"#1B9E77", "#D95F02", "#7570B3", "#BDBDBD"};

static int sp_liu_of(const sp_curve *c)
{
    int tr = isfinite(c->t_train), te = isfinite(c->t_test);
    if (te && (!tr || c->t_test - c->t_train < SWEEP_PLOT_LIU_GAP))
        return SP_LIU_COMPREHENSION;
    if (te)
        return SP_LIU_GROKKING;
    return tr ? SP_LIU_MEMORISATION : SP_LIU_CONFUSION;
}

static int sp_liu(const void *data, const plot_ctx *pc, sbuf *s, sbuf *why)
{
    const sp_view *v = data;
    const sweep_plot_data *d = v->d;
    plot_format f = pc->f;
    int cx = v->cx, cy = v->cy;
    if (cy < 0) {
        sbuf_puts(why, "the phase diagram needs two axes");
        return 0;
    }
    sp_levels lx, ly;
    int rc = sp_levels_of(d, cx, &lx);
    if (rc != GROK_OK)
        return rc;
    if ((rc = sp_levels_of(d, cy, &ly)) != GROK_OK) {
        sp_levels_free(&lx);
        return rc;
    }
    int nx = lx.n, ny = ly.n;
    size_t nc = (size_t)nx * (size_t)ny;
    long *cnt = calloc(nc * (SP_LIU_N + 1), sizeof *cnt); /* per cell: each phase, then pending */
    if (!cnt) {
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return GROK_ENOMEM;
    }
    long n_done = 0;
    for (long r = 0; r < d->n_rows; r++) {
        size_t k = (size_t)sp_level_index(&ly, sp_cell(d, r, cy)) * (size_t)nx +
                   (size_t)sp_level_index(&lx, sp_cell(d, r, cx));
        double g, b;
        if (sp_row_class(d, r, &g, &b) == SP_PENDING || d->curve[r].n == 0) {
            cnt[k * (SP_LIU_N + 1) + SP_LIU_N]++;
            continue;
        }
        cnt[k * (SP_LIU_N + 1) + (size_t)sp_liu_of(&d->curve[r])]++;
        n_done++;
    }
    if (n_done == 0) {
        sbuf_puts(why, "no point has finished yet");
        free(cnt);
        sp_levels_free(&lx);
        sp_levels_free(&ly);
        return 0;
    }
    plot_begin_figure(s, f, "sweep_liu_phases", PLOT_COL_W, 2.9, 0, pc->st);
    sbuf_puts(s, "unset grid\nset tics scale 0\nset border 0\nset style fill solid 1.0 noborder\n");
    sbuf_printf(s, "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\n", nx - 1, ny - 1);
    sp_cat_tics(s, f, "x", &lx);
    sp_cat_tics(s, f, "y", &ly);
    sbuf_puts(s, "set xlabel ");
    plot_raw_text(s, f, d->head[cx]);
    sbuf_puts(s, "\nset ylabel ");
    plot_raw_text(s, f, d->head[cy]);
    sbuf_printf(s, "\nset key outside top center horizontal samplen 1 font ',%.1f'\n",
                plot_font_pt(f, pc->st) * 0.8);
    int labels = nx <= SWEEP_PLOT_LABELS_X && ny <= SWEEP_PLOT_LABELS_Y;
    double fs = plot_font_pt(f, pc->st) * 0.8 * fmin(1.0, 10.0 / (nx > ny * 1.5 ? nx : ny * 1.5));
    int present[SP_LIU_N] = {0}, any_pending = 0;
    for (int ph = 0; ph < SP_LIU_N; ph++) {
        sbuf_printf(s, "$ph%d << EOD\n", ph);
        for (size_t k = 0; k < nc; k++) {
            const long *c = cnt + k * (SP_LIU_N + 1);
            int best = -1;
            long total = 0;
            for (int q = 0; q < SP_LIU_N; q++) {
                total += c[q];
                if (c[q] > 0 && (best < 0 || c[q] > c[best]))
                    best = q;
            }
            if (best != ph)
                continue;
            present[ph] = 1;
            /* the majority phase's letter; a '*' when the cell's points differ */
            sbuf_printf(s, "%zu %zu \"%c%s\"\n", k % (size_t)nx, k / (size_t)nx,
                        sp_liu_letter[ph], c[best] < total ? "*" : "");
        }
        sbuf_puts(s, "EOD\n");
    }
    sbuf_puts(s, "$pend << EOD\n");
    for (size_t k = 0; k < nc; k++) {
        const long *c = cnt + k * (SP_LIU_N + 1);
        long done = c[0] + c[1] + c[2] + c[3];
        if (!done && c[SP_LIU_N]) {
            sbuf_printf(s, "%zu %zu\n", k % (size_t)nx, k / (size_t)nx);
            any_pending = 1;
        }
    }
    sbuf_puts(s, "EOD\nplot ");
    int first = 1;
    for (int ph = 0; ph < SP_LIU_N; ph++) {
        if (!present[ph])
            continue;
        sbuf_printf(s, "%s$ph%d using 1:2:(0.5):(0.5) with boxxyerror fs solid 1.0 noborder "
                       "lc rgb '%s' title ",
                    first ? "" : ", \\\n     ", ph, sp_liu_colour[ph]);
        plot_raw_text(s, f, sp_liu_names[ph]);
        first = 0;
        if (labels)
            sbuf_printf(s, ", \\\n     $ph%d using 1:2:3 with labels tc rgb '%s' font ',%.1f' "
                           "notitle",
                        ph, ph == SP_LIU_CONFUSION ? "#000000" : "#FFFFFF", fs);
    }
    if (any_pending)
        sbuf_puts(s, ", \\\n     $pend using 1:2:(0.46):(0.46) with boxxyerror "
                     "lc rgb '#808080' dt 2 lw 0.8 fs empty title 'not run yet'");
    sbuf_puts(s, "\nunset output\n");
    free(cnt);
    sp_levels_free(&lx);
    sp_levels_free(&ly);
    return 1;
}

/* ---- the table and the entry points ------------------------------------------ */

static const plot_figure sweep_figures[] = {
    {"sweep_phase",
     "The phase diagram: grokked epoch over two axes of the sweep, the mean over the points "
     "of a cell (grey crosses: no point of the cell grokked).",
     {RUNDIR_SWEEP_TABLE}, NULL, 0, sp_phase},
    {"sweep_grokked",
     "Grokked epoch against the x axis: every point, and the median over its cell with "
     "min-max bars (the reproduction tables' summary); a series that never grokked keeps "
     "its legend entry on its not-grokked markers.",
     {RUNDIR_SWEEP_TABLE}, NULL, 0, sp_grokked},
    {"sweep_loss", "Train and test loss of every point against epoch, coloured by the x axis.",
     {RUNDIR_SWEEP_TABLE, RUNDIR_METRICS}, NULL, 0, sp_loss},
    {"sweep_algorithm",
     "Which algorithm each cell learned (Zhong et al. 2023, Fig. 5): gradient symmetricity "
     "(left) and distance irrelevance (right) over two axes of the sweep, the mean over the "
     "points of a cell, with their verdicts (C clock, P pizza, N neither).",
     {RUNDIR_SWEEP_TABLE}, NULL, 0, sp_algorithm},
    {"sweep_liu_phases",
     "The phases of Liu et al. 2022 over two axes of the sweep: with t_train and t_test the "
     "first epochs at 90% train and test accuracy, comprehension (test within 1,000 epochs "
     "of train), grokking (test later), memorisation (train only), confusion (neither); each "
     "cell the phase of most of its points, '*' when they differ.",
     {RUNDIR_SWEEP_TABLE, RUNDIR_METRICS}, NULL, 0, sp_liu},
};
enum { SP_N_FIGURES = sizeof sweep_figures / sizeof sweep_figures[0] };

const plot_figure *sweep_plot_figures(int *n)
{
    *n = SP_N_FIGURES;
    return sweep_figures;
}

static int sp_script(const void *data, const plot_figure *fig, plot_format f,
                     const plot_style *st, sbuf *script, sbuf *why, grok_err *e)
{
    const sp_view *v = data;
    if (v->d->n_rows == 0) {
        sbuf_puts(why, "sweep.tsv has no points");
        return 0;
    }
    if (v->cx < 0) {
        sbuf_puts(why, "no axis to draw against");
        return 0;
    }
    plot_style def;
    if (!st) {
        plot_style_default(&def);
        st = &def;
    }
    plot_ctx c = {f, fig->name, st};
    int rc = fig->build(v, &c, script, why);
    if (rc == GROK_ENOMEM || script->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory building %s", fig->name);
    return rc;
}

static int sp_view_of(const sweep_plot_data *d, const sweep_plot_opts *opts, sp_view *v,
                      grok_err *e)
{
    v->d = d;
    v->x_log = opts ? opts->x_log : -1;
    return sp_pick_axes(d, opts, &v->cx, &v->cy, e);
}

int sweep_plot_script(const sweep_plot_data *d, const char *name, plot_format f,
                      const sweep_plot_opts *opts, sbuf *script, sbuf *why, grok_err *e)
{
    int i = plot_find_figure(sweep_figures, SP_N_FIGURES, name, "sweep figure", e);
    if (i < 0)
        return GROK_EINVAL;
    sp_view v;
    int rc = sp_view_of(d, opts, &v, e);
    if (rc != GROK_OK)
        return rc;
    return sp_script(&v, &sweep_figures[i], f, NULL, script, why, e);
}

int sweep_plot_dir(const char *dir, const char *formats, const sweep_plot_opts *opts, sbuf *notes,
                   grok_err *e)
{
    unsigned mask;
    const plot_style *st = opts ? opts->st : NULL;
    plot_style def;
    int rc = plot_prepare(formats, &st, &def, &mask, e);
    if (rc != GROK_OK)
        return rc;
    uint64_t only = 0;
    if (opts && opts->only &&
        plot_find_figures(sweep_figures, SP_N_FIGURES, opts->only, "sweep figure", &only, e) !=
            GROK_OK)
        return GROK_EINVAL;
    if (mask == 0)
        return GROK_OK;
    sweep_plot_data *d;
    if ((rc = sweep_plot_load(dir, &d, e)) != GROK_OK)
        return rc;
    sp_view v;
    rc = sp_view_of(d, opts, &v, e);
    if (rc == GROK_OK)
        rc = plot_draw(dir, "sweep figures", sweep_figures, SP_N_FIGURES, only, mask, st,
                       sp_script, &v, notes, e);
    sweep_plot_free(d);
    return rc;
}

int sweep_plot_panels(const char *dir, const char *panels, const char *layout, const char *name,
                      const char *formats, const sweep_plot_opts *opts, sbuf *notes,
                      grok_err *e)
{
    GROK_ASSERT(dir && panels);
    unsigned mask;
    const plot_style *st = opts ? opts->st : NULL;
    plot_style def;
    int rc = plot_prepare(formats, &st, &def, &mask, e);
    if (rc == GROK_OK)
        rc = plot_check_name(name, e);
    int idx[PLOT_PANELS_MAX];
    int n = rc == GROK_OK ? plot_panel_names(panels, sweep_figures, SP_N_FIGURES, "sweep figure",
                                             idx, e)
                          : rc;
    if (n < 0 || mask == 0)
        return n < 0 ? n : GROK_OK;
    plot_panel p[PLOT_PANELS_MAX];
    for (int i = 0; i < n; i++)
        p[i] = (plot_panel){sp_script, NULL, &sweep_figures[idx[i]], NULL};
    sweep_plot_data *d;
    if ((rc = sweep_plot_load(dir, &d, e)) != GROK_OK)
        return rc;
    sp_view v;
    rc = sp_view_of(d, opts, &v, e);
    for (int i = 0; i < n; i++)
        p[i].data = &v;
    if (rc == GROK_OK)
        rc = plot_panels_draw(dir, name ? name : "panels", p, n, layout, mask, st, 0, notes, e);
    sweep_plot_free(d);
    return rc;
}
