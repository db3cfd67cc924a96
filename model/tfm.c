/* tfm.c: the transformer's parameter table, forward and backward.
 *
 * Owns the layout of the parameter buffer (one table, walked by everything
 * else), the activation workspace, and the hand-written forward and backward
 * passes; the loss at the logits is model/loss.c's (tfm_loss_with).  The
 * three rules that make it fast without a second model are described in
 * tfm.h: the last layer computes only the last position, and the
 * first layer works on tables with one row per (token, position) pair of the
 * batch, mixed per example by the attention (table_mix_forward/backward).
 * Every matrix product is la_gemm (BLIS) with strides; element-wise loops are
 * parallel over outputs only, and every sum over examples runs in a fixed
 * order, so the bits do not depend on the thread count; the hot element-wise
 * kernels are built for several vector widths (GROK_VECTOR_CLONES) with the
 * same bits.  The model follows TransformerLens's HookedTransformer (attention
 * scaled by 1/sqrt(Dh), causal mask, LayerNorm eps 1e-5); Nanda et al. (2023)
 * is the n_layers = 1, no-LayerNorm, ReLU case.  model.attn_rate (Zhong et al.
 * 2023) mixes the softmax with uniform weights after it (attention_scores_*:
 * with attn_uniform 0 the softmax path is exactly the plain one).  The naive
 * double-precision reference, tfm_forward_ref, is at the end of the file.
 *
 * Legend: N examples, T positions, D d_model, H heads, Dh d_head, HD = H*Dh,
 * M d_mlp, V vocabulary, Vo output vocabulary, Tq query positions of a layer,
 * q0 = T - Tq its first query position, VT = V*T, R <= VT layer-0 table rows. */
#include "tfm.h"

#include <math.h>
#include <omp.h>
#include <string.h>
#include <time.h>

#include "linalg.h"

#define LN_EPS 1e-5f
#define COLSUM_ROWS 64 /* rows per block of a column sum (see colsum) */

/* ------------------------------------------------------------------------ */
/* names */

static const char *const act_names[TFM_ACT_COUNT] = {"relu", "gelu"};

const char *tfm_act_name(tfm_act a) { return (a >= 0 && a < TFM_ACT_COUNT) ? act_names[a] : "?"; }

int tfm_act_parse(const char *name)
{
    for (int i = 0; i < TFM_ACT_COUNT; i++)
        if (strcmp(name, act_names[i]) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* config and parameter table */

int tfm_config_check(const tfm_config *c, grok_err *e)
{
#define CHECK_RANGE(field, lo, hi)                                                             \
    if (c->field < (lo) || c->field > (hi))                                                    \
        return grok_fail(e, GROK_EINVAL, "model." #field " = %d: must be between %d and %d",    \
                         (int)c->field, (int)(lo), (int)(hi));
    CHECK_RANGE(n_layers, 1, TFM_MAX_LAYERS);
    CHECK_RANGE(d_model, 1, 4096);
    CHECK_RANGE(n_heads, 1, 256);
    CHECK_RANGE(d_head, 1, 4096);
    CHECK_RANGE(d_mlp, 1, 16384);
    CHECK_RANGE(d_vocab, 1, 100000);
    CHECK_RANGE(d_vocab_out, 1, 100000);
    CHECK_RANGE(n_ctx, 1, 64);
#undef CHECK_RANGE
    if (c->act < 0 || c->act >= TFM_ACT_COUNT)
        return grok_fail(e, GROK_EINVAL, "model.act = %d: must be relu or gelu", (int)c->act);
    if (!(c->init_scale > 0) || !isfinite(c->init_scale))
        return grok_fail(e, GROK_EINVAL, "model.init_scale = %g: must be > 0", c->init_scale);
    if (c->init_scheme < 0 || c->init_scheme >= PARAM_INIT_COUNT)
        return grok_fail(e, GROK_EINVAL, "model.init_scheme = %d: must be gaussian or torch",
                         (int)c->init_scheme);
    if (c->normed_residual && !c->layernorm)
        return grok_fail(e, GROK_EINVAL,
                         "model.normed_residual = true: needs model.layernorm = true (the "
                         "residual it replaces is the LayerNorm's output)");
    if (!(c->attn_uniform >= 0 && c->attn_uniform <= 1))
        return grok_fail(e, GROK_EINVAL, "model.attn_rate = %g: must be between 0 and 1",
                         1.0 - c->attn_uniform);
    return GROK_OK;
}

/* The tensors of one block, in table order, listed once: the TransformerLens
 * name after "blocks.l.", when the block has it, its shape as dimension
 * codes, its initialisation (N(0, 1/D) times init_scale, or a constant) and
 * the view it fills.  table_build and views_point both walk it. */
enum { DIM_D, DIM_H, DIM_DH, DIM_M };
enum { IN_EVERY_BLOCK, WITH_LAYERNORM, WITH_ATTN_BIAS };
/* model.init_scheme = "torch": the constant, nn.MultiheadAttention's packed
 * in-projection (Xavier-uniform over [3*H*Dh, D]), or an nn.Linear's
 * U(+-1/sqrt(fan_in)) with fan_in H*Dh, D or M */
enum { TORCH_CONST, TORCH_QKV, TORCH_FAN_HD, TORCH_FAN_D, TORCH_FAN_M };
static const struct {
    const char *suffix;
    int when;     /* IN_EVERY_BLOCK, WITH_LAYERNORM or WITH_ATTN_BIAS */
    int ndim;
    int dims[3];  /* DIM_* codes of the first ndim dimensions */
    int gaussian; /* 1: N(0, 1/D); 0: the constant value */
    float value;
    size_t view;  /* offsetof the pointer in tfm_block_views */
    int torch;    /* TORCH_*: the rule under model.init_scheme = "torch" */
} block_tensors[] = {
    {"ln1.w", WITH_LAYERNORM, 1, {DIM_D}, 0, 1.0f, offsetof(tfm_block_views, ln1_w), TORCH_CONST},
    {"ln1.b", WITH_LAYERNORM, 1, {DIM_D}, 0, 0.0f, offsetof(tfm_block_views, ln1_b), TORCH_CONST},
    {"attn.W_Q", IN_EVERY_BLOCK, 3, {DIM_H, DIM_D, DIM_DH}, 1, 0.0f,
     offsetof(tfm_block_views, W_Q), TORCH_QKV},
    {"attn.W_K", IN_EVERY_BLOCK, 3, {DIM_H, DIM_D, DIM_DH}, 1, 0.0f,
     offsetof(tfm_block_views, W_K), TORCH_QKV},
    {"attn.W_V", IN_EVERY_BLOCK, 3, {DIM_H, DIM_D, DIM_DH}, 1, 0.0f,
     offsetof(tfm_block_views, W_V), TORCH_QKV},
    {"attn.W_O", IN_EVERY_BLOCK, 3, {DIM_H, DIM_DH, DIM_D}, 1, 0.0f,
     offsetof(tfm_block_views, W_O), TORCH_FAN_HD},
    {"attn.b_Q", WITH_ATTN_BIAS, 2, {DIM_H, DIM_DH}, 0, 0.0f,
     offsetof(tfm_block_views, b_Q), TORCH_CONST},
    {"attn.b_K", WITH_ATTN_BIAS, 2, {DIM_H, DIM_DH}, 0, 0.0f,
     offsetof(tfm_block_views, b_K), TORCH_CONST},
    {"attn.b_V", WITH_ATTN_BIAS, 2, {DIM_H, DIM_DH}, 0, 0.0f,
     offsetof(tfm_block_views, b_V), TORCH_CONST},
    {"attn.b_O", WITH_ATTN_BIAS, 1, {DIM_D}, 0, 0.0f, offsetof(tfm_block_views, b_O), TORCH_CONST},
    {"ln2.w", WITH_LAYERNORM, 1, {DIM_D}, 0, 1.0f, offsetof(tfm_block_views, ln2_w), TORCH_CONST},
    {"ln2.b", WITH_LAYERNORM, 1, {DIM_D}, 0, 0.0f, offsetof(tfm_block_views, ln2_b), TORCH_CONST},
    {"mlp.W_in", IN_EVERY_BLOCK, 2, {DIM_D, DIM_M}, 1, 0.0f,
     offsetof(tfm_block_views, W_in), TORCH_FAN_D},
    {"mlp.b_in", IN_EVERY_BLOCK, 1, {DIM_M}, 0, 0.0f, offsetof(tfm_block_views, b_in), TORCH_FAN_D},
    {"mlp.W_out", IN_EVERY_BLOCK, 2, {DIM_M, DIM_D}, 1, 0.0f,
     offsetof(tfm_block_views, W_out), TORCH_FAN_M},
    {"mlp.b_out", IN_EVERY_BLOCK, 1, {DIM_D}, 0, 0.0f,
     offsetof(tfm_block_views, b_out), TORCH_FAN_M},
};
#define N_BLOCK_TENSORS ((int)(sizeof block_tensors / sizeof block_tensors[0]))

/* Writes the table into b (b->t must have room for 5 + N_BLOCK_TENSORS * L
 * entries). */
static void table_build(param_table *b, const tfm_config *c)
{
    const int D = c->d_model, dim[] = {[DIM_D] = D, [DIM_H] = c->n_heads,
                                       [DIM_DH] = c->d_head, [DIM_M] = c->d_mlp};
    const int has[] = {[IN_EVERY_BLOCK] = 1, [WITH_LAYERNORM] = c->layernorm,
                       [WITH_ATTN_BIAS] = c->attn_bias};
    const double sd = 1.0 / sqrt((double)D);
    const int torch = c->init_scheme == PARAM_INIT_TORCH;
    const double HD = (double)c->n_heads * c->d_head;
    const double bound[] = {[TORCH_CONST] = 0, [TORCH_QKV] = sqrt(6.0 / (D + 3.0 * HD)),
                            [TORCH_FAN_HD] = 1.0 / sqrt(HD), [TORCH_FAN_D] = sd,
                            [TORCH_FAN_M] = 1.0 / sqrt((double)c->d_mlp)};
    char name[TFM_NAME_MAX];
    params_add(b, "embed.W_E", 2, c->d_vocab, D, 0, torch ? 1.0 : sd, 0); /* nn.Embedding */
    params_add(b, "pos_embed.W_pos", 2, c->n_ctx, D, 0, torch ? 1.0 : sd, 0);
    for (int l = 0; l < c->n_layers; l++)
        for (int i = 0; i < N_BLOCK_TENSORS; i++) {
            const int *d = block_tensors[i].dims, n = block_tensors[i].ndim;
            if (!has[block_tensors[i].when])
                continue;
            snprintf(name, sizeof name, "blocks.%d.%s", l, block_tensors[i].suffix);
            params_add(b, name, n, dim[d[0]], n > 1 ? dim[d[1]] : 0, n > 2 ? dim[d[2]] : 0,
                       block_tensors[i].gaussian && !torch ? sd : 0, block_tensors[i].value);
            if (torch && block_tensors[i].torch != TORCH_CONST)
                params_last_uniform(b, bound[block_tensors[i].torch]);
        }
    if (c->layernorm) {
        params_add(b, "ln_final.w", 1, D, 0, 0, 0, 1.0f);
        params_add(b, "ln_final.b", 1, D, 0, 0, 0, 0.0f);
    }
    params_add(b, "unembed.W_U", 2, D, c->d_vocab_out, 0, 1.0 / sqrt((double)c->d_vocab), 0);
    if (torch) /* nn.Linear(D, Vo, bias=False) */
        params_last_uniform(b, sd);
}

const tfm_tensor *tfm_find(const tfm_model *m, const char *name)
{
    return params_find(m->tensors, m->n_tensors, name);
}

/* Points the views of buffer `base` by looking names up in the table. */
static void views_point(const tfm_model *m, float *base, tfm_views *v)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < m->n_tensors; i++) {
        const tfm_tensor *t = &m->tensors[i];
        float *p = base + t->offset;
        int l;
        char rest[TFM_NAME_MAX];
        if (strcmp(t->name, "embed.W_E") == 0)
            v->W_E = p;
        else if (strcmp(t->name, "pos_embed.W_pos") == 0)
            v->W_pos = p;
        else if (strcmp(t->name, "ln_final.w") == 0)
            v->lnf_w = p;
        else if (strcmp(t->name, "ln_final.b") == 0)
            v->lnf_b = p;
        else if (strcmp(t->name, "unembed.W_U") == 0)
            v->W_U = p;
        else if (sscanf(t->name, "blocks.%d.%47s", &l, rest) == 2) {
            tfm_block_views *bv = &v->blocks[l];
            int found = 0;
            for (int f = 0; f < N_BLOCK_TENSORS; f++)
                if (strcmp(rest, block_tensors[f].suffix) == 0) {
                    *(float **)((char *)bv + block_tensors[f].view) = p;
                    found = 1;
                }
            GROK_ASSERT(found);
        } else
            GROK_ASSERT(!"unknown tensor name in table");
    }
}

