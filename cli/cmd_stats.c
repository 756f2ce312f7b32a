/* cmd_stats.c: `quizkit stats`: participation statistics for leaders, as a
 * table aligned by display width, CSV for Excel/WPS, or JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "qk_client.h"
#include "qk_stats.h"

/* The themes and participation tables for people: theme and competition
 * titles instead of ids (from the installed bundle), 全部主题 instead of
 * "*", and mode names in the interface's language instead of the log's
 * "daily"/"practice". The JSON output keeps the ids. */
static void name_themes(cli *c, json_t *t)
{
    qk_bundle *b = NULL;
    if (bundle_open_installed(c, &b) == 0)
        qk_stats_fill_titles(t, b);
    qk_bundle_close(b);
    qk_stats_name_modes(t, c->lang);
    qk_stats_stem_first(t);
}

static void write_table(cli *c, json_t *t)
{
    if (json_array_size(json_object_get(t, "rows")) == 0) {
        /* No rows: one line that says so, not a header over nothing. */
        const char *subject = json_string_value(json_object_get(t, "subject"));
        out(c, stdout, subject && strcmp(subject, "flagged") == 0 ? M_STATS_NONE_FLAGGED
                                                                   : M_STATS_NONE);
        return;
    }
    table tb = {0};
    char line[4096];
    size_t w = 0, i, k;
    json_t *col, *row, *v;
    json_array_foreach(json_object_get(t, "columns"), i, col)
    {
        w += (size_t)snprintf(line + w, sizeof line - w, "%s%s", i ? "\t" : "",
                              json_string_value(json_object_get(col, c->lang == QK_LANG_EN ? "en" : "zh")));
    }
    table_add(&tb, "%s", line);
    json_array_foreach(json_object_get(t, "rows"), i, row)
    {
        w = 0;
        json_array_foreach(row, k, v)
        {
            char buf[512];
            qk_stats_cell_text(v, buf, sizeof buf);
            /* tabs separate the table's columns: none inside a value */
            for (char *p = buf; *p; p++)
                if (*p == '\t' || *p == '\n')
                    *p = ' ';
            if (w < sizeof line)
                w += (size_t)snprintf(line + w, sizeof line - w, "%s%s", k ? "\t" : "", buf[0] ? buf : "-");
        }
        table_add(&tb, "%s", line);
    }
    table_print(c, &tb);
    table_free(&tb);
}

/* The period options: --from/--to, --month YYYY-MM, --week DAY (Monday to
 * Sunday around it), --days N (the last N days up to today). */
typedef struct period_opts {
    const char *from, *to, *month, *week, *days;
} period_opts;

static int period_opt(cli *c, const char *cmd, int argc, char **argv, int *i, period_opts *p, int *k)
{
    return (*k = opt_value(c, cmd, argc, argv, i, "--from", &p->from)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--to", &p->to)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--month", &p->month)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--week", &p->week)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--days", &p->days));
}

/* The period in Beijing days: from the options, or this month. 0, or an
 * exit status. local: the figures are this device's, whose progress file is
 * brought up to date first (a leader asking a server has none, and gets
 * none made). */
