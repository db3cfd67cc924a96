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
 * in buffers of the parameter buffer's length and layout. */
#ifndef GROK_OPTIM_H
#define GROK_OPTIM_H

#include <stddef.h>

#include "grok.h"

typedef enum { OPTIM_ADAMW, OPTIM_ADAM, OPTIM_SGD, OPTIM_KIND_COUNT } optim_kind;

typedef struct {
    optim_kind kind;
    double lr;           /* > 0 */
    double beta1, beta2; /* Adam(W) betas, in [0, 1) */
    double eps;          /* Adam(W) epsilon, > 0 */
    double weight_decay; /* >= 0 */
    double momentum;     /* SGD momentum, in [0, 1) */
    long warmup;         /* linear warmup steps, >= 0 */
} optim_config;

typedef struct {
    optim_config cfg;
    size_t n;   /* number of parameters */
    long step;  /* updates done so far */
    float *m;   /* [n] first moment (Adam) or momentum buffer (SGD) */
    float *v;   /* [n] second moment (Adam); unused by SGD but allocated */
} optim_state;

const char *optim_kind_name(optim_kind k);
int optim_kind_parse(const char *name); /* -1 when unknown */

/* Allocates zeroed moments for n parameters. */
int optim_init(optim_state *s, const optim_config *cfg, size_t n, grok_err *e);
void optim_free(optim_state *s);

/* The learning rate the next update (step s->step) will use. */
double optim_lr(const optim_state *s);

/* One update of params[0..n) with grads[0..n); increments s->step.
 * Element-wise, parallel over chunks, same bits for any thread count. */
void optim_step(optim_state *s, float *params, const float *grads);

#endif
