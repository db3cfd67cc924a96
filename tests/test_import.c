/* test_import.c: `grok import` (experiments/run_import.c) and the split every
 * reader takes from split.tsv (measure_split_read).
 *
 *   fixture      the PyTorch model of tests/gen_import_golden.py (Nanda et
 *                al.'s layout, p = 23, 24 output columns, its own split)
 *                imports and measures to NumPy's float64 numbers: losses and
 *                accuracies on both sides of the split, and W_E's Fourier
 *                norms; the '=' column dropped and recorded; the curves
 *                become metrics.tsv
 *   two splits   the same weights with a second split: the train/test
 *                columns follow each split (NumPy's numbers for both)
 *   round trip   a grok run exported to safetensors and to npz, imported
 *                with its split.tsv: every measure file the same bytes
 *   dtypes       float64 (.npz) gives the float32 weights exactly; bfloat16
 *                gives the round-to-nearest-even of them (computed here)
 *   refusals     an extra tensor, a missing one, a wrong shape, a truncated
 *                file, an unknown dtype, an existing --out: each named, and
 *                nothing written (no directory, no temporary one); the
 *                flags --ignore-extra and --allow-missing let the first two
 *                through, recorded in summary.json; grok resume refuses an
 *                imported run and names --init-from
 *   to_grok.py   tools/to_grok.py on a bfloat16 state dict of Nanda et al.'s
 *                layout, then imported (skipped without torch) */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "export.h"
#include "rundir.h"
#include "run.h"
#include "safetensors.h"
#include "testutil.h"

#define G "tests/golden/import/"

static const char *const fixture_ck[3] = {G "epoch-0.safetensors", G "epoch-100.safetensors",
                                          G "epoch-300.safetensors"};

static int do_import(const char *out, const char *const *inputs, int n, const char *split,
                     const char *curves, int flags, grok_err *e)
{
    run_import_opts o;
    memset(&o, 0, sizeof o);
    o.out = out;
    o.inputs = inputs;
    o.n_inputs = n;
    o.tl_config = G "tl_config.json";
    o.split = split;
    o.curves = curves;
    o.ignore_extra = flags & 1;
    o.allow_missing = (flags & 2) != 0;
    o.jobs = 1;
    o.quiet = 1;
    return run_import(&o, e);
}

/* The value of column col at the row of epoch ep in dir/name. */
static double tsv_at(const char *dir, const char *name, long ep, const char *col)
{
    rundir_tsv t;
    grok_err e;
    assert_int_equal(rundir_tsv_read(&t, dir, name, 0, &e), 1);
    int c = rundir_tsv_col(&t, col), ce = rundir_tsv_col(&t, "epoch");
    assert_true(c >= 0 && ce >= 0);
    double v = NAN;
    for (int i = 0; i < t.n_rows; i++)
        if (rundir_tsv_at(&t, i, ce) == (double)ep)
            v = rundir_tsv_at(&t, i, c);
    rundir_tsv_free(&t);
    return v;
}

/* Compares dir's measures with expected.tsv's rows of split s. */
static void check_numpy(const char *dir, const char *s)
{
    rundir_tsv x;
    grok_err e;
    assert_int_equal(rundir_tsv_read(&x, "tests/golden/import", "expected.tsv", 0, &e), 1);
    static const char *const cols[4] = {"loss_train", "loss_test", "acc_train", "acc_test"};
    double worst = 0;
    int rows = 0;
    for (int i = 0; i < x.n_rows; i++) {
        if (strcmp(x.text[(size_t)i * x.n_cols], s) != 0)
            continue;
        const long ep = (long)rundir_tsv_at(&x, i, 1);
        for (int k = 0; k < 4; k++) {
            const double want = rundir_tsv_at(&x, i, rundir_tsv_col(&x, cols[k])),
                         got = tsv_at(dir, "measures.tsv", ep, cols[k]),
                         rel = fabs(got - want) / fmax(fabs(want), 1e-3);
            if (rel > 2e-6)
                fail_msg("split %s epoch %ld %s: grok %.9g, NumPy %.9g", s, ep, cols[k], got, want);
            worst = fmax(worst, rel);
        }
        rows++;
    }
    rundir_tsv_free(&x);
    assert_int_equal(rows, 3);
    printf("# split %s: losses and accuracies of 3 checkpoints match NumPy's float64 forward, "
           "largest relative difference %.2g\n", s, worst);
}

