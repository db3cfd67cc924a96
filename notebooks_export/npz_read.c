/* npz_read.c: .npz archives read through libzip (npz_read.h).
 *
 * libzip (Debian's libzip-dev) finds the entries from the central directory,
 * so numpy's ZIP64 local headers (sizes 0xFFFFFFFF, the real ones in an
 * extra field) and deflated entries need nothing here.  Each entry is read
 * whole; its .npy header (numpy/lib/format.py: the magic, the version, a
 * little-endian u16 (version 1) or u32 (2, 3) header length, then a Python
 * dict literal) is parsed for 'descr', 'fortran_order' and 'shape'.  An
 * entry's sizes come from the central directory, so they are checked before
 * anything is allocated: the compressed size against the archive's, the
 * size against the compressed one (stored: equal; deflated: at most 1032
 * times, deflate's limit); other compression methods are refused.  npz_parse_buf reads an archive in memory through a libzip buffer
 * source (tests/fuzz/fuzz_npz.c). */
#include "npz_read.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

static const struct {
    const char *descr;
    st_dtype dtype;
} npz_dtypes[] = {
    {"<f4", ST_F32}, {"<f8", ST_F64}, {"<f2", ST_F16}, {"<i4", ST_I32}, {"<i8", ST_I64}, {"|u1", ST_U8},
};

/* The value after 'key': in the dict literal h (NUL-ended), or NULL. */
static const char *npz_dict_value(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *v = strstr(h, pat);
    if (!v)
        return NULL;
    v += strlen(pat);
    while (*v == ' ')
        v++;
    return v;
}

