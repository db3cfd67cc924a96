/* ipynb.h: Jupyter notebooks (nbformat 4.5) built in memory.
 *
 * Owns the notebook's JSON shape only (docs/formats.md, Notebooks): the top-level
 * object with a python3 kernelspec, markdown and code cells, each with a
 * unique "id" (nbformat_minor 5 requires them), code cells with
 * "execution_count": null and empty "outputs" (the notebook is written
 * unexecuted; Jupyter or `jupyter nbconvert --execute` runs it), and images
 * as markdown-cell attachments ("![name](attachment:name.png)"), which stay in
 * the notebook when it is executed or converted.  Sources are stored as lists
 * of lines, as Jupyter writes them, so diffs stay readable.  Cell ids are
 * "cell-1", "cell-2", ... so the same notebook is the same bytes.  What the
 * cells say is the caller's (notebook.c). */
#ifndef GROK_IPYNB_H
#define GROK_IPYNB_H

#include <stddef.h>

#include "fileio.h"
#include "grok.h"

typedef struct {
    sbuf cells; /* the cells' JSON so far, comma-separated */
    int n_cells;
} ipynb;

void ipynb_init(ipynb *nb);
void ipynb_free(ipynb *nb);

/* Appends a markdown cell. */
void ipynb_markdown(ipynb *nb, const char *source);
/* Appends a code cell (unexecuted). */
void ipynb_code(ipynb *nb, const char *source);
/* Appends a markdown cell carrying a PNG as the attachment `name`
 * (1-64 characters, no '/'); source should show it with
 * "![alt](attachment:<name>)". */
void ipynb_markdown_png(ipynb *nb, const char *source, const char *name, const unsigned char *png,
                        size_t n);

/* Writes the whole notebook JSON into out.  extra_metadata (may be NULL) is
 * one JSON object member, e.g. "\"grok\": {...}", added to the notebook's
 * metadata.  GROK_ENOMEM when any append ran out of memory. */
int ipynb_format(const ipynb *nb, const char *extra_metadata, sbuf *out, grok_err *e);

/* Standard base64 (RFC 4648, with padding, no line breaks) of data[0..n). */
void ipynb_base64(sbuf *out, const unsigned char *data, size_t n);

/* 1 when data[0..n) starts with the PNG signature. */
int ipynb_is_png(const unsigned char *data, size_t n);

#endif
