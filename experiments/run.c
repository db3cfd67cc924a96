/* run.c: the training loop and the run directory (see run.h).
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
 * Checkpoints and commit order.  At epochs e with e % checkpoint.every == 0,
 * or e < checkpoint.early_until and e % checkpoint.every_early == 0, and at
 * the end, the runner writes (each file atomically, in this order)
 * metrics.tsv, checkpoints/epoch-NNNNNN.safetensors, state.safetensors (the
 * commit point: resume starts from it), summary.json and log.txt.  A kill
 * between two writes leaves files that the resumed run rewrites with the same
 * bytes.  metrics.tsv is rewritten from the in-memory history at each commit.
 *
 * split.tsv: a header row "index a b label split", then one row per example
 * in the order of task.order (the training set first, in training order, then
 * the test set): index is the example's position in the task's canonical list
 * (a*p + b; for div and mix1, where b = 0 is left out, a*(p-1) + b-1), a and b
 * the operands, label the answer and split "train" or "test".  Tab-separated.
 * The operand columns are the task kind's (task_operand_header): "a b" for
 * modular tasks in every layout, "x y" (element numbers) for group tasks,
 * "bits" (the n input bits as one 0/1 string, position 0 first) for parity,
 * whose index is the sample's number.  A group task also gets group.tsv,
 * "index permutation": each element's permutation of 0..n-1 in one-line
 * notation, space-separated (element x maps i to the i-th entry); a parity
 * task gets parity.tsv, "n k secret" and one row, the secret positions as a
 * comma list.
 *
 * checkpoints/epoch-NNNNNN.safetensors: one F32 tensor per parameter-table
 * entry (TransformerLens names and shapes, table order, so the data section
 * is the parameter buffer); metadata "format" = "grok-checkpoint-1", "epoch",
 * the model dimensions, "op", "p" and "config" (the resolved config text);
 * no wall-clock time, so reruns write identical checkpoints.
 *
 * state.safetensors: "epoch" I64 [], "optim.step" I64 [], "elapsed_s" F64 [],
 * "metrics" F64 [rows, 7] (every row recorded so far, the row of "epoch"
 * itself included when that was an evaluation epoch; resume drops the rows of
 * epochs >= "epoch" and recomputes them), "params", "optim.m", "optim.v" F32
 * [n_params]; metadata "format" = "grok-state-1", "status" (running,
 * finished, stopped), "config" and "training_config" (the config with the
 * resumable keys set to their defaults: resume refuses a config.cfg whose
 * training_config differs).  No RNG state is needed (see Epochs).
 *
 * One process at a time: the run directory is flock'ed while a session runs,
 * and a resumed session first removes the "*.tmp.*" files a killed writer
 * left behind. */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure.h"
#include "model.h"
#include "plot_cmd.h"
#include "progress.h"
#include "rng.h"
#include "rundir.h"
#include "safetensors.h"
#include "task.h"
#include "trainer.h"

#define RUN_PATH_MAX 4096
#define RUN_CKPT_FORMAT "grok-checkpoint-1"
#define RUN_STATE_FORMAT "grok-state-1"
#define RUN_SUMMARY_FORMAT "grok-summary-1"

/* Column indices of a metrics row. */
enum { COL_EPOCH, COL_LR, COL_TRAIN_LOSS, COL_TEST_LOSS, COL_TRAIN_ACC, COL_TEST_ACC, COL_ELAPSED };

/* Keys that may change when a run is resumed: none of them changes the
 * parameters' trajectory. */
static const char *const run_resumable_keys[] = {
    "train.epochs",          "train.stop_test_acc",   "train.eval_every",
    "checkpoint.every",      "checkpoint.every_early", "checkpoint.early_until",
    "measures.every",        "plots.formats",
};
#define RUN_N_RESUMABLE ((int)(sizeof run_resumable_keys / sizeof run_resumable_keys[0]))

/* Everything one training session holds. */
typedef struct {
    cfg_run cfg;
    const run_opts *opts;
    char dir[RUN_PATH_MAX];
    int lock_fd;              /* the run directory, flock'ed; -1 when not open */
    task_data task;
    model model;
    trainer tr;               /* the training step, its optimizer, filters and workspace */
    int batch;                /* examples per step: n_train for the full batch */
    int32_t *perm;            /* [n_train] one epoch's minibatch order */
    int32_t *batch_tokens;    /* [batch, T] */
    int32_t *batch_labels;    /* [batch] */
    double *hist;             /* [n_rows, RUN_METRICS_COLS] */
    size_t n_rows, cap_rows;
    long epoch;               /* completed epochs */
    long last_commit;         /* epoch of the last state written; -1: none */
    long memorised, grokked;  /* first such eval epoch; -1: not yet */
    double elapsed_base;      /* seconds spent in earlier sessions */
    double t_start;           /* monotonic start of this session */
    sbuf cfg_text;            /* resolved config: checkpoint and state metadata */
    sbuf core_text;           /* training_config (see the file comment) */
    sbuf log;                 /* log.txt */
    progress prog;
    measure_live meas;        /* progress measures from the live parameters */
    int meas_ready;
    sbuf measure_json;        /* "fourier", "key_freqs", "phases" for summary.json */
} run_ctx;

/* ---- small helpers ------------------------------------------------------- */

static int run_path(char *buf, const char *dir, const char *name, grok_err *e)
{
    int n = snprintf(buf, RUN_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= RUN_PATH_MAX)
        return grok_fail(e, GROK_EINVAL, "path too long: '%s/%s'", dir, name);
    return GROK_OK;
}

static double run_elapsed(const run_ctx *r)
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

