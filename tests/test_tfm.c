/* test_tfm.c: the transformer against its definitions.
 *
 * - The parameter table: TransformerLens names, shapes, contiguous offsets,
 *   and the default model's parameter count.
 * - The fast forward (tables, last-position rule, BLIS) against the naive
 *   double-precision reference tfm_forward_ref, for 1 and 2 layers, LayerNorm
 *   on and off, ReLU and GELU, attention biases on and off.
 * - Finite-difference gradient check of every parameter tensor: central
 *   differences of the reference's float64 loss, against tfm_backward; also
 *   without the causal mask and with model.attn_rate 0 and 0.5 (where the
 *   forward is also checked against the reference and the mixed weights).
 * - Same bits with 1 and 2 threads; la_gemm against la_gemm_ref with strides.
 * - The float64 loss against a direct computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "linalg.h"
#include "testutil.h"
#include "tfm.h"

static tfm_config small_config(int layers, int ln, tfm_act act, int bias)
{
    tfm_config c = {.n_layers = layers, .d_model = 12, .n_heads = 3, .d_head = 4, .d_mlp = 20,
                    .d_vocab = 8, .d_vocab_out = 7, .n_ctx = 3, .act = act, .layernorm = ln,
                    .attn_bias = bias, .init_scale = 1.0};
    return c;
}

/* Fills parameters with Gaussians of the tensor's init scale; LayerNorm and
 * biases get non-trivial values so that every path is exercised.  Seeds g
 * from seed; make_batch goes on with it. */
static void fill_params(tfm_model *m, uint64_t seed, tu_xs *g)
{
    g->s = seed * 2654435761u + 12345;
    for (int i = 0; i < m->n_tensors; i++) {
        const tfm_tensor *t = &m->tensors[i];
        for (size_t j = 0; j < t->numel; j++) {
            double x = tu_xs_normal(g);
            m->params[t->offset + j] =
                (float)(t->init_std > 0 ? x * t->init_std * 1.5 : t->init_value + 0.2 * x);
        }
    }
}

static void make_batch(int32_t *tok, int32_t *lab, int N, int p, tu_xs *g)
{
    for (int n = 0; n < N; n++) {
        int a = (int)(tu_xs_uniform(g) * p), b = (int)(tu_xs_uniform(g) * p);
        tok[3 * n] = a, tok[3 * n + 1] = b, tok[3 * n + 2] = p;
        lab[n] = (a + b) % p;
    }
}

static double ref_loss(const tfm_model *m, const int32_t *tok, const int32_t *lab, int N,
                       double *logits)
{
    const int Vo = m->cfg.d_vocab_out;
    tfm_forward_ref(m, tok, N, logits);
    double total = 0;
    for (int n = 0; n < N; n++) {
        const double *x = logits + (size_t)n * Vo;
        double mx = x[0], s = 0;
        for (int j = 1; j < Vo; j++)
            mx = x[j] > mx ? x[j] : mx;
        for (int j = 0; j < Vo; j++)
            s += exp(x[j] - mx);
        total += mx + log(s) - x[lab[n]];
    }
    return total / N;
}

static void test_table_default(void **state)
{
    (void)state;
    tfm_config c = {.n_layers = 1, .d_model = 128, .n_heads = 4, .d_head = 32, .d_mlp = 512,
                    .d_vocab = 114, .d_vocab_out = 113, .n_ctx = 3, .act = TFM_ACT_RELU,
                    .init_scale = 1.0};
    tfm_model m;
    grok_err e;
    assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
    const char *names[] = {"embed.W_E",         "pos_embed.W_pos",    "blocks.0.attn.W_Q",
                           "blocks.0.attn.W_K", "blocks.0.attn.W_V",  "blocks.0.attn.W_O",
                           "blocks.0.mlp.W_in", "blocks.0.mlp.b_in",  "blocks.0.mlp.W_out",
                           "blocks.0.mlp.b_out", "unembed.W_U"};
    assert_int_equal(m.n_tensors, 11);
    size_t off = 0;
    for (int i = 0; i < m.n_tensors; i++) {
        assert_string_equal(m.tensors[i].name, names[i]);
        assert_int_equal(m.tensors[i].offset, off);
        off += m.tensors[i].numel;
    }
    assert_int_equal(m.n_params, 226688);
    const tfm_tensor *wq = tfm_find(&m, "blocks.0.attn.W_Q");
    assert_non_null(wq);
    assert_int_equal(wq->shape[0], 4);
    assert_int_equal(wq->shape[1], 128);
    assert_int_equal(wq->shape[2], 32);
    const tfm_tensor *wo = tfm_find(&m, "blocks.0.attn.W_O");
    assert_int_equal(wo->shape[1], 32);
    assert_int_equal(wo->shape[2], 128);
    const tfm_tensor *wu = tfm_find(&m, "unembed.W_U");
    assert_int_equal(wu->shape[0], 128);
    assert_int_equal(wu->shape[1], 113);
    assert_true(fabs(wu->init_std - 1 / sqrt(114.0)) < 1e-12);
    assert_true(m.p.blocks[0].W_Q == m.params + wq->offset);
    assert_null(m.p.blocks[0].ln1_w);
    assert_null(m.p.blocks[0].b_Q);
    printf("# default table: %d tensors, %zu parameters\n", m.n_tensors, m.n_params);
    tfm_free(&m);

    c.n_layers = 0;
    assert_int_equal(tfm_init(&m, &c, &e), GROK_EINVAL);
    assert_non_null(strstr(e.msg, "model.n_layers = 0"));
}

