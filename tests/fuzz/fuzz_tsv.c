/* fuzz_tsv.c: the run directory's TSV reader (model/rundir.h,
 * rundir_tsv_parse), with and without a header (the first byte chooses),
 * every cell and column looked up as the readers do.  See fuzz_util.h. */
#include "fuzz_util.h"
#include "rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0] & 1 ? RUNDIR_TSV_NO_HEADER : 0;
    char *text = fuzz_text(data + 1, size - 1);
    if (!text)
        return 0;
    rundir_tsv t;
    grok_err e = {{0}};
    if (rundir_tsv_parse(&t, text, "fuzz.tsv", flags, &e) == GROK_OK) {
        volatile double sum = 0;
        for (int r = 0; r < t.n_rows; r++)
            for (int c = 0; c < t.n_cols; c++)
                sum += rundir_tsv_at(&t, r, c) + (double)strlen(t.text[(size_t)r * t.n_cols + c]);
        for (int c = 0; c < t.n_cols; c++) {
            const char *name = t.cols[c];
            if (rundir_tsv_col(&t, name) < 0)
                abort();
            rundir_tsv_need(&t, &name, 1, &e);
        }
        rundir_tsv_need(&t, rundir_metrics_cols, 5, &e);
        (void)sum;
        rundir_tsv_free(&t);
    }
    free(text);
    return 0;
}
