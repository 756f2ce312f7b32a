/* amap.c: a hash map from a byte key to a row of cells (amap.h). */
#include "amap.h"

#include <stdlib.h>
#include <string.h>

#define REC_KEY 12 /* uint64_t hash, uint32_t key length */
#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

void *qk__grown(void *p, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *np = realloc(p, c);
    if (np)
        *cap = c;
    return np;
}

static uint64_t fnv1a(const unsigned char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29); /* the slot's index takes the low bits */
}

static uint64_t rec_hash(const qk__amap *m, size_t off)
{
    uint64_t h;
    memcpy(&h, m->arena + off, sizeof h);
    return h;
}

const unsigned char *qk__rec_key(const qk__amap *m, size_t off, uint32_t *len)
{
    memcpy(len, m->arena + off + 8, sizeof *len);
    return m->arena + off + REC_KEY;
}

qk__cell *qk__rec_cells(const qk__amap *m, size_t off)
{
    uint32_t len;
    qk__rec_key(m, off, &len);
    return (qk__cell *)(void *)(m->arena + off + ALIGN8(REC_KEY + (size_t)len));
}

static uint64_t slot_of(uint64_t h, size_t off)
{
    return (h >> 32 << 32) | (uint64_t)(off / 8 + 1);
}

static int grow_slots(qk__amap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (size_t r = 0; r < m->n; r++) {
        uint64_t h = rec_hash(m, m->rec[r]);
        size_t i = (size_t)h & (cap - 1);
        while (s[i])
            i = (i + 1) & (cap - 1);
        s[i] = slot_of(h, m->rec[r]);
    }
    free(m->slot);
    m->slot = s;
    m->cap = cap;
    return 0;
}

/* The slot where key k is, or the empty one where it would go. */
static size_t probe(const qk__amap *m, const unsigned char *k, size_t kn, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (; m->slot[i]; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i] >> 32 != h >> 32)
            continue;
        size_t off = (size_t)((m->slot[i] & 0xffffffffu) - 1) * 8;
        uint32_t len;
        const unsigned char *rk = qk__rec_key(m, off, &len);
        if (len == kn && memcmp(rk, k, kn) == 0)
            break;
    }
    return i;
}

qk__cell *qk__amap_get(qk__amap *m, const unsigned char *k, size_t kn)
{
    if (kn > UINT32_MAX / 2)
        return NULL;
    if (2 * (m->n + 1) > m->cap && grow_slots(m))
        return NULL;
    uint64_t h = fnv1a(k, kn);
    size_t i = probe(m, k, kn, h);
    if (m->slot[i])
        return qk__rec_cells(m, (size_t)((m->slot[i] & 0xffffffffu) - 1) * 8);
    size_t need = ALIGN8(REC_KEY + kn) + m->nv * sizeof(qk__cell);
    unsigned char *na = qk__grown(m->arena, &m->acap, m->alen + need, 65536);
    if (!na)
        return NULL;
    m->arena = na;
    if (m->n == m->rcap) {
        size_t rc = m->rcap ? m->rcap * 2 : 1024;
        size_t *nr = realloc(m->rec, rc * sizeof *nr);
        if (!nr)
            return NULL;
        m->rec = nr;
        m->rcap = rc;
    }
    size_t off = m->alen;
    if (off / 8 + 1 > UINT32_MAX)
        return NULL; /* 32 GB of rows: flushed long before */
    uint32_t len = (uint32_t)kn;
    memcpy(m->arena + off, &h, sizeof h);
    memcpy(m->arena + off + 8, &len, sizeof len);
    memcpy(m->arena + off + REC_KEY, k, kn);
    m->alen += need;
    m->rec[m->n++] = off;
    m->slot[i] = slot_of(h, off);
    qk__cell *c = qk__rec_cells(m, off);
    memset(c, 0, m->nv * sizeof(qk__cell));
    return c;
}

qk__cell *qk__amap_find(const qk__amap *m, const unsigned char *k, size_t kn)
{
    if (!m->cap)
        return NULL;
    size_t i = probe(m, k, kn, fnv1a(k, kn));
    return m->slot[i] ? qk__rec_cells(m, (size_t)((m->slot[i] & 0xffffffffu) - 1) * 8) : NULL;
}

void qk__amap_clear(qk__amap *m)
{
    if (m->slot)
        memset(m->slot, 0, m->cap * sizeof *m->slot);
    m->n = 0;
    m->alen = 0;
}

void qk__amap_free(qk__amap *m)
{
    free(m->slot);
    free(m->rec);
    free(m->arena);
}
