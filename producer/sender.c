/* The trucks (运输车): Java's Sender thread. Each round: keep the dispatcher's map fresh, get a
 * producer id (idempotence), ask the sorting room which brokers have crates ready, drain one
 * ProduceRequest per broker, expire crates past delivery.timeout.ms, then poll the road for
 * answers. Answers complete batches (callbacks run here, with no lock held) or put them back
 * for a retry with exponential backoff.
 * @locality sender thread */
#include "producer/kp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a ProduceRequest carries: its batches, in the order they were written. */
typedef struct produce_ctx {
    int32_t n;
    kp_batch *batches[];
} produce_ctx;

static uint64_t sender_rand(struct kp_producer *p) {
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return p->rng * 0x2545F4914F6CDD1DULL;
}

/* An event about batch b with the fields every batch event carries. */
static kp_event batch_ev(struct kp_producer *p, kp_event_kind kind, const kp_batch *b) {
    kp_event ev = kp_ev(p, kind);
    ev.batch_id = b->id;
    ev.topic = b->tp->topic;
    ev.partition = b->tp->partition;
    ev.record_count = b->n_thunks;
    ev.bytes = (int64_t)kp_batch_estimated_size(b);
    ev.raw_bytes = b->closed ? (int64_t)b->raw_size : (int64_t)b->w.len;
    ev.attempt = b->attempts;
    ev.base_sequence = b->base_seq;
    return ev;
}

static void emit_batch(struct kp_producer *p, kp_event_kind kind, const kp_batch *b, kw_err err,
                       int64_t extra_us) {
    if (!kp_has_sink(p))
        return;
    kp_event ev = batch_ev(p, kind, b);
    ev.producer_id = b->producer_id;
    ev.producer_epoch = b->producer_epoch;
    ev.err = err;
    ev.duration_us = extra_us;
    kp_emit(p, &ev);
}

/* Reports a batch's outcome, once: callbacks, interceptors, metrics, the completed event; its
 * memory goes back to the pool. The struct stays for the caller to free (a request that
 * carries the batch may still be in flight). */
static void batch_report(struct kp_producer *p, kp_batch *b, kw_err err, int64_t base_offset,
                         int64_t log_append_time) {
    b->done = true;
    kp_idem_forget(b);
    int64_t now_us = kp_now_us(p);
    /* Timestamps and sizes are read back from the batch (the slots keep only callbacks). */
    if (!b->closed)
        kp_batch_close(b, KW_NO_PRODUCER_ID, -1, KW_NO_SEQUENCE);
    kw_batch pb;
    size_t used;
    char eb[160];
    bool parsed = kw_batch_parse(kp_batch_raw(b), b->raw_size, false, &pb, &used, eb,
                                 sizeof eb) == KW_ERR_NONE;
    kw_record_iter it;
    if (parsed)
        kw_record_iter_init(&it, &pb);
    for (int32_t i = 0; i < b->n_thunks; i++) {
        const kp_thunk_slot *t = &b->thunks[i];
        kw_record rec;
        int64_t ts = -1;
        int32_t ks = -1, vs = -1;
        if (parsed && kw_record_next(&it, p->rec_arena, &rec) == 1) {
            ts = rec.timestamp;
            ks = rec.key.len;
            vs = rec.value.len;
        } else {
            parsed = false;
        }
        kp_record_metadata md = {
            .topic = b->tp->topic,
            .partition = b->tp->partition,
            .offset = (err == KW_ERR_NONE && base_offset >= 0) ? base_offset + i : -1,
            .timestamp_ms = log_append_time >= 0 ? log_append_time : ts,
            .serialized_key_size = ks,
            .serialized_value_size = vs,
            .record_seq = kp_batch_record_seq(b, i),
            .latency_us = now_us - kp_batch_record_produced_us(b, i),
        };
        for (int k = 0; k < p->conf.n_interceptors; k++)
            if (p->conf.interceptors[k].on_acknowledgement)
                p->conf.interceptors[k].on_acknowledgement(p->conf.interceptors[k].opaque, &md,
                                                           err);
        if (t->cb)
            t->cb(&md, err, t->opaque);
    }
    if (parsed)
        kw_record_iter_release(&it);
    kw_arena_reset(p->rec_arena);
    if (err != KW_ERR_NONE)
        kp_stats_record_error(p, b->n_thunks);
    if (kp_has_sink(p)) {
        kp_event ev = batch_ev(p, KP_EV_BATCH_COMPLETED, b);
        ev.base_offset = err == KW_ERR_NONE ? base_offset : -1;
        ev.err = err;
        kp_emit(p, &ev);
    }
    atomic_fetch_sub(&p->outstanding, b->n_thunks);
    kp_accum_incomplete_remove(&p->accum, b);
    kp_bufpool_deallocate(&p->pool, b->buf, b->cap);
    b->buf = NULL;
}

