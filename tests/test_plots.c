/* test_plots.c: the figure scripts (plots/plot.c) and the gnuplot driver
 * (plots/gp.c).
 *
 * Unit tests build the script of each recipe from a small fake run
 * directory (p = 23, written here with plausible curves: memorised at epoch
 * 250, grokked at 1900, key frequencies 3, 7, 9) and check its data block and
 * commands without running gnuplot.  Driver tests provoke the promised
 * failures: no gnuplot ($GP_BIN pointing nowhere, or PATH emptied), a
 * gnuplot error, an unterminated data block, a script that writes nothing;
 * each must name the figure and leave no file behind.  End-to-end tests run
 * the real gnuplot and check the PNG size (IHDR) against the size the
 * script asked for, the PDF header and trailer, the SVG and LaTeX outputs,
 * and `grok plot`'s exit codes (experiments/plot_cmd.c).  The algorithm
 * figures (coefs, excluded_freq, embed_circles, logit_sd, irreps and the
 * sweep's sweep_algorithm) are drawn from hand-written files in the formats
 * of docs/formats.md: their data blocks against the values written, the
 * distance irrelevance in logit_sd's title against a direct computation
 * (0 for a table that depends on d only), and their skip reasons. */
#define _XOPEN_SOURCE 700 /* setenv */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "gp.h"
#include "plot.h"
#include "plot_cmd.h"
#include "rundir.h"
#include "sweep_plot.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

#define P 23
#define N_KEY 3
static const int key_freqs[N_KEY] = {3, 7, 9};

static void write_text(const char *dir, const char *name, const char *text)
{
    char *path = tu_path_in(dir, name);
    tu_write_text(path, text);
    free(path);
}

static void remove_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static void assert_lacks(const char *hay, const char *needle)
{
    if (hay && strstr(hay, needle)) {
        printf("# text should not contain \"%s\"\n", needle);
        fail();
    }
}

static int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* What the fake run leaves out. */
typedef struct {
    int no_measures, no_fourier_cols, no_phases, no_summary, layer_col;
    int metrics_rows; /* 0: 301 rows, epochs 0, 10, ..., 3000 */
    int uneven_fourier;
    int no_algo; /* none of excluded_freq, coefs, irreps, embed_circles, logit_sd */
} fake_opts;

/* Train/test loss and accuracy of the fake run at epoch e: memorises by
 * epoch 250, groks around 1800. */
static void fake_curves(double e, double *tl, double *vl, double *ta, double *va)
{
    double mem = sigmoid((e - 150) / 30), grok = sigmoid((e - 1800) / 60);
    *tl = 3.1 * exp(-e / 40) + 2e-3 * exp(-e / 1500) + 1e-7;
    *vl = 3.2 + 5.0 * mem * (1 - grok) + 1e-5 - 3.2 * grok;
    if (*vl < 1e-5)
        *vl = 1e-5;
    *ta = 0.04 + 0.96 * mem;
    *va = 0.04 + 0.96 * grok;
}

/* The coefficient alpha_k of the fake run at epoch e: the key frequencies
 * grow with the circuit, the others stay small. */
static double fake_alpha(int k, int e)
{
    double circuit = sigmoid((e - 900) / 200.0);
    for (int i = 0; i < N_KEY; i++)
        if (k == key_freqs[i])
            return circuit * (20.0 + 6.0 * i);
    return 0.4 * sin(0.7 * k + e / 500.0);
}

/* The files of the algorithm figures (issue 12), in the formats of
 * docs/formats.md: excluded_freq.tsv and coefs.tsv every 100 epochs,
 * irreps.tsv (the irreps of S3), embed_circles.tsv (a circle per key
 * frequency) and logit_sd.tsv (a clock: the logit depends on s only). */
static void write_fake_algo(const char *dir)
{
    sbuf s;
    sbuf_init(&s);
    sbuf_puts(&s, "epoch");
    for (int k = 1; k <= P / 2; k++)
        sbuf_printf(&s, "\tfreq_%d", k);
    sbuf_puts(&s, "\n");
    for (int e = 0; e <= 3000; e += 100) {
        double tl, vl, ta, va, circuit = sigmoid((e - 900) / 200.0);
        fake_curves(e, &tl, &vl, &ta, &va);
        sbuf_printf(&s, "%d", e);
        for (int k = 1; k <= P / 2; k++)
            sbuf_printf(&s, "\t%.9g", tl * (1 + 0.01 * k) + (fake_alpha(k, e) > 1 ? 5 * circuit : 0));
        sbuf_puts(&s, "\n");
    }
    write_text(dir, "excluded_freq.tsv", s.data);

    sbuf_clear(&s);
    sbuf_puts(&s, "epoch\tlogit_norm");
    for (int k = 1; k <= P / 2; k++)
        sbuf_printf(&s, "\talpha_%d", k);
    for (int k = 1; k <= P / 2; k++)
        sbuf_printf(&s, "\tcos_%d", k);
    sbuf_puts(&s, "\n");
    for (int e = 0; e <= 3000; e += 100) {
        double sq = pow(30 * (1 - sigmoid((e - 1750) / 80.0)) + 5, 2);
        for (int k = 1; k <= P / 2; k++)
            sq += fake_alpha(k, e) * fake_alpha(k, e);
        sbuf_printf(&s, "%d\t%.9g", e, sqrt(sq));
        for (int k = 1; k <= P / 2; k++)
            sbuf_printf(&s, "\t%.9g", fake_alpha(k, e));
        for (int k = 1; k <= P / 2; k++)
            sbuf_printf(&s, "\t%.9g", fake_alpha(k, e) / sqrt(sq));
        sbuf_puts(&s, "\n");
    }
    write_text(dir, "coefs.tsv", s.data);

    /* S3: the trivial, sign and 2-dimensional irreps; the model comes to
     * use the 2-dimensional one */
    static const char *const irr[3] = {"3", "111", "21"};
    static const char *const kinds[3] = {"embed", "unembed", "logit"};
    sbuf_clear(&s);
    sbuf_puts(&s, "epoch");
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
            sbuf_printf(&s, "\t%s_%s", kinds[j], irr[i]);
    sbuf_puts(&s, "\n");
    for (int e = 0; e <= 3000; e += 100) {
        sbuf_printf(&s, "%d", e);
        for (int j = 0; j < 3; j++) {
            double key = 4.0 / 6 + (1 - 4.0 / 6 - 0.05 * j) * sigmoid((e - 900 - 200 * j) / 200.0);
            sbuf_printf(&s, "\t%.6f\t%.6f\t%.6f", (1 - key) * 0.6, (1 - key) * 0.4, key);
        }
        sbuf_puts(&s, "\n");
    }
    write_text(dir, "irreps.tsv", s.data);

    sbuf_clear(&s);
    sbuf_puts(&s, "k\ttoken\tx\ty\n");
    for (int i = 0; i < N_KEY; i++)
        for (int t = 0; t < P; t++) {
            double w = 2 * M_PI * key_freqs[i] * t / P, rad = (1.0 + i) * (1 + 0.04 * sin(5.0 * t));
            sbuf_printf(&s, "%d\t%d\t%.9g\t%.9g\n", key_freqs[i], t, rad * cos(w), rad * sin(w));
        }
    write_text(dir, "embed_circles.tsv", s.data);

    sbuf_clear(&s);
    sbuf_puts(&s, "s\td\tlogit\n");
    for (int sv = 0; sv < P; sv++)
        for (int d = 0; d < P; d++)
            sbuf_printf(&s, "%d\t%d\t%.9g\n", sv, d,
                        8 + 6 * cos(2 * M_PI * 3 * sv / P) + 3 * cos(2 * M_PI * 7 * sv / P));
    write_text(dir, "logit_sd.tsv", s.data);
    sbuf_free(&s);
}

static void write_fake_run(const char *dir, const fake_opts *o)
{
    sbuf s;
    sbuf_init(&s);
    /* metrics.tsv */
    sbuf_puts(&s, "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s\n");
    int rows = o->metrics_rows ? o->metrics_rows : 301;
    for (int i = 0; i < rows; i++) {
        double e = 10.0 * i, tl, vl, ta, va;
        fake_curves(e * 3000.0 / (10.0 * (rows - 1)), &tl, &vl, &ta, &va);
        sbuf_printf(&s, "%d\t0.001\t%.9g\t%.9g\t%.6f\t%.6f\t%.3f\n", (int)e, tl, vl, ta, va,
                    0.01 * i);
    }
    write_text(dir, "metrics.tsv", s.data);

    /* measures.tsv: every 100 epochs */
    if (!o->no_measures) {
        sbuf_clear(&s);
        sbuf_puts(&s, "epoch\tloss_train\tloss_test\tacc_train\tacc_test");
        if (!o->no_fourier_cols)
            sbuf_puts(&s, "\tloss_restricted\tloss_restricted_train\tacc_restricted\tloss_excluded"
                          "\tacc_excluded\tgini_WE\tgini_WL\tgini_WE_nonconst\tgini_WL_nonconst"
                          "\tgini_WE_freq\tgini_WL_freq");
        sbuf_puts(&s, "\tsum_sq_weights\tsq_embed.W_E\tsq_unembed.W_U");
        if (!o->no_fourier_cols)
            sbuf_puts(&s, "\tn_key_freqs\tkey_freqs");
        sbuf_puts(&s, "\n");
        for (int e = 0; e <= 3000; e += 100) {
            double tl, vl, ta, va;
            fake_curves(e, &tl, &vl, &ta, &va);
            double circuit = sigmoid((e - 900) / 200.0), clean = sigmoid((e - 1750) / 80.0);
            sbuf_printf(&s, "%d\t%.9g\t%.9g\t%.6f\t%.6f", e, tl, vl, ta, va);
            if (!o->no_fourier_cols)
                sbuf_printf(&s,
                            "\t%.9g\t%.9g\t%.6f\t%.9g\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f"
                            "\t%.6f",
                            3.1 * (1 - circuit) + 0.01, 3.0 * (1 - circuit) + 0.01, circuit,
                            tl + 4.0 * circuit, 1 - circuit, 0.2 + 0.7 * circuit,
                            0.15 + 0.6 * clean, 0.2 + 0.7 * circuit, 0.15 + 0.6 * clean,
                            0.25 + 0.7 * circuit, 0.2 + 0.6 * clean);
            double ssw = 900 - 500 * sigmoid((e - 1700) / 150.0);
            sbuf_printf(&s, "\t%.9g\t%.9g\t%.9g", ssw, 0.3 * ssw, 0.2 * ssw);
            if (!o->no_fourier_cols)
                sbuf_puts(&s, "\t3\t3,7,9");
            sbuf_puts(&s, "\n");
        }
        write_text(dir, "measures.tsv", s.data);
    }

    /* summary.json (pretty-printed, phases nested) */
    if (!o->no_summary) {
        sbuf_clear(&s);
        sbuf_puts(&s, "{\n  \"task\": \"add\",\n  \"memorised_epoch\": 250,\n"
                      "  \"grokked_epoch\" : 1900,\n  \"final\": {\"train_loss\": 1e-7},\n");
        if (!o->no_phases)
            sbuf_puts(&s, "  \"phases\": {\"memorisation_end\": 300, \"circuit_formation_end\": "
                          "1500, \"cleanup_end\": 2000},\n");
        sbuf_puts(&s, "  \"key_freqs\": [3, 7, 9],\n  \"fourier\": {\"note\": \"x\"}\n}\n");
        write_text(dir, "summary.json", s.data);
    }

    /* fourier_embed.tsv */
    sbuf_clear(&s);
    sbuf_puts(&s, "epoch\tconst");
    for (int k = 1; k <= P / 2; k++)
        sbuf_printf(&s, "\tfreq_%d", k);
    sbuf_puts(&s, "\n");
    for (int e = 0; e <= 3000; e += 100) {
        int ee = o->uneven_fourier && e > 0 ? e - 37 * (e / 300) : e;
        double grow = sigmoid((ee - 1000) / 250.0);
        sbuf_printf(&s, "%d\t%.6f", ee, 0.3);
        for (int k = 1; k <= P / 2; k++) {
            int key = k == 3 || k == 7 || k == 9;
            double v = key ? 1.0 + 3.0 * grow + 0.1 * k / 10 : 1.0 - 0.8 * grow + 0.02 * k;
            sbuf_printf(&s, "\t%.6f", v);
        }
        sbuf_puts(&s, "\n");
    }
    write_text(dir, "fourier_embed.tsv", s.data);

    /* neurons.tsv: 64 neurons, most in a key-frequency cluster */
    sbuf_clear(&s);
    sbuf_puts(&s, "neuron\tfreq\tfrac_explained\n");
    for (int n = 0; n < 64; n++) {
        static const int other[8] = {1, 2, 4, 5, 6, 8, 10, 11};
        int f = n % 8 < 7 ? key_freqs[n % 3] : other[n / 8];
        double fve = n % 8 < 7 ? 0.86 + 0.13 * ((n * 37) % 64) / 64.0 : 0.2 + 0.5 * (n % 5) / 5.0;
        sbuf_printf(&s, "%d\t%d\t%.6f\n", n, f, fve);
    }
    write_text(dir, "neurons.tsv", s.data);

    /* config.cfg: the operand range that sizes the attention grid */
    sbuf_clear(&s);
    sbuf_printf(&s, "task = {\n  kind = \"modular\";\n  p = %d;\n};\n", P);
    write_text(dir, "config.cfg", s.data);

    /* attention.tsv: 4 heads, periodic in a */
    sbuf_clear(&s);
    sbuf_puts(&s, o->layer_col ? "layer\ta\tb\thead\tatt_a\tatt_b\tatt_eq\n"
                               : "a\tb\thead\tatt_a\tatt_b\tatt_eq\n");
    for (int h = 0; h < 4; h++)
        for (int a = 0; a < P; a++)
            for (int b = 0; b < P; b++) {
                double w = 2 * M_PI * key_freqs[h % 3] / P;
                double ta = 0.45 + 0.4 * cos(w * a + h), tb = 0.9 - ta - 0.05 * cos(w * b);
                if (o->layer_col)
                    sbuf_puts(&s, "0\t");
                sbuf_printf(&s, "%d\t%d\t%d\t%.6f\t%.6f\t%.6f\n", a, b, h, ta, tb, 1 - ta - tb);
            }
    write_text(dir, "attention.tsv", s.data);

    /* logit_spectrum.tsv */
    sbuf_clear(&s);
    sbuf_puts(&s, "# epoch 3000: norm over output classes of the logits' 2-D Fourier components\n");
    for (int f = 0; f < P; f++) {
        for (int g = 0; g < P; g++) {
            double v = 0.05 + 0.01 * ((f * 7 + g * 3) % 5);
            if (f == 0 && g == 0)
                v = 3.0;
            for (int i = 0; i < N_KEY; i++) {
                int k = key_freqs[i];
                if ((f == 2 * k - 1 || f == 2 * k) && (g == 2 * k - 1 || g == 2 * k))
                    v = 10.0 + i;
            }
            sbuf_printf(&s, "%s%.6f", g ? "\t" : "", v);
        }
        sbuf_puts(&s, "\n");
    }
    write_text(dir, "logit_spectrum.tsv", s.data);
    sbuf_free(&s);
    if (!o->no_algo)
        write_fake_algo(dir);
}

typedef struct {
    char *dir;
    plot_run *run;
} fixture;

