/* Reading a recording (the CCTV tapes): checks every byte once when it opens, then rebuilds the
 * view model at any event from the last sample before it and the events after it, folded by
 * the live view's own feed (sim/view_feed.c). Format: sim/record.h, docs/trace.md.
 *
 * @locality one thread per sim_recording. */
#include "sim/recording.h"

#include "sim/json_file.h"
#include "sim/record.h"
#include "sim/view_feed.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define MAX_FILE ((uint64_t)1 << 32) /* 4 GiB: a recording larger than that is not ours */
#define CACHE 3                      /* decoded chunks kept */

typedef struct chunk {
    uint64_t frame_off; /* file offset of the CHNK frame */
    const uint8_t *z;   /* the zlib stream (inside rec->file) */
    size_t zlen;
    uint32_t raw_len;
    uint64_t first_seq, last_seq;
    uint32_t n_events;
} chunk;

typedef struct decoded {
    size_t chunk; /* index, or SIZE_MAX when the slot is free */
    uint8_t *raw;
    uint32_t *ev_off; /* offset of each event record in raw */
    uint64_t used;    /* LRU tick */
} decoded;

typedef struct sample_ix {
    uint64_t after_seq;
    size_t chunk;
    uint32_t off; /* offset of the model bytes in the decoded chunk */
} sample_ix;

struct sim_recording {
    char name[256];
    uint8_t *file;
    uint64_t size;
    sim_scenario *s;
    const char *scen_text;
    size_t scen_len;
    bool has_audit;
    sim_audit audit;

    chunk *chunks;
    size_t n_chunks;
    uint64_t first_seq, last_seq, n_events;
    uint64_t expected; /* events the chunk headers declare */
    int64_t *t_us; /* per event (index seq - first_seq) */
    sample_ix *samples;
    size_t n_samples, cap_samples;
    uint64_t *marks;
    size_t n_marks, cap_marks;

    int64_t start_us; /* the run's start on the simulation clock (RUNI): t_us are made relative */

    /* keyframes: the feed after folding k * KEY events */
    uint8_t **keys;
    size_t n_keys;
    char follow[64]; /* the parcel the keyframes follow ("" = none) */

    decoded cache[CACHE];
    uint64_t tick;
    sim_view_feed *work;  /* a feed positioned at work_pos events folded */
    uint64_t work_pos;    /* events folded into `work` */
    size_t cached_sample; /* the sample in `base`, SIZE_MAX = none */
    sim_view_model *base;
};

/* ---- errors and little-endian reads ------------------------------------------------------ */

static int fail(sim_recording *rec, char *errbuf, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(sim_recording *rec, char *errbuf, size_t errsize, const char *fmt, ...) {
    int n = snprintf(errbuf, errsize, "%s: ", rec->name);
    if (n < 0 || (size_t)n >= errsize)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf + n, errsize - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) {
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static const char *tag_name(uint32_t tag, char out[8]) {
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[4] = '\0';
    return out;
}

/* Decodes one event record payload (len bytes at p). false when it does not parse. */
static bool decode_event(const uint8_t *p, uint32_t len, sim_event *e) {
    const uint32_t fixed = 8 + 8 + 1 + 4 + 4 + 8 + 8 + 4 + 4 + 8 + 8 + 4 + 2 + 8 + 1;
    if (len < fixed + 3)
        return false;
    memset(e, 0, sizeof *e);
    e->seq = rd64(p);
    e->t_us = (int64_t)rd64(p + 8);
    e->source = (sim_source)p[16];
    e->partition = (int32_t)rd32(p + 17);
    e->node = (int32_t)rd32(p + 21);
    e->record_id = (int64_t)rd64(p + 25);
    e->batch_id = (int64_t)rd64(p + 33);
    e->corr_id = (int32_t)rd32(p + 41);
    e->count = (int32_t)rd32(p + 45);
    e->bytes = (int64_t)rd64(p + 49);
    e->offset = (int64_t)rd64(p + 57);
    e->err = (int32_t)rd32(p + 65);
    e->api = (int16_t)rd16(p + 69);
    e->offset_end = (int64_t)rd64(p + 71);
    e->stepped = p[79] != 0;
    if (p[16] > SIM_SRC_SIM || p[79] > 1)
        return false;
    uint32_t at = fixed;
    char *dst[3] = {e->kind, e->topic, e->detail};
    size_t cap[3] = {sizeof e->kind, sizeof e->topic, sizeof e->detail};
    for (int i = 0; i < 3; i++) {
        if (at >= len)
            return false;
        uint32_t n = p[at++];
        if (n >= cap[i] || at + n > len)
            return false;
        memcpy(dst[i], p + at, n);
        dst[i][n] = '\0';
        at += n;
    }
    return at == len;
}

static bool is_mark(const sim_event *e) {
    return e->err != 0 || !strcmp(e->kind, "fault") || !strcmp(e->kind, "log.truncated") ||
           !strcmp(e->kind, "broker.down") || !strcmp(e->kind, "broker.up") ||
           !strcmp(e->kind, "leader.changed");
}

static bool grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* ---- opening: the whole file checked once ------------------------------------------------ */

static int read_file(sim_recording *rec, const char *path, char *errbuf, size_t errsize) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(rec, errbuf, errsize, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(rec, errbuf, errsize, "not a regular file");
    }
    if ((uint64_t)st.st_size > MAX_FILE) {
        fclose(f);
        return fail(rec, errbuf, errsize, "larger than 4 GiB: not a recording");
    }
    rec->size = (uint64_t)st.st_size;
    rec->file = malloc(rec->size ? rec->size : 1);
    if (!rec->file) {
        fclose(f);
        return fail(rec, errbuf, errsize, "out of memory reading %llu bytes",
                    (unsigned long long)rec->size);
    }
    size_t got = fread(rec->file, 1, rec->size, f);
    fclose(f);
    if (got != rec->size)
        return fail(rec, errbuf, errsize, "read %zu of %llu bytes", got,
                    (unsigned long long)rec->size);
    return 0;
}

static int parse_head(sim_recording *rec, const uint8_t *p, uint32_t len, uint64_t off,
                      char *errbuf, size_t errsize) {
    char err[256];
    cJSON *j = sim_json_parse((const char *)p, len, "HEAD", "header", err, sizeof err);
    if (!j)
        return fail(rec, errbuf, errsize, "byte %llu: the header does not parse: %s",
                    (unsigned long long)off, err);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(j, "schema");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "model_size");
    int rc = 0;
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "courier-recording"))
        rc = fail(rec, errbuf, errsize, "byte %llu: the header's schema is not courier-recording",
                  (unsigned long long)off);
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != SIM_REC_VERSION)
        rc = fail(rec, errbuf, errsize,
                  "byte %llu: recording format version %g; this courier reads version %d",
                  (unsigned long long)off, cJSON_IsNumber(ver) ? ver->valuedouble : -1.0,
                  SIM_REC_VERSION);
    else if (!cJSON_IsNumber(ms) || ms->valuedouble != (double)sizeof(sim_view_model))
        rc = fail(rec, errbuf, errsize,
                  "byte %llu: made by a courier whose view model is %g bytes (this one's is "
                  "%zu): replay it with the courier that recorded it",
                  (unsigned long long)off, cJSON_IsNumber(ms) ? ms->valuedouble : -1.0,
                  sizeof(sim_view_model));
    cJSON_Delete(j);
    return rc;
}

