/* test_fileio.c: atomic writes (including a write that fails in the middle),
 * whole-file reads, mkdir -p, and the sbuf text buffer with JSON escaping.
 *
 * Faults are injected without wrapping libc: RLIMIT_FSIZE with SIGXFSZ
 * ignored makes write() stop after exactly L bytes and then fail with EFBIG
 * (SQLite's "fail after N bytes" idea); a directory standing where the target
 * should go makes rename() fail after the data was written.  Both work as root,
 * where a read-only directory would not. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

/* Number of directory entries whose name contains ".tmp." */
static int count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".tmp."))
            n++;
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const void *data, size_t n)
{
    char *got;
    size_t got_n;
    grok_err e = {{0}};
    assert_int_equal(fileio_read_all(path, &got, &got_n, &e), GROK_OK);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, data, n);
    assert_int_equal(got[got_n], '\0');
    free(got);
}

/* ---- atomic write -------------------------------------------------------- */

static void test_atomic_replaces(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "state.bin");
    grok_err e = {{0}};
    const char first[] = "first version";
    const char second[] = "second version, longer than the first\n";
    assert_int_equal(fileio_write_atomic(path, first, sizeof first - 1, &e), GROK_OK);
    assert_file_is(path, first, sizeof first - 1);
    assert_int_equal(fileio_write_atomic(path, second, sizeof second - 1, &e), GROK_OK);
    assert_file_is(path, second, sizeof second - 1);
    assert_int_equal(fileio_write_atomic(path, NULL, 0, &e), GROK_OK);
    assert_file_is(path, "", 0);
    assert_int_equal(count_temp_files(dir), 0);
    printf("# replaced a file twice (13 -> 38 -> 0 bytes); contents equal, no temp file left\n");
    free(path);
}

static void test_atomic_missing_dir(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "no/such/dir/out.tsv");
    grok_err e = {{0}};
    assert_int_equal(fileio_write_atomic(path, "x", 1, &e), GROK_EIO);
    printf("# message: %s\n", e.msg);
    tu_assert_contains(e.msg, path);
    tu_assert_contains(e.msg, "open");
    tu_assert_contains(e.msg, strerror(ENOENT));
    assert_false(fileio_exists(path));
    assert_int_equal(count_temp_files(dir), 0);
    free(path);
}

/* Runs fileio_write_atomic with the file size limited to `limit` bytes. */
static int write_with_fsize_limit(const char *path, const void *data, size_t n, rlim_t limit,
                                  grok_err *e)
{
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = limit;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_true(old_handler != SIG_ERR);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = fileio_write_atomic(path, data, n, e); /* nothing else may write here */
    int restored = setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(restored, 0);
    return rc;
}

static void test_atomic_fault_mid_write(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "checkpoint.safetensors");
    grok_err e = {{0}};
    const char old[] = "the previous checkpoint, which must survive";
    assert_int_equal(fileio_write_atomic(path, old, sizeof old - 1, &e), GROK_OK);

    enum { N = 10000 };
    unsigned char *big = malloc(N);
    assert_non_null(big);
    for (int i = 0; i < N; i++)
        big[i] = (unsigned char)(i * 131 + 7);
    const rlim_t limits[] = {0, 1, 1000, 4096, N - 1};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        memset(&e, 0, sizeof e);
        int rc = write_with_fsize_limit(path, big, N, limits[k], &e);
        printf("# fail after %lu of %d bytes: rc %d, message: %s\n", (unsigned long)limits[k], N,
               rc, e.msg);
        assert_int_equal(rc, GROK_EIO);
        tu_assert_contains(e.msg, path);
        tu_assert_contains(e.msg, "write");
        tu_assert_contains(e.msg, strerror(EFBIG));
        char expect[64];
        snprintf(expect, sizeof expect, "after %lu of %d bytes", (unsigned long)limits[k], N);
        tu_assert_contains(e.msg, expect);
        assert_file_is(path, old, sizeof old - 1);
        assert_int_equal(count_temp_files(dir), 0);
    }
    /* Under a limit the write fits in, it succeeds. */
    assert_int_equal(write_with_fsize_limit(path, big, N, N, &e), GROK_OK);
    assert_file_is(path, big, N);
    printf("# previous file intact after each fault; a write that fits the limit succeeds\n");
    free(big);
    free(path);
}

static void test_atomic_rename_fails(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "figures");
    char *inner = tu_path_in(path, "keep.png");
    grok_err e = {{0}};
    assert_int_equal(fileio_mkdir_p(path, &e), GROK_OK);
    assert_int_equal(fileio_write_atomic(inner, "png", 3, &e), GROK_OK);
    /* The data is written and synced, then rename() over a non-empty directory fails. */
    int rc = fileio_write_atomic(path, "data", 4, &e);
    printf("# message: %s\n", e.msg);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, "rename");
    tu_assert_contains(e.msg, path);
    assert_int_equal(count_temp_files(dir), 0);
    assert_file_is(inner, "png", 3);
    free(inner);
    free(path);
}

/* ---- read_all, mkdir_p, exists ------------------------------------------- */

