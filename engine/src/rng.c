/* rng.c: seeded CTR_DRBG (mbedTLS) for reproducible draws, OS entropy for ids.
 *
 * Reproducibility across mbedTLS versions: the entropy and nonce lengths are
 * pinned (48 and 0 bytes) instead of taken from the library's defaults, and the
 * "entropy" for a seeded generator is a SHA-256 stream of the seed, so the same
 * seed gives the same bytes on a phone and on the server. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>

#include "internal.h"

#define QK_RNG_ENTROPY_LEN 48

struct qk_rng {
    mbedtls_ctr_drbg_context drbg;
    /* Seed stream state, used only while seeding. */
    unsigned char seed_bytes[8];
    uint32_t block;
    unsigned char pending[32];
    size_t pending_left;
};

/* Deterministic entropy: block i is SHA-256("quizkit-seed" || seed || i). */
static int seed_stream(void *payload, unsigned char *out, size_t len)
{
    qk_rng *r = payload;
    while (len > 0) {
        if (r->pending_left == 0) {
            unsigned char in[12 + 8 + 4];
            memcpy(in, "quizkit-seed", 12);
            memcpy(in + 12, r->seed_bytes, 8);
            for (int i = 0; i < 4; i++)
                in[20 + i] = (unsigned char)(r->block >> (24 - 8 * i));
            r->block++;
            qk__sha256(in, sizeof in, r->pending);
            r->pending_left = 32;
        }
        size_t take = len < r->pending_left ? len : r->pending_left;
        memcpy(out, r->pending + (32 - r->pending_left), take);
        r->pending_left -= take;
        out += take;
        len -= take;
    }
    return 0;
}

static int os_entropy(void *payload, unsigned char *out, size_t len)
{
    (void)payload;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, out + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    return 0;
}

static int rng_new(qk_rng **out, int (*entropy)(void *, unsigned char *, size_t), uint64_t seed)
{
    *out = NULL;
    qk_rng *r = calloc(1, sizeof *r);
    if (!r)
        return QK_ENOMEM;
    for (int i = 0; i < 8; i++)
        r->seed_bytes[i] = (unsigned char)(seed >> (56 - 8 * i));
    mbedtls_ctr_drbg_init(&r->drbg);
    mbedtls_ctr_drbg_set_entropy_len(&r->drbg, QK_RNG_ENTROPY_LEN);
    if (mbedtls_ctr_drbg_set_nonce_len(&r->drbg, 0) != 0 ||
        mbedtls_ctr_drbg_seed(&r->drbg, entropy, r, (const unsigned char *)"quizkit", 7) != 0) {
        qk_rng_free(r);
        return QK_EIO;
    }
    /* A seeded generator must never reseed from anything but its seed. */
    mbedtls_ctr_drbg_set_reseed_interval(&r->drbg, 0x7fffffff);
    *out = r;
    return QK_OK;
}

int qk_rng_new_seeded(qk_rng **out, uint64_t seed)
{
    return rng_new(out, seed_stream, seed);
}

int qk_rng_new_random(qk_rng **out)
{
    return rng_new(out, os_entropy, 0);
}

int qk_rng_os_seed(uint64_t *out)
{
    unsigned char b[8];
    if (os_entropy(NULL, b, sizeof b) != 0)
        return QK_EIO;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    *out = v;
    return QK_OK;
}

int qk_rng_bytes(qk_rng *rng, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        size_t chunk = n < MBEDTLS_CTR_DRBG_MAX_REQUEST ? n : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&rng->drbg, p, chunk) != 0)
            return QK_EIO;
        p += chunk;
        n -= chunk;
    }
    return QK_OK;
}

int qk_rng_below(qk_rng *rng, uint32_t n, uint32_t *out)
{
    if (n == 0)
        return QK_EINVAL;
    /* Rejection sampling: values in the last partial range would bias the result. */
    uint32_t limit = UINT32_MAX - (UINT32_MAX % n);
    for (;;) {
        unsigned char b[4];
        int rc = qk_rng_bytes(rng, b, 4);
        if (rc != QK_OK)
            return rc;
        uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (v < limit) {
            *out = v % n;
            return QK_OK;
        }
    }
}

int qk_rng_shuffle(qk_rng *rng, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        uint32_t j;
        int rc = qk_rng_below(rng, (uint32_t)i, &j);
        if (rc != QK_OK)
            return rc;
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    return QK_OK;
}

void qk_rng_free(qk_rng *rng)
{
    if (!rng)
        return;
    mbedtls_ctr_drbg_free(&rng->drbg);
    free(rng);
}
