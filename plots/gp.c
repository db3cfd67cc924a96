/* gp.c: the gnuplot driver declared in gp.h.
 *
 * One figure is one `gnuplot -d` process started with posix_spawnp: its
 * stdin is a pipe we write the script into, its stdout goes to /dev/null
 * (a failed `set output` sends the image to stdout, docs/formats.md, gnuplot), its
 * stderr is a pipe we read.  Both pipes are served by one poll() loop, so a
 * gnuplot that prints many messages while we are still writing cannot
 * deadlock us, and no temporary file is needed for the messages.
 *
 * Commands read from a pipe do not stop gnuplot at an error; it carries on
 * and exits with status 1 at EOF (docs/formats.md, gnuplot).  So success is: exit status
 * 0, and the sentinel `print` appended after the script reached stderr (a
 * script that ends inside an unterminated data block swallows it), and every
 * output file exists and is non-empty (a failed plot can leave 0 bytes).
 *
 * gnuplot runs inside a fresh directory out_dir/.gp-<fig>-XXXXXX and the
 * script names its outputs without a directory.  That keeps half-written
 * files out of out_dir (they are renamed in only on success) and makes
 * cairolatex write `\includegraphics{<name>}` without a temporary path. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np (glibc >= 2.29) */
#include "gp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Printed (to stderr, gnuplot's default for print) after the script. */
#define GP_SENTINEL "GROK_GP_END"
/* At most this much of gnuplot's stderr is kept; the rest is read and dropped. */
#define GP_STDERR_MAX (64 * 1024)

const char *gp_bin(const char *bin)
{
    if (bin && bin[0])
        return bin;
    const char *env = getenv("GP_BIN");
    if (env && env[0])
        return env;
    return "gnuplot";
}

static double gp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* dst = "dir/name"; -1 when it does not fit in cap bytes. */
static int gp_join(char *dst, size_t cap, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + b + 2 > cap)
        return -1;
    memcpy(dst, dir, a);
    dst[a] = '/';
    memcpy(dst + a + 1, name, b + 1);
    return 0;
}

/* Removes every entry of dir (gnuplot writes no subdirectories) and dir. */
static void gp_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char path[4096];
            if (gp_join(path, sizeof path, dir, de->d_name) == 0)
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int gp_fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
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

/* Appends gnuplot's stderr text to out as short "prefix line" lines:
 * blank lines, the caret lines that point into the echoed command, and our
 * sentinel are dropped; long lines are cut.  sep joins the lines. */
static void gp_compact(sbuf *out, const char *text, const char *prefix, const char *sep)
{
    int first = 1;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        int only_caret = 1;
        for (const char *q = a; q < b; q++)
            if (*q != '^' && *q != ' ')
                only_caret = 0;
        size_t len = (size_t)(b - a);
        int sentinel = len == strlen(GP_SENTINEL) && !memcmp(a, GP_SENTINEL, len);
        if (len > 0 && !only_caret && !sentinel) {
            if (!first)
                sbuf_puts(out, sep);
            sbuf_puts(out, prefix);
            sbuf_append(out, a, len > 240 ? 240 : len);
            if (len > 240)
                sbuf_puts(out, "...");
            first = 0;
        }
        p = *end ? end + 1 : end;
    }
}

/* The child's view of the executable: a relative path with a '/' would be
 * resolved after the chdir into the temporary directory, so make it
 * absolute.  Returns a malloc'ed string or NULL on OOM. */
static char *gp_resolve_bin(const char *bin)
{
    if (bin[0] == '/' || !strchr(bin, '/'))
        return strdup(bin);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return strdup(bin);
    size_t n = strlen(cwd) + strlen(bin) + 2;
    char *abs = malloc(n);
    if (abs)
        snprintf(abs, n, "%s/%s", cwd, bin);
    return abs;
}