static void run_ckpt_name(char *buf, size_t n, long ep)
{
    rundir_ckpt_name(buf, n, ep);
}

/* c with every resumable key at its default: what must not change. */
static int run_core_text(const cfg_run *c, sbuf *out)
{
    cfg_run core = *c, d;
    cfg_defaults(&d);
    core.train.epochs = d.train.epochs;
    core.train.stop_test_acc = d.train.stop_test_acc;
    core.train.eval_every = d.train.eval_every;
    core.checkpoint = d.checkpoint;
    core.measures = d.measures;
    core.plots = d.plots;
    return cfg_format(&core, out);
}

static void run_ctx_free(run_ctx *r)
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
static int run_build(run_ctx *r, const cfg_run *c, const char *dir, const run_opts *o, grok_err *e)
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
    if (rc != GROK_OK)
        return rc;
    model_config mc = cfg_model_config(c);
    if ((rc = model_init(&r->model, &mc, e)) != GROK_OK)
        return rc;
    int n_train = r->task.n_train, n_test = r->task.n_test;
    r->batch = c->train.batch > 0 && c->train.batch < n_train ? (int)c->train.batch : n_train;
    trainer_config tc = cfg_trainer_config(c);
    if ((rc = trainer_init(&r->tr, &r->model, &tc, r->batch > n_test ? r->batch : n_test, e)) !=
        GROK_OK)
        return rc;
    r->perm = malloc((size_t)n_train * sizeof *r->perm);
    r->batch_tokens = malloc((size_t)r->batch * r->task.n_ctx * sizeof *r->batch_tokens);
    r->batch_labels = malloc((size_t)r->batch * sizeof *r->batch_labels);
    if (!r->perm || !r->batch_tokens || !r->batch_labels)
        return grok_fail(e, GROK_ENOMEM, "out of memory for a minibatch of %d examples", r->batch);
    if ((rc = measure_live_init(&r->meas, &r->model, &r->task, NULL, e)) != GROK_OK)
        return rc;
    r->meas_ready = 1;
    if (cfg_format(&r->cfg, &r->cfg_text) != GROK_OK ||
        run_core_text(&r->cfg, &r->core_text) != GROK_OK)
        return grok_fail(e, GROK_ENOMEM, "out of memory formatting the config");
    return GROK_OK;
}

static int run_state_tensor(const st_file *f, const char *path, const char *name, st_dtype dt,
                            int ndim, size_t numel, const void **data, grok_err *e);

/* A fork's origin that cannot serve is bad input: "init.from = 'X': why". */
static int run_fork_fail(const run_ctx *r, int rc, grok_err *e)
{
    if (rc == GROK_ENOMEM || strncmp(e->msg, "init.", 5) == 0)
        return rc;
    char why[sizeof e->msg];
    snprintf(why, sizeof why, "%s", e->msg);
    return grok_fail(e, GROK_EINVAL, "init.from = '%s': %s", r->cfg.init.from, why);
}

/* init.from = "RUN[@EPOCH]": the weights of RUN's checkpoint at EPOCH (by
 * default its last commit), shapes checked tensor by tensor; with init.optim
 * also the optimizer's buffers and step from RUN's state, which exist only
 * at its last commit. */
static int run_fork(run_ctx *r, grok_err *e)
{
    char src[CFG_PATH_MAX], path[RUN_PATH_MAX];
    snprintf(src, sizeof src, "%s", r->cfg.init.from);
    long want = -1;
    char *at = strrchr(src, '@');
    if (at) {
        *at = '\0';
        want = strtol(at + 1, NULL, 10); /* digits only: cfg checked it */
    }
    st_file f;
    int rc = run_path(path, src, "state.safetensors", e);
    if (rc == GROK_OK && (rc = st_read(&f, path, e)) != GROK_OK)
        return run_fork_fail(r, rc, e);
    if (rc != GROK_OK)
        return rc;
    const void *epoch, *step;
    int64_t last = -1, stp = 0;
    if ((rc = run_state_tensor(&f, path, "epoch", ST_I64, 0, 1, &epoch, e)) == GROK_OK &&
        (rc = run_state_tensor(&f, path, "optim.step", ST_I64, 0, 1, &step, e)) == GROK_OK) {
        memcpy(&last, epoch, sizeof last);
        memcpy(&stp, step, sizeof stp);
        if (want < 0)
            want = (long)last;
        if (r->cfg.init.optim && want != last)
            rc = grok_fail(e, GROK_EINVAL,
                           "init.optim = true with init.from = '%s': the optimizer state of '%s' "
                           "is that of its last commit, epoch %ld, not %ld",
                           r->cfg.init.from, src, (long)last, want);
    }
    char name[64];
    run_ckpt_name(name, sizeof name, want);
    if (rc == GROK_OK && (rc = run_path(path, src, name, e)) == GROK_OK) {
        if (!fileio_exists(path))
            rc = grok_fail(e, GROK_EINVAL, "init.from = '%s': no checkpoint %s (epoch %ld)",
                           r->cfg.init.from, path, want);
        else
            rc = measure_load_checkpoint(r->model.tensors, r->model.n_tensors, r->model.params,
                                         path, NULL, e);
    }
    if (rc == GROK_OK && r->cfg.init.optim) {
        /* the optimizer's buffers the two runs share; the rest start fresh */
        statebuf_list bufs = {0};
        optim_state_buffers(&r->tr.opt, &bufs);
        for (int i = 0; i < bufs.n; i++) {
            const st_tensor *t = st_find(&f, bufs.b[i].name);
            if (t && t->dtype == ST_F32 && st_tensor_numel(t) == bufs.b[i].n)
                memcpy(bufs.b[i].data, t->data, bufs.b[i].n * sizeof(float));
        }
        r->tr.opt.step = (long)stp;
    }
    st_file_free(&f);
    if (rc != GROK_OK)
        return run_fork_fail(r, rc, e);
    sbuf_printf(&r->log, "initialised from %s, epoch %ld%s\n", src, want,
                r->cfg.init.optim ? ", with its optimizer state" : "");
    return GROK_OK;
}

