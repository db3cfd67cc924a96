/* mlp.h: the embedding MLP family, its parameter table, forward and backward.
 *
 * The model of Liu et al. (2022, "Towards understanding grokking"), Gromov
 * (2023, "Grokking modular arithmetic") and Prieto et al. (2025, "Grokking at
 * the edge of numerical stability"): a shared token embedding, the embeddings
 * of the T input positions combined by concatenation or by a sum (or no
 * embedding: the one-hot vectors of the T tokens concatenated, Prieto et
 * al.'s input), L fully connected hidden layers with an element-wise
 * activation, and an affine unembedding.  It mirrors the transformer's
 * interface (tfm.h) so that both families can sit behind one.
 *
 * Dimension legend: N examples, T positions (n_ctx), V input vocabulary
 * (d_vocab), Vo output vocabulary (d_vocab_out), E the embedding width
 * (d_embed; V for onehot), H d_hidden, L hidden layers, Din the first
 * layer's input width (T*E for concat and onehot, E for sum).
 *
 *   x[n]   = [W_E[tok[n,0]], ..., W_E[tok[n,T-1]]]      (concat, [Din = T*E])
 *          = sum_t W_E[tok[n,t]]                          (sum,    [Din = E])
 *          = [onehot(tok[n,0]), ..., onehot(tok[n,T-1])]  (onehot, [Din = T*V])
 *   h_0    = x;  h_{l+1} = act(h_l @ W_l + b_l),  l = 0..L-1
 *   logits = h_L @ W_U + b_U
 * For onehot, x @ W_0 is the sum of the T rows t*V + tok[n,t] of W_0 (in
 * position order; no product with the one-hot vectors is formed) and its
 * gradient is accumulated per row of W_0 the same way; d_embed is unused.
 *
 * Parameter table (one contiguous buffer, in this order):
 *   embed.W_E     [V, E]            (not for onehot)
 *   mlp.<l>.W     [Din, H] for l = 0, [H, H] above
 *   mlp.<l>.b     [H]               (not with no_bias)
 *   unembed.W_U   [H, Vo]
 *   unembed.b_U   [Vo]              (not with no_bias)
 * Initialisation (drawn by params_init_draw in table order, every Gaussian
 * times init_scale): W_E ~ N(0, 1/E); every other weight ~ N(0, 1/fan_in),
 * fan_in being its number of rows (Din, H, H); biases 0.  This is PyTorch's
 * LeCun-normal scaling, which keeps the preactivations of order 1 at any
 * width; the embedding gets the transformer's 1/sqrt(d) scale.  With
 * init_scheme PARAM_INIT_TORCH, PyTorch's module defaults: W_E N(0, 1)
 * (nn.Embedding); every W and b of a layer U(+-1/sqrt(fan_in)) (nn.Linear).
 *
 * Matrix products are BLIS sgemm calls with strides (no transposed copies);
 * element-wise work is split over outputs and every sum over examples has a
 * fixed order, so results are the same bits for any thread count.  The loss
 * is not part of this module: the caller writes d loss / d logits into
 * mlp_dlogits before mlp_backward. */
#ifndef GROK_MLP_H
#define GROK_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "grok.h"
#include "linalg.h"
#include "params.h"
#include "rng.h"

/* The values of MLP_ACT_RELU and MLP_ACT_GELU equal tfm_act's. */
/* MLP_ACT_SQUARE: x^2 (Gromov 2023). */
typedef enum { MLP_ACT_RELU, MLP_ACT_GELU, MLP_ACT_TANH, MLP_ACT_SQUARE, MLP_ACT_COUNT } mlp_act;
typedef enum {
    MLP_COMBINE_CONCAT,
    MLP_COMBINE_SUM,
    MLP_COMBINE_ONEHOT, /* no embedding: the one-hot vectors concatenated */
    MLP_COMBINE_COUNT
} mlp_combine;

typedef struct {
    int n_ctx;           /* T */
    int d_vocab;         /* V */
    int d_vocab_out;     /* Vo */
    int d_embed;         /* E (unused for onehot) */
    mlp_combine combine; /* concat or sum of the T embeddings, or onehot */
    int n_layers;        /* L >= 1 hidden layers */
    int d_hidden;        /* H */
    mlp_act act;         /* ReLU, exact (erf) GELU, tanh or x^2 */
    int no_bias;         /* 1: no b_l and no b_U (Gromov's and Prieto et al.'s
                            layers; model.bias = false); 0: both, the default */
    double init_scale;   /* multiplies every initial Gaussian (and uniform bound) */
    param_init_scheme init_scheme; /* PARAM_INIT_GAUSSIAN (below) or PARAM_INIT_TORCH */
} mlp_config;

