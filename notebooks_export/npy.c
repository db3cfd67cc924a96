/* npy.c: the .npy header and the .npz writer declared in npy.h, on libzip.
 *
 * Each entry is a libzip callback source (zip_source_function) that serves
 * the .npy header and then the array's bytes, which it asks of the caller's
 * fill function (or a copy in memory) in pieces of NPY_ZIP_CHUNK bytes;
 * libzip pulls the sources in order when zip_close writes the archive, and
 * computes the CRC-32 itself.  The source tells libzip the entry's size up
 * front (ZIP_STAT_SIZE), so libzip writes ZIP64 fields exactly where sizes
 * or offsets need them; NPY_ZIP_FORCE_ZIP64 withholds the size, which makes
 * libzip write ZIP64 local headers (docs/formats.md, .npy and .npz).
 * Python's zipfile checks the central directory's CRC when numpy reads an
 * entry. */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "fileio.h"

#define NPY_ZIP_NAME_MAX 4096
/* bytes asked of a fill function at a time */
#define NPY_ZIP_CHUNK (1u << 20)

void npy_header(sbuf *out, const char *descr, int ndim, const int64_t *shape)
{
    GROK_ASSERT(ndim >= 0 && ndim <= NPY_MAX_DIMS);
    sbuf dict;
    sbuf_init(&dict);
    sbuf_printf(&dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < ndim; d++)
        sbuf_printf(&dict, d ? ", %lld" : "%lld", (long long)shape[d]);
    sbuf_puts(&dict, ndim == 1 ? ",), }" : "), }");
    /* magic(6) + version(2) + HEADER_LEN(2) + dict + spaces + '\n' = 64k */
    size_t total = 10 + dict.len + 1;
    size_t pad = (64 - total % 64) % 64;
    sbuf_append(out, "\x93NUMPY\x01\x00", 8);
    size_t hlen = dict.len + pad + 1;
    GROK_ASSERT(hlen <= 0xFFFF);
    const char len_le[2] = {(char)(hlen & 0xFF), (char)(hlen >> 8)};
    sbuf_append(out, len_le, 2);
    if (dict.data)
        sbuf_append(out, dict.data, dict.len);
    for (size_t k = 0; k < pad; k++)
        sbuf_append(out, " ", 1);
    sbuf_append(out, "\n", 1);
    sbuf_free(&dict);
}

