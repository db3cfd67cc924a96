/* test_cfg.c: the experiment config layer (experiments/cfg*.c, cfg.h).
 *
 * Checks that the compiled-in defaults equal the shipped
 * experiments/nanda2023_mod_add.cfg (same struct, same text after the file's
 * own header), that every shipped example loads, that write -> load gives
 * the same struct bit for bit (awkward doubles included), that --set accepts
 * each kind of value, that @include is read relative to the config's
 * directory, and that each promised error message is produced: it must name
 * the file (or --set), the line where there is one, the key and the value,
 * and come with GROK_EINVAL (GROK_EIO for an unreadable file).  The
 * resumable keys (the table's flag) are checked against the list resume has
 * always allowed.
 *
 * Run from the repository root (make test does), so the shipped configs are
 * found at experiments/. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "testutil.h"

#define SHIPPED_DEFAULT "experiments/nanda2023_mod_add.cfg"
#define SHIPPED_POWER "experiments/power2022_mod_div.cfg"

/* ---- helpers ------------------------------------------------------------- */

/* Writes text to dir/name and returns the path (caller frees). */
static char *write_file(const char *dir, const char *name, const char *text)
{
    char *p = tu_path_in(dir, name);
    tu_write_text(p, text);
    return p;
}

/* Compares two doubles bit for bit; prints and fails on a difference. */
static void assert_same_double(const char *what, double a, double b)
{
    if (memcmp(&a, &b, sizeof a) != 0) {
        double abs_err = fabs(a - b);
        printf("# %s: %.17g != %.17g (abs %.3g, rel %.3g)\n", what, a, b, abs_err,
               abs_err / fmax(fabs(a), fabs(b)));
        fail();
    }
}

/* Compares two structs field by field for a readable failure, then as bytes. */
static void assert_same_run(const cfg_run *a, const cfg_run *b)
{
    assert_true(a->seed == b->seed);
    assert_int_equal(a->task.kind, b->task.kind);
    assert_int_equal(a->task.op, b->task.op);
    assert_int_equal(a->task.p, b->task.p);
    assert_int_equal(a->task.layout, b->task.layout);
    assert_int_equal(a->task.group, b->task.group);
    assert_int_equal(a->task.group_op, b->task.group_op);
    assert_int_equal(a->task.n_bits, b->task.n_bits);
    assert_int_equal(a->task.k_bits, b->task.k_bits);
    assert_int_equal(a->task.n_train, b->task.n_train);
    assert_int_equal(a->task.n_test, b->task.n_test);
    assert_same_double("task.frac_train", a->task.frac_train, b->task.frac_train);
    assert_int_equal(a->model.n_layers, b->model.n_layers);
    assert_int_equal(a->model.d_model, b->model.d_model);
    assert_int_equal(a->model.n_heads, b->model.n_heads);
    assert_int_equal(a->model.d_head, b->model.d_head);
    assert_int_equal(a->model.d_mlp, b->model.d_mlp);
    assert_int_equal(a->model.d_vocab, b->model.d_vocab);
    assert_int_equal(a->model.d_vocab_out, b->model.d_vocab_out);
    assert_int_equal(a->model.n_ctx, b->model.n_ctx);
    assert_int_equal(a->model.act, b->model.act);
    assert_int_equal(a->model.layernorm, b->model.layernorm);
    assert_int_equal(a->model.attn_bias, b->model.attn_bias);
    assert_int_equal(a->causal, b->causal);
    assert_same_double("model.attn_rate", a->attn_rate, b->attn_rate);
    assert_same_double("model.init_scale", a->model.init_scale, b->model.init_scale);
    assert_int_equal(a->optim.kind, b->optim.kind);
    assert_same_double("optim.lr", a->optim.lr, b->optim.lr);
    assert_same_double("optim.beta1", a->optim.beta1, b->optim.beta1);
    assert_same_double("optim.beta2", a->optim.beta2, b->optim.beta2);
    assert_same_double("optim.eps", a->optim.eps, b->optim.eps);
    assert_same_double("optim.weight_decay", a->optim.weight_decay, b->optim.weight_decay);
    assert_same_double("optim.momentum", a->optim.momentum, b->optim.momentum);
    assert_int_equal(a->optim.warmup, b->optim.warmup);
    assert_int_equal(a->train.epochs, b->train.epochs);
    assert_int_equal(a->train.batch, b->train.batch);
    assert_int_equal(a->train.eval_every, b->train.eval_every);
    assert_same_double("train.stop_test_acc", a->train.stop_test_acc, b->train.stop_test_acc);
    assert_int_equal(a->checkpoint.every, b->checkpoint.every);
    assert_int_equal(a->checkpoint.every_early, b->checkpoint.every_early);
    assert_int_equal(a->checkpoint.early_until, b->checkpoint.early_until);
    assert_int_equal(a->measures.every, b->measures.every);
    assert_string_equal(a->plots.formats, b->plots.formats);
    assert_int_equal(memcmp(a, b, sizeof *a), 0);
}

/* The text after the leading block of comment and blank lines. */
static const char *skip_header(const char *s)
{
    while (*s == '#' || *s == '\n') {
        const char *nl = strchr(s, '\n');
        if (!nl)
            return s + strlen(s);
        s = nl + 1;
    }
    return s;
}

/* Loads text written to dir/name with sets, expects rc, and checks that the
 * message holds every needle (NULL-terminated list). */
static void expect_error(const char *dir, const char *name, const char *text,
                         const char *const *sets, int n_sets, int rc_want, ...)
{
    char *path = text ? write_file(dir, name, text) : NULL;
    cfg_run c, before;
    cfg_defaults(&c);
    c.seed = 777; /* a value no load produces: proves c is left untouched */
    memcpy(&before, &c, sizeof c);
    grok_err e = {{0}};
    int rc = cfg_load(&c, path ? path : name, sets, n_sets, &e);
    printf("# %s%s%s -> rc %d: %s\n", name ? name : "<default>", n_sets ? " --set " : "",
           n_sets ? sets[0] : "", rc, e.msg);
    assert_int_equal(rc, rc_want);
    assert_int_equal(memcmp(&c, &before, sizeof c), 0);
    va_list ap;
    va_start(ap, rc_want);
    const char *needle;
    while ((needle = va_arg(ap, const char *)))
        tu_assert_contains(e.msg, needle);
    va_end(ap);
    free(path);
}

/* ---- defaults and shipped configs ----------------------------------------- */

