/* cli.h: the two argument helpers every `grok` command shares.
 *
 * Owns only the parsing of "--name VALUE" / "--name=VALUE" options and strict
 * whole numbers; each command keeps its own flags, usage and messages. */
#ifndef GROK_CLI_H
#define GROK_CLI_H

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE".  Returns 1 and
 * sets *val (advancing *i past a separate value), 0 when it is another
 * argument, -1 when the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

/* Strict whole number in [lo, hi] (strtol with end pointer and range checks):
 * 0 and *out set, or -1 with *out untouched. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

#endif
