/* quizkit/uuid.h: UUID version 7 (RFC 9562), time-ordered event ids.
 *
 * Time-ordered keys keep SQLite's B-tree appends at the right edge, which is
 * why DESIGN.md picks v7 over random v4. */
#ifndef QUIZKIT_UUID_H
#define QUIZKIT_UUID_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QK_UUID_STRLEN 36

/* Generator state: keeps ids strictly increasing within one process even when
 * several are made in the same millisecond or the clock steps back. */
typedef struct qk_uuid_gen {
    uint64_t last_ms;
    uint32_t counter; /* 12-bit rand_a used as a counter within one millisecond */
} qk_uuid_gen;

/* Writes a v7 UUID as 36 lowercase hex-and-dash characters plus NUL into out.
 * rnd supplies 8 random bytes for rand_b (and seeds the counter). */
void qk_uuid_v7(qk_uuid_gen *gen, uint64_t unix_ms, const uint8_t rnd[10],
                char out[QK_UUID_STRLEN + 1]);

/* 1 if s is a well-formed UUID string of version 7, else 0. */
int qk_uuid_is_v7(const char *s);

#ifdef __cplusplus
}
#endif

#endif
