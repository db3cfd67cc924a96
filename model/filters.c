/* filters.c: Grokfast EMA and MA, the orthogonal gradient and global-norm
 * clipping over the flat gradient buffer (see filters.h).
 *
 * Owns the filter config checks, the EMA and ring buffers and their names in
 * the state.  The float operation order follows the reference code so the
 * results agree with it: gradfilter_ema's `mu * alpha + g * (1 - alpha)` and
 * `g + mu * lamb`, gradfilter_ma's `sum(window) / len(window)` (a float sum
 * from 0, oldest first) and `g + avg * lamb`, clip_grad_norm_'s
 * `g * (max_norm / (total + 1e-6))`.
 *
 * Legend: n parameters, W the MA window, m the elements of one tensor. */
#include "filters.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "norm.h"

int filters_active(const filter_config *c)
{
    return c->ema.on || c->ma.on || c->ortho || c->clip_norm > 0.0;
}

static int filters_check_flag(int v, const char *key, grok_err *e)
{
    if (v != 0 && v != 1)
        return grok_fail(e, GROK_EINVAL, "%s = %d: must be 0 or 1", key, v);
    return GROK_OK;
}

int filters_check(const filter_config *c, grok_err *e)
{
    int rc;
    if ((rc = filters_check_flag(c->ema.on, "filters.ema", e)) != GROK_OK ||
        (rc = filters_check_flag(c->ma.on, "filters.ma", e)) != GROK_OK ||
        (rc = filters_check_flag(c->ortho, "filters.ortho", e)) != GROK_OK)
        return rc;
    if (c->ema.on) {
        if (!(c->ema.alpha >= 0.0 && c->ema.alpha < 1.0))
            return grok_fail(e, GROK_EINVAL, "filters.ema_alpha = %g: must be in [0, 1)",
                             c->ema.alpha);
        if (!isfinite(c->ema.lambda))
            return grok_fail(e, GROK_EINVAL, "filters.ema_lambda = %g: must be finite",
                             c->ema.lambda);
    }
    if (c->ma.on) {
        if (c->ma.window < 1)
            return grok_fail(e, GROK_EINVAL, "filters.ma_window = %d: must be >= 1",
                             c->ma.window);
        if (!isfinite(c->ma.lambda))
            return grok_fail(e, GROK_EINVAL, "filters.ma_lambda = %g: must be finite",
                             c->ma.lambda);
    }
    if (!(c->clip_norm >= 0.0 && isfinite(c->clip_norm)))
        return grok_fail(e, GROK_EINVAL,
                         "filters.clip_norm = %g: must be >= 0 and finite (0: no clipping)",
                         c->clip_norm);
    return GROK_OK;
}

int filters_init(filter_state *s, const filter_config *c, size_t n, grok_err *e)
{
    GROK_ASSERT(s != NULL && c != NULL);
    memset(s, 0, sizeof *s);
    int rc = filters_check(c, e);
    if (rc != GROK_OK)
        return rc;
    size_t w = c->ma.on ? (size_t)c->ma.window : 0;
    if (n > SIZE_MAX / sizeof(float) / (w > 0 ? w : 1))
        return grok_fail(e, GROK_ENOMEM, "filters: %zu parameters x window %zu is too many", n,
                         w);
    if (c->ema.on && !(s->mu = grok_alloc(n * sizeof(float)))) {
        filters_free(s);
        return grok_fail(e, GROK_ENOMEM, "filters.ema: out of memory for %zu floats", n);
    }
    if (c->ma.on && !(s->ring = grok_alloc(w * n * sizeof(float)))) {
        filters_free(s);
        return grok_fail(e, GROK_ENOMEM, "filters.ma: out of memory for %zu x %zu floats", w,
                         n);
    }
    s->cfg = *c;
    s->n = n;
    if (e)
        e->msg[0] = '\0';
    return GROK_OK;
}

void filters_free(filter_state *s)
{
    if (!s)
        return;
    grok_free(s->mu);
    grok_free(s->ring);
    memset(s, 0, sizeof *s);
}

