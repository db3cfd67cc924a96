/* cfg.c: the config key table and everything that walks it (cfg.h).
 *
 * Owns cfg_keys[], the one list of config keys: name, type, where the value
 * lives in cfg_run, default, valid range and a one-line description.
 * Reading a file, applying --set, checking ranges, writing the resolved
 * config and `grok help config` all walk this table; nothing else names a
 * key.  Cross-field rules (div needs a prime p, batch <= training examples)
 * are in cfg_cross_check.  Does not own what the values mean at run time.
 *
 * libconfig 1.5 does the lexing and parsing, with three workarounds:
 * - its scanner turns an integer literal beyond 32 bits into a wrapped int
 *   (5000000000 reads as 705032704) unless it carries the L suffix, so
 *   cfg_scan_ints rejects such literals in the text before libconfig sees it;
 * - its writer keeps only 15 significant digits, so cfg_format writes every
 *   float itself with the fewest digits (at most 17) that read back exactly;
 * - @include is relative to the process's directory, so the include
 *   directory is set to the config file's own directory. */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* the key table */

typedef enum {
    CFG_U64,     /* uint64_t, written as an integer (L suffix beyond 32 bits) */
    CFG_INT,     /* int */
    CFG_LONG,    /* long */
    CFG_DOUBLE,  /* double; integers accepted */
    CFG_BOOL,    /* int 0/1, libconfig true/false */
    CFG_ENUM,    /* an enum stored as int, written as its name */
    CFG_PAIR,    /* two doubles at off and off2, written as [a, b] */
    CFG_STRING   /* char[smax], checked by the key's own function */
} cfg_type;

/* Bounds of a CFG_DOUBLE (and each element of a CFG_PAIR). */
#define CFG_LO_OPEN 1 /* value > lo rather than >= lo */
#define CFG_HI_OPEN 2 /* value < hi rather than <= hi */

typedef struct {
    const char *noun;             /* "operation": for "unknown operation" */
    int count;                    /* valid values are 0..count-1 */
    const char *(*name)(int);     /* value -> name */
    int (*parse)(const char *);   /* name -> value, -1 when unknown */
    /* NULL, or what is wrong with a name parse refused ("too large"), into buf */
    const char *(*problem)(const char *name, char *buf, size_t n);
} cfg_enum;

typedef struct {
    const char *name;       /* full dotted name, "model.d_model" */
    cfg_type type;
    size_t off, off2;       /* offsets in cfg_run (off2: the pair's second value) */
    long long imin, imax;   /* integer bounds, inclusive */
    double dmin, dmax;      /* float bounds; -INFINITY / INFINITY = none */
    int open;               /* CFG_LO_OPEN | CFG_HI_OPEN */
    long long idef;         /* default of an integer, bool or enum key */
    double ddef, ddef2;     /* default of a float or pair key */
    const char *sdef;       /* default of a string key */
    const cfg_enum *en;     /* CFG_ENUM only */
    size_t smax;            /* CFG_STRING: the buffer's size */
    /* CFG_STRING: 1 when s is valid, else 0 with the problem written into what */
    int (*scheck)(const char *s, char *what, size_t n);
    const char *range;      /* valid values, when the bounds do not say it all */
    const char *doc;        /* one line: what the key is */
} cfg_key;

static const char *cfg_task_kind_name(int v) { return task_kind_name((task_kind)v); }
static const char *cfg_op_name(int v) { return task_op_name((task_op)v); }
static const char *cfg_layout_name(int v) { return task_layout_name((task_layout)v); }
static const char *cfg_group_op_name(int v) { return task_group_op_name((task_group_op)v); }
static const char *cfg_act_name(int v) { return mlp_act_name((mlp_act)v); }
static const char *cfg_combine_name(int v) { return mlp_combine_name((mlp_combine)v); }
static const char *cfg_kind_name(int v) { return optim_kind_name((optim_kind)v); }
static const char *cfg_family_name(int v) { return model_family_name((model_family)v); }
static const char *cfg_loss_name(int v) { return loss_kind_name((loss_kind)v); }
static const char *cfg_decay_name(int v) { return optim_decay_name((optim_decay)v); }
/* train.loss_dtype: the precision of softmax cross-entropy (loss_config.f32) */
static const char *const cfg_dtype_names[] = {"float64", "float32"};
static const char *cfg_dtype_name(int v) { return v == 0 || v == 1 ? cfg_dtype_names[v] : "?"; }
static int cfg_dtype_parse(const char *name)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(name, cfg_dtype_names[i]) == 0)
            return i;
    return -1;
}

static const cfg_enum cfg_enum_task_kind = {"task kind", TASK_KIND_COUNT, cfg_task_kind_name,
                                            task_kind_parse, NULL};
static const cfg_enum cfg_enum_op = {"operation", TASK_OP_COUNT, cfg_op_name, task_op_parse, NULL};
static const cfg_enum cfg_enum_layout = {"layout", TASK_LAYOUT_COUNT, cfg_layout_name,
                                         task_layout_parse, NULL};
static const cfg_enum cfg_enum_group = {"group", GROUP_ID_COUNT, group_id_name, group_id_parse,
                                        group_id_problem};
static const cfg_enum cfg_enum_group_op = {"group operation", TASK_GROUP_OP_COUNT,
                                           cfg_group_op_name, task_group_op_parse, NULL};
/* model.act: the MLP family's activations, a superset of the transformer's
 * (relu and gelu have the same values in both enums) */
static const cfg_enum cfg_enum_act = {"activation", MLP_ACT_COUNT, cfg_act_name, mlp_act_parse,
                                      NULL};
static const cfg_enum cfg_enum_combine = {"combination", MLP_COMBINE_COUNT, cfg_combine_name,
                                          mlp_combine_parse, NULL};
_Static_assert((int)MLP_ACT_RELU == (int)TFM_ACT_RELU && (int)MLP_ACT_GELU == (int)TFM_ACT_GELU,
               "model.act is read as an mlp_act and used as a tfm_act");
static const cfg_enum cfg_enum_kind = {"optimizer", OPTIM_KIND_COUNT, cfg_kind_name,
                                       optim_kind_parse, NULL};
static const cfg_enum cfg_enum_family = {"model family", MODEL_FAMILY_COUNT, cfg_family_name,
                                         model_family_parse, NULL};
static const cfg_enum cfg_enum_loss = {"loss", LOSS_KIND_COUNT, cfg_loss_name, loss_kind_parse,
                                       NULL};
static const cfg_enum cfg_enum_dtype = {"loss precision", 2, cfg_dtype_name, cfg_dtype_parse,
                                        NULL};
static const cfg_enum cfg_enum_decay = {"decay target", OPTIM_DECAY_COUNT, cfg_decay_name,
                                        optim_decay_parse, NULL};

/* The enums are read and written through an int. */
_Static_assert(sizeof(task_kind) == sizeof(int), "task_kind is not int-sized");
_Static_assert(sizeof(task_op) == sizeof(int), "task_op is not int-sized");
_Static_assert(sizeof(task_layout) == sizeof(int), "task_layout is not int-sized");
_Static_assert(sizeof(task_group_op) == sizeof(int), "task_group_op is not int-sized");
_Static_assert(sizeof(tfm_act) == sizeof(int), "tfm_act is not int-sized");
_Static_assert(sizeof(optim_kind) == sizeof(int), "optim_kind is not int-sized");
_Static_assert(sizeof(model_family) == sizeof(int), "model_family is not int-sized");
_Static_assert(sizeof(loss_kind) == sizeof(int), "loss_kind is not int-sized");
_Static_assert(sizeof(optim_decay) == sizeof(int), "optim_decay is not int-sized");

#define CFG_OFF(field) offsetof(cfg_run, field)
#define CFG_I(t, nm, field, lo, hi, def, rng, text)                                               \
    {.name = nm, .type = t, .off = CFG_OFF(field), .imin = lo, .imax = hi, .idef = def,          \
     .range = rng, .doc = text}
#define CFG_D(nm, field, lo, hi, op, def, rng, text)                                              \
    {.name = nm, .type = CFG_DOUBLE, .off = CFG_OFF(field), .dmin = lo, .dmax = hi, .open = op,  \
     .ddef = def, .range = rng, .doc = text}
#define CFG_E(nm, field, e, def, text)                                                            \
    {.name = nm, .type = CFG_ENUM, .off = CFG_OFF(field), .imin = 0, .imax = 0, .idef = def,     \
     .en = &e, .doc = text}
/* An enum whose valid names are summarised by rng rather than listed. */
#define CFG_ER(nm, field, e, def, rng, text)                                                      \
    {.name = nm, .type = CFG_ENUM, .off = CFG_OFF(field), .imin = 0, .imax = 0, .idef = def,     \
     .en = &e, .range = rng, .doc = text}
