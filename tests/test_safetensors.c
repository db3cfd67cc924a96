/* test_safetensors.c: the safetensors writer and reader.
 *
 * Checks: a round trip of every supported dtype (scalar, empty [0,3] and 8-d
 * tensors included) with metadata that needs JSON escaping; the exact bytes of
 * two tiny files against hand-written byte strings, so the layout is pinned;
 * header padding to a multiple of 8 for every header length mod 8; every
 * rejection rule of the reference loader provoked on a file, with the message
 * checked for the path and the name of the check; truncation at every length
 * and corruption of every header byte never crash; and an independent reading
 * of a written file by numpy (json + numpy.frombuffer), skipped when
 * /usr/bin/python3 has no numpy.  Checksums: st_crc32 against the CRC-32
 * check value of "123456789" (0xcbf43926, the gzip/PNG CRC) and against a
 * bitwise CRC written here; a file carrying grok_crc32 reads back with
 * crc_checked set; every single-bit flip of its data section and a damaged
 * checksum value are refused with the expected and found values named. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "safetensors.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

/* A file from a hand-written header (no padding) and data_len zero bytes. */
static void write_hand(const char *path, const char *header, size_t data_len)
{
    size_t hn = strlen(header), n = 8 + hn + data_len;
    unsigned char *buf = calloc(n ? n : 1, 1);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    memcpy(buf + 8, header, hn);
    tu_write_file(path, buf, n);
    free(buf);
}

/* st_read must fail with GROK_EFORMAT, naming the path and the check. */
static void expect_reject(const char *path, const char *check_word, const char *case_name)
{
    st_file f;
    grok_err e = {{0}};
    int rc = st_read(&f, path, &e);
    printf("# %-22s -> %s\n", case_name, e.msg);
    assert_int_equal(rc, GROK_EFORMAT);
    tu_assert_contains(e.msg, path);
    tu_assert_contains(e.msg, check_word);
    assert_null(f.bytes);
    assert_int_equal(f.n_tensors, 0);
    st_file_free(&f); /* harmless on a failed read */
}

static uint64_t header_len_of(const unsigned char *buf)
{
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = (hn << 8) | buf[i];
    return hn;
}

/* ---- the round-trip fixture ---------------------------------------------- */

enum { NW = 12, NX = 5, NI = 6, NB = 7, NR = 4 };
typedef struct {
    float w[NW];
    double x[NX];
    int32_t idx[NI];
    int64_t step;
    uint8_t bytes[NB];
    double rank8[NR];
    st_tensor t[7];
    st_meta meta[4];
} fixture;

static void fixture_init(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    for (int i = 0; i < NW; i++)
        fx->w[i] = ((float)i - 5.5f) * 2.385f;
    const double x[NX] = {3.141592653589793, 1e300, -2.5e-310, -0.0, 2.385e-3};
    memcpy(fx->x, x, sizeof x);
    const int32_t idx[NI] = {INT32_MIN, -1, 0, 1, 7, INT32_MAX};
    memcpy(fx->idx, idx, sizeof idx);
    fx->step = -1234567890123456789LL;
    const uint8_t bytes[NB] = {0, 1, 2, 127, 128, 254, 255};
    memcpy(fx->bytes, bytes, sizeof bytes);
    for (int i = 0; i < NR; i++)
        fx->rank8[i] = 0.125 * (i + 1);
    fx->t[0] = (st_tensor){"embed.W_E", ST_F32, 2, {3, 4}, fx->w};
    fx->t[1] = (st_tensor){"x", ST_F64, 1, {NX}, fx->x};
    fx->t[2] = (st_tensor){"idx", ST_I32, 2, {2, 3}, fx->idx};
    fx->t[3] = (st_tensor){"step", ST_I64, 0, {0}, &fx->step};
    fx->t[4] = (st_tensor){"bytes", ST_U8, 1, {NB}, fx->bytes};
    fx->t[5] = (st_tensor){"empty", ST_F32, 2, {0, 3}, NULL};
    fx->t[6] = (st_tensor){"rank8", ST_F64, 8, {1, 2, 1, 2, 1, 1, 1, 1}, fx->rank8};
    fx->meta[0] = (st_meta){"step", "7"};
    fx->meta[1] = (st_meta){"quote\"back\\slash\nnew\ttab\x01", "value with \"quotes\" and \\"};
    fx->meta[2] = (st_meta){"utf8 \xc3\xa9\xe2\x88\x91\xf0\x9f\x98\x80", "\x7f control \x1f end"};
    fx->meta[3] = (st_meta){"", ""};
}

