/* irrep.c: the irreps of S_n and D_n declared in irrep.h.
 *
 * S_n: the partitions of n are stepped through in reverse lexicographic
 * order; the standard Young tableaux of a partition are enumerated as row
 * words (w[i] = the row of number i, numbers 0..n-1), depth first, placing
 * each number at the end of a row that is shorter than its part and than
 * the row above.  Young's orthogonal form gives the matrix of each adjacent
 * transposition; D_n's generators get their matrices directly.  Then a
 * breadth-first walk from the identity multiplies on the left by each
 * generator until every element has its matrix.  At most S6's 11 irreps of
 * dimension <= 16 on 720 elements (1.2 MB of matrices).
 *
 * Legend: G = |G|, n degree, d dimension of an irrep, T tableaux (= d). */
#include "irrep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IRREP_SN_MAX GROUP_SA_MAX /* largest n of S_n */
#define IRREP_SYT_MAX 16          /* the most standard tableaux of a partition of 6 (321) */

/* ------------------------------------------------------------------------ */
/* partitions and tableaux */

/* The partition following lam[0..*len) in reverse lexicographic order;
 * 0 after the last (1^n). */
static int partition_next(int *lam, int *len)
{
    int i = *len - 1;
    int rest = 0;
    while (i >= 0 && lam[i] == 1) {
        rest++;
        i--;
    }
    if (i < 0)
        return 0;
    lam[i]--;
    rest++;
    const int v = lam[i];
    int k = i + 1;
    while (rest > 0) {
        lam[k] = rest < v ? rest : v;
        rest -= lam[k++];
    }
    *len = k;
    return 1;
}

/* Partition number i of n (reverse lexicographic) into lam; its length, or
 * 0 when there is no such partition. */
static int partition_at(int n, int i, int *lam)
{
    int len = 1;
    lam[0] = n;
    for (int j = 0; j < i; j++)
        if (!partition_next(lam, &len))
            return 0;
    return len;
}

static int partition_count(int n)
{
    int lam[IRREP_SN_MAX], len = 1, c = 1;
    lam[0] = n;
    while (partition_next(lam, &len))
        c++;
    return c;
}

typedef struct {
    int n, len, lam[IRREP_SN_MAX];
    int count;
    signed char w[IRREP_SYT_MAX][IRREP_SN_MAX]; /* row of each number */
} syt_list;

static void syt_fill(syt_list *L, signed char *w, int *rowlen, int i)
{
    if (i == L->n) {
        GROK_ASSERT(L->count < IRREP_SYT_MAX);
        memcpy(L->w[L->count++], w, (size_t)L->n);
        return;
    }
    for (int r = 0; r < L->len; r++)
        if (rowlen[r] < L->lam[r] && (r == 0 || rowlen[r - 1] > rowlen[r])) {
            w[i] = (signed char)r;
            rowlen[r]++;
            syt_fill(L, w, rowlen, i + 1);
            rowlen[r]--;
        }
}

static void syt_enumerate(syt_list *L, int n, const int *lam, int len)
{
    memset(L, 0, sizeof *L);
    L->n = n;
    L->len = len;
    memcpy(L->lam, lam, (size_t)len * sizeof *lam);
    signed char w[IRREP_SN_MAX];
    int rowlen[IRREP_SN_MAX] = {0};
    syt_fill(L, w, rowlen, 0);
}

/* content (column - row) of number i in the tableau with row word w */
static int syt_content(const signed char *w, int i)
{
    int col = 0;
    for (int j = 0; j < i; j++)
        col += w[j] == w[i];
    return col - w[i];
}

static int syt_find(const syt_list *L, const signed char *w)
{
    for (int t = 0; t < L->count; t++)
        if (memcmp(L->w[t], w, (size_t)L->n) == 0)
            return t;
    return -1;
}

/* Young's orthogonal form of s_k = (k k+1), numbers 0-based: M [T, T] */
static void young_generator(const syt_list *L, int k, double *M)
{
    const int T = L->count;
    memset(M, 0, (size_t)T * T * sizeof *M);
    for (int t = 0; t < T; t++) {
        const int r = syt_content(L->w[t], k + 1) - syt_content(L->w[t], k);
        M[t * T + t] = 1.0 / r;
        if (r == 1 || r == -1)
            continue; /* k, k+1 in one row or one column */
        signed char w[IRREP_SN_MAX];
        memcpy(w, L->w[t], (size_t)L->n);
        w[k] = L->w[t][k + 1];
        w[k + 1] = L->w[t][k];
        const int u = syt_find(L, w);
        GROK_ASSERT(u >= 0);
        M[u * T + t] = sqrt(1.0 - 1.0 / ((double)r * r));
    }
}

