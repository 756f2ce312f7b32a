/* qk_sync.h: moving events from devices to the server.
 *
 * The file transport, for kiosks that never see a network: the device
 * exports every event the server has not acknowledged into one batch file
 * (gzip; a header line naming the device, its public key, the range of
 * sequence numbers and a signature over the SHA-256 of the body; then the
 * events as JSON). The server imports it with the same idempotency rules as
 * the network will use: an event id seen before with the same content
 * changes nothing, the same id with other content is a conflict, and the
 * device's acknowledgement is the highest contiguous sequence number it has.
 * The acknowledgement travels back as a small file. See docs/protocol.md. */
#ifndef QK_SYNC_H
#define QK_SYNC_H

#include "quizkit.h"

#define QK_BATCH_FORMAT "quizkit-batch"
#define QK_ACK_FORMAT "quizkit-ack"

/* Writes the device's unacknowledged events (seq > acked) into path, signed
 * with the device key. *n gets the number of events (0: nothing to export,
 * and no file is written). Errors go to msg. */
int qk_batch_export(qk_engine *e, const qk_key *device_key, const char *path, int64_t after_seq,
                    size_t *n, char *msg, size_t msglen);

/* --- the server's store --- */
typedef struct qk_store qk_store;

#define QK_NAME_MAX 64
/* An account on the server: an admin (every branch) or a branch's leader. */
typedef struct qk_user {
    char name[QK_NAME_MAX + 1];
    char role[16]; /* "admin" or "leader" */
    char branch[QK_NAME_MAX + 1];
    char pw_hash[160];
} qk_user;

/* A member on a branch's roster: the PIN travels only as its PBKDF2 hash. */
typedef struct qk_roster_member {
    char id[QK_NAME_MAX + 1];
    char name[4 * QK_NAME_MAX + 1];
    char branch[QK_NAME_MAX + 1];
    char dept[4 * QK_NAME_MAX + 1];
    char pin_salt[33];
    char pin_hash[65];
    int pin_iter;
} qk_roster_member;

/* A bundle published on the server. */
typedef struct qk_published {
    char id[QK_NAME_MAX + 1];
    char version[QK_NAME_MAX + 1];
    char title[4 * QK_NAME_MAX + 1];
    char sha256[65];
    char key_id[33];
    int64_t size;
    int64_t published_ms;
    char by[QK_NAME_MAX + 1];
    size_t rescored; /* on publish: attempts that waited for it, scored now */
    int already;     /* on publish: this file was published before (nothing changed) */
} qk_published;

/* spec: "sqlite:PATH" (created on first use, WAL). *out is set even on
 * failure (see qk_store_errmsg). */
int qk_store_open(qk_store **out, const char *spec, qk_lang lang);
const char *qk_store_errmsg(const qk_store *s);
void qk_store_close(qk_store *s);

#define QK_MAX_GAPS 16
typedef struct qk_import_result {
    char device_id[QK_UUID_STRLEN + 1];
    size_t received;   /* events in the batch */
    size_t inserted;   /* new */
    size_t duplicates; /* seen before, same content */
    size_t conflicts;  /* same id (or device and seq), other content: refused */
    size_t apart;      /* of the new, for members of another branch: held apart, not counted */
    int64_t acked_seq; /* highest contiguous sequence number now held */
    size_t n_gaps;     /* ranges missing below the highest held */
    int64_t gaps[QK_MAX_GAPS][2];
    size_t rescored;   /* finished attempts scored again from their raw answers */
    size_t mismatches; /* of those, the device's score differed: flagged, not trusted */
    size_t unscored;   /* not scored: no bundle of the attempt's id and version on the
                          server, or its events do not replay with it (the reason is
                          kept with the attempt's score, attempt_scores.note) */
    size_t no_bundle;  /* of those, the bundle is not on the server */
    /* the first such bundle (what to publish), and whether attempts of
     * others were left unscored too */
    char no_bundle_id[QK_NAME_MAX + 1], no_bundle_version[QK_NAME_MAX + 1];
    int no_bundle_others;
} qk_import_result;

/* Verifies and imports a batch file in one transaction. QK_ECORRUPT for a
 * damaged or altered file (nothing imported); QK_ESIGNATURE when the device's
 * key differs from the one it used before. */
int qk_store_import(qk_store *s, const char *batch_path, qk_import_result *r);
/* The clock the store judges by (copied; NULL: the system clock): code
 * expiry, sessions, throttling, receipt times, "this month". */
void qk_store_use_clock(qk_store *s, const qk_clock *clock);
/* Writes the acknowledgement file for a device, signed with the server's key:
 * a forged acknowledgement would make a kiosk stop sending events the server
 * never got. */
int qk_store_write_ack(qk_store *s, const char *device_id, const qk_key *server_key,
                       const char *path);
/* Events the store holds (all devices). */
int qk_store_event_count(qk_store *s, int64_t *n);

/* Device side: reads an acknowledgement file, checks its signature and records
 * it. expected_pem: the server key this device trusts (NULL on first use: any
 * valid signature, and *server_pem gets the key to remember; caller frees).
 * QK_ESIGNATURE for a bad signature or another server's key; QK_EINVAL when it
 * is for another device; *acked gets the device's acknowledged seq after. */
int qk_ack_apply(qk_engine *e, const char *ack_path, const char *expected_pem, char **server_pem,
                 int64_t *acked, char *msg, size_t msglen);
/* Reads an acknowledgement file and checks that it is one, for this device,
 * without trusting or applying it: what is wrong with the file itself
 * (unreadable, not an acknowledgement, another device's) is said before any
 * question of keys. QK_EIO, QK_ECORRUPT or QK_EINVAL with msg. */
int qk_ack_peek(qk_engine *e, const char *ack_path, char *msg, size_t msglen);

#endif
