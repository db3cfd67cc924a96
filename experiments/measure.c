/* measure.c: `grok measure DIR`, the live measure pass, and the phase rule
 * (measure.h).
 *
 * A pass over a run directory: read config.cfg (cfg_load), build the task
 * (task_init) and take its split from split.tsv (measure_split_read: the
 * rows the run was trained on, never the seed's), list checkpoints/epoch-*.safetensors in
 * epoch order, find the key frequencies on the last checkpoint (rule R1,
 * meas_key_freqs) and write the final-checkpoint files from that forward,
 * then compute one row per checkpoint with those key frequencies.  The rows
 * are split over `jobs` OpenMP threads, each with its own model and
 * workspace; rows land in checkpoint order, and inside a thread the nested
 * OpenMP loops of the forward run serially, so the bytes do not depend on
 * jobs.  The files are written only after every row succeeded, each
 * atomically (a kill between two files leaves each file whole, old or new).
 *
 * The phase rule is documented in measure.h (measure_phase_bounds). */
#include "measure.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"
#include "cfg.h"
#include "rundir.h"
#include "safetensors.h"

#define MEASURE_PATH_MAX 4096

static int measure_path(char *buf, const char *dir, const char *name, grok_err *e)
{
    int n = snprintf(buf, MEASURE_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= MEASURE_PATH_MAX)
        return grok_fail(e, GROK_EINVAL, "path too long: %s/%s", dir, name);
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* phases */

static double safe_log(double x) { return log(x > 1e-300 ? x : 1e-300); }

void measure_phases(const meas_row *rows, int n, measure_phase_bounds *out)
{
    out->memorisation_end = out->circuit_formation_end = out->cleanup_end = -1;
    int i1 = -1;
    for (int i = 0; i < n && i1 < 0; i++)
        if (rows[i].acc_train >= MEASURE_SOLVED_ACC)
            i1 = i;
    if (i1 < 0)
        return;
    out->memorisation_end = rows[i1].epoch;

    /* 2. the test loss halves from its running peak since memorisation ... */
    int i2 = -1;
    double peak = rows[i1].loss_test;
    for (int i = i1 + 1; i < n && i2 < 0; i++) {
        if (rows[i].loss_test <= 0.5 * peak)
            i2 = i;
        else
            peak = fmax(peak, rows[i].loss_test);
    }
    if (i2 < 0)
        return;
    /* ... and later falls below a tenth of that peak */
    int collapsed = 0;
    for (int i = i2; i < n && !collapsed; i++)
        collapsed = rows[i].loss_test <= 0.1 * peak;
    if (!collapsed)
        return;
    out->circuit_formation_end = rows[i2].epoch;

    /* 3. grokked, and 90% of the log fall of the test loss made */
    const double hi = safe_log(rows[i2].loss_test);
    double lo = hi;
    for (int i = i2; i < n; i++)
        lo = fmin(lo, safe_log(rows[i].loss_test));
    for (int i = i2; i < n; i++)
        if (rows[i].acc_test >= MEASURE_SOLVED_ACC &&
            safe_log(rows[i].loss_test) <= lo + 0.1 * (hi - lo)) {
            out->cleanup_end = rows[i].epoch;
            break;
        }
}

static void json_epoch(sbuf *b, long ep)
{
    if (ep >= 0)
        sbuf_printf(b, "%ld", ep);
    else
        sbuf_puts(b, "null");
}

/* "[14, 35]" */
static void json_ints(sbuf *out, const int *v, int n)
{
    sbuf_puts(out, "[");
    for (int i = 0; i < n; i++)
        sbuf_printf(out, i ? ", %d" : "%d", v[i]);
    sbuf_puts(out, "]");
}

/* '"a", "b"' from a list of names each preceded by a tab */
static void json_names(sbuf *out, const char *tabbed)
{
    int first = 1;
    for (const char *s = tabbed; *s == '\t'; first = 0) {
        const char *end = strchr(s + 1, '\t');
        const size_t n = end ? (size_t)(end - s - 1) : strlen(s + 1);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)n, s + 1);
        if (!first)
            sbuf_puts(out, ", ");
        sbuf_json_string(out, name);
        s += 1 + n;
    }
}

