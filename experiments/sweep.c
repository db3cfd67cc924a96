/* sweep.c: `grok sweep` (sweep.h: sweep_main): the flags, the three modes
 * (run a sweep, --summary, --status), and the small helpers the other sweep
 * files share (paths, number and string text, durations, writing a file
 * only when it changed).
 *
 * The pieces: sweep_config.c reads the sweep file, sweep_grid.c makes the
 * points and the sweep directory's plan, sweep_point.c runs one point,
 * sweep_pool.c runs many (local pool, MPI ranks, one SLURM array task),
 * sweep_table.c writes sweep.tsv and shows the progress, sweep_mpi.c is the
 * MPI layer.
 *
 * Owns no training: a point is an ordinary run directory made by run_train
 * and continued by run_resume (run.h), so everything a run guarantees
 * (atomic files, kill-and-resume giving the same bytes, the same bits for any
 * thread count) holds for every point.  The figures are plots/sweep_plot.c's;
 * MPI calls live in sweep_mpi.c so that only that file needs mpi.h.
 *
 * Determinism.  A point's config depends on the sweep file alone and every
 * point runs single-threaded, so its files do not depend on which process,
 * rank or array task ran it, nor on the order; sweep.tsv is rebuilt from
 * the points' summary.json and holds no time, so it is the same bytes for a
 * local pool, mpirun and a SLURM array (wall times go to sweep_time.tsv). */
#include "sweep_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "plot.h"
#include "progress.h"

/* ------------------------------------------------------------------------ */
/* small helpers */

int sweep_join(char *out, size_t n, const char *a, const char *b, grok_err *e)
{
    int len = snprintf(out, n, "%s/%s", a, b);
    if (len < 0 || (size_t)len >= n)
        return grok_fail(e, GROK_EINVAL, "path too long: '%s/%s'", a, b);
    return GROK_OK;
}

/* Appends s as a libconfig string literal. */
void sweep_cfg_string(sbuf *b, const char *s)
{
    sbuf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sbuf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            sbuf_puts(b, "\\n");
        else if (*s == '\t')
            sbuf_puts(b, "\\t");
        else
            sbuf_append(b, s, 1);
    }
    sbuf_puts(b, "\"");
}

/* Appends a float's text so that libconfig reads a float: "1" -> "1.0". */
void sweep_cfg_float_text(sbuf *b, const char *text)
{
    sbuf_puts(b, text);
    if (!strpbrk(text, ".eE"))
        sbuf_puts(b, ".0");
}

/* Characters allowed in a point name part and in labels. */
int sweep_name_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '+' || ch == '-';
}

double sweep_now(void)
{
    return progress_now();
}

void sweep_fmt_duration(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "?");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%.1fs", s);
}

/* Writes data to path unless the file already holds exactly these bytes. */
int sweep_write_if_changed(const char *path, const sbuf *b, grok_err *e)
{
    if (b->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory building '%s'", path);
    char *old = NULL;
    size_t n = 0;
    if (fileio_exists(path) && fileio_read_all(path, &old, &n, NULL) == GROK_OK) {
        int same = n == b->len && memcmp(old, b->data ? b->data : "", n) == 0;
        free(old);
        if (same)
            return GROK_OK;
    }
    return fileio_write_atomic(path, b->data ? b->data : "", b->len, e);
}

/* ------------------------------------------------------------------------ */
/* the command */

static int sweep_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int sweep_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("grok: sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", SWEEP_USAGE);
    va_end(ap);
    return 2;
}

static int sweep_exit_code(int rc)
{
    return rc == GROK_EINVAL ? 2 : 1;
}

typedef struct {
    const char *positional, *out, *summary, *status, *format;
    long jobs, array_task;
    int plan, quiet;
    char *sets[64]; /* --set key=value, in order */
    int n_sets;
} sweep_args;

