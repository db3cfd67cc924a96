/* run_files.c: the writers of the run-directory files (run_internal.h):
 * split.tsv (and group.tsv, parity.tsv), metrics.tsv, the checkpoints,
 * state.safetensors, summary.json, log.txt, the commit that writes them in
 * order; and the directory itself: paths, the lock, stale temporary files.
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
 * the model dimensions, "op", "p" and "config" (the resolved config text),
 * and for a run made by grok import "imported_from" (the source file); no
 * wall-clock time, so reruns write identical checkpoints.
 *
 * state.safetensors: "epoch" I64 [], "optim.step" I64 [], "elapsed_s" F64 [],
 * "metrics" F64 [rows, 7] (every row recorded so far, the row of "epoch"
 * itself included when that was an evaluation epoch; resume drops the rows of
 * epochs >= "epoch" and recomputes them), "params", "optim.m", "optim.v" F32
 * [n_params]; metadata "format" = "grok-state-1", "status" (running,
 * finished, stopped), "config" and "training_config" (the config with the
 * resumable keys set to their defaults: resume refuses a config.cfg whose
 * training_config differs).  No RNG state is needed (run_loop.c, Epochs).
 *
 * Checksums (docs/formats.md, "Checksums").  Checkpoints and the state carry
 * the CRC-32 of their data section in the metadata key "grok_crc32"
 * (safetensors.h; st_read checks it).  split.tsv, group.tsv and parity.tsv
 * are listed with their CRC-32 and size in manifest.tsv ("file crc32 bytes"),
 * written atomically after them.  config.cfg is not in the manifest: its
 * resumable keys may be edited by hand, and the rest is checked against the
 * state's training_config, which the state's checksum covers.
 *
 * Written once.  split.tsv, group.tsv, parity.tsv and the checkpoints are
 * never overwritten with other content: a file already holding what the run
 * would write is left as it is; one holding anything else stops the run
 * (GROK_EINVAL) with the way out (run_write_once).
 *
 * One process at a time: the run directory is flock'ed while a session runs
 * (run_lock), and a resumed session first removes the "*.tmp.*" files a
 * killed writer left behind (run_remove_stale_tmp). */
#include "run_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "model.h"
#include "rundir.h"
#include "safetensors.h"
#include "task.h"

/* ---- paths, the lock ----------------------------------------------------- */

int run_path(char *buf, const char *dir, const char *name, grok_err *e)
{
    int n = snprintf(buf, RUN_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= RUN_PATH_MAX)
        return grok_fail(e, GROK_EINVAL, "path too long: '%s/%s'", dir, name);
    return GROK_OK;
}

void run_ckpt_name(char *buf, size_t n, long ep)
{
    rundir_ckpt_name(buf, n, ep);
}

/* Takes an exclusive lock on the run directory for this process's lifetime,
 * so two processes never write one run. */
int run_lock(run_ctx *r, grok_err *e)
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
void run_remove_stale_tmp(const char *dir)
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

/* ---- files ------------------------------------------------------------- */

int run_write_text(const run_ctx *r, const char *name, const sbuf *b, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, r->dir, name, e);
    if (rc != GROK_OK)
        return rc;
    if (b->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory building '%s'", path);
    return fileio_write_atomic(path, b->data ? b->data : "", b->len, e);
}

/* b to r->dir/name unless the file is there already: holding b, it is left
 * as it is; holding anything else, it is never overwritten (GROK_EINVAL). */
static int run_write_once(const run_ctx *r, const char *name, const sbuf *b, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, r->dir, name, e);
    if (rc != GROK_OK || !fileio_exists(path))
        return rc == GROK_OK ? run_write_text(r, name, b, e) : rc;
    char *old = NULL;
    size_t n = 0;
    if ((rc = fileio_read_all(path, &old, &n, e)) != GROK_OK)
        return rc;
    int same = !b->oom && n == b->len && (n == 0 || memcmp(old, b->data, n) == 0);
    free(old);
    if (same)
        return GROK_OK;
    return grok_fail(e, GROK_EINVAL,
                     "%s exists and differs from the %s this config makes (another seed or "
                     "split, or a file from elsewhere); grok never overwrites it. Train into a "
                     "new directory: grok train %s/config.cfg --out NEWDIR",
                     path, name, r->dir);
}

/* manifest.tsv: "file crc32 bytes", one row per file of names[0..n) present
 * in r->dir, the CRC-32 (zlib) as 8 lowercase hex digits. */
