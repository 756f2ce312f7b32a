/* term.c: terminal input with timeouts and Ctrl-C, hidden PIN entry, and
 * output aligned by display width (a Chinese character takes two columns).
 *
 * Input is read with read(2) and poll(2) rather than stdio so that an exam's
 * time limit can interrupt a prompt and Ctrl-C can end it cleanly. The signal
 * flag is the one piece of process-wide state: signals are process-wide. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void term_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a waiting poll() must return */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int term_interrupted(void)
{
    return interrupted != 0;
}

#define LINE_MAX_BYTES 4096
static char inbuf[LINE_MAX_BYTES * 2];
static size_t inlen;
static char line_out[LINE_MAX_BYTES + 1];

/* Input deadlines run on the command's clock, as the engine's timers do. */
static const qk_clock *term_clock;

void term_set_clock(const qk_clock *clock)
{
    term_clock = clock;
}

static int64_t now_ms(void)
{
    return qk_clock_mono_ms(term_clock);
}

/* Takes one line out of the buffer if there is one. A line longer than the
 * limit is cut there (the rest is read as the next line). */
static int take_line(const char **line, int at_eof)
{
    char *nl = memchr(inbuf, '\n', inlen);
    size_t n;
    if (nl)
        n = (size_t)(nl - inbuf);
    else if (inlen >= LINE_MAX_BYTES || (at_eof && inlen > 0))
        n = inlen < LINE_MAX_BYTES ? inlen : LINE_MAX_BYTES;
    else
        return 0;
    size_t take = n;
    if (take > LINE_MAX_BYTES)
        take = LINE_MAX_BYTES;
    memcpy(line_out, inbuf, take);
    line_out[take] = '\0';
    if (take > 0 && line_out[take - 1] == '\r')
        line_out[take - 1] = '\0';
    size_t consumed = nl && n == take ? n + 1 : take;
    memmove(inbuf, inbuf + consumed, inlen - consumed);
    inlen -= consumed;
    *line = line_out;
    return 1;
}

int term_read_line(const char **line, int64_t timeout_ms)
{
    int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    for (;;) {
        if (interrupted)
            return TERM_INTERRUPTED;
        if (take_line(line, 0))
            return TERM_LINE;
        int wait = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return TERM_TIMEOUT;
            /* left is in the clock's milliseconds; poll waits real ones (a
             * clock at QUIZKIT_NOW_RATE 10 has 10 of its ms to one real ms;
             * a stopped clock never times out) */
            double rate = qk_clock_rate(term_clock);
            double real = rate > 0 ? (double)left / rate : 1000000.0;
            wait = real > 1000000 ? 1000000 : real < 1 ? 1 : (int)real;
        }
        struct pollfd p = {0, POLLIN, 0};
        int r = poll(&p, 1, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return TERM_EOF;
        }
        if (r == 0)
            continue;
        ssize_t got = read(0, inbuf + inlen, sizeof inbuf - inlen);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return take_line(line, 1) ? TERM_LINE : TERM_EOF;
        inlen += (size_t)got;
    }
}

int term_read_secret(const cli *c, const char *prompt, const char **line)
{
    (void)c;
    struct termios old, quiet;
    int tty = isatty(0) && tcgetattr(0, &old) == 0;
    /* Echo off before the prompt shows, and without discarding input: what
     * a person types as soon as they see the prompt is theirs, not lost. */
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSANOW, &quiet);
    }
    fputs(prompt, stderr);
    fflush(stderr);
    int rc = term_read_line(line, -1);
    if (tty) {
        tcsetattr(0, TCSANOW, &old);
        fputc('\n', stderr);
    }
    return rc;
}

void term_pad(FILE *f, const char *s, size_t width)
{
    size_t w = qk_text_width(s, strlen(s));
    fputs(s, f);
    for (; w < width; w++)
        fputc(' ', f);
}

void term_table(FILE *f, const char *const *rows, size_t n_rows, int bold_header, int color)
{
    enum { MAXCOL = 32 }; /* the widest table (stats flagged) has 14 */
    size_t widths[MAXCOL] = {0};
    size_t ncol = 0;
    for (size_t r = 0; r < n_rows; r++) {
        size_t col = 0;
        const char *p = rows[r];
        for (;;) {
            const char *tab = strchr(p, '\t');
            size_t len = tab ? (size_t)(tab - p) : strlen(p);
            if (col < MAXCOL) {
                size_t w = qk_text_width(p, len);
                if (w > widths[col])
                    widths[col] = w;
            }
            col++;
            if (!tab)
                break;
            p = tab + 1;
        }
        if (col > ncol)
            ncol = col < MAXCOL ? col : MAXCOL;
    }
    for (size_t r = 0; r < n_rows; r++) {
        if (r == 0 && bold_header && color)
            fputs("\x1b[1m", f);
        size_t col = 0;
        const char *p = rows[r];
        for (;;) {
            const char *tab = strchr(p, '\t');
            size_t len = tab ? (size_t)(tab - p) : strlen(p);
            fwrite(p, 1, len, f);
            if (!tab)
                break;
            size_t w = qk_text_width(p, len);
            for (; w < widths[col < MAXCOL ? col : MAXCOL - 1] + 2; w++)
                fputc(' ', f);
            col++;
            p = tab + 1;
        }
        if (r == 0 && bold_header && color)
            fputs("\x1b[0m", f);
        fputc('\n', f);
    }
}

void table_add(table *t, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nv = realloc(t->rows, cap * sizeof *nv);
        if (!nv)
            return; /* out of memory: the row is left out */
        t->rows = nv;
        t->cap = cap;
    }
    if ((t->rows[t->n] = strdup(buf)) != NULL)
        t->n++;
}

void table_print(const cli *c, const table *t)
{
    if (t->n)
        term_table(stdout, (const char *const *)t->rows, t->n, 1, c->color);
}

void table_free(table *t)
{
    qk_strv_free(t->rows, t->n);
    t->rows = NULL;
    t->n = t->cap = 0;
}

void fmt_points(char *buf, size_t n, qk_centi v)
{
    int neg = v < 0;
    long a = neg ? -(long)v : (long)v;
    if (a % 100 == 0)
        snprintf(buf, n, "%s%ld", neg ? "-" : "", a / 100);
    else if (a % 10 == 0)
        snprintf(buf, n, "%s%ld.%ld", neg ? "-" : "", a / 100, (a % 100) / 10);
    else
        snprintf(buf, n, "%s%ld.%02ld", neg ? "-" : "", a / 100, a % 100);
}

void fmt_duration(const cli *c, char *buf, size_t n, int64_t ms)
{
    int s = (int)((ms + 500) / 1000);
    if (s >= 60)
        msgf(c, buf, n, M_DUR_MS, s / 60, s % 60);
    else
        msgf(c, buf, n, M_DUR_S, s);
}

void fmt_time(char *buf, size_t n, int64_t unix_ms)
{
    char t[QK_TIME_LEN];
    qk_beijing_time_text(unix_ms, 0, t);
    snprintf(buf, n, "%s", t);
}
