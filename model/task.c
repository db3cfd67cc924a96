/* task.c: the algorithmic datasets of task.h.
 *
 * Owns the table of task kinds (task_kinds[]: name, the shape of an example,
 * fixed capabilities, operand columns, validation and the dataset builder),
 * the operation tables of each kind (names, formulas), the canonical list of
 * examples, the 'rand' control table, the parity secret and samples, and the
 * train/test split.  Does not read configs or files and does not batch: the
 * trainer draws minibatches from train_tokens/train_labels itself.
 *
 * The modular operations follow the binary operations mod p of Power et al.
 * 2022 ("Grokking: generalization beyond overfitting", appendix A.1); Nanda
 * et al. 2023 study addition.  'rand' is a fixed random table of the same
 * shape, a control with no structure to generalise from.  Formulas are
 * evaluated in int64 with operands reduced mod p first, so a^3 + ab^2 + b
 * stays below 3e9 for p <= 1000 and never overflows.
 *
 * Legend: p modulus, N = n_all examples, T = n_ctx positions, G = |G|. */
#include "task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define TASK_P_MIN 2
#define TASK_P_MAX 1000

/* ------------------------------------------------------------------------ */
/* names */

static const char *const task_op_names_table[TASK_OP_COUNT] = {
    [TASK_OP_ADD] = "add",       [TASK_OP_SUB] = "sub",       [TASK_OP_MUL] = "mul",
    [TASK_OP_DIV] = "div",       [TASK_OP_X2Y2] = "x2y2",     [TASK_OP_X2XYY2] = "x2xyy2",
    [TASK_OP_X3XY] = "x3xy",     [TASK_OP_X3XY2Y] = "x3xy2y", [TASK_OP_RAND] = "rand",
    [TASK_OP_X2XYY2X] = "x2xyy2x", [TASK_OP_MIX1] = "mix1",
};
static const char *const task_layout_names_table[TASK_LAYOUT_COUNT] = {
    [TASK_LAYOUT_AB_EQ] = "a b =",
    [TASK_LAYOUT_AB] = "a b",
    [TASK_LAYOUT_A_OP_B_EQ] = "a op b =",
};
static const char *const task_group_op_names_table[TASK_GROUP_OP_COUNT] = {
    [TASK_GROUP_OP_XY] = "xy",
    [TASK_GROUP_OP_XYXINV] = "xyxinv",
    [TASK_GROUP_OP_XYX] = "xyx",
};

static int task_parse_in(const char *const *table, int count, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(name, table[i]) == 0)
            return i;
    return -1;
}

const char *task_op_name(task_op op)
{
    return (int)op >= 0 && op < TASK_OP_COUNT ? task_op_names_table[op] : "?";
}

int task_op_parse(const char *name)
{
    return task_parse_in(task_op_names_table, TASK_OP_COUNT, name);
}

const char *task_op_names(void)
{
    return "add, sub, mul, div, x2y2, x2xyy2, x3xy, x3xy2y, rand, x2xyy2x, mix1";
}

const char *task_layout_name(task_layout layout)
{
    return (int)layout >= 0 && layout < TASK_LAYOUT_COUNT ? task_layout_names_table[layout] : "?";
}

int task_layout_parse(const char *name)
{
    return task_parse_in(task_layout_names_table, TASK_LAYOUT_COUNT, name);
}

const char *task_group_op_name(task_group_op op)
{
    return (int)op >= 0 && op < TASK_GROUP_OP_COUNT ? task_group_op_names_table[op] : "?";
}

int task_group_op_parse(const char *name)
{
    return task_parse_in(task_group_op_names_table, TASK_GROUP_OP_COUNT, name);
}

int task_op_is_arithmetic(task_op op)
{
    return (int)op >= 0 && op < TASK_OP_COUNT && op != TASK_OP_RAND;
}

int task_op_needs_prime(task_op op) { return op == TASK_OP_DIV || op == TASK_OP_MIX1; }

