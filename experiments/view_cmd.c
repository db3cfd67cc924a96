/* view_cmd.c: `grok view` (view_cmd.h): flags, the per-checkpoint views
 * drawn in a scratch directory, the page written by notebooks_export/view.c.
 *
 * Per chosen checkpoint E the scratch directory DIR/.view-XXXXXX/epoch-E
 * gets what the run figures' recipes read for that checkpoint alone: the
 * run's config.cfg and summary.json (so clusters and tics follow the run's
 * final key frequencies, the same on every frame), the row of E of
 * fourier_embed.tsv, and the final-checkpoint files computed on E
 * (measure_checkpoint_files).  plot_run_dir then draws the chosen views
 * there; a view a checkpoint cannot draw is a gap in the slider, named in
 * the notes.  The scratch directory is removed whatever happens. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "view_cmd.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "export_cmd.h"
#include "fileio.h"
#include "grok.h"
#include "measure.h"
#include "plot.h"
#include "progress.h"
#include "rundir.h"
#include "view.h"

/* The figures that can be drawn per checkpoint (--views). */
static const char *const view_cmd_views[] = {"fourier_embed", "neurons",   "attention",
                                             "logit_spectrum", "embed_circles", "logit_sd"};
#define VIEW_CMD_N_VIEWS ((int)(sizeof view_cmd_views / sizeof view_cmd_views[0]))

int view_cmd_spread(const long *epochs, int n, int max, int *idx)
{
    if (n <= 0 || max <= 0)
        return 0;
    if (n <= max) {
        for (int i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    if (max == 1) {
        idx[0] = n - 1;
        return 1;
    }
    /* the checkpoint nearest each of max evenly spaced epochs */
    int k = 0, near = 0;
    double e0 = (double)epochs[0], e1 = (double)epochs[n - 1];
    for (int i = 0; i < max; i++) {
        double target = e0 + (e1 - e0) * (double)i / (double)(max - 1);
        while (near + 1 < n && fabs((double)epochs[near + 1] - target) <=
                                   fabs((double)epochs[near] - target))
            near++;
        if (k == 0 || near > idx[k - 1])
            idx[k++] = near;
    }
    return k;
}

static void view_cmd_help(FILE *f)
{
    fprintf(f,
            "usage: %s\n  %s\n\n"
            "Writes DIR/view.html (or --out FILE): one HTML file, no server or network needed.\n"
            "It holds summary.json as a table, the curves of metrics.tsv and measures.tsv\n"
            "(drag to zoom, double-click to zoom out), a slider over checkpoints showing the\n"
            "per-checkpoint views, and every figure of DIR/figures (drawn first when\n"
            "figures/index.tsv is missing).\n\n"
            "  --epochs LIST   the checkpoints on the slider: a comma list of epochs, \"last\"\n"
            "  --max N         else at most N evenly spaced checkpoints (default %d)\n"
            "  --views LIST    per-checkpoint views (default %s);\n"
            "                  valid: fourier_embed, neurons, attention, logit_spectrum,\n"
            "                  embed_circles, logit_sd\n"
            "  --format F      the views as svg (default) or png\n"
            "  --out FILE      the page's path (default DIR/view.html)\n"
            "  --threads N     threads of the measure pass\n"
            "  --quiet         no progress lines\n\n"
            "The page opens at the last checkpoint; DIR/view.html#ckpt=K or #epoch=E opens\n"
            "it at slider position K (from 0) or at the checkpoint nearest epoch E.\n",
            VIEW_CMD_USAGE, VIEW_CMD_ABOUT, VIEW_CMD_DEFAULT_MAX, VIEW_CMD_DEFAULT_VIEWS);
}

static int view_cmd_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "grok: view: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\nusage: %s\n", VIEW_CMD_USAGE);
    return 2;
}

static int view_cmd_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Copies dir/name into sub/name when it exists. */
static int view_cmd_copy(const char *dir, const char *sub, const char *name, grok_err *e)
{
    char *text = NULL;
    int rc = rundir_read_opt(dir, name, &text, e);
    if (rc <= 0)
        return rc;
    char *to = rundir_join(sub, name);
    rc = to ? fileio_write_atomic(to, text, strlen(text), e)
            : grok_fail(e, GROK_ENOMEM, "view: out of memory");
    free(to);
    free(text);
    return rc;
}

/* sub/fourier_embed.tsv: the header of dir's and its row of epoch (none
 * when it has no such row: the figure is then skipped for E). */
