/* measure.h: progress measures of a run directory (`grok measure DIR`), the
 * live measure pass the trainer calls, and the three phases of Nanda et al.
 * (2023).
 *
 * Files written in the run directory, each atomically (fileio_write_atomic);
 * numbers %.9g, tab-separated, one header row:
 *   measures.tsv       epoch + one column per measure (meas_format_header);
 *                      the Fourier columns are absent when they do not apply
 *   fourier_embed.tsv  epoch const freq_1 .. freq_K: the W_E norm in each
 *                      frequency (Fourier tasks only)
 *   excluded_freq.tsv  epoch freq_1 .. freq_K: the excluded loss of each
 *                      frequency alone (Fourier tasks only)
 *   coefs.tsv          epoch logit_norm alpha_1 .. alpha_K cos_1 .. cos_K: the
 *                      coefficients of cos(w_k(a+b-c)) (Fourier tasks only)
 *   neurons.tsv        neuron freq frac_explained, final checkpoint (Fourier only)
 *   attention.tsv      [layer] a b head att_a att_b att_eq, final checkpoint
 *                      (the task's operand and position names: meas.h;
 *                      transformers only)
 *   logit_spectrum.tsv a comment line, then the p x p 2-D Fourier spectrum of
 *                      the final checkpoint's logits (Fourier only)
 *   irreps.tsv         epoch embed_<irrep>... unembed_<irrep>... logit_<irrep>...:
 *                      the fraction of variance in each irrep (group tasks
 *                      with irreps: S_n, D_n, op xy)
 *   embed_circles.tsv  k token x y: W_E's token rows on each key frequency's
 *                      circle (its two principal components), final
 *                      checkpoint (Fourier and an embed.W_E only)
 *   logit_sd.tsv       s d logit: the final checkpoint's correct-class logit
 *                      at s = a+b, d = a-b (Fourier only)
 * The columns and files are those of the measure table (meas.h, meas_table)
 * whose needs the run's model family and task meet; an MLP run gets the
 * losses, weight norms and, on a Z_p grid task, the measures of W_E and of
 * the logits (key frequencies from its last hidden layer).
 * summary.json belongs to the runner: measure_summary_json formats the
 * "fourier", "key_freqs", ["algorithm",] "measures" and "phases" members for
 * it to insert.
 *
 * Prints nothing and never exits: every function returns a grok_status and
 * fills e. */
#ifndef GROK_MEASURE_H
#define GROK_MEASURE_H

#include "fileio.h"
#include "grok.h"
#include "meas.h"
#include "model.h"
#include "task.h"

/* Train accuracy that counts as memorised (the runner's RUN_SOLVED_ACC). */
#define MEASURE_SOLVED_ACC 0.99

/* The three phases of Nanda et al. (2023), as epochs; -1 where the run never
 * reached the boundary.  Memorisation runs from epoch 0 to
 * memorisation_end, circuit formation from there to circuit_formation_end,
 * cleanup from there to cleanup_end.  The rule (measure_phases) reads the
 * train/test curves of the measured rows only, so it applies to every task;
 * the restricted and excluded losses are then read at these epochs:
 *  1. memorisation_end: the first epoch with acc_train >= 0.99.
 *  2. circuit_formation_end (the start of cleanup): the first epoch after
 *     memorisation_end at which loss_test has fallen to half of its largest
 *     value since memorisation_end: the test loss has begun its collapse
 *     (the circuit forms while the test loss stays high).  The threshold
 *     looks only backwards, so the boundary does not move when the run is
 *     extended.  Reported only when the test loss later falls below a tenth
 *     of that peak, so slow drift in a run that never groks is not taken
 *     for a collapse.
 *  3. cleanup_end: with hi = ln loss_test at circuit_formation_end and lo the
 *     lowest ln loss_test from there to the end of the run, the first epoch
 *     at or after circuit_formation_end with acc_test >= 0.99 and ln
 *     loss_test <= lo + 0.1 (hi - lo): the run has grokked and the test loss
 *     has made 90% of its fall (in log space) and flattens, the memorising
 *     components being gone.  -1 when the test accuracy never reaches 0.99. */
