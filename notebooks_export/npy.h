/* npy.h: NumPy's .npy array format and .npz archives, written for
 * numpy.load.
 *
 * .npy v1.0 (numpy/lib/format.py; docs/formats.md, .npy and .npz): the magic
 * "\x93NUMPY", version 1.0, a u16 little-endian header length, then a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n' so the data starts at a multiple of 64
 * bytes, then the raw C-order data.  The header is byte-identical to np.save's.
 *
 * .npz: a ZIP archive with one stored (uncompressed) entry "NAME.npy" per
 * array, as np.savez writes, but minimal PKZIP 2.0: no ZIP64, no extra
 * fields, the date 1980-01-01.  CRC-32 comes from zlib.  Entries are streamed
 * (an array's data may arrive in pieces), so arrays larger than memory are
 * fine; the archive as a whole must stay under 4 GiB and 65535 entries (past
 * that ZIP64 would be needed, which this writer refuses with a message).
 *
 * The archive is written to "<path>.tmp.<pid>" and renamed over path by
 * npy_zip_close (after fsync), so a reader sees the whole archive or
 * nothing; npy_zip_abort removes the temporary file.  Does not read
 * archives: numpy does that (the tests carry their own reader). */
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

/* Starts an archive that will replace path.  GROK_EIO when the temporary file
 * cannot be created; GROK_ENOMEM. */
int npy_zip_open(npy_zip **z, const char *path, grok_err *e);

/* Starts the entry "<name>.npy" holding an array of descr and shape: writes
 * its local header and .npy header.  Exactly prod(shape) * itemsize bytes
 * must follow through npy_zip_write before npy_zip_end.  GROK_EINVAL for an
 * empty, duplicate or over-long name (4096 bytes), a descr other than
 * [<|]{f,i,u,b}N or <UN, or an archive that would need ZIP64; GROK_EIO. */
int npy_zip_begin(npy_zip *z, const char *name, const char *descr, int ndim, const int64_t *shape,
                  grok_err *e);
int npy_zip_write(npy_zip *z, const void *data, size_t n, grok_err *e);
/* Ends the entry: checks the byte count against the shape (a mismatch is a
 * programmer error: GROK_ASSERT) and records its CRC-32 and size. */
int npy_zip_end(npy_zip *z, grok_err *e);

/* begin + write + end for an array already in memory. */
int npy_zip_add(npy_zip *z, const char *name, const char *descr, int ndim, const int64_t *shape,
                const void *data, grok_err *e);

/* Writes the central directory, fsyncs, renames over the target and fsyncs
 * its directory; frees z whatever happens (on failure the temporary file is
 * removed and the target untouched).  *bytes (may be NULL) gets the size. */
int npy_zip_close(npy_zip *z, size_t *bytes, grok_err *e);

/* Abandons the archive: removes the temporary file, frees z.  NULL is fine. */
void npy_zip_abort(npy_zip *z);

#endif
