/* test_reproduce.c: `grok reproduce` (experiments/reproduce.h), driven
 * through the built binary (GROK_BIN, set by make test).
 *
 *  - every claim of experiments/papers/ loads, and a --smoke run of each (a
 *    tiny model for a few epochs, the claims it depends on first) runs end
 *    to end and writes its comparison table with every run done;
 *  - the comparison's numbers, from hand-written run directories whose
 *    answers are known: first epoch and step over a threshold, the delay,
 *    Liu et al.'s phases, max and last, median [min, max], "(k/n)" and
 *    pending runs;
 *  - bad claim files and names are refused with a message naming the file,
 *    the line and the key;
 *  - --set init.from gives a claim its starting run, and the claims of its
 *    claim.after are then not run;
 *  - every single-run config of experiments/ (the reproductions outside a
 *    sweep: Grokfast's model, Prieto et al.'s StableMax setting, ...) trains
 *    end to end shrunk the same way, and the gnuplot scripts of the runs
 *    kept in experiments/ (peer_runs/: PyTorch beside grok; critical_size/:
 *    Varma et al.'s critical size from both sides) draw their figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *grok_bin(void)
{
    const char *b = getenv("GROK_BIN");
    return b && b[0] ? b : NULL;
}

/* Skips the calling test when GROK_BIN is not set. */
static void need_grok(void)
{
    if (!grok_bin()) {
        printf("# GROK_BIN is not set: skipped\n");
        skip();
    }
}

/* Runs "GROK ARGS" in dir; the exit status, the output in *log. */
static int run_grok(const char *dir, char **log, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", dir, grok_bin(), args);
    return tu_run_shell(dir, cmd, log);
}

/* The number of lines of text that are not empty and not '#' comments. */
static int table_rows(const char *text)
{
    int n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && p[0] != '#')
            n++;
        p += len + (nl != NULL);
    }
    return n;
}

/* A directory entry's name without ".cfg" into name; 0 when it is not a
 * config file. */
static int cfg_stem(const struct dirent *ent, char *name, size_t n)
{
    size_t len = strlen(ent->d_name);
    if (len < 5 || strcmp(ent->d_name + len - 4, ".cfg") != 0)
        return 0;
    snprintf(name, n, "%.*s", (int)(len - 4), ent->d_name);
    return 1;
}

/* ------------------------------------------------------------------------ */

static void test_claims_smoke(void **state)
{
    const char *dir = *state;
    need_grok();
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char papers[4200];
    snprintf(papers, sizeof papers, "%s/experiments/papers", cwd);
    DIR *d = opendir(papers);
    assert_non_null(d);
    char *log = NULL;
    int rc = run_grok(cwd, &log, "reproduce --list");
    printf("# grok reproduce --list:\n%s", log);
    assert_int_equal(rc, 0);
    int n = 0;
    for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
        char name[256];
        if (!cfg_stem(ent, name, sizeof name))
            continue;
        assert_non_null(strstr(log, name)); /* --list names it */
        char *out = NULL;
        rc = run_grok(dir, &out, "reproduce '%s/%s' --smoke --jobs 2 --quiet", papers,
                      ent->d_name);
        if (rc != 0)
            printf("# %s: exit %d\n%s\n", name, rc, out);
        assert_int_equal(rc, 0);
        free(out);
        char tsv[4400];
        snprintf(tsv, sizeof tsv, "%s/runs/papers/%s/reproduce.tsv", dir, name);
        char *t = tu_read_file(tsv, NULL);
        assert_non_null(t);
        assert_true(strncmp(t, "# ", 2) == 0);
        assert_non_null(strstr(t, "\ttheirs\t"));
        /* every row's last cell: all its runs done */
        int rows = table_rows(t) - 1;
        assert_true(rows >= 1);
        const char *p = strchr(strchr(t, '\n') + 1, '\n') + 1; /* after comment and header */
        for (int r = 0; r < rows; r++) {
            const char *nl = strchr(p, '\n');
            assert_non_null(nl);
            const char *tab = nl;
            while (tab > p && tab[-1] != '\t')
                tab--;
            int a, b;
            assert_int_equal(sscanf(tab, "%d/%d", &a, &b), 2);
            assert_int_equal(a, b);
            p = nl + 1;
        }
        printf("# %-24s %d rows\n", name, rows);
        free(t);
        n++;
    }
    closedir(d);
    free(log);
    assert_true(n >= 16);
}

