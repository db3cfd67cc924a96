/* statebuf.c: the list of named state buffers (see statebuf.h). */
#include "statebuf.h"

#include <string.h>

#include "grok.h"

void statebuf_add(statebuf_list *l, const char *name, float *data, size_t n)
{
    GROK_ASSERT(l != NULL && name != NULL && (data != NULL || n == 0));
    GROK_ASSERT(l->n >= 0 && l->n < STATEBUF_LIST_MAX);
    GROK_ASSERT(strlen(name) < STATEBUF_NAME_MAX);
    GROK_ASSERT(statebuf_find(l, name) == NULL);
    statebuf *b = &l->b[l->n++];
    memset(b->name, 0, sizeof b->name);
    strcpy(b->name, name);
    b->data = data;
    b->n = n;
}

const statebuf *statebuf_find(const statebuf_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->b[i].name, name) == 0)
            return &l->b[i];
    return NULL;
}