static int view_cmd_embed_row(const char *dir, const char *sub, long epoch, grok_err *e)
{
    char *text = NULL;
    int rc = rundir_read_opt(dir, RUNDIR_FOURIER_EMBED, &text, e);
    if (rc <= 0)
        return rc;
    sbuf out;
    sbuf_init(&out);
    int header = 0, found = 0;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] == '#' || len == 0) {
            /* comments and blank lines are not rows */
        } else if (!header) {
            sbuf_append(&out, line, len);
            sbuf_puts(&out, "\n");
            header = 1;
        } else {
            char *q;
            long ep = strtol(line, &q, 10);
            if (q != line && (*q == '\t' || *q == '\n' || *q == '\0') && ep == epoch && !found) {
                sbuf_append(&out, line, len);
                sbuf_puts(&out, "\n");
                found = 1;
            }
        }
        line += len + (end ? 1 : 0);
    }
    free(text);
    rc = GROK_OK;
    if (found) {
        char *to = rundir_join(sub, RUNDIR_FOURIER_EMBED);
        rc = !to || out.oom ? grok_fail(e, GROK_ENOMEM, "view: out of memory")
                            : fileio_write_atomic(to, out.data, out.len, e);
        free(to);
    }
    sbuf_free(&out);
    return rc;
}

/* The views of checkpoint epoch drawn into scratch/epoch-NNNNNN/figures. */
static int view_cmd_frame(const char *dir, const char *sub, long epoch, const char *fmt,
                          char *const *views, int n_views, sbuf *notes, grok_err *e)
{
    int rc = fileio_mkdir_p(sub, e);
    if (rc == GROK_OK)
        rc = view_cmd_copy(dir, sub, RUNDIR_CONFIG, e);
    if (rc == GROK_OK)
        rc = view_cmd_copy(dir, sub, RUNDIR_SUMMARY, e);
    if (rc == GROK_OK)
        rc = view_cmd_embed_row(dir, sub, epoch, e);
    if (rc == GROK_OK)
        rc = measure_checkpoint_files(dir, epoch, sub, e);
    sbuf fig_notes;
    sbuf_init(&fig_notes);
    for (int v = 0; v < n_views && rc == GROK_OK; v++) {
        sbuf_clear(&fig_notes);
        rc = plot_run_dir(sub, fmt, views[v], &fig_notes, e);
        /* only the skips are news (the summary line names the scratch folder) */
        for (const char *p = fig_notes.data; rc == GROK_OK && p && *p;) {
            const char *end = strchr(p, '\n');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (strncmp(p, "plots:", 6) != 0)
                sbuf_printf(notes, "view: epoch %ld: %.*s\n", epoch, (int)len, p);
            p += len + (end ? 1 : 0);
        }
    }
    sbuf_free(&fig_notes);
    return rc;
}

/* Splits a comma list into malloc'ed words. */
static int view_cmd_words(const char *list, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    int cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    char **w = calloc((size_t)cap, sizeof *w);
    if (!w)
        return -1;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && !(w[*n] = strndup(p, len))) {
            rundir_list_free(w, *n);
            return -1;
        }
        *n += len > 0;
        p += len + (p[len] == ',');
    }
    *out = w;
    return 0;
}