void kp_sender_complete(struct kp_producer *p, kp_batch *b, kw_err err, int64_t base_offset,
                        int64_t log_append_time, int64_t now_ms) {
    (void)now_ms;
    if (b->done)
        return;
    batch_report(p, b, err, base_offset, log_append_time);
    kp_batch_free(b);
}

static bool is_invalid_metadata(kw_err err) {
    switch (err) {
    case KW_ERR_NOT_LEADER_OR_FOLLOWER:
    case KW_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KW_ERR_LEADER_NOT_AVAILABLE:
    case KW_ERR_FENCED_LEADER_EPOCH:
    case KW_ERR_UNKNOWN_LEADER_EPOCH:
    case KW_ERR_KAFKA_STORAGE_ERROR:
    case KW_ERR_NETWORK_EXCEPTION:
    case KW_ERR__TRANSPORT:
    case KW_ERR__TIMED_OUT:
        return true;
    default:
        return false;
    }
}

static void batch_left_flight(struct kp_producer *p, kp_batch *b) {
    atomic_fetch_sub(&b->tp->in_flight, 1);
    if (p->conf.max_in_flight == 1)
        atomic_store(&b->tp->muted, false);
}

/* Split a batch that the broker found too large into batch.size pieces (Java's
 * ProducerBatch.split); the pieces go back to the head of the deque. Returns false when it
 * cannot be split. */
