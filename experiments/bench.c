/* bench.c: `grok bench`, the performance table.
 *
 * Measures, in one process and for the default experiment (or any config):
 * the machine's own sgemm rate (a large square product), ms per training step
 * (full-batch forward, loss, backward and optimizer update), ms per
 * evaluation of all inputs, the GFLOP/s reached by the step's matrix products
 * (counted and timed by the model's matrix-product profile), their ratio to
 * the machine rate, and the share of the step spent outside matrix products.
 * Then the rows table: ms per step, GEMM rate and GEMM share of each row, one
 * per model family and gradient filter (the config itself, Prieto et al.'s
 * MLP, the config with each filter on), each row's config built from
 * assignments listed under the table, so that `grok train --set ...`
 * reproduces it.  Each figure is the median of repeated steps after a
 * warm-up (the measure pass, which costs several steps, at most
 * BENCH_MEAS_REPS times), for each thread count asked, beside the fastest
 * step (on a shared machine the nearest to the idle speed).  Speed is
 * measured here, never asserted in a test. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "linalg.h"
#include "meas.h"
#include "model.h"
#include "task.h"
#include "trainer.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* GFLOP/s of a square sgemm of size n, median of `reps` after a warm-up. */
static double sgemm_rate(int n, int reps)
{
    float *A = grok_alloc(sizeof(float) * (size_t)n * n), *B = grok_alloc(sizeof(float) * (size_t)n * n),
          *C = grok_alloc(sizeof(float) * (size_t)n * n);
    if (!A || !B || !C) {
        grok_free(A), grok_free(B), grok_free(C);
        return NAN;
    }
    for (size_t i = 0; i < (size_t)n * n; i++)
        A[i] = (float)((i * 7) % 13) * 0.01f, B[i] = (float)((i * 5) % 11) * 0.01f;
    double t[64];
    reps = reps > 64 ? 64 : reps;
    la_gemm(n, n, n, 1.0f, A, n, 1, B, n, 1, 0.0f, C, n, 1);
    for (int r = 0; r < reps; r++) {
        const double t0 = now_seconds();
        la_gemm(n, n, n, 1.0f, A, n, 1, B, n, 1, 0.0f, C, n, 1);
        t[r] = now_seconds() - t0;
    }
    grok_free(A), grok_free(B), grok_free(C);
    return 2.0 * n * n * (double)n / median(t, reps) / 1e9;
}

/* ------------------------------------------------------------------------ */
/* the rows */

#define ROW_SETS_MAX 16

static const struct {
    const char *name;
    int on_config; /* 1: the row is CONFIG plus sets; 0: the defaults plus sets */
    const char *sets[ROW_SETS_MAX];
} bench_rows[BENCH_ROW_COUNT] = {
    [BENCH_ROW_CONFIG] = {"config", 1, {NULL}},
    /* Prieto et al. 2025: a + b mod 113, the one-hot pair, two hidden layers
     * of 200 ReLUs, 40% of the pairs in one batch, Adam lr 0.01, betas (0.9,
     * 0.99), no weight decay, float32 softmax cross-entropy */
    [BENCH_ROW_MLP] = {"mlp",
                       0,
                       {"task.layout=\"a b\"", "task.frac_train=0.4", "model.family=\"mlp\"",
                        "model.combine=\"onehot\"", "model.n_layers=2", "model.d_hidden=200",
                        "model.act=\"relu\"", "optim.lr=0.01", "optim.betas=[0.9, 0.99]",
                        "optim.weight_decay=0", "optim.warmup=0", "train.loss_dtype=\"float32\"",
                        NULL}},
    [BENCH_ROW_EMA] = {"ema", 1, {"filters.ema=true", NULL}},
    [BENCH_ROW_MA] = {"ma", 1, {"filters.ma=true", NULL}},
    [BENCH_ROW_ORTHO] = {"ortho", 1, {"filters.ortho=true", NULL}},
    [BENCH_ROW_CLIP] = {"clip", 1, {"filters.clip_norm=1.0", NULL}},
};

const char *bench_row_name(bench_row r)
{
    return (int)r >= 0 && r < BENCH_ROW_COUNT ? bench_rows[r].name : "?";
}

