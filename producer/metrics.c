/* The ledger: producer metrics with Java's names (producer-metrics group). Counters are
 * atomics bumped on the hot paths; rates are computed when read, over a window of at least
 * one second (Java samples 30 s windows; the view wants something livelier). */
#include "producer/kp_int.h"

#include <string.h>

void kp_stats_init(kp_stats *s, int64_t now_ms) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->created_ms = now_ms;
    s->win_ms = now_ms;
}

void kp_stats_destroy(kp_stats *s) {
    pthread_mutex_destroy(&s->lock);
}

static void atomic_max(_Atomic int64_t *a, int64_t v) {
    int64_t cur = atomic_load_explicit(a, memory_order_relaxed);
    while (v > cur && !atomic_compare_exchange_weak(a, &cur, v)) {
    }
}

void kp_stats_record_sent(struct kp_producer *p, int64_t n) {
    atomic_fetch_add_explicit(&p->stats.record_send_total, n, memory_order_relaxed);
}

void kp_stats_record_error(struct kp_producer *p, int64_t n) {
    atomic_fetch_add_explicit(&p->stats.record_error_total, n, memory_order_relaxed);
}

void kp_stats_record_retry(struct kp_producer *p, int64_t n) {
    atomic_fetch_add_explicit(&p->stats.record_retry_total, n, memory_order_relaxed);
}

void kp_stats_batch_drained(struct kp_producer *p, const kp_batch *b, int64_t now_ms) {
    kp_stats *s = &p->stats;
    atomic_fetch_add_explicit(&s->batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->batch_bytes, (int64_t)b->size, memory_order_relaxed);
    atomic_max(&s->batch_bytes_max, (int64_t)b->size);
    atomic_fetch_add_explicit(&s->batch_raw_bytes, (int64_t)b->raw_size, memory_order_relaxed);
    /* Java's Sender records batch.compressionRatio() (1.0 uncompressed) per drained batch. */
    atomic_fetch_add_explicit(&s->compression_ratio_ppm,
                              (int64_t)(kp_batch_observed_ratio(b) * 1e6f + 0.5f),
                              memory_order_relaxed);
    if (b->attempts == 1) {
        int64_t q = now_ms - b->created_ms;
        atomic_fetch_add_explicit(&s->queue_time_ms_sum, q, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->queue_samples, 1, memory_order_relaxed);
        atomic_max(&s->queue_time_ms_max, q);
    }
}

void kp_stats_request(struct kp_producer *p, int32_t records) {
    atomic_fetch_add_explicit(&p->stats.requests, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.request_records, records, memory_order_relaxed);
}

void kp_stats_response(struct kp_producer *p, int64_t latency_ms) {
    atomic_fetch_add_explicit(&p->stats.responses, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.latency_ms_sum, latency_ms, memory_order_relaxed);
    atomic_max(&p->stats.latency_ms_max, latency_ms);
}

static double avg(int64_t sum, int64_t n) {
    return n > 0 ? (double)sum / (double)n : 0.0;
}

