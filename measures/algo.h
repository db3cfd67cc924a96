/* algo.h: which algorithm a model learned on a Z_p task: the clock and pizza
 * measures of Zhong et al. (2023) and the verdict drawn from them.
 *
 * Owns, for a model on a task with the full Z_p grid (docs/measures.md,
 * "Clock or pizza"): distance irrelevance (from the correct-class logits
 * over (s, d) = (a+b, a-b)), gradient symmetricity (the cosine between the
 * gradients of a logit with respect to the input embeddings of a and of b,
 * over a fixed set of triples), circularity (of the leading principal
 * components of the token embeddings), the fraction of logit variance the
 * clock and the pizza templates explain (the model's embedding restricted to
 * its leading PCA circle), the verdict clock / pizza / neither, and the
 * final-checkpoint tables embed_circles.tsv and logit_sd.tsv.
 *
 * Conventions where the sources leave a choice (docs/measures.md states
 * them):
 *  - the triples: the first min(100, p^3) entries of a Fisher-Yates shuffle
 *    run front to back (entry i swapped with a uniform entry of i..p^3-1) of
 *    the p^3 triples in the order index = a p^2 + b p + c, drawn from the
 *    project's rng with seed ALGO_TRIPLE_SEED and stream RNG_STREAM_ALGO
 *    (the same triples for every run); a gradient pair with a zero vector
 *    counts as cosine 0.
 *  - PCA: of the p token rows of embed.W_E, centred over tokens; the
 *    principal components are the unit eigenvectors u_j (over tokens) of
 *    the p x p Gram matrix of the centred rows, by descending eigenvalue.
 *    Circularity averages the first min(4, D, p - 1) components.
 *  - the circle of the logit templates is the span of u_1, u_2; its
 *    frequency k is the one (1..K, the first on ties) where u_1 has the most
 *    Fourier power (for prime p this is delta^-1 of the circularity score,
 *    up to sign, which the templates do not see); w = 2 pi k / p.  The
 *    restricted embedding is W_E[:p] -> mean + (u_1 u_1^T + u_2 u_2^T)
 *    (W_E[:p] - mean); the other token rows are kept.
 *  - the logit FVE is sklearn's explained_variance_score on the flattened
 *    cube [p^2 inputs x p classes], both sides standardised (population
 *    std); a constant side gives 0.  The templates describe addition; for
 *    other ops they are still the addition templates.
 *  - distance irrelevance of a constant table (std 0) is 1 (nothing varies
 *    with d).
 *
 * Legend: p modulus, K = (p-1)/2, N = p^2 inputs in canonical order
 * r = a p + b, Vo = p classes, D embedding width, T positions. */
#ifndef GROK_ALGO_H
#define GROK_ALGO_H

#include <stdint.h>

#include "fileio.h"
#include "grok.h"
#include "model.h"
#include "task.h"

#define ALGO_N_TRIPLES 100
#define ALGO_TRIPLE_SEED 42
#define ALGO_N_PCS 4
/* inputs per forward of the restricted-embedding model (own workspace) */
#define ALGO_CHUNK 1024

/* The verdict (algo_verdict):
 *   "neither" when acc_test < ALGO_SOLVED_ACC (no algorithm has been learned);
 *   "pizza"   when grad_sym >= ALGO_PIZZA_GRAD_SYM and dist_irrel <= ALGO_PIZZA_DIST_IRREL;
 *   "clock"   when grad_sym <= ALGO_CLOCK_GRAD_SYM and dist_irrel >= ALGO_CLOCK_DIST_IRREL;
 *   "neither" otherwise.
 * Zhong et al. report pizza 0.99 / 0.17 and clock 0.33 / 0.85 (grad_sym /
 * dist_irrel); the thresholds sit between those, with a gap in between
 * left to "neither". */
#define ALGO_SOLVED_ACC 0.99
#define ALGO_PIZZA_GRAD_SYM 0.9
#define ALGO_PIZZA_DIST_IRREL 0.5
#define ALGO_CLOCK_GRAD_SYM 0.7
#define ALGO_CLOCK_DIST_IRREL 0.7
#define ALGO_RULE                                                                              \
    "acc_test >= 0.99 and: pizza if grad_sym >= 0.9 and dist_irrel <= 0.5; clock if "         \
    "grad_sym <= 0.7 and dist_irrel >= 0.7; else neither"

