/* export_cmd.h: `grok export DIR --to ipynb|npz|safetensors [--epochs LIST]
 * [--out PATH]`.
 *
 * The exports themselves are notebooks_export/'s (export.h); this file owns
 * only the command-line side: flags, the epoch list, what is printed, exit
 * codes.  Wiring into main.c's command table:
 *   {"export", main_export, EXPORT_CMD_USAGE, EXPORT_CMD_ABOUT}
 * with main_export(argc, argv, bi) returning export_cmd_main(argc, argv). */
#ifndef GROK_EXPORT_CMD_H
#define GROK_EXPORT_CMD_H

#include <stddef.h>

#define EXPORT_CMD_USAGE \
    "grok export DIR --to ipynb|npz|safetensors [--epochs LIST] [--out PATH]"
#define EXPORT_CMD_ABOUT                                                                     \
    "hand a run to Python: a Jupyter notebook of the run (or of a sweep), every checkpoint " \
    "as one .npz, or checkpoints as safetensors; grok export --help says more"

/* The largest number of epochs --epochs accepts. */
#define EXPORT_CMD_MAX_EPOCHS 100000

/* Runs `grok export`; argv[0] is "export".  --to, --epochs and --out take
 * their value as the next argument or after '='.  --epochs LIST is a comma
 * list of checkpoint epochs and the word "last" (npz and safetensors only).
 * Prints one line naming what was written on stdout, errors on stderr as
 * "grok: export: ...".  --help (or -h) prints the usage and the outputs.
 * Returns the exit code: 0 on success; 2 for bad flags, a directory that is
 * not a run, an epoch without a checkpoint; 1 for damaged files (a truncated
 * checkpoint) and I/O errors.  Bad input writes nothing. */
int export_cmd_main(int argc, char **argv);

/* Parses --epochs' LIST ("0,1000,last") into epochs[0..*n) (at most max;
 * "last" is EXPORT_LAST).  Returns 0, or -1 with why[0..why_n) saying what is
 * wrong. */
int export_cmd_parse_epochs(const char *list, long *epochs, int max, int *n, char *why,
                            size_t why_n);

#endif
