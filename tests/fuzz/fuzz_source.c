/* Fuzz target for one question-file importer, chosen at build time with
 * -DQK_FUZZ_FORMAT=QK_SRC_CSV (or _JSON, _GIFT, _AIKEN, _LESSON): raw bytes as
 * staff might save them, in any encoding, decoded and imported; _XLSX: the
 * bytes of a workbook (a zip of XML parts). */
#include <stdlib.h>
#include <string.h>

#include "../../content/src/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(const qk_question *q, int line, void *payload)
{
    (void)line;
    (void)payload;
    char msg[256];
    /* Whatever an importer passes on must be a consistent question. */
    if (qk_question_check(q, QK_LANG_EN, msg, sizeof msg) != QK_OK)
        abort();
    return QK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    if (QK_FUZZ_FORMAT == QK_SRC_XLSX) { /* a zip, read as it is */
        qk_content_parse(QK_FUZZ_FORMAT, "fuzz", (const char *)data, size, "t", QK_LANG_EN, NULL, NULL,
                         sink, NULL);
        return 0;
    }
    size_t len = 0;
    int converted = 0, bad = 0;
    char *text = qk_text_decode((const char *)data, size, &len, &converted, &bad);
    if (!text)
        return 0;
    qk_content_parse(QK_FUZZ_FORMAT, "fuzz", text, len, "t", QK_LANG_EN, NULL, NULL, sink, NULL);
    free(text);
    return 0;
}
