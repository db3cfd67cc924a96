/* fileio.h: atomic file writes, whole-file reads, directories, and a growable
 * text buffer for building TSV/JSON files in memory.
 *
 * Every file in a run directory is written with fileio_write_atomic: the bytes
 * go to a temporary file in the same directory, which is flushed, fsync'ed and
 * renamed over the target, and the directory is fsync'ed, so a reader (or a
 * run killed at any instant) sees either the old file or the new one. */
#ifndef GROK_FILEIO_H
#define GROK_FILEIO_H

#include <stddef.h>

#include "grok.h"

/* Atomically replaces path with data[0..n).  On failure the previous file (if
 * any) is untouched and no temporary file is left behind. */
int fileio_write_atomic(const char *path, const void *data, size_t n, grok_err *e);

/* fsync of the directory holding path, so a rename into it survives a power
 * loss (a filesystem that cannot sync directories counts as success).
 * 0, or -1 with errno set. */
int fileio_fsync_parent(const char *path);

/* Reads a whole file into a malloc'ed buffer (NUL-terminated for text use;
 * *n excludes the NUL).  Caller frees with free(). */
int fileio_read_all(const char *path, char **data, size_t *n, grok_err *e);

/* mkdir -p; succeeds when the directory exists. */
int fileio_mkdir_p(const char *path, grok_err *e);

/* 1 when path exists (any type), else 0. */
int fileio_exists(const char *path);

/* A growable NUL-terminated text buffer. */
typedef struct {
    char *data;
    size_t len, cap;
    int oom; /* set when an append failed to allocate; later appends do nothing */
} sbuf;

void sbuf_init(sbuf *b);
void sbuf_free(sbuf *b);
void sbuf_clear(sbuf *b);
void sbuf_append(sbuf *b, const char *s, size_t n);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s as a JSON string literal (quotes and escapes included). */
void sbuf_json_string(sbuf *b, const char *s);

/* Appends "line L: 'A' vs 'B'" for the first line where the texts a and b
 * differ (each line cut at 150 bytes), for messages that say what changed. */
void sbuf_first_diff(sbuf *b, const char *a, const char *b_text);

#endif
