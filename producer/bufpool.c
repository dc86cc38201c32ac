/* The crate store: Java's BufferPool. buffer.memory bytes in all; buffers of exactly
 * batch.size ("poolable") are kept on a free list for reuse, other sizes come from and go back
 * to the non-pooled budget. When memory runs out, allocating threads queue FIFO, each on its
 * own condition variable, for up to max.block.ms (producer clock). */
#include "producer/kp_int.h"

#include <stdlib.h>
#include <string.h>

kw_err kp_bufpool_init(kp_bufpool *bp, int64_t total, int32_t poolable, const kw_clock *clock) {
    memset(bp, 0, sizeof *bp);
    pthread_mutex_init(&bp->lock, NULL);
    bp->total = total;
    bp->poolable = poolable;
    bp->non_pooled_available = total;
    bp->clock = clock ? clock : kw_clock_monotonic();
    atomic_init(&bp->wait_time_ns_total, 0);
    return KW_ERR_NONE;
}

void kp_bufpool_destroy(kp_bufpool *bp) {
    for (int32_t i = 0; i < bp->n_free; i++)
        free(bp->free_bufs[i]);
    free(bp->free_bufs);
    pthread_mutex_destroy(&bp->lock);
}

/* Moves free-list buffers into the non-pooled budget until size bytes are there.
 * @locks bp->lock MUST be held. */
static void free_up(kp_bufpool *bp, int64_t size) {
    while (bp->n_free > 0 && bp->non_pooled_available < size) {
        free(bp->free_bufs[--bp->n_free]);
        bp->non_pooled_available += bp->poolable;
    }
}

/* Wakes the first waiter when memory is available. @locks bp->lock MUST be held. */
static void signal_head(kp_bufpool *bp) {
    if (bp->wait_head && (bp->non_pooled_available > 0 || bp->n_free > 0))
        pthread_cond_signal(&bp->wait_head->cv);
}

uint8_t *kp_bufpool_try_allocate(kp_bufpool *bp, int32_t size) {
    if (size <= 0 || size > bp->total)
        return NULL;
    pthread_mutex_lock(&bp->lock);
    if (bp->closed) {
        pthread_mutex_unlock(&bp->lock);
        return NULL;
    }
    if (size == bp->poolable && bp->n_free > 0) {
        uint8_t *b = bp->free_bufs[--bp->n_free];
        pthread_mutex_unlock(&bp->lock);
        return b;
    }
    int64_t free_list = (int64_t)bp->n_free * bp->poolable;
    if (bp->non_pooled_available + free_list >= size && !bp->wait_head) {
        free_up(bp, size);
        bp->non_pooled_available -= size;
        pthread_mutex_unlock(&bp->lock);
        uint8_t *b = malloc((size_t)size);
        if (!b) {
            pthread_mutex_lock(&bp->lock);
            bp->non_pooled_available += size;
            pthread_mutex_unlock(&bp->lock);
        }
        return b;
    }
    pthread_mutex_unlock(&bp->lock);
    return NULL;
}

static void remove_waiter(kp_bufpool *bp, kp_pool_waiter *w) {
    kp_pool_waiter **pp = &bp->wait_head;
    kp_pool_waiter *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = w->next;
        if (bp->wait_tail == w)
            bp->wait_tail = prev;
        bp->n_waiters--;
    }
}

