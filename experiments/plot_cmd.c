/* plot_cmd.c: `grok plot` and the end-of-run figures declared in
 * plot_cmd.h.  Flag parsing, the style a directory's config gives
 * (cfg_plot_style; a sweep's through sweep_figure_opts) and printing only
 * (with the progress line of progress.h); the figures are plots/'s, the
 * gnuplot process plots/gp.c's. */
#include "plot_cmd.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cli.h"
#include "grok.h"
#include "plot.h"
#include "progress.h"
#include "rundir.h"
#include "sweep.h"
#include "sweep_plot.h"

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
    fprintf(f, "usage: %s\n  %s\n\nfigures (--only NAME, or a comma list):\n", PLOT_CMD_USAGE, PLOT_CMD_ABOUT);
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
            "\nstyle (every figure; the default draws each at its own size; the plots group\n"
            "of the run's config.cfg, or of a sweep's base.cfg, first, then these flags):\n"
            "  --width W, --height H   3.4in, 8.6cm, 86mm, 245pt; width also column (3.4 in)\n"
            "                          or page (7.0 in)\n"
            "  --font NAME             font family (default DejaVu Sans)\n"
            "  --font-size PT          text size in the printed figure (default 8)\n"
            "  --line-width F          line width factor (default 1)\n"
            "  --colours default|grey  Okabe-Ito, or greys told apart by dash type\n"
            "  --epoch-axis linear|log log(1 + epoch), epoch 0 drawn\n"
            "  --from E, --to E        epoch range of the curves\n"
            "  --phases on|off, --marks on|off   the shaded phases, the memorised and\n"
            "                          grokked epochs\n"
            "\npanels (one figure of several, letters (a), (b), ...):\n"
            "  --panels loss,progress,fourier_embed [--layout 1x3] [--name NAME]\n"
            "      DIR/figures/panels.png (or NAME.png)\n"
            "  --preset paper          loss, accuracy, progress, gini, weights and\n"
            "      fourier_embed in 3x2: DIR/figures/paper.png\n"
            "  grok plot RUN RUN ... --panels FIGURE --out DIR\n"
            "      one run per panel: DIR/figures/compare.png\n"
            "  one legend above all panels when their legends list the same curves\n"
            "\nsweeps (a directory of grok sweep):\n"
            "  grok plot SWEEP [--only NAME,..] its figures (sweep_phase, sweep_grokked,\n"
            "      sweep_loss, sweep_algorithm, sweep_liu_phases) into SWEEP/figures\n"
            "  --preset sweep          the phase diagram beside the grokked-epoch curve:\n"
            "      SWEEP/figures/sweep.png; --panels takes sweep figures too\n"
            "\ncomparing runs (one figure per quantity, a curve per run):\n"
            "  grok plot RUN RUN ... --compare --out DIR\n"
            "  grok plot SWEEP --compare [--out DIR]   its point runs; default SWEEP/compare\n"
            "      DIR/figures/compare_loss.png, compare_accuracy, compare_progress\n"
            "      (restricted and excluded loss), compare_gini, compare_weights; each run\n"
            "      labelled by the config.cfg keys that differ, its grokked epoch dash-dot;\n"
            "      --only compare_loss draws one; the style flags apply\n"
            "\nEvery figure also leaves figures/src/NAME.gp and its data: edit it and run\n"
            "`gnuplot NAME.gp` in figures/src to redraw it without grok.\n");
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

/* The style flags of grok plot: --KEY VALUE sets plot_style key KEY. */
static const char *const plot_cmd_style_keys[] = {"width",      "height",  "font",
                                                  "font-size",  "line-width", "colours",
                                                  "colors",     "epoch-axis", "from",
                                                  "to",         "phases",  "marks"};
enum { PLOT_CMD_MAX_STYLE = 32 };

/* The style before the flags: the plots group of the first directory's
 * config (a sweep: its base config, with its figure axes into sw), or the
 * default when it has none.  Exit code 2 with the config's message when it
 * does not load. */
static int plot_cmd_base_style(const char *dir, int sweep, sweep_figure_setup *sw,
                               plot_style *st)
{
    grok_err e = {{0}};
    plot_style_default(st);
    if (sweep) {
        if (sweep_figure_opts(dir, sw, &e) != GROK_OK) {
            fprintf(stderr, "grok: plot: %s\n", e.msg);
            return 2;
        }
        *st = sw->st;
        return 0;
    }
    if (!rundir_has(dir, RUNDIR_CONFIG))
        return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_CONFIG);
    cfg_run c;
    if (cfg_load(&c, path, NULL, 0, &e) != GROK_OK) {
        fprintf(stderr, "grok: plot: %s\n", e.msg);
        return 2;
    }
    cfg_plot_style(&c, st);
    return 0;
}