static void test_defaults_equal_shipped_file(void **state)
{
    (void)state;
    cfg_run def, nul, file;
    cfg_defaults(&def);
    grok_err e = {{0}};
    assert_int_equal(cfg_load(&nul, NULL, NULL, 0, &e), GROK_OK);
    int rc = cfg_load(&file, SHIPPED_DEFAULT, NULL, 0, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_same_run(&def, &nul);
    assert_same_run(&def, &file);
    printf("# cfg_defaults == cfg_load(NULL) == cfg_load(%s): %zu bytes, memcmp 0\n",
           SHIPPED_DEFAULT, sizeof def);

    /* The defaults are the Nanda et al. run; spot-check the derived fields. */
    assert_int_equal(def.task.p, 113);
    assert_int_equal(def.model.d_vocab, 114);
    assert_int_equal(def.model.d_vocab_out, 113);
    assert_int_equal(def.model.n_ctx, 3);
    assert_int_equal(cfg_check(&def, &e), GROK_OK);

    /* The shipped file lists every key exactly as cfg_format writes it. */
    sbuf out;
    sbuf_init(&out);
    assert_int_equal(cfg_format(&def, &out), GROK_OK);
    char *text = NULL;
    size_t n = 0;
    assert_int_equal(fileio_read_all(SHIPPED_DEFAULT, &text, &n, &e), GROK_OK);
    const char *want = skip_header(out.data), *got = skip_header(text);
    if (strcmp(want, got) != 0) {
        int line = 1;
        size_t i = 0;
        while (want[i] && want[i] == got[i])
            line += want[i++] == '\n';
        while (i > 0 && want[i - 1] != '\n')
            i--;
        int nw = (int)strcspn(want + i, "\n"), ng = (int)strcspn(got + i, "\n");
        printf("# %s differs from cfg_format(defaults) at body line %d:\n# want: %.*s\n"
               "# got:  %.*s\n",
               SHIPPED_DEFAULT, line, nw, want + i, ng, got + i);
        fail();
    }
    printf("# %s body == cfg_format(defaults) body (%zu bytes)\n", SHIPPED_DEFAULT,
           strlen(want));
    free(text);
    sbuf_free(&out);
}

static void test_shipped_examples_load(void **state)
{
    (void)state;
    cfg_run c;
    grok_err e = {{0}};
    int rc = cfg_load(&c, SHIPPED_POWER, NULL, 0, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(c.task.op, TASK_OP_DIV);
    assert_int_equal(c.task.p, 97);
    assert_int_equal(c.model.n_layers, 2);
    assert_int_equal(c.model.layernorm, 1);
    assert_int_equal(c.train.batch, 512);
    assert_int_equal(c.model.d_vocab, 98);
    /* keys the file leaves out keep their defaults */
    cfg_run d;
    cfg_defaults(&d);
    assert_int_equal(c.checkpoint.every, d.checkpoint.every);
    assert_string_equal(c.plots.formats, d.plots.formats);
    printf("# %s: div p=%d, %d layers, batch %ld, other keys default\n", SHIPPED_POWER, c.task.p,
           c.model.n_layers, c.train.batch);
}

/* The shipped runs of the other task kinds and the MLP family load and say
 * what they are. */
static void test_shipped_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int kind, family, n_ctx, d_vocab, classes;
    } shipped[] = {
        {"experiments/chughtai2023_s5.cfg", TASK_KIND_GROUP, MODEL_TRANSFORMER, 3, 121, 120},
        {"experiments/barak2022_parity.cfg", TASK_KIND_PARITY, MODEL_MLP, 40, 2, 2},
        {"experiments/mlp_mod_add.cfg", TASK_KIND_MODULAR, MODEL_MLP, 2, 113, 113},
        {"experiments/prieto2025_stablemax.cfg", TASK_KIND_MODULAR, MODEL_MLP, 2, 113, 113},
        {"experiments/lee2024_grokfast_model.cfg", TASK_KIND_MODULAR, MODEL_TRANSFORMER, 4, 99, 97},
        {"experiments/zhong2023_pizza.cfg", TASK_KIND_MODULAR, MODEL_TRANSFORMER, 2, 59, 59},
        {"experiments/zhong2023_clock.cfg", TASK_KIND_MODULAR, MODEL_TRANSFORMER, 2, 59, 59},
    };
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        cfg_run c;
        grok_err e = {{0}};
        int rc = cfg_load(&c, shipped[i].path, NULL, 0, &e);
        if (rc != GROK_OK)
            printf("# %s\n", e.msg);
        assert_int_equal(rc, GROK_OK);
        printf("# %s: kind %d, family %d, n_ctx %d, vocabulary %d, classes %d\n",
               shipped[i].path, (int)c.task.kind, (int)c.family, c.model.n_ctx, c.model.d_vocab,
               c.model.d_vocab_out);
        assert_int_equal(c.task.kind, shipped[i].kind);
        assert_int_equal(c.family, shipped[i].family);
        assert_int_equal(c.model.n_ctx, shipped[i].n_ctx);
        assert_int_equal(c.model.d_vocab, shipped[i].d_vocab);
        assert_int_equal(c.model.d_vocab_out, shipped[i].classes);
    }
}

/* The two runs of Zhong et al. (2023) differ only in model.attn_rate, which
 * reaches the transformer as attn_uniform = 1 - attn_rate, without the causal
 * mask. */
static void test_shipped_zhong(void **state)
{
    (void)state;
    cfg_run pizza, clock;
    grok_err e = {{0}};
    assert_int_equal(cfg_load(&pizza, "experiments/zhong2023_pizza.cfg", NULL, 0, &e), GROK_OK);
    assert_int_equal(cfg_load(&clock, "experiments/zhong2023_clock.cfg", NULL, 0, &e), GROK_OK);
    assert_same_double("pizza attn_rate", pizza.attn_rate, 0.0);
    assert_same_double("clock attn_rate", clock.attn_rate, 1.0);
    const model_config mp = cfg_model_config(&pizza), mc = cfg_model_config(&clock);
    assert_same_double("pizza attn_uniform", mp.tfm.attn_uniform, 1.0);
    assert_same_double("clock attn_uniform", mc.tfm.attn_uniform, 0.0);
    assert_int_equal(mp.tfm.bidirectional, 1);
    assert_int_equal(mc.tfm.bidirectional, 1);
    assert_int_equal(pizza.task.layout, TASK_LAYOUT_AB);
    assert_int_equal(pizza.task.p, 59);
    assert_same_double("frac_train", pizza.task.frac_train, 0.8);
    assert_same_double("weight_decay", pizza.optim.weight_decay, 2.0);
    assert_int_equal(pizza.train.epochs, 20000);
    assert_int_equal(pizza.train.batch, 0);
    clock.attn_rate = pizza.attn_rate;
    assert_same_run(&pizza, &clock);
    /* and a config that sets nothing gets the softmax attention */
    cfg_run d;
    cfg_defaults(&d);
    assert_same_double("default attn_uniform", cfg_model_config(&d).tfm.attn_uniform, 0.0);
    printf("# zhong2023_pizza.cfg and zhong2023_clock.cfg differ in attn_rate only\n");
}

/* Every config shipped in experiments/ loads and passes cfg_check. */
static void test_every_shipped_config_loads(void **state)
{
    (void)state;
    DIR *d = opendir("experiments");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        const size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "experiments/%s", de->d_name);
        cfg_run c;
        grok_err e = {{0}};
        int rc = cfg_load(&c, path, NULL, 0, &e);
        if (rc == GROK_OK)
            rc = cfg_check(&c, &e);
        if (rc != GROK_OK)
            fail_msg("%s: %s", path, e.msg);
        n++;
    }
    closedir(d);
    printf("# %d configs in experiments/ load and check\n", n);
    assert_true(n >= 7);
}

/* ---- write -> load round trip ---------------------------------------------- */