static int period(cli *c, const period_opts *p, qk_stats_query *q, int local)
{
    int kinds = (p->from || p->to) + !!p->month + !!p->week + !!p->days;
    if (kinds > 1) {
        err(c, M_STATS_ONE_PERIOD);
        return EXIT_USAGE;
    }
    qk_engine *e = NULL;
    if (local && engine_open(c, &e))
        return EXIT_FAIL;
    qk_engine_close(e);
    int64_t now = qk_clock_now_ms(&c->clock);
    qk_stats_this_month(now, &q->from_day, &q->to_day);
    q->today = qk_beijing_day(now);
    char first[16];
    unsigned long long n = 0;
    if (p->month) {
        snprintf(first, sizeof first, "%.7s-01", p->month);
        if (strlen(p->month) != 7 || qk_stats_parse_day(first, &q->from_day)) {
            err(c, M_BAD_VALUE, "--month", p->month);
            return EXIT_USAGE;
        }
        qk_month_bounds(q->from_day, &q->from_day, &q->to_day);
    } else if (p->week) {
        int64_t day;
        if (qk_stats_parse_day(p->week, &day)) {
            err(c, M_BAD_VALUE, "--week", p->week);
            return EXIT_USAGE;
        }
        qk_week_bounds(day, &q->from_day, &q->to_day);
    } else if (p->days) {
        if (!parse_uint(p->days, 3660, &n) || n == 0) {
            err(c, M_BAD_VALUE, "--days", p->days);
            return EXIT_USAGE;
        }
        q->to_day = qk_beijing_day(now);
        q->from_day = q->to_day - (int64_t)n + 1;
    }
    if (p->from && qk_stats_parse_day(p->from, &q->from_day)) {
        err(c, M_BAD_VALUE, "--from", p->from);
        return EXIT_USAGE;
    }
    if (p->to && qk_stats_parse_day(p->to, &q->to_day)) {
        err(c, M_BAD_VALUE, "--to", p->to);
        return EXIT_USAGE;
    }
    if (q->to_day < q->from_day) {
        char to[QK_DATE_LEN], from[QK_DATE_LEN];
        qk_stats_day_text(q->to_day, to);
        qk_stats_day_text(q->from_day, from);
        if (p->from && p->to)
            err(c, M_STATS_BACKWARDS, to, from);
        else if (p->from)
            err(c, M_STATS_FROM_AFTER_TO, from, to);
        else
            err(c, M_STATS_TO_BEFORE_FROM, to, from);
        return EXIT_USAGE;
    }
    return 0;
}

/* Where the figures come from: this device, or a server (leader login). */
typedef struct source {
    int local;
    const char *server, *user, *cacert, *branch;
    int names;     /* the server's tables with titles and mode names (for people, not --json) */
    qk_client *cl; /* logged in, once */
} source;

static int server_table(cli *c, source *src, const qk_stats_query *q, json_t **t)
{
    char msg[1024];
    if (!src->cl) {
        qk_client_conf conf = {0};
        snprintf(conf.url, sizeof conf.url, "%s", src->server);
        if (src->cacert)
            snprintf(conf.cacert, sizeof conf.cacert, "%s", src->cacert);
        if (!src->user) {
            err(c, M_MISSING_ARG, "--user");
            return EXIT_USAGE;
        }
        int made = qk_client_new(&src->cl, &conf, c->lang, msg, sizeof msg);
        if (made != QK_OK) {
            err_text(c, msg);
            return made == QK_EINVAL ? EXIT_USAGE : EXIT_FAIL; /* the URL, or libcurl missing */
        }
        const char *pw = getenv("QUIZKIT_PASSWORD");
        char prompt[256];
        if (!pw) {
            msgf(c, prompt, sizeof prompt, M_LOGIN_PROMPT, src->user, src->server);
            if (term_read_secret(c, prompt, &pw) != TERM_LINE || !pw)
                return EXIT_INTERRUPTED;
        }
        if (qk_client_login(src->cl, src->user, pw, msg, sizeof msg) != QK_OK) {
            err_text(c, msg);
            return EXIT_FAIL;
        }
    }
    char path[512], from[QK_DATE_LEN], to[QK_DATE_LEN];
    qk_stats_day_text(q->from_day, from);
    qk_stats_day_text(q->to_day, to);
    snprintf(path, sizeof path, "/api/v1/stats/%s?from=%s&to=%s%s%s%s", qk_stats_subject_name(q->subject),
             from, to, src->branch ? "&branch=" : "", src->branch ? src->branch : "",
             src->names ? "&names=1" : "");
    if (qk_client_call(src->cl, "GET", path, NULL, 0, NULL, t, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        return EXIT_FAIL;
    }
    return 0;
}

/* Events not yet summed up past which a local query says why it is slow
 * (about 4 us an event: 100k take half a second). */
#define PENDING_NOTICE 100000

/* One subject's table from this device's records. */
static int local_table(cli *c, qk_stats_query *q, json_t **t)
{
    char path[4096], msg[600];
    snprintf(path, sizeof path, "%s/progress.db", c->data_dir);
    qk_bundle *b = NULL;
    /* Stems for the questions from the installed bundle: statistics only
     * read, and never install the sample bundle (or trust its key). */
    if (q->subject == QK_STATS_QUESTIONS && bundle_open_installed(c, &b) == 0)
        q->bundle = b;
    /* Many events not summed up yet (an old file, or months unsynced): the
     * query takes them in first, seconds on a large file. Say so. */
    int64_t pending = 0;
    if (qk_stats_local_pending(path, q, &pending, msg, sizeof msg) == QK_OK && pending >= PENDING_NOTICE)
        out(c, stderr, M_STATS_CATCHING_UP, (long long)pending);
    int rc = qk_stats_local(path, q, c->lang, t, msg, sizeof msg);
    qk_bundle_close(b);
    q->bundle = NULL;
    if (rc != QK_OK) {
        err_text(c, msg);
        return EXIT_FAIL;
    }
    return 0;
}

static int write_xlsx(cli *c, const char *path, json_t *const *tables, size_t n)
{
    char msg[600];
    if (qk_stats_xlsx(path, tables, n, c->lang, msg, sizeof msg) != QK_OK) {
        err_text(c, msg);
        return EXIT_FAIL;
    }
    out(c, stderr, M_STATS_XLSX, path, n);
    return EXIT_OK;
}

/* `quizkit report --xlsx FILE --local`: every subject in one workbook. */
static int table_for(cli *c, source *src, qk_stats_query *q, json_t **t)
{
    return src->local ? local_table(c, q, t) : server_table(c, src, q, t);
}

/* The source options; 1 when argv[*i] was one of them (k < 0: bad). */
static int source_opt(cli *c, const char *cmd, int argc, char **argv, int *i, source *src, int *k)
{
    if (strcmp(argv[*i], "--local") == 0) {
        src->local = 1;
        *k = 1;
        return 1;
    }
    return (*k = opt_value(c, cmd, argc, argv, i, "--server", &src->server)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--user", &src->user)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--cacert", &src->cacert)) ||
           (*k = opt_value(c, cmd, argc, argv, i, "--branch", &src->branch));
}