/* ---- tests --------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    const char *dir = *state;
    fixture fx;
    fixture_init(&fx);
    char *path = tu_path_in(dir, "state.safetensors");
    grok_err e = {{0}};
    assert_int_equal(st_write(path, fx.t, 7, fx.meta, 4, &e), GROK_OK);

    st_file f;
    int rc = st_read(&f, path, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(header_len_of(f.bytes) % 8, 0);
    assert_int_equal(f.n_tensors, 7);
    size_t total_bytes = 0;
    int n_copied = 0;
    for (int i = 0; i < 7; i++) {
        const st_tensor *want = &fx.t[i], *got = &f.tensors[i]; /* order is kept */
        assert_string_equal(got->name, want->name);
        assert_ptr_equal(st_find(&f, want->name), got);
        assert_int_equal(got->dtype, want->dtype);
        assert_int_equal(got->ndim, want->ndim);
        for (int d = 0; d < want->ndim; d++)
            assert_int_equal(got->shape[d], want->shape[d]);
        size_t nb = st_tensor_numel(want) * st_dtype_size(want->dtype);
        assert_int_equal(st_tensor_numel(got) * st_dtype_size(got->dtype), nb);
        if (nb)
            assert_memory_equal(got->data, want->data, nb);
        /* data is aligned for its dtype; it points into the file image where
         * the file's layout allows, else at an aligned copy (here after the
         * 7 bytes of "bytes") */
        assert_int_equal((uintptr_t)got->data % st_dtype_size(got->dtype), 0);
        const unsigned char *in_file = f.bytes + 8 + header_len_of(f.bytes) + total_bytes;
        if ((uintptr_t)in_file % st_dtype_size(got->dtype) == 0)
            assert_ptr_equal(got->data, in_file);
        else
            n_copied++;
        total_bytes += nb;
    }
    assert_int_equal(n_copied, 2); /* "empty" (0 bytes) and "rank8" both sit at odd offset 127 */
    assert_int_equal(st_tensor_numel(&f.tensors[3]), 1); /* scalar */
    assert_int_equal(st_tensor_numel(&f.tensors[5]), 0); /* [0,3] */
    assert_null(st_find(&f, "missing"));

    double got[NW], want[NW];
    for (int i = 0; i < NW; i++)
        got[i] = ((const float *)f.tensors[0].data)[i], want[i] = fx.w[i];
    tu_check_close_d("F32 embed.W_E after round trip", got, want, NW, (tu_tol){0});
    tu_check_close_d("F64 x after round trip", f.tensors[1].data, fx.x, NX, (tu_tol){0});
    assert_int_equal(*(const int64_t *)f.tensors[3].data, fx.step);

    assert_int_equal(f.n_meta, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(f.meta[i].key, fx.meta[i].key);
        assert_string_equal(f.meta[i].value, fx.meta[i].value);
        assert_string_equal(st_meta_get(&f, fx.meta[i].key), fx.meta[i].value);
    }
    assert_null(st_meta_get(&f, "nope"));
    printf("# 7 tensors (%zu data bytes, %d misaligned in the file and copied) and 4 metadata "
           "entries with escapes read back bit-exact\n",
           total_bytes, n_copied);
    st_file_free(&f);
    assert_null(f.bytes);
    free(path);
}