typedef enum { ALGO_NEITHER, ALGO_CLOCK, ALGO_PIZZA } algo_kind;
const char *algo_kind_name(algo_kind k); /* "neither", "clock", "pizza" */
algo_kind algo_verdict(double dist_irrel, double grad_sym, double acc_test);

/* ---- the building blocks ---- */

/* The triples (a, b, c) of the convention above into out [n, 3]; returns n =
 * min(ALGO_N_TRIPLES, p^3), or a negative grok_status when the rng cannot
 * be allocated. */
int algo_triples(int p, int32_t *out);

/* Distance irrelevance of the correct-class logits: L [p^2, Vo] in canonical
 * order, label [p^2]: with T[s][d] = L[r, label[r]] for the input r with
 * s = (a+b) mod p, d = (a-b) mod p, mean over d of the population std over s,
 * over the population std of all of T.  tab (may be NULL): [p*p] receives
 * T[s][d] at s*p + d. */
double algo_dist_irrel(const double *L, int Vo, const int32_t *label, int p, double *tab);

/* Mean over i < n of cos(g[i, pa, :], g[i, pb, :]), g [n, T, D]; 0 for a
 * pair with a zero vector. */
double algo_grad_sym(const float *g, int n, int T, int D, int pa, int pb);

/* Circularity score of one component u [p] (any scale): with v = u /
 * (|u| sqrt p), min(1, max over i = 1..p-1 of 2 |sum_t v[t i mod p]
 * e^(2 pi i t / p)|^2); 0 for u = 0. */
double algo_circ_score(const double *u, int p);

/* The frequency 1..K where u [p] has the most Fourier power
 * (cos^2 + sin^2 of its projections), the first on ties. */
int algo_best_freq(const double *u, int p);

/* The logit FVE of the convention above: L [p^2, Vo] (Vo = p) against the
 * clock template cos(w(a+b-c)) (pizza 0) or the pizza template (pizza 1),
 * w = 2 pi k / p. */
double algo_fve(const double *L, int p, int k, int pizza);

/* ---- on a model ---- */

typedef struct algo_workspace algo_workspace;

/* Everything the measures need for models shaped as m on task t (which
 * must have the Z_p grid and a model with embed.W_E rows for 0..p-1): a
 * private copy of the model (the gradients and the restricted forward never
 * touch the caller's model), the triples and their tokens.  acts: an
 * activation workspace of m's family to borrow (any rows; the forwards run
 * in chunks of its rows, the results do not depend on them), or NULL to
 * allocate one of ALGO_CHUNK rows; L: [t->n_all, Vo] doubles of scratch to
 * borrow (its contents are not kept between calls), or NULL.  Borrowed
 * buffers must outlive the workspace and are not freed by it.
 * GROK_EINVAL when the task has no Z_p grid; GROK_ENOMEM. */
int algo_workspace_alloc(algo_workspace **out, const model *m, const task_data *t,
                         model_acts *acts, double *L, grok_err *e);
void algo_workspace_free(algo_workspace *aw);

/* Gradient symmetricity of m over the workspace's triples. */
double algo_model_grad_sym(algo_workspace *aw, const model *m);
/* PCA of m's token embeddings into the workspace; returns the circularity.
 * algo_model_fve reads the PCA of the last call. */
double algo_model_circularity(algo_workspace *aw, const model *m);
/* The clock and pizza FVE of m with its embedding restricted to its leading
 * PCA circle (after algo_model_circularity on the same m); *k (may be NULL)
 * gets the circle's frequency. */
void algo_model_fve(algo_workspace *aw, const model *m, double *fve_clock, double *fve_pizza,
                    int *k);

/* embed_circles.tsv: "k\ttoken\tx\ty", for each of keys[0..n_keys) and
 * token 0..p-1: W_E[:p] projected on the token axis onto frequency k's cos
 * and sin rows of the Fourier basis, then onto that rank-2 matrix's two
 * principal components (signs: token 0 at x >= 0, token 1 at y >= 0). */
void algo_format_embed_circles(algo_workspace *aw, const model *m, const int *keys, int n_keys,
                               sbuf *out);
/* logit_sd.tsv: "s\td\tlogit" for every (s, d) (s outer), the correct-class
 * logit of the input with a + b = s, a - b = d (mod p), from L [p^2, Vo]. */
void algo_format_logit_sd(const double *L, int Vo, const task_data *t, sbuf *out);

#endif
