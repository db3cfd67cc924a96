/* test_task.c: the algorithmic datasets (task.h) and the groups (group.h):
 * every modular operation against a direct formula, division's inverse, set
 * sizes, the split, the rand table, the token layouts, the groups (orders,
 * lexicographic numbering, the multiplication table against composing the
 * permutations, associativity, identity, inverses, the three group ops),
 * sparse parity against the XOR of the recorded secret bits, the
 * capabilities, and each promised validation message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"
#include "task.h"

/* The formulas written out a second way: each product reduced mod p before
 * the next, so the reference shares no intermediate values with task.c. */
static int ref_op(task_op op, int p, int a, int b)
{
    long long P = p, A = a, B = b, r = 0;
    switch (op) {
    case TASK_OP_ADD: r = A + B; break;
    case TASK_OP_SUB: r = A + (P - B); break;
    case TASK_OP_MUL: r = A * B; break;
    case TASK_OP_DIV: {
        long long inv = -1; /* search: the unique x with b*x = 1 mod p */
        for (long long x = 1; x < P; x++)
            if (B * x % P == 1) {
                inv = x;
                break;
            }
        assert_true(inv > 0);
        r = A * inv;
        break;
    }
    case TASK_OP_X2Y2: r = A * A % P + B * B % P; break;
    case TASK_OP_X2XYY2: r = A * A % P + A * B % P + B * B % P; break;
    case TASK_OP_X3XY: r = (A * A % P) * A % P + A * B % P; break;
    case TASK_OP_X3XY2Y: r = (A * A % P) * A % P + A * (B * B % P) % P + B; break;
    case TASK_OP_X2XYY2X: r = A * A % P + A * B % P + B * B % P + A; break;
    case TASK_OP_MIX1:
        if (B % 2 == 1)
            return ref_op(TASK_OP_DIV, p, a, b);
        r = A + (P - B);
        break;
    case TASK_OP_RAND:
    case TASK_OP_COUNT: fail_msg("no formula for op %d", (int)op);
    }
    return (int)(r % P);
}

static void test_ops_against_formulas(void **state)
{
    (void)state;
    const int ps[] = {2, 7, 10, 11, 31};
    int checked = 0;
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        int p = ps[k];
        for (int op = 0; op < TASK_OP_COUNT; op++) {
            if (op == TASK_OP_RAND || (task_op_needs_prime((task_op)op) && !task_is_prime(p)))
                continue;
            task_config cfg = {.op = (task_op)op, .p = p, .frac_train = 0.5};
            task_data t;
            grok_err e = {{0}};
            if (task_init(&t, &cfg, 1, &e) != GROK_OK)
                fail_msg("p = %d op %s: %s", p, task_op_name((task_op)op), e.msg);
            int r = 0;
            for (int a = 0; a < p; a++)
                for (int b = task_op_needs_prime((task_op)op); b < p; b++, r++) {
                    assert_int_equal(t.a[r], a);
                    assert_int_equal(t.b[r], b);
                    int want = ref_op((task_op)op, p, a, b);
                    if (t.label[r] != want || task_apply((task_op)op, p, a, b) != want)
                        fail_msg("p = %d %s(%d, %d): label %d, task_apply %d, want %d", p,
                                 task_op_name((task_op)op), a, b, t.label[r],
                                 task_apply((task_op)op, p, a, b), want);
                    checked++;
                }
            assert_int_equal(r, t.n_all);
            task_free(&t);
        }
    }
    printf("# %d labels of 10 ops at p = 2, 7, 10, 11, 31 (div, mix1 at primes only) equal the "
           "formulas\n",
           checked);
}

/* The largest operands: a^3 + ab^2 + b near 2e9 must not overflow. */
static void test_large_p(void **state)
{
    (void)state;
    const int p = 997;
    int checked = 0;
    for (int op = 0; op < TASK_OP_COUNT; op++)
        for (int a = p - 40; a < p && op != TASK_OP_RAND; a += 3)
            for (int b = 1; b < p; b += 37) {
                int want = ref_op((task_op)op, p, a, b);
                int got = task_apply((task_op)op, p, a, b);
                if (got != want)
                    fail_msg("p = %d %s(%d, %d) = %d, want %d", p, task_op_name((task_op)op), a, b,
                             got, want);
                checked++;
            }
    const long long m = 999; /* p = 1000: 999^3 + 999^3 + 999 = 1994006997 */
    assert_int_equal(task_apply(TASK_OP_X3XY2Y, 1000, 999, 999), (int)((2 * m * m * m + m) % 1000));
    printf("# %d values of 10 ops at p = 997 with operands near p equal the formulas\n", checked);
}

