/* Fault injection: the lab instructor's switches. Each call takes effect at once under the
 * cluster lock (elections, ISR changes), wakes the threads concerned and emits its events
 * after the lock is released. None waits for a broker thread, so a call is safe even while a
 * sink holds a broker thread in step mode. */
#include "mockbroker/mb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_BEGIN(c)                                                                             \
    mb_evbuf eb;                                                                                   \
    mb_evbuf_init(&eb);                                                                            \
    pthread_mutex_lock(&(c)->lock)

#define FAULT_END(c)                                                                               \
    pthread_mutex_unlock(&(c)->lock);                                                              \
    mb_evbuf_flush((c), &eb);                                                                      \
    mb_evbuf_free(&eb)

static mb_event *fault_event(mb_cluster *c, mb_evbuf *eb, int32_t node) {
    return mb_ev_add(c, eb, MB_EV_FAULT_INJECTED, node);
}

mb_err mb_broker_down(mb_cluster *c, int32_t node_id) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    FAULT_BEGIN(c);
    if (b->up) {
        b->up = false;
        atomic_store(&b->want_up, false);
        mb_ev_detail(&eb, fault_event(c, &eb, node_id), "broker %d down", node_id);
        mb_ev_add(c, &eb, MB_EV_BROKER_DOWN, node_id);
        for (size_t t = 0; t < c->n_topics; t++) {
            mb_topic *tp = c->topics[t];
            for (int32_t i = 0; i < tp->n_partitions; i++) {
                mb_partition *p = &tp->parts[i];
                mb_replica *r = mb_partition_replica(p, node_id);
                if (!r)
                    continue;
                /* Kafka keeps the last ISR member in the ISR when it dies (so it can come
                 * back as leader); otherwise the dead broker leaves the ISR at once. */
                if (r->in_isr && mb_partition_isr_count(p) > 1) {
                    r->in_isr = false;
                    mb_event *ev = mb_ev_add(c, &eb, MB_EV_ISR_CHANGED, p->leader);
                    if (ev) {
                        ev->topic = tp->name;
                        ev->partition = i;
                        ev->peer_node_id = node_id;
                        ev->error = KW_ERR_BROKER_NOT_AVAILABLE;
                        mb_partition_fill_isr(p, &ev->n_isr, ev->isr);
                    }
                }
                if (p->leader == node_id)
                    mb_partition_elect(c, p, -1, node_id, &eb);
                else
                    mb_partition_update_hw(c, p, &eb);
            }
        }
        mb_broker_wake(b);
        mb_controller_kick(c);
    }
    FAULT_END(c);
    return MB_OK;
}

mb_err mb_broker_up(mb_cluster *c, int32_t node_id) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    FAULT_BEGIN(c);
    if (!b->up) {
        b->up = true;
        atomic_store(&b->want_up, true);
        mb_ev_detail(&eb, fault_event(c, &eb, node_id), "broker %d up", node_id);
        mb_ev_add(c, &eb, MB_EV_BROKER_UP, node_id);
        int64_t now = mb_now(c);
        for (size_t t = 0; t < c->n_topics; t++) {
            mb_topic *tp = c->topics[t];
            for (int32_t i = 0; i < tp->n_partitions; i++) {
                mb_partition *p = &tp->parts[i];
                mb_replica *r = mb_partition_replica(p, node_id);
                if (!r)
                    continue;
                if (p->leader < 0 && r->in_isr) {
                    mb_partition_elect(c, p, node_id, -1, &eb);
                } else if (p->leader >= 0) {
                    mb_replica_reconcile(c, p, r, &eb);
                    r->caught_up_us = now;
                }
            }
        }
        mb_broker_wake(b);
        mb_controller_kick(c);
    }
    FAULT_END(c);
    return MB_OK;
}

bool mb_broker_is_up(const mb_cluster *c, int32_t node_id) {
    mb_cluster *mc = (mb_cluster *)c;
    mb_broker *b = mb_broker_get(mc, node_id);
    if (!b)
        return false;
    pthread_mutex_lock(&mc->lock);
    bool up = b->up;
    pthread_mutex_unlock(&mc->lock);
    return up;
}

mb_err mb_broker_set_rtt(mb_cluster *c, int32_t node_id, int64_t rtt_ms) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    if (rtt_ms < 0)
        return MB_ERR_INVALID_ARG;
    FAULT_BEGIN(c);
    atomic_store(&b->rtt_us, rtt_ms * 1000);
    mb_ev_detail(&eb, fault_event(c, &eb, node_id), "broker %d rtt %lld ms", node_id,
                 (long long)rtt_ms);
    FAULT_END(c);
    mb_broker_wake(b);
    return MB_OK;
}

mb_err mb_broker_drop_responses(mb_cluster *c, int32_t node_id, int32_t n) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    if (n < 0)
        return MB_ERR_INVALID_ARG;
    FAULT_BEGIN(c);
    atomic_store(&b->drop_next, n);
    mb_ev_detail(&eb, fault_event(c, &eb, node_id), "broker %d drops its next %d responses",
                 node_id, n);
    FAULT_END(c);
    return MB_OK;
}