int task_is_prime(int p)
{
    if (p < 2)
        return 0;
    for (int d = 2; d <= p / d; d++)
        if (p % d == 0)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* modular arithmetic */

/* x mod p in [0, p) for any sign of x. */
static int64_t task_mod(int64_t x, int64_t p)
{
    int64_t r = x % p;
    return r < 0 ? r + p : r;
}

/* b^-1 mod p for prime p and b != 0 mod p, by Fermat: b^(p-2). */
static int64_t task_inverse(int64_t b, int64_t p)
{
    int64_t result = 1, base = task_mod(b, p);
    for (int64_t e = p - 2; e > 0; e >>= 1) {
        if (e & 1)
            result = result * base % p;
        base = base * base % p;
    }
    return result;
}

int task_apply(task_op op, int p, int a, int b)
{
    GROK_ASSERT(task_op_is_arithmetic(op));
    GROK_ASSERT(p >= TASK_P_MIN && a >= 0 && a < p && b >= 0 && b < p);
    int64_t P = p, A = a, B = b, r = 0;
    switch (op) {
    case TASK_OP_ADD: r = A + B; break;
    case TASK_OP_SUB: r = A - B; break;
    case TASK_OP_MUL: r = A * B; break;
    case TASK_OP_DIV:
        GROK_ASSERT(b != 0 && task_is_prime(p));
        r = A * task_inverse(B, P);
        break;
    case TASK_OP_X2Y2: r = A * A + B * B; break;
    case TASK_OP_X2XYY2: r = A * A + A * B + B * B; break;
    case TASK_OP_X3XY: r = A * A * A + A * B; break;
    case TASK_OP_X3XY2Y: r = A * A * A + A * B * B + B; break;
    case TASK_OP_X2XYY2X: r = A * A + A * B + B * B + A; break;
    case TASK_OP_MIX1:
        GROK_ASSERT(b != 0 && task_is_prime(p));
        r = (b % 2 == 1) ? A * task_inverse(B, P) : A - B;
        break;
    case TASK_OP_RAND:
    case TASK_OP_COUNT: GROK_ASSERT(0 && "not an arithmetic op"); break;
    }
    return (int)task_mod(r, P);
}

int task_group_apply(const group_data *g, task_group_op op, int x, int y)
{
    GROK_ASSERT(x >= 0 && x < g->order && y >= 0 && y < g->order);
    const size_t G = (size_t)g->order;
    int xy = g->mul[(size_t)x * G + (size_t)y];
    switch (op) {
    case TASK_GROUP_OP_XY: return xy;
    case TASK_GROUP_OP_XYXINV: return g->mul[(size_t)xy * G + (size_t)g->inv[x]];
    case TASK_GROUP_OP_XYX: return g->mul[(size_t)xy * G + (size_t)x];
    case TASK_GROUP_OP_COUNT: break;
    }
    GROK_ASSERT(0 && "unknown group op");
    return -1;
}

/* Fills msg-ready values: the largest prime below p (0 if none) and the
 * smallest prime above p within the allowed range (0 if none). */
static void task_nearest_primes(int p, int *below, int *above)
{
    *below = 0;
    *above = 0;
    for (int q = p - 1; q >= 2; q--)
        if (task_is_prime(q)) {
            *below = q;
            break;
        }
    for (int q = p + 1; q <= TASK_P_MAX; q++)
        if (task_is_prime(q)) {
            *above = q;
            break;
        }
}

/* ------------------------------------------------------------------------ */
/* the kinds: shapes, validation, builders */

/* Allocates the arrays every kind fills (operands only when two_operands). */
static int task_alloc(task_data *t, int two_operands)
{
    const size_t N = (size_t)t->n_all, T = (size_t)t->n_ctx;
    if (two_operands) {
        t->a = grok_alloc(N * sizeof(int32_t));
        t->b = grok_alloc(N * sizeof(int32_t));
    }
    t->tokens = grok_alloc(N * T * sizeof(int32_t));
    t->label = grok_alloc(N * sizeof(int32_t));
    t->order = grok_alloc(N * sizeof(int32_t));
    t->train_tokens = grok_alloc((size_t)t->n_train * T * sizeof(int32_t));
    t->train_labels = grok_alloc((size_t)t->n_train * sizeof(int32_t));
    t->test_tokens = grok_alloc((size_t)t->n_test * T * sizeof(int32_t));
    t->test_labels = grok_alloc((size_t)t->n_test * sizeof(int32_t));
    return (!two_operands || (t->a && t->b)) && t->tokens && t->label && t->order &&
           t->train_tokens && t->train_labels && t->test_tokens && t->test_labels;
}

/* The split of an enumerated kind: n_train = floor(frac_train * n_all), at
 * least one example on each side. */
static int task_split_sizes(task_data *t, const char *what, grok_err *e)
{
    /* floor: 0.3 of 113^2 = 12769 gives 3830 training examples (Nanda et al.) */
    int n_train = (int)floor(t->cfg.frac_train * (double)t->n_all);
    int n_test = t->n_all - n_train;
    if (n_train < 1 || n_test < 1)
        return grok_fail(e, GROK_EINVAL,
                         "frac_train = %g: gives %d training and %d test examples of %d "
                         "(%s); each set needs at least 1",
                         t->cfg.frac_train, n_train, n_test, t->n_all, what);
    t->n_train = n_train;
    t->n_test = n_test;
    return GROK_OK;
}

static int task_check_frac(const task_config *cfg, grok_err *e)
{
    if (!(cfg->frac_train > 0.0 && cfg->frac_train < 1.0))
        return grok_fail(e, GROK_EINVAL, "frac_train = %g: must be > 0 and < 1", cfg->frac_train);
    return GROK_OK;
}

/* modular */

static void modular_shape(const task_config *cfg, task_shape *s)
{
    const int p = cfg->p;
    s->n_classes = p;
    switch (cfg->layout) {
    case TASK_LAYOUT_AB: s->n_ctx = 2, s->d_vocab = p; break;
    case TASK_LAYOUT_A_OP_B_EQ: s->n_ctx = 4, s->d_vocab = p + 2; break;
    case TASK_LAYOUT_AB_EQ:
    case TASK_LAYOUT_COUNT: s->n_ctx = 3, s->d_vocab = p + 1; break;
    }
    s->n_all = task_op_needs_prime(cfg->op) ? (long)p * (p - 1) : (long)p * p;
}

static int modular_validate(const task_config *cfg, grok_err *e)
{
    if ((int)cfg->op < 0 || cfg->op >= TASK_OP_COUNT)
        return grok_fail(e, GROK_EINVAL, "op = %d: unknown operation (valid: %s)", (int)cfg->op,
                         task_op_names());
    if ((int)cfg->layout < 0 || cfg->layout >= TASK_LAYOUT_COUNT)
        return grok_fail(e, GROK_EINVAL, "layout = %d: unknown layout (valid: a b =, a b, a op b =)",
                         (int)cfg->layout);
    if (cfg->p < TASK_P_MIN || cfg->p > TASK_P_MAX)
        return grok_fail(e, GROK_EINVAL, "p = %d: must be between %d and %d", cfg->p, TASK_P_MIN,
                         TASK_P_MAX);
    if (task_op_needs_prime(cfg->op) && !task_is_prime(cfg->p)) {
        int below, above;
        task_nearest_primes(cfg->p, &below, &above);
        if (below && above)
            return grok_fail(e, GROK_EINVAL,
                             "p = %d: op '%s' needs a prime p (nearest primes: %d, %d)", cfg->p,
                             task_op_name(cfg->op), below, above);
        return grok_fail(e, GROK_EINVAL, "p = %d: op '%s' needs a prime p (nearest prime: %d)",
                         cfg->p, task_op_name(cfg->op), below ? below : above);
    }
    return task_check_frac(cfg, e);
}

/* Why the Fourier measures do not apply to a modular task ("" when they do):
 * the rule the measures have always used. */
static void modular_grid(task_data *t)
{
    const task_config *c = &t->cfg;
    if (!task_op_is_arithmetic(c->op))
        snprintf(t->no_grid, sizeof t->no_grid, "task '%s' is not modular arithmetic",
                 task_op_name(c->op));
    else if (task_op_needs_prime(c->op))
        snprintf(t->no_grid, sizeof t->no_grid,
                 "task '%s' leaves out the pairs with b = 0, so the (a, b) grid is incomplete",
                 task_op_name(c->op));
    else if (c->p % 2 == 0 || c->p < 3)
        snprintf(t->no_grid, sizeof t->no_grid, "p = %d is even (frequency p/2 has no sine)",
                 c->p);
    else if (t->n_all != c->p * c->p)
        snprintf(t->no_grid, sizeof t->no_grid, "task has %d inputs, not p^2 = %d", t->n_all,
                 c->p * c->p);
    if (!t->no_grid[0])
        t->caps |= TASK_CAP_ZP_GRID;
}

static void modular_tokens(const task_data *t, int a, int b, int32_t *tok)
{
    const int p = t->cfg.p;
    switch (t->cfg.layout) {
    case TASK_LAYOUT_AB: tok[0] = a, tok[1] = b; break;
    case TASK_LAYOUT_A_OP_B_EQ: tok[0] = a, tok[1] = p, tok[2] = b, tok[3] = p + 1; break;
    case TASK_LAYOUT_AB_EQ:
    case TASK_LAYOUT_COUNT: tok[0] = a, tok[1] = b, tok[2] = p; break; /* p: '=' */
    }
}

static int modular_build(task_data *t, uint64_t seed, grok_err *e)
{
    const task_config *cfg = &t->cfg;
    const int p = cfg->p;
    char what[64];
    snprintf(what, sizeof what, "p = %d, op '%s'", p, task_op_name(cfg->op));
    int rc = task_split_sizes(t, what, e);
    if (rc != GROK_OK)
        return rc;
    rng *table = cfg->op == TASK_OP_RAND ? rng_alloc(seed, RNG_STREAM_TABLE, 0) : NULL;
    if (!task_alloc(t, 1) || (cfg->op == TASK_OP_RAND && !table)) {
        rng_free(table);
        return grok_fail(e, GROK_ENOMEM, "task p = %d: out of memory for %d examples", p,
                         t->n_all);
    }
    /* Canonical order r = a*p + b (b = 0 left out for div, mix1); the rand
     * table is drawn in this order, one uniform label per pair. */
    const int skip0 = task_op_needs_prime(cfg->op);
    int r = 0;
    for (int a = 0; a < p; a++)
        for (int b = skip0; b < p; b++, r++) {
            t->a[r] = a;
            t->b[r] = b;
            modular_tokens(t, a, b, t->tokens + (size_t)r * t->n_ctx);
            t->label[r] = cfg->op == TASK_OP_RAND ? (int32_t)rng_uniform_int(table, (uint64_t)p)
                                                  : task_apply(cfg->op, p, a, b);
        }
    GROK_ASSERT(r == t->n_all);
    rng_free(table);
    modular_grid(t);
    return GROK_OK;
}

/* group */

static void group_shape(const task_config *cfg, task_shape *s)
{
    int order = 0;
    if (cfg->group >= 0 && cfg->group < GROUP_ID_COUNT)
        group_id_info(cfg->group, NULL, NULL, &order);
    s->n_ctx = 3;
    s->d_vocab = order + 1;
    s->n_classes = order;
    s->n_all = (long)order * order;
}

static int group_validate(const task_config *cfg, grok_err *e)
{
    if (cfg->group < 0 || cfg->group >= GROUP_ID_COUNT)
        return grok_fail(e, GROK_EINVAL, "group = %d: unknown group (valid: %s)", cfg->group,
                         group_id_names());
    if ((int)cfg->group_op < 0 || cfg->group_op >= TASK_GROUP_OP_COUNT)
        return grok_fail(e, GROK_EINVAL, "group_op = %d: unknown operation (valid: xy, xyxinv, xyx)",
                         (int)cfg->group_op);
    return task_check_frac(cfg, e);
}

static int group_build(task_data *t, uint64_t seed, grok_err *e)
{
    (void)seed;
    const task_config *cfg = &t->cfg;
    char what[64];
    snprintf(what, sizeof what, "group %s, op '%s'", group_id_name(cfg->group),
             task_group_op_name(cfg->group_op));
    int rc = task_split_sizes(t, what, e);
    if (rc != GROK_OK)
        return rc;
    if ((rc = group_init(&t->grp, cfg->group, e)) != GROK_OK)
        return rc;
    if (!task_alloc(t, 1))
        return grok_fail(e, GROK_ENOMEM, "task group %s: out of memory for %d examples",
                         group_id_name(cfg->group), t->n_all);
    const int G = t->grp.order;
    int r = 0;
    for (int x = 0; x < G; x++)
        for (int y = 0; y < G; y++, r++) {
            t->a[r] = x;
            t->b[r] = y;
            int32_t *tok = t->tokens + (size_t)r * 3;
            tok[0] = x, tok[1] = y, tok[2] = G; /* G: '=' */
            t->label[r] = task_group_apply(&t->grp, cfg->group_op, x, y);
        }
    snprintf(t->no_grid, sizeof t->no_grid,
             "task kind 'group' (%s) is composition in a finite group, not arithmetic mod p",
             group_id_name(cfg->group));
    return GROK_OK;
}

/* parity */

static void parity_shape(const task_config *cfg, task_shape *s)
{
    s->n_ctx = cfg->n_bits;
    s->d_vocab = 2;
    s->n_classes = 2;
    s->n_all = (long)cfg->n_train + cfg->n_test;
    s->n_train = cfg->n_train;
}

static int parity_validate(const task_config *cfg, grok_err *e)
{
    if (cfg->n_bits < 1 || cfg->n_bits > TASK_PARITY_N_MAX)
        return grok_fail(e, GROK_EINVAL, "n = %d: must be between 1 and %d", cfg->n_bits,
                         TASK_PARITY_N_MAX);
    if (cfg->k_bits < 1 || cfg->k_bits > cfg->n_bits)
        return grok_fail(e, GROK_EINVAL, "k = %d: must be between 1 and n = %d", cfg->k_bits,
                         cfg->n_bits);
    if (cfg->n_train < 1 || cfg->n_train > TASK_SAMPLES_MAX)
        return grok_fail(e, GROK_EINVAL, "n_train = %d: must be between 1 and %d", cfg->n_train,
                         TASK_SAMPLES_MAX);
    if (cfg->n_test < 1 || cfg->n_test > TASK_SAMPLES_MAX)
        return grok_fail(e, GROK_EINVAL, "n_test = %d: must be between 1 and %d", cfg->n_test,
                         TASK_SAMPLES_MAX);
    return GROK_OK;
}

static int parity_build(task_data *t, uint64_t seed, grok_err *e)
{
    const task_config *cfg = &t->cfg;
    const int n = cfg->n_bits;
    t->n_train = cfg->n_train;
    t->n_test = cfg->n_test;
    rng *table = rng_alloc(seed, RNG_STREAM_TABLE, 0);
    rng *split = rng_alloc(seed, RNG_STREAM_SPLIT, 0);
    if (!table || !split || !task_alloc(t, 0)) {
        rng_free(table);
        rng_free(split);
        return grok_fail(e, GROK_ENOMEM, "task parity n = %d: out of memory for %d examples", n,
                         t->n_all);
    }
    /* The secret: the first k of a random permutation of the positions,
     * ascending. */
    int32_t pos[TASK_PARITY_N_MAX];
    for (int i = 0; i < n; i++)
        pos[i] = i;
    rng_shuffle_i32(table, pos, (size_t)n);
    int in_secret[TASK_PARITY_N_MAX] = {0};
    for (int i = 0; i < cfg->k_bits; i++)
        in_secret[pos[i]] = 1;
    t->n_secret = 0;
    for (int i = 0; i < n; i++)
        if (in_secret[i])
            t->secret[t->n_secret++] = i;
    /* The samples, training set first, every bit a fair coin. */
    for (int r = 0; r < t->n_all; r++) {
        int32_t *tok = t->tokens + (size_t)r * n;
        int x = 0;
        for (int i = 0; i < n; i++) {
            tok[i] = (int32_t)rng_uniform_int(split, 2);
            x ^= in_secret[i] & tok[i];
        }
        t->label[r] = x;
    }
    rng_free(table);
    rng_free(split);
    snprintf(t->no_grid, sizeof t->no_grid,
             "task kind 'parity' is sparse parity of bits, not arithmetic mod p");
    return GROK_OK;
}

typedef struct {
    const char *name;
    unsigned caps;                 /* fixed capabilities (ZP_GRID is decided by the builder) */
    const char *operand_header;    /* split.tsv operand columns */
    const char *const *positions;  /* names of the token positions; NULL: "0".."T-1" */
    void (*shape)(const task_config *, task_shape *);
    int (*validate)(const task_config *, grok_err *);
    int (*build)(task_data *, uint64_t seed, grok_err *); /* sizes, arrays, labels, caps */
} task_kind_def;

static const char *const modular_positions[TASK_LAYOUT_COUNT][4] = {
    [TASK_LAYOUT_AB_EQ] = {"a", "b", "eq"},
    [TASK_LAYOUT_AB] = {"a", "b"},
    [TASK_LAYOUT_A_OP_B_EQ] = {"a", "op", "b", "eq"},
};
static const char *const group_positions[] = {"x", "y", "eq"};

static const task_kind_def task_kinds[TASK_KIND_COUNT] = {
    [TASK_KIND_MODULAR] = {"modular", 0, "a\tb", NULL, modular_shape, modular_validate,
                           modular_build},
    [TASK_KIND_GROUP] = {"group", TASK_CAP_GROUP, "x\ty", group_positions, group_shape,
                         group_validate, group_build},
    [TASK_KIND_PARITY] = {"parity", TASK_CAP_SAMPLED, "bits", NULL, parity_shape,
                          parity_validate, parity_build},
};

const char *task_kind_name(task_kind kind)
{
    return (int)kind >= 0 && kind < TASK_KIND_COUNT ? task_kinds[kind].name : "?";
}

int task_kind_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < TASK_KIND_COUNT; i++)
        if (strcmp(name, task_kinds[i].name) == 0)
            return i;
    return -1;
}

