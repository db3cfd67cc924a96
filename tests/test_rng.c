/* test_rng.c: seeded streams (rng.h): determinism per (seed, purpose,
 * index), independence of streams, the normal sampler's moments, the
 * uniform integer range and permutations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grok.h"
#include "rng.h"

#define N_DRAWS 64

/* Fills out[N_DRAWS] with uniform draws below 2^32 - 1 from one stream. */
static void draws(uint64_t seed, rng_stream purpose, uint64_t index, uint64_t *out)
{
    rng *r = rng_alloc(seed, purpose, index);
    assert_non_null(r);
    for (int i = 0; i < N_DRAWS; i++)
        out[i] = rng_uniform_int(r, UINT64_C(0xffffffff));
    rng_free(r);
}

static int same_draws(const uint64_t *x, const uint64_t *y)
{
    return memcmp(x, y, N_DRAWS * sizeof x[0]) == 0;
}

static void test_deterministic(void **state)
{
    (void)state;
    uint64_t x[N_DRAWS], y[N_DRAWS];
    const uint64_t seeds[] = {0, 1, 42, UINT64_C(0xdeadbeefcafef00d)};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++)
        for (int purpose = RNG_STREAM_SPLIT; purpose <= RNG_STREAM_BATCH; purpose++) {
            draws(seeds[k], (rng_stream)purpose, 7, x);
            draws(seeds[k], (rng_stream)purpose, 7, y);
            assert_true(same_draws(x, y));
            assert_true(rng_derive_seed(seeds[k], (rng_stream)purpose, 7) ==
                        rng_derive_seed(seeds[k], (rng_stream)purpose, 7));
        }
    printf("# 4 seeds x 4 purposes: two generators of the same stream gave the same %d draws\n",
           N_DRAWS);
}

static void test_streams_differ(void **state)
{
    (void)state;
    /* Streams that differ in exactly one of seed, purpose, index. */
    enum { K = 12 };
    const struct {
        uint64_t seed;
        rng_stream purpose;
        uint64_t index;
    } s[K] = {
        {0, RNG_STREAM_SPLIT, 0}, {1, RNG_STREAM_SPLIT, 0},  {2, RNG_STREAM_SPLIT, 0},
        {0, RNG_STREAM_INIT, 0},  {0, RNG_STREAM_TABLE, 0},  {0, RNG_STREAM_BATCH, 0},
        {0, RNG_STREAM_BATCH, 1}, {0, RNG_STREAM_BATCH, 2},  {1, RNG_STREAM_BATCH, 1},
        {UINT64_C(1) << 32, RNG_STREAM_SPLIT, 0}, /* differs from seed 0 only above bit 31 */
        {0, RNG_STREAM_SPLIT, UINT64_C(1) << 32}, {42, RNG_STREAM_INIT, 0},
    };
    uint64_t d[K][N_DRAWS], seeds[K];
    for (int i = 0; i < K; i++) {
        draws(s[i].seed, s[i].purpose, s[i].index, d[i]);
        seeds[i] = rng_derive_seed(s[i].seed, s[i].purpose, s[i].index);
    }
    int pairs = 0, worst_equal = 0;
    for (int i = 0; i < K; i++)
        for (int j = i + 1; j < K; j++) {
            int equal = 0;
            for (int k = 0; k < N_DRAWS; k++)
                equal += d[i][k] == d[j][k];
            if (equal > worst_equal)
                worst_equal = equal;
            if (seeds[i] == seeds[j] || equal > 1)
                fail_msg("streams %d and %d: derived seeds %016llx %016llx, %d of %d draws equal",
                         i, j, (unsigned long long)seeds[i], (unsigned long long)seeds[j],
                         equal, N_DRAWS);
            pairs++;
        }
    printf("# %d pairs of streams: all derived seeds distinct, at most %d of %d draws equal\n",
           pairs, worst_equal, N_DRAWS);
}

/* Pinned values: a change here changes every run's split, initialisation and
 * batches, so old runs could no longer be reproduced from their seed. */
