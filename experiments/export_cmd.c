/* export_cmd.c: `grok export`, declared in export_cmd.h.  Flag parsing and
 * printing only (with the progress line of progress.h); the exports are
 * notebooks_export/export.c's. */
#include "export_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "grok.h"
#include "progress.h"
#include "run.h"

static void export_cmd_help(FILE *f)
{
    fprintf(f,
            "usage: %s\n  %s\n\n"
            "  --to ipynb        a Jupyter notebook telling the run's story: summary table,\n"
            "                    figures, pandas tables, a NumPy checkpoint reader and forward\n"
            "                    pass checked against metrics.tsv, TransformerLens loading.\n"
            "                    Default DIR/" EXPORT_IPYNB_NAME
            "; for a sweep directory (sweep.tsv)\n"
            "                    one notebook over the sweep, DIR/" EXPORT_SWEEP_IPYNB_NAME "\n"
            "  --to npz          every checkpoint as one NumPy archive, default DIR/" EXPORT_NPZ_NAME
            ":\n"
            "                    one array per parameter stacked over checkpoints (TransformerLens\n"
            "                    names), 'epochs', 'metrics.<column>', 'measures.<column>',\n"
            "                    'meta.<key>'; numpy.load reads it\n"
            "  --to safetensors  one file per checkpoint with TransformerLens names and a\n"
            "                    'tl_config' metadata entry, default DIR/" EXPORT_SAFETENSORS_DIR
            "/\n"
            "  --epochs LIST     npz and safetensors: only these checkpoints, e.g. 0,1000,last\n"
            "  --out PATH        the output file (ipynb, npz) or directory (safetensors)\n\n"
            "Every checkpoint used is checked first; bad input writes nothing.\n",
            EXPORT_CMD_USAGE, EXPORT_CMD_ABOUT);
}

/* Prints "grok: export: <message>" and the usage; returns 2. */
static int export_cmd_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int export_cmd_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "grok: export: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", EXPORT_CMD_USAGE);
    va_end(ap);
    return 2;
}

