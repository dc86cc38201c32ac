/* Front office rule book: the producer's configuration, with Kafka's key names and Kafka 4.0
 * defaults (ProducerConfig). Each key is a row of one table: name, type, range, field. */
#include "producer/kp_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    T_INT,
    T_LONG,
    T_BOOL,
    T_STRING,
    T_ACKS,
    T_PARTITIONER,
    T_SERIALIZER,
    T_COMPRESSION
} ktype;

typedef struct key_def {
    const char *name;
    ktype type;
    int64_t min, max;
    size_t off;
    size_t size; /* for strings */
} key_def;

#define F(f) offsetof(struct kp_conf, f)
static const key_def keys[] = {
    {"bootstrap.servers", T_STRING, 0, 0, F(bootstrap_servers),
     sizeof(((kp_conf *)0)->bootstrap_servers)},
    {"client.id", T_STRING, 0, 0, F(client_id), sizeof(((kp_conf *)0)->client_id)},
    {"acks", T_ACKS, 0, 0, F(acks), 0},
    {"linger.ms", T_LONG, 0, INT32_MAX, F(linger_ms), 0},
    {"batch.size", T_INT, 0, INT32_MAX, F(batch_size), 0},
    {"buffer.memory", T_LONG, 0, INT64_MAX / 2, F(buffer_memory), 0},
    {"max.block.ms", T_LONG, 0, INT64_MAX / 4, F(max_block_ms), 0},
    {"max.request.size", T_INT, 0, INT32_MAX, F(max_request_size), 0},
    {"retries", T_INT, 0, INT32_MAX, F(retries), 0},
    {"retry.backoff.ms", T_LONG, 0, INT64_MAX / 4, F(retry_backoff_ms), 0},
    {"retry.backoff.max.ms", T_LONG, 0, INT64_MAX / 4, F(retry_backoff_max_ms), 0},
    {"delivery.timeout.ms", T_LONG, 0, INT32_MAX, F(delivery_timeout_ms), 0},
    {"request.timeout.ms", T_INT, 0, INT32_MAX, F(request_timeout_ms), 0},
    {"max.in.flight.requests.per.connection", T_INT, 1, INT32_MAX, F(max_in_flight), 0},
    {"enable.idempotence", T_BOOL, 0, 1, F(enable_idempotence), 0},
    {"metadata.max.age.ms", T_LONG, 0, INT64_MAX / 4, F(metadata_max_age_ms), 0},
    {"reconnect.backoff.ms", T_LONG, 0, INT64_MAX / 4, F(reconnect_backoff_ms), 0},
    {"reconnect.backoff.max.ms", T_LONG, 0, INT64_MAX / 4, F(reconnect_backoff_max_ms), 0},
    {"partitioner", T_PARTITIONER, 0, 0, F(partitioner), 0},
    {"partitioner.ignore.keys", T_BOOL, 0, 1, F(partitioner_ignore_keys), 0},
    {"key.serializer", T_SERIALIZER, 0, 0, F(key_ser), 0},
    {"value.serializer", T_SERIALIZER, 0, 0, F(value_ser), 0},
    {"compression.type", T_COMPRESSION, 0, 0, 0, 0},
    /* KIP-390 (Kafka 3.8+): GzipCompression MIN_LEVEL 1..MAX_LEVEL 9 or DEFAULT_LEVEL -1;
     * Lz4Compression 1..17, default 9; ZstdCompression -131072 (zstd's minCLevel)..22,
     * default 3. */
    {"compression.gzip.level", T_INT, -1, 9, F(gzip_level), 0},
    {"compression.lz4.level", T_INT, 1, 17, F(lz4_level), 0},
    {"compression.zstd.level", T_INT, -131072, 22, F(zstd_level), 0},
};
#undef F

static const char *part_names[] = {"default", "sticky", "round_robin", "murmur2"};

