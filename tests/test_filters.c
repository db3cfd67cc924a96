/* test_filters.c: the gradient filters (filters.h), the norm helpers and the
 * norm constraint (norm.h), and the named state buffers (statebuf.h) of the
 * filters and the optimizer together.
 *
 * The golden fixture tests/golden/filters_golden.h is written by
 * tests/gen_filters_golden.py: Grokfast EMA and MA by ironjr/grokfast's
 * gradfilter_ema and gradfilter_ma in torch, the orthogonal gradient from its
 * definition in float64, torch.nn.utils.clip_grad_norm_, all four in order,
 * and a rescale to a target norm, on a table of three tensors over 6 steps.
 * Beside it: the identities of ⊥Grad and clipping, a save / restore / continue
 * through a safetensors image of the listed buffers, and 1 vs 2 threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "filters.h"
#include "golden/filters_golden.h"
#include "norm.h"
#include "optim.h"
#include "params.h"
#include "safetensors.h"
#include "statebuf.h"
#include "testutil.h"

#define N FILTERS_GOLDEN_N
#define STEPS FILTERS_GOLDEN_STEPS
#define NT FILTERS_GOLDEN_TENSORS

/* The fixture's table, built with params_add. */
static void golden_table(param_tensor t[NT])
{
    param_table b = {.t = t, .cap = NT};
    for (int k = 0; k < NT; k++)
        params_add(&b, filters_golden_table[k].name, filters_golden_table[k].ndim,
                   filters_golden_table[k].shape[0], filters_golden_table[k].shape[1],
                   filters_golden_table[k].shape[2], 1.0, 0.0f);
    assert_int_equal(b.offset, N);
}

/* Tolerances against the fixture.  EMA and MA use gradfilter_ema's and
 * gradfilter_ma's float operations in their order, so they agree exactly
 * with torch (summing the MA window from its second-oldest entry already
 * moves 9 elements of step 2 by an ulp).  ⊥Grad rounds g_perp to float
 * before its norm (the reference stays in float64) and clipping computes
 * the norm and the factor in double (torch in float32): within 1.6e-7 of
 * the element itself, so the tolerance is 4e-7 of it.  A wrong formula is
 * far outside: the EMA started at zero instead of the first gradient moves
 * step 0 by 53%, an MA that starts one step late moves step 2 by 73%, a
 * projection without renormalisation moves ⊥Grad's output by 1-3%.
 * Clipping without the 1e-6 moves it by 2e-7 only at these norms, so
 * test_clip_identities checks it where it shows. */
static tu_tol golden_tol(const char *name)
{
    if (strcmp(name, "ema") == 0 || strcmp(name, "ma") == 0)
        return (tu_tol){0};
    return (tu_tol){.rel = 4e-7, .floor = 1e-30};
}

static void test_golden(void **state)
{
    (void)state;
    param_tensor t[NT];
    golden_table(t);
    for (int c = 0; c < FILTERS_GOLDEN_CASES; c++) {
        const filters_golden_case *gc = &filters_golden[c];
        filter_state s;
        grok_err e = {{0}};
        assert_int_equal(filters_init(&s, &gc->cfg, N, &e), GROK_OK);
        assert_true(filters_active(&gc->cfg));
        double moved = 0.0;
        for (int step = 0; step < STEPS; step++) {
            float g[N];
            memcpy(g, filters_golden_grads[step], sizeof g);
            filters_apply(&s, t, NT, filters_golden_params[step], g, step);
            char what[64];
            snprintf(what, sizeof what, "%s grads after step %d", gc->name, step);
            tu_check_close_f(what, g, gc->grads[step], N, golden_tol(gc->name));
            for (int i = 0; i < N; i++)
                moved = fmax(moved, fabs((double)g[i] - filters_golden_grads[step][i]));
        }
        /* The filters must change the gradients, or the comparison proves nothing. */
        printf("# %s: gradients moved up to %.3g by the filters\n", gc->name, moved);
        assert_true(moved > 1e-2);
        filters_free(&s);
    }
}

/* MA with window 3 leaves the first two gradients alone (bit for bit) and
 * changes every later one. */
