/* test_sweep.c: sweeps (experiments/sweep.h) and their figures
 * (plots/sweep_plot.h).
 *
 *   expand         ranges (linear, log, integer, step), value lists, point
 *                  order and names, point configs, and the resolved sweep.cfg
 *                  reading back to the same plan.
 *   malformed      each broken sweep config gives GROK_EINVAL with a message
 *                  naming the file, the line and what is wrong (syntax error,
 *                  unknown key, experiment key at the top, unknown or
 *                  misspelt axis key, out-of-range value, values and range
 *                  together, bad log range, duplicate value, a point failing
 *                  the cross-field check, no axes, a bad `set`), and the
 *                  binary exits 2 on one of them.
 *   plot_scripts   figure scripts from a hand-written sweep.tsv: grokked cells
 *                  coloured, 'did not grok' and 'not run yet' drawn
 *                  distinctly, the grokked-epoch figure with its budget
 *                  line, the loss figure skipped without metrics.
 *   pool_vs_mpi    a 4-point sweep of a small task (a + b mod 23) with the
 *                  local pool (--jobs 2) and under `mpirun -np 2` gives the
 *                  identical sweep.tsv (cmp: every column, as the table holds
 *                  no wall time; that is in sweep_time.tsv) and identical
 *                  checkpoints and measures.tsv; --summary rebuilds the same
 *                  bytes and draws the figures; `grok plot DIR --preset
 *                  sweep` draws the two-panel figure; --status counts the
 *                  points.
 *                  The MPI half is skipped with a message when mpirun is
 *                  missing.
 *   array          the same sweep as four SLURM-style array tasks
 *                  (--array-task I, two at a time) gives the pool's sweep.tsv;
 *                  an index beyond the sweep exits 2.
 *   kill_resume    the sweep killed (SIGKILL to the pool) after its first
 *                  finished point, then run again: the finished points are
 *                  not touched (their summary.json keeps its inode and
 *                  mtime), the sweep completes, and sweep.tsv equals the
 *                  uninterrupted one.
 * The end-to-end tests drive the built binary (GROK_BIN, set by make test)
 * and are skipped, with a line saying so, when it is unset or has no sweep
 * command.  They take about 15 s on two cores. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sweep.h"
#include "sweep_plot.h"
#include "testutil.h"

#define PATH_N 4096

/* The small task of test_run.c (a + b mod 23 groks in about a second), at
 * two training fractions and two seeds; stopped at 99% test accuracy. */
static const char small_sweep[] =
    "name = \"small\";\n"
    "set = {\n"
    "  task = { op = \"add\"; p = 23; };\n"
    "  model = { d_model = 64; n_heads = 4; d_head = 16; d_mlp = 128; };\n"
    "  optim = { lr = 0.003; weight_decay = 2.0; };\n"
    "  train = { epochs = 1200; eval_every = 10; stop_test_acc = 0.99; };\n"
    "  checkpoint = { every = 200; every_early = 100; early_until = 0; };\n"
    "  measures = { every = 200; };\n"
    "  plots = { formats = \"\"; };\n"
    "};\n"
    "axes = (\n"
    "  { key = \"task.frac_train\"; values = [0.7, 0.8]; },\n"
    "  { key = \"seed\"; values = [0, 1]; }\n"
    ");\n"
    "plots = { formats = \"\"; };\n";

/* ---- helpers --------------------------------------------------------------- */

