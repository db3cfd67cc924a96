/* algo.c: the clock and pizza measures and the verdict declared in algo.h.
 *
 * The gradients and the restricted forward run on a private copy of the
 * model (its parameters copied in before each use) with its own activation
 * workspace, so a measure pass leaves the caller's model, gradients and
 * activations as they were and training keeps its bits.  Every sum runs in
 * a fixed order; the PCA is GSL's symmetric eigensolver on the p x p Gram
 * matrix (serial), so results are the same bits for any thread count. */
#include "algo.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fourier.h"
#include "rng.h"

static const double ALGO_PI = 3.14159265358979323846;

const char *algo_kind_name(algo_kind k)
{
    switch (k) {
    case ALGO_CLOCK:
        return "clock";
    case ALGO_PIZZA:
        return "pizza";
    default:
        return "neither";
    }
}

algo_kind algo_verdict(double dist_irrel, double grad_sym, double acc_test)
{
    if (!(acc_test >= ALGO_SOLVED_ACC))
        return ALGO_NEITHER;
    if (grad_sym >= ALGO_PIZZA_GRAD_SYM && dist_irrel <= ALGO_PIZZA_DIST_IRREL)
        return ALGO_PIZZA;
    if (grad_sym <= ALGO_CLOCK_GRAD_SYM && dist_irrel >= ALGO_CLOCK_DIST_IRREL)
        return ALGO_CLOCK;
    return ALGO_NEITHER;
}

/* ------------------------------------------------------------------------ */
/* building blocks */

int algo_triples(int p, int32_t *out)
{
    const uint64_t n3 = (uint64_t)p * p * p;
    const int n = n3 < ALGO_N_TRIPLES ? (int)n3 : ALGO_N_TRIPLES;
    rng *r = rng_alloc(ALGO_TRIPLE_SEED, RNG_STREAM_ALGO, 0);
    if (!r)
        return GROK_ENOMEM;
    /* A front-to-back Fisher-Yates on the identity over n3 entries, kept
     * sparse: the entries moved so far as (position, value) pairs. */
    uint64_t pos[2 * ALGO_N_TRIPLES], val[2 * ALGO_N_TRIPLES];
    int n_moved = 0;
    for (int i = 0; i < n; i++) {
        const uint64_t j = (uint64_t)i + rng_uniform_int(r, n3 - (uint64_t)i);
        uint64_t vi = (uint64_t)i, vj = j;
        int si = -1, sj = -1;
        for (int q = 0; q < n_moved; q++) {
            if (pos[q] == (uint64_t)i)
                si = q;
            if (pos[q] == j)
                sj = q;
        }
        if (si >= 0)
            vi = val[si];
        if (sj >= 0)
            vj = val[sj];
        /* position i gets vj (final: it is never drawn again), j gets vi */
        if (si < 0) {
            si = n_moved++;
            pos[si] = (uint64_t)i;
        }
        val[si] = vj;
        if (j != (uint64_t)i) {
            if (sj < 0) {
                sj = n_moved++;
                pos[sj] = j;
            }
            val[sj] = vi;
        }
        const uint64_t x = vj, pp = (uint64_t)p;
        out[3 * i] = (int32_t)(x / (pp * pp));
        out[3 * i + 1] = (int32_t)((x / pp) % pp);
        out[3 * i + 2] = (int32_t)(x % pp);
    }
    rng_free(r);
    return n;
}

/* population std of x[0..n) with stride */
static double pop_std(const double *x, int n, int stride)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++)
        m += x[(size_t)i * stride];
    m /= n;
    for (int i = 0; i < n; i++) {
        const double d = x[(size_t)i * stride] - m;
        v += d * d;
    }
    return sqrt(v / n);
}

double algo_dist_irrel(const double *L, int Vo, const int32_t *label, int p, double *tab)
{
    double *T = tab ? tab : grok_alloc((size_t)p * p * sizeof *T);
    if (!T)
        return NAN;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            const int r = a * p + b, s = (a + b) % p, d = (a - b + p) % p;
            T[s * p + d] = L[(size_t)r * Vo + label[r]];
        }
    const double all = pop_std(T, p * p, 1);
    double q = 1;
    if (all > 0) {
        double m = 0;
        for (int d = 0; d < p; d++)
            m += pop_std(T + d, p, p);
        q = m / p / all;
    }
    if (!tab)
        grok_free(T);
    return q;
}

