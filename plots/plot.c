/* plot.c: the driver that draws a table of figures (figure.h, plot_draw)
 * for the run figures (figures.c) and the sweep figures (sweep_plot.c):
 * the formats, the output names, one gnuplot run per figure and format
 * (gp.c), the notes, the progress hook, and figures/index.tsv.
 *
 * figures/index.tsv (RUNDIR_FIGURE_INDEX): a header "name file caption"
 * and one row per figure drawn in every requested format, in table order;
 * file is the figure's file in the first format drawn (png, pdf, svg, tex),
 * relative to figures/ ("loss.png", "tex/loss.tex").  It is written after
 * the figures, atomically, so a reader sees the old index or the new one;
 * a drawing of one figure (--only) keeps the other rows of the old index. */
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "gp.h"
#include "plot.h"
#include "rundir.h"
#include "style.h"

/* The progress hook of plot_set_progress (fn NULL: none). */
static grok_progress plot_prog;

void plot_set_progress(const grok_progress *prog)
{
    plot_prog = prog ? *prog : (grok_progress){NULL, NULL};
}

int plot_outputs(const char *name, plot_format f, char out[2][96])
{
    GROK_ASSERT(strlen(name) < 80);
    snprintf(out[0], 96, "%s.%s", name, plot_ext(f));
    if (f != PLOT_TEX)
        return 1;
    snprintf(out[1], 96, "%s.pdf", name);
    return 2;
}

int plot_parse_formats(const char *formats, unsigned *mask, grok_err *e)
{
    GROK_ASSERT(mask);
    *mask = 0;
    if (!formats)
        formats = "png";
    const char *p = formats;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ',' && *q != ' ')
            q++;
        size_t k = (size_t)(q - p);
        int found = -1;
        for (int f = 0; f < PLOT_N_FORMATS; f++)
            if (strlen(plot_ext((plot_format)f)) == k && !strncmp(plot_ext((plot_format)f), p, k))
                found = f;
        if (found < 0) {
            int whole = strlen(formats) == k;
            return grok_fail(e, GROK_EINVAL,
                             "unknown figure format \"%.*s\"%s%s%s: valid formats are png, pdf, "
                             "svg, tex (comma-separated)",
                             (int)k, p, whole ? "" : " in \"", whole ? "" : formats,
                             whole ? "" : "\"");
        }
        *mask |= 1u << found;
        p = q;
    }
    return GROK_OK;
}

int plot_finish_script(int rc, const plot_figure *fig, sbuf *script, size_t mark, grok_err *e)
{
    if (rc == 1) {
        sbuf_puts(script, "unset output\n");
        if (script->oom)
            rc = GROK_ENOMEM;
    }
    if (rc != 1 && script->data && script->len > mark) { /* drop a partial script */
        script->len = mark;
        script->data[mark] = '\0';
    }
    if (rc < 0)
        return grok_fail(e, GROK_ENOMEM, "figure %s: out of memory", fig->name);
    return rc;
}

int plot_prepare(const char *formats, const plot_style **st, plot_style *def, unsigned *mask,
                 grok_err *e)
{
    int rc = plot_parse_formats(formats, mask, e);
    if (rc == GROK_OK)
        rc = plot_style_check(*st, e);
    if (rc == GROK_OK && !*st) {
        plot_style_default(def);
        *st = def;
    }
    return rc;
}

void plot_dir_base(const char *dir, char *out, size_t cap)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    snprintf(out, cap, "%.*s", (int)(len - start), dir + start);
}

int plot_find_figures(const plot_figure *figs, int n, const char *list, const char *what,
                      uint64_t *sel, grok_err *e)
{
    GROK_ASSERT(n <= 64 && list && sel);
    *sel = 0;
    for (const char *a = list;; a++) {
        const char *b = strchr(a, ',');
        size_t len = b ? (size_t)(b - a) : strlen(a);
        char name[64]; /* a longer token, cut, still names no figure */
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), a);
        int i = plot_find_figure(figs, n, name, what, e);
        if (i < 0)
            return GROK_EINVAL;
        *sel |= (uint64_t)1 << i;
        if (!b)
            return GROK_OK;
        a = b;
    }
}

int plot_find_figure(const plot_figure *figs, int n, const char *name, const char *what,
                     grok_err *e)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(figs[i].name, name))
            return i;
    sbuf s;
    sbuf_init(&s);
    for (int i = 0; i < n; i++)
        sbuf_printf(&s, "%s%s", i ? ", " : "", figs[i].name);
    grok_fail(e, GROK_EINVAL, "unknown %s \"%s\": valid %ss are %s", what, name, what,
              s.data ? s.data : "");
    sbuf_free(&s);
    return -1;
}

/* Writes dir/figures/index.tsv: the rows of figs drawn now (file[i] != ""),
 * and with a selection only (not 0) the old rows of the other figures. */
