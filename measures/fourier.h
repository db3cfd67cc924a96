/* fourier.h: the real Fourier basis over Z_p and the transforms built on it.
 *
 * Owns the basis of Nanda et al. (2023) (docs/measures.md, Fourier basis):
 * F in R^{p x p}, row 0 the constant 1/sqrt(p), then for k = 1..K
 * (K = (p-1)/2) row 2k-1 the
 * cosine cos(2 pi k x / p) and row 2k the sine sin(2 pi k x / p), each of unit
 * norm, so F F^T = I.  The 1-D transform of a vector indexed by x is t F^T;
 * the 2-D transform of data over the (a, b) input grid (rows r = a*p + b) is
 * F applied along a and along b (`fft2d` of their code), computed as two
 * GEMMs over the reshaped grid.  The sum directions u_k, v_k
 * (unit vectors in R^{p^2}, proportional to cos(w_k(a+b)) and sin(w_k(a+b)))
 * are the directions the restricted and excluded losses project on.
 *
 * Only odd p: for even p the frequency p/2 has no sine and the pairing of
 * rows into (cos, sin) breaks; fourier_check_p says so.  Everything is double
 * and uses GSL's BLAS (bound to BLIS's CBLAS at link time).  Nothing here
 * allocates except where a function says so.
 *
 * Legend: p modulus, K = (p-1)/2 frequencies, m trailing width (neurons,
 * classes), n rows. */
#ifndef GROK_FOURIER_H
#define GROK_FOURIER_H

#include "grok.h"

/* Largest p the measures accept (the tasks' TASK_P_MAX). */
#define FOURIER_P_MAX 1000

/* GROK_OK when p is odd and 3 <= p <= FOURIER_P_MAX; else GROK_EINVAL with a
 * message naming p. */
int fourier_check_p(int p, grok_err *e);

/* K = (p-1)/2: the number of non-constant frequencies. */
int fourier_n_freqs(int p);

/* Row indices of frequency k (1..K) in the basis. */
static inline int fourier_cos_row(int k) { return 2 * k - 1; }
static inline int fourier_sin_row(int k) { return 2 * k; }

/* Fills F [p, p] (row-major) with the basis.  The norms are computed from the
 * sampled values themselves, so each row has unit norm to rounding. */
void fourier_basis(double *F, int p);

/* out [n, p] = x [n, p] F^T: the coefficients of each row of x.  out and x
 * must not overlap. */
void fourier_1d(double *out, const double *x, const double *F, int n, int p);

/* The 2-D transform over the (a, b) grid of x [p*p, m] (row r = a*p + b):
 *   out[f*p + g, z] = sum_{a,b} F[f,a] F[g,b] x[a*p + b, z].
 * With inverse = 1 the transposed basis is applied instead (F^T along both
 * axes), which undoes the forward transform.  tmp: [p*p*m] scratch.  out, x
 * and tmp must be distinct. */
void fourier_2d(double *out, const double *x, double *tmp, const double *F, int p, int m,
                int inverse);

/* The sum directions as rows of D [2K, p*p]: row 2(k-1) is
 *   u_k = (vec(cos_k (x) cos_k) - vec(sin_k (x) sin_k)) / sqrt 2,
 * row 2(k-1)+1 is
 *   v_k = (vec(sin_k (x) cos_k) + vec(cos_k (x) sin_k)) / sqrt 2,
 * where vec(f (x) g)[a*p + b] = F[f,a] F[g,b] (docs/measures.md). */
void fourier_sum_dirs(double *D, const double *F, int p);

/* Per-frequency norms from per-component norms c [p] (basis order):
 * out[0] = c[0], out[k] = sqrt(c[2k-1]^2 + c[2k]^2) for k = 1..K; out [K+1]. */
void fourier_freq_norms(double *out, const double *c, int p);

#endif
