/* The live view's words and numbers (sim/view_text.c): widths, clipping, numbers, gauges,
 * batch boxes, labels, panel rows and the layout, checked without a terminal. */
#include "sim/audit.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/view.h"
#include "sim/view_feed.h"
#include "sim/view_text.h"
#include "tests/test_sim_view_words.h"
#include "tests/tu.h"

#include "protocol/kw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_width_counts_cjk_as_two_columns(void) {
    CU_ASSERT_EQUAL(sim_vt_width(""), 0);
    CU_ASSERT_EQUAL(sim_vt_width("abc"), 3);
    CU_ASSERT_EQUAL(sim_vt_width("收件员"), 6);
    CU_ASSERT_EQUAL(sim_vt_width("a收b"), 4);
    CU_ASSERT_EQUAL(sim_vt_width("\xff\xfe"), 2); /* invalid bytes: one column each */
}

static void test_clip_never_splits_a_wide_character(void) {
    char out[64];
    CU_ASSERT_EQUAL(sim_vt_clip(out, sizeof out, "收件员", 5, false), 4);
    CU_ASSERT_STRING_EQUAL(out, "收件");
    CU_ASSERT_EQUAL(sim_vt_clip(out, sizeof out, "abcdef", 4, true), 4);
    CU_ASSERT_STRING_EQUAL(out, "abc~");
    CU_ASSERT_EQUAL(sim_vt_clip(out, sizeof out, "收件员", 4, true), 3);
    CU_ASSERT_STRING_EQUAL(out, "收~");
    CU_ASSERT_EQUAL(sim_vt_clip(out, sizeof out, "abc", 10, true), 3);
    CU_ASSERT_STRING_EQUAL(out, "abc");
    CU_ASSERT_EQUAL(sim_vt_clip(out, sizeof out, "abc", 0, true), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    /* A tiny destination: bytes are the limit, and the string stays terminated. */
    char small[4];
    sim_vt_clip(small, sizeof small, "收件员", 10, false);
    CU_ASSERT_STRING_EQUAL(small, "收");
}

static void test_clip_replaces_control_characters(void) {
    char out[64];
    CU_ASSERT_EQUAL(sim_vt_clip(out, sizeof out, "a\x1b[31mb\n\t", 20, false), 9);
    CU_ASSERT_PTR_NULL(strchr(out, 0x1b));
    CU_ASSERT_STRING_EQUAL(out, "a?[31mb??");
    /* Invalid UTF-8 (a lone continuation byte, an overlong '/') becomes '?'. */
    sim_vt_clip(out, sizeof out, "x\x80y\xc0\xaf", 20, false);
    CU_ASSERT_STRING_EQUAL(out, "x?y??");
}

static void test_numbers_are_short_and_rounded(void) {
    char b[32];
    sim_vt_num(b, sizeof b, 0);
    CU_ASSERT_STRING_EQUAL(b, "0");
    sim_vt_num(b, sizeof b, 999);
    CU_ASSERT_STRING_EQUAL(b, "999");
    sim_vt_num(b, sizeof b, 1234);
    CU_ASSERT_STRING_EQUAL(b, "1.2k");
    sim_vt_num(b, sizeof b, 12345);
    CU_ASSERT_STRING_EQUAL(b, "12k");
    sim_vt_num(b, sizeof b, 999999);
    CU_ASSERT_STRING_EQUAL(b, "1.0M");
    sim_vt_num(b, sizeof b, 1234567);
    CU_ASSERT_STRING_EQUAL(b, "1.2M");
    sim_vt_num(b, sizeof b, -1500);
    CU_ASSERT_STRING_EQUAL(b, "-1.5k");
    sim_vt_num(b, sizeof b, INT64_MAX);
    CU_ASSERT(strlen(b) < 10);
    sim_vt_bytes(b, sizeof b, 512);
    CU_ASSERT_STRING_EQUAL(b, "512B");
    sim_vt_bytes(b, sizeof b, 1536);
    CU_ASSERT_STRING_EQUAL(b, "1.5K");
    sim_vt_bytes(b, sizeof b, 16384);
    CU_ASSERT_STRING_EQUAL(b, "16K");
    sim_vt_bytes(b, sizeof b, 33554432);
    CU_ASSERT_STRING_EQUAL(b, "32M");
    sim_vt_ms(b, sizeof b, 0);
    CU_ASSERT_STRING_EQUAL(b, "0ms");
    sim_vt_ms(b, sizeof b, 850);
    CU_ASSERT_STRING_EQUAL(b, "850ms");
    sim_vt_ms(b, sizeof b, 1200);
    CU_ASSERT_STRING_EQUAL(b, "1.2s");
    sim_vt_ms(b, sizeof b, 75000);
    CU_ASSERT_STRING_EQUAL(b, "75s");
    sim_vt_ms(b, sizeof b, 720000);
    CU_ASSERT_STRING_EQUAL(b, "12m");
    sim_vt_ms(b, sizeof b, -5);
    CU_ASSERT_STRING_EQUAL(b, "0ms");
    sim_vt_rate(b, sizeof b, 12.34);
    CU_ASSERT_STRING_EQUAL(b, "12.3");
    sim_vt_rate(b, sizeof b, 1234.0);
    CU_ASSERT_STRING_EQUAL(b, "1.2k");
    sim_vt_rate(b, sizeof b, 0.0 / 0.0);
    CU_ASSERT_STRING_EQUAL(b, "0.0");
    int32_t ids[] = {1, 2, 0};
    sim_vt_ids(b, sizeof b, ids, 3);
    CU_ASSERT_STRING_EQUAL(b, "1,2,0");
    sim_vt_ids(b, sizeof b, ids, 0);
    CU_ASSERT_STRING_EQUAL(b, "-");
    char tiny[4];
    sim_vt_ids(tiny, sizeof tiny, ids, 3);
    CU_ASSERT_STRING_EQUAL(tiny, "1,2");
}

static void test_gauge_is_exact_width_and_clamped(void) {
    char g[64];
    sim_vt_gauge(g, sizeof g, 12, 5, 10);
    CU_ASSERT_STRING_EQUAL(g, "[#####-----]");
    sim_vt_gauge(g, sizeof g, 12, 0, 10);
    CU_ASSERT_STRING_EQUAL(g, "[----------]");
    sim_vt_gauge(g, sizeof g, 12, 1, 1000000);
    CU_ASSERT_STRING_EQUAL(g, "[#---------]"); /* anything in use shows */
    sim_vt_gauge(g, sizeof g, 12, 50, 10);
    CU_ASSERT_STRING_EQUAL(g, "[##########]");
    sim_vt_gauge(g, sizeof g, 12, -3, 10);
    CU_ASSERT_STRING_EQUAL(g, "[----------]");
    sim_vt_gauge(g, sizeof g, 6, 3, 0);
    CU_ASSERT_STRING_EQUAL(g, "[----]");
    sim_vt_gauge(g, sizeof g, 2, 3, 10);
    CU_ASSERT_STRING_EQUAL(g, "");
    char small[5];
    sim_vt_gauge(small, sizeof small, 12, 3, 10); /* does not fit: nothing, no overflow */
    CU_ASSERT_STRING_EQUAL(small, "");
}

static void test_batch_box_shows_fill_linger_seal_and_retries(void) {
    char b[96];
    sim_vm_batch open = {.records = 12, .bytes = 8192, .linger_left_ms = 3};
    CU_ASSERT_EQUAL(sim_vt_batch_box(b, sizeof b, &open, 16384, 40), 18);
    CU_ASSERT_STRING_EQUAL(b, "[12r 8.0K/16K 3ms]");
    sim_vm_batch sealed = {.records = 20, .bytes = 16384, .sealed = true};
    sim_vt_batch_box(b, sizeof b, &sealed, 16384, 40);
    CU_ASSERT_STRING_EQUAL(b, "[20r 16K/16K S]");
    sim_vm_batch retry = {
        .records = 3, .bytes = 300, .sealed = true, .attempts = 2, .backing_off = true};
    sim_vt_batch_box(b, sizeof b, &retry, 16384, 40);
    CU_ASSERT_STRING_EQUAL(b, "[3r 300B R!!]");
    retry.attempts = 7;
    sim_vt_batch_box(b, sizeof b, &retry, 16384, 40);
    CU_ASSERT_STRING_EQUAL(b, "[3r 300B R!7]");
    /* Narrow panels get the short forms, then nothing. */
    CU_ASSERT_EQUAL(sim_vt_batch_box(b, sizeof b, &open, 16384, 8), 7);
    CU_ASSERT_STRING_EQUAL(b, "[12r o]");
    CU_ASSERT_EQUAL(sim_vt_batch_box(b, sizeof b, &sealed, 16384, 6), 4);
    CU_ASSERT_STRING_EQUAL(b, "[20]");
    CU_ASSERT_EQUAL(sim_vt_batch_box(b, sizeof b, &sealed, 16384, 3), 0);
    CU_ASSERT_STRING_EQUAL(b, "");
}

static void test_labels_exist_in_both_languages(void) {
    for (int i = 0; i < SIM_L__COUNT; i++) {
        const char *en = sim_vt_label_text(SIM_LANG_EN, (sim_vt_label)i);
        const char *zh = sim_vt_label_text(SIM_LANG_ZH, (sim_vt_label)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(en);
        CU_ASSERT_PTR_NOT_NULL_FATAL(zh);
        CU_ASSERT(en[0] != '\0');
        CU_ASSERT(zh[0] != '\0');
        CU_ASSERT(sim_vt_width(sim_vt_label_text(SIM_LANG_EN, (sim_vt_label)i)) <= 80);
    }
    CU_ASSERT_STRING_EQUAL(sim_vt_label_text(SIM_LANG_EN, SIM_L_DESK), "Front desk");
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_vt_label_text(SIM_LANG_ZH, SIM_L_DESK), "收件员"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_vt_label_text(SIM_LANG_ZH, SIM_L_SORTING), "分拣员"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_vt_label_text(SIM_LANG_ZH, SIM_L_TRUCKS), "运输车"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_vt_label_text(SIM_LANG_ZH, SIM_L_MAP), "调度员"));
    CU_ASSERT_STRING_EQUAL(sim_vt_label_text(SIM_LANG_EN, (sim_vt_label)-1), "?");
    CU_ASSERT_STRING_EQUAL(sim_vt_label_text(SIM_LANG_EN, SIM_L__COUNT), "?");
    CU_ASSERT_STRING_EQUAL(sim_vt_stage_text(SIM_LANG_EN, SIM_STAGE_APPENDED), "appended");
    CU_ASSERT_STRING_EQUAL(sim_vt_stage_text(SIM_LANG_EN, SIM_STAGE__COUNT), "?");
    CU_ASSERT_STRING_EQUAL(sim_vt_stage_text(SIM_LANG_ZH, SIM_STAGE_SENT), "已收件");
    for (int lang = 0; lang < 2; lang++) {
        const char *const *h = sim_vt_help_lines((sim_view_lang)lang);
        int n = 0;
        for (; h[n]; n++)
            CU_ASSERT(sim_vt_width(h[n]) <= 76);
        CU_ASSERT_EQUAL(n, 16);
        /* R (record the rest of the run) is on the help page */
        bool has_r = false;
        for (int i = 0; h[i]; i++)
            if (!strncmp(h[i], "R ", 2) && strstr(h[i], ".rec"))
                has_r = true;
        CU_ASSERT_TRUE(has_r);
        const char *const *lg = sim_vt_legend_lines((sim_view_lang)lang);
        for (n = 0; lg[n]; n++)
            CU_ASSERT(sim_vt_width(lg[n]) <= 76);
        CU_ASSERT(n >= 12);
    }
    /* The key help sits on the last row, whose last cell is never written. */
    CU_ASSERT(sim_vt_width(sim_vt_label_text(SIM_LANG_ZH, SIM_L_KEYS_SHORT)) <= 79);
    CU_ASSERT(sim_vt_width(sim_vt_label_text(SIM_LANG_EN, SIM_L_KEYS_SHORT)) <= 79);
}

