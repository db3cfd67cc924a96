/* mlp.c: the embedding MLP's parameter table, forward, backward and the
 * gradient of a logit with respect to the input embeddings.
 *
 * Owns the layout of the MLP's parameter buffer (one table, walked by
 * everything else), its activation workspace and the hand-written forward and
 * backward passes; the model and its initialisation are described in mlp.h.
 * It computes no loss: the caller fills mlp_dlogits.  Every matrix product is
 * la_gemm (BLIS) with strides; a bias gradient, a sum over the examples, is
 * summed in fixed blocks of rows and then over the blocks in block order
 * (fused with the activation's backward where there is one), whatever the
 * thread count; element-wise loops are parallel over outputs only; the gradient
 * of a table whose rows are selected by tokens (the embedding, and the first
 * layer of the onehot input) is gathered per row from a list of the row's
 * occurrences in (example, position) order.  So the bits do not depend on the
 * thread count.  The naive double-precision reference, mlp_forward_ref, is at
 * the end of the file.
 *
 * Legend: N examples, T positions, V vocabulary, Vo output vocabulary,
 * E d_embed, H d_hidden, L hidden layers, Din first-layer input width. */
#include "mlp.h"

#include <math.h>
#include <string.h>

#include "linalg.h"

/* ------------------------------------------------------------------------ */
/* names */

static const char *const act_names[MLP_ACT_COUNT] = {"relu", "gelu", "tanh", "square"};
static const char *const combine_names[MLP_COMBINE_COUNT] = {"concat", "sum", "onehot"};

static int name_index(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *mlp_act_name(mlp_act a) { return (a >= 0 && a < MLP_ACT_COUNT) ? act_names[a] : "?"; }
int mlp_act_parse(const char *name) { return name_index(act_names, MLP_ACT_COUNT, name); }

const char *mlp_combine_name(mlp_combine c)
{
    return (c >= 0 && c < MLP_COMBINE_COUNT) ? combine_names[c] : "?";
}
int mlp_combine_parse(const char *name) { return name_index(combine_names, MLP_COMBINE_COUNT, name); }

int mlp_embed_width(const mlp_config *c)
{
    return c->combine == MLP_COMBINE_ONEHOT ? c->d_vocab : c->d_embed;
}

int mlp_d_in(const mlp_config *c)
{
    return c->combine == MLP_COMBINE_SUM ? c->d_embed : c->n_ctx * mlp_embed_width(c);
}

/* ------------------------------------------------------------------------ */
/* config and parameter table */

int mlp_config_check(const mlp_config *c, grok_err *e)
{
#define CHECK_RANGE(field, lo, hi)                                                             \
    if (c->field < (lo) || c->field > (hi))                                                    \
        return grok_fail(e, GROK_EINVAL, "model." #field " = %d: must be between %d and %d",    \
                         (int)c->field, (int)(lo), (int)(hi));
    CHECK_RANGE(n_ctx, 1, 64);
    CHECK_RANGE(d_vocab, 1, 100000);
    CHECK_RANGE(d_vocab_out, 1, 100000);
    if (c->combine != MLP_COMBINE_ONEHOT)
        CHECK_RANGE(d_embed, 1, 16384);
    CHECK_RANGE(n_layers, 1, MLP_MAX_LAYERS);
    CHECK_RANGE(d_hidden, 1, 65536);
#undef CHECK_RANGE
    if (c->combine < 0 || c->combine >= MLP_COMBINE_COUNT)
        return grok_fail(e, GROK_EINVAL, "model.combine = %d: must be concat, sum or onehot",
                         (int)c->combine);
    if (c->act < 0 || c->act >= MLP_ACT_COUNT)
        return grok_fail(e, GROK_EINVAL, "model.act = %d: must be relu, gelu, tanh or square",
                         (int)c->act);
    if (!(c->init_scale > 0) || !isfinite(c->init_scale))
        return grok_fail(e, GROK_EINVAL, "model.init_scale = %g: must be > 0", c->init_scale);
    if (c->init_scheme < 0 || c->init_scheme >= PARAM_INIT_COUNT)
        return grok_fail(e, GROK_EINVAL, "model.init_scheme = %d: must be gaussian or torch",
                         (int)c->init_scheme);
    return GROK_OK;
}

#define TABLE_MAX(L) (3 + 2 * (L))

/* Writes the table into b (b->t must have room for TABLE_MAX(L) entries). */
static void table_build(param_table *b, const mlp_config *c)
{
    const int E = c->d_embed, H = c->d_hidden, Din = mlp_d_in(c);
    const int torch = c->init_scheme == PARAM_INIT_TORCH; /* nn.Embedding, nn.Linear */
    char name[PARAM_NAME_MAX];
    if (c->combine != MLP_COMBINE_ONEHOT)
        params_add(b, "embed.W_E", 2, c->d_vocab, E, 0, torch ? 1.0 : 1.0 / sqrt((double)E), 0);
    for (int l = 0; l <= c->n_layers; l++) {
        const int fan_in = l == 0 ? Din : H, last = l == c->n_layers;
        const int out = last ? c->d_vocab_out : H;
        const double s = 1.0 / sqrt((double)fan_in);
        if (last)
            snprintf(name, sizeof name, "unembed.W_U");
        else
            snprintf(name, sizeof name, "mlp.%d.W", l);
        params_add(b, name, 2, fan_in, out, 0, s, 0);
        if (torch)
            params_last_uniform(b, s);
        if (c->no_bias)
            continue;
        if (last)
            snprintf(name, sizeof name, "unembed.b_U");
        else
            snprintf(name, sizeof name, "mlp.%d.b", l);
        params_add(b, name, 1, out, 0, 0, 0, 0.0f);
        if (torch)
            params_last_uniform(b, s);
    }
}

const param_tensor *mlp_find(const mlp_model *m, const char *name)
{
    return params_find(m->tensors, m->n_tensors, name);
}

/* Points the views of buffer `base` by looking names up in the table. */
static void views_point(const mlp_model *m, float *base, mlp_views *v)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        float *p = base + t->offset;
        int l, len = 0;
        char kind = 0;
        if (strcmp(t->name, "embed.W_E") == 0)
            v->W_E = p;
        else if (strcmp(t->name, "unembed.W_U") == 0)
            v->W_U = p;
        else if (strcmp(t->name, "unembed.b_U") == 0)
            v->b_U = p;
        else if (sscanf(t->name, "mlp.%d.%c%n", &l, &kind, &len) == 2 && t->name[len] == 0 &&
                 l >= 0 && l < m->cfg.n_layers && (kind == 'W' || kind == 'b'))
            *(kind == 'W' ? &v->W[l] : &v->b[l]) = p;
        else
            GROK_ASSERT(!"unknown tensor name in table");
    }
}

