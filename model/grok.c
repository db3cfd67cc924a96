/* grok.c: the status helpers and aligned allocation declared in grok.h. */
#include "grok.h"

#include <stdarg.h>
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

void *grok_alloc(size_t n)
{
    size_t rounded = (n + 63) / 64 * 64;
    if (rounded == 0)
        rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p)
        memset(p, 0, rounded);
    return p;
}

void grok_free(void *ptr) { free(ptr); }
