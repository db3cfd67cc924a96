/* sweep.h: grids of runs (`grok sweep`): the sweep config, the plan of
 * points, running them (a local pool of processes, MPI ranks, or one SLURM
 * array task), the sweep table and the progress view.
 *
 * A sweep config (libconfig) names a base experiment and the axes:
 *
 *   name = "frac_add";                   # default: the file's stem
 *   base = "../nanda2023_mod_add.cfg";   # optional experiment config, relative
 *                                        # to this file; default: grok's defaults
 *   set = { task = { p = 53; }; train = { epochs = 3000; }; };
 *                                        # optional: experiment keys, laid out as
 *                                        # in an experiment config, over the base
 *   axes = (                             # one or more; the first is outermost
 *     { key = "task.frac_train"; from = 0.1; to = 0.9; step = 0.1; },
 *     { key = "optim.weight_decay"; from = 0.01; to = 10.0; n = 7; log = true; },
 *     { key = "task.op"; values = ["add", "sub"]; },
 *     { key = "seed"; values = [0, 1, 2]; name = "seed"; }
 *   );
 *   out = "runs/frac_add";               # optional; default runs/<name>
 *   plots = { formats = "png"; x = "task.frac_train"; y = "seed"; };  # optional
 *
 * An axis is a config key (any key of `grok help config`) with either a list
 * of `values` (ints, floats, strings or booleans) or a range: `from`, `to`
 * and either `step` or `n` (the number of values, endpoints included), with
 * `log = true` for log spacing (needs n and from, to > 0; with `values` it
 * only marks the axis as log-spaced for the figures).  Integer `from`
 * and `to` give integers (step defaults to 1; with n, each value is rounded
 * to the nearest integer); otherwise range values are rounded to 12
 * significant digits, so 0.1 + 2 * 0.1 is 0.3.  `name` is the axis's label
 * in point names (default: the key's last component).  Seeds are an ordinary
 * axis on the key "seed".
 *
 * A point takes one value per axis; point i counts through the axes like a
 * number whose first axis is the most significant digit.  Its name is
 * "label=value,label=value" (Hydra's override_dirname style, e.g.
 * "frac_train=0.3,seed=1"), and its config is the base with the axis values
 * set (cfg_set), then checked (cfg_check): a bad value names the sweep file,
 * the axis's line and the key.
 *
 * The sweep directory (DIR, default runs/<name>):
 *   sweep.cfg       the resolved sweep: name, base = "base.cfg", the axes as
 *                   explicit value lists, plots; `grok sweep DIR` continues it
 *   base.cfg        the base experiment, every key resolved (cfg_write)
 *   points.tsv      index name <one column per axis key>: the plan
 *   <point name>/   one ordinary run directory per point (grok info, plot,
 *                   resume all work on it)
 *   sweep.tsv       the sweep table (below); the same bytes however the sweep ran
 *   sweep_time.tsv  index name status epochs_done wall_s ms_per_epoch threads
 *                   blis_kernel: what differs from one execution to the next,
 *                   kept out of sweep.tsv so that sweep.tsv can be compared
 *                   with cmp
 *   figures/        sweep_phase, sweep_grokked, sweep_loss, ... (plots/sweep_plot.h),
 *                   in the style of the base config's plots group (`set = {
 *                   plots = { width = "page"; }; }` restyles them and the
 *                   points' figures alike); `grok plot DIR` redraws them,
 *                   `grok plot DIR --preset sweep` as one two-panel figure
 *
 * sweep.tsv: one header row, then one row per point in index order, tab
 * separated:
 *   index name <axis keys...> status epochs_done epochs_total memorised_epoch
 *   grokked_epoch memorisation_end circuit_formation_end cleanup_end
 *   final_epoch train_loss test_loss train_acc test_acc key_freqs
 * status is pending (no run yet), partial (started, not complete: running
 * now or killed), finished, stopped (train.stop_test_acc reached) or
 * diverged.  Numbers are copied from each point's summary.json as written
 * there; an epoch never reached, or a value a point does not have yet, is
 * "none"; key_freqs is a comma list ("14,35,41") or "none".  The table is
 * rebuilt from the run directories alone (sweep_summary), at any time.
 *
 * Running.  A point is done when its summary.json has a final status
 * (finished, stopped, diverged) with its measures, and its config.cfg is the
 * point's config: done points are skipped, others are trained (run_train)
 * or continued (run_resume).  A sweep config may change only the keys a run
 * may change when resumed (train.epochs, train.stop_test_acc, ...) for points
 * already started; any other change is reported before anything runs.
 * Every point runs single-threaded (blisarch_start(1)), so a point's files
 * are the same bits whichever process ran it.
 *   local pool   `grok sweep SWEEP.cfg --jobs N`: one forked process per
 *                point, at most N at a time (default: one per online CPU);
 *                the parent prints a line per finished point and a progress
 *                line (done, running, left, time left).  Each child dies
 *                with the parent (PR_SET_PDEATHSIG), so a killed sweep
 *                leaves no orphan training on.
 *   MPI          `mpirun -np K grok sweep SWEEP.cfg`: rank r runs the points
 *                with i % K == r in order; rank 0 then writes the table and
 *                the figures.  Built with Open MPI when mpicc is present
 *                (GROK_HAVE_MPI, sweep_mpi.c); without it, the rank and size
 *                come from Open MPI's or PMI's environment variables and each
 *                rank rewrites the table when it ends (under a lock on DIR),
 *                so the last one leaves the complete table.
 *   SLURM array  `grok sweep SWEEP.cfg --array-task $SLURM_ARRAY_TASK_ID`
 *                runs point I only, then rewrites the table under the lock
 *                (and the figures when every point is done).  `grok sweep
 *                SWEEP.cfg --plan` prints the points and their count.
 *
 * Library layers below return statuses; this module prints (it is part of
 * experiments/) but never exits: sweep_main returns the exit code. */
