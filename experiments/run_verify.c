/* run_verify.c: the checksums of a run directory (run.h: run_verify,
 * run_verify_use; formats in docs/formats.md, "Checksums").  Owns the checks
 * of state.safetensors and the checkpoints (their "grok_crc32" metadata,
 * checked by st_read) and of the files manifest.tsv lists, the report of
 * `grok verify DIR` (a run or a sweep of runs) with its recovery advice, and
 * the refusal that `grok resume`, `grok measure`, `grok export` and
 * `grok info` give before they read a damaged run. */
#include "run_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rundir.h"
#include "safetensors.h"

/* One safetensors file: intact, damaged (its reader's message in report) or
 * without a checksum. */
static int run_verify_st(const char *dir, const char *name, sbuf *report, run_verify_counts *n,
                         long *last_intact_ckpt, long ep, grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, dir, name, e);
    if (rc != GROK_OK)
        return rc;
    st_file f = {0};
    grok_err why;
    if (st_read(&f, path, &why) != GROK_OK) {
        n->damaged++;
        size_t pl = strlen(path);
        const char *m = strncmp(why.msg, path, pl) == 0 && why.msg[pl] == ':' ? why.msg + pl + 2
                                                                             : why.msg;
        sbuf_printf(report, "  DAMAGED  %s: %s\n", name, m);
        return GROK_OK;
    }
    if (f.crc_checked) {
        n->intact++;
        sbuf_printf(report, "  ok       %s (CRC-32 %s)\n", name, st_meta_get(&f, ST_CRC_KEY));
    } else {
        n->unchecked++;
        sbuf_printf(report, "  ok?      %s: no checksum (written before checksums); accepted\n",
                    name);
    }
    if (ep >= 0)
        *last_intact_ckpt = ep;
    st_file_free(&f);
    return GROK_OK;
}

/* The files manifest.tsv lists, each against its CRC-32 and size. */
static int run_verify_manifest(const char *dir, sbuf *report, run_verify_counts *n, grok_err *ep)
{
    char path[RUN_PATH_MAX], *text = NULL;
    size_t len = 0;
    grok_err e;
    int rc = run_path(path, dir, RUNDIR_MANIFEST, ep);
    if (rc != GROK_OK)
        return rc;
    if (!fileio_exists(path)) {
        if (run_path(path, dir, RUNDIR_SPLIT, &e) == GROK_OK && fileio_exists(path)) {
            n->unchecked++;
            sbuf_printf(report, "  ok?      %s: no %s (written before checksums); accepted\n",
                        RUNDIR_SPLIT, RUNDIR_MANIFEST);
        }
        return GROK_OK;
    }
    if (fileio_read_all(path, &text, &len, &e) != GROK_OK) {
        n->damaged++;
        sbuf_printf(report, "  DAMAGED  %s: %s\n", RUNDIR_MANIFEST, e.msg);
        return GROK_OK;
    }
    const char *hdr = RUNDIR_MANIFEST_HEADER "\n";
    size_t hl = strlen(hdr);
    if (len < hl || memcmp(text, hdr, hl) != 0 || memchr(text, '\0', len)) {
        n->damaged++;
        sbuf_printf(report, "  DAMAGED  %s: its first line is not \"%s\"\n", RUNDIR_MANIFEST,
                    RUNDIR_MANIFEST_HEADER);
        free(text);
        return GROK_OK;
    }
    int line = 1;
    for (char *s = text + hl; s < text + len; line++) {
        char *eol = memchr(s, '\n', (size_t)(text + len - s));
        if (!eol)
            eol = text + len;
        *eol = '\0';
        char name[64], want[16];
        unsigned long long want_n;
        char *data = NULL;
        size_t got_n = 0;
        if (sscanf(s, "%63[^\t]\t%15[^\t]\t%llu", name, want, &want_n) != 3 || strchr(name, '/') ||
            strlen(want) != 8) {
            n->damaged++;
            sbuf_printf(report, "  DAMAGED  %s: line %d is not \"file crc32 bytes\"\n",
                        RUNDIR_MANIFEST, line + 1);
        } else if (run_path(path, dir, name, &e) != GROK_OK ||
                   fileio_read_all(path, &data, &got_n, &e) != GROK_OK) {
            n->damaged++;
            sbuf_printf(report, "  DAMAGED  %s: missing or unreadable (%s records CRC-32 %s, %llu "
                                "bytes)\n",
                        name, RUNDIR_MANIFEST, want, want_n);
        } else {
            char got[9];
            st_crc_text(got, st_crc32_bytes(data, got_n));
            if (strcmp(got, want) != 0 || got_n != want_n) {
                n->damaged++;
                sbuf_printf(report, "  DAMAGED  %s: checksum mismatch: %s records CRC-32 %s (%llu "
                                    "bytes), the file has %s (%zu bytes)\n",
                            name, RUNDIR_MANIFEST, want, want_n, got, got_n);
            } else {
                n->intact++;
                sbuf_printf(report, "  ok       %s (CRC-32 %s)\n", name, got);
            }
        }
        free(data);
        s = eol + 1;
    }
    free(text);
    return GROK_OK;
}

