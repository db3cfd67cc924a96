/* progress.h: the progress line of a long run, and the run's log lines.
 *
 * On a terminal the line "epoch E/N  train L A  test L A  R ep/s  ETA" is
 * rewritten in place with \r at most ten times a second; when stderr is not a
 * terminal (a pipe, a batch job's log) it prints plain lines instead, at most
 * one every PROGRESS_PLAIN_S seconds or PROGRESS_PLAIN_EPOCHS epochs.
 * Events (start, memorised, grokked, end, errors) are full lines in both
 * cases.  Every plain line and event is also appended to a log buffer, which
 * the runner writes to the run's log.txt.
 *
 * The other long commands (measure, plot, export, import, view) count steps
 * instead of epochs with a progress_task: on a terminal the line
 * "measure: 120/491 checkpoints (epoch 12000)  3.2/s  ETA 1:30" rewritten in
 * place, at most ten times a second, and erased at the end (the command
 * then prints its own summary); otherwise at most three plain lines, at a
 * quarter, half and three quarters of the steps, and only once the task
 * has run PROGRESS_PLAIN_S seconds, so a quick command stays silent in a
 * pipe or a log.  Library code reports steps through grok.h's grok_progress
 * hook (progress_task_hook), so that plots/ and notebooks_export/ need not
 * know of this file.  Owns no file. */
#ifndef GROK_PROGRESS_H
#define GROK_PROGRESS_H

#include <stdio.h>

#include "fileio.h"

#define PROGRESS_PLAIN_S 2.0
#define PROGRESS_PLAIN_EPOCHS 1000

typedef struct {
    FILE *out;        /* stderr, or NULL when quiet */
    int tty;          /* out is a terminal: rewrite one line with \r */
    int line_open;    /* a \r line is on screen and needs a newline before an event */
    sbuf *log;        /* plain lines and events are appended here; may be NULL */
    long total;       /* epochs of the run */
    long e_start;     /* epoch at which this session started */
    double t_start;   /* monotonic seconds at the session's start */
    double t_draw;    /* when the terminal line was last drawn */
    double t_plain;   /* when the last plain line was written */
    long e_plain;     /* the epoch of the last plain line */
} progress;

/* Monotonic clock in seconds. */
double progress_now(void);

/* Starts a session at epoch e_start of total; out = NULL for quiet. */
void progress_init(progress *p, FILE *out, sbuf *log, long e_start, long total);

/* Reports that `epoch` epochs are done; row = the latest metrics row
 * {epoch, lr, train_loss, test_loss, train_acc, test_acc, elapsed_s} or NULL.
 * force = 1 writes a plain line now. */
void progress_update(progress *p, long epoch, const double *row, int force);

/* A full line (printf-style), to the terminal and the log. */
void progress_event(progress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Ends the terminal line, if one is open. */
void progress_end(progress *p);

/* ---- a command's steps -------------------------------------------------- */

typedef struct {
    FILE *out;          /* stderr, or NULL when quiet */
    int tty;            /* out is a terminal: one line rewritten with \r */
    int line_open;      /* a \r line is on screen */
    char what[32];      /* the command: "measure", "plot" */
    char unit[32];      /* what a step is: "checkpoints", "figures" */
    long total, done;
    double t_start, t_draw;
    long first_done;    /* the steps done at the first report (-1: none yet) */
    double t_first;     /* its time: the rate counts from there */
    double plain_after_s; /* plain lines only after this long (PROGRESS_PLAIN_S) */
    int plain;          /* plain lines written (quarters passed) */
} progress_task;

/* Starts a task of total steps (0: not known yet; each step may update
 * it); out = NULL for quiet. */
void progress_task_start(progress_task *t, FILE *out, const char *what, const char *unit,
                         long total);

/* Reports that `done` of `total` steps are finished (total <= 0 keeps the
 * last one); item names the last step, or NULL. */
void progress_task_step(progress_task *t, long done, long total, const char *item);

/* Erases the terminal line, if one is drawn. */
void progress_task_end(progress_task *t);

/* The grok_progress hook that reports to t (progress_task_step). */
grok_progress progress_task_hook(progress_task *t);

#endif