static int has_prefix_entry(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int found = 0;
    while (d && (de = readdir(d)) != NULL)
        found |= strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return found;
}

static void test_fixture_and_splits(void **state)
{
    const char *tmp = *state;
    char *a = tu_path_in(tmp, "nanda_a"), *b = tu_path_in(tmp, "nanda_b");
    grok_err e;
    assert_int_equal(do_import(a, fixture_ck, 3, G "split.txt", G "curves.tsv", 0, &e), GROK_OK);
    assert_int_equal(do_import(b, fixture_ck, 3, G "split_b.txt", NULL, 0, &e), GROK_OK);
    check_numpy(a, "a");
    check_numpy(b, "b");
    /* the two splits give other train/test columns for the same weights */
    assert_true(tsv_at(a, "measures.tsv", 300, "loss_train") !=
                tsv_at(b, "measures.tsv", 300, "loss_train"));
    /* one Fourier measure: W_E's per-frequency norms */
    rundir_tsv x;
    assert_int_equal(rundir_tsv_read(&x, "tests/golden/import", "expected_fourier.tsv", 0, &e), 1);
    double worst = 0;
    for (int i = 0; i < x.n_rows; i++)
        for (int c = 1; c < x.n_cols; c++) {
            const double want = rundir_tsv_at(&x, i, c),
                         got = tsv_at(a, "fourier_embed.tsv", (long)rundir_tsv_at(&x, i, 0), x.cols[c]);
            worst = fmax(worst, fabs(got - want) / want);
        }
    rundir_tsv_free(&x);
    printf("# fourier_embed: %d x %d norms, largest relative difference to NumPy %.2g\n", 3, 12,
           worst);
    assert_true(worst < 2e-6);
    /* the '=' column recorded; the curves are metrics.tsv */
    rundir_summary s = {NULL};
    assert_int_equal(rundir_summary_read(&s, a, &e), 1);
    assert_string_equal(rundir_summary_str(&s, "status"), "imported");
    assert_true(rundir_summary_num(&s, "import.unembed_columns_dropped") == 1);
    assert_int_equal(rundir_summary_epoch(&s, "n_train"), 158);
    rundir_summary_free(&s);
    assert_true(fabs(tsv_at(a, "metrics.tsv", 300, "train_loss") - 0.0205897640) < 1e-9);
    /* grok resume refuses it and names the way on */
    run_opts ro = {.quiet = 1, .blis = NULL};
    assert_int_equal(run_resume(a, NULL, 0, &ro, &e), GROK_EINVAL);
    printf("# resume: %s\n", e.msg);
    tu_assert_contains(e.msg, "grok import");
    tu_assert_contains(e.msg, "--init-from");
    free(a);
    free(b);
}

