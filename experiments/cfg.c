/* cfg.c: building a cfg_run (cfg.h): the table's defaults, reading a
 * libconfig file, --set overrides, cfg_load, and the resumable keys.
 *
 * Walks cfg_keys[] (cfg_keys.c); the checks are cfg_check.c's, the text of
 * values and messages cfg_format.c's.  Does not own what the values mean at
 * run time.
 *
 * libconfig 1.5 does the lexing and parsing, with three workarounds:
 * - its scanner turns an integer literal beyond 32 bits into a wrapped int
 *   (5000000000 reads as 705032704) unless it carries the L suffix, so
 *   cfg_scan_ints rejects such literals in the text before libconfig sees it;
 * - its writer keeps only 15 significant digits, so cfg_format writes every
 *   float itself with the fewest digits (at most 17) that read back exactly
 *   (cfg_format.c);
 * - @include is relative to the process's directory, so the include
 *   directory is set to the config file's own directory. */
#include "cfg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* looking up keys */

/* The part of a dotted name after the group ("d_model"), or the whole name. */
const char *cfg_leaf(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? dot + 1 : name;
}

/* Length of the group part of a dotted name (0 for a top-level key). */
size_t cfg_group_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : 0;
}

int cfg_find_key(const char *name)
{
    for (int i = 0; i < CFG_N_KEYS; i++)
        if (strcmp(cfg_keys[i].name, name) == 0)
            return i;
    return -1;
}

/* 1 when name is the group of some key ("model"). */
int cfg_is_group(const char *name, size_t n)
{
    for (int i = 0; i < CFG_N_KEYS; i++) {
        size_t g = cfg_group_len(cfg_keys[i].name);
        if (g > 0 && g == n && strncmp(cfg_keys[i].name, name, n) == 0)
            return 1;
    }
    return 0;
}

/* accessors: a key's value in a cfg_run, by offset */

int cfg_get_int(const cfg_run *c, size_t off)
{
    int v;
    memcpy(&v, (const char *)c + off, sizeof v);
    return v;
}

static void cfg_put_int(cfg_run *c, size_t off, int v) { memcpy((char *)c + off, &v, sizeof v); }

double cfg_get_double(const cfg_run *c, size_t off)
{
    double v;
    memcpy(&v, (const char *)c + off, sizeof v);
    return v;
}

static void cfg_put_double(cfg_run *c, size_t off, double v)
{
    memcpy((char *)c + off, &v, sizeof v);
}

long long cfg_get_integer(const cfg_run *c, const cfg_key *k)
{
    const char *p = (const char *)c + k->off;
    if (k->type == CFG_U64) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (long long)v;
    }
    if (k->type == CFG_LONG) {
        long v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    return cfg_get_int(c, k->off);
}

static void cfg_put_integer(cfg_run *c, const cfg_key *k, long long v)
{
    char *p = (char *)c + k->off;
    if (k->type == CFG_U64) {
        uint64_t u = (uint64_t)v;
        memcpy(p, &u, sizeof u);
    } else if (k->type == CFG_LONG) {
        long l = (long)v;
        memcpy(p, &l, sizeof l);
    } else {
        cfg_put_int(c, k->off, (int)v);
    }
}

/* The value of key k in c: as libconfig text when config_syntax ("128",
 * "0.3", "\"add\"", "[0.9, 0.98]"), else with strings in single quotes,
 * as messages show them. */
/* ------------------------------------------------------------------------ */
/* defaults */

model_config cfg_model_config(const cfg_run *c)
{
    model_config m = {.family = c->family, .tfm = c->model, .mlp = c->mlp};
    m.tfm.bidirectional = !c->causal;
    m.tfm.attn_uniform = 1.0 - c->attn_rate;
    /* the keys the two families share, and the task's shape */
    m.mlp.n_layers = c->model.n_layers;
    m.mlp.act = (mlp_act)c->model.act;
    m.mlp.init_scale = c->model.init_scale;
    m.mlp.init_scheme = c->model.init_scheme;
    m.mlp.n_ctx = c->model.n_ctx;
    m.mlp.d_vocab = c->model.d_vocab;
    m.mlp.d_vocab_out = c->model.d_vocab_out;
    m.mlp.no_bias = !c->bias;
    return m;
}

trainer_config cfg_trainer_config(const cfg_run *c)
{
    return (trainer_config){.loss = c->loss,
                            .optim = c->optim,
                            .filters = c->filters,
                            .weight_norm = c->train.weight_norm};
}