/* UTF-32LE code units [n] to UTF-8 (NULs at the end dropped); malloc'ed. */
static char *npz_utf8(const unsigned char *p, size_t n)
{
    while (n > 0 && !(p[4 * (n - 1)] | p[4 * (n - 1) + 1] | p[4 * (n - 1) + 2] | p[4 * (n - 1) + 3]))
        n--;
    char *out = malloc(4 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            c = 0xFFFD;
        if (c < 0x80) {
            *o++ = (char)c;
        } else if (c < 0x800) {
            *o++ = (char)(0xC0 | c >> 6);
            *o++ = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *o++ = (char)(0xE0 | c >> 12);
            *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        } else {
            *o++ = (char)(0xF0 | c >> 18);
            *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *o = '\0';
    return out;
}

/* A Fortran-order array (numpy writes a transposed view so) copied into C
 * order: en->mem is replaced by the copy. */
static int npz_to_c_order(npz_entry *en, const unsigned char *data, size_t nb, const char *what,
                          grok_err *e)
{
    st_tensor *t = &en->t;
    const size_t el = st_dtype_size(t->dtype), n = nb / el;
    unsigned char *c = malloc(nb ? nb : 1);
    if (!c)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
    size_t fstride[ST_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++)
        fstride[d] = d ? fstride[d - 1] * (size_t)t->shape[d - 1] : 1;
    for (size_t i = 0; i < n; i++) {
        size_t rest = i, off = 0;
        for (int d = t->ndim - 1; d >= 0; d--) {
            off += (rest % (size_t)t->shape[d]) * fstride[d];
            rest /= (size_t)t->shape[d];
        }
        memcpy(c + i * el, data + off * el, el);
    }
    free(en->mem);
    en->mem = c;
    t->data = c;
    return GROK_OK;
}

/* Parses the .npy bytes mem[0..n) of entry en (named `what` in messages). */
static int npz_parse(npz_entry *en, const unsigned char *mem, size_t n, const char *what,
                     grok_err *e)
{
    if (n < 10 || memcmp(mem, "\x93NUMPY", 6) != 0)
        return grok_fail(e, GROK_EFORMAT, "%s: not a .npy array (no \\x93NUMPY magic)", what);
    const int major = mem[6];
    size_t hlen, at;
    if (major == 1) {
        hlen = (size_t)mem[8] | (size_t)mem[9] << 8;
        at = 10;
    } else if ((major == 2 || major == 3) && n >= 12) {
        hlen = (size_t)mem[8] | (size_t)mem[9] << 8 | (size_t)mem[10] << 16 | (size_t)mem[11] << 24;
        at = 12;
    } else {
        return grok_fail(e, GROK_EFORMAT, "%s: .npy version %d is not 1, 2 or 3", what, major);
    }
    if (hlen > n - at || hlen > 1 << 20)
        return grok_fail(e, GROK_EFORMAT, "%s: the .npy header (%zu bytes) runs past the entry",
                         what, hlen);
    char *h = malloc(hlen + 1);
    if (!h)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
    memcpy(h, mem + at, hlen);
    h[hlen] = '\0';
    const char *d = npz_dict_value(h, "descr"), *f = npz_dict_value(h, "fortran_order"),
               *s = npz_dict_value(h, "shape");
    int rc = GROK_OK;
    size_t dl = 0;
    if (d && *d == '\'') {
        d++;
        dl = strcspn(d, "'");
    }
    if (!d || dl == 0 || dl >= sizeof en->descr || !f || !s || *s != '(') {
        rc = grok_fail(e, GROK_EFORMAT, "%s: the .npy header '%.80s' lacks descr, fortran_order "
                       "or shape", what, h);
        goto out;
    }
    memcpy(en->descr, d, dl);
    en->descr[dl] = '\0';
    st_tensor *t = &en->t;
    t->name = en->name;
    for (s++; *s != ')';) {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ')')
            break;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || t->ndim >= ST_MAX_DIMS) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: the shape in the .npy header '%.80s' is not one "
                           "of up to %d sizes", what, h, ST_MAX_DIMS);
            goto out;
        }
        t->shape[t->ndim++] = v;
        s = end;
    }
    const unsigned char *data = mem + at + hlen;
    const size_t nb = n - at - hlen;
    const int fortran = strncmp(f, "True", 4) == 0;
    for (size_t i = 0; i < sizeof npz_dtypes / sizeof npz_dtypes[0]; i++)
        if (strcmp(en->descr, npz_dtypes[i].descr) == 0) {
            t->dtype = npz_dtypes[i].dtype;
            en->loaded = 1;
        }
    if (en->loaded) {
        size_t want = st_dtype_size(t->dtype);
        for (int k = 0; k < t->ndim && want != SIZE_MAX; k++)
            want = t->shape[k] && want > SIZE_MAX / (size_t)t->shape[k] ? SIZE_MAX
                                                                          : want * (size_t)t->shape[k];
        if (want == SIZE_MAX) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: the shape in the .npy header '%.80s' overflows "
                           "64 bits", what, h);
            goto out;
        }
        if (want != nb) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: %zu bytes of data; the header (%s, %d dimensions) "
                           "needs %zu", what, nb, en->descr, t->ndim, want);
            goto out;
        }
        t->data = data;
        if (fortran && t->ndim > 1 && (rc = npz_to_c_order(en, data, want, what, e)) != GROK_OK)
            goto out;
    } else if (en->descr[0] == '<' && en->descr[1] == 'U' && t->ndim == 0) {
        const long units = strtol(en->descr + 2, NULL, 10);
        if (units < 0 || (size_t)units * 4 != nb) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: %zu bytes of data for a %s string", what, nb,
                           en->descr);
            goto out;
        }
        if (!(en->text = npz_utf8(data, (size_t)units)))
            rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
    }
out:
    free(h);
    return rc;
}

void npz_free(npz_file *z)
{
    if (!z)
        return;
    for (int i = 0; i < z->n; i++) {
        free(z->e[i].name);
        free(z->e[i].text);
        free(z->e[i].mem);
    }
    free(z->e);
    memset(z, 0, sizeof *z);
}

/* za's entries into z (path names the archive in messages; the archive has
 * `bytes` bytes); za is discarded. */