/* "measures": the rows of meas_table computed, and those skipped with why */
static void measures_json(const measure_result *r, sbuf *out)
{
    sbuf_puts(out, "  \"measures\": {\"computed\": [");
    for (int i = 0, n = 0; i < meas_table_len; i++)
        if (meas_applies(&meas_table[i], r->have)) {
            sbuf_puts(out, n++ ? ", " : "");
            sbuf_json_string(out, meas_table[i].name);
        }
    sbuf_puts(out, "], \"skipped\": [");
    sbuf cols;
    sbuf_init(&cols);
    for (int i = 0, n = 0; i < meas_table_len; i++) {
        const meas_desc *d = &meas_table[i];
        const int need = meas_first_unmet(d->needs, r->have);
        if (need < 0)
            continue;
        sbuf_puts(out, n++ ? ", {\"measure\": " : "{\"measure\": ");
        sbuf_json_string(out, d->name);
        sbuf_puts(out, ", \"columns\": [");
        sbuf_clear(&cols);
        meas_desc_column_names(d, &cols);
        json_names(out, cols.data ? cols.data : "");
        sbuf_puts(out, "], \"reason\": ");
        sbuf_json_string(out, r->need_reason[need]);
        sbuf_puts(out, "}");
    }
    sbuf_free(&cols);
    sbuf_puts(out, "]},\n");
}

/* "algorithm" of a group task: the key irreps of the final model and every
 * irrep's share of its logit variance */
static void algorithm_irreps_json(const measure_result *r, sbuf *out)
{
    group_family fam;
    int deg;
    char name[IRREP_NAME_MAX];
    group_id_info(r->group_id, &fam, &deg, NULL);
    sbuf_puts(out, "  \"algorithm\": {\"verdict\": \"irreps\", \"key_irreps\": [");
    for (int i = 0; i < r->key.n_irreps; i++) {
        irrep_name(fam, deg, r->key.irreps[i], name, sizeof name);
        sbuf_puts(out, i ? ", " : "");
        sbuf_json_string(out, name);
    }
    sbuf_printf(out, "], \"share\": %.9g, \"logit_fractions\": {", MEAS_KEY_IRREP_SHARE);
    for (int i = 0; i < r->key.n_irrep_all; i++) {
        irrep_name(fam, deg, i, name, sizeof name);
        sbuf_puts(out, i ? ", " : "");
        sbuf_json_string(out, name);
        sbuf_printf(out, ": %.9g", r->key.irrep_logit[i]);
    }
    sbuf_printf(out, "}, \"rule\": ");
    char rule[256];
    snprintf(rule, sizeof rule,
             "key irreps: the non-trivial irreps holding at least %g of the final model's logit "
             "variance, the logits read as functions of x*y (docs/measures.md)",
             MEAS_KEY_IRREP_SHARE);
    sbuf_json_string(out, rule);
    sbuf_puts(out, "},\n");
}

void measure_result_needs(measure_result *r, const model *m, const task_data *t)
{
    r->have = meas_have(m, t);
    for (int i = 0; i < MEAS_N_NEEDS; i++)
        meas_need_reason(m, t, 1u << i, r->need_reason[i], sizeof r->need_reason[i]);
    r->fourier = (r->have & MEAS_NEED_ZP_GRID) != 0;
    snprintf(r->reason, sizeof r->reason, "%s", r->need_reason[0]);
    r->group_id = (r->have & MEAS_NEED_GROUP) ? t->cfg.group : -1;
}

