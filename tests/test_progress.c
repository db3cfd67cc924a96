/* test_progress.c: the progress line of a command's steps
 * (experiments/progress.h, progress_task) and the hooks that report to it
 * from `grok measure` (measure_run_dir_progress), `grok plot`
 * (plot_set_progress) and `grok export` (export_opts.progress).
 *
 * The line is written to a temporary file, read back and compared: off a
 * terminal, at most the three quarter lines and only once the task has run
 * long enough; on a terminal (the flag forced), lines rewritten with \r and
 * erased at the end; nothing when quiet.  The hooks are checked on a tiny
 * trained run (GROK_BIN): every step reported once, in order, ending at the
 * total, with the items named. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "export.h"
#include "fileio.h"
#include "measure.h"
#include "plot.h"
#include "progress.h"
#include "testutil.h"

/* What f holds, from its start (malloc'ed). */
static char *file_text(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    return s;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Off a terminal: a quick task writes nothing; a long one (the threshold
 * set to 0) the lines at a quarter, a half and three quarters, no more. */
static void test_plain_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    progress_task t;
    progress_task_start(&t, f, "measure", "checkpoints", 8);
    assert_int_equal(t.tty, 0);
    for (long i = 1; i <= 8; i++)
        progress_task_step(&t, i, 0, "epoch 100");
    progress_task_end(&t);
    char *s = file_text(f);
    assert_string_equal(s, ""); /* done within PROGRESS_PLAIN_S */
    free(s);
    fclose(f);

    f = tmpfile();
    progress_task_start(&t, f, "measure", "checkpoints", 0);
    t.plain_after_s = 0;
    for (long i = 1; i <= 100; i++) {
        char item[32];
        snprintf(item, sizeof item, "epoch %ld", 10 * i);
        progress_task_step(&t, i, 100, item);
    }
    progress_task_end(&t);
    s = file_text(f);
    printf("%s", s);
    assert_int_equal(count(s, "\n"), 3);
    assert_int_equal(count(s, "\r"), 0);
    tu_assert_contains(s, "measure: 25/100 checkpoints (epoch 250)");
    tu_assert_contains(s, "measure: 50/100 checkpoints (epoch 500)");
    tu_assert_contains(s, "measure: 75/100 checkpoints (epoch 750)");
    assert_null(strstr(s, "100/100"));
    free(s);
    fclose(f);
}

/* On a terminal: the line rewritten in place (at most ten times a second,
 * the last step always), with the rate and ETA once two steps are known,
 * and erased at the end. */
static void test_terminal_line(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    progress_task t;
    progress_task_start(&t, f, "plot", "figures", 0);
    t.tty = 1; /* as on a terminal */
    progress_task_step(&t, 1, 3, "loss");
    progress_task_step(&t, 2, 3, "accuracy"); /* within 0.1 s: not drawn */
    progress_task_step(&t, 3, 3, "gini");     /* the last: drawn */
    progress_task_end(&t);
    char *s = file_text(f);
    printf("%s\n", s);
    tu_assert_contains(s, "\rplot: 1/3 figures (loss)\033[K");
    assert_null(strstr(s, "accuracy"));
    tu_assert_contains(s, "\rplot: 3/3 figures (gini)  ");
    tu_assert_contains(s, "/s  ETA 0:00\033[K");
    assert_int_equal(count(s, "\n"), 0);
    size_t n = strlen(s);
    assert_true(n >= 4 && !strcmp(s + n - 4, "\r\033[K")); /* erased */
    free(s);
    fclose(f);

    /* quiet: nothing, and the hook still counts */
    progress_task_start(&t, NULL, "plot", "figures", 5);
    grok_progress h = progress_task_hook(&t);
    grok_progress_step(&h, 2, 0, "x");
    assert_int_equal(t.done, 2);
    assert_int_equal(t.total, 5);
    progress_task_end(&t);
    grok_progress_step(NULL, 1, 1, NULL); /* nobody listens */
}

/* The reports a hook received. */
typedef struct {
    int calls;
    long last_done, last_total;
    int in_order;
    char first_item[64], last_item[64];
} record;

static void record_fn(void *ctx, long done, long total, const char *item)
{
    record *r = ctx;
    r->in_order &= done == r->last_done + 1;
    if (!r->calls)
        snprintf(r->first_item, sizeof r->first_item, "%s", item ? item : "");
    snprintf(r->last_item, sizeof r->last_item, "%s", item ? item : "");
    r->calls++;
    r->last_done = done;
    r->last_total = total;
}

/* measure, plot and export report every step once, in order, to the total. */
static void test_hooks(void **state)
{
    (void)state;
    const char *bin = tu_grok_bin();
    char *dir = tu_tmp_dir();
    char *run = tu_grok_train(bin, dir, "run",
                              "--set task.p=23 --set model.d_model=32 --set model.d_mlp=64 "
                              "--set train.epochs=50 --set checkpoint.every=10 "
                              "--set checkpoint.early_until=0");
    int rc;

    record r = {0, 0, 0, 1, "", ""};
    grok_progress h = {record_fn, &r};
    grok_err e = {{0}};
    assert_int_equal(measure_run_dir_progress(run, 2, NULL, &h, &e), GROK_OK);
    printf("# measure: %d reports, last %ld/%ld (%s)\n", r.calls, r.last_done, r.last_total,
           r.last_item);
    assert_int_equal(r.calls, 6); /* epochs 0, 10, ..., 50 */
    assert_true(r.in_order);
    assert_int_equal(r.last_total, 6);
    assert_true(!strncmp(r.first_item, "epoch ", 6));

    r = (record){0, 0, 0, 1, "", ""};
    plot_set_progress(&h);
    sbuf notes;
    sbuf_init(&notes);
    rc = plot_run_dir(run, "", NULL, &notes, &e); /* no format: nothing drawn, no report */
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(r.calls, 0);
    rc = plot_run_dir(run, "svg", "loss", &notes, &e);
    plot_set_progress(NULL);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.last_item, "loss");
    assert_int_equal(r.last_total, 1);
    rc = plot_run_dir(run, "svg", "loss", &notes, &e); /* hook removed */
    assert_int_equal(r.calls, 1);
    sbuf_free(&notes);

    r = (record){0, 0, 0, 1, "", ""};
    char out[4300];
    snprintf(out, sizeof out, "%s/x.npz", dir);
    export_opts o = {.out = out, .progress = &h};
    assert_int_equal(export_npz(run, &o, NULL, &e), GROK_OK);
    printf("# export npz: %d reports, last %ld/%ld (%s)\n", r.calls, r.last_done, r.last_total,
           r.last_item);
    assert_int_equal(r.last_total, 12); /* 6 checkpoints checked, then the arrays */
    assert_int_equal(r.last_done, 12);
    assert_string_equal(r.first_item, "checked epoch 0");
    r = (record){0, 0, 0, 1, "", ""};
    snprintf(out, sizeof out, "%s/st", dir);
    assert_int_equal(export_safetensors(run, &o, NULL, &e), GROK_OK);
    assert_int_equal(r.calls, 12);
    assert_true(r.in_order);
    assert_string_equal(r.last_item, "wrote epoch 50");
    free(run);
    tu_rm_tmp_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_terminal_line),
        cmocka_unit_test(test_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