const char *task_kind_names(void) { return "modular, group, parity"; }

void task_shape_of(const task_config *cfg, task_shape *out)
{
    memset(out, 0, sizeof *out);
    if ((int)cfg->kind < 0 || cfg->kind >= TASK_KIND_COUNT)
        return;
    const task_kind_def *k = &task_kinds[cfg->kind];
    k->shape(cfg, out);
    if (!(k->caps & TASK_CAP_SAMPLED))
        out->n_train = (long)floor(cfg->frac_train * (double)out->n_all);
    out->caps = k->caps;
}

const char *task_operand_header(const task_data *t) { return task_kinds[t->cfg.kind].operand_header; }

void task_format_operands(const task_data *t, int r, char *buf, size_t n)
{
    GROK_ASSERT(r >= 0 && r < t->n_all && n > 0);
    if (t->a) {
        snprintf(buf, n, "%d\t%d", (int)t->a[r], (int)t->b[r]);
        return;
    }
    const int32_t *tok = t->tokens + (size_t)r * t->n_ctx;
    size_t i = 0;
    for (; i < (size_t)t->n_ctx && i + 1 < n; i++)
        buf[i] = (char)('0' + tok[i]);
    buf[i] = '\0';
}

const char *task_position_name(const task_data *t, int pos, char *buf, size_t n)
{
    GROK_ASSERT(pos >= 0 && pos < t->n_ctx);
    const char *name = NULL;
    if (t->cfg.kind == TASK_KIND_MODULAR)
        name = modular_positions[t->cfg.layout][pos];
    else if (task_kinds[t->cfg.kind].positions)
        name = task_kinds[t->cfg.kind].positions[pos];
    if (name)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%d", pos);
    return buf;
}

