/* run_resume.c: `grok resume DIR` (run.h: run_resume): reading a run's
 * state.safetensors back (parameters, optimizer buffers, step, epoch, the
 * metrics history), the rule that only resumable keys may change (the key
 * table's flag: cfg_key_resumable, cfg.h; the state's training_config must
 * match), and the continued session (run_loop.c).  A run killed before its
 * first commit starts over; a complete run is left as it is. */
#include "run_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gp.h"
#include "plot_cmd.h"
#include "rundir.h"
#include "safetensors.h"
#include "trainer.h"

/* A complete run whose end a kill interrupted: the final measures (summary.json
 * without "phases") and the figures (plots.formats set, no figures/index.tsv,
 * which the drawing writes last) are done now, and the temporary files the
 * killed writers left are removed.  Nothing else is touched. */
static int run_finish_end(run_ctx *r, const run_opts *o, grok_err *e)
{
    rundir_summary sum = {NULL};
    grok_err e2 = {{0}};
    int read = rundir_summary_read(&sum, r->dir, &e2);
    const char *st = read == 1 ? rundir_summary_str(&sum, "status") : NULL;
    int need_measures = !(read == 1 && (rundir_summary_get(&sum, "phases") ||
                                        (st && strcmp(st, "diverged") == 0)));
    rundir_summary_free(&sum);
    char figs[RUN_PATH_MAX], sub[RUN_PATH_MAX];
    int rc = run_path(figs, r->dir, RUNDIR_FIGURES, e);
    if (rc != GROK_OK)
        return rc;
    int need_figures = r->cfg.plots.formats[0] && !rundir_has(r->dir, RUNDIR_FIGURE_INDEX);
    if (!need_measures && !need_figures)
        return GROK_OK;
    if (!(o && o->quiet))
        fprintf(stderr, "grok: %s: its training is complete but its end was interrupted; %s%s%s\n",
                r->dir, need_measures ? "measuring its checkpoints" : "",
                need_measures && need_figures ? " and " : "",
                need_figures ? "drawing its figures" : "");
    run_remove_stale_tmp(r->dir);
    if (need_measures) {
        const int jobs = o && o->blis ? o->blis->threads : 0;
        if ((rc = run_remeasure(r->dir, jobs > 0 ? jobs : 1, 1, e)) != GROK_OK)
            return rc;
    }
    if (need_figures) {
        static const char *const subs[] = {"", "/tex", "/src"};
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
            int n = snprintf(sub, sizeof sub, "%s%s", figs, subs[i]);
            if (n > 0 && (size_t)n < sizeof sub) {
                gp_remove_stale(sub);
                run_remove_stale_tmp(sub);
            }
        }
        sbuf notes;
        sbuf_init(&notes);
        plot_style style;
        cfg_plot_style(&r->cfg, &style);
        plot_cmd_after_run(r->dir, r->cfg.plots.formats, &style, &notes);
        if (notes.len > 0 && !(o && o->quiet))
            fputs(notes.data, stderr);
        sbuf_free(&notes);
    }
    return GROK_OK;
}

/* 1 when a state's training_config that differs from this build's text is
 * the same config read with this build's defaults for the keys it lacks: a
 * state written by a build that preceded those keys (new keys are off by
 * default, so its run continues unchanged). */
static int run_same_core(const run_ctx *r, const char *core)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/grok-core-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t n = strlen(core);
    int ok = write(fd, core, n) == (ssize_t)n;
    close(fd);
    cfg_run c;
    grok_err e;
    sbuf t;
    sbuf_init(&t);
    ok = ok && cfg_load(&c, path, NULL, 0, &e) == GROK_OK && run_core_text(&c, &t) == GROK_OK &&
         t.data && strcmp(t.data, r->core_text.data) == 0;
    unlink(path);
    sbuf_free(&t);
    return ok;
}

/* Fails unless f holds tensor name with dtype and numel elements (ndim
 * dimensions); on success *data points at it. */
