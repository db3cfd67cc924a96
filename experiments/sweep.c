/* sweep.c: grids of runs (sweep.h): the sweep config and its points, the
 * sweep directory, running the points (local pool, MPI ranks, one SLURM
 * array task), the sweep table, the progress view, and `grok sweep`.
 *
 * Owns no training: a point is an ordinary run directory made by run_train
 * and continued by run_resume (run.h), so everything a run guarantees
 * (atomic files, kill-and-resume giving the same bytes, the same bits for any
 * thread count) holds for every point.  The figures are plots/sweep_plot.c's;
 * MPI calls live in sweep_mpi.c so that only that file needs mpi.h.
 *
 * Determinism.  A point's config depends on the sweep file alone and every
 * point runs single-threaded, so its files do not depend on which process,
 * rank or array task ran it, nor on the order; sweep.tsv is rebuilt from
 * the points' summary.json and holds no time, so it is the same bytes for a
 * local pool, mpirun and a SLURM array (wall times go to sweep_time.tsv). */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"
#include "plot.h"
#include "progress.h"
#include "run.h"
#include "rundir.h"
#include "sweep_plot.h"

/* Keys a resumed run may change (run.h, run_resume); a started point's
 * config may differ from the sweep's only in these. */
static const char *const sweep_resumable[] = {
    "train.epochs",     "train.stop_test_acc",    "train.eval_every",       "checkpoint.every",
    "checkpoint.every_early", "checkpoint.early_until", "measures.every", "plots.formats",
};
#define SWEEP_N_RESUMABLE ((int)(sizeof sweep_resumable / sizeof sweep_resumable[0]))

static const char *const sweep_top_keys = "name, base, set, axes, out, plots";
static const char *const sweep_axis_keys = "key, name, values, from, to, step, n, log";
static const char *const sweep_plots_keys = "formats, x, y";

/* ------------------------------------------------------------------------ */
/* small helpers */

static int sweep_join(char *out, size_t n, const char *a, const char *b, grok_err *e)
{
    int len = snprintf(out, n, "%s/%s", a, b);
    if (len < 0 || (size_t)len >= n)
        return grok_fail(e, GROK_EINVAL, "path too long: '%s/%s'", a, b);
    return GROK_OK;
}

/* The message of e without a leading prefix ("--set: ", "<config>: "). */
static const char *sweep_strip(const grok_err *e, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(e->msg, prefix, n) == 0 ? e->msg + n : e->msg;
}

/* The shortest %g text (at most 17 digits) that reads back to x; whole
 * numbers below 10^15 without an exponent (10, not 1e+01). */
static void sweep_fmt_double(char *buf, size_t n, double x)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, n, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* x rounded to 12 significant digits: ranges give 0.3, not 0.30000000000000004. */
static double sweep_round12(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.12g", x);
    return strtod(buf, NULL);
}

/* Appends s as a libconfig string literal. */
static void sweep_cfg_string(sbuf *b, const char *s)
{
    sbuf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sbuf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            sbuf_puts(b, "\\n");
        else if (*s == '\t')
            sbuf_puts(b, "\\t");
        else
            sbuf_append(b, s, 1);
    }
    sbuf_puts(b, "\"");
}

/* Appends a float's text so that libconfig reads a float: "1" -> "1.0". */
static void sweep_cfg_float_text(sbuf *b, const char *text)
{
    sbuf_puts(b, text);
    if (!strpbrk(text, ".eE"))
        sbuf_puts(b, ".0");
}

/* Characters allowed in a point name part and in labels. */
static int sweep_name_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '+' || ch == '-';
}

static double sweep_now(void)
{
    return progress_now();
}

static void sweep_fmt_duration(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "?");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%.1fs", s);
}

/* Writes data to path unless the file already holds exactly these bytes. */
static int sweep_write_if_changed(const char *path, const sbuf *b, grok_err *e)
{
    if (b->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory building '%s'", path);
    char *old = NULL;
    size_t n = 0;
    if (fileio_exists(path) && fileio_read_all(path, &old, &n, NULL) == GROK_OK) {
        int same = n == b->len && memcmp(old, b->data ? b->data : "", n) == 0;
        free(old);
        if (same)
            return GROK_OK;
    }
    return fileio_write_atomic(path, b->data ? b->data : "", b->len, e);
}

/* ------------------------------------------------------------------------ */
/* reading the sweep file */

typedef struct {
    sweep_spec *s;
    const char *file; /* for messages */
} sweep_loader;

static int sweep_fail_at(grok_err *e, int code, const sweep_loader *L, const config_setting_t *st,
                         const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static int sweep_fail_at(grok_err *e, int code, const sweep_loader *L, const config_setting_t *st,
                         const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = st ? config_setting_source_line(st) : 0;
    if (line > 0)
        return grok_fail(e, code, "%s:%d: %s", L->file, line, msg);
    return grok_fail(e, code, "%s: %s", L->file, msg);
}

static const char *sweep_type_name(int t)
{
    switch (t) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a float";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "a setting";
    }
}

/* A string member of group g (NULL when absent); GROK_EINVAL for another type. */
static int sweep_get_string(const sweep_loader *L, const config_setting_t *g, const char *what,
                            const char *name, const char **out, grok_err *e)
{
    *out = NULL;
    const config_setting_t *st = config_setting_get_member(g, name);
    if (!st)
        return GROK_OK;
    if (config_setting_type(st) != CONFIG_TYPE_STRING)
        return sweep_fail_at(e, GROK_EINVAL, L, st, "%s%s is %s; expected a string", what, name,
                             sweep_type_name(config_setting_type(st)));
    *out = config_setting_get_string(st);
    return GROK_OK;
}

/* Appends a scalar or array setting's value in libconfig syntax, as cfg_set
 * reads it.  GROK_EINVAL for groups and lists. */
static int sweep_fmt_value(sbuf *b, const config_setting_t *st)
{
    char num[64];
    switch (config_setting_type(st)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        sbuf_printf(b, "%lld", config_setting_get_int64(st));
        return GROK_OK;
    case CONFIG_TYPE_FLOAT:
        sweep_fmt_double(num, sizeof num, config_setting_get_float(st));
        sweep_cfg_float_text(b, num);
        return GROK_OK;
    case CONFIG_TYPE_BOOL:
        sbuf_puts(b, config_setting_get_bool(st) ? "true" : "false");
        return GROK_OK;
    case CONFIG_TYPE_STRING:
        sweep_cfg_string(b, config_setting_get_string(st));
        return GROK_OK;
    case CONFIG_TYPE_ARRAY: {
        sbuf_puts(b, "[");
        int n = config_setting_length(st);
        for (int i = 0; i < n; i++) {
            if (i)
                sbuf_puts(b, ", ");
            sweep_fmt_value(b, config_setting_get_elem(st, (unsigned)i));
        }
        sbuf_puts(b, "]");
        return GROK_OK;
    }
    default:
        return GROK_EINVAL;
    }
}

/* Applies the `set` group: each leaf "a.b = v" becomes cfg_set("a.b=v"). */
static int sweep_apply_set(const sweep_loader *L, const config_setting_t *g, const char *prefix,
                           grok_err *e)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *st = config_setting_get_elem(g, (unsigned)i);
        char path[256];
        snprintf(path, sizeof path, "%s%s", prefix, config_setting_name(st));
        int rc;
        if (config_setting_type(st) == CONFIG_TYPE_GROUP) {
            char sub[260];
            snprintf(sub, sizeof sub, "%s.", path);
            if ((rc = sweep_apply_set(L, st, sub, e)) != GROK_OK)
                return rc;
            continue;
        }
        sbuf a;
        sbuf_init(&a);
        sbuf_printf(&a, "%s=", path);
        if (sweep_fmt_value(&a, st) != GROK_OK) {
            sbuf_free(&a);
            return sweep_fail_at(e, GROK_EINVAL, L, st,
                                 "set: %s is %s; expected a value of an experiment key", path,
                                 sweep_type_name(config_setting_type(st)));
        }
        grok_err e2 = {{0}};
        rc = a.oom ? GROK_ENOMEM : cfg_set(&L->s->base, a.data, &e2);
        sbuf_free(&a);
        if (rc != GROK_OK)
            return sweep_fail_at(e, rc, L, st, "set: %s", sweep_strip(&e2, "--set: "));
    }
    return GROK_OK;
}

/* The text of axis value v for cfg_set: strings quoted, the rest as is. */
static void sweep_set_text(sbuf *b, const sweep_axis *a, int v)
{
    if (a->type == SWEEP_STRING)
        sweep_cfg_string(b, a->value[v]);
    else
        sbuf_puts(b, a->value[v]);
}

static int sweep_axis_add(sweep_axis *a, const char *text)
{
    if (a->n >= SWEEP_VALUES_MAX)
        return GROK_EINVAL;
    char **v = realloc(a->value, (size_t)(a->n + 1) * sizeof *v);
    if (!v)
        return GROK_ENOMEM;
    a->value = v;
    size_t len = strlen(text);
    a->value[a->n] = malloc(len + 1);
    if (!a->value[a->n])
        return GROK_ENOMEM;
    memcpy(a->value[a->n], text, len + 1);
    a->n++;
    return GROK_OK;
}

/* Reads `values = [...]` (an array or a list of scalars of one kind; ints
 * and floats may mix in a list, giving floats). */
