/* fuzz_util.h: what the fuzz harnesses of tests/fuzz/ share.
 *
 * Each harness (fuzz_<target>.c) defines LLVMFuzzerTestOneInput for one
 * reader of a file a user can hand grok.  Built with clang's libFuzzer by
 * `make fuzz`; without clang, tests/test_fuzz.c includes every harness under
 * another name and replays the committed corpora tests/fuzz/corpus/<target>/
 * through the same entry points (`make test`).  Readers that take a path get
 * the input written to a file in one private temporary directory per
 * process (in /dev/shm where it exists, a memory file system, so that the
 * writes cost little; else /tmp), removed at exit. */
#ifndef GROK_FUZZ_UTIL_H
#define GROK_FUZZ_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* LeakSanitizer's built-in suppressions (read by the libFuzzer binaries and
 * by tests/test_fuzz.c under `make asan`; unused otherwise).  libconfig 1.5
 * leaks the text of a string token that its parser drops on a syntax error
 * (a 4-byte config "x" leaks 64 bytes, "" leaks 1): libconfig issue 142,
 * fixed upstream after 1.5.  The text is built by libconfig's scanner, in its
 * string buffer (strbuf_append) or, for an empty string, by calloc in
 * libconfig_yylex, and handed to the parser, which has no %destructor for
 * it; libconfig is built without frame pointers, so that is the only frame
 * LeakSanitizer sees.  Nothing else is suppressed. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static char fuzz_dir_buf[64];

static inline void fuzz_rm_dir(void)
{
    DIR *d = opendir(fuzz_dir_buf);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                continue;
            snprintf(p, sizeof p, "%s/%s", fuzz_dir_buf, de->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(fuzz_dir_buf);
}

/* The private directory (created on first use; abort() when it cannot be). */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_buf[0]) {
        struct stat st;
        snprintf(fuzz_dir_buf, sizeof fuzz_dir_buf, "%s/grok-fuzz-XXXXXX",
                 stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                     ? "/dev/shm"
                     : "/tmp");
        if (!mkdtemp(fuzz_dir_buf))
            abort();
        atexit(fuzz_rm_dir);
    }
    return fuzz_dir_buf;
}

/* Writes data[0..n) to dir/name; the path into path[0..pn).  abort() on failure. */
static inline void fuzz_write(const char *name, const uint8_t *data, size_t n, char *path, size_t pn)
{
    snprintf(path, pn, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

/* data[0..n) as a NUL-terminated malloc'ed string (NULL when out of memory). */
static inline char *fuzz_text(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, data, n);
        s[n] = '\0';
    }
    return s;
}

#endif
