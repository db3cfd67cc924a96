/* test_mlp.c: the embedding MLP (mlp.h) against its definitions and PyTorch.
 *
 * - The parameter table: names, shapes, init scales, contiguous offsets, the
 *   total, the views; the config checks' messages; the initial draw.
 * - The fast forward (BLIS) against the naive double reference mlp_forward_ref,
 *   concat, sum and onehot (the reference multiplies the one-hot vectors by
 *   W_0; the forward adds the rows they select), ReLU, GELU, tanh and x^2, 1
 *   and 2 hidden layers.
 * - Finite-difference gradient check of every tensor of the table (central
 *   differences of the reference's float64 loss, against mlp_backward) for the
 *   same variants, with a softmax cross-entropy written here in double.
 * - mlp_embed_grad against finite differences of mlp_forward_ref_embed, and
 *   (concat, sum) against mlp_backward through the identity dW_E = sum of
 *   embed_grad over the occurrences of each token when dlogits is the one-hot
 *   of the class.
 * - Same bits with 1 and 2 threads: logits, gradients, embed_grad (one
 *   variant at the shape of Prieto et al.'s onehot MLP).
 * - Golden fixtures from tests/gen_mlp_golden.py (PyTorch): logits, the last
 *   hidden layer, the loss, gradients, embed_grad and two AdamW steps
 *   (optim.h), with the tolerances of test_golden.c, which can fail (a doubled
 *   gradient is rejected). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "mlp.h"
#include "optim.h"
#include "safetensors.h"
#include "testutil.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

static mlp_config small_config(mlp_combine comb, mlp_act act, int layers)
{
    return (mlp_config){.n_ctx = 3, .d_vocab = 8, .d_vocab_out = 7, .d_embed = 5,
                        .combine = comb, .n_layers = layers, .d_hidden = 12, .act = act,
                        .init_scale = 1.0};
}

/* Gaussians of each tensor's init scale (times 1.5); biases 0.2 N(0, 1) so
 * that every path is exercised.  Seeds g; make_batch goes on with it. */
static void fill_params(mlp_model *m, uint64_t seed, tu_xs *g)
{
    g->s = seed * 2654435761u + 12345;
    for (int i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        for (size_t j = 0; j < t->numel; j++) {
            const double x = tu_xs_normal(g);
            m->params[t->offset + j] = (float)(t->init_std > 0 ? x * t->init_std * 1.5 : 0.2 * x);
        }
    }
}

/* tokens [a, b, p] for T = 3 (V = p + 1), [a, b] for T = 2 (V = p); labels
 * (a + b) mod p and random classes cls (either may be NULL). */
static void make_batch(int32_t *tok, int32_t *lab, int32_t *cls, int N, int T, int p, tu_xs *g)
{
    for (int n = 0; n < N; n++) {
        const int a = (int)(tu_xs_uniform(g) * p), b = (int)(tu_xs_uniform(g) * p);
        tok[T * n] = a, tok[T * n + 1] = b;
        if (T == 3)
            tok[T * n + 2] = p;
        if (lab)
            lab[n] = (a + b) % p;
        if (cls)
            cls[n] = (int)(tu_xs_uniform(g) * p);
    }
}

/* A small model (small_config) with parameters filled from seed, a batch
 * of N examples (tok [N, 3], lab and cls [N] or NULL) and a workspace for it. */
static mlp_acts *small_setup(mlp_model *m, mlp_combine comb, mlp_act act, int layers,
                             uint64_t seed, int N, int32_t *tok, int32_t *lab, int32_t *cls,
                             tu_xs *xs)
{
    mlp_config c = small_config(comb, act, layers);
    grok_err e;
    assert_int_equal(mlp_init(m, &c, &e), GROK_OK);
    fill_params(m, seed, xs);
    make_batch(tok, lab, cls, N, c.n_ctx, 7, xs);
    mlp_acts *a = mlp_acts_alloc(m, N);
    assert_non_null(a);
    return a;
}

/* Mean softmax cross-entropy of logits [N, Vo] against lab, in double (a
 * float32 log-softmax rounds confident rows to 0); when dlogits is not NULL
 * writes d loss / d logits = (softmax - onehot) / N there. */
static double ce_loss(const double *logits, const int32_t *lab, int N, int Vo, float *dlogits)
{
    double total = 0;
    for (int n = 0; n < N; n++) {
        const double *x = logits + (size_t)n * Vo;
        double mx = x[0], s = 0;
        for (int j = 1; j < Vo; j++)
            mx = x[j] > mx ? x[j] : mx;
        for (int j = 0; j < Vo; j++)
            s += exp(x[j] - mx);
        total += mx + log(s) - x[lab[n]];
        if (dlogits)
            for (int j = 0; j < Vo; j++)
                dlogits[(size_t)n * Vo + j] = (float)((exp(x[j] - mx) / s - (j == lab[n])) / N);
    }
    return total / N;
}

/* Forward, the cross-entropy of its float32 logits, dlogits, backward. */
static double loss_and_backward(mlp_model *m, mlp_acts *a, const int32_t *tok, const int32_t *lab,
                                int N)
{
    const int Vo = m->cfg.d_vocab_out;
    double *lg = malloc(sizeof(double) * N * Vo);
    assert_non_null(lg);
    mlp_forward(m, a, tok, N);
    for (int i = 0; i < N * Vo; i++)
        lg[i] = mlp_logits(a)[i];
    const double loss = ce_loss(lg, lab, N, Vo, mlp_dlogits(a));
    mlp_backward(m, a, tok, N);
    free(lg);
    return loss;
}

