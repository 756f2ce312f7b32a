/* Fuzz target: a JSON question file as an author might write it. */
#include <stdlib.h>
#include <string.h>

#include "qk_content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const qk_question *q, int line, void *payload)
{
    (void)line;
    (void)payload;
    char msg[256];
    /* Whatever the parser passes on must be a consistent question. */
    if (qk_question_check(q, QK_LANG_EN, msg, sizeof msg) != QK_OK)
        abort();
    return QK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    qk_content_parse(QK_SRC_JSON, "fuzz.json", (const char *)data, size, "t", QK_LANG_EN, NULL, NULL,
                     sink, NULL);
    return 0;
}
