/* sweep_point.c: one point of a sweep (sweep.h): what its run directory
 * says (pending, partial, done), whether it needs work, and running it:
 * skipped when done with the sweep's config, else trained (run_train) or
 * continued (run_resume, with the sweep's values of the resumable keys). */
#include "sweep_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* ------------------------------------------------------------------------ */
/* a point's files */

/* A run's summary.json (root NULL when absent or not JSON). */
rundir_summary sweep_read_summary(const char *pdir)
{
    rundir_summary s = {NULL};
    rundir_summary_read(&s, pdir, NULL);
    return s;
}

/* The summary's status, or "". */
const char *sweep_status_of(const rundir_summary *s)
{
    const char *st = rundir_summary_str(s, "status");
    return st ? st : "";
}

static int sweep_final_status(const char *st)
{
    return strcmp(st, "finished") == 0 || strcmp(st, "stopped") == 0 ||
           strcmp(st, "diverged") == 0;
}

sweep_pt_state sweep_point_state(const char *pdir)
{
    rundir_summary sum = sweep_read_summary(pdir);
    if (!sum.root)
        return rundir_has(pdir, RUNDIR_CONFIG) ? SWEEP_PT_PARTIAL : SWEEP_PT_PENDING;
    const char *status = sweep_status_of(&sum);
    int done = sweep_final_status(status) &&
               (rundir_summary_get(&sum, "phases") || strcmp(status, "diverged") == 0);
    rundir_summary_free(&sum);
    /* figures owed: drawing writes figures/index.tsv last */
    if (done && !rundir_has(pdir, RUNDIR_FIGURE_INDEX)) {
        rundir_config c;
        grok_err e;
        char buf[64];
        if (rundir_config_read(&c, pdir, &e) == 1) {
            const char *f = rundir_config_text(&c, "plots.formats", buf, sizeof buf);
            done = !(f && f[0]);
            rundir_config_free(&c);
        }
    }
    return done ? SWEEP_PT_DONE : SWEEP_PT_PARTIAL;
}

/* 1 when pdir/config.cfg holds exactly cfg_format(c). */
static int sweep_same_config(const char *pdir, const cfg_run *c)
{
    char path[SWEEP_PATH_MAX];
    if (sweep_join(path, sizeof path, pdir, RUNDIR_CONFIG, NULL) != GROK_OK)
        return 0;
    char *old = NULL;
    size_t n = 0;
    if (!fileio_exists(path) || fileio_read_all(path, &old, &n, NULL) != GROK_OK)
        return 0;
    sbuf b;
    sbuf_init(&b);
    cfg_format(c, &b);
    int same = !b.oom && n == b.len && memcmp(old, b.data, n) == 0;
    sbuf_free(&b);
    free(old);
    return same;
}

/* The point needs no work: done, and with the sweep's config. */
int sweep_point_done(const sweep_spec *s, const char *dir, long i)
{
    char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
    cfg_run c;
    if (sweep_point_name(s, i, name, sizeof name) != GROK_OK ||
        sweep_join(pdir, sizeof pdir, dir, name, NULL) != GROK_OK ||
        sweep_point_config(s, i, &c, NULL) != GROK_OK)
        return 0;
    return sweep_point_state(pdir) == SWEEP_PT_DONE && sweep_same_config(pdir, &c);
}

int sweep_run_point(const sweep_spec *s, const char *dir, long i, const blisarch_info *bi,
                    int quiet, int *skipped, grok_err *e)
{
    if (skipped)
        *skipped = 0;
    char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX], path[SWEEP_PATH_MAX];
    if (sweep_point_name(s, i, name, sizeof name) != GROK_OK)
        return grok_fail(e, GROK_EINVAL, "point %ld: name too long", i);
    int rc = sweep_join(pdir, sizeof pdir, dir, name, e);
    if (rc != GROK_OK)
        return rc;
    cfg_run c;
    if ((rc = sweep_point_config(s, i, &c, e)) != GROK_OK)
        return rc;
    sweep_pt_state st = sweep_point_state(pdir);
    int same = sweep_same_config(pdir, &c);
    if (st == SWEEP_PT_DONE && same) {
        if (skipped)
            *skipped = 1;
        return GROK_OK;
    }
    run_opts o = {.quiet = quiet, .blis = bi};
    if ((rc = sweep_join(path, sizeof path, pdir, RUNDIR_STATE, e)) != GROK_OK)
        return rc;
    if (fileio_exists(path)) {
        /* the sweep's values of the resumable keys, one "key=value" a line */
        sbuf sets;
        sbuf_init(&sets);
        rc = cfg_format_resumable_sets(&c, &sets);
        const char **ptr = calloc(sets.len + 1, sizeof *ptr);
        int n = 0;
        if (rc != GROK_OK || !ptr) {
            rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        } else {
            for (char *line = sets.data, *nl; line && *line; line = nl + 1) {
                nl = strchr(line, '\n');
                *nl = '\0';
                ptr[n++] = line;
            }
            rc = run_resume(pdir, ptr, n, &o, e);
        }
        free(ptr);
        sbuf_free(&sets);
    } else if (same) {
        rc = run_resume(pdir, NULL, 0, &o, e); /* killed before its first commit */
    } else {
        rc = run_train(&c, pdir, &o, e);
    }
    rundir_summary sum = sweep_read_summary(pdir);
    char status[64];
    snprintf(status, sizeof status, "%s", sweep_status_of(&sum));
    int has_phases = rundir_summary_get(&sum, "phases") != NULL;
    rundir_summary_free(&sum);
    if (rc == GROK_EINVAL && strcmp(status, "diverged") == 0)
        return GROK_OK; /* a result: the table says diverged */
    if (rc != GROK_OK)
        return rc;
    /* Killed after the final commit but before the final measures: the
     * resume finds the run complete; the measures are still owed. */
    if (sweep_final_status(status) && strcmp(status, "diverged") != 0 && !has_phases)
        rc = run_remeasure(pdir, 1, 1, e);
    return rc;
}
