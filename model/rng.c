/* rng.c: seeded random streams (the contract is in rng.h).
 *
 * Owns the derivation of one generator per (seed, purpose, index) and the few
 * draws grok needs: uniform integers, standard normals, permutations.  The
 * generator is GSL's mt19937 (gsl_rng_mt19937), the normal sampler GSL's
 * ziggurat (gsl_ran_gaussian_ziggurat, Marsaglia and Tsang 2000).  Does not
 * save or restore generator state: every stream is re-derived from its seed,
 * which is why the minibatch order takes the epoch as its index.
 *
 * Seeding: splitmix64 (Steele, Lea and Flood 2014; the finaliser of Vigna's
 * splitmix64.c) is applied to the seed, then again after each of purpose and
 * index is mixed in, so nearby seeds and streams give unrelated 64-bit values.
 * gsl_rng_set for mt19937 keeps only the low 32 bits of its argument, so the
 * two halves of the derived seed are xor-folded into those 32 bits first.
 *
 * GSL reports allocation failure through its error handler, which aborts by
 * default; a program that wants rng_alloc to return NULL instead turns that
 * handler off (gsl_set_error_handler_off) in experiments/. */
#include "rng.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdlib.h>

#include "grok.h"

struct rng {
    gsl_rng *g; /* owned */
};

/* The splitmix64 output function for state x (one step of the generator). */
static uint64_t rng_splitmix64(uint64_t x)
{
    uint64_t z = x + UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t rng_derive_seed(uint64_t seed, rng_stream purpose, uint64_t index)
{
    uint64_t h = rng_splitmix64(seed);
    h = rng_splitmix64(h ^ (uint64_t)purpose);
    h = rng_splitmix64(h ^ index);
    return h;
}

rng *rng_alloc(uint64_t seed, rng_stream purpose, uint64_t index)
{
    rng *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g) {
        free(r);
        return NULL;
    }
    uint64_t d = rng_derive_seed(seed, purpose, index);
    /* mt19937 seeds from 32 bits (a 0 becomes GSL's default 4357). */
    unsigned long s32 = (unsigned long)((d ^ (d >> 32)) & UINT64_C(0xffffffff));
    gsl_rng_set(r->g, s32);
    return r;
}

void rng_free(rng *r)
{
    if (!r)
        return;
    gsl_rng_free(r->g);
    free(r);
}

uint64_t rng_uniform_int(rng *r, uint64_t n)
{
    GROK_ASSERT(r != NULL && n > 0);
    /* gsl_rng_uniform_int accepts n up to the generator's range (2^32 - 1
     * for mt19937); it rejects rather than takes a modulus, so it is exact. */
    if (n <= UINT64_C(0xffffffff))
        return (uint64_t)gsl_rng_uniform_int(r->g, (unsigned long)n);
    /* Larger n: 64 bits from two draws, rejecting the top partial block. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* a multiple of n */
    for (;;) {
        uint64_t hi = (uint64_t)gsl_rng_get(r->g);
        uint64_t lo = (uint64_t)gsl_rng_get(r->g);
        uint64_t x = (hi << 32) | lo;
        if (x < limit)
            return x % n;
    }
}

double rng_normal(rng *r)
{
    GROK_ASSERT(r != NULL);
    return gsl_ran_gaussian_ziggurat(r->g, 1.0);
}

double rng_uniform(rng *r)
{
    GROK_ASSERT(r != NULL);
    return gsl_rng_uniform(r->g);
}

void rng_shuffle_i32(rng *r, int32_t *idx, size_t n)
{
    GROK_ASSERT(r != NULL && (idx != NULL || n == 0));
    /* gsl_ran_shuffle counts down from n - 1 in a size_t: n = 0 would wrap. */
    if (n < 2)
        return;
    GROK_ASSERT(n <= UINT64_C(0xffffffff));
    gsl_ran_shuffle(r->g, idx, n, sizeof idx[0]);
}
