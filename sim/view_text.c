/* sim/view_text.c — the words and numbers of the live view, without curses.
 *
 * The view draws what these functions write: a batch box, a broker lane, a map row, each as
 * one styled line no wider than the panel. Keeping them pure means the way the sorting room
 * reads on the projector is unit-tested (tests/test_sim_view_text.c), in English and Chinese.
 */
#include "sim/view_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- display width and clipping ---------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s (n bytes left). Returns its length (1 for an invalid byte,
 * with *cp = -1) and the code point in *cp. */
static size_t utf8_next(const unsigned char *s, size_t n, long *cp) {
    unsigned char c = s[0];
    size_t len;
    long v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2;
        v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        v = c & 0x07;
    } else {
        *cp = -1;
        return 1;
    }
    if (len > n) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    /* Reject overlong forms and surrogates: they are not text. */
    if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
        (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return len;
}

/* Columns a code point takes: 2 for East Asian wide and full-width forms, 0 for combining
 * marks, 1 otherwise. Control characters are replaced before this is asked. */
static int cp_width(long cp) {
    if (cp >= 0x0300 && cp <= 0x036F)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
        (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

static bool cp_is_control(long cp) {
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
}

int sim_vt_width(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int w = 0;
    while (n > 0) {
        long cp;
        size_t k = utf8_next(p, n, &cp);
        w += (cp < 0 || cp_is_control(cp)) ? 1 : cp_width(cp);
        p += k;
        n -= k;
    }
    return w;
}

int sim_vt_clip(char *dst, size_t dstsize, const char *src, int cols, bool mark) {
    if (dstsize == 0)
        return 0;
    dst[0] = '\0';
    if (cols <= 0)
        return 0;
    const unsigned char *p = (const unsigned char *)src;
    size_t n = strlen(src);
    size_t out = 0;
    int w = 0;
    bool cut = false;
    while (n > 0) {
        long cp;
        size_t k = utf8_next(p, n, &cp);
        bool bad = cp < 0 || cp_is_control(cp);
        int cw = bad ? 1 : cp_width(cp);
        size_t bytes = bad ? 1 : k;
        if (w + cw > cols || out + bytes >= dstsize) {
            cut = true;
            break;
        }
        if (bad)
            dst[out] = '?';
        else
            memcpy(dst + out, p, k);
        out += bytes;
        w += cw;
        p += k;
        n -= k;
    }
    dst[out] = '\0';
    if (cut && mark) {
        /* Drop characters from the end until one column is free for the '~'. */
        while (out > 0 && (w >= cols || out + 1 >= dstsize)) {
            size_t start = out - 1;
            while (start > 0 && ((unsigned char)dst[start] & 0xC0) == 0x80)
                start--;
            w -= sim_vt_width(dst + start);
            out = start;
            dst[out] = '\0';
        }
        if (w < cols && out + 1 < dstsize) {
            dst[out++] = '~';
            dst[out] = '\0';
            w++;
        }
    }
    return w;
}

/* ---- numbers ----------------------------------------------------------------------------- */

/* Scales |v| by `base` into at most three significant characters with a unit suffix. */
static void scaled(char *dst, size_t dstsize, int64_t v, double base, const char *const *units,
                   int n_units, const char *unit0) {
    const char *sign = v < 0 ? "-" : "";
    double a = v < 0 ? -(double)v : (double)v;
    if (a < base) {
        snprintf(dst, dstsize, "%s%lld%s", sign, (long long)a, unit0);
        return;
    }
    int u = 0;
    while (u < n_units - 1 && a >= base * base) {
        a /= base;
        u++;
    }
    a /= base;
    /* Round first so 999.96 prints as "1000"-free "1.0M" rather than "1000k". */
    if (a < 9.95)
        snprintf(dst, dstsize, "%s%.1f%s", sign, a, units[u]);
    else if (a < 999.5 || u == n_units - 1)
        snprintf(dst, dstsize, "%s%.0f%s", sign, a, units[u]);
    else
        snprintf(dst, dstsize, "%s1.0%s", sign, units[u + 1]);
}

void sim_vt_num(char *dst, size_t dstsize, int64_t v) {
    static const char *const units[] = {"k", "M", "G", "T"};
    scaled(dst, dstsize, v, 1000.0, units, 4, "");
}

void sim_vt_bytes(char *dst, size_t dstsize, int64_t v) {
    static const char *const units[] = {"K", "M", "G", "T"};
    scaled(dst, dstsize, v, 1024.0, units, 4, "B");
}

void sim_vt_ms(char *dst, size_t dstsize, int64_t ms) {
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf(dst, dstsize, "%lldms", (long long)ms);
    else if (ms < 10000)
        snprintf(dst, dstsize, "%.1fs", (double)ms / 1000.0);
    else if (ms < 600000)
        snprintf(dst, dstsize, "%llds", (long long)(ms / 1000));
    else if (ms < 36000000)
        snprintf(dst, dstsize, "%lldm", (long long)(ms / 60000));
    else
        snprintf(dst, dstsize, "%lldh", (long long)(ms / 3600000));
}

void sim_vt_rate(char *dst, size_t dstsize, double v) {
    if (v != v || v < 0)
        v = 0; /* NaN or negative: nothing measured */
    if (v < 1000.0)
        snprintf(dst, dstsize, "%.1f", v);
    else
        sim_vt_num(dst, dstsize, (int64_t)(v + 0.5));
}

void sim_vt_ids(char *dst, size_t dstsize, const int32_t *ids, int count) {
    if (dstsize == 0)
        return;
    dst[0] = '\0';
    if (count <= 0) {
        snprintf(dst, dstsize, "-");
        return;
    }
    size_t off = 0;
    for (int i = 0; i < count && off < dstsize; i++) {
        int k = snprintf(dst + off, dstsize - off, "%s%d", i ? "," : "", (int)ids[i]);
        if (k < 0)
            break;
        off += (size_t)k;
    }
}

/* ---- gauges and boxes -------------------------------------------------------------------- */

void sim_vt_gauge(char *dst, size_t dstsize, int cols, int64_t used, int64_t total) {
    if (dstsize == 0)
        return;
    dst[0] = '\0';
    if (cols < 3 || (size_t)cols >= dstsize)
        return;
    int inner = cols - 2;
    int fill = 0;
    if (total > 0) {
        if (used < 0)
            used = 0;
        if (used > total)
            used = total;
        fill = (int)(((double)used * inner) / (double)total + 0.5);
        if (fill == 0 && used > 0)
            fill = 1; /* anything in use shows at least one mark */
        if (fill > inner)
            fill = inner;
    }
    dst[0] = '[';
    for (int i = 0; i < inner; i++)
        dst[1 + i] = i < fill ? '#' : '-';
    dst[cols - 1] = ']';
    dst[cols] = '\0';
}

int sim_vt_batch_box(char *dst, size_t dstsize, const sim_vm_batch *b, int64_t batch_size,
                     int cols) {
    char bytes[16], cap[16], state[24], candidate[96];
    if (dstsize == 0)
        return 0;
    dst[0] = '\0';
    sim_vt_bytes(bytes, sizeof bytes, b->bytes);
    sim_vt_bytes(cap, sizeof cap, batch_size);
    if (b->backing_off || b->attempts > 0) {
        if (b->attempts <= 3) {
            char marks[4] = {0};
            for (int i = 0; i < b->attempts && i < 3; i++)
                marks[i] = '!';
            snprintf(state, sizeof state, "R%s", marks);
        } else {
            snprintf(state, sizeof state, "R!%d", (int)b->attempts);
        }
    } else if (b->sealed) {
        snprintf(state, sizeof state, "S");
    } else {
        sim_vt_ms(state, sizeof state, b->linger_left_ms);
    }
    /* Long forms first, shorter ones when the panel is narrow. */
    bool open = !b->sealed && !b->backing_off && b->attempts == 0;
    if (open || (b->sealed && !b->backing_off && b->attempts == 0))
        snprintf(candidate, sizeof candidate, "[%dr %s/%s %s]", (int)b->records, bytes, cap, state);
    else
        snprintf(candidate, sizeof candidate, "[%dr %s %s]", (int)b->records, bytes, state);
    int w = sim_vt_width(candidate);
    if (w <= cols && (size_t)w < dstsize) {
        snprintf(dst, dstsize, "%s", candidate);
        return w;
    }
    snprintf(candidate, sizeof candidate, "[%dr %s]", (int)b->records, open ? "o" : state);
    w = sim_vt_width(candidate);
    if (w <= cols && (size_t)w < dstsize) {
        snprintf(dst, dstsize, "%s", candidate);
        return w;
    }
    snprintf(candidate, sizeof candidate, "[%d]", (int)b->records);
    w = sim_vt_width(candidate);
    if (w <= cols && (size_t)w < dstsize) {
        snprintf(dst, dstsize, "%s", candidate);
        return w;
    }
    return 0;
}

/* ---- labels ------------------------------------------------------------------------------ */

static const char *const labels_en[SIM_L__COUNT] = {
    [SIM_L_APP] = "Courier",
    [SIM_L_DESK] = "Front desk",
    [SIM_L_SORTING] = "Sorting room",
    [SIM_L_TRUCKS] = "Trucks",
    [SIM_L_MAP] = "Dispatcher's map",
    [SIM_L_TRACE] = "Trace",
    [SIM_L_HELP] = "Keys",
    [SIM_L_RUNNING] = "RUNNING",
    [SIM_L_PAUSED] = "PAUSED",
    [SIM_L_STEP] = "STEP",
    [SIM_L_FINISHED] = "DONE",
    [SIM_L_SPEED] = "x",
    [SIM_L_EVENTS] = "ev",
    [SIM_L_DROPPED] = "dropped",
    [SIM_L_POOL] = "pool",
    [SIM_L_WAITING] = "waiting",
    [SIM_L_HELD] = "held",
    [SIM_L_PARTITION] = "p",
    [SIM_L_KEY] = "key=",
    [SIM_L_SIZE] = "size",
    [SIM_L_LEADER] = "L",
    [SIM_L_REPLICAS] = "R",
    [SIM_L_ISR] = "ISR",
    [SIM_L_EPOCH] = "e",
    [SIM_L_HW] = "HW",
    [SIM_L_NODE] = "node",
    [SIM_L_UP] = "UP",
    [SIM_L_DOWN] = "DOWN",
    [SIM_L_INFLIGHT] = "in flight",
    [SIM_L_IDLE] = "idle",
    [SIM_L_REQUESTS] = "req",
    [SIM_L_ERRORS] = "err",
    [SIM_L_RTT] = "rtt+",
    [SIM_L_DROP] = "drop",
    [SIM_L_INJECT] = "inject",
    [SIM_L_LAST] = "last",
    [SIM_L_OK] = "OK",
    [SIM_L_EMPTY] = "(empty)",
    [SIM_L_MORE] = "more",
    [SIM_L_RATE_REC] = "rec/s",
    [SIM_L_RATE_REQ] = "req/s",
    [SIM_L_REC_PER_REQ] = "rec/req",
    [SIM_L_SENT] = "sent",
    [SIM_L_ACKED] = "acked",
    [SIM_L_FAILED] = "failed",
    [SIM_L_RETRIES] = "retries",
    [SIM_L_LOST] = "lost",
    [SIM_L_DUPLICATED] = "dup",
    [SIM_L_KEYS_SHORT] = "spc pause s step +- speed k/u dn/up l leader e err d drop r rtt "
                         "t log ? q quit",
    [SIM_L_NO_PARTS] = "no partitions yet (waiting for metadata)",
    [SIM_L_NO_RECORDS] = "no records yet",
    [SIM_L_TOO_SMALL] = "terminal too small: need 80x24",
};

static const char *const labels_zh[SIM_L__COUNT] = {
    [SIM_L_APP] = "Courier 快递",
    [SIM_L_DESK] = "收件员 Front desk",
    [SIM_L_SORTING] = "分拣员 Sorting room",
    [SIM_L_TRUCKS] = "运输车 Trucks",
    [SIM_L_MAP] = "调度员 Dispatcher's map",
    [SIM_L_TRACE] = "事件日志",
    [SIM_L_HELP] = "按键",
    [SIM_L_RUNNING] = "运行中",
    [SIM_L_PAUSED] = "已暂停",
    [SIM_L_STEP] = "单步",
    [SIM_L_FINISHED] = "已完成",
    [SIM_L_SPEED] = "速度x",
    [SIM_L_EVENTS] = "事件",
    [SIM_L_DROPPED] = "丢弃",
    [SIM_L_POOL] = "缓冲池",
    [SIM_L_WAITING] = "等待",
    [SIM_L_HELD] = "暂停中",
    [SIM_L_PARTITION] = "分区",
    [SIM_L_KEY] = "键=",
    [SIM_L_SIZE] = "大小",
    [SIM_L_LEADER] = "首领",
    [SIM_L_REPLICAS] = "副本",
    [SIM_L_ISR] = "ISR",
    [SIM_L_EPOCH] = "纪元",
    [SIM_L_HW] = "高水位",
    [SIM_L_NODE] = "节点",
    [SIM_L_UP] = "在线",
    [SIM_L_DOWN] = "宕机",
    [SIM_L_INFLIGHT] = "在途",
    [SIM_L_IDLE] = "空闲",
    [SIM_L_REQUESTS] = "请求",
    [SIM_L_ERRORS] = "错误",
    [SIM_L_RTT] = "延迟+",
    [SIM_L_DROP] = "丢响应",
    [SIM_L_INJECT] = "注入",
    [SIM_L_LAST] = "最近",
    [SIM_L_OK] = "成功",
    [SIM_L_EMPTY] = "(空)",
    [SIM_L_MORE] = "更多",
    [SIM_L_RATE_REC] = "条/秒",
    [SIM_L_RATE_REQ] = "请求/秒",
    [SIM_L_REC_PER_REQ] = "条/请求",
    [SIM_L_SENT] = "已发",
    [SIM_L_ACKED] = "已确认",
    [SIM_L_FAILED] = "失败",
    [SIM_L_RETRIES] = "重试",
    [SIM_L_LOST] = "丢失",
    [SIM_L_DUPLICATED] = "重复",
    [SIM_L_KEYS_SHORT] = "空格暂停 s单步 +-速度 k宕机 u恢复 l换首领 e注错 d丢包 r延迟 t日志 "
                         "?帮助 q退出",
    [SIM_L_NO_PARTS] = "还没有分区(等待元数据)",
    [SIM_L_NO_RECORDS] = "还没有消息",
    [SIM_L_TOO_SMALL] = "终端太小: 至少 80x24",
};

const char *sim_vt_label_text(sim_view_lang lang, sim_vt_label label) {
    if ((int)label < 0 || label >= SIM_L__COUNT)
        return "?";
    const char *s = lang == SIM_LANG_ZH ? labels_zh[label] : labels_en[label];
    if (!s)
        s = labels_en[label];
    return s ? s : "?";
}

static const char *const stages_en[SIM_STAGE__COUNT] = {"sent", "intercepted", "serialized",
                                                        "partitioned", "appended"};
static const char *const stages_zh[SIM_STAGE__COUNT] = {"已收件", "已拦截", "已序列化", "已分区",
                                                        "已入批"};

const char *sim_vt_stage_text(sim_view_lang lang, sim_vm_stage stage) {
    if ((int)stage < 0 || stage >= SIM_STAGE__COUNT)
        return "?";
    return lang == SIM_LANG_ZH ? stages_zh[stage] : stages_en[stage];
}

static const char *const help_en[] = {
    "space  pause / resume (the simulation clock stops)",
    "s      step mode: each press lets one event through",
    "+ -    faster / slower simulation clock",
    "k      take a broker down (then its id)",
    "u      bring a broker up (then its id)",
    "l      move a partition leader (then partition, then broker)",
    "e      inject an error for the next Produce requests",
    "d      drop the next responses of a broker",
    "r      add round-trip time to a broker",
    "t      show / hide the trace log",
    "?      this help (any key closes it)",
    "q      quit: restore the screen, print the audit",
    NULL,
};

static const char *const help_zh[] = {
    "空格   暂停 / 继续 (模拟时钟停止)",
    "s      单步模式: 每按一次放行一个事件",
    "+ -    加快 / 减慢模拟时钟",
    "k      让一个 broker 宕机 (再输入编号)",
    "u      恢复一个 broker (再输入编号)",
    "l      移动分区首领 (分区, 再 broker)",
    "e      给后续 Produce 请求注入错误",
    "d      丢弃一个 broker 的后续响应",
    "r      给一个 broker 增加往返延迟",
    "t      显示 / 隐藏事件日志",
    "?      本帮助 (任意键关闭)",
    "q      退出: 恢复屏幕, 打印审计结果",
    NULL,
};

const char *const *sim_vt_help_lines(sim_view_lang lang) {
    return lang == SIM_LANG_ZH ? help_zh : help_en;
}

/* ---- styled lines ------------------------------------------------------------------------ */

void sim_vt_line_init(sim_vt_line *l, int limit) {
    l->text[0] = '\0';
    l->len = 0;
    l->cols = 0;
    l->n_spans = 0;
    if (limit < 0)
        limit = 0;
    /* A wide character takes up to 4 bytes for 2 columns, ASCII 1 for 1: limit/… is safe. */
    if (limit > (int)(SIM_VT_LINE_BYTES / 4))
        limit = (int)(SIM_VT_LINE_BYTES / 4);
    l->limit = limit;
}

int sim_vt_line_add(sim_vt_line *l, sim_vt_style style, const char *fmt, ...) {
    char raw[SIM_VT_LINE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    int left = l->limit - l->cols;
    if (left <= 0 || raw[0] == '\0')
        return 0;
    size_t start = l->len;
    int w = sim_vt_clip(l->text + l->len, sizeof l->text - l->len, raw, left, false);
    l->len += strlen(l->text + l->len);
    l->cols += w;
    if (style != SIM_ST_NORMAL && l->len > start) {
        /* Merge with the previous span when it continues it in the same style. */
        if (l->n_spans > 0 && l->spans[l->n_spans - 1].end == start &&
            l->spans[l->n_spans - 1].style == style) {
            l->spans[l->n_spans - 1].end = l->len;
        } else if (l->n_spans < SIM_VT_MAX_SPANS) {
            l->spans[l->n_spans].start = start;
            l->spans[l->n_spans].end = l->len;
            l->spans[l->n_spans].style = style;
            l->n_spans++;
        }
    }
    return w;
}

void sim_vt_line_pad(sim_vt_line *l, int col) {
    if (col > l->limit)
        col = l->limit;
    while (l->cols < col && l->len + 1 < sizeof l->text) {
        l->text[l->len++] = ' ';
        l->cols++;
    }
    l->text[l->len] = '\0';
}

void sim_vt_line_fill(sim_vt_line *l, sim_vt_style style, char ch) {
    char run[SIM_VT_LINE_BYTES];
    int n = l->limit - l->cols;
    if (n <= 0 || ch < 0x20 || ch > 0x7e)
        return;
    memset(run, ch, (size_t)n);
    run[n] = '\0';
    sim_vt_line_add(l, style, "%s", run);
}

sim_vt_style sim_vt_line_style_at(const sim_vt_line *l, size_t at) {
    for (int i = 0; i < l->n_spans; i++)
        if (at >= l->spans[i].start && at < l->spans[i].end)
            return l->spans[i].style;
    return SIM_ST_NORMAL;
}

/* ---- panel rows -------------------------------------------------------------------------- */

#define L(label) sim_vt_label_text(lang, (label))

void sim_vt_row_title(sim_vt_line *l, const sim_view_model *m) {
    sim_view_lang lang = m->lang;
    const sim_vm_status *s = &m->status;
    char t[16], ev[16];
    sim_vt_ms(t, sizeof t, s->sim_ms);
    snprintf(ev, sizeof ev, "%llu", (unsigned long long)s->events);
    sim_vt_line_add(l, SIM_ST_TITLE, " %s ", L(SIM_L_APP));
    if (s->scenario[0])
        sim_vt_line_add(l, SIM_ST_TITLE, "| %s ", s->scenario);
    sim_vt_line_add(l, SIM_ST_TITLE, "| ");
    sim_vt_label state = s->finished   ? SIM_L_FINISHED
                         : s->stepping ? SIM_L_STEP
                         : s->paused   ? SIM_L_PAUSED
                                       : SIM_L_RUNNING;
    sim_vt_style st = state == SIM_L_RUNNING    ? SIM_ST_OK
                      : state == SIM_L_FINISHED ? SIM_ST_TITLE
                                                : SIM_ST_WARN;
    sim_vt_line_add(l, st, "%s", L(state));
    if (s->stepping && s->step_waiting > 0)
        sim_vt_line_add(l, SIM_ST_WARN, "(%s %d)", L(SIM_L_HELD), (int)s->step_waiting);
    else if (s->paused && s->finished)
        sim_vt_line_add(l, SIM_ST_WARN, "+%s", L(SIM_L_PAUSED));
    sim_vt_line_add(l, SIM_ST_TITLE, " %s%.2g t=%s %s %s ", L(SIM_L_SPEED), s->speed, t,
                    L(SIM_L_EVENTS), ev);
    if (s->events_dropped > 0)
        sim_vt_line_add(l, SIM_ST_TITLE, "(%s %llu) ", L(SIM_L_DROPPED),
                        (unsigned long long)s->events_dropped);
    sim_vt_line_pad(l, l->limit);
    /* The whole bar is in the title style except the state word. */
    if (l->n_spans < SIM_VT_MAX_SPANS && l->n_spans > 0 && l->spans[l->n_spans - 1].end < l->len) {
        l->spans[l->n_spans].start = l->spans[l->n_spans - 1].end;
        l->spans[l->n_spans].end = l->len;
        l->spans[l->n_spans].style = SIM_ST_TITLE;
        l->n_spans++;
    }
}

void sim_vt_row_header(sim_vt_line *l, sim_view_lang lang, sim_vt_label room, const char *extra) {
    sim_vt_line_add(l, SIM_ST_HEADER, "== %s ", L(room));
    if (extra && extra[0])
        sim_vt_line_add(l, SIM_ST_HEADER, "%s ", extra);
    sim_vt_line_fill(l, SIM_ST_HEADER, '=');
}

void sim_vt_row_map_header(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *nodes,
                           int n_nodes) {
    sim_vt_line_add(l, SIM_ST_HEADER, "== %s ", L(SIM_L_MAP));
    if (n_nodes > 0)
        sim_vt_line_add(l, SIM_ST_HEADER, "%s", L(SIM_L_NODE));
    for (int i = 0; i < n_nodes; i++) {
        sim_vt_line_add(l, SIM_ST_HEADER, " %d:", (int)nodes[i].id);
        sim_vt_line_add(l, nodes[i].up ? SIM_ST_OK : SIM_ST_ERR, "%s",
                        L(nodes[i].up ? SIM_L_UP : SIM_L_DOWN));
    }
    sim_vt_line_add(l, SIM_ST_HEADER, " ");
    sim_vt_line_fill(l, SIM_ST_HEADER, '=');
}

void sim_vt_row_desk(sim_vt_line *l, sim_view_lang lang, const sim_vm_desk_row *r) {
    static const struct {
        sim_vm_stage stage;
        const char *en, *zh;
    } track[] = {
        {SIM_STAGE_INTERCEPTED, "icpt", "拦截"},
        {SIM_STAGE_SERIALIZED, "ser", "序列"},
        {SIM_STAGE_PARTITIONED, "part", "分区"},
        {SIM_STAGE_APPENDED, "batch", "入批"},
    };
    char key[24];
    sim_vt_line_add(l, SIM_ST_NORMAL, "#%-6llu ", (unsigned long long)r->record_id);
    sim_vt_clip(key, sizeof key, r->topic, 10, true);
    sim_vt_line_add(l, SIM_ST_NORMAL, "%-10s ", key);
    /* The key only when the events carried it: a blank is not "no key". */
    if (r->key[0]) {
        sim_vt_clip(key, sizeof key, r->key, 10, true);
        sim_vt_line_add(l, SIM_ST_NORMAL, "%s%-10s ", L(SIM_L_KEY), key);
    }
    /* The stage track: stages reached are named, the ones still ahead are dots of the same
     * width, so the record's progress reads on a monochrome screen and in a text capture. */
    for (size_t i = 0; i < sizeof track / sizeof track[0]; i++) {
        const char *name = lang == SIM_LANG_ZH ? track[i].zh : track[i].en;
        if (i)
            sim_vt_line_add(l, SIM_ST_DIM, ">");
        if (r->stage >= track[i].stage) {
            sim_vt_line_add(l, SIM_ST_OK, "%s", name);
        } else {
            char dots[16];
            int w = sim_vt_width(name);
            memset(dots, '.', (size_t)w);
            dots[w] = '\0';
            sim_vt_line_add(l, SIM_ST_DIM, "%s", dots);
        }
    }
    if (r->partition >= 0)
        sim_vt_line_add(l, SIM_ST_NORMAL, " -> %s%d", L(SIM_L_PARTITION), (int)r->partition);
    if (r->size >= 0) {
        char b[16];
        sim_vt_bytes(b, sizeof b, r->size);
        sim_vt_line_add(l, SIM_ST_NORMAL, " %s", b);
    }
    if (r->failed)
        sim_vt_line_add(l, SIM_ST_ERR, " %s", r->err_name[0] ? r->err_name : L(SIM_L_FAILED));
}

/* "topic-partition" with the topic cut to 10 columns. */
static void tp_label(char *dst, size_t size, const char *topic, int32_t partition) {
    char name[48];
    sim_vt_clip(name, sizeof name, topic, 10, true);
    snprintf(dst, size, "%s-%d", name, (int)partition);
}

int sim_vt_tp_cols(const char *topic, int32_t partition) {
    char label[64];
    tp_label(label, sizeof label, topic, partition);
    return sim_vt_width(label);
}

/* Appends a topic-partition label padded to `cols` columns (at least its own width + 1). */
static void add_tp(sim_vt_line *l, sim_vt_style st, const char *topic, int32_t partition, int cols,
                   char mark) {
    char label[64];
    tp_label(label, sizeof label, topic, partition);
    int w = sim_vt_width(label);
    int pad = cols > w ? cols - w : 0;
    sim_vt_line_add(l, st, "%s%*s%c", label, pad, "", mark);
}

void sim_vt_row_partition(sim_vt_line *l, sim_view_lang lang, const sim_vm_partition *p,
                          int64_t batch_size, int label_cols) {
    add_tp(l, SIM_ST_NORMAL, p->topic, p->partition, label_cols, ' ');
    if (p->leader >= 0)
        sim_vt_line_add(l, SIM_ST_NORMAL, "%s%-2d ", L(SIM_L_LEADER), (int)p->leader);
    else
        sim_vt_line_add(l, SIM_ST_ERR, "%s- ", L(SIM_L_LEADER));
    /* Batches already on the road sit beyond the deque's head, toward the trucks. */
    if (p->in_flight > 0)
        sim_vt_line_add(l, SIM_ST_OK, "<%d ", (int)p->in_flight);
    if (p->n_batches_total == 0) {
        sim_vt_line_add(l, SIM_ST_DIM, "%s", L(SIM_L_EMPTY));
        return;
    }
    int hidden = p->n_batches_total - p->n_batches;
    if (hidden > 0)
        sim_vt_line_add(l, SIM_ST_DIM, "+%d ", hidden);
    for (int i = 0; i < p->n_batches; i++) {
        const sim_vm_batch *b = &p->batches[i];
        /* Keep room for a "+N" marker after the boxes that do not fit. */
        int room = l->limit - l->cols - 4;
        if (i == p->n_batches - 1)
            room = l->limit - l->cols;
        char box[96];
        int w = sim_vt_batch_box(box, sizeof box, b, batch_size, room);
        if (w == 0) {
            sim_vt_line_add(l, SIM_ST_DIM, "+%d", p->n_batches - i);
            break;
        }
        sim_vt_style st = (b->backing_off || b->attempts > 0) ? SIM_ST_WARN
                          : b->sealed                         ? SIM_ST_BOX
                                                              : SIM_ST_NORMAL;
        sim_vt_line_add(l, st, "%s", box);
    }
}

void sim_vt_row_pool(sim_vt_line *l, sim_view_lang lang, const sim_vm_pool *pool) {
    char g[24], used[16], total[16];
    sim_vt_gauge(g, sizeof g, 12, pool->used, pool->total);
    sim_vt_bytes(used, sizeof used, pool->used);
    sim_vt_bytes(total, sizeof total, pool->total);
    sim_vt_line_add(l, SIM_ST_NORMAL, "%s ", L(SIM_L_POOL));
    sim_vt_line_add(l, SIM_ST_BOX, "%s", g);
    sim_vt_line_add(l, SIM_ST_NORMAL, " %s/%s", used, total);
    if (pool->waiters > 0)
        sim_vt_line_add(l, SIM_ST_WARN, " %s %d", L(SIM_L_WAITING), (int)pool->waiters);
}

void sim_vt_row_node(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *n) {
    char num[16];
    sim_vt_style base = n->up ? SIM_ST_NORMAL : SIM_ST_DIM;
    sim_vt_line_add(l, base, "%s %d ", L(SIM_L_NODE), (int)n->id);
    if (n->up)
        sim_vt_line_add(l, SIM_ST_OK, "%-4s", L(SIM_L_UP));
    else
        sim_vt_line_add(l, SIM_ST_ERR, "%-4s", L(SIM_L_DOWN));
    sim_vt_num(num, sizeof num, n->requests_total);
    sim_vt_line_add(l, base, " %s %s", L(SIM_L_REQUESTS), num);
    if (n->errors_total > 0) {
        sim_vt_num(num, sizeof num, n->errors_total);
        sim_vt_line_add(l, SIM_ST_ERR, " %s %s", L(SIM_L_ERRORS), num);
    }
    if (n->rtt_ms > 0)
        sim_vt_line_add(l, SIM_ST_WARN, " %s%dms", L(SIM_L_RTT), (int)n->rtt_ms);
    if (n->drop_pending > 0)
        sim_vt_line_add(l, SIM_ST_WARN, " %s %d", L(SIM_L_DROP), (int)n->drop_pending);
    sim_vt_line_add(l, base, " |");
    if (n->n_inflight_total == 0)
        sim_vt_line_add(l, SIM_ST_DIM, " %s", L(SIM_L_IDLE));
    for (int i = 0; i < n->n_inflight; i++) {
        const sim_vm_request *q = &n->inflight[i];
        char b[16], age[16];
        sim_vt_bytes(b, sizeof b, q->bytes);
        sim_vt_ms(age, sizeof age, q->age_ms);
        sim_vt_line_add(l, n->up ? SIM_ST_BOX : SIM_ST_DIM, " #%d:%db/%s/%s",
                        (int)q->correlation_id, (int)q->batches, b, age);
    }
    if (n->n_inflight_total > n->n_inflight)
        sim_vt_line_add(l, SIM_ST_DIM, " +%d", n->n_inflight_total - n->n_inflight);
    if (n->has_last) {
        sim_vt_line_add(l, base, " | %s #%d ", L(SIM_L_LAST), (int)n->last.correlation_id);
        if (n->last.err == 0)
            sim_vt_line_add(l, SIM_ST_OK, "%s", L(SIM_L_OK));
        else
            sim_vt_line_add(l, SIM_ST_ERR, "%s",
                            n->last.err_name[0] ? n->last.err_name : L(SIM_L_ERRORS));
    }
}

void sim_vt_row_map(sim_vt_line *l, sim_view_lang lang, const sim_vm_map_row *r, int label_cols) {
    char ids[64], hw[16];
    bool hot = r->changed_ago_ms >= 0 && r->changed_ago_ms < 3000;
    sim_vt_style base = hot ? SIM_ST_HILITE : SIM_ST_NORMAL;
    /* '*' marks a row that just changed, for screens (and captures) without colour. */
    add_tp(l, base, r->topic, r->partition, label_cols, hot ? '*' : ' ');
    if (r->leader >= 0)
        sim_vt_line_add(l, base, "%s%-2d ", L(SIM_L_LEADER), (int)r->leader);
    else
        sim_vt_line_add(l, SIM_ST_ERR, "%s-  ", L(SIM_L_LEADER));
    sim_vt_line_add(l, base, "%s%-3d ", L(SIM_L_EPOCH), (int)r->epoch);
    sim_vt_ids(ids, sizeof ids, r->replicas, r->n_replicas);
    sim_vt_line_add(l, base, "%s %-7s ", L(SIM_L_REPLICAS), ids);
    sim_vt_ids(ids, sizeof ids, r->isr, r->n_isr);
    sim_vt_line_add(l, r->n_isr < r->n_replicas ? SIM_ST_WARN : base, "%s %-7s ", L(SIM_L_ISR),
                    ids);
    sim_vt_num(hw, sizeof hw, r->high_watermark);
    sim_vt_line_add(l, base, "%s %s", L(SIM_L_HW), hw);
}

/* The audit so far: sent, acknowledged, failed, retries, and lost/duplicated once known. */
static void footer_audit(sim_vt_line *l, sim_view_lang lang, const sim_vm_footer *f) {
    char a[16];
    sim_vt_num(a, sizeof a, f->sent);
    sim_vt_line_add(l, SIM_ST_NORMAL, "%s %s", L(SIM_L_SENT), a);
    sim_vt_num(a, sizeof a, f->acked);
    sim_vt_line_add(l, SIM_ST_OK, " %s %s", L(SIM_L_ACKED), a);
    sim_vt_num(a, sizeof a, f->failed);
    sim_vt_line_add(l, f->failed ? SIM_ST_ERR : SIM_ST_NORMAL, " %s %s", L(SIM_L_FAILED), a);
    if (f->lost >= 0) {
        sim_vt_num(a, sizeof a, f->lost);
        sim_vt_line_add(l, f->lost ? SIM_ST_ERR : SIM_ST_OK, " %s %s", L(SIM_L_LOST), a);
    }
    if (f->duplicated >= 0) {
        sim_vt_num(a, sizeof a, f->duplicated);
        sim_vt_line_add(l, f->duplicated ? SIM_ST_ERR : SIM_ST_OK, " %s %s", L(SIM_L_DUPLICATED),
                        a);
    }
    sim_vt_num(a, sizeof a, f->retries);
    sim_vt_line_add(l, f->retries ? SIM_ST_WARN : SIM_ST_NORMAL, " %s %s", L(SIM_L_RETRIES), a);
}

void sim_vt_row_footer(sim_vt_line *l, const sim_view_model *m) {
    sim_view_lang lang = m->lang;
    const sim_vm_footer *f = &m->footer;
    char a[16], b[16], c[16];
    sim_vt_rate(a, sizeof a, f->records_per_s);
    sim_vt_rate(b, sizeof b, f->requests_per_s);
    snprintf(c, sizeof c, "%.1f", f->records_per_request > 0 ? f->records_per_request : 0.0);
    if (m->status.finished) {
        /* Over: the outcome first (lost and duplicated are known now), rates are history. */
        footer_audit(l, lang, f);
        sim_vt_line_add(l, SIM_ST_NORMAL, " | %s %s", L(SIM_L_REC_PER_REQ), c);
        return;
    }
    sim_vt_line_add(l, SIM_ST_NORMAL, "%s %s  %s %s  %s %s | ", L(SIM_L_RATE_REC), a,
                    L(SIM_L_RATE_REQ), b, L(SIM_L_REC_PER_REQ), c);
    footer_audit(l, lang, f);
}

void sim_vt_row_keys(sim_vt_line *l, const sim_view_model *m) {
    if (m->message[0])
        sim_vt_line_add(l, SIM_ST_WARN, "%s", m->message);
    else
        sim_vt_line_add(l, SIM_ST_DIM, "%s", sim_vt_label_text(m->lang, SIM_L_KEYS_SHORT));
}

#undef L

/* ---- layout ------------------------------------------------------------------------------ */

typedef struct slot {
    sim_vt_rect *rect;
    int want; /* content rows wanted (header excluded) */
    int min;  /* content rows never gone below */
    int max;  /* content rows worth having */
} slot;

/* Stacks slots top-down from row y in a column, giving each its header plus content rows:
 * everyone gets `want` (capped by max), the biggest shrinks first when short, spare rows go to
 * the slots in order up to their max. */
static void stack(slot *s, int n, int y, int x, int w, int avail) {
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].want > s[i].max)
            s[i].want = s[i].max;
        if (s[i].want < s[i].min)
            s[i].want = s[i].min;
        total += 1 + s[i].want;
    }
    while (total > avail) {
        int big = -1;
        for (int i = 0; i < n; i++)
            if (s[i].want > s[i].min && (big < 0 || s[i].want > s[big].want))
                big = i;
        if (big < 0)
            break;
        s[big].want--;
        total--;
    }
    for (int i = 0; i < n && total < avail; i++) {
        while (s[i].want < s[i].max && total < avail) {
            s[i].want++;
            total++;
        }
    }
    for (int i = 0; i < n; i++) {
        int h = 1 + s[i].want;
        if (h > avail)
            h = avail > 0 ? avail : 0;
        s[i].rect->y = y;
        s[i].rect->x = x;
        s[i].rect->w = h > 0 ? w : 0;
        s[i].rect->h = h;
        y += h;
        avail -= h;
    }
}

