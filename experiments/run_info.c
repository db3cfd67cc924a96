/* run_info.c: `grok info DIR` (run.h: run_info): a one-screen description of
 * a run directory from its config.cfg, split.tsv, state.safetensors,
 * summary.json, checkpoints and file list. */
#include "run_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rundir.h"
#include "safetensors.h"
#include "task.h"

static int run_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int run_info(const char *dir, sbuf *out, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, dir, "config.cfg", e);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path))
        return grok_fail(e, GROK_EINVAL, "'%s' is not a run directory: it has no config.cfg", dir);
    int unchecked = 0;
    if ((rc = run_verify_use(dir, &unchecked, e)) != GROK_OK)
        return rc;
    cfg_run c;
    if ((rc = cfg_load(&c, path, NULL, 0, e)) != GROK_OK)
        return rc;
    task_data t;
    if ((rc = task_init(&t, &c.task, c.seed, e)) != GROK_OK)
        return rc;
    if ((rc = measure_split_read(&t, dir, e)) != GROK_OK) {
        task_free(&t);
        return rc;
    }
    const tfm_config *mc = &c.model;
    sbuf_printf(out, "run          %s\n", dir);
    char task[128], frac[48] = "";
    task_describe(&c.task, task, sizeof task);
    if (!(t.caps & TASK_CAP_SAMPLED))
        snprintf(frac, sizeof frac, ", frac_train %g", c.task.frac_train);
    sbuf_printf(out, "task         %s%s: %d train / %d test examples; seed %" PRIu64 "\n", task,
                frac, t.n_train, t.n_test, c.seed);
    task_free(&t);
    char attn[48] = "";
    if (c.attn_rate != 1)
        snprintf(attn, sizeof attn, ", attn_rate %g", c.attn_rate);
    if (c.family == MODEL_MLP && c.mlp.combine == MLP_COMBINE_ONEHOT)
        sbuf_printf(out, "model        mlp: one-hot input, %d hidden layer%s of %d, %s%s\n",
                    mc->n_layers, mc->n_layers == 1 ? "" : "s", c.mlp.d_hidden,
                    mlp_act_name((mlp_act)mc->act), c.bias ? "" : ", no biases");
    else if (c.family == MODEL_MLP)
        sbuf_printf(out, "model        mlp: d_embed %d (%s), %d hidden layer%s of %d, %s%s\n",
                    c.mlp.d_embed, mlp_combine_name(c.mlp.combine), mc->n_layers,
                    mc->n_layers == 1 ? "" : "s", c.mlp.d_hidden,
                    mlp_act_name((mlp_act)mc->act), c.bias ? "" : ", no biases");
    else
        sbuf_printf(out,
                    "model        %d layer%s, d_model %d, %d heads x d_head %d, d_mlp %d, %s, "
                    "%s%s%s%s\n",
                    mc->n_layers, mc->n_layers == 1 ? "" : "s", mc->d_model, mc->n_heads,
                    mc->d_head, mc->d_mlp, tfm_act_name(mc->act),
                    mc->layernorm ? (mc->normed_residual ? "layernorm (normed residual)"
                                                         : "layernorm")
                                  : "no layernorm",
                    mc->attn_bias ? ", attention biases" : "",
                    c.causal ? "" : ", no causal mask", attn);
    if (c.model.init_scheme != PARAM_INIT_GAUSSIAN || c.model.init_scale != 1.0)
        sbuf_printf(out, "init         %s, init_scale %g\n",
                    param_init_scheme_name(c.model.init_scheme), c.model.init_scale);
    if (c.loss.kind != LOSS_SOFTMAX_CE || c.loss.f32)
        sbuf_printf(out, "loss         %s%s\n", loss_kind_name(c.loss.kind),
                    c.loss.f32 ? " in float32" : "");
    sbuf_printf(out, "optim        %s, lr %g, weight_decay %g, betas (%g, %g), warmup %ld\n",
                optim_kind_name(c.optim.kind), c.optim.lr, c.optim.weight_decay, c.optim.beta1,
                c.optim.beta2, c.optim.warmup);
    char batch[32] = "full batch";
    if (c.train.batch > 0)
        snprintf(batch, sizeof batch, "batch %ld", c.train.batch);
    sbuf_printf(out, "train        %ld epochs, %s, eval every %ld\n", c.train.epochs, batch,
                c.train.eval_every);

    /* State: progress and history. */
    if ((rc = run_path(path, dir, "state.safetensors", e)) != GROK_OK)
        return rc;
    long *ck = NULL;
    int n_ck = 0;
    if (rundir_ckpt_list(dir, &ck, &n_ck, NULL) != GROK_OK)
        n_ck = 0;
    long last_ck = n_ck > 0 ? ck[n_ck - 1] : -1;
    free(ck);
    rundir_summary imp = {NULL};
    rundir_summary_read(&imp, dir, NULL);
    const char *imp_status = rundir_summary_str(&imp, "status");
    const int imported = !fileio_exists(path) && imp_status && strcmp(imp_status, "imported") == 0;
    rundir_summary_free(&imp);
    if (imported) {
        sbuf_printf(out, "status       imported (grok import: weights trained elsewhere, no "
                         "optimizer state); to train on: 'grok train %s/config.cfg --init-from "
                         "%s@%ld --out NEWDIR'\n",
                    dir, dir, last_ck);
    } else if (!fileio_exists(path) && n_ck > 1) {
        /* not the leftovers of a first commit: resume would refuse it */
        sbuf_printf(out, "status       no state.safetensors but %d checkpoints: not a run that "
                         "resume can continue bit for bit; to train on from the weights: 'grok train "
                         "%s/config.cfg --init-from %s@%ld --out NEWDIR'\n",
                    n_ck, dir, dir, last_ck);
    } else if (!fileio_exists(path)) {
        sbuf_printf(out, "status       no state.safetensors yet (stopped before its first "
                         "commit); 'grok resume %s' starts it again from scratch\n",
                    dir);
    } else {
        st_file f;
        if ((rc = st_read(&f, path, e)) != GROK_OK)
            return rc;
        /* the same checks as resume's: one element each for epoch and
         * elapsed_s (a zero-length tensor would read its neighbours' bytes) */
        const void *pe, *pw, *ph;
        const st_tensor *th = st_find(&f, "metrics");
        const char *st = st_meta_get(&f, "status");
        if ((rc = run_state_tensor(&f, path, "epoch", ST_I64, 0, 1, &pe, e)) != GROK_OK ||
            (rc = run_state_tensor(&f, path, "elapsed_s", ST_F64, 0, 1, &pw, e)) != GROK_OK ||
            (rc = run_state_tensor(&f, path, "metrics", ST_F64, 2, (size_t)-1, &ph, e)) !=
                GROK_OK) {
            st_file_free(&f);
            return rc;
        }
        if (th->shape[1] != RUN_METRICS_COLS) {
            st_file_free(&f);
            return grok_fail(e, GROK_EFORMAT, "%s: tensor 'metrics' has %" PRId64 " columns, not "
                             "%d; the file is not a grok state", path, th->shape[1],
                             RUN_METRICS_COLS);
        }
        int64_t ep;
        double wall;
        memcpy(&ep, pe, sizeof ep);
        memcpy(&wall, pw, sizeof wall);
        size_t n_rows = (size_t)th->shape[0];
        const double *h = th->data;
        long mem, grk;
        run_solved_epochs(h, n_rows, &mem, &grk);
        rundir_summary sum = {NULL};
        rundir_summary_read(&sum, dir, NULL); /* absent or unreadable: nothing from it */
        const char *sstatus = rundir_summary_str(&sum, "status"),
                   *kernel = rundir_summary_str(&sum, "blis_kernel");
        long threads = rundir_summary_epoch(&sum, "threads");
        if (sstatus && strcmp(sstatus, "diverged") == 0) /* summary.json is newer than the state */
            sbuf_printf(out, "status       diverged: the loss became non-finite at epoch %ld (see "
                             "log.txt); last good state: epoch %" PRId64 " of %ld\n",
                        rundir_summary_epoch(&sum, "epochs_done"), ep, c.train.epochs);
        else if (st && strcmp(st, "running") == 0)
            sbuf_printf(out,
                        "status       incomplete: %" PRId64 " of %ld epochs done; 'grok resume "
                        "%s' continues it\n",
                        ep, c.train.epochs, dir);
        else
            sbuf_printf(out, "status       %s: %" PRId64 " of %ld epochs done\n", st ? st : "?", ep,
                        c.train.epochs);
        if (mem >= 0)
            sbuf_printf(out, "memorised    epoch %ld (train acc >= %.2f)\n", mem, RUN_SOLVED_ACC);
        else
            sbuf_printf(out, "memorised    not yet\n");
        if (grk >= 0)
            sbuf_printf(out, "grokked      epoch %ld (test acc >= %.2f)\n", grk, RUN_SOLVED_ACC);
        else
            sbuf_printf(out, "grokked      not yet\n");
        if (n_rows) {
            const double *l = h + (n_rows - 1) * RUN_METRICS_COLS;
            sbuf_printf(
                out,
                "last eval    epoch %ld: train loss %.4g acc %.2f%%, test loss %.4g acc %.2f%%\n",
                (long)l[COL_EPOCH], l[COL_TRAIN_LOSS], 100 * l[COL_TRAIN_ACC], l[COL_TEST_LOSS],
                100 * l[COL_TEST_ACC]);
        }
        sbuf_printf(out, "wall time    %.1f s", wall);
        if (ep > 0)
            sbuf_printf(out, " (%.3f ms/epoch)", 1000.0 * wall / (double)ep);
        if (threads >= 0)
            sbuf_printf(out, ", %ld thread%s, BLIS %s", threads, threads != 1 ? "s" : "",
                        kernel ? kernel : "?");
        sbuf_puts(out, "\n");
        rundir_summary_free(&sum);
        st_file_free(&f);
    }

    /* Checkpoints. */
    long *ckpt = NULL;
    int n_ckpt = 0;
    if (rundir_ckpt_list(dir, &ckpt, &n_ckpt, NULL) == GROK_OK && n_ckpt > 0)
        sbuf_printf(out, "checkpoints  %d (epochs %ld .. %ld) in %s/checkpoints\n", n_ckpt, ckpt[0],
                    ckpt[n_ckpt - 1], dir);
    else
        sbuf_printf(out, "checkpoints  none\n");
    free(ckpt);

    /* Files. */
    DIR *d = opendir(dir);
    if (!d)
        return grok_fail(e, GROK_EIO, "cannot list '%s': %s", dir, strerror(errno));
    char *names[256];
    int n_names = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n_names < 256) {
        if (de->d_name[0] == '.')
            continue;
        names[n_names] = strdup(de->d_name);
        if (names[n_names])
            n_names++;
    }
    closedir(d);
    qsort(names, (size_t)n_names, sizeof names[0], run_name_cmp);
    sbuf_puts(out, "files       ");
    for (int i = 0; i < n_names; i++) {
        struct stat st;
        if (run_path(path, dir, names[i], NULL) == GROK_OK && stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                sbuf_printf(out, " %s/", names[i]);
            else if (st.st_size >= 1 << 20)
                sbuf_printf(out, " %s (%.1f MB)", names[i], (double)st.st_size / (1 << 20));
            else
                sbuf_printf(out, " %s (%.1f kB)", names[i], (double)st.st_size / 1024);
        }
        free(names[i]);
    }
    sbuf_puts(out, "\n");
    sbuf_printf(out, "checksums    %s\n",
                unchecked ? "intact; some files carry no checksum (written before checksums): "
                            "accepted" : "intact ('grok verify DIR' checks them again)");
    if (out->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory describing '%s'", dir);
    return GROK_OK;
}
