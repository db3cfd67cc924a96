/* rundir.c: the run directory's names and readers (rundir.h).
 *
 * The TSV reader is strict about structure (row width) and lenient about
 * content (text cells, extra columns), so that new columns in later versions
 * do not break old readers; rundir_tsv_need makes a caller's columns strict.
 * summary.json is parsed by jansson with duplicate keys refused; config.cfg
 * by libconfig, the library that wrote its syntax. */
#include "rundir.h"

#include "group.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const rundir_metrics_cols[5] = {"epoch", "train_loss", "test_loss", "train_acc",
                                            "test_acc"};

/* ---- paths ----------------------------------------------------------------- */

int rundir_path(char *buf, size_t n, const char *dir, const char *name, grok_err *e)
{
    int k = snprintf(buf, n, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= n)
        return grok_fail(e, GROK_EINVAL, "path too long: '%s/%s'", dir, name);
    return GROK_OK;
}

char *rundir_join(const char *dir, const char *name)
{
    size_t la = strlen(dir), lb = strlen(name);
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, la);
    size_t k = la;
    if (la > 0 && dir[la - 1] != '/')
        s[k++] = '/';
    memcpy(s + k, name, lb + 1);
    return s;
}

static int rundir_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int rundir_has(const char *dir, const char *name)
{
    char *path = rundir_join(dir, name);
    int ok = path && rundir_is_file(path);
    free(path);
    return ok;
}

int rundir_read_opt(const char *dir, const char *name, char **text, grok_err *e)
{
    *text = NULL;
    char *path = rundir_join(dir, name);
    if (!path)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    if (!rundir_is_file(path)) {
        free(path);
        return 0;
    }
    size_t n;
    int rc = fileio_read_all(path, text, &n, e);
    free(path);
    return rc == GROK_OK ? 1 : rc;
}

/* ---- checkpoints ----------------------------------------------------------- */

int rundir_ckpt_name(char *buf, size_t n, long epoch)
{
    int k = snprintf(buf, n, RUNDIR_CHECKPOINTS "/epoch-%06ld.safetensors", epoch);
    return k < 0 || (size_t)k >= n ? GROK_EINVAL : GROK_OK;
}

long rundir_ckpt_epoch(const char *name)
{
    static const char pre[] = "epoch-", suf[] = ".safetensors";
    size_t n = strlen(name), np = sizeof pre - 1, ns = sizeof suf - 1;
    if (n < np + 6 + ns || strncmp(name, pre, np) != 0 || strcmp(name + n - ns, suf) != 0)
        return -1;
    size_t nd = n - np - ns;
    if (nd > 18 || (nd > 6 && name[np] == '0')) /* as %06ld writes it, nothing else */
        return -1;
    long v = 0;
    for (size_t i = np; i < np + nd; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int rundir_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int rundir_ckpt_list(const char *dir, long **epochs, int *n_out, grok_err *e)
{
    *epochs = NULL;
    *n_out = 0;
    char *cdir = rundir_join(dir, RUNDIR_CHECKPOINTS);
    if (!cdir)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    DIR *d = opendir(cdir);
    if (!d) {
        int rc = grok_fail(e, errno == ENOENT || errno == ENOTDIR ? GROK_EINVAL : GROK_EIO,
                           "cannot list checkpoints in '%s': %s", cdir, strerror(errno));
        free(cdir);
        return rc;
    }
    long *v = NULL;
    int n = 0, cap = 0, rc = GROK_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long ep = rundir_ckpt_epoch(de->d_name);
        if (ep < 0)
            continue;
        if (n == cap) {
            int nc = cap ? 2 * cap : 64;
            long *bigger = realloc(v, (size_t)nc * sizeof *v);
            if (!bigger) {
                rc = grok_fail(e, GROK_ENOMEM, "out of memory listing '%s'", cdir);
                break;
            }
            v = bigger;
            cap = nc;
        }
        v[n++] = ep;
    }
    closedir(d);
    free(cdir);
    if (rc != GROK_OK) {
        free(v);
        return rc;
    }
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, rundir_cmp_long);
    *epochs = v;
    *n_out = n;
    return GROK_OK;
}