static int sweep_cmd_summary(const sweep_args *a)
{
    sweep_spec s;
    grok_err e = {{0}};
    int rc = sweep_load_dir(&s, a->summary, &e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        fprintf(stderr, "grok: sweep: %s\n", e.msg);
        return sweep_exit_code(rc);
    }
    if (a->format) {
        unsigned mask;
        if (plot_parse_formats(a->format, &mask, &e) != GROK_OK) {
            sweep_spec_free(&s);
            fprintf(stderr, "grok: sweep: --format: %s\n", e.msg);
            return 2;
        }
    }
    int failed = 0;
    sweep_finish_table(&s, a->summary, a->format ? a->format : s.formats, 1, a->quiet, &failed);
    sweep_spec_free(&s);
    return failed ? 1 : 0;
}

static int sweep_cmd_status(const sweep_args *a)
{
    sbuf out;
    sbuf_init(&out);
    grok_err e = {{0}};
    int rc = sweep_status(a->status, &out, &e);
    if (rc == GROK_OK)
        fputs(out.data ? out.data : "", stdout);
    else
        fprintf(stderr, "grok: sweep: %s\n", e.msg);
    sbuf_free(&out);
    return rc == GROK_OK ? 0 : sweep_exit_code(rc);
}

static int sweep_cmd_run(const sweep_args *a, int argc, char **argv, blisarch_info *bi)
{
    /* SWEEP.cfg, or a sweep directory to continue. */
    char cfg_path[SWEEP_PATH_MAX];
    const char *dir_arg = NULL;
    struct stat st;
    if (stat(a->positional, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (sweep_join(cfg_path, sizeof cfg_path, a->positional, RUNDIR_SWEEP_CFG, NULL) != GROK_OK)
            return sweep_usage_error("path too long: '%s'", a->positional);
        if (!fileio_exists(cfg_path)) {
            fprintf(stderr,
                    "grok: sweep: '%s' is a directory without sweep.cfg; give a sweep config "
                    "file or a sweep directory\n",
                    a->positional);
            return 2;
        }
        dir_arg = a->positional;
    } else {
        snprintf(cfg_path, sizeof cfg_path, "%s", a->positional);
    }
    sweep_spec s;
    grok_err e = {{0}};
    int rc = sweep_load(&s, cfg_path, &e);
    if (rc == GROK_OK)
        rc = sweep_apply_sets(&s, a->sets, a->n_sets, &e);
    if (rc != GROK_OK) {
        sweep_spec_free(&s);
        fprintf(stderr, "grok: %s\n", e.msg);
        return sweep_exit_code(rc);
    }
    char dir[SWEEP_PATH_MAX];
    if (a->out)
        snprintf(dir, sizeof dir, "%s", a->out);
    else if (dir_arg)
        snprintf(dir, sizeof dir, "%s", dir_arg);
    else if (s.out[0])
        snprintf(dir, sizeof dir, "%s", s.out);
    else
        snprintf(dir, sizeof dir, "runs/%s", s.name);

    if (a->plan) {
        sbuf pts;
        sbuf_init(&pts);
        sweep_format_points(&s, &pts);
        printf("# sweep %s: %ld points into %s (SLURM: --array=0-%ld with --array-task "
               "$SLURM_ARRAY_TASK_ID)\n",
               s.name, s.n_points, dir, s.n_points - 1);
        fputs(pts.data ? pts.data : "", stdout);
        sbuf_free(&pts);
        sweep_spec_free(&s);
        return 0;
    }
    if (a->array_task >= s.n_points) {
        fprintf(stderr, "grok: sweep: --array-task %ld: the sweep has %ld points (0..%ld)\n",
                a->array_task, s.n_points, s.n_points - 1);
        sweep_spec_free(&s);
        return 2;
    }

    sweep_mpi_world w = {0, 1, 0};
    if (a->array_task < 0)
        sweep_mpi_init(&argc, &argv, &w);
    char tag[64] = "";
    if (w.size > 1)
        snprintf(tag, sizeof tag, "rank %d/%d: ", w.rank, w.size);

    /* The plan on disk: one writer under MPI, else each process (the same
     * bytes, each file written atomically and only when it changed). */
    rc = GROK_OK;
    if (!w.mpi || w.rank == 0)
        rc = sweep_prepare_dir(&s, dir, &e);
    if (w.mpi && sweep_mpi_sum(&w, rc != GROK_OK) > 0 && rc == GROK_OK) {
        rc = GROK_EINVAL; /* rank 0 said why */
        e.msg[0] = '\0';
    }
    if (rc != GROK_OK) {
        if (e.msg[0])
            fprintf(stderr, "grok: sweep: %s\n", e.msg);
        sweep_mpi_finalize(&w);
        sweep_spec_free(&s);
        return sweep_exit_code(rc);
    }

    sweep_exec x = {.s = &s, .dir = dir, .bi = bi, .quiet = a->quiet, .tag = tag,
                    .t0 = sweep_now(), .n_total = s.n_points};
    x.tty = isatty(fileno(stderr)) && w.size == 1 && a->array_task < 0;
    long *todo = calloc((size_t)s.n_points, sizeof *todo);
    if (!todo) {
        fprintf(stderr, "grok: sweep: out of memory\n");
        sweep_mpi_finalize(&w);
        sweep_spec_free(&s);
        return 1;
    }
    long n_todo = 0;
    if (a->array_task >= 0) {
        todo[n_todo++] = a->array_task;
    } else {
        for (long i = 0; i < s.n_points; i++) {
            if (sweep_point_done(&s, dir, i))
                x.n_done++;
            else if (i % w.size == w.rank)
                todo[n_todo++] = i;
        }
    }
    if (!a->quiet && a->array_task < 0) {
        char lib[160] = "";
        if (w.size > 1) {
            snprintf(lib, sizeof lib, " (ranks single-threaded; MPI: ");
            sweep_mpi_library(lib + strlen(lib), sizeof lib - strlen(lib) - 1);
            strcat(lib, ")");
        }
        fprintf(stderr,
                "grok: sweep: %s%s: %ld points in %s; %ld done already, %ld to run here%s\n", tag,
                s.name, s.n_points, dir, x.n_done, n_todo, lib);
    }

    long jobs = a->jobs;
    if (jobs <= 0)
        jobs = w.size > 1 || a->array_task >= 0 ? 1 : sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if (w.size == 1 && a->array_task < 0) {
        rc = sweep_pool(&x, todo, n_todo, (int)jobs);
    } else if (jobs > 1) {
        rc = sweep_pool(&x, todo, n_todo, (int)jobs); /* a pool per rank */
    } else {
        x.quiet = a->quiet || w.size > 1;
        sweep_inproc(&x, todo, n_todo);
    }
    free(todo);
    long failed = x.n_failed + (rc != GROK_OK);

    int table_failed = 0;
    if (w.mpi) {
        failed = sweep_mpi_sum(&w, failed); /* also waits for every rank */
        sweep_mpi_finalize(&w);
        if (w.rank == 0)
            sweep_finish_table(&s, dir, s.formats, 1, a->quiet, &table_failed);
    } else if (w.size > 1 || a->array_task >= 0) {
        /* No barrier: each process rewrites the table under the lock, so the
         * last to end leaves the complete one, and draws the figures. */
        int fd = sweep_lock_dir(dir);
        long n_done = 0, n_total = 0;
        grok_err e2 = {{0}};
        if (sweep_summary(dir, &n_done, &n_total, &e2) != GROK_OK) {
            fprintf(stderr, "grok: sweep: %s\n", e2.msg);
            table_failed = 1;
        } else if (n_done == n_total) {
            sweep_finish_table(&s, dir, s.formats, 1, a->quiet, &table_failed);
        }
        sweep_unlock_dir(fd);
    } else {
        sweep_finish_table(&s, dir, s.formats, 1, a->quiet, &table_failed);
    }
    if (!a->quiet && (w.rank == 0 || !w.mpi)) {
        char d[32];
        sweep_fmt_duration(d, sizeof d, sweep_now() - x.t0);
        fprintf(stderr, "grok: sweep: %s%s: %ld point%s run in %s%s", tag, s.name, x.n_ran,
                x.n_ran == 1 ? "" : "s", d, failed ? "" : "\n");
        if (failed)
            fprintf(stderr, "; %ld FAILED (their messages are above; run the sweep again to "
                            "retry them)\n",
                    failed);
    }
    sweep_spec_free(&s);
    return failed || table_failed ? 1 : 0;
}

int sweep_main(int argc, char **argv, blisarch_info *bi)
{
    sweep_args a = {.jobs = 0, .array_task = -1};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *arg = argv[i];
        int m;
        if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || !v[0])
                return sweep_usage_error("--out needs a directory");
            a.out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--jobs", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, 4096, &a.jobs) != 0)
                return sweep_usage_error("--jobs '%s': expected a whole number from 1 to 4096",
                                         m < 0 ? "" : v);
        } else if ((m = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (m < 0 || !strchr(v, '='))
                return sweep_usage_error("--set needs key=value, e.g. --set train.epochs=100");
            if (a.n_sets >= (int)(sizeof a.sets / sizeof a.sets[0]))
                return sweep_usage_error("more than %zu --set options",
                                         sizeof a.sets / sizeof a.sets[0]);
            a.sets[a.n_sets++] = (char *)v;
        } else if ((m = cli_opt(argc, argv, &i, "--array-task", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 0, SWEEP_POINTS_MAX - 1, &a.array_task) != 0)
                return sweep_usage_error("--array-task '%s': expected a point index from 0 "
                                         "(SLURM_ARRAY_TASK_ID)",
                                         m < 0 ? "" : v);
        } else if ((m = cli_opt(argc, argv, &i, "--summary", &v)) != 0) {
            if (m < 0 || !v[0])
                return sweep_usage_error("--summary needs a sweep directory");
            a.summary = v;
        } else if ((m = cli_opt(argc, argv, &i, "--status", &v)) != 0) {
            if (m < 0 || !v[0])
                return sweep_usage_error("--status needs a sweep directory");
            a.status = v;
        } else if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return sweep_usage_error("--format needs a list such as png,pdf");
            a.format = v;
        } else if (strcmp(arg, "--plan") == 0) {
            a.plan = 1;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a.quiet = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("usage: %s\n  %s\n", SWEEP_USAGE, SWEEP_ABOUT);
            return 0;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return sweep_usage_error("unknown option '%s'; valid: --out, --jobs, --set, --array-task, "
                                     "--plan, --quiet, --summary, --status, --format",
                                     arg);
        } else if (a.positional) {
            return sweep_usage_error("unexpected argument '%s' (already have '%s')", arg,
                                     a.positional);
        } else {
            a.positional = arg;
        }
    }
    int modes = (a.summary != NULL) + (a.status != NULL) + (a.positional != NULL);
    if (modes != 1)
        return sweep_usage_error(modes ? "give one of SWEEP.cfg, --summary DIR, --status DIR"
                                       : "which sweep config?");
    if (a.summary)
        return a.out || a.jobs || a.array_task >= 0 || a.plan || a.n_sets
                   ? sweep_usage_error("--summary takes only --format and --quiet")
                   : sweep_cmd_summary(&a);
    if (a.status)
        return a.out || a.jobs || a.array_task >= 0 || a.plan || a.format || a.n_sets
                   ? sweep_usage_error("--status takes no other option")
                   : sweep_cmd_status(&a);
    if (a.format)
        return sweep_usage_error("--format goes with --summary; a sweep's own figure formats "
                                 "are its plots.formats");
    return sweep_cmd_run(&a, argc, argv, bi);
}
