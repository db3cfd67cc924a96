/* safetensors.h: reading and writing the safetensors format.
 *
 * Layout (huggingface/safetensors): u64 little-endian header length N, an
 * N-byte UTF-8 JSON header mapping tensor names to {dtype, shape,
 * data_offsets} plus an optional "__metadata__" map of strings, then the
 * packed little-endian row-major tensor bytes.  The writer follows the
 * reference writer's conventions (metadata first, compact JSON, header padded
 * with spaces to a multiple of 8, tensors back to back in the given order) and
 * writes atomically.  The reader applies the reference loader's checks
 * (header size, JSON validity, offsets contiguous from 0 without gaps or
 * overlaps, byte counts matching shapes, no trailing bytes) and names the file
 * and the failed check in its message.
 *
 * Checksums.  A writer may store the CRC-32 (zlib's polynomial, as in gzip
 * and PNG) of the data section, everything after the header, as 8 lowercase
 * hex digits under the metadata key ST_CRC_KEY ("grok_crc32"); st_crc32
 * computes it from the tensors before they are written.  The reader checks it
 * whenever the key is present: a mismatch is GROK_EFORMAT, naming the file,
 * the expected and the found checksum.  A file without the key is read as
 * before (st_file.crc says which). */
#ifndef GROK_SAFETENSORS_H
#define GROK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "grok.h"

/* ST_BF16 and ST_F16 (bfloat16, IEEE half) are read and written as raw
 * 2-byte words; st_to_f32 converts them (and F64) to float32. */
typedef enum { ST_F32, ST_F64, ST_I32, ST_I64, ST_U8, ST_BF16, ST_F16 } st_dtype;
#define ST_DTYPES_READ "F32, F64, I32, I64, U8, BF16, F16"

#define ST_MAX_DIMS 8

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;                   /* 0 for a scalar */
    int64_t shape[ST_MAX_DIMS];
    const void *data;           /* prod(shape) elements of dtype */
} st_tensor;

typedef struct {
    const char *key, *value;
} st_meta;

#define ST_CRC_KEY "grok_crc32"

/* The CRC-32 of the data section st_serialize writes for t[0..n) (the
 * tensors' bytes back to back, in order) ... */
uint32_t st_crc32(const st_tensor *t, int n);
/* ... and of any bytes. */
uint32_t st_crc32_bytes(const void *p, size_t n);
/* The metadata value for crc: 8 lowercase hex digits and a NUL in buf[9]. */
void st_crc_text(char buf[9], uint32_t crc);

/* Element size in bytes and the format's dtype name ("F32", ...). */
size_t st_dtype_size(st_dtype d);
const char *st_dtype_name(st_dtype d);
size_t st_tensor_numel(const st_tensor *t);

/* out[0..numel) = t's elements as float32, for a float dtype (F32, F64,
 * BF16, F16; F64 rounded to nearest); the data may be unaligned.  Returns 0,
 * or -1 for another dtype.  *inexact (may be NULL) counts the F64 values
 * that float32 does not hold exactly (rounded, or out of its range). */
int st_to_f32(const st_tensor *t, float *out, size_t *inexact);

/* Serialises tensors t[0..n) and metadata meta[0..n_meta) into a buffer
 * (malloc'ed, caller frees) ... */
int st_serialize(const st_tensor *t, int n, const st_meta *meta, int n_meta, unsigned char **out,
                 size_t *out_len, grok_err *e);
/* ... or straight to path, atomically. */
int st_write(const char *path, const st_tensor *t, int n, const st_meta *meta, int n_meta,
             grok_err *e);

/* A parsed file: owns its bytes; tensor data pointers point into them. */
typedef struct {
    unsigned char *bytes;
    size_t n_bytes;
    int n_tensors;
    st_tensor *tensors; /* names owned by the file */
    int n_meta;
    st_meta *meta;      /* keys and values owned by the file */
    int crc_checked;    /* 1: the file carried ST_CRC_KEY and it matched; 0: no checksum */
} st_file;

/* Reads and validates path (and its checksum, when it has one).  Errors name
 * the path and the check that failed (for example "truncated: header says
 * 8+N+END = 912384 bytes, file has 4096", or "checksum mismatch: ..."). */
int st_read(st_file *f, const char *path, grok_err *e);
/* Same, from memory (copied); `what` names the source in messages. */
int st_parse(st_file *f, const unsigned char *bytes, size_t n, const char *what, grok_err *e);
void st_file_free(st_file *f);

/* The tensor called name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);
/* The metadata value for key, or NULL. */
const char *st_meta_get(const st_file *f, const char *key);

#endif