kp_conf *kp_conf_new(void) {
    kp_conf *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->client_id, sizeof c->client_id, "courier-producer");
    c->acks = -1;
    c->linger_ms = 5;
    c->batch_size = 16384;
    c->buffer_memory = 33554432;
    c->max_block_ms = 60000;
    c->max_request_size = 1048576;
    c->retries = INT32_MAX;
    c->retry_backoff_ms = 100;
    c->retry_backoff_max_ms = 1000;
    c->delivery_timeout_ms = 120000;
    c->request_timeout_ms = 30000;
    c->max_in_flight = 5;
    c->enable_idempotence = true;
    c->metadata_max_age_ms = 300000;
    c->reconnect_backoff_ms = 50;
    c->reconnect_backoff_max_ms = 1000;
    c->partitioner = KP_PART_DEFAULT;
    c->key_ser = KP_SER_STRING;
    c->value_ser = KP_SER_STRING;
    c->compression = KW_CODEC_NONE;
    c->gzip_level = -1;
    c->lz4_level = 9;
    c->zstd_level = 3;
    return c;
}

void kp_conf_destroy(kp_conf *conf) {
    free(conf);
}

kp_conf *kp_conf_dup(const kp_conf *conf) {
    kp_conf *c = malloc(sizeof *c);
    if (c)
        *c = *conf;
    return c;
}

static bool parse_i64(const char *v, int64_t *out) {
    if (!v || !*v)
        return false;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

static const key_def *find_key(const char *key) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].name, key))
            return &keys[i];
    return NULL;
}

static void mark_set(kp_conf *c, const char *key) {
    if (!strcmp(key, "acks"))
        c->set_acks = true;
    else if (!strcmp(key, "enable.idempotence"))
        c->set_idempotence = true;
    else if (!strcmp(key, "max.in.flight.requests.per.connection"))
        c->set_max_in_flight = true;
    else if (!strcmp(key, "delivery.timeout.ms"))
        c->set_delivery_timeout = true;
    else if (!strcmp(key, "retries"))
        c->set_retries = true;
}

kw_err kp_conf_set(kp_conf *conf, const char *key, const char *value, char *errbuf,
                   size_t errsize) {
    char scratch[256];
    if (!errbuf || errsize == 0) { /* callers may pass no buffer: errors still return a code */
        errbuf = scratch;
        errsize = sizeof scratch;
    }
    if (!conf || !key || !value) {
        snprintf(errbuf, errsize, "kp_conf_set: NULL %s", !conf ? "conf" : !key ? "key" : "value");
        return KW_ERR__INVALID_ARG;
    }
    const key_def *k = find_key(key);
    if (!k) {
        snprintf(errbuf, errsize, "no such configuration key '%s'", key);
        return KW_ERR__INVALID_ARG;
    }
    char *base = (char *)conf;
    int64_t x;
    switch (k->type) {
    case T_INT:
    case T_LONG:
        if (!parse_i64(value, &x)) {
            snprintf(errbuf, errsize, "%s: '%s' is not an integer", key, value);
            return KW_ERR__INVALID_ARG;
        }
        if (x == 0 && !strcmp(key, "compression.gzip.level")) {
            snprintf(errbuf, errsize, "%s: 0 is not a valid level (1..9, or -1 for the default)",
                     key);
            return KW_ERR__INVALID_ARG;
        }
        if (x < k->min || x > k->max) {
            snprintf(errbuf, errsize, "%s: %s is out of range [%" PRId64 "..%" PRId64 "]", key,
                     value, k->min, k->max);
            return KW_ERR__INVALID_ARG;
        }
        if (k->type == T_INT)
            *(int32_t *)(base + k->off) = (int32_t)x;
        else
            *(int64_t *)(base + k->off) = x;
        break;
    case T_BOOL:
        if (!strcmp(value, "true"))
            *(bool *)(base + k->off) = true;
        else if (!strcmp(value, "false"))
            *(bool *)(base + k->off) = false;
        else {
            snprintf(errbuf, errsize, "%s: '%s' is not a boolean (true|false)", key, value);
            return KW_ERR__INVALID_ARG;
        }
        break;
    case T_STRING:
        if (strlen(value) >= k->size) {
            snprintf(errbuf, errsize, "%s: value longer than %zu characters", key, k->size - 1);
            return KW_ERR__INVALID_ARG;
        }
        memcpy(base + k->off, value, strlen(value) + 1);
        break;
    case T_ACKS:
        if (!strcmp(value, "all") || !strcmp(value, "-1"))
            conf->acks = -1;
        else if (!strcmp(value, "0"))
            conf->acks = 0;
        else if (!strcmp(value, "1"))
            conf->acks = 1;
        else {
            snprintf(errbuf, errsize, "acks: '%s' is not one of all, -1, 0, 1", value);
            return KW_ERR__INVALID_ARG;
        }
        break;
    case T_PARTITIONER: {
        int found = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(value, part_names[i]))
                found = i;
        if (found < 0) {
            snprintf(errbuf, errsize,
                     "partitioner: '%s' is not one of default, sticky, round_robin, murmur2",
                     value);
            return KW_ERR__INVALID_ARG;
        }
        conf->partitioner = (kp_part_kind)found;
        break;
    }
    case T_SERIALIZER: {
        kp_ser_kind s;
        if (!kp_ser_kind_parse(value, &s)) {
            snprintf(errbuf, errsize, "%s: '%s' is not one of string, bytes, int32, int64", key,
                     value);
            return KW_ERR__INVALID_ARG;
        }
        *(kp_ser_kind *)(base + k->off) = s;
        break;
    }
    case T_COMPRESSION: {
        kw_codec codec;
        if (!kw_codec_from_name(value, &codec)) {
            snprintf(errbuf, errsize,
                     "compression.type: '%s' is not one of none, gzip, snappy, lz4, zstd", value);
            return KW_ERR__INVALID_ARG;
        }
        conf->compression = codec;
        break;
    }
    }
    mark_set(conf, key);
    return KW_ERR_NONE;
}