void task_describe(const task_config *cfg, char *buf, size_t n)
{
    switch (cfg->kind) {
    case TASK_KIND_GROUP:
        snprintf(buf, n, "group %s, op %s", group_id_name(cfg->group),
                 task_group_op_name(cfg->group_op));
        break;
    case TASK_KIND_PARITY:
        snprintf(buf, n, "parity n = %d, k = %d", cfg->n_bits, cfg->k_bits);
        break;
    case TASK_KIND_MODULAR:
    case TASK_KIND_COUNT:
        if (cfg->layout == TASK_LAYOUT_AB_EQ)
            snprintf(buf, n, "%s, p = %d", task_op_name(cfg->op), cfg->p);
        else
            snprintf(buf, n, "%s, p = %d, layout '%s'", task_op_name(cfg->op), cfg->p,
                     task_layout_name(cfg->layout));
        break;
    }
}

void task_free(task_data *t)
{
    if (!t)
        return;
    grok_free(t->a);
    grok_free(t->b);
    grok_free(t->tokens);
    grok_free(t->label);
    grok_free(t->order);
    grok_free(t->train_tokens);
    grok_free(t->train_labels);
    grok_free(t->test_tokens);
    grok_free(t->test_labels);
    group_free(&t->grp);
    memset(t, 0, sizeof *t);
}

