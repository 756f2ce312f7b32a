/* content_msg.h: the authoring tools' message catalogue (messages.def). */
#ifndef QK_CONTENT_MSG_H
#define QK_CONTENT_MSG_H

#include "quizkit/common.h"

typedef enum {
#define MSG(id, zh, en) id,
#include "messages.def"
#undef MSG
    QK_C_COUNT
} qk__cmsg;

const char *qk__cmsg_text(qk_lang lang, qk__cmsg id);

#endif