int mlp_init(mlp_model *m, const mlp_config *cfg, grok_err *e)
{
    memset(m, 0, sizeof *m);
    int rc = mlp_config_check(cfg, e);
    if (rc)
        return rc;
    m->cfg = *cfg;
    param_table b = {calloc((size_t)TABLE_MAX(cfg->n_layers), sizeof(param_tensor)), 0, 0,
                     TABLE_MAX(cfg->n_layers)};
    if (!b.t)
        return grok_fail(e, GROK_ENOMEM, "out of memory building the parameter table");
    table_build(&b, cfg);
    m->tensors = b.t;
    m->n_tensors = b.n;
    m->n_params = b.offset;
    m->params = grok_alloc(m->n_params * sizeof(float));
    m->grads = grok_alloc(m->n_params * sizeof(float));
    if (!m->params || !m->grads) {
        mlp_free(m);
        return grok_fail(e, GROK_ENOMEM, "out of memory for %zu parameters", b.offset);
    }
    views_point(m, m->params, &m->p);
    views_point(m, m->grads, &m->g);
    return GROK_OK;
}

void mlp_free(mlp_model *m)
{
    free(m->tensors);
    grok_free(m->params);
    grok_free(m->grads);
    memset(m, 0, sizeof *m);
}

void mlp_init_params(mlp_model *m, rng *r)
{
    params_init_draw(m->tensors, m->n_tensors, m->params, m->cfg.init_scale, r);
}

/* ------------------------------------------------------------------------ */
/* activation workspace */

