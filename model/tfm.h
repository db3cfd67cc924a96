/* tfm.h: the decoder-only transformer, its parameter table, forward and
 * backward.
 *
 * Dimension legend (used in every shape comment of model/):
 *   N examples, T positions (n_ctx), D d_model, H heads, Dh d_head,
 *   M d_mlp, V input vocabulary (d_vocab), Vo output vocabulary (d_vocab_out),
 *   L layers, Tq query positions computed in a layer (T, or 1 in the last).
 *
 * Parameters live in one contiguous float buffer laid out exactly as the
 * TransformerLens HookedTransformer state dict (names and shapes below), so a
 * checkpoint is the buffer itself.  Gradients use a second buffer of the same
 * layout.  One table (tfm_model.tensors) lists every tensor once: its name,
 * shape, offset and initialisation; views, checkpoints, tests and norms all
 * walk it.
 *
 *   embed.W_E               [V, D]
 *   pos_embed.W_pos         [T, D]
 *   blocks.l.ln1.w, .b      [D]            (layernorm only)
 *   blocks.l.attn.W_Q/W_K/W_V [H, D, Dh]
 *   blocks.l.attn.W_O       [H, Dh, D]
 *   blocks.l.attn.b_Q/b_K/b_V [H, Dh], b_O [D]   (attn_bias only)
 *   blocks.l.ln2.w, .b      [D]            (layernorm only)
 *   blocks.l.mlp.W_in [D, M], b_in [M], W_out [M, D], b_out [D]
 *   ln_final.w, .b          [D]            (layernorm only)
 *   unembed.W_U             [D, Vo]
 *
 * Initialisation (Nanda et al. 2023): every weight N(0, 1/D) except W_U,
 * N(0, 1/V); biases 0; LayerNorm scales 1; all Gaussians times init_scale.
 * With init_scheme PARAM_INIT_TORCH, PyTorch's defaults for the same layers:
 * W_E and W_pos N(0, 1) (nn.Embedding); W_Q, W_K, W_V U(+-sqrt(6 / (D +
 * 3*H*Dh))) (nn.MultiheadAttention's packed in-projection, Xavier), its
 * biases 0; W_O U(+-1/sqrt(H*Dh)); W_in, b_in U(+-1/sqrt(D)); W_out, b_out
 * U(+-1/sqrt(M)); W_U U(+-1/sqrt(D)) (nn.Linear); LayerNorm 1 and 0.
 *
 * The forward computes only what the loss at the last position needs, by
 * general rules applied by the one forward and backward:
 *   (1) in the last layer only the last position's query, attention output,
 *       MLP and unembedding are computed (earlier layers compute all positions);
 *   (2) the first layer's input is W_E[token] + W_pos[t], so it takes at most
 *       V*T distinct values: its LayerNorm and Q/K/V projections are computed
 *       once per (token, position) pair present in the batch, into tables that
 *       the attention reads by index;
 *   (3) for the same reason the first layer's attention output is a mix of
 *       table rows, sum_h sum_j att[h, j] (tab_v[:, h] W_O[h])[row j]: the
 *       values are pushed through W_O once per table row, not once per example.
 * (Pushing the same rows on through W_in, where no LayerNorm intervenes, saves
 * another 1.1 GFLOP per step of the default model, but the 512-wide mixes it
 * needs cost more time than the products they replace, on 2 cores.)
 * Matrix products are BLIS sgemm calls with strides (no transposed copies);
 * element-wise work is split over outputs, so results are the same bits for
 * any thread count.  The loss is model/loss.h's: tfm_loss is the float64
 * softmax cross-entropy, tfm_loss_with any kind. */
#ifndef GROK_TFM_H
#define GROK_TFM_H

#include <stddef.h>
#include <stdint.h>

#include "grok.h"
#include "linalg.h"
#include "loss.h"
#include "params.h"
#include "rng.h"

typedef enum { TFM_ACT_RELU, TFM_ACT_GELU, TFM_ACT_COUNT } tfm_act;

typedef struct {
    int n_layers;      /* L >= 1 */
    int d_model;       /* D */
    int n_heads;       /* H */
    int d_head;        /* Dh */
    int d_mlp;         /* M */
    int d_vocab;       /* V: p + 1 for the tasks ('=' is token p) */
    int d_vocab_out;   /* Vo: p */
    int n_ctx;         /* T: 3 */
    tfm_act act;       /* ReLU or exact (erf) GELU */
    int layernorm;     /* 1: pre-LN blocks and a final LN (TransformerLens, eps 1e-5) */
    int normed_residual; /* with layernorm, 1: the block's LayerNorm replaces the
                            residual stream, x = ln1(x); x = x + attn(x) (the
                            block of Grokfast's code, Lee et al. 2024); 0: the
                            stream goes on unnormalised, x = x + attn(ln1(x))
                            (TransformerLens, the default) */
    int attn_bias;     /* 1: b_Q, b_K, b_V, b_O */
    int bidirectional; /* 1: every position attends to every position (no causal
                          mask; model.causal = false); 0: causal, the default */
    double attn_uniform; /* 1 - model.attn_rate, in [0, 1]: the attention is
                            A = (1 - u) softmax(q k / sqrt(Dh)) + u on the allowed
                            positions (Zhong et al. 2023; u = 1: every allowed
                            position weighs 1); 0: plain softmax, the default */
    double init_scale; /* multiplies every initial Gaussian (and uniform bound) */
    param_init_scheme init_scheme; /* PARAM_INIT_GAUSSIAN (the rule below) or
                                      PARAM_INIT_TORCH (PyTorch's module defaults) */
} tfm_config;