static int sweep_axis_values(const sweep_loader *L, sweep_axis *a, const config_setting_t *vs,
                             grok_err *e)
{
    int t = config_setting_type(vs);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
        return sweep_fail_at(e, GROK_EINVAL, L, vs,
                             "axis %s: values is %s; expected an array such as [0.1, 0.2] or "
                             "[\"add\", \"sub\"]",
                             a->key, sweep_type_name(t));
    int n = config_setting_length(vs);
    if (n == 0)
        return sweep_fail_at(e, GROK_EINVAL, L, vs, "axis %s: values is empty", a->key);
    int any_float = 0, kind = -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *el = config_setting_get_elem(vs, (unsigned)i);
        int et = config_setting_type(el);
        int k;
        switch (et) {
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64: k = 0; break;
        case CONFIG_TYPE_FLOAT: k = 0; any_float = 1; break;
        case CONFIG_TYPE_STRING: k = 1; break;
        case CONFIG_TYPE_BOOL: k = 2; break;
        default:
            return sweep_fail_at(e, GROK_EINVAL, L, el,
                                 "axis %s: value %d is %s; expected numbers, strings or booleans",
                                 a->key, i + 1, sweep_type_name(et));
        }
        if (kind >= 0 && k != kind)
            return sweep_fail_at(e, GROK_EINVAL, L, el,
                                 "axis %s: value %d is %s, unlike the first; the values of an "
                                 "axis are all numbers, all strings or all booleans",
                                 a->key, i + 1, sweep_type_name(et));
        kind = k;
    }
    a->type = kind == 1   ? SWEEP_STRING
              : kind == 2 ? SWEEP_BOOL
              : any_float ? SWEEP_FLOAT
                          : SWEEP_INT;
    for (int i = 0; i < n; i++) {
        const config_setting_t *el = config_setting_get_elem(vs, (unsigned)i);
        char buf[256];
        switch (a->type) {
        case SWEEP_INT:
            snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(el));
            break;
        case SWEEP_FLOAT: {
            double x = config_setting_type(el) == CONFIG_TYPE_FLOAT
                           ? config_setting_get_float(el)
                           : (double)config_setting_get_int64(el);
            if (!isfinite(x))
                return sweep_fail_at(e, GROK_EINVAL, L, el, "axis %s: value %d is not finite",
                                     a->key, i + 1);
            sweep_fmt_double(buf, sizeof buf, x);
            break;
        }
        case SWEEP_STRING: {
            const char *str = config_setting_get_string(el);
            if (!str[0] || strlen(str) >= sizeof buf || strpbrk(str, "\t\n\r"))
                return sweep_fail_at(e, GROK_EINVAL, L, el,
                                     "axis %s: value %d \"%.40s\": strings must be 1 to 255 "
                                     "characters without tabs or newlines",
                                     a->key, i + 1, str);
            snprintf(buf, sizeof buf, "%s", str);
            break;
        }
        case SWEEP_BOOL:
            snprintf(buf, sizeof buf, "%s", config_setting_get_bool(el) ? "true" : "false");
            break;
        }
        int rc = sweep_axis_add(a, buf);
        if (rc == GROK_EINVAL)
            return sweep_fail_at(e, rc, L, vs, "axis %s: more than %d values", a->key,
                                 SWEEP_VALUES_MAX);
        if (rc != GROK_OK)
            return grok_fail(e, rc, "out of memory");
    }
    return GROK_OK;
}

/* A number member of an axis group: *present, *is_int, the value. */
static int sweep_axis_num(const sweep_loader *L, const sweep_axis *a, const config_setting_t *g,
                          const char *name, int *present, int *is_int, double *x, long long *ix,
                          grok_err *e)
{
    const config_setting_t *st = config_setting_get_member(g, name);
    *present = st != NULL;
    *is_int = 0;
    if (!st)
        return GROK_OK;
    int t = config_setting_type(st);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
        *is_int = 1;
        *ix = config_setting_get_int64(st);
        *x = (double)*ix;
    } else if (t == CONFIG_TYPE_FLOAT) {
        *x = config_setting_get_float(st);
        if (!isfinite(*x))
            return sweep_fail_at(e, GROK_EINVAL, L, st, "axis %s: %s is not finite", a->key, name);
    } else {
        return sweep_fail_at(e, GROK_EINVAL, L, st, "axis %s: %s is %s; expected a number",
                             a->key, name, sweep_type_name(t));
    }
    return GROK_OK;
}

/* Reads a range: from, to, and step or n, with log. */
static int sweep_axis_range(const sweep_loader *L, sweep_axis *a, const config_setting_t *g,
                            grok_err *e)
{
    int has_from, has_to, has_step, has_n, i_from, i_to, i_step, i_n;
    double from = 0, to = 0, step = 0, dn = 0;
    long long ifrom = 0, ito = 0, istep = 0, in = 0;
    int rc;
    if ((rc = sweep_axis_num(L, a, g, "from", &has_from, &i_from, &from, &ifrom, e)) != GROK_OK ||
        (rc = sweep_axis_num(L, a, g, "to", &has_to, &i_to, &to, &ito, e)) != GROK_OK ||
        (rc = sweep_axis_num(L, a, g, "step", &has_step, &i_step, &step, &istep, e)) != GROK_OK ||
        (rc = sweep_axis_num(L, a, g, "n", &has_n, &i_n, &dn, &in, e)) != GROK_OK)
        return rc;
    const config_setting_t *lg = config_setting_get_member(g, "log");
    if (!has_from || !has_to)
        return sweep_fail_at(e, GROK_EINVAL, L, g,
                             "axis %s: a range needs both from and to (or give values = [...])",
                             a->key);
    if (has_step && has_n)
        return sweep_fail_at(e, GROK_EINVAL, L, g, "axis %s: give step or n, not both", a->key);
    if (has_n && (!i_n || in < 1 || in > SWEEP_VALUES_MAX))
        return sweep_fail_at(e, GROK_EINVAL, L, config_setting_get_member(g, "n"),
                             "axis %s: n = %g: expected a whole number from 1 to %d", a->key, dn,
                             SWEEP_VALUES_MAX);
    if (has_n && in == 1 && from != to)
        return sweep_fail_at(e, GROK_EINVAL, L, g,
                             "axis %s: n = 1 but from = %g and to = %g differ; n counts the "
                             "values, endpoints included",
                             a->key, from, to);
    if (a->log) {
        if (!has_n)
            return sweep_fail_at(e, GROK_EINVAL, L, lg,
                                 "axis %s: log = true needs n (the number of values), not step",
                                 a->key);
        if (!(from > 0) || !(to > 0))
            return sweep_fail_at(e, GROK_EINVAL, L, g,
                                 "axis %s: log spacing needs from > 0 and to > 0 (from = %g, to = "
                                 "%g)",
                                 a->key, from, to);
    }
    int ints = i_from && i_to && (!has_step || i_step);
    char buf[64];
    if (!has_n) { /* from, to, step (default 1 for integers) */
        if (!has_step && !ints)
            return sweep_fail_at(e, GROK_EINVAL, L, g,
                                 "axis %s: a range of floats needs step or n", a->key);
        if (!has_step) {
            istep = 1;
            step = 1;
        }
        if (step == 0 || (to - from) / step < 0)
            return sweep_fail_at(e, GROK_EINVAL, L, g,
                                 "axis %s: step = %g never goes from %g to %g", a->key, step,
                                 from, to);
        double count = floor((to - from) / step * (1 + 1e-12) + 1e-9) + 1;
        if (count > SWEEP_VALUES_MAX)
            return sweep_fail_at(e, GROK_EINVAL, L, g, "axis %s: %.0f values, more than %d",
                                 a->key, count, SWEEP_VALUES_MAX);
        a->type = ints ? SWEEP_INT : SWEEP_FLOAT;
        for (long k = 0; k < (long)count; k++) {
            if (ints)
                snprintf(buf, sizeof buf, "%lld", ifrom + k * istep);
            else
                sweep_fmt_double(buf, sizeof buf, sweep_round12(from + (double)k * step));
            if ((rc = sweep_axis_add(a, buf)) != GROK_OK)
                return grok_fail(e, rc, "out of memory");
        }
        return GROK_OK;
    }
    a->type = ints ? SWEEP_INT : SWEEP_FLOAT;
    for (long long k = 0; k < in; k++) {
        double t = in == 1 ? 0.0 : (double)k / (double)(in - 1);
        double x = a->log ? from * pow(to / from, t) : from + t * (to - from);
        if (k == in - 1)
            x = to;
        if (ints) {
            snprintf(buf, sizeof buf, "%lld", (long long)llround(x));
            for (int j = 0; j < a->n; j++)
                if (strcmp(a->value[j], buf) == 0)
                    return sweep_fail_at(e, GROK_EINVAL, L, g,
                                         "axis %s: from and to are integers, so the %lld values "
                                         "are rounded to integers, and %s comes twice; write from "
                                         "= %g.0 for real values or lower n",
                                         a->key, in, buf, from);
        } else {
            sweep_fmt_double(buf, sizeof buf, sweep_round12(x));
        }
        if ((rc = sweep_axis_add(a, buf)) != GROK_OK)
            return grok_fail(e, rc, "out of memory");
    }
    return GROK_OK;
}

