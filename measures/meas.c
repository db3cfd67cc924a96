/* meas.c: the progress measures declared in meas.h, from a model's parameters
 * and its activations over all inputs (docs/measures.md).
 *
 * A pass: one tfm_forward over the n_all inputs in canonical order (r = a*p+b)
 * into the workspace's activations; the logits are copied to double.  The
 * general measures (losses, accuracies, sums of squares) need nothing else.
 * The Fourier measures then use, all in double through GSL's BLAS:
 *  - R1: the neurons of the last MLP, centred over inputs, in blocks of
 *    MEAS_NEURON_BLOCK columns, each block 2-D transformed (fourier_2d) and
 *    scored by meas_neuron_fve;
 *  - the projection onto the sum directions of the key frequencies as two
 *    GEMMs: coef [2K, Vo] = D L over every frequency, the rows of the other
 *    frequencies zeroed, PL = D^T coef (about 2 x 2K P2 Vo flops whatever
 *    the number of keys);
 *  - the spectra F W_E[:p] and F W_L, W_L = W_U^T W_out^T (TransformerLens
 *    layouts: W_U [D, Vo], W_out [M, D]).
 * Every sum runs in a fixed order and BLIS never splits k, so a row is the
 * same bits for any thread count.
 *
 * Legend: p modulus, K = (p-1)/2, P2 = p*p, N = n_all inputs, D d_model,
 * M d_mlp, Vo = p classes, H heads, T = 3 positions, c neurons in a block. */
#include "meas.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <string.h>

#include "loss.h"

/* Neurons per R1 block: keeps the block buffers small ([P2, 64] doubles, 6.5
 * MB at p = 113) while both GEMMs of the transform stay large ([p, p] x
 * [p, p*64]). */
#define MEAS_NEURON_BLOCK 64

struct meas_workspace {
    tfm_config mc;
    int p, K, N, Vo, M, D, H, T, L;
    int fourier;
    char reason[160];
    tfm_acts *acts;
    int own_acts;
    int32_t *tokens; /* [N, T] canonical order */
    double *logits;  /* [N, Vo] the last forward, in double */
    float *attn;     /* [N, H, T] */
    int have_forward;
    /* Fourier buffers (NULL when the Fourier measures do not apply) */
    double *F;           /* [p, p] */
    double *Dsum;        /* [2K, P2] sum directions */
    double *PL, *Lx;     /* [N, Vo] projection; restricted/excluded logits */
    double *coef;        /* [2K, Vo] coefficients on the sum directions */
    int width;           /* columns of bufA..C: max(block, Vo) */
    double *bufA, *bufB, *bufC; /* [P2, width] */
    double *WE, *E;      /* [p, D] */
    double *WU;          /* [D, Vo] */
    double *Wout;        /* [M, D] */
    double *WL, *FWL;    /* [p, M] */
    double *spec_e, *spec_l; /* [p] component norms */
    double *fn;          /* [K+1] per-frequency norms */
    double *scratch;     /* [max(p, M)] */
    int *nbest;          /* [M] */
    double *nfrac;       /* [M] */
    int have_neurons;
};

/* ------------------------------------------------------------------------ */
/* building blocks */

double meas_ce(const double *L, int m, const int32_t *labels, const int32_t *rows, int n,
               int *n_correct)
{
    const loss_config softmax64 = {LOSS_SOFTMAX_CE, 0};
    return loss_rows_f64(&softmax64, L, labels, rows, n, m, NULL, n_correct);
}

