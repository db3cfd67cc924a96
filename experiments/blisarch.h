/* blisarch.h: choosing BLIS's kernels and the thread count at start-up.
 *
 * Debian's BLIS 0.9 picks its sub-configuration from CPUID once, at its first
 * call, and knows only older CPUs: a recent AMD or Intel core falls back to
 * `generic` kernels about 5x slower than the AVX-512 (`skx`) kernels the same
 * library ships.  The only way in is the environment variable BLIS_ARCH_TYPE,
 * read once when BLIS initialises (docs/formats.md, BLIS).  So the program calls
 * blisarch_select first thing in main, before any BLIS or GSL BLAS call, and
 * blisarch_start once it knows the thread count.  A BLIS_ARCH_TYPE set by the
 * user always wins.  Every BLIS call outside model/'s kernels lives in
 * blisarch.c, because <blis.h> and GSL's <gsl/gsl_cblas.h> cannot share a
 * translation unit. */
#ifndef GROK_BLISARCH_H
#define GROK_BLISARCH_H

#include <stddef.h>

typedef enum {
    BLISARCH_CPUID,  /* BLIS_ARCH_TYPE was unset; chosen here from CPUID features */
    BLISARCH_USER,   /* the user's BLIS_ARCH_TYPE */
    BLISARCH_LIBRARY /* left unset: BLIS's own CPUID rule decides */
} blisarch_source;

typedef struct {
    blisarch_source source;
    char env_value[32]; /* BLIS_ARCH_TYPE as BLIS will read it; "" when unset */
    char reason[64];    /* why: "AVX-512 F/DQ/BW/VL", "AVX2+FMA, AMD", ... */
    char kernel[32];    /* bli_arch_string(bli_arch_query_id()) after start */
    int threads;        /* OpenMP and BLIS threads */
    int threads_auto;   /* 1: threads was not asked for (all online CPUs): training
                           may use fewer on a busy machine (threadtune.h) */
    int flush_denormals; /* 1: subnormal floats flushed to zero (la_flush_denormals) */
} blisarch_info;

/* Sets BLIS_ARCH_TYPE from CPUID when it is unset (AVX-512 F+DQ+BW+VL: 0 =
 * skx; else AVX2+FMA: 6 = zen3 on AMD, 3 = haswell otherwise; else unset).  A
 * user value that is a sub-configuration name ("haswell") is rewritten to its
 * number, because BLIS 0.9 parses the variable with strtol and would read any
 * name as 0.  Call before any BLIS call.  Never fails. */
void blisarch_select(blisarch_info *info);

/* Initialises BLIS, records the kernel name, and sets the number of OpenMP and
 * BLIS threads to `threads` (<= 0: the number of online CPUs). */
void blisarch_start(blisarch_info *info, int threads);

/* One line for the user and the log, e.g.
 * "BLIS 0.9.0 kernels: skx (chosen: AVX-512 F/DQ/BW/VL); 2 threads". */
void blisarch_describe(const blisarch_info *info, char *buf, size_t n);

/* "cpuid", "user" or "library", for summary.json. */
const char *blisarch_source_name(blisarch_source s);

#endif
