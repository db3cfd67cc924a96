/* optim.c: AdamW, Adam and SGD over one flat parameter buffer (optim.h).
 *
 * Owns the moment buffers, the warmup schedule and the update rules.  Does not
 * compute gradients, clip them or zero them.
 *
 * The rules are those of PyTorch's single-tensor CPU paths
 * (torch/optim/adamw.py _single_tensor_adamw, adam.py _single_tensor_adam,
 * sgd.py _single_tensor_sgd; https://pytorch.org/docs/stable/generated/
 * torch.optim.AdamW.html), written with the same operation order so the
 * float results agree with torch's: per-step scalars are computed in double
 * (Python floats), cast once to float (the tensor dtype) and the element-wise
 * arithmetic is float, e.g. for AdamW at update t = step + 1
 *     p = p * f(1 - lr*wd)
 *     m = m * f(b1) + f(1 - b1) * g
 *     v = v * f(b2) + f(1 - b2) * g * g
 *     p = p + (f(-lr / (1 - b1^t)) * m) / (sqrt(v) / f(sqrt(1 - b2^t)) + f(eps))
 * with f() the cast to float.  The loops are element-wise and split over
 * threads by OpenMP's static schedule, so the bits do not depend on the
 * thread count (the build turns FMA contraction off, -ffp-contract=off).
 * Adam's loop runs with IEEE subnormals, not grok's flush (linalg.h,
 * la_subnormals_on): a second moment of 1e-40 must not become 0 when eps is
 * tiny.
 *
 * Decay toward the origin p0 (OPTIM_DECAY_INIT) replaces the two decay terms:
 *     AdamW:     p = p - f(lr*wd) * (p - p0)
 *     Adam, SGD: g = g + f(wd) * (p - p0)
 * (openai/grok's to_init form; written with the same float steps in
 * tests/gen_optim_golden.py).  OPTIM_DECAY_ZERO runs the torch rules above
 * unchanged.
 *
 * Legend: n parameters. */
#include "optim.h"

#include "linalg.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *const optim_kind_names[OPTIM_KIND_COUNT] = {
    [OPTIM_ADAMW] = "adamw",
    [OPTIM_ADAM] = "adam",
    [OPTIM_SGD] = "sgd",
};

const char *optim_kind_name(optim_kind k)
{
    if ((int)k < 0 || k >= OPTIM_KIND_COUNT)
        return "?";
    return optim_kind_names[k];
}

