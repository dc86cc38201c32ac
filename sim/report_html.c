/* The HTML report (the slide for the class): one page, inline SVG charts over simulated time,
 * the timeline's faults as vertical markers on each chart, the audit as a table. No script, no
 * network, no external style: a browser draws it from the file alone.
 *
 * Sources: the events (rates, batches, requests, latencies, in-flight, faults) and the
 * samples (buffer pool, ISR size and high watermark per partition), both from the recording. */
#include "sim/report_html.h"
#include "sim/version.h"

#include "protocol/kw.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BINS 200
#define NODES (SIM_MAX_BROKERS + 1)
#define MAX_PARTS SIM_VM_MAX_PARTS
#define MAX_FAULTS 64
#define W 920 /* chart size in px */
#define H 230
#define ML 64 /* margins */
#define MR 150
#define MT 30
#define MB 34

static const char *const g_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define COLOR(i) g_colors[(i) % (int)(sizeof g_colors / sizeof g_colors[0])]

typedef struct series {
    char name[72];
    const char *color;
    int n;
    double x[MAX_BINS * 4], y[MAX_BINS * 4]; /* x in seconds */
    bool dashed;
} series;

typedef struct fault_mark {
    double t_s;
    char label[96];
} fault_mark;

typedef struct lat_bin {
    double *v;
    size_t n, cap;
} lat_bin;

typedef struct pending_req {
    uint64_t key; /* node << 32 | corr, 0 = free */
    int64_t t_us;
} pending_req;

typedef struct report {
    double bin_s;
    int n_bins;
    double t_end_s;
    int64_t sent[MAX_BINS], acked[MAX_BINS], failed[MAX_BINS];
    int64_t requests[MAX_BINS], drained_batches[MAX_BINS], drained_records[MAX_BINS],
        drained_bytes[MAX_BINS];
    lat_bin lat[NODES][MAX_BINS];
    int inflight_max[NODES][MAX_BINS];
    int inflight_now[NODES];
    int n_nodes;
    fault_mark faults[MAX_FAULTS];
    int n_faults;
    pending_req *pend;
    size_t pend_cap;
} report;

static void esc(FILE *o, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", o);
            break;
        case '>':
            fputs("&gt;", o);
            break;
        case '&':
            fputs("&amp;", o);
            break;
        case '"':
            fputs("&quot;", o);
            break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, o);
        }
    }
}

/* ---- gathering --------------------------------------------------------------------------- */

static uint64_t hash64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

/* Request send times by (node, corr), to time each answer. */
static void pend_put(report *rp, uint64_t key, int64_t t) {
    size_t mask = rp->pend_cap - 1;
    for (size_t i = hash64(key) & mask;; i = (i + 1) & mask)
        if (rp->pend[i].key == 0 || rp->pend[i].key == key) {
            rp->pend[i] = (pending_req){key, t};
            return;
        }
}

static bool pend_take(report *rp, uint64_t key, int64_t *t) {
    size_t mask = rp->pend_cap - 1;
    for (size_t i = hash64(key) & mask; rp->pend[i].key; i = (i + 1) & mask)
        if (rp->pend[i].key == key) {
            *t = rp->pend[i].t_us;
            /* backward-shift delete keeps the probe chains intact */
            size_t j = i;
            for (;;) {
                j = (j + 1) & mask;
                if (!rp->pend[j].key)
                    break;
                size_t home = hash64(rp->pend[j].key) & mask;
                if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
                    rp->pend[i] = rp->pend[j];
                    i = j;
                }
            }
            rp->pend[i].key = 0;
            return true;
        }
    return false;
}

static void lat_add(lat_bin *b, double v) {
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 16;
        double *p = realloc(b->v, c * sizeof *p);
        if (!p)
            return;
        b->v = p;
        b->cap = c;
    }
    b->v[b->n++] = v;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(lat_bin *b, double q) {
    qsort(b->v, b->n, sizeof *b->v, cmp_dbl);
    size_t k = (size_t)ceil(q * (double)b->n);
    return b->v[k > 0 ? k - 1 : 0];
}