mb_err mb_push_request_errors(mb_cluster *c, int16_t api_key, const char *topic, int32_t partition,
                              const kw_err *errors, size_t n) {
    if (api_key < 0 || n == 0 || !errors || (topic && strlen(topic) > MB_MAX_TOPIC_NAME))
        return MB_ERR_INVALID_ARG;
    mb_inject *in = calloc(1, sizeof *in);
    if (!in || !(in->errors = malloc(n * sizeof *errors))) {
        free(in);
        return MB_ERR_NO_MEMORY;
    }
    memcpy(in->errors, errors, n * sizeof *errors);
    in->n = n;
    in->api_key = api_key;
    in->partition = topic ? partition : -1;
    if (topic)
        snprintf(in->topic, sizeof in->topic, "%s", topic);
    FAULT_BEGIN(c);
    mb_inject **pp = &c->injects;
    while (*pp)
        pp = &(*pp)->next;
    *pp = in;
    mb_ev_detail(&eb, fault_event(c, &eb, -1), "next %zu %s requests%s%s fail (first %s)", n,
                 kw_api_name(api_key), topic ? " for " : "", topic ? topic : "",
                 kw_err_name(errors[0]));
    FAULT_END(c);
    return MB_OK;
}

kw_err mb_inject_take(mb_cluster *c, int16_t api_key, const char *topic, int32_t partition) {
    for (mb_inject **pp = &c->injects; *pp; pp = &(*pp)->next) {
        mb_inject *in = *pp;
        if (in->api_key != api_key)
            continue;
        if (topic ? (strcmp(in->topic, topic) || (in->partition >= 0 && in->partition != partition))
                  : in->topic[0] != '\0')
            continue;
        kw_err e = in->errors[in->pos++];
        if (in->pos == in->n) {
            *pp = in->next;
            free(in->errors);
            free(in);
        }
        return e;
    }
    return KW_ERR_NONE;
}

void mb_inject_free_all(mb_cluster *c) {
    while (c->injects) {
        mb_inject *in = c->injects;
        c->injects = in->next;
        free(in->errors);
        free(in);
    }
}

mb_err mb_partition_move_leader(mb_cluster *c, const char *topic, int32_t partition,
                                int32_t node_id) {
    if (!topic)
        return MB_ERR_INVALID_ARG;
    if (!mb_broker_get(c, node_id))
        return MB_ERR_UNKNOWN_BROKER;
    int rc = MB_OK;
    FAULT_BEGIN(c);
    mb_partition *p = mb_partition_find(c, kw_slice_str(topic), partition);
    mb_replica *r = p ? mb_partition_replica(p, node_id) : NULL;
    if (!p)
        rc =
            mb_topic_find(c, kw_slice_str(topic)) ? MB_ERR_UNKNOWN_PARTITION : MB_ERR_UNKNOWN_TOPIC;
    else if (!r || !r->in_isr || !mb_broker_get(c, node_id)->up)
        rc = MB_ERR_NOT_IN_ISR;
    else if (p->leader != node_id) {
        mb_event *ev = fault_event(c, &eb, node_id);
        if (ev) {
            ev->topic = p->topic->name;
            ev->partition = partition;
        }
        mb_ev_detail(&eb, ev, "move leader of %s-%d from %d to %d", topic, partition, p->leader,
                     node_id);
        mb_partition_elect(c, p, node_id, -1, &eb);
    }
    FAULT_END(c);
    return rc;
}

mb_err mb_broker_set_follower_lag(mb_cluster *c, int32_t node_id, int64_t lag_ms) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    if (lag_ms < 0)
        return MB_ERR_INVALID_ARG;
    FAULT_BEGIN(c);
    b->follower_lag_us = lag_ms * 1000;
    mb_ev_detail(&eb, fault_event(c, &eb, node_id), "broker %d follower lag %lld ms", node_id,
                 (long long)lag_ms);
    mb_controller_kick(c);
    FAULT_END(c);
    return MB_OK;
}

static int set_isolated(mb_cluster *c, int32_t node_id, bool iso) {
    mb_broker *b = mb_broker_get(c, node_id);
    if (!b)
        return MB_ERR_UNKNOWN_BROKER;
    FAULT_BEGIN(c);
    if (b->isolated != iso) {
        b->isolated = iso;
        mb_ev_detail(&eb, fault_event(c, &eb, node_id), "broker %d %s", node_id,
                     iso ? "isolated from the other brokers" : "healed");
        mb_ev_add(c, &eb, iso ? MB_EV_BROKER_ISOLATED : MB_EV_BROKER_HEALED, node_id);
        mb_controller_kick(c);
    }
    FAULT_END(c);
    return MB_OK;
}

mb_err mb_broker_isolate(mb_cluster *c, int32_t node_id) {
    return set_isolated(c, node_id, true);
}

mb_err mb_broker_heal(mb_cluster *c, int32_t node_id) {
    return set_isolated(c, node_id, false);
}