double algo_grad_sym(const float *g, int n, int T, int D, int pa, int pb)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        const float *x = g + ((size_t)i * T + pa) * D, *y = g + ((size_t)i * T + pb) * D;
        double xy = 0, xx = 0, yy = 0;
        for (int j = 0; j < D; j++) {
            xy += (double)x[j] * y[j];
            xx += (double)x[j] * x[j];
            yy += (double)y[j] * y[j];
        }
        if (xx > 0 && yy > 0)
            sum += xy / sqrt(xx * yy);
    }
    return n > 0 ? sum / n : 0;
}

double algo_circ_score(const double *u, int p)
{
    double nn = 0;
    for (int t = 0; t < p; t++)
        nn += u[t] * u[t];
    if (!(nn > 0))
        return 0;
    const double scale = 1 / (sqrt(nn) * sqrt((double)p));
    double best = 0;
    for (int i = 1; i < p; i++) {
        double re = 0, im = 0;
        for (int t = 0; t < p; t++) {
            const double v = u[(size_t)t * i % p] * scale, ang = 2 * ALGO_PI * t / p;
            re += v * cos(ang);
            im += v * sin(ang);
        }
        const double s = 2 * (re * re + im * im);
        if (s > best)
            best = s;
    }
    return best < 1 ? best : 1;
}

int algo_best_freq(const double *u, int p)
{
    int best = 1;
    double bp = -1;
    for (int k = 1; k <= fourier_n_freqs(p); k++) {
        double c = 0, s = 0;
        for (int t = 0; t < p; t++) {
            const double ang = 2 * ALGO_PI * (double)((long)k * t % p) / p;
            c += u[t] * cos(ang);
            s += u[t] * sin(ang);
        }
        if (c * c + s * s > bp) {
            bp = c * c + s * s;
            best = k;
        }
    }
    return best;
}

/* cos and sin of w x and of w x / 2 for x = 0..p-1, w = 2 pi k / p */
typedef struct {
    double *c, *s, *hc, *hs; /* [p] each */
} trig_tab;

static int trig_alloc(trig_tab *tb, int p)
{
    tb->c = grok_alloc(4 * (size_t)p * sizeof(double));
    if (!tb->c)
        return GROK_ENOMEM;
    tb->s = tb->c + p;
    tb->hc = tb->s + p;
    tb->hs = tb->hc + p;
    return GROK_OK;
}

static void trig_fill(trig_tab *tb, int p, int k)
{
    for (int x = 0; x < p; x++) {
        const double ang = 2 * ALGO_PI * (double)((long)k * x % p) / p;
        tb->c[x] = cos(ang);
        tb->s[x] = sin(ang);
        const double half = ALGO_PI * (double)k * x / p; /* w x / 2, not reduced */
        tb->hc[x] = cos(half);
        tb->hs[x] = sin(half);
    }
}

/* the template at (a, b, c) */
static double template_at(const trig_tab *tb, int a, int b, int c, int p, int pizza)
{
    if (!pizza)
        return tb->c[(a + b - c + 2 * p) % p]; /* cos(w (a + b - c)) */
    const double ca = tb->c[a] + tb->c[b], sa = tb->s[a] + tb->s[b];
    return fabs(tb->hc[c] * ca + tb->hs[c] * sa) - fabs(-tb->hs[c] * ca + tb->hc[c] * sa);
}

/* FVE with a filled table: both sides centred; for standardised sides the
 * difference has mean 0 and variance 2 - 2 rho, so explained_variance_score
 * = 1 - (2 - 2 rho) = 2 rho - 1, rho the correlation over the cube. */
static double fve_tab(const double *L, int p, const trig_tab *tb, int pizza)
{
    const double n = (double)p * p * p;
    double mL = 0, mQ = 0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++)
            for (int c = 0; c < p; c++) {
                mL += L[((size_t)a * p + b) * p + c];
                mQ += template_at(tb, a, b, c, p, pizza);
            }
    mL /= n;
    mQ /= n;
    double vL = 0, vQ = 0, x = 0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++)
            for (int c = 0; c < p; c++) {
                const double l = L[((size_t)a * p + b) * p + c] - mL,
                             q = template_at(tb, a, b, c, p, pizza) - mQ;
                vL += l * l;
                vQ += q * q;
                x += l * q;
            }
    if (!(vL > 0) || !(vQ > 0))
        return 0;
    return 2 * x / sqrt(vL * vQ) - 1;
}

double algo_fve(const double *L, int p, int k, int pizza)
{
    trig_tab tb;
    if (trig_alloc(&tb, p) != GROK_OK)
        return NAN;
    trig_fill(&tb, p, k);
    const double f = fve_tab(L, p, &tb, pizza);
    grok_free(tb.c);
    return f;
}

/* ------------------------------------------------------------------------ */
/* on a model */

