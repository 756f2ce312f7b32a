/* store.c: importing batches into the server's store, whatever the backend:
 * verification, idempotency by event id, and the contiguous acknowledgement. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "store.h"
#include "sync_msg.h"

/* A database URL as messages name it: without its password (in the
 * user:password@ part or any password= or sslpassword= parameter). */
static char *redacted(const char *url)
{
    size_t n = strlen(url);
    char *out = malloc(n + 8 + 3 * (n / 9 + 1));
    if (!out)
        return NULL;
    const char *scheme = strstr(url, "://"), *at = strchr(url, '@'), *q = strchr(url, '?');
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (scheme && at && colon && colon < at && (!q || at < q))
        snprintf(out, n + 8, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, n + 8, "%s", url);
    /* every value of a key ending in password= (each "***" may be longer
     * than what it hides: room for one per nine bytes) */
    for (char *pw = strstr(out, "password="); pw; pw = strstr(pw + 12, "password=")) {
        char *end = pw + 9 + strcspn(pw + 9, "&");
        memmove(pw + 12, end, strlen(end) + 1);
        memcpy(pw + 9, "***", 3);
    }
    return out;
}

char *qk_store_spec_shown(const char *spec)
{
    return spec && strstr(spec, "://") ? redacted(spec) : strdup(spec ? spec : "");
}

int qk_store_open(qk_store **out, const char *spec, qk_lang lang)
{
    qk_store *s = calloc(1, sizeof *s);
    *out = s;
    if (!s)
        return QK_ENOMEM;
    s->lang = lang;
    qk_store_use_clock(s, NULL);
    int pg = spec && (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0);
    s->where = pg ? redacted(spec) : strdup(spec ? spec : "");
    if (!s->where)
        return QK_ENOMEM;
    if (pg) {
        s->ops = &qk__pg_store;
        return qk__pg_store_open(s, spec);
    }
    if (!spec || strncmp(spec, "sqlite:", 7) != 0 || !spec[7]) {
        qk__ymsgf(lang, s->err, sizeof s->err, QK_Y_SPEC, spec ? spec : "");
        return QK_EINVAL;
    }
    s->ops = &qk__sqlite_store;
    return qk__sqlite_store_open(s, spec + 7);
}

const char *qk_store_errmsg(const qk_store *s)
{
    return s ? s->err : "out of memory";
}

static void judge_free(qk_store *s);

void qk_store_close(qk_store *s)
{
    if (!s)
        return;
    judge_free(s);
    if (s->ops && s->impl)
        s->ops->close(s);
    free(s->where);
    free(s);
}

void qk_store_use_clock(qk_store *s, const qk_clock *clock)
{
    qk_clock sys = QK_CLOCK_SYSTEM;
    s->clock = clock ? *clock : sys;
}

int64_t qk__store_now(const qk_store *s)
{
    return qk_clock_now_ms(&s->clock);
}

