/* fuzz_safetensors.c: the safetensors reader (model/safetensors.h, st_parse,
 * which st_read uses for checkpoints and state.safetensors): every tensor's
 * bytes are read whole, so a shape or offset that points past the data is
 * caught.  See fuzz_util.h. */
#include "fuzz_util.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file f;
    grok_err e = {{0}};
    if (st_parse(&f, data, size, "fuzz.safetensors", &e) != GROK_OK)
        return 0;
    volatile unsigned sum = 0;
    for (int i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        size_t nb = st_tensor_numel(t) * st_dtype_size(t->dtype);
        const unsigned char *b = t->data;
        for (size_t k = 0; k < nb; k++)
            sum += b[k];
        sum += (unsigned)strlen(t->name) + (unsigned)strlen(st_dtype_name(t->dtype));
        if (st_find(&f, t->name) == NULL)
            abort();
    }
    for (int i = 0; i < f.n_meta; i++)
        sum += (unsigned)strlen(f.meta[i].key) + (unsigned)strlen(f.meta[i].value);
    st_meta_get(&f, "format");
    st_find(&f, "epoch");
    (void)sum;
    st_file_free(&f);
    return 0;
}