static int npz_read_zip(npz_file *z, zip_t *za, zip_uint64_t bytes, const char *path, grok_err *e)
{
    const zip_int64_t n = zip_get_num_entries(za, 0);
    int rc = GROK_OK;
    if (n < 0 || n > 1000000 || !(z->e = calloc((size_t)(n ? n : 1), sizeof *z->e)))
        rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory for %lld entries", path, (long long)n);
    for (zip_int64_t i = 0; i < n && rc == GROK_OK; i++) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
            !(st.valid & ZIP_STAT_SIZE)) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: entry %lld: %s", path, (long long)i,
                           zip_strerror(za));
            break;
        }
        npz_entry *en = &z->e[z->n];
        size_t nl = strlen(st.name);
        if (nl < 4 || strcmp(st.name + nl - 4, ".npy") != 0) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: entry '%s' is not NAME.npy (not a NumPy .npz?)",
                           path, st.name);
            break;
        }
        char what[600];
        snprintf(what, sizeof what, "%s: entry '%s'", path, st.name);
        /* the sizes the directory claims, before the size is allocated: the
         * compressed bytes within the archive, and the size what they can
         * hold (deflate expands at most 1032 to 1) */
        const int method = st.valid & ZIP_STAT_COMP_METHOD ? st.comp_method : -1;
        if (method != ZIP_CM_STORE && method != ZIP_CM_DEFLATE) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: compression method %d: a .npz entry is stored "
                           "or deflated", what, method);
            break;
        }
        if (!(st.valid & ZIP_STAT_COMP_SIZE) || st.comp_size > bytes ||
            (method == ZIP_CM_STORE ? st.size != st.comp_size
                                    : st.comp_size > UINT64_MAX / 1032 ||
                                          st.size > st.comp_size * 1032 + 64)) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: the zip directory claims %llu bytes from %llu %s "
                           "bytes in an archive of %llu bytes (damaged?)",
                           what, (unsigned long long)st.size,
                           (unsigned long long)(st.valid & ZIP_STAT_COMP_SIZE ? st.comp_size : 0),
                           method == ZIP_CM_STORE ? "stored" : "deflated",
                           (unsigned long long)bytes);
            break;
        }
        if (!(en->name = strndup(st.name, nl - 4)) ||
            !(en->mem = malloc(st.size ? (size_t)st.size : 1))) {
            free(en->name);
            en->name = NULL;
            rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory (%llu bytes)", what,
                           (unsigned long long)st.size);
            break;
        }
        z->n++;
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        zip_int64_t got = zf ? zip_fread(zf, en->mem, st.size) : -1;
        if (got != (zip_int64_t)st.size)
            rc = grok_fail(e, GROK_EFORMAT, "%s: read %lld of %llu bytes: %s", what,
                           (long long)got, (unsigned long long)st.size,
                           zf ? zip_file_strerror(zf) : zip_strerror(za));
        if (zf && zip_fclose(zf) != 0 && rc == GROK_OK) /* the CRC is checked at the end */
            rc = grok_fail(e, GROK_EFORMAT, "%s: %s", what, zip_strerror(za));
        if (rc == GROK_OK)
            rc = npz_parse(en, en->mem, (size_t)st.size, what, e);
    }
    zip_discard(za);
    if (rc != GROK_OK)
        npz_free(z);
    return rc;
}

/* The message for a zip_open error code err (libzip's ZIP_ER_*). */
static int npz_open_fail(int err, const char *path, grok_err *e)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    int rc = grok_fail(e, err == ZIP_ER_OPEN || err == ZIP_ER_READ || err == ZIP_ER_NOENT
                              ? GROK_EIO : GROK_EFORMAT,
                       "%s: cannot read it as a .npz (zip) archive: %s%s", path,
                       zip_error_strerror(&ze),
                       err == ZIP_ER_NOZIP || err == ZIP_ER_INCONS ? " (truncated or not a zip?)"
                                                                   : "");
    zip_error_fini(&ze);
    return rc;
}

int npz_read(npz_file *z, const char *path, grok_err *e)
{
    memset(z, 0, sizeof *z);
    int err = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &err);
    if (!za)
        return npz_open_fail(err, path, e);
    struct stat sb;
    return npz_read_zip(z, za, stat(path, &sb) == 0 ? (zip_uint64_t)sb.st_size : UINT64_MAX, path,
                        e);
}

int npz_parse_buf(npz_file *z, const void *data, size_t n, const char *what, grok_err *e)
{
    memset(z, 0, sizeof *z);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(n ? data : "", n, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!za) {
        const int err = src ? zip_error_code_zip(&ze) : ZIP_ER_MEMORY;
        zip_source_free(src);
        zip_error_fini(&ze);
        return npz_open_fail(err, what, e);
    }
    zip_error_fini(&ze);
    return npz_read_zip(z, za, n, what, e);
}
const npz_entry *npz_find(const npz_file *z, const char *name)
{
    for (int i = 0; i < z->n; i++)
        if (strcmp(z->e[i].name, name) == 0)
            return &z->e[i];
    return NULL;
}
