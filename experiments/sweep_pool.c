/* sweep_pool.c: running the points of a sweep (sweep_internal.h): the local
 * pool (one forked, single-threaded process per point, at most N at a time,
 * each dying with the parent), or the points one after another in this
 * process (an MPI rank, a SLURM array task); a line per finished point and
 * the progress line. */
#include "sweep_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* ------------------------------------------------------------------------ */
/* running */

static void sweep_line_clear(sweep_exec *x)
{
    if (x->line_open) {
        fputs("\r\033[K", stderr);
        x->line_open = 0;
    }
}

/* One line about point i that just ended after dur seconds. */
static void sweep_report_point(sweep_exec *x, long i, double dur, int ok)
{
    char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX], what[256];
    if (sweep_point_name(x->s, i, name, sizeof name) != GROK_OK ||
        sweep_join(pdir, sizeof pdir, x->dir, name, NULL) != GROK_OK)
        return;
    rundir_summary sum = {NULL};
    if (ok)
        sum = sweep_read_summary(pdir);
    char status[64], g[32] = "null", m[32] = "null", ed[32] = "?";
    snprintf(status, sizeof status, "%s", sweep_status_of(&sum));
    long gv = rundir_summary_epoch(&sum, "grokked_epoch");
    long mv = rundir_summary_epoch(&sum, "memorised_epoch");
    long ev = rundir_summary_epoch(&sum, "epochs_done");
    if (gv >= 0)
        snprintf(g, sizeof g, "%ld", gv);
    if (mv >= 0)
        snprintf(m, sizeof m, "%ld", mv);
    if (ev >= 0)
        snprintf(ed, sizeof ed, "%ld", ev);
    rundir_summary_free(&sum);
    if (!ok)
        snprintf(what, sizeof what, "FAILED (see the message above)");
    else if (strcmp(status, "diverged") == 0)
        snprintf(what, sizeof what, "diverged at epoch %s", ed);
    else if (strcmp(g, "null") != 0)
        snprintf(what, sizeof what, "grokked at epoch %s (memorised at %s)", g, m);
    else if (strcmp(status, "stopped") == 0)
        snprintf(what, sizeof what, "reached train.stop_test_acc at epoch %s (memorised at %s)",
                 ed, m);
    else if (strcmp(m, "null") != 0)
        snprintf(what, sizeof what, "memorised at %s, did not grok in %s epochs", m, ed);
    else
        snprintf(what, sizeof what, "neither memorised nor grokked in %s epochs", ed);
    char d[32];
    sweep_fmt_duration(d, sizeof d, dur);
    sweep_line_clear(x);
    fprintf(stderr, "grok: sweep: %s[%ld/%ld] %s: %s; %s\n", x->tag, x->n_done, x->n_total, name,
            what, d);
}

/* The progress line: done, running, left, time left. */
static void sweep_progress(sweep_exec *x, long running, long left, int jobs)
{
    char el[32], eta[32] = "?";
    double now = sweep_now();
    sweep_fmt_duration(el, sizeof el, now - x->t0);
    if (x->n_ran > 0 && jobs > 0)
        sweep_fmt_duration(eta, sizeof eta,
                           x->sum_dur / (double)x->n_ran * ((double)left + 0.5 * (double)running) /
                               (double)jobs);
    sweep_line_clear(x);
    fprintf(stderr,
            "%ssweep %s: %s%ld/%ld done, %ld running, %ld left; %s elapsed, about %s left%s",
            x->tty ? "" : "grok: ", x->s->name, x->tag, x->n_done, x->n_total, running, left, el,
            eta, x->tty ? "" : "\n");
    x->line_open = x->tty;
}

