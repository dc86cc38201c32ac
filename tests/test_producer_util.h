/* Helpers shared by the producer's test files (header-only, static): a test cluster that is
 * librdkafka's mock cluster or Courier's own mock broker, delivery counters, and a read-back
 * of a topic (librdkafka's consumer, or the mock broker's log).
 *
 * Under ThreadSanitizer librdkafka cannot run in-process (its C11 threads crash TSan, see the
 * mockbroker's notes), so there every cluster is Courier's mock broker; the producer library
 * itself never depends on either. */
#ifndef COURIER_TESTS_PRODUCER_UTIL_H
#define COURIER_TESTS_PRODUCER_UTIL_H

#include "mockbroker/mb.h"
#include "producer/kp.h"
#include "tests/tu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define TP_HAVE_RDKAFKA 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TP_HAVE_RDKAFKA 0
#endif
#endif
#ifndef TP_HAVE_RDKAFKA
#define TP_HAVE_RDKAFKA 1
#endif

#if TP_HAVE_RDKAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif

typedef struct tcl {
    bool ours; /* Courier's mock broker instead of librdkafka's */
#if TP_HAVE_RDKAFKA
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
#endif
    mb_cluster *mb;
    char bootstraps[512];
} tcl;

static inline void tcl_quiet_log(int level, const char *line, void *opaque) {
    (void)level;
    (void)line;
    (void)opaque;
}

/* Starts a cluster of `brokers` and creates the topic (partitions, replication rf).
 * want_ours picks Courier's mock broker; without librdkafka it is always ours. */
static inline bool tcl_start(tcl *m, bool want_ours, int brokers, const char *topic, int parts,
                             int rf) {
    memset(m, 0, sizeof *m);
    m->ours = want_ours || !TP_HAVE_RDKAFKA;
    if (m->ours) {
        mb_config conf;
        mb_config_init(&conf);
        conf.brokers = brokers;
        conf.log_cb = tcl_quiet_log;
        mb_topic_config t = {topic, parts, (int16_t)rf, 0};
        conf.topics = &t;
        conf.n_topics = topic ? 1 : 0;
        char err[256];
        if (mb_cluster_new(&conf, &m->mb, err, sizeof err) != MB_OK ||
            mb_cluster_start(m->mb, err, sizeof err) != MB_OK) {
            fprintf(stderr, "mock broker: %s\n", err);
            return false;
        }
        snprintf(m->bootstraps, sizeof m->bootstraps, "%s", mb_cluster_bootstrap(m->mb));
        return true;
    }
#if TP_HAVE_RDKAFKA
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
#endif
    return true;
}

static inline void tcl_stop(tcl *m) {
    if (m->mb)
        mb_cluster_destroy(m->mb);
#if TP_HAVE_RDKAFKA
    if (m->mc)
        rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk)
        rd_kafka_destroy(m->rk);
#endif
    memset(m, 0, sizeof *m);
}

/* The next Produce requests fail with these errors, one per request. */
static inline void tcl_push_produce_errors(tcl *m, const kw_err *errs, size_t n) {
    if (m->ours) {
        mb_push_request_errors(m->mb, 0, NULL, -1, errs, n);
        return;
    }
#if TP_HAVE_RDKAFKA
    rd_kafka_resp_err_t e[16];
    for (size_t i = 0; i < n && i < 16; i++)
        e[i] = (rd_kafka_resp_err_t)errs[i];
    rd_kafka_mock_push_request_errors_array(m->mc, 0, n < 16 ? n : 16, e);
#endif
}

static inline void tcl_set_leader(tcl *m, const char *topic, int32_t partition, int32_t node) {
    if (m->ours) {
        mb_partition_move_leader(m->mb, topic, partition, node);
        return;
    }
#if TP_HAVE_RDKAFKA
    rd_kafka_mock_partition_set_leader(m->mc, topic, partition, node);
#endif
}

static inline void tcl_broker_down(tcl *m, int32_t node) {
    if (m->ours) {
        mb_broker_down(m->mb, node);
        return;
    }
#if TP_HAVE_RDKAFKA
    rd_kafka_mock_broker_set_down(m->mc, node);
#endif
}

