/* bench.h: the performance table of `grok bench`. */
#ifndef GROK_BENCH_H
#define GROK_BENCH_H

#include "cfg.h"
#include "fileio.h"
#include "grok.h"

#define BENCH_MAX_THREADS 8

typedef struct {
    int warmup;                     /* untimed repetitions first, >= 0 */
    int reps;                       /* timed repetitions, 1..1000; medians are reported */
    int n_threads;                  /* entries in threads[] */
    int threads[BENCH_MAX_THREADS]; /* thread counts to measure, e.g. {1, 2} */
    int sgemm_n;                    /* size of the square sgemm that measures the machine */
    char kernel[160];               /* BLIS kernel description for the header line, or "" */
    double *step_ms;                /* when not NULL: receives the last thread count's step ms */
} bench_opts;

/* Runs the benchmark for config c and appends the table to out.  Allocation
 * failures and bad configs return a status with e filled. */
int bench_run(const cfg_run *c, const bench_opts *o, sbuf *out, grok_err *e);

#endif
