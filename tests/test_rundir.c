/* test_rundir.c: the run directory's readers (model/rundir.h).
 *
 *   tsv_policy      numbers, none/null/nan, text cells, the kept comment,
 *                   line numbers; rundir_tsv_need names file, line, column
 *                   and cell of the first non-number, or the missing column.
 *   tsv_bad_rows    a row of the wrong width is GROK_EFORMAT naming the
 *                   file's path and line (also headerless, and read from a
 *                   directory); an empty text is refused.
 *   summary_round   values written the way experiments/run_files.c writes
 *                   summary.json (%.9g reals from a seeded generator,
 *                   integers, null, sbuf_json_string with escapes) read back:
 *                   numbers equal, strings equal, cells equal the written
 *                   text byte for byte, nested paths, absent members.
 *   summary_errors  a truncated summary.json (every cut of a valid one) and
 *                   a duplicate key are GROK_EFORMAT with the path; absent is 0.
 *   config          config.cfg through libconfig: every kind of value as
 *                   text, and cfg_format's default config read back equal.
 *   checkpoints     names and epochs round trip; other names are ignored;
 *                   the listing is sorted; no folder is GROK_EINVAL. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cfg.h"
#include "fileio.h"
#include "rundir.h"
#include "testutil.h"

static void write_in(const char *dir, const char *name, const char *text)
{
    char *p = tu_path_in(dir, name);
    tu_write_text(p, text);
    free(p);
}

/* ---- TSV --------------------------------------------------------------------- */

static void test_tsv_policy(void **state)
{
    (void)state;
    const char *text = "# a comment\n"
                       "epoch\tloss\tkey_freqs\tgrokked\n"
                       "\n"
                       "0\t2.5\t14,35\tnone\n"
                       "# between rows\n"
                       "10\tnan\tnone\t120\r\n"
                       "20\t-1e-3\t7\tnull\n";
    rundir_tsv t;
    grok_err e = {{0}};
    assert_int_equal(rundir_tsv_parse(&t, text, "m.tsv", 0, &e), GROK_OK);
    assert_int_equal(t.n_cols, 4);
    assert_int_equal(t.n_rows, 3);
    assert_string_equal(t.comment, "a comment");
    assert_int_equal(t.line[0], 4);
    assert_int_equal(t.line[2], 7);
    assert_int_equal(rundir_tsv_col(&t, "key_freqs"), 2);
    assert_int_equal(rundir_tsv_col(&t, "nope"), -1);
    assert_true(rundir_tsv_at(&t, 2, 1) == -1e-3);
    assert_true(isnan(rundir_tsv_at(&t, 1, 1)));
    assert_true(isnan(rundir_tsv_at(&t, 0, 3)) && rundir_tsv_at(&t, 1, 3) == 120);
    assert_true(isnan(rundir_tsv_at(&t, 0, 2)) && rundir_tsv_at(&t, 2, 2) == 7);
    assert_string_equal(t.text[0 * 4 + 2], "14,35");
    assert_int_equal(t.numeric[0] + t.numeric[1] + t.numeric[3], 3); /* none/null/nan count */
    assert_int_equal(t.numeric[2], 0);

    const char *const ok[] = {"epoch", "loss", "grokked"};
    assert_int_equal(rundir_tsv_need(&t, ok, 3, &e), GROK_OK);
    const char *const bad[] = {"epoch", "key_freqs"};
    assert_int_equal(rundir_tsv_need(&t, bad, 2, &e), GROK_EFORMAT);
    printf("# %s\n", e.msg);
    assert_string_equal(e.msg, "m.tsv:4: column 'key_freqs': '14,35' is not a number");
    const char *const missing[] = {"test_acc"};
    assert_int_equal(rundir_tsv_need(&t, missing, 1, &e), GROK_EFORMAT);
    assert_string_equal(e.msg, "m.tsv: no column 'test_acc'");
    rundir_tsv_free(&t);
    rundir_tsv_free(&t); /* harmless twice */

    /* a text cell after numbers: the first offending row is named */
    assert_int_equal(rundir_tsv_parse(&t, "a\tb\n1\t2\n3\tx2\n4\ty\n", "n.tsv", 0, &e), GROK_OK);
    const char *const b[] = {"b"};
    assert_int_equal(rundir_tsv_need(&t, b, 1, &e), GROK_EFORMAT);
    assert_string_equal(e.msg, "n.tsv:3: column 'b': 'x2' is not a number");
    rundir_tsv_free(&t);

    /* headerless: the logit spectrum's layout */
    assert_int_equal(rundir_tsv_parse(&t, "# spectrum, epoch 9\n1\t2\n3\t4\n", "s.tsv",
                                      RUNDIR_TSV_NO_HEADER, &e),
                     GROK_OK);
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(t.n_cols, 2);
    assert_true(t.v[0] == 1 && t.v[3] == 4);
    assert_string_equal(t.comment, "spectrum, epoch 9");
    rundir_tsv_free(&t);
}

