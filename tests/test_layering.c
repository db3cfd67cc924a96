/* test_layering.c: the module-map checker, tests/check_layering.sh, with the
 * allow-list tests/layering.txt (docs/design.md, "Module map").
 *
 * The checker runs on this source tree (it must pass) and on small trees
 * built here in a scratch directory, each with the real allow-list: a clean
 * tree with one file per module passes; then each tree adds one forbidden
 * include (model -> measures, measures -> experiments, plots -> a model
 * header not on its list, notebooks_export -> experiments), an include of a
 * header that does not exist, a header name held by two folders, or a
 * module folder the table lacks, and the checker must exit 1 and name the
 * file, the line and the include.  A malformed table must exit 2.  The tests
 * run from the repository root, as `make test` runs them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "testutil.h"

#define CHECKER "tests/check_layering.sh"
#define TABLE "tests/layering.txt"

/* Runs the checker on root with table; returns its exit status and its
 * output (stdout and stderr) in a malloc'ed string. */
static int run_checker(const char *root, const char *table, char **out)
{
    struct stat st;
    if (stat(CHECKER, &st) != 0)
        fail_msg("%s not found: run the test from the repository root", CHECKER);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "sh %s '%s' '%s' 2>&1", CHECKER, root, table);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    sbuf b;
    sbuf_init(&b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        sbuf_append(&b, buf, n);
    int st_exit = pclose(p);
    assert_false(b.oom);
    *out = strdup(b.data ? b.data : "");
    sbuf_free(&b);
    printf("# %s %s -> exit %d:\n%s", CHECKER, root,
           WIFEXITED(st_exit) ? WEXITSTATUS(st_exit) : -1, *out);
    assert_true(WIFEXITED(st_exit));
    return WEXITSTATUS(st_exit);
}

/* Writes text to root/rel, making its directories. */
static void put(const char *root, const char *rel, const char *text)
{
    char *path = tu_path_in(root, rel);
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    grok_err e;
    assert_int_equal(fileio_mkdir_p(dir, &e), GROK_OK);
    tu_write_text(path, text);
    free(dir);
    free(path);
}

/* A small tree that follows the map: one header per module, each file
 * including what its folder may, and the real allow-list. */
static char *clean_tree(void)
{
    char *root = tu_tmp_dir();
    char *table = tu_read_file(TABLE, NULL);
    assert_non_null(table);
    put(root, TABLE, table);
    free(table);
    put(root, "model/grok.h", "/* grok.h */\n");
    put(root, "model/fileio.h", "#include \"grok.h\"\n");
    put(root, "model/safetensors.h", "#include \"grok.h\"\n");
    put(root, "model/rundir.h", "#include \"grok.h\"\n");
    put(root, "model/tfm.h", "#include \"grok.h\"\n#include <stdio.h>\n");
    put(root, "model/tfm.c", "#include \"tfm.h\"\n#include \"fileio.h\"\n");
    put(root, "measures/meas.h", "#include \"tfm.h\"\n");
    put(root, "measures/meas.c", "#include \"meas.h\"\n#include \"safetensors.h\"\n");
    put(root, "plots/plot.h", "#include \"fileio.h\"\n#include \"grok.h\"\n");
    put(root, "plots/plot.c", "#include \"plot.h\"\n");
    put(root, "notebooks_export/export.h", "#include \"safetensors.h\"\n");
    put(root, "notebooks_export/export.c", "#include \"export.h\"\n#include \"fileio.h\"\n");
    put(root, "experiments/run.h", "#include \"meas.h\"\n#include \"plot.h\"\n");
    put(root, "experiments/run.c", "#include \"run.h\"\n#include \"export.h\"\n");
    put(root, "tests/test_x.c",
        "#include \"run.h\"\n#include \"golden/g.h\"\n/* #include \"nothing.h\" */\n");
    put(root, "tests/golden/g.h", "#include \"../testutil.h\"\n");
    put(root, "tests/testutil.h", "\n");
    /* outside the module folders: never read */
    put(root, "build/model/junk.c", "#include \"run.h\"\n");
    return root;
}

/* The checker on tree root (with its own copy of the table). */
static int check_tree(const char *root, char **out)
{
    char *table = tu_path_in(root, TABLE);
    int rc = run_checker(root, table, out);
    free(table);
    return rc;
}

static void test_this_tree_passes(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(run_checker(".", TABLE, &out), 0);
    tu_assert_contains(out, "module map: ok");
    free(out);
}

