/* rdir.c: reading a run directory's files for the exports (rdir.h).
 *
 * The readers are deliberately small and strict about structure (a TSV row
 * with the wrong field count, a config line that is neither a group, a key
 * nor a comment, are format errors naming file and line) and lenient about
 * content (extra columns and keys are kept, unknown ones ignored by the
 * callers), so new columns in later versions do not break an export. */
#include "rdir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

#define RDIR_CONFIG_DEPTH 8

/* ------------------------------------------------------------------------ */
/* small helpers */

static char *rdir_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    size_t k = la;
    if (la > 0 && a[la - 1] != '/')
        s[k++] = '/';
    memcpy(s + k, b, lb + 1);
    return s;
}

static int rdir_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads dir/name into *text when it exists: 1 read, 0 absent, <0 error. */
static int rdir_read_opt(const char *dir, const char *name, char **text, grok_err *e)
{
    *text = NULL;
    char *path = rdir_join(dir, name);
    if (!path)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    if (!rdir_is_file(path)) {
        free(path);
        return 0;
    }
    size_t n;
    int rc = fileio_read_all(path, text, &n, e);
    free(path);
    return rc == GROK_OK ? 1 : rc;
}

static int rdir_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------------------ */
/* TSV */

void rdir_tsv_free(rdir_tsv *t)
{
    if (!t)
        return;
    for (int c = 0; c < t->n_cols; c++)
        free(t->cols ? t->cols[c] : NULL);
    if (t->text)
        for (size_t i = 0; i < (size_t)t->n_rows * (size_t)t->n_cols; i++)
            free(t->text[i]);
    free(t->cols);
    free(t->v);
    free(t->numeric);
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* Splits line[0..len) at tabs into fields (malloc'ed copies). */
static int rdir_split(const char *line, size_t len, char ***out, int *n)
{
    int count = 1;
    for (size_t i = 0; i < len; i++)
        count += line[i] == '\t';
    char **f = calloc((size_t)count, sizeof *f);
    if (!f)
        return GROK_ENOMEM;
    size_t start = 0;
    int k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == '\t') {
            f[k] = malloc(i - start + 1);
            if (!f[k]) {
                for (int j = 0; j < k; j++)
                    free(f[j]);
                free(f);
                return GROK_ENOMEM;
            }
            memcpy(f[k], line + start, i - start);
            f[k][i - start] = '\0';
            k++;
            start = i + 1;
        }
    }
    *out = f;
    *n = count;
    return GROK_OK;
}

int rdir_tsv_parse(rdir_tsv *t, const char *text, const char *what, grok_err *e)
{
    memset(t, 0, sizeof *t);
    int rc = GROK_OK, lineno = 0, cap = 0;
    const char *p = text;
    while (*p && rc == GROK_OK) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : p + len;
        lineno++;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0 || p[0] == '#') {
            p = next;
            continue;
        }
        char **f;
        int nf;
        if (rdir_split(p, len, &f, &nf) != GROK_OK) {
            rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
            break;
        }
        if (!t->cols) {
            t->cols = f;
            t->n_cols = nf;
            t->numeric = malloc((size_t)nf * sizeof *t->numeric);
            if (!t->numeric) {
                rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
                break;
            }
            for (int c = 0; c < nf; c++)
                t->numeric[c] = 1;
        } else if (nf != t->n_cols) {
            for (int j = 0; j < nf; j++)
                free(f[j]);
            free(f);
            rc = grok_fail(e, GROK_EFORMAT, "%s:%d: %d fields, but the header has %d", what, lineno,
                           nf, t->n_cols);
        } else {
            if (t->n_rows == cap) {
                int nc = cap ? 2 * cap : 64;
                double *v = realloc(t->v, (size_t)nc * (size_t)t->n_cols * sizeof *v);
                if (v)
                    t->v = v;
                char **tx = v ? realloc(t->text, (size_t)nc * (size_t)t->n_cols * sizeof *tx) : NULL;
                if (tx)
                    t->text = tx;
                if (!v || !tx) {
                    for (int j = 0; j < nf; j++)
                        free(f[j]);
                    free(f);
                    rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
                    break;
                }
                cap = nc;
            }
            for (int c = 0; c < nf; c++) {
                size_t at = (size_t)t->n_rows * (size_t)t->n_cols + (size_t)c;
                char *end;
                errno = 0;
                double x = strtod(f[c], &end);
                if (f[c][0] == '\0' || *end != '\0') {
                    x = NAN;
                    t->numeric[c] = 0;
                }
                t->v[at] = x;
                t->text[at] = f[c];
            }
            free(f);
            t->n_rows++;
        }
        p = next;
    }
    if (rc == GROK_OK && !t->cols)
        rc = grok_fail(e, GROK_EFORMAT, "%s: empty (no header row)", what);
    if (rc != GROK_OK)
        rdir_tsv_free(t);
    return rc;
}