/* A claim's claim.after makes its init.from run; --set init.from gives that
 * run instead, and the claims of after are then not run. */
static void test_after_given_from(void **state)
{
    const char *dir = *state;
    need_grok();
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char *log = NULL;
    int rc = run_grok(dir, &log,
                      "reproduce '%s/experiments/papers/varma2023_grok.cfg' --smoke --quiet "
                      "--out kept/grok",
                      cwd);
    printf("# %s", log);
    assert_int_equal(rc, 0);
    free(log);
    rc = run_grok(dir, &log,
                  "reproduce '%s/experiments/papers/varma2023_ungrok.cfg' --smoke --jobs 2 "
                  "--set ' init.from = \"kept/grok/seed=0\"'", /* spaces allowed as in --set */
                  cwd);
    printf("# %s", log);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(log, "varma2023_ungrok starts from \"kept/grok/seed=0\" (--set "
                                "init.from), so varma2023_grok is not run first"));
    free(log);
    char p[4400];
    snprintf(p, sizeof p, "%s/runs/papers/varma2023_grok", dir);
    struct stat st;
    assert_int_not_equal(stat(p, &st), 0); /* the claim of after did not run */
    snprintf(p, sizeof p, "%s/runs/papers/varma2023_ungrok/reproduce.tsv", dir);
    assert_int_equal(stat(p, &st), 0);
    /* each fork names the given run as its origin */
    snprintf(p, sizeof p, "%s/runs/papers/varma2023_ungrok/frac=0.05,seed=0/config.cfg", dir);
    char *cfg = tu_read_file(p, NULL);
    assert_non_null(cfg);
    assert_non_null(strstr(cfg, "kept/grok/seed=0"));
    free(cfg);
}

/* ------------------------------------------------------------------------ */
/* the numbers, from hand-made runs */

static void fake_run(const char *dir, const char *name, const char *status, const char *rows)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/fake/%s", dir, name);
    assert_int_equal(mkdir(p, 0755), 0);
    char *f = tu_path_in(p, "summary.json");
    char js[256];
    snprintf(js, sizeof js, "{\"status\": \"%s\", \"n_train\": 60}\n", status);
    tu_write_text(f, js);
    free(f);
    f = tu_path_in(p, "metrics.tsv");
    char *m = malloc(strlen(rows) + 128);
    sprintf(m, "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s\n%s", rows);
    tu_write_text(f, m);
    free(m);
    free(f);
}

static const char fake_claim[] =
    "name = \"fake\";\n"
    "out = \"fake\";\n"
    "set = { task = { p = 11; frac_train = 0.5; }; train = { batch = 10; epochs = 100; }; };\n"
    "axes = ( { key = \"optim.weight_decay\"; values = [0.0, 1.0]; name = \"wd\"; },\n"
    "         { key = \"seed\"; values = [0, 1, 2]; } );\n"
    "claim = {\n"
    "  paper = \"P 2000\"; says = \"S\"; by = \"optim.weight_decay\"; theirs = [\"a\", \"b\"];\n"
    "  report = [\"first test_acc >= 0.9\", \"first test_acc >= 0.9 steps\", \"delay 0.9\",\n"
    "            \"phase 0.9 100\", \"max test_acc\", \"last train_loss\"];\n"
    "  note = \"N\";\n"
    "};\n";

