/* quizkit/member.h: local members, their PINs and lockout.
 *
 * A PIN is never stored: only PBKDF2-HMAC-SHA256 of it with a random 16-byte
 * salt. QK_MEMBER_MAX_FAILS wrong PINs in a row lock the member for
 * QK_MEMBER_LOCK_MS; a right PIN resets the count. Adding a member and changing
 * a PIN are also events in the log, so the roster can travel with sync. */
#ifndef QUIZKIT_MEMBER_H
#define QUIZKIT_MEMBER_H

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_MEMBER_MAX_FAILS 5
#define QK_MEMBER_LOCK_MS (5LL * 60 * 1000)
#define QK_PIN_MIN 4
#define QK_PIN_MAX 12
#define QK_PBKDF2_ITERATIONS 60000

typedef struct qk_member {
    char *id;
    char *name;
    char *branch;
    int64_t created_ms;
    int failed;              /* wrong PINs in a row */
    int64_t locked_until_ms; /* 0 when not locked */
} qk_member;

/* Member ids compare without regard to ASCII case, everywhere a member is looked
 * up (add, login, get, PIN, roster): "A12" typed on the kiosk's keypad, "a12" in
 * a terminal and "A12" as added are one member. The id is kept as it was added,
 * and qk_member_get()'s m->id gives it back that way: what a caller records
 * (attempts, events) should name the member with it.
 *
 * id: 1-32 of [A-Za-z0-9._-]; name: 1-64 characters; pin: QK_PIN_MIN..QK_PIN_MAX digits.
 * QK_EEXISTS if the id is taken (in any case), QK_EINVAL with a message for bad fields. */
int qk_member_add(qk_engine *e, const char *id, const char *name, const char *branch,
                  const char *pin);
/* Sets a new PIN and clears any lockout. */
int qk_member_set_pin(qk_engine *e, const char *id, const char *pin);
/* QK_OK; QK_EAUTH (wrong PIN; *remaining tries left before lockout); QK_ELOCKED
 * (*remaining = milliseconds until unlocked); QK_ENOTFOUND. remaining may be NULL. */
int qk_member_login(qk_engine *e, const char *id, const char *pin, int64_t *remaining);
/* Caller frees with qk_member_free(). */
int qk_member_get(qk_engine *e, const char *id, qk_member **out);
/* Forgets every member but id (compared without regard to case), as a
 * member's own phone does once enrolled for them: it holds no one else's PIN
 * hash. Their records stay in the event log. */
int qk_member_keep_only(qk_engine *e, const char *id);
/* All members ordered by id; caller frees with qk_member_list_free(). */
int qk_member_list(qk_engine *e, qk_member ***out, size_t *n);
void qk_member_free(qk_member *m);
void qk_member_list_free(qk_member **v, size_t n);
/* 1 if the string is an acceptable PIN. */
int qk_pin_valid(const char *pin);

/* The roster travels as hashes: a fresh salt and the PIN's PBKDF2 hash, in hex
 * (the server makes these for members it adds). */
int qk_pin_hash_new(const char *pin, char salt_hex[33], char hash_hex[65], int *iter);
/* 1 when pin is the PIN of that salt, hash (hex) and iteration count, else 0
 * (constant-time comparison); the server's check of a phone's member. */
int qk_pin_check(const char *pin, const char *salt_hex, const char *hash_hex, int iter);
/* Adds or updates a member from the server's roster (no event: the roster is
 * the server's, not this device's doing). A changed PIN clears any lockout. */
int qk_member_apply(qk_engine *e, const char *id, const char *name, const char *branch,
                    const char *dept, const char *salt_hex, const char *hash_hex, int iter);
/* Passwords of the server's accounts: "pbkdf2-sha256$ITER$SALT$HASH" (hex). */
int qk_secret_hash(const char *secret, char *out, size_t outlen);
/* 1 when secret matches stored (constant-time comparison), else 0. */
int qk_secret_verify(const char *secret, const char *stored);

#ifdef __cplusplus
}
#endif

#endif