int qk__read_file(const char *path, size_t max, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return QK_EIO;
    struct stat st;
    int rc = fstat(fileno(f), &st) == 0 ? QK_OK : QK_EIO;
    if (rc == QK_OK && (!S_ISREG(st.st_mode) || st.st_size < 0)) {
        errno = EINVAL;
        rc = QK_EIO;
    }
    if (rc == QK_OK && (uint64_t)st.st_size > max)
        rc = QK_ELIMIT;
    size_t want = rc == QK_OK ? (size_t)st.st_size : 0;
    char *buf = rc == QK_OK ? malloc(want ? want : 1) : NULL;
    if (rc == QK_OK && !buf)
        rc = QK_ENOMEM;
    /* one byte more than the size said: a file still growing is refused */
    if (rc == QK_OK && (fread(buf, 1, want, f) != want || fgetc(f) != EOF || ferror(f))) {
        if (!errno)
            errno = EIO;
        rc = QK_EIO;
    }
    fclose(f);
    if (rc != QK_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = want;
    return QK_OK;
}

int qk__store_bundle_open(qk_store *s, const char *id, const char *version, qk_bundle **out)
{
    *out = NULL;
    qk_published p;
    memset(&p, 0, sizeof p);
    int rc = s->ops->bundle_get(s, id, version, &p);
    if (rc != QK_OK)
        return rc;
    if (p.size <= 0 || (uint64_t)p.size > QK_BUNDLE_MAX_BYTES)
        return QK_ECORRUPT;
    char *data = malloc((size_t)p.size);
    if (!data)
        return QK_ENOMEM;
    rc = s->ops->bundle_read(s, p.id, p.version, 0, data, (size_t)p.size);
    char name[2 * QK_NAME_MAX + 8];
    snprintf(name, sizeof name, "%s-%s.qkb", p.id, p.version);
    if (rc == QK_OK) {
        rc = qk_bundle_open_memory(out, data, (size_t)p.size, name, 0, s->lang);
        if (rc != QK_OK)
            snprintf(s->err, sizeof s->err, "%s", qk_bundle_errmsg(*out));
    }
    free(data);
    if (rc != QK_OK) {
        qk_bundle_close(*out);
        *out = NULL;
    }
    return rc;
}

/* What re-scoring keeps between batches (per store, so per server thread):
 * the rescorer with its in-memory tables, and the bundles last judged by,
 * open (a bundle's id and version never change what it holds). */
#define JUDGE_BUNDLES 4
struct qk__judge {
    qk_rescorer *rescorer;
    qk_bundle *open[JUDGE_BUNDLES]; /* most recently used first */
};

static void judge_free(qk_store *s)
{
    if (!s->judge)
        return;
    qk_rescorer_free(s->judge->rescorer);
    for (int i = 0; i < JUDGE_BUNDLES; i++)
        qk_bundle_close(s->judge->open[i]);
    free(s->judge);
    s->judge = NULL;
}

static struct qk__judge *judge_of(qk_store *s)
{
    if (!s->judge && (s->judge = calloc(1, sizeof *s->judge)) != NULL &&
        qk_rescorer_new(&s->judge->rescorer) != QK_OK) {
        free(s->judge);
        s->judge = NULL;
    }
    return s->judge;
}

static int is(qk_bundle *b, const char *id, const char *version)
{
    const qk_bundle_info *i = b ? qk_bundle_info_get(b) : NULL;
    return i && strcmp(i->id, id) == 0 && strcmp(i->version, version) == 0;
}

/* The published bundle with this id and version from the store, or NULL. */
static qk_bundle *open_bundle(qk_store *s, const char *id, const char *version)
{
    qk_bundle *b = NULL;
    if (qk__store_bundle_open(s, id, version, &b) != QK_OK)
        return NULL;
    if (!is(b, id, version)) { /* the store's row and the file disagree */
        qk_bundle_close(b);
        return NULL;
    }
    qk_bundle_keep_questions(b); /* the judge draws from it again and again */
    return b;
}

/* The bundle id+version, kept open by the judge (the caller does not close
 * it); NULL when the server holds none. */
static qk_bundle *find_bundle(qk_store *s, const char *id, const char *version)
{
    struct qk__judge *j = judge_of(s);
    if (!j)
        return NULL;
    int at = -1;
    for (int i = 0; i < JUDGE_BUNDLES && at < 0; i++)
        if (is(j->open[i], id, version))
            at = i;
    qk_bundle *b = at >= 0 ? j->open[at] : open_bundle(s, id, version);
    if (!b)
        return NULL;
    if (at < 0) {
        at = JUDGE_BUNDLES - 1;
        qk_bundle_close(j->open[at]);
    }
    memmove(&j->open[1], &j->open[0], (size_t)at * sizeof j->open[0]);
    j->open[0] = b;
    return b;
}

/* Re-scores one finished attempt from its events as the store holds them
 * (evs: those read before for it, with their devices; NULL: read now),
 * with the published competition its start names when the bundle has none
 * of that id. */
static int rescore_attempt(qk_store *s, qk_bundle *b, const char *attempt, const char *device, json_t *read,
                           qk_rescore *res, char *msg, size_t msglen)
{
    json_t *evs = NULL, *start = NULL;
    char *spec = NULL;
    int rc = QK_OK;
    if (read) { /* the device's own, as attempt_events gives them */
        evs = json_array();
        size_t i;
        json_t *ev;
        json_array_foreach(read, i, ev)
        {
            const char *dev = json_string_value(json_object_get(ev, "device_id"));
            if (evs && dev && strcmp(dev, device ? device : "") == 0 && json_array_append(evs, ev))
                rc = QK_ENOMEM;
        }
        if (!evs)
            rc = QK_ENOMEM;
    } else {
        rc = s->ops->attempt_events(s, attempt, device ? device : "", &evs);
    }
    size_t n = json_array_size(evs);
    qk_event_in *in = rc == QK_OK ? calloc(n ? n : 1, sizeof *in) : NULL;
    if (rc == QK_OK && !in)
        rc = QK_ENOMEM;
    for (size_t i = 0; in && i < n; i++) {
        json_t *ev = json_array_get(evs, i);
        in[i].seq = json_integer_value(json_object_get(ev, "seq"));
        in[i].kind = json_string_value(json_object_get(ev, "kind"));
        in[i].attempt_id = attempt;
        in[i].bundle_id = json_string_value(json_object_get(ev, "bundle_id"));
        in[i].bundle_version = json_string_value(json_object_get(ev, "bundle_version"));
        in[i].payload = json_string_value(json_object_get(ev, "payload"));
        in[i].created_ms = json_integer_value(json_object_get(ev, "created_ms"));
        if (!start && in[i].kind && strcmp(in[i].kind, "attempt.start") == 0)
            start = json_loads(in[i].payload, 0, NULL);
    }
    const char *comp = json_string_value(json_object_get(start, "competition"));
    if (rc == QK_OK && comp)
        rc = s->ops->competition_spec(s, comp, qk_bundle_info_get(b)->id, &spec);
    if (rc == QK_OK)
        rc = qk_rescorer_score(s->judge->rescorer, b, attempt, in, n, spec ? comp : NULL, spec, res, s->lang, msg,
                               msglen);
    else
        snprintf(msg, msglen, "%s", rc == QK_ENOMEM ? "out of memory" : s->err);
    json_decref(start);
    free(in);
    free(spec);
    json_decref(evs);
    return rc;
}

/* Attempts a store that reads many at once (attempts_events) reads at a
 * time, and scores it writes at a time (put_scores). */
#define JUDGE_GROUP 256

/* A group's scores, written at once when the store can; each note is kept
 * here (a judge's message is on its caller's stack). */
typedef struct scores {
    json_t *finish[JUDGE_GROUP];
    qk_rescore res[JUDGE_GROUP];
    const qk_rescore *r[JUDGE_GROUP];
    char note[JUDGE_GROUP][512];
    const char *notes[JUDGE_GROUP];
    size_t n;
} scores;

static void score_put(qk_store *s, scores *sc, json_t *finish, const qk_rescore *res, const char *note)
{
    if (!s->ops->put_scores || !sc) {
        s->ops->put_score(s, finish, res, note);
        return;
    }
    size_t i = sc->n++;
    sc->finish[i] = finish;
    if (res)
        sc->res[i] = *res;
    sc->r[i] = res ? &sc->res[i] : NULL;
    snprintf(sc->note[i], sizeof sc->note[i], "%s", note ? note : "");
    sc->notes[i] = sc->note[i];
}

static void scores_write(qk_store *s, scores *sc)
{
    if (sc->n)
        s->ops->put_scores(s, sc->finish, sc->r, sc->notes, sc->n);
    sc->n = 0;
}

/* The server is the judge: every newly received finished attempt is scored
 * again from its raw answers, and both scores are kept. The attempts are
 * taken JUDGE_GROUP at a time: a store that reads many attempts' events at
 * once (PostgreSQL: a round trip each otherwise) reads them so, and writes
 * their scores so. */
static void rescore(qk_store *s, json_t *finishes, qk_import_result *r)
{
    scores *sc = calloc(1, sizeof *sc);
    size_t total = json_array_size(finishes);
    const char *miss_id = NULL, *miss_ver = NULL; /* the last bundle not held (finishes' texts) */
    for (size_t at = 0; at < total; at += JUDGE_GROUP) {
        size_t end = total - at > JUDGE_GROUP ? at + JUDGE_GROUP : total;
        json_t *read = NULL;
        if (s->ops->attempts_events && sc) {
            const char *ids[JUDGE_GROUP];
            size_t n = 0;
            for (size_t i = at; i < end; i++) {
                const char *id = json_string_value(json_object_get(json_array_get(finishes, i), "attempt_id"));
                if (id)
                    ids[n++] = id;
            }
            if (n > 1 && s->ops->attempts_events(s, ids, n, &read) != QK_OK)
                read = NULL; /* each read again on its own below, and its failure said there */
        }
        for (size_t i = at; i < end; i++) {
            json_t *ev = json_array_get(finishes, i);
            const char *kind = json_string_value(json_object_get(ev, "kind"));
            const char *attempt = json_string_value(json_object_get(ev, "attempt_id"));
            const char *bid = json_string_value(json_object_get(ev, "bundle_id"));
            const char *bver = json_string_value(json_object_get(ev, "bundle_version"));
            if (!kind || strcmp(kind, "attempt.finish") != 0 || !attempt || !bid || !bver)
                continue;
            /* a bundle the server does not hold is looked for once a batch */
            int gone = miss_id && strcmp(miss_id, bid) == 0 && strcmp(miss_ver, bver) == 0;
            qk_bundle *b = gone ? NULL : find_bundle(s, bid, bver);
            if (!b) {
                miss_id = bid;
                miss_ver = bver;
            }
            qk_rescore res;
            char msg[512] = "";
            json_t *evs = read ? json_object_get(read, attempt) : NULL;
            if (read && !evs)
                evs = json_array(); /* none held (the store lost them?): as attempt_events says */
            else
                json_incref(evs);
            if (!b) {
                r->unscored++;
                r->no_bundle++;
                if (!r->no_bundle_id[0]) {
                    snprintf(r->no_bundle_id, sizeof r->no_bundle_id, "%s", bid);
                    snprintf(r->no_bundle_version, sizeof r->no_bundle_version, "%s", bver);
                } else if (strcmp(r->no_bundle_id, bid) != 0 || strcmp(r->no_bundle_version, bver) != 0) {
                    r->no_bundle_others = 1;
                }
                score_put(s, sc, ev, NULL, QK__NOTE_NO_BUNDLE);
            } else if (rescore_attempt(s, b, attempt, json_string_value(json_object_get(ev, "device_id")), evs,
                                       &res, msg, sizeof msg) == QK_OK) {
                r->rescored++;
                r->mismatches += res.mismatch ? 1 : 0;
                score_put(s, sc, ev, &res, res.mismatch ? "device score differs" : "");
            } else {
                r->unscored++;
                score_put(s, sc, ev, NULL, msg);
            }
            json_decref(evs);
        }
        json_decref(read);
        if (sc)
            scores_write(s, sc);
    }
    free(sc);
}

/* One of the judge's replays of a member's events (every device's, or one
 * device's): resumed from the fold the store keeps when the events stored
 * since come after it, else begun afresh; it takes the events stored after
 * `after`, and its fold is kept again at the end. */
typedef struct fold_replay {
    qk_points_replay *r;
    qk__points_fold f; /* what the fold will be kept as: bundle, mark, last event */
    int64_t after;
    const char *device; /* NULL: every device's */
    int keep;           /* 0: its last event's key does not fit the fold (not kept) */
} fold_replay;

static int fold_start(qk_store *s, fold_replay *fr, const char *member, qk_bundle *b, const char *bid,
                      const char *bver, int64_t upto)
{
    qk__points_fold *f = &fr->f;
    int fits = 0, rc = QK_OK;
    fr->keep = 1;
    fr->after = 0;
    if (s->ops->points_fold_get(s, member, fr->device, f) == QK_OK && strcmp(f->bundle_id, bid) == 0 &&
        strcmp(f->bundle_version, bver) == 0 && f->mark <= upto &&
        s->ops->points_fold_fits(s, member, fr->device, f, upto, &fits) == QK_OK && fits &&
        qk_points_replay_resume(&fr->r, b, f->state, f->len) == QK_OK) {
        fr->after = f->mark;
    } else {
        f->has_last = 0;
        rc = qk_points_replay_new(&fr->r, b);
    }
    free(f->state);
    f->state = NULL;
    snprintf(f->bundle_id, sizeof f->bundle_id, "%s", bid);
    snprintf(f->bundle_version, sizeof f->bundle_version, "%s", bver);
    f->mark = upto;
    return rc;
}

/* An activity counts on the Beijing day its attempt began by the device's
 * clock. The judge takes no points for a day that had not yet begun when
 * the event reached the server (a clock set forward earns nothing ahead of
 * time; the device's own claim for them then stands out as a mismatch),
 * give or take an hour of a clock running fast. A device that was offline
 * and sends later gets them: its days had begun by then. */
#define AHEAD_GRACE_MS ((int64_t)3600 * 1000)

static int ahead_of_receipt(const qk_point_event *ev)
{
    return ev->received_ms > 0 &&
           qk_beijing_day(ev->counts_at) > qk_beijing_day(ev->received_ms + AHEAD_GRACE_MS);
}

static int fold_add(fold_replay *fr, const qk_point_event *ev)
{
    if (ev->row <= fr->after || (fr->device && (!ev->device_id || strcmp(ev->device_id, fr->device) != 0)))
        return QK_OK;
    qk__points_fold *f = &fr->f;
    const char *dev = ev->device_id ? ev->device_id : "";
    if (strlen(dev) >= sizeof f->last_device)
        fr->keep = 0;
    f->has_last = 1;
    f->last_ms = ev->created_ms;
    f->last_seq = ev->seq;
    snprintf(f->last_device, sizeof f->last_device, "%s", dev);
    return ahead_of_receipt(ev) ? QK_OK : qk_points_replay_add(fr->r, ev);
}

/* Keeps the replay's fold (when it can) and ends it: *total, *days. */
static int fold_end(qk_store *s, fold_replay *fr, const char *member, int ok, int64_t *total,
                    qk_points_day **days, size_t *n)
{
    int rc = QK_OK;
    if (ok && fr->keep && qk_points_replay_save(fr->r, &fr->f.state, &fr->f.len) == QK_OK)
        rc = s->ops->points_fold_put(s, member, fr->device, &fr->f);
    free(fr->f.state);
    fr->f.state = NULL;
    int end = fr->r ? qk_points_replay_end(fr->r, total, days, n) : QK_ENOMEM;
    fr->r = NULL;
    return rc != QK_OK ? rc : end;
}

typedef struct two_replays {
    fold_replay all, own;
} two_replays;

static int replay_add(void *arg, const qk_point_event *ev)
{
    two_replays *t = arg;
    int rc = fold_add(&t->all, ev);
    return rc == QK_OK ? fold_add(&t->own, ev) : rc;
}

/* A member's points by the rules of bundle b from every device's events as
 * the store holds them (*total, *days), and what device's events alone give
 * (*own): one read of the events neither replay has seen, both replays
 * resumed from their folds where the new events allow. *mark: the events
 * it has seen end there (events_mark's). */
static int recompute(qk_store *s, qk_bundle *b, const char *bid, const char *bver, const char *member,
                     const char *device, int64_t *total, qk_points_day **days, size_t *n, int64_t *own,
                     int64_t *mark)
{
    two_replays t = {.all = {.device = NULL}, .own = {.device = device}};
    int64_t upto = 0;
    *total = *own = *mark = 0;
    if (days)
        *days = NULL;
    if (n)
        *n = 0;
    int rc = s->ops->events_mark(s, &upto);
    if (rc == QK_OK)
        rc = fold_start(s, &t.all, member, b, bid, bver, upto);
    if (rc == QK_OK)
        rc = fold_start(s, &t.own, member, b, bid, bver, upto);
    if (rc == QK_OK) {
        int64_t after = t.all.after < t.own.after ? t.all.after : t.own.after;
        rc = s->ops->point_events(s, member, NULL, after, upto, replay_add, &t);
    }
    *mark = upto;
    int end = fold_end(s, &t.all, member, rc == QK_OK, total, days, n);
    int end_own = fold_end(s, &t.own, member, rc == QK_OK, own, NULL, NULL);
    if (rc == QK_OK)
        rc = end != QK_OK ? end : end_own;
    if (rc != QK_OK && days) {
        free(*days);
        *days = NULL;
    }
    return rc;
}

/* The server is the judge of points too (DESIGN.md decision 4): each member
 * whose events arrived gets their points recomputed from every event the
 * server holds, by the rules of the bundle they used, and the sending
 * device's own awards are checked against its own events. Without the
 * bundle on the server, the member is left as they were (judged again with
 * their next events once it is published). */
static void judge_member(qk_store *s, const char *device, const char *member, const char *bid,
                         const char *bver)
{
    qk_bundle *b = find_bundle(s, bid, bver); /* kept open by the judge */
    if (!b)
        return;
    int64_t total = 0, own = 0;
    qk_points_day *days = NULL;
    size_t n = 0;
    /* With this device's own awards against what its own events give: a
     * device awards from what it holds, so an honest one matches exactly,
     * whatever the member did on other devices. */
    int64_t mark = 0;
    if (recompute(s, b, bid, bver, member, device, &total, &days, &n, &own, &mark) == QK_OK) {
        s->ops->points_put(s, member, days, n, total, bid, bver);
        s->ops->points_claim(s, member, device, own, mark);
    }
    free(days);
}

/* members: each member whose events arrived, with the bundle ([id,
 * version]) their newest event named, or null when none named one. */
static void judge_points(qk_store *s, const char *device, json_t *members)
{
    const char *member;
    json_t *v;
    json_object_foreach(members, member, v)
    {
        const char *bid = json_string_value(json_array_get(v, 0));
        const char *bver = json_string_value(json_array_get(v, 1));
        if (bid && bver) {
            judge_member(s, device, member, bid, bver);
            continue;
        }
        /* Members whose new events name no bundle (a points.award alone) are
         * judged by the newest bundle the server holds their events of. */
        char held[QK_NAME_MAX + 1], hver[QK_NAME_MAX + 1];
        if (s->ops->member_bundle(s, member, held, sizeof held, hver, sizeof hver) == QK_OK)
            judge_member(s, device, member, held, hver);
    }
}

int qk__store_rescore_waiting(qk_store *s, const char *id, const char *version,
                              size_t *rescored)
{
    *rescored = 0;
    json_t *events = NULL;
    int rc = s->ops->waiting(s, id, version, &events);
    if (rc != QK_OK)
        return rc;
    size_t n = json_array_size(events);
    qk_import_result r;
    memset(&r, 0, sizeof r);
    rescore(s, events, &r);
    *rescored = r.rescored;
    /* their members' points, with each sending device's claims, once each */
    json_t *done = json_object();
    for (size_t i = 0; done && i < n; i++) {
        json_t *ev = json_array_get(events, i);
        const char *member = json_string_value(json_object_get(ev, "member_id"));
        const char *device = json_string_value(json_object_get(ev, "device_id"));
        char key[600];
        if (!member || !device)
            continue;
        snprintf(key, sizeof key, "%s\n%s", member, device);
        if (json_object_get(done, key))
            continue;
        json_object_set_new(done, key, json_true());
        judge_member(s, device, member, id, version);
    }
    json_decref(done);
    json_decref(events);
    return QK_OK;
}

int qk_store_event_count(qk_store *s, int64_t *n)
{
    return s->ops->count(s, n);
}

/* A batch file read as it streams (gzip or plain, as gzread reads both):
 * never more of it in memory than one event and a read buffer, so a USB
 * file of any size is imported in bounded memory (issue 17). */
#define BATCH_CHUNK ((size_t)65536)
#define BATCH_HEAD_MAX ((size_t)65536)
#define BATCH_EVENT_MAX ((size_t)1024 * 1024)

typedef struct batch_in {
    gzFile g;
    char *buf;
    size_t pos, len, cap; /* unread bytes: buf[pos..len) */
    int eof, err;         /* err: an errno (EILSEQ: a damaged gzip stream) */
    qk_sha256 *body;      /* the body's digest as it is read (after the header line) */
    int held;             /* the body's last byte read, not hashed yet: a final newline is not the body's */
    char held_byte;
} batch_in;

static void hash_body(batch_in *b, const char *p, size_t n)
{
    if (!b->body || n == 0)
        return;
    if (b->held)
        qk_sha256_add(b->body, &b->held_byte, 1);
    qk_sha256_add(b->body, p, n - 1);
    b->held_byte = p[n - 1];
    b->held = 1;
}

/* Reads more, keeping the unread bytes: 1, 0 at the end, -1 on an error. */
static int fill(batch_in *b)
{
    if (b->eof)
        return 0;
    if (b->pos > 0) {
        memmove(b->buf, b->buf + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
    if (b->cap - b->len < BATCH_CHUNK) {
        size_t cap = b->len + 2 * BATCH_CHUNK;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->err = ENOMEM;
            return -1;
        }
        b->buf = nb;
        b->cap = cap;
    }
    int got = gzread(b->g, b->buf + b->len, (unsigned)(b->cap - b->len));
    if (got < 0) {
        b->err = EILSEQ;
        return -1;
    }
    if (got == 0) {
        b->eof = 1;
        return 0;
    }
    hash_body(b, b->buf + b->len, (size_t)got);
    b->len += (size_t)got;
    return 1;
}

/* The header line as JSON (NULL when there is none to read). */
static json_t *read_head(batch_in *b)
{
    for (;;) {
        char *nl = b->buf ? memchr(b->buf + b->pos, '\n', b->len - b->pos) : NULL;
        if (nl) {
            json_error_t jerr;
            json_t *head = json_loadb(b->buf + b->pos, (size_t)(nl - (b->buf + b->pos)), 0, &jerr);
            b->pos = (size_t)(nl - b->buf) + 1;
            if ((b->body = qk_sha256_begin()) == NULL)
                b->err = ENOMEM;
            hash_body(b, b->buf + b->pos, b->len - b->pos); /* the body read with the header */
            return head;
        }
        if (b->len - b->pos > BATCH_HEAD_MAX || fill(b) <= 0)
            return NULL;
    }
}

static int skip_space(batch_in *b)
{
    for (;;) {
        while (b->pos < b->len && strchr(" \t\r\n", b->buf[b->pos]))
            b->pos++;
        if (b->pos < b->len)
            return b->buf[b->pos];
        if (fill(b) <= 0)
            return -1;
    }
}

/* The next event of the body's array into *ev: 1, 0 after the array's end,
 * -1 when the body is not an array of objects, -2 when an event is larger
 * than any device writes. *first: no event read yet. */
static int next_event(batch_in *b, int *first, json_t **ev)
{
    *ev = NULL;
    int c = skip_space(b);
    if (*first) {
        if (c != '[')
            return -1;
        b->pos++;
        c = skip_space(b);
        if (c == ']') {
            b->pos++;
            return 0;
        }
    } else if (c == ']') {
        b->pos++;
        return 0;
    } else if (c == ',') {
        b->pos++;
        c = skip_space(b);
    } else {
        return -1;
    }
    if (c != '{')
        return -1;
    /* the object's extent: its braces counted outside strings */
    size_t i = 0;
    int depth = 0, in_str = 0, esc = 0;
    for (;;) {
        if (b->pos + i == b->len) {
            if (i > BATCH_EVENT_MAX)
                return -2;
            if (fill(b) <= 0)
                return -1;
            continue;
        }
        char ch = b->buf[b->pos + i++];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if ((ch == '}' || ch == ']') && --depth == 0) {
            break;
        }
    }
    if (i > BATCH_EVENT_MAX)
        return -2;
    json_error_t jerr;
    *ev = json_loadb(b->buf + b->pos, i, 0, &jerr);
    b->pos += i;
    *first = 0;
    return *ev ? 1 : -1;
}

/* Reads the rest of the file through the body's digest; its hex into got. */
static void drain(batch_in *b, char got[65])
{
    while (b->err == 0) {
        b->pos = b->len; /* nothing more is kept */
        if (fill(b) <= 0)
            break;
    }
    if (b->held && b->held_byte != '\n')
        qk_sha256_add(b->body, &b->held_byte, 1);
    b->held = 0;
    qk_sha256_end(b->body, got);
    b->body = NULL;
}

/* 1 when the event has every field of the protocol with the right type and
 * comes from device; otherwise 0 and why names the field. */
int qk__event_valid(json_t *ev, const char *device, char *why, size_t whylen)
{
    static const char *const opt_str[] = {"member_id", "bundle_id", "bundle_version", "attempt_id"};
    const char *bad = NULL;
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *dev = json_string_value(json_object_get(ev, "device_id"));
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    json_t *seq = json_object_get(ev, "seq"), *ms = json_object_get(ev, "created_ms");
    if (!json_is_object(ev))
        bad = "event";
    else if (!id || !qk_uuid_is_v7(id))
        bad = "id";
    else if (!dev || strcmp(dev, device) != 0)
        bad = "device_id";
    else if (!json_is_integer(seq) || json_integer_value(seq) <= 0)
        bad = "seq";
    else if (!kind || !*kind || strlen(kind) > 64)
        bad = "kind";
    else if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
             json_integer_value(ms) > QK_EVENT_TIME_MAX_MS)
        bad = "created_ms";
    else if (!json_is_object(json_object_get(ev, "payload")))
        bad = "payload";
    for (size_t i = 0; !bad && i < sizeof opt_str / sizeof opt_str[0]; i++) {
        json_t *v = json_object_get(ev, opt_str[i]);
        if (v && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 256))
            bad = opt_str[i];
    }
    if (bad && why)
        snprintf(why, whylen, "%s", bad);
    if (!bad) {
        json_object_del(ev, QK__PAYLOAD_TEXT);
        char *text = json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
        if (text) /* else the writer makes it */
            json_object_set_new(ev, QK__PAYLOAD_TEXT, json_string_nocheck(text));
        free(text);
    }
    return bad == NULL;
}

