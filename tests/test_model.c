/* test_model.c: the model interface (model/model.h) over both families.
 *
 *   embed_grad_tfm   the gradient of one chosen logit with respect to the
 *                    input embedding of every position, for transformers
 *                    (1 and 2 layers, LayerNorm and biases on and off),
 *                    against central finite differences of the float64
 *                    reference forward: W_pos[t] enters position t of one
 *                    example only, so perturbing it perturbs that embedding;
 *                    also without the causal mask and with model.attn_rate
 *                    0 and 0.5.
 *   embed_grad_mlp   the MLP's through the interface equals mlp_embed_grad.
 *   dispatch         tables, shapes and logits through the interface equal
 *                    the family's own.
 *   init_torch       model.init_scheme = "torch": each tensor's draw has
 *                    PyTorch's default distribution for its layer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "rng.h"
#include "testutil.h"

enum { N = 5, T = 3, V = 8, VO = 7 };

static void fill(model *m, uint64_t seed)
{
    tu_xs g = {seed * 2654435761u + 99};
    for (int i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        for (size_t j = 0; j < t->numel; j++) {
            double x = tu_xs_normal(&g);
            m->params[t->offset + j] =
                (float)(t->init_std > 0 ? x * t->init_std * 1.5 : t->init_value + 0.2 * x);
        }
    }
}

static void batch(int32_t *tok, int32_t *cls)
{
    tu_xs g = {7};
    for (int n = 0; n < N; n++) {
        tok[T * n] = (int)(tu_xs_uniform(&g) * (V - 1));
        tok[T * n + 1] = (int)(tu_xs_uniform(&g) * (V - 1));
        tok[T * n + 2] = V - 1;
        cls[n] = (int)(tu_xs_uniform(&g) * VO);
    }
}

/* bidirectional: no causal mask; uniform: attn_uniform = 1 - model.attn_rate */
static void embed_grad_case(int layers, int ln, int bias, int bidirectional, double uniform)
{
    model_config c = {.family = MODEL_TRANSFORMER,
                      .tfm = {.n_layers = layers, .d_model = 12, .n_heads = 3, .d_head = 4,
                              .d_mlp = 20, .d_vocab = V, .d_vocab_out = VO, .n_ctx = T,
                              .act = TFM_ACT_GELU, .layernorm = ln, .attn_bias = bias,
                              .bidirectional = bidirectional, .attn_uniform = uniform,
                              .init_scale = 1.0}};
    model m;
    grok_err e;
    assert_int_equal(model_init(&m, &c, &e), GROK_OK);
    fill(&m, (uint64_t)(layers * 10 + ln * 3 + bias));
    int32_t tok[N * T], cls[N];
    batch(tok, cls);
    model_acts *a = model_acts_alloc(&m, N);
    assert_non_null(a);
    const int D = c.tfm.d_model;
    float *g = malloc(sizeof(float) * N * T * D);
    int width = 0;
    model_embed_grad(&m, a, tok, cls, N, 0, g, &width);
    assert_int_equal(width, D);

    const param_tensor *pos = model_find(&m, "pos_embed.W_pos");
    double logits[VO], worst = 0, scale = 0;
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++)
            for (int d = 0; d < D; d++) {
                float *w = m.params + pos->offset + (size_t)t * D + d, w0 = *w;
                const float h = 1e-3f;
                *w = w0 + h;
                tfm_forward_ref(&m.tfm, tok + T * n, 1, logits);
                double up = logits[cls[n]], hp = (double)*w - w0;
                *w = w0 - h;
                tfm_forward_ref(&m.tfm, tok + T * n, 1, logits);
                double down = logits[cls[n]], hm = w0 - (double)*w;
                *w = w0;
                double fd = (up - down) / (hp + hm), got = g[((size_t)n * T + t) * D + d];
                worst = fmax(worst, fabs(fd - got));
                scale = fmax(scale, fabs(fd));
            }
    printf("# embed grad, L=%d ln=%d bias=%d%s attn_rate=%g: max |fd - grad| %.2e, "
           "max |grad| %.3g\n",
           layers, ln, bias, bidirectional ? " bidirectional" : "", 1 - uniform, worst, scale);
    assert_true(scale > 0.01);
    assert_true(worst < 2e-3 * scale);
    /* only positions 0 and 1 wanted: the examples run in batches (those
     * that share no token there) and give the same rows; the rest are 0 */
    float *g2 = malloc(sizeof(float) * N * T * D);
    for (size_t i = 0; i < (size_t)N * T * D; i++)
        g2[i] = NAN;
    model_embed_grad(&m, a, tok, cls, N, 3u, g2, &width);
    double dmax = 0;
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++)
            for (int d = 0; d < D; d++) {
                const size_t i = ((size_t)n * T + t) * D + d;
                if (t < 2)
                    dmax = fmax(dmax, fabs((double)g2[i] - g[i]));
                else
                    assert_true(g2[i] == 0.0f);
            }
    /* the batches the greedy rule forms here: fewer than N, so some ran together */
    int batches = 0;
    for (int i0 = 0; i0 < N;) {
        int i1 = i0 + 1;
        for (int clash = 0; i1 < N && !clash; i1 += !clash)
            for (int j = i0; j < i1 && !clash; j++)
                clash = tok[T * j] == tok[T * i1] || tok[T * j + 1] == tok[T * i1 + 1];
        batches++;
        i0 = i1;
    }
    printf("#   positions 0, 1 in %d batches: max |diff| to one at a time %.2e\n", batches, dmax);
    assert_true(batches < N);
    assert_true(dmax < 1e-5 * scale);
    free(g2);
    free(g);
    model_acts_free(a);
    model_free(&m);
}

