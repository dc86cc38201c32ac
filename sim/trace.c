/* The JSONL trace (the company's logbook): one JSON object per line, schema in docs/trace.md.
 *
 *   line 1:   {"type":"header","schema":"courier-trace","version":1,...}
 *   then:     {"type":"event","seq":..,"t_us":..,"src":"producer","kind":"request.sent",...}
 *   last:     {"type":"summary",...the audit numbers...}   (when the run ended normally)
 *             events after it (connections closing at shutdown) are left out.
 *
 * Fields that do not apply to an event are left out, never written as -1. The writer is a bus
 * sink: it runs on the emitting thread under the trace lock, into a 1 MiB stdio buffer. */
#include "sim/runner_int.h"
#include "sim/version.h"

#include <string.h>

#define TRACE_VERSION 1

void sim_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static const char *src_name(sim_source s) {
    switch (s) {
    case SIM_SRC_PRODUCER:
        return "producer";
    case SIM_SRC_BROKER:
        return "broker";
    default:
        return "sim";
    }
}

void sim_trace_sink(const sim_event *e, void *opaque) {
    sim_runner *r = opaque;
    FILE *f = r->trace;
    pthread_mutex_lock(&r->trace_lock);
    if (r->trace_closed) { /* shutdown chatter after the summary line */
        pthread_mutex_unlock(&r->trace_lock);
        return;
    }
    r->trace_last_seq = e->seq;
    fprintf(f, "{\"type\":\"event\",\"seq\":%llu,\"t_us\":%lld,\"src\":\"%s\",\"kind\":",
            (unsigned long long)e->seq, (long long)(e->t_us - r->start_us), src_name(e->source));
    sim_json_str(f, e->kind);
    if (e->topic[0]) {
        fputs(",\"topic\":", f);
        sim_json_str(f, e->topic);
    }
    if (e->partition >= 0)
        fprintf(f, ",\"partition\":%d", e->partition);
    if (e->node >= 0)
        fprintf(f, ",\"node\":%d", e->node);
    if (e->record_id >= 0)
        fprintf(f, ",\"record\":%lld", (long long)e->record_id);
    if (e->batch_id >= 0)
        fprintf(f, ",\"batch\":%lld", (long long)e->batch_id);
    if (e->corr_id >= 0)
        fprintf(f, ",\"corr\":%d", e->corr_id);
    if (e->api >= 0) {
        fputs(",\"api\":", f);
        sim_json_str(f, kw_api_name(e->api));
    }
    if (e->count >= 0)
        fprintf(f, ",\"count\":%d", e->count);
    if (e->bytes >= 0)
        fprintf(f, ",\"bytes\":%lld", (long long)e->bytes);
    if (e->raw_bytes >= 0)
        fprintf(f, ",\"raw_bytes\":%lld", (long long)e->raw_bytes);
    if (e->offset >= 0)
        fprintf(f, ",\"offset\":%lld", (long long)e->offset);
    if (e->err) {
        fprintf(f, ",\"err\":%d,\"err_name\":", e->err);
        sim_json_str(f, kw_err_name((kw_err)e->err));
    }
    if (e->detail[0]) {
        fputs(",\"detail\":", f);
        sim_json_str(f, e->detail);
    }
    fputs("}\n", f);
    pthread_mutex_unlock(&r->trace_lock);
}

void sim_trace_write_header(sim_runner *r) {
    FILE *f = r->trace;
    pthread_mutex_lock(&r->trace_lock);
    fprintf(f, "{\"type\":\"header\",\"schema\":\"courier-trace\",\"version\":%d,\"scenario\":",
            TRACE_VERSION);
    sim_json_str(f, r->s->name);
    fprintf(f, ",\"seed\":%llu,\"speed\":%g,\"brokers\":%d,\"topic\":", (unsigned long long)r->seed,
            r->o.speed, r->s->cluster.brokers);
    sim_json_str(f, r->s->workload.topic);
    fputs(",\"courier\":", f);
    sim_json_str(f, sim_version());
    fputs("}\n", f);
    pthread_mutex_unlock(&r->trace_lock);
}

void sim_trace_write_footer(sim_runner *r, const sim_audit *a) {
    FILE *f = r->trace;
    pthread_mutex_lock(&r->trace_lock);
    fprintf(f,
            "{\"type\":\"summary\",\"events\":%llu,\"sent\":%lld,\"acknowledged\":%lld,"
            "\"failed\":%lld,\"pending\":%lld,\"in_log\":%lld,\"lost\":%lld,\"duplicated\":%lld,"
            "\"reordered\":%lld,\"elapsed_ms\":%lld,\"interrupted\":%s}\n",
            (unsigned long long)r->trace_last_seq, (long long)a->sent, (long long)a->acknowledged,
            (long long)a->failed, (long long)a->pending, (long long)a->in_log, (long long)a->lost,
            (long long)a->duplicated, (long long)a->reordered, (long long)a->elapsed_ms,
            a->interrupted ? "true" : "false");
    r->trace_closed = true;
    fflush(f);
    pthread_mutex_unlock(&r->trace_lock);
}
