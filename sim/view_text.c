/* sim/view_text.c — the words and numbers of the live view, without curses.
 *
 * The view draws what these functions write: a batch box, a broker lane, a map row, each as
 * one styled line no wider than the panel. Keeping them pure means the way the sorting room
 * reads on the projector is unit-tested (tests/test_sim_view_text.c), in English and Chinese.
 */
#include "sim/view_text.h"

#include "protocol/kw.h"

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

void sim_vt_count(char *dst, size_t dstsize, int64_t v) {
    if (v > -100000 && v < 100000)
        snprintf(dst, dstsize, "%lld", (long long)v);
    else
        sim_vt_num(dst, dstsize, v);
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
    char bytes[40], cap[16], state[24], candidate[96];
    if (dstsize == 0)
        return 0;
    dst[0] = '\0';
    sim_vt_bytes(bytes, sizeof bytes, b->bytes);
    if (b->raw_bytes > b->bytes) { /* compressed: "18K>3.9K" = raw bytes > on the wire */
        char raw[16], wire[16];
        sim_vt_bytes(raw, sizeof raw, b->raw_bytes);
        sim_vt_bytes(wire, sizeof wire, b->bytes);
        snprintf(bytes, sizeof bytes, "%s>%s", raw, wire);
    }
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
    [SIM_L_KEYS_SHORT] = "spc pause s step n f x T run-to / follow ? help +- k u l e d r t "
                         "q quit",
    [SIM_L_NO_PARTS] = "no partitions yet (waiting for metadata)",
    [SIM_L_NO_RECORDS] = "no records yet",
    [SIM_L_TOO_SMALL] = "terminal too small: need 80x24",
    [SIM_L_RUN_TO] = "RUN-TO",
    [SIM_L_LEO] = "LEO",
    [SIM_L_CUT] = "cut",
    [SIM_L_TO_CUT] = "to cut",
    [SIM_L_ACKED_LOST] = "acked lost",
    [SIM_L_REORDERED] = "reord",
    [SIM_L_BATCHES_UNIT] = "bt",
    [SIM_L_STEP_MARK] = ">>",
    [SIM_L_LEGEND] = "Legend: every symbol (? again: the errors)",
    [SIM_L_ERRORS_PAGE] = "Errors: what each means, what the producer does (any key closes)",
    [SIM_L_HISTORY] = "Parcel history",
    [SIM_L_FOLLOW] = "following",
    [SIM_L_STALE] = "stale, cluster: L",
};

static const char *const labels_zh[SIM_L__COUNT] = {
    [SIM_L_APP] = "Courier 快递",
    [SIM_L_DESK] = "收件员",
    [SIM_L_SORTING] = "分拣员",
    [SIM_L_TRUCKS] = "运输车",
    [SIM_L_MAP] = "调度员",
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
    [SIM_L_HELD] = "待放行",
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
    [SIM_L_KEYS_SHORT] = "空格暂停 s单步 n/f/x/T快进 /跟踪 ?帮助 +-速度 k/u/l/e/d/r故障 t日志 q退出",
    [SIM_L_NO_PARTS] = "还没有分区(等待元数据)",
    [SIM_L_NO_RECORDS] = "还没有消息",
    [SIM_L_TOO_SMALL] = "终端太小: 至少 80x24",
    [SIM_L_RUN_TO] = "快进中",
    [SIM_L_LEO] = "LEO",
    [SIM_L_CUT] = "已截断",
    [SIM_L_TO_CUT] = "将截断",
    [SIM_L_ACKED_LOST] = "条已确认丢失",
    [SIM_L_REORDERED] = "乱序",
    [SIM_L_BATCHES_UNIT] = "批",
    [SIM_L_STEP_MARK] = ">>",
    [SIM_L_LEGEND] = "图例: 所有符号 (再按 ? 看错误)",
    [SIM_L_ERRORS_PAGE] = "错误: 含义和生产者的处理 (任意键关闭)",
    [SIM_L_HISTORY] = "包裹轨迹",
    [SIM_L_FOLLOW] = "跟踪",
    [SIM_L_STALE] = "已过期, 集群首领",
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
    "space  pause / resume (simulated time stands still while paused)",
    "s      step: let exactly one event through, explained on the bottom line",
    "n      run to the next event of the selected room (Tab selects the room)",
    "f x T  run to the next fault / error / truncation (loss)",
    "/      follow a parcel: its number (#123) or key, then Enter",
    "+ -    faster / slower simulation clock",
    "k      take a broker down (then its id)",
    "u      bring a broker up (then its id)",
    "l      move a partition leader (then partition, then broker)",
    "e      inject an error for the next Produce requests",
    "d      drop the next responses of a broker",
    "r      add round-trip time to a broker",
    "t      show / hide the trace log",
    "R      record the rest of the run into a .rec file (courier replay)",
    "?      this help; ? again: every symbol; ? again: every error",
    "q      quit: restore the screen, print the audit",
    NULL,
};

static const char *const help_zh[] = {
    "空格   暂停 / 继续 (暂停时模拟时间静止)",
    "s      单步: 只放行一个事件, 底行解释它",
    "n      快进到所选房间的下一个事件 (Tab 选房间)",
    "f x T  快进到下一个故障 / 错误 / 截断 (丢失)",
    "/      跟踪包裹: 输入编号 (#123) 或键, 再按回车",
    "+ -    加快 / 减慢模拟时钟",
    "k      让一个 broker 宕机 (再输入编号)",
    "u      恢复一个 broker (再输入编号)",
    "l      移动分区首领 (分区, 再 broker)",
    "e      给后续 Produce 请求注入错误",
    "d      丢弃一个 broker 的后续响应",
    "r      给一个 broker 增加往返延迟",
    "t      显示 / 隐藏事件日志",
    "R      从此刻起把运行录制到 .rec 文件 (可回放)",
    "?      本帮助; 再按 ?: 符号图例; 再按 ?: 错误说明",
    "q      退出: 恢复屏幕, 打印审计结果",
    NULL,
};

static const char *const legend_en[] = {
    "DESK   #12 parcel number; icpt>ser>part>batch stages (dots: not yet)",
    "SORT   L2 leader the PRODUCER believes (stale, cluster: L3 when wrong)",
    "       <3 batches of the partition on the road",
    "       [4r 1.2K/16K 3ms] records, bytes/batch.size, linger left",
    "       S sealed; R! R!! retrying, one ! per attempt (R!4 past 3)",
    "TRUCKS #45:3bt/48K/12ms request #45: 3 batches, 48 KiB, 12 ms out",
    "       B bytes, K/M KiB/MiB; +2... more trucks; last #44 latest answer",
    "       drop 3 answers still to swallow; rtt+100ms injected delay",
    "MAP    L2 the CLUSTER's leader; e3 leader epoch; ISR in-sync replicas",
    "       HW high watermark (committed below it); LEO leader's log end",
    "       2@540 follower 2 has copied up to 540; * row just changed",
    "       to cut 1:546-630 85 acked: old leader has offsets new one lacks",
    "       cut 1:546-630 85 acked lost: truncated, acked records gone",
    "FOOTER lost: acked, not in logs; dup: extra copies; reord: key order",
    "       exact below 100000 (then 1.2M); offset ranges include both ends",
    "       >> the step's event (bottom line); >#12 the parcel you follow",
    NULL,
};

