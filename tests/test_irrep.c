/* test_irrep.c: the irreps of S_n and D_n (measures/irrep.h) and the group
 * measures built on them (measures/meas.h: irreps.tsv, the key irreps, the
 * restricted and excluded loss over them).
 *
 * Algebra, for S3, S4, S5, S6, D5, D6 and D100:
 * - rho(g) rho(h) = rho(g h) for every pair (the group's own table; S6: a
 *   seventh of the pairs);
 * - every rho(g) is orthogonal; rho(identity) = I;
 * - sum of d^2 = |G|, and the dimensions of S5 are 1, 4, 5, 6, 5, 4, 1;
 * - characters: <chi_i, chi_j> = delta_ij, and chi of the sign irrep is the
 *   sign of the permutation (S_n) / of the reflection (D_n);
 * - the matrix-element basis B is orthogonal (B B^T = I);
 * - a function on G built from one irrep's matrix elements has all its
 *   variance in that irrep (the fractions the measures report).
 * Measures: the C pass on the tiny S4 model of
 * tests/golden/irreps_s4.safetensors, against tests/gen_irrep_golden.py
 * (NumPy, irreps by projecting the regular representation with
 * characters, another basis of the same spaces). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "irrep.h"
#include "meas.h"
#include "safetensors.h"
#include "task.h"
#include "testutil.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

/* ------------------------------------------------------------------------ */
/* algebra */

typedef struct {
    group_data g;
    irrep_set s;
} built;

static void build(built *b, const char *name)
{
    grok_err e;
    const int id = group_id_parse(name);
    assert_true(id >= 0);
    assert_int_equal(group_init(&b->g, id, &e), GROK_OK);
    if (irrep_build(&b->s, &b->g, &e) != GROK_OK)
        fail_msg("%s: %s", name, e.msg);
}

static void unbuild(built *b)
{
    irrep_free(&b->s);
    group_free(&b->g);
}

static double trace(const double *R, int d)
{
    double t = 0;
    for (int a = 0; a < d; a++)
        t += R[a * d + a];
    return t;
}

/* the sign of a permutation (+1 even, -1 odd) */
static int perm_sign(const int32_t *x, int n)
{
    int inv = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            inv += x[i] > x[j];
    return inv % 2 ? -1 : 1;
}

static void check_group(const char *name)
{
    built b;
    build(&b, name);
    const irrep_set *s = &b.s;
    const group_data *g = &b.g;
    const int G = g->order;
    assert_int_equal(s->n, irrep_count(g->family, g->n));
    int sum = 0;
    for (int i = 0; i < s->n; i++)
        sum += s->dim[i] * s->dim[i];
    assert_int_equal(sum, G);
    assert_int_equal(s->dim[0], 1); /* trivial first */

    double worst_hom = 0, worst_orth = 0;
    /* every pair, except S6: every x with every 7th y (74,000 pairs; the
     * generators' relations are what a wrong table would break) */
    const int ystep = G > 200 ? 7 : 1;
    for (int i = 0; i < s->n; i++) {
        const int d = s->dim[i];
        for (int x = 0; x < G; x++) {
            const double *X = irrep_mat(s, i, x);
            for (int a = 0; a < d; a++) /* X X^T = I */
                for (int c = 0; c < d; c++) {
                    double v = 0;
                    for (int k = 0; k < d; k++)
                        v += X[a * d + k] * X[c * d + k];
                    worst_orth = fmax(worst_orth, fabs(v - (a == c)));
                }
            if (i == 0)
                assert_true(fabs(X[0] - 1) < 1e-12);
            for (int y = 0; y < G; y += ystep) {
                const double *Y = irrep_mat(s, i, y);
                const double *Z = irrep_mat(s, i, g->mul[(size_t)x * G + y]);
                for (int a = 0; a < d; a++)
                    for (int c = 0; c < d; c++) {
                        double v = 0;
                        for (int k = 0; k < d; k++)
                            v += X[a * d + k] * Y[k * d + c];
                        worst_hom = fmax(worst_hom, fabs(v - Z[a * d + c]));
                    }
            }
        }
    }
    if (worst_hom > 1e-9 || worst_orth > 1e-9)
        fail_msg("%s: homomorphism error %g, orthogonality error %g", name, worst_hom,
                 worst_orth);

    /* characters */
    for (int i = 0; i < s->n; i++)
        for (int j = 0; j < s->n; j++) {
            double v = 0;
            for (int x = 0; x < G; x++)
                v += trace(irrep_mat(s, i, x), s->dim[i]) * trace(irrep_mat(s, j, x), s->dim[j]);
            v /= G;
            if (fabs(v - (i == j)) > 1e-9)
                fail_msg("%s: <chi_%d, chi_%d> = %g", name, i, j, v);
        }
    /* the sign irrep */
    const int sign = g->family == GROUP_SYMMETRIC ? s->n - 1 : 1;
    assert_int_equal(s->dim[sign], 1);
    for (int x = 0; x < G; x++) {
        const int32_t *p = g->perm + (size_t)x * g->n;
        int want;
        if (g->family == GROUP_SYMMETRIC)
            want = perm_sign(p, g->n);
        else /* a rotation maps 0, 1 to k, k+1 */
            want = p[1] == (p[0] + 1) % g->n ? 1 : -1;
        assert_true(fabs(irrep_mat(s, sign, x)[0] - want) < 1e-12);
    }

    /* B B^T = I */
    double *B = malloc((size_t)G * G * sizeof *B);
    assert_non_null(B);
    irrep_basis(s, B);
    double worst = 0;
    for (int r = 0; r < G; r++)
        for (int c = r; c < G; c++) {
            double v = 0;
            for (int x = 0; x < G; x++)
                v += B[(size_t)r * G + x] * B[(size_t)c * G + x];
            worst = fmax(worst, fabs(v - (r == c)));
        }
    free(B);
    if (worst > 1e-9)
        fail_msg("%s: basis not orthonormal (%g)", name, worst);
    unbuild(&b);
}