static void test_line_clips_to_limit_and_tracks_styles(void) {
    sim_vt_line l;
    sim_vt_line_init(&l, 10);
    CU_ASSERT_EQUAL(sim_vt_line_add(&l, SIM_ST_NORMAL, "abc"), 3);
    CU_ASSERT_EQUAL(sim_vt_line_add(&l, SIM_ST_ERR, "%s", "收件员"), 6);
    CU_ASSERT_EQUAL(sim_vt_line_add(&l, SIM_ST_OK, "xyz"), 1);
    CU_ASSERT_EQUAL(l.cols, 10);
    CU_ASSERT_EQUAL(sim_vt_width(l.text), 10);
    CU_ASSERT_STRING_EQUAL(l.text, "abc收件员x");
    CU_ASSERT_EQUAL(sim_vt_line_add(&l, SIM_ST_OK, "more"), 0);
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, 0), SIM_ST_NORMAL);
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, 3), SIM_ST_ERR);
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, strlen(l.text) - 1), SIM_ST_OK);
    sim_vt_line_init(&l, 6);
    sim_vt_line_add(&l, SIM_ST_NORMAL, "ab");
    sim_vt_line_pad(&l, 5);
    CU_ASSERT_STRING_EQUAL(l.text, "ab   ");
    sim_vt_line_pad(&l, 99);
    CU_ASSERT_EQUAL(l.cols, 6);
    sim_vt_line_init(&l, 7);
    sim_vt_line_add(&l, SIM_ST_NORMAL, "ab");
    sim_vt_line_fill(&l, SIM_ST_HEADER, '=');
    CU_ASSERT_STRING_EQUAL(l.text, "ab=====");
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, 2), SIM_ST_HEADER);
    sim_vt_line_fill(&l, SIM_ST_HEADER, '=');
    CU_ASSERT_EQUAL(l.cols, 7);
    /* A limit wider than the buffer can hold is clamped, not overflowed. */
    sim_vt_line_init(&l, 100000);
    for (int i = 0; i < 400; i++)
        sim_vt_line_add(&l, (sim_vt_style)(i % SIM_ST__COUNT), "收件员");
    CU_ASSERT(l.len < sizeof l.text);
    CU_ASSERT_EQUAL(sim_vt_width(l.text), l.cols);
    CU_ASSERT(l.n_spans <= SIM_VT_MAX_SPANS);
}

static sim_view_model *sample_model(void) {
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    m.status.speed = 1.0;
    m.status.events = 4321;
    m.status.sim_ms = 12345;
    m.status.sim_us = 12345678;
    snprintf(m.status.scenario, sizeof m.status.scenario, "acks1-leader-crash");
    m.n_desk = 2;
    m.desk[0] = (sim_vm_desk_row){
        .record_id = 77, .partition = 3, .size = 120, .stage = SIM_STAGE_APPENDED};
    snprintf(m.desk[0].topic, sizeof m.desk[0].topic, "orders");
    snprintf(m.desk[0].key, sizeof m.desk[0].key, "k17");
    m.desk[1] = (sim_vm_desk_row){.record_id = 78,
                                  .partition = -1,
                                  .size = -1,
                                  .stage = SIM_STAGE_SERIALIZED,
                                  .failed = true};
    snprintf(m.desk[1].topic, sizeof m.desk[1].topic, "orders");
    snprintf(m.desk[1].err_name, sizeof m.desk[1].err_name, "BUFFER_EXHAUSTED");
    m.batch_size = 16384;
    m.linger_ms = 5;
    m.n_parts = m.n_parts_total = 6;
    for (int i = 0; i < 6; i++) {
        sim_vm_partition *p = &m.parts[i];
        snprintf(p->topic, sizeof p->topic, "orders");
        p->partition = i;
        p->leader = i % 3;
        p->n_batches = p->n_batches_total = i % 3;
        for (int j = 0; j < p->n_batches; j++)
            p->batches[j] = (sim_vm_batch){
                .records = 10 + j, .bytes = 4000 * (j + 1), .sealed = j == 0, .linger_left_ms = 2};
    }
    m.pool = (sim_vm_pool){.used = 1 << 20, .total = 32 << 20, .waiters = 2};
    m.n_nodes = 3;
    for (int i = 0; i < 3; i++) {
        sim_vm_node *n = &m.nodes[i];
        n->id = i;
        n->up = i != 1;
        n->requests_total = 1500 * i;
        n->n_inflight = n->n_inflight_total = i == 1 ? 0 : 2;
        for (int j = 0; j < n->n_inflight; j++)
            n->inflight[j] = (sim_vm_request){
                .correlation_id = 40 + j, .batches = 3, .bytes = 48000, .age_ms = 12};
        n->has_last = true;
        n->last.correlation_id = 39;
        if (i == 2) {
            n->last.err = 6;
            snprintf(n->last.err_name, sizeof n->last.err_name, "NOT_LEADER_OR_FOLLOWER");
        }
    }
    m.n_map = m.n_map_total = 6;
    for (int i = 0; i < 6; i++) {
        sim_vm_map_row *r = &m.map[i];
        snprintf(r->topic, sizeof r->topic, "orders");
        r->partition = i;
        r->leader = i % 3;
        r->epoch = 1;
        r->high_watermark = 1234 * i;
        r->n_replicas = 3;
        r->n_isr = i == 0 ? 2 : 3;
        for (int j = 0; j < 3; j++)
            r->replicas[j] = r->isr[j] = (i + j) % 3;
        r->changed_ago_ms = i == 0 ? 500 : -1;
    }
    m.footer = (sim_vm_footer){.records_per_s = 12345,
                               .requests_per_s = 450,
                               .records_per_request = 27.4,
                               .sent = 100000,
                               .acked = 99000,
                               .failed = 3,
                               .retries = 7,
                               .lost = -1,
                               .duplicated = -1,
                               .reordered = -1};
    return &m;
}

