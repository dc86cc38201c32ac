/* The counter clerks: one handler per API, in a table indexed by ApiKey with the versions we
 * serve (as librdkafka's rdkafka_mock_handlers.c). A handler decodes the body, takes the
 * cluster lock briefly to read or change state, and writes the answer into its slot, or makes
 * the slot wait (acks=all, Fetch max_wait_ms).
 *
 * @locality broker thread. */
#include "mockbroker/mb_group.h"
#include "mockbroker/mb_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_NEW(a, type, n)                                                                      \
    ((type *)kw_arena_alloc((a), sizeof(type) * (size_t)((n) > 0 ? (n) : 1)))

static int decode_failed(mb_req *r, char *errbuf, size_t errsize) {
    snprintf(errbuf, errsize, "malformed %s v%d request: %s", kw_api_name(r->hdr.api_key),
             r->hdr.api_version, r->rb.errmsg[0] ? r->rb.errmsg : kw_err_name(r->rb.err));
    return -1;
}

static kw_slice arena_strdup(kw_arena *a, kw_slice s) {
    if (s.len <= 0)
        return s;
    uint8_t *p = kw_arena_alloc(a, (size_t)s.len);
    if (!p)
        return (kw_slice){(const uint8_t *)"", 0};
    memcpy(p, s.p, (size_t)s.len);
    return (kw_slice){p, s.len};
}

/* ---- ApiVersions ------------------------------------------------------------------------- */

/* Kafka's check of a client's software name and version (ApiVersionsRequest.isValid, KIP-511):
 * the regex [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? — letters, digits, '-' and '.', starting
 * and ending with a letter or digit. */
static bool software_field_ok(kw_slice s) {
    if (s.len <= 0)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        uint8_t ch = s.p[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        bool inner = ch == '-' || ch == '.';
        if (!alnum && !(inner && i > 0 && i < s.len - 1))
            return false;
    }
    return true;
}

