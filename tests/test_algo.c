/* test_algo.c: the clock and pizza measures and the verdict (measures/algo.h).
 *
 * Golden: tests/gen_algo_golden.py computed every measure with NumPy and
 * PyTorch (autograd) from docs/measures.md for a planted model, p = 13, and
 * re-implemented the project's rng to draw the triples; the fixture is
 * tests/golden/algo_p13.safetensors.  Constructed cases: logit tables built
 * from the clock and the pizza templates (plus noise) land on opposite sides
 * of the verdict's thresholds, with gradients of the templates as functions
 * of circle embeddings taken by central differences.  The model's embedding
 * gradient is checked against central differences of the double-precision
 * reference forward. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algo.h"
#include "fourier.h"
#include "meas.h"
#include "measure.h"
#include "safetensors.h"
#include "testutil.h"

#define GOLDEN "tests/golden/algo_p13.safetensors"
static const double PI = 3.14159265358979323846;

static const st_tensor *need(const st_file *f, const char *name, st_dtype dt)
{
    const st_tensor *t = st_find(f, name);
    if (!t)
        fail_msg("fixture lacks %s", name);
    assert_int_equal(t->dtype, dt);
    return t;
}
static double need_f64(const st_file *f, const char *name)
{
    return *(const double *)need(f, name, ST_F64)->data;
}
static void check_scalar(const char *what, double got, double want, double abs_tol)
{
    tu_check_close_d(what, &got, &want, 1, (tu_tol){.abs = abs_tol});
}

/* ------------------------------------------------------------------------ */
/* building blocks */

static void test_circ_score(void **state)
{
    (void)state;
    const int p = 31;
    double u[31];
    for (int k = 1; k <= 15; k += 7) /* any frequency, any phase: a circle */
        for (int t = 0; t < p; t++)
            u[t] = 3 * cos(2 * PI * k * t / p + 0.4 * k);
    check_scalar("sinusoid", algo_circ_score(u, p), 1, 1e-12);
    tu_xs g = {12345};
    for (int t = 0; t < p; t++)
        u[t] = tu_xs_normal(&g);
    const double r = algo_circ_score(u, p);
    printf("# random vector: circularity %.4f\n", r);
    assert_true(r < 0.7 && r > 0);
    memset(u, 0, sizeof u);
    assert_true(algo_circ_score(u, p) == 0);
    for (int t = 0; t < p; t++) /* the strongest frequency wins */
        u[t] = cos(2 * PI * 4 * t / p) + 0.3 * sin(2 * PI * 9 * t / p);
    assert_int_equal(algo_best_freq(u, p), 4);
}

static void test_triples_distinct(void **state)
{
    (void)state;
    int32_t tr[3 * ALGO_N_TRIPLES], tr2[3 * ALGO_N_TRIPLES];
    const int p = 113;
    assert_int_equal(algo_triples(p, tr), ALGO_N_TRIPLES);
    assert_int_equal(algo_triples(p, tr2), ALGO_N_TRIPLES);
    assert_memory_equal(tr, tr2, sizeof tr); /* fixed seed: the same every call */
    for (int i = 0; i < ALGO_N_TRIPLES; i++) {
        for (int j = 0; j < 3; j++)
            assert_true(tr[3 * i + j] >= 0 && tr[3 * i + j] < p);
        for (int j = 0; j < i; j++)
            assert_false(tr[3 * i] == tr[3 * j] && tr[3 * i + 1] == tr[3 * j + 1] &&
                         tr[3 * i + 2] == tr[3 * j + 2]);
    }
    /* fewer than 100 triples: all of them, each once */
    int32_t small[3 * 27];
    assert_int_equal(algo_triples(3, small), 27);
    int seen[27] = {0};
    for (int i = 0; i < 27; i++)
        seen[small[3 * i] * 9 + small[3 * i + 1] * 3 + small[3 * i + 2]]++;
    for (int i = 0; i < 27; i++)
        assert_int_equal(seen[i], 1);
}

/* ------------------------------------------------------------------------ */
/* constructed clock and pizza tables */

/* the template as a function of circle embeddings e_a, e_b (complex as
 * x, y): clock Re(e_a e_b conj(e_c)); pizza |Re((e_a + e_b) conj(h))| -
 * |Im((e_a + e_b) conj(h))|, h = e^(i w c / 2) */
