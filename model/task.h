/* task.h: algorithmic datasets, of several kinds.
 *
 * A task kind (task_kind) fixes the shape of an example: n_ctx input tokens
 * from an input vocabulary of d_vocab, and a label in 0..n_classes-1 read at
 * the last position.  The kinds:
 *
 *  modular  a binary operation mod p on operands a, b in 0..p-1 (Power et al.
 *           2022; Nanda et al. 2023 study addition).  Layouts: "a b ="
 *           (tokens [a, b, p], V = p + 1, the default), "a b" ([a, b], V = p;
 *           Zhong et al. 2023), "a op b =" ([a, p, b, p + 1], V = p + 2: the op
 *           token p and '=' p + 1, as Grokfast's data).  Classes p.  All pairs
 *           in canonical order r = a*p + b (pairs with b = 0 left out for div
 *           and mix1).
 *  group    composition in a finite permutation group G (group.h): tokens
 *           [x, y, |G|] with x, y element numbers and '=' the token |G|, so
 *           V = |G| + 1 and |G| classes; label x*y, x*y*x^-1 or x*y*x (Power et
 *           al.'s variants).  All pairs in canonical order r = x*|G| + y.
 *  parity   sparse parity (Barak et al. 2022): n bit tokens (V = 2, n_ctx =
 *           n), label the XOR of k secret bits (2 classes).  The secret subset
 *           (k distinct positions, ascending) is drawn from the seed's table
 *           stream; the n_train + n_test examples are drawn uniformly (every
 *           bit a fair coin) from the seed's split stream, training set
 *           first, so an input may appear twice, also in both sets (at n = 20
 *           two given samples coincide with probability 2^-20).
 *
 * For the enumerated kinds (modular, group) the examples are split into train
 * and test by a permutation drawn from the seed's split stream: the first
 * floor(frac_train * n_all) entries of the permutation are the training set,
 * in that order.  A sampled kind (TASK_CAP_SAMPLED) has order = identity:
 * n_all = n_train + n_test.  task_set_order replaces the split by a given one
 * (a run's split.tsv, which every reader of a run directory uses).
 *
 * Capabilities (task_data.caps) tell the measures what applies:
 *   TASK_CAP_ZP_GRID  the Fourier measures of Nanda et al.: a modular
 *                     arithmetic op (not rand) over the full p x p grid (not
 *                     div, mix1) with odd p.  task_data.no_grid says why not.
 *   TASK_CAP_GROUP    labels are a finite group's composition.
 *   TASK_CAP_SAMPLED  train and test are drawn as samples, not a split of an
 *                     enumerated table.
 * Knows nothing of configs or files. */
#ifndef GROK_TASK_H
#define GROK_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "grok.h"
#include "group.h"

typedef enum { TASK_KIND_MODULAR, TASK_KIND_GROUP, TASK_KIND_PARITY, TASK_KIND_COUNT } task_kind;

typedef enum {
    TASK_OP_ADD,    /* a + b */
    TASK_OP_SUB,    /* a - b */
    TASK_OP_MUL,    /* a * b */
    TASK_OP_DIV,    /* a * b^-1, p prime, b != 0 */
    TASK_OP_X2Y2,   /* a^2 + b^2 */
    TASK_OP_X2XYY2, /* a^2 + ab + b^2 */
    TASK_OP_X3XY,   /* a^3 + ab */
    TASK_OP_X3XY2Y, /* a^3 + ab^2 + b */
    TASK_OP_RAND,   /* a fixed random table (memorisation control) */
    TASK_OP_X2XYY2X, /* a^2 + ab + b^2 + a */
    TASK_OP_MIX1,   /* a * b^-1 if b is odd, else a - b; p prime, b != 0 */
    TASK_OP_COUNT
} task_op;

typedef enum {
    TASK_LAYOUT_AB_EQ,   /* "a b =":    [a, b, p] */
    TASK_LAYOUT_AB,      /* "a b":      [a, b] */
    TASK_LAYOUT_A_OP_B_EQ, /* "a op b =": [a, p, b, p + 1] */
    TASK_LAYOUT_COUNT
} task_layout;

typedef enum {
    TASK_GROUP_OP_XY,     /* x*y */
    TASK_GROUP_OP_XYXINV, /* x*y*x^-1 */
    TASK_GROUP_OP_XYX,    /* x*y*x */
    TASK_GROUP_OP_COUNT
} task_group_op;

#define TASK_CAP_ZP_GRID 1u
#define TASK_CAP_GROUP 2u
#define TASK_CAP_SAMPLED 4u

#define TASK_PARITY_N_MAX 64
#define TASK_SAMPLES_MAX 1000000