static void test_forward_matches_reference(void **state)
{
    (void)state;
    const int N = 37;
    int32_t tok[3 * 37], lab[37];
    double ref[37 * 7];
    for (int layers = 1; layers <= 2; layers++)
        for (int ln = 0; ln <= 1; ln++)
            for (int act = 0; act < TFM_ACT_COUNT; act++) {
                tfm_config c = small_config(layers, ln, (tfm_act)act, ln);
                tfm_model m;
                grok_err e;
                assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
                tu_xs xs;
                fill_params(&m, 7 + layers * 10 + ln * 3 + act, &xs);
                make_batch(tok, lab, N, 7, &xs);
                tfm_acts *a = tfm_acts_alloc(&m, N);
                tfm_forward(&m, a, tok, N);
                tfm_forward_ref(&m, tok, N, ref);
                const float *lg = tfm_logits(a);
                double worst = 0, scale = 0;
                for (int i = 0; i < N * 7; i++) {
                    worst = fmax(worst, fabs(lg[i] - ref[i]));
                    scale = fmax(scale, fabs(ref[i]));
                }
                printf("# forward vs reference, L=%d ln=%d %s: max abs err %.2e, max |logit| %.3g\n",
                       layers, ln, tfm_act_name((tfm_act)act), worst, scale);
                /* fp32 activations against a float64 recomputation: a few ulps per layer,
                 * relative to the logits' scale */
                assert_true(worst < 1e-5 * scale);
                tfm_acts_free(a);
                tfm_free(&m);
            }
}

typedef struct {
    const tfm_model *m;
    const int32_t *tok, *lab;
    int N;
    double *scratch;
} loss_ctx;

/* The reference's float64 loss, for tu_grad_check. */
static double loss_fn(void *ctx)
{
    const loss_ctx *l = ctx;
    return ref_loss(l->m, l->tok, l->lab, l->N, l->scratch);
}

/* bidirectional: no causal mask; uniform: attn_uniform = 1 - model.attn_rate */
static void gradient_check_attn(int layers, int ln, tfm_act act, int bias, int bidirectional,
                                double uniform, int normed)
{
    const int N = 16;
    int32_t tok[3 * 16], lab[16];
    double scratch[16 * 7];
    tfm_config c = small_config(layers, ln, act, bias);
    c.bidirectional = bidirectional;
    c.attn_uniform = uniform;
    c.normed_residual = normed;
    tfm_model m;
    grok_err e;
    assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
    tu_xs xs;
    fill_params(&m, 100 + layers * 10 + ln * 3 + act + bias * 7, &xs);
    make_batch(tok, lab, N, 7, &xs);
    tfm_acts *a = tfm_acts_alloc(&m, N);
    tfm_forward(&m, a, tok, N);
    double loss = tfm_loss(a, lab, N, NULL, NULL, 1);
    tfm_backward(&m, a, tok, N);
    double lref = ref_loss(&m, tok, lab, N, scratch);
    assert_true(fabs(loss - lref) < 1e-5 * fabs(lref));

    char what[96];
    snprintf(what, sizeof what, "L=%d ln=%d%s %s bias=%d%s attn_rate=%g", layers, ln,
             normed ? " normed_residual" : "", tfm_act_name(act), bias,
             bidirectional ? " bidirectional" : "", 1 - uniform);
    if (uniform == 1) {
        /* attn_rate 0: the weights do not depend on the queries and keys */
        for (int l = 0; l < layers; l++) {
            const size_t nq = (size_t)c.n_heads * c.d_model * c.d_head;
            for (size_t j = 0; j < nq; j++)
                assert_true(m.g.blocks[l].W_Q[j] == 0 && m.g.blocks[l].W_K[j] == 0);
        }
        printf("# %s: W_Q and W_K gradients exactly 0\n", what);
    }
    loss_ctx ctx = {&m, tok, lab, N, scratch};
    tu_grad_check(what, m.tensors, m.n_tensors, m.params, m.grads, m.n_params, loss_fn, &ctx, 8,
                  &xs);
    tfm_acts_free(a);
    tfm_free(&m);
}

