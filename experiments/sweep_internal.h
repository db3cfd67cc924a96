/* sweep_internal.h: what the pieces of `grok sweep` share (not public:
 * sweep.h is the interface).
 *
 *   sweep.c         the command (flags, the three modes) and small helpers
 *   sweep_config.c  reading a sweep file into a sweep_spec
 *   sweep_grid.c    the grid's points (index, name, config), sweep.cfg and
 *                   points.tsv, preparing the sweep directory
 *   sweep_point.c   one point's run directory: its state, running it
 *   sweep_pool.c    running many points: the local pool of processes, or
 *                   one after another in this process (MPI ranks, SLURM
 *                   array tasks); the progress lines
 *   sweep_table.c   sweep.tsv and sweep_time.tsv, the progress view
 *                   (--status), the table and figures at the end
 *   sweep_mpi.c     the MPI layer */
#ifndef GROK_SWEEP_INTERNAL_H
#define GROK_SWEEP_INTERNAL_H

#include <stddef.h>

#include "blisarch.h"
#include "cfg.h"
#include "fileio.h"
#include "grok.h"
#include "rundir.h"
#include "sweep.h"

typedef struct {
    const sweep_spec *s;
    const char *dir;
    blisarch_info *bi;
    int quiet;      /* no progress lines from the runs themselves */
    int tty;        /* stderr is a terminal: the progress line is redrawn */
    int line_open;  /* a \r progress line is on screen */
    const char *tag; /* "" or "rank 1/4: " */
    double t0;
    long n_total;   /* points in the sweep */
    long n_done;    /* done, counting those done before this session */
    long n_failed;
    long n_ran;     /* points run by this process */
    double sum_dur; /* seconds of the points run to completion here */
} sweep_exec;


/* ---- sweep.c: small helpers ---------------------------------------------- */

/* a/b into out (n bytes); GROK_EINVAL when too long. */
int sweep_join(char *out, size_t n, const char *a, const char *b, grok_err *e);
/* Appends s as a libconfig string literal. */
void sweep_cfg_string(sbuf *b, const char *s);
/* Appends a float's text so that libconfig reads a float: "1" -> "1.0". */
void sweep_cfg_float_text(sbuf *b, const char *text);
/* Characters allowed in a point name part and in labels. */
int sweep_name_char(char ch);
double sweep_now(void);
/* "1h02m", "3m05s", "4.2s"; "?" when s is not a duration. */
void sweep_fmt_duration(char *buf, size_t n, double s);
/* Writes b to path unless the file already holds exactly these bytes. */
int sweep_write_if_changed(const char *path, const sbuf *b, grok_err *e);

/* ---- sweep_config.c ------------------------------------------------------ */

/* Appends axis a's value v as the right side of a --set assignment. */
void sweep_set_text(sbuf *b, const sweep_axis *a, int v);

/* ---- sweep_point.c ------------------------------------------------------- */

/* A run's summary.json (root NULL when absent or not JSON); its status or "". */
rundir_summary sweep_read_summary(const char *pdir);
const char *sweep_status_of(const rundir_summary *s);
/* The point needs no work: done, and with the sweep's config. */
int sweep_point_done(const sweep_spec *s, const char *dir, long i);

/* ---- sweep_pool.c -------------------------------------------------------- */

/* The local pool: one forked process per point of todo, at most jobs at a
 * time. */
int sweep_pool(sweep_exec *x, const long *todo, long n_todo, int jobs);
/* Points one after another in this process (MPI ranks, array tasks). */
void sweep_inproc(sweep_exec *x, const long *todo, long n_todo);

/* ---- sweep_table.c ------------------------------------------------------- */

/* The sweep in dir (its sweep.cfg). */
int sweep_load_dir(sweep_spec *s, const char *dir, grok_err *e);
/* The table, then (when draw) the figures; prints what it wrote.  Returns
 * the number of points done; *failed = 1 when the table failed. */
long sweep_finish_table(const sweep_spec *s, const char *dir, const char *formats, int draw,
                        int quiet, int *failed);
/* An exclusive lock on the sweep directory (blocking), -1 when it cannot be
 * taken; released by sweep_unlock_dir. */
int sweep_lock_dir(const char *dir);
void sweep_unlock_dir(int fd);

#endif