static void test_tsv_bad_rows(void **state)
{
    const char *dir = *state;
    rundir_tsv t;
    grok_err e = {{0}};
    static const struct {
        const char *text, *msg;
        int flags;
    } bad[] = {
        {"a\tb\tc\n1\t2\t3\n4\t5\n", "x.tsv:3: 2 cells, but the header has 3", 0},
        {"# c\na\tb\n1\t2\t3\n", "x.tsv:3: 3 cells, but the header has 2", 0},
        {"a\tb\n1\t2\n\n1\t2\t\n", "x.tsv:4: 3 cells, but the header has 2", 0},
        {"1\t2\n3\n", "x.tsv:2: 1 cells, but the first row has 2", RUNDIR_TSV_NO_HEADER},
        {"", "x.tsv: empty (no header row)", 0},
        {"# only a comment\n\n", "x.tsv: empty (no header row)", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rundir_tsv_parse(&t, bad[i].text, "x.tsv", bad[i].flags, &e),
                         GROK_EFORMAT);
        printf("# %s\n", e.msg);
        assert_string_equal(e.msg, bad[i].msg);
        assert_null(t.v);
        rundir_tsv_free(&t);
    }
    /* from a directory: the path is named; absent is 0 */
    write_in(dir, RUNDIR_METRICS, "epoch\ttrain_loss\n0\t1\n10\n");
    assert_int_equal(rundir_tsv_read(&t, dir, RUNDIR_METRICS, 0, &e), GROK_EFORMAT);
    char want[4096];
    snprintf(want, sizeof want, "%s/metrics.tsv:3: 1 cells, but the header has 2", dir);
    assert_string_equal(e.msg, want);
    assert_int_equal(rundir_tsv_read(&t, dir, RUNDIR_MEASURES, 0, &e), 0);
    write_in(dir, RUNDIR_MEASURES, "epoch\n0\n");
    assert_int_equal(rundir_tsv_read(&t, dir, RUNDIR_MEASURES, 0, &e), 1);
    assert_int_equal(t.n_rows, 1);
    rundir_tsv_free(&t);
}

/* ---- summary.json ------------------------------------------------------------- */

static void cell_of(const rundir_summary *s, const char *key, char *buf, size_t n)
{
    sbuf b;
    sbuf_init(&b);
    rundir_summary_cell(s, key, &b);
    snprintf(buf, n, "%s", b.data ? b.data : "");
    sbuf_free(&b);
}