/* A tiny grok run, exported, imported back: the same measure bytes. */
static void test_round_trip(void **state)
{
    const char *tmp = *state;
    char *run = tu_path_in(tmp, "orig"), *st = tu_path_in(tmp, "orig/safetensors"),
         *npz = tu_path_in(tmp, "orig/run.npz"), *split = tu_path_in(tmp, "orig/split.tsv");
    grok_err e;
    cfg_run c;
    const char *sets[] = {"task.p=17", "train.epochs=60", "model.d_model=16", "model.n_heads=2",
                          "model.d_head=8", "model.d_mlp=32", "checkpoint.every=20",
                          "plots.formats=\"\""};
    assert_int_equal(cfg_load(&c, NULL, sets, 8, &e), GROK_OK);
    run_opts ro = {.quiet = 1, .blis = NULL};
    assert_int_equal(run_train(&c, run, &ro, &e), GROK_OK);
    export_result res;
    assert_int_equal(export_safetensors(run, NULL, &res, &e), GROK_OK);
    assert_int_equal(export_npz(run, NULL, &res, &e), GROK_OK);
    const char *files[] = {"measures.tsv", "fourier_embed.tsv", "coefs.tsv", "neurons.tsv",
                           "split.tsv", "excluded_freq.tsv"};
    for (int way = 0; way < 2; way++) {
        char *out = tu_path_in(tmp, way ? "back_npz" : "back_st");
        run_import_opts o;
        memset(&o, 0, sizeof o);
        char *inputs[64];
        int n = 0;
        long *eps = NULL;
        int n_eps = 0;
        assert_int_equal(rundir_ckpt_list(run, &eps, &n_eps, &e), GROK_OK);
        assert_true(n_eps > 4 && n_eps < 64);
        if (way)
            inputs[n++] = npz;
        else
            for (int k = 0; k < n_eps; k++) {
                char name[64];
                snprintf(name, sizeof name, "epoch-%06ld.safetensors", eps[k]);
                inputs[n++] = tu_path_in(st, name);
            }
        free(eps);
        o.out = out;
        o.inputs = (const char *const *)inputs;
        o.n_inputs = n;
        o.split = split;
        o.jobs = 2;
        o.quiet = 1;
        assert_int_equal(run_import(&o, &e), GROK_OK);
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            char *p1 = tu_path_in(run, files[f]), *p2 = tu_path_in(out, files[f]);
            char *t1 = tu_read_file(p1, NULL), *t2 = tu_read_file(p2, NULL);
            assert_non_null(t1);
            assert_non_null(t2);
            if (strcmp(t1, t2) != 0) {
                sbuf d;
                sbuf_init(&d);
                sbuf_first_diff(&d, t1, t2);
                fail_msg("%s: %s differs from the original's: %s", out, files[f], d.data);
            }
            free(t1);
            free(t2);
            free(p1);
            free(p2);
        }
        printf("# round trip through %s: measures.tsv, fourier_embed.tsv, coefs.tsv, neurons.tsv, "
               "split.tsv, excluded_freq.tsv the same bytes\n", way ? "run.npz" : "safetensors");
        if (!way)
            for (int i = 0; i < n; i++)
                free(inputs[i]);
        free(out);
    }
    free(run);
    free(st);
    free(npz);
    free(split);
}

/* The data of tensor name in dir's checkpoint of epoch ep, as float32 [n]. */
static float *ck_data(const char *dir, long ep, const char *name, size_t *n)
{
    char rel[96];
    rundir_ckpt_name(rel, sizeof rel, ep);
    char *p = tu_path_in(dir, rel);
    st_file f;
    grok_err e;
    assert_int_equal(st_read(&f, p, &e), GROK_OK);
    const st_tensor *t = st_find(&f, name);
    assert_non_null(t);
    *n = st_tensor_numel(t);
    float *d = malloc(*n * sizeof *d);
    memcpy(d, t->data, *n * sizeof *d);
    st_file_free(&f);
    free(p);
    return d;
}

static void test_dtypes(void **state)
{
    const char *tmp = *state;
    char *ref = tu_path_in(tmp, "ref"), *f64 = tu_path_in(tmp, "f64"), *bf = tu_path_in(tmp, "bf16");
    grok_err e;
    const char *in_ref[1] = {fixture_ck[2]}, *in_f64[1] = {G "f64.npz"},
               *in_bf[1] = {G "bf16.safetensors"};
    assert_int_equal(do_import(ref, in_ref, 1, G "split.txt", NULL, 0, &e), GROK_OK);
    run_import_opts o;
    memset(&o, 0, sizeof o);
    const long ep[1] = {300};
    o.out = f64;
    o.inputs = in_f64;
    o.n_inputs = 1;
    o.epochs = ep;
    o.n_epochs = 1;
    o.tl_config = G "tl_config.json";
    o.jobs = 1;
    o.quiet = 1;
    assert_int_equal(run_import(&o, &e), GROK_OK);
    assert_int_equal(do_import(bf, in_bf, 1, NULL, NULL, 0, &e), GROK_OK);
    const char *names[] = {"embed.W_E", "blocks.0.attn.W_O", "blocks.0.mlp.W_in", "unembed.W_U"};
    size_t n_vals = 0;
    for (int k = 0; k < 4; k++) {
        size_t n1, n2, n3;
        float *a = ck_data(ref, 300, names[k], &n1), *b = ck_data(f64, 300, names[k], &n2),
              *c = ck_data(bf, 300, names[k], &n3);
        assert_true(n1 == n2 && n1 == n3);
        assert_memory_equal(a, b, n1 * sizeof *a);
        for (size_t i = 0; i < n1; i++) {
            uint32_t u;
            memcpy(&u, &a[i], 4);
            u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u; /* round to nearest even */
            float r;
            memcpy(&r, &u, 4);
            if (r != c[i])
                fail_msg("%s[%zu]: bfloat16 import %.9g, expected %.9g", names[k], i, c[i], r);
        }
        n_vals += n1;
        free(a);
        free(b);
        free(c);
    }
    rundir_summary s = {NULL};
    assert_int_equal(rundir_summary_read(&s, f64, &e), 1);
    assert_true(rundir_summary_num(&s, "import.tensors_by_dtype.F64") == 11);
    assert_true(json_is_true(rundir_summary_get(&s, "import.converted_to_float32")));
    rundir_summary_free(&s);
    printf("# dtypes: %zu float64 values give the float32 weights exactly, bfloat16 their "
           "round-to-nearest-even\n", n_vals);
    free(ref);
    free(f64);
    free(bf);
}

