/* Flexible versions (KIP-482) checked by hands other than the codec's own:
 *
 * - Wireshark's Kafka dissector (tshark 4.0, an independent decoder) reads a request and a
 *   response of every version we added that it knows, written by our encoders, and flags
 *   nothing malformed; it finds the topic name and the version in each.
 * - Byte layouts computed by hand from apache/kafka's message JSON for the versions tshark 4.0
 *   does not know (Produce v10-v11 with the KIP-951 leader hints, ApiVersions v4).
 * - The frames of a live `courier produce` -> `courier broker` session at the highest versions
 *   (tests/vectors/flexible/, made by tests/vectors/tools/capture_courier.sh) decode and
 *   re-encode to the same bytes, with the values that session sent.
 */
#include "protocol/kw.h"
#include "protocol/kw_wire.h" /* the field primitives under test */
#include "tests/test_protocol_util.h"
#include "tests/tu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* A tiny pcap writer: one TCP connection 127.0.0.1:40000 <-> 127.0.0.1:9092, one segment per
 * frame, sequence numbers kept per direction so tshark reassembles nothing by mistake.         */

typedef struct pcap_w {
    FILE *f;
    uint32_t seq[2]; /* [0] client -> broker, [1] broker -> client */
    uint32_t n;
} pcap_w;

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
    put16(p, v >> 16), put16(p + 2, v & 0xffff);
}

static void pcap_open(pcap_w *w, FILE *f) {
    memset(w, 0, sizeof *w);
    w->f = f;
    w->seq[0] = 1000, w->seq[1] = 5000;
    uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 262144, 1}; /* v2.4, Ethernet */
    fwrite(gh, sizeof gh, 1, f);
}

static void pcap_frame(pcap_w *w, bool to_broker, const uint8_t *payload, size_t n) {
    uint8_t h[54] = {0};
    h[12] = 0x08; /* EtherType IPv4 */
    uint8_t *ip = h + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint32_t)(40 + n));
    ip[8] = 64, ip[9] = 6; /* TTL, TCP */
    ip[12] = 127, ip[15] = 1, ip[16] = 127, ip[19] = 1;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, ~sum & 0xffff);
    uint8_t *tcp = ip + 20;
    int d = to_broker ? 0 : 1;
    put16(tcp, to_broker ? 40000 : 9092);
    put16(tcp + 2, to_broker ? 9092 : 40000);
    put32(tcp + 4, w->seq[d]);
    put32(tcp + 8, w->seq[1 - d]);
    tcp[12] = 0x50, tcp[13] = 0x18; /* header 20 bytes; PSH, ACK */
    tcp[14] = 0xff, tcp[15] = 0xff;
    w->seq[d] += (uint32_t)n;
    uint32_t rec[4] = {1700000000u, ++w->n, (uint32_t)(54 + n), (uint32_t)(54 + n)};
    fwrite(rec, sizeof rec, 1, w->f);
    fwrite(h, sizeof h, 1, w->f);
    fwrite(payload, 1, n, w->f);
}

/* ------------------------------------------------------------------------------------------ */
/* Sample messages: topic "flex", partition 0, broker 1 at 127.0.0.1:9092.                     */

static uint8_t batch_buf[512];
static size_t batch_len;
static kw_uuid flex_id = {{0x5e, 0x1f, 0x0b, 0x4d, 0x21, 0x9a, 0x4c, 0x8e, 0x9d, 0x3b, 0x77, 0x10,
                           0x42, 0x6a, 0x01, 0xc3}};

static void make_batch(void) {
    kw_batch_writer w;
    kw_batch_writer_init(&w, batch_buf, sizeof batch_buf);
    CU_ASSERT_EQUAL_FATAL(kw_batch_writer_append(&w, 1700000000000LL, kw_slice_str("k1"),
                                                 kw_slice_str("hello"), NULL, 0),
                          KW_ERR_NONE);
    CU_ASSERT_EQUAL_FATAL(kw_batch_writer_append(&w, 1700000000001LL, KW_SLICE_NULL,
                                                 kw_slice_str("world"), NULL, 0),
                          KW_ERR_NONE);
    batch_len = kw_batch_writer_close(&w, 4000, 0, 0);
}