static void gradient_check(int layers, int ln, tfm_act act, int bias)
{
    gradient_check_attn(layers, ln, act, bias, 0, 0, 0);
}

static void test_grad_l1_relu(void **s) { (void)s, gradient_check(1, 0, TFM_ACT_RELU, 0); }
static void test_grad_l1_gelu_ln(void **s) { (void)s, gradient_check(1, 1, TFM_ACT_GELU, 1); }
static void test_grad_l2_relu_ln(void **s) { (void)s, gradient_check(2, 1, TFM_ACT_RELU, 0); }
static void test_grad_l2_gelu(void **s) { (void)s, gradient_check(2, 0, TFM_ACT_GELU, 1); }
/* model.causal = false: every position attends to every position */
static void test_grad_bidirectional(void **s)
{
    (void)s;
    gradient_check_attn(2, 1, TFM_ACT_GELU, 1, 1, 0, 0);
    gradient_check_attn(2, 0, TFM_ACT_RELU, 0, 1, 0, 0);
}

/* model.attn_rate 0 and 0.5 (attn_uniform 1 and 0.5), causal and not, 1 and
 * 2 layers: every path of the attention backward (layer 0's tables, the
 * layers above, the last position only) */
static void test_grad_attn_rate(void **s)
{
    (void)s;
    for (int bi = 0; bi <= 1; bi++) {
        gradient_check_attn(1, 0, TFM_ACT_RELU, 0, bi, 1.0, 0);
        gradient_check_attn(2, 1, TFM_ACT_GELU, 1, bi, 1.0, 0);
        gradient_check_attn(1, 1, TFM_ACT_GELU, 1, bi, 0.5, 0);
        gradient_check_attn(2, 0, TFM_ACT_RELU, 0, bi, 0.5, 0);
    }
}

/* The fast forward matches the float64 reference with attn_rate 0 and 0.5,
 * the logits move away from the softmax model's, and tfm_attn_last returns
 * the mixed weights: rate * softmax + (1 - rate) on the allowed positions
 * (with rate 0: exactly 1 there and 0 elsewhere). */
