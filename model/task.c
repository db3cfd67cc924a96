/* task.c: the algorithmic datasets of task.h.
 *
 * Owns the operation table (names, formulas), validation of a task_config,
 * the canonical list of examples, the 'rand' control table and the train/test
 * split.  Does not read configs or files and does not batch: the trainer
 * draws minibatches from train_tokens/train_labels itself.
 *
 * The operations follow the binary operations mod p of Power et al. 2022
 * ("Grokking: generalization beyond overfitting", appendix A.1); Nanda et al.
 * 2023 study addition.  'rand' is a fixed random table of the same shape, a
 * control with no structure to generalise from.
 * Formulas are evaluated in int64 with operands reduced mod p first, so
 * a^3 + ab^2 + b stays below 3e9 for p <= 1000 and never overflows.
 *
 * Legend: p modulus, N = n_all examples, T = TASK_N_CTX = 3 positions. */
#include "task.h"

#include <math.h>
#include <string.h>

#include "rng.h"

#define TASK_P_MIN 2
#define TASK_P_MAX 1000

static const char *const task_op_names_table[TASK_OP_COUNT] = {
    [TASK_OP_ADD] = "add",     [TASK_OP_SUB] = "sub",       [TASK_OP_MUL] = "mul",
    [TASK_OP_DIV] = "div",     [TASK_OP_X2Y2] = "x2y2",     [TASK_OP_X2XYY2] = "x2xyy2",
    [TASK_OP_X3XY] = "x3xy",   [TASK_OP_X3XY2Y] = "x3xy2y", [TASK_OP_RAND] = "rand",
};

const char *task_op_name(task_op op)
{
    if ((int)op < 0 || op >= TASK_OP_COUNT)
        return "?";
    return task_op_names_table[op];
}

int task_op_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < TASK_OP_COUNT; i++)
        if (strcmp(name, task_op_names_table[i]) == 0)
            return i;
    return -1;
}

const char *task_op_names(void)
{
    return "add, sub, mul, div, x2y2, x2xyy2, x3xy, x3xy2y, rand";
}

int task_op_is_arithmetic(task_op op)
{
    return (int)op >= 0 && op < TASK_OP_COUNT && op != TASK_OP_RAND;
}

int task_is_prime(int p)
{
    if (p < 2)
        return 0;
    for (int d = 2; d <= p / d; d++)
        if (p % d == 0)
            return 0;
    return 1;
}

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
    case TASK_OP_RAND:
    case TASK_OP_COUNT: GROK_ASSERT(0 && "not an arithmetic op"); break;
    }
    return (int)task_mod(r, P);
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

static int task_validate(const task_config *cfg, grok_err *e)
{
    if ((int)cfg->op < 0 || cfg->op >= TASK_OP_COUNT)
        return grok_fail(e, GROK_EINVAL, "op = %d: unknown operation (valid: %s)", (int)cfg->op,
                         task_op_names());
    if (cfg->p < TASK_P_MIN || cfg->p > TASK_P_MAX)
        return grok_fail(e, GROK_EINVAL, "p = %d: must be between %d and %d", cfg->p, TASK_P_MIN,
                         TASK_P_MAX);
    if (cfg->op == TASK_OP_DIV && !task_is_prime(cfg->p)) {
        int below, above;
        task_nearest_primes(cfg->p, &below, &above);
        if (below && above)
            return grok_fail(e, GROK_EINVAL,
                             "p = %d: op 'div' needs a prime p (nearest primes: %d, %d)", cfg->p,
                             below, above);
        return grok_fail(e, GROK_EINVAL, "p = %d: op 'div' needs a prime p (nearest prime: %d)",
                         cfg->p, below ? below : above);
    }
    if (!(cfg->frac_train > 0.0 && cfg->frac_train < 1.0))
        return grok_fail(e, GROK_EINVAL, "frac_train = %g: must be > 0 and < 1", cfg->frac_train);
    return GROK_OK;
}

void task_free(task_data *t)
{
    if (!t)
        return;
    grok_free(t->a);
    grok_free(t->b);
    grok_free(t->label);
    grok_free(t->order);
    grok_free(t->train_tokens);
    grok_free(t->train_labels);
    grok_free(t->test_tokens);
    grok_free(t->test_labels);
    memset(t, 0, sizeof *t);
}

