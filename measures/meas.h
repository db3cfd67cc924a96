/* meas.h: the progress measures of Nanda et al. (2023) computed from a model.
 *
 * Owns the measures of docs/measures.md on one set of parameters:
 * train/test loss and accuracy over all inputs; the key frequencies by the
 * neuron rule R1 with the neurons' fraction of variance explained and the
 * clusters of neurons with frac > 0.85; the restricted loss (with the
 * mean-logit correction; CE on all inputs and on the training
 * rows; restricted accuracy on all inputs); the excluded loss (all key
 * frequencies at once, no correction, training rows); the Gini coefficients
 * of the Fourier norms of W_E and of W_L = W_U^T W_out, each over all p
 * components, the p-1 non-constant ones and the K per-frequency norms; the
 * W_E norm per frequency; the sum of squared weights, total and per
 * parameter tensor; and, for the final checkpoint, the per-neuron table, the
 * attention from the '=' position and the 2-D Fourier spectrum of the logits.
 *
 * Conventions adopted where the sources leave a choice (to be stated in the
 * README):
 *  - R1 candidates are k = 1..K, K = (p-1)/2 (the notebook's range).  A neuron
 *    whose activation is constant over all inputs has no Fourier variance:
 *    its frequency is 0 and its fraction 0, and it adds nothing to the key
 *    frequencies (np.unique over NaN would add k = 1).
 *  - For several layers, the neurons are those of the last layer's MLP at the
 *    last position and W_out is the last layer's.
 *  - The Fourier measures apply to the tasks with TASK_CAP_ZP_GRID (task.h):
 *    the modular arithmetic ops with a full grid of inputs and odd p, in any
 *    token layout.  They are skipped for `rand` (not modular arithmetic),
 *    for `div` and `mix1` (pairs with b = 0 are missing, so the 2-D grid is
 *    incomplete), for even p and for the group and parity kinds; only the
 *    general measures (losses, accuracies, weight norms) come then, and the
 *    task's no_grid text says why.  The restricted and excluded losses use the sum
 *    directions cos/sin(w(a+b)) for every op, as defined; they describe the
 *    addition circuit.
 *  - "trig loss" of the paper's code is the restricted loss; it is not a
 *    separate measure.
 *
 * The work is matrix products in double (GSL's BLAS on BLIS): the forward over
 * all inputs in float32 (tfm_forward), then the 2-D transforms and the
 * projections, each two GEMMs.  A workspace holds every
 * buffer, allocated once per (model config, task); the passes allocate
 * nothing.  Results are the same bits for any thread count.
 *
 * Legend: p modulus, K = (p-1)/2, P2 = p*p inputs (n_all for a full grid),
 * N rows (inputs), D d_model, M d_mlp, Vo classes (p for the Fourier tasks),
 * H heads, T positions (n_ctx). */
#ifndef GROK_MEAS_H
#define GROK_MEAS_H

#include <stdint.h>

#include "fileio.h"
#include "fourier.h"
#include "grok.h"
#include "task.h"
#include "tfm.h"

#define MEAS_MAX_K ((FOURIER_P_MAX - 1) / 2)
#define MEAS_MAX_TENSORS (4 + 20 * TFM_MAX_LAYERS)
/* A neuron belongs to its frequency's cluster when frac > this (docs/measures.md). */
#define MEAS_CLUSTER_FRAC 0.85

/* Key frequencies.  As an input to meas_compute only n and k are read. */
typedef struct {
    int n;              /* number of key frequencies */
    int k[MEAS_MAX_K];  /* ascending, distinct, each in 1..K */
    /* filled by meas_key_freqs: */
    int n_neurons;      /* M */
    int n_dead;         /* neurons constant over all inputs (frequency 0) */
    int n_clusters;     /* frequencies with at least one neuron of frac > 0.85 */
    int cluster_k[MEAS_MAX_K], cluster_size[MEAS_MAX_K]; /* ascending k; neurons in each */
} meas_freqs;

/* One row of measures.tsv (and of fourier_embed.tsv). */
typedef struct {
    long epoch; /* not touched by meas_compute: the caller sets it */
    double loss_train, loss_test, acc_train, acc_test;
    int fourier; /* 1: the Fourier fields below are set; 0: they are absent */
    double loss_restricted, loss_restricted_train, acc_restricted;
    double loss_excluded, acc_excluded;
    double gini_WE, gini_WL, gini_WE_nonconst, gini_WL_nonconst, gini_WE_freq, gini_WL_freq;
    int n_key_freqs;
    int key_freqs[MEAS_MAX_K];   /* the key frequencies used for this row */
    double embed[MEAS_MAX_K + 1]; /* [K+1] W_E norm: constant, then frequency 1..K */
    double sum_sq_weights;
    int n_tensors;
    double sq[MEAS_MAX_TENSORS]; /* [n_tensors] sum of squares, parameter-table order */
} meas_row;

typedef struct meas_workspace meas_workspace;

/* Allocates into *out everything a measure pass needs for models of config
 * mc on task t: the token rows of all n_all inputs in canonical order, the
 * Fourier basis and sum directions, and the double buffers.  acts: an
 * activation workspace for at least t->n_all examples of this config to
 * borrow (not freed here), or NULL to allocate one.  GROK_EINVAL when mc does
 * not fit t (d_vocab, d_vocab_out, n_ctx must be the task's d_vocab,
 * n_classes, n_ctx); GROK_ENOMEM with
 * the size when memory runs out; *out is NULL then.  The task must outlive
 * the workspace. */
int meas_workspace_alloc(meas_workspace **out, const tfm_config *mc, const task_data *t,
                         tfm_acts *acts, grok_err *e);