int run_state_tensor(const st_file *f, const char *path, const char *name, st_dtype dt,
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
    } else if (!core || (strcmp(core, r->core_text.data) != 0 && !run_same_core(r, core))) {
        sbuf diff, keys;
        sbuf_init(&diff);
        sbuf_init(&keys);
        if (core) {
            sbuf_puts(&diff, "config.cfg vs the state, ");
            sbuf_first_diff(&diff, r->core_text.data, core);
        } else {
            sbuf_puts(&diff, "no training_config in the state");
        }
        cfg_list_resumable(&keys);
        rc = grok_fail(e, GROK_EINVAL,
                       "%s/config.cfg differs from the config this run was trained with (%s); "
                       "resuming would not continue the same run. Only these keys may change: "
                       "%s",
                       r->dir, diff.data ? diff.data : "", keys.data ? keys.data : "");
        sbuf_free(&diff);
        sbuf_free(&keys);
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

/* Without a state, resume starts over; that is allowed only when it writes
 * the same bytes as the files already there: no checkpoint, or the single
 * checkpoint that a run killed between its first checkpoint and its first
 * state leaves, written with this config up to resumable keys (the commit then checks the
 * weights: run_files.c, written once; split.tsv is checked the same way). */
static int run_restart_ok(const run_ctx *r, grok_err *e)
{
    long *ck = NULL;
    int n = 0, ok = 1;
    if (rundir_ckpt_list(r->dir, &ck, &n, NULL) != GROK_OK || n == 0) {
        free(ck);
        return GROK_OK;
    }
    char name[64], path[RUN_PATH_MAX];
    /* a run made by grok import: weights without an optimizer state */
    run_ckpt_name(name, sizeof name, ck[n - 1]);
    if (run_path(path, r->dir, name, NULL) == GROK_OK) {
        st_file f = {0};
        const int imported = st_read(&f, path, NULL) == GROK_OK &&
                             st_meta_get(&f, "imported_from") != NULL;
        st_file_free(&f);
        if (imported) {
            const long last = ck[n - 1];
            free(ck);
            return grok_fail(e, GROK_EINVAL,
                             "%s was made by grok import from weights trained elsewhere: it has "
                             "no optimizer state, so it cannot be resumed. To train on from its "
                             "weights: grok train %s/config.cfg --init-from %s@%ld --out NEWDIR",
                             r->dir, r->dir, r->dir, last);
        }
    }
    run_ckpt_name(name, sizeof name, ck[0]);
    if (n > 1) {
        ok = 0;
    } else if (run_path(path, r->dir, name, NULL) == GROK_OK) {
        st_file f = {0};
        const char *cfg = NULL;
        ok = st_read(&f, path, NULL) == GROK_OK && (cfg = st_meta_get(&f, "config")) != NULL &&
             r->cfg_text.data && (strcmp(cfg, r->cfg_text.data) == 0 || run_same_core(r, cfg));
        st_file_free(&f);
    }
    long last = ck[n - 1];
    free(ck);
    if (ok)
        return GROK_OK;
    return grok_fail(e, GROK_EINVAL,
                     "%s has %d checkpoint%s (epochs up to %ld) but no state.safetensors: it is "
                     "not a run that resume can continue bit for bit, and resume never "
                     "overwrites checkpoints or split.tsv. To train on from those weights: "
                     "grok train %s/config.cfg --init-from %s@%ld --out NEWDIR; or start "
                     "afresh in a new directory",
                     r->dir, n, n == 1 ? "" : "s", last, r->dir, r->dir, last);
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
        char key[64];
        int ok = klen < sizeof key;
        if (ok) {
            memcpy(key, k, klen);
            key[klen] = '\0';
            ok = cfg_key_resumable(key);
        }
        if (!ok) {
            sbuf keys;
            sbuf_init(&keys);
            cfg_list_resumable(&keys);
            int rc = grok_fail(e, GROK_EINVAL,
                               "--set %s: '%.*s' cannot change when a run is resumed (it would "
                               "not be the same run); resumable keys: %s. Start a new run with "
                               "'grok train' instead",
                               sets[i], (int)klen, k, keys.data ? keys.data : "");
            sbuf_free(&keys);
            return rc;
        }
    }
    char path[RUN_PATH_MAX];
    int rc = run_path(path, dir, "config.cfg", e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path))
        return grok_fail(e, GROK_EINVAL, "'%s' is not a run directory: it has no config.cfg", dir);
    int unchecked = 0;
    if ((rc = run_verify_use(dir, &unchecked, e)) != GROK_OK)
        return rc;
    if (unchecked > 0 && !(o && o->quiet))
        fprintf(stderr, "grok: note: %d file%s of %s carr%s no checksum (written before "
                        "checksums); accepted\n",
                unchecked, unchecked == 1 ? "" : "s", dir, unchecked == 1 ? "ies" : "y");
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
        else if ((rc = run_restart_ok(&r, e)) == GROK_OK)
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
        rc = run_finish_end(&r, o, e);
        if (rc != GROK_OK) {
            run_ctx_free(&r);
            return rc;
        }
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
    return run_session(&r, rc, n_sets > 0,
                       status ? "resuming" : "restarting from scratch (no state yet; this "
                                             "writes the same bytes as before)",
                       e);
}
