/* rundir.h: the run directory, named and read in one place.
 *
 * Owns the names of every file grok writes into a run directory (and a
 * sweep directory) and the readers of their formats: the TSV tables, the
 * summary.json object (through jansson), the resolved config.cfg (through
 * libconfig, since it is libconfig text) and the checkpoint listing.  The
 * writers stay with their owners (experiments/run_files.c, experiments/measure.c,
 * experiments/cfg.c); this module only agrees with them on names and
 * formats.  It sits at the bottom of the module map, so plots/ and
 * notebooks_export/ read a copied run directory without the model code.
 *
 * TSV policy (every table of the run directory).  Lines that are empty or
 * start with '#' are skipped (the first such comment is kept); the first
 * other line is the header of tab-separated column names (with
 * RUNDIR_TSV_NO_HEADER, a headerless matrix: the first row fixes the width).
 * A row with another number of cells than the header is an error
 * (GROK_EFORMAT, "FILE:LINE: 5 cells, but the header has 6").  A cell is a
 * number when strtod reads all of it; "none" and "null" (written for a value
 * that does not exist yet, such as a grokked epoch) and strtod's "nan" are
 * NaN and still count as numbers.  Any other cell is text: its value is NaN
 * and its column is not numeric.  A reader that needs a column to be numeric
 * says so with rundir_tsv_need, whose error names the file, the line and
 * the column of the first cell that is not a number.
 *
 * Nothing here prints; every function returns a grok_status and fills e. */
#ifndef GROK_RUNDIR_H
#define GROK_RUNDIR_H

#include <jansson.h>
#include <libconfig.h>
#include <stddef.h>

#include "fileio.h"
#include "grok.h"

/* ---- the files of a run directory ---------------------------------------- */

#define RUNDIR_CONFIG "config.cfg"             /* the resolved config (libconfig) */
#define RUNDIR_SPLIT "split.tsv"               /* index a b label split */
#define RUNDIR_METRICS "metrics.tsv"           /* one row per evaluation */
#define RUNDIR_CHECKPOINTS "checkpoints"       /* epoch-NNNNNN.safetensors */
#define RUNDIR_STATE "state.safetensors"       /* the commit point of resume */
#define RUNDIR_MEASURES "measures.tsv"         /* progress measures per epoch */
#define RUNDIR_FOURIER_EMBED "fourier_embed.tsv"
#define RUNDIR_IRREPS "irreps.tsv"             /* group tasks: variance per irrep */
#define RUNDIR_EXCLUDED_FREQ "excluded_freq.tsv" /* per-frequency excluded loss per epoch */
#define RUNDIR_COEFS "coefs.tsv"             /* alpha_k of cos(w_k(a+b-c)) per epoch */
#define RUNDIR_NEURONS "neurons.tsv"
#define RUNDIR_ATTENTION "attention.tsv"
#define RUNDIR_LOGIT_SPECTRUM "logit_spectrum.tsv" /* headerless p x p matrix */
#define RUNDIR_EXCLUDED_FREQ "excluded_freq.tsv" /* epoch freq_1..freq_K: excluded loss per k */
#define RUNDIR_COEFS "coefs.tsv"             /* epoch logit_norm alpha_1..alpha_K cos_1..cos_K */
#define RUNDIR_IRREPS "irreps.tsv"           /* epoch embed_<irrep>.. unembed_<irrep>.. logit_<irrep>.. */
#define RUNDIR_EMBED_CIRCLES "embed_circles.tsv" /* k token x y (final checkpoint) */
#define RUNDIR_LOGIT_SD "logit_sd.tsv"       /* s d logit (final checkpoint) */
#define RUNDIR_SUMMARY "summary.json"
#define RUNDIR_FIGURES "figures"
#define RUNDIR_FIGURE_INDEX "figures/index.tsv" /* name file caption: the figures drawn */
#define RUNDIR_LOG "log.txt"
#define RUNDIR_MANIFEST "manifest.tsv"         /* file crc32 bytes: CRC-32 of the split files */
#define RUNDIR_MANIFEST_HEADER "file\tcrc32\tbytes"
/* ... and of a sweep directory */
#define RUNDIR_SWEEP_CFG "sweep.cfg"
#define RUNDIR_SWEEP_BASE "base.cfg"
#define RUNDIR_SWEEP_POINTS "points.tsv"
#define RUNDIR_SWEEP_TABLE "sweep.tsv"
#define RUNDIR_SWEEP_TIME "sweep_time.tsv"