#ifndef GROK_SWEEP_H
#define GROK_SWEEP_H

#include <stdint.h>

#include "blisarch.h"
#include "cfg.h"
#include "fileio.h"
#include "grok.h"
#include "sweep_plot.h"

#define SWEEP_AXES_MAX 8
#define SWEEP_VALUES_MAX 10000
#define SWEEP_POINTS_MAX 100000
#define SWEEP_KEY_MAX 64
#define SWEEP_PATH_MAX 4096

#define SWEEP_USAGE                                                                           \
    "grok sweep SWEEP.cfg|DIR [--out DIR] [--jobs N] [--set key=value ...] [--array-task I]\n"  \
    "      [--plan] [--quiet]\n"  \
    "      grok sweep --summary DIR [--format png,pdf,svg,tex]\n"                              \
    "      grok sweep --status DIR"
#define SWEEP_ABOUT                                                                           \
    "run a grid of runs (local pool of N single-threaded workers, mpirun -np K, or one "     \
    "SLURM array task); --summary rebuilds DIR/sweep.tsv and the figures, --status shows "   \
    "progress"

typedef enum { SWEEP_INT, SWEEP_FLOAT, SWEEP_STRING, SWEEP_BOOL } sweep_vtype;

typedef struct {
    char key[SWEEP_KEY_MAX];   /* config key, e.g. "task.frac_train" */
    char label[SWEEP_KEY_MAX]; /* in point names, e.g. "frac_train" */
    sweep_vtype type;
    int log;                   /* a log-spaced range (a hint for the figures) */
    int line;                  /* line of the axis in the sweep file; 0 if unknown */
    int n;                     /* number of values */
    char **value;              /* [n] each value as text: 0.3, 7, add, true */
} sweep_axis;

typedef struct {
    char path[SWEEP_PATH_MAX];   /* the sweep file as given */
    char name[128];
    char out[SWEEP_PATH_MAX];    /* the `out` key; "" = runs/<name> */
    char formats[64];            /* figure formats; default "png" */
    char plot_x[SWEEP_KEY_MAX];  /* figure axes (axis keys); "" = automatic */
    char plot_y[SWEEP_KEY_MAX];
    cfg_run base;                /* base experiment with `set` applied */
    int n_axes;
    sweep_axis axes[SWEEP_AXES_MAX];
    long n_points;               /* product of the axes' sizes */
} sweep_spec;

/* Reads and checks the sweep file at path into s: every key, every axis
 * value (set into the base, range-checked) and every point's config
 * (cfg_check).  Unknown keys, wrong types, empty or duplicated axes and
 * values, bad ranges and bad points give GROK_EINVAL with a message
 * "FILE:LINE: what: what is wrong; valid: ..."; an unreadable file
 * GROK_EIO.  s is zeroed first; free with sweep_spec_free (also after a
 * failure). */
int sweep_load(sweep_spec *s, const char *path, grok_err *e);
void sweep_spec_free(sweep_spec *s);

/* Applies n "key=value" assignments (grok sweep --set) to s's base and
 * checks every point again.  A key that is an axis of the sweep, an unknown
 * key or a bad value gives GROK_EINVAL naming it. */
