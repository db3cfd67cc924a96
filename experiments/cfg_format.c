/* cfg_format.c: configs as text (cfg.h, cfg_internal.h): values in
 * libconfig syntax and in messages, valid ranges, the error messages of
 * reading and checking ("WHERE: key = value: what is wrong; valid: ..."),
 * the nearest known name of a misspelt key, the written config.cfg
 * (cfg_format, cfg_write) and the key listing of `grok help config`.
 *
 * Floats are written with the fewest digits (at most 17) that read back to
 * the same double, because libconfig 1.5's own writer keeps only 15. */
#include "cfg_internal.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* formatting values */

/* The shortest %.Ng (N <= 17) that strtod reads back to the same bits, made
 * to look like a float to libconfig ("1" -> "1.0"), in plain notation
 * between 1 and 1e6 ("30.0", not "3e+01"). */
void cfg_fmt_double(char *buf, size_t n, double v)
{
    if (!buf || n == 0)
        return;
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    /* 30 is "30", not "3e+01": below 1e6 the plain form takes the digits */
    double a = fabs(v);
    if (isfinite(v) && a >= 1.0 && a < 1e6 && strpbrk(buf, "eE")) {
        int digits = (int)floor(log10(a)) + 1;
        if (digits > prec && digits <= 17)
            snprintf(buf, n, "%.*g", digits, v);
    }
    if (isfinite(v) && !strpbrk(buf, ".eE")) {
        size_t len = strlen(buf);
        if (len + 2 < n)
            memcpy(buf + len, ".0", 3);
    }
}

/* A libconfig integer literal: L suffix when it does not fit in 32 bits. */
static void cfg_fmt_int(char *buf, size_t n, long long v, int is_unsigned)
{
    if (is_unsigned)
        snprintf(buf, n, "%llu%s", (unsigned long long)v,
                 (unsigned long long)v > INT_MAX ? "L" : "");
    else
        snprintf(buf, n, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : "");
}

/* The libconfig text of a string: quotes, with '"' and '\' escaped. */
static void cfg_quote(sbuf *out, const char *s)
{
    sbuf_puts(out, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sbuf_append(out, "\\", 1);
        sbuf_append(out, s, 1);
    }
    sbuf_puts(out, "\"");
}

void cfg_fmt_value(sbuf *out, const cfg_run *c, const cfg_key *k, int config_syntax)
{
    char buf[64], buf2[64];
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        cfg_fmt_int(buf, sizeof buf, cfg_get_integer(c, k), k->type == CFG_U64);
        sbuf_puts(out, buf);
        break;
    case CFG_DOUBLE:
        cfg_fmt_double(buf, sizeof buf, cfg_get_double(c, k->off));
        sbuf_puts(out, buf);
        break;
    case CFG_BOOL:
        sbuf_puts(out, cfg_get_int(c, k->off) ? "true" : "false");
        break;
    case CFG_ENUM: {
        int v = cfg_get_int(c, k->off);
        const char *name = (v >= 0 && v < k->en->count) ? k->en->name(v) : "?";
        if (config_syntax)
            cfg_quote(out, name);
        else
            sbuf_printf(out, "'%s'", name);
        break;
    }
    case CFG_PAIR:
        cfg_fmt_double(buf, sizeof buf, cfg_get_double(c, k->off));
        cfg_fmt_double(buf2, sizeof buf2, cfg_get_double(c, k->off2));
        sbuf_printf(out, "[%s, %s]", buf, buf2);
        break;
    case CFG_STRING: {
        const char *s = (const char *)c + k->off;
        size_t len = strnlen(s, k->smax - 1);
        if (config_syntax) {
            char *tmp = malloc(len + 1);
            if (!tmp) {
                sbuf_puts(out, "\"\"");
                break;
            }
            memcpy(tmp, s, len);
            tmp[len] = '\0';
            cfg_quote(out, tmp);
            free(tmp);
        } else {
            sbuf_printf(out, "'%.*s'", (int)len, s);
        }
        break;
    }
    }
}

