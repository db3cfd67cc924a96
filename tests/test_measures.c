/* test_measures.c: the progress measures (measures/fourier.h, measures/meas.h)
 * and the run-directory pass (experiments/measure.h).
 *
 * Properties, on inputs built here:
 * - the Fourier basis is orthonormal; the 1-D transform agrees with GSL's FFT
 *   (gsl_fft_real_transform) up to the basis's scaling; the 2-D transform
 *   keeps the norm (Parseval) and its inverse undoes it; a signal built from
 *   known 2-D components is recovered exactly;
 * - the sum directions are orthonormal and proportional to cos/sin(w(a+b));
 *   the projection is idempotent; restricted + excluded logits add back to
 *   the whole (plus the mean correction); logits that lie entirely in the
 *   key-frequency directions have restricted loss equal to their full loss;
 * - Gini: 0 for a flat vector, 1 - 1/n for a one-hot one, and a hand value;
 * - rule R1 on hand-built neurons with known frequency content;
 * - non-Fourier tasks (rand, div) give only the general columns;
 * - the phase rule on synthetic curves, the resume-safe TSV writer, the
 *   checkpoint loader's error paths, and `grok measure DIR` on a small run
 *   directory: same bytes with 1 and 2 jobs.
 * - the per-frequency excluded loss (grouped by s) against K direct passes;
 *   logits of one frequency alone give log p when it is removed (also where
 *   the products of exponentials underflow); alpha_k against the cubes built
 *   point by point, sum alpha^2 + residual^2 = |L|^2, template logits give
 *   alpha = beta and no residual; the cluster rule on a constructed table.
 * Golden: tests/gen_measures_golden.py computed every measure with NumPy from
 * docs/measures.md for the planted model in tests/golden/measures_p13.safetensors;
 * tests/gen_nanda_golden.py the per-frequency and 3-D excluded losses, alpha_k,
 * the heads' frequencies and the cluster rule on the same model
 * (tests/golden/nanda_p13.safetensors); each is compared here with the
 * tolerance written beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gsl/gsl_fft_real.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "fourier.h"
#include "meas.h"
#include "measure.h"
#include "safetensors.h"
#include "testutil.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

/* ------------------------------------------------------------------------ */
/* helpers */

static void check_scalar(const char *what, double got, double want, double abs_tol)
{
    tu_check_close_d(what, &got, &want, 1, (tu_tol){.abs = abs_tol});
}

/* ------------------------------------------------------------------------ */
/* Fourier basis and transforms */

static void test_basis_orthonormal(void **state)
{
    (void)state;
    const int ps[] = {3, 13, 113};
    for (size_t t = 0; t < 3; t++) {
        const int p = ps[t];
        double *F = malloc(sizeof(double) * p * p);
        fourier_basis(F, p);
        double worst = 0;
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) {
                double s = 0;
                for (int x = 0; x < p; x++)
                    s += F[i * p + x] * F[j * p + x];
                worst = fmax(worst, fabs(s - (i == j)));
            }
        printf("# basis p=%-3d max |F F^T - I| = %.3g\n", p, worst);
        assert_true(worst < 1e-13);
        /* the order: const, cos 1, sin 1, ... */
        assert_true(fabs(F[0] - 1 / sqrt(p)) < 1e-15);
        assert_true(fabs(F[1 * p + 1] / F[1 * p + 0] - cos(2 * M_PI / p)) < 1e-13);
        assert_true(fabs(F[2 * p + 0]) < 1e-15 && F[2 * p + 1] > 0);
        free(F);
    }
    grok_err e;
    assert_int_equal(fourier_check_p(12, &e), GROK_EINVAL);
    assert_non_null(strstr(e.msg, "p = 12"));
    assert_int_equal(fourier_check_p(113, &e), GROK_OK);
}

/* cos/sin coefficients against GSL's mixed-radix real FFT:
 * X_k = sum_x t_x e^{-2 pi i k x / p}, so cos_k = Re X_k / sqrt(p/2) and
 * sin_k = -Im X_k / sqrt(p/2), const = X_0 / sqrt(p). */
static void test_1d_against_gsl_fft(void **state)
{
    (void)state;
    const int p = 113, K = fourier_n_freqs(p), n = 3;
    double *F = malloc(sizeof(double) * p * p), x[3 * 113], got[3 * 113], want[3 * 113], d[113];
    fourier_basis(F, p);
    tu_xs g = {2385};
    for (int i = 0; i < n * p; i++)
        x[i] = tu_xs_normal(&g) + 2.385;
    fourier_1d(got, x, F, n, p);
    gsl_fft_real_wavetable *wt = gsl_fft_real_wavetable_alloc((size_t)p);
    gsl_fft_real_workspace *wk = gsl_fft_real_workspace_alloc((size_t)p);
    for (int r = 0; r < n; r++) {
        memcpy(d, x + r * p, sizeof d);
        gsl_fft_real_transform(d, 1, (size_t)p, wt, wk);
        /* halfcomplex: d[0] = X_0, d[2k-1] = Re X_k, d[2k] = Im X_k */
        want[r * p] = d[0] / sqrt(p);
        for (int k = 1; k <= K; k++) {
            want[r * p + 2 * k - 1] = d[2 * k - 1] / sqrt(p / 2.0);
            want[r * p + 2 * k] = -d[2 * k] / sqrt(p / 2.0);
        }
    }
    tu_check_close_d("fourier_1d vs gsl_fft_real", got, want, (size_t)n * p,
                     (tu_tol){.abs = 1e-12});
    gsl_fft_real_wavetable_free(wt);
    gsl_fft_real_workspace_free(wk);
    free(F);
}

/* naive 2-D transform, straight from the definition */
static void naive_2d(double *out, const double *x, const double *F, int p, int m)
{
    for (int f = 0; f < p; f++)
        for (int g = 0; g < p; g++)
            for (int z = 0; z < m; z++) {
                double s = 0;
                for (int a = 0; a < p; a++)
                    for (int b = 0; b < p; b++)
                        s += F[f * p + a] * F[g * p + b] * x[((size_t)a * p + b) * m + z];
                out[((size_t)f * p + g) * m + z] = s;
            }
}

static void test_2d_parseval_roundtrip_naive(void **state)
{
    (void)state;
    const int p = 13, m = 5;
    const size_t n = (size_t)p * p * m;
    double F[13 * 13], *x = malloc(n * 8), *y = malloc(n * 8), *z = malloc(n * 8),
                       *t = malloc(n * 8), *ref = malloc(n * 8);
    fourier_basis(F, p);
    tu_xs g = {99};
    for (size_t i = 0; i < n; i++)
        x[i] = tu_xs_normal(&g) * 2.385 + 0.7;
    fourier_2d(y, x, t, F, p, m, 0);
    naive_2d(ref, x, F, p, m);
    tu_check_close_d("fourier_2d vs naive", y, ref, n, (tu_tol){.abs = 1e-12});
    for (int j = 0; j < m; j++) {
        double nx = 0, ny = 0;
        for (int r = 0; r < p * p; r++) {
            nx += x[r * m + j] * x[r * m + j];
            ny += y[r * m + j] * y[r * m + j];
        }
        check_scalar("Parseval |x|^2 vs |x^|^2", ny, nx, 1e-11 * nx);
    }
    fourier_2d(z, y, t, F, p, m, 1);
    tu_check_close_d("inverse(fourier_2d(x)) vs x", z, x, n, (tu_tol){.abs = 1e-12});
    free(x), free(y), free(z), free(t), free(ref);
}

/* A signal built from known components (by the definition: sum of
 * c_fg F[f,a] F[g,b]) transforms to exactly those components. */
static void test_known_signal_recovered(void **state)
{
    (void)state;
    const int p = 17, P2 = 17 * 17;
    double F[17 * 17], x[17 * 17], y[17 * 17], t[17 * 17], want[17 * 17] = {0};
    fourier_basis(F, p);
    want[fourier_cos_row(3) * p + fourier_cos_row(3)] = 2.385;
    want[fourier_sin_row(3) * p + 0] = -1.25;
    want[0 * p + fourier_sin_row(7)] = 0.5;
    want[fourier_cos_row(8) * p + fourier_sin_row(1)] = 3.0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            double s = 0;
            for (int i = 0; i < P2; i++)
                if (want[i] != 0)
                    s += want[i] * F[(i / p) * p + a] * F[(i % p) * p + b];
            x[a * p + b] = s;
        }
    fourier_2d(y, x, t, F, p, 1, 0);
    tu_check_close_d("known components recovered", y, want, P2, (tu_tol){.abs = 1e-13});
}

static void test_sum_directions(void **state)
{
    (void)state;
    const int p = 13, K = 6, P2 = 169;
    double F[169], *D = malloc(sizeof(double) * 2 * K * P2);
    fourier_basis(F, p);
    fourier_sum_dirs(D, F, p);
    double worst = 0, worst_cos = 0;
    for (int i = 0; i < 2 * K; i++)
        for (int j = 0; j < 2 * K; j++) {
            double s = 0;
            for (int r = 0; r < P2; r++)
                s += D[i * P2 + r] * D[j * P2 + r];
            worst = fmax(worst, fabs(s - (i == j)));
        }
    /* u_k = cos(w(a+b)) / |.|, v_k = sin(w(a+b)) / |.|; |cos(w(a+b))| = p/sqrt 2 */
    for (int k = 1; k <= K; k++)
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++) {
                const double w = 2 * M_PI * k * (a + b) / p;
                worst_cos = fmax(worst_cos, fabs(D[(2 * k - 2) * P2 + a * p + b] -
                                                 cos(w) * sqrt(2.0) / p));
                worst_cos = fmax(worst_cos, fabs(D[(2 * k - 1) * P2 + a * p + b] -
                                                 sin(w) * sqrt(2.0) / p));
            }
    printf("# sum directions: max |D D^T - I| %.3g, max |u - cos(w(a+b))/norm| %.3g\n", worst,
           worst_cos);
    assert_true(worst < 1e-13 && worst_cos < 1e-13);
    free(D);
}

/* ------------------------------------------------------------------------ */
/* restricted / excluded */