static void test_div_inverse(void **state)
{
    (void)state;
    const int ps[] = {2, 3, 113, 997};
    int checked = 0;
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        int p = ps[k];
        for (int b = 1; b < p; b++) {
            int inv = task_apply(TASK_OP_DIV, p, 1, b);
            if ((long long)b * inv % p != 1)
                fail_msg("p = %d: b = %d, b^-1 = %d, b * b^-1 mod p = %lld", p, b, inv,
                         (long long)b * inv % p);
            /* a / b * b = a */
            int a = (b * 7 + 3) % p;
            assert_int_equal((long long)task_apply(TASK_OP_DIV, p, a, b) * b % p, a);
            checked++;
        }
    }
    printf("# b * b^-1 = 1 and (a / b) * b = a for all %d nonzero b at p = 2, 3, 113, 997\n",
           checked);
}

static void test_sizes(void **state)
{
    (void)state;
    const struct {
        task_op op;
        int p;
        double frac;
        int n_all, n_train;
    } c[] = {
        {TASK_OP_ADD, 113, 0.3, 12769, 3830}, /* Nanda et al.: 3,830 training pairs */
        {TASK_OP_DIV, 113, 0.3, 12656, 3796},
        {TASK_OP_RAND, 97, 0.5, 9409, 4704},
        {TASK_OP_SUB, 2, 0.25, 4, 1},
        {TASK_OP_DIV, 2, 0.5, 2, 1},
        {TASK_OP_MIX1, 97, 0.5, 9312, 4656},
        {TASK_OP_X2XYY2X, 97, 0.4, 9409, 3763},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        task_config cfg = {.op = c[i].op, .p = c[i].p, .frac_train = c[i].frac};
        task_data t;
        grok_err e = {{0}};
        if (task_init(&t, &cfg, 3, &e) != GROK_OK)
            fail_msg("%s p = %d: %s", task_op_name(c[i].op), c[i].p, e.msg);
        printf("# %s p = %d frac %.2f: n_all %d, n_train %d, n_test %d\n", task_op_name(c[i].op),
               c[i].p, c[i].frac, t.n_all, t.n_train, t.n_test);
        assert_int_equal(t.n_all, c[i].n_all);
        assert_int_equal(t.n_train, c[i].n_train);
        assert_int_equal(t.n_test, c[i].n_all - c[i].n_train);
        assert_int_equal(t.cfg.p, c[i].p);
        task_free(&t);
    }
}

/* order is a permutation, and train/test tokens and labels are the gathered
 * examples [a, b, p] in that order. */
