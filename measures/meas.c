/* meas.c: the progress measures declared in meas.h, from a model's parameters
 * and its activations over all inputs (docs/measures.md).
 *
 * A pass: model_forward (any family) over the n_all inputs in canonical
 * order (r = a*p+b), in blocks of MEAS_FORWARD_ROWS inputs through a small
 * activation workspace; the logits are kept in double and the attention
 * patterns in float (the neurons, needed by rule R1 only, are gathered by
 * further forwards, one block of neurons at a time).  Then every row of meas_table whose needs are met computes its
 * columns; what several rows share (the key frequencies, the projection, the
 * W_E and W_L spectra) is computed on first use and kept for the pass
 * (meas_pass).  The general measures (losses, accuracies, sums of squares)
 * need nothing else.  The Fourier measures use, all in double through GSL's
 * BLAS:
 *  - R1: the neurons of the last hidden layer (model_hidden_last), centred
 *    over inputs, in blocks of
 *    MEAS_NEURON_BLOCK columns, each block 2-D transformed (fourier_2d) and
 *    scored by meas_neuron_fve;
 *  - the projection onto the sum directions of the key frequencies as two
 *    GEMMs: coef [2K, Vo] = D L over every frequency, the rows of the other
 *    frequencies zeroed, PL = D^T coef (about 2 x 2K P2 Vo flops whatever
 *    the number of keys);
 *  - the spectra F W_E[:p] (embed.W_E of any family) and F W_L,
 *    W_L = W_U^T W_out^T (a transformer; TransformerLens layouts: W_U [D, Vo],
 *    W_out [M, D]);
 *  - the per-frequency excluded loss from the logits summed per
 *    s = (a+b) mod p: per s group one table of exponentials [K, p] and one
 *    GEMM [rows, p] x [p, K] give every row's K log-sum-exps
 *    (meas_excluded_per_freq); alpha_k and the 3-D excluded logits from the
 *    logits summed per (s - c) mod p;
 *  - per attention head of the last layer, its attention to position 0,
 *    centred and transformed like a block of neurons.
 * Every sum runs in a fixed order and BLIS never splits k, so a row is the
 * same bits for any thread count.
 *
 * Legend: p modulus, K = (p-1)/2, P2 = p*p, N = n_all inputs, D the width of
 * embed.W_E (d_model, d_embed), M the last hidden width (d_mlp, d_hidden),
 * Vo = p classes, H heads, T = 3 positions, c neurons in a block. */
#include "meas.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "algo.h"
#include "loss.h"

/* Neurons per R1 block: keeps the block buffers small ([P2, 64] doubles, 6.5
 * MB at p = 113) while both GEMMs of the transform stay large ([p, p] x
 * [p, p*64]). */
#define MEAS_NEURON_BLOCK 64

/* Inputs per forward: the pass runs the model over the n_all inputs in
 * blocks of this many rows through a small activation workspace (a row's
 * results do not depend on the block), keeping only what the measures read:
 * the logits, the attention patterns and, block by block of neurons, the
 * last hidden layer. */
#define MEAS_FORWARD_ROWS 256

struct meas_workspace {
    model_config mc;
    unsigned have; /* MEAS_NEED_* met by the model and task */
    int transformer;
    int p, K, N, Vo, M, D, H, T, L;
    int fourier;
    char reason[160];
    model_acts *acts; /* for `rows` inputs at a time */
    int own_acts;
    int rows;        /* inputs per forward block */
    int32_t *tokens; /* [N, T] canonical order */
    double *logits;  /* [N, Vo] the last forward, in double */
    float *attn;     /* [L, N, H, T] (a transformer): tfm_attn_last of each layer */
    int have_forward;
    /* Fourier buffers (NULL when the Fourier measures do not apply) */
    double *F;           /* [p, p] */
    double *Dsum;        /* [2K, P2] sum directions */
    int own_basis;       /* 1: F and Dsum allocated here; 0: another workspace's */
    double *PL, *Lx;     /* [N, Vo] projection; restricted/excluded logits */
    double *coef;        /* [2K, Vo] coefficients on the sum directions */
    int width;           /* columns of bufA..C: max(neuron block, H), or H when !r1 */
    int r1;              /* 1: rule R1 may run (the buffers hold a block of neurons) */
    double *bufA, *bufB, *bufC; /* [P2, width] */
    double *WE, *E;      /* [p, D] (D: the width of embed.W_E) */
    double *WU;          /* [D, Vo] (a transformer) */
    double *Wout;        /* [M, D] (a transformer) */
    double *WL, *FWL;    /* [p, M] (a transformer) */
    double *spec_e, *spec_l; /* [p] component norms */
    double *fn;          /* [K+1] per-frequency norms */
    double *scratch;     /* [max(p, M)] */
    int *nbest;          /* [M] */
    double *nfrac;       /* [M] */
    int have_neurons;
    /* group buffers (NULL unless have & MEAS_NEED_GROUP) */
    int group;           /* the group measures apply */
    int G, DE, HU;       /* |G|; widths of embed.W_E and of unembed.W_U's rows */
    irrep_set irr;
    const group_data *grp; /* the task's group */
    double *irB;         /* [G, G] irrep_basis */
    double *irA, *irC;   /* [G, max(Vo, DE, HU)] */
    double *irX;         /* [G, max(DE, HU)] W_E rows, W_U columns */
    algo_workspace *algo; /* the clock/pizza measures of W_E (GRID and EMBED) */
    double *xscr;        /* the s-grouped measures' scratch (meas_excluded_per_freq, meas_coefs) */
    int *iscr;           /* [N + p + 1] */
    meas_key_rule key_rule;
    double key_share;
};

/* ------------------------------------------------------------------------ */
/* building blocks */

double meas_ce(const double *L, int m, const int32_t *labels, const int32_t *rows, int n,
               int *n_correct)
{
    const loss_config softmax64 = {LOSS_SOFTMAX_CE, 0};
    return loss_rows_f64(&softmax64, L, labels, rows, n, m, NULL, n_correct);
}

void meas_project_sum(double *PL, const double *L, const double *D, const int *keys, int n_keys,
                      int p, int m, double *coef)
{
    const int K = fourier_n_freqs(p);
    const size_t P2 = (size_t)p * p, twoK = 2 * (size_t)K;
    gsl_matrix_const_view Lv = gsl_matrix_const_view_array(L, P2, (size_t)m);
    gsl_matrix_const_view Dv = gsl_matrix_const_view_array(D, twoK, P2);
    gsl_matrix_view Cv = gsl_matrix_view_array(coef, twoK, (size_t)m);
    gsl_matrix_view Pv = gsl_matrix_view_array(PL, P2, (size_t)m);
    /* coef [2K, m] = D L: the coefficients on every u_k, v_k in one GEMM ... */
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Dv.matrix, &Lv.matrix, 0.0, &Cv.matrix);
    /* ... the rows of frequencies outside keys set to zero ... */
    for (int k = 1, i = 0; k <= K; k++) {
        while (i < n_keys && keys[i] < k)
            i++;
        if (i < n_keys && keys[i] == k)
            continue;
        memset(coef + (size_t)(2 * (k - 1)) * m, 0, 2 * (size_t)m * sizeof *coef);
    }
    /* ... and PL [P2, m] = D^T coef. */
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Dv.matrix, &Cv.matrix, 0.0, &Pv.matrix);
}

/* mean over rows of X [N, m] into mu [m], summed in row order */
static void column_means(double *mu, const double *X, int N, int m)
{
    for (int j = 0; j < m; j++)
        mu[j] = 0;
    for (int r = 0; r < N; r++)
        for (int j = 0; j < m; j++)
            mu[j] += X[(size_t)r * m + j];
    for (int j = 0; j < m; j++)
        mu[j] /= N;
}

void meas_restricted_logits(double *Lres, const double *L, const double *PL, int N, int m,
                            double *mu)
{
    double *muL = mu, *muP = mu + m;
    column_means(muL, L, N, m);
    column_means(muP, PL, N, m);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < m; j++)
            Lres[(size_t)r * m + j] = PL[(size_t)r * m + j] + (muL[j] - muP[j]);
}

void meas_excluded_logits(double *Lexc, const double *L, const double *PL, int N, int m)
{
    const size_t n = (size_t)N * m;
    for (size_t i = 0; i < n; i++)
        Lexc[i] = L[i] - PL[i];
}

double meas_gini(const double *c, int n, double *scratch)
{
    if (n <= 0)
        return 0;
    memcpy(scratch, c, (size_t)n * sizeof *c);
    gsl_sort(scratch, 1, (size_t)n);
    double l1 = 0;
    for (int i = 0; i < n; i++)
        l1 += scratch[i];
    if (!(l1 > 0))
        return 0;
    double s = 0;
    for (int k = 1; k <= n; k++)
        s += (scratch[k - 1] / l1) * ((n - k + 0.5) / n);
    return 1 - 2 * s;
}

void meas_irrep_energy(double *energy, const double *X, int m, const double *B,
                       const irrep_set *s, double *C)
{
    const size_t G = (size_t)s->order;
    gsl_matrix_const_view Bv = gsl_matrix_const_view_array(B, G, G);
    gsl_matrix_const_view Xv = gsl_matrix_const_view_array(X, G, (size_t)m);
    gsl_matrix_view Cv = gsl_matrix_view_array(C, G, (size_t)m);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Bv.matrix, &Xv.matrix, 0.0, &Cv.matrix);
    for (int i = 0; i < s->n; i++) {
        const size_t r0 = (size_t)s->row0[i], r1 = r0 + (size_t)s->dim[i] * s->dim[i];
        double v = 0;
        for (size_t r = r0; r < r1; r++)
            for (int j = 0; j < m; j++)
                v += C[r * m + j] * C[r * m + j];
        energy[i] = v;
    }
}

/* sum over rows and columns of (X - column mean)^2, X [N, m]; mu [m] scratch */
static double centred_ss(const double *X, int N, int m, double *mu)
{
    column_means(mu, X, N, m);
    double t = 0;
    for (int r = 0; r < N; r++)
        for (int j = 0; j < m; j++) {
            const double x = X[(size_t)r * m + j] - mu[j];
            t += x * x;
        }
    return t;
}

/* frac[i] = scale energy[i] / total for i >= 1, frac[0] = 0; all 0 when total is 0 */
static void energy_to_frac(double *frac, const double *energy, int n, double scale, double total)
{
    frac[0] = 0;
    for (int i = 1; i < n; i++)
        frac[i] = total > 0 ? scale * energy[i] / total : 0;
}

double meas_irrep_fractions(double *frac, const double *X, int G, int m, const double *B,
                            const irrep_set *s, double *C)
{
    double energy[IRREP_MAX];
    GROK_ASSERT(G == s->order);
    meas_irrep_energy(energy, X, m, B, s, C);
    /* C's first row holds the trivial coefficients, sqrt(G) mean: scratch after this */
    const double total = centred_ss(X, G, m, C);
    energy_to_frac(frac, energy, s->n, 1.0, total);
    return total;
}

