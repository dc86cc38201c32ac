/* A second oracle for the versions no live peer here sends: message bodies encoded by
 * kafka-python 2.0.2's protocol classes (an encoder written by other hands, from the same
 * schemas), made by tests/vectors/tools/kafka_python_vectors.py into tests/vectors/kafka_python/.
 * Each body is decoded at its version, its values checked against what the generator put in,
 * and re-encoded to the same bytes. Where kafka-python's own schema is wrong the generator
 * leaves the version out (see its docstring). */
#include "protocol/kw.h"
#include "tests/tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *oracle_dir(void) {
    const char *d = getenv("COURIER_ORACLE_VECTORS");
    return d && *d ? d : "tests/vectors/kafka_python";
}

/* Reads a hex file into a malloc'd buffer; NULL when missing or not hex. */
static uint8_t *load_hex(const char *file, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", oracle_dir(), file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "\n%s: cannot open (run from the repository root)\n", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    char pair[3] = {0};
    int k = 0, c;
    while (buf && (c = fgetc(f)) != EOF) {
        if (c == '\n')
            continue;
        pair[k++] = (char)c;
        if (k == 2) {
            char *end;
            unsigned long b = strtoul(pair, &end, 16);
            if (*end || n == cap) {
                free(buf);
                buf = NULL;
                break;
            }
            buf[n++] = (uint8_t)b;
            k = 0;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

#define SLICE_IS(s, str) CU_ASSERT(kw_slice_eq((s), (str)))

/* ---- the values kafka_python_vectors.py encodes, version by version ---- */

static void check_metadata_req(int16_t v, const kw_metadata_req *m) {
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 2);
    SLICE_IS(m->topics[0], "alpha");
    SLICE_IS(m->topics[1], "beta");
    CU_ASSERT_EQUAL(m->allow_auto_topic_creation, v >= 4 ? false : true);
}

static void check_metadata_resp(int16_t v, const kw_metadata_resp *m) {
    CU_ASSERT_EQUAL(m->throttle_time_ms, v >= 3 ? 101 : 0);
    CU_ASSERT_EQUAL_FATAL(m->n_brokers, 2);
    CU_ASSERT_EQUAL(m->brokers[0].node_id, 1);
    SLICE_IS(m->brokers[0].host, "h1");
    CU_ASSERT_EQUAL(m->brokers[0].port, 9001);
    SLICE_IS(m->brokers[0].rack, v >= 1 ? "rack-1" : NULL);
    CU_ASSERT_EQUAL(m->brokers[1].node_id, 2);
    SLICE_IS(m->brokers[1].rack, NULL);
    SLICE_IS(m->cluster_id, v >= 2 ? "cid-7" : NULL);
    CU_ASSERT_EQUAL(m->controller_id, v >= 1 ? 2 : -1);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 2);
    const kw_metadata_topic *t = &m->topics[0];
    CU_ASSERT_EQUAL(t->error_code, 0);
    SLICE_IS(t->name, "alpha");
    CU_ASSERT_EQUAL(t->is_internal, false);
    CU_ASSERT_EQUAL_FATAL(t->n_partitions, 2);
    const kw_metadata_partition *p = &t->partitions[0];
    CU_ASSERT_EQUAL(p->partition_index, 0);
    CU_ASSERT_EQUAL(p->leader_id, 1);
    CU_ASSERT_EQUAL(p->leader_epoch, -1);
    CU_ASSERT_EQUAL_FATAL(p->n_replicas, 2);
    CU_ASSERT(p->replica_nodes[0] == 1 && p->replica_nodes[1] == 2);
    CU_ASSERT_EQUAL_FATAL(p->n_isr, 1);
    CU_ASSERT_EQUAL(p->isr_nodes[0], 1);
    CU_ASSERT_EQUAL_FATAL(p->n_offline, v >= 5 ? 1 : 0);
    if (v >= 5)
        CU_ASSERT_EQUAL(p->offline_replicas[0], 2);
    p = &t->partitions[1];
    CU_ASSERT_EQUAL(p->error_code, 9);
    CU_ASSERT_EQUAL(p->partition_index, 1);
    CU_ASSERT_EQUAL(p->leader_id, 2);
    CU_ASSERT_EQUAL(p->n_isr, 2);
    CU_ASSERT_EQUAL(p->n_offline, 0);
    t = &m->topics[1];
    CU_ASSERT_EQUAL(t->error_code, 3);
    SLICE_IS(t->name, "gone");
    CU_ASSERT_EQUAL(t->is_internal, v >= 1);
    CU_ASSERT_EQUAL(t->n_partitions, 0);
    CU_ASSERT_EQUAL(t->topic_authorized_operations, INT32_MIN);
}

static void check_produce_req(int16_t v, const kw_produce_req *m) {
    (void)v;
    CU_ASSERT_EQUAL(m->transactional_id.len, -1);
    CU_ASSERT_EQUAL(m->acks, -1);
    CU_ASSERT_EQUAL(m->timeout_ms, 1500);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 1);
    SLICE_IS(m->topics[0].name, "alpha");
    CU_ASSERT_EQUAL_FATAL(m->topics[0].n_partitions, 3);
    const kw_produce_req_partition *p = m->topics[0].partitions;
    CU_ASSERT(p[0].index == 0 && kw_slice_eq(p[0].records, "batch-bytes-0"));
    CU_ASSERT(p[1].index == 3 && p[1].records.len == 0);
    CU_ASSERT(p[2].index == 4 && p[2].records.len == -1);
}