void meas_project_sum(double *PL, const double *L, const double *D, const int *keys, int n_keys,
                      int p, int m, double *coef)
{
    const int K = fourier_n_freqs(p);
    const size_t P2 = (size_t)p * p, twoK = 2 * (size_t)K;
    gsl_matrix_const_view Lv = gsl_matrix_const_view_array(L, P2, (size_t)m);
    gsl_matrix_const_view Dv = gsl_matrix_const_view_array(D, twoK, P2);
    gsl_matrix_view Cv = gsl_matrix_view_array(coef, twoK, (size_t)m);
    gsl_matrix_view Pv = gsl_matrix_view_array(PL, P2, (size_t)m);
    /* coef [2K, m] = D L: the coefficients on every u_k, v_k in one GEMM ... */
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Dv.matrix, &Lv.matrix, 0.0, &Cv.matrix);
    /* ... the rows of frequencies outside keys set to zero ... */
    for (int k = 1, i = 0; k <= K; k++) {
        while (i < n_keys && keys[i] < k)
            i++;
        if (i < n_keys && keys[i] == k)
            continue;
        memset(coef + (size_t)(2 * (k - 1)) * m, 0, 2 * (size_t)m * sizeof *coef);
    }
    /* ... and PL [P2, m] = D^T coef. */
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Dv.matrix, &Cv.matrix, 0.0, &Pv.matrix);
}

/* mean over rows of X [N, m] into mu [m], summed in row order */
static void column_means(double *mu, const double *X, int N, int m)
{
    for (int j = 0; j < m; j++)
        mu[j] = 0;
    for (int r = 0; r < N; r++)
        for (int j = 0; j < m; j++)
            mu[j] += X[(size_t)r * m + j];
    for (int j = 0; j < m; j++)
        mu[j] /= N;
}

void meas_restricted_logits(double *Lres, const double *L, const double *PL, int N, int m,
                            double *mu)
{
    double *muL = mu, *muP = mu + m;
    column_means(muL, L, N, m);
    column_means(muP, PL, N, m);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < m; j++)
            Lres[(size_t)r * m + j] = PL[(size_t)r * m + j] + (muL[j] - muP[j]);
}

void meas_excluded_logits(double *Lexc, const double *L, const double *PL, int N, int m)
{
    const size_t n = (size_t)N * m;
    for (size_t i = 0; i < n; i++)
        Lexc[i] = L[i] - PL[i];
}

double meas_gini(const double *c, int n, double *scratch)
{
    if (n <= 0)
        return 0;
    memcpy(scratch, c, (size_t)n * sizeof *c);
    gsl_sort(scratch, 1, (size_t)n);
    double l1 = 0;
    for (int i = 0; i < n; i++)
        l1 += scratch[i];
    if (!(l1 > 0))
        return 0;
    double s = 0;
    for (int k = 1; k <= n; k++)
        s += (scratch[k - 1] / l1) * ((n - k + 0.5) / n);
    return 1 - 2 * s;
}

