/* Fuzz target: an acknowledgement file brought back on a USB stick, applied
 * to a real progress file (it must be refused unless validly signed). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qk_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qk_engine *engine;
static char dir[] = "/tmp/qkfuzz-ack-XXXXXX";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine) {
        if (!mkdtemp(dir))
            return 0;
        char db[64];
        snprintf(db, sizeof db, "%s/progress.db", dir);
        if (qk_engine_open(&engine, db, QK_LANG_EN) != QK_OK)
            abort();
    }
    char path[80];
    snprintf(path, sizeof path, "%s/ack.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    int64_t acked = 0, before = 0, last = 0;
    char msg[512], *pem = NULL;
    qk_engine_sync_state(engine, &before, &last);
    int rc = qk_ack_apply(engine, path, NULL, &pem, &acked, msg, sizeof msg);
    free(pem);
    qk_engine_sync_state(engine, &acked, &last);
    /* Nothing but a valid acknowledgement moves the device's state, and the
     * device has written nothing for anyone to acknowledge. */
    if (acked != before || (rc == QK_OK && last != 0))
        abort();
    unlink(path);
    return 0;
}