static int setup_run(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(fx->dir, &o);
    grok_err e = {{0}};
    if (plot_run_load(fx->dir, &fx->run, &e) != GROK_OK) {
        printf("# plot_run_load: %s\n", e.msg);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown_run(void **state)
{
    fixture *fx = *state;
    plot_run_free(fx->run);
    tu_rm_tmp_dir(fx->dir);
    free(fx);
    return 0;
}

/* The script of one figure; fails the test when it is skipped. */
static char *script_of(const plot_run *r, const char *name, plot_format f)
{
    sbuf s, why;
    sbuf_init(&s);
    sbuf_init(&why);
    grok_err e = {{0}};
    int rc = plot_script(r, name, f, &s, &why, &e);
    if (rc != 1)
        printf("# %s: rc %d, why \"%s\", err \"%s\"\n", name, rc, why.data, e.msg);
    assert_int_equal(rc, 1);
    sbuf_free(&why);
    return s.data;
}

/* The reason a figure is skipped; fails the test when it is built. */
static char *skip_reason(const plot_run *r, const char *name)
{
    sbuf s, why;
    sbuf_init(&s);
    sbuf_init(&why);
    grok_err e = {{0}};
    int rc = plot_script(r, name, PLOT_PNG, &s, &why, &e);
    assert_int_equal(rc, 0);
    assert_int_equal(s.len, 0); /* nothing half-built */
    sbuf_free(&s);
    return why.data;
}

/* The text of data block $name (between its "<< EOD" line and "EOD"). */
static char *data_block(const char *script, const char *name)
{
    char head[64];
    snprintf(head, sizeof head, "$%s << EOD\n", name);
    const char *a = strstr(script, head);
    if (!a) {
        printf("# no data block %s\n", name);
        fail();
    }
    a += strlen(head);
    const char *b = strstr(a, "\nEOD\n");
    assert_non_null(b);
    size_t n = (size_t)(b - a) + 1;
    char *out = malloc(n + 1);
    assert_non_null(out);
    memcpy(out, a, n);
    out[n] = '\0';
    return out;
}

/* Data lines (not comments, not blank) of a block. */
static int data_lines(const char *block)
{
    int n = 0;
    for (const char *p = block; *p;) {
        const char *nl = strchr(p, '\n');
        if (*p != '#' && *p != '\n')
            n++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    return n;
}

/* Relative error of got against want, printed; returns it. */
static double rel_err(const char *what, double got, double want)
{
    double err = fabs(got - want) / fmax(fabs(want), 1e-300);
    printf("# %s: got %.9g want %.9g rel err %.3g\n", what, got, want, err);
    return err;
}

/* ---- unit tests of the scripts -------------------------------------------- */

static void test_loss_script(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "loss", PLOT_PNG);
    char *blk = data_block(s, "loss");
    tu_assert_contains(blk, "# epoch train_loss test_loss\n");
    /* first row: epoch 0 of the fake curves, sent with %.9g */
    double tl, vl, ta, va;
    fake_curves(0, &tl, &vl, &ta, &va);
    double e0, a, b;
    assert_int_equal(sscanf(strchr(blk, '\n') + 1, "%lf %lf %lf", &e0, &a, &b), 3);
    assert_true(e0 == 0);
    assert_true(rel_err("train_loss[0]", a, tl) < 1e-8);
    assert_true(rel_err("test_loss[0]", b, vl) < 1e-8);
    printf("# data rows: %d (metrics.tsv has 301)\n", data_lines(blk));
    assert_int_equal(data_lines(blk), 301);
    tu_assert_contains(s, "set terminal pngcairo");
    tu_assert_contains(s, "set output 'loss.png'");
    tu_assert_contains(s, "set logscale y\n");
    tu_assert_contains(s, "set format y '10^{%L}'");
    tu_assert_contains(s, "set arrow from 250, graph 0 to 250, graph 1 nohead");
    tu_assert_contains(s, "set arrow from 1900, graph 0 to 1900, graph 1 nohead");
    tu_assert_contains(s, "title 'memorised (epoch 250)'");
    tu_assert_contains(s, "title 'grokked (epoch 1900)'");
    tu_assert_contains(s, "plot $loss using 1:2 with lines lt 1 title 'train'");
    tu_assert_contains(s, "$loss using 1:3 with lines lt 2 title 'test'");
    tu_assert_contains(s, "#0072B2"); /* Okabe-Ito blue, the shared style */
    tu_assert_contains(s, "set ylabel 'cross-entropy loss (nats)'");
    assert_true(strlen(s) > 0 && !strcmp(s + strlen(s) - 13, "unset output\n"));
    free(blk);
    free(s);
}

static void test_accuracy_script(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "accuracy", PLOT_PNG);
    char *blk = data_block(s, "acc");
    /* last row: epoch 3000 in percent */
    const char *last = blk + strlen(blk) - 2;
    while (last > blk && last[-1] != '\n')
        last--;
    double e, a, b, tl, vl, ta, va;
    assert_int_equal(sscanf(last, "%lf %lf %lf", &e, &a, &b), 3);
    fake_curves(3000, &tl, &vl, &ta, &va);
    assert_true(e == 3000);
    /* metrics.tsv holds accuracies with 6 decimals */
    assert_true(rel_err("train_acc[last] %", a, 100 * ta) < 1e-5);
    assert_true(rel_err("test_acc[last] %", b, 100 * va) < 1e-5);
    tu_assert_contains(s, "set ylabel 'accuracy (%)'");
    tu_assert_contains(s, "set arrow from 250, graph 0");
    tu_assert_contains(s, "set arrow from 1900, graph 0");
    assert_lacks(s, "set logscale");
    free(blk);
    free(s);
}

static void test_progress_script_phases(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "progress", PLOT_PNG);
    char *blk = data_block(s, "progress");
    tu_assert_contains(blk, "# epoch loss_train loss_test loss_restricted loss_excluded\n");
    assert_int_equal(data_lines(blk), 31);
    tu_assert_contains(s, "set logscale y\n");
    tu_assert_contains(s, "set object 1 rect from 0, graph 0 to 300, graph 1 behind");
    tu_assert_contains(s, "set object 2 rect from 300, graph 0 to 1500, graph 1 behind");
    tu_assert_contains(s, "set object 3 rect from 1500, graph 0 to 2000, graph 1 behind");
    tu_assert_contains(s, "title 'memorisation'");
    tu_assert_contains(s, "title 'circuit formation'");
    tu_assert_contains(s, "title 'cleanup'");
    tu_assert_contains(s, "using 1:4 with lines lt 3 title 'restricted'");
    tu_assert_contains(s, "using 1:5 with lines lt 4 title 'excluded'");
    free(blk);
    free(s);

    s = script_of(fx->run, "gini", PLOT_PNG);
    tu_assert_contains(s, "set object 2 rect from 300");
    tu_assert_contains(s, "title 'W_E'");
    tu_assert_contains(s, "title 'W_L'");
    tu_assert_contains(s, "set yrange [0:1]");
    free(s);
    s = script_of(fx->run, "weights", PLOT_PNG);
    blk = data_block(s, "weights");
    tu_assert_contains(blk, "# epoch sum_sq_weights\n");
    tu_assert_contains(s, "set object 3 rect");
    free(blk);
    free(s);
}

/* The loss figure names the loss config.cfg's train.loss trained on:
 * cross-entropy by default, mean squared error, StableMax cross-entropy. */
static void test_loss_label(void **state)
{
    (void)state;
    static const struct {
        const char *set, *label;
    } cases[] = {{"", "set ylabel 'cross-entropy loss (nats)'"},
                 {"train = { loss = \"mse\"; };\n", "set ylabel 'mean squared error'"},
                 {"train = { loss = \"stablemax_ce\"; };\n",
                  "set ylabel 'StableMax cross-entropy (nats)'"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *dir = tu_tmp_dir();
        fake_opts o = {0};
        write_fake_run(dir, &o);
        char *path = tu_path_in(dir, "config.cfg");
        char *cfg = tu_read_file(path, NULL);
        sbuf c;
        sbuf_init(&c);
        sbuf_printf(&c, "%s%s", cfg ? cfg : "", cases[k].set);
        write_text(dir, "config.cfg", c.data);
        plot_run *r;
        grok_err e = {{0}};
        assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
        char *sc = script_of(r, "loss", PLOT_PNG);
        tu_assert_contains(sc, cases[k].label);
        free(sc);
        plot_run_free(r);
        sbuf_free(&c);
        free(cfg);
        free(path);
        tu_rm_tmp_dir(dir);
    }
}

static void test_no_phases_no_marks(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.no_phases = 1};
    write_fake_run(dir, &o);
    /* grokked_epoch null and memorisation missing from this summary */
    write_text(dir, "summary.json",
               "{\"memorised_epoch\":null,\"grokked_epoch\": null, \"phases\": "
               "{\"memorisation_end\": 300, \"circuit_formation_end\": null}}");
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *s = script_of(r, "progress", PLOT_PNG);
    tu_assert_contains(s, "set object 1 rect from 0, graph 0 to 300, graph 1");
    assert_lacks(s, "set object 2");
    assert_lacks(s, "circuit formation");
    free(s);
    s = script_of(r, "loss", PLOT_PNG);
    assert_lacks(s, "set arrow");
    assert_lacks(s, "memorised");
    free(s);
    /* without key frequencies the embedding bars are one colour */
    s = script_of(r, "fourier_embed", PLOT_PNG);
    assert_lacks(s, "key frequencies");
    free(s);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

/* A summary.json ahead of the tables (copied mid-run) draws nothing
 * outside the frame: later marks are dropped, a later phase end is cut. */
static void test_marks_beyond_data(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(dir, &o);
    write_text(dir, "summary.json",
               "{\"memorised_epoch\": 250, \"grokked_epoch\": 9000, \"phases\": "
               "{\"memorisation_end\": 300, \"circuit_formation_end\": 2500, "
               "\"cleanup_end\": 7000}}");
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *s = script_of(r, "loss", PLOT_PNG);
    tu_assert_contains(s, "set arrow from 250,");
    assert_lacks(s, "9000");
    free(s);
    s = script_of(r, "progress", PLOT_PNG);
    tu_assert_contains(s, "set object 3 rect from 2500, graph 0 to 3000, graph 1");
    assert_lacks(s, "7000");
    free(s);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_fourier_scripts(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "fourier_embed", PLOT_PNG);
    char *blk = data_block(s, "embed");
    /* the last row (epoch 3000): const then freq_1..11, key flags on 3, 7, 9 */
    assert_int_equal(data_lines(blk), 1 + P / 2);
    tu_assert_contains(blk, "\n0 0.3 0\n");
    tu_assert_contains(blk, "\n3 ");
    int keys = 0;
    for (int k = 1; k <= P / 2; k++) {
        char line[32];
        snprintf(line, sizeof line, "\n%d ", k);
        const char *q = strstr(blk, line);
        assert_non_null(q);
        double kk, v, flag;
        assert_int_equal(sscanf(q + 1, "%lf %lf %lf", &kk, &v, &flag), 3);
        int want = k == 3 || k == 7 || k == 9;
        assert_int_equal((int)flag, want);
        keys += (int)flag;
    }
    printf("# fourier_embed: %d key bars of %d\n", keys, P / 2);
    tu_assert_contains(s, "set ylabel 'Fourier norm of W_E, epoch 3000'");
    tu_assert_contains(s, "with boxes lt 2 title 'key frequencies'");
    tu_assert_contains(s, "set label '7' at 7, ");
    free(blk);
    free(s);

    s = script_of(fx->run, "fourier_embed_epochs", PLOT_PNG);
    blk = data_block(s, "heat");
    /* 31 evenly spaced epochs x 11 frequencies, sent as they are */
    assert_int_equal(data_lines(blk), 31 * (P / 2));
    assert_lacks(blk, "resampled");
    tu_assert_contains(s, "set ytics ('3' 3, '7' 7, '9' 9)");
    tu_assert_contains(s, "with image");
    tu_assert_contains(s, "set palette defined (0 '#440154'");
    free(blk);
    free(s);
}

/* Labels of adjacent key frequencies (Nanda et al.'s 41 and 42 at p = 113)
 * are merged into one, so they cannot overlap. */
static void test_adjacent_key_labels(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(dir, &o);
    write_text(dir, "summary.json", "{\"key_freqs\": [14, 35, 41, 42, 52]}");
    sbuf f;
    sbuf_init(&f);
    sbuf_puts(&f, "epoch\tconst");
    for (int k = 1; k <= 56; k++)
        sbuf_printf(&f, "\tfreq_%d", k);
    sbuf_puts(&f, "\n");
    for (int e = 0; e <= 1000; e += 500) {
        sbuf_printf(&f, "%d\t0.5", e);
        for (int k = 1; k <= 56; k++)
            sbuf_printf(&f, "\t%g", k == 42 ? 6.5 : k == 41 ? 6.0 : 0.2);
        sbuf_puts(&f, "\n");
    }
    write_text(dir, "fourier_embed.tsv", f.data);
    sbuf_free(&f);
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *s = script_of(r, "fourier_embed_epochs", PLOT_PNG);
    tu_assert_contains(s, "set ytics ('14' 14, '35' 35, '41,42' 41.5, '52' 52)");
    free(s);
    s = script_of(r, "fourier_embed", PLOT_PNG);
    tu_assert_contains(s, "set label '41,42' at 41.5, 6.5 center");
    tu_assert_contains(s, "set label '14' at 14, 0.2 center");
    assert_int_equal(count_substr(s, "set label"), 4);
    free(s);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_heatmap_uneven_epochs(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.uneven_fourier = 1};
    write_fake_run(dir, &o);
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *s = script_of(r, "fourier_embed_epochs", PLOT_PNG);
    char *blk = data_block(s, "heat");
    int lines = data_lines(blk);
    printf("# uneven epochs: %d heat lines (500 columns x 11)\n", lines);
    tu_assert_contains(blk, "resampled");
    assert_int_equal(lines, 500 * (P / 2));
    free(blk);
    free(s);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_neurons_script(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "neurons", PLOT_PNG);
    char *blk = data_block(s, "neurons");
    assert_int_equal(data_lines(blk), 64);
    /* sorted: group 0 (k = 3) first, with falling fractions; "other" last */
    int prev_group = -1;
    double prev_fve = 2;
    int n_other = 0;
    for (const char *p = strchr(blk, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
        int rank, neuron, freq, group;
        double fve;
        assert_int_equal(sscanf(p, "%d %d %d %lf %d", &rank, &neuron, &freq, &fve, &group), 5);
        assert_true(group >= prev_group);
        if (group == prev_group && group < 3)
            assert_true(fve <= prev_fve);
        if (group < 3)
            assert_int_equal(freq, key_freqs[group]);
        else
            n_other++;
        prev_group = group;
        prev_fve = fve;
    }
    printf("# neurons: %d outside the key clusters (fake run has 8)\n", n_other);
    assert_int_equal(n_other, 8);
    tu_assert_contains(s, "title 'k=3, 19 neurons'");
    tu_assert_contains(s, "title 'other, 8 neurons'");
    tu_assert_contains(s, "set xtics scale 0.4 ('3' 9.0, '7' 27.5, '9' 46.0, 'other' 59.5)");
    tu_assert_contains(s, "first 0.85 to graph 1, first 0.85 nohead");
    free(blk);
    free(s);
}

static void test_attention_script(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "attention", PLOT_PNG);
    for (int h = 0; h < 4; h++) {
        char name[16];
        snprintf(name, sizeof name, "att%d", h);
        char *blk = data_block(s, name);
        assert_int_equal(data_lines(blk), P * P);
        /* the value at a = 5, b = 2 */
        char at[32];
        snprintf(at, sizeof at, "\n5 2 ");
        const char *q = strstr(blk, at);
        assert_non_null(q);
        double a, b, v;
        assert_int_equal(sscanf(q + 1, "%lf %lf %lf", &a, &b, &v), 3);
        double want = 0.45 + 0.4 * cos(2 * M_PI * key_freqs[h % 3] / P * 5 + h);
        assert_true(rel_err("att_a(5,2)", v, want) < 1e-4);
        free(blk);
    }
    tu_assert_contains(s, "set multiplot layout 1,4");
    tu_assert_contains(s, "set title 'head 3'");
    tu_assert_contains(s, "set cbrange [0:1]");
    assert_int_equal(count_substr(s, "with image"), 4);
    tu_assert_contains(s, "unset multiplot");
    /* page width: 7 in (3294 px at 1600 px per 3.4 in) */
    tu_assert_contains(s, "width_in = 7 ");
    free(s);

    char *dir = tu_tmp_dir();
    fake_opts o = {.layer_col = 1};
    write_fake_run(dir, &o);
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    s = script_of(r, "attention", PLOT_PNG);
    assert_int_equal(count_substr(s, "with image"), 4);
    tu_assert_contains(s, "set title 'head 0'"); /* one layer: heads only */
    free(s);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_logit_spectrum_script(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "logit_spectrum", PLOT_PNG);
    char *blk = data_block(s, "spec");
    assert_int_equal(data_lines(blk), P);
    tu_assert_contains(blk, "# epoch 3000:");
    tu_assert_contains(s, "set title 'epoch 3000'");
    tu_assert_contains(s, "set xtics ('3' 5.5, '7' 13.5, '9' 17.5)");
    tu_assert_contains(s, "plot $spec matrix with image");
    /* row 5 (sin 3... index 2k-1 = 5 is cos 3), column 5: 10.0 */
    const char *row = blk;
    for (int i = 0; i < 1 + 5; i++)
        row = strchr(row, '\n') + 1;
    double v[P];
    const char *q = row;
    for (int g = 0; g < P; g++) {
        char *end;
        v[g] = strtod(q, &end);
        q = end;
    }
    assert_true(rel_err("spectrum[5][5]", v[5], 10.0) < 1e-12);
    assert_true(rel_err("spectrum[5][6]", v[6], 10.0) < 1e-12);
    free(blk);
    free(s);
}

static void test_tex_and_pdf_text(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "gini", PLOT_TEX);
    tu_assert_contains(s, "set terminal cairolatex pdf");
    tu_assert_contains(s, "set output 'gini.tex'");
    tu_assert_contains(s, "title '$W_E$'");
    free(s);
    s = script_of(fx->run, "loss", PLOT_TEX);
    tu_assert_contains(s, "set format y '$10^{%L}$'");
    free(s);
    s = script_of(fx->run, "accuracy", PLOT_TEX);
    tu_assert_contains(s, "set ylabel 'accuracy (\\%)'");
    free(s);
    s = script_of(fx->run, "loss", PLOT_PDF);
    tu_assert_contains(s, "width_in = 3.4 ");
    tu_assert_contains(s, "height_in = 2.3 ");
    tu_assert_contains(s, "set terminal pdfcairo enhanced color size width_in * 1.0in, "
                          "height_in * 1.0in font sprintf('%s,%g', font, font_pt)");
    tu_assert_contains(s, "set output 'loss.pdf'");
    free(s);
    s = script_of(fx->run, "loss", PLOT_SVG);
    tu_assert_contains(s, "set terminal svg");
    tu_assert_contains(s, "set output 'loss.svg'");
    free(s);
    char out[2][96];
    assert_int_equal(plot_outputs("loss", PLOT_TEX, out), 2);
    assert_string_equal(out[0], "loss.tex");
    assert_string_equal(out[1], "loss.pdf");
    assert_int_equal(plot_outputs("loss", PLOT_PNG, out), 1);
    assert_string_equal(out[0], "loss.png");
}

/* Tables a user could hand the figures, each found by fuzzing: every one is
 * refused with its reason, nothing is cast out of range and no allocation is
 * sized from an index in the file. */
