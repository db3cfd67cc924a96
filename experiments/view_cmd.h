/* view_cmd.h: `grok view DIR`: the run as one self-contained HTML page.
 *
 * The page itself is notebooks_export/'s (view.h); this file owns the
 * command: its flags, drawing the per-checkpoint views (measures of each
 * chosen checkpoint, measure.h's measure_checkpoint_files, drawn by
 * plots/'s recipes in a scratch directory DIR/.view-XXXXXX that is removed
 * afterwards), drawing the run's figures first when figures/index.tsv is
 * missing, and what is printed.  Wiring into main.c's command table:
 *   {"view", main_view, VIEW_CMD_USAGE, VIEW_CMD_ABOUT}
 * with main_view(argc, argv, bi) returning view_cmd_main(argc, argv, bi). */
#ifndef GROK_VIEW_CMD_H
#define GROK_VIEW_CMD_H

#include "blisarch.h"

#define VIEW_CMD_USAGE                                                                      \
    "grok view DIR [--epochs LIST | --max N] [--views LIST] [--format svg|png] [--out FILE] " \
    "[--threads N] [--quiet]"
#define VIEW_CMD_ABOUT                                                                  \
    "the run in a browser: DIR/view.html, one file with the summary, zoomable curves, " \
    "a slider over checkpoints and every figure; grok view --help says more"

/* Checkpoints on the slider when --max is not given. */
#define VIEW_CMD_DEFAULT_MAX 12
/* The per-checkpoint views drawn when --views is not given. */
#define VIEW_CMD_DEFAULT_VIEWS "fourier_embed,neurons,attention,logit_spectrum"

/* Runs `grok view`; argv[0] is "view".  Prints a progress line on stderr
 * (unless --quiet): rewritten in place per checkpoint on a terminal, one
 * plain line per checkpoint otherwise; then a last line naming the page and
 * its size on stdout; errors on stderr as "grok: view: ...".  Returns the
 * exit code: 0 written; 2 for bad flags, a directory that is not a run, an
 * epoch without a checkpoint, an unknown view; 1 for damaged files and I/O
 * errors.  The page is written atomically: on failure the old page (if
 * any) stays. */
int view_cmd_main(int argc, char **argv, blisarch_info *bi);

/* The positions of up to max checkpoints out of epochs[0..n) (ascending):
 * all when n <= max, else the checkpoint nearest each of max evenly spaced
 * epochs from the first to the last (the last alone when max is 1), each
 * once.  Writes idx[0..k) (ascending) and returns k. */
int view_cmd_spread(const long *epochs, int n, int max, int *idx);

#endif