int tfm_init(tfm_model *m, const tfm_config *cfg, grok_err *e)
{
    memset(m, 0, sizeof *m);
    int rc = tfm_config_check(cfg, e);
    if (rc)
        return rc;
    m->cfg = *cfg;
    const int cap = 5 + N_BLOCK_TENSORS * cfg->n_layers;
    param_table b = {calloc((size_t)cap, sizeof(tfm_tensor)), 0, 0, cap};
    if (!b.t)
        return grok_fail(e, GROK_ENOMEM, "out of memory building the parameter table");
    table_build(&b, cfg);
    m->tensors = b.t;
    m->n_tensors = b.n;
    m->n_params = b.offset;
    m->params = grok_alloc(m->n_params * sizeof(float));
    m->grads = grok_alloc(m->n_params * sizeof(float));
    if (!m->params || !m->grads) {
        tfm_free(m);
        return grok_fail(e, GROK_ENOMEM, "out of memory for %zu parameters", b.offset);
    }
    views_point(m, m->params, &m->p);
    views_point(m, m->grads, &m->g);
    return GROK_OK;
}

void tfm_free(tfm_model *m)
{
    free(m->tensors);
    grok_free(m->params);
    grok_free(m->grads);
    memset(m, 0, sizeof *m);
}

void tfm_init_params(tfm_model *m, rng *r)
{
    params_init_draw(m->tensors, m->n_tensors, m->params, m->cfg.init_scale, r);
}

/* ------------------------------------------------------------------------ */
/* activation workspace */

typedef struct {
    int Tq, q0;
    float *ln1_out, *ln1_mean, *ln1_rstd; /* [N*T, D], [N*T], [N*T]  (layers > 0) */
    float *q, *k, *v;                     /* [N*Tq, HD], [N*T, HD] x2  (layers > 0) */
    float *att;                           /* [N, H, Tq, T] attention weights A */
    float *prob;                          /* [N, H, Tq, T] the softmax probabilities
                                             A mixes (attn_uniform > 0; else NULL:
                                             A is the softmax) */
    float *z;                             /* [N*Tq, HD] attention-weighted values (layers > 0) */
    float *x_mid;                         /* [N*Tq, D] residual after attention */
    float *ln2_out, *ln2_mean, *ln2_rstd; /* [N*Tq, D], [N*Tq] x2 */
    float *pre, *post;                    /* [N*Tq, M] MLP before / after activation
                                             (one buffer for ReLU) */
    float *x_out;                         /* [N*Tq, D] residual after the block */
} layer_acts;

struct tfm_acts {
    tfm_config cfg;
    int n_max, n, VT;
    int R;            /* distinct (token, position) pairs of the last batch: table rows */
    double *loss_scratch; /* [N, Vo] scratch of loss_rows */
    double *colsum_part; /* [row blocks, max(M, D, HD)] partial column sums */
    /* layer-0 tables: one row per (token v, position t) pair present in the
     * batch, rows in increasing v*T + t (R <= VT rows, sized for VT) */
    int32_t *tab_vt;                     /* [VT] v*T + t of table row r */
    int32_t *vt_row;                     /* [VT] the inverse: row of v*T + t, or -1 */
    unsigned char *eg_used;              /* [VT] tfm_embed_grad: pairs taken by the batch */
    float *tab_x;                        /* [R, D] W_E[v] + W_pos[t] */
    float *tab_o;                        /* [H, R, D] tab_v[:, h] @ W_O[h] */
    float *tab_ln, *tab_mean, *tab_rstd; /* [R, D], [R], [R] ln1 of tab_x */
    float *tab_q, *tab_k, *tab_v;        /* [R, HD] */
    int32_t *row0;                       /* [N*T]  table row of example n, position t */
    int32_t *qrow0;                      /* [N*Tq0] table row of layer 0's query i */
    int32_t *ident;                      /* [N*T]  identity rows for layers > 0 */
    layer_acts L[TFM_MAX_LAYERS];
    float *lnf_out, *lnf_mean, *lnf_rstd; /* [N, D], [N], [N] */
    float *logits;                        /* [N, Vo] */
    float *dlogits;                       /* [N, Vo] d(mean loss)/d logits */
    /* backward scratch */
    float *d_res, *d_res2; /* [N*T, D] gradients of residual streams */
    float *d_ln;           /* [max(N*T, VT), D] gradient at a LayerNorm output */
    float *d_mlp;          /* [N*T, M] */
    float *dz;             /* [N*T, HD] */
    float *dq, *dk, *dv;   /* [max(N*T, VT), HD] */
    float *datt;           /* [N, H, T, T] d loss / d attention probabilities */
    float *d_tab;          /* [(1+H)*R, D] gradients of tab_x, then of tab_o */
    tfm_profile *prof; /* NULL, or where la_gemm time and flops are added */
    /* ownership: everything above is carved out of one block */
    float *block;
};

static size_t carve(float **dst, float **cursor, size_t n)
{
    n = (n + 15) / 16 * 16; /* keep every array 64-byte aligned */
    if (dst)
        *dst = *cursor;
    *cursor += n;
    return n;
}

