/* test_fuzz.c: replays the committed fuzz corpora (tests/fuzz/corpus/<target>/,
 * the seeds and every input that ever crashed a reader) through the fuzz
 * harnesses' own entry points, built with the ordinary compiler: the quick
 * suite needs no clang.  Each harness of tests/fuzz/ is included here with
 * its LLVMFuzzerTestOneInput renamed.  A test fails when its corpus folder is
 * missing or empty; a reader that crashes, leaks under the sanitizer builds
 * or aborts fails the binary.  `make fuzz` runs the same harnesses under
 * libFuzzer (tests/fuzz/README.md). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"

#define LLVMFuzzerTestOneInput fuzz_one_cfg
#include "fuzz/fuzz_cfg.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_safetensors
#include "fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_tsv
#include "fuzz/fuzz_tsv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_summary
#include "fuzz/fuzz_summary.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_sweep
#include "fuzz/fuzz_sweep.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_plots
#include "fuzz/fuzz_plots.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_npz
#include "fuzz/fuzz_npz.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_one_split
#include "fuzz/fuzz_split.c"
#undef LLVMFuzzerTestOneInput

static int replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds every file of tests/fuzz/corpus/<target>/ to one(), in name order. */
static void replay(const char *target, int (*one)(const uint8_t *, size_t))
{
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", target);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no corpus folder %s (run the tests from the repository root)", dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        assert_non_null(names);
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n == 0)
        fail_msg("corpus folder %s is empty", dir);
    qsort(names, n, sizeof *names, replay_cmp);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *data = tu_read_file(path, &len);
        assert_int_equal(one((const uint8_t *)data, len), 0);
        bytes += len;
        free(data);
        free(names[i]);
    }
    free(names);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("# %s: %zu inputs (%zu bytes) replayed in %.2f s\n", target, n, bytes,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
}

static void test_replay_cfg(void **state)
{
    (void)state;
    replay("cfg", fuzz_one_cfg);
}

static void test_replay_safetensors(void **state)
{
    (void)state;
    replay("safetensors", fuzz_one_safetensors);
}

static void test_replay_tsv(void **state)
{
    (void)state;
    replay("tsv", fuzz_one_tsv);
}

static void test_replay_summary(void **state)
{
    (void)state;
    replay("summary", fuzz_one_summary);
}

static void test_replay_sweep(void **state)
{
    (void)state;
    replay("sweep", fuzz_one_sweep);
}

static void test_replay_plots(void **state)
{
    (void)state;
    replay("plots", fuzz_one_plots);
}

static void test_replay_npz(void **state)
{
    (void)state;
    replay("npz", fuzz_one_npz);
}

static void test_replay_split(void **state)
{
    (void)state;
    replay("split", fuzz_one_split);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_cfg),     cmocka_unit_test(test_replay_safetensors),
        cmocka_unit_test(test_replay_tsv),     cmocka_unit_test(test_replay_summary),
        cmocka_unit_test(test_replay_sweep),   cmocka_unit_test(test_replay_plots),
        cmocka_unit_test(test_replay_npz),     cmocka_unit_test(test_replay_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