static void test_ma_warmup(void **state)
{
    (void)state;
    filter_config c = {.ma = {1, 3, 5.0}};
    filter_state s;
    assert_int_equal(filters_init(&s, &c, N, NULL), GROK_OK);
    for (int step = 0; step < STEPS; step++) {
        float g[N];
        memcpy(g, filters_golden_grads[step], sizeof g);
        filters_apply(&s, NULL, 0, NULL, g, step);
        int same = memcmp(g, filters_golden_grads[step], sizeof g) == 0;
        printf("# ma window 3, step %d: gradient %s\n", step, same ? "unchanged" : "changed");
        assert_int_equal(same, step < 2);
    }
    filters_free(&s);
}

/* ⊥Grad's identities on the fixture's steps and on a random table with a
 * large tensor: per tensor the result is orthogonal to the weights and keeps
 * the gradient's norm; weights of zero leave the gradient as it is. */
static void check_ortho(const param_tensor *t, int nt, const float *w, const float *g0,
                        const float *g, const char *what, double *worst_cos, double *worst_norm)
{
    for (int k = 0; k < nt; k++) {
        size_t o = t[k].offset, m = t[k].numel;
        double ww = 0, wg = 0, gg = 0, g0g0 = 0;
        for (size_t i = o; i < o + m; i++) {
            ww += (double)w[i] * w[i];
            wg += (double)w[i] * g[i];
            gg += (double)g[i] * g[i];
            g0g0 += (double)g0[i] * g0[i];
        }
        if (ww == 0.0) {
            assert_memory_equal(g + o, g0 + o, m * sizeof(float));
            printf("# %s, tensor %s: weights zero, gradient unchanged\n", what, t[k].name);
            continue;
        }
        double cosang = gg > 0 ? fabs(wg) / sqrt(ww * gg) : 0.0;
        double nerr = g0g0 > 0 ? fabs(sqrt(gg) - sqrt(g0g0)) / sqrt(g0g0) : sqrt(gg);
        if (cosang > 1e-6 || nerr > 1e-6)
            fail_msg("%s, tensor %s: |cos(w, g')| %.3g, norm error %.3g", what, t[k].name,
                     cosang, nerr);
        *worst_cos = fmax(*worst_cos, cosang);
        *worst_norm = fmax(*worst_norm, nerr);
    }
}

static void test_ortho_identities(void **state)
{
    (void)state;
    filter_config c = {.ortho = 1};
    double worst_cos = 0, worst_norm = 0;
    param_tensor t[NT];
    golden_table(t);
    filter_state s;
    assert_int_equal(filters_init(&s, &c, N, NULL), GROK_OK);
    for (int step = 0; step < STEPS; step++) {
        float g[N];
        memcpy(g, filters_golden_grads[step], sizeof g);
        filters_apply(&s, t, NT, filters_golden_params[step], g, step);
        check_ortho(t, NT, filters_golden_params[step], filters_golden_grads[step], g, "golden",
                    &worst_cos, &worst_norm);
    }
    filters_free(&s);

    /* A bigger table: the large tensor runs the parallel loops. */
    param_tensor tb[3];
    param_table b = {.t = tb, .cap = 3};
    params_add(&b, "big", 2, 300, 400, 0, 1.0, 0.0f);
    params_add(&b, "one", 1, 1, 0, 0, 1.0, 0.0f);
    params_add(&b, "odd", 3, 7, 11, 13, 1.0, 0.0f);
    size_t n = b.offset;
    float *w = grok_alloc(n * sizeof(float)), *g0 = grok_alloc(n * sizeof(float));
    float *g = grok_alloc(n * sizeof(float));
    assert_true(w && g0 && g);
    tu_xs r = {0x9e3779b97f4a7c15u};
    for (size_t i = 0; i < n; i++) {
        w[i] = (float)tu_xs_normal(&r);
        /* Mostly along w, so the projection removes most of the gradient. */
        g0[i] = 0.9f * w[i] + 0.1f * (float)tu_xs_normal(&r);
    }
    assert_int_equal(filters_init(&s, &c, n, NULL), GROK_OK);
    memcpy(g, g0, n * sizeof(float));
    filters_apply(&s, tb, 3, w, g, 0);
    /* "one" has a single element: g_perp is 0 to rounding, and so is the result. */
    check_ortho(tb, 1, w, g0, g, "random", &worst_cos, &worst_norm);
    check_ortho(tb + 2, 1, w, g0, g, "random", &worst_cos, &worst_norm);
    printf("# orthogonal gradient: largest |cos(w, g')| %.3g, largest relative norm change %.3g\n",
           worst_cos, worst_norm);
    filters_free(&s);
    grok_free(w);
    grok_free(g0);
    grok_free(g);
}

