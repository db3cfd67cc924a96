/* threadtune.h: the training loop's thread count, chosen from measured step
 * times.
 *
 * On a machine shared with other busy processes, a step on every core can be
 * many times slower than a step on one: when a partner thread is descheduled,
 * BLIS's spinning barriers and OpenMP's barriers wait for whole time slices.
 * Since the model's results are the same bits for any thread count
 * (model/tfm.h), the loop may change the count at any step.  The tuner starts
 * on one thread, times the training steps in windows of THREADTUNE_WINDOW
 * steps and now and then runs a window on the other count (after 1, 4, 8, ...
 * windows, up to every THREADTUNE_MAX_INTERVAL windows), keeping the faster.
 * A probe step slower than 1.5 times the count it is compared with ends the
 * probe at once, and a step slower than twice its count's last window mean
 * (the load changed) starts one, so a bad count costs a step, not a window.
 * docs/design.md (threads) says why this and not a wait policy. */
#ifndef GROK_THREADTUNE_H
#define GROK_THREADTUNE_H

#define THREADTUNE_WINDOW 10        /* steps per timed window */
#define THREADTUNE_MAX_INTERVAL 256 /* most windows between two tries of the other count */

typedef struct {
    int enabled;      /* 0: the count stays as it is */
    int max, cur;     /* the count asked for (all cores); the count in use */
    int probing;      /* 1: this window tries the other count */
    int back;         /* while probing: the count the probe is compared with */
    double mean[2];   /* last window's seconds per step on max [0] and on 1 [1]; 0 unknown */
    double sum;       /* seconds of the steps in this window */
    int n;            /* steps in this window */
    long wait, interval; /* windows until the next probe; the current interval */
    long steps[2];    /* steps run on max [0] and on 1 [1] */
    long switches;    /* changes of the count */
} threadtune;

/* Enabled when max_threads > 1 and enabled is 1: then starts on one thread;
 * else stays on max_threads (and changes nothing). */
void threadtune_init(threadtune *tt, int max_threads, int enabled);

/* Adds one step of `seconds`; may change the thread count (la_set_threads)
 * for the next step. */
void threadtune_step(threadtune *tt, double seconds);

#endif
