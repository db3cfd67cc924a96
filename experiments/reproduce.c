/* reproduce.c: `grok reproduce` (reproduce.h): finding a claim file, reading
 * its `claim` group, running the claims it depends on and its sweep (through
 * sweep_main, so a reproduction is an ordinary, resumable sweep directory),
 * and the comparison of the paper's numbers with ours, computed from each
 * point's metrics.tsv and measures.tsv. */
#include "reproduce.h"

#include <dirent.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "rundir.h"
#include "sweep.h"

#define REPRO_MAX_REPORT 8
#define REPRO_MAX_AFTER 8
#define REPRO_MAX_THEIRS 64
#define REPRO_MAX_BY 3
#define REPRO_MAX_SETS 60
#define REPRO_DEPTH_MAX 8
#define REPRO_PAPERS "experiments/papers"

typedef enum { RM_FIRST, RM_LAST, RM_MAX, RM_MIN, RM_PHASE, RM_DELAY } repro_kind;

typedef struct {
    repro_kind kind;
    char col[64];
    int le;     /* first: COL <= X (else >=) */
    double x;   /* first: the threshold; phase: the accuracy */
    int steps;  /* first: the optimizer step instead of the epoch */
    double gap; /* phase: steps between train and test that make it grokking */
    char text[160];
} repro_metric;

typedef struct {
    char path[SWEEP_PATH_MAX];
    char paper[256], says[1024], note[1024];
    int n_by;
    char by[REPRO_MAX_BY][SWEEP_KEY_MAX];
    int n_theirs;
    char theirs[REPRO_MAX_THEIRS][256];
    int n_report;
    repro_metric report[REPRO_MAX_REPORT];
    int n_after;
    char after[REPRO_MAX_AFTER][256];
} repro_claim;

typedef struct {
    const char *out;
    long jobs;
    char *sets[REPRO_MAX_SETS];
    int n_sets;
    int smoke, report_only, quiet;
} repro_args;

/* Every point of a --smoke run: a tiny model for a few epochs (the keys
 * that are axes of a sweep keep their axis values). */
static const char *const repro_smoke_sets[] = {
    "train.epochs=6",        "train.eval_every=2",    "train.stop_test_acc=0.0",
    "model.d_model=8",       "model.n_heads=2",       "model.d_head=4",
    "model.d_mlp=16",        "model.d_embed=8",       "model.d_hidden=16",
    "checkpoint.every=3",    "checkpoint.every_early=3", "checkpoint.early_until=0",
    "measures.every=3",      "plots.formats=\"\"",
};
#define REPRO_N_SMOKE ((int)(sizeof repro_smoke_sets / sizeof repro_smoke_sets[0]))

static int repro_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int repro_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "grok: reproduce: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", REPRODUCE_USAGE);
    return 2;
}

/* ------------------------------------------------------------------------ */
/* finding a claim */

