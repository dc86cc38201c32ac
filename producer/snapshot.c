/* The window onto the floor: a copy of the pipeline for the view. Each partition deque is
 * copied under its own lock, the pool under its lock, the connections under the network
 * lock and the metadata from its immutable cluster picture: no lock is held for long and
 * none is held while another is taken, so the pipeline never stalls on the view. */
#include "producer/kp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kw_err kp_snapshot(kp_producer *p, kp_snap *out) {
    memset(out, 0, sizeof *out);
    int64_t now_us = kp_now_us(p);
    int64_t now = now_us / 1000;
    out->time_us = now_us;

    /* the accumulator, one deque at a time */
    pthread_rwlock_rdlock(&p->accum.map_lock);
    int32_t n = p->accum.n_all;
    kp_tp **tps = malloc((size_t)(n ? n : 1) * sizeof *tps);
    if (tps && n > 0)
        memcpy(tps, p->accum.all, (size_t)n * sizeof *tps);
    pthread_rwlock_unlock(&p->accum.map_lock);
    out->partitions = calloc((size_t)(n ? n : 1), sizeof *out->partitions);
    if (!tps || !out->partitions) {
        free(tps);
        kp_snapshot_free(out);
        return KW_ERR__NO_MEMORY;
    }
    for (int32_t i = 0; i < n; i++) {
        kp_tp *tp = tps[i]; /* deques are never freed while the producer lives */
        kp_snap_partition *sp = &out->partitions[out->n_partitions++];
        snprintf(sp->topic, sizeof sp->topic, "%s", tp->topic);
        sp->partition = tp->partition;
        sp->leader = atomic_load(&tp->leader);
        sp->muted = atomic_load(&tp->muted);
        sp->in_flight = atomic_load(&tp->in_flight);
        sp->next_sequence = atomic_load(&tp->next_seq);
        pthread_mutex_lock(&tp->lock);
        int32_t nb = tp->n_batches;
        sp->batches = calloc((size_t)(nb ? nb : 1), sizeof *sp->batches);
        for (kp_batch *b = tp->head; b && sp->batches && sp->n_batches < nb; b = b->next) {
            kp_snap_batch *sb = &sp->batches[sp->n_batches++];
            sb->batch_id = b->id;
            sb->record_count = b->n_thunks;
            sb->bytes = (int32_t)kp_batch_estimated_size(b);
            sb->raw_bytes = (int32_t)(b->closed ? b->raw_size : b->w.len);
            sb->codec = (int8_t)b->codec;
            sb->capacity = b->cap;
            sb->age_ms = now - b->created_ms;
            sb->linger_ms = p->conf.linger_ms;
            sb->attempts = b->attempts;
            sb->sealed = b->sealed;
            sb->in_retry = b->retry;
            int64_t left = b->retry ? b->backoff_ms - (now - b->last_attempt_ms) : 0;
            sb->backoff_left_ms = left > 0 ? left : 0;
            sb->base_sequence = b->base_seq;
        }
        pthread_mutex_unlock(&tp->lock);
    }
    free(tps);

    /* the buffer pool */
    int64_t avail, pooled;
    int32_t waiters;
    kp_bufpool_stats(&p->pool, &avail, &pooled, &waiters);
    out->buffer_total = p->pool.total;
    out->buffer_used = p->pool.total - avail;
    out->buffer_pooled_free = pooled;
    out->buffer_waiters = waiters;

    /* the road */
    if (kp_net_snapshot(&p->net, out, now) != KW_ERR_NONE) {
        kp_snapshot_free(out);
        return KW_ERR__NO_MEMORY;
    }

    /* the dispatcher's map */
    kp_cluster *c = kp_metadata_cluster(&p->md);
    int32_t np = 0;
    for (int32_t t = 0; t < c->n_topics; t++)
        np += c->topics[t].n_parts;
    out->meta = calloc((size_t)(np ? np : 1), sizeof *out->meta);
    if (!out->meta) {
        kp_cluster_release(c);
        kp_snapshot_free(out);
        return KW_ERR__NO_MEMORY;
    }
    for (int32_t t = 0; t < c->n_topics; t++)
        for (int32_t k = 0; k < c->topics[t].n_parts; k++) {
            const kp_mpart *mp = &c->topics[t].parts[k];
            kp_snap_meta_partition *sm = &out->meta[out->n_meta++];
            snprintf(sm->topic, sizeof sm->topic, "%s", c->topics[t].name);
            sm->partition = mp->partition;
            sm->leader = mp->leader;
            sm->leader_epoch = mp->leader_epoch;
            sm->n_replicas = mp->n_replicas;
            memcpy(sm->replicas, mp->replicas, sizeof sm->replicas);
            sm->n_isr = mp->n_isr;
            memcpy(sm->isr, mp->isr, sizeof sm->isr);
        }
    kp_cluster_release(c);
    out->producer_id = atomic_load(&p->producer_id);
    out->producer_epoch = atomic_load(&p->producer_epoch);
    out->records_outstanding = atomic_load(&p->outstanding);
    return KW_ERR_NONE;
}

void kp_snapshot_free(kp_snap *s) {
    if (!s)
        return;
    for (int32_t i = 0; i < s->n_partitions; i++)
        free(s->partitions[i].batches);
    free(s->partitions);
    for (int32_t i = 0; i < s->n_nodes; i++)
        free(s->nodes[i].in_flight);
    free(s->nodes);
    free(s->meta);
    memset(s, 0, sizeof *s);
}
