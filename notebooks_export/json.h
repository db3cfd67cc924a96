/* json.h: a small strict JSON reader (RFC 8259) into a tree of values.
 *
 * Owns parsing only: the run directory's summary.json, and the notebooks and
 * sweep tables that tests read back.  Strings are decoded to UTF-8 (escapes,
 * \uXXXX and surrogate pairs included); numbers follow the JSON grammar
 * exactly and are stored as double; nesting is limited to JSON_MAX_DEPTH.
 * Duplicate object keys are kept in order and json_get returns the first.
 * Writing JSON is sbuf_json_string's (model/fileio.h). */
#ifndef GROK_JSON_H
#define GROK_JSON_H

#include <stddef.h>

#include "grok.h"

#define JSON_MAX_DEPTH 64

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    int boolean;       /* JSON_BOOL */
    double number;     /* JSON_NUMBER */
    char *string;      /* JSON_STRING: UTF-8, NUL-terminated (may hold \u0000 as a byte) */
    size_t string_len; /* JSON_STRING: bytes, excluding the NUL */
    size_t n;          /* JSON_ARRAY, JSON_OBJECT: number of items */
    char **keys;       /* JSON_OBJECT: [n] */
    json_value *items; /* JSON_ARRAY, JSON_OBJECT: [n] */
};

/* Parses text[0..len) (one value, surrounded by optional whitespace) into v,
 * which owns everything it points to.  `what` names the source in messages:
 * "summary.json: invalid JSON at line 3, column 7: expected ',' or '}'".
 * GROK_EFORMAT for bad JSON, GROK_ENOMEM; on error v is a JSON_NULL that
 * json_free accepts. */
int json_parse(json_value *v, const char *text, size_t len, const char *what, grok_err *e);
void json_free(json_value *v);

/* The member called key of an object, or NULL (also when obj is NULL or not
 * an object). */
const json_value *json_get(const json_value *obj, const char *key);

/* obj[key] as a number: 1 and *out set when it is one; 0 otherwise (absent,
 * null, another type). */
int json_get_number(const json_value *obj, const char *key, double *out);

/* obj[key] as a string, or NULL. */
const char *json_get_string(const json_value *obj, const char *key);

#endif