/* Bytes per element of descr, 0 when it is not one this writer knows. */
static size_t npy_itemsize(const char *descr)
{
    if (strlen(descr) < 3 || (descr[0] != '<' && descr[0] != '|'))
        return 0;
    char kind = descr[1];
    char *end;
    errno = 0;
    long n = strtol(descr + 2, &end, 10);
    if (errno || *end != '\0' || n <= 0 || n > 1 << 20)
        return 0;
    if (kind == 'U')
        return descr[0] == '<' ? 4 * (size_t)n : 0;
    if (kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b')
        return (n == 1 || n == 2 || n == 4 || n == 8) ? (size_t)n : 0;
    return 0;
}

/* One entry: its .npy header, then its data from fill (or mem). */
typedef struct npy_zip_src {
    npy_zip *z;
    char *name;           /* for messages */
    unsigned char *head;  /* the .npy header */
    size_t head_n;
    uint64_t data_n;      /* bytes of data */
    npy_zip_fill_fn fill; /* NULL: mem */
    void *ctx;
    unsigned char *mem;   /* the copy npy_zip_add made */
    unsigned char *buf;   /* NPY_ZIP_CHUNK bytes from fill */
    size_t buf_n, buf_at; /* bytes in buf, bytes of it served */
    uint64_t pos;         /* bytes served so far (header included) */
    zip_error_t err;
} npy_zip_src;

struct npy_zip {
    char *path, *tmp;
    zip_t *za;
    unsigned flags;
    grok_err cb_err;      /* the first fill error */
    int cb_failed;
    void (*progress)(double, void *);
    void *progress_ud;
};

static time_t npy_zip_mtime(void)
{
    struct tm t = {0};
    t.tm_year = 80; /* 1980-01-01 00:00 local time: DOS date 0x0021, time 0 */
    t.tm_mday = 1;
    t.tm_isdst = -1;
    return mktime(&t);
}

/* Serves up to n bytes at the source's position into out; -1 on error. */
static zip_int64_t npy_zip_src_read(npy_zip_src *s, unsigned char *out, uint64_t n)
{
    uint64_t total = s->head_n + s->data_n, done = 0;
    if (n > total - s->pos)
        n = total - s->pos;
    while (done < n) {
        if (s->pos < s->head_n) {
            size_t k = s->head_n - (size_t)s->pos;
            if (k > n - done)
                k = (size_t)(n - done);
            memcpy(out + done, s->head + s->pos, k);
            s->pos += k;
            done += k;
            continue;
        }
        uint64_t off = s->pos - s->head_n;
        if (!s->fill) {
            uint64_t k = n - done;
            memcpy(out + done, s->mem + off, (size_t)k);
            s->pos += k;
            done += k;
            continue;
        }
        if (s->buf_at == s->buf_n) {
            uint64_t want = s->data_n - off;
            s->buf_n = want > NPY_ZIP_CHUNK ? NPY_ZIP_CHUNK : (size_t)want;
            s->buf_at = 0;
            grok_err fe = {{0}};
            int rc = s->fill(s->ctx, off, s->buf, s->buf_n, &fe);
            if (rc != GROK_OK) {
                if (!s->z->cb_failed) {
                    s->z->cb_failed = rc;
                    s->z->cb_err = fe;
                }
                s->buf_n = s->buf_at = 0;
                zip_error_set(&s->err, ZIP_ER_READ, EIO);
                return -1;
            }
        }
        size_t k = s->buf_n - s->buf_at;
        if (k > n - done)
            k = (size_t)(n - done);
        memcpy(out + done, s->buf + s->buf_at, k);
        s->buf_at += k;
        s->pos += k;
        done += k;
    }
    return (zip_int64_t)done;
}

static void npy_zip_src_free(npy_zip_src *s)
{
    free(s->name);
    free(s->head);
    free(s->mem);
    free(s->buf);
    zip_error_fini(&s->err);
    free(s);
}

static zip_int64_t npy_zip_src_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    npy_zip_src *s = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        s->pos = 0;
        s->buf_n = s->buf_at = 0;
        return 0;
    case ZIP_SOURCE_READ:
        return npy_zip_src_read(s, data, len);
    case ZIP_SOURCE_CLOSE:
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->valid = ZIP_STAT_MTIME | ZIP_STAT_COMP_METHOD;
        st->mtime = npy_zip_mtime();
        st->comp_method = ZIP_CM_STORE;
        if (!(s->z->flags & NPY_ZIP_FORCE_ZIP64)) {
            st->valid |= ZIP_STAT_SIZE;
            st->size = s->head_n + s->data_n;
        }
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&s->err, data, len);
    case ZIP_SOURCE_FREE:
        npy_zip_src_free(s);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default:
        zip_error_set(&s->err, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

int npy_zip_open_flags(npy_zip **out, const char *path, unsigned flags, grok_err *e)
{
    GROK_ASSERT(out && path);
    *out = NULL;
    npy_zip *z = calloc(1, sizeof *z);
    size_t tl = strlen(path) + 32;
    if (z) {
        z->path = strdup(path);
        z->tmp = malloc(tl);
    }
    if (!z || !z->path || !z->tmp) {
        if (z) {
            free(z->path);
            free(z->tmp);
        }
        free(z);
        return grok_fail(e, GROK_ENOMEM, "cannot write %s: out of memory", path);
    }
    z->flags = flags;
    snprintf(z->tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    unlink(z->tmp); /* a stale one from a killed process with this pid */
    int zerr = 0;
    z->za = zip_open(z->tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z->za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int rc = grok_fail(e, GROK_EIO, "cannot write %s: libzip: %s: %s", path, z->tmp,
                           zip_error_strerror(&ze));
        zip_error_fini(&ze);
        free(z->path);
        free(z->tmp);
        free(z);
        return rc;
    }
    *out = z;
    return GROK_OK;
}

int npy_zip_open(npy_zip **z, const char *path, grok_err *e)
{
    return npy_zip_open_flags(z, path, 0, e);
}

void npy_zip_set_progress(npy_zip *z, void (*fn)(double done, void *ud), void *ud)
{
    GROK_ASSERT(z);
    z->progress = fn;
    z->progress_ud = ud;
}

/* Checks name and descr and makes the entry's source (not yet added). */
static int npy_zip_src_new(npy_zip *z, const char *name, const char *descr, int ndim,
                           const int64_t *shape, npy_zip_src **out, char **full, grok_err *e)
{
    GROK_ASSERT(z && name && descr && out && full);
    GROK_ASSERT(ndim >= 0 && ndim <= NPY_MAX_DIMS && (shape || ndim == 0));
    *out = NULL;
    *full = NULL;
    size_t item = npy_itemsize(descr);
    if (item == 0)
        return grok_fail(e, GROK_EINVAL, "%s: array '%s': dtype '%s' is not one of <fN <iN <uN |b1 <UN",
                         z->path, name, descr);
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen + 4 > NPY_ZIP_NAME_MAX)
        return grok_fail(e, GROK_EINVAL, "%s: array name '%.64s' must have 1 to %d bytes", z->path,
                         name, NPY_ZIP_NAME_MAX - 4);
    char *f = malloc(nlen + 5);
    if (!f)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
    memcpy(f, name, nlen);
    memcpy(f + nlen, ".npy", 5);
    if (zip_name_locate(z->za, f, 0) >= 0) {
        free(f);
        return grok_fail(e, GROK_EINVAL, "%s: two arrays are called '%s'", z->path, name);
    }
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        GROK_ASSERT(shape[d] >= 0);
        if (shape[d] > 0 && numel > UINT64_MAX / 64 / (uint64_t)shape[d]) {
            free(f);
            return grok_fail(e, GROK_EINVAL, "%s: array '%s' is too large", z->path, name);
        }
        numel *= (uint64_t)shape[d];
    }
    npy_zip_src *s = calloc(1, sizeof *s);
    sbuf h;
    sbuf_init(&h);
    npy_header(&h, descr, ndim, shape);
    if (!s || h.oom || !(s->name = strdup(name))) {
        free(s);
        free(f);
        sbuf_free(&h);
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
    }
    s->z = z;
    s->head = (unsigned char *)h.data; /* the sbuf's buffer changes owner */
    s->head_n = h.len;
    s->data_n = numel * item;
    zip_error_init(&s->err);
    *out = s;
    *full = f;
    return GROK_OK;
}

