/* cfg_check.c: checking a config (cfg_check in cfg.h): each key's value
 * against its own range in cfg_keys[], then the cross-field rules (div and
 * mix1 need a prime p, parity needs task.k <= task.n, the split leaves both
 * sets non-empty, batch <= training examples, tanh only for the mlp family,
 * n_heads * d_head bounded).  Messages come from cfg_format.c. */
#include "cfg_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* checking one value */

int cfg_double_ok(const cfg_key *k, double v)
{
    if (!isfinite(v))
        return 0;
    if ((k->open & CFG_LO_OPEN) ? !(v > k->dmin) : !(v >= k->dmin))
        return 0;
    if ((k->open & CFG_HI_OPEN) ? !(v < k->dmax) : !(v <= k->dmax))
        return 0;
    return 1;
}

/* Checks the value of k stored in c against k's own range. */
static int cfg_check_key(const cfg_run *c, const cfg_key *k, const cfg_origin *o,
                         const char *inc_dir, grok_err *e)
{
    int ok = 1;
    char what[128] = "";
    switch (k->type) {
    case CFG_U64:
    case CFG_INT:
    case CFG_LONG: {
        long long v = cfg_get_integer(c, k);
        if (k->type == CFG_U64 && v < 0)
            ok = 0;
        else
            ok = v >= k->imin && v <= k->imax;
        break;
    }
    case CFG_DOUBLE:
        ok = cfg_double_ok(k, cfg_get_double(c, k->off));
        break;
    case CFG_PAIR:
        ok = cfg_double_ok(k, cfg_get_double(c, k->off)) &&
             cfg_double_ok(k, cfg_get_double(c, k->off2));
        break;
    case CFG_BOOL:
    case CFG_ENUM: {
        int v = cfg_get_int(c, k->off);
        ok = v >= 0 && v < (k->type == CFG_BOOL ? 2 : k->en->count);
        break;
    }
    case CFG_STRING: {
        const char *s = (const char *)c + k->off;
        if (!memchr(s, '\0', k->smax)) {
            ok = 0;
            snprintf(what, sizeof what, "not NUL-terminated");
        } else {
            ok = k->scheck(s, what, sizeof what);
        }
        break;
    }
    }
    if (ok)
        return GROK_OK;
    sbuf val, must;
    sbuf_init(&val);
    sbuf_init(&must);
    if (k->type == CFG_STRING && strcmp(what, "not NUL-terminated") == 0)
        sbuf_puts(&val, "?");
    else
        cfg_fmt_value(&val, c, k, 0);
    if (k->type == CFG_STRING) {
        sbuf_printf(&must, "%s; valid: ", what);
        cfg_fmt_range(&must, k);
    } else if (k->type == CFG_ENUM || k->type == CFG_BOOL) {
        sbuf_puts(&must, "not a valid value; valid: ");
        cfg_fmt_range(&must, k);
    } else {
        cfg_fmt_must(&must, k);
    }
    int rc = cfg_fail(e, o, inc_dir, k->name, val.data ? val.data : "?", "%s",
                      must.data ? must.data : "");
    sbuf_free(&val);
    sbuf_free(&must);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* cross-field rules */

/* "task.p = 113, op 'add'": the task, for messages about its size. */
static void cfg_task_words(const task_config *t, char *buf, size_t n)
{
    if (t->kind == TASK_KIND_GROUP)
        snprintf(buf, n, "task.group = %s, group_op '%s'", group_id_name(t->group),
                 task_group_op_name(t->group_op));
    else if (t->kind == TASK_KIND_PARITY)
        snprintf(buf, n, "task.kind = 'parity', n_train = %d", t->n_train);
    else
        snprintf(buf, n, "task.p = %d, op '%s'", t->p, task_op_name(t->op));
}

static int cfg_cross_check(const cfg_run *c, const cfg_origin *org, const char *inc_dir,
                           grok_err *e)
{
    char val[64], words[96];
    const task_config *t = &c->task;
    int i_p = cfg_find_key("task.p"), i_frac = cfg_find_key("task.frac_train");
    int i_k = cfg_find_key("task.k");
    int i_batch = cfg_find_key("train.batch"), i_heads = cfg_find_key("model.n_heads");

    if (t->kind == TASK_KIND_MODULAR && task_op_needs_prime(t->op) && !task_is_prime(t->p)) {
        int below = t->p - 1, above = t->p + 1;
        while (below >= 2 && !task_is_prime(below))
            below--;
        while (above <= 1000 && !task_is_prime(above))
            above++;
        char near[64];
        if (below >= 2 && above <= 1000)
            snprintf(near, sizeof near, "%d or %d", below, above);
        else
            snprintf(near, sizeof near, "%d", below >= 2 ? below : above);
        snprintf(val, sizeof val, "%d", t->p);
        return cfg_fail(e, &org[i_p], inc_dir, "task.p", val,
                        "not prime, and task.op = '%s' needs a prime modulus (b^-1 mod p); "
                        "valid: a prime in 2..1000, nearest %s",
                        task_op_name(t->op), near);
    }
    if (t->kind == TASK_KIND_PARITY && t->k_bits > t->n_bits) {
        snprintf(val, sizeof val, "%d", t->k_bits);
        return cfg_fail(e, &org[i_k], inc_dir, "task.k", val,
                        "must be <= task.n = %d; valid: 1..%d", t->n_bits, t->n_bits);
    }

    task_shape shape;
    task_shape_of(t, &shape);
    long n_all = shape.n_all, n_train = shape.n_train;
    cfg_task_words(t, words, sizeof words);
    if (!(shape.caps & TASK_CAP_SAMPLED) && (n_train < 1 || n_train >= n_all)) {
        cfg_fmt_double(val, sizeof val, t->frac_train);
        return cfg_fail(e, &org[i_frac], inc_dir, "task.frac_train", val,
                        "gives %ld training and %ld test examples of %ld (%s); "
                        "each set needs at least one; valid: (0, 1) with frac_train * %ld >= 1",
                        n_train, n_all - n_train, n_all, words, n_all);
    }

    if (c->train.batch > n_train) {
        char frac[48] = "";
        if (!(shape.caps & TASK_CAP_SAMPLED))
            snprintf(frac, sizeof frac, ", frac_train = %g", t->frac_train);
        snprintf(val, sizeof val, "%ld", c->train.batch);
        return cfg_fail(e, &org[i_batch], inc_dir, "train.batch", val,
                        "more than the %ld training examples (%s%s); valid: 0 (full batch) or "
                        "1..%ld",
                        n_train, words, frac, n_train);
    }

    if (c->family == MODEL_TRANSFORMER &&
        ((int)c->model.act == MLP_ACT_TANH || (int)c->model.act == MLP_ACT_SQUARE))
        return cfg_fail(e, &org[cfg_find_key("model.act")], inc_dir, "model.act",
                        mlp_act_name((mlp_act)c->model.act),
                        "the transformer family takes relu or gelu; tanh and square need "
                        "model.family = \"mlp\"");

    if (c->family == MODEL_TRANSFORMER && !c->bias)
        return cfg_fail(e, &org[cfg_find_key("model.bias")], inc_dir, "model.bias", "false",
                        "a switch of the mlp family; the transformer's optional biases are "
                        "model.attn_bias");
    if (c->family != MODEL_TRANSFORMER && c->model.normed_residual)
        return cfg_fail(e, &org[cfg_find_key("model.normed_residual")], inc_dir,
                        "model.normed_residual", "true",
                        "a switch of the transformer's blocks; model.family = \"%s\" has none",
                        model_family_name(c->family));
    if (c->family == MODEL_TRANSFORMER && c->model.normed_residual && !c->model.layernorm)
        return cfg_fail(e, &org[cfg_find_key("model.normed_residual")], inc_dir,
                        "model.normed_residual", "true",
                        "needs model.layernorm = true (the residual it replaces is the "
                        "LayerNorm's output)");

    if (c->init.optim && !c->init.from[0])
        return cfg_fail(e, &org[cfg_find_key("init.optim")], inc_dir, "init.optim", "true",
                        "the optimizer state of which run? set init.from (grok train "
                        "--init-from RUN) or leave init.optim false");
    if (c->init.split && !c->init.from[0])
        return cfg_fail(e, &org[cfg_find_key("init.split")], inc_dir, "init.split", "true",
                        "the split of which run? set init.from (grok train --init-from RUN) or "
                        "leave init.split false");

    if (c->plots.to > 0 && !(c->plots.from < c->plots.to)) {
        snprintf(val, sizeof val, "%.9g", c->plots.to);
        return cfg_fail(e, &org[cfg_find_key("plots.to")], inc_dir, "plots.to", val,
                        "the epoch range is empty (plots.from = %.9g); valid: 0 (the last "
                        "epoch) or above plots.from",
                        c->plots.from);
    }

    long qkv = (long)c->model.n_heads * c->model.d_head;
    if (qkv > 16384) {
        snprintf(val, sizeof val, "%d", c->model.n_heads);
        return cfg_fail(e, &org[i_heads], inc_dir, "model.n_heads", val,
                        "n_heads * d_head = %ld with d_head = %d; valid: n_heads * d_head <= 16384",
                        qkv, c->model.d_head);
    }
    return GROK_OK;
}

int cfg_check_all(const cfg_run *c, const cfg_origin *org, const char *inc_dir,
                         grok_err *e)
{
    for (int i = 0; i < CFG_N_KEYS; i++) {
        int rc = cfg_check_key(c, &cfg_keys[i], &org[i], inc_dir, e);
        if (rc != GROK_OK)
            return rc;
    }
    return cfg_cross_check(c, org, inc_dir, e);
}

int cfg_check(const cfg_run *c, grok_err *e)
{
    cfg_origin org[CFG_N_KEYS];
    for (int i = 0; i < CFG_N_KEYS; i++)
        org[i] = (cfg_origin){"<config>", 0, 0};
    return cfg_check_all(c, org, NULL, e);
}
