/* test_bits.c: the default run's bits, kept.
 *
 * Three trainings whose bytes were recorded with the build that preceded
 * the task kinds, model families, losses and training rules
 * (tests/golden/bits.tsv): 300 epochs of the default experiment (the
 * Nanda et al. run), 600 epochs of the small p = 23 config of test_run, and
 * one point of the shipped training-fraction sweep (p = 53, fraction 0.5,
 * seed 1, 300 epochs).  Each must give the same SHA-256 of its checkpoints'
 * tensor data and of its metrics rows (every column but elapsed_s): new
 * features are off by default and change nothing.  The hashes hold for one
 * BLIS kernel set each (a "# kernel NAME" section of the file: skx, zen3);
 * another set sums the products in another order, and the test skips,
 * saying so and printing the hashes it got.  Needs GROK_BIN and the
 * sha256sum command. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define GOLDEN "tests/golden/bits.tsv"
#define CMD_N 8192

static const char small_cfg[] =
    "task = { op = \"add\"; p = 23; frac_train = 0.8; };\n"
    "model = { d_model = 64; n_heads = 4; d_head = 16; d_mlp = 128; };\n"
    "optim = { lr = 0.003; weight_decay = 2.0; };\n"
    "train = { epochs = 1200; eval_every = 10; };\n"
    "checkpoint = { every = 100; every_early = 20; early_until = 100; };\n"
    "plots = { formats = \"\"; };\n";

/* The SHA-256 (hex) of path's bytes, by sha256sum. */
static void sha256_file(const char *path, char out[65])
{
    char cmd[CMD_N];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%64s", out), 1);
    assert_int_equal(pclose(p), 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Concatenates the tensor data of run/checkpoints/ * in name order into
 * out_path; returns the number of checkpoints. */
static int checkpoint_data(const char *run, const char *out_path)
{
    char *dir = tu_path_in(run, "checkpoints");
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 1024)
        if (strncmp(de->d_name, "epoch-", 6) == 0)
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    FILE *out = fopen(out_path, "wb");
    assert_non_null(out);
    for (int i = 0; i < n; i++) {
        char *path = tu_path_in(dir, names[i]);
        size_t len;
        char *b = tu_read_file(path, &len);
        assert_non_null(b);
        uint64_t h;
        assert_true(len >= 8);
        memcpy(&h, b, 8);
        assert_true(8 + h <= len);
        assert_int_equal(fwrite(b + 8 + h, 1, len - 8 - h, out), len - 8 - h);
        free(b);
        free(path);
        free(names[i]);
    }
    assert_int_equal(fclose(out), 0);
    free(dir);
    return n;
}

/* metrics.tsv without its header, columns 1-6, into out_path; returns rows. */
static int metrics_rows(const char *run, const char *out_path)
{
    char *path = tu_path_in(run, "metrics.tsv");
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    FILE *out = fopen(out_path, "wb");
    assert_non_null(out);
    int rows = 0;
    char *line = strchr(text, '\n'); /* skip the header */
    while (line && line[1]) {
        line++;
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        int tabs = 0;
        size_t k = 0;
        while (k < len && !(line[k] == '\t' && ++tabs == 6))
            k++;
        fwrite(line, 1, k, out);
        fputc('\n', out);
        rows++;
        line = end;
    }
    assert_int_equal(fclose(out), 0);
    free(text);
    free(path);
    return rows;
}

/* The golden line for (run, what) in the section of BLIS kernel set
 * `kernel` ("# kernel NAME" starts a section): its count and hash; 0 when
 * the file has no such section. */
static int golden(const char *kernel, const char *run, const char *what, int *count,
                  char hash[65])
{
    char *text = tu_read_file(GOLDEN, NULL);
    assert_non_null(text);
    int found = 0;
    char section[32] = "";
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char a[32], b[32], h[65];
        int n;
        if (sscanf(line, "# kernel %31s", section) == 1)
            continue;
        if (line[0] != '#' && strcmp(section, kernel) == 0 &&
            sscanf(line, "%31s %31s %d %64s", a, b, &n, h) == 4 && strcmp(a, run) == 0 &&
            strcmp(b, what) == 0) {
            *count = n;
            memcpy(hash, h, 65);
            found = 1;
        }
    }
    free(text);
    return found;
}

/* Trains `args` into dir/run and compares its bytes with the golden lines. */
static void check_run(const char *dir, const char *run, const char *args)
{
    const char *bin = getenv("GROK_BIN");
    if (!bin || !*bin)
        skip();
    char *out = tu_path_in(dir, run), *tmp = tu_path_in(dir, "bytes");
    char cmd[CMD_N];
    snprintf(cmd, sizeof cmd, "'%s' train %s --out '%s' --quiet", bin, args, out);
    printf("   %s\n", cmd);
    assert_int_equal(system(cmd), 0);

    char *sum_path = tu_path_in(out, "summary.json");
    char *sum = tu_read_file(sum_path, NULL), kernel[32] = "";
    assert_non_null(sum);
    const char *k = strstr(sum, "\"blis_kernel\": \"");
    if (k)
        sscanf(k + 16, "%31[^\"]", kernel);
    free(sum);
    free(sum_path);

    int want_n;
    char want[65], got[65];
    if (!golden(kernel, run, "checkpoints", &want_n, want)) {
        int n = checkpoint_data(out, tmp);
        sha256_file(tmp, got);
        printf("   BLIS kernel '%s' has no golden bits in %s: skipped (%s checkpoints %d %s)\n",
               kernel, GOLDEN, run, n, got);
        free(out);
        free(tmp);
        skip();
    }
    int n = checkpoint_data(out, tmp);
    sha256_file(tmp, got);
    printf("   %s: %d checkpoints, data %s (want %d, %s)\n", run, n, got, want_n, want);
    assert_int_equal(n, want_n);
    assert_string_equal(got, want);

    assert_true(golden(kernel, run, "metrics", &want_n, want));
    n = metrics_rows(out, tmp);
    sha256_file(tmp, got);
    printf("   %s: %d metrics rows, %s (want %d, %s)\n", run, n, got, want_n, want);
    assert_int_equal(n, want_n);
    assert_string_equal(got, want);
    free(out);
    free(tmp);
}

static void test_default_300(void **state)
{
    check_run(*state, "default", "--threads 1 --set train.epochs=300 --set plots.formats='\"\"'");
}

static void test_small_600(void **state)
{
    char *cfg = tu_path_in(*state, "small.cfg");
    tu_write_text(cfg, small_cfg);
    char args[CMD_N];
    snprintf(args, sizeof args, "'%s' --threads 1 --set train.epochs=600", cfg);
    check_run(*state, "small", args);
    free(cfg);
}

static void test_sweep_point(void **state)
{
    check_run(*state, "sweep",
              "--threads 1 --set task.p=53 --set optim.lr=0.003 --set task.frac_train=0.5 "
              "--set seed=1 --set train.epochs=300 --set checkpoint.every=100 "
              "--set checkpoint.early_until=0 --set plots.formats='\"\"'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_300, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_small_600, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_sweep_point, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
