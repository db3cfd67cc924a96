/* export.c: the three exports of export.h.
 *
 * All three first open the run directory (rdir.c) and check every
 * checkpoint they will use (export_check), then write.  The .npz is streamed:
 * the check records where each tensor's bytes lie in each file, and the
 * writer then reads tensor by tensor across checkpoints with pread, so a run
 * of any length exports in the memory of one tensor.
 *
 * Legend: C checkpoints exported, K tensors per checkpoint. */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "notebook.h"
#include "npy.h"
#include "rdir.h"
#include "safetensors.h"

/* ------------------------------------------------------------------------ */
/* choosing and checking checkpoints */

/* What the check found in the first checkpoint, which every other must
 * match. */
typedef struct {
    int n;                   /* K */
    char **names;            /* [K] */
    st_dtype *dtype;         /* [K] */
    int *ndim;               /* [K] */
    int64_t (*shape)[ST_MAX_DIMS]; /* [K] */
    size_t *bytes;           /* [K] */
    int n_meta;
    char **meta_key, **meta_value; /* [n_meta] metadata of the last checked checkpoint */
    /* per exported checkpoint c: where tensor k's bytes start in its file */
    off_t *offset;           /* [C * K] */
    off_t *file_size;        /* [C] */
} export_layout;

static void export_layout_free(export_layout *L)
{
    for (int k = 0; k < L->n; k++)
        free(L->names ? L->names[k] : NULL);
    for (int i = 0; i < L->n_meta; i++) {
        free(L->meta_key[i]);
        free(L->meta_value[i]);
    }
    free(L->meta_key);
    free(L->meta_value);
    free(L->names);
    free(L->dtype);
    free(L->ndim);
    free(L->shape);
    free(L->bytes);
    free(L->offset);
    free(L->file_size);
    memset(L, 0, sizeof *L);
}

