/* The front desk (收件员): Java's KafkaProducer.send()/doSend(). A parcel is looked over by the
 * interceptors, waits for the dispatcher's map to know its topic (max.block.ms), is wrapped
 * (serializers), addressed (partitioner), measured (max.request.size) and handed to the
 * sorting room, which may make the caller wait for crate space (buffer.memory). Every step
 * emits an event when a sink listens. Runs on the application's threads. */
#include "producer/kp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wake_sender(void *arg) {
    kp_net_wakeup(arg);
}

typedef struct wait_ctx {
    kp_producer *p;
    uint64_t seq;
    const char *topic;
    int32_t partition;
} wait_ctx;

static void on_buffer_wait(void *arg, int32_t size) {
    wait_ctx *w = arg;
    if (!kp_has_sink(w->p))
        return;
    kp_event ev = kp_ev(w->p, KP_EV_BUFFER_WAIT);
    ev.record_seq = w->seq;
    ev.topic = w->topic;
    ev.partition = w->partition;
    ev.bytes = size;
    kp_emit(w->p, &ev);
}

static void emit_rec(kp_producer *p, kp_event_kind kind, uint64_t seq, const char *topic,
                     int32_t partition, int64_t bytes, kw_err err, const char *detail) {
    kp_event ev = kp_ev(p, kind);
    ev.record_seq = seq;
    ev.topic = topic;
    ev.partition = partition;
    ev.bytes = bytes;
    ev.err = err;
    ev.detail = detail;
    kp_emit(p, &ev);
}

/* A record that fails inside kp_produce: interceptors hear of it, the caller gets err. */
static kw_err fail_record(kp_producer *p, uint64_t seq, const kp_record *rec, int32_t partition,
                          kw_err err, const char *detail) {
    if (kp_has_sink(p))
        emit_rec(p, KP_EV_RECORD_FAILED, seq, rec->topic, partition, 0, err, detail);
    if (p->conf.n_interceptors > 0) {
        kp_record_metadata md = {.topic = rec->topic,
                                 .partition = partition,
                                 .offset = -1,
                                 .timestamp_ms = -1,
                                 .serialized_key_size = -1,
                                 .serialized_value_size = -1,
                                 .record_seq = seq};
        for (int k = 0; k < p->conf.n_interceptors; k++)
            if (p->conf.interceptors[k].on_acknowledgement)
                p->conf.interceptors[k].on_acknowledgement(p->conf.interceptors[k].opaque, &md,
                                                           err);
    }
    kp_stats_record_error(p, 1);
    if (detail)
        kp_log(p, 7, "record %llu to %s failed: %s: %s", (unsigned long long)seq,
               rec->topic ? rec->topic : "(null)", kw_err_name(err), detail);
    return err;
}

static kw_err serialize(kp_producer *p, bool is_key, const char *topic, const void *data,
                        int32_t len, uint8_t scratch[8], kw_wbuf *wb, kw_slice *out, char *errbuf,
                        size_t errsize) {
    kp_serializer_fn fn = is_key ? p->conf.key_ser_fn : p->conf.value_ser_fn;
    if (!fn)
        return kp_serialize_builtin(is_key ? p->conf.key_ser : p->conf.value_ser, data, len,
                                    scratch, out, errbuf, errsize);
    bool is_null = false;
    kw_err err = fn(is_key ? p->conf.key_ser_opaque : p->conf.value_ser_opaque, topic, data, len,
                    wb, &is_null);
    if (err != KW_ERR_NONE || wb->oom) {
        snprintf(errbuf, errsize, "%s serializer failed: %s", is_key ? "key" : "value",
                 kw_err_name(err != KW_ERR_NONE ? err : KW_ERR__NO_MEMORY));
        return KW_ERR__SERIALIZATION;
    }
    *out = is_null ? KW_SLICE_NULL : (kw_slice){wb->p, (int32_t)wb->len};
    return KW_ERR_NONE;
}

/* Java's doSend() checks: a topic name Kafka accepts, headers with keys, a timestamp that is
 * KP_TIMESTAMP_NOW or not negative. NULL when the record is fine, else what is wrong. */
