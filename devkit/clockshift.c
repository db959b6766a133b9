/* A wall clock set off by a number of seconds read from a file, for one process (LD_PRELOAD): the chaos run's
   clock jumps. Only the real-time clock moves; the monotonic clock, and so every sleep and timeout, does not.
   MOTCUA_CLOCKSHIFT_FILE names the file (one number, seconds, may be negative); it is read again at most every
   50 ms of monotonic time, so a jump is seen within that. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime(void) {
    static clock_gettime_fn real;
    if (!real) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    return real;
}

static long long offset_ns(void) {
    static volatile long long offset, read_at = -1;
    struct timespec now;
    real_clock_gettime()(CLOCK_MONOTONIC, &now);
    long long mono = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (read_at < 0 || mono - read_at > 50000000LL) {
        const char *path = getenv("MOTCUA_CLOCKSHIFT_FILE");
        double seconds = 0;
        FILE *f = path ? fopen(path, "r") : NULL;
        if (f) {
            if (fscanf(f, "%lf", &seconds) != 1) seconds = 0;
            fclose(f);
        }
        offset = (long long)(seconds * 1e9);
        read_at = mono;
    }
    return offset;
}

static void shift(struct timespec *ts) {
    long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ns();
    ts->tv_sec = ns / 1000000000LL;
    ts->tv_nsec = ns % 1000000000LL;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int result = real_clock_gettime()(id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts);
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    (void)tz;
    if (result == 0 && tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return result;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
