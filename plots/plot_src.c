/* plot_src.c: the editable copy of every figure drawn (figure.h,
 * plot_save_src): figures/src/NAME.gp and its data, so that `gnuplot
 * NAME.gp` run in figures/src redraws the figure without grok.
 *
 * grok sends each script with its data inline (`$name << EOD` blocks).  The
 * copy moves every block into a data file beside the script (NAME.tsv when
 * the figure has one block, NAME_BLOCK.tsv otherwise; tab-separated, its
 * comment lines kept) and points the script's uses of `$name` at the file.
 * Nothing else changes, so the copy draws the same picture: the style
 * variables at its top (style.c) are the ones a researcher edits.  The
 * script of the first format drawn is NAME.gp; a further format's is
 * NAME.<ext>.gp (NAME.pdf.gp, NAME.tex.gp).  The scripts write their
 * outputs into figures/src itself. */
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "style.h"

/* A data block of the script: its name and the byte range of its rows. */
typedef struct {
    char name[64];
    size_t body, body_end; /* rows, after the "<< EOD" line, before "EOD" */
    size_t start, end;     /* the whole block, its header line to after "EOD\n" */
} src_block;

enum { SRC_MAX_BLOCKS = 128 };

/* 1 when the line at p (up to '\n') is "$name << EOD"; name copied out. */
static int src_block_head(const char *p, const char *eol, char *name, size_t cap)
{
    if (*p != '$')
        return 0;
    const char *q = p + 1;
    while (q < eol && (*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                       (*q >= '0' && *q <= '9')))
        q++;
    size_t n = (size_t)(q - p - 1);
    if (n == 0 || n >= cap || (size_t)(eol - q) != strlen(" << EOD") ||
        strncmp(q, " << EOD", (size_t)(eol - q)))
        return 0;
    memcpy(name, p + 1, n);
    name[n] = '\0';
    return 1;
}

/* Finds the blocks of script[0..n); returns their count, or -1 when there
 * are too many or one is not closed (the copy is then the script as it is). */
static int src_find_blocks(const char *s, size_t n, src_block *b)
{
    int nb = 0;
    size_t i = 0;
    while (i < n) {
        const char *eol = memchr(s + i, '\n', n - i);
        size_t line_end = eol ? (size_t)(eol - s) : n;
        char name[64];
        if (src_block_head(s + i, s + line_end, name, sizeof name)) {
            if (nb == SRC_MAX_BLOCKS)
                return -1;
            src_block *k = &b[nb];
            snprintf(k->name, sizeof k->name, "%s", name);
            k->start = i;
            k->body = line_end + 1;
            size_t j = k->body;
            int closed = 0;
            while (j < n && !closed) {
                const char *e2 = memchr(s + j, '\n', n - j);
                size_t le = e2 ? (size_t)(e2 - s) : n;
                if (le - j == 3 && !strncmp(s + j, "EOD", 3)) {
                    k->body_end = j;
                    k->end = le < n ? le + 1 : n;
                    closed = 1;
                }
                j = le + 1;
            }
            if (!closed)
                return -1;
            nb++;
            i = k->end;
            continue;
        }
        i = line_end + 1;
    }
    return nb;
}

/* The data file of block k: NAME.tsv when it is the only one. */
static void src_data_name(char *out, size_t cap, const char *fig, const src_block *k, int nb)
{
    if (nb == 1)
        snprintf(out, cap, "%s.tsv", fig);
    else
        snprintf(out, cap, "%s_%s.tsv", fig, k->name);
}

/* Appends the rows s[a..b) with the spaces between fields as tabs (lines
 * holding a quote, or comments, are kept as they are). */
static void src_rows(sbuf *out, const char *s, size_t a, size_t b)
{
    size_t i = a;
    while (i < b) {
        const char *eol = memchr(s + i, '\n', b - i);
        size_t le = eol ? (size_t)(eol - s) : b;
        int keep = s[i] == '#' || memchr(s + i, '"', le - i) || memchr(s + i, '\'', le - i);
        for (size_t j = i; j < le; j++)
            sbuf_append(out, keep || s[j] != ' ' ? s + j : "\t", 1);
        sbuf_puts(out, "\n");
        i = le + 1;
    }
}

/* Appends script text s[a..b) with every `$name` of a block (outside quoted
 * strings and comments) replaced by the quoted name of its data file, or
 * with prefix (not NULL) by `$<prefix>name`. */
