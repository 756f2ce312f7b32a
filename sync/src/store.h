/* store.h: the server's storage behind one small interface, so that a
 * PostgreSQL backend can be added without touching import or the handlers
 * (DESIGN.md decision 7). SQLite is the embedded default. Internal. */
#ifndef QK_STORE_H
#define QK_STORE_H

#include <jansson.h>

#include "qk_stats.h"
#include "qk_sync.h"

enum { QK_PUT_INSERTED = 0, QK_PUT_DUPLICATE = 1, QK_PUT_CONFLICT = 2, QK_PUT_APART = 3 };

/* A device as the server knows it (enrolled, or first seen in a batch file). */
typedef struct qk_device_rec {
    char id[QK_UUID_STRLEN + 1];
    char branch[QK_NAME_MAX + 1];
    char name[QK_NAME_MAX + 1];
    int revoked;
    int64_t acked_seq;
    char member[QK_NAME_MAX + 1]; /* a member's own phone: its member ("" for a shared device) */
} qk_device_rec;

/* A member's points replay as the judge keeps it between batches
 * (qk_points_replay_save's bytes), with what it has seen: the events up to
 * mark (events_mark's), the last of them in replay order, and the bundle
 * whose rules it ran under. */
typedef struct qk__points_fold {
    char bundle_id[QK_NAME_MAX + 1], bundle_version[QK_NAME_MAX + 1];
    int64_t mark;
    int has_last; /* 0: it has seen no event */
    int64_t last_ms, last_seq;
    char last_device[QK_UUID_STRLEN + 1];
    unsigned char *state; /* malloc'd */
    size_t len;
} qk__points_fold;

