/* safetensors.c: the safetensors writer and validating reader declared in
 * safetensors.h.
 *
 * Format and rules: huggingface/safetensors README "Format" and
 * safetensors/src/tensor.rs (summarised in docs/formats.md, safetensors).  The writer
 * copies the reference writer's conventions except the tensor order, which is
 * the caller's.  The reader applies the reference loader's checks in its order:
 *   1. file shorter than 8 bytes            (HeaderTooSmall)
 *   2. header length N > 100,000,000        (HeaderTooLarge)
 *   3. 8+N past the end of the file         (InvalidHeaderLength)
 *   4. header not UTF-8 / not valid JSON of the expected shape, unknown dtype
 *                                           (InvalidHeader, InvalidHeaderDeserialization)
 *   5./6. per tensor in data_offsets order: BEGIN equal to the previous END
 *      (0 for the first) and END >= BEGIN (InvalidOffset), then END-BEGIN =
 *      numel * element size (TensorInvalidInfo)
 *   7. 8+N+last END = file size             (MetadataIncompleteBuffer)
 * The header is parsed by jansson with duplicate keys refused at every level
 * (JSON_REJECT_DUPLICATES; the reference loader refuses them too), then
 * checked against the schema: tensor entries of dtype, shape and
 * data_offsets (arrays of non-negative integers), and "__metadata__", a map
 * of strings.  Anything else (floats, true/false/null, unknown tensor
 * fields, \u0000 in a string) is rejected, naming the header byte for a
 * syntax error and the tensor and field for a schema error.  This reader is
 * stricter than the reference only there; the reference ignores unknown
 * tensor fields.
 *
 * Only the dtypes of st_dtype are supported.  All data is little-endian
 * and copied as raw bytes, so the host must be little-endian (asserted). */
#include "safetensors.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "fileio.h"

#define ST_HEADER_MAX 100000000ull /* the reference loader's MAX_HEADER_SIZE */

static const char *const st_names[] = {"F32", "F64", "I32", "I64", "U8", "BF16", "F16"};
static const size_t st_sizes[] = {4, 8, 4, 8, 1, 2, 2};
#define ST_N_DTYPES ((int)(sizeof st_names / sizeof st_names[0]))

/* dtypes of the format that this reader does not load (docs/formats.md, safetensors). */
static const char *const st_other_names[] = {
    "BOOL", "I8",      "I16",     "U16",         "U32",        "U64",
    "C64",  "F8_E5M2", "F8_E4M3", "F8_E8M0",     "F4",         "F6_E2M3",
    "F6_E3M2", "F8_E4M3FNUZ", "F8_E5M2FNUZ"};

static int st_host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

size_t st_dtype_size(st_dtype d)
{
    GROK_ASSERT((int)d >= 0 && (int)d < ST_N_DTYPES);
    return st_sizes[d];
}

const char *st_dtype_name(st_dtype d)
{
    GROK_ASSERT((int)d >= 0 && (int)d < ST_N_DTYPES);
    return st_names[d];
}

size_t st_tensor_numel(const st_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

/* IEEE binary16 bits to float32 (subnormals, infinities and NaN included). */
static float st_half_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h >> 15) << 31, ex = (h >> 10) & 0x1f, man = h & 0x3ff;
    uint32_t bits;
    if (ex == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (ex != 0) {
        bits = sign | ((ex + 112) << 23) | (man << 13);
    } else {
        float v = ldexpf((float)man, -24); /* exact: 10 bits of mantissa */
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int st_to_f32(const st_tensor *t, float *out, size_t *inexact)
{
    const size_t n = st_tensor_numel(t);
    const unsigned char *p = t->data;
    size_t bad = 0;
    switch (t->dtype) {
    case ST_F32:
        memcpy(out, p, n * sizeof(float));
        break;
    case ST_F64:
        for (size_t i = 0; i < n; i++) {
            double x;
            memcpy(&x, p + 8 * i, sizeof x);
            out[i] = (float)x;
            bad += (double)out[i] != x && !(isnan(x) && isnan(out[i]));
        }
        break;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, sizeof h);
            const uint32_t bits = (uint32_t)h << 16;
            memcpy(&out[i], &bits, sizeof bits);
        }
        break;
    case ST_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, sizeof h);
            out[i] = st_half_to_f32(h);
        }
        break;
    default:
        return -1;
    }
    if (inexact)
        *inexact = bad;
    return 0;
}