/* The columns metrics.tsv always has (a reader may rely on them). */
extern const char *const rundir_metrics_cols[5]; /* epoch train_loss test_loss train_acc test_acc */

/* buf = "dir/name"; GROK_EINVAL when it does not fit in n bytes. */
int rundir_path(char *buf, size_t n, const char *dir, const char *name, grok_err *e);
/* The same, malloc'ed (NULL when out of memory). */
char *rundir_join(const char *dir, const char *name);
/* 1 when dir/name is a regular file. */
int rundir_has(const char *dir, const char *name);
/* Reads dir/name whole when it exists: 1 read (*text malloc'ed, NUL-ended),
 * 0 absent (*text NULL), or a negative status. */
int rundir_read_opt(const char *dir, const char *name, char **text, grok_err *e);

/* ---- checkpoints ----------------------------------------------------------- */

/* "checkpoints/epoch-NNNNNN.safetensors" (six digits or more) into buf. */
int rundir_ckpt_name(char *buf, size_t n, long epoch);
/* The epoch of a file name written by rundir_ckpt_name (without the folder),
 * or -1 for any other name. */
long rundir_ckpt_epoch(const char *name);
/* The epochs of dir's checkpoints, ascending (malloc'ed; *n may be 0).
 * GROK_EINVAL when dir has no checkpoints/ folder; GROK_EIO; GROK_ENOMEM. */
int rundir_ckpt_list(const char *dir, long **epochs, int *n, grok_err *e);

/* The entries of dir/sub (sub may be NULL) that keep() accepts, sorted by
 * name (malloc'ed strings in a malloc'ed array); a missing folder gives none.
 * keep gets the entry's path and its name.  Free with rundir_list_free. */
int rundir_list(const char *dir, const char *sub, int (*keep)(const char *, const char *),
                char ***out, int *n, grok_err *e);
void rundir_list_free(char **list, int n);
/* keep() for rundir_list: a regular file named *.png (the figures). */
int rundir_keep_png(const char *path, const char *name);

/* ---- TSV ------------------------------------------------------------------- */

enum { RUNDIR_TSV_NO_HEADER = 1 };

typedef struct {
    char *what;    /* the name used in messages */
    int n_cols, n_rows;
    char **cols;   /* [n_cols] header names ("" without a header) */
    double *v;     /* [n_rows * n_cols] row-major; NaN for none/null/nan and text */
    char **text;   /* [n_rows * n_cols] the cells as written */
    int *line;     /* [n_rows] 1-based line numbers in the file */
    int *numeric;  /* [n_cols] 1 when every cell of the column is a number */
    int *bad_row;  /* [n_cols] the first row whose cell is text, -1 when none */
    char *comment; /* the first '#' line without its '#' and leading spaces, or NULL */
} rundir_tsv;

/* Parses text (NUL-terminated) under the policy above; `what` names it in
 * messages.  GROK_EFORMAT for a row of the wrong width or a text without any
 * row (nor header); GROK_ENOMEM.  On error t needs no rundir_tsv_free. */
int rundir_tsv_parse(rundir_tsv *t, const char *text, const char *what, int flags, grok_err *e);
/* Reads dir/name: 1 read, 0 absent (t empty), or a negative status; messages
 * name the file by its path. */
