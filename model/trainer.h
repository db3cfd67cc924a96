/* trainer.h: the one training step, used by `grok train`, `grok resume` and
 * `grok bench`.
 *
 *   forward -> loss -> backward -> gradient filters -> optimizer -> constraint
 *
 * trainer_grad does the first three (and leaves the gradient in the model's
 * gradient buffer, so a caller may evaluate between the two halves);
 * trainer_update the last three.  The loss is the one loss module's
 * (loss.h), the filters are filters.h's chain in its documented order, the
 * optimizer is optim.h's, and the constraint rescales every weight to a fixed
 * total L2 norm (Omnigrok) when train.weight_norm > 0.
 *
 * Everything a run must save to continue bit for bit (the parameters, the
 * optimizer's moments and origin, the filters' buffers) is listed by
 * trainer_buffers as named buffers, so the state file saves and restores
 * them without naming any. */
#ifndef GROK_TRAINER_H
#define GROK_TRAINER_H

#include <stdint.h>

#include "filters.h"
#include "grok.h"
#include "loss.h"
#include "model.h"
#include "optim.h"
#include "statebuf.h"

typedef struct {
    loss_config loss;
    optim_config optim;
    filter_config filters;
    double weight_norm; /* > 0: the total L2 norm every update rescales the weights to; 0: off */
} trainer_config;

typedef struct {
    trainer_config cfg;
    model *m;          /* the model trained (not owned) */
    model_acts *acts;  /* workspace for n_max rows */
    int n_max;
    optim_state opt;
    filter_state filt;
    double *loss_scratch; /* [n_max * classes] */
    double *loss_rows;    /* [n_max] per-example losses of the last call */
} trainer;

/* Checks c (messages name the config keys), allocates the workspace for up
 * to n_max rows, the optimizer and the filters for m. */
int trainer_init(trainer *t, model *m, const trainer_config *c, int n_max, grok_err *e);
void trainer_free(trainer *t);
/* Frees the activation workspace and the loss scratch (the bulk of the
 * trainer's memory) and keeps the rest (parameters, optimizer, filters:
 * trainer_buffers still works); no step or evaluation may follow. */
void trainer_drop_workspace(trainer *t);

/* To be called once the initial parameters are in place (drawn, or taken
 * from another run): remembers what decay toward the initial weights
 * needs. */
void trainer_start(trainer *t);

/* Forward, loss and backward over n <= n_max rows: the gradient of the mean
 * loss is left in t->m->grads.  Returns the mean loss; *n_correct (may be
 * NULL) counts rows whose argmax is the label.  A non-finite loss skips the
 * backward. */
double trainer_grad(trainer *t, const int32_t *tokens, const int32_t *labels, int n,
                    int *n_correct);

/* Gradient filters, the optimizer update and the norm constraint. */
void trainer_update(trainer *t);

/* Mean loss over any n rows, forward only, in chunks of n_max: the per-row
 * losses are added in row order and divided by n, so the result is the same
 * bits whatever n_max (the model's rows do not depend on the chunk);
 * *n_correct as above. */
double trainer_eval(trainer *t, const int32_t *tokens, const int32_t *labels, int n,
                    long *n_correct);

/* The learning rate of the next update. */
double trainer_lr(const trainer *t);

/* Appends every buffer a state file must hold to continue bit for bit, in
 * an order that depends only on the config: "params", then the optimizer's
 * and the filters' buffers. */
void trainer_buffers(trainer *t, statebuf_list *l);

#endif