/* tokens [n, T], labels [n]: example order[i] for i in [0, n). */
static void task_gather(const task_data *t, const int32_t *order, int n, int32_t *tokens,
                        int32_t *labels)
{
    const size_t T = (size_t)t->n_ctx;
    for (int i = 0; i < n; i++) {
        int32_t r = order[i];
        memcpy(tokens + (size_t)i * T, t->tokens + (size_t)r * T, T * sizeof *tokens);
        labels[i] = t->label[r];
    }
}

int task_init(task_data *t, const task_config *cfg, uint64_t seed, grok_err *e)
{
    GROK_ASSERT(t != NULL && cfg != NULL);
    memset(t, 0, sizeof *t);
    if ((int)cfg->kind < 0 || cfg->kind >= TASK_KIND_COUNT)
        return grok_fail(e, GROK_EINVAL, "kind = %d: unknown task kind (valid: %s)",
                         (int)cfg->kind, task_kind_names());
    const task_kind_def *k = &task_kinds[cfg->kind];
    int rc = k->validate(cfg, e);
    if (rc != GROK_OK)
        return rc;
    task_shape s;
    task_shape_of(cfg, &s);
    t->cfg = *cfg;
    t->caps = k->caps;
    t->n_ctx = s.n_ctx;
    t->d_vocab = s.d_vocab;
    t->n_classes = s.n_classes;
    t->n_all = (int)s.n_all;
    if ((rc = k->build(t, seed, e)) != GROK_OK) {
        task_free(t);
        return rc;
    }
    GROK_ASSERT(t->n_train + t->n_test == t->n_all);
    for (int i = 0; i < t->n_all; i++)
        t->order[i] = i;
    if (!(t->caps & TASK_CAP_SAMPLED)) {
        rng *split = rng_alloc(seed, RNG_STREAM_SPLIT, 0);
        if (!split) {
            task_free(t);
            return grok_fail(e, GROK_ENOMEM, "task: out of memory for the split RNG");
        }
        rng_shuffle_i32(split, t->order, (size_t)t->n_all);
        rng_free(split);
    }
    task_gather(t, t->order, t->n_train, t->train_tokens, t->train_labels);
    task_gather(t, t->order + t->n_train, t->n_test, t->test_tokens, t->test_labels);
    if (e)
        e->msg[0] = '\0';
    return GROK_OK;
}