static void test_forward_attn_rate(void **state)
{
    (void)state;
    enum { NB = 23, VO = 7 };
    int32_t tok[3 * NB], lab[NB];
    double ref[NB * VO];
    float soft_logits[NB * VO], soft_att[NB * 3 * 3], att[NB * 3 * 3];
    for (int layers = 1; layers <= 2; layers++)
        for (int bi = 0; bi <= 1; bi++)
            for (int k = 0; k < 3; k++) {
                const double uniform = k == 0 ? 0 : k == 1 ? 0.5 : 1;
                tfm_config c = small_config(layers, 1, TFM_ACT_GELU, 1);
                c.bidirectional = bi;
                c.attn_uniform = uniform;
                tfm_model m;
                grok_err e;
                assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
                tu_xs xs;
                fill_params(&m, 77 + layers, &xs);
                make_batch(tok, lab, NB, VO, &xs);
                tfm_acts *a = tfm_acts_alloc(&m, NB);
                tfm_forward(&m, a, tok, NB);
                tfm_forward_ref(&m, tok, NB, ref);
                tfm_attn_last(a, 0, att);
                const float *lg = tfm_logits(a);
                double worst = 0, scale = 0, moved = 0, att_err = 0;
                for (int i = 0; i < NB * VO; i++) {
                    worst = fmax(worst, fabs(lg[i] - ref[i]));
                    scale = fmax(scale, fabs(ref[i]));
                    if (k == 0)
                        soft_logits[i] = lg[i];
                    else
                        moved = fmax(moved, fabs(lg[i] - soft_logits[i]));
                }
                /* layer 0's last query (position 2) sees every position */
                for (int i = 0; i < NB * 3 * 3; i++) {
                    if (k == 0)
                        soft_att[i] = att[i];
                    const double want = (1 - uniform) * soft_att[i] + uniform;
                    att_err = fmax(att_err, fabs(att[i] - want));
                    if (k == 2)
                        assert_true(att[i] == 1.0f);
                }
                printf("# L=%d %s attn_rate=%g: max abs err vs reference %.2e; change from "
                       "softmax %.3g; weights vs rate*softmax + 1 - rate %.2e\n",
                       layers, bi ? "bidirectional" : "causal", 1 - uniform, worst, moved,
                       att_err);
                assert_true(worst < 1e-5 * scale);
                assert_true(att_err < 1e-6);
                if (k > 0)
                    assert_true(moved > 1e-3);
                tfm_acts_free(a);
                tfm_free(&m);
            }
    /* attn_rate outside [0, 1] is refused */
    tfm_config c = small_config(1, 0, TFM_ACT_RELU, 0);
    tfm_model m;
    grok_err e;
    c.attn_uniform = -0.5;
    assert_int_equal(tfm_init(&m, &c, &e), GROK_EINVAL);
    assert_non_null(strstr(e.msg, "model.attn_rate = 1.5"));
}

/* Without the mask a 2-layer model's logits change (its first layer's
 * earlier positions now see the later ones), and the fast forward still
 * matches the float64 reference; a 1-layer model computes only the last
 * position's query, which sees every position either way. */
static void test_forward_bidirectional(void **state)
{
    (void)state;
    const int N = 23;
    int32_t tok[3 * 23], lab[23];
    double ref[23 * 7];
    float causal_logits[23 * 7];
    for (int layers = 1; layers <= 2; layers++)
        for (int bi = 0; bi <= 1; bi++) {
            tfm_config c = small_config(layers, 1, TFM_ACT_GELU, 1);
            c.bidirectional = bi;
            tfm_model m;
            grok_err e;
            assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
            tu_xs xs;
            fill_params(&m, 55 + layers, &xs);
            make_batch(tok, lab, N, 7, &xs);
            tfm_acts *a = tfm_acts_alloc(&m, N);
            tfm_forward(&m, a, tok, N);
            tfm_forward_ref(&m, tok, N, ref);
            const float *lg = tfm_logits(a);
            double worst = 0, scale = 0, moved = 0;
            for (int i = 0; i < N * 7; i++) {
                worst = fmax(worst, fabs(lg[i] - ref[i]));
                scale = fmax(scale, fabs(ref[i]));
                if (bi)
                    moved = fmax(moved, fabs(lg[i] - causal_logits[i]));
                else
                    causal_logits[i] = lg[i];
            }
            printf("# L=%d %s: max abs err vs reference %.2e; change from the causal model %.3g\n",
                   layers, bi ? "bidirectional" : "causal", worst, moved);
            assert_true(worst < 1e-5 * scale);
            if (bi)
                assert_true(layers == 1 ? moved == 0 : moved > 1e-3);
            tfm_acts_free(a);
            tfm_free(&m);
        }
}