/* One batch being received: its events go in one transaction; what the
 * judge needs afterwards is kept small (the fresh finishes, the members). */
struct qk__ingest {
    qk_store *s;
    char device[QK_NAME_MAX + 1];
    const char *pem;
    qk_device_rec dev;
    int known_dev;
    int rc;           /* the first failure; the transaction is undone */
    json_t *finishes; /* newly stored attempt.finish events, slimmed */
    json_t *members;  /* member -> [bundle id, version] of their newest event, or null */
    qk_import_result *r;
    json_t *conflicts;
    json_t *pending; /* events waiting to be put together (ops->put_events) */
};

/* Events put at once by a store that can (PostgreSQL: one statement for
 * many rows instead of a round trip each). */
#define PUT_GROUP 256

int qk__ingest_begin(qk_store *s, const char *device, const char *pem, qk_import_result *r, json_t *conflicts,
                     qk__ingest **out)
{
    *out = NULL;
    memset(r, 0, sizeof *r);
    snprintf(r->device_id, sizeof r->device_id, "%s", device);
    qk__ingest *in = calloc(1, sizeof *in);
    if (!in || !(in->finishes = json_array()) || !(in->members = json_object())) {
        if (in) {
            json_decref(in->finishes);
            free(in);
        }
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_OOM);
        return QK_ENOMEM;
    }
    if (s->ops->put_events && !(in->pending = json_array())) {
        json_decref(in->finishes);
        json_decref(in->members);
        free(in);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_OOM);
        return QK_ENOMEM;
    }
    in->s = s;
    in->r = r;
    in->pem = pem;
    in->conflicts = conflicts;
    snprintf(in->device, sizeof in->device, "%s", device);
    int rc = s->ops->begin(s);
    if (rc != QK_OK) {
        json_decref(in->finishes);
        json_decref(in->members);
        json_decref(in->pending);
        free(in);
        return rc;
    }
    /* A device keeps the key it first signed with (pinned on first sight). */
    if (pem) {
        char *known = NULL;
        rc = s->ops->device_key(s, device, &known);
        if (rc == QK_OK && known && *known && strcmp(known, pem) != 0) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_KEY_CHANGED, device);
            rc = QK_ESIGNATURE;
        }
        free(known);
    }
    in->known_dev = rc == QK_OK && s->ops->device_get(s, device, &in->dev) == QK_OK;
    in->rc = rc;
    *out = in;
    return QK_OK;
}

