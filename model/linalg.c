/* linalg.c: la_gemm over BLIS, its timed variant, and the reference triple
 * loop. */
#include "linalg.h"

#include <time.h>

#include <blis.h>
#include <omp.h>
#if defined(__SSE3__) || defined(__x86_64__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#define LA_HAVE_MXCSR 1
#endif

/* Products under LA_PARALLEL_MIN_FLOPS run on one thread: when the machine is
 * busy a descheduled partner turns BLIS's spinning barrier into a wait of a
 * whole time slice.  The thread count never changes the bits (BLIS does not
 * split the k loop), and one-thread products may be called from several
 * threads at once. */

void la_gemm(int m, int n, int k, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
             const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t rsc,
             ptrdiff_t csc)
{
    if (m == 0 || n == 0)
        return;
    if (2.0 * m * n * k < LA_PARALLEL_MIN_FLOPS) {
        rntm_t rntm = BLIS_RNTM_INITIALIZER;
        bli_rntm_set_num_threads(1, &rntm);
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &alpha,
                     (float *)A, (inc_t)rsa, (inc_t)csa, (float *)B, (inc_t)rsb, (inc_t)csb, &beta,
                     C, (inc_t)rsc, (inc_t)csc, NULL, &rntm);
        return;
    }
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &alpha,
              (float *)A, (inc_t)rsa, (inc_t)csa, (float *)B, (inc_t)rsb, (inc_t)csb, &beta, C,
              (inc_t)rsc, (inc_t)csc);
}

static double la_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void la_gemm_prof(la_profile *prof, int m, int n, int k, float alpha, const float *A,
                  ptrdiff_t rsa, ptrdiff_t csa, const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                  float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc)
{
    if (!prof) {
        la_gemm(m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
        return;
    }
    const double t0 = la_now();
    la_gemm(m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
    prof->gemm_seconds += la_now() - t0;
    prof->gemm_flops += 2.0 * m * n * k;
    prof->gemm_calls++;
}

void la_gemm_ref(int m, int n, int k, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                 const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t rsc,
                 ptrdiff_t csc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int l = 0; l < k; l++)
                s += (double)A[i * rsa + l * csa] * (double)B[l * rsb + j * csb];
            float *c = &C[i * rsc + j * csc];
            *c = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}

void la_set_threads(int n)
{
    if (n < 1)
        n = 1;
    omp_set_num_threads(n);
    bli_thread_set_num_threads((dim_t)n);
}

int la_flush_denormals(void)
{
#ifdef LA_HAVE_MXCSR
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    return 1;
#else
    return 0;
#endif
}

unsigned la_subnormals_on(void)
{
#ifdef LA_HAVE_MXCSR
    unsigned saved = _mm_getcsr();
    _mm_setcsr(saved & ~(unsigned)(_MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON));
    return saved;
#else
    return 0;
#endif
}

void la_subnormals_restore(unsigned saved)
{
#ifdef LA_HAVE_MXCSR
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}