static const char *const legend_zh[] = {
    "收件员 #12 包裹编号; 拦截>序列>分区>入批 已到阶段 (点: 未到)",
    "分拣员 首领2 生产者认为的首领 (错了时: 已过期, 集群首领3)",
    "       <3 该分区在路上的批次",
    "       [4r 1.2K/16K 3ms] 条数, 字节/batch.size, linger.ms 剩余",
    "       S 已封箱; R! R!! 重试中, 每次一个 ! (超过 3 次写 R!4)",
    "运输车 #45:3批/48K/12ms 请求 #45: 3 个批次, 48 KiB, 已出发 12 毫秒",
    "       B 字节, K/M 即 KiB/MiB; +2... 还有车; 最近 #44 最新应答",
    "       丢响应 3 还要丢弃的应答; 延迟+100ms 注入的延迟",
    "调度员 首领2 集群的首领; 纪元3 首领纪元; ISR 同步副本",
    "       高水位 之下已提交; LEO 首领日志末端",
    "       2@540 跟随者 2 已复制到 540; * 刚变化的行",
    "       将截断 1:546-630 85 条已确认: 旧首领有新首领没有的位移",
    "       已截断 1:546-630 85 条已确认丢失: 被截断, 已确认的消息没了",
    "底栏   丢失: 已确认却不在日志; 重复: 多余副本; 乱序: 违反键内顺序",
    "       10 万以下精确 (以上写 1.2M); 位移区间包含两端",
    "       >> 本步的事件 (底行); >#12 正在跟踪的包裹",
    NULL,
};

const char *const *sim_vt_legend_lines(sim_view_lang lang) {
    return lang == SIM_LANG_ZH ? legend_zh : legend_en;
}

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

static void offset_range(char *dst, size_t size, int64_t from, int64_t end);

/* ---- panel rows -------------------------------------------------------------------------- */

#define L(label) sim_vt_label_text(lang, (label))