struct algo_workspace {
    const task_data *t;
    int p, N, Vo, T, D, pa, pb;
    model priv;            /* the private copy: same config, own buffers */
    model_acts *acts;      /* the forwards' workspace, own or borrowed */
    int own_acts, own_L;   /* 1: acts, L allocated here */
    int n_trip;
    int32_t trip[3 * ALGO_N_TRIPLES];
    int32_t *tok, *cls;    /* [n_trip, T], [n_trip] */
    float *grad;           /* [n_trip, T, D] */
    double *X, *G, *lam;   /* [p, D], [p, p], [p] */
    gsl_matrix *evec;      /* p x p */
    gsl_eigen_symmv_workspace *eig;
    double *mu;            /* [D] */
    double *L;             /* [N, Vo] the restricted model's logits */
    trig_tab tb;
    int have_pca;
};

void algo_workspace_free(algo_workspace *aw)
{
    if (!aw)
        return;
    if (aw->own_acts)
        model_acts_free(aw->acts);
    if (aw->priv.params)
        model_free(&aw->priv);
    grok_free(aw->tok);
    grok_free(aw->cls);
    grok_free(aw->grad);
    grok_free(aw->X);
    grok_free(aw->G);
    grok_free(aw->lam);
    grok_free(aw->mu);
    if (aw->own_L)
        grok_free(aw->L);
    grok_free(aw->tb.c);
    if (aw->evec)
        gsl_matrix_free(aw->evec);
    if (aw->eig)
        gsl_eigen_symmv_free(aw->eig);
    free(aw);
}

int algo_workspace_alloc(algo_workspace **out, const model *m, const task_data *t,
                         model_acts *acts, double *L, grok_err *e)
{
    *out = NULL;
    const param_tensor *we = model_find(m, "embed.W_E");
    if (!(t->caps & TASK_CAP_ZP_GRID) || t->n_all != t->cfg.p * t->cfg.p || !we ||
        we->ndim != 2 || we->shape[0] < t->cfg.p)
        return grok_fail(e, GROK_EINVAL,
                         "clock/pizza measures: need a Z_p grid task and embed.W_E rows for "
                         "every residue");
    algo_workspace *aw = calloc(1, sizeof *aw);
    if (!aw)
        return grok_fail(e, GROK_ENOMEM, "clock/pizza measures: out of memory");
    aw->t = t;
    aw->p = t->cfg.p;
    aw->N = t->n_all;
    aw->Vo = model_n_classes(m);
    aw->T = t->n_ctx;
    aw->D = we->shape[1];
    aw->pa = aw->pb = -1;
    char name[16];
    for (int i = 0; i < aw->T; i++) {
        task_position_name(t, i, name, sizeof name);
        if (strcmp(name, "a") == 0)
            aw->pa = i;
        else if (strcmp(name, "b") == 0)
            aw->pb = i;
    }
    int rc = GROK_OK;
    if (aw->pa < 0 || aw->pb < 0 || aw->Vo != aw->p) {
        rc = grok_fail(e, GROK_EINVAL, "clock/pizza measures: the task has no positions a, b "
                                       "or not p classes");
        goto fail;
    }
    if ((rc = model_init(&aw->priv, &m->cfg, e)) != GROK_OK)
        goto fail;
    aw->n_trip = algo_triples(aw->p, aw->trip);
    if (aw->n_trip < 0) {
        rc = grok_fail(e, GROK_ENOMEM, "clock/pizza measures: out of memory");
        goto fail;
    }
    const size_t p = (size_t)aw->p, D = (size_t)aw->D, T = (size_t)aw->T, nt = (size_t)aw->n_trip;
    aw->acts = acts;
    if (!acts) {
        aw->acts = model_acts_alloc(m, aw->N < ALGO_CHUNK ? aw->N : ALGO_CHUNK);
        aw->own_acts = 1;
    }
    aw->tok = grok_alloc(nt * T * sizeof *aw->tok);
    aw->cls = grok_alloc(nt * sizeof *aw->cls);
    aw->grad = grok_alloc(nt * T * D * sizeof *aw->grad);
    aw->X = grok_alloc(p * D * sizeof *aw->X);
    aw->G = grok_alloc(p * p * sizeof *aw->G);
    aw->lam = grok_alloc(p * sizeof *aw->lam);
    aw->mu = grok_alloc(D * sizeof *aw->mu);
    aw->L = L;
    if (!L) {
        aw->L = grok_alloc((size_t)aw->N * aw->Vo * sizeof *aw->L);
        aw->own_L = 1;
    }
    aw->evec = gsl_matrix_alloc(p, p);
    aw->eig = gsl_eigen_symmv_alloc(p);
    if (!aw->acts || !aw->tok || !aw->cls || !aw->grad || !aw->X || !aw->G || !aw->lam ||
        !aw->mu || !aw->L || !aw->evec || !aw->eig || trig_alloc(&aw->tb, aw->p) != GROK_OK) {
        rc = grok_fail(e, GROK_ENOMEM, "clock/pizza measures: out of memory");
        goto fail;
    }
    for (int i = 0; i < aw->n_trip; i++) {
        const int r = aw->trip[3 * i] * aw->p + aw->trip[3 * i + 1];
        memcpy(aw->tok + (size_t)i * T, t->tokens + (size_t)r * T, T * sizeof *aw->tok);
        aw->cls[i] = aw->trip[3 * i + 2];
    }
    *out = aw;
    return GROK_OK;
fail:
    algo_workspace_free(aw);
    return rc;
}

