/* sweep_table.c: the sweep table and the progress view (sweep.h):
 * sweep.tsv and sweep_time.tsv rebuilt from the points' summary.json
 * (sweep_summary), `grok sweep --status` (sweep_status: points done,
 * running, started, left, time left), and, at the end of a sweep, the table
 * then the figures, rewritten under a lock on the sweep directory when
 * several processes share it. */
#include "sweep_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sweep_plot.h"

/* ------------------------------------------------------------------------ */
/* the sweep table */

/* The sweep in dir (its sweep.cfg). */
int sweep_load_dir(sweep_spec *s, const char *dir, grok_err *e)
{
    char path[SWEEP_PATH_MAX];
    int rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_CFG, e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path)) {
        memset(s, 0, sizeof *s);
        return grok_fail(e, GROK_EINVAL,
                         "'%s' is not a sweep directory: it has no sweep.cfg (grok sweep "
                         "SWEEP.cfg --out DIR makes one)",
                         dir);
    }
    return sweep_load(s, path, e);
}

/* A summary.json member as a table cell (rundir_summary_cell: numbers as
 * written, key_freqs as "14,35", null -> none). */
static void sweep_cell(sbuf *b, const rundir_summary *sum, const char *key)
{
    sbuf_puts(b, "\t");
    rundir_summary_cell(sum, key, b);
}

int sweep_summary(const char *dir, long *n_done, long *n_total, grok_err *e)
{
    sweep_spec s;
    int rc = sweep_load_dir(&s, dir, e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        return rc;
    }
    sbuf t, w;
    sbuf_init(&t);
    sbuf_init(&w);
    sbuf_puts(&t, "index\tname");
    for (int k = 0; k < s.n_axes; k++)
        sbuf_printf(&t, "\t%s", s.axes[k].key);
    sbuf_puts(&t, "\tstatus\tepochs_done\tepochs_total\tmemorised_epoch\tgrokked_epoch"
                  "\tmemorisation_end\tcircuit_formation_end\tcleanup_end"
                  "\tfinal_epoch\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\tkey_freqs"
                  "\talgorithm\tgrad_sym\tdist_irrel\tkey_irreps\n");
    sbuf_puts(&w, "index\tname\tstatus\tepochs_done\twall_s\tms_per_epoch\tthreads\tblis_kernel\n");
    long done = 0;
    for (long i = 0; i < s.n_points; i++) {
        char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
        if (sweep_point_name(&s, i, name, sizeof name) != GROK_OK ||
            (rc = sweep_join(pdir, sizeof pdir, dir, name, e)) != GROK_OK) {
            rc = grok_fail(e, GROK_EINVAL, "point %ld: path too long", i);
            break;
        }
        sweep_pt_state st = sweep_point_state(pdir);
        rundir_summary sum = {NULL};
        if (st != SWEEP_PT_PENDING)
            sum = sweep_read_summary(pdir);
        const char *status = st == SWEEP_PT_DONE && sum.root ? sweep_status_of(&sum)
                             : sum.root || st == SWEEP_PT_PARTIAL ? "partial"
                                                                 : "pending";
        done += st == SWEEP_PT_DONE;
        sbuf_printf(&t, "%ld\t%s", i, name);
        for (int k = 0; k < s.n_axes; k++)
            sbuf_printf(&t, "\t%s", s.axes[k].value[sweep_point_index(&s, i, k)]);
        sbuf_printf(&t, "\t%s", status);
        static const char *const cells[] = {
            "epochs_done",      "epochs_total",           "memorised_epoch",
            "grokked_epoch",    "phases.memorisation_end", "phases.circuit_formation_end",
            "phases.cleanup_end", "final.epoch",           "final.train_loss",
            "final.test_loss",  "final.train_acc",        "final.test_acc",
            "key_freqs",        "algorithm.verdict",      "algorithm.grad_sym",
            "algorithm.dist_irrel", "algorithm.key_irreps"};
        for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++)
            sweep_cell(&t, &sum, cells[k]);
        sbuf_puts(&t, "\n");

        sbuf_printf(&w, "%ld\t%s\t%s", i, name, status);
        sweep_cell(&w, &sum, "epochs_done");
        sweep_cell(&w, &sum, "wall_s");
        sweep_cell(&w, &sum, "ms_per_epoch");
        sweep_cell(&w, &sum, "threads");
        sweep_cell(&w, &sum, "blis_kernel");
        sbuf_puts(&w, "\n");
        rundir_summary_free(&sum);
    }
    char path[SWEEP_PATH_MAX];
    if (rc == GROK_OK && (t.oom || w.oom))
        rc = grok_fail(e, GROK_ENOMEM, "out of memory building the sweep table");
    if (rc == GROK_OK &&
        (rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_TABLE, e)) == GROK_OK)
        rc = fileio_write_atomic(path, t.data, t.len, e);
    if (rc == GROK_OK && (rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_TIME, e)) == GROK_OK)
        rc = fileio_write_atomic(path, w.data, w.len, e);
    if (n_done)
        *n_done = done;
    if (n_total)
        *n_total = s.n_points;
    sbuf_free(&t);
    sbuf_free(&w);
    sweep_spec_free(&s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the progress view */

/* 1 when a process holds a flock on the directory at path (the lock
 * run_train and run_resume hold while they run), read from /proc/locks so
 * that looking never takes the lock itself; 0 otherwise or when unknown. */
static int sweep_dir_locked(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    FILE *f = fopen("/proc/locks", "r");
    if (!f)
        return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        /* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (maybe "->" for waiters) */
        if (!strstr(line, "FLOCK"))
            continue;
        char *tok = strtok(line, " \t\n");
        while (tok) {
            unsigned maj, mnr;
            unsigned long long ino;
            char tail;
            if (sscanf(tok, "%x:%x:%llu%c", &maj, &mnr, &ino, &tail) == 3 &&
                ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) &&
                mnr == minor(st.st_dev))
                found = 1;
            tok = strtok(NULL, " \t\n");
        }
    }
    fclose(f);
    return found;
}