void cfg_plot_style(const cfg_run *c, plot_style *st)
{
    plot_style_default(st);
    grok_err e = {{0}};
    const struct {
        const char *key, *value;
    } text[3] = {{"width", c->plots.width}, {"height", c->plots.height}, {"font", c->plots.font}};
    for (int i = 0; i < 3; i++)
        if (text[i].value[0]) {
            int rc = plot_style_set(st, text[i].key, text[i].value, &e);
            GROK_ASSERT(rc == GROK_OK); /* cfg_check ran the same check */
        }
    st->font_pt = c->plots.font_size;
    st->line_w = c->plots.line_width;
    st->scheme = (plot_scheme)c->plots.colours;
    st->log_epoch = c->plots.epoch_axis;
    st->from = c->plots.from > 0 ? c->plots.from : NAN;
    st->to = c->plots.to > 0 ? c->plots.to : NAN;
    st->phases = c->plots.phases;
    st->marks = c->plots.marks;
}

void cfg_fill_derived(cfg_run *c)
{
    task_shape s;
    task_shape_of(&c->task, &s);
    c->model.d_vocab = s.d_vocab;
    c->model.d_vocab_out = s.n_classes;
    c->model.n_ctx = s.n_ctx;
}

/* Sets key k of c to the table's default. */
static void cfg_put_default(cfg_run *c, const cfg_key *k)
{
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        cfg_put_integer(c, k, k->idef);
        break;
    case CFG_BOOL:
    case CFG_ENUM:
        cfg_put_int(c, k->off, (int)k->idef);
        break;
    case CFG_DOUBLE:
        cfg_put_double(c, k->off, k->ddef);
        break;
    case CFG_PAIR:
        cfg_put_double(c, k->off, k->ddef);
        cfg_put_double(c, k->off2, k->ddef2);
        break;
    case CFG_STRING:
        memset((char *)c + k->off, 0, k->smax);
        snprintf((char *)c + k->off, k->smax, "%s", k->sdef);
        break;
    }
}

void cfg_defaults(cfg_run *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < CFG_N_KEYS; i++)
        cfg_put_default(c, &cfg_keys[i]);
    cfg_fill_derived(c);
}

/* ------------------------------------------------------------------------ */
/* resumable keys */

int cfg_key_resumable(const char *name)
{
    int i = cfg_find_key(name);
    return i >= 0 && cfg_keys[i].resumable;
}

void cfg_reset_resumable(cfg_run *c)
{
    for (int i = 0; i < CFG_N_KEYS; i++)
        if (cfg_keys[i].resumable)
            cfg_put_default(c, &cfg_keys[i]);
}