/* What the judge keeps of a newly stored event. */
static int note_fresh(qk__ingest *in, json_t *ev, const char *kind)
{
    const char *member = json_string_value(json_object_get(ev, "member_id"));
    const char *bid = json_string_value(json_object_get(ev, "bundle_id"));
    const char *bver = json_string_value(json_object_get(ev, "bundle_version"));
    int rc = 0;
    if (member && bid && bver)
        rc = json_object_set_new(in->members, member, json_pack("[s, s]", bid, bver));
    else if (member && !json_object_get(in->members, member))
        rc = json_object_set_new(in->members, member, json_null());
    if (rc == 0 && kind && strcmp(kind, "attempt.finish") == 0) {
        json_t *payload = json_object_get(ev, "payload");
        json_t *slim = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:{s:O?}}", "kind",
                                 json_object_get(ev, "kind"), "attempt_id", json_object_get(ev, "attempt_id"),
                                 "member_id", json_object_get(ev, "member_id"), "device_id",
                                 json_object_get(ev, "device_id"), "created_ms", json_object_get(ev, "created_ms"),
                                 "bundle_id", json_object_get(ev, "bundle_id"), "bundle_version",
                                 json_object_get(ev, "bundle_version"), "payload", "competition",
                                 json_object_get(payload, "competition"));
        rc = json_array_append_new(in->finishes, slim);
    }
    return rc == 0 ? QK_OK : QK_ENOMEM;
}

