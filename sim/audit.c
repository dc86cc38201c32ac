/* The audit (the inspector): compares what the producer told the application (the delivery
 * reports the runner kept per record) with what the cluster's partition logs hold (read with
 * the mock broker's inspection API: each record's value starts with "<id>|").
 *
 *   lost        acknowledged, but no copy in the surviving (leader) log, at or above the
 *               partition's log start offset
 *   deleted by retention  acknowledged, at an offset retention has deleted (below the log
 *               start offset): gone by the topic's retention.bytes/retention.ms, not lost
 *   duplicated  copies beyond the first
 *   reordered   per key and producing thread (per partition and thread for keyless records):
 *               a record found in the log after a record that was sent later
 */
#include "sim/runner_int.h"

#include "sim/foreign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- reading the logs ------------------------------------------------------------------- */

/* Parses the "<id>|" tag at the start of a value; -1 when it is not one of ours. */
static int64_t value_id(const uint8_t *v, int32_t len, int64_t max) {
    int64_t id = 0;
    int i = 0;
    for (; i < len && i < 19 && v[i] >= '0' && v[i] <= '9'; i++)
        id = id * 10 + (v[i] - '0');
    if (i == 0 || i >= len || v[i] != '|' || id >= max)
        return -1;
    return id;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void add_failure(sim_audit *a, int32_t err) {
    for (int i = 0; i < a->n_failed_by; i++)
        if (a->failed_by[i].err == err) {
            a->failed_by[i].count++;
            return;
        }
    if (a->n_failed_by < SIM_AUDIT_MAX_ERRS) {
        sim_audit_err *e = &a->failed_by[a->n_failed_by++];
        e->err = err;
        sim_copy(e->name, sizeof e->name, kw_err_name((kw_err)err));
        e->count = 1;
    }
}

static int cmp_failure(const void *a, const void *b) {
    const sim_audit_err *x = a, *y = b;
    return (y->count > x->count) - (y->count < x->count);
}

/* The order and copy count of this run's records, as a partition's log is read in offset
 * order (one tally for both sources). */
typedef struct tally {
    sim_runner *r;
    uint32_t *copies; /* per record id */
    int64_t *last;    /* per ordering group: the highest id seen so far */
    int groups_n;
    int64_t reordered;
    int64_t log_start[SIM_MAX_PARTITIONS]; /* per partition, 0 when unknown */
} tally;

/* One record of partition p found in the log. */
static void tally_value(tally *t, int32_t p, const uint8_t *value, int32_t len) {
    const sim_workload_spec *w = &t->r->s->workload;
    int64_t id = len > 0 ? value_id(value, len, t->r->max_records) : -1;
    if (id < 0)
        return;
    const sim_rec *sr = &t->r->recs[id];
    if (t->copies[id]++ > 0)
        return; /* a duplicate: order is judged on first copies */
    int g = w->keys > 0 && sr->key >= 0 ? sr->key * w->threads + sr->thread
                                        : p * w->threads + sr->thread;
    if (g < 0 || g >= t->groups_n)
        return;
    if (id < t->last[g])
        t->reordered++;
    else
        t->last[g] = id;
}

/* Source 1, the mock cluster: its logs through the inspection API (leader logs, from 0). */
static void read_mock_logs(sim_runner *r, sim_audit *a, tally *t) {
    const char *topic = r->s->workload.topic;
    snprintf(a->log_source, sizeof a->log_source, "the mock cluster's logs (inspection API)");
    int parts = mb_topic_partition_count(r->cluster, topic);
    if (parts < 0) {
        a->log_read_error = true;
        snprintf(a->log_error, sizeof a->log_error, "topic %s: %s", topic, mb_err_name(parts));
        parts = 0;
    }
    for (int p = 0; p < parts; p++) {
        mb_partition_info pi;
        if (mb_partition_info_get(r->cluster, topic, p, &pi) == MB_OK) {
            if (p < SIM_MAX_PARTITIONS)
                t->log_start[p] = pi.log_start_offset;
            a->log_bytes += pi.bytes;
            a->log_raw_bytes += pi.raw_bytes;
        }
        mb_record_iter *it = NULL;
        int rc = mb_record_iter_new(r->cluster, topic, p, 0, &it);
        if (rc != MB_OK) {
            a->log_read_error = true;
            snprintf(a->log_error, sizeof a->log_error, "%s[%d]: %s", topic, p, mb_err_name(rc));
            continue;
        }
        mb_record rec;
        while ((rc = mb_record_iter_next(it, &rec)) == MB_OK)
            tally_value(t, p, rec.value, rec.value_len);
        if (rc != MB_ERR_END) {
            a->log_read_error = true;
            snprintf(a->log_error, sizeof a->log_error, "%s[%d]: %s", topic, p, mb_err_name(rc));
        }
        mb_record_iter_destroy(it);
    }
}

static int on_read_back(void *opaque, int32_t partition, const kw_record *rec) {
    tally_value(opaque, partition, rec->value.p, rec->value.len);
    return 0;
}

/* Source 2, a cluster Courier does not own: the topic read back as a consumer reads it
 * (ListOffsets before the run, Fetch from those offsets after it, every partition,
 * READ_UNCOMMITTED), see sim/foreign.h. */
static void read_back_foreign(sim_runner *r, sim_audit *a, tally *t) {
    snprintf(a->log_source, sizeof a->log_source,
             "read back from %s (ListOffsets before the run, then Fetch)",
             sim_foreign_bootstrap(r->foreign));
    char err[400];
    if (sim_foreign_read_back(r->foreign, on_read_back, t, err, sizeof err)) {
        a->log_read_error = true;
        sim_copy(a->log_error, sizeof a->log_error, err);
    }
}

int sim_audit_compute(sim_runner *r, sim_audit *a) {
    memset(a, 0, sizeof *a);
    const sim_scenario *s = r->s;
    const sim_workload_spec *w = &s->workload;
    int64_t n = r->max_records;

    /* 1. what the producer said */
    for (int64_t i = 0; i < n; i++) {
        uint8_t st = atomic_load_explicit(&r->recs[i].state, memory_order_acquire);
        if (st == REC_UNSENT)
            continue;
        a->sent++;
        if (st == REC_ACKED) {
            a->acknowledged++;
        } else if (st == REC_FAILED) {
            a->failed++;
            add_failure(a, r->recs[i].err);
        } else {
            a->pending++;
        }
    }
    qsort(a->failed_by, (size_t)a->n_failed_by, sizeof a->failed_by[0], cmp_failure);

    /* 2. what the cluster holds */
    uint32_t *copies = calloc((size_t)(n ? n : 1), sizeof *copies);
    int groups_n = w->keys > 0 ? w->keys * w->threads : SIM_MAX_PARTITIONS * w->threads;
    int64_t *last = malloc((size_t)groups_n * sizeof *last);
    if (!copies || !last) {
        free(copies);
        free(last);
        a->log_read_error = true;
        snprintf(a->log_error, sizeof a->log_error, "out of memory");
        return -1;
    }
    for (int g = 0; g < groups_n; g++)
        last[g] = -1;
    tally t = {r, copies, last, groups_n, 0, {0}};
    if (r->foreign)
        read_back_foreign(r, a, &t);
    else
        read_mock_logs(r, a, &t);
    a->reordered = t.reordered;
    for (int64_t i = 0; i < n; i++) {
        uint8_t st = atomic_load_explicit(&r->recs[i].state, memory_order_acquire);
        if (copies[i] > 0) {
            a->in_log++;
            a->duplicated += copies[i] - 1;
        }
        if (st == REC_ACKED && copies[i] == 0) {
            int32_t p = r->recs[i].partition;
            if (p >= 0 && p < SIM_MAX_PARTITIONS && r->recs[i].offset >= 0 &&
                r->recs[i].offset < t.log_start[p])
                a->deleted_by_retention++;
            else
                a->lost++;
        }
        if (st == REC_FAILED && copies[i] > 0)
            a->failed_in_log++;
    }
    free(copies);
    free(last);

    /* 3. producer metrics (kp_metrics), and request latencies from the producer's
     * response.received events (simulated time: avg, p99, max over every response) */
    if (r->producer) {
        kp_metrics m;
        kp_metrics_get(r->producer, &m);
        a->records_per_request_avg = m.records_per_request_avg;
        a->batch_size_avg = m.batch_size_avg;
        a->compression_rate_avg = m.compression_rate_avg;
        a->batch_bytes = (int64_t)m.batch_byte_total;
        a->batch_raw_bytes = (int64_t)m.batch_raw_byte_total;
        a->outgoing_bytes = (int64_t)m.outgoing_byte_total;
        a->retries = (int64_t)m.record_retry_total;
        a->requests = (int64_t)m.request_total;
    }
    pthread_mutex_lock(&r->lat.lock);
    if (r->lat.n > 0) {
        qsort(r->lat.us, r->lat.n, sizeof *r->lat.us, cmp_i64);
        size_t k = (size_t)ceil(0.99 * (double)r->lat.n);
        if (k > 0)
            k--;
        a->request_latency_p99_ms = (double)r->lat.us[k] / 1000.0;
        a->request_latency_max_ms = (double)r->lat.us[r->lat.n - 1] / 1000.0;
        double sum = 0;
        for (size_t i = 0; i < r->lat.n; i++)
            sum += (double)r->lat.us[i];
        a->request_latency_avg_ms = sum / (double)r->lat.n / 1000.0;
    }
    pthread_mutex_unlock(&r->lat.lock);
    a->n_brokers = s->cluster.brokers;
    for (int b = 0; r->cluster && b < s->cluster.brokers; b++) {
        int64_t c = mb_broker_request_count(r->cluster, b + 1, KW_API_PRODUCE);
        a->requests_per_broker[b] = c > 0 ? c : 0;
    }
    if (!r->cluster)
        a->n_brokers = 0; /* a foreign cluster: no inspection API */
    a->faults_applied = atomic_load(&r->faults_applied);
    a->faults_failed = atomic_load(&r->faults_failed);
    bool done = atomic_load(&r->state) == SIM_RUN_DONE;
    int64_t end_us = done ? r->end_us : sim_clock_now_us(r->clock);
    int64_t end_wall = done ? r->end_wall_us : 0;
    a->elapsed_ms = (end_us - r->start_us) / 1000;
    a->wall_s = done ? (double)(end_wall - r->start_wall_us) / 1e6 : 0;
    a->interrupted = atomic_load(&r->interrupted);
    return a->log_read_error ? -1 : 0;
}

/* --- metrics, expectations, reports ----------------------------------------------------- */

bool sim_audit_metric(const sim_audit *a, const char *m, double *out) {
    const struct {
        const char *name;
        double v;
    } t[] = {
        {"sent", (double)a->sent},
        {"acknowledged", (double)a->acknowledged},
        {"failed", (double)a->failed},
        {"pending", (double)a->pending},
        {"in_log", (double)a->in_log},
        {"lost", (double)a->lost},
        {"deleted_by_retention", (double)a->deleted_by_retention},
        {"duplicated", (double)a->duplicated},
        {"reordered", (double)a->reordered},
        {"failed_in_log", (double)a->failed_in_log},
        {"records_per_request_avg", a->records_per_request_avg},
        {"batch_size_avg", a->batch_size_avg},
        {"compression_rate_avg", a->compression_rate_avg},
        {"log_bytes", (double)a->log_bytes},
        {"log_raw_bytes", (double)a->log_raw_bytes},
        {"outgoing_bytes", (double)a->outgoing_bytes},
        {"request_latency_avg_ms", a->request_latency_avg_ms},
        {"request_latency_p99_ms", a->request_latency_p99_ms},
        {"retries", (double)a->retries},
        {"requests", (double)a->requests},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, m)) {
            *out = t[i].v;
            return true;
        }
    if (!strncmp(m, "failed.", 7)) {
        *out = 0;
        for (int i = 0; i < a->n_failed_by; i++)
            if (!strcmp(a->failed_by[i].name, m + 7))
                *out = (double)a->failed_by[i].count;
        return true;
    }
    return false;
}