static int gather(sim_recording *rec, report *rp, char *errbuf, size_t errsize) {
    uint64_t first = sim_recording_first_seq(rec), last = sim_recording_last_seq(rec);
    int64_t t_end = last ? sim_recording_t_us(rec, last) : 0;
    for (uint64_t s = last; s >= first && s > 0 && s + 200 > last; s--) /* near-sorted times */
        if (sim_recording_t_us(rec, s) > t_end)
            t_end = sim_recording_t_us(rec, s);
    rp->t_end_s = t_end > 0 ? (double)t_end / 1e6 : 1;
    /* Bins: about 120 over the run, in steps of 50 ms, 100 ms, 250 ms, 500 ms, 1 s, 2 s, ... */
    static const double steps[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
    rp->bin_s = steps[0];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        rp->bin_s = steps[i];
        if (rp->t_end_s / steps[i] <= 120)
            break;
    }
    rp->n_bins = (int)(rp->t_end_s / rp->bin_s) + 1;
    if (rp->n_bins > MAX_BINS)
        rp->n_bins = MAX_BINS;
    rp->n_nodes = sim_recording_scenario(rec)->cluster.brokers;
    if (rp->n_nodes >= NODES)
        rp->n_nodes = NODES - 1;
    rp->pend_cap = 1 << 14;
    rp->pend = calloc(rp->pend_cap, sizeof *rp->pend);
    if (!rp->pend) {
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    size_t live = 0;
    int cur_bin = 0;
    sim_event e;
    for (uint64_t s = first; s && s <= last; s++) {
        if (sim_recording_event(rec, s, &e)) {
            snprintf(errbuf, errsize, "event %llu does not decode", (unsigned long long)s);
            return -1;
        }
        int b = e.t_us < 0 ? 0 : (int)((double)e.t_us / 1e6 / rp->bin_s);
        if (b >= rp->n_bins)
            b = rp->n_bins - 1;
        /* a new bin starts with what is in flight now */
        for (; cur_bin < b; cur_bin++)
            for (int n = 1; n <= rp->n_nodes; n++)
                rp->inflight_max[n][cur_bin + 1] = rp->inflight_now[n];
        const char *k = e.kind;
        bool node_ok = e.node > 0 && e.node <= rp->n_nodes;
        if (e.source == SIM_SRC_PRODUCER) {
            if (!strcmp(k, "record.sent"))
                rp->sent[b]++;
            else if (!strcmp(k, "batch.drained")) {
                rp->drained_batches[b]++;
                rp->drained_records[b] += e.count > 0 ? e.count : 0;
                rp->drained_bytes[b] += e.bytes > 0 ? e.bytes : 0;
            } else if (!strcmp(k, "request.sent") && e.api == KW_API_PRODUCE && node_ok) {
                rp->requests[b]++;
                if (live * 2 < rp->pend_cap) {
                    pend_put(rp, (uint64_t)e.node << 32 | (uint32_t)e.corr_id, e.t_us);
                    live++;
                }
                int *fl = &rp->inflight_now[e.node];
                (*fl)++;
                if (*fl > rp->inflight_max[e.node][b])
                    rp->inflight_max[e.node][b] = *fl;
            } else if (!strcmp(k, "response.received") && e.api == KW_API_PRODUCE && node_ok) {
                int64_t t0;
                if (pend_take(rp, (uint64_t)e.node << 32 | (uint32_t)e.corr_id, &t0)) {
                    live--;
                    lat_add(&rp->lat[e.node][b], (double)(e.t_us - t0) / 1000.0);
                    if (rp->inflight_now[e.node] > 0)
                        rp->inflight_now[e.node]--;
                }
            }
        } else if (e.source == SIM_SRC_SIM) {
            if (!strcmp(k, "delivery.acked"))
                rp->acked[b]++;
            else if (!strcmp(k, "delivery.failed"))
                rp->failed[b]++;
            else if (!strcmp(k, "fault") && rp->n_faults < MAX_FAULTS) {
                fault_mark *f = &rp->faults[rp->n_faults++];
                f->t_s = (double)e.t_us / 1e6;
                snprintf(f->label, sizeof f->label, "%.80s", e.detail);
            }
        }
    }
    for (; cur_bin + 1 < rp->n_bins; cur_bin++)
        for (int n = 1; n <= rp->n_nodes; n++)
            rp->inflight_max[n][cur_bin + 1] = rp->inflight_now[n];
    return 0;
}

/* ---- drawing ----------------------------------------------------------------------------- */

static double nice_max(double v) {
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    if (v <= p)
        return p;
    if (v <= 2 * p)
        return 2 * p;
    if (v <= 5 * p)
        return 5 * p;
    return 10 * p;
}

static void fmt_num(char *b, size_t n, double v) {
    if (fabs(v) >= 1e6)
        snprintf(b, n, "%.3gM", v / 1e6);
    else if (fabs(v) >= 1e4)
        snprintf(b, n, "%.3gk", v / 1e3);
    else
        snprintf(b, n, "%g", v);
}

/* One chart: a title, axes, the series as polylines, the fault markers, a legend. */
static void chart(FILE *o, const char *id, const char *title, const char *unit, double t_end,
                  series *ss, int n, const report *rp) {
    double ymax = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ss[i].n; j++)
            if (ss[i].y[j] > ymax)
                ymax = ss[i].y[j];
    ymax = nice_max(ymax);
    double pw = W - ML - MR, ph = H - MT - MB;
#define X(t) (ML + (t) / t_end * pw)
#define Y(v) (MT + ph - (v) / ymax * ph)
    fprintf(o, "<h2 id=\"%s\">", id);
    esc(o, title);
    fprintf(o, "</h2>\n<svg width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            W, H, W, H);
    esc(o, title);
    fprintf(o, "\">\n<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
               "stroke=\"#999\"/>\n",
            ML, MT, pw, ph);
    /* y grid */
    for (int i = 0; i <= 4; i++) {
        double v = ymax * i / 4;
        char lab[32];
        fmt_num(lab, sizeof lab, v);
        fprintf(o,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
                ML, Y(v), ML + pw, Y(v), ML - 4, Y(v) + 4, lab);
    }
    fprintf(o, "<text x=\"12\" y=\"%d\" font-size=\"11\" transform=\"rotate(-90 12 %d)\" "
               "text-anchor=\"middle\">",
            MT + (int)ph / 2, MT + (int)ph / 2);
    esc(o, unit);
    fprintf(o, "</text>\n");
    /* x ticks: about 10, at whole steps of seconds */
    static const double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300};
    double st = steps[0];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        st = steps[i];
        if (t_end / st <= 12)
            break;
    }
    for (double t = 0; t <= t_end + 1e-9; t += st)
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#999\"/>"
                "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%gs</text>\n",
                X(t), MT + ph, X(t), MT + ph + 4, X(t), MT + ph + 16, t);
    /* fault markers */
    for (int i = 0; i < rp->n_faults; i++) {
        const fault_mark *f = &rp->faults[i];
        fprintf(o,
                "<g class=\"fault\" data-t-ms=\"%.0f\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
                "y2=\"%.0f\" stroke=\"#c00\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>"
                "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#c00\">",
                f->t_s * 1000, X(f->t_s), MT, X(f->t_s), MT + ph, X(f->t_s) + 2,
                MT - 4 - (i % 2) * 11);
        char word[40];
        snprintf(word, sizeof word, "%.*s", (int)strcspn(f->label, " "), f->label);
        esc(o, word);
        fprintf(o, "</text><title>");
        esc(o, f->label);
        fprintf(o, " at %.3f s</title></g>\n", f->t_s);
    }
    /* series and legend */
    for (int i = 0; i < n; i++) {
        const series *s = &ss[i];
        if (s->n > 0) {
            fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"",
                    s->color, s->dashed ? " stroke-dasharray=\"4,2\"" : "");
            for (int j = 0; j < s->n; j++)
                fprintf(o, "%s%.1f,%.1f", j ? " " : "", X(s->x[j]), Y(s->y[j]));
            fprintf(o, "\"/>\n");
        }
        double ly = MT + 6 + i * 15;
        fprintf(o,
                "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"3\"/><text x=\"%.0f\" y=\"%.1f\" font-size=\"11\">",
                ML + pw + 10, ly, ML + pw + 26, ly, s->color, ML + pw + 30, ly + 4);
        esc(o, s->name);
        fprintf(o, "</text>\n");
    }
    fprintf(o, "</svg>\n");
