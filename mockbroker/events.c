/* Events: what the depots tell the view. Events raised while the cluster lock is held are
 * collected in an mb_evbuf and handed to the sink only after the lock is released, because a
 * sink may block (step mode) or call back into the inspection API. With no sink, mb_ev_add()
 * returns NULL at once and nothing is built. */
#include "mockbroker/mb_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[MB_EV__COUNT] = {
    [MB_EV_REQUEST_RECEIVED] = "request.received",
    [MB_EV_RESPONSE_SENT] = "response.sent",
    [MB_EV_RESPONSE_DROPPED] = "response.dropped",
    [MB_EV_RECORDS_APPENDED] = "records.appended",
    [MB_EV_DUPLICATE_BATCH] = "batch.duplicate",
    [MB_EV_PRODUCE_REJECTED] = "produce.rejected",
    [MB_EV_REPLICA_FETCHED] = "replica.fetched",
    [MB_EV_HW_ADVANCED] = "hw.advanced",
    [MB_EV_ISR_CHANGED] = "isr.changed",
    [MB_EV_LEADER_CHANGED] = "leader.changed",
    [MB_EV_LOG_TRUNCATED] = "log.truncated",
    [MB_EV_BROKER_DOWN] = "broker.down",
    [MB_EV_BROKER_UP] = "broker.up",
    [MB_EV_BROKER_ISOLATED] = "broker.isolated",
    [MB_EV_BROKER_HEALED] = "broker.healed",
    [MB_EV_FAULT_INJECTED] = "fault.injected",
    [MB_EV_CONNECTION_OPENED] = "connection.opened",
    [MB_EV_CONNECTION_CLOSED] = "connection.closed",
    [MB_EV_TOPIC_CREATED] = "topic.created",
    [MB_EV_PRODUCER_ID_ASSIGNED] = "producer_id.assigned",
    [MB_EV_GROUP_MEMBER_JOINED] = "group.member_joined",
    [MB_EV_GROUP_MEMBER_LEFT] = "group.member_left",
    [MB_EV_GROUP_MEMBER_EXPIRED] = "group.member_expired",
    [MB_EV_GROUP_REBALANCING] = "group.rebalancing",
    [MB_EV_GROUP_REBALANCED] = "group.rebalanced",
    [MB_EV_GROUP_ASSIGNED] = "group.assigned",
    [MB_EV_OFFSET_COMMITTED] = "offset.committed",
    [MB_EV_TOPIC_DELETED] = "topic.deleted",
    [MB_EV_PARTITIONS_CREATED] = "partitions.created",
    [MB_EV_SEGMENTS_DELETED] = "segments.deleted",
};

const char *mb_event_kind_name(mb_event_kind kind) {
    if ((int)kind < 0 || kind >= MB_EV__COUNT || !kind_names[kind])
        return "unknown";
    return kind_names[kind];
}

void mb_evbuf_init(mb_evbuf *eb) {
    eb->v = eb->local;
    eb->n = 0;
    eb->cap = sizeof eb->local / sizeof eb->local[0];
    eb->strs = NULL;
    eb->strs_len = eb->strs_cap = 0;
}

mb_event *mb_ev_add(struct mb_cluster *c, mb_evbuf *eb, mb_event_kind kind, int32_t node) {
    if (!c->conf.event_cb || !eb)
        return NULL;
    if (eb->n == eb->cap) {
        size_t ncap = eb->cap * 2;
        mb_event *nv = malloc(ncap * sizeof *nv);
        if (!nv)
            return NULL;
        memcpy(nv, eb->v, eb->n * sizeof *nv);
        if (eb->v != eb->local)
            free(eb->v);
        eb->v = nv;
        eb->cap = ncap;
    }
    mb_event *ev = &eb->v[eb->n++];
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->time_us = mb_now(c);
    ev->node_id = node;
    ev->peer_node_id = -1;
    ev->partition = -1;
    ev->correlation_id = -1;
    ev->api_key = -1;
    ev->api_version = -1;
    ev->producer_epoch = -1;
    ev->leader_epoch = -1;
    ev->offset = -1;
    ev->offset_end = -1;
    ev->hw_before = -1;
    ev->hw_after = -1;
    ev->producer_id = -1;
    ev->sequence = -1;
    return ev;
}

/* Details are stored as offsets into eb->strs (the buffer may move) and turned into pointers
 * at flush time; ev->detail holds (offset + 1) cast to a pointer until then. */
void mb_ev_detail(mb_evbuf *eb, mb_event *ev, const char *fmt, ...) {
    if (!ev)
        return;
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = strlen(tmp) + 1;
    if (eb->strs_len + len > eb->strs_cap) {
        size_t ncap = eb->strs_cap ? eb->strs_cap * 2 : 512;
        while (ncap < eb->strs_len + len)
            ncap *= 2;
        char *ns = realloc(eb->strs, ncap);
        if (!ns)
            return;
        eb->strs = ns;
        eb->strs_cap = ncap;
    }
    memcpy(eb->strs + eb->strs_len, tmp, len);
    ev->detail = (const char *)(uintptr_t)(eb->strs_len + 1);
    eb->strs_len += len;
}

void mb_evbuf_flush(struct mb_cluster *c, mb_evbuf *eb) {
    if (eb->n == 0)
        return;
    for (size_t i = 0; i < eb->n; i++) {
        mb_event *ev = &eb->v[i];
        if (ev->detail)
            ev->detail = eb->strs + ((uintptr_t)ev->detail - 1);
        if (c->conf.event_cb)
            c->conf.event_cb(ev, c->conf.event_opaque);
    }
    eb->n = 0;
    eb->strs_len = 0;
}

void mb_evbuf_free(mb_evbuf *eb) {
    if (eb->v != eb->local)
        free(eb->v);
    free(eb->strs);
    mb_evbuf_init(eb);
}

void mb_logf(struct mb_cluster *c, int level, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c && c->conf.log_cb)
        c->conf.log_cb(level, line, c->conf.log_opaque);
    else
        fprintf(stderr, "mockbroker: %s\n", line);
}
