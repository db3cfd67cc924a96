/* main.c: the `grok` command line.
 *
 * Owns argument parsing, the command table, exit codes and the one-time BLIS
 * set-up; the work itself is the other modules' (run.h, sweep.h, ...).  A
 * command is a row of main_commands: name, handler, usage and one line of
 * description; `grok help` lists the table.
 *
 * Exit codes: 0 success; 2 bad input (flags, config keys and values, a
 * directory that is not a run, a run that diverged), with nothing written
 * when it is found before training; 1 environment and I/O errors and
 * damaged files (a truncated state.safetensors).  Every message starts with
 * "grok: ". */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "blisarch.h"
#include "cfg.h"
#include "cli.h"
#include "export_cmd.h"
#include "fileio.h"
#include "grok.h"
#include "import_cmd.h"
#include "linalg.h"
#include "measure.h"
#include "plot_cmd.h"
#include "reproduce.h"
#include "run.h"
#include "sweep.h"
#include "view_cmd.h"

#define MAIN_THREADS_MAX 1024

typedef struct main_command main_command;
struct main_command {
    const char *name;
    int (*fn)(int argc, char **argv, blisarch_info *bi); /* argv[0] is the command name */
    const char *usage;
    const char *about;
    int own_help; /* its --help says more than usage and about */
};

static int main_train(int argc, char **argv, blisarch_info *bi);
static int main_resume(int argc, char **argv, blisarch_info *bi);
static int main_info(int argc, char **argv, blisarch_info *bi);
static int main_measure(int argc, char **argv, blisarch_info *bi);
static int main_plot(int argc, char **argv, blisarch_info *bi);
static int main_bench(int argc, char **argv, blisarch_info *bi);
static int main_export(int argc, char **argv, blisarch_info *bi);
static int main_import(int argc, char **argv, blisarch_info *bi);
static int main_view(int argc, char **argv, blisarch_info *bi);
static int main_sweep(int argc, char **argv, blisarch_info *bi);
static int main_reproduce(int argc, char **argv, blisarch_info *bi);
static int main_verify(int argc, char **argv, blisarch_info *bi);
static int main_help(int argc, char **argv, blisarch_info *bi);

static const main_command main_commands[] = {
    {"train", main_train,
     "grok train [CONFIG] [--out DIR] [--init-from RUN[@EPOCH]] [--set key=value ...] [--threads N] [--quiet]",
     "train a model; CONFIG defaults to the Nanda et al. (2023) run, DIR to "
     "runs/<config name>-seed<seed>", 0},
    {"resume", main_resume,
     "grok resume DIR [--epochs N] [--set key=value ...] [--threads N] [--quiet]",
     "continue a killed or finished run (--epochs N: train to N epochs in all)", 0},
    {"info", main_info, "grok info DIR", "one screen: what happened in a run", 0},
    {"verify", main_verify, "grok verify DIR",
     "check the checksums of a run's (or a sweep's) files: what is intact, what is damaged, how "
     "to recover", 0},
    {"measure", main_measure, "grok measure DIR [--threads N]",
     "recompute the progress measures (measures.tsv and friends) from a run's checkpoints", 0},
    {"plot", main_plot, PLOT_CMD_USAGE, PLOT_CMD_ABOUT, 1},
    {"export", main_export, EXPORT_CMD_USAGE, EXPORT_CMD_ABOUT, 1},
    {"import", main_import, IMPORT_CMD_USAGE, IMPORT_CMD_ABOUT, 1},
    {"view", main_view, VIEW_CMD_USAGE, VIEW_CMD_ABOUT, 1},
    {"sweep", main_sweep, SWEEP_USAGE, SWEEP_ABOUT, 1},
    {"reproduce", main_reproduce, REPRODUCE_USAGE, REPRODUCE_ABOUT, 1},
    {"bench", main_bench,
     "grok bench [CONFIG] [--set key=value ...] [--threads N] [--reps N] [--only ROWS] [--peer]",
     "the performance table: ms per step, per evaluation and per measure pass, GFLOP/s; then a "
     "row per model family and gradient filter with its ms per step and GEMM share.  Rows "
     "(--only, comma-separated, or all): config (CONFIG itself, by default the Nanda et al. "
     "transformer: the full table), mlp (Prieto et al. 2025's MLP on a + b mod 113: the one-hot "
     "pair, two hidden layers of 200, full batch), ema, ma, ortho, clip (CONFIG with that "
     "gradient filter); without --only every row but ma (whose 100-gradient window must fill "
     "first).  --peer: the PyTorch peers (tools/peer_torch.py) of the config and mlp rows, "
     "timed right after on the same threads and BLIS kernels, and the ratios", 0},
    {"help", main_help, "grok help [COMMAND | config]",
     "this list, one command's usage, or every config key", 0},
};
#define MAIN_N_COMMANDS ((int)(sizeof main_commands / sizeof main_commands[0]))

