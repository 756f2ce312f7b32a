/* quizkit/clock.h: the one clock (DESIGN.md decision 10: time is an input).
 *
 * Nothing in quizkit reads the system clock but this module. A qk_clock is
 * the system clock, or a clock set for a test or a demonstration: it shows a
 * chosen instant and runs from there at a chosen rate. A host (the quizkit
 * command, an app) makes one clock and hands it to everything it opens:
 * engines (qk_engine_use_clock), the server's store, the kiosk.
 *
 * The environment sets it the same way for every command:
 *   QUIZKIT_NOW=2026-12-02T23:59:30+08:00   the instant (qk_parse_instant:
 *                                           no offset means Beijing time)
 *   QUIZKIT_NOW_RATE=60                     seconds of clock per real second
 *                                           (default 1; 0 stops it)
 *   QUIZKIT_NOW_SINCE=1796226000000         the real time (Unix ms) at which
 *                                           the clock showed QUIZKIT_NOW; lets
 *                                           several processes share one clock
 *                                           (default: when the process read it)
 * A server judges with its own clock: what a device's clock says is data,
 * never the judge of anything the server must trust. */
#ifndef QUIZKIT_CLOCK_H
#define QUIZKIT_CLOCK_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_clock {
    int set;            /* 0: the system clock (the fields below are unused) */
    int64_t at_ms;      /* the instant shown at the anchor */
    int64_t anchor_ms;  /* the real clock's reading at that moment */
    int anchor_wall;    /* the anchor is wall time (QUIZKIT_NOW_SINCE), else monotonic */
    int64_t rate_milli; /* thousandths: 1000 runs at real speed */
} qk_clock;
#define QK_CLOCK_SYSTEM {0, 0, 0, 0, 1000}

/* The real clocks: wall (ms since 1970 UTC) and monotonic (ms, arbitrary origin). */
int64_t qk_clock_real_ms(void);
int64_t qk_clock_real_mono_ms(void);

/* The time and the monotonic time of a clock (NULL: the system clock). The
 * monotonic time of a set clock runs at its rate and never jumps. */
int64_t qk_clock_now_ms(const qk_clock *c);
int64_t qk_clock_mono_ms(const qk_clock *c);

/* Seconds of the clock per real second (1 for the system clock). */
double qk_clock_rate(const qk_clock *c);

/* A clock from the three settings above (each may be NULL: now NULL or ""
 * gives the system clock). QK_EINVAL with a message naming the setting. */
int qk_clock_parse(qk_clock *out, const char *now, const char *rate, const char *since,
                   qk_lang lang, char *msg, size_t msglen);
/* The same from the environment variables. */
int qk_clock_from_env(qk_clock *out, qk_lang lang, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif

#endif