static int rundir_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rundir_list_free(char **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

int rundir_list(const char *dir, const char *sub, int (*keep)(const char *, const char *),
                char ***out, int *out_n, grok_err *e)
{
    *out = NULL;
    *out_n = 0;
    char *fdir = sub ? rundir_join(dir, sub) : strdup(dir);
    if (!fdir)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    DIR *d = opendir(fdir);
    if (!d) {
        free(fdir);
        return GROK_OK;
    }
    char **list = NULL;
    int n = 0, cap = 0, rc = GROK_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *path = rundir_join(fdir, de->d_name);
        if (!path) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory listing %s", fdir);
            break;
        }
        int ok = keep(path, de->d_name);
        free(path);
        if (!ok)
            continue;
        if (n == cap) {
            int nc = cap ? 2 * cap : 16;
            char **l2 = realloc(list, (size_t)nc * sizeof *l2);
            if (!l2) {
                rc = grok_fail(e, GROK_ENOMEM, "out of memory listing %s", fdir);
                break;
            }
            list = l2;
            cap = nc;
        }
        if (!(list[n] = strdup(de->d_name))) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory listing %s", fdir);
            break;
        }
        n++;
    }
    closedir(d);
    free(fdir);
    if (rc != GROK_OK) {
        rundir_list_free(list, n);
        return rc;
    }
    if (n > 1)
        qsort(list, (size_t)n, sizeof *list, rundir_cmp_str);
    *out = list;
    *out_n = n;
    return GROK_OK;
}

int rundir_keep_png(const char *path, const char *name)
{
    size_t n = strlen(name);
    return n >= 5 && strcmp(name + n - 4, ".png") == 0 && rundir_is_file(path);
}

/* ---- TSV ------------------------------------------------------------------- */

void rundir_tsv_free(rundir_tsv *t)
{
    if (!t)
        return;
    for (int c = 0; c < t->n_cols && t->cols; c++)
        free(t->cols[c]);
    if (t->text)
        for (size_t i = 0; i < (size_t)t->n_rows * (size_t)t->n_cols; i++)
            free(t->text[i]);
    free(t->what);
    free(t->cols);
    free(t->v);
    free(t->text);
    free(t->line);
    free(t->numeric);
    free(t->bad_row);
    free(t->comment);
    memset(t, 0, sizeof *t);
}