/* Writes the request body of `key` at `v`. */
static void sample_request(int16_t key, int16_t v, kw_wbuf *wb) {
    static kw_slice topics[1];
    topics[0] = kw_slice_str("flex");
    switch (key) {
    case KW_API_API_VERSIONS: {
        kw_api_versions_req m = {kw_slice_str("courier-test"), kw_slice_str("1.0")};
        kw_api_versions_req_encode(wb, v, &m);
        break;
    }
    case KW_API_METADATA: {
        kw_metadata_req m = {.n_topics = 1,
                             .topics = topics,
                             .allow_auto_topic_creation = true,
                             .topic_ids = NULL};
        kw_metadata_req_encode(wb, v, &m);
        break;
    }
    case KW_API_PRODUCE: {
        kw_produce_req_partition p = {0, {batch_buf, (int32_t)batch_len}};
        kw_produce_req_topic t = {topics[0], 1, &p};
        kw_produce_req m = {KW_SLICE_NULL, -1, 30000, 1, &t};
        kw_produce_req_encode(wb, v, &m);
        break;
    }
    case KW_API_LIST_OFFSETS: {
        kw_list_offsets_req_partition p = {0, 3, -1};
        kw_list_offsets_req_topic t = {topics[0], 1, &p};
        kw_list_offsets_req m = {-1, 0, 1, &t};
        kw_list_offsets_req_encode(wb, v, &m);
        break;
    }
    case KW_API_FETCH: {
        kw_fetch_req_partition p = {0, 3, 0, -1, 1 << 20, -1};
        kw_fetch_req_topic t = {topics[0], 1, &p};
        kw_fetch_req m = {.replica_id = -1,
                          .max_wait_ms = 500,
                          .min_bytes = 1,
                          .max_bytes = 52428800,
                          .session_epoch = -1,
                          .n_topics = 1,
                          .topics = &t,
                          .rack_id = kw_slice_str("")};
        kw_fetch_req_encode(wb, v, &m);
        break;
    }
    default:
        CU_FAIL("no sample request");
    }
}

/* Writes the response body of `key` at `v`. Produce answers partition 0 and, from v10, a
 * partition 1 NOT_LEADER_OR_FOLLOWER with the leader hints. */
static void sample_response(int16_t key, int16_t v, kw_wbuf *wb) {
    kw_metadata_broker broker = {1, kw_slice_str("127.0.0.1"), 9092, KW_SLICE_NULL};
    kw_metadata_broker broker2 = {2, kw_slice_str("127.0.0.1"), 9093, KW_SLICE_NULL};
    switch (key) {
    case KW_API_API_VERSIONS: {
        kw_api_versions_resp m = {0, 6, (kw_api_range *)kw_supported_apis, 0};
        kw_api_versions_resp_encode(wb, v, &m);
        break;
    }
    case KW_API_METADATA: {
        int32_t reps[1] = {1};
        kw_metadata_partition p = {0, 0, 1, 3, 1, reps, 1, reps, 0, NULL};
        kw_metadata_topic t = {.name = kw_slice_str("flex"),
                               .n_partitions = 1,
                               .partitions = &p,
                               .topic_authorized_operations = INT32_MIN,
                               .topic_id = flex_id};
        kw_metadata_resp m = {.n_brokers = 1,
                              .brokers = &broker,
                              .cluster_id = kw_slice_str("courier-mock-cluster"),
                              .controller_id = 1,
                              .n_topics = 1,
                              .topics = &t,
                              .cluster_authorized_operations = INT32_MIN};
        kw_metadata_resp_encode(wb, v, &m);
        break;
    }
    case KW_API_PRODUCE: {
        kw_produce_resp_partition p[2] = {
            {.index = 0, .base_offset = 5, .log_append_time_ms = -1, .log_start_offset = 0,
             .error_message = KW_SLICE_NULL},
            {.index = 1, .error_code = KW_ERR_NOT_LEADER_OR_FOLLOWER, .base_offset = -1,
             .log_append_time_ms = -1, .log_start_offset = -1, .error_message = KW_SLICE_NULL,
             .has_current_leader = true, .current_leader_id = 2, .current_leader_epoch = 7}};
        kw_produce_resp_topic t = {kw_slice_str("flex"), v >= 10 ? 2 : 1, p};
        kw_produce_resp m = {.n_topics = 1,
                             .topics = &t,
                             .n_node_endpoints = v >= 10 ? 1 : 0,
                             .node_endpoints = &broker2};
        kw_produce_resp_encode(wb, v, &m);
        break;
    }
    case KW_API_LIST_OFFSETS: {
        kw_list_offsets_resp_partition p = {0, 0, -1, 5, 3};
        kw_list_offsets_resp_topic t = {kw_slice_str("flex"), 1, &p};
        kw_list_offsets_resp m = {0, 1, &t};
        kw_list_offsets_resp_encode(wb, v, &m);
        break;
    }
    case KW_API_FETCH: {
        kw_fetch_resp_partition p = {0, 0, 2, 2, 0, -1, NULL, -1, {batch_buf, (int32_t)batch_len}};
        kw_fetch_resp_topic t = {kw_slice_str("flex"), 1, &p};
        kw_fetch_resp m = {.n_topics = 1, .topics = &t};
        kw_fetch_resp_encode(wb, v, &m);
        break;
    }
    default:
        CU_FAIL("no sample response");
    }
}