#define MLP_MAX_LAYERS 64

/* Named pointers into one buffer (parameters or gradients). */
typedef struct {
    float *W_E;                 /* [V, E]; NULL for onehot */
    float *W[MLP_MAX_LAYERS];   /* [Din, H] for layer 0, [H, H] above */
    float *b[MLP_MAX_LAYERS];   /* [H]; NULL with no_bias */
    float *W_U;                 /* [H, Vo] */
    float *b_U;                 /* [Vo]; NULL with no_bias */
} mlp_views;

typedef struct {
    mlp_config cfg;
    int n_tensors;
    param_tensor *tensors; /* the parameter table */
    size_t n_params;
    float *params; /* [n_params] */
    float *grads;  /* [n_params], same layout */
    mlp_views p, g;
} mlp_model;

const char *mlp_act_name(mlp_act a);
int mlp_act_parse(const char *name); /* -1 when unknown */
const char *mlp_combine_name(mlp_combine c);
int mlp_combine_parse(const char *name); /* -1 when unknown */

/* The width of one position's input: d_embed, or V for onehot. */
int mlp_embed_width(const mlp_config *cfg);

/* The first layer's input width Din: T*E (concat, onehot) or E (sum). */
int mlp_d_in(const mlp_config *cfg);

/* Checks sizes, ranges and enumerations; names the offending key
 * (model.d_embed, model.combine, ...) in e. */
int mlp_config_check(const mlp_config *cfg, grok_err *e);

/* Checks cfg, builds the table and allocates zeroed parameter and gradient
 * buffers.  GROK_EINVAL (bad config) or GROK_ENOMEM; m is then empty. */
int mlp_init(mlp_model *m, const mlp_config *cfg, grok_err *e);
void mlp_free(mlp_model *m);

/* Draws the initial parameters from r (walking the table in order). */
void mlp_init_params(mlp_model *m, rng *r);

/* The table entry called name, or NULL. */
const param_tensor *mlp_find(const mlp_model *m, const char *name);

/* Activation workspace for forward/backward on up to n_max examples; NULL
 * when n_max < 1 or out of memory.  Owns all its memory. */
typedef struct mlp_acts mlp_acts;
mlp_acts *mlp_acts_alloc(const mlp_model *m, int n_max);
void mlp_acts_free(mlp_acts *a);

/* Attaches a matrix-product profile to the workspace (NULL detaches): every
 * product of later forwards and backwards on it adds its time and flops. */
void mlp_acts_profile(mlp_acts *a, la_profile *prof);

/* Forward over tokens [n, T] (each in [0, V)), n <= n_max; saves what the
 * backward needs.  Allocates nothing. */
void mlp_forward(const mlp_model *m, mlp_acts *a, const int32_t *tokens, int n);

/* The logits of the last forward, [n, Vo]. */
const float *mlp_logits(const mlp_acts *a);

/* Where the caller writes d loss / d logits, [n, Vo], before mlp_backward. */
float *mlp_dlogits(mlp_acts *a);

/* Backward of the last forward (same tokens and n) from mlp_dlogits: writes
 * the gradient into m->grads (overwrites; no need to zero). */
void mlp_backward(mlp_model *m, mlp_acts *a, const int32_t *tokens, int n);

/* The last hidden layer after its activation, h_L, [n, H], of the last
 * forward (for neuron measures). */
const float *mlp_hidden_last(const mlp_acts *a);

/* out[n, t, :] = d logits[n, cls[n]] / d W_E[tokens[n, t]], the gradient of
 * one chosen logit per example with respect to the embedding of each input
 * position, taken before the combine (for the sum, every position gets
 * d logit / d x; for onehot, the gradient with respect to the one-hot vector,
 * E = V).  Uses the saved activations of the last forward, which must have
 * been over the same tokens and n; leaves the parameters, gradients, logits
 * and dlogits untouched.  out: [n, T, E]. */
void mlp_embed_grad(const mlp_model *m, mlp_acts *a, const int32_t *tokens, const int32_t *cls,
                    int n, float *out);

/* The naive reference: the same model per example in double, straight from
 * the definitions (onehot: the product of the one-hot vectors with W_0).
 * logits: [n, Vo].  mlp_forward_ref_embed starts from given position
 * embeddings emb [n, T, E] instead of W_E[tokens] (or the one-hot vectors)
 * (for checking mlp_embed_grad).  For tests. */
void mlp_forward_ref(const mlp_model *m, const int32_t *tokens, int n, double *logits);
void mlp_forward_ref_embed(const mlp_model *m, const double *emb, int n, double *logits);

#endif
