/* Helpers shared by the producer's test files: a librdkafka mock cluster, delivery
 * counters, and a read-back through librdkafka's consumer. Header-only (static). */
#ifndef COURIER_TESTS_PRODUCER_UTIL_H
#define COURIER_TESTS_PRODUCER_UTIL_H

#include "producer/kp.h"
#include "tests/tu.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tpm {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    char bootstraps[512];
} tpm;

/* Starts a librdkafka mock cluster with `brokers` brokers and creates the topic. */
static inline bool tpm_start(tpm *m, int brokers, const char *topic, int parts, int rf) {
    memset(m, 0, sizeof *m);
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!m->rk)
        return false;
    m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->mc)
        return false;
    snprintf(m->bootstraps, sizeof m->bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
    if (topic && rd_kafka_mock_topic_create(m->mc, topic, parts, rf) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    return true;
}

static inline void tpm_stop(tpm *m) {
    if (m->mc)
        rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk)
        rd_kafka_destroy(m->rk);
    memset(m, 0, sizeof *m);
}

/* Delivery counters for kp_produce callbacks. */
typedef struct tdeliv {
    _Atomic int64_t acked, failed;
    _Atomic int last_err;
    _Atomic int64_t err_counts[8]; /* by slot, see tdeliv_slot */
    int32_t *partition_of;         /* by record index (opaque), when set */
    int64_t *offset_of;
} tdeliv;

typedef struct tmsg {
    tdeliv *d;
    int64_t index;
} tmsg;

static inline void tdeliv_cb(const kp_record_metadata *md, kw_err err, void *opaque) {
    tdeliv *d = opaque;
    if (err == KW_ERR_NONE)
        atomic_fetch_add(&d->acked, 1);
    else {
        atomic_fetch_add(&d->failed, 1);
        atomic_store(&d->last_err, (int)err);
    }
    (void)md;
}

static inline kp_conf *tconf(const char *bootstraps) {
    kp_conf *c = kp_conf_new();
    char errbuf[256];
    kp_conf_set(c, "bootstrap.servers", bootstraps, errbuf, sizeof errbuf);
    return c;
}

static inline void tset(kp_conf *c, const char *k, const char *v) {
    char errbuf[256];
    kw_err e = kp_conf_set(c, k, v, errbuf, sizeof errbuf);
    if (e != KW_ERR_NONE)
        fprintf(stderr, "tset %s=%s: %s\n", k, v, errbuf);
    CU_ASSERT_EQUAL_FATAL(e, KW_ERR_NONE);
}

/* Reads every message of topic (parts partitions) from the beginning with librdkafka's
 * consumer; calls fn for each. Returns the count read (stops at `expect` or the deadline). */
static inline int64_t tread_back(const char *bootstraps, const char *topic, int parts,
                                 int64_t expect, int timeout_ms,
                                 void (*fn)(const rd_kafka_message_t *m, void *arg), void *arg) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "courier-readback", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!c)
        return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(l, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t n = 0;
    int64_t end = tu_now_ms() + timeout_ms;
    while (n < expect && tu_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err) {
            fn(m, arg);
            n++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return n;
}

static inline bool tpred_done(void *arg) {
    tdeliv *d = arg;
    (void)d;
    return false;
}

#endif