static char *rundir_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Cells of line[0..len) split at tabs (malloc'ed copies); NULL when out of memory. */
static char **rundir_split(const char *line, size_t len, int *n)
{
    int count = 1;
    for (size_t i = 0; i < len; i++)
        count += line[i] == '\t';
    char **f = calloc((size_t)count, sizeof *f);
    if (!f)
        return NULL;
    size_t start = 0;
    for (int k = 0; k < count; k++) {
        const char *tab = memchr(line + start, '\t', len - start);
        size_t end = tab ? (size_t)(tab - line) : len;
        if (!(f[k] = rundir_strndup(line + start, end - start))) {
            rundir_list_free(f, k);
            return NULL;
        }
        start = end + 1;
    }
    *n = count;
    return f;
}

/* A cell's value: 1 and *x when a number (none/null are NaN), 0 for text. */
static int rundir_cell_value(const char *s, double *x)
{
    if (strcmp(s, "none") == 0 || strcmp(s, "null") == 0) {
        *x = NAN;
        return 1;
    }
    char *end;
    *x = strtod(s, &end);
    if (s[0] == '\0' || *end != '\0') {
        *x = NAN;
        return 0;
    }
    return 1;
}

/* Sets up the columns from the header cells f[0..nf) (taken over). */
static int rundir_tsv_columns(rundir_tsv *t, char **f, int nf, int named)
{
    t->n_cols = nf;
    t->numeric = malloc((size_t)nf * sizeof *t->numeric);
    t->bad_row = malloc((size_t)nf * sizeof *t->bad_row);
    t->cols = named ? f : calloc((size_t)nf, sizeof *t->cols);
    if (!t->numeric || !t->bad_row || !t->cols)
        return GROK_ENOMEM;
    for (int c = 0; c < nf; c++) {
        t->numeric[c] = 1;
        t->bad_row[c] = -1;
        if (!named && !(t->cols[c] = strdup("")))
            return GROK_ENOMEM;
    }
    return GROK_OK;
}

/* Appends the row of cells f[0..n_cols) (taken over), read at line lineno. */
static int rundir_tsv_push(rundir_tsv *t, char **f, int lineno, int *cap)
{
    if (t->n_rows == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        size_t cells = (size_t)nc * (size_t)t->n_cols;
        double *v = realloc(t->v, cells * sizeof *v);
        if (v)
            t->v = v;
        char **tx = v ? realloc(t->text, cells * sizeof *tx) : NULL;
        if (tx)
            t->text = tx;
        int *ln = tx ? realloc(t->line, (size_t)nc * sizeof *ln) : NULL;
        if (!ln)
            return GROK_ENOMEM;
        t->line = ln;
        *cap = nc;
    }
    for (int c = 0; c < t->n_cols; c++) {
        size_t at = (size_t)t->n_rows * (size_t)t->n_cols + (size_t)c;
        if (!rundir_cell_value(f[c], &t->v[at]) && t->numeric[c]) {
            t->numeric[c] = 0;
            t->bad_row[c] = t->n_rows;
        }
        t->text[at] = f[c];
    }
    t->line[t->n_rows++] = lineno;
    return GROK_OK;
}

int rundir_tsv_parse(rundir_tsv *t, const char *text, const char *what, int flags, grok_err *e)
{
    memset(t, 0, sizeof *t);
    if (!(t->what = strdup(what)))
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
    const int named = !(flags & RUNDIR_TSV_NO_HEADER);
    int rc = GROK_OK, lineno = 0, cap = 0, have_cols = 0;
    for (const char *p = text; *p && rc == GROK_OK;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *line = p;
        p = nl ? nl + 1 : p + len;
        lineno++;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > 0 && line[0] == '#') {
            size_t a = 1;
            while (a < len && line[a] == ' ')
                a++;
            if (!t->comment && !(t->comment = rundir_strndup(line + a, len - a)))
                rc = GROK_ENOMEM;
            continue;
        }
        if (len == 0)
            continue;
        int nf;
        char **f = rundir_split(line, len, &nf);
        if (!f) {
            rc = GROK_ENOMEM;
        } else if (!have_cols) {
            have_cols = 1;
            rc = rundir_tsv_columns(t, f, nf, named);
            if (!named && rc == GROK_OK)
                rc = rundir_tsv_push(t, f, lineno, &cap);
            if (!named)
                free(f);
        } else if (nf != t->n_cols) {
            rundir_list_free(f, nf);
            rc = grok_fail(e, GROK_EFORMAT, "%s:%d: %d cells, but the %s has %d", what, lineno, nf,
                           named ? "header" : "first row", t->n_cols);
        } else {
            rc = rundir_tsv_push(t, f, lineno, &cap);
            if (rc == GROK_OK)
                free(f);
            else
                rundir_list_free(f, nf);
        }
    }
    if (rc == GROK_ENOMEM)
        rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
    if (rc == GROK_OK && !have_cols)
        rc = grok_fail(e, GROK_EFORMAT, "%s: empty (no %s)", what, named ? "header row" : "rows");
    if (rc != GROK_OK)
        rundir_tsv_free(t);
    return rc;
}

int rundir_tsv_read(rundir_tsv *t, const char *dir, const char *name, int flags, grok_err *e)
{
    memset(t, 0, sizeof *t);
    char *text;
    int got = rundir_read_opt(dir, name, &text, e);
    if (got <= 0)
        return got;
    char *path = rundir_join(dir, name);
    int rc = path ? rundir_tsv_parse(t, text, path, flags, e)
                  : grok_fail(e, GROK_ENOMEM, "out of memory");
    free(path);
    free(text);
    return rc == GROK_OK ? 1 : rc;
}

int rundir_tsv_col(const rundir_tsv *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->cols[c], name) == 0)
            return c;
    return -1;
}

double rundir_tsv_at(const rundir_tsv *t, int r, int c)
{
    return t->v[(size_t)r * (size_t)t->n_cols + (size_t)c];
}