struct mlp_acts {
    mlp_config cfg;
    int n_max, n;
    la_profile *prof;            /* NULL, or where the products' time and flops are added */
    float *x;                    /* [N, Din] the combined embeddings, h_0 (not for onehot) */
    float *pre[MLP_MAX_LAYERS];  /* [N, H] h_l @ W_l + b_l (ReLU: post itself, which holds
                                    what the backward needs, pre > 0) */
    float *post[MLP_MAX_LAYERS]; /* [N, H] act(pre), h_{l+1} */
    float *logits;               /* [N, Vo] */
    float *dlogits;              /* [N, Vo] written by the caller */
    float *dh, *dh2;             /* [N, H] backward scratch */
    float *dx;                   /* [N, Din] d / d x (not for onehot) */
    float *part;                 /* [N / SUM_BLOCK + 1, max(H, Vo)] partial column sums */
    float *zeros;                /* [H] zeros: the bias of a layer without one (no_bias) */
    int32_t *occ_start;          /* [R + 1] table row r's occurrences are */
    int32_t *occ;                /* [N*T]   occ[occ_start[r] .. occ_start[r+1]), as n*T + t */
    float *block;                /* owns every float array above */
};

/* Rows per block of the bias gradients' sums (acts_layout sizes `part` by it). */
enum { SUM_BLOCK = 64 };

/* The rows of the table that tokens select: W_E's V, or the onehot W_0's T*V. */
static int token_rows(const mlp_config *c)
{
    return c->combine == MLP_COMBINE_ONEHOT ? c->n_ctx * c->d_vocab : c->d_vocab;
}

/* Lays the float arrays of `a` out from base (each 64-byte aligned); with
 * base NULL only counts floats. */
static size_t acts_layout(const mlp_config *c, int N, mlp_acts *a, float *base)
{
    const size_t n = (size_t)N, H = (size_t)c->d_hidden, Vo = (size_t)c->d_vocab_out,
                 Din = c->combine == MLP_COMBINE_ONEHOT ? 0 : (size_t)mlp_d_in(c);
    size_t total = 0;
#define C(field, count)                                                                           \
    do {                                                                                          \
        if (base)                                                                                 \
            (field) = base + total;                                                               \
        total += ((count) + 15) / 16 * 16;                                                        \
    } while (0)
    C(a->x, n * Din);
    for (int l = 0; l < c->n_layers; l++) {
        if (c->act != MLP_ACT_RELU)
            C(a->pre[l], n * H);
        C(a->post[l], n * H);
        if (base && c->act == MLP_ACT_RELU) /* in place */
            a->pre[l] = a->post[l];
    }
    C(a->logits, n * Vo);
    C(a->dlogits, n * Vo);
    C(a->dh, n * H);
    C(a->dh2, n * H);
    C(a->dx, n * Din);
    C(a->part, (n / SUM_BLOCK + 1) * (H > Vo ? H : Vo));
    C(a->zeros, H); /* grok_alloc zeroes the block */
#undef C
    return total;
}

mlp_acts *mlp_acts_alloc(const mlp_model *m, int n_max)
{
    const mlp_config *c = &m->cfg;
    mlp_acts *a = calloc(1, sizeof *a);
    if (!a || n_max < 1)
        return free(a), NULL;
    a->cfg = *c;
    a->n_max = n_max;
    a->block = grok_alloc(acts_layout(c, n_max, a, NULL) * sizeof(float));
    a->occ_start = malloc(((size_t)token_rows(c) + 1) * sizeof(int32_t));
    a->occ = malloc((size_t)n_max * (size_t)c->n_ctx * sizeof(int32_t));
    if (!a->block || !a->occ_start || !a->occ) {
        mlp_acts_free(a);
        return NULL;
    }
    acts_layout(c, n_max, a, a->block);
    return a;
}

void mlp_acts_free(mlp_acts *a)
{
    if (!a)
        return;
    grok_free(a->block);
    free(a->occ_start);
    free(a->occ);
    free(a);
}

void mlp_acts_profile(mlp_acts *a, la_profile *prof) { a->prof = prof; }
const float *mlp_logits(const mlp_acts *a) { return a->logits; }
float *mlp_dlogits(mlp_acts *a) { return a->dlogits; }
const float *mlp_hidden_last(const mlp_acts *a) { return a->post[a->cfg.n_layers - 1]; }

/* ------------------------------------------------------------------------ */
/* layer kernels: outputs first, then inputs, then sizes */

static void bias_act_row(float *post, float *pre, const float *b, int H, mlp_act act);

/* out[n] = sum_t table[t*pos_rows + tok[n,t]] ([width] each, summed in
 * position order): the sum combine (pos_rows 0) and the onehot first layer
 * (pos_rows V).  With post, each row then goes on through bias_act_row
 * (out[n] += b, post[n] = act(out[n])) while it is in cache. */