void sim_vt_row_title(sim_vt_line *l, const sim_view_model *m) {
    sim_view_lang lang = m->lang;
    const sim_vm_status *s = &m->status;
    char t[32], ev[24];
    int64_t us = s->sim_us > 0 ? s->sim_us : s->sim_ms * 1000;
    /* simulated time to the millisecond, always: a step moves it visibly or not at all */
    snprintf(t, sizeof t, "%lld.%03llds", (long long)(us / 1000000),
             (long long)((us / 1000) % 1000));
    snprintf(ev, sizeof ev, "%llu", (unsigned long long)s->events);
    sim_vt_line_add(l, SIM_ST_TITLE, " %s ", L(SIM_L_APP));
    if (s->scenario[0])
        sim_vt_line_add(l, SIM_ST_TITLE, "| %s ", s->scenario);
    sim_vt_line_add(l, SIM_ST_TITLE, "| ");
    sim_vt_label state = s->finished              ? SIM_L_FINISHED
                         : s->running_to          ? SIM_L_RUN_TO
                         : s->stepping && s->steps ? SIM_L_STEP
                         : s->stepping || s->paused ? SIM_L_PAUSED
                                                    : SIM_L_RUNNING;
    sim_vt_style st = state == SIM_L_RUNNING    ? SIM_ST_OK
                      : state == SIM_L_FINISHED ? SIM_ST_TITLE
                                                : SIM_ST_WARN;
    sim_vt_line_add(l, st, "%s", L(state));
    if ((s->stepping || s->paused) && s->step_waiting > 0 && !s->finished)
        sim_vt_line_add(l, SIM_ST_WARN, " (%s %d)", L(SIM_L_HELD), (int)s->step_waiting);
    sim_vt_line_add(l, SIM_ST_TITLE, " %s%.2g t=%s %s %s ", L(SIM_L_SPEED), s->speed, t,
                    L(SIM_L_EVENTS), ev);
    if (s->room >= 0 && s->room < SIM_ROOM_SIM)
        sim_vt_line_add(l, SIM_ST_TITLE, "[%s] ", sim_vt_room_name(lang, s->room));
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

const char *sim_vt_room_name(sim_view_lang lang, int room) {
    static const char *const en[] = {"desk", "sorting", "trucks", "map", "sim"};
    static const char *const zh[] = {"收件", "分拣", "运输", "调度", "模拟"};
    if (room < 0 || room > 4)
        return "?";
    return lang == SIM_LANG_ZH ? zh[room] : en[room];
}

void sim_vt_row_header(sim_vt_line *l, sim_view_lang lang, sim_vt_label room, const char *extra) {
    sim_vt_line_add(l, SIM_ST_HEADER, "== %s ", L(room));
    if (extra && extra[0])
        sim_vt_line_add(l, SIM_ST_HEADER, "%s ", extra);
    sim_vt_line_fill(l, SIM_ST_HEADER, '=');
}

void sim_vt_row_map_header(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *nodes,
                           int n_nodes) {
    sim_vt_row_map_header_at(l, lang, nodes, n_nodes, NULL);
}

void sim_vt_row_map_header_at(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *nodes,
                              int n_nodes, const char *bootstrap) {
    sim_vt_line_add(l, SIM_ST_HEADER, "== %s ", L(SIM_L_MAP));
    if (n_nodes > 0)
        sim_vt_line_add(l, SIM_ST_HEADER, "%s", L(SIM_L_NODE));
    for (int i = 0; i < n_nodes; i++) {
        sim_vt_line_add(l, SIM_ST_HEADER, " %d:", (int)nodes[i].id);
        sim_vt_line_add(l, nodes[i].up ? SIM_ST_OK : SIM_ST_ERR, "%s",
                        L(nodes[i].up ? SIM_L_UP : SIM_L_DOWN));
    }
    sim_vt_line_add(l, SIM_ST_HEADER, " ");
    /* Where kcat -G or courier consume -G reach this cluster, only when it fits whole. */
    const char *word = lang == SIM_LANG_ZH ? "引导地址" : "bootstrap";
    if (bootstrap && bootstrap[0] &&
        l->cols + (int)strlen(bootstrap) + 16 < l->limit)
        sim_vt_line_add(l, SIM_ST_HEADER, "%s %s ", word, bootstrap);
    sim_vt_line_fill(l, SIM_ST_HEADER, '=');
}

void sim_vt_row_consumers(sim_vt_line *l, sim_view_lang lang, const sim_vm_group *g) {
    static const struct {
        const char *state, *zh;
    } states[] = {{"Stable", "稳定"},
                  {"PreparingRebalance", "准备再均衡"},
                  {"CompletingRebalance", "完成再均衡"},
                  {"Empty", "空"},
                  {"Dead", "已删除"}};
    bool zh = lang == SIM_LANG_ZH;
    const char *state = g->state;
    for (size_t i = 0; zh && i < sizeof states / sizeof states[0]; i++)
        if (!strcmp(g->state, states[i].state))
            state = states[i].zh;
    char id[24];
    sim_vt_clip(id, sizeof id, g->group_id, 16, true);
    sim_vt_line_add(l, SIM_ST_NORMAL, "%s %s ", zh ? "消费者组" : "consumers", id);
    sim_vt_line_add(l, !strcmp(g->state, "Stable") ? SIM_ST_OK : SIM_ST_WARN, "%s", state);
    sim_vt_line_add(l, SIM_ST_NORMAL, zh ? " 第%d代 协调者%d" : " gen %d coord %d",
                    (int)g->generation, (int)g->coordinator);
    if (g->lag >= 0)
        sim_vt_line_add(l, g->lag > 0 ? SIM_ST_WARN : SIM_ST_NORMAL, zh ? " 滞后 %lld" : " lag %lld",
                        (long long)g->lag);
    sim_vt_line_add(l, SIM_ST_NORMAL, ":");
    if (g->members == 0)
        sim_vt_line_add(l, SIM_ST_DIM, zh ? " 无成员" : " no members");
    else if (g->assignment[0]) {
        char text[SIM_VM_LINE + 2];
        snprintf(text, sizeof text, " %s", g->assignment);
        sim_vt_add_cut(l, SIM_ST_NORMAL, text);
    } else
        sim_vt_line_add(l, SIM_ST_DIM, zh ? " %d 成员" : " %d members", (int)g->members);
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
    sim_vt_row_node_mark(l, lang, n, -1);
}

void sim_vt_row_node_mark(sim_vt_line *l, sim_view_lang lang, const sim_vm_node *n,
                          int32_t mark_corr) {
    char num[16], last[96] = "";
    sim_vt_style base = n->up ? SIM_ST_NORMAL : SIM_ST_DIM;
    sim_vt_line_add(l, base, "%s %d ", L(SIM_L_NODE), (int)n->id);
    if (n->up)
        sim_vt_line_add(l, SIM_ST_OK, "%-4s", L(SIM_L_UP));
    else
        sim_vt_line_add(l, SIM_ST_ERR, "%-4s", L(SIM_L_DOWN));
    sim_vt_count(num, sizeof num, n->requests_total);
    sim_vt_line_add(l, base, " %s %s", L(SIM_L_REQUESTS), num);
    if (n->errors_total > 0) {
        sim_vt_count(num, sizeof num, n->errors_total);
        sim_vt_line_add(l, SIM_ST_ERR, " %s %s", L(SIM_L_ERRORS), num);
    }
    if (n->rtt_ms > 0)
        sim_vt_line_add(l, SIM_ST_WARN, " %s%dms", L(SIM_L_RTT), (int)n->rtt_ms);
    if (n->drop_pending > 0)
        sim_vt_line_add(l, SIM_ST_ERR, " %s %d", L(SIM_L_DROP), (int)n->drop_pending);
    /* The last answer is kept visible at any width: the trucks in between give way. */
    if (n->has_last)
        snprintf(last, sizeof last, " | %s #%d %s", L(SIM_L_LAST), (int)n->last.correlation_id,
                 n->last.err == 0 ? L(SIM_L_OK)
                 : n->last.err_name[0] ? n->last.err_name
                                       : L(SIM_L_ERRORS));
    int reserve = sim_vt_width(last);
    sim_vt_line_add(l, base, " |");
    if (n->n_inflight_total == 0)
        sim_vt_line_add(l, SIM_ST_DIM, " %s", L(SIM_L_IDLE));
    int shown = 0;
    for (int i = 0; i < n->n_inflight; i++) {
        const sim_vm_request *q = &n->inflight[i];
        char b[16], age[16], tok[64];
        sim_vt_bytes(b, sizeof b, q->bytes);
        sim_vt_ms(age, sizeof age, q->age_ms);
        /* "#45:3bt/48K/12ms": truck (corr id), batches, bytes, age — whole or not at all */
        snprintf(tok, sizeof tok, " %s#%d:%d%s/%s/%s", q->correlation_id == mark_corr ? ">" : "",
                 (int)q->correlation_id, (int)q->batches, L(SIM_L_BATCHES_UNIT), b, age);
        int left = n->n_inflight_total - i - 1;
        if (l->cols + sim_vt_width(tok) + reserve + (left > 0 ? 5 : 0) > l->limit) {
            if (l->cols + reserve + 5 <= l->limit)
                sim_vt_line_add(l, SIM_ST_DIM, " +%d\u2026", n->n_inflight_total - i);
            shown = -1;
            break;
        }
        sim_vt_line_add(l, q->correlation_id == mark_corr ? SIM_ST_HILITE
                           : n->up                      ? SIM_ST_BOX
                                                        : SIM_ST_DIM,
                        "%s", tok);
        shown++;
    }
    if (shown >= 0 && n->n_inflight_total > n->n_inflight)
        sim_vt_line_add(l, SIM_ST_DIM, " +%d", n->n_inflight_total - n->n_inflight);
    if (n->has_last) {
        /* if even the last answer does not fit, it replaces what came before it */
        while (l->cols + reserve > l->limit && l->len > 0) {
            size_t cut = l->len - 1;
            while (cut > 0 && ((unsigned char)l->text[cut] & 0xC0) == 0x80)
                cut--;
            l->cols -= sim_vt_width(l->text + cut);
            l->len = cut;
            l->text[cut] = '\0';
            for (int i = 0; i < l->n_spans; i++)
                if (l->spans[i].end > cut)
                    l->spans[i].end = cut;
        }
        sim_vt_line_add(l, base, " | %s #%d ", L(SIM_L_LAST), (int)n->last.correlation_id);
        if (n->last.err == 0)
            sim_vt_line_add(l, SIM_ST_OK, "%s", L(SIM_L_OK));
        else
            sim_vt_line_add(l, SIM_ST_ERR, "%s",
                            n->last.err_name[0] ? n->last.err_name : L(SIM_L_ERRORS));
    }
}

void sim_vt_row_map(sim_vt_line *l, sim_view_lang lang, const sim_vm_map_row *r, int label_cols) {
    char hw[24], leo[24], a[64], b[24], cut[160] = "";
    bool hot = r->changed_ago_ms >= 0 && r->changed_ago_ms < 3000;
    sim_vt_style base = hot ? SIM_ST_HILITE : SIM_ST_NORMAL;
    /* '*' marks a row that just changed, for screens (and captures) without colour. */
    add_tp(l, base, r->topic, r->partition, label_cols, hot ? '*' : ' ');
    if (r->leader >= 0)
        sim_vt_line_add(l, base, "%s%-2d ", L(SIM_L_LEADER), (int)r->leader);
    else
        sim_vt_line_add(l, SIM_ST_ERR, "%s-  ", L(SIM_L_LEADER));
    sim_vt_line_add(l, base, "%s%-2d ", L(SIM_L_EPOCH), (int)r->epoch);
    char ids[64];
    sim_vt_ids(ids, sizeof ids, r->isr, r->n_isr);
    sim_vt_line_add(l, r->n_isr < r->n_replicas ? SIM_ST_WARN : base, "%s %-5s ", L(SIM_L_ISR),
                    ids);
    sim_vt_count(hw, sizeof hw, r->high_watermark);
    sim_vt_count(leo, sizeof leo, r->log_end_offset);
    sim_vt_line_add(l, base, "%s %s %s %s", L(SIM_L_HW), hw, L(SIM_L_LEO), leo);
    if (r->trunc_from >= 0 && r->trunc_to > r->trunc_from) {
        /* the acknowledged-but-not-replicated stretch: cut already, or to be cut */
        offset_range(a, sizeof a, r->trunc_from, r->trunc_to);
        sim_vt_count(b, sizeof b, r->trunc_acked);
        snprintf(cut, sizeof cut, " %s %d:%s %s %s",
                 L(r->trunc_pending ? SIM_L_TO_CUT : SIM_L_CUT), (int)r->trunc_node, a, b,
                 L(r->trunc_pending ? SIM_L_ACKED : SIM_L_ACKED_LOST));
    }
    /* each follower's position: how far behind the leader's log end it is (whole, and only
     * while the truncation, the row's lesson, still fits after them) */
    int reserve = sim_vt_width(cut);
    for (int q = 0; q < r->n_replicas; q++) {
        if (r->replicas[q] == r->leader)
            continue;
        bool in_isr = false;
        for (int i = 0; i < r->n_isr; i++)
            if (r->isr[i] == r->replicas[q])
                in_isr = true;
        sim_vt_count(a, sizeof a, r->replica_end[q]);
        char tok[96];
        snprintf(tok, sizeof tok, " %d@%s", (int)r->replicas[q], a);
        if (l->cols + sim_vt_width(tok) + reserve > l->limit)
            break;
        sim_vt_line_add(l, in_isr ? SIM_ST_DIM : SIM_ST_WARN, "%s", tok);
    }
    if (cut[0])
        sim_vt_add_cut(l, SIM_ST_ERR, cut);
}

/* Appends one item whole, or "…" once when it does not fit: never half a number. */
static void add_whole(sim_vt_line *l, sim_vt_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_whole(sim_vt_line *l, sim_vt_style style, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (l->cols + sim_vt_width(buf) <= l->limit) {
        sim_vt_line_add(l, style, "%s", buf);
    } else if (l->len < 3 || strcmp(l->text + l->len - 3, "\u2026")) {
        if (l->cols + 2 > l->limit) {
            /* make room for the mark by dropping the last character */
            size_t cut = l->len;
            while (cut > 0 && ((unsigned char)l->text[cut - 1] & 0xC0) == 0x80)
                cut--;
            if (cut > 0)
                cut--;
            l->cols -= sim_vt_width(l->text + cut);
            l->len = cut;
            l->text[cut] = '\0';
            for (int i = 0; i < l->n_spans; i++)
                if (l->spans[i].end > cut)
                    l->spans[i].end = cut;
        }
        sim_vt_line_add(l, SIM_ST_DIM, " \u2026");
    }
}

/* The audit so far: sent, acknowledged, failed, retries, and lost/duplicated once known. */
static void footer_audit(sim_vt_line *l, sim_view_lang lang, const sim_vm_footer *f) {
    char a[24];
    sim_vt_count(a, sizeof a, f->sent);
    add_whole(l, SIM_ST_NORMAL, "%s %s", L(SIM_L_SENT), a);
    sim_vt_count(a, sizeof a, f->acked);
    add_whole(l, SIM_ST_OK, " %s %s", L(SIM_L_ACKED), a);
    sim_vt_count(a, sizeof a, f->failed);
    add_whole(l, f->failed ? SIM_ST_ERR : SIM_ST_NORMAL, " %s %s", L(SIM_L_FAILED), a);
    if (f->lost >= 0) {
        sim_vt_count(a, sizeof a, f->lost);
        add_whole(l, f->lost ? SIM_ST_ERR : SIM_ST_OK, " %s %s", L(SIM_L_LOST), a);
    }
    if (f->duplicated >= 0) {
        sim_vt_count(a, sizeof a, f->duplicated);
        add_whole(l, f->duplicated ? SIM_ST_ERR : SIM_ST_OK, " %s %s", L(SIM_L_DUPLICATED),
                        a);
    }
    if (f->reordered >= 0) {
        sim_vt_count(a, sizeof a, f->reordered);
        add_whole(l, f->reordered ? SIM_ST_ERR : SIM_ST_OK, " %s %s", L(SIM_L_REORDERED), a);
    }
    sim_vt_count(a, sizeof a, f->retries);
    add_whole(l, f->retries ? SIM_ST_WARN : SIM_ST_NORMAL, " %s %s", L(SIM_L_RETRIES), a);
}

void sim_vt_row_footer(sim_vt_line *l, const sim_view_model *m) {
    sim_view_lang lang = m->lang;
    const sim_vm_footer *f = &m->footer;
    char a[16], b[16], c[16];
    sim_vt_rate(a, sizeof a, f->records_per_s);
    sim_vt_rate(b, sizeof b, f->requests_per_s);
    snprintf(c, sizeof c, "%.1f", f->records_per_request > 0 ? f->records_per_request : 0.0);
    /* Over, or too narrow for everything: the outcome first (lost, dup, reord are the
     * lesson), the rates after it as room allows. */
    sim_vt_line probe;
    sim_vt_line_init(&probe, SIM_VT_LINE_BYTES / 4);
    sim_vt_line_add(&probe, SIM_ST_NORMAL, "%s %s  %s %s  %s %s | ", L(SIM_L_RATE_REC), a,
                    L(SIM_L_RATE_REQ), b, L(SIM_L_REC_PER_REQ), c);
    footer_audit(&probe, lang, f);
    if (m->status.finished || probe.cols > l->limit) {
        footer_audit(l, lang, f);
        add_whole(l, SIM_ST_NORMAL, " | %s %s", L(SIM_L_REC_PER_REQ), c);
        if (!m->status.finished)
            add_whole(l, SIM_ST_NORMAL, " %s %s", L(SIM_L_RATE_REC), a);
        return;
    }
    int limit = l->limit;
    *l = probe;
    l->limit = limit; /* everything fitted */
}

void sim_vt_row_keys(sim_vt_line *l, const sim_view_model *m) {
    sim_view_lang lang = m->lang;
    const sim_vm_status *s = &m->status;
    bool held = (s->stepping || s->paused) && !s->running_to;
    if (m->message[0]) { /* a prompt or the answer to a key, for a few seconds */
        sim_vt_line_add(l, SIM_ST_WARN, "%s", m->message);
    } else if (held && m->has_step_event) {
        /* every step explains itself: the event it let through, in the class's language */
        char text[SIM_VT_LINE_BYTES];
        sim_vt_explain(text, sizeof text, lang, &m->step_event);
        int64_t us = m->step_event.t_us;
        sim_vt_line_add(l, m->step_event.err ? SIM_ST_ERR : SIM_ST_HILITE, "%s",
                        L(SIM_L_STEP_MARK));
        /* the event's own time: the header's t= stands at it, not past it */
        sim_vt_line_add(l, SIM_ST_DIM, " %lld.%03llds ", (long long)(us / 1000000),
                        (long long)((us / 1000) % 1000));
        sim_vt_add_cut(l, m->step_event.err ? SIM_ST_ERR : SIM_ST_NORMAL, text);
    } else {
        sim_vt_line_add(l, SIM_ST_DIM, "%s", L(SIM_L_KEYS_SHORT));
    }
}

int sim_vt_wrap(const char *text, int cols, int indent, char (*out)[SIM_VT_WRAP_BYTES],
                int max_lines) {
    int n = 0;
    const char *p = text;
    while (*p && n < max_lines) {
        int room = cols - (n ? indent : 0);
        if (room < 8)
            room = 8;
        char piece[SIM_VT_WRAP_BYTES];
        sim_vt_clip(piece, sizeof piece, p, room, false);
        size_t len = strlen(piece);
        if (p[len] != '\0' && n + 1 < max_lines) {
            /* break after the last space that keeps a whole word on this line */
            size_t cut = len;
            while (cut > 0 && piece[cut - 1] != ' ')
                cut--;
            if (cut > len / 3)
                len = cut;
            piece[len] = '\0';
        } else if (p[len] != '\0') {
            /* the last line allowed and still too long: cut at a word, with "…" */
            sim_vt_line l;
            sim_vt_line_init(&l, room);
            sim_vt_add_cut(&l, SIM_ST_NORMAL, p);
            if (snprintf(piece, sizeof piece, "%s", l.text) < 0) /* cut to the piece: meant */
                piece[0] = '\0';
            len = strlen(p);
        }
        while (len > 0 && piece[len - 1] == ' ' && p[len] != '\0')
            piece[--len] = '\0';
        if (snprintf(out[n], SIM_VT_WRAP_BYTES, "%*s%s", n ? indent : 0, "", piece) < 0)
            out[n][0] = '\0';
        n++;
        p += len;
        while (*p == ' ')
            p++;
    }
    return n;
}

void sim_vt_add_cut(sim_vt_line *l, sim_vt_style style, const char *text) {
    int left = l->limit - l->cols;
    if (left <= 0)
        return;
    if (sim_vt_width(text) <= left) {
        sim_vt_line_add(l, style, "%s", text);
        return;
    }
    /* cut at the last token boundary that leaves room for the ellipsis */
    char buf[SIM_VT_LINE_BYTES];
    sim_vt_clip(buf, sizeof buf, text, left - 1, false);
    size_t n = strlen(buf);
    size_t cut = n;
    while (cut > 0 && buf[cut - 1] != ' ' && buf[cut - 1] != ',' && buf[cut - 1] != '(')
        cut--;
    if (cut > n / 2) /* a boundary not too far back: keep whole tokens */
        n = cut;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    sim_vt_line_add(l, style, "%s\u2026", buf);
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
    int n_map = (m->n_map_total > 0 ? m->n_map_total : 1) + m->n_groups;
    slot desk = {&out->desk, n_desk < 2 ? n_desk : 2, 1, SIM_VM_MAX_DESK};
    slot sorting = {&out->sorting, n_parts, 1, n_parts};
    slot trucks = {&out->trucks, n_nodes, 1, n_nodes};
    slot map = {&out->map, n_map, 1, n_map};
    /* Past the first three rows the desk is nice to have, not needed: it grows last. */
    if (desk.max > n_desk)
        desk.max = n_desk < 3 ? 3 : n_desk;

    if (m->show_trace || m->parcel.active) {
        int th = avail / 3;
        if (th < 4)
            th = 4;
        if (m->parcel.active && th < 8)
            th = 8; /* the parcel's history: its stops, one a line */
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

/* ---- explanations ------------------------------------------------------------------------- */

typedef struct err_text {
    int32_t code;
    const char *en, *zh;
} err_text;

static const err_text error_texts[] = {
    {KW_ERR_NOT_LEADER_OR_FOLLOWER,
     "the broker is not the partition's leader (any more): the producer refreshes metadata and "
     "retries on the new leader",
     "该 broker 已不是这个分区的首领: 生产者刷新元数据, 向新首领重试"},
    {KW_ERR_NOT_ENOUGH_REPLICAS,
     "fewer in-sync replicas than min.insync.replicas: nothing was written; the producer retries "
     "until delivery.timeout.ms",
     "同步副本数少于 min.insync.replicas: 没有写入; 生产者重试, 直到 delivery.timeout.ms"},
    {KW_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
     "written by the leader, but the ISR shrank below min.insync.replicas before it was "
     "replicated: the producer retries (a duplicate unless idempotent)",
     "首领已写入, 但复制完成前 ISR 低于 min.insync.replicas: 生产者重试 (非幂等时会重复)"},
    {KW_ERR_REQUEST_TIMED_OUT,
     "the broker gave up waiting for the replicas: the producer retries the batch",
     "broker 等副本超时: 生产者重试这个批次"},
    {KW_ERR_MESSAGE_TOO_LARGE,
     "the batch is larger than the broker accepts: the producer splits it and sends the halves",
     "批次超过 broker 的上限: 生产者把它拆开再发送"},
    {KW_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
     "the broker expected another sequence number (a batch before this one is missing): the "
     "idempotent producer resets the partition's sequence or fails the batch",
     "broker 期待另一个序列号 (前面的批次缺失): 幂等生产者重置该分区的序列号或让批次失败"},
    {KW_ERR_DUPLICATE_SEQUENCE_NUMBER,
     "the broker already has this batch: it is acknowledged with its original offset, not "
     "written twice",
     "broker 已有这个批次: 以原来的位移确认, 不会写两次"},
    {KW_ERR_UNKNOWN_TOPIC_OR_PARTITION,
     "the broker does not host this partition: the producer refreshes metadata and retries",
     "该 broker 没有这个分区: 生产者刷新元数据后重试"},
    {KW_ERR_LEADER_NOT_AVAILABLE,
     "the partition has no leader right now (an election is under way): the producer waits for "
     "metadata and retries",
     "分区暂时没有首领 (正在选举): 生产者等待元数据后重试"},
    {KW_ERR_BROKER_NOT_AVAILABLE, "the broker is not available: the producer retries elsewhere",
     "broker 不可用: 生产者换一个 broker 重试"},
    {KW_ERR_NETWORK_EXCEPTION,
     "the connection broke before the answer: the producer reconnects and retries",
     "应答前连接断开: 生产者重连后重试"},
    {KW_ERR_CORRUPT_MESSAGE, "the broker found a bad CRC: the producer retries the batch",
     "broker 发现 CRC 校验错误: 生产者重试这个批次"},
    {KW_ERR_UNKNOWN_PRODUCER_ID,
     "the broker has no state for this producer id: the producer bumps its epoch and retries",
     "broker 没有这个生产者编号的状态: 生产者提升纪元后重试"},
    {KW_ERR_INVALID_PRODUCER_EPOCH,
     "a newer producer epoch exists: this producer is fenced; its batches fail",
     "已有更新的生产者纪元: 这个生产者被隔离, 批次失败"},
    {KW_ERR__TIMED_OUT,
     "no answer within request.timeout.ms: the producer closes the connection and retries the "
     "batches (they may already be written: a duplicate unless idempotent)",
     "request.timeout.ms 内没有应答: 生产者关闭连接并重试 (可能已写入: 非幂等时会重复)"},
    {KW_ERR__TRANSPORT,
     "the connection failed or closed: the producer reconnects (reconnect.backoff.ms) and "
     "retries",
     "连接失败或关闭: 生产者按 reconnect.backoff.ms 重连后重试"},
    {KW_ERR__DELIVERY_TIMEOUT,
     "delivery.timeout.ms passed since the record was sent: the producer gives up; the record "
     "fails",
     "从发送起已过 delivery.timeout.ms: 生产者放弃, 消息失败"},
    {KW_ERR__BUFFER_EXHAUSTED,
     "no buffer memory within max.block.ms: kp_produce fails at the desk",
     "max.block.ms 内拿不到缓冲内存: 收件时就失败"},
    {KW_ERR__RECORD_TOO_LARGE,
     "the record is larger than max.request.size: refused at the desk, never sent",
     "消息超过 max.request.size: 收件时拒绝, 从不发送"},
    {KW_ERR__METADATA_TIMEOUT,
     "no metadata for the topic within max.block.ms: refused at the desk",
     "max.block.ms 内没有主题元数据: 收件时拒绝"},
    {KW_ERR__INTERRUPTED,
     "the producer was closed with the record still outstanding: it fails",
     "生产者关闭时消息还未完成: 消息失败"},
    {KW_ERR__FATAL, "a fatal idempotence error: the producer is unusable, everything fails",
     "幂等性致命错误: 生产者不可再用, 全部失败"},
};

const char *sim_vt_error_text(sim_view_lang lang, int32_t err) {
    for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
        if (error_texts[i].code == err)
            return lang == SIM_LANG_ZH ? error_texts[i].zh : error_texts[i].en;
    if (err == 0)
        return lang == SIM_LANG_ZH ? "成功" : "no error";
    return lang == SIM_LANG_ZH ? "broker 或客户端报告的错误: 可重试的错误会重试, 其余让批次失败"
                               : "an error from the broker or the client: retriable errors are "
                                 "retried, the others fail the batch";
}

int sim_vt_error_count(void) {
    return (int)(sizeof error_texts / sizeof error_texts[0]);
}

int32_t sim_vt_error_code(int i) {
    return i >= 0 && i < sim_vt_error_count() ? error_texts[i].code : 0;
}

static const char *vt_err_name(int32_t err) {
    const char *n = kw_err_name((kw_err)err);
    return n ? n : "ERROR";
}

/* An inclusive offset range as the class counts records: "546" or "546–547". */
static void offset_range(char *dst, size_t size, int64_t from, int64_t end) {
    if (end <= from + 1)
        snprintf(dst, size, "%lld", (long long)from);
    else
        snprintf(dst, size, "%lld\u2013%lld", (long long)from, (long long)end - 1);
}

static bool is(const sim_event *e, const char *kind) {
    return strcmp(e->kind, kind) == 0;
}

/* Formats in the language asked for; both formats take the same arguments in the same order. */
#define SAY(en, zh, ...)                                                                           \
    do {                                                                                           \
        if (lang == SIM_LANG_ZH)                                                                   \
            snprintf(dst, size, zh, __VA_ARGS__);                                                  \
        else                                                                                       \
            snprintf(dst, size, en, __VA_ARGS__);                                                  \
    } while (0)

static bool explain_record(char *dst, size_t size, sim_view_lang lang, const sim_event *e,
                           const char *tp) {
    long long id = (long long)e->record_id;
    if (is(e, "record.sent"))
        SAY("the app handed parcel #%lld to the front desk (kp_produce, topic %s)",
            "应用把包裹 #%lld 交给收件员 (kp_produce, 主题 %s)", id, e->topic);
    else if (is(e, "record.intercepted"))
        SAY("parcel #%lld passed the interceptors (onSend)", "包裹 #%lld 经过了拦截器 (onSend)",
            id);
    else if (is(e, "record.serialized"))
        SAY("parcel #%lld serialized: key and value take %lld bytes",
            "包裹 #%lld 已序列化: 键和值共 %lld 字节", id, (long long)e->bytes);
    else if (is(e, "record.partitioned"))
        SAY("the partitioner sent parcel #%lld to partition %s", "分区器把包裹 #%lld 分到分区 %s",
            id, tp);
    else if (is(e, "record.appended"))
        SAY("parcel #%lld joined batch b%lld of %s (%d records in it now)",
            "包裹 #%lld 放进了批次 b%lld (分区 %s, 现有 %d 条)", id, (long long)e->batch_id, tp,
            (int)e->count);
    else if (is(e, "record.failed"))
        SAY("parcel #%lld refused at the desk: %s", "包裹 #%lld 在收件处被拒: %s", id,
            vt_err_name(e->err));
    else
        return false;
    return true;
}

static bool explain_producer(char *dst, size_t size, sim_view_lang lang, const sim_event *e,
                             const char *tp) {
    long long b = (long long)e->batch_id;
    int node = (int)e->node, corr = (int)e->corr_id;
    char range[48];
    if (is(e, "batch.created")) {
        SAY("a new batch b%lld opened for %s (room for %lld bytes)",
            "新批次 b%lld 为 %s 打开 (容量 %lld 字节)", b, tp, (long long)e->bytes);
    } else if (is(e, "batch.sealed")) {
        SAY("batch b%lld of %s closed: full, or linger.ms ran out; it waits for a truck",
            "批次 b%lld (%s) 封箱: 已满或 linger.ms 到期, 等待运输车", b, tp);
    } else if (is(e, "batch.drained")) {
        SAY("batch b%lld of %s loaded on a truck to broker %d (%s)",
            "批次 b%lld (%s) 装上开往 broker %d 的运输车 (%s)", b, tp, node, e->detail);
    } else if (is(e, "batch.completed") && e->err == 0) {
        offset_range(range, sizeof range, e->offset, e->offset + (e->count > 0 ? e->count : 1));
        SAY("batch b%lld acknowledged: %d record%s of %s at offset%s %s",
            "批次 b%lld 已确认: %d 条%s (%s) 位于位移%s %s", b, (int)e->count,
            e->count == 1 || lang == SIM_LANG_ZH ? "" : "s", tp,
            e->count == 1 || lang == SIM_LANG_ZH ? "" : "s", range);
    } else if (is(e, "batch.completed")) {
        SAY("batch b%lld of %s failed for good: %s", "批次 b%lld (%s) 最终失败: %s", b, tp,
            vt_err_name(e->err));
    } else if (is(e, "batch.retried")) {
        SAY("batch b%lld of %s goes back to the queue after %s (%s)",
            "批次 b%lld (%s) 因 %s 回到队列 (%s)", b, tp, vt_err_name(e->err), e->detail);
    } else if (is(e, "batch.expired")) {
        SAY("batch b%lld of %s expired: delivery.timeout.ms passed, its records fail",
            "批次 b%lld (%s) 过期: 超过 delivery.timeout.ms, 其中的消息失败", b, tp);
    } else if (is(e, "batch.split")) {
        SAY("batch b%lld of %s was too large: split into %d batches",
            "批次 b%lld (%s) 太大: 拆成 %d 个批次", b, tp, (int)e->count);
    } else if (is(e, "request.sent")) {
        SAY("truck #%d left for broker %d: a request with %d batch(es), %lld bytes",
            "运输车 #%d 开往 broker %d: 请求含 %d 个批次, %lld 字节", corr, node, (int)e->count,
            (long long)e->bytes);
    } else if (is(e, "response.received") && e->err == 0) {
        SAY("the answer to truck #%d came back from broker %d: OK (%s)",
            "运输车 #%d 的应答从 broker %d 回来了: 成功 (%s)", corr, node, e->detail);
    } else if (is(e, "response.received")) {
        SAY("the answer to truck #%d from broker %d: %s", "运输车 #%d 的应答 (broker %d): %s",
            corr, node, vt_err_name(e->err));
    } else if (is(e, "request.timed_out")) {
        SAY("truck #%d to broker %d timed out (request.timeout.ms): connection closed, its "
            "batches will be retried",
            "运输车 #%d (broker %d) 超时 (request.timeout.ms): 连接关闭, 批次将重试", corr, node);
    } else if (is(e, "buffer.wait")) {
        SAY("the app waits for buffer memory (buffer.memory is full): %lld bytes wanted",
            "应用等待缓冲内存 (buffer.memory 已满): 需要 %lld 字节", (long long)e->bytes);
    } else if (is(e, "buffer.wait_done")) {
        SAY("the wait for buffer memory ended (%s)", "等待缓冲内存结束 (%s)", e->detail);
    } else if (is(e, "metadata.requested")) {
        SAY("the producer asks broker %d for metadata (request #%d)",
            "生产者向 broker %d 请求元数据 (请求 #%d)", node, corr);
    } else if (is(e, "metadata.updated")) {
        SAY("new metadata: the producer knows the leaders of %d partitions",
            "新元数据: 生产者知道 %d 个分区的首领", (int)e->count);
    } else if (is(e, "connection.up")) {
        SAY("connected to broker %d (versions agreed)", "已连接 broker %d (版本已协商)", node);
    } else if (is(e, "connection.down")) {
        SAY("the connection to broker %d closed (%s)", "与 broker %d 的连接已关闭 (%s)", node,
            e->err ? vt_err_name(e->err) : "-");
    } else if (is(e, "producer.id")) {
        SAY("the producer got its id for idempotence (%s)", "生产者拿到幂等用的编号 (%s)",
            e->detail);
    } else if (is(e, "producer.epoch_bumped")) {
        SAY("the producer bumped its epoch after %s (%s)", "生产者因 %s 升级纪元 (%s)",
            vt_err_name(e->err), e->detail);
    } else if (is(e, "interceptor.error")) {
        SAY("an interceptor failed on parcel #%lld: %s", "拦截器处理包裹 #%lld 出错: %s",
            (long long)e->record_id, vt_err_name(e->err));
    } else {
        return false;
    }
    return true;
}

static bool explain_broker(char *dst, size_t size, sim_view_lang lang, const sim_event *e,
                           const char *tp) {
    int node = (int)e->node, corr = (int)e->corr_id;
    char range[48];
    offset_range(range, sizeof range, e->offset, e->offset_end);
    long long n = e->offset_end > e->offset ? (long long)(e->offset_end - e->offset) : 0;
    const char *pl = n == 1 || lang == SIM_LANG_ZH ? "" : "s"; /* English plural */
    if (is(e, "request.received")) {
        char api[48];
        const char *v = strstr(e->detail, " v");
        int ver = -1;
        if (v)
            sscanf(v, " v%d", &ver);
        const char *an = kw_api_name(e->api);
        if (ver >= 0)
            snprintf(api, sizeof api, "%s v%d", an ? an : "?", ver);
        else
            snprintf(api, sizeof api, "%s", an ? an : "?");
        SAY("broker %d received request #%d (%s, %lld bytes)", "broker %d 收到请求 #%d (%s, %lld 字节)",
            node, corr, api, (long long)e->bytes);
    } else if (is(e, "response.sent")) {
        SAY("broker %d answered request #%d: %s", "broker %d 应答请求 #%d: %s", node, corr,
            e->err ? vt_err_name(e->err) : (lang == SIM_LANG_ZH ? "成功" : "OK"));
    } else if (is(e, "response.dropped")) {
        SAY("broker %d dropped its answer to #%d (a fault): the producer will time out",
            "broker %d 丢掉了对 #%d 的应答 (故障): 生产者将超时", node, corr);
    } else if (is(e, "records.appended")) {
        /* the detail ends with the HW before and after, when the broker told it */
        long long hw0 = -1, hw1 = -1;
        const char *hw = strstr(e->detail, "HW ");
        if (hw && sscanf(hw, "HW %lld -> %lld", &hw0, &hw1) != 2)
            hw0 = hw1 = -1;
        if (hw0 >= 0 && hw1 > hw0)
            SAY("broker %d appended %lld record%s to %s at offset%s %s (HW %lld → %lld)",
                "broker %d 把 %lld 条消息%s追加到 %s, 位移%s %s (高水位 %lld → %lld)", node, n, pl,
                tp, pl, range, hw0, hw1);
        else if (hw0 >= 0)
            SAY("broker %d appended %lld record%s to %s at offset%s %s (HW still %lld: not yet "
                "replicated)",
                "broker %d 把 %lld 条消息%s追加到 %s, 位移%s %s (高水位仍为 %lld: 尚未复制)",
                node, n, pl, tp, pl, range, hw0);
        else
            SAY("broker %d appended %lld record%s to %s at offset%s %s",
                "broker %d 把 %lld 条消息%s追加到 %s, 位移%s %s", node, n, pl, tp, pl, range);
    } else if (is(e, "batch.duplicate")) {
        SAY("broker %d saw a duplicate batch for %s (same producer id and sequence): answered "
            "with its offset %lld, nothing stored twice",
            "broker %d 发现 %s 的重复批次 (相同生产者编号和序列号): 以原位移 %lld 应答, 不重复存储",
            node, tp, (long long)e->offset);
    } else if (is(e, "produce.rejected")) {
        SAY("broker %d refused a batch for %s: %s", "broker %d 拒绝了 %s 的一个批次: %s", node, tp,
            vt_err_name(e->err));
    } else if (is(e, "replica.fetched")) {
        SAY("follower broker %d copied offset%s %s of %s", "跟随者 broker %d 复制了位移%s %s (%s)",
            node, pl, range, tp);
    } else if (is(e, "hw.advanced")) {
        SAY("%s: high watermark now %lld (%s): the records below it are committed",
            "%s: 高水位现为 %lld (%s): 其下的消息已提交", tp, (long long)e->offset, e->detail);
    } else if (is(e, "isr.changed")) {
        SAY("%s: in-sync replicas now %s", "%s: 同步副本现为 %s", tp, e->detail);
    } else if (is(e, "leader.changed")) {
        if (node >= 0)
            SAY("%s: broker %d is the new leader (%s)", "%s: broker %d 成为新首领 (%s)", tp, node,
                e->detail);
        else
            SAY("%s: no leader left (%s)", "%s: 没有首领了 (%s)", tp, e->detail);
    } else if (is(e, "log.truncated")) {
        SAY("broker %d cut the log of %s: offset%s %s removed (%lld record%s)",
            "broker %d 截断了 %s 的日志: 删除位移%s %s (%lld 条%s)", node, tp, pl, range, n, pl);
    } else if (is(e, "segments.deleted")) { /* retention (mockbroker cluster.c): not a loss */
        SAY("broker %d deleted the oldest records of %s by retention (%s): deleted, not lost",
            "broker %d 按保留策略删除了 %s 最旧的消息 (%s): 是删除, 不是丢失", node, tp,
            e->detail);
    } else if (is(e, "broker.down")) {
        SAY("broker %d is down: its connections close, its partitions need new leaders",
            "broker %d 宕机: 连接关闭, 它领导的分区需要新首领", node);
    } else if (is(e, "broker.up")) {
        SAY("broker %d is back up", "broker %d 恢复在线", node);
    } else if (is(e, "broker.isolated")) {
        SAY("broker %d is cut off from the other brokers", "broker %d 与其他 broker 隔离", node);
    } else if (is(e, "broker.healed")) {
        SAY("broker %d can reach the other brokers again", "broker %d 与其他 broker 恢复连通",
            node);
    } else if (is(e, "fault.injected")) {
        SAY("the cluster took a fault: %s", "集群注入故障: %s", e->detail);
    } else if (is(e, "connection.opened") && !e->detail[0]) {
        /* a detail the Chinese screen does not translate is left out, not shown as "()" */
        SAY("broker %d accepted a connection%s", "broker %d 接受了一个连接%s", node, "");
    } else if (is(e, "connection.opened")) {
        SAY("broker %d accepted a connection (%s)", "broker %d 接受了一个连接 (%s)", node, e->detail);
    } else if (is(e, "connection.closed") && !e->detail[0]) {
        SAY("broker %d closed a connection%s", "broker %d 关闭了一个连接%s", node, "");
    } else if (is(e, "connection.closed")) {
        SAY("broker %d closed a connection (%s)", "broker %d 关闭了一个连接 (%s)", node, e->detail);
    } else if (is(e, "producer_id.assigned")) {
        SAY("broker %d gave the producer its id (%s)", "broker %d 分配了生产者编号 (%s)", node,
            e->detail);
    } else if (is(e, "topic.created")) {
        SAY("topic %s created with %d partitions", "主题 %s 已创建, %d 个分区", e->topic,
            (int)e->partition);
    } else {
        return false;
    }
    return true;
}

static bool explain_sim(char *dst, size_t size, sim_view_lang lang, const sim_event *e,
                        const char *tp) {
    if (is(e, "fault")) {
        SAY("FAULT: %s", "故障: %s", e->detail);
    } else if (is(e, "fault.failed")) {
        SAY("the cluster refused the fault: %s", "集群拒绝了故障: %s", e->detail);
    } else if (is(e, "run.started")) {
        SAY("the day starts: scenario %s", "一天开始: 场景 %s", e->detail);
    } else if (is(e, "workload.done")) {
        SAY("the app has sent all %d parcels; waiting for every answer",
            "应用已发出全部 %d 个包裹; 等待所有应答", (int)e->count);
    } else if (is(e, "run.ended")) {
        SAY("the day is over (%s): the audit reads the logs", "一天结束 (%s): 审计读取日志",
            e->detail);
    } else if (is(e, "clock.paused")) {
        SAY("paused: simulated time stands still%s", "已暂停: 模拟时间静止%s", "");
    } else if (is(e, "clock.resumed")) {
        SAY("resumed: simulated time runs again%s", "继续运行: 模拟时间重新流动%s", "");
    } else if (is(e, "clock.speed")) {
        SAY("clock %s", "时钟 %s", e->detail);
    } else if (is(e, "delivery.acked")) {
        SAY("the app's callback: record %lld delivered to %s at offset %lld",
            "应用的回调: 记录 %lld 已送达 %s, 位移 %lld", (long long)e->record_id,
            tp, (long long)e->offset);
    } else if (is(e, "delivery.failed")) {
        SAY("the app's callback: record %lld failed: %s", "应用的回调: 记录 %lld 失败: %s",
            (long long)e->record_id, vt_err_name(e->err));
    } else if (is(e, "run.stopping")) {
        SAY("stopping the run%s", "正在停止运行%s", "");
    } else {
        return false;
    }
    return true;
}

/* The detail of an event in Chinese: the numbers it carries, in Chinese words; free English
 * text (logs, connection notes) is left out. Names (faults, APIs, ISR lists) stay. */
static void zh_detail(const sim_event *e, char *out, size_t size) {
    const char *d = e->detail;
    int a = 0, b = 0, c = 0;
    long long id = 0;
    double ms = 0;
    const char *p;
    out[0] = '\0';
    if (is(e, "batch.drained")) {
        if (sscanf(d, "attempt %d, base sequence %d", &a, &b) == 2)
            snprintf(out, size, "第 %d 次尝试, 基序列号 %d", a, b);
        else if (sscanf(d, "attempt %d", &a) == 1)
            snprintf(out, size, "第 %d 次尝试", a);
    } else if ((p = strstr(d, "after ")) && sscanf(p, "after %lf ms", &ms) == 1) {
        snprintf(out, size, "用时 %.3f 毫秒", ms);
    } else if (is(e, "batch.retried") && sscanf(d, "attempt %d, backoff %lf ms", &a, &ms) == 2) {
        snprintf(out, size, "第 %d 次尝试, 退避 %.0f 毫秒", a, ms);
    } else if ((is(e, "producer.id") || is(e, "producer_id.assigned") ||
                is(e, "producer.epoch_bumped")) &&
               sscanf(d, "producer id %lld epoch %d", &id, &a) == 2) {
        snprintf(out, size, "编号 %lld, 纪元 %d", id, a);
    } else if (is(e, "hw.advanced") && sscanf(d, "HW %lld -> %d", &id, &a) == 2) {
        snprintf(out, size, "高水位 %lld -> %d", id, a);
    } else if (is(e, "records.appended") && (p = strstr(d, "HW ")) != NULL) {
        snprintf(out, size, "%s", p); /* parsed, not shown: the HW before and after */
    } else if (is(e, "isr.changed") && !strncmp(d, "isr [", 5)) {
        snprintf(out, size, "%s", d + 4);
    } else if (is(e, "leader.changed") &&
               sscanf(d, "leader %d -> %d, epoch %d", &a, &b, &c) == 3) {
        snprintf(out, size, "首领 %d -> %d, 纪元 %d", a, b, c);
    } else if (is(e, "request.received")) {
        const char *api = kw_api_name(e->api);
        if ((p = strstr(d, " v")) && sscanf(p, " v%d", &a) == 1)
            snprintf(out, size, "%s v%d", api ? api : "?", a);
        else
            snprintf(out, size, "%s", api ? api : "?");
    } else if (is(e, "run.ended")) {
        snprintf(out, size, "%s",
                 !strcmp(d, "complete")  ? "全部完成"
                 : !strcmp(d, "stopped") ? "已停止"
                                         : "收尾超时");
    } else if (is(e, "clock.speed") && sscanf(d, "speed %lf", &ms) == 1) {
        snprintf(out, size, "速度 %g", ms);
    } else if (!strncmp(e->kind, "fault", 5)) {
        /* a fault's own words: kind names with '_' stay, the two plain words are translated */
        if (!strncmp(d, "rtt ", 4))
            snprintf(out, size, "往返延迟 %s", d + 4);
        else if (!strcmp(d, "heal all"))
            snprintf(out, size, "全部恢复连通");
        else if (!strncmp(d, "heal ", 5))
            snprintf(out, size, "恢复连通 %s", d + 5);
        else
            snprintf(out, size, "%s", d);
    } else if (is(e, "run.started")) {
        snprintf(out, size, "%s", d); /* the scenario's name */
    }
}

void sim_vt_explain(char *dst, size_t size, sim_view_lang lang, const sim_event *in) {
    char tp[96];
    sim_event ez;
    const sim_event *e = in;
    if (size == 0)
        return;
    dst[0] = '\0';
    if (lang == SIM_LANG_ZH) {
        ez = *in;
        zh_detail(in, ez.detail, sizeof ez.detail);
        e = &ez;
    }
    if (e->topic[0] && e->partition >= 0)
        snprintf(tp, sizeof tp, "%s-%d", e->topic, (int)e->partition);
    else if (e->topic[0])
        snprintf(tp, sizeof tp, "%s", e->topic);
    else if (e->partition >= 0)
        snprintf(tp, sizeof tp, "p%d", (int)e->partition);
    else
        snprintf(tp, sizeof tp, "?");
    if (!strncmp(e->kind, "record.", 7) && explain_record(dst, size, lang, e, tp))
        return;
    if (e->source == SIM_SRC_PRODUCER && explain_producer(dst, size, lang, e, tp))
        return;
    if (e->source == SIM_SRC_BROKER && explain_broker(dst, size, lang, e, tp))
        return;
    if (e->source == SIM_SRC_SIM && explain_sim(dst, size, lang, e, tp))
        return;
    if (is(e, "log"))
        SAY("log: %s", "日志 (原文见事件日志)%s", e->detail);
    else
        SAY("%s %s", "%s %s", e->kind, e->detail);
}

#undef SAY
