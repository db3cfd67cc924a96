/* sweep_data.c: reading a sweep directory for the sweep figures, and the
 * queries they share (sweep_data.h). */
#include "sweep_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sp_cell(const sweep_plot_data *d, long r, int c)
{
    return d->cell[r * d->n_cols + c];
}

static int sp_col(const sweep_plot_data *d, const char *name)
{
    for (int c = 0; c < d->n_cols; c++)
        if (strcmp(d->head[c], name) == 0)
            return c;
    return -1;
}

int sp_number(const char *s, double *x)
{
    char *end;
    if (!s || !*s)
        return 0;
    *x = strtod(s, &end);
    return *end == '\0' && isfinite(*x);
}

/* Reads dir/<name>/metrics.tsv into c (empty when absent or unusable). */
static int sp_read_curve(const char *dir, const char *name, sp_curve *c)
{
    memset(c, 0, sizeof *c);
    c->t_train = c->t_test = NAN;
    char *pdir = rundir_join(dir, name);
    if (!pdir)
        return GROK_ENOMEM;
    rundir_tsv t;
    grok_err e;
    int rc = rundir_tsv_read(&t, pdir, RUNDIR_METRICS, 0, &e);
    free(pdir);
    if (rc == GROK_ENOMEM)
        return rc;
    if (rc <= 0)
        return GROK_OK;
    int col[3] = {rundir_tsv_col(&t, "epoch"), rundir_tsv_col(&t, "train_loss"),
                  rundir_tsv_col(&t, "test_loss")};
    long rows = 0, *use = malloc((size_t)(t.n_rows ? t.n_rows : 1) * sizeof *use);
    if (!use) {
        rundir_tsv_free(&t);
        return GROK_ENOMEM;
    }
    for (int r = 0; col[0] >= 0 && col[1] >= 0 && col[2] >= 0 && r < t.n_rows; r++)
        if (isfinite(rundir_tsv_at(&t, r, col[0])) && isfinite(rundir_tsv_at(&t, r, col[1])) &&
            isfinite(rundir_tsv_at(&t, r, col[2])))
            use[rows++] = r;
    int c_acc[2] = {rundir_tsv_col(&t, "train_acc"), rundir_tsv_col(&t, "test_acc")};
    double *t_acc[2] = {&c->t_train, &c->t_test};
    for (int a = 0; a < 2; a++)
        for (int r = 0; col[0] >= 0 && c_acc[a] >= 0 && r < t.n_rows; r++)
            if (rundir_tsv_at(&t, r, c_acc[a]) >= SWEEP_PLOT_LIU_ACC) {
                *t_acc[a] = rundir_tsv_at(&t, r, col[0]);
                break;
            }
    long keep = rows < SWEEP_PLOT_CURVE ? rows : SWEEP_PLOT_CURVE;
    c->epoch = keep ? malloc((size_t)keep * 3 * sizeof(double)) : NULL;
    if (keep && !c->epoch)
        rc = GROK_ENOMEM;
    for (long i = 0; c->epoch && i < keep; i++) {
        /* a fixed stride; the first and the last rows are always kept */
        long r = keep == 1 ? rows - 1
                           : (long)((double)i * (double)(rows - 1) / (double)(keep - 1) + 0.5);
        c->epoch[i] = rundir_tsv_at(&t, (int)use[r], col[0]);
        c->epoch[keep + i] = rundir_tsv_at(&t, (int)use[r], col[1]);
        c->epoch[2 * keep + i] = rundir_tsv_at(&t, (int)use[r], col[2]);
    }
    if (c->epoch) {
        c->train = c->epoch + keep;
        c->test = c->epoch + 2 * keep;
        c->n = keep;
    }
    free(use);
    rundir_tsv_free(&t);
    return rc == GROK_ENOMEM ? rc : GROK_OK;
}

void sweep_plot_free(sweep_plot_data *d)
{
    if (!d)
        return;
    if (d->curve)
        for (long r = 0; r < d->n_rows; r++)
            free(d->curve[r].epoch);
    free(d->curve);
    rundir_tsv_free(&d->table);
    free(d);
}