#define CFG_B(nm, field, def, text)                                                               \
    {.name = nm, .type = CFG_BOOL, .off = CFG_OFF(field), .imin = 0, .imax = 1, .idef = def,     \
     .doc = text}

#define CFG_EPOCHS_MAX 100000000LL /* 10^8 */

static int cfg_formats_ok(const char *s, char *what, size_t n);
static int cfg_init_from_ok(const char *s, char *what, size_t n);

/* Defaults: the mainline run of Nanda et al. 2023 (p = 113 addition, 30% of
 * pairs for training, one layer, d_model 128, 4 heads of 32, d_mlp 512, ReLU,
 * no LayerNorm, full-batch AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1,
 * 10 warmup steps, 40000 epochs). */
static const cfg_key cfg_keys[] = {
    CFG_I(CFG_U64, "seed", seed, 0, LLONG_MAX, 0, "0..2^63-1",
          "seed of every random stream (data split, initialisation)"),

    CFG_E("task.kind", task.kind, cfg_enum_task_kind, TASK_KIND_MODULAR,
          "what an example is; the keys below say which kind they serve"),
    CFG_E("task.op", task.op, cfg_enum_op, TASK_OP_ADD, "modular: label = op(a, b) mod p"),
    CFG_I(CFG_INT, "task.p", task.p, 2, 1000, 113, "2..1000, prime for div and mix1",
          "modular: modulus p; operand tokens 0..p-1"),
    CFG_ER("task.layout", task.layout, cfg_enum_layout, TASK_LAYOUT_AB_EQ,
           "\"a b =\", \"a b\", \"a op b =\"",
           "modular: tokens [a, b, '='=p], [a, b] or [a, op=p, b, '='=p+1]"),
    CFG_D("task.frac_train", task.frac_train, 0.0, 1.0, CFG_LO_OPEN | CFG_HI_OPEN, 0.3, NULL,
          "modular, group: share of all pairs in the training set"),
    CFG_ER("task.group", task.group, cfg_enum_group, GROUP_ID_S5, "S3..S6, A3..A6, D3..D100",
           "group: S_n, A_n or D_n; elements numbered in lexicographic order"),
    CFG_E("task.group_op", task.group_op, cfg_enum_group_op, TASK_GROUP_OP_XY,
          "group: label x*y, x*y*x^-1 (xyxinv) or x*y*x"),
    CFG_I(CFG_INT, "task.n", task.n_bits, 1, TASK_PARITY_N_MAX, 20, NULL,
          "parity: input bits (positions)"),
    CFG_I(CFG_INT, "task.k", task.k_bits, 1, TASK_PARITY_N_MAX, 3, "1..task.n",
          "parity: secret bits whose XOR is the label"),
    CFG_I(CFG_INT, "task.n_train", task.n_train, 1, TASK_SAMPLES_MAX, 1000, NULL,
          "parity: training samples, drawn uniformly"),
    CFG_I(CFG_INT, "task.n_test", task.n_test, 1, TASK_SAMPLES_MAX, 1000, NULL,
          "parity: test samples, drawn uniformly (may repeat training inputs)"),

    CFG_E("model.family", family, cfg_enum_family, MODEL_TRANSFORMER,
          "model family: the transformer, or an MLP on the token embeddings"),
    CFG_I(CFG_INT, "model.n_layers", model.n_layers, 1, TFM_MAX_LAYERS, 1, NULL,
          "transformer blocks"),
    CFG_I(CFG_INT, "model.d_model", model.d_model, 1, 4096, 128, NULL, "residual stream width"),
    CFG_I(CFG_INT, "model.n_heads", model.n_heads, 1, 256, 4, NULL, "attention heads per block"),
    CFG_I(CFG_INT, "model.d_head", model.d_head, 1, 4096, 32, NULL,
          "width of one head (n_heads*d_head need not be d_model)"),
    CFG_I(CFG_INT, "model.d_mlp", model.d_mlp, 1, 16384, 512, NULL, "MLP hidden width"),
    CFG_E("model.act", model.act, cfg_enum_act, TFM_ACT_RELU,
          "MLP activation (gelu: exact, erf; tanh: mlp family only)"),
    CFG_B("model.layernorm", model.layernorm, 0, "pre-LN blocks and a final LayerNorm"),
    CFG_B("model.attn_bias", model.attn_bias, 0, "attention biases b_Q, b_K, b_V, b_O"),
    CFG_D("model.init_scale", model.init_scale, 0.0, 1000.0, CFG_LO_OPEN, 1.0, NULL,
          "multiplies every initial Gaussian"),
    CFG_I(CFG_INT, "model.d_embed", mlp.d_embed, 1, 16384, 128, NULL,
          "mlp family: token embedding width"),
    CFG_E("model.combine", mlp.combine, cfg_enum_combine, MLP_COMBINE_CONCAT,
          "mlp family: the input embeddings concatenated or summed"),
    CFG_I(CFG_INT, "model.d_hidden", mlp.d_hidden, 1, 16384, 512, NULL,
          "mlp family: width of each hidden layer (model.n_layers of them)"),

    CFG_E("optim.kind", optim.kind, cfg_enum_kind, OPTIM_ADAMW, "optimizer"),
    CFG_D("optim.lr", optim.lr, 0.0, INFINITY, CFG_LO_OPEN, 1e-3, NULL,
          "learning rate after warmup"),
    {.name = "optim.betas", .type = CFG_PAIR, .off = CFG_OFF(optim.beta1),
     .off2 = CFG_OFF(optim.beta2), .dmin = 0.0, .dmax = 1.0, .open = CFG_HI_OPEN, .ddef = 0.9,
     .ddef2 = 0.98, .range = "[beta1, beta2], each in [0, 1)",
     .doc = "Adam(W) moment decay rates"},
    CFG_D("optim.eps", optim.eps, 0.0, INFINITY, CFG_LO_OPEN, 1e-8, NULL,
          "Adam(W) epsilon, added after the square root"),
    CFG_D("optim.weight_decay", optim.weight_decay, 0.0, INFINITY, 0, 1.0, NULL,
          "adamw: decoupled decay; adam, sgd: L2 term"),
    CFG_D("optim.momentum", optim.momentum, 0.0, 1.0, CFG_HI_OPEN, 0.9, NULL,
          "SGD momentum (sgd only)"),
    CFG_I(CFG_LONG, "optim.warmup", optim.warmup, 0, CFG_EPOCHS_MAX, 10, NULL,
          "linear warmup steps, lr * min(step/warmup, 1); 0 = none"),
    CFG_E("optim.decay_to", optim.decay_to, cfg_enum_decay, OPTIM_DECAY_ZERO,
          "what weight decay pulls toward: zero, or the initial weights (Power et al.'s to_init)"),

    CFG_I(CFG_LONG, "train.epochs", train.epochs, 1, CFG_EPOCHS_MAX, 40000, NULL,
          "training epochs (passes over the training set)"),
    CFG_I(CFG_LONG, "train.batch", train.batch, 0, 1000000, 0, "0 (full batch) or 1..n_train",
          "examples per step; 0 = the whole training set"),
    CFG_I(CFG_LONG, "train.eval_every", train.eval_every, 1, CFG_EPOCHS_MAX, 10, NULL,
          "epochs between evaluations of train and test"),
    CFG_D("train.stop_test_acc", train.stop_test_acc, 0.0, 1.0, 0, 0.0, "0 (never) or (0, 1]",
          "stop at the first evaluation with test accuracy >= this"),
    CFG_E("train.loss", loss.kind, cfg_enum_loss, LOSS_SOFTMAX_CE,
          "loss: softmax or StableMax cross-entropy, or squared error to one-hot targets"),
    CFG_E("train.loss_dtype", loss.f32, cfg_enum_dtype, 0,
          "precision of softmax cross-entropy (float32 shows Softmax Collapse)"),
    CFG_D("train.weight_norm", train.weight_norm, 0.0, INFINITY, 0, 0.0, "0 (off) or > 0",
          "after every update rescale all weights to this total L2 norm (Omnigrok)"),

    CFG_B("filters.ema", filters.ema.on, 0,
          "Grokfast EMA: g += lambda * EMA(g) (applied first)"),
    CFG_D("filters.ema_alpha", filters.ema.alpha, 0.0, 1.0, CFG_HI_OPEN, 0.98, NULL,
          "Grokfast EMA decay"),
    CFG_D("filters.ema_lambda", filters.ema.lambda, -INFINITY, INFINITY, 0, 2.0, "any number",
          "Grokfast EMA amplification"),
    CFG_B("filters.ma", filters.ma.on, 0,
          "Grokfast MA: g += lambda * mean of the last window gradients (applied second)"),
    CFG_I(CFG_INT, "filters.ma_window", filters.ma.window, 1, 100000, 100, NULL,
          "Grokfast MA window (updates)"),
    CFG_D("filters.ma_lambda", filters.ma.lambda, -INFINITY, INFINITY, 0, 5.0, "any number",
          "Grokfast MA amplification"),
    CFG_B("filters.ortho", filters.ortho, 0,
          "orthogonal gradient (Prieto et al.): per tensor, drop the part along the weights"),
    CFG_D("filters.clip_norm", filters.clip_norm, 0.0, INFINITY, 0, 0.0, "0 (off) or > 0",
          "clip the gradient's global L2 norm to this (applied last)"),

    CFG_I(CFG_LONG, "checkpoint.every", checkpoint.every, 1, CFG_EPOCHS_MAX, 100, NULL,
          "epochs between weight checkpoints after early_until"),
    CFG_I(CFG_LONG, "checkpoint.every_early", checkpoint.every_early, 1, CFG_EPOCHS_MAX, 10, NULL,
          "epochs between checkpoints before early_until"),
    CFG_I(CFG_LONG, "checkpoint.early_until", checkpoint.early_until, 0, CFG_EPOCHS_MAX, 1000,
          NULL, "epoch where the dense early checkpoints end; 0 = none"),

    CFG_I(CFG_LONG, "measures.every", measures.every, 1, CFG_EPOCHS_MAX, 1000, NULL,
          "epochs between live measure passes (at the end every checkpoint is measured)"),

    {.name = "init.from", .type = CFG_STRING, .off = CFG_OFF(init.from), .sdef = "",
     .smax = CFG_PATH_MAX, .scheck = cfg_init_from_ok,
     .range = "\"\" (a fresh initialisation) or \"RUN\" or \"RUN@EPOCH\"",
     .doc = "start from another run's checkpoint (its last one, or EPOCH's)"},
    CFG_B("init.optim", init.optim, 0,
          "with init.from: also take the optimizer state (only at the run's last commit)"),

    {.name = "plots.formats", .type = CFG_STRING, .off = CFG_OFF(plots.formats), .sdef = "png",
     .smax = CFG_FORMATS_MAX, .scheck = cfg_formats_ok,
     .range = "comma list of png, pdf, svg, tex; \"\" = none",
     .doc = "figure formats drawn at the end of a run"},
};

