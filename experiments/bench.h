/* bench.h: the performance table of `grok bench`, a row per model family and
 * gradient filter. */
#ifndef GROK_BENCH_H
#define GROK_BENCH_H

#include "cfg.h"
#include "fileio.h"
#include "grok.h"

#define BENCH_MAX_THREADS 8

/* The rows: CONFIG itself (its full table: step, evaluation, measure pass),
 * Prieto et al.'s MLP, and CONFIG with each gradient filter on. */
typedef enum {
    BENCH_ROW_CONFIG,
    BENCH_ROW_MLP,
    BENCH_ROW_EMA,
    BENCH_ROW_MA,
    BENCH_ROW_ORTHO,
    BENCH_ROW_CLIP,
    BENCH_ROW_COUNT
} bench_row;

/* Every row but ma (its 100-step window must fill before it is timed). */
#define BENCH_ROWS_DEFAULT (((1u << BENCH_ROW_COUNT) - 1) & ~(1u << BENCH_ROW_MA))

const char *bench_row_name(bench_row r);

/* Parses a comma-separated list of row names, or "all", into a bit set
 * (bit r for row r); GROK_EINVAL naming the unknown entry and the valid
 * names. */
int bench_rows_parse(const char *list, unsigned *rows, grok_err *e);

typedef struct {
    int warmup;                     /* untimed repetitions first, >= 0 */
    int reps;                       /* timed repetitions, 1..1000; medians are reported */
    int n_threads;                  /* entries in threads[] */
    int threads[BENCH_MAX_THREADS]; /* thread counts to measure, e.g. {1, 2} */
    int sgemm_n;                    /* size of the square sgemm that measures the machine */
    char kernel[160];               /* BLIS kernel description for the header line, or "" */
    unsigned rows;                  /* the rows to run, bit r for row r (0: BENCH_ROWS_DEFAULT) */
    double *step_ms;                /* when not NULL: [BENCH_ROW_COUNT], receives each row's
                                       median step ms at the last thread count (0: not run) */
    double *best_ms;                /* the same for the fastest step */
} bench_opts;

/* Runs the benchmark for config c (the config row and the base of the
 * filter rows) and appends the tables to out.  Allocation failures and bad
 * configs return a status with e filled. */
int bench_run(const cfg_run *c, const bench_opts *o, sbuf *out, grok_err *e);

#endif