/* numel * elem as a byte count; -1 on overflow or a negative dimension. */
static int st_nbytes(const int64_t *shape, int ndim, size_t elem, uint64_t *out)
{
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        uint64_t d = (uint64_t)shape[i];
        if (d != 0 && n > UINT64_MAX / d)
            return -1;
        n *= d;
    }
    if (n > UINT64_MAX / elem)
        return -1;
    *out = n * elem;
    return 0;
}

/* Index of the first byte of s[0..n) that breaks UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF included), or n when valid. */
static size_t st_utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i <= k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += k + 1;
    }
    return n;
}

/* ---- writer -------------------------------------------------------------- */

static int st_check_text(const char *s, const char *kind, int i, grok_err *e)
{
    if (!s)
        return grok_fail(e, GROK_EINVAL, "safetensors: %s %d is NULL", kind, i);
    size_t len = strlen(s);
    size_t bad = st_utf8_invalid_at((const unsigned char *)s, len);
    if (bad != len)
        return grok_fail(e, GROK_EINVAL,
                         "safetensors: %s %d is not valid UTF-8 (byte %zu of \"%.*s...\")", kind, i,
                         bad, (int)bad, s);
    return GROK_OK;
}

int st_serialize(const st_tensor *t, int n, const st_meta *meta, int n_meta, unsigned char **out,
                 size_t *out_len, grok_err *e)
{
    GROK_ASSERT(st_host_is_little_endian());
    GROK_ASSERT(out != NULL && out_len != NULL && n >= 0 && n_meta >= 0);
    GROK_ASSERT(t != NULL || n == 0);
    GROK_ASSERT(meta != NULL || n_meta == 0);
    *out = NULL;
    *out_len = 0;

    /* Validate everything first so a bad call writes nothing. */
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        int rc = st_check_text(t[i].name, "tensor name", i, e);
        if (rc)
            return rc;
        if (strcmp(t[i].name, "__metadata__") == 0)
            return grok_fail(e, GROK_EINVAL, "safetensors: \"__metadata__\" cannot name a tensor");
        if ((int)t[i].dtype < 0 || (int)t[i].dtype >= ST_N_DTYPES)
            return grok_fail(e, GROK_EINVAL,
                             "safetensors: tensor \"%s\" has dtype %d, not an st_dtype", t[i].name,
                             (int)t[i].dtype);
        if (t[i].ndim < 0 || t[i].ndim > ST_MAX_DIMS)
            return grok_fail(e, GROK_EINVAL,
                             "safetensors: tensor \"%s\" has ndim %d (0..%d allowed)", t[i].name,
                             t[i].ndim, ST_MAX_DIMS);
        uint64_t nb;
        if (st_nbytes(t[i].shape, t[i].ndim, st_sizes[t[i].dtype], &nb) != 0 ||
            nb > UINT64_MAX - total)
            return grok_fail(e, GROK_EINVAL,
                             "safetensors: tensor \"%s\" has a negative or overflowing shape",
                             t[i].name);
        if (nb > 0 && !t[i].data)
            return grok_fail(e, GROK_EINVAL,
                             "safetensors: tensor \"%s\" has %llu bytes but no data", t[i].name,
                             (unsigned long long)nb);
        for (int j = 0; j < i; j++)
            if (strcmp(t[i].name, t[j].name) == 0)
                return grok_fail(e, GROK_EINVAL, "safetensors: duplicate tensor name \"%s\"",
                                 t[i].name);
        total += nb;
    }
    for (int i = 0; i < n_meta; i++) {
        int rc = st_check_text(meta[i].key, "metadata key", i, e);
        if (!rc)
            rc = st_check_text(meta[i].value, "metadata value", i, e);
        if (rc)
            return rc;
        for (int j = 0; j < i; j++)
            if (strcmp(meta[i].key, meta[j].key) == 0)
                return grok_fail(e, GROK_EINVAL, "safetensors: duplicate metadata key \"%s\"",
                                 meta[i].key);
    }

    /* Header: compact JSON, metadata first, fields in the reference's order. */
    sbuf h;
    sbuf_init(&h);
    sbuf_puts(&h, "{");
    if (n_meta > 0) {
        sbuf_puts(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i)
                sbuf_puts(&h, ",");
            sbuf_json_string(&h, meta[i].key);
            sbuf_puts(&h, ":");
            sbuf_json_string(&h, meta[i].value);
        }
        sbuf_puts(&h, "}");
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        if (i || n_meta > 0)
            sbuf_puts(&h, ",");
        sbuf_json_string(&h, t[i].name);
        sbuf_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", st_names[t[i].dtype]);
        for (int d = 0; d < t[i].ndim; d++)
            sbuf_printf(&h, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
        uint64_t nb = (uint64_t)st_tensor_numel(&t[i]) * st_sizes[t[i].dtype]; /* checked above */
        sbuf_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                    (unsigned long long)(off + nb));
        off += nb;
    }
    sbuf_puts(&h, "}");
    while (!h.oom && h.len % 8 != 0) /* data starts 8-aligned, as the reference pads */
        sbuf_puts(&h, " ");
    if (h.oom) {
        sbuf_free(&h);
        return grok_fail(e, GROK_ENOMEM, "safetensors: out of memory building the header");
    }
    if (h.len > ST_HEADER_MAX) {
        size_t hl = h.len;
        sbuf_free(&h);
        return grok_fail(e, GROK_EINVAL,
                         "safetensors: header of %zu bytes exceeds the %llu-byte limit", hl,
                         ST_HEADER_MAX);
    }
    if (total > SIZE_MAX - 8 - h.len) {
        sbuf_free(&h);
        return grok_fail(e, GROK_ENOMEM, "safetensors: %llu bytes of tensors do not fit in memory",
                         (unsigned long long)total);
    }

    size_t len = 8 + h.len + (size_t)total;
    unsigned char *buf = malloc(len);
    if (!buf) {
        sbuf_free(&h);
        return grok_fail(e, GROK_ENOMEM, "safetensors: out of memory (%zu bytes)", len);
    }
    uint64_t hn = h.len;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hn >> (8 * i));
    memcpy(buf + 8, h.data, h.len);
    unsigned char *p = buf + 8 + h.len;
    for (int i = 0; i < n; i++) {
        size_t nb = st_tensor_numel(&t[i]) * st_sizes[t[i].dtype];
        if (nb)
            memcpy(p, t[i].data, nb);
        p += nb;
    }
    sbuf_free(&h);
    *out = buf;
    *out_len = len;
    return GROK_OK;
}

