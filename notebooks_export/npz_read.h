/* npz_read.h: NumPy .npz archives read back, through libzip.
 *
 * Owns the reading side of the .npy format (npy.h writes it): an archive's
 * entries NAME.npy (stored or deflated, as np.savez and np.savez_compressed
 * write them; ZIP64 as numpy marks every entry) become tensors in
 * safetensors.h's st_tensor form, so a caller treats a .npz and a
 * .safetensors file alike.  Numeric arrays of the little-endian dtypes <f4,
 * <f8, <f2, <i4, <i8 and |u1 are loaded (in C order: a Fortran-order array,
 * as numpy writes a transposed view, is reordered); a 0-d unicode array
 * (<UN, as grok export writes meta.config) is decoded to UTF-8 text; any
 * other entry is listed with its descr and not loaded, so the caller can
 * name it.  Headers of .npy versions 1, 2 and 3 are read.  Nothing is
 * written. */
#ifndef GROK_NPZ_READ_H
#define GROK_NPZ_READ_H

#include <stddef.h>

#include "grok.h"
#include "safetensors.h"

typedef struct {
    char *name;      /* the entry's name without ".npy" */
    char descr[16];  /* the .npy descr as written ("<f4", "<U12", "|O") */
    int loaded;      /* 1: t holds the array */
    st_tensor t;     /* name, dtype, shape and data (owned by the archive) */
    char *text;      /* a 0-d unicode array as UTF-8, else NULL */
    void *mem;       /* the entry's bytes, which t.data points into */
} npz_entry;

typedef struct {
    int n;
    npz_entry *e;
} npz_file;

/* Reads every entry of path.  GROK_EFORMAT naming the file (and the entry)
 * for what is not a zip archive (a truncated one included), an entry that
 * is not a .npy file, or one whose bytes disagree with its header;
 * GROK_EIO; GROK_ENOMEM.  On error z is left empty. */
int npz_read(npz_file *z, const char *path, grok_err *e);
/* The same for an archive held in memory, data[0..n), named `what` in
 * messages; the entries are copies, so data may go once it returns. */
int npz_parse_buf(npz_file *z, const void *data, size_t n, const char *what, grok_err *e);
void npz_free(npz_file *z);

/* The entry called name (without ".npy"), or NULL. */
const npz_entry *npz_find(const npz_file *z, const char *name);

#endif