static bool holds(const sim_expect *e, double v) {
    switch (e->op) {
    case SIM_CMP_EQ:
        return v == e->value;
    case SIM_CMP_NE:
        return v != e->value;
    case SIM_CMP_LT:
        return v < e->value;
    case SIM_CMP_LE:
        return v <= e->value;
    case SIM_CMP_GT:
        return v > e->value;
    case SIM_CMP_GE:
        return v >= e->value;
    }
    return false;
}

int sim_audit_check(const sim_audit *a, const sim_scenario *s, FILE *unmet) {
    return sim_audit_check_lang(a, s, false, unmet);
}

int sim_audit_check_lang(const sim_audit *a, const sim_scenario *s, bool zh, FILE *unmet) {
    int failed = 0;
    int max_group = 0;
    for (int i = 0; i < s->n_expect; i++) {
        const sim_expect *e = &s->expect[i];
        if (e->group > max_group)
            max_group = e->group;
        if (e->group)
            continue;
        double v = 0;
        sim_audit_metric(a, e->metric, &v);
        if (!holds(e, v)) {
            failed++;
            if (unmet)
                fprintf(unmet,
                        zh ? "预期 %s: 未满足, 实际 %s = %g\n" : "expect %s: unmet, got %s = %g\n",
                        e->text, e->metric, v);
        }
    }
    for (int g = 1; g <= max_group; g++) {
        bool any = false;
        char got[512] = "";
        size_t n = 0;
        for (int i = 0; i < s->n_expect; i++) {
            const sim_expect *e = &s->expect[i];
            if (e->group != g)
                continue;
            double v = 0;
            sim_audit_metric(a, e->metric, &v);
            if (holds(e, v))
                any = true;
            if (n < sizeof got)
                n += (size_t)snprintf(got + n, sizeof got - n, "%s%s = %g", n ? ", " : "",
                                      e->metric, v);
        }
        if (!any) {
            failed++;
            if (unmet) {
                fprintf(unmet, zh ? "预期以下任一成立 (" : "expect any of (");
                bool first = true;
                for (int i = 0; i < s->n_expect; i++)
                    if (s->expect[i].group == g) {
                        fprintf(unmet, "%s%s", first ? "" : zh ? " 或 " : " or ",
                                s->expect[i].text);
                        first = false;
                    }
                fprintf(unmet, zh ? "): 未满足, 实际 %s\n" : "): unmet, got %s\n", got);
            }
        }
    }
    return failed;
}