static void test_projection_properties(void **state)
{
    (void)state;
    const int p = 13, K = 6, P2 = 169, m = 13;
    const size_t n = (size_t)P2 * m;
    double F[169], *D = malloc(sizeof(double) * 2 * K * P2), coef[2 * 6 * 13], mu[26];
    double *L = malloc(n * 8), *PL = malloc(n * 8), *PPL = malloc(n * 8), *R = malloc(n * 8),
           *X = malloc(n * 8), *sum = malloc(n * 8), *want = malloc(n * 8);
    fourier_basis(F, p);
    fourier_sum_dirs(D, F, p);
    tu_xs g = {7};
    for (size_t i = 0; i < n; i++)
        L[i] = tu_xs_normal(&g) * 2.385;
    const int keys[] = {1, 4, 6};
    meas_project_sum(PL, L, D, keys, 3, p, m, coef);
    meas_project_sum(PPL, PL, D, keys, 3, p, m, coef);
    tu_check_close_d("projection idempotent P(PL) = PL", PPL, PL, n, (tu_tol){.abs = 1e-13});
    /* restricted + excluded = L + 1 (mean L - mean PL) */
    meas_restricted_logits(R, L, PL, P2, m, mu);
    meas_excluded_logits(X, L, PL, P2, m);
    for (int j = 0; j < m; j++) {
        double ml = 0, mp = 0;
        for (int r = 0; r < P2; r++)
            ml += L[r * m + j], mp += PL[r * m + j];
        for (int r = 0; r < P2; r++) {
            sum[r * m + j] = R[r * m + j] + X[r * m + j];
            want[r * m + j] = L[r * m + j] + (ml - mp) / P2;
        }
    }
    tu_check_close_d("restricted + excluded = whole", sum, want, n, (tu_tol){.abs = 1e-13});
    /* the projection against the definition sum_k (u u^T + v v^T) L */
    for (size_t i = 0; i < n; i++)
        want[i] = 0;
    for (int q = 0; q < 3; q++)
        for (int h = 0; h < 2; h++) {
            const double *d = D + (size_t)(2 * (keys[q] - 1) + h) * P2;
            for (int j = 0; j < m; j++) {
                double c = 0;
                for (int r = 0; r < P2; r++)
                    c += d[r] * L[r * m + j];
                for (int r = 0; r < P2; r++)
                    want[r * m + j] += d[r] * c;
            }
        }
    tu_check_close_d("projection vs outer products", PL, want, n, (tu_tol){.abs = 1e-13});
    /* no keys: PL = 0, restricted logits = the class means */
    meas_project_sum(PL, L, D, keys, 0, p, m, coef);
    for (size_t i = 0; i < n; i++)
        assert_true(PL[i] == 0);
    free(D), free(L), free(PL), free(PPL), free(R), free(X), free(sum), free(want);
}

static void test_restricted_of_key_logits_is_full(void **state)
{
    (void)state;
    const int p = 13, K = 6, P2 = 169, m = 13;
    const size_t n = (size_t)P2 * m;
    double F[169], *D = malloc(sizeof(double) * 2 * K * P2), coef[2 * 6 * 13], mu[26];
    double *L = calloc(n, 8), *PL = malloc(n * 8), *R = malloc(n * 8);
    int32_t labels[169];
    fourier_basis(F, p);
    fourier_sum_dirs(D, F, p);
    tu_xs g = {11};
    const int keys[] = {2, 5};
    /* L = sum_k u_k alpha_k^T + v_k beta_k^T + 1 c^T (a class bias, which the
     * mean correction keeps) */
    for (int q = 0; q < 2; q++)
        for (int h = 0; h < 2; h++) {
            const double *d = D + (size_t)(2 * (keys[q] - 1) + h) * P2;
            for (int j = 0; j < m; j++) {
                const double c = 20 * tu_xs_normal(&g);
                for (int r = 0; r < P2; r++)
                    L[r * m + j] += d[r] * c;
            }
        }
    for (int j = 0; j < m; j++) {
        const double c = tu_xs_normal(&g);
        for (int r = 0; r < P2; r++)
            L[r * m + j] += c;
    }
    for (int r = 0; r < P2; r++)
        labels[r] = ((r / p) + (r % p)) % p;
    meas_project_sum(PL, L, D, keys, 2, p, m, coef);
    meas_restricted_logits(R, L, PL, P2, m, mu);
    int c1, c2;
    const double full = meas_ce(L, m, labels, NULL, P2, &c1);
    const double res = meas_ce(R, m, labels, NULL, P2, &c2);
    check_scalar("restricted loss of key-only logits", res, full, 1e-12);
    assert_int_equal(c1, c2);
    /* and the excluded loss of such logits is that of the class bias alone */
    meas_excluded_logits(R, L, PL, P2, m);
    double worst = 0;
    for (int r = 1; r < P2; r++)
        for (int j = 0; j < m; j++)
            worst = fmax(worst, fabs(R[r * m + j] - R[j]));
    printf("# excluded logits of key-only logits: max spread over inputs %.3g\n", worst);
    assert_true(worst < 1e-12);
    free(D), free(L), free(PL), free(R);
}

static void test_ce(void **state)
{
    (void)state;
    const double L[] = {1.0, 2.0, 3.0, 10.0, -5.0, 2.385};
    const int32_t lab[] = {2, 1};
    const int32_t rows[] = {1};
    int c;
    const double l0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3.0;
    const double l1 = log(exp(10.0) + exp(-5.0) + exp(2.385)) + 5.0;
    check_scalar("meas_ce all rows", meas_ce(L, 3, lab, NULL, 2, &c), (l0 + l1) / 2, 1e-14);
    assert_int_equal(c, 1);
    check_scalar("meas_ce selected row", meas_ce(L, 3, lab, rows, 1, &c), l1, 1e-14);
    assert_int_equal(c, 0);
}

/* ------------------------------------------------------------------------ */
/* Gini, R1 */

static void test_gini(void **state)
{
    (void)state;
    double c[64], s[64];
    for (int n = 1; n <= 64; n *= 4) {
        for (int i = 0; i < n; i++)
            c[i] = 2.385;
        check_scalar("gini flat", meas_gini(c, n, s), 0, 1e-15);
        for (int i = 0; i < n; i++)
            c[i] = i == n / 3 ? 2.385 : 0;
        check_scalar("gini one-hot = 1 - 1/n", meas_gini(c, n, s), 1 - 1.0 / n, 1e-15);
    }
    /* {1, 2, 3, 4}: 2 (1 + 4 + 9 + 16) / (4 * 10) - 5/4 = 0.25 (any order) */
    const double h[] = {3, 1, 4, 2};
    check_scalar("gini {3,1,4,2}", meas_gini(h, 4, s), 0.25, 1e-15);
    assert_true(h[0] == 3 && h[2] == 4); /* input untouched */
    for (int i = 0; i < 8; i++)
        c[i] = 0;
    check_scalar("gini all zero", meas_gini(c, 8, s), 0, 0);
}

/* Neurons built in the 2-D basis: column 0 only frequency 3 (u_3 direction:
 * frac 1); column 1 with 90% of its energy in the 3x3 block of k = 2 and 10%
 * in that of k = 5; column 2 zero (no variance: frequency 0); column 3 a
 * (const, cos 4) linear term with a (cos 1, cos 1) term of 0.49 of its energy.
 * The transform is given directly (Nh), as meas_neuron_fve expects. */
static void test_neuron_rule(void **state)
{
    (void)state;
    const int p = 13, c = 4;
    double Nh[169 * 4] = {0}, frac[4];
    int best[4];
#define AT(f, g, j) Nh[((f) * p + (g)) * c + (j)]
    AT(5, 5, 0) = 1 / sqrt(2.0), AT(6, 6, 0) = -1 / sqrt(2.0); /* u_3 */
    AT(3, 4, 1) = sqrt(0.5), AT(0, 3, 1) = sqrt(0.4), AT(10, 9, 1) = sqrt(0.1);
    AT(0, 7, 3) = sqrt(0.51), AT(1, 1, 3) = sqrt(0.49);
#undef AT
    meas_neuron_fve(best, frac, Nh, p, c);
    printf("# R1 hand-built: best %d %d %d %d, frac %.17g %.17g %.17g %.17g\n", best[0], best[1],
           best[2], best[3], frac[0], frac[1], frac[2], frac[3]);
    assert_int_equal(best[0], 3);
    assert_int_equal(best[1], 2);
    assert_int_equal(best[2], 0);
    assert_int_equal(best[3], 4);
    const double want[] = {1, 0.9, 0, 0.51};
    tu_check_close_d("R1 fractions explained", frac, want, 4, (tu_tol){.abs = 1e-15});
}

/* ------------------------------------------------------------------------ */
/* the golden fixture */

static const char *const scalar_names[] = {
    "loss_train",       "loss_test",        "acc_train",    "acc_test",
    "loss_restricted",  "loss_restricted_train", "acc_restricted", "loss_excluded",
    "acc_excluded",     "gini_WE",          "gini_WL",      "gini_WE_nonconst",
    "gini_WL_nonconst", "gini_WE_freq",     "gini_WL_freq", "sum_sq_weights"};

