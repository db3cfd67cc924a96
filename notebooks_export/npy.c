/* npy.c: the .npy header and the streaming stored-ZIP writer declared in
 * npy.h.
 *
 * ZIP layout (PKWARE APPNOTE 6.3.x, sections 4.3.7, 4.3.12, 4.3.16), all
 * integers little-endian:
 *   local file header  sig 0x04034b50, version needed 20, flags 0, method 0
 *                      (stored), time 0, date 0x0021 (1980-01-01), CRC-32,
 *                      compressed size, size, name length, extra length 0,
 *                      name; then the entry's bytes (.npy header + data)
 *   central directory  one 46-byte record + name per entry (sig 0x02014b50)
 *                      with the local header's offset
 *   end record         sig 0x06054b50, entry counts, directory size/offset
 * The CRC and sizes of a local header are known only at the end of its
 * entry; npy_zip_end writes them back into place with pwrite (no data
 * descriptor, so every reader is happy).  Python's zipfile checks the
 * central directory's CRC when numpy reads an entry (docs/formats.md, .npz). */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fileio.h"

#define NPY_ZIP_NAME_MAX 4096
#define NPY_ZIP_MAX_ENTRIES 65535u
#define NPY_ZIP_LIMIT 0xFFFFFFFFull /* past this, offsets and sizes need ZIP64 */

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

typedef struct {
    char *name;          /* "<name>.npy" */
    uint32_t crc, size;
    uint64_t offset;     /* of the local header */
} npy_zip_entry;

struct npy_zip {
    char *path, *tmp;
    int fd;
    uint64_t pos;        /* bytes written so far */
    npy_zip_entry *entries;
    unsigned n, cap;
    int open_entry;      /* 1 between begin and end */
    uint64_t expect;     /* bytes the open entry still needs */
    uint32_t crc;        /* of the open entry so far */
    uint64_t entry_bytes;
};

static void npy_put16(unsigned char *b, unsigned v)
{
    b[0] = (unsigned char)(v & 0xFF);
    b[1] = (unsigned char)((v >> 8) & 0xFF);
}

static void npy_put32(unsigned char *b, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        b[k] = (unsigned char)((v >> (8 * k)) & 0xFF);
}

/* Writes n bytes at the current end; GROK_EIO names the archive. */
static int npy_zip_raw(npy_zip *z, const void *data, size_t n, grok_err *e)
{
    const unsigned char *p = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(z->fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return grok_fail(e, GROK_EIO, "cannot write %s: write %s failed after %llu bytes: %s",
                             z->path, z->tmp, (unsigned long long)(z->pos + done),
                             w < 0 ? strerror(errno) : "no progress");
        done += (size_t)w;
    }
    z->pos += n;
    if (z->pos > NPY_ZIP_LIMIT)
        return grok_fail(e, GROK_EINVAL,
                         "cannot write %s: the archive passes 4 GiB, which needs ZIP64 (not "
                         "written here); export fewer checkpoints with --epochs",
                         z->path);
    return GROK_OK;
}

