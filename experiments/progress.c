/* progress.c: the progress line and log lines (see progress.h). */
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(progress *p, FILE *out, sbuf *log, long e_start, long total)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = out ? isatty(fileno(out)) : 0;
    p->log = log;
    p->total = total;
    p->e_start = e_start;
    p->t_start = progress_now();
    p->t_draw = -1e30;
    p->t_plain = p->t_start;
    p->e_plain = e_start;
}

/* "1:02:03" or "2:03" for s seconds; "?" when unknown. */
static void progress_hms(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0 || s > 1e9) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void progress_format(const progress *p, char *buf, size_t n, long epoch, const double *row,
                            double now)
{
    double dt = now - p->t_start;
    double rate = dt > 0 ? (double)(epoch - p->e_start) / dt : 0.0;
    char eta[32];
    progress_hms(eta, sizeof eta, rate > 0 ? (double)(p->total - epoch) / rate : NAN);
    int len = snprintf(buf, n, "epoch %ld/%ld", epoch, p->total);
    if (row && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len,
                        "  train %.3e %5.1f%%  test %.3e %5.1f%% (epoch %ld)", row[2],
                        100.0 * row[4], row[3], 100.0 * row[5], (long)row[0]);
    if (len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, "  %.1f ep/s  ETA %s", rate, eta);
}

void progress_update(progress *p, long epoch, const double *row, int force)
{
    double now = progress_now();
    int plain = force || now - p->t_plain >= PROGRESS_PLAIN_S ||
                epoch - p->e_plain >= PROGRESS_PLAIN_EPOCHS;
    int draw = p->out && p->tty && now - p->t_draw >= 0.1;
    if (!plain && !draw)
        return;
    char line[256];
    progress_format(p, line, sizeof line, epoch, row, now);
    if (plain) {
        p->t_plain = now;
        p->e_plain = epoch;
        if (p->log) {
            sbuf_puts(p->log, line);
            sbuf_puts(p->log, "\n");
        }
        if (p->out && !p->tty)
            fprintf(p->out, "%s\n", line);
    }
    if (draw) {
        p->t_draw = now;
        fprintf(p->out, "\r%s\033[K", line); /* \033[K clears the rest of the line */
        fflush(p->out);
        p->line_open = 1;
    }
}

void progress_event(progress *p, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (p->log) {
        sbuf_puts(p->log, line);
        sbuf_puts(p->log, "\n");
    }
    if (p->out) {
        if (p->line_open)
            fputs("\r\033[K", p->out);
        fprintf(p->out, "%s\n", line);
        fflush(p->out);
        p->line_open = 0;
        p->t_draw = -1e30; /* redraw the status line at the next update */
    }
}

void progress_end(progress *p)
{
    if (p->out && p->line_open) {
        fputs("\n", p->out);
        fflush(p->out);
    }
    p->line_open = 0;
}

/* ---- a command's steps -------------------------------------------------- */

void progress_task_start(progress_task *t, FILE *out, const char *what, const char *unit,
                         long total)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->tty = out ? isatty(fileno(out)) : 0;
    snprintf(t->what, sizeof t->what, "%s", what);
    snprintf(t->unit, sizeof t->unit, "%s", unit);
    t->total = total;
    t->t_start = progress_now();
    t->t_draw = -1e30;
    t->plain_after_s = PROGRESS_PLAIN_S;
    t->first_done = -1;
}

void progress_task_step(progress_task *t, long done, long total, const char *item)
{
    if (total > 0)
        t->total = total;
    t->done = done;
    if (!t->out)
        return;
    double now = progress_now(), dt = now - t->t_start;
    if (t->first_done < 0) { /* the rate is counted from the first step: setup excluded */
        t->first_done = done;
        t->t_first = now;
    }
    int quarter = t->total > 0 ? (int)(4 * done / t->total) : 0;
    int plain = !t->tty && quarter > t->plain && quarter < 4 && dt >= t->plain_after_s;
    int draw = t->tty && (now - t->t_draw >= 0.1 || done == t->total);
    if (!plain && !draw)
        return;
    double rate = done > t->first_done && now > t->t_first
                      ? (double)(done - t->first_done) / (now - t->t_first)
                      : NAN;
    char eta[32], line[256];
    progress_hms(eta, sizeof eta, rate > 0 ? (double)(t->total - done) / rate : NAN);
    int len = snprintf(line, sizeof line, "%s: %ld/%ld %s", t->what, done, t->total, t->unit);
    if (item && len >= 0 && (size_t)len < sizeof line)
        len += snprintf(line + len, sizeof line - (size_t)len, " (%s)", item);
    if (rate > 0 && len >= 0 && (size_t)len < sizeof line)
        snprintf(line + len, sizeof line - (size_t)len, "  %.3g/s  ETA %s", rate, eta);
    if (plain) {
        t->plain = quarter;
        fprintf(t->out, "%s\n", line);
        fflush(t->out);
    } else {
        t->t_draw = now;
        fprintf(t->out, "\r%s\033[K", line);
        fflush(t->out);
        t->line_open = 1;
    }
}

void progress_task_end(progress_task *t)
{
    if (t->out && t->line_open) {
        fputs("\r\033[K", t->out);
        fflush(t->out);
    }
    t->line_open = 0;
}

static void progress_task_fn(void *ctx, long done, long total, const char *item)
{
    progress_task_step(ctx, done, total, item);
}

grok_progress progress_task_hook(progress_task *t)
{
    return (grok_progress){progress_task_fn, t};
}