kw_err kp_conf_get(const kp_conf *conf, const char *key, char *buf, size_t bufsize) {
    if (!conf || !key || !buf || bufsize == 0)
        return KW_ERR__INVALID_ARG;
    const key_def *k = find_key(key);
    if (!k)
        return KW_ERR__INVALID_ARG;
    const char *base = (const char *)conf;
    switch (k->type) {
    case T_INT:
        snprintf(buf, bufsize, "%" PRId32, *(const int32_t *)(base + k->off));
        break;
    case T_LONG:
        snprintf(buf, bufsize, "%" PRId64, *(const int64_t *)(base + k->off));
        break;
    case T_BOOL:
        snprintf(buf, bufsize, "%s", *(const bool *)(base + k->off) ? "true" : "false");
        break;
    case T_STRING:
        snprintf(buf, bufsize, "%s", base + k->off);
        break;
    case T_ACKS:
        snprintf(buf, bufsize, "%s", conf->acks == -1 ? "all" : conf->acks == 0 ? "0" : "1");
        break;
    case T_PARTITIONER:
        snprintf(buf, bufsize, "%s", part_names[conf->partitioner]);
        break;
    case T_SERIALIZER:
        snprintf(buf, bufsize, "%s", kp_ser_kind_name(*(const kp_ser_kind *)(base + k->off)));
        break;
    case T_COMPRESSION:
        snprintf(buf, bufsize, "%s", kw_codec_name(conf->compression));
        break;
    }
    return KW_ERR_NONE;
}

int32_t kp_conf_codec_level(const kp_conf *c) {
    switch (c->compression) {
    case KW_CODEC_GZIP:
        return c->gzip_level;
    case KW_CODEC_LZ4:
        return c->lz4_level;
    case KW_CODEC_ZSTD:
        return c->zstd_level;
    default:
        return 0;
    }
}

/* Java's ProducerConfig.postProcessParsedConfig + KafkaProducer's checks: conflicts with an
 * explicitly enabled idempotence are errors; with the default they quietly disable it. */