static void test_exact_bytes(void **state)
{
    (void)state;
    /* Header counted by hand: 130 bytes of JSON + 6 spaces = 136 = 0x88. */
    static const unsigned char want[] =
        "\x88\x00\x00\x00\x00\x00\x00\x00"
        "{\"__metadata__\":{\"k\":\"v\"},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[8,9]}}"
        "      "
        "\x00\x00\x80\x3f" /* 1.0f */
        "\x00\x00\x00\xc0" /* -2.0f */
        "\x07";
    const float a[2] = {1.0f, -2.0f};
    const uint8_t b = 7;
    const st_tensor t[2] = {{"a", ST_F32, 1, {2}, a}, {"b", ST_U8, 0, {0}, &b}};
    const st_meta meta[1] = {{"k", "v"}};
    unsigned char *out;
    size_t n;
    grok_err e = {{0}};
    assert_int_equal(st_serialize(t, 2, meta, 1, &out, &n, &e), GROK_OK);
    printf("# tiny file: %zu bytes, want %zu\n", n, sizeof want - 1);
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
    free(out);

    /* No tensors, no metadata: "{}" padded to 8. */
    static const unsigned char empty[] = "\x08\x00\x00\x00\x00\x00\x00\x00{}      ";
    assert_int_equal(st_serialize(NULL, 0, NULL, 0, &out, &n, &e), GROK_OK);
    assert_int_equal(n, sizeof empty - 1);
    assert_memory_equal(out, empty, n);
    st_file f;
    assert_int_equal(st_parse(&f, out, n, "empty", &e), GROK_OK);
    assert_int_equal(f.n_tensors, 0);
    assert_int_equal(f.n_meta, 0);
    st_file_free(&f);
    free(out);
    printf("# both files byte-identical to the hand-written strings\n");
}

/* The byte strings of the reference implementation's own tests
 * (safetensors/src/tensor.rs: test_serialization, the padded variant, and
 * test_deserialization), written out as text. */
static void test_reference_vectors(void **state)
{
    (void)state;
    const float v[6] = {0, 1, 2, 3, 4, 5};
    static const unsigned char data[] = "\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40"
                                        "\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40";
    static const char h64[] =
        "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    static const char h72[] =
        "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
    const struct {
        st_tensor t;
        const char *header;
        size_t hn;
    } cases[2] = {{{"attn.0", ST_F32, 3, {1, 2, 3}, v}, h64, 64},
                  {{"attn0", ST_F32, 4, {1, 1, 2, 3}, v}, h72, 72}};
    for (int c = 0; c < 2; c++) {
        assert_int_equal(strlen(cases[c].header), cases[c].hn);
        unsigned char want[8 + 72 + 24] = {(unsigned char)cases[c].hn};
        memcpy(want + 8, cases[c].header, cases[c].hn);
        memcpy(want + 8 + cases[c].hn, data, 24);
        unsigned char *out;
        size_t n;
        grok_err e = {{0}};
        assert_int_equal(st_serialize(&cases[c].t, 1, NULL, 0, &out, &n, &e), GROK_OK);
        assert_int_equal(n, 8 + cases[c].hn + 24);
        assert_memory_equal(out, want, n);
        free(out);
    }

    static const unsigned char deser[] =
        "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_"
        "offsets\":[0,16]}}"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    st_file f;
    grok_err e = {{0}};
    assert_int_equal(st_parse(&f, deser, sizeof deser - 1, "tensor.rs vector", &e), GROK_OK);
    assert_int_equal(f.n_tensors, 1);
    const st_tensor *t = st_find(&f, "test");
    assert_non_null(t);
    assert_int_equal(t->dtype, ST_I32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 2);
    assert_int_equal((uintptr_t)t->data % 4, 0);
    static const int32_t zeros[4];
    assert_memory_equal(t->data, zeros, 16);
    st_file_free(&f);
    printf("# writer matches the reference's 64- and 72-byte-header files; its 60-byte-header file "
           "reads as I32 [2,2] zeros\n");
}

