/* content_msg.c: lookup in the authoring tools' message catalogue. */
#include "content_msg.h"

static const char *const catalogue[QK_C_COUNT][2] = {
#define MSG(id, zh, en) {zh, en},
#include "messages.def"
#undef MSG
};

const char *qk__cmsg_text(qk_lang lang, qk__cmsg id)
{
    return (unsigned)id < QK_C_COUNT ? catalogue[id][lang == QK_LANG_EN ? 1 : 0] : "?";
}