static void frame_request(kw_wbuf *wb, int16_t key, int16_t v, int32_t corr) {
    kw_wbuf_reset(wb);
    size_t st = kw_frame_begin(wb);
    kw_request_header h = {key, v, corr, kw_slice_str("courier-test")};
    kw_request_header_encode(wb, &h);
    sample_request(key, v, wb);
    kw_frame_end(wb, st);
}

static void frame_response(kw_wbuf *wb, int16_t key, int16_t v, int32_t corr) {
    kw_wbuf_reset(wb);
    size_t st = kw_frame_begin(wb);
    kw_response_header h = {corr};
    kw_response_header_encode(wb, &h, kw_response_header_version(key, v));
    sample_response(key, v, wb);
    kw_frame_end(wb, st);
}

/* The flexible versions we speak, and the last version tshark 4.0.17's Kafka dissector knows
 * (its own messages: "Supports v0-8" for Produce, v0-9 Metadata, v0-5 ListOffsets, v0-11
 * Fetch, v0-3 ApiVersions): only ApiVersions v3 and Metadata v9 are within its reach. */
static const struct {
    int16_t key, lo, hi, tshark_hi;
} added[] = {
    {KW_API_API_VERSIONS, 3, 4, 3}, {KW_API_PRODUCE, 9, 11, 8},  {KW_API_METADATA, 9, 12, 9},
    {KW_API_LIST_OFFSETS, 6, 7, 5}, {KW_API_FETCH, 12, 12, 11},
};

static bool have_tshark(void) {
    return system("command -v tshark > /dev/null 2>&1") == 0;
}

/* Runs tshark over a pcap; one line per packet: api key, version, topic names, malformed
 * mark, expert messages ('|'-separated). Returns the output (static buffer). */
static const char *tshark_fields(const char *path) {
    static char out[1 << 17];
    char cmd[768];
    snprintf(cmd, sizeof cmd,
             "tshark -r %s -d tcp.port==9092,kafka -T fields -E separator='|' -e frame.number "
             "-e kafka.api_key -e kafka.api_version -e kafka.topic_name -e _ws.malformed "
             "-e _ws.expert.message 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    if (p)
        pclose(p);
    return out;
}

/* tshark reads a request and a response of every flexible version it knows: each frame is
 * Kafka with the API key we wrote (and the version, in requests), names topic "flex" (but
 * ApiVersions), and is not malformed; requests are not "unsupported" (the ApiVersions
 * response is: tshark notes each advertised range that goes past its own table). */
static void test_tshark_decodes_every_added_version_it_knows(void) {
    if (!have_tshark()) {
        CU_FAIL("tshark is not installed (.ci/deps.sh installs it)");
        return;
    }
    make_batch();
    char path[] = "/tmp/courier-flex-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    CU_ASSERT_FATAL(f != NULL);
    pcap_w w;
    pcap_open(&w, f);
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    int frames = 0;
    int32_t corr = 100;
    struct {
        int16_t key, v;
    } sent[64];
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        for (int16_t v = added[i].lo; v <= added[i].tshark_hi; v++, corr++) {
            frame_request(&wb, added[i].key, v, corr);
            pcap_frame(&w, true, wb.p, wb.len);
            frame_response(&wb, added[i].key, v, corr);
            pcap_frame(&w, false, wb.p, wb.len);
            sent[frames / 2].key = added[i].key;
            sent[frames / 2].v = v;
            frames += 2;
        }
    }
    fclose(f);
    kw_wbuf_free(&wb);
    const char *out = tshark_fields(path);
    unlink(path);
    int lines = 0, clean = 0;
    for (const char *line = out; *line; lines++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        /* frame.number|api_key|api_version|rest (fields may be empty) */
        int num = atoi(buf), key = -1, ver = -1;
        const char *f1 = strchr(buf, '|'), *f2 = f1 ? strchr(f1 + 1, '|') : NULL;
        const char *f3 = f2 ? strchr(f2 + 1, '|') : NULL;
        if (f1 && f1[1] != '|')
            key = atoi(f1 + 1);
        if (f2 && f2[1] != '|')
            ver = atoi(f2 + 1);
        const char *rest = f3 ? f3 + 1 : "";
        int k = lines / 2;
        bool request = lines % 2 == 0;
        bool ok = k < frames / 2 && key == sent[k].key && (!request || ver == sent[k].v) &&
                  (sent[k].key == KW_API_API_VERSIONS || strstr(rest, "flex") != NULL) &&
                  !strstr(rest, "alformed") && !strstr(rest, "Undecoded") &&
                  !strstr(rest, "missing") && (!request || !strstr(rest, "nsupported"));
        if (!ok)
            fprintf(stderr, "\ntshark frame %d: %s", num, buf);
        clean += ok;
        line = end ? end + 1 : line + len;
    }
    fprintf(stderr, "\n    tshark: %d of %d frames (%d added versions) decoded clean  ", clean,
            frames, frames / 2);
    CU_ASSERT_EQUAL(lines, frames);
    CU_ASSERT_EQUAL(clean, frames);
    CU_ASSERT_EQUAL(frames, 2 * 2); /* ApiVersions v3, Metadata v9 */
}

