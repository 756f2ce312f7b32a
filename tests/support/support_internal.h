/* support_internal.h: what support.c shares with support_full.c. */
#ifndef QK_TEST_SUPPORT_INTERNAL_H
#define QK_TEST_SUPPORT_INTERNAL_H

#include "quizkit.h"

/* Writes the fixture bundle of support.h to path, signed by key (NULL: the
 * fixture's own key). */
void qkt__build_fixture(const char *path, const qk_key *key);

#endif
