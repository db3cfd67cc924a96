/* import_cmd.c: `grok import`, declared in import_cmd.h.  Flag parsing and
 * exit codes only; the import is run_import.c's (run.h). */
#include "import_cmd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_cmd.h"
#include "grok.h"
#include "run.h"

static void import_cmd_help(FILE *f)
{
    fprintf(f,
            "usage: %s\n  %s\n\n"
            "  CHECKPOINT...      .safetensors or .npz files, one checkpoint each (a grok\n"
            "                     export's run.npz holds every checkpoint); float32, float64,\n"
            "                     bfloat16 or float16, converted to float32\n"
            "  --out DIR          the new run directory (must not exist)\n"
            "  --tl-config JSON   a TransformerLens HookedTransformerConfig as JSON (n_layers,\n"
            "                     d_model, n_heads, d_head, d_mlp, d_vocab, d_vocab_out, n_ctx,\n"
            "                     act_fn, normalization_type, ...) for the model keys\n"
            "  --config CFG       a grok config (default: the checkpoints' own 'config'\n"
            "                     metadata, else the Nanda et al. defaults); --set overrides\n"
            "  --epochs LIST      the checkpoints' epochs, comma-separated, in the order given\n"
            "                     (default: their 'epoch' metadata or 'epoch-N' in the name)\n"
            "  --split FILE       the training set: grok's split.tsv, or one training pair\n"
            "                     'a b' or one example index (a*p + b) per line; the other\n"
            "                     examples are the test set (default: the config's seed's split)\n"
            "  --curves TSV       loss curves for metrics.tsv: an 'epoch' column and any of lr,\n"
            "                     train_loss, test_loss, train_acc, test_acc, elapsed_s\n"
            "                     (default: each checkpoint's losses on the split)\n"
            "  --ignore-extra     drop tensors the model does not have (else refused)\n"
            "  --allow-missing    fill tensors the checkpoints lack with their constant\n"
            "                     initial value, 0 for weights (else refused)\n\n"
            "An unembedding with one extra column (d_vocab_out = p + 1, the '=' token's, as in\n"
            "Nanda et al.'s code) loses it, as their analysis does; summary.json records it.\n"
            "Everything is checked before the directory appears; a refusal writes nothing.\n"
            "tools/to_grok.py writes a PyTorch or TransformerLens model in this form.\n",
            IMPORT_CMD_USAGE, IMPORT_CMD_ABOUT);
}

static int import_cmd_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "grok: import: %s%s%s\nusage: %s\n", msg, arg ? " " : "", arg ? arg : "",
            IMPORT_CMD_USAGE);
    return 2;
}

int import_cmd_main(int argc, char **argv, blisarch_info *bi)
{
    run_import_opts o;
    memset(&o, 0, sizeof o);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs),
               **sets = calloc((size_t)argc + 1, sizeof *sets);
    long *epochs = calloc(EXPORT_CMD_MAX_EPOCHS, sizeof *epochs), threads = 0;
    const char *epochs_arg = NULL;
    int rc = 0;
    if (!inputs || !sets || !epochs) {
        fprintf(stderr, "grok: out of memory\n");
        rc = 1;
        goto out;
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i], *v = NULL;
        int m = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            import_cmd_help(stdout);
            goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            o.out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--tl-config", &v)) != 0) {
            o.tl_config = v;
        } else if ((m = cli_opt(argc, argv, &i, "--config", &v)) != 0) {
            o.config = v;
        } else if ((m = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (m > 0 && !strchr(v, '='))
                rc = import_cmd_usage("--set needs key=value, e.g. --set task.op=sub", NULL);
            sets[o.n_sets++] = v;
        } else if ((m = cli_opt(argc, argv, &i, "--epochs", &v)) != 0) {
            epochs_arg = v;
        } else if ((m = cli_opt(argc, argv, &i, "--split", &v)) != 0) {
            o.split = v;
        } else if ((m = cli_opt(argc, argv, &i, "--curves", &v)) != 0) {
            o.curves = v;
        } else if ((m = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (m > 0 && cli_parse_long(v, 1, 1024, &threads) != 0)
                rc = import_cmd_usage("--threads: expected a whole number from 1 to 1024, not", v);
        } else if (!strcmp(a, "--ignore-extra")) {
            o.ignore_extra = 1;
        } else if (!strcmp(a, "--allow-missing")) {
            o.allow_missing = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            rc = import_cmd_usage("unknown option", a);
        } else {
            inputs[o.n_inputs++] = a;
        }
        if (m < 0 || (m > 0 && !v[0]))
            rc = import_cmd_usage("a value is missing after", a);
    }
    if (rc == 0 && !o.out)
        rc = import_cmd_usage("--out DIR is required (the new run directory)", NULL);
    if (rc == 0 && o.n_inputs == 0)
        rc = import_cmd_usage("which checkpoint files?", NULL);
    if (rc == 0 && epochs_arg) {
        char why[160];
        int n = 0;
        if (export_cmd_parse_epochs(epochs_arg, epochs, EXPORT_CMD_MAX_EPOCHS, &n, why,
                                    sizeof why) != 0)
            rc = import_cmd_usage("--epochs:", why);
        for (int k = 0; k < n && rc == 0; k++)
            if (epochs[k] < 0)
                rc = import_cmd_usage("--epochs: 'last' is not an epoch here", NULL);
        o.epochs = epochs;
        o.n_epochs = n;
    }
    if (rc != 0)
        goto out;
    o.inputs = inputs;
    o.sets = sets;
    blisarch_start(bi, (int)threads);
    o.jobs = bi->threads;
    o.blis = bi;
    grok_err e = {{0}};
    int st = run_import(&o, &e);
    if (st != GROK_OK) {
        fprintf(stderr, "grok: import: %s\n", e.msg);
        rc = st == GROK_EINVAL || st == GROK_EFORMAT ? 2 : 1;
    }
out:
    free(inputs);
    free(sets);
    free(epochs);
    return rc;
}
