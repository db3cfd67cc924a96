/* test_optim.c: optimizers against PyTorch, the warmup schedule, thread-count
 * independence and config validation (optim.h).
 *
 * The golden fixture tests/golden/optim_golden.h is written by
 * tests/gen_optim_golden.py from torch.optim.AdamW, Adam and SGD. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "golden/optim_golden.h"
#include "optim.h"
#include "testutil.h"

/* Tolerance against torch: 4e-7 relative to max(|want|, 1), about 3 float
 * ulps at magnitude 1.  optim.c uses torch's operation order, so most
 * elements agree exactly; torch's vectorised CPU kernels fuse some
 * multiply-adds (add with alpha) where this build does not contract
 * (-ffp-contract=off), which moves single elements by an ulp (the largest
 * difference seen is 1 ulp after 5 steps).  Wrong formulas are far outside:
 * eps inside the square root moves the tiny-gradient element 11 by 2e-3,
 * no bias correction or no decoupled decay moves parameters by 5e-4 or more,
 * and a missing L2 term in Adam by 2e-5, all after the second step. */
#define GOLDEN_TOL 4e-7

static void test_golden_torch(void **state)
{
    (void)state;
    const tu_tol tol = {.rel = GOLDEN_TOL, .floor = 1.0}; /* relative to max(|want|, 1) */
    for (int c = 0; c < OPTIM_GOLDEN_CASES; c++) {
        const optim_golden_case *g = &optim_golden[c];
        optim_state s;
        grok_err e = {{0}};
        assert_int_equal(optim_init(&s, &g->cfg, OPTIM_GOLDEN_N, &e), GROK_OK);
        float p[OPTIM_GOLDEN_N];
        memcpy(p, optim_golden_p0, sizeof p);
        double worst = 0.0;
        for (int step = 0; step < OPTIM_GOLDEN_STEPS; step++) {
            double lr = optim_lr(&s);
            if (lr != g->lr_used[step])
                fail_msg("%s step %d: lr %.17g, torch used %.17g", g->name, step, lr,
                         g->lr_used[step]);
            optim_step(&s, p, optim_golden_grads[step]);
            assert_int_equal(s.step, step + 1);
            char what[64];
            snprintf(what, sizeof what, "%s params after step %d", g->name, step);
            tu_err err = tu_check_close_f(what, p, g->params[step], OPTIM_GOLDEN_N, tol);
            if (err.rel > worst)
                worst = err.rel;
        }
        /* The fixture must move the parameters, or the comparison proves nothing. */
        double moved = 0.0;
        for (int i = 0; i < OPTIM_GOLDEN_N; i++)
            moved = fmax(moved, fabs((double)p[i] - optim_golden_p0[i]));
        printf("# %s vs torch: largest error over %d steps %.3g (tol %.3g); "
               "params moved up to %.3g\n",
               g->name, OPTIM_GOLDEN_STEPS, worst, GOLDEN_TOL, moved);
        assert_true(moved > 1e-3);
        optim_free(&s);
    }
}

static optim_config default_config(optim_kind kind)
{
    optim_config c = {.kind = kind, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8,
                      .weight_decay = 1.0, .momentum = 0.9, .warmup = 10};
    return c;
}

static void test_warmup_schedule(void **state)
{
    (void)state;
    optim_config c = default_config(OPTIM_ADAMW);
    c.lr = 0.3;
    c.warmup = 3;
    optim_state s;
    assert_int_equal(optim_init(&s, &c, 4, NULL), GROK_OK);
    float p[4] = {0.25f, -1.5f, 2.385f, 0.0f}, g[4] = {0.5f, 0.125f, -2.0f, 1.0f};
    const double want[6] = {0.0, 0.3 / 3.0, 0.3 * 2.0 / 3.0, 0.3, 0.3, 0.3};
    double worst = 0.0;
    for (int step = 0; step < 6; step++) {
        double lr = optim_lr(&s);
        double err = fabs(lr - want[step]);
        if (err > 1e-15)
            fail_msg("step %d: lr %.17g want %.17g", step, lr, want[step]);
        worst = fmax(worst, err);
        float before[4];
        memcpy(before, p, sizeof p);
        optim_step(&s, p, g);
        /* An lr of 0 leaves AdamW's parameters unchanged (decay and update both scale with lr). */
        if (step == 0)
            for (int i = 0; i < 4; i++)
                assert_true(p[i] == before[i]);
    }
    printf("# warmup 3, lr 0.3: lr over 6 steps 0, lr/3, 2lr/3, lr, lr, lr; largest error %.3g\n",
           worst);
    optim_free(&s);

    c.warmup = 0;
    assert_int_equal(optim_init(&s, &c, 4, NULL), GROK_OK);
    assert_true(optim_lr(&s) == 0.3);
    printf("# warmup 0: lr at step 0 is %.17g\n", optim_lr(&s));
    optim_free(&s);
}

/* Runs `steps` updates of kind on a large vector with `threads` OpenMP
 * threads; writes the final params [n]. */
static void run_threads(optim_kind kind, int threads, float *p, size_t n, int steps)
{
    optim_config c = default_config(kind);
    c.warmup = 2;
    optim_state s;
    assert_int_equal(optim_init(&s, &c, n, NULL), GROK_OK);
    float *g = grok_alloc(n * sizeof(float));
    assert_non_null(g);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)sin(2.385 * (double)i) * 0.5f;
    omp_set_num_threads(threads);
    for (int k = 0; k < steps; k++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (float)cos(0.731 * (double)i + k) * (float)(k + 1);
        optim_step(&s, p, g);
    }
    grok_free(g);
    optim_free(&s);
}