kw_err kp_conf_resolve(const kp_conf *in, kp_conf *out, char *errbuf, size_t errsize) {
    *out = *in;
    if (!out->bootstrap_servers[0]) {
        snprintf(errbuf, errsize, "bootstrap.servers: must be set (HOST:PORT[,HOST:PORT...])");
        return KW_ERR__INVALID_ARG;
    }
    if (out->enable_idempotence) {
        const char *why = NULL;
        char buf[128];
        if (out->acks != -1)
            why = "enable.idempotence=true requires acks=all";
        else if (out->max_in_flight > 5) {
            snprintf(buf, sizeof buf,
                     "enable.idempotence=true requires max.in.flight.requests.per.connection "
                     "<= 5 (got %" PRId32 ")",
                     out->max_in_flight);
            why = buf;
        } else if (out->retries == 0)
            why = "enable.idempotence=true requires retries > 0";
        if (why) {
            if (out->set_idempotence) {
                snprintf(errbuf, errsize, "%s", why);
                return KW_ERR__INVALID_ARG;
            }
            out->enable_idempotence = false;
        }
    }
    int64_t lower = out->linger_ms + out->request_timeout_ms;
    if (out->delivery_timeout_ms < lower) {
        if (out->set_delivery_timeout) {
            snprintf(errbuf, errsize,
                     "delivery.timeout.ms should be equal to or larger than linger.ms + "
                     "request.timeout.ms (%" PRId64 " < %" PRId64 " + %" PRId32 ")",
                     out->delivery_timeout_ms, out->linger_ms, out->request_timeout_ms);
            return KW_ERR__INVALID_ARG;
        }
        out->delivery_timeout_ms = lower; /* as Java: adjusted with a warning */
    }
    if (out->batch_size > out->buffer_memory) {
        snprintf(errbuf, errsize,
                 "batch.size (%" PRId32 ") must not exceed buffer.memory (%" PRId64 ")",
                 out->batch_size, out->buffer_memory);
        return KW_ERR__INVALID_ARG;
    }
    if (out->retry_backoff_max_ms < out->retry_backoff_ms)
        out->retry_backoff_max_ms = out->retry_backoff_ms;
    if (out->reconnect_backoff_max_ms < out->reconnect_backoff_ms)
        out->reconnect_backoff_max_ms = out->reconnect_backoff_ms;
    if (out->batch_size < KW_BATCH_HEADER_SIZE + 16)
        out->batch_size = KW_BATCH_HEADER_SIZE + 16; /* a zero batch.size still holds 1 record */
    if (!out->clock)
        out->clock = kw_clock_monotonic();
    return KW_ERR_NONE;
}

kw_err kp_conf_validate(const kp_conf *conf, char *errbuf, size_t errsize) {
    char scratch[256];
    if (!errbuf || errsize == 0) {
        errbuf = scratch;
        errsize = sizeof scratch;
    }
    if (!conf) {
        snprintf(errbuf, errsize, "kp_conf_validate: NULL conf");
        return KW_ERR__INVALID_ARG;
    }
    kp_conf tmp;
    return kp_conf_resolve(conf, &tmp, errbuf, errsize);
}

void kp_conf_set_clock(kp_conf *conf, const kw_clock *clock) {
    conf->clock = clock;
}

void kp_conf_set_event_sink(kp_conf *conf, kp_event_sink sink, void *opaque) {
    conf->sink = sink;
    conf->sink_opaque = opaque;
}

void kp_conf_set_log_cb(kp_conf *conf, kp_log_cb cb, void *opaque) {
    conf->log_cb = cb;
    conf->log_opaque = opaque;
}

kw_err kp_conf_add_interceptor(kp_conf *conf, const kp_interceptor *ic) {
    if (!ic || conf->n_interceptors >= KP_MAX_INTERCEPTORS)
        return KW_ERR__INVALID_ARG;
    conf->interceptors[conf->n_interceptors++] = *ic;
    return KW_ERR_NONE;
}

void kp_conf_set_key_serializer(kp_conf *conf, kp_serializer_fn fn, void *opaque) {
    conf->key_ser_fn = fn;
    conf->key_ser_opaque = opaque;
}

void kp_conf_set_value_serializer(kp_conf *conf, kp_serializer_fn fn, void *opaque) {
    conf->value_ser_fn = fn;
    conf->value_ser_opaque = opaque;
}