static void rows_sum(float *out, const float *table, const int32_t *tok, int N, int T, int width,
                     int V, int pos_rows, float *post, const float *b, mlp_act act)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        for (int t = 0; t < T; t++)
            GROK_ASSERT(tok[n * T + t] >= 0 && tok[n * T + t] < V);
        float *o = out + (size_t)n * width;
        memcpy(o, table + (size_t)tok[n * T] * width, sizeof(float) * width);
        for (int t = 1; t < T; t++) {
            const float *w = table + ((size_t)t * pos_rows + tok[n * T + t]) * width;
            for (int e = 0; e < width; e++)
                o[e] += w[e];
        }
        if (post)
            bias_act_row(post + (size_t)n * width, o, b, width, act);
    }
}

/* x[n] = concat_t W_E[tok[n,t]] ([T*E]) or sum_t W_E[tok[n,t]] ([E], summed
 * in position order). */
static void embed_forward(float *x, const float *W_E, const int32_t *tok, int N, int T, int E,
                          int V, mlp_combine combine)
{
    if (combine == MLP_COMBINE_SUM) {
        rows_sum(x, W_E, tok, N, T, E, V, 0, NULL, NULL, MLP_ACT_RELU);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) {
            GROK_ASSERT(tok[n * T + t] >= 0 && tok[n * T + t] < V);
            memcpy(x + ((size_t)n * T + t) * E, W_E + (size_t)tok[n * T + t] * E,
                   sizeof(float) * E);
        }
}

/* The backward of a table whose row t*pos_rows + tok[n,t] enters example n:
 * dW[r] = sum of src_n,t over the occurrences (n, t) of row r, src_n,t =
 * src + n*rs + t*ps ([width]), every row of dW written (0 where none).  The
 * occurrences are listed per row by a counting sort in (n, t) order, then
 * each row is summed by one thread in that order.  R rows; occ_start:
 * [R + 1], occ: [N*T] scratch. */
static void rows_backward(float *dW, int32_t *occ_start, int32_t *occ, const float *src,
                          ptrdiff_t rs, ptrdiff_t ps, const int32_t *tok, int N, int T, int width,
                          int pos_rows, int R)
{
    const int NT = N * T;
    memset(occ_start, 0, sizeof(int32_t) * ((size_t)R + 1));
    for (int i = 0; i < NT; i++)
        occ_start[(i % T) * pos_rows + tok[i] + 1]++;
    for (int r = 0; r < R; r++)
        occ_start[r + 1] += occ_start[r];
    for (int i = 0; i < NT; i++) /* occ_start[r] advances to row r+1's start ... */
        occ[occ_start[(i % T) * pos_rows + tok[i]]++] = i;
    for (int r = R; r > 0; r--) /* ... and is shifted back */
        occ_start[r] = occ_start[r - 1];
    occ_start[0] = 0;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        float *g = dW + (size_t)r * width;
        memset(g, 0, sizeof(float) * width);
        for (int i = occ_start[r]; i < occ_start[r + 1]; i++) {
            const float *x = src + (ptrdiff_t)(occ[i] / T) * rs + (ptrdiff_t)(occ[i] % T) * ps;
            for (int e = 0; e < width; e++)
                g[e] += x[e];
        }
    }
}

static inline float gelu(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

/* d gelu / dx = Phi(x) + x phi(x) */
static inline float gelu_grad(float x)
{
    const float cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
    const float pdf = expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
    return cdf + x * pdf;
}

/* x = relu(x + b) in place, [H]: bias_act_row's ReLU when post is pre. */
GROK_VECTOR_CLONES
static void bias_relu_row(float *restrict x, const float *restrict b, int H)
{
    for (int j = 0; j < H; j++) {
        const float v = x[j] + b[j];
        x[j] = v > 0 ? v : 0;
    }
}

/* The other cases of bias_act_row. */
GROK_VECTOR_CLONES
static void bias_act_row2(float *restrict post, float *restrict pre, const float *restrict b,
                          int H, mlp_act act)
{
    for (int j = 0; j < H; j++)
        pre[j] += b[j];
    switch (act) {
    case MLP_ACT_RELU:
        for (int j = 0; j < H; j++)
            post[j] = pre[j] > 0 ? pre[j] : 0;
        break;
    case MLP_ACT_GELU:
        for (int j = 0; j < H; j++)
            post[j] = gelu(pre[j]);
        break;
    case MLP_ACT_SQUARE:
        for (int j = 0; j < H; j++)
            post[j] = pre[j] * pre[j];
        break;
    default:
        for (int j = 0; j < H; j++)
            post[j] = tanhf(pre[j]);
        break;
    }
}

/* One row of bias_act_forward: pre += b, post = act(pre); for the ReLU post
 * may be pre (the workspace's layers are in place). */
static void bias_act_row(float *post, float *pre, const float *b, int H, mlp_act act)
{
    if (post == pre && act == MLP_ACT_RELU)
        bias_relu_row(pre, b, H);
    else
        bias_act_row2(post, pre, b, H, act);
}

/* pre += b (per column); post = act(pre).  [rows, H]. */
static void bias_act_forward(float *post, float *pre, const float *b, int rows, int H, mlp_act act)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++)
        bias_act_row(post + (size_t)r * H, pre + (size_t)r * H, b, H, act);
}