/* A [G, m] = mean of L [G*G, m] over the pairs (x, y) with x*y = g */
static void fibre_means(double *A, const double *L, int m, const int32_t *mul,
                        const int32_t *inv, int G)
{
    memset(A, 0, (size_t)G * m * sizeof *A);
    for (int x = 0; x < G; x++)
        for (int g = 0; g < G; g++) {
            const int y = mul[(size_t)inv[x] * G + g]; /* x y = g */
            const double *l = L + ((size_t)x * G + y) * m;
            double *a = A + (size_t)g * m;
            for (int j = 0; j < m; j++)
                a[j] += l[j];
        }
    for (size_t i = 0; i < (size_t)G * m; i++)
        A[i] /= G;
}

void meas_irrep_logit_fractions(double *frac, const double *L, int m, const int32_t *mul,
                                const int32_t *inv, const double *B, const irrep_set *s,
                                double *A, double *C)
{
    const int G = s->order;
    double energy[IRREP_MAX];
    fibre_means(A, L, m, mul, inv, G);
    meas_irrep_energy(energy, A, m, B, s, C);
    const double total = centred_ss(L, G * G, m, C);
    energy_to_frac(frac, energy, s->n, (double)G, total);
}

void meas_irrep_project(double *PL, const double *L, int m, const int32_t *mul,
                        const int32_t *inv, const double *B, const irrep_set *s, const int *keys,
                        int n_keys, double *A, double *C)
{
    const size_t G = (size_t)s->order;
    fibre_means(A, L, m, mul, inv, (int)G);
    gsl_matrix_const_view Bv = gsl_matrix_const_view_array(B, G, G);
    gsl_matrix_view Av = gsl_matrix_view_array(A, G, (size_t)m);
    gsl_matrix_view Cv = gsl_matrix_view_array(C, G, (size_t)m);
    /* C = B A, the rows of the irreps outside keys zeroed, A = B^T C */
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Bv.matrix, &Av.matrix, 0.0, &Cv.matrix);
    for (int i = 0, k = 0; i < s->n; i++) {
        while (k < n_keys && keys[k] < i)
            k++;
        if (k < n_keys && keys[k] == i)
            continue;
        memset(C + (size_t)s->row0[i] * m, 0, (size_t)s->dim[i] * s->dim[i] * m * sizeof *C);
    }
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Bv.matrix, &Cv.matrix, 0.0, &Av.matrix);
    for (size_t x = 0; x < G; x++)
        for (size_t y = 0; y < G; y++)
            memcpy(PL + (x * G + y) * m, A + (size_t)mul[x * G + y] * m, (size_t)m * sizeof *PL);
}

void meas_neuron_fve(int *best, double *frac, const double *Nh, int p, int c)
{
    const int K = fourier_n_freqs(p);
    const size_t P2 = (size_t)p * p;
    /* the totals first, row by row (Nh is row-major [P2, c]); frac holds them */
    for (int j = 0; j < c; j++)
        frac[j] = 0;
    for (size_t r = 0; r < P2; r++)
        for (int j = 0; j < c; j++)
            frac[j] += Nh[r * c + j] * Nh[r * c + j];
    for (int j = 0; j < c; j++) {
        const double total = frac[j];
        best[j] = 0;
        frac[j] = 0;
        if (!(total > 0))
            continue;
        for (int k = 1; k <= K; k++) {
            const int idx[3] = {0, fourier_cos_row(k), fourier_sin_row(k)};
            double s = 0;
            for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++) {
                    const double x = Nh[((size_t)idx[u] * p + idx[v]) * c + j];
                    s += x * x;
                }
            if (best[j] == 0 || s / total > frac[j]) {
                best[j] = k;
                frac[j] = s / total;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* the measures over s = (a+b) mod p: per-frequency excluded loss, alpha_k */

/* ctab[j] = cos(2 pi j / p), stab[j] = sin(2 pi j / p), j = 0..p-1: cos(w_k x)
 * is ctab[k x mod p], exact in the index */
static void trig_table(double *ctab, double *stab, int p)
{
    for (int j = 0; j < p; j++) {
        ctab[j] = cos(2 * M_PI * j / p);
        if (stab)
            stab[j] = sin(2 * M_PI * j / p);
    }
}

/* Ls [p, p]: Ls[s*p + c] = sum of L[r, c] over the rows r = a*p + b with
 * (a+b) mod p = s, in row order */
static void sum_by_s(double *Ls, const double *L, int p)
{
    memset(Ls, 0, (size_t)p * p * sizeof *Ls);
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            const int s = (a + b) % p;
            const double *x = L + ((size_t)a * p + b) * p;
            double *y = Ls + (size_t)s * p;
            for (int c = 0; c < p; c++)
                y[c] += x[c];
        }
}

/* out[i] = exp(sign * x[i] - shift), i < n: the vector exp where libmvec is
 * there (grok.h, GROK_VECTOR_EXP) */
GROK_VECTOR_CLONES
static void exp_shifted(double *restrict out, const double *restrict x, double sign, double shift,
                        int n)
{
#if GROK_VECTOR_EXP
#pragma omp simd
#endif
    for (int i = 0; i < n; i++)
        out[i] = exp(sign * x[i] - shift);
}

size_t meas_excluded_per_freq_scratch(int p)
{
    const size_t P = (size_t)p, K = (size_t)fourier_n_freqs(p);
    return 2 * P * P + 3 * P + 5 * K * P + 3 * K;
}

void meas_excluded_per_freq(double *out, const double *L, int p, const int32_t *labels,
                            const int32_t *rows, int n, double *scratch, int *iscratch)
{
    const int K = fourier_n_freqs(p);
    const size_t P = (size_t)p, Kz = (size_t)K;
    double *Ls = scratch, *ctab = Ls + P * P, *stab = ctab + P, *cu = stab + P, *cv = cu + Kz * P,
           *Dl = cv + Kz * P, *E = Dl + Kz * P, *X = E + Kz * P, *S = X + P * P, *g = S + P * Kz,
           *acc = g + Kz, *mrow = acc + Kz;
    int *cnt = iscratch, *idx = iscratch + p + 1;
    trig_table(ctab, stab, p);
    sum_by_s(Ls, L, p);
    /* cu[k, c] = u_k^T L[:, c], cv likewise: u_k(s) = sqrt(2)/p cos(w_k s),
     * v_k(s) = sqrt(2)/p sin(w_k s) */
    const double un = sqrt(2.0) / p;
    for (int k = 1; k <= K; k++) {
        double *xu = cu + (size_t)(k - 1) * P, *xv = cv + (size_t)(k - 1) * P;
        for (int c = 0; c < p; c++)
            xu[c] = xv[c] = 0;
        for (int s = 0; s < p; s++) {
            const double cs = un * ctab[(size_t)k * s % P], sn = un * stab[(size_t)k * s % P];
            const double *y = Ls + (size_t)s * P;
            for (int c = 0; c < p; c++) {
                xu[c] += cs * y[c];
                xv[c] += sn * y[c];
            }
        }
    }
    /* the rows grouped by s, in their order inside each group (counting sort) */
    for (int s = 0; s <= p; s++)
        cnt[s] = 0;
    for (int i = 0; i < n; i++) {
        const int r = rows ? rows[i] : i;
        cnt[(r / p + r % p) % p + 1]++;
    }
    for (int s = 0; s < p; s++)
        cnt[s + 1] += cnt[s];
    for (int i = 0; i < n; i++) {
        const int r = rows ? rows[i] : i;
        idx[cnt[(r / p + r % p) % p]++] = r;
    }
    /* cnt[s] is now the end of group s (a group has at most p rows) */
    for (int k = 0; k < K; k++)
        acc[k] = 0;
    for (int s = 0, i0 = 0; s < p; i0 = cnt[s], s++) {
        const int ns = cnt[s] - i0;
        if (ns == 0)
            continue;
        /* Dl[k, c] = Delta_k[s, c] = u_k(s) cu[k, c] + v_k(s) cv[k, c]; the
         * excluded logits of a row of group s are L[r, :] - Dl[k, :].
         * E[k, c] = exp(-Dl[k, c] - g[k]), g[k] = max_c -Dl[k, c]. */
        for (int k = 1; k <= K; k++) {
            const double cs = un * ctab[(size_t)k * s % P], sn = un * stab[(size_t)k * s % P];
            const double *xu = cu + (size_t)(k - 1) * P, *xv = cv + (size_t)(k - 1) * P;
            double *d = Dl + (size_t)(k - 1) * P, mx = -INFINITY;
            for (int c = 0; c < p; c++) {
                d[c] = cs * xu[c] + sn * xv[c];
                mx = fmax(mx, -d[c]);
            }
            g[k - 1] = mx;
            exp_shifted(E + (size_t)(k - 1) * P, d, -1.0, mx, p);
        }
        /* X [ns, p] = exp(L[r, :] - m_r) for the group's rows */
        for (int i = 0; i < ns; i++) {
            const double *x = L + (size_t)idx[i0 + i] * P;
            double m = x[0];
            for (int c = 1; c < p; c++)
                m = fmax(m, x[c]);
            mrow[i] = m;
            exp_shifted(X + (size_t)i * P, x, 1.0, m, p);
        }
        /* S [ns, K] = X E^T: S[i, k] = sum_c exp(L[r, c] - m_r) exp(-Dl[k, c] - g[k]) */
        gsl_matrix_const_view Xv = gsl_matrix_const_view_array(X, (size_t)ns, P);
        gsl_matrix_const_view Ev = gsl_matrix_const_view_array(E, Kz, P);
        gsl_matrix_view Sv = gsl_matrix_view_array(S, (size_t)ns, Kz);
        gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &Xv.matrix, &Ev.matrix, 0.0, &Sv.matrix);
        for (int i = 0; i < ns; i++) {
            const int r = idx[i0 + i], y = labels[r];
            const double *x = L + (size_t)r * P;
            for (int k = 0; k < K; k++) {
                const double *d = Dl + (size_t)k * P, sk = S[(size_t)i * Kz + (size_t)k];
                double lse;
                if (sk > 1e-250 && isfinite(sk)) {
                    lse = mrow[i] + g[k] + log(sk);
                } else { /* the product under- or overflowed: directly */
                    double mk = x[0] - d[0], z = 0;
                    for (int c = 1; c < p; c++)
                        mk = fmax(mk, x[c] - d[c]);
                    for (int c = 0; c < p; c++)
                        z += exp(x[c] - d[c] - mk);
                    lse = mk + log(z);
                }
                acc[k] += lse - (x[y] - d[y]);
            }
        }
    }
    for (int k = 0; k < K; k++)
        out[k] = n > 0 ? acc[k] / n : 0;
}

/* G [p]: G[j] = sum of L[r, c] over the (r, c) with ((a+b) - c) mod p = j:
 * C_k[r, c] depends on (r, c) only through j, so <C_k, L> = sum_j C_k(j) G[j] */
static void sum_by_diff(double *G, const double *L, int p)
{
    memset(G, 0, (size_t)p * sizeof *G);
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            const int s = (a + b) % p;
            const double *x = L + ((size_t)a * p + b) * p;
            for (int c = 0; c < p; c++)
                G[s >= c ? s - c : s - c + p] += x[c];
        }
}