/* Lays the arrays of `a` out from `base`; with base NULL only counts floats. */
static size_t acts_layout(const tfm_config *c, int N, tfm_acts *a, float *base)
{
    const size_t T = (size_t)c->n_ctx, D = (size_t)c->d_model, HD = (size_t)c->n_heads * c->d_head,
                 H = (size_t)c->n_heads, M = (size_t)c->d_mlp, Vo = (size_t)c->d_vocab_out;
    const size_t VT = (size_t)c->d_vocab * T, n = (size_t)N;
    float *cur = base, *dummy;
    size_t total = 0;
#define C(field, count) total += carve(base ? &(field) : &dummy, &cur, (count))
    C(a->tab_x, VT * D);
    C(a->tab_o, H * VT * D);
    C(a->tab_ln, VT * D);
    C(a->tab_mean, VT);
    C(a->tab_rstd, VT);
    C(a->tab_q, VT * HD);
    C(a->tab_k, VT * HD);
    C(a->tab_v, VT * HD);
    for (int l = 0; l < c->n_layers; l++) {
        layer_acts *L = &a->L[l];
        const size_t Tq = (l == c->n_layers - 1) ? 1 : T;
        if (l > 0) {
            if (c->layernorm) {
                C(L->ln1_out, n * T * D);
                C(L->ln1_mean, n * T);
                C(L->ln1_rstd, n * T);
            }
            C(L->q, n * Tq * HD);
            C(L->k, n * T * HD);
            C(L->v, n * T * HD);
        }
        C(L->att, n * H * Tq * T);
        if (c->attn_uniform != 0)
            C(L->prob, n * H * Tq * T);
        if (l > 0)
            C(L->z, n * Tq * HD);
        C(L->x_mid, n * Tq * D);
        if (c->layernorm) {
            C(L->ln2_out, n * Tq * D);
            C(L->ln2_mean, n * Tq);
            C(L->ln2_rstd, n * Tq);
        }
        C(L->post, n * Tq * M);
        if (c->act == TFM_ACT_RELU)
            L->pre = L->post; /* ReLU works in place: relu'(pre) = (post > 0) */
        else
            C(L->pre, n * Tq * M);
        C(L->x_out, n * Tq * D);
    }
    if (c->layernorm) {
        C(a->lnf_out, n * D);
        C(a->lnf_mean, n);
        C(a->lnf_rstd, n);
    }
    C(a->logits, n * Vo);
    C(a->dlogits, n * Vo);
    /* backward scratch: all positions only when a layer below the last exists */
    const size_t Tm = c->n_layers > 1 ? T : 1;
    const size_t rows = n * Tm > VT ? n * Tm : VT;
    C(a->d_res, n * Tm * D);
    C(a->d_res2, n * Tm * D);
    C(a->d_ln, rows * D);
    C(a->d_mlp, n * Tm * M);
    C(a->dz, n * Tm * HD);
    C(a->dq, rows * HD);
    C(a->dk, rows * HD);
    C(a->dv, rows * HD);
    C(a->datt, n * H * T * T);
    C(a->d_tab, (1 + H) * VT * D);
#undef C
    return total;
}

tfm_acts *tfm_acts_alloc(const tfm_model *m, int n_max)
{
    const tfm_config *c = &m->cfg;
    tfm_acts *a = calloc(1, sizeof *a);
    if (!a || n_max < 1)
        return free(a), NULL;
    a->cfg = *c;
    a->n_max = n_max;
    a->VT = c->d_vocab * c->n_ctx;
    size_t floats = acts_layout(c, n_max, a, NULL);
    a->block = grok_alloc(floats * sizeof(float));
    const size_t nT = (size_t)n_max * (size_t)c->n_ctx;
    a->row0 = malloc(nT * sizeof(int32_t));
    a->qrow0 = malloc(nT * sizeof(int32_t));
    a->ident = malloc(nT * sizeof(int32_t));
    a->tab_vt = malloc((size_t)a->VT * sizeof(int32_t));
    a->vt_row = malloc((size_t)a->VT * sizeof(int32_t));
    a->eg_used = malloc((size_t)a->VT);
    a->loss_scratch = malloc((size_t)n_max * (size_t)c->d_vocab_out * sizeof(double));
    {
        const size_t rows = nT > (size_t)a->VT ? nT : (size_t)a->VT;
        size_t cols = (size_t)c->d_mlp;
        cols = (size_t)c->d_model > cols ? (size_t)c->d_model : cols;
        cols = (size_t)c->n_heads * c->d_head > cols ? (size_t)c->n_heads * c->d_head : cols;
        a->colsum_part = malloc((rows / COLSUM_ROWS + 1) * cols * sizeof(double));
    }
    if (!a->block || !a->row0 || !a->qrow0 || !a->ident || !a->tab_vt || !a->vt_row ||
        !a->eg_used || !a->loss_scratch || !a->colsum_part) {
        tfm_acts_free(a);
        return NULL;
    }
    acts_layout(c, n_max, a, a->block);
    for (int l = 0; l < c->n_layers; l++) {
        a->L[l].Tq = (l == c->n_layers - 1) ? 1 : c->n_ctx;
        a->L[l].q0 = c->n_ctx - a->L[l].Tq;
    }
    for (size_t i = 0; i < nT; i++)
        a->ident[i] = (int32_t)i;
    return a;
}

void tfm_acts_free(tfm_acts *a)
{
    if (!a)
        return;
    grok_free(a->block);
    free(a->row0);
    free(a->qrow0);
    free(a->ident);
    free(a->tab_vt);
    free(a->vt_row);
    free(a->eg_used);
    free(a->loss_scratch);
    free(a->colsum_part);
    free(a);
}

const float *tfm_logits(const tfm_acts *a) { return a->logits; }

/* ------------------------------------------------------------------------ */
/* layer kernels: outputs first, then inputs, then sizes */

/* out = LayerNorm(x) * w + b over rows of width D (TransformerLens: biased
 * variance, eps 1e-5); saves mean and rstd for the backward.  x and out rows
 * are strided by rsx and rso. */
static void layernorm_forward(float *out, ptrdiff_t rso, float *mean, float *rstd, const float *x,
                              ptrdiff_t rsx, const float *w, const float *b, int rows, int D)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        const float *xr = x + r * rsx;
        float *o = out + r * rso;
        double s = 0, ss = 0;
        for (int d = 0; d < D; d++)
            s += xr[d];
        const double mu = s / D;
        for (int d = 0; d < D; d++)
            ss += (xr[d] - mu) * (xr[d] - mu);
        const float rs = (float)(1.0 / sqrt(ss / D + LN_EPS));
        mean[r] = (float)mu;
        rstd[r] = rs;
        for (int d = 0; d < D; d++)
            o[d] = ((xr[d] - (float)mu) * rs) * w[d] + b[d];
    }
}

/* Backward of out = (x - mean) * rstd * w + b:
 *   dx += rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dout * w
 *   dw += sum_r dout * xhat,  db += sum_r dout  (accumulated in row order). */
static void layernorm_backward(float *dx, ptrdiff_t rsdx, float *dw, float *db, const float *dout,
                               ptrdiff_t rsdo, const float *x, ptrdiff_t rsx, const float *mean,
                               const float *rstd, const float *w, int rows, int D)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        const float *xr = x + r * rsx, *g = dout + r * rsdo;
        float *o = dx + r * rsdx;
        double mg = 0, mgx = 0;
        for (int d = 0; d < D; d++) {
            const float xh = (xr[d] - mean[r]) * rstd[r];
            mg += g[d] * w[d];
            mgx += g[d] * w[d] * xh;
        }
        mg /= D;
        mgx /= D;
        for (int d = 0; d < D; d++) {
            const float xh = (xr[d] - mean[r]) * rstd[r];
            o[d] += rstd[r] * (g[d] * w[d] - (float)mg - xh * (float)mgx);
        }
    }
    /* parameter gradients: parallel over columns, each summed over rows in order */
#pragma omp parallel for schedule(static)
    for (int d = 0; d < D; d++) {
        double sw = 0, sb = 0;
        for (int r = 0; r < rows; r++) {
            const float xh = (x[r * rsx + d] - mean[r]) * rstd[r];
            sw += dout[r * rsdo + d] * xh;
            sb += dout[r * rsdo + d];
        }
        dw[d] += (float)sw;
        db[d] += (float)sb;
    }
}

/* Sums over rows run in fixed blocks of COLSUM_ROWS rows: each block's partial
 * sum (in double) is computed row-major by whichever thread takes it, then the
 * partials are added in block order, so the bits do not depend on the thread
 * count.  part: [ceil(rows / COLSUM_ROWS), cols] scratch. */

/* out[c] = sum of the block partials part[b, c], in block order; accumulate
 * into out when acc, else overwrite. */
static void colsum_finish(float *out, const double *part, int n_blocks, int cols, int acc)
{
#pragma omp parallel for schedule(static)
    for (int c = 0; c < cols; c++) {
        double s = 0;
        for (int b = 0; b < n_blocks; b++)
            s += part[(size_t)b * cols + c];
        out[c] = (float)(acc ? out[c] + s : s);
    }
}

/* out[c] = sum_r x[r, c] (rows strided by rs). */
static void colsum(float *out, const float *x, ptrdiff_t rs, int rows, int cols, int acc,
                   double *part)
{
    const int n_blocks = (rows + COLSUM_ROWS - 1) / COLSUM_ROWS;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n_blocks; b++) {
        double *p = part + (size_t)b * cols;
        const int r1 = (b + 1) * COLSUM_ROWS < rows ? (b + 1) * COLSUM_ROWS : rows;
        for (int c = 0; c < cols; c++)
            p[c] = 0;
        for (int r = b * COLSUM_ROWS; r < r1; r++)
            for (int c = 0; c < cols; c++)
                p[c] += x[r * rs + c];
    }
    colsum_finish(out, part, n_blocks, cols, acc);
}