#define CFG_N_KEYS ((int)(sizeof cfg_keys / sizeof cfg_keys[0]))

static const char *const cfg_plot_formats[] = {"png", "pdf", "svg", "tex"};
#define CFG_N_PLOT_FORMATS ((int)(sizeof cfg_plot_formats / sizeof cfg_plot_formats[0]))

/* The part of a dotted name after the group ("d_model"), or the whole name. */
static const char *cfg_leaf(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? dot + 1 : name;
}

/* Length of the group part of a dotted name (0 for a top-level key). */
static size_t cfg_group_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : 0;
}

static int cfg_find_key(const char *name)
{
    for (int i = 0; i < CFG_N_KEYS; i++)
        if (strcmp(cfg_keys[i].name, name) == 0)
            return i;
    return -1;
}

/* 1 when name is the group of some key ("model"). */
static int cfg_is_group(const char *name, size_t n)
{
    for (int i = 0; i < CFG_N_KEYS; i++) {
        size_t g = cfg_group_len(cfg_keys[i].name);
        if (g > 0 && g == n && strncmp(cfg_keys[i].name, name, n) == 0)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* formatting values */

/* The shortest %.Ng (N <= 17) that strtod reads back to the same bits, made
 * to look like a float to libconfig ("1" -> "1.0"). */
static void cfg_fmt_double(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    if (isfinite(v) && !strpbrk(buf, ".eE")) {
        size_t len = strlen(buf);
        if (len + 2 < n)
            memcpy(buf + len, ".0", 3);
    }
}

/* A libconfig integer literal: L suffix when it does not fit in 32 bits. */
static void cfg_fmt_int(char *buf, size_t n, long long v, int is_unsigned)
{
    if (is_unsigned)
        snprintf(buf, n, "%llu%s", (unsigned long long)v,
                 (unsigned long long)v > INT_MAX ? "L" : "");
    else
        snprintf(buf, n, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : "");
}

/* The libconfig text of a string: quotes, with '"' and '\' escaped. */
static void cfg_quote(sbuf *out, const char *s)
{
    sbuf_puts(out, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sbuf_append(out, "\\", 1);
        sbuf_append(out, s, 1);
    }
    sbuf_puts(out, "\"");
}

static int cfg_get_int(const cfg_run *c, size_t off)
{
    int v;
    memcpy(&v, (const char *)c + off, sizeof v);
    return v;
}

static void cfg_put_int(cfg_run *c, size_t off, int v) { memcpy((char *)c + off, &v, sizeof v); }

static double cfg_get_double(const cfg_run *c, size_t off)
{
    double v;
    memcpy(&v, (const char *)c + off, sizeof v);
    return v;
}

static void cfg_put_double(cfg_run *c, size_t off, double v)
{
    memcpy((char *)c + off, &v, sizeof v);
}

static long long cfg_get_integer(const cfg_run *c, const cfg_key *k)
{
    const char *p = (const char *)c + k->off;
    if (k->type == CFG_U64) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (long long)v;
    }
    if (k->type == CFG_LONG) {
        long v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    return cfg_get_int(c, k->off);
}

static void cfg_put_integer(cfg_run *c, const cfg_key *k, long long v)
{
    char *p = (char *)c + k->off;
    if (k->type == CFG_U64) {
        uint64_t u = (uint64_t)v;
        memcpy(p, &u, sizeof u);
    } else if (k->type == CFG_LONG) {
        long l = (long)v;
        memcpy(p, &l, sizeof l);
    } else {
        cfg_put_int(c, k->off, (int)v);
    }
}

/* The value of key k in c: as libconfig text when config_syntax ("128",
 * "0.3", "\"add\"", "[0.9, 0.98]"), else with strings in single quotes,
 * as messages show them. */
static void cfg_fmt_value(sbuf *out, const cfg_run *c, const cfg_key *k, int config_syntax)
{
    char buf[64], buf2[64];
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        cfg_fmt_int(buf, sizeof buf, cfg_get_integer(c, k), k->type == CFG_U64);
        sbuf_puts(out, buf);
        break;
    case CFG_DOUBLE:
        cfg_fmt_double(buf, sizeof buf, cfg_get_double(c, k->off));
        sbuf_puts(out, buf);
        break;
    case CFG_BOOL:
        sbuf_puts(out, cfg_get_int(c, k->off) ? "true" : "false");
        break;
    case CFG_ENUM: {
        int v = cfg_get_int(c, k->off);
        const char *name = (v >= 0 && v < k->en->count) ? k->en->name(v) : "?";
        if (config_syntax)
            cfg_quote(out, name);
        else
            sbuf_printf(out, "'%s'", name);
        break;
    }
    case CFG_PAIR:
        cfg_fmt_double(buf, sizeof buf, cfg_get_double(c, k->off));
        cfg_fmt_double(buf2, sizeof buf2, cfg_get_double(c, k->off2));
        sbuf_printf(out, "[%s, %s]", buf, buf2);
        break;
    case CFG_STRING: {
        const char *s = (const char *)c + k->off;
        size_t len = strnlen(s, k->smax - 1);
        if (config_syntax) {
            char *tmp = malloc(len + 1);
            if (!tmp) {
                sbuf_puts(out, "\"\"");
                break;
            }
            memcpy(tmp, s, len);
            tmp[len] = '\0';
            cfg_quote(out, tmp);
            free(tmp);
        } else {
            sbuf_printf(out, "'%.*s'", (int)len, s);
        }
        break;
    }
    }
}

/* A libconfig setting as it would read in a message: strings in single
 * quotes, groups abbreviated. */
static void cfg_fmt_setting(sbuf *out, const config_setting_t *s)
{
    char buf[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        sbuf_printf(out, "%d", config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        sbuf_printf(out, "%lldL", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT:
        cfg_fmt_double(buf, sizeof buf, config_setting_get_float(s));
        sbuf_puts(out, buf);
        break;
    case CONFIG_TYPE_BOOL:
        sbuf_puts(out, config_setting_get_bool(s) ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING:
        sbuf_printf(out, "'%s'", config_setting_get_string(s));
        break;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        int arr = config_setting_type(s) == CONFIG_TYPE_ARRAY;
        sbuf_puts(out, arr ? "[" : "(");
        int n = config_setting_length(s);
        for (int i = 0; i < n && out->len < 200; i++) {
            if (i)
                sbuf_puts(out, ", ");
            cfg_fmt_setting(out, config_setting_get_elem(s, (unsigned)i));
        }
        sbuf_puts(out, arr ? "]" : ")");
        break;
    }
    case CONFIG_TYPE_GROUP:
        sbuf_puts(out, "{ ... }");
        break;
    default:
        sbuf_puts(out, "?");
        break;
    }
}

/* The numeric bounds of k: "1..4096", "> 0", "(0, 1)", "[0, 1]". */
static void cfg_fmt_bounds(sbuf *out, const cfg_key *k)
{
    char lo[64], hi[64];
    if (k->type == CFG_DOUBLE || k->type == CFG_PAIR) {
        snprintf(lo, sizeof lo, "%g", k->dmin);
        snprintf(hi, sizeof hi, "%g", k->dmax);
        if (isinf(k->dmax))
            sbuf_printf(out, "%s %s", (k->open & CFG_LO_OPEN) ? ">" : ">=", lo);
        else
            sbuf_printf(out, "%s%s, %s%s", (k->open & CFG_LO_OPEN) ? "(" : "[", lo, hi,
                        (k->open & CFG_HI_OPEN) ? ")" : "]");
    } else {
        sbuf_printf(out, "%lld..%lld", k->imin, k->imax);
    }
}

/* "> 0" or "in 1..4096": the bounds as the end of a sentence. */
static void cfg_fmt_bounds_phrase(sbuf *out, const cfg_key *k)
{
    if ((k->type == CFG_DOUBLE || k->type == CFG_PAIR) && isinf(k->dmax)) {
        cfg_fmt_bounds(out, k);
    } else {
        sbuf_puts(out, "in ");
        cfg_fmt_bounds(out, k);
    }
}

/* The valid values of k, for messages, listings and comments. */
static void cfg_fmt_range(sbuf *out, const cfg_key *k)
{
    if (k->range) {
        sbuf_puts(out, k->range);
        return;
    }
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
    case CFG_DOUBLE:
    case CFG_PAIR:
        cfg_fmt_bounds(out, k);
        break;
    case CFG_BOOL:
        sbuf_puts(out, "true, false");
        break;
    case CFG_ENUM:
        for (int i = 0; i < k->en->count; i++)
            sbuf_printf(out, "%s%s", i ? ", " : "", k->en->name(i));
        break;
    case CFG_STRING:
        break;
    }
}

static const char *cfg_type_name(const cfg_key *k)
{
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        return "int";
    case CFG_DOUBLE:
        return "float";
    case CFG_BOOL:
        return "bool";
    case CFG_ENUM:
    case CFG_STRING:
        return "string";
    case CFG_PAIR:
        return "float[2]";
    }
    return "?";
}

/* ------------------------------------------------------------------------ */
/* where a value came from, and messages */

typedef struct {
    const char *file; /* config path, an included file, "--set", "<default>", "<config>" */
    int line;         /* 0 = none */
    int in_dir;       /* 1: file is relative to the include directory */
} cfg_origin;

/* The state of one cfg_load.  The parsed file stays alive until the end,
 * because the origins of its settings point at libconfig's file names. */
typedef struct {
    cfg_run run;
    cfg_origin org[CFG_N_KEYS];
    const char *inc_dir; /* the config's directory, or NULL */
    config_t cf;         /* the parsed file, when have_cf */
    int have_cf;
} cfg_loader;

static void cfg_fmt_where(char *buf, size_t n, const cfg_origin *o, const char *inc_dir)
{
    const char *file = o->file ? o->file : "<default>";
    const char *dir = (o->in_dir && inc_dir && file[0] != '/') ? inc_dir : "";
    size_t dn = strlen(dir);
    const char *sep = (dn > 0 && dir[dn - 1] != '/') ? "/" : "";
    if (o->line > 0)
        snprintf(buf, n, "%s%s%s:%d", dir, sep, file, o->line);
    else
        snprintf(buf, n, "%s%s%s", dir, sep, file);
}

/* "WHERE: key = value: <fmt>" into e; returns GROK_EINVAL. */
static int cfg_fail(grok_err *e, const cfg_origin *o, const char *inc_dir, const char *key,
                    const char *value, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static int cfg_fail(grok_err *e, const cfg_origin *o, const char *inc_dir, const char *key,
                    const char *value, const char *fmt, ...)
{
    char where[512], what[768];
    cfg_fmt_where(where, sizeof where, o, inc_dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return grok_fail(e, GROK_EINVAL, "%s: %s = %s: %s", where, key, value, what);
}

/* Levenshtein distance of two short strings (longer ones are cut at 63). */
static int cfg_edit_distance(const char *a, const char *b)
{
    int na = (int)strlen(a), nb = (int)strlen(b);
    if (na > 63)
        na = 63;
    if (nb > 63)
        nb = 63;
    int prev[64], cur[64];
    for (int j = 0; j <= nb; j++)
        prev[j] = j;
    for (int i = 1; i <= na; i++) {
        cur[0] = i;
        for (int j = 1; j <= nb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(nb + 1));
    }
    return prev[nb];
}

/* The known name nearest to the unknown dotted name, or NULL when nothing
 * is close.  A group value (want_group) is matched against the group names,
 * anything else against the keys, comparing whole names and, at a cost of
 * one, leaves across groups ("model.lr" -> "optim.lr", "lr" -> "optim.lr"). */
static const char *cfg_nearest(const char *unknown, int want_group, char *buf, size_t n)
{
    int best = INT_MAX;
    const char *leaf = cfg_leaf(unknown);
    buf[0] = '\0';
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const char *name = cfg_keys[i].name;
        size_t g = cfg_group_len(name);
        int d;
        if (want_group) {
            if (g == 0 || strchr(unknown, '.'))
                continue;
            char group[32];
            snprintf(group, sizeof group, "%.*s", (int)g, name);
            d = cfg_edit_distance(unknown, group);
            if (d < best) {
                best = d;
                snprintf(buf, n, "%s", group);
            }
            continue;
        }
        d = cfg_edit_distance(unknown, name);
        int dl = cfg_edit_distance(leaf, cfg_leaf(name)) + 1;
        if (dl < d)
            d = dl;
        if (d < best) {
            best = d;
            snprintf(buf, n, "%s", name);
        }
    }
    int len = (int)strlen(leaf);
    int limit = len / 3 > 2 ? len / 3 : 2;
    return best <= limit ? buf : NULL;
}

/* The valid names inside a group ("n_layers, d_model, ..."), or at the top
 * level (group == NULL: "seed, task, model, ..."). */
static void cfg_fmt_section(sbuf *out, const char *group, size_t glen)
{
    int first = 1;
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const char *name = cfg_keys[i].name;
        size_t g = cfg_group_len(name);
        if (group) {
            if (g != glen || strncmp(name, group, glen) != 0)
                continue;
            sbuf_printf(out, "%s%s", first ? "" : ", ", cfg_leaf(name));
            first = 0;
        } else if (g == 0) {
            sbuf_printf(out, "%s%s", first ? "" : ", ", name);
            first = 0;
        } else if (i == 0 || cfg_group_len(cfg_keys[i - 1].name) != g ||
                   strncmp(cfg_keys[i - 1].name, name, g) != 0) {
            sbuf_printf(out, "%s%.*s", first ? "" : ", ", (int)g, name);
            first = 0;
        }
    }
}

/* The unknown-key message: nearest valid name and the section's keys. */
static int cfg_fail_unknown(grok_err *e, const cfg_origin *o, const char *inc_dir,
                            const char *name, const char *value, int is_group)
{
    char near[64];
    sbuf valid;
    sbuf_init(&valid);
    size_t g = cfg_group_len(name);
    const char *dot = strchr(name, '.');
    int known_group = dot && cfg_is_group(name, g);
    if (known_group) {
        sbuf_printf(&valid, "valid keys in %.*s: ", (int)g, name);
        cfg_fmt_section(&valid, name, g);
    } else {
        sbuf_puts(&valid, "valid top-level keys: ");
        cfg_fmt_section(&valid, NULL, 0);
    }
    const char *best = cfg_nearest(name, is_group, near, sizeof near);
    int rc;
    if (best)
        rc = cfg_fail(e, o, inc_dir, name, value, "unknown key; did you mean '%s'? %s", best,
                      valid.data ? valid.data : "");
    else
        rc = cfg_fail(e, o, inc_dir, name, value, "unknown key; %s", valid.data ? valid.data : "");
    sbuf_free(&valid);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* checking one value */

/* "must be > 0" / "must be in 1..4096" for k's bounds. */
static void cfg_fmt_must(sbuf *out, const cfg_key *k)
{
    sbuf_puts(out, "must be ");
    cfg_fmt_bounds_phrase(out, k);
}

/* What a value of k must look like: "an integer in 1..4096", "a number > 0",
 * "true or false", "one of add, sub, ...". */
static void cfg_fmt_expected(sbuf *out, const cfg_key *k)
{
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        sbuf_puts(out, "an integer ");
        cfg_fmt_bounds_phrase(out, k);
        break;
    case CFG_DOUBLE:
        sbuf_puts(out, "a number ");
        cfg_fmt_bounds_phrase(out, k);
        break;
    case CFG_BOOL:
        sbuf_puts(out, "true or false");
        break;
    case CFG_ENUM:
        sbuf_puts(out, "one of ");
        cfg_fmt_range(out, k);
        break;
    case CFG_PAIR:
        sbuf_puts(out, "two numbers ");
        cfg_fmt_range(out, k);
        break;
    case CFG_STRING:
        sbuf_puts(out, "a string, ");
        cfg_fmt_range(out, k);
        break;
    }
}

static int cfg_double_ok(const cfg_key *k, double v)
{
    if (!isfinite(v))
        return 0;
    if ((k->open & CFG_LO_OPEN) ? !(v > k->dmin) : !(v >= k->dmin))
        return 0;
    if ((k->open & CFG_HI_OPEN) ? !(v < k->dmax) : !(v <= k->dmax))
        return 0;
    return 1;
}

/* Checks init.from: "", "RUN" or "RUN@EPOCH" with EPOCH a whole number. */
static int cfg_init_from_ok(const char *s, char *what, size_t n)
{
    const char *at = strrchr(s, '@');
    if (!at)
        return 1;
    if (at == s) {
        snprintf(what, n, "no run directory before '@'");
        return 0;
    }
    const char *d = at + 1;
    if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 9) {
        snprintf(what, n, "'%s' after '@' is not an epoch (a whole number)", d);
        return 0;
    }
    return 1;
}

