/* run_import.c: `grok import` (run.h: run_import): a run directory made from
 * weights trained elsewhere.
 *
 * Inputs (docs/formats.md, "Import"): checkpoints as .safetensors or .npz
 * with the model's tensor names (TransformerLens's for the transformer:
 * tfm.h), in float32, float64, bfloat16 or float16; grok's own exports
 * (`grok export --to safetensors|npz`) included, whose metadata carries the
 * config and whose run.npz stacks every checkpoint.  The model comes from a
 * grok config (--config, --set, or the "config" metadata of a grok-written
 * checkpoint) or from a TransformerLens HookedTransformerConfig as JSON
 * (--tl-config, or an export's "tl_config" metadata), mapped onto the
 * model.* keys (import_tl_sets; the inverse of the export's tl_config).
 * Optional: the split (grok's split.tsv, training pairs "a b" or training
 * indices, one a line) and loss curves (a TSV with an epoch column and any of
 * metrics.tsv's columns).
 *
 * Checks, all before anything is written: every tensor of the model's table
 * must be in every checkpoint with the table's shape (missing tensors are
 * refused unless allow_missing, which fills them with their constant
 * initial value, 0 for Gaussian ones); a tensor the model does not have is
 * refused unless ignore_extra (TransformerLens's buffers blocks.L.attn.mask
 * and blocks.L.attn.IGNORE are no weights: skipped and recorded); an
 * unembedding with one column more than the task's classes (the '=' column
 * of Nanda et al.'s code, d_vocab_out = p + 1) loses that column, as the
 * paper's analysis drops it; any other shape mismatch is refused.  Every
 * list names the tensors.  Float64, bfloat16 and float16 become float32
 * (st_to_f32), counted in summary.json.
 *
 * The run directory is built in a sibling temporary directory
 * ("OUT.import-PID") with the run module's own writers (config.cfg,
 * split.tsv and manifest.tsv, checkpoints with their checksums and an
 * "imported_from" metadata key), measured there (measure_run_dir_result),
 * given metrics.tsv (the curves, or each checkpoint's losses from the
 * measures) and summary.json (status "imported", and an "import" member that
 * records what was converted, dropped or filled), then renamed to OUT.  A
 * failure removes the temporary directory: nothing is left behind.  grok
 * resume refuses the result (it has no optimizer state); grok train
 * --init-from starts from it. */
#include "run_internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npz_read.h"
#include "rundir.h"

#define IMPORT_LIST_MAX 8 /* names shown per list in a message */

/* One input file: its tensors (views into st or nz), its metadata. */
typedef struct {
    const char *path;
    st_file st;
    npz_file nz;
    int n;
    st_tensor *t;           /* [n] the tensors (for a stacked npz: with the stack dimension) */
    const char *config;     /* grok config text from the metadata, or NULL */
    const char *tl_config;  /* TransformerLens config JSON from the metadata, or NULL */
    long epoch;             /* from the metadata or the file name; -1: none */
    int C;                  /* checkpoints: 1, or the stack of a grok run.npz */
    long *epochs;           /* [C] of a stack */
} import_src;

/* One checkpoint to import: source s, stack slot c (-1: not stacked). */
typedef struct {
    int s, c;
    long epoch;
} import_ck;

/* Names collected for a message and summary.json. */
typedef struct {
    int n;
    sbuf text; /* "a, b, c" (the first IMPORT_LIST_MAX) */
    sbuf json; /* "\"a\", \"b\"" (all) */
} import_list;

static void list_init(import_list *l)
{
    l->n = 0;
    sbuf_init(&l->text);
    sbuf_init(&l->json);
}

static void list_free(import_list *l)
{
    sbuf_free(&l->text);
    sbuf_free(&l->json);
}

static void list_add(import_list *l, const char *name, const char *note)
{
    if (l->n < IMPORT_LIST_MAX)
        sbuf_printf(&l->text, "%s%s%s", l->n ? ", " : "", name, note ? note : "");
    else if (l->n == IMPORT_LIST_MAX)
        sbuf_puts(&l->text, ", ...");
    if (l->n)
        sbuf_puts(&l->json, ", ");
    sbuf_json_string(&l->json, name);
    l->n++;
}

static int src_is_npz(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".npz") == 0;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The digits after "epoch" (and one '-', '_' or '=') in the file's name, or -1. */
static long epoch_from_name(const char *path)
{
    const char *b = base_name(path), *p = strstr(b, "epoch");
    if (!p)
        return -1;
    p += 5;
    if (*p == '-' || *p == '_' || *p == '=')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    long v = strtol(p, NULL, 10);
    return errno ? -1 : v;
}

static int is_buffer(const char *name)
{
    int l;
    char rest[64];
    return sscanf(name, "blocks.%d.%63s", &l, rest) == 2 &&
           (strcmp(rest, "attn.mask") == 0 || strcmp(rest, "attn.IGNORE") == 0);
}

/* Entries of a grok run.npz that are not weights. */
static int is_export_extra(const char *name)
{
    return strcmp(name, "epochs") == 0 || strncmp(name, "metrics.", 8) == 0 ||
           strncmp(name, "measures.", 9) == 0 || strncmp(name, "meta.", 5) == 0;
}

static void src_free(import_src *s)
{
    st_file_free(&s->st);
    npz_free(&s->nz);
    free(s->t);
    free(s->epochs);
    memset(s, 0, sizeof *s);
}

