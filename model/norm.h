/* norm.h: dot products and L2 norms of flat float buffers, and the norm
 * constraint (Omnigrok; docs/training.md, "Weight-norm constraint").
 *
 * Sums are accumulated in double in a fixed order that depends only on the
 * length: the buffer is cut into NORM_BLOCKS equal blocks, each summed in
 * index order, and the block sums are added in block order.  The blocks run
 * in parallel, so the result has the same bits for any thread count.  The
 * gradient filters (filters.h) and the weight-norm constraint use them. */
#ifndef GROK_NORM_H
#define GROK_NORM_H

#include <stddef.h>

#define NORM_BLOCKS 64

/* sum_i a[i] * b[i] over [0, n), in double. */
double norm_dot(const float *a, const float *b, size_t n);

/* sqrt(sum_i x[i]^2) over [0, n), in double. */
double norm_l2(const float *x, size_t n);

/* The norm constraint: scales x[0..n) by target / norm_l2(x, n) (each element
 * x = (float)(x * scale), the scale in double), so the total L2 norm becomes
 * target up to float rounding.  Returns the norm before.  A buffer whose norm
 * is 0 or not finite is left as it is (there is no direction to scale). */
double norm_rescale(float *x, size_t n, double target);

#endif