typedef struct {
    long memorisation_end, circuit_formation_end, cleanup_end;
} measure_phase_bounds;

/* The boundaries from rows[0..n) in ascending epoch order (rule above). */
void measure_phases(const meas_row *rows, int n, measure_phase_bounds *out);

/* What a pass over a run directory found, for summary.json. */
typedef struct {
    int fourier;          /* the Fourier measures apply */
    char reason[160];     /* why not, when fourier == 0 */
    unsigned have;        /* the needs met (MEAS_NEED_*): which rows of meas_table applied */
    char need_reason[MEAS_N_NEEDS][160]; /* why need bit i is not met ("" when it is) */
    meas_freqs key;       /* key frequencies of the last checkpoint (both rules); for a
                             group task its key irreps */
    int group_id;         /* group tasks with irreps (MEAS_NEED_GROUP): the group; else -1 */
    int n_checkpoints;
    long first_epoch, last_epoch;
    measure_phase_bounds phases;
    /* clock or pizza (algo.h), from the last checkpoint's row; have_algo
     * when its measures applied (MEAS_NEED_ZP_GRID and MEAS_NEED_EMBED) */
    int have_algo;
    double dist_irrel, grad_sym, circularity, fve_clock, fve_pizza, acc_test;
} measure_result;

/* Appends the members "fourier", "key_freqs", "measures", "phases" and,
 * when r->have_algo, "algorithm" for summary.json: four or five lines, each indented by two spaces, separated by ",\n",
 * with no trailing comma or newline; for example
 *   "fourier": {"applies": true, "key_freq_rule": "neuron", "key_freq_share": 0.05,
 *               "cluster_frac": 0.85, "neurons": 512, "dead_neurons": 0,
 *               "clusters": [{"freq": 14, "size": 98}, ...],
 *               "key_freqs_neuron": [14, 35, 41, 42, 52],
 *               "key_freqs_cluster": [14, 35, 41, 42, 52]},
 *   "key_freqs": [14, 35, 41, 42, 52],
 *   "measures": {"computed": ["losses", ...], "skipped": [{"measure": "gini_WL",
 *                "columns": ["gini_WL"], "reason": "..."}, ...]},
 *   "phases": {"memorisation_end": 1400, "circuit_formation_end": 9400,
 *              "cleanup_end": 13000, "rule": "..."},
 *   "algorithm": {"verdict": "clock", "rule": "...", "dist_irrel": 0.85,
 *                 "grad_sym": 0.33, "circularity": 0.99, "fve_clock": 0.9,
 *                 "fve_pizza": 0.1, "acc_test": 1, "thresholds": {...}}
 * (each member on one line; the verdict: algo_verdict, measures/algo.h).  When the Fourier measures do not apply:
 * "fourier": {"applies": false, "reason": "..."} and "key_freqs": [].
 * key_freqs is the list of the rule named by key_freq_rule (the config's
 * measures.key_freq_rule); both rules' lists stand in "fourier".
 * "measures" walks meas_table: the rows computed, and each row skipped with
 * its columns and the reason of its first unmet need.  For a group task with
 * irreps an "algorithm" line comes before "measures":
 *   "algorithm": {"verdict": "irreps", "key_irreps": ["41", "5"... names],
 *                 "share": 0.05, "logit_fractions": {"5": 0, "41": 0.6, ...},
 *                 "rule": "..."}  Unreached boundaries
 * are null. */
void measure_summary_json(const measure_result *r, sbuf *out);

/* Fills r->have, r->need_reason, r->fourier and r->reason for model m on
 * task t (what measure_summary_json reports as applied and skipped). */
void measure_result_needs(measure_result *r, const model *m, const task_data *t);

/* Loads the checkpoint at path into params, every tensor of the parameter
 * table t[0..n_tensors) (any model family; F32, shapes checked); *epoch (may
 * be NULL) gets its "epoch" metadata, or -1 when the file has none.
 * GROK_EFORMAT names the path and the tensor at fault. */