/* snprintf into a PATH_N buffer; fails the test on truncation. */
static void fmt_path(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_N, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && n < PATH_N);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Starts argv[0] with argv; stdout and stderr to out_path. */
static pid_t spawn(const char *out_path, char *const argv[])
{
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(out_path, "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits at most limit_s seconds; kills on timeout.  Returns the exit code,
 * 128 + signal, or -1 on timeout. */
static int wait_for(pid_t pid, double limit_s)
{
    double t0 = now_s();
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (now_s() - t0 > limit_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Runs argv (NULL-terminated), prints its output when it fails. */
static int run_cmd(const char *log, double limit_s, char *const argv[])
{
    int rc = wait_for(spawn(log, argv), limit_s);
    if (rc != 0) {
        char *out = tu_read_file(log, NULL);
        printf("   %s exited %d:\n%s\n", argv[0], rc, out ? out : "");
        free(out);
    }
    return rc;
}

static char *find_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *copy = strdup(path), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *full = tu_path_in(d, prog);
        if (access(full, X_OK) == 0) {
            free(copy);
            return full;
        }
        free(full);
    }
    free(copy);
    return NULL;
}

static void write_cfg(const char *dir, const char *name, const char *text, char *out)
{
    fmt_path(out, "%s/%s", dir, name);
    tu_write_text(out, text);
}

/* Loads text as a sweep and expects failure with every needle in the message. */
static void expect_bad(const char *dir, const char *text, const char *n1, const char *n2)
{
    char path[PATH_N];
    write_cfg(dir, "bad.cfg", text, path);
    sweep_spec s;
    grok_err e = {{0}};
    int rc = sweep_load(&s, path, &e);
    sweep_spec_free(&s);
    printf("   -> %s\n", e.msg);
    assert_int_equal(rc, GROK_EINVAL);
    tu_assert_contains(e.msg, n1);
    if (n2)
        tu_assert_contains(e.msg, n2);
}

/* The group's state (group_setup fills it): the scratch directory, and
 * what the end-to-end tests share. */
typedef struct {
    const char *bin; /* GROK_BIN when it has a sweep command, else NULL */
    char dir[PATH_N];
    char cfg[PATH_N];
    char ref[PATH_N]; /* the pool's sweep directory, once made */
    int have_ref;
} e2e;


/* ---- expand ---------------------------------------------------------------- */

/* Every shipped sweep (the .cfg files of experiments/sweeps) loads, and every point's
 * config passes the checks: a shipped file never goes stale against the key
 * table. */
static void test_shipped(void **state)
{
    (void)state;
    DIR *d = opendir("experiments/sweeps");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0)
            continue;
        char path[PATH_N];
        snprintf(path, sizeof path, "experiments/sweeps/%s", de->d_name);
        sweep_spec s;
        grok_err e = {{0}};
        int rc = sweep_load(&s, path, &e);
        if (rc != GROK_OK)
            printf("# %s: %s\n", path, e.msg);
        assert_int_equal(rc, GROK_OK);
        assert_true(s.n_points >= 1);
        for (long i = 0; i < s.n_points; i++) {
            cfg_run c;
            rc = sweep_point_config(&s, i, &c, &e);
            if (rc != GROK_OK)
                printf("# %s point %ld: %s\n", path, i, e.msg);
            assert_int_equal(rc, GROK_OK);
        }
        sweep_spec_free(&s);
        n++;
    }
    closedir(d);
    printf("# %d shipped sweeps load\n", n);
    assert_true(n >= 5);
}