int npy_zip_open(npy_zip **out, const char *path, grok_err *e)
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
    snprintf(z->tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    z->fd = open(z->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (z->fd < 0) {
        int rc = grok_fail(e, GROK_EIO, "cannot write %s: open %s: %s", path, z->tmp,
                           strerror(errno));
        free(z->path);
        free(z->tmp);
        free(z);
        return rc;
    }
    *out = z;
    return GROK_OK;
}

int npy_zip_begin(npy_zip *z, const char *name, const char *descr, int ndim, const int64_t *shape,
                  grok_err *e)
{
    GROK_ASSERT(z && name && descr && !z->open_entry);
    GROK_ASSERT(ndim >= 0 && ndim <= NPY_MAX_DIMS && (shape || ndim == 0));
    size_t item = npy_itemsize(descr);
    if (item == 0)
        return grok_fail(e, GROK_EINVAL, "%s: array '%s': dtype '%s' is not one of <fN <iN <uN |b1 <UN",
                         z->path, name, descr);
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen + 4 > NPY_ZIP_NAME_MAX)
        return grok_fail(e, GROK_EINVAL, "%s: array name '%.64s' must have 1 to %d bytes", z->path,
                         name, NPY_ZIP_NAME_MAX - 4);
    if (z->n >= NPY_ZIP_MAX_ENTRIES)
        return grok_fail(e, GROK_EINVAL, "%s: more than %u arrays needs ZIP64 (not written here)",
                         z->path, NPY_ZIP_MAX_ENTRIES);
    char *full = malloc(nlen + 5);
    if (!full)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
    memcpy(full, name, nlen);
    memcpy(full + nlen, ".npy", 5);
    for (unsigned i = 0; i < z->n; i++)
        if (strcmp(z->entries[i].name, full) == 0) {
            free(full);
            return grok_fail(e, GROK_EINVAL, "%s: two arrays are called '%s'", z->path, name);
        }
    if (z->n == z->cap) {
        unsigned nc = z->cap ? 2 * z->cap : 16;
        npy_zip_entry *en = realloc(z->entries, nc * sizeof *en);
        if (!en) {
            free(full);
            return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
        }
        z->entries = en;
        z->cap = nc;
    }
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        GROK_ASSERT(shape[d] >= 0);
        numel *= (uint64_t)shape[d];
        if (numel > NPY_ZIP_LIMIT) {
            free(full);
            return grok_fail(e, GROK_EINVAL,
                             "%s: array '%s' is larger than 4 GiB, which needs ZIP64 (not "
                             "written here); export fewer checkpoints with --epochs",
                             z->path, name);
        }
    }
    npy_zip_entry *en = &z->entries[z->n++];
    en->name = full;
    en->offset = z->pos;
    en->crc = 0;
    en->size = 0;

    unsigned char lh[30] = {0};
    npy_put32(lh, 0x04034b50u);
    npy_put16(lh + 4, 20);
    npy_put16(lh + 12, 0x0021); /* 1980-01-01 */
    npy_put16(lh + 26, (unsigned)(nlen + 4));
    int rc = npy_zip_raw(z, lh, sizeof lh, e);
    if (rc == GROK_OK)
        rc = npy_zip_raw(z, full, nlen + 4, e);
    if (rc != GROK_OK)
        return rc;
    z->open_entry = 1;
    z->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    z->entry_bytes = 0;
    z->expect = numel * item;
    sbuf h;
    sbuf_init(&h);
    npy_header(&h, descr, ndim, shape);
    if (h.oom) {
        sbuf_free(&h);
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", z->path);
    }
    z->expect += h.len;
    rc = npy_zip_write(z, h.data, h.len, e);
    sbuf_free(&h);
    return rc;
}

int npy_zip_write(npy_zip *z, const void *data, size_t n, grok_err *e)
{
    GROK_ASSERT(z && z->open_entry && (data || n == 0));
    GROK_ASSERT(z->entry_bytes + n <= z->expect);
    /* zlib's crc32 takes a uInt length: feed it in pieces. */
    const unsigned char *p = data;
    for (size_t off = 0; off < n;) {
        size_t k = n - off > (1u << 30) ? (1u << 30) : n - off;
        z->crc = (uint32_t)crc32(z->crc, p + off, (uInt)k);
        off += k;
    }
    z->entry_bytes += n;
    return npy_zip_raw(z, data, n, e);
}

int npy_zip_end(npy_zip *z, grok_err *e)
{
    GROK_ASSERT(z && z->open_entry);
    GROK_ASSERT(z->entry_bytes == z->expect);
    npy_zip_entry *en = &z->entries[z->n - 1];
    en->crc = z->crc;
    en->size = (uint32_t)z->entry_bytes;
    z->open_entry = 0;
    unsigned char patch[12];
    npy_put32(patch, en->crc);
    npy_put32(patch + 4, en->size);
    npy_put32(patch + 8, en->size);
    ssize_t w = pwrite(z->fd, patch, sizeof patch, (off_t)(en->offset + 14));
    if (w != (ssize_t)sizeof patch)
        return grok_fail(e, GROK_EIO, "cannot write %s: pwrite %s: %s", z->path, z->tmp,
                         w < 0 ? strerror(errno) : "short write");
    return GROK_OK;
}