static void sweep_child(const sweep_exec *x, long i, pid_t parent)
{
#ifdef __linux__
    /* The child dies with the parent: a killed sweep leaves no run behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
#else
    (void)parent;
#endif
    blisarch_start(x->bi, 1);
    grok_err e = {{0}};
    int rc = sweep_run_point(x->s, x->dir, i, x->bi, 1, NULL, &e);
    if (rc != GROK_OK) {
        char name[SWEEP_PATH_MAX] = "?";
        sweep_point_name(x->s, i, name, sizeof name);
        fprintf(stderr, "\ngrok: sweep: point %ld (%s): %s\n", i, name, e.msg);
    }
    _exit(rc == GROK_OK ? 0 : rc == GROK_EINVAL ? 2 : 1);
}

/* The local pool: one forked process per point of todo, at most jobs at a
 * time.  The parent never initialises BLIS or OpenMP, so forking is safe. */
int sweep_pool(sweep_exec *x, const long *todo, long n_todo, int jobs)
{
    if (jobs > n_todo)
        jobs = (int)n_todo;
    if (jobs < 1)
        return GROK_OK;
    pid_t *pid = calloc((size_t)jobs, sizeof *pid);
    long *idx = calloc((size_t)jobs, sizeof *idx);
    double *t_start = calloc((size_t)jobs, sizeof *t_start);
    if (!pid || !idx || !t_start) {
        free(pid);
        free(idx);
        free(t_start);
        fprintf(stderr, "grok: sweep: out of memory\n");
        return GROK_ENOMEM;
    }
    pid_t parent = getpid();
    long next = 0;
    int n_run = 0, rc = GROK_OK;
    double last_line = sweep_now();
    int shown = 0;
    while ((next < n_todo && rc == GROK_OK) || n_run > 0) {
        while (rc == GROK_OK && n_run < jobs && next < n_todo) {
            fflush(stdout);
            fflush(stderr);
            pid_t p = fork();
            if (p < 0) {
                sweep_line_clear(x);
                fprintf(stderr, "grok: sweep: fork: %s\n", strerror(errno));
                rc = GROK_EIO;
                break;
            }
            if (p == 0)
                sweep_child(x, todo[next], parent);
            int slot = 0;
            while (pid[slot] != 0)
                slot++;
            pid[slot] = p;
            idx[slot] = todo[next];
            t_start[slot] = sweep_now();
            next++;
            n_run++;
        }
        if (!shown) { /* the first workers are running */
            sweep_progress(x, n_run, n_todo - next, jobs);
            shown = 1;
        }
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p == 0) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            double now = sweep_now();
            if (now - last_line >= (x->tty ? 1.0 : 30.0)) {
                sweep_progress(x, n_run, n_todo - next, jobs);
                last_line = now;
            }
            continue;
        }
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int slot = -1;
        for (int k = 0; k < jobs; k++)
            if (pid[k] == p)
                slot = k;
        if (slot < 0)
            continue;
        pid[slot] = 0;
        n_run--;
        double dur = sweep_now() - t_start[slot];
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok) {
            x->n_done++;
            x->n_ran++;
            x->sum_dur += dur;
        } else {
            x->n_failed++;
            if (WIFSIGNALED(status)) {
                sweep_line_clear(x);
                fprintf(stderr, "grok: sweep: point %ld: killed by signal %d\n", idx[slot],
                        WTERMSIG(status));
            }
        }
        sweep_report_point(x, idx[slot], dur, ok);
        sweep_progress(x, n_run, n_todo - next, jobs);
        last_line = sweep_now();
    }
    sweep_line_clear(x);
    free(pid);
    free(idx);
    free(t_start);
    return rc;
}

/* Points one after another in this process (MPI ranks, array tasks). */
void sweep_inproc(sweep_exec *x, const long *todo, long n_todo)
{
    blisarch_start(x->bi, 1);
    for (long k = 0; k < n_todo; k++) {
        double t = sweep_now();
        grok_err e = {{0}};
        int rc = sweep_run_point(x->s, x->dir, todo[k], x->bi, x->quiet, NULL, &e);
        double dur = sweep_now() - t;
        if (rc == GROK_OK) {
            x->n_done++;
            x->n_ran++;
            x->sum_dur += dur;
        } else {
            char name[SWEEP_PATH_MAX] = "?";
            sweep_point_name(x->s, todo[k], name, sizeof name);
            fprintf(stderr, "grok: sweep: %spoint %ld (%s): %s\n", x->tag, todo[k], name, e.msg);
            x->n_failed++;
        }
        sweep_report_point(x, todo[k], dur, rc == GROK_OK);
    }
}
