/* uuid.c: UUID version 7 (RFC 9562 section 5.7) with a per-millisecond counter
 * in rand_a (section 6.2, method 1) so ids made by one generator sort in the
 * order they were made. */
#include <string.h>

#include "internal.h"

void qk_uuid_v7(qk_uuid_gen *gen, uint64_t unix_ms, const uint8_t rnd[10],
                char out[QK_UUID_STRLEN + 1])
{
    if (unix_ms > gen->last_ms) {
        gen->last_ms = unix_ms;
        /* Start the counter low in its range so that many ids fit in one ms. */
        gen->counter = ((uint32_t)rnd[8] << 8 | rnd[9]) & 0x1ff;
    } else if (++gen->counter > 0xfff) {
        /* Counter exhausted or clock went back: borrow the next millisecond. */
        gen->last_ms++;
        gen->counter = 0;
    }
    uint64_t ms = gen->last_ms;
    uint8_t b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | ((gen->counter >> 8) & 0x0f));
    b[7] = (uint8_t)(gen->counter & 0xff);
    memcpy(b + 8, rnd, 8);
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));

    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

int qk_uuid_is_v7(const char *s)
{
    if (!s || strlen(s) != QK_UUID_STRLEN)
        return 0;
    for (int i = 0; i < QK_UUID_STRLEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return s[14] == '7' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}
