/* The Chinese screen's test: finds an English word on a screen meant to be Chinese.
 *
 * A "word" is a run of ASCII letters. It is allowed when it is one letter (a key, a unit, a
 * box mark: s, B, S), ALL CAPS of three letters or more (error names, ISR, LEO, CRC), part of
 * a name — a token holding a digit or one of . _ - = (config keys, topic and scenario names,
 * error names, t=1.2s, key-7) — or one of Kafka's and Courier's own names listed below, or a
 * name the caller adds (the scenario's topics); a name cut short by the screen's edge or by
 * a box drawn over it ("bro" of "broker", "bro+" and "|ker" beside the box's border) counts
 * as the name. Everything else is an untranslated word. */
#ifndef COURIER_TESTS_SIM_VIEW_WORDS_H
#define COURIER_TESTS_SIM_VIEW_WORDS_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const tw_kafka_names[] = {
    "Courier", "Kafka", "broker", "Produce", "Metadata", "ApiVersions", "InitProducerId",
    "Fetch", "ListOffsets", "Tab", "Esc", "Enter", "KiB", "MiB", "ms", "onSend", NULL,
};

/* w[0..n) is in the list, or (prefix) the start of a name in it cut by the screen's edge or
 * a box drawn over it. */
static bool tw_in_list(const char *const *list, const char *w, size_t n, bool prefix) {
    for (int i = 0; list && list[i]; i++)
        if ((strlen(list[i]) == n || (prefix && n >= 3 && strlen(list[i]) > n)) &&
            !strncmp(list[i], w, n))
            return true;
    return false;
}

/* Copies the first untranslated English word of `text` into `out` and returns true; false when
 * there is none. `extra` (NULL-terminated, may be NULL) lists more allowed names. */
static inline bool tw_english_word(const char *text, const char *const *extra, char *out,
                                   size_t size) {
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        /* a token: a run of printable ASCII without spaces */
        if (*p <= ' ' || *p >= 0x7f) {
            p++;
            continue;
        }
        const unsigned char *t0 = p;
        while (*p > ' ' && *p < 0x7f)
            p++;
        size_t tn = (size_t)(p - t0);
        bool name = false;
        for (size_t i = 0; i < tn; i++)
            if (isdigit(t0[i]) || strchr("._-=", t0[i]))
                name = true;
        if (name)
            continue;
        for (size_t i = 0; i < tn;) {
            if (!isalpha(t0[i])) {
                i++;
                continue;
            }
            size_t j = i;
            bool caps = true;
            while (j < tn && isalpha(t0[j])) {
                if (!isupper(t0[j]))
                    caps = false;
                j++;
            }
            size_t n = j - i;
            const char *w = (const char *)t0 + i;
            /* a box's border ('|' or a corner '+') drawn over a line cuts the word it touches:
             * "|ker" is the end of "broker", "bro+" its start (the line under the box is
             * checked whole on the screen before the box opens) */
            bool cut = (i > 0 && (t0[i - 1] == '|' || t0[i - 1] == '+')) ||
                       (j < tn && (t0[j] == '|' || t0[j] == '+'));
            if (n > 1 && !cut && !(caps && n >= 3) && !tw_in_list(tw_kafka_names, w, n, true) &&
                !tw_in_list(extra, w, n, true)) {
                snprintf(out, size, "%.*s", (int)n, w);
                return true;
            }
            i = j;
        }
    }
    return false;
}

#endif