static void check_produce_resp(int16_t v, const kw_produce_resp *m) {
    CU_ASSERT_EQUAL(m->throttle_time_ms, 7);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 1);
    SLICE_IS(m->topics[0].name, "alpha");
    CU_ASSERT_EQUAL_FATAL(m->topics[0].n_partitions, 2);
    const kw_produce_resp_partition *p = m->topics[0].partitions;
    CU_ASSERT(p[0].index == 0 && p[0].error_code == 0 && p[0].base_offset == 100);
    CU_ASSERT_EQUAL(p[0].log_append_time_ms, -1);
    CU_ASSERT_EQUAL(p[0].log_start_offset, v >= 5 ? 5 : -1);
    CU_ASSERT(p[1].index == 3 && p[1].error_code == 6 && p[1].base_offset == -1);
    CU_ASSERT_EQUAL(p[1].log_append_time_ms, 1700000000000LL);
    CU_ASSERT_EQUAL(p[1].n_record_errors, 0);
}

static void check_list_offsets_req(int16_t v, const kw_list_offsets_req *m) {
    CU_ASSERT_EQUAL(m->replica_id, -1);
    CU_ASSERT_EQUAL(m->isolation_level, v >= 2 ? 1 : 0);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 1);
    SLICE_IS(m->topics[0].name, "alpha");
    CU_ASSERT_EQUAL_FATAL(m->topics[0].n_partitions, 2);
    const kw_list_offsets_req_partition *p = m->topics[0].partitions;
    CU_ASSERT(p[0].partition_index == 0 && p[0].timestamp == -2);
    CU_ASSERT(p[1].partition_index == 1 && p[1].timestamp == -1);
    CU_ASSERT_EQUAL(p[0].current_leader_epoch, -1);
}

static void check_list_offsets_resp(int16_t v, const kw_list_offsets_resp *m) {
    CU_ASSERT_EQUAL(m->throttle_time_ms, v >= 2 ? 9 : 0);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 1);
    CU_ASSERT_EQUAL_FATAL(m->topics[0].n_partitions, 2);
    const kw_list_offsets_resp_partition *p = m->topics[0].partitions;
    CU_ASSERT(p[0].partition_index == 0 && p[0].error_code == 0);
    CU_ASSERT(p[0].timestamp == -1 && p[0].offset == 42);
    CU_ASSERT_EQUAL(p[0].leader_epoch, v >= 4 ? 6 : -1);
    CU_ASSERT(p[1].partition_index == 1 && p[1].error_code == 6);
    CU_ASSERT(p[1].timestamp == 123 && p[1].offset == -1 && p[1].leader_epoch == -1);
}

