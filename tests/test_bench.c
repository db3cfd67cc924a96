/* test_bench.c: `grok bench`'s rows (experiments/bench.h), never its speed.
 *
 * - bench_rows_parse: names, "all", and the messages for an unknown or empty
 *   entry.
 * - bench_run with the mlp and clip rows, one timed step on one thread: the
 *   rows table lists both, the mlp row at Prieto et al.'s shape (226 one-hot
 *   inputs, two hidden layers of 200, 113 classes, 1.918 GFLOP of products
 *   per step, computed here from the shapes), the config row's full table is
 *   not printed, and each row's step time is handed back.
 * - `grok bench --only` with an unknown row: exit status 2 and the valid
 *   names (needs GROK_BIN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "cfg.h"
#include "linalg.h"
#include "testutil.h"

static void test_rows_parse(void **state)
{
    (void)state;
    grok_err e = {{0}};
    unsigned rows = 0;
    assert_int_equal(bench_rows_parse("mlp,ema", &rows, &e), GROK_OK);
    assert_int_equal(rows, (1u << BENCH_ROW_MLP) | (1u << BENCH_ROW_EMA));
    assert_int_equal(bench_rows_parse("all", &rows, &e), GROK_OK);
    assert_int_equal(rows, (1u << BENCH_ROW_COUNT) - 1);
    assert_int_equal(bench_rows_parse("config", &rows, &e), GROK_OK);
    assert_int_equal(rows, 1u << BENCH_ROW_CONFIG);
    assert_true((BENCH_ROWS_DEFAULT & (1u << BENCH_ROW_MA)) == 0);
    assert_true((BENCH_ROWS_DEFAULT & (1u << BENCH_ROW_MLP)) != 0);
    for (int r = 0; r < BENCH_ROW_COUNT; r++) {
        assert_int_equal(bench_rows_parse(bench_row_name((bench_row)r), &rows, &e), GROK_OK);
        assert_int_equal(rows, 1u << r);
    }
    static const char *const bad[][2] = {
        {"mlp,emma", "unknown row 'emma'"},
        {"mlp,", "unknown row ''"},
        {"", "unknown row ''"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rows = 7;
        assert_int_equal(bench_rows_parse(bad[i][0], &rows, &e), GROK_EINVAL);
        printf("# %s\n", e.msg);
        tu_assert_contains(e.msg, bad[i][1]);
        tu_assert_contains(e.msg, "config, mlp, ema, ma, ortho, clip, or all");
        assert_int_equal(rows, 7);
    }
}

static void test_rows_table(void **state)
{
    (void)state;
    cfg_run c;
    grok_err e = {{0}};
    assert_int_equal(cfg_load(&c, NULL, NULL, 0, &e), GROK_OK);
    double step[BENCH_ROW_COUNT], best[BENCH_ROW_COUNT];
    bench_opts o = {.warmup = 0, .reps = 1, .n_threads = 1, .threads = {1}, .sgemm_n = 64,
                    .rows = (1u << BENCH_ROW_MLP) | (1u << BENCH_ROW_CLIP), .step_ms = step,
                    .best_ms = best};
    sbuf out;
    sbuf_init(&out);
    assert_int_equal(bench_run(&c, &o, &out, &e), GROK_OK);
    la_set_threads(1);
    printf("%s", out.data);
    /* 2 N (H H + H Vo) flops forward, twice that backward (no product below
     * the first hidden layer): N = floor(0.4 * 113^2) = 5107 */
    const double gflop = 3 * 2.0 * 5107 * (200 * 200 + 200 * 113) / 1e9;
    char want[160];
    snprintf(want, sizeof want, "mlp     mlp 226-200-200-113 (onehot)");
    tu_assert_contains(out.data, want);
    snprintf(want, sizeof want, "%9.3f", gflop);
    tu_assert_contains(strstr(out.data, "mlp     mlp"), want);
    tu_assert_contains(out.data, "clip    transformer, 1 layer, d_model 128, d_mlp 512");
    tu_assert_contains(out.data, "--set 'model.combine=\"onehot\"'");
    tu_assert_contains(out.data, "--set 'filters.clip_norm=1.0'");
    assert_null(strstr(out.data, "measure ms"));     /* no config table */
    assert_null(strstr(out.data, "\nema "));         /* rows not asked for */
    assert_true(step[BENCH_ROW_MLP] > 0 && best[BENCH_ROW_MLP] > 0);
    assert_true(step[BENCH_ROW_CLIP] > 0);
    assert_true(step[BENCH_ROW_CONFIG] == 0 && step[BENCH_ROW_EMA] == 0);
    sbuf_free(&out);
}

static void test_cli_only(void **state)
{
    const char *bin = tu_grok_bin();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' bench --only mlp,nope", bin);
    char *log = NULL;
    const int rc = tu_run_shell(*state, cmd, &log);
    printf("# %s", log ? log : "");
    assert_int_equal(rc, 2);
    tu_assert_contains(log, "unknown row 'nope'");
    tu_assert_contains(log, "usage: grok bench");
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_parse),
        cmocka_unit_test(test_rows_table),
        cmocka_unit_test_setup_teardown(test_cli_only, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests_name("bench", tests, NULL, NULL);
}