/* Appends "[a, b, c]" */
static void export_shape_text(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, d ? ", " : "", shape[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* Fills idx[0..*n) with the checkpoint indices of o's epochs (all when none
 * are given), in the order given, without repeats. */
static int export_choose(const rdir *r, const export_opts *o, int **idx, int *n, grok_err *e)
{
    int want = (o && o->epochs && o->n_epochs > 0) ? o->n_epochs : r->n_ckpt;
    int *ix = malloc((size_t)want * sizeof *ix);
    if (!ix)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    int m = 0;
    if (!(o && o->epochs && o->n_epochs > 0)) {
        for (int i = 0; i < r->n_ckpt; i++)
            ix[m++] = i;
    } else {
        for (int j = 0; j < o->n_epochs; j++) {
            long ep = o->epochs[j];
            int i = ep == EXPORT_LAST ? r->n_ckpt - 1 : rdir_ckpt_index(r, ep);
            if (i < 0) {
                /* name the nearest checkpoints and the range */
                int below = -1, above = -1;
                for (int k = 0; k < r->n_ckpt; k++) {
                    if (r->ckpt_epoch[k] < ep)
                        below = k;
                    else if (above < 0)
                        above = k;
                }
                char near[160] = "";
                if (below >= 0 && above >= 0)
                    snprintf(near, sizeof near, "; the nearest are %ld and %ld", r->ckpt_epoch[below],
                             r->ckpt_epoch[above]);
                free(ix);
                return grok_fail(e, GROK_EINVAL,
                                 "--epochs: %s has no checkpoint of epoch %ld: it has %d "
                                 "checkpoints, epochs %ld to %ld%s (or say 'last')",
                                 r->dir, ep, r->n_ckpt, r->ckpt_epoch[0],
                                 r->ckpt_epoch[r->n_ckpt - 1], near);
            }
            int seen = 0;
            for (int k = 0; k < m; k++)
                seen |= ix[k] == i;
            if (!seen)
                ix[m++] = i;
        }
    }
    *idx = ix;
    *n = m;
    return GROK_OK;
}

static char *export_strdup(const char *s, int *oom)
{
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

/* The progress hook of o, or NULL. */
static const grok_progress *export_prog(const export_opts *o)
{
    return o ? o->progress : NULL;
}

/* Reads and checks checkpoints idx[0..C), each a step of `steps` on prog;
 * fills L. */
static int export_check(const rdir *r, const int *idx, int C, export_layout *L,
                        const grok_progress *prog, long steps, grok_err *e)
{
    memset(L, 0, sizeof *L);
    L->file_size = calloc((size_t)C, sizeof *L->file_size);
    if (!L->file_size)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    int rc = GROK_OK;
    for (int c = 0; c < C && rc == GROK_OK; c++) {
        const char *path = r->ckpt_path[idx[c]];
        st_file f;
        grok_err se = {{0}};
        if ((rc = st_read(&f, path, &se)) != GROK_OK) {
            rc = grok_fail(e, rc, "%s%s", se.msg,
                           rc == GROK_EFORMAT ? " (a damaged checkpoint; leave it out with "
                                                "--epochs, or restore it)"
                                              : "");
            break;
        }
        L->file_size[c] = (off_t)f.n_bytes;
        const char *mep = st_meta_get(&f, "epoch");
        if (mep) {
            char *end;
            errno = 0;
            long v = strtol(mep, &end, 10);
            if (errno || *end || end == mep || v != r->ckpt_epoch[idx[c]])
                rc = grok_fail(e, GROK_EFORMAT,
                               "%s: its metadata says epoch \"%s\" but its name says %ld", path, mep,
                               r->ckpt_epoch[idx[c]]);
        }
        if (rc == GROK_OK && c == 0) {
            int K = f.n_tensors, oom = 0;
            L->n = K;
            L->names = calloc((size_t)K ? (size_t)K : 1, sizeof *L->names);
            L->dtype = calloc((size_t)K ? (size_t)K : 1, sizeof *L->dtype);
            L->ndim = calloc((size_t)K ? (size_t)K : 1, sizeof *L->ndim);
            L->shape = calloc((size_t)K ? (size_t)K : 1, sizeof *L->shape);
            L->bytes = calloc((size_t)K ? (size_t)K : 1, sizeof *L->bytes);
            L->offset = calloc((size_t)C * (size_t)(K ? K : 1), sizeof *L->offset);
            if (!L->names || !L->dtype || !L->ndim || !L->shape || !L->bytes || !L->offset)
                oom = 1;
            for (int k = 0; k < K && !oom; k++) {
                const st_tensor *t = &f.tensors[k];
                L->names[k] = export_strdup(t->name, &oom);
                L->dtype[k] = t->dtype;
                L->ndim[k] = t->ndim;
                memcpy(L->shape[k], t->shape, sizeof L->shape[k]);
                L->bytes[k] = st_tensor_numel(t) * st_dtype_size(t->dtype);
            }
            if (oom)
                rc = grok_fail(e, GROK_ENOMEM, "out of memory");
            else if (K == 0)
                rc = grok_fail(e, GROK_EFORMAT, "%s: holds no tensors", path);
        }
        for (int k = 0; rc == GROK_OK && k < L->n; k++) {
            const st_tensor *t = st_find(&f, L->names[k]);
            char s1[128], s2[128];
            if (!t) {
                rc = grok_fail(e, GROK_EFORMAT,
                               "%s: no tensor \"%s\", which the checkpoint of epoch %ld has", path,
                               L->names[k], r->ckpt_epoch[idx[0]]);
            } else if (t->dtype != L->dtype[k] || t->ndim != L->ndim[k] ||
                       memcmp(t->shape, L->shape[k], (size_t)t->ndim * sizeof t->shape[0]) != 0) {
                export_shape_text(s1, sizeof s1, t->ndim, t->shape);
                export_shape_text(s2, sizeof s2, L->ndim[k], L->shape[k]);
                rc = grok_fail(e, GROK_EFORMAT,
                               "%s: tensor \"%s\" is %s %s, but %s %s in the checkpoint of epoch "
                               "%ld",
                               path, L->names[k], st_dtype_name(t->dtype), s1,
                               st_dtype_name(L->dtype[k]), s2, r->ckpt_epoch[idx[0]]);
            } else {
                L->offset[(size_t)c * (size_t)L->n + (size_t)k] =
                    (off_t)((const unsigned char *)t->data - f.bytes);
            }
        }
        if (rc == GROK_OK && f.n_tensors != L->n)
            rc = grok_fail(e, GROK_EFORMAT,
                           "%s: %d tensors, but the checkpoint of epoch %ld has %d", path,
                           f.n_tensors, r->ckpt_epoch[idx[0]], L->n);
        if (rc == GROK_OK && c == C - 1) { /* keep the metadata of the last one */
            int oom = 0;
            L->meta_key = calloc((size_t)f.n_meta + 1, sizeof *L->meta_key);
            L->meta_value = calloc((size_t)f.n_meta + 1, sizeof *L->meta_value);
            if (!L->meta_key || !L->meta_value)
                oom = 1;
            for (int i = 0; i < f.n_meta && !oom; i++) {
                L->meta_key[i] = export_strdup(f.meta[i].key, &oom);
                L->meta_value[i] = export_strdup(f.meta[i].value, &oom);
                L->n_meta = i + 1;
            }
            if (oom)
                rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        }
        st_file_free(&f);
        char item[48];
        snprintf(item, sizeof item, "checked epoch %ld", r->ckpt_epoch[idx[c]]);
        grok_progress_step(prog, c + 1, steps, item);
    }
    if (rc != GROK_OK)
        export_layout_free(L);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* output paths */

static int export_path(char *buf, size_t n, const char *a, const char *b, grok_err *e)
{
    int len = snprintf(buf, n, "%s%s%s", a, b && a[0] && a[strlen(a) - 1] != '/' ? "/" : "",
                       b ? b : "");
    if (len < 0 || (size_t)len >= n)
        return grok_fail(e, GROK_EINVAL, "path too long: %s/%s", a, b ? b : "");
    return GROK_OK;
}

/* The output file: o->out (inside it, under name, when it is an existing
 * directory), else dir/name. */
static int export_out_file(char *buf, size_t n, const export_opts *o, const char *dir,
                           const char *name, grok_err *e)
{
    struct stat st;
    if (o && o->out && !(stat(o->out, &st) == 0 && S_ISDIR(st.st_mode)))
        return export_path(buf, n, o->out, NULL, e);
    return export_path(buf, n, o && o->out ? o->out : dir, name, e);
}

/* Creates the directory that will hold file path (mkdir -p). */
static int export_mkdir_parent(const char *path, grok_err *e)
{
    char *dir = strdup(path);
    if (!dir)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = GROK_OK;
    if (slash && slash != dir) {
        *slash = '\0';
        rc = fileio_mkdir_p(dir, e);
    }
    free(dir);
    return rc;
}

static void export_set_result(export_result *res, const char *path)
{
    if (!res)
        return;
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", path);
}

/* ------------------------------------------------------------------------ */
/* npz */

static const char *export_descr(st_dtype d)
{
    switch (d) {
    case ST_F32: return "<f4";
    case ST_F64: return "<f8";
    case ST_I32: return "<i4";
    case ST_I64: return "<i8";
    case ST_U8: return "|u1";
    case ST_F16: return "<f2";
    case ST_BF16: break; /* numpy has no bfloat16 (grok's checkpoints are F32) */
    }
    return "?";
}

/* Strict whole number that fits int64: 1 and *v set. */
static int export_is_int(const char *s, long long *v)
{
    if (!s[0] || (s[0] == '0' && s[1]))
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return 0;
    *v = x;
    return 1;
}

/* Writes s (UTF-8) as a 0-d numpy unicode array (<U<n>, UTF-32LE); invalid
 * bytes become U+FFFD. */
static int export_npz_text(npy_zip *z, const char *name, const char *s, grok_err *e)
{
    size_t len = strlen(s);
    uint32_t *u = malloc((len ? len : 1) * sizeof *u);
    if (!u)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        uint32_t cp = 0xFFFD;
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 1) {
            cp = c;
        } else if (k > 1 && i + k <= len) {
            uint32_t v = c & (0x3Fu >> (k - 1));
            size_t j = 1;
            for (; j < k && (p[i + j] & 0xC0) == 0x80; j++)
                v = (v << 6) | (p[i + j] & 0x3Fu);
            if (j == k && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF))
                cp = v;
            else
                k = 1;
        } else {
            k = 1;
        }
        u[n++] = cp;
        i += k;
    }
    unsigned char *le = malloc((n ? n : 1) * 4);
    if (!le) {
        free(u);
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 4; b++)
            le[4 * i + (size_t)b] = (unsigned char)((u[i] >> (8 * b)) & 0xFF);
    free(u);
    /* numpy stores '' as <U1 holding one NUL */
    char descr[32];
    snprintf(descr, sizeof descr, "<U%zu", n ? n : (size_t)1);
    if (n == 0)
        memset(le, 0, 4);
    int rc = npy_zip_add(z, name, descr, 0, NULL, le, e);
    free(le);
    return rc;
}

