/* clock.c: the one place quizkit reads the system clock (quizkit/clock.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int64_t qk_clock_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t qk_clock_real_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* v * rate_milli / 1000, held at the int64 ends instead of overflowing
 * (a rate of 100,000x over years of real time goes past them). */
static int64_t scale(int64_t v, int64_t rate_milli)
{
    if (rate_milli == 0)
        return 0;
    int64_t whole = v / 1000, part = v % 1000; /* v = whole * 1000 + part */
    if (whole > INT64_MAX / rate_milli)
        return INT64_MAX;
    if (whole < INT64_MIN / rate_milli)
        return INT64_MIN;
    return whole * rate_milli + part * rate_milli / 1000;
}

static int64_t add_held(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Real milliseconds since the anchor, scaled by the rate. */
static int64_t scaled_since_anchor(const qk_clock *c)
{
    int64_t real = c->anchor_wall ? qk_clock_real_ms() : qk_clock_real_mono_ms();
    return scale(add_held(real, -c->anchor_ms), c->rate_milli);
}

int64_t qk_clock_now_ms(const qk_clock *c)
{
    if (!c || !c->set)
        return qk_clock_real_ms();
    return add_held(c->at_ms, scaled_since_anchor(c));
}

int64_t qk_clock_mono_ms(const qk_clock *c)
{
    int64_t mono = qk_clock_real_mono_ms();
    if (!c || !c->set || c->rate_milli == 1000)
        return mono;
    return scale(mono, c->rate_milli);
}

double qk_clock_rate(const qk_clock *c)
{
    return c && c->set ? (double)c->rate_milli / 1000.0 : 1.0;
}

/* A decimal rate such as "60", "0.5" or "0": thousandths, at most 100,000x. */
static int parse_rate(const char *s, int64_t *milli)
{
    int64_t whole = 0, frac = 0, scale = 100;
    const char *p = s;
    if (!*p)
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 100000)
            return -1;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p || p == s)
        return -1;
    *milli = whole * 1000 + frac;
    return 0;
}

static int parse_ms(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || !end || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

int qk_clock_parse(qk_clock *out, const char *now, const char *rate, const char *since,
                   qk_lang lang, char *msg, size_t msglen)
{
    qk__err err;
    qk_clock c = QK_CLOCK_SYSTEM;
    *out = c;
    if (!now || !*now)
        return QK_OK;
    c.set = 1;
    int status = QK_OK;
    if (qk_parse_instant(now, &c.at_ms) != 0)
        status = qk__errf(&err, lang, QK_EINVAL, QK_M_CLOCK_BAD, "QUIZKIT_NOW", now);
    else if (rate && *rate && parse_rate(rate, &c.rate_milli) != 0)
        status = qk__errf(&err, lang, QK_EINVAL, QK_M_CLOCK_BAD, "QUIZKIT_NOW_RATE", rate);
    else if (since && *since && parse_ms(since, &c.anchor_ms) != 0)
        status = qk__errf(&err, lang, QK_EINVAL, QK_M_CLOCK_BAD, "QUIZKIT_NOW_SINCE", since);
    if (status != QK_OK) {
        if (msg && msglen)
            snprintf(msg, msglen, "%s", err.msg);
        return status;
    }
    if (since && *since) {
        c.anchor_wall = 1;
    } else {
        c.anchor_ms = qk_clock_real_mono_ms();
    }
    *out = c;
    return QK_OK;
}

int qk_clock_from_env(qk_clock *out, qk_lang lang, char *msg, size_t msglen)
{
    return qk_clock_parse(out, getenv("QUIZKIT_NOW"), getenv("QUIZKIT_NOW_RATE"),
                          getenv("QUIZKIT_NOW_SINCE"), lang, msg, msglen);
}
