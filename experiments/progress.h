/* progress.h: the progress line of a long run, and the run's log lines.
 *
 * On a terminal the line "epoch E/N  train L A  test L A  R ep/s  ETA" is
 * rewritten in place with \r at most ten times a second; when stderr is not a
 * terminal (a pipe, a batch job's log) it prints plain lines instead, at most
 * one every PROGRESS_PLAIN_S seconds or PROGRESS_PLAIN_EPOCHS epochs.
 * Events (start, memorised, grokked, end, errors) are full lines in both
 * cases.  Every plain line and event is also appended to a log buffer, which
 * the runner writes to the run's log.txt.  Owns no file. */
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

#endif
