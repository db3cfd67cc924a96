/* loss.c: the losses of loss.h, one row kernel per kind, and the one driver
 * that spreads rows over threads and adds their losses in row order.
 *
 * Float logits of the float64 softmax cross-entropy (the default run's
 * training loss) go through softmax64_row, whose arithmetic is fixed; the
 * other kinds read a row in double (float logits converted exactly into the
 * caller's scratch) and write the gradient of the mean, when asked, in float.
 * The float64 softmax of double logits (the measures) takes its exps a chunk
 * at a time on the stack, since it needs no gradient and no scratch.
 *
 * Legend: n rows, k classes, x a row of logits, y its label, inv_n = 1/n. */
#include "loss.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* names and config */

static const char *const kind_names[LOSS_KIND_COUNT] = {"softmax_ce", "stablemax_ce", "mse"};

const char *loss_kind_name(loss_kind k)
{
    return (k >= 0 && k < LOSS_KIND_COUNT) ? kind_names[k] : "?";
}

int loss_kind_parse(const char *name)
{
    for (int i = 0; i < LOSS_KIND_COUNT; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

int loss_config_check(const loss_config *c, grok_err *e)
{
    if (c->kind < 0 || c->kind >= LOSS_KIND_COUNT)
        return grok_fail(e, GROK_EINVAL,
                         "train.loss = %d: must be softmax_ce, stablemax_ce or mse", (int)c->kind);
    if (c->f32 != 0 && c->f32 != 1)
        return grok_fail(e, GROK_EINVAL, "train.loss_dtype: f32 = %d must be 0 or 1", c->f32);
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* row kernels */

/* Softmax cross-entropy of float logits x [k] against label y, in double: in
 * float, exp underflows on confident rows and the loss of a memorised example
 * rounds to exactly 0 (Nanda et al. 2023).  ex [k] receives exp(x - max),
 * taken once (the vector exp where libmvec is there); d [k], when not NULL,
 * the gradient (softmax - onehot) * inv_n.  Returns the loss; *argmax the
 * predicted class.  (The default run's loss: do not change its arithmetic.) */
GROK_VECTOR_CLONES
static double softmax64_row(double *restrict ex, float *restrict d, const float *restrict x, int y,
                            int Vo, double inv_n, int *argmax)
{
    /* the first index of the largest logit: max is exact in any order, so the
     * vectorised reduction finds the same element as a scan */
    float mx = x[0];
#pragma omp simd reduction(max : mx)
    for (int j = 1; j < Vo; j++)
        mx = x[j] > mx ? x[j] : mx;
    int best = 0; /* (a NaN first logit wins, as in a scan) */
    while (best < Vo - 1 && !isnan(mx) && !(x[best] == mx))
        best++;
    *argmax = best;
    const double xb = x[best];
#if GROK_VECTOR_EXP
#pragma omp simd
#endif
    for (int j = 0; j < Vo; j++)
        ex[j] = exp((double)x[j] - xb);
    /* the sum of exp over the non-max classes (s = 1 + rest), in four partial
     * sums added in a fixed order */
    double part[4] = {0, 0, 0, 0};
    int j = 0;
    for (; j + 4 <= Vo; j += 4)
        for (int u = 0; u < 4; u++)
            part[u] += j + u == best ? 0.0 : ex[j + u];
    double rest = (part[0] + part[1]) + (part[2] + part[3]);
    for (; j < Vo; j++)
        rest += j == best ? 0.0 : ex[j];
    if (d) {
        const double inv = 1.0 / (1.0 + rest);
        for (int k = 0; k < Vo; k++)
            d[k] = (float)((ex[k] * inv - (k == y)) * inv_n);
    }
    return log1p(rest) - ((double)x[y] - xb);
}

/* argmax_d, argmax_f: the first index of the largest x[j] of double or float
 * values, as softmax64_row finds it (a float's argmax is that of its exact
 * double value).  The max is exact in any order, so the vectorised reduction
 * finds the same element as a scan; a NaN first entry wins, as in a scan. */
#define GROK_ARGMAX(name, T)                                                                      \
    GROK_VECTOR_CLONES                                                                            \
    static int name(const T *x, int k)                                                            \
    {                                                                                             \
        T mx = x[0];                                                                              \
        _Pragma("omp simd reduction(max : mx)") for (int j = 1; j < k; j++) mx =                  \
            x[j] > mx ? x[j] : mx;                                                                \
        int j = 0;                                                                                \
        while (j < k - 1 && !isnan(mx) && !(x[j] == mx))                                          \
            j++;                                                                                  \
        return j;                                                                                 \
    }
GROK_ARGMAX(argmax_d, double)
GROK_ARGMAX(argmax_f, float)
#undef GROK_ARGMAX

enum { CHUNK = 256 }; /* exps per stack buffer of the chunked kernels */

/* Softmax cross-entropy in double of double logits, best = argmax: log1p of
 * the sum of exp(x_j - x_best) over j != best, added in j order, minus
 * x_y - x_best. */
GROK_VECTOR_CLONES
static double softmax64_row_d(const double *restrict x, int y, int k, int best)
{
    double buf[CHUNK], rest = 0;
    const double xb = x[best];
    for (int j0 = 0; j0 < k; j0 += CHUNK) {
        const int nj = k - j0 < CHUNK ? k - j0 : CHUNK;
#if GROK_VECTOR_EXP
#pragma omp simd
#endif
        for (int j = 0; j < nj; j++)
            buf[j] = exp(x[j0 + j] - xb);
        for (int j = 0; j < nj; j++)
            rest += j0 + j == best ? 0.0 : buf[j];
    }
    return log1p(rest) - (x[y] - xb);
}

/* Softmax cross-entropy in float of x rounded to float (float logits xf, or
 * double ones xd when xf is NULL): s = sum_j expf(x_j - x_best) in j order
 * (exactly 1 when every other term is below half an ulp of 1), loss logf(s) -
 * (x_y - x_best); d (NULL or [k]) holds the exps, then (e_j / s - onehot_j) *
 * inv_n, all in float. */
#define X32(j) (xf ? xf[j] : (float)xd[j])
static double softmax32_row(const float *restrict xf, const double *restrict xd, int y, int k,
                            int best, float *restrict d, double inv_n)
{
    float buf[CHUNK], s = 0;
    const float xb = X32(best);
    for (int j0 = 0; j0 < k; j0 += CHUNK) {
        const int nj = k - j0 < CHUNK ? k - j0 : CHUNK;
        for (int j = 0; j < nj; j++)
            buf[j] = expf(X32(j0 + j) - xb);
        for (int j = 0; j < nj; j++)
            s += buf[j];
        if (d)
            memcpy(d + j0, buf, (size_t)nj * sizeof *buf);
    }
    if (d) {
        const float fn = (float)inv_n;
        for (int j = 0; j < k; j++)
            d[j] = (d[j] / s - (float)(j == y)) * fn;
    }
    return (double)(logf(s) - (X32(y) - xb));
}
#undef X32

/* s(v) of StableMax and its derivative. */
static inline double stablemax_s(double v) { return v >= 0 ? v + 1.0 : 1.0 / (1.0 - v + 1e-30); }
static inline double stablemax_ds(double v, double s) { return v >= 0 ? 1.0 : s * s; }

/* StableMax cross-entropy -log(s_y / S), S = sum_j s(x_j) in j order; d (NULL
 * or [k]) the gradient (s'(x_j) / S - onehot_j s'(x_y) / s_y) * inv_n. */
static double stablemax_row(const double *restrict x, int y, int k, float *restrict d, double inv_n)
{
    double S = 0;
    for (int j = 0; j < k; j++)
        S += stablemax_s(x[j]);
    const double sy = stablemax_s(x[y]);
    if (d) {
        const double gy = stablemax_ds(x[y], sy) / sy;
        for (int j = 0; j < k; j++) {
            const double s = stablemax_s(x[j]);
            d[j] = (float)((stablemax_ds(x[j], s) / S - (j == y ? gy : 0.0)) * inv_n);
        }
    }
    return -log(sy / S);
}

/* Mean over classes of (x_j - onehot_j)^2, added in j order; d (NULL or [k])
 * the gradient 2 (x_j - onehot_j) / k * inv_n. */
static double mse_row(const double *restrict x, int y, int k, float *restrict d, double inv_n)
{
    double s = 0;
    for (int j = 0; j < k; j++) {
        const double r = x[j] - (j == y);
        s += r * r;
    }
    if (d)
        for (int j = 0; j < k; j++)
            d[j] = (float)(2.0 * (x[j] - (j == y)) / k * inv_n);
    return s / k;
}

/* ------------------------------------------------------------------------ */
/* the driver */

typedef struct {
    const loss_config *c;
    const float *xf;  /* float logits [n, k], or NULL */
    const double *xd; /* double logits [*, k] when xf is NULL */
    const int32_t *labels, *rows;
    int k;
    double *scratch; /* [n, k] for float logits */
    float *d;        /* NULL or [n, k] */
    double inv_n;
} loss_job;

/* The loss of row i of the job; *correct = (argmax == label). */
static double row_loss(const loss_job *b, int i, int *correct)
{
    const int r = b->rows ? b->rows[i] : i, k = b->k;
    const int y = b->labels[r];
    GROK_ASSERT(y >= 0 && y < k);
    float *d = b->d ? b->d + (size_t)i * k : NULL;
    const double *x;
    int best;
    double loss;
    if (b->xf) {
        const float *xf = b->xf + (size_t)r * k;
        double *w = b->scratch + (size_t)i * k;
        if (b->c->kind == LOSS_SOFTMAX_CE && !b->c->f32) {
            loss = softmax64_row(w, d, xf, y, k, b->inv_n, &best);
            *correct = best == y;
            return loss;
        }
        if (b->c->kind == LOSS_SOFTMAX_CE) { /* float32: straight from the floats */
            best = argmax_f(xf, k);
            *correct = best == y;
            return softmax32_row(xf, NULL, y, k, best, d, b->inv_n);
        }
        for (int j = 0; j < k; j++)
            w[j] = xf[j];
        x = w;
    } else {
        x = b->xd + (size_t)r * k;
    }
    best = argmax_d(x, k);
    *correct = best == y;
    switch (b->c->kind) {
    case LOSS_SOFTMAX_CE:
        return b->c->f32 ? softmax32_row(NULL, x, y, k, best, d, b->inv_n)
                         : softmax64_row_d(x, y, k, best);
    case LOSS_STABLEMAX_CE:
        return stablemax_row(x, y, k, d, b->inv_n);
    case LOSS_MSE:
        return mse_row(x, y, k, d, b->inv_n);
    default:
        GROK_ASSERT(0);
        return NAN;
    }
}

/* Rows in blocks of LOSS_BLOCK: each block's rows in parallel, then their
 * losses added in row order (per_example NULL: a stack buffer holds them). */
enum { LOSS_BLOCK = 1024 };

static double run_rows(const loss_job *b, int n, double *per_example, int *n_correct)
{
    GROK_ASSERT(b->c->kind >= 0 && b->c->kind < LOSS_KIND_COUNT);
    double buf[LOSS_BLOCK], total = 0;
    int correct = 0;
    for (int i0 = 0; i0 < n; i0 += LOSS_BLOCK) {
        const int i1 = n - i0 < LOSS_BLOCK ? n : i0 + LOSS_BLOCK;
        double *pe = per_example ? per_example + i0 : buf;
#pragma omp parallel for schedule(static) reduction(+ : correct)
        for (int i = i0; i < i1; i++) {
            int ok;
            pe[i - i0] = row_loss(b, i, &ok);
            correct += ok;
        }
        for (int i = i0; i < i1; i++)
            total += pe[i - i0];
    }
    if (n_correct)
        *n_correct = correct;
    return n > 0 ? total / n : NAN;
}

double loss_rows(const loss_config *c, const float *logits, const int32_t *labels, int n, int k,
                 double *scratch, double *per_example, float *dlogits, int *n_correct)
{
    const loss_job b = {.c = c, .xf = logits, .labels = labels, .k = k, .scratch = scratch,
                        .d = dlogits, .inv_n = 1.0 / n};
    return run_rows(&b, n, per_example, n_correct);
}

double loss_rows_f64(const loss_config *c, const double *logits, const int32_t *labels,
                     const int32_t *rows, int n, int k, double *per_example, int *n_correct)
{
    const loss_job b = {.c = c, .xd = logits, .labels = labels, .rows = rows, .k = k,
                        .inv_n = 1.0 / n};
    return run_rows(&b, n, per_example, n_correct);
}