static void test_threads_same_bits(void **state)
{
    (void)state;
    const int N = 600;
    int32_t *tok = malloc(sizeof(int32_t) * 3 * N), *lab = malloc(sizeof(int32_t) * N);
    /* 1 layer as in Nanda et al.; 2 layers with LayerNorm; 2 layers without it,
     * with biases and GELU (layer 0's table mixes over all positions); 2 layers
     * without the mask, with attn_rate 0.25 */
    for (int variant = 0; variant < 4; variant++) {
        const int layers = variant == 0 ? 1 : 2;
        tfm_config c = {.n_layers = layers, .d_model = 64, .n_heads = 4, .d_head = 16,
                        .d_mlp = 256, .d_vocab = 32, .d_vocab_out = 31, .n_ctx = 3,
                        .act = variant == 2 ? TFM_ACT_GELU : TFM_ACT_RELU,
                        .layernorm = variant == 1, .attn_bias = variant == 2, .init_scale = 1.0,
                        /* 3: 2 layers, no mask, attn_rate 0.25 */
                        .bidirectional = variant == 3, .attn_uniform = variant == 3 ? 0.75 : 0};
        tfm_model m;
        grok_err e;
        assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
        tu_xs xs;
        fill_params(&m, 5, &xs);
        make_batch(tok, lab, N, 31, &xs);
        tfm_acts *a = tfm_acts_alloc(&m, N);
        float *g1 = malloc(sizeof(float) * m.n_params), *l1 = malloc(sizeof(float) * N * 31);
        double loss[2];
        for (int threads = 1; threads <= 2; threads++) {
            la_set_threads(threads);
            tfm_forward(&m, a, tok, N);
            loss[threads - 1] = tfm_loss(a, lab, N, NULL, NULL, 1);
            tfm_backward(&m, a, tok, N);
            if (threads == 1) {
                memcpy(g1, m.grads, sizeof(float) * m.n_params);
                memcpy(l1, tfm_logits(a), sizeof(float) * N * 31);
            }
        }
        assert_memory_equal(l1, tfm_logits(a), sizeof(float) * N * 31);
        assert_memory_equal(g1, m.grads, sizeof(float) * m.n_params);
        assert_memory_equal(&loss[0], &loss[1], sizeof(double));
        printf("# L=%d ln=%d bias=%d: logits, loss and %zu gradients identical with 1 and 2 threads\n",
               layers, c.layernorm, c.attn_bias, m.n_params);
        free(g1), free(l1);
        tfm_acts_free(a);
        tfm_free(&m);
    }
    la_set_threads(2);
    free(tok), free(lab);
}

static void test_gemm_strides(void **state)
{
    (void)state;
    enum { M = 37, N = 29, K = 19 };
    float A[M * K], B[K * N], C1[M * N * 2], C2[M * N * 2];
    tu_xs xs = {99};
    for (int i = 0; i < M * K; i++)
        A[i] = (float)tu_xs_normal(&xs);
    for (int i = 0; i < K * N; i++)
        B[i] = (float)tu_xs_normal(&xs);
    for (int i = 0; i < M * N * 2; i++)
        C1[i] = C2[i] = (float)tu_xs_normal(&xs);
    /* A^T stored [K, M], B [K, N], C with row stride 2N, beta 0.5 */
    float At[K * M];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++)
            At[k * M + i] = A[i * K + k];
    la_gemm(M, N, K, 1.5f, At, 1, M, B, N, 1, 0.5f, C1, 2 * N, 1);
    la_gemm_ref(M, N, K, 1.5f, A, K, 1, B, N, 1, 0.5f, C2, 2 * N, 1);
    double worst = 0;
    for (int i = 0; i < M * N * 2; i++)
        worst = fmax(worst, fabs(C1[i] - C2[i]));
    printf("# strided sgemm vs reference: max abs err %.2e\n", worst);
    assert_true(worst < 1e-4);
}

static void test_loss_float64(void **state)
{
    (void)state;
    /* a confident row: float32 log-softmax would round the loss to 0 */
    tfm_config c = small_config(1, 0, TFM_ACT_RELU, 0);
    tfm_model m;
    grok_err e;
    assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
    tu_xs xs;
    fill_params(&m, 3, &xs);
    int32_t tok[6] = {1, 2, 7, 3, 4, 7}, lab[2] = {3, 0};
    tfm_acts *a = tfm_acts_alloc(&m, 2);
    tfm_forward(&m, a, tok, 2);
    float *lg = (float *)tfm_logits(a);
    for (int j = 0; j < 7; j++)
        lg[j] = j == 3 ? 30.0f : 0.0f, lg[7 + j] = 0.25f * j;
    double per[2];
    int correct = -1;
    double loss = tfm_loss(a, lab, 2, &correct, per, 0);
    const double want0 = log1p(6 * exp(-30.0));
    double s = 0;
    for (int j = 0; j < 7; j++)
        s += exp(0.25 * j);
    const double want1 = log(s);
    printf("# confident row loss %.6e (want %.6e)\n", per[0], want0);
    assert_true(per[0] > 0 && fabs(per[0] - want0) < 1e-9 * want0);
    assert_true(fabs(per[1] - want1) < 1e-12);
    assert_true(fabs(loss - (want0 + want1) / 2) < 1e-12);
    assert_int_equal(correct, 1);
    tfm_acts_free(a);
    tfm_free(&m);
}