/* ------------------------------------------------------------------------------------------ */
/* Hand-computed layouts (from apache/kafka's JSON, not from our encoder).                      */

static void expect_bytes(const kw_wbuf *wb, const uint8_t *want, size_t n) {
    bool same = wb->len == n && memcmp(wb->p, want, n) == 0;
    if (!same) {
        fprintf(stderr, "\ngot:  ");
        for (size_t i = 0; i < wb->len; i++)
            fprintf(stderr, "%02x", wb->p[i]);
        fprintf(stderr, "\nwant: ");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02x", want[i]);
        fprintf(stderr, "\n");
    }
    CU_ASSERT(same);
}

/* ProduceResponse v10 (flexible, KIP-951): partition 1 answered NOT_LEADER_OR_FOLLOWER with
 * CurrentLeader {2, 7} as tagged field 0 of the partition, and NodeEndpoints [{2, "h", 9093,
 * null}] as tagged field 0 of the response, after throttle_time_ms. */
static const uint8_t produce_v10_response[] = {
    0x02,                                           /* responses: 1 (compact N+1) */
    0x05, 'f', 'l', 'e', 'x',                       /* name "flex" (compact) */
    0x02,                                           /* partition_responses: 1 */
    0x00, 0x00, 0x00, 0x01,                         /* index 1 */
    0x00, 0x06,                                     /* error_code 6 NOT_LEADER_OR_FOLLOWER */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base_offset -1 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_append_time_ms -1 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset -1 */
    0x01,                                           /* record_errors: 0 */
    0x00,                                           /* error_message null */
    0x01,                                           /* 1 tagged field */
    0x00, 0x09,                                     /* tag 0 (CurrentLeader), 9 bytes */
    0x00, 0x00, 0x00, 0x02,                         /* leader_id 2 */
    0x00, 0x00, 0x00, 0x07,                         /* leader_epoch 7 */
    0x00,                                           /* CurrentLeader's own tags: none */
    0x00,                                           /* topic's tags: none */
    0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms 0 */
    0x01,                                           /* 1 tagged field */
    0x00, 0x0d,                                     /* tag 0 (NodeEndpoints), 13 bytes */
    0x02,                                           /* 1 endpoint */
    0x00, 0x00, 0x00, 0x02,                         /* node_id 2 */
    0x02, 'h',                                      /* host "h" */
    0x00, 0x00, 0x23, 0x85,                         /* port 9093 */
    0x00,                                           /* rack null */
    0x00,                                           /* endpoint's tags: none */
};