int cfg_format_resumable_sets(const cfg_run *c, sbuf *out)
{
    for (int i = 0; i < CFG_N_KEYS; i++) {
        if (!cfg_keys[i].resumable)
            continue;
        sbuf_printf(out, "%s=", cfg_keys[i].name);
        cfg_fmt_value(out, c, &cfg_keys[i], 1);
        sbuf_puts(out, "\n");
    }
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

void cfg_list_resumable(sbuf *out)
{
    int first = 1;
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const cfg_key *k = &cfg_keys[i];
        if (!k->resumable)
            continue;
        /* a group of several keys, all resumable: "checkpoint.*" once */
        size_t g = cfg_group_len(k->name);
        int n_group = 0, all = g > 0;
        for (int j = 0; j < CFG_N_KEYS && all; j++)
            if (cfg_group_len(cfg_keys[j].name) == g && strncmp(cfg_keys[j].name, k->name, g) == 0) {
                n_group++;
                all = cfg_keys[j].resumable;
            }
        if (all && n_group > 1) {
            if (i > 0 && cfg_group_len(cfg_keys[i - 1].name) == g &&
                strncmp(cfg_keys[i - 1].name, k->name, g) == 0)
                continue; /* listed with the group's first key */
            sbuf_printf(out, "%s%.*s.*", first ? "" : ", ", (int)g, k->name);
        } else {
            sbuf_printf(out, "%s%s", first ? "" : ", ", k->name);
        }
        first = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* applying a libconfig setting to a key */

/* The state of one cfg_load.  The parsed file stays alive until the end,
 * because the origins of its settings point at libconfig's file names. */
typedef struct {
    cfg_run run;
    cfg_origin org[CFG_N_KEYS];
    const char *inc_dir; /* the config's directory, or NULL */
    config_t cf;         /* the parsed file, when have_cf */
    int have_cf;
} cfg_loader;

/* A libconfig setting as it would read in a message: strings in single
 * quotes, groups abbreviated. */
static void cfg_fmt_setting(sbuf *out, const config_setting_t *s)
{
    char buf[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        sbuf_printf(out, "%d", config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        sbuf_printf(out, "%lldL", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT:
        cfg_fmt_double(buf, sizeof buf, config_setting_get_float(s));
        sbuf_puts(out, buf);
        break;
    case CONFIG_TYPE_BOOL:
        sbuf_puts(out, config_setting_get_bool(s) ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING:
        sbuf_printf(out, "'%s'", config_setting_get_string(s));
        break;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        int arr = config_setting_type(s) == CONFIG_TYPE_ARRAY;
        sbuf_puts(out, arr ? "[" : "(");
        int n = config_setting_length(s);
        for (int i = 0; i < n && out->len < 200; i++) {
            if (i)
                sbuf_puts(out, ", ");
            cfg_fmt_setting(out, config_setting_get_elem(s, (unsigned)i));
        }
        sbuf_puts(out, arr ? "]" : ")");
        break;
    }
    case CONFIG_TYPE_GROUP:
        sbuf_puts(out, "{ ... }");
        break;
    default:
        sbuf_puts(out, "?");
        break;
    }
}

static int cfg_is_integer(int type) { return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64; }

static int cfg_is_number(int type) { return cfg_is_integer(type) || type == CONFIG_TYPE_FLOAT; }

/* Reads setting s into key k of c, checking type and range; text (when not
 * NULL) is the value as the user wrote it, for messages. */
static int cfg_apply(cfg_run *c, const cfg_key *k, const config_setting_t *s, const char *text,
                     const cfg_origin *o, const char *inc_dir, grok_err *e)
{
    int type = config_setting_type(s);
    sbuf val, want;
    sbuf_init(&val);
    sbuf_init(&want);
    if (text)
        sbuf_puts(&val, text);
    else
        cfg_fmt_setting(&val, s);
    const char *v = val.data ? val.data : "?";
    int rc = GROK_OK;
    cfg_run next;
    memcpy(&next, c, sizeof next);

    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        if (!cfg_is_integer(type)) {
            sbuf_puts(&want, "expected an integer ");
            cfg_fmt_bounds_phrase(&want, k);
            break;
        }
        {
            long long x = config_setting_get_int64(s);
            if (x < k->imin || x > k->imax) {
                cfg_fmt_must(&want, k);
                break;
            }
            cfg_put_integer(&next, k, x);
        }
        break;
    case CFG_DOUBLE:
        if (!cfg_is_number(type)) {
            sbuf_puts(&want, "expected a number ");
            cfg_fmt_bounds_phrase(&want, k);
            break;
        }
        {
            double x = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                 : (double)config_setting_get_int64(s);
            if (!isfinite(x)) {
                sbuf_puts(&want, "not a finite number; ");
                cfg_fmt_must(&want, k);
                break;
            }
            if (!cfg_double_ok(k, x)) {
                cfg_fmt_must(&want, k);
                break;
            }
            cfg_put_double(&next, k->off, x);
        }
        break;
    case CFG_BOOL:
        if (type != CONFIG_TYPE_BOOL) {
            sbuf_puts(&want, "expected true or false");
            break;
        }
        cfg_put_int(&next, k->off, config_setting_get_bool(s) ? 1 : 0);
        break;
    case CFG_ENUM: {
        if (type != CONFIG_TYPE_STRING) {
            sbuf_printf(&want, "expected a string naming the %s; valid: ", k->en->noun);
            cfg_fmt_range(&want, k);
            break;
        }
        const char *str = config_setting_get_string(s);
        int x = k->en->parse(str);
        if (x < 0 || x >= k->en->count) {
            char why[96];
            if (k->en->problem)
                sbuf_printf(&want, "%s; valid: ", k->en->problem(str, why, sizeof why));
            else
                sbuf_printf(&want, "unknown %s; valid: ", k->en->noun);
            cfg_fmt_range(&want, k);
            break;
        }
        cfg_put_int(&next, k->off, x);
        break;
    }
    case CFG_PAIR: {
        int n = (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) ? config_setting_length(s)
                                                                       : -1;
        double x[2] = {0, 0};
        int good = n == 2;
        for (int i = 0; good && i < 2; i++) {
            const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
            int t = config_setting_type(el);
            if (!cfg_is_number(t))
                good = 0;
            else
                x[i] = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(el)
                                              : (double)config_setting_get_int64(el);
        }
        if (!good) {
            sbuf_puts(&want, "expected two numbers ");
            cfg_fmt_range(&want, k);
            break;
        }
        for (int i = 0; i < 2; i++)
            if (!cfg_double_ok(k, x[i])) {
                sbuf_printf(&want, "element %d (%s) ", i + 1, i ? "beta2" : "beta1");
                cfg_fmt_must(&want, k);
                break;
            }
        if (want.len)
            break;
        cfg_put_double(&next, k->off, x[0]);
        cfg_put_double(&next, k->off2, x[1]);
        break;
    }
    case CFG_STRING: {
        if (type != CONFIG_TYPE_STRING) {
            sbuf_puts(&want, "expected a string; valid: ");
            cfg_fmt_range(&want, k);
            break;
        }
        const char *str = config_setting_get_string(s);
        char what[128];
        if (strlen(str) >= k->smax)
            snprintf(what, sizeof what, "longer than %zu characters", k->smax - 1);
        if (strlen(str) >= k->smax || !k->scheck(str, what, sizeof what)) {
            sbuf_printf(&want, "%s; valid: ", what);
            cfg_fmt_range(&want, k);
            break;
        }
        char *dst = (char *)&next + k->off;
        memset(dst, 0, k->smax);
        memcpy(dst, str, strlen(str));
        break;
    }
    }

    if (want.len || want.oom)
        rc = cfg_fail(e, o, inc_dir, k->name, v, "%s", want.data ? want.data : "invalid value");
    else
        memcpy(c, &next, sizeof next);
    sbuf_free(&val);
    sbuf_free(&want);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* integer literals beyond 32 bits */

static char *cfg_read_text(const char *path, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (!buf) {
        *err = ENOMEM;
    } else if (ferror(f)) {
        *err = errno ? errno : EIO;
        free(buf);
        buf = NULL;
    } else {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static int cfg_is_name_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '-' || ch == '*';
}

/* The @include chain being scanned: the files (device, inode) from the top
 * file down to the one being read, and the number of includes followed in
 * all.  libconfig 1.5 follows at most CFG_INCLUDE_DEPTH levels; a cycle, or a
 * tree of includes larger than CFG_INCLUDE_TOTAL files, is refused here
 * before libconfig sees it (a self-include would otherwise be read 10
 * levels deep, repeated at every level). */
enum { CFG_INCLUDE_DEPTH = 10, CFG_INCLUDE_TOTAL = 64 };
typedef struct {
    dev_t dev[CFG_INCLUDE_DEPTH + 1];
    ino_t ino[CFG_INCLUDE_DEPTH + 1];
    int depth; /* files on the chain */
    int total; /* includes followed so far */
} cfg_includes;

static int cfg_scan_ints(const char *text, const cfg_origin *file, const char *inc_dir,
                         const char *key, cfg_includes *inc, grok_err *e);

/* Checks the target of `@include "name"` (name[0..len), at o) as libconfig
 * 1.5 would open it (inc_dir/name whenever there is an include directory,
 * even for an absolute name), then scans it.  Refused: an empty name, a name
 * with a backslash or without its closing quote on the line, a target that
 * is not a regular file (libconfig's scanner calls exit() on a directory),
 * a cycle, and the limits above. */
static int cfg_scan_include(const char *name, size_t len, int closed, const cfg_origin *o,
                            const char *inc_dir, const char *key, cfg_includes *inc, grok_err *e)
{
    char where[600], rel[512], full[1024];
    cfg_fmt_where(where, sizeof where, o, inc_dir);
    if (!closed || memchr(name, '\\', len))
        return grok_fail(e, GROK_EINVAL, "%s: @include: the file name needs a closing '\"' on "
                         "its line and no backslash", where);
    if (len == 0)
        return grok_fail(e, GROK_EINVAL, "%s: @include \"\": empty file name", where);
    if (len >= sizeof rel)
        return grok_fail(e, GROK_EINVAL, "%s: @include: file name too long", where);
    snprintf(rel, sizeof rel, "%.*s", (int)len, name);
    int k = inc_dir ? snprintf(full, sizeof full, "%s/%s", inc_dir, rel)
                    : snprintf(full, sizeof full, "%s", rel);
    if (k < 0 || (size_t)k >= sizeof full)
        return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": path too long", where, rel);
    struct stat st;
    if (stat(full, &st) != 0)
        return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": cannot read '%s': %s", where, rel,
                         full, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": '%s' is not a regular file", where,
                         rel, full);
    for (int i = 0; i < inc->depth; i++)
        if (inc->dev[i] == st.st_dev && inc->ino[i] == st.st_ino)
            return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": include cycle (the file is "
                             "already being included)", where, rel);
    if (inc->depth > CFG_INCLUDE_DEPTH)
        return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": includes nested more than %d deep",
                         where, rel, CFG_INCLUDE_DEPTH);
    if (++inc->total > CFG_INCLUDE_TOTAL)
        return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": more than %d includes in all",
                         where, rel, CFG_INCLUDE_TOTAL);
    int err = 0;
    char *sub = cfg_read_text(full, &err);
    if (!sub)
        return grok_fail(e, err == ENOMEM ? GROK_ENOMEM : GROK_EINVAL,
                         "%s: @include \"%s\": cannot read '%s': %s", where, rel, full,
                         strerror(err));
    if ((off_t)strlen(sub) < st.st_size) {
        free(sub);
        return grok_fail(e, GROK_EINVAL, "%s: @include \"%s\": '%s' holds a NUL byte (not a "
                         "config text)", where, rel, full);
    }
    inc->dev[inc->depth] = st.st_dev;
    inc->ino[inc->depth] = st.st_ino;
    inc->depth++;
    cfg_origin so = {rel, 0, 1};
    int rc = cfg_scan_ints(sub, &so, inc_dir, key, inc, e);
    inc->depth--;
    free(sub);
    return rc;
}

