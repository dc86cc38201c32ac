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
    int64_t t0 = t0_us / 1000;
    bool sink = kp_has_sink(p);
    if (sink)
        emit_rec(p, KP_EV_RECORD_SENT, seq, in->topic, in->partition, 0, KW_ERR_NONE, NULL);
    if (atomic_load(&p->closing))
        return fail_record(p, seq, in, -1, KW_ERR__STATE, "the producer is closed");

    /* 1. interceptors (on_send may rewrite the record; failures are logged and swallowed) */
    kp_record rec = *in;
    for (int k = 0; k < p->conf.n_interceptors; k++) {
        const kp_interceptor *ic = &p->conf.interceptors[k];
        if (!ic->on_send)
            continue;
        kp_record before = rec;
        kw_err ierr = ic->on_send(ic->opaque, &rec);
        if (ierr != KW_ERR_NONE) {
            rec = before;
            char msg[200];
            snprintf(msg, sizeof msg, "interceptor %s on_send failed: %s",
                     ic->name ? ic->name : "?", kw_err_name(ierr));
            kp_log(p, 4, "%s", msg);
            if (sink)
                emit_rec(p, KP_EV_INTERCEPTOR_ERROR, seq, rec.topic, -1, 0, ierr, msg);
        }
    }
    if (!rec.topic || !*rec.topic || strlen(rec.topic) > 249)
        return fail_record(p, seq, &rec, -1, KW_ERR__INVALID_ARG,
                           "the record has no valid topic name");
    if (rec.n_headers < 0 || (rec.n_headers > 0 && !rec.headers))
        return fail_record(p, seq, &rec, -1, KW_ERR__INVALID_ARG, "bad headers array");
    for (int32_t i = 0; i < rec.n_headers; i++)
        if (!rec.headers[i].key || (rec.headers[i].value && rec.headers[i].value_len < 0))
            return fail_record(p, seq, &rec, -1, KW_ERR__INVALID_ARG,
                               !rec.headers[i].key ? "a header has no key"
                                                   : "a header value has a negative length");
    if (rec.timestamp_ms < KP_TIMESTAMP_NOW)
        return fail_record(p, seq, &rec, -1, KW_ERR__INVALID_ARG,
                           "invalid timestamp (negative and not KP_TIMESTAMP_NOW)");
    if (sink)
        emit_rec(p, KP_EV_RECORD_INTERCEPTED, seq, rec.topic, rec.partition, 0, KW_ERR_NONE, NULL);

    /* 2. metadata: wait for the topic's partitions, up to max.block.ms */
    int64_t deadline = t0 + p->conf.max_block_ms;
    int16_t terr = 0;
    int32_t n_parts =
        kp_metadata_wait_topic(&p->md, rec.topic, deadline, wake_sender, &p->net, &terr);
    if (n_parts <= 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "topic %s not present in metadata after %lld ms%s%s", rec.topic,
                 (long long)p->conf.max_block_ms, terr ? ": " : "",
                 terr ? kw_err_name((kw_err)terr) : "");
        return fail_record(p, seq, &rec, -1,
                           atomic_load(&p->closing) ? KW_ERR__STATE : KW_ERR__METADATA_TIMEOUT,
                           msg);
    }

    /* 3. serializers */
    uint8_t kscratch[8], vscratch[8];
    kw_wbuf kwb, vwb;
    kw_wbuf_init(&kwb);
    kw_wbuf_init(&vwb);
    kw_slice key, value;
    char errbuf[200];
    kw_err err = serialize(p, true, rec.topic, rec.key, rec.key_len, kscratch, &kwb, &key, errbuf,
                           sizeof errbuf);
    if (err == KW_ERR_NONE)
        err = serialize(p, false, rec.topic, rec.value, rec.value_len, vscratch, &vwb, &value,
                        errbuf, sizeof errbuf);
    if (err != KW_ERR_NONE) {
        kw_wbuf_free(&kwb);
        kw_wbuf_free(&vwb);
        return fail_record(p, seq, &rec, -1, err, errbuf);
    }
    int32_t ksize = key.len, vsize = value.len;
    if (sink) {
        kp_event ev = kp_ev(p, KP_EV_RECORD_SERIALIZED);
        ev.record_seq = seq;
        ev.topic = rec.topic;
        ev.partition = rec.partition;
        ev.bytes = (ksize > 0 ? ksize : 0) + (vsize > 0 ? vsize : 0);
        ev.key = key.p;
        ev.key_len = key.len;
        kp_emit(p, &ev);
    }

    /* 4. partitioner */
    int32_t partition = rec.partition;
    bool sticky = false;
    if (partition >= 0) {
        if (partition >= n_parts) {
            snprintf(errbuf, sizeof errbuf, "partition %d is not in topic %s (%d partitions)",
                     (int)partition, rec.topic, (int)n_parts);
            err = KW_ERR__UNKNOWN_PARTITION;
        }
    } else if (partition != KP_PARTITION_ANY) {
        snprintf(errbuf, sizeof errbuf, "partition %d is invalid", (int)partition);
        err = KW_ERR__INVALID_ARG;
    } else if (p->conf.partitioner == KP_PART_ROUND_ROBIN) {
        partition = kp_round_robin_partition(&p->sticky, rec.topic, n_parts);
    } else if (key.len >= 0 && key.p &&
               (p->conf.partitioner == KP_PART_MURMUR2 ||
                (p->conf.partitioner != KP_PART_STICKY && !p->conf.partitioner_ignore_keys))) {
        /* keyed: murmur2 always hashes a key; the default unless told to ignore keys */
        partition = kp_partition_for_key(key.p, (size_t)key.len, n_parts);
    } else {
        partition = kp_sticky_partition(&p->sticky, rec.topic, n_parts);
        sticky = true;
    }
    if (err != KW_ERR_NONE) {
        kw_wbuf_free(&kwb);
        kw_wbuf_free(&vwb);
        return fail_record(p, seq, &rec, partition, err, errbuf);
    }
    if (sink) {
        kp_event ev = kp_ev(p, KP_EV_RECORD_PARTITIONED);
        ev.record_seq = seq;
        ev.topic = rec.topic;
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

    /* 5. headers and the size check (Java's ensureValidRecordSize) */
    kw_header hstack[16];
    kw_header *hs = rec.n_headers <= 16 ? hstack : malloc((size_t)rec.n_headers * sizeof *hs);
    if (!hs) {
        kw_wbuf_free(&kwb);
        kw_wbuf_free(&vwb);
        return fail_record(p, seq, &rec, partition, KW_ERR__NO_MEMORY, "out of memory");
    }
    for (int32_t i = 0; i < rec.n_headers; i++) {
        hs[i].key = kw_slice_str(rec.headers[i].key);
        hs[i].value = rec.headers[i].value
                          ? (kw_slice){rec.headers[i].value, rec.headers[i].value_len}
                          : KW_SLICE_NULL;
    }
    size_t upper = kw_batch_size_upper_bound(key, value, hs, rec.n_headers);
    if (upper > (size_t)p->conf.max_request_size || upper > (size_t)p->conf.buffer_memory) {
        snprintf(errbuf, sizeof errbuf,
                 "the record is %zu bytes when serialized, larger than %s (%lld)", upper,
                 upper > (size_t)p->conf.max_request_size ? "max.request.size" : "buffer.memory",
                 upper > (size_t)p->conf.max_request_size ? (long long)p->conf.max_request_size
                                                          : (long long)p->conf.buffer_memory);
        err = KW_ERR__RECORD_TOO_LARGE;
    }

    /* 6. the accumulator (may block on buffer memory for what is left of max.block.ms) */
    kp_append_result res;
    memset(&res, 0, sizeof res);
    int64_t ts = rec.timestamp_ms >= 0 ? rec.timestamp_ms : kp_epoch_ms(p); /* CreateTime */
    if (err == KW_ERR_NONE) {
        kp_thunk th = {cb, opaque, seq, t0_us};
        int64_t now = kp_now_ms(p);
        int64_t left = deadline - now;
        if (left < 0)
            left = 0;
        wait_ctx wc = {p, seq, rec.topic, partition};
        kp_tp *tp = kp_accum_tp(&p->accum, rec.topic, partition);
        atomic_fetch_add(&p->outstanding, 1);
        if (!tp) {
            res.err = KW_ERR__NO_MEMORY;
        } else {
            kp_accum_append(&p->accum, tp, ts, key, value, hs, rec.n_headers, &th, left, sticky,
                            now, on_buffer_wait, &wc, &res);
            if (res.aborted_for_new_batch) {
                /* KIP-480: the sticky partition's batch is full; switch partitions. */
                uint64_t sealed = res.sealed_batch_id;
                partition = kp_sticky_next(&p->sticky, rec.topic, n_parts, partition);
                wc.partition = partition;
                tp = kp_accum_tp(&p->accum, rec.topic, partition);
                if (!tp)
                    res.err = KW_ERR__NO_MEMORY;
                else
                    kp_accum_append(&p->accum, tp, ts, key, value, hs, rec.n_headers, &th, left,
                                    false, now, on_buffer_wait, &wc, &res);
                if (!res.sealed_batch_id)
                    res.sealed_batch_id = sealed;
                if (sink)
                    emit_rec(p, KP_EV_RECORD_PARTITIONED, seq, rec.topic, partition, 0, KW_ERR_NONE,
                             "sticky partition switched");
            }
        }
        if (res.err != KW_ERR_NONE)
            atomic_fetch_sub(&p->outstanding, 1);
        err = res.err;
        if (err == KW_ERR__BUFFER_EXHAUSTED)
            snprintf(errbuf, sizeof errbuf,
                     "failed to allocate %d bytes within the configured max blocking time %lld ms",
                     (int)(upper > (size_t)p->conf.batch_size ? upper : (size_t)p->conf.batch_size),
                     (long long)p->conf.max_block_ms);
        else if (err != KW_ERR_NONE)
            snprintf(errbuf, sizeof errbuf, "append failed: %s", kw_err_name(err));
    }
    if (hs != hstack)
        free(hs);
    if (res.waited && sink) {
        kp_event ev = kp_ev(p, KP_EV_BUFFER_WAIT_DONE);
        ev.record_seq = seq;
        ev.topic = rec.topic;
        ev.partition = partition;
        ev.duration_us = res.waited_us;
        ev.err = err;
        kp_emit(p, &ev);
    }
    if (err != KW_ERR_NONE) {
        kw_wbuf_free(&kwb);
        kw_wbuf_free(&vwb);
        return fail_record(p, seq, &rec, partition, err, errbuf);
    }

    kp_stats_record_sent(p, 1);
    if (sink) {
        if (res.sealed_batch_id) {
            kp_event ev = kp_ev(p, KP_EV_BATCH_SEALED);
            ev.batch_id = res.sealed_batch_id;
            ev.topic = rec.topic;
            ev.partition = partition;
            kp_emit(p, &ev);
        }
        if (res.new_batch) {
            kp_event ev = kp_ev(p, KP_EV_BATCH_CREATED);
            ev.batch_id = res.batch_id;
            ev.topic = rec.topic;
            ev.partition = partition;
            ev.bytes = p->conf.batch_size > (int32_t)upper ? p->conf.batch_size : (int64_t)upper;
            kp_emit(p, &ev);
        }
        kp_event ev = kp_ev(p, KP_EV_RECORD_APPENDED);
        ev.record_seq = seq;
        ev.key = key.p;
        ev.key_len = key.len;
        ev.batch_id = res.batch_id;
        ev.topic = rec.topic;
        ev.partition = partition;
        ev.record_count = res.batch_records;
        ev.bytes = (int64_t)upper;
        kp_emit(p, &ev);
    }
    kw_wbuf_free(&kwb); /* after the events: a user serializer's key lives here */
    kw_wbuf_free(&vwb);
    if (res.new_batch || res.batch_full)
        kp_net_wakeup(&p->net);
    return KW_ERR_NONE;
}
