/* plot.c: the figure recipes declared in plot.h, the run-directory readers
 * they share, the one style every figure uses, and plot_run_dir.
 *
 * Reading.  The files are read by model/rundir.h (its TSV policy: columns
 * by header name, text cells such as key_freqs' "14,35,41" are NaN).  A
 * file that the reader refuses (a row of the wrong width) is unusable for
 * its figures: the reader's message is the figures' reason, not an error.
 * A summary.json that is not JSON leaves the figures without marks.  This
 * module reads files only: it includes nothing from model/ but grok.h,
 * fileio.h and rundir.h, and nothing from measures/, so a copied run
 * directory is enough to redraw every figure.
 *
 * Scripts.  A builder checks what it needs, then writes the terminal line
 * and the shared style (plot_begin), its data blocks, and its commands.
 * Text is written once, in LaTeX notation ($W_E$, \%); plot_text turns it
 * into gnuplot enhanced text for the cairo terminals and passes it through
 * for cairolatex.  Curves with more than PLOT_MAX_POINTS rows are thinned by
 * a fixed stride, always keeping the first and last rows and the rows
 * nearest the marked epochs; fewer rows are sent exactly.
 *
 * Style (plot_begin).  Line colours are the Okabe-Ito set (Okabe & Ito
 * 2008, the colour-blind-safe set of `set colorsequence podo`), assigned
 * explicitly so each quantity keeps its colour across figures: train blue,
 * test vermillion, restricted bluish green, excluded reddish purple.  Heatmaps
 * use viridis(9), defined by hand (gnuplot 5.4 has no `set palette
 * viridis`, docs/formats.md, gnuplot).  Geometry is that of a paper column: 3.4 in wide,
 * 8 pt text in the PDF; the PNG is the same page at 470 px per inch, so
 * 1600 px wide, with text, line widths and points scaled to match (checked
 * by rendering the PDF at the same resolution); the SVG is 180 px per inch.
 * Legends sit above the plot, never over data.  Phases (memorisation,
 * circuit formation, cleanup) are shaded bands as in Nanda et al. (2023),
 * Fig. 7. */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "gp.h"
#include "rundir.h"

/* Rows sent per curve before thinning starts (see the opening paragraph). */
#define PLOT_MAX_POINTS 5000
/* Columns of the epoch axis in the embedding heatmap when the measured
 * epochs are not evenly spaced (they are resampled, nearest measured epoch). */
#define PLOT_HEAT_COLS 500
/* A neuron counts as part of a frequency cluster above this fraction of
 * variance explained (Nanda et al. code; docs/measures.md, key frequencies). */
#define PLOT_CLUSTER_FVE 0.85
/* Key frequencies read from summary.json, at most. */
#define PLOT_MAX_KEY_FREQS 256

/* Page geometry: inches, and PNG pixels per inch. */
#define PLOT_COL_W 3.4
#define PLOT_COL_H 2.3
#define PLOT_PAGE_W 7.0
#define PLOT_PNG_PPI (1600.0 / PLOT_COL_W)
#define PLOT_SVG_PPI 180.0

/* ---- tables ------------------------------------------------------------- */

typedef struct {
    int present;        /* the file exists */
    char problem[256];  /* why the file cannot be used; "" when it can */
    size_t n_rows;      /* 0 when there is a problem */
    rundir_tsv tsv;
} plot_table;

struct plot_run {
    char *dir;
    plot_table metrics, measures, fourier, neurons, attention;

    /* logit_spectrum.tsv: a p x p matrix after a '#' comment line */
    plot_table spec_tsv;
    const char *spec_comment;
    int spec_p;
    const double *spec; /* [spec_p][spec_p]: rows f, columns g, basis const, cos1, sin1, ... */

    /* summary.json */
    double memorised, grokked; /* NaN when null or absent */
    double phase_end[3];       /* memorisation, circuit formation, cleanup; NaN when absent */
    int n_key_freqs;
    int key_freqs[PLOT_MAX_KEY_FREQS];
};

static int table_col(const plot_table *t, const char *name)
{
    return rundir_tsv_col(&t->tsv, name);
}

static double table_at(const plot_table *t, size_t row, int col)
{
    return rundir_tsv_at(&t->tsv, (int)row, col);
}

/* Reads dir/file into t when it exists.  Only running out of memory is an
 * error; a file the reader refuses sets t->problem. */
static int table_load(plot_table *t, const char *dir, const char *file, int flags, grok_err *e)
{
    grok_err re;
    t->present = rundir_has(dir, file);
    if (!t->present)
        return GROK_OK;
    char *text;
    int rc = rundir_read_opt(dir, file, &text, &re);
    if (rc > 0) {
        rc = rundir_tsv_parse(&t->tsv, text, file, flags, &re);
        free(text);
    }
    if (rc == GROK_ENOMEM)
        return grok_fail(e, rc, "%s", re.msg);
    if (rc < 0)
        snprintf(t->problem, sizeof t->problem, "%.250s", re.msg);
    else
        t->n_rows = (size_t)t->tsv.n_rows;
    return GROK_OK;
}

/* ---- logit_spectrum.tsv ------------------------------------------------- */

static int spectrum_load(plot_run *r, grok_err *e)
{
    plot_table *t = &r->spec_tsv;
    int rc = table_load(t, r->dir, RUNDIR_LOGIT_SPECTRUM, RUNDIR_TSV_NO_HEADER, e);
    if (rc != GROK_OK || !t->present || t->problem[0])
        return rc;
    if (t->tsv.n_rows != t->tsv.n_cols)
        snprintf(t->problem, sizeof t->problem,
                 "%s holds %d rows of %d numbers, not a square matrix", RUNDIR_LOGIT_SPECTRUM,
                 t->tsv.n_rows, t->tsv.n_cols);
    r->spec_comment = t->tsv.comment ? t->tsv.comment : "";
    r->spec_p = t->problem[0] ? 0 : t->tsv.n_cols;
    r->spec = t->tsv.v;
    return GROK_OK;
}

/* ---- summary.json ------------------------------------------------------- */

/* An epoch: NaN for null, absent, anything not a number, or a negative
 * value (some writers use -1 for "never"). */
static double summary_epoch(const rundir_summary *s, const char *key)
{
    double v = rundir_summary_num(s, key);
    return v >= 0 ? v : NAN;
}

static void summary_load(plot_run *r)
{
    rundir_summary s;
    if (rundir_summary_read(&s, r->dir, NULL) <= 0)
        return; /* absent or unreadable: the figures go without marks */
    r->memorised = summary_epoch(&s, "memorised_epoch");
    r->grokked = summary_epoch(&s, "grokked_epoch");
    r->phase_end[0] = summary_epoch(&s, "phases.memorisation_end");
    r->phase_end[1] = summary_epoch(&s, "phases.circuit_formation_end");
    r->phase_end[2] = summary_epoch(&s, "phases.cleanup_end");
    r->n_key_freqs = rundir_summary_ints(&s, "key_freqs", r->key_freqs, PLOT_MAX_KEY_FREQS);
    rundir_summary_free(&s);
}