void measure_summary_json(const measure_result *r, sbuf *out)
{
    if (r->fourier) {
        sbuf_printf(out,
                    "  \"fourier\": {\"applies\": true, \"key_freq_rule\": \"%s\", "
                    "\"key_freq_share\": %.9g, \"cluster_frac\": %.9g, \"neurons\": %d, "
                    "\"dead_neurons\": %d, \"clusters\": [",
                    meas_key_rule_name(r->key.rule), r->key.share, MEAS_CLUSTER_FRAC,
                    r->key.n_neurons, r->key.n_dead);
        for (int i = 0; i < r->key.n_clusters; i++)
            sbuf_printf(out, "%s{\"freq\": %d, \"size\": %d}", i ? ", " : "", r->key.cluster_k[i],
                        r->key.cluster_size[i]);
        sbuf_puts(out, "], \"key_freqs_neuron\": ");
        json_ints(out, r->key.k_by_neuron, r->key.n_by_neuron);
        sbuf_puts(out, ", \"key_freqs_cluster\": ");
        json_ints(out, r->key.k_by_cluster, r->key.n_by_cluster);
        sbuf_puts(out, "},\n  \"key_freqs\": ");
        json_ints(out, r->key.k, r->key.n);
        sbuf_puts(out, ",\n");
    } else {
        sbuf_puts(out, "  \"fourier\": {\"applies\": false, \"reason\": ");
        sbuf_json_string(out, r->reason);
        sbuf_puts(out, "},\n  \"key_freqs\": [],\n");
    }
    if (r->have & MEAS_NEED_GROUP)
        algorithm_irreps_json(r, out);
    measures_json(r, out);
    sbuf_puts(out, "  \"phases\": {\"memorisation_end\": ");
    json_epoch(out, r->phases.memorisation_end);
    sbuf_puts(out, ", \"circuit_formation_end\": ");
    json_epoch(out, r->phases.circuit_formation_end);
    sbuf_puts(out, ", \"cleanup_end\": ");
    json_epoch(out, r->phases.cleanup_end);
    sbuf_puts(out, ", \"rule\": ");
    sbuf_json_string(out,
                     "memorisation ends at the first epoch with train acc >= 0.99; circuit "
                     "formation ends at the first later epoch where test loss is half its "
                     "largest value since memorisation (reported when it later falls 10x); "
                     "cleanup ends at the first epoch from there with test acc >= 0.99 and "
                     "ln(test loss) within 10% of its remaining log range of its minimum");
    sbuf_puts(out, "}");
    if (!r->have_algo)
        return;
    const algo_kind v = algo_verdict(r->dist_irrel, r->grad_sym, r->acc_test);
    sbuf_printf(out, ",\n  \"algorithm\": {\"verdict\": \"%s\", \"rule\": ", algo_kind_name(v));
    sbuf_json_string(out, ALGO_RULE);
    sbuf_printf(out,
                ", \"dist_irrel\": %.9g, \"grad_sym\": %.9g, \"circularity\": %.9g, "
                "\"fve_clock\": %.9g, \"fve_pizza\": %.9g, \"acc_test\": %.9g, \"thresholds\": "
                "{\"solved_acc\": %.9g, \"pizza_grad_sym_min\": %.9g, "
                "\"pizza_dist_irrel_max\": %.9g, \"clock_grad_sym_max\": %.9g, "
                "\"clock_dist_irrel_min\": %.9g}}",
                r->dist_irrel, r->grad_sym, r->circularity, r->fve_clock, r->fve_pizza,
                r->acc_test, ALGO_SOLVED_ACC, ALGO_PIZZA_GRAD_SYM, ALGO_PIZZA_DIST_IRREL,
                ALGO_CLOCK_GRAD_SYM, ALGO_CLOCK_DIST_IRREL);
}

/* ------------------------------------------------------------------------ */
/* checkpoints */

