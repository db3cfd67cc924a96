/* filters.h: the gradient filters applied to the flat gradient buffer between
 * the backward pass and the optimizer (docs/training.md, "Gradient filters").
 *
 * filters_apply runs the enabled filters in this order, each on the output of
 * the one before:
 *   1. Grokfast EMA (Lee et al. 2024, ironjr/grokfast gradfilter_ema):
 *      mu <- alpha*mu + (1-alpha)*g, mu starting as the first gradient (so
 *      the first update gives alpha*g + (1-alpha)*g, as gradfilter_ema does);
 *      g <- g + lambda*mu.
 *   2. Grokfast MA (gradfilter_ma, warmup=True, filter_type "mean"): the last
 *      `window` gradients (as they reach this filter) in a ring; once the
 *      window is full, g <- g + lambda * mean(window), the mean summed oldest
 *      first; before that g is unchanged.
 *   3. Orthogonal gradient, ⊥Grad (Prieto et al. 2025), per tensor of the
 *      parameter table, with w the tensor's weights:
 *      g_perp = g - (w.g / (w.w + 1e-30)) w;  g <- g_perp * |g| / (|g_perp| + 1e-30).
 *   4. Clipping by the global L2 norm (torch.nn.utils.clip_grad_norm_):
 *      g <- g * max_norm / (|g| + 1e-6) when that factor is below 1.
 * The element-wise arithmetic is float in the operation order of the
 * reference code (scalars computed in double, cast once to float); dot
 * products and norms are summed in double in a fixed order (norm.h).  The
 * loops are parallel over elements or fixed blocks: the same bits for any
 * thread count.
 *
 * The state holds float buffers only (mu, the ring); where the ring writes
 * next and whether it is full follow from the number of earlier
 * filters_apply calls, which the caller passes in (the optimizer's step
 * count when the filters run once per update), so a state restored from its
 * buffers (filters_state_buffers) and that count continues with the same
 * bits. */
#ifndef GROK_FILTERS_H
#define GROK_FILTERS_H

#include <stddef.h>

#include "grok.h"
#include "params.h"
#include "statebuf.h"

/* Every filter is off in a zeroed config.  The config keys are
 * filters.ema, filters.ema_alpha, filters.ema_lambda, filters.ma, filters.ma_window,
 * filters.ma_lambda,
 * filters.ortho and filters.clip_norm. */
typedef struct {
    struct {
        int on;        /* 0 or 1 */
        double alpha;  /* in [0, 1); Grokfast: 0.98 */
        double lambda; /* finite; Grokfast: 2.0 */
    } ema;
    struct {
        int on;        /* 0 or 1 */
        int window;    /* >= 1; Grokfast: 100 */
        double lambda; /* finite; Grokfast: 5.0 */
    } ma;
    int ortho;         /* 0 or 1 */
    double clip_norm;  /* max global gradient norm, > 0; 0: no clipping */
} filter_config;

typedef struct {
    filter_config cfg;
    size_t n;    /* parameters */
    float *mu;   /* [n] EMA of the gradients (ema.on), else NULL */
    float *ring; /* [window][n] the last window gradients (ma.on), else NULL */
} filter_state;

/* 1 when some filter is on. */
int filters_active(const filter_config *c);

/* Checks the values of the filters that are on; the message names the key,
 * e.g. "filters.ema_alpha = 1.5: must be in [0, 1)". */
int filters_check(const filter_config *c, grok_err *e);

/* Checks c and allocates the buffers the enabled filters need for n
 * parameters (zeroed). */
int filters_init(filter_state *s, const filter_config *c, size_t n, grok_err *e);
void filters_free(filter_state *s);

/* Filters grads[0..n) in place.  t[0..n_tensors) is the parameter table
 * (⊥Grad works per tensor; every tensor must lie within [0, n)), params the
 * current weights [n] (read by ⊥Grad only), step the number of earlier
 * filters_apply calls on this state (0 for the first). */
void filters_apply(filter_state *s, const param_tensor *t, int n_tensors, const float *params,
                   float *grads, long step);

/* Appends the state's buffers to l: "filters.ema.mu" [n] when ema is on,
 * "filters.ma.ring" [window * n] when ma is on; nothing else. */
void filters_state_buffers(filter_state *s, statebuf_list *l);

#endif