static double ref_loss(const mlp_model *m, const int32_t *tok, const int32_t *lab, int N,
                       double *scratch)
{
    mlp_forward_ref(m, tok, N, scratch);
    return ce_loss(scratch, lab, N, m->cfg.d_vocab_out, NULL);
}

/* ------------------------------------------------------------------------ */
/* the table and the config */

static void test_table(void **state)
{
    (void)state;
    mlp_config c = {.n_ctx = 2, .d_vocab = 97, .d_vocab_out = 97, .d_embed = 128,
                    .combine = MLP_COMBINE_CONCAT, .n_layers = 2, .d_hidden = 256,
                    .act = MLP_ACT_RELU, .init_scale = 1.0};
    mlp_model m;
    grok_err e;
    assert_int_equal(mlp_init(&m, &c, &e), GROK_OK);
    static const struct {
        const char *name;
        int ndim, s0, s1;
        double std;
    } want[] = {
        {"embed.W_E", 2, 97, 128, 1 / 11.313708498984761}, /* 1/sqrt(128) */
        {"mlp.0.W", 2, 256, 256, 1 / 16.0},                 /* Din = T*E = 256 */
        {"mlp.0.b", 1, 256, 0, 0},
        {"mlp.1.W", 2, 256, 256, 1 / 16.0},
        {"mlp.1.b", 1, 256, 0, 0},
        {"unembed.W_U", 2, 256, 97, 1 / 16.0},
        {"unembed.b_U", 1, 97, 0, 0},
    };
    assert_int_equal(m.n_tensors, 7);
    size_t off = 0;
    for (int i = 0; i < m.n_tensors; i++) {
        const param_tensor *t = &m.tensors[i];
        assert_string_equal(t->name, want[i].name);
        assert_int_equal(t->ndim, want[i].ndim);
        assert_int_equal(t->shape[0], want[i].s0);
        if (t->ndim == 2)
            assert_int_equal(t->shape[1], want[i].s1);
        assert_true(fabs(t->init_std - want[i].std) < 1e-15);
        assert_int_equal(t->offset, off);
        assert_true(mlp_find(&m, t->name) == t);
        off += t->numel;
    }
    assert_int_equal(off, m.n_params);
    assert_int_equal(m.n_params, 97 * 128 + 2 * (256 * 256 + 256) + 256 * 97 + 97);
    assert_null(mlp_find(&m, "mlp.2.W"));
    assert_true(m.p.W_E == m.params && m.g.W_E == m.grads);
    assert_true(m.p.W[1] == m.params + mlp_find(&m, "mlp.1.W")->offset);
    assert_true(m.g.b[0] == m.grads + mlp_find(&m, "mlp.0.b")->offset);
    assert_true(m.p.b_U == m.params + m.n_params - 97);
    printf("# table concat L=2: %d tensors, %zu parameters, offsets contiguous\n", m.n_tensors,
           m.n_params);
    mlp_free(&m);

    c.combine = MLP_COMBINE_SUM, c.n_layers = 1;
    assert_int_equal(mlp_init(&m, &c, &e), GROK_OK);
    assert_int_equal(m.n_tensors, 5);
    assert_int_equal(mlp_find(&m, "mlp.0.W")->shape[0], 128); /* Din = E */
    assert_true(fabs(mlp_find(&m, "mlp.0.W")->init_std - 1 / 11.313708498984761) < 1e-15);
    assert_int_equal(m.n_params, 97 * 128 + 128 * 256 + 256 + 256 * 97 + 97);
    mlp_free(&m);

    /* onehot: no embed.W_E; mlp.0.W has a row per (position, token); d_embed unused */
    c.combine = MLP_COMBINE_ONEHOT, c.n_layers = 2, c.d_embed = 0;
    assert_int_equal(mlp_init(&m, &c, &e), GROK_OK);
    assert_int_equal(m.n_tensors, 6);
    assert_null(mlp_find(&m, "embed.W_E"));
    assert_true(m.p.W_E == NULL && m.g.W_E == NULL);
    const param_tensor *w0 = mlp_find(&m, "mlp.0.W");
    assert_true(w0 == &m.tensors[0] && w0->offset == 0);
    assert_int_equal(w0->shape[0], 2 * 97); /* Din = T*V */
    assert_int_equal(w0->shape[1], 256);
    assert_true(fabs(w0->init_std - 1 / sqrt(194.0)) < 1e-15);
    assert_int_equal(mlp_d_in(&c), 194);
    assert_int_equal(mlp_embed_width(&c), 97);
    assert_int_equal(m.n_params, 194 * 256 + 256 + 256 * 256 + 256 + 256 * 97 + 97);
    printf("# table onehot L=2: %d tensors, %zu parameters, mlp.0.W [194, 256]\n", m.n_tensors,
           m.n_params);
    mlp_free(&m);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        int field; /* 0 d_embed, 1 combine, 2 n_layers, 3 d_hidden, 4 act, 5 init_scale */
        int value;
        const char *msg;
    } cases[] = {
        {0, 0, "model.d_embed = 0: must be between 1 and"},
        {1, 3, "model.combine = 3: must be concat, sum or onehot"},
        {1, -1, "model.combine = -1: must be concat, sum or onehot"},
        {2, 0, "model.n_layers = 0: must be between 1 and 64"},
        {2, 65, "model.n_layers = 65: must be between 1 and 64"},
        {3, 0, "model.d_hidden = 0: must be between 1 and"},
        {4, 4, "model.act = 4: must be relu, gelu, tanh or square"},
        {5, 0, "model.init_scale = 0: must be > 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mlp_config c = small_config(MLP_COMBINE_CONCAT, MLP_ACT_RELU, 1);
        switch (cases[i].field) {
        case 0: c.d_embed = cases[i].value; break;
        case 1: c.combine = (mlp_combine)cases[i].value; break;
        case 2: c.n_layers = cases[i].value; break;
        case 3: c.d_hidden = cases[i].value; break;
        case 4: c.act = (mlp_act)cases[i].value; break;
        default: c.init_scale = cases[i].value; break;
        }
        grok_err e = {{0}};
        mlp_model m;
        assert_int_equal(mlp_init(&m, &c, &e), GROK_EINVAL);
        printf("# %s\n", e.msg);
        tu_assert_contains(e.msg, cases[i].msg);
        assert_null(m.params);
    }
    assert_string_equal(mlp_act_name(MLP_ACT_TANH), "tanh");
    assert_int_equal(mlp_act_parse("gelu"), MLP_ACT_GELU);
    assert_int_equal(mlp_act_parse("silu"), -1);
    assert_string_equal(mlp_combine_name(MLP_COMBINE_SUM), "sum");
    assert_int_equal(mlp_combine_parse("concat"), MLP_COMBINE_CONCAT);
    assert_int_equal(mlp_combine_parse("mean"), -1);
    assert_int_equal(mlp_combine_parse("onehot"), MLP_COMBINE_ONEHOT);
}

