/* testutil.h: helpers shared by the cmocka tests in tests/.
 *
 * A scratch directory per test (a cmocka fixture, or made and removed by
 * hand), paths inside it, whole-file writes and reads with plain stdio (so a
 * test of fileio never checks fileio with itself), a small random generator
 * for test data, a central finite difference, a substring assertion, and the
 * element-wise comparison of double or float arrays that prints what it
 * compared and its largest errors and fails through cmocka with the index,
 * the values and both errors.
 *
 * Of libgrok it uses only the parameter table's type (params.h).
 *
 * The assertions are macros so that a failure names the caller's file and
 * line. */
#ifndef GROK_TESTUTIL_H
#define GROK_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

/* ---- scratch directories --------------------------------------------------- */

/* Makes a fresh directory /tmp/grok-test-<name>-XXXXXX, <name> being the
 * test program's name without its "test_" prefix; fails the test when it
 * cannot.  Caller removes it with tu_rm_tmp_dir. */
char *tu_tmp_dir(void);

/* Removes dir and everything below it (symbolic links are not followed),
 * then frees the string; nothing for NULL. */
void tu_rm_tmp_dir(char *dir);

/* cmocka fixtures: *state = tu_tmp_dir(), then tu_rm_tmp_dir(*state).  As a
 * group fixture every test of the group receives the directory as *state. */
int tu_setup_dir(void **state);
int tu_teardown_dir(void **state);

/* dir/name in a malloc'ed string (caller frees). */
char *tu_path_in(const char *dir, const char *name);

/* ---- files ----------------------------------------------------------------- */

/* Creates or truncates path and writes data[0..n); fails the test on any error. */
void tu_write_file(const char *path, const void *data, size_t n);

/* tu_write_file of a NUL-terminated text, without the NUL. */
void tu_write_text(const char *path, const char *text);

/* Runs the shell command cmd with stdout and stderr into dir/cmd.log (then
 * removed); *log (when log is not NULL) gets its text, malloc'ed.  Returns
 * the exit status, or -1 when the command did not exit normally. */
int tu_run_shell(const char *dir, const char *cmd, char **log);

/* $GROK_BIN (make test sets it to the built ./grok); when it is not set,
 * says so and skips the calling cmocka test. */
const char *tu_grok_bin(void);

/* Trains a run into dir/name with `bin train SETS --set plots.formats=""
 * --threads 1 --quiet` and fails the test (printing grok's output) unless it
 * exits 0; returns the run's path (malloc'ed). */
char *tu_grok_train(const char *bin, const char *dir, const char *name, const char *sets);

/* The whole file, NUL-terminated, in a malloc'ed buffer (caller frees), its
 * length without the NUL in *n when n is not NULL; NULL when it cannot be
 * read. */
char *tu_read_file(const char *path, size_t *n);

/* ---- random test data ----------------------------------------------------- */

/* xorshift64 (shifts 13, 7, 17), independent of model/rng.c so that a test's
 * data does not move when the model's generator changes.  s must not be 0. */
typedef struct {
    uint64_t s;
} tu_xs;

/* Uniform in [0, 1) with 53 random bits. */
double tu_xs_uniform(tu_xs *g);

/* Standard normal (Box-Muller from two tu_xs_uniform draws). */
double tu_xs_normal(tu_xs *g);

/* ---- finite differences ---------------------------------------------------- */

/* Sets the variable under test to *x, rounds *x to the value actually stored
 * (a float parameter stores (float)*x), and returns the function there. */
typedef double (*tu_fd_fn)(void *ctx, double *x);

/* d f / d x at x0: central differences with steps 2e-3 and 1e-3 (the steps
 * actually stored, after f's rounding), Richardson-extrapolated to cancel the
 * h^2 term.  *kink is set when the two steps disagree by more than 1e-3
 * relative plus 1e-6 (a ReLU kink inside a step: the caller skips the
 * element).  Leaves the variable at x0 - 1e-3: the caller restores it. */
double tu_fd_central(tu_fd_fn f, void *ctx, double x0, int *kink);

/* Finite-difference check of a backward pass over every tensor of a parameter
 * table t[0..n_tensors): for up to `samples` elements per tensor (all of a
 * smaller tensor, else indices drawn from g), tu_fd_central of loss(ctx), a
 * float64 loss recomputed with the float parameter changed in params, against
 * grads [n_params].  An element fails when
 *     |grad - fd| > 1e-3 |fd| + 1e-4 max|grad in its tensor| + 1e-6 max|grad|
 * (with a float64 loss the difference is exact to about 1e-10; what remains is
 * the float32 backward's rounding, relative to the tensor's scale).  Elements
 * at a kink are skipped.  Prints the largest relative error per tensor and
 * the counts (what names the case), restores params, and fails (cmocka) on
 * the first bad element or when a fifth or more of the elements were
 * skipped. */
void tu_grad_check(const char *what, const param_tensor *t, int n_tensors, float *params,
                   const float *grads, size_t n_params, double (*loss)(void *ctx), void *ctx,
                   int samples, tu_xs *g);

/* ---- assertions ------------------------------------------------------------ */

/* Fails unless hay (which may be NULL) contains needle; prints both. */
#define tu_assert_contains(hay, needle) tu_assert_contains_at(hay, needle, __FILE__, __LINE__)
void tu_assert_contains_at(const char *hay, const char *needle, const char *file, int line);

/* The tolerance of tu_check_close_*: element i passes when
 *     |got[i] - want[i]| <= abs + rel * max(|want[i]|, floor)
 * so {0} asks for equality, {.abs = a} an absolute bound, {.rel = r,
 * .floor = 1} r relative to max(|want|, 1).  A NaN or infinite difference
 * never passes. */
typedef struct {
    double abs, rel, floor;
} tu_tol;

/* The largest errors found: absolute |got - want| and relative
 * |got - want| / max(|want|, floor) (the absolute error where that is 0). */
typedef struct {
    double abs, rel;
} tu_err;

/* Compares got[0..n) with want[0..n) under tol.  Prints one line: what, n,
 * the largest absolute error (with its index and both values) and the
 * largest relative error (with its index), a NaN counting as the largest.
 * Then fails (cmocka) on the first element outside tol with its index,
 * values, absolute and relative errors and the count outside.  Returns the
 * largest errors.  (tol is the macros' last argument, so that the commas of
 * a compound literal such as (tu_tol){.rel = 1e-6, .floor = 1} pass through.) */
#define tu_check_close_d(what, got, want, n, ... /* tol */)                                     \
    tu_check_close_d_at(what, got, want, n, __VA_ARGS__, __FILE__, __LINE__)
#define tu_check_close_f(what, got, want, n, ... /* tol */)                                     \
    tu_check_close_f_at(what, got, want, n, __VA_ARGS__, __FILE__, __LINE__)
tu_err tu_check_close_d_at(const char *what, const double *got, const double *want, size_t n,
                           tu_tol tol, const char *file, int line);
tu_err tu_check_close_f_at(const char *what, const float *got, const float *want, size_t n,
                           tu_tol tol, const char *file, int line);

#endif