int sweep_plot_load(const char *dir, sweep_plot_data **out, grok_err *e)
{
    *out = NULL;
    sweep_plot_data *d = calloc(1, sizeof *d);
    if (!d)
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    int rc = rundir_tsv_read(&d->table, dir, RUNDIR_SWEEP_TABLE, 0, e);
    if (rc <= 0) {
        sweep_plot_free(d);
        if (rc == 0)
            return grok_fail(e, GROK_EINVAL,
                             "'%s' has no sweep.tsv (grok sweep --summary %s writes it)", dir, dir);
        return rc == GROK_EFORMAT ? GROK_EINVAL : rc;
    }
    d->n_cols = d->table.n_cols;
    d->head = d->table.cols;
    d->n_rows = d->table.n_rows;
    d->cell = d->table.text;
    d->c_name = sp_col(d, "name");
    d->c_status = sp_col(d, "status");
    d->c_grok = sp_col(d, "grokked_epoch");
    d->c_total = sp_col(d, "epochs_total");
    d->c_done = sp_col(d, "epochs_done");
    if (d->c_name < 0 || d->c_status < 0 || d->c_grok < 0 || d->c_total < 0 ||
        d->c_status <= d->c_name + 1) {
        rc = grok_fail(e, GROK_EINVAL,
                       "%s/sweep.tsv: not a sweep table: it needs the columns name, the axes, "
                       "status, epochs_total and grokked_epoch",
                       dir);
        sweep_plot_free(d);
        return rc;
    }
    d->axis0 = d->c_name + 1;
    d->n_axes = d->c_status - d->axis0;
    d->curve = calloc((size_t)(d->n_rows ? d->n_rows : 1), sizeof *d->curve);
    if (!d->curve) {
        sweep_plot_free(d);
        return grok_fail(e, GROK_ENOMEM, "out of memory");
    }
    for (long r = 0; r < d->n_rows; r++) {
        double g, b, x;
        if (sp_row_class(d, r, &g, &b) == SP_GROKKED &&
            !sp_number(sp_cell(d, r, d->c_grok), &x))
            d->n_stop_rows++;
        if ((rc = sp_read_curve(dir, sp_cell(d, r, d->c_name), &d->curve[r])) != GROK_OK) {
            sweep_plot_free(d);
            return grok_fail(e, rc, "out of memory reading the points' metrics.tsv");
        }
    }
    *out = d;
    return GROK_OK;
}


sp_class sp_row_class(const sweep_plot_data *d, long r, double *epoch, double *budget)
{
    double x;
    *budget = sp_number(sp_cell(d, r, d->c_total), &x) ? x : NAN;
    if (sp_number(sp_cell(d, r, d->c_grok), epoch))
        return SP_GROKKED;
    const char *st = sp_cell(d, r, d->c_status);
    if (!strcmp(st, "stopped") && d->c_done >= 0 && sp_number(sp_cell(d, r, d->c_done), epoch))
        return SP_GROKKED; /* stopped at train.stop_test_acc */
    if (!strcmp(st, "finished") || !strcmp(st, "stopped") || !strcmp(st, "diverged"))
        return SP_DNG;
    return SP_PENDING;
}


void sp_levels_free(sp_levels *l)
{
    free(l->v);
    free(l->x);
    memset(l, 0, sizeof *l);
}

int sp_levels_of(const sweep_plot_data *d, int c, sp_levels *l)
{
    memset(l, 0, sizeof *l);
    l->v = calloc((size_t)(d->n_rows ? d->n_rows : 1), sizeof *l->v);
    l->x = calloc((size_t)(d->n_rows ? d->n_rows : 1), sizeof *l->x);
    if (!l->v || !l->x) {
        sp_levels_free(l);
        return GROK_ENOMEM;
    }
    l->numeric = 1;
    for (long r = 0; r < d->n_rows; r++) {
        const char *s = sp_cell(d, r, c);
        int found = 0;
        for (int i = 0; i < l->n && !found; i++)
            found = strcmp(l->v[i], s) == 0;
        if (found)
            continue;
        l->v[l->n] = s;
        if (!sp_number(s, &l->x[l->n]))
            l->numeric = 0;
        l->n++;
    }
    return GROK_OK;
}

int sp_level_index(const sp_levels *l, const char *s)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return i;
    return -1;
}

/* The x and y columns (-1: none). */
int sp_pick_axes(const sweep_plot_data *d, const sweep_plot_opts *o, int *cx, int *cy,
                 grok_err *e)
{
    *cx = *cy = -1;
    const char *want[2] = {o ? o->x : NULL, o ? o->y : NULL};
    int *dst[2] = {cx, cy};
    for (int k = 0; k < 2; k++) {
        if (!want[k] || !want[k][0])
            continue;
        int c = sp_col(d, want[k]);
        if (c < d->axis0 || c >= d->axis0 + d->n_axes) {
            sbuf v;
            sbuf_init(&v);
            for (int j = 0; j < d->n_axes; j++)
                sbuf_printf(&v, "%s%s", j ? ", " : "", d->head[d->axis0 + j]);
            int rc = grok_fail(e, GROK_EINVAL,
                               "%s axis '%s' is not an axis of the sweep; valid: %s",
                               k ? "y" : "x", want[k], v.data ? v.data : "");
            sbuf_free(&v);
            return rc;
        }
        *dst[k] = c;
    }
    for (int j = 0; j < d->n_axes && *cx < 0; j++)
        if (strcmp(d->head[d->axis0 + j], "seed") != 0 && d->axis0 + j != *cy)
            *cx = d->axis0 + j;
    if (*cx < 0)
        *cx = *cy == d->axis0 ? (d->n_axes > 1 ? d->axis0 + 1 : -1) : d->axis0;
    for (int j = 0; j < d->n_axes && *cy < 0; j++)
        if (strcmp(d->head[d->axis0 + j], "seed") != 0 && d->axis0 + j != *cx)
            *cy = d->axis0 + j;
    for (int j = 0; j < d->n_axes && *cy < 0; j++)
        if (d->axis0 + j != *cx)
            *cy = d->axis0 + j;
    if (*cx == *cy)
        *cy = -1;
    return GROK_OK;
}