/* The initial draw walks the table: same seed, same bits; biases 0; each
 * weight's sample standard deviation near init_std * init_scale. */
static void test_init(void **state)
{
    (void)state;
    mlp_config c = {.n_ctx = 2, .d_vocab = 60, .d_vocab_out = 50, .d_embed = 40,
                    .combine = MLP_COMBINE_CONCAT, .n_layers = 2, .d_hidden = 100,
                    .act = MLP_ACT_GELU, .init_scale = 0.5};
    mlp_model m, m2;
    grok_err e;
    assert_int_equal(mlp_init(&m, &c, &e), GROK_OK);
    assert_int_equal(mlp_init(&m2, &c, &e), GROK_OK);
    rng *r = rng_alloc(7, RNG_STREAM_INIT, 0), *r2 = rng_alloc(7, RNG_STREAM_INIT, 0);
    mlp_init_params(&m, r);
    mlp_init_params(&m2, r2);
    assert_memory_equal(m.params, m2.params, sizeof(float) * m.n_params);
    for (int i = 0; i < m.n_tensors; i++) {
        const param_tensor *t = &m.tensors[i];
        double ss = 0;
        for (size_t j = 0; j < t->numel; j++)
            ss += (double)m.params[t->offset + j] * m.params[t->offset + j];
        const double sd = sqrt(ss / t->numel), want = t->init_std * 0.5;
        printf("# init %-12s sd %.4f want %.4f (%zu draws)\n", t->name, sd, want, t->numel);
        if (want == 0)
            assert_true(sd == 0);
        else /* sd of n Gaussian draws: relative error about 1/sqrt(2n) <= 2.3% here */
            assert_true(fabs(sd - want) < 0.1 * want);
    }
    rng_free(r), rng_free(r2);
    mlp_free(&m), mlp_free(&m2);
}

/* ------------------------------------------------------------------------ */
/* forward and gradients against the reference */

static void test_forward_matches_reference(void **state)
{
    (void)state;
    enum { N = 37 };
    int32_t tok[3 * N];
    double ref[N * 7];
    for (int comb = 0; comb < MLP_COMBINE_COUNT; comb++)
        for (int act = 0; act < MLP_ACT_COUNT; act++)
            for (int layers = 1; layers <= 2; layers++) {
                mlp_model m;
                tu_xs xs;
                mlp_acts *a = small_setup(&m, (mlp_combine)comb, (mlp_act)act, layers,
                                          7 + comb * 31 + act * 5 + layers, N, tok, NULL, NULL,
                                          &xs);
                const mlp_config c = m.cfg;
                mlp_forward(&m, a, tok, N);
                mlp_forward_ref(&m, tok, N, ref);
                const float *lg = mlp_logits(a);
                double worst = 0, scale = 0;
                for (int i = 0; i < N * 7; i++) {
                    worst = fmax(worst, fabs(lg[i] - ref[i]));
                    scale = fmax(scale, fabs(ref[i]));
                }
                printf("# forward vs reference, %s %s L=%d: max abs err %.2e, max |logit| %.3g\n",
                       mlp_combine_name(c.combine), mlp_act_name(c.act), layers, worst, scale);
                /* fp32 against a float64 recomputation: a few ulps per layer */
                assert_true(worst < 1e-5 * scale);
                mlp_acts_free(a);
                mlp_free(&m);
            }
}

typedef struct {
    const mlp_model *m;
    const int32_t *tok, *lab;
    int N;
    double *scratch;
} loss_ctx;

static double loss_fn(void *ctx)
{
    loss_ctx *l = ctx;
    return ref_loss(l->m, l->tok, l->lab, l->N, l->scratch);
}

