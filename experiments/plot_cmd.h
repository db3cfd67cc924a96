/* plot_cmd.h: `grok plot DIR [--format png,pdf,svg,tex] [--only NAME]` with
 * the style flags (plot.h, plot_style_set) over the style of the plots
 * group of DIR's config.cfg (cfg_plot_style), the panels (--panels,
 * --layout, --name, --out, --preset paper), several runs compared
 * (--compare [--out DIR], plot_compare), a sweep directory's figures (its
 * base config's style; --preset sweep, the phase diagram beside the
 * grokked-epoch curve), and the figures drawn at the end of `grok train` /
 * `grok resume`.
 *
 * The figures themselves are plots/'s; this file owns only the
 * command-line side: flags, what is printed, exit codes.  Wiring into
 * main.c's command table:
 *   {"plot", main_plot, PLOT_CMD_USAGE, PLOT_CMD_ABOUT}
 * with main_plot(argc, argv, bi) returning plot_cmd_main(argc, argv). */
#ifndef GROK_PLOT_CMD_H
#define GROK_PLOT_CMD_H

#include "fileio.h"
#include "plot.h"

#define PLOT_CMD_USAGE                                                                       \
    "grok plot DIR [--format png,pdf,svg,tex] [--only NAME,...] [style flags] "                  \
    "[--panels NAME,NAME,... [--layout RxC] [--name NAME]]; "                                \
    "grok plot RUN RUN ... --panels NAME --out DIR; "                                        \
    "grok plot RUN RUN ... | SWEEP --compare [--out DIR]; "                                  \
    "grok plot SWEEP [--only NAME,... | --preset sweep]"
#define PLOT_CMD_ABOUT                                                                       \
    "draw a run's figures into DIR/figures (default png; tex: DIR/figures/tex); "            \
    "grok plot --help lists them"

/* Runs `grok plot`; argv[0] is "plot".  --format and --only take their value
 * as the next argument or after '='.  Prints the skip notes, gnuplot's
 * warnings and a summary line on stdout, errors on stderr as "grok: plot:
 * ...".  --help (or -h) prints the usage and the figure list.
 * The style is DIR's config.cfg plots group (the first DIR's; a sweep's
 * base.cfg), then the style flags in order; a DIR without config.cfg
 * starts from the default style.
 * Returns the exit code: 0 when every figure was drawn or skipped with a
 * note; 2 for bad flags, an unknown format or figure name, a config.cfg
 * that does not load (its message names the file, key and value), or a DIR
 * that is not a directory; 1 when gnuplot is missing or a figure failed. */
int plot_cmd_main(int argc, char **argv);

/* The end of a training run: draws every figure of dir in formats (the
 * config's plots.formats; "" draws nothing) in style st (the config's
 * plots group, cfg_plot_style; NULL: the default) and appends what
 * happened to log as lines starting "plots: " or "<figure>: " (skips,
 * warnings, a failure and the summary), for the runner to print and to add
 * to log.txt.  A plotting failure (gnuplot missing, a figure failed) is
 * only reported in log: it never changes the outcome of the run.  Returns
 * the status of plot_run_dir_style for callers that want it; the runner
 * may ignore it. */
int plot_cmd_after_run(const char *dir, const char *formats, const plot_style *st, sbuf *log);

#endif