void kp_metrics_get(kp_producer *p, kp_metrics *m) {
    memset(m, 0, sizeof *m);
    kp_stats *s = &p->stats;
    int64_t now = kp_now_ms(p);
    int64_t send = atomic_load(&s->record_send_total);
    int64_t error = atomic_load(&s->record_error_total);
    int64_t retry = atomic_load(&s->record_retry_total);
    int64_t req = atomic_load(&s->requests);
    pthread_mutex_lock(&s->lock);
    int64_t dt = now - s->win_ms;
    if (dt >= 1000) {
        double sec = (double)dt / 1000.0;
        s->rate_send = (double)(send - s->win_send) / sec;
        s->rate_error = (double)(error - s->win_error) / sec;
        s->rate_retry = (double)(retry - s->win_retry) / sec;
        s->rate_req = (double)(req - s->win_req) / sec;
        s->win_ms = now;
        s->win_send = send;
        s->win_error = error;
        s->win_retry = retry;
        s->win_req = req;
    } else if (s->win_ms == s->created_ms && dt > 0) {
        double sec = (double)dt / 1000.0;
        s->rate_send = (double)send / sec;
        s->rate_error = (double)error / sec;
        s->rate_retry = (double)retry / sec;
        s->rate_req = (double)req / sec;
    }
    m->record_send_rate = s->rate_send;
    m->record_error_rate = s->rate_error;
    m->record_retry_rate = s->rate_retry;
    m->request_rate = s->rate_req;
    pthread_mutex_unlock(&s->lock);
    m->record_send_total = (double)send;
    m->record_error_total = (double)error;
    m->record_retry_total = (double)retry;
    int64_t batches = atomic_load(&s->batches);
    m->batch_size_avg = avg(atomic_load(&s->batch_bytes), batches);
    m->batch_size_max = (double)atomic_load(&s->batch_bytes_max);
    m->compression_rate_avg =
        batches ? (double)atomic_load(&s->compression_ratio_ppm) / 1e6 / (double)batches : 0;
    m->batch_byte_total = (double)atomic_load(&s->batch_bytes);
    m->batch_raw_byte_total = (double)atomic_load(&s->batch_raw_bytes);
    m->records_per_request_avg = avg(atomic_load(&s->request_records), req);
    m->record_queue_time_avg =
        avg(atomic_load(&s->queue_time_ms_sum), atomic_load(&s->queue_samples));
    m->record_queue_time_max = (double)atomic_load(&s->queue_time_ms_max);
    int64_t resp = atomic_load(&s->responses);
    m->request_latency_avg = avg(atomic_load(&s->latency_ms_sum), resp);
    m->request_latency_max = (double)atomic_load(&s->latency_ms_max);
    m->request_total = (double)req;
    m->response_total = (double)resp;
    m->requests_in_flight = (double)kp_net_in_flight(&p->net);
    int64_t avail, pooled;
    int32_t waiters;
    kp_bufpool_stats(&p->pool, &avail, &pooled, &waiters);
    m->buffer_total_bytes = (double)p->pool.total;
    m->buffer_available_bytes = (double)avail;
    m->bufferpool_wait_time_ns_total = (double)atomic_load(&p->pool.wait_time_ns_total);
    m->waiting_threads = waiters;
    m->batch_split_total = (double)atomic_load(&s->batch_split_total);
    pthread_mutex_lock(&p->md.lock);
    int64_t last = p->md.last_update_ms;
    pthread_mutex_unlock(&p->md.lock);
    m->metadata_age = last > INT64_MIN / 4 ? (double)(now - last) / 1000.0 : 0;
    m->outgoing_byte_total = (double)p->net.bytes_out;
    m->incoming_byte_total = (double)p->net.bytes_in;
}

int kp_metrics_foreach(const kp_metrics *m,
                       void (*fn)(const char *name, double value, void *opaque), void *opaque) {
    struct {
        const char *name;
        double v;
    } rows[] = {
        {"record-send-rate", m->record_send_rate},
        {"record-send-total", m->record_send_total},
        {"record-error-rate", m->record_error_rate},
        {"record-error-total", m->record_error_total},
        {"record-retry-rate", m->record_retry_rate},
        {"record-retry-total", m->record_retry_total},
        {"batch-size-avg", m->batch_size_avg},
        {"batch-size-max", m->batch_size_max},
        {"records-per-request-avg", m->records_per_request_avg},
        {"record-queue-time-avg", m->record_queue_time_avg},
        {"record-queue-time-max", m->record_queue_time_max},
        {"request-latency-avg", m->request_latency_avg},
        {"request-latency-max", m->request_latency_max},
        {"request-rate", m->request_rate},
        {"request-total", m->request_total},
        {"response-total", m->response_total},
        {"requests-in-flight", m->requests_in_flight},
        {"buffer-total-bytes", m->buffer_total_bytes},
        {"buffer-available-bytes", m->buffer_available_bytes},
        {"bufferpool-wait-time-ns-total", m->bufferpool_wait_time_ns_total},
        {"waiting-threads", m->waiting_threads},
        {"batch-split-total", m->batch_split_total},
        {"metadata-age", m->metadata_age},
        {"outgoing-byte-total", m->outgoing_byte_total},
        {"incoming-byte-total", m->incoming_byte_total},
        {"compression-rate-avg", m->compression_rate_avg},
        {"batch-byte-total", m->batch_byte_total},
        {"batch-raw-byte-total", m->batch_raw_byte_total},
    };
    int n = (int)(sizeof rows / sizeof rows[0]);
    for (int i = 0; i < n; i++)
        fn(rows[i].name, rows[i].v, opaque);
    return n;
}