static double row_field(const meas_row *r, const char *name)
{
    const struct {
        const char *n;
        double v;
    } f[] = {{"loss_train", r->loss_train},
             {"loss_test", r->loss_test},
             {"acc_train", r->acc_train},
             {"acc_test", r->acc_test},
             {"loss_restricted", r->loss_restricted},
             {"loss_restricted_train", r->loss_restricted_train},
             {"acc_restricted", r->acc_restricted},
             {"loss_excluded", r->loss_excluded},
             {"acc_excluded", r->acc_excluded},
             {"gini_WE", r->gini_WE},
             {"gini_WL", r->gini_WL},
             {"gini_WE_nonconst", r->gini_WE_nonconst},
             {"gini_WL_nonconst", r->gini_WL_nonconst},
             {"gini_WE_freq", r->gini_WE_freq},
             {"gini_WL_freq", r->gini_WL_freq},
             {"sum_sq_weights", r->sum_sq_weights}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (strcmp(f[i].n, name) == 0)
            return f[i].v;
    fail_msg("no field %s", name);
    return 0;
}

/* Tolerances (C: float32 forward; NumPy: float64 forward of the same float32
 * parameters).  The float32 logits differ from the float64 ones by ~1e-6 of
 * their size (|logit| < 20 here), so every loss computed from logits gets
 * 2e-5 absolute; accuracies and every argmax-based outcome must match
 * exactly (the generator checked the margins).  Measures of the parameters
 * alone (Gini, spectra, sums of squares) are double computations on the same
 * float32 values on both sides: 1e-12. */
#define TOL_LOSS 2e-5
#define TOL_PARAM 1e-12

static double tol_for(const char *name)
{
    if (strncmp(name, "acc_", 4) == 0)
        return 0;
    if (strncmp(name, "gini", 4) == 0 || strcmp(name, "sum_sq_weights") == 0)
        return TOL_PARAM;
    return TOL_LOSS;
}

static const st_tensor *need(const st_file *f, const char *name, st_dtype dt)
{
    const st_tensor *t = st_find(f, name);
    if (!t)
        fail_msg("fixture lacks %s", name);
    assert_int_equal(t->dtype, dt);
    return t;
}
static double need_f64(const st_file *f, const char *name)
{
    return *(const double *)need(f, name, ST_F64)->data;
}

typedef struct {
    st_file fx;
    model m;
    task_data t;
    meas_workspace *ws;
} golden;

static int golden_setup(void **state)
{
    golden *g = calloc(1, sizeof *g);
    grok_err e;
    char path[512];
    snprintf(path, sizeof path, "%s/measures_p13.safetensors", GOLDEN_DIR);
    if (st_read(&g->fx, path, &e) != GROK_OK) {
        printf("# %s\n", e.msg);
        return -1;
    }
    const int p = atoi(st_meta_get(&g->fx, "p"));
    tfm_config mc = {.n_layers = atoi(st_meta_get(&g->fx, "n_layers")),
                     .d_model = atoi(st_meta_get(&g->fx, "d_model")),
                     .n_heads = atoi(st_meta_get(&g->fx, "n_heads")),
                     .d_head = atoi(st_meta_get(&g->fx, "d_head")),
                     .d_mlp = atoi(st_meta_get(&g->fx, "d_mlp")),
                     .d_vocab = p + 1,
                     .d_vocab_out = p,
                     .n_ctx = 3,
                     .act = TFM_ACT_RELU,
                     .init_scale = 1};
    task_config tc = {.op = TASK_OP_ADD, .p = p, .frac_train = 0.3};
    long ep;
    const model_config mcfg = {.family = MODEL_TRANSFORMER, .tfm = mc};
    if (model_init(&g->m, &mcfg, &e) != GROK_OK ||
        measure_load_checkpoint(g->m.tensors, g->m.n_tensors, g->m.params, path, &ep, &e) ||
        task_init(&g->t, &tc, 0, &e) != GROK_OK) {
        printf("# %s\n", e.msg);
        return -1;
    }
    /* the fixture's split replaces the seed's */
    const st_tensor *ord = st_find(&g->fx, "train_order");
    if (!ord || ord->shape[0] != g->t.n_all ||
        atoi(st_meta_get(&g->fx, "n_train")) != g->t.n_train)
        return -1;
    memcpy(g->t.order, ord->data, sizeof(int32_t) * (size_t)g->t.n_all);
    if (meas_workspace_alloc(&g->ws, &g->m, &g->t, NULL, &e) != GROK_OK) {
        printf("# %s\n", e.msg);
        return -1;
    }
    *state = g;
    return 0;
}

static int golden_teardown(void **state)
{
    golden *g = *state;
    if (!g)
        return 0;
    meas_workspace_free(g->ws);
    task_free(&g->t);
    model_free(&g->m);
    st_file_free(&g->fx);
    free(g);
    return 0;
}

static void test_golden_measures(void **state)
{
    golden *g = *state;
    const st_file *f = &g->fx;
    const int p = g->t.cfg.p, K = fourier_n_freqs(p), M = g->m.cfg.tfm.d_mlp, P2 = p * p;
    grok_err e;
    meas_row row = {.epoch = 7};
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, NULL, &row, &e), GROK_OK);
    assert_int_equal(row.epoch, 7);
    assert_int_equal(row.fourier, 1);

    /* the forward first, so that a mismatch in the measures is not a model
     * bug: float32 logits within 1e-5 of the largest float64 logit */
    {
        tfm_acts *acts = tfm_acts_alloc(&g->m.tfm, P2);
        int32_t *tok = malloc(sizeof(int32_t) * 3 * P2);
        double *lg = malloc(sizeof(double) * P2 * p);
        assert_non_null(acts);
        for (int r = 0; r < P2; r++)
            tok[3 * r] = r / p, tok[3 * r + 1] = r % p, tok[3 * r + 2] = p;
        tfm_forward(&g->m.tfm, acts, tok, P2);
        for (int i = 0; i < P2 * p; i++)
            lg[i] = tfm_logits(acts)[i];
        const double *want = need(f, "expect.logits", ST_F64)->data;
        double mx = 0;
        for (int i = 0; i < P2 * p; i++)
            mx = fmax(mx, fabs(want[i]));
        tu_check_close_d("logits (float32 forward)", lg, want, (size_t)P2 * p,
                         (tu_tol){.abs = 1e-5 * mx});
        free(lg), free(tok);
        tfm_acts_free(acts);
    }
    for (size_t i = 0; i < sizeof scalar_names / sizeof scalar_names[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "expect.%s", scalar_names[i]);
        check_scalar(key, row_field(&row, scalar_names[i]), need_f64(f, key),
                     tol_for(scalar_names[i]));
    }
    for (int i = 0; i < g->m.n_tensors; i++) {
        char key[96];
        snprintf(key, sizeof key, "expect.sq.%s", g->m.tensors[i].name);
        check_scalar(key, row.sq[i], need_f64(f, key), TOL_PARAM * need_f64(f, key));
    }
    tu_check_close_d("expect.embed", row.embed, need(f, "expect.embed", ST_F64)->data,
                     (size_t)K + 1, (tu_tol){.abs = TOL_PARAM, .rel = 1e-12});

    /* key frequencies (R1 on this model), neurons, clusters: exact */
    const st_tensor *kf = need(f, "expect.key_freqs", ST_I32);
    assert_int_equal(row.n_key_freqs, kf->shape[0]);
    for (int i = 0; i < row.n_key_freqs; i++)
        assert_int_equal(row.key_freqs[i], ((const int32_t *)kf->data)[i]);
    meas_freqs own;
    assert_int_equal(meas_key_freqs(g->ws, &g->m, &own, &e), GROK_OK);
    assert_int_equal(own.n, row.n_key_freqs);
    assert_int_equal(own.n_dead, *(const int32_t *)need(f, "expect.n_dead", ST_I32)->data);
    assert_int_equal(own.n_neurons, M);
    const st_tensor *cf = need(f, "expect.cluster_freq", ST_I32),
                    *cs = need(f, "expect.cluster_size", ST_I32);
    assert_int_equal(own.n_clusters, cf->shape[0]);
    for (int i = 0; i < own.n_clusters; i++) {
        assert_int_equal(own.cluster_k[i], ((const int32_t *)cf->data)[i]);
        assert_int_equal(own.cluster_size[i], ((const int32_t *)cs->data)[i]);
    }
    printf("# key freqs %d (clusters:", own.n);
    for (int i = 0; i < own.n_clusters; i++)
        printf(" %d x%d", own.cluster_k[i], own.cluster_size[i]);
    printf("), dead neurons %d\n", own.n_dead);

    /* neurons.tsv against the fixture's table */
    sbuf b;
    sbuf_init(&b);
    assert_int_equal(meas_format_neurons(g->ws, &b, &e), GROK_OK);
    const int32_t *nf = need(f, "expect.neuron_freq", ST_I32)->data;
    const double *nfr = need(f, "expect.neuron_frac", ST_F64)->data;
    double frac[64];
    const char *s = strchr(b.data, '\n') + 1;
    assert_int_equal(strncmp(b.data, "neuron\tfreq\tfrac_explained\n", (size_t)(s - b.data)), 0);
    for (int j = 0; j < M; j++) {
        int jj, k;
        assert_int_equal(sscanf(s, "%d\t%d\t%lf", &jj, &k, &frac[j]), 3);
        assert_int_equal(jj, j);
        assert_int_equal(k, nf[j]);
        s = strchr(s, '\n') + 1;
    }
    /* FVE from float32 activations: 1e-5 (the %.9g text adds < 1e-9) */
    tu_check_close_d("neuron frac_explained", frac, nfr, (size_t)M, (tu_tol){.abs = 1e-5});

    /* the attention of the '=' position (float32 forward vs float64) */
    sbuf_clear(&b);
    assert_int_equal(meas_format_attention(g->ws, &g->t, &b, &e), GROK_OK);
    const int H = g->m.cfg.tfm.n_heads;
    double *att = malloc(sizeof(double) * P2 * H * 3);
    s = strchr(b.data, '\n') + 1;
    for (int r = 0; r < P2; r++)
        for (int h = 0; h < H; h++) {
            int a, bb, hh;
            double *x = att + ((size_t)r * H + h) * 3;
            assert_int_equal(sscanf(s, "%d\t%d\t%d\t%lf\t%lf\t%lf", &a, &bb, &hh, x, x + 1, x + 2),
                             6);
            assert_true(a == r / p && bb == r % p && hh == h);
            s = strchr(s, '\n') + 1;
        }
    assert_int_equal(*s, '\0');
    tu_check_close_d("attention of '='", att, need(f, "expect.attention", ST_F64)->data,
                     (size_t)P2 * H * 3, (tu_tol){.abs = 1e-6});
    free(att);

    /* the logit spectrum: 1e-5 of its largest entry (float32 logits) */
    sbuf_clear(&b);
    assert_int_equal(meas_format_logit_spectrum(g->ws, 7, &b, &e), GROK_OK);
    const char *head = "# logit 2D Fourier spectrum, epoch 7, rows/cols: const cos1 sin1 cos2";
    assert_int_equal(strncmp(b.data, head, strlen(head)), 0);
    double *spec = malloc(sizeof(double) * P2);
    s = strchr(b.data, '\n') + 1;
    for (int i = 0; i < P2; i++) {
        char *end;
        spec[i] = strtod(s, &end);
        assert_true(end != s && (*end == '\t' || *end == '\n'));
        s = end + 1;
    }
    const double *ws_ = need(f, "expect.logit_spectrum", ST_F64)->data;
    double mx = 0;
    for (int i = 0; i < P2; i++)
        mx = fmax(mx, ws_[i]);
    tu_check_close_d("logit spectrum", spec, ws_, (size_t)P2, (tu_tol){.abs = 1e-5 * mx});
    free(spec);
    sbuf_free(&b);
}

/* The same model with the key frequencies given (the path of grok measure):
 * a fixed, non-planted key set. */
static void test_golden_fixed_keys(void **state)
{
    golden *g = *state;
    const st_file *f = &g->fx;
    const st_tensor *fk = need(f, "fixed.key_freqs", ST_I32);
    meas_freqs key = {.n = (int)fk->shape[0]};
    for (int i = 0; i < key.n; i++)
        key.k[i] = ((const int32_t *)fk->data)[i];
    meas_row row = {.epoch = 0}; /* meas_compute keeps the caller's epoch */
    grok_err e;
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, &key, &row, &e), GROK_OK);
    assert_int_equal(row.n_key_freqs, key.n);
    const char *names[] = {"loss_restricted", "loss_restricted_train", "acc_restricted",
                           "loss_excluded", "acc_excluded"};
    for (int i = 0; i < 5; i++) {
        char k[64];
        snprintf(k, sizeof k, "fixed.%s", names[i]);
        check_scalar(k, row_field(&row, names[i]), need_f64(f, k), tol_for(names[i]));
    }
    /* bad key lists are refused */
    key.k[0] = 9;
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, &key, &row, &e), GROK_EINVAL);
    assert_non_null(strstr(e.msg, "key frequency"));
    key.k[0] = 0;
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, &key, &row, &e), GROK_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* the rest of Nanda et al.'s measures (tests/gen_nanda_golden.py) */

/* Per-frequency excluded loss the direct way: for each k, the projection on
 * {k} (meas_project_sum), L - PL, CE on rows: K full softmax passes. */
