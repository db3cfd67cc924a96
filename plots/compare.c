/* compare.c: several runs in one figure per quantity (plot.h,
 * plot_compare): `grok plot RUN RUN ... --compare` and the point runs of a
 * sweep.
 *
 * Each figure of the table below draws one curve per run of one or two
 * quantities against epoch (two as panels side by side, under one legend):
 * train and test loss and accuracy (metrics.tsv), the restricted and
 * excluded loss, the Gini coefficients of W_E and W_L and the sum of
 * squared weights (measures.tsv).  A run is named by what differs between
 * the runs' config.cfg files ("optim.weight_decay=0.3": the differing keys
 * in the file's order, at most CMP_LABEL_KEYS of them), else by its
 * directory name, followed by its grokked epoch (summary.json), which is
 * also drawn as a dash-dot line in the run's colour.  Colours are the style's
 * line types in run order, so --colours grey tells the runs apart by grey
 * and dash type.  The runs' rows go to one data block, one gnuplot index per
 * run (a comment line naming it first), so figures/src/NAME.tsv holds every
 * run.  A run without a figure's file or column is left out of that figure
 * (its legend entry says so); a figure that no run can draw is skipped with
 * a note.
 *
 * The figures are drawn by plot_draw (plot.c) into OUT/figures and listed
 * in OUT/figures/index.tsv, so OUT must be a directory of its own, not a
 * run's or a sweep's (their index lists their own figures). */
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "figure.h"
#include "plot.h"
#include "run_data.h"
#include "run_fig.h"
#include "style.h"

enum { CMP_LABEL_KEYS = 3, CMP_LABEL = 320 };

typedef struct {
    int n;
    char *dir[PLOT_COMPARE_MAX];
    plot_run *run[PLOT_COMPARE_MAX];
    char label[PLOT_COMPARE_MAX][CMP_LABEL];
} cmp_data;

/* ---- labels: what differs between the configs ------------------------------ */

/* The settings of one config.cfg as "path" and its text, in file order. */
typedef struct {
    int n, cap;
    char **key, **val;
    int present; /* config.cfg was read */
} cmp_kv;

static void cmp_kv_free(cmp_kv *kv)
{
    for (int i = 0; i < kv->n; i++) {
        free(kv->key[i]);
        free(kv->val[i]);
    }
    free(kv->key);
    free(kv->val);
    memset(kv, 0, sizeof *kv);
}

static int cmp_kv_add(cmp_kv *kv, const char *key, const char *val)
{
    if (kv->n == kv->cap) {
        int cap = kv->cap ? 2 * kv->cap : 64;
        char **k = realloc(kv->key, (size_t)cap * sizeof *k);
        if (!k)
            return GROK_ENOMEM;
        kv->key = k;
        char **v = realloc(kv->val, (size_t)cap * sizeof *v);
        if (!v)
            return GROK_ENOMEM;
        kv->val = v;
        kv->cap = cap;
    }
    kv->key[kv->n] = strdup(key);
    kv->val[kv->n] = strdup(val);
    if (!kv->key[kv->n] || !kv->val[kv->n]) {
        free(kv->key[kv->n]);
        free(kv->val[kv->n]);
        return GROK_ENOMEM;
    }
    kv->n++;
    return GROK_OK;
}

/* Every setting under group g (path prefix), groups walked into, arrays and
 * lists taken whole. */
static int cmp_walk(const rundir_config *c, const config_setting_t *g, const char *prefix,
                    cmp_kv *kv)
{
    int rc = GROK_OK;
    for (int i = 0; i < config_setting_length(g) && rc == GROK_OK; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!name)
            continue;
        char path[512], val[512];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", name);
        if (config_setting_type(s) == CONFIG_TYPE_GROUP)
            rc = cmp_walk(c, s, path, kv);
        else if (rundir_config_text(c, path, val, sizeof val))
            rc = cmp_kv_add(kv, path, val);
    }
    return rc;
}

/* The value of key in kv, or NULL. */
static const char *cmp_kv_get(const cmp_kv *kv, const char *key)
{
    for (int i = 0; i < kv->n; i++)
        if (!strcmp(kv->key[i], key))
            return kv->val[i];
    return NULL;
}

/* 1 when a key differs between the runs that have a config. */
static int cmp_differs(const cmp_kv *kv, int n, const char *key)
{
    const char *first = NULL;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (!kv[i].present)
            continue;
        const char *v = cmp_kv_get(&kv[i], key);
        if (!seen) {
            first = v;
            seen = 1;
        } else if ((v == NULL) != (first == NULL) || (v && strcmp(v, first))) {
            return 1;
        }
    }
    return 0;
}

