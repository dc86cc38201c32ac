/* mockbroker/mb_net.h — connections, response slots and the handler context (private).
 *
 * @locality broker thread: a connection and its slots belong to the broker thread that
 * accepted it; nobody else touches them. */
#ifndef COURIER_MOCKBROKER_MB_NET_H
#define COURIER_MOCKBROKER_MB_NET_H

#include "mockbroker/mb_int.h"

typedef enum mb_slot_state {
    MB_SLOT_READY,   /* out holds the whole response frame */
    MB_SLOT_PENDING, /* waiting (acks=all replication, fetch max_wait) */
    MB_SLOT_NONE,    /* no response (acks=0, or the broker went down) */
} mb_slot_state;

typedef struct mb_slot mb_slot;
typedef struct mb_req mb_req;

/* Re-checks a pending slot; turns it READY when done. @locality broker thread. */
typedef void (*mb_resume_fn)(mb_broker *b, mb_slot *s, int64_t now, mb_evbuf *eb);

/* One request's place in the connection's answer queue: responses leave in request order
 * (pipelined requests, as kafka-python sends them). */
struct mb_slot {
    mb_slot *next;
    mb_slot_state state;
    int32_t correlation_id;
    int16_t api_key, api_version;
    int16_t error;       /* for the response.sent event: the answer's error, else a partition's */
    kw_wbuf out;         /* size prefix, header, body */
    int64_t ready_us;    /* when it became READY (RTT counts from here) */
    int64_t deadline_us; /* PENDING: when to give up waiting */
    mb_resume_fn resume;
    void *pend; /* handler's waiting state */
    void (*pend_free)(void *pend);
};

struct mb_conn {
    mb_conn *next;
    int fd;
    char peer[48];
    uint8_t *in;
    size_t in_len, in_cap;
    mb_slot *head, *tail;
    kw_wbuf out;
    size_t out_pos;
    kw_arena *arena; /* per-request decode arena, reset for each frame */
    bool dead;
    bool stalled; /* a response was dropped: later ones cannot overtake it on TCP, so the
                     connection stays silent until the client gives up and reconnects */
    char dead_reason[320];
};

/* What a handler gets for one request. */
struct mb_req {
    mb_broker *b;
    mb_conn *conn;
    mb_slot *slot;
    kw_request_header hdr;
    kw_rbuf rb; /* the body */
    kw_arena *arena;
    mb_evbuf *eb;
    int64_t now;
};

/* A handler fills r->slot (READY, PENDING or NONE) and returns 0, or returns -1 after
 * writing the reason into errbuf: the connection is then closed. */
typedef int (*mb_handler_fn)(mb_req *r, char *errbuf, size_t errsize);

typedef struct mb_handler {
    int16_t min_version, max_version;
    mb_handler_fn fn;
} mb_handler;

/* The handler for an API key, or NULL (handlers.c). */
const mb_handler *mb_handler_get(int16_t api_key);

/* Starts the response frame in slot->out: size placeholder and response header. Returns
 * the frame start for mb_resp_end(). */
size_t mb_resp_begin(mb_slot *s);
/* Closes the frame and marks the slot READY at `now`. */
void mb_resp_end(mb_slot *s, size_t start, int64_t now);
/* Makes the slot PENDING until resume says otherwise or `deadline_us` passes. */
void mb_slot_make_pending(mb_broker *b, mb_slot *s, int64_t deadline_us, mb_resume_fn fn,
                          void *pend, void (*pend_free)(void *));

#endif