/* What an event's outcome means for the batch: the counts, the conflicts
 * named, the roster, and what the judge will look at. */
static int account(qk__ingest *in, json_t *ev, int outcome)
{
    qk_store *s = in->s;
    qk_import_result *r = in->r;
    int rc = QK_OK;
    r->received++;
    r->inserted += outcome == QK_PUT_INSERTED || outcome == QK_PUT_APART;
    r->apart += outcome == QK_PUT_APART;
    r->duplicates += outcome == QK_PUT_DUPLICATE;
    r->conflicts += outcome == QK_PUT_CONFLICT;
    if (outcome == QK_PUT_CONFLICT && in->conflicts)
        json_array_append(in->conflicts, json_object_get(ev, "id"));
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    /* a member's own phone changes its own member's roster row, and no one
     * else's (a phone bound to one member cannot add members or set another's
     * PIN: the event is kept, the roster unchanged) */
    const char *evm = json_string_value(json_object_get(ev, "member_id"));
    int own = !in->known_dev || !in->dev.member[0] || (evm && strcmp(evm, in->dev.member) == 0);
    if (rc == QK_OK && outcome == QK_PUT_INSERTED && in->known_dev && own && kind &&
        strncmp(kind, "member.", 7) == 0)
        rc = s->ops->member_event(s, in->dev.branch, ev);
    if (rc == QK_OK && outcome == QK_PUT_INSERTED && (rc = note_fresh(in, ev, kind)) != QK_OK)
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_OOM);
    return rc;
}