#undef X
#undef Y
}

static void series_init(series *s, const char *name, int color) {
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->color = COLOR(color);
}

static void point(series *s, double x, double y) {
    if (s->n < (int)(sizeof s->x / sizeof s->x[0])) {
        s->x[s->n] = x;
        s->y[s->n++] = y;
    }
}

static void audit_table(FILE *o, sim_recording *rec) {
    sim_audit a;
    fprintf(o, "<h2 id=\"audit\">Audit</h2>\n");
    if (!sim_recording_audit(rec, &a)) {
        fprintf(o, "<p>The run ended before its audit was taken.</p>\n");
        return;
    }
    struct {
        const char *name, *why;
        long long v;
    } rows[] = {
        {"sent", "kp_produce() calls", (long long)a.sent},
        {"acknowledged", "delivery reports with success", (long long)a.acknowledged},
        {"failed", "delivery reports with an error", (long long)a.failed},
        {"no outcome", "stopped before the end", (long long)a.pending},
        {"records in log", "distinct records found in the partition logs", (long long)a.in_log},
        {"lost", "acknowledged, not in the log", (long long)a.lost},
        {"duplicated", "extra copies in the log", (long long)a.duplicated},
        {"reordered", "found after a later-sent record of the same key", (long long)a.reordered},
        {"failed, yet in log", "reported failed but stored", (long long)a.failed_in_log},
        {"produce requests", "requests the producer sent", (long long)a.requests},
        {"record retries", "record-retry-total", (long long)a.retries},
        {"faults applied", "timeline entries that took effect", (long long)a.faults_applied},
    };
    fprintf(o, "<table class=\"audit\">\n<tr><th>what</th><th>count</th><th>meaning</th></tr>\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool bad = (!strcmp(rows[i].name, "lost") || !strcmp(rows[i].name, "duplicated") ||
                    !strcmp(rows[i].name, "reordered")) &&
                   rows[i].v > 0;
        fprintf(o, "<tr%s><td>%s</td><td class=\"n\">%lld</td><td>%s</td></tr>\n",
                bad ? " class=\"bad\"" : "", rows[i].name, rows[i].v, rows[i].why);
    }
    for (int i = 0; i < a.n_failed_by; i++) {
        fprintf(o, "<tr><td>failed: ");
        esc(o, a.failed_by[i].name);
        fprintf(o, "</td><td class=\"n\">%lld</td><td>failures with this error</td></tr>\n",
                (long long)a.failed_by[i].count);
    }
    fprintf(o,
            "<tr><td>request latency</td><td class=\"n\">%.2f ms</td><td>average; p99 %.2f ms, "
            "max %.2f ms</td></tr>\n",
            a.request_latency_avg_ms, a.request_latency_p99_ms, a.request_latency_max_ms);
    fprintf(o,
            "<tr><td>time</td><td class=\"n\">%.1f s</td><td>simulated (%.2f s of wall "
            "time)</td></tr>\n</table>\n",
            (double)a.elapsed_ms / 1000.0, a.wall_s);
}