static const char *record_invalid(const kp_record *rec) {
    if (!rec->topic || !*rec->topic || strlen(rec->topic) > 249)
        return "the record has no valid topic name";
    if (rec->n_headers < 0 || (rec->n_headers > 0 && !rec->headers))
        return "bad headers array";
    for (int32_t i = 0; i < rec->n_headers; i++) {
        if (!rec->headers[i].key)
            return "a header has no key";
        if (rec->headers[i].value && rec->headers[i].value_len < 0)
            return "a header value has a negative length";
    }
    if (rec->timestamp_ms < KP_TIMESTAMP_NOW)
        return "invalid timestamp (negative and not KP_TIMESTAMP_NOW)";
    return NULL;
}

/* Stage 1, the interceptors (Java's ProducerInterceptors.onSend): each on_send may rewrite
 * *rec; one that fails is logged, its change undone, and the record goes on. */
static void run_on_send(kp_producer *p, uint64_t seq, kp_record *rec, bool sink) {
    for (int k = 0; k < p->conf.n_interceptors; k++) {
        const kp_interceptor *ic = &p->conf.interceptors[k];
        if (!ic->on_send)
            continue;
        kp_record before = *rec;
        kw_err ierr = ic->on_send(ic->opaque, rec);
        if (ierr != KW_ERR_NONE) {
            *rec = before;
            char msg[200];
            snprintf(msg, sizeof msg, "interceptor %s on_send failed: %s",
                     ic->name ? ic->name : "?", kw_err_name(ierr));
            kp_log(p, 4, "%s", msg);
            if (sink)
                emit_rec(p, KP_EV_INTERCEPTOR_ERROR, seq, rec->topic, -1, 0, ierr, msg);
        }
    }
}

static void emit_serialized(kp_producer *p, uint64_t seq, const kp_record *rec, kw_slice key,
                            kw_slice value) {
    kp_event ev = kp_ev(p, KP_EV_RECORD_SERIALIZED);
    ev.record_seq = seq;
    ev.topic = rec->topic;
    ev.partition = rec->partition;
    ev.bytes = (key.len > 0 ? key.len : 0) + (value.len > 0 ? value.len : 0);
    ev.key = key.p;
    ev.key_len = key.len;
    kp_emit(p, &ev);
}

static void emit_partitioned(kp_producer *p, uint64_t seq, const char *topic, int32_t partition,
                             kw_slice key) {
    kp_event ev = kp_ev(p, KP_EV_RECORD_PARTITIONED);
    ev.record_seq = seq;
    ev.topic = topic;
    ev.partition = partition;
    ev.key = key.p;
    ev.key_len = key.len;
    char detail[64];
    if (key.len >= 0 && key.p) {
        /* "key=..." for the view, printable characters only */
        int n = snprintf(detail, sizeof detail, "key=");
        for (int32_t i = 0; i < key.len && n < 44; i++)
            detail[n++] = (key.p[i] >= 0x21 && key.p[i] < 0x7f) ? (char)key.p[i] : '.';
        detail[n] = '\0';
        ev.detail = detail;
    }
    kp_emit(p, &ev);
}

/* Stage 2, the metadata wait (Java's waitOnMetadata): the topic's partition count, once the
 * dispatcher's map knows it, waiting up to deadline (ms, the producer's clock). 0 or less on
 * failure, with *err and errbuf set. */
static int32_t wait_for_topic(kp_producer *p, const char *topic, int64_t deadline, bool *blocked,
                              kw_err *err, char *errbuf, size_t errsize) {
    int16_t terr = 0;
    int32_t n_parts =
        kp_metadata_wait_topic(&p->md, topic, deadline, wake_sender, &p->net, &terr, blocked);
    if (n_parts > 0)
        return n_parts;
    snprintf(errbuf, errsize, "topic %s not present in metadata after %lld ms%s%s", topic,
             (long long)p->conf.max_block_ms, terr ? ": " : "",
             terr ? kw_err_name((kw_err)terr) : "");
    *err = atomic_load(&p->closing) ? KW_ERR__STATE : KW_ERR__METADATA_TIMEOUT;
    return n_parts;
}