static void test_embed_grad_tfm(void **state)
{
    (void)state;
    for (int layers = 1; layers <= 2; layers++)
        for (int ln = 0; ln <= 1; ln++)
            embed_grad_case(layers, ln, ln, 0, 0);
    /* the pizza setting of Zhong et al. 2023 (no mask, attn_rate 0), and
     * attn_rate 0.5, where the gradient symmetricity measure reads it */
    for (int layers = 1; layers <= 2; layers++) {
        embed_grad_case(layers, 0, 0, 1, 1.0);
        embed_grad_case(layers, 1, 1, 1, 0.5);
        embed_grad_case(layers, 0, 1, 0, 1.0);
    }
}

static model_config mlp_config_of(void)
{
    return (model_config){.family = MODEL_MLP,
                          .mlp = {.n_ctx = T, .d_vocab = V, .d_vocab_out = VO, .d_embed = 6,
                                  .combine = MLP_COMBINE_CONCAT, .n_layers = 2, .d_hidden = 16,
                                  .act = MLP_ACT_TANH, .init_scale = 1.0}};
}

static void test_embed_grad_mlp(void **state)
{
    (void)state;
    model_config c = mlp_config_of();
    model m;
    grok_err e;
    assert_int_equal(model_init(&m, &c, &e), GROK_OK);
    fill(&m, 3);
    int32_t tok[N * T], cls[N];
    batch(tok, cls);
    model_acts *a = model_acts_alloc(&m, N);
    mlp_acts *b = mlp_acts_alloc(&m.mlp, N);
    float g[N * T * 6], want[N * T * 6];
    int width = 0;
    model_embed_grad(&m, a, tok, cls, N, 0, g, &width);
    mlp_forward(&m.mlp, b, tok, N);
    mlp_embed_grad(&m.mlp, b, tok, cls, N, want);
    assert_int_equal(width, 6);
    assert_memory_equal(g, want, sizeof g);
    mlp_acts_free(b);
    model_acts_free(a);
    model_free(&m);
}