/* Clipping: a gradient over max_norm comes out with norm max_norm (to
 * rounding, the 1e-6 included); one under it keeps its bits. */
static void test_clip_identities(void **state)
{
    (void)state;
    filter_config c = {.clip_norm = 4.0};
    filter_state s;
    assert_int_equal(filters_init(&s, &c, N, NULL), GROK_OK);
    int clipped = 0;
    for (int step = 0; step < STEPS; step++) {
        float g[N];
        memcpy(g, filters_golden_grads[step], sizeof g);
        double before = norm_l2(g, N);
        filters_apply(&s, NULL, 0, NULL, g, step);
        double after = norm_l2(g, N);
        printf("# clip 4: step %d norm %.6g -> %.9g\n", step, before, after);
        if (before > 4.0) {
            clipped++;
            double want = 4.0 * before / (before + 1e-6);
            assert_true(fabs(after - want) <= 4.0 * 2e-7);
        } else {
            assert_memory_equal(g, filters_golden_grads[step], sizeof g);
        }
    }
    assert_int_equal(clipped, 3);
    filters_free(&s);

    /* Where the 1e-6 of clip_grad_norm_ shows: norm 1e-6, max_norm 5e-7
     * gives the factor 5e-7 / 2e-6 = 1/4 (without it 1/2). */
    c.clip_norm = 5e-7;
    assert_int_equal(filters_init(&s, &c, N, NULL), GROK_OK);
    float g[N];
    double g0 = norm_l2(filters_golden_grads[0], N);
    for (int i = 0; i < N; i++)
        g[i] = (float)(filters_golden_grads[0][i] * (1e-6 / g0));
    double before = norm_l2(g, N);
    filters_apply(&s, NULL, 0, NULL, g, 0);
    double after = norm_l2(g, N), want = 5e-7 * before / (before + 1e-6);
    printf("# clip 5e-7: norm %.6g -> %.6g (want %.6g)\n", before, after, want);
    assert_true(fabs(after - want) <= 1e-6 * want);
    filters_free(&s);
}

/* The norm helpers: norm_dot against a sequential double sum, the rescale
 * against the fixture (float64 numpy) and its own result; zero stays zero. */
static void test_norms(void **state)
{
    (void)state;
    float x[N];
    memcpy(x, filters_golden_params[0], sizeof x);
    double naive = 0;
    for (int i = 0; i < N; i++)
        naive += (double)x[i] * filters_golden_grads[0][i];
    double dot = norm_dot(x, filters_golden_grads[0], N);
    printf("# norm_dot %.17g, sequential sum %.17g\n", dot, naive);
    assert_true(fabs(dot - naive) <= 1e-14 * fabs(naive));

    double before = norm_rescale(x, N, FILTERS_GOLDEN_TARGET_NORM);
    assert_true(fabs(before - norm_l2(filters_golden_params[0], N)) == 0.0);
    tu_check_close_f("rescaled to norm 2.5", x, filters_golden_rescaled, N,
                     (tu_tol){.rel = 1.2e-7, .floor = 1e-30});
    double after = norm_l2(x, N);
    printf("# rescale: norm %.9g -> %.17g (target %g)\n", before, after,
           FILTERS_GOLDEN_TARGET_NORM);
    assert_true(fabs(after - FILTERS_GOLDEN_TARGET_NORM) < 1e-6);

    float z[5] = {0};
    assert_true(norm_rescale(z, 5, 1.0) == 0.0);
    for (int i = 0; i < 5; i++)
        assert_true(z[i] == 0.0f);
    assert_true(norm_l2(NULL, 0) == 0.0);
}