static void test_rows_read_as_the_rooms_say(void) {
    sim_view_model *m = sample_model();
    sim_vt_line l;

    sim_vt_line_init(&l, 80);
    sim_vt_row_title(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "acks1-leader-crash"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "RUNNING"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "ev 4321"));
    CU_ASSERT_EQUAL(l.cols, 80);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "t=12.345s")); /* to the millisecond */
    m->status.stepping = true;
    sim_vt_line_init(&l, 80);
    sim_vt_row_title(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "PAUSED")); /* held, no step yet */
    CU_ASSERT_PTR_NULL(strstr(l.text, "(held")); /* nothing held yet */
    m->status.step_waiting = 3;
    m->status.steps = 1;
    sim_vt_line_init(&l, 80);
    sim_vt_row_title(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "STEP (held 3)"));
    m->status.stepping = false;
    m->status.steps = 0;

    sim_vt_line_init(&l, 80);
    sim_vt_row_desk(&l, SIM_LANG_EN, &m->desk[0]);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "#77"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "key=k17"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "icpt>ser>part>batch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "-> p3 120B"));
    sim_vt_line_init(&l, 80);
    sim_vt_row_desk(&l, SIM_LANG_EN, &m->desk[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "BUFFER_EXHAUSTED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "icpt>ser>....>....."));
    CU_ASSERT_PTR_NULL(strstr(l.text, "key=")); /* unknown key: no key column */
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, (size_t)(strstr(l.text, "BUFFER") - l.text)),
                    SIM_ST_ERR);

    sim_vt_line_init(&l, 80);
    sim_vt_row_partition(&l, SIM_LANG_EN, &m->parts[2], m->batch_size, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "orders-2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "L2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "[10r 3.9K/16K S][11r 7.8K/16K 2ms]"));
    sim_vt_line_init(&l, 80);
    sim_vt_row_partition(&l, SIM_LANG_EN, &m->parts[0], m->batch_size, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "(empty)"));
    m->parts[1].in_flight = 2;
    sim_vt_line_init(&l, 80);
    sim_vt_row_partition(&l, SIM_LANG_EN, &m->parts[1], m->batch_size, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "<2 [10r"));
    /* Too many boxes for the width: the rest is counted, never overflows. */
    sim_vm_partition full = m->parts[2];
    full.n_batches = SIM_VM_MAX_BATCHES;
    full.n_batches_total = 40;
    for (int j = 0; j < full.n_batches; j++)
        full.batches[j] = (sim_vm_batch){.records = 100, .bytes = 16000, .sealed = true};
    sim_vt_line_init(&l, 60);
    sim_vt_row_partition(&l, SIM_LANG_EN, &full, 16384, 0);
    CU_ASSERT(l.cols <= 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "+34 "));
    CU_ASSERT(l.text[strlen(l.text) - 2] == '+' || l.text[strlen(l.text) - 3] == '+');

    sim_vt_line_init(&l, 80);
    sim_vt_row_pool(&l, SIM_LANG_EN, &m->pool);
    CU_ASSERT_STRING_EQUAL(l.text, "pool [#---------] 1.0M/32M waiting 2");

    sim_vt_line_init(&l, 80);
    sim_vt_row_node(&l, SIM_LANG_EN, &m->nodes[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "node 1 DOWN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "idle"));
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, 0), SIM_ST_DIM);
    sim_vt_line_init(&l, 120);
    sim_vt_row_node(&l, SIM_LANG_EN, &m->nodes[2]);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "node 2 UP"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "req 3000")); /* exact below 100000 */
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "#40:3bt/47K/12ms #41:3bt/47K/12ms"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "last #39 NOT_LEADER_OR_FOLLOWER"));
    /* Narrow: trucks give way whole ("+N…"), the last answer stays. */
    for (int w = 40; w <= 80; w++) {
        sim_vt_line_init(&l, w);
        sim_vt_row_node(&l, SIM_LANG_EN, &m->nodes[2]);
        CU_ASSERT(l.cols <= w);
        CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "last #39 NOT_LEADER_OR_FOLLOWER"));
        /* every truck shown is whole: "#41:3bt/4" would read as 4 bytes */
        for (const char *q = strstr(l.text, " #4"); q; q = strstr(q + 1, " #4")) {
            size_t n = strcspn(q + 1, " ");
            CU_ASSERT(n >= 2 && q[n - 1] == 'm' && q[n] == 's');
        }
    }

    sim_vt_line_init(&l, 80);
    sim_vt_row_map(&l, SIM_LANG_EN, &m->map[0], 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "orders-0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "L0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "ISR 0,1 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "LEO "));
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, 0), SIM_ST_HILITE); /* changed 0.5 s ago */
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "orders-0  *L0"));
    sim_vt_line_init(&l, 80);
    sim_vt_row_map(&l, SIM_LANG_EN, &m->map[1], 10);
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, 0), SIM_ST_NORMAL);
    CU_ASSERT_PTR_NULL(strchr(l.text, '*'));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "HW 1234")); /* exact, not 1.2k */
    /* A truncation: the removed offsets (inclusive) and how many were acknowledged. */
    sim_vm_map_row cut = m->map[1];
    cut.trunc_from = 546;
    cut.trunc_to = 631;
    cut.trunc_acked = 85;
    cut.trunc_node = 1;
    cut.trunc_pending = false;
    sim_vt_line_init(&l, 120);
    sim_vt_row_map(&l, SIM_LANG_EN, &cut, 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "cut 1:546\u2013630 85 acked lost"));
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, (size_t)(strstr(l.text, "cut 1") - l.text)),
                    SIM_ST_ERR);
    cut.trunc_pending = true;
    sim_vt_line_init(&l, 120);
    sim_vt_row_map(&l, SIM_LANG_EN, &cut, 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "to cut 1:546\u2013630 85 acked"));
    /* At 80 columns the truncation keeps its place; follower positions give way. */
    cut.trunc_pending = false;
    cut.n_replicas = 3;
    cut.replicas[0] = 1, cut.replicas[1] = 2, cut.replicas[2] = 3;
    cut.replica_end[0] = 115, cut.replica_end[1] = 11500, cut.replica_end[2] = 11500;
    cut.leader = 2;
    sim_vt_line_init(&l, 80);
    sim_vt_row_map(&l, SIM_LANG_EN, &cut, 12);
    CU_ASSERT(l.cols <= 80);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "85 acked lost"));

    /* The map's header names the nodes and which are down. */
    sim_vt_line_init(&l, 80);
    sim_vt_row_map_header(&l, SIM_LANG_EN, m->nodes, m->n_nodes);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "== Dispatcher's map node 0:UP 1:DOWN 2:UP ="));
    CU_ASSERT_EQUAL(l.cols, 80);
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, (size_t)(strstr(l.text, "DOWN") - l.text)),
                    SIM_ST_ERR);

    /* Rows of a panel line up when given the panel's widest label. */
    sim_vm_map_row longer = m->map[1];
    snprintf(longer.topic, sizeof longer.topic, "a-very-long-topic");
    longer.partition = 11;
    int cols = sim_vt_tp_cols(longer.topic, longer.partition);
    CU_ASSERT_EQUAL(cols, 13); /* "a-very-lo~-11" */
    CU_ASSERT(sim_vt_tp_cols(m->map[1].topic, m->map[1].partition) < cols);
    sim_vt_line l2;
    sim_vt_line_init(&l, 80);
    sim_vt_row_map(&l, SIM_LANG_EN, &m->map[1], cols + 1);
    sim_vt_line_init(&l2, 80);
    sim_vt_row_map(&l2, SIM_LANG_EN, &longer, cols + 1);
    CU_ASSERT_EQUAL(strstr(l.text, " L1 ") - l.text, strstr(l2.text, " L1 ") - l2.text);
    CU_ASSERT_PTR_NOT_NULL(strstr(l2.text, "a-very-lo~-11"));

    sim_vt_line_init(&l, 200);
    sim_vt_row_footer(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "rec/s 12k"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "rec/req 27.4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "sent 100k acked 99000 failed 3 retries 7"));
    CU_ASSERT_PTR_NULL(strstr(l.text, "lost")); /* not known yet */
    /* Once the run is over the outcome comes first and fits 80 columns. */
    m->status.finished = true;
    m->footer.lost = 0;
    m->footer.duplicated = 2;
    m->footer.reordered = 5;
    sim_vt_line_init(&l, 120);
    sim_vt_row_footer(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "reord 5"));
    m->footer.reordered = -1;
    sim_vt_line_init(&l, 80);
    sim_vt_row_footer(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "sent 100k acked 99000 failed 3 lost 0 dup 2 retries 7"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "rec/req 27.4"));
    CU_ASSERT_EQUAL(sim_vt_line_style_at(&l, (size_t)(strstr(l.text, "dup") - l.text)), SIM_ST_ERR);
    m->status.finished = false;

    sim_vt_line_init(&l, 80);
    sim_vt_row_keys(&l, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "q quit"));
    snprintf(m->message, sizeof m->message, "broker down: which id (0..2)?");
    sim_vt_line_init(&l, 80);
    sim_vt_row_keys(&l, m);
    CU_ASSERT_STRING_EQUAL(l.text, m->message);
}