/* The numeric columns of a TSV as "<prefix>.<column>" arrays. */
static int export_npz_table(npy_zip *z, const rundir_tsv *t, const char *prefix, grok_err *e)
{
    int rc = GROK_OK;
    double *col = malloc(((size_t)t->n_rows ? (size_t)t->n_rows : 1) * sizeof *col);
    int64_t *icol = malloc(((size_t)t->n_rows ? (size_t)t->n_rows : 1) * sizeof *icol);
    if (!col || !icol) {
        free(col);
        free(icol);
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    for (int c = 0; c < t->n_cols && rc == GROK_OK; c++) {
        if (!t->numeric[c])
            continue;
        char name[512];
        snprintf(name, sizeof name, "%s.%s", prefix, t->cols[c]);
        int64_t shape[1] = {t->n_rows};
        for (int i = 0; i < t->n_rows; i++)
            col[i] = t->v[(size_t)i * (size_t)t->n_cols + (size_t)c];
        if (strcmp(t->cols[c], "epoch") == 0) {
            for (int i = 0; i < t->n_rows; i++)
                icol[i] = (int64_t)col[i];
            rc = npy_zip_add(z, name, "<i8", 1, shape, icol, e);
        } else {
            rc = npy_zip_add(z, name, "<f8", 1, shape, col, e);
        }
    }
    free(col);
    free(icol);
    return rc;
}

/* Tensor k stacked over the exported checkpoints, as npy_zip_add_stream
 * pulls it: bytes [c * bytes_k, (c + 1) * bytes_k) are checkpoint c's copy,
 * read with pread from its file (kept open while its bytes are served; its
 * size is checked against the one export_check saw when it is opened). */
typedef struct {
    const rdir *r;
    const int *idx;
    const export_layout *L;
    int k;
    int c, fd; /* the open checkpoint, -1 when none */
} export_stream;

static int export_fill(void *ctx, uint64_t off, void *buf, size_t n, grok_err *e)
{
    export_stream *s = ctx;
    const export_layout *L = s->L;
    const uint64_t bytes = L->bytes[s->k];
    size_t done = 0;
    while (done < n) {
        int c = (int)((off + done) / bytes);
        uint64_t within = (off + done) % bytes;
        size_t take = n - done;
        if (take > bytes - within)
            take = (size_t)(bytes - within);
        const char *path = s->r->ckpt_path[s->idx[c]];
        if (c != s->c) {
            if (s->fd >= 0)
                close(s->fd);
            s->c = c;
            s->fd = open(path, O_RDONLY | O_CLOEXEC);
            if (s->fd < 0)
                return grok_fail(e, GROK_EIO, "cannot read %s: %s", path, strerror(errno));
            struct stat st;
            if (fstat(s->fd, &st) != 0 || st.st_size != L->file_size[c])
                return grok_fail(e, GROK_EFORMAT, "%s changed while it was being exported "
                                                  "(%lld bytes, %lld when checked)",
                                 path, (long long)st.st_size, (long long)L->file_size[c]);
        }
        off_t at = L->offset[(size_t)c * (size_t)L->n + (size_t)s->k] + (off_t)within;
        ssize_t got = pread(s->fd, (char *)buf + done, take, at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return grok_fail(e, got == 0 ? GROK_EFORMAT : GROK_EIO, "cannot read %s: %s", path,
                             got == 0 ? "unexpected end of file" : strerror(errno));
        done += (size_t)got;
    }
    return GROK_OK;
}

int export_npz(const char *dir, const export_opts *o, export_result *res, grok_err *e)
{
    GROK_ASSERT(dir);
    rdir r;
    int rc = rdir_open(&r, dir, e);
    if (rc != GROK_OK)
        return rc;
    int *idx = NULL, C = 0;
    export_layout L;
    memset(&L, 0, sizeof L);
    char path[4096];
    npy_zip *z = NULL;
    export_stream *streams = NULL;
    int n_streams = 0;
    if ((rc = export_choose(&r, o, &idx, &C, e)) != GROK_OK)
        goto out;
    if ((rc = export_check(&r, idx, C, &L, export_prog(o), 2L * C, e)) != GROK_OK)
        goto out;
    rc = export_out_file(path, sizeof path, o, dir, EXPORT_NPZ_NAME, e);
    if (rc != GROK_OK || (rc = export_mkdir_parent(path, e)) != GROK_OK)
        goto out;
    if ((rc = npy_zip_open(&z, path, e)) != GROK_OK)
        goto out;

    if (!(streams = calloc((size_t)L.n + 1, sizeof *streams))) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto out;
    }
    /* one [C, *shape] array per tensor, read across the checkpoints when the
     * archive is written */
    for (int k = 0; k < L.n && rc == GROK_OK; k++) {
        int64_t shape[NPY_MAX_DIMS];
        if (L.ndim[k] + 1 > NPY_MAX_DIMS) {
            rc = grok_fail(e, GROK_EFORMAT, "tensor \"%s\" has %d dimensions; at most %d export",
                           L.names[k], L.ndim[k], NPY_MAX_DIMS - 1);
            break;
        }
        shape[0] = C;
        memcpy(shape + 1, L.shape[k], (size_t)L.ndim[k] * sizeof shape[0]);
        streams[k] = (export_stream){&r, idx, &L, k, -1, -1};
        n_streams = k + 1;
        rc = npy_zip_add_stream(z, L.names[k], export_descr(L.dtype[k]), L.ndim[k] + 1, shape,
                                export_fill, &streams[k], e);
        grok_progress_step(export_prog(o), C + (long)(k + 1) * C / L.n, 2L * C, L.names[k]);
    }
    if (rc == GROK_OK) {
        int64_t *ep = malloc((size_t)C * sizeof *ep);
        if (!ep) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        } else {
            for (int c = 0; c < C; c++)
                ep[c] = r.ckpt_epoch[idx[c]];
            int64_t shape[1] = {C};
            rc = npy_zip_add(z, "epochs", "<i8", 1, shape, ep, e);
            free(ep);
        }
    }
    if (rc == GROK_OK)
        rc = export_npz_table(z, &r.metrics, "metrics", e);
    if (rc == GROK_OK && r.has_measures)
        rc = export_npz_table(z, &r.measures, "measures", e);
    for (int i = 0; i < L.n_meta && rc == GROK_OK; i++) {
        char name[512];
        long long v;
        if (strcmp(L.meta_key[i], "epoch") == 0)
            continue; /* per checkpoint: that is "epochs" */
        snprintf(name, sizeof name, "meta.%s", L.meta_key[i]);
        if (export_is_int(L.meta_value[i], &v)) {
            int64_t x = v;
            rc = npy_zip_add(z, name, "<i8", 0, NULL, &x, e);
        } else {
            rc = export_npz_text(z, name, L.meta_value[i], e);
        }
    }
    size_t bytes = 0;
    if (rc == GROK_OK) {
        rc = npy_zip_close(z, &bytes, e);
        z = NULL;
    }
    if (rc == GROK_OK && res) {
        export_set_result(res, path);
        res->n_checkpoints = C;
        res->bytes = bytes;
    }
out:
    npy_zip_abort(z);
    for (int k = 0; k < n_streams; k++)
        if (streams[k].fd >= 0)
            close(streams[k].fd);
    free(streams);
    free(idx);
    export_layout_free(&L);
    rdir_free(&r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* safetensors */

/* The HookedTransformerConfig keyword arguments for a checkpoint's
 * metadata, as a JSON object; "" when the metadata lacks the model keys. */
static void export_tl_config(const st_file *f, sbuf *out)
{
    static const char *const ints[] = {"n_layers", "d_model", "n_heads", "d_head",
                                       "d_mlp",    "d_vocab", "d_vocab_out", "n_ctx"};
    long long v;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const char *s = st_meta_get(f, ints[i]);
        if (!s || !export_is_int(s, &v))
            return;
    }
    const char *act = st_meta_get(f, "act"), *ln = st_meta_get(f, "layernorm");
    if (!act || !ln)
        return;
    sbuf_puts(out, "{");
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        export_is_int(st_meta_get(f, ints[i]), &v);
        sbuf_printf(out, "%s\"%s\": %lld", i ? ", " : "", ints[i], v);
    }
    sbuf_puts(out, ", \"act_fn\": ");
    sbuf_json_string(out, act);
    sbuf_printf(out, ", \"normalization_type\": %s}", strcmp(ln, "1") == 0 ? "\"LN\"" : "null");
}