/* A config with one field broken must be rejected with its key named. */
static void expect_rejected(filter_config c, const char *want)
{
    filter_state s;
    grok_err e = {{0}};
    int rc = filters_init(&s, &c, 8, &e);
    printf("# rejected: %s\n", e.msg);
    assert_int_equal(rc, GROK_EINVAL);
    if (!strstr(e.msg, want))
        fail_msg("message '%s' does not contain '%s'", e.msg, want);
    assert_null(s.mu);
    assert_null(s.ring);
}

static void test_invalid_configs(void **state)
{
    (void)state;
    expect_rejected((filter_config){.ema = {1, 1.5, 2.0}}, "filters.ema_alpha = 1.5: must be in [0, 1)");
    expect_rejected((filter_config){.ema = {1, -0.1, 2.0}}, "filters.ema_alpha = -0.1");
    expect_rejected((filter_config){.ema = {1, 0.9, INFINITY}}, "filters.ema_lambda = inf: must be finite");
    expect_rejected((filter_config){.ema = {2, 0.9, 1.0}}, "filters.ema = 2: must be 0 or 1");
    expect_rejected((filter_config){.ma = {1, 0, 5.0}}, "filters.ma_window = 0: must be >= 1");
    expect_rejected((filter_config){.ma = {1, 3, NAN}}, "filters.ma_lambda = nan: must be finite");
    expect_rejected((filter_config){.ma = {-1, 3, 1.0}}, "filters.ma = -1: must be 0 or 1");
    expect_rejected((filter_config){.ortho = 3}, "filters.ortho = 3: must be 0 or 1");
    expect_rejected((filter_config){.clip_norm = -1.0}, "filters.clip_norm = -1: must be >= 0");
    expect_rejected((filter_config){.clip_norm = INFINITY}, "filters.clip_norm = inf");

    /* All off (a zeroed config, whatever the values of filters that are off) is valid and does nothing. */
    filter_config off = {.ema = {0, 7.0, 0.0}, .ma = {0, 0, 0.0}};
    assert_false(filters_active(&off));
    filter_state s;
    assert_int_equal(filters_init(&s, &off, N, NULL), GROK_OK);
    float g[N];
    memcpy(g, filters_golden_grads[0], sizeof g);
    filters_apply(&s, NULL, 0, NULL, g, 0);
    assert_memory_equal(g, filters_golden_grads[0], sizeof g);
    statebuf_list l = {0};
    filters_state_buffers(&s, &l);
    assert_int_equal(l.n, 0);
    filters_free(&s);
    printf("# all filters off: valid, no buffers, gradient unchanged\n");
}

/* The named buffers of each config; the same config lists the same names and sizes. */
static void test_state_buffers(void **state)
{
    (void)state;
    for (int c = 0; c < FILTERS_GOLDEN_CASES; c++) {
        const filter_config *cfg = &filters_golden[c].cfg;
        filter_state s1, s2;
        assert_int_equal(filters_init(&s1, cfg, N, NULL), GROK_OK);
        assert_int_equal(filters_init(&s2, cfg, N, NULL), GROK_OK);
        statebuf_list l1 = {0}, l2 = {0};
        filters_state_buffers(&s1, &l1);
        filters_state_buffers(&s2, &l2);
        assert_int_equal(l1.n, cfg->ema.on + cfg->ma.on);
        assert_int_equal(l1.n, l2.n);
        const statebuf *mu = statebuf_find(&l1, "filters.ema.mu");
        const statebuf *ring = statebuf_find(&l1, "filters.ma.ring");
        assert_true((mu != NULL) == cfg->ema.on && (ring != NULL) == cfg->ma.on);
        if (mu)
            assert_true(mu->data == s1.mu && mu->n == N);
        if (ring)
            assert_true(ring->data == s1.ring && ring->n == (size_t)cfg->ma.window * N);
        printf("# %s: %d buffers:", filters_golden[c].name, l1.n);
        for (int i = 0; i < l1.n; i++) {
            assert_string_equal(l1.b[i].name, l2.b[i].name);
            assert_int_equal(l1.b[i].n, l2.b[i].n);
            printf(" %s[%zu]", l1.b[i].name, l1.b[i].n);
        }
        printf("\n");
        filters_free(&s1);
        filters_free(&s2);
    }
}

/* ---- save, restore, continue ------------------------------------------------------ */

