/* fuzz_sweep.c: the sweep file reader (experiments/sweep.h, sweep_load): the
 * input as a sweep file in the private directory, so @include and base are
 * relative to it.  Every point's config is built and checked by sweep_load
 * itself.  See fuzz_util.h. */
#include "fuzz_util.h"
#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    fuzz_write("sweep.cfg", data, size, path, sizeof path);
    sweep_spec s;
    grok_err e = {{0}};
    sweep_load(&s, path, &e);
    sweep_spec_free(&s);
    return 0;
}
