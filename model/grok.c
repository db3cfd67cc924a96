/* grok.c: the status helpers and aligned allocation declared in grok.h. */
#include "grok.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

int grok_fail(grok_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* One zeroed cache line more than asked for: BLIS 0.9's Haswell "sup"
 * kernels (the small-matrix path, which Debian 12's libblis4 picks on AVX2
 * machines) read a float or two past the end of an operand on some edge
 * cases (flame/blis issues 635 and 821, fixed after 0.9): valgrind saw one
 * past the end of a parameter block whose size was a multiple of 64, and at
 * a page's end such a read faults.  The slack keeps those reads inside the
 * block; the values read are not used. */
#define GROK_ALLOC_SLACK 64

void *grok_alloc(size_t n)
{
    if (n > SIZE_MAX - 2 * GROK_ALLOC_SLACK)
        return NULL;
    const size_t rounded = (n + 63) / 64 * 64 + GROK_ALLOC_SLACK;
    void *p = aligned_alloc(64, rounded);
    if (p)
        memset(p, 0, rounded);
    return p;
}

void grok_free(void *ptr) { free(ptr); }