typedef struct qk_store_ops {
    int (*begin)(qk_store *s);
    int (*commit)(qk_store *s);
    void (*rollback)(qk_store *s);
    /* The device's public key as first seen (*pem NULL when unknown); caller frees. */
    int (*device_key)(qk_store *s, const char *device_id, char **pem);
    int (*set_device)(qk_store *s, const char *device_id, const char *pem, int64_t acked_seq);
    /* Inserts one event unless held; *outcome says which of QK_PUT_*. With
     * branch (the sending device's), an event of a member on another
     * branch's roster is held apart (QK_PUT_APART): acknowledged, never
     * counted, judged or scored (docs/protocol.md); with only (the member a
     * phone is bound to, NULL for a shared device), so is an event naming
     * any other member. */
    int (*put_event)(qk_store *s, json_t *ev, const char *branch, const char *only, int *outcome);
    /* Optional (NULL: put_event one at a time): n events at once, with the
     * outcome each would have had put one by one in that order. Never given
     * a member event (member.*: the roster it changes decides what comes
     * after it, so it goes alone, through put_event). */
    int (*put_events)(qk_store *s, json_t *const *evs, size_t n, const char *branch, const char *only,
                      int *outcomes);
    /* The device's held sequence numbers, ascending; caller frees. */
    int (*held_seqs)(qk_store *s, const char *device_id, int64_t after, int64_t **seqs, size_t *n);
    /* The attempt.finish events of bundle id+version whose attempts the
     * server could not score (the bundle was not published yet), as they
     * were uploaded; caller frees. */
    int (*waiting)(qk_store *s, const char *id, const char *version, json_t **events);
    /* The bundle (id, version) of the member's newest event that names one;
     * QK_ENOTFOUND when none does. */
    int (*member_bundle)(qk_store *s, const char *member, char *id, size_t idn, char *version,
                         size_t vn);
    int (*count)(qk_store *s, int64_t *n);
    /* Records a re-scoring of the attempt a finish event closes; the device's
     * and the server's scores (and competition points) are both kept. */
    int (*put_score)(qk_store *s, json_t *finish, const qk_rescore *r, const char *note);
    /* Optional (NULL: put_score one at a time): n scores (r[i] NULL: not
     * scored), as n calls of put_score in that order would leave them. */
    int (*put_scores)(qk_store *s, json_t *const *finishes, const qk_rescore *const *r,
                      const char *const *notes, size_t n);
    /* Every event of an attempt from the device that made it, as stored, in
     * the device's order (payload as its JSON text; another device's events
     * naming the same attempt are not its); caller frees. */
    int (*attempt_events)(qk_store *s, const char *attempt_id, const char *device_id, json_t **events);
    /* Optional (NULL: attempt_events one attempt at a time): the events of
     * n attempts at once, as an object of arrays by attempt id, each event
     * as attempt_events gives it and its device_id (the caller keeps an
     * attempt's device's own); caller frees. */
    int (*attempts_events)(qk_store *s, const char *const *ids, size_t n, json_t **by_attempt);
    /* The spec of the published competition id of bundle_id (*spec NULL when
     * the store holds none); caller frees. */
    int (*competition_spec)(qk_store *s, const char *id, const char *bundle_id, char **spec);
    /* A member event from a device of this branch: member.added puts a member
     * the server does not know on the roster; member.pin_changed updates the
     * PIN hash. Both move the roster cursor so other kiosks pull them. */
    int (*member_event)(qk_store *s, const char *branch, json_t *ev);

    /* Accounts. QK_EEXISTS when taken; QK_ENOTFOUND for an unknown branch. */
    int (*branch_add)(qk_store *s, const char *id, const char *name);
    int (*branch_list)(qk_store *s, json_t **out); /* [{id, name, members, devices}] */
    int (*user_add)(qk_store *s, const qk_user *u);
    int (*user_get)(qk_store *s, const char *name, qk_user *u); /* QK_ENOTFOUND */
    int (*user_count)(qk_store *s, int64_t *n);
    int (*token_put)(qk_store *s, const char *token_hash, const char *user, int64_t expires_ms);
    int (*token_user)(qk_store *s, const char *token_hash, int64_t now_ms, qk_user *u);
    /* Roster: add or update (bumps the cursor); list one branch after a cursor. */
    /* Adds or updates a member; only_branch (NULL: any) is the branch an
     * existing member must already be in to be updated: QK_EPERM otherwise,
     * nothing changed. */
    int (*member_put)(qk_store *s, const qk_roster_member *m, const char *only_branch);
    /* The branch's roster after a cursor; member (NULL: all) that member's
     * row alone (its id compared without regard to case). */
    int (*roster)(qk_store *s, const char *branch, const char *member, int64_t after, int limit,
                  json_t **members, int64_t *cursor);
    /* Enrolment codes (only their hash is kept) and device tokens (the same). */
    /* kind: what the code enrols (QK_CODE_SHARED, QK_CODE_PHONE). */
    int (*code_put)(qk_store *s, const char *code_hash, const char *branch, const char *by,
                    int kind, int64_t expires_ms);
    /* Marks the code used by device_id; QK_ENOTFOUND unknown, QK_ETIMEOUT
     * expired, QK_ESTATE used already. branch gets the code's branch, *kind
     * its kind (QK_CODE_ANY for a code made before codes had kinds). */
    int (*code_take)(qk_store *s, const char *code_hash, const char *device_id, int64_t now_ms,
                     char branch[QK_NAME_MAX + 1], int *kind);
    /* QK_EEXISTS when the device is enrolled with another key. */
    int (*device_enrol)(qk_store *s, const qk_device_rec *d, const char *pem,
                        const char *token_hash);
    int (*device_auth)(qk_store *s, const char *token_hash, qk_device_rec *d); /* QK_ENOTFOUND */
    int (*device_get)(qk_store *s, const char *id, qk_device_rec *d);          /* QK_ENOTFOUND */
    int (*device_revoke)(qk_store *s, const char *id);
    int (*device_list)(qk_store *s, const char *branch, json_t **out); /* branch NULL: all */
    /* Counts a failure under key within a window and returns the count so far
     * (add 0 only reads it). Several server instances share it. */
    int (*throttle)(qk_store *s, const char *key, int64_t now_ms, int64_t window_ms, int add,
                    int *count);
    /* Published bundles, their bytes kept in the store: put records p and
     * the file's len (== p->size) bytes in one transaction (taking over a
     * record whose bytes are missing; QK_EEXISTS for a version recorded with
     * its bytes); list and get see only bundles whose bytes are there (get:
     * the newest version when version is NULL, QK_ENOTFOUND when none). */
    int (*bundle_put)(qk_store *s, const qk_published *p, const void *data, size_t len);
    int (*bundle_list)(qk_store *s, json_t **out);
    /* The id of the bundle a leader of branch published last (still held);
     * QK_ENOTFOUND when none has. */
    int (*branch_bundle)(qk_store *s, const char *branch, char *id, size_t idn);
    int (*bundle_get)(qk_store *s, const char *id, const char *version, qk_published *p);
    /* Published before the store kept bundles, their files not found by
     * its upgrade: [{id, version, file}]. */
    int (*bundle_missing)(qk_store *s, json_t **out);
    /* Takes those files in from the paths their rows name, or from dir by
     * their names, when their SHA-256 is the one published; *taken counts. */
    int (*bundle_adopt)(qk_store *s, const char *dir, size_t *taken);
    /* len bytes of the bundle's file from offset off into buf; QK_ECORRUPT
     * when the store holds fewer. */
    int (*bundle_read)(qk_store *s, const char *id, const char *version, int64_t off, void *buf,
                       size_t len);
    /* A competition's counted entries: each member's first finished entry
     * (across all devices), with the server's own points; branch NULL: all.
     * Rows: member_id, name, branch, dept, points, answer_ms, finished_ms,
     * flagged, mismatch, device_id; unranked. *guests and *unscored count
     * guest entries and entries the server could not score. */
    int (*entries)(qk_store *s, const char *competition, const char *branch, json_t **rows,
                   int64_t *guests, int64_t *unscored);
    /* Competitions published on the server; branch NULL: for every branch.
     * QK_EEXISTS when the id is taken. */
    int (*competition_put)(qk_store *s, const char *id, const char *bundle_id, const char *spec,
                           const char *branch, const char *by);
    /* [{id, bundle_id, spec, branch, published_by, published_ms}] */
    int (*competition_list)(qk_store *s, const char *branch, json_t **out);
    /* A consistent copy of the whole store while it is in use. */
    int (*backup)(qk_store *s, const char *dest);
    /* The points the server computed for a member (per Beijing day and in
     * all, over every device's events), by the rules of the bundle named. */
    int (*points_put)(qk_store *s, const char *member, const qk_points_day *days, size_t n,
                      int64_t server_total, const char *bundle_id, const char *bundle_version);
    /* What one device should have awarded a member by the rules (expected),
     * kept beside what it did award (the sum of its award events, those
     * stored up to mark upto). */
    int (*points_claim)(qk_store *s, const char *member, const char *device, int64_t expected,
                        int64_t upto);
    /* A member's events that earn points, in replay order (the rows of
     * QK_SQL_POINT_EVENTS), one device's only when device is not NULL, of
     * those stored after mark `after` up to mark `upto` (events_mark's; 0
     * after: from the first): fn(arg, ev) for each until it returns
     * non-zero, which is returned. */
    int (*point_events)(qk_store *s, const char *member, const char *device, int64_t after,
                        int64_t upto, int (*fn)(void *arg, const qk_point_event *ev), void *arg);
    /* *mark: where the events stored so far end (any stored later come after it). */
    int (*events_mark)(qk_store *s, int64_t *mark);
    /* The member's replay kept for every device's events (device NULL) or
     * one device's; QK_ENOTFOUND when none is kept. Caller frees f->state. */
    int (*points_fold_get)(qk_store *s, const char *member, const char *device, qk__points_fold *f);
    int (*points_fold_put)(qk_store *s, const char *member, const char *device,
                           const qk__points_fold *f);
    /* *fits: 1 when every event of the member (of device only, when not
     * NULL) stored after f->mark up to upto comes after f's last event in
     * replay order, and none of them is the start of an attempt with events
     * at or before f->mark (their days and modes are read from the start):
     * then f resumed with those events is the replay of all of them. */
    int (*points_fold_fits)(qk_store *s, const char *member, const char *device,
                            const qk__points_fold *f, int64_t upto, int *fits);
    /* The private key (PEM) that signs this server's acknowledgements, into
     * *out (caller frees); with pem not NULL, it is kept first unless the
     * store already has one (which wins). QK_ENOTFOUND when none is kept. */
    int (*server_key)(qk_store *s, const char *pem, char **out);

    /* Statistics (qk_stats.h) for one branch, NULL: all; the roll-ups they
     * read are kept in the store and brought up to date first. */
    int (*stats)(qk_store *s, const char *branch, const qk_stats_query *q, qk_lang lang, json_t **out,
                 char *msg, size_t msglen);
    /* now 0: this connection leaves checkpoints of the write-ahead log to a
     * checkpointer (the server runs one in the background, so that no
     * request waits while the log is copied back and flushed); now 1: copy
     * what it can back now, without waiting for or blocking writers. */
    int (*checkpoint)(qk_store *s, int now);
    void (*close)(qk_store *s);
} qk_store_ops;

