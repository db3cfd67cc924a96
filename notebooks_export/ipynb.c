/* ipynb.c: the nbformat 4.5 writer declared in ipynb.h.
 *
 * Cell JSON (nbformat/v4/nbformat.v4.5.schema.json):
 *   {"cell_type": "markdown", "id": "cell-1", "metadata": {}, "source": [...]}
 *   {"cell_type": "markdown", "id": ..., "metadata": {}, "source": [...],
 *    "attachments": {"loss.png": {"image/png": "<base64>"}}}
 *   {"cell_type": "code", "execution_count": null, "id": ..., "metadata": {},
 *    "outputs": [], "source": [...]}
 * Indented one key per line, as Jupyter writes notebooks. */
#include "ipynb.h"

#include <string.h>

#include "grok.h"

void ipynb_init(ipynb *nb)
{
    sbuf_init(&nb->cells);
    nb->n_cells = 0;
}

void ipynb_free(ipynb *nb)
{
    sbuf_free(&nb->cells);
    nb->n_cells = 0;
}

/* "source": ["line 1\n", "line 2"] */
static void ipynb_source(sbuf *b, const char *src)
{
    sbuf_puts(b, "   \"source\": [");
    const char *p = src;
    int first = 1;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        char *line = malloc(len + 1);
        if (!line) {
            b->oom = 1;
            return;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        sbuf_puts(b, first ? "\n    " : ",\n    ");
        sbuf_json_string(b, line);
        free(line);
        first = 0;
        p += len;
    }
    sbuf_puts(b, first ? "]" : "\n   ]");
}

static void ipynb_open_cell(ipynb *nb, const char *type)
{
    if (nb->n_cells > 0)
        sbuf_puts(&nb->cells, ",\n");
    nb->n_cells++;
    sbuf_printf(&nb->cells, "  {\n   \"cell_type\": \"%s\",\n", type);
}

void ipynb_markdown(ipynb *nb, const char *source)
{
    GROK_ASSERT(nb && source);
    ipynb_open_cell(nb, "markdown");
    sbuf_printf(&nb->cells, "   \"id\": \"cell-%d\",\n   \"metadata\": {},\n", nb->n_cells);
    ipynb_source(&nb->cells, source);
    sbuf_puts(&nb->cells, "\n  }");
}

void ipynb_code(ipynb *nb, const char *source)
{
    GROK_ASSERT(nb && source);
    ipynb_open_cell(nb, "code");
    sbuf_printf(&nb->cells,
                "   \"execution_count\": null,\n   \"id\": \"cell-%d\",\n   \"metadata\": {},\n"
                "   \"outputs\": [],\n",
                nb->n_cells);
    ipynb_source(&nb->cells, source);
    sbuf_puts(&nb->cells, "\n  }");
}

void ipynb_markdown_png(ipynb *nb, const char *source, const char *name, const unsigned char *png,
                        size_t n)
{
    GROK_ASSERT(nb && source && name && (png || n == 0));
    GROK_ASSERT(strlen(name) >= 1 && strlen(name) <= 64 && !strchr(name, '/'));
    ipynb_open_cell(nb, "markdown");
    sbuf_puts(&nb->cells, "   \"attachments\": {\n    ");
    sbuf_json_string(&nb->cells, name);
    sbuf_puts(&nb->cells, ": {\n     \"image/png\": \"");
    ipynb_base64(&nb->cells, png, n);
    sbuf_printf(&nb->cells, "\"\n    }\n   },\n   \"id\": \"cell-%d\",\n   \"metadata\": {},\n",
                nb->n_cells);
    ipynb_source(&nb->cells, source);
    sbuf_puts(&nb->cells, "\n  }");
}

int ipynb_format(const ipynb *nb, const char *extra_metadata, sbuf *out, grok_err *e)
{
    GROK_ASSERT(nb && out);
    sbuf_puts(out, "{\n \"cells\": [\n");
    if (nb->cells.data)
        sbuf_append(out, nb->cells.data, nb->cells.len);
    sbuf_puts(out, "\n ],\n \"metadata\": {\n");
    if (extra_metadata && extra_metadata[0]) {
        sbuf_puts(out, "  ");
        sbuf_puts(out, extra_metadata);
        sbuf_puts(out, ",\n");
    }
    sbuf_puts(out,
              "  \"kernelspec\": {\n"
              "   \"display_name\": \"Python 3\",\n"
              "   \"language\": \"python\",\n"
              "   \"name\": \"python3\"\n"
              "  },\n"
              "  \"language_info\": {\n"
              "   \"codemirror_mode\": {\"name\": \"ipython\", \"version\": 3},\n"
              "   \"file_extension\": \".py\",\n"
              "   \"mimetype\": \"text/x-python\",\n"
              "   \"name\": \"python\",\n"
              "   \"nbconvert_exporter\": \"python\"\n"
              "  }\n"
              " },\n"
              " \"nbformat\": 4,\n"
              " \"nbformat_minor\": 5\n"
              "}\n");
    if (out->oom || nb->cells.oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory building the notebook");
    return GROK_OK;
}

void ipynb_base64(sbuf *out, const unsigned char *data, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char chunk[4 * 1024];
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        chunk[k++] = tab[(v >> 18) & 63];
        chunk[k++] = tab[(v >> 12) & 63];
        chunk[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        chunk[k++] = i + 2 < n ? tab[v & 63] : '=';
        if (k == sizeof chunk) {
            sbuf_append(out, chunk, k);
            k = 0;
        }
    }
    sbuf_append(out, chunk, k);
}

int ipynb_is_png(const unsigned char *data, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    return n >= 8 && memcmp(data, sig, 8) == 0;
}