static void test_algebra_s3(void **state) { (void)state, check_group("S3"); }
static void test_algebra_s4(void **state) { (void)state, check_group("S4"); }
static void test_algebra_s5(void **state) { (void)state, check_group("S5"); }
static void test_algebra_s6(void **state) { (void)state, check_group("S6"); }
static void test_algebra_d5(void **state) { (void)state, check_group("D5"); }
static void test_algebra_d6(void **state) { (void)state, check_group("D6"); }
static void test_algebra_d100(void **state) { (void)state, check_group("D100"); }

static void test_names(void **state)
{
    (void)state;
    static const char *const s5[] = {"5", "41", "32", "311", "221", "2111", "11111"};
    static const int d5[] = {1, 4, 5, 6, 5, 4, 1};
    char buf[IRREP_NAME_MAX];
    assert_int_equal(irrep_count(GROUP_SYMMETRIC, 5), 7);
    for (int i = 0; i < 7; i++) {
        irrep_name(GROUP_SYMMETRIC, 5, i, buf, sizeof buf);
        assert_string_equal(buf, s5[i]);
        assert_int_equal(irrep_dim(GROUP_SYMMETRIC, 5, i), d5[i]);
    }
    assert_int_equal(irrep_count(GROUP_SYMMETRIC, 6), 11);
    static const char *const d6[] = {"triv", "sign", "1c", "1d", "2_1", "2_2"};
    assert_int_equal(irrep_count(GROUP_DIHEDRAL, 6), 6);
    for (int i = 0; i < 6; i++) {
        irrep_name(GROUP_DIHEDRAL, 6, i, buf, sizeof buf);
        assert_string_equal(buf, d6[i]);
    }
    assert_int_equal(irrep_count(GROUP_DIHEDRAL, 5), 4);
    irrep_name(GROUP_DIHEDRAL, 5, 3, buf, sizeof buf);
    assert_string_equal(buf, "2_2");
    assert_int_equal(irrep_count(GROUP_DIHEDRAL, 100), 53);
    char why[200];
    assert_int_equal(irrep_supported(GROUP_ALTERNATING, 5, why, sizeof why), 0);
    tu_assert_contains(why, "A_n");
    assert_int_equal(irrep_count(GROUP_ALTERNATING, 5), 0);
    group_data g;
    grok_err e;
    irrep_set s;
    assert_int_equal(group_init(&g, group_id_parse("A4"), &e), GROK_OK);
    assert_int_equal(irrep_build(&s, &g, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "A_n");
    group_free(&g);
}

/* a function on G from one irrep's matrix elements (random combination,
 * values in R^m) is 100% in that irrep: meas_irrep_fractions */
static void test_one_irrep_function(void **state)
{
    (void)state;
    const char *names[] = {"S4", "S5", "D7", "D8"};
    tu_xs xs = {0x5eed1234u};
    for (int q = 0; q < 4; q++) {
        built b;
        build(&b, names[q]);
        const int G = b.g.order, m = 3;
        double *B = malloc((size_t)G * G * sizeof *B), *X = malloc((size_t)G * m * sizeof *X),
               *C = malloc((size_t)G * m * sizeof *C);
        double frac[IRREP_MAX];
        assert_true(B && X && C);
        irrep_basis(&b.s, B);
        for (int i = 1; i < b.s.n; i++) {
            const int d = b.s.dim[i];
            double w[16 * 16 * 3];
            for (int k = 0; k < d * d * m; k++)
                w[k] = tu_xs_normal(&xs);
            for (int x = 0; x < G; x++) {
                const double *R = irrep_mat(&b.s, i, x);
                for (int c = 0; c < m; c++) {
                    double v = 0.7 * c; /* a constant too: removed by centring */
                    for (int k = 0; k < d * d; k++)
                        v += w[k * m + c] * R[k];
                    X[(size_t)x * m + c] = v;
                }
            }
            meas_irrep_fractions(frac, X, G, m, B, &b.s, C);
            for (int j = 0; j < b.s.n; j++)
                if (fabs(frac[j] - (i == j)) > 1e-9)
                    fail_msg("%s: function of irrep %d: fraction %g in irrep %d", names[q], i,
                             frac[j], j);
        }
        free(B), free(X), free(C);
        unbuild(&b);
    }
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_algebra_s3),
        cmocka_unit_test(test_algebra_s4),
        cmocka_unit_test(test_algebra_s5),
        cmocka_unit_test(test_algebra_s6),
        cmocka_unit_test(test_algebra_d5),
        cmocka_unit_test(test_algebra_d6),
        cmocka_unit_test(test_algebra_d100),
        cmocka_unit_test(test_one_irrep_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
