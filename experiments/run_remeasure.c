/* run_remeasure.c: `grok measure DIR` (run.h: run_remeasure): the progress
 * measures recomputed from a run's checkpoints (measure.h), with a progress
 * line (progress.h), and the measure members of its summary.json replaced. */
#include "run_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "progress.h"

/* `grok measure DIR`: the measures recomputed from the checkpoints, and the
 * measure members of summary.json ("fourier", "key_freqs", "phases", always
 * last) replaced. */
int run_remeasure(const char *dir, int jobs, int quiet, grok_err *e)
{
    const double t0 = progress_now();
    measure_result res;
    int unchecked = 0;
    int rc = run_verify_use(dir, &unchecked, e);
    if (rc != GROK_OK)
        return rc;
    if (unchecked > 0 && !quiet)
        fprintf(stderr, "grok: note: %d file%s of %s carr%s no checksum (written before "
                        "checksums); accepted\n",
                unchecked, unchecked == 1 ? "" : "s", dir, unchecked == 1 ? "ies" : "y");
    progress_task task;
    progress_task_start(&task, quiet ? NULL : stderr, "measure", "checkpoints", 0);
    const grok_progress hook = progress_task_hook(&task);
    rc = measure_run_dir_progress(dir, jobs, &res, &hook, e);
    progress_task_end(&task);
    if (rc != GROK_OK)
        return rc;
    char path[RUN_PATH_MAX];
    if ((rc = run_path(path, dir, "summary.json", e)) != GROK_OK)
        return rc;
    char *old = NULL;
    size_t n = 0;
    if (fileio_read_all(path, &old, &n, NULL) == GROK_OK) {
        char *cut = strstr(old, ",\n  \"fourier\":");
        if (!cut) {
            cut = strrchr(old, '}');
            while (cut && cut > old && (cut[-1] == '\n' || cut[-1] == ' '))
                cut--;
        }
        if (cut) {
            *cut = '\0';
            sbuf b;
            sbuf_init(&b);
            sbuf_puts(&b, old);
            sbuf_puts(&b, ",\n");
            measure_summary_json(&res, &b);
            sbuf_puts(&b, "\n}\n");
            rc = b.oom ? grok_fail(e, GROK_ENOMEM, "out of memory") :
                         fileio_write_atomic(path, b.data, b.len, e);
            sbuf_free(&b);
        }
        free(old);
    }
    if (rc == GROK_OK && !quiet)
        fprintf(stderr, "grok: measured %d checkpoints of %s (epochs %ld..%ld) in %.1f s\n",
                res.n_checkpoints, dir, res.first_epoch, res.last_epoch, progress_now() - t0);
    return rc;
}
