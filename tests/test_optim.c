/* test_optim.c: optimizers against PyTorch, the warmup schedule, thread-count
 * independence, config validation, weight decay toward the origin and the
 * named state buffers (optim.h).
 *
 * The golden fixture tests/golden/optim_golden.h is written by
 * tests/gen_optim_golden.py from torch.optim.AdamW, Adam and SGD, with the
 * decay toward the origin (decay_to = init) written out in torch. */
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
#include "linalg.h"
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
        if (g->cfg.decay_to == OPTIM_DECAY_INIT)
            optim_set_origin(&s, optim_golden_origin);
        else
            assert_null(s.origin);
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

/* Runs `steps` updates of kind (decaying toward decay) on a large vector
 * with `threads` OpenMP threads; writes the final params [n]. */
static void run_threads(optim_kind kind, optim_decay decay, int threads, float *p, size_t n,
                        int steps)
{
    optim_config c = default_config(kind);
    c.warmup = 2;
    c.decay_to = decay;
    optim_state s;
    assert_int_equal(optim_init(&s, &c, n, NULL), GROK_OK);
    float *g = grok_alloc(n * sizeof(float));
    assert_non_null(g);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)sin(2.385 * (double)i) * 0.5f;
    if (decay == OPTIM_DECAY_INIT) {
        for (size_t i = 0; i < n; i++)
            g[i] = (float)cos(1.1 * (double)i); /* an origin apart from the start */
        optim_set_origin(&s, g);
    }
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
    for (int kind = 0; kind < OPTIM_KIND_COUNT; kind++)
        for (int decay = 0; decay < OPTIM_DECAY_COUNT; decay++) {
            run_threads((optim_kind)kind, (optim_decay)decay, 1, p1, n, 4);
            run_threads((optim_kind)kind, (optim_decay)decay, 2, p2, n, 4);
            size_t differ = 0;
            for (size_t i = 0; i < n; i++)
                differ += memcmp(&p1[i], &p2[i], sizeof(float)) != 0;
            printf("# %s, decay to %s, %zu params, 4 steps: 1 vs 2 threads differ in %zu "
                   "elements\n",
                   optim_kind_name((optim_kind)kind), optim_decay_name((optim_decay)decay), n,
                   differ);
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
    c = default_config(OPTIM_ADAMW), c.decay_to = OPTIM_DECAY_COUNT;
    expect_rejected(c, "decay_to = 2: unknown (valid: zero, init)");

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
    for (int d = 0; d < OPTIM_DECAY_COUNT; d++)
        assert_int_equal(optim_decay_parse(optim_decay_name((optim_decay)d)), d);
    assert_string_equal(optim_decay_name(OPTIM_DECAY_ZERO), "zero");
    assert_string_equal(optim_decay_name(OPTIM_DECAY_INIT), "init");
    assert_int_equal(optim_decay_parse("to_init"), -1);
    assert_int_equal(optim_decay_parse(NULL), -1);
    printf("# decay names round-trip: zero, init; unknown names give -1\n");
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

/* The update rules written element by element from their definitions (the
 * float steps of optim.c's header comment), one parameter at a time: the
 * naive reference the loops of optim.c must match bit for bit, for both
 * decay targets.  m, v [n] start zeroed; origin may be NULL for decay to 0. */
static void naive_step(const optim_config *c, long step, size_t n, float *p, const float *grads,
                       float *m, float *v, const float *origin)
{
    double lr = c->warmup > 0 && step < c->warmup ? c->lr * ((double)step / (double)c->warmup)
                                                  : c->lr;
    int to_init = c->decay_to == OPTIM_DECAY_INIT;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i], pi = p[i], o = to_init ? origin[i] : 0.0f;
        if (c->kind == OPTIM_SGD) {
            if (c->weight_decay != 0.0)
                g = to_init ? g + (float)c->weight_decay * (pi - o)
                            : g + (float)c->weight_decay * pi;
            if (c->momentum != 0.0) {
                g = step == 0 ? g : m[i] * (float)c->momentum + g;
                m[i] = g;
            }
            p[i] = pi + (float)(-lr) * g;
            continue;
        }
        if (c->kind == OPTIM_ADAMW)
            pi = to_init ? pi - (float)(lr * c->weight_decay) * (pi - o)
                         : pi * (float)(1.0 - lr * c->weight_decay);
        else if (c->weight_decay != 0.0)
            g = to_init ? g + (float)c->weight_decay * (pi - o) : g + (float)c->weight_decay * pi;
        double t = (double)(step + 1);
        m[i] = m[i] * (float)c->beta1 + (float)(1.0 - c->beta1) * g;
        v[i] = v[i] * (float)c->beta2 + (float)(1.0 - c->beta2) * g * g;
        float denom = sqrtf(v[i]) / (float)sqrt(1.0 - pow(c->beta2, t)) + (float)c->eps;
        p[i] = pi + ((float)(-(lr / (1.0 - pow(c->beta1, t)))) * m[i]) / denom;
    }
}

