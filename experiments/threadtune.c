/* threadtune.c: the adaptive thread count of the training loop (threadtune.h). */
#include "threadtune.h"

#include "linalg.h"

static int slot(const threadtune *tt, int count) { return count == tt->max ? 0 : 1; }

static void use(threadtune *tt, int count)
{
    if (count != tt->cur) {
        la_set_threads(count);
        tt->switches++;
    }
    tt->cur = count;
    tt->sum = 0;
    tt->n = 0;
}

void threadtune_init(threadtune *tt, int max_threads, int enabled)
{
    *tt = (threadtune){0};
    tt->max = tt->cur = max_threads > 1 ? max_threads : 1;
    tt->enabled = enabled && tt->max > 1;
    tt->wait = 1; /* the first probe right after the first window */
    tt->interval = 4;
    if (tt->enabled) {
        use(tt, 1);
        tt->switches = 0;
    }
}

static void start_probe(threadtune *tt)
{
    tt->probing = 1;
    tt->back = tt->cur;
    use(tt, tt->cur == tt->max ? 1 : tt->max);
}

static void end_probe(threadtune *tt, int winner)
{
    tt->probing = 0;
    if (winner == tt->back) { /* confirmed: the next try later */
        if (tt->interval < THREADTUNE_MAX_INTERVAL)
            tt->interval *= 2;
    } else {
        tt->interval = 4;
    }
    tt->wait = tt->interval;
    use(tt, winner);
}

void threadtune_step(threadtune *tt, double seconds)
{
    tt->steps[slot(tt, tt->cur)]++;
    if (!tt->enabled)
        return;
    if (tt->probing) {
        const double ref = tt->mean[slot(tt, tt->back)];
        if (ref > 0 && seconds > 1.5 * ref) { /* clearly slower: back at once */
            end_probe(tt, tt->back);
            return;
        }
    } else {
        const double ref = tt->mean[slot(tt, tt->cur)];
        if (ref > 0 && seconds > 2.0 * ref) { /* the load changed: this level, and a probe */
            tt->mean[slot(tt, tt->cur)] = seconds;
            start_probe(tt);
            return;
        }
    }
    tt->sum += seconds;
    if (++tt->n < THREADTUNE_WINDOW)
        return;
    const double mean = tt->sum / tt->n;
    tt->mean[slot(tt, tt->cur)] = mean;
    tt->sum = 0;
    tt->n = 0;
    if (tt->probing) {
        end_probe(tt, mean < tt->mean[slot(tt, tt->back)] ? tt->cur : tt->back);
        return;
    }
    if (--tt->wait <= 0)
        start_probe(tt);
}