static int src_open(import_src *s, const char *path, grok_err *e)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->C = 1;
    s->epoch = -1;
    int rc;
    if (!src_is_npz(path)) {
        if ((rc = st_read(&s->st, path, e)) != GROK_OK)
            return rc;
        s->n = s->st.n_tensors;
        s->t = malloc((size_t)(s->n ? s->n : 1) * sizeof *s->t);
        if (!s->t)
            return grok_fail(e, GROK_ENOMEM, "out of memory reading %s", path);
        memcpy(s->t, s->st.tensors, (size_t)s->n * sizeof *s->t);
        s->config = st_meta_get(&s->st, "config");
        s->tl_config = st_meta_get(&s->st, "tl_config");
        const char *ep = st_meta_get(&s->st, "epoch");
        if (ep) {
            char *end;
            errno = 0;
            long v = strtol(ep, &end, 10);
            if (!errno && end != ep && !*end && v >= 0)
                s->epoch = v;
        }
    } else {
        if ((rc = npz_read(&s->nz, path, e)) != GROK_OK)
            return rc;
        const npz_entry *ep = npz_find(&s->nz, "epochs"), *fmt = npz_find(&s->nz, "meta.format");
        const int stacked = ep && fmt && ep->loaded && ep->t.dtype == ST_I64 && ep->t.ndim == 1;
        s->t = malloc((size_t)(s->nz.n ? s->nz.n : 1) * sizeof *s->t);
        if (!s->t)
            return grok_fail(e, GROK_ENOMEM, "out of memory reading %s", path);
        for (int i = 0; i < s->nz.n; i++) {
            const npz_entry *en = &s->nz.e[i];
            if (stacked && is_export_extra(en->name))
                continue;
            if (!en->loaded)
                return grok_fail(e, GROK_EFORMAT,
                                 "%s: array '%s' has dtype '%s': not a tensor of numbers (a "
                                 "weight must be float32, float64 or float16)",
                                 path, en->name, en->descr);
            s->t[s->n++] = en->t;
        }
        const npz_entry *cfg = npz_find(&s->nz, "meta.config"),
                        *tl = npz_find(&s->nz, "meta.tl_config");
        s->config = cfg ? cfg->text : NULL;
        s->tl_config = tl ? tl->text : NULL;
        if (stacked) {
            s->C = (int)ep->t.shape[0];
            s->epochs = malloc((size_t)(s->C ? s->C : 1) * sizeof *s->epochs);
            if (!s->epochs)
                return grok_fail(e, GROK_ENOMEM, "out of memory reading %s", path);
            for (int c = 0; c < s->C; c++) {
                int64_t v;
                memcpy(&v, (const char *)ep->t.data + 8 * c, sizeof v);
                s->epochs[c] = (long)v;
            }
            for (int i = 0; i < s->n; i++)
                if (s->t[i].ndim < 1 || s->t[i].shape[0] != s->C)
                    return grok_fail(e, GROK_EFORMAT,
                                     "%s: '%s' is not stacked over the %d epochs of 'epochs' "
                                     "(a grok export's run.npz has [checkpoints, ...] arrays)",
                                     path, s->t[i].name, s->C);
        }
    }
    if (s->epoch < 0)
        s->epoch = epoch_from_name(path);
    return GROK_OK;
}

/* Tensor `name` of checkpoint k as a view (the stack slot of a run.npz), or 0. */
static int ck_tensor(const import_src *s, int c, const char *name, st_tensor *out)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->t[i].name, name) == 0) {
            *out = s->t[i];
            if (c >= 0) {
                size_t per = st_dtype_size(out->dtype);
                for (int d = 1; d < out->ndim; d++)
                    per *= (size_t)out->shape[d];
                out->data = (const char *)out->data + per * (size_t)c;
                out->ndim--;
                memmove(out->shape, out->shape + 1, sizeof(int64_t) * (size_t)out->ndim);
            }
            return 1;
        }
    return 0;
}