static void test_summary_round_trip(void **state)
{
    (void)state;
    enum { N = 400 };
    tu_xs g = {0x5eed1234u};
    double x[N];
    char txt[N][32];
    sbuf b;
    sbuf_init(&b);
    sbuf_puts(&b, "{\n  \"format\": \"grok-summary-1\",\n  \"status\": ");
    const char *status = "fin\"ished\\ \xc3\xa9\t/";
    sbuf_json_string(&b, status);
    sbuf_puts(&b, ",\n  \"epochs_done\": 4200,\n  \"memorised_epoch\": 150,\n"
                  "  \"grokked_epoch\": null,\n  \"final\": {\"epoch\": 4200, \"test_loss\": ");
    sbuf_puts(&b, "1.25e-05}");
    sbuf_puts(&b, ",\n  \"key_freqs\": [14, 35, 41],\n  \"irreps\": [\"41\", \"11111\"],\n"
                 "  \"mixed\": [1, [2]],\n  \"empty\": [],\n  \"values\": {");
    for (int i = 0; i < N; i++) {
        /* doubles over many magnitudes, written as run.c writes them (%.9g) */
        double v = tu_xs_normal(&g) * pow(10.0, (double)(i % 41) - 20.0);
        snprintf(txt[i], sizeof txt[i], "%.9g", v);
        x[i] = strtod(txt[i], NULL);
        sbuf_printf(&b, "%s\"v%d\": %s", i ? ", " : "", i, txt[i]);
    }
    sbuf_puts(&b, "},\n  \"phases\": {\"memorisation_end\": 300, \"cleanup_end\": null}\n}\n");
    assert_false(b.oom);

    rundir_summary s;
    grok_err e = {{0}};
    assert_int_equal(rundir_summary_parse(&s, b.data, b.len, "summary.json", &e), GROK_OK);
    char cell[64], key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "values.v%d", i);
        assert_true(rundir_summary_num(&s, key) == x[i]);
        cell_of(&s, key, cell, sizeof cell);
        if (strcmp(cell, txt[i]) != 0)
            printf("# %s: written %s, cell %s\n", key, txt[i], cell);
        assert_string_equal(cell, txt[i]);
    }
    printf("# %d %%.9g values read back equal, their cells equal to the written text\n", N);
    assert_string_equal(rundir_summary_str(&s, "status"), status);
    cell_of(&s, "status", cell, sizeof cell);
    assert_string_equal(cell, status);
    assert_int_equal(rundir_summary_epoch(&s, "epochs_done"), 4200);
    assert_int_equal(rundir_summary_epoch(&s, "memorised_epoch"), 150);
    assert_int_equal(rundir_summary_epoch(&s, "grokked_epoch"), -1);
    assert_non_null(rundir_summary_get(&s, "grokked_epoch")); /* present, null */
    assert_true(isnan(rundir_summary_num(&s, "grokked_epoch")));
    assert_int_equal(rundir_summary_epoch(&s, "final.epoch"), 4200);
    assert_true(rundir_summary_num(&s, "final.test_loss") == 1.25e-05);
    cell_of(&s, "final.test_loss", cell, sizeof cell);
    assert_string_equal(cell, "1.25e-05");
    assert_int_equal(rundir_summary_epoch(&s, "phases.memorisation_end"), 300);
    assert_int_equal(rundir_summary_epoch(&s, "phases.cleanup_end"), -1);
    int kf[8];
    assert_int_equal(rundir_summary_ints(&s, "key_freqs", kf, 8), 3);
    assert_true(kf[0] == 14 && kf[1] == 35 && kf[2] == 41);
    cell_of(&s, "key_freqs", cell, sizeof cell);
    assert_string_equal(cell, "14,35,41");
    cell_of(&s, "irreps", cell, sizeof cell); /* an array of strings (key irreps) */
    assert_string_equal(cell, "41,11111");
    static const char *const none[] = {"grokked_epoch", "empty", "absent", "final.absent", "mixed",
                                       "status.x", "phases.cleanup_end", "values"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        cell_of(&s, none[i], cell, sizeof cell);
        assert_string_equal(cell, "none");
    }
    assert_null(rundir_summary_get(&s, "absent"));
    assert_null(rundir_summary_str(&s, "epochs_done"));
    assert_true(isnan(rundir_summary_num(&s, "status")));
    rundir_summary_free(&s);
    rundir_summary_free(&s);
    /* an empty summary answers like an absent one */
    assert_null(rundir_summary_get(&s, "status"));
    cell_of(&s, "status", cell, sizeof cell);
    assert_string_equal(cell, "none");
    sbuf_free(&b);
}