/* model.normed_residual (Grokfast's block, x = ln1(x); x = x + attn(x)):
 * finite differences of the reference loss for 1 and 2 layers, causal and
 * not, softmax and mixed attention (layer 0's tables and the layers above). */
static void test_grad_normed_residual(void **s)
{
    (void)s;
    gradient_check_attn(1, 1, TFM_ACT_GELU, 1, 0, 0, 1);
    gradient_check_attn(2, 1, TFM_ACT_RELU, 0, 0, 0, 1);
    gradient_check_attn(2, 1, TFM_ACT_GELU, 1, 1, 0.5, 1);
}

/* The same block against the float64 reference, and two identities of it:
 * ln1 replaces the stream, so scaling W_E and W_pos together by 3 leaves a
 * one-layer model's logits unchanged (up to LayerNorm's eps), where the
 * TransformerLens block's logits move; and the option needs a LayerNorm. */
static void test_forward_normed_residual(void **state)
{
    (void)state;
    enum { NB = 29, VO = 7 };
    int32_t tok[3 * NB], lab[NB];
    double ref[NB * VO];
    float before[NB * VO];
    double moved[2] = {0, 0};
    for (int normed = 0; normed <= 1; normed++)
        for (int layers = 1; layers <= 2; layers++) {
            tfm_config c = small_config(layers, 1, TFM_ACT_GELU, 1);
            c.normed_residual = normed;
            tfm_model m;
            grok_err e;
            assert_int_equal(tfm_init(&m, &c, &e), GROK_OK);
            tu_xs xs;
            fill_params(&m, 300 + layers, &xs);
            make_batch(tok, lab, NB, 7, &xs);
            tfm_acts *a = tfm_acts_alloc(&m, NB);
            tfm_forward(&m, a, tok, NB);
            tfm_forward_ref(&m, tok, NB, ref);
            double worst = 0, scale = 0;
            for (int i = 0; i < NB * VO; i++) {
                worst = fmax(worst, fabs(tfm_logits(a)[i] - ref[i]));
                scale = fmax(scale, fabs(ref[i]));
            }
            assert_true(worst < 1e-5 * scale);
            if (layers == 1) {
                memcpy(before, tfm_logits(a), sizeof before);
                const tfm_tensor *we = tfm_find(&m, "embed.W_E"), *wp = tfm_find(&m, "pos_embed.W_pos");
                for (size_t j = 0; j < we->numel; j++)
                    m.params[we->offset + j] *= 3.0f;
                for (size_t j = 0; j < wp->numel; j++)
                    m.params[wp->offset + j] *= 3.0f;
                tfm_forward(&m, a, tok, NB);
                for (int i = 0; i < NB * VO; i++)
                    moved[normed] = fmax(moved[normed], fabs(tfm_logits(a)[i] - before[i]) / scale);
            }
            printf("# normed_residual=%d L=%d: forward vs reference %.2e (max |logit| %.3g)\n",
                   normed, layers, worst, scale);
            tfm_acts_free(a);
            tfm_free(&m);
        }
    printf("# W_E, W_pos times 3, one layer: logits move by %.2e (TransformerLens block) and "
           "%.2e (normed_residual) of their scale\n", moved[0], moved[1]);
    assert_true(moved[0] > 1e-2);
    assert_true(moved[1] < 1e-4);

    tfm_config c = small_config(1, 0, TFM_ACT_RELU, 0);
    c.normed_residual = 1;
    tfm_model m;
    grok_err e = {{0}};
    assert_int_equal(tfm_init(&m, &c, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "model.normed_residual = true: needs model.layernorm = true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_default),   cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_grad_l1_relu),    cmocka_unit_test(test_grad_l1_gelu_ln),
        cmocka_unit_test(test_grad_l2_relu_ln), cmocka_unit_test(test_grad_l2_gelu),
        cmocka_unit_test(test_threads_same_bits), cmocka_unit_test(test_gemm_strides),
        cmocka_unit_test(test_loss_float64),
        cmocka_unit_test(test_grad_bidirectional), cmocka_unit_test(test_forward_bidirectional),
        cmocka_unit_test(test_grad_attn_rate),     cmocka_unit_test(test_forward_attn_rate),
        cmocka_unit_test(test_grad_normed_residual), cmocka_unit_test(test_forward_normed_residual),
    };
    return cmocka_run_group_tests_name("tfm", tests, NULL, NULL);
}
