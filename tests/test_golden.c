/* test_golden.c: the transformer (tfm.h) and AdamW (optim.h) against PyTorch.
 *
 * tests/gen_golden.py, an independent PyTorch implementation of tfm.h in
 * TransformerLens conventions, wrote the fixtures tests/golden/tfm_*.safetensors
 * once (its docstring lists their tensors); PyTorch is not needed here.  For
 * each fixture this file builds a tfm_model from the metadata, copies the
 * fixture's parameters in by walking the parameter table, and checks:
 *   table     the table against the fixture, both ways: names, shapes, and
 *             offsets (the fixture stores the parameters back to back in table
 *             order, so its layout must be the parameter buffer's);
 *   forward   tfm_forward's logits, saved attention patterns and MLP output,
 *             and tfm_forward_ref;
 *   grads     tfm_loss and tfm_backward;
 *   replay    optim_step fed the fixture's own gradients (AdamW alone);
 *   train     two whole steps: forward, loss, backward, AdamW, twice;
 *   can_fail  the same comparisons reject a swapped W_Q/W_K (W_K/W_V at
 *             attn_rate 0, where queries and keys do not matter), doubled
 *             gradients and an AdamW without weight decay.
 * The fixtures cover the causal mask on and off (model.causal),
 * model.attn_rate 1, 0.5 and 0, and the layouts [a, b, '='] and [a, b]
 * (metadata causal, attn_rate and layout, absent when at their defaults).
 * Every comparison prints, per tensor, the largest absolute error, the largest
 * relative error (over elements at least 1e-3 of the tensor's largest, so that
 * rounding noise around zero does not dominate) and the worst error as a
 * fraction of its tolerance.  Each tolerance and its reason stand beside it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grok.h"
#include "optim.h"
#include "safetensors.h"
#include "tfm.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

/* Logits (and the MLP output, computed at the same depth): both sides sum
 * float32 products in different orders (BLIS versus torch), so they differ by
 * float32 rounding, measured at 2-3e-7 of the largest logit between torch's
 * float32 and float64 forwards.  1e-5 absolute plus 1e-4 relative leaves a
 * margin of 10 or more everywhere, while a swapped W_Q/W_K errs by more than
 * 1e3 times this bound (see can_fail). */
#define TOL_LOGIT_ABS 1e-5
#define TOL_LOGIT_REL 1e-4
/* Attention probabilities lie in [0, 1] and come from a float32 softmax of
 * O(1) scores: rounding of about 1e-7. */
#define TOL_ATTN_ABS 2e-6
/* tfm_forward_ref and logits_f64 are both float64 from the same float32
 * parameters; only the order of a few hundred roundings of 1e-16 differs. */
#define TOL_REF_REL_MAX 1e-12
/* Loss: see test_grads. */
#define TOL_LOSS_REL 1e-6
/* Gradients: float32 backward passes with different summation orders; the
 * rounding error of each element scales with the largest values flowing
 * through that tensor's backward, hence a bound relative to the tensor's
 * largest reference value.  Torch float32 versus float64 differs by < 1e-6 of
 * it, so 1e-4 leaves a margin of about 100; a doubled gradient errs by 1e4 times
 * this.  The absolute 1e-6 covers tensors whose exact gradient is zero: b_K's,
 * because the softmax ignores a constant added to all scores of a query, so
 * both sides compute rounding noise of about 1e-9 there. */
#define TOL_GRAD_REL_MAX 1e-4
#define TOL_GRAD_ABS 1e-6
/* AdamW replayed on the fixture's gradients: the same float32 element-wise
 * operations on the same inputs (optim.c follows torch's operation order), so
 * the results differ by a few float32 roundings of the operands of the final
 * sum p*(1 - lr*wd) - step, of sizes |p| and up to 1.001*lr per step.  When
 * they nearly cancel, the small result keeps the operands' rounding error, so
 * the bound is relative to |p| + 2*lr (seen: 2 roundings after two steps). */
#define TOL_REPLAY_ULPS 4.0
/* AdamW after whole steps: see test_train. */
#define TOL_ADAM_ABS 1e-5
#define ADAM_FLIP 2.01

typedef struct {
    const char *fixture; /* e.g. "tfm_l1_relu" */
    st_file f;
    tfm_config cfg;
    optim_config oc;
    tfm_model m;
    tfm_acts *a;
    double attn_rate; /* model.attn_rate of the fixture (1 when absent) */
    int n;           /* N examples */
    int32_t *tokens; /* [N, T] */
    int32_t *labels; /* [N] */
    float *want;     /* [n_params] scratch for a reference buffer */
    float *want2;    /* [n_params] scratch */
} golden;

/* ------------------------------------------------------------------------ */
/* comparison */