int measure_load_checkpoint(const param_tensor *t, int n_tensors, float *params, const char *path,
                            long *epoch, grok_err *e);

/* Replaces t's split (built from the config) by the run's split.tsv in dir:
 * every example once, its operands and label those of t's example `index`,
 * train rows first.  GROK_EINVAL when split.tsv is missing, GROK_EFORMAT
 * naming the file and line of a row that does not fit the task. */
int measure_split_read(task_data *t, const char *dir, grok_err *e);
/* The same for split.tsv's text, named `what` in messages. */
int measure_split_parse(task_data *t, const char *text, const char *what, grok_err *e);

/* `grok measure DIR`: recomputes every file listed above from dir's
 * config.cfg and checkpoints/epoch-NNNNNN.safetensors.  The key frequencies
 * are those of the last checkpoint (docs/measures.md: computed once on the final
 * model) and are used for every row.  Rows are computed by `jobs` threads
 * over checkpoints (jobs <= 0: OpenMP's default), each with its own model
 * and workspace; every row is the same bits whatever jobs is.  res (may be
 * NULL) receives the key frequencies and phases for summary.json.
 * GROK_EINVAL when dir has no checkpoints or its config is bad;
 * GROK_EFORMAT for a checkpoint that does not match the config; GROK_EIO. */
int measure_run_dir_result(const char *dir, int jobs, measure_result *res, grok_err *e);
/* measure_run_dir_result reporting each checkpoint measured to prog (may be
 * NULL): done of total checkpoints, item "epoch E" (from whichever thread
 * finished it, one call at a time). */
int measure_run_dir_progress(const char *dir, int jobs, measure_result *res,
                             const grok_progress *prog, grok_err *e);
int measure_run_dir(const char *dir, int jobs, grok_err *e);

/* The final-checkpoint files (neurons.tsv, attention.tsv, logit_spectrum.tsv,
 * logit_sd.tsv, embed_circles.tsv, whichever apply) of dir's checkpoint of
 * `epoch`, written into out_dir (an existing directory), with that
 * checkpoint's own key frequencies: what `grok view` shows per checkpoint.
 * Each file is over every input pair, so the train/test split does not
 * enter.  Errors as measure_run_dir's. */
int measure_checkpoint_files(const char *dir, long epoch, const char *out_dir, grok_err *e);

/* The live pass during training: the model's own key frequencies at each
 * measured epoch (the end of training then calls measure_run_dir, which
 * recomputes every row with the final key frequencies). */
typedef struct {
    meas_workspace *ws;
    const task_data *task;
    unsigned have;
    sbuf header[MEAS_FILE_COUNT]; /* header lines of the table's files (meas_file) */
    sbuf line;                    /* scratch */
} measure_live;

/* Builds the workspace for model m (any family) and task t (which must
 * outlive lv).  acts: an activation workspace of m to borrow (any rows: the
 * inputs stream through it; a step's backward may use it between passes),
 * or NULL. */
int measure_live_init(measure_live *lv, const model *m, const task_data *t, model_acts *acts,
                      grok_err *e);
void measure_live_free(measure_live *lv);

/* Measures m as of `epoch` and writes its row into dir/measures.tsv (and
 * fourier_embed.tsv, excluded_freq.tsv, coefs.tsv when they apply): rows of an epoch >= this one are
 * dropped first, so a resumed run that measures an epoch again writes the
 * same bytes as one never interrupted; a file whose header differs is
 * started afresh.  row (may be NULL) receives the measures. */
int measure_live_step(measure_live *lv, const model *m, long epoch, const char *dir,
                      meas_row *row, grok_err *e);

/* The file-level step of measure_live_step: path gets header, its existing
 * rows whose first field (an epoch) is < epoch, then line (one row ending in
 * '\n'), atomically. */
int measure_tsv_put(const char *path, const char *header, const char *line, long epoch,
                    grok_err *e);

#endif