static void test_produce_v10_response_layout_is_kafkas(void) {
    kw_metadata_broker ep = {2, kw_slice_str("h"), 9093, KW_SLICE_NULL};
    kw_produce_resp_partition p = {.index = 1,
                                   .error_code = 6,
                                   .base_offset = -1,
                                   .log_append_time_ms = -1,
                                   .log_start_offset = -1,
                                   .error_message = KW_SLICE_NULL,
                                   .has_current_leader = true,
                                   .current_leader_id = 2,
                                   .current_leader_epoch = 7};
    kw_produce_resp_topic t = {kw_slice_str("flex"), 1, &p};
    kw_produce_resp m = {.n_topics = 1, .topics = &t, .n_node_endpoints = 1, .node_endpoints = &ep};
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    for (int16_t v = 10; v <= 11; v++) { /* v11 only allows a new error code */
        kw_wbuf_reset(&wb);
        kw_produce_resp_encode(&wb, v, &m);
        expect_bytes(&wb, produce_v10_response, sizeof produce_v10_response);
        kw_arena *a = kw_arena_new();
        kw_rbuf rb;
        kw_rbuf_init(&rb, produce_v10_response, sizeof produce_v10_response, "test");
        kw_produce_resp got;
        CU_ASSERT_EQUAL_FATAL(kw_produce_resp_decode(&rb, v, a, &got), KW_ERR_NONE);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].has_current_leader, true);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].current_leader_id, 2);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].current_leader_epoch, 7);
        CU_ASSERT_EQUAL_FATAL(got.n_node_endpoints, 1);
        CU_ASSERT_EQUAL(got.node_endpoints[0].port, 9093);
        CU_ASSERT(kw_slice_eq(got.node_endpoints[0].host, "h"));
        CU_ASSERT_EQUAL(got.node_endpoints[0].rack.len, -1);
        kw_arena_destroy(a);
    }
    /* v9 has the same fields but no hints: both tagged sections are empty */
    kw_wbuf_reset(&wb);
    kw_produce_resp_encode(&wb, 9, &m);
    CU_ASSERT_EQUAL(wb.len, sizeof produce_v10_response - 11 - 15);
    kw_wbuf_free(&wb);
}

/* A Produce v10 response (topic "f", partition 0) with the given partition tagged section,
 * written by hand with raw writes so the tags are exactly as given. */
static void produce_v10_with_tags(kw_wbuf *wb, const uint8_t *tags, size_t n) {
    static const uint8_t head[] = {0x02, 0x02, 'f', 0x02};
    kw_wbuf_reset(wb);
    kw_wbuf_append(wb, head, sizeof head);
    kw_write_i32(wb, 0);  /* index */
    kw_write_i16(wb, 6);  /* error_code */
    kw_write_i64(wb, -1); /* base_offset */
    kw_write_i64(wb, -1); /* log_append_time_ms */
    kw_write_i64(wb, -1); /* log_start_offset */
    kw_write_i8(wb, 1);   /* record_errors: empty */
    kw_write_i8(wb, 0);   /* error_message: null */
    kw_wbuf_append(wb, tags, n);
    kw_write_i8(wb, 0);  /* topic tags */
    kw_write_i32(wb, 0); /* throttle_time_ms */
    static const uint8_t resp_tags[] = {0x01, 0x07, 0x01, 0xee}; /* tag 7, unknown */
    kw_wbuf_append(wb, resp_tags, sizeof resp_tags);
}