/* One of the two pointers is set: a float32 or a float64 array. */
typedef struct {
    const float *f;
    const double *d;
} vals;

static vals vf(const float *p) { return (vals){p, NULL}; }
static vals vd(const double *p) { return (vals){NULL, p}; }
static double val(vals v, size_t i) { return v.f ? (double)v.f[i] : v.d[i]; }

/* tol_i = abs + rel*|want_i| + rel_max*max|want| + extra[i] (extra may be NULL). */
typedef struct {
    double abs, rel, rel_max;
    const double *extra;
} tol_spec;

typedef struct {
    size_t n, n_bad, worst;
    double max_abs, max_rel, max_want, worst_ratio;
    double worst_got, worst_want, worst_tol;
} cmp_stats;

static cmp_stats cmp_vals(vals got, vals want, size_t n, tol_spec t)
{
    cmp_stats s = {0};
    s.n = n;
    for (size_t i = 0; i < n; i++)
        s.max_want = fmax(s.max_want, fabs(val(want, i)));
    for (size_t i = 0; i < n; i++) {
        const double a = val(got, i), b = val(want, i), err = fabs(a - b);
        const double tol =
            t.abs + t.rel * fabs(b) + t.rel_max * s.max_want + (t.extra ? t.extra[i] : 0);
        const double ratio = !isfinite(a) ? INFINITY : err == 0 ? 0 : err / tol;
        if (!(ratio <= 1.0))
            s.n_bad++;
        if (isfinite(err))
            s.max_abs = fmax(s.max_abs, err);
        if (b != 0 && fabs(b) >= 1e-3 * s.max_want)
            s.max_rel = fmax(s.max_rel, err / fabs(b));
        if (!(ratio <= s.worst_ratio)) {
            s.worst_ratio = ratio;
            s.worst = i;
            s.worst_got = a;
            s.worst_want = b;
            s.worst_tol = tol;
        }
    }
    return s;
}

/* Tensors outside tolerance in one test, and the first of them.  report()
 * with v == NULL prints a comparison that is meant to fail (test_can_fail). */
typedef struct {
    int n_bad;
    char first[160];
} verdict;

static void report(verdict *v, const char *what, const char *name, const cmp_stats *s)
{
    printf("  %-7s %-26s n=%-5zu max_abs %.2e  max_rel %.2e  worst %.2g of tol%s\n", what, name,
           s->n, s->max_abs, s->max_rel, s->worst_ratio,
           !s->n_bad ? ""
           : v       ? "  <-- MISMATCH"
                     : "  (rejected, as it must be)");
    if (s->n_bad) {
        printf("          %zu element(s) outside; worst [%zu]: got %.9g want %.9g tol %.3g\n",
               s->n_bad, s->worst, s->worst_got, s->worst_want, s->worst_tol);
        if (v && v->n_bad++ == 0)
            snprintf(v->first, sizeof v->first, "%s %s [%zu]: got %.9g want %.9g tol %.3g", what,
                     name, s->worst, s->worst_got, s->worst_want, s->worst_tol);
    }
}

static void verdict_check(const verdict *v)
{
    if (v->n_bad)
        fail_msg("%d comparison(s) outside tolerance; first: %s", v->n_bad, v->first);
}

/* Compares buffers of the parameter layout tensor by tensor; returns the
 * number of tensors outside tolerance.  extra: [n_params] or NULL. */
static int cmp_params(const golden *g, const char *what, const float *got, const float *want,
                      tol_spec t, const double *extra, verdict *v)
{
    int bad = 0;
    for (int i = 0; i < g->m.n_tensors; i++) {
        const tfm_tensor *tt = &g->m.tensors[i];
        tol_spec ti = t;
        ti.extra = extra ? extra + tt->offset : NULL;
        cmp_stats s = cmp_vals(vf(got + tt->offset), vf(want + tt->offset), tt->numel, ti);
        report(v, what, tt->name, &s);
        bad += s.n_bad > 0;
    }
    return bad;
}

/* ------------------------------------------------------------------------ */
/* fixture access */

/* The fixture tensor `name` if it has dtype dt and numel elements; else NULL
 * with the reason in why. */
static const st_tensor *fx_lookup(const golden *g, const char *name, st_dtype dt, size_t numel,
                                  char *why, size_t cap)
{
    const st_tensor *t = st_find(&g->f, name);
    if (!t)
        snprintf(why, cap, "%s: no tensor '%s'", g->fixture, name);
    else if (t->dtype != dt)
        snprintf(why, cap, "%s: '%s' is %s, expected %s", g->fixture, name, st_dtype_name(t->dtype),
                 st_dtype_name(dt));
    else if (st_tensor_numel(t) != numel)
        snprintf(why, cap, "%s: '%s' has %zu elements, expected %zu", g->fixture, name,
                 st_tensor_numel(t), numel);
    else
        return t;
    return NULL;
}