/* Checks a comma list of figure formats; on error writes the problem into
 * what and returns 0. */
static int cfg_formats_ok(const char *s, char *what, size_t n)
{
    size_t len = strlen(s);
    if (len == 0)
        return 1;
    int seen[CFG_N_PLOT_FORMATS] = {0};
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t m = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (int i = 0; i < CFG_N_PLOT_FORMATS; i++)
            if (strlen(cfg_plot_formats[i]) == m && strncmp(p, cfg_plot_formats[i], m) == 0)
                found = i;
        if (m == 0) {
            snprintf(what, n, "empty entry in the list");
            return 0;
        }
        if (found < 0) {
            snprintf(what, n, "unknown format '%.*s'", (int)(m < 32 ? m : 32), p);
            return 0;
        }
        if (seen[found]++) {
            snprintf(what, n, "format '%s' listed twice", cfg_plot_formats[found]);
            return 0;
        }
        if (!end)
            return 1;
        p = end + 1;
    }
}

/* Checks the value of k stored in c against k's own range. */
static int cfg_check_key(const cfg_run *c, const cfg_key *k, const cfg_origin *o,
                         const char *inc_dir, grok_err *e)
{
    int ok = 1;
    char what[128] = "";
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG: {
        long long v = cfg_get_integer(c, k);
        if (k->type == CFG_U64 && v < 0)
            ok = 0;
        else
            ok = v >= k->imin && v <= k->imax;
        break;
    }
    case CFG_DOUBLE:
        ok = cfg_double_ok(k, cfg_get_double(c, k->off));
        break;
    case CFG_PAIR:
        ok = cfg_double_ok(k, cfg_get_double(c, k->off)) &&
             cfg_double_ok(k, cfg_get_double(c, k->off2));
        break;
    case CFG_BOOL:
    case CFG_ENUM: {
        int v = cfg_get_int(c, k->off);
        ok = v >= 0 && v < (k->type == CFG_BOOL ? 2 : k->en->count);
        break;
    }
    case CFG_STRING: {
        const char *s = (const char *)c + k->off;
        if (!memchr(s, '\0', k->smax)) {
            ok = 0;
            snprintf(what, sizeof what, "not NUL-terminated");
        } else {
            ok = k->scheck(s, what, sizeof what);
        }
        break;
    }
    }
    if (ok)
        return GROK_OK;
    sbuf val, must;
    sbuf_init(&val);
    sbuf_init(&must);
    if (k->type == CFG_STRING && strcmp(what, "not NUL-terminated") == 0)
        sbuf_puts(&val, "?");
    else
        cfg_fmt_value(&val, c, k, 0);
    if (k->type == CFG_STRING) {
        sbuf_printf(&must, "%s; valid: ", what);
        cfg_fmt_range(&must, k);
    } else if (k->type == CFG_ENUM || k->type == CFG_BOOL) {
        sbuf_puts(&must, "not a valid value; valid: ");
        cfg_fmt_range(&must, k);
    } else {
        cfg_fmt_must(&must, k);
    }
    int rc = cfg_fail(e, o, inc_dir, k->name, val.data ? val.data : "?", "%s",
                      must.data ? must.data : "");
    sbuf_free(&val);
    sbuf_free(&must);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* cross-field rules */