static void test_numbers(void **state)
{
    const char *dir = *state;
    need_grok();
    char *cfg = tu_path_in(dir, "fake.cfg");
    tu_write_text(cfg, fake_claim);
    char *log = NULL;
    /* before any run: refused, pointing to the command */
    int rc = run_grok(dir, &log, "reproduce fake.cfg --report");
    printf("# %s", log);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(log, "has not run yet"));
    free(log);

    char p[4096];
    snprintf(p, sizeof p, "%s/fake", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    char *sc = tu_path_in(p, "sweep.cfg");
    tu_write_text(sc, "# made by the test\n");
    free(sc);
    /* wd 0: memorisation only; grokking (test 40 epochs = 240 steps after
     * train); comprehension (60 steps after) */
    fake_run(dir, "wd=0,seed=0", "finished",
             "0\t0\t4\t4\t0.1\t0.1\t0\n10\t0\t0.5\t4\t0.95\t0.2\t0\n20\t0\t0.25\t4\t1\t0.3\t0\n");
    fake_run(dir, "wd=0,seed=1", "stopped",
             "0\t0\t4\t4\t0.1\t0.1\t0\n10\t0\t0.5\t4\t0.9\t0.2\t0\n50\t0\t0.125\t4\t1\t0.95\t0\n");
    fake_run(dir, "wd=0,seed=2", "stopped",
             "0\t0\t4\t4\t0.1\t0.1\t0\n10\t0\t0.5\t4\t0.9\t0.5\t0\n20\t0\t0.5\t4\t1\t0.9\t0\n");
    /* wd 1: one run missing, two confused */
    fake_run(dir, "wd=1,seed=1", "finished", "0\t0\t4\t4\t0.1\t0.1\t0\n100\t0\t3\t4\t0.5\t0.1\t0\n");
    fake_run(dir, "wd=1,seed=2", "finished", "0\t0\t4\t4\t0.1\t0.1\t0\n100\t0\t2\t4\t0.4\t0.1\t0\n");

    rc = run_grok(dir, &log, "reproduce fake.cfg --report");
    printf("%s", log);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(log, "P 2000: S"));
    assert_non_null(strstr(log, "here: N"));
    free(log);
    char *tsv = tu_path_in(p, "reproduce.tsv");
    char *t = tu_read_file(tsv, NULL);
    assert_non_null(t);
    const char *want =
        "# P 2000: S\n"
        "optim.weight_decay\ttheirs\tfirst test_acc >= 0.9\tfirst test_acc >= 0.9 steps\t"
        "delay 0.9\tphase 0.9 100\tmax test_acc\tlast train_loss\truns\n"
        "0\ta\t35 [20, 50] (2/3)\t210 [120, 300] (2/3)\t25 [10, 40] (2/3)\t"
        "comprehension 1/3, grokking 1/3, memorisation 1/3\t0.9 [0.3, 0.95]\t"
        "0.25 [0.125, 0.5]\t3/3\n"
        "1\tb\tnever (0/3) *2/3 done\tnever (0/3) *2/3 done\tnever (0/3) *2/3 done\t"
        "confusion 2/3\t0.1 *2/3 done\t2.5 [2, 3] *2/3 done\t2/3\n";
    if (strcmp(t, want) != 0)
        printf("# got:\n%s# want:\n%s", t, want);
    assert_string_equal(t, want);
    free(t);
    free(tsv);
    free(cfg);
}

/* ------------------------------------------------------------------------ */
/* refusals */

static void expect_refusal(const char *dir, const char *claim_body, const char *needle)
{
    char *cfg = tu_path_in(dir, "bad.cfg");
    char text[4096];
    snprintf(text, sizeof text,
             "name = \"bad\";\nset = { task = { p = 11; }; train = { epochs = 2; }; };\n"
             "axes = ( { key = \"seed\"; values = [0, 1]; } );\n%s",
             claim_body);
    tu_write_text(cfg, text);
    char *log = NULL;
    int rc = run_grok(dir, &log, "reproduce bad.cfg --report");
    printf("# %s", log);
    assert_int_equal(rc, 2);
    tu_assert_contains_at(log, needle, __FILE__, __LINE__);
    free(log);
    free(cfg);
}

static void test_refusals(void **state)
{
    const char *dir = *state;
    need_grok();
    expect_refusal(dir, "", "bad.cfg: no claim group");
    expect_refusal(dir, "claim = 3;\n", "bad.cfg:4: claim is an integer; expected a group");
    expect_refusal(dir,
                   "claim = { paper = \"P\"; says = \"S\"; theirs = \"T\"; report = [\"last "
                   "test_acc\"]; colour = \"red\"; };\n",
                   "bad.cfg:4: claim: unknown key 'colour'; valid: paper, says, theirs, by");
    expect_refusal(dir, "claim = { says = \"S\"; theirs = \"T\"; report = [\"last x\"]; };\n",
                   "bad.cfg:4: claim: no 'paper'");
    expect_refusal(dir,
                   "claim = { paper = \"P\"; says = \"S\"; theirs = \"T\"; report = [\"first "
                   "test_acc > 0.9\"]; };\n",
                   "claim.report \"first test_acc > 0.9\": expected 'first COLUMN >= X'");
    expect_refusal(dir,
                   "claim = { paper = \"P\"; says = \"S\"; theirs = \"T\"; report = [\"median "
                   "x\"]; };\n",
                   "unknown kind 'median'; valid: first, last, max, min, delay, phase");
    expect_refusal(dir,
                   "claim = { paper = \"P\"; says = \"S\"; theirs = \"T\"; by = \"task.p\"; "
                   "report = [\"last x\"]; };\n",
                   "claim.by \"task.p\" is not an axis of the sweep; its axes: seed");
    expect_refusal(dir,
                   "claim = { paper = \"P\"; says = \"S\"; theirs = [\"a\", \"b\", \"c\"]; by = "
                   "\"seed\"; report = [\"last x\"]; };\n",
                   "claim.theirs has 3 entries; give one, or one per value of claim.by (2)");
    char *log = NULL;
    int rc = run_grok(dir, &log, "reproduce no_such_claim");
    printf("# %s", log);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(log, "no claim 'no_such_claim'"));
    free(log);
    rc = run_grok(dir, &log, "reproduce --smoke");
    assert_int_equal(rc, 2);
    assert_non_null(strstr(log, "which claim?"));
    free(log);
}

