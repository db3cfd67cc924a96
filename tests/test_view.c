/* test_view.c: the view page (notebooks_export/view.c) and `grok view`
 * (experiments/view_cmd.c).
 *
 * Unit tests write a small fake run directory by hand (config, metrics,
 * measures, summary, two figures, hand-made frame images) and check the
 * page view_write makes from it: summary.json's members as rows, the
 * curves' numbers as written in the TSV files, every figure and frame as
 * the base64 of its bytes (the expected strings computed once with
 * Python's base64 module), the slider's epochs and its gaps, text from the
 * run escaped, and the atomic write (a failed write leaves the old page
 * byte for byte and no temporary file).  The command's refusals exit with
 * 2 and write nothing; view_cmd_spread picks evenly spaced epochs.
 *
 * The end-to-end test (GROK_BIN, set by make test) trains a small run
 * without figures, runs `grok view` on it (which then draws the figures
 * itself) and, where Debian's chromium is installed (make deps; skipped
 * with a note otherwise), loads the page headless at two slider positions
 * (#ckpt=0 and #ckpt=3): both loads must finish the page's script
 * (data-view-ready), report the position asked for, log no JavaScript error
 * (neither an "Uncaught" console line nor the page's own error box), show
 * different frame images in the dumped DOM, and give screenshots that
 * differ. */
#define _GNU_SOURCE /* mkdtemp, strndup */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "blisarch.h"
#include "fileio.h"
#include "testutil.h"
#include "view.h"
#include "view_cmd.h"

#define PATH_N 4096

static const char fake_config[] =
    "seed = 7;\n"
    "task = {\n  kind = \"modular\";\n  op = \"add\";\n  p = 5;\n  frac_train = 0.6;\n};\n"
    "model = {\n  family = \"transformer\";\n  n_layers = 1;\n  d_model = 4;\n  d_mlp = 8;\n};\n"
    "optim = {\n  kind = \"adamw\";\n  lr = 0.001;\n  weight_decay = 1.0;\n};\n"
    "train = {\n  epochs = 200;\n};\n";

static const char fake_metrics[] =
    "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s\n"
    "0\t0\t1.61\t1.62\t0.2\t0.1\t0.001\n"
    "100\t0.001\t0.5\t1.9\t0.8\t0.3\t0.002\n"
    "200\t0.001\t0.0125\t0.02\t1\t1\t0.003\n";

static const char fake_measures[] =
    "epoch\tloss_train\tloss_test\tloss_restricted\tloss_excluded\tgini_WE\n"
    "0\t1.61\t1.62\t1.6\t1.6\t0.125\n"
    "200\t0.01\t0.02\t0.015\t2.5\t0.75\n";

static const char fake_summary[] =
    "{\"format\": \"grok-summary-1\", \"status\": \"finished <&>\", \"memorised_epoch\": 100,\n"
    " \"grokked_epoch\": null, \"final\": {\"epoch\": 200, \"test_loss\": 0.02},\n"
    " \"key_freqs\": [1, 2]}\n";

/* figures/loss.png's bytes and their base64 (Python's base64.b64encode) */
static const char fig_png[] = "\x89PNG\r\n\x1a\nfigure-loss";
static const char fig_png_b64[] = "iVBORw0KGgpmaWd1cmUtbG9zcw==";
static const char frame_a[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>frame A</text></svg>";
static const char frame_a_b64[] = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjx0ZXh0"
                                  "PmZyYW1lIEE8L3RleHQ+PC9zdmc+";
static const char frame_b[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>frame B</text></svg>";
static const char frame_b_b64[] = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjx0ZXh0"
                                  "PmZyYW1lIEI8L3RleHQ+PC9zdmc+";

static void write_text(const char *dir, const char *name, const char *text)
{
    char *path = tu_path_in(dir, name);
    tu_write_text(path, text);
    free(path);
}

static void make_fake_run(const char *dir)
{
    char path[PATH_N];
    write_text(dir, "config.cfg", fake_config);
    write_text(dir, "metrics.tsv", fake_metrics);
    write_text(dir, "measures.tsv", fake_measures);
    write_text(dir, "summary.json", fake_summary);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/figures", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    for (int ep = 0; ep <= 200; ep += 100) {
        snprintf(path, sizeof path, "%s/checkpoints/epoch-%06d.safetensors", dir, ep);
        tu_write_text(path, "");
    }
    snprintf(path, sizeof path, "%s/figures/loss.png", dir);
    tu_write_file(path, fig_png, sizeof fig_png - 1);
    write_text(dir, "figures/index.tsv",
               "name\tfile\tcaption\nloss\tloss.png\tTrain & test <loss>.\n"
               "notes\tnotes.tex\tA LaTeX figure.\n");
    write_text(dir, "frame_a.svg", frame_a);
    write_text(dir, "frame_b.svg", frame_b);
}

/* The entries of dir, one name per line, sorted (for a listing check). */
static char *list_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += strlen(names[i]->d_name) + 1;
    char *out = calloc(cap, 1);
    assert_non_null(out);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            strcat(out, names[i]->d_name);
            strcat(out, "\n");
        }
        free(names[i]);
    }
    free(names);
    return out;
}