static void excluded_per_freq_direct(double *out, const double *L, int p, const int32_t *labels,
                                     const int32_t *rows, int n)
{
    const int K = fourier_n_freqs(p), P2 = p * p;
    double *F = malloc(sizeof(double) * p * p), *D = malloc(sizeof(double) * 2 * K * P2),
           *PL = malloc(sizeof(double) * P2 * p), *X = malloc(sizeof(double) * P2 * p),
           *coef = malloc(sizeof(double) * 2 * K * p);
    fourier_basis(F, p);
    fourier_sum_dirs(D, F, p);
    for (int k = 1; k <= K; k++) {
        meas_project_sum(PL, L, D, &k, 1, p, p, coef);
        meas_excluded_logits(X, L, PL, P2, p);
        out[k - 1] = meas_ce(X, p, labels, rows, n, NULL);
    }
    free(F), free(D), free(PL), free(X), free(coef);
}

/* C [K, P2, p]: cos(w_k(a+b-c)) / its norm, built point by point */
static double *cos_cubes(int p)
{
    const int K = fourier_n_freqs(p), P2 = p * p;
    double *C = malloc(sizeof(double) * K * P2 * p);
    for (int k = 1; k <= K; k++) {
        double *x = C + (size_t)(k - 1) * P2 * p, nn = 0;
        for (int r = 0; r < P2; r++)
            for (int c = 0; c < p; c++) {
                x[r * p + c] = cos(2 * M_PI * k * (r / p + r % p - c) / p);
                nn += x[r * p + c] * x[r * p + c];
            }
        for (int i = 0; i < P2 * p; i++)
            x[i] /= sqrt(nn);
    }
    return C;
}

/* Identities on logits built here (p = 13 and 11):
 * - the grouped per-frequency excluded loss equals K direct softmax passes;
 * - logits of one frequency k alone: excluding k leaves constant logits, CE =
 *   log p (also at 1000x scale, where the products of exponentials underflow
 *   and the direct fallback runs);
 * - alpha_k against <C_k, L> summed point by point; sum alpha^2 + residual^2
 *   = |L|^2; logits sum_k beta_k C_k give alpha = beta, residual 0, and 3-D
 *   excluded logits over every k that are 0 (CE log p). */
static void test_nanda_identities(void **state)
{
    (void)state;
    const int ps[] = {13, 11};
    for (int pi = 0; pi < 2; pi++) {
        const int p = ps[pi], K = fourier_n_freqs(p), P2 = p * p;
        const size_t n = (size_t)P2 * p;
        double *L = malloc(n * 8), *Lx = malloc(n * 8), *F = malloc(sizeof(double) * p * p),
               *D = malloc(sizeof(double) * 2 * K * P2), *C = cos_cubes(p);
        double *scr = malloc(sizeof(double) * (meas_excluded_per_freq_scratch(p) + 2 * P2 + p));
        int *iscr = malloc(sizeof(int) * (P2 + p + 1));
        int32_t *labels = malloc(sizeof(int32_t) * P2), *rows = malloc(sizeof(int32_t) * P2);
        double got[MEAS_MAX_K], want[MEAS_MAX_K], alpha[MEAS_MAX_K], beta[MEAS_MAX_K];
        tu_xs g = {31 + (uint64_t)p};
        for (size_t i = 0; i < n; i++)
            L[i] = 3 * tu_xs_normal(&g);
        for (int r = 0; r < P2; r++)
            labels[r] = (r / p + r % p) % p;
        /* a train subset in a shuffled order: every third row, reversed */
        int nr = 0;
        for (int r = P2 - 1; r >= 0; r--)
            if (r % 3 != 1)
                rows[nr++] = r;
        meas_excluded_per_freq(got, L, p, labels, rows, nr, scr, iscr);
        excluded_per_freq_direct(want, L, p, labels, rows, nr);
        tu_check_close_d("per-frequency excluded: grouped vs direct", got, want, (size_t)K,
                         (tu_tol){.abs = 1e-12});
        /* one frequency alone: u_k x1^T + v_k x2^T */
        fourier_basis(F, p);
        fourier_sum_dirs(D, F, p);
        const int k0 = 3;
        for (int scale = 1; scale <= 1000; scale *= 1000) {
            double x1[32], x2[32];
            for (int c = 0; c < p; c++)
                x1[c] = scale * tu_xs_normal(&g), x2[c] = scale * tu_xs_normal(&g);
            for (int r = 0; r < P2; r++)
                for (int c = 0; c < p; c++)
                    L[r * p + c] = D[(size_t)(2 * (k0 - 1)) * P2 + r] * x1[c] +
                                   D[(size_t)(2 * (k0 - 1) + 1) * P2 + r] * x2[c];
            meas_excluded_per_freq(got, L, p, labels, NULL, P2, scr, iscr);
            printf("# p %d, frequency %d alone (scale %d): excluded at k %.17g (log p %.17g)\n", p,
                   k0, scale, got[k0 - 1], log(p));
            check_scalar("excluded loss of the only frequency = log p", got[k0 - 1], log(p),
                         1e-12 * scale);
            excluded_per_freq_direct(want, L, p, labels, NULL, P2);
            tu_check_close_d("one frequency: grouped vs direct", got, want, (size_t)K,
                             (tu_tol){.abs = 1e-12 * scale, .rel = 1e-12});
        }
        /* alpha against the point-by-point cubes; Parseval */
        for (size_t i = 0; i < n; i++)
            L[i] = 3 * tu_xs_normal(&g) + 0.5 * (double)(i % 7);
        double norm, res;
        meas_coefs(alpha, &norm, &res, L, p, scr);
        double nn = 0, aa = 0;
        for (int k = 0; k < K; k++) {
            want[k] = 0;
            for (size_t i = 0; i < n; i++)
                want[k] += C[(size_t)k * n + i] * L[i];
            aa += alpha[k] * alpha[k];
        }
        for (size_t i = 0; i < n; i++)
            nn += L[i] * L[i];
        tu_check_close_d("alpha_k = <C_k, L>", alpha, want, (size_t)K, (tu_tol){.abs = 1e-11});
        check_scalar("|L|_F", norm, sqrt(nn), 1e-12 * sqrt(nn));
        check_scalar("sum alpha^2 + residual^2 = |L|^2", aa + res * res, nn, 1e-11 * nn);
        /* the 3-D excluded logits against the cubes, keys {1, K} */
        const int keys[] = {1, K};
        meas_excluded_3d_logits(Lx, L, alpha, keys, 2, p, scr);
        for (size_t i = 0; i < n; i++)
            L[i] -= alpha[0] * C[i] + alpha[K - 1] * C[(size_t)(K - 1) * n + i];
        tu_check_close_d("3-D excluded logits", Lx, L, n, (tu_tol){.abs = 1e-12});
        /* template logits: alpha = beta, no residual, 3-D excluded over all k = 0 */
        for (int k = 0; k < K; k++)
            beta[k] = 4 * tu_xs_normal(&g);
        for (size_t i = 0; i < n; i++) {
            L[i] = 0;
            for (int k = 0; k < K; k++)
                L[i] += beta[k] * C[(size_t)k * n + i];
        }
        meas_coefs(alpha, &norm, &res, L, p, scr);
        tu_check_close_d("template: alpha = beta", alpha, beta, (size_t)K,
                         (tu_tol){.abs = 1e-12});
        check_scalar("template: residual", res, 0, 1e-12);
        int all[MEAS_MAX_K];
        for (int k = 0; k < K; k++)
            all[k] = k + 1;
        meas_excluded_3d_logits(Lx, L, alpha, all, K, p, scr);
        check_scalar("template: 3-D excluded CE = log p", meas_ce(Lx, p, labels, NULL, P2, NULL),
                     log(p), 1e-12);
        free(L), free(Lx), free(F), free(D), free(C), free(scr), free(iscr), free(labels),
            free(rows);
    }
}

static const char *share_tag(double share, char *buf, size_t n)
{
    snprintf(buf, n, "%.6g", share);
    for (char *q = buf; *q; q++)
        if (*q == '.')
            *q = 'p';
    return buf;
}

static void check_keys_equal(const char *what, const int *got, int n, const st_tensor *want)
{
    if (n != (int)want->shape[0])
        fail_msg("%s: %d key frequencies, want %d", what, n, (int)want->shape[0]);
    for (int i = 0; i < n; i++)
        if (got[i] != ((const int32_t *)want->data)[i])
            fail_msg("%s: key %d is %d, want %d", what, i, got[i],
                     ((const int32_t *)want->data)[i]);
}

/* The cluster rule on the constructed neuron table of the fixture, for each
 * share (one falls exactly on a cluster's size: kept), and the rule choice. */
static void test_cluster_rule(void **state)
{
    (void)state;
    st_file f;
    grok_err e;
    char path[512], tag[32], key[64];
    snprintf(path, sizeof path, "%s/nanda_p13.safetensors", GOLDEN_DIR);
    assert_int_equal(st_read(&f, path, &e), GROK_OK);
    const st_tensor *tb = need(&f, "cluster.best", ST_I32), *tf = need(&f, "cluster.frac", ST_F64);
    const int M = (int)tb->shape[0];
    int best[64];
    for (int j = 0; j < M; j++)
        best[j] = ((const int32_t *)tb->data)[j];
    char shares[128];
    snprintf(shares, sizeof shares, "%s", st_meta_get(&f, "cluster_shares"));
    int n_shares = 0;
    for (char *tok = strtok(shares, ","); tok; tok = strtok(NULL, ","), n_shares++) {
        const double share = strtod(tok, NULL);
        meas_freqs fr;
        meas_freqs_from_neurons(&fr, best, tf->data, M, 5, MEAS_KEY_CLUSTER, share);
        snprintf(key, sizeof key, "cluster.keys_%s", share_tag(share, tag, sizeof tag));
        check_keys_equal(key, fr.k_by_cluster, fr.n_by_cluster, need(&f, key, ST_I32));
        check_keys_equal("rule cluster: k", fr.k, fr.n, need(&f, key, ST_I32));
        assert_int_equal(fr.n_dead, 2);
        assert_int_equal(fr.n_neurons, M);
        assert_int_equal(fr.n_by_neuron, 5); /* every frequency 1..5 has a live neuron */
        assert_int_equal(fr.n_clusters, 3);  /* 1, 3, 4 have neurons with frac > 0.85 */
        assert_true(fr.rule == MEAS_KEY_CLUSTER && fr.share == share);
        printf("# cluster rule, share %s: %d keys (neuron rule %d)\n", tok, fr.n, fr.n_by_neuron);
        meas_freqs_from_neurons(&fr, best, tf->data, M, 5, MEAS_KEY_NEURON, share);
        assert_int_equal(fr.n, 5);
        for (int i = 0; i < 5; i++)
            assert_int_equal(fr.k[i], i + 1);
    }
    assert_int_equal(n_shares, 3);
    /* no live neuron: no key frequency by either rule */
    int dead[3] = {0, 0, 0};
    double zero[3] = {0, 0, 0};
    meas_freqs fr;
    meas_freqs_from_neurons(&fr, dead, zero, 3, 5, MEAS_KEY_CLUSTER, 0.05);
    assert_true(fr.n == 0 && fr.n_by_neuron == 0 && fr.n_by_cluster == 0 && fr.n_dead == 3);
    assert_string_equal(meas_key_rule_name(MEAS_KEY_CLUSTER), "cluster");
    assert_int_equal(meas_key_rule_parse("neuron"), MEAS_KEY_NEURON);
    assert_int_equal(meas_key_rule_parse("R1"), -1);
    st_file_free(&f);
}