/* The runs' labels: the differing config keys, or the directory names (the
 * whole path when two names are the same); then the grokked epoch. */
static int cmp_labels(cmp_data *d)
{
    cmp_kv kv[PLOT_COMPARE_MAX];
    memset(kv, 0, sizeof kv);
    int rc = GROK_OK;
    for (int i = 0; i < d->n && rc == GROK_OK; i++) {
        rundir_config c;
        if (rundir_config_read(&c, d->dir[i], NULL) <= 0)
            continue; /* no config (or an unreadable one): named by its directory */
        kv[i].present = 1;
        rc = cmp_walk(&c, config_root_setting(&c.cf), "", &kv[i]);
        rundir_config_free(&c);
    }
    for (int i = 0; i < d->n && rc == GROK_OK; i++) {
        char *l = d->label[i];
        l[0] = '\0';
        if (kv[i].present) {
            /* the differing keys, in the order of the first config that has them */
            int n_keys = 0, more = 0;
            for (int j = 0; j < d->n; j++)
                for (int k = 0; k < kv[j].n; k++) {
                    const char *key = kv[j].key[k];
                    int earlier = 0; /* already seen in a config before run j */
                    for (int q = 0; q < j && !earlier; q++)
                        earlier = cmp_kv_get(&kv[q], key) != NULL;
                    if (earlier || !cmp_differs(kv, d->n, key))
                        continue;
                    if (n_keys == CMP_LABEL_KEYS) {
                        more++;
                        continue;
                    }
                    const char *v = cmp_kv_get(&kv[i], key);
                    size_t len = strlen(l);
                    snprintf(l + len, CMP_LABEL - len, "%s%s=%s", n_keys ? ", " : "", key,
                             v ? v : "(none)");
                    n_keys++;
                }
            if (more) {
                size_t len = strlen(l);
                snprintf(l + len, CMP_LABEL - len, " (+%d more)", more);
            }
        }
        if (!l[0])
            plot_dir_base(d->dir[i], l, 128);
    }
    /* labels that are still the same (identical configs, the same
     * directory names): the directory as given */
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->n; j++)
            if (i != j && !strcmp(d->label[i], d->label[j])) {
                size_t len = strlen(d->label[i]);
                if (strchr(d->label[i], '='))
                    snprintf(d->label[i] + len, CMP_LABEL - len, " [%.200s]", d->dir[i]);
                else
                    snprintf(d->label[i], CMP_LABEL, "%.300s", d->dir[i]);
                break;
            }
    for (int i = 0; i < d->n; i++) {
        const plot_run *r = d->run[i];
        size_t len = strlen(d->label[i]);
        if (isfinite(r->grokked))
            snprintf(d->label[i] + len, CMP_LABEL - len, ": grokked at %.0f", r->grokked);
        else if (r->has_summary)
            snprintf(d->label[i] + len, CMP_LABEL - len, ": not grokked");
        cmp_kv_free(&kv[i]);
    }
    return rc;
}

/* ---- the recipes ------------------------------------------------------------ */

/* One figure: the file, one or two columns (panels), their titles. */
typedef struct {
    const char *file; /* RUNDIR_METRICS or RUNDIR_MEASURES */
    int n_panels;
    const char *col[2], *title[2];
    const char *ylabel;
    int log_y;
    double scale;       /* the columns' factor (100: a percentage) */
    const char *yrange; /* or NULL: autoscaled */
} cmp_spec;

static const plot_table *cmp_table(const plot_run *r, const char *file)
{
    return !strcmp(file, RUNDIR_METRICS) ? &r->metrics : &r->measures;
}

/* The line type of run i: the style's eight, then again with dashes. */
static void cmp_lt(sbuf *s, int i)
{
    sbuf_printf(s, "lt %d", i % 8 + 1);
    if (i >= 8)
        sbuf_printf(s, " dt %d", i / 8 + 1);
}