/* The numeric bounds of k: "1..4096", "> 0", "(0, 1)", "[0, 1]". */
static void cfg_fmt_bounds(sbuf *out, const cfg_key *k)
{
    char lo[64], hi[64];
    if (k->type == CFG_DOUBLE || k->type == CFG_PAIR) {
        snprintf(lo, sizeof lo, "%g", k->dmin);
        snprintf(hi, sizeof hi, "%g", k->dmax);
        if (isinf(k->dmax))
            sbuf_printf(out, "%s %s", (k->open & CFG_LO_OPEN) ? ">" : ">=", lo);
        else
            sbuf_printf(out, "%s%s, %s%s", (k->open & CFG_LO_OPEN) ? "(" : "[", lo, hi,
                        (k->open & CFG_HI_OPEN) ? ")" : "]");
    } else {
        sbuf_printf(out, "%lld..%lld", k->imin, k->imax);
    }
}

/* "> 0" or "in 1..4096": the bounds as the end of a sentence. */
void cfg_fmt_bounds_phrase(sbuf *out, const cfg_key *k)
{
    if ((k->type == CFG_DOUBLE || k->type == CFG_PAIR) && isinf(k->dmax)) {
        cfg_fmt_bounds(out, k);
    } else {
        sbuf_puts(out, "in ");
        cfg_fmt_bounds(out, k);
    }
}

/* The valid values of k, for messages, listings and comments. */
void cfg_fmt_range(sbuf *out, const cfg_key *k)
{
    if (k->range) {
        sbuf_puts(out, k->range);
        return;
    }
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
    case CFG_DOUBLE:
    case CFG_PAIR:
        cfg_fmt_bounds(out, k);
        break;
    case CFG_BOOL:
        sbuf_puts(out, "true, false");
        break;
    case CFG_ENUM:
        for (int i = 0; i < k->en->count; i++)
            sbuf_printf(out, "%s%s", i ? ", " : "", k->en->name(i));
        break;
    case CFG_STRING:
        break;
    }
}

static const char *cfg_type_name(const cfg_key *k)
{
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        return "int";
    case CFG_DOUBLE:
        return "float";
    case CFG_BOOL:
        return "bool";
    case CFG_ENUM:
    case CFG_STRING:
        return "string";
    case CFG_PAIR:
        return "float[2]";
    }
    return "?";
}

/* ------------------------------------------------------------------------ */
/* where a value came from, and messages */

void cfg_fmt_where(char *buf, size_t n, const cfg_origin *o, const char *inc_dir)
{
    const char *file = o->file ? o->file : "<default>";
    const char *dir = (o->in_dir && inc_dir && file[0] != '/') ? inc_dir : "";
    size_t dn = strlen(dir);
    const char *sep = (dn > 0 && dir[dn - 1] != '/') ? "/" : "";
    if (o->line > 0)
        snprintf(buf, n, "%s%s%s:%d", dir, sep, file, o->line);
    else
        snprintf(buf, n, "%s%s%s", dir, sep, file);
}