static bool split_batch(struct kp_producer *p, kp_batch *b, int64_t now) {
    if (b->n_thunks < 2)
        return false;
    kw_batch pb;
    size_t consumed;
    char errbuf[160];
    if (kw_batch_parse(kp_batch_raw(b), b->raw_size, false, &pb, &consumed, errbuf,
                       sizeof errbuf) != KW_ERR_NONE)
        return false;
    /* As ProducerBatch.split(): the topic's estimate restarts at max(1.0, observed), so the
     * pieces hold no more raw bytes than their size. */
    if (b->codec != KW_CODEC_NONE) {
        float r = kp_batch_observed_ratio(b);
        kp_accum_ratio_set(&p->accum, b->tp->topic, r > 1.0f ? r : 1.0f);
    }
    kw_arena *a = kw_arena_new();
    if (!a)
        return false;
    kw_record_iter it;
    kw_record_iter_init(&it, &pb);
    kp_batch *pieces[4096];
    int32_t np = 0;
    kp_batch *cur = NULL;
    int32_t idx = 0;
    kw_record rec;
    bool ok = true;
    while (ok && kw_record_next(&it, a, &rec) == 1) {
        if (idx >= b->n_thunks) {
            ok = false;
            break;
        }
        kw_err err = cur ? kp_batch_append_slot(cur, rec.timestamp, rec.key, rec.value, rec.headers,
                                                rec.n_headers, &b->thunks[idx])
                         : KW_ERR__NO_SPACE;
        if (err == KW_ERR__NO_SPACE) {
            /* Pieces of half the rejected batch (at least one record), so that splitting
             * always makes progress, even when batch.size itself is over the broker's limit. */
            size_t upper =
                kw_batch_size_upper_bound(rec.key, rec.value, rec.headers, rec.n_headers);
            int32_t size = (int32_t)(b->size / 2);
            if (size > p->conf.batch_size)
                size = p->conf.batch_size;
            if (upper > (size_t)size)
                size = (int32_t)upper;
            uint8_t *buf = NULL;
            /* The parent's memory goes back after the split; borrow without blocking long. */
            if (np >= 4096 || kp_bufpool_allocate(&p->pool, size, 0, &buf) != KW_ERR_NONE) {
                ok = false;
                break;
            }
            cur = kp_batch_new(b->tp, atomic_fetch_add(&p->accum.next_batch_id, 1), buf, size,
                               b->created_ms);
            if (cur) {
                cur->seq_base = b->seq_base;
                cur->base_us = b->base_us;
                if (b->codec != KW_CODEC_NONE) /* the pieces are compressed as their parent */
                    kp_batch_set_compression(cur, b->codec, b->level,
                                             kp_accum_ratio_get(&p->accum, b->tp->topic));
            }
            if (!cur) {
                kp_bufpool_deallocate(&p->pool, buf, size);
                ok = false;
                break;
            }
            /* With idempotence the piece keeps its records' original sequence for ordering
             * in the deque; it is renumbered under the new producer id before it is sent. */
            if (b->base_seq >= 0) {
                cur->base_seq = b->base_seq + idx;
                cur->producer_id = b->producer_id;
                cur->producer_epoch = b->producer_epoch;
            }
            pieces[np++] = cur;
            err = kp_batch_append_slot(cur, rec.timestamp, rec.key, rec.value, rec.headers,
                                       rec.n_headers, &b->thunks[idx]);
        }
        if (err != KW_ERR_NONE)
            ok = false;
        idx++;
        kw_arena_reset(a);
    }
    kw_record_iter_release(&it);
    kw_arena_destroy(a);
    if (!ok || idx != b->n_thunks) {
        for (int32_t i = 0; i < np; i++) {
            kp_bufpool_deallocate(&p->pool, pieces[i]->buf, pieces[i]->cap);
            kp_batch_free(pieces[i]);
        }
        return false;
    }
    if (kp_has_sink(p)) {
        kp_event ev = kp_ev(p, KP_EV_BATCH_SPLIT);
        ev.batch_id = b->id;
        ev.topic = b->tp->topic;
        ev.partition = b->tp->partition;
        ev.batch_count = np;
        ev.record_count = b->n_thunks;
        kp_emit(p, &ev);
    }
    atomic_fetch_add(&p->stats.batch_split_total, 1);
    /* The pieces go back in order at the head; the parent's sequence range is abandoned, so
     * with idempotence the producer id is reset (Java bumps the epoch). */
    for (int32_t i = np - 1; i >= 0; i--) {
        pieces[i]->sealed = true;
        pieces[i]->attempts = b->attempts;
        kp_accum_incomplete_add(&p->accum, pieces[i]);
        kp_accum_reenqueue(&p->accum, pieces[i], 0, now);
    }
    /* The pieces keep the parent's sequence range (Java's splitAndReenqueue): the broker
     * refused the parent, so no epoch bump is needed. */
    kp_idem_replace(b, pieces, np);
    /* The parent leaves without callbacks: its records live on in the pieces. */
    b->done = true;
    kp_accum_incomplete_remove(&p->accum, b);
    kp_bufpool_deallocate(&p->pool, b->buf, b->cap);
    kp_batch_free(b);
    return true;
}

/* A batch came back with an error: retry it or fail it (Java's Sender.completeBatch).
 * log_start_offset is the partition's in the answer (-1 when unknown). */
static void batch_failed(struct kp_producer *p, kp_batch *b, kw_err err, int64_t log_start_offset,
                         int64_t now) {
    if (atomic_load(&p->force_close)) {
        kp_sender_complete(p, b, KW_ERR__INTERRUPTED, -1, -1, now);
        return;
    }
    if (err == KW_ERR_DUPLICATE_SEQUENCE_NUMBER) {
        kp_idem_on_success(p, b);
        kp_sender_complete(p, b, KW_ERR_NONE, -1, -1, now);
        return;
    }
    if ((err == KW_ERR_MESSAGE_TOO_LARGE || err == KW_ERR_RECORD_LIST_TOO_LARGE) &&
        split_batch(p, b, now))
        return;
    /* As Sender.completeBatch(): a leader error asks for new metadata whether or not the
     * batch is retried, or later batches would keep going to the old leader. */
    if (is_invalid_metadata(err))
        atomic_store(&p->md.need_update, true);
    bool retriable = kw_err_is_retriable(err);
    if (p->conf.enable_idempotence && b->base_seq >= 0)
        retriable = kp_idem_retriable(p, b, err, log_start_offset);
    bool in_time = now - b->created_ms < p->conf.delivery_timeout_ms;
    if (retriable && b->attempts <= p->conf.retries && in_time) {
        int64_t backoff =
            kp_retry_backoff_ms(b->attempts, p->conf.retry_backoff_ms, p->conf.retry_backoff_max_ms,
                                (double)(sender_rand(p) >> 11) / 9007199254740992.0);
        kp_accum_reenqueue(&p->accum, b, backoff, now);
        kp_stats_record_retry(p, b->n_thunks);
        emit_batch(p, KP_EV_BATCH_RETRIED, b, err, backoff * 1000);
        return;
    }
    /* Its sequence range is lost (Java's handleFailedBatch): the partition is renumbered
     * under a bumped epoch, unless the batch simply ran out of retries. */
    kp_idem_on_failed(p, b, err, b->attempts <= p->conf.retries);
    if (retriable && !in_time && b->attempts <= p->conf.retries) {
        /* It could have been retried, but its delivery.timeout.ms ran out: say so. */
        emit_batch(p, KP_EV_BATCH_EXPIRED, b, err, 0);
        err = KW_ERR__DELIVERY_TIMEOUT;
    }
    kp_sender_complete(p, b, err, -1, -1, now);
}

