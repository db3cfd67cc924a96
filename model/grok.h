/* grok.h: the few project-wide things every layer shares.
 *
 * Owns the status convention (library functions return 0 on success and a
 * negative grok_status on failure, writing a human-readable message into a
 * caller-provided grok_err), the always-on assert for broken invariants, the
 * progress hook of long tasks, and aligned allocation.  Nothing here prints except GROK_ASSERT, which aborts.
 * Only experiments/ turns errors into exit codes. */
#ifndef GROK_H
#define GROK_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define GROK_VERSION "0.1.0"

typedef enum {
    GROK_OK = 0,
    GROK_EINVAL = -1, /* bad user input: a config value, a flag, a file's content */
    GROK_EIO = -2,    /* the operating system refused: open, write, fsync, rename */
    GROK_ENOMEM = -3, /* allocation failed */
    GROK_EFORMAT = -4 /* a file is not what it claims: truncated, bad header */
} grok_status;

/* A message buffer filled by the function that fails; empty on success. */
typedef struct {
    char msg[1024];
} grok_err;

/* printf-style: writes the message into e (when e is not NULL) and returns code. */
int grok_fail(grok_err *e, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Always-on assert for programmer errors (never for user input). */
#define GROK_ASSERT(x)                                                              \
    do {                                                                            \
        if (!(x)) {                                                                 \
            fprintf(stderr, "%s:%d: GROK_ASSERT(%s) failed\n", __FILE__, __LINE__, #x); \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* GROK_VECTOR_CLONES before a hot element-wise kernel compiles it for
 * AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and the baseline, and the loader picks
 * the widest the processor runs (GCC's target_clones).  The bits do not depend
 * on the choice: the build forbids FMA contraction (-ffp-contract=off) and the
 * compiler never reassociates float sums, so a wider vector computes the same
 * operations in the same order.  Elsewhere it expands to nothing. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    __GNUC__ >= 12 && !defined(GROK_NO_CLONES)
#define GROK_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GROK_VECTOR_CLONES
#endif

/* GROK_VECTOR_EXP: glibc's vector math library (libmvec, linked by the
 * Makefile on x86-64 Linux) has exp for every vector width; declared
 * `omp declare simd`, a loop marked `#pragma omp simd` calls it on whole
 * vectors (at most 4 ulp from the exact value, as documented by glibc, against
 * under 1 for the scalar exp).  Elsewhere the scalar exp serves. */
#if defined(GROK_HAVE_LIBMVEC) && defined(_OPENMP) && defined(__x86_64__)
#include <math.h>
#pragma omp declare simd notinbranch
extern double exp(double);
#define GROK_VECTOR_EXP 1
#else
#define GROK_VECTOR_EXP 0
#endif

/* A long task's progress, for a command to show (experiments/progress.h):
 * library code calls grok_progress_step after each of `total` steps, item
 * naming the step just done ("epoch 1200", "loss.png") or NULL; it never
 * prints.  A NULL hook, or a NULL fn, means that nobody listens. */
typedef struct {
    void (*fn)(void *ctx, long done, long total, const char *item);
    void *ctx;
} grok_progress;

static inline void grok_progress_step(const grok_progress *p, long done, long total,
                                      const char *item)
{
    if (p && p->fn)
        p->fn(p->ctx, done, total, item);
}

/* 64-byte aligned, zero-filled allocation of n bytes (n may be 0), with a
 * zeroed cache line of slack after them for BLIS's over-reads (grok.c);
 * NULL on failure.  Free with grok_free. */
void *grok_alloc(size_t n);
void grok_free(void *ptr);

#endif
