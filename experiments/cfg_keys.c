/* cfg_keys.c: the one table of config keys, cfg_keys[] (cfg_internal.h).
 *
 * Each row is a key: its dotted name, type, where the value lives in cfg_run,
 * default, valid range, a one-line description, and whether a resumed run
 * may change it (resumable: the key does not change the parameters'
 * trajectory).  Reading a file, --set, the checks, the written config.cfg,
 * `grok help config` and resume's rule walk this table; nothing else names a
 * key.  Also here: the enums the keys take (names and parsers from the model
 * and task headers, the figure style's from plots/plot.h) and the checks
 * of the string keys (init.from, plots.formats, and plots.width, height and
 * font through plot_style_value_ok).  Adding a key: one row here, one field
 * in cfg_run (cfg.h), and CFG_N_KEYS in cfg_internal.h. */
#include "cfg_internal.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "meas.h"
#include "plot.h"

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
static const char *cfg_scheme_name(int v) { return param_init_scheme_name((param_init_scheme)v); }
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
static const cfg_enum cfg_enum_init = {"initialisation", PARAM_INIT_COUNT, cfg_scheme_name,
                                       param_init_scheme_parse, NULL};
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
static const cfg_enum cfg_enum_key_rule = {"key frequency rule", MEAS_KEY_RULE_COUNT,
                                            meas_key_rule_name, meas_key_rule_parse, NULL};
static const cfg_enum cfg_enum_decay = {"decay target", OPTIM_DECAY_COUNT, cfg_decay_name,
                                        optim_decay_parse, NULL};
/* plots.colours and plots.epoch_axis: the names of plots/plot.h */
static const cfg_enum cfg_enum_scheme = {"colour scheme", PLOT_N_SCHEMES, plot_scheme_name,
                                         plot_scheme_parse, NULL};
static const cfg_enum cfg_enum_epoch_axis = {"epoch axis", 2, plot_epoch_axis_name,
                                             plot_epoch_axis_parse, NULL};

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
_Static_assert(sizeof(meas_key_rule) == sizeof(int), "meas_key_rule is not int-sized");
_Static_assert(sizeof(plot_scheme) == sizeof(int), "plot_scheme is not int-sized");

#define CFG_OFF(field) offsetof(cfg_run, field)
/* The last argument of each macro is the description, optionally followed by
 * more designators: CFG_I(..., "training epochs", .resumable = 1). */
#define CFG_I(t, nm, field, lo, hi, def, rng, ...)                                                \
    {.name = nm, .type = t, .off = CFG_OFF(field), .imin = lo, .imax = hi, .idef = def,          \
     .range = rng, .doc = __VA_ARGS__}
#define CFG_D(nm, field, lo, hi, op, def, rng, ...)                                               \
    {.name = nm, .type = CFG_DOUBLE, .off = CFG_OFF(field), .dmin = lo, .dmax = hi, .open = op,  \
     .ddef = def, .range = rng, .doc = __VA_ARGS__}
#define CFG_E(nm, field, e, def, ...)                                                             \
    {.name = nm, .type = CFG_ENUM, .off = CFG_OFF(field), .imin = 0, .imax = 0, .idef = def,     \
     .en = &e, .doc = __VA_ARGS__}
/* An enum whose valid names are summarised by rng rather than listed. */
#define CFG_ER(nm, field, e, def, rng, ...)                                                       \
    {.name = nm, .type = CFG_ENUM, .off = CFG_OFF(field), .imin = 0, .imax = 0, .idef = def,     \
     .en = &e, .range = rng, .doc = __VA_ARGS__}
#define CFG_B(nm, field, def, ...)                                                                \
    {.name = nm, .type = CFG_BOOL, .off = CFG_OFF(field), .imin = 0, .imax = 1, .idef = def,     \
     .doc = __VA_ARGS__}

#define CFG_EPOCHS_MAX 100000000LL /* 10^8 */

static int cfg_formats_ok(const char *s, char *what, size_t n);
static int cfg_init_from_ok(const char *s, char *what, size_t n);
static int cfg_width_ok(const char *s, char *what, size_t n);
static int cfg_height_ok(const char *s, char *what, size_t n);
static int cfg_font_ok(const char *s, char *what, size_t n);

/* Defaults: the mainline run of Nanda et al. 2023 (p = 113 addition, 30% of
 * pairs for training, one layer, d_model 128, 4 heads of 32, d_mlp 512, ReLU,
 * no LayerNorm, full-batch AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1,
 * 10 warmup steps, 40000 epochs). */