/* Finds the answer for batch b in a decoded Produce response, or NULL. */
static const kw_produce_resp_partition *find_partition(const kw_produce_resp *resp,
                                                       const kp_batch *b) {
    for (int32_t t = 0; t < resp->n_topics; t++) {
        if (!kw_slice_eq(resp->topics[t].name, b->tp->topic))
            continue;
        for (int32_t k = 0; k < resp->topics[t].n_partitions; k++)
            if (resp->topics[t].partitions[k].index == b->tp->partition)
                return &resp->topics[t].partitions[k];
    }
    return NULL;
}

/* Tells the view a truck came back: err is the transport error, or else the first
 * partition error in the answer (so a lane can show NOT_ENOUGH_REPLICAS in red). */
static void emit_response(struct kp_producer *p, const kp_req *req, int32_t n_batches, kw_err err,
                          int32_t n_failed, int64_t latency_us) {
    if (!kp_has_sink(p))
        return;
    char detail[96];
    kp_event ev = kp_ev(p, KP_EV_RESPONSE_RECEIVED);
    ev.api_key = KW_API_PRODUCE;
    ev.node_id = req->node_id;
    ev.correlation_id = req->correlation_id;
    ev.batch_count = n_batches;
    ev.bytes = req->bytes;
    ev.duration_us = latency_us;
    ev.err = err;
    if (n_failed > 0) {
        snprintf(detail, sizeof detail, "%d of %d partitions failed: %s", (int)n_failed,
                 (int)n_batches, kw_err_name(err));
        ev.detail = detail;
    }
    kp_emit(p, &ev);
}

static void on_produce(struct kp_producer *p, kp_req *req, kw_err err, kw_rbuf *body, int64_t now) {
    produce_ctx *ctx = req->ctx;
    int64_t latency_us = kp_now_us(p) - req->sent_us;
    if (err != KW_ERR_NONE || !body) {
        emit_response(p, req, ctx->n, err, 0, latency_us);
        for (int32_t i = 0; i < ctx->n; i++) {
            kp_batch *b = ctx->batches[i];
            batch_left_flight(p, b);
            if (b->done) /* expired in flight: reported already */
                kp_batch_free(b);
            else if (err == KW_ERR_NONE) /* acks=0: done once written */
                kp_sender_complete(p, b, KW_ERR_NONE, -1, -1, now);
            else
                batch_failed(p, b, err, -1, now);
        }
        free(ctx);
        return;
    }
    kp_stats_response(p, latency_us / 1000);
    kw_produce_resp resp;
    memset(&resp, 0, sizeof resp);
    kw_arena_reset(p->arena);
    kw_err derr = kw_produce_resp_decode(body, req->api_version, p->arena, &resp);
    if (derr != KW_ERR_NONE)
        kp_log(p, 4, "bad Produce response from node %d: %s", (int)req->node_id, body->errmsg);
    else if (kp_metadata_apply_leader_hints(&p->md, &resp) > 0)
        kp_log(p, 6, "Produce answer from node %d moved partition leaders (KIP-951 hint)",
               (int)req->node_id);
    /* Match every batch with its answer first, so the event can name the first error. */
    const kw_produce_resp_partition **answers = calloc((size_t)ctx->n + 1, sizeof *answers);
    kw_err first_err = KW_ERR_NONE;
    int32_t n_failed = 0;
    for (int32_t i = 0; i < ctx->n; i++) {
        const kw_produce_resp_partition *pr =
            derr == KW_ERR_NONE && answers ? find_partition(&resp, ctx->batches[i]) : NULL;
        if (answers)
            answers[i] = pr;
        kw_err e = pr ? (kw_err)pr->error_code : KW_ERR_NETWORK_EXCEPTION;
        if (e != KW_ERR_NONE) {
            n_failed++;
            if (first_err == KW_ERR_NONE)
                first_err = e;
        }
    }
    emit_response(p, req, ctx->n, first_err, n_failed, latency_us);
    for (int32_t i = 0; i < ctx->n; i++) {
        kp_batch *b = ctx->batches[i];
        batch_left_flight(p, b);
        const kw_produce_resp_partition *pr = answers ? answers[i] : NULL;
        if (b->done) /* expired in flight: reported already, whatever the answer says */
            kp_batch_free(b);
        else if (!pr)
            batch_failed(p, b, KW_ERR_NETWORK_EXCEPTION, -1, now);
        else if (pr->error_code == 0) {
            kp_idem_on_success(p, b);
            kp_sender_complete(p, b, KW_ERR_NONE, pr->base_offset, pr->log_append_time_ms, now);
        } else {
            batch_failed(p, b, (kw_err)pr->error_code, pr->log_start_offset, now);
        }
    }
    free(answers);
    free(ctx);
}