/* Pool and map over time, from the samples. */
static void sampled_charts(FILE *o, sim_recording *rec, const report *rp) {
    size_t ns = sim_recording_n_samples(rec);
    sim_view_model *m = malloc(sizeof *m);
    series *ss = calloc(MAX_PARTS, sizeof *ss);
    series *hw = calloc(MAX_PARTS, sizeof *hw);
    if (!m || !ss || !hw) {
        free(m);
        free(ss);
        free(hw);
        return;
    }
    series_init(&ss[0], "used (MiB)", 0);
    series_init(&ss[1], "waiting threads", 1);
    int n_parts = 0;
    /* at most ~4 points per bin: enough for the eye, small enough for the page */
    size_t stride = ns / (size_t)(rp->n_bins * 3) + 1;
    for (size_t i = 0; i < ns; i += stride) {
        uint64_t after;
        if (sim_recording_sample(rec, i, m, &after))
            break;
        double t = after ? (double)sim_recording_t_us(rec, after) / 1e6 : 0;
        if (t < 0)
            t = 0;
        point(&ss[0], t, (double)m->pool.used / (1 << 20));
        point(&ss[1], t, m->pool.waiters);
        for (int p = 0; p < m->n_map && p < MAX_PARTS; p++) {
            if (p >= n_parts) {
                char name[64];
                snprintf(name, sizeof name, "%.40s-%d", m->map[p].topic, m->map[p].partition);
                series_init(&hw[p], name, p);
                n_parts = p + 1;
            }
            point(&hw[p], t, (double)m->map[p].high_watermark);
        }
    }
    chart(o, "pool", "Buffer pool in use (buffer.memory)", "MiB / threads", rp->t_end_s, ss, 2,
          rp);
    chart(o, "hw", "High watermark per partition", "offset", rp->t_end_s, hw, n_parts, rp);
    /* ISR size per partition, same samples */
    for (int p = 0; p < n_parts; p++) {
        hw[p].n = 0;
        hw[p].dashed = p % 2 == 1;
    }
    for (size_t i = 0; i < ns; i += stride) {
        uint64_t after;
        if (sim_recording_sample(rec, i, m, &after))
            break;
        double t = after ? (double)sim_recording_t_us(rec, after) / 1e6 : 0;
        for (int p = 0; p < m->n_map && p < n_parts; p++)
            point(&hw[p], t < 0 ? 0 : t, m->map[p].n_isr + 0.04 * (p % 5)); /* lines apart */
    }
    chart(o, "isr", "ISR size per partition (lines nudged apart)", "replicas in sync",
          rp->t_end_s, hw, n_parts, rp);
    free(m);
    free(ss);
    free(hw);
}