/* R [p] = sum over the frequencies k in keys[0..n) (keys NULL: 1..n) of
 * alpha[k-1] C_k(j), C_k(j) = sqrt(2/p^3) cos(w_k j), j = (s - c) mod p */
static void coef_template(double *R, const double *alpha, const int *keys, int n, int p,
                          const double *ctab)
{
    const double cn = sqrt(2.0 / ((double)p * p * p));
    for (int j = 0; j < p; j++) {
        double v = 0;
        for (int i = 0; i < n; i++) {
            const int k = keys ? keys[i] : i + 1;
            v += alpha[k - 1] * ctab[(size_t)k * j % (size_t)p];
        }
        R[j] = cn * v;
    }
}

void meas_coefs(double *alpha, double *norm, double *residual, const double *L, int p,
                double *scratch)
{
    const int K = fourier_n_freqs(p);
    const size_t P = (size_t)p;
    double *G = scratch, *R = G + P, *ctab = R + P;
    trig_table(ctab, NULL, p);
    sum_by_diff(G, L, p);
    const double cn = sqrt(2.0 / ((double)p * p * p));
    for (int k = 1; k <= K; k++) {
        double v = 0;
        for (int j = 0; j < p; j++)
            v += ctab[(size_t)k * j % P] * G[j];
        alpha[k - 1] = cn * v;
    }
    coef_template(R, alpha, NULL, K, p, ctab);
    double nn = 0, rr = 0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            const int s = (a + b) % p;
            const double *x = L + ((size_t)a * p + b) * P;
            for (int c = 0; c < p; c++) {
                const double z = x[c] - R[s >= c ? s - c : s - c + p];
                nn += x[c] * x[c];
                rr += z * z;
            }
        }
    *norm = sqrt(nn);
    *residual = sqrt(rr);
}

void meas_excluded_3d_logits(double *Lx, const double *L, const double *alpha, const int *keys,
                             int n_keys, int p, double *scratch)
{
    const size_t P = (size_t)p;
    double *R = scratch, *ctab = R + P;
    trig_table(ctab, NULL, p);
    coef_template(R, alpha, keys, n_keys, p, ctab);
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            const int s = (a + b) % p;
            const size_t r = (size_t)a * p + b;
            for (int c = 0; c < p; c++)
                Lx[r * P + c] = L[r * P + c] - R[s >= c ? s - c : s - c + p];
        }
}

static const char *const key_rule_names[MEAS_KEY_RULE_COUNT] = {"neuron", "cluster"};

const char *meas_key_rule_name(int rule)
{
    return rule >= 0 && rule < MEAS_KEY_RULE_COUNT ? key_rule_names[rule] : "?";
}

int meas_key_rule_parse(const char *s)
{
    for (int i = 0; i < MEAS_KEY_RULE_COUNT; i++)
        if (strcmp(s, key_rule_names[i]) == 0)
            return i;
    return -1;
}

void meas_freqs_from_neurons(meas_freqs *out, const int *best, const double *frac, int M, int K,
                             meas_key_rule rule, double share)
{
    memset(out, 0, sizeof *out);
    out->rule = rule;
    out->share = share;
    out->n_neurons = M;
    for (int j = 0; j < M; j++)
        out->n_dead += best[j] == 0;
    const double live = M - out->n_dead;
    for (int k = 1; k <= K; k++) {
        int any = 0, size = 0;
        for (int j = 0; j < M; j++)
            if (best[j] == k) {
                any = 1;
                size += frac[j] > MEAS_CLUSTER_FRAC;
            }
        if (any)
            out->k_by_neuron[out->n_by_neuron++] = k;
        if (size > 0) {
            out->cluster_k[out->n_clusters] = k;
            out->cluster_size[out->n_clusters++] = size;
            if (size >= share * live)
                out->k_by_cluster[out->n_by_cluster++] = k;
        }
    }
    const int *k = rule == MEAS_KEY_CLUSTER ? out->k_by_cluster : out->k_by_neuron;
    out->n = rule == MEAS_KEY_CLUSTER ? out->n_by_cluster : out->n_by_neuron;
    memcpy(out->k, k, (size_t)out->n * sizeof *k);
}

/* ------------------------------------------------------------------------ */
/* workspace */

void meas_workspace_free(meas_workspace *ws)
{
    if (!ws)
        return;
    if (ws->own_acts)
        model_acts_free(ws->acts);
    grok_free(ws->tokens);
    grok_free(ws->logits);
    grok_free(ws->attn);
    if (ws->own_basis) {
        grok_free(ws->F);
        grok_free(ws->Dsum);
    }
    grok_free(ws->PL);
    grok_free(ws->Lx);
    grok_free(ws->coef);
    grok_free(ws->bufA);
    grok_free(ws->bufB);
    grok_free(ws->bufC);
    grok_free(ws->WE);
    grok_free(ws->E);
    grok_free(ws->WU);
    grok_free(ws->Wout);
    grok_free(ws->WL);
    grok_free(ws->FWL);
    grok_free(ws->spec_e);
    grok_free(ws->spec_l);
    grok_free(ws->fn);
    grok_free(ws->scratch);
    grok_free(ws->nbest);
    grok_free(ws->nfrac);
    grok_free(ws->irB);
    grok_free(ws->irA);
    grok_free(ws->irC);
    grok_free(ws->irX);
    irrep_free(&ws->irr);
    algo_workspace_free(ws->algo);
    grok_free(ws->xscr);
    grok_free(ws->iscr);
    free(ws);
}

/* grok_alloc of count elements of size, adding the bytes to *total */
static void *ws_alloc(size_t count, size_t size, size_t *total)
{
    *total += count * size;
    return grok_alloc(count * size);
}

static int model_d_vocab(const model *m)
{
    return m->cfg.family == MODEL_TRANSFORMER ? m->cfg.tfm.d_vocab : m->cfg.mlp.d_vocab;
}

/* ------------------------------------------------------------------------ */
/* needs */

/* The needs in bit order, with a one-line reason for each (meas_need_reason). */
unsigned meas_have(const model *m, const task_data *t)
{
    unsigned have = 0;
    if ((t->caps & TASK_CAP_ZP_GRID) && fourier_check_p(t->cfg.p, NULL) == GROK_OK &&
        t->n_all == t->cfg.p * t->cfg.p)
        have |= MEAS_NEED_ZP_GRID;
    if (model_tfm(m))
        have |= MEAS_NEED_TRANSFORMER;
    const param_tensor *we = model_find(m, "embed.W_E");
    if (we && we->ndim == 2 && (have & MEAS_NEED_ZP_GRID) && we->shape[0] >= t->cfg.p)
        have |= MEAS_NEED_EMBED;
    const param_tensor *wu = model_find(m, "unembed.W_U");
    const int G = t->grp.order;
    if (t->cfg.kind == TASK_KIND_GROUP && t->cfg.group_op == TASK_GROUP_OP_XY && G > 0 &&
        irrep_supported(t->grp.family, t->grp.n, NULL, 0) && t->n_all == G * G &&
        t->n_classes == G && we && we->ndim == 2 && we->shape[0] >= G && wu && wu->ndim == 2 &&
        wu->shape[1] == G)
        have |= MEAS_NEED_GROUP;
    return have;
}

int meas_applies(const meas_desc *d, unsigned have) { return (d->needs & ~have) == 0; }

int meas_first_unmet(unsigned needs, unsigned have)
{
    for (int i = 0; i < MEAS_N_NEEDS; i++)
        if ((needs & ~have) & (1u << i))
            return i;
    return -1;
}

void meas_need_reason(const model *m, const task_data *t, unsigned needs, char *buf, size_t n)
{
    const unsigned have = meas_have(m, t);
    switch (meas_first_unmet(needs, have)) {
    case 0: /* MEAS_NEED_ZP_GRID */
        snprintf(buf, n, "%s", t->no_grid[0] ? t->no_grid : "the task has no full Z_p grid");
        break;
    case 1: /* MEAS_NEED_TRANSFORMER */
        snprintf(buf, n, "reads the transformer's W_U and W_out (W_L = W_U^T W_out); "
                         "model.family = '%s'",
                 model_family_name(m->cfg.family));
        break;
    case 2: /* MEAS_NEED_EMBED */
        snprintf(buf, n, "reads embed.W_E with a row per residue 0..%d; model.family = '%s' "
                         "has none",
                 t->cfg.p - 1, model_family_name(m->cfg.family));
        break;
    case 3: { /* MEAS_NEED_GROUP */
        char why[200];
        if (t->cfg.kind != TASK_KIND_GROUP)
            snprintf(buf, n, "reads the irreps of a group; task kind '%s' is not a group",
                     task_kind_name(t->cfg.kind));
        else if (!irrep_supported(t->grp.family, t->grp.n, why, sizeof why))
            snprintf(buf, n, "group %s: %s", group_id_name(t->cfg.group), why);
        else if (t->cfg.group_op != TASK_GROUP_OP_XY)
            snprintf(buf, n, "decomposes the logits as functions of x*y; group_op '%s' is not "
                             "'xy'",
                     task_group_op_name(t->cfg.group_op));
        else
            snprintf(buf, n, "reads embed.W_E rows and unembed.W_U columns of the %d elements",
                     t->grp.order);
        break;
    }
    default:
        snprintf(buf, n, "%s", "");
    }
}