void meas_neuron_fve(int *best, double *frac, const double *Nh, int p, int c)
{
    const int K = fourier_n_freqs(p);
    const size_t P2 = (size_t)p * p;
    /* the totals first, row by row (Nh is row-major [P2, c]); frac holds them */
    for (int j = 0; j < c; j++)
        frac[j] = 0;
    for (size_t r = 0; r < P2; r++)
        for (int j = 0; j < c; j++)
            frac[j] += Nh[r * c + j] * Nh[r * c + j];
    for (int j = 0; j < c; j++) {
        const double total = frac[j];
        best[j] = 0;
        frac[j] = 0;
        if (!(total > 0))
            continue;
        for (int k = 1; k <= K; k++) {
            const int idx[3] = {0, fourier_cos_row(k), fourier_sin_row(k)};
            double s = 0;
            for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++) {
                    const double x = Nh[((size_t)idx[u] * p + idx[v]) * c + j];
                    s += x * x;
                }
            if (best[j] == 0 || s / total > frac[j]) {
                best[j] = k;
                frac[j] = s / total;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* workspace */

void meas_workspace_free(meas_workspace *ws)
{
    if (!ws)
        return;
    if (ws->own_acts)
        tfm_acts_free(ws->acts);
    grok_free(ws->tokens);
    grok_free(ws->logits);
    grok_free(ws->attn);
    grok_free(ws->F);
    grok_free(ws->Dsum);
    grok_free(ws->PL);
    grok_free(ws->Lx);
    grok_free(ws->coef);
    grok_free(ws->bufA);
    grok_free(ws->bufB);
    grok_free(ws->bufC);
    grok_free(ws->WE);
    grok_free(ws->E);
    grok_free(ws->WU);
    grok_free(ws->Wout);
    grok_free(ws->WL);
    grok_free(ws->FWL);
    grok_free(ws->spec_e);
    grok_free(ws->spec_l);
    grok_free(ws->fn);
    grok_free(ws->scratch);
    grok_free(ws->nbest);
    grok_free(ws->nfrac);
    free(ws);
}

/* grok_alloc of count elements of size, adding the bytes to *total */
static void *ws_alloc(size_t count, size_t size, size_t *total)
{
    *total += count * size;
    return grok_alloc(count * size);
}

int meas_workspace_alloc(meas_workspace **out, const tfm_config *mc, const task_data *t,
                         tfm_acts *acts, grok_err *e)
{
    *out = NULL;
    if (mc->d_vocab != t->d_vocab || mc->d_vocab_out != t->n_classes || mc->n_ctx != t->n_ctx)
        return grok_fail(e, GROK_EINVAL,
                         "measures: model (d_vocab %d, d_vocab_out %d, n_ctx %d) does not fit "
                         "the task (needs %d, %d, %d)",
                         mc->d_vocab, mc->d_vocab_out, mc->n_ctx, t->d_vocab, t->n_classes,
                         t->n_ctx);
    /* The Fourier measures need the task's Z_p grid; p means nothing otherwise. */
    const int fourier = (t->caps & TASK_CAP_ZP_GRID) != 0;
    const int p = fourier ? t->cfg.p : 0;
    meas_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return grok_fail(e, GROK_ENOMEM, "measures: out of memory");
    ws->mc = *mc;
    ws->p = p;
    ws->K = fourier ? fourier_n_freqs(p) : 0;
    ws->N = t->n_all;
    ws->Vo = mc->d_vocab_out;
    ws->M = mc->d_mlp;
    ws->D = mc->d_model;
    ws->H = mc->n_heads;
    ws->T = mc->n_ctx;
    ws->L = mc->n_layers;
    if (!fourier)
        snprintf(ws->reason, sizeof ws->reason, "%s", t->no_grid);
    else
        GROK_ASSERT(fourier_check_p(p, NULL) == GROK_OK && t->n_all == p * p);
    ws->fourier = fourier;

    const size_t N = (size_t)ws->N, Vo = (size_t)ws->Vo, P = (size_t)p, P2 = P * P,
                 D = (size_t)ws->D, M = (size_t)ws->M, K = (size_t)ws->K;
    size_t bytes = 0;
    int ok = 1;
    if (acts) {
        ws->acts = acts;
    } else {
        ws->acts = tfm_acts_alloc(&(tfm_model){.cfg = *mc}, ws->N);
        ws->own_acts = 1;
        ok = ws->acts != NULL;
    }
    ws->tokens = ws_alloc(N * (size_t)ws->T, sizeof(int32_t), &bytes);
    ws->logits = ws_alloc(N * Vo, sizeof(double), &bytes);
    ws->attn = ws_alloc(N * (size_t)ws->H * (size_t)ws->T, sizeof(float), &bytes);
    ok = ok && ws->tokens && ws->logits && ws->attn;
    if (ws->fourier) {
        const int block = ws->M < MEAS_NEURON_BLOCK ? ws->M : MEAS_NEURON_BLOCK;
        ws->width = block > ws->Vo ? block : ws->Vo;
        ws->F = ws_alloc(P2, sizeof(double), &bytes);
        ws->Dsum = ws_alloc(2 * K * P2, sizeof(double), &bytes);
        ws->PL = ws_alloc(N * Vo, sizeof(double), &bytes);
        ws->Lx = ws_alloc(N * Vo, sizeof(double), &bytes);
        ws->coef = ws_alloc(2 * K * Vo, sizeof(double), &bytes);
        ws->bufA = ws_alloc(P2 * (size_t)ws->width, sizeof(double), &bytes);
        ws->bufB = ws_alloc(P2 * (size_t)ws->width, sizeof(double), &bytes);
        ws->bufC = ws_alloc(P2 * (size_t)ws->width, sizeof(double), &bytes);
        ws->WE = ws_alloc(P * D, sizeof(double), &bytes);
        ws->E = ws_alloc(P * D, sizeof(double), &bytes);
        ws->WU = ws_alloc(D * Vo, sizeof(double), &bytes);
        ws->Wout = ws_alloc(M * D, sizeof(double), &bytes);
        ws->WL = ws_alloc(P * M, sizeof(double), &bytes);
        ws->FWL = ws_alloc(P * M, sizeof(double), &bytes);
        ws->spec_e = ws_alloc(P, sizeof(double), &bytes);
        ws->spec_l = ws_alloc(P, sizeof(double), &bytes);
        ws->fn = ws_alloc(K + 1, sizeof(double), &bytes);
        ws->scratch = ws_alloc(P > M ? P : M, sizeof(double), &bytes);
        ws->nbest = ws_alloc(M, sizeof(int), &bytes);
        ws->nfrac = ws_alloc(M, sizeof(double), &bytes);
        ok = ok && ws->F && ws->Dsum && ws->PL && ws->Lx && ws->coef && ws->bufA && ws->bufB &&
             ws->bufC && ws->WE && ws->E && ws->WU && ws->Wout && ws->WL && ws->FWL &&
             ws->spec_e && ws->spec_l && ws->fn && ws->scratch && ws->nbest && ws->nfrac;
    }
    if (!ok) {
        const int n_inputs = ws->N;
        meas_workspace_free(ws);
        return grok_fail(e, GROK_ENOMEM,
                         "measures: out of memory for the workspace (%zu MB of buffers plus "
                         "activations for %d inputs)",
                         bytes >> 20, n_inputs);
    }
    memcpy(ws->tokens, t->tokens, N * (size_t)ws->T * sizeof(int32_t));
    if (ws->fourier) {
        fourier_basis(ws->F, p);
        fourier_sum_dirs(ws->Dsum, ws->F, p);
    }
    if (e)
        e->msg[0] = '\0';
    *out = ws;
    return GROK_OK;
}

int meas_fourier_applies(const meas_workspace *ws) { return ws->fourier; }
const char *meas_fourier_reason(const meas_workspace *ws) { return ws->reason; }

/* ------------------------------------------------------------------------ */
/* passes */

static int ws_check_model(const meas_workspace *ws, const tfm_model *m, grok_err *e)
{
    const tfm_config *a = &m->cfg, *b = &ws->mc;
    if (a->n_layers != b->n_layers || a->d_model != b->d_model || a->n_heads != b->n_heads ||
        a->d_head != b->d_head || a->d_mlp != b->d_mlp || a->d_vocab != b->d_vocab ||
        a->d_vocab_out != b->d_vocab_out || a->n_ctx != b->n_ctx || a->act != b->act ||
        a->layernorm != b->layernorm || a->attn_bias != b->attn_bias)
        return grok_fail(e, GROK_EINVAL,
                         "measures: the model's config differs from the workspace's");
    return GROK_OK;
}

static void ws_forward(meas_workspace *ws, const tfm_model *m)
{
    tfm_forward(m, ws->acts, ws->tokens, ws->N);
    const float *lg = tfm_logits(ws->acts);
    const size_t n = (size_t)ws->N * ws->Vo;
    for (size_t i = 0; i < n; i++)
        ws->logits[i] = lg[i];
    ws->have_forward = 1;
    ws->have_neurons = 0;
}

/* R1 over the neurons of the last forward, block by block, into nbest/nfrac;
 * then the key frequencies and clusters into out. */
static void ws_neurons(meas_workspace *ws, meas_freqs *out)
{
    const int M = ws->M, N = ws->N, p = ws->p, K = ws->K;
    const float *post = tfm_mlp_post_last(ws->acts); /* [N, M] */
    const int block = M < MEAS_NEURON_BLOCK ? M : MEAS_NEURON_BLOCK;
    for (int n0 = 0; n0 < M; n0 += block) {
        const int c = M - n0 < block ? M - n0 : block;
        double *X = ws->bufA, *mu = ws->scratch;
        for (int j = 0; j < c; j++)
            mu[j] = 0;
        for (int r = 0; r < N; r++)
            for (int j = 0; j < c; j++) {
                const double x = post[(size_t)r * M + n0 + j];
                X[(size_t)r * c + j] = x;
                mu[j] += x;
            }
        for (int j = 0; j < c; j++)
            mu[j] /= N;
        for (int r = 0; r < N; r++)
            for (int j = 0; j < c; j++)
                X[(size_t)r * c + j] -= mu[j];
        fourier_2d(ws->bufB, X, ws->bufC, ws->F, p, c, 0);
        meas_neuron_fve(ws->nbest + n0, ws->nfrac + n0, ws->bufB, p, c);
    }
    ws->have_neurons = 1;

    memset(out, 0, sizeof *out);
    out->n_neurons = M;
    for (int k = 1; k <= K; k++) {
        int any = 0, size = 0;
        for (int j = 0; j < M; j++)
            if (ws->nbest[j] == k) {
                any = 1;
                size += ws->nfrac[j] > MEAS_CLUSTER_FRAC;
            }
        if (any)
            out->k[out->n++] = k;
        if (size > 0) {
            out->cluster_k[out->n_clusters] = k;
            out->cluster_size[out->n_clusters++] = size;
        }
    }
    for (int j = 0; j < M; j++)
        out->n_dead += ws->nbest[j] == 0;
}

int meas_key_freqs(meas_workspace *ws, const tfm_model *m, meas_freqs *out, grok_err *e)
{
    if (!ws->fourier)
        return grok_fail(e, GROK_EINVAL, "measures: no key frequencies: %s", ws->reason);
    int rc = ws_check_model(ws, m, e);
    if (rc != GROK_OK)
        return rc;
    ws_forward(ws, m);
    ws_neurons(ws, out);
    return GROK_OK;
}

/* rows of component norms: out[i] = |X[i, :]|, X [rows, cols] */
static void row_norms(double *out, const double *X, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        double s = 0;
        for (int j = 0; j < cols; j++)
            s += X[(size_t)i * cols + j] * X[(size_t)i * cols + j];
        out[i] = sqrt(s);
    }
}

/* The three Gini variants of a component-norm vector c [p]. */
static void gini_variants(meas_workspace *ws, const double *c, double *all, double *nonconst,
                          double *freq)
{
    *all = meas_gini(c, ws->p, ws->scratch);
    *nonconst = meas_gini(c + 1, ws->p - 1, ws->scratch);
    fourier_freq_norms(ws->fn, c, ws->p);
    *freq = meas_gini(ws->fn + 1, ws->K, ws->scratch);
}

/* Spectra of W_E (rows 0..p-1) and W_L, their Gini coefficients, and the
 * W_E norm per frequency. */
static void ws_spectra(meas_workspace *ws, const tfm_model *m, meas_row *out)
{
    const int p = ws->p, D = ws->D, M = ws->M, Vo = ws->Vo;
    const float *W_E = m->p.W_E, *W_U = m->p.W_U, *W_out = m->p.blocks[ws->L - 1].W_out;
    for (size_t i = 0; i < (size_t)p * D; i++)
        ws->WE[i] = W_E[i];
    for (size_t i = 0; i < (size_t)D * Vo; i++)
        ws->WU[i] = W_U[i];
    for (size_t i = 0; i < (size_t)M * D; i++)
        ws->Wout[i] = W_out[i];
    gsl_matrix_const_view Fv = gsl_matrix_const_view_array(ws->F, (size_t)p, (size_t)p);
    gsl_matrix_const_view WEv = gsl_matrix_const_view_array(ws->WE, (size_t)p, (size_t)D);
    gsl_matrix_view Ev = gsl_matrix_view_array(ws->E, (size_t)p, (size_t)D);
    /* E [p, D] = F W_E[:p] */
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Fv.matrix, &WEv.matrix, 0.0, &Ev.matrix);
    row_norms(ws->spec_e, ws->E, p, D);
    /* W_L [p, M] = W_U^T W_out^T; F W_L [p, M] */
    gsl_matrix_const_view WUv = gsl_matrix_const_view_array(ws->WU, (size_t)D, (size_t)Vo);
    gsl_matrix_const_view Wov = gsl_matrix_const_view_array(ws->Wout, (size_t)M, (size_t)D);
    gsl_matrix_view WLv = gsl_matrix_view_array(ws->WL, (size_t)p, (size_t)M);
    gsl_matrix_view FWLv = gsl_matrix_view_array(ws->FWL, (size_t)p, (size_t)M);
    gsl_blas_dgemm(CblasTrans, CblasTrans, 1.0, &WUv.matrix, &Wov.matrix, 0.0, &WLv.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Fv.matrix, &WLv.matrix, 0.0, &FWLv.matrix);
    row_norms(ws->spec_l, ws->FWL, p, M);

    gini_variants(ws, ws->spec_l, &out->gini_WL, &out->gini_WL_nonconst, &out->gini_WL_freq);
    gini_variants(ws, ws->spec_e, &out->gini_WE, &out->gini_WE_nonconst, &out->gini_WE_freq);
    /* ws->fn now holds the W_E per-frequency norms */
    memcpy(out->embed, ws->fn, (size_t)(ws->K + 1) * sizeof *ws->fn);
}

static int check_keys(const meas_workspace *ws, const meas_freqs *key, grok_err *e)
{
    if (key->n < 0 || key->n > ws->K)
        return grok_fail(e, GROK_EINVAL, "measures: %d key frequencies; p = %d has %d", key->n,
                         ws->p, ws->K);
    for (int i = 0; i < key->n; i++)
        if (key->k[i] < 1 || key->k[i] > ws->K || (i > 0 && key->k[i] <= key->k[i - 1]))
            return grok_fail(e, GROK_EINVAL,
                             "measures: key frequency %d (position %d) must be in 1..%d and "
                             "above the previous one",
                             key->k[i], i, ws->K);
    return GROK_OK;
}

int meas_compute(meas_workspace *ws, const tfm_model *m, const task_data *t, const meas_freqs *key,
                 meas_row *out, grok_err *e)
{
    int rc = ws_check_model(ws, m, e);
    if (rc != GROK_OK)
        return rc;
    if (t->n_all != ws->N || t->n_ctx != ws->T || (ws->fourier && t->cfg.p != ws->p))
        return grok_fail(e, GROK_EINVAL,
                         "measures: task (p = %d, %d inputs of %d tokens) differs from the "
                         "workspace's (p = %d, %d inputs of %d tokens)",
                         t->cfg.p, t->n_all, t->n_ctx, ws->p, ws->N, ws->T);
    if (ws->fourier && key && (rc = check_keys(ws, key, e)) != GROK_OK)
        return rc;
    const long epoch = out->epoch;
    memset(out, 0, sizeof *out);
    out->epoch = epoch;

    ws_forward(ws, m);
    const int N = ws->N, Vo = ws->Vo;
    int c;
    out->loss_train = meas_ce(ws->logits, Vo, t->label, t->order, t->n_train, &c);
    out->acc_train = (double)c / t->n_train;
    out->loss_test = meas_ce(ws->logits, Vo, t->label, t->order + t->n_train, t->n_test, &c);
    out->acc_test = (double)c / t->n_test;

    GROK_ASSERT(m->n_tensors <= MEAS_MAX_TENSORS);
    out->n_tensors = m->n_tensors;
    for (int i = 0; i < m->n_tensors; i++) {
        const float *x = m->params + m->tensors[i].offset;
        double s = 0;
        for (size_t j = 0; j < m->tensors[i].numel; j++)
            s += (double)x[j] * x[j];
        out->sq[i] = s;
        out->sum_sq_weights += s;
    }
    if (!ws->fourier)
        return GROK_OK;

    out->fourier = 1;
    meas_freqs own;
    if (!key) {
        ws_neurons(ws, &own);
        key = &own;
    }
    out->n_key_freqs = key->n;
    memcpy(out->key_freqs, key->k, (size_t)key->n * sizeof *key->k);

    meas_project_sum(ws->PL, ws->logits, ws->Dsum, key->k, key->n, ws->p, Vo, ws->coef);
    meas_restricted_logits(ws->Lx, ws->logits, ws->PL, N, Vo, ws->coef);
    out->loss_restricted = meas_ce(ws->Lx, Vo, t->label, NULL, N, &c);
    out->acc_restricted = (double)c / N;
    out->loss_restricted_train = meas_ce(ws->Lx, Vo, t->label, t->order, t->n_train, NULL);
    meas_excluded_logits(ws->Lx, ws->logits, ws->PL, N, Vo);
    out->loss_excluded = meas_ce(ws->Lx, Vo, t->label, t->order, t->n_train, &c);
    out->acc_excluded = (double)c / t->n_train;

    ws_spectra(ws, m, out);
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* run-directory text */

static void put_num(sbuf *b, double x) { sbuf_printf(b, "\t%.9g", x); }

void meas_format_header(const tfm_model *m, int fourier, sbuf *out)
{
    sbuf_puts(out, "epoch\tloss_train\tloss_test\tacc_train\tacc_test");
    if (fourier)
        sbuf_puts(out, "\tloss_restricted\tloss_restricted_train\tacc_restricted\tloss_excluded"
                       "\tacc_excluded\tgini_WE\tgini_WL\tgini_WE_nonconst\tgini_WL_nonconst"
                       "\tgini_WE_freq\tgini_WL_freq");
    sbuf_puts(out, "\tsum_sq_weights");
    for (int i = 0; i < m->n_tensors; i++)
        sbuf_printf(out, "\tsq_%s", m->tensors[i].name);
    if (fourier)
        sbuf_puts(out, "\tn_key_freqs\tkey_freqs");
    sbuf_puts(out, "\n");
}

void meas_format_row(const meas_row *r, sbuf *out)
{
    sbuf_printf(out, "%ld", r->epoch);
    put_num(out, r->loss_train);
    put_num(out, r->loss_test);
    put_num(out, r->acc_train);
    put_num(out, r->acc_test);
    if (r->fourier) {
        const double f[] = {r->loss_restricted, r->loss_restricted_train, r->acc_restricted,
                            r->loss_excluded,   r->acc_excluded,          r->gini_WE,
                            r->gini_WL,         r->gini_WE_nonconst,      r->gini_WL_nonconst,
                            r->gini_WE_freq,    r->gini_WL_freq};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
            put_num(out, f[i]);
    }
    put_num(out, r->sum_sq_weights);
    for (int i = 0; i < r->n_tensors; i++)
        put_num(out, r->sq[i]);
    if (r->fourier) {
        sbuf_printf(out, "\t%d\t", r->n_key_freqs);
        for (int i = 0; i < r->n_key_freqs; i++)
            sbuf_printf(out, i ? ",%d" : "%d", r->key_freqs[i]);
    }
    sbuf_puts(out, "\n");
}

void meas_format_embed_header(int p, sbuf *out)
{
    sbuf_puts(out, "epoch\tconst");
    for (int k = 1; k <= fourier_n_freqs(p); k++)
        sbuf_printf(out, "\tfreq_%d", k);
    sbuf_puts(out, "\n");
}

void meas_format_embed_row(int p, const meas_row *r, sbuf *out)
{
    sbuf_printf(out, "%ld", r->epoch);
    for (int k = 0; k <= fourier_n_freqs(p); k++)
        put_num(out, r->embed[k]);
    sbuf_puts(out, "\n");
}

int meas_format_neurons(const meas_workspace *ws, sbuf *out, grok_err *e)
{
    if (!ws->have_neurons)
        return grok_fail(e, GROK_EINVAL, "measures: no neuron table (rule R1 has not run)");
    sbuf_puts(out, "neuron\tfreq\tfrac_explained\n");
    for (int j = 0; j < ws->M; j++)
        sbuf_printf(out, "%d\t%d\t%.9g\n", j, ws->nbest[j], ws->nfrac[j]);
    return GROK_OK;
}

int meas_format_attention(meas_workspace *ws, const task_data *t, sbuf *out, grok_err *e)
{
    if (!ws->have_forward)
        return grok_fail(e, GROK_EINVAL, "measures: no forward pass to read attention from");
    GROK_ASSERT(t->n_all == ws->N && t->n_ctx == ws->T);
    const int H = ws->H, T = ws->T, many = ws->L > 1;
    char name[32], ops[TASK_PARITY_N_MAX + 32];
    sbuf_printf(out, "%s%s\thead", many ? "layer\t" : "", task_operand_header(t));
    for (int i = 0; i < T; i++)
        sbuf_printf(out, "\tatt_%s", task_position_name(t, i, name, sizeof name));
    sbuf_puts(out, "\n");
    for (int l = 0; l < ws->L; l++) {
        tfm_attn_last(ws->acts, l, ws->attn);
        for (int r = 0; r < ws->N; r++) {
            task_format_operands(t, r, ops, sizeof ops);
            for (int h = 0; h < H; h++) {
                const float *x = ws->attn + ((size_t)r * H + h) * T;
                if (many)
                    sbuf_printf(out, "%d\t", l);
                sbuf_printf(out, "%s\t%d", ops, h);
                for (int i = 0; i < T; i++)
                    sbuf_printf(out, "\t%.9g", x[i]);
                sbuf_puts(out, "\n");
            }
        }
    }
    return GROK_OK;
}

int meas_format_logit_spectrum(meas_workspace *ws, long epoch, sbuf *out, grok_err *e)
{
    if (!ws->fourier)
        return grok_fail(e, GROK_EINVAL, "measures: no logit spectrum: %s", ws->reason);
    if (!ws->have_forward)
        return grok_fail(e, GROK_EINVAL, "measures: no forward pass to read logits from");
    const int p = ws->p, N = ws->N, Vo = ws->Vo;
    double *X = ws->bufA, *mu = ws->coef; /* coef has room for 2K Vo >= Vo */
    column_means(mu, ws->logits, N, Vo);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < Vo; j++)
            X[(size_t)r * Vo + j] = ws->logits[(size_t)r * Vo + j] - mu[j];
    fourier_2d(ws->bufB, X, ws->bufC, ws->F, p, Vo, 0);
    sbuf_printf(out, "# logit 2D Fourier spectrum, epoch %ld, rows/cols: const", epoch);
    for (int k = 1; k <= ws->K; k++)
        sbuf_printf(out, " cos%d sin%d", k, k);
    sbuf_puts(out, "\n");
    for (int f = 0; f < p; f++) {
        for (int g = 0; g < p; g++) {
            const double *x = ws->bufB + ((size_t)f * p + g) * Vo;
            double s = 0;
            for (int j = 0; j < Vo; j++)
                s += x[j] * x[j];
            sbuf_printf(out, g ? "\t%.9g" : "%.9g", sqrt(s));
        }
        sbuf_puts(out, "\n");
    }
    return GROK_OK;
}