struct qk_store {
    const qk_store_ops *ops;
    qk_lang lang;
    char err[512];
    char *where; /* the spec, for messages */
    qk_clock clock; /* the server's clock (qk_store_use_clock) */
    struct qk__judge *judge; /* re-scoring: the rescorer and the bundles kept open */
    void *impl;
};

extern const qk_store_ops qk__sqlite_store;
/* PostgreSQL (store_pg.c): conninfo is a libpq URL, postgresql://... */
extern const qk_store_ops qk__pg_store;
int qk__pg_store_open(qk_store *s, const char *conninfo);
/* The advisory lock each write transaction on PostgreSQL takes first, so
 * that writers take turns across connections and server instances
 * ("qkstore" in ASCII). */
#define QK__PG_WRITE_LOCK 31918493002658405

/* The largest bundle a server publishes, and the pieces the store keeps it in. */
#define QK_BUNDLE_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define QK_BUNDLE_CHUNK ((size_t)256 * 1024)
/* A whole file of at most max bytes into *data (malloc'd); QK_EIO when it
 * cannot be read (errno says why), QK_ELIMIT when longer than max. */
int qk__read_file(const char *path, size_t max, char **data, size_t *len);
/* qk_admin_bundle_publish for a file already in memory (an upload); name
 * stands for it in messages. */
