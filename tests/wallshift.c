/* LD_PRELOAD library for tests/test_warmer_headless.py: shifts the wall clock (CLOCK_REALTIME,
   gettimeofday, time) by the seconds in $KW_WALL_OFFSET_FILE and leaves CLOCK_MONOTONIC alone,
   which is what a process sees across a laptop suspend. The file is re-read at most every
   50 ms. (libfaketime 0.9.10 can do this too, but with FAKETIME_DONT_FAKE_MONOTONIC it breaks
   Python's time.sleep: clock_nanosleep gets a negative absolute monotonic time, EINVAL.) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static long cached;
static struct timespec checked;

static long wall_offset(void) {
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed_ms =
        (now.tv_sec - checked.tv_sec) * 1000 + (now.tv_nsec - checked.tv_nsec) / 1000000;
    if (checked.tv_sec == 0 || elapsed_ms >= 50) {
        const char *path = getenv("KW_WALL_OFFSET_FILE");
        FILE *f = path ? fopen(path, "r") : NULL;
        long value = 0;
        if (f) {
            if (fscanf(f, "%ld", &value) != 1) value = 0;
            fclose(f);
        }
        cached = value;
        checked = now;
    }
    return cached;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int result = real_clock_gettime(id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += wall_offset();
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    if (tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    return 0;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