/* One row of act_backward. */
GROK_VECTOR_CLONES
static void act_backward_row(float *restrict d, const float *restrict pre,
                             const float *restrict post, int H, mlp_act act)
{
    switch (act) {
    case MLP_ACT_RELU:
        for (int j = 0; j < H; j++)
            d[j] = pre[j] > 0 ? d[j] : 0;
        break;
    case MLP_ACT_GELU:
        for (int j = 0; j < H; j++)
            d[j] *= gelu_grad(pre[j]);
        break;
    case MLP_ACT_SQUARE: /* (x^2)' = 2x */
        for (int j = 0; j < H; j++)
            d[j] *= 2.0f * pre[j];
        break;
    default: /* tanh' = 1 - tanh^2 */
        for (int j = 0; j < H; j++)
            d[j] *= 1.0f - post[j] * post[j];
        break;
    }
}

/* part[0..W) = the sum of the rows x[0..rows) ([W] each) in row order. */
GROK_VECTOR_CLONES
static void block_colsum(float *restrict part, const float *restrict x, int rows, int W)
{
    memcpy(part, x, sizeof(float) * W);
    for (int r = 1; r < rows; r++)
        for (int j = 0; j < W; j++)
            part[j] += x[(size_t)r * W + j];
}

/* sum[j] = the sum over rows of x [rows, W]: the partial sums of blocks of
 * SUM_BLOCK rows (part, [rows / SUM_BLOCK + 1, W]), then those added in block
 * order; the same bits for any thread count.  With pre (and post), first
 * x *= act'(pre) in place, each block just before its sum (act_backward). */
static void colsum(float *sum, float *part, float *x, const float *pre, const float *post,
                   int rows, int W, mlp_act act)
{
    const int nblk = (rows + SUM_BLOCK - 1) / SUM_BLOCK;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        const int r0 = blk * SUM_BLOCK, r1 = rows < r0 + SUM_BLOCK ? rows : r0 + SUM_BLOCK;
        for (int r = r0; r < r1 && pre; r++)
            act_backward_row(x + (size_t)r * W, pre + (size_t)r * W, post + (size_t)r * W, W, act);
        block_colsum(part + (size_t)blk * W, x + (size_t)r0 * W, r1 - r0, W);
    }
    block_colsum(sum, part, nblk, W);
}

/* d *= act'(pre) in place (tanh's from post), [rows, H]. */
static void act_backward(float *d, const float *pre, const float *post, int rows, int H,
                         mlp_act act)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++)
        act_backward_row(d + (size_t)r * H, pre + (size_t)r * H, post + (size_t)r * H, H, act);
}

/* ------------------------------------------------------------------------ */
/* forward */

