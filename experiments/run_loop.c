/* run_loop.c: the training session (run.h: run_train): building the run's
 * task, model and trainer (run_build), the initial parameters (fresh or
 * forked, run_fork.c), the loop over epochs with its evaluations, commits
 * (run_files.c) and live measures, divergence, and the end of a session
 * (final measures, figures, log).  run_resume.c starts a session from a
 * state instead.
 *
 * Epochs.  Epoch e (0-based) is one pass over the training set: one step on
 * the full batch when train.batch = 0, else minibatches of train.batch
 * examples (the last one smaller) in an order drawn from the stream
 * rng(seed, RNG_STREAM_BATCH, e), so resuming needs no RNG state.  "Epoch E"
 * of a checkpoint, a metrics row or the state means the parameters after E
 * completed epochs: checkpoint epoch-000000 holds the initial weights.
 *
 * Evaluation.  Rows are recorded at epochs e with e % train.eval_every == 0
 * and once more for the final parameters (epoch = train.epochs, or the epoch
 * at which train.stop_test_acc stopped the run).  With the full batch, the
 * train loss and accuracy of row e are those of the step's own forward (the
 * parameters before the update), and the test set is run after the backward,
 * before the update, reusing the activation workspace.  With minibatches both
 * sets are evaluated before the epoch's first step.  lr is the rate the next
 * update uses (optim_lr).  A non-finite loss stops the run and names the last
 * good checkpoint.
 *
 * The state's training_config is the config with every resumable key at
 * its default (run_core_text; the keys are the table's, cfg.h). */
#include "run_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure.h"
#include "model.h"
#include "plot_cmd.h"
#include "progress.h"
#include "rng.h"
#include "task.h"
#include "trainer.h"

/* ---- the session's state ------------------------------------------------- */

double run_elapsed(const run_ctx *r)
{
    return r->elapsed_base + (progress_now() - r->t_start);
}

static int run_is_checkpoint_epoch(const cfg_run *c, long ep)
{
    if (c->checkpoint.every > 0 && ep % c->checkpoint.every == 0)
        return 1;
    return ep < c->checkpoint.early_until && c->checkpoint.every_early > 0 &&
           ep % c->checkpoint.every_early == 0;
}

/* c with every resumable key at its default: what must not change. */
int run_core_text(const cfg_run *c, sbuf *out)
{
    cfg_run core = *c;
    cfg_reset_resumable(&core);
    return cfg_format(&core, out);
}

void run_ctx_free(run_ctx *r)
{
    trainer_free(&r->tr);
    model_free(&r->model);
    task_free(&r->task);
    free(r->perm);
    free(r->batch_tokens);
    free(r->batch_labels);
    free(r->hist);
    sbuf_free(&r->cfg_text);
    sbuf_free(&r->core_text);
    sbuf_free(&r->log);
    if (r->meas_ready)
        measure_live_free(&r->meas);
    r->meas_ready = 0;
    sbuf_free(&r->measure_json);
    if (r->lock_fd >= 0)
        close(r->lock_fd);
    r->lock_fd = -1;
}

