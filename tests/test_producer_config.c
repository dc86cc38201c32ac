/* Configuration: Kafka's keys, Kafka 4.0 defaults, validation with errors naming the key. */
#include "producer/kp_int.h"
#include "tests/tu.h"

#include <string.h>

static void expect_get(const kp_conf *c, const char *key, const char *want) {
    char buf[128];
    CU_ASSERT_EQUAL(kp_conf_get(c, key, buf, sizeof buf), KW_ERR_NONE);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_defaults_are_kafka_4_0(void) {
    kp_conf *c = kp_conf_new();
    expect_get(c, "acks", "all");
    expect_get(c, "linger.ms", "5");
    expect_get(c, "batch.size", "16384");
    expect_get(c, "buffer.memory", "33554432");
    expect_get(c, "max.block.ms", "60000");
    expect_get(c, "max.request.size", "1048576");
    expect_get(c, "retries", "2147483647");
    expect_get(c, "retry.backoff.ms", "100");
    expect_get(c, "retry.backoff.max.ms", "1000");
    expect_get(c, "delivery.timeout.ms", "120000");
    expect_get(c, "request.timeout.ms", "30000");
    expect_get(c, "max.in.flight.requests.per.connection", "5");
    expect_get(c, "enable.idempotence", "true");
    expect_get(c, "metadata.max.age.ms", "300000");
    expect_get(c, "partitioner", "default");
    expect_get(c, "key.serializer", "string");
    kp_conf_destroy(c);
}

static void test_unknown_key_is_named(void) {
    kp_conf *c = kp_conf_new();
    char err[256] = "";
    CU_ASSERT_EQUAL(kp_conf_set(c, "lingr.ms", "5", err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "lingr.ms"));
    kp_conf_destroy(c);
}

static void test_bad_values_are_named(void) {
    kp_conf *c = kp_conf_new();
    char err[256] = "";
    CU_ASSERT_EQUAL(kp_conf_set(c, "linger.ms", "abc", err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "linger.ms"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "linger.ms", "-1", err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_conf_set(c, "acks", "2", err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "acks"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "enable.idempotence", "yes", err, sizeof err),
                    KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_conf_set(c, "partitioner", "random", err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_conf_set(c, "max.in.flight.requests.per.connection", "0", err, sizeof err),
                    KW_ERR__INVALID_ARG);
    CU_ASSERT_EQUAL(kp_conf_set(c, "compression.type", "brotli", err, sizeof err),
                    KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "compression.type"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "value.serializer", "int64", err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_EQUAL(kp_conf_set(c, "acks", "-1", err, sizeof err), KW_ERR_NONE);
    expect_get(c, "acks", "all");
    kp_conf_destroy(c);
}

/* compression.type and the KIP-390 levels: Kafka 4.0's names, ranges and defaults. */
static void test_compression_keys_have_kafkas_ranges_and_defaults(void) {
    kp_conf *c = kp_conf_new();
    char err[256];
    expect_get(c, "compression.type", "none");
    expect_get(c, "compression.gzip.level", "-1");
    expect_get(c, "compression.lz4.level", "9");
    expect_get(c, "compression.zstd.level", "3");
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(kp_conf_set(c, "compression.type", codecs[i], err, sizeof err),
                        KW_ERR_NONE);
        expect_get(c, "compression.type", codecs[i]);
    }
    static const struct {
        const char *key, *value;
        bool ok;
    } cases[] = {
        {"compression.gzip.level", "-1", true},  {"compression.gzip.level", "1", true},
        {"compression.gzip.level", "9", true},   {"compression.gzip.level", "0", false},
        {"compression.gzip.level", "10", false}, {"compression.gzip.level", "-2", false},
        {"compression.lz4.level", "1", true},    {"compression.lz4.level", "17", true},
        {"compression.lz4.level", "0", false},   {"compression.lz4.level", "18", false},
        {"compression.zstd.level", "-131072", true}, {"compression.zstd.level", "22", true},
        {"compression.zstd.level", "23", false}, {"compression.zstd.level", "-131073", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kw_err e = kp_conf_set(c, cases[i].key, cases[i].value, err, sizeof err);
        CU_ASSERT_EQUAL(e, cases[i].ok ? KW_ERR_NONE : KW_ERR__INVALID_ARG);
        if (!cases[i].ok) {
            CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].key));
        } else {
            expect_get(c, cases[i].key, cases[i].value);
        }
    }
    kp_conf_destroy(c);
}

static kp_conf *base(void) {
    kp_conf *c = kp_conf_new();
    char err[256];
    kp_conf_set(c, "bootstrap.servers", "127.0.0.1:9092", err, sizeof err);
    return c;
}

static void test_idempotence_with_acks_1_is_an_error_when_explicit(void) {
    kp_conf *c = base();
    char err[256] = "";
    kp_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    kp_conf_set(c, "acks", "1", err, sizeof err);
    CU_ASSERT_EQUAL(kp_conf_validate(c, err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "acks"));
    CU_ASSERT_PTR_NULL(kp_producer_new(c, err, sizeof err));
    kp_conf_destroy(c);
}

static void test_idempotence_default_yields_to_acks_1(void) {
    kp_conf *c = base();
    char err[256] = "";
    kp_conf_set(c, "acks", "1", err, sizeof err);
    kp_conf r;
    CU_ASSERT_EQUAL(kp_conf_resolve(c, &r, err, sizeof err), KW_ERR_NONE);
    CU_ASSERT_FALSE(r.enable_idempotence);
    kp_conf_destroy(c);
}

static void test_idempotence_with_more_than_5_in_flight_is_an_error(void) {
    kp_conf *c = base();
    char err[256] = "";
    kp_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    kp_conf_set(c, "max.in.flight.requests.per.connection", "6", err, sizeof err);
    CU_ASSERT_EQUAL(kp_conf_validate(c, err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "max.in.flight.requests.per.connection"));
    kp_conf_destroy(c);
}

static void test_delivery_timeout_below_linger_plus_request_timeout_is_an_error(void) {
    kp_conf *c = base();
    char err[256] = "";
    kp_conf_set(c, "delivery.timeout.ms", "1000", err, sizeof err);
    CU_ASSERT_EQUAL(kp_conf_validate(c, err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "delivery.timeout.ms"));
    kp_conf_set(c, "request.timeout.ms", "900", err, sizeof err);
    kp_conf_set(c, "linger.ms", "100", err, sizeof err);
    CU_ASSERT_EQUAL(kp_conf_validate(c, err, sizeof err), KW_ERR_NONE);
    kp_conf_destroy(c);
}

static void test_missing_or_bad_bootstrap_is_an_error(void) {
    kp_conf *c = kp_conf_new();
    char err[256] = "";
    CU_ASSERT_EQUAL(kp_conf_validate(c, err, sizeof err), KW_ERR__INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bootstrap.servers"));
    kp_conf_set(c, "bootstrap.servers", "localhost", err, sizeof err);
    CU_ASSERT_PTR_NULL(kp_producer_new(c, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bootstrap.servers"));
    kp_conf_set(c, "bootstrap.servers", "localhost:99999", err, sizeof err);
    CU_ASSERT_PTR_NULL(kp_producer_new(c, err, sizeof err));
    kp_conf_destroy(c);
}

void suite_producer_config(void);
void suite_producer_config(void) {
    tu_suite("producer_config");
    tu_test("test_defaults_are_kafka_4_0", test_defaults_are_kafka_4_0);
    tu_test("test_unknown_key_is_named", test_unknown_key_is_named);
    tu_test("test_bad_values_are_named", test_bad_values_are_named);
    tu_test("test_compression_keys_have_kafkas_ranges_and_defaults",
            test_compression_keys_have_kafkas_ranges_and_defaults);
    tu_test("test_idempotence_with_acks_1_is_an_error_when_explicit",
            test_idempotence_with_acks_1_is_an_error_when_explicit);
    tu_test("test_idempotence_default_yields_to_acks_1", test_idempotence_default_yields_to_acks_1);
    tu_test("test_idempotence_with_more_than_5_in_flight_is_an_error",
            test_idempotence_with_more_than_5_in_flight_is_an_error);
    tu_test("test_delivery_timeout_below_linger_plus_request_timeout_is_an_error",
            test_delivery_timeout_below_linger_plus_request_timeout_is_an_error);
    tu_test("test_missing_or_bad_bootstrap_is_an_error", test_missing_or_bad_bootstrap_is_an_error);
}
