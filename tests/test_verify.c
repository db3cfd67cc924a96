/* test_verify.c: checksums and the refusals end to end, through the grok
 * binary (GROK_BIN, which `make test` sets; skipped when unset).
 *
 * One short run (p = 23, 60 epochs, a checkpoint every 10) is trained once;
 * each case copies it, damages the copy, and runs `grok resume`, `grok info`,
 * `grok measure`, `grok export` and `grok verify` on it:
 *   ckpt_flip     one byte of a checkpoint's data section flipped
 *   state_flip    one byte of state.safetensors' data section flipped
 *   ckpt_trunc    a checkpoint truncated
 *   split_swap    split.tsv replaced by another split of the same examples
 *   state_gone    state.safetensors deleted (checkpoints and split.tsv kept)
 *   old_split     split.tsv replaced and manifest.tsv deleted (a run from
 *                 before checksums): resume still never overwrites split.tsv
 * Each damaged case: exit 2, a message naming the file and (for a checksum)
 * the expected and the found CRC-32, computed here independently with zlib
 * from the intact and the damaged bytes; and every file of the copy
 * byte-identical before and after.  `grok verify` on the intact run exits 0;
 * a run killed between its first checkpoint and its first state resumes from
 * scratch and writes checkpoints byte-identical to the intact run's; a run
 * whose files carry no checksum (written before them: rewritten here without
 * the key, no manifest.tsv) is accepted with a note and resumed, and what the
 * resumed session writes carries checksums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "safetensors.h"
#include "testutil.h"

typedef struct {
    const char *bin;
    char *dir;     /* scratch */
    char run[512]; /* the intact run */
} vctx;

static vctx g;

/* Runs a shell command line in g.dir; the exit code, output in *log. */
static int sh(char **log, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < (int)sizeof cmd);
    return tu_run_shell(g.dir, cmd, log);
}

static int group_setup(void **state)
{
    (void)state;
    g.bin = getenv("GROK_BIN");
    if (!g.bin || !*g.bin)
        return 0;
    g.dir = tu_tmp_dir();
    snprintf(g.run, sizeof g.run, "%s/run", g.dir);
    char *log = NULL;
    int rc = sh(&log,
                "%s train --out %s --threads 1 --quiet --set task.p=23 --set train.epochs=60 "
                "--set checkpoint.every=10 --set checkpoint.early_until=0 "
                "--set plots.formats='\"\"'",
                g.bin, g.run);
    if (rc != 0)
        printf("   grok train exited %d:\n%s\n", rc, log ? log : "");
    free(log);
    return rc == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g.dir)
        tu_rm_tmp_dir(g.dir);
    return 0;
}

/* Every file below dir with its sha256, in name order. */
static char *snapshot(const char *dir)
{
    char *log = NULL;
    assert_int_equal(sh(&log, "cd %s && find . -type f | LC_ALL=C sort | xargs sha256sum", dir), 0);
    assert_non_null(log);
    return log;
}

/* A fresh copy of the intact run at g.dir/NAME. */
static void copy_run(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g.dir, name);
    assert_int_equal(sh(NULL, "rm -rf %s && cp -a %s %s", out, g.run, out), 0);
}

/* The CRC-32 of a safetensors file's data section, as 8 hex digits. */
static void data_crc(char out[9], const char *path)
{
    size_t n = 0;
    unsigned char *b = (unsigned char *)tu_read_file(path, &n);
    assert_non_null(b);
    assert_true(n >= 8);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = (hn << 8) | b[i];
    assert_true(8 + hn <= n);
    uLong c = crc32(crc32(0L, Z_NULL, 0), b + 8 + hn, (uInt)(n - 8 - hn));
    snprintf(out, 9, "%08lx", (unsigned long)c);
    free(b);
}

/* Flips one bit of the data section of a safetensors file, `from_end` bytes
 * before its end. */
static void flip(const char *path, size_t from_end)
{
    size_t n = 0;
    char *b = tu_read_file(path, &n);
    assert_non_null(b);
    assert_true(n > from_end);
    b[n - from_end] ^= 0x10;
    tu_write_file(path, b, n);
    free(b);
}

/* Runs every reading command on run: each exits 2 with a message holding
 * every string of want[]; no file changes. */