static void check_fetch_req(int16_t v, const kw_fetch_req *m) {
    CU_ASSERT(m->replica_id == -1 && m->max_wait_ms == 500 && m->min_bytes == 1);
    CU_ASSERT(m->max_bytes == 52428800 && m->isolation_level == 0);
    CU_ASSERT_EQUAL(m->session_id, v >= 7 ? 77 : 0);
    CU_ASSERT_EQUAL(m->session_epoch, v >= 7 ? 3 : -1);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 1);
    SLICE_IS(m->topics[0].topic, "alpha");
    CU_ASSERT_EQUAL_FATAL(m->topics[0].n_partitions, 2);
    const kw_fetch_req_partition *p = m->topics[0].partitions;
    CU_ASSERT_EQUAL(p[0].partition, 0);
    CU_ASSERT_EQUAL(p[0].current_leader_epoch, v >= 9 ? 4 : -1);
    CU_ASSERT_EQUAL(p[0].fetch_offset, 10);
    CU_ASSERT_EQUAL(p[0].log_start_offset, v >= 5 ? 2 : -1);
    CU_ASSERT_EQUAL(p[0].partition_max_bytes, 1048576);
    CU_ASSERT(p[1].partition == 5 && p[1].fetch_offset == 0 && p[1].partition_max_bytes == 65536);
    CU_ASSERT_EQUAL(m->n_forgotten, 0);
    SLICE_IS(m->rack_id, v >= 11 ? "r1" : "");
}

static void check_fetch_resp(int16_t v, const kw_fetch_resp *m) {
    CU_ASSERT_EQUAL(m->throttle_time_ms, 0);
    CU_ASSERT_EQUAL(m->error_code, 0);
    CU_ASSERT_EQUAL(m->session_id, v >= 7 ? 77 : 0);
    CU_ASSERT_EQUAL_FATAL(m->n_topics, 1);
    SLICE_IS(m->topics[0].topic, "alpha");
    CU_ASSERT_EQUAL_FATAL(m->topics[0].n_partitions, 2);
    const kw_fetch_resp_partition *p = m->topics[0].partitions;
    CU_ASSERT(p[0].partition_index == 0 && p[0].error_code == 0);
    CU_ASSERT(p[0].high_watermark == 20 && p[0].last_stable_offset == 19);
    CU_ASSERT_EQUAL(p[0].log_start_offset, v >= 5 ? 1 : -1);
    CU_ASSERT_EQUAL_FATAL(p[0].n_aborted, 1);
    CU_ASSERT(p[0].aborted[0].producer_id == 1000 && p[0].aborted[0].first_offset == 5);
    CU_ASSERT_EQUAL(p[0].preferred_read_replica, v >= 11 ? 2 : -1);
    SLICE_IS(p[0].records, "records");
    CU_ASSERT(p[1].partition_index == 1 && p[1].error_code == 1 && p[1].high_watermark == 5);
    CU_ASSERT_EQUAL(p[1].n_aborted, -1);
    CU_ASSERT_EQUAL(p[1].records.len, -1);
}

static void check_api_versions_resp(int16_t v, const kw_api_versions_resp *m) {
    CU_ASSERT_EQUAL(m->error_code, 0);
    CU_ASSERT_EQUAL_FATAL(m->n_api_keys, 2);
    CU_ASSERT(m->api_keys[0].api_key == 0 && m->api_keys[0].min_version == 3 &&
              m->api_keys[0].max_version == 8);
    CU_ASSERT(m->api_keys[1].api_key == 18 && m->api_keys[1].max_version == 3);
    CU_ASSERT_EQUAL(m->throttle_time_ms, v >= 1 ? 3 : 0);
}