/* ---- the page ------------------------------------------------------------ */

static void test_page(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    make_fake_run(dir);
    char *fa = tu_path_in(dir, "frame_a.svg"), *fb = tu_path_in(dir, "frame_b.svg");
    const long epochs[3] = {0, 100, 200};
    const char *names[2] = {"neurons", "attention"};
    const char *caps[2] = {"Neurons <grouped>.", NULL};
    /* neurons at 0 and 200, attention at 100 only */
    const char *files[6] = {fa, NULL, NULL, fb, fb, NULL};
    view_frames fr = {3, epochs, 2, names, caps, files};
    sbuf notes;
    sbuf_init(&notes);
    view_result res;
    grok_err e = {{0}};
    int rc = view_write(dir, NULL, &fr, &notes, &res, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    char *page_path = tu_path_in(dir, "view.html");
    size_t n;
    char *page = tu_read_file(page_path, &n);
    assert_non_null(page);
    assert_int_equal(n, res.bytes);
    printf("# page: %zu bytes, %d charts, %d frames, %d figures\n", n, res.n_curves, res.n_frames,
           res.n_figures);
    assert_int_equal(res.n_frames, 3);
    assert_int_equal(res.n_figures, 1); /* the .tex figure is left out, with a note */
    assert_int_equal(res.n_curves, 4);  /* loss, accuracy, progress, gini (no weights column) */
    tu_assert_contains(notes.data, "notes: ");
    tu_assert_contains(notes.data, "is not a .png or .svg, left out");

    /* summary.json's members, nested ones dotted, text escaped */
    tu_assert_contains(page, "<span class=\"k\">final.test_loss</span><span class=\"v\">0.02</span>");
    tu_assert_contains(page, "<span class=\"k\">status</span><span class=\"v\">finished &lt;&amp;&gt;</span>");
    tu_assert_contains(page, "<span class=\"k\">grokked_epoch</span><span class=\"v\">none</span>");
    tu_assert_contains(page, "<span class=\"k\">key_freqs</span><span class=\"v\">1, 2</span>");
    tu_assert_contains(page, "task modular, op add, p 5");
    /* the curves as the TSV files give them; the memorised epoch marked */
    tu_assert_contains(page, "\"title\": \"Loss\", \"ylabel\": \"cross-entropy loss\", \"log\": true,\n"
                             "   \"x\": [0,100,200]");
    tu_assert_contains(page, "{\"name\": \"train\", \"color\": \"#0072B2\", \"y\": [1.61,0.5,0.0125]}");
    tu_assert_contains(page, "{\"name\": \"W_E\", \"color\": \"#0072B2\", \"y\": [0.125,0.75]}");
    tu_assert_contains(page, "\"marks\": [{\"epoch\": 100, \"label\": \"memorised\"}]");
    /* the slider: its epochs, its views, each frame's bytes, its gaps */
    tu_assert_contains(page, "\"epochs\": [0,100,200]");
    tu_assert_contains(page, "\"views\": [\"neurons\", \"attention\"]");
    char want[512];
    snprintf(want, sizeof want, "\n [\n  \"data:image/svg+xml;base64,%s\",\n  null,\n  "
                                "\"data:image/svg+xml;base64,%s\"]",
             frame_a_b64, frame_b_b64);
    tu_assert_contains(page, want);
    snprintf(want, sizeof want, "\n [\n  null,\n  \"data:image/svg+xml;base64,%s\",\n  null]",
             frame_b_b64);
    tu_assert_contains(page, want);
    tu_assert_contains(page, "<input type=\"range\" id=\"ckpt\"");
    tu_assert_contains(page, "<img id=\"view-img-1\" alt=\"attention\">");
    tu_assert_contains(page, "<div class=\"caption\">Neurons &lt;grouped&gt;.</div>");
    /* the figure, its caption escaped */
    snprintf(want, sizeof want, "<figure><img alt=\"loss\" src=\"data:image/png;base64,%s\">"
                                "<figcaption><b>loss</b>: Train &amp; test &lt;loss&gt;."
                                "</figcaption></figure>",
             fig_png_b64);
    tu_assert_contains(page, want);
    /* self-contained: nothing fetched from elsewhere */
    assert_null(strstr(page, "src=\"http"));
    assert_null(strstr(page, "href=\"http"));
    assert_null(strstr(page, "<script src"));
    assert_null(strstr(page, "<link"));
    /* no string of the data can close the script element early: one
     * </script> per <script> */
    int open_tags = 0, close_tags = 0;
    for (const char *p = page; (p = strstr(p, "<script")); p++)
        open_tags++;
    for (const char *p = page; (p = strstr(p, "</script>")); p++)
        close_tags++;
    assert_int_equal(open_tags, 3);
    assert_int_equal(close_tags, 3);

    /* atomic: a failed write (a frame that cannot be read) leaves the page
     * as it was and no temporary file */
    char *listing = list_dir(dir);
    const char *bad_files[6] = {fa, "/nonexistent/frame.svg", NULL, fb, fb, NULL};
    view_frames bad = {3, epochs, 2, names, caps, bad_files};
    rc = view_write(dir, NULL, &bad, NULL, NULL, &e);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, "/nonexistent/frame.svg");
    size_t n2;
    char *page2 = tu_read_file(page_path, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(page, page2, n);
    char *listing2 = list_dir(dir);
    assert_string_equal(listing, listing2);
    assert_string_equal(listing, "checkpoints\nconfig.cfg\nfigures\nframe_a.svg\nframe_b.svg\n"
                                 "measures.tsv\nmetrics.tsv\nsummary.json\nview.html\n");

    /* no frames: the page says so; --out elsewhere */
    char *other = tu_path_in(dir, "other.html");
    assert_int_equal(view_write(dir, other, NULL, NULL, &res, &e), GROK_OK);
    char *page3 = tu_read_file(other, NULL);
    tu_assert_contains(page3, "No per-checkpoint views were drawn.");
    tu_assert_contains(page3, "\"epochs\": []");

    /* not a run directory */
    char *empty = tu_tmp_dir();
    assert_int_equal(view_write(empty, NULL, NULL, NULL, NULL, &e), GROK_EINVAL);
    tu_rm_tmp_dir(empty);

    free(page);
    free(page2);
    free(page3);
    free(listing);
    free(listing2);
    free(other);
    free(page_path);
    free(fa);
    free(fb);
    sbuf_free(&notes);
    tu_rm_tmp_dir(dir);
}

/* ---- the command ---------------------------------------------------------- */

static int run_view(char *a1, char *a2, char *a3, char *a4)
{
    char *argv[6] = {"view", a1, a2, a3, a4, NULL};
    int argc = 1;
    while (argc < 5 && argv[argc])
        argc++;
    blisarch_info bi;
    memset(&bi, 0, sizeof bi);
    return view_cmd_main(argc, argv, &bi);
}

static void test_cmd_refusals(void **state)
{
    (void)state;
    char *dir = tu_tmp_dir();
    make_fake_run(dir);
    char *listing = list_dir(dir);
    assert_int_equal(run_view(NULL, NULL, NULL, NULL), 2);
    assert_int_equal(run_view(dir, "--epochs", "150", NULL), 2); /* no such checkpoint */
    assert_int_equal(run_view(dir, "--epochs", "x1", NULL), 2);
    assert_int_equal(run_view(dir, "--views", "neurons,loss", NULL), 2);
    assert_int_equal(run_view(dir, "--max", "0", NULL), 2);
    assert_int_equal(run_view(dir, "--format", "pdf", NULL), 2);
    assert_int_equal(run_view(dir, "--epochs", "0", "--max=3"), 2);
    assert_int_equal(run_view(dir, "--bogus", NULL, NULL), 2);
    char *plain = tu_tmp_dir();
    assert_int_equal(run_view(plain, NULL, NULL, NULL), 2);
    tu_rm_tmp_dir(plain);
    char *listing2 = list_dir(dir);
    assert_string_equal(listing, listing2); /* nothing written */
    free(listing);
    free(listing2);
    tu_rm_tmp_dir(dir);
}

static void test_spread(void **state)
{
    (void)state;
    /* dense early checkpoints (every 10 to 100), then every 100 to 1000 */
    long ep[20];
    int n = 0;
    for (long e = 0; e < 100; e += 10)
        ep[n++] = e;
    for (long e = 100; e <= 1000; e += 100)
        ep[n++] = e;
    assert_int_equal(n, 20);
    int idx[32];
    int k = view_cmd_spread(ep, n, 5, idx);
    assert_int_equal(k, 5); /* epochs 0, 250 -> 200 or 300, 500, 750, 1000 */
    long want[5] = {0, 200, 500, 700, 1000};
    for (int i = 0; i < k; i++) {
        long got = ep[idx[i]];
        assert_true(got == want[i] || (i == 1 && got == 300) || (i == 3 && got == 800));
    }
    assert_int_equal(view_cmd_spread(ep, n, 100, idx), n);
    for (int i = 0; i < n; i++)
        assert_int_equal(idx[i], i);
    assert_int_equal(view_cmd_spread(ep, n, 1, idx), 1);
    assert_int_equal(idx[0], n - 1);
    /* more positions than distinct nearest checkpoints: each once */
    long few[3] = {0, 1, 1000};
    k = view_cmd_spread(few, 3, 2, idx);
    assert_int_equal(k, 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 2);
    assert_int_equal(view_cmd_spread(ep, 0, 5, idx), 0);
}

/* ---- end to end: grok view on a real run, in headless Chromium ------------- */

/* The value of the src attribute of the element with id (malloc'ed; "" when
 * it has none). */
static char *img_src(const char *dom, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *p = strstr(dom, key);
    assert_non_null(p);
    const char *tag = p;
    while (tag > dom && *tag != '<')
        tag--;
    const char *end = strchr(p, '>');
    assert_non_null(end);
    const char *s = strstr(tag, "src=\"");
    if (!s || s > end)
        return strdup("");
    s += 5;
    return strndup(s, strcspn(s, "\""));
}

static void chromium_load(const char *dir, const char *page, const char *frag, const char *shot,
                          char **dom, char **log)
{
    char cmd[PATH_N * 3];
    /* --user-data-dir: a fresh profile in the test's directory; --no-sandbox:
     * Chromium's sandbox refuses to run as root */
    snprintf(cmd, sizeof cmd,
             "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
             "--disable-extensions --disable-background-networking --user-data-dir=%s/profile "
             "--window-size=1280,4000 --enable-logging=stderr --v=0 --virtual-time-budget=5000 "
             "--screenshot=%s --dump-dom 'file://%s%s' > %s/dom.html 2> %s/chromium.log",
             dir, shot, page, frag, dir, dir);
    int rc = system(cmd);
    printf("# chromium %s: exit %d\n", frag, rc);
    assert_int_equal(rc, 0);
    char *d = tu_path_in(dir, "dom.html"), *l = tu_path_in(dir, "chromium.log");
    *dom = tu_read_file(d, NULL);
    *log = tu_read_file(l, NULL);
    assert_non_null(*dom);
    assert_non_null(*log);
    free(d);
    free(l);
}

static void check_no_js_errors(const char *dom, const char *log)
{
    /* console errors as Chromium logs them, and the page's own error box */
    const char *u = strstr(log, "Uncaught");
    if (u)
        printf("# chromium logged: %.200s\n", u);
    assert_null(u);
    const char *body = strstr(dom, "<body");
    assert_non_null(body);
    size_t body_len = strcspn(body, ">");
    char *tag = strndup(body, body_len);
    printf("# %s>\n", tag);
    assert_null(strstr(tag, "data-js-errors"));
    tu_assert_contains(tag, "data-view-ready=\"1\"");
    free(tag);
    tu_assert_contains(dom, "<div id=\"js-errors\" hidden=\"\"></div>");
}

static int png_size(const char *path, size_t *n)
{
    char *data = tu_read_file(path, n);
    if (!data)
        return 0;
    int ok = *n > 24 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8);
    free(data);
    return ok;
}

