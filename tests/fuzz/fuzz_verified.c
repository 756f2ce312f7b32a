/* Fuzz target: a device's record of the bundles it has verified
 * (bundles/.verified, qk_bundle_open_trusted), split into lines as the
 * reader splits it. A line that parses must format back to a line that
 * parses to the same values (not always the same text: "007" is read as 7):
 * the record a device rewrites says what the record it read said. */
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/bundle_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const qk__verified *a, const qk__verified *b)
{
    if (a->dev != b->dev || a->ino != b->ino || a->size != b->size || a->mtime_s != b->mtime_s ||
        a->mtime_ns != b->mtime_ns || a->ctime_s != b->ctime_s || a->ctime_ns != b->ctime_ns ||
        strcmp(a->manifest, b->manifest) != 0 || strcmp(a->key_id, b->key_id) != 0 ||
        strcmp(a->key_sum, b->key_sum) != 0 || a->n_questions != b->n_questions ||
        a->n_lessons != b->n_lessons || a->n_media != b->n_media ||
        a->n_checkpoints != b->n_checkpoints || a->n_themes != b->n_themes)
        return 0;
    for (size_t i = 0; i < a->n_themes; i++) {
        if (a->themes[i].count != b->themes[i].count || a->themes[i].run != b->themes[i].run ||
            a->themes[i].first != b->themes[i].first)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* a line without its newline is not whole */
        qk__verified e;
        if (qk__verified_parse(p, (size_t)(nl - p), &e) == QK_OK) {
            qk__buf out = {0};
            qk__verified_format(&out, &e);
            char *line = qk__buf_take(&out);
            if (!line)
                abort();
            size_t len = strlen(line);
            qk__verified again;
            if (len == 0 || line[len - 1] != '\n' ||
                qk__verified_parse(line, len - 1, &again) != QK_OK || !same(&e, &again))
                abort();
            qk__verified_clear(&again);
            free(line);
            qk__verified_clear(&e);
        }
        p = nl + 1;
    }
    return 0;
}
