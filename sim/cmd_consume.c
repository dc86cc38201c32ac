/* courier consume — read a topic back from any Kafka-protocol cluster, kcat -C / -G style.
 *
 * Built on sim/reader.c (ApiVersions, Metadata, ListOffsets, Fetch over the real protocol), so
 * a class needs nothing else to see what it produced: `courier consume -b ... -t t -e`. Every
 * partition (or one, -p) is read from -o (beginning, end, an absolute offset N, or -N: N
 * before the end), one line per record in -f's format; with -e it exits once every partition
 * reached the end it had when the command started, without -e it follows new records until
 * SIGINT/SIGTERM. With -G GROUP it is a member of a consumer group instead (sim/group_member.c:
 * join, share the partitions, heartbeat, commit, leave), printing its assignments on stderr as
 * kcat -G does; this file only prints.
 */
#include "sim/cmd.h"
#include "sim/group_member.h"
#include "sim/reader.h"
#include "sim/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    O_BOOTSTRAP = 1,
    O_TOPIC,
    O_OFFSET,
    O_EXIT,
    O_FORMAT,
    O_PARTITION,
    O_COUNT,
    O_TIMEOUT,
    O_GROUP,
    O_SET
};
static const sim_opt consume_opts[] = {
    {O_BOOTSTRAP, 'b', NULL, SIM_OPT_STRING, "HOST:PORT[,...]", 0, 0, NULL, false,
     "bootstrap servers (required)"},
    {O_TOPIC, 't', NULL, SIM_OPT_STRING, "TOPIC", 0, 0, NULL, false,
     "the topic to read (required)"},
    {O_OFFSET, 'o', NULL, SIM_OPT_STRING, "beginning|end|N|-N", 0, 0, NULL, false,
     "where to start in each partition (default beginning; -N: N records before the end)"},
    {O_EXIT, 'e', NULL, SIM_OPT_FLAG, NULL, 0, 0, NULL, false,
     "exit when every partition reached its end (otherwise follow new records)"},
    {O_FORMAT, 'f', NULL, SIM_OPT_STRING, "FORMAT", 0, 0, NULL, false,
     "output format, kcat's tokens: %s value, %k key, %p partition, %o offset, %T timestamp, "
     "%t topic, %S/%K value/key size, %h headers, \\n \\t (default \"%s\\n\")"},
    {O_PARTITION, 'p', NULL, SIM_OPT_INT, "PARTITION", 0, 2147483647, NULL, false,
     "read only this partition"},
    {O_COUNT, 'c', NULL, SIM_OPT_INT, "COUNT", 1, 1e15, NULL, false,
     "exit after COUNT records"},
    {O_TIMEOUT, 0, "timeout-ms", SIM_OPT_INT, "MS", 1, 3600000, NULL, false,
     "deadline of each network wait (default 10000; with -G: request.timeout.ms, default 30000)"},
    {O_GROUP, 'G', NULL, SIM_OPT_STRING, "GROUP", 0, 0, NULL, false,
     "read as a member of consumer group GROUP (group.id): the group shares the partitions, "
     "commits and resumes; -o beginning|end then sets auto.offset.reset"},
    {O_SET, 'X', NULL, SIM_OPT_STRING, "key=value", 0, 0, NULL, true,
     "a consumer group setting with Kafka's name (with -G), e.g. -X session.timeout.ms=10000 "
     "-X auto.offset.reset=earliest (repeatable)"},
    {0},
};

