/* run_data.c: loading a run directory's tables for the run figures
 * (run_data.h), and sending their columns to gnuplot as data blocks. */
#include "run_data.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "style.h"

int plot_table_col(const plot_table *t, const char *name)
{
    return rundir_tsv_col(&t->tsv, name);
}

double plot_table_at(const plot_table *t, size_t row, int col)
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

/* Every table of plot_run and the file it is read from. */
static const struct {
    const char *file;
    size_t off;
} run_tables[] = {
    {RUNDIR_METRICS, offsetof(plot_run, metrics)},
    {RUNDIR_MEASURES, offsetof(plot_run, measures)},
    {RUNDIR_FOURIER_EMBED, offsetof(plot_run, fourier)},
    {RUNDIR_NEURONS, offsetof(plot_run, neurons)},
    {RUNDIR_ATTENTION, offsetof(plot_run, attention)},
    {RUNDIR_LOGIT_SPECTRUM, offsetof(plot_run, spec_tsv)}, /* headerless: spectrum_load */
    {RUNDIR_EXCLUDED_FREQ, offsetof(plot_run, excluded)},
    {RUNDIR_COEFS, offsetof(plot_run, coefs)},
    {RUNDIR_IRREPS, offsetof(plot_run, irreps)},
    {RUNDIR_EMBED_CIRCLES, offsetof(plot_run, circles)},
    {RUNDIR_LOGIT_SD, offsetof(plot_run, logit_sd)},
};
enum { N_RUN_TABLES = sizeof run_tables / sizeof run_tables[0] };

static plot_table *run_table(plot_run *r, int i)
{
    return (plot_table *)((char *)r + run_tables[i].off);
}

const plot_table *plot_run_table(const plot_run *r, const char *file)
{
    for (int i = 0; i < N_RUN_TABLES; i++)
        if (!strcmp(run_tables[i].file, file))
            return run_table((plot_run *)r, i);
    return NULL;
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
    const json_t *applies = rundir_summary_get(&s, "fourier.applies");
    const char *reason = rundir_summary_str(&s, "fourier.reason");
    const char *verdict = rundir_summary_str(&s, "algorithm.verdict");
    if (verdict)
        snprintf(r->verdict, sizeof r->verdict, "%.31s", verdict);
    if (json_is_false(applies))
        snprintf(r->fourier_reason, sizeof r->fourier_reason, "%.250s",
                 reason ? reason : "summary.json says so");
    r->has_summary = 1;
    rundir_summary_free(&s);
}

void plot_run_free(plot_run *r)
{
    if (!r)
        return;
    for (int i = 0; i < N_RUN_TABLES; i++)
        rundir_tsv_free(&run_table(r, i)->tsv);
    free(r->dir);
    free(r);
}

/* Loads dir's tables (all, or with curves_only metrics.tsv and measures.tsv
 * alone), summary.json and config.cfg's operand range. */
static int plot_run_load_some(const char *dir, int curves_only, plot_run **out, grok_err *e)
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
    int rc = GROK_OK;
    for (int i = 0; i < N_RUN_TABLES && !rc; i++) {
        if (curves_only && run_tables[i].off != offsetof(plot_run, metrics) &&
            run_tables[i].off != offsetof(plot_run, measures))
            continue;
        rc = strcmp(run_tables[i].file, RUNDIR_LOGIT_SPECTRUM)
                 ? table_load(run_table(r, i), dir, run_tables[i].file, 0, e)
                 : spectrum_load(r, e);
    }
    if (rc) {
        plot_run_free(r);
        return rc;
    }
    summary_load(r);
    rundir_config cf;
    if (rundir_config_read(&cf, dir, NULL) > 0) {
        r->n_operands = rundir_config_operands(&cf);
        char buf[64];
        const char *loss = rundir_config_text(&cf, "train.loss", buf, sizeof buf);
        snprintf(r->loss, sizeof r->loss, "%s", loss ? loss : "");
        rundir_config_free(&cf);
    }
    *out = r;
    return GROK_OK;
}

const char *plot_loss_label(const char *loss)
{
    return !strcmp(loss, "mse")            ? "mean squared error"
           : !strcmp(loss, "stablemax_ce") ? "StableMax cross-entropy (nats)"
                                           : "cross-entropy loss (nats)";
}

int plot_run_load(const char *dir, plot_run **out, grok_err *e)
{
    return plot_run_load_some(dir, 0, out, e);
}

int plot_run_load_curves(const char *dir, plot_run **out, grok_err *e)
{
    return plot_run_load_some(dir, 1, out, e);
}

/* 1 when table t (read from file) can serve a figure; else 0 with the
 * reason appended to why: the file is missing or malformed, lacks one of
 * cols, or has no rows. */
int plot_need(const plot_table *t, const char *file, const char *const *cols, int n,
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
        if (plot_table_col(t, cols[i]) < 0) {
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
            if (fabs(plot_table_at(t, i, ce) - marks[m]) < fabs(plot_table_at(t, best, ce) - marks[m]))
                best = i;
        keep[best] = 1;
    }
}

int plot_block_rows(sbuf *s, const plot_table *t, const char *const *cols, int n,
                    const double *scale, const double *marks, int n_marks)
{
    int idx[16];
    GROK_ASSERT(n <= 16);
    for (int i = 0; i < n; i++) {
        idx[i] = plot_table_col(t, cols[i]);
        GROK_ASSERT(idx[i] >= 0);
    }
    unsigned char *keep = malloc(t->n_rows ? t->n_rows : 1);
    if (!keep)
        return GROK_ENOMEM;
    plot_thin(t, idx[0], marks, n_marks, keep);
    sbuf_puts(s, "#");
    for (int i = 0; i < n; i++)
        sbuf_printf(s, " %s", cols[i]);
    sbuf_puts(s, "\n");
    for (size_t r = 0; r < t->n_rows; r++) {
        if (!keep[r])
            continue;
        for (int i = 0; i < n; i++) {
            if (i)
                sbuf_puts(s, " ");
            plot_num(s, plot_table_at(t, r, idx[i]) * (scale ? scale[i] : 1.0));
        }
        sbuf_puts(s, "\n");
    }
    free(keep);
    return GROK_OK;
}

/* $name << EOD ... EOD with the columns cols[0..n) of t (cols[0] is the
 * epoch), each multiplied by scale[i] when scale is not NULL. */
int plot_block(sbuf *s, const char *name, const plot_table *t, const char *const *cols,
                      int n, const double *scale, const double *marks, int n_marks)
{
    sbuf_printf(s, "$%s << EOD\n", name);
    int rc = plot_block_rows(s, t, cols, n, scale, marks, n_marks);
    sbuf_puts(s, "EOD\n");
    return rc;
}