static void test_rows_in_chinese_fit_their_width(void) {
    sim_view_model *m = sample_model();
    m->lang = SIM_LANG_ZH;
    sim_vt_line l;
    for (int w = 20; w <= 100; w += 7) {
        sim_vt_line_init(&l, w);
        sim_vt_row_header(&l, SIM_LANG_ZH, SIM_L_SORTING, "缓冲池");
        CU_ASSERT_EQUAL(sim_vt_width(l.text), l.cols);
        CU_ASSERT(l.cols <= w);
        CU_ASSERT(l.cols >= w - 1); /* filled to the edge (a wide char may leave one) */
        sim_vt_line_init(&l, w);
        sim_vt_row_node(&l, SIM_LANG_ZH, &m->nodes[1]);
        CU_ASSERT(sim_vt_width(l.text) <= w);
        sim_vt_line_init(&l, w);
        sim_vt_row_map(&l, SIM_LANG_ZH, &m->map[0], 10);
        CU_ASSERT(sim_vt_width(l.text) <= w);
        sim_vt_line_init(&l, w);
        sim_vt_row_title(&l, m);
        CU_ASSERT(sim_vt_width(l.text) <= w);
        sim_vt_line_init(&l, w);
        sim_vt_row_footer(&l, m);
        CU_ASSERT(sim_vt_width(l.text) <= w);
    }
    sim_vt_line_init(&l, 80);
    sim_vt_row_header(&l, SIM_LANG_ZH, SIM_L_DESK, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "收件员"));
    sim_vt_line_init(&l, 80);
    sim_vt_row_node(&l, SIM_LANG_ZH, &m->nodes[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "宕机"));
}

static bool rect_inside(const sim_vt_rect *r, int rows, int cols) {
    return r->h == 0 || (r->y >= 0 && r->x >= 0 && r->y + r->h <= rows && r->x + r->w <= cols);
}

static bool rects_overlap(const sim_vt_rect *a, const sim_vt_rect *b) {
    if (a->h == 0 || b->h == 0)
        return false;
    return a->y < b->y + b->h && b->y < a->y + a->h && a->x < b->x + b->w && b->x < a->x + a->w;
}

static void check_layout(const sim_view_model *m, int rows, int cols) {
    sim_vt_layout lay;
    sim_vt_layout_compute(&lay, rows, cols, m);
    CU_ASSERT_FALSE_FATAL(lay.too_small);
    const sim_vt_rect *r[] = {&lay.title, &lay.desk,  &lay.sorting, &lay.trucks,
                              &lay.map,   &lay.trace, &lay.footer};
    for (int i = 0; i < 7; i++) {
        CU_ASSERT(rect_inside(r[i], rows, cols));
        for (int j = i + 1; j < 7; j++)
            CU_ASSERT(!rects_overlap(r[i], r[j]));
    }
    /* Each room: a header and at least one content row, in the analogy's order. */
    CU_ASSERT(lay.desk.h >= 2);
    CU_ASSERT(lay.sorting.h >= 2);
    CU_ASSERT(lay.trucks.h >= 2);
    CU_ASSERT(lay.map.h >= 2);
    CU_ASSERT(lay.desk.y < lay.sorting.y);
    CU_ASSERT(lay.trucks.y < lay.map.y);
    CU_ASSERT_EQUAL(lay.footer.y, rows - 2);
    CU_ASSERT_EQUAL(lay.trace.h > 0, m->show_trace);
}

static void test_layout_fits_80x24_and_grows(void) {
    sim_view_model *m = sample_model();
    check_layout(m, 24, 80);
    sim_vt_layout lay;
    /* The sample (2 desk rows, 6 partitions, 3 brokers) fits whole at 80x24. */
    sim_vt_layout_compute(&lay, 24, 80, m);
    CU_ASSERT_EQUAL(lay.sorting.h, 1 + 6);
    CU_ASSERT_EQUAL(lay.trucks.h, 1 + 3);
    CU_ASSERT_EQUAL(lay.map.h, 1 + 6);
    m->show_trace = true;
    check_layout(m, 24, 80);
    check_layout(m, 50, 200);
    m->show_trace = false;
    check_layout(m, 50, 200);
    sim_vt_layout_compute(&lay, 50, 200, m);
    CU_ASSERT(lay.trucks.x > 0); /* two columns when wide */
    /* Many partitions: shrunk to fit, never past the screen. */
    m->n_parts_total = m->n_map_total = 40;
    m->n_nodes = 8;
    m->n_desk = 12;
    check_layout(m, 24, 80);
    check_layout(m, 30, 100);
    m->show_trace = true;
    check_layout(m, 24, 80);
    check_layout(m, 60, 160);
    /* An empty model (before metadata) still gets every room. */
    memset(m, 0, sizeof *m);
    check_layout(m, 24, 80);
    sim_vt_layout_compute(&lay, 23, 80, m);
    CU_ASSERT_TRUE(lay.too_small);
    sim_vt_layout_compute(&lay, 24, 79, m);
    CU_ASSERT_TRUE(lay.too_small);
}

/* ---- the feed: events folded into what the rooms show (no run needed) ------------------- */

static sim_event ev(sim_source src, const char *kind) {
    sim_event e;
    sim_event_init(&e, src, kind);
    return e;
}

static void test_feed_builds_front_desk_rows_from_record_events(void) {
    sim_view_feed *f = sim_view_feed_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    for (int id = 1; id <= 20; id++) {
        sim_event e = ev(SIM_SRC_PRODUCER, "record.sent");
        e.record_id = id;
        snprintf(e.topic, sizeof e.topic, "parcels");
        if (id == 20)
            snprintf(e.detail, sizeof e.detail, "key=k20 extra");
        sim_view_feed_event(f, &e);
        e = ev(SIM_SRC_PRODUCER, "record.serialized");
        e.record_id = id;
        e.bytes = 100 + id;
        sim_view_feed_event(f, &e);
        if (id == 19) { /* 19 fails at the desk */
            e = ev(SIM_SRC_PRODUCER, "record.failed");
            e.record_id = id;
            e.err = KW_ERR__RECORD_TOO_LARGE;
            sim_view_feed_event(f, &e);
            continue;
        }
        e = ev(SIM_SRC_PRODUCER, "record.partitioned");
        e.record_id = id;
        e.partition = id % 6;
        sim_view_feed_event(f, &e);
        if (id != 20) {
            e = ev(SIM_SRC_PRODUCER, "record.appended");
            e.record_id = id;
            sim_view_feed_event(f, &e);
        }
    }
    /* A late event for a record long gone from the desk changes nothing. */
    sim_event late = ev(SIM_SRC_PRODUCER, "record.appended");
    late.record_id = 1;
    sim_view_feed_event(f, &late);
    sim_view_feed_sample(f, &m, 1000);
    CU_ASSERT_EQUAL(m.n_desk, SIM_VM_MAX_DESK);
    CU_ASSERT_EQUAL(m.desk[0].record_id, 20u); /* most recent first */
    CU_ASSERT_EQUAL(m.desk[0].stage, SIM_STAGE_PARTITIONED);
    CU_ASSERT_EQUAL(m.desk[0].partition, 2);
    CU_ASSERT_EQUAL(m.desk[0].size, 120);
    CU_ASSERT_STRING_EQUAL(m.desk[0].key, "k20");
    CU_ASSERT_STRING_EQUAL(m.desk[0].topic, "parcels");
    CU_ASSERT_EQUAL(m.desk[1].record_id, 19u);
    CU_ASSERT_TRUE(m.desk[1].failed);
    CU_ASSERT_EQUAL(m.desk[1].stage, SIM_STAGE_SERIALIZED); /* where it was when it failed */
    CU_ASSERT_STRING_EQUAL(m.desk[1].err_name, kw_err_name(KW_ERR__RECORD_TOO_LARGE));
    CU_ASSERT_EQUAL(m.desk[2].stage, SIM_STAGE_APPENDED);
    CU_ASSERT_EQUAL(m.desk[SIM_VM_MAX_DESK - 1].record_id, 20u - SIM_VM_MAX_DESK + 1);
    sim_view_feed_destroy(f);
}

static void test_feed_tracks_lanes_faults_and_trace(void) {
    sim_view_feed *f = sim_view_feed_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    m.n_nodes = 3;
    sim_event e = ev(SIM_SRC_SIM, "fault");
    e.node = 2;
    snprintf(e.detail, sizeof e.detail, "rtt broker=2 ms=250");
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_SIM, "fault");
    e.node = 1;
    snprintf(e.detail, sizeof e.detail, "drop_responses broker=1 count=3");
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_SIM, "fault"); /* refused by the cluster: not in force */
    e.node = 3;
    snprintf(e.detail, sizeof e.detail, "rtt broker=3 ms=900 FAILED: UNKNOWN_BROKER");
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_BROKER, "response.dropped");
    e.node = 1;
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_PRODUCER, "response.received");
    e.node = 3;
    e.corr_id = 41;
    e.err = KW_ERR_NOT_LEADER_OR_FOLLOWER;
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_PRODUCER, "response.received");
    e.node = 2;
    e.corr_id = 42;
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_PRODUCER, "response.received"); /* a node id out of range is ignored */
    e.node = 999;
    sim_view_feed_event(f, &e);
    sim_view_feed_sample(f, &m, 5000);
    CU_ASSERT_EQUAL_FATAL(m.n_nodes, 3);
    CU_ASSERT_EQUAL(m.nodes[0].id, 1);
    CU_ASSERT_EQUAL(m.nodes[0].drop_pending, 2);
    CU_ASSERT_EQUAL(m.nodes[1].rtt_ms, 250);
    CU_ASSERT_EQUAL(m.nodes[2].rtt_ms, 0);
    CU_ASSERT_TRUE(m.nodes[2].has_last);
    CU_ASSERT_EQUAL(m.nodes[2].last.correlation_id, 41);
    CU_ASSERT_STRING_EQUAL(m.nodes[2].last.err_name, "NOT_LEADER_OR_FOLLOWER");
    CU_ASSERT_EQUAL(m.nodes[2].errors_total, 1);
    CU_ASSERT_EQUAL(m.nodes[1].last.err, 0);
    CU_ASSERT_EQUAL(m.nodes[1].errors_total, 0);
    /* The trace keeps the latest events, oldest first, one formatted line each. */
    CU_ASSERT_EQUAL(m.n_trace, 7);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.trace[0], "fault"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m.trace[0], "rtt broker=2 ms=250"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m.trace[4], "node=3 corr=41 NOT_LEADER_OR_FOLLOWER"));
    for (int i = 0; i < 200; i++) {
        e = ev(SIM_SRC_BROKER, "hw.advanced");
        e.offset = i;
        snprintf(e.topic, sizeof e.topic, "parcels");
        e.partition = 4;
        sim_view_feed_event(f, &e);
    }
    sim_view_feed_sample(f, &m, 6000);
    CU_ASSERT_EQUAL(m.n_trace, SIM_VM_MAX_TRACE);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.trace[SIM_VM_MAX_TRACE - 1], "parcels-4 off=199"));
    sim_view_feed_destroy(f);
}