const cfg_key cfg_keys[] = {
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
          "MLP activation (gelu: exact, erf; tanh, square = x^2: mlp family only)"),
    CFG_B("model.layernorm", model.layernorm, 0, "pre-LN blocks and a final LayerNorm"),
    CFG_B("model.normed_residual", model.normed_residual, 0,
          "with layernorm: each block's ln1 replaces the residual stream, x = ln1(x); "
          "x = x + attn(x) (Grokfast's block); false: x = x + attn(ln1(x))"),
    CFG_B("model.attn_bias", model.attn_bias, 0, "attention biases b_Q, b_K, b_V, b_O"),
    CFG_B("model.causal", causal, 1,
          "causal attention mask; false: every position attends to every position"),
    CFG_D("model.attn_rate", attn_rate, 0.0, 1.0, 0, 1.0, NULL,
          "attention = attn_rate * softmax + 1 - attn_rate on the allowed positions "
          "(Zhong et al. 2023); 0: each weighs 1"),
    CFG_D("model.init_scale", model.init_scale, 0.0, 1000.0, CFG_LO_OPEN, 1.0, NULL,
          "multiplies every initial Gaussian (and uniform bound)"),
    CFG_E("model.init_scheme", model.init_scheme, cfg_enum_init, PARAM_INIT_GAUSSIAN,
          "gaussian: each family's N(0, 1/fan_in) (docs/models.md); torch: PyTorch's module "
          "defaults for the same layers (nn.Embedding N(0, 1), nn.Linear U(+-1/sqrt(fan_in)))"),
    CFG_I(CFG_INT, "model.d_embed", mlp.d_embed, 1, 16384, 128, NULL,
          "mlp family: token embedding width"),
    CFG_E("model.combine", mlp.combine, cfg_enum_combine, MLP_COMBINE_CONCAT,
          "mlp family: the input embeddings concatenated or summed; onehot: no embedding, the "
          "one-hot tokens concatenated (d_embed unused)"),
    CFG_I(CFG_INT, "model.d_hidden", mlp.d_hidden, 1, 16384, 512, NULL,
          "mlp family: width of each hidden layer (model.n_layers of them)"),
    CFG_B("model.bias", bias, 1,
          "mlp family: biases in the hidden layers and the unembedding; false: none (Gromov "
          "2023, Prieto et al. 2025)"),

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
          "training epochs (passes over the training set)",
          .resumable = 1),
    CFG_I(CFG_LONG, "train.batch", train.batch, 0, 1000000, 0, "0 (full batch) or 1..n_train",
          "examples per step; 0 = the whole training set"),
    CFG_I(CFG_LONG, "train.eval_every", train.eval_every, 1, CFG_EPOCHS_MAX, 10, NULL,
          "epochs between evaluations of train and test",
          .resumable = 1),
    CFG_D("train.stop_test_acc", train.stop_test_acc, 0.0, 1.0, 0, 0.0, "0 (never) or (0, 1]",
          "stop at the first evaluation with test accuracy >= this",
          .resumable = 1),
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
          "epochs between weight checkpoints after early_until",
          .resumable = 1),
    CFG_I(CFG_LONG, "checkpoint.every_early", checkpoint.every_early, 1, CFG_EPOCHS_MAX, 10, NULL,
          "epochs between checkpoints before early_until",
          .resumable = 1),
    CFG_I(CFG_LONG, "checkpoint.early_until", checkpoint.early_until, 0, CFG_EPOCHS_MAX, 1000,
          NULL, "epoch where the dense early checkpoints end; 0 = none",
          .resumable = 1),

    CFG_I(CFG_LONG, "measures.every", measures.every, 1, CFG_EPOCHS_MAX, 1000, NULL,
          "epochs between live measure passes (at the end every checkpoint is measured)",
          .resumable = 1),
    CFG_E("measures.key_freq_rule", measures.key_freq_rule, cfg_enum_key_rule, MEAS_KEY_NEURON,
          "key frequencies: every live neuron's best frequency (neuron, R1) or the clusters of "
          "neurons with frac > 0.85 holding >= key_freq_share of them (cluster)",
          .resumable = 1),
    CFG_D("measures.key_freq_share", measures.key_freq_share, 0.0, 1.0, CFG_LO_OPEN,
          MEAS_KEY_SHARE_DEFAULT, NULL,
          "cluster rule: the least share of the live neurons a frequency's cluster holds",
          .resumable = 1),

    {.name = "init.from", .type = CFG_STRING, .off = CFG_OFF(init.from), .sdef = "",
     .smax = CFG_PATH_MAX, .scheck = cfg_init_from_ok,
     .range = "\"\" (a fresh initialisation) or \"RUN\" or \"RUN@EPOCH\"",
     .doc = "start from another run's checkpoint (its last one, or EPOCH's)"},
    CFG_B("init.optim", init.optim, 0,
          "with init.from: also take the optimizer state (only at the run's last commit)"),
    CFG_B("init.split", init.split, 0,
          "with init.from: also train on the run's split.tsv (e.g. one made by grok import) "
          "instead of the seed's split"),

    {.name = "plots.formats", .type = CFG_STRING, .off = CFG_OFF(plots.formats), .sdef = "png",
     .smax = CFG_FORMATS_MAX, .scheck = cfg_formats_ok,
     .range = "comma list of png, pdf, svg, tex; \"\" = none",
     .doc = "figure formats drawn at the end of a run", .resumable = 1},
    /* the figure style (cfg_plot_style; grok plot's style flags override it) */
    {.name = "plots.width", .type = CFG_STRING, .off = CFG_OFF(plots.width), .sdef = "",
     .smax = CFG_LENGTH_MAX, .scheck = cfg_width_ok,
     .range = "\"\" (each figure's own), a length (3.4in, 8.6cm, 86mm, 245pt), column, page",
     .doc = "figure width", .resumable = 1},
    {.name = "plots.height", .type = CFG_STRING, .off = CFG_OFF(plots.height), .sdef = "",
     .smax = CFG_LENGTH_MAX, .scheck = cfg_height_ok,
     .range = "\"\" (each figure's own) or a length (2.3in, 6cm, 60mm, 166pt)",
     .doc = "figure height", .resumable = 1},
    {.name = "plots.font", .type = CFG_STRING, .off = CFG_OFF(plots.font), .sdef = "DejaVu Sans",
     .smax = sizeof(((cfg_run *)0)->plots.font), .scheck = cfg_font_ok,
     .range = "a font family name", .doc = "font of every text", .resumable = 1},
    CFG_D("plots.font_size", plots.font_size, 4.0, 72.0, 0, 8.0, NULL,
          "text size in points in the printed figure, at any width", .resumable = 1),
    CFG_D("plots.line_width", plots.line_width, 0.0, 10.0, CFG_LO_OPEN, 1.0, NULL,
          "line width factor", .resumable = 1),
    CFG_E("plots.colours", plots.colours, cfg_enum_scheme, PLOT_SCHEME_DEFAULT,
          "line colours: Okabe-Ito (colour-blind safe) or greys told apart by dash type",
          .resumable = 1),
    CFG_E("plots.epoch_axis", plots.epoch_axis, cfg_enum_epoch_axis, 0,
          "epoch axis; log draws log10(1 + epoch), epoch 0 included", .resumable = 1),
    CFG_D("plots.from", plots.from, 0.0, INFINITY, 0, 0.0, "0 (the first epoch) or > 0",
          "first epoch of the curves", .resumable = 1),
    CFG_D("plots.to", plots.to, 0.0, INFINITY, 0, 0.0, "0 (the last epoch) or > plots.from",
          "last epoch of the curves", .resumable = 1),
    CFG_B("plots.phases", plots.phases, 1, "shade the three phases", .resumable = 1),
    CFG_B("plots.marks", plots.marks, 1, "mark the memorised and grokked epochs",
          .resumable = 1),
};

_Static_assert(sizeof cfg_keys / sizeof cfg_keys[0] == CFG_N_KEYS,
               "CFG_N_KEYS (cfg_internal.h) must be the number of rows of cfg_keys[]");

static const char *const cfg_plot_formats[] = {"png", "pdf", "svg", "tex"};
#define CFG_N_PLOT_FORMATS ((int)(sizeof cfg_plot_formats / sizeof cfg_plot_formats[0]))

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

/* plots.width, plots.height ("" or a length) and plots.font: the checks of
 * grok plot's --width, --height and --font. */
static int cfg_width_ok(const char *s, char *what, size_t n)
{
    return !s[0] || plot_style_value_ok("width", s, what, n);
}

static int cfg_height_ok(const char *s, char *what, size_t n)
{
    return !s[0] || plot_style_value_ok("height", s, what, n);
}

static int cfg_font_ok(const char *s, char *what, size_t n)
{
    return plot_style_value_ok("font", s, what, n);
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
