/* test_loss.c: the losses of model/loss.h against their definitions.
 *
 * - Names, parsing, and the config check (float32 only with softmax).
 * - Finite differences: central differences of the mean loss in double, on
 *   float logits whose steps are exact, against dlogits, for every kind, on
 *   ordinary and on confident rows.
 * - The identity StableMax(x) = softmax(sign(x) log1p|x|).
 * - Softmax Collapse: the float32 softmax loss of a confident row is exactly
 *   0 where the float64 one is positive; elsewhere they agree to float
 *   precision.
 * - loss_rows_f64 (double logits, row selection) against loss_rows.
 * - PyTorch's values in tests/golden/loss_golden.safetensors
 *   (tests/gen_loss_golden.py): per-row losses, means, gradients, argmax.
 * - Same bits with 1 and 2 threads, with and without per_example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "safetensors.h"
#include "testutil.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

#define N_CONFIGS 4
static const loss_config CONFIGS[N_CONFIGS] = {
    {LOSS_SOFTMAX_CE, 0}, {LOSS_SOFTMAX_CE, 1}, {LOSS_STABLEMAX_CE, 0}, {LOSS_MSE, 0}};
static const char *const CONFIG_NAMES[N_CONFIGS] = {"softmax_ce", "softmax_ce_f32", "stablemax_ce",
                                                    "mse"};

/* loss_rows with its buffers allocated here; per_example and dlogits may be
 * NULL. */
static double run_loss(const loss_config *c, const float *x, const int32_t *y, int n, int k,
                       double *per_example, float *dlogits, int *n_correct)
{
    double *scratch = malloc(sizeof(double) * (size_t)n * k);
    assert_non_null(scratch);
    const double m = loss_rows(c, x, y, n, k, scratch, per_example, dlogits, n_correct);
    free(scratch);
    return m;
}

/* ------------------------------------------------------------------------ */