/* The record's headers as wire slices: in stack (16 entries) when they fit, else in memory
 * the caller frees (when the result is not stack). NULL when out of memory. */
static kw_header *wire_headers(const kp_record *rec, kw_header *stack) {
    kw_header *hs = rec->n_headers <= 16 ? stack : malloc((size_t)rec->n_headers * sizeof *hs);
    if (!hs)
        return NULL;
    for (int32_t i = 0; i < rec->n_headers; i++) {
        hs[i].key = kw_slice_str(rec->headers[i].key);
        hs[i].value = rec->headers[i].value
                          ? (kw_slice){rec->headers[i].value, rec->headers[i].value_len}
                          : KW_SLICE_NULL;
    }
    return hs;
}

/* Java's ensureValidRecordSize: the record alone in a batch must fit in max.request.size and
 * in buffer.memory. */
static kw_err check_record_size(const kp_producer *p, size_t upper, char *errbuf,
                                size_t errsize) {
    if (upper <= (size_t)p->conf.max_request_size && upper <= (size_t)p->conf.buffer_memory)
        return KW_ERR_NONE;
    bool over_request = upper > (size_t)p->conf.max_request_size;
    snprintf(errbuf, errsize, "the record is %zu bytes when serialized, larger than %s (%lld)",
             upper, over_request ? "max.request.size" : "buffer.memory",
             over_request ? (long long)p->conf.max_request_size
                          : (long long)p->conf.buffer_memory);
    return KW_ERR__RECORD_TOO_LARGE;
}

/* Stage 6, the append with the sticky partitioner's retry (Java's doSend() calling
 * RecordAccumulator.append() with abortOnNewBatch, then onNewBatch() and append() again): a
 * keyless record whose sticky partition's batch is full does not open a new batch there; the
 * partitioner moves on (KIP-480) and the record goes to the next partition. *partition is
 * where the record went; res says what the sorting room did. May block for crate space up to
 * left_ms. */
static void append_sticky_retry(kp_producer *p, const kp_record *rec, int64_t ts, kw_slice key,
                                kw_slice value, const kw_header *hs, const kp_thunk *th,
                                int64_t now, int64_t left_ms, bool sticky, int32_t n_parts,
                                int32_t *partition, kp_append_result *res) {
    wait_ctx wc = {p, th->seq, rec->topic, *partition};
    kp_tp *tp = kp_accum_tp(&p->accum, rec->topic, *partition);
    if (!tp) {
        res->err = KW_ERR__NO_MEMORY;
        return;
    }
    kp_accum_append(&p->accum, tp, ts, key, value, hs, rec->n_headers, th, left_ms, sticky, now,
                    on_buffer_wait, &wc, res);
    if (!res->aborted_for_new_batch)
        return;
    uint64_t sealed = res->sealed_batch_id;
    *partition = kp_sticky_next(&p->sticky, rec->topic, n_parts, *partition);
    wc.partition = *partition;
    tp = kp_accum_tp(&p->accum, rec->topic, *partition);
    if (!tp)
        res->err = KW_ERR__NO_MEMORY;
    else
        kp_accum_append(&p->accum, tp, ts, key, value, hs, rec->n_headers, th, left_ms, false,
                        now, on_buffer_wait, &wc, res);
    if (!res->sealed_batch_id)
        res->sealed_batch_id = sealed;
    if (kp_has_sink(p))
        emit_rec(p, KP_EV_RECORD_PARTITIONED, th->seq, rec->topic, *partition, 0, KW_ERR_NONE,
                 "sticky partition switched");
}

/* What a failed append tells the caller (BUFFER_EXHAUSTED as Java's BufferPool says it). */
static void append_error_text(const kp_producer *p, kw_err err, size_t upper, char *errbuf,
                              size_t errsize) {
    if (err == KW_ERR__BUFFER_EXHAUSTED)
        snprintf(errbuf, errsize,
                 "failed to allocate %d bytes within the configured max blocking time %lld ms",
                 (int)(upper > (size_t)p->conf.batch_size ? upper : (size_t)p->conf.batch_size),
                 (long long)p->conf.max_block_ms);
    else
        snprintf(errbuf, errsize, "append failed: %s", kw_err_name(err));
}