int rdir_tsv_col(const rdir_tsv *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->cols[c], name) == 0)
            return c;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* config.cfg: the resolved config grok writes */

static int rdir_kv_push(rdir_kv **kv, int *n, int *cap, char *key, char *value)
{
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 32;
        rdir_kv *k2 = realloc(*kv, (size_t)nc * sizeof *k2);
        if (!k2)
            return GROK_ENOMEM;
        *kv = k2;
        *cap = nc;
    }
    (*kv)[*n].key = key;
    (*kv)[*n].value = value;
    (*n)++;
    return GROK_OK;
}

static void rdir_kv_free(rdir_kv *kv, int n)
{
    for (int i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static int rdir_is_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

int rdir_config_parse(const char *text, const char *what, rdir_kv **out, int *out_n,
                        grok_err *e)
{
    rdir_kv *kv = NULL;
    int n = 0, cap = 0, depth = 0, lineno = 0, rc = GROK_OK;
    char group[RDIR_CONFIG_DEPTH][128];
    size_t glen[RDIR_CONFIG_DEPTH];
    const char *p = text;
    while (*p && rc == GROK_OK) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : p + len;
        lineno++;
        /* cut a comment (# or //) outside quotes */
        int inq = 0;
        size_t end = 0;
        for (; end < len; end++) {
            char c = p[end];
            if (inq && c == '\\' && end + 1 < len) {
                end++;
                continue;
            }
            if (c == '"')
                inq = !inq;
            else if (!inq && (c == '#' || (c == '/' && end + 1 < len && p[end + 1] == '/')))
                break;
        }
        size_t a = 0, b = end;
        while (a < b && (p[a] == ' ' || p[a] == '\t'))
            a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r'))
            b--;
        if (a == b) {
            p = next;
            continue;
        }
        const char *s = p + a;
        size_t sl = b - a;
        if ((sl == 2 && memcmp(s, "};", 2) == 0) || (sl == 1 && s[0] == '}')) {
            if (depth == 0) {
                rc = grok_fail(e, GROK_EFORMAT, "%s:%d: '}' without an open group", what, lineno);
                break;
            }
            depth--;
            p = next;
            continue;
        }
        const char *eq = memchr(s, '=', sl);
        const char *colon = memchr(s, ':', sl);
        if (!eq || (colon && colon < eq))
            eq = colon;
        if (!eq) {
            rc = grok_fail(e, GROK_EFORMAT, "%s:%d: expected 'key = value;' or 'group = {'", what,
                           lineno);
            break;
        }
        size_t kl = (size_t)(eq - s);
        while (kl > 0 && (s[kl - 1] == ' ' || s[kl - 1] == '\t'))
            kl--;
        if (!rdir_is_name(s, kl) || kl >= sizeof group[0]) {
            rc = grok_fail(e, GROK_EFORMAT, "%s:%d: '%.*s' is not a setting name", what, lineno,
                           (int)kl, s);
            break;
        }
        const char *v = eq + 1;
        size_t vl = (size_t)(s + sl - v);
        while (vl > 0 && (*v == ' ' || *v == '\t'))
            v++, vl--;
        if (vl == 1 && v[0] == '{') {
            if (depth == RDIR_CONFIG_DEPTH) {
                rc = grok_fail(e, GROK_EFORMAT, "%s:%d: groups nested too deeply", what, lineno);
                break;
            }
            memcpy(group[depth], s, kl);
            group[depth][kl] = '\0';
            glen[depth] = kl;
            depth++;
            p = next;
            continue;
        }
        if (vl > 0 && v[vl - 1] == ';')
            vl--;
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        size_t full = kl + 1;
        for (int d = 0; d < depth; d++)
            full += glen[d] + 1;
        char *key = malloc(full);
        char *val = malloc(vl + 1);
        if (!key || !val) {
            free(key);
            free(val);
            rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
            break;
        }
        size_t k = 0;
        for (int d = 0; d < depth; d++) {
            memcpy(key + k, group[d], glen[d]);
            k += glen[d];
            key[k++] = '.';
        }
        memcpy(key + k, s, kl);
        key[k + kl] = '\0';
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') { /* unquote, unescape \" and \\ */
            size_t o = 0;
            for (size_t i = 1; i + 1 < vl; i++) {
                if (v[i] == '\\' && i + 2 < vl)
                    i++;
                val[o++] = v[i];
            }
            val[o] = '\0';
        } else {
            memcpy(val, v, vl);
            val[vl] = '\0';
        }
        if (rdir_kv_push(&kv, &n, &cap, key, val) != GROK_OK) {
            free(key);
            free(val);
            rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
        }
        p = next;
    }
    if (rc == GROK_OK && depth != 0)
        rc = grok_fail(e, GROK_EFORMAT, "%s: group '%s' is not closed", what, group[depth - 1]);
    if (rc != GROK_OK) {
        rdir_kv_free(kv, n);
        return rc;
    }
    *out = kv;
    *out_n = n;
    return GROK_OK;
}