static void gradient_check(mlp_combine comb, mlp_act act, int layers)
{
    enum { N = 16 };
    int32_t tok[3 * N], lab[N];
    double scratch[N * 7];
    mlp_model m;
    tu_xs xs;
    mlp_acts *a = small_setup(&m, comb, act, layers, 100 + comb * 31 + act * 5 + layers, N, tok,
                              lab, NULL, &xs);
    for (size_t j = 0; j < m.n_params; j++) /* the backward must overwrite */
        m.grads[j] = NAN;
    const double loss = loss_and_backward(&m, a, tok, lab, N);
    const double lref = ref_loss(&m, tok, lab, N, scratch);
    assert_true(fabs(loss - lref) < 1e-5 * fabs(lref));
    char what[64];
    snprintf(what, sizeof what, "%s %s L=%d", mlp_combine_name(comb), mlp_act_name(act), layers);
    loss_ctx ctx = {&m, tok, lab, N, scratch};
    tu_grad_check(what, m.tensors, m.n_tensors, m.params, m.grads, m.n_params, loss_fn, &ctx, 10,
                  &xs);
    mlp_acts_free(a);
    mlp_free(&m);
}

static void test_grad_concat(void **s)
{
    (void)s;
    for (int act = 0; act < MLP_ACT_COUNT; act++)
        for (int layers = 1; layers <= 2; layers++)
            gradient_check(MLP_COMBINE_CONCAT, (mlp_act)act, layers);
}

static void test_grad_sum(void **s)
{
    (void)s;
    for (int act = 0; act < MLP_ACT_COUNT; act++)
        for (int layers = 1; layers <= 2; layers++)
            gradient_check(MLP_COMBINE_SUM, (mlp_act)act, layers);
}

/* The onehot first layer's gradient is gathered per row of W_0 (no product):
 * finite differences of the reference, which multiplies by the one-hot
 * vectors. */
static void test_grad_onehot(void **s)
{
    (void)s;
    for (int act = 0; act < MLP_ACT_COUNT; act++)
        for (int layers = 1; layers <= 2; layers++)
            gradient_check(MLP_COMBINE_ONEHOT, (mlp_act)act, layers);
}

typedef struct {
    const mlp_model *m;
    double *emb; /* [T, E] the embeddings of one example */
    int i, cls;  /* the element of emb varied; the logit */
    double *scratch;
} logit_ctx;

/* logits[cls] of the reference for one example, emb[i] set to *x */
static double logit_fn(void *ctx, double *x)
{
    logit_ctx *l = ctx;
    l->emb[l->i] = *x;
    mlp_forward_ref_embed(l->m, l->emb, 1, l->scratch);
    return l->scratch[l->cls];
}

static void embed_grad_check(mlp_combine comb, mlp_act act, int layers)
{
    enum { N = 12 };
    int32_t tok[3 * N], cls[N];
    mlp_model m;
    tu_xs xs;
    mlp_acts *a = small_setup(&m, comb, act, layers, 200 + comb * 31 + act * 5 + layers, N, tok,
                              NULL, cls, &xs);
    const int T = m.cfg.n_ctx, E = mlp_embed_width(&m.cfg), V = m.cfg.d_vocab,
              Vo = m.cfg.d_vocab_out;
    const int onehot = comb == MLP_COMBINE_ONEHOT;
    float *eg = malloc(sizeof(float) * N * T * E);
    double *emb = malloc(sizeof(double) * T * E), scratch[7];
    assert_true(eg && emb);
    mlp_forward(&m, a, tok, N);
    const float *lg = mlp_logits(a);
    float *lg_before = malloc(sizeof(float) * N * Vo);
    memcpy(lg_before, lg, sizeof(float) * N * Vo);
    mlp_embed_grad(&m, a, tok, cls, N, eg);
    assert_memory_equal(lg_before, mlp_logits(a), sizeof(float) * N * Vo);

    /* finite differences of the reference, every element */
    double gmax = 0, worst = 0;
    int checked = 0, skipped = 0;
    for (int i = 0; i < N * T * E; i++)
        gmax = fmax(gmax, fabs(eg[i]));
    for (int n = 0; n < N; n++) {
        for (int i = 0; i < T * E; i++)
            emb[i] = onehot ? (double)(i % E == tok[n * T + i / E])
                            : m.p.W_E[(size_t)tok[n * T + i / E] * E + i % E];
        for (int i = 0; i < T * E; i++) {
            logit_ctx ctx = {&m, emb, i, cls[n], scratch};
            const double x0 = emb[i];
            int skip;
            const double want = tu_fd_central(logit_fn, &ctx, x0, &skip);
            emb[i] = x0;
            if (skip) {
                skipped++;
                continue;
            }
            const double g = eg[(size_t)n * T * E + i], err = fabs(g - want);
            const double tol = 1e-4 * fabs(want) + 1e-5 * gmax;
            if (!(err <= tol))
                fail_msg("embed_grad[%d, %d, %d]: %.9g, finite difference %.9g (err %.3g > %.3g)",
                         n, i / E, i % E, g, want, err, tol);
            worst = fmax(worst, err / (gmax + 1e-30));
            checked++;
        }
    }

    printf("# embed_grad %s %s L=%d: %d elements vs finite differences, %d skipped at kinks, "
           "max err %.2e of max |g| %.3g\n",
           mlp_combine_name(comb), mlp_act_name(act), layers, checked, skipped, worst, gmax);
    assert_true(skipped * 5 < checked);
    if (onehot) { /* no W_E: the identity below does not apply */
        free(lg_before), free(eg), free(emb);
        mlp_acts_free(a);
        mlp_free(&m);
        return;
    }

    /* identity: with dlogits = onehot(cls), the backward's dW_E[v] is the sum of
     * embed_grad over the (n, t) where tokens[n, t] = v */
    float *dl = mlp_dlogits(a);
    for (int i = 0; i < N * Vo; i++)
        dl[i] = (i % Vo) == cls[i / Vo];
    mlp_backward(&m, a, tok, N);
    float *want = calloc((size_t)V * E, sizeof(float));
    assert_non_null(want);
    for (int i = 0; i < N * T; i++)
        for (int d = 0; d < E; d++)
            want[(size_t)tok[i] * E + d] += eg[(size_t)i * E + d];
    tu_check_close_f("dW_E (backward, one-hot) vs scattered embed_grad", m.g.W_E, want,
                     (size_t)V * E, (tu_tol){.abs = 1e-5 * gmax * N, .rel = 1e-5});
    free(want), free(lg_before), free(eg), free(emb);
    mlp_acts_free(a);
    mlp_free(&m);
}