kw_err kp_bufpool_allocate(kp_bufpool *bp, int32_t size, int64_t max_block_ms, uint8_t **out) {
    *out = NULL;
    if (size <= 0 || size > bp->total)
        return KW_ERR__INVALID_ARG;
    uint8_t *buf = NULL;
    kw_err err = KW_ERR_NONE;
    pthread_mutex_lock(&bp->lock);
    if (bp->closed) {
        pthread_mutex_unlock(&bp->lock);
        return KW_ERR__INTERRUPTED;
    }
    if (size == bp->poolable && bp->n_free > 0) {
        buf = bp->free_bufs[--bp->n_free];
        signal_head(bp);
        pthread_mutex_unlock(&bp->lock);
        *out = buf;
        return KW_ERR_NONE;
    }
    int64_t free_list = (int64_t)bp->n_free * bp->poolable;
    if (bp->non_pooled_available + free_list >= size) {
        free_up(bp, size);
        bp->non_pooled_available -= size;
    } else {
        /* Out of memory: queue and take memory as it is freed, FIFO. */
        kp_pool_waiter w = {.next = NULL, .granted = false};
        kp_cond_init(&w.cv);
        /* The waiter lives on this stack frame; it is unlinked before the function returns. */
        if (bp->wait_tail)
            bp->wait_tail->next = &w;
        else
            bp->wait_head = &w; // cppcheck-suppress autoVariables
        bp->wait_tail = &w;     // cppcheck-suppress autoVariables
        bp->n_waiters++;
        int64_t accumulated = 0;
        int64_t start_us = kw_clock_now_us(bp->clock);
        int64_t deadline_ms = start_us / 1000 + max_block_ms;
        while (accumulated < size) {
            if (bp->closed) {
                err = KW_ERR__INTERRUPTED;
                break;
            }
            bool at_head = bp->wait_head == &w;
            if (at_head) {
                if (accumulated == 0 && size == bp->poolable && bp->n_free > 0) {
                    buf = bp->free_bufs[--bp->n_free];
                    accumulated = size;
                    break;
                }
                free_up(bp, size - accumulated);
                int64_t got = bp->non_pooled_available < size - accumulated
                                  ? bp->non_pooled_available
                                  : size - accumulated;
                bp->non_pooled_available -= got;
                accumulated += got;
                if (accumulated >= size)
                    break;
            }
            if (kw_clock_now_ms(bp->clock) >= deadline_ms) {
                err = KW_ERR__BUFFER_EXHAUSTED;
                break;
            }
            kp_cond_wait_until(bp->clock, &w.cv, &bp->lock, deadline_ms);
        }
        int64_t waited_ns = (kw_clock_now_us(bp->clock) - start_us) * 1000;
        atomic_fetch_add(&bp->wait_time_ns_total, waited_ns);
        remove_waiter(bp, &w);
        pthread_cond_destroy(&w.cv);
        if (err != KW_ERR_NONE) {
            bp->non_pooled_available += accumulated; /* give back what we took */
            signal_head(bp);
            pthread_mutex_unlock(&bp->lock);
            return err;
        }
    }
    signal_head(bp);
    pthread_mutex_unlock(&bp->lock);
    if (!buf) {
        buf = malloc((size_t)size);
        if (!buf) {
            kp_bufpool_deallocate(bp, NULL, size);
            return KW_ERR__NO_MEMORY;
        }
    }
    *out = buf;
    return KW_ERR_NONE;
}

void kp_bufpool_deallocate(kp_bufpool *bp, uint8_t *buf, int32_t size) {
    pthread_mutex_lock(&bp->lock);
    if (buf && size == bp->poolable) {
        (void)kw_grow(&bp->free_bufs, bp->n_free, &bp->cap_free, sizeof *bp->free_bufs, 64);
        if (bp->n_free < bp->cap_free) {
            bp->free_bufs[bp->n_free++] = buf;
            buf = NULL;
        } else {
            bp->non_pooled_available += size;
        }
    } else {
        bp->non_pooled_available += size;
    }
    signal_head(bp);
    pthread_mutex_unlock(&bp->lock);
    free(buf);
}

void kp_bufpool_close(kp_bufpool *bp) {
    pthread_mutex_lock(&bp->lock);
    bp->closed = true;
    for (kp_pool_waiter *w = bp->wait_head; w; w = w->next)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&bp->lock);
}

int64_t kp_bufpool_available(kp_bufpool *bp) {
    pthread_mutex_lock(&bp->lock);
    int64_t v = bp->non_pooled_available + (int64_t)bp->n_free * bp->poolable;
    pthread_mutex_unlock(&bp->lock);
    return v;
}

int32_t kp_bufpool_queued(kp_bufpool *bp) {
    pthread_mutex_lock(&bp->lock);
    int32_t v = bp->n_waiters;
    pthread_mutex_unlock(&bp->lock);
    return v;
}

void kp_bufpool_stats(kp_bufpool *bp, int64_t *available, int64_t *pooled_free, int32_t *waiters) {
    pthread_mutex_lock(&bp->lock);
    *available = bp->non_pooled_available + (int64_t)bp->n_free * bp->poolable;
    *pooled_free = (int64_t)bp->n_free * bp->poolable;
    *waiters = bp->n_waiters;
    pthread_mutex_unlock(&bp->lock);
}