static const main_command *main_find(const char *name)
{
    for (int i = 0; i < MAIN_N_COMMANDS; i++)
        if (strcmp(main_commands[i].name, name) == 0)
            return &main_commands[i];
    return NULL;
}

static void main_usage(FILE *f)
{
    fprintf(f, "grok %s: a workbench for grokking experiments\n\nusage:\n", GROK_VERSION);
    for (int i = 0; i < MAIN_N_COMMANDS; i++)
        fprintf(f, "  %s\n      %s\n", main_commands[i].usage, main_commands[i].about);
}

/* Prints "grok: <msg>" and returns the exit code for status rc. */
static int main_fail(int rc, const char *msg)
{
    fprintf(stderr, "grok: %s\n", msg);
    return rc == GROK_EINVAL ? 2 : 1;
}

/* Prints "grok: CMD: <message>" and the command's usage; returns 2. */
static int main_usage_error(const main_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int main_usage_error(const main_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "grok: %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", cmd->usage);
    va_end(ap);
    return 2;
}

/* Options shared by train and resume. */
typedef struct {
    const char *positional; /* CONFIG or DIR */
    const char *out;
    const char **sets;      /* [argc] */
    int n_sets;
    long threads;           /* 0: all online CPUs */
    long epochs;            /* resume --epochs; 0: unchanged */
    int quiet;
    char *init_from;        /* train --init-from RUN[@EPOCH]: "init.from=..." (owned) */
} main_args;

static void main_args_free(main_args *a)
{
    free(a->sets);
    free(a->init_from);
}

static int main_parse(const main_command *cmd, int argc, char **argv, main_args *a, int allow_out,
                      int allow_epochs)
{
    memset(a, 0, sizeof *a);
    a->sets = calloc((size_t)argc + 1, sizeof *a->sets);
    if (!a->sets) {
        fprintf(stderr, "grok: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *arg = argv[i];
        int m;
        if ((m = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (m < 0 || !strchr(v, '='))
                return main_usage_error(cmd, "--set needs key=value, e.g. --set optim.lr=0.001");
            a->sets[a->n_sets++] = v;
        } else if (allow_out && (m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || !v[0])
                return main_usage_error(cmd, "--out needs a directory");
            a->out = v;
        } else if (allow_out && (m = cli_opt(argc, argv, &i, "--init-from", &v)) != 0) {
            /* the same as --set init.from="RUN[@EPOCH]", placed first so a
             * later --set can still change it */
            if (m < 0 || !v[0] || a->init_from)
                return main_usage_error(cmd, "--init-from needs one RUN or RUN@EPOCH");
            size_t n = strlen(v) + 16;
            if (!(a->init_from = malloc(n)))
                return main_usage_error(cmd, "out of memory");
            snprintf(a->init_from, n, "init.from=%s", v);
            memmove(a->sets + 1, a->sets, (size_t)a->n_sets * sizeof *a->sets);
            a->sets[0] = a->init_from;
            a->n_sets++;
        } else if ((m = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, MAIN_THREADS_MAX, &a->threads) != 0)
                return main_usage_error(
                    cmd, "--threads '%s': expected a whole number from 1 to 1024", m < 0 ? "" : v);
        } else if (allow_epochs && (m = cli_opt(argc, argv, &i, "--epochs", &v)) != 0) {
            if (m < 0 || cli_parse_long(v, 1, LONG_MAX, &a->epochs) != 0)
                return main_usage_error(cmd, "--epochs '%s': expected a whole number >= 1",
                                        m < 0 ? "" : v);
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a->quiet = 1;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "grok: %s: unknown option '%s'; valid: %s--set, --threads, %s--quiet\n",
                    cmd->name, arg, allow_out ? "--out, --init-from, " : "",
                    allow_epochs ? "--epochs, " : "");
            fprintf(stderr, "usage: %s\n", cmd->usage);
            return 2;
        } else if (a->positional) {
            fprintf(stderr, "grok: %s: unexpected argument '%s' (already have '%s')\nusage: %s\n",
                    cmd->name, arg, a->positional, cmd->usage);
            return 2;
        } else {
            a->positional = arg;
        }
    }
    return 0;
}