static int run_init_params(run_ctx *r, grok_err *e)
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

/* Takes an exclusive lock on the run directory for this process's lifetime,
 * so two processes never write one run. */
static int run_lock(run_ctx *r, grok_err *e)
{
    r->lock_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->lock_fd < 0)
        return grok_fail(e, GROK_EIO, "cannot open run directory '%s': %s", r->dir,
                         strerror(errno));
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EWOULDBLOCK)
            return grok_fail(e, GROK_EINVAL,
                             "'%s' is in use by another grok process; wait for it to end", r->dir);
        return grok_fail(e, GROK_EIO, "cannot lock run directory '%s': %s", r->dir, strerror(err));
    }
    return GROK_OK;
}

/* Removes temporary files ("NAME.tmp.PID") that a killed writer left in dir. */
static void run_remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[RUN_PATH_MAX];
    while ((de = readdir(d)) != NULL) {
        if (!strstr(de->d_name, ".tmp."))
            continue;
        if (run_path(path, dir, de->d_name, NULL) == GROK_OK)
            unlink(path);
    }
    closedir(d);
}

static int run_append_row(run_ctx *r, const double row[RUN_METRICS_COLS], grok_err *e)
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

static const double *run_last_row(const run_ctx *r)
{
    return r->n_rows ? r->hist + (r->n_rows - 1) * RUN_METRICS_COLS : NULL;
}

/* First eval epochs at which train / test accuracy reached RUN_SOLVED_ACC. */
static void run_solved_epochs(const double *hist, size_t n_rows, long *memorised, long *grokked)
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

/* ---- files ------------------------------------------------------------- */

static int run_write_text(const run_ctx *r, const char *name, const sbuf *b, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, r->dir, name, e);
    if (rc != GROK_OK)
        return rc;
    if (b->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory building '%s'", path);
    return fileio_write_atomic(path, b->data ? b->data : "", b->len, e);
}

/* split.tsv, and the files that name the task's hidden structure: group.tsv
 * (the element numbering) for a group task, parity.tsv (the secret bits) for
 * a parity task. */
static int run_write_split(const run_ctx *r, grok_err *e)
{
    const task_data *t = &r->task;
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b, "index\t%s\tlabel\tsplit\n", task_operand_header(t));
    char ops[TASK_PARITY_N_MAX + 32];
    for (int i = 0; i < t->n_all; i++) {
        int32_t k = t->order[i];
        task_format_operands(t, k, ops, sizeof ops);
        sbuf_printf(&b, "%d\t%s\t%d\t%s\n", (int)k, ops, (int)t->label[k],
                    i < t->n_train ? "train" : "test");
    }
    int rc = run_write_text(r, "split.tsv", &b, e);
    if (rc == GROK_OK && (t->caps & TASK_CAP_GROUP)) {
        const group_data *g = &t->grp;
        sbuf_clear(&b);
        sbuf_puts(&b, "index\tpermutation\n");
        for (int x = 0; x < g->order; x++) {
            sbuf_printf(&b, "%d\t", x);
            for (int i = 0; i < g->n; i++)
                sbuf_printf(&b, i ? " %d" : "%d", (int)g->perm[(size_t)x * g->n + i]);
            sbuf_puts(&b, "\n");
        }
        rc = run_write_text(r, "group.tsv", &b, e);
    }
    if (rc == GROK_OK && t->cfg.kind == TASK_KIND_PARITY) {
        sbuf_clear(&b);
        sbuf_printf(&b, "n\tk\tsecret\n%d\t%d\t", t->cfg.n_bits, t->n_secret);
        for (int i = 0; i < t->n_secret; i++)
            sbuf_printf(&b, i ? ",%d" : "%d", t->secret[i]);
        sbuf_puts(&b, "\n");
        rc = run_write_text(r, "parity.tsv", &b, e);
    }
    sbuf_free(&b);
    return rc;
}

static int run_write_metrics(const run_ctx *r, grok_err *e)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_puts(&b, RUN_METRICS_HEADER "\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        const double *row = r->hist + i * RUN_METRICS_COLS;
        sbuf_printf(&b, "%ld\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.3f\n", (long)row[COL_EPOCH],
                    row[COL_LR], row[COL_TRAIN_LOSS], row[COL_TEST_LOSS], row[COL_TRAIN_ACC],
                    row[COL_TEST_ACC], row[COL_ELAPSED]);
    }
    int rc = run_write_text(r, "metrics.tsv", &b, e);
    sbuf_free(&b);
    return rc;
}

/* The weights after `ep` epochs: one F32 tensor per parameter-table entry,
 * in table order, so the data section is the parameter buffer itself. */