static int ws_alloc_all(meas_workspace **out, const model *m, const task_data *t,
                        model_acts *acts, const meas_workspace *share, grok_err *e)
{
    *out = NULL;
    if (model_d_vocab(m) != t->d_vocab || model_n_classes(m) != t->n_classes ||
        model_n_ctx(m) != t->n_ctx)
        return grok_fail(e, GROK_EINVAL,
                         "measures: model (d_vocab %d, d_vocab_out %d, n_ctx %d) does not fit "
                         "the task (needs %d, %d, %d)",
                         model_d_vocab(m), model_n_classes(m), model_n_ctx(m), t->d_vocab,
                         t->n_classes, t->n_ctx);
    const unsigned have = meas_have(m, t);
    /* The Fourier measures need the task's Z_p grid; p means nothing otherwise. */
    const int fourier = (have & MEAS_NEED_ZP_GRID) != 0;
    const int p = fourier ? t->cfg.p : 0;
    const tfm_model *tm = model_tfm(m);
    meas_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return grok_fail(e, GROK_ENOMEM, "measures: out of memory");
    ws->mc = m->cfg;
    ws->have = have;
    ws->key_rule = MEAS_KEY_NEURON;
    ws->key_share = MEAS_KEY_SHARE_DEFAULT;
    ws->transformer = tm != NULL;
    ws->p = p;
    ws->K = fourier ? fourier_n_freqs(p) : 0;
    ws->N = t->n_all;
    ws->Vo = model_n_classes(m);
    ws->M = tm ? tm->cfg.d_mlp : m->cfg.mlp.d_hidden;
    ws->T = model_n_ctx(m);
    if (tm) {
        ws->H = tm->cfg.n_heads;
        ws->L = tm->cfg.n_layers;
    }
    const param_tensor *we = model_find(m, "embed.W_E");
    ws->D = (have & MEAS_NEED_EMBED) ? we->shape[1] : 0;
    ws->group = (have & MEAS_NEED_GROUP) != 0;
    if (ws->group) {
        ws->G = t->grp.order;
        ws->DE = we->shape[1];
        ws->HU = model_find(m, "unembed.W_U")->shape[0];
        ws->grp = &t->grp;
    }
    if (!fourier)
        meas_need_reason(m, t, MEAS_NEED_ZP_GRID, ws->reason, sizeof ws->reason);
    ws->fourier = fourier;

    const size_t N = (size_t)ws->N, Vo = (size_t)ws->Vo, P = (size_t)p, P2 = P * P,
                 D = (size_t)ws->D, M = (size_t)ws->M, K = (size_t)ws->K;
    const size_t Mt = tm ? M : 0; /* the W_L buffers: a transformer only */
    size_t bytes = 0;
    int ok = 1;
    if (acts) {
        ws->acts = acts;
        ws->rows = model_acts_n_max(acts) < ws->N ? model_acts_n_max(acts) : ws->N;
    } else {
        ws->rows = ws->N < MEAS_FORWARD_ROWS ? ws->N : MEAS_FORWARD_ROWS;
        ws->acts = model_acts_alloc(m, ws->rows);
        ws->own_acts = 1;
        ok = ws->acts != NULL;
    }
    ws->tokens = ws_alloc(N * (size_t)ws->T, sizeof(int32_t), &bytes);
    ws->logits = ws_alloc(N * Vo, sizeof(double), &bytes);
    ok = ok && ws->tokens && ws->logits;
    if (tm) {
        ws->attn = ws_alloc((size_t)ws->L * N * (size_t)ws->H * (size_t)ws->T, sizeof(float),
                            &bytes);
        ok = ok && ws->attn;
    }
    if (ws->fourier) {
        const int block = ws->M < MEAS_NEURON_BLOCK ? ws->M : MEAS_NEURON_BLOCK;
        /* a workspace sharing another's tables serves passes given their key
         * frequencies: its buffers hold the heads' patterns, not a block of
         * neurons for rule R1 */
        ws->r1 = share == NULL;
        ws->width = ws->r1 ? block : 1;
        if (ws->H > ws->width) /* the heads' patterns are transformed in one block */
            ws->width = ws->H;
        if (share && share->fourier && share->p == p) {
            ws->F = share->F;
            ws->Dsum = share->Dsum;
        } else {
            ws->own_basis = 1;
            ws->F = ws_alloc(P2, sizeof(double), &bytes);
            ws->Dsum = ws_alloc(2 * K * P2, sizeof(double), &bytes);
        }
        ws->PL = ws_alloc(N * Vo, sizeof(double), &bytes);
        ws->Lx = ws_alloc(N * Vo, sizeof(double), &bytes);
        ws->coef = ws_alloc(2 * K * Vo, sizeof(double), &bytes);
        ws->bufA = ws_alloc(P2 * (size_t)ws->width, sizeof(double), &bytes);
        ws->bufB = ws_alloc(P2 * (size_t)ws->width, sizeof(double), &bytes);
        ws->bufC = ws_alloc(P2 * (size_t)ws->width, sizeof(double), &bytes);
        ws->spec_e = ws_alloc(P, sizeof(double), &bytes);
        ws->spec_l = ws_alloc(P, sizeof(double), &bytes);
        ws->fn = ws_alloc(K + 1, sizeof(double), &bytes);
        const size_t H = (size_t)ws->H, PM = P > M ? P : M;
        ws->scratch = ws_alloc(PM > H ? PM : H, sizeof(double), &bytes);
        /* also holds meas_coefs' and meas_excluded_3d_logits' 3p */
        ws->xscr = ws_alloc(meas_excluded_per_freq_scratch(p), sizeof(double), &bytes);
        ws->iscr = ws_alloc(N + P + 1, sizeof(int), &bytes);
        ws->nbest = ws_alloc(M, sizeof(int), &bytes);
        ws->nfrac = ws_alloc(M, sizeof(double), &bytes);
        ok = ok && ws->F && ws->Dsum && ws->PL && ws->Lx && ws->coef && ws->bufA && ws->bufB &&
             ws->bufC && ws->spec_e && ws->spec_l && ws->fn && ws->scratch && ws->nbest &&
             ws->nfrac && ws->xscr && ws->iscr;
        if (D > 0) {
            ws->WE = ws_alloc(P * D, sizeof(double), &bytes);
            ws->E = ws_alloc(P * D, sizeof(double), &bytes);
            ok = ok && ws->WE && ws->E;
        }
        if (Mt > 0) {
            const size_t Dt = (size_t)tm->cfg.d_model;
            ws->WU = ws_alloc(Dt * Vo, sizeof(double), &bytes);
            ws->Wout = ws_alloc(Mt * Dt, sizeof(double), &bytes);
            ws->WL = ws_alloc(P * Mt, sizeof(double), &bytes);
            ws->FWL = ws_alloc(P * Mt, sizeof(double), &bytes);
            ok = ok && ws->WU && ws->Wout && ws->WL && ws->FWL;
        }
    }
    if (ws->group && ok) {
        const size_t G = (size_t)ws->G, wx = (size_t)(ws->DE > ws->HU ? ws->DE : ws->HU);
        const size_t wa = wx > Vo ? wx : Vo;
        ok = irrep_build(&ws->irr, &t->grp, e) == GROK_OK;
        ws->irB = ws_alloc(G * G, sizeof(double), &bytes);
        ws->irA = ws_alloc(G * wa, sizeof(double), &bytes);
        ws->irC = ws_alloc(G * wa, sizeof(double), &bytes);
        ws->irX = ws_alloc(G * wx, sizeof(double), &bytes);
        ws->PL = ws_alloc(N * Vo, sizeof(double), &bytes);
        ws->Lx = ws_alloc(N * Vo, sizeof(double), &bytes);
        ws->coef = ws_alloc(2 * Vo, sizeof(double), &bytes);
        ok = ok && ws->irB && ws->irA && ws->irC && ws->irX && ws->PL && ws->Lx && ws->coef;
    }
    if (!ok) {
        const int n_inputs = ws->N;
        meas_workspace_free(ws);
        return grok_fail(e, GROK_ENOMEM,
                         "measures: out of memory for the workspace (%zu MB of buffers plus "
                         "activations for %d inputs)",
                         bytes >> 20, n_inputs);
    }
    if (ws->fourier && D > 0) {
        int rc = algo_workspace_alloc(&ws->algo, m, t, ws->acts, ws->Lx, e);
        if (rc != GROK_OK) {
            meas_workspace_free(ws);
            return rc;
        }
    }
    memcpy(ws->tokens, t->tokens, N * (size_t)ws->T * sizeof(int32_t));
    if (ws->fourier && ws->own_basis) {
        fourier_basis(ws->F, p);
        fourier_sum_dirs(ws->Dsum, ws->F, p);
    }
    if (ws->group)
        irrep_basis(&ws->irr, ws->irB);
    if (e)
        e->msg[0] = '\0';
    *out = ws;
    return GROK_OK;
}

int meas_workspace_alloc(meas_workspace **out, const model *m, const task_data *t,
                         model_acts *acts, grok_err *e)
{
    return ws_alloc_all(out, m, t, acts, NULL, e);
}

int meas_workspace_alloc_sharing(meas_workspace **out, const model *m, const task_data *t,
                                 const meas_workspace *share, grok_err *e)
{
    return ws_alloc_all(out, m, t, NULL, share, e);
}

int meas_workspace_drop_r1(meas_workspace *ws, grok_err *e)
{
    if (!ws->fourier || !ws->r1)
        return GROK_OK;
    const int width = ws->H > 1 ? ws->H : 1;
    const size_t n = (size_t)ws->p * ws->p * (size_t)width;
    size_t bytes = 0;
    double *a = ws_alloc(n, sizeof(double), &bytes), *b = ws_alloc(n, sizeof(double), &bytes),
           *c = ws_alloc(n, sizeof(double), &bytes);
    if (!a || !b || !c) {
        grok_free(a), grok_free(b), grok_free(c);
        return grok_fail(e, GROK_ENOMEM, "measures: out of memory (%zu MB)", bytes >> 20);
    }
    grok_free(ws->bufA), grok_free(ws->bufB), grok_free(ws->bufC);
    ws->bufA = a, ws->bufB = b, ws->bufC = c;
    ws->width = width;
    ws->r1 = 0;
    return GROK_OK;
}

unsigned meas_workspace_have(const meas_workspace *ws) { return ws->have; }

void meas_workspace_set_key_rule(meas_workspace *ws, meas_key_rule rule, double share)
{
    GROK_ASSERT(rule >= 0 && rule < MEAS_KEY_RULE_COUNT && share > 0 && share <= 1);
    ws->key_rule = rule;
    ws->key_share = share;
}
int meas_fourier_applies(const meas_workspace *ws) { return ws->fourier; }
const char *meas_fourier_reason(const meas_workspace *ws) { return ws->reason; }

/* ------------------------------------------------------------------------ */
/* passes */

/* 1 when a and b have the same shapes and arithmetic (init_scale aside) */
static int same_model(const model_config *a, const model_config *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == MODEL_TRANSFORMER) {
        const tfm_config *x = &a->tfm, *y = &b->tfm;
        return x->n_layers == y->n_layers && x->d_model == y->d_model &&
               x->n_heads == y->n_heads && x->d_head == y->d_head && x->d_mlp == y->d_mlp &&
               x->d_vocab == y->d_vocab && x->d_vocab_out == y->d_vocab_out &&
               x->n_ctx == y->n_ctx && x->act == y->act && x->layernorm == y->layernorm &&
               x->normed_residual == y->normed_residual &&
               x->attn_bias == y->attn_bias && x->bidirectional == y->bidirectional &&
               x->attn_uniform == y->attn_uniform;
    }
    const mlp_config *x = &a->mlp, *y = &b->mlp;
    return x->n_ctx == y->n_ctx && x->d_vocab == y->d_vocab && x->d_vocab_out == y->d_vocab_out &&
           x->d_embed == y->d_embed && x->combine == y->combine && x->n_layers == y->n_layers &&
           x->d_hidden == y->d_hidden && x->act == y->act;
}

static int ws_check_model(const meas_workspace *ws, const model *m, grok_err *e)
{
    if (!same_model(&m->cfg, &ws->mc))
        return grok_fail(e, GROK_EINVAL,
                         "measures: the model's config differs from the workspace's");
    return GROK_OK;
}

/* The forward over the inputs [r0, r0 + n) into ws->acts. */
static void ws_forward_block(meas_workspace *ws, const model *m, int r0, int n)
{
    model_forward(m, ws->acts, ws->tokens + (size_t)r0 * ws->T, n);
}

/* The forward over all inputs, block by block: the logits in double and (a
 * transformer) every layer's attention from the last position. */
