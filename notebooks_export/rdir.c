/* rdir.c: a run directory and a sweep directory gathered for the exports
 * (rdir.h), through model/rundir.h's readers.
 *
 * metrics.tsv must hold numeric epoch, train_loss, test_loss, train_acc and
 * test_acc columns; the other tables are taken as they are (extra columns
 * are kept, unknown ones ignored by the callers), so new columns in later
 * versions do not break an export. */
#include "rdir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* dir's copy, real path and the real path's last component. */
static int rdir_names(const char *dir, char **copy, char **real, char **name, grok_err *e)
{
    *copy = strdup(dir);
    *real = *copy ? realpath(dir, NULL) : NULL;
    if (*copy && !*real)
        return grok_fail(e, GROK_EIO, "realpath %s: %s", dir, strerror(errno));
    const char *base = *real ? strrchr(*real, '/') : NULL;
    base = base && base[1] ? base + 1 : *real;
    if (!*copy || !(*name = strdup(base)))
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    return GROK_OK;
}

/* GROK_EINVAL unless dir is a directory; `kind` names what it should be. */
static int rdir_is_dir(const char *dir, const char *kind, grok_err *e)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return grok_fail(e, errno == ENOENT || errno == ENOTDIR ? GROK_EINVAL : GROK_EIO,
                         "%s %s: %s", kind, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "%s is not a directory (expected a %s)", dir, kind);
    return GROK_OK;
}

