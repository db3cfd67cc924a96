/* test_export.c: `grok export` (notebooks_export/ and experiments/export_cmd.c).
 *
 * Unit tests run on a small fake run directory written here (three
 * checkpoints of four tensors with high-entropy values, metrics.tsv,
 * measures.tsv, summary.json, config.cfg, a PNG figure):
 *   npy_header  the .npy header bytes are np.save's, 64-byte aligned.
 *   npz         the .npz read back with this file's own ZIP and .npy reader
 *               (its own bitwise CRC-32, not zlib's): names, dtypes, shapes,
 *               and every stacked array equal to the checkpoints' tensors;
 *               the epochs, the metrics columns and the metadata; --epochs.
 *   npz_zip64   an archive forced to ZIP64 local headers (NPY_ZIP_FORCE_ZIP64):
 *               the ZIP64 extra field holds the entry's true size, numpy
 *               reads every byte back; a source that fails leaves nothing;
 *               with GROK_TEST_ZIP64_BIG=1 a 4.3 GB archive (ZIP64 end
 *               records, directory past 4 GiB) read back by numpy.
 *   safetensors the chosen checkpoints re-read equal, with a "tl_config".
 *   ipynb       the notebook is JSON of nbformat 4.5: unique cell ids, code
 *               cells unexecuted, the summary table, the figure attachment
 *               decoding to the PNG's bytes, the expected code cells; the
 *               same bytes when exported twice; the sweep notebook.
 *   bad_input   a missing directory, one that is not a run, a truncated
 *               checkpoint, a checkpoint of another shape, an unknown epoch:
 *               the right status, a message naming the file, nothing written.
 *   cli         export_cmd_main's flags and exit codes, the --epochs parser.
 * Where Debian's python3-numpy, python3-nbformat and jupyter-nbconvert (with
 * python3-ipykernel, python3-pandas, python3-matplotlib) are installed, the
 * .npz is also checked with numpy.load, the notebook validated with
 * nbformat, and (end_to_end, which needs GROK_BIN, set by make test) a real
 * small run is trained with the built grok, exported, and its notebook
 * executed with nbconvert: every cell must run and its NumPy logits check
 * pass.  Each of those skips with a message when its tools are missing. */
#define _GNU_SOURCE /* mkdtemp, setenv */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "export.h"
#include "export_cmd.h"
#include "fileio.h"
#include "npy.h"
#include "safetensors.h"
#include "testutil.h"

#define PATH_N 4096
#define DIR_N 2048 /* a directory that PATH_N paths are built in */
#define PYTHON "/usr/bin/python3"

/* ---- the fake run ---------------------------------------------------------- */

#define N_CKPT 3
#define N_TENSORS 4
static const long fake_epochs[N_CKPT] = {0, 10, 20};
static const char *const fake_names[N_TENSORS] = {"embed.W_E", "pos_embed.W_pos",
                                                  "blocks.0.attn.W_Q", "unembed.W_U"};
static const int fake_ndim[N_TENSORS] = {2, 2, 3, 2};
static const int64_t fake_shape[N_TENSORS][3] = {{6, 4, 0}, {3, 4, 0}, {2, 4, 2}, {4, 5, 0}};

/* A 1x1 PNG. */
static const unsigned char fake_png[] = {
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82};

static const char fake_config[] =
    "# grok run config (libconfig syntax): every key, resolved.\n"
    "seed = 7;                      # seed\n"
    "\n"
    "task = {\n"
    "  op = \"add\";                  # operation\n"
    "  p = 5;                       # modulus p\n"
    "  frac_train = 0.6;            # share\n"
    "};\n"
    "model = {\n"
    "  n_layers = 1;\n"
    "  d_model = 4;\n"
    "  n_heads = 2;\n"
    "  d_head = 2;\n"
    "  d_mlp = 8;\n"
    "  act = \"relu\";\n"
    "  layernorm = false;\n"
    "  attn_bias = false;\n"
    "  init_scale = 1.0;\n"
    "};\n"
    "optim = {\n"
    "  kind = \"adamw\";\n"
    "  lr = 0.001;\n"
    "  betas = [0.9, 0.98];\n"
    "  weight_decay = 1.0;\n"
    "  warmup = 10;\n"
    "};\n"
    "train = {\n"
    "  epochs = 20;\n"
    "  batch = 0;\n"
    "};\n";

static const char fake_metrics[] =
    "epoch\tlr\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\telapsed_s\n"
    "0\t0\t1.61\t1.62\t0.2\t0.1\t0.001\n"
    "10\t0.001\t0.5\t1.9\t0.8\t0.3\t0.002\n"
    "20\t0.001\t0.01\t0.02\t1\t1\t0.003\n";

static const char fake_measures[] =
    "epoch\tloss_train\tloss_test\tloss_restricted\tloss_excluded\tkey_freqs\n"
    "0\t1.61\t1.62\t1.6\t1.6\t1,2\n"
    "20\t0.01\t0.02\t0.015\t2.5\t1,2\n";

static const char fake_summary[] =
    "{\n  \"format\": \"grok-summary-1\",\n  \"status\": \"finished\",\n"
    "  \"epochs_done\": 20,\n  \"memorised_epoch\": 10,\n  \"grokked_epoch\": null,\n"
    "  \"final\": {\"epoch\": 20, \"lr\": 0.001, \"train_loss\": 0.01, \"test_loss\": 0.02, "
    "\"train_acc\": 1, \"test_acc\": 1},\n  \"n_params\": 104,\n  \"n_train\": 15,\n"
    "  \"n_test\": 10,\n  \"wall_s\": 0.5,\n"
    "  \"key_freqs\": [1, 2],\n"
    "  \"phases\": {\"memorisation_end\": 10, \"circuit_formation_end\": null, "
    "\"cleanup_end\": null}\n}\n";

/* The value of element i of tensor k at epoch ep: high-entropy, exact in float. */
static float fake_value(long ep, int k, size_t i)
{
    return (float)(2.385 * sin(1.7 * (double)i + 0.31 * k + 0.013 * (double)ep) + 0.001 * (double)ep);
}

static size_t fake_numel(int k)
{
    size_t n = 1;
    for (int d = 0; d < fake_ndim[k]; d++)
        n *= (size_t)fake_shape[k][d];
    return n;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char *path = tu_path_in(dir, name);
    tu_write_text(path, text);
    free(path);
}

/* Writes checkpoints/epoch-NNNNNN.safetensors for epoch ep; shape_of_k2 may
 * change tensor 2's first dimension (a mismatched checkpoint). */
static void write_fake_ckpt(const char *dir, long ep, int64_t first_dim_k2)
{
    st_tensor t[N_TENSORS];
    float *data[N_TENSORS];
    for (int k = 0; k < N_TENSORS; k++) {
        t[k].name = fake_names[k];
        t[k].dtype = ST_F32;
        t[k].ndim = fake_ndim[k];
        for (int d = 0; d < fake_ndim[k]; d++)
            t[k].shape[d] = fake_shape[k][d];
        if (k == 2 && first_dim_k2 > 0)
            t[k].shape[0] = first_dim_k2;
        size_t n = fake_numel(k) / (size_t)fake_shape[k][0] * (size_t)t[k].shape[0];
        data[k] = malloc(n * sizeof(float));
        assert_non_null(data[k]);
        for (size_t i = 0; i < n; i++)
            data[k][i] = fake_value(ep, k, i);
        t[k].data = data[k];
    }
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%ld", ep);
    const st_meta meta[] = {{"format", "grok-checkpoint-1"}, {"epoch", epoch},
                            {"n_layers", "1"},  {"d_model", "4"},  {"n_heads", "2"},
                            {"d_head", "2"},    {"d_mlp", "8"},    {"d_vocab", "6"},
                            {"d_vocab_out", "5"}, {"n_ctx", "3"},  {"act", "relu"},
                            {"layernorm", "0"}, {"attn_bias", "0"}, {"op", "add"},
                            {"p", "5"},         {"config", fake_config}};
    char path[PATH_N];
    snprintf(path, sizeof path, "%s/checkpoints/epoch-%06ld.safetensors", dir, ep);
    grok_err e = {{0}};
    int rc = st_write(path, t, N_TENSORS, meta, (int)(sizeof meta / sizeof meta[0]), &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    for (int k = 0; k < N_TENSORS; k++)
        free(data[k]);
}

static void make_fake_run(const char *dir)
{
    char path[PATH_N];
    write_text(dir, "config.cfg", fake_config);
    write_text(dir, "metrics.tsv", fake_metrics);
    write_text(dir, "measures.tsv", fake_measures);
    write_text(dir, "summary.json", fake_summary);
    write_text(dir, "split.tsv", "index\ta\tb\tlabel\tsplit\n0\t0\t0\t0\ttrain\n");
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/figures", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/figures/loss.png", dir);
    tu_write_file(path, fake_png, sizeof fake_png);
    snprintf(path, sizeof path, "%s/figures/readme.txt", dir);
    tu_write_text(path, "not a figure\n");
    for (int c = 0; c < N_CKPT; c++)
        write_fake_ckpt(dir, fake_epochs[c], 0);
}

