/* trainer.c: the one training step (trainer.h).
 *
 * Owns the order of the step and the workspace it runs in; the arithmetic
 * belongs to the model family, the loss module, the filters and the
 * optimizer. */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "norm.h"

int trainer_init(trainer *t, model *m, const trainer_config *c, int n_max, grok_err *e)
{
    memset(t, 0, sizeof *t);
    int rc = loss_config_check(&c->loss, e);
    if (rc != GROK_OK)
        return rc;
    if (!(c->weight_norm >= 0) || !isfinite(c->weight_norm))
        return grok_fail(e, GROK_EINVAL, "train.weight_norm = %g: must be >= 0 (0: off)",
                         c->weight_norm);
    t->cfg = *c;
    t->m = m;
    t->n_max = n_max;
    if ((rc = optim_init(&t->opt, &c->optim, m->n_params, e)) != GROK_OK)
        return rc;
    if ((rc = filters_init(&t->filt, &c->filters, m->n_params, e)) != GROK_OK) {
        trainer_free(t);
        return rc;
    }
    const size_t k = (size_t)model_n_classes(m);
    t->acts = model_acts_alloc(m, n_max);
    t->loss_scratch = malloc((size_t)n_max * k * sizeof *t->loss_scratch);
    t->loss_rows = malloc((size_t)n_max * sizeof *t->loss_rows);
    if (!t->acts || !t->loss_scratch || !t->loss_rows) {
        trainer_free(t);
        return grok_fail(e, GROK_ENOMEM, "out of memory for the activations of %d examples",
                         n_max);
    }
    return GROK_OK;
}

void trainer_free(trainer *t)
{
    model_acts_free(t->acts);
    free(t->loss_scratch);
    free(t->loss_rows);
    filters_free(&t->filt);
    optim_free(&t->opt);
    memset(t, 0, sizeof *t);
}

void trainer_drop_workspace(trainer *t)
{
    model_acts_free(t->acts);
    free(t->loss_scratch);
    free(t->loss_rows);
    t->acts = NULL;
    t->loss_scratch = t->loss_rows = NULL;
    t->n_max = 0;
}

void trainer_start(trainer *t)
{
    if (t->cfg.optim.decay_to == OPTIM_DECAY_INIT)
        optim_set_origin(&t->opt, t->m->params);
}

double trainer_grad(trainer *t, const int32_t *tokens, const int32_t *labels, int n,
                    int *n_correct)
{
    GROK_ASSERT(n >= 1 && n <= t->n_max);
    model_forward(t->m, t->acts, tokens, n);
    double loss = loss_rows(&t->cfg.loss, model_logits(t->acts), labels, n,
                            model_n_classes(t->m), t->loss_scratch, t->loss_rows,
                            model_dlogits(t->acts), n_correct);
    if (isfinite(loss))
        model_backward(t->m, t->acts, tokens, n);
    return loss;
}

void trainer_update(trainer *t)
{
    model *m = t->m;
    if (filters_active(&t->cfg.filters))
        filters_apply(&t->filt, m->tensors, m->n_tensors, m->params, m->grads, t->opt.step);
    optim_step(&t->opt, m->params, m->grads);
    if (t->cfg.weight_norm > 0)
        norm_rescale(m->params, m->n_params, t->cfg.weight_norm);
}

double trainer_eval(trainer *t, const int32_t *tokens, const int32_t *labels, int n,
                    long *n_correct)
{
    /* Chunks of n_max rows; the per-row losses are added in row order across
     * chunks and divided by n once, which is loss_rows's own arithmetic over
     * all n rows: the result does not depend on n_max. */
    const int T = model_n_ctx(t->m), k = model_n_classes(t->m);
    double total = 0.0;
    long correct = 0;
    for (int i = 0; i < n; i += t->n_max) {
        int c = 0, rows = n - i < t->n_max ? n - i : t->n_max;
        model_forward(t->m, t->acts, tokens + (size_t)i * T, rows);
        loss_rows(&t->cfg.loss, model_logits(t->acts), labels + i, rows, k, t->loss_scratch,
                  t->loss_rows, NULL, &c);
        correct += c;
        for (int r = 0; r < rows; r++)
            total += t->loss_rows[r];
    }
    if (n_correct)
        *n_correct = correct;
    return n > 0 ? total / n : NAN;
}

double trainer_lr(const trainer *t) { return optim_lr(&t->opt); }

void trainer_buffers(trainer *t, statebuf_list *l)
{
    statebuf_add(l, "params", t->m->params, t->m->n_params);
    optim_state_buffers(&t->opt, l);
    filters_state_buffers(&t->filt, l);
}