/* Decodes file <api>_v<v>_<dir>.hex with decode into T, checks, re-encodes and compares. */
#define ORACLE_CASE(api, dir, T, lo, hi)                                                           \
    static int oracle_##api##_##dir(void) {                                                        \
        int done = 0;                                                                              \
        kw_arena *a = kw_arena_new();                                                              \
        kw_wbuf wb;                                                                                \
        kw_wbuf_init(&wb);                                                                         \
        for (int16_t v = lo; v <= hi; v++) {                                                       \
            char file[128];                                                                        \
            snprintf(file, sizeof file, "%s_v%d_%s.hex", #api, v,                                  \
                     !strcmp(#dir, "req") ? "request" : "response");                               \
            size_t len;                                                                            \
            uint8_t *b = load_hex(file, &len);                                                     \
            CU_ASSERT_PTR_NOT_NULL(b);                                                             \
            if (!b)                                                                                \
                continue;                                                                          \
            kw_rbuf rb;                                                                            \
            kw_rbuf_init(&rb, b, len, file);                                                       \
            T m;                                                                                   \
            kw_err err = kw_##api##_##dir##_decode(&rb, v, a, &m);                                 \
            if (err)                                                                               \
                fprintf(stderr, "\n%s\n", rb.errmsg);                                              \
            CU_ASSERT_EQUAL(err, KW_ERR_NONE);                                                     \
            if (!err) {                                                                            \
                check_##api##_##dir(v, &m);                                                        \
                kw_wbuf_reset(&wb);                                                                \
                kw_##api##_##dir##_encode(&wb, v, &m);                                             \
                bool same = wb.len == len && memcmp(wb.p, b, len) == 0;                            \
                if (!same)                                                                         \
                    fprintf(stderr, "\n%s: our encoding differs from kafka-python's\n", file);     \
                CU_ASSERT(same);                                                                   \
                done += same;                                                                      \
            }                                                                                      \
            free(b);                                                                               \
            kw_arena_reset(a);                                                                     \
        }                                                                                          \
        kw_wbuf_free(&wb);                                                                         \
        kw_arena_destroy(a);                                                                       \
        return done;                                                                               \
    }

ORACLE_CASE(metadata, req, kw_metadata_req, 0, 5)
ORACLE_CASE(metadata, resp, kw_metadata_resp, 0, 5)
ORACLE_CASE(produce, req, kw_produce_req, 3, 8)
ORACLE_CASE(produce, resp, kw_produce_resp, 3, 7)
ORACLE_CASE(list_offsets, req, kw_list_offsets_req, 1, 3)
ORACLE_CASE(list_offsets, resp, kw_list_offsets_resp, 1, 5)
ORACLE_CASE(fetch, req, kw_fetch_req, 4, 11)
ORACLE_CASE(fetch, resp, kw_fetch_resp, 4, 11)
ORACLE_CASE(api_versions, resp, kw_api_versions_resp, 0, 2)

static void test_kafka_python_bodies_decode_with_their_values_and_reencode_exactly(void) {
    int n = oracle_metadata_req() + oracle_metadata_resp() + oracle_produce_req() +
            oracle_produce_resp() + oracle_list_offsets_req() + oracle_list_offsets_resp() +
            oracle_fetch_req() + oracle_fetch_resp() + oracle_api_versions_resp();
    CU_ASSERT_EQUAL(n, 50);
}

void suite_protocol_oracle(void);
void suite_protocol_oracle(void) {
    tu_suite("protocol_oracle");
    tu_test("test_kafka_python_bodies_decode_with_their_values_and_reencode_exactly",
            test_kafka_python_bodies_decode_with_their_values_and_reencode_exactly);
}