void mlp_forward(const mlp_model *m, mlp_acts *a, const int32_t *tokens, int N)
{
    const mlp_config *c = &m->cfg;
    const int H = c->d_hidden, Vo = c->d_vocab_out, Din = mlp_d_in(c);
    const mlp_views *P = &m->p;
    GROK_ASSERT(N >= 1 && N <= a->n_max);
    a->n = N;
    const float *h = a->x;
    int K = Din, l0 = 0;
    if (c->combine == MLP_COMBINE_ONEHOT) {
        /* pre_0 = x @ W_0 + b_0: the rows of W_0 that the one-hot vectors select */
        rows_sum(a->pre[0], P->W[0], tokens, N, c->n_ctx, H, c->d_vocab, c->d_vocab, a->post[0],
                 P->b[0] ? P->b[0] : a->zeros, c->act);
        h = a->post[0];
        K = H;
        l0 = 1;
    } else
        embed_forward(a->x, P->W_E, tokens, N, c->n_ctx, c->d_embed, c->d_vocab, c->combine);
    /* pre_l = h_l @ W_l + b_l;  h_{l+1} = act(pre_l) */
    for (int l = l0; l < c->n_layers; l++) {
        la_gemm_prof(a->prof, N, H, K, 1.0f, h, K, 1, P->W[l], H, 1, 0.0f, a->pre[l], H, 1);
        bias_act_forward(a->post[l], a->pre[l], P->b[l] ? P->b[l] : a->zeros, N, H, c->act);
        h = a->post[l];
        K = H;
    }
    /* logits = h_L @ W_U + b_U */
    la_gemm_prof(a->prof, N, Vo, H, 1.0f, h, H, 1, P->W_U, Vo, 1, 0.0f, a->logits, Vo, 1);
    if (!P->b_U)
        return;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Vo; o++)
            a->logits[(size_t)n * Vo + o] += P->b_U[o];
}

/* ------------------------------------------------------------------------ */
/* backward */

/* From a->dh = d / d h_L back through the hidden layers to d / d pre_0, which
 * it returns (a->dh or a->dh2).  With G, also writes the gradients of W_l and
 * b_l there (overwriting; the onehot W_0's from the tokens). */
static float *hidden_backward(const mlp_model *m, mlp_acts *a, const int32_t *tokens, int N,
                              mlp_views *G)
{
    const mlp_config *c = &m->cfg;
    const int H = c->d_hidden, Din = mlp_d_in(c);
    float *d = a->dh, *d_other = a->dh2;
    for (int l = c->n_layers - 1; l >= 0; l--) {
        /* h_{l+1} = act(pre_l): d becomes d / d pre_l (and b_l's gradient its
         * sum over the examples) */
        if (G && G->b[l])
            colsum(G->b[l], a->part, d, a->pre[l], a->post[l], N, H, c->act);
        else
            act_backward(d, a->pre[l], a->post[l], N, H, c->act);
        /* pre_l = h_l @ W_l + b_l */
        const float *h = l > 0 ? a->post[l - 1] : a->x;
        const int K = l > 0 ? H : Din;
        if (G && l == 0 && c->combine == MLP_COMBINE_ONEHOT)
            rows_backward(G->W[0], a->occ_start, a->occ, d, H, 0, tokens, N, c->n_ctx, H,
                          c->d_vocab, token_rows(c));
        else if (G)
            la_gemm_prof(a->prof, K, H, N, 1.0f, h, 1, K, d, H, 1, 0.0f, G->W[l], H, 1);
        if (l > 0) {
            la_gemm_prof(a->prof, N, H, H, 1.0f, d, H, 1, m->p.W[l], 1, H, 0.0f, d_other, H, 1);
            float *tmp = d;
            d = d_other;
            d_other = tmp;
        }
    }
    return d;
}

void mlp_backward(mlp_model *m, mlp_acts *a, const int32_t *tokens, int N)
{
    const mlp_config *c = &m->cfg;
    const int H = c->d_hidden, Vo = c->d_vocab_out, Din = mlp_d_in(c);
    GROK_ASSERT(N == a->n);
    mlp_views *G = &m->g;
    /* logits = h_L @ W_U + b_U */
    const float *h = a->post[c->n_layers - 1];
    la_gemm_prof(a->prof, H, Vo, N, 1.0f, h, 1, H, a->dlogits, Vo, 1, 0.0f, G->W_U, Vo, 1);
    if (G->b_U)
        colsum(G->b_U, a->part, a->dlogits, NULL, NULL, N, Vo, c->act);
    la_gemm_prof(a->prof, N, H, Vo, 1.0f, a->dlogits, Vo, 1, m->p.W_U, 1, Vo, 0.0f, a->dh, H, 1);
    const float *dpre0 = hidden_backward(m, a, tokens, N, G);
    if (c->combine == MLP_COMBINE_ONEHOT)
        return; /* no embedding below the first layer */
    /* pre_0 = x @ W_0 + b_0 */
    la_gemm_prof(a->prof, N, Din, H, 1.0f, dpre0, H, 1, m->p.W[0], 1, H, 0.0f, a->dx, Din, 1);
    /* x = the embeddings: W_E's row tok[n,t] enters at slice t (concat) or whole (sum) */
    const int E = c->d_embed;
    rows_backward(G->W_E, a->occ_start, a->occ, a->dx, Din,
                  c->combine == MLP_COMBINE_CONCAT ? E : 0, tokens, N, c->n_ctx, E, 0,
                  c->d_vocab);
}