/* "runs/<stem of path>-seed<seed>" */
static int main_default_out(const char *config_path, uint64_t seed, char *buf, size_t n)
{
    char stem[256] = "nanda2023_mod_add";
    if (config_path) {
        const char *base = strrchr(config_path, '/');
        base = base ? base + 1 : config_path;
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot && dot != stem)
            *dot = '\0';
    }
    int len = snprintf(buf, n, "runs/%s-seed%llu", stem, (unsigned long long)seed);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

static int main_train(int argc, char **argv, blisarch_info *bi)
{
    const main_command *cmd = main_find("train");
    main_args a;
    int rc = main_parse(cmd, argc, argv, &a, 1, 0);
    if (rc != 0) {
        main_args_free(&a);
        return rc;
    }
    grok_err e = {{0}};
    cfg_run c;
    rc = cfg_load(&c, a.positional, a.sets, a.n_sets, &e);
    if (rc != GROK_OK) {
        main_args_free(&a);
        fprintf(stderr, "grok: %s\n", e.msg);
        return 2; /* the config is user input, whatever went wrong reading it */
    }
    char out[4096];
    if (!a.out && main_default_out(a.positional, c.seed, out, sizeof out) != 0) {
        main_args_free(&a);
        fprintf(stderr, "grok: train: config path too long\n");
        return 2;
    }
    blisarch_start(bi, (int)a.threads);
    run_opts o = {.quiet = a.quiet, .blis = bi};
    rc = run_train(&c, a.out ? a.out : out, &o, &e);
    main_args_free(&a);
    return rc == GROK_OK ? 0 : main_fail(rc, e.msg);
}

static int main_resume(int argc, char **argv, blisarch_info *bi)
{
    const main_command *cmd = main_find("resume");
    main_args a;
    int rc = main_parse(cmd, argc, argv, &a, 0, 1);
    if (rc == 0 && !a.positional)
        rc = main_usage_error(cmd, "which run directory?");
    if (rc != 0) {
        main_args_free(&a);
        return rc;
    }
    char epochs[64];
    if (a.epochs > 0) {
        snprintf(epochs, sizeof epochs, "train.epochs=%ld", a.epochs);
        a.sets[a.n_sets++] = epochs;
    }
    blisarch_start(bi, (int)a.threads);
    run_opts o = {.quiet = a.quiet, .blis = bi};
    grok_err e = {{0}};
    rc = run_resume(a.positional, a.sets, a.n_sets, &o, &e);
    main_args_free(&a);
    return rc == GROK_OK ? 0 : main_fail(rc, e.msg);
}

static int main_info(int argc, char **argv, blisarch_info *bi)
{
    (void)bi;
    const main_command *cmd = main_find("info");
    if (argc != 2 || argv[1][0] == '-')
        return main_usage_error(cmd, "expected one run directory");
    sbuf out;
    sbuf_init(&out);
    grok_err e = {{0}};
    int rc = run_info(argv[1], &out, &e);
    if (rc == GROK_OK)
        fputs(out.data ? out.data : "", stdout);
    sbuf_free(&out);
    return rc == GROK_OK ? 0 : main_fail(rc, e.msg);
}

/* Exit 0 when every file is intact, 2 when one is damaged (or DIR holds no run). */
static int main_verify(int argc, char **argv, blisarch_info *bi)
{
    (void)bi;
    const main_command *cmd = main_find("verify");
    if (argc != 2 || argv[1][0] == '-')
        return main_usage_error(cmd, "expected one run or sweep directory");
    sbuf out;
    sbuf_init(&out);
    grok_err e = {{0}};
    run_verify_counts n;
    int rc = run_verify(argv[1], &out, &n, &e);
    if (rc == GROK_OK) {
        fputs(out.data ? out.data : "", stdout);
        printf("%d run%s: %d file%s intact, %d damaged, %d without a checksum\n", n.runs,
               n.runs == 1 ? "" : "s", n.intact, n.intact == 1 ? "" : "s", n.damaged,
               n.unchecked);
    }
    sbuf_free(&out);
    if (rc != GROK_OK)
        return main_fail(rc, e.msg);
    return n.damaged > 0 ? 2 : 0;
}