static void test_expand(void **state)
{
    const char *dir = ((e2e *)*state)->dir;
    char path[PATH_N];
    write_cfg(dir, "grid.cfg",
              "set = { task = { op = \"add\"; p = 13; }; plots = { formats = \"\"; }; };\n"
              "axes = (\n"
              "  { key = \"task.frac_train\"; from = 0.1; to = 0.5; step = 0.1; },\n"
              "  { key = \"optim.weight_decay\"; from = 0.01; to = 10.0; n = 4; log = true; name = \"wd\"; },\n"
              "  { key = \"task.op\"; values = [\"add\", \"sub\"]; },\n"
              "  { key = \"seed\"; from = 3; to = 4; }\n"
              ");\n",
              path);
    sweep_spec s;
    grok_err e = {{0}};
    int rc = sweep_load(&s, path, &e);
    if (rc)
        printf("   %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    const char *want[4][5] = {{"0.1", "0.2", "0.3", "0.4", "0.5"},
                              {"0.01", "0.1", "1", "10"},
                              {"add", "sub"},
                              {"3", "4"}};
    int want_n[4] = {5, 4, 2, 2};
    for (int k = 0; k < 4; k++) {
        printf("   axis %s (%s): %d values:", s.axes[k].key, s.axes[k].label, s.axes[k].n);
        for (int i = 0; i < s.axes[k].n; i++)
            printf(" %s", s.axes[k].value[i]);
        printf("\n");
        assert_int_equal(s.axes[k].n, want_n[k]);
        for (int i = 0; i < want_n[k]; i++)
            assert_string_equal(s.axes[k].value[i], want[k][i]);
    }
    assert_string_equal(s.name, "grid");
    assert_int_equal(s.n_points, 5 * 4 * 2 * 2);
    /* point 37 = ((2 * 4 + 1) * 2 + 0) * 2 + 1: frac 0.3, wd 0.1, add, seed 4 */
    char name[256];
    assert_int_equal(sweep_point_name(&s, 37, name, sizeof name), GROK_OK);
    printf("   point 37: %s\n", name);
    assert_string_equal(name, "frac_train=0.3,wd=0.1,op=add,seed=4");
    cfg_run c;
    assert_int_equal(sweep_point_config(&s, 37, &c, &e), GROK_OK);
    assert_true(c.task.frac_train == 0.3 && c.optim.weight_decay == 0.1 && c.seed == 4);
    assert_int_equal(c.task.p, 13);
    assert_int_equal(c.model.d_vocab, 14); /* derived fields filled */

    /* The resolved sweep.cfg and base.cfg read back to the same plan. */
    char sdir[PATH_N];
    fmt_path(sdir, "%s/grid_out", dir);
    rc = sweep_prepare_dir(&s, sdir, &e);
    if (rc)
        printf("   %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    sweep_spec s2;
    fmt_path(path, "%s/sweep.cfg", sdir);
    rc = sweep_load(&s2, path, &e);
    if (rc)
        printf("   %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    sbuf a, b;
    sbuf_init(&a);
    sbuf_init(&b);
    sweep_format_points(&s, &a);
    sweep_format_points(&s2, &b);
    printf("   resolved sweep.cfg reads back: %ld points, points.tsv %zu bytes, %s\n", s2.n_points,
           b.len, strcmp(a.data, b.data) == 0 ? "identical" : "DIFFERENT");
    assert_string_equal(a.data, b.data);
    assert_int_equal(s2.axes[1].log, 1);
    cfg_run c2;
    assert_int_equal(sweep_point_config(&s2, 37, &c2, &e), GROK_OK);
    assert_memory_equal(&c, &c2, sizeof c);
    /* The same plan again is accepted; another plan in the same directory is not. */
    assert_int_equal(sweep_prepare_dir(&s2, sdir, &e), GROK_OK);
    s2.axes[3].value[1][0] = '5';
    rc = sweep_prepare_dir(&s2, sdir, &e);
    printf("   another sweep into the same directory -> %s\n", e.msg);
    assert_int_equal(rc, GROK_EINVAL);
    tu_assert_contains(e.msg, "holds another sweep");
    sbuf_free(&a);
    sbuf_free(&b);
    sweep_spec_free(&s);
    sweep_spec_free(&s2);
}

/* ---- malformed --------------------------------------------------------------- */

static void test_malformed(void **state)
{
    const e2e *c = *state;
    const char *dir = c->dir;
    const char *ok_axis = "axes = ( { key = \"seed\"; values = [0, 1]; } );\n";
    char text[PATH_N];

    expect_bad(dir, "axes = ( { key = \"seed\"; values = [0, 1] } ;\n", "bad.cfg:1", "syntax error");
    /* include targets libconfig 1.5 cannot take (its scanner called exit(2)
     * on "" and on a directory; a self-include was followed 10 deep) */
    expect_bad(dir, "@include \"\"\n", "bad.cfg:1: @include \"\": empty file name", NULL);
    expect_bad(dir, "name = \"x\";\n@include \".\"\n", "bad.cfg:2: @include \".\"",
               "is not a regular file");
    expect_bad(dir, "@include \"bad.cfg\"\n@include \"bad.cfg\"\n", "include cycle", NULL);
    fmt_path(text, "%saxis = 3;\n", ok_axis);
    expect_bad(dir, text, "bad.cfg:2: unknown key 'axis'", "valid: name, base, set, axes");
    fmt_path(text, "%stask = { p = 13; };\n", ok_axis);
    expect_bad(dir, text, "bad.cfg:2: unknown key 'task'", "inside set");
    expect_bad(dir, "axes = (\n { key = \"optim.weight_decy\"; values = [1.0]; }\n);\n",
               "bad.cfg:2", "optim.weight_decy");
    expect_bad(dir, "axes = (\n { key = \"task.frac_train\"; values = [0.5, 1.5]; }\n);\n",
               "bad.cfg:2", "task.frac_train = 1.5");
    expect_bad(dir, "axes = ( { key = \"seed\"; values = [0]; from = 0; to = 3; } );\n",
               "bad.cfg:1", "either values");
    expect_bad(dir,
               "axes = ( { key = \"optim.lr\"; from = 0.0; to = 0.1; n = 3; log = true; } );\n",
               "bad.cfg:1", "from > 0");
    expect_bad(dir, "axes = ( { key = \"seed\"; values = [1, 2, 1]; } );\n", "bad.cfg:1",
               "value 1 comes twice");
    expect_bad(dir, "axes = ( { key = \"seed\"; valeus = [1, 2]; } );\n", "unknown key 'valeus'",
               "valid: key, name, values");
    expect_bad(dir,
               "set = { task = { op = \"div\"; }; };\n"
               "axes = ( { key = \"task.p\"; values = [11, 12]; } );\n",
               "point 1 (p=12)", "prime");
    expect_bad(dir, "name = \"x\";\n", "no axes", NULL);
    fmt_path(text, "set = {\n  task = { p = 1; };\n};\n%s", ok_axis);
    expect_bad(dir, text, "bad.cfg:2: set: task.p = 1", NULL);
    expect_bad(dir, "axes = ( { key = \"seed\"; from = 0.5; to = 3; } );\n", "bad.cfg:1",
               "needs step or n");
    fmt_path(text, "%splots = { x = \"task.p\"; };\n", ok_axis);
    expect_bad(dir, text, "bad.cfg:2", "not an axis key");

    const char *bin = c->bin;
    if (!bin) {
        printf("   no grok binary with a sweep command: exit code not checked\n");
        return;
    }
    char cfg[PATH_N], log[PATH_N];
    write_cfg(dir, "bad.cfg",
              "axes = (\n { key = \"task.frac_train\"; values = [0.5, 1.5]; }\n);\n", cfg);
    fmt_path(log, "%s/bad.out", dir);
    char *argv[] = {(char *)bin, "sweep", cfg, "--out", (char *)dir, NULL};
    int rc = wait_for(spawn(log, argv), 30);
    char *out = tu_read_file(log, NULL);
    printf("   grok sweep bad.cfg: exit %d: %s", rc, out ? out : "");
    assert_int_equal(rc, 2);
    tu_assert_contains(out, "bad.cfg:2");
    tu_assert_contains(out, "task.frac_train = 1.5");
    free(out);
}

/* ---- plot_scripts -------------------------------------------------------------- */

static void test_plot_scripts(void **state)
{
    const char *dir = ((e2e *)*state)->dir;
    char sdir[PATH_N], path[PATH_N];
    fmt_path(sdir, "%s/plots", dir);
    mkdir(sdir, 0777);
    fmt_path(path, "%s/sweep.tsv", sdir);
    const char *head = "index\tname\ttask.frac_train\tseed\tstatus\tepochs_done\tepochs_total"
                       "\tmemorised_epoch\tgrokked_epoch\tmemorisation_end\tcircuit_formation_end"
                       "\tcleanup_end\tfinal_epoch\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc"
                       "\tkey_freqs\n";
    const char *rows[] = {
        "0\tfrac_train=0.2,seed=0\t0.2\t0\tfinished\t3000\t3000\t100\tnone\t100\tnone\tnone\t3000\t0.01\t5\t1\t0.1\tnone\n",
        "1\tfrac_train=0.2,seed=1\t0.2\t1\tfinished\t3000\t3000\t100\tnone\t100\tnone\tnone\t3000\t0.01\t5\t1\t0.1\tnone\n",
        "2\tfrac_train=0.5,seed=0\t0.5\t0\tstopped\t1500\t3000\t80\t1480\t80\t900\t1480\t1480\t0.001\t0.02\t1\t0.99\t4,11\n",
        "3\tfrac_train=0.5,seed=1\t0.5\t1\tfinished\t3000\t3000\t90\tnone\t90\tnone\tnone\t3000\t0.01\t3\t1\t0.5\tnone\n",
        "4\tfrac_train=0.8,seed=0\t0.8\t0\tstopped\t400\t3000\t50\t400\t50\t200\t400\t400\t0.001\t0.01\t1\t0.995\t4\n",
        "5\tfrac_train=0.8,seed=1\t0.8\t1\tpending\tnone\tnone\tnone\tnone\tnone\tnone\tnone\tnone\tnone\tnone\tnone\tnone\tnone\n",
    };
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, head);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        sbuf_puts(&t, rows[i]);
    tu_write_text(path, t.data);
    sbuf_free(&t);

    sweep_plot_data *d;
    grok_err e = {{0}};
    assert_int_equal(sweep_plot_load(sdir, &d, &e), GROK_OK);
    sweep_plot_opts o = {NULL, NULL, -1, NULL, NULL};
    sbuf s, why;
    sbuf_init(&s);
    sbuf_init(&why);
    int built = sweep_plot_script(d, "sweep_phase", PLOT_PNG, &o, &s, &why, &e);
    printf("   sweep_phase: built %d, %zu bytes\n", built, s.len);
    assert_int_equal(built, 1);
    tu_assert_contains(s.data, "set output 'sweep_phase.png'");
    tu_assert_contains(s.data, "set xlabel 'task.frac_train'");
    tu_assert_contains(s.data, "set ylabel 'seed'");
    tu_assert_contains(s.data, "did not grok in 3000 epochs"); /* frac 0.2: both seeds */
    tu_assert_contains(s.data, "not run yet");                 /* frac 0.8, seed 1 */
    tu_assert_contains(s.data, "$grok << EOD\n1 0 1480\n2 0 400\nEOD");
    tu_assert_contains(s.data, "$dng << EOD\n0 0 \"\xc3\x97\"\n0 1 \"\xc3\x97\"\n1 1 \"\xc3\x97\"\nEOD");
    tu_assert_contains(s.data, "$pend << EOD\n2 1\nEOD");
    tu_assert_contains(s.data, "lc palette");

    /* With x = seed, y = frac: cells transpose. */
    sbuf_clear(&s);
    sweep_plot_opts o2 = {"seed", "task.frac_train", -1, NULL, NULL};
    assert_int_equal(sweep_plot_script(d, "sweep_phase", PLOT_PDF, &o2, &s, &why, &e), 1);
    tu_assert_contains(s.data, "$grok << EOD\n0 1 1480\n0 2 400\nEOD");

    sbuf_clear(&s);
    built = sweep_plot_script(d, "sweep_grokked", PLOT_TEX, &o, &s, &why, &e);
    printf("   sweep_grokked: built %d, %zu bytes\n", built, s.len);
    assert_int_equal(built, 1);
    tu_assert_contains(s.data, "with yerrorlines");
    tu_assert_contains(s.data, "$m0 << EOD\n0.5 1480 1480 1480\n0.8 400 400 400\nEOD");
    tu_assert_contains(s.data, "$d0 << EOD\n0.2 3000\n0.2 3000\n0.5 3000\nEOD");
    tu_assert_contains(s.data, "first 3000 to graph 1"); /* the budget line */
    tu_assert_contains(s.data, "task.frac\\_train");      /* LaTeX-escaped */
    sbuf_clear(&s);
    assert_int_equal(sweep_plot_script(d, "sweep_phase", PLOT_TEX, &o, &s, &why, &e), 1);
    tu_assert_contains(s.data, "0 0 \"$\\\\times$\""); /* gnuplot unescapes it to $\times$ */

    sbuf_clear(&s);
    sbuf_clear(&why);
    built = sweep_plot_script(d, "sweep_loss", PLOT_PNG, &o, &s, &why, &e);
    printf("   sweep_loss without metrics.tsv: built %d (%s)\n", built, why.data ? why.data : "");
    assert_int_equal(built, 0);
    tu_assert_contains(why.data, "no point has a metrics.tsv");

    sweep_plot_opts bad = {"optim.lr", NULL, -1, NULL, NULL};
    assert_int_equal(sweep_plot_script(d, "sweep_phase", PLOT_PNG, &bad, &s, &why, &e), GROK_EINVAL);
    printf("   x = optim.lr -> %s\n", e.msg);
    tu_assert_contains(e.msg, "valid: task.frac_train, seed");
    sbuf_free(&s);
    sbuf_free(&why);
    sweep_plot_free(d);
}

/* ---- end to end ------------------------------------------------------------------ */


static int cmp_files(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = tu_read_file(a, &na), *y = tu_read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* The pool's sweep (made once, shared by both end-to-end tests). */
static void make_ref(e2e *c)
{
    if (c->have_ref)
        return;
    char log[PATH_N];
    fmt_path(c->ref, "%s/pool", c->dir);
    fmt_path(log, "%s/pool.out", c->dir);
    char *argv[] = {(char *)c->bin, "sweep", c->cfg, "--out", c->ref, "--jobs", "2", NULL};
    double t0 = now_s();
    assert_int_equal(run_cmd(log, 60, argv), 0);
    printf("   local pool (--jobs 2): %.1f s\n", now_s() - t0);
    c->have_ref = 1;
}

static void test_pool_vs_mpi(void **state)
{
    e2e *c = *state;
    if (!c->bin)
        skip();
    make_ref(c);
    char path[PATH_N], log[PATH_N];
    fmt_path(path, "%s/sweep.tsv", c->ref);
    char *tsv = tu_read_file(path, NULL);
    assert_non_null(tsv);
    printf("   sweep.tsv:\n%s", tsv);
    /* Every point finished or stopped, and the larger fraction grokked. */
    int lines = 0;
    for (char *p = tsv; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 5);
    tu_assert_contains(tsv, "frac_train=0.8,seed=0\t0.8\t0\tstopped");
    free(tsv);

    /* --summary rebuilds the same bytes, and draws the figures. */
    char copy[PATH_N];
    fmt_path(copy, "%s/sweep.tsv.first", c->ref);
    assert_int_equal(rename(path, copy), 0);
    fmt_path(log, "%s/summary.out", c->dir);
    char *gp = find_in_path("gnuplot");
    char *argv_s[] = {(char *)c->bin, "sweep", "--summary", c->ref, "--format", gp ? "png" : "",
                      NULL};
    assert_int_equal(run_cmd(log, 60, argv_s), 0);
    printf("   --summary: sweep.tsv rebuilt %s\n", cmp_files(path, copy) ? "identical" : "DIFFERENT");
    assert_true(cmp_files(path, copy));
    if (gp) {
        const char *figs[] = {"sweep_phase.png", "sweep_grokked.png", "sweep_loss.png"};
        for (int i = 0; i < 3; i++) {
            char f[PATH_N];
            fmt_path(f, "%s/figures/%s", c->ref, figs[i]);
            struct stat st;
            int ok = stat(f, &st) == 0 && st.st_size > 1000;
            printf("   %s: %s\n", figs[i], ok ? "drawn" : "MISSING");
            assert_true(ok);
        }
        /* grok plot on the sweep directory: the sweep preset, one figure of
         * two panels; the run preset is refused there */
        char *argv_p[] = {(char *)c->bin, "plot", c->ref, "--preset", "sweep", NULL};
        fmt_path(log, "%s/preset.out", c->dir);
        assert_int_equal(run_cmd(log, 60, argv_p), 0);
        char f[PATH_N];
        fmt_path(f, "%s/figures/src/sweep.gp", c->ref);
        char *gpx = tu_read_file(f, NULL);
        assert_non_null(gpx);
        tu_assert_contains(gpx, "# ---- panel (a): sweep_phase");
        tu_assert_contains(gpx, "# ---- panel (b): sweep_grokked");
        free(gpx);
        fmt_path(f, "%s/figures/sweep.png", c->ref);
        struct stat st;
        assert_true(stat(f, &st) == 0 && st.st_size > 1000);
        printf("   grok plot --preset sweep: figures/sweep.png drawn\n");
        char *argv_bad[] = {(char *)c->bin, "plot", c->ref, "--preset", "paper", NULL};
        assert_int_equal(run_cmd(log, 30, argv_bad), 2);
    } else {
        printf("   gnuplot not found: figures not checked\n");
    }
    free(gp);
    char *argv_st[] = {(char *)c->bin, "sweep", "--status", c->ref, NULL};
    fmt_path(log, "%s/status.out", c->dir);
    assert_int_equal(run_cmd(log, 30, argv_st), 0);
    char *st = tu_read_file(log, NULL);
    printf("   --status:\n%s", st ? st : "");
    tu_assert_contains(st, "4 points");
    tu_assert_contains(st, "done          4");
    assert_null(strstr(st, "at most")); /* nothing left */
    free(st);
    /* a copy with one point gone: that point is left, and the bound on the
     * work left is its whole budget at the seconds per epoch seen */
    {
        char cp[PATH_N * 5 + 64], cdir[PATH_N];
        fmt_path(cdir, "%s/status-copy", c->dir);
        snprintf(cp, sizeof cp, "cp -a '%s' '%s' && rm -rf '%s'/$(ls '%s' | grep seed | head -1)",
                 c->ref, cdir, cdir, cdir);
        char *cplog = NULL;
        assert_int_equal(tu_run_shell(c->dir, cp, &cplog), 0);
        free(cplog);
        char *argv_st2[] = {(char *)c->bin, "sweep", "--status", cdir, NULL};
        assert_int_equal(run_cmd(log, 30, argv_st2), 0);
        st = tu_read_file(log, NULL);
        printf("   --status, one point removed:\n%s", st ? st : "");
        tu_assert_contains(st, "left          1");
        tu_assert_contains(st, "of work if no point stops early");
        free(st);
    }

    char *mpirun = find_in_path("mpirun");
    if (!mpirun) {
        printf("# mpirun not found: the MPI half is skipped (apt-get install openmpi-bin "
               "libopenmpi-dev, or make deps)\n");
        skip();
    }
    char mdir[PATH_N];
    fmt_path(mdir, "%s/mpi", c->dir);
    fmt_path(log, "%s/mpi.out", c->dir);
    /* Leak checking off for the ranks (under make asan): Open MPI does not
     * free its own allocations at MPI_Finalize. */
    char *argv[] = {"/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0", mpirun,
                    "--allow-run-as-root", "--oversubscribe", "-np", "2", (char *)c->bin,
                    "sweep", c->cfg, "--out", mdir, NULL};
    double t0 = now_s();
    int rc = run_cmd(log, 60, argv);
    printf("   mpirun -np 2: exit %d, %.1f s\n", rc, now_s() - t0);
    free(mpirun);
    assert_int_equal(rc, 0);
    char *out = tu_read_file(log, NULL);
    int ranks = out && strstr(out, "rank 0/2") && strstr(out, "rank 1/2");
    printf("   both ranks ran points: %s\n", ranks ? "yes" : "NO");
    assert_true(ranks);
    free(out);
    char a[PATH_N], b[PATH_N];
    fmt_path(a, "%s/sweep.tsv", c->ref);
    fmt_path(b, "%s/sweep.tsv", mdir);
    int same = cmp_files(a, b);
    printf("   sweep.tsv, pool vs mpirun -np 2: %s\n", same ? "identical bytes" : "DIFFERENT");
    assert_true(same);
    /* And the points' files that hold no time: every checkpoint, measures.tsv. */
    const char *pts[] = {"frac_train=0.7,seed=0", "frac_train=0.7,seed=1", "frac_train=0.8,seed=0",
                         "frac_train=0.8,seed=1"};
    for (int i = 0; i < 4; i++) {
        fmt_path(a, "%s/%s/checkpoints", c->ref, pts[i]);
        DIR *d = opendir(a);
        assert_non_null(d);
        int n = 0, n_same = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strncmp(de->d_name, "epoch-", 6) != 0)
                continue;
            fmt_path(a, "%s/%s/checkpoints/%s", c->ref, pts[i], de->d_name);
            fmt_path(b, "%s/%s/checkpoints/%s", mdir, pts[i], de->d_name);
            n++;
            n_same += cmp_files(a, b);
        }
        closedir(d);
        fmt_path(a, "%s/%s/measures.tsv", c->ref, pts[i]);
        fmt_path(b, "%s/%s/measures.tsv", mdir, pts[i]);
        int m = cmp_files(a, b);
        printf("   %s: %d of %d checkpoints identical, measures.tsv %s\n", pts[i], n_same, n,
               m ? "identical" : "DIFFERENT");
        assert_true(n > 0 && n_same == n && m);
    }
}

