/* rdir.h: what the exports read from a run directory.
 *
 * A run directory (docs/formats.md, "The run directory";
 * model/rundir.h) is recognised by config.cfg, metrics.tsv and at least
 * one checkpoints/epoch-NNNNNN.safetensors.  This file gathers, through
 * model/rundir.h's readers, those and the optional measures.tsv,
 * fourier_embed.tsv, summary.json, split.tsv, figures/ *.png and
 * figures/index.tsv (the captions grok plot wrote) (and a sweep
 * directory's layout, rdir_sweep) into one struct for the exports.  It never
 * loads the model code, so a copied run directory exports on any machine.
 * Checkpoint contents are export.c's business (through model/safetensors.h);
 * this file only lists them.
 *
 * Nothing here prints; every function returns a grok_status and fills e. */
#ifndef GROK_RDIR_H
#define GROK_RDIR_H

#include "grok.h"
#include "rundir.h"

typedef struct {
    char *dir;           /* as given */
    char *name;          /* last component of the directory's real path */
    char *real;          /* the directory's real path */
    int n_ckpt;
    long *ckpt_epoch;    /* [n_ckpt] ascending */
    char **ckpt_path;    /* [n_ckpt] "<dir>/checkpoints/epoch-NNNNNN.safetensors" */
    rundir_tsv metrics;  /* metrics.tsv: epoch, train_loss, test_loss, train_acc, test_acc ... */
    int has_measures;
    rundir_tsv measures; /* measures.tsv, when has_measures */
    int has_fourier_embed;
    rundir_tsv fourier_embed; /* fourier_embed.tsv, when has_fourier_embed */
    int has_summary;
    rundir_summary summary; /* summary.json, when has_summary */
    rundir_config config;   /* config.cfg */
    int has_split;       /* split.tsv exists */
    int n_figures;
    char **figures;      /* [n_figures] file names in figures/ ending .png, sorted */
    int has_figure_index;
    rundir_tsv figure_index; /* figures/index.tsv (name file caption), when has_figure_index */
} rdir;

/* Reads the run directory dir.  GROK_EINVAL when dir is missing, not a
 * directory, or not a run (the message says which file is missing and what a
 * run directory holds); GROK_EFORMAT when metrics.tsv, measures.tsv,
 * summary.json, config.cfg or figures/index.tsv is malformed (file and line
 * named); GROK_EIO;
 * GROK_ENOMEM.  On error r needs no rdir_free. */
int rdir_open(rdir *r, const char *dir, grok_err *e);
void rdir_free(rdir *r);

/* The index of the checkpoint of epoch, or -1. */
int rdir_ckpt_index(const rdir *r, long epoch);

/* A sweep directory: SWEEPDIR/sweep.tsv (one row per grid point) and one run
 * directory per point, SWEEPDIR/<point>/, plus SWEEPDIR/figures/ *.png (the
 * phase figures).  Only the file layout is read here; the notebook reads the
 * runs' files itself. */
typedef struct {
    char *dir, *real, *name; /* as given, real path, its last component */
    rundir_tsv table;      /* sweep.tsv */
    int n_runs;
    char **runs;             /* [n_runs] subdirectories holding metrics.tsv, sorted */
    int n_figures;
    char **figures;          /* [n_figures] file names in figures/ ending .png, sorted */
    int has_figure_index;
    rundir_tsv figure_index; /* figures/index.tsv, when has_figure_index */
} rdir_sweep;

/* GROK_EINVAL when dir has no sweep.tsv; GROK_EFORMAT when it is malformed;
 * GROK_EIO, GROK_ENOMEM.  On error s needs no rdir_sweep_free. */
int rdir_sweep_open(rdir_sweep *s, const char *dir, grok_err *e);
void rdir_sweep_free(rdir_sweep *s);

#endif
