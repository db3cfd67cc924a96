/* linalg.h: the matrix product every layer is built on, and its naive
 * reference.
 *
 * Matrices are flat float arrays addressed by a row stride and a column
 * stride, so a transpose is a swap of strides, never a copy (BLIS typed API,
 * docs/BLISTypedAPI.md).  la_gemm calls bli_sgemm; la_gemm_ref is the
 * triple loop it is tested against.  BLIS never splits the k loop across
 * threads, so results are the same bits for any thread count.  This file is
 * the only one that includes blis.h outside experiments/blisarch.c (blis.h
 * and GSL's cblas.h cannot share a translation unit). */
#ifndef GROK_LINALG_H
#define GROK_LINALG_H

#include <stddef.h>

/* Products under this many flops (2 m n k) run on the calling thread alone:
 * waking a second thread costs more than it saves. */
#define LA_PARALLEL_MIN_FLOPS 8e6

/* C = alpha * A B + beta * C, with A [m, k], B [k, n], C [m, n];
 * element (i, j) of X lives at X[i*rs + j*cs].  beta == 0 ignores C's
 * previous contents (NaN-safe). */
void la_gemm(int m, int n, int k, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
             const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t rsc,
             ptrdiff_t csc);

/* A matrix-product profile (for grok bench): each product run through
 * la_gemm_prof adds its wall time, 2 m n k flops and one call. */
typedef struct {
    double gemm_seconds, gemm_flops;
    long gemm_calls;
} la_profile;

/* la_gemm, timed into prof when prof is not NULL (one clock read on each
 * side of the product). */
void la_gemm_prof(la_profile *prof, int m, int n, int k, float alpha, const float *A,
                  ptrdiff_t rsa, ptrdiff_t csa, const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                  float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc);

/* The same product by the definition, accumulated in double. */
void la_gemm_ref(int m, int n, int k, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                 const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t rsc,
                 ptrdiff_t csc);


/* Flushes subnormal floats to zero (FTZ and DAZ in the SSE control register)
 * in the calling thread and, through inheritance, in every thread it creates
 * afterwards: call it first thing in main, before any OpenMP or BLIS thread
 * exists.  Once a model has memorised, the gradients of confident logits fall
 * below 1.2e-38 and every product that touches them takes a microcode assist:
 * a full-batch step of the default model became 5x slower.  Values that small
 * never change a float32 weight through a product (but see la_subnormals_on
 * for Adam's ratio).  Returns 1 when set, 0 where the processor
 * has no such mode (then nothing changes). */
int la_flush_denormals(void);

/* Turns the flush off in the calling thread (la_subnormals_on) and back to
 * what it was (la_subnormals_restore, with the value the first returned).
 * Adam divides by sqrt(v) + eps, a ratio that does not depend on the scale of
 * the gradient: with a tiny eps (Prieto et al.'s 1e-25) a gradient of 1e-20
 * makes a step of lr as in PyTorch, whose CPU kernels keep subnormals, but
 * with v = g*g = 1e-40 flushed to zero the same step is 1e5 times lr.  The
 * optimizer's loop therefore runs with IEEE subnormals; with eps 1e-8 the two
 * modes give the same floats unless a weight is itself below ~1e-27.  Where
 * there is no such mode both do nothing. */
unsigned la_subnormals_on(void);
void la_subnormals_restore(unsigned saved);

/* Sets the thread count of both BLIS and the OpenMP loops (n >= 1). */
void la_set_threads(int n);
#endif