/* Scans libconfig text for an integer literal without the L suffix that does
 * not fit in 32 bits, which libconfig 1.5 would silently wrap.  file is the
 * name for messages (o->file), key (when not NULL) the name to report
 * instead of the one found in the text.  Checks and follows every @include
 * (cfg_scan_include); inc holds the chain. */
static int cfg_scan_ints(const char *text, const cfg_origin *file, const char *inc_dir,
                         const char *key, cfg_includes *inc, grok_err *e)
{
    const char *groups[16];
    size_t glens[16];
    int ng = 0;
    const char *last = NULL;
    size_t last_len = 0;
    int line = 1;
    const char *s = text;
    while (*s) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n') {
            line++;
            s++;
        } else if (ch == '#' || (ch == '/' && s[1] == '/')) {
            while (*s && *s != '\n')
                s++;
        } else if (ch == '/' && s[1] == '*') {
            s += 2;
            while (*s && !(s[0] == '*' && s[1] == '/')) {
                if (*s == '\n')
                    line++;
                s++;
            }
            if (*s)
                s += 2;
        } else if (ch == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1])
                    s++;
                if (*s == '\n')
                    line++;
                s++;
            }
            if (*s)
                s++;
        } else if (ch == '@' && strncmp(s, "@include", 8) == 0) {
            s += 8;
            while (*s == ' ' || *s == '\t')
                s++;
            if (*s != '"')
                continue;
            const char *name = ++s;
            while (*s && *s != '"' && *s != '\n')
                s++;
            cfg_origin o = *file;
            o.line = line;
            int rc = cfg_scan_include(name, (size_t)(s - name), *s == '"', &o, inc_dir, key, inc, e);
            if (rc != GROK_OK)
                return rc;
            s++;
        } else if (isalpha(ch) || ch == '*' || ch == '_') {
            last = s;
            while (cfg_is_name_char((unsigned char)*s))
                s++;
            last_len = (size_t)(s - last);
        } else if (ch == '{') {
            if (ng < 16) {
                groups[ng] = last;
                glens[ng] = last ? last_len : 0;
            }
            ng++;
            s++;
        } else if (ch == '}') {
            if (ng > 0)
                ng--;
            s++;
        } else if (isdigit(ch) || (ch == '.' && isdigit((unsigned char)s[1]))) {
            const char *start = s;
            int hex = ch == '0' && (s[1] == 'x' || s[1] == 'X');
            if (hex) {
                s += 2;
                while (isxdigit((unsigned char)*s))
                    s++;
            } else {
                while (isdigit((unsigned char)*s))
                    s++;
            }
            if (!hex && (*s == '.' || *s == 'e' || *s == 'E')) { /* a float */
                while (isdigit((unsigned char)*s) || *s == '.' || *s == 'e' || *s == 'E' ||
                       ((*s == '+' || *s == '-') && (s[-1] == 'e' || s[-1] == 'E')))
                    s++;
                continue;
            }
            if (*s == 'L') { /* int64 literal: read correctly */
                while (*s == 'L')
                    s++;
                continue;
            }
            int neg = start > text && start[-1] == '-';
            errno = 0;
            unsigned long long u = strtoull(start, NULL, hex ? 16 : 10);
            int overflow = errno == ERANGE || (neg ? u > (unsigned long long)INT_MAX + 1
                                                   : u > (unsigned long long)INT_MAX);
            if (hex) /* libconfig reads 0x80000000..0xFFFFFFFF as negative ints */
                overflow = errno == ERANGE || u > (unsigned long long)INT_MAX;
            if (overflow) {
                char name[160], lit[64];
                if (key)
                    snprintf(name, sizeof name, "%s", key);
                else if (ng > 0 && ng <= 16 && groups[ng - 1])
                    snprintf(name, sizeof name, "%.*s.%.*s", (int)glens[ng - 1], groups[ng - 1],
                             (int)last_len, last ? last : "");
                else
                    snprintf(name, sizeof name, "%.*s", (int)last_len, last ? last : "?");
                snprintf(lit, sizeof lit, "%s%.*s", neg ? "-" : "", (int)(s - start), start);
                cfg_origin o = *file;
                if (!key)
                    o.line = line;
                return cfg_fail(e, &o, inc_dir, name, lit,
                                "integer does not fit in a 32-bit int (libconfig would wrap it); "
                                "write %sL for a 64-bit integer",
                                lit);
            }
        } else {
            s++;
        }
    }
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* --set */