static void test_hostile_tables(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(dir, &o);
    static const struct {
        const char *file, *text, *fig, *why;
    } cases[] = {
        /* double -> int casts of neurons.tsv (undefined behaviour before) */
        {"neurons.tsv", "neuron\tfreq\tfrac_explained\n0\t3\t0.9\n1e300\t3\t0.9\n", "neurons",
         "neurons.tsv line 3: neuron 1e300, freq 3: not an integer in 0..100000000"},
        {"neurons.tsv", "neuron\tfreq\tfrac_explained\n0\t-1e20\t0.9\n", "neurons",
         "neurons.tsv line 2: neuron 0, freq -1e20: not an integer"},
        {"neurons.tsv", "neuron\tfreq\tfrac_explained\n0\tinf\t0.9\n", "neurons",
         "neurons.tsv line 2: neuron 0, freq inf: not an integer"},
        {"neurons.tsv", "neuron\tfreq\tfrac_explained\nnan\t2\t0.9\n", "neurons",
         "neurons.tsv line 2: neuron nan, freq 2: not an integer"},
        /* the 28-byte file that took 531 MB, and a row asking for 80 GB */
        {"attention.tsv", "a\tb\thead\tatt_a\n4999\t0\t0\t1\n", "attention",
         "attention.tsv line 2: a = 4999, b = 0: not an operand in 0..22 (config.cfg)"},
        {"attention.tsv", "a\tb\thead\tatt_a\n0\t99999\t999\t1\n", "attention",
         "attention.tsv line 2: a = 0, b = 99999: not an operand in 0..22"},
        {"attention.tsv", "a\tb\thead\tatt_a\n1.5\t0\t0\t1\n", "attention",
         "attention.tsv line 2: a = 1.5, b = 0: not an operand"},
        {"attention.tsv", "a\tb\thead\tatt_a\n1\t0\t0\t1\n2\t2\t0\t1\n", "attention",
         "attention.tsv has 2 rows, fewer than half the 23 x 23 grid of its 1 heads"},
        /* empty (0-byte) tables */
        {"neurons.tsv", "", "neurons", "neurons.tsv: empty (no header row)"},
        {"attention.tsv", "", "attention", "attention.tsv: empty (no header row)"},
        /* logit_sd.tsv sized its grid from its largest index too */
        {"logit_sd.tsv", "s\td\tlogit\n99999\t99999\t1\n", "logit_sd",
         "logit_sd.tsv row 1: s or d is not an index in 0..22 (config.cfg)"},
        {"logit_spectrum.tsv", "", "logit_spectrum", "logit_spectrum.tsv: empty (no rows)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_fake_run(dir, &o);
        write_text(dir, cases[i].file, cases[i].text);
        plot_run *r;
        grok_err e = {{0}};
        assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
        char *why = skip_reason(r, cases[i].fig);
        printf("# %s: skipped: %s\n", cases[i].fig, why);
        tu_assert_contains(why, cases[i].why);
        free(why);
        plot_run_free(r);
    }
    /* without config.cfg the attention grid has no size */
    write_fake_run(dir, &o);
    remove_file(dir, "config.cfg");
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *why = skip_reason(r, "attention");
    tu_assert_contains(why, "config.cfg does not give the operand range");
    free(why);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_skip_notes(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.no_fourier_cols = 1}; /* a non-arithmetic task */
    write_fake_run(dir, &o);
    remove_file(dir, "neurons.tsv");
    remove_file(dir, "logit_spectrum.tsv");
    write_text(dir, "attention.tsv", "a\tb\thead\tatt_a\tatt_b\tatt_eq\n0\t0\t0\t0.5\t0.5\n");
    write_text(dir, "fourier_embed.tsv", "epoch\tconst\n0\t1\n");
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    struct {
        const char *fig, *why;
    } want[] = {
        {"progress", "measures.tsv has no column loss_restricted"},
        {"gini", "measures.tsv has no column gini_WE"},
        {"neurons", "no neurons.tsv"},
        {"logit_spectrum", "no logit_spectrum.tsv"},
        {"attention", "attention.tsv:2: 5 cells, but the header has 6"},
        {"fourier_embed", "fourier_embed.tsv has no column freq_1"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *why = skip_reason(r, want[i].fig);
        printf("# %s: skipped: %s\n", want[i].fig, why);
        assert_string_equal(why, want[i].why);
        free(why);
    }
    /* what the run has is still drawn */
    free(script_of(r, "weights", PLOT_PNG));
    free(script_of(r, "loss", PLOT_PNG));
    plot_run_free(r);

    /* no measures.tsv at all */
    remove_file(dir, "measures.tsv");
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *why = skip_reason(r, "weights");
    assert_string_equal(why, "no measures.tsv");
    free(why);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_thinning(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.metrics_rows = 12001}; /* epochs 0..120000 step 10 */
    write_fake_run(dir, &o);
    write_text(dir, "summary.json", "{\"memorised_epoch\": 2510, \"grokked_epoch\": 77770}");
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *s = script_of(r, "loss", PLOT_PNG);
    char *blk = data_block(s, "loss");
    int n = data_lines(blk);
    printf("# 12001 rows thinned to %d (at most 5000 + marks)\n", n);
    assert_true(n <= 5003 && n >= 4000);
    tu_assert_contains(blk, "\n0 ");
    tu_assert_contains(blk, "\n120000 ");
    tu_assert_contains(blk, "\n2510 ");  /* not on the stride of 3 */
    tu_assert_contains(blk, "\n77770 ");
    free(blk);
    free(s);
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    unsigned mask;
    grok_err e = {{0}};
    assert_int_equal(plot_parse_formats("png, pdf,png", &mask, &e), GROK_OK);
    assert_int_equal(mask, (1u << PLOT_PNG) | (1u << PLOT_PDF));
    assert_int_equal(plot_parse_formats(NULL, &mask, &e), GROK_OK);
    assert_int_equal(mask, 1u << PLOT_PNG);
    assert_int_equal(plot_parse_formats("", &mask, &e), GROK_OK);
    assert_int_equal(mask, 0u);
    assert_int_equal(plot_parse_formats("png,jpg", &mask, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "\"jpg\"");
    tu_assert_contains(e.msg, "png, pdf, svg, tex");

    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(dir, &o);
    sbuf notes;
    sbuf_init(&notes);
    assert_int_equal(plot_run_dir(dir, "png", "los", &notes, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "unknown figure \"los\"");
    tu_assert_contains(e.msg, "loss, accuracy, progress");
    assert_int_equal(plot_run_dir("/nonexistent/run", "png", NULL, &notes, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "/nonexistent/run");
    /* "" draws nothing and runs no gnuplot */
    assert_int_equal(plot_run_dir(dir, "", NULL, &notes, &e), GROK_OK);
    tu_assert_contains(notes.data, "no formats requested");
    char figs[4096];
    snprintf(figs, sizeof figs, "%s/figures", dir);
    assert_false(fileio_exists(figs));
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}

/* ---- the gnuplot driver ------------------------------------------------- */

/* Entries in dir (0 when it does not exist). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_missing_gnuplot(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(dir, &o);
    char figs[4096];
    snprintf(figs, sizeof figs, "%s/figures", dir);
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};

    setenv("GP_BIN", "/nonexistent/gnuplot", 1);
    int rc = plot_run_dir(dir, "png,pdf", NULL, &notes, &e);
    unsetenv("GP_BIN");
    printf("# GP_BIN=/nonexistent/gnuplot: rc %d: %s\n", rc, e.msg);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, GP_MISSING_MSG);
    assert_int_equal(count_entries(figs), 0);

    /* gnuplot looked up in an empty PATH */
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", "", 1);
    rc = plot_run_dir(dir, "png", "loss", &notes, &e);
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    printf("# PATH=\"\": rc %d: %s\n", rc, e.msg);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, GP_MISSING_MSG);
    assert_int_equal(count_entries(figs), 0);

    /* a "gnuplot" that exits 127 as a shell does for a missing command */
    char fake[4096];
    snprintf(fake, sizeof fake, "%s/fake-gnuplot", dir);
    write_text(dir, "fake-gnuplot", "#!/bin/sh\nexit 127\n");
    chmod(fake, 0755);
    int missing = 0;
    const char *outs[] = {"x.png"};
    rc = gp_draw(fake, dir, "x.png", "plot x\n", 7, outs, 1, NULL, &missing, &e);
    printf("# exit 127: rc %d missing %d: %s\n", rc, missing, e.msg);
    assert_int_equal(rc, GROK_EIO);
    assert_int_equal(missing, 1);
    tu_assert_contains(e.msg, GP_MISSING_MSG);
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}

static void test_gnuplot_errors(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    grok_err e = {{0}};
    int missing = -1;
    const char *outs[] = {"bad.png"};
    sbuf warn;
    sbuf_init(&warn);

    /* an undefined data block: gnuplot goes on, then exits 1 */
    const char *bad = "set terminal pngcairo size 320,200\nset output 'bad.png'\n"
                      "plot $nosuch using 1:2 with lines\nunset output\n";
    int rc = gp_draw(NULL, dir, "bad.png", bad, strlen(bad), outs, 1, &warn, &missing, &e);
    printf("# bad command: rc %d: %s\n", rc, e.msg);
    assert_int_equal(rc, GROK_EIO);
    assert_int_equal(missing, 0);
    tu_assert_contains(e.msg, "figure bad.png");
    tu_assert_contains(e.msg, "exit status 1");
    tu_assert_contains(e.msg, "$nosuch");
    assert_int_equal(count_entries(dir), 0); /* no output, no temporary directory */

    /* a data block never closed swallows the rest of the script */
    const char *open = "set terminal pngcairo size 320,200\nset output 'bad.png'\n"
                       "$d << EOD\n1 2\n2 3\nplot $d\n";
    rc = gp_draw(NULL, dir, "open.png", open, strlen(open), outs, 1, &warn, &missing, &e);
    printf("# unterminated block: rc %d: %s\n", rc, e.msg);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, "figure open.png");
    tu_assert_contains(e.msg, "before the end of the script");
    assert_int_equal(count_entries(dir), 0);

    /* a script that plots nowhere */
    const char *none = "print 1+1\n";
    rc = gp_draw(NULL, dir, "none.png", none, strlen(none), outs, 1, &warn, &missing, &e);
    printf("# no output: rc %d: %s\n", rc, e.msg);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, "wrote no bad.png");
    assert_int_equal(count_entries(dir), 0);

    /* a warning does not fail the figure; it is passed on */
    const char *warns = "set terminal pngcairo size 320,200\nset output 'bad.png'\n"
                        "$d << EOD\na b\nEOD\nplot $d using 1:2 with lines, x\nunset output\n";
    rc = gp_draw(NULL, dir, "warn.png", warns, strlen(warns), outs, 1, &warn, &missing, &e);
    printf("# warning: rc %d: notes \"%s\"\n", rc, warn.data);
    assert_int_equal(rc, GROK_OK);
    tu_assert_contains(warn.data, "warn.png: gnuplot: line 2: warning: Skipping data file");
    assert_int_equal(count_entries(dir), 1); /* bad.png, renamed in */
    sbuf_free(&warn);
    tu_rm_tmp_dir(dir);
}

/* ---- end to end ------------------------------------------------------------ */

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Reads the PNG signature and IHDR width and height of path. */
static void png_size(const char *path, uint32_t *w, uint32_t *h)
{
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    if (!f)
        printf("# cannot open %s\n", path);
    assert_non_null(f);
    assert_int_equal(fread(b, 1, 24, f), 24);
    fclose(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_memory_equal(b, sig, 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    *w = be32(b + 16);
    *h = be32(b + 20);
}

/* The PNG size a script asks for: its width_in and height_in at 1600 px
 * per 3.4 in, rounded as gnuplot's int(x + 0.5). */
static void script_png_size(const char *s, long *w, long *h)
{
    double wi = 0, hi = 0;
    const char *q = strstr(s, "width_in = ");
    assert_non_null(q);
    assert_int_equal(sscanf(q, "width_in = %lf", &wi), 1);
    q = strstr(s, "height_in = ");
    assert_non_null(q);
    assert_int_equal(sscanf(q, "height_in = %lf", &hi), 1);
    tu_assert_contains(s, "png_ppi = 1600.0 / 3.4");
    *w = (long)(wi * (1600.0 / 3.4) + 0.5);
    *h = (long)(hi * (1600.0 / 3.4) + 0.5);
}

static void assert_pdf(const char *path)
{
    char *data;
    size_t n;
    grok_err e;
    assert_int_equal(fileio_read_all(path, &data, &n, &e), GROK_OK);
    assert_true(n > 200);
    assert_memory_equal(data, "%PDF-", 5);
    /* complete: the trailer ends with %%EOF (unset output flushed it) */
    size_t end = n;
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
        end--;
    assert_true(end >= 5 && !memcmp(data + end - 5, "%%EOF", 5));
    free(data);
}

static void test_end_to_end_png_pdf(void **state)
{
    fixture *fx = *state;
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = plot_run_dir(fx->dir, "png,pdf", NULL, &notes, &e);
    printf("# notes:\n%s", notes.data);
    if (rc)
        printf("# error: %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_lacks(notes.data, "skipped:");
    assert_lacks(notes.data, "gnuplot:"); /* no warnings on a full run */
    char figs[4096];
    snprintf(figs, sizeof figs, "%s/figures", fx->dir);
    int n_figs;
    const plot_figure *figs_t = plot_figures(&n_figs);
    for (int i = 0; i < n_figs; i++) {
        const char *name = figs_t[i].name;
        char *s = script_of(fx->run, name, PLOT_PNG);
        long want_w = 0, want_h = 0;
        script_png_size(s, &want_w, &want_h);
        free(s);
        char path[4200];
        uint32_t w, h;
        snprintf(path, sizeof path, "%s/%s.png", figs, name);
        png_size(path, &w, &h);
        printf("# %-22s png %ux%u (script %ldx%ld), pdf ok\n", name, w, h, want_w, want_h);
        assert_int_equal(w, want_w);
        assert_int_equal(h, want_h);
        snprintf(path, sizeof path, "%s/%s.pdf", figs, name);
        assert_pdf(path);
    }
    /* exactly the figures, index.tsv and src/, no temporary directory left */
    assert_int_equal(count_entries(figs), 2 * n_figs + 2);
    /* index.tsv: every figure in table order, its PNG (the first format) and
     * its caption, read back with the run directory's own TSV reader */
    rundir_tsv ix;
    assert_int_equal(rundir_tsv_read(&ix, fx->dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_cols, 3);
    assert_string_equal(ix.cols[0], "name");
    assert_string_equal(ix.cols[1], "file");
    assert_string_equal(ix.cols[2], "caption");
    assert_int_equal(ix.n_rows, n_figs);
    for (int i = 0; i < n_figs; i++) {
        char want[128];
        snprintf(want, sizeof want, "%s.png", figs_t[i].name);
        assert_string_equal(ix.text[3 * i], figs_t[i].name);
        assert_string_equal(ix.text[3 * i + 1], want);
        assert_string_equal(ix.text[3 * i + 2], figs_t[i].caption);
    }
    printf("# index.tsv: %d rows, first \"%s\t%s\"\n", ix.n_rows, ix.text[0], ix.text[1]);
    rundir_tsv_free(&ix);
    sbuf_free(&notes);
}

static void test_end_to_end_svg_tex_only(void **state)
{
    fixture *fx = *state;
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    char path[4200];
    int rc = plot_run_dir(fx->dir, "svg,tex", "loss", &notes, &e);
    printf("# notes: %s", notes.data);
    assert_int_equal(rc, GROK_OK);
    snprintf(path, sizeof path, "%s/figures/loss.svg", fx->dir);
    char *data;
    size_t n;
    assert_int_equal(fileio_read_all(path, &data, &n, &e), GROK_OK);
    tu_assert_contains(data, "<svg");
    tu_assert_contains(data, "</svg>");
    free(data);
    snprintf(path, sizeof path, "%s/figures/tex/loss.tex", fx->dir);
    assert_int_equal(fileio_read_all(path, &data, &n, &e), GROK_OK);
    tu_assert_contains(data, "\\includegraphics[width={244.00bp},height={165.00bp}]{loss}}");
    tu_assert_contains(data, "cross-entropy loss (nats)");
    free(data);
    snprintf(path, sizeof path, "%s/figures/tex/loss.pdf", fx->dir);
    assert_pdf(path);
    /* --only drew nothing else */
    snprintf(path, sizeof path, "%s/figures/accuracy.svg", fx->dir);
    assert_false(fileio_exists(path));
    snprintf(path, sizeof path, "%s/figures/tex", fx->dir);
    assert_int_equal(count_entries(path), 2);
    sbuf_free(&notes);
}

static void test_end_to_end_partial_run(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.no_measures = 1, .no_summary = 1};
    write_fake_run(dir, &o);
    remove_file(dir, "attention.tsv");
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = plot_run_dir(dir, "png", NULL, &notes, &e);
    printf("# notes:\n%s", notes.data);
    assert_int_equal(rc, GROK_OK);
    tu_assert_contains(notes.data, "progress: skipped: no measures.tsv\n");
    tu_assert_contains(notes.data, "gini: skipped: no measures.tsv\n");
    tu_assert_contains(notes.data, "weights: skipped: no measures.tsv\n");
    tu_assert_contains(notes.data, "attention: skipped: no attention.tsv\n");
    tu_assert_contains(notes.data, "plots: 11 figures drawn, 4 skipped");
    char path[4200];
    snprintf(path, sizeof path, "%s/figures/loss.png", dir);
    assert_true(fileio_exists(path));
    snprintf(path, sizeof path, "%s/figures/progress.png", dir);
    assert_false(fileio_exists(path));
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}


/* ---- the algorithm figures (issue 12) ----------------------------------------- */

/* The value in column col of the first data line of block that starts
 * with prefix (numbers separated by spaces). */
static double block_value(const char *block, const char *prefix, int col)
{
    for (const char *p = block; *p;) {
        if (!strncmp(p, prefix, strlen(prefix))) {
            double v = NAN;
            for (int i = 0; i <= col; i++) {
                char *end;
                v = strtod(p, &end);
                assert_true(end != p);
                p = end;
            }
            return v;
        }
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    printf("# no line \"%s\"\n", prefix);
    fail();
    return NAN;
}

static void test_algo_scripts(void **state)
{
    fixture *fx = *state;
    /* coefs: the key frequencies of measures.tsv's last row (3, 7, 9), the
     * norm, alpha_k and cos_k as the file has them */
    char *s = script_of(fx->run, "coefs", PLOT_PNG);
    char *b = data_block(s, "coefs");
    tu_assert_contains(b, "# epoch logit_norm alpha_3 alpha_7 alpha_9 cos_3 cos_7 cos_9\n");
    assert_int_equal(data_lines(b), 31);
    assert_true(rel_err("alpha_7 at 2000", block_value(b, "2000 ", 3), fake_alpha(7, 2000)) <
                1e-8);
    double norm = block_value(b, "2000 ", 1);
    assert_true(rel_err("cos_9 at 2000", block_value(b, "2000 ", 7), fake_alpha(9, 2000) / norm) <
                1e-6);
    tu_assert_contains(s, "title 'k=3'");
    tu_assert_contains(s, "set multiplot");
    assert_lacks(s, "largest");
    free(b);
    free(s);

    /* excluded_freq: epochs x frequencies, log colour scale */
    s = script_of(fx->run, "excluded_freq", PLOT_PNG);
    b = data_block(s, "exc");
    assert_int_equal(data_lines(b), 31 * (P / 2));
    assert_true(block_value(b, "3000 7 ", 2) > 5 * block_value(b, "3000 6 ", 2)); /* key k */
    tu_assert_contains(s, "set logscale cb");
    tu_assert_contains(s, "with image");
    free(b);
    free(s);

    /* embed_circles: a panel per key frequency, p points each, every label
     * outside its point on the same ray */
    s = script_of(fx->run, "embed_circles", PLOT_PNG);
    tu_assert_contains(s, "set multiplot layout 1,3");
    for (int i = 0; i < N_KEY; i++) {
        char name[16], title[32];
        snprintf(name, sizeof name, "circle%d", i);
        snprintf(title, sizeof title, "set title 'k = %d'", key_freqs[i]);
        tu_assert_contains(s, title);
        b = data_block(s, name);
        assert_int_equal(data_lines(b), P);
        double x = block_value(b, "5 ", 1), y = block_value(b, "5 ", 2);
        double lx = block_value(b, "5 ", 3), ly = block_value(b, "5 ", 4);
        assert_true(fabs(x * ly - y * lx) < 1e-6 * (1 + i)); /* collinear with the origin */
        assert_true(hypot(lx, ly) > hypot(x, y));
        free(b);
    }
    free(s);

    /* irreps: three panels, S3's irreps named as partitions */
    s = script_of(fx->run, "irreps", PLOT_PNG);
    b = data_block(s, "irr");
    tu_assert_contains(b, "# epoch embed_3 embed_111 embed_21 unembed_3 unembed_111 unembed_21 "
                          "logit_3 logit_111 logit_21\n");
    assert_int_equal(data_lines(b), 31);
    free(b);
    tu_assert_contains(s, "title '(2,1)'");
    tu_assert_contains(s, "title '(1,1,1)'");
    tu_assert_contains(s, "set title 'unembedding W_U'");
    assert_int_equal(count_substr(s, "\nplot "), 4); /* the legend and three panels */
    free(s);
    s = script_of(fx->run, "irreps", PLOT_TEX);
    tu_assert_contains(s, "set title 'embedding $W_E$'");
    free(s);
}

/* logit_sd: the distance irrelevance in the title against a direct
 * computation, and the clock and pizza limits (1 and 0). */
static void test_logit_sd(void **state)
{
    fixture *fx = *state;
    char *s = script_of(fx->run, "logit_sd", PLOT_PNG);
    tu_assert_contains(s, "set title 'distance irrelevance 1.00'"); /* the fake run: a clock */
    tu_assert_contains(s, "set xlabel 's = (a + b) mod 23'");
    char *b = data_block(s, "sd");
    assert_int_equal(data_lines(b), P * P);
    free(b);
    free(s);

    /* a table depending on d only: distance irrelevance 0; then a random
     * table, with the summary's verdict */
    tu_xs g = {12345};
    double L[P][P], want;
    for (int round = 0; round < 2; round++) {
        sbuf t;
        sbuf_init(&t);
        sbuf_puts(&t, "d\ts\tlogit\n"); /* columns by name, in any order */
        for (int sv = 0; sv < P; sv++)
            for (int d = 0; d < P; d++) {
                L[sv][d] = round == 0 ? cos(2 * M_PI * 4 * d / P) : tu_xs_normal(&g);
                sbuf_printf(&t, "%d\t%d\t%.17g\n", d, sv, L[sv][d]);
            }
        write_text(fx->dir, "logit_sd.tsv", t.data);
        sbuf_free(&t);
        /* q = mean over d of std over s, over the std of all (two-pass) */
        double mean = 0, var = 0, acc = 0;
        for (int sv = 0; sv < P; sv++)
            for (int d = 0; d < P; d++)
                mean += L[sv][d] / (P * P);
        for (int sv = 0; sv < P; sv++)
            for (int d = 0; d < P; d++)
                var += (L[sv][d] - mean) * (L[sv][d] - mean) / (P * P);
        for (int d = 0; d < P; d++) {
            double m = 0, v = 0;
            for (int sv = 0; sv < P; sv++)
                m += L[sv][d] / P;
            for (int sv = 0; sv < P; sv++)
                v += (L[sv][d] - m) * (L[sv][d] - m) / P;
            acc += sqrt(v) / P;
        }
        want = acc / sqrt(var);
        if (round == 1)
            write_text(fx->dir, "summary.json", "{\"algorithm\": {\"verdict\": \"pizza\"}}");
        plot_run *r;
        grok_err e = {{0}};
        assert_int_equal(plot_run_load(fx->dir, &r, &e), GROK_OK);
        s = script_of(r, "logit_sd", PLOT_PDF);
        b = data_block(s, "sd");
        double got;
        const char *q = strstr(b, "distance irrelevance ");
        assert_non_null(q);
        assert_int_equal(sscanf(q, "distance irrelevance %lf", &got), 1);
        printf("# %s table: distance irrelevance %.4f, direct %.6f\n",
               round ? "random" : "d-only", got, want);
        assert_true(fabs(got - want) < 1e-4);
        if (round == 0)
            assert_true(want < 1e-9);
        else
            tu_assert_contains(s, "set title 'pizza: distance irrelevance");
        free(b);
        free(s);
        plot_run_free(r);
    }
}

/* Without measures.tsv and summary.json the coefficients drawn are the
 * five largest |alpha_k| at the last epoch; the reasons a figure is
 * skipped. */
static void test_algo_skips(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.no_measures = 1, .no_summary = 1};
    write_fake_run(dir, &o);
    plot_run *r;
    grok_err e = {{0}};
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    char *s = script_of(r, "coefs", PLOT_PNG);
    char *b = data_block(s, "coefs");
    /* |alpha| at epoch 3000: 3, 7, 9 (about 20 to 32), then the two largest
     * of 0.4 |sin(0.7 k + 6)| among the others */
    int rest[2] = {0, 0};
    double top[2] = {-1, -1};
    for (int k = 1; k <= P / 2; k++) {
        if (k == 3 || k == 7 || k == 9)
            continue;
        double a = fabs(fake_alpha(k, 3000));
        if (a > top[0]) {
            top[1] = top[0], rest[1] = rest[0];
            top[0] = a, rest[0] = k;
        } else if (a > top[1]) {
            top[1] = a, rest[1] = k;
        }
    }
    int want[5] = {3, 7, 9, rest[0], rest[1]};
    for (int i = 1; i < 5; i++)
        for (int j = i; j > 0 && want[j - 1] > want[j]; j--) {
            int t = want[j];
            want[j] = want[j - 1];
            want[j - 1] = t;
        }
    char head[256] = "# epoch logit_norm";
    for (int i = 0; i < 5; i++)
        snprintf(head + strlen(head), sizeof head - strlen(head), " alpha_%d", want[i]);
    printf("# largest |alpha_k|: %s\n", head);
    tu_assert_contains(b, head);
    tu_assert_contains(s, "largest");
    free(b);
    free(s);
    plot_run_free(r);

    /* malformed or incomplete files: the reason, nothing drawn */
    write_text(dir, "coefs.tsv", "epoch\tlogit_norm\talpha_1\talpha_2\tcos_1\n0\t1\t1\t1\t1\n");
    write_text(dir, "irreps.tsv", "epoch\tembed_3\tembed_21\tlogit_3\n0\t0.5\t0.5\t1\n");
    write_text(dir, "embed_circles.tsv", "k\ttoken\tx\ty\n3\t-1\t0\t1\n");
    write_text(dir, "excluded_freq.tsv", "epoch\tfreq_1\n100\t1\n");
    write_text(dir, "logit_sd.tsv", "s\td\tlogit\n0\t0\t1\n");
    assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
    struct {
        const char *fig, *why;
    } cases[] = {
        {"coefs", "coefs.tsv has not as many cos_k columns as alpha_k columns"},
        {"irreps", "irreps.tsv: the logit_ columns do not name the same irreps as the embed_ "
                   "columns"},
        {"embed_circles", "embed_circles.tsv row 1: k or token is not a small index"},
        {"excluded_freq", "excluded_freq.tsv has one measured epoch; the heatmap needs two"},
        {"logit_sd", "logit_sd.tsv has 1 rows, fewer than half the 23 x 23 grid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *why = skip_reason(r, cases[i].fig);
        printf("# %s: skipped: %s\n", cases[i].fig, why);
        assert_string_equal(why, cases[i].why);
        free(why);
    }
    plot_run_free(r);
    tu_rm_tmp_dir(dir);
}

/* A run without the files: each algorithm figure skipped with "no FILE" in
 * the notes and absent from index.tsv; the others drawn. */
static void test_algo_end_to_end_without(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    fake_opts o = {.no_algo = 1};
    write_fake_run(dir, &o);
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = plot_run_dir(dir, "png", NULL, &notes, &e);
    printf("# notes:\n%s", notes.data);
    assert_int_equal(rc, GROK_OK);
    static const char *const figs[5][2] = {{"coefs", "coefs.tsv"},
                                          {"excluded_freq", "excluded_freq.tsv"},
                                          {"embed_circles", "embed_circles.tsv"},
                                          {"logit_sd", "logit_sd.tsv"},
                                          {"irreps", "irreps.tsv"}};
    char line[128];
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "%s: skipped: no %s\n", figs[i][0], figs[i][1]);
        tu_assert_contains(notes.data, line);
    }
    tu_assert_contains(notes.data, "plots: 10 figures drawn, 5 skipped");
    rundir_tsv ix;
    assert_int_equal(rundir_tsv_read(&ix, dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_rows, 10);
    for (int r = 0; r < ix.n_rows; r++)
        for (int i = 0; i < 5; i++)
            assert_string_not_equal(ix.text[3 * r], figs[i][0]);
    rundir_tsv_free(&ix);
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}

/* Writes tsv as dir's sweep.tsv and returns the gnuplot script of sweep
 * figure fig under opts o (the caller frees it); the figure must be drawn. */
static char *sweep_script_of(const char *dir, const char *tsv, const char *fig, sweep_plot_opts o)
{
    char *path = tu_path_in(dir, "sweep.tsv");
    tu_write_text(path, tsv);
    free(path);
    sweep_plot_data *d;
    grok_err e = {{0}};
    assert_int_equal(sweep_plot_load(dir, &d, &e), GROK_OK);
    sbuf s, why;
    sbuf_init(&s);
    sbuf_init(&why);
    assert_int_equal(sweep_plot_script(d, fig, PLOT_PNG, &o, &s, &why, &e), 1);
    sweep_plot_free(d);
    sbuf_free(&why);
    return s.data;
}

/* sweep_loss colours the curves by the x axis; named levels (a loss, an
 * optimizer) get a right margin wide enough for their colour-box tics, the
 * longest name plus the box and the label (gnuplot's own margin cuts them). */
static void test_sweep_loss_named_levels(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "index\tname\ttrain.loss\tstatus\tepochs_done\tepochs_total\tgrokked_epoch\n");
    static const char *const loss[2] = {"softmax_ce", "stablemax_ce"};
    for (int i = 0; i < 2; i++) {
        sbuf_printf(&t, "%d\tp%d\t%s\tfinished\t100\t100\tnone\n", i, i, loss[i]);
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        char *pdir = tu_path_in(dir, name);
        assert_int_equal(mkdir(pdir, 0755), 0);
        char *mp = tu_path_in(pdir, "metrics.tsv");
        tu_write_text(mp, "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s\n"
                          "0\t0.001\t4.5\t4.6\t0.01\t0.01\t0\n"
                          "100\t0.001\t0.01\t5\t1\t0.02\t1\n");
        free(mp);
        free(pdir);
    }
    const sweep_plot_opts o = {"train.loss", NULL, -1, NULL, NULL};
    char *script = sweep_script_of(dir, t.data, "sweep_loss", o);
    tu_assert_contains(script, "set cbtics ('softmax_ce' 0, 'stablemax_ce' 1)");
    tu_assert_contains(script, "set colorbox\nset rmargin 19\n"); /* 12 + 7 */
    free(script);
    sbuf_free(&t);
    tu_rm_tmp_dir(dir);
}

/* sweep_grokked: the line is each cell's median (as the reproduction
 * tables report), not its mean: grokked epochs 100, 200 and 900 give 200
 * (the mean would be 400), an even cell the middle pair's mean; a weight
 * decay that never grokked keeps its legend entry on its markers. */
static void test_sweep_grokked_median(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "index\tname\ttask.frac_train\toptim.weight_decay\tseed\tstatus\tepochs_done"
                  "\tepochs_total\tgrokked_epoch\n");
    static const int ep[2][3] = {{100, 900, 200}, {300, 500, -1}};
    int i = 0;
    for (int x = 0; x < 2; x++)
        for (int seed = 0; seed < 3; seed++, i++) {
            int g = ep[x][seed];
            if (g > 0)
                sbuf_printf(&t, "%d\tp%d\t%.1f\t1\t%d\tstopped\t%d\t1500\t%d\n", i, i,
                            0.4 + 0.2 * x, seed, g, g);
            else
                sbuf_printf(&t, "%d\tp%d\t%.1f\t1\t%d\tfinished\t1500\t1500\tnone\n", i, i,
                            0.4 + 0.2 * x, seed);
            sbuf_printf(&t, "%d\tq%d\t%.1f\t0\t%d\tfinished\t1500\t1500\tnone\n", i + 100,
                        i, 0.4 + 0.2 * x, seed);
        }
    const sweep_plot_opts o = {"task.frac_train", "optim.weight_decay", -1, NULL, NULL};
    char *script = sweep_script_of(dir, t.data, "sweep_grokked", o);
    char *m = data_block(script, "m0"); /* groups in order of first appearance: 1, then 0 */
    assert_string_equal(m, "0.4 200 100 900\n0.6 400 300 500\n");
    free(m);
    tu_assert_contains(script, "$d1 using 1:2 with points lt 2 pt 8 ps 0.9 title '0'");
    tu_assert_contains(script, "$d0 using 1:2 with points lt 1 pt 8 ps 0.9 notitle");
    free(script);
    sbuf_free(&t);
    tu_rm_tmp_dir(dir);
}

/* A run stopped by train.stop_test_acc below 99% (Grokfast's 95%) has no
 * grokked_epoch; sweep_grokked and sweep_phase count it at the epoch it
 * stopped, not as a run that never grokked at the budget, and say so on the
 * axis. */
static void test_sweep_stopped_below_99(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "index\tname\tfilters.ma\tseed\tstatus\tepochs_done\tepochs_total"
                  "\tgrokked_epoch\n"
                  "0\tp0\tfalse\t0\tstopped\t45\t5000\tnone\n"
                  "1\tp1\tfalse\t1\tstopped\t40\t5000\t40\n"
                  "2\tp2\ttrue\t0\tstopped\t40\t5000\tnone\n"
                  "3\tp3\ttrue\t1\tfinished\t5000\t5000\tnone\n");
    const sweep_plot_opts o = {NULL, NULL, -1, NULL, NULL};
    char *script = sweep_script_of(dir, t.data, "sweep_grokked", o);
    char *m = data_block(script, "m0");
    assert_string_equal(m, "0 42.5 40 45\n1 40 40 40\n"); /* medians [min, max] of the stops */
    free(m);
    tu_assert_contains(script, "set ylabel 'epoch at the stop threshold'");
    free(script);
    script = sweep_script_of(dir, t.data, "sweep_phase", o);
    tu_assert_contains(script, "set cblabel 'epoch at the stop threshold'");
    free(script);
    sbuf_free(&t);
    tu_rm_tmp_dir(dir);
}

/* sweep_liu_phases: each cell's phase from its points' metrics.tsv (first
 * epochs at 90% train and test accuracy), the majority with '*' when the
 * points differ, pending points left out. */
static void test_sweep_liu_phases(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "index\tname\toptim.lr\toptim.weight_decay\tseed\tstatus\tepochs_done"
                  "\tepochs_total\tgrokked_epoch\n");
    /* per point: cell (x, y), status, first epoch at train >= 0.9, at test >= 0.9 (-1: never) */
    static const struct {
        int x, y;
        const char *status;
        int t_train, t_test;
    } pt[8] = {
        {0, 0, "finished", 10, 50},   {0, 0, "stopped", 20, 30},     /* comprehension x2 */
        {1, 0, "stopped", 10, 2000},  {1, 0, "stopped", 30, 1500},   /* grokking x2 */
        {0, 1, "finished", 10, -1},   {0, 1, "finished", -1, -1},    /* memorisation, confusion */
        {1, 1, "pending", -1, -1},    {1, 1, "finished", -1, -1},    /* pending, confusion */
    };
    static const char *const lr[2] = {"0.001", "0.01"}, *const wd[2] = {"0", "1"};
    for (int i = 0; i < 8; i++) {
        sbuf_printf(&t, "%d\tp%d\t%s\t%s\t%d\t%s\t3000\t3000\tnone\n", i, i, lr[pt[i].x],
                    wd[pt[i].y], i % 2, pt[i].status);
        if (!strcmp(pt[i].status, "pending"))
            continue;
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        char *pdir = tu_path_in(dir, name);
        assert_int_equal(mkdir(pdir, 0755), 0);
        sbuf m;
        sbuf_init(&m);
        sbuf_puts(&m, "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s\n");
        for (int ep = 0; ep <= 3000; ep += 10) {
            int tr = pt[i].t_train >= 0 && ep >= pt[i].t_train;
            int te = pt[i].t_test >= 0 && ep >= pt[i].t_test;
            sbuf_printf(&m, "%d\t0.001\t%g\t%g\t%s\t%s\t0\n", ep, 1.0 / (ep + 1),
                        2.0 / (ep + 1), tr ? "0.95" : "0.5", te ? "0.92" : "0.1");
        }
        char *mp = tu_path_in(pdir, "metrics.tsv");
        tu_write_text(mp, m.data);
        free(mp);
        free(pdir);
        sbuf_free(&m);
    }
    const sweep_plot_opts o = {NULL, NULL, -1, NULL, NULL};
    char *script = sweep_script_of(dir, t.data, "sweep_liu_phases", o);
    static const char *const want[4] = {"0 0 \"C\"\n", "1 0 \"G\"\n", "0 1 \"M*\"\n",
                                        "1 1 \"X\"\n"};
    for (int ph = 0; ph < 4; ph++) {
        char name[8];
        snprintf(name, sizeof name, "ph%d", ph);
        char *b = data_block(script, name);
        assert_string_equal(b, want[ph]);
        free(b);
    }
    tu_assert_contains(script, "$pend << EOD\nEOD\n"); /* a cell with a finished point is not pending */
    tu_assert_contains(script, "title 'comprehension'");
    tu_assert_contains(script, "title 'confusion'");
    grok_err e = {{0}};
    sbuf notes;
    sbuf_init(&notes);
    assert_int_equal(sweep_plot_dir(dir, "png", NULL, &notes, &e), GROK_OK);
    printf("# notes:\n%s", notes.data);
    assert_lacks(notes.data, "sweep_liu_phases: skipped");
    assert_lacks(notes.data, "gnuplot:");
    char png[4200];
    snprintf(png, sizeof png, "%s/figures/sweep_liu_phases.png", dir);
    assert_true(access(png, F_OK) == 0);
    sbuf_free(&notes);
    free(script);
    sbuf_free(&t);
    tu_rm_tmp_dir(dir);
}