/* ------------------------------------------------------------------------ */
/* names */

static int dihedral_n_one(int n) { return n % 2 == 0 ? 4 : 2; }

int irrep_supported(group_family family, int deg, char *buf, size_t n)
{
    const char *why = "";
    if (family == GROUP_ALTERNATING)
        why = "the irreps of A_n are not built (not all of real type: the real matrix elements "
              "of its irreps do not form an orthonormal basis of functions on the group)";
    else if (family == GROUP_SYMMETRIC && (deg < GROUP_SA_MIN || deg > GROUP_SA_MAX))
        why = "S_n irreps are built for n = 3..6";
    else if (family == GROUP_DIHEDRAL && (deg < GROUP_D_MIN || deg > GROUP_D_MAX))
        why = "D_n irreps are built for n = 3..100";
    if (buf && n)
        snprintf(buf, n, "%s", why);
    return why[0] == '\0';
}

int irrep_count(group_family family, int deg)
{
    if (!irrep_supported(family, deg, NULL, 0))
        return 0;
    if (family == GROUP_SYMMETRIC)
        return partition_count(deg);
    return dihedral_n_one(deg) + (deg - 1) / 2;
}

void irrep_name(group_family family, int deg, int i, char *buf, size_t n)
{
    GROK_ASSERT(i >= 0 && i < irrep_count(family, deg));
    if (family == GROUP_SYMMETRIC) {
        int lam[IRREP_SN_MAX];
        const int len = partition_at(deg, i, lam);
        size_t k = 0;
        for (int j = 0; j < len && k + 1 < n; j++)
            buf[k++] = (char)('0' + lam[j]);
        buf[k < n ? k : n - 1] = '\0';
        return;
    }
    static const char *const one[4] = {"triv", "sign", "1c", "1d"};
    const int n1 = dihedral_n_one(deg);
    if (i < n1)
        snprintf(buf, n, "%s", one[i]);
    else
        snprintf(buf, n, "2_%d", i - n1 + 1);
}

int irrep_dim(group_family family, int deg, int i)
{
    GROK_ASSERT(i >= 0 && i < irrep_count(family, deg));
    if (family == GROUP_SYMMETRIC) {
        int lam[IRREP_SN_MAX];
        const int len = partition_at(deg, i, lam);
        syt_list L;
        syt_enumerate(&L, deg, lam, len);
        return L.count;
    }
    return i < dihedral_n_one(deg) ? 1 : 2;
}

/* ------------------------------------------------------------------------ */
/* building */

void irrep_free(irrep_set *s)
{
    if (!s)
        return;
    free(s->mat);
    memset(s, 0, sizeof *s);
}

/* The element of g whose permutation is perm (it must exist). */
static int element_of(const group_data *g, const int32_t *perm)
{
    const int x = group_find(g, perm);
    GROK_ASSERT(x >= 0);
    return x;
}

/* Every rho_i(x) from the generators' matrices gm [n_gen][d, d] (elements
 * gen[]), breadth first from the identity; queue, seen: [G] scratch. */
static void fill_from_generators(const irrep_set *s, const group_data *g, int i, int n_gen,
                                 const int *gen, const double *gm, int *queue, char *seen)
{
    const int d = s->dim[i], G = g->order;
    const size_t dd = (size_t)d * d;
    double *R = s->mat + s->off[i];
    memset(seen, 0, (size_t)G);
    memset(R, 0, dd * sizeof *R);
    for (int a = 0; a < d; a++)
        R[a * d + a] = 1; /* element 0 is the identity */
    seen[0] = 1;
    int head = 0, tail = 0;
    queue[tail++] = 0;
    while (head < tail) {
        const int x = queue[head++];
        for (int j = 0; j < n_gen; j++) {
            const int y = g->mul[(size_t)gen[j] * G + x];
            if (seen[y])
                continue;
            seen[y] = 1;
            queue[tail++] = y;
            const double *A = gm + (size_t)j * dd, *X = R + (size_t)x * dd;
            double *Y = R + (size_t)y * dd;
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++) {
                    double v = 0;
                    for (int c = 0; c < d; c++)
                        v += A[a * d + c] * X[c * d + b];
                    Y[a * d + b] = v;
                }
        }
    }
    GROK_ASSERT(tail == G); /* the generators generate */
}

