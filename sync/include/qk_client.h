/* qk_client.h: the device's side of the network (libcurl): enrolment, pushing
 * the event log in batches until the server has acknowledged it, pulling the
 * branch's roster and published bundles.
 *
 * TLS is always verified (the system's CAs, or --cacert), optionally pinned
 * to the server's public key; plain http:// is refused except to loopback.
 * Every step can be cut off at any point and simply run again: the server
 * deduplicates by event id and the device moves its acknowledgement forward
 * only on the server's word. */
#ifndef QK_CLIENT_H
#define QK_CLIENT_H

#include "quizkit.h"

typedef struct qk_client qk_client;
typedef struct json_t json_t;

/* What `quizkit enroll` stores in <data>/server.json (mode 0600). */
typedef struct qk_client_conf {
    char url[512];      /* https://host:port */
    char cacert[1024];  /* PEM file of the CA to trust, or "" for the system's */
    char pin[256];      /* "sha256//BASE64" of the server's public key, or "" */
    char token[80];     /* the device's token */
    char device_id[40];
    char branch[65];
    char branch_name[260]; /* the branch's name, as the server last said it ("" before) */
    int64_t roster_cursor;
    int64_t last_sync_ms;  /* last successful sync */
    int64_t clock_offset_ms; /* server time minus device time at the last sync */
    char server_key[1024];   /* the server's acknowledgement key (PEM), from enrolment: the
                                only key whose USB acknowledgements this device accepts */
} qk_client_conf;

int qk_client_conf_load(qk_client_conf *c, const char *path, char *msg, size_t n);
/* Written to a temporary file (0600) and renamed. */
int qk_client_conf_save(const qk_client_conf *c, const char *path, char *msg, size_t n);

/* QK_EINVAL (with why) for a URL that is not https:// (or http:// to loopback). */
int qk_client_new(qk_client **out, const qk_client_conf *conf, qk_lang lang, char *msg, size_t n);
void qk_client_free(qk_client *c);

/* Progress of a long push: events sent so far out of total. */
typedef void (*qk_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Exchanges an enrolment code for a token; fills conf->token, device_id, branch. */
int qk_client_enroll(qk_client *c, qk_engine *e, const char *code, const char *name,
                     const qk_key *device_key, qk_client_conf *conf, char *msg, size_t n);

typedef struct qk_push_result {
    int64_t sent;      /* events sent (resends included) */
    int64_t acked_seq; /* the server's acknowledgement afterwards */
    int64_t pending;   /* events the server still lacks */
    int64_t conflicts; /* events the server refused as conflicts */
    int batches;
    int64_t rewound_from; /* the server held less than it had acknowledged (restored
                             from a backup): our acknowledgement before we went back
                             to acked_seq and sent again; 0 when not */
} qk_push_result;

/* Sends every unacknowledged event, in batches of at most 1,000 events /
 * 1 MiB (gzip), recording the server's acknowledgement after each. */
int qk_client_push(qk_client *c, qk_engine *e, qk_progress_fn fn, void *ctx, qk_push_result *r,
                   char *msg, size_t n);
/* Applies the branch's roster changes after conf->roster_cursor (moves it). */
int qk_client_pull_roster(qk_client *c, qk_engine *e, qk_client_conf *conf, size_t *changed,
                          char *msg, size_t n);
/* The server's clock minus ours, in milliseconds. */
int qk_client_clock_offset(qk_client *c, int64_t *offset_ms, char *msg, size_t n);
/* The device's clock the offset is measured against (copied; NULL: system). */
void qk_client_use_clock(qk_client *c, const qk_clock *clock);
/* The server's catalogue: a JSON array of {id, version, title, sha256, size}. */
int qk_client_catalogue(qk_client *c, json_t **bundles, char *msg, size_t n);
/* Downloads a published bundle to dest, resuming dest.part with a Range
 * request; checks the SHA-256 the catalogue gave. */
int qk_client_download(qk_client *c, const char *id, const char *version, const char *sha256,
                       const char *dest, qk_progress_fn fn, void *ctx, char *msg, size_t n);

/* Logs a leader or admin in; later calls carry the session token. */
int qk_client_login(qk_client *c, const char *user, const char *password, char *msg, size_t n);
/* Any API call: path under the server (e.g. "/api/v1/branches"), body may be
 * NULL. *reply gets the JSON answer of a 2xx; other answers become msg.
 * QK_EPERM for 401/403, QK_ENOTFOUND for 404, QK_EEXISTS for 409. */
int qk_client_call(qk_client *c, const char *method, const char *path, const void *body,
                   size_t len, const char *ctype, json_t **reply, char *msg, size_t n);

/* 1 when a failure is worth retrying later (network, 5xx, 429). */
int qk_client_retryable(const qk_client *c);

#endif
