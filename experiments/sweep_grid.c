/* sweep_grid.c: the grid of a sweep (sweep.h): point i's value on each axis,
 * its name and its config; the resolved sweep.cfg and the plan points.tsv;
 * and preparing the sweep directory, which refuses a directory holding
 * another sweep and started points whose config differs from the sweep's in
 * a key a resumed run may not change (cfg_key_resumable, cfg.h). */
#include "sweep_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* points */

int sweep_point_index(const sweep_spec *s, long i, int k)
{
    GROK_ASSERT(i >= 0 && i < s->n_points && k >= 0 && k < s->n_axes);
    long stride = 1;
    for (int j = s->n_axes - 1; j > k; j--)
        stride *= s->axes[j].n;
    return (int)((i / stride) % s->axes[k].n);
}

int sweep_point_name(const sweep_spec *s, long i, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        const char *v = a->value[sweep_point_index(s, i, k)];
        int w = snprintf(buf + len, n - len, "%s%s=", k ? "," : "", a->label);
        if (w < 0 || (size_t)w >= n - len)
            return GROK_EINVAL;
        len += (size_t)w;
        for (; *v; v++) {
            if (len + 1 >= n)
                return GROK_EINVAL;
            buf[len++] = sweep_name_char(*v) ? *v : '_';
        }
        buf[len] = '\0';
    }
    return GROK_OK;
}

int sweep_point_config(const sweep_spec *s, long i, cfg_run *c, grok_err *e)
{
    cfg_run t = s->base;
    for (int k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        sbuf b;
        sbuf_init(&b);
        sbuf_printf(&b, "%s=", a->key);
        sweep_set_text(&b, a, sweep_point_index(s, i, k));
        int rc = b.oom ? grok_fail(e, GROK_ENOMEM, "out of memory") : cfg_set(&t, b.data, e);
        sbuf_free(&b);
        if (rc != GROK_OK)
            return rc;
    }
    int rc = cfg_check(&t, e);
    if (rc != GROK_OK)
        return rc;
    cfg_fill_derived(&t);
    *c = t;
    return GROK_OK;
}

static const char *sweep_type_word(sweep_vtype t)
{
    switch (t) {
    case SWEEP_INT: return "integers";
    case SWEEP_FLOAT: return "floats";
    case SWEEP_STRING: return "strings";
    default: return "booleans";
    }
}

int sweep_format(const sweep_spec *s, sbuf *out)
{
    sbuf_printf(out,
                "# sweep.cfg: the resolved sweep '%s', written by grok sweep: base.cfg is its\n"
                "# base experiment with every key resolved, and each axis lists its values.\n"
                "# `grok sweep DIR` continues the sweep in this directory.\n\n",
                s->name);
    sbuf_puts(out, "name = ");
    sweep_cfg_string(out, s->name);
    sbuf_puts(out, ";\nbase = \"base.cfg\";\n\naxes = (\n");
    for (int k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        sbuf_puts(out, "  { key = ");
        sweep_cfg_string(out, a->key);
        sbuf_puts(out, "; name = ");
        sweep_cfg_string(out, a->label);
        sbuf_printf(out, ";%s  # %d %s\n    values = [", a->log ? " log = true;" : "", a->n,
                    sweep_type_word(a->type));
        for (int i = 0; i < a->n; i++) {
            if (i)
                sbuf_puts(out, i % 10 ? ", " : ",\n      ");
            switch (a->type) {
            case SWEEP_STRING: sweep_cfg_string(out, a->value[i]); break;
            case SWEEP_FLOAT: sweep_cfg_float_text(out, a->value[i]); break;
            case SWEEP_INT: {
                long long v = strtoll(a->value[i], NULL, 10);
                int wide = v > 2147483647LL || v < -2147483648LL; /* libconfig's int64 */
                sbuf_printf(out, "%s%s", a->value[i], wide ? "L" : "");
                break;
            }
            default: sbuf_puts(out, a->value[i]); break;
            }
        }
        sbuf_printf(out, "]; }%s\n", k + 1 < s->n_axes ? "," : "");
    }
    sbuf_puts(out, ");\n\nplots = { formats = ");
    sweep_cfg_string(out, s->formats);
    sbuf_puts(out, "; x = ");
    sweep_cfg_string(out, s->plot_x);
    sbuf_puts(out, "; y = ");
    sweep_cfg_string(out, s->plot_y);
    sbuf_puts(out, "; };\n");
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

int sweep_format_points(const sweep_spec *s, sbuf *out)
{
    sbuf_puts(out, "index\tname");
    for (int k = 0; k < s->n_axes; k++)
        sbuf_printf(out, "\t%s", s->axes[k].key);
    sbuf_puts(out, "\n");
    char name[SWEEP_PATH_MAX];
    for (long i = 0; i < s->n_points; i++) {
        if (sweep_point_name(s, i, name, sizeof name) != GROK_OK)
            return GROK_EINVAL;
        sbuf_printf(out, "%ld\t%s", i, name);
        for (int k = 0; k < s->n_axes; k++)
            sbuf_printf(out, "\t%s", s->axes[k].value[sweep_point_index(s, i, k)]);
        sbuf_puts(out, "\n");
    }
    return out->oom ? GROK_ENOMEM : GROK_OK;
}

/* GROK_EINVAL when the run in pdir (started: it has a state) was trained
 * with a config that differs from c in a key a resume may not change. */
static int sweep_check_started(const char *pdir, const char *name, const cfg_run *c, grok_err *e)
{
    char path[SWEEP_PATH_MAX];
    int rc = sweep_join(path, sizeof path, pdir, RUNDIR_CONFIG, e);
    if (rc != GROK_OK)
        return rc;
    cfg_run old;
    grok_err e2 = {{0}};
    if (cfg_load(&old, path, NULL, 0, &e2) != GROK_OK)
        return grok_fail(e, GROK_EINVAL, "point %s: cannot read its config: %s", name, e2.msg);
    /* The keys a resume may change do not count: both at their defaults. */
    cfg_run cur = *c;
    cfg_reset_resumable(&old);
    cfg_reset_resumable(&cur);
    sbuf a, b, keys;
    sbuf_init(&a);
    sbuf_init(&b);
    sbuf_init(&keys);
    cfg_format(&old, &a);
    cfg_format(&cur, &b);
    cfg_list_resumable(&keys);
    if (a.oom || b.oom || keys.oom) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
    } else if (strcmp(a.data, b.data) != 0) {
        sbuf diff;
        sbuf_init(&diff);
        sbuf_first_diff(&diff, a.data, b.data);
        rc = grok_fail(e, GROK_EINVAL,
                       "point %s was started with another config (%s/config.cfg vs the sweep's, "
                       "%s); a started point may change only %s. Give the sweep another --out "
                       "directory",
                       name, pdir, diff.data ? diff.data : "", keys.data ? keys.data : "");
        sbuf_free(&diff);
    }
    sbuf_free(&a);
    sbuf_free(&b);
    sbuf_free(&keys);
    return rc;
}

