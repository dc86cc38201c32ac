/* libFuzzer target: the "consumer" protocol's bytes (kw_consumer_subscription_decode and
 * kw_consumer_assignment_decode): the first input byte picks which; the rest is decoded. A
 * decode that succeeds is encoded again (version 0) and decoded back: the topics and
 * partitions must survive. Seeds: corpus/consumer_protocol/ (kafka-python's bytes, a Java v3
 * subscription). */
#include "protocol/kw.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(kw_slice a, kw_slice b) {
    return a.len == b.len && (a.len <= 0 || !memcmp(a.p, b.p, (size_t)a.len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    bool assignment = data[0] & 1;
    kw_arena *a = kw_arena_new();
    if (!a)
        return 0;
    kw_rbuf rb;
    kw_rbuf_init(&rb, data + 1, size - 1, "fuzz");
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    if (assignment) {
        kw_consumer_assignment x, y;
        if (kw_consumer_assignment_decode(&rb, a, &x) == KW_ERR_NONE) {
            kw_consumer_assignment_encode(&wb, &x);
            kw_rbuf_init(&rb, wb.p, wb.len, "again");
            if (!wb.oom && kw_consumer_assignment_decode(&rb, a, &y) != KW_ERR_NONE &&
                size > 1)
                abort();
            if (!wb.oom && size > 1 && y.n_topics != x.n_topics)
                abort();
            for (int32_t i = 0; !wb.oom && size > 1 && i < x.n_topics; i++)
                if (!same(x.topics[i].topic, y.topics[i].topic) ||
                    x.topics[i].n_partitions != y.topics[i].n_partitions ||
                    (x.topics[i].n_partitions > 0 &&
                     memcmp(x.topics[i].partitions, y.topics[i].partitions,
                            (size_t)x.topics[i].n_partitions * sizeof(int32_t))))
                    abort();
        }
    } else {
        kw_consumer_subscription x, y;
        if (kw_consumer_subscription_decode(&rb, a, &x) == KW_ERR_NONE) {
            kw_consumer_subscription_encode(&wb, &x);
            kw_rbuf_init(&rb, wb.p, wb.len, "again");
            if (!wb.oom && kw_consumer_subscription_decode(&rb, a, &y) != KW_ERR_NONE)
                abort();
            if (!wb.oom && y.n_topics != x.n_topics)
                abort();
            for (int32_t i = 0; !wb.oom && i < x.n_topics; i++)
                if (!same(x.topics[i], y.topics[i]))
                    abort();
        }
    }
    kw_wbuf_free(&wb);
    kw_arena_destroy(a);
    return 0;
}