/* "task.p = 113, op 'add'": the task, for messages about its size. */
static void cfg_task_words(const task_config *t, char *buf, size_t n)
{
    if (t->kind == TASK_KIND_GROUP)
        snprintf(buf, n, "task.group = %s, group_op '%s'", group_id_name(t->group),
                 task_group_op_name(t->group_op));
    else if (t->kind == TASK_KIND_PARITY)
        snprintf(buf, n, "task.kind = 'parity', n_train = %d", t->n_train);
    else
        snprintf(buf, n, "task.p = %d, op '%s'", t->p, task_op_name(t->op));
}

static int cfg_cross_check(const cfg_run *c, const cfg_origin *org, const char *inc_dir,
                           grok_err *e)
{
    char val[64], words[96];
    const task_config *t = &c->task;
    int i_p = cfg_find_key("task.p"), i_frac = cfg_find_key("task.frac_train");
    int i_k = cfg_find_key("task.k");
    int i_batch = cfg_find_key("train.batch"), i_heads = cfg_find_key("model.n_heads");

    if (t->kind == TASK_KIND_MODULAR && task_op_needs_prime(t->op) && !task_is_prime(t->p)) {
        int below = t->p - 1, above = t->p + 1;
        while (below >= 2 && !task_is_prime(below))
            below--;
        while (above <= 1000 && !task_is_prime(above))
            above++;
        char near[64];
        if (below >= 2 && above <= 1000)
            snprintf(near, sizeof near, "%d or %d", below, above);
        else
            snprintf(near, sizeof near, "%d", below >= 2 ? below : above);
        snprintf(val, sizeof val, "%d", t->p);
        return cfg_fail(e, &org[i_p], inc_dir, "task.p", val,
                        "not prime, and task.op = '%s' needs a prime modulus (b^-1 mod p); "
                        "valid: a prime in 2..1000, nearest %s",
                        task_op_name(t->op), near);
    }
    if (t->kind == TASK_KIND_PARITY && t->k_bits > t->n_bits) {
        snprintf(val, sizeof val, "%d", t->k_bits);
        return cfg_fail(e, &org[i_k], inc_dir, "task.k", val,
                        "must be <= task.n = %d; valid: 1..%d", t->n_bits, t->n_bits);
    }

    task_shape shape;
    task_shape_of(t, &shape);
    long n_all = shape.n_all, n_train = shape.n_train;
    cfg_task_words(t, words, sizeof words);
    if (!(shape.caps & TASK_CAP_SAMPLED) && (n_train < 1 || n_train >= n_all)) {
        cfg_fmt_double(val, sizeof val, t->frac_train);
        return cfg_fail(e, &org[i_frac], inc_dir, "task.frac_train", val,
                        "gives %ld training and %ld test examples of %ld (%s); "
                        "each set needs at least one; valid: (0, 1) with frac_train * %ld >= 1",
                        n_train, n_all - n_train, n_all, words, n_all);
    }

    if (c->train.batch > n_train) {
        char frac[48] = "";
        if (!(shape.caps & TASK_CAP_SAMPLED))
            snprintf(frac, sizeof frac, ", frac_train = %g", t->frac_train);
        snprintf(val, sizeof val, "%ld", c->train.batch);
        return cfg_fail(e, &org[i_batch], inc_dir, "train.batch", val,
                        "more than the %ld training examples (%s%s); valid: 0 (full batch) or "
                        "1..%ld",
                        n_train, words, frac, n_train);
    }

    if (c->family == MODEL_TRANSFORMER && (int)c->model.act == MLP_ACT_TANH)
        return cfg_fail(e, &org[cfg_find_key("model.act")], inc_dir, "model.act", "tanh",
                        "the transformer family takes relu or gelu; tanh needs "
                        "model.family = \"mlp\"");

    long qkv = (long)c->model.n_heads * c->model.d_head;
    if (qkv > 16384) {
        snprintf(val, sizeof val, "%d", c->model.n_heads);
        return cfg_fail(e, &org[i_heads], inc_dir, "model.n_heads", val,
                        "n_heads * d_head = %ld with d_head = %d; valid: n_heads * d_head <= 16384",
                        qkv, c->model.d_head);
    }
    return GROK_OK;
}

static int cfg_check_all(const cfg_run *c, const cfg_origin *org, const char *inc_dir,
                         grok_err *e)
{
    for (int i = 0; i < CFG_N_KEYS; i++) {
        int rc = cfg_check_key(c, &cfg_keys[i], &org[i], inc_dir, e);
        if (rc != GROK_OK)
            return rc;
    }
    return cfg_cross_check(c, org, inc_dir, e);
}

