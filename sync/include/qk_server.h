/* qk_server.h: the branch's central server (`quizkit serve`) and the
 * administration it needs, on its store.
 *
 * The admin functions are what both `quizkit admin ... --db` (working on the
 * database directly) and the HTTP handlers call, so the rules live in one
 * place. They set qk_store_errmsg() on failure. API: docs/protocol.md. */
#ifndef QK_SERVER_H
#define QK_SERVER_H

#include <stdio.h>

#include <jansson.h>

#include "qk_stats.h"
#include "qk_sync.h"

/* ids of branches, accounts and members: 1-32 of [A-Za-z0-9._-]. */
int qk_ident_valid(const char *id);

/* Creates the first admin account with a random password (written to pw,
 * at least 25 bytes) when the store has no account yet; QK_EEXISTS otherwise. */
int qk_admin_init(qk_store *s, const char *user, char *pw, size_t pwlen);
int qk_admin_branch_add(qk_store *s, const char *id, const char *name);
/* role: "admin" or "leader" (a leader needs a branch); password >= 8 characters. */
int qk_admin_user_add(qk_store *s, const char *name, const char *role, const char *branch,
                      const char *password);
/* 1 when the password is right for the account (u filled), else 0. */
int qk_admin_login(qk_store *s, const char *name, const char *password, qk_user *u);
int qk_admin_member_add(qk_store *s, const qk_roster_member *m, const char *pin);
/* The same for a leader: m must be of only_branch (NULL: an admin, any), and
 * an existing member of another branch is not touched (QK_EPERM): writes are
 * scoped like reads. */
int qk_admin_member_put(qk_store *s, const qk_roster_member *m, const char *pin,
                        const char *only_branch);
/* A roster CSV (UTF-8; columns 编号/id, 姓名/name, 支部/branch, 科室/dept,
 * PIN/初始PIN in any order). All rows or none: the first bad row is named
 * as label:line in the error. branch, when not NULL, is the branch of rows
 * that have none; only_branch, when not NULL, refuses rows of another. */
int qk_admin_roster_import(qk_store *s, const char *csv, size_t len, const char *label,
                           const char *branch, const char *only_branch, size_t *added);
/* A one-time enrolment code (e.g. "K7QF-9MZP") for a branch, valid ttl_ms,
 * for one kind of device: a shared one (a kiosk, `quizkit enroll`: it holds
 * the branch's whole roster, PIN hashes included) or a member's own phone
 * (the app: enrolled for a member by id and PIN, it holds their row alone).
 * A code enrols only its kind, so a code handed to a member for their phone
 * cannot enrol a device that gets every member's PIN hash. */
#define QK_CODE_LEN 9
enum { QK_CODE_SHARED = 0, QK_CODE_PHONE = 1, QK_CODE_ANY = 2 /* made before kinds */ };
int qk_admin_code_new(qk_store *s, const char *branch, const char *by, int64_t ttl_ms, int kind,
                      char code[QK_CODE_LEN + 1], int64_t *expires_ms);
int qk_admin_device_revoke(qk_store *s, const char *device_id);
/* The key that signs this server's acknowledgements: kept in the store (made
 * on first use), the same whoever runs the import, and sent to devices at
 * enrolment so that they accept acknowledgements from it only. */
int qk_admin_server_key(qk_store *s, qk_key **out);
/* Keeps k as the store's signing key unless it has one already (a store
 * made by a release that signed with a key file takes that key over). */
int qk_admin_server_key_seed(qk_store *s, const qk_key *k);
int qk_admin_backup(qk_store *s, const char *dest);
/* Statistics of the store for one branch (NULL: every branch), with the
 * scores the server computed itself. */
int qk_store_stats(qk_store *s, const char *branch, const qk_stats_query *q, qk_lang lang, json_t **out,
                   char *msg, size_t msglen);
/* Checks a bundle file (digests, and a signature by a key in trust_dir) and
 * keeps its bytes in the store, where devices download it from and the judge
 * re-scores by it; the attempts that waited for it are scored. QK_EEXISTS when
 * that version is published with other content, QK_ELIMIT over 64 MiB. */
int qk_admin_bundle_publish(qk_store *s, const char *file, const char *trust_dir, const char *by,
                            qk_published *out);
/* Bundles published before bundles were kept in the store whose files its
 * upgrade could not read: [{id, version, file}]; publish them again. */