static int export_same_dir(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

int export_safetensors(const char *dir, const export_opts *o, export_result *res, grok_err *e)
{
    GROK_ASSERT(dir);
    rdir r;
    int rc = rdir_open(&r, dir, e);
    if (rc != GROK_OK)
        return rc;
    int *idx = NULL, C = 0;
    export_layout L;
    memset(&L, 0, sizeof L);
    char odir[4096], ckdir[4096];
    size_t total = 0;
    if ((rc = export_choose(&r, o, &idx, &C, e)) != GROK_OK)
        goto out;
    if ((rc = export_check(&r, idx, C, &L, export_prog(o), 2L * C, e)) != GROK_OK)
        goto out;
    if (o && o->out)
        rc = export_path(odir, sizeof odir, o->out, NULL, e);
    else
        rc = export_path(odir, sizeof odir, dir, EXPORT_SAFETENSORS_DIR, e);
    if (rc == GROK_OK)
        rc = export_path(ckdir, sizeof ckdir, dir, "checkpoints", e);
    if (rc != GROK_OK)
        goto out;
    if (export_same_dir(odir, ckdir)) {
        rc = grok_fail(e, GROK_EINVAL,
                       "--out %s is the run's own checkpoints folder; choose another directory",
                       odir);
        goto out;
    }
    if ((rc = fileio_mkdir_p(odir, e)) != GROK_OK)
        goto out;
    for (int c = 0; c < C && rc == GROK_OK; c++) {
        const char *src = r.ckpt_path[idx[c]];
        st_file f;
        if ((rc = st_read(&f, src, e)) != GROK_OK)
            break;
        sbuf tl;
        sbuf_init(&tl);
        export_tl_config(&f, &tl);
        st_meta *meta = calloc((size_t)f.n_meta + 1, sizeof *meta);
        if (!meta || tl.oom) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        } else {
            int m = 0;
            for (int i = 0; i < f.n_meta; i++)
                if (strcmp(f.meta[i].key, "tl_config") != 0)
                    meta[m++] = f.meta[i];
            if (tl.len > 0)
                meta[m++] = (st_meta){"tl_config", tl.data};
            char path[4096], name[64];
            snprintf(name, sizeof name, "epoch-%06ld.safetensors", r.ckpt_epoch[idx[c]]);
            rc = export_path(path, sizeof path, odir, name, e);
            if (rc == GROK_OK)
                rc = st_write(path, f.tensors, f.n_tensors, meta, m, e);
            struct stat st;
            if (rc == GROK_OK && stat(path, &st) == 0)
                total += (size_t)st.st_size;
        }
        free(meta);
        sbuf_free(&tl);
        st_file_free(&f);
        char item[48];
        snprintf(item, sizeof item, "wrote epoch %ld", r.ckpt_epoch[idx[c]]);
        grok_progress_step(export_prog(o), C + c + 1, 2L * C, item);
    }
    if (rc == GROK_OK && res) {
        export_set_result(res, odir);
        res->n_checkpoints = C;
        res->bytes = total;
    }
out:
    free(idx);
    export_layout_free(&L);
    rdir_free(&r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* ipynb */

/* The path of `to` relative to the directory `from` (both absolute and
 * canonical): "." when equal, "../x" and so on. */
static int export_relpath(const char *from, const char *to, char *out, size_t n)
{
    size_t i = 0, last = 0;
    while (from[i] && from[i] == to[i]) {
        if (from[i] == '/')
            last = i;
        i++;
    }
    if (!from[i] && (!to[i] || to[i] == '/'))
        last = i;
    else if (!to[i] && from[i] == '/')
        last = i;
    /* components of `from` after the common prefix: one ".." each */
    size_t k = 0;
    out[0] = '\0';
    for (const char *p = from + last; *p; p++) {
        if (*p == '/' && p[1]) {
            int len = snprintf(out + k, n - k, "%s..", k ? "/" : "");
            if (len < 0 || (size_t)len >= n - k)
                return -1;
            k += (size_t)len;
        }
    }
    const char *rest = to + last;
    while (*rest == '/')
        rest++;
    if (*rest) {
        int len = snprintf(out + k, n - k, "%s%s", k ? "/" : "", rest);
        if (len < 0 || (size_t)len >= n - k)
            return -1;
        k += (size_t)len;
    }
    if (k == 0)
        snprintf(out, n, ".");
    return 0;
}

/* The run (or sweep) directory as the notebook at nb_path should name it:
 * relative to the notebook's directory, so the pair can be moved together. */
static int export_nb_dir(const char *nb_path, const char *real_dir, char *out, size_t n,
                         grok_err *e)
{
    char *d = strdup(nb_path);
    if (!d)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    char *slash = strrchr(d, '/');
    if (!slash)
        strcpy(d, ".");
    else if (slash == d)
        d[1] = '\0';
    else
        *slash = '\0';
    char *rd = realpath(d, NULL);
    free(d);
    if (!rd)
        return grok_fail(e, GROK_EIO, "realpath of the directory of %s: %s", nb_path,
                         strerror(errno));
    int bad = export_relpath(rd, real_dir, out, n);
    free(rd);
    if (bad)
        return grok_fail(e, GROK_EINVAL, "path too long: %s", real_dir);
    return GROK_OK;
}

static int export_is_sweep(const char *dir)
{
    char p[4096];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/sweep.tsv", dir) >= (int)sizeof p)
        return 0;
    if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    /* a run directory with a stray sweep.tsv is still a run */
    return !(snprintf(p, sizeof p, "%s/metrics.tsv", dir) < (int)sizeof p && stat(p, &st) == 0);
}

int export_ipynb(const char *dir, const export_opts *o, export_result *res, grok_err *e)
{
    GROK_ASSERT(dir);
    if (o && o->epochs && o->n_epochs > 0)
        return grok_fail(e, GROK_EINVAL,
                         "--epochs applies to npz and safetensors; the notebook reads every "
                         "checkpoint itself");
    const int sweep = export_is_sweep(dir);
    char path[4096], rel[4096];
    int rc;
    rc = export_out_file(path, sizeof path, o, dir,
                         sweep ? EXPORT_SWEEP_IPYNB_NAME : EXPORT_IPYNB_NAME, e);
    if (rc != GROK_OK)
        return rc;
    sbuf nb;
    sbuf_init(&nb);
    notebook_info info = {0};
    if (sweep) {
        rdir_sweep s;
        if ((rc = rdir_sweep_open(&s, dir, e)) != GROK_OK) {
            sbuf_free(&nb);
            return rc;
        }
        if ((rc = export_mkdir_parent(path, e)) == GROK_OK &&
            (rc = export_nb_dir(path, s.real, rel, sizeof rel, e)) == GROK_OK)
            rc = notebook_sweep(&s, rel, &nb, &info, e);
        rdir_sweep_free(&s);
    } else {
        rdir r;
        if ((rc = rdir_open(&r, dir, e)) != GROK_OK) {
            sbuf_free(&nb);
            return rc;
        }
        /* the notebook loads the checkpoints: check them all now */
        int *idx = NULL, C = 0;
        export_layout L;
        memset(&L, 0, sizeof L);
        if ((rc = export_choose(&r, NULL, &idx, &C, e)) == GROK_OK &&
            (rc = export_check(&r, idx, C, &L, export_prog(o), C, e)) == GROK_OK &&
            (rc = export_mkdir_parent(path, e)) == GROK_OK &&
            (rc = export_nb_dir(path, r.real, rel, sizeof rel, e)) == GROK_OK)
            rc = notebook_run(&r, rel, &nb, &info, e);
        free(idx);
        export_layout_free(&L);
        rdir_free(&r);
    }
    if (rc == GROK_OK)
        rc = fileio_write_atomic(path, nb.data, nb.len, e);
    if (rc == GROK_OK && res) {
        export_set_result(res, path);
        res->n_checkpoints = info.n_checkpoints;
        res->n_figures = info.n_figures;
        res->n_runs = info.n_runs;
        res->bytes = nb.len;
    }
    sbuf_free(&nb);
    return rc;
}