/* Puts the events waiting, in their order, and accounts for each. */
static int flush(qk__ingest *in)
{
    size_t n = in->pending ? json_array_size(in->pending) : 0;
    if (n == 0 || in->rc != QK_OK) {
        if (in->pending)
            json_array_clear(in->pending);
        return in->rc;
    }
    json_t *evs[PUT_GROUP];
    int outcomes[PUT_GROUP] = {0};
    for (size_t i = 0; i < n; i++)
        evs[i] = json_array_get(in->pending, i);
    qk_store *s = in->s;
    int rc = s->ops->put_events(s, evs, n, in->known_dev ? in->dev.branch : NULL,
                                in->known_dev ? in->dev.member : NULL, outcomes);
    for (size_t i = 0; rc == QK_OK && i < n; i++)
        rc = account(in, evs[i], outcomes[i]);
    json_array_clear(in->pending);
    in->rc = rc;
    return rc;
}

int qk__ingest_event(qk__ingest *in, json_t *ev)
{
    qk_store *s = in->s;
    if (in->rc != QK_OK)
        return in->rc;
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    int member_ev = kind && strncmp(kind, "member.", 7) == 0;
    if (in->pending && !member_ev) {
        if (json_array_append(in->pending, ev) != 0) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_OOM);
            return in->rc = QK_ENOMEM;
        }
        return json_array_size(in->pending) < PUT_GROUP ? QK_OK : flush(in);
    }
    int rc = flush(in); /* what came before it goes first */
    int outcome = 0;
    if (rc == QK_OK)
        rc = s->ops->put_event(s, ev, in->known_dev ? in->dev.branch : NULL,
                               in->known_dev ? in->dev.member : NULL, &outcome);
    if (rc == QK_OK)
        rc = account(in, ev, outcome);
    in->rc = rc;
    return rc;
}

