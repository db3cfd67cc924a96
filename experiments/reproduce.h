/* reproduce.h: `grok reproduce NAME`: one published claim, run and compared.
 *
 * A claim is a sweep file (sweep.h) in experiments/papers/ with one more
 * group, `claim`, that says what the paper found and what to measure:
 *
 *   claim = {
 *     paper  = "Nanda et al. 2023";                # who
 *     says   = "weight decay decides the delay";   # the claim, one sentence
 *     theirs = ["never", "~10,000", ...];          # their number: one text, or
 *                                                  # one per value of `by`
 *     by     = "optim.weight_decay";               # optional: an axis (or a list
 *                                                  # of up to 3) of the sweep; a
 *                                                  # row per value (combination),
 *                                                  # the other axes (seeds) pooled
 *     report = ["first test_acc >= 0.99", ...];    # our numbers, one column each
 *     after  = ["varma2023_grok"];                 # optional: claims run first
 *                                                  # (their runs feed init.from)
 *     note   = "p = 53 instead of 113 ...";        # optional: where we differ
 *   };
 *
 * A report entry is one of
 *   first COL >= X [steps]   the first evaluation whose metrics.tsv column COL
 *   first COL <= X [steps]   passes X: its epoch (or optimizer step); "never"
 *   last COL                 COL's value in the last row of metrics.tsv, else
 *                            of measures.tsv (a text cell such as key_irreps
 *                            "41,32" is pooled as each distinct text with
 *                            its count)
 *   max COL | min COL        over the rows of metrics.tsv, else measures.tsv
 *   delay [ACC] [steps]      epochs (or steps) from the first evaluation with
 *                            train accuracy >= ACC (0.99) to the first with
 *                            test accuracy >= ACC
 *   phase [ACC [GAP]]        Liu et al. 2022's phase from the first steps with
 *                            train and test accuracy >= ACC (0.9): comprehension
 *                            (both, test within GAP steps, 1000), grokking
 *                            (both, later), memorisation (train only),
 *                            confusion (neither)
 * Numbers of a row are pooled over its points as "median [min, max]" with
 * "k/n" when only k of the n points reached a `first` threshold; phases as
 * the most frequent one with its count.
 *
 * The run: the claims of `after` (each its own sweep directory), then the
 * sweep itself (local pool, resumable: a killed reproduction goes on where
 * it stopped), then the comparison, printed and written atomically to the
 * sweep directory as reproduce.tsv (one row per value of `by`: paper, claim,
 * theirs, ours per report entry, points) with the sweep's figures beside.
 * --smoke shrinks every point to a few epochs of a tiny model (for tests:
 * the whole path runs, the numbers mean nothing).
 *
 * Prints (it is part of experiments/); returns the exit code. */
#ifndef GROK_REPRODUCE_H
#define GROK_REPRODUCE_H

#include "blisarch.h"

#define REPRODUCE_USAGE                                                                       \
    "grok reproduce NAME|FILE [--out DIR] [--jobs N] [--set key=value ...] [--smoke]\n"      \
    "      [--report] [--quiet]\n"                                                            \
    "      grok reproduce --list"
#define REPRODUCE_ABOUT                                                                       \
    "run one published claim (experiments/papers/NAME.cfg) and print the paper's number "    \
    "beside ours; --report only compares what has run, --list names the claims"

/* `grok reproduce ...`; argv[0] is "reproduce".  0 success; 2 bad flags or a
 * bad claim file; 1 a failed point or I/O error. */
int reproduce_main(int argc, char **argv, blisarch_info *bi);

#endif