/* Builds task, model, optimizer and workspaces for c; touches no file. */
int run_build(run_ctx *r, const cfg_run *c, const char *dir, const run_opts *o, grok_err *e)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    r->cfg = *c;
    r->opts = o;
    r->last_commit = -1;
    r->memorised = r->grokked = -1;
    sbuf_init(&r->cfg_text);
    sbuf_init(&r->core_text);
    sbuf_init(&r->log);
    sbuf_init(&r->measure_json);
    int n = snprintf(r->dir, sizeof r->dir, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof r->dir - 64)
        return grok_fail(e, GROK_EINVAL, "run directory path too long: '%s'", dir);
    while (n > 1 && r->dir[n - 1] == '/')
        r->dir[--n] = '\0';

    int rc = task_init(&r->task, &c->task, c->seed, e);
    if (rc == GROK_OK)
        rc = run_fork_split(r, e);
    if (rc != GROK_OK)
        return rc;
    model_config mc = cfg_model_config(c);
    if ((rc = model_init(&r->model, &mc, e)) != GROK_OK)
        return rc;
    int n_train = r->task.n_train;
    r->batch = c->train.batch > 0 && c->train.batch < n_train ? (int)c->train.batch : n_train;
    trainer_config tc = cfg_trainer_config(c);
    /* the workspace holds one training batch; evaluations stream through it */
    if ((rc = trainer_init(&r->tr, &r->model, &tc, r->batch, e)) != GROK_OK)
        return rc;
    r->perm = malloc((size_t)n_train * sizeof *r->perm);
    r->batch_tokens = malloc((size_t)r->batch * r->task.n_ctx * sizeof *r->batch_tokens);
    r->batch_labels = malloc((size_t)r->batch * sizeof *r->batch_labels);
    if (!r->perm || !r->batch_tokens || !r->batch_labels)
        return grok_fail(e, GROK_ENOMEM, "out of memory for a minibatch of %d examples", r->batch);
    /* the live measures stream the inputs through the trainer's workspace: they
     * run between a step's backward and its update, which reads only the
     * gradients */
    if ((rc = measure_live_init(&r->meas, &r->model, &r->task, r->tr.acts, e)) != GROK_OK)
        return rc;
    meas_workspace_set_key_rule(r->meas.ws, (meas_key_rule)r->cfg.measures.key_freq_rule,
                                r->cfg.measures.key_freq_share);
    r->meas_ready = 1;
    threadtune_init(&r->tune, o && o->blis ? o->blis->threads : 1,
                    o && o->blis && o->blis->threads_auto);
    if (cfg_format(&r->cfg, &r->cfg_text) != GROK_OK ||
        run_core_text(&r->cfg, &r->core_text) != GROK_OK)
        return grok_fail(e, GROK_ENOMEM, "out of memory formatting the config");
    return GROK_OK;
}

int run_init_params(run_ctx *r, grok_err *e)
{
    rng *ri = rng_alloc(r->cfg.seed, RNG_STREAM_INIT, 0);
    if (!ri)
        return grok_fail(e, GROK_ENOMEM, "out of memory for the initialisation RNG");
    model_init_params(&r->model, ri);
    rng_free(ri);
    int rc = r->cfg.init.from[0] ? run_fork(r, e) : GROK_OK;
    if (rc == GROK_OK)
        trainer_start(&r->tr);
    return rc;
}

int run_append_row(run_ctx *r, const double row[RUN_METRICS_COLS], grok_err *e)
{
    if (r->n_rows == r->cap_rows) {
        size_t cap = r->cap_rows ? 2 * r->cap_rows : 256;
        double *h = realloc(r->hist, cap * RUN_METRICS_COLS * sizeof *h);
        if (!h)
            return grok_fail(e, GROK_ENOMEM, "out of memory for %zu metrics rows", cap);
        r->hist = h;
        r->cap_rows = cap;
    }
    memcpy(r->hist + r->n_rows * RUN_METRICS_COLS, row, RUN_METRICS_COLS * sizeof *row);
    r->n_rows++;
    return GROK_OK;
}

const double *run_last_row(const run_ctx *r)
{
    return r->n_rows ? r->hist + (r->n_rows - 1) * RUN_METRICS_COLS : NULL;
}

/* First eval epochs at which train / test accuracy reached RUN_SOLVED_ACC. */
void run_solved_epochs(const double *hist, size_t n_rows, long *memorised, long *grokked)
{
    *memorised = *grokked = -1;
    for (size_t i = 0; i < n_rows; i++) {
        const double *row = hist + i * RUN_METRICS_COLS;
        if (*memorised < 0 && row[COL_TRAIN_ACC] >= RUN_SOLVED_ACC)
            *memorised = (long)row[COL_EPOCH];
        if (*grokked < 0 && row[COL_TEST_ACC] >= RUN_SOLVED_ACC)
            *grokked = (long)row[COL_EPOCH];
    }
}

/* ---- the loop ---------------------------------------------------------- */

/* Mean loss and accuracy over n examples, forward only. */
static void run_eval(run_ctx *r, const int32_t *tokens, const int32_t *labels, int n, double *loss,
                     double *acc)
{
    long correct = 0;
    *loss = trainer_eval(&r->tr, tokens, labels, n, &correct);
    *acc = (double)correct / (double)n;
}

/* Stops the run on a non-finite loss: writes what shows it (metrics, log,
 * summary; never the state) and names the last good checkpoint. */