/* Reads one axis group and checks every value against the base config. */
static int sweep_read_axis(const sweep_loader *L, const config_setting_t *g, int index,
                           grok_err *e)
{
    sweep_spec *s = L->s;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return sweep_fail_at(e, GROK_EINVAL, L, g,
                             "axes: element %d is %s; expected a group such as { key = "
                             "\"task.frac_train\"; values = [0.3, 0.5]; }",
                             index + 1, sweep_type_name(config_setting_type(g)));
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *st = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(st);
        static const char *const ok[] = {"key", "name", "values", "from", "to", "step", "n", "log"};
        int found = 0;
        for (size_t j = 0; j < sizeof ok / sizeof ok[0]; j++)
            found |= strcmp(nm, ok[j]) == 0;
        if (!found)
            return sweep_fail_at(e, GROK_EINVAL, L, st,
                                 "axes: unknown key '%s' in axis %d; valid: %s", nm, index + 1,
                                 sweep_axis_keys);
    }
    const char *key, *label;
    int rc;
    if ((rc = sweep_get_string(L, g, "axes: ", "key", &key, e)) != GROK_OK ||
        (rc = sweep_get_string(L, g, "axes: ", "name", &label, e)) != GROK_OK)
        return rc;
    if (!key || !key[0])
        return sweep_fail_at(e, GROK_EINVAL, L, g,
                             "axes: axis %d has no key; give the experiment key it varies, e.g. "
                             "key = \"task.frac_train\" (grok help config lists them)",
                             index + 1);
    if (strlen(key) >= SWEEP_KEY_MAX)
        return sweep_fail_at(e, GROK_EINVAL, L, g, "axes: key '%.80s' is too long", key);
    for (int k = 0; k < s->n_axes; k++)
        if (strcmp(s->axes[k].key, key) == 0)
            return sweep_fail_at(e, GROK_EINVAL, L, g,
                                 "axes: key '%s' has two axes (lines %d and %d); merge their "
                                 "values into one",
                                 key, s->axes[k].line, config_setting_source_line(g));
    if (s->n_axes >= SWEEP_AXES_MAX)
        return sweep_fail_at(e, GROK_EINVAL, L, g, "axes: more than %d axes", SWEEP_AXES_MAX);
    sweep_axis *a = &s->axes[s->n_axes++];
    memset(a, 0, sizeof *a);
    snprintf(a->key, sizeof a->key, "%s", key);
    a->line = config_setting_source_line(g);
    if (label) {
        if (!label[0] || strlen(label) >= SWEEP_KEY_MAX)
            return sweep_fail_at(e, GROK_EINVAL, L, g, "axis %s: name must be 1 to %d characters",
                                 key, SWEEP_KEY_MAX - 1);
        snprintf(a->label, sizeof a->label, "%s", label);
    } else {
        const char *dot = strrchr(key, '.');
        snprintf(a->label, sizeof a->label, "%s", dot ? dot + 1 : key);
    }
    for (const char *p = a->label; *p; p++)
        if (!sweep_name_char(*p))
            return sweep_fail_at(e, GROK_EINVAL, L, g,
                                 "axis %s: name '%s': use letters, digits and . _ + - only (it "
                                 "goes into directory names)",
                                 key, a->label);
    for (int k = 0; k < s->n_axes - 1; k++)
        if (strcmp(s->axes[k].label, a->label) == 0)
            return sweep_fail_at(e, GROK_EINVAL, L, g,
                                 "axis %s: name '%s' is also axis %s's; give one of them "
                                 "name = \"...\"",
                                 key, a->label, s->axes[k].key);

    /* log: the spacing of a range; with values, a hint for the figures */
    const config_setting_t *lg = config_setting_get_member(g, "log");
    if (lg && config_setting_type(lg) != CONFIG_TYPE_BOOL)
        return sweep_fail_at(e, GROK_EINVAL, L, lg, "axis %s: log is %s; expected true or false",
                             key, sweep_type_name(config_setting_type(lg)));
    a->log = lg ? config_setting_get_bool(lg) : 0;
    const config_setting_t *vs = config_setting_get_member(g, "values");
    int has_range = config_setting_get_member(g, "from") || config_setting_get_member(g, "to") ||
                    config_setting_get_member(g, "step") || config_setting_get_member(g, "n");
    if (vs && has_range)
        return sweep_fail_at(e, GROK_EINVAL, L, g,
                             "axis %s: give either values = [...] or a range (from, to, and step "
                             "or n), not both",
                             key);
    if (!vs && !has_range)
        return sweep_fail_at(e, GROK_EINVAL, L, g,
                             "axis %s: no values; give values = [...] or a range: from, to, and "
                             "step or n (log = true for log spacing)",
                             key);
    rc = vs ? sweep_axis_values(L, a, vs, e) : sweep_axis_range(L, a, g, e);
    if (rc != GROK_OK)
        return rc;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(a->value[i], a->value[j]) == 0)
                return sweep_fail_at(e, GROK_EINVAL, L, g, "axis %s: value %s comes twice", key,
                                     a->value[i]);
    /* Each value must be valid for its key on its own. */
    for (int i = 0; i < a->n; i++) {
        cfg_run c = s->base;
        sbuf t;
        sbuf_init(&t);
        sbuf_printf(&t, "%s=", key);
        sweep_set_text(&t, a, i);
        grok_err e2 = {{0}};
        rc = t.oom ? GROK_ENOMEM : cfg_set(&c, t.data, &e2);
        sbuf_free(&t);
        if (rc != GROK_OK)
            return sweep_fail_at(e, rc, L, g, "axis %s: %s", key, sweep_strip(&e2, "--set: "));
    }
    return GROK_OK;
}

static int sweep_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every point's name is distinct and its config passes cfg_check. */
static int sweep_check_points(const sweep_loader *L, grok_err *e)
{
    const sweep_spec *s = L->s;
    char **names = calloc((size_t)s->n_points, sizeof *names);
    if (!names)
        return grok_fail(e, GROK_ENOMEM, "out of memory for %ld point names", s->n_points);
    int rc = GROK_OK;
    for (long i = 0; i < s->n_points && rc == GROK_OK; i++) {
        char name[SWEEP_PATH_MAX];
        if (sweep_point_name(s, i, name, sizeof name) != GROK_OK) {
            rc = grok_fail(e, GROK_EINVAL, "%s: point %ld: its name is too long", L->file, i);
            break;
        }
        names[i] = strdup(name);
        if (!names[i]) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
            break;
        }
        cfg_run c;
        grok_err e2 = {{0}};
        if (sweep_point_config(s, i, &c, &e2) != GROK_OK)
            rc = grok_fail(e, GROK_EINVAL, "%s: point %ld (%s): %s", L->file, i, name,
                           sweep_strip(&e2, "<config>: "));
    }
    if (rc == GROK_OK) {
        qsort(names, (size_t)s->n_points, sizeof *names, sweep_name_cmp);
        for (long i = 1; i < s->n_points && rc == GROK_OK; i++)
            if (strcmp(names[i], names[i - 1]) == 0)
                rc = grok_fail(e, GROK_EINVAL,
                               "%s: two points are both named '%s' (values that differ only in "
                               "characters a directory name cannot hold); change the values",
                               L->file, names[i]);
    }
    for (long i = 0; i < s->n_points; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int sweep_read_plots(const sweep_loader *L, const config_setting_t *g, grok_err *e)
{
    sweep_spec *s = L->s;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return sweep_fail_at(e, GROK_EINVAL, L, g, "plots is %s; expected a group { %s }",
                             sweep_type_name(config_setting_type(g)), sweep_plots_keys);
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *st = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(st);
        if (strcmp(nm, "formats") && strcmp(nm, "x") && strcmp(nm, "y"))
            return sweep_fail_at(e, GROK_EINVAL, L, st, "plots: unknown key '%s'; valid: %s", nm,
                                 sweep_plots_keys);
    }
    const char *f, *x, *y;
    int rc;
    if ((rc = sweep_get_string(L, g, "plots.", "formats", &f, e)) != GROK_OK ||
        (rc = sweep_get_string(L, g, "plots.", "x", &x, e)) != GROK_OK ||
        (rc = sweep_get_string(L, g, "plots.", "y", &y, e)) != GROK_OK)
        return rc;
    if (f) {
        unsigned mask;
        grok_err e2 = {{0}};
        if (strlen(f) >= sizeof s->formats || plot_parse_formats(f, &mask, &e2) != GROK_OK)
            return sweep_fail_at(e, GROK_EINVAL, L, config_setting_get_member(g, "formats"),
                                 "plots.formats = \"%.60s\": %s", f,
                                 e2.msg[0] ? e2.msg : "too long");
        snprintf(s->formats, sizeof s->formats, "%s", f);
    }
    const char *xy[2] = {x, y};
    char *dst[2] = {s->plot_x, s->plot_y};
    for (int k = 0; k < 2; k++) {
        if (!xy[k] || !xy[k][0])
            continue;
        int found = 0;
        for (int j = 0; j < s->n_axes; j++)
            found |= strcmp(s->axes[j].key, xy[k]) == 0;
        if (!found) {
            sbuf keys;
            sbuf_init(&keys);
            for (int j = 0; j < s->n_axes; j++)
                sbuf_printf(&keys, "%s%s", j ? ", " : "", s->axes[j].key);
            rc = sweep_fail_at(e, GROK_EINVAL, L, config_setting_get_member(g, k ? "y" : "x"),
                               "plots.%s = \"%s\" is not an axis key; valid: %s", k ? "y" : "x",
                               xy[k], keys.data ? keys.data : "");
            sbuf_free(&keys);
            return rc;
        }
        snprintf(dst[k], SWEEP_KEY_MAX, "%s", xy[k]);
    }
    return GROK_OK;
}

void sweep_spec_free(sweep_spec *s)
{
    for (int k = 0; k < s->n_axes; k++) {
        for (int i = 0; i < s->axes[k].n; i++)
            free(s->axes[k].value[i]);
        free(s->axes[k].value);
        s->axes[k].value = NULL;
        s->axes[k].n = 0;
    }
    s->n_axes = 0;
}

