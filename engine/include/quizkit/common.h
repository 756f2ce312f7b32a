/* quizkit/common.h: status codes, languages and version shared by every module.
 *
 * Every public function that can fail returns an int: QK_OK (0) or a negative
 * QK_E* code. Codes are append-only and never renumbered. qk_strerror() gives a
 * short static text; each handle keeps a longer message with context
 * (file:line, field, id) that its *_errmsg() function returns. */
#ifndef QUIZKIT_COMMON_H
#define QUIZKIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QK_OK 0
/* Positive results of step functions (never errors). */
#define QK_ROW 100  /* qk_session_next: an item is ready */
#define QK_DONE 101 /* qk_session_next: nothing left to do */

/* Errors. Append-only: new codes get new numbers, old ones keep theirs. */
#define QK_ENOMEM -1    /* out of memory */
#define QK_EINVAL -2    /* invalid argument or input (e.g. an answer string) */
#define QK_EIO -3       /* file or database I/O failed */
#define QK_ECORRUPT -4  /* a file is damaged or not of the expected kind */
#define QK_ENOTFOUND -5 /* no such theme, question, member, attempt */
#define QK_EREADONLY -6 /* the progress file cannot be written */
#define QK_ELOCKED -7   /* member locked after too many wrong PINs */
#define QK_EAUTH -8     /* wrong PIN */
#define QK_ETIMEOUT -9  /* the session's time limit has passed */
#define QK_ESTATE -10   /* call not valid in the handle's current state */
#define QK_EEXISTS -11  /* already exists (member id, output file) */
#define QK_EFORMAT -12  /* unsupported format version */
#define QK_EDIGEST -13  /* bundle content does not match its digest */
#define QK_EVERSION -14 /* wrong bundle version for this attempt */
#define QK_ELIMIT -15   /* a size or count limit was exceeded */
#define QK_EUNSIGNED -16   /* a bundle carries no signature */
#define QK_EUNTRUSTED -17  /* signed by a key that is not in the trust store */
#define QK_ESIGNATURE -18  /* the signature does not match the manifest */
#define QK_EPERM -19       /* the caller may not do this (another branch, a revoked token) */

typedef enum qk_lang {
    QK_LANG_ZH = 0, /* zh-CN, the default */
    QK_LANG_EN = 1
} qk_lang;

/* Static text for a status code in the given language; never NULL. */
const char *qk_strerror(int code, qk_lang lang);
/* A system error number (errno) in words: in Chinese for the common ones
 * (a missing folder, no permission, a full disk...), else the C library's. */
const char *qk_errno_text(int err, qk_lang lang);

/* Picks a language from a locale string such as "en_US.UTF-8" or "zh_CN.UTF-8":
 * English for "en*", zh-CN otherwise (also for NULL, "C" and "POSIX"). */
qk_lang qk_lang_from_locale(const char *locale);

/* Library version, e.g. "0.1.0". */
const char *qk_version(void);

/* Hundredths of a point: scores are integers so that partial credit is exact
 * and the same on every device and on the server. */
typedef int32_t qk_centi;

#ifdef __cplusplus
}
#endif

#endif
