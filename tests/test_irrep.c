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
#include "measure.h"
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
/* constructed logits */

/* L(x, y)[z] = c chi_i(x y z^-1): the character is a function of x*y in
 * irrep i's span for every class z, so irrep i holds all the logit
 * variance, is the only key irrep, its restricted logits are the logits
 * (same loss) and the excluded ones are 0 (loss ln |G|). */
static void test_character_logits(void **state)
{
    (void)state;
    const char *names[] = {"S4", "D6"};
    for (int q = 0; q < 2; q++) {
        task_config tc = {.kind = TASK_KIND_GROUP, .group = group_id_parse(names[q]),
                          .group_op = TASK_GROUP_OP_XY, .frac_train = 0.5};
        task_data t;
        grok_err e;
        assert_int_equal(task_init(&t, &tc, 3, &e), GROK_OK);
        irrep_set s;
        assert_int_equal(irrep_build(&s, &t.grp, &e), GROK_OK);
        const int G = t.grp.order, N = G * G;
        double *B = malloc((size_t)G * G * sizeof *B), *L = malloc((size_t)N * G * sizeof *L),
               *PL = malloc((size_t)N * G * sizeof *PL), *A = malloc((size_t)G * G * sizeof *A),
               *C = malloc((size_t)G * G * sizeof *C), *Lr = malloc((size_t)N * G * sizeof *Lr);
        assert_true(B && L && PL && A && C && Lr);
        irrep_basis(&s, B);
        for (int i = 1; i < s.n; i++) {
            const int d = s.dim[i];
            for (int x = 0; x < G; x++)
                for (int y = 0; y < G; y++)
                    for (int z = 0; z < G; z++) {
                        const int xy = t.grp.mul[x * G + y];
                        const int g = t.grp.mul[xy * G + t.grp.inv[z]];
                        double chi = 0;
                        for (int a = 0; a < d; a++)
                            chi += irrep_mat(&s, i, g)[a * d + a];
                        L[((size_t)x * G + y) * G + z] = 3.0 * chi / d + 0.25 * z; /* + a class bias */
                    }
            double frac[IRREP_MAX];
            meas_irrep_logit_fractions(frac, L, G, t.grp.mul, t.grp.inv, B, &s, A, C);
            for (int j = 0; j < s.n; j++)
                if (fabs(frac[j] - (i == j)) > 1e-9)
                    fail_msg("%s: logits of irrep %d: fraction %g in irrep %d", names[q], i,
                             frac[j], j);
            const int key[1] = {i};
            meas_irrep_project(PL, L, G, t.grp.mul, t.grp.inv, B, &s, key, 1, A, C);
            meas_restricted_logits(Lr, L, PL, N, G, C);
            const double full = meas_ce(L, G, t.label, NULL, N, NULL);
            const double restricted = meas_ce(Lr, G, t.label, NULL, N, NULL);
            assert_true(fabs(full - restricted) < 1e-9);
            meas_excluded_logits(Lr, L, PL, N, G);
            double worst = 0; /* excluded = the class bias alone */
            for (size_t r = 0; r < (size_t)N; r++)
                for (int z = 0; z < G; z++)
                    worst = fmax(worst, fabs(Lr[r * G + z] - 0.25 * z));
            assert_true(worst < 1e-9);
            /* the other irreps: projecting on them removes nothing */
            const int other[1] = {i == 1 ? 2 : 1};
            meas_irrep_project(PL, L, G, t.grp.mul, t.grp.inv, B, &s, other, 1, A, C);
            worst = 0;
            for (size_t k = 0; k < (size_t)N * G; k++)
                worst = fmax(worst, fabs(PL[k]));
            assert_true(worst < 1e-9);
        }
        free(B), free(L), free(PL), free(A), free(C), free(Lr);
        irrep_free(&s);
        task_free(&t);
    }
}

/* ------------------------------------------------------------------------ */
/* golden: tests/gen_irrep_golden.py */

static const st_tensor *need(const st_file *f, const char *name, st_dtype dt)
{
    const st_tensor *t = st_find(f, name);
    if (!t)
        fail_msg("fixture lacks %s", name);
    assert_int_equal(t->dtype, dt);
    return t;
}

/* Tolerances: the C forward runs in float32, NumPy's in float64 from the
 * same float32 parameters (|logit| < 9; the differences seen are 3e-8 on
 * the losses, 2e-10 on the logit fractions of order 4e-3): losses 1e-6,
 * logit fractions 1e-8 absolute.  The embedding and unembedding fractions
 * are double computations on the same float32 weights: 1e-10. */
#define TOL_LOSS 1e-6
#define TOL_LOGIT_FRAC 1e-8
#define TOL_PARAM 1e-10

static void check_fracs(const char *what, const double *got, const st_tensor *want, double tol)
{
    tu_check_close_d(what, got, (const double *)want->data, (size_t)want->shape[0],
                     (tu_tol){.abs = tol});
}