/* The folder of path into out ("." for a bare name). */
static void repro_dirname(char *out, size_t n, const char *path)
{
    snprintf(out, n, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *(slash == out ? slash + 1 : slash) = '\0';
    else
        snprintf(out, n, ".");
}

/* "a/b" + ext into out; -1 when it does not fit. */
static int repro_join(char *out, size_t n, const char *a, const char *b, const char *ext)
{
    int len = snprintf(out, n, "%s/%s%s", a, b, ext);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* The folder of the running binary (for a grok run from another directory). */
static int repro_exe_dir(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* The papers folder: ./experiments/papers, else next to the binary. */
static int repro_papers_dir(char *buf, size_t n)
{
    struct stat st;
    if (stat(REPRO_PAPERS, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, n, "%s", REPRO_PAPERS);
        return 0;
    }
    char exe[SWEEP_PATH_MAX];
    if (repro_exe_dir(exe, sizeof exe) == 0) {
        int len = snprintf(buf, n, "%s/%s", exe, REPRO_PAPERS);
        if (len > 0 && (size_t)len < n && stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    }
    return -1;
}

/* NAME (a claim of the papers folder, or of folder when not NULL) or a path
 * to a claim file, into path. */
static int repro_find(const char *name, const char *folder, char *path, size_t n)
{
    size_t len = strlen(name);
    int is_path = strchr(name, '/') != NULL || (len > 4 && strcmp(name + len - 4, ".cfg") == 0);
    if (is_path && !folder) {
        snprintf(path, n, "%s", name);
        return fileio_exists(path) ? 0 : -1;
    }
    char dir[SWEEP_PATH_MAX];
    if (folder)
        snprintf(dir, sizeof dir, "%s", folder);
    else if (repro_papers_dir(dir, sizeof dir) != 0)
        return -1;
    int w = snprintf(path, n, "%s/%s%s", dir, name, is_path ? "" : ".cfg");
    return w > 0 && (size_t)w < n && fileio_exists(path) ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* the claim group */

static int repro_parse_metric(const char *text, repro_metric *m, char *why, size_t nwhy)
{
    memset(m, 0, sizeof *m);
    char buf[sizeof m->text], *tok[8];
    int nt = 0;
    if (strlen(text) >= sizeof m->text) {
        snprintf(why, nwhy, "longer than %zu characters", sizeof m->text - 1);
        return -1;
    }
    memcpy(m->text, text, strlen(text) + 1);
    memcpy(buf, text, strlen(text) + 1);
    for (char *sv = NULL, *t = strtok_r(buf, " \t", &sv); t && nt < 8;
         t = strtok_r(NULL, " \t", &sv))
        tok[nt++] = t;
    if (nt == 0) {
        snprintf(why, nwhy, "empty");
        return -1;
    }
    if (strcmp(tok[0], "first") == 0) {
        m->kind = RM_FIRST;
        char *end;
        if (nt < 4 || nt > 5 || (strcmp(tok[2], ">=") && strcmp(tok[2], "<=")) ||
            (m->x = strtod(tok[3], &end), *end) || !isfinite(m->x) ||
            (nt == 5 && strcmp(tok[4], "steps"))) {
            snprintf(why, nwhy, "expected 'first COLUMN >= X' or 'first COLUMN <= X', "
                                "optionally followed by 'steps'");
            return -1;
        }
        m->le = tok[2][0] == '<';
        m->steps = nt == 5;
        snprintf(m->col, sizeof m->col, "%s", tok[1]);
        return 0;
    }
    if (!strcmp(tok[0], "last") || !strcmp(tok[0], "max") || !strcmp(tok[0], "min")) {
        m->kind = !strcmp(tok[0], "last") ? RM_LAST : !strcmp(tok[0], "max") ? RM_MAX : RM_MIN;
        if (nt != 2) {
            snprintf(why, nwhy, "expected '%s COLUMN'", tok[0]);
            return -1;
        }
        snprintf(m->col, sizeof m->col, "%s", tok[1]);
        return 0;
    }
    if (strcmp(tok[0], "delay") == 0) {
        m->kind = RM_DELAY;
        m->x = 0.99;
        char *end;
        if (nt > 3 || (nt >= 2 && ((m->x = strtod(tok[1], &end), *end) || !(m->x > 0) ||
                                   m->x > 1)) ||
            (nt == 3 && strcmp(tok[2], "steps"))) {
            snprintf(why, nwhy, "expected 'delay [ACCURACY in (0, 1]] [steps]'");
            return -1;
        }
        m->steps = nt == 3;
        return 0;
    }
    if (strcmp(tok[0], "phase") == 0) {
        m->kind = RM_PHASE;
        m->x = 0.9;
        m->gap = 1000;
        char *end;
        if (nt > 3 || (nt >= 2 && ((m->x = strtod(tok[1], &end), *end) || !(m->x > 0) ||
                                   m->x > 1)) ||
            (nt == 3 && ((m->gap = strtod(tok[2], &end), *end) || !(m->gap >= 0)))) {
            snprintf(why, nwhy, "expected 'phase [ACCURACY in (0, 1] [GAP steps >= 0]]'");
            return -1;
        }
        return 0;
    }
    snprintf(why, nwhy, "unknown kind '%s'; valid: first, last, max, min, delay, phase", tok[0]);
    return -1;
}

/* A string member (required or not) copied into dst. */
static int repro_claim_str(const config_setting_t *g, const char *name, int required, char *dst,
                           size_t n, const char *file, grok_err *e)
{
    const config_setting_t *st = config_setting_get_member(g, name);
    if (!st)
        return required ? grok_fail(e, GROK_EINVAL, "%s:%d: claim: no '%s'", file,
                                    config_setting_source_line(g), name)
                        : GROK_OK;
    if (config_setting_type(st) != CONFIG_TYPE_STRING || !config_setting_get_string(st)[0])
        return grok_fail(e, GROK_EINVAL, "%s:%d: claim.%s: expected a non-empty string", file,
                         config_setting_source_line(st), name);
    snprintf(dst, n, "%s", config_setting_get_string(st));
    return GROK_OK;
}

/* A member that is one string or a list/array of strings: each into
 * dst[i] (at most max), *count set. */
static int repro_claim_strs(const config_setting_t *g, const char *name, int required, char *dst,
                            size_t stride, int max, int *count, const char *file, grok_err *e)
{
    *count = 0;
    const config_setting_t *st = config_setting_get_member(g, name);
    if (!st)
        return required ? grok_fail(e, GROK_EINVAL, "%s:%d: claim: no '%s'", file,
                                    config_setting_source_line(g), name)
                        : GROK_OK;
    int t = config_setting_type(st);
    if (t == CONFIG_TYPE_STRING) {
        snprintf(dst, stride, "%s", config_setting_get_string(st));
        *count = 1;
        return GROK_OK;
    }
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
        return grok_fail(e, GROK_EINVAL, "%s:%d: claim.%s: expected a string or a list of strings",
                         file, config_setting_source_line(st), name);
    int n = config_setting_length(st);
    if (n == 0 || n > max)
        return grok_fail(e, GROK_EINVAL, "%s:%d: claim.%s: expected 1 to %d strings, not %d",
                         file, config_setting_source_line(st), name, max, n);
    for (int i = 0; i < n; i++) {
        const config_setting_t *el = config_setting_get_elem(st, (unsigned)i);
        if (config_setting_type(el) != CONFIG_TYPE_STRING || !config_setting_get_string(el)[0])
            return grok_fail(e, GROK_EINVAL, "%s:%d: claim.%s: item %d is not a non-empty string",
                             file, config_setting_source_line(st), name, i + 1);
        snprintf(dst + (size_t)i * stride, stride, "%s", config_setting_get_string(el));
    }
    *count = n;
    return GROK_OK;
}

/* The index of the axis of s on key, or -1. */
static int repro_axis(const sweep_spec *s, const char *key)
{
    for (int j = 0; j < s->n_axes; j++)
        if (strcmp(s->axes[j].key, key) == 0)
            return j;
    return -1;
}

/* Reads the claim group of the sweep file at path; checks `by` against s. */
static int repro_claim_read(repro_claim *c, const char *path, const sweep_spec *s, grok_err *e)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    config_t cf;
    config_init(&cf);
    char dir[SWEEP_PATH_MAX];
    repro_dirname(dir, sizeof dir, path);
    config_set_include_dir(&cf, dir);
    int rc = GROK_OK;
    if (!config_read_file(&cf, path)) {
        rc = grok_fail(e, GROK_EINVAL, "%s:%d: %s", path, config_error_line(&cf),
                       config_error_text(&cf));
        config_destroy(&cf);
        return rc;
    }
    const config_setting_t *g = config_setting_get_member(config_root_setting(&cf), "claim");
    if (!g) {
        config_destroy(&cf);
        return grok_fail(e, GROK_EINVAL,
                         "%s: no claim group: a reproduction says what the paper found "
                         "(claim = { paper = ...; says = ...; theirs = ...; report = [...]; })",
                         path);
    }
    static const char *const keys[] = {"paper", "says", "theirs", "by", "report", "after", "note"};
    for (int i = 0; i < config_setting_length(g) && rc == GROK_OK; i++) {
        const char *nm = config_setting_name(config_setting_get_elem(g, (unsigned)i));
        int ok = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            ok |= strcmp(nm, keys[k]) == 0;
        if (!ok)
            rc = grok_fail(e, GROK_EINVAL,
                           "%s:%d: claim: unknown key '%s'; valid: paper, says, theirs, by, "
                           "report, after, note",
                           path, config_setting_source_line(config_setting_get_elem(g, (unsigned)i)),
                           nm);
    }
    char reports[REPRO_MAX_REPORT][160];
    if (rc == GROK_OK)
        rc = repro_claim_str(g, "paper", 1, c->paper, sizeof c->paper, path, e);
    if (rc == GROK_OK)
        rc = repro_claim_str(g, "says", 1, c->says, sizeof c->says, path, e);
    if (rc == GROK_OK)
        rc = repro_claim_str(g, "note", 0, c->note, sizeof c->note, path, e);
    if (rc == GROK_OK)
        rc = repro_claim_strs(g, "by", 0, c->by[0], sizeof c->by[0], REPRO_MAX_BY, &c->n_by,
                              path, e);
    if (rc == GROK_OK)
        rc = repro_claim_strs(g, "theirs", 1, c->theirs[0], sizeof c->theirs[0], REPRO_MAX_THEIRS,
                              &c->n_theirs, path, e);
    if (rc == GROK_OK)
        rc = repro_claim_strs(g, "report", 1, reports[0], sizeof reports[0], REPRO_MAX_REPORT,
                              &c->n_report, path, e);
    if (rc == GROK_OK)
        rc = repro_claim_strs(g, "after", 0, c->after[0], sizeof c->after[0], REPRO_MAX_AFTER,
                              &c->n_after, path, e);
    int line = config_setting_source_line(g);
    config_destroy(&cf);
    for (int i = 0; i < c->n_report && rc == GROK_OK; i++) {
        char why[200];
        if (repro_parse_metric(reports[i], &c->report[i], why, sizeof why) != 0)
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: claim.report \"%s\": %s", path, line,
                           reports[i], why);
    }
    if (rc != GROK_OK)
        return rc;
    int n_by = 1;
    for (int b = 0; b < c->n_by; b++) {
        int k = repro_axis(s, c->by[b]);
        if (k < 0) {
            sbuf t;
            sbuf_init(&t);
            for (int j = 0; j < s->n_axes; j++)
                sbuf_printf(&t, "%s%s", j ? ", " : "", s->axes[j].key);
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: claim.by \"%s\" is not an axis of the sweep; "
                                           "its axes: %s",
                           path, line, c->by[b], t.data ? t.data : "");
            sbuf_free(&t);
            return rc;
        }
        n_by *= s->axes[k].n;
    }
    if (c->n_theirs != 1 && c->n_theirs != n_by)
        return grok_fail(e, GROK_EINVAL,
                         "%s:%d: claim.theirs has %d entries; give one, or one per value of "
                         "claim.by (%d)",
                         path, line, c->n_theirs, n_by);
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* one point's numbers */

typedef enum { RP_NONE, RP_COMPREHENSION, RP_GROKKING, RP_MEMORISATION, RP_CONFUSION } repro_phase;
static const char *const repro_phase_names[] = {"none", "comprehension", "grokking",
                                                "memorisation", "confusion"};

typedef struct {
    int done;        /* the point's run is complete */
    int have;        /* a value (or a phase) exists */
    int reached;     /* first: the threshold was reached */
    double v;
    repro_phase phase;
    char text[64];   /* last: a cell that is not a number ("41,32"), else "" */
} repro_val;

/* The first row of t whose column col passes (>= or <=) x, or -1. */
static int repro_first_row(const rundir_tsv *t, int col, int le, double x)
{
    for (int r = 0; r < t->n_rows; r++) {
        double v = rundir_tsv_at(t, r, col);
        if (le ? v <= x : v >= x)
            return r;
    }
    return -1;
}

static void repro_point(const char *pdir, const cfg_run *c, const repro_metric *m, repro_val *out)
{
    memset(out, 0, sizeof *out);
    rundir_summary sum = {NULL};
    grok_err e = {{0}};
    if (rundir_summary_read(&sum, pdir, &e) != 1)
        return;
    const char *status = rundir_summary_str(&sum, "status");
    out->done = status && (!strcmp(status, "finished") || !strcmp(status, "stopped") ||
                           !strcmp(status, "diverged"));
    double n_train = rundir_summary_num(&sum, "n_train");
    rundir_summary_free(&sum);
    long batch = c->train.batch > 0 ? c->train.batch : (long)n_train;
    double steps_per_epoch = isfinite(n_train) && batch > 0 ? ceil(n_train / (double)batch) : NAN;

    rundir_tsv met = {0}, mea = {0};
    if (rundir_tsv_read(&met, pdir, RUNDIR_METRICS, 0, &e) != 1)
        return;
    int c_ep = rundir_tsv_col(&met, "epoch");
    if (m->kind == RM_FIRST) {
        int col = rundir_tsv_col(&met, m->col);
        if (col >= 0 && c_ep >= 0) {
            out->have = 1;
            int r = repro_first_row(&met, col, m->le, m->x);
            if (r >= 0) {
                out->reached = 1;
                out->v = rundir_tsv_at(&met, r, c_ep);
                if (m->steps)
                    out->v *= steps_per_epoch;
            }
        }
    } else if (m->kind == RM_DELAY) {
        int ctr = rundir_tsv_col(&met, "train_acc"), cte = rundir_tsv_col(&met, "test_acc");
        if (ctr >= 0 && cte >= 0 && c_ep >= 0) {
            int rtr = repro_first_row(&met, ctr, 0, m->x), rte = repro_first_row(&met, cte, 0, m->x);
            out->have = 1;
            if (rte >= 0 && rtr >= 0) {
                out->reached = 1;
                out->v = rundir_tsv_at(&met, rte, c_ep) - rundir_tsv_at(&met, rtr, c_ep);
                if (m->steps)
                    out->v *= steps_per_epoch;
            }
        }
    } else if (m->kind == RM_PHASE) {
        int ctr = rundir_tsv_col(&met, "train_acc"), cte = rundir_tsv_col(&met, "test_acc");
        if (ctr >= 0 && cte >= 0 && c_ep >= 0) {
            int rtr = repro_first_row(&met, ctr, 0, m->x), rte = repro_first_row(&met, cte, 0, m->x);
            out->have = 1;
            if (rte >= 0 && rtr >= 0) {
                double gap = (rundir_tsv_at(&met, rte, c_ep) - rundir_tsv_at(&met, rtr, c_ep)) *
                             steps_per_epoch;
                out->phase = gap < m->gap ? RP_COMPREHENSION : RP_GROKKING;
                out->v = gap;
            } else {
                out->phase = rte >= 0   ? RP_COMPREHENSION
                             : rtr >= 0 ? RP_MEMORISATION
                                        : RP_CONFUSION;
            }
        }
    } else {
        const rundir_tsv *t = &met;
        int col = rundir_tsv_col(&met, m->col);
        if (col < 0 && rundir_tsv_read(&mea, pdir, RUNDIR_MEASURES, 0, &e) == 1) {
            t = &mea;
            col = rundir_tsv_col(&mea, m->col);
        }
        if (col >= 0 && t->n_rows > 0) {
            double v = m->kind == RM_LAST ? rundir_tsv_at(t, t->n_rows - 1, col)
                                          : rundir_tsv_at(t, 0, col);
            for (int r = 1; r < t->n_rows && m->kind != RM_LAST; r++) {
                double x = rundir_tsv_at(t, r, col);
                if (m->kind == RM_MAX ? x > v : x < v)
                    v = x;
            }
            out->have = isfinite(v);
            out->v = v;
            const char *cell = t->text[(size_t)(t->n_rows - 1) * (size_t)t->n_cols + (size_t)col];
            if (m->kind == RM_LAST && !isfinite(v) && cell && cell[0] && strcmp(cell, "none") &&
                strcmp(cell, "null") && strcmp(cell, "nan")) {
                out->have = 1;
                snprintf(out->text, sizeof out->text, "%s", cell);
            }
        }
    }
    rundir_tsv_free(&met);
    rundir_tsv_free(&mea);
}

/* ------------------------------------------------------------------------ */
/* pooling a row's points */

static int repro_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void repro_num(sbuf *b, double x, int integral)
{
    if (integral && fabs(x) < 1e15 && x == floor(x))
        sbuf_printf(b, "%.0f", x);
    else
        sbuf_printf(b, "%.3g", x);
}

/* The cell of metric m over the n points' values. */
static void repro_pool(sbuf *b, const repro_metric *m, const repro_val *v, int n)
{
    int n_have = 0, n_done = 0;
    for (int i = 0; i < n; i++) {
        n_have += v[i].have;
        n_done += v[i].done;
    }
    if (n_have == 0) {
        sbuf_puts(b, n_done > 0 ? "none" : "pending");
        return;
    }
    if (m->kind == RM_PHASE) {
        int count[5] = {0};
        for (int i = 0; i < n; i++)
            if (v[i].have)
                count[v[i].phase]++;
        int first = 1;
        for (int rep = 0; rep < 4; rep++) {
            int best = 0;
            for (int p = 1; p < 5; p++)
                if (count[p] > count[best])
                    best = p;
            if (best == 0 || count[best] == 0)
                break;
            sbuf_printf(b, "%s%s %d/%d", first ? "" : ", ", repro_phase_names[best], count[best],
                        n);
            count[best] = 0;
            first = 0;
        }
        return;
    }
    if (m->kind == RM_LAST && v[0].text[0]) {
        /* text cells: each distinct one with its count, in order of first sight */
        int first = 1;
        for (int i = 0; i < n; i++) {
            if (!v[i].have || !v[i].text[0])
                continue;
            int seen = 0, count = 0;
            for (int j = 0; j < n; j++) {
                seen |= j < i && v[j].have && strcmp(v[j].text, v[i].text) == 0;
                count += v[j].have && strcmp(v[j].text, v[i].text) == 0;
            }
            if (!seen)
                sbuf_printf(b, "%s%s x%d", first ? "" : "; ", v[i].text, count);
            first = 0;
        }
        if (n_done < n)
            sbuf_printf(b, " *%d/%d done", n_done, n);
        return;
    }
    double *x = malloc((size_t)n * sizeof *x);
    if (!x) {
        sbuf_puts(b, "?");
        return;
    }
    int thresh = m->kind == RM_FIRST || m->kind == RM_DELAY;
    int k = 0, integral = thresh;
    for (int i = 0; i < n; i++)
        if (v[i].have && (!thresh || v[i].reached))
            x[k++] = v[i].v;
    if (k == 0) {
        sbuf_printf(b, "never (0/%d)", n);
    } else {
        qsort(x, (size_t)k, sizeof *x, repro_cmp_double);
        double med = k % 2 ? x[k / 2] : 0.5 * (x[k / 2 - 1] + x[k / 2]);
        repro_num(b, med, integral && k % 2);
        if (k > 1 && x[0] != x[k - 1]) {
            sbuf_puts(b, " [");
            repro_num(b, x[0], integral);
            sbuf_puts(b, ", ");
            repro_num(b, x[k - 1], integral);
            sbuf_puts(b, "]");
        }
        if (thresh && k < n)
            sbuf_printf(b, " (%d/%d)", k, n);
    }
    if (n_done < n)
        sbuf_printf(b, " *%d/%d done", n_done, n);
    free(x);
}

/* ------------------------------------------------------------------------ */
/* the comparison */

static int repro_compare(const repro_claim *c, const sweep_spec *s, const char *dir, int quiet,
                         grok_err *e)
{
    int kb[REPRO_MAX_BY], n_rows = 1;
    for (int b = 0; b < c->n_by; b++) {
        kb[b] = repro_axis(s, c->by[b]);
        n_rows *= s->axes[kb[b]].n;
    }
    int ncol = 2 + c->n_report + 1;
    sbuf *cell = calloc((size_t)(n_rows + 1) * (size_t)ncol, sizeof *cell);
    repro_val *vals = calloc((size_t)s->n_points, sizeof *vals);
    long *pts = calloc((size_t)s->n_points, sizeof *pts);
    cfg_run *cfgs = calloc((size_t)s->n_points, sizeof *cfgs);
    if (!cell || !vals || !pts || !cfgs) {
        free(cell);
        free(vals);
        free(pts);
        free(cfgs);
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    for (int i = 0; i < (n_rows + 1) * ncol; i++)
        sbuf_init(&cell[i]);
    int rc = GROK_OK;
    for (long i = 0; i < s->n_points && rc == GROK_OK; i++)
        rc = sweep_point_config(s, i, &cfgs[i], e);
    for (int b = 0; b < c->n_by; b++)
        sbuf_printf(&cell[0], "%s%s", b ? ", " : "", c->by[b]);
    if (c->n_by == 0)
        sbuf_puts(&cell[0], "points");
    sbuf_puts(&cell[1], "theirs");
    for (int j = 0; j < c->n_report; j++)
        sbuf_puts(&cell[2 + j], c->report[j].text);
    sbuf_puts(&cell[ncol - 1], "runs");
    for (int r = 0; r < n_rows && rc == GROK_OK; r++) {
        sbuf *row = &cell[(size_t)(r + 1) * (size_t)ncol];
        int n = 0;
        /* row r counts through the by axes, the first most significant */
        int want[REPRO_MAX_BY];
        for (int b = c->n_by - 1, rr = r; b >= 0; b--) {
            want[b] = rr % s->axes[kb[b]].n;
            rr /= s->axes[kb[b]].n;
        }
        for (long i = 0; i < s->n_points; i++) {
            int in = 1;
            for (int b = 0; b < c->n_by; b++)
                in &= sweep_point_index(s, i, kb[b]) == want[b];
            if (in)
                pts[n++] = i;
        }
        for (int b = 0; b < c->n_by; b++)
            sbuf_printf(&row[0], "%s%s", b ? ", " : "", s->axes[kb[b]].value[want[b]]);
        if (c->n_by == 0)
            sbuf_puts(&row[0], "all");
        sbuf_puts(&row[1], c->theirs[c->n_theirs == 1 ? 0 : r]);
        int n_done = 0;
        for (int j = 0; j < c->n_report; j++) {
            for (int q = 0; q < n; q++) {
                char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
                sweep_point_name(s, pts[q], name, sizeof name);
                if (repro_join(pdir, sizeof pdir, dir, name, "") == 0)
                    repro_point(pdir, &cfgs[pts[q]], &c->report[j], &vals[q]);
                else
                    memset(&vals[q], 0, sizeof vals[q]);
            }
            repro_pool(&row[2 + j], &c->report[j], vals, n);
            if (j == 0)
                for (int q = 0; q < n; q++)
                    n_done += vals[q].done;
        }
        sbuf_printf(&row[ncol - 1], "%d/%d", n_done, n);
    }
    if (rc == GROK_OK) {
        /* the printed table: columns padded to their widest cell */
        size_t w[2 + REPRO_MAX_REPORT + 1] = {0};
        for (int r = 0; r <= n_rows; r++)
            for (int j = 0; j < ncol; j++) {
                size_t len = cell[r * ncol + j].len;
                if (len > w[j])
                    w[j] = len;
            }
        sbuf out, tsv;
        sbuf_init(&out);
        sbuf_init(&tsv);
        sbuf_printf(&out, "%s: %s\n", c->paper, c->says);
        if (c->note[0])
            sbuf_printf(&out, "  here: %s\n", c->note);
        sbuf_printf(&tsv, "# %s: %s\n", c->paper, c->says);
        for (int r = 0; r <= n_rows; r++) {
            sbuf_puts(&out, " ");
            for (int j = 0; j < ncol; j++) {
                const sbuf *x = &cell[r * ncol + j];
                sbuf_printf(&out, " %-*s", j == ncol - 1 ? 0 : (int)w[j] + 1,
                            x->data ? x->data : "");
                sbuf_printf(&tsv, "%s%s", j ? "\t" : "", x->data ? x->data : "");
            }
            while (out.len && out.data[out.len - 1] == ' ')
                out.data[--out.len] = '\0';
            sbuf_puts(&out, "\n");
            sbuf_puts(&tsv, "\n");
        }
        sbuf_printf(&out, "  (median [min, max] over a row's runs; (k/n): k of n runs reached "
                          "the threshold; table: %s/reproduce.tsv, figures: %s/figures)\n",
                    dir, dir);
        char path[SWEEP_PATH_MAX];
        if (out.oom || tsv.oom)
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        else if (snprintf(path, sizeof path, "%s/reproduce.tsv", dir) >= (int)sizeof path)
            rc = grok_fail(e, GROK_EINVAL, "path too long: '%s'", dir);
        else
            rc = fileio_write_atomic(path, tsv.data, tsv.len, e);
        if (rc == GROK_OK && !quiet)
            fputs(out.data, stdout);
        sbuf_free(&out);
        sbuf_free(&tsv);
    }
    for (int i = 0; i < (n_rows + 1) * ncol; i++)
        sbuf_free(&cell[i]);
    free(cell);
    free(vals);
    free(pts);
    free(cfgs);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* running */

/* The sets of a run: --smoke's (those that are not axes of s) then the user's. */
static int repro_sets(const repro_args *a, const sweep_spec *s, char **out)
{
    int n = 0;
    for (int i = 0; a->smoke && i < REPRO_N_SMOKE; i++) {
        const char *eq = strchr(repro_smoke_sets[i], '=');
        size_t klen = (size_t)(eq - repro_smoke_sets[i]);
        int axis = 0;
        for (int k = 0; k < s->n_axes; k++)
            axis |= strlen(s->axes[k].key) == klen &&
                    strncmp(s->axes[k].key, repro_smoke_sets[i], klen) == 0;
        if (!axis)
            out[n++] = (char *)repro_smoke_sets[i];
    }
    for (int i = 0; i < a->n_sets; i++)
        out[n++] = a->sets[i];
    return n;
}

static int repro_run(const char *name, const char *folder, const repro_args *a, const char *out,
                     int depth, blisarch_info *bi)
{
    char path[SWEEP_PATH_MAX];
    if (depth > REPRO_DEPTH_MAX) {
        fprintf(stderr, "grok: reproduce: %s: claims depend on each other in a cycle or more "
                        "than %d deep (claim.after)\n",
                name, REPRO_DEPTH_MAX);
        return 2;
    }
    if (repro_find(name, folder, path, sizeof path) != 0) {
        char pd[SWEEP_PATH_MAX] = "";
        if (folder)
            snprintf(pd, sizeof pd, "%s", folder);
        else if (repro_papers_dir(pd, sizeof pd) != 0)
            snprintf(pd, sizeof pd, "%s (not found)", REPRO_PAPERS);
        fprintf(stderr, "grok: reproduce: no claim '%s' in %s; `grok reproduce --list` names "
                        "them\n",
                name, pd);
        return 2;
    }
    sweep_spec s;
    grok_err e = {{0}};
    char *sets[REPRO_N_SMOKE + REPRO_MAX_SETS];
    int rc = sweep_load(&s, path, &e);
    int n_sets = rc == GROK_OK ? repro_sets(a, &s, sets) : 0;
    if (rc == GROK_OK)
        rc = sweep_apply_sets(&s, sets, n_sets, &e);
    repro_claim *c = calloc(1, sizeof *c);
    if (rc == GROK_OK && !c)
        rc = grok_fail(&e, GROK_ENOMEM, "out of memory");
    if (rc == GROK_OK)
        rc = repro_claim_read(c, path, &s, &e);
    if (rc != GROK_OK) {
        fprintf(stderr, "grok: reproduce: %s\n", e.msg);
        sweep_spec_free(&s);
        free(c);
        return rc == GROK_EINVAL ? 2 : 1;
    }
    char dir[SWEEP_PATH_MAX];
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else if (s.out[0])
        snprintf(dir, sizeof dir, "%s", s.out);
    else
        snprintf(dir, sizeof dir, "runs/papers/%s", s.name);

    int status = 0;
    char folder_of[SWEEP_PATH_MAX];
    repro_dirname(folder_of, sizeof folder_of, path);
    /* A claim names in claim.after the claims that make its init.from run;
     * an init.from given with --set is that run, so they are not needed. */
    const char *given_from = NULL;
    for (int i = 0; i < a->n_sets; i++) {
        const char *t = a->sets[i];
        t += strspn(t, " \t");
        if (strncmp(t, "init.from", 9) != 0)
            continue;
        t += 9;
        t += strspn(t, " \t");
        if (*t == '=')
            given_from = t + 1 + strspn(t + 1, " \t");
    }
    for (int i = 0; i < c->n_after && status == 0 && !a->report_only; i++) {
        if (given_from) {
            if (!a->quiet)
                fprintf(stderr, "grok: reproduce: %s starts from %s (--set init.from), so %s "
                                "is not run first\n",
                        s.name, given_from, c->after[i]);
            continue;
        }
        if (!a->quiet)
            fprintf(stderr, "grok: reproduce: %s needs %s first\n", s.name, c->after[i]);
        status = repro_run(c->after[i], folder_of, a, NULL, depth + 1, bi);
    }
    if (status == 0 && !a->report_only) {
        char jobs[32];
        char *argv[16 + 2 * (REPRO_N_SMOKE + REPRO_MAX_SETS)];
        int argc = 0;
        argv[argc++] = "sweep";
        argv[argc++] = path;
        argv[argc++] = "--out";
        argv[argc++] = dir;
        if (a->jobs > 0) {
            snprintf(jobs, sizeof jobs, "%ld", a->jobs);
            argv[argc++] = "--jobs";
            argv[argc++] = jobs;
        }
        for (int i = 0; i < n_sets; i++) {
            argv[argc++] = "--set";
            argv[argc++] = sets[i];
        }
        if (a->quiet)
            argv[argc++] = "--quiet";
        argv[argc] = NULL;
        status = sweep_main(argc, argv, bi);
    }
    if (status == 0 || status == 1) {
        char cfgp[SWEEP_PATH_MAX];
        if (repro_join(cfgp, sizeof cfgp, dir, "sweep.cfg", "") != 0 || !fileio_exists(cfgp)) {
            fprintf(stderr, "grok: reproduce: %s has not run yet (no %s); run `grok reproduce "
                            "%s`\n",
                    s.name, cfgp, name);
            status = 2;
        } else if (repro_compare(c, &s, dir, a->quiet, &e) != GROK_OK) {
            fprintf(stderr, "grok: reproduce: %s\n", e.msg);
            status = 1;
        }
    }
    sweep_spec_free(&s);
    free(c);
    return status;
}

static int repro_cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --list: every claim file of the papers folder with its paper and claim. */
static int repro_list(void)
{
    char dir[SWEEP_PATH_MAX];
    if (repro_papers_dir(dir, sizeof dir) != 0) {
        fprintf(stderr, "grok: reproduce: no %s folder here or next to the grok binary\n",
                REPRO_PAPERS);
        return 1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "grok: reproduce: cannot read %s\n", dir);
        return 1;
    }
    char **names = NULL;
    int n = 0;
    for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
        size_t len = strlen(ent->d_name);
        if (len > 4 && strcmp(ent->d_name + len - 4, ".cfg") == 0) {
            char **nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            names[n++] = strndup(ent->d_name, len - 4);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, repro_cmp_name);
    int status = 0;
    for (int i = 0; i < n; i++) {
        char path[SWEEP_PATH_MAX];
        if (repro_join(path, sizeof path, dir, names[i], ".cfg") != 0)
            continue;
        sweep_spec s;
        grok_err e = {{0}};
        repro_claim *c = calloc(1, sizeof *c);
        int rc = c ? sweep_load(&s, path, &e) : GROK_ENOMEM;
        if (rc == GROK_OK)
            rc = repro_claim_read(c, path, &s, &e);
        if (rc == GROK_OK)
            printf("%-28s %s: %s (%ld run%s)\n", names[i], c->paper, c->says, s.n_points,
                   s.n_points == 1 ? "" : "s");
        else {
            printf("%-28s (bad claim file: %s)\n", names[i], e.msg);
            status = 1;
        }
        if (c)
            sweep_spec_free(&s);
        free(c);
        free(names[i]);
    }
    free(names);
    return status;
}

int reproduce_main(int argc, char **argv, blisarch_info *bi)
{
    repro_args a = {0};
    const char *name = NULL;
    int list = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || !v[0])
                return repro_usage_error("--out needs a directory");
            a.out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--jobs", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, 4096, &a.jobs) != 0)
                return repro_usage_error("--jobs '%s': expected a whole number from 1 to 4096",
                                         m < 0 ? "" : v);
        } else if ((m = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (m < 0 || !strchr(v, '='))
                return repro_usage_error("--set needs key=value, e.g. --set train.epochs=100");
            if (a.n_sets >= REPRO_MAX_SETS)
                return repro_usage_error("more than %d --set options", REPRO_MAX_SETS);
            a.sets[a.n_sets++] = (char *)v;
        } else if (strcmp(argv[i], "--smoke") == 0) {
            a.smoke = 1;
        } else if (strcmp(argv[i], "--report") == 0) {
            a.report_only = 1;
        } else if (strcmp(argv[i], "--list") == 0) {
            list = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            a.quiet = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s\n  %s\n", REPRODUCE_USAGE, REPRODUCE_ABOUT);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return repro_usage_error("unknown option '%s'; valid: --out, --jobs, --set, --smoke, "
                                     "--report, --list, --quiet",
                                     argv[i]);
        } else if (name) {
            return repro_usage_error("unexpected argument '%s' (already have '%s')", argv[i],
                                     name);
        } else {
            name = argv[i];
        }
    }
    if (list)
        return name || a.out || a.n_sets || a.smoke || a.report_only
                   ? repro_usage_error("--list takes no other argument")
                   : repro_list();
    if (!name)
        return repro_usage_error("which claim? (`grok reproduce --list` names them)");
    return repro_run(name, NULL, &a, a.out, 0, bi);
}