int qk__ingest_end(qk__ingest *in, int keep)
{
    qk_store *s = in->s;
    qk_import_result *r = in->r;
    int rc = keep ? flush(in) : in->rc;
    if (rc == QK_OK && !keep)
        rc = QK_ECORRUPT; /* the caller found the batch bad: nothing of it is kept */
    /* The acknowledgement: the highest n with 1..n all held; gaps above it. */
    int64_t *seqs = NULL;
    size_t n = 0;
    int64_t base = in->known_dev ? in->dev.acked_seq : 0;
    if (rc == QK_OK)
        rc = s->ops->held_seqs(s, in->device, base, &seqs, &n);
    r->acked_seq = base;
    int64_t expect = base + 1;
    for (size_t i = 0; rc == QK_OK && i < n; i++) {
        if (seqs[i] > expect && r->n_gaps < QK_MAX_GAPS) {
            r->gaps[r->n_gaps][0] = expect;
            r->gaps[r->n_gaps][1] = seqs[i] - 1;
            r->n_gaps++;
        }
        if (seqs[i] == expect && r->n_gaps == 0)
            r->acked_seq = seqs[i];
        expect = seqs[i] + 1;
    }
    free(seqs);
    if (rc == QK_OK)
        rc = s->ops->set_device(s, in->device, in->pem, r->acked_seq);
    if (rc == QK_OK) {
        /* The judge's writes in the batch's own transaction: one disk flush
         * for the batch, and never a batch held but not judged (a crash
         * between two transactions left one so). What the judge could not
         * write is left out, as an attempt whose bundle is missing is. */
        rescore(s, in->finishes, r);
        judge_points(s, in->device, in->members);
        rc = s->ops->commit(s);
    } else {
        s->ops->rollback(s);
    }
    if (rc != QK_OK) {
        r->rescored = r->unscored = r->no_bundle = r->mismatches = 0; /* nothing was kept */
        r->no_bundle_id[0] = r->no_bundle_version[0] = '\0';
        r->no_bundle_others = 0;
    }
    json_decref(in->finishes);
    json_decref(in->members);
    json_decref(in->pending);
    free(in);
    return rc;
}

int qk__store_ingest(qk_store *s, const char *device, const char *pem, json_t *events,
                     qk_import_result *r, json_t *conflicts)
{
    qk__ingest *in = NULL;
    int rc = qk__ingest_begin(s, device, pem, r, conflicts, &in);
    for (size_t i = 0; rc == QK_OK && i < json_array_size(events); i++)
        rc = qk__ingest_event(in, json_array_get(events, i));
    return in ? qk__ingest_end(in, 1) : rc;
}

/* The file is read on a second thread (gunzip, the body's digest, each
 * event parsed and checked) while the importing thread stores what it has
 * read: on two cores parsing, a quarter of an import, overlaps the writes.
 * The reader runs at most READ_AHEAD events ahead, so memory stays bounded
 * by a few hundred events whatever the file's size. */
#define READ_AHEAD 256

enum { READ_DONE, READ_NOT_BATCH, READ_BIG, READ_INVALID };

typedef struct reader {
    batch_in *b;
    const char *device;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t ready, room;
    json_t *q[READ_AHEAD];
    size_t head, count;
    int started, done, stop;
    /* how the reading ended (READ_*), after how many events, which field */
    int end;
    size_t n;
    char field[32];
} reader;

static int reader_put(reader *rd, json_t *ev)
{
    pthread_mutex_lock(&rd->mu);
    while (rd->count == READ_AHEAD && !rd->stop)
        pthread_cond_wait(&rd->room, &rd->mu);
    int stop = rd->stop;
    if (!stop) {
        rd->q[(rd->head + rd->count) % READ_AHEAD] = ev;
        rd->count++;
        pthread_cond_signal(&rd->ready);
    }
    pthread_mutex_unlock(&rd->mu);
    return stop ? -1 : 0;
}

static void *reader_main(void *arg)
{
    reader *rd = arg;
    int end = READ_DONE;
    for (int first = 1;;) {
        json_t *ev = NULL;
        int got = next_event(rd->b, &first, &ev);
        if (got == 0) {
            if (skip_space(rd->b) != -1) /* something after the array */
                end = READ_NOT_BATCH;
            break;
        }
        rd->n++;
        if (got < 0) {
            end = got == -2 ? READ_BIG : READ_NOT_BATCH;
            break;
        }
        if (!qk__event_valid(ev, rd->device, rd->field, sizeof rd->field)) {
            json_decref(ev);
            end = READ_INVALID;
            break;
        }
        if (reader_put(rd, ev) != 0) {
            json_decref(ev);
            break;
        }
    }
    pthread_mutex_lock(&rd->mu);
    rd->end = end;
    rd->done = 1;
    pthread_cond_signal(&rd->ready);
    pthread_mutex_unlock(&rd->mu);
    return NULL;
}

static int reader_start(reader *rd, batch_in *b, const char *device)
{
    memset(rd, 0, sizeof *rd);
    rd->b = b;
    rd->device = device;
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->ready, NULL);
    pthread_cond_init(&rd->room, NULL);
    if (pthread_create(&rd->thread, NULL, reader_main, rd) != 0) {
        rd->done = 1;
        rd->end = READ_NOT_BATCH;
        return -1;
    }
    rd->started = 1;
    return 0;
}

/* The next event read (the caller owns it), or NULL once the reader ended. */
static json_t *reader_next(reader *rd)
{
    json_t *ev = NULL;
    pthread_mutex_lock(&rd->mu);
    while (rd->count == 0 && !rd->done)
        pthread_cond_wait(&rd->ready, &rd->mu);
    if (rd->count > 0) {
        ev = rd->q[rd->head];
        rd->head = (rd->head + 1) % READ_AHEAD;
        rd->count--;
        pthread_cond_signal(&rd->room);
    }
    pthread_mutex_unlock(&rd->mu);
    return ev;
}

/* Waits for the reader (asking it to stop unless all was taken) and drops
 * what it read that was not taken. */
static void reader_stop(reader *rd, int all_taken)
{
    pthread_mutex_lock(&rd->mu);
    if (!all_taken)
        rd->stop = 1;
    pthread_cond_signal(&rd->room);
    pthread_mutex_unlock(&rd->mu);
    if (rd->started)
        pthread_join(rd->thread, NULL);
    while (rd->count > 0) {
        json_decref(rd->q[rd->head]);
        rd->head = (rd->head + 1) % READ_AHEAD;
        rd->count--;
    }
    pthread_cond_destroy(&rd->ready);
    pthread_cond_destroy(&rd->room);
    pthread_mutex_destroy(&rd->mu);
}