static int cmp_batch_topic(const void *x, const void *y) {
    const kp_batch *a = *(kp_batch *const *)x, *b = *(kp_batch *const *)y;
    return strcmp(a->tp->topic, b->tp->topic);
}

/* One ProduceRequest to one broker with every drained batch (Java's sendProduceRequest). */
static void send_produce(struct kp_producer *p, kp_conn *c, kp_drained *d, int64_t now) {
    int32_t n = d->n;
    produce_ctx *ctx = malloc(sizeof *ctx + (size_t)n * sizeof(kp_batch *));
    kw_produce_req_topic *topics = calloc((size_t)n, sizeof *topics);
    kw_produce_req_partition *parts = calloc((size_t)n, sizeof *parts);
    if (!ctx || !topics || !parts) {
        free(ctx);
        free(topics);
        free(parts);
        for (int32_t i = 0; i < n; i++) {
            batch_left_flight(p, d->batches[i]);
            d->batches[i]->attempts--;
            kp_accum_reenqueue(&p->accum, d->batches[i], p->conf.retry_backoff_ms, now);
        }
        return;
    }
    qsort(d->batches, (size_t)n, sizeof *d->batches, cmp_batch_topic);
    ctx->n = n;
    int32_t nt = 0;
    int32_t records = 0;
    for (int32_t i = 0; i < n; i++) {
        kp_batch *b = d->batches[i];
        ctx->batches[i] = b;
        records += b->n_thunks;
        if (i == 0 || strcmp(d->batches[i - 1]->tp->topic, b->tp->topic) != 0) {
            topics[nt].name = kw_slice_str(b->tp->topic);
            topics[nt].partitions = &parts[i];
            topics[nt].n_partitions = 0;
            nt++;
        }
        parts[i].index = b->tp->partition;
        parts[i].records = (kw_slice){kp_batch_wire(b), (int32_t)b->size};
        topics[nt - 1].n_partitions++;
    }
    kw_produce_req req = {
        .transactional_id = KW_SLICE_NULL,
        .acks = (int16_t)p->conf.acks,
        .timeout_ms = p->conf.request_timeout_ms,
        .n_topics = nt,
        .topics = topics,
    };
    int16_t version = kp_net_version(c, KW_API_PRODUCE);
    kw_wbuf_reset(&p->sbuf);
    kw_produce_req_encode(&p->sbuf, version, &req);
    free(topics);
    free(parts);
    kp_req *r = p->sbuf.oom ? NULL
                            : kp_net_send(&p->net, c, KW_API_PRODUCE, version, &p->sbuf,
                                          p->conf.acks != 0, on_produce, ctx, now);
    if (!r) {
        for (int32_t i = 0; i < n; i++) {
            batch_left_flight(p, ctx->batches[i]);
            batch_failed(p, ctx->batches[i], KW_ERR__TRANSPORT, -1, now);
        }
        free(ctx);
        return;
    }
    pthread_mutex_lock(&p->net.lock);
    r->batch_count = n;
    r->bytes = (int32_t)p->sbuf.len;
    pthread_mutex_unlock(&p->net.lock);
    kp_stats_request(p, records);
    for (int32_t i = 0; i < n; i++) {
        kp_stats_batch_drained(p, ctx->batches[i], now);
        if (kp_has_sink(p)) {
            kp_batch *b = ctx->batches[i];
            if (b->sealed_at_drain) {
                b->sealed_at_drain = false;
                emit_batch(p, KP_EV_BATCH_SEALED, b, KW_ERR_NONE, 0);
            }
            kp_event ev = batch_ev(p, KP_EV_BATCH_DRAINED, b);
            ev.node_id = c->node_id;
            ev.correlation_id = r->correlation_id;
            ev.producer_id = b->producer_id;
            ev.producer_epoch = b->producer_epoch;
            ev.duration_us = (now - b->created_ms) * 1000;
            kp_emit(p, &ev);
        }
    }
    if (kp_has_sink(p)) {
        kp_event ev = kp_ev(p, KP_EV_REQUEST_SENT);
        ev.api_key = KW_API_PRODUCE;
        ev.node_id = c->node_id;
        ev.correlation_id = r->correlation_id;
        ev.batch_count = n;
        ev.record_count = records;
        ev.bytes = r->bytes;
        kp_emit(p, &ev);
    }
}