void meas_workspace_free(meas_workspace *ws);

/* 1 when the Fourier measures apply to the workspace's task; when they do
 * not, meas_fourier_reason says why (e.g. "task 'rand' is not modular
 * arithmetic"), else it returns "". */
int meas_fourier_applies(const meas_workspace *ws);
const char *meas_fourier_reason(const meas_workspace *ws);

/* Rule R1 on model m: forward over all inputs, the 2-D transform of each
 * centred neuron, best frequency and fraction explained per neuron, key
 * frequencies = the distinct best frequencies of the non-constant neurons,
 * and the clusters.  Leaves the neuron table and the forward in ws (for
 * meas_format_neurons, _attention, _logit_spectrum).  GROK_EINVAL when the
 * Fourier measures do not apply. */
int meas_key_freqs(meas_workspace *ws, const tfm_model *m, meas_freqs *out, grok_err *e);

/* All measures of model m into out (epoch untouched).  key: the key
 * frequencies to restrict to (docs/measures.md: those of the final model),
 * or NULL for this model's own (R1, as meas_key_freqs).  Ignored when the Fourier
 * measures do not apply.  Leaves the forward (and the neuron table when R1
 * ran) in ws.  GROK_EINVAL for a bad key list or a task that does not match
 * the workspace. */
int meas_compute(meas_workspace *ws, const tfm_model *m, const task_data *t, const meas_freqs *key,
                 meas_row *out, grok_err *e);

/* Text of the run-directory files (all numbers %.9g, tab-separated, '\n').
 * measures.tsv: header and one row.  Columns: epoch loss_train loss_test
 * acc_train acc_test [loss_restricted loss_restricted_train acc_restricted
 * loss_excluded acc_excluded gini_WE gini_WL gini_WE_nonconst gini_WL_nonconst
 * gini_WE_freq gini_WL_freq] sum_sq_weights sq_<tensor>... [n_key_freqs
 * key_freqs]; bracketed columns only when fourier.  key_freqs is a comma list
 * without spaces ("14,35,41"), empty when there are none. */
void meas_format_header(const tfm_model *m, int fourier, sbuf *out);
void meas_format_row(const meas_row *r, sbuf *out);
/* fourier_embed.tsv: "epoch const freq_1 ... freq_K" and one row. */
void meas_format_embed_header(int p, sbuf *out);
void meas_format_embed_row(int p, const meas_row *r, sbuf *out);
/* neurons.tsv: "neuron freq frac_explained", one line per neuron, from the
 * last R1 pass in ws.  GROK_EINVAL when none ran. */
int meas_format_neurons(const meas_workspace *ws, sbuf *out, grok_err *e);
/* attention.tsv from the last forward in ws: the task's operand columns
 * (task_operand_header), "head", then att_<position> for each token position
 * (task_position_name): "a b head att_a att_b att_eq" for the default task;
 * a leading "layer" column when the model has several layers.  One line per
 * (layer, input, head); the attention probabilities of the last position. */
int meas_format_attention(meas_workspace *ws, const task_data *t, sbuf *out, grok_err *e);
/* logit_spectrum.tsv from the last forward in ws: a comment line naming the
 * epoch and the basis order, then the p x p matrix S[f][g] = norm over
 * classes of the 2-D Fourier coefficient (f, g) of the logits centred over
 * inputs.  GROK_EINVAL when the Fourier measures do not apply. */
int meas_format_logit_spectrum(meas_workspace *ws, long epoch, sbuf *out, grok_err *e);

/* ---- the building blocks, exposed for tests ---- */

/* Mean cross-entropy (float64 log-softmax, loss_rows_f64) of logits L [*, m]
 * over rows rows[0..n) (rows NULL: 0..n-1) against labels (indexed by row);
 * n_correct (may be NULL) counts rows whose first maximal logit is the label. */
double meas_ce(const double *L, int m, const int32_t *labels, const int32_t *rows, int n,
               int *n_correct);

/* PL [P2, m] = sum over k in keys[0..n_keys) of (u_k u_k^T + v_k v_k^T) L,
 * with D [2K, P2] the sum directions of fourier_sum_dirs and keys ascending.
 * coef: [2K*m] scratch. */
void meas_project_sum(double *PL, const double *L, const double *D, const int *keys, int n_keys,
                      int p, int m, double *coef);
/* Lres = PL + 1 (mean_r L - mean_r PL)   (docs/measures.md, restricted loss); rows N; mu: [2m]
 * scratch.  Lres may be L or PL. */
void meas_restricted_logits(double *Lres, const double *L, const double *PL, int N, int m,
                            double *mu);
/* Lexc = L - PL   (docs/measures.md, excluded loss). */
void meas_excluded_logits(double *Lexc, const double *L, const double *PL, int N, int m);

/* Gini coefficient (Hurley & Rickard 2009; docs/measures.md, Gini) of c [n] >= 0:
 * 1 - 2 sum_k (c_(k) / |c|_1) (n - k + 1/2) / n over c sorted ascending.
 * 0 for a flat vector, 1 - 1/n for a one-hot one; 0 when c is all zero.
 * scratch: [n]. */
double meas_gini(const double *c, int n, double *scratch);

/* Rule R1 on a transformed block: Nh [P2, c] holds the 2-D transforms of c
 * centred neurons (column j a neuron); writes each neuron's best frequency
 * (argmax over k = 1..K of FVE_k, the first on ties; 0 when its total is 0)
 * and fraction explained.  FVE_k = sum over i, j in {0, 2k-1, 2k} of
 * Nh[i*p+j]^2 / sum over all (i, j). */
void meas_neuron_fve(int *best, double *frac, const double *Nh, int p, int c);

#endif