static void test_names_and_check(void **state)
{
    (void)state;
    for (int i = 0; i < LOSS_KIND_COUNT; i++)
        assert_int_equal(loss_kind_parse(loss_kind_name((loss_kind)i)), i);
    assert_int_equal(loss_kind_parse("stablemax_ce"), LOSS_STABLEMAX_CE);
    assert_int_equal(loss_kind_parse("cross_entropy"), -1);
    assert_string_equal(loss_kind_name(LOSS_KIND_COUNT), "?");
    grok_err e = {{0}};
    for (int i = 0; i < N_CONFIGS; i++)
        assert_int_equal(loss_config_check(&CONFIGS[i], &e), GROK_OK);
    const loss_config badkind = {LOSS_KIND_COUNT, 0}, bad32 = {LOSS_SOFTMAX_CE, 2};
    assert_int_equal(loss_config_check(&bad32, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "train.loss_dtype");
    /* float32 with StableMax or MSE: accepted and ignored, the same bits */
    enum { N = 5, K = 7 };
    float x[N * K], d0[N * K], d1[N * K];
    int32_t y[N];
    double scr[N * K];
    for (int i = 0; i < N * K; i++)
        x[i] = (float)(0.37 * (i % 11) - 1.5);
    for (int i = 0; i < N; i++)
        y[i] = (int32_t)((3 * i) % K);
    for (int kind = LOSS_STABLEMAX_CE; kind <= LOSS_MSE; kind++) {
        const loss_config c0 = {(loss_kind)kind, 0}, c1 = {(loss_kind)kind, 1};
        assert_int_equal(loss_config_check(&c1, &e), GROK_OK);
        double l0 = loss_rows(&c0, x, y, N, K, scr, NULL, d0, NULL);
        double l1 = loss_rows(&c1, x, y, N, K, scr, NULL, d1, NULL);
        assert_memory_equal(&l0, &l1, sizeof l0);
        assert_memory_equal(d0, d1, sizeof d0);
    }
    assert_int_equal(loss_config_check(&badkind, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "train.loss");
}

/* ------------------------------------------------------------------------ */
/* finite differences */

enum { FD_N = 3, FD_K = 5 };

/* Logits on a grid of 1/64 (so x +- 2^-12 is exact in float); confident:
 * the label's logit 25 above the others. */
static void fd_rows(float *x, int32_t *y, int confident, tu_xs *g)
{
    for (int i = 0; i < FD_N; i++) {
        y[i] = (int32_t)(tu_xs_uniform(g) * FD_K);
        for (int j = 0; j < FD_K; j++)
            x[i * FD_K + j] = (float)(round(tu_xs_normal(g) * 1.5 * 64) / 64);
        if (confident)
            x[i * FD_K + y[i]] = 25.0f;
    }
    if (!confident)
        x[FD_K + 2] = 0; /* StableMax at its branch point */
}

static void check_fd(const loss_config *c, const char *what, int confident, uint64_t seed)
{
    tu_xs g = {seed};
    float x[FD_N * FD_K], d[FD_N * FD_K];
    int32_t y[FD_N];
    fd_rows(x, y, confident, &g);
    run_loss(c, x, y, FD_N, FD_K, NULL, d, NULL);
    double fd[FD_N * FD_K], got[FD_N * FD_K];
    for (int i = 0; i < FD_N * FD_K; i++) {
        const float x0 = x[i];
        /* float32 softmax: the loss itself is float, so a longer step; at 0,
         * where StableMax's second derivative jumps (the central difference
         * is then off by h/2), a short one */
        const double h = c->f32 ? 1.0 / 64 : x0 == 0 ? 0x1p-24 : 1.0 / 4096;
        x[i] = (float)(x0 + h);
        const double lp = run_loss(c, x, y, FD_N, FD_K, NULL, NULL, NULL);
        x[i] = (float)(x0 - h);
        const double lm = run_loss(c, x, y, FD_N, FD_K, NULL, NULL, NULL);
        x[i] = x0;
        fd[i] = (lp - lm) / (2 * h);
        got[i] = d[i];
    }
    char name[96];
    snprintf(name, sizeof name, "%s dlogits vs finite differences (%s rows)", what,
             confident ? "confident" : "random");
    tu_check_close_d(name, got, fd, FD_N * FD_K,
                     c->f32 ? (tu_tol){.abs = 2e-4} : (tu_tol){.abs = 1e-8, .rel = 1e-5});
}

static void test_finite_differences(void **state)
{
    (void)state;
    for (int i = 0; i < N_CONFIGS; i++) {
        check_fd(&CONFIGS[i], CONFIG_NAMES[i], 0, 11 + (uint64_t)i);
        check_fd(&CONFIGS[i], CONFIG_NAMES[i], 1, 21 + (uint64_t)i);
    }
}

/* ------------------------------------------------------------------------ */
/* identities */

enum { ID_N = 40, ID_K = 9 };

/* Gaussian rows of varied scale (0.01 to 300). */
static void random_rows(float *x, int32_t *y, int n, int k, tu_xs *g)
{
    for (int i = 0; i < n; i++) {
        const double scale = pow(10, -2 + 4.5 * tu_xs_uniform(g));
        y[i] = (int32_t)(tu_xs_uniform(g) * k);
        for (int j = 0; j < k; j++)
            x[(size_t)i * k + j] = (float)(tu_xs_normal(g) * scale);
    }
}

static void test_stablemax_identity(void **state)
{
    (void)state;
    tu_xs g = {77};
    float x[ID_N * ID_K];
    double z[ID_N * ID_K], got[ID_N], want[ID_N];
    int32_t y[ID_N];
    random_rows(x, y, ID_N, ID_K, &g);
    for (int i = 0; i < ID_N * ID_K; i++)
        z[i] = (x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0) * log1p(fabs((double)x[i]));
    int c1, c2;
    const double m1 = run_loss(&CONFIGS[2], x, y, ID_N, ID_K, got, NULL, &c1);
    const double m2 = loss_rows_f64(&CONFIGS[0], z, y, NULL, ID_N, ID_K, want, &c2);
    tu_check_close_d("stablemax(x) vs softmax(sign(x) log1p|x|)", got, want, ID_N,
                     (tu_tol){.abs = 1e-15, .rel = 1e-12});
    assert_true(fabs(m1 - m2) <= 1e-12 * m2);
    assert_int_equal(c1, c2); /* the transform keeps the order */
}

static void test_softmax_collapse(void **state)
{
    (void)state;
    /* a confident row: the others' exps (e^-30) vanish next to 1 in float */
    const float x[2 * 5] = {30, 0, 0, 0, 0, 0.5f, -1, 2, 0.25f, 1};
    const int32_t y[2] = {0, 3};
    double l64[2], l32[2];
    float d64[2 * 5], d32[2 * 5];
    run_loss(&CONFIGS[0], x, y, 2, 5, l64, d64, NULL);
    run_loss(&CONFIGS[1], x, y, 2, 5, l32, d32, NULL);
    printf("  confident row: float64 loss %.17g, float32 loss %.17g\n", l64[0], l32[0]);
    assert_true(l32[0] == 0.0);
    assert_true(fabs(l64[0] - 4 * exp(-30.0)) <= 1e-12 * l64[0]);
    assert_true(d32[0] == 0.0f); /* softmax rounds to 1 at the label */
    assert_true(d64[0] < 0.0f);  /* -(1 - softmax) / n stays */
    /* an ordinary row and the gradients: float precision */
    tu_check_close_d("softmax f32 vs f64 loss, ordinary row", &l32[1], &l64[1], 1,
                     (tu_tol){.rel = 1e-6});
    tu_check_close_f("softmax f32 vs f64 dlogits", d32, d64, 10, (tu_tol){.abs = 1e-7});

    /* many ordinary rows */
    tu_xs g = {5};
    float xr[ID_N * ID_K];
    int32_t yr[ID_N];
    double a[ID_N], b[ID_N];
    for (int i = 0; i < ID_N * ID_K; i++)
        xr[i] = (float)(3 * tu_xs_normal(&g));
    for (int i = 0; i < ID_N; i++)
        yr[i] = (int32_t)(tu_xs_uniform(&g) * ID_K);
    run_loss(&CONFIGS[0], xr, yr, ID_N, ID_K, a, NULL, NULL);
    run_loss(&CONFIGS[1], xr, yr, ID_N, ID_K, b, NULL, NULL);
    tu_check_close_d("softmax f32 vs f64 loss, random rows", b, a, ID_N,
                     (tu_tol){.abs = 1e-7, .rel = 1e-6});
}

/* loss_rows_f64 on the same values, through a row selection. */
static void test_f64_path(void **state)
{
    (void)state;
    tu_xs g = {99};
    float x[ID_N * ID_K];
    double xd[ID_N * ID_K], all[ID_N], sel[ID_N / 2], want[ID_N / 2];
    int32_t y[ID_N], rows[ID_N / 2];
    random_rows(x, y, ID_N, ID_K, &g);
    for (int i = 0; i < ID_N * ID_K; i++)
        xd[i] = x[i];
    for (int i = 0; i < ID_N / 2; i++)
        rows[i] = (int32_t)((7 * i + 3) % ID_N);
    for (int c = 0; c < N_CONFIGS; c++) {
        int n_all, n_sel, n_f64;
        const double m = run_loss(&CONFIGS[c], x, y, ID_N, ID_K, all, NULL, &n_all);
        const double m64 = loss_rows_f64(&CONFIGS[c], xd, y, NULL, ID_N, ID_K, NULL, &n_f64);
        const double ms = loss_rows_f64(&CONFIGS[c], xd, y, rows, ID_N / 2, ID_K, sel, &n_sel);
        double sum = 0;
        for (int i = 0; i < ID_N / 2; i++) {
            want[i] = all[rows[i]];
            sum += want[i];
        }
        assert_int_equal(n_f64, n_all);
        char name[96];
        snprintf(name, sizeof name, "%s: loss_rows_f64 selected rows vs loss_rows", CONFIG_NAMES[c]);
        /* the same kernel on the same doubles, except the float64 softmax,
         * whose float-logit kernel sums in four lanes */
        const tu_tol tol = c == 0 ? (tu_tol){.abs = 1e-15, .rel = 1e-14} : (tu_tol){0};
        tu_check_close_d(name, sel, want, ID_N / 2, tol);
        assert_true(fabs(m64 - m) <= tol.abs + tol.rel * fabs(m));
        assert_true(fabs(ms - sum / (ID_N / 2)) <= 1e-15 * fabs(ms));
    }
    assert_true(isnan(loss_rows_f64(&CONFIGS[0], xd, y, NULL, 0, ID_K, NULL, NULL)));
}

/* ------------------------------------------------------------------------ */
/* PyTorch */

typedef struct {
    st_file f;
    int n, k;
} fixture;

static const void *fx_get(const fixture *fx, const char *name, st_dtype dt, size_t numel)
{
    const st_tensor *t = st_find(&fx->f, name);
    if (!t || t->dtype != dt || st_tensor_numel(t) != numel)
        fail_msg("loss_golden: tensor '%s' missing, or not %s with %zu elements", name,
                 st_dtype_name(dt), numel);
    return t->data;
}

static double *fx_f64(const fixture *fx, const char *name, size_t numel)
{
    double *out = malloc(sizeof(double) * numel);
    assert_non_null(out);
    memcpy(out, fx_get(fx, name, ST_F64, numel), sizeof(double) * numel);
    return out;
}

static void test_torch_golden(void **state)
{
    (void)state;
    fixture fx;
    grok_err e = {{0}};
    if (st_read(&fx.f, GOLDEN_DIR "/loss_golden.safetensors", &e) != GROK_OK)
        fail_msg("%s (run from the repository root; tests/gen_loss_golden.py writes it)", e.msg);
    const char *sn = st_meta_get(&fx.f, "n"), *sk = st_meta_get(&fx.f, "k");
    assert_non_null(sn);
    assert_non_null(sk);
    fx.n = atoi(sn), fx.k = atoi(sk);
    assert_true(fx.n > 0 && fx.n < 10000 && fx.k > 0 && fx.k < 10000);
    const int n = fx.n, k = fx.k;
    const size_t nk = (size_t)n * k;
    float *x = malloc(sizeof(float) * nk);
    int32_t *y = malloc(sizeof(int32_t) * n), *am = malloc(sizeof(int32_t) * n);
    double *loss = malloc(sizeof(double) * n), *xd = malloc(sizeof(double) * nk);
    float *d = malloc(sizeof(float) * nk);
    double *dd = malloc(sizeof(double) * nk);
    assert_true(x && y && am && loss && xd && d && dd);
    memcpy(x, fx_get(&fx, "logits", ST_F32, nk), sizeof(float) * nk);
    memcpy(y, fx_get(&fx, "labels", ST_I32, (size_t)n), sizeof(int32_t) * n);
    memcpy(am, fx_get(&fx, "argmax", ST_I32, (size_t)n), sizeof(int32_t) * n);
    for (size_t i = 0; i < nk; i++)
        xd[i] = x[i];
    int want_correct = 0;
    for (int i = 0; i < n; i++)
        want_correct += am[i] == y[i];

    for (int c = 0; c < N_CONFIGS; c++) {
        const char *kind = CONFIG_NAMES[c];
        char name[96];
        int correct;
        snprintf(name, sizeof name, "%s.mean", kind);
        const double want_mean = *(const double *)fx_get(&fx, name, ST_F64, 1);
        const double mean = run_loss(&CONFIGS[c], x, y, n, k, loss, d, &correct);
        assert_int_equal(correct, want_correct);
        snprintf(name, sizeof name, "%s.loss", kind);
        if (CONFIGS[c].f32) {
            /* float32: the sums' order differs from torch's; a row torch
             * rounds to exactly 0 is exactly 0 here too */
            float want[64], got[64];
            assert_true(n <= 64);
            memcpy(want, fx_get(&fx, name, ST_F32, (size_t)n), sizeof(float) * n);
            for (int i = 0; i < n; i++) {
                got[i] = (float)loss[i];
                if (want[i] == 0)
                    assert_true(got[i] == 0);
            }
            tu_check_close_f(name, got, want, (size_t)n, (tu_tol){.abs = 1e-6, .rel = 1e-6});
            assert_true(fabs(mean - want_mean) <= 1e-6 * fabs(want_mean));
            snprintf(name, sizeof name, "%s.grad", kind);
            tu_check_close_f(name, d, (const float *)fx_get(&fx, name, ST_F32, nk), nk,
                             (tu_tol){.abs = 1e-7});
        } else {
            /* float64: torch takes log(sum exp), each exp added to 1 in
             * double rounding by up to 1.1e-16, where log1p(rest) keeps
             * them: 1e-15 absolute (k = 7) */
            double *want = fx_f64(&fx, name, (size_t)n);
            tu_check_close_d(name, loss, want, (size_t)n, (tu_tol){.abs = 1e-15, .rel = 1e-12});
            const double m64 = loss_rows_f64(&CONFIGS[c], xd, y, NULL, n, k, loss, &correct);
            assert_int_equal(correct, want_correct);
            snprintf(name, sizeof name, "%s.loss (double logits)", kind);
            tu_check_close_d(name, loss, want, (size_t)n, (tu_tol){.abs = 1e-15, .rel = 1e-12});
            assert_true(fabs(mean - want_mean) <= 1e-13 * fabs(want_mean));
            assert_true(fabs(m64 - want_mean) <= 1e-13 * fabs(want_mean));
            free(want);
            snprintf(name, sizeof name, "%s.grad", kind);
            double *wg = fx_f64(&fx, name, nk);
            for (size_t i = 0; i < nk; i++)
                dd[i] = d[i];
            /* the float gradient: its rounding (6e-8 relative) and 1e-6 */
            tu_check_close_d(name, dd, wg, nk, (tu_tol){.abs = 1e-6, .rel = 1e-7});
            free(wg);
        }
    }
    free(x), free(y), free(am), free(loss), free(xd), free(d), free(dd);
    st_file_free(&fx.f);
}

/* ------------------------------------------------------------------------ */
/* threads */

enum { TH_N = 2500, TH_K = 113 }; /* more rows than one block of the driver */

static void test_threads_same_bits(void **state)
{
    (void)state;
    const size_t nk = (size_t)TH_N * TH_K;
    float *x = malloc(sizeof(float) * nk), *d1 = malloc(sizeof(float) * nk),
          *d2 = malloc(sizeof(float) * nk);
    int32_t *y = malloc(sizeof(int32_t) * TH_N);
    double *p1 = malloc(sizeof(double) * TH_N), *p2 = malloc(sizeof(double) * TH_N);
    double *xd = malloc(sizeof(double) * nk);
    assert_true(x && d1 && d2 && y && p1 && p2 && xd);
    tu_xs g = {31};
    random_rows(x, y, TH_N, TH_K, &g);
    for (size_t i = 0; i < nk; i++)
        xd[i] = x[i];
    const int saved = omp_get_max_threads();
    for (int c = 0; c < N_CONFIGS; c++) {
        int c1, c2, c3;
        omp_set_num_threads(1);
        const double m1 = run_loss(&CONFIGS[c], x, y, TH_N, TH_K, p1, d1, &c1);
        const double f1 = loss_rows_f64(&CONFIGS[c], xd, y, NULL, TH_N, TH_K, NULL, NULL);
        omp_set_num_threads(2);
        const double m2 = run_loss(&CONFIGS[c], x, y, TH_N, TH_K, p2, d2, &c2);
        const double m3 = run_loss(&CONFIGS[c], x, y, TH_N, TH_K, NULL, NULL, &c3);
        const double f2 = loss_rows_f64(&CONFIGS[c], xd, y, NULL, TH_N, TH_K, NULL, NULL);
        printf("  %s: mean %.17g, %d correct\n", CONFIG_NAMES[c], m1, c1);
        assert_memory_equal(&m1, &m2, sizeof m1);
        assert_memory_equal(&m1, &m3, sizeof m1);
        assert_memory_equal(&f1, &f2, sizeof f1);
        assert_int_equal(c1, c2);
        assert_int_equal(c1, c3);
        assert_memory_equal(p1, p2, sizeof(double) * TH_N);
        assert_memory_equal(d1, d2, sizeof(float) * nk);
    }
    omp_set_num_threads(saved);
    free(x), free(d1), free(d2), free(y), free(p1), free(p2), free(xd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_check),   cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_stablemax_identity), cmocka_unit_test(test_softmax_collapse),
        cmocka_unit_test(test_f64_path),          cmocka_unit_test(test_torch_golden),
        cmocka_unit_test(test_threads_same_bits),
    };
    return cmocka_run_group_tests_name("loss", tests, NULL, NULL);
}