int qk_store_import(qk_store *s, const char *batch_path, qk_import_result *r)
{
    memset(r, 0, sizeof *r);
    batch_in b;
    memset(&b, 0, sizeof b);
    errno = 0;
    if ((b.g = gzopen(batch_path, "rb")) == NULL) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_READ, batch_path, strerror(errno ? errno : EIO));
        return QK_EIO;
    }
    gzbuffer(b.g, (unsigned)BATCH_CHUNK);
    json_t *head = read_head(&b);
    const char *fmt = json_string_value(json_object_get(head, "format"));
    const char *pem = json_string_value(json_object_get(head, "device_key"));
    const char *want = json_string_value(json_object_get(head, "body_sha256"));
    const char *sig_hex = json_string_value(json_object_get(head, "signature"));
    const char *device = json_string_value(json_object_get(head, "device_id"));
    int rc = QK_OK;
    size_t n = 0; /* events read */
    if (b.err && b.err != EILSEQ) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_READ, batch_path, strerror(b.err));
        rc = QK_EIO;
    } else if (!head || !fmt || strcmp(fmt, QK_BATCH_FORMAT) != 0 || !pem || !want || !sig_hex || !device ||
               !qk_uuid_is_v7(device)) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_NOT_BATCH, batch_path);
        rc = QK_ECORRUPT;
    } else {
        /* The device's signature over the body's digest first; the body is
         * then checked against that digest as it streams in, and nothing it
         * brought is kept unless it matches at the end. */
        unsigned char hash[32], sig[QK_KEY_SIG_MAX];
        long sig_len = qk__unhex(sig, sizeof sig, sig_hex);
        qk_key *k = NULL;
        if (strlen(want) != 64 || qk__unhex(hash, sizeof hash, want) != 32 || sig_len <= 0 ||
            qk_key_from_pem(&k, pem) != QK_OK || qk_key_verify(k, hash, sig, (size_t)sig_len) != QK_OK) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_ALTERED, batch_path);
            rc = QK_ECORRUPT;
        }
        qk_key_free(k);
    }
    qk__ingest *in = NULL;
    if (rc == QK_OK && ((rc = qk__ingest_begin(s, device, pem, r, NULL, &in)) != QK_OK || in->rc != QK_OK)) {
        char why[sizeof s->err]; /* a device's key changed: which file said so */
        memcpy(why, s->err, sizeof why);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_IN_FILE, batch_path, why);
    }
    /* Why the body is refused, when it is (rc says how). */
    int bad = 0;
    if (rc == QK_OK) {
        reader rd;
        if (reader_start(&rd, &b, device) != 0) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_OOM);
            rc = QK_ENOMEM;
        }
        json_t *ev;
        while (rc == QK_OK && (ev = reader_next(&rd)) != NULL) {
            rc = qk__ingest_event(in, ev);
            json_decref(ev);
        }
        reader_stop(&rd, rc == QK_OK);
        if (rc == QK_OK && rd.end == READ_INVALID) {
            qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_BATCH_EVENT, batch_path, rd.n, rd.field);
            rc = QK_ECORRUPT;
        } else if (rc == QK_OK && rd.end != READ_DONE) {
            bad = rd.end == READ_BIG ? QK_Y_BATCH_BIG : QK_Y_NOT_BATCH;
            rc = QK_ECORRUPT;
        }
        n = rd.n;
    }
    char got[65] = "";
    if (b.body)
        drain(&b, got);
    if (b.err == EILSEQ || b.err == ENOMEM || b.err == EIO) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, b.err == ENOMEM ? QK_Y_OOM : QK_Y_NOT_BATCH, batch_path);
        rc = b.err == ENOMEM ? QK_ENOMEM : QK_ECORRUPT;
    } else if (want && got[0] && strcmp(got, want) != 0) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_ALTERED, batch_path); /* whatever broke on the way */
        rc = QK_ECORRUPT;
    } else if (bad == QK_Y_BATCH_BIG) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_BATCH_BIG, batch_path, n);
    } else if (bad) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_NOT_BATCH, batch_path);
    }
    if (in) {
        char keep_err[sizeof s->err];
        memcpy(keep_err, s->err, sizeof keep_err);
        int end = qk__ingest_end(in, rc == QK_OK);
        if (rc == QK_OK)
            rc = end;
        else
            memcpy(s->err, keep_err, sizeof keep_err); /* the batch's own error, not the undo's */
    }
    if (rc != QK_OK) { /* nothing of a refused batch is counted as received */
        char dev[sizeof r->device_id];
        memcpy(dev, r->device_id, sizeof dev);
        memset(r, 0, sizeof *r);
        memcpy(r->device_id, dev, sizeof dev);
    }
    if (b.body) {
        char unused[65];
        qk_sha256_end(b.body, unused);
    }
    gzclose(b.g);
    free(b.buf);
    json_decref(head);
    return rc;
}

int qk_store_write_ack(qk_store *s, const char *device_id, const qk_key *server_key,
                       const char *path)
{
    int64_t *seqs = NULL;
    size_t n = 0;
    int rc = s->ops->held_seqs(s, device_id, 0, &seqs, &n);
    if (rc != QK_OK)
        return rc;
    int64_t acked = 0;
    for (size_t i = 0; i < n && seqs[i] == acked + 1; i++)
        acked = seqs[i];
    free(seqs);
    unsigned char hash[32], sig[QK_KEY_SIG_MAX];
    size_t sig_len = 0;
    char sig_hex[2 * QK_KEY_SIG_MAX + 1], *pem = NULL;
    qk__ack_digest(hash, device_id, acked);
    if (qk_key_sign(server_key, hash, sig, &sig_len) != QK_OK ||
        qk_key_public_pem(server_key, &pem) != QK_OK) {
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_OOM);
        return QK_EINVAL;
    }
    qk__hex(sig_hex, sig, sig_len);
    json_t *o = json_pack("{s:s, s:i, s:s, s:I, s:s, s:s, s:s}", "format", QK_ACK_FORMAT, "version", 2,
                          "device_id", device_id, "acked_seq", (json_int_t)acked, "server_key", pem,
                          "server_key_id", qk_key_id(server_key), "signature", sig_hex);
    free(pem);
    if (!o || json_dump_file(o, path, JSON_INDENT(2)) != 0) {
        json_decref(o);
        qk__ymsgf(s->lang, s->err, sizeof s->err, QK_Y_WRITE, path, strerror(errno ? errno : EIO));
        return QK_EIO;
    }
    json_decref(o);
    return QK_OK;
}