static void test_summary_errors(void **state)
{
    const char *dir = *state;
    rundir_summary s = {NULL};
    grok_err e = {{0}};
    assert_int_equal(rundir_summary_read(&s, dir, &e), 0);
    const char *good = "{\n  \"status\": \"finished\",\n  \"phases\": {\"cleanup_end\": 7},\n"
                       "  \"key_freqs\": [1, 2]\n}\n";
    write_in(dir, RUNDIR_SUMMARY, good);
    assert_int_equal(rundir_summary_read(&s, dir, &e), 1);
    assert_int_equal(rundir_summary_epoch(&s, "phases.cleanup_end"), 7);
    rundir_summary_free(&s);

    /* every truncation of the object (the trailing newline aside) */
    char *path = tu_path_in(dir, RUNDIR_SUMMARY);
    size_t n = strlen(good) - 1, truncated = 0;
    for (size_t k = 0; k < n; k++) {
        char cut[256];
        memcpy(cut, good, k);
        cut[k] = '\0';
        write_in(dir, RUNDIR_SUMMARY, cut);
        assert_int_equal(rundir_summary_read(&s, dir, &e), GROK_EFORMAT);
        assert_null(s.root);
        tu_assert_contains(e.msg, path);
        tu_assert_contains(e.msg, "invalid JSON at line");
        truncated += strstr(e.msg, "truncated?") != NULL;
        if (k == n / 2)
            printf("# cut at %zu: %s\n", k, e.msg);
    }
    printf("# %zu truncations refused, %zu of them named as truncated\n", n, truncated);
    assert_true(truncated > n / 2);

    write_in(dir, RUNDIR_SUMMARY, "{\"status\": \"a\", \"status\": \"b\"}");
    assert_int_equal(rundir_summary_read(&s, dir, &e), GROK_EFORMAT);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "duplicate");
    write_in(dir, RUNDIR_SUMMARY, "[1, 2]");
    assert_int_equal(rundir_summary_read(&s, dir, &e), GROK_EFORMAT);
    tu_assert_contains(e.msg, "not a JSON object");
    free(path);
}

/* ---- config.cfg --------------------------------------------------------------- */

static void test_config(void **state)
{
    const char *dir = *state;
    const char *text = "# grok run config\n"
                       "seed = 123456789012L;          # seed; [0, 2^64)\n"
                       "task = {\n"
                       "  op = \"a\\\"dd\";               # operation\n"
                       "  p = 113;\n"
                       "  frac_train = 0.3;\n"
                       "};\n"
                       "optim = {\n"
                       "  lr = 0.001;                  // a comment\n"
                       "  weight_decay = 1.0;\n"
                       "  betas = [0.9, 0.98];\n"
                       "  tiny = 1e-300;\n"
                       "};\n"
                       "model = { layernorm = false; };\n";
    rundir_config c;
    grok_err e = {{0}};
    assert_int_equal(rundir_config_parse(&c, text, "config.cfg", &e), GROK_OK);
    static const char *const want[][2] = {
        {"seed", "123456789012"},     {"task.op", "a\"dd"},
        {"task.p", "113"},            {"task.frac_train", "0.3"},
        {"optim.lr", "0.001"},        {"optim.weight_decay", "1.0"},
        {"optim.betas", "[0.9, 0.98]"}, {"optim.tiny", "1e-300"},
        {"model.layernorm", "false"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *got = rundir_config_text(&c, want[i][0], buf, sizeof buf);
        assert_non_null(got);
        assert_string_equal(got, want[i][1]);
    }
    assert_null(rundir_config_text(&c, "task.q", buf, sizeof buf));
    assert_null(rundir_config_text(&c, "nope.p", buf, sizeof buf));
    rundir_config_free(&c);
    rundir_config_free(&c);

    assert_int_equal(rundir_config_parse(&c, "a = 1;\nb = {\n  c = ;\n};\n", "bad.cfg", &e),
                     GROK_EFORMAT);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "bad.cfg:3: ");

    /* @include is refused before libconfig opens anything: an empty name or
     * a directory made libconfig 1.5 call exit(2) */
    static const char *const incs[] = {"a = 1;\n@include \"\"\n", "  @include \"/tmp\"\n",
                                       "a = 1;\n\t@include \"config.cfg\"\n"};
    static const char *const inc_at[] = {"inc.cfg:2: @include", "inc.cfg:1: @include",
                                         "inc.cfg:2: @include"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rundir_config_parse(&c, incs[i], "inc.cfg", &e), GROK_EFORMAT);
        tu_assert_contains(e.msg, inc_at[i]);
        rundir_config_free(&c);
    }
    /* the operand range: task.p, the group's order, 0 otherwise */
    static const struct {
        const char *text;
        int want;
    } ops[] = {{"task = { kind = \"modular\"; p = 59; };", 59},
               {"task = { kind = \"modular\"; p = 5000; };", 0},
               {"task = { kind = \"group\"; group = \"S5\"; p = 59; };", 120},
               {"task = { kind = \"group\"; group = \"D7\"; };", 14},
               {"task = { kind = \"group\"; group = \"S9\"; };", 0},
               {"task = { kind = \"parity\"; p = 59; };", 0},
               {"seed = 1;", 0}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        assert_int_equal(rundir_config_parse(&c, ops[i].text, "ops.cfg", &e), GROK_OK);
        assert_int_equal(rundir_config_operands(&c), ops[i].want);
        rundir_config_free(&c);
    }
    assert_int_equal(rundir_config_operands(NULL), 0);

    /* the config grok writes, read back */
    cfg_run def;
    cfg_defaults(&def);
    def.optim.lr = 1.0 / 3.0;
    sbuf b;
    sbuf_init(&b);
    assert_int_equal(cfg_format(&def, &b), GROK_OK);
    write_in(dir, RUNDIR_CONFIG, b.data);
    sbuf_free(&b);
    assert_int_equal(rundir_config_read(&c, dir, &e), 1);
    assert_true(strtod(rundir_config_text(&c, "optim.lr", buf, sizeof buf), NULL) == def.optim.lr);
    assert_int_equal(atoi(rundir_config_text(&c, "task.p", buf, sizeof buf)), def.task.p);
    assert_true(strtod(rundir_config_text(&c, "task.frac_train", buf, sizeof buf), NULL) ==
                def.task.frac_train);
    rundir_config_free(&c);
    char *p = tu_path_in(dir, RUNDIR_CONFIG);
    remove(p);
    free(p);
    assert_int_equal(rundir_config_read(&c, dir, &e), 0);
}