static int run_diverged(run_ctx *r, long ep, const char *what, double value, grok_err *e)
{
    char last[96] = "none was written";
    if (r->last_commit >= 0)
        run_ckpt_name(last, sizeof last, r->last_commit);
    progress_event(&r->prog, "epoch %ld: %s = %g is not finite; training stopped", ep, what, value);
    grok_err ignored;
    run_write_metrics(r, &ignored);
    run_write_summary(r, ep, "diverged", &ignored);
    run_write_text(r, "log.txt", &r->log, &ignored);
    return grok_fail(e, GROK_EINVAL,
                     "%s: epoch %ld: %s = %g is not finite; training stopped. Last good "
                     "checkpoint: %s/%s (epoch %ld). Lower optim.lr (now %g) and start a new "
                     "run",
                     r->dir, ep, what, value, r->dir, last, r->last_commit, r->cfg.optim.lr);
}

/* Records row ep and announces the first memorised / grokked epochs; sets
 * *stop when train.stop_test_acc is reached. */
static int run_record(run_ctx *r, long ep, double lr, double train_loss, double train_acc,
                      double test_loss, double test_acc, int *stop, grok_err *e)
{
    if (!isfinite(test_loss))
        return run_diverged(r, ep, "test loss", test_loss, e);
    const double row[RUN_METRICS_COLS] = {(double)ep, lr,       train_loss,    test_loss,
                                          train_acc,  test_acc, run_elapsed(r)};
    int rc = run_append_row(r, row, e);
    if (rc != GROK_OK)
        return rc;
    if (r->memorised < 0 && train_acc >= RUN_SOLVED_ACC) {
        r->memorised = ep;
        progress_event(&r->prog, "epoch %ld: memorised (train acc %.2f%%, test acc %.2f%%)", ep,
                       100 * train_acc, 100 * test_acc);
    }
    if (r->grokked < 0 && test_acc >= RUN_SOLVED_ACC) {
        r->grokked = ep;
        progress_event(&r->prog, "epoch %ld: grokked (test acc %.2f%%)", ep, 100 * test_acc);
    }
    double s = r->cfg.train.stop_test_acc;
    *stop = s > 0 && test_acc >= s;
    return GROK_OK;
}

/* One epoch of minibatch steps, in the epoch's own random order. */
static int run_minibatch_epoch(run_ctx *r, long ep, grok_err *e)
{
    const task_data *t = &r->task;
    rng *rb = rng_alloc(r->cfg.seed, RNG_STREAM_BATCH, (uint64_t)ep);
    if (!rb)
        return grok_fail(e, GROK_ENOMEM, "out of memory for the minibatch RNG");
    for (int i = 0; i < t->n_train; i++)
        r->perm[i] = i;
    rng_shuffle_i32(rb, r->perm, (size_t)t->n_train);
    rng_free(rb);
    for (int s = 0; s < t->n_train; s += r->batch) {
        int k = t->n_train - s < r->batch ? t->n_train - s : r->batch;
        for (int j = 0; j < k; j++) {
            int32_t x = r->perm[s + j];
            memcpy(r->batch_tokens + (size_t)j * t->n_ctx, t->train_tokens + (size_t)x * t->n_ctx,
                   (size_t)t->n_ctx * sizeof(int32_t));
            r->batch_labels[j] = t->train_labels[x];
        }
        double loss = trainer_grad(&r->tr, r->batch_tokens, r->batch_labels, k, NULL);
        if (!isfinite(loss)) {
            char what[64];
            snprintf(what, sizeof what, "train loss of the minibatch at example %d", s);
            return run_diverged(r, ep, what, loss, e);
        }
        trainer_update(&r->tr);
    }
    return GROK_OK;
}

/* Trains from r->epoch to the end, committing on the checkpoint cadence. */
/* Forward-only evaluation of both sets at epoch ep (parameters before the
 * epoch's update), recorded as a metrics row. */
static int run_eval_record(run_ctx *r, long ep, double lr, int *stop, grok_err *e)
{
    const task_data *t = &r->task;
    double trl, tra, tel, tea;
    run_eval(r, t->train_tokens, t->train_labels, t->n_train, &trl, &tra);
    if (!isfinite(trl))
        return run_diverged(r, ep, "train loss", trl, e);
    run_eval(r, t->test_tokens, t->test_labels, t->n_test, &tel, &tea);
    return run_record(r, ep, lr, trl, tra, tel, tea, stop, e);
}