/* The planted model: every new measure against NumPy; the grouped
 * per-frequency excluded loss against K direct passes on the same float32
 * logits; the cluster rule picking the model's key frequencies. */
static void test_golden_nanda(void **state)
{
    golden *g = *state;
    st_file f;
    grok_err e;
    char path[512], tag[32], key[64];
    snprintf(path, sizeof path, "%s/nanda_p13.safetensors", GOLDEN_DIR);
    assert_int_equal(st_read(&f, path, &e), GROK_OK);
    const int p = g->t.cfg.p, K = fourier_n_freqs(p), H = g->m.cfg.tfm.n_heads, P2 = p * p;
    meas_row row = {.epoch = 1};
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, NULL, &row, &e), GROK_OK);
    assert_int_equal(row.n_freq, K);
    assert_int_equal(row.n_heads, H);
    tu_check_close_d("excluded_freq", row.excluded_freq,
                     need(&f, "expect.excluded_freq", ST_F64)->data, (size_t)K,
                     (tu_tol){.abs = TOL_LOSS});
    check_scalar("loss_excluded_max", row.loss_excluded_max,
                 need_f64(&f, "expect.loss_excluded_max"), TOL_LOSS);
    check_scalar("loss_excluded_3d", row.loss_excluded_3d,
                 need_f64(&f, "expect.loss_excluded_3d"), TOL_LOSS);
    /* alpha, |L|: float32 logits, 1e-6 of |L| */
    const double norm = need_f64(&f, "expect.logit_norm");
    check_scalar("logit_norm", row.logit_norm, norm, 1e-6 * norm);
    tu_check_close_d("alpha", row.alpha, need(&f, "expect.alpha", ST_F64)->data, (size_t)K,
                     (tu_tol){.abs = 1e-6 * norm});
    tu_check_close_d("cos_sim", row.cos_sim, need(&f, "expect.cos_sim", ST_F64)->data, (size_t)K,
                     (tu_tol){.abs = 1e-6});
    check_scalar("coef_residual", row.coef_residual, need_f64(&f, "expect.coef_residual"), 1e-6);
    const st_tensor *hf = need(&f, "expect.head_freq", ST_I32);
    assert_int_equal((int)hf->shape[0], H);
    for (int h = 0; h < H; h++)
        assert_int_equal(row.head_freq[h], ((const int32_t *)hf->data)[h]);
    tu_check_close_d("head_frac", row.head_frac, need(&f, "expect.head_frac", ST_F64)->data,
                     (size_t)H, (tu_tol){.abs = 1e-6});

    /* the grouped per-frequency loss against K direct passes on the same logits */
    {
        tfm_acts *acts = tfm_acts_alloc(&g->m.tfm, P2);
        int32_t *tok = malloc(sizeof(int32_t) * 3 * P2);
        double *lg = malloc(sizeof(double) * P2 * p), want[MEAS_MAX_K];
        for (int r = 0; r < P2; r++)
            tok[3 * r] = r / p, tok[3 * r + 1] = r % p, tok[3 * r + 2] = p;
        tfm_forward(&g->m.tfm, acts, tok, P2);
        for (int i = 0; i < P2 * p; i++)
            lg[i] = tfm_logits(acts)[i];
        excluded_per_freq_direct(want, lg, p, g->t.label, g->t.order, g->t.n_train);
        tu_check_close_d("excluded_freq: grouped vs direct", row.excluded_freq, want, (size_t)K,
                         (tu_tol){.abs = 1e-12});
        free(lg), free(tok);
        tfm_acts_free(acts);
    }

    /* the 3-D excluded loss with the key frequencies given */
    const st_tensor *fk = need(&g->fx, "fixed.key_freqs", ST_I32);
    meas_freqs fixed = {.n = (int)fk->shape[0]};
    for (int i = 0; i < fixed.n; i++)
        fixed.k[i] = ((const int32_t *)fk->data)[i];
    meas_row r2;
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, &fixed, &r2, &e), GROK_OK);
    check_scalar("loss_excluded_3d (fixed keys)", r2.loss_excluded_3d,
                 need_f64(&f, "expect.loss_excluded_3d_fixed"), TOL_LOSS);
    assert_memory_equal(r2.excluded_freq, row.excluded_freq, sizeof(double) * (size_t)K);

    /* the cluster rule on the model, for each share; meas_compute then uses it */
    char shares[128];
    snprintf(shares, sizeof shares, "%s", st_meta_get(&f, "model_shares"));
    for (char *tok = strtok(shares, ","); tok; tok = strtok(NULL, ",")) {
        const double share = strtod(tok, NULL);
        meas_workspace_set_key_rule(g->ws, MEAS_KEY_CLUSTER, share);
        meas_freqs fr;
        assert_int_equal(meas_key_freqs(g->ws, &g->m, &fr, &e), GROK_OK);
        snprintf(key, sizeof key, "model.keys_%s", share_tag(share, tag, sizeof tag));
        const st_tensor *want = need(&f, key, ST_I32);
        check_keys_equal(key, fr.k, fr.n, want);
        check_keys_equal("k_by_neuron", fr.k_by_neuron, fr.n_by_neuron,
                         need(&g->fx, "expect.key_freqs", ST_I32));
        assert_int_equal(meas_compute(g->ws, &g->m, &g->t, NULL, &r2, &e), GROK_OK);
        check_keys_equal("meas_compute's keys (cluster rule)", r2.key_freqs, r2.n_key_freqs, want);
        printf("# model, cluster rule share %s: %d keys; neuron rule %d\n", tok, fr.n,
               fr.n_by_neuron);
    }
    meas_workspace_set_key_rule(g->ws, MEAS_KEY_NEURON, MEAS_KEY_SHARE_DEFAULT);
    assert_int_equal(meas_compute(g->ws, &g->m, &g->t, NULL, &r2, &e), GROK_OK);
    check_keys_equal("neuron rule again", r2.key_freqs, r2.n_key_freqs,
                     need(&g->fx, "expect.key_freqs", ST_I32));
    st_file_free(&f);
}

/* ------------------------------------------------------------------------ */
/* tasks without Fourier measures */

/* Softmax Collapse: at a small weight scale no training row's softmax sum
 * is exactly 1; with the logits blown up (every weight times 100, logits
 * grow as the cube in a 1-layer transformer) every row's float32 sum is 1,
 * and a row's float32 loss is then exactly 0 iff its largest logit is the
 * label: zero_loss_f32 equals the training accuracy.  float64 collapses no
 * later than float32 does. */
static void test_softmax_collapse(void **state)
{
    (void)state;
    const int p = 13;
    task_config tc = {.op = TASK_OP_ADD, .p = p, .frac_train = 0.5};
    tfm_config mc = {.n_layers = 1, .d_model = 8, .n_heads = 2, .d_head = 4, .d_mlp = 16,
                     .d_vocab = p + 1, .d_vocab_out = p, .n_ctx = 3, .act = TFM_ACT_RELU,
                     .init_scale = 1};
    task_data t;
    model m;
    grok_err e;
    meas_workspace *ws;
    assert_int_equal(task_init(&t, &tc, 3, &e), GROK_OK);
    assert_int_equal(model_init(&m, &(model_config){.family = MODEL_TRANSFORMER, .tfm = mc}, &e),
                     GROK_OK);
    tu_xs g = {11};
    for (size_t j = 0; j < m.n_params; j++)
        m.params[j] = (float)(0.05 * tu_xs_normal(&g));
    assert_int_equal(meas_workspace_alloc(&ws, &m, &t, NULL, &e), GROK_OK);
    meas_row row = {.epoch = 0};
    assert_int_equal(meas_compute(ws, &m, &t, NULL, &row, &e), GROK_OK);
    assert_true(row.softmax_collapse_f32 == 0 && row.zero_loss_f32 == 0);
    assert_true(row.softmax_collapse_f64 == 0 && row.zero_loss_f64 == 0);
    for (size_t j = 0; j < m.n_params; j++)
        m.params[j] *= 100.0f;
    assert_int_equal(meas_compute(ws, &m, &t, NULL, &row, &e), GROK_OK);
    printf("# scaled: collapse f32 %.3f f64 %.3f, zero loss f32 %.3f f64 %.3f, train acc %.3f\n",
           row.softmax_collapse_f32, row.softmax_collapse_f64, row.zero_loss_f32,
           row.zero_loss_f64, row.acc_train);
    assert_true(row.softmax_collapse_f32 == 1.0);
    assert_true(row.zero_loss_f32 == row.acc_train);
    assert_true(row.acc_train > 0 && row.acc_train < 1);
    assert_true(row.softmax_collapse_f64 <= row.softmax_collapse_f32);
    assert_true(row.zero_loss_f64 <= row.zero_loss_f32);
    meas_workspace_free(ws);
    model_free(&m);
    task_free(&t);
}