int st_write(const char *path, const st_tensor *t, int n, const st_meta *meta, int n_meta,
             grok_err *e)
{
    unsigned char *buf;
    size_t len;
    int rc = st_serialize(t, n, meta, n_meta, &buf, &len, e);
    if (rc) {
        if (e) { /* name the file the caller was writing */
            grok_err inner = *e;
            const char *why = inner.msg;
            if (strncmp(why, "safetensors: ", 13) == 0)
                why += 13;
            grok_fail(e, rc, "%s: %s", path, why);
        }
        return rc;
    }
    rc = fileio_write_atomic(path, buf, len, e);
    free(buf);
    return rc;
}

/* ---- reader: the JSON header (jansson) ----------------------------------- */

/* One parsed header entry. */
typedef struct {
    const char *name;
    int dtype; /* st_dtype */
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;
    size_t reloc; /* offset of its aligned copy, SIZE_MAX when aligned in place */
} st_entry;

/* The decoded strings, copied into one pool (never longer than the header). */
typedef struct {
    char *pool;
    size_t len;
    const char *what; /* the source, for messages */
    grok_err *e;
} st_hdr;

static int st_hdr_fail(st_hdr *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int st_hdr_fail(st_hdr *h, const char *fmt, ...)
{
    char detail[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return grok_fail(h->e, GROK_EFORMAT, "%s: invalid JSON header: %s", h->what, detail);
}

static const char *st_hdr_pool(st_hdr *h, const char *s)
{
    size_t k = strlen(s) + 1;
    char *dst = memcpy(h->pool + h->len, s, k);
    h->len += k;
    return dst;
}

/* What a value is, for "expected X, found Y" messages. */
static const char *st_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int st_parse_dtype(st_hdr *h, const json_t *v, const char *tname, int *dtype)
{
    const char *name = json_string_value(v);
    if (!name)
        return st_hdr_fail(h, "\"dtype\" of tensor \"%s\" is %s, not a string", tname,
                           st_json_kind(v));
    for (int d = 0; d < ST_N_DTYPES; d++)
        if (strcmp(name, st_names[d]) == 0) {
            *dtype = d;
            return GROK_OK;
        }
    for (size_t i = 0; i < sizeof st_other_names / sizeof st_other_names[0]; i++)
        if (strcmp(name, st_other_names[i]) == 0)
            return grok_fail(
                h->e, GROK_EFORMAT,
                "%s: unsupported dtype \"%s\" for tensor \"%s\": a safetensors dtype this "
                "reader does not load (it reads " ST_DTYPES_READ ")",
                h->what, name, tname);
    return grok_fail(h->e, GROK_EFORMAT,
                     "%s: unknown dtype \"%s\" for tensor \"%s\" (valid: " ST_DTYPES_READ ")",
                     h->what, name, tname);
}

/* "shape" or "data_offsets": an array of at most max non-negative integers. */
static int st_parse_uints(st_hdr *h, const json_t *a, const char *field, const char *tname,
                          int max, uint64_t *v, int *count)
{
    if (!json_is_array(a))
        return st_hdr_fail(h, "\"%s\" of tensor \"%s\" is %s, not an array", field, tname,
                           st_json_kind(a));
    if (json_array_size(a) > (size_t)max)
        return st_hdr_fail(h, "more than %d values in \"%s\" of tensor \"%s\"", max, field, tname);
    size_t i;
    const json_t *x;
    json_array_foreach(a, i, x) {
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return st_hdr_fail(h, "\"%s\" of tensor \"%s\" holds %s, not a non-negative integer",
                               field, tname, json_is_integer(x) ? "a negative number"
                                                                : st_json_kind(x));
        v[i] = (uint64_t)json_integer_value(x);
    }
    *count = (int)json_array_size(a);
    return GROK_OK;
}

/* {"dtype":"F32","shape":[...],"data_offsets":[b,e]} in any field order. */
static int st_parse_info(st_hdr *h, const json_t *info, st_entry *t)
{
    if (!json_is_object(info))
        return st_hdr_fail(h, "tensor \"%s\" is %s, not an object {dtype, shape, data_offsets}",
                           t->name, st_json_kind(info));
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)info, key, v) {
        if (strcmp(key, "dtype") && strcmp(key, "shape") && strcmp(key, "data_offsets"))
            return st_hdr_fail(h, "unknown field \"%s\" for tensor \"%s\" (expected dtype, shape, "
                                  "data_offsets)", key, t->name);
    }
    const json_t *dt = json_object_get(info, "dtype"), *sh = json_object_get(info, "shape"),
                 *of = json_object_get(info, "data_offsets");
    if (!dt || !sh || !of)
        return st_hdr_fail(h, "tensor \"%s\" lacks \"%s\"", t->name,
                           !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    uint64_t dims[ST_MAX_DIMS], off[2];
    int n_off, rc = st_parse_dtype(h, dt, t->name, &t->dtype);
    if (rc || (rc = st_parse_uints(h, sh, "shape", t->name, ST_MAX_DIMS, dims, &t->ndim)) ||
        (rc = st_parse_uints(h, of, "data_offsets", t->name, 2, off, &n_off)))
        return rc;
    if (n_off != 2)
        return st_hdr_fail(h, "\"data_offsets\" of tensor \"%s\" has %d values, expected [BEGIN, "
                              "END]", t->name, n_off);
    for (int i = 0; i < t->ndim; i++)
        t->shape[i] = (int64_t)dims[i];
    t->begin = off[0];
    t->end = off[1];
    return GROK_OK;
}

static int st_parse_meta(st_hdr *h, const json_t *m, st_meta **meta, int *n_meta)
{
    if (!json_is_object(m))
        return st_hdr_fail(h, "\"__metadata__\" is %s, not a map of strings to strings",
                           st_json_kind(m));
    size_t n = json_object_size(m);
    if (!(*meta = malloc((n ? n : 1) * sizeof **meta)))
        return grok_fail(h->e, GROK_ENOMEM, "%s: out of memory reading the header", h->what);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)m, key, v) {
        if (!json_is_string(v))
            return st_hdr_fail(h,
                               "\"__metadata__\" value for key \"%s\" is %s, not a string "
                               "(metadata maps strings to strings: write \"7\", not 7)",
                               key, st_json_kind(v));
        (*meta)[*n_meta].key = st_hdr_pool(h, key);
        (*meta)[*n_meta].value = st_hdr_pool(h, json_string_value(v));
        (*n_meta)++;
    }
    return GROK_OK;
}