/* Grokfast EMA on g [n]; the first call (step 0) starts mu as g. */
static void filters_ema(filter_state *s, float *g, long step)
{
    const float a = (float)s->cfg.ema.alpha, one_a = (float)(1.0 - s->cfg.ema.alpha);
    const float lam = (float)s->cfg.ema.lambda;
    const int first = step == 0;
    float *mu = s->mu;
    const ptrdiff_t n = (ptrdiff_t)s->n;
#pragma omp parallel for schedule(static)
    for (ptrdiff_t i = 0; i < n; i++) {
        float gi = g[i];
        float prev = first ? gi : mu[i];
        float mi = prev * a + gi * one_a;
        mu[i] = mi;
        g[i] = gi + mi * lam;
    }
}

/* Grokfast MA on g [n]: the gradient of step goes to ring slot step % W;
 * from step W-1 on the window is full and g gets lambda times its mean. */
static void filters_ma(filter_state *s, float *g, long step)
{
    const size_t w = (size_t)s->cfg.ma.window, n = s->n;
    const size_t slot = (size_t)step % w, oldest = (size_t)(step + 1) % w;
    const int full = (size_t)step + 1 >= w;
    const float fw = (float)w, lam = (float)s->cfg.ma.lambda;
    float *ring = s->ring;
#pragma omp parallel for schedule(static)
    for (ptrdiff_t ii = 0; ii < (ptrdiff_t)n; ii++) {
        size_t i = (size_t)ii;
        float gi = g[i];
        ring[slot * n + i] = gi;
        if (!full)
            continue;
        float sum = 0.0f;
        for (size_t j = 0, r = oldest; j < w; j++, r = r + 1 == w ? 0 : r + 1)
            sum += ring[r * n + i];
        g[i] = gi + (sum / fw) * lam;
    }
}

/* ⊥Grad on one tensor: w, g [m]. */
static void filters_ortho_tensor(const float *w, float *g, size_t m)
{
    const double ww = norm_dot(w, w, m), wg = norm_dot(w, g, m);
    const double gnorm = norm_l2(g, m);
    const double proj = wg / (ww + 1e-30);
    const ptrdiff_t mm = (ptrdiff_t)m;
#pragma omp parallel for schedule(static) if (m >= 65536)
    for (ptrdiff_t i = 0; i < mm; i++)
        g[i] = (float)((double)g[i] - proj * (double)w[i]);
    const double scale = gnorm / (norm_l2(g, m) + 1e-30);
#pragma omp parallel for schedule(static) if (m >= 65536)
    for (ptrdiff_t i = 0; i < mm; i++)
        g[i] = (float)((double)g[i] * scale);
}

/* clip_grad_norm_ over g [n]. */
static void filters_clip(const filter_state *s, float *g)
{
    const double total = norm_l2(g, s->n);
    const double coef = s->cfg.clip_norm / (total + 1e-6);
    if (!(coef < 1.0))
        return;
    const float c = (float)coef;
    const ptrdiff_t n = (ptrdiff_t)s->n;
#pragma omp parallel for schedule(static)
    for (ptrdiff_t i = 0; i < n; i++)
        g[i] = g[i] * c;
}

void filters_apply(filter_state *s, const param_tensor *t, int n_tensors, const float *params,
                   float *grads, long step)
{
    GROK_ASSERT(s != NULL && step >= 0 && (s->n == 0 || grads != NULL));
    const filter_config *c = &s->cfg;
    if (c->ema.on)
        filters_ema(s, grads, step);
    if (c->ma.on)
        filters_ma(s, grads, step);
    if (c->ortho) {
        GROK_ASSERT(t != NULL && params != NULL);
        for (int k = 0; k < n_tensors; k++) {
            GROK_ASSERT(t[k].offset <= s->n && t[k].numel <= s->n - t[k].offset);
            filters_ortho_tensor(params + t[k].offset, grads + t[k].offset, t[k].numel);
        }
    }
    if (c->clip_norm > 0.0)
        filters_clip(s, grads);
}

void filters_state_buffers(filter_state *s, statebuf_list *l)
{
    if (s->cfg.ema.on)
        statebuf_add(l, "filters.ema.mu", s->mu, s->n);
    if (s->cfg.ma.on)
        statebuf_add(l, "filters.ma.ring", s->ring, (size_t)s->cfg.ma.window * s->n);
}