void sim_audit_print_verdict(int unmet, bool zh, FILE *out) {
    if (zh)
        fprintf(out, "预期: %s\n", unmet ? "未满足 (见上)" : "全部满足");
    else
        fprintf(out, "expect: %s\n", unmet ? "UNMET (see above)" : "all met");
}

void sim_audit_print_text(const sim_audit *a, const sim_scenario *s, FILE *out) {
    sim_audit_print_text_lang(a, s, false, out);
}

/* The report's words in the class's language: both formats take the same arguments. */
#define TR(en, zh) (zh_ ? (zh) : (en))

void sim_audit_print_text_lang(const sim_audit *a, const sim_scenario *s, bool zh_, FILE *out) {
    fprintf(out, TR("== audit: %s%s ==\n", "== 审计: %s%s ==\n"), s->name,
            a->interrupted ? TR(" (interrupted: partial)", " (已中断: 不完整)") : "");
    fprintf(out, TR("what the producer said\n", "生产者被告知的结果\n"));
    fprintf(out, TR("  sent              %10lld\n", "  已发送            %10lld\n"),
            (long long)a->sent);
    fprintf(out, TR("  acknowledged      %10lld\n", "  已确认            %10lld\n"),
            (long long)a->acknowledged);
    fprintf(out, TR("  failed            %10lld\n", "  失败              %10lld\n"),
            (long long)a->failed);
    for (int i = 0; i < a->n_failed_by; i++)
        fprintf(out, "    %-28s %10lld\n", a->failed_by[i].name, (long long)a->failed_by[i].count);
    if (a->pending)
        fprintf(out, TR("  no outcome        %10lld\n", "  无结果            %10lld\n"),
                (long long)a->pending);
    /* where the logs were read: the source's own words in English, a summary in Chinese */
    const char *source = a->log_source[0] ? a->log_source : "read from the partition logs";
    if (zh_)
        source = strstr(source, "read back from") ? "作为消费者从外部集群读回"
                                                  : "读自模拟集群各分区的日志";
    fprintf(out, TR("what the cluster holds (%s)\n", "集群实际保存的内容 (%s)\n"), source);
    fprintf(out, TR("  records in log    %10lld\n", "  日志中的记录      %10lld\n"),
            (long long)a->in_log);
    if (a->log_raw_bytes > a->log_bytes)
        fprintf(out,
                TR("  bytes in log      %10lld   (%lld before compression)\n",
                   "  日志字节数        %10lld   (压缩前 %lld)\n"),
                (long long)a->log_bytes, (long long)a->log_raw_bytes);
    else
        fprintf(out, TR("  bytes in log      %10lld\n", "  日志字节数        %10lld\n"),
                (long long)a->log_bytes);
    fprintf(out,
            TR("  lost              %10lld   (acknowledged, not in the log)\n",
               "  丢失              %10lld   (已确认, 却不在日志中)\n"),
            (long long)a->lost);
    if (a->deleted_by_retention)
        fprintf(out,
                TR("  deleted by retention %7lld   (acknowledged, below the log start offset)\n",
                   "  保留策略删除      %10lld   (已确认, 位于日志起始偏移之前)\n"),
                (long long)a->deleted_by_retention);
    fprintf(out,
            TR("  duplicated        %10lld   (extra copies in the log)\n",
               "  重复              %10lld   (日志中多余的副本)\n"),
            (long long)a->duplicated);
    fprintf(out,
            TR("  reordered         %10lld   (per key: found after a later-sent record)\n",
               "  乱序              %10lld   (同一键: 出现在更晚发送的记录之后)\n"),
            (long long)a->reordered);
    if (a->failed_in_log)
        fprintf(out, TR("  failed, yet in log%10lld\n", "  失败却在日志中    %10lld\n"),
                (long long)a->failed_in_log);
    if (a->log_read_error)
        fprintf(out,
                TR("  WARNING: the logs could not be read completely: %s\n",
                   "  警告: 日志没能完整读取: %s\n"),
                a->log_error);
    fprintf(out, TR("producer metrics\n", "生产者指标\n"));
    fprintf(out, "  records-per-request-avg %8.2f\n", a->records_per_request_avg);
    fprintf(out,
            TR("  batch-size-avg          %8.1f bytes\n", "  batch-size-avg          %8.1f 字节\n"),
            a->batch_size_avg);
    if (a->batch_raw_bytes > a->batch_bytes)
        fprintf(out,
                TR("  compression-rate-avg    %8.3f   batches %lld bytes sent, %lld before "
                   "compression\n",
                   "  compression-rate-avg    %8.3f   批次发出 %lld 字节, 压缩前 %lld\n"),
                a->compression_rate_avg, (long long)a->batch_bytes, (long long)a->batch_raw_bytes);
    fprintf(out,
            TR("  request-latency-avg     %8.2f ms   p99 %.2f ms   max %.2f ms\n",
               "  request-latency-avg     %8.2f ms   p99 %.2f ms   最大 %.2f ms\n"),
            a->request_latency_avg_ms, a->request_latency_p99_ms, a->request_latency_max_ms);
    fprintf(out,
            TR("  outgoing-byte-total     %8lld bytes\n", "  outgoing-byte-total     %8lld 字节\n"),
            (long long)a->outgoing_bytes);
    fprintf(out,
            TR("  produce requests        %8lld   record retries %lld\n",
               "  Produce 请求数          %8lld   记录重试 %lld\n"),
            (long long)a->requests, (long long)a->retries);
    if (a->n_brokers > 0) {
        fprintf(out, TR("  requests per broker    ", "  每个 broker 的请求数   "));
        for (int b = 0; b < a->n_brokers; b++)
            fprintf(out, " %d:%lld", b + 1, (long long)a->requests_per_broker[b]);
        fprintf(out, "\n");
    }
    if (a->faults_applied || a->faults_failed)
        fprintf(out,
                TR("faults: %d applied, %d refused by the cluster (see the trace)\n",
                   "故障: %d 个已生效, %d 个被集群拒绝 (见事件日志)\n"),
                a->faults_applied, a->faults_failed);
    fprintf(out, TR("time: %.1f s simulated, %.2f s wall\n", "时间: 模拟 %.1f 秒, 实际 %.2f 秒\n"),
            (double)a->elapsed_ms / 1000.0, a->wall_s);
}