static inline float gelu(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

static inline float gelu_grad(float x)
{
    const float cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
    const float pdf = expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
    return cdf + x * pdf;
}

/* One row of bias_act_forward. */
GROK_VECTOR_CLONES
static void bias_act_row(float *post, float *pre, const float *b, int M, tfm_act act)
{
    if (act == TFM_ACT_RELU)
        for (int j = 0; j < M; j++) {
            const float x = b ? pre[j] + b[j] : pre[j];
            post[j] = x > 0 ? x : 0;
        }
    else
        for (int j = 0; j < M; j++) {
            if (b)
                pre[j] += b[j];
            post[j] = gelu(pre[j]);
        }
}

/* pre += b (per column; b may be NULL); post = act(pre).  [rows, M]; for
 * ReLU pre and post are the same buffer. */
static void bias_act_forward(float *post, float *pre, const float *b, int rows, int M, tfm_act act)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++)
        bias_act_row(post + (size_t)r * M, pre + (size_t)r * M, b, M, act);
}

/* Rows [r0, r1) of act_backward: d *= act'(pre), p[j] = the column sums of
 * the result, in row order. */
GROK_VECTOR_CLONES
static void act_backward_block(float *d, double *p, const float *pre, int r0, int r1, int M,
                               tfm_act act)
{
    for (int j = 0; j < M; j++)
        p[j] = 0;
    for (int r = r0; r < r1; r++) {
        float *restrict dr = d + (size_t)r * M;
        const float *restrict pr = pre + (size_t)r * M;
        if (act == TFM_ACT_RELU)
            for (int j = 0; j < M; j++)
                dr[j] = pr[j] > 0 ? dr[j] : 0;
        else
            for (int j = 0; j < M; j++)
                dr[j] *= gelu_grad(pr[j]);
        for (int j = 0; j < M; j++)
            p[j] += dr[j];
    }
}

/* d *= act'(pre) in place, [rows, M], and db = the column sums of the result
 * (blocked as in colsum), in one pass. */
static void act_backward(float *d, float *db, const float *pre, int rows, int M, tfm_act act,
                         double *part)
{
    const int n_blocks = (rows + COLSUM_ROWS - 1) / COLSUM_ROWS;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n_blocks; b++) {
        const int r1 = (b + 1) * COLSUM_ROWS < rows ? (b + 1) * COLSUM_ROWS : rows;
        act_backward_block(d, part + (size_t)b * M, pre, b * COLSUM_ROWS, r1, M, act);
    }
    colsum_finish(db, part, n_blocks, M, 0);
}

/* sum_e x[e] y[e] in float with 32 interleaved partial sums added pairwise
 * (a fixed tree): the compiler maps the partial sums onto vector registers of
 * any width, and the bits depend only on n. */
static inline float dot(const float *restrict x, const float *restrict y, int n)
{
    enum { P = 32 };
    float acc[P] = {0};
    int e = 0;
    for (; e + P <= n; e += P)
        for (int u = 0; u < P; u++)
            acc[u] += x[e + u] * y[e + u];
    for (int w = P / 2; w > 0; w /= 2)
        for (int u = 0; u < w; u++)
            acc[u] += acc[u + w];
    float s = acc[0];
    for (; e < n; e++)
        s += x[e] * y[e];
    return s;
}

/* y[e] += alpha x[e], e < n */
static inline void axpy(float *restrict y, float alpha, const float *restrict x, int n)
{
    for (int e = 0; e < n; e++)
        y[e] += alpha * x[e];
}

/* attention_scores_forward for example n. */
GROK_VECTOR_CLONES
static void attention_scores_example(float *att, float *prob, float rate, const float *q,
                                     const float *k, const int32_t *qrow, const int32_t *krow,
                                     int n, int T, int Tq, int H, int Dh, int causal)
{
    const int HD = H * Dh, q0 = T - Tq;
    const float scale = 1.0f / sqrtf((float)Dh);
    for (int h = 0; h < H; h++)
        for (int i = 0; i < Tq; i++) {
            const float *qi = q + (size_t)qrow[n * Tq + i] * HD + h * Dh;
            float *a = att + (((size_t)n * H + h) * Tq + i) * T;
            const int nk = causal ? q0 + i + 1 : T;
            float mx = -INFINITY;
            for (int j = 0; j < nk; j++) {
                a[j] = dot(qi, k + (size_t)krow[n * T + j] * HD + h * Dh, Dh) * scale;
                mx = a[j] > mx ? a[j] : mx;
            }
            float sum = 0;
            for (int j = 0; j < nk; j++) {
                a[j] = expf(a[j] - mx);
                sum += a[j];
            }
            for (int j = 0; j < nk; j++)
                a[j] /= sum;
            for (int j = nk; j < T; j++)
                a[j] = 0;
            if (prob) {
                float *p = prob + (((size_t)n * H + h) * Tq + i) * T;
                for (int j = 0; j < T; j++)
                    p[j] = a[j];
                for (int j = 0; j < nk; j++)
                    a[j] = rate * p[j] + (1.0f - rate);
            }
        }
}

/* Attention weights for Tq query positions (q0 = T - Tq) of N examples:
 * s[j] = q_i . k_j / sqrt(Dh) for the allowed j (j <= q0 + i when causal,
 * every j otherwise), att = softmax(s), zero for the other j.  With prob (not
 * NULL) the softmax goes to prob and att = rate * prob + (1 - rate) on the
 * allowed j (model.attn_rate); with prob NULL, rate is not read.  q and k
 * rows are addressed through qrow [N*Tq] and krow [N*T] (the layer-0 tables
 * or the identity), HD columns, head h at h*Dh. */
static void attention_scores_forward(float *att, float *prob, float rate, const float *q,
                                     const float *k, const int32_t *qrow, const int32_t *krow,
                                     int N, int T, int Tq, int H, int Dh, int causal)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        attention_scores_example(att, prob, rate, q, k, qrow, krow, n, T, Tq, H, Dh, causal);
}

/* z_i = sum_j att[j] v_j  (layers above the first; rows of v through krow). */
static void attention_values_forward(float *z, const float *att, const float *v,
                                     const int32_t *krow, int N, int T, int Tq, int H, int Dh, int causal)
{
    const int HD = H * Dh, q0 = T - Tq;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tq; i++) {
                const float *a = att + (((size_t)n * H + h) * Tq + i) * T;
                float *zi = z + ((size_t)n * Tq + i) * HD + h * Dh;
                for (int e = 0; e < Dh; e++)
                    zi[e] = 0;
                for (int j = 0; j <= (causal ? q0 + i : T - 1); j++)
                    axpy(zi, a[j], v + (size_t)krow[n * T + j] * HD + h * Dh, Dh);
            }
}

/* Backward of attention_values_forward: datt[j] = dz_i . v_j (overwrites) and
 * dv_j += att[j] dz_i.  Each thread owns whole heads and visits examples in
 * order, so every sum has a fixed order. */
static void attention_values_backward(float *datt, float *dv, const float *dz, const float *att,
                                      const float *v, const int32_t *krow, int N, int T, int Tq,
                                      int H, int Dh, int causal)
{
    const int HD = H * Dh, q0 = T - Tq;
#pragma omp parallel for schedule(static)
    for (int h = 0; h < H; h++)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < Tq; i++) {
                const size_t ai = (((size_t)n * H + h) * Tq + i) * T;
                const float *dzi = dz + ((size_t)n * Tq + i) * HD + h * Dh;
                for (int j = 0; j <= (causal ? q0 + i : T - 1); j++) {
                    const size_t kr = (size_t)krow[n * T + j] * HD + h * Dh;
                    datt[ai + j] = dot(dzi, v + kr, Dh);
                    axpy(dv + kr, att[ai + j], dzi, Dh);
                }
            }
}

/* Backward of attention_scores_forward, from datt (d loss / d att) to dq and
 * dk, accumulated (+=) at the rows qrow/krow name, so several examples may add
 * into one table row; each thread owns whole heads and visits examples in
 * order.  prob: the softmax probabilities (att itself when rate is 1):
 *   ds[j] = rate prob[j] (datt[j] - sum_j' prob[j'] datt[j']) / sqrt(Dh);
 *   dq_i += sum_j ds[j] k_j;  dk_j += ds[j] q_i. */
static void attention_scores_backward(float *dq, float *dk, const float *datt, const float *prob,
                                      float rate, const float *q, const float *k,
                                      const int32_t *qrow, const int32_t *krow, int N, int T,
                                      int Tq, int H, int Dh, int causal)
{
    const int HD = H * Dh, q0 = T - Tq;
    const float scale = rate == 1.0f ? 1.0f / sqrtf((float)Dh) : rate / sqrtf((float)Dh);
    if (scale == 0)
        return; /* rate 0: the weights do not depend on q and k */
#pragma omp parallel for schedule(static)
    for (int h = 0; h < H; h++)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < Tq; i++) {
                const int nk = causal ? q0 + i + 1 : T;
                const float *a = prob + (((size_t)n * H + h) * Tq + i) * T;
                const float *da = datt + (((size_t)n * H + h) * Tq + i) * T;
                const size_t qr = (size_t)qrow[n * Tq + i] * HD + h * Dh;
                float mean = 0;
                for (int j = 0; j < nk; j++)
                    mean += a[j] * da[j];
                for (int j = 0; j < nk; j++) {
                    const size_t kr = (size_t)krow[n * T + j] * HD + h * Dh;
                    const float ds = a[j] * (da[j] - mean) * scale;
                    axpy(dq + qr, ds, k + kr, Dh);
                    axpy(dk + kr, ds, q + qr, Dh);
                }
            }
}

/* o[w] += sum_u c[u] src[u][w] over k source rows of width W, four sources
 * per pass over o: o += (c0 s0 + c1 s1) + (c2 s2 + c3 s3), then the rest one
 * at a time. */