const sim_cmd_spec sim_cmd_consume_spec = {
    .name = "consume",
    .summary = "read a topic back from a Kafka cluster (kcat -C style)",
    .description =
        "Reads a topic with Courier's own reader (ApiVersions, Metadata, ListOffsets, Fetch; "
        "RecordBatch v2, compressed or not) from any Kafka-protocol cluster: courier broker, "
        "librdkafka's mock cluster or a real one. One line per record in -f's format.\n\n"
        "With -G GROUP it joins the consumer group GROUP (the classic protocol: "
        "FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetCommit, OffsetFetch, "
        "LeaveGroup) and reads only the partitions the group gives it, sharing them with the "
        "other members (courier, kcat -G, kafka-python, Java) by the range assignor. It "
        "resumes from the group's committed offsets (where there are none: auto.offset.reset, "
        "latest unless -o beginning), commits every auto.commit.interval.ms and before giving "
        "partitions up, and leaves the group on exit; each assignment is printed on stderr as "
        "kcat -G prints it. Settings keep Kafka's names and defaults: session.timeout.ms 45000, "
        "heartbeat.interval.ms 3000, max.poll.interval.ms 300000, enable.auto.commit true, "
        "auto.commit.interval.ms 5000, auto.offset.reset latest, request.timeout.ms 30000, "
        "partition.assignment.strategy range (docs/consumers.md).",
    .footer = "SIGINT or SIGTERM stops reading (with -G: commits and leaves the group first); -e "
              "with -G exits when every partition assigned to it reached its end. Errors name the "
              "partition and the broker.\n\n"
              "Exit code: 0 when the end was reached (-e), the count was read (-c) or a signal "
              "stopped it; 1 when the cluster could not be read; 2 bad usage.",
    .opts = consume_opts,
    .main = sim_cmd_consume,
};

typedef struct consume_state {
    const char *topic;
    const char *group; /* -G, or NULL */
    const char *format;
    int64_t count; /* records printed */
    int64_t max;   /* -c, or -1 */
} consume_state;

static void put_bytes(kw_slice s, FILE *out) {
    if (s.len > 0)
        fwrite(s.p, 1, (size_t)s.len, out);
}

/* Prints one record by the format (kcat's tokens). */
static int print_record(void *opaque, int32_t partition, const kw_record *rec) {
    consume_state *st = opaque;
    FILE *out = stdout;
    for (const char *f = st->format; *f; f++) {
        if (*f == '\\' && f[1]) {
            f++;
            fputc(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f == 'r' ? '\r' : *f, out);
            continue;
        }
        if (*f != '%' || !f[1]) {
            fputc(*f, out);
            continue;
        }
        switch (*++f) {
        case 's':
            put_bytes(rec->value, out);
            break;
        case 'k':
            put_bytes(rec->key, out);
            break;
        case 'S':
            fprintf(out, "%d", (int)rec->value.len);
            break;
        case 'K':
            fprintf(out, "%d", (int)rec->key.len);
            break;
        case 'p':
            fprintf(out, "%d", (int)partition);
            break;
        case 'o':
            fprintf(out, "%lld", (long long)rec->offset);
            break;
        case 'T':
            fprintf(out, "%lld", (long long)rec->timestamp);
            break;
        case 't':
            fputs(st->topic, out);
            break;
        case 'h':
            for (int32_t i = 0; i < rec->n_headers && rec->headers; i++) {
                fputs(i ? "," : "", out);
                put_bytes(rec->headers[i].key, out);
                fputc('=', out);
                put_bytes(rec->headers[i].value, out);
            }
            break;
        case '%':
            fputc('%', out);
            break;
        default:
            fputc('%', out);
            fputc(*f, out);
            break;
        }
    }
    st->count++;
    return st->max >= 0 && st->count >= st->max;
}

/* Parses -o: beginning, end, N (absolute) or -N (relative to the end). */
static int parse_offset(const char *s, int *kind, int64_t *n) {
    if (!strcmp(s, "beginning")) {
        *kind = 0;
        return 0;
    }
    if (!strcmp(s, "end")) {
        *kind = 1;
        return 0;
    }
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end)
        return -1;
    *kind = v < 0 ? 3 : 2;
    *n = v;
    return 0;
}

typedef struct part_pos {
    int64_t next;  /* next offset to read */
    int64_t end;   /* the end when the command started (-e) */
    bool done;
} part_pos;

/* Where each partition starts; fills pos[]. */
static int start_positions(sim_reader *r, int32_t lo, int32_t hi, int kind, int64_t n,
                           part_pos *pos) {
    for (int32_t p = lo; p < hi; p++) {
        int64_t first, last;
        int rc = sim_reader_offsets(r, p, &first, &last);
        if (rc)
            return rc;
        part_pos *pp = &pos[p - lo];
        pp->end = last;
        pp->next = kind == 0 ? first : kind == 1 ? last : kind == 2 ? n : last + n;
        if (pp->next < first)
            pp->next = first;
        if (pp->next > last && kind != 2)
            pp->next = last;
    }
    return 0;
}