/* The whole header: a top-level object of tensor entries and metadata, with
 * duplicate keys refused at every level (as the reference loader does). */
static int st_parse_header(st_hdr *h, const unsigned char *s, size_t n, st_entry **ents,
                           int *n_ents, st_meta **meta, int *n_meta)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_out_of_memory)
            return grok_fail(h->e, GROK_ENOMEM, "%s: out of memory reading the header", h->what);
        return grok_fail(h->e, GROK_EFORMAT, "%s: invalid JSON header at header byte %d of %zu: %s",
                         h->what, je.position, n, je.text);
    }
    int rc = GROK_OK;
    if (!json_is_object(root)) {
        rc = st_hdr_fail(h, "the header is %s, not an object", st_json_kind(root));
    } else if (!(*ents = malloc((json_object_size(root) + 1) * sizeof **ents))) {
        rc = grok_fail(h->e, GROK_ENOMEM, "%s: out of memory reading the header", h->what);
    } else {
        const char *name;
        const json_t *v;
        json_object_foreach(root, name, v) {
            if (strcmp(name, "__metadata__") == 0) {
                rc = st_parse_meta(h, v, meta, n_meta);
            } else {
                st_entry *t = &(*ents)[(*n_ents)++];
                memset(t, 0, sizeof *t);
                t->name = st_hdr_pool(h, name);
                rc = st_parse_info(h, v, t);
            }
            if (rc)
                break;
        }
    }
    json_decref(root);
    return rc;
}