static int64_t jint(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}
static double jdbl(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}
static bool jbool(const cJSON *o, const char *k) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int parse_audit(sim_recording *rec, const uint8_t *p, uint32_t len, uint64_t off,
                       char *errbuf, size_t errsize) {
    /* u32 size, the sim_audit struct of the build that wrote it, then the same as JSON */
    if (len < 4 || rd32(p) > len - 4)
        return fail(rec, errbuf, errsize, "byte %llu: an audit frame of %u bytes",
                    (unsigned long long)off, len);
    uint32_t raw = rd32(p);
    if (raw == sizeof(sim_audit)) {
        memcpy(&rec->audit, p + 4, sizeof rec->audit);
        rec->audit.log_error[sizeof rec->audit.log_error - 1] = '\0';
        rec->audit.log_source[sizeof rec->audit.log_source - 1] = '\0';
        if (rec->audit.n_failed_by < 0 || rec->audit.n_failed_by > SIM_AUDIT_MAX_ERRS ||
            rec->audit.n_brokers < 0 || rec->audit.n_brokers > SIM_MAX_BROKERS)
            return fail(rec, errbuf, errsize, "byte %llu: the audit's counts are out of range",
                        (unsigned long long)off);
        for (int i = 0; i < rec->audit.n_failed_by; i++)
            rec->audit.failed_by[i].name[sizeof rec->audit.failed_by[i].name - 1] = '\0';
        rec->has_audit = true;
        return 0;
    }
    p += 4 + raw;
    len -= 4 + raw;
    char err[256];
    cJSON *j = sim_json_parse((const char *)p, len, "AUDT", "audit", err, sizeof err);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fail(rec, errbuf, errsize, "byte %llu: the audit does not parse: %s",
                    (unsigned long long)off, j ? "not an object" : err);
    }
    sim_audit *a = &rec->audit;
    memset(a, 0, sizeof *a);
    a->sent = jint(j, "sent");
    a->acknowledged = jint(j, "acknowledged");
    a->failed = jint(j, "failed");
    a->pending = jint(j, "pending");
    a->in_log = jint(j, "in_log");
    a->lost = jint(j, "lost");
    a->duplicated = jint(j, "duplicated");
    a->reordered = jint(j, "reordered");
    a->failed_in_log = jint(j, "failed_in_log");
    /* the byte counts and the audit's later fields (sim/record.c writes them), so that a
     * recording made by a build whose sim_audit differs still replays its audit in full */
    a->deleted_by_retention = jint(j, "deleted_by_retention");
    a->compression_rate_avg = jdbl(j, "compression_rate_avg");
    a->batch_bytes = jint(j, "batch_bytes");
    a->batch_raw_bytes = jint(j, "batch_raw_bytes");
    a->log_bytes = jint(j, "log_bytes");
    a->log_raw_bytes = jint(j, "log_raw_bytes");
    a->outgoing_bytes = jint(j, "outgoing_bytes");
    a->records_per_request_avg = jdbl(j, "records_per_request_avg");
    a->batch_size_avg = jdbl(j, "batch_size_avg");
    a->request_latency_avg_ms = jdbl(j, "request_latency_avg_ms");
    a->request_latency_p99_ms = jdbl(j, "request_latency_p99_ms");
    a->request_latency_max_ms = jdbl(j, "request_latency_max_ms");
    a->retries = jint(j, "retries");
    a->requests = jint(j, "requests");
    a->faults_applied = (int)jint(j, "faults_applied");
    a->faults_failed = (int)jint(j, "faults_failed");
    a->elapsed_ms = jint(j, "elapsed_ms");
    a->wall_s = jdbl(j, "wall_s");
    a->interrupted = jbool(j, "interrupted");
    a->log_read_error = jbool(j, "log_read_error");
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(j, "log_error");
    if (cJSON_IsString(le))
        snprintf(a->log_error, sizeof a->log_error, "%s", le->valuestring);
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(j, "log_source");
    if (cJSON_IsString(ls))
        snprintf(a->log_source, sizeof a->log_source, "%s", ls->valuestring);
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(j, "requests_per_broker"), *it;
    cJSON_ArrayForEach(it, rb) {
        if (a->n_brokers < SIM_MAX_BROKERS && cJSON_IsNumber(it))
            a->requests_per_broker[a->n_brokers++] = (int64_t)it->valuedouble;
    }
    const cJSON *fb = cJSON_GetObjectItemCaseSensitive(j, "failed_by");
    cJSON_ArrayForEach(it, fb) {
        if (a->n_failed_by >= SIM_AUDIT_MAX_ERRS)
            break;
        sim_audit_err *e = &a->failed_by[a->n_failed_by++];
        e->err = (int32_t)jint(it, "err");
        e->count = jint(it, "count");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(nm))
            snprintf(e->name, sizeof e->name, "%s", nm->valuestring);
    }
    cJSON_Delete(j);
    rec->has_audit = true;
    return 0;
}

