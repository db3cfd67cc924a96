/* fileio.c: atomic writes, whole-file reads, mkdir -p and the sbuf text
 * buffer declared in fileio.h.
 *
 * The atomic write follows Redis's rdbSave: write a temporary file
 * "<path>.tmp.<pid>" in the target's directory (so the rename never crosses a
 * filesystem), loop over short writes and EINTR, fsync, close, rename over the
 * target, then fsync the directory so the rename itself is durable.  Every
 * failure removes the temporary file and names the operation, the path and
 * strerror(errno).  This file knows nothing of what the bytes mean. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* The directory that holds path: "." for a bare name, "/" for "/name".
 * Returns a malloc'ed string or NULL on OOM. */
static char *fileio_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    while (slash > path && slash[-1] == '/') /* "a//b" -> "a" */
        slash--;
    if (slash == path)
        return strdup("/");
    size_t len = (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (dir) {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return dir;
}

/* Writes all n bytes to fd.  Returns the number of bytes written; fewer than
 * n means failure with errno set. */
static size_t fileio_write_full(int fd, const unsigned char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return done;
        }
        if (w == 0) { /* no progress and no error: do not spin */
            errno = EIO;
            return done;
        }
        done += (size_t)w;
    }
    return done;
}

/* fsync on a directory; some filesystems refuse it with EINVAL (as Redis's
 * fsyncFileDir notes), which we accept because there is nothing to sync. */
static int fileio_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL && errno != EBADF)
        rc = -1;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int fileio_fsync_parent(const char *path)
{
    char *dir = fileio_dirname(path);
    if (!dir)
        return -1;
    int rc = fileio_fsync_dir(dir);
    int saved = errno;
    free(dir);
    errno = saved;
    return rc;
}

int fileio_write_atomic(const char *path, const void *data, size_t n, grok_err *e)
{
    GROK_ASSERT(path != NULL);
    GROK_ASSERT(data != NULL || n == 0);
    size_t tmp_len = strlen(path) + 32;
    char *tmp = malloc(tmp_len);
    char *dir = fileio_dirname(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return grok_fail(e, GROK_ENOMEM, "cannot write %s: out of memory", path);
    }
    snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());

    int rc = GROK_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = grok_fail(e, GROK_EIO, "cannot write %s: open %s: %s", path, tmp, strerror(errno));
        goto out; /* nothing was created */
    }
    size_t done = fileio_write_full(fd, data, n);
    if (done < n) {
        rc = grok_fail(e, GROK_EIO, "cannot write %s: write %s failed after %zu of %zu bytes: %s",
                       path, tmp, done, n, strerror(errno));
        close(fd);
        goto unlink_tmp;
    }
    if (fsync(fd) != 0) {
        rc = grok_fail(e, GROK_EIO, "cannot write %s: fsync %s: %s", path, tmp, strerror(errno));
        close(fd);
        goto unlink_tmp;
    }
    if (close(fd) != 0) {
        rc = grok_fail(e, GROK_EIO, "cannot write %s: close %s: %s", path, tmp, strerror(errno));
        goto unlink_tmp;
    }
    if (rename(tmp, path) != 0) {
        rc = grok_fail(e, GROK_EIO, "cannot write %s: rename %s -> %s: %s", path, tmp, path,
                       strerror(errno));
        goto unlink_tmp;
    }
    /* The new file is in place; a failure here only means the rename may not
     * survive a power loss, but the caller should still hear of it. */
    if (fileio_fsync_dir(dir) != 0)
        rc = grok_fail(e, GROK_EIO, "wrote %s but fsync of its directory %s failed: %s", path, dir,
                       strerror(errno));
    goto out;

unlink_tmp:
    unlink(tmp);
out:
    free(tmp);
    free(dir);
    return rc;
}