/* Four SLURM-style array tasks, two at a time: the last to end leaves the
 * complete table, the same bytes as the pool's. */
static void test_array(void **state)
{
    e2e *c = *state;
    if (!c->bin)
        skip();
    make_ref(c);
    char adir[PATH_N], log[4][PATH_N], idx[4][8];
    fmt_path(adir, "%s/array", c->dir);
    double t0 = now_s();
    for (int pair = 0; pair < 2; pair++) {
        pid_t pid[2];
        for (int k = 0; k < 2; k++) {
            int i = 2 * pair + k;
            snprintf(idx[i], sizeof idx[i], "%d", i);
            fmt_path(log[i], "%s/array%d.out", c->dir, i);
            char *argv[] = {(char *)c->bin, "sweep", c->cfg, "--out", adir, "--array-task", idx[i],
                            "--quiet", NULL};
            pid[k] = spawn(log[i], argv);
        }
        for (int k = 0; k < 2; k++) {
            int rc = wait_for(pid[k], 60);
            if (rc != 0) {
                char *out = tu_read_file(log[2 * pair + k], NULL);
                printf("   array task %d exited %d:\n%s\n", 2 * pair + k, rc, out ? out : "");
                free(out);
            }
            assert_int_equal(rc, 0);
        }
    }
    char a[PATH_N], b[PATH_N];
    fmt_path(a, "%s/sweep.tsv", c->ref);
    fmt_path(b, "%s/sweep.tsv", adir);
    int same = cmp_files(a, b);
    printf("   4 array tasks (2 at a time, %.1f s): sweep.tsv vs the pool's: %s\n", now_s() - t0,
           same ? "identical bytes" : "DIFFERENT");
    assert_true(same);
    /* An index beyond the sweep is a usage error. */
    char *argv[] = {(char *)c->bin, "sweep", c->cfg, "--out", adir, "--array-task", "4", NULL};
    fmt_path(log[0], "%s/array_bad.out", c->dir);
    int rc = wait_for(spawn(log[0], argv), 30);
    char *out = tu_read_file(log[0], NULL);
    printf("   --array-task 4: exit %d: %s", rc, out ? out : "");
    assert_int_equal(rc, 2);
    tu_assert_contains(out, "4 points (0..3)");
    free(out);
}