int sweep_apply_sets(sweep_spec *s, char *const *sets, int n, grok_err *e);

/* Point i in [0, n_points): its value index along axis k (first axis most
 * significant), its name into buf, its config (base, axis values set,
 * checked, derived fields filled). */
int sweep_point_index(const sweep_spec *s, long i, int k);
int sweep_point_name(const sweep_spec *s, long i, char *buf, size_t n);
int sweep_point_config(const sweep_spec *s, long i, cfg_run *c, grok_err *e);

/* Appends the resolved sweep config (sweep.cfg of the sweep directory) and
 * the plan (points.tsv) to out. */
int sweep_format(const sweep_spec *s, sbuf *out);
int sweep_format_points(const sweep_spec *s, sbuf *out);

/* Creates dir and writes its sweep.cfg, base.cfg and points.tsv (each only
 * when its content changed).  GROK_EINVAL when dir holds another sweep (its
 * points.tsv differs: the message names the first differing line) or a point
 * already started there was trained with a config that differs in a key a
 * resumed run may not change. */
int sweep_prepare_dir(const sweep_spec *s, const char *dir, grok_err *e);

/* What the files of a point's run directory say. */
typedef enum {
    SWEEP_PT_PENDING, /* no run yet */
    SWEEP_PT_PARTIAL, /* started, not complete */
    SWEEP_PT_DONE     /* finished, stopped or diverged, measures written */
} sweep_pt_state;

sweep_pt_state sweep_point_state(const char *point_dir);

/* Runs point i into dir/<name>: skipped when done with the same config,
 * else trained or resumed (quiet: no progress lines), single-threaded as
 * the caller set BLIS up.  *skipped (may be NULL) is set to 1 when nothing
 * had to run.  A point whose loss diverged is a result (status diverged in
 * its summary.json), not an error: GROK_OK. */
int sweep_run_point(const sweep_spec *s, const char *dir, long i, const blisarch_info *bi,
                    int quiet, int *skipped, grok_err *e);

/* What a sweep's figures are drawn with: the axes of its plots group, the
 * x axis's log hint and the style of its base config's plots group
 * (cfg_plot_style); opts points into the struct (x, y, st). */
typedef struct {
    char x[SWEEP_KEY_MAX], y[SWEEP_KEY_MAX];
    plot_style st;
    sweep_plot_opts opts;
} sweep_figure_setup;

/* Fills out for the sweep in dir (its sweep.cfg and base.cfg), for `grok
 * plot SWEEP`: GROK_EINVAL (or GROK_EIO) when they cannot be read, with the
 * message of sweep_load. */
int sweep_figure_opts(const char *dir, sweep_figure_setup *out, grok_err *e);

/* Rebuilds dir/sweep.tsv and dir/sweep_time.tsv from dir/sweep.cfg's plan
 * and the points' run directories; counts (may be NULL) receive the
 * points done and the total.  Nothing else is read or written. */
int sweep_summary(const char *dir, long *n_done, long *n_total, grok_err *e);

/* The progress view: points done, running (a grok process holds the
 * point's lock now), started, left, compute time so far and an estimate of
 * the time left; appended to out. */
int sweep_status(const char *dir, sbuf *out, grok_err *e);

/* `grok sweep ...`; argv[0] is "sweep".  Returns the exit code: 0 success;
 * 2 bad flags, a bad sweep file, a sweep directory holding another sweep;
 * 1 environment or I/O errors, or any point that failed. */
int sweep_main(int argc, char **argv, blisarch_info *bi);

/* ---- the MPI layer (sweep_mpi.c) ---------------------------------------- */

/* This process's place among the ranks of an mpirun job.  With GROK_HAVE_MPI,
 * MPI is initialised when the environment shows an MPI launcher
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); without it, rank and size
 * are read from OMPI_COMM_WORLD_RANK/SIZE or PMI_RANK/SIZE.  size = 1 and
 * rank = 0 outside mpirun.  mpi = 1 when MPI itself was initialised. */
typedef struct {
    int rank, size, mpi;
} sweep_mpi_world;

void sweep_mpi_init(int *argc, char ***argv, sweep_mpi_world *w);
/* Waits for every rank and returns the sum of local over ranks (local
 * itself when MPI is not initialised). */
long sweep_mpi_sum(const sweep_mpi_world *w, long local);
void sweep_mpi_finalize(const sweep_mpi_world *w);
/* "Open MPI 4.1.4" or "not built with MPI". */
const char *sweep_mpi_library(char *buf, size_t n);

#endif