int sweep_load(sweep_spec *s, const char *path, grok_err *e)
{
    memset(s, 0, sizeof *s);
    snprintf(s->formats, sizeof s->formats, "png");
    if (strlen(path) >= sizeof s->path)
        return grok_fail(e, GROK_EINVAL, "sweep config path too long: '%.80s...'", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    sweep_loader L = {s, path};
    struct stat stt;
    if (stat(path, &stt) != 0)
        return grok_fail(e, GROK_EIO, "cannot read sweep config '%s': %s", path, strerror(errno));
    if (S_ISDIR(stt.st_mode))
        return grok_fail(e, GROK_EINVAL,
                         "'%s' is a directory without sweep.cfg; give a sweep config file", path);

    /* The file's directory: for @include and for base. */
    char dir[SWEEP_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");

    config_t cf;
    config_init(&cf);
    config_set_include_dir(&cf, dir);
    int rc = GROK_OK;
    if (!config_read_file(&cf, path)) {
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            rc = grok_fail(e, GROK_EIO, "cannot read sweep config '%s': %s", path,
                           config_error_text(&cf));
        else
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: %s", config_error_file(&cf)
                                                            ? config_error_file(&cf)
                                                            : path,
                           config_error_line(&cf), config_error_text(&cf));
        config_destroy(&cf);
        return rc;
    }
    const config_setting_t *root = config_root_setting(&cf);
    int n = config_setting_length(root);
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        const config_setting_t *st = config_setting_get_elem(root, (unsigned)i);
        const char *nm = config_setting_name(st);
        static const char *const ok[] = {"name", "base", "set", "axes", "out", "plots"};
        int found = 0;
        for (size_t j = 0; j < sizeof ok / sizeof ok[0]; j++)
            found |= strcmp(nm, ok[j]) == 0;
        if (!found) {
            const char *hint = "";
            if (strcmp(nm, "task") == 0 || strcmp(nm, "model") == 0 || strcmp(nm, "optim") == 0 ||
                strcmp(nm, "train") == 0 || strcmp(nm, "checkpoint") == 0 ||
                strcmp(nm, "measures") == 0 || strcmp(nm, "seed") == 0)
                hint = " (experiment keys go inside set = { ... })";
            rc = sweep_fail_at(e, GROK_EINVAL, &L, st, "unknown key '%s'%s; valid: %s", nm, hint,
                               sweep_top_keys);
        }
    }
    const char *name = NULL, *base = NULL, *out = NULL;
    if (rc == GROK_OK && (rc = sweep_get_string(&L, root, "", "name", &name, e)) == GROK_OK &&
        (rc = sweep_get_string(&L, root, "", "base", &base, e)) == GROK_OK)
        rc = sweep_get_string(&L, root, "", "out", &out, e);
    if (rc == GROK_OK) {
        if (name) {
            int ok = name[0] && strlen(name) < sizeof s->name;
            for (const char *p = name; *p && ok; p++)
                ok = sweep_name_char(*p);
            if (!ok)
                rc = sweep_fail_at(e, GROK_EINVAL, &L, config_setting_get_member(root, "name"),
                                   "name = \"%.60s\": use 1 to %zu letters, digits and . _ + -",
                                   name, sizeof s->name - 1);
            else
                snprintf(s->name, sizeof s->name, "%s", name);
        } else {
            const char *b = strrchr(path, '/');
            snprintf(s->name, sizeof s->name, "%s", b ? b + 1 : path);
            char *dot = strrchr(s->name, '.');
            if (dot && dot != s->name)
                *dot = '\0';
        }
    }
    if (rc == GROK_OK && out) {
        if (!out[0] || strlen(out) >= sizeof s->out)
            rc = sweep_fail_at(e, GROK_EINVAL, &L, config_setting_get_member(root, "out"),
                               "out: expected a directory path");
        else
            snprintf(s->out, sizeof s->out, "%s", out);
    }
    /* The base experiment, then `set`. */
    if (rc == GROK_OK) {
        char bpath[SWEEP_PATH_MAX];
        grok_err e2 = {{0}};
        int brc = GROK_OK;
        if (base && base[0] != '/')
            brc = sweep_join(bpath, sizeof bpath, dir, base, &e2);
        else if (base)
            snprintf(bpath, sizeof bpath, "%.4095s", base);
        if (brc == GROK_OK)
            brc = cfg_load(&s->base, base ? bpath : NULL, NULL, 0, &e2);
        if (brc != GROK_OK)
            rc = sweep_fail_at(e, brc == GROK_EIO ? GROK_EIO : GROK_EINVAL, &L,
                               config_setting_get_member(root, "base"), "base: %s", e2.msg);
    }
    const config_setting_t *set = config_setting_get_member(root, "set");
    if (rc == GROK_OK && set) {
        if (config_setting_type(set) != CONFIG_TYPE_GROUP)
            rc = sweep_fail_at(e, GROK_EINVAL, &L, set,
                               "set is %s; expected a group of experiment keys, e.g. set = { "
                               "task = { p = 53; }; }",
                               sweep_type_name(config_setting_type(set)));
        else
            rc = sweep_apply_set(&L, set, "", e);
    }
    const config_setting_t *axes = config_setting_get_member(root, "axes");
    if (rc == GROK_OK) {
        if (!axes) {
            rc = sweep_fail_at(e, GROK_EINVAL, &L, NULL,
                               "no axes; add axes = ( { key = \"task.frac_train\"; values = "
                               "[0.3, 0.5]; } );");
        } else if (config_setting_type(axes) != CONFIG_TYPE_LIST) {
            rc = sweep_fail_at(e, GROK_EINVAL, &L, axes,
                               "axes is %s; expected a list of groups: axes = ( { key = ...; "
                               "values = [...]; }, ... );",
                               sweep_type_name(config_setting_type(axes)));
        } else if (config_setting_length(axes) == 0) {
            rc = sweep_fail_at(e, GROK_EINVAL, &L, axes, "axes is empty; give at least one axis");
        } else {
            int na = config_setting_length(axes);
            for (int i = 0; i < na && rc == GROK_OK; i++)
                rc = sweep_read_axis(&L, config_setting_get_elem(axes, (unsigned)i), i, e);
        }
    }
    if (rc == GROK_OK) {
        double np = 1;
        for (int k = 0; k < s->n_axes; k++)
            np *= s->axes[k].n;
        if (np > SWEEP_POINTS_MAX)
            rc = sweep_fail_at(e, GROK_EINVAL, &L, axes, "%.0f points, more than %d", np,
                               SWEEP_POINTS_MAX);
        s->n_points = (long)np;
    }
    const config_setting_t *plots = config_setting_get_member(root, "plots");
    if (rc == GROK_OK && plots)
        rc = sweep_read_plots(&L, plots, e);
    if (rc == GROK_OK)
        rc = sweep_check_points(&L, e);
    config_destroy(&cf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* points */

int sweep_point_index(const sweep_spec *s, long i, int k)
{
    GROK_ASSERT(i >= 0 && i < s->n_points && k >= 0 && k < s->n_axes);
    long stride = 1;
    for (int j = s->n_axes - 1; j > k; j--)
        stride *= s->axes[j].n;
    return (int)((i / stride) % s->axes[k].n);
}

int sweep_point_name(const sweep_spec *s, long i, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        const char *v = a->value[sweep_point_index(s, i, k)];
        int w = snprintf(buf + len, n - len, "%s%s=", k ? "," : "", a->label);
        if (w < 0 || (size_t)w >= n - len)
            return GROK_EINVAL;
        len += (size_t)w;
        for (; *v; v++) {
            if (len + 1 >= n)
                return GROK_EINVAL;
            buf[len++] = sweep_name_char(*v) ? *v : '_';
        }
        buf[len] = '\0';
    }
    return GROK_OK;
}

int sweep_point_config(const sweep_spec *s, long i, cfg_run *c, grok_err *e)
{
    cfg_run t = s->base;
    for (int k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        sbuf b;
        sbuf_init(&b);
        sbuf_printf(&b, "%s=", a->key);
        sweep_set_text(&b, a, sweep_point_index(s, i, k));
        int rc = b.oom ? grok_fail(e, GROK_ENOMEM, "out of memory") : cfg_set(&t, b.data, e);
        sbuf_free(&b);
        if (rc != GROK_OK)
            return rc;
    }
    int rc = cfg_check(&t, e);
    if (rc != GROK_OK)
        return rc;
    cfg_fill_derived(&t);
    *c = t;
    return GROK_OK;
}

static const char *sweep_type_word(sweep_vtype t)
{
    switch (t) {
    case SWEEP_INT: return "integers";
    case SWEEP_FLOAT: return "floats";
    case SWEEP_STRING: return "strings";
    default: return "booleans";
    }
}

int sweep_format(const sweep_spec *s, sbuf *out)
{
    sbuf_printf(out,
                "# sweep.cfg: the resolved sweep '%s', written by grok sweep: base.cfg is its\n"
                "# base experiment with every key resolved, and each axis lists its values.\n"
                "# `grok sweep DIR` continues the sweep in this directory.\n\n",
                s->name);
    sbuf_puts(out, "name = ");
    sweep_cfg_string(out, s->name);
    sbuf_puts(out, ";\nbase = \"base.cfg\";\n\naxes = (\n");
    for (int k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        sbuf_puts(out, "  { key = ");
        sweep_cfg_string(out, a->key);
        sbuf_puts(out, "; name = ");
        sweep_cfg_string(out, a->label);
        sbuf_printf(out, ";%s  # %d %s\n    values = [", a->log ? " log = true;" : "", a->n,
                    sweep_type_word(a->type));
        for (int i = 0; i < a->n; i++) {
            if (i)
                sbuf_puts(out, i % 10 ? ", " : ",\n      ");
            switch (a->type) {
            case SWEEP_STRING: sweep_cfg_string(out, a->value[i]); break;
            case SWEEP_FLOAT: sweep_cfg_float_text(out, a->value[i]); break;
            case SWEEP_INT: {
                long long v = strtoll(a->value[i], NULL, 10);
                int wide = v > 2147483647LL || v < -2147483648LL; /* libconfig's int64 */
                sbuf_printf(out, "%s%s", a->value[i], wide ? "L" : "");
                break;
            }
            default: sbuf_puts(out, a->value[i]); break;
            }
        }
        sbuf_printf(out, "]; }%s\n", k + 1 < s->n_axes ? "," : "");
    }
    sbuf_puts(out, ");\n\nplots = { formats = ");
    sweep_cfg_string(out, s->formats);
    sbuf_puts(out, "; x = ");
    sweep_cfg_string(out, s->plot_x);
    sbuf_puts(out, "; y = ");
    sweep_cfg_string(out, s->plot_y);
    sbuf_puts(out, "; };\n");
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

int sweep_format_points(const sweep_spec *s, sbuf *out)
{
    sbuf_puts(out, "index\tname");
    for (int k = 0; k < s->n_axes; k++)
        sbuf_printf(out, "\t%s", s->axes[k].key);
    sbuf_puts(out, "\n");
    char name[SWEEP_PATH_MAX];
    for (long i = 0; i < s->n_points; i++) {
        if (sweep_point_name(s, i, name, sizeof name) != GROK_OK)
            return GROK_EINVAL;
        sbuf_printf(out, "%ld\t%s", i, name);
        for (int k = 0; k < s->n_axes; k++)
            sbuf_printf(out, "\t%s", s->axes[k].value[sweep_point_index(s, i, k)]);
        sbuf_puts(out, "\n");
    }
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

/* The first line where a and b differ, for messages. */
static void sweep_first_diff(const char *a, const char *b, char *buf, size_t n)
{
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    snprintf(buf, n, "line %d: '%.*s' vs '%.*s'", line, na > 150 ? 150 : na, la,
             nb > 150 ? 150 : nb, lb);
}

/* The "key=value" overrides of the resumable keys, from c. */
static int sweep_resumable_sets(const cfg_run *c, char sets[SWEEP_N_RESUMABLE][128])
{
    snprintf(sets[0], 128, "train.epochs=%ld", c->train.epochs);
    snprintf(sets[1], 128, "train.stop_test_acc=%.17g", c->train.stop_test_acc);
    snprintf(sets[2], 128, "train.eval_every=%ld", c->train.eval_every);
    snprintf(sets[3], 128, "checkpoint.every=%ld", c->checkpoint.every);
    snprintf(sets[4], 128, "checkpoint.every_early=%ld", c->checkpoint.every_early);
    snprintf(sets[5], 128, "checkpoint.early_until=%ld", c->checkpoint.early_until);
    snprintf(sets[6], 128, "measures.every=%ld", c->measures.every);
    snprintf(sets[7], 128, "plots.formats=\"%s\"", c->plots.formats);
    return SWEEP_N_RESUMABLE;
}

/* GROK_EINVAL when the run in pdir (started: it has a state) was trained
 * with a config that differs from c in a key a resume may not change. */
static int sweep_check_started(const char *pdir, const char *name, const cfg_run *c, grok_err *e)
{
    char path[SWEEP_PATH_MAX];
    int rc = sweep_join(path, sizeof path, pdir, RUNDIR_CONFIG, e);
    if (rc != GROK_OK)
        return rc;
    cfg_run old;
    grok_err e2 = {{0}};
    if (cfg_load(&old, path, NULL, 0, &e2) != GROK_OK)
        return grok_fail(e, GROK_EINVAL, "point %s: cannot read its config: %s", name, e2.msg);
    /* The keys a resume may change take the sweep's values. */
    old.train.epochs = c->train.epochs;
    old.train.stop_test_acc = c->train.stop_test_acc;
    old.train.eval_every = c->train.eval_every;
    old.checkpoint = c->checkpoint;
    old.measures = c->measures;
    old.plots = c->plots;
    sbuf a, b;
    sbuf_init(&a);
    sbuf_init(&b);
    cfg_format(&old, &a);
    cfg_format(c, &b);
    if (a.oom || b.oom) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
    } else if (strcmp(a.data, b.data) != 0) {
        char diff[400];
        sweep_first_diff(a.data, b.data, diff, sizeof diff);
        rc = grok_fail(e, GROK_EINVAL,
                       "point %s was started with another config (%s/config.cfg vs the sweep's, "
                       "%s); a started point may change only train.epochs, "
                       "train.stop_test_acc, train.eval_every, checkpoint.*, measures.every and "
                       "plots.formats. Give the sweep another --out directory",
                       name, pdir, diff);
    }
    sbuf_free(&a);
    sbuf_free(&b);
    return rc;
}

int sweep_prepare_dir(const sweep_spec *s, const char *dir, grok_err *e)
{
    char path[SWEEP_PATH_MAX];
    int rc = fileio_mkdir_p(dir, e);
    if (rc != GROK_OK)
        return rc;
    sbuf pts;
    sbuf_init(&pts);
    if ((rc = sweep_format_points(s, &pts)) != GROK_OK) {
        sbuf_free(&pts);
        return grok_fail(e, rc, "out of memory");
    }
    if ((rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_POINTS, e)) == GROK_OK &&
        fileio_exists(path)) {
        char *old = NULL;
        size_t n = 0;
        if ((rc = fileio_read_all(path, &old, &n, e)) == GROK_OK) {
            if (n != pts.len || memcmp(old, pts.data, n) != 0) {
                char diff[400];
                sweep_first_diff(old, pts.data, diff, sizeof diff);
                rc = grok_fail(e, GROK_EINVAL,
                               "'%s' holds another sweep: its points.tsv differs from this "
                               "sweep's points (%s); give another --out directory, or remove "
                               "'%s'",
                               dir, diff, dir);
            }
            free(old);
        }
    }
    /* Started points must be continuable with the sweep's configs. */
    for (long i = 0; i < s->n_points && rc == GROK_OK; i++) {
        char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX], st[SWEEP_PATH_MAX];
        if (sweep_point_name(s, i, name, sizeof name) != GROK_OK ||
            sweep_join(pdir, sizeof pdir, dir, name, e) != GROK_OK ||
            sweep_join(st, sizeof st, pdir, RUNDIR_STATE, e) != GROK_OK) {
            rc = grok_fail(e, GROK_EINVAL, "point %ld: path too long under '%s'", i, dir);
            break;
        }
        if (!fileio_exists(st))
            continue;
        cfg_run c;
        if ((rc = sweep_point_config(s, i, &c, e)) == GROK_OK)
            rc = sweep_check_started(pdir, name, &c, e);
    }
    if (rc == GROK_OK)
        rc = sweep_write_if_changed(path, &pts, e);
    sbuf_free(&pts);
    if (rc != GROK_OK)
        return rc;
    sbuf b;
    sbuf_init(&b);
    if ((rc = cfg_format(&s->base, &b)) != GROK_OK)
        rc = grok_fail(e, rc, "out of memory");
    else if ((rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_BASE, e)) == GROK_OK)
        rc = sweep_write_if_changed(path, &b, e);
    sbuf_clear(&b);
    if (rc == GROK_OK && (rc = sweep_format(s, &b)) != GROK_OK)
        rc = grok_fail(e, rc, "out of memory");
    else if (rc == GROK_OK &&
             (rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_CFG, e)) == GROK_OK)
        rc = sweep_write_if_changed(path, &b, e);
    sbuf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* a point's files */