static void ws_forward(meas_workspace *ws, const model *m)
{
    const size_t Vo = (size_t)ws->Vo, HT = (size_t)ws->H * ws->T;
    for (int r0 = 0; r0 < ws->N; r0 += ws->rows) {
        const int n = ws->N - r0 < ws->rows ? ws->N - r0 : ws->rows;
        ws_forward_block(ws, m, r0, n);
        const float *lg = model_logits(ws->acts);
        double *dst = ws->logits + (size_t)r0 * Vo;
        for (size_t i = 0; i < (size_t)n * Vo; i++)
            dst[i] = lg[i];
        if (ws->transformer)
            for (int l = 0; l < ws->L; l++)
                tfm_attn_last(model_acts_tfm(ws->acts), l,
                              ws->attn + ((size_t)l * ws->N + r0) * HT);
    }
    ws->have_forward = 1;
    ws->have_neurons = 0;
}

/* layer l's attention from the last position, [N, H, T], of the last forward */
static const float *ws_attn(const meas_workspace *ws, int l)
{
    return ws->attn + (size_t)l * ws->N * ws->H * ws->T;
}

/* R1 over the neurons of the last hidden layer of model m, block by block of
 * neurons (each block's columns gathered from forwards over the inputs, in
 * input order), into nbest/nfrac; then the key frequencies and clusters into
 * out. */
static void ws_neurons(meas_workspace *ws, const model *m, meas_freqs *out)
{
    const int N = ws->N, p = ws->p, K = ws->K, M = ws->M;
    const int block = M < MEAS_NEURON_BLOCK ? M : MEAS_NEURON_BLOCK;
    for (int n0 = 0; n0 < M; n0 += block) {
        const int c = M - n0 < block ? M - n0 : block;
        double *X = ws->bufA, *mu = ws->scratch;
        for (int j = 0; j < c; j++)
            mu[j] = 0;
        for (int r0 = 0; r0 < N; r0 += ws->rows) {
            const int n = N - r0 < ws->rows ? N - r0 : ws->rows;
            int width;
            ws_forward_block(ws, m, r0, n);
            const float *post = model_hidden_last(ws->acts, &width); /* [n, M] */
            GROK_ASSERT(width == M);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < c; j++) {
                    const double x = post[(size_t)i * M + n0 + j];
                    X[(size_t)(r0 + i) * c + j] = x;
                    mu[j] += x;
                }
        }
        for (int j = 0; j < c; j++)
            mu[j] /= N;
        for (int r = 0; r < N; r++)
            for (int j = 0; j < c; j++)
                X[(size_t)r * c + j] -= mu[j];
        fourier_2d(ws->bufB, X, ws->bufC, ws->F, p, c, 0);
        meas_neuron_fve(ws->nbest + n0, ws->nfrac + n0, ws->bufB, p, c);
    }
    ws->have_neurons = 1;
    meas_freqs_from_neurons(out, ws->nbest, ws->nfrac, M, K, ws->key_rule, ws->key_share);
}

int meas_key_freqs(meas_workspace *ws, const model *m, meas_freqs *out, grok_err *e)
{
    if (!ws->fourier)
        return grok_fail(e, GROK_EINVAL, "measures: no key frequencies: %s", ws->reason);
    if (!ws->r1)
        return grok_fail(e, GROK_EINVAL, "measures: this workspace shares another's tables and "
                                         "has no room for rule R1; give the key frequencies");
    int rc = ws_check_model(ws, m, e);
    if (rc != GROK_OK)
        return rc;
    ws_forward(ws, m);
    ws_neurons(ws, m, out);
    return GROK_OK;
}

/* rows of component norms: out[i] = |X[i, :]|, X [rows, cols] */
static void row_norms(double *out, const double *X, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        double s = 0;
        for (int j = 0; j < cols; j++)
            s += X[(size_t)i * cols + j] * X[(size_t)i * cols + j];
        out[i] = sqrt(s);
    }
}

static int check_keys(const meas_workspace *ws, const meas_freqs *key, grok_err *e)
{
    if (key->n < 0 || key->n > ws->K)
        return grok_fail(e, GROK_EINVAL, "measures: %d key frequencies; p = %d has %d", key->n,
                         ws->p, ws->K);
    for (int i = 0; i < key->n; i++)
        if (key->k[i] < 1 || key->k[i] > ws->K || (i > 0 && key->k[i] <= key->k[i - 1]))
            return grok_fail(e, GROK_EINVAL,
                             "measures: key frequency %d (position %d) must be in 1..%d and "
                             "above the previous one",
                             key->k[i], i, ws->K);
    return GROK_OK;
}

static int check_key_irreps(const meas_workspace *ws, const meas_freqs *key, grok_err *e)
{
    if (key->n_irreps < 0 || key->n_irreps > ws->irr.n)
        return grok_fail(e, GROK_EINVAL, "measures: %d key irreps; the group has %d",
                         key->n_irreps, ws->irr.n);
    for (int i = 0; i < key->n_irreps; i++)
        if (key->irreps[i] < 1 || key->irreps[i] >= ws->irr.n ||
            (i > 0 && key->irreps[i] <= key->irreps[i - 1]))
            return grok_fail(e, GROK_EINVAL,
                             "measures: key irrep %d (position %d) must be in 1..%d and above "
                             "the previous one",
                             key->irreps[i], i, ws->irr.n - 1);
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* one pass: what the rows of the table share, each computed on first use */

struct meas_pass {
    meas_workspace *ws;
    const model *m;
    const task_data *t;
    const meas_freqs *key; /* given, or the model's own once R1 ran */
    meas_freqs own;
    int have_PL, have_spec_e, have_spec_l, have_pca, have_excl_freq, have_coefs;
    double circularity;
    /* group tasks */
    const meas_freqs *gkey; /* given key irreps, or the model's own once the rule ran */
    meas_freqs gown;
    int have_glogit, have_gPL;
    double glogit[IRREP_MAX]; /* logit fraction of each irrep */
};

/* the key-irrep rule on the logit fractions frac [n] into out's irrep fields */
static void key_irreps_rule(const double *frac, int n, meas_freqs *out)
{
    out->n_irreps = 0;
    out->n_irrep_all = n;
    for (int i = 0; i < n; i++) {
        out->irrep_logit[i] = frac[i];
        if (i > 0 && frac[i] >= MEAS_KEY_IRREP_SHARE)
            out->irreps[out->n_irreps++] = i;
    }
}

/* the logit fraction of each irrep (group tasks) */
static const double *pass_glogit(meas_pass *ps)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_glogit) {
        meas_irrep_logit_fractions(ps->glogit, ws->logits, ws->Vo, ws->grp->mul, ws->grp->inv,
                                   ws->irB, &ws->irr, ws->irA, ws->irC);
        ps->have_glogit = 1;
    }
    return ps->glogit;
}

/* the key irreps: the given ones, else the rule on this forward */
static const meas_freqs *pass_gkey(meas_pass *ps)
{
    if (!ps->gkey) {
        memset(&ps->gown, 0, sizeof ps->gown);
        key_irreps_rule(pass_glogit(ps), ps->ws->irr.n, &ps->gown);
        ps->gkey = &ps->gown;
    }
    return ps->gkey;
}

/* PL: the logits projected on the key irreps' functions of x*y */
static const double *pass_gPL(meas_pass *ps)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_gPL) {
        const meas_freqs *key = pass_gkey(ps);
        meas_irrep_project(ws->PL, ws->logits, ws->Vo, ws->grp->mul, ws->grp->inv, ws->irB,
                           &ws->irr, key->irreps, key->n_irreps, ws->irA, ws->irC);
        ps->have_gPL = 1;
    }
    return ws->PL;
}

/* the key frequencies: the given ones, else rule R1 on this forward */
static const meas_freqs *pass_key(meas_pass *ps)
{
    if (!ps->key) {
        ws_neurons(ps->ws, ps->m, &ps->own);
        ps->key = &ps->own;
    }
    return ps->key;
}

/* PL: the logits projected on the key frequencies' sum directions */
static const double *pass_PL(meas_pass *ps)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_PL) {
        const meas_freqs *key = pass_key(ps);
        meas_project_sum(ws->PL, ws->logits, ws->Dsum, key->k, key->n, ws->p, ws->Vo, ws->coef);
        ps->have_PL = 1;
    }
    return ws->PL;
}

/* spec_e [p]: the component norms of E = F W_E[:p] */
static const double *pass_spec_e(meas_pass *ps)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_spec_e) {
        const int p = ws->p, D = ws->D;
        const float *W_E = ps->m->params + model_find(ps->m, "embed.W_E")->offset;
        for (size_t i = 0; i < (size_t)p * D; i++)
            ws->WE[i] = W_E[i];
        gsl_matrix_const_view Fv = gsl_matrix_const_view_array(ws->F, (size_t)p, (size_t)p);
        gsl_matrix_const_view WEv = gsl_matrix_const_view_array(ws->WE, (size_t)p, (size_t)D);
        gsl_matrix_view Ev = gsl_matrix_view_array(ws->E, (size_t)p, (size_t)D);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Fv.matrix, &WEv.matrix, 0.0, &Ev.matrix);
        row_norms(ws->spec_e, ws->E, p, D);
        ps->have_spec_e = 1;
    }
    return ws->spec_e;
}

/* spec_l [p]: the component norms of F W_L, W_L = W_U^T W_out^T [p, M]
 * (TransformerLens layouts: W_U [D, Vo], W_out [M, D] of the last layer) */
static const double *pass_spec_l(meas_pass *ps)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_spec_l) {
        const tfm_model *tm = model_tfm(ps->m);
        const int p = ws->p, D = tm->cfg.d_model, M = ws->M, Vo = ws->Vo;
        const float *W_U = tm->p.W_U, *W_out = tm->p.blocks[ws->L - 1].W_out;
        for (size_t i = 0; i < (size_t)D * Vo; i++)
            ws->WU[i] = W_U[i];
        for (size_t i = 0; i < (size_t)M * D; i++)
            ws->Wout[i] = W_out[i];
        gsl_matrix_const_view Fv = gsl_matrix_const_view_array(ws->F, (size_t)p, (size_t)p);
        gsl_matrix_const_view WUv = gsl_matrix_const_view_array(ws->WU, (size_t)D, (size_t)Vo);
        gsl_matrix_const_view Wov = gsl_matrix_const_view_array(ws->Wout, (size_t)M, (size_t)D);
        gsl_matrix_view WLv = gsl_matrix_view_array(ws->WL, (size_t)p, (size_t)M);
        gsl_matrix_view FWLv = gsl_matrix_view_array(ws->FWL, (size_t)p, (size_t)M);
        gsl_blas_dgemm(CblasTrans, CblasTrans, 1.0, &WUv.matrix, &Wov.matrix, 0.0, &WLv.matrix);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Fv.matrix, &WLv.matrix, 0.0,
                       &FWLv.matrix);
        row_norms(ws->spec_l, ws->FWL, p, M);
        ps->have_spec_l = 1;
    }
    return ws->spec_l;
}

