/* rdir.h: what the exports read from a run directory.
 *
 * A run directory (docs/formats.md, "The run directory";
 * experiments/run.h) is recognised by config.cfg, metrics.tsv and at least
 * one checkpoints/epoch-NNNNNN.safetensors.  This file reads those and the
 * optional measures.tsv, fourier_embed.tsv, summary.json, split.tsv and
 * figures/ *.png (and a sweep directory's layout, rdir_sweep), using
 * only their file formats: TSV with a header row, the resolved config as
 * written by grok (one "key = value;" per line inside "group = { ... };"
 * blocks), JSON.  It never loads the model code, so a copied run directory
 * exports on any machine.  Checkpoint contents are export.c's business
 * (through model/safetensors.h); this file only lists them.
 *
 * Nothing here prints; every function returns a grok_status and fills e. */
#ifndef GROK_RUNDIR_H
#define GROK_RUNDIR_H

#include "grok.h"
#include "json.h"

/* A TSV table with a header row.  Cells that do not parse as a number
 * (strtod, whole cell) are NaN in v and clear the column's numeric flag. */
typedef struct {
    int n_cols, n_rows;
    char **cols;   /* [n_cols] header names */
    double *v;     /* [n_rows * n_cols] row-major */
    int *numeric;  /* [n_cols] 1 when every cell of the column is a number */
    char **text;   /* [n_rows * n_cols] the cells as written */
} rdir_tsv;

typedef struct {
    char *key;   /* "task.p", "optim.betas", "seed" */
    char *value; /* "113", "[0.9, 0.98]", "add" (strings unquoted) */
} rdir_kv;

typedef struct {
    char *dir;           /* as given */
    char *name;          /* last component of the directory's real path */
    char *real;          /* the directory's real path */
    int n_ckpt;
    long *ckpt_epoch;    /* [n_ckpt] ascending */
    char **ckpt_path;    /* [n_ckpt] "<dir>/checkpoints/epoch-NNNNNN.safetensors" */
    rdir_tsv metrics;  /* metrics.tsv: epoch, train_loss, test_loss, train_acc, test_acc ... */
    int has_measures;
    rdir_tsv measures; /* measures.tsv, when has_measures */
    int has_fourier_embed;
    rdir_tsv fourier_embed; /* fourier_embed.tsv, when has_fourier_embed */
    int has_summary;
    json_value summary;  /* summary.json, when has_summary */
    int n_config;
    rdir_kv *config;   /* config.cfg, in file order */
    int has_split;       /* split.tsv exists */
    int n_figures;
    char **figures;      /* [n_figures] file names in figures/ ending .png, sorted */
} rdir;

/* Reads the run directory dir.  GROK_EINVAL when dir is missing, not a
 * directory, or not a run (the message says which file is missing and what a
 * run directory holds); GROK_EFORMAT when metrics.tsv, measures.tsv,
 * summary.json or config.cfg is malformed (file and line named); GROK_EIO;
 * GROK_ENOMEM.  On error r needs no rdir_free. */
int rdir_open(rdir *r, const char *dir, grok_err *e);
void rdir_free(rdir *r);

/* The config value of key ("task.p"), or NULL. */
const char *rdir_config(const rdir *r, const char *key);

/* The column called name, or -1. */
int rdir_tsv_col(const rdir_tsv *t, const char *name);
/* Parses a TSV text; `what` names it in messages ("metrics.tsv").  Lines
 * starting with '#' are comments.  GROK_EFORMAT for a row whose field count
 * differs from the header's. */
int rdir_tsv_parse(rdir_tsv *t, const char *text, const char *what, grok_err *e);
void rdir_tsv_free(rdir_tsv *t);

/* Parses the resolved config text into key/value pairs (rdir_open's
 * reader, for tests).  GROK_EFORMAT names the line it cannot read. */
int rdir_config_parse(const char *text, const char *what, rdir_kv **kv, int *n, grok_err *e);

/* The index of the checkpoint of epoch, or -1. */
int rdir_ckpt_index(const rdir *r, long epoch);

/* A sweep directory: SWEEPDIR/sweep.tsv (one row per grid point) and one run
 * directory per point, SWEEPDIR/<point>/, plus SWEEPDIR/figures/ *.png (the
 * phase figures).  Only the file layout is read here; the notebook reads the
 * runs' files itself. */
typedef struct {
    char *dir, *real, *name; /* as given, real path, its last component */
    rdir_tsv table;        /* sweep.tsv */
    int n_runs;
    char **runs;             /* [n_runs] subdirectories holding metrics.tsv, sorted */
    int n_figures;
    char **figures;          /* [n_figures] file names in figures/ ending .png, sorted */
} rdir_sweep;

/* GROK_EINVAL when dir has no sweep.tsv; GROK_EFORMAT when it is malformed;
 * GROK_EIO, GROK_ENOMEM.  On error s needs no rdir_sweep_free. */
int rdir_sweep_open(rdir_sweep *s, const char *dir, grok_err *e);
void rdir_sweep_free(rdir_sweep *s);

#endif