static double tmpl_emb(const double *ea, const double *eb, int c, int p, int k, int pizza)
{
    const double w = 2 * PI * k / p;
    if (!pizza) {
        const double re = ea[0] * eb[0] - ea[1] * eb[1], im = ea[0] * eb[1] + ea[1] * eb[0];
        return re * cos(w * c) + im * sin(w * c);
    }
    const double x = ea[0] + eb[0], y = ea[1] + eb[1], hc = cos(w * c / 2), hs = sin(w * c / 2);
    return fabs(x * hc + y * hs) - fabs(y * hc - x * hs);
}

typedef struct {
    double cs, ds, gs;
} constructed;

static constructed build(int p, int k, int pizza, double noise)
{
    const int P2 = p * p;
    double *L = malloc(sizeof(double) * P2 * p);
    int32_t *label = malloc(sizeof(int32_t) * P2);
    tu_xs g = {pizza ? 99 : 77};
    const double w = 2 * PI * k / p;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            label[a * p + b] = (a + b) % p;
            for (int c = 0; c < p; c++) {
                const double ea[2] = {cos(w * a), sin(w * a)}, eb[2] = {cos(w * b), sin(w * b)};
                L[(size_t)(a * p + b) * p + c] =
                    tmpl_emb(ea, eb, c, p, k, pizza) + noise * tu_xs_normal(&g);
            }
        }
    constructed r;
    r.ds = algo_dist_irrel(L, p, label, p, NULL);
    r.cs = algo_fve(L, p, k, pizza);
    /* the gradients with respect to e_a, e_b by central differences */
    int32_t tr[3 * ALGO_N_TRIPLES];
    const int n = algo_triples(p, tr);
    float *gr = malloc(sizeof(float) * n * 2 * 2);
    for (int i = 0; i < n; i++) {
        const int a = tr[3 * i], b = tr[3 * i + 1], c = tr[3 * i + 2];
        double e[2][2] = {{cos(w * a), sin(w * a)}, {cos(w * b), sin(w * b)}};
        for (int which = 0; which < 2; which++)
            for (int j = 0; j < 2; j++) {
                const double h = 1e-6, x0 = e[which][j];
                e[which][j] = x0 + h;
                const double up = tmpl_emb(e[0], e[1], c, p, k, pizza);
                e[which][j] = x0 - h;
                const double dn = tmpl_emb(e[0], e[1], c, p, k, pizza);
                e[which][j] = x0;
                gr[(i * 2 + which) * 2 + j] = (float)((up - dn) / (2 * h));
            }
    }
    r.gs = algo_grad_sym(gr, n, 2, 2, 0, 1);
    free(gr);
    free(L);
    free(label);
    return r;
}

static void test_constructed_verdict(void **state)
{
    (void)state;
    const int p = 59, k = 7;
    const constructed clock = build(p, k, 0, 0.01), pizza = build(p, k, 1, 0.01);
    printf("# clock table: dist_irrel %.4f grad_sym %.4f fve_clock %.4f\n", clock.ds, clock.gs,
           clock.cs);
    printf("# pizza table: dist_irrel %.4f grad_sym %.4f fve_pizza %.4f\n", pizza.ds, pizza.gs,
           pizza.cs);
    /* opposite sides of every threshold */
    assert_true(clock.ds >= ALGO_CLOCK_DIST_IRREL && pizza.ds <= ALGO_PIZZA_DIST_IRREL);
    assert_true(clock.gs <= ALGO_CLOCK_GRAD_SYM && pizza.gs >= ALGO_PIZZA_GRAD_SYM);
    assert_true(fabs(pizza.gs - 1) < 1e-6); /* the pizza reads a + b through e_a + e_b */
    assert_true(clock.cs > 0.99 && pizza.cs > 0.99); /* each template explains its own table */
    assert_int_equal(algo_verdict(clock.ds, clock.gs, 1), ALGO_CLOCK);
    assert_int_equal(algo_verdict(pizza.ds, pizza.gs, 1), ALGO_PIZZA);
    assert_int_equal(algo_verdict(pizza.ds, pizza.gs, 0.5), ALGO_NEITHER);
    assert_int_equal(algo_verdict(0.6, 0.8, 1), ALGO_NEITHER);
    assert_string_equal(algo_kind_name(ALGO_PIZZA), "pizza");
    assert_string_equal(algo_kind_name(ALGO_CLOCK), "clock");
    assert_string_equal(algo_kind_name(ALGO_NEITHER), "neither");
    /* each template explains the other's table poorly */
    {
        const int P2 = p * p;
        double *L = malloc(sizeof(double) * P2 * p);
        const double w = 2 * PI * k / p;
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                for (int c = 0; c < p; c++) {
                    const double ea[2] = {cos(w * a), sin(w * a)},
                                 eb[2] = {cos(w * b), sin(w * b)};
                    L[(size_t)(a * p + b) * p + c] = tmpl_emb(ea, eb, c, p, k, 1);
                }
        const double cross = algo_fve(L, p, k, 0);
        printf("# pizza table, clock template: fve %.4f\n", cross);
        assert_true(cross < 0.9);
        free(L);
    }
}