static int main_measure(int argc, char **argv, blisarch_info *bi)
{
    const main_command *cmd = main_find("measure");
    main_args a;
    int rc = main_parse(cmd, argc, argv, &a, 0, 0);
    if (rc == 0 && !a.positional)
        rc = main_usage_error(cmd, "which run directory?");
    if (rc == 0 && a.n_sets > 0)
        rc = main_usage_error(cmd, "--set does not apply to measure");
    main_args_free(&a);
    if (rc != 0)
        return rc;
    blisarch_start(bi, (int)a.threads);
    grok_err e = {{0}};
    rc = run_remeasure(a.positional, bi->threads, a.quiet, &e);
    return rc == GROK_OK ? 0 : main_fail(rc, e.msg);
}

static int main_plot(int argc, char **argv, blisarch_info *bi)
{
    (void)bi;
    return plot_cmd_main(argc, argv);
}

/* The pool forks one worker per point: BLIS and OpenMP must not have started
 * in this process yet (main has only chosen the kernels). */
static int main_sweep(int argc, char **argv, blisarch_info *bi) { return sweep_main(argc, argv, bi); }
/* Runs sweeps: the same rule as main_sweep. */
static int main_reproduce(int argc, char **argv, blisarch_info *bi)
{
    return reproduce_main(argc, argv, bi);
}

static int main_export(int argc, char **argv, blisarch_info *bi)
{
    (void)bi;
    return export_cmd_main(argc, argv);
}

static int main_import(int argc, char **argv, blisarch_info *bi)
{
    return import_cmd_main(argc, argv, bi);
}

static int main_view(int argc, char **argv, blisarch_info *bi)
{
    return view_cmd_main(argc, argv, bi);
}

/* grok bench --peer: tools/peer_torch.py (--model transformer or mlp) timed
 * right after grok's own measurement, on the same threads and
 * (BLIS_ARCH_TYPE, set by blisarch_select, is inherited) the same BLIS
 * kernels; the ratio of the steps, loop against loop.  Says why when the
 * peer cannot run. */
static void main_bench_peer(const char *peer_model, double step_ms, double best_ms, int threads,
                            int reps)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 tools/peer_torch.py --model %s --bench --steps %d --threads %d 2>&1",
             peer_model, reps, threads);
    FILE *p = popen(cmd, "r");
    char line[512];
    double peer_ms = 0, peer_best = 0;
    while (p && fgets(line, sizeof line, p))
        if (sscanf(line, "peer_ms_per_step %lf", &peer_ms) != 1 &&
            sscanf(line, "peer_best_ms %lf", &peer_best) != 1)
            fputs(line, stdout);
    const int rc = p ? pclose(p) : -1;
    if (rc != 0 || !(peer_ms > 0)) {
        printf("\npeer: tools/peer_torch.py did not run (from the repository root, with Debian's "
               "python3-torch): no ratio\n");
        return;
    }
    printf("\npeer (%s): tools/peer_torch.py --model %s, %d threads, same BLIS kernels: %.1f ms "
           "per step; grok %.2f ms: %.1fx faster (loop against loop)\n",
           peer_model, peer_model, threads, peer_ms, step_ms, peer_ms / step_ms);
    if (peer_best > 0 && best_ms > 0)
        printf("  fastest steps: peer %.1f ms, grok %.2f ms: %.1fx\n", peer_best, best_ms,
               peer_best / best_ms);
}