/* "F32 [16, 24]" from either int64 or int dims */
static void shape_text(char *buf, size_t n, const char *dtype, int ndim, const int64_t *s64,
                       const int *s32)
{
    size_t k = (size_t)snprintf(buf, n, "%s [", dtype);
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "",
                              s64 ? (long long)s64[d] : (long long)s32[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

int measure_load_checkpoint(const param_tensor *table, int n_tensors, float *params,
                            const char *path, long *epoch, grok_err *e)
{
    st_file f;
    int rc = st_read(&f, path, e);
    if (rc != GROK_OK)
        return rc;
    for (int i = 0; i < n_tensors && rc == GROK_OK; i++) {
        const param_tensor *t = &table[i];
        const st_tensor *s = st_find(&f, t->name);
        int same = s && s->dtype == ST_F32 && s->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = s->shape[d] == t->shape[d];
        if (!s)
            rc = grok_fail(e, GROK_EFORMAT, "%s: no tensor '%s' (the config's model has it)", path,
                           t->name);
        else if (!same) {
            char have[96], want[96];
            shape_text(have, sizeof have, st_dtype_name(s->dtype), s->ndim, s->shape, NULL);
            shape_text(want, sizeof want, "F32", t->ndim, NULL, t->shape);
            rc = grok_fail(e, GROK_EFORMAT,
                           "%s: tensor '%s' is %s; the config's model needs %s (wrong run "
                           "directory or edited config.cfg?)",
                           path, t->name, have, want);
        }
        else
            memcpy(params + t->offset, s->data, t->numel * sizeof(float));
    }
    if (rc == GROK_OK && epoch) {
        const char *v = st_meta_get(&f, "epoch");
        *epoch = -1;
        if (v) {
            char *end;
            errno = 0;
            long x = strtol(v, &end, 10);
            if (errno || end == v || *end || x < 0)
                rc = grok_fail(e, GROK_EFORMAT, "%s: metadata epoch = '%s' is not an epoch", path,
                               v);
            else
                *epoch = x;
        }
    }
    st_file_free(&f);
    return rc;
}

/* Loads the checkpoint of epoch ep of dir into m and checks its epoch metadata. */
static int load_entry(model *m, const char *dir, long ep, grok_err *e)
{
    char rel[96], path[MEASURE_PATH_MAX];
    rundir_ckpt_name(rel, sizeof rel, ep);
    int rc = measure_path(path, dir, rel, e);
    long meta_ep;
    if (rc == GROK_OK)
        rc = measure_load_checkpoint(m->tensors, m->n_tensors, m->params, path, &meta_ep, e);
    if (rc == GROK_OK && meta_ep >= 0 && meta_ep != ep)
        rc = grok_fail(e, GROK_EFORMAT, "%s: metadata epoch %ld differs from the file name's %ld",
                       path, meta_ep, ep);
    return rc;
}

static int write_file(const char *dir, const char *name, const sbuf *b, grok_err *e)
{
    char path[MEASURE_PATH_MAX];
    int rc = measure_path(path, dir, name, e);
    if (rc != GROK_OK)
        return rc;
    if (b->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory formatting %s", path);
    return fileio_write_atomic(path, b->data ? b->data : "", b->len, e);
}

/* ------------------------------------------------------------------------ */
/* a run directory */

int measure_split_read(task_data *t, const char *dir, grok_err *e)
{
    char what[MEASURE_PATH_MAX];
    int rc = measure_path(what, dir, RUNDIR_SPLIT, e);
    if (rc != GROK_OK)
        return rc;
    char *text = NULL;
    if ((rc = rundir_read_opt(dir, RUNDIR_SPLIT, &text, e)) == 0)
        return grok_fail(e, GROK_EINVAL,
                         "%s is missing: the measures are computed on the run's own split, "
                         "which grok train and grok import write there",
                         what);
    if (rc < 0)
        return rc;
    rc = measure_split_parse(t, text, what, e);
    free(text);
    return rc;
}

int measure_split_parse(task_data *t, const char *text, const char *what, grok_err *e)
{
    rundir_tsv s;
    int rc = rundir_tsv_parse(&s, text, what, 0, e);
    if (rc != GROK_OK)
        return rc;
    /* the operand columns of the task kind, then index, label, split */
    char ops[64];
    snprintf(ops, sizeof ops, "%s", task_operand_header(t));
    const char *op_names[2] = {ops, NULL};
    char *tab = strchr(ops, '\t');
    if (tab) {
        *tab = '\0';
        op_names[1] = tab + 1;
    }
    const int c_index = rundir_tsv_col(&s, "index"), c_label = rundir_tsv_col(&s, "label"),
              c_split = rundir_tsv_col(&s, "split"), c_op0 = rundir_tsv_col(&s, op_names[0]),
              c_op1 = op_names[1] ? rundir_tsv_col(&s, op_names[1]) : -2;
    int32_t *order = NULL;
    if (c_index < 0 || c_label < 0 || c_split < 0 || c_op0 < 0 || c_op1 == -1) {
        rc = grok_fail(e, GROK_EFORMAT, "%s: the header must be 'index\t%s\tlabel\tsplit'",
                       what, task_operand_header(t));
        goto out;
    }
    if (s.n_rows != t->n_all) {
        rc = grok_fail(e, GROK_EFORMAT,
                       "%s has %d examples; the task of config.cfg has %d (another task's "
                       "split?)",
                       what, s.n_rows, t->n_all);
        goto out;
    }
    order = malloc((size_t)t->n_all * sizeof *order);
    if (!order) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory reading %s", what);
        goto out;
    }
    int n_train = 0;
    for (int i = 0; i < s.n_rows && rc == GROK_OK; i++) {
        const double x = rundir_tsv_at(&s, i, c_index);
        const char *side = s.text[(size_t)i * s.n_cols + c_split];
        const int train = strcmp(side, "train") == 0;
        char want[TASK_PARITY_N_MAX + 32], have[TASK_PARITY_N_MAX + 32];
        if (!(x >= 0 && x < t->n_all && x == floor(x))) {
            rc = grok_fail(e, GROK_EFORMAT, "%s:%d: index '%s' is not an example of the task (0..%d)",
                           what, s.line[i], s.text[(size_t)i * s.n_cols + c_index], t->n_all - 1);
            break;
        }
        const int r = (int)x;
        task_format_operands(t, r, want, sizeof want);
        snprintf(have, sizeof have, "%s%s%s", s.text[(size_t)i * s.n_cols + c_op0],
                 c_op1 >= 0 ? "\t" : "", c_op1 >= 0 ? s.text[(size_t)i * s.n_cols + c_op1] : "");
        if (strcmp(want, have) != 0 || rundir_tsv_at(&s, i, c_label) != t->label[r])
            rc = grok_fail(e, GROK_EFORMAT,
                           "%s:%d: example %d is '%s' with label %s; the task of config.cfg has "
                           "'%s' with label %d",
                           what, s.line[i], r, have, s.text[(size_t)i * s.n_cols + c_label], want,
                           (int)t->label[r]);
        else if (!train && strcmp(side, "test") != 0)
            rc = grok_fail(e, GROK_EFORMAT, "%s:%d: split '%s': must be train or test", what,
                           s.line[i], side);
        else if (train && n_train != i)
            rc = grok_fail(e, GROK_EFORMAT,
                           "%s:%d: a train row after the test rows (train rows come first)", what,
                           s.line[i]);
        order[i] = r;
        n_train += train;
    }
    if (rc == GROK_OK && (rc = task_set_order(t, order, n_train, e)) != GROK_OK) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e ? e->msg : "");
        rc = grok_fail(e, GROK_EFORMAT, "%s: %s", what, why);
    }
out:
    free(order);
    rundir_tsv_free(&s);
    return rc;
}

