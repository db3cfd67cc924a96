/* sweep_config.c: reading a sweep file (sweep.h: sweep_load,
 * sweep_spec_free): the top-level keys, the base experiment and its `set`
 * group, each axis (a list of values or a range), the plots group, and the
 * check of every point's config.  Messages name the file, the line and the
 * key. */
#include "sweep_internal.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plot.h"

static const char *const sweep_top_keys = "name, base, set, axes, out, plots, claim";
static const char *const sweep_axis_keys = "key, name, values, from, to, step, n, log";
static const char *const sweep_plots_keys = "formats, x, y";

/* ------------------------------------------------------------------------ */
/* small helpers */

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
void sweep_set_text(sbuf *b, const sweep_axis *a, int v)
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

    int rc = cfg_prescan_file(path, dir, e);
    if (rc != GROK_OK)
        return rc;
    config_t cf;
    config_init(&cf);
    config_set_include_dir(&cf, dir);
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
        static const char *const ok[] = {"name", "base", "set", "axes", "out", "plots", "claim"};
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
    /* claim: what a reproduction compares (experiments/reproduce.h reads it);
     * a sweep only checks that it is a group. */
    const config_setting_t *claim = config_setting_get_member(root, "claim");
    if (rc == GROK_OK && claim && config_setting_type(claim) != CONFIG_TYPE_GROUP)
        rc = sweep_fail_at(e, GROK_EINVAL, &L, claim,
                           "claim is %s; expected a group { paper = ...; says = ...; ... } "
                           "(docs/reproductions.md)",
                           sweep_type_name(config_setting_type(claim)));
    const config_setting_t *plots = config_setting_get_member(root, "plots");
    if (rc == GROK_OK && plots)
        rc = sweep_read_plots(&L, plots, e);
    if (rc == GROK_OK)
        rc = sweep_check_points(&L, e);
    config_destroy(&cf);
    return rc;
}

int sweep_apply_sets(sweep_spec *s, char *const *sets, int n, grok_err *e)
{
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(sets[i], '=');
        size_t klen = eq ? (size_t)(eq - sets[i]) : strlen(sets[i]);
        while (klen > 0 && sets[i][klen - 1] == ' ')
            klen--;
        for (int k = 0; k < s->n_axes; k++)
            if (strlen(s->axes[k].key) == klen && strncmp(s->axes[k].key, sets[i], klen) == 0)
                return grok_fail(e, GROK_EINVAL,
                                 "--set %s: %s is an axis of the sweep; its values come from "
                                 "the sweep file",
                                 sets[i], s->axes[k].key);
        grok_err e2 = {{0}};
        if (cfg_set(&s->base, sets[i], &e2) != GROK_OK)
            return grok_fail(e, GROK_EINVAL, "%s", e2.msg);
    }
    if (n == 0)
        return GROK_OK;
    sweep_loader L = {s, "--set"};
    return sweep_check_points(&L, e);
}