/* A run's summary.json (root NULL when absent or not JSON). */
static rundir_summary sweep_read_summary(const char *pdir)
{
    rundir_summary s = {NULL};
    rundir_summary_read(&s, pdir, NULL);
    return s;
}

/* The summary's status, or "". */
static const char *sweep_status_of(const rundir_summary *s)
{
    const char *st = rundir_summary_str(s, "status");
    return st ? st : "";
}

static int sweep_final_status(const char *st)
{
    return strcmp(st, "finished") == 0 || strcmp(st, "stopped") == 0 ||
           strcmp(st, "diverged") == 0;
}

sweep_pt_state sweep_point_state(const char *pdir)
{
    rundir_summary sum = sweep_read_summary(pdir);
    if (!sum.root)
        return rundir_has(pdir, RUNDIR_CONFIG) ? SWEEP_PT_PARTIAL : SWEEP_PT_PENDING;
    const char *status = sweep_status_of(&sum);
    int done = sweep_final_status(status) &&
               (rundir_summary_get(&sum, "phases") || strcmp(status, "diverged") == 0);
    rundir_summary_free(&sum);
    return done ? SWEEP_PT_DONE : SWEEP_PT_PARTIAL;
}

/* 1 when pdir/config.cfg holds exactly cfg_format(c). */
static int sweep_same_config(const char *pdir, const cfg_run *c)
{
    char path[SWEEP_PATH_MAX];
    if (sweep_join(path, sizeof path, pdir, RUNDIR_CONFIG, NULL) != GROK_OK)
        return 0;
    char *old = NULL;
    size_t n = 0;
    if (!fileio_exists(path) || fileio_read_all(path, &old, &n, NULL) != GROK_OK)
        return 0;
    sbuf b;
    sbuf_init(&b);
    cfg_format(c, &b);
    int same = !b.oom && n == b.len && memcmp(old, b.data, n) == 0;
    sbuf_free(&b);
    free(old);
    return same;
}

/* The point needs no work: done, and with the sweep's config. */
static int sweep_point_done(const sweep_spec *s, const char *dir, long i)
{
    char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
    cfg_run c;
    if (sweep_point_name(s, i, name, sizeof name) != GROK_OK ||
        sweep_join(pdir, sizeof pdir, dir, name, NULL) != GROK_OK ||
        sweep_point_config(s, i, &c, NULL) != GROK_OK)
        return 0;
    return sweep_point_state(pdir) == SWEEP_PT_DONE && sweep_same_config(pdir, &c);
}

int sweep_run_point(const sweep_spec *s, const char *dir, long i, const blisarch_info *bi,
                    int quiet, int *skipped, grok_err *e)
{
    if (skipped)
        *skipped = 0;
    char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX], path[SWEEP_PATH_MAX];
    if (sweep_point_name(s, i, name, sizeof name) != GROK_OK)
        return grok_fail(e, GROK_EINVAL, "point %ld: name too long", i);
    int rc = sweep_join(pdir, sizeof pdir, dir, name, e);
    if (rc != GROK_OK)
        return rc;
    cfg_run c;
    if ((rc = sweep_point_config(s, i, &c, e)) != GROK_OK)
        return rc;
    sweep_pt_state st = sweep_point_state(pdir);
    int same = sweep_same_config(pdir, &c);
    if (st == SWEEP_PT_DONE && same) {
        if (skipped)
            *skipped = 1;
        return GROK_OK;
    }
    run_opts o = {.quiet = quiet, .blis = bi};
    if ((rc = sweep_join(path, sizeof path, pdir, RUNDIR_STATE, e)) != GROK_OK)
        return rc;
    if (fileio_exists(path)) {
        char sets[SWEEP_N_RESUMABLE][128];
        const char *ptr[SWEEP_N_RESUMABLE];
        int n = sweep_resumable_sets(&c, sets);
        for (int k = 0; k < n; k++)
            ptr[k] = sets[k];
        rc = run_resume(pdir, ptr, n, &o, e);
    } else if (same) {
        rc = run_resume(pdir, NULL, 0, &o, e); /* killed before its first commit */
    } else {
        rc = run_train(&c, pdir, &o, e);
    }
    rundir_summary sum = sweep_read_summary(pdir);
    char status[64];
    snprintf(status, sizeof status, "%s", sweep_status_of(&sum));
    int has_phases = rundir_summary_get(&sum, "phases") != NULL;
    rundir_summary_free(&sum);
    if (rc == GROK_EINVAL && strcmp(status, "diverged") == 0)
        return GROK_OK; /* a result: the table says diverged */
    if (rc != GROK_OK)
        return rc;
    /* Killed after the final commit but before the final measures: the
     * resume finds the run complete; the measures are still owed. */
    if (sweep_final_status(status) && strcmp(status, "diverged") != 0 && !has_phases)
        rc = run_remeasure(pdir, 1, 1, e);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the sweep table */