int rundir_tsv_need(const rundir_tsv *t, const char *const *names, int n, grok_err *e)
{
    for (int i = 0; i < n; i++) {
        int c = rundir_tsv_col(t, names[i]);
        if (c < 0)
            return grok_fail(e, GROK_EFORMAT, "%s: no column '%s'", t->what, names[i]);
        if (!t->numeric[c]) {
            int r = t->bad_row[c];
            return grok_fail(e, GROK_EFORMAT, "%s:%d: column '%s': '%s' is not a number", t->what,
                             t->line[r], names[i],
                             t->text[(size_t)r * (size_t)t->n_cols + (size_t)c]);
        }
    }
    return GROK_OK;
}

/* ---- summary.json ------------------------------------------------------ */

int rundir_summary_parse(rundir_summary *s, const char *text, size_t n, const char *what,
                         grok_err *e)
{
    json_error_t je;
    s->root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!s->root) {
        if (json_error_code(&je) == json_error_out_of_memory)
            return grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
        if (je.position >= (int)n && n > 0)
            return grok_fail(e, GROK_EFORMAT,
                             "%s: invalid JSON at line %d, column %d (end of text: truncated?): %s",
                             what, je.line, je.column, je.text);
        return grok_fail(e, GROK_EFORMAT, "%s: invalid JSON at line %d, column %d: %s", what,
                         je.line, je.column, je.text);
    }
    if (!json_is_object(s->root)) {
        rundir_summary_free(s);
        return grok_fail(e, GROK_EFORMAT, "%s: not a JSON object", what);
    }
    return GROK_OK;
}

int rundir_summary_read(rundir_summary *s, const char *dir, grok_err *e)
{
    s->root = NULL;
    char *text;
    int got = rundir_read_opt(dir, RUNDIR_SUMMARY, &text, e);
    if (got <= 0)
        return got;
    char *path = rundir_join(dir, RUNDIR_SUMMARY);
    int rc = path ? rundir_summary_parse(s, text, strlen(text), path, e)
                  : grok_fail(e, GROK_ENOMEM, "out of memory");
    free(path);
    free(text);
    return rc == GROK_OK ? 1 : rc;
}

void rundir_summary_free(rundir_summary *s)
{
    if (s) {
        json_decref(s->root);
        s->root = NULL;
    }
}

const json_t *rundir_summary_get(const rundir_summary *s, const char *key)
{
    const json_t *v = s ? s->root : NULL;
    while (v && *key) {
        const char *dot = strchr(key, '.');
        size_t len = dot ? (size_t)(dot - key) : strlen(key);
        v = json_is_object(v) ? json_object_getn(v, key, len) : NULL;
        key += dot ? len + 1 : len;
    }
    return v;
}