static void test_dispatch(void **state)
{
    (void)state;
    model_config c = mlp_config_of();
    model m;
    grok_err e;
    assert_int_equal(model_init(&m, &c, &e), GROK_OK);
    assert_int_equal(model_n_ctx(&m), T);
    assert_int_equal(model_n_classes(&m), VO);
    assert_null(model_tfm(&m));
    assert_ptr_equal(m.params, m.mlp.params);
    assert_int_equal(m.n_tensors, m.mlp.n_tensors);
    assert_non_null(model_find(&m, "embed.W_E"));
    fill(&m, 5);
    int32_t tok[N * T], cls[N];
    batch(tok, cls);
    model_acts *a = model_acts_alloc(&m, N);
    mlp_acts *b = mlp_acts_alloc(&m.mlp, N);
    model_forward(&m, a, tok, N);
    mlp_forward(&m.mlp, b, tok, N);
    assert_memory_equal(model_logits(a), mlp_logits(b), sizeof(float) * N * VO);
    int width;
    assert_ptr_equal(model_hidden_last(a, &width), model_hidden_last(a, &width));
    assert_int_equal(width, 16);
    mlp_acts_free(b);
    model_acts_free(a);
    model_free(&m);
    model_config bad = {.family = MODEL_FAMILY_COUNT};
    assert_int_equal(model_init(&m, &bad, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "model.family");
    assert_int_equal(model_family_parse("mlp"), MODEL_MLP);
    assert_int_equal(model_family_parse("cnn"), -1);
}

/* One tensor's draw under model.init_scheme = "torch": a Gaussian of std sd
 * (sd > 0), a uniform on [-b, b] (b > 0), or the constant c. */
typedef struct {
    const char *name;
    double sd, b, c;
} torch_rule;

static void check_torch_rules(const model *m, const torch_rule *rule, int n_rules, double scale)
{
    for (int k = 0; k < n_rules; k++) {
        const param_tensor *t = model_find(m, rule[k].name);
        assert_non_null(t);
        const float *x = m->params + t->offset;
        double s2 = 0, mx = 0;
        for (size_t j = 0; j < t->numel; j++) {
            s2 += (double)x[j] * x[j];
            mx = fmax(mx, fabs(x[j]));
        }
        const double sd = sqrt(s2 / t->numel);
        const double want_sd = rule[k].sd > 0 ? rule[k].sd * scale : rule[k].b * scale / sqrt(3.0);
        if (rule[k].b > 0)
            printf("#   %-22s %7zu values: U(+-%.4f): std %.4f (want %.4f), max |x| %.4f\n",
                   rule[k].name, t->numel, rule[k].b * scale, sd, want_sd, mx);
        else if (rule[k].sd > 0)
            printf("#   %-22s %7zu values: N(0, %.4f^2): std %.4f\n", rule[k].name, t->numel,
                   want_sd, sd);
        else
            printf("#   %-22s %7zu values: the constant %g\n", rule[k].name, t->numel, rule[k].c);
        if (rule[k].sd == 0 && rule[k].b == 0) {
            for (size_t j = 0; j < t->numel; j++)
                assert_true(x[j] == (float)rule[k].c);
            continue;
        }
        /* the std within 5 standard errors (of a uniform's or a Gaussian's square) */
        assert_true(fabs(sd - want_sd) < 5 * want_sd / sqrt((double)t->numel) + 1e-12);
        if (rule[k].b > 0) {
            assert_true(mx <= rule[k].b * scale);
            if (t->numel >= 1000)
                assert_true(mx > 0.99 * rule[k].b * scale);
        }
    }
}

/* model.init_scheme = "torch": PyTorch's module defaults for the layers of
 * Grokfast's transformer (d 128, 4 heads of 32, d_mlp 512; nn.Embedding
 * N(0, 1); nn.MultiheadAttention's packed in-projection Xavier-uniform,
 * sqrt(6 / (128 + 384)) = 0.1083, its biases 0; out-projection and
 * nn.Linear U(+-1/sqrt(fan_in)): 1/sqrt(128) = 0.0884, 1/sqrt(512) =
 * 0.0442) and of an MLP (W and b of each layer U(+-1/sqrt(fan_in))), with
 * init_scale 2 scaling every bound. */
static void test_init_torch(void **state)
{
    (void)state;
    model_config c = {.family = MODEL_TRANSFORMER};
    c.tfm = (tfm_config){.n_layers = 1, .d_model = 128, .n_heads = 4, .d_head = 32,
                         .d_mlp = 512, .d_vocab = 99, .d_vocab_out = 97, .n_ctx = 4,
                         .act = TFM_ACT_GELU, .layernorm = 1, .attn_bias = 1,
                         .init_scale = 1.0, .init_scheme = PARAM_INIT_TORCH};
    const torch_rule tr[] = {
        {"embed.W_E", 1, 0, 0},
        {"pos_embed.W_pos", 1, 0, 0},
        {"blocks.0.ln1.w", 0, 0, 1},
        {"blocks.0.attn.W_Q", 0, 0.10825317547, 0},
        {"blocks.0.attn.W_V", 0, 0.10825317547, 0},
        {"blocks.0.attn.b_K", 0, 0, 0},
        {"blocks.0.attn.W_O", 0, 0.08838834765, 0},
        {"blocks.0.attn.b_O", 0, 0, 0},
        {"blocks.0.mlp.W_in", 0, 0.08838834765, 0},
        {"blocks.0.mlp.b_in", 0, 0.08838834765, 0},
        {"blocks.0.mlp.W_out", 0, 0.04419417382, 0},
        {"blocks.0.mlp.b_out", 0, 0.04419417382, 0},
        {"ln_final.b", 0, 0, 0},
        {"unembed.W_U", 0, 0.08838834765, 0},
    };
    grok_err e = {{0}};
    for (int k = 0; k < 2; k++) {
        model m;
        c.tfm.init_scale = k ? 2.0 : 1.0;
        assert_int_equal(model_init(&m, &c, &e), GROK_OK);
        rng *r = rng_alloc(5, RNG_STREAM_INIT, 0);
        model_init_params(&m, r);
        rng_free(r);
        printf("# transformer, init_scheme torch, init_scale %g:\n", c.tfm.init_scale);
        check_torch_rules(&m, tr, (int)(sizeof tr / sizeof tr[0]), c.tfm.init_scale);
        model_free(&m);
    }

    model_config mc = {.family = MODEL_MLP};
    mc.mlp = (mlp_config){.n_ctx = 2, .d_vocab = 113, .d_vocab_out = 113, .d_embed = 64,
                          .combine = MLP_COMBINE_CONCAT, .n_layers = 2, .d_hidden = 200,
                          .act = MLP_ACT_RELU, .init_scale = 1.0,
                          .init_scheme = PARAM_INIT_TORCH};
    const torch_rule mr[] = {
        {"embed.W_E", 1, 0, 0},
        {"mlp.0.W", 0, 0.08838834765, 0}, /* fan_in 2 * 64 */
        {"mlp.0.b", 0, 0.08838834765, 0},
        {"mlp.1.W", 0, 0.07071067812, 0}, /* fan_in 200 */
        {"unembed.W_U", 0, 0.07071067812, 0},
        {"unembed.b_U", 0, 0.07071067812, 0},
    };
    model m;
    assert_int_equal(model_init(&m, &mc, &e), GROK_OK);
    rng *r = rng_alloc(5, RNG_STREAM_INIT, 0);
    model_init_params(&m, r);
    rng_free(r);
    printf("# mlp, init_scheme torch:\n");
    check_torch_rules(&m, mr, (int)(sizeof mr / sizeof mr[0]), 1.0);
    model_free(&m);

    /* the default scheme is untouched: Nanda et al.'s N(0, 1/D) embedding */
    c.tfm.init_scheme = PARAM_INIT_GAUSSIAN;
    c.tfm.init_scale = 1.0;
    assert_int_equal(model_init(&m, &c, &e), GROK_OK);
    assert_true(model_find(&m, "embed.W_E")->init_std == 1.0 / sqrt(128.0));
    assert_true(model_find(&m, "blocks.0.mlp.b_in")->init_bound == 0.0);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_grad_tfm),
        cmocka_unit_test(test_embed_grad_mlp),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_init_torch),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
