/* algo_figs.c: the run figures that tell which algorithm a run learned
 * (run_fig.h): the coefficients alpha_k of cos(w_k(a + b - c)) over
 * training (coefs.tsv), the per-frequency excluded loss as a heatmap over
 * epochs (excluded_freq.tsv), the embedding's principal components per key
 * frequency as circles (embed_circles.tsv), the correct-class logit over
 * (a + b, a - b) (logit_sd.tsv: vertical stripes are the clock, structure
 * along a - b the pizza; Zhong et al. 2023), and the fraction of variance
 * in each irreducible representation of a group over training
 * (irreps.tsv; Chughtai et al. 2023).  The files and their columns are
 * docs/formats.md's; each recipe checks what it reads and otherwise gives
 * the reason it is skipped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run_fig.h"
#include "style.h"

/* The most panels, lines or key frequencies a recipe draws. */
#define ALGO_MAX 64
/* Token labels per circle panel, at most (every n-th token beyond). */
#define ALGO_CIRCLE_LABELS 40
/* Key frequencies drawn by fig_coefs when the run names none: the largest
 * |alpha_k| at the last epoch. */
#define ALGO_TOP_COEFS 5

/* A small non-negative integer cell (an index, a frequency), or -1. */
static int algo_index(double v)
{
    return v >= 0 && v < 1e6 && v == floor(v) ? (int)v : -1;
}

/* The columns prefix1, prefix2, ... of t: idx[1..K] (idx[0] unused);
 * returns K.  idx holds max + 1 entries. */
static int algo_series(const plot_table *t, const char *prefix, int *idx, int max)
{
    int k = 0;
    while (k < max) {
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, k + 1);
        int col = plot_table_col(t, name);
        if (col < 0)
            break;
        idx[++k] = col;
    }
    return k;
}

/* ---- coefs -------------------------------------------------------------- */

/* The key frequencies of the last row of measures.tsv ("14,35,41"), in
 * [1, K]; 0 when there are none. */
static int algo_measures_keys(const plot_run *r, int K, int *keys, int max)
{
    const plot_table *t = &r->measures;
    int col = t->present && !t->problem[0] ? plot_table_col(t, "key_freqs") : -1;
    if (col < 0 || t->n_rows == 0)
        return 0;
    const char *p = t->tsv.text[(t->n_rows - 1) * (size_t)t->tsv.n_cols + (size_t)col];
    int n = 0;
    while (*p && n < max) {
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p)
            return 0; /* "none" or text: no key frequencies */
        if (k >= 1 && k <= K)
            keys[n++] = (int)k;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return 0;
    }
    return n;
}

/* Which key frequencies fig_coefs draws: measures.tsv's last row, else
 * summary.json's, else the ALGO_TOP_COEFS largest |alpha_k| at the last
 * epoch (*top set). */
static int algo_coef_keys(const plot_run *r, const int *alpha, int K, int *keys, int *top)
{
    *top = 0;
    int n = algo_measures_keys(r, K, keys, ALGO_MAX);
    for (int i = 0; n == 0 && i < r->n_key_freqs && i < ALGO_MAX; i++)
        if (r->key_freqs[i] >= 1 && r->key_freqs[i] <= K)
            keys[n++] = r->key_freqs[i];
    if (n > 0)
        return n;
    *top = 1;
    const plot_table *t = &r->coefs;
    size_t last = t->n_rows - 1;
    for (int k = 1; k <= K; k++) {
        double v = fabs(plot_table_at(t, last, alpha[k]));
        if (!isfinite(v))
            continue;
        int at = n < ALGO_TOP_COEFS ? n++ : ALGO_TOP_COEFS;
        while (at > 0 && fabs(plot_table_at(t, last, alpha[keys[at - 1]])) < v) {
            if (at < ALGO_TOP_COEFS)
                keys[at] = keys[at - 1];
            at--;
        }
        if (at < ALGO_TOP_COEFS)
            keys[at] = k;
    }
    for (int i = 1; i < n; i++) /* ascending k, as the legend reads */
        for (int j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
            int tmp = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = tmp;
        }
    return n;
}