int sweep_status(const char *dir, sbuf *out, grok_err *e)
{
    sweep_spec s;
    int rc = sweep_load_dir(&s, dir, e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        return rc;
    }
    long done = 0, grokked = 0, stopped = 0, dng = 0, diverged = 0, running = 0, started = 0, left = 0;
    double wall_done = 0, wall_part = 0, frac_part = 0, frac_running = 0;
    /* for the upper bound: seconds and epochs run so far, epochs still in
     * the budgets of the unfinished points, and the budgets known */
    double wall_all = 0, epochs_all = 0, epochs_left = 0, budget_sum = 0;
    long n_budget = 0;
    sbuf run_list;
    sbuf_init(&run_list);
    for (long i = 0; i < s.n_points; i++) {
        char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX];
        if (sweep_point_name(&s, i, name, sizeof name) != GROK_OK ||
            sweep_join(pdir, sizeof pdir, dir, name, NULL) != GROK_OK)
            continue;
        sweep_pt_state st = sweep_point_state(pdir);
        rundir_summary sum = {NULL};
        if (st != SWEEP_PT_PENDING)
            sum = sweep_read_summary(pdir);
        double wall = rundir_summary_num(&sum, "wall_s");
        double ed = rundir_summary_num(&sum, "epochs_done");
        double et = rundir_summary_num(&sum, "epochs_total");
        ed = isnan(ed) ? 0 : ed;
        et = isnan(et) ? 1 : et;
        double frac = et > 0 ? ed / et : 0;
        if (st != SWEEP_PT_PENDING && isfinite(wall) && ed > 0) {
            wall_all += wall;
            epochs_all += ed;
        }
        if (st != SWEEP_PT_PENDING && et > 1) {
            budget_sum += et;
            n_budget++;
        }
        if (st != SWEEP_PT_DONE && st != SWEEP_PT_PENDING)
            epochs_left += et > ed ? et - ed : 0;
        if (st == SWEEP_PT_DONE) {
            done++;
            wall_done += isfinite(wall) ? wall : 0;
            if (strcmp(sweep_status_of(&sum), "diverged") == 0)
                diverged++;
            else if (rundir_summary_epoch(&sum, "grokked_epoch") >= 0)
                grokked++;
            else if (strcmp(sweep_status_of(&sum), "stopped") == 0)
                stopped++; /* at a train.stop_test_acc below 99% */
            else
                dng++;
        } else if (sweep_dir_locked(pdir)) {
            running++;
            wall_part += isfinite(wall) ? wall : 0;
            frac_running += frac;
            if (running <= 8)
                sbuf_printf(&run_list, "%s    %s: epoch %.0f of %.0f\n", "", name, ed, et);
        } else if (st == SWEEP_PT_PARTIAL) {
            started++;
            wall_part += isfinite(wall) ? wall : 0;
            frac_part += frac;
        } else {
            left++;
        }
        rundir_summary_free(&sum);
    }
    char a[32], b[32];
    sbuf_printf(out, "sweep %s in %s: %ld points\n", s.name, dir, s.n_points);
    if (stopped)
        sbuf_printf(out,
                    "  done     %6ld  (%ld grokked, %ld stopped at train.stop_test_acc below "
                    "99%%, %ld did not grok, %ld diverged)\n",
                    done, grokked, stopped, dng, diverged);
    else
        sbuf_printf(out, "  done     %6ld  (%ld grokked, %ld did not grok, %ld diverged)\n",
                    done, grokked, dng, diverged);
    sbuf_printf(out, "  running  %6ld\n", running);
    if (run_list.len)
        sbuf_puts(out, run_list.data);
    if (running > 8)
        sbuf_printf(out, "    ... and %ld more\n", running - 8);
    sbuf_printf(out, "  started  %6ld  (not running now; the next grok sweep resumes them)\n",
                started);
    sbuf_printf(out, "  left     %6ld\n", left);
    sweep_fmt_duration(a, sizeof a, wall_done + wall_part);
    sbuf_printf(out, "  compute  %s so far", a);
    /* the most work left: every unfinished point runs its whole budget (a
     * point not started yet: the mean budget of those that have one) at the
     * seconds per epoch seen so far */
    double most = -1;
    if (epochs_all > 0 && n_budget > 0 && left + started + running > 0)
        most = wall_all / epochs_all * (epochs_left + (double)left * budget_sum / (double)n_budget);
    char c[32] = "";
    if (most >= 0) {
        sweep_fmt_duration(c, sizeof c, running > 0 ? most / (double)running : most);
    }
    if (done > 0) {
        double mean = wall_done / (double)done;
        /* a point's remaining share: 1 when left, 1 - epochs_done/epochs when started */
        double work = mean * ((double)left + ((double)started - frac_part) +
                              ((double)running - frac_running));
        sweep_fmt_duration(b, sizeof b, mean);
        sbuf_printf(out, "; %s per finished point", b);
        if (running > 0) {
            sweep_fmt_duration(a, sizeof a, work / (double)running);
            sbuf_printf(out, "; about %s left at %ld running", a, running);
        } else if (left + started > 0) {
            sweep_fmt_duration(a, sizeof a, work);
            sbuf_printf(out, "; %s of work left (divide by the workers)", a);
        }
    }
    if (c[0])
        sbuf_printf(out, "%s at most %s%s if no point stops early", done > 0 ? "," : ";", c,
                    running > 0 ? "" : " of work");
    sbuf_puts(out, "\n");
    sbuf_free(&run_list);
    sweep_spec_free(&s);
    return out->oom ? grok_fail(e, GROK_ENOMEM, "out of memory") : GROK_OK;
}