static int rdir_list_ckpts(rdir *r, grok_err *e)
{
    int rc = rundir_ckpt_list(r->dir, &r->ckpt_epoch, &r->n_ckpt, e);
    if (rc == GROK_EINVAL)
        return grok_fail(e, GROK_EINVAL,
                         "%s is not a run directory: it has no checkpoints/ folder (a run "
                         "directory holds config.cfg, metrics.tsv and "
                         "checkpoints/epoch-NNNNNN.safetensors, as grok train writes them)",
                         r->dir);
    if (rc == GROK_OK && r->n_ckpt == 0)
        rc = grok_fail(e, GROK_EINVAL,
                       "%s has no checkpoints: %s/checkpoints holds no epoch-NNNNNN.safetensors "
                       "(was the run killed before its first checkpoint? grok resume %s "
                       "continues it)",
                       r->dir, r->dir, r->dir);
    if (rc == GROK_OK && !(r->ckpt_path = calloc((size_t)r->n_ckpt, sizeof *r->ckpt_path)))
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
    for (int i = 0; rc == GROK_OK && i < r->n_ckpt; i++) {
        char name[64];
        rundir_ckpt_name(name, sizeof name, r->ckpt_epoch[i]);
        if (!(r->ckpt_path[i] = rundir_join(r->dir, name)))
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    return rc;
}

/* A directory holding metrics.tsv (a run) */
static int rdir_keep_run(const char *path, const char *name)
{
    (void)name;
    return rundir_has(path, RUNDIR_METRICS);
}

void rdir_free(rdir *r)
{
    if (!r)
        return;
    free(r->dir);
    free(r->name);
    free(r->real);
    if (r->ckpt_path)
        rundir_list_free(r->ckpt_path, r->n_ckpt);
    free(r->ckpt_epoch);
    rundir_tsv_free(&r->metrics);
    rundir_tsv_free(&r->measures);
    rundir_tsv_free(&r->fourier_embed);
    rundir_summary_free(&r->summary);
    rundir_config_free(&r->config);
    rundir_list_free(r->figures, r->n_figures);
    rundir_tsv_free(&r->figure_index);
    memset(r, 0, sizeof *r);
}

static int rdir_not_run(const rdir *r, const char *missing, grok_err *e)
{
    return grok_fail(e, GROK_EINVAL,
                     "%s is not a run directory: it has no %s (a run directory holds config.cfg, "
                     "metrics.tsv and checkpoints/epoch-NNNNNN.safetensors, as grok train writes "
                     "them)%s",
                     r->dir, missing,
                     rundir_has(r->dir, RUNDIR_SWEEP_TABLE)
                         ? "; it holds sweep.tsv, so it is a sweep: only --to ipynb exports a "
                           "whole sweep"
                         : "");
}

int rdir_open(rdir *r, const char *dir, grok_err *e)
{
    GROK_ASSERT(r && dir);
    memset(r, 0, sizeof *r);
    int rc = rdir_is_dir(dir, "run directory", e);
    if (rc == GROK_OK)
        rc = rdir_names(dir, &r->dir, &r->real, &r->name, e);
    if (rc == GROK_OK && (rc = rundir_config_read(&r->config, dir, e)) == 0)
        rc = rdir_not_run(r, RUNDIR_CONFIG, e);
    if (rc > 0 && (rc = rundir_tsv_read(&r->metrics, dir, RUNDIR_METRICS, 0, e)) == 0)
        rc = rdir_not_run(r, RUNDIR_METRICS, e);
    if (rc > 0)
        rc = rundir_tsv_need(&r->metrics, rundir_metrics_cols, 5, e);
    if (rc == GROK_OK)
        rc = rdir_list_ckpts(r, e);
    if (rc == GROK_OK && (rc = rundir_tsv_read(&r->measures, dir, RUNDIR_MEASURES, 0, e)) >= 0)
        r->has_measures = rc, rc = GROK_OK;
    if (rc == GROK_OK &&
        (rc = rundir_tsv_read(&r->fourier_embed, dir, RUNDIR_FOURIER_EMBED, 0, e)) >= 0)
        r->has_fourier_embed = rc, rc = GROK_OK;
    if (rc == GROK_OK && (rc = rundir_summary_read(&r->summary, dir, e)) >= 0)
        r->has_summary = rc, rc = GROK_OK;
    if (rc == GROK_OK) {
        r->has_split = rundir_has(dir, RUNDIR_SPLIT);
        rc = rundir_list(dir, RUNDIR_FIGURES, rundir_keep_png, &r->figures, &r->n_figures, e);
    }
    if (rc == GROK_OK &&
        (rc = rundir_tsv_read(&r->figure_index, dir, RUNDIR_FIGURE_INDEX, 0, e)) >= 0)
        r->has_figure_index = rc, rc = GROK_OK;
    if (rc != GROK_OK)
        rdir_free(r);
    return rc;
}

int rdir_ckpt_index(const rdir *r, long epoch)
{
    for (int i = 0; i < r->n_ckpt; i++)
        if (r->ckpt_epoch[i] == epoch)
            return i;
    return -1;
}

void rdir_sweep_free(rdir_sweep *s)
{
    if (!s)
        return;
    free(s->dir);
    free(s->real);
    free(s->name);
    rundir_tsv_free(&s->table);
    rundir_list_free(s->runs, s->n_runs);
    rundir_list_free(s->figures, s->n_figures);
    rundir_tsv_free(&s->figure_index);
    memset(s, 0, sizeof *s);
}

int rdir_sweep_open(rdir_sweep *s, const char *dir, grok_err *e)
{
    GROK_ASSERT(s && dir);
    memset(s, 0, sizeof *s);
    int rc = rdir_is_dir(dir, "sweep directory", e);
    if (rc == GROK_OK)
        rc = rdir_names(dir, &s->dir, &s->real, &s->name, e);
    if (rc == GROK_OK && (rc = rundir_tsv_read(&s->table, dir, RUNDIR_SWEEP_TABLE, 0, e)) == 0)
        rc = grok_fail(e, GROK_EINVAL,
                       "%s is not a sweep directory: it has no sweep.tsv (nor the metrics.tsv of "
                       "a run)",
                       dir);
    if (rc > 0)
        rc = rundir_list(dir, NULL, rdir_keep_run, &s->runs, &s->n_runs, e);
    if (rc == GROK_OK)
        rc = rundir_list(dir, RUNDIR_FIGURES, rundir_keep_png, &s->figures, &s->n_figures, e);
    if (rc == GROK_OK &&
        (rc = rundir_tsv_read(&s->figure_index, dir, RUNDIR_FIGURE_INDEX, 0, e)) >= 0)
        s->has_figure_index = rc, rc = GROK_OK;
    if (rc != GROK_OK)
        rdir_sweep_free(s);
    return rc;
}