int cfg_check(const cfg_run *c, grok_err *e)
{
    cfg_origin org[CFG_N_KEYS];
    for (int i = 0; i < CFG_N_KEYS; i++)
        org[i] = (cfg_origin){"<config>", 0, 0};
    return cfg_check_all(c, org, NULL, e);
}

/* ------------------------------------------------------------------------ */
/* defaults */

model_config cfg_model_config(const cfg_run *c)
{
    model_config m = {.family = c->family, .tfm = c->model, .mlp = c->mlp};
    /* the keys the two families share, and the task's shape */
    m.mlp.n_layers = c->model.n_layers;
    m.mlp.act = (mlp_act)c->model.act;
    m.mlp.init_scale = c->model.init_scale;
    m.mlp.n_ctx = c->model.n_ctx;
    m.mlp.d_vocab = c->model.d_vocab;
    m.mlp.d_vocab_out = c->model.d_vocab_out;
    return m;
}

trainer_config cfg_trainer_config(const cfg_run *c)
{
    return (trainer_config){.loss = c->loss,
                            .optim = c->optim,
                            .filters = c->filters,
                            .weight_norm = c->train.weight_norm};
}

void cfg_fill_derived(cfg_run *c)
{
    task_shape s;
    task_shape_of(&c->task, &s);
    c->model.d_vocab = s.d_vocab;
    c->model.d_vocab_out = s.n_classes;
    c->model.n_ctx = s.n_ctx;
}

void cfg_defaults(cfg_run *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const cfg_key *k = &cfg_keys[i];
        switch (k->type) {
        case CFG_U64:
        case CFG_INT:
        case CFG_LONG:
            cfg_put_integer(c, k, k->idef);
            break;
        case CFG_BOOL:
        case CFG_ENUM:
            cfg_put_int(c, k->off, (int)k->idef);
            break;
        case CFG_DOUBLE:
            cfg_put_double(c, k->off, k->ddef);
            break;
        case CFG_PAIR:
            cfg_put_double(c, k->off, k->ddef);
            cfg_put_double(c, k->off2, k->ddef2);
            break;
        case CFG_STRING:
            snprintf((char *)c + k->off, k->smax, "%s", k->sdef);
            break;
        }
    }
    cfg_fill_derived(c);
}

/* ------------------------------------------------------------------------ */
/* applying a libconfig setting to a key */

static int cfg_is_integer(int type) { return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64; }

static int cfg_is_number(int type) { return cfg_is_integer(type) || type == CONFIG_TYPE_FLOAT; }

/* Reads setting s into key k of c, checking type and range; text (when not
 * NULL) is the value as the user wrote it, for messages. */
static int cfg_apply(cfg_run *c, const cfg_key *k, const config_setting_t *s, const char *text,
                     const cfg_origin *o, const char *inc_dir, grok_err *e)
{
    int type = config_setting_type(s);
    sbuf val, want;
    sbuf_init(&val);
    sbuf_init(&want);
    if (text)
        sbuf_puts(&val, text);
    else
        cfg_fmt_setting(&val, s);
    const char *v = val.data ? val.data : "?";
    int rc = GROK_OK;
    cfg_run next;
    memcpy(&next, c, sizeof next);

    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG:
        if (!cfg_is_integer(type)) {
            sbuf_puts(&want, "expected an integer ");
            cfg_fmt_bounds_phrase(&want, k);
            break;
        }
        {
            long long x = config_setting_get_int64(s);
            if (x < k->imin || x > k->imax) {
                cfg_fmt_must(&want, k);
                break;
            }
            cfg_put_integer(&next, k, x);
        }
        break;
    case CFG_DOUBLE:
        if (!cfg_is_number(type)) {
            sbuf_puts(&want, "expected a number ");
            cfg_fmt_bounds_phrase(&want, k);
            break;
        }
        {
            double x = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                 : (double)config_setting_get_int64(s);
            if (!isfinite(x)) {
                sbuf_puts(&want, "not a finite number; ");
                cfg_fmt_must(&want, k);
                break;
            }
            if (!cfg_double_ok(k, x)) {
                cfg_fmt_must(&want, k);
                break;
            }
            cfg_put_double(&next, k->off, x);
        }
        break;
    case CFG_BOOL:
        if (type != CONFIG_TYPE_BOOL) {
            sbuf_puts(&want, "expected true or false");
            break;
        }
        cfg_put_int(&next, k->off, config_setting_get_bool(s) ? 1 : 0);
        break;
    case CFG_ENUM: {
        if (type != CONFIG_TYPE_STRING) {
            sbuf_printf(&want, "expected a string naming the %s; valid: ", k->en->noun);
            cfg_fmt_range(&want, k);
            break;
        }
        const char *str = config_setting_get_string(s);
        int x = k->en->parse(str);
        if (x < 0 || x >= k->en->count) {
            char why[96];
            if (k->en->problem)
                sbuf_printf(&want, "%s; valid: ", k->en->problem(str, why, sizeof why));
            else
                sbuf_printf(&want, "unknown %s; valid: ", k->en->noun);
            cfg_fmt_range(&want, k);
            break;
        }
        cfg_put_int(&next, k->off, x);
        break;
    }
    case CFG_PAIR: {
        int n = (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) ? config_setting_length(s)
                                                                       : -1;
        double x[2] = {0, 0};
        int good = n == 2;
        for (int i = 0; good && i < 2; i++) {
            const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
            int t = config_setting_type(el);
            if (!cfg_is_number(t))
                good = 0;
            else
                x[i] = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(el)
                                              : (double)config_setting_get_int64(el);
        }
        if (!good) {
            sbuf_puts(&want, "expected two numbers ");
            cfg_fmt_range(&want, k);
            break;
        }
        for (int i = 0; i < 2; i++)
            if (!cfg_double_ok(k, x[i])) {
                sbuf_printf(&want, "element %d (%s) ", i + 1, i ? "beta2" : "beta1");
                cfg_fmt_must(&want, k);
                break;
            }
        if (want.len)
            break;
        cfg_put_double(&next, k->off, x[0]);
        cfg_put_double(&next, k->off2, x[1]);
        break;
    }
    case CFG_STRING: {
        if (type != CONFIG_TYPE_STRING) {
            sbuf_puts(&want, "expected a string; valid: ");
            cfg_fmt_range(&want, k);
            break;
        }
        const char *str = config_setting_get_string(s);
        char what[128];
        if (strlen(str) >= k->smax)
            snprintf(what, sizeof what, "longer than %zu characters", k->smax - 1);
        if (strlen(str) >= k->smax || !k->scheck(str, what, sizeof what)) {
            sbuf_printf(&want, "%s; valid: ", what);
            cfg_fmt_range(&want, k);
            break;
        }
        char *dst = (char *)&next + k->off;
        memset(dst, 0, k->smax);
        memcpy(dst, str, strlen(str));
        break;
    }
    }

    if (want.len || want.oom)
        rc = cfg_fail(e, o, inc_dir, k->name, v, "%s", want.data ? want.data : "invalid value");
    else
        memcpy(c, &next, sizeof next);
    sbuf_free(&val);
    sbuf_free(&want);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* integer literals beyond 32 bits */

