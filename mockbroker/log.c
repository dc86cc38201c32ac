/* Partition logs: the shelves of a depot. A log is an array of RecordBatches as the leader
 * received them (offsets assigned, bytes otherwise untouched: a compressed batch stays
 * compressed, as Kafka stores it with compression.type=producer), so a broker never does
 * per-record work: appends copy one batch, fetches hand back whole batches. Replica logs share
 * batch objects by reference, so a follower's "copy" costs a pointer and a counter.
 *
 * @locks c->lock MUST be held for every log function except the batch ones. */
#include "mockbroker/mb_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- chunks ------------------------------------------------------------------------------
 * A leader's log copies each batch into a chunk: a block of memory that holds many batches
 * one after the other, so an append is one memcpy into memory already mapped, not a malloc
 * of fresh pages per batch (a 1 MB batch in fresh memory costs 256 page faults, the largest
 * single cost perf showed in the broker threads). Chunks of one log grow by doubling from
 * 64 KiB up to the segment size (at most 4 MiB), so a partition that gets little traffic
 * keeps little memory, and retention, which deletes whole segments, frees whole chunks. A
 * chunk of 2 MiB or more is mapped on its own and faulted in by one madvise call; smaller ones come
 * from malloc, whose heap reuses freed memory. Each batch in a chunk holds a reference on it, and
 * the log holds one on its current chunk. A few freed chunks (16 MiB) are kept for reuse, so a log
 * under retention recycles its memory instead of mapping new pages. */

#define CHUNK_MIN ((size_t)64 << 10)
#define CHUNK_MAX ((size_t)4 << 20)
#define CHUNK_MAP_MIN ((size_t)2 << 20) /* chunks this large are mmap'd */
#define CHUNK_CACHE_BYTES ((size_t)16 << 20)
#define CHUNK_HDR ((sizeof(struct mb_chunk) + 63) & ~(size_t)63)

typedef struct mb_chunk {
    atomic_int refcnt;
    bool mapped;    /* mmap'd, else malloc'd */
    bool cacheable; /* a power-of-two size that the cache may keep */
    size_t size;    /* bytes of the allocation, this header included */
    size_t used;    /* bytes handed out after the header (only the log's appender moves it) */
    struct mb_chunk *next; /* in the cache */
} mb_chunk;

/* Two lists, so that a malloc'd chunk is never reached only through an mmap'd one (which
 * LeakSanitizer does not scan: it reported cached chunks as leaks). */
static pthread_mutex_t chunk_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static mb_chunk *chunk_cache[2]; /* [mapped] */
static size_t chunk_cache_bytes;

static void chunk_release(mb_chunk *k) {
    if (k->mapped)
        munmap(k, k->size);
    else
        free(k);
}

static mb_chunk *chunk_cache_take(size_t size) {
    pthread_mutex_lock(&chunk_cache_lock);
    mb_chunk **pp = &chunk_cache[size >= CHUNK_MAP_MIN];
    while (*pp && (*pp)->size != size)
        pp = &(*pp)->next;
    mb_chunk *k = *pp;
    if (k) {
        *pp = k->next;
        chunk_cache_bytes -= k->size;
    }
    pthread_mutex_unlock(&chunk_cache_lock);
    return k;
}

static void chunk_unref(mb_chunk *k) {
    if (atomic_fetch_sub_explicit(&k->refcnt, 1, memory_order_acq_rel) != 1)
        return;
    if (k->cacheable) {
        pthread_mutex_lock(&chunk_cache_lock);
        bool keep = chunk_cache_bytes + k->size <= CHUNK_CACHE_BYTES;
        if (keep) {
            k->next = chunk_cache[k->mapped];
            chunk_cache[k->mapped] = k;
            chunk_cache_bytes += k->size;
        }
        pthread_mutex_unlock(&chunk_cache_lock);
        if (keep)
            return;
    }
    chunk_release(k);
}