static void test_non_fourier_tasks(void **state)
{
    (void)state;
    const task_op ops[] = {TASK_OP_RAND, TASK_OP_DIV};
    const char *why[] = {"not modular arithmetic", "incomplete"};
    for (int i = 0; i < 2; i++) {
        const int p = 11;
        task_config tc = {.op = ops[i], .p = p, .frac_train = 0.5};
        /* div with two layers: attention.tsv gets a layer column */
        tfm_config mc = {.n_layers = 1 + i, .d_model = 8, .n_heads = 2, .d_head = 4, .d_mlp = 16,
                         .d_vocab = p + 1, .d_vocab_out = p, .n_ctx = 3, .act = TFM_ACT_RELU,
                         .init_scale = 1};
        task_data t;
        model m;
        grok_err e;
        meas_workspace *ws;
        assert_int_equal(task_init(&t, &tc, 3, &e), GROK_OK);
        assert_int_equal(model_init(&m, &(model_config){.family = MODEL_TRANSFORMER, .tfm = mc}, &e),
                         GROK_OK);
        tu_xs g = {5};
        for (size_t j = 0; j < m.n_params; j++)
            m.params[j] = (float)(0.3 * tu_xs_normal(&g));
        assert_int_equal(meas_workspace_alloc(&ws, &m, &t, NULL, &e), GROK_OK);
        assert_int_equal(meas_fourier_applies(ws), 0);
        assert_non_null(strstr(meas_fourier_reason(ws), why[i]));
        printf("# %s: %s\n", task_op_name(ops[i]), meas_fourier_reason(ws));
        meas_row row = {.epoch = 0};
        assert_int_equal(meas_compute(ws, &m, &t, NULL, &row, &e), GROK_OK);
        assert_int_equal(row.fourier, 0);
        assert_true(isfinite(row.loss_train) && isfinite(row.loss_test) && row.sum_sq_weights > 0);
        meas_freqs kf;
        assert_int_equal(meas_key_freqs(ws, &m, &kf, &e), GROK_EINVAL);
        sbuf b;
        sbuf_init(&b);
        meas_format_header(&m, &t, MEAS_FILE_MEASURES, &b);
        assert_null(strstr(b.data, "restricted"));
        assert_null(strstr(b.data, "key_freqs"));
        assert_non_null(strstr(b.data, "\tsum_sq_weights\tsq_embed.W_E\t"));
        sbuf_clear(&b);
        meas_format_row(&row, MEAS_FILE_MEASURES, &b);
        int tabs = 0;
        for (const char *q = b.data; *q; q++)
            tabs += *q == '\t';
        assert_int_equal(tabs, 5 + m.n_tensors + 4); /* epoch + 4 + sum + tensors + collapse */
        assert_int_equal(meas_format_logit_spectrum(ws, 0, &b, &e), GROK_EINVAL);
        sbuf_clear(&b);
        assert_int_equal(meas_format_attention(ws, &t, &b, &e), GROK_OK);
        int lines = 0;
        for (const char *q = b.data; *q; q++)
            lines += *q == '\n';
        assert_int_equal(lines, 1 + mc.n_layers * t.n_all * mc.n_heads);
        const char *head = i ? "layer\ta\tb\thead\t" : "a\tb\thead\t";
        assert_int_equal(strncmp(b.data, head, strlen(head)), 0);
        if (i) /* the last line: layer 1, the last input (a = 10, b = 10), head 1 */
            assert_non_null(strstr(b.data, "\n1\t10\t10\t1\t"));
        sbuf_free(&b);
        meas_workspace_free(ws);
        model_free(&m);
        task_free(&t);
    }
}

/* ------------------------------------------------------------------------ */
/* the measure table, and the measures of the MLP family */

/* A model of family f for task t: the transformer d_model 16, d_mlp 24, or
 * the MLP (concat) d_embed 16, one hidden layer of 24; Gaussian parameters
 * of scale 0.4 from seed. */
static void small_model(model *m, model_family f, const task_data *t, uint64_t seed)
{
    model_config mc = {.family = f};
    mc.tfm = (tfm_config){.n_layers = 1, .d_model = 16, .n_heads = 2, .d_head = 4, .d_mlp = 24,
                          .d_vocab = t->d_vocab, .d_vocab_out = t->n_classes, .n_ctx = t->n_ctx,
                          .act = TFM_ACT_RELU, .init_scale = 1};
    mc.mlp = (mlp_config){.n_ctx = t->n_ctx, .d_vocab = t->d_vocab, .d_vocab_out = t->n_classes,
                          .d_embed = 16, .combine = MLP_COMBINE_CONCAT, .n_layers = 1,
                          .d_hidden = 24, .act = MLP_ACT_RELU, .init_scale = 1};
    grok_err e;
    assert_int_equal(model_init(m, &mc, &e), GROK_OK);
    tu_xs g = {seed};
    for (size_t j = 0; j < m->n_params; j++)
        m->params[j] = (float)(0.4 * tu_xs_normal(&g));
}

/* how many times column col (no tabs) is a field of the tab-separated line */
static int count_field(const char *line, const char *col)
{
    int n = 0;
    const size_t len = strlen(col);
    for (const char *q = line; q;) {
        const char *end = strpbrk(q, "\t\n");
        const size_t fl = end ? (size_t)(end - q) : strlen(q);
        n += fl == len && strncmp(q, col, len) == 0;
        q = end && *end == '\t' ? end + 1 : NULL;
    }
    return n;
}

/* Every row's columns appear in the header exactly once when it applies and
 * never when it does not, and a skipped row has a reason that names its
 * missing need; rows have as many fields as the header. */
static void test_table(void **state)
{
    (void)state;
    const model_family fams[] = {MODEL_TRANSFORMER, MODEL_MLP};
    const task_op ops[] = {TASK_OP_ADD, TASK_OP_RAND};
    /* for each family x task: the rows expected skipped, and a word of the reason */
    for (int fi = 0; fi < 2; fi++)
        for (int oi = 0; oi < 2; oi++) {
            task_config tc = {.op = ops[oi], .p = 13, .frac_train = 0.4};
            task_data t;
            model m;
            grok_err e;
            assert_int_equal(task_init(&t, &tc, 2, &e), GROK_OK);
            small_model(&m, fams[fi], &t, 11);
            const unsigned have = meas_have(&m, &t);
            assert_int_equal((have & MEAS_NEED_ZP_GRID) != 0, oi == 0);
            assert_int_equal((have & MEAS_NEED_TRANSFORMER) != 0, fi == 0);
            assert_int_equal((have & MEAS_NEED_EMBED) != 0, oi == 0);
            sbuf hdr[MEAS_FILE_COUNT], cols;
            sbuf_init(&cols);
            for (int f = 0; f < MEAS_FILE_COUNT; f++) {
                sbuf_init(&hdr[f]);
                meas_format_header(&m, &t, (meas_file)f, &hdr[f]);
            }
            int n_cols[MEAS_FILE_COUNT]; /* epoch */
            for (int f = 0; f < MEAS_FILE_COUNT; f++)
                n_cols[f] = 1;
            int n_skipped = 0;
            printf("# %s on %s: skipped", model_family_name(fams[fi]), task_op_name(ops[oi]));
            for (int i = 0; i < meas_table_len; i++) {
                const meas_desc *d = &meas_table[i];
                const int on = meas_applies(d, have);
                sbuf_clear(&cols);
                meas_desc_columns(d, &m, &t, &cols);
                for (const char *q = cols.data; q && *q == '\t';) {
                    const char *end = strchr(q + 1, '\t');
                    char col[96];
                    snprintf(col, sizeof col, "%.*s", (int)(end ? end - q - 1 : (long)strlen(q + 1)),
                             q + 1);
                    const int seen = count_field(hdr[d->file].data, col);
                    if (seen != on)
                        fail_msg("%s: column %s appears %d times in the header", d->name, col,
                                 seen);
                    n_cols[d->file] += on;
                    q = end;
                }
                char why[200];
                meas_need_reason(&m, &t, d->needs, why, sizeof why);
                assert_int_equal(why[0] != '\0', !on);
                if (!on) {
                    n_skipped++;
                    printf(" %s", d->name);
                    /* the grid first: a non-grid task says so; an MLP names the
                     * transformer; the group rows say the task is not a group */
                    if (d->needs == MEAS_NEED_GROUP)
                        assert_non_null(strstr(why, "not a group"));
                    else if (oi == 1)
                        assert_non_null(strstr(why, "not modular arithmetic"));
                    else
                        assert_non_null(strstr(why, "transformer"));
                }
            }
            printf("\n");
            /* the expected skips: the W_L Ginis and the heads for the MLP, every grid
             * row for rand, the 3 group rows always */
            assert_int_equal(n_skipped, 3 + (oi == 1 ? 20 : fi == 1 ? 4 : 0));
            for (int f = 0; f < MEAS_FILE_COUNT; f++) {
                int tabs = 0;
                for (const char *q = hdr[f].data; *q; q++)
                    tabs += *q == '\t';
                assert_int_equal(tabs + 1, n_cols[f]);
                assert_int_equal(meas_file_applies(have, (meas_file)f), n_cols[f] > 1);
            }
            /* a computed row has the header's fields */
            meas_workspace *ws;
            assert_int_equal(meas_workspace_alloc(&ws, &m, &t, NULL, &e), GROK_OK);
            meas_row row = {.epoch = 3};
            assert_int_equal(meas_compute(ws, &m, &t, NULL, &row, &e), GROK_OK);
            for (int f = 0; f < MEAS_FILE_COUNT; f++) {
                if (n_cols[f] == 1)
                    continue;
                sbuf_clear(&cols);
                meas_format_row(&row, (meas_file)f, &cols);
                int tabs = 0;
                for (const char *q = cols.data; *q; q++)
                    tabs += *q == '\t';
                assert_int_equal(tabs + 1, n_cols[f]);
            }
            meas_workspace_free(ws);
            for (int f = 0; f < MEAS_FILE_COUNT; f++)
                sbuf_free(&hdr[f]);
            sbuf_free(&cols);
            model_free(&m);
            task_free(&t);
        }
}

/* The MLP's measures: the W_E measures are the transformer's on the same
 * W_E (bit for bit); losses against the naive double forward
 * (mlp_forward_ref) and a log-sum-exp written here; the sums of squares
 * against a direct sum; R1 on the MLP's 24 hidden neurons; the restricted
 * and excluded losses against the building blocks on the reference logits. */
