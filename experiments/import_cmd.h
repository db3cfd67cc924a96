/* import_cmd.h: `grok import`, the command-line side of run_import (run.h):
 * flags, the epoch list, exit codes.  The import itself is run_import.c's.
 * Wiring into main.c's command table:
 *   {"import", main_import, IMPORT_CMD_USAGE, IMPORT_CMD_ABOUT}
 * with main_import calling import_cmd_main(argc, argv, bi). */
#ifndef GROK_IMPORT_CMD_H
#define GROK_IMPORT_CMD_H

#include "blisarch.h"

#define IMPORT_CMD_USAGE                                                                        \
    "grok import CHECKPOINT... --out DIR [--tl-config JSON] [--config CFG] [--set key=value ...] " \
    "[--epochs LIST] [--split FILE] [--curves TSV] [--ignore-extra] [--allow-missing] "          \
    "[--threads N] [--quiet]"
#define IMPORT_CMD_ABOUT                                                                       \
    "make a run directory from weights trained elsewhere (safetensors or .npz with "          \
    "TransformerLens names); grok import --help says more"

/* Runs `grok import`; argv[0] is "import".  Returns the exit code: 0, 2 for
 * bad flags and bad input (nothing written), 1 for I/O errors. */
int import_cmd_main(int argc, char **argv, blisarch_info *bi);

#endif