/* A training-like loop on the fixture: gradient g_s = raw gradient of step s
 * plus a pull toward the current weights (so the filters' outputs feed back),
 * every filter on, AdamW decaying toward the initial weights. */
typedef struct {
    optim_state opt;
    filter_state flt;
    float p[N];
} loop_state;

static const filter_config loop_filters = {
    .ema = {1, 0.8, 2.0}, .ma = {1, 3, 5.0}, .ortho = 1, .clip_norm = 4.0};

static void loop_init(loop_state *L, int set_origin)
{
    optim_config oc = {.kind = OPTIM_ADAMW, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.98,
                       .eps = 1e-8, .weight_decay = 1.0, .warmup = 2,
                       .decay_to = OPTIM_DECAY_INIT};
    assert_int_equal(optim_init(&L->opt, &oc, N, NULL), GROK_OK);
    assert_int_equal(filters_init(&L->flt, &loop_filters, N, NULL), GROK_OK);
    memcpy(L->p, filters_golden_params[0], sizeof L->p);
    if (set_origin)
        optim_set_origin(&L->opt, L->p);
}

static void loop_steps(loop_state *L, const param_tensor *t, int from, int to)
{
    for (int step = from; step < to; step++) {
        float g[N];
        for (int i = 0; i < N; i++)
            g[i] = filters_golden_grads[step][i] + 0.5f * L->p[i];
        filters_apply(&L->flt, t, NT, L->p, g, L->opt.step);
        optim_step(&L->opt, L->p, g);
    }
}

static void loop_free(loop_state *L)
{
    optim_free(&L->opt);
    filters_free(&L->flt);
}

/* The state's list: the optimizer's buffers, then the filters'. */
static statebuf_list loop_buffers(loop_state *L)
{
    statebuf_list l = {0};
    optim_state_buffers(&L->opt, &l);
    filters_state_buffers(&L->flt, &l);
    return l;
}

static void test_save_restore_continue(void **state)
{
    (void)state;
    param_tensor t[NT];
    golden_table(t);

    loop_state A;
    loop_init(&A, 1);
    loop_steps(&A, t, 0, STEPS);

    /* Stop after 3 steps and save everything the list names, plus the
     * weights and the step, as a safetensors image. */
    loop_state B;
    loop_init(&B, 1);
    loop_steps(&B, t, 0, 3);
    statebuf_list lb = loop_buffers(&B);
    st_tensor ts[STATEBUF_LIST_MAX + 2];
    int nts = 0;
    for (int i = 0; i < lb.n; i++)
        ts[nts++] = (st_tensor){.name = lb.b[i].name, .dtype = ST_F32, .ndim = 1,
                                .shape = {(int64_t)lb.b[i].n}, .data = lb.b[i].data};
    int64_t step = B.opt.step;
    ts[nts++] = (st_tensor){.name = "params", .dtype = ST_F32, .ndim = 1, .shape = {N},
                            .data = B.p};
    ts[nts++] = (st_tensor){.name = "optim.step", .dtype = ST_I64, .ndim = 0, .data = &step};
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    grok_err e = {{0}};
    assert_int_equal(st_serialize(ts, nts, NULL, 0, &bytes, &n_bytes, &e), GROK_OK);
    loop_free(&B);

    /* A fresh state (origin never set: it must come back from the image),
     * filled by walking its own list. */
    loop_state C;
    loop_init(&C, 0);
    st_file f;
    assert_int_equal(st_parse(&f, bytes, n_bytes, "state image", &e), GROK_OK);
    statebuf_list lc = loop_buffers(&C);
    assert_int_equal(lc.n, 5);
    for (int i = 0; i < lc.n; i++) {
        const st_tensor *x = st_find(&f, lc.b[i].name);
        assert_non_null(x);
        assert_int_equal(st_tensor_numel(x), lc.b[i].n);
        memcpy(lc.b[i].data, x->data, lc.b[i].n * sizeof(float));
    }
    memcpy(C.p, st_find(&f, "params")->data, sizeof C.p);
    memcpy(&step, st_find(&f, "optim.step")->data, sizeof step);
    C.opt.step = (long)step;
    st_file_free(&f);
    free(bytes);
    loop_steps(&C, t, 3, STEPS);

    printf("# save after 3 of %d steps (%d buffers:", STEPS, lc.n);
    for (int i = 0; i < lc.n; i++)
        printf(" %s", lc.b[i].name);
    printf("), restore into a fresh state, continue: %s\n",
           memcmp(A.p, C.p, sizeof A.p) == 0 ? "same bits" : "DIFFERENT");
    assert_memory_equal(A.p, C.p, sizeof A.p);
    statebuf_list la = loop_buffers(&A);
    lc = loop_buffers(&C);
    for (int i = 0; i < la.n; i++)
        assert_memory_equal(la.b[i].data, lc.b[i].data, la.b[i].n * sizeof(float));

    /* Control: a restore that leaves out the ring (or any buffer) does not continue the same. */
    loop_state D;
    loop_init(&D, 1);
    loop_steps(&D, t, 0, 3);
    statebuf_list ld = loop_buffers(&D);
    const statebuf *ring = statebuf_find(&ld, "filters.ma.ring");
    memset(ring->data, 0, ring->n * sizeof(float));
    loop_steps(&D, t, 3, STEPS);
    assert_true(memcmp(A.p, D.p, sizeof A.p) != 0);
    printf("# control: the same restore with the MA ring zeroed gives different weights\n");
    loop_free(&A);
    loop_free(&C);
    loop_free(&D);
}