int fig_coefs(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    const plot_table *t = &r->coefs;
    static const char *const need[] = {"epoch", "alpha_1", "cos_1"};
    if (!plot_need(t, "coefs.tsv", need, 3, why))
        return 0;
    int max = t->tsv.n_cols;
    int *alpha = malloc(2 * ((size_t)max + 1) * sizeof *alpha), *cosk = alpha + max + 1;
    if (!alpha)
        return GROK_ENOMEM;
    int K = algo_series(t, "alpha_", alpha, max);
    if (algo_series(t, "cos_", cosk, max) != K) {
        sbuf_puts(why, "coefs.tsv has not as many cos_k columns as alpha_k columns");
        free(alpha);
        return 0;
    }
    int keys[ALGO_MAX], top;
    int n = algo_coef_keys(r, alpha, K, keys, &top);
    int cn = plot_table_col(t, "logit_norm");
    const char *cols[2 * ALGO_MAX + 2] = {"epoch"};
    int nc = 1;
    char names[2 * ALGO_MAX][24];
    for (int i = 0; i < n; i++) {
        snprintf(names[2 * i], sizeof names[0], "alpha_%d", keys[i]);
        snprintf(names[2 * i + 1], sizeof names[0], "cos_%d", keys[i]);
    }
    /* plot_block sends at most 16 columns: the norm, then alpha and cos of
     * up to 7 frequencies (more would not fit a legend anyway). */
    if (n > 7)
        n = 7;
    if (cn >= 0)
        cols[nc++] = "logit_norm";
    for (int i = 0; i < n; i++)
        cols[nc++] = names[2 * i];
    for (int i = 0; i < n; i++)
        cols[nc++] = names[2 * i + 1];
    free(alpha);

    /* Two panels sharing the epoch axis: alpha_k above, cos_k below; the
     * legend above both.  Geometry in inches. */
    const double w = PLOT_COL_W, h = 3.7, m_left = 0.62, m_right = 0.12, m_bottom = 0.42,
                 m_top = 0.5, gap = 0.12;
    double ph = (h - m_top - m_bottom - gap) / 2;
    plot_begin(s, c, w, h);
    if (plot_block(s, "coefs", t, cols, nc, NULL, r->phase_end, 3))
        return GROK_ENOMEM;
    sbuf keys_s;
    sbuf_init(&keys_s);
    plot_phases(s, &keys_s, r, c, plot_last_epoch(t));
    sbuf_puts(s, "set autoscale xfix\nset offsets 0, 0, graph 0.05, graph 0.05\n");
    plot_single_epoch_x(s, c, t);
    const char *with = plot_with(t->n_rows);
    sbuf_printf(s, "set multiplot\nset lmargin at screen %.4f\nset rmargin at screen %.4f\n",
                m_left / w, 1 - m_right / w);
    sbuf_printf(s, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n", 1 - m_top / h,
                1 - (m_top + ph) / h);
    sbuf_puts(s, "set format x ''\nunset xlabel\n");
    plot_set_text(s, c->f, "ylabel", "$\\alpha_k$ (logit units)");
    sbuf_puts(s, "plot ");
    int col = 2;
    if (cn >= 0) {
        sbuf_printf(s, "$coefs using 1:%d with %s lc rgb '#000000' lw 1 dt 2 title ", col++,
                    with);
        plot_text(s, c->f, "$\\|L\\|_F$");
        sbuf_puts(s, ", \\\n     ");
    }
    for (int i = 0; i < n; i++) {
        char title[48];
        snprintf(title, sizeof title, "$k=%d$", keys[i]);
        sbuf_printf(s, "%s$coefs using 1:%d with %s lt %d title ", i ? ", \\\n     " : "",
                    col + i, with, i % 8 + 1);
        plot_text(s, c->f, title);
    }
    if (top) { /* the run names no key frequencies */
        sbuf_puts(s, ", \\\n     keyentry with points pt -1 title ");
        plot_text(s, c->f, "(largest $|\\alpha_k|$)");
    }
    sbuf_puts(s, keys_s.data ? keys_s.data : "");
    sbuf_puts(s, "\n");
    sbuf_free(&keys_s);
    /* the lower panel: the phases again, no legend */
    sbuf_printf(s, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n",
                1 - (m_top + ph + gap) / h, m_bottom / h);
    sbuf_puts(s, "unset key\nset format x '%g'\n");
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel", "$\\alpha_k / \\|L\\|_F$");
    sbuf_puts(s, "plot ");
    for (int i = 0; i < n; i++)
        sbuf_printf(s, "%s$coefs using 1:%d with %s lt %d", i ? ", \\\n     " : "",
                    col + n + i, with, i % 8 + 1);
    sbuf_puts(s, "\nunset multiplot\n");
    return 1;
}

