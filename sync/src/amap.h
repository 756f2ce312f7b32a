/* amap.h: a hash map from a byte key to a row of cells, for sums taken in C
 * (the statistics' roll-ups, stats_rollup.c; the item analysis, stats.c).
 * Internal to sync/. */
#ifndef QK_AMAP_H
#define QK_AMAP_H

#include <stddef.h>
#include <stdint.h>

typedef union qk__cell {
    int64_t i;
    double d;
} qk__cell;

/* Each row is one record in an arena: its hash, its key's length, the key,
 * then (8-aligned) its cells; a slot holds the hash's top half and the
 * record's place, so that a probe that misses touches the slot only and a
 * hit one record (the map's cost is its cache misses: 1M events make 3M
 * look-ups). Set nv (cells per row) and zero the rest before use. */
typedef struct qk__amap {
    unsigned nv;    /* cells per row */
    size_t n, cap;  /* rows; slots (a power of two, or 0) */
    uint64_t *slot; /* hash >> 32 << 32 | (record offset / 8 + 1); 0 when empty */
    size_t *rec;    /* each row's record offset, in order of arrival */
    size_t rcap;
    unsigned char *arena; /* the records */
    size_t alen, acap;
} qk__amap;

/* p grown (realloc) to hold need bytes, its capacity doubled from first;
 * NULL out of memory, p and *cap then as they were. */
void *qk__grown(void *p, size_t *cap, size_t need, size_t first);

/* The row of key k, added with its cells zero when new; NULL when out of
 * memory. The pointer holds until the map's next qk__amap_get. */
qk__cell *qk__amap_get(qk__amap *m, const unsigned char *k, size_t kn);
/* The row of key k, or NULL. */
qk__cell *qk__amap_find(const qk__amap *m, const unsigned char *k, size_t kn);
/* A record's key (at offset off, as in m->rec) and its length; its cells. */
const unsigned char *qk__rec_key(const qk__amap *m, size_t off, uint32_t *len);
qk__cell *qk__rec_cells(const qk__amap *m, size_t off);
/* Empties the map, keeping its memory. */
void qk__amap_clear(qk__amap *m);
void qk__amap_free(qk__amap *m);

#endif