static int run_write_manifest(const run_ctx *r, const char *const *names, int n, grok_err *e)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_puts(&b, RUNDIR_MANIFEST_HEADER "\n");
    int rc = GROK_OK;
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        char path[RUN_PATH_MAX], *data = NULL, crc[9];
        size_t len = 0;
        if ((rc = run_path(path, r->dir, names[i], e)) != GROK_OK || !fileio_exists(path))
            continue;
        if ((rc = fileio_read_all(path, &data, &len, e)) != GROK_OK)
            break;
        st_crc_text(crc, st_crc32_bytes(data, len));
        sbuf_printf(&b, "%s\t%s\t%zu\n", names[i], crc, len);
        free(data);
    }
    if (rc == GROK_OK)
        rc = run_write_text(r, RUNDIR_MANIFEST, &b, e);
    sbuf_free(&b);
    return rc;
}

/* split.tsv, and the files that name the task's hidden structure: group.tsv
 * (the element numbering) for a group task, parity.tsv (the secret bits) for
 * a parity task. */
int run_write_split(const run_ctx *r, grok_err *e)
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
    int rc = run_write_once(r, "split.tsv", &b, e);
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
        rc = run_write_once(r, "group.tsv", &b, e);
    }
    if (rc == GROK_OK && t->cfg.kind == TASK_KIND_PARITY) {
        sbuf_clear(&b);
        sbuf_printf(&b, "n\tk\tsecret\n%d\t%d\t", t->cfg.n_bits, t->n_secret);
        for (int i = 0; i < t->n_secret; i++)
            sbuf_printf(&b, i ? ",%d" : "%d", t->secret[i]);
        sbuf_puts(&b, "\n");
        rc = run_write_once(r, "parity.tsv", &b, e);
    }
    sbuf_free(&b);
    const char *const manifest[] = {"split.tsv", "group.tsv", "parity.tsv"};
    if (rc == GROK_OK)
        rc = run_write_manifest(r, manifest, 3, e);
    return rc;
}

int run_write_metrics(const run_ctx *r, grok_err *e)
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
int run_write_checkpoint(const run_ctx *r, long ep, grok_err *e)
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
    /* op and p for every kind: readers of older checkpoints expect them */
    META_STR("kind", task_kind_name(r->cfg.task.kind));
    META_STR("op", task_op_name(r->cfg.task.op));
    META_INT("p", r->cfg.task.p);
    META_STR("config", r->cfg_text.data);
    if (r->ckpt_note)
        META_STR("imported_from", r->ckpt_note);
    char crc[9];
    st_crc_text(crc, st_crc32(t, m->n_tensors));
    META_STR(ST_CRC_KEY, crc);
#undef META_STR
#undef META_INT
    char name[64], path[RUN_PATH_MAX];
    run_ckpt_name(name, sizeof name, ep);
    int rc = run_path(path, r->dir, name, e);
    if (rc == GROK_OK && fileio_exists(path)) {
        /* Written before (a kill between it and the state): kept when it
         * holds these weights, never overwritten when it holds others. */
        st_file f = {0};
        int same = st_read(&f, path, NULL) == GROK_OK && f.n_tensors == m->n_tensors;
        for (int i = 0; same && i < m->n_tensors; i++) {
            const st_tensor *o = st_find(&f, t[i].name);
            size_t nb = st_tensor_numel(&t[i]) * sizeof(float);
            same = o && o->dtype == ST_F32 && st_tensor_numel(o) == st_tensor_numel(&t[i]) &&
                   memcmp(o->data, t[i].data, nb) == 0;
        }
        st_file_free(&f);
        free(t);
        if (same)
            return GROK_OK;
        return grok_fail(e, GROK_EINVAL,
                         "%s exists and holds other weights than this run's at epoch %ld (a "
                         "checkpoint from elsewhere, or damaged); grok never overwrites it. To "
                         "train from it: grok train CONFIG --init-from %s@%ld --out NEWDIR; or "
                         "train into a new directory",
                         path, ep, r->dir, ep);
    }
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
    char crc[9];
    st_crc_text(crc, st_crc32(t, RUN_STATE_FIXED + bufs.n));
    const st_meta meta[] = {
        {"format", RUN_STATE_FORMAT},
        {"status", status},
        {"metrics_columns", RUN_METRICS_HEADER},
        {"config", r->cfg_text.data},
        {"training_config", r->core_text.data},
        {ST_CRC_KEY, crc},
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

int run_write_summary(const run_ctx *r, long ep, const char *status, grok_err *e)
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
    if (r->import_json) /* trained elsewhere: no training time */
        sbuf_puts(&b, r->import_json);
    sbuf_puts(&b, "  \"wall_s\": ");
    run_json_num(&b, r->import_json ? NAN : wall);
    sbuf_puts(&b, ",\n  \"ms_per_epoch\": ");
    run_json_num(&b, ep > 0 && !r->import_json ? 1000.0 * wall / (double)ep : NAN);
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
int run_commit(run_ctx *r, long ep, const char *status, grok_err *e)
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