static int cmp_draw(const cmp_data *d, const plot_ctx *c, sbuf *s, sbuf *why,
                    const cmp_spec *sp)
{
    const plot_style *st = c->st;
    const char *cols[3] = {"epoch", sp->col[0], sp->col[1]};
    int nc = 1 + sp->n_panels, ok[PLOT_COMPARE_MAX], n_ok = 0;
    sbuf reasons;
    sbuf_init(&reasons);
    double xmin = INFINITY, xmax = -INFINITY;
    for (int i = 0; i < d->n; i++) {
        const plot_table *t = cmp_table(d->run[i], sp->file);
        size_t mark = reasons.len;
        sbuf_printf(&reasons, "%srun %d: ", reasons.len ? "; " : "", i + 1);
        ok[i] = plot_need(t, sp->file, cols, nc, &reasons);
        if (!ok[i])
            continue;
        reasons.len = mark; /* drawn: no reason */
        if (reasons.data)
            reasons.data[mark] = '\0';
        n_ok++;
        int ce = plot_table_col(t, "epoch");
        for (size_t r = 0; r < t->n_rows; r++) {
            double x = plot_table_at(t, r, ce);
            xmin = x < xmin ? x : xmin;
            xmax = x > xmax ? x : xmax;
        }
    }
    if (n_ok == 0) {
        sbuf_printf(why, "no run has the data (%s)", reasons.data ? reasons.data : "");
        sbuf_free(&reasons);
        return 0;
    }
    sbuf_free(&reasons);

    /* Geometry in inches, scaled with the text size: the legend on top, as
     * many entries to a row as fit across, then the panels. */
    double w = sp->n_panels == 2 ? PLOT_PAGE_W : PLOT_COL_W;
    if (st->width_in > 0)
        w = st->width_in;
    double em = (st->font_pt > 0 ? st->font_pt : 8.0) / 72.0; /* one em, inches */
    int entries = d->n, longest = 0, any_mark = 0;
    for (int i = 0; i < d->n; i++) {
        int len = (int)strlen(d->label[i]) + (ok[i] ? 0 : 10);
        longest = len > longest ? len : longest;
        any_mark |= ok[i] && isfinite(d->run[i]->grokked);
    }
    any_mark &= st->marks;
    entries += any_mark;
    int per_row = (int)(w / (em * (3.0 + 0.5 * longest)));
    per_row = per_row < 1 ? 1 : per_row > entries ? entries : per_row;
    int key_rows = (entries + per_row - 1) / per_row;
    double key_h = 1.25 * em * key_rows + 0.08;
    double m_left = 7.5 * em, m_right = 0.12, m_bottom = 3.6 * em, gap = 6.0 * em;
    double m_top = key_h + (sp->n_panels == 2 ? 2.0 * em : 0.5 * em);
    double h = PLOT_COL_H + key_h;
    if (st->height_in > 0)
        h = st->height_in;
    plot_begin_figure(s, c->f, c->name, w, h, 0, st);

    /* the data: one index per run drawn */
    sbuf_printf(s, "$runs << EOD\n# %d runs, one index each (two blank lines between)\n", n_ok);
    int idx = 0;
    for (int i = 0; i < d->n; i++) {
        if (!ok[i])
            continue;
        if (idx++)
            sbuf_puts(s, "\n\n");
        sbuf_printf(s, "# run %d: %s (%s)\n", i + 1, d->label[i], d->dir[i]);
        const double scale[3] = {1, sp->scale, sp->scale};
        const double grokked = d->run[i]->grokked;
        if (plot_block_rows(s, cmp_table(d->run[i], sp->file), cols, nc, scale, &grokked, 1))
            return GROK_ENOMEM;
    }
    sbuf_puts(s, "EOD\n");

    sbuf_puts(s, "set multiplot\n");

    /* the grokked epochs, the axes */
    for (int i = 0; i < d->n && any_mark; i++) {
        double g = d->run[i]->grokked;
        if (!ok[i] || !isfinite(g) || g > xmax || g > st->to || g < st->from)
            continue;
        sbuf_printf(s,
                    "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead back lc rgb c%d "
                    "lw 0.8 dt 4\n",
                    g, g, i % 8 + 1);
    }
    plot_epoch_x(s, c, xmax);
    if (xmin == xmax && !isfinite(st->from) && !isfinite(st->to)) {
        double dx = xmin > 0 ? 0.5 * xmin : 1;
        sbuf_printf(s, "# one measured epoch: a range around it\nset xrange [%.9g:%.9g]\n",
                    xmin - dx, xmin + dx);
    }
    if (sp->log_y)
        sbuf_puts(s, c->f == PLOT_TEX ? "set logscale y\nset format y '$10^{%L}$'\n"
                                      : "set logscale y\nset format y '%g'\n");
    if (sp->yrange)
        sbuf_printf(s, "set yrange %s\n", sp->yrange);
    else if (!sp->log_y)
        sbuf_puts(s, "set offsets 0, 0, graph 0.05, graph 0.05\n");
    sbuf_puts(s, "set xlabel ");
    plot_raw_text(s, c->f, "epoch");
    sbuf_printf(s, "\nset tmargin at screen %.4f\nset bmargin at screen %.4f\n", 1 - m_top / h,
                m_bottom / h);
    double pw = (w - m_left - m_right - gap * (sp->n_panels - 1)) / sp->n_panels;
    for (int q = 0; q < sp->n_panels; q++) {
        double x0 = m_left + q * (pw + gap);
        sbuf_printf(s, "# ---- %s ----\nset lmargin at screen %.4f\nset rmargin at screen %.4f\n",
                    sp->col[q], x0 / w, (x0 + pw) / w);
        if (sp->title[q]) {
            sbuf_puts(s, "set title ");
            plot_raw_text(s, c->f, sp->title[q]);
            sbuf_puts(s, "\n");
        }
        /* the train and test loss: what the runs trained on, when they agree */
        const char *ylabel = sp->ylabel;
        if (!strcmp(sp->col[0], "train_loss")) {
            const char *l = plot_loss_label(d->run[0]->loss);
            for (int i = 1; i < d->n; i++)
                if (strcmp(plot_loss_label(d->run[i]->loss), l) != 0)
                    l = "training loss (each run's train.loss)";
            ylabel = l;
        }
        sbuf_puts(s, "set ylabel ");
        plot_raw_text(s, c->f, ylabel);
        sbuf_puts(s, "\nunset key\nplot ");
        idx = 0;
        for (int i = 0; i < d->n; i++) {
            if (!ok[i])
                continue;
            sbuf_printf(s, "%s$runs index %d using 1:%d with %s ", idx ? ", \\\n     " : "", idx,
                        q + 2, plot_with(cmp_table(d->run[i], sp->file)->n_rows));
            cmp_lt(s, i);
            sbuf_puts(s, " notitle");
            idx++;
        }
        sbuf_puts(s, "\n");
    }
    /* the legend last, as a frameless plot across the whole width (a key
     * is never wider than its own plot; drawn after the panels, so that
     * the epoch axis's settings come before any plot) */
    sbuf_printf(s, "# ---- the legend ----\nunset arrow\nunset title\nunset xlabel\nunset ylabel\n"
                   "unset logscale y\nset lmargin at screen 0.01\nset rmargin at screen 0.99\n"
                   "set key at screen 0.5, screen %.4f center top horizontal maxcols %d "
                   "maxrows %d\n",
                1 - 0.05 / h, per_row, key_rows);
    sbuf_puts(s, "set border 0\nunset xtics\nunset ytics\nunset grid\n"
                 "plot [0:1] [0:1] NaN notitle");
    for (int i = 0; i < d->n; i++) {
        char title[CMP_LABEL + 16];
        snprintf(title, sizeof title, "%s%s", d->label[i], ok[i] ? "" : " (no data)");
        sbuf_printf(s, ", \\\n     keyentry with %s ",
                    ok[i] ? plot_with(cmp_table(d->run[i], sp->file)->n_rows) : "lines");
        cmp_lt(s, i);
        sbuf_puts(s, " title ");
        plot_raw_text(s, c->f, title);
    }
    if (any_mark) {
        sbuf_puts(s, ", \\\n     keyentry with lines lc rgb '#000000' lw 0.8 dt 4 title ");
        plot_raw_text(s, c->f, "grokked epoch (dash-dot, in the run's colour)");
    }
    sbuf_puts(s, "\nunset multiplot\n");
    return s->oom ? GROK_ENOMEM : 1;
}