/* Inflates chunk c into raw (raw_len bytes). */
static bool inflate_chunk(const chunk *c, uint8_t *raw) {
    uLongf n = c->raw_len;
    return uncompress(raw, &n, c->z, (uLong)c->zlen) == Z_OK && n == c->raw_len;
}

/* Checks one chunk's records, indexes its events, samples and marks, and folds its events into
 * the keyframes. */
static int scan_chunk(sim_recording *rec, size_t ci, char *errbuf, size_t errsize) {
    chunk *c = &rec->chunks[ci];
    uint8_t *raw = malloc(c->raw_len ? c->raw_len : 1);
    if (!raw)
        return fail(rec, errbuf, errsize, "out of memory");
    if (!inflate_chunk(c, raw)) {
        free(raw);
        return fail(rec, errbuf, errsize,
                    "byte %llu: chunk %zu does not decompress to its %u bytes (damaged)",
                    (unsigned long long)c->frame_off, ci, c->raw_len);
    }
    uint32_t at = 0, n_ev = 0;
    while (at < c->raw_len) {
        if (c->raw_len - at < 5) {
            free(raw);
            return fail(rec, errbuf, errsize,
                        "byte %llu: chunk %zu: a record header is cut at byte %u of %u",
                        (unsigned long long)c->frame_off, ci, at, c->raw_len);
        }
        uint8_t type = raw[at];
        uint32_t len = rd32(raw + at + 1);
        if (len > c->raw_len - at - 5) {
            free(raw);
            return fail(rec, errbuf, errsize,
                        "byte %llu: chunk %zu: record at byte %u claims %u bytes, %u left",
                        (unsigned long long)c->frame_off, ci, at, len, c->raw_len - at - 5);
        }
        const uint8_t *p = raw + at + 5;
        if (type == SIM_REC_EVENT) {
            sim_event e;
            if (!decode_event(p, len, &e)) {
                free(raw);
                return fail(rec, errbuf, errsize,
                            "byte %llu: chunk %zu: the event record at byte %u does not parse",
                            (unsigned long long)c->frame_off, ci, at);
            }
            uint64_t want = rec->n_events ? rec->last_seq + 1 : e.seq;
            if (e.seq != want || e.seq == 0) {
                free(raw);
                return fail(rec, errbuf, errsize,
                            "byte %llu: chunk %zu: event seq %llu where %llu was due",
                            (unsigned long long)c->frame_off, ci, (unsigned long long)e.seq,
                            (unsigned long long)want);
            }
            if (!rec->n_events)
                rec->first_seq = e.seq;
            rec->last_seq = e.seq;
            if (rec->n_events >= rec->expected) {
                free(raw);
                return fail(rec, errbuf, errsize,
                            "byte %llu: chunk %zu holds more events than the chunks declare",
                            (unsigned long long)c->frame_off, ci);
            }
            rec->t_us[rec->n_events] = e.t_us - rec->start_us;
            rec->n_events++;
            if (is_mark(&e)) {
                if (!grow((void **)&rec->marks, &rec->cap_marks, rec->n_marks, sizeof(uint64_t))) {
                    free(raw);
                    return fail(rec, errbuf, errsize, "out of memory");
                }
                rec->marks[rec->n_marks++] = e.seq;
            }
            n_ev++;
        } else if (type == SIM_REC_SAMPLE) {
            if (len != 12 + sizeof(sim_view_model) || rd32(p + 8) != sizeof(sim_view_model)) {
                free(raw);
                return fail(rec, errbuf, errsize,
                            "byte %llu: chunk %zu: the sample at byte %u holds %u bytes, not a "
                            "view model of %zu",
                            (unsigned long long)c->frame_off, ci, at, len, sizeof(sim_view_model));
            }
            uint64_t after = rd64(p);
            if (rec->n_samples && after < rec->samples[rec->n_samples - 1].after_seq) {
                free(raw);
                return fail(rec, errbuf, errsize,
                            "byte %llu: chunk %zu: sample after event %llu comes after one taken "
                            "after event %llu",
                            (unsigned long long)c->frame_off, ci, (unsigned long long)after,
                            (unsigned long long)rec->samples[rec->n_samples - 1].after_seq);
            }
            if (!grow((void **)&rec->samples, &rec->cap_samples, rec->n_samples,
                      sizeof(sample_ix))) {
                free(raw);
                return fail(rec, errbuf, errsize, "out of memory");
            }
            rec->samples[rec->n_samples++] = (sample_ix){after, ci, at + 5 + 12};
        } else {
            free(raw);
            return fail(rec, errbuf, errsize,
                        "byte %llu: chunk %zu: unknown record type 0x%02x at byte %u",
                        (unsigned long long)c->frame_off, ci, type, at);
        }
        at += 5 + len;
    }
    free(raw);
    if (n_ev != c->n_events)
        return fail(rec, errbuf, errsize, "byte %llu: chunk %zu says %u events and holds %u",
                    (unsigned long long)c->frame_off, ci, c->n_events, n_ev);
    return 0;
}