/* Entries of dir (without . and ..), or -1 when it cannot be opened. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Runs a shell command with output into dir/cmd.log; returns its exit status
 * (-1 when it did not exit normally) and the log in *log (caller frees). */
static int have_python_module(const char *modules)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, PYTHON " -c 'import %s' >/dev/null 2>&1", modules);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- an independent .npz reader --------------------------------------------- */

/* Bitwise CRC-32 (reflected polynomial 0xEDB88320), not zlib's table. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define MAX_ENTRIES 64
typedef struct {
    char name[256];    /* without ".npy" */
    char descr[16];
    int ndim;
    long long shape[8];
    const unsigned char *data; /* the array's bytes */
    size_t n_data;
} npy_entry;

/* Parses the .npy bytes of one entry; fails the test on any deviation. */
static void parse_npy(const unsigned char *p, size_t n, npy_entry *out)
{
    assert_true(n >= 10);
    assert_memory_equal(p, "\x93NUMPY\x01\x00", 8);
    size_t hlen = le16(p + 8);
    assert_true(10 + hlen <= n);
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(p[10 + hlen - 1], '\n');
    char hdr[1024];
    assert_true(hlen < sizeof hdr);
    memcpy(hdr, p + 10, hlen);
    hdr[hlen] = '\0';
    const char *d = strstr(hdr, "{'descr': '");
    assert_non_null(d);
    d += strlen("{'descr': '");
    const char *q = strchr(d, '\'');
    assert_non_null(q);
    assert_true((size_t)(q - d) < sizeof out->descr);
    memcpy(out->descr, d, (size_t)(q - d));
    out->descr[q - d] = '\0';
    assert_non_null(strstr(hdr, "'fortran_order': False"));
    const char *s = strstr(hdr, "'shape': (");
    assert_non_null(s);
    s += strlen("'shape': (");
    out->ndim = 0;
    while (*s != ')') {
        char *end;
        long long v = strtoll(s, &end, 10);
        assert_true(end != s && out->ndim < 8);
        out->shape[out->ndim++] = v;
        s = end;
        if (*s == ',')
            s++;
        while (*s == ' ')
            s++;
    }
    out->data = p + 10 + hlen;
    out->n_data = n - 10 - hlen;
}

/* Reads every entry of the archive buf[0..n); returns the count. */
static int read_npz(const unsigned char *buf, size_t n, npy_entry *entries)
{
    assert_true(n >= 22);
    const unsigned char *eocd = buf + n - 22;
    assert_int_equal(le32(eocd), 0x06054b50u);
    int count = (int)le16(eocd + 10);
    assert_int_equal(le16(eocd + 8), count);
    size_t cd_size = le32(eocd + 12), cd_off = le32(eocd + 16);
    assert_int_equal(cd_off + cd_size, n - 22);
    assert_true(count <= MAX_ENTRIES);
    size_t at = cd_off;
    for (int i = 0; i < count; i++) {
        const unsigned char *c = buf + at;
        assert_int_equal(le32(c), 0x02014b50u);
        assert_int_equal(le16(c + 10), 0); /* stored */
        uint32_t crc = le32(c + 16), csize = le32(c + 20), usize = le32(c + 24);
        size_t nlen = le16(c + 28), elen = le16(c + 30), clen = le16(c + 32);
        size_t loff = le32(c + 42);
        assert_int_equal(csize, usize);
        assert_true(nlen > 4 && nlen < sizeof entries[i].name);
        assert_memory_equal(c + 46 + nlen - 4, ".npy", 4);
        memcpy(entries[i].name, c + 46, nlen - 4);
        entries[i].name[nlen - 4] = '\0';
        const unsigned char *l = buf + loff;
        assert_int_equal(le32(l), 0x04034b50u);
        assert_int_equal(le32(l + 14), crc); /* the local header agrees */
        assert_int_equal(le32(l + 18), csize);
        assert_int_equal(le16(l + 26), nlen);
        assert_memory_equal(l + 30, c + 46, nlen);
        const unsigned char *data = l + 30 + nlen + le16(l + 28);
        assert_true(data + usize <= buf + cd_off);
        assert_int_equal(crc32_bitwise(data, usize), crc);
        parse_npy(data, usize, &entries[i]);
        at += 46 + nlen + elen + clen;
    }
    return count;
}