static void check_split(const task_data *t)
{
    int *seen = calloc((size_t)t->n_all, sizeof *seen);
    assert_non_null(seen);
    for (int i = 0; i < t->n_all; i++) {
        assert_true(t->order[i] >= 0 && t->order[i] < t->n_all);
        seen[t->order[i]]++;
    }
    for (int i = 0; i < t->n_all; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    for (int i = 0; i < t->n_all; i++) {
        int r = t->order[i];
        size_t j = i < t->n_train ? (size_t)i : (size_t)(i - t->n_train);
        const int32_t *tok = (i < t->n_train ? t->train_tokens : t->test_tokens) + j * t->n_ctx;
        assert_memory_equal(tok, t->tokens + (size_t)r * t->n_ctx, (size_t)t->n_ctx * 4);
        int32_t lab = i < t->n_train ? t->train_labels[i] : t->test_labels[i - t->n_train];
        if (t->cfg.kind == TASK_KIND_MODULAR && t->cfg.layout == TASK_LAYOUT_AB_EQ) {
            assert_int_equal(t->n_ctx, 3);
            assert_int_equal(tok[0], t->a[r]);
            assert_int_equal(tok[1], t->b[r]);
            assert_int_equal(tok[2], t->cfg.p);
        }
        assert_int_equal(lab, t->label[r]);
    }
}

static void test_split(void **state)
{
    (void)state;
    task_config cfg = {.op = TASK_OP_ADD, .p = 113, .frac_train = 0.3};
    task_data t1, t2, t3;
    assert_int_equal(task_init(&t1, &cfg, 999, NULL), GROK_OK);
    assert_int_equal(task_init(&t2, &cfg, 999, NULL), GROK_OK);
    assert_int_equal(task_init(&t3, &cfg, 1000, NULL), GROK_OK);
    check_split(&t1);
    check_split(&t3);
    size_t bytes = (size_t)t1.n_all * sizeof(int32_t);
    assert_memory_equal(t1.order, t2.order, bytes);
    assert_memory_equal(t1.train_tokens, t2.train_tokens,
                        (size_t)t1.n_train * t1.n_ctx * sizeof(int32_t));
    assert_memory_equal(t1.test_labels, t2.test_labels, (size_t)t1.n_test * sizeof(int32_t));
    int same = 0, identity = 0;
    for (int i = 0; i < t1.n_all; i++) {
        same += t1.order[i] == t3.order[i];
        identity += t1.order[i] == i;
    }
    /* Labels do not depend on the seed for an arithmetic op. */
    assert_memory_equal(t1.label, t3.label, bytes);
    printf("# add p = 113: split is a permutation, identical for seed 999 twice; seeds 999 and "
           "1000 agree at %d of %d places, seed 999 leaves %d fixed points\n",
           same, t1.n_all, identity);
    assert_true(same < 20);
    assert_true(identity < 20);
    task_free(&t1);
    task_free(&t2);
    task_free(&t3);
}

static void test_rand_table(void **state)
{
    (void)state;
    task_config cfg = {.op = TASK_OP_RAND, .p = 97, .frac_train = 0.3};
    task_data t1, t2, t3, add;
    assert_int_equal(task_init(&t1, &cfg, 5, NULL), GROK_OK);
    assert_int_equal(task_init(&t2, &cfg, 5, NULL), GROK_OK);
    assert_int_equal(task_init(&t3, &cfg, 6, NULL), GROK_OK);
    task_config cfg_add = {.op = TASK_OP_ADD, .p = 97, .frac_train = 0.3};
    assert_int_equal(task_init(&add, &cfg_add, 5, NULL), GROK_OK);
    check_split(&t1);
    size_t bytes = (size_t)t1.n_all * sizeof(int32_t);
    assert_memory_equal(t1.label, t2.label, bytes);
    /* The table has its own stream: the split of seed 5 is that of 'add',
     * and the labels are the table stream's draws in canonical order. */
    assert_memory_equal(t1.order, add.order, bytes);
    rng *r = rng_alloc(5, RNG_STREAM_TABLE, 0);
    assert_non_null(r);
    for (int i = 0; i < t1.n_all; i++)
        assert_int_equal(t1.label[i], (int32_t)rng_uniform_int(r, 97));
    rng_free(r);
    int same = 0, count[97] = {0}, as_add = 0;
    for (int i = 0; i < t1.n_all; i++) {
        assert_true(t1.label[i] >= 0 && t1.label[i] < 97);
        count[t1.label[i]]++;
        same += t1.label[i] == t3.label[i];
        as_add += t1.label[i] == add.label[i];
    }
    double expect = t1.n_all / 97.0, chi2 = 0.0;
    for (int k = 0; k < 97; k++)
        chi2 += (count[k] - expect) * (count[k] - expect) / expect;
    /* chi-square with 96 degrees of freedom: mean 96, sd 14. */
    printf("# rand p = 97: labels are the table stream's draws, the same for seed 5 twice; seeds "
           "5 and 6 agree at %d of %d (expect ~97); agrees with add at %d; chi-square %.1f "
           "(< 180); split equals add's\n",
           same, t1.n_all, as_add, chi2);
    assert_true(same < 200);
    assert_true(as_add < 200);
    assert_true(chi2 < 180.0);
    assert_false(task_op_is_arithmetic(TASK_OP_RAND));
    task_free(&t1);
    task_free(&t2);
    task_free(&t3);
    task_free(&add);
}

/* Builds cfg, expects GROK_EINVAL with `want` in the message and a zeroed t. */
static void expect_rejected(task_op op, int p, double frac, const char *want)
{
    task_config cfg = {.op = op, .p = p, .frac_train = frac};
    task_data t;
    grok_err e = {{0}};
    int rc = task_init(&t, &cfg, 1, &e);
    printf("# rejected: %s\n", e.msg);
    assert_int_equal(rc, GROK_EINVAL);
    if (!strstr(e.msg, want))
        fail_msg("message '%s' does not contain '%s'", e.msg, want);
    assert_null(t.a);
    assert_null(t.order);
    assert_int_equal(t.n_all, 0);
    task_free(&t); /* safe on a failed init */
}

static void test_invalid_configs(void **state)
{
    (void)state;
    expect_rejected(TASK_OP_DIV, 100, 0.3,
                    "p = 100: op 'div' needs a prime p (nearest primes: 97, 101)");
    expect_rejected(TASK_OP_DIV, 4, 0.3,
                    "p = 4: op 'div' needs a prime p (nearest primes: 3, 5)");
    expect_rejected(TASK_OP_DIV, 1000, 0.3,
                    "p = 1000: op 'div' needs a prime p (nearest prime: 997)");
    expect_rejected(TASK_OP_ADD, 1, 0.3, "p = 1: must be between 2 and 1000");
    expect_rejected(TASK_OP_ADD, 1001, 0.3, "p = 1001: must be between 2 and 1000");
    expect_rejected(TASK_OP_DIV, -5, 0.3, "p = -5: must be between 2 and 1000");
    expect_rejected(TASK_OP_ADD, 113, 0.0, "frac_train = 0: must be > 0 and < 1");
    expect_rejected(TASK_OP_ADD, 113, 1.0, "frac_train = 1: must be > 0 and < 1");
    expect_rejected(TASK_OP_ADD, 113, -0.3, "frac_train = -0.3: must be > 0 and < 1");
    expect_rejected(TASK_OP_ADD, 113, NAN, "frac_train = nan: must be > 0 and < 1");
    expect_rejected(TASK_OP_ADD, 2, 0.1,
                    "frac_train = 0.1: gives 0 training and 4 test examples of 4 (p = 2, op "
                    "'add'); each set needs at least 1");
    expect_rejected((task_op)TASK_OP_COUNT, 113, 0.3,
                    "op = 11: unknown operation (valid: add, sub, mul, div, x2y2, x2xyy2, x3xy, "
                    "x3xy2y, rand, x2xyy2x, mix1)");
    expect_rejected(TASK_OP_MIX1, 100, 0.3,
                    "p = 100: op 'mix1' needs a prime p (nearest primes: 97, 101)");
    /* The edges that are allowed. */
    task_data t;
    task_config ok = {.op = TASK_OP_DIV, .p = 997, .frac_train = 0.001};
    assert_int_equal(task_init(&t, &ok, 1, NULL), GROK_OK);
    task_free(&t);
    ok = (task_config){.op = TASK_OP_MUL, .p = 1000, .frac_train = 0.999};
    assert_int_equal(task_init(&t, &ok, 1, NULL), GROK_OK);
    assert_int_equal(t.n_test, 1000);
    task_free(&t);
}

static void test_names_and_primes(void **state)
{
    (void)state;
    for (int op = 0; op < TASK_OP_COUNT; op++) {
        const char *name = task_op_name((task_op)op);
        assert_int_equal(task_op_parse(name), op);
        assert_non_null(strstr(task_op_names(), name));
        assert_int_equal(task_op_is_arithmetic((task_op)op), op != TASK_OP_RAND);
    }
    assert_int_equal(task_op_parse("Add"), -1);
    assert_int_equal(task_op_parse("mod_add"), -1);
    assert_int_equal(task_op_parse(NULL), -1);
    /* Count primes below 1000 (there are 168) and check a few by hand. */
    int n = 0;
    for (int q = 0; q < 1000; q++)
        n += task_is_prime(q);
    assert_int_equal(n, 168);
    assert_false(task_is_prime(1));
    assert_true(task_is_prime(2));
    assert_true(task_is_prime(113));
    assert_false(task_is_prime(961)); /* 31^2 */
    assert_true(task_is_prime(997));
    printf("# 11 op names round-trip; %d primes below 1000 (want 168)\n", n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_against_formulas), cmocka_unit_test(test_large_p),
        cmocka_unit_test(test_div_inverse),          cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_split),                cmocka_unit_test(test_rand_table),
        cmocka_unit_test(test_invalid_configs),      cmocka_unit_test(test_names_and_primes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