/* Unknown tags are skipped; a repeated or descending tag is malformed (Java's readers). */
static void test_tagged_fields_unknown_skipped_repeated_rejected(void) {
    /* tag 0 CurrentLeader {3, 1}, then tag 5 (unknown, 2 bytes) */
    static const uint8_t ok[] = {0x02, 0x00, 0x09, 0, 0, 0, 3, 0, 0, 0, 1, 0x00, 0x05, 0x02, 0xab,
                                 0xcd};
    static const uint8_t repeated[] = {0x02, 0x00, 0x09, 0, 0, 0, 3, 0, 0, 0, 1, 0x00, 0x00, 0x02,
                                       0xab, 0xcd};
    static const uint8_t descending[] = {0x02, 0x05, 0x02, 0xab, 0xcd, 0x00, 0x09, 0, 0,
                                         0,    3,    0,    0,    0,    1,    0x00};
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_rbuf rb;
    kw_produce_resp got;
    produce_v10_with_tags(&wb, ok, sizeof ok);
    kw_rbuf_init(&rb, wb.p, wb.len, "test");
    kw_err e = kw_produce_resp_decode(&rb, 10, a, &got);
    if (e)
        fprintf(stderr, "\n%s\n", rb.errmsg);
    CU_ASSERT_EQUAL_FATAL(e, KW_ERR_NONE);
    CU_ASSERT_EQUAL(got.topics[0].partitions[0].current_leader_id, 3);
    CU_ASSERT_EQUAL(got.topics[0].partitions[0].current_leader_epoch, 1);
    CU_ASSERT_EQUAL(got.n_node_endpoints, 0);
    const uint8_t *bad[] = {repeated, descending};
    for (int k = 0; k < 2; k++) {
        produce_v10_with_tags(&wb, bad[k], sizeof ok);
        kw_rbuf_init(&rb, wb.p, wb.len, "test");
        CU_ASSERT_EQUAL(kw_produce_resp_decode(&rb, 10, a, &got), KW_ERR__MALFORMED);
        CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "must ascend"));
        CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "Produce.responses[0].partition_responses[0]"));
    }
    /* a CurrentLeader shorter than its two int32s fails inside the field */
    static const uint8_t short_leader[] = {0x01, 0x00, 0x04, 0, 0, 0, 3};
    produce_v10_with_tags(&wb, short_leader, sizeof short_leader);
    kw_rbuf_init(&rb, wb.p, wb.len, "test");
    CU_ASSERT_EQUAL(kw_produce_resp_decode(&rb, 10, a, &got), KW_ERR__TRUNCATED);
    CU_ASSERT_PTR_NOT_NULL(strstr(rb.errmsg, "current_leader"));
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

/* ApiVersionsRequest v4 is v3 again (the version tells the broker the client reads the
 * one-entry UNSUPPORTED_VERSION answer, KIP-896): compact name and version, empty tags. */
static void test_api_versions_v4_request_layout_is_kafkas(void) {
    static const uint8_t want[] = {0x08, 'c', 'o', 'u', 'r', 'i', 'e', 'r',
                                   0x04, '0', '.', '2', 0x00};
    kw_api_versions_req m = {kw_slice_str("courier"), kw_slice_str("0.2")};
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    kw_api_versions_req_encode(&wb, 4, &m);
    expect_bytes(&wb, want, sizeof want);
    kw_wbuf_reset(&wb);
    /* request header v2 for it: client_id stays a classic nullable string, then tags */
    kw_request_header h = {KW_API_API_VERSIONS, 4, 9, kw_slice_str("c")};
    kw_request_header_encode(&wb, &h);
    static const uint8_t hdr[] = {0, 18, 0, 4, 0, 0, 0, 9, 0, 1, 'c', 0x00};
    expect_bytes(&wb, hdr, sizeof hdr);
    kw_wbuf_free(&wb);
}

/* Metadata v12, ListOffsets v7 and Fetch v12 requests, byte by byte from the JSON. */
static void test_metadata_list_offsets_fetch_request_layouts_are_kafkas(void) {
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    /* Metadata v12: topics [{topic_id (uuid), name (compact, nullable)}], allow_auto_topic_
     * creation, include_topic_authorized_operations (include_cluster_... is v8-10 only) */
    kw_slice names[1] = {kw_slice_str("t")};
    kw_metadata_req md = {.n_topics = 1, .topics = names, .allow_auto_topic_creation = true};
    static const uint8_t md12[] = {0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* id */
                                   0x02, 't', 0x00, /* name, topic tags */
                                   0x01, 0x00, 0x00 /* auto create, topic ops, tags */};
    kw_metadata_req_encode(&wb, 12, &md);
    expect_bytes(&wb, md12, sizeof md12);
    /* v11 the same; v10 adds include_cluster_authorized_operations before the topic flag */
    kw_wbuf_reset(&wb);
    kw_metadata_req_encode(&wb, 10, &md);
    CU_ASSERT_EQUAL(wb.len, sizeof md12 + 1);
    /* ListOffsets v7: the timestamp -3 (max timestamp, KIP-734) is just a value */
    kw_list_offsets_req_partition lp = {0, -1, -3};
    kw_list_offsets_req_topic lt = {kw_slice_str("t"), 1, &lp};
    kw_list_offsets_req lo = {-1, 0, 1, &lt};
    static const uint8_t lo7[] = {0xff, 0xff, 0xff, 0xff, 0x00, /* replica_id, isolation */
                                  0x02, 0x02, 't', 0x02,         /* topics, name, partitions */
                                  0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* index, leader epoch */
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, /* -3 */
                                  0x00, 0x00, 0x00}; /* partition, topic, request tags */
    kw_wbuf_reset(&wb);
    kw_list_offsets_req_encode(&wb, 7, &lo);
    expect_bytes(&wb, lo7, sizeof lo7);
    /* Fetch v12: last_fetched_epoch between fetch_offset and log_start_offset */
    kw_fetch_req_partition fp = {0, -1, 0, -1, 1 << 20, -1};
    kw_fetch_req_topic ft = {kw_slice_str("t"), 1, &fp};
    kw_fetch_req fr = {.replica_id = -1,
                       .max_wait_ms = 500,
                       .min_bytes = 1,
                       .max_bytes = INT32_MAX,
                       .session_epoch = -1,
                       .n_topics = 1,
                       .topics = &ft,
                       .rack_id = kw_slice_str("")};
    static const uint8_t f12[] = {
        0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0xf4, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, /* */
        0x00, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* isolation, session id, epoch */
        0x02, 0x02, 't', 0x02, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* partition 0, leader -1 */
        0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,             /* offset 0, last epoch -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00, 0x00, /* lso, max */
        0x00, 0x00, /* partition, topic tags */
        0x01, 0x01, 0x00 /* forgotten [], rack_id "", tags */};
    kw_wbuf_reset(&wb);
    kw_fetch_req_encode(&wb, 12, &fr);
    expect_bytes(&wb, f12, sizeof f12);
    kw_wbuf_free(&wb);
}