double rundir_summary_num(const rundir_summary *s, const char *key)
{
    const json_t *v = rundir_summary_get(s, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

long rundir_summary_epoch(const rundir_summary *s, const char *key)
{
    const json_t *v = rundir_summary_get(s, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : -1;
}

const char *rundir_summary_str(const rundir_summary *s, const char *key)
{
    return json_string_value(rundir_summary_get(s, key));
}

int rundir_summary_ints(const rundir_summary *s, const char *key, int *out, int max)
{
    const json_t *a = rundir_summary_get(s, key), *x;
    size_t i;
    int n = 0;
    json_array_foreach(a, i, x) {
        if (!json_is_integer(x))
            return 0;
        if (n < max)
            out[n++] = (int)json_integer_value(x);
    }
    return n;
}

void rundir_fmt_double(char *buf, size_t n, double x)
{
    if (!buf || n == 0)
        return;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void rundir_summary_cell(const rundir_summary *s, const char *key, sbuf *b)
{
    const json_t *v = rundir_summary_get(s, key), *x;
    char num[40];
    size_t i, start = b->len;
    if (json_is_string(v)) {
        sbuf_puts(b, json_string_value(v));
    } else if (json_is_integer(v)) {
        sbuf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        rundir_fmt_double(num, sizeof num, json_real_value(v));
        sbuf_puts(b, num);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            if (json_is_integer(x))
                sbuf_printf(b, "%s%" JSON_INTEGER_FORMAT, i ? "," : "", json_integer_value(x));
            else if (json_is_string(x))
                sbuf_printf(b, "%s%s", i ? "," : "", json_string_value(x));
            else
                break;
        }
        if (i < json_array_size(v) && b->data)
            b->len = start, b->data[start] = '\0';
    }
    if (b->len == start)
        sbuf_puts(b, "none");
}

/* ---- config.cfg ------------------------------------------------------------ */

/* The first line of text that libconfig would read as an @include (blanks,
 * then "@include"), or 0. */
static int rundir_include_line(const char *text)
{
    int line = 1;
    for (const char *s = text; *s; line++) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncmp(s, "@include", 8) == 0)
            return line;
        const char *nl = strchr(s, '\n');
        if (!nl)
            break;
        s = nl + 1;
    }
    return 0;
}

int rundir_config_parse(rundir_config *c, const char *text, const char *what, grok_err *e)
{
    c->loaded = 0;
    int inc = rundir_include_line(text);
    if (inc)
        return grok_fail(e, GROK_EFORMAT, "%s:%d: @include in a resolved config (grok writes "
                         "none; libconfig would read the named file)", what, inc);
    config_init(&c->cf);
    c->loaded = 1;
    if (!config_read_string(&c->cf, text)) {
        int rc = grok_fail(e, GROK_EFORMAT, "%s:%d: %s", what, config_error_line(&c->cf),
                           config_error_text(&c->cf));
        rundir_config_free(c);
        return rc;
    }
    return GROK_OK;
}

int rundir_config_read(rundir_config *c, const char *dir, grok_err *e)
{
    c->loaded = 0;
    char *text;
    int got = rundir_read_opt(dir, RUNDIR_CONFIG, &text, e);
    if (got <= 0)
        return got;
    char *path = rundir_join(dir, RUNDIR_CONFIG);
    int rc = path ? rundir_config_parse(c, text, path, e)
                  : grok_fail(e, GROK_ENOMEM, "out of memory");
    free(path);
    free(text);
    return rc == GROK_OK ? 1 : rc;
}

void rundir_config_free(rundir_config *c)
{
    if (c && c->loaded) {
        config_destroy(&c->cf);
        c->loaded = 0;
    }
}

static void rundir_put(char *buf, size_t n, size_t *k, const char *t)
{
    if (*k < n)
        *k += (size_t)snprintf(buf + *k, n - *k, "%s", t);
}

/* Appends setting s's text at buf[*k..n). */
static void rundir_setting_text(const config_setting_t *s, char *buf, size_t n, size_t *k)
{
    char num[40];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(num, sizeof num, "%lld", config_setting_get_int64(s));
        rundir_put(buf, n, k, num);
        break;
    case CONFIG_TYPE_FLOAT:
        rundir_fmt_double(num, sizeof num - 2, config_setting_get_float(s));
        if (isfinite(config_setting_get_float(s)) && !strpbrk(num, ".eE"))
            strcat(num, ".0");
        rundir_put(buf, n, k, num);
        break;
    case CONFIG_TYPE_BOOL:
        rundir_put(buf, n, k, config_setting_get_bool(s) ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING: rundir_put(buf, n, k, config_setting_get_string(s)); break;
    default: /* array, list, group */
        rundir_put(buf, n, k, "[");
        for (int i = 0; i < config_setting_length(s); i++) {
            rundir_put(buf, n, k, i ? ", " : "");
            rundir_setting_text(config_setting_get_elem(s, (unsigned)i), buf, n, k);
        }
        rundir_put(buf, n, k, "]");
    }
}

const char *rundir_config_text(const rundir_config *c, const char *path, char *buf, size_t n)
{
    const config_setting_t *s = c && c->loaded ? config_lookup(&c->cf, path) : NULL;
    if (!s || n == 0)
        return NULL;
    size_t k = 0;
    buf[0] = '\0';
    rundir_setting_text(s, buf, n, &k);
    return buf;
}

int rundir_config_operands(const rundir_config *c)
{
    const char *kind, *group;
    int p, degree, order;
    if (!c || !c->loaded || !config_lookup_string(&c->cf, "task.kind", &kind))
        return 0;
    if (!strcmp(kind, "modular"))
        return config_lookup_int(&c->cf, "task.p", &p) && p >= 2 && p <= 1000 ? p : 0;
    if (strcmp(kind, "group") || !config_lookup_string(&c->cf, "task.group", &group))
        return 0;
    int id = group_id_parse(group);
    if (id < 0)
        return 0;
    group_family fam;
    group_id_info(id, &fam, &degree, &order);
    return order;
}
