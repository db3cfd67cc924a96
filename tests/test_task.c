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

#include "group.h"
#include "rng.h"
#include "task.h"
#include "testutil.h"

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


/* ---- layouts ------------------------------------------------------------- */

static void test_layouts(void **state)
{
    (void)state;
    const int p = 31;
    task_data t[TASK_LAYOUT_COUNT];
    const int want_ctx[TASK_LAYOUT_COUNT] = {3, 2, 4}, want_vocab[TASK_LAYOUT_COUNT] = {32, 31, 33};
    for (int l = 0; l < TASK_LAYOUT_COUNT; l++) {
        task_config cfg = {.op = TASK_OP_SUB, .p = p, .frac_train = 0.4, .layout = (task_layout)l};
        assert_int_equal(task_init(&t[l], &cfg, 8, NULL), GROK_OK);
        assert_int_equal(t[l].n_ctx, want_ctx[l]);
        assert_int_equal(t[l].d_vocab, want_vocab[l]);
        assert_int_equal(t[l].n_classes, p);
        check_split(&t[l]);
        task_shape s;
        task_shape_of(&cfg, &s);
        assert_int_equal(s.n_ctx, t[l].n_ctx);
        assert_int_equal(s.d_vocab, t[l].d_vocab);
        assert_int_equal(s.n_classes, t[l].n_classes);
        assert_int_equal(s.n_all, t[l].n_all);
        assert_int_equal(s.n_train, t[l].n_train);
        /* every layout has the Fourier grid: the number tokens are 0..p-1 */
        assert_true(t[l].caps & TASK_CAP_ZP_GRID);
        for (int r = 0; r < t[l].n_all; r++) {
            const int32_t *tok = t[l].tokens + (size_t)r * t[l].n_ctx;
            int a = r / p, b = r % p;
            if (l == TASK_LAYOUT_AB_EQ) {
                assert_true(tok[0] == a && tok[1] == b && tok[2] == p);
            } else if (l == TASK_LAYOUT_AB) {
                assert_true(tok[0] == a && tok[1] == b);
            } else {
                assert_true(tok[0] == a && tok[1] == p && tok[2] == b && tok[3] == p + 1);
            }
            for (int i = 0; i < t[l].n_ctx; i++)
                assert_true(tok[i] >= 0 && tok[i] < t[l].d_vocab);
        }
    }
    /* the layout changes the tokens only: same labels, same split */
    for (int l = 1; l < TASK_LAYOUT_COUNT; l++) {
        assert_memory_equal(t[l].label, t[0].label, (size_t)t[0].n_all * 4);
        assert_memory_equal(t[l].order, t[0].order, (size_t)t[0].n_all * 4);
    }
    char buf[16];
    assert_string_equal(task_position_name(&t[2], 1, buf, sizeof buf), "op");
    assert_string_equal(task_position_name(&t[0], 2, buf, sizeof buf), "eq");
    for (int l = 0; l < TASK_LAYOUT_COUNT; l++) {
        assert_int_equal(task_layout_parse(task_layout_name((task_layout)l)), l);
        task_free(&t[l]);
    }
    assert_int_equal(task_layout_parse("a  b"), -1);
    printf("# sub p = 31 in layouts \"a b =\", \"a b\", \"a op b =\": n_ctx 3/2/4, vocabulary "
           "32/31/33, tokens as documented, the same labels and split\n");
}

/* ---- groups -------------------------------------------------------------- */

static long factorial(int n) { return n <= 1 ? 1 : n * factorial(n - 1); }

/* Parity of a permutation by counting cycles (a second method: group.c
 * counts inversions). */
static int perm_is_even(const int32_t *x, int n)
{
    int seen[128] = {0}, cycles = 0;
    for (int i = 0; i < n; i++)
        if (!seen[i]) {
            cycles++;
            for (int j = i; !seen[j]; j = x[j])
                seen[j] = 1;
        }
    return (n - cycles) % 2 == 0;
}

/* The element equal to perm, by a linear scan (group_find bisects). */
static int find_linear(const group_data *g, const int32_t *perm)
{
    for (int x = 0; x < g->order; x++)
        if (memcmp(g->perm + (size_t)x * g->n, perm, (size_t)g->n * sizeof *perm) == 0)
            return x;
    return -1;
}