/* ---- excluded_freq ----------------------------------------------------- */

/* A loss for a log colour scale: NaN unless positive. */
static double algo_positive(double v)
{
    return v > 0 ? v : NAN;
}

int fig_excluded_freq(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    const plot_table *t = &r->excluded;
    static const char *const need[] = {"epoch", "freq_1"};
    if (!plot_need(t, "excluded_freq.tsv", need, 2, why) ||
        !plot_heat_check(t, "excluded_freq.tsv", why))
        return 0;
    int max = t->tsv.n_cols;
    int *idx = malloc(((size_t)max + 1) * sizeof *idx);
    if (!idx)
        return GROK_ENOMEM;
    int K = algo_series(t, "freq_", idx, max);
    plot_begin(s, c, PLOT_COL_W, PLOT_COL_H);
    plot_heat_block(s, "exc", t, idx, K, "excluded loss (train, nats; NaN: not positive)",
                    algo_positive);
    free(idx);
    plot_set_text(s, c->f, "xlabel", "epoch");
    plot_set_text(s, c->f, "ylabel",
                  r->n_key_freqs ? "frequency $k$ (key frequencies labelled)" : "frequency $k$");
    plot_set_text(s, c->f, "cblabel", "excluded loss (nats)");
    sbuf_puts(s, "unset grid\nunset key\nset autoscale fix\nset logscale cb\n");
    plot_set_text(s, c->f, "format cb", "$10^{%L}$");
    sbuf_puts(s, "set tics front\n");
    if (r->n_key_freqs) {
        sbuf_puts(s, "# y tics at the key frequencies only\nset ytics (");
        plot_key_tics(s, r, K, K / 20.0, 1, 0);
        sbuf_puts(s, ")\n");
    }
    sbuf_puts(s, "plot $exc using 1:2:3 with image\n");
    return 1;
}

/* ---- embed_circles ------------------------------------------------------ */