static void expect_refused(const char *what, const char *run, const char *const want[])
{
    char *before = snapshot(run);
    const char *cmds[] = {"resume %s --threads 1", "info %s", "measure %s --threads 1",
                          "export %s --to npz --out %s.npz", "verify %s"};
    for (int i = 0; i < 5; i++) {
        char args[1200], *log = NULL;
        snprintf(args, sizeof args, cmds[i], run, run);
        int rc = sh(&log, "%s %s", g.bin, args);
        assert_non_null(log);
        const char *m = i < 4 ? log : strstr(log, "DAMAGED") ? strstr(log, "DAMAGED") : log;
        int ml = (int)strcspn(m, "\n");
        printf("   %-10s grok %-8.*s exit %d: %.*s\n", what, (int)strcspn(args, " "), args, rc,
               ml < 200 ? ml : 200, m);
        if (rc != 2)
            fail_msg("%s: grok %s exited %d, expected 2:\n%s", what, args, rc, log);
        for (int k = 0; want[k]; k++)
            if (!strstr(log, want[k]))
                fail_msg("%s: grok %s: the message lacks '%s':\n%s", what, args, want[k], log);
        free(log);
    }
    char *after = snapshot(run);
    assert_string_equal(before, after);
    free(before);
    free(after);
    char npz[600];
    snprintf(npz, sizeof npz, "%s.npz", run);
    assert_int_equal(access(npz, F_OK), -1);
}

static int skip_without_bin(void)
{
    if (g.bin && *g.bin)
        return 0;
    printf("# GROK_BIN is not set: the end-to-end checksum tests are skipped\n");
    return 1;
}

static void test_intact(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char *log = NULL;
    int rc = sh(&log, "%s verify %s", g.bin, g.run);
    printf("%s", log);
    assert_int_equal(rc, 0);
    tu_assert_contains(log, "0 damaged, 0 without a checksum");
    free(log);
    /* a sweep-like directory: the run below it is found */
    rc = sh(&log, "%s verify %s", g.bin, g.dir);
    assert_int_equal(rc, 0);
    tu_assert_contains(log, "1 run: ");
    free(log);
}

static void test_ckpt_flip(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600], ck[700], want_crc[9], got_crc[9];
    copy_run(run, sizeof run, "ckpt_flip");
    snprintf(ck, sizeof ck, "%s/checkpoints/epoch-000030.safetensors", run);
    data_crc(want_crc, ck);
    flip(ck, 77);
    data_crc(got_crc, ck);
    assert_string_not_equal(want_crc, got_crc);
    const char *want[] = {"checkpoints/epoch-000030.safetensors", "checksum mismatch", want_crc,
                          got_crc, NULL};
    expect_refused("ckpt_flip", run, want);
}

static void test_state_flip(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600], st[700], want_crc[9], got_crc[9];
    copy_run(run, sizeof run, "state_flip");
    snprintf(st, sizeof st, "%s/state.safetensors", run);
    data_crc(want_crc, st);
    flip(st, 1001);
    data_crc(got_crc, st);
    const char *want[] = {"state.safetensors", "checksum mismatch", want_crc, got_crc, NULL};
    expect_refused("state_flip", run, want);
}

static void test_ckpt_trunc(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600];
    copy_run(run, sizeof run, "ckpt_trunc");
    assert_int_equal(sh(NULL, "truncate -s -4096 %s/checkpoints/epoch-000050.safetensors", run), 0);
    const char *want[] = {"checkpoints/epoch-000050.safetensors", "truncated", NULL};
    expect_refused("ckpt_trunc", run, want);
}

static void test_split_swap(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600], got_crc[9];
    copy_run(run, sizeof run, "split_swap");
    /* the first training example moved to the test side */
    assert_int_equal(sh(NULL, "sed -i '2s/train$/test/' %s/split.tsv", run), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/split.tsv", run);
    size_t n = 0;
    char *b = tu_read_file(path, &n);
    assert_non_null(b);
    snprintf(got_crc, sizeof got_crc, "%08lx",
             (unsigned long)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)b, (uInt)n));
    free(b);
    const char *want[] = {"split.tsv", "manifest.tsv records CRC-32", got_crc, NULL};
    expect_refused("split_swap", run, want);
}

/* Runs one command expected to exit `code` with every string of want in its
 * output, and no file of run changed. */
static void expect_one(const char *run, int code, const char *args, const char *const want[],
                       const char *const unwanted[])
{
    char *before = snapshot(run), *log = NULL;
    int rc = sh(&log, "%s %s", g.bin, args);
    int ml = (int)strcspn(log, "\n");
    printf("   grok %-8.*s exit %d: %.*s\n", (int)strcspn(args, " "), args, rc, ml < 200 ? ml : 200,
           log);
    if (rc != code)
        fail_msg("grok %s exited %d, expected %d:\n%s", args, rc, code, log);
    for (int k = 0; want && want[k]; k++)
        if (!strstr(log, want[k]))
            fail_msg("grok %s: the output lacks '%s':\n%s", args, want[k], log);
    for (int k = 0; unwanted && unwanted[k]; k++)
        if (strstr(log, unwanted[k]))
            fail_msg("grok %s: the output has '%s':\n%s", args, unwanted[k], log);
    char *after = snapshot(run);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(log);
}