/* ------------------------------------------------------------------------------------------ */
/* The live session's frames.                                                                   */

static const char *flex_dir(void) {
    const char *d = getenv("COURIER_FLEX_VECTORS");
    return d && *d ? d : "tests/vectors/flexible";
}

static size_t read_hex_file(const char *name, uint8_t *buf, size_t cap) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", flex_dir(), name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "\ncannot open %s (run from the repository root)\n", path);
        return 0;
    }
    static char text[1 << 16];
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && n + 1 < sizeof text)
        if (c != '\n' && c != ' ')
            text[n++] = (char)c;
    text[n] = 0;
    fclose(f);
    return unhex(text, buf, cap);
}

typedef struct live {
    const char *file;
    int16_t key, v;
    bool request;
} live;

static const live live_frames[] = {
    {"courier_api_versions_v3_request.hex", KW_API_API_VERSIONS, 3, true},
    {"courier_api_versions_v3_response.hex", KW_API_API_VERSIONS, 3, false},
    {"courier_metadata_v12_request.hex", KW_API_METADATA, 12, true},
    {"courier_metadata_v12_response.hex", KW_API_METADATA, 12, false},
    {"courier_produce_v11_request.hex", KW_API_PRODUCE, 11, true},
    {"courier_produce_v11_response.hex", KW_API_PRODUCE, 11, false},
};