/* What the final files are formatted from. */
typedef struct {
    const task_data *t;
    const model *m;
    const meas_freqs *key;
    long epoch;
} final_ctx;

/* The files of the final checkpoint, read from its forward (and R1 pass). */
typedef struct {
    const char *file;
    unsigned needs; /* MEAS_NEED_* */
    int (*format)(meas_workspace *ws, const final_ctx *c, sbuf *out, grok_err *e);
} final_file;

static int fmt_neurons(meas_workspace *ws, const final_ctx *c, sbuf *out, grok_err *e)
{
    (void)c;
    return meas_format_neurons(ws, out, e);
}
static int fmt_attention(meas_workspace *ws, const final_ctx *c, sbuf *out, grok_err *e)
{
    return meas_format_attention(ws, c->t, out, e);
}
static int fmt_spectrum(meas_workspace *ws, const final_ctx *c, sbuf *out, grok_err *e)
{
    return meas_format_logit_spectrum(ws, c->epoch, out, e);
}
static int fmt_logit_sd(meas_workspace *ws, const final_ctx *c, sbuf *out, grok_err *e)
{
    return meas_format_logit_sd(ws, c->t, out, e);
}
static int fmt_embed_circles(meas_workspace *ws, const final_ctx *c, sbuf *out, grok_err *e)
{
    return meas_format_embed_circles(ws, c->m, c->key, out, e);
}

static const final_file final_files[] = {
    {RUNDIR_NEURONS, MEAS_NEED_ZP_GRID, fmt_neurons},
    {RUNDIR_ATTENTION, MEAS_NEED_TRANSFORMER, fmt_attention},
    {RUNDIR_LOGIT_SPECTRUM, MEAS_NEED_ZP_GRID, fmt_spectrum},
    {RUNDIR_LOGIT_SD, MEAS_NEED_ZP_GRID, fmt_logit_sd},
    {RUNDIR_EMBED_CIRCLES, MEAS_NEED_ZP_GRID | MEAS_NEED_EMBED, fmt_embed_circles},
};
#define N_FINAL_FILES ((int)(sizeof final_files / sizeof final_files[0]))

static const char *const table_files[MEAS_FILE_COUNT] = {
    [MEAS_FILE_MEASURES] = RUNDIR_MEASURES,
    [MEAS_FILE_EMBED] = RUNDIR_FOURIER_EMBED,
    [MEAS_FILE_IRREPS] = RUNDIR_IRREPS,
    [MEAS_FILE_EXCLUDED_FREQ] = RUNDIR_EXCLUDED_FREQ,
    [MEAS_FILE_COEFS] = RUNDIR_COEFS,
};

/* The pass over the checkpoint of `epoch` loaded in m: its key frequencies
 * into r->key (rule R1; a group task's key irreps; neither: its whole row
 * into *row), then each final file that applies formatted from that
 * forward into b_final[0..N_FINAL_FILES). */
