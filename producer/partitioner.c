/* The address desk: which partition a record goes to. Keyed records use Kafka's murmur2
 * (byte-compatible with Java's Utils.murmur2, so Java, librdkafka's murmur2_random and we all
 * pick the same partition for a key); keyless ones stick to one partition until a batch there
 * is sealed (KIP-480 / KIP-794), or go round-robin when asked. */
#include "producer/kp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int32_t kp_murmur2(const void *data, size_t len) {
    const uint8_t *d = data;
    const uint32_t m = 0x5bd1e995u;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t len4 = len / 4;
    for (size_t i = 0; i < len4; i++) {
        size_t i4 = i * 4;
        uint32_t k = (uint32_t)d[i4] | ((uint32_t)d[i4 + 1] << 8) | ((uint32_t)d[i4 + 2] << 16) |
                     ((uint32_t)d[i4 + 3] << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    size_t tail = len & ~(size_t)3;
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)d[tail + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[tail + 1] << 8;
        /* fall through */
    case 1:
        h ^= (uint32_t)d[tail];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t kp_partition_for_key(const void *key, size_t len, int32_t n_partitions) {
    if (n_partitions <= 0)
        return -1;
    uint32_t pos = (uint32_t)kp_murmur2(key, len) & 0x7fffffffu;
    return (int32_t)(pos % (uint32_t)n_partitions);
}

struct kp_sticky_topic {
    struct kp_sticky_topic *next;
    char *topic;
    int32_t current; /* -1 = not chosen yet */
    uint32_t rr;
};

void kp_sticky_init(kp_sticky *s) {
    pthread_mutex_init(&s->lock, NULL);
    s->topics = NULL;
    s->rng = 0x2545F4914F6CDD1DULL ^ (uint64_t)(uintptr_t)s;
}

void kp_sticky_destroy(kp_sticky *s) {
    struct kp_sticky_topic *t = s->topics;
    while (t) {
        struct kp_sticky_topic *n = t->next;
        free(t->topic);
        free(t);
        t = n;
    }
    pthread_mutex_destroy(&s->lock);
}

static uint32_t next_rand(kp_sticky *s) {
    /* xorshift64*: good enough to spread sticky partitions */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (uint32_t)((s->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* @locks s->lock MUST be held. NULL when out of memory. */
static struct kp_sticky_topic *topic_of(kp_sticky *s, const char *topic) {
    for (struct kp_sticky_topic *t = s->topics; t; t = t->next)
        if (!strcmp(t->topic, topic))
            return t;
    struct kp_sticky_topic *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->topic = strdup(topic);
    if (!t->topic) {
        free(t);
        return NULL;
    }
    t->current = -1;
    t->next = s->topics;
    s->topics = t;
    return t;
}

int32_t kp_sticky_partition(kp_sticky *s, const char *topic, int32_t n) {
    pthread_mutex_lock(&s->lock);
    struct kp_sticky_topic *t = topic_of(s, topic);
    int32_t p;
    if (!t)
        p = 0;
    else {
        if (t->current < 0 || t->current >= n)
            t->current = (int32_t)(next_rand(s) % (uint32_t)n);
        p = t->current;
    }
    pthread_mutex_unlock(&s->lock);
    return p;
}

int32_t kp_sticky_next(kp_sticky *s, const char *topic, int32_t n, int32_t prev) {
    pthread_mutex_lock(&s->lock);
    struct kp_sticky_topic *t = topic_of(s, topic);
    int32_t p = 0;
    if (t) {
        /* Only switch if no other thread already did (KIP-480: compare with prev). */
        if (t->current == prev || t->current < 0 || t->current >= n) {
            if (n <= 1)
                t->current = 0;
            else {
                int32_t c = (int32_t)(next_rand(s) % (uint32_t)(n - 1));
                t->current = c >= prev ? c + 1 : c;
            }
        }
        p = t->current;
    }
    pthread_mutex_unlock(&s->lock);
    return p;
}

int32_t kp_round_robin_partition(kp_sticky *s, const char *topic, int32_t n) {
    pthread_mutex_lock(&s->lock);
    struct kp_sticky_topic *t = topic_of(s, topic);
    int32_t p = t ? (int32_t)(t->rr++ % (uint32_t)n) : 0;
    pthread_mutex_unlock(&s->lock);
    return p;
}

/* The partitioner (Java's KafkaProducer.partition(), librdkafka's rd_kafka_msg_partitioner()):
 * a record that names its partition keeps it (it must exist); a keyed record goes where
 * murmur2 of its key says, unless partitioner.ignore.keys or the sticky/round-robin
 * partitioners are chosen; a keyless one goes round-robin when asked, else to the topic's
 * sticky partition (*sticky is then true: a full batch there moves it, KIP-480). On error
 * *partition is the requested one and errbuf says why. */
kw_err kp_partition_choose(kp_producer *p, const char *topic, int32_t requested, kw_slice key,
                           int32_t n_parts, int32_t *partition, bool *sticky, char *errbuf,
                           size_t errsize) {
    *partition = requested;
    *sticky = false;
    if (requested >= 0) {
        if (requested < n_parts)
            return KW_ERR_NONE;
        snprintf(errbuf, errsize, "partition %d is not in topic %s (%d partitions)",
                 (int)requested, topic, (int)n_parts);
        return KW_ERR__UNKNOWN_PARTITION;
    }
    if (requested != KP_PARTITION_ANY) {
        snprintf(errbuf, errsize, "partition %d is invalid", (int)requested);
        return KW_ERR__INVALID_ARG;
    }
    if (p->conf.partitioner == KP_PART_ROUND_ROBIN) {
        *partition = kp_round_robin_partition(&p->sticky, topic, n_parts);
    } else if (key.len >= 0 && key.p &&
               (p->conf.partitioner == KP_PART_MURMUR2 ||
                (p->conf.partitioner != KP_PART_STICKY && !p->conf.partitioner_ignore_keys))) {
        /* keyed: murmur2 always hashes a key; the default unless told to ignore keys */
        *partition = kp_partition_for_key(key.p, (size_t)key.len, n_parts);
    } else {
        *partition = kp_sticky_partition(&p->sticky, topic, n_parts);
        *sticky = true;
    }
    return KW_ERR_NONE;
}