static void copy_params(algo_workspace *aw, const model *m)
{
    GROK_ASSERT(m->n_params == aw->priv.n_params);
    memcpy(aw->priv.params, m->params, m->n_params * sizeof *m->params);
}

double algo_model_grad_sym(algo_workspace *aw, const model *m)
{
    copy_params(aw, m);
    int width;
    model_embed_grad(&aw->priv, aw->acts, aw->tok, aw->cls, aw->n_trip,
                     (1u << aw->pa) | (1u << aw->pb), aw->grad, &width);
    GROK_ASSERT(width == aw->D);
    return algo_grad_sym(aw->grad, aw->n_trip, aw->T, aw->D, aw->pa, aw->pb);
}

/* u_j: column j of evec (descending eigenvalue), into u [p] */
static void pc_column(const algo_workspace *aw, int j, double *u)
{
    for (int t = 0; t < aw->p; t++)
        u[t] = gsl_matrix_get(aw->evec, (size_t)t, (size_t)j);
}

double algo_model_circularity(algo_workspace *aw, const model *m)
{
    const int p = aw->p, D = aw->D;
    const float *W = m->params + model_find(m, "embed.W_E")->offset;
    for (int j = 0; j < D; j++)
        aw->mu[j] = 0;
    for (int t = 0; t < p; t++)
        for (int j = 0; j < D; j++)
            aw->mu[j] += W[(size_t)t * D + j];
    for (int j = 0; j < D; j++)
        aw->mu[j] /= p;
    for (int t = 0; t < p; t++)
        for (int j = 0; j < D; j++)
            aw->X[(size_t)t * D + j] = W[(size_t)t * D + j] - aw->mu[j];
    for (int s = 0; s < p; s++)
        for (int t = 0; t <= s; t++) {
            double g = 0;
            for (int j = 0; j < D; j++)
                g += aw->X[(size_t)s * D + j] * aw->X[(size_t)t * D + j];
            aw->G[(size_t)s * p + t] = aw->G[(size_t)t * p + s] = g;
        }
    gsl_matrix_view Gv = gsl_matrix_view_array(aw->G, (size_t)p, (size_t)p);
    gsl_vector_view lv = gsl_vector_view_array(aw->lam, (size_t)p);
    gsl_eigen_symmv(&Gv.matrix, &lv.vector, aw->evec, aw->eig);
    gsl_eigen_symmv_sort(&lv.vector, aw->evec, GSL_EIGEN_SORT_VAL_DESC);
    aw->have_pca = 1;
    int n_pc = ALGO_N_PCS;
    if (n_pc > D)
        n_pc = D;
    if (n_pc > p - 1)
        n_pc = p - 1;
    double s = 0, *u = aw->G; /* G is spent */
    for (int j = 0; j < n_pc; j++) {
        pc_column(aw, j, u);
        s += algo_circ_score(u, p);
    }
    return n_pc > 0 ? s / n_pc : 0;
}