/* ---- reader: validation -------------------------------------------------- */

typedef struct {
    uint64_t begin, end;
    int idx;
} st_span;

static int st_span_cmp(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static void st_shape_str(char *buf, size_t cap, const st_entry *t)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
}

/* Checks 5-7: offsets packed from 0, sizes matching shapes, buffer length. */
static int st_check_layout(const st_entry *ents, int n_ents, uint64_t data_len, const char *what,
                           grok_err *e)
{
    st_span *spans = malloc((size_t)(n_ents ? n_ents : 1) * sizeof *spans);
    if (!spans)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory checking offsets", what);
    for (int i = 0; i < n_ents; i++)
        spans[i] = (st_span){ents[i].begin, ents[i].end, i};
    qsort(spans, (size_t)n_ents, sizeof *spans, st_span_cmp);

    int rc = GROK_OK;
    uint64_t start = 0;
    const char *prev = NULL;
    for (int k = 0; k < n_ents && rc == GROK_OK; k++) {
        const st_entry *t = &ents[spans[k].idx];
        uint64_t s = t->begin, en = t->end;
        if (en < s) {
            rc = grok_fail(
                e, GROK_EFORMAT,
                "%s: bad offsets: tensor \"%s\" has data_offsets [%llu,%llu], END before BEGIN",
                what, t->name, (unsigned long long)s, (unsigned long long)en);
        } else if (s != start && !prev) {
            rc = grok_fail(
                e, GROK_EFORMAT,
                "%s: bad offsets: the first tensor \"%s\" begins at %llu, not 0 (gap at the "
                "start of the data)",
                what, t->name, (unsigned long long)s);
        } else if (s > start) {
            rc = grok_fail(
                e, GROK_EFORMAT,
                "%s: bad offsets: gap of %llu bytes between tensor \"%s\" (ends at %llu) and "
                "tensor \"%s\" (begins at %llu)",
                what, (unsigned long long)(s - start), prev, (unsigned long long)start, t->name,
                (unsigned long long)s);
        } else if (s < start) {
            rc = grok_fail(
                e, GROK_EFORMAT,
                "%s: bad offsets: tensor \"%s\" [%llu,%llu) overlaps tensor \"%s\", which "
                "ends at %llu",
                what, t->name, (unsigned long long)s, (unsigned long long)en, prev,
                (unsigned long long)start);
        } else {
            uint64_t nb;
            char shape[200];
            st_shape_str(shape, sizeof shape, t);
            if (st_nbytes(t->shape, t->ndim, st_sizes[t->dtype], &nb) != 0)
                rc = grok_fail(e, GROK_EFORMAT, "%s: bad shape: tensor \"%s\" %s overflows 64 bits",
                               what, t->name, shape);
            else if (nb != en - s)
                rc = grok_fail(
                    e, GROK_EFORMAT,
                    "%s: byte count mismatch: tensor \"%s\" is %s %s = %llu bytes, but its "
                    "data_offsets [%llu,%llu] span %llu",
                    what, t->name, st_names[t->dtype], shape, (unsigned long long)nb,
                    (unsigned long long)s, (unsigned long long)en, (unsigned long long)(en - s));
        }
        start = en;
        prev = t->name;
    }
    free(spans);
    if (rc)
        return rc;
    if (start > data_len)
        return grok_fail(
            e, GROK_EFORMAT,
            "%s: truncated: tensors need %llu bytes after the header, file has %llu (was "
            "the run killed while copying?)",
            what, (unsigned long long)start, (unsigned long long)data_len);
    if (start < data_len)
        return grok_fail(
            e, GROK_EFORMAT,
            "%s: trailing bytes: tensors end %llu bytes after the header, file has %llu "
            "(%llu extra)",
            what, (unsigned long long)start, (unsigned long long)data_len,
            (unsigned long long)(data_len - start));
    return GROK_OK;
}

