/* norm.c: dot products, L2 norms and the norm constraint over flat float
 * buffers (see norm.h).
 *
 * Legend: n elements, split into NORM_BLOCKS blocks of ceil(n / NORM_BLOCKS). */
#include "norm.h"

#include <math.h>

#include "grok.h"

/* Under this many elements the blocks run on the calling thread alone. */
#define NORM_PARALLEL_MIN 65536

double norm_dot(const float *a, const float *b, size_t n)
{
    GROK_ASSERT(n == 0 || (a != NULL && b != NULL));
    double part[NORM_BLOCKS];
    const size_t len = (n + NORM_BLOCKS - 1) / NORM_BLOCKS;
#pragma omp parallel for schedule(static) if (n >= NORM_PARALLEL_MIN)
    for (int k = 0; k < NORM_BLOCKS; k++) {
        size_t lo = (size_t)k * len, hi = lo + len;
        if (lo > n)
            lo = n;
        if (hi > n)
            hi = n;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++)
            s += (double)a[i] * (double)b[i];
        part[k] = s;
    }
    double s = 0.0;
    for (int k = 0; k < NORM_BLOCKS; k++)
        s += part[k];
    return s;
}

double norm_l2(const float *x, size_t n)
{
    return sqrt(norm_dot(x, x, n));
}

double norm_rescale(float *x, size_t n, double target)
{
    double norm = norm_l2(x, n);
    if (!(norm > 0.0 && isfinite(norm)))
        return norm;
    const double scale = target / norm;
    const ptrdiff_t m = (ptrdiff_t)n;
#pragma omp parallel for schedule(static) if (n >= NORM_PARALLEL_MIN)
    for (ptrdiff_t i = 0; i < m; i++)
        x[i] = (float)((double)x[i] * scale);
    return norm;
}
