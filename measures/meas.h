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
 *    last position and W_out is the last layer's.  For the MLP family the
 *    neurons are its last hidden layer (model_hidden_last).
 *  - Which measures a model and task get is the measure table's business
 *    (meas_table below): each row needs any model, the Z_p grid, the
 *    transformer (W_L) or the embedding (W_E).
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
 *  - The key frequencies follow one of two rules (meas_key_rule, config key
 *    measures.key_freq_rule): "neuron" (R1, the code's np.unique over every
 *    live neuron's best frequency; the default) or "cluster" (the frequencies
 *    whose cluster of neurons with frac > 0.85 holds at least `share` of the
 *    live neurons).  Both lists are always computed (meas_freqs).
 *  - Per-frequency excluded loss, 3-D excluded loss and the coefficients
 *    alpha_k of cos(w_k(a+b-c)) use k = 1..K; the sum directions and C_k
 *    depend on (a, b) only through s = (a+b) mod p, so every one of them is
 *    computed from the logits summed over the rows of each s (docs/measures.md).
 *  - Attention heads (transformer, last layer): the probability from the
 *    last position to position 0 over the (a, b) grid, centred, 2-D
 *    transformed and scored as a neuron by R1 (meas_neuron_fve).
 *
 * The work is matrix products in double (GSL's BLAS on BLIS): the forward over
 * all inputs in float32 (model_forward), then the 2-D transforms and the
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
#include "irrep.h"
#include "model.h"
#include "task.h"

#define MEAS_MAX_K ((FOURIER_P_MAX - 1) / 2)
/* The largest parameter table of any family (transformer: 4 + 20 per layer;
 * MLP: 3 + 2 per layer). */
#define MEAS_MAX_TENSORS (4 + 20 * TFM_MAX_LAYERS > 3 + 2 * MLP_MAX_LAYERS ? 4 + 20 * TFM_MAX_LAYERS : 3 + 2 * MLP_MAX_LAYERS)
/* A neuron belongs to its frequency's cluster when frac > this (docs/measures.md). */
#define MEAS_CLUSTER_FRAC 0.85
/* The most attention heads a row reports (model.n_heads' range). */
#define MEAS_MAX_HEADS 256

/* The rules that pick the key frequencies from the neuron table
 * (docs/measures.md, key frequencies):
 *  - MEAS_KEY_NEURON "neuron": every live neuron's best frequency (R1,
 *    np.unique); the default;
 *  - MEAS_KEY_CLUSTER "cluster": the frequencies k whose cluster (live
 *    neurons with best frequency k and frac > MEAS_CLUSTER_FRAC) has at least
 *    one neuron and at least share * (live neurons) of them. */
typedef enum { MEAS_KEY_NEURON, MEAS_KEY_CLUSTER, MEAS_KEY_RULE_COUNT } meas_key_rule;
#define MEAS_KEY_SHARE_DEFAULT 0.05
/* "neuron", "cluster"; "?" out of range. */
const char *meas_key_rule_name(int rule);
/* The rule named s, or -1. */
int meas_key_rule_parse(const char *s);

/* Key frequencies (and, for group tasks, key irreps).  As an input to
 * meas_compute only n and k are read, and for a group task n_irreps and
 * irreps. */
typedef struct {
    int n;              /* number of key frequencies */
    int k[MEAS_MAX_K];  /* ascending, distinct, each in 1..K */
    int n_irreps;       /* group tasks: number of key irreps */
    int irreps[IRREP_MAX]; /* ascending irrep numbers (irrep.h), each >= 1 */
    /* filled by meas_key_freqs: */
    /* filled by meas_key_freqs (meas_freqs_from_neurons): */
    meas_key_rule rule; /* the rule k[] follows */
    double share;       /* the cluster rule's share */
    int n_neurons;      /* M */
    int n_dead;         /* neurons constant over all inputs (frequency 0) */
    int n_clusters;     /* frequencies with at least one neuron of frac > 0.85 */
    int cluster_k[MEAS_MAX_K], cluster_size[MEAS_MAX_K]; /* ascending k; neurons in each */
    /* filled by meas_key_irreps: the logit fraction of every irrep */
    int n_irrep_all;
    double irrep_logit[IRREP_MAX];
    int n_by_neuron, k_by_neuron[MEAS_MAX_K];   /* the "neuron" rule's list */
    int n_by_cluster, k_by_cluster[MEAS_MAX_K]; /* the "cluster" rule's list */
} meas_freqs;

/* Key irreps (docs/measures.md, group representations): the non-trivial
 * irreps that hold at least this share of the model's logit variance. */
#define MEAS_KEY_IRREP_SHARE 0.05

/* One row of measures.tsv (and of fourier_embed.tsv): a field per column of
 * the measure table below; only the fields of the measures that apply
 * (have) are set. */
typedef struct {
    long epoch; /* not touched by meas_compute: the caller sets it */
    unsigned have; /* the needs (MEAS_NEED_*) the model and task met: which rows apply */
    double loss_train, loss_test, acc_train, acc_test;
    int fourier; /* 1: the Fourier fields below are set (have & MEAS_NEED_ZP_GRID) */
    double loss_restricted, loss_restricted_train, acc_restricted;
    double loss_excluded, acc_excluded;
    double gini_WE, gini_WL, gini_WE_nonconst, gini_WL_nonconst, gini_WE_freq, gini_WL_freq;
    int n_key_freqs;
    int key_freqs[MEAS_MAX_K];   /* the key frequencies used for this row */
    int n_embed;                  /* K + 1 when the W_E spectrum was measured */
    double embed[MEAS_MAX_K + 1]; /* [K+1] W_E norm: constant, then frequency 1..K */
    double sum_sq_weights;
    /* clock or pizza (algo.h) */
    double dist_irrel, grad_sym, circularity, fve_clock, fve_pizza;
    int n_tensors;
    double sq[MEAS_MAX_TENSORS]; /* [n_tensors] sum of squares, parameter-table order */
    /* group tasks (have & MEAS_NEED_GROUP) */
    int group_id;       /* the task's group (names the irreps) */
    int n_irreps;       /* irreps of the group */
    double irrep_embed[IRREP_MAX], irrep_unembed[IRREP_MAX], irrep_logit[IRREP_MAX];
    double loss_restricted_irrep, loss_excluded_irrep;
    int n_key_irreps;
    int key_irreps[IRREP_MAX]; /* the key irreps used for this row */
    /* Nanda et al.'s remaining measures (docs/measures.md, excluded loss and
     * coefficients); n_freq = K when they were computed */
    int n_freq;
    double excluded_freq[MEAS_MAX_K]; /* [K] train CE without frequency k's sum directions */
    double loss_excluded_max;         /* max over k of excluded_freq */
    double loss_excluded_3d;          /* train CE of L - sum over keys of alpha_k C_k */
    double logit_norm;                /* |L|_F over all inputs and classes */
    double alpha[MEAS_MAX_K];         /* [K] alpha_k = <C_k, L>_F */
    double cos_sim[MEAS_MAX_K];       /* [K] alpha_k / |L|_F */
    double coef_residual;             /* |L - sum_k alpha_k C_k|_F / |L|_F */
    int n_heads;                      /* H when the head rows were computed */
    int head_freq[MEAS_MAX_HEADS];    /* [H] best frequency of head h's pattern (0: constant) */
    double head_frac[MEAS_MAX_HEADS]; /* [H] its fraction of variance explained */
    /* Softmax Collapse (Prieto et al. 2025), shares of the training rows */
    double softmax_collapse_f32, zero_loss_f32, softmax_collapse_f64, zero_loss_f64;
} meas_row;

/* ---- the measure table ----
 *
 * Every measure (or group of columns computed together) is one row of
 * meas_table: its name, the file and columns it writes, what it needs, and
 * the function that computes it.  The headers, the rows, `grok measure`, the
 * live pass and the reasons for skipped measures all walk the table, in
 * order; the columns of a file are "epoch" then each applicable row's
 * columns in table order.  A new measure is a field of meas_row, one compute
 * function and one row. */

/* What a measure needs of the model and task (meas_have). */
#define MEAS_NEED_ZP_GRID 1u     /* the task has TASK_CAP_ZP_GRID (odd p, full grid) */
#define MEAS_NEED_TRANSFORMER 2u /* the transformer's weights (W_U, W_out) */
#define MEAS_NEED_EMBED 4u       /* embed.W_E with a row per residue 0..p-1 */
#define MEAS_NEED_GROUP 8u       /* a group task, op xy, whose irreps irrep.h builds */
#define MEAS_N_NEEDS 4

/* The files a row writes to. */
typedef enum {
    MEAS_FILE_MEASURES,      /* measures.tsv */
    MEAS_FILE_EMBED,         /* fourier_embed.tsv */
    MEAS_FILE_EXCLUDED_FREQ, /* excluded_freq.tsv */
    MEAS_FILE_COEFS,         /* coefs.tsv */
    MEAS_FILE_IRREPS,        /* irreps.tsv */
    MEAS_FILE_COUNT
} meas_file;

typedef enum {
    MEAS_COL_F64,        /* one double at offset, %.9g */
    MEAS_COL_INT,        /* one int at offset, %d */
    MEAS_COL_PER_TENSOR, /* double [n_tensors] at offset; columns <name><tensor> */
    MEAS_COL_PER_FREQ,   /* double [n_embed] at offset; columns const, <name>1..K */
    MEAS_COL_FREQ_LIST,  /* int [n_key_freqs] at offset, one column "14,35,41" */
    MEAS_COL_PER_IRREP,  /* double [n_irreps] at offset; columns <name><irrep> */
    MEAS_COL_IRREP_LIST, /* int [n_key_irreps] at offset, one column "41,32" */
    MEAS_COL_PER_K,      /* double [n_freq] at offset; columns <name>1..K */
    MEAS_COL_HEAD_INT,   /* int [n_heads] at offset; columns <name>0..H-1 */
    MEAS_COL_HEAD_F64,   /* double [n_heads] at offset; columns <name>0..H-1 */
} meas_col_kind;

typedef struct {
    const char *name; /* the column, or the prefix of a per-tensor/per-frequency group */
    meas_col_kind kind;
    size_t offset; /* of the field in meas_row */
} meas_col;

typedef struct meas_pass meas_pass; /* one model's pass: what the rows share */
typedef struct meas_desc meas_desc;
struct meas_desc {
    const char *name;
    meas_file file;
    unsigned needs; /* MEAS_NEED_*; 0: any model, any task */
    const meas_col *cols;
    int n_cols;
    /* Fills the row's fields of out from the pass (the forward over all
     * inputs has run). */
    void (*compute)(meas_pass *ps, const meas_desc *d, meas_row *out);
    int arg;           /* for a compute function shared by several rows */
    const char *about; /* one line */
};

extern const meas_desc meas_table[];
extern const int meas_table_len;

/* The needs (MEAS_NEED_*) that model m and task t meet. */
unsigned meas_have(const model *m, const task_data *t);
/* 1 when every need of d is in have. */
int meas_applies(const meas_desc *d, unsigned have);
/* Why the first need in `needs` that (m, t) does not meet fails, into buf;
 * "" when all are met. */
void meas_need_reason(const model *m, const task_data *t, unsigned needs, char *buf, size_t n);
/* The index 0..MEAS_N_NEEDS-1 of the first need in needs that have lacks,
 * or -1. */
int meas_first_unmet(unsigned needs, unsigned have);
/* The column names of d for model m and task t, each preceded by a tab. */
void meas_desc_columns(const meas_desc *d, const model *m, const task_data *t, sbuf *out);
/* The column names of d with their groups unexpanded ("sq_<tensor>",
 * "const", "freq_<k>"), each preceded by a tab: for messages about skipped
 * measures, where no model need be at hand. */
void meas_desc_column_names(const meas_desc *d, sbuf *out);
/* 1 when some applicable row writes to file. */
int meas_file_applies(unsigned have, meas_file file);

typedef struct meas_workspace meas_workspace;

/* Allocates into *out everything a measure pass needs for models shaped as
 * m (any family) on task t: the token rows of all n_all inputs in canonical
 * order, the Fourier basis and sum directions, and the double buffers.
 * acts: an activation workspace of m's family to borrow (not freed here;
 * the pass streams the inputs through it in blocks of its rows), or NULL to
 * allocate a small one.
 * GROK_EINVAL when m does not fit t (input vocabulary, classes and
 * positions must be the task's d_vocab, n_classes, n_ctx); GROK_ENOMEM with
 * the size when memory runs out; *out is NULL then.  The task must outlive
 * the workspace. */
int meas_workspace_alloc(meas_workspace **out, const model *m, const task_data *t,
                         model_acts *acts, grok_err *e);
/* meas_workspace_alloc with its own activations, borrowing the constant
 * tables (the Fourier basis and the sum directions) from share, which must
 * outlive it: the workspaces of parallel passes hold them once.  Such a
 * workspace serves passes given their key frequencies (meas_compute with
 * key) and the formatters: it has no room for rule R1, so meas_key_freqs,
 * and meas_compute without key on a Fourier task, fail with GROK_EINVAL. */
int meas_workspace_alloc_sharing(meas_workspace **out, const model *m, const task_data *t,
                                 const meas_workspace *share, grok_err *e);
void meas_workspace_free(meas_workspace *ws);
/* Gives back the buffers of rule R1 (a block of neurons over all inputs)
 * once the key frequencies are known: the workspace then serves as one
 * built by meas_workspace_alloc_sharing (the neuron table of the last R1
 * stays readable).  GROK_ENOMEM when the small buffers cannot be had; the
 * workspace is unchanged then. */
int meas_workspace_drop_r1(meas_workspace *ws, grok_err *e);

/* The rule meas_key_freqs and meas_compute (key NULL) pick the key
 * frequencies by, and the cluster rule's share in (0, 1]; a new workspace
 * has MEAS_KEY_NEURON and MEAS_KEY_SHARE_DEFAULT. */
void meas_workspace_set_key_rule(meas_workspace *ws, meas_key_rule rule, double share);

/* The needs the workspace's model and task meet (meas_have). */
unsigned meas_workspace_have(const meas_workspace *ws);

/* 1 when the Fourier measures apply to the workspace's task; when they do
 * not, meas_fourier_reason says why (e.g. "task 'rand' is not modular
 * arithmetic"), else it returns "". */
int meas_fourier_applies(const meas_workspace *ws);
const char *meas_fourier_reason(const meas_workspace *ws);

/* Rule R1 on model m: forward over all inputs, the 2-D transform of each
 * centred neuron of the last hidden layer (model_hidden_last: the
 * transformer's last MLP, the MLP's last hidden layer), best frequency and
 * fraction explained per neuron, then meas_freqs_from_neurons with the
 * workspace's rule: the key frequencies by both rules, the clusters, and
 * out->k by the rule chosen.  Leaves the
 * neuron table and the forward in ws (for meas_format_neurons, _attention,
 * _logit_spectrum).  GROK_EINVAL when the Fourier measures do not apply. */
int meas_key_freqs(meas_workspace *ws, const model *m, meas_freqs *out, grok_err *e);

/* The key irreps of model m on a group task (MEAS_NEED_GROUP): forward over
 * all inputs, the logit fraction of every irrep into out->irrep_logit and the
 * non-trivial irreps holding >= MEAS_KEY_IRREP_SHARE of it into
 * out->irreps (ascending).  Leaves the forward in ws.  GROK_EINVAL when the
 * group measures do not apply.  Only the irrep fields of out are set. */
int meas_key_irreps(meas_workspace *ws, const model *m, meas_freqs *out, grok_err *e);

/* Every measure of the table that applies to model m, into out (epoch
 * untouched).  key: the key frequencies to restrict to (docs/measures.md:
 * those of the final model), or NULL for this model's own (R1, as
 * meas_key_freqs).  Ignored when the Fourier measures do not apply.  Leaves
 * the forward (and the neuron table when R1 ran) in ws.  GROK_EINVAL for a
 * bad key list or a model or task that does not match the workspace. */
int meas_compute(meas_workspace *ws, const model *m, const task_data *t, const meas_freqs *key,
                 meas_row *out, grok_err *e);

/* The key frequencies from a neuron table: best [M] (0 for a dead neuron)
 * and frac [M], K frequencies: k_by_neuron = the distinct best frequencies
 * of the live neurons, the clusters (frac > MEAS_CLUSTER_FRAC), k_by_cluster
 * = the clusters of size >= share * (M - dead) (and >= 1), n/k = the list of
 * `rule`; out is overwritten. */
void meas_freqs_from_neurons(meas_freqs *out, const int *best, const double *frac, int M, int K,
                             meas_key_rule rule, double share);

/* Text of the run-directory files (all numbers %.9g, tab-separated, '\n').
 * The header of file: "epoch", then the columns of every row of the table
 * that writes to file and applies to (m, t), in table order.  For the
 * default run measures.tsv has: epoch loss_train loss_test acc_train
 * acc_test loss_restricted loss_restricted_train acc_restricted
 * loss_excluded acc_excluded gini_WE gini_WL gini_WE_nonconst
 * gini_WL_nonconst gini_WE_freq gini_WL_freq sum_sq_weights sq_<tensor>...
 * n_key_freqs key_freqs; key_freqs is a comma list without spaces
 * ("14,35,41"), empty when there are none; then loss_excluded_max
 * loss_excluded_3d coef_residual head_freq_0..H-1 head_frac_0..H-1
 * dist_irrel grad_sym circularity fve_clock fve_pizza.
 * fourier_embed.tsv: epoch const freq_1 ... freq_K.  excluded_freq.tsv:
 * epoch freq_1 ... freq_K.  coefs.tsv: epoch logit_norm alpha_1 ... alpha_K
 * cos_1 ... cos_K. */
void meas_format_header(const model *m, const task_data *t, meas_file file, sbuf *out);
/* One line of file from r (the rows in r->have). */
void meas_format_row(const meas_row *r, meas_file file, sbuf *out);
/* neurons.tsv: "neuron freq frac_explained", one line per neuron, from the
 * last R1 pass in ws.  GROK_EINVAL when none ran. */
int meas_format_neurons(const meas_workspace *ws, sbuf *out, grok_err *e);
/* attention.tsv from the last forward in ws (a transformer): the task's
 * operand columns (task_operand_header), "head", then att_<position> for
 * each token position (task_position_name): "a b head att_a att_b att_eq"
 * for the default task; a leading "layer" column when the model has several
 * layers.  One line per (layer, input, head); the attention probabilities of
 * the last position.  GROK_EINVAL for a model without attention. */
int meas_format_attention(meas_workspace *ws, const task_data *t, sbuf *out, grok_err *e);
/* logit_spectrum.tsv from the last forward in ws: a comment line naming the
 * epoch and the basis order, then the p x p matrix S[f][g] = norm over
 * classes of the 2-D Fourier coefficient (f, g) of the logits centred over
 * inputs.  GROK_EINVAL when the Fourier measures do not apply. */
int meas_format_logit_spectrum(meas_workspace *ws, long epoch, sbuf *out, grok_err *e);

/* logit_sd.tsv (algo_format_logit_sd) from the last forward in ws.
 * GROK_EINVAL when the Fourier measures do not apply. */
int meas_format_logit_sd(meas_workspace *ws, const task_data *t, sbuf *out, grok_err *e);
/* embed_circles.tsv (algo_format_embed_circles) of model m for the key
 * frequencies key.  GROK_EINVAL when the clock/pizza measures of W_E do not
 * apply (MEAS_NEED_ZP_GRID and MEAS_NEED_EMBED). */
int meas_format_embed_circles(meas_workspace *ws, const model *m, const meas_freqs *key,
                              sbuf *out, grok_err *e);

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

/* Group measures (docs/measures.md, group representations); B [G, G] is
 * irrep_basis of s.
 * energy[i] = the squared norm of irrep i's rows of C = B X, X [G, m] a
 * function on G with values in R^m; C [G, m] scratch. */
void meas_irrep_energy(double *energy, const double *X, int m, const double *B,
                       const irrep_set *s, double *C);
/* frac[i] = energy[i] / |X - mean_x X|^2 for i >= 1, frac[0] = 0 (the trivial
 * irrep holds the mean, which centring removes); all 0 when X is constant.
 * Returns the centred total. */
double meas_irrep_fractions(double *frac, const double *X, int G, int m, const double *B,
                            const irrep_set *s, double *C);
/* The logits L [G*G, m] (row x*G + y) as functions of (x, y), one per class:
 * A [G, m] = the mean of L over the pairs with x*y = g (mul, inv: the group's
 * tables); frac[i] = G energy_i(A) / sum over rows and classes of (L - its
 * class mean)^2, frac[0] = 0.  C [G, m] scratch. */
void meas_irrep_logit_fractions(double *frac, const double *L, int m, const int32_t *mul,
                                const int32_t *inv, const double *B, const irrep_set *s,
                                double *A, double *C);
/* PL [G*G, m]: the logits projected on the functions of x*y in the span of
 * the matrix elements of the irreps keys[0..n_keys): PL[x*G+y] =
 * (B_keys^T B_keys A)[x*y], A as above.  A, C [G, m] scratch. */
void meas_irrep_project(double *PL, const double *L, int m, const int32_t *mul,
                        const int32_t *inv, const double *B, const irrep_set *s, const int *keys,
                        int n_keys, double *A, double *C);
/* The per-frequency excluded loss: out[k-1] = mean over the rows
 * rows[0..n) of the CE of L - (u_k u_k^T + v_k v_k^T) L, k = 1..K, for
 * logits L [p*p, p] over the full grid (r = a*p + b, labels by row).  Uses
 * that u_k, v_k depend on r only through s = (a+b) mod p: the logits summed
 * per s give the coefficients, and one table of exponentials per s turns
 * the K log-sum-exps of the group's rows into one matrix product
 * [rows, p] x [p, K] (docs/measures.md); a row whose product under- or
 * overflows is summed directly.
 * The rows are summed grouped by s (ascending), in their given order inside
 * a group.  scratch: meas_excluded_per_freq_scratch(p) doubles; iscratch:
 * n + p + 1 ints. */
void meas_excluded_per_freq(double *out, const double *L, int p, const int32_t *labels,
                            const int32_t *rows, int n, double *scratch, int *iscratch);
size_t meas_excluded_per_freq_scratch(int p);

/* The coefficients on C_k[r, c] = cos(w_k(s - c)) / |.|_F (s = (a+b) mod p,
 * w_k = 2 pi k / p; |cos(w_k(s - c))|_F = sqrt(p^3 / 2)) of logits
 * L [p*p, p]: alpha [K] = <C_k, L>_F for k = 1..K, *norm = |L|_F,
 * *residual = |L - sum_k alpha_k C_k|_F (absolute).  C_k depends on (r, c)
 * only through j = (s - c) mod p, so the logits are first summed per j.
 * scratch: 3 p doubles. */
void meas_coefs(double *alpha, double *norm, double *residual, const double *L, int p,
                double *scratch);

/* Lx [p*p, p] = L - sum over keys[0..n_keys) of alpha[k-1] C_k (the 3-D
 * excluded logits; Lx may be L).  scratch: 2 p doubles. */
void meas_excluded_3d_logits(double *Lx, const double *L, const double *alpha, const int *keys,
                             int n_keys, int p, double *scratch);

/* Rule R1 on a transformed block: Nh [P2, c] holds the 2-D transforms of c
 * centred neurons (column j a neuron); writes each neuron's best frequency
 * (argmax over k = 1..K of FVE_k, the first on ties; 0 when its total is 0)
 * and fraction explained.  FVE_k = sum over i, j in {0, 2k-1, 2k} of
 * Nh[i*p+j]^2 / sum over all (i, j). */
void meas_neuron_fve(int *best, double *frac, const double *Nh, int p, int c);

#endif