static int run_write_checkpoint(const run_ctx *r, long ep, grok_err *e)
{
    const model *m = &r->model;
    st_tensor *t = calloc((size_t)m->n_tensors, sizeof *t);
    if (!t)
        return grok_fail(e, GROK_ENOMEM, "out of memory writing a checkpoint");
    for (int i = 0; i < m->n_tensors; i++) {
        const param_tensor *tt = &m->tensors[i];
        t[i].name = tt->name;
        t[i].dtype = ST_F32;
        t[i].ndim = tt->ndim;
        for (int d = 0; d < tt->ndim; d++)
            t[i].shape[d] = tt->shape[d];
        t[i].data = m->params + tt->offset;
    }
    /* metadata: the format, the epoch, the family, the transformer's
     * hyperparameters under their TransformerLens names, the task, the config */
    char num[16][32];
    st_meta meta[24];
    int n = 0, k = 0;
#define META_STR(key, val) (meta[n++] = (st_meta){key, val})
#define META_INT(key, val) (snprintf(num[k], sizeof num[k], "%ld", (long)(val)), META_STR(key, num[k++]))
    META_STR("format", RUN_CKPT_FORMAT);
    META_INT("epoch", ep);
    META_STR("family", model_family_name(m->cfg.family));
    const tfm_model *tm = model_tfm(m);
    if (tm) {
        const tfm_config *mc = &tm->cfg;
        META_INT("n_layers", mc->n_layers);
        META_INT("d_model", mc->d_model);
        META_INT("n_heads", mc->n_heads);
        META_INT("d_head", mc->d_head);
        META_INT("d_mlp", mc->d_mlp);
        META_INT("d_vocab", mc->d_vocab);
        META_INT("d_vocab_out", mc->d_vocab_out);
        META_INT("n_ctx", mc->n_ctx);
        META_STR("act", tfm_act_name(mc->act));
        META_INT("layernorm", mc->layernorm);
        META_INT("attn_bias", mc->attn_bias);
    }
    META_STR("op", task_op_name(r->cfg.task.op));
    META_INT("p", r->cfg.task.p);
    META_STR("config", r->cfg_text.data);
#undef META_STR
#undef META_INT
    char name[64], path[RUN_PATH_MAX];
    run_ckpt_name(name, sizeof name, ep);
    int rc = run_path(path, r->dir, name, e);
    if (rc == GROK_OK)
        rc = st_write(path, t, m->n_tensors, meta, n, e);
    free(t);
    return rc;
}

/* The scalars and history a state holds besides the trainer's buffers. */
#define RUN_STATE_FIXED 4

static int run_write_state(run_ctx *r, long ep, const char *status, grok_err *e)
{
    int64_t step = r->tr.opt.step, epoch = ep;
    double elapsed = run_elapsed(r);
    statebuf_list bufs = {0};
    trainer_buffers(&r->tr, &bufs);
    /* 8-byte types first, so every tensor is aligned in the file; then the
     * trainer's buffers ("params", "optim.m", "optim.v", ...) in its order. */
    st_tensor t[RUN_STATE_FIXED + STATEBUF_LIST_MAX] = {
        {"epoch", ST_I64, 0, {0}, &epoch},
        {"optim.step", ST_I64, 0, {0}, &step},
        {"elapsed_s", ST_F64, 0, {0}, &elapsed},
        {"metrics", ST_F64, 2, {(int64_t)r->n_rows, RUN_METRICS_COLS},
         r->hist ? (const void *)r->hist : &elapsed},
    };
    for (int i = 0; i < bufs.n; i++)
        t[RUN_STATE_FIXED + i] =
            (st_tensor){bufs.b[i].name, ST_F32, 1, {(int64_t)bufs.b[i].n}, bufs.b[i].data};
    const st_meta meta[] = {
        {"format", RUN_STATE_FORMAT},
        {"status", status},
        {"metrics_columns", RUN_METRICS_HEADER},
        {"config", r->cfg_text.data},
        {"training_config", r->core_text.data},
    };
    char path[RUN_PATH_MAX];
    int rc = run_path(path, r->dir, "state.safetensors", e);
    if (rc != GROK_OK)
        return rc;
    return st_write(path, t, RUN_STATE_FIXED + bufs.n, meta, (int)(sizeof meta / sizeof meta[0]),
                    e);
}

static void run_json_num(sbuf *b, double x)
{
    if (isfinite(x))
        sbuf_printf(b, "%.9g", x);
    else
        sbuf_puts(b, "null");
}

static void run_json_epoch(sbuf *b, long ep)
{
    if (ep >= 0)
        sbuf_printf(b, "%ld", ep);
    else
        sbuf_puts(b, "null");
}

static int run_write_summary(const run_ctx *r, long ep, const char *status, grok_err *e)
{
    const double *last = run_last_row(r);
    double wall = run_elapsed(r);
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b, "{\n  \"format\": \"%s\",\n  \"version\": \"%s\",\n  \"status\": ",
                RUN_SUMMARY_FORMAT, GROK_VERSION);
    sbuf_json_string(&b, status);
    sbuf_printf(&b, ",\n  \"epochs_done\": %ld,\n  \"epochs_total\": %ld,\n", ep,
                r->cfg.train.epochs);
    sbuf_puts(&b, "  \"memorised_epoch\": ");
    run_json_epoch(&b, r->memorised);
    sbuf_puts(&b, ",\n  \"grokked_epoch\": ");
    run_json_epoch(&b, r->grokked);
    sbuf_puts(&b, ",\n  \"final\": ");
    if (last) {
        sbuf_printf(&b, "{\"epoch\": %ld, \"lr\": ", (long)last[COL_EPOCH]);
        run_json_num(&b, last[COL_LR]);
        sbuf_puts(&b, ", \"train_loss\": ");
        run_json_num(&b, last[COL_TRAIN_LOSS]);
        sbuf_puts(&b, ", \"test_loss\": ");
        run_json_num(&b, last[COL_TEST_LOSS]);
        sbuf_puts(&b, ", \"train_acc\": ");
        run_json_num(&b, last[COL_TRAIN_ACC]);
        sbuf_puts(&b, ", \"test_acc\": ");
        run_json_num(&b, last[COL_TEST_ACC]);
        sbuf_puts(&b, "}");
    } else {
        sbuf_puts(&b, "null");
    }
    sbuf_printf(&b, ",\n  \"seed\": %" PRIu64 ",\n  \"n_params\": %zu,\n", r->cfg.seed,
                r->model.n_params);
    sbuf_printf(&b, "  \"n_train\": %d,\n  \"n_test\": %d,\n", r->task.n_train, r->task.n_test);
    sbuf_puts(&b, "  \"wall_s\": ");
    run_json_num(&b, wall);
    sbuf_puts(&b, ",\n  \"ms_per_epoch\": ");
    run_json_num(&b, ep > 0 ? 1000.0 * wall / (double)ep : NAN);
    const blisarch_info *bi = r->opts ? r->opts->blis : NULL;
    if (bi) {
        sbuf_printf(&b, ",\n  \"threads\": %d,\n  \"blis_kernel\": ", bi->threads);
        sbuf_json_string(&b, bi->kernel);
        sbuf_puts(&b, ",\n  \"blis_kernel_source\": ");
        sbuf_json_string(&b, blisarch_source_name(bi->source));
        sbuf_printf(&b, ",\n  \"subnormals_flushed\": %s", bi->flush_denormals ? "true" : "false");
    } else {
        sbuf_puts(
            &b,
            ",\n  \"threads\": null,\n  \"blis_kernel\": null,\n  \"blis_kernel_source\": null");
    }
    if (r->measure_json.len > 0) {
        sbuf_puts(&b, ",\n");
        sbuf_puts(&b, r->measure_json.data);
    }
    sbuf_puts(&b, "\n}\n");
    int rc = run_write_text(r, "summary.json", &b, e);
    sbuf_free(&b);
    return rc;
}