void sim_vt_layout_compute(sim_vt_layout *out, int rows, int cols, const sim_view_model *m) {
    memset(out, 0, sizeof *out);
    if (rows < SIM_VT_MIN_ROWS || cols < SIM_VT_MIN_COLS) {
        out->too_small = true;
        return;
    }
    out->title = (sim_vt_rect){0, 0, 1, cols};
    out->footer = (sim_vt_rect){rows - 2, 0, 2, cols};
    int top = 1, avail = rows - 3;

    int n_desk = m->n_desk > 0 ? m->n_desk : 1;
    int n_parts = m->n_parts_total > 0 ? m->n_parts_total : 1;
    int n_nodes = m->n_nodes > 0 ? m->n_nodes : 1;
    int n_map = m->n_map_total > 0 ? m->n_map_total : 1;
    slot desk = {&out->desk, n_desk < 2 ? n_desk : 2, 1, SIM_VM_MAX_DESK};
    slot sorting = {&out->sorting, n_parts, 1, n_parts};
    slot trucks = {&out->trucks, n_nodes, 1, n_nodes};
    slot map = {&out->map, n_map, 1, n_map};
    /* Past the first three rows the desk is nice to have, not needed: it grows last. */
    if (desk.max > n_desk)
        desk.max = n_desk < 3 ? 3 : n_desk;

    if (m->show_trace) {
        int th = avail / 3;
        if (th < 4)
            th = 4;
        out->trace = (sim_vt_rect){top + avail - th, 0, th, cols};
        avail -= th;
    }
    if (cols >= 140) {
        int lw = cols / 2, rw = cols - lw;
        slot left[2] = {sorting, desk};
        slot right[2] = {trucks, map};
        /* Draw order is top-down: the desk above the sorting room. */
        stack(left, 2, top, 0, lw, avail);
        stack(right, 2, top, lw, rw, avail);
        /* stack() placed left[0] (sorting) first so it was served first when space is
         * short; swap their rows so the desk is on top. */
        sim_vt_rect *d = &out->desk, *s = &out->sorting;
        d->y = top;
        s->y = top + d->h;
    } else {
        slot all[4] = {sorting, map, trucks, desk};
        stack(all, 4, top, 0, cols, avail);
        /* Serve order above; screen order is desk, sorting, trucks, map. */
        int y = top;
        out->desk.y = y;
        y += out->desk.h;
        out->sorting.y = y;
        y += out->sorting.h;
        out->trucks.y = y;
        y += out->trucks.h;
        out->map.y = y;
    }
}
