/* quizkit/rng.h: the seeded generator behind draws and shuffles.
 *
 * A CTR_DRBG (NIST SP 800-90A, mbedTLS) whose seed material is derived only
 * from a 64-bit seed, so an attempt recorded with its seed can be replayed and
 * re-scored exactly, on the device or on the server. qk_rng_new_random() seeds
 * from the operating system instead, for ids and PIN salts. */
#ifndef QUIZKIT_RNG_H
#define QUIZKIT_RNG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_rng qk_rng;

int qk_rng_new_seeded(qk_rng **out, uint64_t seed);
int qk_rng_new_random(qk_rng **out);
/* Fills buf with n bytes. */
int qk_rng_bytes(qk_rng *rng, void *buf, size_t n);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
int qk_rng_below(qk_rng *rng, uint32_t n, uint32_t *out);
/* Fisher-Yates shuffle of idx[0..n). */
int qk_rng_shuffle(qk_rng *rng, size_t *idx, size_t n);
/* A fresh 64-bit seed from the operating system. */
int qk_rng_os_seed(uint64_t *out);
void qk_rng_free(qk_rng *rng);

#ifdef __cplusplus
}
#endif

#endif