/* ---- checksums ---------------------------------------------------------- */

uint32_t st_crc32_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) { /* zlib takes uInt lengths */
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)c;
}

uint32_t st_crc32(const st_tensor *t, int n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < n; i++) {
        size_t nb = st_tensor_numel(&t[i]) * st_dtype_size(t[i].dtype);
        const unsigned char *b = t[i].data;
        while (nb > 0) {
            uInt k = nb > (1u << 30) ? (1u << 30) : (uInt)nb;
            c = crc32(c, b, k);
            b += k;
            nb -= k;
        }
    }
    return (uint32_t)c;
}

void st_crc_text(char buf[9], uint32_t crc)
{
    snprintf(buf, 9, "%08x", (unsigned)crc);
}

/* Checks f's ST_CRC_KEY, when it has one, against its data section (the
 * bytes from data_at on) and sets f->crc_checked. */
static int st_check_crc(st_file *f, size_t data_at, const char *what, grok_err *e)
{
    const char *want = st_meta_get(f, ST_CRC_KEY);
    f->crc_checked = 0;
    if (!want)
        return GROK_OK;
    int ok = strlen(want) == 8;
    for (int i = 0; ok && i < 8; i++)
        ok = (want[i] >= '0' && want[i] <= '9') || (want[i] >= 'a' && want[i] <= 'f');
    if (!ok)
        return grok_fail(e, GROK_EFORMAT,
                         "%s: checksum mismatch: metadata \"" ST_CRC_KEY "\" is \"%.40s\", not 8 "
                         "lowercase hex digits (the header is damaged)",
                         what, want);
    char found[9];
    st_crc_text(found, st_crc32_bytes(f->bytes + data_at, f->n_bytes - data_at));
    if (strcmp(found, want) != 0)
        return grok_fail(e, GROK_EFORMAT,
                         "%s: checksum mismatch: the header records CRC-32 %s for the data "
                         "section, the data has %s (the file is damaged)",
                         what, want, found);
    f->crc_checked = 1;
    return GROK_OK;
}