/* The sweep in dir (its sweep.cfg). */
static int sweep_load_dir(sweep_spec *s, const char *dir, grok_err *e)
{
    char path[SWEEP_PATH_MAX];
    int rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_CFG, e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path)) {
        memset(s, 0, sizeof *s);
        return grok_fail(e, GROK_EINVAL,
                         "'%s' is not a sweep directory: it has no sweep.cfg (grok sweep "
                         "SWEEP.cfg --out DIR makes one)",
                         dir);
    }
    return sweep_load(s, path, e);
}

/* A summary.json member as a table cell (rundir_summary_cell: numbers as
 * written, key_freqs as "14,35", null -> none). */
static void sweep_cell(sbuf *b, const rundir_summary *sum, const char *key)
{
    sbuf_puts(b, "\t");
    rundir_summary_cell(sum, key, b);
}

int sweep_summary(const char *dir, long *n_done, long *n_total, grok_err *e)
{
    sweep_spec s;
    int rc = sweep_load_dir(&s, dir, e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        return rc;
    }
    sbuf t, w;
    sbuf_init(&t);
    sbuf_init(&w);
    sbuf_puts(&t, "index\tname");
    for (int k = 0; k < s.n_axes; k++)
        sbuf_printf(&t, "\t%s", s.axes[k].key);
    sbuf_puts(&t, "\tstatus\tepochs_done\tepochs_total\tmemorised_epoch\tgrokked_epoch"
                  "\tmemorisation_end\tcircuit_formation_end\tcleanup_end"
                  "\tfinal_epoch\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\tkey_freqs\n");
    sbuf_puts(&w, "index\tname\tstatus\tepochs_done\twall_s\tms_per_epoch\tthreads\tblis_kernel\n");
    long done = 0;
    for (long i = 0; i < s.n_points; i++) {
        char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
        if (sweep_point_name(&s, i, name, sizeof name) != GROK_OK ||
            (rc = sweep_join(pdir, sizeof pdir, dir, name, e)) != GROK_OK) {
            rc = grok_fail(e, GROK_EINVAL, "point %ld: path too long", i);
            break;
        }
        sweep_pt_state st = sweep_point_state(pdir);
        rundir_summary sum = {NULL};
        if (st != SWEEP_PT_PENDING)
            sum = sweep_read_summary(pdir);
        const char *status = st == SWEEP_PT_DONE && sum.root ? sweep_status_of(&sum)
                             : sum.root || st == SWEEP_PT_PARTIAL ? "partial"
                                                                 : "pending";
        done += st == SWEEP_PT_DONE;
        sbuf_printf(&t, "%ld\t%s", i, name);
        for (int k = 0; k < s.n_axes; k++)
            sbuf_printf(&t, "\t%s", s.axes[k].value[sweep_point_index(&s, i, k)]);
        sbuf_printf(&t, "\t%s", status);
        static const char *const cells[] = {
            "epochs_done",      "epochs_total",           "memorised_epoch",
            "grokked_epoch",    "phases.memorisation_end", "phases.circuit_formation_end",
            "phases.cleanup_end", "final.epoch",           "final.train_loss",
            "final.test_loss",  "final.train_acc",        "final.test_acc",
            "key_freqs"};
        for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++)
            sweep_cell(&t, &sum, cells[k]);
        sbuf_puts(&t, "\n");

        sbuf_printf(&w, "%ld\t%s\t%s", i, name, status);
        sweep_cell(&w, &sum, "epochs_done");
        sweep_cell(&w, &sum, "wall_s");
        sweep_cell(&w, &sum, "ms_per_epoch");
        sweep_cell(&w, &sum, "threads");
        sweep_cell(&w, &sum, "blis_kernel");
        sbuf_puts(&w, "\n");
        rundir_summary_free(&sum);
    }
    char path[SWEEP_PATH_MAX];
    if (rc == GROK_OK && (t.oom || w.oom))
        rc = grok_fail(e, GROK_ENOMEM, "out of memory building the sweep table");
    if (rc == GROK_OK &&
        (rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_TABLE, e)) == GROK_OK)
        rc = fileio_write_atomic(path, t.data, t.len, e);
    if (rc == GROK_OK && (rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_TIME, e)) == GROK_OK)
        rc = fileio_write_atomic(path, w.data, w.len, e);
    if (n_done)
        *n_done = done;
    if (n_total)
        *n_total = s.n_points;
    sbuf_free(&t);
    sbuf_free(&w);
    sweep_spec_free(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the progress view */

/* 1 when a process holds a flock on the directory at path (the lock
 * run_train and run_resume hold while they run), read from /proc/locks so
 * that looking never takes the lock itself; 0 otherwise or when unknown. */
static int sweep_dir_locked(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    FILE *f = fopen("/proc/locks", "r");
    if (!f)
        return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        /* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (maybe "->" for waiters) */
        if (!strstr(line, "FLOCK"))
            continue;
        char *tok = strtok(line, " \t\n");
        while (tok) {
            unsigned maj, mnr;
            unsigned long long ino;
            char tail;
            if (sscanf(tok, "%x:%x:%llu%c", &maj, &mnr, &ino, &tail) == 3 &&
                ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) &&
                mnr == minor(st.st_dev))
                found = 1;
            tok = strtok(NULL, " \t\n");
        }
    }
    fclose(f);
    return found;
}

int sweep_status(const char *dir, sbuf *out, grok_err *e)
{
    sweep_spec s;
    int rc = sweep_load_dir(&s, dir, e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        return rc;
    }
    long done = 0, grokked = 0, dng = 0, diverged = 0, running = 0, started = 0, left = 0;
    double wall_done = 0, wall_part = 0, frac_part = 0, frac_running = 0;
    sbuf run_list;
    sbuf_init(&run_list);
    for (long i = 0; i < s.n_points; i++) {
        char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
        if (sweep_point_name(&s, i, name, sizeof name) != GROK_OK ||
            sweep_join(pdir, sizeof pdir, dir, name, NULL) != GROK_OK)
            continue;
        sweep_pt_state st = sweep_point_state(pdir);
        rundir_summary sum = {NULL};
        if (st != SWEEP_PT_PENDING)
            sum = sweep_read_summary(pdir);
        double wall = rundir_summary_num(&sum, "wall_s");
        double ed = rundir_summary_num(&sum, "epochs_done");
        double et = rundir_summary_num(&sum, "epochs_total");
        ed = isnan(ed) ? 0 : ed;
        et = isnan(et) ? 1 : et;
        double frac = et > 0 ? ed / et : 0;
        if (st == SWEEP_PT_DONE) {
            done++;
            wall_done += isfinite(wall) ? wall : 0;
            if (strcmp(sweep_status_of(&sum), "diverged") == 0)
                diverged++;
            else if (rundir_summary_epoch(&sum, "grokked_epoch") >= 0)
                grokked++;
            else
                dng++;
        } else if (sweep_dir_locked(pdir)) {
            running++;
            wall_part += isfinite(wall) ? wall : 0;
            frac_running += frac;
            if (running <= 8)
                sbuf_printf(&run_list, "%s    %s: epoch %.0f of %.0f\n", "", name, ed, et);
        } else if (st == SWEEP_PT_PARTIAL) {
            started++;
            wall_part += isfinite(wall) ? wall : 0;
            frac_part += frac;
        } else {
            left++;
        }
        rundir_summary_free(&sum);
    }
    char a[32], b[32];
    sbuf_printf(out, "sweep %s in %s: %ld points\n", s.name, dir, s.n_points);
    sbuf_printf(out, "  done     %6ld  (%ld grokked, %ld did not grok, %ld diverged)\n", done,
                grokked, dng, diverged);
    sbuf_printf(out, "  running  %6ld\n", running);
    if (run_list.len)
        sbuf_puts(out, run_list.data);
    if (running > 8)
        sbuf_printf(out, "    ... and %ld more\n", running - 8);
    sbuf_printf(out, "  started  %6ld  (not running now; the next grok sweep resumes them)\n",
                started);
    sbuf_printf(out, "  left     %6ld\n", left);
    sweep_fmt_duration(a, sizeof a, wall_done + wall_part);
    sbuf_printf(out, "  compute  %s so far", a);
    if (done > 0) {
        double mean = wall_done / (double)done;
        /* a point's remaining share: 1 when left, 1 - epochs_done/epochs when started */
        double work = mean * ((double)left + ((double)started - frac_part) +
                              ((double)running - frac_running));
        sweep_fmt_duration(b, sizeof b, mean);
        sbuf_printf(out, "; %s per finished point", b);
        if (running > 0) {
            sweep_fmt_duration(a, sizeof a, work / (double)running);
            sbuf_printf(out, "; about %s left at %ld running", a, running);
        } else if (left + started > 0) {
            sweep_fmt_duration(a, sizeof a, work);
            sbuf_printf(out, "; %s of work left (divide by the workers)", a);
        }
    }
    sbuf_puts(out, "\n");
    sbuf_free(&run_list);
    sweep_spec_free(&s);
    return out->oom ? grok_fail(e, GROK_ENOMEM, "out of memory") : GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* running */

typedef struct {
    const sweep_spec *s;
    const char *dir;
    blisarch_info *bi;
    int quiet;      /* no progress lines from the runs themselves */
    int tty;        /* stderr is a terminal: the progress line is redrawn */
    int line_open;  /* a \r progress line is on screen */
    const char *tag; /* "" or "rank 1/4: " */
    double t0;
    long n_total;   /* points in the sweep */
    long n_done;    /* done, counting those done before this session */
    long n_failed;
    long n_ran;     /* points run by this process */
    double sum_dur; /* seconds of the points run to completion here */
} sweep_exec;

static void sweep_line_clear(sweep_exec *x)
{
    if (x->line_open) {
        fputs("\r\033[K", stderr);
        x->line_open = 0;
    }
}

/* One line about point i that just ended after dur seconds. */
static void sweep_report_point(sweep_exec *x, long i, double dur, int ok)
{
    char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX], what[256];
    if (sweep_point_name(x->s, i, name, sizeof name) != GROK_OK ||
        sweep_join(pdir, sizeof pdir, x->dir, name, NULL) != GROK_OK)
        return;
    rundir_summary sum = {NULL};
    if (ok)
        sum = sweep_read_summary(pdir);
    char status[64], g[32] = "null", m[32] = "null", ed[32] = "?";
    snprintf(status, sizeof status, "%s", sweep_status_of(&sum));
    long gv = rundir_summary_epoch(&sum, "grokked_epoch");
    long mv = rundir_summary_epoch(&sum, "memorised_epoch");
    long ev = rundir_summary_epoch(&sum, "epochs_done");
    if (gv >= 0)
        snprintf(g, sizeof g, "%ld", gv);
    if (mv >= 0)
        snprintf(m, sizeof m, "%ld", mv);
    if (ev >= 0)
        snprintf(ed, sizeof ed, "%ld", ev);
    rundir_summary_free(&sum);
    if (!ok)
        snprintf(what, sizeof what, "FAILED (see the message above)");
    else if (strcmp(status, "diverged") == 0)
        snprintf(what, sizeof what, "diverged at epoch %s", ed);
    else if (strcmp(g, "null") != 0)
        snprintf(what, sizeof what, "grokked at epoch %s (memorised at %s)", g, m);
    else if (strcmp(m, "null") != 0)
        snprintf(what, sizeof what, "memorised at %s, did not grok in %s epochs", m, ed);
    else
        snprintf(what, sizeof what, "neither memorised nor grokked in %s epochs", ed);
    char d[32];
    sweep_fmt_duration(d, sizeof d, dur);
    sweep_line_clear(x);
    fprintf(stderr, "grok: sweep: %s[%ld/%ld] %s: %s; %s\n", x->tag, x->n_done, x->n_total, name,
            what, d);
}

