/* group.c: the permutation groups of group.h.
 *
 * Owns the table of group ids and names, the enumeration of each group's
 * elements in lexicographic order (S_n: every permutation by next-permutation
 * steps; A_n: the even ones of those; D_n: the n rotations i -> i + k and the
 * n reflections i -> k - i (mod n), sorted), and the multiplication table and
 * inverses, found by composing permutations and looking the result up by
 * binary search.  At most D100: 200 elements of degree 100, a 40000-entry
 * table; S6: 720 elements, 518400 entries.
 *
 * Legend: G = |G| elements, n degree. */
#include "group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_N_SA (GROUP_SA_MAX - GROUP_SA_MIN + 1)

/* D10..D99 a decade at a time */
#define GROUP_D_DECADE(t)                                                                     \
    "D" #t "0", "D" #t "1", "D" #t "2", "D" #t "3", "D" #t "4", "D" #t "5", "D" #t "6",       \
        "D" #t "7", "D" #t "8", "D" #t "9"

static const char *const group_names_table[GROUP_ID_COUNT] = {
    "S3", "S4", "S5", "S6", "A3", "A4", "A5", "A6", "D3", "D4", "D5", "D6", "D7", "D8", "D9",
    GROUP_D_DECADE(1), GROUP_D_DECADE(2), GROUP_D_DECADE(3), GROUP_D_DECADE(4),
    GROUP_D_DECADE(5), GROUP_D_DECADE(6), GROUP_D_DECADE(7), GROUP_D_DECADE(8),
    GROUP_D_DECADE(9), "D100",
};
_Static_assert(sizeof group_names_table / sizeof group_names_table[0] == GROUP_ID_COUNT,
               "group name table");

const char *group_id_name(int id)
{
    return id >= 0 && id < GROUP_ID_COUNT ? group_names_table[id] : "?";
}

int group_id_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < GROUP_ID_COUNT; i++)
        if (strcmp(name, group_names_table[i]) == 0)
            return i;
    return -1;
}

const char *group_id_names(void) { return "S3..S6, A3..A6, D3..D100"; }

static long group_factorial(int n)
{
    long f = 1;
    for (int i = 2; i <= n; i++)
        f *= i;
    return f;
}

const char *group_id_problem(const char *name, char *buf, size_t n)
{
    char fam = name ? name[0] : '\0';
    const char *digits = name && fam ? name + 1 : "";
    size_t nd = strspn(digits, "0123456789");
    if ((fam != 'S' && fam != 'A' && fam != 'D') || nd == 0 || nd > 6 || digits[nd] != '\0') {
        snprintf(buf, n, "unknown group");
        return buf;
    }
    long deg = atol(digits);
    long lo = fam == 'D' ? GROUP_D_MIN : GROUP_SA_MIN, hi = fam == 'D' ? GROUP_D_MAX : GROUP_SA_MAX;
    if (deg < lo) {
        snprintf(buf, n, "too small");
    } else if (deg > hi) {
        if (fam == 'D')
            snprintf(buf, n, "too large (%ld elements)", 2 * deg);
        else if (deg <= 12)
            snprintf(buf, n, "too large (%ld elements)",
                     group_factorial((int)deg) / (fam == 'A' ? 2 : 1));
        else
            snprintf(buf, n, "too large");
    } else {
        snprintf(buf, n, "unknown group"); /* e.g. "S05" */
    }
    return buf;
}

void group_id_info(int id, group_family *family, int *n, int *order)
{
    GROK_ASSERT(id >= 0 && id < GROUP_ID_COUNT);
    group_family f;
    int deg, ord;
    if (id < GROUP_N_SA) {
        f = GROUP_SYMMETRIC;
        deg = GROUP_SA_MIN + id;
        ord = (int)group_factorial(deg);
    } else if (id < 2 * GROUP_N_SA) {
        f = GROUP_ALTERNATING;
        deg = GROUP_SA_MIN + id - GROUP_N_SA;
        ord = (int)group_factorial(deg) / 2;
    } else {
        f = GROUP_DIHEDRAL;
        deg = GROUP_D_MIN + id - 2 * GROUP_N_SA;
        ord = 2 * deg;
    }
    if (family)
        *family = f;
    if (n)
        *n = deg;
    if (order)
        *order = ord;
}