/* The options of s's figures: its plots group's axes (pointing into s),
 * the x axis's log hint, the style of its base config's plots group. */
static void sweep_plot_opts_of(const sweep_spec *s, sweep_plot_opts *po, plot_style *st)
{
    int x_log = -1;
    const char *xkey = s->plot_x[0] ? s->plot_x : NULL;
    for (int k = 0; k < s->n_axes; k++)
        if (xkey && strcmp(s->axes[k].key, xkey) == 0)
            x_log = s->axes[k].log;
    cfg_plot_style(&s->base, st);
    *po = (sweep_plot_opts){xkey, s->plot_y[0] ? s->plot_y : NULL, x_log, st, NULL};
}

int sweep_figure_opts(const char *dir, sweep_figure_setup *out, grok_err *e)
{
    sweep_spec s;
    int rc = sweep_load_dir(&s, dir, e);
    if (rc == GROK_OK) {
        sweep_plot_opts po;
        sweep_plot_opts_of(&s, &po, &out->st);
        snprintf(out->x, sizeof out->x, "%s", s.plot_x);
        snprintf(out->y, sizeof out->y, "%s", s.plot_y);
        out->opts = po;
        out->opts.x = out->x[0] ? out->x : NULL;
        out->opts.y = out->y[0] ? out->y : NULL;
        out->opts.st = &out->st;
    }
    sweep_spec_free(&s);
    return rc;
}

/* The table, then (when draw) the figures; prints what it wrote.  Returns
 * the number of points done. */
long sweep_finish_table(const sweep_spec *s, const char *dir, const char *formats, int draw,
                               int quiet, int *failed)
{
    long n_done = 0, n_total = 0;
    grok_err e = {{0}};
    int rc = sweep_summary(dir, &n_done, &n_total, &e);
    if (rc != GROK_OK) {
        fprintf(stderr, "grok: sweep: %s\n", e.msg);
        *failed = 1;
        return 0;
    }
    if (!quiet)
        fprintf(stderr, "grok: sweep: %s/sweep.tsv: %ld of %ld points done\n", dir, n_done,
                n_total);
    if (!draw || !formats[0])
        return n_done;
    sweep_plot_opts po;
    plot_style st;
    sweep_plot_opts_of(s, &po, &st);
    sbuf notes;
    sbuf_init(&notes);
    rc = sweep_plot_dir(dir, formats, &po, &notes, &e);
    if (notes.len && !quiet)
        fprintf(stderr, "%s", notes.data);
    if (rc != GROK_OK)
        fprintf(stderr, "grok: sweep: figures: %s\n", e.msg); /* the runs are not at fault */
    sbuf_free(&notes);
    return n_done;
}

/* An exclusive lock on the sweep directory (blocking), for rewriting the
 * table from several processes; -1 when it cannot be taken. */
int sweep_lock_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void sweep_unlock_dir(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}