/* out->excluded_freq: the per-frequency excluded loss, train rows */
static void pass_excluded_freq(meas_pass *ps, meas_row *out)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_excl_freq) {
        meas_excluded_per_freq(out->excluded_freq, ws->logits, ws->p, ps->t->label, ps->t->order,
                               ps->t->n_train, ws->xscr, ws->iscr);
        out->n_freq = ws->K;
        ps->have_excl_freq = 1;
    }
}

/* out->alpha, cos_sim, logit_norm, coef_residual */
static void pass_coefs(meas_pass *ps, meas_row *out)
{
    meas_workspace *ws = ps->ws;
    if (!ps->have_coefs) {
        double res;
        GROK_ASSERT(ws->Vo == ws->p);
        meas_coefs(out->alpha, &out->logit_norm, &res, ws->logits, ws->p, ws->xscr);
        const double nrm = out->logit_norm;
        for (int k = 0; k < ws->K; k++)
            out->cos_sim[k] = nrm > 0 ? out->alpha[k] / nrm : 0;
        out->coef_residual = nrm > 0 ? res / nrm : 0;
        out->n_freq = ws->K;
        ps->have_coefs = 1;
    }
}

/* the double field of out that column i of d names */
static double *col_f64(meas_row *out, const meas_desc *d, int i)
{
    GROK_ASSERT(i < d->n_cols && d->cols[i].kind == MEAS_COL_F64);
    return (double *)((char *)out + d->cols[i].offset);
}

/* ------------------------------------------------------------------------ */
/* the compute functions of the table's rows */

static void m_losses(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    const meas_workspace *ws = ps->ws;
    const task_data *t = ps->t;
    int c;
    out->loss_train = meas_ce(ws->logits, ws->Vo, t->label, t->order, t->n_train, &c);
    out->acc_train = (double)c / t->n_train;
    out->loss_test = meas_ce(ws->logits, ws->Vo, t->label, t->order + t->n_train, t->n_test, &c);
    out->acc_test = (double)c / t->n_test;
}

/* Softmax Collapse (Prieto et al. 2025; docs/measures.md): over the training
 * rows, the share whose sum of exp(x_j - max x) is exactly 1 and the share
 * whose cross-entropy is exactly 0, with the logits, exps, sums and logs in
 * float32 (as PyTorch's float32 cross_entropy) and in float64.  The logits
 * in ws are the float32 forward's, so the float32 values are exact. */
static void m_softmax_collapse(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    const meas_workspace *ws = ps->ws;
    const task_data *t = ps->t;
    const int Vo = ws->Vo, n = t->n_train;
    long sc32 = 0, z32 = 0, sc64 = 0, z64 = 0;
    for (int i = 0; i < n; i++) {
        const int32_t r = t->order[i];
        const double *x = ws->logits + (size_t)r * (size_t)Vo;
        const int y = t->label[r];
        float mx32 = (float)x[0];
        double mx64 = x[0];
        for (int j = 1; j < Vo; j++) {
            if ((float)x[j] > mx32)
                mx32 = (float)x[j];
            if (x[j] > mx64)
                mx64 = x[j];
        }
        float s32 = 0.0f;
        double s64 = 0.0;
        for (int j = 0; j < Vo; j++) {
            s32 += expf((float)x[j] - mx32);
            s64 += exp(x[j] - mx64);
        }
        const float l32 = -(((float)x[y] - mx32) - logf(s32));
        const double l64 = -((x[y] - mx64) - log(s64));
        sc32 += s32 == 1.0f;
        z32 += l32 == 0.0f;
        sc64 += s64 == 1.0;
        z64 += l64 == 0.0;
    }
    out->softmax_collapse_f32 = n > 0 ? (double)sc32 / n : NAN;
    out->zero_loss_f32 = n > 0 ? (double)z32 / n : NAN;
    out->softmax_collapse_f64 = n > 0 ? (double)sc64 / n : NAN;
    out->zero_loss_f64 = n > 0 ? (double)z64 / n : NAN;
}

static void m_restricted(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    meas_workspace *ws = ps->ws;
    const task_data *t = ps->t;
    const int N = ws->N, Vo = ws->Vo;
    int c;
    meas_restricted_logits(ws->Lx, ws->logits, pass_PL(ps), N, Vo, ws->coef);
    out->loss_restricted = meas_ce(ws->Lx, Vo, t->label, NULL, N, &c);
    out->acc_restricted = (double)c / N;
    out->loss_restricted_train = meas_ce(ws->Lx, Vo, t->label, t->order, t->n_train, NULL);
}

static void m_excluded(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    meas_workspace *ws = ps->ws;
    const task_data *t = ps->t;
    int c;
    meas_excluded_logits(ws->Lx, ws->logits, pass_PL(ps), ws->N, ws->Vo);
    out->loss_excluded = meas_ce(ws->Lx, ws->Vo, t->label, t->order, t->n_train, &c);
    out->acc_excluded = (double)c / t->n_train;
}

/* arg of the Gini rows: the spectrum and the components counted */
enum { GINI_WE = 0, GINI_WL = 4, GINI_ALL = 0, GINI_NONCONST = 1, GINI_FREQ = 2 };

static void m_gini(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    meas_workspace *ws = ps->ws;
    const double *c = (d->arg & GINI_WL) ? pass_spec_l(ps) : pass_spec_e(ps);
    double *v = col_f64(out, d, 0);
    switch (d->arg & 3) {
    case GINI_ALL:
        *v = meas_gini(c, ws->p, ws->scratch);
        break;
    case GINI_NONCONST:
        *v = meas_gini(c + 1, ws->p - 1, ws->scratch);
        break;
    default: /* GINI_FREQ */
        fourier_freq_norms(ws->fn, c, ws->p);
        *v = meas_gini(ws->fn + 1, ws->K, ws->scratch);
    }
}

static void m_weights(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    const model *m = ps->m;
    GROK_ASSERT(m->n_tensors <= MEAS_MAX_TENSORS);
    out->n_tensors = m->n_tensors;
    out->sum_sq_weights = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const float *x = m->params + m->tensors[i].offset;
        double s = 0;
        for (size_t j = 0; j < m->tensors[i].numel; j++)
            s += (double)x[j] * x[j];
        out->sq[i] = s;
        out->sum_sq_weights += s;
    }
}

static void m_key_freqs(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    const meas_freqs *key = pass_key(ps);
    out->n_key_freqs = key->n;
    memcpy(out->key_freqs, key->k, (size_t)key->n * sizeof *key->k);
}

/* irreps.tsv: the fractions of W_E's rows, W_U's columns and the logits */
static void m_irreps(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    meas_workspace *ws = ps->ws;
    const int G = ws->G, Vo = ws->Vo;
    const float *W_E = ps->m->params + model_find(ps->m, "embed.W_E")->offset;
    const float *W_U = ps->m->params + model_find(ps->m, "unembed.W_U")->offset;
    for (size_t i = 0; i < (size_t)G * ws->DE; i++)
        ws->irX[i] = W_E[i];
    meas_irrep_fractions(out->irrep_embed, ws->irX, G, ws->DE, ws->irB, &ws->irr, ws->irC);
    for (int z = 0; z < G; z++)
        for (int h = 0; h < ws->HU; h++)
            ws->irX[(size_t)z * ws->HU + h] = W_U[(size_t)h * Vo + z];
    meas_irrep_fractions(out->irrep_unembed, ws->irX, G, ws->HU, ws->irB, &ws->irr, ws->irC);
    memcpy(out->irrep_logit, pass_glogit(ps), (size_t)ws->irr.n * sizeof(double));
    out->n_irreps = ws->irr.n;
}

static void m_restricted_irrep(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    meas_workspace *ws = ps->ws;
    const task_data *t = ps->t;
    const int N = ws->N, Vo = ws->Vo;
    const double *PL = pass_gPL(ps);
    meas_restricted_logits(ws->Lx, ws->logits, PL, N, Vo, ws->coef);
    out->loss_restricted_irrep = meas_ce(ws->Lx, Vo, t->label, NULL, N, NULL);
    meas_excluded_logits(ws->Lx, ws->logits, PL, N, Vo);
    out->loss_excluded_irrep = meas_ce(ws->Lx, Vo, t->label, t->order, t->n_train, NULL);
}

static void m_key_irreps(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    const meas_freqs *key = pass_gkey(ps);
    out->n_key_irreps = key->n_irreps;
    memcpy(out->key_irreps, key->irreps, (size_t)key->n_irreps * sizeof *key->irreps);
}

static void m_embed(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    fourier_freq_norms(out->embed, pass_spec_e(ps), ps->ws->p);
    out->n_embed = ps->ws->K + 1;
}

static void m_dist_irrel(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    const meas_workspace *ws = ps->ws;
    out->dist_irrel = algo_dist_irrel(ws->logits, ws->Vo, ps->t->label, ws->p, ws->bufA);
}

static void m_grad_sym(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    out->grad_sym = algo_model_grad_sym(ps->ws->algo, ps->m);
}

/* the PCA of W_E's token rows, once per pass; returns the circularity */
static double pass_circularity(meas_pass *ps)
{
    if (!ps->have_pca) {
        ps->circularity = algo_model_circularity(ps->ws->algo, ps->m);
        ps->have_pca = 1;
    }
    return ps->circularity;
}

static void m_circularity(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    out->circularity = pass_circularity(ps);
}

static void m_logit_fve(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    pass_circularity(ps);
    algo_model_fve(ps->ws->algo, ps->m, &out->fve_clock, &out->fve_pizza, NULL);
}

static void m_excluded_freq(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    pass_excluded_freq(ps, out);
}

static void m_excluded_max(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    pass_excluded_freq(ps, out);
    out->loss_excluded_max = out->excluded_freq[0];
    for (int k = 1; k < out->n_freq; k++)
        out->loss_excluded_max = fmax(out->loss_excluded_max, out->excluded_freq[k]);
}

static void m_excluded_3d(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    meas_workspace *ws = ps->ws;
    const meas_freqs *key = pass_key(ps);
    pass_coefs(ps, out);
    meas_excluded_3d_logits(ws->Lx, ws->logits, out->alpha, key->k, key->n, ws->p, ws->xscr);
    out->loss_excluded_3d = meas_ce(ws->Lx, ws->Vo, ps->t->label, ps->t->order, ps->t->n_train,
                                    NULL);
}

static void m_coefs(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    pass_coefs(ps, out);
}

/* each head of the last layer: the attention from the last position to
 * position 0 over the grid, centred, 2-D transformed, scored as a neuron */
static void m_heads(meas_pass *ps, const meas_desc *d, meas_row *out)
{
    (void)d;
    meas_workspace *ws = ps->ws;
    const int N = ws->N, H = ws->H, T = ws->T;
    GROK_ASSERT(H <= MEAS_MAX_HEADS && H <= ws->width);
    const float *attn = ws_attn(ws, ws->L - 1);
    double *X = ws->bufA, *mu = ws->scratch;
    for (int r = 0; r < N; r++)
        for (int h = 0; h < H; h++)
            X[(size_t)r * H + h] = attn[((size_t)r * H + h) * T];
    column_means(mu, X, N, H);
    for (int r = 0; r < N; r++)
        for (int h = 0; h < H; h++)
            X[(size_t)r * H + h] -= mu[h];
    fourier_2d(ws->bufB, X, ws->bufC, ws->F, ws->p, H, 0);
    meas_neuron_fve(out->head_freq, out->head_frac, ws->bufB, ws->p, H);
    out->n_heads = H;
}