typedef struct {
    task_kind kind;
    task_op op;           /* modular: the operation */
    int p;                /* modular: modulus, 2 <= p <= 1000; prime for div, mix1 */
    task_layout layout;   /* modular: token layout */
    double frac_train;    /* enumerated kinds: train share, 0 < frac_train < 1 */
    int group;            /* group: the group's id (group.h) */
    task_group_op group_op; /* group: the operation */
    int n_bits, k_bits;   /* parity: n input bits, 1 <= k <= n <= 64 secret bits */
    int n_train, n_test;  /* parity: number of samples, 1..TASK_SAMPLES_MAX each */
} task_config;

typedef struct {
    task_config cfg;
    unsigned caps;         /* TASK_CAP_* */
    char no_grid[160];     /* why TASK_CAP_ZP_GRID is absent; "" when present */
    int n_ctx, d_vocab, n_classes;
    int n_all;             /* number of examples */
    int n_train, n_test;
    int32_t *a, *b;        /* [n_all] the two operands (modular a, b; group x, y);
                              NULL for parity */
    int32_t *tokens;       /* [n_all, n_ctx] every example's tokens, canonical order */
    int32_t *label;        /* [n_all] */
    int32_t *order;        /* [n_all] permutation of 0..n_all-1: train first */
    int32_t *train_tokens, *train_labels; /* [n_train, n_ctx], [n_train] in order */
    int32_t *test_tokens, *test_labels;   /* [n_test, n_ctx], [n_test] */
    group_data grp;             /* group kind: the group; zeroed otherwise */
    int n_secret;          /* parity: k */
    int secret[TASK_PARITY_N_MAX]; /* parity: the secret positions, ascending */
} task_data;

/* Name <-> enum, -1 for an unknown name; *_names: a comma list of the valid
 * names, for messages.
 * kinds: "modular", "group", "parity".
 * ops: "add", "sub", "mul", "div", "x2y2", "x2xyy2", "x3xy", "x3xy2y", "rand",
 * "x2xyy2x", "mix1".  layouts: "a b =", "a b", "a op b =".
 * group ops: "xy", "xyxinv", "xyx". */
const char *task_kind_name(task_kind kind);
int task_kind_parse(const char *name);
const char *task_kind_names(void);
const char *task_op_name(task_op op);
int task_op_parse(const char *name);
const char *task_op_names(void);
const char *task_layout_name(task_layout layout);
int task_layout_parse(const char *name);
const char *task_group_op_name(task_group_op op);
int task_group_op_parse(const char *name);

/* True when op(a,b) is modular arithmetic (every op but rand). */
int task_op_is_arithmetic(task_op op);
/* 1 when op needs a prime p and leaves out b = 0 (div, mix1). */
int task_op_needs_prime(task_op op);

/* The shape of cfg's examples, from its kind (and layout, group, n_bits);
 * the values in cfg need not be valid beyond what they index. */
typedef struct {
    int n_ctx, d_vocab, n_classes;
    long n_all;    /* examples: enumerated, or n_train + n_test when sampled */
    long n_train;  /* floor(frac_train * n_all), or the sample count */
    unsigned caps; /* the kind's fixed capabilities (not ZP_GRID, which depends on op, p) */
} task_shape;
void task_shape_of(const task_config *cfg, task_shape *out);

/* The kind's operand columns of split.tsv, tab-separated ("a\tb", "x\ty",
 * "bits"), and example r's operands in the same form ("3\t5", "0110...").
 * Names of the token positions ("a", "b", "eq"; "x", "y", "eq"; "0".."n-1"). */
const char *task_operand_header(const task_data *t);
void task_format_operands(const task_data *t, int r, char *buf, size_t n);
const char *task_position_name(const task_data *t, int pos, char *buf, size_t n);

/* A short description for logs: "add, p = 113" (modular, with ", layout
 * 'a b'" when not the default), "group S5, op xy", "parity n = 20, k = 3". */
void task_describe(const task_config *cfg, char *buf, size_t n);

/* Validates cfg (the kind's keys only) and builds the dataset from seed.  On
 * error returns a grok_status, fills e and leaves t zeroed. */
int task_init(task_data *t, const task_config *cfg, uint64_t seed, grok_err *e);
void task_free(task_data *t);

/* Replaces the split of t by order[0..n_all), a permutation of the examples
 * with the n_train training examples first (what a run's split.tsv lists),
 * and regathers the train and test arrays.  GROK_EINVAL (t unchanged) when
 * order is not a permutation or a side would be empty; GROK_ENOMEM. */
int task_set_order(task_data *t, const int32_t *order, int n_train, grok_err *e);

/* op(a, b) mod p for the arithmetic ops (not RAND). */
int task_apply(task_op op, int p, int a, int b);
/* The label of (x, y) under a group op. */
int task_group_apply(const group_data *g, task_group_op op, int x, int y);

int task_is_prime(int p);

#endif