/* A chunk of `size` bytes (header included), refcnt 1; NULL when out of memory. */
static mb_chunk *chunk_new(size_t size, bool cacheable) {
    mb_chunk *k = cacheable ? chunk_cache_take(size) : NULL;
    if (!k) {
        if (size >= CHUNK_MAP_MIN) {
            uint8_t *m =
                mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED)
                return NULL;
#ifdef MADV_POPULATE_WRITE
            /* One call faults the chunk in, instead of one page fault per 4 KiB page as the
             * copies reach it (advice only: older kernels refuse it, then pages fault in as
             * before). Transparent huge pages (MADV_HUGEPAGE) were measured: at 1 KB records
             * with unlimited retention the broker's CPU per MB stored went from ~620 us to
             * ~380 us in most runs, and to 1300-1900 us in others (perf: clear_page on huge
             * pages the hypervisor had not backed yet), so no. */
            madvise(m, size, MADV_POPULATE_WRITE);
#endif
            k = (mb_chunk *)(void *)m;
            k->mapped = true;
        } else {
            k = malloc(size);
            if (!k)
                return NULL;
            k->mapped = false;
        }
        k->size = size;
    }
    atomic_init(&k->refcnt, 1);
    k->cacheable = cacheable;
    k->used = 0;
    k->next = NULL;
    return k;
}

static uint8_t *chunk_mem(mb_chunk *k) {
    return (uint8_t *)k + CHUNK_HDR;
}

/* Copies b's bytes to dst; with crc_unchecked, checks the CRC in the same pass (Kafka's
 * DefaultRecordBatch.ensureValid: from the attributes to the end). */
static bool copy_checked(const mb_batch *b, uint8_t *dst, uint32_t *computed) {
    if (!b->crc_unchecked || b->len < KW_BATCH_ATTR_OFFSET) {
        memcpy(dst, b->data, b->len);
        return true;
    }
    memcpy(dst, b->data, KW_BATCH_ATTR_OFFSET);
    *computed = kw_crc32c_copy(0, dst + KW_BATCH_ATTR_OFFSET, b->data + KW_BATCH_ATTR_OFFSET,
                               b->len - KW_BATCH_ATTR_OFFSET);
    return *computed == b->crc;
}

int mb_log_store(mb_log *l, mb_batch *b, int64_t segment_bytes, uint32_t *computed_crc) {
    if (b->chunk)
        return 0;
    size_t max = CHUNK_MAX;
    if (segment_bytes > 0 && (uint64_t)segment_bytes < CHUNK_MAX)
        for (max = CHUNK_MIN; max < (size_t)segment_bytes;)
            max *= 2;
    size_t need = (b->len + 7) & ~(size_t)7; /* batches start 8-aligned (the CRC likes it) */
    uint32_t computed = b->crc;
    mb_chunk *k = l->chunk;
    if (k && CHUNK_HDR + k->used + need <= k->size) {
        /* fits the current chunk */
    } else if (need > max / 2) {
        /* A batch as large as half a chunk gets a chunk of its own. */
        k = chunk_new(CHUNK_HDR + need, false);
        if (!k)
            return -1;
        if (!copy_checked(b, chunk_mem(k), &computed)) {
            chunk_release(k);
            *computed_crc = computed;
            return -2;
        }
        k->used = need;
        b->data = chunk_mem(k);
        b->chunk = k; /* the chunk's one reference */
        b->crc_unchecked = false;
        return 0;
    } else {
        size_t size = l->chunk_next ? l->chunk_next : CHUNK_MIN;
        if (size > max)
            size = max;
        while (size < CHUNK_HDR + need)
            size *= 2;
        k = chunk_new(size, true);
        if (!k)
            return -1;
        if (l->chunk)
            chunk_unref(l->chunk);
        l->chunk = k; /* the log's reference */
        l->chunk_next = size < CHUNK_MAX ? size * 2 : CHUNK_MAX;
    }
    uint8_t *dst = chunk_mem(k) + k->used;
    if (!copy_checked(b, dst, &computed)) {
        *computed_crc = computed; /* nothing taken: the space is used by the next batch */
        return -2;
    }
    k->used += need;
    atomic_fetch_add_explicit(&k->refcnt, 1, memory_order_relaxed);
    b->data = dst;
    b->chunk = k;
    b->crc_unchecked = false;
    return 0;
}

/* ---- batches ----------------------------------------------------------------------------- */

mb_batch *mb_batch_new(const uint8_t *p, size_t len) {
    mb_batch *b = malloc(sizeof *b + len);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    atomic_init(&b->refcnt, 1);
    b->len = len;
    b->data = (uint8_t *)(b + 1);
    memcpy(b->data, p, len);
    return b;
}