/* ---- checkpoints --------------------------------------------------------------- */

static void test_checkpoints(void **state)
{
    const char *dir = *state;
    char name[96];
    const long eps[] = {0, 7, 999999, 1000000, 1234567890};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        assert_int_equal(rundir_ckpt_name(name, sizeof name, eps[i]), GROK_OK);
        assert_int_equal(strncmp(name, "checkpoints/", 12), 0);
        assert_int_equal(rundir_ckpt_epoch(name + 12), eps[i]);
    }
    assert_string_equal((rundir_ckpt_name(name, sizeof name, 42), name),
                        "checkpoints/epoch-000042.safetensors");
    static const char *const other[] = {
        "epoch-7.safetensors",      "epoch-0000007.safetensors", "epoch-000007.safetensors.tmp.12",
        "epoch-00000x.safetensors", "state.safetensors",         "epoch-000007.safetensor"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_int_equal(rundir_ckpt_epoch(other[i]), -1);

    long *got;
    int n;
    grok_err e = {{0}};
    assert_int_equal(rundir_ckpt_list(dir, &got, &n, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    char *cdir = tu_path_in(dir, RUNDIR_CHECKPOINTS);
    assert_int_equal(mkdir(cdir, 0777), 0);
    free(cdir);
    const long order[] = {1000, 0, 20, 1000000, 5};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        rundir_ckpt_name(name, sizeof name, order[i]);
        write_in(dir, name, "x");
    }
    write_in(dir, "checkpoints/epoch-3.safetensors", "x");
    write_in(dir, "checkpoints/epoch-000009.safetensors.tmp.1", "x");
    assert_int_equal(rundir_ckpt_list(dir, &got, &n, &e), GROK_OK);
    const long want[] = {0, 5, 20, 1000, 1000000};
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsv_policy),
        cmocka_unit_test_setup_teardown(test_tsv_bad_rows, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_summary_round_trip),
        cmocka_unit_test_setup_teardown(test_summary_errors, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_config, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_checkpoints, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