/* A request that times out is reported twice by the producer: request.timed_out, then the
 * response.received its failure produces (err TIMED_OUT). The lane counts it once, as every
 * other request in flight on the closed connection. */
static void test_feed_counts_a_timed_out_request_once(void) {
    sim_view_feed *f = sim_view_feed_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    m.n_nodes = 2;
    sim_event e = ev(SIM_SRC_PRODUCER, "request.timed_out");
    e.node = 2;
    e.corr_id = 559;
    e.err = KW_ERR__TIMED_OUT;
    sim_view_feed_event(f, &e);
    e = ev(SIM_SRC_PRODUCER, "response.received");
    e.node = 2;
    e.corr_id = 559;
    e.err = KW_ERR__TIMED_OUT;
    sim_view_feed_event(f, &e);
    e.corr_id = 560; /* the next request in flight on that connection fails with it */
    sim_view_feed_event(f, &e);
    sim_view_feed_sample(f, &m, 1000);
    CU_ASSERT_EQUAL_FATAL(m.n_nodes, 2);
    CU_ASSERT_EQUAL(m.nodes[1].errors_total, 2);
    CU_ASSERT_TRUE(m.nodes[1].has_last);
    CU_ASSERT_EQUAL(m.nodes[1].last.correlation_id, 560);
    CU_ASSERT_STRING_EQUAL(m.nodes[1].last.err_name, "TIMED_OUT");
    sim_view_feed_destroy(f);
}

static void test_feed_formats_events_as_clean_lines(void) {
    char line[SIM_VM_LINE];
    sim_event e = ev(SIM_SRC_PRODUCER, "request.sent");
    e.t_us = 12345678;
    e.node = 1;
    e.corr_id = 45;
    e.count = 3;
    e.bytes = 49152;
    sim_view_feed_format_event(&e, line, sizeof line);
    /* the time cut to the millisecond, as the header shows it (12.345678 s is 12.345) */
    CU_ASSERT_STRING_EQUAL(line, "  12.345 request.sent       node=1 corr=45 n=3 48K");
    /* A detail with control characters and a long tail stays one clean, bounded line. */
    e = ev(SIM_SRC_SIM, "fault");
    memset(e.detail, 'x', sizeof e.detail - 1);
    e.detail[0] = '\x1b';
    e.detail[5] = '\n';
    sim_view_feed_format_event(&e, line, sizeof line);
    CU_ASSERT(strlen(line) < sizeof line);
    CU_ASSERT_PTR_NULL(strchr(line, '\x1b'));
    CU_ASSERT_PTR_NULL(strchr(line, '\n'));
    char tiny[8];
    sim_view_feed_format_event(&e, tiny, sizeof tiny);
    CU_ASSERT_EQUAL(strlen(tiny), 7u);
}

/* ---- the feed on a live run (in process, no terminal) ------------------------------------ */

typedef bool (*model_pred)(const sim_view_model *m, void *arg);

/* Samples the run every 20 ms until pred holds or timeout_ms passes. */
static bool sample_until(sim_view_feed *f, sim_view_model *m, model_pred pred, void *arg,
                         int timeout_ms) {
    int64_t end = tu_now_ms() + timeout_ms;
    for (;;) {
        sim_view_feed_sample(f, m, tu_now_ms());
        if (pred(m, arg))
            return true;
        if (tu_now_ms() >= end)
            return false;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static bool model_full(const sim_view_model *m, void *arg) {
    const sim_scenario *s = arg;
    if (m->n_nodes != s->cluster.brokers || m->n_map_total != s->cluster.topics[0].partitions ||
        m->n_parts_total != s->cluster.topics[0].partitions || m->footer.acked <= 0 ||
        m->n_desk == 0)
        return false;
    for (int i = 0; i < m->n_map; i++)
        if (m->map[i].leader <= 0)
            return false;
    return true;
}

typedef struct down_arg {
    int broker, partition, old_leader;
} down_arg;

static bool broker_down_seen(const sim_view_model *m, void *arg) {
    const down_arg *d = arg;
    bool down = false;
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].id == d->broker)
            down = !m->nodes[i].up;
    for (int i = 0; i < m->n_map; i++)
        if (m->map[i].partition == d->partition)
            return down && m->map[i].leader > 0 && m->map[i].leader != d->old_leader &&
                   m->map[i].changed_ago_ms >= 0;
    return false;
}

static bool run_finished(const sim_view_model *m, void *arg) {
    (void)arg;
    return m->status.finished && m->footer.lost >= 0;
}

static void test_feed_samples_a_live_run(void) {
    char err[512];
    sim_scenario *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse(sim_default_scenario_json,
                                             strlen(sim_default_scenario_json), "default", &s, err,
                                             sizeof err),
                          0);
    sim_run_opts o;
    memset(&o, 0, sizeof o);
    o.speed = 2.0;
    o.ring_capacity = SIM_VIEW_RING_CAPACITY;
    o.stop_grace_ms = 2000;
    sim_runner *r = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_runner_new(s, &o, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sim_runner_start(r, err, sizeof err), 0);
    sim_view_feed *f = sim_view_feed_new(r);
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);

    /* Every room filled from the run: lanes, map, deques, desk, footer. */
    bool full = sample_until(f, &m, model_full, s, 20000);
    CU_ASSERT_TRUE(full);
    CU_ASSERT_STRING_EQUAL(m.status.scenario, s->name);
    CU_ASSERT_EQUAL(m.pool.total, 32 << 20); /* buffer.memory's default */
    CU_ASSERT_EQUAL(m.batch_size, 4096);     /* the demo's batch.size */
    CU_ASSERT_EQUAL(m.linger_ms, 20);
    CU_ASSERT_DOUBLE_EQUAL(m.status.speed, 2.0, 1e-9);
    CU_ASSERT(m.status.events > 0);
    for (int i = 0; i < m.n_map; i++) {
        const sim_vm_map_row *row = &m.map[i];
        bool leader_is_replica = false;
        for (int j = 0; j < row->n_replicas; j++)
            leader_is_replica |= row->replicas[j] == row->leader;
        CU_ASSERT_TRUE(leader_is_replica);
        CU_ASSERT(row->n_isr >= 1 && row->n_isr <= row->n_replicas);
        CU_ASSERT(row->high_watermark >= 0);
    }
    int64_t requests = 0;
    for (int i = 0; i < m.n_nodes; i++) {
        CU_ASSERT_TRUE(m.nodes[i].up);
        CU_ASSERT_EQUAL(m.nodes[i].id, i + 1);
        requests += m.nodes[i].requests_total;
    }
    CU_ASSERT(requests > 0);
    CU_ASSERT(m.desk[0].record_id > 0);
    CU_ASSERT_STRING_EQUAL(m.desk[0].topic, "parcels");

    /* A broker down through the runner: its lane goes down, its partition gets a new leader,
     * and the map row is marked as just changed. */
    if (full) {
        down_arg d = {m.map[0].leader, m.map[0].partition, m.map[0].leader};
        sim_fault fault;
        memset(&fault, 0, sizeof fault);
        fault.kind = SIM_FAULT_BROKER_DOWN;
        fault.broker = d.broker;
        fault.partition = -1;
        CU_ASSERT_EQUAL(sim_runner_fault(r, &fault, err, sizeof err), 0);
        CU_ASSERT_TRUE(sample_until(f, &m, broker_down_seen, &d, 15000));
    }

    /* Stopped: the run ends and the footer gets lost/duplicated from the logs. */
    sim_runner_stop(r);
    CU_ASSERT_TRUE(sample_until(f, &m, run_finished, NULL, 30000));
    CU_ASSERT_EQUAL(m.footer.lost, 0); /* acks=all with idempotence */
    CU_ASSERT_EQUAL(m.footer.duplicated, 0);
    sim_view_feed_destroy(f);
    sim_runner_destroy(r);
    sim_scenario_free(s);
}