static int run_loop(run_ctx *r, grok_err *e)
{
    const cfg_run *c = &r->cfg;
    const task_data *t = &r->task;
    int full = c->train.batch == 0; /* then r->batch == n_train */
    int rc;
    for (long ep = r->epoch;; ep++) {
        r->epoch = ep;
        double lr = trainer_lr(&r->tr);
        int stop = 0;
        if (ep == c->train.epochs) { /* the final parameters */
            if ((rc = run_eval_record(r, ep, lr, &stop, e)) != GROK_OK)
                return rc;
            progress_update(&r->prog, ep, run_last_row(r), 1);
            return run_commit(r, ep, "finished", e);
        }
        int eval = ep % c->train.eval_every == 0;
        double t_step = progress_now(), step_s = 0; /* the step's time, for r->tune */
        if (full) {
            int correct = 0;
            double loss = trainer_grad(&r->tr, t->train_tokens, t->train_labels, t->n_train,
                                       &correct);
            step_s = progress_now() - t_step;
            if (!isfinite(loss))
                return run_diverged(r, ep, "train loss", loss, e);
            if (eval) { /* same parameters; the workspace is free after the backward */
                double tel, tea;
                run_eval(r, t->test_tokens, t->test_labels, t->n_test, &tel, &tea);
                rc = run_record(r, ep, lr, loss, (double)correct / t->n_train, tel, tea, &stop, e);
                if (rc != GROK_OK)
                    return rc;
            }
        } else if (eval && (rc = run_eval_record(r, ep, lr, &stop, e)) != GROK_OK) {
            return rc;
        }
        if (stop) {
            progress_event(&r->prog,
                           "epoch %ld: test acc %.4f >= train.stop_test_acc = %g; stopping", ep,
                           run_last_row(r)[COL_TEST_ACC], c->train.stop_test_acc);
            progress_update(&r->prog, ep, run_last_row(r), 1);
            return run_commit(r, ep, "stopped", e);
        }
        if (r->meas_ready && ep % c->measures.every == 0 &&
            (rc = measure_live_step(&r->meas, &r->model, ep, r->dir, NULL, e)) !=
                GROK_OK)
            return rc;
        if (run_is_checkpoint_epoch(c, ep)) {
            progress_update(&r->prog, ep, run_last_row(r), 0);
            if ((rc = run_commit(r, ep, "running", e)) != GROK_OK)
                return rc;
        }
        t_step = progress_now();
        if (full)
            trainer_update(&r->tr);
        else if ((rc = run_minibatch_epoch(r, ep, e)) != GROK_OK)
            return rc;
        threadtune_step(&r->tune, step_s + progress_now() - t_step);
        if (ep + 1 < c->train.epochs)
            progress_update(&r->prog, ep + 1, run_last_row(r), 0);
    }
}

/* Session start: log lines, the progress line. */
static void run_session_start(run_ctx *r, const char *what)
{
    const run_opts *o = r->opts;
    r->t_start = progress_now();
    progress_init(&r->prog, o && o->quiet ? NULL : stderr, &r->log, r->epoch, r->cfg.train.epochs);
    char task[128];
    task_describe(&r->cfg.task, task, sizeof task);
    progress_event(&r->prog, "grok %s: %s in %s: epoch %ld of %ld; %s, %d train / %d test "
                             "examples, %zu parameters",
                   GROK_VERSION, what, r->dir, r->epoch, r->cfg.train.epochs, task,
                   r->task.n_train, r->task.n_test, r->model.n_params);
    if (o && o->blis) {
        char line[256];
        blisarch_describe(o->blis, line, sizeof line);
        progress_event(&r->prog, "%s", line);
    }
}

/* The end of a run: every checkpoint measured again with the final model's key
 * frequencies (docs/measures.md, key frequencies), summary.json completed, then the figures.  A
 * plotting failure is logged and never changes the run's outcome. */