/* Decodes one live frame (header + body), checks what the session sent, re-encodes it. */
static void check_live(const live *l, const uint8_t *p, size_t n, kw_arena *a, kw_wbuf *wb) {
    kw_rbuf rb;
    kw_rbuf_init(&rb, p + 4, n - 4, l->file);
    kw_request_header rh = {0};
    kw_response_header sh = {0};
    int hv = kw_response_header_version(l->key, l->v);
    if (l->request) {
        CU_ASSERT_EQUAL_FATAL(kw_request_header_decode(&rb, &rh), KW_ERR_NONE);
        CU_ASSERT_EQUAL(rh.api_key, l->key);
        CU_ASSERT_EQUAL(rh.api_version, l->v);
        CU_ASSERT(kw_slice_eq(rh.client_id, "courier-golden"));
    } else {
        CU_ASSERT_EQUAL_FATAL(kw_response_header_decode(&rb, &sh, hv), KW_ERR_NONE);
    }
    any_msg m;
    kw_err e = KW_ERR__UNSUPPORTED_API;
    kw_wbuf_reset(wb);
    size_t st = kw_frame_begin(wb);
    if (l->request)
        kw_request_header_encode(wb, &rh);
    else
        kw_response_header_encode(wb, &sh, hv);
    switch (l->key) {
    case KW_API_API_VERSIONS:
        if (l->request) {
            e = kw_api_versions_req_decode(&rb, l->v, a, &m.avq);
            CU_ASSERT(kw_slice_eq(m.avq.client_software_name, "courier-producer"));
            kw_api_versions_req_encode(wb, l->v, &m.avq);
        } else {
            e = kw_api_versions_resp_decode(&rb, l->v, a, &m.avr);
            CU_ASSERT_EQUAL(m.avr.error_code, 0);
            CU_ASSERT(m.avr.n_api_keys >= 6);
            kw_api_versions_resp_encode(wb, l->v, &m.avr);
        }
        break;
    case KW_API_METADATA:
        if (l->request) {
            e = kw_metadata_req_decode(&rb, l->v, a, &m.mdq);
            CU_ASSERT_EQUAL_FATAL(m.mdq.n_topics, 1);
            CU_ASSERT(kw_slice_eq(m.mdq.topics[0], "golden"));
            kw_metadata_req_encode(wb, l->v, &m.mdq);
        } else {
            e = kw_metadata_resp_decode(&rb, l->v, a, &m.mdr);
            CU_ASSERT_EQUAL_FATAL(m.mdr.n_topics, 1);
            CU_ASSERT(kw_slice_eq(m.mdr.topics[0].name, "golden"));
            CU_ASSERT_EQUAL(m.mdr.topics[0].n_partitions, 1);
            CU_ASSERT_EQUAL(m.mdr.n_brokers, 1);
            kw_metadata_resp_encode(wb, l->v, &m.mdr);
        }
        break;
    case KW_API_PRODUCE:
        if (l->request) {
            e = kw_produce_req_decode(&rb, l->v, a, &m.prq);
            CU_ASSERT_EQUAL(m.prq.acks, -1);
            CU_ASSERT_EQUAL_FATAL(m.prq.n_topics, 1);
            CU_ASSERT(kw_slice_eq(m.prq.topics[0].name, "golden"));
            kw_slice recs = m.prq.topics[0].partitions[0].records;
            kw_batch b;
            size_t used;
            char eb[160];
            CU_ASSERT_EQUAL(kw_batch_parse(recs.p, (size_t)recs.len, true, &b, &used, eb, sizeof eb),
                            KW_ERR_NONE);
            CU_ASSERT_EQUAL(b.record_count, 3);
            CU_ASSERT(b.producer_id >= 0); /* idempotence on */
            kw_produce_req_encode(wb, l->v, &m.prq);
        } else {
            e = kw_produce_resp_decode(&rb, l->v, a, &m.prr);
            CU_ASSERT_EQUAL_FATAL(m.prr.n_topics, 1);
            CU_ASSERT_EQUAL(m.prr.topics[0].partitions[0].error_code, 0);
            CU_ASSERT_EQUAL(m.prr.topics[0].partitions[0].base_offset, 0);
            kw_produce_resp_encode(wb, l->v, &m.prr);
        }
        break;
    }
    kw_frame_end(wb, st);
    if (e)
        fprintf(stderr, "\n%s: %s\n", l->file, rb.errmsg);
    CU_ASSERT_EQUAL(e, KW_ERR_NONE);
    bool same = wb->len == n && memcmp(wb->p, p, n) == 0;
    if (!same)
        fprintf(stderr, "\n%s: re-encoded %zu bytes differ from the %zu captured\n", l->file,
                wb->len, n);
    CU_ASSERT(same);
}

static void test_live_session_frames_decode_and_reencode(void) {
    kw_arena *a = kw_arena_new();
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    static uint8_t buf[1 << 15];
    for (size_t i = 0; i < sizeof live_frames / sizeof live_frames[0]; i++) {
        size_t n = read_hex_file(live_frames[i].file, buf, sizeof buf);
        CU_ASSERT_FATAL(n > 8);
        check_live(&live_frames[i], buf, n, a, &wb);
        kw_arena_reset(a);
    }
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
}

void suite_protocol_flexible(void);
void suite_protocol_flexible(void) {
    tu_suite("protocol_flexible");
    tu_test("tshark_decodes_every_added_version_it_knows",
            test_tshark_decodes_every_added_version_it_knows);
    tu_test("produce_v10_response_layout_is_kafkas", test_produce_v10_response_layout_is_kafkas);
    tu_test("tagged_fields_unknown_skipped_repeated_rejected",
            test_tagged_fields_unknown_skipped_repeated_rejected);
    tu_test("api_versions_v4_request_layout_is_kafkas",
            test_api_versions_v4_request_layout_is_kafkas);
    tu_test("metadata_list_offsets_fetch_request_layouts_are_kafkas",
            test_metadata_list_offsets_fetch_request_layouts_are_kafkas);
    tu_test("live_session_frames_decode_and_reencode",
            test_live_session_frames_decode_and_reencode);
}