int bench_rows_parse(const char *list, unsigned *rows, grok_err *e)
{
    unsigned set = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        if (len == 3 && strncmp(p, "all", 3) == 0)
            found = BENCH_ROW_COUNT;
        for (int r = 0; r < BENCH_ROW_COUNT && found < 0; r++)
            if (strlen(bench_rows[r].name) == len && strncmp(p, bench_rows[r].name, len) == 0)
                found = r;
        if (found < 0)
            return grok_fail(e, GROK_EINVAL,
                             "--only '%s': unknown row '%.*s'; rows: config, mlp, ema, ma, "
                             "ortho, clip, or all",
                             list, (int)len, p);
        set |= found == BENCH_ROW_COUNT ? (1u << BENCH_ROW_COUNT) - 1 : 1u << found;
        if (!end)
            break;
        p = end + 1;
    }
    *rows = set;
    return GROK_OK;
}

/* Row r's config: CONFIG (c) or the defaults, then the row's assignments. */
static int row_config(bench_row r, const cfg_run *c, cfg_run *out, grok_err *e)
{
    if (bench_rows[r].on_config)
        *out = *c;
    else
        cfg_defaults(out);
    int rc = GROK_OK;
    for (int i = 0; bench_rows[r].sets[i] && rc == GROK_OK; i++)
        rc = cfg_set(out, bench_rows[r].sets[i], e);
    if (rc == GROK_OK)
        rc = cfg_check(out, e);
    if (rc == GROK_OK)
        cfg_fill_derived(out);
    return rc;
}

/* "transformer, 1 layer, d_model 128, d_mlp 512" or "mlp 226-200-200-113 (onehot)" */
static void describe_model(const cfg_run *c, char *buf, size_t n)
{
    if (c->family == MODEL_MLP) {
        const mlp_config m = cfg_model_config(c).mlp;
        int k = snprintf(buf, n, "mlp %d", mlp_d_in(&m));
        for (int l = 0; l < m.n_layers && k >= 0 && (size_t)k < n; l++)
            k += snprintf(buf + k, n - (size_t)k, "-%d", m.d_hidden);
        if (k >= 0 && (size_t)k < n)
            snprintf(buf + k, n - (size_t)k, "-%d (%s)", m.d_vocab_out,
                     mlp_combine_name(m.combine));
    } else
        snprintf(buf, n, "transformer, %d layer%s, d_model %d, d_mlp %d", c->model.n_layers,
                 c->model.n_layers == 1 ? "" : "s", c->model.d_model, c->model.d_mlp);
}

/* ------------------------------------------------------------------------ */
/* one model and trainer, restarted for each thread count */

typedef struct {
    task_data task;
    int have_task;
    model m;
    int have_model;
    rng *r;
    trainer tr;
    int have_tr;
    trainer_config tc;
    int n_max; /* the trainer's rows */
} bench_setup;

static void setup_free(bench_setup *s)
{
    if (s->have_tr)
        trainer_free(&s->tr);
    rng_free(s->r);
    if (s->have_model)
        model_free(&s->m);
    if (s->have_task)
        task_free(&s->task);
    memset(s, 0, sizeof *s);
}

/* The task, the model and its initial-weight stream for c; the trainer's
 * workspace holds all inputs (all = 1) or the training batch. */
static int setup_init(bench_setup *s, const cfg_run *c, int all, grok_err *e)
{
    memset(s, 0, sizeof *s);
    int rc = task_init(&s->task, &c->task, c->seed, e);
    if (rc)
        return rc;
    s->have_task = 1;
    model_config mc = cfg_model_config(c);
    if ((rc = model_init(&s->m, &mc, e)))
        return setup_free(s), rc;
    s->have_model = 1;
    s->r = rng_alloc(c->seed, RNG_STREAM_INIT, 0);
    if (!s->r)
        return setup_free(s), grok_fail(e, GROK_ENOMEM, "bench: out of memory");
    s->tc = cfg_trainer_config(c);
    s->n_max = all ? (int)s->task.n_all : s->task.n_train;
    return GROK_OK;
}

/* The same start for every thread count: fresh weights from the seed's
 * stream position, a fresh trainer (optimizer and filter state). */