/* The commit at epoch ep: metrics, checkpoint, state (the commit point),
 * summary, log. */
static int run_commit(run_ctx *r, long ep, const char *status, grok_err *e)
{
    int rc = run_write_metrics(r, e);
    if (rc == GROK_OK)
        rc = run_write_checkpoint(r, ep, e);
    if (rc == GROK_OK)
        rc = run_write_state(r, ep, status, e);
    if (rc != GROK_OK)
        return rc;
    r->last_commit = ep;
    rc = run_write_summary(r, ep, status, e);
    if (rc == GROK_OK)
        rc = run_write_text(r, "log.txt", &r->log, e);
    return rc;
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
        if (full) {
            int correct = 0;
            double loss = trainer_grad(&r->tr, t->train_tokens, t->train_labels, t->n_train,
                                       &correct);
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
        if (full)
            trainer_update(&r->tr);
        else if ((rc = run_minibatch_epoch(r, ep, e)) != GROK_OK)
            return rc;
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
        plot_cmd_after_run(r->dir, r->cfg.plots.formats, &notes);
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
        rc = run_final_measures(r, e);
        if (rc == GROK_OK)
            rc = run_write_text(r, "log.txt", &r->log, e);
    }
    run_ctx_free(r);
    return rc;
}

/* The rest of a train or resume once r is set up (rc: how the set-up went):
 * config.cfg and split.tsv written, the session logged, the loop run and the
 * run finished. */
static int run_session(run_ctx *r, int rc, const char *what, grok_err *e)
{
    char path[RUN_PATH_MAX];
    if (rc == GROK_OK && (rc = run_path(path, r->dir, "config.cfg", e)) == GROK_OK)
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
    return run_session(&r, rc, "training", e);
}

/* Fails unless f holds tensor name with dtype and numel elements (ndim
 * dimensions); on success *data points at it. */
static int run_state_tensor(const st_file *f, const char *path, const char *name, st_dtype dt,
                            int ndim, size_t numel, const void **data, grok_err *e)
{
    const st_tensor *t = st_find(f, name);
    if (!t)
        return grok_fail(e, GROK_EFORMAT, "%s: no tensor '%s'; the file is not a grok state",
                         path, name);
    if (t->dtype != dt || t->ndim != ndim || (numel != (size_t)-1 && st_tensor_numel(t) != numel))
        return grok_fail(e, GROK_EFORMAT,
                         "%s: tensor '%s' is %s with %d dimensions and %zu elements; expected %s "
                         "with %d and %zu (a state of another model?)",
                         path, name, st_dtype_name(t->dtype), t->ndim, st_tensor_numel(t),
                         st_dtype_name(dt), ndim, numel);
    *data = t->data;
    return GROK_OK;
}

/* Fails unless f holds every buffer of l, each F32 of its size. */
static int run_state_buffers(const st_file *f, const char *path, const statebuf_list *l,
                             grok_err *e)
{
    const void *data;
    int rc = GROK_OK;
    for (int i = 0; i < l->n && rc == GROK_OK; i++)
        rc = run_state_tensor(f, path, l->b[i].name, ST_F32, 1, l->b[i].n, &data, e);
    return rc;
}

/* Copies every buffer of l from f (checked by run_state_buffers). */
static void run_state_copy(const st_file *f, const statebuf_list *l)
{
    for (int i = 0; i < l->n; i++)
        memcpy(l->b[i].data, st_find(f, l->b[i].name)->data, l->b[i].n * sizeof(float));
}

/* Names the first line where a and b differ, into buf. */
static void run_first_diff(const char *a, const char *b, char *buf, size_t n)
{
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    snprintf(buf, n, "line %d: '%.*s' (config.cfg) vs '%.*s' (state)", line, na > 200 ? 200 : na,
             la, nb > 200 ? 200 : nb, lb);
}