#undef TR

void sim_audit_print_json(const sim_audit *a, const sim_scenario *s, FILE *out) {
    fprintf(out, "{\"scenario\":");
    sim_json_str(out, s->name);
    fprintf(out,
            ",\"interrupted\":%s,\"sent\":%lld,\"acknowledged\":%lld,\"failed\":%lld,"
            "\"pending\":%lld,\"failed_by\":{",
            a->interrupted ? "true" : "false", (long long)a->sent, (long long)a->acknowledged,
            (long long)a->failed, (long long)a->pending);
    for (int i = 0; i < a->n_failed_by; i++) {
        fprintf(out, "%s", i ? "," : "");
        sim_json_str(out, a->failed_by[i].name);
        fprintf(out, ":%lld", (long long)a->failed_by[i].count);
    }
    fprintf(out,
            "},\"in_log\":%lld,\"lost\":%lld,\"deleted_by_retention\":%lld,\"duplicated\":%lld,\"reordered\":%lld,"
            "\"failed_in_log\":%lld,\"log_read_error\":%s,"
            "\"records_per_request_avg\":%.3f,\"batch_size_avg\":%.1f,"
            "\"request_latency_avg_ms\":%.3f,\"request_latency_p99_ms\":%.3f,"
            "\"request_latency_max_ms\":%.3f,\"retries\":%lld,\"requests\":%lld,"
            "\"requests_per_broker\":{",
            (long long)a->in_log, (long long)a->lost, (long long)a->deleted_by_retention,
            (long long)a->duplicated,
            (long long)a->reordered, (long long)a->failed_in_log,
            a->log_read_error ? "true" : "false", a->records_per_request_avg, a->batch_size_avg,
            a->request_latency_avg_ms, a->request_latency_p99_ms, a->request_latency_max_ms,
            (long long)a->retries, (long long)a->requests);
    for (int b = 0; b < a->n_brokers; b++)
        fprintf(out, "%s\"%d\":%lld", b ? "," : "", b + 1, (long long)a->requests_per_broker[b]);
    fprintf(out,
            "},\"compression_rate_avg\":%.4f,\"batch_bytes\":%lld,\"batch_raw_bytes\":%lld,"
            "\"log_bytes\":%lld,\"log_raw_bytes\":%lld,\"outgoing_bytes\":%lld,"
            "\"faults_applied\":%d,\"faults_failed\":%d,\"elapsed_ms\":%lld,\"wall_s\":%.3f,"
            "\"expect_unmet\":%d,\"log_source\":",
            a->compression_rate_avg, (long long)a->batch_bytes, (long long)a->batch_raw_bytes,
            (long long)a->log_bytes, (long long)a->log_raw_bytes, (long long)a->outgoing_bytes,
            a->faults_applied, a->faults_failed, (long long)a->elapsed_ms, a->wall_s,
            sim_audit_check(a, s, NULL));
    sim_json_str(out, a->log_source);
    fprintf(out, "}\n");
}