int st_parse(st_file *f, const unsigned char *bytes, size_t n, const char *what, grok_err *e)
{
    GROK_ASSERT(st_host_is_little_endian());
    GROK_ASSERT(f != NULL && (bytes != NULL || n == 0));
    memset(f, 0, sizeof *f);
    if (!what)
        what = "safetensors buffer";

    /* 1-3: the length prefix. */
    if (n < 8)
        return grok_fail(e, GROK_EFORMAT,
                         "%s: too small: %zu bytes, a safetensors file has at least 8 (the header "
                         "length)",
                         what, n);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = (hn << 8) | bytes[i];
    if (hn > ST_HEADER_MAX)
        return grok_fail(
            e, GROK_EFORMAT,
            "%s: header too large: header length %llu exceeds the %llu-byte limit (not a "
            "safetensors file?)",
            what, (unsigned long long)hn, ST_HEADER_MAX);
    if (hn > n - 8)
        return grok_fail(
            e, GROK_EFORMAT,
            "%s: header past end of file: header length %llu needs %llu bytes, file has %zu "
            "(truncated?)",
            what, (unsigned long long)hn, (unsigned long long)(8 + hn), n);
    size_t N = (size_t)hn, data_at = 8 + N, data_len = n - data_at;

    /* 4: UTF-8, then JSON of the expected shape, decoded into a scratch pool
     * that moves into the file's allocation once its size is known. */
    size_t bad = st_utf8_invalid_at(bytes + 8, N);
    if (bad != N)
        return grok_fail(e, GROK_EFORMAT, "%s: invalid header: not UTF-8 at header byte %zu", what,
                         bad);
    char *pool = malloc(N + 1);
    if (!pool)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory (%zu-byte header)", what, N);
    st_entry *ents = NULL;
    int n_ents = 0;
    unsigned char *mem = NULL;
    st_hdr p = {pool, 0, what, e};
    int rc = st_parse_header(&p, bytes + 8, N, &ents, &n_ents, &f->meta, &f->n_meta);
    if (rc)
        goto fail;

    /* 5-7 */
    rc = st_check_layout(ents, n_ents, data_len, what, e);
    if (rc)
        goto fail;

    /* One allocation holds the file image, the decoded strings and aligned
     * copies of the tensors whose bytes are misaligned for their dtype in the
     * file (a writer that does not pad its header, or a U8 tensor before an
     * F32 one).  st_write's files from tensors ordered F64/I64 first, then
     * F32/I32, then U8 (the reference writer's order) need no copies. */
    size_t img = (n + 63) / 64 * 64, pool_sz = (p.len + 63) / 64 * 64, reloc = 0;
    for (int i = 0; i < n_ents; i++) {
        size_t elem = st_sizes[ents[i].dtype], nb = (size_t)(ents[i].end - ents[i].begin);
        ents[i].reloc = SIZE_MAX;
        if ((data_at + ents[i].begin) % elem != 0) {
            ents[i].reloc = reloc;
            reloc += (nb + 7) / 8 * 8;
        }
    }
    if (n > SIZE_MAX / 2 - pool_sz - reloc) {
        rc = grok_fail(e, GROK_ENOMEM, "%s: %zu bytes do not fit in memory", what, n);
        goto fail;
    }
    mem = grok_alloc(img + pool_sz + reloc);
    f->tensors = malloc((size_t)(n_ents ? n_ents : 1) * sizeof *f->tensors);
    if (!mem || !f->tensors) {
        rc = grok_fail(e, GROK_ENOMEM, "%s: out of memory (%zu bytes)", what, n);
        goto fail;
    }
    memcpy(mem, bytes, n);
    char *names = (char *)mem + img;
    memcpy(names, pool, p.len);
    for (int i = 0; i < f->n_meta; i++) {
        f->meta[i].key = names + (f->meta[i].key - pool);
        f->meta[i].value = names + (f->meta[i].value - pool);
    }
    for (int i = 0; i < n_ents; i++) {
        st_tensor *t = &f->tensors[i];
        memset(t, 0, sizeof *t);
        t->name = names + (ents[i].name - pool);
        t->dtype = (st_dtype)ents[i].dtype;
        t->ndim = ents[i].ndim;
        memcpy(t->shape, ents[i].shape, sizeof t->shape);
        const unsigned char *src = mem + data_at + ents[i].begin;
        if (ents[i].reloc != SIZE_MAX) {
            unsigned char *dst = mem + img + pool_sz + ents[i].reloc;
            memcpy(dst, src, (size_t)(ents[i].end - ents[i].begin));
            src = dst;
        }
        t->data = src;
    }
    f->n_tensors = n_ents;
    f->bytes = mem;
    f->n_bytes = n;
    if ((rc = st_check_crc(f, data_at, what, e)) != GROK_OK) {
        f->bytes = NULL;
        goto fail;
    }
    f->n_bytes = n;
    free(ents);
    free(pool);
    return GROK_OK;

fail:
    free(ents);
    free(pool);
    free(f->meta);
    free(f->tensors);
    grok_free(mem);
    memset(f, 0, sizeof *f);
    return rc;
}

int st_read(st_file *f, const char *path, grok_err *e)
{
    GROK_ASSERT(f != NULL && path != NULL);
    memset(f, 0, sizeof *f);
    char *buf;
    size_t n;
    int rc = fileio_read_all(path, &buf, &n, e);
    if (rc)
        return rc;
    rc = st_parse(f, (const unsigned char *)buf, n, path, e);
    free(buf);
    return rc;
}

void st_file_free(st_file *f)
{
    if (!f)
        return;
    grok_free(f->bytes);
    free(f->tensors);
    free(f->meta);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *st_meta_get(const st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}