/* One event of every kind the pipeline emits, with the details their emitters write. */
static int sample_events(sim_event *out, int max) {
    static const struct {
        sim_source src;
        const char *kind;
        const char *detail;
    } kinds[] = {
        {SIM_SRC_PRODUCER, "record.sent", ""},
        {SIM_SRC_PRODUCER, "record.intercepted", ""},
        {SIM_SRC_PRODUCER, "record.serialized", ""},
        {SIM_SRC_PRODUCER, "record.partitioned", "key=key-7"},
        {SIM_SRC_PRODUCER, "record.appended", ""},
        {SIM_SRC_PRODUCER, "record.failed", ""},
        {SIM_SRC_PRODUCER, "batch.created", ""},
        {SIM_SRC_PRODUCER, "batch.sealed", ""},
        {SIM_SRC_PRODUCER, "batch.drained", "attempt 1, base sequence 40"},
        {SIM_SRC_PRODUCER, "batch.completed", ""},
        {SIM_SRC_PRODUCER, "batch.retried", "attempt 2, backoff 100 ms"},
        {SIM_SRC_PRODUCER, "batch.expired", ""},
        {SIM_SRC_PRODUCER, "batch.split", ""},
        {SIM_SRC_PRODUCER, "request.sent", ""},
        {SIM_SRC_PRODUCER, "response.received", "after 3.250 ms"},
        {SIM_SRC_PRODUCER, "request.timed_out", ""},
        {SIM_SRC_PRODUCER, "buffer.wait", ""},
        {SIM_SRC_PRODUCER, "buffer.wait_done", "after 12.000 ms"},
        {SIM_SRC_PRODUCER, "metadata.requested", ""},
        {SIM_SRC_PRODUCER, "metadata.updated", ""},
        {SIM_SRC_PRODUCER, "connection.up", ""},
        {SIM_SRC_PRODUCER, "connection.down", "producer closing"},
        {SIM_SRC_PRODUCER, "producer.id", "producer id 1000 epoch 0"},
        {SIM_SRC_PRODUCER, "log", "connection to node 2 closed: producer closing"},
        {SIM_SRC_BROKER, "request.received", "Produce v8 from 127.0.0.1:5551 (client x)"},
        {SIM_SRC_BROKER, "response.sent", ""},
        {SIM_SRC_BROKER, "response.dropped", ""},
        {SIM_SRC_BROKER, "records.appended", "offsets 546..547, HW 544 -> 546"},
        {SIM_SRC_BROKER, "batch.duplicate", ""},
        {SIM_SRC_BROKER, "produce.rejected", ""},
        {SIM_SRC_BROKER, "replica.fetched", "offsets 546..547"},
        {SIM_SRC_BROKER, "hw.advanced", "HW 544 -> 548"},
        {SIM_SRC_BROKER, "isr.changed", "broker 1 rejoined the ISR"},
        {SIM_SRC_BROKER, "leader.changed", "leader 1 -> 2, epoch 3"},
        {SIM_SRC_BROKER, "log.truncated", "offsets 546..630"},
        {SIM_SRC_BROKER, "broker.down", ""},
        {SIM_SRC_BROKER, "broker.up", ""},
        {SIM_SRC_BROKER, "broker.isolated", ""},
        {SIM_SRC_BROKER, "broker.healed", ""},
        {SIM_SRC_BROKER, "fault.injected", "drop_responses broker=1 count=3"},
        {SIM_SRC_BROKER, "connection.opened", "127.0.0.1:5551"},
        {SIM_SRC_BROKER, "connection.closed", "closed by the client"},
        {SIM_SRC_BROKER, "producer_id.assigned", "producer id 1000 epoch 0"},
        {SIM_SRC_BROKER, "topic.created", ""},
        {SIM_SRC_BROKER, "log", "broker 1 down"},
        {SIM_SRC_SIM, "fault", "broker_down broker=1"},
        {SIM_SRC_SIM, "fault.failed", "rtt broker=9 ms=100 FAILED: UNKNOWN_BROKER"},
        {SIM_SRC_SIM, "run.started", "acks1-leader-crash"},
        {SIM_SRC_SIM, "workload.done", ""},
        {SIM_SRC_SIM, "run.ended", "complete"},
        {SIM_SRC_SIM, "clock.paused", ""},
        {SIM_SRC_SIM, "clock.resumed", ""},
        {SIM_SRC_SIM, "clock.speed", "speed 2"},
        {SIM_SRC_SIM, "run.stopping", ""},
        {SIM_SRC_SIM, "delivery.acked", ""},
        {SIM_SRC_SIM, "delivery.failed", "NOT_ENOUGH_REPLICAS"},
        {SIM_SRC_SIM, "log", "stopping: 3 records still in flight"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && n < max; i++) {
        sim_event *e = &out[n++];
        sim_event_init(e, kinds[i].src, kinds[i].kind);
        snprintf(e->detail, sizeof e->detail, "%s", kinds[i].detail);
        snprintf(e->topic, sizeof e->topic, "parcels");
        e->partition = 1;
        e->node = 2;
        e->record_id = 12;
        e->batch_id = 7;
        e->corr_id = 45;
        e->count = 2;
        e->bytes = 312;
        e->offset = 546;
        e->offset_end = 548;
        e->api = KW_API_PRODUCE;
        if (!strcmp(kinds[i].kind, "record.failed") || !strcmp(kinds[i].kind, "produce.rejected"))
            e->err = KW_ERR_NOT_ENOUGH_REPLICAS;
    }
    return n;
}

static bool has_cjk(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0xE4 && *p <= 0xE9)
            return true;
    return false;
}

/* Every event kind reads as one sentence; in Chinese without an English word. */
static void test_every_step_explains_itself_in_both_languages(void) {
    sim_event evs[80];
    int n = sample_events(evs, 80);
    static const char *const names[] = {"parcels", "acks1", "leader", "crash", NULL};
    for (int i = 0; i < n; i++) {
        char en[512], zh[512], word[64];
        sim_vt_explain(en, sizeof en, SIM_LANG_EN, &evs[i]);
        sim_vt_explain(zh, sizeof zh, SIM_LANG_ZH, &evs[i]);
        CU_ASSERT(strlen(en) > 10);
        CU_ASSERT_PTR_NULL(strstr(en, "(null)"));
        CU_ASSERT_TRUE(has_cjk(zh));
        if (tw_english_word(zh, names, word, sizeof word)) {
            fprintf(stderr, "\n%s: untranslated '%s' in: %s\n", evs[i].kind, word, zh);
            CU_FAIL("an English word in a Chinese explanation");
        }
    }
    /* The example, with offsets inclusive as the class counts records. */
    sim_event e;
    sim_event_init(&e, SIM_SRC_BROKER, "records.appended");
    snprintf(e.topic, sizeof e.topic, "parcels");
    e.partition = 1;
    e.node = 2;
    e.offset = 546;
    e.offset_end = 548;
    char buf[256];
    sim_vt_explain(buf, sizeof buf, SIM_LANG_EN, &e);
    CU_ASSERT_STRING_EQUAL(buf, "broker 2 appended 2 records to parcels-1 at offsets 546\u2013547");
    e.offset_end = 547;
    sim_vt_explain(buf, sizeof buf, SIM_LANG_EN, &e);
    CU_ASSERT_STRING_EQUAL(buf, "broker 2 appended 1 record to parcels-1 at offset 546");
    /* The HW the append led to, when the broker told it (runner.c puts it in the detail). */
    e.offset_end = 548;
    snprintf(e.detail, sizeof e.detail, "offsets 546..547, HW 544 -> 546");
    sim_vt_explain(buf, sizeof buf, SIM_LANG_EN, &e);
    CU_ASSERT_STRING_EQUAL(buf, "broker 2 appended 2 records to parcels-1 at offsets 546\u2013547 "
                                "(HW 544 \u2192 546)");
    sim_vt_explain(buf, sizeof buf, SIM_LANG_ZH, &e);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "546\u2013547 (高水位 544 \u2192 546)"));
    snprintf(e.detail, sizeof e.detail, "offsets 546..547, HW 544 -> 544");
    sim_vt_explain(buf, sizeof buf, SIM_LANG_EN, &e);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(HW still 544: not yet replicated)"));
    sim_vt_explain(buf, sizeof buf, SIM_LANG_ZH, &e);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(高水位仍为 544: 尚未复制)"));
    /* a detail the Chinese screen does not translate is left out, never shown as "()" */
    sim_event_init(&e, SIM_SRC_BROKER, "connection.closed");
    e.node = 1;
    snprintf(e.detail, sizeof e.detail, "peer closed");
    sim_vt_explain(buf, sizeof buf, SIM_LANG_ZH, &e);
    CU_ASSERT_STRING_EQUAL(buf, "broker 1 关闭了一个连接");
    sim_vt_explain(buf, sizeof buf, SIM_LANG_EN, &e);
    CU_ASSERT_STRING_EQUAL(buf, "broker 1 closed a connection (peer closed)");
    /* hw.advanced carries the new HW (the old one in its detail). */
    sim_event_init(&e, SIM_SRC_BROKER, "hw.advanced");
    snprintf(e.topic, sizeof e.topic, "parcels");
    e.partition = 1;
    e.offset = 548;
    snprintf(e.detail, sizeof e.detail, "HW 546 -> 548");
    sim_vt_explain(buf, sizeof buf, SIM_LANG_EN, &e);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "high watermark now 548 (HW 546 -> 548)"));
}

