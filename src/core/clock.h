/* clock.h — the one monotonic clock every timer in hpcml reads. */
#ifndef HPCML_CORE_CLOCK_H
#define HPCML_CORE_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC: differences are durations; the origin is
 * arbitrary and differs between hosts. */
static inline double hpcml_mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
