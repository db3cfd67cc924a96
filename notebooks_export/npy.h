/* npy.h: NumPy's .npy array format and .npz archives, written for
 * numpy.load.
 *
 * .npy v1.0 (numpy/lib/format.py; docs/formats.md, .npy and .npz): the magic
 * "\x93NUMPY", version 1.0, a u16 little-endian header length, then a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n' so the data starts at a multiple of 64
 * bytes, then the raw C-order data.  The header is byte-identical to np.save's.
 *
 * .npz: a ZIP archive with one stored (uncompressed, ZIP_CM_STORE) entry
 * "NAME.npy" per array, as np.savez writes, written by libzip (Debian's
 * libzip-dev): ZIP64 records appear where an entry, an offset or the entry
 * count passes what a plain ZIP can hold (4 GiB, 65535 entries), so an
 * archive of any size reads back with numpy.load.  The entries' dates are
 * fixed (1980-01-01), so the same arrays give the same bytes.
 *
 * Arrays are added first and their bytes pulled when the archive is closed:
 * npy_zip_add copies an array held in memory; npy_zip_add_stream takes a
 * callback that fills the array's bytes piece by piece, in order, while
 * npy_zip_close writes, so arrays larger than memory are fine.
 *
 * The archive is written to "<path>.tmp.<pid>" (libzip writes its own
 * temporary beside that and renames it there), fsync'ed and renamed over
 * path by npy_zip_close, so a reader sees the whole archive or nothing;
 * npy_zip_abort leaves nothing behind.  Does not read archives: numpy does
 * that (the tests carry their own reader). */
#ifndef GROK_NPY_H
#define GROK_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "fileio.h"
#include "grok.h"

#define NPY_MAX_DIMS 8

/* Appends the full .npy header (magic to '\n') for an array of dtype descr
 * ("<f4", "<f8", "<i8", "<U12", ...) and shape[0..ndim) to out; its length is
 * a multiple of 64. */
void npy_header(sbuf *out, const char *descr, int ndim, const int64_t *shape);

typedef struct npy_zip npy_zip;

/* npy_zip_open's flags. */
enum {
    /* every entry's local header carries ZIP64 sizes, as an entry past 4 GiB
     * does (its size is not told to libzip before it is written); for tests
     * of the ZIP64 path on a small archive */
    NPY_ZIP_FORCE_ZIP64 = 1
};

/* Starts an archive that will replace path.  GROK_EIO when the temporary file
 * cannot be created; GROK_ENOMEM. */
int npy_zip_open(npy_zip **z, const char *path, grok_err *e);
int npy_zip_open_flags(npy_zip **z, const char *path, unsigned flags, grok_err *e);

/* Fills buf[0..n) with the bytes [off, off + n) of an array's data (after its
 * .npy header).  Called during npy_zip_close, with off increasing from 0 to
 * the array's size.  Returns GROK_OK, or a status with e filled (the
 * archive is then abandoned and npy_zip_close returns that status). */
typedef int (*npy_zip_fill_fn)(void *ctx, uint64_t off, void *buf, size_t n, grok_err *e);

/* Adds the entry "<name>.npy" holding an array of descr and shape whose
 * prod(shape) * itemsize bytes fill delivers; ctx must stay valid until
 * npy_zip_close or npy_zip_abort.  GROK_EINVAL for an empty, duplicate or
 * over-long name (4096 bytes) or a descr other than [<|]{f,i,u,b}N or <UN;
 * GROK_ENOMEM. */
int npy_zip_add_stream(npy_zip *z, const char *name, const char *descr, int ndim,
                       const int64_t *shape, npy_zip_fill_fn fill, void *ctx, grok_err *e);

/* The same for an array in memory, whose bytes are copied now. */
int npy_zip_add(npy_zip *z, const char *name, const char *descr, int ndim, const int64_t *shape,
                const void *data, grok_err *e);

/* Calls fn(fraction done, ud) while npy_zip_close writes (libzip's progress
 * callback, every 1%); fn NULL: none. */
void npy_zip_set_progress(npy_zip *z, void (*fn)(double done, void *ud), void *ud);

/* Writes every entry and the central directory, fsyncs, renames over the
 * target and fsyncs its directory; frees z whatever happens (on failure the
 * temporary files are removed and the target untouched).  *bytes (may be
 * NULL) gets the size.  GROK_EIO names libzip's error, or a fill
 * callback's status and message. */
int npy_zip_close(npy_zip *z, size_t *bytes, grok_err *e);

/* Abandons the archive: removes the temporary file, frees z.  NULL is fine. */
void npy_zip_abort(npy_zip *z);

#endif