/* The sweep phase diagram of the clock and pizza measures: drawn from a
 * hand-written sweep.tsv with grad_sym, dist_irrel and algorithm (cell
 * means, verdict letters, a cell without a value outlined), listed in
 * index.tsv; skipped with the reason without the columns. */
static void test_sweep_algorithm(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "index\tname\tmodel.attn_rate\tmodel.d_model\tseed\tstatus\tepochs_done"
                  "\tepochs_total\tgrokked_epoch\tkey_freqs\talgorithm\tgrad_sym\tdist_irrel\n");
    static const double rate[3] = {0, 0.5, 1};
    static const int width[2] = {64, 128};
    int i = 0;
    for (int a = 0; a < 3; a++)
        for (int w = 0; w < 2; w++)
            for (int seed = 0; seed < 2; seed++, i++) {
                const char *alg = a == 0 ? "pizza" : a == 2 ? "clock" : seed ? "clock" : "neither";
                if (a == 2 && w == 1) /* not run yet */
                    sbuf_printf(&t, "%d\tp%d\t%g\t%d\t%d\tpending\tnone\tnone\tnone\tnone\tnone"
                                    "\tnone\tnone\n",
                                i, i, rate[a], width[w], seed);
                else
                    sbuf_printf(&t, "%d\tp%d\t%g\t%d\t%d\tfinished\t100\t100\t90\t4\t%s\t%.2f"
                                    "\t%.2f\n",
                                i, i, rate[a], width[w], seed, alg, 0.99 - 0.3 * a - 0.02 * seed,
                                0.2 + 0.3 * a + 0.04 * w);
            }
    const sweep_plot_opts o = {NULL, NULL, -1, NULL, NULL};
    char *script = sweep_script_of(dir, t.data, "sweep_algorithm", o);
    /* x = attn_rate, y = d_model; cell (1, 0): grad_sym mean of 0.69 and
     * 0.67, verdicts clock and neither (a tie: file order) */
    tu_assert_contains(script, "set xlabel 'model.attn_rate'");
    tu_assert_contains(script, "set ylabel 'model.d_model'");
    char *m0 = data_block(script, "m0"), *m1 = data_block(script, "m1");
    tu_assert_contains(m0, "0 0 0.98 \"P\" 0\n");
    tu_assert_contains(m0, "1 0 0.68 \"C/N\" 0\n");
    tu_assert_contains(m1, "1 1 0.54 \"C/N\" 1\n");
    assert_int_equal(data_lines(m0), 5);
    free(m0);
    free(m1);
    char *none = data_block(script, "none0");
    assert_string_equal(none, "2 1\n");
    free(none);
    tu_assert_contains(script, "C clock, P pizza, N neither");

    /* end to end: drawn and listed */
    grok_err e = {{0}};
    sbuf notes;
    sbuf_init(&notes);
    assert_int_equal(sweep_plot_dir(dir, "png", NULL, &notes, &e), GROK_OK);
    printf("# notes:\n%s", notes.data);
    assert_lacks(notes.data, "sweep_algorithm: skipped");
    assert_lacks(notes.data, "gnuplot:");
    char png[4200];
    snprintf(png, sizeof png, "%s/figures/sweep_algorithm.png", dir);
    uint32_t w, h;
    long want_w = 0, want_h = 0;
    script_png_size(script, &want_w, &want_h);
    png_size(png, &w, &h);
    printf("# sweep_algorithm.png %ux%u (script %ldx%ld)\n", w, h, want_w, want_h);
    assert_int_equal(w, want_w);
    assert_int_equal(h, want_h);
    rundir_tsv ix;
    assert_int_equal(rundir_tsv_read(&ix, dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    int listed = 0;
    for (int r = 0; r < ix.n_rows; r++)
        listed |= !strcmp(ix.text[3 * r], "sweep_algorithm") &&
                  !strcmp(ix.text[3 * r + 1], "sweep_algorithm.png");
    assert_true(listed);
    rundir_tsv_free(&ix);

    /* a sweep from before the measures: skipped with the reason */
    sbuf_clear(&t);
    sbuf_puts(&t, "index\tname\tmodel.d_model\tstatus\tepochs_done\tepochs_total\tgrokked_epoch\n"
                  "0\tp0\t64\tfinished\t100\t100\t90\n");
    char *path = tu_path_in(dir, "sweep.tsv");
    tu_write_text(path, t.data);
    free(path);
    sbuf_clear(&notes);
    assert_int_equal(sweep_plot_dir(dir, "png", NULL, &notes, &e), GROK_OK);
    tu_assert_contains(notes.data, "sweep_algorithm: skipped: sweep.tsv has no column grad_sym "
                                   "(no clock and pizza measures)\n");
    assert_int_equal(rundir_tsv_read(&ix, dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    for (int r = 0; r < ix.n_rows; r++)
        assert_string_not_equal(ix.text[3 * r], "sweep_algorithm");
    rundir_tsv_free(&ix);
    sbuf_free(&notes);
    free(script);
    sbuf_free(&t);
    tu_rm_tmp_dir(dir);
}

/* ---- the figure tables ------------------------------------------------------ */

static void check_table(const char *what, const plot_figure *figs, int n)
{
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        const char *c = figs[i].caption;
        printf("# %s %-22s needs %s: %s\n", what, figs[i].name, figs[i].needs[0], c);
        assert_non_null(figs[i].build);
        assert_non_null(figs[i].needs[0]);
        /* one sentence for under a figure, and a clean cell of index.tsv */
        assert_true(strlen(c) > 20 && c[0] >= 'A' && c[0] <= 'Z' && c[strlen(c) - 1] == '.');
        assert_null(strpbrk(c, "\t\n\r"));
        assert_null(strpbrk(figs[i].name, "\t\n\r /."));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(figs[i].name, figs[j].name);
    }
}

/* The table says what each figure needs: the full fake run draws every
 * figure, and removing any file a figure needs skips it with "no FILE". */
static void test_figure_table(void **state)
{
    (void)state;
    int n, n_sweep;
    const plot_figure *figs = plot_figures(&n);
    check_table("run", figs, n);
    const plot_figure *sweep = sweep_plot_figures(&n_sweep);
    check_table("sweep", sweep, n_sweep);
    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    grok_err e = {{0}};
    int checked = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3 && figs[i].needs[k]; k++) {
            write_fake_run(dir, &o);
            plot_run *r;
            assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
            free(script_of(r, figs[i].name, PLOT_PNG));
            plot_run_free(r);
            remove_file(dir, figs[i].needs[k]);
            assert_int_equal(plot_run_load(dir, &r, &e), GROK_OK);
            char *why = skip_reason(r, figs[i].name), want[128];
            snprintf(want, sizeof want, "no %s", figs[i].needs[k]);
            assert_string_equal(why, want);
            free(why);
            plot_run_free(r);
            checked++;
        }
    }
    printf("# %d run figures, %d sweep figures; %d needed files checked\n", n, n_sweep, checked);
    tu_rm_tmp_dir(dir);
}

