/* sha256.c: SHA-256 for the engine, in mbedTLS or on the CPU's SHA
 * instructions.
 *
 * Verifying a bundle is SHA-256 over a stream a little larger than the file
 * (every value tagged and length-prefixed). mbedTLS 2.x computes SHA-256 in
 * portable C, about 200 MB/s here; x86-64 CPUs since about 2017 (Intel
 * Goldmont and Ice Lake, AMD Zen) have instructions for it that run about
 * five times faster. A bulk hasher (qk__sha256_init_bulk) told the CPU has
 * them runs its whole blocks through them, the rounds arranged as in Intel's "SHA
 * Extensions" paper; every other hasher is mbedTLS. The digest is SHA-256
 * either way: engine/bundle checks one against the other over many lengths
 * and splits, and against the FIPS 180-2 answer for "abc". */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define QK__SHA_NI 1

/* SHA, SSSE3 and SSE4.1 (the shuffles and blends the rounds use). Asked by
 * each caller that hashes much (a bundle's digests), never kept in a global,
 * which the engine has none of: in a virtual machine the question costs a
 * few microseconds, so short hashes never ask it. */
static int cpu_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}

/* The round constants: the first 32 bits of the fractional parts of the
 * cube roots of the first 64 primes (FIPS 180-4, 4.2.2). */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* n 64-byte blocks into state. The message words w[0..3] hold four words
 * each; group g (rounds 4g..4g+3) adds the constants to w[g % 4], runs two
 * double rounds, and extends the schedule: msg2 finishes the words of the
 * next group from g = 3 to 14, msg1 starts those three groups ahead from
 * g = 1 to 12. */
__attribute__((target("sha,ssse3,sse4.1"))) static void
sha_ni_blocks(uint32_t state[8], const unsigned char *p, size_t n)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)(const void *)&state[0]);
    __m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);       /* CDAB */
    s1 = _mm_shuffle_epi32(s1, 0x1B);         /* EFGH */
    __m128i s0 = _mm_alignr_epi8(tmp, s1, 8); /* ABEF */
    s1 = _mm_blend_epi16(s1, tmp, 0xF0);      /* CDGH */
    for (; n > 0; n--, p += 64) {
        __m128i abef = s0, cdgh = s1, w[4];
        /* unrolled, w[] lives in registers */
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            if (g < 4)
                w[g] = _mm_shuffle_epi8(
                    _mm_loadu_si128((const __m128i *)(const void *)(p + (size_t)16 * (size_t)g)), bswap);
            __m128i m = _mm_add_epi32(
                w[g % 4], _mm_loadu_si128((const __m128i *)(const void *)&sha_k[(size_t)4 * (size_t)g]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, m);
            if (g >= 3 && g <= 14) {
                __m128i next =
                    _mm_add_epi32(w[(g + 1) % 4], _mm_alignr_epi8(w[g % 4], w[(g + 3) % 4], 4));
                w[(g + 1) % 4] = _mm_sha256msg2_epu32(next, w[g % 4]);
            }
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
            if (g >= 1 && g <= 12)
                w[(g + 3) % 4] = _mm_sha256msg1_epu32(w[(g + 3) % 4], w[g % 4]);
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    tmp = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);    /* DCHG */
    s0 = _mm_blend_epi16(tmp, s1, 0xF0); /* DCBA */
    s1 = _mm_alignr_epi8(s1, tmp, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)(void *)&state[0], s0);
    _mm_storeu_si128((__m128i *)(void *)&state[4], s1);
}
#endif

void qk__sha256_init(qk_sha256 *h)
{
    h->cpu = 0;
    mbedtls_sha256_init(&h->ctx);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_starts(&h->ctx, 0);
#else
    mbedtls_sha256_starts_ret(&h->ctx, 0);
#endif
}

int qk__sha256_cpu(void)
{
#ifdef QK__SHA_NI
    return cpu_has_sha();
#else
    return 0;
#endif
}

void qk__sha256_init_bulk(qk_sha256 *h, int cpu)
{
    qk__sha256_init(h);
#ifdef QK__SHA_NI
    if (cpu) {
        /* the initial hash value (FIPS 180-4, 5.3.3) */
        static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(h->state, iv, sizeof iv);
        h->total = 0;
        h->part_len = 0;
        h->cpu = 1;
    }
#else
    (void)cpu;
#endif
}

void qk_sha256_add(qk_sha256 *h, const void *data, size_t len)
{
#ifdef QK__SHA_NI
    if (h->cpu) {
        const unsigned char *p = data;
        h->total += len;
        if (h->part_len) {
            size_t k = 64 - h->part_len < len ? 64 - h->part_len : len;
            memcpy(h->part + h->part_len, p, k);
            h->part_len += k;
            p += k;
            len -= k;
            if (h->part_len < 64)
                return;
            sha_ni_blocks(h->state, h->part, 1);
            h->part_len = 0;
        }
        if (len >= 64)
            sha_ni_blocks(h->state, p, len / 64);
        memcpy(h->part, p + (len & ~(size_t)63), len & 63);
        h->part_len = len & 63;
        return;
    }
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_update(&h->ctx, data, len);
#else
    mbedtls_sha256_update_ret(&h->ctx, data, len);
#endif
}

void qk__sha256_final(qk_sha256 *h, unsigned char out[32])
{
#ifdef QK__SHA_NI
    if (h->cpu) {
        /* the padding: 0x80, zeros, the length in bits, to a whole block */
        unsigned char last[128] = {0};
        uint64_t bits = h->total * 8;
        size_t n = h->part_len + 9 > 64 ? 128 : 64;
        memcpy(last, h->part, h->part_len);
        last[h->part_len] = 0x80;
        for (int i = 0; i < 8; i++)
            last[n - 1 - i] = (unsigned char)(bits >> (8 * i));
        sha_ni_blocks(h->state, last, n / 64);
        for (size_t i = 0; i < 8; i++) {
            out[4 * i] = (unsigned char)(h->state[i] >> 24);
            out[4 * i + 1] = (unsigned char)(h->state[i] >> 16);
            out[4 * i + 2] = (unsigned char)(h->state[i] >> 8);
            out[4 * i + 3] = (unsigned char)h->state[i];
        }
        mbedtls_sha256_free(&h->ctx);
        return;
    }
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_sha256_finish(&h->ctx, out);
#else
    mbedtls_sha256_finish_ret(&h->ctx, out);
#endif
    mbedtls_sha256_free(&h->ctx);
}

void qk__sha256(const void *p, size_t n, unsigned char out[32])
{
    qk_sha256 h;
    qk__sha256_init(&h);
    qk_sha256_add(&h, p, n);
    qk__sha256_final(&h, out);
}

qk_sha256 *qk_sha256_begin(void)
{
    /* parts are for long data (a request's body): the CPU's instructions */
    qk_sha256 *h = malloc(sizeof *h);
    if (h)
        qk__sha256_init_bulk(h, qk__sha256_cpu());
    return h;
}

void qk_sha256_end(qk_sha256 *h, char out[65])
{
    unsigned char sum[32];
    qk__sha256_final(h, sum);
    free(h);
    qk__hex_encode(out, 65, sum, 32);
}

void qk_sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char sum[32];
    qk__sha256(data, len, sum);
    qk__hex_encode(out, 65, sum, 32);
}