mb_batch *mb_batch_borrow(const uint8_t *p, size_t len) {
    mb_batch *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    atomic_init(&b->refcnt, 1);
    b->len = len;
    b->data = (uint8_t *)(uintptr_t)p; /* read only until mb_log_store copies it */
    return b;
}

void mb_batch_ref(mb_batch *b) {
    atomic_fetch_add_explicit(&b->refcnt, 1, memory_order_relaxed);
}

void mb_batch_unref(mb_batch *b) {
    if (b && atomic_fetch_sub_explicit(&b->refcnt, 1, memory_order_acq_rel) == 1) {
        if (b->chunk)
            chunk_unref(b->chunk);
        free(b);
    }
}

void mb_log_free(mb_log *l) {
    for (size_t i = 0; i < l->n; i++)
        mb_batch_unref(l->v[i]);
    if (l->chunk)
        chunk_unref(l->chunk);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Recomputes the segment counters from the batches (after a truncation or a deletion). */
static void log_recount(mb_log *l) {
    l->nseg = 0;
    l->first_seg_n = 0;
    l->first_seg_bytes = l->seg_bytes = 0;
    l->seg_first_us = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mb_batch *b = l->v[i];
        if (i == 0 || b->seg_first) {
            l->nseg++;
            l->seg_bytes = 0;
            l->seg_first_us = b->append_time_us;
        }
        l->seg_bytes += (int64_t)b->len;
        if (l->nseg == 1) {
            l->first_seg_n++;
            l->first_seg_bytes += (int64_t)b->len;
        }
    }
}

void mb_log_roll(const mb_log *l, mb_batch *b, int64_t segment_bytes, int64_t segment_ms) {
    /* Kafka's LocalLog.shouldRoll: the segment would grow past segment.bytes, or its first
     * batch is older than segment.ms. */
    b->seg_first = l->n == 0 ||
                   (segment_bytes > 0 && l->seg_bytes + (int64_t)b->len > segment_bytes) ||
                   (segment_ms > 0 && b->append_time_us - l->seg_first_us >= segment_ms * 1000);
}

int64_t mb_log_drop_before(mb_log *l, int64_t start) {
    size_t k = 0;
    int64_t records = 0;
    while (k < l->n && l->v[k]->base_offset < start) {
        mb_batch *b = l->v[k++];
        records += b->last_offset - b->base_offset + 1;
        l->bytes -= (int64_t)b->len;
        l->raw_bytes -= mb_batch_raw_len(b);
        l->deleted_bytes += (int64_t)b->len;
        mb_batch_unref(b);
    }
    if (k > 0) {
        memmove(l->v, l->v + k, (l->n - k) * sizeof *l->v);
        l->n -= k;
    }
    l->deleted_records += records;
    if (start > l->start)
        l->start = start;
    if (l->end < l->start)
        l->end = l->start;
    log_recount(l);
    return records;
}

bool mb_log_append(mb_log *l, mb_batch *b) {
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        mb_batch **nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return false;
        l->v = nv;
        l->cap = ncap;
    }
    mb_batch_ref(b);
    l->v[l->n++] = b;
    l->end = b->last_offset + 1;
    l->bytes += (int64_t)b->len;
    l->raw_bytes += mb_batch_raw_len(b);
    if (l->n == 1 || b->seg_first) {
        l->nseg++;
        l->seg_bytes = 0;
        l->seg_first_us = b->append_time_us;
    }
    l->seg_bytes += (int64_t)b->len;
    if (l->nseg == 1) {
        l->first_seg_n++;
        l->first_seg_bytes += (int64_t)b->len;
    }
    return true;
}

size_t mb_log_find(const mb_log *l, int64_t offset) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid]->last_offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void mb_log_truncate_index(mb_log *l, size_t i) {
    if (i >= l->n)
        return;
    l->end = l->v[i]->base_offset;
    for (size_t k = i; k < l->n; k++) {
        l->bytes -= (int64_t)l->v[k]->len;
        l->raw_bytes -= mb_batch_raw_len(l->v[k]);
        mb_batch_unref(l->v[k]);
    }
    l->n = i;
    log_recount(l);
}

/* Logs of one partition only ever share a prefix (a follower copies from the leader of the
 * epoch; a new leader's log is the truth), so the first differing batch can be found by
 * binary search. */
size_t mb_log_common_prefix(const mb_log *a, const mb_log *b) {
    size_t lo = 0, hi = a->n < b->n ? a->n : b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid] == b->v[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