/* The read loop: one Fetch round over the partitions; waits briefly when nothing came. */
static int consume_loop(sim_reader *r, int32_t lo, int32_t hi, part_pos *pos, bool exit_at_end,
                        consume_state *st) {
    for (;;) {
        bool progress = false, all_done = true;
        for (int32_t p = lo; p < hi; p++) {
            part_pos *pp = &pos[p - lo];
            if (exit_at_end && pp->next >= pp->end)
                pp->done = true;
            if (pp->done)
                continue;
            all_done = false;
            int64_t next = pp->next, hw = -1;
            int rc = sim_reader_poll(r, p, pp->next, 0, print_record, st, &next, &hw);
            if (rc) {
                fflush(stdout);
                return rc;
            }
            progress |= next > pp->next;
            pp->next = next;
            if (st->max >= 0 && st->count >= st->max)
                return 0;
        }
        fflush(stdout);
        if (all_done || sim_signals_caught())
            return 0;
        if (!progress && sim_signals_wait(100))
            return 0;
    }
}

/* ---- -G: a consumer group member ---- */

/* "% Group g rebalanced (memberid m, generation 3): assigned: t [0], t [1]" on stderr, as
 * kcat -G prints it (tests and people read it). */
static void print_rebalance(void *opaque, bool assigned, const int32_t *parts, int n,
                            int32_t generation, const char *member_id) {
    const consume_state *st = opaque;
    char q[300];
    fprintf(stderr, "%% Group %s rebalanced (memberid %s, generation %d): %s:", st->group,
            sim_escape(member_id, q, sizeof q), (int)generation,
            assigned ? "assigned" : "revoked");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s [%d]", i ? "," : "", st->topic, (int)parts[i]);
    fprintf(stderr, "%s\n", n ? "" : " (none)");
    fflush(stderr);
}

static void print_log(void *opaque, const char *line) {
    (void)opaque;
    char q[600];
    fprintf(stderr, "%% courier consume: %s\n", sim_escape(line, q, sizeof q));
    fflush(stderr);
}

/* The member's loop: poll, print, until a signal, -c or (-e) the end of its partitions. */
static int group_loop(sim_group_member *gm, bool exit_at_end, consume_state *st) {
    for (;;) {
        bool progress = false;
        int rc = sim_gm_poll(gm, print_record, st, &progress);
        fflush(stdout);
        if (rc)
            return rc;
        if ((st->max >= 0 && st->count >= st->max) || (exit_at_end && sim_gm_at_end(gm)) ||
            sim_signals_caught())
            return 0;
        if (!progress && sim_signals_wait(100))
            return 0;
    }
}

/* courier consume -G: the settings (-o, then -X in order), the member, its loop. */
static int consume_group(const char *bootstrap, const sim_cli_args *args, int offset_kind,
                         bool exit_at_end, consume_state *st) {
    const sim_cli_arg *timeout = sim_cli_last(args, O_TIMEOUT);
    char err[600], esc[700];
    sim_gm_conf *conf = sim_gm_conf_new();
    if (!conf) {
        fprintf(stderr, "courier consume: out of memory\n");
        return 1;
    }
    int rc = sim_gm_conf_set(conf, "group.id", st->group, err, sizeof err);
    if (!rc && offset_kind >= 0)
        rc = sim_gm_conf_set(conf, "auto.offset.reset", offset_kind == 0 ? "earliest" : "latest",
                             err, sizeof err);
    if (!rc && timeout) /* --timeout-ms is the member's request.timeout.ms (-X still wins) */
        rc = sim_gm_conf_set(conf, "request.timeout.ms", timeout->text, err, sizeof err);
    for (size_t i = 0; !rc && i < args->n; i++) {
        if (args->v[i].opt->id != O_SET)
            continue;
        const char *kv = args->v[i].text, *eq = strchr(kv, '=');
        char key[128];
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
            snprintf(err, sizeof err, "-X '%s': expected key=value", sim_escape(kv, esc, 200));
            rc = -1;
            break;
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        rc = sim_gm_conf_set(conf, key, eq + 1, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "courier consume: -X %s\n", err);
        sim_gm_conf_destroy(conf);
        return 2;
    }
    sim_group_member *gm = NULL;
    rc = sim_gm_new(bootstrap, st->topic, conf, print_rebalance, print_log, st, &gm, err,
                    sizeof err);
    sim_gm_conf_destroy(conf);
    if (rc) {
        fprintf(stderr, "courier consume: %s\n", sim_escape(err, esc, sizeof esc));
        return rc == KW_ERR__INVALID_ARG ? 2 : 1;
    }
    rc = group_loop(gm, exit_at_end, st);
    if (rc)
        fprintf(stderr, "courier consume: %s\n", sim_escape(sim_gm_error(gm), esc, sizeof esc));
    sim_gm_close(gm);
    return rc ? 1 : 0;
}