int qk__admin_bundle_publish_bytes(qk_store *s, const char *data, size_t len, const char *name,
                                   const char *trust_dir, const char *by, qk_published *out);
/* Opens the published bundle id+version (NULL: the newest) from the store's
 * bytes; the caller closes it. QK_ENOTFOUND when the store holds none. */
int qk__store_bundle_open(qk_store *s, const char *id, const char *version, qk_bundle **out);

/* Imports events already parsed (from a file or a request) for one device, in
 * one transaction. pem: the device's key to pin (NULL when it is enrolled).
 * conflicts, when not NULL, gets the ids refused as conflicts. */
/* Scores the finished attempts of bundle id+version that waited for it (they
 * arrived before it was published) and judges their members' points; after
 * a publish. *rescored counts them. */
int qk__store_rescore_waiting(qk_store *s, const char *id, const char *version,
                              size_t *rescored);
int qk__store_ingest(qk_store *s, const char *device, const char *pem, json_t *events,
                     qk_import_result *r, json_t *conflicts);
/* The same, one event at a time (a USB file read as it streams): begin,
 * each event, then end with keep 0 to undo everything received (the file
 * proved bad at its end) or 1 to commit and judge. After a failed event the
 * rest are refused with the same status; end then undoes the batch. */
typedef struct qk__ingest qk__ingest;
int qk__ingest_begin(qk_store *s, const char *device, const char *pem, qk_import_result *r, json_t *conflicts,
                     qk__ingest **out);