int plot_cmd_main(int argc, char **argv)
{
    const char *dirs[16];
    int n_dirs = 0;
    const char *formats = NULL, *only = NULL, *panels = NULL, *layout = NULL, *out = NULL,
               *name = NULL, *preset = NULL;
    int compare = 0;
    /* the style flags in order: checked here, applied over the config's style */
    const char *style_key[PLOT_CMD_MAX_STYLE], *style_val[PLOT_CMD_MAX_STYLE];
    int n_style = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int m = 0;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            plot_cmd_help(stdout);
            return 0;
        } else if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return plot_cmd_usage_error("--format needs a list, e.g. --format png,pdf", NULL);
            formats = v;
            continue;
        } else if ((m = cli_opt(argc, argv, &i, "--only", &v)) != 0) {
            if (m < 0 || !v[0])
                return plot_cmd_usage_error("--only needs a figure name (grok plot --help)", NULL);
            only = v;
            continue;
        }
        if (!strcmp(arg, "--compare")) {
            compare = 1;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--preset", &v)) != 0) {
            if (m < 0 || (strcmp(v, "paper") && strcmp(v, "sweep"))) {
                fprintf(stderr, "grok: plot: --preset%s%s: valid presets are paper, sweep\n",
                        m < 0 ? "" : " ", m < 0 ? "" : v);
                return 2;
            }
            preset = v;
            continue;
        }
        const char *const simple[4] = {"--panels", "--layout", "--out", "--name"};
        const char **dst[4] = {&panels, &layout, &out, &name};
        for (int k = 0; k < 4 && !m; k++)
            if ((m = cli_opt(argc, argv, &i, simple[k], &v)) != 0) {
                if (m < 0 || !v[0]) {
                    fprintf(stderr, "grok: plot: %s needs a value\nusage: %s\n", simple[k],
                            PLOT_CMD_USAGE);
                    return 2;
                }
                *dst[k] = v;
            }
        for (size_t k = 0; k < sizeof plot_cmd_style_keys / sizeof plot_cmd_style_keys[0] && !m;
             k++) {
            char flag[32];
            snprintf(flag, sizeof flag, "--%s", plot_cmd_style_keys[k]);
            if ((m = cli_opt(argc, argv, &i, flag, &v)) != 0) {
                grok_err e = {{0}};
                plot_style scratch;
                plot_style_default(&scratch);
                if (m < 0) {
                    fprintf(stderr, "grok: plot: %s needs a value\nusage: %s\n", flag,
                            PLOT_CMD_USAGE);
                    return 2;
                }
                if (plot_style_set(&scratch, plot_cmd_style_keys[k], v, &e) != GROK_OK) {
                    fprintf(stderr, "grok: plot: %s\n", e.msg);
                    return 2;
                }
                if (n_style == PLOT_CMD_MAX_STYLE)
                    return plot_cmd_usage_error("too many style flags", NULL);
                style_key[n_style] = plot_cmd_style_keys[k];
                style_val[n_style++] = v;
            }
        }
        if (m)
            continue;
        if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "grok: plot: unknown option '%s'; valid: --format, --only, --compare, --panels, "
                            "--layout, --out, --name, --preset, --width, --height, --font, --font-size, "
                            "--line-width, --colours, --epoch-axis, --from, --to, --phases, "
                            "--marks, --help\n",
                    arg);
            fprintf(stderr, "usage: %s\n", PLOT_CMD_USAGE);
            return 2;
        } else if (n_dirs == (int)(sizeof dirs / sizeof dirs[0])) {
            return plot_cmd_usage_error("too many run directories", NULL);
        } else {
            dirs[n_dirs++] = arg;
        }
    }
    if (n_dirs == 0)
        return plot_cmd_usage_error("which run directory?", NULL);
    int sweep = rundir_has(dirs[0], RUNDIR_SWEEP_CFG);
    if (preset && (panels || layout || name))
        return plot_cmd_usage_error("--preset chooses the panels, the layout and the name; it "
                                    "does not go with --panels, --layout or --name", NULL);
    if (preset && !strcmp(preset, "paper")) {
        if (sweep)
            return plot_cmd_usage_error("--preset paper draws a run's figures; for a sweep, "
                                        "--preset sweep", NULL);
        /* the main results of Nanda et al. (2023) as one figure */
        panels = "loss,accuracy,progress,gini,weights,fourier_embed";
        layout = "3x2";
        name = "paper";
    } else if (preset) {
        if (!sweep || n_dirs > 1)
            return plot_cmd_usage_error("--preset sweep needs one sweep directory (with "
                                        "sweep.cfg, made by grok sweep)", NULL);
        /* the phase diagram beside the grokked-epoch curve */
        panels = "sweep_phase,sweep_grokked";
        layout = "1x2";
        name = "sweep";
    }
    if (compare && (panels || layout || name))
        return plot_cmd_usage_error("--compare does not go with --panels, --preset, --layout or "
                                    "--name", NULL);
    if (n_dirs > 1 && !panels && !compare) {
        fprintf(stderr, "grok: plot: unexpected argument '%s' (already have '%s'); several runs "
                        "need --compare, or --panels FIGURE\nusage: %s\n",
                dirs[1], dirs[0], PLOT_CMD_USAGE);
        return 2;
    }
    if (n_dirs > 1 && !out && !compare)
        return plot_cmd_usage_error("several runs need --out DIR (the figure goes to "
                                    "DIR/figures)", NULL);
    if (panels && only)
        return plot_cmd_usage_error("--panels and --only do not go together", NULL);
    if (!panels && (layout || name || (out && !compare)))
        return plot_cmd_usage_error("--layout, --out and --name go with --panels (--out also "
                                    "with --compare)", NULL);
    if (sweep && !compare && out)
        return plot_cmd_usage_error("a sweep's figures go to SWEEP/figures; --out goes with "
                                    "--compare or several runs", NULL);
    if (formats && !formats[0])
        return plot_cmd_usage_error("--format is empty; valid formats are png, pdf, svg, tex",
                                    NULL);

    /* the style: the config's plots group, then the flags in order */
    plot_style st;
    sweep_figure_setup sw;
    int brc = plot_cmd_base_style(dirs[0], sweep && !compare, &sw, &st);
    if (brc)
        return brc;
    for (int k = 0; k < n_style; k++) {
        grok_err e = {{0}};
        int src = plot_style_set(&st, style_key[k], style_val[k], &e);
        GROK_ASSERT(src == GROK_OK); /* checked while reading the flags */
    }
    if (sweep && !compare) {
        sw.opts.st = &st;
        sw.opts.only = only;
    }

    sbuf notes;
    sbuf_init(&notes);
    grok_err e = {{0}};
    progress_task task;
    progress_task_start(&task, stderr, "plot", "figures", 0);
    const grok_progress hook = progress_task_hook(&task);
    plot_set_progress(&hook);
    int rc;
    if (compare)
        rc = plot_compare(dirs, n_dirs, out, formats, only, &st, &notes, &e);
    else if (sweep && panels)
        rc = sweep_plot_panels(dirs[0], panels, layout, name, formats, &sw.opts, &notes, &e);
    else if (sweep)
        rc = sweep_plot_dir(dirs[0], formats, &sw.opts, &notes, &e);
    else if (panels)
        rc = plot_panels(dirs, n_dirs, panels, layout, out, name, formats, &st, &notes, &e);
    else
        rc = plot_run_dir_style(dirs[0], formats, only, &st, &notes, &e);
    plot_set_progress(NULL);
    progress_task_end(&task);
    fputs(notes.data ? notes.data : "", stdout);
    fflush(stdout);
    sbuf_free(&notes);
    if (rc == GROK_OK)
        return 0;
    fprintf(stderr, "grok: plot: %s\n", e.msg);
    return rc == GROK_EINVAL ? 2 : 1;
}

int plot_cmd_after_run(const char *dir, const char *formats, const plot_style *st, sbuf *log)
{
    GROK_ASSERT(dir && log);
    grok_err e = {{0}};
    int rc = plot_run_dir_style(dir, formats ? formats : "png", NULL, st, log, &e);
    if (rc != GROK_OK) {
        if (log->len > 0 && log->data[log->len - 1] != '\n')
            sbuf_puts(log, "\n");
        sbuf_printf(log, "plots: %s (the run itself is unaffected; redraw with grok plot %s)\n",
                    e.msg, dir);
    }
    return rc;
}