static void test_clean_tree_passes(void **state)
{
    (void)state;
    char *root = clean_tree(), *out;
    assert_int_equal(check_tree(root, &out), 0);
    /* 21 quoted includes in the 16 module files (build/ and the commented
     * include are skipped) */
    tu_assert_contains(out, "module map: ok (22 includes in 17 files)");
    free(out);
    tu_rm_tmp_dir(root);
}

/* Adds file rel with text to a clean tree and expects exit 1 with each of
 * the needles in the output. */
static void expect_violation(const char *rel, const char *text, const char *needle1,
                             const char *needle2)
{
    char *root = clean_tree(), *out;
    put(root, rel, text);
    assert_int_equal(check_tree(root, &out), 1);
    tu_assert_contains(out, needle1);
    if (needle2)
        tu_assert_contains(out, needle2);
    tu_assert_contains(out, "module map: 1 violation");
    free(out);
    tu_rm_tmp_dir(root);
}

static void test_model_may_not_include_measures(void **state)
{
    (void)state;
    expect_violation("model/optim.c", "#include \"grok.h\"\n\n  #  include \"meas.h\" // no\n",
                     "model/optim.c:3: #include \"meas.h\" (measures/meas.h): model/ may not "
                     "include headers of measures/",
                     NULL);
}

static void test_measures_may_not_include_experiments(void **state)
{
    (void)state;
    expect_violation("measures/fourier.c", "#include \"run.h\"\n",
                     "measures/fourier.c:1: #include \"run.h\" (experiments/run.h)",
                     "may not include headers of experiments/");
}

static void test_plots_only_listed_model_headers(void **state)
{
    (void)state;
    expect_violation("plots/gp.c", "#include \"grok.h\"\n#include \"tfm.h\"\n",
                     "plots/gp.c:2: #include \"tfm.h\" (model/tfm.h): plots/ may not include "
                     "headers of model/",
                     "plots may include: plots model/grok.h model/fileio.h model/rundir.h");
}

static void test_export_may_not_include_experiments(void **state)
{
    (void)state;
    expect_violation("notebooks_export/npy.h", "#include \"fileio.h\"\n#include \"run.h\"\n",
                     "notebooks_export/npy.h:2: #include \"run.h\" (experiments/run.h)", NULL);
}

static void test_missing_header(void **state)
{
    (void)state;
    expect_violation("experiments/main.c", "#include \"run.h\"\n#include \"gone.h\"\n",
                     "experiments/main.c:2: #include \"gone.h\": no such header in the tree", NULL);
}

static void test_ambiguous_header(void **state)
{
    (void)state;
    /* measures/tfm.h beside model/tfm.h: inside measures/ the compiler takes
     * its own (allowed), anywhere else the name is ambiguous */
    char *root, *out;
    root = clean_tree();
    put(root, "measures/tfm.h", "\n");
    put(root, "experiments/bench.c", "#include \"tfm.h\"\n");
    assert_int_equal(check_tree(root, &out), 1);
    tu_assert_contains(out, "experiments/bench.c:1: #include \"tfm.h\": ambiguous, both "
                            "model/tfm.h and measures/tfm.h exist");
    tu_assert_contains(out, "module map: 1 violation");
    free(out);
    tu_rm_tmp_dir(root);
}

static void test_unlisted_folder(void **state)
{
    (void)state;
    expect_violation("losses/ce.c", "#include \"grok.h\"\n",
                     "losses/ce.c: folder losses/ holds C sources but is not in", NULL);
}

static void test_malformed_table(void **state)
{
    (void)state;
    char *root = clean_tree(), *out;
    put(root, TABLE, "model: model\nplots: plots model/nothing.h\n");
    assert_int_equal(check_tree(root, &out), 2);
    tu_assert_contains(out, "plots: model/nothing.h is not a header of the tree");
    free(out);
    put(root, TABLE, "model: model\nmodel: measures\n");
    assert_int_equal(check_tree(root, &out), 2);
    tu_assert_contains(out, "folder model listed twice");
    free(out);
    put(root, TABLE, "model: model\nmeasures model\n");
    assert_int_equal(check_tree(root, &out), 2);
    tu_assert_contains(out, "expected \"FOLDER: ALLOWED...\"");
    free(out);
    tu_rm_tmp_dir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_this_tree_passes),
        cmocka_unit_test(test_clean_tree_passes),
        cmocka_unit_test(test_model_may_not_include_measures),
        cmocka_unit_test(test_measures_may_not_include_experiments),
        cmocka_unit_test(test_plots_only_listed_model_headers),
        cmocka_unit_test(test_export_may_not_include_experiments),
        cmocka_unit_test(test_missing_header),
        cmocka_unit_test(test_ambiguous_header),
        cmocka_unit_test(test_unlisted_folder),
        cmocka_unit_test(test_malformed_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