static void test_embed_grad(void **s)
{
    (void)s;
    for (int comb = 0; comb < MLP_COMBINE_COUNT; comb++)
        for (int act = 0; act < MLP_ACT_COUNT; act++)
            embed_grad_check((mlp_combine)comb, (mlp_act)act, 1 + (act == MLP_ACT_GELU));
}

/* ------------------------------------------------------------------------ */
/* threads */

static void test_threads_same_bits(void **state)
{
    (void)state;
    /* sizes above LA_PARALLEL_MIN_FLOPS, so that BLIS runs threaded too; the
     * second variant's bias gradients (1 x H x N products) are threaded as well */
    static const struct {
        int N, T, E, H, L;
        mlp_combine comb;
        mlp_act act;
    } var[] = {
        {600, 3, 32, 256, 2, MLP_COMBINE_CONCAT, MLP_ACT_GELU},
        {4096, 2, 32, 1024, 1, MLP_COMBINE_CONCAT, MLP_ACT_RELU},
        {600, 3, 64, 256, 2, MLP_COMBINE_SUM, MLP_ACT_TANH},
        {2000, 2, 0, 200, 2, MLP_COMBINE_ONEHOT, MLP_ACT_RELU}, /* Prieto et al.'s shape */
    };
    for (size_t v = 0; v < sizeof var / sizeof var[0]; v++) {
        const int N = var[v].N, T = var[v].T, p = 31;
        mlp_config c = {.n_ctx = T, .d_vocab = T == 3 ? p + 1 : p, .d_vocab_out = p,
                        .d_embed = var[v].E, .combine = var[v].comb, .n_layers = var[v].L,
                        .d_hidden = var[v].H, .act = var[v].act, .init_scale = 1.0};
        mlp_model m;
        grok_err e;
        assert_int_equal(mlp_init(&m, &c, &e), GROK_OK);
        tu_xs xs;
        fill_params(&m, 5 + v, &xs);
        int32_t *tok = malloc(sizeof(int32_t) * T * N), *lab = malloc(sizeof(int32_t) * N),
                *cls = malloc(sizeof(int32_t) * N);
        make_batch(tok, lab, cls, N, T, p, &xs);
        mlp_acts *a = mlp_acts_alloc(&m, N);
        const size_t neg = (size_t)N * T * mlp_embed_width(&c);
        float *g1 = malloc(sizeof(float) * m.n_params), *l1 = malloc(sizeof(float) * N * p),
              *eg1 = malloc(sizeof(float) * neg), *eg = malloc(sizeof(float) * neg);
        assert_true(tok && lab && cls && a && g1 && l1 && eg1 && eg);
        double loss[2];
        for (int threads = 1; threads <= 2; threads++) {
            la_set_threads(threads);
            loss[threads - 1] = loss_and_backward(&m, a, tok, lab, N);
            mlp_embed_grad(&m, a, tok, cls, N, threads == 1 ? eg1 : eg);
            if (threads == 1) {
                memcpy(g1, m.grads, sizeof(float) * m.n_params);
                memcpy(l1, mlp_logits(a), sizeof(float) * N * p);
            }
        }
        la_set_threads(2);
        assert_memory_equal(l1, mlp_logits(a), sizeof(float) * N * p);
        assert_memory_equal(g1, m.grads, sizeof(float) * m.n_params);
        assert_memory_equal(eg1, eg, sizeof(float) * neg);
        assert_memory_equal(&loss[0], &loss[1], sizeof(double));
        printf("# %s %s L=%d N=%d H=%d: logits, loss, %zu gradients and embed_grad identical "
               "with 1 and 2 threads\n",
               mlp_combine_name(c.combine), mlp_act_name(c.act), c.n_layers, N, c.d_hidden,
               m.n_params);
        free(tok), free(lab), free(cls), free(g1), free(l1), free(eg1), free(eg);
        mlp_acts_free(a);
        mlp_free(&m);
    }
}

/* ------------------------------------------------------------------------ */
/* golden fixtures (tests/gen_mlp_golden.py) */

/* The tolerances of test_golden.c, for the same reasons (float32 on both
 * sides, different summation orders; see that file): logits 1e-5 + 1e-4 |want|;
 * a gradient 1e-6 + 1e-4 max|want| of its tensor; AdamW 1e-5 per element, plus
 * 2.01 lr per step so far for an element whose reference gradient was within
 * the gradient tolerance of 0 at some step (its sign, hence Adam's step, is
 * then a coin toss).  tests/gen_mlp_golden.py checks that a float64 torch
 * computation passes them. */
#define TOL_LOGIT_ABS 1e-5
#define TOL_LOGIT_REL 1e-4
#define TOL_GRAD_REL_MAX 1e-4
#define TOL_GRAD_ABS 1e-6
#define TOL_ADAM_ABS 1e-5
#define ADAM_FLIP 2.01

