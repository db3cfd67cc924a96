/* json.c: the strict recursive-descent JSON reader declared in json.h.
 *
 * Grammar from RFC 8259 section 2-7: no trailing commas, no comments, no
 * leading zeros, no NaN/Infinity, control characters escaped inside strings.
 * Errors give the line and column of the offending byte. */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, i;
    const char *what;
    grok_err *e;
} json_parser;

static int json_error(json_parser *p, const char *msg)
{
    size_t line = 1, col = 1;
    for (size_t k = 0; k < p->i && k < p->n; k++) {
        if (p->s[k] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (p->i >= p->n)
        return grok_fail(p->e, GROK_EFORMAT, "%s: invalid JSON at line %zu, column %zu (end of text): %s",
                         p->what, line, col, msg);
    return grok_fail(p->e, GROK_EFORMAT, "%s: invalid JSON at line %zu, column %zu: %s", p->what,
                     line, col, msg);
}

static void json_skip_ws(json_parser *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int json_literal(json_parser *p, const char *word)
{
    size_t k = strlen(word);
    if (p->n - p->i < k || memcmp(p->s + p->i, word, k) != 0)
        return json_error(p, "unknown literal (expected a value)");
    p->i += k;
    return GROK_OK;
}

/* Appends code point cp as UTF-8 to buf (room for 4 bytes guaranteed). */
static size_t json_utf8(unsigned char *buf, uint32_t cp)
{
    if (cp < 0x80) {
        buf[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (unsigned char)(0xC0 | (cp >> 6));
        buf[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (unsigned char)(0xE0 | (cp >> 12));
        buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (unsigned char)(0xF0 | (cp >> 18));
    buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int json_hex4(json_parser *p, uint32_t *out)
{
    if (p->n - p->i < 4)
        return json_error(p, "\\u needs four hex digits");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i + (size_t)k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return json_error(p, "\\u needs four hex digits");
    }
    p->i += 4;
    *out = v;
    return GROK_OK;
}

/* At the opening quote: decodes the string into a new malloc'ed buffer. */
static int json_string(json_parser *p, char **out, size_t *out_len)
{
    p->i++; /* the quote */
    /* The decoded string is never longer than the encoded one. */
    size_t end = p->i;
    while (end < p->n && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->n) {
        p->i = p->n;
        return json_error(p, "unterminated string");
    }
    unsigned char *buf = malloc(end - p->i + 1);
    if (!buf)
        return grok_fail(p->e, GROK_ENOMEM, "%s: out of memory reading JSON", p->what);
    size_t k = 0;
    int rc = GROK_OK;
    while (rc == GROK_OK) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) {
            rc = json_error(p, "control character in a string (must be escaped)");
            break;
        }
        if (c != '\\') {
            buf[k++] = c;
            p->i++;
            continue;
        }
        p->i++;
        char esc = p->s[p->i++];
        uint32_t cp;
        switch (esc) {
        case '"': buf[k++] = '"'; break;
        case '\\': buf[k++] = '\\'; break;
        case '/': buf[k++] = '/'; break;
        case 'b': buf[k++] = '\b'; break;
        case 'f': buf[k++] = '\f'; break;
        case 'n': buf[k++] = '\n'; break;
        case 'r': buf[k++] = '\r'; break;
        case 't': buf[k++] = '\t'; break;
        case 'u':
            if ((rc = json_hex4(p, &cp)) != GROK_OK)
                break;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->n - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
                    rc = json_error(p, "high surrogate without its low surrogate");
                    break;
                }
                p->i += 2;
                if ((rc = json_hex4(p, &lo)) != GROK_OK)
                    break;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    rc = json_error(p, "high surrogate without its low surrogate");
                    break;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                rc = json_error(p, "low surrogate without a high surrogate");
                break;
            }
            /* \uXXXX is 6 bytes and yields at most 3; a pair is 12 for 4. */
            k += json_utf8(buf + k, cp);
            break;
        default:
            p->i--;
            rc = json_error(p, "unknown escape (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            break;
        }
    }
    if (rc != GROK_OK) {
        free(buf);
        return rc;
    }
    buf[k] = '\0';
    *out = (char *)buf;
    *out_len = k;
    return GROK_OK;
}

static int json_number(json_parser *p, double *out)
{
    size_t start = p->i, i = p->i;
    const char *s = p->s;
    if (i < p->n && s[i] == '-')
        i++;
    if (i < p->n && s[i] == '0') {
        i++;
    } else if (i < p->n && s[i] >= '1' && s[i] <= '9') {
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        p->i = i;
        return json_error(p, "expected a value");
    }
    if (i < p->n && s[i] == '.') {
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') {
            p->i = i;
            return json_error(p, "expected a digit after '.'");
        }
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') {
            p->i = i;
            return json_error(p, "expected a digit in the exponent");
        }
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    char tmp[64];
    size_t len = i - start;
    char *heap = NULL;
    char *num = tmp;
    if (len >= sizeof tmp) {
        heap = malloc(len + 1);
        if (!heap)
            return grok_fail(p->e, GROK_ENOMEM, "%s: out of memory reading JSON", p->what);
        num = heap;
    }
    memcpy(num, s + start, len);
    num[len] = '\0';
    errno = 0;
    *out = strtod(num, NULL); /* the grammar is checked above; overflow gives +-HUGE_VAL */
    free(heap);
    p->i = i;
    return GROK_OK;
}

static int json_value_parse(json_parser *p, json_value *v, int depth);

/* Appends an item to an array or object under construction. */
static int json_push(json_parser *p, json_value *v, size_t *cap, char *key)
{
    if (v->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 4;
        json_value *items = realloc(v->items, nc * sizeof *items);
        if (!items)
            return grok_fail(p->e, GROK_ENOMEM, "%s: out of memory reading JSON", p->what);
        v->items = items;
        if (v->type == JSON_OBJECT) {
            char **keys = realloc(v->keys, nc * sizeof *keys);
            if (!keys)
                return grok_fail(p->e, GROK_ENOMEM, "%s: out of memory reading JSON", p->what);
            v->keys = keys;
        }
        *cap = nc;
    }
    memset(&v->items[v->n], 0, sizeof v->items[v->n]);
    if (v->type == JSON_OBJECT)
        v->keys[v->n] = key;
    v->n++;
    return GROK_OK;
}

static int json_container(json_parser *p, json_value *v, int depth)
{
    const int object = p->s[p->i] == '{';
    const char close = object ? '}' : ']';
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    p->i++;
    size_t cap = 0;
    json_skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return GROK_OK;
    }
    for (;;) {
        char *key = NULL;
        json_skip_ws(p);
        if (object) {
            size_t klen;
            if (p->i >= p->n || p->s[p->i] != '"')
                return json_error(p, "expected a string key");
            int rc = json_string(p, &key, &klen);
            if (rc != GROK_OK)
                return rc;
            json_skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                free(key);
                return json_error(p, "expected ':' after the key");
            }
            p->i++;
        }
        int rc = json_push(p, v, &cap, key);
        if (rc != GROK_OK) {
            free(key);
            return rc;
        }
        if ((rc = json_value_parse(p, &v->items[v->n - 1], depth + 1)) != GROK_OK)
            return rc;
        json_skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return GROK_OK;
        }
        return json_error(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int json_value_parse(json_parser *p, json_value *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (depth > JSON_MAX_DEPTH)
        return json_error(p, "nested deeper than 64 levels");
    json_skip_ws(p);
    if (p->i >= p->n)
        return json_error(p, "expected a value");
    switch (p->s[p->i]) {
    case '{':
    case '[': return json_container(p, v, depth);
    case '"': v->type = JSON_STRING; return json_string(p, &v->string, &v->string_len);
    case 't': v->type = JSON_BOOL; v->boolean = 1; return json_literal(p, "true");
    case 'f': v->type = JSON_BOOL; return json_literal(p, "false");
    case 'n': return json_literal(p, "null");
    default: v->type = JSON_NUMBER; return json_number(p, &v->number);
    }
}

int json_parse(json_value *v, const char *text, size_t len, const char *what, grok_err *e)
{
    GROK_ASSERT(v && (text || len == 0));
    json_parser p = {.s = text, .n = len, .i = 0, .what = what ? what : "JSON", .e = e};
    int rc = json_value_parse(&p, v, 0);
    if (rc == GROK_OK) {
        json_skip_ws(&p);
        if (p.i != p.n)
            rc = json_error(&p, "text after the value");
    }
    if (rc != GROK_OK) {
        json_free(v);
        memset(v, 0, sizeof *v);
    }
    return rc;
}

void json_free(json_value *v)
{
    if (!v)
        return;
    free(v->string);
    for (size_t i = 0; i < v->n; i++) {
        if (v->items)
            json_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

int json_get_number(const json_value *obj, const char *key, double *out)
{
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER)
        return 0;
    *out = v->number;
    return 1;
}

const char *json_get_string(const json_value *obj, const char *key)
{
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->string : NULL;
}