int rundir_tsv_read(rundir_tsv *t, const char *dir, const char *name, int flags, grok_err *e);
void rundir_tsv_free(rundir_tsv *t);
/* The column called name, or -1. */
int rundir_tsv_col(const rundir_tsv *t, const char *name);
/* The value of row r, column c. */
double rundir_tsv_at(const rundir_tsv *t, int r, int c);
/* GROK_EFORMAT unless every named column exists and is numeric: "FILE: no
 * column 'x'" or "FILE:LINE: column 'x': 'abc' is not a number". */
int rundir_tsv_need(const rundir_tsv *t, const char *const *names, int n, grok_err *e);

/* ---- summary.json ------------------------------------------------------ */

/* The run's summary: one JSON object (experiments/run_files.c writes it; the
 * members are listed in README.md).  Keys below are paths: "status",
 * "final.test_loss", "phases.cleanup_end". */
typedef struct {
    json_t *root; /* NULL when not read */
} rundir_summary;

/* GROK_EFORMAT for text that is not one JSON object ("summary.json: invalid
 * JSON at line 3, column 7: ..."), duplicate keys included; GROK_ENOMEM. */
int rundir_summary_parse(rundir_summary *s, const char *text, size_t n, const char *what,
                         grok_err *e);
/* Reads dir/summary.json: 1 read, 0 absent, or a negative status. */
int rundir_summary_read(rundir_summary *s, const char *dir, grok_err *e);
void rundir_summary_free(rundir_summary *s);
/* The member at key, or NULL (also when s holds nothing). */
const json_t *rundir_summary_get(const rundir_summary *s, const char *key);
/* A number member, or NaN (absent, null, not a number). */
double rundir_summary_num(const rundir_summary *s, const char *key);
/* An epoch member (a non-negative integer), or -1 (absent, null, other). */
long rundir_summary_epoch(const rundir_summary *s, const char *key);
/* A string member, or NULL. */
const char *rundir_summary_str(const rundir_summary *s, const char *key);
/* The integers of an array member into out[0..max): their count (0 when
 * absent or not an array of integers). */
int rundir_summary_ints(const rundir_summary *s, const char *key, int *out, int max);
/* Appends the member as a table cell: a string as is, a number as its
 * shortest text that reads back to the same double (so a value written with
 * %.9g reads back as written), an array of integers or of strings as
 * "14,35,41" or "41,11111", and
 * "none" for null, absent, an empty array or anything else. */
void rundir_summary_cell(const rundir_summary *s, const char *key, sbuf *b);

/* ---- config.cfg ------------------------------------------------------------ */

/* The resolved config as libconfig reads it. */
typedef struct {
    config_t cf;
    int loaded;
} rundir_config;

/* GROK_EFORMAT names the file and line libconfig could not read, or the
 * line of an @include (refused: a resolved config has none, and libconfig
 * would open the file it names, relative to the process's directory). */
int rundir_config_parse(rundir_config *c, const char *text, const char *what, grok_err *e);
/* Reads dir/config.cfg: 1 read, 0 absent, or a negative status. */
int rundir_config_read(rundir_config *c, const char *dir, grok_err *e);
void rundir_config_free(rundir_config *c);
/* The setting at path ("task.p", "optim.betas") as text in buf: integers
 * and booleans as written, floats as the shortest text that reads back the
 * same (with ".0" when integral, as libconfig writes them), strings without
 * quotes, arrays as "[0.9, 0.98]".  Returns buf, or NULL when absent. */
const char *rundir_config_text(const rundir_config *c, const char *path, char *buf, size_t n);

/* The range of the two operands of the task config c describes (a, b in
 * 0..range-1 for a modular task, x, y for a group task): task.p (2..1000) or
 * the order of task.group; 0 when the config has no such task (parity, a
 * missing or invalid key), so a reader can size and check operand indices
 * from the config instead of from the largest index a file holds. */
int rundir_config_operands(const rundir_config *c);

/* The shortest "%.Ng" text of x that reads back as x (N <= 17). */
void rundir_fmt_double(char *buf, size_t n, double x);

#endif
