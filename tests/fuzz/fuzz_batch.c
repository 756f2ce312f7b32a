/* Fuzz target: a batch file arriving on a USB stick, imported into a real
 * (temporary) server store. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qk_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/qkfuzz-batch-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    qk_store *s = NULL;
    if (qk_store_open(&s, "sqlite::memory:", QK_LANG_EN) == QK_OK) {
        qk_import_result r;
        (void)qk_store_import(s, path, &r);
    }
    qk_store_close(s);
    unlink(path);
    return 0;
}