/* Adds source s as entry full (stored, dated 1980-01-01); frees both on
 * failure. */
static int npy_zip_src_add(npy_zip *z, npy_zip_src *s, char *full, grok_err *e)
{
    zip_source_t *src = zip_source_function(z->za, npy_zip_src_cb, s);
    if (!src) {
        npy_zip_src_free(s);
        free(full);
        return grok_fail(e, GROK_ENOMEM, "%s: libzip: %s", z->path, zip_strerror(z->za));
    }
    zip_int64_t idx = zip_file_add(z->za, full, src, 0);
    int rc = GROK_OK;
    if (idx < 0) {
        zip_source_free(src); /* frees s */
        rc = grok_fail(e, GROK_EIO, "%s: libzip: cannot add %s: %s", z->path, full,
                       zip_strerror(z->za));
    } else if (zip_set_file_compression(z->za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0 ||
               zip_file_set_mtime(z->za, (zip_uint64_t)idx, npy_zip_mtime(), 0) != 0) {
        rc = grok_fail(e, GROK_EIO, "%s: libzip: %s: %s", z->path, full, zip_strerror(z->za));
    }
    free(full);
    return rc;
}

int npy_zip_add_stream(npy_zip *z, const char *name, const char *descr, int ndim,
                       const int64_t *shape, npy_zip_fill_fn fill, void *ctx, grok_err *e)
{
    GROK_ASSERT(fill);
    npy_zip_src *s;
    char *full;
    int rc = npy_zip_src_new(z, name, descr, ndim, shape, &s, &full, e);
    if (rc != GROK_OK)
        return rc;
    s->fill = fill;
    s->ctx = ctx;
    if (!(s->buf = malloc(NPY_ZIP_CHUNK))) {
        npy_zip_src_free(s);
        free(full);
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
    }
    return npy_zip_src_add(z, s, full, e);
}

int npy_zip_add(npy_zip *z, const char *name, const char *descr, int ndim, const int64_t *shape,
                const void *data, grok_err *e)
{
    npy_zip_src *s;
    char *full;
    int rc = npy_zip_src_new(z, name, descr, ndim, shape, &s, &full, e);
    if (rc != GROK_OK)
        return rc;
    GROK_ASSERT(data || s->data_n == 0);
    if (s->data_n > SIZE_MAX || !(s->mem = malloc(s->data_n ? (size_t)s->data_n : 1))) {
        npy_zip_src_free(s);
        free(full);
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
    }
    if (s->data_n)
        memcpy(s->mem, data, (size_t)s->data_n);
    return npy_zip_src_add(z, s, full, e);
}

static void npy_zip_free(npy_zip *z)
{
    free(z->path);
    free(z->tmp);
    free(z);
}

void npy_zip_abort(npy_zip *z)
{
    if (!z)
        return;
    if (z->za)
        zip_discard(z->za); /* nothing was written yet: libzip writes at zip_close */
    unlink(z->tmp);
    npy_zip_free(z);
}

static void npy_zip_progress_cb(zip_t *za, double done, void *ud)
{
    (void)za;
    npy_zip *z = ud;
    if (z->progress)
        z->progress(done, z->progress_ud);
}

int npy_zip_close(npy_zip *z, size_t *bytes, grok_err *e)
{
    GROK_ASSERT(z && z->za);
    if (z->progress)
        zip_register_progress_callback_with_state(z->za, 0.01, npy_zip_progress_cb, NULL, z);
    int rc = GROK_OK;
    if (zip_close(z->za) != 0) {
        if (z->cb_failed)
            rc = grok_fail(e, z->cb_failed, "%s", z->cb_err.msg);
        else
            rc = grok_fail(e, GROK_EIO, "cannot write %s: libzip: %s", z->path,
                           zip_strerror(z->za));
        zip_discard(z->za); /* removes libzip's own temporary file */
        z->za = NULL;
        npy_zip_abort(z);
        return rc;
    }
    z->za = NULL;
    int fd = open(z->tmp, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || fsync(fd) != 0)
        rc = grok_fail(e, GROK_EIO, "cannot write %s: fsync %s: %s", z->path, z->tmp,
                       strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc == GROK_OK && rename(z->tmp, z->path) != 0)
        rc = grok_fail(e, GROK_EIO, "cannot write %s: rename %s -> %s: %s", z->path, z->tmp,
                       z->path, strerror(errno));
    if (rc != GROK_OK) {
        npy_zip_abort(z);
        return rc;
    }
    if (bytes)
        *bytes = (size_t)st.st_size;
    if (fileio_fsync_parent(z->path) != 0)
        rc = grok_fail(e, GROK_EIO, "wrote %s but could not fsync its directory: %s", z->path,
                       strerror(errno));
    npy_zip_free(z);
    return rc;
}