int cfg_fail(grok_err *e, const cfg_origin *o, const char *inc_dir, const char *key,
                    const char *value, const char *fmt, ...)
{
    char where[512], what[768];
    cfg_fmt_where(where, sizeof where, o, inc_dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return grok_fail(e, GROK_EINVAL, "%s: %s = %s: %s", where, key, value, what);
}

/* Levenshtein distance of two short strings (longer ones are cut at 63). */
static int cfg_edit_distance(const char *a, const char *b)
{
    int na = (int)strlen(a), nb = (int)strlen(b);
    if (na > 63)
        na = 63;
    if (nb > 63)
        nb = 63;
    int prev[64], cur[64];
    for (int j = 0; j <= nb; j++)
        prev[j] = j;
    for (int i = 1; i <= na; i++) {
        cur[0] = i;
        for (int j = 1; j <= nb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(nb + 1));
    }
    return prev[nb];
}

/* The known name nearest to the unknown dotted name, or NULL when nothing
 * is close.  A group value (want_group) is matched against the group names,
 * anything else against the keys, comparing whole names and, at a cost of
 * one, leaves across groups ("model.lr" -> "optim.lr", "lr" -> "optim.lr"). */
static const char *cfg_nearest(const char *unknown, int want_group, char *buf, size_t n)
{
    int best = INT_MAX;
    const char *leaf = cfg_leaf(unknown);
    buf[0] = '\0';
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const char *name = cfg_keys[i].name;
        size_t g = cfg_group_len(name);
        int d;
        if (want_group) {
            if (g == 0 || strchr(unknown, '.'))
                continue;
            char group[32];
            snprintf(group, sizeof group, "%.*s", (int)g, name);
            d = cfg_edit_distance(unknown, group);
            if (d < best) {
                best = d;
                snprintf(buf, n, "%s", group);
            }
            continue;
        }
        d = cfg_edit_distance(unknown, name);
        int dl = cfg_edit_distance(leaf, cfg_leaf(name)) + 1;
        if (dl < d)
            d = dl;
        if (d < best) {
            best = d;
            snprintf(buf, n, "%s", name);
        }
    }
    int len = (int)strlen(leaf);
    int limit = len / 3 > 2 ? len / 3 : 2;
    return best <= limit ? buf : NULL;
}

/* The valid names inside a group ("n_layers, d_model, ..."), or at the top
 * level (group == NULL: "seed, task, model, ..."). */
void cfg_fmt_section(sbuf *out, const char *group, size_t glen)
{
    int first = 1;
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const char *name = cfg_keys[i].name;
        size_t g = cfg_group_len(name);
        if (group) {
            if (g != glen || strncmp(name, group, glen) != 0)
                continue;
            sbuf_printf(out, "%s%s", first ? "" : ", ", cfg_leaf(name));
            first = 0;
        } else if (g == 0) {
            sbuf_printf(out, "%s%s", first ? "" : ", ", name);
            first = 0;
        } else if (i == 0 || cfg_group_len(cfg_keys[i - 1].name) != g ||
                   strncmp(cfg_keys[i - 1].name, name, g) != 0) {
            sbuf_printf(out, "%s%.*s", first ? "" : ", ", (int)g, name);
            first = 0;
        }
    }
}

/* The unknown-key message: nearest valid name and the section's keys. */
int cfg_fail_unknown(grok_err *e, const cfg_origin *o, const char *inc_dir,
                            const char *name, const char *value, int is_group)
{
    char near[64];
    sbuf valid;
    sbuf_init(&valid);
    size_t g = cfg_group_len(name);
    const char *dot = strchr(name, '.');
    int known_group = dot && cfg_is_group(name, g);
    if (known_group) {
        sbuf_printf(&valid, "valid keys in %.*s: ", (int)g, name);
        cfg_fmt_section(&valid, name, g);
    } else {
        sbuf_puts(&valid, "valid top-level keys: ");
        cfg_fmt_section(&valid, NULL, 0);
    }
    const char *best = cfg_nearest(name, is_group, near, sizeof near);
    int rc;
    if (best)
        rc = cfg_fail(e, o, inc_dir, name, value, "unknown key; did you mean '%s'? %s", best,
                      valid.data ? valid.data : "");
    else
        rc = cfg_fail(e, o, inc_dir, name, value, "unknown key; %s", valid.data ? valid.data : "");
    sbuf_free(&valid);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* what a value must be */

/* "must be > 0" / "must be in 1..4096" for k's bounds. */
void cfg_fmt_must(sbuf *out, const cfg_key *k)
{
    sbuf_puts(out, "must be ");
    cfg_fmt_bounds_phrase(out, k);
}

/* What a value of k must look like: "an integer in 1..4096", "a number > 0",
 * "true or false", "one of add, sub, ...". */
void cfg_fmt_expected(sbuf *out, const cfg_key *k)
{
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        sbuf_puts(out, "an integer ");
        cfg_fmt_bounds_phrase(out, k);
        break;
    case CFG_DOUBLE:
        sbuf_puts(out, "a number ");
        cfg_fmt_bounds_phrase(out, k);
        break;
    case CFG_BOOL:
        sbuf_puts(out, "true or false");
        break;
    case CFG_ENUM:
        sbuf_puts(out, "one of ");
        cfg_fmt_range(out, k);
        break;
    case CFG_PAIR:
        sbuf_puts(out, "two numbers ");
        cfg_fmt_range(out, k);
        break;
    case CFG_STRING:
        sbuf_puts(out, "a string, ");
        cfg_fmt_range(out, k);
        break;
    }
}
/* ------------------------------------------------------------------------ */
/* writing and listing */