const char *rdir_config(const rdir *r, const char *key)
{
    for (int i = 0; i < r->n_config; i++)
        if (strcmp(r->config[i].key, key) == 0)
            return r->config[i].value;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* checkpoints and figures */

/* "epoch-NNNNNN.safetensors" (six or more digits) -> epoch, else -1. */
static long rdir_ckpt_epoch(const char *name)
{
    static const char pre[] = "epoch-", suf[] = ".safetensors";
    size_t n = strlen(name);
    if (strncmp(name, pre, sizeof pre - 1) != 0 || n < sizeof pre - 1 + 6 + sizeof suf - 1)
        return -1;
    if (strcmp(name + n - (sizeof suf - 1), suf) != 0)
        return -1;
    const char *d = name + sizeof pre - 1;
    size_t nd = n - (sizeof pre - 1) - (sizeof suf - 1);
    if (nd > 18)
        return -1;
    long v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
        v = v * 10 + (d[i] - '0');
    }
    return v;
}

typedef struct {
    long epoch;
    char *path;
} rdir_ckpt;

static int rdir_cmp_ckpt(const void *a, const void *b)
{
    const rdir_ckpt *x = a, *y = b;
    return (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

static int rdir_list_ckpts(rdir *r, grok_err *e)
{
    char *cdir = rdir_join(r->dir, "checkpoints");
    if (!cdir)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    DIR *d = opendir(cdir);
    if (!d) {
        int rc = errno == ENOENT
                     ? grok_fail(e, GROK_EINVAL,
                                 "%s is not a run directory: it has no checkpoints/ folder (a run "
                                 "directory holds config.cfg, metrics.tsv and "
                                 "checkpoints/epoch-NNNNNN.safetensors, as grok train writes them)",
                                 r->dir)
                     : grok_fail(e, GROK_EIO, "cannot list %s: %s", cdir, strerror(errno));
        free(cdir);
        return rc;
    }
    rdir_ckpt *c = NULL;
    int n = 0, cap = 0, rc = GROK_OK;
    struct dirent *de;
    while (rc == GROK_OK && (de = readdir(d)) != NULL) {
        long ep = rdir_ckpt_epoch(de->d_name);
        if (ep < 0)
            continue;
        if (n == cap) {
            int nc = cap ? 2 * cap : 64;
            rdir_ckpt *c2 = realloc(c, (size_t)nc * sizeof *c2);
            if (!c2) {
                rc = grok_fail(e, GROK_ENOMEM, "out of memory listing %s", cdir);
                break;
            }
            c = c2;
            cap = nc;
        }
        c[n].epoch = ep;
        c[n].path = rdir_join(cdir, de->d_name);
        if (!c[n].path) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory listing %s", cdir);
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == GROK_OK && n == 0)
        rc = grok_fail(e, GROK_EINVAL,
                       "%s has no checkpoints: %s holds no epoch-NNNNNN.safetensors (was the run "
                       "killed before its first checkpoint? grok resume %s continues it)",
                       r->dir, cdir, r->dir);
    if (rc == GROK_OK) {
        qsort(c, (size_t)n, sizeof *c, rdir_cmp_ckpt);
        for (int i = 1; i < n && rc == GROK_OK; i++)
            if (c[i].epoch == c[i - 1].epoch)
                rc = grok_fail(e, GROK_EFORMAT, "%s: two checkpoints of epoch %ld: %s and %s", cdir,
                               c[i].epoch, c[i - 1].path, c[i].path);
    }
    if (rc == GROK_OK) {
        r->ckpt_epoch = malloc((size_t)n * sizeof *r->ckpt_epoch);
        r->ckpt_path = malloc((size_t)n * sizeof *r->ckpt_path);
        if (!r->ckpt_epoch || !r->ckpt_path)
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    if (rc == GROK_OK) {
        for (int i = 0; i < n; i++) {
            r->ckpt_epoch[i] = c[i].epoch;
            r->ckpt_path[i] = c[i].path;
        }
        r->n_ckpt = n;
    } else {
        for (int i = 0; i < n; i++)
            free(c[i].path);
    }
    free(c);
    free(cdir);
    return rc;
}

/* The entries of dir/sub that pass keep(), sorted; a missing folder gives
 * none.  keep gets the entry's full path and name. */
static int rdir_list(const char *dir, const char *sub, int (*keep)(const char *, const char *),
                       char ***out, int *out_n, grok_err *e)
{
    *out = NULL;
    *out_n = 0;
    char *fdir = sub ? rdir_join(dir, sub) : strdup(dir);
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
        char *path = rdir_join(fdir, de->d_name);
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
        for (int i = 0; i < n; i++)
            free(list[i]);
        free(list);
        return rc;
    }
    if (n > 1)
        qsort(list, (size_t)n, sizeof *list, rdir_cmp_str);
    *out = list;
    *out_n = n;
    return GROK_OK;
}

/* A regular file named *.png */
static int rdir_keep_png(const char *path, const char *name)
{
    size_t n = strlen(name);
    return n >= 5 && strcmp(name + n - 4, ".png") == 0 && rdir_is_file(path);
}

/* A directory holding metrics.tsv (a run) */
static int rdir_keep_run(const char *path, const char *name)
{
    (void)name;
    char *m = rdir_join(path, "metrics.tsv");
    int ok = m && rdir_is_file(m);
    free(m);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* the whole directory */

void rdir_free(rdir *r)
{
    if (!r)
        return;
    free(r->dir);
    free(r->name);
    free(r->real);
    for (int i = 0; i < r->n_ckpt; i++)
        free(r->ckpt_path[i]);
    free(r->ckpt_path);
    free(r->ckpt_epoch);
    rdir_tsv_free(&r->metrics);
    rdir_tsv_free(&r->measures);
    rdir_tsv_free(&r->fourier_embed);
    json_free(&r->summary);
    rdir_kv_free(r->config, r->n_config);
    for (int i = 0; i < r->n_figures; i++)
        free(r->figures[i]);
    free(r->figures);
    memset(r, 0, sizeof *r);
}

/* Reads an optional TSV (1 read, 0 absent, <0 error). */
static int rdir_opt_tsv(rdir *r, const char *name, rdir_tsv *t, grok_err *e)
{
    char *text;
    int got = rdir_read_opt(r->dir, name, &text, e);
    if (got <= 0)
        return got;
    char *path = rdir_join(r->dir, name);
    int rc = path ? rdir_tsv_parse(t, text, path, e) : grok_fail(e, GROK_ENOMEM, "out of memory");
    free(path);
    free(text);
    return rc == GROK_OK ? 1 : rc;
}

static int rdir_not_run(const rdir *r, const char *missing, grok_err *e)
{
    char *sweep = rdir_join(r->dir, "sweep.tsv");
    int is_sweep = sweep && rdir_is_file(sweep);
    free(sweep);
    return grok_fail(e, GROK_EINVAL,
                     "%s is not a run directory: it has no %s (a run directory holds config.cfg, "
                     "metrics.tsv and checkpoints/epoch-NNNNNN.safetensors, as grok train writes "
                     "them)%s",
                     r->dir, missing,
                     is_sweep ? "; it holds sweep.tsv, so it is a sweep: only --to ipynb "
                                "exports a whole sweep"
                              : "");
}

int rdir_open(rdir *r, const char *dir, grok_err *e)
{
    GROK_ASSERT(r && dir);
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(dir, &st) != 0)
        return grok_fail(e, errno == ENOENT || errno == ENOTDIR ? GROK_EINVAL : GROK_EIO,
                         "run directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "%s is not a directory (expected a run directory)", dir);
    r->dir = strdup(dir);
    r->real = realpath(dir, NULL);
    if (!r->dir || !r->real) {
        int rc = r->dir && !r->real ? grok_fail(e, GROK_EIO, "realpath %s: %s", dir, strerror(errno))
                                    : grok_fail(e, GROK_ENOMEM, "out of memory");
        rdir_free(r);
        return rc;
    }
    const char *base = strrchr(r->real, '/');
    base = base && base[1] ? base + 1 : r->real;
    if (!(r->name = strdup(base))) {
        rdir_free(r);
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    }

    char *text = NULL;
    int rc = rdir_read_opt(dir, "config.cfg", &text, e);
    if (rc == 0)
        rc = rdir_not_run(r, "config.cfg", e);
    if (rc > 0) {
        char *path = rdir_join(dir, "config.cfg");
        rc = path ? rdir_config_parse(text, path, &r->config, &r->n_config, e)
                  : grok_fail(e, GROK_ENOMEM, "out of memory");
        free(path);
        free(text);
    }
    if (rc == GROK_OK) {
        rc = rdir_opt_tsv(r, "metrics.tsv", &r->metrics, e);
        if (rc == 0)
            rc = rdir_not_run(r, "metrics.tsv", e);
        else if (rc > 0)
            rc = GROK_OK;
    }
    if (rc == GROK_OK) {
        static const char *const need[] = {"epoch", "train_loss", "test_loss", "train_acc",
                                           "test_acc"};
        for (size_t i = 0; i < sizeof need / sizeof need[0] && rc == GROK_OK; i++) {
            int c = rdir_tsv_col(&r->metrics, need[i]);
            if (c < 0 || !r->metrics.numeric[c])
                rc = grok_fail(e, GROK_EFORMAT, "%s/metrics.tsv: %s column '%s'", dir,
                               c < 0 ? "no" : "non-numeric values in the", need[i]);
        }
    }
    if (rc == GROK_OK)
        rc = rdir_list_ckpts(r, e);
    if (rc == GROK_OK && (rc = rdir_opt_tsv(r, "measures.tsv", &r->measures, e)) >= 0) {
        r->has_measures = rc;
        rc = GROK_OK;
    }
    if (rc == GROK_OK &&
        (rc = rdir_opt_tsv(r, "fourier_embed.tsv", &r->fourier_embed, e)) >= 0) {
        r->has_fourier_embed = rc;
        rc = GROK_OK;
    }
    if (rc == GROK_OK && (rc = rdir_read_opt(dir, "summary.json", &text, e)) > 0) {
        char *path = rdir_join(dir, "summary.json");
        rc = path ? json_parse(&r->summary, text, strlen(text), path, e)
                  : grok_fail(e, GROK_ENOMEM, "out of memory");
        free(path);
        free(text);
        if (rc == GROK_OK && r->summary.type != JSON_OBJECT)
            rc = grok_fail(e, GROK_EFORMAT, "%s/summary.json: not a JSON object", dir);
        r->has_summary = rc == GROK_OK;
    }
    if (rc == GROK_OK) {
        char *split = rdir_join(dir, "split.tsv");
        if (!split)
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        r->has_split = split && rdir_is_file(split);
        free(split);
    }
    if (rc == GROK_OK)
        rc = rdir_list(dir, "figures", rdir_keep_png, &r->figures, &r->n_figures, e);
    if (rc != GROK_OK)
        rdir_free(r);
    return rc;
}

int rdir_ckpt_index(const rdir *r, long epoch)
{
    for (int i = 0; i < r->n_ckpt; i++)
        if (r->ckpt_epoch[i] == epoch)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* sweeps */

void rdir_sweep_free(rdir_sweep *s)
{
    if (!s)
        return;
    free(s->dir);
    free(s->real);
    free(s->name);
    rdir_tsv_free(&s->table);
    for (int i = 0; i < s->n_runs; i++)
        free(s->runs[i]);
    free(s->runs);
    for (int i = 0; i < s->n_figures; i++)
        free(s->figures[i]);
    free(s->figures);
    memset(s, 0, sizeof *s);
}

int rdir_sweep_open(rdir_sweep *s, const char *dir, grok_err *e)
{
    GROK_ASSERT(s && dir);
    memset(s, 0, sizeof *s);
    struct stat st;
    if (stat(dir, &st) != 0)
        return grok_fail(e, GROK_EINVAL, "sweep directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "%s is not a directory (expected a sweep directory)", dir);
    s->dir = strdup(dir);
    s->real = realpath(dir, NULL);
    if (!s->dir || !s->real) {
        rdir_sweep_free(s);
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    const char *base = strrchr(s->real, '/');
    base = base && base[1] ? base + 1 : s->real;
    s->name = strdup(base);
    char *text = NULL;
    int rc = s->name ? rdir_read_opt(dir, "sweep.tsv", &text, e)
                     : grok_fail(e, GROK_ENOMEM, "out of memory");
    if (rc == 0)
        rc = grok_fail(e, GROK_EINVAL,
                       "%s is not a sweep directory: it has no sweep.tsv (nor the metrics.tsv of "
                       "a run)",
                       dir);
    if (rc > 0) {
        char *path = rdir_join(dir, "sweep.tsv");
        rc = path ? rdir_tsv_parse(&s->table, text, path, e)
                  : grok_fail(e, GROK_ENOMEM, "out of memory");
        free(path);
        free(text);
    }
    if (rc == GROK_OK)
        rc = rdir_list(dir, NULL, rdir_keep_run, &s->runs, &s->n_runs, e);
    if (rc == GROK_OK)
        rc = rdir_list(dir, "figures", rdir_keep_png, &s->figures, &s->n_figures, e);
    if (rc != GROK_OK)
        rdir_sweep_free(s);
    return rc;
}
