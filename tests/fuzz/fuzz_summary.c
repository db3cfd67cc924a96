/* fuzz_summary.c: the summary.json reader (model/rundir.h,
 * rundir_summary_parse) and every accessor the figures, sweeps and notebooks
 * use on it.  See fuzz_util.h. */
#include "fuzz_util.h"
#include "rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rundir_summary s;
    grok_err e = {{0}};
    if (rundir_summary_parse(&s, (const char *)data, size, "summary.json", &e) != GROK_OK)
        return 0;
    static const char *const keys[] = {"status", "memorised_epoch", "grokked_epoch", "key_freqs",
                                       "final.test_loss", "phases.cleanup_end", "a.b.c", "",
                                       "fourier.applies", "algorithm.verdict"};
    sbuf b;
    sbuf_init(&b);
    int ints[8];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        rundir_summary_get(&s, keys[i]);
        rundir_summary_num(&s, keys[i]);
        rundir_summary_epoch(&s, keys[i]);
        rundir_summary_str(&s, keys[i]);
        rundir_summary_ints(&s, keys[i], ints, 8);
        rundir_summary_cell(&s, keys[i], &b);
    }
    sbuf_free(&b);
    rundir_summary_free(&s);
    return 0;
}