/* Restores parameters, moments, step, epoch and history from the state. */
static int run_load_state(run_ctx *r, const char *path, const char **status, char *status_buf,
                          size_t status_n, double last_row[RUN_METRICS_COLS], grok_err *e)
{
    st_file f;
    int rc = st_read(&f, path, e);
    if (rc != GROK_OK)
        return rc;
    const char *fmt = st_meta_get(&f, "format");
    const char *core = st_meta_get(&f, "training_config");
    const char *st = st_meta_get(&f, "status");
    const void *step, *epoch, *elapsed, *hist;
    statebuf_list bufs = {0};
    trainer_buffers(&r->tr, &bufs);
    if (!fmt || strcmp(fmt, RUN_STATE_FORMAT) != 0) {
        rc = grok_fail(e, GROK_EFORMAT, "%s: format '%s', expected '%s'", path,
                       fmt ? fmt : "(none)", RUN_STATE_FORMAT);
    } else if (!core || strcmp(core, r->core_text.data) != 0) {
        char diff[600] = "no training_config in the state";
        if (core)
            run_first_diff(r->core_text.data, core, diff, sizeof diff);
        rc = grok_fail(e, GROK_EINVAL,
                       "%s/config.cfg differs from the config this run was trained with (%s); "
                       "resuming would not continue the same run. Only these keys may change: "
                       "train.epochs, train.stop_test_acc, train.eval_every, checkpoint.*, "
                       "measures.every, plots.formats",
                       r->dir, diff);
    } else if ((rc = run_state_buffers(&f, path, &bufs, e)) == GROK_OK &&
               (rc = run_state_tensor(&f, path, "optim.step", ST_I64, 0, 1, &step, e)) == GROK_OK &&
               (rc = run_state_tensor(&f, path, "epoch", ST_I64, 0, 1, &epoch, e)) == GROK_OK &&
               (rc = run_state_tensor(&f, path, "elapsed_s", ST_F64, 0, 1, &elapsed, e)) ==
                   GROK_OK &&
               (rc = run_state_tensor(&f, path, "metrics", ST_F64, 2, (size_t)-1, &hist, e)) ==
                   GROK_OK) {
        const st_tensor *ht = st_find(&f, "metrics");
        int64_t ep, stp;
        memcpy(&ep, epoch, sizeof ep);
        memcpy(&stp, step, sizeof stp);
        if (ht->shape[1] != RUN_METRICS_COLS || ep < 0 || stp < 0) {
            rc = grok_fail(e, GROK_EFORMAT, "%s: bad metrics shape or negative epoch/step", path);
        } else {
            run_state_copy(&f, &bufs);
            r->tr.opt.step = (long)stp;
            r->epoch = (long)ep;
            r->last_commit = (long)ep;
            memcpy(&r->elapsed_base, elapsed, sizeof(double));
            const double *h = hist;
            /* Rows of epochs >= the state's epoch are recomputed. */
            for (int64_t i = 0; i < ht->shape[0] && rc == GROK_OK; i++)
                if (h[i * RUN_METRICS_COLS + COL_EPOCH] < (double)ep)
                    rc = run_append_row(r, h + i * RUN_METRICS_COLS, e);
            if (ht->shape[0] > 0)
                memcpy(last_row, h + (ht->shape[0] - 1) * RUN_METRICS_COLS,
                       RUN_METRICS_COLS * sizeof(double));
            snprintf(status_buf, status_n, "%s", st ? st : "running");
            *status = status_buf;
        }
    }
    st_file_free(&f);
    return rc;
}

int run_resume(const char *dir, const char *const *sets, int n_sets, const run_opts *o,
               grok_err *e)
{
    for (int i = 0; i < n_sets; i++) {
        size_t klen = strcspn(sets[i], "=");
        while (klen > 0 && sets[i][klen - 1] == ' ')
            klen--;
        const char *k = sets[i];
        while (*k == ' ' && klen > 0) {
            k++;
            klen--;
        }
        int ok = 0;
        for (int j = 0; j < RUN_N_RESUMABLE && !ok; j++)
            ok = strlen(run_resumable_keys[j]) == klen &&
                 strncmp(run_resumable_keys[j], k, klen) == 0;
        if (!ok)
            return grok_fail(e, GROK_EINVAL,
                             "--set %s: '%.*s' cannot change when a run is resumed (it would not "
                             "be the same run); resumable keys: train.epochs, "
                             "train.stop_test_acc, train.eval_every, checkpoint.every, "
                             "checkpoint.every_early, checkpoint.early_until, measures.every, "
                             "plots.formats. Start a new run with 'grok train' instead",
                             sets[i], (int)klen, k);
    }
    char path[RUN_PATH_MAX];
    int rc = run_path(path, dir, "config.cfg", e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path))
        return grok_fail(e, GROK_EINVAL, "'%s' is not a run directory: it has no config.cfg", dir);
    cfg_run c;
    if ((rc = cfg_load(&c, path, sets, n_sets, e)) != GROK_OK)
        return rc;

    run_ctx r;
    if ((rc = run_build(&r, &c, dir, o, e)) != GROK_OK || (rc = run_lock(&r, e)) != GROK_OK) {
        run_ctx_free(&r);
        return rc;
    }
    const char *status = NULL;
    char status_buf[32];
    double stop_row[RUN_METRICS_COLS] = {-1, 0, 0, 0, 0, 0, 0};
    if ((rc = run_path(path, r.dir, "state.safetensors", e)) == GROK_OK) {
        if (fileio_exists(path))
            rc = run_load_state(&r, path, &status, status_buf, sizeof status_buf, stop_row, e);
        else
            rc = run_init_params(&r, e); /* killed before its first commit: start over */
    }
    if (rc == GROK_OK && r.epoch > c.train.epochs)
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: train.epochs = %ld is below the %ld epochs already done; pass "
                       "--epochs N with N >= %ld",
                       r.dir, c.train.epochs, r.epoch, r.epoch);
    if (rc != GROK_OK) {
        run_ctx_free(&r);
        return rc;
    }
    run_solved_epochs(r.hist, r.n_rows, &r.memorised, &r.grokked);
    /* Complete already: nothing to do, nothing written.  A run stopped by
     * train.stop_test_acc is complete while its last row still meets it. */
    double s = c.train.stop_test_acc;
    int complete = status && ((strcmp(status, "finished") == 0 && r.epoch == c.train.epochs) ||
                              (strcmp(status, "stopped") == 0 && stop_row[COL_EPOCH] == r.epoch &&
                               s > 0 && stop_row[COL_TEST_ACC] >= s));
    if (complete) {
        if (o && o->quiet) {
        } else if (strcmp(status, "stopped") == 0) {
            fprintf(stderr, "grok: %s is complete: stopped at epoch %ld by train.stop_test_acc = "
                            "%g; resume with --set train.stop_test_acc=0 to train further\n",
                    r.dir, r.epoch, s);
        } else {
            fprintf(stderr, "grok: %s is complete: %ld of %ld epochs; resume with --epochs N to "
                            "train further\n",
                    r.dir, r.epoch, c.train.epochs);
        }
        run_ctx_free(&r);
        return GROK_OK;
    }
    run_remove_stale_tmp(r.dir);
    if (run_path(path, r.dir, "checkpoints", e) == GROK_OK) {
        run_remove_stale_tmp(path);
        rc = fileio_mkdir_p(path, e);
    }
    char *old_log = NULL;
    size_t old_n = 0;
    if (rc == GROK_OK && run_path(path, r.dir, "log.txt", e) == GROK_OK && fileio_exists(path) &&
        fileio_read_all(path, &old_log, &old_n, NULL) == GROK_OK) {
        sbuf_append(&r.log, old_log, old_n);
        free(old_log);
    }
    return run_session(&r, rc, status ? "resuming" : "restarting (no state yet)", e);
}