/* ------------------------------------------------------------------------ */
/* the golden model */

typedef struct {
    st_file fx;
    model m;
    task_data t;
} golden;

static int golden_setup(void **state)
{
    golden *g = calloc(1, sizeof *g);
    grok_err e;
    if (st_read(&g->fx, GOLDEN, &e) != GROK_OK) {
        printf("# %s\n", e.msg);
        return -1;
    }
    const int p = atoi(st_meta_get(&g->fx, "p"));
    tfm_config mc = {.n_layers = atoi(st_meta_get(&g->fx, "n_layers")),
                     .d_model = atoi(st_meta_get(&g->fx, "d_model")),
                     .n_heads = atoi(st_meta_get(&g->fx, "n_heads")),
                     .d_head = atoi(st_meta_get(&g->fx, "d_head")),
                     .d_mlp = atoi(st_meta_get(&g->fx, "d_mlp")),
                     .d_vocab = p + 1,
                     .d_vocab_out = p,
                     .n_ctx = 3,
                     .act = TFM_ACT_RELU,
                     .init_scale = 1};
    task_config tc = {.op = TASK_OP_ADD, .p = p, .frac_train = 0.3};
    const model_config mcfg = {.family = MODEL_TRANSFORMER, .tfm = mc};
    if (model_init(&g->m, &mcfg, &e) != GROK_OK ||
        measure_load_checkpoint(g->m.tensors, g->m.n_tensors, g->m.params, GOLDEN, NULL, &e) ||
        task_init(&g->t, &tc, 0, &e) != GROK_OK) {
        printf("# %s\n", e.msg);
        return -1;
    }
    *state = g;
    return 0;
}

static int golden_teardown(void **state)
{
    golden *g = *state;
    if (!g)
        return 0;
    task_free(&g->t);
    model_free(&g->m);
    st_file_free(&g->fx);
    free(g);
    return 0;
}

static void test_golden_triples(void **state)
{
    golden *g = *state;
    int32_t tr[3 * ALGO_N_TRIPLES];
    assert_int_equal(algo_triples(g->t.cfg.p, tr), ALGO_N_TRIPLES);
    const st_tensor *want = need(&g->fx, "triples", ST_I32);
    assert_int_equal(want->shape[0], ALGO_N_TRIPLES);
    assert_memory_equal(tr, want->data, sizeof tr);
}

/* Tolerances: the C forward runs in float32, the reference in float64 from
 * the same float32 parameters (logits < 20 here, errors ~1e-6 of that): 1e-5
 * on measures of logits and gradients; the PCA is a double computation on the
 * same float32 values on both sides (GSL's eigensolver here, an SVD there):
 * 1e-9. */
