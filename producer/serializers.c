/* The wrapping counter: turns the application's key and value into bytes, as Kafka's
 * StringSerializer, ByteArraySerializer, IntegerSerializer and LongSerializer do. */
#include "producer/kp_int.h"

#include <stdio.h>
#include <string.h>

static const char *names[] = {"string", "bytes", "int32", "int64"};

bool kp_ser_kind_parse(const char *name, kp_ser_kind *out) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i])) {
            *out = (kp_ser_kind)i;
            return true;
        }
    return false;
}

const char *kp_ser_kind_name(kp_ser_kind kind) {
    return (unsigned)kind < 4 ? names[kind] : "?";
}

kw_err kp_serialize_builtin(kp_ser_kind kind, const void *data, int32_t len, uint8_t scratch[8],
                            kw_slice *out, char *errbuf, size_t errsize) {
    if (!data) {
        *out = KW_SLICE_NULL;
        return KW_ERR_NONE;
    }
    switch (kind) {
    case KP_SER_STRING: {
        size_t n = len >= 0 ? (size_t)len : strlen(data);
        if (n > INT32_MAX) {
            snprintf(errbuf, errsize, "string serializer: %zu bytes is too long", n);
            return KW_ERR__SERIALIZATION;
        }
        *out = (kw_slice){data, (int32_t)n};
        return KW_ERR_NONE;
    }
    case KP_SER_BYTES:
        if (len < 0) {
            snprintf(errbuf, errsize, "bytes serializer: negative length %d", (int)len);
            return KW_ERR__SERIALIZATION;
        }
        *out = (kw_slice){data, len};
        return KW_ERR_NONE;
    case KP_SER_INT32: {
        int32_t v;
        memcpy(&v, data, sizeof v);
        uint32_t u = (uint32_t)v;
        for (int i = 0; i < 4; i++)
            scratch[i] = (uint8_t)(u >> (24 - 8 * i));
        *out = (kw_slice){scratch, 4};
        return KW_ERR_NONE;
    }
    case KP_SER_INT64: {
        int64_t v;
        memcpy(&v, data, sizeof v);
        uint64_t u = (uint64_t)v;
        for (int i = 0; i < 8; i++)
            scratch[i] = (uint8_t)(u >> (56 - 8 * i));
        *out = (kw_slice){scratch, 8};
        return KW_ERR_NONE;
    }
    }
    snprintf(errbuf, errsize, "unknown serializer kind %d", (int)kind);
    return KW_ERR__SERIALIZATION;
}