void plot_run_free(plot_run *r)
{
    if (!r)
        return;
    plot_table *t[] = {&r->metrics, &r->neurons, &r->measures, &r->fourier, &r->attention,
                       &r->spec_tsv};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        rundir_tsv_free(&t[i]->tsv);
    free(r->dir);
    free(r);
}

int plot_run_load(const char *dir, plot_run **out, grok_err *e)
{
    GROK_ASSERT(dir && out);
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0)
        return grok_fail(e, GROK_EINVAL, "cannot plot %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "cannot plot %s: not a directory (give a run directory)",
                         dir);
    plot_run *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir))) {
        free(r);
        return grok_fail(e, GROK_ENOMEM, "cannot plot %s: out of memory", dir);
    }
    r->memorised = r->grokked = NAN;
    for (int i = 0; i < 3; i++)
        r->phase_end[i] = NAN;
    int rc = table_load(&r->metrics, dir, RUNDIR_METRICS, 0, e);
    if (!rc)
        rc = table_load(&r->measures, dir, RUNDIR_MEASURES, 0, e);
    if (!rc)
        rc = table_load(&r->fourier, dir, RUNDIR_FOURIER_EMBED, 0, e);
    if (!rc)
        rc = table_load(&r->neurons, dir, RUNDIR_NEURONS, 0, e);
    if (!rc)
        rc = table_load(&r->attention, dir, RUNDIR_ATTENTION, 0, e);
    if (!rc)
        rc = spectrum_load(r, e);
    if (rc) {
        plot_run_free(r);
        return rc;
    }
    summary_load(r);
    *out = r;
    return GROK_OK;
}

static int plot_is_key(const plot_run *r, int k)
{
    for (int i = 0; i < r->n_key_freqs; i++)
        if (r->key_freqs[i] == k)
            return 1;
    return 0;
}

/* Calls fn for each run of key frequencies in [1, max_k] whose neighbours
 * are closer than min_gap (in k), with the run's first and last k and its
 * label ("41,42"), so labels of adjacent key frequencies never overlap. */
typedef void (*plot_run_fn)(void *ctx, int first, int last, const char *label);

static void plot_key_runs(const plot_run *r, int max_k, double min_gap, plot_run_fn fn, void *ctx)
{
    int prev = -1, first = -1, n = 0;
    char label[256] = "";
    for (int k = 1; k <= max_k + 1; k++) {
        int key = k <= max_k && plot_is_key(r, k);
        if (key && first >= 0 && (double)(k - prev) < min_gap) {
            size_t len = strlen(label);
            snprintf(label + len, sizeof label - len, ",%d", k);
            prev = k;
            n++;
            continue;
        }
        if ((key || k == max_k + 1) && first >= 0) {
            if (n > 2 && n == prev - first + 1) /* 17,18,19,20 -> 17-20 */
                snprintf(label, sizeof label, "%d-%d", first, prev);
            fn(ctx, first, prev, label);
            first = -1;
        }
        if (key) {
            first = prev = k;
            n = 1;
            snprintf(label, sizeof label, "%d", k);
        }
    }
}

/* Tics at the centres of the key-frequency runs, position a*k + b. */
typedef struct {
    sbuf *s;
    double a, b;
    int n;
} plot_tic_ctx;

static void plot_tic_run(void *vctx, int first, int last, const char *label)
{
    plot_tic_ctx *c = vctx;
    sbuf_printf(c->s, "%s'%s' %.9g", c->n++ ? ", " : "", label,
                c->a * 0.5 * (double)(first + last) + c->b);
}

static void plot_key_tics(sbuf *s, const plot_run *r, int max_k, double min_gap, double a,
                          double b)
{
    plot_tic_ctx c = {s, a, b, 0};
    plot_key_runs(r, max_k, min_gap, plot_tic_run, &c);
}

/* ---- script helpers ----------------------------------------------------- */

typedef struct {
    plot_format f;
    const char *name;
} plot_ctx;

static const char *const plot_ext[PLOT_N_FORMATS] = {"png", "pdf", "svg", "tex"};

/* Writes tex as a gnuplot single-quoted string.  tex uses LaTeX notation;
 * for the cairo terminals (enhanced text) the $ signs go and the few macros
 * the recipes use become UTF-8, while ^{..} and _{..} keep their meaning. */