static void shape_str(char *buf, size_t n, const char *dtype, int ndim, const int64_t *s64,
                      const int *s32)
{
    size_t k = (size_t)snprintf(buf, n, "%s[", dtype);
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "",
                              s64 ? (long long)s64[d] : (long long)s32[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* ---- the TransformerLens config --------------------------------------- */

typedef struct {
    long d_vocab, d_vocab_out, n_ctx;
} import_tl;

/* HookedTransformerConfig (as JSON) onto model.* keys: sets[] gets
 * "key=value" strings (each 96 bytes), *n their count. */
static int import_tl_sets(const char *text, const char *what, char (*sets)[96], int *n,
                          import_tl *tl, grok_err *e)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return grok_fail(e, GROK_EINVAL, "%s: not a JSON object (line %d: %s)", what, je.line,
                         je.text);
    }
    int rc = GROK_OK;
    static const char *const ints[] = {"n_layers", "d_model", "n_heads", "d_head",
                                       "d_mlp",    "d_vocab", "n_ctx"};
    long v[7];
    for (int i = 0; i < 7 && rc == GROK_OK; i++) {
        const json_t *x = json_object_get(j, ints[i]);
        if (!json_is_integer(x) || json_integer_value(x) < 1)
            rc = grok_fail(e, GROK_EINVAL, "%s: %s = %s: must be a whole number >= 1%s", what,
                           ints[i], x ? (json_is_null(x) ? "null" : "not a whole number") : "absent",
                           strcmp(ints[i], "d_mlp") == 0 ? " (attention-only models have no "
                                                           "MLP, which grok's transformer has)"
                                                         : "");
        else
            v[i] = (long)json_integer_value(x);
    }
    const json_t *act = json_object_get(j, "act_fn"), *norm = json_object_get(j, "normalization_type"),
                 *dir = json_object_get(j, "attention_dir"), *vo = json_object_get(j, "d_vocab_out");
    const char *a = json_string_value(act), *nt = norm && !json_is_null(norm) ? json_string_value(norm) : "";
    if (rc == GROK_OK && (!a || (strcmp(a, "relu") && strcmp(a, "gelu"))))
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: act_fn = %s: grok's transformer has relu and gelu (the exact erf "
                       "GELU); valid: relu, gelu",
                       what, a ? a : "absent");
    if (rc == GROK_OK && (!nt || (nt[0] && strcmp(nt, "LN"))))
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: normalization_type = %s: grok's transformer has LayerNorm with "
                       "weights (\"LN\") or none (null)",
                       what, nt ? nt : "not a string");
    const char *d = dir ? json_string_value(dir) : "causal";
    if (rc == GROK_OK && (!d || (strcmp(d, "causal") && strcmp(d, "bidirectional"))))
        rc = grok_fail(e, GROK_EINVAL, "%s: attention_dir = %s: valid: causal, bidirectional",
                       what, d ? d : "not a string");
    /* what grok's transformer does not have: refused when set */
    static const char *const off[] = {"attn_only", "gated_mlp", "final_rms", "parallel_attn_mlp",
                                      "use_local_attn", "use_normalization_before_and_after",
                                      "use_qk_norm"};
    for (size_t i = 0; i < sizeof off / sizeof off[0] && rc == GROK_OK; i++)
        if (json_is_true(json_object_get(j, off[i])))
            rc = grok_fail(e, GROK_EINVAL, "%s: %s = true: grok's transformer has no such option",
                           what, off[i]);
    const json_t *pe = json_object_get(j, "positional_embedding_type"),
                 *us = json_object_get(j, "use_attn_scale"), *sc = json_object_get(j, "attn_scale"),
                 *eps = json_object_get(j, "eps"), *kv = json_object_get(j, "n_key_value_heads");
    if (rc == GROK_OK && pe && (!json_is_string(pe) || strcmp(json_string_value(pe), "standard")))
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: positional_embedding_type = %s: grok's transformer has learned "
                       "positions (\"standard\")",
                       what, json_is_string(pe) ? json_string_value(pe) : "not a string");
    if (rc == GROK_OK && us && json_is_false(us))
        rc = grok_fail(e, GROK_EINVAL, "%s: use_attn_scale = false: grok scales by sqrt(d_head)",
                       what);
    if (rc == GROK_OK && sc && json_is_number(sc) &&
        fabs(json_number_value(sc) - sqrt((double)v[3])) > 1e-9 * sqrt((double)v[3]))
        rc = grok_fail(e, GROK_EINVAL, "%s: attn_scale = %g: grok scales by sqrt(d_head) = %g",
                       what, json_number_value(sc), sqrt((double)v[3]));
    if (rc == GROK_OK && nt[0] && eps && json_is_number(eps) && json_number_value(eps) != 1e-5)
        rc = grok_fail(e, GROK_EINVAL, "%s: eps = %g: grok's LayerNorm has eps 1e-5", what,
                       json_number_value(eps));
    if (rc == GROK_OK && kv && json_is_integer(kv) && json_integer_value(kv) != v[2])
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: n_key_value_heads = %lld: grok's attention has one key per head",
                       what, (long long)json_integer_value(kv));
    if (rc == GROK_OK) {
        tl->d_vocab = v[5];
        tl->n_ctx = v[6];
        tl->d_vocab_out = vo && json_is_integer(vo) && json_integer_value(vo) > 0
                              ? (long)json_integer_value(vo) : v[5]; /* -1: d_vocab */
        *n = 0;
        snprintf(sets[(*n)++], 96, "model.family=transformer");
        for (int i = 0; i < 5; i++)
            snprintf(sets[(*n)++], 96, "model.%s=%ld", ints[i], v[i]);
        snprintf(sets[(*n)++], 96, "model.act=%s", a);
        snprintf(sets[(*n)++], 96, "model.layernorm=%s", nt[0] ? "true" : "false");
        snprintf(sets[(*n)++], 96, "model.causal=%s", strcmp(d, "causal") == 0 ? "true" : "false");
    }
    json_decref(j);
    return rc;
}

/* ---- the split ---------------------------------------------------------- */

/* Reads a file of training pairs "a b" or training indices, one a line
 * ('#' comments, an optional header of words), into t's split: those
 * examples first, in the file's order, then the others ascending. */