int sweep_prepare_dir(const sweep_spec *s, const char *dir, grok_err *e)
{
    char path[SWEEP_PATH_MAX];
    int rc = fileio_mkdir_p(dir, e);
    if (rc != GROK_OK)
        return rc;
    sbuf pts;
    sbuf_init(&pts);
    if ((rc = sweep_format_points(s, &pts)) != GROK_OK) {
        sbuf_free(&pts);
        return grok_fail(e, rc, "out of memory");
    }
    if ((rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_POINTS, e)) == GROK_OK &&
        fileio_exists(path)) {
        char *old = NULL;
        size_t n = 0;
        if ((rc = fileio_read_all(path, &old, &n, e)) == GROK_OK) {
            if (n != pts.len || memcmp(old, pts.data, n) != 0) {
                sbuf diff;
                sbuf_init(&diff);
                sbuf_first_diff(&diff, old, pts.data);
                rc = grok_fail(e, GROK_EINVAL,
                               "'%s' holds another sweep: its points.tsv differs from this "
                               "sweep's points (%s); give another --out directory, or remove "
                               "'%s'",
                               dir, diff.data ? diff.data : "", dir);
                sbuf_free(&diff);
            }
            free(old);
        }
    }
    /* Started points must be continuable with the sweep's configs. */
    for (long i = 0; i < s->n_points && rc == GROK_OK; i++) {
        char name[SWEEP_PATH_MAX], pdir[SWEEP_PATH_MAX], st[SWEEP_PATH_MAX];
        if (sweep_point_name(s, i, name, sizeof name) != GROK_OK ||
            sweep_join(pdir, sizeof pdir, dir, name, e) != GROK_OK ||
            sweep_join(st, sizeof st, pdir, RUNDIR_STATE, e) != GROK_OK) {
            rc = grok_fail(e, GROK_EINVAL, "point %ld: path too long under '%s'", i, dir);
            break;
        }
        if (!fileio_exists(st))
            continue;
        cfg_run c;
        if ((rc = sweep_point_config(s, i, &c, e)) == GROK_OK)
            rc = sweep_check_started(pdir, name, &c, e);
    }
    if (rc == GROK_OK)
        rc = sweep_write_if_changed(path, &pts, e);
    sbuf_free(&pts);
    if (rc != GROK_OK)
        return rc;
    sbuf b;
    sbuf_init(&b);
    if ((rc = cfg_format(&s->base, &b)) != GROK_OK)
        rc = grok_fail(e, rc, "out of memory");
    else if ((rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_BASE, e)) == GROK_OK)
        rc = sweep_write_if_changed(path, &b, e);
    sbuf_clear(&b);
    if (rc == GROK_OK && (rc = sweep_format(s, &b)) != GROK_OK)
        rc = grok_fail(e, rc, "out of memory");
    else if (rc == GROK_OK &&
             (rc = sweep_join(path, sizeof path, dir, RUNDIR_SWEEP_CFG, e)) == GROK_OK)
        rc = sweep_write_if_changed(path, &b, e);
    sbuf_free(&b);
    return rc;
}