static void test_read_all(void **state)
{
    const char *dir = *state;
    char *path = tu_path_in(dir, "bin");
    grok_err e = {{0}};
    /* Larger than the first read buffer, with NUL bytes inside. */
    enum { N = 70001 };
    char *data = malloc(N);
    assert_non_null(data);
    for (int i = 0; i < N; i++)
        data[i] = (char)(i % 251);
    assert_int_equal(fileio_write_atomic(path, data, N, &e), GROK_OK);
    assert_file_is(path, data, N);

    char *got = (char *)1;
    size_t n = 99;
    char *missing = tu_path_in(dir, "missing.tsv");
    assert_int_equal(fileio_read_all(missing, &got, &n, &e), GROK_EIO);
    printf("# message: %s\n", e.msg);
    assert_null(got);
    assert_int_equal(n, 0);
    tu_assert_contains(e.msg, missing);
    tu_assert_contains(e.msg, strerror(ENOENT));
    assert_int_equal(fileio_read_all(dir, &got, &n, &e), GROK_EIO);
    printf("# message: %s\n", e.msg);
    tu_assert_contains(e.msg, dir);
    printf("# read back %d bytes exactly; missing file and directory rejected\n", N);
    free(missing);
    free(data);
    free(path);
}

static void test_mkdir_p(void **state)
{
    const char *dir = *state;
    grok_err e = {{0}};
    char *deep = tu_path_in(dir, "runs//a/b/c/");
    assert_int_equal(fileio_mkdir_p(deep, &e), GROK_OK);
    assert_int_equal(fileio_mkdir_p(deep, &e), GROK_OK); /* exists: fine */
    char *c = tu_path_in(dir, "runs/a/b/c");
    struct stat st;
    assert_int_equal(stat(c, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_true(fileio_exists(c));

    /* A file where a directory should be. */
    char *file = tu_path_in(dir, "runs/a/file");
    assert_int_equal(fileio_write_atomic(file, "x", 1, &e), GROK_OK);
    char *under = tu_path_in(dir, "runs/a/file/sub");
    assert_int_equal(fileio_mkdir_p(under, &e), GROK_EIO);
    printf("# message: %s\n", e.msg);
    tu_assert_contains(e.msg, under);
    tu_assert_contains(e.msg, "not a directory");
    assert_int_equal(fileio_mkdir_p(file, &e), GROK_EIO);
    assert_int_equal(fileio_mkdir_p("", &e), GROK_EINVAL);
    assert_int_equal(fileio_mkdir_p("/", &e), GROK_OK);

    char *nothing = tu_path_in(dir, "nothing");
    assert_false(fileio_exists(nothing));
    assert_true(fileio_exists(file));
    printf("# nested mkdir twice, through a double slash and a trailing slash; file in the way "
           "rejected\n");
    free(nothing);
    free(under);
    free(file);
    free(c);
    free(deep);
}

/* ---- sbuf ---------------------------------------------------------------- */

static void test_sbuf_growth(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    char *expect = calloc(200000, 1);
    assert_non_null(expect);
    size_t n = 0;
    for (int i = 0; i < 20000; i++) {
        sbuf_printf(&b, "%d,", i * 7919 - 3);
        n += (size_t)snprintf(expect + n, 200000 - n, "%d,", i * 7919 - 3);
    }
    assert_int_equal(b.oom, 0);
    assert_int_equal(b.len, n);
    assert_true(b.cap > b.len);
    assert_string_equal(b.data, expect);

    /* One printf far larger than the spare room. */
    sbuf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    memset(expect, 'q', 5000);
    expect[5000] = '\0';
    sbuf_printf(&b, "<%s>", expect);
    assert_int_equal(b.len, 5002);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[5001], '>');
    assert_int_equal(b.data[5002], '\0');

    sbuf_append(&b, "ab\0cd", 5); /* append takes bytes, NUL included */
    assert_int_equal(b.len, 5007);
    assert_memory_equal(b.data + 5002, "ab\0cd", 5);
    sbuf_puts(&b, "!");
    assert_int_equal(b.len, 5008);
    assert_string_equal(b.data + 5005, "cd!");
    printf("# 20000 printf appends (%zu bytes) equal snprintf; 5002-byte printf; bytes with NUL\n",
           n);
    sbuf_free(&b);
    assert_null(b.data);
    free(expect);
}

static void test_sbuf_json_string(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b);
    const char in[] = "a\"b\\c\nd\te\x01"
                      "f\x1f\r\b\f/\x7f \xc3\xa9\xe2\x88\x91";
    const char want[] = "\"a\\\"b\\\\c\\nd\\te\\u0001f\\u001f\\r\\b\\f/\x7f \xc3\xa9\xe2\x88\x91\"";
    sbuf_json_string(&b, in);
    printf("# escaped: %s\n", b.data);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    sbuf_clear(&b);
    sbuf_json_string(&b, "");
    assert_string_equal(b.data, "\"\"");
    sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_atomic_replaces, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_atomic_missing_dir, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_atomic_fault_mid_write, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_atomic_rename_fails, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_read_all, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_mkdir_p, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_sbuf_growth),
        cmocka_unit_test(test_sbuf_json_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