static const cmp_spec cmp_specs[] = {
    {RUNDIR_METRICS, 2, {"train_loss", "test_loss"}, {"train", "test"},
     "cross-entropy loss (nats)", 1, 1, NULL},
    {RUNDIR_METRICS, 2, {"train_acc", "test_acc"}, {"train", "test"}, "accuracy (%)", 0, 100,
     "[-2:102]"},
    {RUNDIR_MEASURES, 2, {"loss_restricted", "loss_excluded"}, {"restricted loss",
     "excluded loss"}, "cross-entropy loss (nats)", 1, 1, NULL},
    {RUNDIR_MEASURES, 2, {"gini_WE", "gini_WL"}, {"W_E", "W_L"},
     "Gini coefficient of Fourier norms", 0, 1, "[0:1]"},
    {RUNDIR_MEASURES, 1, {"sum_sq_weights", NULL}, {NULL, NULL}, "sum of squared weights", 0, 1,
     NULL},
};

static int cmp_loss(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    return cmp_draw(data, c, s, why, &cmp_specs[0]);
}
static int cmp_accuracy(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    return cmp_draw(data, c, s, why, &cmp_specs[1]);
}
static int cmp_progress(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    return cmp_draw(data, c, s, why, &cmp_specs[2]);
}
static int cmp_gini(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    return cmp_draw(data, c, s, why, &cmp_specs[3]);
}
static int cmp_weights(const void *data, const plot_ctx *c, sbuf *s, sbuf *why)
{
    return cmp_draw(data, c, s, why, &cmp_specs[4]);
}