int export_cmd_parse_epochs(const char *list, long *epochs, int max, int *n, char *why,
                            size_t why_n)
{
    *n = 0;
    const char *p = list;
    if (!*p) {
        snprintf(why, why_n, "the list is empty");
        return -1;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item) {
            snprintf(why, why_n, "'%.*s' is not an epoch", (int)(len < 24 ? len : 24), p);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        long v;
        if (strcmp(item, "last") == 0) {
            v = EXPORT_LAST;
        } else {
            char *end;
            errno = 0;
            v = strtol(item, &end, 10);
            if (errno || *end || item[0] < '0' || item[0] > '9' || v < 0) {
                snprintf(why, why_n, "'%s' is not an epoch (a whole number >= 0, or 'last')",
                         item);
                return -1;
            }
        }
        if (*n >= max) {
            snprintf(why, why_n, "more than %d epochs", max);
            return -1;
        }
        epochs[(*n)++] = v;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* "812 KB" */
static void export_cmd_size(char *buf, size_t n, size_t bytes)
{
    if (bytes >= (size_t)10 << 20)
        snprintf(buf, n, "%.0f MB", (double)bytes / (1 << 20));
    else if (bytes >= (size_t)10 << 10)
        snprintf(buf, n, "%.0f KB", (double)bytes / (1 << 10));
    else
        snprintf(buf, n, "%zu bytes", bytes);
}

int export_cmd_main(int argc, char **argv)
{
    const char *dir = NULL, *to = NULL, *out = NULL, *epochs_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int m;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            export_cmd_help(stdout);
            return 0;
        } else if ((m = cli_opt(argc, argv, &i, "--to", &v)) != 0) {
            if (m < 0)
                return export_cmd_usage_error("--to needs a format: ipynb, npz or safetensors");
            to = v;
        } else if ((m = cli_opt(argc, argv, &i, "--epochs", &v)) != 0) {
            if (m < 0)
                return export_cmd_usage_error("--epochs needs a list, e.g. --epochs 0,1000,last");
            epochs_arg = v;
        } else if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || !v[0])
                return export_cmd_usage_error("--out needs a path");
            out = v;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr,
                    "grok: export: unknown option '%s'; valid: --to, --epochs, --out, --help\n"
                    "usage: %s\n",
                    arg, EXPORT_CMD_USAGE);
            return 2;
        } else if (dir) {
            fprintf(stderr,
                    "grok: export: unexpected argument '%s' (already have '%s')\nusage: %s\n",
                    arg, dir, EXPORT_CMD_USAGE);
            return 2;
        } else {
            dir = arg;
        }
    }
    if (!dir)
        return export_cmd_usage_error("which run directory?");
    if (!to)
        return export_cmd_usage_error("--to is required: ipynb, npz or safetensors");
    enum { TO_IPYNB, TO_NPZ, TO_ST } kind;
    if (!strcmp(to, "ipynb"))
        kind = TO_IPYNB;
    else if (!strcmp(to, "npz"))
        kind = TO_NPZ;
    else if (!strcmp(to, "safetensors"))
        kind = TO_ST;
    else
        return export_cmd_usage_error("--to '%s': valid formats are ipynb, npz, safetensors", to);

    long *epochs = NULL;
    int n_epochs = 0;
    if (epochs_arg) {
        if (kind == TO_IPYNB)
            return export_cmd_usage_error("--epochs applies to npz and safetensors; the notebook "
                                          "reads every checkpoint itself");
        epochs = malloc(EXPORT_CMD_MAX_EPOCHS * sizeof *epochs);
        if (!epochs) {
            fprintf(stderr, "grok: export: out of memory\n");
            return 1;
        }
        char why[160];
        if (export_cmd_parse_epochs(epochs_arg, epochs, EXPORT_CMD_MAX_EPOCHS, &n_epochs, why,
                                    sizeof why) != 0) {
            free(epochs);
            fprintf(stderr, "grok: export: --epochs %s: %s\nusage: %s\n", epochs_arg, why,
                    EXPORT_CMD_USAGE);
            return 2;
        }
    }

    progress_task task;
    progress_task_start(&task, stderr, "export", "steps", 0);
    const grok_progress hook = progress_task_hook(&task);
    export_opts o = {.epochs = epochs, .n_epochs = n_epochs, .out = out, .progress = &hook};
    export_result res;
    grok_err e = {{0}};
    int unchecked = 0, rc = run_verify_use(dir, &unchecked, &e);
    if (rc != GROK_OK) {
        free(epochs);
        fprintf(stderr, "grok: export: %s\n", e.msg);
        return rc == GROK_EINVAL ? 2 : 1;
    }
    if (unchecked > 0)
        fprintf(stderr, "grok: export: note: %d file%s of %s carr%s no checksum (written before "
                        "checksums); accepted\n",
                unchecked, unchecked == 1 ? "" : "s", dir, unchecked == 1 ? "ies" : "y");
    rc = kind == TO_IPYNB ? export_ipynb(dir, &o, &res, &e)
             : kind == TO_NPZ ? export_npz(dir, &o, &res, &e)
                              : export_safetensors(dir, &o, &res, &e);
    progress_task_end(&task);
    free(epochs);
    if (rc != GROK_OK) {
        fprintf(stderr, "grok: export: %s%s\n", e.msg,
                rc == GROK_EINVAL || rc == GROK_EFORMAT ? " (nothing written)" : "");
        return rc == GROK_EINVAL ? 2 : 1;
    }
    char size[32];
    export_cmd_size(size, sizeof size, res.bytes);
    if (kind == TO_IPYNB && res.n_runs > 0)
        printf("wrote %s: the sweep's %d runs, %d figure%s (%s)\n", res.path, res.n_runs,
               res.n_figures, res.n_figures == 1 ? "" : "s", size);
    else if (kind == TO_IPYNB)
        printf("wrote %s: %d figure%s, %d checkpoints read by its code (%s); run it with "
               "jupyter nbconvert --to notebook --execute %s\n",
               res.path, res.n_figures, res.n_figures == 1 ? "" : "s", res.n_checkpoints, size,
               res.path);
    else if (kind == TO_NPZ)
        printf("wrote %s: %d checkpoints (%s); numpy.load('%s')\n", res.path, res.n_checkpoints,
               size, res.path);
    else
        printf("wrote %d checkpoints into %s (%s)\n", res.n_checkpoints, res.path, size);
    return 0;
}