static int h_api_versions(mb_req *r, char *errbuf, size_t errsize) {
    kw_api_versions_req req;
    if (kw_api_versions_req_decode(&r->rb, r->hdr.api_version, r->arena, &req) != KW_ERR_NONE)
        return decode_failed(r, errbuf, errsize);
    kw_api_versions_resp resp = {0};
    if (r->hdr.api_version >= 3 && (!software_field_ok(req.client_software_name) ||
                                    !software_field_ok(req.client_software_version))) {
        /* As KafkaApis.handleApiVersionsRequest: INVALID_REQUEST, no ranges, same version. */
        char name[64], ver[64];
        mb_logf(r->b->c, 3,
                "ApiVersions v%d from %s: invalid client software name/version '%s' '%s' "
                "(INVALID_REQUEST)",
                r->hdr.api_version, r->conn->peer,
                kw_slice_cstr(req.client_software_name, name, sizeof name),
                kw_slice_cstr(req.client_software_version, ver, sizeof ver));
        resp.error_code = KW_ERR_INVALID_REQUEST;
        size_t start = mb_resp_begin(r->slot);
        kw_api_versions_resp_encode(&r->slot->out, r->hdr.api_version, &resp);
        r->slot->error = resp.error_code;
        mb_resp_end(r->slot, start, r->now);
        return 0;
    }
    pthread_mutex_lock(&r->b->c->lock);
    resp.error_code = (int16_t)mb_inject_take(r->b->c, KW_API_API_VERSIONS, NULL, -1);
    pthread_mutex_unlock(&r->b->c->lock);
    resp.n_api_keys = (int32_t)kw_supported_api_count;
    resp.api_keys = (kw_api_range *)kw_supported_apis;
    size_t start = mb_resp_begin(r->slot);
    kw_api_versions_resp_encode(&r->slot->out, r->hdr.api_version, &resp);
    r->slot->error = resp.error_code;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* ---- Metadata ---------------------------------------------------------------------------- */

static void describe_topic(mb_cluster *c, kw_arena *a, mb_topic *t, kw_metadata_topic *mt) {
    mt->error_code = KW_ERR_NONE;
    mt->name = kw_slice_str(t->name);
    mt->topic_id = t->id;
    mt->topic_authorized_operations = INT32_MIN;
    mt->n_partitions = t->n_partitions;
    mt->partitions = ARENA_NEW(a, kw_metadata_partition, t->n_partitions);
    if (!mt->partitions) {
        mt->n_partitions = 0;
        return;
    }
    for (int32_t i = 0; i < t->n_partitions; i++) {
        mb_partition *p = &t->parts[i];
        kw_metadata_partition *mp = &mt->partitions[i];
        mp->partition_index = i;
        mp->leader_id = p->leader;
        mp->leader_epoch = p->leader_epoch;
        mp->error_code = p->leader < 0 ? KW_ERR_LEADER_NOT_AVAILABLE : KW_ERR_NONE;
        mp->replica_nodes = ARENA_NEW(a, int32_t, p->n_replicas);
        mp->isr_nodes = ARENA_NEW(a, int32_t, p->n_replicas);
        mp->offline_replicas = ARENA_NEW(a, int32_t, p->n_replicas);
        if (!mp->replica_nodes || !mp->isr_nodes || !mp->offline_replicas)
            continue;
        for (int32_t k = 0; k < p->n_replicas; k++) {
            mp->replica_nodes[mp->n_replicas++] = p->rep[k].node;
            if (p->rep[k].in_isr)
                mp->isr_nodes[mp->n_isr++] = p->rep[k].node;
            if (!mb_broker_get(c, p->rep[k].node)->up)
                mp->offline_replicas[mp->n_offline++] = p->rep[k].node;
        }
    }
}

static int h_metadata(mb_req *r, char *errbuf, size_t errsize) {
    kw_metadata_req req;
    int16_t v = r->hdr.api_version;
    if (kw_metadata_req_decode(&r->rb, v, r->arena, &req) != KW_ERR_NONE)
        return decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_arena *a = r->arena;
    kw_metadata_resp resp = {0};
    resp.cluster_id = kw_slice_str("courier-mock-cluster");
    resp.controller_id = -1;
    resp.cluster_authorized_operations = INT32_MIN;
    resp.brokers = ARENA_NEW(a, kw_metadata_broker, c->n_brokers);
    bool all = req.n_topics < 0 || (v == 0 && req.n_topics == 0);
    pthread_mutex_lock(&c->lock);
    kw_err inj = mb_inject_take(c, KW_API_METADATA, NULL, -1);
    for (int32_t i = 0; resp.brokers && i < c->n_brokers; i++) {
        mb_broker *b = &c->brokers[i];
        if (!b->up)
            continue; /* Kafka lists live brokers only */
        if (resp.controller_id < 0)
            resp.controller_id = b->id;
        kw_metadata_broker *mb = &resp.brokers[resp.n_brokers++];
        mb->node_id = b->id;
        mb->host = kw_slice_str("127.0.0.1");
        mb->port = b->port;
        mb->rack = KW_SLICE_NULL;
    }
    int32_t nt = all ? (int32_t)c->n_topics : req.n_topics;
    resp.topics = ARENA_NEW(a, kw_metadata_topic, nt);
    for (int32_t i = 0; resp.topics && i < nt; i++) {
        kw_metadata_topic *mt = &resp.topics[resp.n_topics++];
        mt->topic_authorized_operations = INT32_MIN;
        if (all) {
            describe_topic(c, a, c->topics[i], mt);
            continue;
        }
        mt->name = req.topics[i];
        if (v >= 12 && req.topics[i].len < 0) {
            /* v12+: a topic asked for by id alone (KIP-516); Kafka answers an unknown one
             * UNKNOWN_TOPIC_ID with a null name and the id asked for. */
            mb_topic *byid = NULL;
            for (size_t k = 0; req.topic_ids && k < c->n_topics; k++)
                if (!memcmp(c->topics[k]->id.b, req.topic_ids[i].b, sizeof req.topic_ids[i].b))
                    byid = c->topics[k];
            if (byid) {
                describe_topic(c, a, byid, mt);
            } else {
                mt->error_code = 100; /* UNKNOWN_TOPIC_ID */
                if (req.topic_ids)
                    mt->topic_id = req.topic_ids[i];
            }
            if (inj)
                mt->error_code = (int16_t)inj;
            continue;
        }
        mb_topic *t = mb_topic_find(c, req.topics[i]);
        bool auto_ok =
            (v < 4 || req.allow_auto_topic_creation) && c->conf.auto_create_topics_enable;
        if (!t && auto_ok) {
            char name[MB_MAX_TOPIC_NAME + 2];
            if (req.topics[i].len > 0 && req.topics[i].len <= MB_MAX_TOPIC_NAME) {
                kw_slice_cstr(req.topics[i], name, sizeof name);
                int rc = mb_topic_create_locked(c, name, c->conf.num_partitions,
                                                c->conf.default_replication_factor, 0, r->eb, &t);
                if (rc == MB_ERR_INVALID_ARG)
                    mt->error_code = KW_ERR_INVALID_TOPIC_EXCEPTION;
            } else {
                mt->error_code = KW_ERR_INVALID_TOPIC_EXCEPTION;
            }
        }
        if (t)
            describe_topic(c, a, t, mt);
        else if (!mt->error_code)
            mt->error_code = KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        if (inj)
            mt->error_code = (int16_t)inj;
    }
    /* Encode under the lock: topic names point into cluster state. */
    size_t start = mb_resp_begin(r->slot);
    kw_metadata_resp_encode(&r->slot->out, v, &resp);
    pthread_mutex_unlock(&c->lock);
    r->slot->error = (int16_t)inj;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* ---- InitProducerId ---------------------------------------------------------------------- */

static int h_init_pid(mb_req *r, char *errbuf, size_t errsize) {
    kw_init_pid_req req;
    if (kw_init_pid_req_decode(&r->rb, r->hdr.api_version, r->arena, &req) != KW_ERR_NONE)
        return decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_init_pid_resp resp = {0};
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    pthread_mutex_lock(&c->lock);
    kw_err inj = mb_inject_take(c, KW_API_INIT_PRODUCER_ID, NULL, -1);
    if (inj)
        resp.error_code = (int16_t)inj;
    else
        resp.error_code = (int16_t)mb_init_pid(c, &req, r->hdr.api_version, &resp.producer_id,
                                               &resp.producer_epoch);
    pthread_mutex_unlock(&c->lock);
    if (resp.producer_id >= 0) {
        mb_event *ev = mb_ev_add(c, r->eb, MB_EV_PRODUCER_ID_ASSIGNED, r->b->id);
        if (ev) {
            ev->producer_id = resp.producer_id;
            ev->producer_epoch = resp.producer_epoch;
            ev->correlation_id = r->hdr.correlation_id;
        }
    }
    size_t start = mb_resp_begin(r->slot);
    kw_init_pid_resp_encode(&r->slot->out, r->hdr.api_version, &resp);
    r->slot->error = resp.error_code;
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* The error this broker gives for one partition of a Produce, ListOffsets or Fetch request,
 * first match wins: an injected fault, an unknown partition, a broker that is not its leader,
 * then a stale or future leader epoch from the client (-1 = not sent: Produce, old versions).
 * @locks c->lock MUST be held. */
static kw_err partition_error(const mb_partition *p, int32_t node_id, kw_err injected,
                              int32_t current_leader_epoch) {
    if (injected)
        return injected;
    if (!p)
        return KW_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (p->leader != node_id)
        return KW_ERR_NOT_LEADER_OR_FOLLOWER;
    if (current_leader_epoch < 0)
        return KW_ERR_NONE;
    if (current_leader_epoch < p->leader_epoch)
        return KW_ERR_FENCED_LEADER_EPOCH;
    if (current_leader_epoch > p->leader_epoch)
        return KW_ERR_UNKNOWN_LEADER_EPOCH;
    return KW_ERR_NONE;
}

/* ---- Produce ----------------------------------------------------------------------------- */

typedef struct pend_part {
    mb_partition *p;
    int32_t epoch;
    int64_t need; /* the high watermark that covers the appended batches */
    kw_produce_resp_partition *out;
} pend_part;

typedef struct pend_produce {
    kw_arena *arena;
    kw_produce_resp resp;
    int n;
    pend_part *parts;
} pend_produce;

static void pend_produce_free(void *arg) {
    pend_produce *pp = arg;
    kw_arena_destroy(pp->arena);
    free(pp->parts);
    free(pp);
}

/* KIP-951: from Produce v10 a NOT_LEADER_OR_FOLLOWER answer names the partition's current
 * leader and epoch (CurrentLeader) and that leader's endpoint (NodeEndpoints), so the producer
 * can re-route without waiting for a Metadata round trip — as KafkaApis.handleProduceRequest
 * fills them from its metadata cache (getCurrentLeader). Endpoints come from `a`.
 * @locks takes c->lock. */
static void add_leader_hints(mb_cluster *c, kw_arena *a, int16_t version, kw_produce_resp *resp) {
    if (version < 10)
        return;
    pthread_mutex_lock(&c->lock);
    for (int32_t t = 0; t < resp->n_topics; t++) {
        kw_produce_resp_topic *rt = &resp->topics[t];
        for (int32_t i = 0; i < rt->n_partitions; i++) {
            kw_produce_resp_partition *op = &rt->partitions[i];
            if (op->error_code != KW_ERR_NOT_LEADER_OR_FOLLOWER)
                continue;
            mb_partition *p = mb_partition_find(c, rt->name, op->index);
            if (!p || (p->leader < 0 && p->leader_epoch < 0))
                continue; /* equal to the default -1/-1: Kafka writes nothing */
            op->has_current_leader = true;
            op->current_leader_id = p->leader;
            op->current_leader_epoch = p->leader_epoch;
            mb_broker *lb = mb_broker_get(c, p->leader);
            if (!lb)
                continue;
            bool listed = false;
            for (int32_t k = 0; k < resp->n_node_endpoints; k++)
                listed |= resp->node_endpoints[k].node_id == lb->id;
            if (listed)
                continue;
            if (!resp->node_endpoints) {
                resp->node_endpoints = ARENA_NEW(a, kw_metadata_broker, c->n_brokers);
                if (!resp->node_endpoints)
                    continue;
            }
            if (resp->n_node_endpoints >= c->n_brokers)
                continue;
            /* the host and port Metadata gives for this broker */
            resp->node_endpoints[resp->n_node_endpoints++] =
                (kw_metadata_broker){lb->id, kw_slice_str("127.0.0.1"), lb->port, KW_SLICE_NULL};
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* acks=all: the answer for a partition is ready when the high watermark covers the append
 * (NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below min.insync.replicas meanwhile), when
 * leadership moved (NOT_LEADER_OR_FOLLOWER), or at the request timeout (REQUEST_TIMED_OUT) —
 * Kafka's DelayedProduce. */
static void resume_produce(mb_broker *b, mb_slot *s, int64_t now, mb_evbuf *eb) {
    (void)eb;
    pend_produce *pp = s->pend;
    bool done = true;
    pthread_mutex_lock(&b->c->lock);
    for (int i = 0; i < pp->n; i++) {
        pend_part *w = &pp->parts[i];
        if (!w->p)
            continue;
        mb_partition *p = w->p;
        if (p->leader != b->id || p->leader_epoch != w->epoch)
            w->out->error_code = KW_ERR_NOT_LEADER_OR_FOLLOWER;
        else if (p->hw >= w->need)
            w->out->error_code = mb_partition_isr_count(p) < p->min_isr
                                     ? KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND
                                     : KW_ERR_NONE;
        else if (now >= s->deadline_us)
            w->out->error_code = KW_ERR_REQUEST_TIMED_OUT;
        else {
            done = false;
            continue;
        }
        if (w->out->error_code)
            s->error = w->out->error_code;
        w->p = NULL;
    }
    pthread_mutex_unlock(&b->c->lock);
    if (!done)
        return;
    add_leader_hints(b->c, pp->arena, s->api_version, &pp->resp);
    size_t start = mb_resp_begin(s);
    kw_produce_resp_encode(&s->out, s->api_version, &pp->resp);
    mb_resp_end(s, start, now);
}

typedef struct batch_in {
    mb_batch *b;
    kw_err err;
    char why[128];
} batch_in;

/* Decompresses (bounded) and reads every record of a compressed batch, as Kafka's
 * LogValidator does before it appends one: the codec must be defined, the data must expand
 * to no more than KW_DECOMPRESS_MAX_DEFAULT bytes (a decompression bomb gets INVALID_RECORD
 * with a message naming codec and bound, and the broker goes on), the records must parse and
 * their count must match the header. *raw_len gets the size of the records decompressed. */
static kw_err validate_compressed(const kw_batch *kb, size_t *raw_len, char *why, size_t whysize) {
    kw_record_iter it;
    kw_record_iter_init(&it, kb);
    kw_record rec;
    int rc;
    int32_t n = 0;
    while ((rc = kw_record_next(&it, NULL, &rec)) == 1)
        n++;
    kw_err err = KW_ERR_NONE;
    if (rc < 0) {
        snprintf(why, whysize, "%s", it.rb.errmsg);
        err = it.rb.err == KW_ERR_UNSUPPORTED_COMPRESSION_TYPE ? KW_ERR_UNSUPPORTED_COMPRESSION_TYPE
              : it.rb.err == KW_ERR__TOO_LARGE                 ? KW_ERR_INVALID_RECORD
                                                               : KW_ERR_CORRUPT_MESSAGE;
    } else if (n != kb->record_count) {
        snprintf(why, whysize, "%s batch holds %d records, its header says %d",
                 kw_codec_name(kb->attributes & KW_CODEC_MASK), n, kb->record_count);
        err = KW_ERR_CORRUPT_MESSAGE;
    }
    *raw_len = it.raw_len;
    kw_record_iter_release(&it);
    return err;
}

/* Produce validation as Kafka's ProduceRequest.validateRecords (v3+) and LogValidator: one
 * partition's records must be exactly one RecordBatch v2 (none, or more than one, or another
 * magic: INVALID_RECORD), with a codec Kafka defines (ids 5-7: UNSUPPORTED_COMPRESSION_TYPE),
 * zstd only from Produce v7 (KIP-110: UNSUPPORTED_COMPRESSION_TYPE below), a good CRC
 * (CORRUPT_MESSAGE), within message.max.bytes (MESSAGE_TOO_LARGE); a compressed batch is
 * decompressed, bounded, and its records read. The batch is stored as the client sent it
 * (compressed batches are stored and served compressed). */
static kw_err validate_produce_records(mb_cluster *c, int16_t version, kw_slice recs,
                                       batch_in **out, int *n_out, char *why, size_t whysize) {
    *out = NULL;
    *n_out = 0;
    if (recs.len <= 0) {
        snprintf(why, whysize,
                 "Produce requests with version %d must have at least one record batch per "
                 "partition",
                 version);
        return KW_ERR_INVALID_RECORD;
    }
    size_t len = (size_t)recs.len;
    if (len > 16 && recs.p[16] != 2) {
        snprintf(why, whysize,
                 "Produce requests with version %d are only allowed to contain record batches "
                 "with magic version 2 (got magic %d)",
                 version, (int8_t)recs.p[16]);
        return KW_ERR_INVALID_RECORD;
    }
    kw_batch kb;
    size_t used;
    /* The CRC of an uncompressed batch is checked as it is stored (mb_log_store: one pass
     * for the check and the copy, after the leader check, as Kafka's LogValidator runs in the
     * leader's append); a compressed one's here, before its records are decompressed. */
    kw_err e = kw_batch_parse(recs.p, len, false, &kb, &used, why, whysize);
    if (e != KW_ERR_NONE)
        return KW_ERR_CORRUPT_MESSAGE;
    bool crc_later = (kb.attributes & KW_CODEC_MASK) == KW_CODEC_NONE;
    if (!crc_later) {
        uint32_t crc = kw_crc32c(0, recs.p + KW_BATCH_ATTR_OFFSET, used - KW_BATCH_ATTR_OFFSET);
        if (crc != kb.crc) {
            snprintf(why, whysize, "crc mismatch: stored 0x%08x, computed 0x%08x over %zu bytes",
                     kb.crc, crc, used - KW_BATCH_ATTR_OFFSET);
            return KW_ERR_CORRUPT_MESSAGE;
        }
    }
    if (used < len) {
        snprintf(why, whysize,
                 "Produce requests with version %d are only allowed to contain exactly one "
                 "record batch per partition (%zu bytes follow the first batch)",
                 version, len - used);
        return KW_ERR_INVALID_RECORD;
    }
    int codec = kb.attributes & KW_CODEC_MASK;
    if (codec > KW_CODEC_ZSTD) {
        snprintf(why, whysize, "compression type %d in the batch attributes is not defined", codec);
        return KW_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (codec == KW_CODEC_ZSTD && version < 7) {
        snprintf(why, whysize,
                 "Produce requests with version %d are not allowed to use ZStandard compression "
                 "(v7 or later)",
                 version);
        return KW_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (used > (size_t)c->conf.message_max_bytes) {
        snprintf(why, whysize, "batch of %zu bytes exceeds message.max.bytes %d", used,
                 c->conf.message_max_bytes);
        return KW_ERR_MESSAGE_TOO_LARGE;
    }
    if (kb.record_count <= 0 || kb.last_offset_delta != kb.record_count - 1) {
        snprintf(why, whysize, "batch has %d records but lastOffsetDelta %d", kb.record_count,
                 kb.last_offset_delta);
        return KW_ERR_CORRUPT_MESSAGE;
    }
    size_t raw_len = (size_t)kb.records.len;
    if (codec != KW_CODEC_NONE && (e = validate_compressed(&kb, &raw_len, why, whysize)))
        return e;
    *out = malloc(sizeof **out);
    /* Borrowed from the request: append_to_leader copies it into the log (mb_log_store). */
    mb_batch *mb = *out ? mb_batch_borrow(recs.p, used) : NULL;
    if (!mb) {
        free(*out);
        *out = NULL;
        snprintf(why, whysize, "out of memory");
        return KW_ERR_UNKNOWN_SERVER_ERROR;
    }
    mb->count = kb.record_count;
    mb->max_timestamp = kb.max_timestamp;
    mb->producer_id = kb.producer_id;
    mb->producer_epoch = kb.producer_epoch;
    mb->base_sequence = kb.base_sequence;
    mb->codec = (int8_t)codec;
    mb->raw_len = KW_BATCH_HEADER_SIZE + raw_len;
    mb->crc = kb.crc;
    mb->crc_unchecked = crc_later;
    (*out)[0] = (batch_in){mb, KW_ERR_NONE, ""};
    *n_out = 1;
    return KW_ERR_NONE;
}

static void free_batches(batch_in *v, int n) {
    for (int i = 0; i < n; i++)
        mb_batch_unref(v[i].b);
    free(v);
}

/* A partition of a request, looked up (p NULL when unknown) with the error this broker gives
 * for it (partition_error; a fault injected for the whole request, `whole`, wins; a fault
 * for this partition is taken only when take_fault). The one lookup Produce, ListOffsets and
 * Fetch share. tname gets the topic name as a C string.
 * @locks c->lock MUST be held. */
static mb_partition *request_partition(mb_broker *b, int16_t api_key, kw_slice topic, int32_t index,
                                       int32_t current_leader_epoch, kw_err whole, bool take_fault,
                                       char tname[], size_t tname_size, kw_err *err) {
    kw_slice_cstr(topic, tname, tname_size);
    mb_partition *p = mb_partition_find(b->c, topic, index);
    kw_err inj = whole;
    if (!inj && take_fault)
        inj = mb_inject_take(b->c, api_key, tname, index);
    *err = partition_error(p, b->id, inj, current_leader_epoch);
    return p;
}

/* Produce, ListOffsets and Fetch answer their request topic by topic and partition by
 * partition, in the request's order, as Kafka's KafkaApis handlers walk a request's topics
 * and their partitions. part_walk is that walk, written once; each handler gives it its own
 * state (h) and three steps:
 *   n_partitions(h, t)               how many partitions request topic t names;
 *   answer_topic(h, t)               names answer topic t and allocates its partitions (false
 *                                    when out of memory: that topic answers no partitions);
 *   answer_partition(h, t, i, flat)  answers partition i of topic t (flat: its rank across the
 *                                    whole request); -1 stops the walk.
 * The walk takes no lock: ListOffsets and Fetch run it under c->lock, Produce takes the lock
 * per partition (produce_partition). */
typedef struct part_walk {
    void *h;
    int32_t n_topics;
    int32_t (*n_partitions)(void *h, int32_t t);
    bool (*answer_topic)(void *h, int32_t t);
    int (*answer_partition)(void *h, int32_t t, int32_t i, int flat);
} part_walk;

/* The number of partitions the request names, over all its topics. */
static int part_walk_total(const part_walk *w) {
    int total = 0;
    for (int32_t t = 0; t < w->n_topics; t++)
        total += w->n_partitions(w->h, t);
    return total;
}

/* Answers every partition of the request, in order. Returns -1 when answer_partition stopped
 * the walk, else 0. */
static int part_walk_run(const part_walk *w) {
    int flat = 0;
    for (int32_t t = 0; t < w->n_topics; t++) {
        int32_t n = w->n_partitions(w->h, t);
        if (!w->answer_topic(w->h, t)) {
            flat += n;
            continue;
        }
        for (int32_t i = 0; i < n; i++, flat++)
            if (w->answer_partition(w->h, t, i, flat) < 0)
                return -1;
    }
    return 0;
}

/* An answer topic's partition array: n elements of `size` bytes, zeroed, in the arena, with
 * *n_out = n; NULL and *n_out = 0 when out of memory. The typed step of answer_topic. */
static void *answer_partitions(kw_arena *a, int32_t n, size_t size, int32_t *n_out) {
    void *v = kw_arena_alloc(a, size * (size_t)(n > 0 ? n : 1));
    *n_out = v ? n : 0;
    return v;
}

static void ev_duplicate_batch(mb_req *r, const mb_partition *p, const mb_batch *mb,
                               int64_t dup_offset) {
    mb_event *ev = mb_ev_add(r->b->c, r->eb, MB_EV_DUPLICATE_BATCH, r->b->id);
    if (!ev)
        return;
    ev->topic = p->topic->name;
    ev->partition = p->id;
    ev->offset = dup_offset;
    ev->producer_id = mb->producer_id;
    ev->sequence = mb->base_sequence;
    ev->count = mb->count;
    ev->correlation_id = r->hdr.correlation_id;
}

static void ev_records_appended(mb_req *r, const mb_partition *p, const mb_batch *mb) {
    mb_event *ev = mb_ev_add(r->b->c, r->eb, MB_EV_RECORDS_APPENDED, r->b->id);
    if (!ev)
        return;
    ev->topic = p->topic->name;
    ev->partition = p->id;
    ev->offset = mb->base_offset;
    ev->offset_end = mb->last_offset + 1;
    ev->count = mb->count;
    ev->bytes = (int64_t)mb->len;
    ev->raw_bytes = mb_batch_raw_len(mb);
    ev->producer_id = mb->producer_id;
    ev->producer_epoch = mb->producer_epoch;
    ev->sequence = mb->base_sequence;
    ev->leader_epoch = p->leader_epoch;
    ev->correlation_id = r->hdr.correlation_id;
    ev->hw_before = p->hw; /* hw_after: once the followers due now have copied */
}

/* The append of one partition's batches to the leader's log (Kafka's Partition.
 * appendRecordsToLeader): an idempotent batch is checked against the producer's sequences
 * first, and a duplicate answers with its first offset instead of being appended again.
 * *first_offset gets the offset of the first batch (appended or duplicate), *appended how many
 * were appended. Returns the partition's error.
 * @locks c->lock MUST be held. */
static kw_err append_to_leader(mb_req *r, mb_partition *p, batch_in *bs, int nb,
                               int64_t *first_offset, int *appended, int64_t *untracked_pid,
                               char *why, size_t whysize) {
    mb_cluster *c = r->b->c;
    for (int k = 0; k < nb; k++) {
        mb_batch *mb = bs[k].b;
        mb_replica *lr = &p->rep[p->last_leader];
        /* Stored first, its CRC checked in the same pass, before the producer state, as
         * Kafka's UnifiedLog.append validates before it looks at sequences. A duplicate's
         * copy only wastes its space in the chunk. */
        uint32_t computed = 0;
        int st = mb_log_store(&lr->log, mb, p->topic->segment_bytes, &computed);
        if (st == -2) {
            snprintf(why, whysize, "crc mismatch: stored 0x%08x, computed 0x%08x over %zu bytes",
                     mb->crc, computed, mb->len - KW_BATCH_ATTR_OFFSET);
            return KW_ERR_CORRUPT_MESSAGE;
        }
        if (st < 0)
            return KW_ERR_KAFKA_STORAGE_ERROR;
        if (mb->producer_id >= 0) {
            bool ours = mb->producer_id >= MB_FIRST_PRODUCER_ID && mb->producer_id < c->next_pid;
            int64_t dup_offset = -1;
            kw_err perr = mb_pid_check(&p->pids, mb, ours, &dup_offset);
            if (perr)
                return perr;
            if (dup_offset >= 0) {
                if (*first_offset < 0)
                    *first_offset = dup_offset;
                ev_duplicate_batch(r, p, mb, dup_offset);
                continue;
            }
        }
        mb->base_offset = lr->log.end;
        mb->last_offset = mb->base_offset + mb->count - 1;
        mb->append_time_us = r->now;
        mb->leader_epoch = p->leader_epoch;
        mb_log_roll(&lr->log, mb, p->topic->segment_bytes, p->topic->segment_ms);
        kw_batch_set_base_offset(mb->data, mb->base_offset);
        kw_batch_set_leader_epoch(mb->data, p->leader_epoch);
        if (!mb_log_append(&lr->log, mb))
            return KW_ERR_KAFKA_STORAGE_ERROR;
        if (!mb_pid_record(&p->pids, mb))
            *untracked_pid = mb->producer_id; /* logged after the lock (the step gate) */
        (*appended)++;
        if (*first_offset < 0)
            *first_offset = mb->base_offset;
        ev_records_appended(r, p, mb);
    }
    return KW_ERR_NONE;
}

/* A partition's Produce answer when it failed: the error, why (v8+, as Kafka, for record
 * errors), the log start offset for producer-state errors, and a produce.rejected event.
 * @locks c->lock MUST be held. */
static void produce_rejected(mb_req *r, const mb_partition *p, const char *tname, int32_t index,
                             kw_err perr, const char *why, kw_produce_resp_partition *op) {
    op->error_code = (int16_t)perr;
    if (perr == KW_ERR_INVALID_RECORD || perr == KW_ERR_CORRUPT_MESSAGE ||
        perr == KW_ERR_UNSUPPORTED_COMPRESSION_TYPE) /* v8+ says why, as Kafka */
        op->error_message = arena_strdup(r->arena, kw_slice_str(why));
    /* Kafka's ReplicaManager answers producer-state errors with the log start
     * offset (processFailedRecord): Java's producer reads it for
     * UNKNOWN_PRODUCER_ID (TransactionManager.canRetry). */
    if (p && (perr == KW_ERR_UNKNOWN_PRODUCER_ID || perr == KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER ||
              perr == KW_ERR_INVALID_PRODUCER_EPOCH))
        op->log_start_offset = p->rep[p->last_leader].log.start;
    mb_event *ev = mb_ev_add(r->b->c, r->eb, MB_EV_PRODUCE_REJECTED, r->b->id);
    if (ev) {
        ev->topic = p ? p->topic->name : NULL;
        ev->partition = index;
        ev->error = (int16_t)perr;
        ev->correlation_id = r->hdr.correlation_id;
        mb_ev_detail(r->eb, ev, "%s-%d: %s", tname, index, why);
    }
}

/* One partition of a Produce request: validate its records, append them to the leader, and
 * fill its answer; with acks=all a partition whose high watermark does not cover the append
 * yet is added to waits. Returns -1 when this broker is down (it answers nothing).
 * @locks takes c->lock. */
static int produce_partition(mb_req *r, int16_t acks, kw_slice topic,
                             const kw_produce_req_partition *rp, kw_produce_resp_partition *op,
                             pend_part *waits, int *n_waits) {
    mb_cluster *c = r->b->c;
    batch_in *bs = NULL;
    int nb = 0;
    char why[160] = "";
    kw_err perr =
        validate_produce_records(c, r->hdr.api_version, rp->records, &bs, &nb, why, sizeof why);
    pthread_mutex_lock(&c->lock);
    if (!r->b->up) {
        pthread_mutex_unlock(&c->lock);
        free_batches(bs, nb);
        return -1;
    }
    char tname[MB_MAX_TOPIC_NAME + 2];
    kw_err serr;
    mb_partition *p = request_partition(r->b, KW_API_PRODUCE, topic, rp->index, -1, KW_ERR_NONE,
                                        true, tname, sizeof tname, &serr);
    if (serr)
        perr = serr;
    else if (!perr && acks == -1 && mb_partition_isr_count(p) < p->min_isr)
        perr = KW_ERR_NOT_ENOUGH_REPLICAS;
    int64_t first_offset = -1, untracked_pid = -1;
    int appended = 0;
    if (!perr)
        perr = append_to_leader(r, p, bs, nb, &first_offset, &appended, &untracked_pid, why,
                                sizeof why);
    if (perr && why[0] == '\0')
        snprintf(why, sizeof why, "%s", kw_err_name(perr));
    if (p && !perr) {
        op->base_offset = first_offset;
        op->log_start_offset = p->rep[p->last_leader].log.start;
        /* Followers due now (lag 0) copy at once, in this thread: the same result
         * as the controller's next tick, without a thread hop per request. */
        size_t ev_end = r->eb ? r->eb->n : 0;
        if (appended && mb_partition_tick(c, p, r->now, r->eb) != INT64_MAX)
            mb_controller_kick(c);
        /* what the appends led to: the HW once the followers due now have copied */
        for (size_t k = 0; k < ev_end; k++) {
            mb_event *ae = &r->eb->v[k];
            if (ae->kind == MB_EV_RECORDS_APPENDED && ae->hw_after < 0 && ae->partition == p->id &&
                ae->topic == p->topic->name)
                ae->hw_after = p->hw;
        }
        int64_t need = p->rep[p->last_leader].log.end;
        if (acks == -1 && p->hw < need)
            waits[(*n_waits)++] = (pend_part){p, p->leader_epoch, need, op};
        else if (acks == -1 && mb_partition_isr_count(p) < p->min_isr)
            op->error_code = KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
    } else if (perr) {
        produce_rejected(r, p, tname, rp->index, perr, why, op);
    }
    pthread_mutex_unlock(&c->lock);
    if (untracked_pid >= 0) /* a log line may wait at the view's step gate: never under the lock */
        mb_logf(c, 3,
                "%s-%d: out of memory recording producer %lld's sequences; a retry of this "
                "batch will not be recognised as a duplicate",
                tname, (int)rp->index, (long long)untracked_pid);
    if (op->error_code)
        r->slot->error = op->error_code;
    free_batches(bs, nb);
    return 0;
}

/* A copy of a Produce answer that outlives the request's frame (names, partitions and error
 * messages in a new arena), for acks=all answers that wait; waits[].out are moved to point
 * into the copy. NULL when out of memory. The caller frees it with pend_produce_free. */
static pend_produce *pend_produce_copy(const kw_produce_resp *resp, pend_part *waits, int n_waits) {
    pend_produce *pp = calloc(1, sizeof *pp);
    kw_arena *pa = kw_arena_new();
    if (!pp || !pa) {
        free(pp);
        if (pa)
            kw_arena_destroy(pa);
        return NULL;
    }
    pp->arena = pa;
    pp->resp = *resp;
    pp->resp.topics = ARENA_NEW(pa, kw_produce_resp_topic, resp->n_topics);
    for (int32_t t = 0; pp->resp.topics && t < resp->n_topics; t++) {
        kw_produce_resp_topic *st = &resp->topics[t], *dt = &pp->resp.topics[t];
        *dt = *st;
        dt->name = arena_strdup(pa, st->name);
        dt->partitions = ARENA_NEW(pa, kw_produce_resp_partition, st->n_partitions);
        if (!dt->partitions) {
            dt->n_partitions = 0;
            continue;
        }
        memcpy(dt->partitions, st->partitions, (size_t)st->n_partitions * sizeof *dt->partitions);
        for (int32_t k = 0; k < st->n_partitions; k++)
            if (st->partitions[k].error_message.len > 0)
                dt->partitions[k].error_message = arena_strdup(pa, st->partitions[k].error_message);
        for (int k = 0; k < n_waits; k++) {
            ptrdiff_t idx = waits[k].out - st->partitions;
            if (idx >= 0 && idx < st->n_partitions)
                waits[k].out = &dt->partitions[idx];
        }
    }
    return pp;
}

/* The error for a whole Produce request, before any partition is looked at (0 = none). */
static kw_err produce_whole_error(mb_cluster *c, int16_t v, const kw_produce_req *req) {
    kw_err whole = KW_ERR_NONE;
    if (v < 3) /* advertised for librdkafka's sake (KAFKA-18659), refused as Kafka 4.x does */
        whole = KW_ERR_UNSUPPORTED_VERSION;
    else if (req->acks != 0 && req->acks != 1 && req->acks != -1)
        whole = KW_ERR_INVALID_REQUIRED_ACKS;
    else if (req->transactional_id.len >= 0)
        whole = KW_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    pthread_mutex_lock(&c->lock);
    kw_err inj_whole = mb_inject_take(c, KW_API_PRODUCE, NULL, -1);
    pthread_mutex_unlock(&c->lock);
    return whole ? whole : inj_whole;
}

/* One Produce request's walk (part_walk): its answer, the error of the whole request, and the
 * acks=all partitions still waiting for their high watermark. */
typedef struct produce_walk {
    mb_req *r;
    const kw_produce_req *req;
    kw_produce_resp *resp;
    kw_err whole;
    pend_part *waits; /* one place per partition of the request */
    int n_waits;
} produce_walk;

static int32_t produce_n_partitions(void *h, int32_t t) {
    const produce_walk *w = h;
    return w->req->topics[t].n_partitions;
}

static bool produce_answer_topic(void *h, int32_t t) {
    produce_walk *w = h;
    kw_produce_resp_topic *ot = &w->resp->topics[t];
    ot->name = w->req->topics[t].name;
    ot->partitions = answer_partitions(w->r->arena, w->req->topics[t].n_partitions,
                                       sizeof *ot->partitions, &ot->n_partitions);
    return ot->partitions != NULL;
}

/* A partition's Produce answer: the whole request's error, or produce_partition's work.
 * -1 when this broker is down. */
static int produce_answer_partition(void *h, int32_t t, int32_t i, int flat) {
    (void)flat;
    produce_walk *w = h;
    const kw_produce_req_topic *rt = &w->req->topics[t];
    kw_produce_resp_partition *op = &w->resp->topics[t].partitions[i];
    op->index = rt->partitions[i].index;
    op->base_offset = -1;
    op->log_append_time_ms = -1;
    op->log_start_offset = -1;
    op->error_message = KW_SLICE_NULL;
    if (w->whole) {
        op->error_code = (int16_t)w->whole;
        return 0;
    }
    return produce_partition(w->r, w->req->acks, rt->name, &rt->partitions[i], op, w->waits,
                             &w->n_waits);
}

/* Produce (Kafka's KafkaApis.handleProduceRequest): each partition appended in turn
 * (produce_partition); acks=0 answers nothing, acks=1 at once, acks=all when the high
 * watermark covers every append (resume_produce). */
static int h_produce(mb_req *r, char *errbuf, size_t errsize) {
    kw_produce_req req;
    int16_t v = r->hdr.api_version;
    if (kw_produce_req_decode(&r->rb, v, r->arena, &req) != KW_ERR_NONE)
        return decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_arena *a = r->arena;
    kw_produce_resp resp = {.n_topics = req.n_topics};
    resp.topics = ARENA_NEW(a, kw_produce_resp_topic, req.n_topics);
    produce_walk pw = {.r = r, .req = &req, .resp = &resp};
    part_walk walk = {&pw, req.n_topics, produce_n_partitions, produce_answer_topic,
                      produce_answer_partition};
    int total_parts = part_walk_total(&walk);
    pend_part *waits = calloc((size_t)(total_parts > 0 ? total_parts : 1), sizeof *waits);
    if (!resp.topics || !waits) {
        free(waits);
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    pw.waits = waits;
    pw.whole = produce_whole_error(c, v, &req);
    if (pw.whole)
        r->slot->error = (int16_t)pw.whole; /* every partition carries it */
    if (part_walk_run(&walk) < 0) {
        free(waits);
        r->slot->state = MB_SLOT_NONE;
        return 0; /* a dead broker answers nothing */
    }
    int n_waits = pw.n_waits;
    if (req.acks == 0 || n_waits == 0) {
        free(waits);
        if (req.acks == 0) {
            r->slot->state = MB_SLOT_NONE;
            return 0;
        }
        add_leader_hints(c, a, v, &resp);
        size_t start = mb_resp_begin(r->slot);
        kw_produce_resp_encode(&r->slot->out, v, &resp);
        mb_resp_end(r->slot, start, r->now);
        return 0;
    }
    /* Keep a copy of the answer that outlives this frame, and wait. */
    pend_produce *pp = pend_produce_copy(&resp, waits, n_waits);
    if (!pp) {
        free(waits);
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    pp->n = n_waits;
    pp->parts = waits;
    mb_slot_make_pending(r->b, r->slot, r->now + (int64_t)req.timeout_ms * 1000, resume_produce, pp,
                         pend_produce_free);
    return 0;
}

/* ---- ListOffsets ------------------------------------------------------------------------- */

/* One partition of a ListOffsets answer, under the cluster lock: latest (-1) is the high
 * watermark (read_uncommitted), earliest (-2) the log start, a timestamp the first batch whose
 * max timestamp reaches it (batch precision). */
static void list_offsets_partition(mb_req *r, kw_slice topic,
                                   const kw_list_offsets_req_partition *rp, kw_err whole,
                                   kw_list_offsets_resp_partition *op) {
    op->partition_index = rp->partition_index;
    op->timestamp = -1;
    op->offset = -1;
    op->leader_epoch = -1;
    char tname[MB_MAX_TOPIC_NAME + 2];
    kw_err e;
    mb_partition *p =
        request_partition(r->b, KW_API_LIST_OFFSETS, topic, rp->partition_index,
                          rp->current_leader_epoch, whole, true, tname, sizeof tname, &e);
    op->error_code = (int16_t)e;
    if (e) {
        r->slot->error = (int16_t)e;
        return;
    }
    const mb_log *l = &p->rep[p->last_leader].log;
    op->leader_epoch = p->leader_epoch;
    if (rp->timestamp == -1) {
        op->offset = p->hw;
    } else if (rp->timestamp == -2) {
        op->offset = l->start;
    } else {
        for (size_t k = 0; k < l->n && l->v[k]->base_offset < p->hw; k++) {
            if (l->v[k]->max_timestamp >= rp->timestamp) {
                op->offset = l->v[k]->base_offset;
                op->timestamp = l->v[k]->max_timestamp;
                break;
            }
        }
    }
}

/* One ListOffsets request's walk (part_walk). */
typedef struct list_offsets_walk {
    mb_req *r;
    const kw_list_offsets_req *req;
    kw_list_offsets_resp *resp;
    kw_err whole;
} list_offsets_walk;

static int32_t list_offsets_n_partitions(void *h, int32_t t) {
    const list_offsets_walk *w = h;
    return w->req->topics[t].n_partitions;
}

static bool list_offsets_answer_topic(void *h, int32_t t) {
    list_offsets_walk *w = h;
    kw_list_offsets_resp_topic *ot = &w->resp->topics[t];
    ot->name = w->req->topics[t].name;
    ot->partitions = answer_partitions(w->r->arena, w->req->topics[t].n_partitions,
                                       sizeof *ot->partitions, &ot->n_partitions);
    return ot->partitions != NULL;
}

static int list_offsets_answer_partition(void *h, int32_t t, int32_t i, int flat) {
    (void)flat;
    list_offsets_walk *w = h;
    const kw_list_offsets_req_topic *rt = &w->req->topics[t];
    list_offsets_partition(w->r, rt->name, &rt->partitions[i], w->whole,
                           &w->resp->topics[t].partitions[i]);
    return 0;
}

/* ListOffsets (Kafka's KafkaApis.handleListOffsetRequest): every partition answered under
 * the cluster lock (list_offsets_partition). */
static int h_list_offsets(mb_req *r, char *errbuf, size_t errsize) {
    kw_list_offsets_req req;
    int16_t v = r->hdr.api_version;
    if (kw_list_offsets_req_decode(&r->rb, v, r->arena, &req) != KW_ERR_NONE)
        return decode_failed(r, errbuf, errsize);
    mb_cluster *c = r->b->c;
    kw_list_offsets_resp resp = {.n_topics = req.n_topics};
    resp.topics = ARENA_NEW(r->arena, kw_list_offsets_resp_topic, req.n_topics);
    if (!resp.topics) {
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    list_offsets_walk lw = {.r = r, .req = &req, .resp = &resp};
    part_walk walk = {&lw, req.n_topics, list_offsets_n_partitions, list_offsets_answer_topic,
                      list_offsets_answer_partition};
    pthread_mutex_lock(&c->lock);
    lw.whole = mb_inject_take(c, KW_API_LIST_OFFSETS, NULL, -1);
    part_walk_run(&walk);
    pthread_mutex_unlock(&c->lock);
    size_t start = mb_resp_begin(r->slot);
    kw_list_offsets_resp_encode(&r->slot->out, v, &resp);
    mb_resp_end(r->slot, start, r->now);
    return 0;
}

/* ---- Fetch ------------------------------------------------------------------------------- */

/* A waiting Fetch keeps its request decoded once: req's slices point into body, its arrays
 * into arena. */
typedef struct pend_fetch {
    uint8_t *body;
    kw_arena *arena;
    kw_fetch_req req;
} pend_fetch;

static void pend_fetch_free(void *arg) {
    pend_fetch *pf = arg;
    free(pf->body);
    if (pf->arena)
        kw_arena_destroy(pf->arena);
    free(pf);
}

/* The batches a Fetch answer gives one partition: references taken under the cluster lock,
 * copied out after it is released. */
typedef struct refs_t {
    mb_batch **v;
    size_t n;
} refs_t;

/* Copies each partition's referenced batches into one buffer and points the answer's records
 * at it (refs are in the request's topic/partition order, as part_walk_run numbers them: a
 * topic whose answer could not be allocated keeps its places). Returns the buffers (total of
 * them, NULL entries where none), which the caller frees after encoding; NULL when out of
 * memory (the records stay empty). */
static uint8_t **fetch_copy_records(const kw_fetch_req *req, kw_fetch_resp *resp,
                                    const refs_t *refs, int total) {
    uint8_t **bufs = calloc((size_t)(total > 0 ? total : 1), sizeof *bufs);
    if (!bufs)
        return NULL;
    int ri = 0;
    for (int32_t t = 0; t < resp->n_topics; t++) {
        kw_fetch_resp_topic *ot = &resp->topics[t];
        if (ot->n_partitions != req->topics[t].n_partitions) { /* out of memory: skipped */
            ri += req->topics[t].n_partitions;
            continue;
        }
        for (int32_t i = 0; i < ot->n_partitions; i++, ri++) {
            if (!refs[ri].n)
                continue;
            size_t sz = 0;
            for (size_t j = 0; j < refs[ri].n; j++)
                sz += refs[ri].v[j]->len;
            bufs[ri] = malloc(sz);
            if (!bufs[ri])
                continue;
            size_t off = 0;
            for (size_t j = 0; j < refs[ri].n; j++) {
                memcpy(bufs[ri] + off, refs[ri].v[j]->data, refs[ri].v[j]->len);
                off += refs[ri].v[j]->len;
            }
            ot->partitions[i].records = (kw_slice){bufs[ri], (int32_t)sz};
        }
    }
    return bufs;
}

/* One Fetch request's walk (part_walk): its answer, the bytes of records found so far against
 * max_bytes, and the batches each partition gives (refs, in the request's partition order). */
typedef struct fetch_walk {
    mb_broker *b;
    mb_slot *s;
    const kw_fetch_req *req;
    kw_fetch_resp *resp;
    kw_arena *a;
    kw_err whole;
    bool final;
    bool any_error;
    int64_t max_bytes;
    int64_t found;
    refs_t *refs;
} fetch_walk;

static int32_t fetch_n_partitions(void *h, int32_t t) {
    const fetch_walk *w = h;
    return w->req->topics[t].n_partitions;
}

static bool fetch_answer_topic(void *h, int32_t t) {
    fetch_walk *w = h;
    kw_fetch_resp_topic *ot = &w->resp->topics[t];
    ot->topic = w->req->topics[t].topic;
    ot->partitions = answer_partitions(w->a, w->req->topics[t].n_partitions, sizeof *ot->partitions,
                                       &ot->n_partitions);
    return ot->partitions != NULL;
}

/* One partition of a Fetch answer: whole batches from fetch_offset below the high watermark,
 * the first always (KIP-74), then while partition_max_bytes and max_bytes allow; the batches
 * are referenced in refs[flat], copied out after the lock.
 * @locks c->lock MUST be held. */
static int fetch_answer_partition(void *h, int32_t t, int32_t i, int flat) {
    fetch_walk *w = h;
    const kw_fetch_req_topic *rt = &w->req->topics[t];
    const kw_fetch_req_partition *rp = &rt->partitions[i];
    kw_fetch_resp_partition *op = &w->resp->topics[t].partitions[i];
    refs_t *ref = &w->refs[flat];
    op->partition_index = rp->partition;
    op->high_watermark = -1;
    op->last_stable_offset = -1;
    op->log_start_offset = -1;
    op->n_aborted = -1;
    op->preferred_read_replica = -1;
    op->records = (kw_slice){(const uint8_t *)"", 0}; /* clients want 0, not null */
    char tname[MB_MAX_TOPIC_NAME + 2];
    kw_err e;
    mb_partition *p =
        request_partition(w->b, KW_API_FETCH, rt->topic, rp->partition, rp->current_leader_epoch,
                          w->whole, w->final, tname, sizeof tname, &e);
    const mb_log *l = p ? &p->rep[p->last_leader].log : NULL;
    if (!e && (rp->fetch_offset < l->start || rp->fetch_offset > l->end))
        e = KW_ERR_OFFSET_OUT_OF_RANGE;
    op->error_code = (int16_t)e;
    if (e) {
        w->any_error = true;
        w->s->error = (int16_t)e;
        return 0;
    }
    op->high_watermark = p->hw;
    op->last_stable_offset = p->hw;
    op->log_start_offset = l->start;
    int64_t pbytes = 0;
    size_t k = mb_log_find(l, rp->fetch_offset);
    size_t k0 = k;
    while (k < l->n && l->v[k]->last_offset < p->hw) {
        int64_t sz = (int64_t)l->v[k]->len;
        if (k > k0 && (pbytes + sz > rp->partition_max_bytes || w->found + sz > w->max_bytes))
            break;
        if (k == k0 && w->found > 0 && w->found + sz > w->max_bytes)
            break;
        pbytes += sz;
        w->found += sz;
        k++;
    }
    if (k > k0) {
        ref->v = malloc((k - k0) * sizeof *ref->v);
        if (ref->v) {
            ref->n = k - k0;
            for (size_t j = k0; j < k; j++) {
                ref->v[j - k0] = l->v[j];
                mb_batch_ref(l->v[j]);
            }
        }
    }
    return 0;
}

/* Builds the Fetch answer from the leader's log up to the high watermark, partition by
 * partition (fetch_answer_partition). Returns the bytes of records found, or -1 on a memory
 * error. The answer goes into slot->out only when records were found, an error is reported,
 * or `final`. */
static int64_t fetch_build(mb_broker *b, mb_slot *s, const kw_fetch_req *req, kw_arena *a,
                           int64_t now, bool final, char *errbuf, size_t errsize) {
    mb_cluster *c = b->c;
    kw_fetch_resp resp = {.n_topics = req->n_topics};
    resp.topics = ARENA_NEW(a, kw_fetch_resp_topic, req->n_topics);
    fetch_walk fw = {.b = b, .s = s, .req = req, .resp = &resp, .a = a, .final = final};
    part_walk walk = {&fw, req->n_topics, fetch_n_partitions, fetch_answer_topic,
                      fetch_answer_partition};
    int total = part_walk_total(&walk);
    refs_t *refs = calloc((size_t)(total > 0 ? total : 1), sizeof *refs);
    if (!resp.topics || !refs) {
        free(refs);
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    fw.refs = refs;
    fw.max_bytes = req->max_bytes > 0 ? req->max_bytes : INT32_MAX;
    pthread_mutex_lock(&c->lock);
    fw.whole = mb_inject_take(c, KW_API_FETCH, NULL, -1);
    part_walk_run(&walk);
    pthread_mutex_unlock(&c->lock);
    kw_err whole = fw.whole;
    int64_t found = fw.found;
    bool answer = final || found > 0 || fw.any_error || whole;
    if (answer) {
        uint8_t **bufs = fetch_copy_records(req, &resp, refs, total);
        size_t start = mb_resp_begin(s);
        kw_fetch_resp_encode(&s->out, s->api_version, &resp);
        mb_resp_end(s, start, now);
        if (whole)
            s->error = (int16_t)whole;
        for (int i = 0; bufs && i < total; i++)
            free(bufs[i]);
        free(bufs);
    }
    for (int i = 0; i < total; i++) {
        for (size_t j = 0; j < refs[i].n; j++)
            mb_batch_unref(refs[i].v[j]);
        free(refs[i].v);
    }
    free(refs);
    return found;
}

static void resume_fetch(mb_broker *b, mb_slot *s, int64_t now, mb_evbuf *eb) {
    (void)eb;
    pend_fetch *pf = s->pend;
    kw_arena *a = kw_arena_new();
    char err[200];
    if (!a)
        return;
    bool final = now >= s->deadline_us;
    int64_t rc = fetch_build(b, s, &pf->req, a, now, final, err, sizeof err);
    kw_arena_destroy(a);
    if (rc < 0) /* only memory can fail here */
        s->state = MB_SLOT_NONE;
}

static int h_fetch(mb_req *r, char *errbuf, size_t errsize) {
    int16_t v = r->hdr.api_version;
    kw_fetch_req req;
    if (kw_fetch_req_decode(&r->rb, v, r->arena, &req) != KW_ERR_NONE)
        return decode_failed(r, errbuf, errsize);
    bool can_wait = req.max_wait_ms > 0 && req.min_bytes > 0;
    if (fetch_build(r->b, r->slot, &req, r->arena, r->now, !can_wait, errbuf, errsize) < 0)
        return -1;
    if (r->slot->state == MB_SLOT_READY)
        return 0;
    /* Wait: keep a copy of the body and its decoding, which outlive this frame. */
    size_t len = r->rb.len;
    pend_fetch *pf = calloc(1, sizeof *pf);
    kw_rbuf rb;
    if (pf && (pf->body = malloc(len ? len : 1)) && (pf->arena = kw_arena_new())) {
        memcpy(pf->body, r->rb.p, len);
        kw_rbuf_init(&rb, pf->body, len, NULL);
    }
    if (!pf || !pf->arena || kw_fetch_req_decode(&rb, v, pf->arena, &pf->req) != KW_ERR_NONE) {
        if (pf)
            pend_fetch_free(pf);
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    mb_slot_make_pending(r->b, r->slot, r->now + (int64_t)req.max_wait_ms * 1000, resume_fetch, pf,
                         pend_fetch_free);
    return 0;
}

/* ---- the table --------------------------------------------------------------------------- */

static mb_handler handlers[64];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void handlers_init(void) {
    static const struct {
        int16_t key;
        mb_handler_fn fn;
    } fns[] = {
        {KW_API_PRODUCE, h_produce},
        {KW_API_FETCH, h_fetch},
        {KW_API_LIST_OFFSETS, h_list_offsets},
        {KW_API_METADATA, h_metadata},
        {KW_API_API_VERSIONS, h_api_versions},
        {KW_API_INIT_PRODUCER_ID, h_init_pid},
        /* consumer groups (group.c) and topic admin (admin.c) */
        {KW_API_FIND_COORDINATOR, mb_h_find_coordinator},
        {KW_API_JOIN_GROUP, mb_h_join_group},
        {KW_API_SYNC_GROUP, mb_h_sync_group},
        {KW_API_HEARTBEAT, mb_h_heartbeat},
        {KW_API_LEAVE_GROUP, mb_h_leave_group},
        {KW_API_OFFSET_COMMIT, mb_h_offset_commit},
        {KW_API_OFFSET_FETCH, mb_h_offset_fetch},
        {KW_API_LIST_GROUPS, mb_h_list_groups},
        {KW_API_DESCRIBE_GROUPS, mb_h_describe_groups},
        {KW_API_CREATE_TOPICS, mb_h_create_topics},
        {KW_API_DELETE_TOPICS, mb_h_delete_topics},
        {KW_API_CREATE_PARTITIONS, mb_h_create_partitions},
        {KW_API_DESCRIBE_CONFIGS, mb_h_describe_configs},
        {KW_API_OFFSET_FOR_LEADER_EPOCH, mb_h_offset_for_leader_epoch},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        const kw_api_range *rg = kw_api_supported(fns[i].key);
        if (!rg)
            continue;
        handlers[fns[i].key] = (mb_handler){rg->min_version, rg->max_version, fns[i].fn};
    }
}

const mb_handler *mb_handler_get(int16_t api_key) {
    pthread_once(&handlers_once, handlers_init);
    if (api_key < 0 || api_key >= 64 || !handlers[api_key].fn)
        return NULL;
    return &handlers[api_key];
}
