/* run_fork.c: init.from = "RUN[@EPOCH]" (`grok train --init-from`): a new
 * run's initial weights taken from another run's checkpoint, with
 * init.optim its optimizer state, and with init.split its split.tsv
 * (run_internal.h).  RUN may lack a state (a run made by grok import): then
 * only its weights (and split) are taken. */
#include "run_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "model.h"
#include "rundir.h"
#include "safetensors.h"
#include "trainer.h"

/* A fork's origin that cannot serve is bad input: "init.from = 'X': why". */
static int run_fork_fail(const run_ctx *r, int rc, grok_err *e)
{
    if (rc == GROK_ENOMEM || strncmp(e->msg, "init.", 5) == 0)
        return rc;
    char why[sizeof e->msg];
    snprintf(why, sizeof why, "%s", e->msg);
    return grok_fail(e, GROK_EINVAL, "init.from = '%s': %s", r->cfg.init.from, why);
}

/* init.from's run directory into src; its @EPOCH (-1 without one). */
static long run_fork_origin(const run_ctx *r, char src[CFG_PATH_MAX])
{
    snprintf(src, CFG_PATH_MAX, "%s", r->cfg.init.from);
    char *at = strrchr(src, '@');
    if (!at)
        return -1;
    *at = '\0';
    return strtol(at + 1, NULL, 10); /* digits only: cfg checked it */
}

int run_fork_split(run_ctx *r, grok_err *e)
{
    if (!r->cfg.init.split)
        return GROK_OK;
    char src[CFG_PATH_MAX], path[RUN_PATH_MAX];
    run_fork_origin(r, src);
    /* a resumed fork keeps the split it wrote (write-once, checked) */
    int rc = run_path(path, r->dir, RUNDIR_SPLIT, e);
    const char *from = rc == GROK_OK && fileio_exists(path) ? r->dir : src;
    if (rc == GROK_OK)
        rc = measure_split_read(&r->task, from, e);
    if (rc != GROK_OK)
        return from == src ? run_fork_fail(r, rc, e) : rc;
    sbuf_printf(&r->log, "split from %s/%s: %d training and %d test examples\n", from,
                RUNDIR_SPLIT, r->task.n_train, r->task.n_test);
    return GROK_OK;
}

/* init.from = "RUN[@EPOCH]": the weights of RUN's checkpoint at EPOCH (by
 * default its last commit), shapes checked tensor by tensor; with init.optim
 * also the optimizer's buffers and step from RUN's state, which exist only
 * at its last commit. */
int run_fork(run_ctx *r, grok_err *e)
{
    char src[CFG_PATH_MAX], path[RUN_PATH_MAX];
    long want = run_fork_origin(r, src);
    st_file f = {0};
    int rc = run_path(path, src, "state.safetensors", e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path)) {
        /* a run without a state (imported by grok import): its weights, from
         * its last checkpoint by default, and no optimizer state */
        long *ck = NULL;
        int n = 0;
        if ((rc = rundir_ckpt_list(src, &ck, &n, e)) != GROK_OK)
            return run_fork_fail(r, rc, e);
        if (want < 0 && n > 0)
            want = ck[n - 1];
        free(ck);
        if (n == 0)
            return run_fork_fail(r, grok_fail(e, GROK_EINVAL, "%s has no state.safetensors and no "
                                              "checkpoints", src), e);
        if (r->cfg.init.optim)
            return grok_fail(e, GROK_EINVAL,
                             "init.optim = true with init.from = '%s': '%s' has no "
                             "state.safetensors (an imported run has no optimizer state); fork "
                             "without init.optim",
                             r->cfg.init.from, src);
    } else if ((rc = st_read(&f, path, e)) != GROK_OK) {
        return run_fork_fail(r, rc, e);
    }
    const void *epoch, *step;
    int64_t last = -1, stp = 0;
    if (f.bytes &&
        (rc = run_state_tensor(&f, path, "epoch", ST_I64, 0, 1, &epoch, e)) == GROK_OK &&
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
        /* every buffer of the training step but the weights (just loaded)
         * and the decay origin (the fork's start, set by trainer_start): the
         * optimizer's moments and the filters' buffers, whose meaning
         * depends on the step count taken with them */
        statebuf_list bufs = {0};
        trainer_buffers(&r->tr, &bufs);
        for (int i = 0; i < bufs.n && rc == GROK_OK; i++) {
            const statebuf *b = &bufs.b[i];
            if (strcmp(b->name, "params") == 0 || strcmp(b->name, "optim.origin") == 0)
                continue;
            const st_tensor *t = st_find(&f, b->name);
            if (!t || t->dtype != ST_F32 || st_tensor_numel(t) != b->n)
                rc = grok_fail(e, GROK_EINVAL,
                               "init.optim = true with init.from = '%s': the state of '%s' has no "
                               "'%s' of %zu floats (it was trained with other filters or "
                               "optimizer); fork without init.optim, or with its settings",
                               r->cfg.init.from, src, b->name, b->n);
            else
                memcpy(b->data, t->data, b->n * sizeof(float));
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