static int setup_restart(bench_setup *s, int threads, grok_err *e)
{
    la_set_threads(threads);
    model_init_params(&s->m, s->r);
    if (s->have_tr)
        trainer_free(&s->tr);
    s->have_tr = 0;
    int rc = trainer_init(&s->tr, &s->m, &s->tc, s->n_max, e);
    if (rc)
        return rc;
    s->have_tr = 1;
    trainer_start(&s->tr);
    return GROK_OK;
}

/* One full-batch training step with its products profiled into prof;
 * returns its wall time. */
static double setup_step(bench_setup *s, tfm_profile *prof)
{
    memset(prof, 0, sizeof *prof);
    model_acts_profile(s->tr.acts, prof);
    const double t0 = now_seconds();
    trainer_grad(&s->tr, s->task.train_tokens, s->task.train_labels, s->task.n_train, NULL);
    trainer_update(&s->tr);
    const double t1 = now_seconds();
    model_acts_profile(s->tr.acts, NULL);
    return t1 - t0;
}

/* timed measure passes of the config table, at most */
#define BENCH_MEAS_REPS 5

/* medians of one row at one thread count */
typedef struct {
    int done;
    double step_ms, gemm_ms, gflop;
    double best_ms; /* the fastest step */
} row_time;

/* Times row c's step at every thread count into t[]; warmup untimed steps
 * first. */