static void on_metadata(struct kp_producer *p, kp_req *req, kw_err err, kw_rbuf *body,
                        int64_t now) {
    p->md.request_in_flight = false;
    if (err != KW_ERR_NONE) {
        atomic_store(&p->md.need_update, true);
        return;
    }
    kw_metadata_resp resp;
    memset(&resp, 0, sizeof resp);
    kw_arena_reset(p->arena);
    if (kw_metadata_resp_decode(body, req->api_version, p->arena, &resp) != KW_ERR_NONE) {
        kp_log(p, 4, "bad Metadata response from node %d: %s", (int)req->node_id, body->errmsg);
        atomic_store(&p->md.need_update, true);
        return;
    }
    int32_t nparts = kp_metadata_apply(&p->md, &resp, now);
    /* Ask again soon when a wanted topic is missing or has partitions without a leader. */
    bool incomplete = false;
    for (int32_t i = 0; i < resp.n_topics; i++) {
        if (resp.topics[i].error_code != 0 || resp.topics[i].n_partitions == 0)
            incomplete = true;
        for (int32_t k = 0; k < resp.topics[i].n_partitions; k++)
            if (resp.topics[i].partitions[k].leader_id < 0)
                incomplete = true;
    }
    if (incomplete)
        atomic_store(&p->md.need_update, true);
    if (kp_has_sink(p)) {
        kp_event ev = kp_ev(p, KP_EV_METADATA_UPDATED);
        ev.node_id = req->node_id;
        ev.record_count = nparts;
        ev.batch_count = resp.n_brokers;
        kp_emit(p, &ev);
    }
}