/* The state of one gnuplot run, for the poll loop and the verdict. */
typedef struct {
    pid_t pid;
    int in_fd, err_fd;     /* our ends: gnuplot's stdin (write), stderr (read) */
    const char *seg[2];    /* script, then the sentinel command */
    size_t seg_n[2], seg_i, seg_off;
    int write_errno;       /* errno of a failed write (EPIPE: gnuplot exited early) */
    int timed_out;
    sbuf err;              /* captured stderr, at most GP_STDERR_MAX bytes */
} gp_proc;

/* Feeds the script and collects stderr until gnuplot closes stderr (exits)
 * or the deadline passes (then kills it). */
static void gp_pump(gp_proc *g)
{
    double deadline = gp_now() + GP_TIMEOUT_S;
    char buf[16384];
    while (g->err_fd >= 0) {
        struct pollfd fds[2];
        int nfds = 0, i_err = -1, i_in = -1;
        i_err = nfds;
        fds[nfds++] = (struct pollfd){.fd = g->err_fd, .events = POLLIN};
        if (g->in_fd >= 0) {
            i_in = nfds;
            fds[nfds++] = (struct pollfd){.fd = g->in_fd, .events = POLLOUT};
        }
        double left = deadline - gp_now();
        if (left <= 0) {
            g->timed_out = 1;
            kill(g->pid, SIGKILL);
            break;
        }
        int r = poll(fds, (nfds_t)nfds, (int)(left * 1000.0) + 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            g->timed_out = 1; /* cannot wait properly: give up on it */
            kill(g->pid, SIGKILL);
            break;
        }
        if (i_in >= 0 && fds[i_in].revents) {
            if (fds[i_in].revents & (POLLERR | POLLHUP)) {
                g->write_errno = EPIPE;
                close(g->in_fd);
                g->in_fd = -1;
            } else {
                size_t k = g->seg_i;
                size_t want = g->seg_n[k] - g->seg_off;
                if (want > 65536)
                    want = 65536;
                ssize_t w = write(g->in_fd, g->seg[k] + g->seg_off, want);
                if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    g->write_errno = errno;
                    close(g->in_fd);
                    g->in_fd = -1;
                } else if (w > 0) {
                    g->seg_off += (size_t)w;
                }
                while (g->in_fd >= 0 && g->seg_i < 2 && g->seg_off == g->seg_n[g->seg_i]) {
                    g->seg_i++;
                    g->seg_off = 0;
                }
                if (g->in_fd >= 0 && g->seg_i == 2) { /* all sent: EOF ends gnuplot */
                    close(g->in_fd);
                    g->in_fd = -1;
                }
            }
        }
        if (fds[i_err].revents) {
            ssize_t r2 = read(g->err_fd, buf, sizeof buf);
            if (r2 < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r2 <= 0) {
                close(g->err_fd);
                g->err_fd = -1;
            } else if (g->err.len < GP_STDERR_MAX) {
                size_t keep = (size_t)r2;
                if (keep > GP_STDERR_MAX - g->err.len)
                    keep = GP_STDERR_MAX - g->err.len;
                sbuf_append(&g->err, buf, keep);
            }
        }
    }
    if (g->in_fd >= 0)
        close(g->in_fd);
    if (g->err_fd >= 0)
        close(g->err_fd);
    g->in_fd = g->err_fd = -1;
}

/* Starts gnuplot in dir with stdin/stderr pipes.  Returns 0, or the errno
 * of the failure (ENOENT: no such executable). */
