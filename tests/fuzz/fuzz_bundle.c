/* Fuzz target: a bundle file from anywhere (a USB stick, a download). The input
 * is written to a temporary file, opened, verified and read in full; and the
 * same bytes opened from memory, as a server opens an upload and the bundles
 * it keeps in its database. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "quizkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(qk_bundle *b)
{
    (void)qk_bundle_verify(b);
    char **ids = NULL;
    size_t n = 0;
    if (qk_bundle_question_ids(b, NULL, &ids, &n) == QK_OK) {
        for (size_t i = 0; i < n && i < 100; i++) {
            qk_question *q = NULL;
            if (qk_bundle_question(b, ids[i], &q) == QK_OK) {
                char *t = NULL;
                if (qk_question_answer_text(&t, q, NULL, QK_LANG_ZH) == QK_OK)
                    free(t);
                qk_question_free(q);
            }
        }
        qk_strv_free(ids, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/qkfuzz-bundle-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    qk_bundle *b = NULL;
    if (qk_bundle_open(&b, path, 0, QK_LANG_EN) == QK_OK)
        read_all(b);
    qk_bundle_close(b);
    unlink(path);
    b = NULL;
    if (qk_bundle_open_memory(&b, data, size, "upload.qkb", QK_BUNDLE_VERIFY, QK_LANG_EN) == QK_OK)
        read_all(b);
    qk_bundle_close(b);
    return 0;
}