/* Every golden config, decaying to zero and to the origin, against the naive
 * reference: the same bits at every step.  Decay to zero is thus still the
 * rule the torch fixtures were checked against before the origin existed
 * (the regenerated fixture kept their bits too). */
static void test_naive_reference_bits(void **state)
{
    (void)state;
    for (int c = 0; c < OPTIM_GOLDEN_CASES; c++)
        for (int decay = 0; decay < OPTIM_DECAY_COUNT; decay++) {
            optim_config cfg = optim_golden[c].cfg;
            cfg.decay_to = (optim_decay)decay;
            optim_state s;
            assert_int_equal(optim_init(&s, &cfg, OPTIM_GOLDEN_N, NULL), GROK_OK);
            if (decay == OPTIM_DECAY_INIT)
                optim_set_origin(&s, optim_golden_origin);
            float p[OPTIM_GOLDEN_N], q[OPTIM_GOLDEN_N];
            float m[OPTIM_GOLDEN_N] = {0}, v[OPTIM_GOLDEN_N] = {0};
            memcpy(p, optim_golden_p0, sizeof p);
            memcpy(q, optim_golden_p0, sizeof q);
            size_t differ = 0;
            for (int step = 0; step < OPTIM_GOLDEN_STEPS; step++) {
                optim_step(&s, p, optim_golden_grads[step]);
                naive_step(&cfg, step, OPTIM_GOLDEN_N, q, optim_golden_grads[step], m, v,
                           optim_golden_origin);
                differ += memcmp(p, q, sizeof p) != 0;
            }
            printf("# %s with decay to %s: %d steps, steps whose params differ from the naive "
                   "reference: %zu\n",
                   optim_golden[c].name, optim_decay_name((optim_decay)decay),
                   OPTIM_GOLDEN_STEPS, differ);
            assert_int_equal(differ, 0);
            optim_free(&s);
        }
}

/* Identities of the decay toward the origin: with weight_decay 0 it is the
 * same bits as decay to zero; an origin equal to zero is not (AdamW's
 * p - lr*wd*p rounds apart from p * (1 - lr*wd)) but stays within an ulp;
 * an origin never set is NaN and poisons the first decayed step. */
