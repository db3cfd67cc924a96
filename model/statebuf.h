/* statebuf.h: named float buffers that a training state is made of.
 *
 * Each stateful piece of the training step (the optimizer, the gradient
 * filters) lists the buffers it holds under fixed names ("optim.m",
 * "filters.ema.mu", ...), so that the state file saves them and a resume
 * restores them by walking one list, with no name written in a second place.
 * The list a piece gives depends only on its config and the parameter count:
 * the same config gives the same names, in the same order, of the same sizes.
 * A statebuf points into memory its owner keeps; it never owns or frees. */
#ifndef GROK_STATEBUF_H
#define GROK_STATEBUF_H

#include <stddef.h>

#define STATEBUF_NAME_MAX 48
#define STATEBUF_LIST_MAX 16

typedef struct {
    char name[STATEBUF_NAME_MAX]; /* e.g. "optim.m", "filters.ma.ring" */
    float *data;                  /* [n], owned by the state that lists it */
    size_t n;                     /* floats */
} statebuf;

typedef struct {
    statebuf b[STATEBUF_LIST_MAX];
    int n; /* entries so far; start from {0} */
} statebuf_list;

/* Appends {name, data, n}; asserts the name is new and fits and the list has room. */
void statebuf_add(statebuf_list *l, const char *name, float *data, size_t n);

/* The entry called name, or NULL. */
const statebuf *statebuf_find(const statebuf_list *l, const char *name);

#endif