/* ---- info -------------------------------------------------------------- */

static int run_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int run_info(const char *dir, sbuf *out, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, dir, "config.cfg", e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path))
        return grok_fail(e, GROK_EINVAL, "'%s' is not a run directory: it has no config.cfg", dir);
    cfg_run c;
    if ((rc = cfg_load(&c, path, NULL, 0, e)) != GROK_OK)
        return rc;
    task_data t;
    if ((rc = task_init(&t, &c.task, c.seed, e)) != GROK_OK)
        return rc;
    const tfm_config *mc = &c.model;
    sbuf_printf(out, "run          %s\n", dir);
    char task[128], frac[48] = "";
    task_describe(&c.task, task, sizeof task);
    if (!(t.caps & TASK_CAP_SAMPLED))
        snprintf(frac, sizeof frac, ", frac_train %g", c.task.frac_train);
    sbuf_printf(out, "task         %s%s: %d train / %d test examples; seed %" PRIu64 "\n", task,
                frac, t.n_train, t.n_test, c.seed);
    task_free(&t);
    sbuf_printf(out,
                "model        %d layer%s, d_model %d, %d heads x d_head %d, d_mlp %d, %s, %s%s\n",
                mc->n_layers, mc->n_layers == 1 ? "" : "s", mc->d_model, mc->n_heads, mc->d_head,
                mc->d_mlp, tfm_act_name(mc->act), mc->layernorm ? "layernorm" : "no layernorm",
                mc->attn_bias ? ", attention biases" : "");
    sbuf_printf(out, "optim        %s, lr %g, weight_decay %g, betas (%g, %g), warmup %ld\n",
                optim_kind_name(c.optim.kind), c.optim.lr, c.optim.weight_decay, c.optim.beta1,
                c.optim.beta2, c.optim.warmup);
    char batch[32] = "full batch";
    if (c.train.batch > 0)
        snprintf(batch, sizeof batch, "batch %ld", c.train.batch);
    sbuf_printf(out, "train        %ld epochs, %s, eval every %ld\n", c.train.epochs, batch,
                c.train.eval_every);

    /* State: progress and history. */
    if ((rc = run_path(path, dir, "state.safetensors", e)) != GROK_OK)
        return rc;
    if (!fileio_exists(path)) {
        sbuf_printf(out, "status       no state.safetensors yet (stopped before its first "
                         "checkpoint); 'grok resume %s' starts it\n",
                    dir);
    } else {
        st_file f;
        if ((rc = st_read(&f, path, e)) != GROK_OK)
            return rc;
        const st_tensor *te = st_find(&f, "epoch"), *th = st_find(&f, "metrics"),
                        *tw = st_find(&f, "elapsed_s");
        const char *st = st_meta_get(&f, "status");
        if (!te || te->dtype != ST_I64 || !th || th->dtype != ST_F64 || th->ndim != 2 ||
            th->shape[1] != RUN_METRICS_COLS || !tw || tw->dtype != ST_F64) {
            st_file_free(&f);
            return grok_fail(e, GROK_EFORMAT, "%s: not a grok state (tensors epoch, metrics, "
                                              "elapsed_s missing or malformed)", path);
        }
        int64_t ep;
        double wall;
        memcpy(&ep, te->data, sizeof ep);
        memcpy(&wall, tw->data, sizeof wall);
        size_t n_rows = (size_t)th->shape[0];
        const double *h = th->data;
        long mem, grk;
        run_solved_epochs(h, n_rows, &mem, &grk);
        rundir_summary sum = {NULL};
        rundir_summary_read(&sum, dir, NULL); /* absent or unreadable: nothing from it */
        const char *sstatus = rundir_summary_str(&sum, "status"),
                   *kernel = rundir_summary_str(&sum, "blis_kernel");
        long threads = rundir_summary_epoch(&sum, "threads");
        if (sstatus && strcmp(sstatus, "diverged") == 0) /* summary.json is newer than the state */
            sbuf_printf(out, "status       diverged: the loss became non-finite at epoch %ld (see "
                             "log.txt); last good state: epoch %" PRId64 " of %ld\n",
                        rundir_summary_epoch(&sum, "epochs_done"), ep, c.train.epochs);
        else if (st && strcmp(st, "running") == 0)
            sbuf_printf(out,
                        "status       incomplete: %" PRId64 " of %ld epochs done; 'grok resume "
                        "%s' continues it\n",
                        ep, c.train.epochs, dir);
        else
            sbuf_printf(out, "status       %s: %" PRId64 " of %ld epochs done\n", st ? st : "?", ep,
                        c.train.epochs);
        if (mem >= 0)
            sbuf_printf(out, "memorised    epoch %ld (train acc >= %.2f)\n", mem, RUN_SOLVED_ACC);
        else
            sbuf_printf(out, "memorised    not yet\n");
        if (grk >= 0)
            sbuf_printf(out, "grokked      epoch %ld (test acc >= %.2f)\n", grk, RUN_SOLVED_ACC);
        else
            sbuf_printf(out, "grokked      not yet\n");
        if (n_rows) {
            const double *l = h + (n_rows - 1) * RUN_METRICS_COLS;
            sbuf_printf(
                out,
                "last eval    epoch %ld: train loss %.4g acc %.2f%%, test loss %.4g acc %.2f%%\n",
                (long)l[COL_EPOCH], l[COL_TRAIN_LOSS], 100 * l[COL_TRAIN_ACC], l[COL_TEST_LOSS],
                100 * l[COL_TEST_ACC]);
        }
        sbuf_printf(out, "wall time    %.1f s", wall);
        if (ep > 0)
            sbuf_printf(out, " (%.3f ms/epoch)", 1000.0 * wall / (double)ep);
        if (threads >= 0)
            sbuf_printf(out, ", %ld thread%s, BLIS %s", threads, threads != 1 ? "s" : "",
                        kernel ? kernel : "?");
        sbuf_puts(out, "\n");
        rundir_summary_free(&sum);
        st_file_free(&f);
    }

    /* Checkpoints. */
    long *ckpt = NULL;
    int n_ckpt = 0;
    if (rundir_ckpt_list(dir, &ckpt, &n_ckpt, NULL) == GROK_OK && n_ckpt > 0)
        sbuf_printf(out, "checkpoints  %d (epochs %ld .. %ld) in %s/checkpoints\n", n_ckpt, ckpt[0],
                    ckpt[n_ckpt - 1], dir);
    else
        sbuf_printf(out, "checkpoints  none\n");
    free(ckpt);

    /* Files. */
    DIR *d = opendir(dir);
    if (!d)
        return grok_fail(e, GROK_EIO, "cannot list '%s': %s", dir, strerror(errno));
    char *names[256];
    int n_names = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n_names < 256) {
        if (de->d_name[0] == '.')
            continue;
        names[n_names] = strdup(de->d_name);
        if (names[n_names])
            n_names++;
    }
    closedir(d);
    qsort(names, (size_t)n_names, sizeof names[0], run_name_cmp);
    sbuf_puts(out, "files       ");
    for (int i = 0; i < n_names; i++) {
        struct stat st;
        if (run_path(path, dir, names[i], NULL) == GROK_OK && stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                sbuf_printf(out, " %s/", names[i]);
            else if (st.st_size >= 1 << 20)
                sbuf_printf(out, " %s (%.1f MB)", names[i], (double)st.st_size / (1 << 20));
            else
                sbuf_printf(out, " %s (%.1f kB)", names[i], (double)st.st_size / 1024);
        }
        free(names[i]);
    }
    sbuf_puts(out, "\n");
    if (out->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory describing '%s'", dir);
    return GROK_OK;
}

