/* cfg.h: experiment configs, read from libconfig files and --set overrides.
 *
 * Owns the one declarative table of config keys (experiments/cfg_keys.c:
 * name, type, default, valid range, description, where the value goes in
 * cfg_run, whether a resumed run may change it); parsing, validation,
 * --set, `grok help config` and writing the resolved config.cfg all walk that
 * table, so a key is described exactly once (the pattern of Redis's
 * static_configs[]).  The table's defaults are the Nanda et al. (2023)
 * mainline run, and experiments/nanda2023_mod_add.cfg is what cfg_format
 * writes for them.
 *
 * Does not own what the values mean at run time: the runner, the model and
 * the task read the plain structs filled here.  Nothing here prints or exits;
 * every function returns GROK_OK or a grok_status and fills a grok_err.
 *
 * Error messages have the shape
 *   FILE:LINE: key = value: what is wrong; valid: ...
 * where FILE is the config path (or the included file), "--set" for an
 * override, "<default>" for a compiled-in default, and "<config>" for a
 * struct checked by cfg_check; LINE is omitted where there is none.
 *
 * libconfig 1.5 quirks handled here (see docs/formats.md, libconfig): its writer
 * keeps 15 digits, so cfg_format writes floats itself, exactly; an integer
 * literal beyond 32 bits without the L suffix is silently wrapped by its
 * scanner, so such literals are rejected before parsing; @include paths are
 * made relative to the including config's directory. */
#ifndef GROK_CFG_H
#define GROK_CFG_H

#include <stdint.h>

#include "fileio.h"
#include "grok.h"
#include "model.h"
#include "plot.h"
#include "task.h"
#include "trainer.h"

#define CFG_FORMATS_MAX 64
#define CFG_PATH_MAX 1024
#define CFG_LENGTH_MAX 32

typedef struct {
    uint64_t seed;         /* "seed": 0..2^63-1; derives every RNG stream */
    task_config task;      /* task.kind, op, p, layout, frac_train (modular); group,
                              group_op (group); n, k, n_train, n_test (parity) */
    model_family family;   /* model.family */
    int causal;            /* model.causal (the transformer's model.bidirectional is its
                              negation, set by cfg_model_config) */
    double attn_rate;      /* model.attn_rate (the transformer's model.attn_uniform is
                              1 - it, set by cfg_model_config) */
    int bias;              /* model.bias (the mlp family's no_bias is its negation, set
                              by cfg_model_config) */
    tfm_config model;      /* model.*; d_vocab, d_vocab_out, n_ctx are derived from
                              the task by cfg_fill_derived, not keys */
    mlp_config mlp;        /* model.d_embed, combine, d_hidden (the mlp family's own
                              keys; cfg_model_config adds the shared ones) */
    optim_config optim;    /* optim.kind, lr, betas (beta1, beta2), eps,
                              weight_decay, momentum, warmup, decay_to */
    loss_config loss;      /* train.loss, train.loss_dtype */
    filter_config filters; /* filters.*: Grokfast EMA and MA, orthogonal gradient, clipping */
    struct {
        long epochs;          /* 1..10^8 */
        long batch;           /* 0 = full batch, else 1..n_train */
        long eval_every;      /* epochs between evaluations, >= 1 */
        double stop_test_acc; /* 0 = never stop early; in (0, 1]: stop after the
                                 first evaluation whose test accuracy >= it */
        double weight_norm;   /* 0 = off; > 0: total L2 norm after every update */
    } train;
    struct {
        long every;       /* epochs between weight checkpoints after early_until */
        long every_early; /* epochs between checkpoints before early_until */
        long early_until; /* end (exclusive epoch) of the dense early phase; 0 = none */
    } checkpoint;
    struct {
        long every;            /* epochs between progress-measure passes */
        int key_freq_rule;     /* meas_key_rule: "neuron" (R1, default) or "cluster" */
        double key_freq_share; /* the cluster rule's share of the live neurons, (0, 1] */
    } measures;
    struct {
        char from[CFG_PATH_MAX]; /* "" or "RUN[@EPOCH]": the weights to start from */
        int optim;               /* 1: also the optimizer state of RUN's last commit */
        int split;               /* 1: also RUN's split.tsv instead of the seed's split */
    } init;
    struct {
        char formats[CFG_FORMATS_MAX]; /* comma list from png,pdf,svg,tex; "" = none */
        /* the style of every figure (cfg_plot_style; grok plot's flags win) */
        char width[CFG_LENGTH_MAX];  /* "" (each figure's own), "3.4in", "8.6cm", "column" */
        char height[CFG_LENGTH_MAX]; /* "" (each figure's own) or a length */
        char font[64];               /* font family */
        double font_size;            /* points in the printed figure, 4..72 */
        double line_width;           /* line width factor, (0, 10] */
        int colours;                 /* plot_scheme: default (Okabe-Ito), grey */
        int epoch_axis;              /* 0 linear, 1 log (log10(1 + epoch)) */
        double from, to;             /* epoch range; 0: the first, the last epoch */
        int phases, marks;           /* draw the shaded phases, the memorised and
                                        grokked epochs */
    } plots;
} cfg_run;