/* A deterministic stream of bits for the random round trips. */
static uint64_t next_bits(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_round_trip_exact(void **state)
{
    const char *dir = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/config.cfg", dir);
    grok_err e = {{0}};

    cfg_run a, b;
    cfg_defaults(&a);
    a.seed = 9223372036854775807ull; /* needs the L suffix */
    a.task.op = TASK_OP_DIV;
    a.task.p = 97;
    a.task.frac_train = 1.0 / 3.0;
    a.model.n_layers = 3;
    a.model.d_model = 100;
    a.model.act = TFM_ACT_GELU;
    a.model.layernorm = 1;
    a.model.attn_bias = 1;
    a.model.init_scale = M_PI;
    a.optim.kind = OPTIM_SGD;
    a.optim.lr = 3.0000000000000001e-4;
    a.optim.lr = nextafter(a.optim.lr, 1.0); /* one ulp above the decimal 3e-4 */
    a.optim.beta1 = nextafter(0.9, 0.0);
    a.optim.beta2 = 0.1 + 0.2; /* 0.30000000000000004 */
    a.optim.eps = 4.9406564584124654e-324; /* the smallest subnormal */
    a.optim.weight_decay = 1e300;
    a.optim.momentum = 2.0 / 3.0;
    a.optim.warmup = 0;
    a.train.epochs = 100000000;
    a.train.batch = 17;
    a.train.stop_test_acc = 0.99999999999999989;
    a.checkpoint.early_until = 0;
    snprintf(a.plots.formats, sizeof a.plots.formats, "pdf,svg,tex,png");
    cfg_fill_derived(&a);
    assert_int_equal(cfg_check(&a, &e), GROK_OK);
    assert_int_equal(cfg_write(&a, path, &e), GROK_OK);
    int rc = cfg_load(&b, path, NULL, 0, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_same_run(&a, &b);
    printf("# awkward values: write -> load identical (lr %.17g, eps %.17g, beta2 %.17g); "
           "largest difference 0\n",
           b.optim.lr, b.optim.eps, b.optim.beta2);

    /* Random doubles over the whole positive range through optim.lr, and
     * random values in [0, 1) through the bounded keys. */
    uint64_t s = 2385;
    int n_done = 0;
    for (int i = 0; i < 200; i++) {
        double lr;
        do {
            uint64_t bits = next_bits(&s) >> 1; /* positive */
            memcpy(&lr, &bits, sizeof lr);
        } while (!isfinite(lr) || lr <= 0);
        a.optim.lr = lr;
        a.optim.eps = lr;
        a.optim.weight_decay = lr;
        a.optim.beta1 = (double)(next_bits(&s) >> 11) * 0x1p-53;
        a.optim.momentum = a.optim.beta1;
        a.task.frac_train = 0.5 + 0.4 * (double)(next_bits(&s) >> 11) * 0x1p-53;
        a.model.init_scale = 1.0 + (double)(next_bits(&s) >> 11) * 0x1p-53;
        assert_int_equal(cfg_write(&a, path, &e), GROK_OK);
        rc = cfg_load(&b, path, NULL, 0, &e);
        if (rc != GROK_OK)
            printf("# lr %.17g: %s\n", lr, e.msg);
        assert_int_equal(rc, GROK_OK);
        assert_same_run(&a, &b);
        n_done++;
    }
    printf("# %d random round trips (lr bit patterns over all exponents): all identical\n",
           n_done);

    /* The writer's float text is what makes this work: it must never be
     * shortened below what reads back. */
    sbuf out;
    sbuf_init(&out);
    cfg_defaults(&a);
    a.optim.beta2 = 0.1 + 0.2;
    a.optim.lr = 30.0;
    a.optim.eps = 1e-25;
    assert_int_equal(cfg_format(&a, &out), GROK_OK);
    tu_assert_contains(out.data, "betas = [0.9, 0.30000000000000004];");
    tu_assert_contains(out.data, "weight_decay = 1.0;"); /* a float stays a float */
    tu_assert_contains(out.data, "lr = 30.0;");          /* plain, not 3e+01 */
    tu_assert_contains(out.data, "eps = 1e-25;");
    sbuf_free(&out);
}

/* ---- --set ------------------------------------------------------------------ */

static void test_set_overrides(void **state)
{
    (void)state;
    const char *sets[] = {
        "model.d_model=256",          /* int */
        "optim.weight_decay=2",       /* float key given an int */
        "optim.lr=3e-4",              /* float */
        "task.op=sub",                /* string without quotes */
        "model.act=\"gelu\"",         /* string with quotes */
        "optim.betas=[0.9,0.99]",     /* array */
        "model.layernorm=true",       /* bool */
        " model.d_mlp = 64 ",         /* spaces around key and value */
        "seed=5000000000",            /* beyond 32 bits, no L needed on --set */
        "plots.formats=png,pdf",      /* a comma list, bare */
        "train.stop_test_acc=1",      /* int in a float key, at the closed bound */
        "optim.kind=sgd",
    };
    int n = (int)(sizeof sets / sizeof sets[0]);
    cfg_run c, d;
    grok_err e = {{0}};
    int rc = cfg_load(&c, NULL, sets, n, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(c.model.d_model, 256);
    assert_same_double("weight_decay", c.optim.weight_decay, 2.0);
    assert_same_double("lr", c.optim.lr, 3e-4);
    assert_int_equal(c.task.op, TASK_OP_SUB);
    assert_int_equal(c.model.act, TFM_ACT_GELU);
    assert_same_double("beta1", c.optim.beta1, 0.9);
    assert_same_double("beta2", c.optim.beta2, 0.99);
    assert_int_equal(c.model.layernorm, 1);
    assert_int_equal(c.model.d_mlp, 64);
    assert_true(c.seed == 5000000000ull);
    assert_string_equal(c.plots.formats, "png,pdf");
    assert_same_double("stop_test_acc", c.train.stop_test_acc, 1.0);
    assert_int_equal(c.optim.kind, OPTIM_SGD);
    /* untouched keys keep their defaults */
    cfg_defaults(&d);
    assert_int_equal(c.task.p, d.task.p);
    assert_int_equal(c.train.epochs, d.train.epochs);
    printf("# %d --set overrides applied (int, int->float, float, bare and quoted string, "
           "array, bool, 64-bit int, list)\n",
           n);

    /* the same through cfg_set, and later assignments win */
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "optim.betas=(0.5, 0.75)", &e), GROK_OK); /* a list */
    assert_same_double("beta2", c.optim.beta2, 0.75);
    assert_int_equal(cfg_set(&c, "seed=12L", &e), GROK_OK);
    assert_true(c.seed == 12);
    assert_int_equal(cfg_set(&c, "seed=0x10", &e), GROK_OK);
    assert_true(c.seed == 16);
    assert_int_equal(cfg_set(&c, "seed=0xFFFFFFFFL", &e), GROK_OK);
    assert_true(c.seed == 0xFFFFFFFFull);
    assert_int_equal(cfg_set(&c, "task.frac_train=.5", &e), GROK_OK);
    assert_same_double("frac_train", c.task.frac_train, 0.5);
    assert_int_equal(cfg_set(&c, "model.layernorm=false", &e), GROK_OK);
    assert_int_equal(c.model.layernorm, 0);
    assert_int_equal(cfg_set(&c, "plots.formats=\"\"", &e), GROK_OK);
    assert_string_equal(c.plots.formats, "");

    /* --set after a file overrides the file */
    const char *over[] = {"train.batch=64"};
    rc = cfg_load(&c, SHIPPED_POWER, over, 1, &e);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(c.train.batch, 64);
    printf("# cfg_set: list, L and hex integers, .5, false, empty string; --set beats the file\n");
}

/* ---- @include ------------------------------------------------------------------ */

static void test_include_relative_to_file(void **state)
{
    const char *dir = *state;
    char sub[512];
    snprintf(sub, sizeof sub, "%s/inc", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    free(write_file(sub, "base.cfg", "model = { d_model = 64; n_heads = 2; };\n"));
    char *main_path = write_file(sub, "main.cfg",
                                 "# the process directory is not inc/\n"
                                 "@include \"base.cfg\"\n"
                                 "seed = 5;\n");
    cfg_run c;
    grok_err e = {{0}};
    int rc = cfg_load(&c, main_path, NULL, 0, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(c.model.d_model, 64);
    assert_int_equal(c.model.n_heads, 2);
    assert_true(c.seed == 5);
    free(main_path);

    /* errors inside an included file name that file and its line */
    free(write_file(sub, "bad_key.cfg", "\nmodel = {\n  d_modle = 64;\n};\n"));
    char want[600];
    snprintf(want, sizeof want, "%s/bad_key.cfg:3: model.d_modle = 64: unknown key", sub);
    expect_error(sub, "main2.cfg", "seed = 1;\n@include \"bad_key.cfg\"\n", NULL, 0, GROK_EINVAL,
                 want, "did you mean 'model.d_model'", (const char *)NULL);

    free(write_file(sub, "bad_syntax.cfg", "\nmodel = { d_model = ; };\n"));
    snprintf(want, sizeof want, "%s/bad_syntax.cfg:2: syntax error", sub);
    expect_error(sub, "main3.cfg", "seed = 1;\n@include \"bad_syntax.cfg\"\n", NULL, 0,
                 GROK_EINVAL, want, (const char *)NULL);

    free(write_file(sub, "wide.cfg", "\ntrain = {\n  epochs = 4294967396;\n};\n"));
    snprintf(want, sizeof want, "%s/wide.cfg:3: train.epochs = 4294967396", sub);
    expect_error(sub, "main4.cfg", "@include \"wide.cfg\"\n", NULL, 0, GROK_EINVAL, want,
                 "32-bit int", (const char *)NULL);
    printf("# @include read relative to the config's directory; errors name the included file\n");
}

/* Include targets libconfig 1.5 cannot take: "" and a directory made its
 * scanner call exit(2); a self-include was followed 10 levels deep (4 in one
 * file took 12 s).  Each is refused before libconfig sees it, with the file
 * and line, and the process survives to check the message. */
static void test_include_bad_targets(void **state)
{
    const char *dir = *state;
    char sub[512], want[700];
    snprintf(sub, sizeof sub, "%s/inc2", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(mkdir(strcat(strcpy(want, sub), "/adir"), 0700), 0);
    expect_error(sub, "empty.cfg", "seed = 1;\n@include \"\"\n", NULL, 0, GROK_EINVAL,
                 "empty.cfg:2: @include \"\": empty file name", (const char *)NULL);
    expect_error(sub, "dir.cfg", "@include \"adir\"\n", NULL, 0, GROK_EINVAL,
                 "dir.cfg:1: @include \"adir\"", "is not a regular file", (const char *)NULL);
    expect_error(sub, "miss.cfg", "\n\n@include \"nowhere.cfg\"\n", NULL, 0, GROK_EINVAL,
                 "miss.cfg:3: @include \"nowhere.cfg\": cannot read", (const char *)NULL);
    expect_error(sub, "open.cfg", "@include \"base.cfg\nseed = 1;\n", NULL, 0, GROK_EINVAL,
                 "open.cfg:1: @include: the file name needs a closing", (const char *)NULL);
    /* the 94-byte file: four self-includes */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_error(sub, "self.cfg",
                 "@include \"self.cfg\"\n@include \"self.cfg\"\n@include \"self.cfg\"\n"
                 "@include \"self.cfg\"\n",
                 NULL, 0, GROK_EINVAL, "self.cfg:1: @include \"self.cfg\": include cycle",
                 (const char *)NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("# four self-includes refused in %.3f s\n", secs);
    assert_true(secs < 1.0);
    /* a cycle through a second file names the file that closes it */
    free(write_file(sub, "b.cfg", "seed = 2;\n@include \"a.cfg\"\n"));
    expect_error(sub, "a.cfg", "@include \"b.cfg\"\n", NULL, 0, GROK_EINVAL,
                 "b.cfg:2: @include \"a.cfg\": include cycle", (const char *)NULL);
    /* a diamond without a cycle, 2^8 paths: the total is capped */
    for (int i = 0; i < 8; i++) {
        char name[32], text[128];
        snprintf(name, sizeof name, "d%d.cfg", i);
        snprintf(text, sizeof text, "@include \"d%d.cfg\"\n@include \"d%d.cfg\"\n", i + 1, i + 1);
        free(write_file(sub, name, text));
    }
    free(write_file(sub, "d8.cfg", "seed = 3;\n"));
    expect_error(sub, "diamond.cfg", "@include \"d0.cfg\"\n", NULL, 0, GROK_EINVAL,
                 "more than 64 includes in all", (const char *)NULL);
    /* the same through --set (relative to the process's directory) */
    char set[600];
    snprintf(set, sizeof set, "seed=1;\n@include \"%s\"", sub);
    const char *sets[] = {set};
    expect_error(NULL, NULL, NULL, sets, 1, GROK_EINVAL, "is not a regular file", (const char *)NULL);
    const char *sets2[] = {"seed=1;\n@include \"\""};
    expect_error(NULL, NULL, NULL, sets2, 1, GROK_EINVAL, "empty file name", (const char *)NULL);
    /* an @include after a NUL byte escaped the scan (found by fuzzing) */
    {
        char *nul = tu_path_in(sub, "nul.cfg");
        FILE *f = fopen(nul, "wb");
        assert_non_null(f);
        static const char bytes[] = "seed = 1;\n\0\n@include \"\"\n";
        assert_int_equal(fwrite(bytes, 1, sizeof bytes - 1, f), sizeof bytes - 1);
        assert_int_equal(fclose(f), 0);
        cfg_run c;
        grok_err e = {{0}};
        assert_int_equal(cfg_load(&c, nul, NULL, 0, &e), GROK_EINVAL);
        tu_assert_contains(e.msg, "nul.cfg: holds a NUL byte");
        free(write_file(sub, "incnul.cfg", "@include \"nul.cfg\"\n"));
        char *inc = tu_path_in(sub, "incnul.cfg");
        assert_int_equal(cfg_load(&c, inc, NULL, 0, &e), GROK_EINVAL);
        tu_assert_contains(e.msg, "'" );
        tu_assert_contains(e.msg, "holds a NUL byte");
        free(inc);
        free(nul);
    }
    /* a good include still reads */
    free(write_file(sub, "ok_base.cfg", "seed = 9;\n"));
    char *ok = write_file(sub, "ok.cfg", "@include \"ok_base.cfg\"\n");
    cfg_run c;
    grok_err e = {{0}};
    assert_int_equal(cfg_load(&c, ok, NULL, 0, &e), GROK_OK);
    assert_true(c.seed == 9);
    free(ok);
}

/* ---- errors in files ---------------------------------------------------------- */

static void test_file_unknown_keys(void **state)
{
    const char *dir = *state;
    expect_error(dir, "u1.cfg", "seed = 1;\nmodle = { d_model = 64; };\n", NULL, 0, GROK_EINVAL,
                 "u1.cfg:2: modle = { ... }: unknown key", "did you mean 'model'",
                 "valid top-level keys: seed, task, model, optim, train, filters, checkpoint, "
                 "measures, init, plots",
                 (const char *)NULL);
    expect_error(dir, "u2.cfg", "model = {\n  d_model = 64;\n  d_modle = 64;\n};\n", NULL, 0,
                 GROK_EINVAL, "u2.cfg:3: model.d_modle = 64: unknown key",
                 "did you mean 'model.d_model'",
                 "valid keys in model: family, n_layers, d_model, n_heads, d_head, d_mlp, act, "
                 "layernorm, normed_residual, attn_bias, causal, attn_rate, init_scale, "
                 "init_scheme, d_embed, combine, d_hidden, bias",
                 (const char *)NULL);
    expect_error(dir, "u3.cfg", "model = { lr = 0.1; };\n", NULL, 0, GROK_EINVAL,
                 "u3.cfg:1: model.lr = 0.1: unknown key", "did you mean 'optim.lr'",
                 (const char *)NULL);
    expect_error(dir, "u4.cfg", "\n\nlr = 0.1;\n", NULL, 0, GROK_EINVAL,
                 "u4.cfg:3: lr = 0.1: unknown key", "did you mean 'optim.lr'",
                 (const char *)NULL);
    expect_error(dir, "u5.cfg", "optim = { betas = [0.9, 0.98]; schedule = \"cosine\"; };\n",
                 NULL, 0, GROK_EINVAL,
                 "u5.cfg:1: optim.schedule = 'cosine': unknown key; valid keys in optim",
                 "kind, lr, betas, eps, weight_decay, momentum, warmup",
                 (const char *)NULL);
    expect_error(dir, "u6.cfg", "model = 5;\n", NULL, 0, GROK_EINVAL,
                 "u6.cfg:1: model = 5: expected a group", "valid keys in model: family, n_layers",
                 (const char *)NULL);
    expect_error(dir, "u7.cfg", "task = { sub = { p = 3; }; };\n", NULL, 0, GROK_EINVAL,
                 "u7.cfg:1: task.sub = { ... }: unknown key", (const char *)NULL);
}

static void test_file_wrong_types(void **state)
{
    const char *dir = *state;
    expect_error(dir, "t1.cfg", "model = {\n  d_model = 1.5;\n};\n", NULL, 0, GROK_EINVAL,
                 "t1.cfg:2: model.d_model = 1.5: expected an integer", "1..4096",
                 (const char *)NULL);
    expect_error(dir, "t2.cfg", "model = { d_model = \"128\"; };\n", NULL, 0, GROK_EINVAL,
                 "t2.cfg:1: model.d_model = '128': expected an integer", (const char *)NULL);
    expect_error(dir, "t3.cfg", "model = { layernorm = 1; };\n", NULL, 0, GROK_EINVAL,
                 "t3.cfg:1: model.layernorm = 1: expected true or false", (const char *)NULL);
    expect_error(dir, "t4.cfg", "optim = { lr = \"fast\"; };\n", NULL, 0, GROK_EINVAL,
                 "t4.cfg:1: optim.lr = 'fast': expected a number > 0", (const char *)NULL);
    expect_error(dir, "t5.cfg", "task = { op = 3; };\n", NULL, 0, GROK_EINVAL,
                 "t5.cfg:1: task.op = 3: expected a string", "valid: add, sub, mul, div",
                 (const char *)NULL);
    expect_error(dir, "t6.cfg", "optim = { betas = 0.9; };\n", NULL, 0, GROK_EINVAL,
                 "t6.cfg:1: optim.betas = 0.9: expected two numbers", (const char *)NULL);
    expect_error(dir, "t7.cfg", "optim = { betas = [0.9, 0.98, 0.99]; };\n", NULL, 0, GROK_EINVAL,
                 "t7.cfg:1: optim.betas = [0.9, 0.98, 0.99]: expected two numbers",
                 (const char *)NULL);
    expect_error(dir, "t8.cfg", "plots = { formats = [\"png\"]; };\n", NULL, 0, GROK_EINVAL,
                 "t8.cfg:1: plots.formats = ['png']: expected a string", (const char *)NULL);
    expect_error(dir, "t9.cfg", "seed = 1.0;\n", NULL, 0, GROK_EINVAL,
                 "t9.cfg:1: seed = 1.0: expected an integer", (const char *)NULL);
}

static void test_file_out_of_range(void **state)
{
    const char *dir = *state;
    expect_error(dir, "r1.cfg", "\noptim = {\n  lr = -0.001;\n};\n", NULL, 0, GROK_EINVAL,
                 "r1.cfg:3: optim.lr = -0.001: must be > 0", (const char *)NULL);
    expect_error(dir, "r2.cfg", "model = { d_model = 5000; };\n", NULL, 0, GROK_EINVAL,
                 "r2.cfg:1: model.d_model = 5000: must be in 1..4096", (const char *)NULL);
    expect_error(dir, "r3.cfg", "model = { n_layers = 65; };\n", NULL, 0, GROK_EINVAL,
                 "model.n_layers = 65: must be in 1..64", (const char *)NULL);
    expect_error(dir, "r4.cfg", "model = { d_mlp = 16385; };\n", NULL, 0, GROK_EINVAL,
                 "model.d_mlp = 16385: must be in 1..16384", (const char *)NULL);
    expect_error(dir, "r5.cfg", "task = { p = 1; };\n", NULL, 0, GROK_EINVAL,
                 "task.p = 1: must be in 2..1000", (const char *)NULL);
    expect_error(dir, "r6.cfg", "task = { p = 1001; };\n", NULL, 0, GROK_EINVAL,
                 "task.p = 1001: must be in 2..1000", (const char *)NULL);
    expect_error(dir, "r7.cfg", "task = { frac_train = 1.0; };\n", NULL, 0, GROK_EINVAL,
                 "task.frac_train = 1.0: must be in (0, 1)", (const char *)NULL);
    expect_error(dir, "r8.cfg", "task = { frac_train = 0; };\n", NULL, 0, GROK_EINVAL,
                 "task.frac_train = 0: must be in (0, 1)", (const char *)NULL);
    expect_error(dir, "r9.cfg", "train = { epochs = 0; };\n", NULL, 0, GROK_EINVAL,
                 "train.epochs = 0: must be in 1..100000000", (const char *)NULL);
    expect_error(dir, "r10.cfg", "train = { epochs = 100000001; };\n", NULL, 0, GROK_EINVAL,
                 "train.epochs = 100000001: must be in 1..100000000", (const char *)NULL);
    expect_error(dir, "r11.cfg", "train = { eval_every = 0; };\n", NULL, 0, GROK_EINVAL,
                 "train.eval_every = 0: must be in 1..", (const char *)NULL);
    expect_error(dir, "r12.cfg", "optim = { betas = [0.9, 1.0]; };\n", NULL, 0, GROK_EINVAL,
                 "optim.betas = [0.9, 1.0]: element 2 (beta2) must be in [0, 1)",
                 (const char *)NULL);
    expect_error(dir, "r13.cfg", "optim = { lr = 1e999; };\n", NULL, 0, GROK_EINVAL,
                 "optim.lr = inf: not a finite number", (const char *)NULL);
    expect_error(dir, "r15.cfg", "model = { attn_rate = 1.5; };\n", NULL, 0, GROK_EINVAL,
                 "r15.cfg:1: model.attn_rate = 1.5: must be in [0, 1]", (const char *)NULL);
    expect_error(dir, "r16.cfg", "model = { attn_rate = -0.25; };\n", NULL, 0, GROK_EINVAL,
                 "model.attn_rate = -0.25: must be in [0, 1]", (const char *)NULL);
    expect_error(dir, "r14.cfg", "optim = { weight_decay = -1; };\n", NULL, 0, GROK_EINVAL,
                 "optim.weight_decay = -1: must be >= 0", (const char *)NULL);
    expect_error(dir, "r15.cfg", "train = { stop_test_acc = 1.5; };\n", NULL, 0, GROK_EINVAL,
                 "train.stop_test_acc = 1.5: must be in [0, 1]", (const char *)NULL);
    expect_error(dir, "r16.cfg", "seed = -1;\n", NULL, 0, GROK_EINVAL,
                 "r16.cfg:1: seed = -1: must be in 0..", (const char *)NULL);
    expect_error(dir, "r17.cfg", "optim = { momentum = 1; };\n", NULL, 0, GROK_EINVAL,
                 "optim.momentum = 1: must be in [0, 1)", (const char *)NULL);
    expect_error(dir, "r18.cfg", "train = { batch = -1; };\n", NULL, 0, GROK_EINVAL,
                 "train.batch = -1: must be in 0..", (const char *)NULL);
}

static void test_file_enums(void **state)
{
    const char *dir = *state;
    expect_error(dir, "e1.cfg", "task = {\n  op = \"addd\";\n};\n", NULL, 0, GROK_EINVAL,
                 "e1.cfg:2: task.op = 'addd': unknown operation",
                 "valid: add, sub, mul, div, x2y2, x2xyy2, x3xy, x3xy2y, rand, x2xyy2x, mix1",
                 (const char *)NULL);
    expect_error(dir, "e2.cfg", "model = { act = \"swish\"; };\n", NULL, 0, GROK_EINVAL,
                 "model.act = 'swish': unknown activation; valid: relu, gelu, tanh, square",
                 (const char *)NULL);
    /* tanh exists, for the mlp family only */
    expect_error(dir, "e2t.cfg", "model = { act = \"tanh\"; };\n", NULL, 0, GROK_EINVAL,
                 "model.act = tanh: the transformer family takes relu or gelu; tanh and square "
                 "need model.family = \"mlp\"",
                 (const char *)NULL);
    /* switches of one family, named with file, line and the family that has them */
    expect_error(dir, "e2b.cfg", "model = {\n  bias = false;\n};\n", NULL, 0, GROK_EINVAL,
                 "e2b.cfg:2: model.bias = false: a switch of the mlp family; the transformer's "
                 "optional biases are model.attn_bias",
                 (const char *)NULL);
    expect_error(dir, "e2n.cfg",
                 "model = { family = \"mlp\"; combine = \"onehot\"; normed_residual = true; };\n",
                 NULL, 0, GROK_EINVAL,
                 "e2n.cfg:1: model.normed_residual = true: a switch of the transformer's blocks; "
                 "model.family = \"mlp\" has none",
                 (const char *)NULL);
    expect_error(dir, "e2l.cfg", "model = { normed_residual = true; };\n", NULL, 0, GROK_EINVAL,
                 "e2l.cfg:1: model.normed_residual = true: needs model.layernorm = true",
                 (const char *)NULL);
    expect_error(dir, "e3.cfg", "optim = { kind = \"rmsprop\"; };\n", NULL, 0, GROK_EINVAL,
                 "optim.kind = 'rmsprop': unknown optimizer; valid: adamw, adam, sgd",
                 (const char *)NULL);
    expect_error(dir, "e4.cfg", "plots = { formats = \"png,jpg\"; };\n", NULL, 0, GROK_EINVAL,
                 "e4.cfg:1: plots.formats = 'png,jpg': unknown format 'jpg'",
                 "png, pdf, svg, tex", (const char *)NULL);
    expect_error(dir, "e5.cfg", "plots = { formats = \"png,,pdf\"; };\n", NULL, 0, GROK_EINVAL,
                 "plots.formats = 'png,,pdf': empty entry", (const char *)NULL);
    expect_error(dir, "e6.cfg", "plots = { formats = \"png,pdf,png\"; };\n", NULL, 0,
                 GROK_EINVAL, "plots.formats = 'png,pdf,png': format 'png' listed twice",
                 (const char *)NULL);
    expect_error(dir, "e7.cfg", "plots = { formats = \"png, pdf\"; };\n", NULL, 0, GROK_EINVAL,
                 "unknown format ' pdf'", (const char *)NULL);
}

/* The figure style of the plots group: bad values name the file, the line,
 * the key and the value, and nothing is loaded; a config without the keys
 * (a run directory written before them) loads their defaults, which give
 * the default style; set values reach cfg_plot_style. */
static void test_plots_style(void **state)
{
    const char *dir = *state;
    expect_error(dir, "s1.cfg", "plots = {\n  width = \"-3in\";\n};\n", NULL, 0, GROK_EINVAL,
                 "s1.cfg:2: plots.width = '-3in': a figure side must be positive",
                 (const char *)NULL);
    expect_error(dir, "s2.cfg", "plots = { height = \"6furlong\"; };\n", NULL, 0, GROK_EINVAL,
                 "s2.cfg:1: plots.height = '6furlong': unknown unit \"furlong\"",
                 (const char *)NULL);
    expect_error(dir, "s3.cfg", "plots = { colours = \"rainbow\"; };\n", NULL, 0, GROK_EINVAL,
                 "s3.cfg:1: plots.colours = 'rainbow': unknown colour scheme; valid: default, "
                 "grey",
                 (const char *)NULL);
    expect_error(dir, "s4.cfg", "plots = { epoch_axis = \"sqrt\"; };\n", NULL, 0, GROK_EINVAL,
                 "s4.cfg:1: plots.epoch_axis = 'sqrt': unknown epoch axis; valid: linear, log",
                 (const char *)NULL);
    expect_error(dir, "s5.cfg", "plots = { font_size = 2; };\n", NULL, 0, GROK_EINVAL,
                 "s5.cfg:1: plots.font_size = 2", "[4, 72]", (const char *)NULL);
    expect_error(dir, "s6.cfg", "plots = { font_size = \"8pt\"; };\n", NULL, 0, GROK_EINVAL,
                 "s6.cfg:1: plots.font_size = '8pt': expected a number in [4, 72]",
                 (const char *)NULL);
    expect_error(dir, "s7.cfg", "plots = { line_width = 0; };\n", NULL, 0, GROK_EINVAL,
                 "plots.line_width = 0", (const char *)NULL);
    expect_error(dir, "s8.cfg", "plots = { from = 500.0;\n  to = 100.0; };\n", NULL, 0,
                 GROK_EINVAL,
                 "s8.cfg:2: plots.to = 100: the epoch range is empty (plots.from = 500)",
                 (const char *)NULL);
    expect_error(dir, "s9.cfg", "plots = { font = \"Times, serif\"; };\n", NULL, 0, GROK_EINVAL,
                 "plots.font = 'Times, serif': give a font family name", (const char *)NULL);
    const char *bad_set[] = {"plots.width=\"3.4\""};
    expect_error(dir, NULL, NULL, bad_set, 1, GROK_EINVAL,
                 "--set: plots.width = '3.4': no unit", (const char *)NULL);

    /* an old run's config.cfg: the plots group holds formats alone */
    char *path = write_file(dir, "old.cfg", "plots = { formats = \"png,pdf\"; };\n");
    cfg_run c, d;
    grok_err e = {{0}};
    assert_int_equal(cfg_load(&c, path, NULL, 0, &e), GROK_OK);
    free(path);
    cfg_defaults(&d);
    assert_string_equal(c.plots.formats, "png,pdf");
    assert_string_equal(c.plots.width, "");
    assert_string_equal(c.plots.font, "DejaVu Sans");
    assert_true(c.plots.font_size == 8.0 && c.plots.line_width == 1.0);
    assert_int_equal(c.plots.phases, 1);
    assert_int_equal(c.plots.marks, 1);
    plot_style st, def;
    cfg_plot_style(&c, &st);
    plot_style_default(&def);
    /* the default style draws as plot_style_default does: sizes 0 (each
     * figure's own), no epoch range, the same scheme, axis, phases, marks */
    assert_true(st.width_in == 0 && st.height_in == 0);
    assert_true(isnan(st.from) && isnan(st.to));
    assert_int_equal(st.scheme, def.scheme);
    assert_int_equal(st.log_epoch, def.log_epoch);
    assert_int_equal(st.phases, def.phases);
    assert_int_equal(st.marks, def.marks);
    printf("# default plots group -> font '%s' %g pt, line width %g\n", st.font, st.font_pt,
           st.line_w);

    /* set values reach the style */
    const char *sets[] = {"plots.width=\"8.6cm\"", "plots.height=\"2in\"",
                          "plots.font=\"Times\"", "plots.font_size=9", "plots.line_width=1.5",
                          "plots.colours=\"grey\"", "plots.epoch_axis=\"log\"", "plots.from=10",
                          "plots.to=2000", "plots.phases=false", "plots.marks=false"};
    assert_int_equal(cfg_load(&c, NULL, sets, 11, &e), GROK_OK);
    cfg_plot_style(&c, &st);
    assert_true(fabs(st.width_in - 8.6 / 2.54) < 1e-12);
    assert_true(st.height_in == 2.0);
    assert_string_equal(st.font, "Times");
    assert_true(st.font_pt == 9.0 && st.line_w == 1.5);
    assert_int_equal(st.scheme, PLOT_SCHEME_GREY);
    assert_int_equal(st.log_epoch, 1);
    assert_true(st.from == 10 && st.to == 2000);
    assert_int_equal(st.phases, 0);
    assert_int_equal(st.marks, 0);
    /* and write -> load keeps them */
    sbuf b;
    sbuf_init(&b);
    assert_int_equal(cfg_format(&c, &b), GROK_OK);
    tu_assert_contains(b.data, "width = \"8.6cm\";");
    tu_assert_contains(b.data, "colours = \"grey\";");
    tu_assert_contains(b.data, "epoch_axis = \"log\";");
    path = write_file(dir, "styled.cfg", b.data);
    assert_int_equal(cfg_load(&d, path, NULL, 0, &e), GROK_OK);
    assert_memory_equal(&c, &d, sizeof c);
    free(path);
    sbuf_free(&b);
}

static void test_file_cross_field(void **state)
{
    const char *dir = *state;
    expect_error(dir, "x1.cfg", "task = {\n  op = \"div\";\n  p = 12;\n};\n", NULL, 0,
                 GROK_EINVAL, "x1.cfg:3: task.p = 12: not prime", "'div'", "11 or 13",
                 (const char *)NULL);
    expect_error(dir, "x2.cfg", "task = { op = \"div\"; p = 1000; };\n", NULL, 0, GROK_EINVAL,
                 "task.p = 1000: not prime", "nearest 997", (const char *)NULL);
    expect_error(dir, "x3.cfg", "\ntrain = { batch = 5000; };\n", NULL, 0, GROK_EINVAL,
                 "x3.cfg:2: train.batch = 5000: more than the 3830 training examples",
                 "valid: 0 (full batch) or 1..3830", (const char *)NULL);
    expect_error(dir, "x4.cfg", "task = { p = 2; frac_train = 0.1; };\n", NULL, 0, GROK_EINVAL,
                 "x4.cfg:1: task.frac_train = 0.1: gives 0 training and 4 test examples",
                 "frac_train * 4 >= 1",
                 (const char *)NULL);
    expect_error(dir, "x5.cfg", "model = { n_heads = 256; d_head = 128; };\n", NULL, 0,
                 GROK_EINVAL, "x5.cfg:1: model.n_heads = 256: n_heads * d_head = 32768",
                 (const char *)NULL);
    /* the batch bound follows the task: 3830 is fine for p = 113 add ... */
    const char *ok[] = {"train.batch=3830"};
    cfg_run c;
    grok_err e = {{0}};
    assert_int_equal(cfg_load(&c, NULL, ok, 1, &e), GROK_OK);
    /* ... and n_heads * d_head may differ from d_model */
    const char *ok2[] = {"model.n_heads=3", "model.d_head=7"};
    assert_int_equal(cfg_load(&c, NULL, ok2, 2, &e), GROK_OK);
    /* a rule broken by a default and a --set names the key that holds the value */
    const char *sets[] = {"task.op=div", "task.p=91"};
    expect_error(dir, NULL, NULL, sets, 2, GROK_EINVAL, "--set: task.p = 91: not prime",
                 "89 or 97", (const char *)NULL);
    const char *sets2[] = {"task.op=div"};
    expect_error(dir, "x6.cfg", "task = {\n  p = 100;\n};\n", sets2, 1, GROK_EINVAL,
                 "x6.cfg:2: task.p = 100: not prime", (const char *)NULL);
}


/* The task kinds: their keys, range and cross-field checks, and the model
 * dimensions cfg_fill_derived takes from each kind. */
static void test_task_kinds(void **state)
{
    const char *dir = *state;
    expect_error(dir, "k1.cfg", "task = {\n  kind = \"groups\";\n};\n", NULL, 0, GROK_EINVAL,
                 "k1.cfg:2: task.kind = 'groups': unknown task kind; valid: modular, group, parity",
                 (const char *)NULL);
    expect_error(dir, "k2.cfg", "task = { kind = \"group\";\n group = \"S7\"; };\n", NULL, 0,
                 GROK_EINVAL,
                 "k2.cfg:2: task.group = 'S7': too large (5040 elements); valid: S3..S6, A3..A6, "
                 "D3..D100",
                 (const char *)NULL);
    const char *s7[] = {"task.kind=group", "task.group=S7"};
    expect_error(dir, NULL, NULL, s7, 2, GROK_EINVAL,
                 "--set: task.group = 'S7': too large (5040 elements); valid: S3..S6, A3..A6, "
                 "D3..D100",
                 (const char *)NULL);
    const char *d1[] = {"task.group=D101"};
    expect_error(dir, NULL, NULL, d1, 1, GROK_EINVAL, "task.group = 'D101': too large",
                 (const char *)NULL);
    const char *g2[] = {"task.group=Q8"};
    expect_error(dir, NULL, NULL, g2, 1, GROK_EINVAL, "task.group = 'Q8': unknown group; valid:",
                 (const char *)NULL);
    expect_error(dir, "k3.cfg", "task = {\n  kind = \"parity\";\n  n = 3;\n  k = 5;\n};\n", NULL,
                 0, GROK_EINVAL, "k3.cfg:4: task.k = 5: must be <= task.n = 3; valid: 1..3",
                 (const char *)NULL);
    const char *pk[] = {"task.kind=parity", "task.n=65"};
    expect_error(dir, NULL, NULL, pk, 2, GROK_EINVAL, "--set: task.n = 65: must be in 1..64",
                 (const char *)NULL);
    const char *lay[] = {"task.layout=a b c"};
    expect_error(dir, NULL, NULL, lay, 1, GROK_EINVAL,
                 "--set: task.layout = 'a b c': unknown layout; valid: \"a b =\", \"a b\", "
                 "\"a op b =\"",
                 (const char *)NULL);
    const char *mix[] = {"task.op=mix1", "task.p=100"};
    expect_error(dir, NULL, NULL, mix, 2, GROK_EINVAL, "--set: task.p = 100: not prime",
                 "'mix1'", (const char *)NULL);
    /* the batch and split bounds follow the kind */
    const char *gb[] = {"task.kind=group", "task.group=S4", "task.frac_train=0.5",
                        "train.batch=289"};
    expect_error(dir, NULL, NULL, gb, 4, GROK_EINVAL,
                 "--set: train.batch = 289: more than the 288 training examples (task.group = "
                 "S4, group_op 'xy', frac_train = 0.5)",
                 (const char *)NULL);
    const char *pb[] = {"task.kind=parity", "task.n_train=100", "train.batch=101"};
    expect_error(dir, NULL, NULL, pb, 3, GROK_EINVAL,
                 "train.batch = 101: more than the 100 training examples (task.kind = 'parity', "
                 "n_train = 100)",
                 (const char *)NULL);
    /* a parity config ignores frac_train; a modular one the parity keys */
    cfg_run c;
    grok_err e = {{0}};
    const char *par[] = {"task.kind=parity", "task.n=64", "task.k=64", "task.n_train=10",
                         "task.n_test=20", "train.batch=10"};
    assert_int_equal(cfg_load(&c, NULL, par, 6, &e), GROK_OK);
    assert_int_equal(c.model.n_ctx, 64);
    assert_int_equal(c.model.d_vocab, 2);
    assert_int_equal(c.model.d_vocab_out, 2);
    const char *grp[] = {"task.kind=group", "task.group=D100", "task.group_op=xyxinv"};
    assert_int_equal(cfg_load(&c, NULL, grp, 3, &e), GROK_OK);
    assert_int_equal(c.task.group_op, TASK_GROUP_OP_XYXINV);
    assert_int_equal(c.model.n_ctx, 3);
    assert_int_equal(c.model.d_vocab, 201);
    assert_int_equal(c.model.d_vocab_out, 200);
    const char *s6[] = {"task.kind=group", "task.group=S6"};
    assert_int_equal(cfg_load(&c, NULL, s6, 2, &e), GROK_OK);
    assert_int_equal(c.model.d_vocab_out, 720);
    const char *lay4[] = {"task.layout=a op b =", "task.p=97"};
    assert_int_equal(cfg_load(&c, NULL, lay4, 2, &e), GROK_OK);
    assert_int_equal(c.task.layout, TASK_LAYOUT_A_OP_B_EQ);
    assert_int_equal(c.model.n_ctx, 4);
    assert_int_equal(c.model.d_vocab, 99);
    assert_int_equal(c.model.d_vocab_out, 97);
    const char *lay2[] = {"task.layout=\"a b\""};
    assert_int_equal(cfg_load(&c, NULL, lay2, 1, &e), GROK_OK);
    assert_int_equal(c.model.n_ctx, 2);
    assert_int_equal(c.model.d_vocab, 113);
    /* written and read back: the layout's spaces and the group's name survive */
    char *path = tu_path_in(dir, "kinds.cfg");
    assert_int_equal(cfg_load(&c, NULL, lay4, 2, &e), GROK_OK);
    c.task.group = group_id_parse("A5");
    c.task.n_bits = 7;
    assert_int_equal(cfg_write(&c, path, &e), GROK_OK);
    cfg_run back;
    assert_int_equal(cfg_load(&back, path, NULL, 0, &e), GROK_OK);
    assert_same_run(&c, &back);
    free(path);
    printf("# task kinds: bad kind, S7, D101, Q8, k > n, n = 65, a bad layout, mix1 at p = 100 "
           "and batches beyond each kind's training set rejected; dimensions of parity n = 64, "
           "D100, S6 and the layouts derived; a written layout and group read back\n");
}

static void test_file_syntax_and_io(void **state)
{
    const char *dir = *state;
    expect_error(dir, "s1.cfg", "seed = 1;\nmodel = { d_model = ; };\n", NULL, 0, GROK_EINVAL,
                 "s1.cfg:2: syntax error", (const char *)NULL);
    expect_error(dir, "s2.cfg", "seed = 1;\nseed = 2;\n", NULL, 0, GROK_EINVAL,
                 "s2.cfg:2: duplicate setting name", (const char *)NULL);
    expect_error(dir, "s3.cfg", "seed = 5000000000;\n", NULL, 0, GROK_EINVAL,
                 "s3.cfg:1: seed = 5000000000: integer does not fit in a 32-bit int",
                 "write 5000000000L", (const char *)NULL);
    expect_error(dir, "s4.cfg", "# 9999999999 in a comment is fine\ntrain = {\n"
                                "  epochs = 4294967396;\n};\n",
                 NULL, 0, GROK_EINVAL, "s4.cfg:3: train.epochs = 4294967396", (const char *)NULL);

    /* the L suffix is the way to write a 64-bit seed */
    char *p = write_file(dir, "s5.cfg", "seed = 5000000000L; # 7777777777 ignored\n"
                                        "plots = { formats = \"12345678901\"; };\n");
    cfg_run c;
    grok_err e = {{0}};
    int rc = cfg_load(&c, p, NULL, 0, &e);
    printf("# s5.cfg -> %d: %s\n", rc, e.msg);
    assert_int_equal(rc, GROK_EINVAL); /* the string is scanned as a string, not a number */
    tu_assert_contains(e.msg, "unknown format '12345678901'");
    free(p);
    p = write_file(dir, "s6.cfg", "seed = 5000000000L;\n");
    assert_int_equal(cfg_load(&c, p, NULL, 0, &e), GROK_OK);
    assert_true(c.seed == 5000000000ull);
    free(p);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope.cfg", dir);
    expect_error(NULL, missing, NULL, NULL, 0, GROK_EIO, "cannot read config '", "nope.cfg': ",
                 "No such file or directory", (const char *)NULL);
    expect_error(NULL, dir, NULL, NULL, 0, GROK_EIO, "cannot read config '", "Is a directory",
                 (const char *)NULL);
}

/* ---- errors in --set ------------------------------------------------------------ */

static void test_set_errors(void **state)
{
    const char *dir = *state;
    struct {
        const char *set;
        const char *needle1, *needle2;
    } cases[] = {
        {"optim.lrr=1", "--set: optim.lrr = 1: unknown key", "did you mean 'optim.lr'"},
        {"dmodel=7", "--set: dmodel = 7: unknown key; did you mean 'model.d_model'?",
         "valid top-level keys"},
        {"optim.init_scal=2", "did you mean 'model.init_scale'?", NULL},
        {"model.d_model=abc", "--set: model.d_model = abc:", "expected an integer in 1..4096"},
        {"model.d_model=1.5", "--set: model.d_model = 1.5: expected an integer", "1..4096"},
        {"model.d_model=5000000000", "--set: model.d_model = 5000000000: must be in 1..4096",
         NULL},
        {"model.d_model=99999999999999999999", "--set: model.d_model = 99999999999999999999",
         "out of range"},
        {"seed=-1", "--set: seed = -1: must be in 0..", NULL},
        {"noequals", "--set: 'noequals': expected key=value", NULL},
        {"model=3", "--set: model = 3: a group, not a key", "valid keys in model"},
        {"optim.lr=", "--set: optim.lr = : missing value", "> 0"},
        {"optim.lr=-0.001", "--set: optim.lr = -0.001: must be > 0", NULL},
        {"model.d_model=1; seed = 3", "--set: model.d_model = 1; seed = 3", "not a valid value"},
        {"task.op=addd", "--set: task.op = 'addd': unknown operation", "valid: add, sub"},
        {"task.op=\"addd", "--set: task.op = \"addd:", "not a valid value"},
        {"model.layernorm=1", "--set: model.layernorm = 1: expected true or false", NULL},
        {"optim.betas=[0.9,1.5]", "--set: optim.betas = [0.9, 1.5]: element 2", NULL},
        {"optim.betas=0.9", "--set: optim.betas = 0.9: expected two numbers", NULL},
        {"plots.formats=gif", "--set: plots.formats = 'gif': unknown format 'gif'", NULL},
        {"train.batch=4000", "--set: train.batch = 4000: more than the 3830", NULL},
        {"optim.eps=[1e-8]", "--set: optim.eps = [1e-08]: expected a number > 0", NULL},
        {"train.epochs=[5000000000]", "--set: train.epochs = 5000000000", "32-bit int"},
        {"seed=0xFFFFFFFF", "--set: seed = 0xFFFFFFFF: integer does not fit", "0xFFFFFFFFL"},
    };
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        const char *sets[] = {cases[i].set};
        if (cases[i].needle2)
            expect_error(dir, NULL, NULL, sets, 1, GROK_EINVAL, cases[i].needle1,
                         cases[i].needle2, (const char *)NULL);
        else
            expect_error(dir, NULL, NULL, sets, 1, GROK_EINVAL, cases[i].needle1,
                         (const char *)NULL);
    }
    /* cfg_set alone leaves c untouched on error */
    cfg_run c, before;
    cfg_defaults(&c);
    memcpy(&before, &c, sizeof c);
    grok_err e = {{0}};
    assert_int_equal(cfg_set(&c, "optim.betas=[0.5, 2]", &e), GROK_EINVAL);
    assert_int_equal(memcmp(&c, &before, sizeof c), 0);
    printf("# %d bad --set values rejected with key and value named\n", n);
}

static void test_check_struct(void **state)
{
    (void)state;
    cfg_run c;
    grok_err e = {{0}};
    cfg_defaults(&c);
    c.optim.lr = -1;
    assert_int_equal(cfg_check(&c, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "<config>: optim.lr = -1.0: must be > 0");
    cfg_defaults(&c);
    c.model.act = (tfm_act)7;
    assert_int_equal(cfg_check(&c, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "model.act = '?': not a valid value; valid: relu, gelu");
    cfg_defaults(&c);
    memset(c.plots.formats, 'x', sizeof c.plots.formats);
    assert_int_equal(cfg_check(&c, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "plots.formats");
    cfg_defaults(&c);
    c.task.op = TASK_OP_DIV;
    c.task.p = 4;
    assert_int_equal(cfg_check(&c, &e), GROK_EINVAL);
    printf("# %s\n", e.msg);
    tu_assert_contains(e.msg, "<config>: task.p = 4: not prime");
    tu_assert_contains(e.msg, "3 or 5");
}

/* The resumable keys are the table's flag: exactly the keys that do not
 * change the trajectory; resetting them is setting each by hand to its
 * default; their "key=value" lines read back through cfg_set to the same
 * struct; the message list abbreviates the groups whose keys all are (checkpoint.*,
 * measures.*). */
static void test_resumable_keys(void **state)
{
    (void)state;
    static const char *const yes[] = {"train.epochs",          "train.stop_test_acc",
                                      "train.eval_every",      "checkpoint.every",
                                      "checkpoint.every_early", "checkpoint.early_until",
                                      "measures.every",        "plots.formats",
                                      "measures.key_freq_rule", "measures.key_freq_share",
                                      "plots.width",           "plots.font_size",
                                      "plots.colours",         "plots.epoch_axis",
                                      "plots.to",              "plots.marks"};
    static const char *const no[] = {"seed",        "task.p",       "train.batch", "optim.lr",
                                     "init.from",   "train.loss",   "checkpoint",  "train",
                                     "train.epoch", "nonexistent", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(cfg_key_resumable(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(cfg_key_resumable(no[i]));

    cfg_run c, d, hand, reset;
    grok_err e = {{0}};
    const char *sets[] = {"train.epochs=123",       "train.stop_test_acc=0.5",
                          "train.eval_every=7",     "checkpoint.every=9",
                          "checkpoint.every_early=3", "checkpoint.early_until=20",
                          "measures.every=11",      "plots.formats=\"pdf,svg\"",
                          "measures.key_freq_rule=\"cluster\"", "measures.key_freq_share=0.1",
                          "plots.width=\"8.6cm\"",  "plots.colours=\"grey\"",
                          "task.p=97",              "optim.lr=0.003"};
    assert_int_equal(cfg_load(&c, NULL, sets, 14, &e), GROK_OK);
    cfg_defaults(&d);
    hand = c;
    hand.train.epochs = d.train.epochs;
    hand.train.stop_test_acc = d.train.stop_test_acc;
    hand.train.eval_every = d.train.eval_every;
    hand.checkpoint = d.checkpoint;
    hand.measures = d.measures;
    hand.plots = d.plots;
    reset = c;
    cfg_reset_resumable(&reset);
    assert_memory_equal(&reset, &hand, sizeof hand);
    assert_int_equal(reset.task.p, 97);

    /* c's resumable values, set on the defaults, give c but for task.p and optim.lr */
    sbuf b;
    sbuf_init(&b);
    assert_int_equal(cfg_format_resumable_sets(&c, &b), GROK_OK);
    cfg_run back = d;
    int n = 0;
    for (char *line = b.data, *nl; line && *line; line = nl + 1, n++) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_int_equal(cfg_set(&back, line, &e), GROK_OK);
    }
    assert_int_equal(n, 21); /* 10 keys, and the 11 of the plots group */
    back.task.p = c.task.p;
    back.optim.lr = c.optim.lr;
    cfg_fill_derived(&back);
    assert_memory_equal(&back, &c, sizeof c);
    sbuf_free(&b);

    sbuf_init(&b);
    cfg_list_resumable(&b);
    assert_string_equal(b.data, "train.epochs, train.eval_every, train.stop_test_acc, "
                                "checkpoint.*, measures.*, plots.*");
    sbuf_free(&b);
}

static void test_list_keys(void **state)
{
    (void)state;
    sbuf out;
    sbuf_init(&out);
    cfg_list_keys(&out);
    assert_false(out.oom);
    int lines = 0;
    for (const char *s = out.data; *s; s++)
        lines += *s == '\n';
    const char *want[] = {"key", "type", "default", "valid", "description",
                          "seed", "task.kind", "task.op", "task.p", "task.layout",
                          "task.frac_train", "task.group", "task.group_op", "task.n", "task.k",
                          "task.n_train", "task.n_test", "model.n_layers",
                          "model.d_model", "model.n_heads", "model.d_head", "model.d_mlp",
                          "model.act", "model.layernorm", "model.normed_residual", "model.attn_bias",
                          "model.init_scale", "model.init_scheme",
                          "optim.kind", "optim.lr", "optim.betas", "optim.eps",
                          "optim.weight_decay", "optim.momentum", "optim.warmup", "train.epochs",
                          "train.batch", "train.eval_every", "train.stop_test_acc",
                          "checkpoint.every", "checkpoint.every_early", "checkpoint.early_until",
                          "measures.every", "plots.formats", "model.family", "model.d_embed",
                          "model.combine", "model.d_hidden", "model.bias", "optim.decay_to", "train.loss",
                          "train.loss_dtype", "train.weight_norm", "filters.ema",
                          "filters.ema_alpha", "filters.ema_lambda", "filters.ma",
                          "filters.ma_window", "filters.ma_lambda", "filters.ortho",
                          "filters.clip_norm", "init.from", "init.optim", "init.split", "plots.width",
                          "plots.height", "plots.font", "plots.font_size", "plots.line_width",
                          "plots.colours", "plots.epoch_axis", "plots.from", "plots.to",
                          "plots.phases", "plots.marks", "1..4096",
                          "relu, gelu, tanh, square",
                          "[0.9, 0.98]", "\"adamw\""};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        tu_assert_contains(out.data, want[i]);
    printf("# cfg_list_keys: %d lines (header + 74 keys)\n", lines);
    assert_int_equal(lines, 1 + 74);
    sbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_equal_shipped_file),
        cmocka_unit_test(test_shipped_examples_load),
        cmocka_unit_test(test_shipped_kinds),
        cmocka_unit_test(test_shipped_zhong),
        cmocka_unit_test(test_every_shipped_config_loads),
        cmocka_unit_test_setup_teardown(test_round_trip_exact, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test_setup_teardown(test_include_relative_to_file, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_include_bad_targets, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_unknown_keys, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_wrong_types, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_out_of_range, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_enums, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_cross_field, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_plots_style, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_task_kinds, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_syntax_and_io, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_set_errors, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_check_struct),
        cmocka_unit_test(test_list_keys),
        cmocka_unit_test(test_resumable_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
