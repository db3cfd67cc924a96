/* run_fork.c: init.from = "RUN[@EPOCH]" (`grok train --init-from`): a new
 * run's initial weights taken from another run's checkpoint, and with
 * init.optim its optimizer state (run_internal.h). */
#include "run_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "model.h"
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

/* init.from = "RUN[@EPOCH]": the weights of RUN's checkpoint at EPOCH (by
 * default its last commit), shapes checked tensor by tensor; with init.optim
 * also the optimizer's buffers and step from RUN's state, which exist only
 * at its last commit. */
int run_fork(run_ctx *r, grok_err *e)
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