int sim_report_html(sim_recording *rec, FILE *o, char *errbuf, size_t errsize) {
    report *rp = calloc(1, sizeof *rp);
    if (!rp) {
        snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    int rc = gather(rec, rp, errbuf, errsize);
    const sim_scenario *s = sim_recording_scenario(rec);
    if (rc == 0) {
        fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<title>Courier run: ");
        esc(o, s->name);
        fprintf(o, "</title>\n<style>\nbody{font-family:sans-serif;margin:1.5em;color:#222}"
                   "h1{font-size:1.5em}h2{font-size:1.1em;margin:1.2em 0 .2em}"
                   "table.audit{border-collapse:collapse}table.audit td,table.audit th{border:1px "
                   "solid #bbb;padding:2px 8px;text-align:left}td.n{text-align:right}"
                   "tr.bad td{background:#fdd;font-weight:bold}p.note{color:#555}\n</style>\n"
                   "</head>\n<body>\n<h1>Courier run: ");
        esc(o, s->name);
        fprintf(o, "</h1>\n<p>");
        esc(o, s->description);
        fprintf(o, "</p>\n<p class=\"note\">Report by courier ");
        esc(o, sim_version());
        fprintf(o, " (courier --version).</p>\n<p class=\"note\">Simulated time on every x axis (%.1f s, bins of %g s); "
                   "dashed red lines are the timeline's faults (hover for details).</p>\n",
                rp->t_end_s, rp->bin_s);
        audit_table(o, rec);

        series *ss = calloc(2 * NODES + 4, sizeof *ss);
        if (!ss) {
            snprintf(errbuf, errsize, "out of memory");
            rc = -1;
        } else {
            double bs = rp->bin_s;
            series_init(&ss[0], "sent", 0);
            series_init(&ss[1], "acknowledged", 2);
            series_init(&ss[2], "failed", 1);
            for (int b = 0; b < rp->n_bins; b++) {
                double t = (b + 0.5) * bs;
                point(&ss[0], t, (double)rp->sent[b] / bs);
                point(&ss[1], t, (double)rp->acked[b] / bs);
                point(&ss[2], t, (double)rp->failed[b] / bs);
            }
            chart(o, "records", "Records per second", "records/s", rp->t_end_s, ss, 3, rp);

            series_init(&ss[0], "records per request", 0);
            series_init(&ss[1], "records per batch", 2);
            series_init(&ss[2], "batch size (100 B)", 3);
            for (int b = 0; b < rp->n_bins; b++) {
                double t = (b + 0.5) * bs;
                if (rp->requests[b])
                    point(&ss[0], t, (double)rp->drained_records[b] / (double)rp->requests[b]);
                if (rp->drained_batches[b]) {
                    point(&ss[1], t,
                          (double)rp->drained_records[b] / (double)rp->drained_batches[b]);
                    point(&ss[2], t,
                          (double)rp->drained_bytes[b] / (double)rp->drained_batches[b] / 100);
                }
            }
            chart(o, "batching", "Batching: records per request, per batch, batch size",
                  "records / 100 B", rp->t_end_s, ss, 3, rp);

            int k = 0;
            for (int n = 1; n <= rp->n_nodes; n++) {
                char name[48];
                snprintf(name, sizeof name, "broker %d p50", n);
                series_init(&ss[k], name, n - 1);
                snprintf(name, sizeof name, "broker %d p99", n);
                series_init(&ss[k + 1], name, n - 1);
                ss[k + 1].dashed = true;
                for (int b = 0; b < rp->n_bins; b++) {
                    lat_bin *lb = &rp->lat[n][b];
                    if (!lb->n)
                        continue;
                    double t = (b + 0.5) * bs;
                    point(&ss[k], t, pct(lb, 0.5));
                    point(&ss[k + 1], t, pct(lb, 0.99));
                }
                k += 2;
            }
            chart(o, "latency", "Produce request latency per broker (p50 solid, p99 dashed)",
                  "ms", rp->t_end_s, ss, k, rp);

            for (int n = 1; n <= rp->n_nodes; n++) {
                char name[48];
                snprintf(name, sizeof name, "broker %d", n);
                series_init(&ss[n - 1], name, n - 1);
                for (int b = 0; b < rp->n_bins; b++)
                    point(&ss[n - 1], (b + 0.5) * bs, rp->inflight_max[n][b]);
            }
            chart(o, "inflight", "Produce requests in flight per broker (most in each bin)",
                  "requests", rp->t_end_s, ss, rp->n_nodes, rp);
            free(ss);
            sampled_charts(o, rec, rp);
        }
        fprintf(o, "<h2 id=\"faults\">Faults</h2>\n<ul>\n");
        for (int i = 0; i < rp->n_faults; i++) {
            fprintf(o, "<li>%.3f s: ", rp->faults[i].t_s);
            esc(o, rp->faults[i].label);
            fprintf(o, "</li>\n");
        }
        if (!rp->n_faults)
            fprintf(o, "<li>none</li>\n");
        fprintf(o, "</ul>\n<p class=\"note\">Made by courier replay --html from a recording "
                   "(docs/replay.md).</p>\n</body>\n</html>\n");
    }
    for (int n = 0; n < NODES; n++)
        for (int b = 0; b < MAX_BINS; b++)
            free(rp->lat[n][b].v);
    free(rp->pend);
    free(rp);
    return rc;
}

int sim_report_html_write(sim_recording *rec, const char *path, char *errbuf, size_t errsize) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(errbuf, errsize, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = sim_report_html(rec, f, errbuf, errsize);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(errbuf, errsize, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}