/* Trims spaces from both ends of s[0..n) in place; returns the new start. */
static char *cfg_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* A plain decimal integer literal, optionally signed and L-suffixed. */
static int cfg_plain_integer(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    while (*s == 'L')
        s++;
    return *s == '\0';
}

static int cfg_set_from(cfg_run *c, cfg_origin *org, const char *assignment, grok_err *e)
{
    const cfg_origin set = {"--set", 0, 0};
    size_t n = strlen(assignment);
    char *copy = malloc(n + 1);
    if (!copy)
        return grok_fail(e, GROK_ENOMEM, "--set: out of memory");
    memcpy(copy, assignment, n + 1);
    int rc = GROK_OK;
    char *eq = strchr(copy, '=');
    if (!eq) {
        rc = grok_fail(e, GROK_EINVAL,
                       "--set: '%s': expected key=value, for example model.d_model=256",
                       assignment);
        goto done;
    }
    *eq = '\0';
    char *key = cfg_trim(copy), *value = cfg_trim(eq + 1);
    int ki = cfg_find_key(key);
    if (ki < 0) {
        if (cfg_is_group(key, strlen(key))) {
            sbuf valid;
            sbuf_init(&valid);
            cfg_fmt_section(&valid, key, strlen(key));
            rc = cfg_fail(e, &set, NULL, key, value,
                          "a group, not a key; set one of its keys (%s.KEY=VALUE); valid keys "
                          "in %s: %s",
                          key, key, valid.data ? valid.data : "");
            sbuf_free(&valid);
        } else {
            rc = cfg_fail_unknown(e, &set, NULL, key, value, 0);
        }
        goto done;
    }
    const cfg_key *k = &cfg_keys[ki];
    if (*value == '\0') {
        sbuf valid;
        sbuf_init(&valid);
        cfg_fmt_range(&valid, k);
        rc = cfg_fail(e, &set, NULL, k->name, "", "missing value; valid: %s",
                      valid.data ? valid.data : "");
        sbuf_free(&valid);
        goto done;
    }

    config_t tmp;
    config_init(&tmp);
    size_t tn = strlen(value) + 16;
    char *text = malloc(tn);
    if (!text) {
        config_destroy(&tmp);
        rc = grok_fail(e, GROK_ENOMEM, "--set: out of memory");
        goto done;
    }
    int string_key = k->type == CFG_ENUM || k->type == CFG_STRING;
    int integer_key = k->type == CFG_U64 || k->type == CFG_INT || k->type == CFG_LONG;
    if (string_key && value[0] != '"') {
        /* A bare string: the text itself, no libconfig grammar. */
        config_setting_t *v =
            config_setting_add(config_root_setting(&tmp), "v", CONFIG_TYPE_STRING);
        if (!v || !config_setting_set_string(v, value))
            rc = grok_fail(e, GROK_ENOMEM, "--set: out of memory");
        else
            rc = cfg_apply(c, k, v, NULL, &set, NULL, e);
    } else if (integer_key && cfg_plain_integer(value)) {
        /* Parsed here: libconfig wraps literals beyond 32 bits. */
        errno = 0;
        long long x = strtoll(value, NULL, 10);
        int wide = errno == 0 && (x > INT_MAX || x < INT_MIN);
        config_setting_t *v = config_setting_add(config_root_setting(&tmp), "v",
                                                 wide ? CONFIG_TYPE_INT64 : CONFIG_TYPE_INT);
        if (errno == ERANGE) {
            rc = cfg_fail(e, &set, NULL, k->name, value, "out of range; valid: %lld..%lld",
                          k->imin, k->imax);
        } else if (!v || !config_setting_set_int64(v, x)) {
            rc = grok_fail(e, GROK_ENOMEM, "--set: out of memory");
        } else {
            rc = cfg_apply(c, k, v, value, &set, NULL, e);
        }
    } else {
        snprintf(text, tn, "v = %s;", value);
        cfg_includes inc = {.depth = 0};
        rc = cfg_scan_ints(text, &set, NULL, k->name, &inc, e);
        if (rc == GROK_OK) {
            /* "v = 1; w = 2;" parses: exactly one value named v is required */
            int parsed = config_read_string(&tmp, text);
            config_setting_t *root = config_root_setting(&tmp);
            config_setting_t *v = parsed ? config_setting_get_member(root, "v") : NULL;
            if (!v || config_setting_length(root) != 1) {
                sbuf want;
                sbuf_init(&want);
                cfg_fmt_expected(&want, k);
                rc = cfg_fail(e, &set, NULL, k->name, value,
                              "not a valid value (libconfig: %s); expected %s",
                              parsed ? "more than one value" : config_error_text(&tmp),
                              want.data ? want.data : "");
                sbuf_free(&want);
            } else {
                rc = cfg_apply(c, k, v, NULL, &set, NULL, e);
            }
        }
    }
    free(text);
    config_destroy(&tmp);
    if (rc == GROK_OK && org)
        org[ki] = set;
done:
    free(copy);
    return rc;
}