static int gp_spawn(gp_proc *g, const char *bin, const char *dir)
{
    int in_p[2], err_p[2];
    if (pipe2(in_p, O_CLOEXEC) != 0)
        return errno;
    if (pipe2(err_p, O_CLOEXEC) != 0) {
        int err = errno;
        close(in_p[0]);
        close(in_p[1]);
        return err;
    }
    posix_spawn_file_actions_t fa;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        /* dup2 clears FD_CLOEXEC on the copy; the originals close at exec. */
        if (!rc)
            rc = posix_spawn_file_actions_adddup2(&fa, in_p[0], 0);
        if (!rc)
            rc = posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
        if (!rc)
            rc = posix_spawn_file_actions_addchdir_np(&fa, dir);
        if (!rc)
            rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        char *argv[] = {(char *)bin, (char *)"-d", NULL};
        if (!rc)
            rc = posix_spawnp(&g->pid, bin, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
    }
    close(in_p[0]);
    close(err_p[1]);
    if (rc != 0) {
        close(in_p[1]);
        close(err_p[0]);
        return rc;
    }
    g->in_fd = in_p[1];
    g->err_fd = err_p[0];
    fcntl(g->in_fd, F_SETFL, fcntl(g->in_fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Checks the outputs in tmp and moves them to out_dir.  On failure nothing
 * is left in out_dir from this run except files already renamed (only a
 * rename error can cause that, and it is reported). */
static int gp_commit(const char *tmp, const char *out_dir, const char *fig,
                     const char *const *outputs, int n_outputs, grok_err *e)
{
    char src[4096], dst[4096];
    for (int i = 0; i < n_outputs; i++) {
        if (gp_join(src, sizeof src, tmp, outputs[i]) ||
            gp_join(dst, sizeof dst, out_dir, outputs[i]))
            return grok_fail(e, GROK_EINVAL, "figure %s: path too long: %s/%s", fig, out_dir,
                             outputs[i]);
        struct stat st;
        if (stat(src, &st) != 0)
            return grok_fail(e, GROK_EIO, "figure %s: gnuplot reported no error but wrote no %s",
                             fig, outputs[i]);
        if (!S_ISREG(st.st_mode) || st.st_size == 0)
            return grok_fail(e, GROK_EIO, "figure %s: gnuplot wrote an empty %s", fig,
                             outputs[i]);
        if (gp_fsync_path(src, O_RDONLY) != 0)
            return grok_fail(e, GROK_EIO, "figure %s: fsync %s: %s", fig, src, strerror(errno));
    }
    for (int i = 0; i < n_outputs; i++) {
        gp_join(src, sizeof src, tmp, outputs[i]);
        gp_join(dst, sizeof dst, out_dir, outputs[i]);
        if (rename(src, dst) != 0)
            return grok_fail(e, GROK_EIO, "figure %s: rename %s -> %s: %s", fig, src, dst,
                             strerror(errno));
    }
    gp_fsync_path(out_dir, O_RDONLY | O_DIRECTORY); /* best effort: figures can be redrawn */
    return GROK_OK;
}

int gp_draw(const char *bin, const char *out_dir, const char *fig, const char *script, size_t n,
            const char *const *outputs, int n_outputs, sbuf *warnings, int *missing, grok_err *e)
{
    GROK_ASSERT(out_dir && fig && (script || n == 0) && (outputs || n_outputs == 0));
    if (missing)
        *missing = 0;
    for (int i = 0; i < n_outputs; i++)
        GROK_ASSERT(outputs[i] && outputs[i][0] && !strchr(outputs[i], '/'));
    bin = gp_bin(bin);

    /* out_dir/.gp-<fig>-XXXXXX, with fig reduced to safe characters. */
    char tmp[4096];
    int len = snprintf(tmp, sizeof tmp, "%s/.gp-", out_dir);
    if (len < 0 || (size_t)len + strlen(fig) + 8 >= sizeof tmp)
        return grok_fail(e, GROK_EINVAL, "figure %s: output directory path too long: %s", fig,
                         out_dir);
    for (const char *c = fig; *c; c++)
        tmp[len++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                    (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'
                                ? *c
                                : '_');
    strcpy(tmp + len, "-XXXXXX");
    if (!mkdtemp(tmp))
        return grok_fail(e, GROK_EIO, "figure %s: cannot create a temporary directory %s: %s",
                         fig, tmp, strerror(errno));

    char *abs_bin = gp_resolve_bin(bin);
    if (!abs_bin) {
        gp_remove_dir(tmp);
        return grok_fail(e, GROK_ENOMEM, "figure %s: out of memory", fig);
    }
    static const char sentinel_cmd[] = "\nprint '" GP_SENTINEL "'\n";
    gp_proc g = {.pid = -1, .in_fd = -1, .err_fd = -1};
    g.seg[0] = script;
    g.seg_n[0] = n;
    g.seg[1] = sentinel_cmd;
    g.seg_n[1] = sizeof sentinel_cmd - 1;
    sbuf_init(&g.err);

    /* A gnuplot that exits early turns our next write into SIGPIPE, which
     * would end the whole program (and a training run with it). */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);

    int rc = GROK_OK;
    int serr = gp_spawn(&g, abs_bin, tmp);
    if (serr == ENOENT || serr == EACCES || serr == ENOTDIR) {
        if (missing)
            *missing = 1;
        rc = grok_fail(e, GROK_EIO, GP_MISSING_MSG " (cannot run \"%s\": %s)", bin,
                       strerror(serr));
        goto out;
    }
    if (serr != 0) {
        rc = grok_fail(e, GROK_EIO, "figure %s: cannot start %s: %s", fig, bin, strerror(serr));
        goto out;
    }
    gp_pump(&g);
    int status = 0, wait_errno = 0;
    while (waitpid(g.pid, &status, 0) < 0) {
        if (errno != EINTR) {
            wait_errno = errno;
            break;
        }
    }
    if (g.err.oom) {
        rc = grok_fail(e, GROK_ENOMEM, "figure %s: out of memory reading gnuplot's messages", fig);
        goto out;
    }

    sbuf msg;
    sbuf_init(&msg);
    gp_compact(&msg, g.err.data ? g.err.data : "", "", "; ");
    const char *said = msg.data && msg.data[0] ? msg.data : "(no message)";
    int ended = g.err.data && strstr(g.err.data, GP_SENTINEL) != NULL;
    if (g.timed_out) {
        rc = grok_fail(e, GROK_EIO, "figure %s: gnuplot did not finish within %d s and was killed",
                       fig, GP_TIMEOUT_S);
    } else if (wait_errno) {
        rc = grok_fail(e, GROK_EIO, "figure %s: waitpid on gnuplot: %s", fig, strerror(wait_errno));
    } else if (WIFSIGNALED(status)) {
        rc = grok_fail(e, GROK_EIO, "figure %s: gnuplot was killed by signal %d: %s", fig,
                       WTERMSIG(status), said);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !ended) {
        if (missing)
            *missing = 1;
        rc = grok_fail(e, GROK_EIO, GP_MISSING_MSG " (\"%s\" exited with status 127)", bin);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        rc = grok_fail(e, GROK_EIO, "figure %s: gnuplot failed (exit status %d): %s", fig,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1, said);
    } else if (!ended) {
        rc = grok_fail(e, GROK_EIO,
                       "figure %s: gnuplot stopped before the end of the script%s%s "
                       "(an unterminated data block?)",
                       fig, msg.data && msg.data[0] ? ": " : "", msg.data ? msg.data : "");
    } else if (g.write_errno) {
        rc = grok_fail(e, GROK_EIO, "figure %s: writing the script to gnuplot: %s", fig,
                       strerror(g.write_errno));
    } else {
        rc = gp_commit(tmp, out_dir, fig, outputs, n_outputs, e);
        if (rc == GROK_OK && warnings && msg.data && msg.data[0]) {
            char prefix[256];
            snprintf(prefix, sizeof prefix, "%s: gnuplot: ", fig);
            if (warnings->len > 0 && warnings->data[warnings->len - 1] != '\n')
                sbuf_puts(warnings, "\n");
            gp_compact(warnings, g.err.data, prefix, "\n");
            sbuf_puts(warnings, "\n");
        }
    }
    sbuf_free(&msg);

out:
    sigaction(SIGPIPE, &old_pipe, NULL);
    sbuf_free(&g.err);
    free(abs_bin);
    gp_remove_dir(tmp);
    return rc;
}

void gp_remove_stale(const char *out_dir)
{
    DIR *d = opendir(out_dir);
    if (!d)
        return;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, ".gp-", 4) != 0)
            continue;
        int len = snprintf(path, sizeof path, "%s/%s", out_dir, de->d_name);
        if (len > 0 && (size_t)len < sizeof path)
            gp_remove_dir(path);
    }
    closedir(d);
}