/* ------------------------------------------------------------------------ */
/* the table */

#define COL(f) {#f, MEAS_COL_F64, offsetof(meas_row, f)}
#define COLS(...) (const meas_col[]){__VA_ARGS__}, (int)(sizeof((const meas_col[]){__VA_ARGS__}) / sizeof(meas_col))
#define GRID MEAS_NEED_ZP_GRID
#define TFM MEAS_NEED_TRANSFORMER
#define EMB MEAS_NEED_EMBED
#define GRP MEAS_NEED_GROUP

const meas_desc meas_table[] = {
    {"losses", MEAS_FILE_MEASURES, 0,
     COLS(COL(loss_train), COL(loss_test), COL(acc_train), COL(acc_test)), m_losses, 0,
     "cross-entropy and accuracy on the training and test rows"},
    {"restricted", MEAS_FILE_MEASURES, GRID,
     COLS(COL(loss_restricted), COL(loss_restricted_train), COL(acc_restricted)), m_restricted, 0,
     "logits on the key frequencies' sum directions plus the mean logit: CE on all inputs and "
     "the training rows, accuracy on all inputs"},
    {"excluded", MEAS_FILE_MEASURES, GRID, COLS(COL(loss_excluded), COL(acc_excluded)),
     m_excluded, 0, "logits without the key frequencies' sum directions, training rows"},
    {"gini_WE", MEAS_FILE_MEASURES, GRID | EMB, COLS(COL(gini_WE)), m_gini, GINI_WE | GINI_ALL,
     "Gini of the p Fourier component norms of W_E"},
    {"gini_WL", MEAS_FILE_MEASURES, GRID | TFM, COLS(COL(gini_WL)), m_gini, GINI_WL | GINI_ALL,
     "Gini of the p Fourier component norms of W_L = W_U^T W_out"},
    {"gini_WE_nonconst", MEAS_FILE_MEASURES, GRID | EMB, COLS(COL(gini_WE_nonconst)), m_gini,
     GINI_WE | GINI_NONCONST, "Gini of W_E's p - 1 non-constant component norms"},
    {"gini_WL_nonconst", MEAS_FILE_MEASURES, GRID | TFM, COLS(COL(gini_WL_nonconst)), m_gini,
     GINI_WL | GINI_NONCONST, "Gini of W_L's p - 1 non-constant component norms"},
    {"gini_WE_freq", MEAS_FILE_MEASURES, GRID | EMB, COLS(COL(gini_WE_freq)), m_gini,
     GINI_WE | GINI_FREQ, "Gini of W_E's K per-frequency norms"},
    {"gini_WL_freq", MEAS_FILE_MEASURES, GRID | TFM, COLS(COL(gini_WL_freq)), m_gini,
     GINI_WL | GINI_FREQ, "Gini of W_L's K per-frequency norms"},
    {"weights", MEAS_FILE_MEASURES, 0,
     COLS(COL(sum_sq_weights), {"sq_", MEAS_COL_PER_TENSOR, offsetof(meas_row, sq)}),
     m_weights, 0, "sum of squared weights, total and per tensor of the parameter table"},
    {"key_freqs", MEAS_FILE_MEASURES, GRID,
     COLS({"n_key_freqs", MEAS_COL_INT, offsetof(meas_row, n_key_freqs)},
          {"key_freqs", MEAS_COL_FREQ_LIST, offsetof(meas_row, key_freqs)}),
     m_key_freqs, 0,
     "the key frequencies the row used (measures.key_freq_rule on the last hidden layer)"},
    {"excluded_max", MEAS_FILE_MEASURES, GRID, COLS(COL(loss_excluded_max)), m_excluded_max, 0,
     "the largest per-frequency excluded loss over k = 1..K (model-independent)"},
    {"excluded_3d", MEAS_FILE_MEASURES, GRID, COLS(COL(loss_excluded_3d)), m_excluded_3d, 0,
     "logits without alpha_k C_k (C_k ~ cos(w_k(a+b-c))) of the key frequencies, training rows"},
    {"coef_residual", MEAS_FILE_MEASURES, GRID, COLS(COL(coef_residual)), m_coefs, 0,
     "|L - sum over k = 1..K of alpha_k C_k|_F / |L|_F"},
    {"heads", MEAS_FILE_MEASURES, GRID | TFM,
     COLS({"head_freq_", MEAS_COL_HEAD_INT, offsetof(meas_row, head_freq)},
          {"head_frac_", MEAS_COL_HEAD_F64, offsetof(meas_row, head_frac)}),
     m_heads, 0,
     "per head of the last layer: best frequency and fraction explained (as R1) of the attention "
     "from the last position to position 0 over the grid"},
    {"dist_irrel", MEAS_FILE_MEASURES, GRID, COLS(COL(dist_irrel)), m_dist_irrel, 0,
     "distance irrelevance: mean over d of the std over s of the correct-class logit at "
     "(s, d) = (a+b, a-b), over its std"},
    {"grad_sym", MEAS_FILE_MEASURES, GRID | EMB, COLS(COL(grad_sym)), m_grad_sym, 0,
     "gradient symmetricity: mean cosine of d logit_c / d E_a and d logit_c / d E_b over 100 "
     "fixed triples"},
    {"circularity", MEAS_FILE_MEASURES, GRID | EMB, COLS(COL(circularity)), m_circularity, 0,
     "circularity of W_E's first 4 principal components"},
    {"logit_fve", MEAS_FILE_MEASURES, GRID | EMB, COLS(COL(fve_clock), COL(fve_pizza)),
     m_logit_fve, 0,
     "logit variance explained by the clock and pizza templates, W_E restricted to its "
     "leading PCA circle"},
    {"embed_freq", MEAS_FILE_EMBED, GRID | EMB,
     COLS({"freq_", MEAS_COL_PER_FREQ, offsetof(meas_row, embed)}), m_embed, 0,
     "W_E norm per frequency: constant, then 1..K"},
    {"excluded_freq", MEAS_FILE_EXCLUDED_FREQ, GRID,
     COLS({"freq_", MEAS_COL_PER_K, offsetof(meas_row, excluded_freq)}), m_excluded_freq, 0,
     "excluded loss of each frequency k = 1..K alone (sum directions of k removed), training "
     "rows"},
    {"coefs", MEAS_FILE_COEFS, GRID,
     COLS(COL(logit_norm), {"alpha_", MEAS_COL_PER_K, offsetof(meas_row, alpha)},
          {"cos_", MEAS_COL_PER_K, offsetof(meas_row, cos_sim)}),
     m_coefs, 0, "|L|_F, alpha_k = <C_k, L>_F and alpha_k / |L|_F for k = 1..K"},
    {"irreps", MEAS_FILE_IRREPS, GRP,
     COLS({"embed_", MEAS_COL_PER_IRREP, offsetof(meas_row, irrep_embed)},
          {"unembed_", MEAS_COL_PER_IRREP, offsetof(meas_row, irrep_unembed)},
          {"logit_", MEAS_COL_PER_IRREP, offsetof(meas_row, irrep_logit)}),
     m_irreps, 0,
     "fraction of the variance of W_E's element rows, W_U's element columns and the logits "
     "(as functions of x*y) in each irrep of the group"},
    {"restricted_irrep", MEAS_FILE_MEASURES, GRP,
     COLS(COL(loss_restricted_irrep), COL(loss_excluded_irrep)), m_restricted_irrep, 0,
     "logits on / off the key irreps' functions of x*y: restricted CE on all inputs (plus the "
     "mean logit), excluded CE on the training rows"},
    {"key_irreps", MEAS_FILE_MEASURES, GRP,
     COLS({"key_irreps", MEAS_COL_IRREP_LIST, offsetof(meas_row, key_irreps)}), m_key_irreps, 0,
     "the key irreps the row used (non-trivial irreps with >= 5% of the logit variance)"},
    {"softmax_collapse", MEAS_FILE_MEASURES, 0,
     COLS(COL(softmax_collapse_f32), COL(zero_loss_f32), COL(softmax_collapse_f64),
          COL(zero_loss_f64)),
     m_softmax_collapse, 0,
     "Softmax Collapse: share of training rows whose sum of exp(x - max x) is exactly 1, and "
     "whose cross-entropy is exactly 0, in float32 and in float64"},
};
const int meas_table_len = (int)(sizeof meas_table / sizeof meas_table[0]);

#undef COL
#undef COLS
#undef GRID
#undef TFM
#undef EMB
#undef GRP

int meas_compute(meas_workspace *ws, const model *m, const task_data *t, const meas_freqs *key,
                 meas_row *out, grok_err *e)
{
    int rc = ws_check_model(ws, m, e);
    if (rc != GROK_OK)
        return rc;
    if (t->n_all != ws->N || t->n_ctx != ws->T || (ws->fourier && t->cfg.p != ws->p))
        return grok_fail(e, GROK_EINVAL,
                         "measures: task (p = %d, %d inputs of %d tokens) differs from the "
                         "workspace's (p = %d, %d inputs of %d tokens)",
                         t->cfg.p, t->n_all, t->n_ctx, ws->p, ws->N, ws->T);
    if (ws->fourier && key && (rc = check_keys(ws, key, e)) != GROK_OK)
        return rc;
    if (ws->fourier && !key && !ws->r1)
        return grok_fail(e, GROK_EINVAL, "measures: this workspace shares another's tables and "
                                         "has no room for rule R1; give the key frequencies");
    if (ws->group && key && (rc = check_key_irreps(ws, key, e)) != GROK_OK)
        return rc;
    const long epoch = out->epoch;
    memset(out, 0, sizeof *out);
    out->epoch = epoch;
    out->have = ws->have;
    out->fourier = ws->fourier;
    if (ws->group) {
        out->group_id = t->cfg.group;
        out->n_irreps = ws->irr.n;
    }

    ws_forward(ws, m);
    meas_pass ps = {.ws = ws,
                    .m = m,
                    .t = t,
                    .key = ws->fourier ? key : NULL,
                    .gkey = ws->group ? key : NULL};
    for (int i = 0; i < meas_table_len; i++)
        if (meas_applies(&meas_table[i], ws->have))
            meas_table[i].compute(&ps, &meas_table[i], out);
    return GROK_OK;
}