int fig_embed_circles(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    const plot_table *t = &r->circles;
    static const char *const need[] = {"k", "token", "x", "y"};
    if (!plot_need(t, "embed_circles.tsv", need, 4, why))
        return 0;
    int ck = plot_table_col(t, "k"), ct = plot_table_col(t, "token");
    int cx = plot_table_col(t, "x"), cy = plot_table_col(t, "y");
    size_t n = t->n_rows;
    int ks[ALGO_MAX], n_k = 0, p = 0;
    double R[ALGO_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        int k = algo_index(plot_table_at(t, i, ck)), tok = algo_index(plot_table_at(t, i, ct));
        if (k < 0 || tok < 0) {
            sbuf_printf(why, "embed_circles.tsv row %zu: k or token is not a small index", i + 1);
            return 0;
        }
        int j = 0;
        while (j < n_k && ks[j] != k)
            j++;
        if (j == n_k) {
            if (n_k == ALGO_MAX) {
                sbuf_printf(why, "embed_circles.tsv has more than %d frequencies", ALGO_MAX);
                return 0;
            }
            ks[n_k++] = k;
        }
        if (tok + 1 > p)
            p = tok + 1;
        double x = plot_table_at(t, i, cx), y = plot_table_at(t, i, cy);
        if (isfinite(x) && isfinite(y))
            R[j] = fmax(R[j], hypot(x, y));
    }
    /* Square panels, up to 4 to a row; the labels sit outside each point,
     * radially, so the axes reach 1.3 times the largest radius. */
    int n_c = n_k < 4 ? n_k : 4, n_r = (n_k + n_c - 1) / n_c;
    double w = n_c <= 2 ? PLOT_COL_W : PLOT_PAGE_W;
    const double m_left = 0.55, m_right = 0.12, m_bottom = 0.45, m_top = 0.3, gap_x = 0.45,
                 gap_y = 0.6;
    double cell = (w - m_left - m_right - gap_x * (n_c - 1)) / n_c;
    if (n_c == 1)
        cell = fmin(cell, 2.6);
    double h = m_bottom + m_top + n_r * cell + (n_r - 1) * gap_y;
    int every = (p + ALGO_CIRCLE_LABELS - 1) / ALGO_CIRCLE_LABELS;
    plot_begin(s, c, w, h);
    for (int j = 0; j < n_k; j++) {
        double lab = 0.14 * (R[j] > 0 ? R[j] : 1);
        sbuf_printf(s, "$circle%d << EOD\n# token x y label_x label_y (k = %d)\n", j, ks[j]);
        for (size_t i = 0; i < n; i++) {
            if ((int)plot_table_at(t, i, ck) != ks[j])
                continue;
            double x = plot_table_at(t, i, cx), y = plot_table_at(t, i, cy), rr = hypot(x, y);
            double ux = rr > 0 ? x / rr : 0, uy = rr > 0 ? y / rr : 1;
            sbuf_printf(s, "%d ", (int)plot_table_at(t, i, ct));
            plot_num(s, x);
            sbuf_puts(s, " ");
            plot_num(s, y);
            sbuf_puts(s, " ");
            plot_num(s, x + lab * ux);
            sbuf_puts(s, " ");
            plot_num(s, y + lab * uy);
            sbuf_puts(s, "\n");
        }
        sbuf_puts(s, "EOD\n");
    }
    sbuf_printf(s, "set multiplot layout %d,%d margins %.4f, %.4f, %.4f, %.4f spacing %.4f, %.4f\n",
                n_r, n_c, m_left / w, (m_left + n_c * cell + (n_c - 1) * gap_x) / w,
                m_bottom / h, 1.0 - m_top / h, gap_x / w, gap_y / h);
    sbuf_printf(s, "unset key\nunset colorbox\nset size ratio -1\nset cbrange [0:%d]\n",
                p > 1 ? p - 1 : 1);

    double fs = plot_font_pt(c->f, c->st) * (p > 30 ? 0.55 : 0.7);
    for (int j = 0; j < n_k; j++) {
        double lim = 1.3 * (R[j] > 0 ? R[j] : 1);
        char title[48];
        snprintf(title, sizeof title, "$k = %d$", ks[j]);
        plot_set_text(s, c->f, "title", title);
        sbuf_printf(s, "set xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\n", -lim, lim, -lim, lim);
        /* about four tics a side, at a round step */
        double step = pow(10, floor(log10(lim / 2)));
        if (lim / step > 10)
            step *= 5;
        else if (lim / step > 5)
            step *= 2;
        sbuf_printf(s, "set xtics %.6g\nset ytics %.6g\n", step, step);
        if (j / n_c == n_r - 1 || j + n_c >= n_k)
            plot_set_text(s, c->f, "xlabel", "PC 1");
        else
            sbuf_puts(s, "unset xlabel\n");
        if (j % n_c == 0)
            plot_set_text(s, c->f, "ylabel", "PC 2");
        else
            sbuf_puts(s, "unset ylabel\n");
        sbuf_printf(s,
                    "plot $circle%d using 2:3:1 with points pt 7 ps 0.55 lc palette, \\\n"
                    "     $circle%d using 4:5:((int($1) %% %d) == 0 ? sprintf('%%d', int($1)) : '') "
                    "with labels font ',%.1f' tc rgb '#404040'\n",
                    j, j, every, fs);
    }
    sbuf_puts(s, "unset multiplot\n");
    return 1;
}

/* ---- logit_sd ------------------------------------------------------------ */

/* Distance irrelevance of the p x p table L[s][d] (MEASURES.md 2.10): the
 * mean over d of the standard deviation over s, over the standard
 * deviation of the whole table (population standard deviations).  NaN when
 * a cell is missing or the table is constant. */