static const npy_entry *find_entry(const npy_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0)
            return &e[i];
    printf("# no array '%s' in the archive\n", name);
    fail();
    return NULL;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_npy_header(void **state)
{
    (void)state;
    static const struct {
        const char *descr;
        int ndim;
        int64_t shape[2];
        const char *dict;
    } cases[] = {
        {"<f4", 2, {114, 128}, "{'descr': '<f4', 'fortran_order': False, 'shape': (114, 128), }"},
        {"<i8", 1, {5, 0}, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"},
        {"<f8", 0, {0, 0}, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
        {"<f4", 2, {0, 4}, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf b;
        sbuf_init(&b);
        npy_header(&b, cases[i].descr, cases[i].ndim, cases[i].shape);
        size_t dl = strlen(cases[i].dict);
        printf("# npy header %-62s %zu bytes\n", cases[i].dict, b.len);
        assert_int_equal(b.len, 128); /* numpy's size for every small header */
        assert_memory_equal(b.data, "\x93NUMPY\x01\x00", 8);
        assert_int_equal(le16((const unsigned char *)b.data + 8), 128 - 10);
        assert_memory_equal(b.data + 10, cases[i].dict, dl);
        for (size_t k = 10 + dl; k < b.len - 1; k++)
            assert_int_equal(b.data[k], ' ');
        assert_int_equal(b.data[b.len - 1], '\n');
        sbuf_free(&b);
    }
}

/* Checks the stacked array `name` of the archive against the fake
 * checkpoints of epochs[0..C). */
static void check_stacked(const npy_entry *en, int n_en, int k, const long *epochs, int C)
{
    const npy_entry *a = find_entry(en, n_en, fake_names[k]);
    assert_string_equal(a->descr, "<f4");
    assert_int_equal(a->ndim, fake_ndim[k] + 1);
    assert_int_equal(a->shape[0], C);
    for (int d = 0; d < fake_ndim[k]; d++)
        assert_int_equal(a->shape[d + 1], fake_shape[k][d]);
    size_t n = fake_numel(k);
    assert_int_equal(a->n_data, (size_t)C * n * sizeof(float));
    float *got = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
    assert_true(got && want);
    for (int c = 0; c < C; c++) {
        memcpy(got, a->data + (size_t)c * n * sizeof(float), n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            want[i] = fake_value(epochs[c], k, i);
        char what[128];
        snprintf(what, sizeof what, "npz %s[%d] vs checkpoint epoch %ld", fake_names[k], c,
                 epochs[c]);
        tu_check_close_f(what, got, want, n, (tu_tol){0});
    }
    free(got);
    free(want);
}

static void test_npz(void **state)
{
    const char *dir = *state;
    make_fake_run(dir);
    grok_err e = {{0}};
    export_result res;
    int rc = export_npz(dir, NULL, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    char path[PATH_N];
    snprintf(path, sizeof path, "%s/run.npz", dir);
    assert_string_equal(res.path, path);
    assert_int_equal(res.n_checkpoints, N_CKPT);
    size_t n;
    unsigned char *buf = (unsigned char *)tu_read_file(path, &n);
    assert_non_null(buf);
    assert_int_equal(res.bytes, n);
    npy_entry en[MAX_ENTRIES];
    int n_en = read_npz(buf, n, en);
    printf("# npz: %d arrays in %zu bytes, every CRC-32 right\n", n_en, n);
    for (int k = 0; k < N_TENSORS; k++)
        check_stacked(en, n_en, k, fake_epochs, N_CKPT);

    const npy_entry *ep = find_entry(en, n_en, "epochs");
    assert_string_equal(ep->descr, "<i8");
    assert_int_equal(ep->shape[0], N_CKPT);
    for (int c = 0; c < N_CKPT; c++) {
        int64_t v;
        memcpy(&v, ep->data + 8 * (size_t)c, 8);
        assert_int_equal(v, fake_epochs[c]);
    }
    const npy_entry *tl = find_entry(en, n_en, "metrics.test_loss");
    assert_string_equal(tl->descr, "<f8");
    double got[3], want[3] = {1.62, 1.9, 0.02};
    memcpy(got, tl->data, sizeof got);
    tu_check_close_d("npz metrics.test_loss vs metrics.tsv", got, want, 3, (tu_tol){0});
    assert_string_equal(find_entry(en, n_en, "metrics.epoch")->descr, "<i8");
    assert_string_equal(find_entry(en, n_en, "measures.loss_restricted")->descr, "<f8");
    for (int i = 0; i < n_en; i++) /* key_freqs ("1,2") is text: left out */
        assert_string_not_equal(en[i].name, "measures.key_freqs");
    const npy_entry *dm = find_entry(en, n_en, "meta.d_model");
    assert_string_equal(dm->descr, "<i8");
    assert_int_equal(dm->ndim, 0);
    int64_t v;
    memcpy(&v, dm->data, 8);
    assert_int_equal(v, 4);
    const npy_entry *act = find_entry(en, n_en, "meta.act");
    assert_string_equal(act->descr, "<U4");
    assert_memory_equal(act->data, "r\0\0\0e\0\0\0l\0\0\0u\0\0\0", 16);
    const npy_entry *cfg = find_entry(en, n_en, "meta.config");
    assert_int_equal(cfg->n_data, 4 * strlen(fake_config));
    free(buf);

    /* numpy itself, where installed */
    if (have_python_module("numpy")) {
        char cmd[2 * PATH_N], *log = NULL;
        snprintf(cmd, sizeof cmd,
                 PYTHON " -c \"import numpy as np, sys; z = np.load(sys.argv[1]); "
                        "w = z['blocks.0.attn.W_Q']; "
                        "assert w.shape == (3, 2, 4, 2) and w.dtype == np.float32, w.shape; "
                        "assert list(z['epochs']) == [0, 10, 20]; "
                        "assert str(z['meta.act']) == 'relu' and int(z['meta.p']) == 5; "
                        "print('numpy.load:', len(z.files), 'arrays; W_Q[2,1,3,1] =', "
                        "'%%.9g' %% w[2, 1, 3, 1])\" %s",
                 path);
        rc = tu_run_shell(dir, cmd, &log);
        printf("# %s", log ? log : "(no output)\n");
        assert_int_equal(rc, 0);
        /* the same element of the fake data: tensor 2, epoch 20, flat index (1*4+3)*2+1 */
        char want_txt[64];
        snprintf(want_txt, sizeof want_txt, "W_Q[2,1,3,1] = %.9g\n", (double)fake_value(20, 2, 15));
        printf("# want %s", want_txt);
        tu_assert_contains(log, want_txt);
        free(log);
    } else {
        printf("# numpy not installed: numpy.load check skipped\n");
    }

    /* --epochs: the given order, 'last', no repeats */
    const long pick[] = {20, 0, EXPORT_LAST};
    snprintf(path, sizeof path, "%s/pick.npz", dir);
    export_opts o = {.epochs = pick, .n_epochs = 3, .out = path};
    assert_int_equal(export_npz(dir, &o, &res, &e), GROK_OK);
    assert_int_equal(res.n_checkpoints, 2);
    buf = (unsigned char *)tu_read_file(path, &n);
    n_en = read_npz(buf, n, en);
    const long picked[] = {20, 0};
    for (int k = 0; k < N_TENSORS; k++)
        check_stacked(en, n_en, k, picked, 2);
    printf("# npz --epochs 20,0,last: epochs 20 and 0, in that order\n");
    free(buf);
}

/* ---- ZIP64 (libzip) ---------------------------------------------------------- */

/* Byte i of the streamed test arrays: a pattern that tells positions apart. */
static unsigned char zip64_byte(uint64_t i)
{
    return (unsigned char)((i * 2654435761u) >> 13);
}

static int zip64_fill(void *ctx, uint64_t off, void *buf, size_t n, grok_err *e)
{
    (void)ctx;
    (void)e;
    unsigned char *b = buf;
    for (size_t i = 0; i < n; i++)
        b[i] = zip64_byte(off + i);
    return GROK_OK;
}

/* Serves the first piece, then fails. */
static int failing_fill(void *ctx, uint64_t off, void *buf, size_t n, grok_err *e)
{
    int *calls = ctx;
    (*calls)++;
    if (off > 0)
        return grok_fail(e, GROK_EIO, "test: the source broke at byte %llu",
                         (unsigned long long)off);
    memset(buf, 0, n);
    return GROK_OK;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* numpy.load reads big (n bytes of zip64_byte) and small ([1, 2, 3, -4]) */
static void zip64_numpy_check(const char *dir, const char *path, uint64_t n, int whole)
{
    if (!have_python_module("numpy")) {
        printf("# numpy not installed: numpy.load check skipped\n");
        return;
    }
    char cmd[2 * PATH_N], *log = NULL;
    /* whole: every byte of big against the pattern; else its first and last
     * MiB through zipfile (a 4 GiB array is not read into memory) */
    snprintf(cmd, sizeof cmd,
             PYTHON " -c \"import numpy as np, sys, zipfile; n = %llu; p = sys.argv[1]; "
                    "z = np.load(p); assert list(z['small']) == [1, 2, 3, -4], z['small']; "
                    "pat = lambda i: ((i * np.uint64(2654435761)) >> np.uint64(13)) & np.uint64(255); "
                    "zf = zipfile.ZipFile(p); info = zf.getinfo('big.npy'); "
                    "assert info.compress_type == zipfile.ZIP_STORED; "
                    "f = zf.open('big.npy'); hdr = np.lib.format.read_magic(f); "
                    "shape = np.lib.format.read_array_header_1_0(f)[0]; assert shape == (n,), shape; "
                    "h = info.file_size - n; "
                    "ok = lambda a, at: bool(np.all(a == pat(np.arange(at, at + len(a), dtype=np.uint64)).astype(np.uint8))); "
                    "a = z['big'] if %d else np.frombuffer(f.read(1 << 20), np.uint8); assert ok(a, 0); "
                    "f.seek(h + n - (1 << 20)); b = np.frombuffer(f.read(), np.uint8); "
                    "assert len(b) == 1 << 20 and ok(b, n - (1 << 20)); "
                    "print('numpy.load: big', info.file_size, 'bytes, header', h, '; small', list(z['small']))\" %s",
             (unsigned long long)n, whole, path);
    int rc = tu_run_shell(dir, cmd, &log);
    printf("# %s", log ? log : "(no output)\n");
    assert_int_equal(rc, 0);
    free(log);
}

static void test_npz_zip64(void **state)
{
    const char *dir = *state;
    char path[PATH_N];
    grok_err e = {{0}};
    const int64_t small[4] = {1, 2, 3, -4};
    const int64_t small_shape[1] = {4};

    /* a small archive forced to ZIP64 local headers, as an entry past 4 GiB
     * gets them: 3 MB streamed in three pieces, then an array in memory */
    const uint64_t n = 3000000;
    const int64_t shape[1] = {(int64_t)n};
    snprintf(path, sizeof path, "%s/z64.npz", dir);
    npy_zip *z;
    assert_int_equal(npy_zip_open_flags(&z, path, NPY_ZIP_FORCE_ZIP64, &e), GROK_OK);
    assert_int_equal(npy_zip_add_stream(z, "big", "|u1", 1, shape, zip64_fill, NULL, &e), GROK_OK);
    assert_int_equal(npy_zip_add(z, "small", "<i8", 1, small_shape, small, &e), GROK_OK);
    size_t bytes = 0;
    int rc = npy_zip_close(z, &bytes, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    size_t fn;
    unsigned char *buf = (unsigned char *)tu_read_file(path, &fn);
    assert_int_equal(fn, bytes);
    sbuf h;
    sbuf_init(&h);
    npy_header(&h, "|u1", 1, shape);
    const uint64_t entry = h.len + n;
    sbuf_free(&h);
    /* the local header: version 4.5 (ZIP64) needed, the sizes in the ZIP64
     * extra field (id 1: uncompressed, then compressed size, 8 bytes each);
     * libzip 1.7 also leaves them in the 32-bit fields when they fit there,
     * later versions write 0xFFFFFFFF */
    assert_int_equal(le32(buf), 0x04034b50u);
    assert_int_equal(le16(buf + 4), 45);
    assert_int_equal(le16(buf + 8), 0); /* stored */
    assert_true(le32(buf + 18) == 0xFFFFFFFFu || le32(buf + 18) == entry);
    assert_true(le32(buf + 22) == 0xFFFFFFFFu || le32(buf + 22) == entry);
    size_t nlen = le16(buf + 26), elen = le16(buf + 28);
    assert_memory_equal(buf + 30, "big.npy", nlen);
    int found = 0;
    for (size_t at = 30 + nlen; at + 4 <= 30 + nlen + elen;) {
        unsigned id = le16(buf + at), len = le16(buf + at + 2);
        if (id == 1) {
            assert_true(len >= 16);
            assert_true(le64(buf + at + 4) == entry);
            assert_true(le64(buf + at + 12) == entry);
            found = 1;
        }
        at += 4 + len;
    }
    assert_true(found);
    /* the data follows, and the central directory's CRC is the data's */
    const unsigned char *data = buf + 30 + nlen + elen;
    assert_memory_equal(data, "\x93NUMPY", 6);
    assert_int_equal(data[entry - 1], zip64_byte(n - 1));
    const unsigned char *eocd = buf + fn - 22;
    assert_int_equal(le32(eocd), 0x06054b50u);
    const unsigned char *cd = buf + le32(eocd + 16);
    assert_int_equal(le32(cd), 0x02014b50u);
    assert_int_equal(le32(cd + 16), crc32_bitwise(data, entry));
    printf("# forced ZIP64: %zu bytes, local header with a ZIP64 extra field of %zu bytes\n", fn,
           elen);
    free(buf);
    zip64_numpy_check(dir, path, n, 1);

    /* a source that fails mid-way: its message, nothing written */
    snprintf(path, sizeof path, "%s/fail.npz", dir);
    int calls = 0;
    assert_int_equal(npy_zip_open(&z, path, &e), GROK_OK);
    assert_int_equal(npy_zip_add_stream(z, "big", "|u1", 1, shape, failing_fill, &calls, &e),
                     GROK_OK);
    rc = npy_zip_close(z, NULL, &e);
    assert_int_equal(rc, GROK_EIO);
    tu_assert_contains(e.msg, "test: the source broke at byte 1048576");
    assert_int_equal(calls, 2);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        assert_true(strncmp(de->d_name, "fail.npz", 8) != 0);
    closedir(d);

    /* the real thing, past 4 GiB (GROK_TEST_ZIP64_BIG=1: writes 4.3 GB) */
    const char *big = getenv("GROK_TEST_ZIP64_BIG");
    if (!big || strcmp(big, "1")) {
        printf("# GROK_TEST_ZIP64_BIG is not 1: the 4.3 GB archive is skipped\n");
        return;
    }
    const uint64_t nb = (4ull << 30) + (64ull << 20);
    const int64_t big_shape[1] = {(int64_t)nb};
    snprintf(path, sizeof path, "%s/big.npz", dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(npy_zip_open(&z, path, &e), GROK_OK);
    assert_int_equal(npy_zip_add_stream(z, "big", "|u1", 1, big_shape, zip64_fill, NULL, &e),
                     GROK_OK);
    assert_int_equal(npy_zip_add(z, "small", "<i8", 1, small_shape, small, &e), GROK_OK);
    rc = npy_zip_close(z, &bytes, &e);
    if (rc)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("# %zu bytes written in %.1f s\n", bytes,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    /* the ZIP64 end records: the end of central directory record 64 and its
     * locator before the plain end record */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char tail[22 + 20];
    assert_int_equal(fseeko(f, -(off_t)sizeof tail, SEEK_END), 0);
    assert_int_equal(fread(tail, 1, sizeof tail, f), sizeof tail);
    assert_int_equal(le32(tail), 0x07064b50u); /* the ZIP64 locator */
    uint64_t eocd64 = le64(tail + 8);
    unsigned char rec[56];
    assert_int_equal(fseeko(f, (off_t)eocd64, SEEK_SET), 0);
    assert_int_equal(fread(rec, 1, sizeof rec, f), sizeof rec);
    assert_int_equal(le32(rec), 0x06064b50u);
    assert_true(le64(rec + 48) > (4ull << 30)); /* the directory starts past 4 GiB */
    fclose(f);
    zip64_numpy_check(dir, path, nb, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    printf("# numpy check done in %.1f s\n",
           (double)(t0.tv_sec - t1.tv_sec) + 1e-9 * (double)(t0.tv_nsec - t1.tv_nsec));
    unlink(path);
}

static void test_safetensors(void **state)
{
    const char *dir = *state;
    make_fake_run(dir);
    char out[DIR_N];
    snprintf(out, sizeof out, "%s/st", dir);
    const long pick[] = {0, EXPORT_LAST};
    export_opts o = {.epochs = pick, .n_epochs = 2, .out = out};
    export_result res;
    grok_err e = {{0}};
    int rc = export_safetensors(dir, &o, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(res.n_checkpoints, 2);
    assert_int_equal(count_entries(out), 2);
    const long want_ep[] = {0, 20};
    for (int c = 0; c < 2; c++) {
        char path[PATH_N];
        snprintf(path, sizeof path, "%s/epoch-%06ld.safetensors", out, want_ep[c]);
        st_file f;
        assert_int_equal(st_read(&f, path, &e), GROK_OK);
        assert_int_equal(f.n_tensors, N_TENSORS);
        for (int k = 0; k < N_TENSORS; k++) {
            const st_tensor *t = st_find(&f, fake_names[k]);
            assert_non_null(t);
            size_t n = fake_numel(k);
            float *want = malloc(n * sizeof(float));
            for (size_t i = 0; i < n; i++)
                want[i] = fake_value(want_ep[c], k, i);
            char what[128];
            snprintf(what, sizeof what, "safetensors %s epoch %ld", fake_names[k], want_ep[c]);
            tu_check_close_f(what, t->data, want, n, (tu_tol){0});
            free(want);
        }
        assert_string_equal(st_meta_get(&f, "epoch"), c ? "20" : "0");
        const char *tl = st_meta_get(&f, "tl_config");
        assert_non_null(tl);
        printf("# tl_config: %s\n", tl);
        json_error_t je;
        json_t *v = json_loads(tl, JSON_REJECT_DUPLICATES, &je);
        assert_non_null(v);
        assert_true(json_number_value(json_object_get(v, "d_model")) == 4);
        assert_true(json_number_value(json_object_get(v, "d_vocab_out")) == 5);
        assert_string_equal(json_string_value(json_object_get(v, "act_fn")), "relu");
        assert_true(json_is_null(json_object_get(v, "normalization_type")));
        json_decref(v);
        st_file_free(&f);
    }
    /* into the run's own checkpoints folder: refused */
    char ck[PATH_N];
    snprintf(ck, sizeof ck, "%s/checkpoints", dir);
    o.out = ck;
    assert_int_equal(export_safetensors(dir, &o, &res, &e), GROK_EINVAL);
    printf("# --out checkpoints/: %s\n", e.msg);
    tu_assert_contains(e.msg, "own checkpoints folder");
}

/* Decodes standard base64; returns the length, or (size_t)-1. */
static size_t base64_decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned v = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(tab, *s);
        if (!p)
            return (size_t)-1;
        v = (v << 6) | (unsigned)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return (size_t)-1;
            out[n++] = (unsigned char)((v >> bits) & 0xFF);
        }
    }
    return n;
}

/* The concatenated source of a cell. */
static char *cell_source(const json_t *cell)
{
    const json_t *src = json_object_get(cell, "source"), *x;
    assert_true(json_is_array(src));
    sbuf b;
    sbuf_init(&b);
    size_t i;
    json_array_foreach(src, i, x) {
        assert_true(json_is_string(x));
        sbuf_puts(&b, json_string_value(x));
    }
    if (!b.data)
        sbuf_puts(&b, "");
    return b.data;
}

static const char *get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Checks the nbformat 4.5 shape of nb; returns the number of cells. */
static int check_nb_shape(const json_t *nb)
{
    assert_true(json_is_integer(json_object_get(nb, "nbformat")) &&
                json_integer_value(json_object_get(nb, "nbformat")) == 4);
    assert_true(json_integer_value(json_object_get(nb, "nbformat_minor")) == 5);
    const json_t *ks = json_object_get(json_object_get(nb, "metadata"), "kernelspec");
    assert_string_equal(get_str(ks, "name"), "python3");
    const json_t *cells = json_object_get(nb, "cells");
    assert_true(json_is_array(cells));
    for (size_t i = 0; i < json_array_size(cells); i++) {
        const json_t *c = json_array_get(cells, i);
        const char *type = get_str(c, "cell_type"), *id = get_str(c, "id");
        assert_non_null(type);
        assert_non_null(id);
        assert_true(strlen(id) >= 1 && strlen(id) <= 64);
        assert_int_equal(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"),
                         strlen(id));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(id, get_str(json_array_get(cells, j), "id"));
        assert_true(json_is_object(json_object_get(c, "metadata")));
        if (strcmp(type, "code") == 0) {
            assert_true(json_is_null(json_object_get(c, "execution_count")));
            assert_true(json_is_array(json_object_get(c, "outputs")));
            assert_int_equal(json_array_size(json_object_get(c, "outputs")), 0);
        } else {
            assert_string_equal(type, "markdown");
        }
        free(cell_source(c));
    }
    return (int)json_array_size(cells);
}

/* The first cell whose source contains needle, or fails. */
static const json_t *find_cell(const json_t *nb, const char *type, const char *needle)
{
    const json_t *cells = json_object_get(nb, "cells");
    for (size_t i = 0; i < json_array_size(cells); i++) {
        const json_t *c = json_array_get(cells, i);
        if (strcmp(get_str(c, "cell_type"), type) != 0)
            continue;
        char *s = cell_source(c);
        int hit = strstr(s, needle) != NULL;
        free(s);
        if (hit)
            return c;
    }
    printf("# no %s cell contains \"%s\"\n", type, needle);
    fail();
    return NULL;
}

/* The notebook text parsed (duplicate keys refused); fails when not JSON. */
static json_t *parse_nb(const char *text, size_t n)
{
    json_error_t je;
    json_t *nb = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!nb)
        printf("# invalid JSON at line %d, column %d: %s\n", je.line, je.column, je.text);
    assert_non_null(nb);
    return nb;
}

static void validate_nbformat(const char *dir, const char *path)
{
    if (!have_python_module("nbformat")) {
        printf("# python3-nbformat not installed: nbformat validation skipped\n");
        return;
    }
    char cmd[2 * PATH_N], *log = NULL;
    snprintf(cmd, sizeof cmd,
             PYTHON " -c \"import nbformat, sys; nb = nbformat.read(sys.argv[1], as_version=4); "
                    "nbformat.validate(nb); print('nbformat.validate: valid,', len(nb.cells), "
                    "'cells')\" %s",
             path);
    int rc = tu_run_shell(dir, cmd, &log);
    printf("# %s", log ? log : "(no output)\n");
    assert_int_equal(rc, 0);
    free(log);
}

static void test_ipynb(void **state)
{
    const char *dir = *state;
    make_fake_run(dir);
    export_result res;
    grok_err e = {{0}};
    int rc = export_ipynb(dir, NULL, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(res.n_figures, 1);
    assert_int_equal(res.n_checkpoints, N_CKPT);
    size_t n;
    char *text = tu_read_file(res.path, &n);
    assert_non_null(text);
    json_t *nb = parse_nb(text, n);
    int n_cells = check_nb_shape(nb);
    printf("# notebook: %zu bytes, %d cells, ids unique, code cells unexecuted\n", n, n_cells);

    char *summary = cell_source(find_cell(nb, "markdown", "## Summary"));
    printf("# summary cell:\n%s\n", summary);
    tu_assert_contains(summary, "`(a + b) mod 5`");
    tu_assert_contains(summary, "| memorised (train acc &ge; 0.99) | 10 |");
    tu_assert_contains(summary, "| grokked (test acc &ge; 0.99) | not reached |");
    tu_assert_contains(summary, "| key frequencies | 1, 2 |");
    tu_assert_contains(summary, "memorisation until epoch 10; circuit formation until "
                                "(not reached)");
    tu_assert_contains(summary, "| final (epoch 20) | train loss 0.01, test loss 0.02");
    tu_assert_contains(summary, "| checkpoints | 3, epochs 0 to 20 |");
    tu_assert_contains(summary, "seed 7");
    free(summary);

    const json_t *fig = find_cell(nb, "markdown", "![loss](attachment:loss.png)");
    const char *b64 = get_str(json_object_get(json_object_get(fig, "attachments"), "loss.png"),
                              "image/png");
    assert_non_null(b64);
    unsigned char png[256];
    size_t np = base64_decode(b64, png, sizeof png);
    assert_int_equal(np, sizeof fake_png);
    assert_memory_equal(png, fake_png, sizeof fake_png);
    printf("# figure attachment loss.png decodes to the file's %zu bytes\n", np);

    find_cell(nb, "code", "RUN_DIR = Path('.')");
    find_cell(nb, "code", "pd.read_csv(RUN_DIR / 'metrics.tsv', sep='\\t')");
    find_cell(nb, "code", "def load_safetensors(path):");
    find_cell(nb, "code", "def forward(W, cfg, tokens):");
    find_cell(nb, "code", "logits check passed");
    find_cell(nb, "code", "HookedTransformerConfig(**tl_config)");
    json_decref(nb);

    /* deterministic */
    char *again;
    char path2[PATH_N];
    snprintf(path2, sizeof path2, "%s/sub/again.ipynb", dir);
    export_opts o = {.out = path2};
    assert_int_equal(export_ipynb(dir, &o, &res, &e), GROK_OK);
    again = tu_read_file(path2, NULL);
    /* only RUN_DIR differs: '..' from sub/ */
    char *p = strstr(again, "RUN_DIR = Path('..')");
    assert_non_null(p);
    memmove(p + strlen("RUN_DIR = Path('."), p + strlen("RUN_DIR = Path('.."),
            strlen(p + strlen("RUN_DIR = Path('..")) + 1);
    assert_string_equal(again, text);
    printf("# a second export (to sub/) differs only in RUN_DIR = Path('..')\n");
    free(again);
    /* --out an existing directory: the default name inside it */
    snprintf(path2, sizeof path2, "%s/sub", dir);
    assert_int_equal(export_ipynb(dir, &o, &res, &e), GROK_OK);
    snprintf(path2, sizeof path2, "%s/sub/run.ipynb", dir);
    assert_string_equal(res.path, path2);

    validate_nbformat(dir, res.path);
    free(text);

    /* --epochs does not apply */
    const long pick[] = {0};
    export_opts oe = {.epochs = pick, .n_epochs = 1};
    assert_int_equal(export_ipynb(dir, &oe, &res, &e), GROK_EINVAL);
    tu_assert_contains(e.msg, "--epochs applies to npz and safetensors");
}

static void test_sweep(void **state)
{
    const char *dir = *state;
    char run[PATH_N], path[PATH_N];
    /* the layout of experiments/sweep.h: points.tsv, sweep.tsv, <point name>/ */
    snprintf(run, sizeof run, "%s/weight_decay=1", dir);
    assert_int_equal(mkdir(run, 0777), 0);
    make_fake_run(run);
    write_text(dir, "points.tsv", "index\tname\toptim.weight_decay\n0\tweight_decay=1\t1\n"
                                  "1\tweight_decay=2\t2\n");
    write_text(dir, "sweep.tsv",
               "index\tname\toptim.weight_decay\tstatus\tgrokked_epoch\tkey_freqs\n"
               "0\tweight_decay=1\t1\tfinished\tnone\t1,2\n"
               "1\tweight_decay=2\t2\tpending\t900\tnone\n");
    snprintf(path, sizeof path, "%s/figures", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/figures/phase.png", dir);
    tu_write_file(path, fake_png, sizeof fake_png);
    export_result res;
    grok_err e = {{0}};
    int rc = export_ipynb(dir, NULL, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    assert_int_equal(res.n_runs, 1);
    assert_int_equal(res.n_figures, 1);
    snprintf(path, sizeof path, "%s/sweep.ipynb", dir);
    assert_string_equal(res.path, path);
    size_t n;
    char *text = tu_read_file(path, &n);
    json_t *nb = parse_nb(text, n);
    int n_cells = check_nb_shape(nb);
    char *table = cell_source(find_cell(nb, "markdown", "# grok sweep"));
    tu_assert_contains(table, "| index | name | optim.weight\\_decay | status | grokked\\_epoch "
                              "| key\\_freqs |");
    tu_assert_contains(table, "| 1 | weight\\_decay=2 | 2 | pending | 900 | none |");
    free(table);
    find_cell(nb, "markdown", "![phase](attachment:phase.png)");
    find_cell(nb, "code", "SWEEP_DIR = Path('.')");
    find_cell(nb, "code", "sweep = pd.read_csv(SWEEP_DIR / 'sweep.tsv', sep='\\t', "
                           "na_values=['none'])");
    printf("# sweep notebook: %d cells, the sweep table, one figure, one run found\n", n_cells);
    json_decref(nb);
    validate_nbformat(dir, path);
    free(text);
    /* a sweep directory is not a run for npz */
    assert_int_equal(export_npz(dir, NULL, &res, &e), GROK_EINVAL);
    printf("# npz of a sweep: %s\n", e.msg);
    tu_assert_contains(e.msg, "it is a sweep");
}

static void test_bad_input(void **state)
{
    const char *dir = *state;
    export_result res;
    grok_err e = {{0}};
    char path[DIR_N];
    typedef int (*export_fn)(const char *, const export_opts *, export_result *, grok_err *);
    const export_fn fns[3] = {export_ipynb, export_npz, export_safetensors};
    const char *names[3] = {"ipynb", "npz", "safetensors"};

    /* a missing directory */
    snprintf(path, sizeof path, "%s/nowhere", dir);
    for (int f = 0; f < 3; f++) {
        assert_int_equal(fns[f](path, NULL, &res, &e), GROK_EINVAL);
        printf("# %s, missing dir: %s\n", names[f], e.msg);
        tu_assert_contains(e.msg, "nowhere");
        tu_assert_contains(e.msg, "No such file or directory");
    }
    /* a directory that is not a run */
    snprintf(path, sizeof path, "%s/empty", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    write_text(path, "notes.txt", "hello\n");
    for (int f = 0; f < 3; f++) {
        assert_int_equal(fns[f](path, NULL, &res, &e), GROK_EINVAL);
        printf("# %s, not a run: %s\n", names[f], e.msg);
        tu_assert_contains(e.msg, "is not a run directory: it has no config.cfg");
        assert_int_equal(count_entries(path), 1);
    }
    /* a run without checkpoints */
    snprintf(path, sizeof path, "%s/run", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    make_fake_run(path);
    char ck[PATH_N];
    for (int c = 0; c < N_CKPT; c++) {
        snprintf(ck, sizeof ck, "%s/checkpoints/epoch-%06ld.safetensors", path, fake_epochs[c]);
        assert_int_equal(unlink(ck), 0);
    }
    const int files = count_entries(path);
    assert_int_equal(export_npz(path, NULL, &res, &e), GROK_EINVAL);
    printf("# npz, no checkpoints: %s\n", e.msg);
    tu_assert_contains(e.msg, "has no checkpoints");

    /* a truncated checkpoint: every export refuses, names it, writes nothing */
    for (int c = 0; c < N_CKPT; c++)
        write_fake_ckpt(path, fake_epochs[c], 0);
    snprintf(ck, sizeof ck, "%s/checkpoints/epoch-000010.safetensors", path);
    struct stat st;
    assert_int_equal(stat(ck, &st), 0);
    assert_int_equal(truncate(ck, st.st_size - 7), 0);
    for (int f = 0; f < 3; f++) {
        assert_int_equal(fns[f](path, NULL, &res, &e), GROK_EFORMAT);
        printf("# %s, truncated checkpoint: %s\n", names[f], e.msg);
        tu_assert_contains(e.msg, "epoch-000010.safetensors");
        tu_assert_contains(e.msg, "truncated");
        assert_int_equal(count_entries(path), files);
        snprintf(ck, sizeof ck, "%s/checkpoints", path);
        assert_int_equal(count_entries(ck), N_CKPT);
    }
    /* leaving it out with --epochs works */
    const long pick[] = {0, 20};
    export_opts o = {.epochs = pick, .n_epochs = 2};
    assert_int_equal(export_npz(path, &o, &res, &e), GROK_OK);
    assert_int_equal(res.n_checkpoints, 2);
    snprintf(ck, sizeof ck, "%s/run.npz", path);
    assert_int_equal(unlink(ck), 0);

    /* a checkpoint with another shape */
    write_fake_ckpt(path, 10, 3);
    assert_int_equal(export_npz(path, NULL, &res, &e), GROK_EFORMAT);
    printf("# npz, mismatched checkpoint: %s\n", e.msg);
    tu_assert_contains(e.msg, "epoch-000010.safetensors: tensor \"blocks.0.attn.W_Q\" is F32 "
                              "[3, 4, 2], but F32 [2, 4, 2] in the checkpoint of epoch 0");
    assert_int_equal(count_entries(path), files);
    write_fake_ckpt(path, 10, 0);

    /* an epoch without a checkpoint */
    const long bad[] = {15};
    export_opts ob = {.epochs = bad, .n_epochs = 1};
    for (int f = 1; f < 3; f++) {
        assert_int_equal(fns[f](path, &ob, &res, &e), GROK_EINVAL);
        printf("# %s --epochs 15: %s\n", names[f], e.msg);
        tu_assert_contains(e.msg, "no checkpoint of epoch 15");
        tu_assert_contains(e.msg, "the nearest are 10 and 20");
        assert_int_equal(count_entries(path), files);
    }
    /* a malformed metrics.tsv */
    write_text(path, "metrics.tsv", "epoch\ttrain_loss\ttest_loss\ttrain_acc\ttest_acc\n0\t1\t2\n");
    assert_int_equal(export_ipynb(path, NULL, &res, &e), GROK_EFORMAT);
    printf("# ipynb, short metrics row: %s\n", e.msg);
    tu_assert_contains(e.msg, "metrics.tsv:2: 3 cells, but the header has 5");
    assert_int_equal(count_entries(path), files);
}

static void test_cli(void **state)
{
    const char *dir = *state;
    make_fake_run(dir);
    char out[PATH_N];
    snprintf(out, sizeof out, "%s/x.npz", dir);
    static const struct {
        const char *args[8];
        int rc;
    } cases[] = {
        {{"export", NULL}, 2},
        {{"export", "DIR", NULL}, 2},
        {{"export", "DIR", "--to", "csv", NULL}, 2},
        {{"export", "DIR", "--to", NULL}, 2},
        {{"export", "DIR", "--to", "ipynb", "--epochs", "0", NULL}, 2},
        {{"export", "DIR", "--to", "npz", "--epochs", "0,x", NULL}, 2},
        {{"export", "DIR", "--to", "npz", "--epochs", "7", NULL}, 2},
        {{"export", "DIR", "--to", "npz", "--bogus", NULL}, 2},
        {{"export", "DIR", "DIR", "--to", "npz", NULL}, 2},
        {{"export", "DIR/nowhere", "--to", "npz", NULL}, 2},
        {{"export", "DIR", "--to=npz", "--epochs=0,last", "--out", "OUT", NULL}, 0},
        {{"export", "DIR", "--to", "safetensors", NULL}, 0},
        {{"export", "DIR", "--to", "ipynb", NULL}, 0},
        {{"export", "--help", NULL}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[8] = {0};
        char bufs[8][PATH_N];
        int argc = 0;
        printf("# grok");
        for (; cases[i].args[argc]; argc++) {
            const char *a = cases[i].args[argc];
            if (strncmp(a, "DIR", 3) == 0)
                snprintf(bufs[argc], PATH_N, "%s%s", dir, a + 3);
            else if (strcmp(a, "OUT") == 0)
                snprintf(bufs[argc], PATH_N, "%s", out);
            else
                snprintf(bufs[argc], PATH_N, "%s", a);
            argv[argc] = bufs[argc];
            printf(" %s", strncmp(a, "DIR", 3) == 0 ? a : argv[argc]);
        }
        printf("  (want exit %d)\n", cases[i].rc);
        fflush(stdout);
        int rc = export_cmd_main(argc, argv);
        fflush(stdout);
        fflush(stderr);
        assert_int_equal(rc, cases[i].rc);
    }
    assert_true(exists(out));
    char p[PATH_N];
    snprintf(p, sizeof p, "%s/safetensors/epoch-000020.safetensors", dir);
    assert_true(exists(p));
    snprintf(p, sizeof p, "%s/run.ipynb", dir);
    assert_true(exists(p));

    long ep[8];
    int n;
    char why[160];
    assert_int_equal(export_cmd_parse_epochs("0,1000,last", ep, 8, &n, why, sizeof why), 0);
    assert_int_equal(n, 3);
    assert_true(ep[0] == 0 && ep[1] == 1000 && ep[2] == EXPORT_LAST);
    static const char *const bad[] = {"", "1,,2", "-1", "1e3", "+5", "x", "1,", "1 ,2",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(export_cmd_parse_epochs(bad[i], ep, 8, &n, why, sizeof why), -1);
        printf("# --epochs '%s': %s\n", bad[i], why);
    }
    assert_int_equal(export_cmd_parse_epochs("1,2,3", ep, 2, &n, why, sizeof why), -1);
    tu_assert_contains(why, "more than 2 epochs");
}

/* ---- end to end: a real run, numpy and nbconvert ----------------------------- */

/* Checks run.npz against the run's checkpoints with numpy (a reader of its
 * own for the safetensors side). */
static const char npz_check_py[] =
    "import json, sys\n"
    "from pathlib import Path\n"
    "import numpy as np\n"
    "run, z = Path(sys.argv[1]), np.load(sys.argv[2])\n"
    "def st(path):\n"
    "    raw = path.read_bytes(); n = int.from_bytes(raw[:8], 'little')\n"
    "    h = json.loads(raw[8:8 + n]); h.pop('__metadata__', None)\n"
    "    return {k: np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],\n"
    "                             '<f4').reshape(v['shape']) for k, v in h.items()}\n"
    "epochs = z['epochs']\n"
    "files = sorted((run / 'checkpoints').glob('epoch-*.safetensors'))\n"
    "assert list(epochs) == [int(f.name[6:-12]) for f in files], 'epochs'\n"
    "worst = 0.0\n"
    "for i, f in enumerate(files):\n"
    "    for k, v in st(f).items():\n"
    "        assert z[k].shape == (len(epochs),) + v.shape, k\n"
    "        worst = max(worst, float(np.abs(z[k][i].astype(np.float64) - v).max()))\n"
    "m = np.genfromtxt(run / 'metrics.tsv', names=True, delimiter='\\t')\n"
    "assert np.array_equal(z['metrics.test_loss'], m['test_loss']), 'metrics'\n"
    "print(f'npz vs checkpoints with numpy: {len(epochs)} checkpoints, {len(st(files[0]))} '\n"
    "      f'tensors, largest difference {worst}')\n"
    "assert worst == 0.0\n";

static int execute_notebook(const char *dir, const char *run, int *logits_passed, int *images);

static void test_end_to_end(void **state)
{
    const char *dir = *state;
    const char *bin = getenv("GROK_BIN");
    if (!bin || !bin[0]) {
        printf("# GROK_BIN is not set: the end-to-end export test is skipped "
               "(make test sets it to the built ./grok)\n");
        skip();
    }
    /* a small run: a + b mod 23, 80% train, one thread, no figures (their
     * embedding is test_ipynb's); memorised at about epoch 80 */
    char run[DIR_N], cmd[4 * PATH_N], *log = NULL;
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(cmd, sizeof cmd,
             "%s train --set task.p=23 --set task.frac_train=0.8 --set optim.lr=3e-3 "
             "--set optim.weight_decay=2 --set model.d_model=64 --set model.d_mlp=128 "
             "--set model.d_head=16 --set train.epochs=300 --set checkpoint.every=50 "
             "--set checkpoint.early_until=0 --set measures.every=50 --set 'plots.formats=\"\"' "
             "--threads 1 --out %s --quiet",
             bin, run);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = tu_run_shell(dir, cmd, &log);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("# grok train (p = 23, 300 epochs): exit %d in %.1f s\n", rc,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    if (rc != 0)
        printf("%s\n", log ? log : "");
    free(log);
    assert_int_equal(rc, 0);

    export_result res;
    grok_err e = {{0}};
    rc = export_npz(run, NULL, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    printf("# npz: %d checkpoints, %zu bytes\n", res.n_checkpoints, res.bytes);
    if (have_python_module("numpy")) {
        char script[PATH_N];
        snprintf(script, sizeof script, "%s/npz_check.py", dir);
        tu_write_text(script, npz_check_py);
        snprintf(cmd, sizeof cmd, PYTHON " %s %s %s", script, run, res.path);
        rc = tu_run_shell(dir, cmd, &log);
        printf("# %s", log ? log : "(no output)\n");
        free(log);
        assert_int_equal(rc, 0);
    } else {
        printf("# numpy not installed: numpy check of the .npz skipped\n");
    }

    rc = export_ipynb(run, NULL, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    printf("# notebook: %s, %d figures, %zu bytes\n", res.path, res.n_figures, res.bytes);
    validate_nbformat(dir, res.path);

    int passed = 0, n_images = 0;
    if (!execute_notebook(dir, run, &passed, &n_images))
        return;
    assert_true(passed);
    assert_true(n_images >= 3);
}

/* Executes run/run.ipynb with nbconvert into run/executed.ipynb and checks
 * that no cell raised; *logits_passed: the NumPy logits check printed its
 * verdict; *images: matplotlib images.  Returns 0 (nothing run) when
 * nbconvert or a module the notebook needs is missing, else 1. */
static int execute_notebook(const char *dir, const char *run, int *logits_passed, int *images)
{
    char cmd[4 * PATH_N], *log = NULL;
    struct timespec t0, t1;
    int rc;
    int have_nbconvert = exists("/usr/bin/jupyter-nbconvert") &&
                         have_python_module("nbconvert, ipykernel, numpy, pandas, matplotlib");
    if (!have_nbconvert) {
        printf("# jupyter-nbconvert, python3-ipykernel, python3-pandas or python3-matplotlib is "
               "not installed: the notebook is not executed (make deps installs them)\n");
        return 0;
    }
    /* Debian's python first: the pyenv python3 on PATH has no numpy. */
    snprintf(cmd, sizeof cmd,
             "cd %s && env PATH=/usr/bin:/bin " PYTHON
             " -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=120 "
             "--output executed.ipynb run.ipynb",
             run);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = tu_run_shell(dir, cmd, &log);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("# nbconvert --execute: exit %d in %.1f s\n", rc,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    if (rc != 0)
        printf("%s\n", log ? log : "");
    free(log);
    assert_int_equal(rc, 0);

    char path[PATH_N];
    snprintf(path, sizeof path, "%s/executed.ipynb", run);
    size_t n;
    char *text = tu_read_file(path, &n);
    assert_non_null(text);
    json_t *nb = parse_nb(text, n);
    const json_t *cells = json_object_get(nb, "cells");
    int n_images = 0, n_errors = 0, passed = 0;
    for (size_t i = 0; i < json_array_size(cells); i++) {
        const json_t *outs = json_object_get(json_array_get(cells, i), "outputs");
        for (size_t j = 0; j < json_array_size(outs); j++) {
            const json_t *o = json_array_get(outs, j);
            const char *type = get_str(o, "output_type");
            if (type && strcmp(type, "error") == 0) {
                n_errors++;
                printf("# cell %zu raised %s: %s\n", i, get_str(o, "ename"), get_str(o, "evalue"));
            }
            if (json_object_get(json_object_get(o, "data"), "image/png"))
                n_images++;
            const json_t *txt = json_object_get(o, "text");
            for (size_t k = 0; k < json_array_size(txt); k++) {
                const char *line = json_string_value(json_array_get(txt, k));
                if (!line)
                    continue;
                if (strstr(line, "loss NumPy") || strstr(line, "logits check passed")) {
                    printf("# > %s", line);
                    if (line[strlen(line) - 1] != '\n')
                        printf("\n");
                }
                passed |= strstr(line, "logits check passed") != NULL;
            }
        }
    }
    printf("# executed notebook: %zu cells, %d matplotlib images, %d errors\n",
           json_array_size(cells), n_images, n_errors);
    assert_int_equal(n_errors, 0);
    *logits_passed = passed;
    *images = n_images;
    json_decref(nb);
    free(text);
    return 1;
}


/* A short run of another task kind or model family, with its figures
 * (hence figures/index.tsv), exported to a notebook. */
static char *kind_run_notebook(const char *bin, const char *dir, const char *name,
                               const char *sets)
{
    char run[DIR_N], cmd[4 * PATH_N], *log = NULL;
    snprintf(run, sizeof run, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd,
             "%s train %s --set train.epochs=40 --set checkpoint.every=20 --threads 1 --quiet "
             "--out %s",
             bin, sets, run);
    int rc = tu_run_shell(dir, cmd, &log);
    printf("# %s: grok train %s: exit %d\n", name, sets, rc);
    if (rc)
        printf("%s\n", log ? log : "");
    free(log);
    assert_int_equal(rc, 0);
    export_result res;
    grok_err e = {{0}};
    rc = export_ipynb(run, NULL, &res, &e);
    if (rc != GROK_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, GROK_OK);
    printf("# %s notebook: %d figures\n", name, res.n_figures);
    validate_nbformat(dir, res.path);
    char *text = tu_read_file(res.path, NULL);
    assert_non_null(text);
    return text;
}

static void test_task_kinds(void **state)
{
    const char *dir = *state;
    const char *bin = getenv("GROK_BIN");
    if (!bin || !bin[0]) {
        printf("# GROK_BIN is not set: skipped (make test sets it to the built ./grok)\n");
        skip();
    }
    int passed, images;
    char run[DIR_N];
    /* a group: tokens [x, y, |G|]; captions from figures/index.tsv */
    char *nb = kind_run_notebook(bin, dir, "group",
                                 "--set task.kind=group --set task.group=S3 "
                                 "--set model.d_model=32 --set model.d_mlp=64");
    tu_assert_contains(nb, "here `[x, y, =]`");
    tu_assert_contains(nb, "\"### attention\\n\"");
    tu_assert_contains(nb, "Attention from the '=' position to the first operand");
    free(nb);
    snprintf(run, sizeof run, "%s/group", dir);
    if (execute_notebook(dir, run, &passed, &images))
        assert_true(passed);
    /* the same run without figures/index.tsv (an older run): the names only */
    char path[PATH_N];
    snprintf(path, sizeof path, "%s/figures/index.tsv", run);
    assert_int_equal(unlink(path), 0);
    export_result res;
    grok_err e = {{0}};
    assert_int_equal(export_ipynb(run, NULL, &res, &e), GROK_OK);
    nb = tu_read_file(res.path, NULL);
    tu_assert_contains(nb, "![attention](attachment:attention.png)");
    assert_null(strstr(nb, "Attention from the '=' position")); /* no caption */
    printf("# without index.tsv: %d figures, no captions\n", res.n_figures);
    assert_int_equal(res.n_figures, 5); /* loss, accuracy, weights, attention, irreps */
    free(nb);

    /* the layout "a op b =": tokens [a, p, b, p + 1]; in Grokfast's block
     * (model.normed_residual, with LayerNorm, attention biases and the torch
     * initialisation), so that the notebook's NumPy forward, which follows
     * the block, checks grok's logits of it */
    nb = kind_run_notebook(bin, dir, "aopb",
                           "--set task.p=11 --set 'task.layout=\"a op b =\"' "
                           "--set task.frac_train=0.5 --set model.d_model=32 "
                           "--set model.d_mlp=64 --set model.layernorm=true "
                           "--set model.normed_residual=true --set model.attn_bias=true "
                           "--set model.init_scheme=torch --set 'plots.formats=\"\"'");
    tu_assert_contains(nb, "here `[a, op, b, =]`");
    tu_assert_contains(nb, "cfg['normed_residual']");
    free(nb);
    snprintf(run, sizeof run, "%s/aopb", dir);
    if (execute_notebook(dir, run, &passed, &images))
        assert_true(passed);

    /* the MLP family: no transformer forward pass, a note instead */
    nb = kind_run_notebook(bin, dir, "mlp",
                           "--set model.family=mlp --set task.p=23 --set model.d_embed=16 "
                           "--set model.d_hidden=32");
    tu_assert_contains(nb, "Left out: this run's model is the `mlp` family");
    assert_null(strstr(nb, "def forward("));
    assert_null(strstr(nb, "HookedTransformer("));
    free(nb);
    snprintf(run, sizeof run, "%s/mlp", dir);
    if (execute_notebook(dir, run, &passed, &images))
        assert_false(passed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_header),
        cmocka_unit_test_setup_teardown(test_npz, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_npz_zip64, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_safetensors, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_ipynb, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_sweep, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_input, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_cli, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_end_to_end, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_task_kinds, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