/* One run directory: its files, then the advice when something is damaged. */
static int run_verify_run(const char *dir, sbuf *report, run_verify_counts *n, grok_err *e)
{
    run_verify_counts m = {0};
    long last_ok = -1, *ckpt = NULL;
    int n_ckpt = 0, rc, state_bad = 0;
    char path[RUN_PATH_MAX];
    sbuf_printf(report, "%s\n", dir);
    if ((rc = run_path(path, dir, RUNDIR_STATE, e)) != GROK_OK)
        return rc;
    if (fileio_exists(path)) {
        int before = m.damaged;
        if ((rc = run_verify_st(dir, RUNDIR_STATE, report, &m, &last_ok, -1, e)) != GROK_OK)
            return rc;
        state_bad = m.damaged > before;
    } else {
        sbuf_printf(report, "  note     no %s (stopped before its first commit, or not a run "
                            "that grok can resume)\n",
                    RUNDIR_STATE);
    }
    if (rundir_ckpt_list(dir, &ckpt, &n_ckpt, NULL) == GROK_OK) {
        for (int i = 0; i < n_ckpt; i++) {
            char name[64];
            run_ckpt_name(name, sizeof name, ckpt[i]);
            if ((rc = run_verify_st(dir, name, report, &m, &last_ok, ckpt[i], e)) != GROK_OK) {
                free(ckpt);
                return rc;
            }
        }
        free(ckpt);
    }
    if ((rc = run_verify_manifest(dir, report, &m, e)) != GROK_OK)
        return rc;
    if (m.damaged == 0) {
        sbuf_printf(report, "  intact: %d file%s checked%s\n", m.intact, m.intact == 1 ? "" : "s",
                    m.unchecked ? ", some without a checksum (accepted)" : "");
    } else {
        sbuf_printf(report, "  damaged: %d file%s. grok reads nothing from this run until it is "
                            "repaired, and never rewrites these files itself. To recover:\n",
                    m.damaged, m.damaged == 1 ? "" : "s");
        sbuf_printf(report, "    - training is deterministic: 'grok train %s/config.cfg --out "
                            "NEWDIR' recomputes the run bit for bit (every checkpoint, "
                            "split.tsv, the state at its end); copy a damaged checkpoint or "
                            "split.tsv back from NEWDIR, or keep NEWDIR as the run\n",
                    dir);
        if (state_bad && last_ok >= 0)
            sbuf_printf(report, "    - or continue from the last intact checkpoint as a new run: "
                                "'grok train %s/config.cfg --init-from %s@%ld --out NEWDIR'\n",
                        dir, dir, last_ok);
    }
    n->intact += m.intact;
    n->damaged += m.damaged;
    n->unchecked += m.unchecked;
    n->runs++;
    return GROK_OK;
}

static int run_verify_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir when it is a run, else every run below it (a sweep), depth-first in
 * name order, down to `depth` levels. */
static int run_verify_tree(const char *dir, int depth, sbuf *report, run_verify_counts *n,
                           grok_err *e)
{
    char path[RUN_PATH_MAX];
    int rc = run_path(path, dir, RUNDIR_CONFIG, e);
    if (rc != GROK_OK)
        return rc;
    if (fileio_exists(path))
        return run_verify_run(dir, report, n, e);
    if (depth == 0)
        return GROK_OK;
    DIR *d = opendir(dir);
    if (!d)
        return GROK_OK;
    char **names = NULL;
    size_t k = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.' || run_path(path, dir, de->d_name, NULL) != GROK_OK ||
            stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        if ((names[k] = strdup(de->d_name)) != NULL)
            k++;
    }
    closedir(d);
    if (k)
        qsort(names, k, sizeof *names, run_verify_cmp);
    for (size_t i = 0; i < k; i++) {
        if (rc == GROK_OK && (rc = run_path(path, dir, names[i], e)) == GROK_OK)
            rc = run_verify_tree(path, depth - 1, report, n, e);
        free(names[i]);
    }
    free(names);
    return rc;
}

int run_verify(const char *dir, sbuf *report, run_verify_counts *n, grok_err *e)
{
    memset(n, 0, sizeof *n);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return grok_fail(e, GROK_EINVAL, "'%s' is not a directory", dir);
    int rc = run_verify_tree(dir, 3, report, n, e);
    if (rc == GROK_OK && n->runs == 0)
        return grok_fail(e, GROK_EINVAL,
                         "'%s' holds no run: no config.cfg in it or in its subdirectories", dir);
    if (rc == GROK_OK && report->oom)
        return grok_fail(e, GROK_ENOMEM, "out of memory verifying '%s'", dir);
    return rc;
}

int run_verify_use(const char *dir, int *unchecked, grok_err *e)
{
    sbuf report;
    sbuf_init(&report);
    run_verify_counts n = {0};
    int rc = run_verify_tree(dir, 3, &report, &n, e);
    if (unchecked)
        *unchecked = n.unchecked;
    if (rc == GROK_OK && n.damaged > 0) {
        /* the DAMAGED lines, one after another */
        sbuf bad;
        sbuf_init(&bad);
        for (const char *s = report.data; s && (s = strstr(s, "  DAMAGED  ")) != NULL;) {
            s += 11;
            size_t l = strcspn(s, "\n");
            sbuf_printf(&bad, "%s%.*s", bad.len ? "; " : "", (int)l, s);
            s += l;
        }
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: %d damaged file%s, not used: %s. Nothing was read or written; "
                       "'grok verify %s' says how to recover",
                       dir, n.damaged, n.damaged == 1 ? "" : "s", bad.data ? bad.data : "", dir);
        sbuf_free(&bad);
    }
    sbuf_free(&report);
    return rc;
}