static void test_header_padding(void **state)
{
    (void)state;
    const double v = 2.385;
    char name[32];
    int seen[8] = {0};
    for (int len = 1; len <= 16; len++) {
        memset(name, 'n', (size_t)len);
        name[len] = '\0';
        const st_tensor t = {name, ST_F64, 0, {0}, &v};
        unsigned char *out;
        size_t n;
        grok_err e = {{0}};
        assert_int_equal(st_serialize(&t, 1, NULL, 0, &out, &n, &e), GROK_OK);
        uint64_t hn = header_len_of(out);
        assert_int_equal(hn % 8, 0);
        assert_int_equal(n, 8 + hn + 8);
        /* the JSON ends at the last '}' and only spaces follow */
        size_t end = 8 + (size_t)hn;
        while (out[end - 1] == ' ')
            end--;
        assert_int_equal(out[end - 1], '}');
        assert_true(8 + hn - end < 8);
        seen[(end - 8) % 8] = 1;
        st_file f;
        assert_int_equal(st_parse(&f, out, n, "padding", &e), GROK_OK);
        assert_int_equal(*(const double *)f.tensors[0].data, v);
        st_file_free(&f);
        free(out);
    }
    for (int r = 0; r < 8; r++)
        assert_true(seen[r]);
    printf("# JSON lengths of every residue mod 8 padded with spaces to a multiple of 8\n");
}