/* Where the walk over the frames stands. */
typedef struct frame_walk {
    uint64_t off;         /* the frame being read */
    int stage;            /* 0 want HEAD, 1 want SCEN, 2 chunks/audit, 3 want ENDR, 4 done */
    size_t cap_chunks;    /* rec->chunks' capacity */
    uint64_t total;       /* events the chunk headers declare */
    const uint8_t *index; /* the INDX frame's body */
    uint64_t index_off, index_n;
} frame_walk;

/* The frame header at w->off: a known tag, a length within bounds and within the file, and a
 * body that passes its CRC-32. */
static int read_frame(sim_recording *rec, const frame_walk *w, uint32_t *tag_out, uint32_t *len_out,
                      const uint8_t **body, char *errbuf, size_t errsize) {
    uint64_t off = w->off;
    char tn[8];
    if (w->stage == 4)
        return fail(rec, errbuf, errsize, "byte %llu: data after the end marker",
                    (unsigned long long)off);
    if (rec->size - off < SIM_REC_FRAME_HDR)
        return fail(rec, errbuf, errsize,
                    "byte %llu: the file ends inside a frame header (%llu of %d bytes): the "
                    "recording was cut short",
                    (unsigned long long)off, (unsigned long long)(rec->size - off),
                    SIM_REC_FRAME_HDR);
    const uint8_t *h = rec->file + off;
    uint32_t tag = rd32(h), len = rd32(h + 4), crc = rd32(h + 8);
    if (tag != SIM_REC_HEAD && tag != SIM_REC_SCEN && tag != SIM_REC_CHNK && tag != SIM_REC_AUDT &&
        tag != SIM_REC_INDX && tag != SIM_REC_ENDR && tag != SIM_REC_RUNI)
        return fail(rec, errbuf, errsize, "byte %llu: unknown frame tag '%s' (damaged)",
                    (unsigned long long)off, tag_name(tag, tn));
    if (len > SIM_REC_MAX_FRAME)
        return fail(rec, errbuf, errsize, "byte %llu: a %s frame of %u bytes (at most %u)",
                    (unsigned long long)off, tag_name(tag, tn), len, SIM_REC_MAX_FRAME);
    if (rec->size - off - SIM_REC_FRAME_HDR < len)
        return fail(rec, errbuf, errsize,
                    "byte %llu: the file ends inside a %s frame (needs %u bytes, %llu "
                    "left): the recording was cut short",
                    (unsigned long long)off, tag_name(tag, tn), len,
                    (unsigned long long)(rec->size - off - SIM_REC_FRAME_HDR));
    const uint8_t *p = h + SIM_REC_FRAME_HDR;
    if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), p, len) != crc)
        return fail(rec, errbuf, errsize, "byte %llu: the %s frame fails its CRC-32 (damaged)",
                    (unsigned long long)off, tag_name(tag, tn));
    *tag_out = tag;
    *len_out = len;
    *body = p;
    return 0;
}

/* True when a `tag` frame may come at this stage of the walk. */
static bool frame_in_order(int stage, uint32_t tag) {
    return (stage == 0 && tag == SIM_REC_HEAD) || (stage == 1 && tag == SIM_REC_SCEN) ||
           (stage == 2 && (tag == SIM_REC_CHNK || tag == SIM_REC_AUDT || tag == SIM_REC_INDX ||
                           tag == SIM_REC_RUNI)) ||
           (stage == 3 && tag == SIM_REC_ENDR);
}

/* SCEN: the recorded scenario, parsed as `courier run` would. */
static int parse_scen(sim_recording *rec, const uint8_t *p, uint32_t len, uint64_t off,
                      char *errbuf, size_t errsize) {
    char err[512];
    rec->scen_text = (const char *)p;
    rec->scen_len = len;
    if (sim_scenario_parse((const char *)p, len, "recorded scenario", &rec->s, err, sizeof err))
        return fail(rec, errbuf, errsize, "byte %llu: %s", (unsigned long long)off, err);
    return 0;
}

/* CHNK: the chunk's header is indexed; its records are checked later by scan_chunk. */
static int parse_chunk_header(sim_recording *rec, frame_walk *w, const uint8_t *p, uint32_t len,
                              char *errbuf, size_t errsize) {
    if (len < SIM_REC_CHNK_HDR)
        return fail(rec, errbuf, errsize, "byte %llu: a CHNK frame of %u bytes",
                    (unsigned long long)w->off, len);
    if (!grow((void **)&rec->chunks, &w->cap_chunks, rec->n_chunks, sizeof(chunk)))
        return fail(rec, errbuf, errsize, "out of memory");
    chunk *c = &rec->chunks[rec->n_chunks++];
    c->frame_off = w->off;
    c->first_seq = rd64(p);
    c->last_seq = rd64(p + 8);
    c->n_events = rd32(p + 32);
    c->raw_len = rd32(p + 40);
    c->z = p + SIM_REC_CHNK_HDR;
    c->zlen = len - SIM_REC_CHNK_HDR;
    if (c->raw_len > SIM_REC_MAX_FRAME * 4u)
        return fail(rec, errbuf, errsize, "byte %llu: a chunk of %u raw bytes",
                    (unsigned long long)w->off, c->raw_len);
    w->total += c->n_events;
    return 0;
}