int cfg_set(cfg_run *c, const char *assignment, grok_err *e)
{
    return cfg_set_from(c, NULL, assignment, e);
}

/* ------------------------------------------------------------------------ */
/* reading a file */

/* Walks the settings of a parsed config: known groups and keys are applied,
 * anything else is an unknown key. */
static int cfg_apply_root(cfg_loader *L, const config_t *cf, const char *path, grok_err *e)
{
    const config_setting_t *root = config_root_setting(cf);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        const char *src = config_setting_source_file(s);
        cfg_origin o = {src ? src : path, config_setting_source_line(s),
                        src && strcmp(src, path) != 0};
        sbuf val;
        sbuf_init(&val);
        cfg_fmt_setting(&val, s);
        const char *v = val.data ? val.data : "?";
        int rc = GROK_OK;
        int ki = cfg_find_key(name);
        if (ki >= 0) {
            rc = cfg_apply(&L->run, &cfg_keys[ki], s, NULL, &o, L->inc_dir, e);
            if (rc == GROK_OK)
                L->org[ki] = o;
        } else if (cfg_is_group(name, strlen(name))) {
            if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
                sbuf valid;
                sbuf_init(&valid);
                cfg_fmt_section(&valid, name, strlen(name));
                rc = cfg_fail(e, &o, L->inc_dir, name, v,
                              "expected a group %s = { ... }; valid keys in %s: %s", name, name,
                              valid.data ? valid.data : "");
                sbuf_free(&valid);
            }
            int m = rc == GROK_OK ? config_setting_length(s) : 0;
            for (int j = 0; j < m && rc == GROK_OK; j++) {
                const config_setting_t *c = config_setting_get_elem(s, (unsigned)j);
                const char *csrc = config_setting_source_file(c);
                cfg_origin co = {csrc ? csrc : path, config_setting_source_line(c),
                                 csrc && strcmp(csrc, path) != 0};
                char full[256];
                snprintf(full, sizeof full, "%s.%s", name, config_setting_name(c));
                int kj = cfg_find_key(full);
                if (kj < 0) {
                    sbuf cv;
                    sbuf_init(&cv);
                    cfg_fmt_setting(&cv, c);
                    rc = cfg_fail_unknown(e, &co, L->inc_dir, full, cv.data ? cv.data : "?",
                                          config_setting_type(c) == CONFIG_TYPE_GROUP);
                    sbuf_free(&cv);
                } else {
                    rc = cfg_apply(&L->run, &cfg_keys[kj], c, NULL, &co, L->inc_dir, e);
                    if (rc == GROK_OK)
                        L->org[kj] = co;
                }
            }
        } else {
            rc = cfg_fail_unknown(e, &o, L->inc_dir, name, v,
                                  config_setting_type(s) == CONFIG_TYPE_GROUP);
        }
        sbuf_free(&val);
        if (rc != GROK_OK)
            return rc;
    }
    return GROK_OK;
}