static void test_rejections(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "state.safetensors");
    const float w[6] = {1, 2, 3, 4, 5, 6};
    const double b[2] = {-1, 1};
    const st_tensor t[2] = {{"w", ST_F32, 2, {2, 3}, w}, {"b", ST_F64, 1, {2}, b}};
    unsigned char *good;
    size_t n;
    grok_err e = {{0}};
    assert_int_equal(st_serialize(t, 2, NULL, 0, &good, &n, &e), GROK_OK);
    unsigned char *buf = malloc(n + 1);
    assert_non_null(buf);

    tu_write_file(path, good, 5);
    expect_reject(path, "too small", "5-byte file");

    tu_write_file(path, good, n - 1);
    expect_reject(path, "truncated", "truncated by one byte");

    memcpy(buf, good, n);
    buf[n] = 0;
    tu_write_file(path, buf, n + 1);
    expect_reject(path, "trailing", "one byte appended");

    memcpy(buf, good, n);
    const uint64_t huge = 100000001;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(huge >> (8 * i));
    tu_write_file(path, buf, n);
    expect_reject(path, "too large", "N = 100,000,001");

    memcpy(buf, good, n);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)(n - 7) >> (8 * i));
    tu_write_file(path, buf, n);
    expect_reject(path, "past end of file", "N past EOF");

    /* Invalid JSON, one way per kind of mistake. */
    static const char *const bad_json[][2] = {
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "missing }"},
        {"{\"w\" {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "missing :"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "float in shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "negative dim"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", "leading zero"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":true,\"data_offsets\":[0,8]}}", "bool shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", "3 offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", "no data_offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}",
         "unknown field"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"w\":{}}",
         "duplicate key"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x", "trailing garbage"},
        {"{\"w\\q\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "bad escape"},
        {"{\"w\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
         "lone surrogate"},
        {"{\"w\n\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "raw newline"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}",
         "huge integer"},
        {"[]", "array at top"},
        {"", "empty header"},
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        write_hand(path, bad_json[i][0], 8);
        expect_reject(path, "invalid JSON", bad_json[i][1]);
    }
    write_hand(path, "{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    expect_reject(path, "not UTF-8", "byte 0xff in a name");

    write_hand(path, "{\"__metadata__\":{\"step\":7}}", 0);
    expect_reject(path, "not a string", "numeric metadata");
    write_hand(path, "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0);
    expect_reject(path, "duplicate", "duplicate metadata key");

    write_hand(path, "{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    expect_reject(path, "unknown dtype", "dtype F33");
    write_hand(path, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
    expect_reject(path, "unsupported dtype", "dtype F8_E4M3");

    write_hand(path,
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
               12);
    expect_reject(path, "gap", "gap between tensors");
    write_hand(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    expect_reject(path, "not 0", "first begins at 4");
    write_hand(path,
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12);
    expect_reject(path, "overlaps", "overlapping tensors");
    write_hand(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 0);
    expect_reject(path, "END before BEGIN", "end before begin");
    write_hand(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
    expect_reject(path, "byte count", "F32[3] in 8 bytes");
    write_hand(path,
               "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,2],"
               "\"data_offsets\":[0,0]}}",
               0);
    expect_reject(path, "overflow", "numel overflows");

    /* A missing file is an I/O error that names the path. */
    char *missing = tu_path_in(dir, "missing.safetensors");
    st_file f;
    assert_int_equal(st_read(&f, missing, &e), GROK_EIO);
    tu_assert_contains(e.msg, missing);
    free(missing);
    free(buf);
    free(good);
    free(path);
}

/* Duplicate keys are refused at every level of the header, as the reference
 * loader refuses them (serde rejects duplicate fields and map keys): a tensor
 * name, "__metadata__", a metadata key, a field of a tensor entry. */
static void test_duplicate_keys(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "dup.safetensors");
    static const char *const dups[][2] = {
        {"{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
         "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
         "tensor name"},
        {"{\"__metadata__\":{},\"__metadata__\":{},"
         "\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
         "__metadata__"},
        {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"1\"},"
         "\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
         "metadata key"},
        {"{\"w\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
         "tensor field"},
    };
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
        write_hand(path, dups[i][0], 2);
        expect_reject(path, "duplicate", dups[i][1]);
    }
    /* the same headers without the duplicate are valid */
    write_hand(path, "{\"__metadata__\":{\"k\":\"1\"},"
                     "\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
    st_file f;
    grok_err e = {{0}};
    assert_int_equal(st_read(&f, path, &e), GROK_OK);
    assert_int_equal(f.n_tensors, 1);
    st_file_free(&f);
    free(path);
}

/* Files not written by st_write but valid: whitespace around the JSON, no
 * padding (so the data region is unaligned in the file), fields reordered. */
static void test_accepts_foreign_layout(void **state)
{
    (void)state;
    const char *header = " \n{\"__metadata__\":{\"k\\u00e9\\ud83d\\ude00\":\"v\\/\"},"
                         "\"d\":{\"shape\":[2],\"data_offsets\":[0,16],\"dtype\":\"F64\"},"
                         "\"e\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[16,16]}} \t";
    size_t hn = strlen(header);
    assert_true((8 + hn) % 8 != 0);
    const double d[2] = {2.385, -1e-300};
    size_t n = 8 + hn + sizeof d;
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    memcpy(buf + 8, header, hn);
    memcpy(buf + 8 + hn, d, sizeof d);
    st_file f;
    grok_err e = {{0}};
    int rc = st_parse(&f, buf, n, "foreign", &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(f.n_tensors, 2);
    const st_tensor *t = st_find(&f, "d");
    assert_non_null(t);
    assert_int_equal((uintptr_t)t->data % 8, 0);
    tu_check_close_d("F64 from an unpadded header", t->data, d, 2, (tu_tol){0});
    assert_string_equal(st_meta_get(&f, "k\xc3\xa9\xf0\x9f\x98\x80"), "v/");
    st_file_free(&f);
    free(buf);
}

/* Every truncation and every single-byte corruption of the header must give
 * GROK_OK or GROK_EFORMAT, never a crash (run under ASan for the full check). */
static void test_corruption_never_crashes(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    unsigned char *good;
    size_t n;
    grok_err e = {{0}};
    assert_int_equal(st_serialize(fx.t, 7, fx.meta, 4, &good, &n, &e), GROK_OK);
    st_file f;
    for (size_t k = 0; k < n; k++)
        assert_int_equal(st_parse(&f, good, k, "cut", &e), GROK_EFORMAT);
    size_t hn = (size_t)header_len_of(good), ok = 0, rejected = 0;
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    const unsigned char subs[] = {0x00, '"', '\\', '{', '}', '[',  ']',
                                  ',',  ':', '0',  '9', 'x', 0x80, 0xff};
    for (size_t i = 8; i < 8 + hn; i++)
        for (size_t s = 0; s < sizeof subs; s++) {
            memcpy(buf, good, n);
            buf[i] = subs[s];
            int rc = st_parse(&f, buf, n, "flip", &e);
            assert_true(rc == GROK_OK || rc == GROK_EFORMAT);
            if (rc == GROK_OK)
                ok++, st_file_free(&f);
            else
                rejected++;
        }
    printf("# %zu truncations rejected; %zu header corruptions: %zu rejected, %zu still valid\n", n,
           ok + rejected, rejected, ok);
    free(buf);
    free(good);
}

static void test_writer_errors(void **state)
{
    const char *dir = *state;
    const float v[2] = {1, 2};
    grok_err e = {{0}};
    unsigned char *out = NULL;
    size_t n;
    st_tensor t[2] = {{"a", ST_F32, 1, {2}, v}, {"a", ST_F32, 1, {2}, v}};
    assert_int_equal(st_serialize(t, 2, NULL, 0, &out, &n, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "duplicate");
    assert_null(out);
    t[1] = (st_tensor){"b", ST_F32, 1, {2}, NULL};
    assert_int_equal(st_serialize(t, 2, NULL, 0, &out, &n, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    t[1] = (st_tensor){"b", ST_F32, 1, {-2}, v};
    assert_int_equal(st_serialize(t, 2, NULL, 0, &out, &n, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    t[1] = (st_tensor){"bad\xff", ST_F32, 1, {2}, v};
    assert_int_equal(st_serialize(t, 2, NULL, 0, &out, &n, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "UTF-8");
    t[1] = (st_tensor){"__metadata__", ST_F32, 1, {2}, v};
    assert_int_equal(st_serialize(t, 2, NULL, 0, &out, &n, &e), GROK_EINVAL);

    char *path = tu_path_in(dir, "no/dir/x.safetensors");
    assert_int_equal(st_write(path, t, 1, NULL, 0, &e), GROK_EIO);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, path);
    assert_false(fileio_exists(path));
    t[1] = (st_tensor){"a", ST_F32, 1, {2}, v};
    assert_int_equal(st_write(path, t, 2, NULL, 0, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, path);
    free(path);
}

/* The lower-case hex of s's bytes, or "-" for an empty string (as check_py prints). */
static const char *hex_or_dash(char *buf, const char *s)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        k += (size_t)sprintf(buf + k, "%02x", *p);
    if (k == 0)
        strcpy(buf, "-");
    return buf;
}

/* An independent reader: Python's json and numpy.frombuffer, nothing of ours. */
static const char check_py[] =
    "import json, struct, sys\n"
    "import numpy as np\n"
    "buf = open(sys.argv[1], 'rb').read()\n"
    "n, = struct.unpack('<Q', buf[:8])\n"
    "assert n % 8 == 0, 'header length %d' % n\n"
    "raw = buf[8:8 + n]\n"
    "text = raw.decode('utf-8')\n"
    "assert text.rstrip(' ').endswith('}') and text.startswith('{')\n"
    "h = json.loads(text)\n"
    "assert list(h)[0] == '__metadata__', list(h)\n"
    "meta = h.pop('__metadata__')\n"
    "dt = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'U8': 'u1'}\n"
    "end = 0\n"
    "for name, info in h.items():\n"
    "    b, e = info['data_offsets']\n"
    "    assert b == end, (name, b, end)\n"
    "    a = np.frombuffer(buf[8 + n + b:8 + n + e], dtype=dt[info['dtype']])\n"
    "    a = a.reshape(info['shape'])\n"
    "    end = e\n"
    "    print('tensor', name, info['dtype'], 'x'.join(map(str, a.shape)) or 'scalar', a.size)\n"
    "    for i, x in enumerate(a.reshape(-1).tolist()):\n"
    "        print('value', name, i, repr(x))\n"
    "assert 8 + n + end == len(buf), (8 + n + end, len(buf))\n"
    "for k, v in meta.items():\n"
    "    print('meta', k.encode().hex() or '-', v.encode().hex() or '-')\n"
    "print('OK')\n";

/* The reflected CRC-32 (polynomial 0xedb88320) one bit at a time. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void test_checksum(void **state)
{
    const char *dir = *state;
    assert_int_equal(st_crc32_bytes("123456789", 9), 0xcbf43926u);
    float a[5] = {1, -2, 3.5f, 0, 1e-30f};
    int64_t b[2] = {7, -9};
    st_tensor t[2] = {{"b", ST_I64, 1, {2}, b}, {"a", ST_F32, 1, {5}, a}};
    unsigned char data[sizeof b + sizeof a];
    memcpy(data, b, sizeof b);
    memcpy(data + sizeof b, a, sizeof a);
    uint32_t crc = st_crc32(t, 2);
    assert_int_equal(crc, crc32_bitwise(data, sizeof data));
    char txt[9];
    st_crc_text(txt, crc);
    st_meta meta[2] = {{"format", "x"}, {ST_CRC_KEY, txt}};
    char *path = tu_path_in(dir, "c.safetensors");
    grok_err e;
    assert_int_equal(st_write(path, t, 2, meta, 2, &e), GROK_OK);
    st_file f;
    assert_int_equal(st_read(&f, path, &e), GROK_OK);
    assert_int_equal(f.crc_checked, 1);
    st_file_free(&f);
    /* without the key: read as before, crc_checked 0 */
    unsigned char *buf;
    size_t n;
    assert_int_equal(st_serialize(t, 2, meta, 1, &buf, &n, &e), GROK_OK);
    assert_int_equal(st_parse(&f, buf, n, "plain", &e), GROK_OK);
    assert_int_equal(f.crc_checked, 0);
    st_file_free(&f);
    free(buf);
    /* every bit of the data section flipped, one at a time */
    assert_int_equal(st_serialize(t, 2, meta, 2, &buf, &n, &e), GROK_OK);
    size_t at = n - sizeof data;
    for (size_t i = at; i < n; i++) {
        for (int k = 0; k < 8; k++) {
            buf[i] ^= (unsigned char)(1u << k);
            assert_int_equal(st_parse(&f, buf, n, "flipped", &e), GROK_EFORMAT);
            tu_assert_contains(e.msg, "checksum mismatch");
            tu_assert_contains(e.msg, txt);
            char found[9];
            st_crc_text(found, crc32_bitwise(buf + at, sizeof data));
            tu_assert_contains(e.msg, found);
            buf[i] ^= (unsigned char)(1u << k);
        }
    }
    assert_int_equal(st_parse(&f, buf, n, "intact", &e), GROK_OK);
    st_file_free(&f);
    /* a damaged checksum value */
    unsigned char *v = NULL;
    for (size_t i = 0; !v && i + 8 <= at; i++)
        if (memcmp(buf + i, txt, 8) == 0)
            v = buf + i;
    assert_non_null(v);
    v[0] = 'Z';
    assert_int_equal(st_parse(&f, buf, n, "bad value", &e), GROK_EFORMAT);
    tu_assert_contains(e.msg, "not 8 lowercase hex digits");
    free(buf);
    free(path);
}

static void test_numpy_reads_it(void **state)
{
    const char *dir = *state;
    if (access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("# skipped: /usr/bin/python3 with numpy is not available (apt-get install "
               "python3-numpy)\n");
        skip();
    }
    fixture fx;
    fixture_init(&fx);
    char *path = tu_path_in(dir, "numpy.safetensors");
    char *script = tu_path_in(dir, "check.py");
    grok_err e = {{0}};
    assert_int_equal(st_write(path, fx.t, 7, fx.meta, 4, &e), GROK_OK);
    tu_write_file(script, check_py, sizeof check_py - 1);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' 2>&1", script, path);
    FILE *pp = popen(cmd, "r");
    assert_non_null(pp);

    double got_w[NW], want_w[NW], got_x[NX];
    int n_w = 0, n_x = 0, n_idx = 0, n_meta = 0, n_tensor = 0, ok = 0, step_ok = 0, empty_ok = 0;
    char line[4096], hk[1024], hv[1024];
    while (fgets(line, sizeof line, pp)) {
        char name[64], val[64], k[1024], v[1024];
        int i;
        if (sscanf(line, "value %63s %d %63s", name, &i, val) == 3) {
            if (!strcmp(name, "embed.W_E") && i < NW)
                got_w[i] = strtod(val, NULL), n_w++;
            else if (!strcmp(name, "x") && i < NX)
                got_x[i] = strtod(val, NULL), n_x++;
            else if (!strcmp(name, "idx") && i < NI)
                n_idx += strtoll(val, NULL, 10) == fx.idx[i];
            else if (!strcmp(name, "step"))
                step_ok = strtoll(val, NULL, 10) == fx.step;
        } else if (sscanf(line, "meta %1023s %1023s", k, v) == 2) {
            for (int m = 0; m < 4; m++)
                n_meta += !strcmp(k, hex_or_dash(hk, fx.meta[m].key)) &&
                          !strcmp(v, hex_or_dash(hv, fx.meta[m].value));
        } else if (!strncmp(line, "tensor ", 7)) {
            n_tensor++;
            empty_ok |= !strcmp(line, "tensor empty F32 0x3 0\n");
        } else if (!strcmp(line, "OK\n")) {
            ok = 1;
        } else {
            printf("# python: %s", line);
        }
    }
    int status = pclose(pp);
    assert_int_equal(status, 0);
    assert_true(ok);
    assert_int_equal(n_tensor, 7);
    assert_int_equal(n_w, NW);
    assert_int_equal(n_x, NX);
    assert_int_equal(n_idx, NI);
    assert_true(step_ok);
    assert_true(empty_ok);
    assert_int_equal(n_meta, 4);
    for (int i = 0; i < NW; i++)
        want_w[i] = fx.w[i];
    tu_check_close_d("numpy F32 embed.W_E", got_w, want_w, NW, (tu_tol){0});
    tu_check_close_d("numpy F64 x", got_x, fx.x, NX, (tu_tol){0});
    printf("# numpy read 7 tensors, 4 metadata entries; I32/I64 values equal\n");
    free(script);
    free(path);
}

/* The half-width floats and float64 to float32: values whose bits are known
 * by hand (bfloat16 is the top half of a float32; binary16 per IEEE 754). */
static void test_to_f32(void **state)
{
    (void)state;
    const uint16_t bf[4] = {0x3f80, 0xc000, 0x7f80, 0x3e20}; /* 1, -2, inf, 0.15625 */
    const uint16_t hf[6] = {0x3c00, 0xc000, 0x0001, 0x7c00, 0xfbff, 0x3555};
    /* 1, -2, 2^-24 (smallest subnormal), inf, -65504 (largest finite), 0.333251953125 */
    const double d[3] = {0.5, 0.1, 1e300};
    float out[6];
    size_t inexact = 99;
    st_tensor t = {"b", ST_BF16, 1, {4}, bf};
    assert_int_equal(st_to_f32(&t, out, &inexact), 0);
    assert_true(out[0] == 1.0f && out[1] == -2.0f && isinf(out[2]) && out[3] == 0.15625f);
    assert_int_equal(inexact, 0);
    t = (st_tensor){"h", ST_F16, 1, {6}, hf};
    assert_int_equal(st_to_f32(&t, out, NULL), 0);
    assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == ldexpf(1.0f, -24));
    assert_true(isinf(out[3]) && out[4] == -65504.0f && out[5] == 0.333251953125f);
    t = (st_tensor){"d", ST_F64, 1, {3}, d};
    assert_int_equal(st_to_f32(&t, out, &inexact), 0);
    assert_true(out[0] == 0.5f && out[1] == (float)0.1 && isinf(out[2]));
    assert_int_equal(inexact, 2); /* 0.1 rounded, 1e300 out of range */
    const int32_t i[1] = {1};
    t = (st_tensor){"i", ST_I32, 1, {1}, i};
    assert_int_equal(st_to_f32(&t, out, NULL), -1);
    /* a BF16 file reads back as written */
    unsigned char *buf;
    size_t n;
    grok_err e;
    t = (st_tensor){"b", ST_BF16, 1, {4}, bf};
    assert_int_equal(st_serialize(&t, 1, NULL, 0, &buf, &n, &e), GROK_OK);
    st_file f;
    assert_int_equal(st_parse(&f, buf, n, "bf16", &e), GROK_OK);
    assert_int_equal(f.tensors[0].dtype, ST_BF16);
    assert_memory_equal(f.tensors[0].data, bf, sizeof bf);
    st_file_free(&f);
    free(buf);
    printf("# BF16, F16 and F64 to float32: known bits, 2 inexact F64 values counted\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_to_f32),
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_header_padding),
        cmocka_unit_test_setup_teardown(test_rejections, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_accepts_foreign_layout),
        cmocka_unit_test(test_corruption_never_crashes),
        cmocka_unit_test_setup_teardown(test_writer_errors, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_numpy_reads_it, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_checksum, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