static void test_state_gone(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600], args[1400];
    copy_run(run, sizeof run, "state_gone");
    assert_int_equal(sh(NULL, "rm %s/state.safetensors", run), 0);
    const char *want[] = {"no state.safetensors", "--init-from", "new directory", NULL};
    snprintf(args, sizeof args, "resume %s --threads 1", run);
    expect_one(run, 2, args, want, NULL);
    /* info describes it without suggesting the resume that would destroy it */
    const char *info_want[] = {"no state.safetensors but 7 checkpoints", "--init-from", NULL};
    const char *info_unwanted[] = {"'grok resume", NULL};
    snprintf(args, sizeof args, "info %s", run);
    expect_one(run, 0, args, info_want, info_unwanted);
}

static void test_old_split(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600], args[1400];
    copy_run(run, sizeof run, "old_split");
    /* no manifest: nothing to check split.tsv against; the state is gone
     * too, but for its first checkpoint, so resume would start over and
     * rewrite split.tsv, which holds another split */
    assert_int_equal(sh(NULL,
                        "rm %s/manifest.tsv %s/state.safetensors && "
                        "rm %s/checkpoints/epoch-0000[1-6]0.safetensors && "
                        "sed -i '2s/train$/test/' %s/split.tsv",
                        run, run, run, run),
                     0);
    const char *want[] = {"split.tsv exists and differs", "never overwrites", NULL};
    snprintf(args, sizeof args, "resume %s --threads 1", run);
    expect_one(run, 2, args, want, NULL);
}

/* A run killed between its first checkpoint and its first state: resume
 * starts over and writes the same bytes. */
static void test_restart_same_bytes(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600];
    copy_run(run, sizeof run, "restart");
    assert_int_equal(sh(NULL,
                        "rm %s/state.safetensors %s/checkpoints/epoch-0000[1-6]0.safetensors",
                        run, run),
                     0);
    char *log = NULL;
    int rc = sh(&log, "%s resume %s --threads 1 --quiet", g.bin, run);
    if (rc != 0)
        fail_msg("resume exited %d:\n%s", rc, log);
    free(log);
    assert_int_equal(sh(&log, "cd %s && for f in split.tsv manifest.tsv checkpoints/*; do cmp "
                              "$f %s/$f || exit 1; done",
                        run, g.run),
                     0);
    free(log);
    rc = sh(&log, "%s verify %s", g.bin, run);
    assert_int_equal(rc, 0);
    free(log);
    printf("   restart from scratch: split.tsv, manifest.tsv and 7 checkpoints byte-identical\n");
}

/* path rewritten without its grok_crc32 key: a file from before checksums. */
static void strip_crc(const char *path)
{
    st_file f;
    grok_err e;
    assert_int_equal(st_read(&f, path, &e), GROK_OK);
    assert_int_equal(f.crc_checked, 1);
    st_meta meta[64];
    int m = 0;
    for (int i = 0; i < f.n_meta; i++)
        if (strcmp(f.meta[i].key, ST_CRC_KEY) != 0) {
            assert_true(m < 64);
            meta[m++] = f.meta[i];
        }
    assert_int_equal(m, f.n_meta - 1);
    assert_int_equal(st_write(path, f.tensors, f.n_tensors, meta, m, &e), GROK_OK);
    st_file_free(&f);
}

/* A run written before checksums: accepted with a note, and resumed. */
static void test_old_files(void **state)
{
    (void)state;
    if (skip_without_bin())
        return;
    char run[600], path[700];
    copy_run(run, sizeof run, "old_files");
    snprintf(path, sizeof path, "%s/state.safetensors", run);
    strip_crc(path);
    for (int ep = 0; ep <= 60; ep += 10) {
        snprintf(path, sizeof path, "%s/checkpoints/epoch-%06d.safetensors", run, ep);
        strip_crc(path);
    }
    assert_int_equal(sh(NULL, "rm %s/manifest.tsv", run), 0);
    char *log = NULL;
    assert_int_equal(sh(&log, "%s verify %s", g.bin, run), 0);
    tu_assert_contains(log, "0 files intact, 0 damaged, 9 without a checksum");
    free(log);
    assert_int_equal(sh(&log, "%s info %s", g.bin, run), 0);
    tu_assert_contains(log, "carry no checksum");
    free(log);
    int rc = sh(&log, "%s resume %s --epochs 70 --threads 1", g.bin, run);
    if (rc != 0)
        fail_msg("resume exited %d:\n%s", rc, log);
    tu_assert_contains(log, "note: 9 files");
    free(log);
    /* what the resumed session wrote carries checksums */
    assert_int_equal(sh(&log, "%s verify %s", g.bin, run), 0);
    tu_assert_contains(log, "3 files intact, 0 damaged, 7 without a checksum");
    free(log);
    printf("   a run without checksums: accepted with a note, resumed to epoch 70\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_ckpt_flip),
        cmocka_unit_test(test_state_flip),
        cmocka_unit_test(test_ckpt_trunc),
        cmocka_unit_test(test_split_swap),
        cmocka_unit_test(test_state_gone),
        cmocka_unit_test(test_old_split),
        cmocka_unit_test(test_restart_same_bytes),
        cmocka_unit_test(test_old_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