int cmd_report(cli *c, int argc, char **argv)
{
    const char *xlsx = NULL;
    period_opts po = {0};
    source src = {0};
    for (int i = 1; i < argc; i++) {
        int k;
        if (is_help(argv[i])) {
            out(c, stdout, M_REPORT_USAGE);
            return EXIT_OK;
        }
        if (source_opt(c, "report", argc, argv, &i, &src, &k) ||
            period_opt(c, "report", argc, argv, &i, &po, &k) ||
            (k = opt_value(c, "report", argc, argv, &i, "--xlsx", &xlsx))) {
            if (k < 0)
                return EXIT_USAGE;
        } else {
            err(c, M_UNKNOWN_OPT, "report", argv[i]);
            return EXIT_USAGE;
        }
    }
    src.names = 1;
    if (!xlsx || (!src.local == !src.server)) {
        err(c, M_MISSING_ARG, !xlsx ? "--xlsx FILE" : "--local | --server URL");
        out(c, stderr, M_REPORT_USAGE);
        return EXIT_USAGE;
    }
    qk_stats_query q = {0};
    int status = period(c, &po, &q, src.local);
    if (status)
        return status;
    /* Every subject; the flagged attempts only from the server (a device
     * does not re-score its own). */
    json_t *tables[QK_STATS_COUNT] = {0};
    size_t n = 0;
    for (int s = 0; s < QK_STATS_COUNT && status == 0; s++) {
        if (s == QK_STATS_FLAGGED && src.local)
            continue;
        q.subject = (qk_stats_subject)s;
        status = table_for(c, &src, &q, &tables[n++]);
        if (status == 0)
            name_themes(c, tables[n - 1]);
    }
    if (status == 0)
        status = write_xlsx(c, xlsx, tables, n);
    for (size_t s = 0; s < n; s++)
        json_decref(tables[s]);
    qk_client_free(src.cl);
    return status;
}

/* --sort KEY (or -KEY, most first): a column's key as in --json. Empty
 * cells go last either way. */
static int sort_col, sort_desc;

static int cmp_rows(const void *a, const void *b)
{
    json_t *x = json_array_get(*(json_t *const *)a, (size_t)sort_col);
    json_t *y = json_array_get(*(json_t *const *)b, (size_t)sort_col);
    if (json_is_null(x) || json_is_null(y))
        return json_is_null(x) - json_is_null(y);
    int c;
    if (json_is_number(x) && json_is_number(y)) {
        double dx = json_number_value(x), dy = json_number_value(y);
        c = dx < dy ? -1 : dx > dy;
    } else {
        c = strcmp(json_string_value(x) ? json_string_value(x) : "",
                   json_string_value(y) ? json_string_value(y) : "");
    }
    return sort_desc ? -c : c;
}