#define TFM_NAME_MAX PARAM_NAME_MAX
#define TFM_MAX_LAYERS 64

typedef param_tensor tfm_tensor; /* the shared parameter table (params.h) */

/* Named pointers into one buffer (parameters or gradients); NULL where the
 * config has no such tensor. */
typedef struct {
    float *ln1_w, *ln1_b;
    float *W_Q, *W_K, *W_V, *W_O; /* [H,D,Dh] x3, [H,Dh,D] */
    float *b_Q, *b_K, *b_V, *b_O; /* [H,Dh] x3, [D] */
    float *ln2_w, *ln2_b;
    float *W_in, *b_in, *W_out, *b_out; /* [D,M], [M], [M,D], [D] */
} tfm_block_views;

typedef struct {
    float *W_E;   /* [V, D] */
    float *W_pos; /* [T, D] */
    tfm_block_views blocks[TFM_MAX_LAYERS];
    float *lnf_w, *lnf_b; /* [D] */
    float *W_U;           /* [D, Vo] */
} tfm_views;

typedef struct {
    tfm_config cfg;
    int n_tensors;
    tfm_tensor *tensors; /* the parameter table */
    size_t n_params;
    float *params; /* [n_params] */
    float *grads;  /* [n_params], same layout */
    tfm_views p, g;
} tfm_model;

const char *tfm_act_name(tfm_act a);
int tfm_act_parse(const char *name); /* -1 when unknown */

/* Checks sizes and ranges; names the offending field in e. */
int tfm_config_check(const tfm_config *cfg, grok_err *e);

/* Builds the table and allocates zeroed parameter and gradient buffers. */
int tfm_init(tfm_model *m, const tfm_config *cfg, grok_err *e);
void tfm_free(tfm_model *m);

/* Draws the initial parameters from r (walking the table in order). */
void tfm_init_params(tfm_model *m, rng *r);

/* The table entry called name, or NULL. */
const tfm_tensor *tfm_find(const tfm_model *m, const char *name);

/* Activation workspace for forward/backward on up to n_max examples. */
typedef struct tfm_acts tfm_acts;
tfm_acts *tfm_acts_alloc(const tfm_model *m, int n_max);
void tfm_acts_free(tfm_acts *a);

/* Forward over tokens [n, T]; the logits at the last position, [n, Vo], are
 * then available from tfm_logits.  Allocates nothing. */
void tfm_forward(const tfm_model *m, tfm_acts *a, const int32_t *tokens, int n);
const float *tfm_logits(const tfm_acts *a); /* [n, Vo] */

/* Mean loss of kind c (loss.h) over the n rows of the last forward against
 * labels [n]; *n_correct (when not NULL) counts rows whose argmax is the label.
 * per_example (when not NULL) receives the n losses.  When want_grad, also
 * stores dloss/dlogits (tfm_dlogits) for tfm_backward. */
double tfm_loss_with(tfm_acts *a, const loss_config *c, const int32_t *labels, int n,
                     int *n_correct, double *per_example, int want_grad);
/* tfm_loss_with the float64 softmax cross-entropy (the default loss). */
double tfm_loss(tfm_acts *a, const int32_t *labels, int n, int *n_correct, double *per_example,
                int want_grad);
/* The [n, Vo] gradient of the mean loss at the logits that tfm_backward reads:
 * written by tfm_loss_with(want_grad), or by a caller with its own loss. */
float *tfm_dlogits(tfm_acts *a);

/* Backward of the last forward and tfm_loss(want_grad): writes the gradient of
 * the mean loss into m->grads (overwrites; no need to zero). */
void tfm_backward(tfm_model *m, tfm_acts *a, const int32_t *tokens, int n);

/* out[i, t, :] = d logits[i, cls[i]] / d (the input embedding W_E[token] +
 * W_pos[t] of example i at position t), for the positions t in pos_mask
 * (bit t; 0: every position); the other rows are 0.  Examples run in batches
 * in which no two share a token at a wanted position (then the first layer's
 * table row of that pair is the example's own gradient): a whole batch when
 * the wanted tokens differ, one example at a time when every example holds
 * the same token at a wanted position.  Overwrites the workspace and
 * m->grads.  n any; out: [n, T, d_model]. */
void tfm_embed_grad(tfm_model *m, tfm_acts *a, const int32_t *tokens, const int32_t *cls, int n,
                    unsigned pos_mask, float *out);

/* Attaches a profile (or NULL to detach): every matrix product of later
 * forwards and backwards on `a` adds its wall time, 2*m*n*k flops and a call
 * count.  For grok bench; costs one clock read per product. */
typedef la_profile tfm_profile;
void tfm_acts_profile(tfm_acts *a, tfm_profile *prof);

/* Read-only views of saved activations of the last forward, for measures:
 * the MLP output after the activation function at the last position of the
 * last layer, [n, M]; the attention weights A from the last position of
 * layer l, [n, H, T] (the softmax probabilities, mixed with the uniform
 * weights when attn_uniform > 0: what multiplies the values). */
const float *tfm_mlp_post_last(const tfm_acts *a);
void tfm_attn_last(const tfm_acts *a, int layer, float *out /* [n, H, T] */);

/* The naive reference: the same model computed per example in double, over all
 * positions, straight from the definitions.  logits: [n, Vo].  For tests. */
void tfm_forward_ref(const tfm_model *m, const int32_t *tokens, int n, double *logits);

#endif