static const plot_figure cmp_figures[] = {
    {"compare_loss",
     "Train (left) and test (right) cross-entropy loss of each run against epoch, log scale; "
     "dash-dot: each run's grokked epoch.",
     {RUNDIR_METRICS}, RUNDIR_SUMMARY, 0, cmp_loss},
    {"compare_accuracy",
     "Train (left) and test (right) accuracy of each run against epoch; dash-dot: each run's "
     "grokked epoch.",
     {RUNDIR_METRICS}, RUNDIR_SUMMARY, 0, cmp_accuracy},
    {"compare_progress",
     "Restricted (left) and excluded (right) loss of each run against epoch, log scale "
     "(Nanda et al. 2023).",
     {RUNDIR_MEASURES}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, cmp_progress},
    {"compare_gini",
     "Gini coefficient of the Fourier norms of W_E (left) and W_L (right) of each run against "
     "epoch.",
     {RUNDIR_MEASURES}, RUNDIR_SUMMARY, PLOT_FIG_FOURIER, cmp_gini},
    {"compare_weights", "Total sum of squared weights of each run against epoch.",
     {RUNDIR_MEASURES}, RUNDIR_SUMMARY, 0, cmp_weights},
};
enum { CMP_N_FIGURES = sizeof cmp_figures / sizeof cmp_figures[0] };

const plot_figure *plot_compare_figures(int *n)
{
    *n = CMP_N_FIGURES;
    return cmp_figures;
}

static int cmp_script(const void *data, const plot_figure *fig, plot_format f,
                      const plot_style *st, sbuf *script, sbuf *why, grok_err *e)
{
    plot_ctx c = {f, fig->name, st};
    size_t mark = script->len;
    int rc = fig->build(data, &c, script, why);
    return plot_finish_script(rc, fig, script, mark, e);
}

/* ---- the runs ------------------------------------------------------------------ */

/* 1 when dir holds a run (config.cfg or metrics.tsv); 2 when a sweep
 * (points.tsv); else 0. */
static int cmp_kind(const char *dir)
{
    if (rundir_has(dir, RUNDIR_CONFIG) || rundir_has(dir, RUNDIR_METRICS))
        return 1;
    return rundir_has(dir, RUNDIR_SWEEP_POINTS) ? 2 : 0;
}

static int cmp_add(cmp_data *d, const char *dir, grok_err *e)
{
    if (d->n == PLOT_COMPARE_MAX)
        return grok_fail(e, GROK_EINVAL, "--compare draws at most %d runs; give fewer (or the "
                         "point directories of a sweep to compare)", PLOT_COMPARE_MAX);
    if (!(d->dir[d->n] = strdup(dir)))
        return grok_fail(e, GROK_ENOMEM, "compare: out of memory");
    d->n++;
    return GROK_OK;
}

/* Adds the point runs of sweep dir that have started (a directory with
 * config.cfg or metrics.tsv), in points.tsv's order. */