int irrep_build(irrep_set *s, const group_data *g, grok_err *e)
{
    memset(s, 0, sizeof *s);
    char why[200];
    if (!irrep_supported(g->family, g->n, why, sizeof why))
        return grok_fail(e, GROK_EINVAL, "irreps: %s", why);
    const int G = g->order, n = g->n;
    s->family = g->family;
    s->deg = n;
    s->order = G;
    s->n = irrep_count(g->family, n);
    GROK_ASSERT(s->n <= IRREP_MAX);
    size_t total = 0;
    int rows = 0;
    for (int i = 0; i < s->n; i++) {
        s->dim[i] = irrep_dim(g->family, n, i);
        s->off[i] = total;
        s->row0[i] = rows;
        total += (size_t)G * s->dim[i] * s->dim[i];
        rows += s->dim[i] * s->dim[i];
    }
    GROK_ASSERT(rows == G); /* sum of d^2 = |G| */
    const int n_gen = g->family == GROUP_SYMMETRIC ? n - 1 : 2;
    s->mat = malloc(total * sizeof *s->mat);
    int *queue = malloc((size_t)G * sizeof *queue);
    char *seen = malloc((size_t)G);
    double *gm = malloc((size_t)n_gen * IRREP_SYT_MAX * IRREP_SYT_MAX * sizeof *gm);
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!s->mat || !queue || !seen || !gm || !perm) {
        free(queue), free(seen), free(gm), free(perm);
        irrep_free(s);
        return grok_fail(e, GROK_ENOMEM, "irreps: out of memory");
    }

    int gen[IRREP_SN_MAX];
    if (g->family == GROUP_SYMMETRIC) {
        for (int k = 0; k + 1 < n; k++) { /* s_k swaps k and k+1 */
            for (int i = 0; i < n; i++)
                perm[i] = i;
            perm[k] = k + 1;
            perm[k + 1] = k;
            gen[k] = element_of(g, perm);
        }
        for (int i = 0; i < s->n; i++) {
            int lam[IRREP_SN_MAX];
            const int len = partition_at(n, i, lam);
            syt_list L;
            syt_enumerate(&L, n, lam, len);
            const size_t dd = (size_t)L.count * L.count;
            for (int k = 0; k < n_gen; k++)
                young_generator(&L, k, gm + k * dd);
            fill_from_generators(s, g, i, n_gen, gen, gm, queue, seen);
        }
    } else { /* dihedral: r = rotation by 1, f = the reflection i -> -i */
        for (int i = 0; i < n; i++)
            perm[i] = (i + 1) % n;
        gen[0] = element_of(g, perm);
        for (int i = 0; i < n; i++)
            perm[i] = (n - i) % n;
        gen[1] = element_of(g, perm);
        const int n1 = dihedral_n_one(n);
        for (int i = 0; i < s->n; i++) {
            if (i < n1) {
                gm[0] = i >= 2 ? -1 : 1;               /* r */
                gm[1] = i == 1 || i == 3 ? -1 : 1;     /* f */
            } else {
                const double th = 2 * M_PI * (i - n1 + 1) / n;
                const double r[4] = {cos(th), -sin(th), sin(th), cos(th)};
                const double f[4] = {1, 0, 0, -1};
                memcpy(gm, r, sizeof r);
                memcpy(gm + 4, f, sizeof f);
            }
            fill_from_generators(s, g, i, n_gen, gen, gm, queue, seen);
        }
    }
    free(queue), free(seen), free(gm), free(perm);
    if (e)
        e->msg[0] = '\0';
    return GROK_OK;
}

void irrep_basis(const irrep_set *s, double *B)
{
    const int G = s->order;
    for (int i = 0; i < s->n; i++) {
        const int d = s->dim[i];
        const double c = sqrt((double)d / G);
        for (int x = 0; x < G; x++) {
            const double *R = irrep_mat(s, i, x);
            for (int ab = 0; ab < d * d; ab++)
                B[(size_t)(s->row0[i] + ab) * G + x] = c * R[ab];
        }
    }
}
