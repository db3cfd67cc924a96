/* params.h: the parameter table every model family shares.
 *
 * A model's parameters live in one contiguous float buffer; the table lists
 * every tensor once (its name, shape, offset in the buffer and how it is
 * initialised).  Views, initialisation, checkpoints, weight norms, gradient
 * filters, the optimizer and the gradient checks all walk the table, so they
 * work for any family that builds one.  Knows nothing of what a tensor means. */
#ifndef GROK_PARAMS_H
#define GROK_PARAMS_H

#include <stddef.h>

#include "grok.h"
#include "rng.h"

#define PARAM_NAME_MAX 48

typedef struct {
    char name[PARAM_NAME_MAX]; /* e.g. "blocks.0.attn.W_Q" (TransformerLens) or "mlp.0.W" */
    int ndim;                  /* 1..3 */
    int shape[3];
    size_t offset, numel;      /* in floats, within the parameter buffer */
    double init_std;           /* > 0: N(0, init_std^2) (before the init scale) */
    double init_bound;         /* > 0 (init_std 0): U(-init_bound, init_bound) (before the
                                  init scale); both 0: the constant */
    float init_value;          /* the constant when init_std == init_bound == 0 */
} param_tensor;

/* How a family's table initialises its weights (model.init_scheme):
 * PARAM_INIT_GAUSSIAN, each family's own Gaussians (tfm.h, mlp.h), or
 * PARAM_INIT_TORCH, what PyTorch's modules draw by default for the same
 * layers (nn.Embedding N(0, 1); nn.Linear U(+-1/sqrt(fan_in)) for weight and
 * bias; nn.MultiheadAttention's packed in-projection Xavier-uniform, its
 * biases 0); docs/models.md lists each tensor's rule. */
typedef enum { PARAM_INIT_GAUSSIAN, PARAM_INIT_TORCH, PARAM_INIT_COUNT } param_init_scheme;
const char *param_init_scheme_name(param_init_scheme s);
int param_init_scheme_parse(const char *name); /* -1 when unknown */

/* Builds a table in a caller-sized array: params_add appends one tensor at
 * the next offset. */
typedef struct {
    param_tensor *t; /* room for cap entries */
    int n;           /* entries so far */
    size_t offset;   /* floats so far */
    int cap;         /* entries t has room for (params_add asserts it) */
} param_table;

void params_add(param_table *b, const char *name, int ndim, int s0, int s1, int s2,
                double init_std, float init_value);

/* Makes the last tensor params_add appended uniform, U(-bound, bound). */
void params_last_uniform(param_table *b, double bound);

/* The entry called name among t[0..n), or NULL. */
const param_tensor *params_find(const param_tensor *t, int n, const char *name);

/* Draws every tensor of t[0..n) into params, walking the table in order:
 * N(0, (init_std * scale)^2) or U(-init_bound * scale, init_bound * scale)
 * from r, or the constant. */
void params_init_draw(const param_tensor *t, int n, float *params, double scale, rng *r);

#endif
