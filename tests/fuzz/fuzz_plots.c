/* fuzz_plots.c: the run figures' readers and recipes (plots/plot.h): a run
 * directory whose config.cfg is a modular task with p = 7, plus one file
 * from the input (its first byte chooses which: a table, summary.json or
 * config.cfg), loaded by plot_run_load; then every figure's gnuplot script is
 * built (gnuplot is not run).  See fuzz_util.h. */
#include "fuzz_util.h"
#include "plot.h"
#include "rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_plot_files[] = {
    RUNDIR_METRICS, RUNDIR_MEASURES, RUNDIR_FOURIER_EMBED, RUNDIR_NEURONS,
    RUNDIR_ATTENTION, RUNDIR_LOGIT_SPECTRUM, RUNDIR_EXCLUDED_FREQ, RUNDIR_COEFS,
    RUNDIR_IRREPS, RUNDIR_EMBED_CIRCLES, RUNDIR_LOGIT_SD, RUNDIR_SUMMARY,
    RUNDIR_CONFIG};
enum { FUZZ_PLOT_N = sizeof fuzz_plot_files / sizeof fuzz_plot_files[0] };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[256];
    static const uint8_t cfg[] = "task = { kind = \"modular\"; p = 7; };\n";
    for (int i = 0; i < FUZZ_PLOT_N; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir(), fuzz_plot_files[i]);
        unlink(path);
    }
    fuzz_write(RUNDIR_CONFIG, cfg, sizeof cfg - 1, path, sizeof path);
    fuzz_write(fuzz_plot_files[data[0] % FUZZ_PLOT_N], data + 1, size - 1, path, sizeof path);
    plot_run *r;
    grok_err e = {{0}};
    if (plot_run_load(fuzz_dir(), &r, &e) != GROK_OK)
        return 0;
    int n;
    const plot_figure *figs = plot_figures(&n);
    sbuf s, why;
    sbuf_init(&s);
    sbuf_init(&why);
    for (int i = 0; i < n; i++) {
        sbuf_clear(&s);
        sbuf_clear(&why);
        plot_script(r, figs[i].name, PLOT_PNG, &s, &why, &e);
    }
    sbuf_free(&s);
    sbuf_free(&why);
    plot_run_free(r);
    return 0;
}