/* Every fixed string of the Chinese screen: labels, stages, help, legend, errors, rooms. */
static void test_zh_strings_have_no_english_word(void) {
    char word[64];
    const char *bad = NULL;
    for (int i = 0; i < SIM_L__COUNT; i++)
        if (tw_english_word(sim_vt_label_text(SIM_LANG_ZH, (sim_vt_label)i), NULL, word,
                            sizeof word))
            bad = sim_vt_label_text(SIM_LANG_ZH, (sim_vt_label)i);
    for (int i = 0; i < SIM_STAGE__COUNT; i++)
        if (tw_english_word(sim_vt_stage_text(SIM_LANG_ZH, (sim_vm_stage)i), NULL, word,
                            sizeof word))
            bad = sim_vt_stage_text(SIM_LANG_ZH, (sim_vm_stage)i);
    for (const char *const *h = sim_vt_help_lines(SIM_LANG_ZH); *h; h++)
        if (tw_english_word(*h, NULL, word, sizeof word))
            bad = *h;
    for (const char *const *h = sim_vt_legend_lines(SIM_LANG_ZH); *h; h++)
        if (tw_english_word(*h, NULL, word, sizeof word))
            bad = *h;
    for (int i = 0; i < sim_vt_error_count(); i++) {
        const char *t = sim_vt_error_text(SIM_LANG_ZH, sim_vt_error_code(i));
        if (tw_english_word(t, NULL, word, sizeof word))
            bad = t;
        CU_ASSERT_STRING_NOT_EQUAL(sim_vt_error_text(SIM_LANG_EN, sim_vt_error_code(i)), t);
    }
    for (int r = 0; r < 5; r++)
        if (tw_english_word(sim_vt_room_name(SIM_LANG_ZH, r), NULL, word, sizeof word))
            bad = sim_vt_room_name(SIM_LANG_ZH, r);
    if (bad)
        fprintf(stderr, "\nuntranslated '%s' in: %s\n", word, bad);
    CU_ASSERT_PTR_NULL(bad);
    /* The checker itself: it finds what it should and lets names through. */
    CU_ASSERT_TRUE(tw_english_word("已暂停 paused", NULL, word, sizeof word));
    CU_ASSERT_STRING_EQUAL(word, "paused");
    CU_ASSERT_FALSE(tw_english_word("NOT_ENOUGH_REPLICAS linger.ms broker ISR t=1.5s key-7 s",
                                    NULL, word, sizeof word));
}

static void feed(sim_view_feed *f, sim_source src, const char *kind, int64_t rec, int64_t batch,
                 int32_t node, int32_t corr, int64_t offset, int32_t count, const char *detail) {
    sim_event e;
    sim_event_init(&e, src, kind);
    snprintf(e.topic, sizeof e.topic, "orders");
    e.partition = 3;
    e.record_id = rec;
    e.batch_id = batch;
    e.node = node;
    e.corr_id = corr;
    e.offset = offset;
    e.offset_end = offset >= 0 && count > 0 ? offset + count : -1;
    e.count = count;
    snprintf(e.detail, sizeof e.detail, "%s", detail ? detail : "");
    sim_view_feed_event(f, &e);
}

/* Following a key: parcel 5 is sent before parcel 6 of the same key, but 6's batch is written
 * first (a retry reordered them): 5 is marked reordered; a cut of its offset on the broker
 * that wrote it, after its ack, marks it lost; its history has every stop. */
static void test_followed_parcel_sees_reorder_and_loss(void) {
    sim_view_feed *f = sim_view_feed_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    CU_ASSERT_TRUE(sim_view_feed_follow(f, "k1"));
    CU_ASSERT_FALSE(sim_view_feed_follow(f, "")); /* nothing to follow */
    CU_ASSERT_TRUE(sim_view_feed_follow(f, "k1"));
    feed(f, SIM_SRC_PRODUCER, "record.sent", 5, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.partitioned", 5, -1, -1, -1, -1, 0, "key=k1");
    feed(f, SIM_SRC_PRODUCER, "record.appended", 5, 1, -1, -1, -1, 1, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.partitioned", 6, -1, -1, -1, -1, 0, "key=k1");
    feed(f, SIM_SRC_PRODUCER, "record.appended", 6, 2, -1, -1, -1, 1, NULL);
    feed(f, SIM_SRC_PRODUCER, "batch.drained", -1, 2, 1, -1, -1, 1, "attempt 1");
    feed(f, SIM_SRC_PRODUCER, "request.sent", -1, -1, 1, 10, -1, 1, NULL);
    feed(f, SIM_SRC_PRODUCER, "batch.drained", -1, 1, 1, -1, -1, 1, "attempt 2");
    feed(f, SIM_SRC_PRODUCER, "request.sent", -1, -1, 1, 11, -1, 1, NULL);
    feed(f, SIM_SRC_BROKER, "records.appended", -1, -1, 1, 10, 40, 1, NULL); /* parcel 6 */
    feed(f, SIM_SRC_BROKER, "records.appended", -1, -1, 1, 11, 41, 1, NULL); /* parcel 5 */
    feed(f, SIM_SRC_PRODUCER, "batch.completed", -1, 1, -1, -1, 41, 1, NULL);
    feed(f, SIM_SRC_BROKER, "log.truncated", -1, -1, 1, -1, 41, 1, NULL);
    sim_view_feed_sample(f, &m, 1000);
    const sim_vm_parcel *pc = &m.parcel;
    CU_ASSERT_TRUE(pc->active);
    CU_ASSERT_EQUAL(pc->record_id, 5);
    CU_ASSERT_EQUAL(pc->batch_id, 1);
    CU_ASSERT_EQUAL(pc->corr_id, 11);
    CU_ASSERT_EQUAL(pc->offset, 41);
    CU_ASSERT_TRUE(pc->acked);
    CU_ASSERT_TRUE(pc->reordered);
    CU_ASSERT_TRUE(pc->lost);
    CU_ASSERT_FALSE(pc->duplicated);
    CU_ASSERT(pc->n_history >= 6);
    sim_view_feed_destroy(f);
}

/* Following a key that is not at the desk yet: the parcel binds when it is partitioned (its
 * key is told there), and its history still starts at its first desk stop, as following its
 * number does. */
static void test_followed_key_history_starts_at_the_desk(void) {
    sim_view_feed *f = sim_view_feed_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static sim_view_model m;
    memset(&m, 0, sizeof m);
    CU_ASSERT_TRUE(sim_view_feed_follow(f, "k7"));
    feed(f, SIM_SRC_PRODUCER, "record.sent", 8, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.sent", 9, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.intercepted", 8, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.intercepted", 9, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.serialized", 8, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.serialized", 9, -1, -1, -1, -1, 0, NULL);
    feed(f, SIM_SRC_PRODUCER, "record.partitioned", 8, -1, -1, -1, -1, 0, "key=other");
    feed(f, SIM_SRC_PRODUCER, "record.partitioned", 9, -1, -1, -1, -1, 0, "key=k7");
    feed(f, SIM_SRC_PRODUCER, "record.appended", 9, 3, -1, -1, -1, 1, NULL);
    sim_view_feed_sample(f, &m, 1000);
    const sim_vm_parcel *pc = &m.parcel;
    CU_ASSERT_EQUAL(pc->record_id, 9);
    CU_ASSERT_EQUAL_FATAL(pc->n_history, 5);
    static const char *const want[] = {"record.sent", "record.intercepted", "record.serialized",
                                       "record.partitioned", "record.appended"};
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(pc->history[i].kind, want[i]);
        CU_ASSERT_EQUAL(pc->history[i].record_id, 9);
    }
    sim_view_feed_destroy(f);
}

/* "pause": true on a timeline entry: parsed for every fault kind; anything but a boolean is
 * refused with its path. */
static void test_timeline_pause_is_parsed(void) {
    sim_scenario *sc = NULL;
    char err[256];
    const char *ok = "{\"name\":\"p\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":"
                     "\"t\"}]},\"workload\":{\"messages\":1},\"timeline\":[{\"at_ms\":5,"
                     "\"fault\":\"broker_down\",\"broker\":1,\"pause\":true},{\"at_ms\":9,"
                     "\"fault\":\"inject_error\",\"code\":\"NOT_ENOUGH_REPLICAS\",\"count\":2,"
                     "\"topic\":\"t\",\"partition\":0,\"pause\":false}]}";
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse(ok, strlen(ok), "p.json", &sc, err, sizeof err), 0);
    CU_ASSERT_EQUAL(sc->n_timeline, 2);
    CU_ASSERT_TRUE(sc->timeline[0].pause);
    CU_ASSERT_FALSE(sc->timeline[1].pause);
    sim_scenario_free(sc);
    const char *bad = "{\"name\":\"p\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":"
                      "\"t\"}]},\"workload\":{\"messages\":1},\"timeline\":[{\"at_ms\":5,"
                      "\"fault\":\"broker_down\",\"broker\":1,\"pause\":\"yes\"}]}";
    sc = NULL;
    CU_ASSERT_NOT_EQUAL(sim_scenario_parse(bad, strlen(bad), "p.json", &sc, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "timeline[0].pause"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "true or false"));
}

/* The audit printed after q, in Chinese: no English word but Kafka's metric and error names. */
static void test_audit_prints_in_chinese(void) {
    sim_scenario *sc = NULL;
    char err[256];
    const char *json = "{\"name\":\"lab\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":"
                       "\"t\"}]},\"workload\":{\"messages\":1}}";
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse(json, strlen(json), "t.json", &sc, err, sizeof err), 0);
    sim_audit a;
    memset(&a, 0, sizeof a);
    a.sent = 4000;
    a.acknowledged = 4000;
    a.lost = 85;
    a.in_log = 3915;
    a.pending = 3;
    a.failed_in_log = 1;
    a.n_brokers = 3;
    a.faults_applied = 2;
    a.interrupted = true;
    a.n_failed_by = 1;
    snprintf(a.failed_by[0].name, sizeof a.failed_by[0].name, "NOT_ENOUGH_REPLICAS");
    a.failed_by[0].count = 2;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    sim_audit_print_text_lang(&a, sc, true, f);
    fclose(f);
    static const char *const names[] = {"lab", NULL};
    char word[64];
    bool bad = tw_english_word(buf, names, word, sizeof word);
    if (bad)
        fprintf(stderr, "\nuntranslated '%s' in the audit:\n%s\n", word, buf);
    CU_ASSERT_FALSE(bad);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "丢失                      85"));
    free(buf);
    sim_scenario_free(sc);
}