static void test_mlp_measures(void **state)
{
    (void)state;
    task_config tc = {.op = TASK_OP_ADD, .p = 13, .frac_train = 0.4};
    task_data t;
    model mt, mm;
    grok_err e;
    assert_int_equal(task_init(&t, &tc, 4, &e), GROK_OK);
    small_model(&mt, MODEL_TRANSFORMER, &t, 21);
    small_model(&mm, MODEL_MLP, &t, 22);
    const param_tensor *we_t = model_find(&mt, "embed.W_E"), *we_m = model_find(&mm, "embed.W_E");
    assert_true(we_t && we_m && we_t->numel == we_m->numel);
    memcpy(mt.params + we_t->offset, mm.params + we_m->offset, we_m->numel * sizeof(float));
    meas_workspace *wt, *wm;
    assert_int_equal(meas_workspace_alloc(&wt, &mt, &t, NULL, &e), GROK_OK);
    assert_int_equal(meas_workspace_alloc(&wm, &mm, &t, NULL, &e), GROK_OK);
    meas_row rt = {0}, rm = {0};
    assert_int_equal(meas_compute(wt, &mt, &t, NULL, &rt, &e), GROK_OK);
    assert_int_equal(meas_compute(wm, &mm, &t, NULL, &rm, &e), GROK_OK);
    assert_true(rm.fourier && rm.n_embed == fourier_n_freqs(13) + 1);
    assert_true(rm.gini_WE == rt.gini_WE && rm.gini_WE_nonconst == rt.gini_WE_nonconst &&
                rm.gini_WE_freq == rt.gini_WE_freq);
    assert_memory_equal(rm.embed, rt.embed, sizeof rm.embed);
    printf("# MLP: gini_WE %.6f (= the transformer's on the same W_E), loss_train %.6f, "
           "restricted %.6f, excluded %.6f, %d key freqs\n",
           rm.gini_WE, rm.loss_train, rm.loss_restricted, rm.loss_excluded, rm.n_key_freqs);

    /* sums of squares */
    double total = 0;
    for (int i = 0; i < mm.n_tensors; i++) {
        double s = 0;
        for (size_t j = 0; j < mm.tensors[i].numel; j++) {
            const double x = mm.params[mm.tensors[i].offset + j];
            s += x * x;
        }
        check_scalar(mm.tensors[i].name, rm.sq[i], s, 1e-12 * s);
        total += s;
    }
    check_scalar("sum_sq_weights", rm.sum_sq_weights, total, 1e-12 * total);

    /* losses from the naive reference forward */
    const int N = t.n_all, Vo = t.n_classes;
    double *L = malloc(sizeof(double) * N * Vo), *PL = malloc(sizeof(double) * N * Vo),
           *R = malloc(sizeof(double) * N * Vo), *coef = malloc(sizeof(double) * 2 * 6 * Vo),
           *D = malloc(sizeof(double) * 2 * 6 * N), *F = malloc(sizeof(double) * 13 * 13);
    assert_true(L && PL && R && coef && D && F);
    mlp_forward_ref(&mm.mlp, t.tokens, N, L);
    double ce = 0;
    int correct = 0;
    for (int k = 0; k < t.n_train; k++) {
        const int r = t.order[k];
        double mx = L[(size_t)r * Vo], z = 0;
        int arg = 0;
        for (int j = 1; j < Vo; j++)
            if (L[(size_t)r * Vo + j] > mx)
                mx = L[(size_t)r * Vo + j], arg = j;
        for (int j = 0; j < Vo; j++)
            z += exp(L[(size_t)r * Vo + j] - mx);
        ce += mx + log(z) - L[(size_t)r * Vo + t.label[r]];
        correct += arg == t.label[r];
    }
    check_scalar("MLP loss_train", rm.loss_train, ce / t.n_train, 1e-5);
    check_scalar("MLP acc_train", rm.acc_train, (double)correct / t.n_train, 0);

    /* R1 on the hidden layer; restricted and excluded from the blocks */
    meas_freqs own;
    assert_int_equal(meas_key_freqs(wm, &mm, &own, &e), GROK_OK);
    assert_int_equal(own.n_neurons, 24);
    assert_int_equal(own.n, rm.n_key_freqs);
    assert_true(own.n >= 1);
    assert_memory_equal(own.k, rm.key_freqs, sizeof(int) * (size_t)own.n);
    fourier_basis(F, 13);
    fourier_sum_dirs(D, F, 13);
    meas_project_sum(PL, L, D, own.k, own.n, 13, Vo, coef);
    meas_restricted_logits(R, L, PL, N, Vo, coef);
    check_scalar("MLP loss_restricted", rm.loss_restricted,
                 meas_ce(R, Vo, t.label, NULL, N, NULL), 1e-5);
    meas_excluded_logits(R, L, PL, N, Vo);
    check_scalar("MLP loss_excluded", rm.loss_excluded,
                 meas_ce(R, Vo, t.label, t.order, t.n_train, NULL), 1e-5);
    /* the MLP has no attention */
    sbuf b;
    sbuf_init(&b);
    assert_int_equal(meas_format_attention(wm, &t, &b, &e), GROK_EINVAL);
    assert_int_equal(meas_format_neurons(wm, &b, &e), GROK_OK);
    sbuf_free(&b);
    free(L), free(PL), free(R), free(coef), free(D), free(F);
    meas_workspace_free(wt);
    meas_workspace_free(wm);
    model_free(&mt);
    model_free(&mm);
    task_free(&t);
}

/* ------------------------------------------------------------------------ */
/* phases, TSV writer */

static void test_phases(void **state)
{
    (void)state;
    /* a grokking run: memorised at 300; the test loss peaks at 400 (3.0),
     * stays near it, collapses from 1000 to 1e-4 at 1500 and stays there;
     * test accuracy 1 once the test loss is below 0.01. */
    meas_row rows[30];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 30; i++) {
        meas_row *r = &rows[i];
        r->epoch = 100L * i;
        r->fourier = 1;
        r->acc_train = i >= 3 ? 1.0 : 0.3 * i;
        r->loss_test = i <= 4   ? 1.0 + 0.5 * i
                       : i < 10 ? 3.0 - 0.01 * i
                                : 3.0 * pow(1e-4 / 3, fmin(1, (i - 10) / 5.0));
        r->acc_test = r->loss_test < 0.01 ? 1.0 : 0.4;
    }
    measure_phase_bounds ph;
    measure_phases(rows, 30, &ph);
    printf("# phases: %ld %ld %ld\n", ph.memorisation_end, ph.circuit_formation_end,
           ph.cleanup_end);
    assert_int_equal(ph.memorisation_end, 300);
    /* running peak 3.0; at 1100 the loss is 3 (1e-4/3)^0.2 = 0.38 <= 1.5 */
    assert_int_equal(ph.circuit_formation_end, 1100);
    /* from ln 0.38 = -0.96 to ln 1e-4 = -9.21: 90% of the fall is at
     * ln loss <= -8.39, first reached at 1500 (ln loss = -9.21; 1400: -7.15) */
    assert_int_equal(ph.cleanup_end, 1500);
    /* extending the run with a lower floor does not move boundary 2 */
    for (int i = 20; i < 30; i++)
        rows[i].loss_test = 1e-6;
    measure_phases(rows, 30, &ph);
    assert_int_equal(ph.circuit_formation_end, 1100);
    /* collapsed but the test accuracy never reaches 0.99: no cleanup end */
    for (int i = 0; i < 30; i++)
        rows[i].acc_test = 0.9;
    measure_phases(rows, 30, &ph);
    assert_int_equal(ph.circuit_formation_end, 1100);
    assert_int_equal(ph.cleanup_end, -1);
    /* the test loss halves but never falls 10x: no collapse */
    for (int i = 10; i < 30; i++)
        rows[i].loss_test = 1.2;
    measure_phases(rows, 30, &ph);
    assert_int_equal(ph.memorisation_end, 300);
    assert_int_equal(ph.circuit_formation_end, -1);
    assert_int_equal(ph.cleanup_end, -1);
    /* never memorised */
    for (int i = 0; i < 30; i++)
        rows[i].acc_train = 0.5;
    measure_phases(rows, 30, &ph);
    assert_int_equal(ph.memorisation_end, -1);

    measure_result res;
    memset(&res, 0, sizeof res);
    res.fourier = 1;
    res.have = MEAS_NEED_ZP_GRID | MEAS_NEED_TRANSFORMER | MEAS_NEED_EMBED;
    res.key = (meas_freqs){.n = 2, .k = {14, 35}, .n_neurons = 512, .n_clusters = 1,
                           .cluster_k = {14}, .cluster_size = {98}, .rule = MEAS_KEY_NEURON,
                           .share = 0.05, .n_by_neuron = 2, .k_by_neuron = {14, 35},
                           .n_by_cluster = 1, .k_by_cluster = {14}};
    res.phases = ph;
    sbuf b;
    sbuf_init(&b);
    measure_summary_json(&res, &b);
    for (const char *q = b.data; *q;) {
        const char *nl = strchr(q, '\n');
        const int len = nl ? (int)(nl - q) : (int)strlen(q);
        printf("# %.*s\n", len, q);
        q += len + (nl != NULL);
    }
    assert_non_null(strstr(b.data, "  \"key_freqs\": [14, 35],\n"));
    assert_non_null(strstr(b.data, "\"clusters\": [{\"freq\": 14, \"size\": 98}]"));
    assert_non_null(strstr(b.data, "\"key_freq_rule\": \"neuron\", \"key_freq_share\": 0.05,"));
    assert_non_null(strstr(b.data, "\"key_freqs_neuron\": [14, 35], \"key_freqs_cluster\": [14]}"));
    /* the cluster rule: key_freqs is its list */
    res.key.rule = MEAS_KEY_CLUSTER;
    res.key.n = 1;
    sbuf_clear(&b);
    measure_summary_json(&res, &b);
    assert_non_null(strstr(b.data, "\"key_freq_rule\": \"cluster\""));
    assert_non_null(strstr(b.data, "  \"key_freqs\": [14],\n"));
    assert_non_null(strstr(b.data, "\"memorisation_end\": null"));
    assert_non_null(strstr(b.data, "  \"measures\": {\"computed\": [\"losses\", \"restricted\""));
    /* a Z_p task skips only the group rows */
    assert_non_null(strstr(b.data, "\"skipped\": [{\"measure\": \"irreps\", \"columns\": "
                                   "[\"embed_<irrep>\", \"unembed_<irrep>\", \"logit_<irrep>\"]"));
    assert_non_null(strstr(b.data, "{\"measure\": \"key_irreps\", \"columns\": [\"key_irreps\"]"));
    assert_null(strstr(b.data, "algorithm"));
    assert_true(b.data[b.len - 1] == '}');
    sbuf_free(&b);
}

static void test_tsv_put(void **state)
{
    const char *tmpdir = *state;
    char path[512];
    grok_err e;
    snprintf(path, sizeof path, "%s/put.tsv", tmpdir);
    const char *h = "epoch\tx\n";
    assert_int_equal(measure_tsv_put(path, h, "0\t1\n", 0, &e), GROK_OK);
    assert_int_equal(measure_tsv_put(path, h, "100\t2\n", 100, &e), GROK_OK);
    assert_int_equal(measure_tsv_put(path, h, "200\t3\n", 200, &e), GROK_OK);
    /* a resumed run measures 100 again: 100 and 200 are replaced */
    assert_int_equal(measure_tsv_put(path, h, "100\t9\n", 100, &e), GROK_OK);
    char *d;
    size_t n;
    assert_int_equal(fileio_read_all(path, &d, &n, &e), GROK_OK);
    assert_string_equal(d, "epoch\tx\n0\t1\n100\t9\n");
    free(d);
    /* another header starts afresh */
    assert_int_equal(measure_tsv_put(path, "epoch\ty\n", "300\t4\n", 300, &e), GROK_OK);
    assert_int_equal(fileio_read_all(path, &d, &n, &e), GROK_OK);
    assert_string_equal(d, "epoch\ty\n300\t4\n");
    free(d);
}

/* ------------------------------------------------------------------------ */
/* a run directory end to end */

static int write_ckpt(const model *m, const char *dir, long ep, grok_err *e)
{
    st_tensor t[MEAS_MAX_TENSORS];
    for (int i = 0; i < m->n_tensors; i++) {
        const param_tensor *tt = &m->tensors[i];
        t[i] = (st_tensor){.name = tt->name, .dtype = ST_F32, .ndim = tt->ndim,
                           .data = m->params + tt->offset};
        for (int d = 0; d < tt->ndim; d++)
            t[i].shape[d] = tt->shape[d];
    }
    char path[512], v[32];
    snprintf(path, sizeof path, "%s/checkpoints/epoch-%06ld.safetensors", dir, ep);
    snprintf(v, sizeof v, "%ld", ep);
    const st_meta meta[] = {{"epoch", v}};
    return st_write(path, t, m->n_tensors, meta, 1, e);
}