static void test_decay_to_init_identities(void **state)
{
    (void)state;
    for (int k = 0; k < OPTIM_KIND_COUNT; k++) {
        optim_config cz = optim_golden[k].cfg, ci;
        cz.weight_decay = 0.0;
        ci = cz;
        ci.decay_to = OPTIM_DECAY_INIT;
        optim_state sz, si;
        assert_int_equal(optim_init(&sz, &cz, OPTIM_GOLDEN_N, NULL), GROK_OK);
        assert_int_equal(optim_init(&si, &ci, OPTIM_GOLDEN_N, NULL), GROK_OK);
        optim_set_origin(&si, optim_golden_origin);
        float pz[OPTIM_GOLDEN_N], pi[OPTIM_GOLDEN_N];
        memcpy(pz, optim_golden_p0, sizeof pz);
        memcpy(pi, optim_golden_p0, sizeof pi);
        for (int step = 0; step < OPTIM_GOLDEN_STEPS; step++) {
            optim_step(&sz, pz, optim_golden_grads[step]);
            optim_step(&si, pi, optim_golden_grads[step]);
        }
        assert_memory_equal(pz, pi, sizeof pz);
        printf("# %s, weight_decay 0: decay to init and to zero give the same bits\n",
               optim_kind_name((optim_kind)k));
        optim_free(&sz);
        optim_free(&si);

        /* Origin zero against decay to zero, weight decay on. */
        cz = optim_golden[k].cfg;
        ci = cz;
        ci.decay_to = OPTIM_DECAY_INIT;
        assert_int_equal(optim_init(&sz, &cz, OPTIM_GOLDEN_N, NULL), GROK_OK);
        assert_int_equal(optim_init(&si, &ci, OPTIM_GOLDEN_N, NULL), GROK_OK);
        const float zeros[OPTIM_GOLDEN_N] = {0};
        optim_set_origin(&si, zeros);
        memcpy(pz, optim_golden_p0, sizeof pz);
        memcpy(pi, optim_golden_p0, sizeof pi);
        for (int step = 0; step < OPTIM_GOLDEN_STEPS; step++) {
            optim_step(&sz, pz, optim_golden_grads[step]);
            optim_step(&si, pi, optim_golden_grads[step]);
        }
        char what[64];
        snprintf(what, sizeof what, "%s origin 0 vs decay to zero", optim_kind_name((optim_kind)k));
        tu_check_close_f(what, pi, pz, OPTIM_GOLDEN_N, (tu_tol){.rel = 1e-6, .floor = 1.0});
        optim_free(&sz);
        optim_free(&si);
    }

    optim_config c = default_config(OPTIM_ADAMW);
    c.decay_to = OPTIM_DECAY_INIT;
    c.warmup = 0;
    optim_state s;
    assert_int_equal(optim_init(&s, &c, OPTIM_GOLDEN_N, NULL), GROK_OK);
    float p[OPTIM_GOLDEN_N];
    memcpy(p, optim_golden_p0, sizeof p);
    optim_step(&s, p, optim_golden_grads[0]);
    int nan = 0;
    for (int i = 0; i < OPTIM_GOLDEN_N; i++)
        nan += isnan(p[i]) != 0;
    printf("# adamw decay to init without optim_set_origin: %d of %d params NaN after a step\n",
           nan, OPTIM_GOLDEN_N);
    assert_int_equal(nan, OPTIM_GOLDEN_N);
    optim_free(&s);
}

/* The named buffers: which ones each config lists, their sizes and that
 * they are the state's own memory; the same config gives the same list. */
static void test_state_buffers(void **state)
{
    (void)state;
    const size_t n = 37;
    for (int k = 0; k < OPTIM_KIND_COUNT; k++)
        for (int d = 0; d < OPTIM_DECAY_COUNT; d++) {
            optim_config c = default_config((optim_kind)k);
            c.decay_to = (optim_decay)d;
            optim_state s1, s2;
            assert_int_equal(optim_init(&s1, &c, n, NULL), GROK_OK);
            assert_int_equal(optim_init(&s2, &c, n, NULL), GROK_OK);
            statebuf_list l1 = {0}, l2 = {0};
            optim_state_buffers(&s1, &l1);
            optim_state_buffers(&s2, &l2);
            int want = d == OPTIM_DECAY_INIT ? 3 : 2;
            assert_int_equal(l1.n, want);
            assert_int_equal(l2.n, want);
            assert_string_equal(l1.b[0].name, "optim.m");
            assert_true(l1.b[0].data == s1.m);
            assert_string_equal(l1.b[1].name, "optim.v");
            assert_true(l1.b[1].data == s1.v);
            if (d == OPTIM_DECAY_INIT) {
                assert_string_equal(l1.b[2].name, "optim.origin");
                assert_true(l1.b[2].data == s1.origin);
                assert_non_null(s1.origin);
            } else {
                assert_null(s1.origin);
                assert_null(statebuf_find(&l1, "optim.origin"));
            }
            for (int i = 0; i < l1.n; i++) {
                assert_string_equal(l1.b[i].name, l2.b[i].name);
                assert_int_equal(l1.b[i].n, n);
                assert_int_equal(l2.b[i].n, n);
            }
            printf("# %s, decay to %s: %d buffers:", optim_kind_name((optim_kind)k),
                   optim_decay_name((optim_decay)d), l1.n);
            for (int i = 0; i < l1.n; i++)
                printf(" %s[%zu]", l1.b[i].name, l1.b[i].n);
            printf("\n");
            optim_free(&s1);
            optim_free(&s2);
        }
}