/* What courier run prints after the audit, in Chinese: the unmet expectations (the scenario's
 * own expect text stays) and the verdict line. */
static void test_unmet_expectations_print_in_chinese(void) {
    sim_scenario *sc = NULL;
    char err[256];
    const char *json = "{\"name\":\"lab\",\"cluster\":{\"brokers\":3,\"topics\":[{\"name\":"
                       "\"t\"}]},\"workload\":{\"messages\":1},\"expect\":{\"lost\":\">0\","
                       "\"any_of\":[{\"duplicated\":\">0\"},{\"reordered\":\">0\"}]}}";
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse(json, strlen(json), "t.json", &sc, err, sizeof err), 0);
    sim_audit a;
    memset(&a, 0, sizeof a);
    for (int zh = 0; zh < 2; zh++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        int unmet = sim_audit_check_lang(&a, sc, zh, f);
        CU_ASSERT_EQUAL(unmet, 2);
        CU_ASSERT_EQUAL(sim_audit_check(&a, sc, NULL), 2);
        sim_audit_print_verdict(unmet, zh, f);
        sim_audit_print_verdict(0, zh, f);
        fclose(f);
        if (zh) {
            static const char *const names[] = {"lost", "duplicated", "reordered", NULL};
            char word[64];
            bool bad = tw_english_word(buf, names, word, sizeof word);
            if (bad)
                fprintf(stderr, "\nuntranslated '%s' in:\n%s\n", word, buf);
            CU_ASSERT_FALSE(bad);
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "预期 lost > 0: 未满足, 实际 lost = 0"));
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "duplicated > 0 或 reordered > 0"));
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "预期: 未满足 (见上)"));
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "预期: 全部满足"));
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "expect lost > 0: unmet, got lost = 0"));
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "expect: UNMET (see above)"));
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, "expect: all met"));
        }
        free(buf);
    }
    sim_scenario_free(sc);
}

/* Exact counts below 100 000; cut text ends with an ellipsis at a token boundary. */
static void test_counts_are_exact_and_cuts_keep_tokens(void) {
    char b[32];
    sim_vt_count(b, sizeof b, 6843);
    CU_ASSERT_STRING_EQUAL(b, "6843");
    sim_vt_count(b, sizeof b, 99999);
    CU_ASSERT_STRING_EQUAL(b, "99999");
    sim_vt_count(b, sizeof b, 123456);
    CU_ASSERT_STRING_EQUAL(b, "123k");
    sim_vt_line l;
    sim_vt_line_init(&l, 30);
    sim_vt_add_cut(&l, SIM_ST_NORMAL, "broker 2 appended 2 records to parcels-1 at offsets 546");
    CU_ASSERT(l.cols <= 30);
    CU_ASSERT_STRING_EQUAL(l.text, "broker 2 appended 2 records\u2026");
    /* Wrapping: whole words, the continuation indented, the last line allowed cut with "…". */
    char w[4][SIM_VT_WRAP_BYTES];
    int n = sim_vt_wrap("NOT_LEADER_OR_FOLLOWER: the broker is not the leader: the producer "
                        "refreshes metadata and retries",
                        40, 4, w, 4);
    CU_ASSERT_EQUAL(n, 3);
    for (int i = 0; i < n; i++)
        CU_ASSERT(sim_vt_width(w[i]) <= 40);
    CU_ASSERT_STRING_EQUAL(w[0], "NOT_LEADER_OR_FOLLOWER: the broker is");
    CU_ASSERT_EQUAL(strncmp(w[1], "    not the leader", 18), 0);
    n = sim_vt_wrap("one two three four five six seven eight nine ten", 12, 2, w, 2);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(w[1], "\u2026"));
}


/* The map's "Consumers" line: group, state, generation, coordinator, lag, members and their
 * partitions; cut at a whole member when narrow; Chinese state names in zh. */
static void test_consumers_line_names_group_members_and_partitions(void) {
    sim_vm_group g;
    memset(&g, 0, sizeof g);
    snprintf(g.group_id, sizeof g.group_id, "class");
    snprintf(g.state, sizeof g.state, "Stable");
    g.generation = 3;
    g.members = 2;
    g.coordinator = 2;
    g.lag = 42;
    snprintf(g.assignment, sizeof g.assignment, "courier t[0,1,2] rdkafka t[3,4,5]");
    sim_vt_line l;
    sim_vt_line_init(&l, 120);
    sim_vt_row_consumers(&l, SIM_LANG_EN, &g);
    CU_ASSERT_STRING_EQUAL(l.text,
                           "consumers class Stable gen 3 coord 2 lag 42: courier t[0,1,2] rdkafka "
                           "t[3,4,5]");
    sim_vt_line_init(&l, 70);
    sim_vt_row_consumers(&l, SIM_LANG_EN, &g);
    CU_ASSERT_TRUE(l.cols <= 70);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "courier t[0,1,2]"));
    CU_ASSERT_PTR_NULL(strstr(l.text, "t[3,4"));
    g.lag = -1;
    snprintf(g.state, sizeof g.state, "PreparingRebalance");
    sim_vt_line_init(&l, 120);
    sim_vt_row_consumers(&l, SIM_LANG_ZH, &g);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "消费者组 class 准备再均衡 第3代"));
    CU_ASSERT_PTR_NULL(strstr(l.text, "lag"));
    g.members = 0;
    sim_vt_line_init(&l, 120);
    sim_vt_row_consumers(&l, SIM_LANG_EN, &g);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "no members"));
}

void suite_sim_view_text(void);
void suite_sim_view_text(void) {
    tu_suite("sim_view_text");
    tu_test("test_width_counts_cjk_as_two_columns", test_width_counts_cjk_as_two_columns);
    tu_test("test_clip_never_splits_a_wide_character", test_clip_never_splits_a_wide_character);
    tu_test("test_clip_replaces_control_characters", test_clip_replaces_control_characters);
    tu_test("test_numbers_are_short_and_rounded", test_numbers_are_short_and_rounded);
    tu_test("test_gauge_is_exact_width_and_clamped", test_gauge_is_exact_width_and_clamped);
    tu_test("test_batch_box_shows_fill_linger_seal_and_retries",
            test_batch_box_shows_fill_linger_seal_and_retries);
    tu_test("test_labels_exist_in_both_languages", test_labels_exist_in_both_languages);
    tu_test("test_line_clips_to_limit_and_tracks_styles",
            test_line_clips_to_limit_and_tracks_styles);
    tu_test("test_rows_read_as_the_rooms_say", test_rows_read_as_the_rooms_say);
    tu_test("test_rows_in_chinese_fit_their_width", test_rows_in_chinese_fit_their_width);
    tu_test("test_layout_fits_80x24_and_grows", test_layout_fits_80x24_and_grows);
    tu_test("test_feed_builds_front_desk_rows_from_record_events",
            test_feed_builds_front_desk_rows_from_record_events);
    tu_test("test_feed_tracks_lanes_faults_and_trace", test_feed_tracks_lanes_faults_and_trace);
    tu_test("test_feed_counts_a_timed_out_request_once", test_feed_counts_a_timed_out_request_once);
    tu_test("test_feed_formats_events_as_clean_lines", test_feed_formats_events_as_clean_lines);
    tu_test("test_feed_samples_a_live_run", test_feed_samples_a_live_run);
    tu_test("test_every_step_explains_itself_in_both_languages",
            test_every_step_explains_itself_in_both_languages);
    tu_test("test_zh_strings_have_no_english_word", test_zh_strings_have_no_english_word);
    tu_test("test_counts_are_exact_and_cuts_keep_tokens", test_counts_are_exact_and_cuts_keep_tokens);
    tu_test("test_audit_prints_in_chinese", test_audit_prints_in_chinese);
    tu_test("test_timeline_pause_is_parsed", test_timeline_pause_is_parsed);
    tu_test("test_followed_parcel_sees_reorder_and_loss",
            test_followed_parcel_sees_reorder_and_loss);
    tu_test("test_followed_key_history_starts_at_the_desk",
            test_followed_key_history_starts_at_the_desk);
    tu_test("test_unmet_expectations_print_in_chinese", test_unmet_expectations_print_in_chinese);
    tu_test("test_consumers_line_names_group_members_and_partitions",
            test_consumers_line_names_group_members_and_partitions);
}