/* The progress line: done, running, left, time left. */
static void sweep_progress(sweep_exec *x, long running, long left, int jobs)
{
    char el[32], eta[32] = "?";
    double now = sweep_now();
    sweep_fmt_duration(el, sizeof el, now - x->t0);
    if (x->n_ran > 0 && jobs > 0)
        sweep_fmt_duration(eta, sizeof eta,
                           x->sum_dur / (double)x->n_ran * ((double)left + 0.5 * (double)running) /
                               (double)jobs);
    sweep_line_clear(x);
    fprintf(stderr,
            "%ssweep %s: %s%ld/%ld done, %ld running, %ld left; %s elapsed, about %s left%s",
            x->tty ? "" : "grok: ", x->s->name, x->tag, x->n_done, x->n_total, running, left, el,
            eta, x->tty ? "" : "\n");
    x->line_open = x->tty;
}

static void sweep_child(const sweep_exec *x, long i, pid_t parent)
{
#ifdef __linux__
    /* The child dies with the parent: a killed sweep leaves no run behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
#else
    (void)parent;
#endif
    blisarch_start(x->bi, 1);
    grok_err e = {{0}};
    int rc = sweep_run_point(x->s, x->dir, i, x->bi, 1, NULL, &e);
    if (rc != GROK_OK) {
        char name[SWEEP_PATH_MAX] = "?";
        sweep_point_name(x->s, i, name, sizeof name);
        fprintf(stderr, "\ngrok: sweep: point %ld (%s): %s\n", i, name, e.msg);
    }
    _exit(rc == GROK_OK ? 0 : rc == GROK_EINVAL ? 2 : 1);
}

/* The local pool: one forked process per point of todo, at most jobs at a
 * time.  The parent never initialises BLIS or OpenMP, so forking is safe. */
static int sweep_pool(sweep_exec *x, const long *todo, long n_todo, int jobs)
{
    if (jobs > n_todo)
        jobs = (int)n_todo;
    if (jobs < 1)
        return GROK_OK;
    pid_t *pid = calloc((size_t)jobs, sizeof *pid);
    long *idx = calloc((size_t)jobs, sizeof *idx);
    double *t_start = calloc((size_t)jobs, sizeof *t_start);
    if (!pid || !idx || !t_start) {
        free(pid);
        free(idx);
        free(t_start);
        fprintf(stderr, "grok: sweep: out of memory\n");
        return GROK_ENOMEM;
    }
    pid_t parent = getpid();
    long next = 0;
    int n_run = 0, rc = GROK_OK;
    double last_line = sweep_now();
    int shown = 0;
    while ((next < n_todo && rc == GROK_OK) || n_run > 0) {
        while (rc == GROK_OK && n_run < jobs && next < n_todo) {
            fflush(stdout);
            fflush(stderr);
            pid_t p = fork();
            if (p < 0) {
                sweep_line_clear(x);
                fprintf(stderr, "grok: sweep: fork: %s\n", strerror(errno));
                rc = GROK_EIO;
                break;
            }
            if (p == 0)
                sweep_child(x, todo[next], parent);
            int slot = 0;
            while (pid[slot] != 0)
                slot++;
            pid[slot] = p;
            idx[slot] = todo[next];
            t_start[slot] = sweep_now();
            next++;
            n_run++;
        }
        if (!shown) { /* the first workers are running */
            sweep_progress(x, n_run, n_todo - next, jobs);
            shown = 1;
        }
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p == 0) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            double now = sweep_now();
            if (now - last_line >= (x->tty ? 1.0 : 30.0)) {
                sweep_progress(x, n_run, n_todo - next, jobs);
                last_line = now;
            }
            continue;
        }
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int slot = -1;
        for (int k = 0; k < jobs; k++)
            if (pid[k] == p)
                slot = k;
        if (slot < 0)
            continue;
        pid[slot] = 0;
        n_run--;
        double dur = sweep_now() - t_start[slot];
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok) {
            x->n_done++;
            x->n_ran++;
            x->sum_dur += dur;
        } else {
            x->n_failed++;
            if (WIFSIGNALED(status)) {
                sweep_line_clear(x);
                fprintf(stderr, "grok: sweep: point %ld: killed by signal %d\n", idx[slot],
                        WTERMSIG(status));
            }
        }
        sweep_report_point(x, idx[slot], dur, ok);
        sweep_progress(x, n_run, n_todo - next, jobs);
        last_line = sweep_now();
    }
    sweep_line_clear(x);
    free(pid);
    free(idx);
    free(t_start);
    return rc;
}

/* Points one after another in this process (MPI ranks, array tasks). */
static void sweep_inproc(sweep_exec *x, const long *todo, long n_todo)
{
    blisarch_start(x->bi, 1);
    for (long k = 0; k < n_todo; k++) {
        double t = sweep_now();
        grok_err e = {{0}};
        int rc = sweep_run_point(x->s, x->dir, todo[k], x->bi, x->quiet, NULL, &e);
        double dur = sweep_now() - t;
        if (rc == GROK_OK) {
            x->n_done++;
            x->n_ran++;
            x->sum_dur += dur;
        } else {
            char name[SWEEP_PATH_MAX] = "?";
            sweep_point_name(x->s, todo[k], name, sizeof name);
            fprintf(stderr, "grok: sweep: %spoint %ld (%s): %s\n", x->tag, todo[k], name, e.msg);
            x->n_failed++;
        }
        sweep_report_point(x, todo[k], dur, rc == GROK_OK);
    }
}

/* The table, then (when draw) the figures; prints what it wrote.  Returns
 * the number of points done. */
static long sweep_finish_table(const sweep_spec *s, const char *dir, const char *formats, int draw,
                               int quiet, int *failed)
{
    long n_done = 0, n_total = 0;
    grok_err e = {{0}};
    int rc = sweep_summary(dir, &n_done, &n_total, &e);
    if (rc != GROK_OK) {
        fprintf(stderr, "grok: sweep: %s\n", e.msg);
        *failed = 1;
        return 0;
    }
    if (!quiet)
        fprintf(stderr, "grok: sweep: %s/sweep.tsv: %ld of %ld points done\n", dir, n_done,
                n_total);
    if (!draw || !formats[0])
        return n_done;
    int x_log = -1;
    const char *xkey = s->plot_x[0] ? s->plot_x : NULL;
    for (int k = 0; k < s->n_axes; k++)
        if (xkey && strcmp(s->axes[k].key, xkey) == 0)
            x_log = s->axes[k].log;
    sweep_plot_opts po = {xkey, s->plot_y[0] ? s->plot_y : NULL, x_log};
    sbuf notes;
    sbuf_init(&notes);
    rc = sweep_plot_dir(dir, formats, &po, &notes, &e);
    if (notes.len && !quiet)
        fprintf(stderr, "%s", notes.data);
    if (rc != GROK_OK)
        fprintf(stderr, "grok: sweep: figures: %s\n", e.msg); /* the runs are not at fault */
    sbuf_free(&notes);
    return n_done;
}

/* An exclusive lock on the sweep directory (blocking), for rewriting the
 * table from several processes; -1 when it cannot be taken. */
static int sweep_lock_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void sweep_unlock_dir(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* ------------------------------------------------------------------------ */
/* the command */

static int sweep_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int sweep_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("grok: sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", SWEEP_USAGE);
    va_end(ap);
    return 2;
}

static int sweep_exit_code(int rc)
{
    return rc == GROK_EINVAL ? 2 : 1;
}

typedef struct {
    const char *positional, *out, *summary, *status, *format;
    long jobs, array_task;
    int plan, quiet;
} sweep_args;

static int sweep_cmd_summary(const sweep_args *a)
{
    sweep_spec s;
    grok_err e = {{0}};
    int rc = sweep_load_dir(&s, a->summary, &e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        fprintf(stderr, "grok: sweep: %s\n", e.msg);
        return sweep_exit_code(rc);
    }
    if (a->format) {
        unsigned mask;
        if (plot_parse_formats(a->format, &mask, &e) != GROK_OK) {
            sweep_spec_free(&s);
            fprintf(stderr, "grok: sweep: --format: %s\n", e.msg);
            return 2;
        }
    }
    int failed = 0;
    sweep_finish_table(&s, a->summary, a->format ? a->format : s.formats, 1, a->quiet, &failed);
    sweep_spec_free(&s);
    return failed ? 1 : 0;
}