int fileio_read_all(const char *path, char **data, size_t *n, grok_err *e)
{
    GROK_ASSERT(path != NULL && data != NULL && n != NULL);
    *data = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return grok_fail(e, GROK_EIO, "cannot read %s: open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = grok_fail(e, GROK_EIO, "cannot read %s: fstat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return grok_fail(e, GROK_EIO, "cannot read %s: %s", path, strerror(EISDIR));
    }
    /* The size is a hint (a file may grow while we read, or be a pipe); read
     * until EOF and grow as needed. */
    size_t cap = (st.st_size > 0 ? (size_t)st.st_size : 0) + 1;
    if (cap < 4096)
        cap = 4096;
    char *buf = malloc(cap);
    size_t len = 0;
    for (;;) {
        if (!buf) {
            close(fd);
            return grok_fail(e, GROK_ENOMEM, "cannot read %s: out of memory (%zu bytes)", path,
                             cap);
        }
        if (len + 1 == cap) {
            char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int rc = grok_fail(e, GROK_EIO, "cannot read %s: read after %zu bytes: %s", path, len,
                               strerror(errno));
            free(buf);
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    *data = buf;
    *n = len;
    return GROK_OK;
}

/* mkdir one component; an existing directory (or a link to one) is fine. */
static int fileio_mkdir_one(const char *dir, const char *path, grok_err *e)
{
    if (mkdir(dir, 0777) == 0)
        return GROK_OK;
    int err = errno;
    struct stat st;
    if (err == EEXIST || err == EISDIR || err == EROFS || err == EACCES) {
        if (stat(dir, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                return GROK_OK;
            return grok_fail(e, GROK_EIO,
                             "cannot create directory %s: %s exists and is not a directory", path,
                             dir);
        }
    }
    return grok_fail(e, GROK_EIO, "cannot create directory %s: mkdir %s: %s", path, dir,
                     strerror(err));
}

int fileio_mkdir_p(const char *path, grok_err *e)
{
    GROK_ASSERT(path != NULL);
    if (path[0] == '\0')
        return grok_fail(e, GROK_EINVAL, "cannot create directory: the path is empty");
    char *buf = strdup(path);
    if (!buf)
        return grok_fail(e, GROK_ENOMEM, "cannot create directory %s: out of memory", path);
    int rc = GROK_OK;
    /* Create each prefix that ends just before a '/', skipping the root and
     * repeated slashes, then the whole path. */
    for (char *p = buf + 1; *p && rc == GROK_OK; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        rc = fileio_mkdir_one(buf, path, e);
        *p = '/';
    }
    if (rc == GROK_OK)
        rc = fileio_mkdir_one(buf, path, e);
    free(buf);
    return rc;
}

int fileio_exists(const char *path)
{
    struct stat st;
    return path && lstat(path, &st) == 0;
}

/* ---- sbuf ---------------------------------------------------------------- */

void sbuf_init(sbuf *b)
{
    b->len = 0;
    b->cap = 64;
    b->oom = 0;
    b->data = malloc(b->cap);
    if (b->data)
        b->data[0] = '\0';
    else {
        b->cap = 0;
        b->oom = 1;
    }
}

void sbuf_free(sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void sbuf_clear(sbuf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL; 0 on success. */
static int sbuf_reserve(sbuf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap && b->data)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

void sbuf_append(sbuf *b, const char *s, size_t n)
{
    if (sbuf_reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_puts(sbuf *b, const char *s)
{
    sbuf_append(b, s, strlen(s));
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    if (sbuf_reserve(b, 0) != 0)
        return;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int k = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (k < 0) { /* an encoding error: the text cannot be represented */
        b->data[b->len] = '\0';
        b->oom = 1;
    } else if ((size_t)k >= b->cap - b->len) {
        if (sbuf_reserve(b, (size_t)k) == 0)
            vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
        else
            b->data[b->len] = '\0';
    }
    va_end(ap2);
    if (k >= 0 && !b->oom)
        b->len += (size_t)k;
}

void sbuf_json_string(sbuf *b, const char *s)
{
    GROK_ASSERT(s != NULL);
    sbuf_append(b, "\"", 1);
    const char *run = s; /* start of the pending run of bytes that need no escape */
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
            continue;
        sbuf_append(b, run, (size_t)(p - run));
        if (c == '\0')
            break;
        run = p + 1;
        switch (c) {
        case '"': sbuf_append(b, "\\\"", 2); break;
        case '\\': sbuf_append(b, "\\\\", 2); break;
        case '\n': sbuf_append(b, "\\n", 2); break;
        case '\t': sbuf_append(b, "\\t", 2); break;
        case '\r': sbuf_append(b, "\\r", 2); break;
        case '\b': sbuf_append(b, "\\b", 2); break;
        case '\f': sbuf_append(b, "\\f", 2); break;
        default: sbuf_printf(b, "\\u%04x", c); break;
        }
    }
    sbuf_append(b, "\"", 1);
}

void sbuf_first_diff(sbuf *b, const char *a, const char *b_text)
{
    int line = 1;
    const char *la = a, *lb = b_text;
    while (*a && *a == *b_text) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b_text + 1;
        }
        a++;
        b_text++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    sbuf_printf(b, "line %d: '%.*s' vs '%.*s'", line, na > 150 ? 150 : na, la,
                nb > 150 ? 150 : nb, lb);
}