/* Writes the fixture's last checkpoint to path with tensor `drop` left out,
 * tensor `extra` added, or W_in's shape swapped. */
static void write_variant(const char *path, const char *drop, const char *extra, int bad_shape)
{
    st_file f;
    grok_err e;
    assert_int_equal(st_read(&f, fixture_ck[2], &e), GROK_OK);
    st_tensor t[64];
    int n = 0;
    static const float z[4] = {0.5f, 0, 0, 0};
    for (int i = 0; i < f.n_tensors; i++) {
        if (drop && strcmp(f.tensors[i].name, drop) == 0)
            continue;
        t[n] = f.tensors[i];
        if (bad_shape && strcmp(t[n].name, "blocks.0.mlp.W_in") == 0) {
            const int64_t s0 = t[n].shape[0];
            t[n].shape[0] = t[n].shape[1];
            t[n].shape[1] = s0;
        }
        n++;
    }
    if (extra)
        t[n++] = (st_tensor){extra, ST_F32, 1, {4}, z};
    const st_meta meta[1] = {{"epoch", "300"}};
    assert_int_equal(st_write(path, t, n, meta, 1, &e), GROK_OK);
    st_file_free(&f);
}

static void expect_refusal(const char *tmp, const char *input, int flags, const char *want)
{
    char *out = tu_path_in(tmp, "refused");
    const char *in[1] = {input};
    grok_err e;
    int rc = do_import(out, in, 1, NULL, NULL, flags, &e);
    printf("# refused: %s\n", e.msg);
    assert_true(rc == GROK_EINVAL || rc == GROK_EFORMAT);
    tu_assert_contains(e.msg, want);
    assert_false(fileio_exists(out));
    assert_false(has_prefix_entry(tmp, "refused.import-"));
    free(out);
}

