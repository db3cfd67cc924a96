/* fuzz_npz.c: the .npz reader of `grok import` (notebooks_export/npz_read.h,
 * npz_parse_buf: the zip archive through libzip, each entry's .npy header,
 * Fortran-order arrays reordered, 0-d unicode arrays decoded): every loaded
 * array's bytes are read whole, each text walked, each name looked up, and
 * the loaded arrays converted to float32 as the import does (st_to_f32).
 * See fuzz_util.h. */
#include "fuzz_util.h"
#include "npz_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    npz_file z;
    grok_err e = {{0}};
    if (npz_parse_buf(&z, data, size, "fuzz.npz", &e) != GROK_OK)
        return 0;
    volatile unsigned sum = 0;
    for (int i = 0; i < z.n; i++) {
        const npz_entry *en = &z.e[i];
        sum += (unsigned)strlen(en->name) + (unsigned)strlen(en->descr);
        if (npz_find(&z, en->name) == NULL)
            abort();
        if (en->text)
            sum += (unsigned)strlen(en->text);
        if (!en->loaded)
            continue;
        const size_t numel = st_tensor_numel(&en->t), nb = numel * st_dtype_size(en->t.dtype);
        const unsigned char *b = en->t.data;
        for (size_t k = 0; k < nb; k++)
            sum += b[k];
        if (en->t.dtype == ST_F32 || en->t.dtype == ST_F64 || en->t.dtype == ST_F16) {
            float *f = malloc(numel ? numel * sizeof *f : 1);
            if (f && st_to_f32(&en->t, f, NULL) >= 0)
                sum += numel ? (unsigned)(f[0] == f[0]) : 0;
            free(f);
        }
    }
    (void)sum;
    npz_free(&z);
    return 0;
}