int qk_admin_bundles_missing(qk_store *s, json_t **out);
/* Takes those in from dir (the old --bundles folder) by their files' names
 * when their SHA-256 is the one published; *taken counts them. */
int qk_admin_bundles_adopt(qk_store *s, const char *dir, size_t *taken);
/* The publishers' public keys of a trust folder (its *.pub files that read
 * as keys): [{id, pem}], for the phones' app, which trusts the bundles its
 * server publishes (docs/app.md). */
int qk_admin_trusted_keys(const char *trust_dir, json_t **out);
int qk_admin_branches(qk_store *s, json_t **out);
/* Publishes a competition (JSON definition) for a branch (NULL: all), checked
 * against the newest published version of bundle_id. QK_EEXISTS when the id
 * is taken (here or in the bundle). */
int qk_admin_competition_add(qk_store *s, const char *spec_json, const char *bundle_id,
                             const char *branch, const char *by);
/* Published competitions for a branch (NULL: all of them). */
int qk_admin_competitions(qk_store *s, const char *branch, json_t **out);
int qk_admin_devices(qk_store *s, const char *branch, json_t **out);

/* Device enrolment: exchanges a code for a token (64 hex characters; the
 * store keeps only its SHA-256). proof is the hex signature, by the device's
 * key (pem), of the enrolment digest (the code, the device id and the key):
 * QK_ESIGNATURE without it. QK_ENOTFOUND, QK_ETIMEOUT (expired), QK_ESTATE
 * (used), QK_EEXISTS (device enrolled with another key). */
int qk_enrol(qk_store *s, const char *code, const char *device_id, const char *name,
             const char *pem, const char *proof, char token[65], char branch[QK_NAME_MAX + 1]);
/* The same for a member's own phone: member and pin (both, or neither) are
 * checked against the roster of the code's branch (QK_EAUTH, the code not
 * used, when they do not match), and the device is bound to that member:
 * its roster is that member's row only (a phone holds no other member's PIN
 * hash). */
int qk_enrol_member(qk_store *s, const char *code, const char *device_id, const char *name,
                    const char *pem, const char *proof, const char *member, const char *pin,
                    char token[65], char branch[QK_NAME_MAX + 1]);

typedef struct qk_server_config {
    const char *listen;   /* address; default 127.0.0.1, or 0.0.0.0 with TLS */
    unsigned port;        /* default 8443 with TLS, 8080 without */
    const char *db;       /* store spec, "sqlite:PATH" */
    const char *tls_cert; /* PEM files; both or neither */
    const char *tls_key;
    int insecure_listen; /* allow plain HTTP on an address other than loopback */
    unsigned threads;    /* worker threads (default 4) */
    unsigned max_conn;   /* connections at once (default 256) */
    unsigned timeout_s;  /* idle connection timeout (default 30; 5 before a request) */
    unsigned max_conn_per_addr; /* connections from one address at once (default 32) */
    const char *proxy;   /* a reverse proxy's address: its requests come from the last
                            address of their X-Forwarded-For (NULL: none trusted) */
    const char *trust;   /* folder of *.pub keys bundles must be signed by */
    const char *web;     /* the pages (web/dashboard); default: where they were built from */
    const char *chartjs; /* Chart.js for the dashboard (default: Debian's libjs-chart.js) */
    const char *app;     /* the phones' app's WebAssembly module (quizkit-engine.js and .wasm;
                            default: where the wasm build puts it, build-wasm/app) */
    qk_lang lang;
    FILE *log; /* one line per request; NULL: none */
    const qk_clock *clock; /* the server's clock (copied); NULL: the system clock */
    char *owned; /* what qk_server_config_load read (internal) */
} qk_server_config;

typedef struct qk_server qk_server;

/* A database spec as it may be shown (printed, logged): a URL without its
 * password. Caller frees; NULL when out of memory. */
char *qk_store_spec_shown(const char *spec);

/* Reads "key = value" lines (# comments) into c; strings point into a buffer
 * the config keeps until qk_server_config_free. Errors name file:line. */
int qk_server_config_load(qk_server_config *c, const char *path, char *msg, size_t n);
void qk_server_config_free(qk_server_config *c);

/* Starts listening (threads in the background). NULL on failure, with why. */
qk_server *qk_server_start(const qk_server_config *c, char *msg, size_t n);
unsigned qk_server_port(const qk_server *srv);
/* Stops taking connections, lets requests in flight finish (up to grace_ms),
 * then stops. */
void qk_server_stop(qk_server *srv, int grace_ms);

#endif