int meas_key_irreps(meas_workspace *ws, const model *m, meas_freqs *out, grok_err *e)
{
    if (!ws->group)
        return grok_fail(e, GROK_EINVAL, "measures: no key irreps: not a group task with irreps");
    int rc = ws_check_model(ws, m, e);
    if (rc != GROK_OK)
        return rc;
    ws_forward(ws, m);
    double frac[IRREP_MAX];
    meas_irrep_logit_fractions(frac, ws->logits, ws->Vo, ws->grp->mul, ws->grp->inv, ws->irB,
                               &ws->irr, ws->irA, ws->irC);
    key_irreps_rule(frac, ws->irr.n, out);
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* run-directory text */

int meas_file_applies(unsigned have, meas_file file)
{
    for (int i = 0; i < meas_table_len; i++)
        if (meas_table[i].file == file && meas_applies(&meas_table[i], have))
            return 1;
    return 0;
}

void meas_desc_columns(const meas_desc *d, const model *m, const task_data *t, sbuf *out)
{
    for (int i = 0; i < d->n_cols; i++) {
        const meas_col *c = &d->cols[i];
        if (c->kind == MEAS_COL_PER_TENSOR)
            for (int j = 0; j < m->n_tensors; j++)
                sbuf_printf(out, "\t%s%s", c->name, m->tensors[j].name);
        else if (c->kind == MEAS_COL_PER_FREQ) {
            sbuf_puts(out, "\tconst");
            for (int k = 1; k <= fourier_n_freqs(t->cfg.p); k++)
                sbuf_printf(out, "\t%s%d", c->name, k);
        } else if (c->kind == MEAS_COL_PER_IRREP) {
            char name[IRREP_NAME_MAX];
            for (int k = 0; k < irrep_count(t->grp.family, t->grp.n); k++) {
                irrep_name(t->grp.family, t->grp.n, k, name, sizeof name);
                sbuf_printf(out, "\t%s%s", c->name, name);
            }
        } else if (c->kind == MEAS_COL_PER_K) {
            for (int k = 1; k <= fourier_n_freqs(t->cfg.p); k++)
                sbuf_printf(out, "\t%s%d", c->name, k);
        } else if (c->kind == MEAS_COL_HEAD_INT || c->kind == MEAS_COL_HEAD_F64) {
            const tfm_model *tm = model_tfm(m);
            for (int h = 0; h < (tm ? tm->cfg.n_heads : 0); h++)
                sbuf_printf(out, "\t%s%d", c->name, h);
        } else
            sbuf_printf(out, "\t%s", c->name);
    }
}

void meas_desc_column_names(const meas_desc *d, sbuf *out)
{
    for (int i = 0; i < d->n_cols; i++) {
        const meas_col *c = &d->cols[i];
        if (c->kind == MEAS_COL_PER_TENSOR)
            sbuf_printf(out, "\t%s<tensor>", c->name);
        else if (c->kind == MEAS_COL_PER_FREQ)
            sbuf_printf(out, "\tconst\t%s<k>", c->name);
        else if (c->kind == MEAS_COL_PER_IRREP)
            sbuf_printf(out, "\t%s<irrep>", c->name);
        else if (c->kind == MEAS_COL_PER_K)
            sbuf_printf(out, "\t%s<k>", c->name);
        else if (c->kind == MEAS_COL_HEAD_INT || c->kind == MEAS_COL_HEAD_F64)
            sbuf_printf(out, "\t%s<h>", c->name);
        else
            sbuf_printf(out, "\t%s", c->name);
    }
}

void meas_format_header(const model *m, const task_data *t, meas_file file, sbuf *out)
{
    const unsigned have = meas_have(m, t);
    sbuf_puts(out, "epoch");
    for (int i = 0; i < meas_table_len; i++)
        if (meas_table[i].file == file && meas_applies(&meas_table[i], have))
            meas_desc_columns(&meas_table[i], m, t, out);
    sbuf_puts(out, "\n");
}

static void put_num(sbuf *b, double x) { sbuf_printf(b, "\t%.9g", x); }

void meas_format_row(const meas_row *r, meas_file file, sbuf *out)
{
    sbuf_printf(out, "%ld", r->epoch);
    for (int i = 0; i < meas_table_len; i++) {
        const meas_desc *d = &meas_table[i];
        if (d->file != file || !meas_applies(d, r->have))
            continue;
        for (int j = 0; j < d->n_cols; j++) {
            const meas_col *c = &d->cols[j];
            const char *f = (const char *)r + c->offset;
            switch (c->kind) {
            case MEAS_COL_F64:
                put_num(out, *(const double *)f);
                break;
            case MEAS_COL_INT:
                sbuf_printf(out, "\t%d", *(const int *)f);
                break;
            case MEAS_COL_PER_TENSOR:
                for (int k = 0; k < r->n_tensors; k++)
                    put_num(out, ((const double *)f)[k]);
                break;
            case MEAS_COL_PER_FREQ:
                for (int k = 0; k < r->n_embed; k++)
                    put_num(out, ((const double *)f)[k]);
                break;
            case MEAS_COL_PER_K:
                for (int k = 0; k < r->n_freq; k++)
                    put_num(out, ((const double *)f)[k]);
                break;
            case MEAS_COL_HEAD_INT:
                for (int h = 0; h < r->n_heads; h++)
                    sbuf_printf(out, "\t%d", ((const int *)f)[h]);
                break;
            case MEAS_COL_HEAD_F64:
                for (int h = 0; h < r->n_heads; h++)
                    put_num(out, ((const double *)f)[h]);
                break;
            case MEAS_COL_FREQ_LIST:
                sbuf_puts(out, "\t");
                for (int k = 0; k < r->n_key_freqs; k++)
                    sbuf_printf(out, k ? ",%d" : "%d", ((const int *)f)[k]);
                break;
            case MEAS_COL_PER_IRREP:
                for (int k = 0; k < r->n_irreps; k++)
                    put_num(out, ((const double *)f)[k]);
                break;
            case MEAS_COL_IRREP_LIST: {
                group_family fam;
                int deg;
                char name[IRREP_NAME_MAX];
                group_id_info(r->group_id, &fam, &deg, NULL);
                sbuf_puts(out, "\t");
                for (int k = 0; k < r->n_key_irreps; k++) {
                    irrep_name(fam, deg, ((const int *)f)[k], name, sizeof name);
                    sbuf_printf(out, k ? ",%s" : "%s", name);
                }
                break;
            }
            }
        }
    }
    sbuf_puts(out, "\n");
}

int meas_format_neurons(const meas_workspace *ws, sbuf *out, grok_err *e)
{
    if (!ws->have_neurons)
        return grok_fail(e, GROK_EINVAL, "measures: no neuron table (rule R1 has not run)");
    sbuf_puts(out, "neuron\tfreq\tfrac_explained\n");
    for (int j = 0; j < ws->M; j++)
        sbuf_printf(out, "%d\t%d\t%.9g\n", j, ws->nbest[j], ws->nfrac[j]);
    return GROK_OK;
}

int meas_format_attention(meas_workspace *ws, const task_data *t, sbuf *out, grok_err *e)
{
    if (!ws->transformer)
        return grok_fail(e, GROK_EINVAL, "measures: no attention: model.family = '%s'",
                         model_family_name(ws->mc.family));
    if (!ws->have_forward)
        return grok_fail(e, GROK_EINVAL, "measures: no forward pass to read attention from");
    GROK_ASSERT(t->n_all == ws->N && t->n_ctx == ws->T);
    const int H = ws->H, T = ws->T, many = ws->L > 1;
    char name[32], ops[TASK_PARITY_N_MAX + 32];
    sbuf_printf(out, "%s%s\thead", many ? "layer\t" : "", task_operand_header(t));
    for (int i = 0; i < T; i++)
        sbuf_printf(out, "\tatt_%s", task_position_name(t, i, name, sizeof name));
    sbuf_puts(out, "\n");
    for (int l = 0; l < ws->L; l++) {
        const float *attn = ws_attn(ws, l);
        for (int r = 0; r < ws->N; r++) {
            task_format_operands(t, r, ops, sizeof ops);
            for (int h = 0; h < H; h++) {
                const float *x = attn + ((size_t)r * H + h) * T;
                if (many)
                    sbuf_printf(out, "%d\t", l);
                sbuf_printf(out, "%s\t%d", ops, h);
                for (int i = 0; i < T; i++)
                    sbuf_printf(out, "\t%.9g", x[i]);
                sbuf_puts(out, "\n");
            }
        }
    }
    return GROK_OK;
}

int meas_format_logit_spectrum(meas_workspace *ws, long epoch, sbuf *out, grok_err *e)
{
    if (!ws->fourier)
        return grok_fail(e, GROK_EINVAL, "measures: no logit spectrum: %s", ws->reason);
    if (!ws->have_forward)
        return grok_fail(e, GROK_EINVAL, "measures: no forward pass to read logits from");
    const int p = ws->p, N = ws->N, Vo = ws->Vo;
    const size_t P2 = (size_t)p * p;
    double *X = ws->bufA, *mu = ws->coef; /* coef has room for 2K Vo >= Vo */
    double *s2 = ws->Lx; /* [P2] the sums of squares over the classes, in class order */
    column_means(mu, ws->logits, N, Vo);
    for (size_t fg = 0; fg < P2; fg++)
        s2[fg] = 0;
    /* the classes a block of ws->width columns at a time (a column's transform
     * does not depend on the others) */
    for (int j0 = 0; j0 < Vo; j0 += ws->width) {
        const int c = Vo - j0 < ws->width ? Vo - j0 : ws->width;
        for (int r = 0; r < N; r++)
            for (int j = 0; j < c; j++)
                X[(size_t)r * c + j] = ws->logits[(size_t)r * Vo + j0 + j] - mu[j0 + j];
        fourier_2d(ws->bufB, X, ws->bufC, ws->F, p, c, 0);
        for (size_t fg = 0; fg < P2; fg++) {
            const double *x = ws->bufB + fg * c;
            for (int j = 0; j < c; j++)
                s2[fg] += x[j] * x[j];
        }
    }
    sbuf_printf(out, "# logit 2D Fourier spectrum, epoch %ld, rows/cols: const", epoch);
    for (int k = 1; k <= ws->K; k++)
        sbuf_printf(out, " cos%d sin%d", k, k);
    sbuf_puts(out, "\n");
    for (int f = 0; f < p; f++) {
        for (int g = 0; g < p; g++) {
            sbuf_printf(out, g ? "\t%.9g" : "%.9g", sqrt(s2[(size_t)f * p + g]));
        }
        sbuf_puts(out, "\n");
    }
    return GROK_OK;
}

int meas_format_logit_sd(meas_workspace *ws, const task_data *t, sbuf *out, grok_err *e)
{
    if (!ws->fourier)
        return grok_fail(e, GROK_EINVAL, "measures: no logit table over (s, d): %s", ws->reason);
    if (!ws->have_forward)
        return grok_fail(e, GROK_EINVAL, "measures: no forward pass to read logits from");
    GROK_ASSERT(t->n_all == ws->N && t->cfg.p == ws->p);
    algo_format_logit_sd(ws->logits, ws->Vo, t, out);
    return GROK_OK;
}

int meas_format_embed_circles(meas_workspace *ws, const model *m, const meas_freqs *key,
                              sbuf *out, grok_err *e)
{
    if (!ws->algo)
        return grok_fail(e, GROK_EINVAL, "measures: no embedding circles: %s",
                         ws->fourier ? "the model has no embed.W_E" : ws->reason);
    int rc = ws_check_model(ws, m, e);
    if (rc == GROK_OK && (rc = check_keys(ws, key, e)) == GROK_OK)
        algo_format_embed_circles(ws->algo, m, key->k, key->n, out);
    return rc;
}