static int run_final_measures(run_ctx *r, grok_err *e)
{
    const double t0 = progress_now();
    measure_result res;
    const int jobs = r->opts && r->opts->blis ? r->opts->blis->threads : 0;
    int rc = measure_run_dir_result(r->dir, jobs, &res, e);
    if (rc != GROK_OK)
        return rc;
    progress_event(&r->prog, "measured %d checkpoints in %.1f s", res.n_checkpoints,
                   progress_now() - t0);
    sbuf_clear(&r->measure_json);
    measure_summary_json(&res, &r->measure_json);
    if ((rc = run_write_summary(r, r->epoch, r->cfg.train.epochs == r->epoch ? "finished" : "stopped",
                                e)) != GROK_OK)
        return rc;
    if (r->cfg.plots.formats[0]) {
        sbuf notes;
        sbuf_init(&notes);
        plot_style st;
        cfg_plot_style(&r->cfg, &st);
        plot_cmd_after_run(r->dir, r->cfg.plots.formats, &st, &notes);
        if (notes.len > 0)
            progress_event(&r->prog, "%s", notes.data);
        sbuf_free(&notes);
    }
    return GROK_OK;
}

static int run_finish(run_ctx *r, int rc, grok_err *e)
{
    progress_end(&r->prog);
    if (rc == GROK_OK) {
        const double *last = run_last_row(r);
        char mem[48] = "not memorised", grk[48] = "not grokked";
        if (r->memorised >= 0)
            snprintf(mem, sizeof mem, "memorised at epoch %ld", r->memorised);
        if (r->grokked >= 0)
            snprintf(grk, sizeof grk, "grokked at epoch %ld", r->grokked);
        progress_event(&r->prog, "done: %ld epochs, %.1f s; %s, %s; final test acc %.2f%%",
                       r->epoch, run_elapsed(r), mem, grk, last ? 100 * last[COL_TEST_ACC] : NAN);
        if (r->tune.enabled)
            progress_event(&r->prog, "threads: %ld steps on %d, %ld on 1 (chosen by step time)",
                           r->tune.steps[0], r->tune.max, r->tune.steps[1]);
        /* training is over: its workspaces go before the final pass takes its own */
        if (r->meas_ready)
            measure_live_free(&r->meas); /* borrows the trainer's workspace */
        r->meas_ready = 0;
        trainer_drop_workspace(&r->tr);
        rc = run_final_measures(r, e);
        if (rc == GROK_OK)
            rc = run_write_text(r, "log.txt", &r->log, e);
    }
    run_ctx_free(r);
    return rc;
}

/* The rest of a train or resume once r is set up (rc: how the set-up went):
 * config.cfg (when write_cfg) and split.tsv written, the session logged, the
 * loop run and the run finished. */
int run_session(run_ctx *r, int rc, int write_cfg, const char *what, grok_err *e)
{
    char path[RUN_PATH_MAX];
    if (rc == GROK_OK && write_cfg && (rc = run_path(path, r->dir, "config.cfg", e)) == GROK_OK)
        rc = cfg_write(&r->cfg, path, e);
    if (rc == GROK_OK)
        rc = run_write_split(r, e);
    if (rc != GROK_OK) {
        run_ctx_free(r);
        return rc;
    }
    run_session_start(r, what);
    return run_finish(r, run_loop(r, e), e);
}

/* ---- entry points -------------------------------------------------------- */

int run_train(const cfg_run *c, const char *out_dir, const run_opts *o, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, out_dir, "state.safetensors", e);
    if (rc != GROK_OK)
        return rc;
    if (fileio_exists(path))
        return grok_fail(e, GROK_EINVAL,
                         "'%s' already holds a run (state.safetensors); continue it with "
                         "'grok resume %s' or choose another --out directory",
                         out_dir, out_dir);
    struct stat st;
    if (stat(out_dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "--out '%s' exists and is not a directory", out_dir);

    run_ctx r;
    rc = run_build(&r, c, out_dir, o, e);
    if (rc == GROK_OK)
        rc = run_init_params(&r, e);
    if (rc != GROK_OK) {
        run_ctx_free(&r);
        return rc;
    }
    /* Everything is valid: now create the directory. */
    if ((rc = run_path(path, r.dir, "checkpoints", e)) == GROK_OK &&
        (rc = fileio_mkdir_p(path, e)) == GROK_OK && (rc = run_lock(&r, e)) == GROK_OK) {
        /* Another process may have committed a run here since the check above. */
        if (run_path(path, r.dir, "state.safetensors", e) == GROK_OK && fileio_exists(path))
            rc = grok_fail(e, GROK_EINVAL, "'%s' already holds a run (state.safetensors)", r.dir);
    }
    return run_session(&r, rc, 1, "training", e);
}