void mlp_embed_grad(const mlp_model *m, mlp_acts *a, const int32_t *tokens, const int32_t *cls,
                    int N, float *out)
{
    const mlp_config *c = &m->cfg;
    const int T = c->n_ctx, E = mlp_embed_width(c), H = c->d_hidden, Vo = c->d_vocab_out,
              Din = mlp_d_in(c);
    GROK_ASSERT(N == a->n);
    /* d logits[n, cls[n]] / d h_L = W_U[:, cls[n]] */
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        GROK_ASSERT(cls[n] >= 0 && cls[n] < Vo);
        for (int j = 0; j < H; j++)
            a->dh[(size_t)n * H + j] = m->p.W_U[(size_t)j * Vo + cls[n]];
    }
    const float *dpre0 = hidden_backward(m, a, tokens, N, NULL);
    /* d / d x = d / d pre_0 @ W_0^T; for concat and onehot [N, T*E] is already
     * out's layout */
    float *dx = c->combine == MLP_COMBINE_SUM ? a->dx : out;
    la_gemm(N, Din, H, 1.0f, dpre0, H, 1, m->p.W[0], 1, H, 0.0f, dx, Din, 1);
    if (c->combine == MLP_COMBINE_SUM) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++)
            for (int t = 0; t < T; t++)
                memcpy(out + ((size_t)n * T + t) * E, dx + (size_t)n * E, sizeof(float) * E);
    }
}

/* ------------------------------------------------------------------------ */
/* the naive reference: per example, double, straight from the definitions */

void mlp_forward_ref_embed(const mlp_model *m, const double *emb, int N, double *logits)
{
    const mlp_config *c = &m->cfg;
    const int T = c->n_ctx, E = mlp_embed_width(c), H = c->d_hidden, Vo = c->d_vocab_out,
              Din = mlp_d_in(c);
    const mlp_views *P = &m->p;
    const int W = Din > H ? Din : H;
    double *h = malloc(sizeof(double) * W), *y = malloc(sizeof(double) * W);
    GROK_ASSERT(h && y);
    for (int n = 0; n < N; n++) {
        const double *en = emb + (size_t)n * T * E;
        for (int i = 0; i < Din; i++)
            h[i] = 0;
        for (int t = 0; t < T; t++)
            for (int e = 0; e < E; e++)
                h[c->combine == MLP_COMBINE_SUM ? e : t * E + e] += en[t * E + e];
        int K = Din;
        for (int l = 0; l < c->n_layers; l++) {
            for (int j = 0; j < H; j++) {
                double s = P->b[l] ? P->b[l][j] : 0.0;
                for (int k = 0; k < K; k++)
                    s += h[k] * P->W[l][(size_t)k * H + j];
                y[j] = c->act == MLP_ACT_RELU     ? (s > 0 ? s : 0)
                       : c->act == MLP_ACT_GELU   ? 0.5 * s * (1 + erf(s / sqrt(2.0)))
                       : c->act == MLP_ACT_SQUARE ? s * s
                                                  : tanh(s);
            }
            memcpy(h, y, sizeof(double) * H);
            K = H;
        }
        for (int o = 0; o < Vo; o++) {
            double s = P->b_U ? P->b_U[o] : 0.0;
            for (int j = 0; j < H; j++)
                s += h[j] * P->W_U[(size_t)j * Vo + o];
            logits[(size_t)n * Vo + o] = s;
        }
    }
    free(h);
    free(y);
}

void mlp_forward_ref(const mlp_model *m, const int32_t *tokens, int N, double *logits)
{
    const int T = m->cfg.n_ctx, E = mlp_embed_width(&m->cfg);
    const int onehot = m->cfg.combine == MLP_COMBINE_ONEHOT;
    double *emb = malloc(sizeof(double) * (size_t)N * T * E);
    GROK_ASSERT(emb);
    for (int i = 0; i < N * T; i++)
        for (int e = 0; e < E; e++)
            emb[(size_t)i * E + e] =
                onehot ? (double)(e == tokens[i]) : m->p.W_E[(size_t)tokens[i] * E + e];
    mlp_forward_ref_embed(m, emb, N, logits);
    free(emb);
}