static int sort_rows(json_t *t, const char *key)
{
    sort_desc = key[0] == '-';
    const char *name = key + sort_desc;
    sort_col = -1;
    size_t i;
    json_t *col;
    json_array_foreach(json_object_get(t, "columns"), i, col)
    {
        if (strcmp(json_string_value(json_object_get(col, "key")), name) == 0)
            sort_col = (int)i;
    }
    if (sort_col < 0)
        return -1;
    json_t *rows = json_object_get(t, "rows");
    size_t n = json_array_size(rows);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, n, sizeof *v, cmp_rows);
    json_array_clear(rows);
    for (i = 0; i < n; i++)
        json_array_append_new(rows, v[i]);
    free(v);
    return 0;
}

int cmd_stats(cli *c, int argc, char **argv)
{
    const char *subject = NULL, *outp = NULL, *xlsx = NULL, *sort = NULL;
    period_opts po = {0};
    int csv = 0, as_json = 0;
    source src = {0};
    for (int i = 1; i < argc; i++) {
        int k;
        if (is_help(argv[i])) {
            out(c, stdout, M_STATS_USAGE);
            return EXIT_OK;
        }
        if (source_opt(c, "stats", argc, argv, &i, &src, &k) ||
            period_opt(c, "stats", argc, argv, &i, &po, &k) ||
            (k = opt_value(c, "stats", argc, argv, &i, "--sort", &sort)) ||
            (k = opt_value(c, "stats", argc, argv, &i, "--out", &outp)) ||
            (k = opt_value(c, "stats", argc, argv, &i, "--xlsx", &xlsx))) {
            if (k < 0)
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if (argv[i][0] == '-') {
            err(c, M_UNKNOWN_OPT, "stats", argv[i]);
            return EXIT_USAGE;
        } else if (!subject) {
            subject = argv[i];
        } else {
            err(c, M_EXTRA_ARG, argv[i]);
            return EXIT_USAGE;
        }
    }
    qk_stats_query q = {0};
    if (!subject || (q.subject = qk_stats_subject_parse(subject)) == QK_STATS_COUNT) {
        if (subject)
            err(c, M_BAD_VALUE, "SUBJECT", subject);
        out(c, stderr, M_STATS_USAGE);
        return EXIT_USAGE;
    }
    src.names = !as_json;
    if (!src.local == !src.server) {
        err(c, M_STATS_NEED_SOURCE);
        return EXIT_USAGE;
    }
    if (csv && as_json) {
        err(c, M_EXTRA_ARG, "--json");
        return EXIT_USAGE;
    }
    int status = period(c, &po, &q, src.local);
    json_t *t = NULL;
    if (!status)
        status = table_for(c, &src, &q, &t);
    if (!status && sort && sort_rows(t, sort) != 0) {
        err(c, M_BAD_VALUE, "--sort", sort);
        json_decref(t);
        status = EXIT_USAGE;
    }
    qk_client_free(src.cl);
    if (status)
        return status;
    if (!as_json)
        name_themes(c, t);
    if (xlsx) {
        status = write_xlsx(c, xlsx, &t, 1);
        json_decref(t);
        return status;
    }
    FILE *f = stdout;
    char tmp[4200];
    if (outp) {
        snprintf(tmp, sizeof tmp, "%s.part", outp);
        if (!(f = fopen(tmp, "wb"))) {
            err(c, M_DATA_DIR, outp, strerror(errno));
            json_decref(t);
            return EXIT_FAIL;
        }
    }
    if (csv) {
        size_t len = 0;
        char *text = qk_stats_csv(t, c->lang, &len);
        if (text)
            fwrite(text, 1, len, f);
        free(text);
    } else if (as_json) {
        json_dumpf(t, f, JSON_INDENT(2));
        fputc('\n', f);
    } else {
        out(c, f, M_STATS_PERIOD, json_string_value(json_object_get(t, "from")),
            json_string_value(json_object_get(t, "to")));
        fflush(f);
        write_table(c, t);
    }
    if (outp) {
        /* Written whole, then renamed: a half-written report never appears. */
        if (fclose(f) != 0 || rename(tmp, outp) != 0) {
            err(c, M_DATA_DIR, outp, strerror(errno));
            unlink(tmp);
            status = EXIT_FAIL;
        } else {
            out(c, stderr, M_STATS_WRITTEN, outp, json_array_size(json_object_get(t, "rows")));
        }
    }
    json_decref(t);
    return status;
}
