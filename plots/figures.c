/* figures.c: the run figures: their table (plot_figures, plot.h) and
 * their recipes, and plot_script, which checks a figure's files and builds
 * its script.
 *
 * A recipe checks the columns it needs (plot_need), then writes the
 * terminal line and the shared style (plot_begin), its data blocks, and its
 * commands.  Phases (memorisation, circuit formation, cleanup) are shaded
 * bands as in Nanda et al. (2023), Fig. 7; the memorised and grokked epochs
 * are dashed lines.  The operands of a task are named by the files' own
 * columns (a, b for modular arithmetic; x, y for a group), so the same
 * recipe draws every task kind that wrote the file. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "plot.h"
#include "run_data.h"
#include "run_fig.h"
#include "style.h"

/* Columns of the epoch axis in the embedding heatmap when the measured
 * epochs are not evenly spaced (they are resampled, nearest measured epoch). */
#define PLOT_HEAT_COLS 500
/* A neuron counts as part of a frequency cluster above this fraction of
 * variance explained (Nanda et al. code; docs/measures.md, key frequencies). */
#define PLOT_CLUSTER_FVE 0.85

/* ---- marks shared by the recipes ------------------------------------------ */

int plot_is_key(const plot_run *r, int k)
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

void plot_key_tics(sbuf *s, const plot_run *r, int max_k, double min_gap, double a, double b)
{
    plot_tic_ctx c = {s, a, b, 0};
    plot_key_runs(r, max_k, min_gap, plot_tic_run, &c);
}

/* The run figures: enhanced text, and solid fills for bars and bands. */
void plot_begin(sbuf *s, const plot_ctx *c, double w_in, double h_in)
{
    plot_begin_figure(s, c->f, c->name, w_in, h_in, 1, c->st);
    sbuf_puts(s, "set style fill solid 1.0 noborder\n");
}

/* The largest epoch in t's column "epoch": marks beyond it are not drawn
 * (a summary.json newer than the table must not draw outside the frame). */
double plot_last_epoch(const plot_table *t)
{
    int ce = plot_table_col(t, "epoch");
    double last = -INFINITY;
    for (size_t i = 0; i < t->n_rows; i++)
        if (plot_table_at(t, i, ce) > last)
            last = plot_table_at(t, i, ce);
    return last;
}

/* The marks for the memorised and grokked epochs up to xmax: dashed
 * vertical lines (set arrow) and their legend entries (appended to keys,
 * each starting ", "). */