/* (x*y)(i) = x(y(i)) by looking the permutations up, then the index. */
static int compose(const group_data *g, int x, int y)
{
    int32_t z[128];
    const int32_t *px = g->perm + (size_t)x * g->n, *py = g->perm + (size_t)y * g->n;
    for (int i = 0; i < g->n; i++)
        z[i] = px[py[i]];
    return find_linear(g, z);
}

static void check_group(const group_data *g, const char *name)
{
    const int n = g->n, G = g->order;
    /* each element is a permutation of 0..n-1; strictly increasing order */
    for (int x = 0; x < G; x++) {
        const int32_t *px = g->perm + (size_t)x * n;
        int seen[128] = {0};
        for (int i = 0; i < n; i++) {
            assert_true(px[i] >= 0 && px[i] < n);
            seen[px[i]]++;
        }
        for (int i = 0; i < n; i++)
            assert_int_equal(seen[i], 1);
        if (x > 0) {
            const int32_t *prev = px - n;
            int i = 0;
            while (i < n && prev[i] == px[i])
                i++;
            if (!(i < n && prev[i] < px[i]))
                fail_msg("%s: element %d is not lexicographically after element %d", name, x,
                         x - 1);
        }
        if (g->family == GROUP_ALTERNATING)
            assert_true(perm_is_even(px, n));
        if (g->family == GROUP_DIHEDRAL) {
            /* i -> i + k or i -> k - i (mod n) for k = px[0] */
            int k = px[0], rot = 1, refl = 1;
            for (int i = 0; i < n; i++) {
                rot &= px[i] == (i + k) % n;
                refl &= px[i] == ((k - i) % n + n) % n;
            }
            assert_true(rot || refl);
        }
    }
    /* the identity is element 0 */
    for (int i = 0; i < n; i++)
        assert_int_equal(g->perm[i], i);
    /* the table against composing, identity, inverses */
    for (int x = 0; x < G; x++) {
        assert_int_equal(g->mul[(size_t)x * G], x);
        assert_int_equal(g->mul[x], x);
        assert_int_equal(g->mul[(size_t)x * G + g->inv[x]], 0);
        assert_int_equal(g->mul[(size_t)g->inv[x] * G + x], 0);
        assert_int_equal(group_find(g, g->perm + (size_t)x * n), x);
    }
    const int step = G > 60 ? 7 : 1; /* all pairs for the small groups */
    long checked = 0, assoc = 0;
    for (int x = 0; x < G; x += step)
        for (int y = 0; y < G; y += (step > 1 ? 3 : 1)) {
            assert_int_equal(g->mul[(size_t)x * G + y], compose(g, x, y));
            checked++;
        }
    /* associativity: every triple for |G| <= 24, a stride through the rest */
    const int st = G <= 24 ? 1 : (G <= 120 ? 5 : 17);
    for (int x = 0; x < G; x += st)
        for (int y = 0; y < G; y += st)
            for (int z = 0; z < G; z += st) {
                int l = g->mul[(size_t)g->mul[(size_t)x * G + y] * G + z];
                int r = g->mul[(size_t)x * G + g->mul[(size_t)y * G + z]];
                if (l != r)
                    fail_msg("%s: (%d*%d)*%d = %d but %d*(%d*%d) = %d", name, x, y, z, l, x, y,
                             z, r);
                assoc++;
            }
    printf("#   %s: order %d, %ld products against composition, %ld triples associative\n", name,
           G, checked, assoc);
}

