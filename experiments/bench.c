/* bench.c: `grok bench`, the performance table.
 *
 * Measures, in one process and for the default experiment (or any config):
 * the machine's own sgemm rate (a large square product), ms per training step
 * (full-batch forward, loss, backward and optimizer update), ms per
 * evaluation of all inputs, the GFLOP/s reached by the step's matrix products
 * (counted and timed by the model's tfm_profile), their ratio to the machine
 * rate, and the share of the step spent outside matrix products.  Each figure
 * is the median of repeated runs after a warm-up, for each thread count asked.
 * Speed is measured here, never asserted in a test. */
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

int bench_run(const cfg_run *c, const bench_opts *o, sbuf *out, grok_err *e)
{
    task_data task;
    int rc = task_init(&task, &c->task, c->seed, e);
    if (rc)
        return rc;
    model m;
    model_config mc = cfg_model_config(c);
    if ((rc = model_init(&m, &mc, e))) {
        task_free(&task);
        return rc;
    }
    rng *r = rng_alloc(c->seed, RNG_STREAM_INIT, 0);
    trainer tr;
    trainer_config tc = cfg_trainer_config(c);
    const int N = task.n_train, n_all = task.n_all;
    int32_t *all_tokens = malloc(sizeof(int32_t) * (size_t)task.n_ctx * (size_t)n_all);
    int32_t *all_labels = malloc(sizeof(int32_t) * (size_t)n_all);
    double *t_step = calloc((size_t)o->reps, sizeof(double)),
           *t_eval = calloc((size_t)o->reps, sizeof(double)),
           *t_gemm = calloc((size_t)o->reps, sizeof(double)),
           *t_meas = calloc((size_t)o->reps, sizeof(double));
    meas_workspace *ws = NULL;
    if (!r || !all_tokens || !all_labels || !t_step || !t_eval || !t_gemm ||
        !t_meas) {
        rc = grok_fail(e, GROK_ENOMEM, "bench: out of memory");
        goto done;
    }
    memcpy(all_tokens, task.tokens, sizeof(int32_t) * (size_t)task.n_ctx * (size_t)n_all);
    memcpy(all_labels, task.label, sizeof(int32_t) * (size_t)n_all);
    if ((rc = trainer_init(&tr, &m, &tc, n_all, e)))
        goto done;
    if ((rc = meas_workspace_alloc(&ws, &m, &task, NULL, e)))
        goto done_tr;

    sbuf_printf(out, "grok bench: %s p=%d, %d layer(s), d_model %d, %d heads x %d, d_mlp %d; "
                     "training batch %d, evaluation of all %d inputs; median of %d after %d warm-up\n",
                task_op_name(c->task.op), c->task.p, c->model.n_layers, c->model.d_model,
                c->model.n_heads, c->model.d_head, c->model.d_mlp, N, n_all, o->reps, o->warmup);
    if (o->kernel[0])
        sbuf_printf(out, "BLIS kernels: %s\n", o->kernel);
    sbuf_printf(out, "\n%-8s %10s %10s %10s %11s %11s %7s %9s\n", "threads", "step ms", "eval ms",
                "measure ms", "step GF/s", "sgemm GF/s", "ratio", "non-GEMM");
    double step_gflop = 0;
    for (int ti = 0; ti < o->n_threads; ti++) {
        const int threads = o->threads[ti];
        la_set_threads(threads);
        /* the same start for every thread count */
        model_init_params(&m, r);
        trainer_free(&tr);
        if ((rc = trainer_init(&tr, &m, &tc, n_all, e)))
            goto done_ws;
        trainer_start(&tr);
        tfm_profile prof;
        for (int it = 0; it < o->warmup + o->reps; it++) {
            memset(&prof, 0, sizeof prof);
            model_acts_profile(tr.acts, &prof);
            const double t0 = now_seconds();
            trainer_grad(&tr, task.train_tokens, task.train_labels, N, NULL);
            trainer_update(&tr);
            const double t1 = now_seconds();
            model_acts_profile(tr.acts, NULL);
            trainer_eval(&tr, all_tokens, all_labels, n_all, NULL);
            const double t2 = now_seconds();
            meas_row row;
            if ((rc = meas_compute(ws, &m, &task, NULL, &row, e)))
                goto done_ws;
            const double t3 = now_seconds();
            if (it >= o->warmup) {
                t_step[it - o->warmup] = t1 - t0;
                t_eval[it - o->warmup] = t2 - t1;
                t_gemm[it - o->warmup] = prof.gemm_seconds;
                t_meas[it - o->warmup] = t3 - t2;
            }
        }
        /* prof holds the last step's counts: the flops are the same every step */
        const double flops = prof.gemm_flops;
        step_gflop = flops / 1e9;
        const double step = median(t_step, o->reps), eval = median(t_eval, o->reps),
                     gemm = median(t_gemm, o->reps), meas = median(t_meas, o->reps);
        const double machine = sgemm_rate(o->sgemm_n, o->reps < 5 ? 5 : o->reps);
        const double rate = flops / gemm / 1e9;
        if (o->step_ms)
            *o->step_ms = step * 1e3;
        sbuf_printf(out, "%-8d %10.2f %10.2f %10.1f %11.1f %11.1f %6.0f%% %8.0f%%\n", threads,
                    step * 1e3, eval * 1e3, meas * 1e3, rate, machine, 100 * rate / machine,
                    100 * (1 - gemm / step));
    }
    sbuf_printf(out, "\nstep: forward, float64 loss, backward and %s update on the %d training "
                     "examples; eval: forward and loss on all %d inputs;\nmeasure: one progress-measure "
                     "pass (every row of the measure table that applies: losses, key frequencies, restricted\n"
                     "and excluded losses, Gini, norms, clock/pizza measures, ...);\n"
                     "step GF/s: the step's matrix products (%.2f GFLOP) over their own time; sgemm "
                     "GF/s: a %d^3 sgemm in this process;\nratio: step GF/s over sgemm GF/s; "
                     "non-GEMM: share of the step outside matrix products.\n",
                optim_kind_name(c->optim.kind), N, n_all, step_gflop, o->sgemm_n);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        sbuf_printf(out, "peak resident memory of this process: %.1f MB (getrusage ru_maxrss)\n",
                    ru.ru_maxrss / 1024.0);
done_ws:
    meas_workspace_free(ws);
done_tr:
    trainer_free(&tr);
done:
    free(t_meas);
    free(t_step), free(t_eval), free(t_gemm);
    free(all_tokens), free(all_labels);
    rng_free(r);
    model_free(&m);
    task_free(&task);
    return rc;
}
