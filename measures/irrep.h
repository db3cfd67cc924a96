/* irrep.h: the real orthogonal irreducible representations of the groups of
 * group.h whose irreps are all of real type: S_n (n = 3..6) and D_n
 * (n = 3..100).
 *
 * Owns the list of a group's irreps (names, dimensions), the matrices
 * rho(g) of every irrep for every element g in the group's element order,
 * and the orthonormal basis of functions on G made of their matrix elements
 * sqrt(d/|G|) rho(g)_ij (docs/measures.md, group representations).
 *
 *  - S_n: one irrep per partition lambda of n, in reverse lexicographic
 *    order ("5", "41", "32", "311", "221", "2111", "11111" for S5: the
 *    trivial irrep first, the sign last), built by Young's orthogonal form on
 *    the standard Young tableaux of lambda: the adjacent transposition
 *    s_k = (k k+1) maps a tableau T to (1/r) T + sqrt(1 - 1/r^2) s_k T, r the
 *    axial distance (content of k+1 minus content of k); the term s_k T is
 *    absent when it is not standard (r = +-1).
 *  - D_n (rotations r^k: i -> i + k, reflections i -> k - i, mod n): "triv",
 *    "sign" (r -> 1, reflection -> -1), for even n "1c" (r -> -1,
 *    reflection -> 1) and "1d" (r -> -1, reflection -> -1), then the
 *    2-dimensional "2_1".."2_m" (m = floor((n-1)/2)): r -> rotation by
 *    2 pi j / n, the reflection i -> -i -> diag(1, -1).
 * Every other element's matrix is a product of the generators' matrices,
 * found breadth-first from the identity (rho(s g) = rho(s) rho(g)), so rho
 * is a homomorphism for the group's composition ((x*y)(i) = x(y(i))).
 * The trivial irrep is always number 0.
 *
 * A_n is not covered: its irreps are not all of real type (A4 has a pair of
 * complex-conjugate 1-dimensional ones, A5 a pair of conjugate 3-dimensional
 * ones split from a self-conjugate partition), so real matrix elements of
 * its irreps do not form the basis above; irrep_supported says so. */
#ifndef GROK_IRREP_H
#define GROK_IRREP_H

#include <stddef.h>

#include "grok.h"
#include "group.h"

/* The most irreps of a supported group (D100: 4 + 49). */
#define IRREP_MAX 56
/* The longest name, with its NUL ("2_49", "11111"...). */
#define IRREP_NAME_MAX 8

typedef struct {
    group_family family;
    int deg;                /* n of S_n, D_n */
    int order;              /* |G| */
    int n;                  /* number of irreps */
    int dim[IRREP_MAX];     /* d of each */
    size_t off[IRREP_MAX];  /* irrep i's matrices start at mat + off[i] */
    int row0[IRREP_MAX];    /* its first row of the basis: sum of d^2 of those before */
    double *mat;            /* irrep i, element g: rho(g) [d, d] row-major at
                               mat + off[i] + g d^2 */
} irrep_set;

/* 1 when the irreps of (family, deg) are built here; else 0 and why into
 * buf (may be NULL). */
int irrep_supported(group_family family, int deg, char *buf, size_t n);
/* The number of irreps of a supported group (0 otherwise). */
int irrep_count(group_family family, int deg);
/* The name of irrep i (0 <= i < irrep_count) into buf: an S_n partition as
 * digits ("311"), or a D_n name ("triv", "sign", "1c", "1d", "2_j"). */
void irrep_name(group_family family, int deg, int i, char *buf, size_t n);
/* The dimension of irrep i of a supported group. */
int irrep_dim(group_family family, int deg, int i);

/* Builds every irrep of g.  GROK_EINVAL for a group not supported (A_n),
 * GROK_ENOMEM. */
int irrep_build(irrep_set *s, const group_data *g, grok_err *e);
void irrep_free(irrep_set *s);

/* rho_i(g) [d, d] */
static inline const double *irrep_mat(const irrep_set *s, int i, int g)
{
    return s->mat + s->off[i] + (size_t)g * s->dim[i] * s->dim[i];
}

/* B [|G|, |G|]: row row0[i] + a d + b is the function g -> sqrt(d/|G|)
 * rho_i(g)_ab (column g); the rows are orthonormal (B B^T = I). */
void irrep_basis(const irrep_set *s, double *B);

#endif