static void plot_text(sbuf *s, plot_format f, const char *tex)
{
    static const char *const map[][2] = {
        {"\\theta", "\xce\xb8"}, {"\\Sigma", "\xce\xa3"}, {"\\ell", "\xe2\x84\x93"},
        {"\\times", "\xc3\x97"}, {"\\%", "%"},            {"\\,", "\xe2\x80\x89"},
        {"\\le", "\xe2\x89\xa4"}, {"\\hat ", ""},          {"\\mathrm", ""},
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
static void plot_set_text(sbuf *s, plot_format f, const char *what, const char *tex)
{
    sbuf_printf(s, "set %s ", what);
    plot_text(s, f, tex);
    sbuf_puts(s, "\n");
}

/* A number for a data block: %.9g, or NaN (gnuplot skips the point). */
static void plot_num(sbuf *s, double v)
{
    if (isfinite(v))
        sbuf_printf(s, "%.9g", v);
    else
        sbuf_puts(s, "NaN");
}

/* 1 when table t (read from file) can serve a figure; else 0 with the
 * reason appended to why: the file is missing or malformed, lacks one of
 * cols, or has no rows. */
static int plot_need(const plot_table *t, const char *file, const char *const *cols, int n,
                     sbuf *why)
{
    if (!t->present) {
        sbuf_printf(why, "no %s", file);
        return 0;
    }
    if (t->problem[0]) {
        sbuf_puts(why, t->problem);
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (table_col(t, cols[i]) < 0) {
            sbuf_printf(why, "%s has no column %s", file, cols[i]);
            return 0;
        }
    if (t->n_rows == 0) {
        sbuf_printf(why, "%s has no rows", file);
        return 0;
    }
    return 1;
}

/* The rows of t to send: all when at most PLOT_MAX_POINTS, else every
 * stride-th plus the first, the last and the row nearest each mark (by the
 * epoch column ce).  keep[] must have t->n_rows entries. */
static void plot_thin(const plot_table *t, int ce, const double *marks, int n_marks,
                      unsigned char *keep)
{
    size_t n = t->n_rows;
    if (n <= PLOT_MAX_POINTS) {
        memset(keep, 1, n);
        return;
    }
    size_t stride = (n + PLOT_MAX_POINTS - 1) / PLOT_MAX_POINTS;
    for (size_t i = 0; i < n; i++)
        keep[i] = (i % stride == 0);
    keep[n - 1] = 1;
    for (int m = 0; m < n_marks; m++) {
        if (!isfinite(marks[m]))
            continue;
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (fabs(table_at(t, i, ce) - marks[m]) < fabs(table_at(t, best, ce) - marks[m]))
                best = i;
        keep[best] = 1;
    }
}

/* $name << EOD ... EOD with the columns cols[0..n) of t (cols[0] is the
 * epoch), each multiplied by scale[i] when scale is not NULL. */
static int plot_block(sbuf *s, const char *name, const plot_table *t, const char *const *cols,
                      int n, const double *scale, const double *marks, int n_marks)
{
    int idx[16];
    GROK_ASSERT(n <= 16);
    for (int i = 0; i < n; i++) {
        idx[i] = table_col(t, cols[i]);
        GROK_ASSERT(idx[i] >= 0);
    }
    unsigned char *keep = malloc(t->n_rows ? t->n_rows : 1);
    if (!keep)
        return GROK_ENOMEM;
    plot_thin(t, idx[0], marks, n_marks, keep);
    sbuf_printf(s, "$%s << EOD\n#", name);
    for (int i = 0; i < n; i++)
        sbuf_printf(s, " %s", cols[i]);
    sbuf_puts(s, "\n");
    for (size_t r = 0; r < t->n_rows; r++) {
        if (!keep[r])
            continue;
        for (int i = 0; i < n; i++) {
            if (i)
                sbuf_puts(s, " ");
            plot_num(s, table_at(t, r, idx[i]) * (scale ? scale[i] : 1.0));
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
    free(keep);
    return GROK_OK;
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
    sbuf_printf(s, "set output '%s.%s'\n", name, plot_ext[f]);
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

/* The run figures: enhanced text, and solid fills for bars and bands. */
static void plot_begin(sbuf *s, const plot_ctx *c, double w_in, double h_in)
{
    plot_begin_figure(s, c->f, c->name, w_in, h_in, 1);
    sbuf_puts(s, "set style fill solid 1.0 noborder\n");
}

/* The largest epoch in t's column "epoch": marks beyond it are not drawn
 * (a summary.json newer than the table must not draw outside the frame). */
static double plot_last_epoch(const plot_table *t)
{
    int ce = table_col(t, "epoch");
    double last = -INFINITY;
    for (size_t i = 0; i < t->n_rows; i++)
        if (table_at(t, i, ce) > last)
            last = table_at(t, i, ce);
    return last;
}

/* The marks for the memorised and grokked epochs up to xmax: dashed
 * vertical lines (set arrow) and their legend entries (appended to keys,
 * each starting ", "). */
static void plot_marks(sbuf *s, sbuf *keys, const plot_run *r, plot_format f, double xmax)
{
    const struct {
        double epoch;
        const char *what;
        int dt;
    } m[2] = {{r->memorised, "memorised", 2}, {r->grokked, "grokked", 4}};
    for (int i = 0; i < 2; i++) {
        if (!isfinite(m[i].epoch) || m[i].epoch > xmax)
            continue;
        sbuf_printf(s,
                    "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead back "
                    "lc rgb '#000000' lw 0.8 dt %d\n",
                    m[i].epoch, m[i].epoch, m[i].dt);
        char title[128];
        snprintf(title, sizeof title, "%s (epoch %.0f)", m[i].what, m[i].epoch);
        sbuf_printf(keys, ", keyentry with lines lc rgb '#000000' lw 0.8 dt %d title ", m[i].dt);
        plot_text(keys, f, title);
    }
}

/* The three phases as shaded bands (set object) with legend entries, cut
 * at xmax. */
static void plot_phases(sbuf *s, sbuf *keys, const plot_run *r, plot_format f, double xmax)
{
    static const char *const name[3] = {"memorisation", "circuit formation", "cleanup"};
    static const char *const colour[3] = {"#E69F00", "#56B4E9", "#009E73"};
    double from = 0;
    for (int i = 0; i < 3; i++) {
        double to = r->phase_end[i];
        if (!isfinite(to) || to <= from || from >= xmax)
            break;
        if (to > xmax)
            to = xmax;
        sbuf_printf(s,
                    "set object %d rect from %.9g, graph 0 to %.9g, graph 1 behind "
                    "fc rgb '%s' fs transparent solid 0.2 noborder\n",
                    i + 1, from, to, colour[i]);
        sbuf_printf(keys, ", keyentry with boxes fc rgb '%s' fs transparent solid 0.2 title ",
                    colour[i]);
        plot_text(keys, f, name[i]);
        from = to;
    }
}

/* Log y axis with powers-of-ten labels. */
static void plot_log_y(sbuf *s, plot_format f)
{
    sbuf_puts(s, "set logscale y\n");
    plot_set_text(s, f, "format y", "$10^{%L}$");
}

/* ---- recipes ------------------------------------------------------------ */

static int fig_loss(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const char *const cols[] = {"epoch", "train_loss", "test_loss"};
    if (!plot_need(&r->metrics, "metrics.tsv", cols, 3, why))
        return 0;
    const double marks[2] = {r->memorised, r->grokked};
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    if (plot_block(s, "loss", &r->metrics, cols, 3, NULL, marks, 2))
        return GROK_ENOMEM;
    sbuf keys;
    sbuf_init(&keys);
    plot_marks(s, &keys, r, c->f, plot_last_epoch(&r->metrics));
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel", "cross-entropy loss (nats)");
    plot_log_y(s, c->f);
    sbuf_puts(s, "set autoscale xfix\n");
    sbuf_puts(s, "plot $loss using 1:2 with lines lt 1 title ");
    plot_text(s, c->f, "train");
    sbuf_puts(s, ", \\\n     $loss using 1:3 with lines lt 2 title ");
    plot_text(s, c->f, "test");
    sbuf_puts(s, keys.data ? keys.data : "");
    sbuf_puts(s, "\n");
    sbuf_free(&keys);
    return 1;
}

static int fig_accuracy(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const char *const cols[] = {"epoch", "train_acc", "test_acc"};
    if (!plot_need(&r->metrics, "metrics.tsv", cols, 3, why))
        return 0;
    const double marks[2] = {r->memorised, r->grokked};
    const double pct[3] = {1, 100, 100};
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    if (plot_block(s, "acc", &r->metrics, cols, 3, pct, marks, 2))
        return GROK_ENOMEM;
    sbuf keys;
    sbuf_init(&keys);
    plot_marks(s, &keys, r, c->f, plot_last_epoch(&r->metrics));
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel", "accuracy (\\%)");
    sbuf_puts(s, "set yrange [-2:102]\nset ytics 0, 20, 100\nset autoscale xfix\n");
    sbuf_puts(s, "plot $acc using 1:2 with lines lt 1 title ");
    plot_text(s, c->f, "train");
    sbuf_puts(s, ", \\\n     $acc using 1:3 with lines lt 2 title ");
    plot_text(s, c->f, "test");
    sbuf_puts(s, keys.data ? keys.data : "");
    sbuf_puts(s, "\n");
    sbuf_free(&keys);
    return 1;
}

/* The measures.tsv figures: curves against epoch with the phases shaded. */
typedef struct {
    const char *col, *title;
    int lt;
} plot_curve;

static int fig_measures(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why,
                        const char *block, const plot_curve *curves, int n, const char *ylabel,
                        int log_y, const char *yrange)
{
    const char *cols[8] = {"epoch"};
    GROK_ASSERT(n < 8);
    for (int i = 0; i < n; i++)
        cols[i + 1] = curves[i].col;
    if (!plot_need(&r->measures, "measures.tsv", cols, n + 1, why))
        return 0;
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    if (plot_block(s, block, &r->measures, cols, n + 1, NULL, r->phase_end, 3))
        return GROK_ENOMEM;
    sbuf keys;
    sbuf_init(&keys);
    plot_phases(s, &keys, r, c->f, plot_last_epoch(&r->measures));
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel", ylabel);
    if (log_y)
        plot_log_y(s, c->f);
    if (yrange)
        sbuf_printf(s, "set yrange %s\n", yrange);
    else if (!log_y) /* keep a linear curve off the frame */
        sbuf_puts(s, "set offsets 0, 0, graph 0.05, graph 0.05\n");
    sbuf_puts(s, "set autoscale xfix\n");
    sbuf_puts(s, "plot ");
    for (int i = 0; i < n; i++) {
        sbuf_printf(s, "%s$%s using 1:%d with lines lt %d", i ? ", \\\n     " : "", block, i + 2,
                    curves[i].lt);
        if (curves[i].title) {
            sbuf_puts(s, " title ");
            plot_text(s, c->f, curves[i].title);
        }
    }
    sbuf_puts(s, keys.data ? keys.data : "");
    sbuf_puts(s, "\n");
    sbuf_free(&keys);
    return 1;
}

static int fig_progress(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const plot_curve curves[] = {{"loss_train", "train", 1},
                                        {"loss_test", "test", 2},
                                        {"loss_restricted", "restricted", 3},
                                        {"loss_excluded", "excluded", 4}};
    return fig_measures(r, c, s, why, "progress", curves, 4, "cross-entropy loss (nats)", 1,
                        NULL);
}

static int fig_gini(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const plot_curve curves[] = {{"gini_WE", "$W_E$", 1}, {"gini_WL", "$W_L$", 5}};
    return fig_measures(r, c, s, why, "gini", curves, 2, "Gini coefficient of Fourier norms", 0,
                        "[0:1]");
}

static int fig_weights(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const plot_curve curves[] = {{"sum_sq_weights", NULL, 7}};
    return fig_measures(r, c, s, why, "weights", curves, 1, "sum of squared weights", 0, NULL);
}

/* The Fourier columns of fourier_embed.tsv: idx[0] = const (or -1),
 * idx[k] = freq_k for k = 1..K.  Returns K (0 when there is no freq_1).
 * idx must hold max + 1 entries. */
static int fourier_cols(const plot_table *t, int *idx, int max)
{
    idx[0] = table_col(t, "const");
    int k = 0;
    while (k < max) {
        char name[32];
        snprintf(name, sizeof name, "freq_%d", k + 1);
        int col = table_col(t, name);
        if (col < 0)
            break;
        idx[++k] = col;
    }
    return k;
}

/* The checks shared by the two embedding figures; returns K or 0 (why set).
 * *idx is malloc'ed. */
static int fourier_need(const plot_run *r, int **idx, sbuf *why)
{
    static const char *const cols[] = {"epoch", "freq_1"};
    *idx = NULL;
    if (!plot_need(&r->fourier, "fourier_embed.tsv", cols, 2, why))
        return 0;
    int max = r->fourier.tsv.n_cols;
    *idx = malloc(((size_t)max + 1) * sizeof **idx);
    if (!*idx)
        return -1;
    return fourier_cols(&r->fourier, *idx, max);
}

/* A label over the bars of a run of key frequencies (fig_fourier_embed). */
typedef struct {
    sbuf *s;
    const plot_table *t;
    size_t row;
    const int *idx;
} plot_bar_ctx;

static void plot_bar_label(void *vctx, int first, int last, const char *label)
{
    plot_bar_ctx *c = vctx;
    double top = 0;
    for (int k = first; k <= last; k++) {
        double v = table_at(c->t, c->row, c->idx[k]);
        if (v > top)
            top = v;
    }
    sbuf_printf(c->s, "set label '%s' at %.9g, %.9g center offset 0, 0.7 tc rgb '#D55E00' front\n",
                label, 0.5 * (first + last), top);
}

static int fig_fourier_embed(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    int *idx;
    int K = fourier_need(r, &idx, why);
    if (K <= 0)
        return K < 0 ? GROK_ENOMEM : 0;
    const plot_table *t = &r->fourier;
    size_t row = t->n_rows - 1;
    double epoch = table_at(t, row, table_col(t, "epoch"));
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    sbuf_puts(s, "$embed << EOD\n# k norm is_key (k = 0: the constant component)\n");
    for (int k = idx[0] >= 0 ? 0 : 1; k <= K; k++) {
        sbuf_printf(s, "%d ", k);
        plot_num(s, table_at(t, row, idx[k]));
        sbuf_printf(s, " %d\n", k > 0 && plot_is_key(r, k));
    }
    sbuf_puts(s, "EOD\n");
    char ylabel[96];
    snprintf(ylabel, sizeof ylabel, "Fourier norm of $W_E$, epoch %.0f", epoch);
    plot_set_text(s, c->f, "xlabel", "frequency $k$");
    plot_set_text(s, c->f, "ylabel", ylabel);
    sbuf_printf(s, "set xrange [-1:%d]\n", K + 1);
    sbuf_puts(s, "set yrange [0:*]\nset offsets 0, 0, graph 0.12, 0\n");
    sbuf_puts(s, "set grid noxtics\nset boxwidth 0.8\n");
    if (idx[0] >= 0)
        sbuf_puts(s, "set xtics add ('const' 0)\n");
    plot_bar_ctx bc = {s, t, row, idx};
    plot_key_runs(r, K, K / 25.0, plot_bar_label, &bc);
    sbuf_puts(s, "plot $embed using 1:($3 == 0 ? $2 : NaN) with boxes lt 1 title ");
    plot_text(s, c->f, r->n_key_freqs ? "other frequencies" : "frequencies");
    if (r->n_key_freqs) {
        sbuf_puts(s, ", \\\n     $embed using 1:($3 != 0 ? $2 : NaN) with boxes lt 2 title ");
        plot_text(s, c->f, "key frequencies");
    }
    sbuf_puts(s, "\n");
    free(idx);
    return 1;
}

static int fig_fourier_embed_epochs(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    int *idx;
    int K = fourier_need(r, &idx, why);
    if (K <= 0)
        return K < 0 ? GROK_ENOMEM : 0;
    const plot_table *t = &r->fourier;
    if (t->n_rows < 2) {
        free(idx);
        sbuf_puts(why, "fourier_embed.tsv has one measured epoch; the heatmap needs two");
        return 0;
    }
    int ce = table_col(t, "epoch");
    size_t n = t->n_rows;
    double e0 = table_at(t, 0, ce), e1 = table_at(t, n - 1, ce);
    if (!(e1 > e0)) {
        free(idx);
        sbuf_puts(why, "fourier_embed.tsv: epochs do not increase");
        return 0;
    }
    /* `with image` needs an even grid: send the rows as they are when the
     * epochs are evenly spaced, else resample to PLOT_HEAT_COLS columns,
     * each showing the nearest measured epoch. */
    int even = n <= 4 * PLOT_HEAT_COLS;
    double step = (e1 - e0) / (double)(n - 1);
    for (size_t i = 1; i < n && even; i++)
        if (fabs(table_at(t, i, ce) - (e0 + step * (double)i)) > 1e-6 * step)
            even = 0;
    size_t n_x = even ? n : PLOT_HEAT_COLS;
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    sbuf_printf(s, "$heat << EOD\n# epoch k norm%s\n",
                even ? "" : " (resampled: nearest measured epoch)");
    size_t near = 0;
    for (size_t j = 0; j < n_x; j++) {
        double x = even ? table_at(t, j, ce) : e0 + (e1 - e0) * (double)j / (double)(n_x - 1);
        size_t row = j;
        if (!even) {
            while (near + 1 < n &&
                   fabs(table_at(t, near + 1, ce) - x) <= fabs(table_at(t, near, ce) - x))
                near++;
            row = near;
        }
        for (int k = 1; k <= K; k++) {
            plot_num(s, x);
            sbuf_printf(s, " %d ", k);
            plot_num(s, table_at(t, row, idx[k]));
            sbuf_puts(s, "\n");
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel",
                  r->n_key_freqs ? "frequency $k$ (key frequencies labelled)" : "frequency $k$");
    plot_set_text(s, c->f, "cblabel", "Fourier norm of $W_E$");
    sbuf_puts(s, "unset grid\nunset key\nset autoscale fix\nset cbrange [0:*]\n");
    sbuf_puts(s, "set tics front\n");
    if (r->n_key_freqs) {
        sbuf_puts(s, "# y tics at the key frequencies only\nset ytics (");
        plot_key_tics(s, r, K, K / 20.0, 1, 0);
        sbuf_puts(s, ")\n");
    }
    sbuf_puts(s, "plot $heat using 1:2:3 with image\n");
    free(idx);
    return 1;
}

/* One neuron for the sort in fig_neurons. */
typedef struct {
    int neuron, freq, group; /* group: index into the cluster list, or n_groups = other */
    double fve;
} plot_neuron;

static int plot_neuron_cmp(const void *pa, const void *pb)
{
    const plot_neuron *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->freq != b->freq)
        return a->freq < b->freq ? -1 : 1;
    if (a->fve != b->fve)
        return a->fve > b->fve ? -1 : 1; /* NaN never equals: fall to the neuron id */
    return a->neuron < b->neuron ? -1 : a->neuron > b->neuron;
}

static int plot_int_cmp(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

static int fig_neurons(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const char *const cols[] = {"neuron", "freq", "frac_explained"};
    if (!plot_need(&r->neurons, "neurons.tsv", cols, 3, why))
        return 0;
    const plot_table *t = &r->neurons;
    int cn = table_col(t, "neuron"), cf = table_col(t, "freq"), cv = table_col(t, "frac_explained");
    size_t n = t->n_rows;
    plot_neuron *nv = malloc(n * sizeof *nv);
    int *groups = malloc((n + (size_t)r->n_key_freqs + 1) * sizeof *groups);
    if (!nv || !groups) {
        free(nv);
        free(groups);
        return GROK_ENOMEM;
    }
    /* The clusters: the key frequencies from summary.json, else every
     * frequency that at least two neurons explain above the threshold. */
    int n_groups = 0;
    if (r->n_key_freqs) {
        for (int i = 0; i < r->n_key_freqs; i++)
            groups[n_groups++] = r->key_freqs[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            double f = table_at(t, i, cf);
            if (!(table_at(t, i, cv) > PLOT_CLUSTER_FVE) || !isfinite(f))
                continue;
            int count = 0;
            for (size_t j = 0; j < n; j++)
                count += table_at(t, j, cf) == f && table_at(t, j, cv) > PLOT_CLUSTER_FVE;
            int seen = 0;
            for (int g = 0; g < n_groups; g++)
                seen |= groups[g] == (int)f;
            if (count >= 2 && !seen)
                groups[n_groups++] = (int)f;
        }
    }
    qsort(groups, (size_t)n_groups, sizeof *groups, plot_int_cmp);
    for (size_t i = 0; i < n; i++) {
        double f = table_at(t, i, cf);
        nv[i].neuron = (int)table_at(t, i, cn);
        nv[i].freq = isfinite(f) ? (int)f : -1;
        nv[i].fve = table_at(t, i, cv);
        nv[i].group = n_groups;
        for (int g = 0; g < n_groups; g++)
            if (groups[g] == nv[i].freq)
                nv[i].group = g;
    }
    qsort(nv, n, sizeof *nv, plot_neuron_cmp);

    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    sbuf_puts(s, "$neurons << EOD\n# rank neuron freq frac_explained group (sorted by cluster)\n");
    for (size_t i = 0; i < n; i++) {
        sbuf_printf(s, "%zu %d %d ", i, nv[i].neuron, nv[i].freq);
        plot_num(s, nv[i].fve);
        sbuf_printf(s, " %d\n", nv[i].group);
    }
    sbuf_puts(s, "EOD\n");
    /* The groups are named by x tics at their centres; a group narrower
     * than 1/40 of the neurons, or centred within 1/16 of the axis of the
     * last label, gets an unlabelled tic, so labels never collide.  With at
     * most six clusters each also has its own Okabe-Ito colour and a legend
     * entry with its size. */
    int legend = n_groups <= 6;
    plot_set_text(s, c->f, "xlabel", "neurons, grouped by frequency $k$");
    plot_set_text(s, c->f, "ylabel", "fraction of variance explained");
    sbuf_printf(s, "set xrange [-0.5:%zu]\nset yrange [0:1.05]\nset ytics 0, 0.2, 1\n",
                n > 0 ? n - 1 : 0);
    sbuf_puts(s, "set grid noxtics\nset xtics scale 0.4 (");
    size_t start = 0;
    double last_label = -1e300;
    for (int g = 0; g <= n_groups; g++) {
        size_t count = 0;
        while (start + count < n && nv[start + count].group == g)
            count++;
        if (count == 0)
            continue;
        char label[32] = "";
        double mid = (double)start + 0.5 * (double)(count - 1);
        if ((double)count * 40.0 >= (double)n && (mid - last_label) * 16.0 >= (double)n) {
            last_label = mid;
            if (g < n_groups)
                snprintf(label, sizeof label, "%d", groups[g]);
            else
                snprintf(label, sizeof label, "other");
        }
        sbuf_printf(s, "%s'%s' %.1f", start ? ", " : "", label, mid);
        start += count;
    }
    sbuf_puts(s, ")\n");
    sbuf_printf(s,
                "set arrow from graph 0, first %g to graph 1, first %g nohead back "
                "lc rgb '#000000' lw 0.8 dt 2\n",
                PLOT_CLUSTER_FVE, PLOT_CLUSTER_FVE);
    sbuf_puts(s, "plot ");
    int first = 1;
    for (int g = 0; g <= n_groups; g++) {
        int count = 0;
        for (size_t i = 0; i < n; i++)
            count += nv[i].group == g;
        if (count == 0)
            continue;
        sbuf_printf(s, "%s$neurons using ($5 == %d ? $1 : NaN):4 with points ",
                    first ? "" : ", \\\n     ", g);
        first = 0;
        if (g < n_groups)
            sbuf_printf(s, "lt %d pt 7 ps 0.7", (g % 6) + 1);
        else
            sbuf_puts(s, "lc rgb '#999999' pt 7 ps 0.6");
        char title[96];
        const char *unit = count == 1 ? "neuron" : "neurons";
        if (g == n_groups)
            snprintf(title, sizeof title, "other, %d %s", count, unit);
        else if (legend)
            snprintf(title, sizeof title, "$k=%d$, %d %s", groups[g], count, unit);
        else
            continue;
        sbuf_puts(s, " title ");
        plot_text(s, c->f, title);
    }
    char thr[64];
    snprintf(thr, sizeof thr, "threshold %g", PLOT_CLUSTER_FVE);
    sbuf_printf(s, "%skeyentry with lines lc rgb '#000000' lw 0.8 dt 2 title ",
                first ? "" : ", \\\n     ");
    plot_text(s, c->f, thr);
    sbuf_puts(s, "\n");
    free(nv);
    free(groups);
    return 1;
}

/* One attention panel: a (layer, head) pair. */
typedef struct {
    int layer, head;
} plot_panel;

static int fig_attention(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    static const char *const cols[] = {"a", "b", "head", "att_a"};
    if (!plot_need(&r->attention, "attention.tsv", cols, 4, why))
        return 0;
    const plot_table *t = &r->attention;
    int ca = table_col(t, "a"), cb = table_col(t, "b"), ch = table_col(t, "head");
    int cv = table_col(t, "att_a"), cl = table_col(t, "layer");
    size_t n = t->n_rows;
    int p = 0;
    enum { MAX_PANELS = 64 };
    plot_panel panels[MAX_PANELS];
    int n_panels = 0;
    for (size_t i = 0; i < n; i++) {
        double a = table_at(t, i, ca), b = table_at(t, i, cb), h = table_at(t, i, ch);
        double l = cl >= 0 ? table_at(t, i, cl) : 0;
        if (!(a >= 0 && b >= 0 && h >= 0 && l >= 0 && a < 100000 && b < 100000 && h < 1000 &&
              l < 1000)) {
            sbuf_printf(why, "attention.tsv row %zu: a, b, head or layer is not a small index",
                        i + 1);
            return 0;
        }
        if ((int)a + 1 > p)
            p = (int)a + 1;
        if ((int)b + 1 > p)
            p = (int)b + 1;
        int found = 0;
        for (int k = 0; k < n_panels && !found; k++)
            found = panels[k].layer == (int)l && panels[k].head == (int)h;
        if (!found) {
            if (n_panels == MAX_PANELS) {
                sbuf_printf(why, "attention.tsv has more than %d heads", MAX_PANELS);
                return 0;
            }
            panels[n_panels++] = (plot_panel){(int)l, (int)h};
        }
    }
    /* panels in (layer, head) order */
    for (int i = 1; i < n_panels; i++)
        for (int j = i; j > 0 && (panels[j - 1].layer > panels[j].layer ||
                                  (panels[j - 1].layer == panels[j].layer &&
                                   panels[j - 1].head > panels[j].head));
             j--) {
            plot_panel tmp = panels[j];
            panels[j] = panels[j - 1];
            panels[j - 1] = tmp;
        }
    if (p < 2) {
        sbuf_puts(why, "attention.tsv covers fewer than 2 x 2 inputs");
        return 0;
    }
    size_t pp = (size_t)p * (size_t)p;
    double *grid = malloc(pp * (size_t)n_panels * sizeof *grid);
    if (!grid)
        return GROK_ENOMEM;
    for (size_t i = 0; i < pp * (size_t)n_panels; i++)
        grid[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        int l = cl >= 0 ? (int)table_at(t, i, cl) : 0, h = (int)table_at(t, i, ch);
        int k = 0;
        while (panels[k].layer != l || panels[k].head != h)
            k++;
        grid[(size_t)k * pp + (size_t)table_at(t, i, ca) * (size_t)p +
             (size_t)table_at(t, i, cb)] = table_at(t, i, cv);
    }

    /* Square panels, 4 to a row, one colour box at the right.  Geometry in
     * inches: the margins hold tic labels, axis labels and panel titles. */
    int n_c = n_panels < 4 ? n_panels : 4;
    int n_r = (n_panels + n_c - 1) / n_c;
    double w = n_c <= 2 ? PLOT_COL_W : PLOT_PAGE_W;
    const double m_left = 0.5, m_right = 0.95, m_bottom = 0.5, m_top = 0.3, gap_x = 0.25,
                 gap_y = 0.55;
    double cell = (w - m_left - m_right - gap_x * (n_c - 1)) / n_c;
    double h = m_bottom + m_top + n_r * cell + (n_r - 1) * gap_y;
    plot_begin(s, c, w, h);
    for (int k = 0; k < n_panels; k++) {
        sbuf_printf(s, "$att%d << EOD\n# a b att_a (layer %d, head %d)\n", k, panels[k].layer,
                    panels[k].head);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                sbuf_printf(s, "%d %d ", a, b);
                double v = grid[(size_t)k * pp + (size_t)a * (size_t)p + (size_t)b];
                if (isfinite(v))
                    sbuf_printf(s, "%.5g\n", v);
                else
                    sbuf_puts(s, "NaN\n");
            }
            sbuf_puts(s, "\n");
        }
        sbuf_puts(s, "EOD\n");
    }
    free(grid);
    int layers = cl >= 0 && panels[n_panels - 1].layer > 0;
    double right = 1.0 - m_right / w;
    sbuf_printf(s, "set multiplot layout %d,%d margins %.4f, %.4f, %.4f, %.4f spacing %.4f, %.4f\n",
                n_r, n_c, m_left / w, right, m_bottom / h, 1.0 - m_top / h, gap_x / w, gap_y / h);
    sbuf_puts(s, "unset grid\nunset key\nset autoscale fix\nset cbrange [0:1]\n");
    int step = p <= 12 ? 2 : p <= 30 ? 5 : p <= 60 ? 10 : 25;
    sbuf_printf(s, "set xtics out %d\nset ytics out %d\n", step, step);
    plot_set_text(s, c->f, "xlabel", "$a$");
    sbuf_printf(s, "set colorbox user origin %.4f, %.4f size %.4f, %.4f\n", right + 0.1 / w,
                m_bottom / h, 0.1 / w, 1.0 - (m_bottom + m_top) / h);
    plot_set_text(s, c->f, "cblabel", "attention from = to $a$");
    for (int k = 0; k < n_panels; k++) {
        char title[64];
        if (layers)
            snprintf(title, sizeof title, "layer %d, head %d", panels[k].layer, panels[k].head);
        else
            snprintf(title, sizeof title, "head %d", panels[k].head);
        plot_set_text(s, c->f, "title", title);
        if (k % n_c == 0)
            plot_set_text(s, c->f, "ylabel", "$b$");
        else
            sbuf_puts(s, "unset ylabel\n");
        sbuf_puts(s, k == n_panels - 1 ? "set colorbox\n" : "unset colorbox\n");
        sbuf_printf(s, "plot $att%d using 1:2:3 with image\n", k);
    }
    sbuf_puts(s, "unset multiplot\n");
    return 1;
}

static int fig_logit_spectrum(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why)
{
    if (!r->spec_tsv.present) {
        sbuf_puts(why, "no logit_spectrum.tsv");
        return 0;
    }
    if (r->spec_tsv.problem[0]) {
        sbuf_puts(why, r->spec_tsv.problem);
        return 0;
    }
    int p = r->spec_p;
    int negative = 0;
    for (size_t i = 0; i < (size_t)p * (size_t)p; i++)
        negative |= r->spec[i] < 0;
    plot_begin(s, c, PLOT_COL_W, 3.0);
    sbuf_printf(s, "$spec << EOD\n# %s%s\n", r->spec_comment,
                negative ? " (absolute values)" : "");
    for (int f = 0; f < p; f++) {
        for (int g = 0; g < p; g++) {
            if (g)
                sbuf_puts(s, " ");
            plot_num(s, fabs(r->spec[(size_t)f * (size_t)p + (size_t)g]));
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
    const char *ep = strstr(r->spec_comment, "epoch");
    if (ep) {
        char *end;
        const char *q = ep + 5;
        while (*q == ' ' || *q == '=' || *q == ':')
            q++;
        long epoch = strtol(q, &end, 10);
        if (end != q) {
            char title[64];
            snprintf(title, sizeof title, "epoch %ld", epoch);
            plot_set_text(s, c->f, "title", title);
        }
    }
    /* Component 2k-1 is cos k, 2k is sin k: a frequency's tic sits between. */
    sbuf tics;
    sbuf_init(&tics);
    if (r->n_key_freqs) {
        plot_key_tics(&tics, r, (p - 1) / 2, p / 40.0, 2, -0.5);
    } else {
        for (int k = 10; 2 * k < p; k += 10)
            sbuf_printf(&tics, "%s'%d' %.1f", k > 10 ? ", " : "", k, 2 * k - 0.5);
    }
    sbuf_printf(s, "set xtics (%s)\nset ytics (%s)\n", tics.data ? tics.data : "",
                tics.data ? tics.data : "");
    sbuf_free(&tics);
    plot_set_text(s, c->f, "xlabel",
                  r->n_key_freqs ? "frequency of $b$ (key frequencies marked)"
                                 : "frequency of $b$");
    plot_set_text(s, c->f, "ylabel", "frequency of $a$");
    plot_set_text(s, c->f, "cblabel", negative ? "$|$component$|$" : "norm of component");
    sbuf_puts(s, "unset grid\nunset key\nset size ratio -1\nset autoscale fix\nset cbrange [0:*]\n"
                 "set tics front\n");
    sbuf_puts(s, "plot $spec matrix with image\n");
    return 1;
}

/* ---- the table of recipes and the driver -------------------------------- */

typedef struct {
    const char *name, *about;
    int (*build)(const plot_run *r, const plot_ctx *c, sbuf *s, sbuf *why);
} plot_recipe;

static const plot_recipe plot_recipes[] = {
    {"loss", "train and test loss against epoch (log y), memorised and grokked epochs marked",
     fig_loss},
    {"accuracy", "train and test accuracy against epoch, memorised and grokked epochs marked",
     fig_accuracy},
    {"progress", "train, test, restricted and excluded loss (log y), the three phases shaded",
     fig_progress},
    {"gini", "Gini coefficient of the Fourier norms of W_E and W_L against epoch", fig_gini},
    {"weights", "total sum of squared weights against epoch", fig_weights},
    {"fourier_embed", "Fourier norms of W_E by frequency at the last measured epoch",
     fig_fourier_embed},
    {"fourier_embed_epochs", "Fourier norms of W_E by frequency over epochs (heatmap)",
     fig_fourier_embed_epochs},
    {"neurons", "each neuron's fraction of variance explained, grouped by key frequency",
     fig_neurons},
    {"attention", "attention from = to a, per head, over the input grid", fig_attention},
    {"logit_spectrum", "the logits' 2-D Fourier spectrum at one checkpoint", fig_logit_spectrum},
};
enum { PLOT_N_RECIPES = sizeof plot_recipes / sizeof plot_recipes[0] };

int plot_n_figures(void) { return PLOT_N_RECIPES; }

const char *plot_figure_name(int i)
{
    GROK_ASSERT(i >= 0 && i < PLOT_N_RECIPES);
    return plot_recipes[i].name;
}

const char *plot_figure_about(int i)
{
    GROK_ASSERT(i >= 0 && i < PLOT_N_RECIPES);
    return plot_recipes[i].about;
}

static void plot_list_names(sbuf *s)
{
    for (int i = 0; i < PLOT_N_RECIPES; i++)
        sbuf_printf(s, "%s%s", i ? ", " : "", plot_recipes[i].name);
}

static int plot_find(const char *name, grok_err *e)
{
    for (int i = 0; i < PLOT_N_RECIPES; i++)
        if (!strcmp(plot_recipes[i].name, name))
            return i;
    sbuf s;
    sbuf_init(&s);
    plot_list_names(&s);
    grok_fail(e, GROK_EINVAL, "unknown figure \"%s\": valid figures are %s", name,
              s.data ? s.data : "");
    sbuf_free(&s);
    return -1;
}

int plot_script(const plot_run *r, const char *name, plot_format f, sbuf *script, sbuf *why,
                grok_err *e)
{
    GROK_ASSERT(r && name && script && why && f >= 0 && f < PLOT_N_FORMATS);
    int i = plot_find(name, e);
    if (i < 0)
        return GROK_EINVAL;
    plot_ctx c = {f, plot_recipes[i].name};
    size_t mark = script->len;
    int rc = plot_recipes[i].build(r, &c, script, why);
    if (rc == 1) {
        sbuf_puts(script, "unset output\n");
        if (script->oom)
            rc = GROK_ENOMEM;
    }
    if (rc != 1 && script->data && script->len > mark) { /* drop a partial script */
        script->len = mark;
        script->data[mark] = '\0';
    }
    if (rc < 0)
        return grok_fail(e, GROK_ENOMEM, "figure %s: out of memory", name);
    return rc;
}

int plot_outputs(const char *name, plot_format f, char out[2][96])
{
    GROK_ASSERT(strlen(name) < 80);
    snprintf(out[0], 96, "%s.%s", name, plot_ext[f]);
    if (f != PLOT_TEX)
        return 1;
    snprintf(out[1], 96, "%s.pdf", name);
    return 2;
}

int plot_parse_formats(const char *formats, unsigned *mask, grok_err *e)
{
    GROK_ASSERT(mask);
    *mask = 0;
    if (!formats)
        formats = "png";
    const char *p = formats;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ',' && *q != ' ')
            q++;
        size_t k = (size_t)(q - p);
        int found = -1;
        for (int f = 0; f < PLOT_N_FORMATS; f++)
            if (strlen(plot_ext[f]) == k && !strncmp(plot_ext[f], p, k))
                found = f;
        if (found < 0) {
            int whole = strlen(formats) == k;
            return grok_fail(e, GROK_EINVAL,
                             "unknown figure format \"%.*s\"%s%s%s: valid formats are png, pdf, "
                             "svg, tex (comma-separated)",
                             (int)k, p, whole ? "" : " in \"", whole ? "" : formats,
                             whole ? "" : "\"");
        }
        *mask |= 1u << found;
        p = q;
    }
    return GROK_OK;
}

int plot_run_dir(const char *dir, const char *formats, const char *only, sbuf *notes,
                 grok_err *e)
{
    GROK_ASSERT(dir);
    unsigned mask;
    int rc = plot_parse_formats(formats, &mask, e);
    if (rc)
        return rc;
    int only_i = -1;
    if (only && (only_i = plot_find(only, e)) < 0)
        return GROK_EINVAL;
    plot_run *r;
    rc = plot_run_load(dir, &r, e);
    if (rc)
        return rc;
    if (mask == 0) {
        if (notes)
            sbuf_puts(notes, "plots: no formats requested, no figures drawn\n");
        plot_run_free(r);
        return GROK_OK;
    }

    char fig_dir[4096], tex_dir[4096];
    snprintf(fig_dir, sizeof fig_dir, "%s/figures", dir);
    snprintf(tex_dir, sizeof tex_dir, "%s/figures/tex", dir);
    int drawn = 0, skipped = 0, failed = 0;
    grok_err first = {{0}};
    sbuf script, why;
    sbuf_init(&script);
    sbuf_init(&why);
    for (int i = 0; i < PLOT_N_RECIPES && rc == GROK_OK; i++) {
        if (only_i >= 0 && i != only_i)
            continue;
        int fig_failed = 0;
        for (int f = 0; f < PLOT_N_FORMATS && rc == GROK_OK; f++) {
            if (!(mask & (1u << f)))
                continue;
            sbuf_clear(&script);
            sbuf_clear(&why);
            int built = plot_script(r, plot_recipes[i].name, (plot_format)f, &script, &why, e);
            if (built < 0) {
                rc = built;
                break;
            }
            if (built == 0) {
                if (notes)
                    sbuf_printf(notes, "%s: skipped: %s\n", plot_recipes[i].name,
                                why.data ? why.data : "");
                skipped++;
                break; /* the same reason holds for every format */
            }
            const char *out_dir = f == PLOT_TEX ? tex_dir : fig_dir;
            grok_err me;
            if ((rc = fileio_mkdir_p(out_dir, e)) != GROK_OK)
                break;
            char out[2][96];
            int n_out = plot_outputs(plot_recipes[i].name, (plot_format)f, out);
            const char *outs[2] = {out[0], out[1]};
            char label[128];
            snprintf(label, sizeof label, "%s.%s", plot_recipes[i].name, plot_ext[f]);
            int missing = 0;
            int grc = gp_draw(NULL, out_dir, label, script.data, script.len, outs, n_out, notes,
                              &missing, &me);
            if (missing) {
                rc = grok_fail(e, GROK_EIO, "%s", me.msg);
                break;
            }
            if (grc == GROK_ENOMEM) {
                rc = grok_fail(e, grc, "%s", me.msg);
                break;
            }
            if (grc != GROK_OK) {
                if (notes)
                    sbuf_printf(notes, "%s\n", me.msg);
                if (!failed)
                    first = me;
                failed++;
                fig_failed = 1;
            }
        }
        if (rc == GROK_OK && !fig_failed && (why.len == 0))
            drawn++;
    }
    sbuf_free(&script);
    sbuf_free(&why);
    plot_run_free(r);
    if (rc)
        return rc;
    if (notes) {
        sbuf_printf(notes, "plots: %d figure%s drawn, %d skipped", drawn, drawn == 1 ? "" : "s",
                    skipped);
        if (failed)
            sbuf_printf(notes, ", %d failed", failed);
        sbuf_printf(notes, " (%s/figures)\n", dir);
    }
    if (failed)
        return grok_fail(e, GROK_EIO, "%s%s", first.msg,
                         failed > 1 ? " (and more figures failed: see the notes)" : "");
    return notes && notes->oom ? grok_fail(e, GROK_ENOMEM, "plots: out of memory") : GROK_OK;
}