static int time_row(const cfg_run *c, const bench_opts *o, int warmup, row_time *t, grok_err *e)
{
    bench_setup s;
    int rc = setup_init(&s, c, 0, e);
    if (rc)
        return rc;
    double *ts = calloc((size_t)o->reps, sizeof(double)),
           *tg = calloc((size_t)o->reps, sizeof(double));
    if (!ts || !tg)
        rc = grok_fail(e, GROK_ENOMEM, "bench: out of memory");
    for (int ti = 0; ti < o->n_threads && rc == GROK_OK; ti++) {
        if ((rc = setup_restart(&s, o->threads[ti], e)))
            break;
        tfm_profile prof;
        for (int it = 0; it < warmup + o->reps; it++) {
            const double dt = setup_step(&s, &prof);
            if (it >= warmup)
                ts[it - warmup] = dt, tg[it - warmup] = prof.gemm_seconds;
        }
        t[ti] = (row_time){1, 1e3 * median(ts, o->reps), 1e3 * median(tg, o->reps),
                           prof.gemm_flops / 1e9, 1e3 * ts[0] /* sorted by median */};
    }
    free(ts), free(tg);
    setup_free(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the config's full table */

static int config_table(const cfg_run *c, const bench_opts *o, row_time *rt, sbuf *out,
                        grok_err *e)
{
    bench_setup s;
    int rc = setup_init(&s, c, 1, e);
    if (rc)
        return rc;
    task_data *task = &s.task;
    const int N = task->n_train, n_all = (int)task->n_all;
    int32_t *all_tokens = malloc(sizeof(int32_t) * (size_t)task->n_ctx * (size_t)n_all);
    int32_t *all_labels = malloc(sizeof(int32_t) * (size_t)n_all);
    double *t_step = calloc((size_t)o->reps, sizeof(double)),
           *t_eval = calloc((size_t)o->reps, sizeof(double)),
           *t_gemm = calloc((size_t)o->reps, sizeof(double)),
           *t_meas = calloc((size_t)o->reps, sizeof(double));
    meas_workspace *ws = NULL;
    if (!all_tokens || !all_labels || !t_step || !t_eval || !t_gemm || !t_meas) {
        rc = grok_fail(e, GROK_ENOMEM, "bench: out of memory");
        goto done;
    }
    memcpy(all_tokens, task->tokens, sizeof(int32_t) * (size_t)task->n_ctx * (size_t)n_all);
    memcpy(all_labels, task->label, sizeof(int32_t) * (size_t)n_all);
    if ((rc = meas_workspace_alloc(&ws, &s.m, task, NULL, e)))
        goto done;

    char what[96];
    describe_model(c, what, sizeof what);
    /* the measure pass costs several steps: timed fewer times */
    const int meas_reps = o->reps < BENCH_MEAS_REPS ? o->reps : BENCH_MEAS_REPS;
    sbuf_printf(out, "grok bench: %s p=%d, %s; training batch %d, evaluation of all %d inputs; "
                     "median of %d after %d warm-up (measure: of %d)\n",
                task_op_name(c->task.op), c->task.p, what, N, n_all, o->reps, o->warmup,
                meas_reps);
    if (o->kernel[0])
        sbuf_printf(out, "BLIS kernels: %s\n", o->kernel);
    sbuf_printf(out, "\n%-8s %10s %10s %10s %11s %11s %7s %9s\n", "threads", "step ms", "eval ms",
                "measure ms", "step GF/s", "sgemm GF/s", "ratio", "non-GEMM");
    double step_gflop = 0;
    for (int ti = 0; ti < o->n_threads; ti++) {
        const int threads = o->threads[ti];
        if ((rc = setup_restart(&s, threads, e)))
            goto done;
        tfm_profile prof;
        for (int it = 0; it < o->warmup + o->reps; it++) {
            const double step = setup_step(&s, &prof);
            const double t1 = now_seconds();
            trainer_eval(&s.tr, all_tokens, all_labels, n_all, NULL);
            const double t2 = now_seconds();
            meas_row row;
            const int timed = it - o->warmup, meas = it == 0 || (timed >= 0 && timed < meas_reps);
            if (meas && (rc = meas_compute(ws, &s.m, task, NULL, &row, e)))
                goto done;
            const double t3 = now_seconds();
            if (timed >= 0) {
                t_step[timed] = step;
                t_eval[timed] = t2 - t1;
                t_gemm[timed] = prof.gemm_seconds;
                if (meas)
                    t_meas[timed] = t3 - t2;
            }
        }
        /* prof holds the last step's counts: the flops are the same every step */
        const double flops = prof.gemm_flops;
        step_gflop = flops / 1e9;
        const double step = median(t_step, o->reps), eval = median(t_eval, o->reps),
                     gemm = median(t_gemm, o->reps), meas = median(t_meas, meas_reps);
        const double machine = sgemm_rate(o->sgemm_n, o->reps < 5 ? 5 : o->reps);
        const double rate = flops / gemm / 1e9;
        rt[ti] = (row_time){1, step * 1e3, gemm * 1e3, step_gflop, t_step[0] * 1e3};
        sbuf_printf(out, "%-8d %10.2f %10.2f %10.1f %11.1f %11.1f %6.0f%% %8.0f%%\n", threads,
                    step * 1e3, eval * 1e3, meas * 1e3, rate, machine, 100 * rate / machine,
                    100 * (1 - gemm / step));
    }
    sbuf_printf(out, "\nstep: forward, %s %s loss, backward and %s update on the %d training "
                     "examples; eval: forward and loss on all %d inputs;\nmeasure: one progress-measure "
                     "pass (every row of the measure table that applies: losses, key frequencies, restricted\n"
                     "and excluded losses, Gini, norms, clock/pizza measures, ...);\n"
                     "step GF/s: the step's matrix products (%.2f GFLOP) over their own time; sgemm "
                     "GF/s: a %d^3 sgemm in this process;\nratio: step GF/s over sgemm GF/s; "
                     "non-GEMM: share of the step outside matrix products.\n",
                c->loss.f32 && c->loss.kind == LOSS_SOFTMAX_CE ? "float32" : "float64",
                loss_kind_name(c->loss.kind), optim_kind_name(c->optim.kind), N, n_all,
                step_gflop, o->sgemm_n);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        sbuf_printf(out, "peak resident memory of this process: %.1f MB (getrusage ru_maxrss)\n",
                    ru.ru_maxrss / 1024.0);
done:
    meas_workspace_free(ws);
    free(t_meas), free(t_step), free(t_eval), free(t_gemm);
    free(all_tokens), free(all_labels);
    setup_free(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* all rows */

int bench_run(const cfg_run *c, const bench_opts *o, sbuf *out, grok_err *e)
{
    const unsigned rows = o->rows ? o->rows : BENCH_ROWS_DEFAULT;
    row_time rt[BENCH_ROW_COUNT][BENCH_MAX_THREADS];
    memset(rt, 0, sizeof rt);
    cfg_run rc_cfg[BENCH_ROW_COUNT];
    int rc = GROK_OK;
    for (int r = 0; r < BENCH_ROW_COUNT && rc == GROK_OK; r++)
        if (rows & (1u << r))
            rc = row_config((bench_row)r, c, &rc_cfg[r], e);
    if (rc == GROK_OK && (rows & (1u << BENCH_ROW_CONFIG))) {
        rc = config_table(c, o, rt[BENCH_ROW_CONFIG], out, e);
        sbuf_printf(out, "\n");
    }
    for (int r = BENCH_ROW_CONFIG + 1; r < BENCH_ROW_COUNT && rc == GROK_OK; r++) {
        if (!(rows & (1u << r)))
            continue;
        /* the moving average changes nothing until its window is full */
        const int warmup =
            o->warmup + (rc_cfg[r].filters.ma.on ? rc_cfg[r].filters.ma.window : 0);
        rc = time_row(&rc_cfg[r], o, warmup, rt[r], e);
    }
    if (rc != GROK_OK)
        return rc;
    for (int r = 0; r < BENCH_ROW_COUNT; r++) {
        if (o->step_ms)
            o->step_ms[r] = 0;
        if (o->best_ms)
            o->best_ms[r] = 0;
    }
    for (int r = 0; r < BENCH_ROW_COUNT; r++)
        for (int ti = 0; ti < o->n_threads; ti++)
            if (rt[r][ti].done) {
                if (o->step_ms)
                    o->step_ms[r] = rt[r][ti].step_ms;
                if (o->best_ms)
                    o->best_ms[r] = rt[r][ti].best_ms;
            }
    if (rows == (1u << BENCH_ROW_CONFIG))
        return GROK_OK; /* the table above says it all */

    if (!(rows & (1u << BENCH_ROW_CONFIG)) && o->kernel[0])
        sbuf_printf(out, "BLIS kernels: %s\n\n", o->kernel);
    sbuf_printf(out, "rows: ms per training step (median of %d after %d warm-up), the GEMM rate "
                     "and share\n\n",
                o->reps, o->warmup);
    sbuf_printf(out, "%-7s %-44s %7s %9s %9s %9s %10s %10s\n", "row", "model", "threads",
                "step ms", "best ms", "GFLOP", "GEMM GF/s", "GEMM share");
    for (int r = 0; r < BENCH_ROW_COUNT; r++) {
        if (!(rows & (1u << r)))
            continue;
        char what[96];
        describe_model(&rc_cfg[r], what, sizeof what);
        for (int ti = 0; ti < o->n_threads; ti++) {
            const row_time *t = &rt[r][ti];
            if (!t->done)
                continue;
            sbuf_printf(out, "%-7s %-44s %7d %9.2f %9.2f %9.3f %10.1f %9.0f%%\n",
                        bench_rows[r].name, ti == 0 ? what : "", o->threads[ti], t->step_ms,
                        t->best_ms, t->gflop,
                        t->gemm_ms > 0 ? t->gflop / t->gemm_ms * 1e3 : 0.0,
                        100 * t->gemm_ms / t->step_ms);
        }
    }
    sbuf_printf(out, "\nstep ms: the median step; best ms: the fastest (on a machine shared with "
                     "other work, the nearest to its idle speed);\nGFLOP: the step's matrix "
                     "products; GEMM GF/s: their rate over their own time; GEMM share: their share "
                     "of the (median) step.\nEach row is CONFIG (config "
                     "and the filters) or the defaults (mlp) with:\n");
    for (int r = 0; r < BENCH_ROW_COUNT; r++) {
        if (!(rows & (1u << r)))
            continue;
        sbuf_printf(out, "  %-6s%s", bench_rows[r].name,
                    bench_rows[r].sets[0] ? "" : " (nothing more)");
        for (int i = 0; bench_rows[r].sets[i]; i++)
            sbuf_printf(out, " --set '%s'", bench_rows[r].sets[i]);
        sbuf_printf(out, "%s\n",
                    r == BENCH_ROW_MA ? " (timed once its window of gradients is full)" : "");
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        sbuf_printf(out, "peak resident memory of this process, all rows: %.1f MB\n",
                    ru.ru_maxrss / 1024.0);
    return GROK_OK;
}