int cfg_prescan_file(const char *path, const char *inc_dir, grok_err *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return grok_fail(e, GROK_EIO, "cannot read config '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return grok_fail(e, GROK_EIO, "cannot read config '%s': %s", path,
                         S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
    int err = 0;
    char *text = cfg_read_text(path, &err);
    if (!text)
        return grok_fail(e, err == ENOMEM ? GROK_ENOMEM : GROK_EIO, "cannot read config '%s': %s",
                         path, strerror(err));
    /* the scan stops at a NUL byte, libconfig's scanner does not: an
     * @include after one would escape the checks */
    if ((off_t)strlen(text) < st.st_size) {
        free(text);
        return grok_fail(e, GROK_EINVAL, "%s: holds a NUL byte (not a config text)", path);
    }
    cfg_origin file = {path, 0, 0};
    cfg_includes inc = {.dev = {st.st_dev}, .ino = {st.st_ino}, .depth = 1};
    int rc = cfg_scan_ints(text, &file, inc_dir, NULL, &inc, e);
    free(text);
    return rc;
}

static int cfg_read_into(cfg_loader *L, const char *path, grok_err *e)
{
    int rc = cfg_prescan_file(path, L->inc_dir, e);
    if (rc != GROK_OK)
        return rc;

    config_t *cf = &L->cf;
    config_init(cf);
    L->have_cf = 1;
    if (L->inc_dir)
        config_set_include_dir(cf, L->inc_dir);
    if (!config_read_file(cf, path)) {
        if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
            rc = grok_fail(e, GROK_EIO, "cannot read config '%s': %s", path,
                           config_error_text(cf));
        } else {
            const char *ef = config_error_file(cf);
            cfg_origin o = {ef ? ef : path, config_error_line(cf), ef && strcmp(ef, path) != 0};
            char where[512];
            cfg_fmt_where(where, sizeof where, &o, L->inc_dir);
            rc = grok_fail(e, GROK_EINVAL, "%s: %s", where, config_error_text(cf));
        }
        return rc;
    }
    return cfg_apply_root(L, cf, path, e);
}