GROK_VECTOR_CLONES
static void rows_mix(float *restrict o, const float *const *src, const float *c, int k, int W)
{
    int g = 0;
    for (; g + 4 <= k; g += 4) {
        const float *restrict s0 = src[g], *restrict s1 = src[g + 1], *restrict s2 = src[g + 2],
                              *restrict s3 = src[g + 3];
        const float c0 = c[g], c1 = c[g + 1], c2 = c[g + 2], c3 = c[g + 3];
        for (int w = 0; w < W; w++)
            o[w] += (c0 * s0[w] + c1 * s1[w]) + (c2 * s2[w] + c3 * s3[w]);
    }
    for (; g < k; g++) {
        const float *restrict s0 = src[g];
        const float c0 = c[g];
        for (int w = 0; w < W; w++)
            o[w] += c0 * s0[w];
    }
}

/* out[u] += dot(x, src[u]) for k source rows of width W. */
GROK_VECTOR_CLONES
static void rows_dot(float *out, const float *restrict x, const float *const *src, int k, int W)
{
    for (int g = 0; g < k; g++)
        out[g] += dot(x, src[g], W);
}

#define MIX_SRC 64 /* source rows gathered per call of rows_mix / rows_dot */

/* Rule (3) of tfm.h: layer 0's residual after attention, from tables instead
 * of per-example products:
 *   out[n, i] = bias + self[qrow(n, i)] + sum_h sum_j att[n, h, i, j] heads[h][krow(n, j)]
 * self [R, W] is the residual's table (tab_x), heads [H, R, W] the values
 * pushed through W_O (tab_o); bias may be NULL. */
static void table_mix_forward(float *out, const float *self, const float *heads, const float *att,
                              const int32_t *qrow, const int32_t *krow, const float *bias, int N,
                              int T, int Tq, int H, int R, int W, int causal)
{
    const int q0 = T - Tq;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < N * Tq; r++) {
        const int n = r / Tq, i = r % Tq;
        float *o = out + (size_t)r * W;
        const float *s = self + (size_t)qrow[r] * W;
        for (int w = 0; w < W; w++)
            o[w] = bias ? s[w] + bias[w] : s[w];
        const float *src[MIX_SRC];
        float coef[MIX_SRC];
        int k = 0;
        for (int h = 0; h < H; h++) {
            const float *a = att + (((size_t)n * H + h) * Tq + i) * T;
            for (int j = 0; j <= (causal ? q0 + i : T - 1); j++) {
                src[k] = heads + ((size_t)h * R + krow[n * T + j]) * W;
                coef[k++] = a[j];
                if (k == MIX_SRC)
                    rows_mix(o, src, coef, k, W), k = 0;
            }
        }
        rows_mix(o, src, coef, k, W);
    }
}

/* dself[qrow] += dout and dheads[h][krow] += att dout, for the columns
 * [w0, w1) only, visiting examples in order. */
GROK_VECTOR_CLONES
static void mix_scatter_columns(float *dself, float *dheads, const float *dout, const float *att,
                                const int32_t *qrow, const int32_t *krow, int N, int T, int Tq,
                                int H, int R, int W, int w0, int w1, int causal)
{
    const int q0 = T - Tq, nw = w1 - w0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < Tq; i++) {
            const float *restrict d = dout + ((size_t)n * Tq + i) * W + w0;
            float *restrict ds = dself + (size_t)qrow[n * Tq + i] * W + w0;
            for (int w = 0; w < nw; w++)
                ds[w] += d[w];
            for (int h = 0; h < H; h++) {
                const float *a = att + (((size_t)n * H + h) * Tq + i) * T;
                for (int j = 0; j <= (causal ? q0 + i : T - 1); j++) {
                    float *restrict dh = dheads + ((size_t)h * R + krow[n * T + j]) * W + w0;
                    const float aj = a[j];
                    for (int w = 0; w < nw; w++)
                        dh[w] += aj * d[w];
                }
            }
        }
}

/* Backward of table_mix_forward for dout [N*Tq, W]: datt += dout . heads[h][krow]
 * (per example), then dself[qrow] += dout and dheads[h][krow] += att dout.
 * The scatter gives each thread a range of columns, walking the examples in
 * order: every element's sum has the same order whatever the split, so the
 * bits do not depend on the thread count. */
static void table_mix_backward(float *datt, float *dself, float *dheads, const float *dout,
                               const float *att, const float *heads, const int32_t *qrow,
                               const int32_t *krow, int N, int T, int Tq, int H, int R, int W, int causal)
{
    const int q0 = T - Tq;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < N * Tq; r++) {
        const int n = r / Tq, i = r % Tq;
        const float *d = dout + (size_t)r * W;
        const float *src[MIX_SRC];
        float *dst[MIX_SRC], val[MIX_SRC];
        int k = 0;
        for (int h = 0; h < H; h++) {
            float *da = datt + (((size_t)n * H + h) * Tq + i) * T;
            for (int j = 0; j <= (causal ? q0 + i : T - 1); j++) {
                src[k] = heads + ((size_t)h * R + krow[n * T + j]) * W;
                dst[k] = &da[j];
                val[k++] = 0;
                if (k == MIX_SRC || (h == H - 1 && j == (causal ? q0 + i : T - 1))) {
                    rows_dot(val, d, src, k, W);
                    for (int u = 0; u < k; u++)
                        *dst[u] += val[u];
                    k = 0;
                }
            }
        }
    }
#pragma omp parallel
    {
        const int units = (W + 15) / 16, t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int w0 = (int)((long)units * t / nt) * 16, w1 = (int)((long)units * (t + 1) / nt) * 16;
        if (w0 < W)
            mix_scatter_columns(dself, dheads, dout, att, qrow, krow, N, T, Tq, H, R, W, w0,
                                w1 < W ? w1 : W, causal);
    }
}

/* ------------------------------------------------------------------------ */
/* profiling: la_gemm, timed when the workspace has a profile attached */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void gemm(tfm_acts *a, int m, int n, int k, float alpha, const float *A, ptrdiff_t rsa,
                 ptrdiff_t csa, const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C,
                 ptrdiff_t rsc, ptrdiff_t csc)
{
    la_gemm_prof(a->prof, m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
}

void tfm_acts_profile(tfm_acts *a, tfm_profile *prof) { a->prof = prof; }

/* `count` products of one shape, C_i = alpha A_i B_i + beta C_i, operand i at
 * A + i*da, B + i*db, C + i*dc (the heads of a layer).  Small ones run side by
 * side, one per thread (la_gemm runs each on one thread); large ones one after
 * another on all threads.  Each C_i is computed the same way either way. */
static void gemm_many(tfm_acts *a, int count, int m, int n, int k, float alpha, const float *A,
                      ptrdiff_t da, ptrdiff_t rsa, ptrdiff_t csa, const float *B, ptrdiff_t db,
                      ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t dc,
                      ptrdiff_t rsc, ptrdiff_t csc)
{
    const double t0 = a->prof ? now_seconds() : 0;
    if (2.0 * m * n * k < LA_PARALLEL_MIN_FLOPS) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < count; i++)
            la_gemm(m, n, k, alpha, A + i * da, rsa, csa, B + i * db, rsb, csb, beta, C + i * dc,
                    rsc, csc);
    } else
        for (int i = 0; i < count; i++)
            la_gemm(m, n, k, alpha, A + i * da, rsa, csa, B + i * db, rsb, csb, beta, C + i * dc,
                    rsc, csc);
    if (a->prof) {
        a->prof->gemm_seconds += now_seconds() - t0;
        a->prof->gemm_flops += 2.0 * m * n * k * count;
        a->prof->gemm_calls += count;
    }
}

/* ------------------------------------------------------------------------ */
/* forward */

/* Q, K, V projections of `rows` input rows x (row stride rsx) into q, k, v
 * [rows, HD]: for each head, x [rows, D] @ W[h] [D, Dh] (+ b[h]). */
static void qkv_project(tfm_acts *a, float *out, const float *x, ptrdiff_t rsx, const float *W,
                        const float *b, int rows, int D, int H, int Dh)
{
    const int HD = H * Dh;
    gemm_many(a, H, rows, Dh, D, 1.0f, x, 0, rsx, 1, W, (ptrdiff_t)D * Dh, Dh, 1, 0.0f, out, Dh,
              HD, 1);
    if (b) {
#pragma omp parallel for schedule(static)
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < HD; j++)
                out[(size_t)r * HD + j] += b[j];
    }
}