static void emit_wait_done(kp_producer *p, uint64_t seq, const char *topic, int32_t partition,
                           int64_t waited_us, kw_err err) {
    kp_event ev = kp_ev(p, KP_EV_BUFFER_WAIT_DONE);
    ev.record_seq = seq;
    ev.topic = topic;
    ev.partition = partition;
    ev.duration_us = waited_us;
    ev.err = err;
    kp_emit(p, &ev);
}

/* The events of a record that reached the sorting room: the batch it sealed, the batch it
 * opened, and the record appended (upper is its size bound, the new batch's minimum). */
static void emit_appended(kp_producer *p, uint64_t seq, const char *topic, int32_t partition,
                          kw_slice key, size_t upper, const kp_append_result *res) {
    if (res->sealed_batch_id) {
        kp_event ev = kp_ev(p, KP_EV_BATCH_SEALED);
        ev.batch_id = res->sealed_batch_id;
        ev.topic = topic;
        ev.partition = partition;
        kp_emit(p, &ev);
    }
    if (res->new_batch) {
        kp_event ev = kp_ev(p, KP_EV_BATCH_CREATED);
        ev.batch_id = res->batch_id;
        ev.topic = topic;
        ev.partition = partition;
        ev.bytes = p->conf.batch_size > (int32_t)upper ? p->conf.batch_size : (int64_t)upper;
        kp_emit(p, &ev);
    }
    kp_event ev = kp_ev(p, KP_EV_RECORD_APPENDED);
    ev.record_seq = seq;
    ev.key = key.p;
    ev.key_len = key.len;
    ev.batch_id = res->batch_id;
    ev.topic = topic;
    ev.partition = partition;
    ev.record_count = res->batch_records;
    ev.bytes = (int64_t)upper;
    kp_emit(p, &ev);
}

/* Stage 1: a closed producer takes nothing; the interceptors' onSend may change the record
 * (Java's ProducerInterceptors.onSend), which must still be valid after them. */
static kw_err intercept(kp_producer *p, uint64_t seq, kp_record *rec, bool sink, char *errbuf,
                        size_t errsize) {
    if (atomic_load(&p->closing)) {
        snprintf(errbuf, errsize, "the producer is closed");
        return KW_ERR__STATE;
    }
    run_on_send(p, seq, rec, sink);
    const char *invalid = record_invalid(rec);
    if (invalid) {
        snprintf(errbuf, errsize, "%s", invalid);
        return KW_ERR__INVALID_ARG;
    }
    if (sink)
        emit_rec(p, KP_EV_RECORD_INTERCEPTED, seq, rec->topic, rec->partition, 0, KW_ERR_NONE,
                 NULL);
    return KW_ERR_NONE;
}

/* The front desk's send (Java's KafkaProducer.doSend()), one stage a step: interceptors,
 * metadata, serializers, partitioner, size check, append. A record that fails at any stage
 * leaves through `fail`: interceptors and events hear of it, the caller gets the error. */
