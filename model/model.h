/* model.h: the model families behind one interface.
 *
 * The trainer, the checkpoint code and the measures see a model through this
 * interface only: a parameter table (params.h) over one parameter buffer and
 * one gradient buffer, a forward over token rows [n, T] that leaves logits
 * [n, Vo], a writable d loss / d logits buffer that the backward reads, and
 * the last hidden activations that neuron measures analyse.  A family is one
 * row of a small table in model.c; its own module (tfm.c, mlp.c) owns its
 * arithmetic.  Families: "transformer" (tfm.h, the default) and "mlp" (mlp.h).
 *
 * Everything that walks the parameter table (initialisation, checkpoints,
 * weight norms, gradient filters, the optimizer, the gradient checks) works
 * for every family unchanged. */
#ifndef GROK_MODEL_H
#define GROK_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "grok.h"
#include "mlp.h"
#include "params.h"
#include "rng.h"
#include "tfm.h"

typedef enum { MODEL_TRANSFORMER, MODEL_MLP, MODEL_FAMILY_COUNT } model_family;

typedef struct {
    model_family family;
    tfm_config tfm; /* family transformer */
    mlp_config mlp; /* family mlp */
} model_config;

typedef struct {
    model_config cfg;
    const param_tensor *tensors; /* the family's table */
    int n_tensors;
    size_t n_params;
    float *params, *grads; /* [n_params] each, the table's layout */
    tfm_model tfm;         /* family transformer */
    mlp_model mlp;         /* family mlp */
} model;

typedef struct model_acts model_acts;

const char *model_family_name(model_family f);
int model_family_parse(const char *name); /* -1 when unknown */
const char *model_family_names(void);      /* "transformer, mlp", for messages */

int model_config_check(const model_config *c, grok_err *e);
int model_init(model *m, const model_config *c, grok_err *e);
void model_free(model *m);
/* Draws the initial parameters from r, walking the table in order. */
void model_init_params(model *m, rng *r);
const param_tensor *model_find(const model *m, const char *name);

/* Input shape: positions per example, input vocabulary, output classes. */
int model_n_ctx(const model *m);
int model_n_classes(const model *m);

/* The transformer behind m, or NULL for another family (measures that read
 * transformer weights by name ask for it). */
const tfm_model *model_tfm(const model *m);

/* out[i, t, :] = d logits[i, cls[i]] / d (the input embedding at position t
 * of example i), for n <= the workspace's rows; *width gets the embedding
 * width (the transformer's d_model: its input is W_E[token] + W_pos[t]; the
 * MLP's d_embed, before the combine, or d_vocab for its onehot input).  pos_mask: the positions wanted (bit
 * t; 0: all).  The transformer fills only those (the other rows are 0) and
 * batches the examples that share no token at a wanted position
 * (tfm_embed_grad); the MLP fills every position.  Runs its own forwards;
 * overwrites the workspace and m->grads, leaves the parameters untouched.
 * out: [n, T, width]. */
void model_embed_grad(model *m, model_acts *a, const int32_t *tokens, const int32_t *cls, int n,
                      unsigned pos_mask, float *out, int *width);

/* The last hidden layer after its activation at the last position, [n, width]
 * (the transformer's last MLP, the MLP's last hidden layer), of the last
 * forward; *width gets its width. */
const float *model_hidden_last(const model_acts *a, int *width);

model_acts *model_acts_alloc(const model *m, int n_max);
void model_acts_free(model_acts *a);
/* The rows a forward on a may hold (its n_max). */
int model_acts_n_max(const model_acts *a);
/* The transformer's workspace behind a, or NULL for another family (the
 * attention pattern is read from it). */
tfm_acts *model_acts_tfm(model_acts *a);
/* Attaches a matrix-product profile to the workspace (NULL detaches). */
void model_acts_profile(model_acts *a, tfm_profile *prof);

void model_forward(const model *m, model_acts *a, const int32_t *tokens, int n);
const float *model_logits(const model_acts *a); /* [n, Vo] of the last forward */
float *model_dlogits(model_acts *a);           /* [n, Vo]: d loss / d logits, for the backward */
/* The gradient of the mean loss (from model_dlogits) into m->grads,
 * overwriting it. */
void model_backward(model *m, model_acts *a, const int32_t *tokens, int n);

#endif
