/* Helpers shared by the protocol's test files (header-only, static inline): hex text into
 * bytes, a monotonic clock in seconds for the throughput tests, and one union that holds any
 * message we speak, so a table of codecs or of golden frames can decode into the same slot
 * whatever the API. */
#ifndef COURIER_TESTS_PROTOCOL_UTIL_H
#define COURIER_TESTS_PROTOCOL_UTIL_H

#include "protocol/kw.h"

#include <stdio.h>
#include <time.h>

/* Converts pairs of hex digits into bytes, at most cap of them; returns how many. */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Monotonic seconds, for the throughput measurements. */
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef union any_msg {
    kw_api_versions_req avq;
    kw_api_versions_resp avr;
    kw_metadata_req mdq;
    kw_metadata_resp mdr;
    kw_produce_req prq;
    kw_produce_resp prr;
    kw_init_pid_req ipq;
    kw_init_pid_resp ipr;
    kw_list_offsets_req loq;
    kw_list_offsets_resp lor;
    kw_fetch_req ftq;
    kw_fetch_resp ftr;
} any_msg;

#endif