void tfm_forward(const tfm_model *m, tfm_acts *a, const int32_t *tokens, int N)
{
    const tfm_config *c = &m->cfg;
    const int causal = !c->bidirectional; /* the attention mask */
    const float rate = (float)(1.0 - c->attn_uniform); /* read only when L->prob is set */
    const int T = c->n_ctx, D = c->d_model, H = c->n_heads, Dh = c->d_head, HD = H * Dh,
              M = c->d_mlp, Vo = c->d_vocab_out, V = c->d_vocab, VT = V * T;
    GROK_ASSERT(N >= 1 && N <= a->n_max);
    a->n = N;
    const tfm_views *P = &m->p;

    /* layer-0 table rows: the (token, position) pairs of the batch */
    for (int r = 0; r < VT; r++)
        a->vt_row[r] = -1;
    for (int i = 0; i < N * T; i++) {
        GROK_ASSERT(tokens[i] >= 0 && tokens[i] < V);
        a->vt_row[tokens[i] * T + i % T] = 0;
    }
    int R = 0;
    for (int r = 0; r < VT; r++)
        if (a->vt_row[r] == 0) {
            a->tab_vt[R] = r;
            a->vt_row[r] = R++;
        }
    a->R = R;
    const int Tq0 = a->L[0].Tq, q00 = a->L[0].q0;
    for (int n = 0; n < N; n++) {
        for (int t = 0; t < T; t++)
            a->row0[n * T + t] = a->vt_row[tokens[n * T + t] * T + t];
        for (int i = 0; i < Tq0; i++)
            a->qrow0[n * Tq0 + i] = a->row0[n * T + q00 + i];
    }

    /* layer-0 tables: tab_x[r] = W_E[v] + W_pos[t], then ln1, then Q, K, V */
#pragma omp parallel for schedule(static)
    for (int r = 0; r < R; r++) {
        const int v = a->tab_vt[r] / T, t = a->tab_vt[r] % T;
        for (int d = 0; d < D; d++)
            a->tab_x[(size_t)r * D + d] = P->W_E[(size_t)v * D + d] + P->W_pos[t * D + d];
    }
    const float *tab_in = a->tab_x;
    if (c->layernorm) {
        layernorm_forward(a->tab_ln, D, a->tab_mean, a->tab_rstd, a->tab_x, D, P->blocks[0].ln1_w,
                          P->blocks[0].ln1_b, R, D);
        tab_in = a->tab_ln;
    }
    qkv_project(a, a->tab_q, tab_in, D, P->blocks[0].W_Q, P->blocks[0].b_Q, R, D, H, Dh);
    qkv_project(a, a->tab_k, tab_in, D, P->blocks[0].W_K, P->blocks[0].b_K, R, D, H, Dh);
    qkv_project(a, a->tab_v, tab_in, D, P->blocks[0].W_V, P->blocks[0].b_V, R, D, H, Dh);

    const float *x_in = NULL; /* [N*T, D] residual entering layer l > 0 */
    for (int l = 0; l < c->n_layers; l++) {
        layer_acts *L = &a->L[l];
        const tfm_block_views *B = &P->blocks[l];
        const int Tq = L->Tq, q0 = L->q0, NQ = N * Tq;
        if (l == 0) {
            /* rule (3): x_mid = tab_x[query] + b_O + sum_h,j att * (tab_v[:, h] @ W_O[h])[key] */
            attention_scores_forward(L->att, L->prob, rate, a->tab_q, a->tab_k, a->qrow0, a->row0,
                                     N, T, Tq, H, Dh, causal);
            gemm_many(a, H, R, D, Dh, 1.0f, a->tab_v, Dh, HD, 1, B->W_O, (ptrdiff_t)Dh * D, D, 1,
                      0.0f, a->tab_o, (ptrdiff_t)R * D, D, 1);
            table_mix_forward(L->x_mid, c->normed_residual ? a->tab_ln : a->tab_x, a->tab_o,
                              L->att, a->qrow0, a->row0, B->b_O, N, T, Tq, H, R, D, causal);
        } else {
            const float *xa = x_in;
            if (c->layernorm) {
                layernorm_forward(L->ln1_out, D, L->ln1_mean, L->ln1_rstd, x_in, D, B->ln1_w,
                                  B->ln1_b, N * T, D);
                xa = L->ln1_out;
            }
            /* queries only at positions q0..T-1: rows n*T + q0 + i */
            qkv_project(a, L->q, xa + (size_t)q0 * D, (ptrdiff_t)(Tq == T ? D : T * D), B->W_Q,
                        B->b_Q, NQ, D, H, Dh);
            qkv_project(a, L->k, xa, D, B->W_K, B->b_K, N * T, D, H, Dh);
            qkv_project(a, L->v, xa, D, B->W_V, B->b_V, N * T, D, H, Dh);
            attention_scores_forward(L->att, L->prob, rate, L->q, L->k, a->ident, a->ident, N, T,
                                     Tq, H, Dh, causal);
            attention_values_forward(L->z, L->att, L->v, a->ident, N, T, Tq, H, Dh, causal);
            /* x_mid = x_in[query rows] + b_O + z @ W_O (normed_residual: ln1's rows) */
            const float *res = c->normed_residual ? L->ln1_out : x_in;
            for (int n = 0; n < N; n++)
                for (int i = 0; i < Tq; i++) {
                    const float *s = res + ((size_t)n * T + q0 + i) * D;
                    float *o = L->x_mid + ((size_t)n * Tq + i) * D;
                    for (int d = 0; d < D; d++)
                        o[d] = s[d] + (B->b_O ? B->b_O[d] : 0.0f);
                }
            gemm(a, NQ, D, HD, 1.0f, L->z, HD, 1, B->W_O, D, 1, 1.0f, L->x_mid, D, 1);
        }

        /* MLP: x_out = x_mid + act(ln2(x_mid) @ W_in + b_in) @ W_out + b_out */
        const float *xm = L->x_mid;
        if (c->layernorm) {
            layernorm_forward(L->ln2_out, D, L->ln2_mean, L->ln2_rstd, L->x_mid, D, B->ln2_w,
                              B->ln2_b, NQ, D);
            xm = L->ln2_out;
        }
        gemm(a, NQ, M, D, 1.0f, xm, D, 1, B->W_in, M, 1, 0.0f, L->pre, M, 1);
        bias_act_forward(L->post, L->pre, B->b_in, NQ, M, c->act);
#pragma omp parallel for schedule(static)
        for (int r = 0; r < NQ; r++)
            for (int d = 0; d < D; d++)
                L->x_out[(size_t)r * D + d] = L->x_mid[(size_t)r * D + d] + B->b_out[d];
        gemm(a, NQ, D, M, 1.0f, L->post, M, 1, B->W_out, D, 1, 1.0f, L->x_out, D, 1);
        x_in = L->x_out;
    }

    /* the last layer computed only the last position: x_in is [N, D] */
    const float *xf = x_in;
    if (c->layernorm) {
        layernorm_forward(a->lnf_out, D, a->lnf_mean, a->lnf_rstd, x_in, D, P->lnf_w, P->lnf_b, N,
                          D);
        xf = a->lnf_out;
    }
    gemm(a, N, Vo, D, 1.0f, xf, D, 1, P->W_U, Vo, 1, 0.0f, a->logits, Vo, 1);
}

/* ------------------------------------------------------------------------ */
/* loss */

double tfm_loss_with(tfm_acts *a, const loss_config *c, const int32_t *labels, int N, int *n_correct,
                     double *per_example, int want_grad)
{
    GROK_ASSERT(N == a->n);
    return loss_rows(c, a->logits, labels, N, a->cfg.d_vocab_out, a->loss_scratch, per_example,
                     want_grad ? a->dlogits : NULL, n_correct);
}

double tfm_loss(tfm_acts *a, const int32_t *labels, int N, int *n_correct, double *per_example,
                int want_grad)
{
    const loss_config softmax64 = {LOSS_SOFTMAX_CE, 0};
    return tfm_loss_with(a, &softmax64, labels, N, n_correct, per_example, want_grad);
}

float *tfm_dlogits(tfm_acts *a) { return a->dlogits; }

/* ------------------------------------------------------------------------ */
/* backward */

