/* loss.h: the losses of a batch of logit rows against class labels, their
 * gradients with respect to the logits, and the accuracy (argmax == label),
 * for training (tfm_loss_with) and for every measure (logits in double).
 *
 * Kinds (n rows of k logits x, label y; the batch loss is the mean over rows):
 *   LOSS_SOFTMAX_CE   -log softmax(x)_y.  In float64 by default: in float32
 *                     exp underflows and a confident row's loss rounds to
 *                     exactly 0 (Softmax Collapse, Prieto et al. 2025).  With
 *                     f32 the exps, their sum and the log are float, as
 *                     PyTorch's float32 cross_entropy, and so is the gradient
 *                     softmax - onehot.
 *   LOSS_STABLEMAX_CE -log(s(x_y) / sum_j s(x_j)) in float64 with
 *                     s(x) = x + 1 for x >= 0, 1 / (1 - x + 1e-30) for x < 0
 *                     (Prieto et al. 2025; docs/training.md).  s is
 *                     exp(sign(x) log1p|x|), so StableMax is the softmax of
 *                     sign(x) log1p|x|.
 *   LOSS_MSE          mean over the k classes of (x_j - onehot_j)^2, in
 *                     float64; the batch mean is PyTorch's
 *                     mse_loss(x, one_hot, reduction='mean').
 * The accuracy counts rows whose first largest logit is the label, whatever
 * the kind.  Rows are independent and spread over OpenMP threads; the mean
 * adds the row losses in row order, so the bits do not depend on the thread
 * count. */
#ifndef GROK_LOSS_H
#define GROK_LOSS_H

#include <stdint.h>

#include "grok.h"

typedef enum { LOSS_SOFTMAX_CE, LOSS_STABLEMAX_CE, LOSS_MSE, LOSS_KIND_COUNT } loss_kind;

typedef struct {
    loss_kind kind;
    int f32; /* 1: softmax cross-entropy in float32; the other kinds ignore it */
} loss_config;

/* "softmax_ce", "stablemax_ce", "mse"; loss_kind_parse gives -1 when unknown. */
const char *loss_kind_name(loss_kind k);
int loss_kind_parse(const char *name);

/* Checks the kind and f32 (the message names train.loss or train.loss_dtype).
 * f32 with another kind than softmax cross-entropy is allowed and ignored:
 * StableMax and squared error are computed in float64, so a sweep may vary
 * train.loss with train.loss_dtype = float32 for its softmax points. */
int loss_config_check(const loss_config *c, grok_err *e);

/* Mean loss over n >= 1 rows of logits [n, k] (float) against labels [n]
 * (each in [0, k)).  scratch: [n*k] doubles.  per_example (NULL or [n])
 * receives each row's loss; dlogits (NULL or [n, k]) receives d(mean
 * loss)/d logits; *n_correct (NULL ok) counts rows whose argmax is the label.
 * Softmax cross-entropy in float64 here is the training loss of the default
 * run: its arithmetic does not change. */
double loss_rows(const loss_config *c, const float *logits, const int32_t *labels, int n, int k,
                 double *scratch, double *per_example, float *dlogits, int *n_correct);

/* The same for logits in double, rows rows[0..n) of logits [*, k] (rows NULL:
 * 0..n-1), against labels indexed by row; per_example[i] (NULL ok) is the loss
 * of rows[i].  No gradient, no scratch.  Returns NAN for n = 0. */
double loss_rows_f64(const loss_config *c, const double *logits, const int32_t *labels,
                     const int32_t *rows, int n, int k, double *per_example, int *n_correct);

#endif