int view_cmd_main(int argc, char **argv, blisarch_info *bi)
{
    const char *dir = NULL, *epochs_arg = NULL, *views_arg = VIEW_CMD_DEFAULT_VIEWS,
               *fmt = "svg", *out = NULL;
    long max = VIEW_CMD_DEFAULT_MAX, threads = 0;
    int quiet = 0, have_max = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            view_cmd_help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if ((m = cli_opt(argc, argv, &i, "--epochs", &v)) != 0) {
            if (m < 0 || !v[0])
                return view_cmd_usage("--epochs needs a list, e.g. --epochs 0,1000,last", NULL);
            epochs_arg = v;
        } else if ((m = cli_opt(argc, argv, &i, "--max", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, 10000, &max) != 0)
                return view_cmd_usage("--max needs a number of checkpoints in 1..10000, not '%s'",
                                      m < 0 ? "" : v);
            have_max = 1;
        } else if ((m = cli_opt(argc, argv, &i, "--views", &v)) != 0) {
            if (m < 0 || !v[0])
                return view_cmd_usage("--views needs a list, e.g. --views neurons,attention",
                                      NULL);
            views_arg = v;
        } else if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0 || (strcmp(v, "svg") && strcmp(v, "png")))
                return view_cmd_usage("--format is svg or png, not '%s'", m < 0 ? "" : v);
            fmt = v;
        } else if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || !v[0])
                return view_cmd_usage("--out needs a file name%s", NULL);
            out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, 1024, &threads) != 0)
                return view_cmd_usage("--threads needs a number in 1..1024, not '%s'",
                                      m < 0 ? "" : v);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return view_cmd_usage("unknown option '%s'; valid: --epochs, --max, --views, "
                                  "--format, --out, --threads, --quiet, --help",
                                  argv[i]);
        } else if (dir) {
            return view_cmd_usage("one run directory at a time; '%s' is one too many", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return view_cmd_usage("which run directory?%s", NULL);
    if (epochs_arg && have_max)
        return view_cmd_usage("--epochs and --max do not go together%s", NULL);

    char **views = NULL;
    int n_views = 0;
    if (view_cmd_words(views_arg, &views, &n_views) != 0) {
        fprintf(stderr, "grok: view: out of memory\n");
        return 1;
    }
    for (int v = 0; v < n_views; v++) {
        int ok = 0;
        for (int k = 0; k < VIEW_CMD_N_VIEWS; k++)
            ok |= !strcmp(views[v], view_cmd_views[k]);
        if (!ok) {
            fprintf(stderr, "grok: view: unknown view \"%s\" in --views: valid views are "
                            "fourier_embed, neurons, attention, logit_spectrum, embed_circles, "
                            "logit_sd\n", views[v]);
            rundir_list_free(views, n_views);
            return 2;
        }
    }

    grok_err e = {{0}};
    int rc = GROK_OK, code = 0;
    long *ck = NULL, *chosen = NULL;
    int n_ck = 0, n_chosen = 0, *idx = NULL;
    char scratch[4096] = "";
    char **files = NULL;
    sbuf notes;
    sbuf_init(&notes);
    progress pg;
    progress_init(&pg, quiet ? NULL : stderr, NULL, 0, 0);

    if (!rundir_has(dir, RUNDIR_CONFIG)) {
        fprintf(stderr, "grok: view: '%s' is not a run directory (no %s)\n", dir, RUNDIR_CONFIG);
        code = 2;
        goto out;
    }
    if ((rc = rundir_ckpt_list(dir, &ck, &n_ck, &e)) != GROK_OK)
        goto fail;
    if (!(idx = calloc((size_t)n_ck + 1, sizeof *idx)) ||
        !(chosen = calloc((size_t)n_ck + 1, sizeof *chosen))) {
        rc = grok_fail(&e, GROK_ENOMEM, "out of memory");
        goto fail;
    }
    if (epochs_arg) {
        long want[EXPORT_CMD_MAX_EPOCHS > 4096 ? 4096 : EXPORT_CMD_MAX_EPOCHS];
        int n_want = 0;
        char why[256];
        if (export_cmd_parse_epochs(epochs_arg, want, (int)(sizeof want / sizeof want[0]),
                                    &n_want, why, sizeof why) != 0) {
            fprintf(stderr, "grok: view: --epochs: %s\n", why);
            code = 2;
            goto out;
        }
        for (int w = 0; w < n_want; w++) {
            int at = -1;
            for (int c = 0; c < n_ck; c++)
                if (ck[c] == want[w] || (want[w] == EXPORT_LAST && c == n_ck - 1))
                    at = c;
            if (at < 0) {
                fprintf(stderr, "grok: view: --epochs: %s has no checkpoint at epoch %ld (%d "
                                "checkpoints, epochs %ld..%ld)\n",
                        dir, want[w], n_ck, n_ck ? ck[0] : 0, n_ck ? ck[n_ck - 1] : 0);
                code = 2;
                goto out;
            }
            int dup = 0;
            for (int k = 0; k < n_chosen; k++)
                dup |= idx[k] == at;
            if (!dup)
                idx[n_chosen++] = at;
        }
        /* slider order: ascending epochs */
        for (int a = 1; a < n_chosen; a++)
            for (int b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
                int t = idx[b];
                idx[b] = idx[b - 1];
                idx[b - 1] = t;
            }
    } else {
        n_chosen = view_cmd_spread(ck, n_ck, (int)max, idx);
    }
    for (int c = 0; c < n_chosen; c++)
        chosen[c] = ck[idx[c]];

    /* the run's figures, when they were never drawn */
    if (!rundir_has(dir, RUNDIR_FIGURE_INDEX)) {
        progress_event(&pg, "view: drawing the figures of %s (no %s)", dir, RUNDIR_FIGURE_INDEX);
        grok_err pe = {{0}};
        if (plot_run_dir(dir, "png", NULL, &notes, &pe) != GROK_OK)
            sbuf_printf(&notes, "view: figures: %s\n", pe.msg);
    }

    if (n_chosen > 0 && n_views > 0) {
        blisarch_start(bi, (int)threads);
        int len = snprintf(scratch, sizeof scratch, "%s/.view-XXXXXX", dir);
        if (len < 0 || (size_t)len >= sizeof scratch) {
            scratch[0] = '\0';
            rc = grok_fail(&e, GROK_EINVAL, "path too long: %s", dir);
            goto fail;
        }
        if (!mkdtemp(scratch)) {
            rc = grok_fail(&e, GROK_EIO, "cannot create a scratch directory %s: %s", scratch,
                           strerror(errno));
            scratch[0] = '\0';
            goto fail;
        }
        if (!(files = calloc((size_t)n_chosen * (size_t)n_views, sizeof *files))) {
            rc = grok_fail(&e, GROK_ENOMEM, "out of memory");
            goto fail;
        }
    }
    double t0 = progress_now();
    for (int c = 0; c < n_chosen && n_views > 0; c++) {
        char sub[4200], ep_name[96];
        rundir_ckpt_name(ep_name, sizeof ep_name, chosen[c]);
        snprintf(sub, sizeof sub, "%s/%s", scratch, strrchr(ep_name, '/') + 1);
        char *dot = strstr(sub + strlen(scratch), ".safetensors");
        if (dot)
            *dot = '\0';
        if ((rc = view_cmd_frame(dir, sub, chosen[c], fmt, views, n_views, &notes, &e)) !=
            GROK_OK)
            goto fail;
        int drawn = 0;
        for (int v = 0; v < n_views; v++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s/%s.%s", sub, RUNDIR_FIGURES, views[v], fmt);
            if (fileio_exists(path)) {
                if (!(files[(size_t)c * (size_t)n_views + (size_t)v] = strdup(path))) {
                    rc = grok_fail(&e, GROK_ENOMEM, "out of memory");
                    goto fail;
                }
                drawn++;
            }
        }
        double dt = progress_now() - t0;
        char line[256];
        snprintf(line, sizeof line,
                 "view: checkpoint %d/%d (epoch %ld): %d of %d views drawn, %.1f s, ETA %.0f s",
                 c + 1, n_chosen, chosen[c], drawn, n_views, dt, dt / (c + 1) * (n_chosen - c - 1));
        if (pg.out && pg.tty) { /* one line rewritten in place on a terminal */
            fprintf(pg.out, "\r%s\033[K%s", line, c + 1 == n_chosen ? "\n" : "");
            fflush(pg.out);
        } else {
            progress_event(&pg, "%s", line);
        }
    }

    const char *captions[VIEW_CMD_N_VIEWS];
    int n_figs;
    const plot_figure *figs = plot_figures(&n_figs);
    for (int v = 0; v < n_views && v < VIEW_CMD_N_VIEWS; v++) {
        captions[v] = NULL;
        for (int k = 0; k < n_figs; k++)
            if (!strcmp(figs[k].name, views[v]))
                captions[v] = figs[k].caption;
    }
    view_frames fr = {n_chosen, chosen, n_views, (const char *const *)views, captions,
                      (const char *const *)files};
    view_result res;
    rc = view_write(dir, out, &fr, &notes, &res, &e);
    if (rc != GROK_OK)
        goto fail;
    if (!quiet)
        fputs(notes.data ? notes.data : "", stderr);
    printf("view: wrote %s%s%s (%.1f MB: %d charts, %d checkpoints x %d views, %d images, %d "
           "figures)\n",
           out ? out : dir, out ? "" : "/", out ? "" : VIEW_PAGE, (double)res.bytes / 1e6,
           res.n_curves, n_chosen, n_views, res.n_frames, res.n_figures);
    goto out;

fail:
    fprintf(stderr, "grok: view: %s\n", e.msg);
    code = rc == GROK_EINVAL ? 2 : 1;
out:
    if (scratch[0])
        nftw(scratch, view_cmd_rm, 16, FTW_DEPTH | FTW_PHYS);
    for (int k = 0; files && k < n_chosen * n_views; k++)
        free(files[k]);
    free(files);
    rundir_list_free(views, n_views);
    sbuf_free(&notes);
    free(ck);
    free(idx);
    free(chosen);
    return code;
}
