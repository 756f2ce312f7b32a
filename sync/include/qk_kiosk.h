/* qk_kiosk.h: the kiosk's local JSON API (issue 8). The engine runs behind
 * it on 127.0.0.1 only, on the same HTTP layer as the central server, and
 * the front end in web/kiosk shows what it answers: the rules (scoring,
 * timing, who may see what) stay in the engine.
 *
 * A screen session starts with a member's login (id and PIN) or as a guest,
 * is named by a random token the page keeps in memory, and ends with logout
 * or after the idle time without a request. At most one quiz runs per
 * session; a member's quiz left half-way resumes at their next login.
 * Guests see only the themes the bundle opens to guests, and nothing personal
 * is stored for them (their answers carry no member id).
 *
 * API (all JSON; errors are {"error": {"code", "message"}} with a 4xx status):
 *   GET  /api/home                  bundle, today's themed day, sync status, idle_seconds
 *                                   (null on a phone: no sign-out by itself)
 *   POST /api/login {member, pin}   -> {token, member}; 401 wrong PIN, 423 locked
 *   POST /api/guest                 -> {token}
 *   POST /api/logout
 *   GET  /api/themes                themes this session may take
 *   GET  /api/me                    points today against each cap, streak, history
 *   POST /api/quiz {mode, theme}    start (or resume) -> the first question
 *   GET  /api/quiz                  the current question
 *   POST /api/quiz/answer {response}  feedback as the mode says, then the next
 *   POST /api/quiz/expire           a challenge question's time ran out
 *   POST /api/quiz/finish           -> the summary
 *   GET  /api/lessons, POST /api/lesson {id}, GET /api/lesson,
 *   POST /api/lesson/continue, /choose {index}, /answer {response}
 *   GET  /api/media/NAME            a picture from the bundle
 * The token goes in the header X-Kiosk-Session. */
#ifndef QK_KIOSK_H
#define QK_KIOSK_H

#include <stdio.h>

#include "quizkit.h"

typedef struct qk_kiosk_config {
    unsigned port;   /* 0: any free port */
    const char *web; /* the folder with kiosk/ (default: where the build found web/) */
    int idle_s;      /* a screen session ends after this long without a request (0: 90;
                        negative: never, as on a member's own phone) */
    const char *server_conf; /* <data>/server.json: the sync status on the home screen (may be NULL) */
    qk_lang lang;
    FILE *log;       /* one line per request; NULL: none */
    const qk_clock *clock; /* the log's times; screens run on the engine's clock */
} qk_kiosk_config;

typedef struct qk_kiosk qk_kiosk;

/* Starts serving on 127.0.0.1. The kiosk uses e and b (and closes neither)
 * until qk_kiosk_stop. NULL on failure, with why in msg. */
qk_kiosk *qk_kiosk_start(qk_engine *e, qk_bundle *b, const qk_kiosk_config *cfg, char *msg,
                         size_t n);
unsigned qk_kiosk_port(const qk_kiosk *k);
void qk_kiosk_stop(qk_kiosk *k);

#endif