static int sweep_cmd_status(const sweep_args *a)
{
    sbuf out;
    sbuf_init(&out);
    grok_err e = {{0}};
    int rc = sweep_status(a->status, &out, &e);
    if (rc == GROK_OK)
        fputs(out.data ? out.data : "", stdout);
    else
        fprintf(stderr, "grok: sweep: %s\n", e.msg);
    sbuf_free(&out);
    return rc == GROK_OK ? 0 : sweep_exit_code(rc);
}

static int sweep_cmd_run(const sweep_args *a, int argc, char **argv, blisarch_info *bi)
{
    /* SWEEP.cfg, or a sweep directory to continue. */
    char cfg_path[SWEEP_PATH_MAX];
    const char *dir_arg = NULL;
    struct stat st;
    if (stat(a->positional, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (sweep_join(cfg_path, sizeof cfg_path, a->positional, RUNDIR_SWEEP_CFG, NULL) != GROK_OK)
            return sweep_usage_error("path too long: '%s'", a->positional);
        if (!fileio_exists(cfg_path)) {
            fprintf(stderr,
                    "grok: sweep: '%s' is a directory without sweep.cfg; give a sweep config "
                    "file or a sweep directory\n",
                    a->positional);
            return 2;
        }
        dir_arg = a->positional;
    } else {
        snprintf(cfg_path, sizeof cfg_path, "%s", a->positional);
    }
    sweep_spec s;
    grok_err e = {{0}};
    int rc = sweep_load(&s, cfg_path, &e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        fprintf(stderr, "grok: %s\n", e.msg);
        return sweep_exit_code(rc);
    }
    char dir[SWEEP_PATH_MAX];
    if (a->out)
        snprintf(dir, sizeof dir, "%s", a->out);
    else if (dir_arg)
        snprintf(dir, sizeof dir, "%s", dir_arg);
    else if (s.out[0])
        snprintf(dir, sizeof dir, "%s", s.out);
    else
        snprintf(dir, sizeof dir, "runs/%s", s.name);

    if (a->plan) {
        sbuf pts;
        sbuf_init(&pts);
        sweep_format_points(&s, &pts);
        printf("# sweep %s: %ld points into %s (SLURM: --array=0-%ld with --array-task "
               "$SLURM_ARRAY_TASK_ID)\n",
               s.name, s.n_points, dir, s.n_points - 1);
        fputs(pts.data ? pts.data : "", stdout);
        sbuf_free(&pts);
        sweep_spec_free(&s);
        return 0;
    }
    if (a->array_task >= s.n_points) {
        fprintf(stderr, "grok: sweep: --array-task %ld: the sweep has %ld points (0..%ld)\n",
                a->array_task, s.n_points, s.n_points - 1);
        sweep_spec_free(&s);
        return 2;
    }

    sweep_mpi_world w = {0, 1, 0};
    if (a->array_task < 0)
        sweep_mpi_init(&argc, &argv, &w);
    char tag[64] = "";
    if (w.size > 1)
        snprintf(tag, sizeof tag, "rank %d/%d: ", w.rank, w.size);

    /* The plan on disk: one writer under MPI, else each process (the same
     * bytes, each file written atomically and only when it changed). */
    rc = GROK_OK;
    if (!w.mpi || w.rank == 0)
        rc = sweep_prepare_dir(&s, dir, &e);
    if (w.mpi && sweep_mpi_sum(&w, rc != GROK_OK) > 0 && rc == GROK_OK) {
        rc = GROK_EINVAL; /* rank 0 said why */
        e.msg[0] = '\0';
    }
    if (rc != GROK_OK) {
        if (e.msg[0])
            fprintf(stderr, "grok: sweep: %s\n", e.msg);
        sweep_mpi_finalize(&w);
        sweep_spec_free(&s);
        return sweep_exit_code(rc);
    }

    sweep_exec x = {.s = &s, .dir = dir, .bi = bi, .quiet = a->quiet, .tag = tag,
                    .t0 = sweep_now(), .n_total = s.n_points};
    x.tty = isatty(fileno(stderr)) && w.size == 1 && a->array_task < 0;
    long *todo = calloc((size_t)s.n_points, sizeof *todo);
    if (!todo) {
        fprintf(stderr, "grok: sweep: out of memory\n");
        sweep_mpi_finalize(&w);
        sweep_spec_free(&s);
        return 1;
    }
    long n_todo = 0;
    if (a->array_task >= 0) {
        todo[n_todo++] = a->array_task;
    } else {
        for (long i = 0; i < s.n_points; i++) {
            if (sweep_point_done(&s, dir, i))
                x.n_done++;
            else if (i % w.size == w.rank)
                todo[n_todo++] = i;
        }
    }
    if (!a->quiet && a->array_task < 0) {
        char lib[160] = "";
        if (w.size > 1) {
            snprintf(lib, sizeof lib, " (ranks single-threaded; MPI: ");
            sweep_mpi_library(lib + strlen(lib), sizeof lib - strlen(lib) - 1);
            strcat(lib, ")");
        }
        fprintf(stderr,
                "grok: sweep: %s%s: %ld points in %s; %ld done already, %ld to run here%s\n", tag,
                s.name, s.n_points, dir, x.n_done, n_todo, lib);
    }

    long jobs = a->jobs;
    if (jobs <= 0)
        jobs = w.size > 1 || a->array_task >= 0 ? 1 : sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if (w.size == 1 && a->array_task < 0) {
        rc = sweep_pool(&x, todo, n_todo, (int)jobs);
    } else if (jobs > 1) {
        rc = sweep_pool(&x, todo, n_todo, (int)jobs); /* a pool per rank */
    } else {
        x.quiet = a->quiet || w.size > 1;
        sweep_inproc(&x, todo, n_todo);
    }
    free(todo);
    long failed = x.n_failed + (rc != GROK_OK);

    int table_failed = 0;
    if (w.mpi) {
        failed = sweep_mpi_sum(&w, failed); /* also waits for every rank */
        sweep_mpi_finalize(&w);
        if (w.rank == 0)
            sweep_finish_table(&s, dir, s.formats, 1, a->quiet, &table_failed);
    } else if (w.size > 1 || a->array_task >= 0) {
        /* No barrier: each process rewrites the table under the lock, so the
         * last to end leaves the complete one, and draws the figures. */
        int fd = sweep_lock_dir(dir);
        long n_done = 0, n_total = 0;
        grok_err e2 = {{0}};
        if (sweep_summary(dir, &n_done, &n_total, &e2) != GROK_OK) {
            fprintf(stderr, "grok: sweep: %s\n", e2.msg);
            table_failed = 1;
        } else if (n_done == n_total) {
            sweep_finish_table(&s, dir, s.formats, 1, a->quiet, &table_failed);
        }
        sweep_unlock_dir(fd);
    } else {
        sweep_finish_table(&s, dir, s.formats, 1, a->quiet, &table_failed);
    }
    if (!a->quiet && (w.rank == 0 || !w.mpi)) {
        char d[32];
        sweep_fmt_duration(d, sizeof d, sweep_now() - x.t0);
        fprintf(stderr, "grok: sweep: %s%s: %ld point%s run in %s%s", tag, s.name, x.n_ran,
                x.n_ran == 1 ? "" : "s", d, failed ? "" : "\n");
        if (failed)
            fprintf(stderr, "; %ld FAILED (their messages are above; run the sweep again to "
                            "retry them)\n",
                    failed);
    }
    sweep_spec_free(&s);
    return failed || table_failed ? 1 : 0;
}

int sweep_main(int argc, char **argv, blisarch_info *bi)
{
    sweep_args a = {.jobs = 0, .array_task = -1};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *arg = argv[i];
        int m;
        if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || !v[0])
                return sweep_usage_error("--out needs a directory");
            a.out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--jobs", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, 4096, &a.jobs) != 0)
                return sweep_usage_error("--jobs '%s': expected a whole number from 1 to 4096",
                                         m < 0 ? "" : v);
        } else if ((m = cli_opt(argc, argv, &i, "--array-task", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 0, SWEEP_POINTS_MAX - 1, &a.array_task) != 0)
                return sweep_usage_error("--array-task '%s': expected a point index from 0 "
                                         "(SLURM_ARRAY_TASK_ID)",
                                         m < 0 ? "" : v);
        } else if ((m = cli_opt(argc, argv, &i, "--summary", &v)) != 0) {
            if (m < 0 || !v[0])
                return sweep_usage_error("--summary needs a sweep directory");
            a.summary = v;
        } else if ((m = cli_opt(argc, argv, &i, "--status", &v)) != 0) {
            if (m < 0 || !v[0])
                return sweep_usage_error("--status needs a sweep directory");
            a.status = v;
        } else if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return sweep_usage_error("--format needs a list such as png,pdf");
            a.format = v;
        } else if (strcmp(arg, "--plan") == 0) {
            a.plan = 1;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a.quiet = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("usage: %s\n  %s\n", SWEEP_USAGE, SWEEP_ABOUT);
            return 0;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return sweep_usage_error("unknown option '%s'; valid: --out, --jobs, --array-task, "
                                     "--plan, --quiet, --summary, --status, --format",
                                     arg);
        } else if (a.positional) {
            return sweep_usage_error("unexpected argument '%s' (already have '%s')", arg,
                                     a.positional);
        } else {
            a.positional = arg;
        }
    }
    int modes = (a.summary != NULL) + (a.status != NULL) + (a.positional != NULL);
    if (modes != 1)
        return sweep_usage_error(modes ? "give one of SWEEP.cfg, --summary DIR, --status DIR"
                                       : "which sweep config?");
    if (a.summary)
        return a.out || a.jobs || a.array_task >= 0 || a.plan
                   ? sweep_usage_error("--summary takes only --format and --quiet")
                   : sweep_cmd_summary(&a);
    if (a.status)
        return a.out || a.jobs || a.array_task >= 0 || a.plan || a.format
                   ? sweep_usage_error("--status takes no other option")
                   : sweep_cmd_status(&a);
    if (a.format)
        return sweep_usage_error("--format goes with --summary; a sweep's own figure formats "
                                 "are its plots.formats");
    return sweep_cmd_run(&a, argc, argv, bi);
}
