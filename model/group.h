/* group.h: small finite permutation groups for the group-composition tasks.
 *
 * A group is S_n (symmetric, n = 3..6), A_n (alternating, the even
 * permutations, n = 3..6) or D_n (dihedral, the 2n symmetries of the regular
 * n-gon, n = 3..100).  Every element is a permutation of 0..n-1 (for D_n of
 * the n-gon's vertices 0..n-1 in cyclic order), and the elements are numbered
 * 0..|G|-1 in lexicographic order of their permutation arrays, so the
 * identity is element 0.  Composition is (x*y)(i) = x(y(i)): y acts first.
 *
 * A group id names one of the valid groups, densely: S3..S6 are ids 0..3,
 * A3..A6 ids 4..7, D3..D100 ids 8..105.  The config stores the id; group_init
 * builds the elements, the multiplication table and the inverses.  Knows
 * nothing of tasks, configs or files. */
#ifndef GROK_GROUP_H
#define GROK_GROUP_H

#include <stdint.h>

#include "grok.h"

typedef enum { GROUP_SYMMETRIC, GROUP_ALTERNATING, GROUP_DIHEDRAL } group_family;

#define GROUP_SA_MIN 3   /* S_n, A_n: n in 3..6 */
#define GROUP_SA_MAX 6
#define GROUP_D_MIN 3    /* D_n: n in 3..100 */
#define GROUP_D_MAX 100
#define GROUP_ID_COUNT (2 * (GROUP_SA_MAX - GROUP_SA_MIN + 1) + (GROUP_D_MAX - GROUP_D_MIN + 1))
#define GROUP_ID_S5 2    /* the default group */

typedef struct {
    group_family family;
    int n;          /* degree: elements are permutations of 0..n-1 */
    int order;      /* |G| */
    int32_t *perm;  /* [order, n] element g maps i to perm[g*n + i]; lexicographic */
    int32_t *mul;   /* [order, order] mul[x*order + y] = x*y */
    int32_t *inv;   /* [order] inverse of each element */
} group_data;

/* Group ids: name ("S5", "A4", "D12") <-> id.  group_id_parse returns -1 for
 * anything that is not a valid group's name; group_id_problem then says why
 * ("too large (5040 elements)", "too small", "unknown group"). */
const char *group_id_name(int id);
int group_id_parse(const char *name);
const char *group_id_problem(const char *name, char *buf, size_t n);
/* "S3..S6, A3..A6, D3..D100", for messages. */
const char *group_id_names(void);
/* Family, degree and order of a valid id. */
void group_id_info(int id, group_family *family, int *n, int *order);

/* Builds group id.  GROK_EINVAL for an invalid id, GROK_ENOMEM. */
int group_init(group_data *g, int id, grok_err *e);
void group_free(group_data *g);

/* The element whose permutation is perm[0..n), or -1 when there is none. */
int group_find(const group_data *g, const int32_t *perm);

#endif