/* tokens [n, T], labels [n]: example order[i] for i in [0, n). */
static void task_gather(const task_data *t, const int32_t *order, int n, int32_t *tokens,
                        int32_t *labels)
{
    for (int i = 0; i < n; i++) {
        int32_t r = order[i];
        tokens[(size_t)i * TASK_N_CTX + 0] = t->a[r];
        tokens[(size_t)i * TASK_N_CTX + 1] = t->b[r];
        tokens[(size_t)i * TASK_N_CTX + 2] = t->cfg.p; /* the '=' token */
        labels[i] = t->label[r];
    }
}

int task_init(task_data *t, const task_config *cfg, uint64_t seed, grok_err *e)
{
    GROK_ASSERT(t != NULL && cfg != NULL);
    memset(t, 0, sizeof *t);
    int rc = task_validate(cfg, e);
    if (rc != GROK_OK)
        return rc;

    int p = cfg->p;
    int n_all = cfg->op == TASK_OP_DIV ? p * (p - 1) : p * p;
    /* floor: 0.3 of 113^2 = 12769 gives 3830 training examples (Nanda et al.) */
    double share = floor(cfg->frac_train * (double)n_all);
    int n_train = (int)share;
    int n_test = n_all - n_train;
    if (n_train < 1 || n_test < 1)
        return grok_fail(e, GROK_EINVAL,
                         "frac_train = %g: gives %d training and %d test examples of %d "
                         "(p = %d, op '%s'); each set needs at least 1",
                         cfg->frac_train, n_train, n_test, n_all, p, task_op_name(cfg->op));

    t->cfg = *cfg;
    t->n_all = n_all;
    t->n_train = n_train;
    t->n_test = n_test;
    size_t N = (size_t)n_all;
    t->a = grok_alloc(N * sizeof(int32_t));
    t->b = grok_alloc(N * sizeof(int32_t));
    t->label = grok_alloc(N * sizeof(int32_t));
    t->order = grok_alloc(N * sizeof(int32_t));
    t->train_tokens = grok_alloc((size_t)n_train * TASK_N_CTX * sizeof(int32_t));
    t->train_labels = grok_alloc((size_t)n_train * sizeof(int32_t));
    t->test_tokens = grok_alloc((size_t)n_test * TASK_N_CTX * sizeof(int32_t));
    t->test_labels = grok_alloc((size_t)n_test * sizeof(int32_t));
    rng *table = cfg->op == TASK_OP_RAND ? rng_alloc(seed, RNG_STREAM_TABLE, 0) : NULL;
    rng *split = rng_alloc(seed, RNG_STREAM_SPLIT, 0);
    if (!t->a || !t->b || !t->label || !t->order || !t->train_tokens || !t->train_labels ||
        !t->test_tokens || !t->test_labels || !split || (cfg->op == TASK_OP_RAND && !table)) {
        rng_free(table);
        rng_free(split);
        task_free(t);
        return grok_fail(e, GROK_ENOMEM, "task p = %d: out of memory for %d examples", p, n_all);
    }

    /* Canonical order r = a*p + b (b = 0 left out for div); the rand table is
     * drawn in this order, one uniform label per pair. */
    int r = 0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            if (cfg->op == TASK_OP_DIV && b == 0)
                continue;
            t->a[r] = a;
            t->b[r] = b;
            t->label[r] = cfg->op == TASK_OP_RAND ? (int32_t)rng_uniform_int(table, (uint64_t)p)
                                                  : task_apply(cfg->op, p, a, b);
            r++;
        }
    GROK_ASSERT(r == n_all);

    for (int i = 0; i < n_all; i++)
        t->order[i] = i;
    rng_shuffle_i32(split, t->order, N);
    task_gather(t, t->order, n_train, t->train_tokens, t->train_labels);
    task_gather(t, t->order + n_train, n_test, t->test_tokens, t->test_labels);

    rng_free(table);
    rng_free(split);
    if (e)
        e->msg[0] = '\0';
    return GROK_OK;
}