typedef struct {
    st_file f;
    mlp_config cfg;
    optim_config oc;
    mlp_model m;
    mlp_acts *a;
    int n;
    int32_t *tokens, *labels, *cls;
} golden;

static const st_tensor *fx_get(const golden *g, const char *name, st_dtype dt, size_t numel)
{
    const st_tensor *t = st_find(&g->f, name);
    if (!t || t->dtype != dt || st_tensor_numel(t) != numel)
        fail_msg("fixture tensor '%s': missing, or not %s with %zu elements", name,
                 st_dtype_name(dt), numel);
    return t;
}

static double meta_num(const golden *g, const char *key)
{
    const char *s = st_meta_get(&g->f, key);
    char *end;
    if (!s)
        fail_msg("fixture metadata '%s' missing", key);
    errno = 0;
    const double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        fail_msg("fixture metadata %s = '%s': not a finite number", key, s);
    return v;
}

static int meta_enum(const golden *g, const char *key, int (*parse)(const char *))
{
    const char *s = st_meta_get(&g->f, key);
    const int v = s ? parse(s) : -1;
    if (v < 0)
        fail_msg("fixture metadata %s = '%s': unknown", key, s ? s : "");
    return v;
}

/* prefix + every table name into dst [n_params], checking shapes */
static void fx_load(const golden *g, const char *prefix, float *dst)
{
    for (int i = 0; i < g->m.n_tensors; i++) {
        const param_tensor *t = &g->m.tensors[i];
        char name[PARAM_NAME_MAX + 16];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *s = fx_get(g, name, ST_F32, t->numel);
        assert_int_equal(s->ndim, t->ndim);
        for (int d = 0; d < t->ndim; d++)
            assert_int_equal(s->shape[d], t->shape[d]);
        memcpy(dst + t->offset, s->data, sizeof(float) * t->numel);
    }
}

static void golden_load(golden *g, const char *fixture)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.safetensors", GOLDEN_DIR, fixture);
    grok_err e = {{0}};
    if (st_read(&g->f, path, &e) != GROK_OK)
        fail_msg("%s (run from the repository root; tests/gen_mlp_golden.py writes it)", e.msg);
    g->cfg = (mlp_config){.n_ctx = (int)meta_num(g, "n_ctx"),
                          .d_vocab = (int)meta_num(g, "d_vocab"),
                          .d_vocab_out = (int)meta_num(g, "d_vocab_out"),
                          .d_embed = (int)meta_num(g, "d_embed"),
                          .combine = (mlp_combine)meta_enum(g, "combine", mlp_combine_parse),
                          .n_layers = (int)meta_num(g, "n_layers"),
                          .d_hidden = (int)meta_num(g, "d_hidden"),
                          .act = (mlp_act)meta_enum(g, "act", mlp_act_parse),
                          .init_scale = 1.0};
    g->oc = (optim_config){.kind = OPTIM_ADAMW, .lr = meta_num(g, "lr"),
                           .beta1 = meta_num(g, "beta1"), .beta2 = meta_num(g, "beta2"),
                           .eps = meta_num(g, "eps"), .weight_decay = meta_num(g, "weight_decay")};
    if (mlp_init(&g->m, &g->cfg, &e) != GROK_OK)
        fail_msg("%s: %s", fixture, e.msg);
    g->n = (int)meta_num(g, "n_examples");
    const int N = g->n, T = g->cfg.n_ctx;
    g->tokens = malloc(sizeof(int32_t) * N * T);
    g->labels = malloc(sizeof(int32_t) * N);
    g->cls = malloc(sizeof(int32_t) * N);
    g->a = mlp_acts_alloc(&g->m, N);
    assert_true(g->tokens && g->labels && g->cls && g->a);
    memcpy(g->tokens, fx_get(g, "tokens", ST_I32, (size_t)N * T)->data, sizeof(int32_t) * N * T);
    memcpy(g->labels, fx_get(g, "labels", ST_I32, N)->data, sizeof(int32_t) * N);
    memcpy(g->cls, fx_get(g, "embed_cls", ST_I32, N)->data, sizeof(int32_t) * N);
    for (int i = 0; i < N * T; i++)
        assert_true(g->tokens[i] >= 0 && g->tokens[i] < g->cfg.d_vocab);
    for (int i = 0; i < N; i++)
        assert_true(g->labels[i] >= 0 && g->labels[i] < g->cfg.d_vocab_out && g->cls[i] >= 0 &&
                    g->cls[i] < g->cfg.d_vocab_out);
    fx_load(g, "", g->m.params);
    /* the fixture's parameters lie back to back in table order: its layout is the buffer's */
    const char *base = fx_get(g, g->m.tensors[0].name, ST_F32, g->m.tensors[0].numel)->data;
    for (int i = 0; i < g->m.n_tensors; i++)
        assert_int_equal((const char *)st_find(&g->f, g->m.tensors[i].name)->data - base,
                         g->m.tensors[i].offset * sizeof(float));
    printf("# %s: %s %s L=%d T=%d V=%d Vo=%d E=%d H=%d, N=%d, %zu parameters\n", fixture,
           mlp_combine_name(g->cfg.combine), mlp_act_name(g->cfg.act), g->cfg.n_layers, T,
           g->cfg.d_vocab, g->cfg.d_vocab_out, g->cfg.d_embed, g->cfg.d_hidden, N, g->m.n_params);
}

static void golden_free(golden *g)
{
    mlp_acts_free(g->a);
    mlp_free(&g->m);
    st_file_free(&g->f);
    free(g->tokens), free(g->labels), free(g->cls);
}