static void src_commands(sbuf *out, const char *s, size_t a, size_t b, const char *fig,
                         const src_block *bl, int nb, const char *prefix)
{
    char quote = 0;
    int comment = 0;
    for (size_t i = a; i < b; i++) {
        char ch = s[i];
        if (ch == '\n') {
            comment = 0;
            quote = 0;
        } else if (!comment && quote && ch == quote) {
            quote = 0;
        } else if (!comment && !quote && (ch == '\'' || ch == '"')) {
            quote = ch;
        } else if (!quote && ch == '#') {
            comment = 1;
        } else if (!quote && !comment && ch == '$') {
            size_t j = i + 1;
            while (j < b && (s[j] == '_' || (s[j] >= 'a' && s[j] <= 'z') ||
                             (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9')))
                j++;
            for (int k = 0; k < nb; k++) {
                if (strlen(bl[k].name) == j - i - 1 && !strncmp(s + i + 1, bl[k].name, j - i - 1)) {
                    char file[200];
                    src_data_name(file, sizeof file, fig, &bl[k], nb);
                    if (prefix)
                        sbuf_printf(out, "$%s%s", prefix, bl[k].name);
                    else
                        sbuf_printf(out, "'%s'", file);
                    i = j - 1;
                    ch = 0;
                    break;
                }
            }
            if (!ch)
                continue; /* replaced */
        }
        sbuf_append(out, &s[i], 1);
    }
}

int plot_save_src(const char *fig_dir, const char *fig, plot_format f, int first,
                  const char *script, size_t n, grok_err *e)
{
    char src_dir[4200], path[4400], gp_name[160];
    snprintf(src_dir, sizeof src_dir, "%s/src", fig_dir);
    int rc = fileio_mkdir_p(src_dir, e);
    if (rc)
        return rc;
    if (first)
        snprintf(gp_name, sizeof gp_name, "%s.gp", fig);
    else
        snprintf(gp_name, sizeof gp_name, "%s.%s.gp", fig, plot_ext(f));
    src_block *bl = malloc(SRC_MAX_BLOCKS * sizeof *bl);
    if (!bl)
        return grok_fail(e, GROK_ENOMEM, "figure %s: out of memory", fig);
    int nb = src_find_blocks(script, n, bl);
    if (nb < 0)
        nb = 0; /* kept inline */
    sbuf out, data;
    sbuf_init(&out);
    sbuf_init(&data);
    sbuf_printf(&out, "# %s: figure %s (%s), drawn by grok; its data in %s%s.\n"
                      "# Edit the style below or any command, then run `gnuplot %s` here.\n",
                gp_name, fig, plot_ext(f), fig, nb == 1 ? ".tsv" : "_*.tsv", gp_name);
    size_t pos = 0;
    for (int k = 0; k < nb && rc == GROK_OK; k++) {
        src_commands(&out, script, pos, bl[k].start, fig, bl, nb, NULL);
        char file[200];
        src_data_name(file, sizeof file, fig, &bl[k], nb);
        sbuf_printf(&out, "# data: $%s is in %s\n", bl[k].name, file);
        sbuf_clear(&data);
        src_rows(&data, script, bl[k].body, bl[k].body_end);
        snprintf(path, sizeof path, "%s/%s", src_dir, file);
        if (data.oom)
            rc = grok_fail(e, GROK_ENOMEM, "figure %s: out of memory", fig);
        else
            rc = fileio_write_atomic(path, data.data ? data.data : "", data.len, e);
        pos = bl[k].end;
    }
    src_commands(&out, script, pos, n, fig, bl, nb, NULL);
    if (rc == GROK_OK && out.oom)
        rc = grok_fail(e, GROK_ENOMEM, "figure %s: out of memory", fig);
    if (rc == GROK_OK) {
        snprintf(path, sizeof path, "%s/%s", src_dir, gp_name);
        rc = fileio_write_atomic(path, out.data, out.len, e);
    }
    sbuf_free(&out);
    sbuf_free(&data);
    free(bl);
    return rc;
}

int plot_rename_blocks(sbuf *out, const char *script, size_t n, const char *prefix,
                       int with_data)
{
    src_block *bl = malloc(SRC_MAX_BLOCKS * sizeof *bl);
    if (!bl)
        return GROK_ENOMEM;
    int nb = src_find_blocks(script, n, bl);
    if (nb < 0) {
        free(bl);
        return GROK_EINVAL;
    }
    size_t pos = 0;
    for (int k = 0; k < nb; k++) {
        src_commands(out, script, pos, bl[k].start, "", bl, nb, prefix);
        if (with_data) {
            sbuf_printf(out, "$%s%s << EOD\n", prefix, bl[k].name);
            sbuf_append(out, script + bl[k].body, bl[k].end - bl[k].body);
        } else {
            sbuf_printf(out, "# data: $%s%s, above\n", prefix, bl[k].name);
        }
        pos = bl[k].end;
    }
    src_commands(out, script, pos, n, "", bl, nb, prefix);
    free(bl);
    return out->oom ? GROK_ENOMEM : GROK_OK;
}