int npy_zip_add(npy_zip *z, const char *name, const char *descr, int ndim, const int64_t *shape,
                const void *data, grok_err *e)
{
    int rc = npy_zip_begin(z, name, descr, ndim, shape, e);
    if (rc != GROK_OK)
        return rc;
    size_t bytes = (size_t)(z->expect - z->entry_bytes);
    if ((rc = npy_zip_write(z, data, bytes, e)) != GROK_OK)
        return rc;
    return npy_zip_end(z, e);
}

static void npy_zip_free(npy_zip *z)
{
    for (unsigned i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    free(z->path);
    free(z->tmp);
    free(z);
}

void npy_zip_abort(npy_zip *z)
{
    if (!z)
        return;
    if (z->fd >= 0)
        close(z->fd);
    unlink(z->tmp);
    npy_zip_free(z);
}

int npy_zip_close(npy_zip *z, size_t *bytes, grok_err *e)
{
    GROK_ASSERT(z && !z->open_entry);
    const uint64_t cd_start = z->pos;
    int rc = GROK_OK;
    for (unsigned i = 0; i < z->n && rc == GROK_OK; i++) {
        const npy_zip_entry *en = &z->entries[i];
        size_t nlen = strlen(en->name);
        unsigned char ch[46] = {0};
        npy_put32(ch, 0x02014b50u);
        npy_put16(ch + 4, 20);  /* version made by: 2.0, MS-DOS attributes */
        npy_put16(ch + 6, 20);  /* version needed */
        npy_put16(ch + 14, 0x0021);
        npy_put32(ch + 16, en->crc);
        npy_put32(ch + 20, en->size);
        npy_put32(ch + 24, en->size);
        npy_put16(ch + 28, (unsigned)nlen);
        npy_put32(ch + 42, (uint32_t)en->offset);
        rc = npy_zip_raw(z, ch, sizeof ch, e);
        if (rc == GROK_OK)
            rc = npy_zip_raw(z, en->name, nlen, e);
    }
    if (rc == GROK_OK) {
        unsigned char eocd[22] = {0};
        npy_put32(eocd, 0x06054b50u);
        npy_put16(eocd + 8, z->n);
        npy_put16(eocd + 10, z->n);
        npy_put32(eocd + 12, (uint32_t)(z->pos - cd_start));
        npy_put32(eocd + 16, (uint32_t)cd_start);
        rc = npy_zip_raw(z, eocd, sizeof eocd, e);
    }
    if (rc == GROK_OK && fsync(z->fd) != 0)
        rc = grok_fail(e, GROK_EIO, "cannot write %s: fsync %s: %s", z->path, z->tmp,
                       strerror(errno));
    if (rc == GROK_OK) {
        int fd = z->fd;
        z->fd = -1;
        if (close(fd) != 0)
            rc = grok_fail(e, GROK_EIO, "cannot write %s: close %s: %s", z->path, z->tmp,
                           strerror(errno));
    }
    if (rc == GROK_OK && rename(z->tmp, z->path) != 0)
        rc = grok_fail(e, GROK_EIO, "cannot write %s: rename %s -> %s: %s", z->path, z->tmp,
                       z->path, strerror(errno));
    if (rc != GROK_OK) {
        npy_zip_abort(z);
        return rc;
    }
    if (bytes)
        *bytes = (size_t)z->pos;
    if (fileio_fsync_parent(z->path) != 0)
        rc = grok_fail(e, GROK_EIO, "wrote %s but could not fsync its directory: %s", z->path,
                       strerror(errno));
    npy_zip_free(z);
    return rc;
}