static inline void tcl_set_rtt(tcl *m, int32_t node, int rtt_ms) {
    if (m->ours) {
        mb_broker_set_rtt(m->mb, node, rtt_ms);
        return;
    }
#if TP_HAVE_RDKAFKA
    rd_kafka_mock_broker_set_rtt(m->mc, node, rtt_ms);
#endif
}

/* The partition the reference client picks for a key: librdkafka's murmur2_random when we
 * have it, else -1 (the caller then compares with Kafka's formula only). */
static inline int32_t tcl_reference_partition(tcl *m, const char *topic, const void *key,
                                              size_t len, int32_t n) {
#if TP_HAVE_RDKAFKA
    if (m->rk) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(m->rk, topic, NULL);
        int32_t p = rd_kafka_msg_partitioner_murmur2_random(rkt, key, len, n, NULL, NULL);
        rd_kafka_topic_destroy(rkt);
        return p;
    }
#endif
    (void)m;
    (void)topic;
    (void)key;
    (void)len;
    (void)n;
    return -1;
}

typedef void (*tcl_read_fn)(int32_t partition, const void *value, size_t len, void *arg);

/* Reads every record of the topic from the beginning: with librdkafka's consumer against its
 * mock, or from the leader logs of ours. Returns the count (stops at expect or the deadline). */
static inline int64_t tcl_read_back(tcl *m, const char *topic, int parts, int64_t expect,
                                    int timeout_ms, tcl_read_fn fn, void *arg) {
    int64_t n = 0;
    if (m->ours) {
        for (int p = 0; p < parts; p++) {
            mb_record_iter *it;
            if (mb_record_iter_new(m->mb, topic, p, 0, &it) != MB_OK)
                return -1;
            mb_record rec;
            while (mb_record_iter_next(it, &rec) == MB_OK) {
                fn(p, rec.value, rec.value_len > 0 ? (size_t)rec.value_len : 0, arg);
                n++;
            }
            mb_record_iter_destroy(it);
        }
        return n;
    }
#if TP_HAVE_RDKAFKA
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", m->bootstraps, errstr, sizeof errstr);
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
    int64_t end = tu_now_ms() + timeout_ms;
    while (n < expect && tu_now_ms() < end) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(c, 100);
        if (!msg)
            continue;
        if (!msg->err) {
            fn(msg->partition, msg->payload, msg->len, arg);
            n++;
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
#else
    (void)expect;
    (void)timeout_ms;
#endif
    return n;
}

/* Delivery counters for kp_produce callbacks. */
typedef struct tdeliv {
    _Atomic int64_t acked, failed;
    _Atomic int last_err;
} tdeliv;

static inline void tdeliv_cb(const kp_record_metadata *md, kw_err err, void *opaque) {
    tdeliv *d = opaque;
    (void)md;
    if (err == KW_ERR_NONE)
        atomic_fetch_add(&d->acked, 1);
    else {
        atomic_store(&d->last_err, (int)err);
        atomic_fetch_add(&d->failed, 1);
    }
}

static inline kp_conf *tconf(const char *bootstraps) {
    kp_conf *c = kp_conf_new();
    char errbuf[256];
    kp_conf_set(c, "bootstrap.servers", bootstraps, errbuf, sizeof errbuf);
    return c;
}

/* A producer made from c; when kp_producer_new fails, the test stops (fatal) after printing
 * its reason. */
static inline kp_producer *tproducer(const kp_conf *c) {
    char errbuf[256];
    kp_producer *p = kp_producer_new(c, errbuf, sizeof errbuf);
    if (!p)
        fprintf(stderr, "kp_producer_new: %s\n", errbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

static inline void tset(kp_conf *c, const char *k, const char *v) {
    char errbuf[256];
    kw_err e = kp_conf_set(c, k, v, errbuf, sizeof errbuf);
    if (e != KW_ERR_NONE)
        fprintf(stderr, "tset %s=%s: %s\n", k, v, errbuf);
    CU_ASSERT_EQUAL_FATAL(e, KW_ERR_NONE);
}

#endif