static const st_tensor *fx_get(const golden *g, const char *name, st_dtype dt, size_t numel)
{
    char why[256];
    const st_tensor *t = fx_lookup(g, name, dt, numel, why, sizeof why);
    if (!t)
        fail_msg("%s", why);
    return t;
}

/* A float64 tensor copied out (the data may lie unaligned in general). */
static double *fx_f64(const golden *g, const char *name, size_t numel)
{
    const st_tensor *t = fx_get(g, name, ST_F64, numel);
    double *out = malloc(sizeof(double) * (numel ? numel : 1));
    assert_non_null(out);
    memcpy(out, t->data, sizeof(double) * numel);
    return out;
}

/* Copies tensors prefix+<name> for every table entry into dst [n_params],
 * checking dtype and shape; 0, or -1 with the reason in why. */
static int fx_load(const golden *g, const char *prefix, float *dst, char *why, size_t cap)
{
    for (int i = 0; i < g->m.n_tensors; i++) {
        const tfm_tensor *tt = &g->m.tensors[i];
        char name[TFM_NAME_MAX + 16];
        snprintf(name, sizeof name, "%s%s", prefix, tt->name);
        const st_tensor *t = fx_lookup(g, name, ST_F32, tt->numel, why, cap);
        if (!t)
            return -1;
        int same = t->ndim == tt->ndim;
        for (int d = 0; same && d < tt->ndim; d++)
            same = t->shape[d] == tt->shape[d];
        if (!same) {
            snprintf(why, cap, "%s: '%s' has a shape other than the table's", g->fixture, name);
            return -1;
        }
        memcpy(dst + tt->offset, t->data, sizeof(float) * tt->numel);
    }
    return 0;
}

static void fx_load_or_fail(const golden *g, const char *prefix, float *dst)
{
    char why[256];
    if (fx_load(g, prefix, dst, why, sizeof why))
        fail_msg("%s", why);
}