kw_err kp_produce(kp_producer *p, const kp_record *in, kp_delivery_cb cb, void *opaque,
                  uint64_t *record_seq) {
    if (record_seq)
        *record_seq = 0;
    if (!p || !in)
        return KW_ERR__INVALID_ARG;
    uint64_t seq = atomic_fetch_add(&p->next_record_seq, 1);
    if (record_seq)
        *record_seq = seq;
    int64_t t0_us = kp_now_us(p);
    int64_t deadline = t0_us / 1000 + p->conf.max_block_ms;
    bool sink = kp_has_sink(p);
    kp_record rec = *in;
    int32_t partition = -1; /* the partition a failure is reported against */
    char errbuf[200];
    kw_err err = KW_ERR_NONE;
    uint8_t kscratch[8], vscratch[8];
    kw_wbuf kwb, vwb;
    kw_wbuf_init(&kwb);
    kw_wbuf_init(&vwb);
    kw_header hstack[16];
    kw_header *hs = NULL;

    if (sink)
        emit_rec(p, KP_EV_RECORD_SENT, seq, in->topic, in->partition, 0, KW_ERR_NONE, NULL);

    /* 1. interceptors */
    err = intercept(p, seq, &rec, sink, errbuf, sizeof errbuf);
    if (err != KW_ERR_NONE)
        goto fail;

    /* 2. metadata: wait for the topic's partitions, up to max.block.ms */
    bool blocked = false;
    int32_t n_parts = wait_for_topic(p, rec.topic, deadline, &blocked, &err, errbuf, sizeof errbuf);
    if (n_parts <= 0)
        goto fail;

    /* 3. serializers */
    kw_slice key, value;
    err = serialize(p, true, rec.topic, rec.key, rec.key_len, kscratch, &kwb, &key, errbuf,
                    sizeof errbuf);
    if (err == KW_ERR_NONE)
        err = serialize(p, false, rec.topic, rec.value, rec.value_len, vscratch, &vwb, &value,
                        errbuf, sizeof errbuf);
    if (err != KW_ERR_NONE)
        goto fail;
    if (sink)
        emit_serialized(p, seq, &rec, key, value);

    /* 4. partitioner */
    bool sticky = false;
    err = kp_partition_choose(p, rec.topic, rec.partition, key, n_parts, &partition, &sticky,
                              errbuf, sizeof errbuf);
    if (err != KW_ERR_NONE)
        goto fail;
    if (sink)
        emit_partitioned(p, seq, rec.topic, partition, key);

    /* 5. headers and the size check */
    hs = wire_headers(&rec, hstack);
    if (!hs) {
        err = KW_ERR__NO_MEMORY;
        snprintf(errbuf, sizeof errbuf, "out of memory");
        goto fail;
    }
    size_t upper = kw_batch_size_upper_bound(key, value, hs, rec.n_headers);
    err = check_record_size(p, upper, errbuf, sizeof errbuf);
    if (err != KW_ERR_NONE)
        goto fail;

    /* 6. the accumulator (may block on buffer memory for what is left of max.block.ms) */
    kp_append_result res;
    memset(&res, 0, sizeof res);
    /* One clock read per record, as Java's doSend() (nowMs read once, plus the metadata wait,
     * serves the timestamp, max.block.ms and the append): read again only when the metadata
     * wait blocked, or when a sink listens (in step mode an event may hold this thread while
     * simulated time runs). */
    int64_t now_us = blocked || sink ? kp_now_us(p) : t0_us;
    int64_t ts = rec.timestamp_ms >= 0 ? rec.timestamp_ms : kp_epoch_ms_at(p, now_us); /* Create */
    kp_thunk th = {cb, opaque, seq, t0_us};
    int64_t left = deadline - now_us / 1000;
    atomic_fetch_add(&p->outstanding, 1);
    append_sticky_retry(p, &rec, ts, key, value, hs, &th, now_us / 1000, left < 0 ? 0 : left,
                        sticky, n_parts, &partition, &res);
    err = res.err;
    if (err != KW_ERR_NONE) {
        atomic_fetch_sub(&p->outstanding, 1);
        append_error_text(p, err, upper, errbuf, sizeof errbuf);
    }
    if (res.waited && sink)
        emit_wait_done(p, seq, rec.topic, partition, res.waited_us, err);
    if (err != KW_ERR_NONE)
        goto fail;

    kp_stats_record_sent(p, 1);
    if (sink)
        emit_appended(p, seq, rec.topic, partition, key, upper, &res);
    if (hs != hstack)
        free(hs);
    kw_wbuf_free(&kwb); /* after the events: a user serializer's key lives here */
    kw_wbuf_free(&vwb);
    if (res.new_batch || res.batch_full)
        kp_net_wakeup(&p->net);
    return KW_ERR_NONE;

fail:
    if (hs != hstack)
        free(hs);
    kw_wbuf_free(&kwb);
    kw_wbuf_free(&vwb);
    return fail_record(p, seq, &rec, partition, err, errbuf);
}