static void test_groups(void **state)
{
    (void)state;
    int n_checked = 0;
    for (int id = 0; id < GROUP_ID_COUNT; id++) {
        group_family f;
        int n, order;
        group_id_info(id, &f, &n, &order);
        long want = f == GROUP_SYMMETRIC ? factorial(n) : f == GROUP_ALTERNATING ? factorial(n) / 2
                                                                                 : 2L * n;
        assert_int_equal(order, want);
        const char *name = group_id_name(id);
        assert_int_equal(group_id_parse(name), id);
        char buf[8];
        snprintf(buf, sizeof buf, "%c%d", f == GROUP_SYMMETRIC ? 'S' : f == GROUP_ALTERNATING ? 'A' : 'D', n);
        assert_string_equal(name, buf);
        /* build every S_n, A_n and a spread of D_n (D3, D4, D5 ... and D100) */
        if (f == GROUP_DIHEDRAL && !(n <= 8 || n % 23 == 0 || n == 100))
            continue;
        group_data g;
        grok_err e = {{0}};
        if (group_init(&g, id, &e) != GROK_OK)
            fail_msg("%s: %s", name, e.msg);
        assert_int_equal(g.order, want);
        assert_int_equal(g.n, n);
        check_group(&g, name);
        group_free(&g);
        n_checked++;
    }
    /* S_n holds every permutation: n! distinct ones were checked above; and
     * S3 = D3 as sets (the triangle's symmetries are all permutations) */
    group_data s3, d3;
    assert_int_equal(group_init(&s3, group_id_parse("S3"), NULL), GROK_OK);
    assert_int_equal(group_init(&d3, group_id_parse("D3"), NULL), GROK_OK);
    assert_memory_equal(s3.perm, d3.perm, 6 * 3 * sizeof(int32_t));
    assert_memory_equal(s3.mul, d3.mul, 36 * sizeof(int32_t));
    group_free(&s3);
    group_free(&d3);
    /* names that are not groups */
    char why[64];
    const struct {
        const char *name, *why;
    } bad[] = {{"S7", "too large (5040 elements)"}, {"A9", "too large (181440 elements)"},
               {"D101", "too large (202 elements)"}, {"S2", "too small"},
               {"D1", "too small"},          {"Z5", "unknown group"},
               {"s5", "unknown group"},      {"S", "unknown group"},
               {"S5x", "unknown group"},     {"", "unknown group"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(group_id_parse(bad[i].name), -1);
        assert_string_equal(group_id_problem(bad[i].name, why, sizeof why), bad[i].why);
    }
    assert_int_equal(group_id_parse(NULL), -1);
    printf("# %d groups built: orders n!, n!/2, 2n; elements are permutations in strictly "
           "increasing lexicographic order, identity first; tables agree with composition, "
           "associative, with identity and inverses; S3 = D3\n",
           n_checked);
}

static void test_group_tasks(void **state)
{
    (void)state;
    const char *names[] = {"S4", "A5", "D7"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        for (int op = 0; op < TASK_GROUP_OP_COUNT; op++) {
            task_config cfg = {.kind = TASK_KIND_GROUP, .group = group_id_parse(names[k]),
                               .group_op = (task_group_op)op, .frac_train = 0.5};
            task_data t;
            grok_err e = {{0}};
            if (task_init(&t, &cfg, 11, &e) != GROK_OK)
                fail_msg("%s %s: %s", names[k], task_group_op_name((task_group_op)op), e.msg);
            const group_data *g = &t.grp;
            const int G = g->order;
            assert_int_equal(t.n_all, G * G);
            assert_int_equal(t.n_train, G * G / 2);
            assert_int_equal(t.n_ctx, 3);
            assert_int_equal(t.d_vocab, G + 1);
            assert_int_equal(t.n_classes, G);
            assert_true(t.caps & TASK_CAP_GROUP);
            assert_false(t.caps & (TASK_CAP_ZP_GRID | TASK_CAP_SAMPLED));
            tu_assert_contains(t.no_grid, "finite group");
            check_split(&t);
            task_shape s;
            task_shape_of(&cfg, &s);
            assert_true(s.n_ctx == 3 && s.d_vocab == G + 1 && s.n_classes == G &&
                        s.n_all == G * G && s.n_train == t.n_train);
            for (int r = 0; r < t.n_all; r++) {
                int x = r / G, y = r % G;
                const int32_t *tok = t.tokens + (size_t)r * 3;
                assert_true(t.a[r] == x && t.b[r] == y && tok[0] == x && tok[1] == y && tok[2] == G);
                /* the reference: permutations composed directly */
                int inv = -1;
                for (int z = 0; z < G && inv < 0; z++)
                    if (compose(g, x, z) == 0)
                        inv = z;
                int want = compose(g, x, y);
                if (op == TASK_GROUP_OP_XYXINV)
                    want = compose(g, want, inv);
                else if (op == TASK_GROUP_OP_XYX)
                    want = compose(g, want, x);
                if (t.label[r] != want)
                    fail_msg("%s %s(%d, %d) = %d, want %d", names[k],
                             task_group_op_name((task_group_op)op), x, y, t.label[r], want);
            }
            if (op == TASK_GROUP_OP_XYXINV) /* conjugation fixes the identity */
                for (int x = 0; x < G; x++)
                    assert_int_equal(t.label[x * G], 0);
            task_free(&t);
        }
    printf("# S4, A5, D7 with x*y, x*y*x^-1, x*y*x: every label equals the composed "
           "permutations; tokens [x, y, |G|], split a permutation\n");
}

/* ---- parity -------------------------------------------------------------- */

static void test_parity(void **state)
{
    (void)state;
    const struct {
        int n, k, n_train, n_test;
        uint64_t seed;
    } c[] = {{20, 3, 1000, 1000, 1}, {64, 5, 300, 200, 2}, {1, 1, 5, 7, 3}, {10, 10, 50, 50, 4}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        task_config cfg = {.kind = TASK_KIND_PARITY, .n_bits = c[i].n, .k_bits = c[i].k,
                           .n_train = c[i].n_train, .n_test = c[i].n_test};
        task_data t, t2;
        grok_err e = {{0}};
        if (task_init(&t, &cfg, c[i].seed, &e) != GROK_OK)
            fail_msg("parity n = %d k = %d: %s", c[i].n, c[i].k, e.msg);
        assert_int_equal(task_init(&t2, &cfg, c[i].seed, NULL), GROK_OK);
        assert_int_equal(t.n_ctx, c[i].n);
        assert_int_equal(t.d_vocab, 2);
        assert_int_equal(t.n_classes, 2);
        assert_int_equal(t.n_train, c[i].n_train);
        assert_int_equal(t.n_test, c[i].n_test);
        assert_int_equal(t.n_all, c[i].n_train + c[i].n_test);
        assert_true(t.caps & TASK_CAP_SAMPLED);
        assert_false(t.caps & (TASK_CAP_ZP_GRID | TASK_CAP_GROUP));
        assert_null(t.a);
        task_shape s;
        task_shape_of(&cfg, &s);
        assert_true(s.n_ctx == t.n_ctx && s.n_all == t.n_all && s.n_train == t.n_train);
        check_split(&t);
        /* the secret: k distinct positions, ascending */
        assert_int_equal(t.n_secret, c[i].k);
        for (int j = 0; j < t.n_secret; j++) {
            assert_true(t.secret[j] >= 0 && t.secret[j] < c[i].n);
            if (j)
                assert_true(t.secret[j] > t.secret[j - 1]);
        }
        /* labels = XOR of the secret bits; order = identity (train first) */
        long ones = 0;
        for (int r = 0; r < t.n_all; r++) {
            const int32_t *tok = t.tokens + (size_t)r * t.n_ctx;
            int x = 0;
            for (int j = 0; j < t.n_secret; j++)
                x ^= tok[t.secret[j]];
            assert_int_equal(t.label[r], x);
            assert_int_equal(t.order[r], r);
            for (int j = 0; j < t.n_ctx; j++) {
                assert_true(tok[j] == 0 || tok[j] == 1);
                ones += tok[j];
            }
        }
        /* same seed, same samples and secret */
        assert_memory_equal(t.tokens, t2.tokens, (size_t)t.n_all * t.n_ctx * 4);
        assert_memory_equal(t.secret, t2.secret, sizeof t.secret);
        double bits = (double)t.n_all * t.n_ctx, frac = ones / bits;
        printf("# parity n = %d k = %d, seed %llu: secret", c[i].n, c[i].k,
               (unsigned long long)c[i].seed);
        for (int j = 0; j < t.n_secret; j++)
            printf(" %d", t.secret[j]);
        printf("; %d + %d samples, labels = XOR of the secret bits; %.4f of %.0f bits are 1\n",
               t.n_train, t.n_test, frac, bits);
        assert_true(fabs(frac - 0.5) < 5.0 / sqrt(bits));
        char ops[80];
        task_format_operands(&t, 0, ops, sizeof ops);
        assert_int_equal((int)strlen(ops), c[i].n);
        for (int j = 0; j < c[i].n; j++)
            assert_int_equal(ops[j] - '0', t.tokens[j]);
        task_free(&t);
        task_free(&t2);
    }
    /* another seed: another secret or other samples */
    task_config cfg = {.kind = TASK_KIND_PARITY, .n_bits = 40, .k_bits = 3, .n_train = 100,
                       .n_test = 100};
    task_data a, b;
    assert_int_equal(task_init(&a, &cfg, 7, NULL), GROK_OK);
    assert_int_equal(task_init(&b, &cfg, 8, NULL), GROK_OK);
    assert_true(memcmp(a.tokens, b.tokens, (size_t)a.n_all * a.n_ctx * 4) != 0);
    task_free(&a);
    task_free(&b);
}

/* ---- kinds and capabilities ---------------------------------------------- */

static void test_kinds_and_caps(void **state)
{
    (void)state;
    for (int k = 0; k < TASK_KIND_COUNT; k++) {
        assert_int_equal(task_kind_parse(task_kind_name((task_kind)k)), k);
        assert_non_null(strstr(task_kind_names(), task_kind_name((task_kind)k)));
    }
    for (int k = 0; k < TASK_GROUP_OP_COUNT; k++)
        assert_int_equal(task_group_op_parse(task_group_op_name((task_group_op)k)), k);
    assert_int_equal(task_kind_parse("Modular"), -1);
    assert_int_equal(task_kind_parse(NULL), -1);
    /* the Fourier grid: today's rule */
    const struct {
        task_op op;
        int p;
        int grid;
        const char *why;
    } c[] = {{TASK_OP_ADD, 113, 1, ""},
             {TASK_OP_X2XYY2X, 31, 1, ""},
             {TASK_OP_RAND, 31, 0, "task 'rand' is not modular arithmetic"},
             {TASK_OP_DIV, 31, 0,
              "task 'div' leaves out the pairs with b = 0, so the (a, b) grid is incomplete"},
             {TASK_OP_MIX1, 31, 0,
              "task 'mix1' leaves out the pairs with b = 0, so the (a, b) grid is incomplete"},
             {TASK_OP_ADD, 30, 0, "p = 30 is even (frequency p/2 has no sine)"},
             {TASK_OP_MUL, 2, 0, "p = 2 is even (frequency p/2 has no sine)"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        task_config cfg = {.op = c[i].op, .p = c[i].p, .frac_train = 0.5};
        task_data t;
        assert_int_equal(task_init(&t, &cfg, 1, NULL), GROK_OK);
        assert_int_equal((t.caps & TASK_CAP_ZP_GRID) != 0, c[i].grid);
        assert_string_equal(t.no_grid, c[i].why);
        task_free(&t);
    }
    /* bad kind-specific values */
    const struct {
        task_config cfg;
        const char *want;
    } bad[] = {
        {{.kind = TASK_KIND_COUNT}, "kind = 3: unknown task kind (valid: modular, group, parity)"},
        {{.kind = TASK_KIND_GROUP, .group = GROUP_ID_COUNT, .frac_train = 0.5},
         "group = 106: unknown group (valid: S3..S6, A3..A6, D3..D100)"},
        {{.kind = TASK_KIND_GROUP, .group = 0, .frac_train = 0.01},
         "frac_train = 0.01: gives 0 training and 36 test examples of 36 (group S3, op 'xy')"},
        {{.kind = TASK_KIND_PARITY, .n_bits = 3, .k_bits = 5, .n_train = 1, .n_test = 1},
         "k = 5: must be between 1 and n = 3"},
        {{.kind = TASK_KIND_PARITY, .n_bits = 65, .k_bits = 1, .n_train = 1, .n_test = 1},
         "n = 65: must be between 1 and 64"},
        {{.kind = TASK_KIND_PARITY, .n_bits = 6, .k_bits = 1, .n_train = 0, .n_test = 1},
         "n_train = 0: must be between 1 and 1000000"},
        {{.kind = TASK_KIND_MODULAR, .op = TASK_OP_ADD, .p = 7, .layout = TASK_LAYOUT_COUNT,
          .frac_train = 0.5},
         "layout = 3: unknown layout"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        task_data t;
        grok_err e = {{0}};
        assert_int_equal(task_init(&t, &bad[i].cfg, 1, &e), GROK_EINVAL);
        printf("# rejected: %s\n", e.msg);
        tu_assert_contains(e.msg, bad[i].want);
        assert_null(t.tokens);
        assert_int_equal(t.n_all, 0);
        task_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_against_formulas), cmocka_unit_test(test_large_p),
        cmocka_unit_test(test_div_inverse),          cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_split),                cmocka_unit_test(test_rand_table),
        cmocka_unit_test(test_invalid_configs),      cmocka_unit_test(test_names_and_primes),
        cmocka_unit_test(test_layouts),              cmocka_unit_test(test_groups),
        cmocka_unit_test(test_group_tasks),          cmocka_unit_test(test_parity),
        cmocka_unit_test(test_kinds_and_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