/* RUNI: the run's start on the simulation clock. */
static int parse_run_info(sim_recording *rec, const uint8_t *p, uint32_t len, uint64_t off,
                          char *errbuf, size_t errsize) {
    char err[256];
    cJSON *j = sim_json_parse((const char *)p, len, "RUNI", "run info", err, sizeof err);
    const cJSON *st = j ? cJSON_GetObjectItemCaseSensitive(j, "start_us") : NULL;
    if (!cJSON_IsNumber(st)) {
        cJSON_Delete(j);
        return fail(rec, errbuf, errsize, "byte %llu: the run info does not parse%s%s",
                    (unsigned long long)off, j ? "" : ": ", j ? "" : err);
    }
    rec->start_us = (int64_t)st->valuedouble;
    cJSON_Delete(j);
    return 0;
}

/* One checked frame, by its tag; moves the walk's stage on. */
static int parse_frame(sim_recording *rec, frame_walk *w, uint32_t tag, const uint8_t *p,
                       uint32_t len, char *errbuf, size_t errsize) {
    uint64_t off = w->off;
    switch (tag) {
    case SIM_REC_HEAD:
        w->stage = 1;
        return parse_head(rec, p, len, off, errbuf, errsize);
    case SIM_REC_SCEN:
        w->stage = 2;
        return parse_scen(rec, p, len, off, errbuf, errsize);
    case SIM_REC_CHNK:
        return parse_chunk_header(rec, w, p, len, errbuf, errsize);
    case SIM_REC_RUNI:
        return parse_run_info(rec, p, len, off, errbuf, errsize);
    case SIM_REC_AUDT:
        return parse_audit(rec, p, len, off, errbuf, errsize);
    case SIM_REC_INDX:
        if (len < 4 || (uint64_t)len != 4 + (uint64_t)rd32(p) * 32)
            return fail(rec, errbuf, errsize, "byte %llu: an index of %u bytes",
                        (unsigned long long)off, len);
        w->index = p;
        w->index_off = off;
        w->index_n = rd32(p);
        w->stage = 3;
        return 0;
    default: /* SIM_REC_ENDR */
        if (len != 16 || rd64(p) != w->index_off || rd64(p + 8) != w->total)
            return fail(rec, errbuf, errsize,
                        "byte %llu: the end marker does not match the file (index at %llu, "
                        "%llu events)",
                        (unsigned long long)off, (unsigned long long)w->index_off,
                        (unsigned long long)w->total);
        w->stage = 4;
        return 0;
    }
}

/* After the walk: the file was whole, and the index points at the chunks found. */
static int check_index(sim_recording *rec, const frame_walk *w, char *errbuf, size_t errsize) {
    if (w->stage != 4)
        return fail(rec, errbuf, errsize,
                    "byte %llu: the file ends before its %s: the recording was cut short",
                    (unsigned long long)w->off,
                    w->stage < 2    ? "header"
                    : w->stage == 2 ? "index"
                                    : "end marker");
    if (w->index_n != rec->n_chunks)
        return fail(
            rec, errbuf, errsize, "byte %llu: the index lists %llu chunks, the file has %zu",
            (unsigned long long)w->index_off, (unsigned long long)w->index_n, rec->n_chunks);
    for (size_t i = 0; i < rec->n_chunks; i++)
        if (rd64(w->index + 4 + i * 32) != rec->chunks[i].frame_off)
            return fail(rec, errbuf, errsize,
                        "byte %llu: index entry %zu points at byte %llu, the chunk is at %llu",
                        (unsigned long long)w->index_off, i,
                        (unsigned long long)rd64(w->index + 4 + i * 32),
                        (unsigned long long)rec->chunks[i].frame_off);
    return 0;
}

/* Walks the frames: HEAD SCEN CHNK* AUDT? INDX ENDR, each checked before it is used; then
 * every chunk's records. */
static int scan_frames(sim_recording *rec, char *errbuf, size_t errsize) {
    if (rec->size < SIM_REC_MAGIC_LEN || memcmp(rec->file, SIM_REC_MAGIC, SIM_REC_MAGIC_LEN))
        return fail(rec, errbuf, errsize, "byte 0: not a courier recording (no %s magic)",
                    SIM_REC_MAGIC);
    frame_walk w = {.off = SIM_REC_MAGIC_LEN};
    while (w.off < rec->size) {
        uint32_t tag = 0, len = 0;
        const uint8_t *p = NULL;
        char tn[8];
        if (read_frame(rec, &w, &tag, &len, &p, errbuf, errsize))
            return -1;
        if (!frame_in_order(w.stage, tag))
            return fail(rec, errbuf, errsize, "byte %llu: a %s frame out of place",
                        (unsigned long long)w.off, tag_name(tag, tn));
        if (parse_frame(rec, &w, tag, p, len, errbuf, errsize))
            return -1;
        w.off += SIM_REC_FRAME_HDR + (uint64_t)len;
    }
    if (check_index(rec, &w, errbuf, errsize))
        return -1;
    rec->n_events = 0;
    rec->expected = w.total;
    /* Events: sized from the chunk headers, checked by scan_chunk. */
    rec->t_us = malloc((size_t)(w.total ? w.total : 1) * sizeof *rec->t_us);
    if (!rec->t_us)
        return fail(rec, errbuf, errsize, "out of memory indexing %llu events",
                    (unsigned long long)w.total);
    for (size_t i = 0; i < rec->n_chunks; i++)
        if (scan_chunk(rec, i, errbuf, errsize))
            return -1;
    return 0;
}