static double algo_dist_irrel(const double *L, int p)
{
    double sum = 0, sq = 0;
    size_t pp = (size_t)p * (size_t)p;
    for (size_t i = 0; i < pp; i++) {
        if (!isfinite(L[i]))
            return NAN;
        sum += L[i];
    }
    double mean = sum / (double)pp;
    for (size_t i = 0; i < pp; i++)
        sq += (L[i] - mean) * (L[i] - mean);
    double sd_all = sqrt(sq / (double)pp), acc = 0;
    for (int d = 0; d < p; d++) {
        double m = 0, v = 0;
        for (int si = 0; si < p; si++)
            m += L[(size_t)si * (size_t)p + (size_t)d];
        m /= p;
        for (int si = 0; si < p; si++) {
            double x = L[(size_t)si * (size_t)p + (size_t)d] - m;
            v += x * x;
        }
        acc += sqrt(v / p);
    }
    return sd_all > 0 ? acc / p / sd_all : NAN;
}

int fig_logit_sd(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    const plot_table *t = &r->logit_sd;
    static const char *const need[] = {"s", "d", "logit"};
    if (!plot_need(t, "logit_sd.tsv", need, 3, why))
        return 0;
    int cs = plot_table_col(t, "s"), cd = plot_table_col(t, "d"), cl = plot_table_col(t, "logit");
    size_t n = t->n_rows;
    /* p x p from the run's config (task.p), never from the largest index
     * in the file (a 35-byte row could ask for 80 GB) */
    const int p = r->n_operands;
    if (p < 2) {
        sbuf_puts(why, "config.cfg does not give the operand range (task.p) that sizes the "
                       "logit_sd grid");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int sv = algo_index(plot_table_at(t, i, cs)), dv = algo_index(plot_table_at(t, i, cd));
        if (sv < 0 || dv < 0 || sv >= p || dv >= p) {
            sbuf_printf(why, "logit_sd.tsv row %zu: s or d is not an index in 0..%d (config.cfg)",
                        i + 1, p - 1);
            return 0;
        }
    }
    size_t pp = (size_t)p * (size_t)p;
    if (2 * n < pp) {
        sbuf_printf(why, "logit_sd.tsv has %zu rows, fewer than half the %d x %d grid", n, p, p);
        return 0;
    }
    double *L = malloc(pp * sizeof *L);
    if (!L)
        return GROK_ENOMEM;
    for (size_t i = 0; i < pp; i++)
        L[i] = NAN;
    for (size_t i = 0; i < n; i++)
        L[(size_t)plot_table_at(t, i, cs) * (size_t)p + (size_t)plot_table_at(t, i, cd)] =
            plot_table_at(t, i, cl);
    double q = algo_dist_irrel(L, p);
    plot_begin(s, c, PLOT_COL_W, 3.0);
    sbuf_printf(s, "$sd << EOD\n# s d logit (distance irrelevance %.4f)\n", q);
    for (int si = 0; si < p; si++) {
        for (int d = 0; d < p; d++) {
            sbuf_printf(s, "%d %d ", si, d);
            plot_num(s, L[(size_t)si * (size_t)p + (size_t)d]);
            sbuf_puts(s, "\n");
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
    free(L);
    char text[128];
    if (isfinite(q)) {
        snprintf(text, sizeof text, "%s%sdistance irrelevance %.2f", r->verdict,
                 r->verdict[0] ? ": " : "", q);
        plot_set_text(s, c->f, "title", text);
    } else if (r->verdict[0]) {
        plot_set_text(s, c->f, "title", r->verdict);
    }
    snprintf(text, sizeof text, "$s = (a + b)$ mod %d", p);
    plot_set_text(s, c->f, "xlabel", text);
    snprintf(text, sizeof text, "$d = (a - b)$ mod %d", p);
    plot_set_text(s, c->f, "ylabel", text);
    plot_set_text(s, c->f, "cblabel", "correct-class logit");
    sbuf_puts(s, "set cblabel offset 1, 0\n");
    int step = p <= 12 ? 2 : p <= 30 ? 5 : p <= 60 ? 10 : 20;
    sbuf_printf(s, "set xtics out %d\nset ytics out %d\n", step, step);
    sbuf_puts(s, "unset grid\nunset key\nset size ratio -1\nset autoscale fix\nset tics front\n");
    sbuf_puts(s, "plot $sd using 1:2:3 with image\n");
    return 1;
}

/* ---- irreps -------------------------------------------------------------- */

/* An irrep's name as a legend shows it: a partition of n written as digits
 * ("41") as (4,1); "2_j" (the 2-dimensional irreps of D_n) as 2 sub j;
 * others (triv, sign, 1c, 1d) as they are. */
static void algo_irrep_title(char *out, size_t n, const char *name)
{
    size_t len = strlen(name);
    int digits = len > 0 && len < 12;
    for (size_t i = 0; i < len && digits; i++)
        digits = name[i] >= '1' && name[i] <= '9';
    const char *us = strchr(name, '_');
    if (digits) {
        size_t o = 0;
        out[o++] = '(';
        for (size_t i = 0; i < len && o + 3 < n; i++) {
            out[o++] = name[i];
            out[o++] = i + 1 < len ? ',' : ')';
        }
        out[o] = '\0';
    } else if (us && us[1] && !strchr(us + 1, '_')) {
        snprintf(out, n, "$%.*s_{%s}$", (int)(us - name), name, us + 1);
    } else {
        snprintf(out, n, "%s", name);
    }
}

int fig_irreps(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    const plot_run *r = data;
    const plot_table *t = &r->irreps;
    static const char *const need[] = {"epoch"};
    if (!plot_need(t, "irreps.tsv", need, 1, why))
        return 0;
    static const char *const kinds[3] = {"embed_", "unembed_", "logit_"};
    static const char *const titles[3] = {"embedding $W_E$", "unembedding $W_U$", "logits"};
    /* The irreps: the names after the first kind present, in file order;
     * every kind drawn must have them all. */
    const char *irrep[ALGO_MAX];
    int n_irr = 0, kind0 = -1;
    for (int k = 0; k < 3 && kind0 < 0; k++)
        for (int j = 0; j < t->tsv.n_cols; j++)
            if (!strncmp(t->tsv.cols[j], kinds[k], strlen(kinds[k])) &&
                t->tsv.cols[j][strlen(kinds[k])]) {
                kind0 = k;
                if (n_irr == ALGO_MAX) {
                    sbuf_printf(why, "irreps.tsv has more than %d irreps", ALGO_MAX);
                    return 0;
                }
                irrep[n_irr++] = t->tsv.cols[j] + strlen(kinds[k]);
            }
    if (kind0 < 0) {
        sbuf_puts(why, "irreps.tsv has no column embed_<irrep>, unembed_<irrep> or "
                       "logit_<irrep>");
        return 0;
    }
    int panel[3], n_p = 0;
    for (int k = kind0; k < 3; k++) {
        int all = 1, any = 0;
        for (int i = 0; i < n_irr; i++) {
            char name[96];
            snprintf(name, sizeof name, "%s%s", kinds[k], irrep[i]);
            int has = plot_table_col(t, name) >= 0;
            all &= has;
            any |= has;
        }
        if (any && !all) {
            sbuf_printf(why, "irreps.tsv: the %s columns do not name the same irreps as the %s "
                             "columns",
                        kinds[k], kinds[kind0]);
            return 0;
        }
        if (all)
            panel[n_p++] = k;
    }
    /* one panel per kind side by side, the legend above them all */
    double w = n_p == 1 ? PLOT_COL_W : PLOT_PAGE_W;
    int n_phases = 0;
    for (int i = 0; i < 3 && isfinite(r->phase_end[i]); i++)
        n_phases++;
    int key_cols = n_p == 1 ? 3 : 6;
    int key_rows = (n_irr + n_phases + key_cols - 1) / key_cols;
    key_cols = (n_irr + n_phases + key_rows - 1) / key_rows;
    const double m_left = 0.55, m_right = 0.12, m_bottom = 0.45, gap = 0.25;
    double m_top = 0.28 + 0.16 * key_rows, h = PLOT_COL_H + 0.16 * key_rows;
    double pw = (w - m_left - m_right - gap * (n_p - 1)) / n_p;
    plot_begin(s, c, w, h);
    sbuf_puts(s, "$irr << EOD\n# epoch");
    int row_len = 1 + n_p * n_irr;
    for (int q = 0; q < n_p; q++)
        for (int i = 0; i < n_irr; i++)
            sbuf_printf(s, " %s%s", kinds[panel[q]], irrep[i]);
    sbuf_puts(s, "\n");
    int *col = malloc((size_t)row_len * sizeof *col);
    if (!col)
        return GROK_ENOMEM;
    col[0] = plot_table_col(t, "epoch");
    for (int q = 0; q < n_p; q++)
        for (int i = 0; i < n_irr; i++) {
            char name[96];
            snprintf(name, sizeof name, "%s%s", kinds[panel[q]], irrep[i]);
            col[1 + q * n_irr + i] = plot_table_col(t, name);
        }
    for (size_t row = 0; row < t->n_rows; row++) {
        for (int j = 0; j < row_len; j++) {
            if (j)
                sbuf_puts(s, " ");
            plot_num(s, plot_table_at(t, row, col[j]));
        }
        sbuf_puts(s, "\n");
    }
    sbuf_puts(s, "EOD\n");
    free(col);
    sbuf keys;
    sbuf_init(&keys);
    /* The legend first, as a frameless plot across the whole width (a key
     * is never wider than its own plot), then the bands and the panels. */
    sbuf objs;
    sbuf_init(&objs);
    plot_phases(&objs, &keys, r, c, plot_last_epoch(t));
    sbuf_printf(s, "set multiplot\nset tmargin at screen %.4f\nset bmargin at screen %.4f\n",
                1 - m_top / h, m_bottom / h);
    sbuf_printf(s, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", m_left / w,
                1 - m_right / w);
    sbuf_printf(s, "set key at screen 0.5, screen %.4f center top horizontal maxcols %d "
                   "maxrows %d\n",
                1 - 0.05 / h, key_cols, key_rows);
    sbuf_puts(s, "set border 0\nunset xtics\nunset ytics\nunset grid\n"
                 "plot [0:1] [0:1] NaN notitle");
    for (int i = 0; i < n_irr; i++) {
        char title[64];
        algo_irrep_title(title, sizeof title, irrep[i]);
        sbuf_printf(s, ", \\\n     keyentry with lines lt %d dt %d title ", i % 8 + 1, i / 8 + 1);
        plot_text(s, c->f, title);
    }
    sbuf_puts(s, keys.data ? keys.data : "");
    sbuf_puts(s, "\nunset key\nset border 3 front lw 1\nset xtics\nset ytics 0, 0.2, 1\n"
                 "set tics nomirror out scale 0.6\nset grid back ls 100, ls 100\n");
    sbuf_puts(s, objs.data ? objs.data : "");
    sbuf_free(&objs);
    sbuf_puts(s, "set autoscale xfix\nset yrange [0:1.02]\n");
    plot_single_epoch_x(s, c, t);
    plot_set_text(s, c->f, "xlabel", "epoch");
    for (int q = 0; q < n_p; q++) {
        double x0 = m_left + q * (pw + gap);
        sbuf_printf(s, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", x0 / w,
                    (x0 + pw) / w);
        plot_set_text(s, c->f, "title", titles[panel[q]]);
        if (q == 0)
            plot_set_text(s, c->f, "ylabel", "fraction of variance");
        else
            sbuf_puts(s, "unset ylabel\nset format y ''\n");
        sbuf_puts(s, "plot ");
        for (int i = 0; i < n_irr; i++)
            sbuf_printf(s, "%s$irr using 1:%d with %s lt %d dt %d", i ? ", \\\n     " : "",
                        2 + q * n_irr + i, plot_with(t->n_rows), i % 8 + 1, i / 8 + 1);
        sbuf_puts(s, "\n");
    }
    sbuf_free(&keys);
    sbuf_puts(s, "unset multiplot\n");
    return 1;
}
