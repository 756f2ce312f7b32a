/* Fuzz target: a aiken question file as staff might save it, in any encoding. */
#include <stdlib.h>
#include <string.h>

#include "../../content/src/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const qk_question *q, int line, void *payload)
{
    (void)line;
    (void)payload;
    char msg[256];
    /* Whatever the importer passes on must be a consistent question. */
    if (qk_question_check(q, QK_LANG_EN, msg, sizeof msg) != QK_OK)
        abort();
    return QK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    size_t len = 0;
    int converted = 0, bad = 0;
    char *text = qk__decode((const char *)data, size, &len, &converted, &bad);
    if (!text)
        return 0;
    qk_content_parse(QK_SRC_AIKEN, "fuzz", text, len, "t", QK_LANG_EN, NULL, NULL, sink, NULL);
    free(text);
    return 0;
}
