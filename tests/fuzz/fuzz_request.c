/* Fuzz target: request bodies as the server reads them from the network.
 * The first byte picks the path: an event upload (plain or gzip, as the
 * Content-Encoding header would say) or a roster CSV, imported into a real
 * in-memory store. */
#include <stdlib.h>
#include <string.h>

#include "qk_server.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char device[] = "01930000-0000-7000-8000-0000000000aa";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[600];
    int forbidden = 0;
    switch (data[0] % 3) {
    case 0:
    case 1: {
        char *plain = NULL;
        size_t plen = len;
        if (data[0] % 3 == 1) {
            if (qk__gunzip(body, len, QK_BATCH_MAX_BYTES, &plain, &plen) != QK_OK)
                return 0;
            body = plain;
        }
        json_t *events = qk__parse_upload(body, plen, device, QK_LANG_EN, why, sizeof why, &forbidden);
        json_decref(events);
        free(plain);
        break;
    }
    default: {
        qk_store *s = NULL;
        if (qk_store_open(&s, "sqlite::memory:", QK_LANG_ZH) == QK_OK &&
            qk_admin_branch_add(s, "b1", "支部") == QK_OK) {
            /* Each valid row costs a PBKDF2 hash: keep inputs to a few rows. */
            size_t added = 0;
            (void)qk_admin_roster_import(s, body, len < 512 ? len : 512, "fuzz.csv", "b1", NULL,
                                         &added);
        }
        qk_store_close(s);
        break;
    }
    }
    return 0;
}