static int import_split_list(task_data *t, const char *path, grok_err *e)
{
    char *text = NULL;
    size_t len = 0;
    int rc = fileio_read_all(path, &text, &len, e);
    if (rc != GROK_OK)
        return rc;
    int32_t *order = malloc((size_t)t->n_all * sizeof *order);
    unsigned char *in = calloc((size_t)t->n_all, 1);
    int n = 0, line = 0, cols = 0;
    int range = 0;
    if (t->a)
        for (int r = 0; r < t->n_all; r++)
            range = t->a[r] + 1 > range ? t->a[r] + 1 : range;
    int32_t *by_pair = t->a ? malloc((size_t)range * range * sizeof *by_pair) : NULL;
    if (!order || !in || (t->a && !by_pair)) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (by_pair) {
        for (int i = 0; i < range * range; i++)
            by_pair[i] = -1;
        for (int r = 0; r < t->n_all; r++)
            if (t->b[r] < range)
                by_pair[t->a[r] * range + t->b[r]] = r;
    }
    for (char *s = text, *nl; s && *s && rc == GROK_OK; s = nl ? nl + 1 : NULL) {
        nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        line++;
        char *p = s;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p || *p == '#')
            continue;
        long v[3];
        int k = 0;
        char *q = p;
        while (k < 3) {
            while (*q == ' ' || *q == '\t' || *q == ',' || *q == '\r')
                q++;
            if (!*q)
                break;
            char *end;
            errno = 0;
            v[k] = strtol(q, &end, 10);
            if (end == q || errno)
                break;
            k++;
            q = end;
        }
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        if (k == 0 && n == 0 && cols == 0)
            continue; /* a header of words */
        if (k == 0 || k > 2 || *q || (cols && k != cols)) {
            rc = grok_fail(e, GROK_EINVAL,
                           "%s:%d: '%.60s': expected one training pair 'a b' or one example "
                           "index per line%s",
                           path, line, p, cols ? (cols == 2 ? " (pairs, as above)" : " (indices, as above)") : "");
            break;
        }
        cols = k;
        long r = -1;
        if (k == 1)
            r = v[0] >= 0 && v[0] < t->n_all ? v[0] : -1;
        else if (!by_pair)
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: pairs need a task of two operands; give "
                           "example indices", path, line);
        else if (v[0] >= 0 && v[0] < range && v[1] >= 0 && v[1] < range)
            r = by_pair[v[0] * range + v[1]];
        if (rc == GROK_OK && r < 0)
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: '%.60s' is not an example of the task (%d "
                           "examples%s)", path, line, p, t->n_all,
                           by_pair ? ", operands 0.." : "");
        else if (rc == GROK_OK && in[r])
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: example %ld ('%.60s') is listed twice", path,
                           line, r, p);
        else if (rc == GROK_OK) {
            in[r] = 1;
            order[n++] = (int32_t)r;
        }
    }
    if (rc == GROK_OK) {
        const int n_train = n;
        for (int r = 0; r < t->n_all; r++)
            if (!in[r])
                order[n++] = r;
        if ((rc = task_set_order(t, order, n_train, e)) != GROK_OK) {
            char why[sizeof e->msg];
            snprintf(why, sizeof why, "%s", e ? e->msg : "");
            rc = grok_fail(e, GROK_EINVAL, "%s: %s", path, why);
        }
    }
out:
    free(text);
    free(order);
    free(in);
    free(by_pair);
    return rc;
}

/* 1 when the file's first line that is not a comment is grok's split.tsv header. */
static int is_grok_split(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int yes = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        yes = strncmp(line, "index\t", 6) == 0 && strstr(line, "\tsplit") != NULL;
        break;
    }
    if (f)
        fclose(f);
    return yes;
}

/* ---- the temporary directory --------------------------------------------- */

/* Removes dir and the files in it and in its sub-folders (one level: what
 * an import writes). */