static void free_keys(sim_recording *rec) {
    for (size_t k = 0; k < rec->n_keys; k++)
        free(rec->keys[k]);
    free(rec->keys);
    rec->keys = NULL;
    rec->n_keys = 0;
}

/* Folds every event through a fresh feed (following `follow` from the first event when it is
 * not empty), keeping the feed every SIM_RECORDING_KEY_EVENTS events. Returns 0 or -1. */
static int build_keys(sim_recording *rec, const char *follow) {
    free_keys(rec);
    size_t n_keys = (size_t)(rec->n_events / SIM_RECORDING_KEY_EVENTS) + 1;
    rec->keys = calloc(n_keys, sizeof *rec->keys);
    sim_view_feed *feed = sim_view_feed_new(NULL);
    if (!rec->keys || !feed) {
        sim_view_feed_destroy(feed);
        return -1;
    }
    rec->n_keys = n_keys;
    sim_view_feed_seed(feed, rec->s);
    if (follow && *follow)
        sim_view_feed_follow(feed, follow);
    snprintf(rec->follow, sizeof rec->follow, "%s", follow ? follow : "");
    sim_event e;
    for (uint64_t i = 0;; i++) {
        if (i % SIM_RECORDING_KEY_EVENTS == 0) {
            size_t k = (size_t)(i / SIM_RECORDING_KEY_EVENTS);
            rec->keys[k] = malloc(sim_view_feed_state_size(feed));
            if (!rec->keys[k]) {
                sim_view_feed_destroy(feed);
                return -1;
            }
            sim_view_feed_save(feed, rec->keys[k]);
        }
        if (i >= rec->n_events)
            break;
        if (sim_recording_event(rec, rec->first_seq + i, &e)) {
            sim_view_feed_destroy(feed);
            return -1;
        }
        sim_view_feed_event(feed, &e);
    }
    sim_view_feed_destroy(feed);
    rec->work_pos = UINT64_MAX; /* reload from a keyframe */
    rec->cached_sample = SIZE_MAX;
    return 0;
}

int sim_recording_follow(sim_recording *rec, const char *query) {
    return build_keys(rec, query);
}

int sim_recording_open(const char *path, sim_recording **out, char *errbuf, size_t errsize) {
    *out = NULL;
    sim_recording *rec = calloc(1, sizeof *rec);
    if (!rec) {
        snprintf(errbuf, errsize, "%s: out of memory", path);
        return -1;
    }
    snprintf(rec->name, sizeof rec->name, "%s", path);
    for (int i = 0; i < CACHE; i++)
        rec->cache[i].chunk = SIZE_MAX;
    rec->cached_sample = SIZE_MAX;
    if (read_file(rec, path, errbuf, errsize) || scan_frames(rec, errbuf, errsize)) {
        sim_recording_close(rec);
        return -1;
    }
    if (build_keys(rec, NULL)) {
        snprintf(errbuf, errsize, "%s: out of memory (or a chunk that does not decode twice)",
                 path);
        sim_recording_close(rec);
        return -1;
    }
    rec->work = sim_view_feed_new(NULL);
    rec->base = calloc(1, sizeof *rec->base);
    if (!rec->work || !rec->base) {
        sim_recording_close(rec);
        snprintf(errbuf, errsize, "%s: out of memory", path);
        return -1;
    }
    sim_view_feed_seed(rec->work, rec->s);
    *out = rec;
    return 0;
}

void sim_recording_close(sim_recording *rec) {
    if (!rec)
        return;
    for (int i = 0; i < CACHE; i++) {
        free(rec->cache[i].raw);
        free(rec->cache[i].ev_off);
    }
    sim_view_feed_destroy(rec->work);
    free(rec->base);
    free_keys(rec);
    free(rec->marks);
    free(rec->samples);
    free(rec->t_us);
    free(rec->chunks);
    sim_scenario_free(rec->s);
    free(rec->file);
    free(rec);
}

/* ---- access ------------------------------------------------------------------------------ */

const sim_scenario *sim_recording_scenario(const sim_recording *rec) {
    return rec->s;
}
const char *sim_recording_scenario_json(const sim_recording *rec, size_t *len) {
    *len = rec->scen_len;
    return rec->scen_text;
}
bool sim_recording_audit(const sim_recording *rec, sim_audit *out) {
    if (rec->has_audit)
        *out = rec->audit;
    return rec->has_audit;
}
uint64_t sim_recording_file_bytes(const sim_recording *rec) {
    return rec->size;
}
size_t sim_recording_n_chunks(const sim_recording *rec) {
    return rec->n_chunks;
}
size_t sim_recording_n_samples(const sim_recording *rec) {
    return rec->n_samples;
}
uint64_t sim_recording_first_seq(const sim_recording *rec) {
    return rec->n_events ? rec->first_seq : 0;
}
uint64_t sim_recording_last_seq(const sim_recording *rec) {
    return rec->n_events ? rec->last_seq : 0;
}

int64_t sim_recording_t_us(const sim_recording *rec, uint64_t seq) {
    if (!rec->n_events || seq < rec->first_seq || seq > rec->last_seq)
        return -1;
    return rec->t_us[seq - rec->first_seq];
}

uint64_t sim_recording_seq_at(const sim_recording *rec, int64_t t_us) {
    if (!rec->n_events)
        return 0;
    /* t_us is nearly sorted (emitters read the clock a little before they emit): search for
     * the last event whose time is <= t_us, then step back over small inversions. */
    size_t lo = 0, hi = (size_t)rec->n_events;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rec->t_us[mid] <= t_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return rec->first_seq + (lo ? lo - 1 : 0);
}