int qk__ingest_event(qk__ingest *in, json_t *ev);
int qk__ingest_end(qk__ingest *in, int keep);
/* 1 when the event has every field of the protocol with the right type and
 * comes from device; otherwise 0 with the field named in why. A valid
 * event also gets its payload as canonical text (compact, keys sorted)
 * under QK__PAYLOAD_TEXT, made here, on the thread that reads a batch,
 * rather than on the one writer: whatever a device put under that key is
 * replaced or removed first. */
int qk__event_valid(json_t *ev, const char *device, char *why, size_t whylen);
#define QK__PAYLOAD_TEXT "\x01payload_text"
/* The server's time: what its own clock says (never a device's). */
int64_t qk__store_now(const qk_store *s);
int qk__sqlite_store_open(qk_store *s, const char *path);
/* The statistics over a SQLite store's connection (stats.c). */
struct sqlite3;
/* A writer's turn among the process's writers of one store file (the
 * store's ticket lock), taken around each transaction of a refresh. */
typedef struct qk__write_turn {
    void (*take)(void *arg);
    void (*give)(void *arg);
    void *arg;
} qk__write_turn;
int qk__stats_sqlite(struct sqlite3 *db, const qk__write_turn *turn, const char *branch, const qk_stats_query *q,
                     qk_lang lang, json_t **out,
                     char *msg, size_t msglen);
/* What another store's statistics share with the SQLite store's (stats.c):
 * a query checked (QK_EINVAL with msg), and a subject's rows as its table
 * (rows taken; the questions' stems added; NULL out of memory). */
int qk__stats_query_ok(const qk_stats_query *q, char *msg, size_t msglen);
/* A subject's query parameters (stats.c's bind_query): the period's first
 * and last day (1, 2), labels (3, 4, 5, 7, 12), the branch (6, NULL: all),
 * the whole months in the period with the days around them (8..11) and
 * today (13, 0: unknown); the numbers as text in num (7 of them). */
#define QK__STATS_PARAMS 13
/* The note of a finished attempt kept unscored because its bundle is not on
 * the server: what publishing that bundle scores (ops->waiting). */
#define QK__NOTE_NO_BUNDLE "bundle not on the server"
void qk__stats_params(const qk_stats_query *q, const char *branch, qk_lang lang, char num[][24],
                      const char *v[QK__STATS_PARAMS]);
json_t *qk__stats_table(const qk_stats_query *q, const char *branch, json_t *rows);
/* Its roll-ups are summed in a SQLite database in memory (opened with the
 * tables below and the roll-ups' own): the caller puts in the events of
 * rowid ev_lo+1..ev_hi (with rowid the store's row number), the other
 * attempt.start events of their attempts, the scores of rowid
 * sc_lo+1..sc_hi with their attempts' start and finish events, the shares
 * those attempts already have in the sums (stat_scored), and the members
 * of the events; qk__stats_stage sums them into its stat_ tables exactly
 * as the SQLite store sums its own (a share replaced comes out as a
 * negative sum; the days and members that lost one are in temp.stat_old).
 *   events(rowid, kind, member_id, device_id, attempt_id, created_ms, payload)
 *   attempt_scores(rowid, attempt_id, member_id, device_id, finished_ms, server_score, max)
 *   members(id, branch_id) */
int qk__stats_stage_open(struct sqlite3 **db, char *msg, size_t n);
/* The roll-ups' definition (another one is built again from the start). */
int qk__stats_rollup_version(void);
int qk__stats_stage(struct sqlite3 *db, int64_t ev_lo, int64_t ev_hi, int64_t sc_lo, int64_t sc_hi,
                    char *msg, size_t n);

#endif