void tfm_backward(tfm_model *m, tfm_acts *a, const int32_t *tokens, int N)
{
    const tfm_config *c = &m->cfg;
    const int causal = !c->bidirectional; /* the attention mask */
    const float rate = (float)(1.0 - c->attn_uniform);
    const int T = c->n_ctx, D = c->d_model, H = c->n_heads, Dh = c->d_head, HD = H * Dh,
              M = c->d_mlp, Vo = c->d_vocab_out, LL = c->n_layers;
    GROK_ASSERT(N == a->n);
    (void)tokens; /* the forward's table rows (a->row0) already encode them */
    const tfm_views *P = &m->p;
    tfm_views *G = &m->g;
    memset(m->grads, 0, m->n_params * sizeof(float));

    /* logits = xf @ W_U */
    const float *x_last = a->L[LL - 1].x_out; /* [N, D] */
    const float *xf = c->layernorm ? a->lnf_out : x_last;
    gemm(a, D, Vo, N, 1.0f, xf, 1, D, a->dlogits, Vo, 1, 0.0f, G->W_U, Vo, 1);
    float *dx = a->d_res, *dx_other = a->d_res2; /* [N*Tq, D] d loss / d x_out */
    if (c->layernorm) {
        gemm(a, N, D, Vo, 1.0f, a->dlogits, Vo, 1, P->W_U, 1, Vo, 0.0f, a->d_ln, D, 1);
        memset(dx, 0, (size_t)N * D * sizeof(float));
        layernorm_backward(dx, D, G->lnf_w, G->lnf_b, a->d_ln, D, x_last, D, a->lnf_mean,
                           a->lnf_rstd, P->lnf_w, N, D);
    } else
        gemm(a, N, D, Vo, 1.0f, a->dlogits, Vo, 1, P->W_U, 1, Vo, 0.0f, dx, D, 1);

    const int R = a->R;
    for (int l = LL - 1; l >= 0; l--) {
        layer_acts *L = &a->L[l];
        const tfm_block_views *B = &P->blocks[l];
        tfm_block_views *GB = &G->blocks[l];
        const int Tq = L->Tq, q0 = L->q0, NQ = N * Tq;
        /* x_out = x_mid + post @ W_out + b_out;  post = act(pre);  pre = xm @ W_in + b_in */
        gemm(a, M, D, NQ, 1.0f, L->post, 1, M, dx, D, 1, 0.0f, GB->W_out, D, 1);
        colsum(GB->b_out, dx, D, NQ, D, 0, a->colsum_part);
        gemm(a, NQ, M, D, 1.0f, dx, D, 1, B->W_out, 1, D, 0.0f, a->d_mlp, M, 1);
        act_backward(a->d_mlp, GB->b_in, L->pre, NQ, M, c->act, a->colsum_part);
        const float *xm = c->layernorm ? L->ln2_out : L->x_mid;
        gemm(a, D, M, NQ, 1.0f, xm, 1, D, a->d_mlp, M, 1, 0.0f, GB->W_in, M, 1);
        /* dx becomes d loss / d x_mid: the residual path plus the MLP input path */
        if (c->layernorm) {
            gemm(a, NQ, D, M, 1.0f, a->d_mlp, M, 1, B->W_in, 1, M, 0.0f, a->d_ln, D, 1);
            layernorm_backward(dx, D, GB->ln2_w, GB->ln2_b, a->d_ln, D, L->x_mid, D, L->ln2_mean,
                               L->ln2_rstd, B->ln2_w, NQ, D);
        } else
            gemm(a, NQ, D, M, 1.0f, a->d_mlp, M, 1, B->W_in, 1, M, 1.0f, dx, D, 1);
        if (GB->b_O)
            colsum(GB->b_O, dx, D, NQ, D, 0, a->colsum_part);

        float *datt = a->datt; /* [N, H, Tq, T] */
        const float *prob = L->prob ? L->prob : L->att; /* the softmax */
        if (l == 0) {
            /* rule (3) backward: tab_x's and tab_o's gradients from x_mid's, then W_O
             * and tab_v */
            float *d_o = a->d_tab + (size_t)R * D;
            memset(datt, 0, (size_t)N * H * Tq * T * sizeof(float));
            memset(a->d_tab, 0, (size_t)(1 + H) * R * D * sizeof(float));
            table_mix_backward(datt, a->d_tab, d_o, dx, L->att, a->tab_o, a->qrow0, a->row0, N, T,
                               Tq, H, R, D, causal);
            gemm_many(a, H, Dh, D, R, 1.0f, a->tab_v, Dh, 1, HD, d_o, (ptrdiff_t)R * D, D, 1, 0.0f,
                      GB->W_O, (ptrdiff_t)Dh * D, D, 1);
            gemm_many(a, H, R, Dh, D, 1.0f, d_o, (ptrdiff_t)R * D, D, 1, B->W_O, (ptrdiff_t)Dh * D,
                      1, D, 0.0f, a->dv, Dh, HD, 1);
            memset(a->dq, 0, (size_t)R * HD * sizeof(float));
            memset(a->dk, 0, (size_t)R * HD * sizeof(float));
            attention_scores_backward(a->dq, a->dk, datt, prob, rate, a->tab_q, a->tab_k, a->qrow0,
                                      a->row0, N, T, Tq, H, Dh, causal);
        } else {
            /* x_mid = x_in[query rows] + z @ W_O + b_O */
            gemm(a, HD, D, NQ, 1.0f, L->z, 1, HD, dx, D, 1, 0.0f, GB->W_O, D, 1);
            gemm(a, NQ, HD, D, 1.0f, dx, D, 1, B->W_O, 1, D, 0.0f, a->dz, HD, 1);
            memset(a->dq, 0, (size_t)NQ * HD * sizeof(float));
            memset(a->dk, 0, (size_t)N * T * HD * sizeof(float));
            memset(a->dv, 0, (size_t)N * T * HD * sizeof(float));
            attention_values_backward(datt, a->dv, a->dz, L->att, L->v, a->ident, N, T, Tq, H, Dh,
                                      causal);
            attention_scores_backward(a->dq, a->dk, datt, prob, rate, L->q, L->k, a->ident,
                                      a->ident, N, T, Tq, H, Dh, causal);
        }
        const int rows_q = l == 0 ? R : NQ, rows_k = l == 0 ? R : N * T;
        if (GB->b_Q) {
            colsum(GB->b_Q, a->dq, HD, rows_q, HD, 0, a->colsum_part);
            colsum(GB->b_K, a->dk, HD, rows_k, HD, 0, a->colsum_part);
            colsum(GB->b_V, a->dv, HD, rows_k, HD, 0, a->colsum_part);
        }

        if (l == 0) {
            /* projections of the tables: q = tab_in @ W_Q[h] ... over R rows */
            const float *tab_in = c->layernorm ? a->tab_ln : a->tab_x;
            const ptrdiff_t DDh = (ptrdiff_t)D * Dh;
            gemm_many(a, H, D, Dh, R, 1.0f, tab_in, 0, 1, D, a->dq, Dh, HD, 1, 0.0f, GB->W_Q, DDh,
                      Dh, 1);
            gemm_many(a, H, D, Dh, R, 1.0f, tab_in, 0, 1, D, a->dk, Dh, HD, 1, 0.0f, GB->W_K, DDh,
                      Dh, 1);
            gemm_many(a, H, D, Dh, R, 1.0f, tab_in, 0, 1, D, a->dv, Dh, HD, 1, 0.0f, GB->W_V, DDh,
                      Dh, 1);
            for (int h = 0; h < H; h++) {
                const size_t w = (size_t)h * D * Dh;
                gemm(a, R, D, Dh, 1.0f, a->dq + h * Dh, HD, 1, B->W_Q + w, 1, Dh,
                     h == 0 ? 0.0f : 1.0f, a->d_ln, D, 1);
                gemm(a, R, D, Dh, 1.0f, a->dk + h * Dh, HD, 1, B->W_K + w, 1, Dh, 1.0f, a->d_ln,
                     D, 1);
                gemm(a, R, D, Dh, 1.0f, a->dv + h * Dh, HD, 1, B->W_V + w, 1, Dh, 1.0f, a->d_ln,
                     D, 1);
            }
            /* normed_residual: the residual path scattered above belongs to ln1's output */
            if (c->normed_residual) {
                for (size_t i = 0; i < (size_t)R * D; i++)
                    a->d_ln[i] += a->d_tab[i];
                memset(a->d_tab, 0, (size_t)R * D * sizeof(float));
            }
            /* d_tab (the residual path, scattered above) += the Q/K/V input path */
            if (c->layernorm)
                layernorm_backward(a->d_tab, D, GB->ln1_w, GB->ln1_b, a->d_ln, D, a->tab_x, D,
                                   a->tab_mean, a->tab_rstd, B->ln1_w, R, D);
            else
                for (size_t i = 0; i < (size_t)R * D; i++)
                    a->d_tab[i] += a->d_ln[i];
            /* tab_x[r] = W_E[v] + W_pos[t], rows in increasing v*T + t */
            for (int r = 0; r < R; r++) {
                const int v = a->tab_vt[r] / T, t = a->tab_vt[r] % T;
                for (int d = 0; d < D; d++) {
                    G->W_E[(size_t)v * D + d] += a->d_tab[(size_t)r * D + d];
                    G->W_pos[t * D + d] += a->d_tab[(size_t)r * D + d];
                }
            }
        } else {
            const float *x_in = a->L[l - 1].x_out; /* [N*T, D] */
            const float *xa = c->layernorm ? L->ln1_out : x_in;
            const ptrdiff_t rsq = Tq == T ? D : (ptrdiff_t)T * D, DDh = (ptrdiff_t)D * Dh;
            gemm_many(a, H, D, Dh, NQ, 1.0f, xa + (size_t)q0 * D, 0, 1, rsq, a->dq, Dh, HD, 1, 0.0f,
                      GB->W_Q, DDh, Dh, 1);
            gemm_many(a, H, D, Dh, N * T, 1.0f, xa, 0, 1, D, a->dk, Dh, HD, 1, 0.0f, GB->W_K, DDh,
                      Dh, 1);
            gemm_many(a, H, D, Dh, N * T, 1.0f, xa, 0, 1, D, a->dv, Dh, HD, 1, 0.0f, GB->W_V, DDh,
                      Dh, 1);
            for (int h = 0; h < H; h++) {
                const size_t w = (size_t)h * D * Dh;
                gemm(a, N * T, D, Dh, 1.0f, a->dk + h * Dh, HD, 1, B->W_K + w, 1, Dh,
                     h == 0 ? 0.0f : 1.0f, a->d_ln, D, 1);
                gemm(a, N * T, D, Dh, 1.0f, a->dv + h * Dh, HD, 1, B->W_V + w, 1, Dh, 1.0f,
                     a->d_ln, D, 1);
                gemm(a, NQ, D, Dh, 1.0f, a->dq + h * Dh, HD, 1, B->W_Q + w, 1, Dh, 1.0f,
                     a->d_ln + (size_t)q0 * D, rsq, 1);
            }
            /* d x_in = residual (query rows) + the Q/K/V input path; normed_residual:
             * the residual is ln1's output, so its rows join the Q/K/V path */
            memset(dx_other, 0, (size_t)N * T * D * sizeof(float));
#pragma omp parallel for schedule(static)
            for (int r = 0; r < NQ; r++) {
                const int n = r / Tq, i = r % Tq;
                const size_t row = ((size_t)n * T + q0 + i) * D;
                if (c->normed_residual)
                    for (int d = 0; d < D; d++)
                        a->d_ln[row + d] += dx[(size_t)r * D + d];
                else
                    for (int d = 0; d < D; d++)
                        dx_other[row + d] = dx[(size_t)r * D + d];
            }
            if (c->layernorm)
                layernorm_backward(dx_other, D, GB->ln1_w, GB->ln1_b, a->d_ln, D, x_in, D,
                                   L->ln1_mean, L->ln1_rstd, B->ln1_w, N * T, D);
            else
                for (size_t i = 0; i < (size_t)N * T * D; i++)
                    dx_other[i] += a->d_ln[i];
            float *tmp = dx;
            dx = dx_other;
            dx_other = tmp;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* views for measures */

const float *tfm_mlp_post_last(const tfm_acts *a) { return a->L[a->cfg.n_layers - 1].post; }

void tfm_attn_last(const tfm_acts *a, int layer, float *out)
{
    const int T = a->cfg.n_ctx, H = a->cfg.n_heads, Tq = a->L[layer].Tq;
    for (int n = 0; n < a->n; n++)
        for (int h = 0; h < H; h++)
            for (int j = 0; j < T; j++)
                out[((size_t)n * H + h) * T + j] =
                    a->L[layer].att[(((size_t)n * H + h) * Tq + (Tq - 1)) * T + j];
}

/* ------------------------------------------------------------------------ */
/* the naive reference: per example, double, all positions, no tables */

static void ref_layernorm(double *x, const float *w, const float *b, int D)
{
    double mu = 0, var = 0;
    for (int d = 0; d < D; d++)
        mu += x[d];
    mu /= D;
    for (int d = 0; d < D; d++)
        var += (x[d] - mu) * (x[d] - mu);
    const double rs = 1.0 / sqrt(var / D + 1e-5);
    for (int d = 0; d < D; d++)
        x[d] = (x[d] - mu) * rs * w[d] + b[d];
}

void tfm_forward_ref(const tfm_model *m, const int32_t *tokens, int N, double *logits)
{
    const tfm_config *c = &m->cfg;
    const int T = c->n_ctx, D = c->d_model, H = c->n_heads, Dh = c->d_head, M = c->d_mlp,
              Vo = c->d_vocab_out;
    const tfm_views *P = &m->p;
    double *res = malloc(sizeof(double) * T * D), *x = malloc(sizeof(double) * T * D),
           *q = malloc(sizeof(double) * T * H * Dh), *k = malloc(sizeof(double) * T * H * Dh),
           *v = malloc(sizeof(double) * T * H * Dh), *z = malloc(sizeof(double) * T * H * Dh),
           *hid = malloc(sizeof(double) * M), *s = malloc(sizeof(double) * T);
    GROK_ASSERT(res && x && q && k && v && z && hid && s);
    for (int n = 0; n < N; n++) {
        for (int t = 0; t < T; t++)
            for (int d = 0; d < D; d++)
                res[t * D + d] = (double)P->W_E[tokens[n * T + t] * D + d] + P->W_pos[t * D + d];
        for (int l = 0; l < c->n_layers; l++) {
            const tfm_block_views *B = &P->blocks[l];
            memcpy(x, res, sizeof(double) * T * D);
            if (c->layernorm)
                for (int t = 0; t < T; t++)
                    ref_layernorm(x + t * D, B->ln1_w, B->ln1_b, D);
            if (c->normed_residual) /* x = ln1(x); x = x + attn(x) */
                memcpy(res, x, sizeof(double) * T * D);
            for (int t = 0; t < T; t++)
                for (int h = 0; h < H; h++)
                    for (int e = 0; e < Dh; e++) {
                        double sq = B->b_Q ? B->b_Q[h * Dh + e] : 0;
                        double sk = B->b_K ? B->b_K[h * Dh + e] : 0;
                        double sv = B->b_V ? B->b_V[h * Dh + e] : 0;
                        for (int d = 0; d < D; d++) {
                            const size_t w = ((size_t)h * D + d) * Dh + e;
                            sq += x[t * D + d] * B->W_Q[w];
                            sk += x[t * D + d] * B->W_K[w];
                            sv += x[t * D + d] * B->W_V[w];
                        }
                        q[(t * H + h) * Dh + e] = sq;
                        k[(t * H + h) * Dh + e] = sk;
                        v[(t * H + h) * Dh + e] = sv;
                    }
            for (int h = 0; h < H; h++)
                for (int i = 0; i < T; i++) {
                    double mx = -INFINITY, sum = 0;
                    for (int j = 0; j <= (c->bidirectional ? T - 1 : i); j++) {
                        s[j] = 0;
                        for (int e = 0; e < Dh; e++)
                            s[j] += q[(i * H + h) * Dh + e] * k[(j * H + h) * Dh + e];
                        s[j] /= sqrt((double)Dh);
                        mx = s[j] > mx ? s[j] : mx;
                    }
                    for (int j = 0; j <= (c->bidirectional ? T - 1 : i); j++)
                        sum += (s[j] = exp(s[j] - mx));
                    const double u = c->attn_uniform; /* A = (1 - u) softmax + u */
                    for (int e = 0; e < Dh; e++) {
                        double acc = 0;
                        for (int j = 0; j <= (c->bidirectional ? T - 1 : i); j++)
                            acc += ((1 - u) * (s[j] / sum) + u) * v[(j * H + h) * Dh + e];
                        z[(i * H + h) * Dh + e] = acc;
                    }
                }
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) {
                    double acc = B->b_O ? B->b_O[d] : 0;
                    for (int h = 0; h < H; h++)
                        for (int e = 0; e < Dh; e++)
                            acc += z[(t * H + h) * Dh + e] * B->W_O[((size_t)h * Dh + e) * D + d];
                    res[t * D + d] += acc;
                }
            memcpy(x, res, sizeof(double) * T * D);
            for (int t = 0; t < T; t++) {
                if (c->layernorm)
                    ref_layernorm(x + t * D, B->ln2_w, B->ln2_b, D);
                for (int j = 0; j < M; j++) {
                    double acc = B->b_in[j];
                    for (int d = 0; d < D; d++)
                        acc += x[t * D + d] * B->W_in[(size_t)d * M + j];
                    hid[j] = c->act == TFM_ACT_RELU ? (acc > 0 ? acc : 0)
                                                    : 0.5 * acc * (1 + erf(acc / sqrt(2.0)));
                }
                for (int d = 0; d < D; d++) {
                    double acc = B->b_out[d];
                    for (int j = 0; j < M; j++)
                        acc += hid[j] * B->W_out[(size_t)j * D + d];
                    res[t * D + d] += acc;
                }
            }
        }
        double *xl = res + (T - 1) * D;
        if (c->layernorm)
            ref_layernorm(xl, P->lnf_w, P->lnf_b, D);
        for (int o = 0; o < Vo; o++) {
            double acc = 0;
            for (int d = 0; d < D; d++)
                acc += xl[d] * P->W_U[(size_t)d * Vo + o];
            logits[(size_t)n * Vo + o] = acc;
        }
    }
    free(res), free(x), free(q), free(k), free(v), free(z), free(hid), free(s);
}

/* ------------------------------------------------------------------------ */
/* input gradients */

/* The first layer works on a table of the batch's distinct (token, position)
 * pairs (rule (3) above), so after a backward d_tab holds, for each pair, the
 * gradient with respect to its input embedding W_E[v] + W_pos[t] summed over
 * the examples that hold it.  With a one-hot dlogits per example, the sum of
 * their chosen logits is the loss, and a pair that one example alone holds
 * gives that example's own gradient.  So examples go to the batch in order
 * until one would share a wanted (token, position) pair with an example
 * already in it; then the batch runs, and the next starts there. */
/* position t wanted by pos_mask (0: every position; bits beyond 31 never) */
static int pos_wanted(unsigned pos_mask, int t)
{
    return pos_mask == 0 || (t < 32 && (pos_mask >> t & 1u));
}

void tfm_embed_grad(tfm_model *m, tfm_acts *a, const int32_t *tokens, const int32_t *cls, int n,
                    unsigned pos_mask, float *out)
{
    const tfm_config *c = &m->cfg;
    const int T = c->n_ctx, D = c->d_model, Vo = c->d_vocab_out;
    memset(out, 0, (size_t)n * T * D * sizeof(float));
    for (int i0 = 0; i0 < n;) {
        memset(a->eg_used, 0, (size_t)a->VT);
        int i1 = i0;
        for (; i1 < n && i1 - i0 < a->n_max; i1++) {
            const int32_t *tok = tokens + (size_t)i1 * T;
            int clash = 0;
            for (int t = 0; t < T && !clash; t++)
                clash = pos_wanted(pos_mask, t) && a->eg_used[tok[t] * T + t];
            if (clash)
                break;
            for (int t = 0; t < T; t++)
                if (pos_wanted(pos_mask, t))
                    a->eg_used[tok[t] * T + t] = 1;
        }
        const int nb = i1 - i0;
        const int32_t *tb = tokens + (size_t)i0 * T;
        tfm_forward(m, a, tb, nb);
        memset(a->dlogits, 0, (size_t)nb * Vo * sizeof(float));
        for (int i = 0; i < nb; i++)
            a->dlogits[(size_t)i * Vo + cls[i0 + i]] = 1.0f;
        tfm_backward(m, a, tb, nb);
        for (int i = 0; i < nb; i++)
            for (int t = 0; t < T; t++)
                if (pos_wanted(pos_mask, t)) {
                    const int r = a->vt_row[tb[(size_t)i * T + t] * T + t];
                    memcpy(out + ((size_t)(i0 + i) * T + t) * D, a->d_tab + (size_t)r * D,
                           (size_t)D * sizeof(float));
                }
        i0 = i1;
    }
}