/* Elements of got outside |got - want| <= abs + rel_max * max|want| + extra[i]
 * (extra may be NULL); prints the worst. */
static size_t n_outside(const char *what, const float *got, const float *want, size_t n,
                        double abs, double rel_max, const double *extra)
{
    double mx = 0, worst = 0;
    size_t bad = 0, wi = 0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        const double tol = abs + rel_max * mx + (extra ? extra[i] : 0);
        const double r = fabs((double)got[i] - want[i]) / tol;
        if (!(r <= 1))
            bad++;
        if (!(r <= worst))
            worst = r, wi = i;
    }
    printf("#   %-28s n=%-5zu worst %.2g of tol at [%zu] (got %.9g want %.9g)%s\n", what, n, worst,
           wi, got[wi], want[wi], bad ? "  <-- outside" : "");
    return bad;
}

/* gradients tensor by tensor: the number of tensors outside tolerance */
static int grads_outside(const golden *g, const char *what, const float *got, const float *want)
{
    int bad = 0;
    for (int i = 0; i < g->m.n_tensors; i++) {
        const param_tensor *t = &g->m.tensors[i];
        char name[80];
        snprintf(name, sizeof name, "%s.%s", what, t->name);
        bad += n_outside(name, got + t->offset, want + t->offset, t->numel, TOL_GRAD_ABS,
                         TOL_GRAD_REL_MAX, NULL) > 0;
    }
    return bad;
}

static void golden_check(const char *fixture)
{
    golden g = {0};
    golden_load(&g, fixture);
    mlp_model *m = &g.m;
    const int N = g.n, Vo = g.cfg.d_vocab_out, H = g.cfg.d_hidden;
    const size_t nv = (size_t)N * Vo, np = m->n_params;
    int bad = 0;

    /* forward */
    mlp_forward(m, g.a, g.tokens, N);
    const float *want32 = fx_get(&g, "logits", ST_F32, nv)->data;
    const double *want64 = fx_get(&g, "logits_f64", ST_F64, nv)->data; /* F64s come first: aligned */
    tu_check_close_f("logits vs torch f32", mlp_logits(g.a), want32, nv,
                     (tu_tol){.abs = TOL_LOGIT_ABS, .rel = TOL_LOGIT_REL});
    double *lg = malloc(sizeof(double) * nv), *ref = malloc(sizeof(double) * nv);
    assert_true(lg && ref);
    for (size_t i = 0; i < nv; i++)
        lg[i] = mlp_logits(g.a)[i];
    tu_check_close_d("logits vs f64 loops", lg, want64, nv,
                     (tu_tol){.abs = TOL_LOGIT_ABS, .rel = TOL_LOGIT_REL});
    /* both float64 from the same float32 parameters: only the rounding order differs */
    mlp_forward_ref(m, g.tokens, N, ref);
    tu_check_close_d("mlp_forward_ref vs f64 loops", ref, want64, nv,
                     (tu_tol){.rel = 1e-12, .floor = 1});
    tu_check_close_f("hidden_last vs torch f32", mlp_hidden_last(g.a),
                     fx_get(&g, "act.hidden_last", ST_F32, (size_t)N * H)->data, (size_t)N * H,
                     (tu_tol){.abs = TOL_LOGIT_ABS, .rel = TOL_LOGIT_REL});

    /* the loss (both sides float64 from float32 logits within the logit tolerance) */
    const double loss = ce_loss(lg, g.labels, N, Vo, NULL);
    const double want_loss = *(const double *)fx_get(&g, "loss", ST_F64, 1)->data;
    printf("#   loss C %.15g torch %.15g\n", loss, want_loss);
    assert_true(fabs(loss - want_loss) < 1e-6 * fabs(want_loss));

    /* embed_grad */
    const size_t ne = (size_t)N * g.cfg.n_ctx * g.cfg.d_embed;
    float *eg = malloc(sizeof(float) * ne), *want = malloc(sizeof(float) * np),
          *saved = malloc(sizeof(float) * np);
    assert_true(eg && want && saved);
    mlp_embed_grad(m, g.a, g.tokens, g.cls, N, eg);
    bad += n_outside("embed_grad", eg, fx_get(&g, "embed_grad", ST_F32, ne)->data, ne,
                     TOL_GRAD_ABS, TOL_GRAD_REL_MAX, NULL) > 0;

    /* two training steps: forward, loss, backward, AdamW */
    optim_state os;
    grok_err e = {{0}};
    assert_int_equal(optim_init(&os, &g.oc, np, &e), GROK_OK);
    double *extra = calloc(np, sizeof(double));
    unsigned char *amb = calloc(np, 1);
    assert_true(extra && amb);
    static const char *const grad_key[2] = {"grad.", "grad1."}, *const par_key[2] = {"adamw1.",
                                                                                     "adamw2."};
    double lr_sum = 0;
    for (int step = 0; step < 2; step++) {
        loss_and_backward(m, g.a, g.tokens, g.labels, N);
        fx_load(&g, grad_key[step], want);
        bad += grads_outside(&g, step ? "grad1" : "grad", m->grads, want);
        if (step == 0) {
            /* the comparison can fail: doubled gradients are rejected in every tensor */
            for (size_t i = 0; i < np; i++)
                saved[i] = 2 * m->grads[i];
            printf("#   (doubled gradients, each must be outside:)\n");
            assert_int_equal(grads_outside(&g, "2*grad", saved, want), m->n_tensors);
        }
        for (int i = 0; i < m->n_tensors; i++) {
            const param_tensor *t = &m->tensors[i];
            double mx = 0;
            for (size_t j = 0; j < t->numel; j++)
                mx = fmax(mx, fabs(want[t->offset + j]));
            for (size_t j = t->offset; j < t->offset + t->numel; j++)
                if (fabs(want[j]) <= TOL_GRAD_ABS + TOL_GRAD_REL_MAX * mx &&
                    (want[j] != 0 || m->grads[j] != 0))
                    amb[j] = 1;
        }
        lr_sum += optim_lr(&os);
        optim_step(&os, m->params, m->grads);
        size_t n_amb = 0;
        for (size_t j = 0; j < np; j++) {
            extra[j] = amb[j] ? ADAM_FLIP * lr_sum : 0;
            n_amb += amb[j];
        }
        fx_load(&g, par_key[step], want);
        char what[32];
        snprintf(what, sizeof what, "adamw%d (%zu ambiguous)", step + 1, n_amb);
        bad += n_outside(what, m->params, want, np, TOL_ADAM_ABS, 0, extra) > 0;
    }
    optim_free(&os);
    free(extra), free(amb), free(eg), free(want), free(saved), free(lg), free(ref);
    golden_free(&g);
    if (bad)
        fail_msg("%s: %d comparison(s) outside tolerance (see above)", fixture, bad);
}