static void test_golden_measures(void **state)
{
    golden *g = *state;
    const st_file *f = &g->fx;
    grok_err e;
    meas_workspace *ws;
    assert_int_equal(meas_workspace_alloc(&ws, &g->m, &g->t, NULL, &e), GROK_OK);
    meas_row row = {.epoch = 1};
    assert_int_equal(meas_compute(ws, &g->m, &g->t, NULL, &row, &e), GROK_OK);
    check_scalar("dist_irrel", row.dist_irrel, need_f64(f, "expect.dist_irrel"), 1e-5);
    check_scalar("grad_sym", row.grad_sym, need_f64(f, "expect.grad_sym"), 1e-5);
    check_scalar("circularity", row.circularity, need_f64(f, "expect.circularity"), 1e-9);
    check_scalar("fve_clock", row.fve_clock, need_f64(f, "expect.fve_clock"), 1e-5);
    check_scalar("fve_pizza", row.fve_pizza, need_f64(f, "expect.fve_pizza"), 1e-5);

    /* the columns in measures.tsv */
    sbuf b;
    sbuf_init(&b);
    meas_format_header(&g->m, &g->t, MEAS_FILE_MEASURES, &b);
    tu_assert_contains(b.data, "\tdist_irrel\tgrad_sym\tcircularity\tfve_clock\tfve_pizza\t");

    /* logit_sd.tsv against the reference table */
    sbuf_clear(&b);
    assert_int_equal(meas_format_logit_sd(ws, &g->t, &b, &e), GROK_OK);
    const int p = g->t.cfg.p;
    const double *sd = need(f, "expect.logit_sd", ST_F64)->data;
    {
        const char *s = strchr(b.data, '\n') + 1;
        double *got = malloc(sizeof(double) * p * p);
        for (int i = 0; i < p * p; i++) {
            int si, di;
            double v;
            assert_int_equal(sscanf(s, "%d\t%d\t%lf", &si, &di, &v), 3);
            assert_int_equal(si * p + di, i);
            got[i] = v;
            s = strchr(s, '\n') + 1;
        }
        tu_check_close_d("logit_sd", got, sd, (size_t)p * p, (tu_tol){.abs = 2e-4});
        free(got);
    }

    /* embed_circles.tsv for the fixture's keys */
    const st_tensor *kt = need(f, "keys", ST_I32);
    meas_freqs key = {.n = (int)kt->shape[0]};
    for (int i = 0; i < key.n; i++)
        key.k[i] = ((const int32_t *)kt->data)[i];
    sbuf_clear(&b);
    assert_int_equal(meas_format_embed_circles(ws, &g->m, &key, &b, &e), GROK_OK);
    {
        const double *want = need(f, "expect.circles", ST_F64)->data;
        double *got = malloc(sizeof(double) * key.n * p * 2);
        const char *s = strchr(b.data, '\n') + 1;
        for (int i = 0; i < key.n * p; i++) {
            int k, t;
            assert_int_equal(sscanf(s, "%d\t%d\t%lf\t%lf", &k, &t, &got[2 * i], &got[2 * i + 1]),
                             4);
            assert_int_equal(k, key.k[i / p]);
            assert_int_equal(t, i % p);
            s = strchr(s, '\n') + 1;
        }
        tu_check_close_d("embed_circles", got, want, (size_t)key.n * p * 2,
                         (tu_tol){.rel = 1e-8, .floor = 1}); /* %.9g in the file */
        free(got);
    }
    sbuf_free(&b);
    meas_workspace_free(ws);
}

/* the embedding gradient of the triples against autograd */
static void test_golden_gradients(void **state)
{
    golden *g = *state;
    const int p = g->t.cfg.p, D = g->m.cfg.tfm.d_model, n = ALGO_N_TRIPLES;
    const int32_t *tr = need(&g->fx, "triples", ST_I32)->data;
    int32_t *tok = malloc(sizeof(int32_t) * 3 * n), *cls = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++) {
        tok[3 * i] = tr[3 * i], tok[3 * i + 1] = tr[3 * i + 1], tok[3 * i + 2] = p;
        cls[i] = tr[3 * i + 2];
    }
    model_acts *a = model_acts_alloc(&g->m, n);
    float *gr = malloc(sizeof(float) * n * 3 * D);
    int width;
    model_embed_grad(&g->m, a, tok, cls, n, 0, gr, &width);
    assert_int_equal(width, D);
    const double *want = need(&g->fx, "expect.grad", ST_F64)->data; /* [n, 2, D] */
    double *got = malloc(sizeof(double) * n * 2 * D);
    double mx = 0;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < 2; t++)
            for (int j = 0; j < D; j++) {
                got[(i * 2 + t) * D + j] = gr[((size_t)i * 3 + t) * D + j];
                mx = fmax(mx, fabs(want[(i * 2 + t) * D + j]));
            }
    tu_check_close_d("d logit_c / d x (positions a, b)", got, want, (size_t)n * 2 * D,
                     (tu_tol){.abs = 1e-5 * mx});
    free(got), free(gr), free(tok), free(cls);
    model_acts_free(a);
}

/* d logit_c / d x at position pos by central differences of the double
 * reference forward, the input embedding moved through W_pos[pos] */
typedef struct {
    model *m;
    int32_t tok[3];
    int cls, pos, j;
} fd_ctx;