static int final_pass(meas_workspace *ws, const model *m, const task_data *t, measure_result *r,
                      long epoch, meas_row *row, sbuf *b_final, grok_err *e)
{
    int rc = GROK_OK;
    if (r->fourier) {
        rc = meas_key_freqs(ws, m, &r->key, e);
    } else if (r->have & MEAS_NEED_GROUP) {
        rc = meas_key_irreps(ws, m, &r->key, e);
    } else {
        row->epoch = epoch;
        rc = meas_compute(ws, m, t, NULL, row, e);
    }
    const final_ctx fc = {t, m, &r->key, epoch};
    for (int i = 0; i < N_FINAL_FILES && rc == GROK_OK; i++)
        if ((final_files[i].needs & ~r->have) == 0)
            rc = final_files[i].format(ws, &fc, &b_final[i], e);
    return rc;
}

/* models[*n] and ws[*n] for a parallel pass, then ++*n: the first workspace
 * owns the tables, the others share them. */
static int measure_add_workspace(model *models, meas_workspace **ws, int *n,
                                 const model_config *mc, const task_data *task, const cfg_run *c,
                                 grok_err *e)
{
    const int i = *n;
    int rc = model_init(&models[i], mc, e);
    if (rc != GROK_OK)
        return rc;
    rc = i == 0 ? meas_workspace_alloc(&ws[0], &models[0], task, NULL, e)
                : meas_workspace_alloc_sharing(&ws[i], &models[i], task, ws[0], e);
    if (rc != GROK_OK) {
        model_free(&models[i]);
        return rc;
    }
    meas_workspace_set_key_rule(ws[i], (meas_key_rule)c->measures.key_freq_rule,
                                c->measures.key_freq_share);
    *n = i + 1;
    return GROK_OK;
}

/* dir's config.cfg into *c and its task into *task, the training rows those
 * of split.tsv (never rebuilt from the seed).  On success free task with
 * task_free. */
static int measure_load_run(const char *dir, cfg_run *c, task_data *task, grok_err *e)
{
    char path[MEASURE_PATH_MAX];
    int rc = measure_path(path, dir, RUNDIR_CONFIG, e);
    if (rc == GROK_OK)
        rc = cfg_load(c, path, NULL, 0, e);
    if (rc != GROK_OK)
        return rc;
    if ((rc = task_init(task, &c->task, c->seed, e)) != GROK_OK)
        return rc;
    if ((rc = measure_split_read(task, dir, e)) != GROK_OK)
        task_free(task);
    return rc;
}

int measure_run_dir_result(const char *dir, int jobs, measure_result *res, grok_err *e)
{
    return measure_run_dir_progress(dir, jobs, res, NULL, e);
}