void group_free(group_data *g)
{
    if (!g)
        return;
    free(g->perm);
    free(g->mul);
    free(g->inv);
    memset(g, 0, sizeof *g);
}

/* Lexicographic comparison of two permutations of degree n. */
static int group_cmp_n(const int32_t *x, const int32_t *y, int n)
{
    for (int i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* Insertion sort of m rows of degree n (m <= 200: the D_n elements); tmp [n]. */
static void group_sort_rows(int32_t *rows, int m, int n, int32_t *tmp)
{
    for (int i = 1; i < m; i++) {
        memcpy(tmp, rows + (size_t)i * n, (size_t)n * sizeof *tmp);
        int j = i;
        for (; j > 0 && group_cmp_n(rows + (size_t)(j - 1) * n, tmp, n) > 0; j--)
            memcpy(rows + (size_t)j * n, rows + (size_t)(j - 1) * n, (size_t)n * sizeof *tmp);
        memcpy(rows + (size_t)j * n, tmp, (size_t)n * sizeof *tmp);
    }
}

/* The next permutation in lexicographic order; 0 after the last. */
static int group_next_perm(int32_t *x, int n)
{
    int i = n - 2;
    while (i >= 0 && x[i] >= x[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (x[j] <= x[i])
        j--;
    int32_t t = x[i];
    x[i] = x[j];
    x[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) {
        t = x[l];
        x[l] = x[r];
        x[r] = t;
    }
    return 1;
}

/* 1 when the permutation is even (an even number of inversions). */
static int group_is_even(const int32_t *x, int n)
{
    int inv = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            inv += x[i] > x[j];
    return inv % 2 == 0;
}

int group_find(const group_data *g, const int32_t *perm)
{
    int lo = 0, hi = g->order - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = group_cmp_n(g->perm + (size_t)mid * g->n, perm, g->n);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int group_init(group_data *g, int id, grok_err *e)
{
    GROK_ASSERT(g != NULL);
    memset(g, 0, sizeof *g);
    if (id < 0 || id >= GROUP_ID_COUNT)
        return grok_fail(e, GROK_EINVAL, "group id %d: unknown group (valid: %s)", id,
                         group_id_names());
    group_id_info(id, &g->family, &g->n, &g->order);
    const int n = g->n, G = g->order;
    g->perm = malloc((size_t)G * n * sizeof *g->perm);
    g->mul = malloc((size_t)G * G * sizeof *g->mul);
    g->inv = malloc((size_t)G * sizeof *g->inv);
    int32_t *x = malloc((size_t)n * sizeof *x);
    if (!g->perm || !g->mul || !g->inv || !x) {
        free(x);
        group_free(g);
        return grok_fail(e, GROK_ENOMEM, "group %s: out of memory", group_id_name(id));
    }

    int count = 0;
    if (g->family == GROUP_DIHEDRAL) {
        for (int k = 0; k < n; k++)
            for (int i = 0; i < n; i++) {
                g->perm[(size_t)k * n + i] = (i + k) % n;           /* rotation by k */
                g->perm[(size_t)(n + k) * n + i] = (k - i + n) % n; /* reflection */
            }
        count = 2 * n;
        group_sort_rows(g->perm, count, n, x);
    } else {
        for (int i = 0; i < n; i++)
            x[i] = i;
        do {
            if (g->family == GROUP_SYMMETRIC || group_is_even(x, n))
                memcpy(g->perm + (size_t)count++ * n, x, (size_t)n * sizeof *x);
        } while (group_next_perm(x, n));
    }
    GROK_ASSERT(count == G);

    for (int a = 0; a < G; a++) {
        const int32_t *pa = g->perm + (size_t)a * n;
        for (int b = 0; b < G; b++) {
            const int32_t *pb = g->perm + (size_t)b * n;
            for (int i = 0; i < n; i++)
                x[i] = pa[pb[i]];
            int c = group_find(g, x);
            GROK_ASSERT(c >= 0); /* closed under composition */
            g->mul[(size_t)a * G + b] = c;
            if (c == 0)
                g->inv[a] = b;
        }
    }
    free(x);
    if (e)
        e->msg[0] = '\0';
    return GROK_OK;
}