static void test_end_to_end(void **state)
{
    (void)state;
    const char *bin = getenv("GROK_BIN");
    if (!bin || !bin[0]) {
        printf("# GROK_BIN is not set: the end-to-end view test is skipped "
               "(make test sets it to the built ./grok)\n");
        return;
    }
    char *dir = tu_tmp_dir();
    char cmd[PATH_N * 2];
    /* a small run: a + b mod 23, 200 epochs, a checkpoint every 40, no
     * figures (grok view draws them) */
    snprintf(cmd, sizeof cmd,
             "%s train --set task.p=23 --set task.frac_train=0.8 --set model.d_model=32 "
             "--set model.d_mlp=64 --set model.d_head=8 --set train.epochs=200 "
             "--set checkpoint.every=40 --set checkpoint.early_until=0 --set measures.every=40 "
             "--set 'plots.formats=\"\"' --threads 1 --quiet --out %s/run",
             bin, dir);
    char *log = NULL;
    int rc = tu_run_shell(dir, cmd, &log);
    if (rc != 0)
        printf("# %s\n", log ? log : "");
    assert_int_equal(rc, 0);
    free(log);
    snprintf(cmd, sizeof cmd, "%s view %s/run --max 4 --threads 1", bin, dir);
    rc = tu_run_shell(dir, cmd, &log);
    printf("# grok view: exit %d\n%s", rc, log ? log : "");
    assert_int_equal(rc, 0);
    tu_assert_contains(log, "view: checkpoint 4/4 (epoch 200): 4 of 4 views drawn");
    tu_assert_contains(log, "view: wrote ");
    tu_assert_contains(log, "4 checkpoints x 4 views, 16 images");
    free(log);
    char run[PATH_N], page[PATH_N];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(page, sizeof page, "%s/run/view.html", dir);
    char *html = tu_read_file(page, NULL);
    assert_non_null(html);
    tu_assert_contains(html, "\"epochs\": [0,80,120,200]");
    tu_assert_contains(html, "<figure><img alt=\"loss\" src=\"data:image/png;base64,");
    tu_assert_contains(html, "<figure><img alt=\"neurons\" src=\"data:image/png;base64,");
    free(html);
    /* the scratch directory is gone; figures/ was drawn */
    char *listing = list_dir(run);
    assert_null(strstr(listing, ".view"));
    tu_assert_contains(listing, "figures\n");
    free(listing);
    DIR *d = opendir(run);
    assert_non_null(d);
    struct dirent *de;
    int left = 0;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, ".view-", 6)) {
            printf("# left behind: %s\n", de->d_name);
            left++;
        }
    closedir(d);
    assert_int_equal(left, 0);

    if (system("command -v chromium >/dev/null 2>&1") != 0) {
        printf("# chromium is not installed (Debian package chromium, make deps): the browser "
               "check of the view page is skipped\n");
        tu_rm_tmp_dir(dir);
        return;
    }
    char shot0[PATH_N], shot3[PATH_N];
    snprintf(shot0, sizeof shot0, "%s/shot0.png", dir);
    snprintf(shot3, sizeof shot3, "%s/shot3.png", dir);
    char *dom0, *log0, *dom3, *log3;
    chromium_load(dir, page, "#ckpt=0", shot0, &dom0, &log0);
    chromium_load(dir, page, "#ckpt=3", shot3, &dom3, &log3);
    check_no_js_errors(dom0, log0);
    check_no_js_errors(dom3, log3);
    tu_assert_contains(dom0, "data-ckpt=\"0\"");
    tu_assert_contains(dom3, "data-ckpt=\"3\"");
    tu_assert_contains(dom0, "epoch 0  (checkpoint 1 of 4)");
    tu_assert_contains(dom3, "epoch 200  (checkpoint 4 of 4)");
    /* the charts were drawn into SVG by the script */
    tu_assert_contains(dom0, "<polyline");
    /* the slider swapped the frames */
    for (int v = 0; v < 4; v++) {
        char id[32];
        snprintf(id, sizeof id, "view-img-%d", v);
        char *s0 = img_src(dom0, id), *s3 = img_src(dom3, id);
        printf("# %s: %zu-byte data URI at #ckpt=0, %zu-byte at #ckpt=3\n", id, strlen(s0),
               strlen(s3));
        assert_true(!strncmp(s0, "data:image/svg+xml;base64,", 26));
        assert_true(!strncmp(s3, "data:image/svg+xml;base64,", 26));
        assert_string_not_equal(s0, s3);
        free(s0);
        free(s3);
    }
    size_t n0, n3;
    assert_true(png_size(shot0, &n0));
    assert_true(png_size(shot3, &n3));
    char *a = tu_read_file(shot0, NULL), *b = tu_read_file(shot3, NULL);
    printf("# screenshots: %zu and %zu bytes\n", n0, n3);
    assert_true(n0 != n3 || memcmp(a, b, n0) != 0);
    free(a);
    free(b);
    free(dom0);
    free(log0);
    free(dom3);
    free(log3);
    tu_rm_tmp_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_cmd_refusals),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
