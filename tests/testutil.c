/* testutil.c: helpers shared by the cmocka tests (see testutil.h).
 *
 * The Makefile links it into every test binary, as it does every file in
 * tests/ whose name does not start with test_.  It uses libc and cmocka,
 * and of libgrok only the parameter table's type (params.h). */
#define _GNU_SOURCE /* program_invocation_short_name; nftw */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* ---- scratch directories --------------------------------------------------- */

char *tu_tmp_dir(void)
{
    const char *name = program_invocation_short_name;
    if (strncmp(name, "test_", 5) == 0)
        name += 5;
    size_t n = strlen("/tmp/grok-test--XXXXXX") + strlen(name) + 1;
    char *dir = malloc(n);
    assert_non_null(dir);
    snprintf(dir, n, "/tmp/grok-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        printf("# mkdtemp %s: %s\n", dir, strerror(errno));
        fail();
    }
    return dir;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_rm_tmp_dir(char *dir)
{
    if (!dir) /* a setup that failed before making it */
        return;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

int tu_setup_dir(void **state)
{
    *state = tu_tmp_dir();
    return 0;
}

int tu_teardown_dir(void **state)
{
    tu_rm_tmp_dir(*state);
    return 0;
}

int tu_run_shell(const char *dir, const char *cmd, char **log)
{
    size_t n = strlen(cmd) + strlen(dir) + 32;
    char *full = malloc(n);
    assert_non_null(full);
    snprintf(full, n, "( %s ) >%s/cmd.log 2>&1", cmd, dir);
    int st = system(full);
    free(full);
    char *path = tu_path_in(dir, "cmd.log");
    if (log)
        *log = tu_read_file(path, NULL);
    unlink(path);
    free(path);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *tu_grok_bin(void)
{
    const char *bin = getenv("GROK_BIN");
    if (!bin || !bin[0]) {
        printf("# GROK_BIN is not set: skipped (make test sets it to the built ./grok)\n");
        skip();
    }
    return bin;
}

char *tu_grok_train(const char *bin, const char *dir, const char *name, const char *sets)
{
    char *run = tu_path_in(dir, name);
    size_t n = strlen(bin) + strlen(sets) + strlen(run) + 128;
    char *cmd = malloc(n), *log = NULL;
    assert_non_null(cmd);
    snprintf(cmd, n, "%s train %s --set 'plots.formats=\"\"' --threads 1 --quiet --out %s", bin,
             sets, run);
    int rc = tu_run_shell(dir, cmd, &log);
    if (rc)
        printf("# %s: exit %d\n%s\n", cmd, rc, log ? log : "");
    free(cmd);
    free(log);
    assert_int_equal(rc, 0);
    return run;
}

char *tu_path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- files ----------------------------------------------------------------- */

void tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        printf("# cannot create %s: %s\n", path, strerror(errno));
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

void tu_write_text(const char *path, const char *text)
{
    tu_write_file(path, text, strlen(text));
}

char *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (len < cap - 1)
            break; /* end of file or an error, told apart below */
        char *more = realloc(buf, cap *= 2);
        if (!more)
            free(buf);
        buf = more;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    if (n)
        *n = len;
    return buf;
}

/* ---- random test data ----------------------------------------------------- */

double tu_xs_uniform(tu_xs *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return (double)(g->s >> 11) / 9007199254740992.0; /* 2^53 */
}

double tu_xs_normal(tu_xs *g)
{
    double u = tu_xs_uniform(g) + 1e-300, v = tu_xs_uniform(g);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ---- finite differences ---------------------------------------------------- */

double tu_fd_central(tu_fd_fn f, void *ctx, double x0, int *kink)
{
    double fd[2];
    for (int k = 0; k < 2; k++) {
        const double h = k == 0 ? 2e-3 : 1e-3;
        double up = x0 + h, dn = x0 - h;
        const double f_up = f(ctx, &up), f_dn = f(ctx, &dn);
        fd[k] = (f_up - f_dn) / (up - dn);
    }
    *kink = fabs(fd[0] - fd[1]) > 1e-3 * fabs(fd[1]) + 1e-6;
    return (4 * fd[1] - fd[0]) / 3;
}

typedef struct {
    float *p;
    double (*loss)(void *ctx);
    void *ctx;
} grad_check_var;

static double grad_check_eval(void *ctx, double *x)
{
    grad_check_var *v = ctx;
    *v->p = (float)*x;
    *x = *v->p;
    return v->loss(v->ctx);
}

void tu_grad_check(const char *what, const param_tensor *t, int n_tensors, float *params,
                   const float *grads, size_t n_params, double (*loss)(void *ctx), void *ctx,
                   int samples, tu_xs *g)
{
    int checked = 0, skipped = 0;
    double gall = 0; /* the largest gradient anywhere: the scale of fp32 rounding noise */
    for (size_t j = 0; j < n_params; j++)
        gall = fmax(gall, fabs(grads[j]));
    for (int i = 0; i < n_tensors; i++) {
        double gmax = 0, worst = 0;
        for (size_t j = 0; j < t[i].numel; j++)
            gmax = fmax(gmax, fabs(grads[t[i].offset + j]));
        const size_t ns = t[i].numel < (size_t)samples ? t[i].numel : (size_t)samples;
        for (size_t s = 0; s < ns; s++) {
            const size_t j = t[i].numel < (size_t)samples ? s
                                                          : (size_t)(tu_xs_uniform(g) * t[i].numel);
            grad_check_var v = {&params[t[i].offset + j], loss, ctx};
            const float p0 = *v.p;
            int kink;
            const double want = tu_fd_central(grad_check_eval, &v, p0, &kink);
            *v.p = p0;
            if (kink) {
                skipped++;
                continue;
            }
            const double got = grads[t[i].offset + j], err = fabs(got - want);
            const double tol = 1e-3 * fabs(want) + 1e-4 * gmax + 1e-6 * gall;
            if (!(err <= tol))
                fail_msg("%s: %s[%zu]: backward %.9g, finite difference %.9g (abs err %.3g > tol "
                         "%.3g)",
                         what, t[i].name, j, got, want, err, tol);
            worst = fmax(worst, err / (fabs(want) + 1e-12));
            checked++;
        }
        printf("#   %-22s max rel err %.2e (max |g| %.3g)\n", t[i].name, worst, gmax);
    }
    printf("# gradient check %s: %d elements checked, %d skipped at kinks\n", what, checked,
           skipped);
    if (!(skipped * 5 < checked))
        fail_msg("%s: %d elements skipped at kinks, %d checked", what, skipped, checked);
}

/* ---- assertions ------------------------------------------------------------ */

void tu_assert_contains_at(const char *hay, const char *needle, const char *file, int line)
{
    if (!hay || !strstr(hay, needle)) {
        printf("# text lacks \"%s\":\n# \"%.3000s\"\n", needle, hay ? hay : "(null)");
        fflush(stdout); /* before cmocka's report on stderr */
        _fail(file, line);
    }
}

/* Element i of a double array d, or else of a float array f. */
static double elem(const double *d, const float *f, size_t i)
{
    return d ? d[i] : (double)f[i];
}

/* |got - want| / max(|want|, floor), or the absolute error d where that is 0. */
static double rel_err(double d, double want, double floor)
{
    const double scale = fmax(fabs(want), floor);
    return scale > 0 ? d / scale : d;
}

/* a > b, where a NaN is larger than any number. */
static int worse(double a, double b)
{
    return isnan(a) ? !isnan(b) : a > b;
}

/* tu_check_close_d/_f on double (gd, wd) or float (gf, wf) arrays. */
static tu_err check_close(const char *what, const double *gd, const float *gf, const double *wd,
                          const float *wf, size_t n, tu_tol tol, const char *file, int line)
{
    const int digits = gf ? 9 : 17; /* enough to tell any two values apart */
    tu_err worst = {0, 0};
    size_t abs_at = 0, rel_at = 0, bad_at = 0, n_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double g = elem(gd, gf, i), w = elem(wd, wf, i);
        const double d = fabs(g - w), r = rel_err(d, w, tol.floor);
        if (!(isfinite(d) && d <= tol.abs + tol.rel * fmax(fabs(w), tol.floor)) && n_bad++ == 0)
            bad_at = i;
        if (worse(d, worst.abs))
            worst.abs = d, abs_at = i;
        if (worse(r, worst.rel))
            worst.rel = r, rel_at = i;
    }
    printf("# %s: %zu value%s", what, n, n == 1 ? "" : "s");
    if (n)
        printf(", max abs err %.3g at [%zu] (got %.*g, want %.*g), max rel err %.3g at [%zu]",
               worst.abs, abs_at, digits, elem(gd, gf, abs_at), digits, elem(wd, wf, abs_at),
               worst.rel, rel_at);
    printf("\n");
    if (n_bad) {
        const double g = elem(gd, gf, bad_at), w = elem(wd, wf, bad_at);
        const double d = fabs(g - w);
        fflush(stdout); /* the line above before cmocka's report on stderr */
        print_error("ERROR: %s[%zu]: got %.*g want %.*g: abs err %.3g, rel err %.3g; tolerance "
                    "%.3g + %.3g * max(|want|, %.3g); %zu of %zu outside\n",
                    what, bad_at, digits, g, digits, w, d, rel_err(d, w, tol.floor), tol.abs,
                    tol.rel, tol.floor, n_bad, n);
        _fail(file, line);
    }
    return worst;
}

tu_err tu_check_close_d_at(const char *what, const double *got, const double *want, size_t n,
                           tu_tol tol, const char *file, int line)
{
    return check_close(what, got, NULL, want, NULL, n, tol, file, line);
}

tu_err tu_check_close_f_at(const char *what, const float *got, const float *want, size_t n,
                           tu_tol tol, const char *file, int line)
{
    return check_close(what, NULL, got, NULL, want, n, tol, file, line);
}
