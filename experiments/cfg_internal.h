/* cfg_internal.h: what the pieces of the config module share (not public;
 * cfg.h is the interface).
 *
 * The key table's types (cfg_key, cfg_enum, cfg_type) and the table itself
 * (cfg_keys[], experiments/cfg_keys.c), where a value came from (cfg_origin),
 * and the helpers one piece defines and another calls:
 *   cfg.c         name lookups, defaults, reading a file, --set, cfg_load
 *   cfg_check.c   a value against its key's range, the cross-field rules
 *   cfg_format.c  values, ranges and error messages as text, config.cfg,
 *                 `grok help config` */
#ifndef GROK_CFG_INTERNAL_H
#define GROK_CFG_INTERNAL_H

#include <stddef.h>

#include "cfg.h"
#include "fileio.h"
#include "grok.h"

/* ------------------------------------------------------------------------ */
/* the key table */

typedef enum {
    CFG_U64,     /* uint64_t, written as an integer (L suffix beyond 32 bits) */
    CFG_INT,     /* int */
    CFG_LONG,    /* long */
    CFG_DOUBLE,  /* double; integers accepted */
    CFG_BOOL,    /* int 0/1, libconfig true/false */
    CFG_ENUM,    /* an enum stored as int, written as its name */
    CFG_PAIR,    /* two doubles at off and off2, written as [a, b] */
    CFG_STRING   /* char[smax], checked by the key's own function */
} cfg_type;

/* Bounds of a CFG_DOUBLE (and each element of a CFG_PAIR). */
#define CFG_LO_OPEN 1 /* value > lo rather than >= lo */
#define CFG_HI_OPEN 2 /* value < hi rather than <= hi */

typedef struct {
    const char *noun;             /* "operation": for "unknown operation" */
    int count;                    /* valid values are 0..count-1 */
    const char *(*name)(int);     /* value -> name */
    int (*parse)(const char *);   /* name -> value, -1 when unknown */
    /* NULL, or what is wrong with a name parse refused ("too large"), into buf */
    const char *(*problem)(const char *name, char *buf, size_t n);
} cfg_enum;

typedef struct {
    const char *name;       /* full dotted name, "model.d_model" */
    cfg_type type;
    size_t off, off2;       /* offsets in cfg_run (off2: the pair's second value) */
    long long imin, imax;   /* integer bounds, inclusive */
    double dmin, dmax;      /* float bounds; -INFINITY / INFINITY = none */
    int open;               /* CFG_LO_OPEN | CFG_HI_OPEN */
    long long idef;         /* default of an integer, bool or enum key */
    double ddef, ddef2;     /* default of a float or pair key */
    const char *sdef;       /* default of a string key */
    const cfg_enum *en;     /* CFG_ENUM only */
    size_t smax;            /* CFG_STRING: the buffer's size */
    /* CFG_STRING: 1 when s is valid, else 0 with the problem written into what */
    int (*scheck)(const char *s, char *what, size_t n);
    const char *range;      /* valid values, when the bounds do not say it all */
    const char *doc;        /* one line: what the key is */
    int resumable;          /* 1: a resumed run may change it (cfg_key_resumable) */
} cfg_key;


/* The number of keys in cfg_keys[] (cfg_keys.c checks it at compile time). */
#define CFG_N_KEYS 74

/* The one table of config keys, in the order config.cfg lists them
 * (cfg_keys.c). */
extern const cfg_key cfg_keys[];

/* ------------------------------------------------------------------------ */
/* where a value came from */

typedef struct {
    const char *file; /* config path, an included file, "--set", "<default>", "<config>" */
    int line;         /* 0 = none */
    int in_dir;       /* 1: file is relative to the include directory */
} cfg_origin;


/* "WHERE: key = value: <fmt>" into e, WHERE being o's file and line (a file
 * relative to the include directory inc_dir when o->in_dir); returns
 * GROK_EINVAL (cfg_format.c). */
int cfg_fail(grok_err *e, const cfg_origin *o, const char *inc_dir, const char *key,
             const char *value, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* ---- cfg.c: looking up keys, a value by offset --------------------------- */

const char *cfg_leaf(const char *name);
size_t cfg_group_len(const char *name);
int cfg_find_key(const char *name);
int cfg_is_group(const char *name, size_t n);
int cfg_get_int(const cfg_run *c, size_t off);
double cfg_get_double(const cfg_run *c, size_t off);
long long cfg_get_integer(const cfg_run *c, const cfg_key *k);

/* ---- cfg_check.c --------------------------------------------------------- */

int cfg_double_ok(const cfg_key *k, double v);
/* Every key's range, then the cross-field rules; org[i] is where key i's
 * value came from. */
int cfg_check_all(const cfg_run *c, const cfg_origin *org, const char *inc_dir, grok_err *e);

/* ---- cfg_format.c -------------------------------------------------------- */

void cfg_fmt_double(char *buf, size_t n, double v);
void cfg_fmt_value(sbuf *out, const cfg_run *c, const cfg_key *k, int config_syntax);
void cfg_fmt_bounds_phrase(sbuf *out, const cfg_key *k);
void cfg_fmt_range(sbuf *out, const cfg_key *k);
void cfg_fmt_must(sbuf *out, const cfg_key *k);
void cfg_fmt_expected(sbuf *out, const cfg_key *k);
void cfg_fmt_where(char *buf, size_t n, const cfg_origin *o, const char *inc_dir);
void cfg_fmt_section(sbuf *out, const char *group, size_t glen);
int cfg_fail_unknown(grok_err *e, const cfg_origin *o, const char *inc_dir, const char *name,
                     const char *value, int is_group);

#endif
