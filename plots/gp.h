/* gp.h: the gnuplot driver: one gnuplot process per figure, fed a script
 * through a pipe, its messages captured, its output files put in place
 * atomically.
 *
 * gp_draw owns the process and the files: it knows nothing of what a script
 * draws (plot.c builds the scripts).  It never prints and never exits; a
 * failure is a status plus a message naming the figure. */
#ifndef GROK_GP_H
#define GROK_GP_H

#include <stddef.h>

#include "fileio.h"
#include "grok.h"

/* Seconds a single gnuplot run may take before it is killed.  A figure takes
 * well under a second; the limit only guards against a hung process. */
#define GP_TIMEOUT_S 120

/* The message given when the gnuplot executable cannot be run. */
#define GP_MISSING_MSG "gnuplot not found: install gnuplot-nox (make deps)"

/* The executable gp_draw runs: bin when not NULL, else the environment
 * variable GP_BIN when set and non-empty, else "gnuplot" (searched in PATH). */
const char *gp_bin(const char *bin);

/* Runs `gnuplot -d` (no init file, so ~/.gnuplot cannot change a figure) on
 * script[0..n), with the working directory set to a fresh temporary
 * directory out_dir/.gp-<fig>-XXXXXX.  The script must write exactly the
 * files outputs[0..n_outputs) (plain names, no '/') there.  When gnuplot
 * exits with status 0, ran the script to its end and every output exists
 * and is non-empty, each output is fsync'ed and renamed to out_dir/<name>;
 * otherwise nothing is renamed.  The temporary directory is always removed.
 *
 * fig names the figure in every message but the missing-gnuplot one.
 * Anything gnuplot printed on stderr during a successful run (warnings) is
 * appended to warnings when not NULL, one "fig: gnuplot: line" per line.
 * *missing (when not NULL) is set to 1 when the executable could not be
 * found, else 0.
 *
 * Returns GROK_OK; GROK_EIO when gnuplot is missing (message GP_MISSING_MSG),
 * failed (its exit status and stderr are in the message), was killed after
 * GP_TIMEOUT_S, or an output is missing or empty, or a file operation fails;
 * GROK_ENOMEM.  SIGPIPE is ignored while the script is written (so a gnuplot
 * that dies early cannot kill the caller) and its previous disposition
 * restored afterwards; this is process-wide, so a program that plots from
 * one thread while another writes to a pipe of its own sees SIGPIPE ignored
 * meanwhile (write then fails with EPIPE instead). */
int gp_draw(const char *bin, const char *out_dir, const char *fig, const char *script, size_t n,
            const char *const *outputs, int n_outputs, sbuf *warnings, int *missing, grok_err *e);

/* Removes the out_dir/.gp-* directories a killed drawing left behind.  Only
 * for a caller that knows no other process draws into out_dir now (grok
 * resume, under the run's lock). */
void gp_remove_stale(const char *out_dir);

#endif