/* A tiny eps with tiny gradients under grok's flush of subnormals (FTZ/DAZ,
 * set in main): Adam's step m / (sqrt(v) + eps) does not depend on the scale
 * of g, so with eps = 1e-25 (Prieto et al.'s) a gradient of 1e-20 moves a
 * weight by about lr, as torch does on the CPU (where v stays above the
 * smallest subnormal, 1.4e-45: for |g| below ~1e-21 it is 0 in torch too).  If v = g*g = 1e-40 were
 * flushed to zero the step would be lr * g / eps = 1e5 lr; the control below
 * computes that flushed step to show the check would see it. */
static void test_subnormal_second_moment(void **state)
{
    (void)state;
    omp_set_num_threads(2);
    int flushing = 1;
#pragma omp parallel reduction(& : flushing)
    flushing &= la_flush_denormals(); /* every thread, as grok's main does */
    if (!flushing) {
        printf("# no flush-to-zero mode on this processor: nothing to check\n");
        skip();
    }
    volatile float tiny = 1e-20f;
    const float flushed_square = tiny * tiny;
    assert_true(flushed_square == 0.0f); /* the flush is on in this thread */

    optim_config c = default_config(OPTIM_ADAMW);
    c.lr = 1e-3, c.beta1 = 0.9, c.beta2 = 0.999, c.eps = 1e-25, c.weight_decay = 0.0,
    c.warmup = 0;
    enum { N = 6 };
    const float g[N] = {1e-20f, -3e-20f, 2e-19f, -1e-15f, 4e-18f, 0.5f};
    float p[N];
    optim_state s;
    assert_int_equal(optim_init(&s, &c, N, NULL), GROK_OK);
    for (int i = 0; i < N; i++)
        p[i] = 0.25f;
    double worst = 0.0;
    for (int step = 1; step <= 3; step++) {
        float before[N];
        memcpy(before, p, sizeof p);
        optim_step(&s, p, g);
        /* the same gradient every step: m_hat = g, v_hat = g*g, step = lr g / (|g| + eps) */
        for (int i = 0; i < N; i++) {
            double want = -1e-3 * (double)g[i] / (fabs((double)g[i]) + 1e-25);
            double got = (double)p[i] - (double)before[i];
            double err = fabs(got - want) / 1e-3;
            if (err > worst)
                worst = err;
            if (err > 1e-2) /* v = 1e-43 is a subnormal with ~7 bits: sqrt(v) to ~0.3% */
                fail_msg("step %d, g = %g: weight moved by %.6g, want %.6g", step, (double)g[i],
                         got, want);
        }
    }
    /* the flushed control: v = 0, so the first step is lr * g / eps */
    const float v_flushed = (1.0f - 0.999f) * g[0] * g[0];
    const double flushed_step = 1e-3 * (double)((0.1f * g[0]) / 0.1f) / ((double)v_flushed + 1e-25);
    printf("# eps 1e-25, g from 1e-20 to 0.5, 3 steps under FTZ/DAZ: each step within %.2g lr of "
           "lr * sign(g); with v flushed (v = %g) the g = 1e-20 step would be %.3g\n",
           worst, (double)v_flushed, flushed_step);
    assert_true(v_flushed == 0.0f && fabs(flushed_step) > 10.0);
    optim_free(&s);
#pragma omp parallel
    (void)la_subnormals_on(); /* leave the other tests IEEE */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_torch),     cmocka_unit_test(test_warmup_schedule),
        cmocka_unit_test(test_threads_same_bits), cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_kind_names),        cmocka_unit_test(test_sgd_plain),
        cmocka_unit_test(test_naive_reference_bits),
        cmocka_unit_test(test_decay_to_init_identities),
        cmocka_unit_test(test_state_buffers),
        cmocka_unit_test(test_subnormal_second_moment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
