/* model.c: the dispatch of model.h.
 *
 * Each family supplies its config check, its parameter table and buffers, its
 * workspace, forward, logits, d-logits and backward; this file routes the
 * calls and owns nothing numeric. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

struct model_acts {
    model_family family;
    int width; /* of the hidden layer model_hidden_last returns */
    int n_max; /* rows it holds */
    tfm_acts *tfm;
    mlp_acts *mlp;
};

static const char *const family_names[MODEL_FAMILY_COUNT] = {
    [MODEL_TRANSFORMER] = "transformer",
    [MODEL_MLP] = "mlp",
};

const char *model_family_name(model_family f)
{
    return (int)f >= 0 && f < MODEL_FAMILY_COUNT ? family_names[f] : "?";
}

int model_family_parse(const char *name)
{
    for (int i = 0; name && i < MODEL_FAMILY_COUNT; i++)
        if (strcmp(name, family_names[i]) == 0)
            return i;
    return -1;
}

const char *model_family_names(void) { return "transformer, mlp"; }

int model_config_check(const model_config *c, grok_err *e)
{
    switch (c->family) {
    case MODEL_TRANSFORMER:
        return tfm_config_check(&c->tfm, e);
    case MODEL_MLP:
        return mlp_config_check(&c->mlp, e);
    default:
        return grok_fail(e, GROK_EINVAL, "model.family = %d: unknown; valid: %s", (int)c->family,
                         model_family_names());
    }
}

int model_init(model *m, const model_config *c, grok_err *e)
{
    memset(m, 0, sizeof *m);
    int rc = model_config_check(c, e);
    if (rc != GROK_OK)
        return rc;
    m->cfg = *c;
    if (c->family == MODEL_TRANSFORMER) {
        if ((rc = tfm_init(&m->tfm, &c->tfm, e)) != GROK_OK)
            return rc;
        m->tensors = m->tfm.tensors;
        m->n_tensors = m->tfm.n_tensors;
        m->n_params = m->tfm.n_params;
        m->params = m->tfm.params;
        m->grads = m->tfm.grads;
    } else {
        if ((rc = mlp_init(&m->mlp, &c->mlp, e)) != GROK_OK)
            return rc;
        m->tensors = m->mlp.tensors;
        m->n_tensors = m->mlp.n_tensors;
        m->n_params = m->mlp.n_params;
        m->params = m->mlp.params;
        m->grads = m->mlp.grads;
    }
    return GROK_OK;
}

void model_free(model *m)
{
    if (m->cfg.family == MODEL_TRANSFORMER)
        tfm_free(&m->tfm);
    else
        mlp_free(&m->mlp);
    memset(m, 0, sizeof *m);
}

void model_init_params(model *m, rng *r)
{
    if (m->cfg.family == MODEL_TRANSFORMER)
        tfm_init_params(&m->tfm, r);
    else
        mlp_init_params(&m->mlp, r);
}

const param_tensor *model_find(const model *m, const char *name)
{
    return params_find(m->tensors, m->n_tensors, name);
}

int model_n_ctx(const model *m)
{
    return m->cfg.family == MODEL_TRANSFORMER ? m->cfg.tfm.n_ctx : m->cfg.mlp.n_ctx;
}

int model_n_classes(const model *m)
{
    return m->cfg.family == MODEL_TRANSFORMER ? m->cfg.tfm.d_vocab_out : m->cfg.mlp.d_vocab_out;
}

const tfm_model *model_tfm(const model *m)
{
    return m->cfg.family == MODEL_TRANSFORMER ? &m->tfm : NULL;
}

model_acts *model_acts_alloc(const model *m, int n_max)
{
    model_acts *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->family = m->cfg.family;
    a->n_max = n_max;
    if (a->family == MODEL_TRANSFORMER) {
        a->tfm = tfm_acts_alloc(&m->tfm, n_max);
        a->width = m->cfg.tfm.d_mlp;
    } else {
        a->mlp = mlp_acts_alloc(&m->mlp, n_max);
        a->width = m->cfg.mlp.d_hidden;
    }
    if (!a->tfm && !a->mlp) {
        free(a);
        return NULL;
    }
    return a;
}

void model_acts_free(model_acts *a)
{
    if (!a)
        return;
    tfm_acts_free(a->tfm);
    mlp_acts_free(a->mlp);
    free(a);
}

tfm_acts *model_acts_tfm(model_acts *a) { return a->tfm; }

int model_acts_n_max(const model_acts *a) { return a->n_max; }

void model_acts_profile(model_acts *a, tfm_profile *prof)
{
    if (a->tfm)
        tfm_acts_profile(a->tfm, prof);
    else
        mlp_acts_profile(a->mlp, prof);
}

void model_forward(const model *m, model_acts *a, const int32_t *tokens, int n)
{
    if (a->tfm)
        tfm_forward(&m->tfm, a->tfm, tokens, n);
    else
        mlp_forward(&m->mlp, a->mlp, tokens, n);
}

const float *model_logits(const model_acts *a)
{
    return a->tfm ? tfm_logits(a->tfm) : mlp_logits(a->mlp);
}

float *model_dlogits(model_acts *a) { return a->tfm ? tfm_dlogits(a->tfm) : mlp_dlogits(a->mlp); }

void model_backward(model *m, model_acts *a, const int32_t *tokens, int n)
{
    if (a->tfm)
        tfm_backward(&m->tfm, a->tfm, tokens, n);
    else
        mlp_backward(&m->mlp, a->mlp, tokens, n);
}

void model_embed_grad(model *m, model_acts *a, const int32_t *tokens, const int32_t *cls, int n,
                      unsigned pos_mask, float *out, int *width)
{
    if (!a->tfm) {
        *width = mlp_embed_width(&m->cfg.mlp);
        mlp_forward(&m->mlp, a->mlp, tokens, n);
        mlp_embed_grad(&m->mlp, a->mlp, tokens, cls, n, out);
        return;
    }
    *width = m->cfg.tfm.d_model;
    tfm_embed_grad(&m->tfm, a->tfm, tokens, cls, n, pos_mask, out);
}

const float *model_hidden_last(const model_acts *a, int *width)
{
    *width = a->width;
    return a->tfm ? tfm_mlp_post_last(a->tfm) : mlp_hidden_last(a->mlp);
}
