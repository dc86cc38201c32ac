/* libFuzzer target: request header decode (v1/v2, chosen by the decoded key and version) and
 * response header decode (v0 and v1) on arbitrary bytes. A header that decodes and was in
 * canonical form must re-encode to exactly the bytes it was read from. */
#include "protocol/kw.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    kw_rbuf rb;
    kw_request_header h;
    kw_rbuf_init(&rb, copy, size, "fuzz request header");
    kw_err e = kw_request_header_decode(&rb, &h);
    if (e == KW_ERR_NONE) {
        if (rb.pos > size)
            abort();
        if (h.client_id.len >= 0 &&
            (h.client_id.p < copy || h.client_id.p + h.client_id.len > copy + size))
            abort();
        bool v2 = kw_request_header_version(h.api_key, h.api_version) >= 2;
        size_t v1_len = 10 + (h.client_id.len > 0 ? (size_t)h.client_id.len : 0);
        if (!v2 || (rb.pos == v1_len + 1 && copy[v1_len] == 0)) {
            kw_wbuf wb;
            kw_wbuf_init(&wb);
            kw_request_header_encode(&wb, &h);
            if (!wb.oom && (wb.len != rb.pos || memcmp(wb.p, copy, wb.len) != 0))
                abort();
            kw_wbuf_free(&wb);
        }
    } else if (rb.errmsg[0] == '\0' || rb.err != e) {
        abort();
    }
    for (int v = 0; v <= 1; v++) {
        kw_response_header r;
        kw_rbuf_init(&rb, copy, size, "fuzz response header");
        if (kw_response_header_decode(&rb, &r, v) == KW_ERR_NONE && v == 0 && rb.pos != 4)
            abort();
    }
    free(copy);
    return 0;
}