int cfg_format(const cfg_run *c, sbuf *out)
{
    sbuf line;
    sbuf_init(&line);
    sbuf_puts(out, "# grok run config (libconfig syntax): every key, resolved.\n"
                   "# `grok help config` describes the keys; floats read back exactly.\n");
    const char *open_group = NULL;
    size_t open_len = 0;
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const cfg_key *k = &cfg_keys[i];
        size_t g = cfg_group_len(k->name);
        if (open_group && (g != open_len || strncmp(k->name, open_group, g) != 0)) {
            sbuf_puts(out, "};\n");
            open_group = NULL;
        }
        if (g > 0 && !open_group) {
            sbuf_printf(out, "\n%.*s = {\n", (int)g, k->name);
            open_group = k->name;
            open_len = g;
        } else if (g == 0) {
            sbuf_puts(out, "\n");
        }
        sbuf_clear(&line);
        sbuf_printf(&line, "%s%s = ", g ? "  " : "", cfg_leaf(k->name));
        cfg_fmt_value(&line, c, k, 1);
        sbuf_puts(&line, ";");
        while (line.len < 30 && !line.oom)
            sbuf_puts(&line, " ");
        sbuf_printf(&line, " # %s; ", k->doc);
        cfg_fmt_range(&line, k);
        sbuf_puts(&line, "\n");
        if (line.data)
            sbuf_puts(out, line.data);
        if (line.oom)
            out->oom = 1;
    }
    if (open_group)
        sbuf_puts(out, "};\n");
    sbuf_free(&line);
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

int cfg_write(const cfg_run *c, const char *path, grok_err *e)
{
    sbuf out;
    sbuf_init(&out);
    int rc = cfg_format(c, &out);
    if (rc != GROK_OK)
        rc = grok_fail(e, rc, "cannot write config '%s': out of memory", path);
    else
        rc = fileio_write_atomic(path, out.data, out.len, e);
    sbuf_free(&out);
    return rc;
}

void cfg_list_keys(sbuf *out)
{
    enum { NCOL = 5 };
    static const char *const head[NCOL] = {"key", "type", "default", "valid", "description"};
    cfg_run def;
    cfg_defaults(&def);
    sbuf cell[CFG_N_KEYS][NCOL - 1];
    size_t width[NCOL];
    for (int j = 0; j < NCOL; j++)
        width[j] = strlen(head[j]);
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const cfg_key *k = &cfg_keys[i];
        for (int j = 0; j < NCOL - 1; j++)
            sbuf_init(&cell[i][j]);
        sbuf_puts(&cell[i][0], k->name);
        sbuf_puts(&cell[i][1], cfg_type_name(k));
        cfg_fmt_value(&cell[i][2], &def, k, 1);
        cfg_fmt_range(&cell[i][3], k);
        for (int j = 0; j < NCOL - 1; j++)
            if (cell[i][j].len > width[j])
                width[j] = cell[i][j].len;
    }
    for (int j = 0; j < NCOL - 1; j++)
        sbuf_printf(out, "%-*s  ", (int)width[j], head[j]);
    sbuf_printf(out, "%s\n", head[NCOL - 1]);
    for (int i = 0; i < CFG_N_KEYS; i++) {
        for (int j = 0; j < NCOL - 1; j++)
            sbuf_printf(out, "%-*s  ", (int)width[j], cell[i][j].data ? cell[i][j].data : "");
        sbuf_printf(out, "%s\n", cfg_keys[i].doc);
        for (int j = 0; j < NCOL - 1; j++)
            sbuf_free(&cell[i][j]);
    }
}