/* The keys that shrink a run to a tiny model for a few epochs: those of
 * `grok reproduce --smoke`. */
static const char smoke_sets[] =
    "--set train.epochs=6 --set train.eval_every=2 --set train.stop_test_acc=0.0 "
    "--set model.d_model=8 --set model.n_heads=2 --set model.d_head=4 --set model.d_mlp=16 "
    "--set model.d_embed=8 --set model.d_hidden=16 --set checkpoint.every=3 "
    "--set checkpoint.every_early=3 --set checkpoint.early_until=0 --set measures.every=3 "
    "--set 'plots.formats=\"\"'";

static void test_experiments_smoke(void **state)
{
    const char *dir = *state;
    need_grok();
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    DIR *d = opendir("experiments");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
        char name[256];
        if (!cfg_stem(ent, name, sizeof name))
            continue;
        char *log = NULL;
        int rc = run_grok(dir, &log, "train '%s/experiments/%s' %s --out '%s' --threads 1 --quiet",
                          cwd, ent->d_name, smoke_sets, name);
        if (rc != 0)
            printf("# %s: exit %d\n%s\n", ent->d_name, rc, log);
        assert_int_equal(rc, 0);
        free(log);
        /* the run finished: its summary, and metrics at epochs 0, 2, 4, 6 */
        char path[4400];
        snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
        char *t = tu_read_file(path, NULL);
        assert_non_null(t);
        free(t);
        snprintf(path, sizeof path, "%s/%s/metrics.tsv", dir, name);
        t = tu_read_file(path, NULL);
        assert_non_null(t);
        assert_int_equal(table_rows(t), 1 + 4);
        assert_non_null(strstr(t, "\n6\t"));
        free(t);
        printf("# %-28s trained 6 epochs\n", ent->d_name);
        n++;
    }
    closedir(d);
    assert_true(n >= 9);
}

/* The figures drawn from runs kept in experiments/ (each folder's TSVs and
 * its gnuplot script) draw without a warning. */
static void test_kept_runs_figures(void **state)
{
    const char *dir = *state;
    char *log = NULL;
    if (tu_run_shell(dir, "command -v gnuplot >/dev/null", &log) != 0) {
        free(log);
        printf("# no gnuplot: skipped\n");
        skip();
    }
    free(log);
    static const char *const scripts[] = {"experiments/peer_runs/prieto2025_stablemax.gp",
                                          "experiments/critical_size/critical_size.gp"};
    char cwd[4096], cmd[8400];
    assert_non_null(getcwd(cwd, sizeof cwd));
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        char *png = tu_path_in(dir, "kept.png");
        snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot -e \"out='%s'\" %s", cwd, png, scripts[i]);
        int rc = tu_run_shell(dir, cmd, &log);
        printf("# %s\n%s", scripts[i], log);
        assert_int_equal(rc, 0);
        assert_null(strstr(log, "warning")); /* e.g. a data file that is not there */
        free(log);
        size_t n = 0;
        char *b = tu_read_file(png, &n);
        assert_non_null(b);
        assert_true(n > 10000);
        assert_memory_equal(b, "\x89PNG", 4);
        free(b);
        remove(png);
        free(png);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refusals, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_claims_smoke, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_after_given_from, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_experiments_smoke, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_kept_runs_figures, tu_setup_dir, tu_teardown_dir),
    };
    /* GROK_TEST_ONLY=test_after_given_from (a glob) runs the matching tests only */
    if (getenv("GROK_TEST_ONLY"))
        cmocka_set_test_filter(getenv("GROK_TEST_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
