/* fourier.c: the Fourier basis over Z_p, 1-D and 2-D transforms, and the sum
 * directions, as declared in fourier.h (docs/measures.md, Fourier basis).
 *
 * The 2-D transform is two GEMMs over the reshaped grid: F (p x p) times x
 * viewed as [p (a), p*m (b, z)] transforms the a axis; the two grid axes are
 * swapped (a block copy) and the same product transforms the b axis; a
 * second swap restores the order.  Two large products rather than p small
 * ones: faster, and far fewer thread barriers inside BLIS, which spin and
 * stall badly on an oversubscribed machine.  The products are gsl_blas_dgemm,
 * which the link binds to BLIS's CBLAS; BLIS never splits the k loop, so the
 * bits do not depend on the thread count.
 *
 * Legend: p modulus, K = (p-1)/2 frequencies, m trailing width, n rows. */
#include "fourier.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <string.h>

int fourier_check_p(int p, grok_err *e)
{
    if (p < 3 || p > FOURIER_P_MAX || p % 2 == 0)
        return grok_fail(e, GROK_EINVAL,
                         "p = %d: the Fourier measures need an odd p between 3 and %d "
                         "(for even p the frequency p/2 has no sine)",
                         p, FOURIER_P_MAX);
    return GROK_OK;
}

int fourier_n_freqs(int p) { return (p - 1) / 2; }

void fourier_basis(double *F, int p)
{
    GROK_ASSERT(p >= 3 && p % 2 == 1);
    const int K = fourier_n_freqs(p);
    for (int x = 0; x < p; x++)
        F[x] = 1.0 / sqrt((double)p);
    for (int k = 1; k <= K; k++) {
        double *c = F + (size_t)fourier_cos_row(k) * p, *s = F + (size_t)fourier_sin_row(k) * p;
        double nc = 0, ns = 0;
        for (int x = 0; x < p; x++) {
            /* (k x) mod p keeps the angle in [0, 2 pi) so large k x lose no digits */
            const double w = 2.0 * M_PI * (double)(((long)k * x) % p) / (double)p;
            c[x] = cos(w);
            s[x] = sin(w);
            nc += c[x] * c[x];
            ns += s[x] * s[x];
        }
        nc = sqrt(nc);
        ns = sqrt(ns);
        for (int x = 0; x < p; x++) {
            c[x] /= nc;
            s[x] /= ns;
        }
    }
}

void fourier_1d(double *out, const double *x, const double *F, int n, int p)
{
    if (n <= 0)
        return;
    gsl_matrix_const_view X = gsl_matrix_const_view_array(x, (size_t)n, (size_t)p);
    gsl_matrix_const_view B = gsl_matrix_const_view_array(F, (size_t)p, (size_t)p);
    gsl_matrix_view O = gsl_matrix_view_array(out, (size_t)n, (size_t)p);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &X.matrix, &B.matrix, 0.0, &O.matrix);
}

/* y[j, i, z] = x[i, j, z] for i, j < p: swaps the two grid axes of [p, p, m] */
static void swap_grid_axes(double *y, const double *x, size_t P, size_t Mz)
{
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++)
            memcpy(y + (j * P + i) * Mz, x + (i * P + j) * Mz, Mz * sizeof *x);
}

void fourier_2d(double *out, const double *x, double *tmp, const double *F, int p, int m,
                int inverse)
{
    GROK_ASSERT(out != x && out != tmp && x != tmp && m >= 1);
    const size_t P = (size_t)p, Mz = (size_t)m;
    const CBLAS_TRANSPOSE_t tf = inverse ? CblasTrans : CblasNoTrans;
    gsl_matrix_const_view B = gsl_matrix_const_view_array(F, P, P);
    gsl_matrix_const_view X = gsl_matrix_const_view_array(x, P, P * Mz);
    gsl_matrix_view T = gsl_matrix_view_array(tmp, P, P * Mz);
    gsl_matrix_view O = gsl_matrix_view_array(out, P, P * Mz);
    /* the a axis: tmp[f, b, z] = sum_a F[f, a] x[a, b, z] */
    gsl_blas_dgemm(tf, CblasNoTrans, 1.0, &B.matrix, &X.matrix, 0.0, &T.matrix);
    /* out[b, f, z] = tmp[f, b, z] */
    swap_grid_axes(out, tmp, P, Mz);
    /* the b axis: tmp[g, f, z] = sum_b F[g, b] out[b, f, z] */
    gsl_blas_dgemm(tf, CblasNoTrans, 1.0, &B.matrix, &O.matrix, 0.0, &T.matrix);
    /* out[f, g, z] = tmp[g, f, z] */
    swap_grid_axes(out, tmp, P, Mz);
}

void fourier_sum_dirs(double *D, const double *F, int p)
{
    const int K = fourier_n_freqs(p);
    const size_t P = (size_t)p, PP = P * P;
    const double r2 = 1.0 / sqrt(2.0);
    for (int k = 1; k <= K; k++) {
        const double *c = F + (size_t)fourier_cos_row(k) * P;
        const double *s = F + (size_t)fourier_sin_row(k) * P;
        double *u = D + (size_t)(2 * (k - 1)) * PP, *v = u + PP;
        for (size_t a = 0; a < P; a++)
            for (size_t b = 0; b < P; b++) {
                u[a * P + b] = (c[a] * c[b] - s[a] * s[b]) * r2;
                v[a * P + b] = (s[a] * c[b] + c[a] * s[b]) * r2;
            }
    }
}

void fourier_freq_norms(double *out, const double *c, int p)
{
    const int K = fourier_n_freqs(p);
    out[0] = c[0];
    for (int k = 1; k <= K; k++) {
        const double x = c[fourier_cos_row(k)], y = c[fourier_sin_row(k)];
        out[k] = sqrt(x * x + y * y);
    }
}