static void maybe_update_metadata(struct kp_producer *p, int64_t now) {
    kp_metadata *md = &p->md;
    if (md->request_in_flight)
        return;
    bool due =
        atomic_load(&md->need_update) || now - md->last_update_ms >= p->conf.metadata_max_age_ms;
    /* A topic new to the producer is asked for at once, as Java's requestUpdateForNewTopics
     * resets the refresh backoff; other updates wait retry.backoff.ms after the last attempt. */
    bool new_topics = atomic_load(&md->new_topics);
    if (!due || (!new_topics && now - md->last_attempt_ms < p->conf.retry_backoff_ms))
        return;
    kp_conn *c = kp_net_least_loaded(&p->net, now);
    if (!c)
        return;
    /* cleared before the wanted set is read: a topic added after that raises it again */
    atomic_store(&md->new_topics, false);
    char **names;
    int32_t n = kp_metadata_wanted(md, &names);
    kw_slice *ts = calloc((size_t)(n ? n : 1), sizeof *ts);
    if (!ts) {
        kp_metadata_free_names(names, n);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        ts[i] = kw_slice_str(names[i]);
    kw_metadata_req req = {.n_topics = n, .topics = ts, .allow_auto_topic_creation = true};
    int16_t v = kp_net_version(c, KW_API_METADATA);
    kw_wbuf_reset(&p->sbuf);
    kw_metadata_req_encode(&p->sbuf, v, &req);
    free(ts);
    kp_metadata_free_names(names, n);
    kp_req *r = kp_net_send(&p->net, c, KW_API_METADATA, v, &p->sbuf, true, on_metadata, NULL, now);
    md->last_attempt_ms = now;
    if (!r)
        return;
    md->request_in_flight = true;
    atomic_store(&md->need_update, false);
    if (kp_has_sink(p)) {
        kp_event ev = kp_ev(p, KP_EV_METADATA_REQUESTED);
        ev.api_key = KW_API_METADATA;
        ev.node_id = c->node_id;
        ev.correlation_id = r->correlation_id;
        kp_emit(p, &ev);
    }
}

/* When the cluster picture changed (or new partitions appeared), copy each partition's leader
 * into its deque and make sure a connection object exists for each broker. */
static void refresh_leaders(struct kp_producer *p) {
    int64_t v = atomic_load(&p->md.version);
    pthread_rwlock_rdlock(&p->accum.map_lock);
    int32_t n_all = p->accum.n_all;
    pthread_rwlock_unlock(&p->accum.map_lock);
    if (v == p->cluster_version_seen && n_all == p->tps_seen)
        return;
    kp_cluster *c = kp_metadata_cluster(&p->md);
    if (v != p->cluster_version_seen)
        for (int32_t i = 0; i < c->n_nodes; i++)
            kp_net_conn(&p->net, c->nodes[i].id, c->nodes[i].host, c->nodes[i].port);
    pthread_rwlock_rdlock(&p->accum.map_lock);
    for (int32_t i = 0; i < p->accum.n_all; i++) {
        kp_tp *tp = p->accum.all[i];
        const kp_mtopic *t = kp_cluster_topic(c, tp->topic);
        int32_t leader = -1;
        if (t && tp->partition < t->n_parts && t->parts[tp->partition].leader >= 0 &&
            kp_cluster_node(c, t->parts[tp->partition].leader))
            leader = t->parts[tp->partition].leader;
        atomic_store(&tp->leader, leader);
    }
    n_all = p->accum.n_all;
    pthread_rwlock_unlock(&p->accum.map_lock);
    p->cluster_version_seen = c->version;
    p->tps_seen = n_all;
    kp_cluster_release(c);
}

/* A batch past delivery.timeout.ms fails with DELIVERY_TIMEOUT; with idempotence, a batch that
 * was sent and retried leaves its sequence unresolved (the broker may have it), so its
 * partition sends nothing new until that is settled. The caller frees the struct. */
static void batch_expire(struct kp_producer *p, kp_batch *b) {
    emit_batch(p, KP_EV_BATCH_EXPIRED, b, KW_ERR__DELIVERY_TIMEOUT, 0);
    kp_idem_on_expired(p, b);
    batch_report(p, b, KW_ERR__DELIVERY_TIMEOUT, -1, -1);
}

/* Expires batches past delivery.timeout.ms: those waiting in the deques (Java's
 * RecordAccumulator.expiredBatches) and those in flight (Sender.getExpiredInflightBatches),
 * which fail now instead of when their request times out; on_produce frees those when their
 * request ends. */
static void expire_batches(struct kp_producer *p, int64_t now) {
    kp_batch **exp;
    int32_t n = kp_accum_expire(&p->accum, now, &exp);
    for (int32_t i = 0; i < n; i++) {
        batch_expire(p, exp[i]);
        kp_batch_free(exp[i]);
    }
    free(exp);
    /* The request lists change only on this thread: no lock needed to read them here. */
    for (int32_t i = 0; i < p->net.n_conns; i++)
        for (kp_req *r = p->net.conns[i]->head; r; r = r->next) {
            if (r->handler != on_produce)
                continue;
            produce_ctx *ctx = r->ctx;
            for (int32_t k = 0; k < ctx->n; k++) {
                kp_batch *b = ctx->batches[k];
                if (!b->done && now - b->created_ms >= p->conf.delivery_timeout_ms)
                    batch_expire(p, b);
            }
        }
}

/* Batches appended and not yet completed (in a deque or in flight). */
static int64_t incomplete_batches(struct kp_producer *p) {
    pthread_mutex_lock(&p->accum.inc_lock);
    int64_t left = p->accum.n_incomplete;
    pthread_mutex_unlock(&p->accum.inc_lock);
    return left;
}

/* One round of the trucks (Java's Sender.runOnce / sendProducerData). */
static void run_once(struct kp_producer *p) {
    int64_t now = kp_now_ms(p);
    /* Closing with nothing left to deliver: no new Metadata or InitProducerId requests, only
     * the answers still on their way. */
    bool winding_down = atomic_load(&p->closing) && incomplete_batches(p) == 0;
    refresh_leaders(p);
    if (!winding_down)
        maybe_update_metadata(p, now);
    int64_t pid = -1;
    int16_t epoch = -1;
    bool can_drain = true;
    if (p->conf.enable_idempotence) {
        if (!winding_down)
            kp_idem_maybe_init_pid(p, now);
        if (kp_idem_has_pid(p)) {
            pid = atomic_load(&p->producer_id);
            epoch = atomic_load(&p->producer_epoch);
        } else {
            can_drain = false;
        }
    }
    kp_ready r = {0};
    kp_accum_ready(&p->accum, now, &r);
    if (r.unknown_leaders)
        atomic_store(&p->md.need_update, true);
    int64_t timeout = r.next_ready_check_ms;
    /* Keep only nodes whose connection can take a request now. */
    int32_t k = 0;
    kp_cluster *cl = NULL;
    for (int32_t i = 0; i < r.n_nodes; i++) {
        kp_conn *c = kp_net_find(&p->net, r.nodes[i]);
        if (!c) {
            if (!cl)
                cl = kp_metadata_cluster(&p->md);
            const kp_node *nd = kp_cluster_node(cl, r.nodes[i]);
            if (nd)
                c = kp_net_conn(&p->net, nd->id, nd->host, nd->port);
        }
        if (c && kp_net_ready(&p->net, c, now))
            r.nodes[k++] = r.nodes[i];
        else if (c && c->state == KP_CONN_DOWN) {
            int64_t left = c->backoff_ms - (now - c->last_attempt_ms);
            if (left > 0 && left < timeout)
                timeout = left;
        }
    }
    kp_cluster_release(cl);
    r.n_nodes = can_drain ? k : 0;
    if (r.n_nodes > 0) {
        kp_drained stack[16];
        kp_drained *d = r.n_nodes <= 16 ? stack : calloc((size_t)r.n_nodes, sizeof *d);
        if (d) {
            memset(d, 0, (size_t)r.n_nodes * sizeof *d);
            int32_t drained = kp_accum_drain(&p->accum, r.nodes, r.n_nodes,
                                             p->conf.max_request_size, pid, epoch, now, d);
            /* Something went out: look again at once (more may be ready). Nothing did (a
             * retry waiting for its partition's requests in flight): wait for the network. */
            if (drained > 0)
                timeout = 0;
            for (int32_t i = 0; i < r.n_nodes; i++) {
                if (d[i].n > 0) {
                    kp_conn *c = kp_net_find(&p->net, d[i].node_id);
                    send_produce(p, c, &d[i], now);
                }
                kp_drained_free(&d[i]);
            }
            if (d != stack)
                free(d);
        }
    }
    kp_ready_free(&r);
    expire_batches(p, now);
    if (timeout > 100)
        timeout = 100;
    if (!can_drain && timeout > p->conf.retry_backoff_ms)
        timeout = p->conf.retry_backoff_ms;
    kp_net_poll(&p->net, timeout);
}

static void abort_all(struct kp_producer *p) {
    int64_t now = kp_now_ms(p);
    kp_net_close_all(&p->net, KW_ERR__INTERRUPTED);
    kp_batch **all;
    int32_t n = kp_accum_take_all(&p->accum, &all);
    for (int32_t i = 0; i < n; i++)
        kp_sender_complete(p, all[i], KW_ERR__INTERRUPTED, -1, -1, now);
    free(all);
}

void *kp_sender_main(void *arg) {
    struct kp_producer *p = arg;
    while (!atomic_load(&p->closing))
        run_once(p);
    /* Closing: send what is left (Java's Sender.run after running=false). */
    while (!atomic_load(&p->force_close)) {
        /* Done when every batch is complete and no ProduceRequest is out (a Metadata or
         * InitProducerId answer no longer matters). */
        if (incomplete_batches(p) == 0 && kp_net_in_flight_api(&p->net, KW_API_PRODUCE) == 0)
            break;
        run_once(p);
    }
    if (atomic_load(&p->force_close))
        abort_all(p);
    kp_net_close_all(&p->net, KW_ERR__INTERRUPTED);
    pthread_mutex_lock(&p->close_lock);
    atomic_store(&p->sender_done, true);
    pthread_cond_broadcast(&p->close_cv);
    pthread_mutex_unlock(&p->close_lock);
    return NULL;
}