int measure_run_dir_progress(const char *dir, int jobs, measure_result *res,
                             const grok_progress *prog, grok_err *e)
{
    cfg_run c;
    task_data task;
    int rc = measure_load_run(dir, &c, &task, e);
    if (rc != GROK_OK)
        return rc;
    long *ck = NULL;
    int n = 0;
    if ((rc = rundir_ckpt_list(dir, &ck, &n, e)) != GROK_OK) {
        task_free(&task);
        return rc;
    }
    if (n == 0) {
        task_free(&task);
        free(ck);
        return grok_fail(e, GROK_EINVAL, "'%s/checkpoints' holds no epoch-NNNNNN.safetensors",
                         dir);
    }
    if (jobs <= 0)
        jobs = omp_get_max_threads();
    if (jobs > n)
        jobs = n;

    const model_config mc = cfg_model_config(&c);
    model *models = calloc((size_t)jobs, sizeof *models);
    meas_workspace **ws = calloc((size_t)jobs, sizeof *ws);
    meas_row *rows = calloc((size_t)n, sizeof *rows);
    int *row_rc = calloc((size_t)n, sizeof *row_rc);
    grok_err *row_err = calloc((size_t)n, sizeof *row_err);
    measure_result r;
    memset(&r, 0, sizeof r);
    sbuf b, b_final[N_FINAL_FILES]; /* written once every row succeeded */
    sbuf_init(&b);
    for (int i = 0; i < N_FINAL_FILES; i++)
        sbuf_init(&b_final[i]);
    int n_models = 0;
    if (!models || !ws || !rows || !row_rc || !row_err) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory measuring %d checkpoints", n);
        goto done;
    }
    /* the first workspace now, the others (sharing its tables, without room
     * for rule R1) once it has found the key frequencies and given back R1's
     * buffers: the peak holds one set of R1 buffers at most */
    if ((rc = measure_add_workspace(models, ws, &n_models, &mc, &task, &c, e)) != GROK_OK)
        goto done;
    measure_result_needs(&r, &models[0], &task);
    r.n_checkpoints = n;
    r.first_epoch = ck[0];
    r.last_epoch = ck[n - 1];

    /* the final checkpoint: key frequencies and the files read from its forward */
    if ((rc = load_entry(&models[0], dir, ck[n - 1], e)) != GROK_OK)
        goto done;
    if ((rc = final_pass(ws[0], &models[0], &task, &r, ck[n - 1], &rows[n - 1], b_final, e)) !=
        GROK_OK)
        goto done;

    /* every row, in parallel over checkpoints, given the key frequencies */
    if ((rc = meas_workspace_drop_r1(ws[0], e)) != GROK_OK)
        goto done;
    while (n_models < jobs)
        if ((rc = measure_add_workspace(models, ws, &n_models, &mc, &task, &c, e)) != GROK_OK)
            goto done;
    const meas_freqs *key = r.fourier || (r.have & MEAS_NEED_GROUP) ? &r.key : NULL;
    long n_done = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(jobs) if (jobs > 1)
    for (int i = 0; i < n; i++) {
        const int tid = omp_get_thread_num();
        row_rc[i] = load_entry(&models[tid], dir, ck[i], &row_err[i]);
        rows[i].epoch = ck[i];
        if (row_rc[i] == GROK_OK)
            row_rc[i] = meas_compute(ws[tid], &models[tid], &task, key, &rows[i], &row_err[i]);
        if (prog) {
#pragma omp critical(measure_progress)
            {
                char item[40];
                snprintf(item, sizeof item, "epoch %ld", ck[i]);
                grok_progress_step(prog, ++n_done, n, item);
            }
        }
    }
    for (int i = 0; i < n; i++)
        if (row_rc[i] != GROK_OK) {
            rc = row_rc[i];
            if (e)
                *e = row_err[i];
            goto done;
        }

    for (int f = 0; f < MEAS_FILE_COUNT; f++) {
        if (!meas_file_applies(r.have, (meas_file)f))
            continue;
        sbuf_clear(&b);
        meas_format_header(&models[0], &task, (meas_file)f, &b);
        for (int i = 0; i < n; i++)
            meas_format_row(&rows[i], (meas_file)f, &b);
        if ((rc = write_file(dir, table_files[f], &b, e)) != GROK_OK)
            goto done;
    }
    for (int i = 0; i < N_FINAL_FILES; i++)
        if ((final_files[i].needs & ~r.have) == 0 &&
            (rc = write_file(dir, final_files[i].file, &b_final[i], e)) != GROK_OK)
            goto done;
    measure_phases(rows, n, &r.phases);
    r.have_algo = (r.have & (MEAS_NEED_ZP_GRID | MEAS_NEED_EMBED)) ==
                  (MEAS_NEED_ZP_GRID | MEAS_NEED_EMBED);
    if (r.have_algo) {
        const meas_row *f = &rows[n - 1];
        r.dist_irrel = f->dist_irrel;
        r.grad_sym = f->grad_sym;
        r.circularity = f->circularity;
        r.fve_clock = f->fve_clock;
        r.fve_pizza = f->fve_pizza;
        r.acc_test = f->acc_test;
    }
    if (res)
        *res = r;
    if (e)
        e->msg[0] = '\0';

done:
    sbuf_free(&b);
    for (int i = 0; i < N_FINAL_FILES; i++)
        sbuf_free(&b_final[i]);
    for (int i = 0; i < n_models; i++) {
        meas_workspace_free(ws[i]);
        model_free(&models[i]);
    }
    free(models);
    free(ws);
    free(rows);
    free(row_rc);
    free(row_err);
    free(ck);
    task_free(&task);
    return rc;
}

int measure_run_dir(const char *dir, int jobs, grok_err *e)
{
    return measure_run_dir_result(dir, jobs, NULL, e);
}