static void test_golden(void **state)
{
    (void)state;
    st_file fx;
    grok_err e;
    char path[512];
    snprintf(path, sizeof path, "%s/irreps_s4.safetensors", GOLDEN_DIR);
    if (st_read(&fx, path, &e) != GROK_OK)
        fail_msg("%s", e.msg);
    const int G = 24;
    tfm_config mc = {.n_layers = atoi(st_meta_get(&fx, "n_layers")),
                     .d_model = atoi(st_meta_get(&fx, "d_model")),
                     .n_heads = atoi(st_meta_get(&fx, "n_heads")),
                     .d_head = atoi(st_meta_get(&fx, "d_head")),
                     .d_mlp = atoi(st_meta_get(&fx, "d_mlp")),
                     .d_vocab = G + 1,
                     .d_vocab_out = G,
                     .n_ctx = 3,
                     .act = TFM_ACT_RELU,
                     .init_scale = 1};
    const model_config mcfg = {.family = MODEL_TRANSFORMER, .tfm = mc};
    task_config tc = {.kind = TASK_KIND_GROUP, .group = group_id_parse(st_meta_get(&fx, "group")),
                      .group_op = TASK_GROUP_OP_XY, .frac_train = 0.3};
    model m;
    task_data t;
    long ep;
    assert_int_equal(model_init(&m, &mcfg, &e), GROK_OK);
    if (measure_load_checkpoint(m.tensors, m.n_tensors, m.params, path, &ep, &e) != GROK_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(task_init(&t, &tc, 0, &e), GROK_OK);
    assert_int_equal(t.grp.order, G);
    const st_tensor *ord = need(&fx, "train_order", ST_I32);
    assert_int_equal(ord->shape[0], t.n_all);
    assert_int_equal(atoi(st_meta_get(&fx, "n_train")), t.n_train);
    memcpy(t.order, ord->data, sizeof(int32_t) * (size_t)t.n_all);

    meas_workspace *ws;
    assert_int_equal(meas_workspace_alloc(&ws, &m, &t, NULL, &e), GROK_OK);
    assert_true(meas_workspace_have(ws) & MEAS_NEED_GROUP);
    /* the model's own key irreps (the rule) */
    meas_row row = {.epoch = 0};
    assert_int_equal(meas_compute(ws, &m, &t, NULL, &row, &e), GROK_OK);
    assert_int_equal(row.n_irreps, 5);
    check_fracs("embed", row.irrep_embed, need(&fx, "expect.embed", ST_F64), TOL_PARAM);
    check_fracs("unembed", row.irrep_unembed, need(&fx, "expect.unembed", ST_F64), TOL_PARAM);
    check_fracs("logit", row.irrep_logit, need(&fx, "expect.logit", ST_F64), TOL_LOGIT_FRAC);
    const st_tensor *k = need(&fx, "expect.key_irreps", ST_I32);
    assert_int_equal(row.n_key_irreps, (int)k->shape[0]);
    for (int i = 0; i < row.n_key_irreps; i++)
        assert_int_equal(row.key_irreps[i], ((const int32_t *)k->data)[i]);
    double want = *(const double *)need(&fx, "expect.loss_restricted_irrep", ST_F64)->data;
    tu_check_close_d("loss_restricted_irrep", &row.loss_restricted_irrep, &want, 1,
                     (tu_tol){.abs = TOL_LOSS});
    want = *(const double *)need(&fx, "expect.loss_excluded_irrep", ST_F64)->data;
    tu_check_close_d("loss_excluded_irrep", &row.loss_excluded_irrep, &want, 1,
                     (tu_tol){.abs = TOL_LOSS});
    meas_freqs own;
    assert_int_equal(meas_key_irreps(ws, &m, &own, &e), GROK_OK);
    assert_int_equal(own.n_irreps, row.n_key_irreps);
    check_fracs("key logit", own.irrep_logit, need(&fx, "expect.logit", ST_F64), TOL_LOGIT_FRAC);

    /* fixed key irreps, as a run uses the final model's */
    meas_freqs key;
    memset(&key, 0, sizeof key);
    const st_tensor *fk = need(&fx, "fixed.key_irreps", ST_I32);
    key.n_irreps = (int)fk->shape[0];
    for (int i = 0; i < key.n_irreps; i++)
        key.irreps[i] = ((const int32_t *)fk->data)[i];
    assert_int_equal(meas_compute(ws, &m, &t, &key, &row, &e), GROK_OK);
    want = *(const double *)need(&fx, "fixed.loss_restricted_irrep", ST_F64)->data;
    tu_check_close_d("fixed loss_restricted_irrep", &row.loss_restricted_irrep, &want, 1,
                     (tu_tol){.abs = TOL_LOSS});
    want = *(const double *)need(&fx, "fixed.loss_excluded_irrep", ST_F64)->data;
    tu_check_close_d("fixed loss_excluded_irrep", &row.loss_excluded_irrep, &want, 1,
                     (tu_tol){.abs = TOL_LOSS});
    sbuf b;
    sbuf_init(&b);
    meas_format_row(&row, MEAS_FILE_MEASURES, &b);
    tu_assert_contains(b.data, "\t31,211\t");
    sbuf_clear(&b);
    meas_format_header(&m, &t, MEAS_FILE_IRREPS, &b);
    assert_string_equal(b.data, "epoch\tembed_4\tembed_31\tembed_22\tembed_211\tembed_1111"
                                "\tunembed_4\tunembed_31\tunembed_22\tunembed_211\tunembed_1111"
                                "\tlogit_4\tlogit_31\tlogit_22\tlogit_211\tlogit_1111\n");
    /* a bad key list */
    key.irreps[0] = 0;
    assert_int_equal(meas_compute(ws, &m, &t, &key, &row, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "key irrep");
    sbuf_free(&b);
    meas_workspace_free(ws);
    task_free(&t);
    model_free(&m);
    st_file_free(&fx);
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
        cmocka_unit_test(test_character_logits),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