static char *cfg_read_text(const char *path, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (!buf) {
        *err = ENOMEM;
    } else if (ferror(f)) {
        *err = errno ? errno : EIO;
        free(buf);
        buf = NULL;
    } else {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static int cfg_is_name_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '-' || ch == '*';
}

/* Scans libconfig text for an integer literal without the L suffix that does
 * not fit in 32 bits, which libconfig 1.5 would silently wrap.  file is the
 * name for messages (o->file), key (when not NULL) the name to report
 * instead of the one found in the text.  Follows @include up to depth 10. */
static int cfg_scan_ints(const char *text, const cfg_origin *file, const char *inc_dir,
                         const char *key, int depth, grok_err *e)
{
    const char *groups[16];
    size_t glens[16];
    int ng = 0;
    const char *last = NULL;
    size_t last_len = 0;
    int line = 1;
    const char *s = text;
    while (*s) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n') {
            line++;
            s++;
        } else if (ch == '#' || (ch == '/' && s[1] == '/')) {
            while (*s && *s != '\n')
                s++;
        } else if (ch == '/' && s[1] == '*') {
            s += 2;
            while (*s && !(s[0] == '*' && s[1] == '/')) {
                if (*s == '\n')
                    line++;
                s++;
            }
            if (*s)
                s += 2;
        } else if (ch == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1])
                    s++;
                if (*s == '\n')
                    line++;
                s++;
            }
            if (*s)
                s++;
        } else if (ch == '@' && strncmp(s, "@include", 8) == 0) {
            s += 8;
            while (*s == ' ' || *s == '\t')
                s++;
            if (*s != '"')
                continue;
            const char *name = ++s;
            while (*s && *s != '"' && *s != '\n')
                s++;
            if (*s != '"' || depth >= 10)
                continue;
            char rel[512], full[1024];
            snprintf(rel, sizeof rel, "%.*s", (int)(s - name), name);
            s++;
            if (inc_dir && rel[0] != '/')
                snprintf(full, sizeof full, "%s/%s", inc_dir, rel);
            else
                snprintf(full, sizeof full, "%s", rel);
            int err = 0;
            char *sub = cfg_read_text(full, &err);
            if (!sub)
                continue; /* libconfig reports the missing include */
            cfg_origin o = {rel, 0, 1};
            int rc = cfg_scan_ints(sub, &o, inc_dir, key, depth + 1, e);
            free(sub);
            if (rc != GROK_OK)
                return rc;
        } else if (isalpha(ch) || ch == '*' || ch == '_') {
            last = s;
            while (cfg_is_name_char((unsigned char)*s))
                s++;
            last_len = (size_t)(s - last);
        } else if (ch == '{') {
            if (ng < 16) {
                groups[ng] = last;
                glens[ng] = last ? last_len : 0;
            }
            ng++;
            s++;
        } else if (ch == '}') {
            if (ng > 0)
                ng--;
            s++;
        } else if (isdigit(ch) || (ch == '.' && isdigit((unsigned char)s[1]))) {
            const char *start = s;
            int hex = ch == '0' && (s[1] == 'x' || s[1] == 'X');
            if (hex) {
                s += 2;
                while (isxdigit((unsigned char)*s))
                    s++;
            } else {
                while (isdigit((unsigned char)*s))
                    s++;
            }
            if (!hex && (*s == '.' || *s == 'e' || *s == 'E')) { /* a float */
                while (isdigit((unsigned char)*s) || *s == '.' || *s == 'e' || *s == 'E' ||
                       ((*s == '+' || *s == '-') && (s[-1] == 'e' || s[-1] == 'E')))
                    s++;
                continue;
            }
            if (*s == 'L') { /* int64 literal: read correctly */
                while (*s == 'L')
                    s++;
                continue;
            }
            int neg = start > text && start[-1] == '-';
            errno = 0;
            unsigned long long u = strtoull(start, NULL, hex ? 16 : 10);
            int overflow = errno == ERANGE || (neg ? u > (unsigned long long)INT_MAX + 1
                                                   : u > (unsigned long long)INT_MAX);
            if (hex) /* libconfig reads 0x80000000..0xFFFFFFFF as negative ints */
                overflow = errno == ERANGE || u > (unsigned long long)INT_MAX;
            if (overflow) {
                char name[160], lit[64];
                if (key)
                    snprintf(name, sizeof name, "%s", key);
                else if (ng > 0 && ng <= 16 && groups[ng - 1])
                    snprintf(name, sizeof name, "%.*s.%.*s", (int)glens[ng - 1], groups[ng - 1],
                             (int)last_len, last ? last : "");
                else
                    snprintf(name, sizeof name, "%.*s", (int)last_len, last ? last : "?");
                snprintf(lit, sizeof lit, "%s%.*s", neg ? "-" : "", (int)(s - start), start);
                cfg_origin o = *file;
                if (!key)
                    o.line = line;
                return cfg_fail(e, &o, inc_dir, name, lit,
                                "integer does not fit in a 32-bit int (libconfig would wrap it); "
                                "write %sL for a 64-bit integer",
                                lit);
            }
        } else {
            s++;
        }
    }
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* --set */

/* Trims spaces from both ends of s[0..n) in place; returns the new start. */
static char *cfg_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* A plain decimal integer literal, optionally signed and L-suffixed. */
static int cfg_plain_integer(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    while (*s == 'L')
        s++;
    return *s == '\0';
}

static int cfg_set_from(cfg_run *c, cfg_origin *org, const char *assignment, grok_err *e)
{
    const cfg_origin set = {"--set", 0, 0};
    size_t n = strlen(assignment);
    char *copy = malloc(n + 1);
    if (!copy)
        return grok_fail(e, GROK_ENOMEM, "--set: out of memory");
    memcpy(copy, assignment, n + 1);
    int rc = GROK_OK;
    char *eq = strchr(copy, '=');
    if (!eq) {
        rc = grok_fail(e, GROK_EINVAL,
                       "--set: '%s': expected key=value, for example model.d_model=256",
                       assignment);
        goto done;
    }
    *eq = '\0';
    char *key = cfg_trim(copy), *value = cfg_trim(eq + 1);
    int ki = cfg_find_key(key);
    if (ki < 0) {
        if (cfg_is_group(key, strlen(key))) {
            sbuf valid;
            sbuf_init(&valid);
            cfg_fmt_section(&valid, key, strlen(key));
            rc = cfg_fail(e, &set, NULL, key, value,
                          "a group, not a key; set one of its keys (%s.KEY=VALUE); valid keys "
                          "in %s: %s",
                          key, key, valid.data ? valid.data : "");
            sbuf_free(&valid);
        } else {
            rc = cfg_fail_unknown(e, &set, NULL, key, value, 0);
        }
        goto done;
    }
    const cfg_key *k = &cfg_keys[ki];
    if (*value == '\0') {
        sbuf valid;
        sbuf_init(&valid);
        cfg_fmt_range(&valid, k);
        rc = cfg_fail(e, &set, NULL, k->name, "", "missing value; valid: %s",
                      valid.data ? valid.data : "");
        sbuf_free(&valid);
        goto done;
    }

    config_t tmp;
    config_init(&tmp);
    size_t tn = strlen(value) + 16;
    char *text = malloc(tn);
    if (!text) {
        config_destroy(&tmp);
        rc = grok_fail(e, GROK_ENOMEM, "--set: out of memory");
        goto done;
    }
    int string_key = k->type == CFG_ENUM || k->type == CFG_STRING;
    int integer_key = k->type == CFG_U64 || k->type == CFG_INT || k->type == CFG_LONG;
    if (string_key && value[0] != '"') {
        /* A bare string: the text itself, no libconfig grammar. */
        config_setting_t *v =
            config_setting_add(config_root_setting(&tmp), "v", CONFIG_TYPE_STRING);
        if (!v || !config_setting_set_string(v, value))
            rc = grok_fail(e, GROK_ENOMEM, "--set: out of memory");
        else
            rc = cfg_apply(c, k, v, NULL, &set, NULL, e);
    } else if (integer_key && cfg_plain_integer(value)) {
        /* Parsed here: libconfig wraps literals beyond 32 bits. */
        errno = 0;
        long long x = strtoll(value, NULL, 10);
        int wide = errno == 0 && (x > INT_MAX || x < INT_MIN);
        config_setting_t *v = config_setting_add(config_root_setting(&tmp), "v",
                                                 wide ? CONFIG_TYPE_INT64 : CONFIG_TYPE_INT);
        if (errno == ERANGE) {
            rc = cfg_fail(e, &set, NULL, k->name, value, "out of range; valid: %lld..%lld",
                          k->imin, k->imax);
        } else if (!v || !config_setting_set_int64(v, x)) {
            rc = grok_fail(e, GROK_ENOMEM, "--set: out of memory");
        } else {
            rc = cfg_apply(c, k, v, value, &set, NULL, e);
        }
    } else {
        snprintf(text, tn, "v = %s;", value);
        rc = cfg_scan_ints(text, &set, NULL, k->name, 0, e);
        if (rc == GROK_OK) {
            /* "v = 1; w = 2;" parses: exactly one value named v is required */
            int parsed = config_read_string(&tmp, text);
            config_setting_t *root = config_root_setting(&tmp);
            config_setting_t *v = parsed ? config_setting_get_member(root, "v") : NULL;
            if (!v || config_setting_length(root) != 1) {
                sbuf want;
                sbuf_init(&want);
                cfg_fmt_expected(&want, k);
                rc = cfg_fail(e, &set, NULL, k->name, value,
                              "not a valid value (libconfig: %s); expected %s",
                              parsed ? "more than one value" : config_error_text(&tmp),
                              want.data ? want.data : "");
                sbuf_free(&want);
            } else {
                rc = cfg_apply(c, k, v, NULL, &set, NULL, e);
            }
        }
    }
    free(text);
    config_destroy(&tmp);
    if (rc == GROK_OK && org)
        org[ki] = set;
done:
    free(copy);
    return rc;
}

int cfg_set(cfg_run *c, const char *assignment, grok_err *e)
{
    return cfg_set_from(c, NULL, assignment, e);
}

/* ------------------------------------------------------------------------ */
/* reading a file */

/* Walks the settings of a parsed config: known groups and keys are applied,
 * anything else is an unknown key. */
