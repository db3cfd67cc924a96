/* params.c: the shared parameter table (see params.h). */
#include "params.h"

#include <string.h>

void params_add(param_table *b, const char *name, int ndim, int s0, int s1, int s2,
                double init_std, float init_value)
{
    GROK_ASSERT(b->n < b->cap);
    param_tensor *t = &b->t[b->n++];
    GROK_ASSERT(ndim >= 1 && ndim <= 3);
    GROK_ASSERT(strlen(name) < PARAM_NAME_MAX);
    strcpy(t->name, name);
    t->ndim = ndim;
    t->shape[0] = s0;
    t->shape[1] = s1;
    t->shape[2] = s2;
    t->numel = (size_t)s0 * (size_t)(ndim > 1 ? s1 : 1) * (size_t)(ndim > 2 ? s2 : 1);
    t->offset = b->offset;
    t->init_std = init_std;
    t->init_bound = 0.0;
    t->init_value = init_value;
    b->offset += t->numel;
}

void params_last_uniform(param_table *b, double bound)
{
    GROK_ASSERT(b->n > 0 && bound > 0);
    b->t[b->n - 1].init_std = 0.0;
    b->t[b->n - 1].init_bound = bound;
}

static const char *const scheme_names[PARAM_INIT_COUNT] = {"gaussian", "torch"};

const char *param_init_scheme_name(param_init_scheme s)
{
    return s >= 0 && s < PARAM_INIT_COUNT ? scheme_names[s] : "?";
}

int param_init_scheme_parse(const char *name)
{
    for (int i = 0; name && i < PARAM_INIT_COUNT; i++)
        if (strcmp(name, scheme_names[i]) == 0)
            return i;
    return -1;
}

const param_tensor *params_find(const param_tensor *t, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

void params_init_draw(const param_tensor *t, int n, float *params, double scale, rng *r)
{
    for (int i = 0; i < n; i++) {
        float *p = params + t[i].offset;
        for (size_t j = 0; j < t[i].numel; j++)
            p[j] = t[i].init_std > 0     ? (float)(rng_normal(r) * t[i].init_std * scale)
                   : t[i].init_bound > 0 ? (float)((2.0 * rng_uniform(r) - 1.0) *
                                                   t[i].init_bound * scale)
                                         : t[i].init_value;
    }
}