int task_set_order(task_data *t, const int32_t *order, int n_train, grok_err *e)
{
    GROK_ASSERT(t != NULL && order != NULL);
    const int N = t->n_all, T = t->n_ctx;
    if (n_train < 1 || n_train >= N)
        return grok_fail(e, GROK_EINVAL,
                         "a split of %d examples into %d train and %d test: each side needs at "
                         "least one",
                         N, n_train, N - n_train);
    unsigned char *seen = calloc((size_t)N, 1);
    if (!seen)
        return grok_fail(e, GROK_ENOMEM, "task: out of memory checking a split");
    for (int i = 0; i < N; i++) {
        const int32_t r = order[i];
        if (r < 0 || r >= N || seen[r]) {
            free(seen);
            return grok_fail(e, GROK_EINVAL, "split entry %d: example %d %s", i, (int)r,
                             r < 0 || r >= N ? "is out of range" : "appears twice");
        }
        seen[r] = 1;
    }
    free(seen);
    int32_t *tr_tok = grok_alloc((size_t)n_train * T * sizeof(int32_t)),
            *tr_lab = grok_alloc((size_t)n_train * sizeof(int32_t)),
            *te_tok = grok_alloc((size_t)(N - n_train) * T * sizeof(int32_t)),
            *te_lab = grok_alloc((size_t)(N - n_train) * sizeof(int32_t));
    if (!tr_tok || !tr_lab || !te_tok || !te_lab) {
        grok_free(tr_tok);
        grok_free(tr_lab);
        grok_free(te_tok);
        grok_free(te_lab);
        return grok_fail(e, GROK_ENOMEM, "task: out of memory for a split of %d examples", N);
    }
    memcpy(t->order, order, (size_t)N * sizeof *order);
    grok_free(t->train_tokens);
    grok_free(t->train_labels);
    grok_free(t->test_tokens);
    grok_free(t->test_labels);
    t->train_tokens = tr_tok;
    t->train_labels = tr_lab;
    t->test_tokens = te_tok;
    t->test_labels = te_lab;
    t->n_train = n_train;
    t->n_test = N - n_train;
    task_gather(t, t->order, t->n_train, t->train_tokens, t->train_labels);
    task_gather(t, t->order + t->n_train, t->n_test, t->test_tokens, t->test_labels);
    return GROK_OK;
}