static int plot_write_index(const char *dir, const plot_figure *figs, int n, uint64_t only,
                            char (*file)[104], grok_err *e)
{
    rundir_tsv old = {0};
    int have_old = 0;
    if (only) {
        grok_err re;
        int rc = rundir_tsv_read(&old, dir, RUNDIR_FIGURE_INDEX, 0, &re);
        if (rc == GROK_ENOMEM)
            return grok_fail(e, rc, "%s", re.msg);
        have_old = rc > 0; /* an unreadable old index is replaced */
    }
    int c_name = have_old ? rundir_tsv_col(&old, "name") : -1;
    int c_file = have_old ? rundir_tsv_col(&old, "file") : -1;
    sbuf s;
    sbuf_init(&s);
    sbuf_puts(&s, "name\tfile\tcaption\n");
    for (int i = 0; i < n; i++) {
        const char *f = file[i][0] ? file[i] : NULL;
        for (int r = 0; !f && !(only >> i & 1) && c_name >= 0 && c_file >= 0 && r < old.n_rows; r++)
            if (!strcmp(old.text[(size_t)r * (size_t)old.n_cols + (size_t)c_name], figs[i].name))
                f = old.text[(size_t)r * (size_t)old.n_cols + (size_t)c_file];
        if (f)
            sbuf_printf(&s, "%s\t%s\t%s\n", figs[i].name, f, figs[i].caption);
    }
    if (have_old)
        rundir_tsv_free(&old);
    char *path = rundir_join(dir, RUNDIR_FIGURE_INDEX);
    char *figs_dir = rundir_join(dir, RUNDIR_FIGURES);
    int rc = !path || !figs_dir || s.oom ? grok_fail(e, GROK_ENOMEM, "plots: out of memory")
                                         : fileio_mkdir_p(figs_dir, e);
    if (rc == GROK_OK)
        rc = fileio_write_atomic(path, s.data, s.len, e);
    free(figs_dir);
    free(path);
    sbuf_free(&s);
    return rc;
}

int plot_draw(const char *dir, const char *what, const plot_figure *figs, int n, uint64_t only,
              unsigned mask, const plot_style *st, plot_script_fn script_fn, const void *data,
              sbuf *notes, grok_err *e)
{
    GROK_ASSERT(dir && figs && script_fn && mask != 0 && n <= 64);
    int n_sel = 0;
    for (int i = 0; i < n; i++)
        n_sel += !only || (only >> i & 1);
    char fig_dir[4096], tex_dir[4096];
    snprintf(fig_dir, sizeof fig_dir, "%s/%s", dir, RUNDIR_FIGURES);
    snprintf(tex_dir, sizeof tex_dir, "%s/%s/tex", dir, RUNDIR_FIGURES);
    char(*file)[104] = calloc((size_t)n, sizeof *file); /* what index.tsv names */
    if (!file)
        return grok_fail(e, GROK_ENOMEM, "%s: out of memory", what);
    int drawn = 0, skipped = 0, failed = 0, rc = GROK_OK, done = 0;
    grok_err first = {{0}};
    sbuf script, why;
    sbuf_init(&script);
    sbuf_init(&why);
    for (int i = 0; i < n && rc == GROK_OK; i++) {
        if (only && !(only >> i & 1))
            continue;
        int fig_failed = 0, fig_skipped = 0;
        for (int f = 0; f < PLOT_N_FORMATS && rc == GROK_OK; f++) {
            if (!(mask & (1u << f)))
                continue;
            sbuf_clear(&script);
            sbuf_clear(&why);
            int built = script_fn(data, &figs[i], (plot_format)f, st, &script, &why, e);
            if (built < 0) {
                rc = built;
                break;
            }
            if (built == 0) {
                if (notes)
                    sbuf_printf(notes, "%s: skipped: %s\n", figs[i].name,
                                why.data ? why.data : "");
                fig_skipped = 1;
                break; /* the same reason holds for every format */
            }
            const char *out_dir = f == PLOT_TEX ? tex_dir : fig_dir;
            if ((rc = fileio_mkdir_p(out_dir, e)) != GROK_OK)
                break;
            char out[2][96];
            int n_out = plot_outputs(figs[i].name, (plot_format)f, out);
            const char *outs[2] = {out[0], out[1]};
            char label[128];
            snprintf(label, sizeof label, "%s.%s", figs[i].name, plot_ext((plot_format)f));
            int missing = 0;
            grok_err me = {{0}};
            int grc = gp_draw(NULL, out_dir, label, script.data, script.len, outs, n_out, notes,
                              &missing, &me);
            if (missing || grc == GROK_ENOMEM) {
                rc = grok_fail(e, missing ? GROK_EIO : grc, "%s", me.msg);
                break;
            }
            if (grc != GROK_OK) {
                if (notes)
                    sbuf_printf(notes, "%s\n", me.msg);
                if (!failed)
                    first = me;
                failed++;
                fig_failed = 1;
            } else {
                rc = plot_save_src(fig_dir, figs[i].name, (plot_format)f, !file[i][0],
                                   script.data, script.len, e);
                if (!file[i][0])
                    snprintf(file[i], sizeof file[i], "%s%s", f == PLOT_TEX ? "tex/" : "",
                             out[0]);
            }
        }
        grok_progress_step(&plot_prog, ++done, n_sel, figs[i].name);
        if (rc == GROK_OK && !fig_failed && !fig_skipped)
            drawn++;
        else if (fig_failed)
            file[i][0] = '\0';
        skipped += fig_skipped;
    }
    sbuf_free(&script);
    sbuf_free(&why);
    if (rc == GROK_OK && (drawn > 0 || !only))
        rc = plot_write_index(dir, figs, n, only, file, e);
    free(file);
    if (rc)
        return rc;
    if (notes) {
        sbuf_printf(notes, "%s: %d figure%s drawn, %d skipped", what, drawn, drawn == 1 ? "" : "s",
                    skipped);
        if (failed)
            sbuf_printf(notes, ", %d failed", failed);
        sbuf_printf(notes, " (%s)\n", fig_dir);
    }
    if (failed)
        return grok_fail(e, GROK_EIO, "%s%s", first.msg,
                         failed > 1 ? " (and more figures failed: see the notes)" : "");
    return notes && notes->oom ? grok_fail(e, GROK_ENOMEM, "%s: out of memory", what) : GROK_OK;
}
