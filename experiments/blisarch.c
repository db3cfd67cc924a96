/* blisarch.c: BLIS kernel selection and thread count (see blisarch.h).
 *
 * The sub-configuration numbers are BLIS 0.9.0's arch_t order
 * (frame/include/bli_type_defs.h; docs/formats.md, BLIS).  skx is chosen only
 * when all four AVX-512 subsets its kernels use are present: forcing it on a
 * CPU without them ends in SIGILL. */
#include "blisarch.h"

#include <blis.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* BLIS 0.9.0 arch_t order: index = BLIS_ARCH_TYPE value. */
static const char *const blisarch_names[] = {
    "skx",       "knl",         "knc",        "haswell",   "sandybridge", "penryn",
    "zen3",      "zen2",        "zen",        "excavator", "steamroller", "piledriver",
    "bulldozer", "armsve",      "a64fx",      "firestorm", "thunderx2",   "cortexa57",
    "cortexa53", "cortexa15",   "cortexa9",   "power10",   "power9",      "power7",
    "bgq",       "generic",
};
#define BLISARCH_N_NAMES ((int)(sizeof blisarch_names / sizeof blisarch_names[0]))

const char *blisarch_source_name(blisarch_source s)
{
    switch (s) {
    case BLISARCH_CPUID: return "cpuid";
    case BLISARCH_USER: return "user";
    case BLISARCH_LIBRARY: return "library";
    }
    return "?";
}

/* Fills *id and *reason from the CPU's features; returns 0 when no choice
 * is made (no AVX2+FMA, or a compiler without __builtin_cpu_supports). */
static int blisarch_from_cpuid(int *id, char *reason, size_t n)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        *id = 0;
        snprintf(reason, n, "AVX-512 F/DQ/BW/VL");
        return 1;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        int amd = __builtin_cpu_is("amd");
        *id = amd ? 6 : 3;
        snprintf(reason, n, "AVX2+FMA, %s", amd ? "AMD" : "not AMD");
        return 1;
    }
    return 0;
#else
    (void)id;
    (void)reason;
    (void)n;
    return 0;
#endif
}

void blisarch_select(blisarch_info *info)
{
    memset(info, 0, sizeof *info);
    const char *user = getenv("BLIS_ARCH_TYPE");
    if (user && user[0]) {
        info->source = BLISARCH_USER;
        snprintf(info->env_value, sizeof info->env_value, "%s", user);
        snprintf(info->reason, sizeof info->reason, "BLIS_ARCH_TYPE=%s", user);
        for (int i = 0; i < BLISARCH_N_NAMES; i++) {
            if (strcmp(user, blisarch_names[i]) == 0) {
                snprintf(info->env_value, sizeof info->env_value, "%d", i);
                setenv("BLIS_ARCH_TYPE", info->env_value, 1);
                break;
            }
        }
        return;
    }
    int id;
    if (blisarch_from_cpuid(&id, info->reason, sizeof info->reason)) {
        info->source = BLISARCH_CPUID;
        snprintf(info->env_value, sizeof info->env_value, "%d", id);
        setenv("BLIS_ARCH_TYPE", info->env_value, 1);
    } else {
        info->source = BLISARCH_LIBRARY;
        snprintf(info->reason, sizeof info->reason, "no AVX2+FMA found; BLIS's own choice");
    }
}

void blisarch_start(blisarch_info *info, int threads)
{
    /* bli_arch_query_id before bli_init aborts when BLIS_ARCH_TYPE is set. */
    bli_init();
    snprintf(info->kernel, sizeof info->kernel, "%s", bli_arch_string(bli_arch_query_id()));
    info->threads_auto = threads <= 0;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    info->threads = threads;
    omp_set_num_threads(threads);
    bli_thread_set_num_threads(threads);
}

void blisarch_describe(const blisarch_info *info, char *buf, size_t n)
{
    const char *how = info->source == BLISARCH_CPUID  ? "chosen from CPUID"
                      : info->source == BLISARCH_USER ? "set by the user"
                                                      : "BLIS default";
    snprintf(buf, n, "BLIS %s kernels: %s (%s: %s); %d thread%s%s", bli_info_get_version_str(),
             info->kernel[0] ? info->kernel : "?", how, info->reason, info->threads,
             info->threads == 1 ? "" : "s",
             info->flush_denormals ? "; subnormal floats flushed to zero" : "");
}