uint64_t sim_recording_next_mark(const sim_recording *rec, uint64_t seq) {
    size_t lo = 0, hi = rec->n_marks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rec->marks[mid] <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < rec->n_marks ? rec->marks[lo] : 0;
}

uint64_t sim_recording_prev_mark(const sim_recording *rec, uint64_t seq) {
    size_t lo = 0, hi = rec->n_marks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rec->marks[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? rec->marks[lo - 1] : 0;
}

/* The decoded bytes of chunk ci (and its event offsets), from the cache or inflated now. */
static decoded *decode(sim_recording *rec, size_t ci) {
    decoded *slot = &rec->cache[0];
    for (int i = 0; i < CACHE; i++) {
        if (rec->cache[i].chunk == ci) {
            rec->cache[i].used = ++rec->tick;
            return &rec->cache[i];
        }
        if (rec->cache[i].used < slot->used)
            slot = &rec->cache[i];
    }
    const chunk *c = &rec->chunks[ci];
    free(slot->raw);
    free(slot->ev_off);
    slot->chunk = SIZE_MAX;
    slot->raw = malloc(c->raw_len ? c->raw_len : 1);
    slot->ev_off = malloc((c->n_events ? c->n_events : 1) * sizeof *slot->ev_off);
    if (!slot->raw || !slot->ev_off || !inflate_chunk(c, slot->raw))
        return NULL;
    uint32_t at = 0, n = 0;
    while (at + 5 <= c->raw_len) {
        if (slot->raw[at] == SIM_REC_EVENT && n < c->n_events)
            slot->ev_off[n++] = at + 5;
        at += 5 + rd32(slot->raw + at + 1);
    }
    slot->chunk = ci;
    slot->used = ++rec->tick;
    return slot;
}

static size_t chunk_of(const sim_recording *rec, uint64_t seq) {
    size_t lo = 0, hi = rec->n_chunks;
    while (lo < hi) { /* last chunk whose first event is <= seq (chunks without events skip) */
        size_t mid = lo + (hi - lo) / 2;
        if (rec->chunks[mid].n_events == 0 || rec->chunks[mid].first_seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo > 0 && (rec->chunks[lo - 1].n_events == 0 || rec->chunks[lo - 1].last_seq < seq))
        lo--;
    return lo > 0 ? lo - 1 : 0;
}

int sim_recording_event(sim_recording *rec, uint64_t seq, sim_event *out) {
    if (!rec->n_events || seq < rec->first_seq || seq > rec->last_seq)
        return -1;
    size_t ci = chunk_of(rec, seq);
    const chunk *c = &rec->chunks[ci];
    if (c->n_events == 0 || seq < c->first_seq || seq > c->last_seq)
        return -1;
    decoded *d = decode(rec, ci);
    if (!d)
        return -1;
    uint32_t off = d->ev_off[seq - c->first_seq];
    if (!decode_event(d->raw + off, rd32(d->raw + off - 4), out))
        return -1;
    out->t_us -= rec->start_us; /* run time, as the live feed shows it */
    return 0;
}

#define CLAMP(v, max)                                                                              \
    do {                                                                                           \
        if ((v) < 0)                                                                               \
            (v) = 0;                                                                               \
        if ((v) > (max))                                                                           \
            (v) = (max);                                                                           \
    } while (0)
#define NUL(a) ((a)[sizeof(a) - 1] = '\0')

/* A snapshot is the writer's struct: a damaged or crafted one (with a valid CRC) must not make
 * the view read past an array or a string, so every count is clamped and every name ends. */
static void sanitize(sim_view_model *m) {
    CLAMP(m->n_desk, SIM_VM_MAX_DESK);
    for (int i = 0; i < SIM_VM_MAX_DESK; i++) {
        NUL(m->desk[i].topic);
        NUL(m->desk[i].key);
        NUL(m->desk[i].err_name);
    }
    CLAMP(m->n_parts, SIM_VM_MAX_PARTS);
    for (int i = 0; i < SIM_VM_MAX_PARTS; i++) {
        NUL(m->parts[i].topic);
        CLAMP(m->parts[i].n_batches, SIM_VM_MAX_BATCHES);
        NUL(m->map[i].topic);
        CLAMP(m->map[i].n_replicas, SIM_VM_MAX_REPLICAS);
        CLAMP(m->map[i].n_isr, SIM_VM_MAX_REPLICAS);
    }
    CLAMP(m->n_nodes, SIM_VM_MAX_NODES);
    for (int i = 0; i < SIM_VM_MAX_NODES; i++) {
        CLAMP(m->nodes[i].n_inflight, SIM_VM_MAX_INFLIGHT);
        NUL(m->nodes[i].last.err_name);
    }
    CLAMP(m->n_map, SIM_VM_MAX_PARTS);
    CLAMP(m->n_trace, SIM_VM_MAX_TRACE);
    for (int i = 0; i < SIM_VM_MAX_TRACE; i++)
        NUL(m->trace[i]);
    NUL(m->status.scenario);
    NUL(m->message);
    NUL(m->parcel.key);
    NUL(m->parcel.topic);
    CLAMP(m->parcel.n_replicated, SIM_VM_MAX_REPLICAS);
    CLAMP(m->parcel.n_history, SIM_VM_MAX_HISTORY);
    m->step_event.kind[sizeof m->step_event.kind - 1] = '\0';
    m->step_event.topic[sizeof m->step_event.topic - 1] = '\0';
    m->step_event.detail[sizeof m->step_event.detail - 1] = '\0';
    /* The cluster's address is for joining it live; a replay's cluster is gone (recordings
     * made before the recorders dropped it still hold one). */
    m->bootstrap[0] = '\0';
}

int sim_recording_sample(sim_recording *rec, size_t i, sim_view_model *m, uint64_t *after_seq) {
    if (i >= rec->n_samples)
        return -1;
    decoded *d = decode(rec, rec->samples[i].chunk);
    if (!d)
        return -1;
    memcpy(m, d->raw + rec->samples[i].off, sizeof *m);
    sanitize(m);
    if (after_seq)
        *after_seq = rec->samples[i].after_seq;
    return 0;
}

/* Positions the work feed after `n` events (n = 0: before the first). */
static int fold_to(sim_recording *rec, uint64_t n) {
    if (n < rec->work_pos || n - rec->work_pos > SIM_RECORDING_KEY_EVENTS) {
        size_t k = (size_t)(n / SIM_RECORDING_KEY_EVENTS);
        if (k >= rec->n_keys)
            k = rec->n_keys - 1;
        if (!sim_view_feed_load(rec->work, rec->keys[k]))
            return -1;
        rec->work_pos = (uint64_t)k * SIM_RECORDING_KEY_EVENTS;
    }
    sim_event e;
    while (rec->work_pos < n) {
        if (sim_recording_event(rec, rec->first_seq + rec->work_pos, &e))
            return -1;
        sim_view_feed_event(rec->work, &e);
        rec->work_pos++;
    }
    return 0;
}

int sim_recording_model_at(sim_recording *rec, uint64_t seq, sim_view_model *m) {
    uint64_t first = rec->n_events ? rec->first_seq : 1;
    if (seq + 1 < first || (rec->n_events && seq > rec->last_seq))
        return -1;
    uint64_t n = seq + 1 - first; /* events folded */
    if (fold_to(rec, n))
        return -1;
    /* The last sample taken after an event <= seq. */
    size_t lo = 0, hi = rec->n_samples;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rec->samples[mid].after_seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        memset(m, 0, sizeof *m);
        const sim_scenario *s = rec->s;
        size_t nl = strnlen(s->name, sizeof m->status.scenario - 1);
        memcpy(m->status.scenario, s->name, nl);
        for (int i = 0; i < s->cluster.brokers && i < SIM_VM_MAX_NODES; i++) {
            m->nodes[i].id = i + 1;
            m->nodes[i].up = true;
        }
        m->n_nodes = s->cluster.brokers < SIM_VM_MAX_NODES ? s->cluster.brokers : SIM_VM_MAX_NODES;
        m->footer.lost = m->footer.duplicated = -1;
    } else {
        if (rec->cached_sample != lo - 1) {
            if (sim_recording_sample(rec, lo - 1, rec->base, NULL))
                return -1;
            rec->cached_sample = lo - 1;
        }
        memcpy(m, rec->base, sizeof *m);
    }
    /* What the events say replaces what the sample held: the feed folds them as live. */
    m->n_desk = 0;
    memset(m->desk, 0, sizeof m->desk);
    m->n_trace = 0;
    memset(m->trace, 0, sizeof m->trace);
    memset(m->trace_seq, 0, sizeof m->trace_seq);
    m->has_step_event = false;
    for (int i = 0; i < m->n_nodes && i < SIM_VM_MAX_NODES; i++) {
        sim_vm_node *nd = &m->nodes[i];
        nd->errors_total = nd->rtt_ms = nd->drop_pending = 0;
        nd->has_last = false;
        memset(&nd->last, 0, sizeof nd->last);
    }
    sim_view_feed_apply_folded(rec->work, m);
    return 0;
}

int sim_recording_check_audit(sim_recording *rec, char *why, size_t size) {
    sim_audit a;
    why[0] = '\0';
    if (!sim_recording_audit(rec, &a) || sim_recording_first_seq(rec) != 1)
        return 1; /* nothing to check: no audit, or a recording started mid-run */
    int64_t sent = 0, acked = 0, failed = 0, per_broker[SIM_MAX_BROKERS] = {0};
    sim_event e;
    for (uint64_t s = 1; s <= sim_recording_last_seq(rec); s++) {
        if (sim_recording_event(rec, s, &e))
            return snprintf(why, size, "event %llu does not decode", (unsigned long long)s), -1;
        if (e.source == SIM_SRC_PRODUCER && !strcmp(e.kind, "record.sent"))
            sent++;
        else if (e.source == SIM_SRC_SIM && !strcmp(e.kind, "delivery.acked"))
            acked++;
        else if (e.source == SIM_SRC_SIM && !strcmp(e.kind, "delivery.failed"))
            failed++;
        else if (e.source == SIM_SRC_BROKER && !strcmp(e.kind, "request.received") &&
                 e.api == 0 && e.node >= 1 && e.node <= SIM_MAX_BROKERS)
            per_broker[e.node - 1]++;
    }
    if (acked != a.acknowledged || failed != a.failed)
        return snprintf(why, size,
                        "the events hold %lld delivery.acked and %lld delivery.failed, the audit "
                        "says %lld acknowledged and %lld failed",
                        (long long)acked, (long long)failed, (long long)a.acknowledged,
                        (long long)a.failed),
               -1;
    if (sent < a.acknowledged + a.failed)
        return snprintf(why, size, "the events hold %lld record.sent, fewer than the audit's "
                        "outcomes (%lld)", (long long)sent, (long long)(a.acknowledged + a.failed)),
               -1;
    for (int b = 0; b < a.n_brokers && b < SIM_MAX_BROKERS; b++)
        if (per_broker[b] != a.requests_per_broker[b])
            return snprintf(why, size,
                            "broker %d received %lld Produce requests in the events, %lld in "
                            "the audit",
                            b + 1, (long long)per_broker[b], (long long)a.requests_per_broker[b]),
                   -1;
    return 0;
}
