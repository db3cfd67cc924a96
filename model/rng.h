/* rng.h: seeded random streams, one per purpose.
 *
 * Every random draw in grok comes from an rng passed by pointer.  A stream is
 * derived from (seed, purpose, index) with splitmix64, so a new draw for one
 * purpose never shifts another (the data split, the initialisation, the random
 * task table and each epoch's minibatch order are separate streams).  The
 * generator is GSL's mt19937; Gaussians use GSL's ziggurat. */
#ifndef GROK_RNG_H
#define GROK_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RNG_STREAM_SPLIT = 1, /* train/test permutation */
    RNG_STREAM_INIT = 2,  /* parameter initialisation */
    RNG_STREAM_TABLE = 3, /* the 'rand' task's fixed random table */
    RNG_STREAM_BATCH = 4, /* minibatch order; index = epoch */
    RNG_STREAM_ALGO = 5   /* the fixed triples of gradient symmetricity (measures/algo.h) */
} rng_stream;

typedef struct rng rng;

/* A generator for stream `purpose` of `seed`; `index` distinguishes draws of
 * the same purpose (the epoch for minibatches, 0 otherwise).  NULL on OOM. */
rng *rng_alloc(uint64_t seed, rng_stream purpose, uint64_t index);
void rng_free(rng *r);

/* Uniform integer in [0, n). */
uint64_t rng_uniform_int(rng *r, uint64_t n);
/* Standard normal draw. */
double rng_normal(rng *r);
/* Uniform draw in [0, 1). */
double rng_uniform(rng *r);
/* In-place uniformly random permutation of idx[0..n) (Fisher-Yates via GSL). */
void rng_shuffle_i32(rng *r, int32_t *idx, size_t n);

/* The 64-bit seed splitmix64 derives for (seed, purpose, index). */
uint64_t rng_derive_seed(uint64_t seed, rng_stream purpose, uint64_t index);

#endif