static int cfg_apply_root(cfg_loader *L, const config_t *cf, const char *path, grok_err *e)
{
    const config_setting_t *root = config_root_setting(cf);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        const char *src = config_setting_source_file(s);
        cfg_origin o = {src ? src : path, config_setting_source_line(s),
                        src && strcmp(src, path) != 0};
        sbuf val;
        sbuf_init(&val);
        cfg_fmt_setting(&val, s);
        const char *v = val.data ? val.data : "?";
        int rc = GROK_OK;
        int ki = cfg_find_key(name);
        if (ki >= 0) {
            rc = cfg_apply(&L->run, &cfg_keys[ki], s, NULL, &o, L->inc_dir, e);
            if (rc == GROK_OK)
                L->org[ki] = o;
        } else if (cfg_is_group(name, strlen(name))) {
            if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
                sbuf valid;
                sbuf_init(&valid);
                cfg_fmt_section(&valid, name, strlen(name));
                rc = cfg_fail(e, &o, L->inc_dir, name, v,
                              "expected a group %s = { ... }; valid keys in %s: %s", name, name,
                              valid.data ? valid.data : "");
                sbuf_free(&valid);
            }
            int m = rc == GROK_OK ? config_setting_length(s) : 0;
            for (int j = 0; j < m && rc == GROK_OK; j++) {
                const config_setting_t *c = config_setting_get_elem(s, (unsigned)j);
                const char *csrc = config_setting_source_file(c);
                cfg_origin co = {csrc ? csrc : path, config_setting_source_line(c),
                                 csrc && strcmp(csrc, path) != 0};
                char full[256];
                snprintf(full, sizeof full, "%s.%s", name, config_setting_name(c));
                int kj = cfg_find_key(full);
                if (kj < 0) {
                    sbuf cv;
                    sbuf_init(&cv);
                    cfg_fmt_setting(&cv, c);
                    rc = cfg_fail_unknown(e, &co, L->inc_dir, full, cv.data ? cv.data : "?",
                                          config_setting_type(c) == CONFIG_TYPE_GROUP);
                    sbuf_free(&cv);
                } else {
                    rc = cfg_apply(&L->run, &cfg_keys[kj], c, NULL, &co, L->inc_dir, e);
                    if (rc == GROK_OK)
                        L->org[kj] = co;
                }
            }
        } else {
            rc = cfg_fail_unknown(e, &o, L->inc_dir, name, v,
                                  config_setting_type(s) == CONFIG_TYPE_GROUP);
        }
        sbuf_free(&val);
        if (rc != GROK_OK)
            return rc;
    }
    return GROK_OK;
}

static int cfg_read_into(cfg_loader *L, const char *path, grok_err *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return grok_fail(e, GROK_EIO, "cannot read config '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EIO, "cannot read config '%s': %s", path, strerror(EISDIR));
    int err = 0;
    char *text = cfg_read_text(path, &err);
    if (!text)
        return grok_fail(e, err == ENOMEM ? GROK_ENOMEM : GROK_EIO, "cannot read config '%s': %s",
                         path, strerror(err));
    cfg_origin file = {path, 0, 0};
    int rc = cfg_scan_ints(text, &file, L->inc_dir, NULL, 0, e);
    free(text);
    if (rc != GROK_OK)
        return rc;

    config_t *cf = &L->cf;
    config_init(cf);
    L->have_cf = 1;
    if (L->inc_dir)
        config_set_include_dir(cf, L->inc_dir);
    if (!config_read_file(cf, path)) {
        if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
            rc = grok_fail(e, GROK_EIO, "cannot read config '%s': %s", path,
                           config_error_text(cf));
        } else {
            const char *ef = config_error_file(cf);
            cfg_origin o = {ef ? ef : path, config_error_line(cf), ef && strcmp(ef, path) != 0};
            char where[512];
            cfg_fmt_where(where, sizeof where, &o, L->inc_dir);
            rc = grok_fail(e, GROK_EINVAL, "%s: %s", where, config_error_text(cf));
        }
        return rc;
    }
    return cfg_apply_root(L, cf, path, e);
}

int cfg_load(cfg_run *c, const char *path, const char *const *sets, int n_sets, grok_err *e)
{
    GROK_ASSERT(c != NULL);
    GROK_ASSERT(n_sets == 0 || sets != NULL);
    cfg_loader *L = calloc(1, sizeof *L);
    char *dir = NULL;
    if (!L)
        return grok_fail(e, GROK_ENOMEM, "cfg_load: out of memory");
    cfg_defaults(&L->run);
    for (int i = 0; i < CFG_N_KEYS; i++)
        L->org[i] = (cfg_origin){"<default>", 0, 0};
    int rc = GROK_OK;
    if (path) {
        const char *slash = strrchr(path, '/');
        if (slash) {
            size_t n = slash == path ? 1 : (size_t)(slash - path);
            dir = malloc(n + 1);
            if (!dir) {
                free(L);
                return grok_fail(e, GROK_ENOMEM, "cfg_load: out of memory");
            }
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
        L->inc_dir = dir;
        rc = cfg_read_into(L, path, e);
    }
    for (int i = 0; i < n_sets && rc == GROK_OK; i++)
        rc = cfg_set_from(&L->run, L->org, sets[i], e);
    if (rc == GROK_OK)
        rc = cfg_check_all(&L->run, L->org, L->inc_dir, e);
    if (rc == GROK_OK) {
        cfg_fill_derived(&L->run);
        memcpy(c, &L->run, sizeof *c);
    }
    if (L->have_cf)
        config_destroy(&L->cf);
    free(dir);
    free(L);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* writing and listing */

int cfg_format(const cfg_run *c, sbuf *out)
{
    sbuf line;
    sbuf_init(&line);
    sbuf_puts(out, "# grok run config (libconfig syntax): every key, resolved.\n"
                   "# `grok help config` describes the keys; floats read back exactly.\n");
    const char *open_group = NULL;
    size_t open_len = 0;
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const cfg_key *k = &cfg_keys[i];
        size_t g = cfg_group_len(k->name);
        if (open_group && (g != open_len || strncmp(k->name, open_group, g) != 0)) {
            sbuf_puts(out, "};\n");
            open_group = NULL;
        }
        if (g > 0 && !open_group) {
            sbuf_printf(out, "\n%.*s = {\n", (int)g, k->name);
            open_group = k->name;
            open_len = g;
        } else if (g == 0) {
            sbuf_puts(out, "\n");
        }
        sbuf_clear(&line);
        sbuf_printf(&line, "%s%s = ", g ? "  " : "", cfg_leaf(k->name));
        cfg_fmt_value(&line, c, k, 1);
        sbuf_puts(&line, ";");
        while (line.len < 30 && !line.oom)
            sbuf_puts(&line, " ");
        sbuf_printf(&line, " # %s; ", k->doc);
        cfg_fmt_range(&line, k);
        sbuf_puts(&line, "\n");
        if (line.data)
            sbuf_puts(out, line.data);
        if (line.oom)
            out->oom = 1;
    }
    if (open_group)
        sbuf_puts(out, "};\n");
    sbuf_free(&line);
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

int cfg_write(const cfg_run *c, const char *path, grok_err *e)
{
    sbuf out;
    sbuf_init(&out);
    int rc = cfg_format(c, &out);
    if (rc != GROK_OK)
        rc = grok_fail(e, rc, "cannot write config '%s': out of memory", path);
    else
        rc = fileio_write_atomic(path, out.data, out.len, e);
    sbuf_free(&out);
    return rc;
}

void cfg_list_keys(sbuf *out)
{
    enum { NCOL = 5 };
    static const char *const head[NCOL] = {"key", "type", "default", "valid", "description"};
    cfg_run def;
    cfg_defaults(&def);
    sbuf cell[CFG_N_KEYS][NCOL - 1];
    size_t width[NCOL];
    for (int j = 0; j < NCOL; j++)
        width[j] = strlen(head[j]);
    for (int i = 0; i < CFG_N_KEYS; i++) {
        const cfg_key *k = &cfg_keys[i];
        for (int j = 0; j < NCOL - 1; j++)
            sbuf_init(&cell[i][j]);
        sbuf_puts(&cell[i][0], k->name);
        sbuf_puts(&cell[i][1], cfg_type_name(k));
        cfg_fmt_value(&cell[i][2], &def, k, 1);
        cfg_fmt_range(&cell[i][3], k);
        for (int j = 0; j < NCOL - 1; j++)
            if (cell[i][j].len > width[j])
                width[j] = cell[i][j].len;
    }
    for (int j = 0; j < NCOL - 1; j++)
        sbuf_printf(out, "%-*s  ", (int)width[j], head[j]);
    sbuf_printf(out, "%s\n", head[NCOL - 1]);
    for (int i = 0; i < CFG_N_KEYS; i++) {
        for (int j = 0; j < NCOL - 1; j++)
            sbuf_printf(out, "%-*s  ", (int)width[j], cell[i][j].data ? cell[i][j].data : "");
        sbuf_printf(out, "%s\n", cfg_keys[i].doc);
        for (int j = 0; j < NCOL - 1; j++)
            sbuf_free(&cell[i][j]);
    }
}