static void test_golden_concat_relu_l1(void **s) { (void)s, golden_check("mlp_concat_relu_l1"); }
static void test_golden_sum_gelu_l2(void **s) { (void)s, golden_check("mlp_sum_gelu_l2"); }
static void test_golden_concat_tanh_l2(void **s) { (void)s, golden_check("mlp_concat_tanh_l2"); }

/* model.bias = false (no_bias): the table has no mlp.l.b and no unembed.b_U;
 * the forward equals, bit for bit, the model with biases whose biases are 0
 * and whose weights are the same; the backward passes finite differences of
 * the reference. */
static void test_no_bias(void **state)
{
    (void)state;
    enum { N = 16 };
    int32_t tok[3 * N], lab[N];
    double scratch[N * 7];
    const mlp_combine combs[2] = {MLP_COMBINE_ONEHOT, MLP_COMBINE_CONCAT};
    const mlp_act acts[2] = {MLP_ACT_SQUARE, MLP_ACT_RELU};
    for (int k = 0; k < 2; k++)
        for (int layers = 1; layers <= 2; layers++) {
            mlp_config c = small_config(combs[k], acts[k], layers), cb = c;
            c.no_bias = 1;
            mlp_model m, mb;
            grok_err e;
            assert_int_equal(mlp_init(&m, &c, &e), GROK_OK);
            assert_int_equal(mlp_init(&mb, &cb, &e), GROK_OK);
            assert_null(mlp_find(&m, "mlp.0.b"));
            assert_null(mlp_find(&m, "unembed.b_U"));
            assert_null(m.p.b_U);
            assert_int_equal(mb.n_params - m.n_params,
                             (size_t)layers * c.d_hidden + (size_t)c.d_vocab_out);
            tu_xs xs;
            fill_params(&m, 500 + k * 7 + layers, &xs);
            make_batch(tok, lab, NULL, N, c.n_ctx, 7, &xs);
            /* the same weights in the model with biases, its biases 0 */
            memset(mb.params, 0, mb.n_params * sizeof(float));
            for (int i = 0; i < m.n_tensors; i++) {
                const param_tensor *t = &m.tensors[i], *tb = mlp_find(&mb, t->name);
                assert_non_null(tb);
                memcpy(mb.params + tb->offset, m.params + t->offset, t->numel * sizeof(float));
            }
            mlp_acts *a = mlp_acts_alloc(&m, N), *ab = mlp_acts_alloc(&mb, N);
            mlp_forward(&m, a, tok, N);
            mlp_forward(&mb, ab, tok, N);
            assert_memory_equal(mlp_logits(a), mlp_logits(ab), sizeof(float) * N * 7);
            for (size_t j = 0; j < m.n_params; j++) /* the backward must overwrite */
                m.grads[j] = NAN;
            const double loss = loss_and_backward(&m, a, tok, lab, N);
            assert_true(fabs(loss - ref_loss(&m, tok, lab, N, scratch)) < 1e-5 * fabs(loss));
            char what[64];
            snprintf(what, sizeof what, "no bias, %s %s L=%d", mlp_combine_name(c.combine),
                     mlp_act_name(c.act), layers);
            loss_ctx ctx = {&m, tok, lab, N, scratch};
            tu_grad_check(what, m.tensors, m.n_tensors, m.params, m.grads, m.n_params, loss_fn,
                          &ctx, 10, &xs);
            printf("# %s: %zu parameters (%zu with biases), logits equal to the zero-bias "
                   "model's bits\n", what, m.n_params, mb.n_params);
            mlp_acts_free(a), mlp_acts_free(ab);
            mlp_free(&m), mlp_free(&mb);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_grad_concat),
        cmocka_unit_test(test_grad_sum),
        cmocka_unit_test(test_grad_onehot),
        cmocka_unit_test(test_no_bias),
        cmocka_unit_test(test_embed_grad),
        cmocka_unit_test(test_threads_same_bits),
        cmocka_unit_test(test_golden_concat_relu_l1),
        cmocka_unit_test(test_golden_sum_gelu_l2),
        cmocka_unit_test(test_golden_concat_tanh_l2),
    };
    return cmocka_run_group_tests_name("mlp", tests, NULL, NULL);
}