static int main_bench(int argc, char **argv, blisarch_info *bi)
{
    const main_command *cmd = main_find("bench");
    double step_ms[BENCH_ROW_COUNT] = {0}, best_ms[BENCH_ROW_COUNT] = {0};
    bench_opts bo = {.warmup = 3, .reps = 15, .sgemm_n = 1024, .step_ms = step_ms,
                     .best_ms = best_ms};
    /* --reps, --only and --peer are bench's own flags: take them out before the shared parser */
    int kept = 1, peer = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--peer") == 0) {
            peer = 1;
            continue;
        }
        int m = cli_opt(argc, argv, &i, "--only", &v);
        if (m < 0)
            return main_usage_error(cmd, "--only: expected a list of rows");
        if (m > 0) {
            grok_err e = {{0}};
            if (bench_rows_parse(v, &bo.rows, &e) != GROK_OK)
                return main_usage_error(cmd, "%s", e.msg);
            continue;
        }
        m = cli_opt(argc, argv, &i, "--reps", &v);
        long reps;
        if (m < 0 || (m > 0 && cli_parse_long(v, 1, 1000, &reps) != 0))
            return main_usage_error(cmd, "--reps '%s': expected a whole number from 1 to 1000",
                                    m < 0 ? "" : v);
        if (m > 0)
            bo.reps = (int)reps;
        else
            argv[kept++] = argv[i];
    }
    argc = kept;
    main_args a;
    int rc = main_parse(cmd, argc, argv, &a, 0, 0);
    if (rc != 0) {
        main_args_free(&a);
        return rc;
    }
    grok_err e = {{0}};
    cfg_run c;
    rc = cfg_load(&c, a.positional, a.sets, a.n_sets, &e);
    main_args_free(&a);
    if (rc != GROK_OK) {
        fprintf(stderr, "grok: %s\n", e.msg);
        return 2;
    }
    blisarch_start(bi, (int)a.threads);
    /* 1 thread and the chosen count (all cores unless --threads) */
    bo.threads[bo.n_threads++] = 1;
    if (bi->threads > 1)
        bo.threads[bo.n_threads++] = bi->threads;
    blisarch_describe(bi, bo.kernel, sizeof bo.kernel);
    sbuf out;
    sbuf_init(&out);
    rc = bench_run(&c, &bo, &out, &e);
    if (out.data)
        fputs(out.data, stdout);
    sbuf_free(&out);
    if (rc == GROK_OK && peer && step_ms[BENCH_ROW_CONFIG] > 0)
        main_bench_peer("transformer", step_ms[BENCH_ROW_CONFIG], best_ms[BENCH_ROW_CONFIG],
                        bi->threads, bo.reps);
    if (rc == GROK_OK && peer && step_ms[BENCH_ROW_MLP] > 0)
        main_bench_peer("mlp", step_ms[BENCH_ROW_MLP], best_ms[BENCH_ROW_MLP], bi->threads,
                        bo.reps);
    return rc == GROK_OK ? 0 : main_fail(rc, e.msg);
}

static int main_help(int argc, char **argv, blisarch_info *bi)
{
    (void)bi;
    if (argc < 2) {
        main_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "config") == 0) {
        sbuf out;
        sbuf_init(&out);
        cfg_list_keys(&out);
        fputs(out.data ? out.data : "", stdout);
        sbuf_free(&out);
        return 0;
    }
    const main_command *cmd = main_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "grok: help: unknown command '%s'\n", argv[1]);
        main_usage(stderr);
        return 2;
    }
    printf("usage: %s\n  %s\n", cmd->usage, cmd->about);
    return 0;
}

int main(int argc, char **argv)
{
    /* Before anything can call BLIS (docs/formats.md, BLIS). */
    blisarch_info bi;
    blisarch_select(&bi);
    /* Before any thread exists, so that every OpenMP and BLIS thread inherits it. */
    bi.flush_denormals = la_flush_denormals();
    if (argc < 2) {
        main_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    if (strcmp(name, "--version") == 0) {
        printf("grok %s\n", GROK_VERSION);
        return 0;
    }
    const main_command *cmd = main_find(name);
    if (cmd && !cmd->own_help)
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                printf("usage: %s\n  %s\n", cmd->usage, cmd->about);
                if (cmd->fn == main_train || cmd->fn == main_resume || cmd->fn == main_bench)
                    printf("  --set key=value: any config key (grok help config lists them)\n");
                return 0;
            }
    if (!cmd) {
        fprintf(stderr, "grok: unknown command '%s'; commands:", argv[1]);
        for (int i = 0; i < MAIN_N_COMMANDS; i++)
            fprintf(stderr, " %s", main_commands[i].name);
        fprintf(stderr, " (grok help for more)\n");
        return 2;
    }
    return cmd->fn(argc - 1, argv + 1, &bi);
}
