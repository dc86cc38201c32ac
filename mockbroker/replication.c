/* Replication: the vans between depots. The controller thread plays every follower's fetcher:
 * a follower copies the leader's batches once they are `follower lag` old (a reference, not a
 * byte copy), and the ISR and high watermark follow as in Kafka:
 * - a follower is caught up at time t when it held everything the leader had at t; it leaves
 *   the ISR when it has not been caught up for longer than replica.lag.time.max.ms
 *   (Kafka's Partition.getOutOfSyncReplicas), and rejoins once its log end reaches the high
 *   watermark (Partition.maybeExpandIsr);
 * - the high watermark is the smallest log end in the ISR.
 * Down or isolated brokers copy nothing.
 *
 * @locality controller thread (mb_controller_main); everything under c->lock. */
#include "mockbroker/mb_int.h"

#include <errno.h>
#include <time.h>

/* One partition's tick. Returns the earliest cluster time at which something will change
 * (a batch due for a follower, a follower due to leave the ISR), or INT64_MAX. */
int64_t mb_partition_tick(mb_cluster *c, mb_partition *p, int64_t now, mb_evbuf *eb) {
    int64_t next = INT64_MAX;
    if (p->leader < 0)
        return next;
    mb_replica *lr = &p->rep[p->last_leader];
    mb_broker *lb = mb_broker_get(c, p->leader);
    int64_t max_lag_us = c->conf.replica_lag_time_max_ms * 1000;
    for (int32_t i = 0; i < p->n_replicas; i++) {
        mb_replica *r = &p->rep[i];
        if (r == lr)
            continue;
        mb_broker *fb = mb_broker_get(c, r->node);
        if (!fb->up)
            continue; /* taken out of the ISR when it went down */
        bool linked = !fb->isolated && !lb->isolated;
        if (linked && r->log.end < lr->log.end) {
            /* The follower's log is a prefix of the leader's (reconciled on every leader
             * change), so it continues at index r->log.n. */
            size_t k = r->log.n;
            int64_t from = r->log.end, bytes = 0;
            int32_t n = 0;
            while (k < lr->log.n && lr->log.v[k]->append_time_us + fb->follower_lag_us <= now) {
                if (!mb_log_append(&r->log, lr->log.v[k]))
                    break;
                bytes += (int64_t)lr->log.v[k]->len;
                n += lr->log.v[k]->count;
                k++;
            }
            if (k < lr->log.n) {
                int64_t due = lr->log.v[k]->append_time_us + fb->follower_lag_us;
                if (due < next)
                    next = due;
            }
            if (n > 0) {
                mb_event *ev = mb_ev_add(c, eb, MB_EV_REPLICA_FETCHED, r->node);
                if (ev) {
                    ev->peer_node_id = p->leader;
                    ev->topic = p->topic->name;
                    ev->partition = p->id;
                    ev->offset = from;
                    ev->offset_end = r->log.end;
                    ev->bytes = bytes;
                    ev->count = n;
                }
            }
        }
        /* Caught up until the first batch it still lacks was appended. */
        if (r->log.end >= lr->log.end)
            r->caught_up_us = now;
        else {
            size_t k = r->log.n;
            int64_t t = lr->log.v[k]->append_time_us;
            if (t > r->caught_up_us)
                r->caught_up_us = t;
        }
        if (r->in_isr && now - r->caught_up_us > max_lag_us) {
            r->in_isr = false;
            mb_event *ev = mb_ev_add(c, eb, MB_EV_ISR_CHANGED, p->leader);
            if (ev) {
                ev->topic = p->topic->name;
                ev->partition = p->id;
                ev->peer_node_id = r->node;
                ev->error = KW_ERR_REPLICA_NOT_AVAILABLE;
                ev->offset = r->log.end;
                mb_partition_fill_isr(p, &ev->n_isr, ev->isr);
                mb_ev_detail(eb, ev, "broker %d left the ISR: not caught up for %lld ms", r->node,
                             (long long)((now - r->caught_up_us) / 1000));
            }
            /* Requests waiting for this replica may now complete or fail. */
            if (atomic_load(&lb->n_pending) > 0)
                mb_broker_wake(lb);
        } else if (!r->in_isr && linked && r->log.end >= p->hw &&
                   now - r->caught_up_us <= max_lag_us) {
            r->in_isr = true;
            mb_event *ev = mb_ev_add(c, eb, MB_EV_ISR_CHANGED, p->leader);
            if (ev) {
                ev->topic = p->topic->name;
                ev->partition = p->id;
                ev->peer_node_id = r->node;
                ev->offset = r->log.end;
                mb_partition_fill_isr(p, &ev->n_isr, ev->isr);
                mb_ev_detail(eb, ev, "broker %d rejoined the ISR", r->node);
            }
        }
        if (r->in_isr && r->log.end < lr->log.end) {
            int64_t due = r->caught_up_us + max_lag_us + 1;
            if (due < next)
                next = due;
        }
    }
    mb_partition_update_hw(c, p, eb);
    mb_partition_retain(c, p, now, eb);
    return next;
}

void *mb_controller_main(void *arg) {
    mb_cluster *c = arg;
    pthread_setname_np(pthread_self(), "mb:controller");
    mb_evbuf eb;
    mb_evbuf_init(&eb);
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&c->stopping)) {
        c->ctl_kick = false;
        int64_t now = mb_now(c);
        int64_t next = INT64_MAX;
        for (size_t t = 0; t < c->n_topics; t++) {
            mb_topic *tp = c->topics[t];
            for (int32_t i = 0; i < tp->n_partitions; i++) {
                int64_t n = mb_partition_tick(c, &tp->parts[i], now, &eb);
                int64_t d = mb_partition_retain_due(&tp->parts[i]); /* retention.ms */
                if (d < n)
                    n = d;
                if (n < next)
                    next = n;
            }
        }
        if (eb.n) {
            pthread_mutex_unlock(&c->lock);
            mb_evbuf_flush(c, &eb);
            pthread_mutex_lock(&c->lock);
            continue; /* state may have moved while the sink ran */
        }
        if (c->ctl_kick)
            continue;
        /* Sleep until the next due time (in wall time), at most 100 ms, so a paused or
         * rescaled clock is re-read often enough. */
        int64_t wait_us = 100000;
        if (next != INT64_MAX) {
            int64_t sim = next - now;
            if (sim < 0)
                sim = 0;
            int64_t w = c->clock->wall_us(c->clock->opaque, sim);
            if (w < wait_us)
                wait_us = w;
        }
        if (wait_us <= 0)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (wait_us % 1000000) * 1000;
        ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        while (!c->ctl_kick && !atomic_load(&c->stopping)) {
            if (pthread_cond_timedwait(&c->ctl_cond, &c->lock, &ts) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    mb_evbuf_free(&eb);
    return NULL;
}
