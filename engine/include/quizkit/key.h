/* quizkit/key.h: publisher keys (ECDSA P-256) for signing and trusting bundles.
 *
 * A key id is the first 16 hex digits of SHA-256 over the public key's DER
 * (SubjectPublicKeyInfo) encoding: short enough to read out over the phone,
 * long enough that two publishers never collide by chance. */
#ifndef QUIZKIT_KEY_H
#define QUIZKIT_KEY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_KEY_ID_LEN 16

typedef struct qk_key qk_key;

/* A new key pair from the operating system's randomness. */
int qk_key_generate(qk_key **out);
/* Loads a PEM private key (.key) or public key (.pub). On failure returns
 * QK_EIO (unreadable) or QK_EINVAL (not a P-256 key) with a reason in msg. */
int qk_key_load(qk_key **out, const char *path, qk_lang lang, char *msg, size_t msglen);
/* Writes the private key (mode 0600, never over an existing file) and the
 * public key. Either path may be NULL to skip it. */
int qk_key_write(const qk_key *k, const char *private_path, const char *public_path, qk_lang lang,
                 char *msg, size_t msglen);
/* The key id (QK_KEY_ID_LEN hex digits); owned by the key. */
const char *qk_key_id(const qk_key *k);
/* 1 if the key can sign. */
int qk_key_can_sign(const qk_key *k);
/* Signs a SHA-256 digest (DER ECDSA signature into sig, at most
 * QK_KEY_SIG_MAX bytes, *sig_len set). */
#define QK_KEY_SIG_MAX 80
int qk_key_sign(const qk_key *k, const unsigned char hash[32], unsigned char *sig, size_t *sig_len);
/* QK_OK if sig is k's signature of hash, QK_ESIGNATURE otherwise. */
int qk_key_verify(const qk_key *k, const unsigned char hash[32], const unsigned char *sig,
                  size_t sig_len);
/* The public key as PEM text; caller frees. */
int qk_key_public_pem(const qk_key *k, char **out);
/* Reads a public key from PEM text. */
int qk_key_from_pem(qk_key **out, const char *pem);
/* The private key as PEM text (QK_EINVAL for a public key); caller frees,
 * and should wipe it. */
int qk_key_private_pem(const qk_key *k, char **out);
/* Reads a private key from PEM text (it can sign). */
int qk_key_from_private_pem(qk_key **out, const char *pem);
void qk_key_free(qk_key *k);

#ifdef __cplusplus
}
#endif

#endif