/* dir/split.tsv as grok train writes it: the seed's split, train rows first */
static void write_split(const cfg_run *c, const char *dir)
{
    task_data t;
    grok_err e;
    assert_int_equal(task_init(&t, &c->task, c->seed, &e), GROK_OK);
    sbuf b;
    sbuf_init(&b);
    sbuf_puts(&b, "index\ta\tb\tlabel\tsplit\n");
    for (int i = 0; i < t.n_all; i++) {
        const int r = t.order[i];
        sbuf_printf(&b, "%d\t%d\t%d\t%d\t%s\n", r, (int)t.a[r], (int)t.b[r], (int)t.label[r],
                    i < t.n_train ? "train" : "test");
    }
    char *path = tu_path_in(dir, "split.tsv");
    assert_int_equal(fileio_write_atomic(path, b.data, b.len, &e), GROK_OK);
    free(path);
    sbuf_free(&b);
    task_free(&t);
}

static char *slurp(const char *dir, const char *name)
{
    char *path = tu_path_in(dir, name), *d = tu_read_file(path, NULL);
    free(path);
    return d;
}

static void test_run_dir(void **state)
{
    const char *tmpdir = *state;
    char dir[256], path[600];
    grok_err e;
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    assert_int_equal(fileio_mkdir_p(path, &e), GROK_OK);
    cfg_run c;
    cfg_defaults(&c);
    c.task.p = 13;
    c.model.d_model = 16;
    c.model.n_heads = 2;
    c.model.d_head = 4;
    c.model.d_mlp = 24;
    c.seed = 5;
    cfg_fill_derived(&c);
    snprintf(path, sizeof path, "%s/config.cfg", dir);
    assert_int_equal(cfg_write(&c, path, &e), GROK_OK);

    /* no split.tsv: refused, named */
    assert_int_equal(measure_run_dir(dir, 1, &e), GROK_EINVAL);
    printf("# no split.tsv: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "split.tsv is missing"));
    write_split(&c, dir);

    /* no checkpoints yet */
    assert_int_equal(measure_run_dir(dir, 1, &e), GROK_EINVAL);
    assert_non_null(strstr(e.msg, "no epoch-NNNNNN"));

    model m;
    const model_config mc = cfg_model_config(&c);
    assert_int_equal(model_init(&m, &mc, &e), GROK_OK);
    tu_xs g = {77};
    for (size_t j = 0; j < m.n_params; j++)
        m.params[j] = (float)(0.4 * tu_xs_normal(&g));
    const long eps[] = {0, 50, 100, 150, 200};
    for (int i = 0; i < 5; i++) {
        for (size_t j = 0; j < m.n_params; j++)
            m.params[j] = (float)(m.params[j] * 0.9 + 0.05 * tu_xs_normal(&g));
        assert_int_equal(write_ckpt(&m, dir, eps[i], &e), GROK_OK);
    }
    const char *files[] = {"measures.tsv",  "fourier_embed.tsv",  "neurons.tsv",
                           "attention.tsv", "logit_spectrum.tsv", "excluded_freq.tsv",
                           "coefs.tsv"};
    enum { N_FILES = sizeof files / sizeof files[0] };
    char *first[N_FILES];
    measure_result res;
    assert_int_equal(measure_run_dir_result(dir, 1, &res, &e), GROK_OK);
    for (int i = 0; i < N_FILES; i++)
        assert_non_null(first[i] = slurp(dir, files[i]));
    assert_int_equal(measure_run_dir(dir, 2, &e), GROK_OK);
    for (int i = 0; i < N_FILES; i++) {
        char *again = slurp(dir, files[i]);
        assert_non_null(again);
        assert_string_equal(first[i], again); /* same bytes with 1 and 2 jobs */
        free(again);
    }
    printf("# run dir: %d checkpoints, epochs %ld..%ld, key freqs %d, files identical for 1 and "
           "2 jobs\n",
           res.n_checkpoints, res.first_epoch, res.last_epoch, res.key.n);
    assert_int_equal(res.n_checkpoints, 5);
    assert_int_equal(res.last_epoch, 200);

    /* measures.tsv: header, one row per checkpoint, the final keys on every row */
    const char *hdr = "epoch\tloss_train\tloss_test\tacc_train\tacc_test\tloss_restricted\t"
                      "loss_restricted_train\tacc_restricted\tloss_excluded\tacc_excluded\t"
                      "gini_WE\tgini_WL\tgini_WE_nonconst\tgini_WL_nonconst\tgini_WE_freq\t"
                      "gini_WL_freq\tsum_sq_weights\tsq_embed.W_E\tsq_pos_embed.W_pos\t";
    assert_int_equal(strncmp(first[0], hdr, strlen(hdr)), 0);
    char keys[256] = "";
    for (int i = 0; i < res.key.n; i++)
        snprintf(keys + strlen(keys), sizeof keys - strlen(keys), i ? ",%d" : "%d", res.key.k[i]);
    /* the key_freqs column's index in the header */
    int kcol = 0;
    {
        const char *h = strstr(first[0], "\tkey_freqs\t");
        assert_non_null(h);
        for (const char *q = first[0]; q <= h; q++)
            kcol += *q == '\t';
    }
    int lines = 0;
    for (const char *q = strchr(first[0], '\n') + 1; *q; q = strchr(q, '\n') + 1) {
        const char *tab = q;
        for (int i = 0; i < kcol; i++)
            tab = strchr(tab, '\t') + 1;
        const char *nl = strchr(tab, '\t');
        assert_int_equal((int)(nl - tab), (int)strlen(keys));
        assert_int_equal(strncmp(tab, keys, strlen(keys)), 0);
        assert_int_equal(atol(q), eps[lines]);
        lines++;
    }
    assert_int_equal(lines, 5);
    assert_int_equal(strncmp(first[1], "epoch\tconst\tfreq_1\tfreq_2", 25), 0);
    assert_int_equal(strncmp(first[3], "a\tb\thead\tatt_a\tatt_b\tatt_eq\n0\t0\t0\t", 33), 0);
    assert_int_equal(strncmp(first[4], "# logit 2D Fourier spectrum, epoch 200,", 39), 0);
    const char *xh = "epoch\tfreq_1\tfreq_2\tfreq_3\tfreq_4\tfreq_5\tfreq_6\n0\t";
    assert_int_equal(strncmp(first[5], xh, strlen(xh)), 0);
    const char *ch = "epoch\tlogit_norm\talpha_1\talpha_2";
    assert_int_equal(strncmp(first[6], ch, strlen(ch)), 0);

    /* a truncated checkpoint names itself, and no file is touched */
    snprintf(path, sizeof path, "%s/checkpoints/epoch-000100.safetensors", dir);
    assert_int_equal(truncate(path, 100), 0);
    snprintf(path, sizeof path, "%s/neurons.tsv", dir);
    assert_int_equal(unlink(path), 0);
    int rc = measure_run_dir(dir, 2, &e);
    printf("# truncated checkpoint: %s\n", e.msg);
    assert_true(rc == GROK_EFORMAT);
    assert_non_null(strstr(e.msg, "epoch-000100.safetensors"));
    assert_false(fileio_exists(path));
    for (int i = 0; i < 5; i += 4) {
        char *after = slurp(dir, files[i]);
        assert_non_null(after);
        assert_string_equal(first[i], after);
        free(after);
    }
    for (int i = 0; i < N_FILES; i++)
        free(first[i]);
    /* a checkpoint of another model names the tensor */
    model m2;
    c.model.d_mlp = 20;
    const model_config mc2 = cfg_model_config(&c);
    assert_int_equal(model_init(&m2, &mc2, &e), GROK_OK);
    assert_int_equal(write_ckpt(&m2, dir, 100, &e), GROK_OK);
    rc = measure_run_dir(dir, 1, &e);
    printf("# wrong shape: %s\n", e.msg);
    assert_int_equal(rc, GROK_EFORMAT);
    assert_non_null(strstr(e.msg, "blocks.0.mlp.W_in"));
    model_free(&m2);
    model_free(&m);
}

/* The live pass: own key frequencies, rows appended. */
static void test_live(void **state)
{
    const char *tmpdir = *state;
    char dir[256];
    grok_err e;
    snprintf(dir, sizeof dir, "%s/live", tmpdir);
    assert_int_equal(fileio_mkdir_p(dir, &e), GROK_OK);
    task_config tc = {.op = TASK_OP_ADD, .p = 13, .frac_train = 0.3};
    tfm_config mc = {.n_layers = 1, .d_model = 16, .n_heads = 2, .d_head = 4, .d_mlp = 24,
                     .d_vocab = 14, .d_vocab_out = 13, .n_ctx = 3, .act = TFM_ACT_RELU,
                     .init_scale = 1};
    task_data t;
    model m;
    assert_int_equal(task_init(&t, &tc, 1, &e), GROK_OK);
    assert_int_equal(model_init(&m, &(model_config){.family = MODEL_TRANSFORMER, .tfm = mc}, &e),
                     GROK_OK);
    tu_xs g = {3};
    for (size_t j = 0; j < m.n_params; j++)
        m.params[j] = (float)(0.4 * tu_xs_normal(&g));
    measure_live lv;
    assert_int_equal(measure_live_init(&lv, &m, &t, NULL, &e), GROK_OK);
    meas_row r0, r1;
    assert_int_equal(measure_live_step(&lv, &m, 0, dir, &r0, &e), GROK_OK);
    assert_int_equal(measure_live_step(&lv, &m, 100, dir, &r1, &e), GROK_OK);
    assert_true(r0.loss_train == r1.loss_train && r0.n_key_freqs == r1.n_key_freqs);
    char *d = slurp(dir, "measures.tsv");
    int lines = 0;
    for (const char *q = d; *q; q++)
        lines += *q == '\n';
    assert_int_equal(lines, 3);
    free(d);
    d = slurp(dir, "fourier_embed.tsv");
    assert_non_null(d);
    assert_non_null(strstr(d, "\n100\t"));
    free(d);
    measure_live_free(&lv);
    model_free(&m);
    task_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basis_orthonormal),
        cmocka_unit_test(test_1d_against_gsl_fft),
        cmocka_unit_test(test_2d_parseval_roundtrip_naive),
        cmocka_unit_test(test_known_signal_recovered),
        cmocka_unit_test(test_sum_directions),
        cmocka_unit_test(test_projection_properties),
        cmocka_unit_test(test_restricted_of_key_logits_is_full),
        cmocka_unit_test(test_ce),
        cmocka_unit_test(test_gini),
        cmocka_unit_test(test_neuron_rule),
        cmocka_unit_test_setup_teardown(test_golden_measures, golden_setup, golden_teardown),
        cmocka_unit_test_setup_teardown(test_golden_fixed_keys, golden_setup, golden_teardown),
        cmocka_unit_test(test_nanda_identities),
        cmocka_unit_test(test_cluster_rule),
        cmocka_unit_test_setup_teardown(test_golden_nanda, golden_setup, golden_teardown),
        cmocka_unit_test(test_non_fourier_tasks),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_mlp_measures),
        cmocka_unit_test(test_softmax_collapse),
        cmocka_unit_test(test_phases),
        cmocka_unit_test_setup_teardown(test_tsv_put, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_run_dir, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_live, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