static void test_pinned_values(void **state)
{
    (void)state;
    assert_true(rng_derive_seed(42, RNG_STREAM_SPLIT, 0) == UINT64_C(0x93be8420bb55b94c));
    assert_true(rng_derive_seed(0, RNG_STREAM_BATCH, 9) == UINT64_C(0x14e35de8e2d885bb));
    rng *r = rng_alloc(42, RNG_STREAM_INIT, 0);
    assert_non_null(r);
    const uint64_t want[3] = {319152, 148748, 824975};
    for (int i = 0; i < 3; i++)
        assert_true(rng_uniform_int(r, 1000000) == want[i]);
    double x = rng_normal(r);
    printf("# pinned: derived seeds, 3 uniform draws and a normal (%.17g) of seed 42 match\n", x);
    assert_true(x == -1.0004013171429231);
    rng_free(r);
}

static void test_normal_moments(void **state)
{
    (void)state;
    rng *r = rng_alloc(2023, RNG_STREAM_INIT, 0);
    assert_non_null(r);
    const int n = 100000;
    double sum = 0.0, sum2 = 0.0, sum4 = 0.0;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(r);
        sum += x;
        sum2 += x * x;
        sum4 += x * x * x * x;
    }
    rng_free(r);
    double mean = sum / n, var = sum2 / n - mean * mean, kurt = sum4 / n / (var * var);
    /* Standard errors for n = 1e5: mean 0.0032, variance 0.0045, kurtosis
     * 0.015; the bounds are about 6 of them, so the test fails only for a
     * wrong sampler (a uniform has variance 1/12 and kurtosis 1.8). */
    printf("# %d normal draws: mean %.4f (|.| < 0.02), variance %.4f (|. - 1| < 0.03), kurtosis "
           "%.3f (|. - 3| < 0.1)\n",
           n, mean, var, kurt);
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(var - 1.0) < 0.03);
    assert_true(fabs(kurt - 3.0) < 0.1);
}

static void test_uniform_int(void **state)
{
    (void)state;
    rng *r = rng_alloc(7, RNG_STREAM_TABLE, 0);
    assert_non_null(r);
    /* n = 113: every value appears, counts near 1e5/113. */
    enum { P = 113 };
    int count[P] = {0};
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        uint64_t x = rng_uniform_int(r, P);
        assert_true(x < P);
        count[x]++;
    }
    double expect = (double)n / P, chi2 = 0.0;
    for (int k = 0; k < P; k++)
        chi2 += (count[k] - expect) * (count[k] - expect) / expect;
    /* chi-square with 112 degrees of freedom: mean 112, sd 15; 200 is ~6 sd. */
    printf("# %d draws below %d: chi-square %.1f (< 200, 112 dof)\n", n, P, chi2);
    assert_true(chi2 < 200.0);
    for (int i = 0; i < 1000; i++)
        assert_true(rng_uniform_int(r, 1) == 0);
    /* n beyond 32 bits takes the two-draw path: stays below n, uses the high bits. */
    const uint64_t big = UINT64_C(3) << 40;
    int high = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_uniform_int(r, big);
        assert_true(x < big);
        high += x >= (UINT64_C(1) << 41);
    }
    printf("# 1000 draws below 3*2^40: %d at or above 2^41 (expect ~333)\n", high);
    assert_true(high > 250 && high < 420);
    rng_free(r);
}

static void test_shuffle_permutation(void **state)
{
    (void)state;
    enum { N = 1000 };
    int32_t a[N], b[N];
    for (int i = 0; i < N; i++)
        a[i] = b[i] = i;
    rng *r = rng_alloc(5, RNG_STREAM_SPLIT, 0);
    assert_non_null(r);
    rng_shuffle_i32(r, a, N);
    rng_free(r);
    r = rng_alloc(5, RNG_STREAM_SPLIT, 0);
    rng_shuffle_i32(r, b, N);
    int seen[N] = {0}, fixed = 0;
    for (int i = 0; i < N; i++) {
        assert_true(a[i] >= 0 && a[i] < N);
        seen[a[i]]++;
        fixed += a[i] == i;
        assert_int_equal(a[i], b[i]);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    /* A random permutation has 1 fixed point on average. */
    printf("# shuffle of %d: a permutation, same for the same stream, %d fixed points\n", N, fixed);
    assert_true(fixed < 10);
    /* n = 0 and n = 1 are no-ops. */
    int32_t one = 17;
    rng_shuffle_i32(r, &one, 1);
    assert_int_equal(one, 17);
    rng_shuffle_i32(r, NULL, 0);
    rng_free(r);
    rng_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),  cmocka_unit_test(test_streams_differ),
        cmocka_unit_test(test_pinned_values),
        cmocka_unit_test(test_normal_moments), cmocka_unit_test(test_uniform_int),
        cmocka_unit_test(test_shuffle_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