/* `grok measure DIR`: the measures recomputed from the checkpoints, and the
 * measure members of summary.json ("fourier", "key_freqs", "phases", always
 * last) replaced. */
int run_remeasure(const char *dir, int jobs, int quiet, grok_err *e)
{
    const double t0 = progress_now();
    measure_result res;
    int rc = measure_run_dir_result(dir, jobs, &res, e);
    if (rc != GROK_OK)
        return rc;
    char path[RUN_PATH_MAX];
    if ((rc = run_path(path, dir, "summary.json", e)) != GROK_OK)
        return rc;
    char *old = NULL;
    size_t n = 0;
    if (fileio_read_all(path, &old, &n, NULL) == GROK_OK) {
        char *cut = strstr(old, ",\n  \"fourier\":");
        if (!cut) {
            cut = strrchr(old, '}');
            while (cut && cut > old && (cut[-1] == '\n' || cut[-1] == ' '))
                cut--;
        }
        if (cut) {
            *cut = '\0';
            sbuf b;
            sbuf_init(&b);
            sbuf_puts(&b, old);
            sbuf_puts(&b, ",\n");
            measure_summary_json(&res, &b);
            sbuf_puts(&b, "\n}\n");
            rc = b.oom ? grok_fail(e, GROK_ENOMEM, "out of memory") :
                         fileio_write_atomic(path, b.data, b.len, e);
            sbuf_free(&b);
        }
        free(old);
    }
    if (rc == GROK_OK && !quiet)
        fprintf(stderr, "grok: measured %d checkpoints of %s (epochs %ld..%ld) in %.1f s\n",
                res.n_checkpoints, dir, res.first_epoch, res.last_epoch, progress_now() - t0);
    return rc;
}