/* Strict parse of metadata key as an integer in [lo, hi] or a finite double. */
static int meta_long(const golden *g, const char *key, long lo, long hi, long *out)
{
    const char *s = st_meta_get(&g->f, key);
    char *end;
    if (!s) {
        printf("  %s: metadata '%s' missing\n", g->fixture, key);
        return -1;
    }
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        printf("  %s: metadata %s = '%s': not an integer in [%ld, %ld]\n", g->fixture, key, s, lo,
               hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int meta_double(const golden *g, const char *key, double *out)
{
    const char *s = st_meta_get(&g->f, key);
    char *end;
    if (!s) {
        printf("  %s: metadata '%s' missing\n", g->fixture, key);
        return -1;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        printf("  %s: metadata %s = '%s': not a finite number\n", g->fixture, key, s);
        return -1;
    }
    *out = v;
    return 0;
}

static void golden_free(golden *g)
{
    tfm_acts_free(g->a);
    if (g->m.tensors)
        tfm_free(&g->m);
    st_file_free(&g->f);
    free(g->tokens);
    free(g->labels);
    free(g->want);
    free(g->want2);
    free(g);
}

/* *state: the fixture name on entry, the loaded golden on success. */
static int golden_setup(void **state)
{
    golden *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->fixture = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.safetensors", GOLDEN_DIR, g->fixture);
    grok_err e = {{0}};
    if (st_read(&g->f, path, &e) != GROK_OK) {
        printf("  %s (run the test from the repository root; tests/gen_golden.py writes the "
               "fixtures)\n",
               e.msg);
        free(g);
        return -1;
    }
    long p, L, D, H, Dh, M, ln, ab;
    double lr, b1, b2, eps, wd;
    const char *act = st_meta_get(&g->f, "act");
    if (meta_long(g, "p", 2, 1000, &p) || meta_long(g, "n_layers", 1, TFM_MAX_LAYERS, &L) ||
        meta_long(g, "d_model", 1, 4096, &D) || meta_long(g, "n_heads", 1, 256, &H) ||
        meta_long(g, "d_head", 1, 4096, &Dh) || meta_long(g, "d_mlp", 1, 65536, &M) ||
        meta_long(g, "layernorm", 0, 1, &ln) || meta_long(g, "attn_bias", 0, 1, &ab) ||
        meta_double(g, "lr", &lr) || meta_double(g, "beta1", &b1) || meta_double(g, "beta2", &b2) ||
        meta_double(g, "eps", &eps) || meta_double(g, "weight_decay", &wd) || !act ||
        tfm_act_parse(act) < 0) {
        if (!act || tfm_act_parse(act) < 0)
            printf("  %s: metadata act = '%s': not an activation\n", g->fixture, act ? act : "");
        golden_free(g);
        return -1;
    }
    /* optional: the mask, the attention rate and the layout */
    long causal = 1;
    double rate = 1.0;
    const char *layout = st_meta_get(&g->f, "layout");
    if ((st_meta_get(&g->f, "causal") && meta_long(g, "causal", 0, 1, &causal)) ||
        (st_meta_get(&g->f, "attn_rate") && meta_double(g, "attn_rate", &rate)) ||
        (layout && strcmp(layout, "a b") != 0)) {
        if (layout && strcmp(layout, "a b") != 0)
            printf("  %s: metadata layout = '%s': only \"a b\" may be given\n", g->fixture,
                   layout);
        golden_free(g);
        return -1;
    }
    g->attn_rate = rate;
    const int T = layout ? 2 : 3; /* [a, b] or [a, b, '='] */
    g->cfg = (tfm_config){.n_layers = (int)L,
                          .d_model = (int)D,
                          .n_heads = (int)H,
                          .d_head = (int)Dh,
                          .d_mlp = (int)M,
                          .d_vocab = T == 3 ? (int)p + 1 : (int)p,
                          .d_vocab_out = (int)p,
                          .n_ctx = T,
                          .act = (tfm_act)tfm_act_parse(act),
                          .layernorm = (int)ln,
                          .attn_bias = (int)ab,
                          .bidirectional = !causal,
                          .attn_uniform = 1.0 - rate,
                          .init_scale = 1.0};
    g->oc = (optim_config){.kind = OPTIM_ADAMW,
                           .lr = lr,
                           .beta1 = b1,
                           .beta2 = b2,
                           .eps = eps,
                           .weight_decay = wd,
                           .momentum = 0.0,
                           .warmup = 0};
    if (tfm_init(&g->m, &g->cfg, &e) != GROK_OK) {
        printf("  %s: tfm_init: %s\n", g->fixture, e.msg);
        golden_free(g);
        return -1;
    }

    const st_tensor *tok = st_find(&g->f, "tokens"), *lab = st_find(&g->f, "labels");
    if (!tok || tok->dtype != ST_I32 || tok->ndim != 2 || tok->shape[1] != g->cfg.n_ctx ||
        tok->shape[0] < 1 || tok->shape[0] > 100000 || !lab || lab->dtype != ST_I32 ||
        lab->ndim != 1 || lab->shape[0] != tok->shape[0]) {
        printf("  %s: tokens I32 [N, %d] and labels I32 [N] expected\n", g->fixture,
               g->cfg.n_ctx);
        golden_free(g);
        return -1;
    }
    g->n = (int)tok->shape[0];
    g->tokens = malloc(sizeof(int32_t) * (size_t)g->n * g->cfg.n_ctx);
    g->labels = malloc(sizeof(int32_t) * (size_t)g->n);
    g->want = malloc(sizeof(float) * g->m.n_params);
    g->want2 = malloc(sizeof(float) * g->m.n_params);
    g->a = tfm_acts_alloc(&g->m, g->n);
    if (!g->tokens || !g->labels || !g->want || !g->want2 || !g->a) {
        golden_free(g);
        return -1;
    }
    memcpy(g->tokens, tok->data, sizeof(int32_t) * (size_t)g->n * g->cfg.n_ctx);
    memcpy(g->labels, lab->data, sizeof(int32_t) * (size_t)g->n);
    for (size_t i = 0; i < (size_t)g->n * g->cfg.n_ctx; i++)
        if (g->tokens[i] < 0 || g->tokens[i] >= g->cfg.d_vocab) {
            printf("  %s: token %d out of range\n", g->fixture, g->tokens[i]);
            golden_free(g);
            return -1;
        }
    for (int i = 0; i < g->n; i++)
        if (g->labels[i] < 0 || g->labels[i] >= g->cfg.d_vocab_out) {
            printf("  %s: label %d out of range\n", g->fixture, g->labels[i]);
            golden_free(g);
            return -1;
        }
    char why[256];
    if (fx_load(g, "", g->m.params, why, sizeof why)) {
        printf("  %s\n", why);
        golden_free(g);
        return -1;
    }
    printf("  %s: p=%ld L=%ld D=%ld H=%ld Dh=%ld M=%ld %s layernorm=%ld attn_bias=%ld N=%d, "
           "%zu parameters\n",
           g->fixture, p, L, D, H, Dh, M, act, ln, ab, g->n, g->m.n_params);
    *state = g;
    return 0;
}

static int golden_teardown(void **state)
{
    golden_free(*state);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* tests */

static const char *const fx_prefixes[] = {"grad.", "adamw1.", "grad1.", "adamw2."};
#define N_PREFIXES (sizeof fx_prefixes / sizeof fx_prefixes[0])

/* The table and the fixture name the same tensors with the same shapes, and
 * the table's offsets are the fixture's layout. */
static void test_table(void **state)
{
    const golden *g = *state;
    const tfm_model *m = &g->m;
    char why[256];
    float *tmp = malloc(sizeof(float) * m->n_params);
    assert_non_null(tmp);
    for (size_t k = 0; k < N_PREFIXES; k++)
        if (fx_load(g, fx_prefixes[k], tmp, why, sizeof why)) {
            free(tmp);
            fail_msg("%s", why);
        }
    free(tmp);

    /* fixture -> table */
    static const char *const extra[] = {"tokens", "labels", "logits", "logits_f64", "loss"};
    int n_param_fx = 0;
    size_t numel_fx = 0;
    for (int i = 0; i < g->f.n_tensors; i++) {
        const char *name = g->f.tensors[i].name;
        int known = strncmp(name, "act.", 4) == 0;
        for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++)
            known |= strcmp(name, extra[k]) == 0;
        if (known)
            continue;
        const char *base = name;
        for (size_t k = 0; k < N_PREFIXES; k++)
            if (strncmp(name, fx_prefixes[k], strlen(fx_prefixes[k])) == 0)
                base = name + strlen(fx_prefixes[k]);
        if (!tfm_find(m, base))
            fail_msg("%s: fixture tensor '%s' has no entry '%s' in the parameter table", g->fixture,
                     name, base);
        if (base == name) {
            n_param_fx++;
            numel_fx += st_tensor_numel(&g->f.tensors[i]);
        }
    }
    assert_int_equal(n_param_fx, m->n_tensors);
    assert_int_equal(numel_fx, m->n_params);

    /* offsets: the fixture's parameters lie back to back in table order */
    const char *base = st_find(&g->f, m->tensors[0].name)->data;
    for (int i = 0; i < m->n_tensors; i++) {
        const tfm_tensor *tt = &m->tensors[i];
        const char *at = st_find(&g->f, tt->name)->data;
        if ((size_t)(at - base) != tt->offset * sizeof(float))
            fail_msg("%s: '%s' is at float %td of the fixture's parameters, the table says %zu",
                     g->fixture, tt->name, (at - base) / (ptrdiff_t)sizeof(float), tt->offset);
    }
    printf("  table   %d tensors, %zu parameters: names, shapes and offsets match the fixture "
           "(%d tensors)\n",
           m->n_tensors, m->n_params, g->f.n_tensors);
}

static void test_forward(void **state)
{
    golden *g = *state;
    const tfm_config *c = &g->cfg;
    const size_t nv = (size_t)g->n * c->d_vocab_out;
    verdict v = {0};
    tfm_forward(&g->m, g->a, g->tokens, g->n);
    const float *logits = tfm_logits(g->a);
    const float *want32 = fx_get(g, "logits", ST_F32, nv)->data;
    double *want64 = fx_f64(g, "logits_f64", nv);
    const tol_spec tl = {TOL_LOGIT_ABS, TOL_LOGIT_REL, 0, NULL};
    cmp_stats s = cmp_vals(vf(logits), vf(want32), nv, tl);
    report(&v, "forward", "logits vs torch f32", &s);
    s = cmp_vals(vf(logits), vd(want64), nv, tl);
    report(&v, "forward", "logits vs f64 loops", &s);

    double *ref = malloc(sizeof(double) * nv);
    assert_non_null(ref);
    tfm_forward_ref(&g->m, g->tokens, g->n, ref);
    s = cmp_vals(vd(ref), vd(want64), nv, (tol_spec){0, 0, TOL_REF_REL_MAX, NULL});
    report(&v, "ref", "logits vs f64 loops", &s);
    s = cmp_vals(vd(ref), vf(want32), nv, tl);
    report(&v, "ref", "logits vs torch f32", &s);

    const size_t na = (size_t)g->n * c->n_heads * c->n_ctx;
    float *att = malloc(sizeof(float) * na);
    assert_non_null(att);
    for (int l = 0; l < c->n_layers; l++) {
        char name[64];
        snprintf(name, sizeof name, "act.blocks.%d.attn.pattern_last", l);
        tfm_attn_last(g->a, l, att);
        s = cmp_vals(vf(att), vf(fx_get(g, name, ST_F32, na)->data), na,
                     (tol_spec){TOL_ATTN_ABS, 0, 0, NULL});
        report(&v, "forward", name + 4, &s);
    }
    const size_t nm = (size_t)g->n * c->d_mlp;
    s = cmp_vals(vf(tfm_mlp_post_last(g->a)), vf(fx_get(g, "act.mlp_post_last", ST_F32, nm)->data),
                 nm, tl);
    report(&v, "forward", "mlp_post_last", &s);
    free(att);
    free(ref);
    free(want64);
    verdict_check(&v);
}

/* Runs forward, loss (with gradient) and backward; returns the loss and the
 * largest |logit - fixture logit|. */
static double golden_step_grads(golden *g, int *n_correct, double *per_example, double *dlogit)
{
    const size_t nv = (size_t)g->n * g->cfg.d_vocab_out;
    tfm_forward(&g->m, g->a, g->tokens, g->n);
    const float *logits = tfm_logits(g->a);
    if (dlogit) {
        const float *want32 = fx_get(g, "logits", ST_F32, nv)->data;
        *dlogit = 0;
        for (size_t i = 0; i < nv; i++)
            *dlogit = fmax(*dlogit, fabs((double)logits[i] - want32[i]));
    }
    double loss = tfm_loss(g->a, g->labels, g->n, n_correct, per_example, 1);
    tfm_backward(&g->m, g->a, g->tokens, g->n);
    return loss;
}

static const tol_spec tol_grad = {TOL_GRAD_ABS, 0, TOL_GRAD_REL_MAX, NULL};

static void test_grads(void **state)
{
    golden *g = *state;
    const int Vo = g->cfg.d_vocab_out;
    verdict v = {0};
    int n_correct = -1;
    double dlogit, *per = malloc(sizeof(double) * g->n);
    assert_non_null(per);
    const double loss = golden_step_grads(g, &n_correct, per, &dlogit);
    double *want = fx_f64(g, "loss", 1);
    assert_int_equal(st_find(&g->f, "loss")->ndim, 0);

    /* Cross-entropy is 2-Lipschitz in the max norm of the logits (its gradient,
     * softmax - onehot, has l1 norm <= 2), and both sides evaluate it in
     * float64 from float32 logits, so |dloss| <= 2 max|dlogit| plus float64
     * rounding.  It must also hold to 1e-6 relative, which the logit
     * tolerance implies for losses of order 1. */
    const double err = fabs(loss - *want);
    const double tol_lip = 2 * dlogit + 1e-12 * fabs(*want);
    printf("  loss    C %.15g  torch %.15g  abs %.2e  rel %.2e  (bounds: 2*max|dlogit| = %.2e, "
           "rel %.0e)\n",
           loss, *want, err, err / fabs(*want), tol_lip, TOL_LOSS_REL);
    if (!(err <= tol_lip) || !(err <= TOL_LOSS_REL * fabs(*want)))
        fail_msg("%s: loss %.17g, torch %.17g", g->fixture, loss, *want);

    /* The per-example losses average to the loss (the same float64 values). */
    double mean = 0;
    for (int i = 0; i < g->n; i++)
        mean += per[i];
    mean /= g->n;
    if (!(fabs(mean - loss) <= 1e-13 * fabs(loss)))
        fail_msg("%s: mean of per_example %.17g != loss %.17g", g->fixture, mean, loss);

    /* Accuracy from the fixture's logits, unless a row's top two are so close
     * that the logit tolerance could reorder them. */
    const float *want32 = fx_get(g, "logits", ST_F32, (size_t)g->n * Vo)->data;
    int correct = 0, tie = 0;
    for (int i = 0; i < g->n; i++) {
        const float *r = want32 + (size_t)i * Vo;
        int best = 0;
        for (int j = 1; j < Vo; j++)
            best = r[j] > r[best] ? j : best;
        for (int j = 0; j < Vo; j++)
            if (j != best &&
                r[best] - r[j] <= 2 * (TOL_LOGIT_ABS + TOL_LOGIT_REL * fabs((double)r[best])))
                tie = 1;
        correct += best == g->labels[i];
    }
    printf("  loss    n_correct C %d, torch %d%s\n", n_correct, correct,
           tie ? " (near tie: not compared)" : "");
    if (!tie)
        assert_int_equal(n_correct, correct);

    fx_load_or_fail(g, "grad.", g->want);
    cmp_params(g, "grad", g->m.grads, g->want, tol_grad, NULL, &v);
    free(want);
    free(per);
    verdict_check(&v);
}

/* TOL_REPLAY_ULPS float32 roundings of |p| + 2*lr. */
static tol_spec replay_tol(const optim_config *oc)
{
    return (tol_spec){TOL_REPLAY_ULPS * FLT_EPSILON * 2 * oc->lr, TOL_REPLAY_ULPS * FLT_EPSILON, 0,
                      NULL};
}

static void test_replay(void **state)
{
    golden *g = *state;
    verdict v = {0};
    optim_state s;
    grok_err e = {{0}};
    if (optim_init(&s, &g->oc, g->m.n_params, &e) != GROK_OK)
        fail_msg("optim_init: %s", e.msg);
    assert_true(optim_lr(&s) == g->oc.lr); /* warmup 0: the full rate from step 0 */
    const tol_spec tr = replay_tol(&g->oc);
    fx_load_or_fail(g, "grad.", g->want2);
    optim_step(&s, g->m.params, g->want2);
    fx_load_or_fail(g, "adamw1.", g->want);
    cmp_params(g, "replay1", g->m.params, g->want, tr, NULL, &v);
    fx_load_or_fail(g, "grad1.", g->want2);
    optim_step(&s, g->m.params, g->want2);
    fx_load_or_fail(g, "adamw2.", g->want);
    cmp_params(g, "replay2", g->m.params, g->want, tr, NULL, &v);
    assert_int_equal(s.step, 2);
    optim_free(&s);
    verdict_check(&v);
}

/* Two whole steps, each: forward, loss, backward (compared with grad. and
 * grad1.), AdamW (compared with adamw1. and adamw2.).
 *
 * AdamW tolerance.  An AdamW step moves each weight by lr * m^/sqrt(v^),
 * which is about lr * sign(g) whatever |g|: once the gradient's sign is
 * determined the two sides agree to float32 rounding (torch float32 versus
 * float64 differs by < 3e-7), hence 1e-5.  An element whose reference
 * gradient lies within the gradient tolerance of zero has no determined sign:
 * b_K's whole gradient (zero in exact arithmetic, see TOL_GRAD_ABS) or a
 * coincidentally tiny one.  There m^/sqrt(v^) may come out anywhere in
 * [-1.001, 1.001] (its bound for two steps with betas (0.9, 0.98)) on either
 * side, so from its first such step on it gets ADAM_FLIP * lr per step on top.
 * An element whose gradient is exactly zero on both sides (a ReLU unit dead on
 * the whole batch) gets no update term on either side and keeps the strict
 * bound. */
static void test_train(void **state)
{
    golden *g = *state;
    tfm_model *m = &g->m;
    verdict v = {0};
    optim_state s;
    grok_err e = {{0}};
    if (optim_init(&s, &g->oc, m->n_params, &e) != GROK_OK)
        fail_msg("optim_init: %s", e.msg);
    double *extra = calloc(m->n_params, sizeof(double));
    unsigned char *amb = calloc(m->n_params, 1);
    assert_true(extra && amb);
    static const char *const grad_key[2] = {"grad.", "grad1."};
    static const char *const param_key[2] = {"adamw1.", "adamw2."};
    double lr_sum = 0;
    for (int step = 0; step < 2; step++) {
        golden_step_grads(g, NULL, NULL, NULL);
        fx_load_or_fail(g, grad_key[step], g->want);
        cmp_params(g, step ? "grad1" : "grad", m->grads, g->want, tol_grad, NULL, &v);
        size_t n_amb = 0;
        for (int i = 0; i < m->n_tensors; i++) {
            const tfm_tensor *tt = &m->tensors[i];
            const float *w = g->want + tt->offset, *c = m->grads + tt->offset;
            double mx = 0;
            for (size_t j = 0; j < tt->numel; j++)
                mx = fmax(mx, fabs(w[j]));
            const double gtol = TOL_GRAD_ABS + TOL_GRAD_REL_MAX * mx;
            for (size_t j = 0; j < tt->numel; j++)
                if (fabs(w[j]) <= gtol && (w[j] != 0 || c[j] != 0))
                    amb[tt->offset + j] = 1;
        }
        lr_sum += optim_lr(&s);
        optim_step(&s, m->params, m->grads);
        for (size_t j = 0; j < m->n_params; j++) {
            extra[j] = amb[j] ? ADAM_FLIP * lr_sum : 0;
            n_amb += amb[j];
        }
        printf(
            "  adamw%d  %zu of %zu elements have had a sign-ambiguous gradient (+%.3g allowed)\n",
            step + 1, n_amb, m->n_params, ADAM_FLIP * lr_sum);
        fx_load_or_fail(g, param_key[step], g->want);
        cmp_params(g, step ? "adamw2" : "adamw1", m->params, g->want,
                   (tol_spec){TOL_ADAM_ABS, 0, 0, NULL}, extra, &v);
    }
    free(extra);
    free(amb);
    optim_free(&s);
    verdict_check(&v);
}

/* The comparisons above can fail: each mutation must be rejected. */
static void test_can_fail(void **state)
{
    golden *g = *state;
    tfm_model *m = &g->m;
    const tfm_config *c = &g->cfg;
    const size_t nv = (size_t)g->n * c->d_vocab_out;
    const float *want32 = fx_get(g, "logits", ST_F32, nv)->data;
    const tol_spec tl = {TOL_LOGIT_ABS, TOL_LOGIT_REL, 0, NULL};

    /* W_Q and W_K of block 0 swapped (W_K and W_V at attn_rate 0, where the
     * queries and keys do not matter): the logits must not match. */
    const size_t nq = (size_t)c->n_heads * c->d_model * c->d_head;
    float *tmp = malloc(sizeof(float) * nq);
    assert_non_null(tmp);
    const int qk = g->attn_rate != 0;
    float *x = qk ? m->p.blocks[0].W_Q : m->p.blocks[0].W_K;
    float *y = qk ? m->p.blocks[0].W_K : m->p.blocks[0].W_V;
    memcpy(tmp, x, sizeof(float) * nq);
    memcpy(x, y, sizeof(float) * nq);
    memcpy(y, tmp, sizeof(float) * nq);
    free(tmp);
    tfm_forward(m, g->a, g->tokens, g->n);
    cmp_stats s = cmp_vals(vf(tfm_logits(g->a)), vf(want32), nv, tl);
    report(NULL, qk ? "swapQK" : "swapKV", "logits vs torch f32", &s);
    assert_true(s.n_bad > 0);
    fx_load_or_fail(g, "", m->params);

    /* Doubled gradients: every tensor whose gradient is not rounding noise
     * (b_K's is) must be rejected. */
    golden_step_grads(g, NULL, NULL, NULL);
    for (size_t i = 0; i < m->n_params; i++)
        m->grads[i] *= 2;
    fx_load_or_fail(g, "grad.", g->want);
    int n_meaningful = 0, n_rejected = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const tfm_tensor *tt = &m->tensors[i];
        s = cmp_vals(vf(m->grads + tt->offset), vf(g->want + tt->offset), tt->numel, tol_grad);
        if (s.max_want > 10 * TOL_GRAD_ABS) {
            n_meaningful++;
            n_rejected += s.n_bad > 0;
            if (!s.n_bad)
                printf("  grad*2  %s passed the gradient tolerance\n", tt->name);
        }
    }
    printf("  grad*2  rejected in %d of %d tensors with gradients above noise (%d in the table)\n",
           n_rejected, n_meaningful, m->n_tensors);
    assert_true(n_meaningful > 0);
    assert_int_equal(n_rejected, n_meaningful);

    /* AdamW without weight decay, replayed on the fixture's gradients. */
    fx_load_or_fail(g, "", m->params);
    optim_config oc = g->oc;
    oc.weight_decay = 0;
    optim_state os;
    grok_err e = {{0}};
    if (optim_init(&os, &oc, m->n_params, &e) != GROK_OK)
        fail_msg("optim_init: %s", e.msg);
    optim_step(&os, m->params, g->want); /* g->want holds grad. */
    optim_free(&os);
    fx_load_or_fail(g, "adamw1.", g->want);
    s = cmp_vals(vf(m->params), vf(g->want), m->n_params, replay_tol(&g->oc));
    report(NULL, "no_wd", "adamw1 (all parameters)", &s);
    assert_true(s.n_bad > 0);
}

#define GOLDEN_TESTS(fx)                                                                           \
    {"table:" fx, test_table, golden_setup, golden_teardown, (void *)fx},                          \
        {"forward:" fx, test_forward, golden_setup, golden_teardown, (void *)fx},                  \
        {"grads:" fx, test_grads, golden_setup, golden_teardown, (void *)fx},                      \
        {"replay:" fx, test_replay, golden_setup, golden_teardown, (void *)fx},                    \
        {"train:" fx, test_train, golden_setup, golden_teardown, (void *)fx},                      \
    {                                                                                              \
        "can_fail:" fx, test_can_fail, golden_setup, golden_teardown, (void *)fx                   \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        GOLDEN_TESTS("tfm_l1_relu"),
        GOLDEN_TESTS("tfm_l2_gelu_ln"),
        GOLDEN_TESTS("tfm_l1_relu_ln"),
        GOLDEN_TESTS("tfm_l2_bidir"),
        GOLDEN_TESTS("tfm_l2_rate0"),
        GOLDEN_TESTS("tfm_l2_rate0_bidir"),
        GOLDEN_TESTS("tfm_l2_rate05"),
        GOLDEN_TESTS("tfm_l2_rate05_bidir"),
        GOLDEN_TESTS("tfm_ab_l1_rate0_bidir"),
        GOLDEN_TESTS("tfm_ab_l1_bidir"),
        GOLDEN_TESTS("tfm_ab_l2_rate05_bidir"),
    };
    return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