void algo_model_fve(algo_workspace *aw, const model *m, double *fve_clock, double *fve_pizza,
                    int *k_out)
{
    GROK_ASSERT(aw->have_pca);
    const int p = aw->p, D = aw->D, N = aw->N, Vo = aw->Vo;
    double *u1 = aw->G, *u2 = aw->G + p; /* G is spent */
    pc_column(aw, 0, u1);
    pc_column(aw, 1, u2);
    const int k = algo_best_freq(u1, p);
    /* W_E[:p] <- mu + (u1 u1^T + u2 u2^T) X in the private copy */
    copy_params(aw, m);
    float *W = aw->priv.params + model_find(&aw->priv, "embed.W_E")->offset;
    for (int j = 0; j < D; j++) {
        double c1 = 0, c2 = 0;
        for (int t = 0; t < p; t++) {
            c1 += u1[t] * aw->X[(size_t)t * D + j];
            c2 += u2[t] * aw->X[(size_t)t * D + j];
        }
        for (int t = 0; t < p; t++)
            W[(size_t)t * D + j] = (float)(aw->mu[j] + u1[t] * c1 + u2[t] * c2);
    }
    const int chunk = model_acts_n_max(aw->acts); /* a row's logits do not depend on it */
    for (int r0 = 0; r0 < N; r0 += chunk) {
        const int n = N - r0 < chunk ? N - r0 : chunk;
        model_forward(&aw->priv, aw->acts, aw->t->tokens + (size_t)r0 * aw->T, n);
        const float *lg = model_logits(aw->acts);
        for (size_t i = 0; i < (size_t)n * Vo; i++)
            aw->L[(size_t)r0 * Vo + i] = lg[i];
    }
    trig_fill(&aw->tb, p, k);
    *fve_clock = fve_tab(aw->L, p, &aw->tb, 0);
    *fve_pizza = fve_tab(aw->L, p, &aw->tb, 1);
    if (k_out)
        *k_out = k;
}

void algo_format_embed_circles(algo_workspace *aw, const model *m, const int *keys, int n_keys,
                               sbuf *out)
{
    const int p = aw->p, D = aw->D;
    const float *W = m->params + model_find(m, "embed.W_E")->offset;
    double *F = aw->G; /* [p, p] the Fourier basis */
    fourier_basis(F, p);
    sbuf_puts(out, "k\ttoken\tx\ty\n");
    for (int q = 0; q < n_keys; q++) {
        const int k = keys[q];
        const double *c = F + (size_t)fourier_cos_row(k) * p, *s = F + (size_t)fourier_sin_row(k) * p;
        /* alpha = c^T W, beta = s^T W [D]; the rank-2 matrix c alpha + s beta
         * has PCA scores [c_t s_t] U sqrt(Lambda), U Lambda U^T = the 2 x 2
         * Gram of (alpha, beta) */
        double aa = 0, ab = 0, bb = 0;
        for (int j = 0; j < D; j++) {
            double al = 0, be = 0;
            for (int t = 0; t < p; t++) {
                al += c[t] * W[(size_t)t * D + j];
                be += s[t] * W[(size_t)t * D + j];
            }
            aa += al * al;
            ab += al * be;
            bb += be * be;
        }
        const double tr = aa + bb, det = aa * bb - ab * ab,
                     disc = sqrt(fmax(0, tr * tr / 4 - det));
        const double l1 = tr / 2 + disc, l2 = fmax(0, tr / 2 - disc);
        /* eigenvector of l1: (ab, l1 - aa) or (l1 - bb, ab), the longer */
        double e1x = ab, e1y = l1 - aa;
        if (hypot(l1 - bb, ab) > hypot(e1x, e1y)) {
            e1x = l1 - bb;
            e1y = ab;
        }
        double nrm = hypot(e1x, e1y);
        if (nrm > 0) {
            e1x /= nrm;
            e1y /= nrm;
        } else {
            e1x = 1;
            e1y = 0;
        }
        double e2x = -e1y, e2y = e1x;
        /* signs: token 0 at x >= 0 (c_0 > 0, s_0 = 0), token 1 at y >= 0 */
        if (e1x < 0) {
            e1x = -e1x;
            e1y = -e1y;
        }
        if (c[1] * e2x + s[1] * e2y < 0) {
            e2x = -e2x;
            e2y = -e2y;
        }
        const double r1 = sqrt(l1), r2 = sqrt(l2);
        for (int t = 0; t < p; t++)
            sbuf_printf(out, "%d\t%d\t%.9g\t%.9g\n", k, t, r1 * (c[t] * e1x + s[t] * e1y),
                        r2 * (c[t] * e2x + s[t] * e2y));
    }
}

void algo_format_logit_sd(const double *L, int Vo, const task_data *t, sbuf *out)
{
    const int p = t->cfg.p;
    sbuf_puts(out, "s\td\tlogit\n");
    const int inv2 = (p + 1) / 2; /* 2^-1 mod odd p */
    for (int s = 0; s < p; s++)
        for (int d = 0; d < p; d++) {
            const int a = (int)((long)(s + d) * inv2 % p), b = (int)((long)(s - d + p) * inv2 % p);
            const int r = a * p + b;
            sbuf_printf(out, "%d\t%d\t%.9g\n", s, d, L[(size_t)r * Vo + t->label[r]]);
        }
}