/* ---- real runs of the other task kinds and the MLP family --------------------- */

/* Trains a short run into dir/name with the extra --set flags (no figures),
 * then runs `grok plot` on it; checks exit 0, that figures/index.tsv lists
 * exactly the PNGs drawn, and that every other figure has a skip note.
 * Returns the notes (malloc'ed). */
static char *train_and_plot(const char *bin, const char *dir, const char *name, const char *sets)
{
    char cmd[8192], *log = NULL;
    snprintf(cmd, sizeof cmd, "--set train.epochs=50 %s", sets);
    char *run = tu_grok_train(bin, dir, name, cmd);
    printf("# %s: grok train %s: exit 0\n", name, sets);
    snprintf(cmd, sizeof cmd, "%s plot %s", bin, run);
    int rc = tu_run_shell(dir, cmd, &log);
    printf("# grok plot %s: exit %d\n%s", name, rc, log ? log : "");
    assert_int_equal(rc, 0);

    int n;
    const plot_figure *figs = plot_figures(&n);
    rundir_tsv ix;
    grok_err e = {{0}};
    assert_int_equal(rundir_tsv_read(&ix, run, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    char figs_dir[4300];
    snprintf(figs_dir, sizeof figs_dir, "%s/figures", run);
    assert_int_equal(count_entries(figs_dir), ix.n_rows + 2); /* the PNGs, index.tsv, src/ */
    int row = 0;
    for (int i = 0; i < n; i++) {
        char png[4400], note[128];
        snprintf(png, sizeof png, "%s/%s.png", figs_dir, figs[i].name);
        snprintf(note, sizeof note, "%s: skipped: ", figs[i].name);
        if (row < ix.n_rows && !strcmp(ix.text[3 * row], figs[i].name)) {
            assert_true(fileio_exists(png));
            assert_string_equal(ix.text[3 * row + 2], figs[i].caption);
            assert_lacks(log, note);
            row++;
        } else {
            assert_false(fileio_exists(png));
            tu_assert_contains(log, note);
        }
    }
    assert_int_equal(row, ix.n_rows); /* every row a figure, in table order */
    printf("# %s: %d figures in index.tsv\n", name, ix.n_rows);
    rundir_tsv_free(&ix);
    free(run);
    return log;
}

static void test_task_kinds(void **state)
{
    (void)state;
    const char *bin = tu_grok_bin();
    char *dir = tu_tmp_dir();
    char *log = train_and_plot(bin, dir, "group",
                               "--set task.kind=group --set task.group=S3 "
                               "--set model.d_model=32 --set model.d_mlp=64");
    /* the attention grid over (x, y) and the irrep fractions; the Fourier
     * figures skipped with the reason */
    tu_assert_contains(log, "plots: 5 figures drawn, 10 skipped");
    assert_lacks(log, "attention: skipped");
    assert_lacks(log, "irreps: skipped");
    tu_assert_contains(log, "fourier_embed: skipped: no fourier_embed.tsv (no Fourier measures "
                            "for this run: task kind 'group'");
    free(log);
    log = train_and_plot(bin, dir, "mlp",
                         "--set model.family=mlp --set task.p=23 --set model.d_embed=16 "
                         "--set model.d_hidden=32");
    /* the MLP has every measure but W_L's Gini, and no attention */
    tu_assert_contains(log, "plots: 12 figures drawn, 3 skipped");
    tu_assert_contains(log, "gini: skipped: measures.tsv has no column gini_WL");
    tu_assert_contains(log, "attention: skipped: no attention.tsv");
    free(log);
    tu_rm_tmp_dir(dir);
}

/* ---- editable figures and the style ----------------------------------------- */

static int files_equal(const char *a, const char *b)
{
    char *da, *db;
    size_t na, nb;
    grok_err e;
    if (fileio_read_all(a, &da, &na, &e) != GROK_OK)
        return 0;
    if (fileio_read_all(b, &db, &nb, &e) != GROK_OK) {
        free(da);
        return 0;
    }
    int eq = na == nb && !memcmp(da, db, na);
    free(da);
    free(db);
    return eq;
}

/* Every figure's figures/src/NAME.gp, run by gnuplot alone in a copy of
 * figures/src, redraws a PNG byte for byte equal to grok's; the scripts
 * hold no inline data and start with the named style variables. */
static void test_src_redraw(void **state)
{
    fixture *fx = *state;
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    assert_int_equal(plot_run_dir(fx->dir, "png,pdf", NULL, &notes, &e), GROK_OK);
    sbuf_free(&notes);
    char *copy = tu_tmp_dir();
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -r '%s/figures/src' '%s/src'", fx->dir, copy);
    assert_int_equal(system(cmd), 0);
    int n_figs, n_checked = 0;
    const plot_figure *figs = plot_figures(&n_figs);
    for (int i = 0; i < n_figs; i++) {
        char gp[4400], png[4400], grok_png[4400];
        snprintf(gp, sizeof gp, "%s/src/%s.gp", copy, figs[i].name);
        char *text;
        size_t n;
        if (fileio_read_all(gp, &text, &n, &e) != GROK_OK)
            continue; /* not drawn for this run */
        assert_lacks(text, "<< EOD");
        tu_assert_contains(text, "width_in = ");
        tu_assert_contains(text, "font_pt = ");
        tu_assert_contains(text, "c1 = '#0072B2'");
        tu_assert_contains(text, ".tsv'");
        free(text);
        /* a second format's script sits beside it */
        snprintf(gp, sizeof gp, "%s/src/%s.pdf.gp", copy, figs[i].name);
        assert_int_equal(access(gp, R_OK), 0);
        snprintf(cmd, sizeof cmd, "cd '%s/src' && gnuplot -d '%s.gp' 2>&1", copy, figs[i].name);
        assert_int_equal(system(cmd), 0);
        snprintf(png, sizeof png, "%s/src/%s.png", copy, figs[i].name);
        snprintf(grok_png, sizeof grok_png, "%s/figures/%s.png", fx->dir, figs[i].name);
        uint32_t w1, h1, w2, h2;
        png_size(png, &w1, &h1);
        png_size(grok_png, &w2, &h2);
        assert_int_equal(w1, w2);
        assert_int_equal(h1, h2);
        if (!files_equal(png, grok_png))
            printf("# %s: the standalone redraw differs from grok's PNG\n", figs[i].name);
        assert_true(files_equal(png, grok_png));
        n_checked++;
    }
    printf("# %d standalone scripts redrew their PNG byte for byte\n", n_checked);
    assert_true(n_checked >= 10);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", copy);
    assert_int_equal(system(cmd), 0);
    free(copy);
}

/* The MediaBox of a PDF: its width and height in points. */
static void pdf_media_box(const char *path, double *w, double *h)
{
    char *data;
    size_t n;
    grok_err e;
    assert_int_equal(fileio_read_all(path, &data, &n, &e), GROK_OK);
    const char *q = NULL;
    for (size_t i = 0; i + 9 < n && !q; i++)
        if (!memcmp(data + i, "/MediaBox", 9))
            q = data + i;
    assert_non_null(q);
    double x0, y0;
    assert_int_equal(sscanf(q, "/MediaBox [ %lf %lf %lf %lf", &x0, &y0, w, h), 4);
    *w -= x0;
    *h -= y0;
    free(data);
}

/* Every font of a PDF is embedded: each /FontDescriptor carries a font
 * file (/FontFile, /FontFile2 or /FontFile3; cairo writes the objects
 * uncompressed, no object streams). */
static void assert_fonts_embedded(const char *path)
{
    char *data;
    size_t n;
    grok_err e;
    assert_int_equal(fileio_read_all(path, &data, &n, &e), GROK_OK);
    int desc = 0, files = 0, objstm = 0;
    for (size_t i = 0; i + 16 < n; i++) {
        desc += !memcmp(data + i, "/FontDescriptor", 15) && i >= 6 &&
                !memcmp(data + i - 6, "/Type ", 6);
        files += !memcmp(data + i, "/FontFile", 9);
        objstm += !memcmp(data + i, "/ObjStm", 7);
    }
    free(data);
    printf("# %s: %d font descriptors, %d embedded font files\n", path, desc, files);
    assert_int_equal(objstm, 0);
    assert_true(desc > 0);
    assert_int_equal(files, desc);
}

static void set_style(plot_style *st, const char *key, const char *v)
{
    grok_err e = {{0}};
    int rc = plot_style_set(st, key, v, &e);
    if (rc)
        printf("# %s=%s: %s\n", key, v, e.msg);
    assert_int_equal(rc, GROK_OK);
}

/* A PDF drawn at a requested width and height has that page size (read
 * from its MediaBox; cairo writes whole points); the PNG scales with it. */
static void test_style_page_size(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *w, *h;
        double w_pt, h_pt;
    } cases[] = {{"column", "2in", 3.4 * 72, 144}, {"page", "6cm", 7.0 * 72, 6 / 2.54 * 72},
                 {"8.6cm", "50mm", 8.6 / 2.54 * 72, 50 / 25.4 * 72}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        plot_style st;
        plot_style_default(&st);
        set_style(&st, "width", cases[k].w);
        set_style(&st, "height", cases[k].h);
        set_style(&st, "font-size", "9pt");
        grok_err e = {{0}};
        assert_int_equal(plot_run_dir_style(fx->dir, "pdf,png", "loss", &st, NULL, &e), GROK_OK);
        char path[4200];
        snprintf(path, sizeof path, "%s/figures/loss.pdf", fx->dir);
        double w, h;
        pdf_media_box(path, &w, &h);
        printf("# --width %s --height %s: MediaBox %g x %g pt (want %.1f x %.1f)\n", cases[k].w,
               cases[k].h, w, h, cases[k].w_pt, cases[k].h_pt);
        assert_true(fabs(w - cases[k].w_pt) <= 1.0);
        assert_true(fabs(h - cases[k].h_pt) <= 1.0);
        assert_fonts_embedded(path);
        snprintf(path, sizeof path, "%s/figures/loss.png", fx->dir);
        uint32_t pw, ph;
        png_size(path, &pw, &ph);
        assert_int_equal(pw, (uint32_t)(cases[k].w_pt / 72 * (1600.0 / 3.4) + 0.5));
        /* the text size is in the script the researcher edits */
        snprintf(path, sizeof path, "%s/figures/src/loss.pdf.gp", fx->dir);
        char *text;
        size_t n;
        assert_int_equal(fileio_read_all(path, &text, &n, &e), GROK_OK);
        tu_assert_contains(text, "font_pt = 9 ");
        tu_assert_contains(text, "set terminal pdfcairo");
        free(text);
    }
}

/* Bad style values get a message naming the flag and what is valid. */
static void test_style_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {{"width", "-3in", "must be positive"},
               {"width", "0cm", "must be positive"},
               {"width", "3.4", "no unit"},
               {"width", "3.4furlong", "unknown unit \"furlong\""},
               {"height", "column", "not a length"},
               {"font-size", "8px", "unknown unit"},
               {"font-size", "big", "not a number"},
               {"font-size", "1", "4 to 72"},
               {"line-width", "-1", "above 0"},
               {"colours", "rainbow", "default (Okabe-Ito), grey"},
               {"epoch-axis", "sqrt", "linear, log"},
               {"from", "-5", "epoch"},
               {"phases", "maybe", "on, off"},
               {"font", "Times'", "no quotes"},
               {"size", "3in", "unknown style key"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        plot_style st;
        plot_style_default(&st);
        grok_err e = {{0}};
        assert_int_equal(plot_style_set(&st, bad[k].key, bad[k].value, &e), GROK_EINVAL);
        printf("# %s %s: %s\n", bad[k].key, bad[k].value, e.msg);
        tu_assert_contains(e.msg, bad[k].msg);
    }
    /* an empty epoch range draws nothing */
    char *dir = tu_tmp_dir();
    fake_opts o = {0};
    write_fake_run(dir, &o);
    plot_style st;
    plot_style_default(&st);
    set_style(&st, "from", "500");
    set_style(&st, "to", "100");
    grok_err e = {{0}};
    assert_int_equal(plot_run_dir_style(dir, "png", NULL, &st, NULL, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "range is empty");
    char figs[4200];
    snprintf(figs, sizeof figs, "%s/figures", dir);
    assert_int_equal(count_entries(figs), 0);
    free(dir);
}

/* The style reaches the scripts: a log epoch axis with epoch 0 as a tic,
 * the epoch range, greys, no phases or marks. */
static void test_style_scripts(void **state)
{
    fixture *fx = *state;
    plot_style st;
    plot_style_default(&st);
    set_style(&st, "epoch-axis", "log");
    set_style(&st, "colours", "grey");
    set_style(&st, "to", "2000");
    sbuf s, why;
    sbuf_init(&s);
    sbuf_init(&why);
    grok_err e = {{0}};
    assert_int_equal(plot_script_style(fx->run, "progress", PLOT_PNG, &st, &s, &why, &e), 1);
    tu_assert_contains(s.data, "set nonlinear x via log10(x + 1) inverse 10**x - 1");
    tu_assert_contains(s.data, "set xtics ('0' 0, '1' 1, '10' 10, '100' 100, '1000' 1000)");
    assert_lacks(s.data, "'10000'");
    tu_assert_contains(s.data, "set xrange [*:2000]");
    tu_assert_contains(s.data, "c1 = '#000000'; dt1 = 1");
    tu_assert_contains(s.data, "c3 = '#000000'; dt3 = 2");
    tu_assert_contains(s.data, "set palette gray");
    tu_assert_contains(s.data, "c_phase1");
    sbuf_clear(&s);
    set_style(&st, "phases", "off");
    set_style(&st, "marks", "off");
    set_style(&st, "from", "100");
    assert_int_equal(plot_script_style(fx->run, "progress", PLOT_PNG, &st, &s, &why, &e), 1);
    assert_lacks(s.data, "set object");
    tu_assert_contains(s.data, "set xrange [100:2000]");
    tu_assert_contains(s.data, "set xtics ('100' 100, '1000' 1000)");
    sbuf_clear(&s);
    assert_int_equal(plot_script_style(fx->run, "loss", PLOT_PNG, &st, &s, &why, &e), 1);
    assert_lacks(s.data, "set arrow");
    sbuf_free(&s);
    sbuf_free(&why);
    /* epoch 0 is drawn: the log-axis figure renders without a warning */
    plot_style_default(&st);
    set_style(&st, "epoch-axis", "log");
    sbuf notes;
    sbuf_init(&notes);
    assert_int_equal(plot_run_dir_style(fx->dir, "png", "loss", &st, &notes, &e), GROK_OK);
    assert_lacks(notes.data, "gnuplot:");
    sbuf_free(&notes);
    /* its data start at epoch 0 (log10(1 + 0) = 0, the left edge), a tic there */
    char path[4200];
    snprintf(path, sizeof path, "%s/figures/src/loss.tsv", fx->dir);
    char *data = tu_read_file(path, NULL);
    const char *row = data;
    while (row && *row == '#')
        row = strchr(row, '\n') + 1;
    assert_non_null(row);
    assert_int_equal(strncmp(row, "0\t", 2), 0);
    free(data);
    snprintf(path, sizeof path, "%s/figures/src/loss.gp", fx->dir);
    data = tu_read_file(path, NULL);
    tu_assert_contains(data, "set xtics ('0' 0, '1' 1");
    tu_assert_contains(data, "set autoscale xfix");
    free(data);
}

/* The cairolatex output compiles with pdflatex, a figure and a panel
 * figure, where Debian's texlive is installed (texlive-latex-base; else
 * skipped with a note). */
static void test_tex_compiles(void **state)
{
    fixture *fx = *state;
    if (system("command -v pdflatex >/dev/null 2>&1") != 0) {
        printf("# pdflatex not installed (texlive-latex-base): the cairolatex compile check "
               "is skipped\n");
        skip();
    }
    grok_err e = {{0}};
    assert_int_equal(plot_run_dir(fx->dir, "tex", "loss", NULL, &e), GROK_OK);
    /* a panel figure with its shared legend, in LaTeX text too */
    const char *dirs[1] = {fx->dir};
    assert_int_equal(plot_panels(dirs, 1, "loss,accuracy", NULL, NULL, "pair", "tex", NULL, NULL,
                                 &e),
                     GROK_OK);
    char doc[4400], cmd[9000];
    snprintf(doc, sizeof doc, "%s/doc.tex", fx->dir);
    FILE *f = fopen(doc, "w");
    assert_non_null(f);
    fputs("\\documentclass{article}\n\\usepackage{graphicx,color}\n"
          "\\graphicspath{{figures/tex/}}\n\\begin{document}\n"
          "\\input{figures/tex/loss.tex}\n\n\\input{figures/tex/pair.tex}\n"
          "\\end{document}\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && pdflatex -interaction=nonstopmode -halt-on-error doc.tex >/dev/null",
             fx->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(doc, sizeof doc, "%s/doc.pdf", fx->dir);
    assert_pdf(doc);
}

/* A two-panel figure's script at path draws one legend above both panels
 * (holding entry) and none in either panel, letters (a) and (b). */
static void assert_shared_legend(const char *path, const char *entry)
{
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_int_equal(count_substr(text, "# ---- the shared legend"), 1);
    assert_int_equal(count_substr(text, "shared: drawn once, above the panels\nunset key\n"), 2);
    assert_lacks(text, "legend_h = 0.0000");
    tu_assert_contains(text, "keyentry with lines lt 1 title 'train'");
    tu_assert_contains(text, entry);
    tu_assert_contains(text, "set label 1000 '(a)");
    tu_assert_contains(text, "set label 1000 '(b)");
    free(text);
}

/* Panels: one figure with the requested panels, their letters, the data of
 * each panel in its own file, redrawn unchanged by its standalone script;
 * two runs side by side; bad requests draw nothing. */
static void test_panels(void **state)
{
    fixture *fx = *state;
    const char *dirs[2] = {fx->dir, NULL};
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = plot_panels(dirs, 1, "loss,progress,fourier_embed", NULL, NULL, NULL, "png,pdf",
                         NULL, &notes, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    printf("# %s", notes.data);
    char path[4400], figs[4200];
    snprintf(figs, sizeof figs, "%s/figures", fx->dir);
    snprintf(path, sizeof path, "%s/panels.pdf", figs);
    double w, h;
    pdf_media_box(path, &w, &h);
    assert_true(fabs(w - 7.0 * 72) <= 1.0); /* three columns: page wide */
    snprintf(path, sizeof path, "%s/src/panels.gp", figs);
    char *text;
    size_t n;
    assert_int_equal(fileio_read_all(path, &text, &n, &e), GROK_OK);
    tu_assert_contains(text, "rows = 1; cols = 3");
    tu_assert_contains(text, "set origin 2 * panel_w, 0 * panel_h");
    assert_int_equal(count_substr(text, "# ---- panel ("), 3);
    /* three recipes of different curves: a legend in each panel */
    tu_assert_contains(text, "legend_h = 0.0000");
    assert_lacks(text, "# ---- the shared legend");
    assert_int_equal(count_substr(text, "\nreset\n"), 3);
    tu_assert_contains(text, "set label 1000 '(a)'");
    tu_assert_contains(text, "set label 1000 '(b)'");
    tu_assert_contains(text, "set label 1000 '(c)'");
    assert_lacks(text, "'(d)'");
    tu_assert_contains(text, "'panels_p1_loss.tsv'");
    tu_assert_contains(text, "'panels_p2_progress.tsv'");
    tu_assert_contains(text, "'panels_p3_embed.tsv'");
    assert_lacks(text, "<< EOD");
    free(text);
    /* the standalone script redraws the same PNG */
    char cmd[9000];
    char *copy = tu_tmp_dir();
    snprintf(cmd, sizeof cmd, "cp -r '%s/src' '%s/src' && cd '%s/src' && gnuplot -d panels.gp",
             figs, copy, copy);
    assert_int_equal(system(cmd), 0);
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/src/panels.png", copy);
    snprintf(b, sizeof b, "%s/panels.png", figs);
    assert_true(files_equal(a, b));
    /* a layout, a name */
    sbuf_clear(&notes);
    assert_int_equal(plot_panels(dirs, 1, "loss,accuracy,gini,weights", "2x2", NULL, "four",
                                 "png", NULL, &notes, &e),
                     GROK_OK);
    snprintf(path, sizeof path, "%s/src/four.gp", figs);
    assert_int_equal(fileio_read_all(path, &text, &n, &e), GROK_OK);
    tu_assert_contains(text, "rows = 2; cols = 2");
    tu_assert_contains(text, "set origin 1 * panel_w, 0 * panel_h"); /* (d), bottom right */
    assert_int_equal(count_substr(text, "# ---- panel ("), 4);
    free(text);
    /* loss and accuracy have the same curves and marks: one legend above
     * both, drawn once, the panels without theirs; redrawn unchanged */
    sbuf_clear(&notes);
    assert_int_equal(plot_panels(dirs, 1, "loss,accuracy", NULL, NULL, "same", "png", NULL,
                                 &notes, &e),
                     GROK_OK);
    snprintf(path, sizeof path, "%s/src/same.gp", figs);
    assert_shared_legend(path, "keyentry with lines lt 2 title 'test'");
    snprintf(cmd, sizeof cmd, "cp '%s/src/same'* '%s/src/' && cd '%s/src' && gnuplot -d same.gp",
             figs, copy, copy);
    assert_int_equal(system(cmd), 0);
    snprintf(a, sizeof a, "%s/src/same.png", copy);
    snprintf(b, sizeof b, "%s/same.png", figs);
    assert_true(files_equal(a, b));
    /* bad requests: nothing drawn */
    static const struct {
        const char *panels, *layout, *name, *msg;
    } bad[] = {{"loss,bogus", NULL, "bad1", "unknown figure \"bogus\": valid figures are loss"},
               {"loss,progress,gini", "1x2", "bad2", "2 places for 3 panels"},
               {"loss", "three", "bad3", "give rows x columns"},
               {"attention", NULL, "bad4", "itself a figure of several panels"},
               {"loss", NULL, "../x", "--name"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(plot_panels(dirs, 1, bad[k].panels, bad[k].layout, NULL, bad[k].name,
                                     "png", NULL, NULL, &e),
                         GROK_EINVAL);
        printf("# --panels %s: %s\n", bad[k].panels, e.msg);
        tu_assert_contains(e.msg, bad[k].msg);
        snprintf(path, sizeof path, "%s/%s.png", figs, bad[k].name);
        assert_int_equal(access(path, F_OK), -1);
    }
    /* two runs, one panel each, into another directory */
    char *other = tu_tmp_dir();
    fake_opts o = {.no_phases = 1, .metrics_rows = 401}; /* to epoch 4000 */
    write_fake_run(other, &o);
    char *out = tu_tmp_dir();
    dirs[1] = other;
    sbuf_clear(&notes);
    rc = plot_panels(dirs, 2, "progress", NULL, out, NULL, "png", NULL, &notes, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    snprintf(path, sizeof path, "%s/figures/src/compare.gp", out);
    assert_int_equal(fileio_read_all(path, &text, &n, &e), GROK_OK);
    tu_assert_contains(text, "rows = 1; cols = 2");
    assert_int_equal(count_substr(text, "# ---- panel ("), 2);
    tu_assert_contains(text, "set label 1000 '(b) ");
    /* the second run has no phases: its legend differs, each panel keeps its own */
    tu_assert_contains(text, "legend_h = 0.0000");
    /* the same axes: both epoch axes end at the longer run's last epoch, and
     * a first pass reads each panel's y range for the union both draw */
    assert_int_equal(count_substr(text, "set xrange [*:4000]\n"), 4);
    assert_int_equal(count_substr(text, "set table $panel_ranges\n"), 2);
    tu_assert_contains(text, "y_lo = y_lo_2 < y_lo ? y_lo_2 : y_lo; y_hi = y_hi_2 > y_hi ? "
                             "y_hi_2 : y_hi\n");
    assert_int_equal(count_substr(text, "set yrange [y_lo:y_hi]\nplot "), 2);
    /* the data is written once, in the first pass */
    tu_assert_contains(text, "# data: $p1_");
    tu_assert_contains(text, ", above\n");
    free(text);
    assert_int_equal(plot_panels(dirs, 2, "loss,progress", NULL, out, NULL, "png", NULL, NULL,
                                 &e),
                     GROK_EINVAL);
    tu_assert_contains(e.msg, "give one figure");
    /* two runs with the same curves and phases: one legend above both */
    fake_opts same = {0};
    write_fake_run(other, &same);
    sbuf_clear(&notes);
    assert_int_equal(plot_panels(dirs, 2, "progress", NULL, out, "twins", "png,pdf", NULL,
                                 &notes, &e),
                     GROK_OK);
    printf("# %s", notes.data);
    snprintf(path, sizeof path, "%s/figures/src/twins.gp", out);
    assert_shared_legend(path, "keyentry with boxes fc rgb c_phase2");
    snprintf(path, sizeof path, "%s/figures/twins.pdf", out);
    assert_fonts_embedded(path);
    sbuf_free(&notes);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", copy, other, out);
    assert_int_equal(system(cmd), 0);
    free(copy);
    free(other);
    free(out);
}

/* The sweep preset's figure: the phase diagram beside the grokked-epoch
 * curve as panels (a) and (b) of a hand-written sweep.tsv, noenhanced text
 * (axis keys hold underscores), page wide, fonts embedded, redrawn
 * unchanged by its standalone script; a style resizes it; multi-panel and
 * unknown sweep figures draw nothing. */
static void test_sweep_panels(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    sbuf t;
    sbuf_init(&t);
    sbuf_puts(&t, "index\tname\ttask.frac_train\toptim.weight_decay\tstatus\tepochs_done"
                  "\tepochs_total\tgrokked_epoch\n");
    static const char *const frac[3] = {"0.4", "0.6", "0.8"}, *const wd[3] = {"0.3", "1", "3"};
    int i = 0;
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++, i++) {
            int grok = x > 0 || y == 2;
            sbuf_printf(&t, "%d\tp%d\t%s\t%s\t%s\t%d\t1500\t", i, i, frac[x], wd[y],
                        grok ? "stopped" : "finished", grok ? 900 - 200 * x - 100 * y : 1500);
            if (grok)
                sbuf_printf(&t, "%d\n", 900 - 200 * x - 100 * y);
            else
                sbuf_puts(&t, "none\n");
        }
    char *path = tu_path_in(dir, "sweep.tsv");
    tu_write_text(path, t.data);
    free(path);
    sbuf_free(&t);
    sweep_plot_opts o = {"task.frac_train", "optim.weight_decay", -1, NULL, NULL};
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = sweep_plot_panels(dir, "sweep_phase,sweep_grokked", "1x2", "sweep", "png,pdf", &o,
                               &notes, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    printf("# %s", notes.data);
    assert_lacks(notes.data, "gnuplot:");
    char p[4400], figs[4200];
    snprintf(figs, sizeof figs, "%s/figures", dir);
    snprintf(p, sizeof p, "%s/src/sweep.gp", figs);
    char *text;
    size_t n;
    assert_int_equal(fileio_read_all(p, &text, &n, &e), GROK_OK);
    tu_assert_contains(text, "rows = 1; cols = 2");
    assert_int_equal(count_substr(text, "# ---- panel ("), 2);
    tu_assert_contains(text, "# ---- panel (a): sweep_phase");
    tu_assert_contains(text, "# ---- panel (b): sweep_grokked");
    tu_assert_contains(text, "set label 1000 '(a)'");
    tu_assert_contains(text, "set label 1000 '(b)'");
    assert_lacks(text, "'(c)'");
    tu_assert_contains(text, "set terminal pngcairo noenhanced");
    tu_assert_contains(text, "set key title 'optim.weight_decay'");
    free(text);
    snprintf(p, sizeof p, "%s/sweep.pdf", figs);
    double w, h;
    pdf_media_box(p, &w, &h);
    printf("# sweep.pdf: %g x %g pt\n", w, h);
    assert_true(fabs(w - 7.0 * 72) <= 1.0);
    assert_fonts_embedded(p);
    char *copy = tu_tmp_dir(), cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -r '%s/src' '%s/src' && cd '%s/src' && gnuplot -d sweep.gp",
             figs, copy, copy);
    assert_int_equal(system(cmd), 0);
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/src/sweep.png", copy);
    snprintf(b, sizeof b, "%s/sweep.png", figs);
    assert_true(files_equal(a, b));
    /* a column-wide version */
    plot_style st;
    plot_style_default(&st);
    set_style(&st, "width", "column");
    o.st = &st;
    assert_int_equal(sweep_plot_panels(dir, "sweep_phase,sweep_grokked", "2x1", "col", "pdf",
                                       &o, NULL, &e),
                     GROK_OK);
    snprintf(p, sizeof p, "%s/col.pdf", figs);
    pdf_media_box(p, &w, &h);
    assert_true(fabs(w - 3.4 * 72) <= 1.0);
    assert_true(fabs(h - 2 * 2.3 * 72) <= 1.0);
    /* bad requests draw nothing */
    static const struct {
        const char *panels, *name, *msg;
    } bad[] = {{"sweep_phase,bogus", "bad1", "unknown sweep figure \"bogus\""},
               {"sweep_loss", "bad2", "sweep_loss: cannot be drawn: no point has a metrics.tsv"},
               {"sweep_phase", "../x", "--name"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(sweep_plot_panels(dir, bad[k].panels, NULL, bad[k].name, "png", &o,
                                           NULL, &e),
                         GROK_EINVAL);
        printf("# --panels %s: %s\n", bad[k].panels, e.msg);
        tu_assert_contains(e.msg, bad[k].msg);
        snprintf(p, sizeof p, "%s/%s.png", figs, bad[k].name);
        assert_int_equal(access(p, F_OK), -1);
    }
    sbuf_free(&notes);
    tu_rm_tmp_dir(copy);
    tu_rm_tmp_dir(dir);
}

/* ---- the command line (experiments/plot_cmd.c) ----------------------------- */

static int run_cmd(int argc, const char **argv)
{
    fflush(stdout);
    int rc = plot_cmd_main(argc, (char **)argv);
    printf("# grok");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf(" -> exit %d\n", rc);
    return rc;
}

static void test_plot_cmd(void **state)
{
    fixture *fx = *state;
    const char *bad_opt[] = {"plot", fx->dir, "--colour"};
    assert_int_equal(run_cmd(3, bad_opt), 2);
    const char *no_dir[] = {"plot", "--format", "png"};
    assert_int_equal(run_cmd(3, no_dir), 2);
    const char *bad_fmt[] = {"plot", fx->dir, "--format=jpg"};
    assert_int_equal(run_cmd(3, bad_fmt), 2);
    const char *bad_fig[] = {"plot", fx->dir, "--only", "lossy"};
    assert_int_equal(run_cmd(4, bad_fig), 2);
    const char *bad_fig2[] = {"plot", fx->dir, "--only", "loss,lossy"};
    assert_int_equal(run_cmd(4, bad_fig2), 2);
    const char *empty_fig[] = {"plot", fx->dir, "--only", "loss,"};
    assert_int_equal(run_cmd(4, empty_fig), 2);
    const char *not_dir[] = {"plot", "/nonexistent/run"};
    assert_int_equal(run_cmd(2, not_dir), 2);
    /* style and panel flags: bad values exit 2 before anything is drawn */
    const char *neg_w[] = {"plot", fx->dir, "--width", "-3in"};
    assert_int_equal(run_cmd(4, neg_w), 2);
    const char *bad_pt[] = {"plot", fx->dir, "--font-size=8px"};
    assert_int_equal(run_cmd(3, bad_pt), 2);
    const char *bad_panel[] = {"plot", fx->dir, "--panels", "loss,lossy"};
    assert_int_equal(run_cmd(4, bad_panel), 2);
    const char *two_no_panels[] = {"plot", fx->dir, fx->dir};
    assert_int_equal(run_cmd(3, two_no_panels), 2);
    const char *two_no_out[] = {"plot", fx->dir, fx->dir, "--panels", "loss"};
    assert_int_equal(run_cmd(5, two_no_out), 2);
    const char *layout_alone[] = {"plot", fx->dir, "--layout", "1x2"};
    assert_int_equal(run_cmd(4, layout_alone), 2);
    char figs_dir[4200];
    snprintf(figs_dir, sizeof figs_dir, "%s/figures", fx->dir);
    assert_int_equal(count_entries(figs_dir), 0);

    setenv("GP_BIN", "/nonexistent/gnuplot", 1);
    const char *ok[] = {"plot", fx->dir, "--only", "accuracy", "--format", "pdf"};
    assert_int_equal(run_cmd(6, ok), 1);
    /* after training: reported in the log, never an error for the run */
    sbuf log;
    sbuf_init(&log);
    int rc = plot_cmd_after_run(fx->dir, "png", NULL, &log);
    unsetenv("GP_BIN");
    printf("# after run, no gnuplot: %s", log.data);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(log.data, GP_MISSING_MSG);
    tu_assert_contains(log.data, "the run itself is unaffected");
    sbuf_clear(&log);
    assert_int_equal(plot_cmd_after_run(fx->dir, "", NULL, &log), GROK_OK);
    tu_assert_contains(log.data, "no formats requested");
    sbuf_free(&log);

    assert_int_equal(run_cmd(6, ok), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/figures/accuracy.pdf", fx->dir);
    assert_pdf(path);
    snprintf(path, sizeof path, "%s/figures", fx->dir);
    assert_int_equal(count_entries(path), 3); /* accuracy.pdf, index.tsv, src/ */
    rundir_tsv ix;
    grok_err e = {{0}};
    assert_int_equal(rundir_tsv_read(&ix, fx->dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_rows, 1);
    assert_string_equal(ix.text[1], "accuracy.pdf");
    rundir_tsv_free(&ix);

    /* --only keeps the rows of the figures drawn before, in table order */
    const char *loss[] = {"plot", fx->dir, "--only", "loss", "--format", "svg"};
    assert_int_equal(run_cmd(6, loss), 0);
    assert_int_equal(rundir_tsv_read(&ix, fx->dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_rows, 2);
    assert_string_equal(ix.text[0], "loss");
    assert_string_equal(ix.text[1], "loss.svg");
    assert_string_equal(ix.text[3], "accuracy");
    assert_string_equal(ix.text[4], "accuracy.pdf");
    rundir_tsv_free(&ix);
    /* a list: both drawn now, in table order whatever the list's order */
    const char *two[] = {"plot", fx->dir, "--only", "accuracy,loss", "--format", "png"};
    assert_int_equal(run_cmd(6, two), 0);
    assert_int_equal(rundir_tsv_read(&ix, fx->dir, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_rows, 2);
    assert_string_equal(ix.text[1], "loss.png");
    assert_string_equal(ix.text[4], "accuracy.png");
    rundir_tsv_free(&ix);

    /* the style of config.cfg's plots group, the flags over it */
    char *cfg = tu_read_file((snprintf(path, sizeof path, "%s/config.cfg", fx->dir), path), NULL);
    sbuf c;
    sbuf_init(&c);
    sbuf_printf(&c, "%splots = { width = \"8.6cm\"; height = \"2in\"; };\n", cfg);
    write_text(fx->dir, "config.cfg", c.data);
    const char *by_cfg[] = {"plot", fx->dir, "--only", "loss", "--format", "pdf"};
    assert_int_equal(run_cmd(6, by_cfg), 0);
    snprintf(path, sizeof path, "%s/figures/loss.pdf", fx->dir);
    double w, h;
    pdf_media_box(path, &w, &h);
    printf("# config.cfg plots.width 8.6cm, height 2in: %g x %g pt\n", w, h);
    assert_true(fabs(w - 8.6 / 2.54 * 72) <= 1.0 && fabs(h - 144) <= 1.0);
    const char *by_flag[] = {"plot", fx->dir, "--only", "loss", "--format", "pdf", "--width",
                             "3in"};
    assert_int_equal(run_cmd(8, by_flag), 0);
    pdf_media_box(path, &w, &h);
    printf("# and --width 3in: %g x %g pt\n", w, h);
    assert_true(fabs(w - 216) <= 1.0 && fabs(h - 144) <= 1.0);
    /* a bad value there: the config's message, nothing drawn */
    sbuf_clear(&c);
    sbuf_printf(&c, "%splots = { colours = \"rainbow\"; };\n", cfg);
    write_text(fx->dir, "config.cfg", c.data);
    const char *bad_cfg[] = {"plot", fx->dir, "--only", "weights", "--format", "svg"};
    assert_int_equal(run_cmd(6, bad_cfg), 2);
    snprintf(path, sizeof path, "%s/figures/weights.svg", fx->dir);
    assert_int_equal(access(path, F_OK), -1);
    write_text(fx->dir, "config.cfg", cfg);
    sbuf_free(&c);
    free(cfg);
    /* the presets name their kind of directory */
    const char *sweep_preset[] = {"plot", fx->dir, "--preset", "sweep"};
    assert_int_equal(run_cmd(4, sweep_preset), 2);
    const char *preset_panels[] = {"plot", fx->dir, "--preset", "paper", "--panels", "loss"};
    assert_int_equal(run_cmd(6, preset_panels), 2);
}

/* ---- few checkpoints ------------------------------------------------------ */

/* Trains a tiny run into dir/name (p = 23, 20 epochs, checkpoints at epochs
 * 0 and 20 only, no figures) with the extra --set flags; the run's path
 * (malloc'ed). */
static char *train_tiny(const char *bin, const char *dir, const char *name, const char *sets)
{
    char all[2000];
    snprintf(all, sizeof all,
             "--set task.p=23 --set model.d_model=32 --set model.d_mlp=64 --set train.epochs=20 "
             "--set checkpoint.every=1000 --set checkpoint.early_until=0 %s",
             sets);
    return tu_grok_train(bin, dir, name, all);
}

/* 1 when the file holds a line with a number that is not a comment. */
static int has_data_row(const char *path)
{
    char *text = tu_read_file(path, NULL);
    int found = 0;
    for (char *line = text; line && *line && !found;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        if (line[0] != '#') {
            char *end;
            strtod(line, &end);
            found = end != line;
        }
        line = eol ? eol + 1 : line + strlen(line);
    }
    free(text);
    return found;
}

/* A run with one checkpoint: `grok measure` then `grok plot` draw every
 * curve figure with points (a line through one point draws nothing, and
 * autoscale gives an empty epoch range), without gnuplot warnings, every
 * data file holding rows; the heatmaps, which need two epochs, are skipped
 * with that reason. */
static void test_one_checkpoint(void **state)
{
    (void)state;
    const char *bin = tu_grok_bin();
    char *dir = tu_tmp_dir();
    char *run = train_tiny(bin, dir, "one", "");
    char cmd[9000], path[4400], *log = NULL;
    snprintf(path, sizeof path, "%s/checkpoints/epoch-000000.safetensors", run);
    assert_int_equal(unlink(path), 0);
    snprintf(cmd, sizeof cmd, "%s measure %s --threads 1 && %s plot %s --format png,pdf", bin,
             run, bin, run);
    int rc = tu_run_shell(dir, cmd, &log);
    printf("# grok measure, grok plot (one checkpoint): exit %d\n%s", rc, log ? log : "");
    assert_int_equal(rc, 0);
    assert_lacks(log, "Warning");
    assert_lacks(log, "gnuplot:");
    tu_assert_contains(log, "fourier_embed_epochs: skipped: fourier_embed.tsv has one measured "
                            "epoch; the heatmap needs two");
    tu_assert_contains(log, "excluded_freq: skipped: excluded_freq.tsv has one measured epoch");
    rundir_tsv m;
    grok_err e = {{0}};
    assert_int_equal(rundir_tsv_read(&m, run, RUNDIR_MEASURES, 0, &e), 1);
    assert_int_equal(m.n_rows, 1);
    rundir_tsv_free(&m);
    free(log);

    /* the curves of measures.tsv (one row) as points, of metrics.tsv (epochs
     * 0, 10, 20) as lines with points */
    static const struct {
        const char *fig, *with;
    } curves[] = {{"loss", "with linespoints"}, {"accuracy", "with linespoints"},
                  {"progress", "with points"},  {"gini", "with points"},
                  {"weights", "with points"},   {"coefs", "with points"}};
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++) {
        snprintf(path, sizeof path, "%s/figures/src/%s.gp", run, curves[i].fig);
        char *gp = tu_read_file(path, NULL);
        assert_non_null(gp);
        tu_assert_contains(gp, curves[i].with);
        assert_lacks(gp, " with lines lt");
        if (!strcmp(curves[i].with, "with points"))
            tu_assert_contains(gp, "set xrange [10:30]"); /* around epoch 20 */
        free(gp);
    }
    /* every figure drawn has data: each data file of figures/src has rows */
    snprintf(path, sizeof path, "%s/figures/src", run);
    DIR *d = opendir(path);
    assert_non_null(d);
    int n_data = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".tsv"))
            continue;
        char file[4700];
        snprintf(file, sizeof file, "%s/%s", path, de->d_name);
        if (!has_data_row(file))
            printf("# %s holds no data row\n", de->d_name);
        assert_true(has_data_row(file));
        n_data++;
    }
    closedir(d);
    printf("# %d data files, each with rows\n", n_data);
    assert_true(n_data >= 12);
    free(run);
    tu_rm_tmp_dir(dir);
}

/* ---- runs compared ----------------------------------------------------------- */

/* A fake run in parent/name whose config.cfg also sets the weight decay;
 * grokked (summary.json) at `grokked` (< 0: never). */
static void fake_wd_run(const char *path, const char *wd, int grokked)
{
    assert_int_equal(mkdir(path, 0755), 0);
    fake_opts o = {0};
    o.no_algo = 1;
    write_fake_run(path, &o);
    char text[512];
    snprintf(text, sizeof text,
             "task = {\n  kind = \"modular\";\n  p = %d;\n};\noptim = {\n  lr = 0.001;\n"
             "  weight_decay = %s;\n};\n",
             P, wd);
    write_text(path, "config.cfg", text);
    if (grokked >= 0)
        snprintf(text, sizeof text, "{\"memorised_epoch\": 250, \"grokked_epoch\": %d}\n",
                 grokked);
    else
        snprintf(text, sizeof text, "{\"memorised_epoch\": 250, \"grokked_epoch\": null}\n");
    write_text(path, "summary.json", text);
}

/* The data rows (not comments, not blank) of each gnuplot index of a data
 * file (indices separated by two blank lines); returns the index count. */
static int index_rows(const char *text, int *rows, int max)
{
    int n = 0, blank = 0, open = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == 0) {
            blank++;
        } else if (p[0] != '#') {
            if (!open || blank >= 2) {
                assert_true(n < max);
                rows[n++] = 0;
            }
            open = 1;
            rows[n - 1]++;
            blank = 0;
        } else {
            blank = blank >= 2 ? blank : 0;
        }
        p = eol ? eol + 1 : p + len;
    }
    return n;
}

/* Two fake runs differing in weight decay: five figures, the labels name
 * the key with both values and nothing else, each run's rows in its own
 * index of the data file, the grokked epochs marked in the runs' colours,
 * the style flags honoured, and the editable copy redraws the same PNG. */
static void test_compare_scripts(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    char a[4200], b[4200], out[4200], path[4600];
    snprintf(a, sizeof a, "%s/wd1", dir);
    snprintf(b, sizeof b, "%s/wd03", dir);
    snprintf(out, sizeof out, "%s/cmp", dir);
    fake_wd_run(a, "1.0", 1900);
    fake_wd_run(b, "0.3", -1);
    const char *dirs[2] = {a, b};
    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = plot_compare(dirs, 2, out, "png", NULL, NULL, &notes, &e);
    printf("# %s%s\n", notes.data ? notes.data : "", e.msg);
    assert_int_equal(rc, GROK_OK);
    tu_assert_contains(notes.data, "compare: run 1: optim.weight_decay=1.0: grokked at 1900");
    tu_assert_contains(notes.data, "compare: run 2: optim.weight_decay=0.3: not grokked");
    tu_assert_contains(notes.data, "compare: 5 figures drawn, 0 skipped");
    int n_figs;
    const plot_figure *figs = plot_compare_figures(&n_figs);
    assert_int_equal(n_figs, 5);
    for (int i = 0; i < n_figs; i++) {
        snprintf(path, sizeof path, "%s/figures/%s.png", out, figs[i].name);
        uint32_t w, h;
        png_size(path, &w, &h);
        assert_true(w > 1000 && h > 500);
    }
    rundir_tsv ix;
    assert_int_equal(rundir_tsv_read(&ix, out, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_rows, 5);
    assert_string_equal(ix.text[0], "compare_loss");
    rundir_tsv_free(&ix);

    snprintf(path, sizeof path, "%s/figures/src/compare_loss.gp", out);
    char *gp = tu_read_file(path, NULL);
    tu_assert_contains(gp, "title 'optim.weight_decay=1.0: grokked at 1900'");
    tu_assert_contains(gp, "title 'optim.weight_decay=0.3: not grokked'");
    assert_lacks(gp, "task.p"); /* the same in both: not a label */
    assert_lacks(gp, "optim.lr");
    tu_assert_contains(gp, "set ylabel 'cross-entropy loss (nats)'"); /* both the default */
    /* one dash-dot mark, run 1's colour; run 2 never grokked */
    tu_assert_contains(gp, "set arrow from 1900, graph 0 to 1900, graph 1 nohead back lc rgb c1");
    assert_int_equal(count_substr(gp, "\nset arrow"), 1);
    tu_assert_contains(gp, "'compare_loss.tsv' index 0 using 1:2 with lines lt 1 notitle");
    tu_assert_contains(gp, "'compare_loss.tsv' index 1 using 1:3 with lines lt 2 notitle");
    free(gp);
    snprintf(path, sizeof path, "%s/figures/src/compare_loss.tsv", out);
    char *data = tu_read_file(path, NULL);
    tu_assert_contains(data, "# run 1: optim.weight_decay=1.0");
    tu_assert_contains(data, "# run 2: optim.weight_decay=0.3");
    int rows[4];
    assert_int_equal(index_rows(data, rows, 4), 2);
    assert_int_equal(rows[0], 301); /* every metrics.tsv row of each run */
    assert_int_equal(rows[1], 301);
    free(data);
    snprintf(path, sizeof path, "%s/figures/src/compare_accuracy.tsv", out);
    data = tu_read_file(path, NULL);
    assert_int_equal(index_rows(data, rows, 4), 2);
    tu_assert_contains(data, "\n3000\t100\t100\n"); /* accuracy in percent */
    free(data);

    /* the editable copy redraws the PNG byte for byte */
    char cmd[9800];
    char *copy = tu_tmp_dir();
    snprintf(cmd, sizeof cmd, "cp -r '%s/figures/src' '%s/src' && cd '%s/src' && "
             "gnuplot -d compare_gini.gp", out, copy, copy);
    assert_int_equal(system(cmd), 0);
    char redrawn[4600];
    snprintf(redrawn, sizeof redrawn, "%s/src/compare_gini.png", copy);
    snprintf(path, sizeof path, "%s/figures/compare_gini.png", out);
    assert_true(files_equal(redrawn, path));
    tu_rm_tmp_dir(copy);

    /* the style: greys, a log epoch axis, an epoch range (the mark at 1900
     * outside it is left out) */
    plot_style st;
    plot_style_default(&st);
    set_style(&st, "colours", "grey");
    set_style(&st, "epoch-axis", "log");
    set_style(&st, "from", "100");
    set_style(&st, "to", "1500");
    set_style(&st, "width", "page");
    sbuf_clear(&notes);
    assert_int_equal(plot_compare(dirs, 2, out, "png", "compare_weights", &st, &notes, &e),
                     GROK_OK);
    snprintf(path, sizeof path, "%s/figures/src/compare_weights.gp", out);
    gp = tu_read_file(path, NULL);
    tu_assert_contains(gp, "c1 = '#000000'");
    tu_assert_contains(gp, "set nonlinear x via log10(x + 1)");
    tu_assert_contains(gp, "set xrange [100:1500]");
    tu_assert_contains(gp, "width_in = 7");
    assert_lacks(gp, "\nset arrow");
    free(gp);
    assert_int_equal(rundir_tsv_read(&ix, out, RUNDIR_FIGURE_INDEX, 0, &e), 1);
    assert_int_equal(ix.n_rows, 5); /* --only keeps the other rows */
    rundir_tsv_free(&ix);

    /* a run without measures.tsv: left out of those figures, named in the legend */
    snprintf(path, sizeof path, "%s/measures.tsv", b);
    assert_int_equal(unlink(path), 0);
    sbuf_clear(&notes);
    assert_int_equal(plot_compare(dirs, 2, out, "png", "compare_gini", NULL, &notes, &e),
                     GROK_OK);
    snprintf(path, sizeof path, "%s/figures/src/compare_gini.gp", out);
    gp = tu_read_file(path, NULL);
    tu_assert_contains(gp, "title 'optim.weight_decay=0.3: not grokked (no data)'");
    assert_lacks(gp, "index 1");
    free(gp);
    /* ... and with neither run's measures.tsv the figure is skipped */
    snprintf(path, sizeof path, "%s/measures.tsv", a);
    assert_int_equal(unlink(path), 0);
    sbuf_clear(&notes);
    assert_int_equal(plot_compare(dirs, 2, out, "png", NULL, NULL, &notes, &e), GROK_OK);
    printf("# %s", notes.data);
    tu_assert_contains(notes.data, "compare_gini: skipped: no run has the data (run 1: no "
                                   "measures.tsv; run 2: no measures.tsv)");
    tu_assert_contains(notes.data, "compare: 2 figures drawn, 3 skipped");
    /* runs trained on different losses: the axis says so */
    snprintf(path, sizeof path, "%s/config.cfg", b);
    char *bcfg = tu_read_file(path, NULL);
    sbuf bc;
    sbuf_init(&bc);
    sbuf_printf(&bc, "%strain = { loss = \"mse\"; };\n", bcfg ? bcfg : "");
    write_text(b, "config.cfg", bc.data);
    sbuf_free(&bc);
    free(bcfg);
    sbuf_clear(&notes);
    assert_int_equal(plot_compare(dirs, 2, out, "png", "compare_loss", NULL, &notes, &e), GROK_OK);
    snprintf(path, sizeof path, "%s/figures/src/compare_loss.gp", out);
    gp = tu_read_file(path, NULL);
    tu_assert_contains(gp, "set ylabel 'training loss (each run''s train.loss)'");
    free(gp);
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}

/* Bad input: one run, a directory that is no run, --out a run, a missing
 * directory; each is GROK_EINVAL (exit 2) with a message and draws
 * nothing.  A sweep directory gives its point runs (those started), its
 * figures by default in SWEEP/compare. */
static void test_compare_runs(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    char a[4200], b[4200], sweep[4200], empty[4200], out[4200], path[4600];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(sweep, sizeof sweep, "%s/sweep", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    fake_wd_run(a, "1.0", 1900);
    fake_wd_run(b, "0.3", 2500);
    assert_int_equal(mkdir(empty, 0755), 0);
    grok_err e = {{0}};
    const char *one[1] = {a};
    assert_int_equal(plot_compare(one, 1, out, "png", NULL, NULL, NULL, &e), GROK_EINVAL);
    printf("# one run: %s\n", e.msg);
    tu_assert_contains(e.msg, "--compare needs two runs or more; got one run");
    const char *not_run[2] = {a, empty};
    assert_int_equal(plot_compare(not_run, 2, out, "png", NULL, NULL, NULL, &e), GROK_EINVAL);
    printf("# not a run: %s\n", e.msg);
    tu_assert_contains(e.msg, "not a run directory (no config.cfg or metrics.tsv) nor a sweep");
    const char *gone[2] = {a, "/nonexistent/run"};
    assert_int_equal(plot_compare(gone, 2, out, "png", NULL, NULL, NULL, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "/nonexistent/run");
    const char *two[2] = {a, b};
    assert_int_equal(plot_compare(two, 2, a, "png", NULL, NULL, NULL, &e), GROK_EINVAL);
    printf("# --out a run: %s\n", e.msg);
    tu_assert_contains(e.msg, "is a run or sweep directory");
    assert_int_equal(plot_compare(two, 2, NULL, "png", NULL, NULL, NULL, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "--out DIR");
    assert_int_equal(plot_compare(two, 2, out, "png", "loss", NULL, NULL, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "valid compare figures are compare_loss");
    assert_false(fileio_exists(out));
    /* the command line: exit 2 for each */
    const char *cmd_one[] = {"plot", a, "--compare", "--out", out};
    assert_int_equal(run_cmd(5, cmd_one), 2);
    const char *cmd_panels[] = {"plot", a, b, "--compare", "--panels", "loss", "--out", out};
    assert_int_equal(run_cmd(8, cmd_panels), 2);
    const char *cmd_no_out[] = {"plot", a, b, "--compare"};
    assert_int_equal(run_cmd(4, cmd_no_out), 2);
    assert_false(fileio_exists(out));

    /* a sweep of three points, two of them run */
    assert_int_equal(mkdir(sweep, 0755), 0);
    write_text(sweep, "points.tsv", "index\tname\toptim.weight_decay\n0\twd=1.0\t1.0\n"
                                    "1\twd=0.3\t0.3\n2\twd=3.0\t3.0\n");
    snprintf(path, sizeof path, "%s/wd=1.0", sweep);
    fake_wd_run(path, "1.0", 1900);
    const char *sw[1] = {sweep};
    assert_int_equal(plot_compare(sw, 1, NULL, "png", NULL, NULL, NULL, &e), GROK_EINVAL);
    printf("# sweep of one run: %s\n", e.msg);
    tu_assert_contains(e.msg, "the sweep has one point run so far");
    snprintf(path, sizeof path, "%s/wd=0.3", sweep);
    fake_wd_run(path, "0.3", 2500);
    const char *cmd_sweep[] = {"plot", sweep, "--compare", "--only", "compare_loss"};
    assert_int_equal(run_cmd(5, cmd_sweep), 0);
    snprintf(path, sizeof path, "%s/compare/figures/src/compare_loss.gp", sweep);
    char *gp = tu_read_file(path, NULL);
    tu_assert_contains(gp, "title 'optim.weight_decay=1.0: grokked at 1900'");
    tu_assert_contains(gp, "title 'optim.weight_decay=0.3: grokked at 2500'");
    tu_assert_contains(gp, "lc rgb c2"); /* run 2's mark */
    free(gp);
    sbuf notes;
    sbuf_init(&notes);
    snprintf(out, sizeof out, "%s/out2", dir);
    assert_int_equal(plot_compare(sw, 1, out, "svg", NULL, NULL, &notes, &e), GROK_OK);
    tu_assert_contains(notes.data, "compare: 1 point of ");
    tu_assert_contains(notes.data, "not run yet, left out");
    snprintf(path, sizeof path, "%s/figures/compare_progress.svg", out);
    assert_true(fileio_exists(path));
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}

/* Two tiny runs trained with weight decay 1 and 0.3: `grok plot A B
 * --compare --out DIR` draws the five figures, labelled by the one key. */
static void test_compare_trained(void **state)
{
    (void)state;
    const char *bin = tu_grok_bin();
    char *dir = tu_tmp_dir();
    char *a = train_tiny(bin, dir, "wd1", "");
    char *b = train_tiny(bin, dir, "wd03", "--set optim.weight_decay=0.3");
    char cmd[9000], path[4400], *log = NULL;
    snprintf(cmd, sizeof cmd, "%s plot %s %s --compare --out %s/cmp", bin, a, b, dir);
    int rc = tu_run_shell(dir, cmd, &log);
    printf("# grok plot --compare: exit %d\n%s", rc, log ? log : "");
    assert_int_equal(rc, 0);
    tu_assert_contains(log, "compare: run 1: optim.weight_decay=1.0: not grokked");
    tu_assert_contains(log, "compare: run 2: optim.weight_decay=0.3: not grokked");
    tu_assert_contains(log, "compare: 5 figures drawn, 0 skipped");
    assert_lacks(log, "Warning");
    free(log);
    snprintf(path, sizeof path, "%s/cmp/figures/src/compare_progress.tsv", dir);
    char *data = tu_read_file(path, NULL);
    int rows[4];
    assert_int_equal(index_rows(data, rows, 4), 2);
    assert_int_equal(rows[0], 2); /* the checkpoints at epochs 0 and 20 */
    assert_int_equal(rows[1], 2);
    free(data);
    free(a);
    free(b);
    tu_rm_tmp_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loss_script, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_accuracy_script, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_progress_script_phases, setup_run, teardown_run),
        cmocka_unit_test(test_loss_label),
        cmocka_unit_test(test_no_phases_no_marks),
        cmocka_unit_test(test_marks_beyond_data),
        cmocka_unit_test_setup_teardown(test_fourier_scripts, setup_run, teardown_run),
        cmocka_unit_test(test_heatmap_uneven_epochs),
        cmocka_unit_test(test_adjacent_key_labels),
        cmocka_unit_test_setup_teardown(test_neurons_script, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_attention_script, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_logit_spectrum_script, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_tex_and_pdf_text, setup_run, teardown_run),
        cmocka_unit_test(test_skip_notes),
        cmocka_unit_test(test_hostile_tables),
        cmocka_unit_test(test_thinning),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_missing_gnuplot),
        cmocka_unit_test(test_gnuplot_errors),
        cmocka_unit_test_setup_teardown(test_end_to_end_png_pdf, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_end_to_end_svg_tex_only, setup_run, teardown_run),
        cmocka_unit_test(test_end_to_end_partial_run),
        cmocka_unit_test_setup_teardown(test_plot_cmd, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_src_redraw, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_style_page_size, setup_run, teardown_run),
        cmocka_unit_test(test_style_bad_values),
        cmocka_unit_test_setup_teardown(test_style_scripts, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_panels, setup_run, teardown_run),
        cmocka_unit_test(test_sweep_panels),
        cmocka_unit_test_setup_teardown(test_tex_compiles, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_algo_scripts, setup_run, teardown_run),
        cmocka_unit_test_setup_teardown(test_logit_sd, setup_run, teardown_run),
        cmocka_unit_test(test_algo_skips),
        cmocka_unit_test(test_algo_end_to_end_without),
        cmocka_unit_test(test_sweep_grokked_median),
        cmocka_unit_test(test_sweep_stopped_below_99),
        cmocka_unit_test(test_sweep_loss_named_levels),
        cmocka_unit_test(test_sweep_algorithm),
        cmocka_unit_test(test_sweep_liu_phases),
        cmocka_unit_test(test_figure_table),
        cmocka_unit_test(test_task_kinds),
        cmocka_unit_test(test_one_checkpoint),
        cmocka_unit_test(test_compare_scripts),
        cmocka_unit_test(test_compare_runs),
        cmocka_unit_test(test_compare_trained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