/* ---- threads ---------------------------------------------------------------------- */

/* Every filter on a table with a large tensor, 4 steps, `threads` threads;
 * writes the final gradient g [n] and the rescaled weights w [n]. */
static void run_threads(int threads, const param_tensor *t, int nt, size_t n, float *w, float *g)
{
    filter_config c = {.ema = {1, 0.9, 2.0}, .ma = {1, 3, 5.0}, .ortho = 1, .clip_norm = 50.0};
    filter_state s;
    assert_int_equal(filters_init(&s, &c, n, NULL), GROK_OK);
    omp_set_num_threads(threads);
    for (size_t i = 0; i < n; i++)
        w[i] = (float)sin(2.385 * (double)i);
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (float)cos(0.731 * (double)i + k) * (float)(k + 1) * 0.1f;
        filters_apply(&s, t, nt, w, g, k);
    }
    norm_rescale(w, n, 123.0);
    filters_free(&s);
}

static void test_threads_same_bits(void **state)
{
    (void)state;
    param_tensor t[3];
    param_table b = {.t = t, .cap = (int)(sizeof t / sizeof t[0])};
    params_add(&b, "W_big", 2, 512, 300, 0, 1.0, 0.0f);
    params_add(&b, "b", 1, 300, 0, 0, 1.0, 0.0f);
    params_add(&b, "W_odd", 3, 3, 333, 71, 1.0, 0.0f);
    size_t n = b.offset;
    float *w1 = grok_alloc(n * sizeof(float)), *g1 = grok_alloc(n * sizeof(float));
    float *w2 = grok_alloc(n * sizeof(float)), *g2 = grok_alloc(n * sizeof(float));
    assert_true(w1 && g1 && w2 && g2);
    int saved = omp_get_max_threads();
    run_threads(1, t, 3, n, w1, g1);
    run_threads(2, t, 3, n, w2, g2);
    omp_set_num_threads(saved);
    size_t dg = 0, dw = 0;
    for (size_t i = 0; i < n; i++) {
        dg += memcmp(&g1[i], &g2[i], sizeof(float)) != 0;
        dw += memcmp(&w1[i], &w2[i], sizeof(float)) != 0;
    }
    printf("# %zu params, every filter, 4 steps (clipped norm %.6g): 1 vs 2 threads differ in "
           "%zu gradient and %zu rescaled weight elements\n",
           n, norm_l2(g1, n), dg, dw);
    assert_int_equal(dg, 0);
    assert_int_equal(dw, 0);
    grok_free(w1);
    grok_free(g1);
    grok_free(w2);
    grok_free(g2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_ma_warmup),
        cmocka_unit_test(test_ortho_identities),
        cmocka_unit_test(test_clip_identities),
        cmocka_unit_test(test_norms),
        cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_state_buffers),
        cmocka_unit_test(test_save_restore_continue),
        cmocka_unit_test(test_threads_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