static void test_threads_same_bits(void **state)
{
    (void)state;
    const size_t n = (size_t)1 << 18;
    float *p1 = grok_alloc(n * sizeof(float)), *p2 = grok_alloc(n * sizeof(float));
    assert_non_null(p1);
    assert_non_null(p2);
    int saved = omp_get_max_threads();
    for (int kind = 0; kind < OPTIM_KIND_COUNT; kind++) {
        run_threads((optim_kind)kind, 1, p1, n, 4);
        run_threads((optim_kind)kind, 2, p2, n, 4);
        size_t differ = 0;
        for (size_t i = 0; i < n; i++)
            differ += memcmp(&p1[i], &p2[i], sizeof(float)) != 0;
        printf("# %s, %zu params, 4 steps: 1 vs 2 threads differ in %zu elements\n",
               optim_kind_name((optim_kind)kind), n, differ);
        assert_int_equal(differ, 0);
    }
    omp_set_num_threads(saved);
    grok_free(p1);
    grok_free(p2);
}

/* A config with one field broken must be rejected with that field named. */
static void expect_rejected(optim_config c, const char *want)
{
    optim_state s;
    grok_err e = {{0}};
    int rc = optim_init(&s, &c, 8, &e);
    printf("# rejected: %s\n", e.msg);
    assert_int_equal(rc, GROK_EINVAL);
    if (!strstr(e.msg, want))
        fail_msg("message '%s' does not contain '%s'", e.msg, want);
    assert_null(s.m);
}

static void test_invalid_configs(void **state)
{
    (void)state;
    optim_config c;
    c = default_config(OPTIM_ADAMW), c.lr = -0.001;
    expect_rejected(c, "lr = -0.001: must be > 0");
    c = default_config(OPTIM_ADAMW), c.lr = 0.0;
    expect_rejected(c, "lr = 0: must be > 0");
    c = default_config(OPTIM_ADAMW), c.lr = NAN;
    expect_rejected(c, "lr = nan");
    c = default_config(OPTIM_ADAMW), c.beta1 = 1.0;
    expect_rejected(c, "beta1 = 1: must be in [0, 1)");
    c = default_config(OPTIM_ADAM), c.beta2 = -0.5;
    expect_rejected(c, "beta2 = -0.5: must be in [0, 1)");
    c = default_config(OPTIM_ADAMW), c.eps = 0.0;
    expect_rejected(c, "eps = 0: must be > 0");
    c = default_config(OPTIM_ADAMW), c.weight_decay = -1.0;
    expect_rejected(c, "weight_decay = -1: must be >= 0");
    c = default_config(OPTIM_SGD), c.momentum = 1.0;
    expect_rejected(c, "momentum = 1: must be in [0, 1)");
    c = default_config(OPTIM_SGD), c.warmup = -3;
    expect_rejected(c, "warmup = -3: must be >= 0");
    c = default_config(OPTIM_SGD), c.kind = OPTIM_KIND_COUNT;
    expect_rejected(c, "kind = 3: unknown optimizer (valid: adamw, adam, sgd)");

    /* The boundaries that are allowed. */
    c = default_config(OPTIM_SGD), c.beta1 = 0.0, c.momentum = 0.0, c.weight_decay = 0.0,
    c.warmup = 0;
    optim_state s;
    assert_int_equal(optim_init(&s, &c, 0, NULL), GROK_OK);
    optim_step(&s, NULL, NULL);
    assert_int_equal(s.step, 1);
    optim_free(&s);
}

static void test_kind_names(void **state)
{
    (void)state;
    for (int k = 0; k < OPTIM_KIND_COUNT; k++)
        assert_int_equal(optim_kind_parse(optim_kind_name((optim_kind)k)), k);
    assert_int_equal(optim_kind_parse("AdamW"), -1);
    assert_int_equal(optim_kind_parse("lion"), -1);
    assert_int_equal(optim_kind_parse(NULL), -1);
    printf("# kind names round-trip: adamw, adam, sgd; unknown names give -1\n");
}

/* SGD without momentum is plain gradient descent with L2 decay:
 * p - lr*(g + wd*p), element by element in float. */
static void test_sgd_plain(void **state)
{
    (void)state;
    optim_config c = default_config(OPTIM_SGD);
    c.momentum = 0.0;
    c.warmup = 0;
    c.lr = 0.05;
    c.weight_decay = 0.01;
    optim_state s;
    assert_int_equal(optim_init(&s, &c, 3, NULL), GROK_OK);
    float p[3] = {1.5f, -0.25f, 2.385f}, g[3] = {0.5f, -4.0f, 0.0f}, want[3];
    for (int i = 0; i < 3; i++)
        want[i] = p[i] + (float)(-0.05) * (g[i] + 0.01f * p[i]);
    optim_step(&s, p, g);
    tu_check_close_f("sgd momentum 0", p, want, 3, (tu_tol){0});
    optim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_torch),     cmocka_unit_test(test_warmup_schedule),
        cmocka_unit_test(test_threads_same_bits), cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_kind_names),        cmocka_unit_test(test_sgd_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