/* 1 when the point's summary.json has its final measures. */
static int point_done(const char *sdir, const char *name)
{
    char path[PATH_N];
    fmt_path(path, "%s/%s", sdir, name);
    return sweep_point_state(path) == SWEEP_PT_DONE;
}

static void test_kill_resume(void **state)
{
    e2e *c = *state;
    if (!c->bin)
        skip();
    make_ref(c);
    char kdir[PATH_N], log[PATH_N];
    fmt_path(kdir, "%s/killed", c->dir);
    fmt_path(log, "%s/killed.out", c->dir);
    const char *pts[] = {"frac_train=0.7,seed=0", "frac_train=0.7,seed=1", "frac_train=0.8,seed=0",
                         "frac_train=0.8,seed=1"};
    char *argv[] = {(char *)c->bin, "sweep", c->cfg, "--out", kdir, "--jobs", "1", NULL};
    pid_t pid = spawn(log, argv);
    double t0 = now_s();
    int n_done = 0;
    while (now_s() - t0 < 60) {
        n_done = 0;
        for (int i = 0; i < 4; i++)
            n_done += point_done(kdir, pts[i]);
        if (n_done >= 1)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    struct timespec ts = {0, 500 * 1000 * 1000}; /* the worker dies with the pool */
    nanosleep(&ts, NULL);
    struct stat before[4];
    int was_done[4];
    n_done = 0;
    for (int i = 0; i < 4; i++) {
        was_done[i] = point_done(kdir, pts[i]);
        n_done += was_done[i];
        char p[PATH_N];
        fmt_path(p, "%s/%s/summary.json", kdir, pts[i]);
        if (stat(p, &before[i]) != 0)
            memset(&before[i], 0, sizeof before[i]);
    }
    printf("   killed after %.2f s with %d of 4 points done\n", now_s() - t0, n_done);
    assert_true(n_done >= 1 && n_done < 4);

    char *argv2[] = {(char *)c->bin, "sweep", c->cfg, "--out", kdir, "--jobs", "2", NULL};
    assert_int_equal(run_cmd(log, 60, argv2), 0);
    char *out = tu_read_file(log, NULL);
    char want[64];
    snprintf(want, sizeof want, "%d done already", n_done);
    tu_assert_contains(out, want);
    free(out);
    for (int i = 0; i < 4; i++) {
        char p[PATH_N];
        fmt_path(p, "%s/%s/summary.json", kdir, pts[i]);
        struct stat after;
        assert_int_equal(stat(p, &after), 0);
        if (!was_done[i])
            continue;
        int same = after.st_ino == before[i].st_ino &&
                   after.st_mtim.tv_sec == before[i].st_mtim.tv_sec &&
                   after.st_mtim.tv_nsec == before[i].st_mtim.tv_nsec;
        printf("   %s, done before the kill: summary.json %s\n", pts[i],
               same ? "untouched" : "REWRITTEN");
        assert_true(same);
    }
    char a[PATH_N], b[PATH_N];
    fmt_path(a, "%s/sweep.tsv", c->ref);
    fmt_path(b, "%s/sweep.tsv", kdir);
    int same = cmp_files(a, b);
    printf("   sweep.tsv, killed and resumed vs uninterrupted: %s\n",
           same ? "identical bytes" : "DIFFERENT");
    assert_true(same);
}

static int group_setup(void **state)
{
    e2e *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    char *dir = tu_tmp_dir();
    fmt_path(c->dir, "%s", dir);
    free(dir);
    *state = c;
    c->bin = getenv("GROK_BIN");
    fmt_path(c->cfg, "%s/small.cfg", c->dir);
    tu_write_text(c->cfg, small_sweep);
    if (!c->bin) {
        printf("# GROK_BIN is not set: the end-to-end sweep tests are skipped\n");
        return 0;
    }
    char log[PATH_N];
    fmt_path(log, "%s/help.out", c->dir);
    char *argv[] = {(char *)c->bin, "help", "sweep", NULL};
    if (wait_for(spawn(log, argv), 30) != 0) {
        printf("# %s has no sweep command: the end-to-end sweep tests are skipped\n", c->bin);
        c->bin = NULL;
    }
    return 0;
}

static int group_teardown(void **state)
{
    e2e *c = *state;
    tu_rm_tmp_dir(strdup(c->dir));
    free(c);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped), cmocka_unit_test(test_expand),       cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_plot_scripts), cmocka_unit_test(test_pool_vs_mpi),
        cmocka_unit_test(test_array),        cmocka_unit_test(test_kill_resume),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