static double fd_logit(void *vc, double *x)
{
    fd_ctx *c = vc;
    float *w = c->m->params + model_find(c->m, "pos_embed.W_pos")->offset +
               (size_t)c->pos * c->m->cfg.tfm.d_model + c->j;
    *w = (float)*x;
    *x = *w;
    double lg[64];
    tfm_forward_ref(&c->m->tfm, c->tok, 1, lg);
    return lg[c->cls];
}

static void test_gradient_finite_differences(void **state)
{
    golden *g = *state;
    const int p = g->t.cfg.p, D = g->m.cfg.tfm.d_model;
    int32_t tr[3 * ALGO_N_TRIPLES];
    algo_triples(p, tr);
    model_acts *a = model_acts_alloc(&g->m, 1);
    float *gr = malloc(sizeof(float) * 3 * D);
    float *fd = malloc(sizeof(float) * 3 * D);
    const float *wpos = g->m.params + model_find(&g->m, "pos_embed.W_pos")->offset;
    double worst = 0, worst_cos = 0;
    int skipped = 0;
    for (int i = 0; i < 8; i++) {
        fd_ctx c = {.m = &g->m, .tok = {tr[3 * i], tr[3 * i + 1], p}, .cls = tr[3 * i + 2]};
        int width;
        model_embed_grad(&g->m, a, c.tok, &c.cls, 1, 0, gr, &width);
        double mx = 0;
        for (int j = 0; j < 3 * D; j++)
            mx = fmax(mx, fabs(gr[j]));
        memset(fd, 0, sizeof(float) * 3 * D);
        for (c.pos = 0; c.pos < 2; c.pos++)
            for (c.j = 0; c.j < D; c.j++) {
                const float x0 = wpos[c.pos * D + c.j];
                int kink = 0;
                const double d = tu_fd_central(fd_logit, &c, x0, &kink);
                double xr = x0;
                fd_logit(&c, &xr);
                if (kink) {
                    skipped++;
                    fd[c.pos * D + c.j] = gr[c.pos * D + c.j];
                    continue;
                }
                fd[c.pos * D + c.j] = (float)d;
                worst = fmax(worst, fabs(d - gr[c.pos * D + c.j]) / mx);
            }
        worst_cos = fmax(worst_cos, fabs(algo_grad_sym(gr, 1, 3, D, 0, 1) -
                                         algo_grad_sym(fd, 1, 3, D, 0, 1)));
    }
    printf("# embedding gradient vs central differences: worst %.2e of max|grad|, cosine "
           "%.2e, %d kinks skipped\n",
           worst, worst_cos, skipped);
    assert_true(worst < 1e-3 && worst_cos < 1e-3 && skipped < 8 * 2 * D / 5);
    free(gr), free(fd);
    model_acts_free(a);
}

/* the measures leave the caller's model alone (training keeps its bits) */
static void test_model_untouched(void **state)
{
    golden *g = *state;
    grok_err e;
    meas_workspace *ws;
    const size_t n = g->m.n_params;
    float *p0 = malloc(n * sizeof(float)), *g0 = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        g->m.grads[i] = (float)i;
    memcpy(p0, g->m.params, n * sizeof(float));
    memcpy(g0, g->m.grads, n * sizeof(float));
    assert_int_equal(meas_workspace_alloc(&ws, &g->m, &g->t, NULL, &e), GROK_OK);
    meas_row r1 = {0}, r2 = {0};
    assert_int_equal(meas_compute(ws, &g->m, &g->t, NULL, &r1, &e), GROK_OK);
    assert_int_equal(meas_compute(ws, &g->m, &g->t, NULL, &r2, &e), GROK_OK);
    assert_memory_equal(p0, g->m.params, n * sizeof(float));
    assert_memory_equal(g0, g->m.grads, n * sizeof(float));
    assert_memory_equal(&r1.dist_irrel, &r2.dist_irrel, 5 * sizeof(double));
    meas_workspace_free(ws);
    free(p0), free(g0);
}

int main(void)
{
    /* one group (the fixture loaded once for all; the first three tests do
     * not read it): the test runner counts one "PASSED" line per binary */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circ_score),
        cmocka_unit_test(test_triples_distinct),
        cmocka_unit_test(test_constructed_verdict),
        cmocka_unit_test(test_golden_triples),
        cmocka_unit_test(test_golden_measures),
        cmocka_unit_test(test_golden_gradients),
        cmocka_unit_test(test_gradient_finite_differences),
        cmocka_unit_test(test_model_untouched),
    };
    return cmocka_run_group_tests(tests, golden_setup, golden_teardown);
}