int cfg_load(cfg_run *c, const char *path, const char *const *sets, int n_sets, grok_err *e)
{
    GROK_ASSERT(c != NULL);
    GROK_ASSERT(n_sets == 0 || sets != NULL);
    cfg_loader *L = calloc(1, sizeof *L);
    char *dir = NULL;
    if (!L)
        return grok_fail(e, GROK_ENOMEM, "cfg_load: out of memory");
    cfg_defaults(&L->run);
    for (int i = 0; i < CFG_N_KEYS; i++)
        L->org[i] = (cfg_origin){"<default>", 0, 0};
    int rc = GROK_OK;
    if (path) {
        const char *slash = strrchr(path, '/');
        if (slash) {
            size_t n = slash == path ? 1 : (size_t)(slash - path);
            dir = malloc(n + 1);
            if (!dir) {
                free(L);
                return grok_fail(e, GROK_ENOMEM, "cfg_load: out of memory");
            }
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
        L->inc_dir = dir;
        rc = cfg_read_into(L, path, e);
    }
    for (int i = 0; i < n_sets && rc == GROK_OK; i++)
        rc = cfg_set_from(&L->run, L->org, sets[i], e);
    if (rc == GROK_OK)
        rc = cfg_check_all(&L->run, L->org, L->inc_dir, e);
    if (rc == GROK_OK) {
        cfg_fill_derived(&L->run);
        memcpy(c, &L->run, sizeof *c);
    }
    if (L->have_cf)
        config_destroy(&L->cf);
    free(dir);
    free(L);
    return rc;
}