static void rm_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        char path[RUN_PATH_MAX];
        while ((de = readdir(d)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            if (run_path(path, dir, de->d_name, NULL) != GROK_OK)
                continue;
            struct stat st;
            if (depth > 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(path, depth - 1);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ---- progress ------------------------------------------------------------- */

typedef struct {
    FILE *out;
    int tty, open;
    double t_last;
} import_progress;

static void prog_line(import_progress *p, int last, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void prog_line(import_progress *p, int last, const char *fmt, ...)
{
    if (!p->out)
        return;
    const double now = progress_now();
    if (!last && now - p->t_last < (p->tty ? 0.1 : PROGRESS_PLAIN_S))
        return;
    p->t_last = now;
    va_list ap;
    va_start(ap, fmt);
    fputs(p->tty ? "\r\033[K" : "", p->out);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    if (p->tty && !last) {
        p->open = 1;
    } else {
        fputc('\n', p->out);
        p->open = 0;
    }
    fflush(p->out);
}

/* ---- the import ------------------------------------------------------------ */

static int ck_cmp(const void *a, const void *b)
{
    const long x = ((const import_ck *)a)->epoch, y = ((const import_ck *)b)->epoch;
    return (x > y) - (x < y);
}

/* The curves TSV as metrics rows of r. */
static int import_curves(run_ctx *r, const char *path, grok_err *e)
{
    char *text = NULL;
    size_t n = 0;
    int rc = fileio_read_all(path, &text, &n, e);
    if (rc != GROK_OK)
        return rc;
    rundir_tsv t;
    rc = rundir_tsv_parse(&t, text, path, 0, e);
    free(text);
    if (rc != GROK_OK)
        return rc;
    static const char *const cols[RUN_METRICS_COLS] = {"epoch",    "lr",       "train_loss",
                                                       "test_loss", "train_acc", "test_acc",
                                                       "elapsed_s"};
    int at[RUN_METRICS_COLS], any = 0;
    for (int k = 0; k < RUN_METRICS_COLS; k++) {
        at[k] = rundir_tsv_col(&t, cols[k]);
        any += k > 0 && at[k] >= 0;
    }
    const char *need[1] = {"epoch"};
    if ((rc = rundir_tsv_need(&t, need, 1, e)) == GROK_OK && !any)
        rc = grok_fail(e, GROK_EINVAL, "%s: none of the columns lr, train_loss, test_loss, "
                       "train_acc, test_acc, elapsed_s", path);
    for (int k = 1; k < RUN_METRICS_COLS && rc == GROK_OK; k++)
        if (at[k] >= 0 && !t.numeric[at[k]])
            rc = rundir_tsv_need(&t, &cols[k], 1, e);
    double last = -1;
    for (int i = 0; i < t.n_rows && rc == GROK_OK; i++) {
        double row[RUN_METRICS_COLS];
        for (int k = 0; k < RUN_METRICS_COLS; k++)
            row[k] = at[k] >= 0 ? rundir_tsv_at(&t, i, at[k]) : NAN;
        if (!(row[0] >= 0) || row[0] != floor(row[0]) || row[0] <= last)
            rc = grok_fail(e, GROK_EINVAL, "%s:%d: epoch '%s': epochs must be whole numbers, "
                           "increasing", path, t.line[i], t.text[(size_t)i * t.n_cols + at[0]]);
        else
            rc = run_append_row(r, row, e);
        last = row[0];
    }
    rundir_tsv_free(&t);
    return rc;
}

/* metrics rows from the measures just computed: the losses and accuracies of
 * every checkpoint on its split (lr and elapsed_s unknown). */
static int import_metrics_from_measures(run_ctx *r, grok_err *e)
{
    rundir_tsv t;
    int rc = rundir_tsv_read(&t, r->dir, RUNDIR_MEASURES, 0, e);
    if (rc <= 0)
        return rc == 0 ? grok_fail(e, GROK_EIO, "%s: no measures.tsv after measuring", r->dir) : rc;
    static const char *const cols[5] = {"epoch", "loss_train", "loss_test", "acc_train",
                                        "acc_test"};
    rc = rundir_tsv_need(&t, cols, 5, e);
    for (int i = 0; i < t.n_rows && rc == GROK_OK; i++) {
        double row[RUN_METRICS_COLS] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        const int k[5] = {COL_EPOCH, COL_TRAIN_LOSS, COL_TEST_LOSS, COL_TRAIN_ACC, COL_TEST_ACC};
        for (int j = 0; j < 5; j++)
            row[k[j]] = rundir_tsv_at(&t, i, rundir_tsv_col(&t, cols[j]));
        rc = run_append_row(r, row, e);
    }
    rundir_tsv_free(&t);
    return rc;
}

int run_import(const run_import_opts *o, grok_err *e)
{
    const double t0 = progress_now();
    import_progress prog = {o->quiet ? NULL : stderr, 0, 0, -1e9};
    prog.tty = prog.out ? isatty(fileno(prog.out)) : 0;
    char out[RUN_PATH_MAX], tmp[RUN_PATH_MAX], path[RUN_PATH_MAX];
    int rc = GROK_OK;
    snprintf(out, sizeof out, "%s", o->out);
    for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
        out[n - 1] = '\0';
    if (snprintf(tmp, sizeof tmp, "%s.import-%ld", out, (long)getpid()) >= (int)sizeof tmp - 64)
        return grok_fail(e, GROK_EINVAL, "--out path too long: '%s'", out);
    if (fileio_exists(out))
        return grok_fail(e, GROK_EINVAL,
                         "%s exists; grok import makes a new run directory and never writes into "
                         "an existing one (choose another --out)",
                         out);
    if (o->n_inputs < 1)
        return grok_fail(e, GROK_EINVAL, "no checkpoint files given");

    import_src *src = calloc((size_t)o->n_inputs, sizeof *src);
    import_ck *ck = NULL;
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.lock_fd = -1;
    r.last_commit = -1;
    r.memorised = r.grokked = -1;
    sbuf_init(&r.cfg_text);
    sbuf_init(&r.core_text);
    sbuf_init(&r.log);
    sbuf_init(&r.measure_json);
    import_list extra, missing, buffers, dropped_col;
    list_init(&extra);
    list_init(&missing);
    list_init(&buffers);
    list_init(&dropped_col);
    sbuf ij, dt;
    sbuf_init(&ij);
    sbuf_init(&dt);
    float *conv = NULL;
    char *tl_text = NULL;
    int made_tmp = 0, n_ck = 0, have_task = 0, have_model = 0;
    size_t dtype_count[ST_F16 + 1] = {0}, inexact = 0;
    if (!src) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto done;
    }

    /* 1. the inputs and their epochs */
    for (int i = 0; i < o->n_inputs && rc == GROK_OK; i++) {
        prog_line(&prog, 0, "import: reading %s (%d of %d)", o->inputs[i], i + 1, o->n_inputs);
        rc = src_open(&src[i], o->inputs[i], e);
        n_ck += src[i].C;
    }
    if (rc != GROK_OK)
        goto done;
    if (o->n_epochs > 0 && o->n_epochs != n_ck) {
        rc = grok_fail(e, GROK_EINVAL, "--epochs lists %d epochs for %d checkpoints", o->n_epochs,
                       n_ck);
        goto done;
    }
    if (!(ck = calloc((size_t)n_ck, sizeof *ck))) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0, k = 0; i < o->n_inputs; i++)
        for (int c = 0; c < src[i].C; c++, k++) {
            ck[k] = (import_ck){i, src[i].epochs ? c : -1,
                                o->n_epochs ? o->epochs[k]
                                            : src[i].epochs ? src[i].epochs[c] : src[i].epoch};
            if (ck[k].epoch < 0) {
                rc = grok_fail(e, GROK_EINVAL,
                               "%s: no epoch (no 'epoch' metadata, no 'epoch-N' in its name); "
                               "pass --epochs LIST, one epoch per checkpoint in order",
                               o->inputs[i]);
                goto done;
            }
        }
    qsort(ck, (size_t)n_ck, sizeof *ck, ck_cmp);
    for (int k = 1; k < n_ck; k++)
        if (ck[k].epoch == ck[k - 1].epoch) {
            rc = grok_fail(e, GROK_EINVAL, "two checkpoints of epoch %ld (%s and %s)", ck[k].epoch,
                           src[ck[k - 1].s].path, src[ck[k].s].path);
            goto done;
        }
    const long last_epoch = ck[n_ck - 1].epoch;

    /* 2. the config: a grok config (file or metadata), a TransformerLens
     * config mapped onto it, then --set */
    if ((rc = fileio_mkdir_p(tmp, e)) != GROK_OK)
        goto done;
    made_tmp = 1;
    snprintf(r.dir, sizeof r.dir, "%s", tmp);
    const char *base = o->config, *config_from = o->config ? o->config : "defaults";
    const import_src *s0 = &src[ck[0].s];
    if (!base && s0->config) {
        if ((rc = run_path(path, tmp, "import-base.cfg", e)) != GROK_OK ||
            (rc = fileio_write_atomic(path, s0->config, strlen(s0->config), e)) != GROK_OK)
            goto done;
        base = path;
        config_from = "checkpoint metadata";
    }
    const char *tl_from = o->tl_config;
    if (o->tl_config) {
        size_t n;
        if ((rc = fileio_read_all(o->tl_config, &tl_text, &n, e)) != GROK_OK)
            goto done;
    } else if (!o->config && !s0->config && s0->tl_config) {
        tl_text = strdup(s0->tl_config);
        tl_from = "checkpoint metadata";
    }
    char(*sets)[96] = calloc((size_t)o->n_sets + 32, 96);
    const char **setp = calloc((size_t)o->n_sets + 32, sizeof *setp);
    int n_sets = 0;
    import_tl tl = {0, 0, 0};
    if (!sets || !setp) {
        free(sets);
        free(setp);
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto done;
    }
    cfg_run c;
    if (tl_text) {
        rc = import_tl_sets(tl_text, tl_from, sets, &n_sets, &tl, e);
        st_tensor bq;
        if (rc == GROK_OK)
            snprintf(sets[n_sets++], 96, "model.attn_bias=%s",
                     ck_tensor(s0, ck[0].c, "blocks.0.attn.b_Q", &bq) ? "true" : "false");
        /* task.p from d_vocab, for the config's layout */
        cfg_run c0;
        if (rc == GROK_OK && (rc = cfg_load(&c0, base, o->sets, o->n_sets, e)) == GROK_OK &&
            c0.task.kind == TASK_KIND_MODULAR) {
            const int extra_tok = c0.task.layout == TASK_LAYOUT_AB ? 0
                                  : c0.task.layout == TASK_LAYOUT_A_OP_B_EQ ? 2 : 1;
            snprintf(sets[n_sets++], 96, "task.p=%ld", tl.d_vocab - extra_tok);
        }
    }
    for (int i = 0; i < n_sets; i++)
        setp[i] = sets[i];
    for (int i = 0; i < o->n_sets; i++)
        setp[n_sets + i] = o->sets[i];
    if (rc == GROK_OK)
        rc = cfg_load(&c, base, setp, n_sets + o->n_sets, e);
    free(sets);
    free(setp);
    if (rc != GROK_OK) {
        if (rc != GROK_ENOMEM)
            rc = GROK_EINVAL;
        goto done;
    }
    if (base == path)
        unlink(path);
    if (tl_text && (c.model.d_vocab != tl.d_vocab || c.model.n_ctx != tl.n_ctx))
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: d_vocab = %ld, n_ctx = %ld; the task (%s) has d_vocab %d and n_ctx "
                       "%d (set task.* with --set or --config)",
                       tl_from, tl.d_vocab, tl.n_ctx, config_from, c.model.d_vocab, c.model.n_ctx);
    if (rc == GROK_OK && tl_text && tl.d_vocab_out != c.model.d_vocab_out &&
        tl.d_vocab_out != c.model.d_vocab_out + 1)
        rc = grok_fail(e, GROK_EINVAL,
                       "%s: d_vocab_out = %ld; the task has %d classes (d_vocab_out may be that, "
                       "or one more: the '=' column, dropped)",
                       tl_from, tl.d_vocab_out, c.model.d_vocab_out);
    if (rc != GROK_OK)
        goto done;
    c.train.epochs = last_epoch > 0 ? last_epoch : 1;
    c.init.from[0] = '\0';
    c.init.optim = 0;
    r.cfg = c;
    const run_opts ro = {.quiet = o->quiet, .blis = o->blis};
    r.opts = &ro;
    if (cfg_format(&r.cfg, &r.cfg_text) != GROK_OK) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto done;
    }

    /* 3. the task and its split */
    if ((rc = task_init(&r.task, &c.task, c.seed, e)) != GROK_OK)
        goto done;
    have_task = 1;
    const char *split_from = "seed";
    if (o->split && is_grok_split(o->split)) {
        char *text = NULL;
        size_t n = 0;
        if ((rc = fileio_read_all(o->split, &text, &n, e)) == GROK_OK &&
            (rc = run_path(path, tmp, RUNDIR_SPLIT, e)) == GROK_OK)
            rc = fileio_write_atomic(path, text, n, e);
        free(text);
        if (rc == GROK_OK && (rc = measure_split_read(&r.task, tmp, e)) != GROK_OK) {
            char why[sizeof e->msg];
            snprintf(why, sizeof why, "%s", e ? e->msg : "");
            rc = grok_fail(e, GROK_EINVAL, "--split %s: %s", o->split, why);
        }
        if (rc == GROK_OK)
            unlink(path);
        split_from = o->split;
    } else if (o->split) {
        rc = import_split_list(&r.task, o->split, e);
        split_from = o->split;
    }
    if (rc != GROK_OK)
        goto done;

    /* 4. the model, and every checkpoint checked, converted and written */
    const model_config mc = cfg_model_config(&c);
    if ((rc = model_init(&r.model, &mc, e)) != GROK_OK) {
        rc = GROK_EINVAL;
        goto done;
    }
    have_model = 1;
    size_t max_numel = 1;
    for (int i = 0; i < r.model.n_tensors; i++)
        max_numel = r.model.tensors[i].numel > max_numel ? r.model.tensors[i].numel : max_numel;
    const int Vo = r.model.cfg.family == MODEL_TRANSFORMER ? r.model.cfg.tfm.d_vocab_out : -1;
    if (!(conv = malloc((max_numel + (size_t)(max_numel / (Vo > 0 ? Vo : 1)) + 1) * sizeof *conv))) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = run_path(path, tmp, RUNDIR_CHECKPOINTS, e)) != GROK_OK ||
        (rc = fileio_mkdir_p(path, e)) != GROK_OK)
        goto done;
    for (int k = 0; k < n_ck && rc == GROK_OK; k++) {
        const import_src *s = &src[ck[k].s];
        import_list shape_bad, miss_here;
        list_init(&shape_bad);
        list_init(&miss_here);
        char what[RUN_PATH_MAX + 32];
        if (ck[k].c >= 0)
            snprintf(what, sizeof what, "%s (epoch %ld)", s->path, ck[k].epoch);
        else
            snprintf(what, sizeof what, "%s", s->path);
        prog_line(&prog, 0, "import: checkpoint %d of %d, epoch %ld", k + 1, n_ck, ck[k].epoch);
        for (int i = 0; i < r.model.n_tensors; i++) {
            const param_tensor *pt = &r.model.tensors[i];
            float *dst = r.model.params + pt->offset;
            st_tensor t;
            char have[96], want[96], note[256];
            if (!ck_tensor(s, ck[k].c, pt->name, &t)) {
                list_add(&miss_here, pt->name, NULL);
                for (size_t j = 0; j < pt->numel; j++)
                    dst[j] = pt->init_std > 0 ? 0.0f : pt->init_value;
                continue;
            }
            int same = t.ndim == pt->ndim, col = 0;
            for (int d = 0; same && d < pt->ndim; d++)
                same = t.shape[d] == pt->shape[d];
            /* the unembedding's extra '=' column */
            if (!same && strcmp(pt->name, "unembed.W_U") == 0 && t.ndim == 2 && pt->ndim == 2 &&
                t.shape[0] == pt->shape[0] && t.shape[1] == pt->shape[1] + 1)
                same = col = 1;
            shape_str(have, sizeof have, t.dtype <= ST_F16 ? st_dtype_name(t.dtype) : "?", t.ndim,
                      t.shape, NULL);
            shape_str(want, sizeof want, "", pt->ndim, NULL, pt->shape);
            if (!same) {
                snprintf(note, sizeof note, " is %s, the model needs %s", have, want);
                list_add(&shape_bad, pt->name, note);
                continue;
            }
            size_t bad = 0;
            if (st_to_f32(&t, conv, &bad) != 0) {
                list_free(&shape_bad);
                list_free(&miss_here);
                rc = grok_fail(e, GROK_EINVAL,
                               "%s: tensor '%s' is %s: not floating point (F32, F64, BF16, F16)",
                               what, pt->name, have);
                goto done;
            }
            dtype_count[t.dtype]++;
            inexact += bad;
            if (col) {
                const int64_t R = t.shape[0], C1 = t.shape[1];
                for (int64_t a = 0; a < R; a++)
                    memcpy(dst + a * (C1 - 1), conv + a * C1, sizeof(float) * (size_t)(C1 - 1));
                if (k == 0)
                    list_add(&dropped_col, pt->name, NULL);
            } else {
                memcpy(dst, conv, pt->numel * sizeof(float));
            }
        }
        /* tensors the model does not have */
        import_list extra_here;
        list_init(&extra_here);
        for (int i = 0; i < s->n; i++) {
            const char *name = s->t[i].name;
            if (model_find(&r.model, name))
                continue;
            if (is_buffer(name)) {
                if (k == 0)
                    list_add(&buffers, name, NULL);
                continue;
            }
            int zero = 1;
            st_tensor t;
            ck_tensor(s, ck[k].c, name, &t);
            const size_t nb = st_tensor_numel(&t) * (t.dtype <= ST_F16 ? st_dtype_size(t.dtype) : 1);
            for (size_t j = 0; j < nb && zero; j++)
                zero = ((const unsigned char *)t.data)[j] == 0;
            list_add(&extra_here, name, zero ? " (all zero)" : NULL);
        }
        if (shape_bad.n)
            rc = grok_fail(e, GROK_EINVAL,
                           "%s: %d tensor%s of the wrong shape: %s (the config describes "
                           "another model: check --tl-config, --config, --set)",
                           what, shape_bad.n, shape_bad.n == 1 ? "" : "s", shape_bad.text.data);
        else if (miss_here.n && !o->allow_missing)
            rc = grok_fail(e, GROK_EINVAL,
                           "%s: %d tensor%s of the model missing: %s (--allow-missing fills them "
                           "with their constant initial value, 0 for weights)",
                           what, miss_here.n, miss_here.n == 1 ? "" : "s", miss_here.text.data);
        else if (extra_here.n && !o->ignore_extra)
            rc = grok_fail(e, GROK_EINVAL,
                           "%s: %d tensor%s the model does not have: %s (--ignore-extra drops "
                           "them; the model then computes without them)",
                           what, extra_here.n, extra_here.n == 1 ? "" : "s", extra_here.text.data);
        if (rc == GROK_OK && k == 0) {
            if (miss_here.n) {
                sbuf_puts(&missing.json, miss_here.json.data);
                missing.n = miss_here.n;
            }
            if (extra_here.n) {
                sbuf_puts(&extra.json, extra_here.json.data);
                extra.n = extra_here.n;
            }
        }
        list_free(&shape_bad);
        list_free(&miss_here);
        list_free(&extra_here);
        if (rc == GROK_OK) {
            char note[RUN_PATH_MAX + 64];
            if (ck[k].c >= 0)
                snprintf(note, sizeof note, "%s[%d]", base_name(s->path), ck[k].c);
            else
                snprintf(note, sizeof note, "%s", base_name(s->path));
            r.ckpt_note = note;
            rc = run_write_checkpoint(&r, ck[k].epoch, e);
            r.ckpt_note = NULL;
        }
    }
    if (rc != GROK_OK)
        goto done;
    prog_line(&prog, 1, "import: %d checkpoint%s (epochs %ld..%ld) checked and written", n_ck,
              n_ck == 1 ? "" : "s", ck[0].epoch, last_epoch);

    /* 5. config, split, measures, metrics, summary, log */
    if ((rc = run_path(path, tmp, RUNDIR_CONFIG, e)) != GROK_OK ||
        (rc = cfg_write(&r.cfg, path, e)) != GROK_OK || (rc = run_write_split(&r, e)) != GROK_OK)
        goto done;
    prog_line(&prog, 1, "import: measuring %d checkpoint%s", n_ck, n_ck == 1 ? "" : "s");
    measure_result res;
    if ((rc = measure_run_dir_result(tmp, o->jobs, &res, e)) != GROK_OK)
        goto done;
    rc = o->curves ? import_curves(&r, o->curves, e) : import_metrics_from_measures(&r, e);
    if (rc == GROK_OK)
        rc = run_write_metrics(&r, e);
    if (rc != GROK_OK)
        goto done;
    run_solved_epochs(r.hist, r.n_rows, &r.memorised, &r.grokked);
    measure_summary_json(&res, &r.measure_json);

    for (int d = 0; d <= ST_F16; d++)
        if (dtype_count[d])
            sbuf_printf(&dt, "%s\"%s\": %zu", dt.len ? ", " : "", st_dtype_name((st_dtype)d),
                        dtype_count[d]);
    sbuf_puts(&ij, "  \"import\": {\"sources\": [");
    for (int i = 0; i < o->n_inputs; i++) {
        sbuf_puts(&ij, i ? ", " : "");
        sbuf_json_string(&ij, o->inputs[i]);
    }
    sbuf_puts(&ij, "], \"config_from\": ");
    sbuf_json_string(&ij, config_from);
    sbuf_puts(&ij, ", \"tl_config_from\": ");
    if (tl_text)
        sbuf_json_string(&ij, tl_from);
    else
        sbuf_puts(&ij, "null");
    sbuf_puts(&ij, ", \"split_from\": ");
    sbuf_json_string(&ij, split_from);
    sbuf_puts(&ij, ", \"metrics_from\": ");
    sbuf_json_string(&ij, o->curves ? o->curves : "checkpoints");
    sbuf_printf(&ij,
                ",\n    \"tensors_by_dtype\": {%s}, \"converted_to_float32\": %s, "
                "\"float64_values_rounded\": %zu,\n    \"unembed_columns_dropped\": %d, "
                "\"dropped_column_rule\": ",
                dt.data ? dt.data : "",
                dtype_count[ST_F64] + dtype_count[ST_BF16] + dtype_count[ST_F16] ? "true" : "false",
                inexact, dropped_col.n ? 1 : 0);
    sbuf_json_string(&ij, "an unembedding with one column more than the task's classes (the '=' "
                          "token's, d_vocab_out = p + 1) loses its last column, as Nanda et al.'s "
                          "analysis drops it");
    sbuf_printf(&ij, ",\n    \"extra_ignored\": [%s], \"missing_filled\": [%s], "
                     "\"buffers_skipped\": [%s]},\n",
                extra.json.data ? extra.json.data : "", missing.json.data ? missing.json.data : "",
                buffers.json.data ? buffers.json.data : "");
    if (ij.oom || dt.oom) {
        rc = grok_fail(e, GROK_ENOMEM, "out of memory");
        goto done;
    }
    r.import_json = ij.data;
    sbuf_printf(&r.log, "imported %d checkpoint%s (epochs %ld..%ld) from", n_ck,
                n_ck == 1 ? "" : "s", ck[0].epoch, last_epoch);
    for (int i = 0; i < o->n_inputs; i++)
        sbuf_printf(&r.log, " %s", o->inputs[i]);
    sbuf_printf(&r.log, "\nconfig from %s%s%s; split from %s; metrics from %s\n", config_from,
                tl_text ? ", TransformerLens config " : "", tl_text ? tl_from : "", split_from,
                o->curves ? o->curves : "the checkpoints' measures");
    if ((rc = run_write_summary(&r, last_epoch, "imported", e)) != GROK_OK ||
        (rc = run_write_text(&r, RUNDIR_LOG, &r.log, e)) != GROK_OK)
        goto done;

    /* 6. into place */
    if (rename(tmp, out) != 0) {
        rc = grok_fail(e, GROK_EIO, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        goto done;
    }
    made_tmp = 0;
    fileio_fsync_parent(out);
    if (prog.out)
        fprintf(prog.out,
                "grok: imported %d checkpoint%s (epochs %ld..%ld) into %s in %.1f s%s; "
                "'grok plot %s' draws its figures\n",
                n_ck, n_ck == 1 ? "" : "s", ck[0].epoch, last_epoch, out, progress_now() - t0,
                dropped_col.n ? " (the unembedding's '=' column dropped)" : "", out);

done:
    if (prog.open && prog.out)
        fputc('\n', prog.out);
    if (made_tmp)
        rm_tree(tmp, 1);
    for (int i = 0; src && i < o->n_inputs; i++)
        src_free(&src[i]);
    free(src);
    free(ck);
    free(conv);
    free(tl_text);
    list_free(&extra);
    list_free(&missing);
    list_free(&buffers);
    list_free(&dropped_col);
    sbuf_free(&ij);
    sbuf_free(&dt);
    r.import_json = NULL;
    if (!have_task)
        memset(&r.task, 0, sizeof r.task);
    if (!have_model)
        memset(&r.model, 0, sizeof r.model);
    run_ctx_free(&r);
    return rc;
}