/* Fills c with the table's defaults (the Nanda et al. 2023 mainline run),
 * derived fields included.  Unused bytes (padding, the tails of the
 * string keys) are zero, so two default structs compare equal with memcmp. */
void cfg_defaults(cfg_run *c);

/* The model and the training step c describes. */
model_config cfg_model_config(const cfg_run *c);
trainer_config cfg_trainer_config(const cfg_run *c);

/* The figure style c's plots group describes (plots/plot.h), for the
 * figures drawn at the end of a run, by grok plot (its flags then override
 * it) and for a sweep's figures (its base config's).  c must have passed
 * cfg_check; the defaults give plot_style_default's figures. */
void cfg_plot_style(const cfg_run *c, plot_style *st);

/* Sets model.d_vocab, model.d_vocab_out and model.n_ctx to the task's input
 * vocabulary, classes and positions (task_shape_of: p + 1, p and 3 for the
 * default modular task). */
void cfg_fill_derived(cfg_run *c);

/* Builds the run config: the defaults, then the file at path (NULL: none,
 * i.e. the compiled-in default, identical to
 * experiments/nanda2023_mod_add.cfg), then the n_sets assignments "key=value"
 * in order (see cfg_set), then the cross-field checks (cfg_check), then the
 * derived fields.  A file need not list every key.  Unknown keys and groups,
 * wrong types, out-of-range values, syntax errors and failed cross-field
 * checks give GROK_EINVAL; an unreadable file gives GROK_EIO ("cannot read
 * config 'x.cfg': No such file or directory").  On any error c is left
 * untouched.  @include "f" inside the file is read relative to the file's
 * directory. */
int cfg_load(cfg_run *c, const char *path, const char *const *sets, int n_sets, grok_err *e);

/* What cfg_load checks in a libconfig file before libconfig reads it (the
 * sweep files use it too): integer literals that libconfig 1.5 would wrap,
 * and every @include target, followed as libconfig would (inc_dir/name when
 * inc_dir is not NULL): an empty name, a target that is not a regular file
 * (libconfig's scanner would call exit()), an include cycle, nesting deeper
 * than 10 or more than 64 includes in all are GROK_EINVAL naming the file
 * and line, and so is a file holding a NUL byte (the checks stop there,
 * libconfig's scanner does not); an unreadable path, GROK_EIO. */
int cfg_prescan_file(const char *path, const char *inc_dir, grok_err *e);

/* Applies one override "key=value" (e.g. "model.d_model=256",
 * "optim.betas=[0.9, 0.99]", "task.op=sub" or "task.op=\"sub\"").  The value
 * is read with libconfig's grammar; integers are accepted for float keys;
 * a string value may be given without quotes.  Checks the key, the type and
 * the key's own range; the cross-field checks are cfg_check's.  GROK_EINVAL
 * on error, c untouched; messages start with "--set: ". */
int cfg_set(cfg_run *c, const char *assignment, grok_err *e);

/* Checks every key's range and the cross-field rules (div and mix1 need a
 * prime p; parity needs task.k <= task.n;
 * 1 <= batch <= training examples unless 0; the split leaves at least one
 * training and one test example; n_layers etc. bounded; a plots.to above
 * plots.from unless 0).  n_heads * d_head
 * need not equal d_model.  Messages start with "<config>: ".  Does not look
 * at the derived fields. */
int cfg_check(const cfg_run *c, grok_err *e);

/* Appends the fully resolved config to out as libconfig text: every key,
 * grouped, each with a one-line comment (what it is, its valid range).
 * Floats are written with the fewest digits (at most 17) that read back to
 * the same double, so cfg_load(cfg_format(c)) == c bit for bit.
 * GROK_ENOMEM when out ran out of memory. */
int cfg_format(const cfg_run *c, sbuf *out);

/* cfg_format, then fileio_write_atomic to path. */
int cfg_write(const cfg_run *c, const char *path, grok_err *e);

/* Appends a table of every key (name, type, default, valid values,
 * description) to out, for `grok help config`. */
void cfg_list_keys(sbuf *out);

/* Resumable keys: those the key table marks as not changing the parameters'
 * trajectory (train.epochs, train.stop_test_acc, train.eval_every,
 * checkpoint.*, measures.*, plots.*), so a resumed run may change
 * them.  cfg_key_resumable: 1 when name is such a key.  cfg_reset_resumable:
 * sets each of them in c to its default (what a run's state stores as its
 * training_config).  cfg_format_resumable_sets: appends one "key=value" line
 * per resumable key, with c's value in libconfig syntax (what cfg_set reads),
 * GROK_ENOMEM when out ran out of memory.  cfg_list_resumable: appends their
 * names for messages, "train.epochs, ..., checkpoint.*, ..." (a group whose
 * keys are all resumable as "group.*"). */
int cfg_key_resumable(const char *name);
void cfg_reset_resumable(cfg_run *c);
int cfg_format_resumable_sets(const cfg_run *c, sbuf *out);
void cfg_list_resumable(sbuf *out);

#endif