int measure_checkpoint_files(const char *dir, long epoch, const char *out_dir, grok_err *e)
{
    cfg_run c;
    task_data task;
    int rc = measure_load_run(dir, &c, &task, e);
    if (rc != GROK_OK)
        return rc;
    const model_config mc = cfg_model_config(&c);
    model m;
    meas_workspace *ws = NULL;
    measure_result r;
    memset(&r, 0, sizeof r);
    meas_row row;
    memset(&row, 0, sizeof row);
    sbuf b_final[N_FINAL_FILES];
    for (int i = 0; i < N_FINAL_FILES; i++)
        sbuf_init(&b_final[i]);
    if ((rc = model_init(&m, &mc, e)) != GROK_OK)
        goto out;
    if ((rc = meas_workspace_alloc(&ws, &m, &task, NULL, e)) == GROK_OK) {
        meas_workspace_set_key_rule(ws, (meas_key_rule)c.measures.key_freq_rule,
                                    c.measures.key_freq_share);
        measure_result_needs(&r, &m, &task);
        rc = load_entry(&m, dir, epoch, e);
        if (rc == GROK_OK)
            rc = final_pass(ws, &m, &task, &r, epoch, &row, b_final, e);
        for (int i = 0; i < N_FINAL_FILES && rc == GROK_OK; i++)
            if ((final_files[i].needs & ~r.have) == 0)
                rc = write_file(out_dir, final_files[i].file, &b_final[i], e);
        meas_workspace_free(ws);
    }
    model_free(&m);
out:
    for (int i = 0; i < N_FINAL_FILES; i++)
        sbuf_free(&b_final[i]);
    task_free(&task);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the live pass */

int measure_tsv_put(const char *path, const char *header, const char *line, long epoch,
                    grok_err *e)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_puts(&b, header);
    char *old = NULL;
    size_t n_old = 0;
    if (fileio_exists(path)) {
        int rc = fileio_read_all(path, &old, &n_old, e);
        if (rc != GROK_OK) {
            sbuf_free(&b);
            return rc;
        }
        const size_t hl = strlen(header);
        /* keep the old rows only under the same header */
        if (n_old >= hl && memcmp(old, header, hl) == 0) {
            const char *s = old + hl, *end = old + n_old;
            while (s < end) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                if (!nl) /* a line without its newline: not a complete row */
                    break;
                char *q;
                errno = 0;
                long ep = strtol(s, &q, 10);
                if (q != s && errno == 0 && (*q == '\t' || *q == '\n') && ep < epoch)
                    sbuf_append(&b, s, (size_t)(nl + 1 - s));
                s = nl + 1;
            }
        }
        free(old);
    }
    sbuf_puts(&b, line);
    int rc = b.oom ? grok_fail(e, GROK_ENOMEM, "out of memory writing %s", path)
                   : fileio_write_atomic(path, b.data, b.len, e);
    sbuf_free(&b);
    return rc;
}

int measure_live_init(measure_live *lv, const model *m, const task_data *t, model_acts *acts,
                      grok_err *e)
{
    memset(lv, 0, sizeof *lv);
    int rc = meas_workspace_alloc(&lv->ws, m, t, acts, e);
    if (rc != GROK_OK)
        return rc;
    lv->task = t;
    lv->have = meas_workspace_have(lv->ws);
    int oom = 0;
    for (int f = 0; f < MEAS_FILE_COUNT; f++) {
        sbuf_init(&lv->header[f]);
        if (meas_file_applies(lv->have, (meas_file)f))
            meas_format_header(m, t, (meas_file)f, &lv->header[f]);
        oom |= lv->header[f].oom;
    }
    sbuf_init(&lv->line);
    if (oom) {
        measure_live_free(lv);
        return grok_fail(e, GROK_ENOMEM, "out of memory for the measures header");
    }
    return GROK_OK;
}

void measure_live_free(measure_live *lv)
{
    meas_workspace_free(lv->ws);
    for (int f = 0; f < MEAS_FILE_COUNT; f++)
        sbuf_free(&lv->header[f]);
    sbuf_free(&lv->line);
    memset(lv, 0, sizeof *lv);
}

int measure_live_step(measure_live *lv, const model *m, long epoch, const char *dir,
                      meas_row *row, grok_err *e)
{
    meas_row local;
    meas_row *r = row ? row : &local;
    r->epoch = epoch;
    int rc = meas_compute(lv->ws, m, lv->task, NULL, r, e);
    if (rc != GROK_OK)
        return rc;
    char path[MEASURE_PATH_MAX];
    for (int f = 0; f < MEAS_FILE_COUNT; f++) {
        if (!meas_file_applies(lv->have, (meas_file)f))
            continue;
        sbuf_clear(&lv->line);
        meas_format_row(r, (meas_file)f, &lv->line);
        if (lv->line.oom)
            return grok_fail(e, GROK_ENOMEM, "out of memory formatting a measures row");
        if ((rc = measure_path(path, dir, table_files[f], e)) != GROK_OK ||
            (rc = measure_tsv_put(path, lv->header[f].data, lv->line.data, epoch, e)) != GROK_OK)
            return rc;
    }
    return GROK_OK;
}
