/* optim.h: optimizers over one flat parameter buffer.
 *
 * AdamW follows torch.optim.AdamW exactly (decoupled weight decay applied as
 * p *= 1 - lr*wd before the Adam update, bias correction, eps added after the
 * bias-corrected square root); Adam applies weight decay as an L2 term added
 * to the gradient (torch.optim.Adam); SGD is torch.optim.SGD with momentum
 * (dampening 0, L2 weight decay, first step buf = g).  The learning rate of
 * step s (0-based: the number of updates done before it) is
 * lr * min(s / warmup, 1) (warmup 0: lr), the schedule of
 * LambdaLR(lambda s: min(s/warmup, 1)) used by Nanda et al.  The moments live
 * in buffers of the parameter buffer's length and layout.
 *
 * Weight decay pulls toward zero (decay_to = OPTIM_DECAY_ZERO, torch's rule)
 * or toward an origin p0, the initial weights (OPTIM_DECAY_INIT, Power et
 * al.'s to_init; docs/training.md, "Optimizers and weight decay"): AdamW
 * p <- p - lr*wd*(p - p0) before the Adam update; Adam and SGD
 * g <- g + wd*(p - p0).  The origin is a buffer that exists only under
 * OPTIM_DECAY_INIT, set by optim_set_origin.
 *
 * optim_state_buffers names every buffer the state holds, so the state file
 * saves and restores them (with s->step) by walking one list. */
#ifndef GROK_OPTIM_H
#define GROK_OPTIM_H

#include <stddef.h>

#include "grok.h"
#include "statebuf.h"

typedef enum { OPTIM_ADAMW, OPTIM_ADAM, OPTIM_SGD, OPTIM_KIND_COUNT } optim_kind;

/* What weight decay pulls toward: zero, or the origin (the initial weights). */
typedef enum { OPTIM_DECAY_ZERO, OPTIM_DECAY_INIT, OPTIM_DECAY_COUNT } optim_decay;

typedef struct {
    optim_kind kind;
    double lr;           /* > 0 */
    double beta1, beta2; /* Adam(W) betas, in [0, 1) */
    double eps;          /* Adam(W) epsilon, > 0 */
    double weight_decay; /* >= 0 */
    double momentum;     /* SGD momentum, in [0, 1) */
    long warmup;         /* linear warmup steps, >= 0 */
    optim_decay decay_to; /* OPTIM_DECAY_ZERO (0, the default) or OPTIM_DECAY_INIT */
} optim_config;

typedef struct {
    optim_config cfg;
    size_t n;   /* number of parameters */
    long step;  /* updates done so far */
    float *m;   /* [n] first moment (Adam) or momentum buffer (SGD) */
    float *v;   /* [n] second moment (Adam); unused by SGD but allocated */
    float *origin; /* [n] what weight decay pulls toward (OPTIM_DECAY_INIT), else NULL */
} optim_state;

const char *optim_kind_name(optim_kind k);
int optim_kind_parse(const char *name); /* -1 when unknown */
const char *optim_decay_name(optim_decay d);  /* "zero", "init" */
int optim_decay_parse(const char *name);      /* -1 when unknown */

/* Allocates zeroed moments for n parameters, and under OPTIM_DECAY_INIT the
 * origin, filled with NaN until optim_set_origin (so a run that forgets it
 * diverges at its first decay instead of decaying toward zero). */
int optim_init(optim_state *s, const optim_config *cfg, size_t n, grok_err *e);
void optim_free(optim_state *s);

/* Copies params [n] into the origin (OPTIM_DECAY_INIT only; call once, with
 * the initial weights, before the first step; a resume restores the origin
 * from the state file instead). */
void optim_set_origin(optim_state *s, const float *params);

/* Appends the state's buffers to l: "optim.m" [n], "optim.v" [n], and
 * "optim.origin" [n] under OPTIM_DECAY_INIT.  The step count s->step is the
 * one other piece of state. */
void optim_state_buffers(optim_state *s, statebuf_list *l);

/* The learning rate the next update (step s->step) will use. */
double optim_lr(const optim_state *s);

/* One update of params[0..n) with grads[0..n); increments s->step.
 * Element-wise, parallel over chunks, same bits for any thread count. */
void optim_step(optim_state *s, float *params, const float *grads);

#endif
