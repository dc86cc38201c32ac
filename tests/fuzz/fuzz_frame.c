/* libFuzzer target: a receive buffer of size-prefixed frames, each with a request header.
 *
 * Walks the buffer as a broker connection would: kw_frame_peek with a small maximum frame,
 * then kw_request_header_decode on each whole frame. Checks the invariants a connection
 * relies on: a whole frame never claims more bytes than are there, a shorter buffer never
 * yields a whole frame, and a header in canonical form re-encodes to the same bytes. */
#include "protocol/kw.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const int32_t max_frame = 2048;
    size_t pos = 0;
    kw_wbuf wb;
    kw_wbuf_init(&wb);
    while (pos < size) {
        int32_t flen = -1;
        char err[128] = "";
        int rc = kw_frame_peek(data + pos, size - pos, max_frame, &flen, err, sizeof err);
        if (rc < 0) {
            if (err[0] == '\0')
                abort(); /* an error must say what is wrong */
            break;
        }
        if (rc == 0)
            break;
        if (flen < 0 || flen > max_frame || (size_t)flen + 4 > size - pos)
            abort();
        /* One byte less is never a whole frame. */
        int32_t again = -1;
        if (kw_frame_peek(data + pos, (size_t)flen + 3, max_frame, &again, NULL, 0) == 1)
            abort();
        /* Copy the payload so ASan sees any read past its end. */
        uint8_t *payload = malloc((size_t)flen + 1);
        if (!payload)
            break;
        memcpy(payload, data + pos + 4, (size_t)flen);
        kw_rbuf rb;
        kw_request_header h;
        kw_rbuf_init(&rb, payload, (size_t)flen, "fuzz frame");
        if (kw_request_header_decode(&rb, &h) == KW_ERR_NONE) {
            if (rb.pos > (size_t)flen)
                abort();
            (void)kw_api_name(h.api_key);
            (void)kw_api_supported(h.api_key);
            /* Canonical when the v2 tag section was empty (unknown tags are dropped). */
            bool v2 = kw_request_header_version(h.api_key, h.api_version) >= 2;
            size_t v1_len = 10 + (h.client_id.len > 0 ? (size_t)h.client_id.len : 0);
            if (!v2 || (rb.pos == v1_len + 1 && payload[v1_len] == 0)) {
                kw_wbuf_reset(&wb);
                size_t start = kw_frame_begin(&wb);
                kw_request_header_encode(&wb, &h);
                kw_wbuf_append(&wb, payload + rb.pos, (size_t)flen - rb.pos);
                kw_frame_end(&wb, start);
                if (!wb.oom && (wb.len != (size_t)flen + 4 || memcmp(wb.p, data + pos, wb.len)))
                    abort();
            }
        } else if (rb.errmsg[0] == '\0') {
            abort();
        }
        free(payload);
        pos += 4 + (size_t)flen;
    }
    kw_wbuf_free(&wb);
    return 0;
}