/* The index of name among names[0..n), or -1. */
static int optim_name_index(const char *const *names, int n, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int optim_kind_parse(const char *name)
{
    return optim_name_index(optim_kind_names, OPTIM_KIND_COUNT, name);
}

static const char *const optim_decay_names[OPTIM_DECAY_COUNT] = {
    [OPTIM_DECAY_ZERO] = "zero",
    [OPTIM_DECAY_INIT] = "init",
};

const char *optim_decay_name(optim_decay d)
{
    if ((int)d < 0 || d >= OPTIM_DECAY_COUNT)
        return "?";
    return optim_decay_names[d];
}

int optim_decay_parse(const char *name)
{
    return optim_name_index(optim_decay_names, OPTIM_DECAY_COUNT, name);
}

static int optim_validate(const optim_config *c, grok_err *e)
{
    if ((int)c->kind < 0 || c->kind >= OPTIM_KIND_COUNT)
        return grok_fail(e, GROK_EINVAL, "kind = %d: unknown optimizer (valid: adamw, adam, sgd)",
                         (int)c->kind);
    if (!(c->lr > 0.0 && isfinite(c->lr)))
        return grok_fail(e, GROK_EINVAL, "lr = %g: must be > 0 and finite", c->lr);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0))
        return grok_fail(e, GROK_EINVAL, "beta1 = %g: must be in [0, 1)", c->beta1);
    if (!(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return grok_fail(e, GROK_EINVAL, "beta2 = %g: must be in [0, 1)", c->beta2);
    if (!(c->eps > 0.0 && isfinite(c->eps)))
        return grok_fail(e, GROK_EINVAL, "eps = %g: must be > 0 and finite", c->eps);
    if (!(c->weight_decay >= 0.0 && isfinite(c->weight_decay)))
        return grok_fail(e, GROK_EINVAL, "weight_decay = %g: must be >= 0 and finite",
                         c->weight_decay);
    if (!(c->momentum >= 0.0 && c->momentum < 1.0))
        return grok_fail(e, GROK_EINVAL, "momentum = %g: must be in [0, 1)", c->momentum);
    if (c->warmup < 0)
        return grok_fail(e, GROK_EINVAL, "warmup = %ld: must be >= 0", c->warmup);
    if ((int)c->decay_to < 0 || c->decay_to >= OPTIM_DECAY_COUNT)
        return grok_fail(e, GROK_EINVAL, "decay_to = %d: unknown (valid: zero, init)",
                         (int)c->decay_to);
    return GROK_OK;
}

int optim_init(optim_state *s, const optim_config *cfg, size_t n, grok_err *e)
{
    GROK_ASSERT(s != NULL && cfg != NULL);
    memset(s, 0, sizeof *s);
    int rc = optim_validate(cfg, e);
    if (rc != GROK_OK)
        return rc;
    if (n > SIZE_MAX / sizeof(float))
        return grok_fail(e, GROK_ENOMEM, "optimizer: %zu parameters is too many", n);
    s->m = grok_alloc(n * sizeof(float));
    s->v = grok_alloc(n * sizeof(float));
    if (!s->m || !s->v) {
        optim_free(s);
        return grok_fail(e, GROK_ENOMEM, "optimizer: out of memory for 2 x %zu floats", n);
    }
    if (cfg->decay_to == OPTIM_DECAY_INIT) {
        s->origin = grok_alloc(n * sizeof(float));
        if (!s->origin) {
            optim_free(s);
            return grok_fail(e, GROK_ENOMEM, "optimizer: out of memory for the origin, %zu floats",
                             n);
        }
        for (size_t i = 0; i < n; i++)
            s->origin[i] = NAN;
    }
    s->cfg = *cfg;
    s->n = n;
    s->step = 0;
    if (e)
        e->msg[0] = '\0';
    return GROK_OK;
}

void optim_free(optim_state *s)
{
    if (!s)
        return;
    grok_free(s->m);
    grok_free(s->v);
    grok_free(s->origin);
    memset(s, 0, sizeof *s);
}

void optim_set_origin(optim_state *s, const float *params)
{
    GROK_ASSERT(s != NULL && s->cfg.decay_to == OPTIM_DECAY_INIT && s->origin != NULL);
    GROK_ASSERT(s->n == 0 || params != NULL);
    memcpy(s->origin, params, s->n * sizeof(float));
}

void optim_state_buffers(optim_state *s, statebuf_list *l)
{
    statebuf_add(l, "optim.m", s->m, s->n);
    statebuf_add(l, "optim.v", s->v, s->n);
    if (s->cfg.decay_to == OPTIM_DECAY_INIT)
        statebuf_add(l, "optim.origin", s->origin, s->n);
}

double optim_lr(const optim_state *s)
{
    const optim_config *c = &s->cfg;
    /* LambdaLR(lambda s: min(s / warmup, 1)): base_lr * lambda(step). */
    if (c->warmup <= 0 || s->step >= c->warmup)
        return c->lr;
    return c->lr * ((double)s->step / (double)c->warmup);
}

/* Adam(W) for params, grads, m, v [n]; decoupled: AdamW's p *= 1 - lr*wd,
 * else Adam's g += wd*p (toward the origin: p -= lr*wd*(p - p0), g += wd*(p - p0)). */
static void optim_adam_update(const optim_state *s, double lr, int decoupled, float *params,
                              const float *grads)
{
    const optim_config *c = &s->cfg;
    double t = (double)(s->step + 1);
    double bc1 = 1.0 - pow(c->beta1, t);
    double bc2 = 1.0 - pow(c->beta2, t);
    const float decay = (float)(1.0 - lr * c->weight_decay); /* AdamW only */
    const float wd = (float)c->weight_decay;                  /* Adam only */
    const float lr_wd = (float)(lr * c->weight_decay);         /* AdamW to the origin */
    const int l2 = !decoupled && c->weight_decay != 0.0;
    const int to_init = c->decay_to == OPTIM_DECAY_INIT;
    const float *origin = s->origin;
    const float b1 = (float)c->beta1, one_b1 = (float)(1.0 - c->beta1);
    const float b2 = (float)c->beta2, one_b2 = (float)(1.0 - c->beta2);
    const float neg_step = (float)(-(lr / bc1));
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = (float)c->eps;
    float *m = s->m, *v = s->v;
    const ptrdiff_t n = (ptrdiff_t)s->n;

#pragma omp parallel
    {
    const unsigned mode = la_subnormals_on(); /* as torch's CPU kernels (linalg.h) */
#pragma omp for schedule(static)
    for (ptrdiff_t i = 0; i < n; i++) {
        float p = params[i];
        float g = grads[i];
        if (decoupled)
            p = to_init ? p - lr_wd * (p - origin[i]) : p * decay;
        else if (l2)
            g = to_init ? g + wd * (p - origin[i]) : g + wd * p;
        float mi = m[i] * b1 + one_b1 * g;
        float vi = v[i] * b2 + one_b2 * g * g;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        params[i] = p + (neg_step * mi) / denom;
    }
    la_subnormals_restore(mode);
    }
}

/* SGD with momentum (dampening 0) and L2 weight decay (toward zero or the
 * origin) for params, grads, buf = m [n]; the first update sets buf = g, as
 * torch does. */
static void optim_sgd_update(const optim_state *s, double lr, float *params, const float *grads)
{
    const optim_config *c = &s->cfg;
    const int first = s->step == 0;
    const int l2 = c->weight_decay != 0.0;
    const int to_init = c->decay_to == OPTIM_DECAY_INIT;
    const float *origin = s->origin;
    const float wd = (float)c->weight_decay;
    const float mom = (float)c->momentum;
    const int use_buf = c->momentum != 0.0;
    const float neg_lr = (float)(-lr);
    float *buf = s->m;
    const ptrdiff_t n = (ptrdiff_t)s->n;

#pragma omp parallel for schedule(static)
    for (ptrdiff_t i = 0; i < n; i++) {
        float p = params[i];
        float g = grads[i];
        if (l2)
            g = to_init ? g + wd * (p - origin[i]) : g + wd * p;
        if (use_buf) {
            g = first ? g : buf[i] * mom + g;
            buf[i] = g;
        }
        params[i] = p + neg_lr * g;
    }
}

void optim_step(optim_state *s, float *params, const float *grads)
{
    GROK_ASSERT(s != NULL && (s->n == 0 || (params != NULL && grads != NULL)));
    double lr = optim_lr(s);
    switch (s->cfg.kind) {
    case OPTIM_ADAMW: optim_adam_update(s, lr, 1, params, grads); break;
    case OPTIM_ADAM: optim_adam_update(s, lr, 0, params, grads); break;
    case OPTIM_SGD: optim_sgd_update(s, lr, params, grads); break;
    case OPTIM_KIND_COUNT: GROK_ASSERT(0 && "optim_init validates the kind"); break;
    }
    s->step++;
}