int sim_cmd_consume(int argc, char **argv) {
    sim_cli_args args;
    int prc = sim_cli_begin(&sim_cmd_consume_spec, argc, argv, &args);
    if (prc >= 0)
        return prc;
    const char *bootstrap = NULL, *offset = "beginning";
    consume_state st = {NULL, NULL, "%s\\n", 0, -1};
    bool offset_given = false, settings = false;
    bool exit_at_end = false;
    int64_t only = -1, timeout_ms = 10000;
    for (size_t i = 0; i < args.n; i++) {
        const sim_cli_arg *a = &args.v[i];
        switch (a->opt->id) {
        case O_BOOTSTRAP:
            bootstrap = a->text;
            break;
        case O_TOPIC:
            st.topic = a->text;
            break;
        case O_OFFSET:
            offset = a->text;
            offset_given = true;
            break;
        case O_GROUP:
            st.group = a->text;
            break;
        case O_SET:
            settings = true;
            break;
        case O_EXIT:
            exit_at_end = true;
            break;
        case O_FORMAT:
            st.format = a->text;
            break;
        case O_PARTITION:
            only = a->i;
            break;
        case O_COUNT:
            st.max = a->i;
            break;
        case O_TIMEOUT:
            timeout_ms = a->i;
            break;
        }
    }
    int kind = 0;
    int64_t n = 0;
    int rc = 2;
    char esc[200];
    if (!bootstrap || !st.topic)
        fprintf(stderr, "courier consume: %s is required (try --help)\n",
                !bootstrap ? "-b HOST:PORT" : "-t TOPIC");
    else if (parse_offset(offset, &kind, &n))
        fprintf(stderr, "courier consume: -o: '%s' is not beginning, end, N or -N\n",
                sim_escape(offset, esc, sizeof esc));
    else if (st.group && (kind > 1 || only >= 0))
        fprintf(stderr, "courier consume: -G: %s: a group member reads the partitions the group "
                        "gives it, from the committed offsets (-o beginning|end sets "
                        "auto.offset.reset)\n",
                only >= 0 ? "-p is not used with -G" : "-o N is not used with -G");
    else if (!st.group && settings)
        fprintf(stderr, "courier consume: -X sets consumer group settings: use it with -G GROUP\n");
    else if (st.group && !st.group[0])
        fprintf(stderr, "courier consume: -G: the group id is empty\n");
    else
        rc = -1;
    if (rc == 2) {
        sim_cli_args_free(&args);
        return 2;
    }
    if (st.group) {
        rc = consume_group(bootstrap, &args, offset_given ? kind : -1, exit_at_end, &st);
        sim_cli_args_free(&args);
        return rc;
    }
    sim_reader *r = NULL;
    char err[600];
    if (sim_reader_open(bootstrap, st.topic, (int)timeout_ms, &r, err, sizeof err)) {
        fprintf(stderr, "courier consume: %s\n", sim_escape(err, esc, sizeof esc));
        sim_cli_args_free(&args);
        return 1;
    }
    int32_t lo = 0, hi = sim_reader_partition_count(r);
    if (only >= 0) {
        if (only >= hi) {
            fprintf(stderr, "courier consume: -p %lld: topic has %d partitions\n",
                    (long long)only, (int)hi);
            sim_reader_close(r);
            sim_cli_args_free(&args);
            return 2;
        }
        lo = (int32_t)only;
        hi = lo + 1;
    }
    part_pos *pos = calloc((size_t)(hi - lo), sizeof *pos);
    rc = pos ? start_positions(r, lo, hi, kind, n, pos) : KW_ERR__NO_MEMORY;
    if (!rc)
        rc = consume_loop(r, lo, hi, pos, exit_at_end, &st);
    if (rc)
        fprintf(stderr, "courier consume: %s\n", sim_escape(sim_reader_error(r), esc, sizeof esc));
    free(pos);
    sim_reader_close(r);
    sim_cli_args_free(&args);
    return rc ? 1 : 0;
}