static void plot_marks(sbuf *s, sbuf *keys, const plot_run *r, const plot_ctx *c, double xmax)
{
    plot_format f = c->f;
    if (!c->st->marks)
        return;
    if (c->st->to < xmax)
        xmax = c->st->to;
    const struct {
        double epoch;
        const char *what;
        int dt;
    } m[2] = {{r->memorised, "memorised", 2}, {r->grokked, "grokked", 4}};
    for (int i = 0; i < 2; i++) {
        if (!isfinite(m[i].epoch) || m[i].epoch > xmax || m[i].epoch < c->st->from)
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
void plot_phases(sbuf *s, sbuf *keys, const plot_run *r, const plot_ctx *c, double xmax)
{
    static const char *const name[3] = {"memorisation", "circuit formation", "cleanup"};
    if (!c->st->phases)
        return;
    if (c->st->to < xmax)
        xmax = c->st->to;
    double from = 0;
    for (int i = 0; i < 3; i++) {
        double to = r->phase_end[i];
        if (!isfinite(to) || to <= from || from >= xmax)
            break;
        if (to > xmax)
            to = xmax;
        double a = from < c->st->from ? c->st->from : from; /* cut at --from */
        from = to;
        if (a >= to)
            continue;
        if (!keys->len || !strstr(keys->data, "c_phase"))
            sbuf_puts(s, "# the three phases, shaded\n");
        sbuf_printf(s,
                    "set object %d rect from %.9g, graph 0 to %.9g, graph 1 behind "
                    "fc rgb c_phase%d fs transparent solid 0.2 noborder\n",
                    i + 1, a, to, i + 1);
        sbuf_printf(keys, ", keyentry with boxes fc rgb c_phase%d fs transparent solid 0.2 title ",
                    i + 1);
        plot_text(keys, c->f, name[i]);
    }
}

void plot_epoch_x(sbuf *s, const plot_ctx *c, double xmax)
{
    const plot_style *st = c->st;
    sbuf_puts(s, "# epoch axis\nset autoscale xfix\n");
    if (st->log_epoch) {
        sbuf_puts(s, "# log(1 + epoch), so that epoch 0 is drawn\n"
                     "set nonlinear x via log10(x + 1) inverse 10**x - 1\nset xtics (");
        if (st->to < xmax)
            xmax = st->to;
        double lo = isfinite(st->from) ? st->from : 0;
        int n = 0;
        if (lo <= 0) {
            sbuf_puts(s, "'0' 0");
            n++;
        }
        for (double t = 1; t <= xmax * (1 + 1e-9); t *= 10)
            if (t >= lo)
                sbuf_printf(s, "%s'%.0f' %.0f", n++ ? ", " : "", t, t);
        sbuf_puts(s, ")\n");
    }
    /* a narrow figure (a panel of a column-wide figure): as many epoch
     * labels as fit, a step of 1, 2 or 5 x 10^k (gnuplot's own step
     * assumes the room of a column) */
    double w_in = st->width_in > 0 ? st->width_in : PLOT_COL_W;
    double hi = isfinite(st->to) && st->to < xmax ? st->to : xmax;
    double lo = isfinite(st->from) ? st->from : 0;
    if (!st->log_epoch && w_in < 2.6 && isfinite(hi) && hi > lo) {
        double pt = st->font_pt > 0 ? st->font_pt : 8.0;
        int digits = (int)floor(log10(fmax(hi, 1))) + 1;
        double label_pt = (0.64 * digits + 1.5) * pt; /* the label and a gap */
        int fit = (int)((w_in - 0.75) * 72.0 / label_pt);
        if (fit < 2)
            fit = 2;
        /* the smallest step whose labels number at most fit */
        double p10 = pow(10, floor(log10((hi - lo) / fit))), step = p10;
        static const double nice[4] = {2, 5, 10, 20};
        for (int i = 0; i < 4 && floor((hi - lo) / step) + 1 > fit; i++)
            step = nice[i] * p10;
        sbuf_printf(s, "# a narrow figure: as many epoch labels as fit\nset xtics %.9g\n", step);
    }
    if (isfinite(st->from) || isfinite(st->to)) {
        sbuf_puts(s, "set xrange [");
        if (isfinite(st->from))
            sbuf_printf(s, "%.9g", st->from);
        else
            sbuf_puts(s, "*");
        sbuf_puts(s, ":");
        if (isfinite(st->to))
            sbuf_printf(s, "%.9g", st->to);
        else
            sbuf_puts(s, "*");
        sbuf_puts(s, "]\n");
    }
}

const char *plot_with(size_t n)
{
    return n <= 1 ? "points ps 1.2" : n <= PLOT_FEW_ROWS ? "linespoints" : "lines";
}

void plot_single_epoch_x(sbuf *s, const plot_ctx *c, const plot_table *t)
{
    if (isfinite(c->st->from) || isfinite(c->st->to) || t->n_rows == 0)
        return;
    int ce = plot_table_col(t, "epoch");
    double e0 = plot_table_at(t, 0, ce);
    for (size_t i = 1; i < t->n_rows; i++)
        if (plot_table_at(t, i, ce) != e0)
            return;
    if (!isfinite(e0))
        return;
    /* half the epoch either side (1 at epoch 0): never below 0, so the log
     * axis's log(1 + epoch) is defined */
    double d = e0 > 0 ? 0.5 * e0 : 1;
    sbuf_printf(s, "# one measured epoch: a range around it\nset xrange [%.9g:%.9g]\n", e0 - d,
                e0 + d);
}

void plot_flat_y(sbuf *s, const plot_table *t, const char *const *cols, int n, int log_y)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < n; k++) {
        int col = plot_table_col(t, cols[k]);
        for (size_t i = 0; i < t->n_rows && col >= 0; i++) {
            double v = plot_table_at(t, i, col);
            if (!isfinite(v) || (log_y && !(v > 0)))
                continue;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    if (!(lo == hi))
        return; /* no finite value, or a range gnuplot can scale */
    double a = log_y ? lo / 2 : lo - (lo != 0 ? 0.1 * fabs(lo) : 1);
    double b = log_y ? lo * 2 : lo + (lo != 0 ? 0.1 * fabs(lo) : 1);
    sbuf_printf(s, "# one value: a range around it\nset yrange [%.9g:%.9g]\n", a, b);
}

/* ---- recipes ------------------------------------------------------------ */


static int fig_loss(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    static const char *const cols[] = {"epoch", "train_loss", "test_loss"};
    if (!plot_need(&r->metrics, "metrics.tsv", cols, 3, why))
        return 0;
    const double marks[2] = {r->memorised, r->grokked};
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    if (plot_block(s, "loss", &r->metrics, cols, 3, NULL, marks, 2))
        return GROK_ENOMEM;
    sbuf keys;
    sbuf_init(&keys);
    plot_marks(s, &keys, r, c, plot_last_epoch(&r->metrics));
    plot_set_text(s, c->f, "xlabel", "epoch");
    /* metrics.tsv holds the training loss the config names */
    plot_set_text(s, c->f, "ylabel", plot_loss_label(r->loss));
    plot_log_y(s, c->f);
    plot_epoch_x(s, c, plot_last_epoch(&r->metrics));
    plot_single_epoch_x(s, c, &r->metrics);
    plot_flat_y(s, &r->metrics, cols + 1, 2, 1);
    const char *with = plot_with(r->metrics.n_rows);
    sbuf_printf(s, "plot $loss using 1:2 with %s lt 1 title ", with);
    plot_text(s, c->f, "train");
    sbuf_printf(s, ", \\\n     $loss using 1:3 with %s lt 2 title ", with);
    plot_text(s, c->f, "test");
    sbuf_puts(s, keys.data ? keys.data : "");
    sbuf_puts(s, "\n");
    sbuf_free(&keys);
    return 1;
}

static int fig_accuracy(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
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
    plot_marks(s, &keys, r, c, plot_last_epoch(&r->metrics));
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel", "accuracy (\\%)");
    sbuf_puts(s, "set yrange [-2:102]\nset ytics 0, 20, 100\n");
    plot_epoch_x(s, c, plot_last_epoch(&r->metrics));
    plot_single_epoch_x(s, c, &r->metrics);
    const char *with = plot_with(r->metrics.n_rows);
    sbuf_printf(s, "plot $acc using 1:2 with %s lt 1 title ", with);
    plot_text(s, c->f, "train");
    sbuf_printf(s, ", \\\n     $acc using 1:3 with %s lt 2 title ", with);
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
    plot_phases(s, &keys, r, c, plot_last_epoch(&r->measures));
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel", ylabel);
    if (log_y)
        plot_log_y(s, c->f);
    if (yrange)
        sbuf_printf(s, "set yrange %s\n", yrange);
    else if (!log_y) /* keep a linear curve off the frame */
        sbuf_puts(s, "set offsets 0, 0, graph 0.05, graph 0.05\n");
    if (!yrange)
        plot_flat_y(s, &r->measures, cols + 1, n, log_y);
    plot_epoch_x(s, c, plot_last_epoch(&r->measures));
    plot_single_epoch_x(s, c, &r->measures);
    sbuf_puts(s, "plot ");
    for (int i = 0; i < n; i++) {
        sbuf_printf(s, "%s$%s using 1:%d with %s lt %d", i ? ", \\\n     " : "", block, i + 2,
                    plot_with(r->measures.n_rows), curves[i].lt);
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

static int fig_progress(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    static const plot_curve curves[] = {{"loss_train", "train", 1},
                                        {"loss_test", "test", 2},
                                        {"loss_restricted", "restricted", 3},
                                        {"loss_excluded", "excluded", 4}};
    return fig_measures(r, c, s, why, "progress", curves, 4, "cross-entropy loss (nats)", 1,
                        NULL);
}

static int fig_gini(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    static const plot_curve curves[] = {{"gini_WE", "$W_E$", 1}, {"gini_WL", "$W_L$", 5}};
    return fig_measures(r, c, s, why, "gini", curves, 2, "Gini coefficient of Fourier norms", 0,
                        "[0:1]");
}

static int fig_weights(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    static const plot_curve curves[] = {{"sum_sq_weights", NULL, 7}};
    return fig_measures(r, c, s, why, "weights", curves, 1, "sum of squared weights", 0, NULL);
}

/* The Fourier columns of fourier_embed.tsv: idx[0] = const (or -1),
 * idx[k] = freq_k for k = 1..K.  Returns K (0 when there is no freq_1).
 * idx must hold max + 1 entries. */
static int fourier_cols(const plot_table *t, int *idx, int max)
{
    idx[0] = plot_table_col(t, "const");
    int k = 0;
    while (k < max) {
        char name[32];
        snprintf(name, sizeof name, "freq_%d", k + 1);
        int col = plot_table_col(t, name);
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
        double v = plot_table_at(c->t, c->row, c->idx[k]);
        if (v > top)
            top = v;
    }
    sbuf_printf(c->s, "set label '%s' at %.9g, %.9g center offset 0, 0.7 tc rgb '#D55E00' front\n",
                label, 0.5 * (first + last), top);
}

static int fig_fourier_embed(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    int *idx;
    int K = fourier_need(r, &idx, why);
    if (K <= 0)
        return K < 0 ? GROK_ENOMEM : 0;
    const plot_table *t = &r->fourier;
    size_t row = t->n_rows - 1;
    double epoch = plot_table_at(t, row, plot_table_col(t, "epoch"));
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    sbuf_puts(s, "$embed << EOD\n# k norm is_key (k = 0: the constant component)\n");
    for (int k = idx[0] >= 0 ? 0 : 1; k <= K; k++) {
        sbuf_printf(s, "%d ", k);
        plot_num(s, plot_table_at(t, row, idx[k]));
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

int plot_heat_check(const plot_table *t, const char *file, sbuf *why)
{
    if (t->n_rows < 2) {
        sbuf_printf(why, "%s has one measured epoch; the heatmap needs two", file);
        return 0;
    }
    int ce = plot_table_col(t, "epoch");
    if (!(plot_table_at(t, t->n_rows - 1, ce) > plot_table_at(t, 0, ce))) {
        sbuf_printf(why, "%s: epochs do not increase", file);
        return 0;
    }
    return 1;
}

void plot_heat_block(sbuf *s, const char *name, const plot_table *t, const int *idx, int K,
                     const char *what, double (*keep)(double))
{
    int ce = plot_table_col(t, "epoch");
    size_t n = t->n_rows;
    double e0 = plot_table_at(t, 0, ce), e1 = plot_table_at(t, n - 1, ce);
    /* `with image` needs an even grid: send the rows as they are when the
     * epochs are evenly spaced, else resample to PLOT_HEAT_COLS columns,
     * each showing the nearest measured epoch. */
    int even = n <= 4 * PLOT_HEAT_COLS;
    double step = (e1 - e0) / (double)(n - 1);
    for (size_t i = 1; i < n && even; i++)
        if (fabs(plot_table_at(t, i, ce) - (e0 + step * (double)i)) > 1e-6 * step)
            even = 0;
    size_t n_x = even ? n : PLOT_HEAT_COLS;
    sbuf_printf(s, "$%s << EOD\n# epoch k %s%s\n", name, what,
                even ? "" : " (resampled: nearest measured epoch)");
    size_t near = 0;
    for (size_t j = 0; j < n_x; j++) {
        double x = even ? plot_table_at(t, j, ce) : e0 + (e1 - e0) * (double)j / (double)(n_x - 1);
        size_t row = j;
        if (!even) {
            while (near + 1 < n &&
                   fabs(plot_table_at(t, near + 1, ce) - x) <= fabs(plot_table_at(t, near, ce) - x))
                near++;
            row = near;
        }
        for (int k = 1; k <= K; k++) {
            double v = plot_table_at(t, row, idx[k]);
            plot_num(s, x);
            sbuf_printf(s, " %d ", k);
            plot_num(s, keep ? keep(v) : v);
            sbuf_puts(s, "\n");
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
}

static int fig_fourier_embed_epochs(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    int *idx;
    int K = fourier_need(r, &idx, why);
    if (K <= 0)
        return K < 0 ? GROK_ENOMEM : 0;
    const plot_table *t = &r->fourier;
    if (!plot_heat_check(t, "fourier_embed.tsv", why)) {
        free(idx);
        return 0;
    }
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    plot_heat_block(s, "heat", t, idx, K, "norm", NULL);
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

/* Indices read from a table (neurons, frequencies) are integers in
 * 0..PLOT_MAX_INDEX before they are cast to int. */
enum { PLOT_MAX_INDEX = 100000000 };
static int plot_small_int(double x)
{
    return x >= 0 && x <= PLOT_MAX_INDEX && x == floor(x);
}

static int plot_int_cmp(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

static int fig_neurons(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    static const char *const cols[] = {"neuron", "freq", "frac_explained"};
    if (!plot_need(&r->neurons, "neurons.tsv", cols, 3, why))
        return 0;
    const plot_table *t = &r->neurons;
    int cn = plot_table_col(t, "neuron"), cf = plot_table_col(t, "freq"), cv = plot_table_col(t, "frac_explained");
    size_t n = t->n_rows;
    /* neuron and freq are cast to int: each must be an integer in range
     * (freq may be none/NaN: a neuron without a frequency) */
    for (size_t i = 0; i < n; i++) {
        double v = plot_table_at(t, i, cn), f = plot_table_at(t, i, cf);
        if (!plot_small_int(v) || (f == f && !plot_small_int(f))) {
            sbuf_printf(why, "neurons.tsv line %d: neuron %s, freq %s: not an integer in 0..%d",
                        t->tsv.line[i], t->tsv.text[i * (size_t)t->tsv.n_cols + (size_t)cn],
                        t->tsv.text[i * (size_t)t->tsv.n_cols + (size_t)cf], PLOT_MAX_INDEX);
            return 0;
        }
    }
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
            double f = plot_table_at(t, i, cf);
            if (!(plot_table_at(t, i, cv) > PLOT_CLUSTER_FVE) || !isfinite(f))
                continue;
            int count = 0;
            for (size_t j = 0; j < n; j++)
                count += plot_table_at(t, j, cf) == f && plot_table_at(t, j, cv) > PLOT_CLUSTER_FVE;
            int seen = 0;
            for (int g = 0; g < n_groups; g++)
                seen |= groups[g] == (int)f;
            if (count >= 2 && !seen)
                groups[n_groups++] = (int)f;
        }
    }
    qsort(groups, (size_t)n_groups, sizeof *groups, plot_int_cmp);
    for (size_t i = 0; i < n; i++) {
        double f = plot_table_at(t, i, cf);
        nv[i].neuron = (int)plot_table_at(t, i, cn);
        nv[i].freq = isfinite(f) ? (int)f : -1;
        nv[i].fve = plot_table_at(t, i, cv);
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
} att_panel;

static int fig_attention(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    /* The operands as the file names them: a, b (modular arithmetic) or x, y
     * (a group); a task without two operands (parity) has no grid. */
    static const char *const cols_ab[] = {"a", "b", "head", "att_a"};
    static const char *const cols_xy[] = {"x", "y", "head", "att_x"};
    const plot_table *t = &r->attention;
    const char *const *cols = plot_table_col(t, "x") >= 0 && plot_table_col(t, "a") < 0
                                  ? cols_xy : cols_ab;
    if (t->present && !t->problem[0] && plot_table_col(t, "a") < 0 &&
        plot_table_col(t, "x") < 0) {
        sbuf_puts(why, "attention.tsv has no operand pair (columns a, b or x, y) to draw a grid of");
        return 0;
    }
    if (!plot_need(t, "attention.tsv", cols, 4, why))
        return 0;
    int ca = plot_table_col(t, cols[0]), cb = plot_table_col(t, cols[1]);
    int ch = plot_table_col(t, "head");
    int cv = plot_table_col(t, cols[3]), cl = plot_table_col(t, "layer");
    char op_a[8], op_b[8], att_to[40];
    snprintf(op_a, sizeof op_a, "$%s$", cols[0]);
    snprintf(op_b, sizeof op_b, "$%s$", cols[1]);
    snprintf(att_to, sizeof att_to, "attention from = to $%s$", cols[0]);
    size_t n = t->n_rows;
    /* The grid is p x p per panel, p from the run's config (task.p or the
     * group's order), never from the largest index in the file: a row
     * outside 0..p-1 is refused. */
    const int p = r->n_operands;
    if (p < 2) {
        sbuf_puts(why, "config.cfg does not give the operand range (task.p or task.group) "
                       "that sizes the attention grid");
        return 0;
    }
    enum { MAX_PANELS = 64 };
    att_panel panels[MAX_PANELS];
    int n_panels = 0;
    for (size_t i = 0; i < n; i++) {
        double a = plot_table_at(t, i, ca), b = plot_table_at(t, i, cb), h = plot_table_at(t, i, ch);
        double l = cl >= 0 ? plot_table_at(t, i, cl) : 0;
        if (!(a >= 0 && b >= 0 && a < p && b < p && a == floor(a) && b == floor(b))) {
            sbuf_printf(why, "attention.tsv line %d: %s = %s, %s = %s: not an operand in 0..%d "
                        "(config.cfg)", t->tsv.line[i], cols[0],
                        t->tsv.text[i * (size_t)t->tsv.n_cols + (size_t)ca], cols[1],
                        t->tsv.text[i * (size_t)t->tsv.n_cols + (size_t)cb], p - 1);
            return 0;
        }
        if (!(h >= 0 && l >= 0 && h < 1000 && l < 1000 && h == floor(h) && l == floor(l))) {
            sbuf_printf(why, "attention.tsv line %d: head or layer is not a small index",
                        t->tsv.line[i]);
            return 0;
        }
        int found = 0;
        for (int k = 0; k < n_panels && !found; k++)
            found = panels[k].layer == (int)l && panels[k].head == (int)h;
        if (!found) {
            if (n_panels == MAX_PANELS) {
                sbuf_printf(why, "attention.tsv has more than %d heads", MAX_PANELS);
                return 0;
            }
            panels[n_panels++] = (att_panel){(int)l, (int)h};
        }
    }
    /* panels in (layer, head) order */
    for (int i = 1; i < n_panels; i++)
        for (int j = i; j > 0 && (panels[j - 1].layer > panels[j].layer ||
                                  (panels[j - 1].layer == panels[j].layer &&
                                   panels[j - 1].head > panels[j].head));
             j--) {
            att_panel tmp = panels[j];
            panels[j] = panels[j - 1];
            panels[j - 1] = tmp;
        }
    size_t pp = (size_t)p * (size_t)p;
    /* every (operand pair, head) has its row (p (p - 1) pairs when b = 0
     * is left out): a file with fewer than half the grid's cells is not one
     * grok wrote, and sizes no allocation */
    if (2 * n < pp * (size_t)n_panels) {
        sbuf_printf(why, "attention.tsv has %zu rows, fewer than half the %d x %d grid of its %d "
                    "heads", n, p, p, n_panels);
        return 0;
    }
    double *grid = malloc(pp * (size_t)n_panels * sizeof *grid);
    if (!grid)
        return GROK_ENOMEM;
    for (size_t i = 0; i < pp * (size_t)n_panels; i++)
        grid[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        int l = cl >= 0 ? (int)plot_table_at(t, i, cl) : 0, h = (int)plot_table_at(t, i, ch);
        int k = 0;
        while (panels[k].layer != l || panels[k].head != h)
            k++;
        grid[(size_t)k * pp + (size_t)plot_table_at(t, i, ca) * (size_t)p +
             (size_t)plot_table_at(t, i, cb)] = plot_table_at(t, i, cv);
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
        sbuf_printf(s, "$att%d << EOD\n# %s %s %s (layer %d, head %d)\n", k, cols[0], cols[1],
                    cols[3], panels[k].layer, panels[k].head);
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
    plot_set_text(s, c->f, "xlabel", op_a);
    sbuf_printf(s, "set colorbox user origin %.4f, %.4f size %.4f, %.4f\n", right + 0.1 / w,
                m_bottom / h, 0.1 / w, 1.0 - (m_bottom + m_top) / h);
    plot_set_text(s, c->f, "cblabel", att_to);
    for (int k = 0; k < n_panels; k++) {
        char title[64];
        if (layers)
            snprintf(title, sizeof title, "layer %d, head %d", panels[k].layer, panels[k].head);
        else
            snprintf(title, sizeof title, "head %d", panels[k].head);
        plot_set_text(s, c->f, "title", title);
        if (k % n_c == 0)
            plot_set_text(s, c->f, "ylabel", op_b);
        else
            sbuf_puts(s, "unset ylabel\n");
        sbuf_puts(s, k == n_panels - 1 ? "set colorbox\n" : "unset colorbox\n");
        sbuf_printf(s, "plot $att%d using 1:2:3 with image\n", k);
    }
    sbuf_puts(s, "unset multiplot\n");
    return 1;
}

static int fig_logit_spectrum(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
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

/* ---- the table ------------------------------------------------------------ */

static const plot_figure plot_run_figures[] = {
    {"loss",
     "Train and test loss against epoch (log scale; the training loss of config.cfg: "
     "cross-entropy, StableMax cross-entropy or mean squared error), with the memorised and "
     "grokked epochs marked.",
     {RUNDIR_METRICS}, RUNDIR_SUMMARY, 0, fig_loss},
    {"accuracy",
     "Train and test accuracy against epoch, with the memorised and grokked epochs marked.",
     {RUNDIR_METRICS}, RUNDIR_SUMMARY, 0, fig_accuracy},
    {"progress",
     "Train, test, restricted and excluded loss on one log axis, the three phases of "
     "grokking shaded (Nanda et al. 2023, Fig. 7).",
     {RUNDIR_MEASURES}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_progress},
    {"gini",
     "Gini coefficient of the Fourier norms of W_E and W_L against epoch: how sparse the "
     "weights are in the Fourier basis.",
     {RUNDIR_MEASURES}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_gini},
    {"weights", "Total sum of squared weights against epoch, the three phases shaded.",
     {RUNDIR_MEASURES}, RUNDIR_SUMMARY, 0, fig_weights},
    {"fourier_embed",
     "Norm of the embedding W_E in each Fourier frequency at the last measured epoch, the "
     "key frequencies highlighted.",
     {RUNDIR_FOURIER_EMBED}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_fourier_embed},
    {"fourier_embed_epochs",
     "Norm of the embedding W_E in each Fourier frequency over training, as a heatmap.",
     {RUNDIR_FOURIER_EMBED}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_fourier_embed_epochs},
    {"neurons",
     "Fraction of each MLP neuron's variance explained by its best frequency, the neurons "
     "grouped by key frequency.",
     {RUNDIR_NEURONS}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_neurons},
    {"attention",
     "Attention from the '=' position to the first operand, per head, over the grid of "
     "input pairs.",
     {RUNDIR_ATTENTION}, NULL, 0, fig_attention},
    {"logit_spectrum",
     "The 2-D Fourier spectrum of the logits over all input pairs at the final checkpoint.",
     {RUNDIR_LOGIT_SPECTRUM}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_logit_spectrum},
    {"coefs",
     "Coefficients alpha_k of cos(w_k(a + b - c)) in the logits over training for the key "
     "frequencies (above; dashed: the logits' norm) and their cosine similarities with the "
     "logits (below).",
     {RUNDIR_COEFS}, RUNDIR_MEASURES, PLOT_FIG_FOURIER, fig_coefs},
    {"excluded_freq",
     "Train loss with each frequency k excluded from the logits, over training, as a heatmap "
     "(log colour scale).",
     {RUNDIR_EXCLUDED_FREQ}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_excluded_freq},
    {"embed_circles",
     "The token embeddings projected on each key frequency's Fourier component, in its two "
     "principal components: a circle per frequency, points labelled by token.",
     {RUNDIR_EMBED_CIRCLES}, NULL, PLOT_FIG_FOURIER, fig_embed_circles},
    {"logit_sd",
     "The correct-class logit over s = a + b and d = a - b (mod p) at the final checkpoint: "
     "vertical stripes (no dependence on d) are the clock, structure along d the pizza.",
     {RUNDIR_LOGIT_SD}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, fig_logit_sd},
    {"irreps",
     "Fraction of the variance of the embedding, the unembedding and the logits in each "
     "irreducible representation of the group, over training.",
     {RUNDIR_IRREPS}, RUNDIR_SUMMARY, 0, fig_irreps},
};
enum { PLOT_N_RUN_FIGURES = sizeof plot_run_figures / sizeof plot_run_figures[0] };

const plot_figure *plot_figures(int *n)
{
    *n = PLOT_N_RUN_FIGURES;
    return plot_run_figures;
}

/* Figure fig's script for run r: its files first (needs), then its recipe.
 * A Fourier figure skipped on a run where summary.json says the Fourier
 * measures do not apply gives that reason too. */
int plot_run_script(const void *data, const plot_figure *fig, plot_format f,
                    const plot_style *st, sbuf *script, sbuf *why, grok_err *e)
{
    const plot_run *r = data;
    plot_style def;
    if (!st) {
        plot_style_default(&def);
        st = &def;
    }
    plot_ctx c = {f, fig->name, st};
    size_t mark = script->len;
    int rc = 1;
    for (int i = 0; i < 3 && fig->needs[i] && rc == 1; i++) {
        const plot_table *t = plot_run_table(r, fig->needs[i]);
        GROK_ASSERT(t); /* every file a run figure needs is a table of plot_run */
        if (!t->present) {
            sbuf_printf(why, "no %s", fig->needs[i]);
            rc = 0;
        }
    }
    if (rc == 1)
        rc = fig->build(r, &c, script, why);
    if (rc == 0 && (fig->flags & PLOT_FIG_FOURIER) && r->fourier_reason[0])
        sbuf_printf(why, " (no Fourier measures for this run: %s)",
                    r->fourier_reason);
    return plot_finish_script(rc, fig, script, mark, e);
}

int plot_script(const plot_run *r, const char *name, plot_format f, sbuf *script, sbuf *why,
                grok_err *e)
{
    GROK_ASSERT(r && name && script && why && f >= 0 && f < PLOT_N_FORMATS);
    int i = plot_find_figure(plot_run_figures, PLOT_N_RUN_FIGURES, name, "figure", e);
    if (i < 0)
        return GROK_EINVAL;
    return plot_run_script(r, &plot_run_figures[i], f, NULL, script, why, e);
}

int plot_script_style(const plot_run *r, const char *name, plot_format f, const plot_style *st,
                      sbuf *script, sbuf *why, grok_err *e)
{
    GROK_ASSERT(r && name && script && why && f >= 0 && f < PLOT_N_FORMATS);
    int i = plot_find_figure(plot_run_figures, PLOT_N_RUN_FIGURES, name, "figure", e);
    if (i < 0)
        return GROK_EINVAL;
    return plot_run_script(r, &plot_run_figures[i], f, st, script, why, e);
}

int plot_run_dir(const char *dir, const char *formats, const char *only, sbuf *notes,
                 grok_err *e)
{
    return plot_run_dir_style(dir, formats, only, NULL, notes, e);
}

int plot_run_dir_style(const char *dir, const char *formats, const char *only,
                       const plot_style *st, sbuf *notes, grok_err *e)
{
    GROK_ASSERT(dir);
    unsigned mask;
    int rc = plot_parse_formats(formats, &mask, e);
    if (rc)
        return rc;
    if ((rc = plot_style_check(st, e)) != GROK_OK)
        return rc;
    uint64_t only_i = 0;
    if (only && plot_find_figures(plot_run_figures, PLOT_N_RUN_FIGURES, only, "figure", &only_i,
                                  e) != GROK_OK)
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
    rc = plot_draw(dir, "plots", plot_run_figures, PLOT_N_RUN_FIGURES, only_i, mask, st,
                   plot_run_script, r, notes, e);
    plot_run_free(r);
    return rc;
}
