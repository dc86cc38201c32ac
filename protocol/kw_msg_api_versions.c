/* ApiVersions 0–4: the first words at a depot's door — "which forms do you read?".
 *
 * Fields by version (apache/kafka ApiVersions{Request,Response}.json):
 *   request  v3+: client_software_name, client_software_version (compact strings)
 *   response v0+: error_code, api_keys [api_key, min_version, max_version]; v1+: throttle_time_ms
 * v3 is the first flexible version: compact arrays/strings and a tagged-field section after
 * each struct. v4 is v3 again: a client that sends v4 tells the broker it understands an
 * UNSUPPORTED_VERSION answer listing only ApiVersions (KIP-896). The v3+ response's tagged
 * fields (SupportedFeatures, FinalizedFeatures..., tags 0-3) are skipped when read, never written. The response header stays v0 even at v3 (kw_response_header_version() says so);
 * a broker that does not speak the requested version answers with a v0 body.
 */
#include "protocol/kw.h"
#include "protocol/kw_msg_util.h"

#include <assert.h>

#define API_VERSIONS_MIN 0
#define API_VERSIONS_MAX 4
#define API_VERSIONS_FLEX 3

void kw_api_versions_req_encode(kw_wbuf *wb, int16_t version, const kw_api_versions_req *m) {
    assert(version >= API_VERSIONS_MIN && version <= API_VERSIONS_MAX);
    if (version < API_VERSIONS_FLEX)
        return; /* v0-v2 requests have an empty body */
    kw_write_compact_string(wb, m->client_software_name);
    kw_write_compact_string(wb, m->client_software_version);
    kw_write_empty_tagged_fields(wb);
}

kw_err kw_api_versions_req_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                  kw_api_versions_req *m) {
    (void)a;
    m->client_software_name = kw_slice_str("");
    m->client_software_version = kw_slice_str("");
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "ApiVersions request", version, API_VERSIONS_MIN, API_VERSIONS_MAX))
        return rb->err;
    if (version >= API_VERSIONS_FLEX) {
        m->client_software_name = kw_read_compact_string(rb, "ApiVersions.client_software_name");
        m->client_software_version =
            kw_read_compact_string(rb, "ApiVersions.client_software_version");
        if (!rb->err && (m->client_software_name.len < 0 || m->client_software_version.len < 0))
            kw_rbuf_fail(rb, KW_ERR__MALFORMED,
                         "ApiVersions.client_software_%s: null in a non-nullable string",
                         m->client_software_name.len < 0 ? "name" : "version");
        kw_read_tagged_fields(rb, "ApiVersions._tagged_fields");
    }
    kw_read_expect_end(rb, "ApiVersions request");
    return rb->err;
}

void kw_api_versions_resp_encode(kw_wbuf *wb, int16_t version, const kw_api_versions_resp *m) {
    assert(version >= API_VERSIONS_MIN && version <= API_VERSIONS_MAX);
    bool flex = version >= API_VERSIONS_FLEX;
    int32_t n = kw_msg_count(m->n_api_keys);
    kw_write_i16(wb, m->error_code);
    if (flex)
        kw_write_compact_array_len(wb, n);
    else
        kw_write_array_len(wb, n);
    for (int32_t i = 0; i < n; i++) {
        kw_write_i16(wb, m->api_keys[i].api_key);
        kw_write_i16(wb, m->api_keys[i].min_version);
        kw_write_i16(wb, m->api_keys[i].max_version);
        if (flex)
            kw_write_empty_tagged_fields(wb);
    }
    if (version >= 1)
        kw_write_i32(wb, m->throttle_time_ms);
    if (flex)
        kw_write_empty_tagged_fields(wb);
}

/* Decodes the body at `version` exactly, no fallback. */
static kw_err decode_resp_body(kw_rbuf *rb, int16_t version, kw_arena *a, kw_api_versions_resp *m) {
    *m = (kw_api_versions_resp){0};
    bool flex = version >= API_VERSIONS_FLEX;
    kw_path path;
    kw_path_init(&path, "ApiVersions");

    m->error_code = kw_read_i16(rb, kw_path_leaf(&path, "error_code"));
    m->api_keys = kw_msg_read_array(rb, a, flex, flex ? 7 : 6, sizeof *m->api_keys, &path,
                                    "api_keys", &m->n_api_keys);
    for (int32_t i = 0; i < m->n_api_keys && !rb->err; i++) {
        kw_api_range *k = &m->api_keys[i];
        size_t mark = kw_path_push(&path, "api_keys", i);
        k->api_key = kw_read_i16(rb, kw_path_leaf(&path, "api_key"));
        k->min_version = kw_read_i16(rb, kw_path_leaf(&path, "min_version"));
        k->max_version = kw_read_i16(rb, kw_path_leaf(&path, "max_version"));
        if (flex)
            kw_read_tagged_fields(rb, kw_path_leaf(&path, "_tagged_fields"));
        kw_path_pop(&path, mark);
    }
    if (version >= 1)
        m->throttle_time_ms = kw_read_i32(rb, kw_path_leaf(&path, "throttle_time_ms"));
    if (flex)
        kw_read_tagged_fields(rb, kw_path_leaf(&path, "_tagged_fields"));
    kw_read_expect_end(rb, "ApiVersions response");
    if (rb->err)
        m->n_api_keys = 0;
    return rb->err;
}

/* As Java's ApiVersionsResponse.parse(): a broker answers an ApiVersions request newer than it
 * speaks with UNSUPPORTED_VERSION in a v0 body (KIP-511), so when a flexible (v3) body does not
 * parse, it is parsed again as v0, and that parse is kept only if it carries error 35
 * UNSUPPORTED_VERSION (Java keeps any v0 parse; we are stricter so that a truncated v1/v2 body
 * can never pass for a v0 one). If that fails too, the first error stands and
 * m->error_code still holds the leading int16 when there is one, so a client can see 35 and
 * retry with v0 (librdkafka 2.0.2's mock answers v3 with a body that is neither v0 nor v3). */
kw_err kw_api_versions_resp_decode(kw_rbuf *rb, int16_t version, kw_arena *a,
                                   kw_api_versions_resp *m) {
    *m = (kw_api_versions_resp){0};
    if (rb->err)
        return rb->err;
    if (!kw_msg_version_ok(rb, "ApiVersions response", version, API_VERSIONS_MIN, API_VERSIONS_MAX))
        return rb->err;
    kw_rbuf start = *rb;
    if (decode_resp_body(rb, version, a, m) == KW_ERR_NONE || version < API_VERSIONS_FLEX)
        return rb->err;
    kw_rbuf first = *rb;
    *rb = start;
    if (decode_resp_body(rb, 0, a, m) == KW_ERR_NONE && m->error_code == KW_ERR_UNSUPPORTED_VERSION)
        return KW_ERR_NONE;
    *rb = first;
    kw_rbuf lead = start;
    *m = (kw_api_versions_resp){.error_code = kw_read_i16(&lead, "ApiVersions.error_code")};
    return rb->err;
}
