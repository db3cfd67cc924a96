/* task.h: algorithmic datasets.
 *
 * An example is the token sequence [a, b, =] with a, b in 0..p-1 and '=' the
 * token p (so the input vocabulary is V = p + 1); its label is op(a, b) mod p,
 * read at the last position (output vocabulary Vo = p).  All pairs are listed
 * in canonical order r = a*p + b (for div, pairs with b = 0 are left out) and
 * split into train and test by a permutation drawn from the seed's split
 * stream: the first floor(frac_train * n_all) entries of the permutation are
 * the training set, in that order.  Knows nothing of configs or files. */
#ifndef GROK_TASK_H
#define GROK_TASK_H

#include <stdint.h>

#include "grok.h"

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
    TASK_OP_COUNT
} task_op;

#define TASK_N_CTX 3

typedef struct {
    task_op op;
    int p;             /* modulus, 2 <= p <= 1000; prime for div */
    double frac_train; /* train share, 0 < frac_train < 1 */
} task_config;

typedef struct {
    task_config cfg;
    int n_all;          /* number of examples: p*p, or p*(p-1) for div */
    int n_train, n_test;
    int32_t *a, *b;     /* [n_all] operands, canonical order */
    int32_t *label;     /* [n_all] op(a, b) mod p */
    int32_t *order;     /* [n_all] permutation of 0..n_all-1: train first */
    int32_t *train_tokens, *train_labels; /* [n_train*3], [n_train] in order */
    int32_t *test_tokens, *test_labels;   /* [n_test*3], [n_test] */
} task_data;

/* Name <-> enum ("add", "sub", "mul", "div", "x2y2", "x2xyy2", "x3xy",
 * "x3xy2y", "rand"); task_op_parse returns -1 for an unknown name. */
const char *task_op_name(task_op op);
int task_op_parse(const char *name);
/* A comma-separated list of valid names, for error messages. */
const char *task_op_names(void);
/* True when op(a,b) is modular arithmetic whose Fourier measures apply. */
int task_op_is_arithmetic(task_op op);

/* Validates cfg (p range, primality for div, frac_train range) and builds the
 * dataset from seed.  On error returns a grok_status and fills e. */
int task_init(task_data *t, const task_config *cfg, uint64_t seed, grok_err *e);
void task_free(task_data *t);

/* op(a, b) mod p for the arithmetic ops (not RAND). */
int task_apply(task_op op, int p, int a, int b);

int task_is_prime(int p);

#endif