static void test_refusals(void **state)
{
    const char *tmp = *state;
    char *extra = tu_path_in(tmp, "extra-epoch-300.safetensors"),
         *miss = tu_path_in(tmp, "miss-epoch-300.safetensors"),
         *shape = tu_path_in(tmp, "shape-epoch-300.safetensors"),
         *trunc = tu_path_in(tmp, "trunc-epoch-300.safetensors"),
         *dtype = tu_path_in(tmp, "dtype-epoch-300.safetensors");
    write_variant(extra, NULL, "unembed.b_U", 0);
    write_variant(miss, "blocks.0.mlp.b_in", NULL, 0);
    write_variant(shape, NULL, NULL, 1);
    size_t n;
    char *bytes = tu_read_file(fixture_ck[2], &n);
    tu_write_file(trunc, bytes, n - 100);
    free(bytes);
    const char *hdr = "{\"embed.W_E\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}";
    unsigned char buf[256];
    const uint64_t hl = strlen(hdr);
    memcpy(buf, &hl, 8);
    memcpy(buf + 8, hdr, hl);
    memset(buf + 8 + hl, 0, 4);
    tu_write_file(dtype, buf, 8 + hl + 4);

    expect_refusal(tmp, extra, 0, "unembed.b_U");
    expect_refusal(tmp, miss, 0, "blocks.0.mlp.b_in");
    expect_refusal(tmp, shape, 0, "blocks.0.mlp.W_in");
    expect_refusal(tmp, trunc, 0, "truncated");
    expect_refusal(tmp, dtype, 0, "F8_E4M3");
    expect_refusal(tmp, G "split.txt", 0, "split.txt");
    /* the flags let them through, recorded */
    grok_err e;
    char *ok1 = tu_path_in(tmp, "ok_extra"), *ok2 = tu_path_in(tmp, "ok_missing");
    const char *in1[1] = {extra}, *in2[1] = {miss};
    assert_int_equal(do_import(ok1, in1, 1, NULL, NULL, 1, &e), GROK_OK);
    assert_int_equal(do_import(ok2, in2, 1, NULL, NULL, 2, &e), GROK_OK);
    char *sum1 = tu_path_in(ok1, "summary.json"), *sum2 = tu_path_in(ok2, "summary.json");
    char *s1 = tu_read_file(sum1, NULL), *s2 = tu_read_file(sum2, NULL);
    tu_assert_contains(s1, "\"extra_ignored\": [\"unembed.b_U\"]");
    tu_assert_contains(s2, "\"missing_filled\": [\"blocks.0.mlp.b_in\"]");
    /* an existing --out is never written into */
    const char *in3[1] = {fixture_ck[2]};
    assert_int_equal(do_import(ok1, in3, 1, NULL, NULL, 0, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "exists");
    printf("# --ignore-extra and --allow-missing recorded; an existing --out refused: %s\n", e.msg);
    free(s1);
    free(s2);
    free(sum1);
    free(sum2);
    free(ok1);
    free(ok2);
    free(extra);
    free(miss);
    free(shape);
    free(trunc);
    free(dtype);
}

/* tools/to_grok.py on a state dict of Nanda et al.'s layout (random weights,
 * the attention mask buffer, bfloat16 kept), then imported: the transposes
 * give the shapes the model needs.  Skipped where python3 has no torch. */
static void test_to_grok_script(void **state)
{
    const char *tmp = *state;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && /usr/bin/python3 -c \"import torch; g = torch.Generator().manual_seed(1); "
             "r = lambda *s: torch.randn(*s, generator=g).bfloat16(); "
             "sd = {'embed.W_E': r(32, 24), 'pos_embed.W_pos': r(3, 32), "
             "'blocks.0.attn.W_K': r(4, 8, 32), 'blocks.0.attn.W_Q': r(4, 8, 32), "
             "'blocks.0.attn.W_V': r(4, 8, 32), 'blocks.0.attn.W_O': r(32, 32), "
             "'blocks.0.attn.mask': torch.tril(torch.ones(3, 3)), 'blocks.0.mlp.W_in': r(64, 32), "
             "'blocks.0.mlp.b_in': r(64), 'blocks.0.mlp.W_out': r(32, 64), "
             "'blocks.0.mlp.b_out': r(32), 'unembed.W_U': r(32, 24)}; "
             "torch.save(sd, 'sd.pt')\" 2>/dev/null || exit 77; /usr/bin/python3 %s/tools/to_grok.py "
             "sd.pt --out conv --epoch 7 --keep-dtype",
             tmp, getcwd((char[1024]){0}, 1024));
    char *log = NULL;
    int rc = tu_run_shell(tmp, cmd, &log);
    if (rc == 77) { /* the first python3 could not import torch */
        printf("# to_grok.py: skipped, /usr/bin/python3 has no torch (Debian: python3-torch)\n");
        free(log);
        return;
    }
    if (rc != 0)
        fail_msg("to_grok.py failed: %s", log);
    free(log);
    char *ck = tu_path_in(tmp, "conv/epoch-7.safetensors"), *tl = tu_path_in(tmp, "conv/tl_config.json"),
         *out = tu_path_in(tmp, "from_script");
    run_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {ck};
    o.out = out;
    o.inputs = in;
    o.n_inputs = 1;
    o.tl_config = tl;
    o.jobs = 1;
    o.quiet = 1;
    grok_err e;
    assert_int_equal(run_import(&o, &e), GROK_OK);
    rundir_summary s = {NULL};
    assert_int_equal(rundir_summary_read(&s, out, &e), 1);
    assert_true(rundir_summary_num(&s, "import.tensors_by_dtype.BF16") == 11);
    assert_true(rundir_summary_num(&s, "import.unembed_columns_dropped") == 1);
    assert_int_equal(rundir_summary_epoch(&s, "epochs_done"), 7);
    rundir_summary_free(&s);
    printf("# to_grok.py: a bfloat16 state dict of Nanda et al.'s layout converted and imported "
           "(11 BF16 tensors, the mask left out, the '=' column dropped)\n");
    free(ck);
    free(tl);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_and_splits, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_round_trip, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_dtypes, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refusals, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_to_grok_script, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
