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
    t->init_value = init_value;
    b->offset += t->numel;
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
            p[j] = t[i].init_std > 0 ? (float)(rng_normal(r) * t[i].init_std * scale)
                                     : t[i].init_value;
    }
}
