/* plot_cmd.c: `grok plot` and the end-of-run figures declared in
 * plot_cmd.h.  Flag parsing and printing only; the figures are
 * plots/plot.c's, the gnuplot process plots/gp.c's. */
#include "plot_cmd.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "grok.h"
#include "plot.h"

/* Prints text word-wrapped to 78 columns, each line indented by indent. */
static void plot_cmd_wrap(FILE *f, const char *text, int indent)
{
    int col = 0;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        int n = (int)strcspn(p, " ");
        if (n == 0)
            break;
        if (col > 0 && col + 1 + n > 78) {
            fputc('\n', f);
            col = 0;
        }
        if (col == 0)
            col = fprintf(f, "%*s%.*s", indent, "", n, p);
        else
            col += fprintf(f, " %.*s", n, p);
        p += n;
    }
    fputc('\n', f);
}

static void plot_cmd_help(FILE *f)
{
    fprintf(f, "usage: %s\n  %s\n\nfigures (--only NAME):\n", PLOT_CMD_USAGE, PLOT_CMD_ABOUT);
    int n;
    const plot_figure *figs = plot_figures(&n);
    for (int i = 0; i < n; i++) {
        fprintf(f, "  %-22s needs %s", figs[i].name, figs[i].needs[0]);
        for (int k = 1; k < 3 && figs[i].needs[k]; k++)
            fprintf(f, ", %s", figs[i].needs[k]);
        fprintf(f, "%s%s\n", figs[i].uses ? "; uses " : "", figs[i].uses ? figs[i].uses : "");
        plot_cmd_wrap(f, figs[i].caption, 6);
    }
    fprintf(f,
            "\nA figure whose data the run lacks is skipped with a note.  DIR/figures/index.tsv\n"
            "lists the figures drawn with their captions.  gnuplot is run from PATH, or\n"
            "$GP_BIN when set.\n");
}

static int plot_cmd_usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "grok: plot: %s%s%s\nusage: %s\n", msg, arg ? arg : "", arg ? "'" : "",
            PLOT_CMD_USAGE);
    return 2;
}

int plot_cmd_main(int argc, char **argv)
{
    const char *dir = NULL, *formats = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int m;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            plot_cmd_help(stdout);
            return 0;
        } else if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return plot_cmd_usage_error("--format needs a list, e.g. --format png,pdf", NULL);
            formats = v;
        } else if ((m = cli_opt(argc, argv, &i, "--only", &v)) != 0) {
            if (m < 0 || !v[0])
                return plot_cmd_usage_error("--only needs a figure name (grok plot --help)", NULL);
            only = v;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "grok: plot: unknown option '%s'; valid: --format, --only, --help\n",
                    arg);
            fprintf(stderr, "usage: %s\n", PLOT_CMD_USAGE);
            return 2;
        } else if (dir) {
            fprintf(stderr, "grok: plot: unexpected argument '%s' (already have '%s')\nusage: %s\n",
                    arg, dir, PLOT_CMD_USAGE);
            return 2;
        } else {
            dir = arg;
        }
    }
    if (!dir)
        return plot_cmd_usage_error("which run directory?", NULL);
    if (formats && !formats[0])
        return plot_cmd_usage_error("--format is empty; valid formats are png, pdf, svg, tex",
                                    NULL);

    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    int rc = plot_run_dir(dir, formats, only, &notes, &e);
    fputs(notes.data ? notes.data : "", stdout);
    fflush(stdout);
    sbuf_free(&notes);
    if (rc == GROK_OK)
        return 0;
    fprintf(stderr, "grok: plot: %s\n", e.msg);
    return rc == GROK_EINVAL ? 2 : 1;
}

int plot_cmd_after_run(const char *dir, const char *formats, sbuf *log)
{
    GROK_ASSERT(dir && log);
    grok_err e = {{0}};
    int rc = plot_run_dir(dir, formats ? formats : "png", NULL, log, &e);
    if (rc != GROK_OK) {
        if (log->len > 0 && log->data[log->len - 1] != '\n')
            sbuf_puts(log, "\n");
        sbuf_printf(log, "plots: %s (the run itself is unaffected; redraw with grok plot %s)\n",
                    e.msg, dir);
    }
    return rc;
}