static int cmp_add_sweep(cmp_data *d, const char *dir, sbuf *notes, grok_err *e)
{
    rundir_tsv t;
    int rc = rundir_tsv_read(&t, dir, RUNDIR_SWEEP_POINTS, 0, e);
    if (rc <= 0)
        return rc == 0 ? grok_fail(e, GROK_EINVAL, "%s has no %s", dir, RUNDIR_SWEEP_POINTS)
                       : rc == GROK_EFORMAT ? GROK_EINVAL : rc;
    int cn = rundir_tsv_col(&t, "name");
    if (cn < 0)
        rc = grok_fail(e, GROK_EINVAL, "%s/%s has no column name", dir, RUNDIR_SWEEP_POINTS);
    int missing = 0;
    for (int r = 0; r < t.n_rows && rc >= 0; r++) {
        const char *name = t.text[(size_t)r * (size_t)t.n_cols + (size_t)cn];
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (!name[0] || strchr(name, '/') || cmp_kind(path) != 1) {
            missing++;
            continue;
        }
        rc = cmp_add(d, path, e);
    }
    if (rc >= 0 && missing && notes)
        sbuf_printf(notes, "compare: %d point%s of %s not run yet, left out\n", missing,
                    missing == 1 ? "" : "s", dir);
    rundir_tsv_free(&t);
    return rc < 0 ? rc : GROK_OK;
}

static void cmp_free(cmp_data *d)
{
    for (int i = 0; i < d->n; i++) {
        plot_run_free(d->run[i]);
        free(d->dir[i]);
    }
    free(d);
}

int plot_compare(const char *const *dirs, int n_dirs, const char *out_root, const char *formats,
                 const char *only, const plot_style *st, sbuf *notes, grok_err *e)
{
    GROK_ASSERT(dirs && n_dirs >= 1);
    unsigned mask;
    plot_style def;
    int rc = plot_prepare(formats, &st, &def, &mask, e);
    if (rc)
        return rc;
    uint64_t only_i = 0;
    if (only && plot_find_figures(cmp_figures, CMP_N_FIGURES, only, "compare figure", &only_i,
                                  e) != GROK_OK)
        return GROK_EINVAL;
    cmp_data *d = calloc(1, sizeof *d);
    if (!d)
        return grok_fail(e, GROK_ENOMEM, "compare: out of memory");
    int sweeps = 0;
    for (int i = 0; i < n_dirs && rc == GROK_OK; i++) {
        struct stat sb;
        if (stat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            rc = grok_fail(e, GROK_EINVAL, "cannot compare %s: %s", dirs[i],
                           stat(dirs[i], &sb) != 0 ? strerror(errno) : "not a directory");
            break;
        }
        int kind = cmp_kind(dirs[i]);
        if (kind == 0) {
            rc = grok_fail(e, GROK_EINVAL, "cannot compare %s: not a run directory (no %s or %s) "
                           "nor a sweep directory (no %s)", dirs[i], RUNDIR_CONFIG,
                           RUNDIR_METRICS, RUNDIR_SWEEP_POINTS);
        } else if (kind == 2) {
            sweeps++;
            rc = cmp_add_sweep(d, dirs[i], notes, e);
        } else {
            rc = cmp_add(d, dirs[i], e);
        }
    }
    if (rc == GROK_OK && d->n < 2)
        rc = grok_fail(e, GROK_EINVAL, "--compare needs two runs or more; %s %s",
                       sweeps ? "the sweep has" : "got",
                       d->n == 0 ? "none" : sweeps ? "one point run so far" : "one run");
    char out_buf[4200];
    if (rc == GROK_OK && !out_root) {
        if (n_dirs == 1 && sweeps == 1) {
            snprintf(out_buf, sizeof out_buf, "%s/compare", dirs[0]);
            out_root = out_buf;
        } else {
            rc = grok_fail(e, GROK_EINVAL, "several runs need --out DIR (the figures go to "
                           "DIR/figures)");
        }
    }
    if (rc == GROK_OK && cmp_kind(out_root) != 0)
        rc = grok_fail(e, GROK_EINVAL, "--out %s is a run or sweep directory; its "
                       "figures/index.tsv lists its own figures: give a directory of its own",
                       out_root);
    for (int i = 0; i < d->n && rc == GROK_OK; i++)
        rc = plot_run_load_curves(d->dir[i], &d->run[i], e);
    if (rc == GROK_OK && (rc = cmp_labels(d)) != GROK_OK)
        rc = grok_fail(e, rc, "compare: out of memory");
    if (rc == GROK_OK && notes)
        for (int i = 0; i < d->n; i++)
            sbuf_printf(notes, "compare: run %d: %s (%s)\n", i + 1, d->label[i], d->dir[i]);
    if (rc == GROK_OK && mask == 0 && notes)
        sbuf_puts(notes, "compare: no formats requested, no figures drawn\n");
    if (rc == GROK_OK && mask != 0)
        rc = plot_draw(out_root, "compare", cmp_figures, CMP_N_FIGURES, only_i, mask, st,
                       cmp_script, d, notes, e);
    cmp_free(d);
    return rc;
}
