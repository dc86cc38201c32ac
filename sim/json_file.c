/* Reading and parsing JSON text files with line:column errors (see json_file.h). */
#include "sim/json_file.h"
#include "sim/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sim_read_text_file(const char *path, size_t max_bytes, const char *what, size_t *len,
                         char *errbuf, size_t errsize) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errbuf, errsize, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= max_bytes) {
            snprintf(errbuf, errsize, "%s: larger than %zu MiB, not a %s", path, max_bytes >> 20,
                     what);
            free(buf);
            fclose(f);
            return NULL;
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    bool rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        snprintf(errbuf, errsize, "cannot read %s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    if (n > max_bytes) {
        snprintf(errbuf, errsize, "%s: larger than %zu MiB, not a %s", path, max_bytes >> 20, what);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        snprintf(errbuf, errsize, "%s: holds a NUL byte, not a JSON text file", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void line_col(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* After the string that starts at p (on its opening quote): the byte after the closing one. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return end;
}

typedef struct literals {
    const char *text, *end, *p; /* the scan position */
} literals;

/* The next number literal in document order (outside strings), or NULL. */
static const char *next_literal(literals *l, size_t *len) {
    const char *p = l->p;
    while (p < l->end) {
        if (*p == '"') {
            p = skip_string(p, l->end);
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *s = p;
            while (p < l->end && strchr("+-.0123456789eE", *p))
                p++;
            l->p = p;
            *len = (size_t)(p - s);
            return s;
        } else {
            p++;
        }
    }
    l->p = p;
    return NULL;
}

/* Gives each number node its literal (valuestring), depth first: cJSON keeps members in
 * document order, so the n-th number node is the n-th number literal. Stops at a mismatch. */
static bool annotate(cJSON *j, literals *l) {
    for (; j; j = j->next) {
        if (cJSON_IsNumber(j)) {
            size_t len;
            const char *s = next_literal(l, &len);
            if (!s)
                return false;
            if (len > 40)
                len = 40; /* "1234...": enough to recognise it */
            j->valuestring = malloc(len + 4);
            if (j->valuestring)
                snprintf(j->valuestring, len + 4, "%.*s%s", (int)len, s,
                         (size_t)(l->p - s) > len ? "..." : "");
        }
        if ((cJSON_IsObject(j) || cJSON_IsArray(j)) && !annotate(j->child, l))
            return false;
    }
    return true;
}

cJSON *sim_json_parse(const char *text, size_t len, const char *source, const char *what,
                      char *errbuf, size_t errsize) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        int line, col;
        const char *at = end && end >= text && end <= text + len ? end : text;
        line_col(text, at, &line, &col);
        if ((size_t)(at - text) >= len)
            snprintf(errbuf, errsize, "%s:%d:%d: JSON syntax error: unexpected end of file", source,
                     line, col);
        else
            snprintf(errbuf, errsize, "%s:%d:%d: JSON syntax error near '%.12s'", source, line, col,
                     at);
        /* cut the excerpt at the first newline */
        char *nl = strchr(errbuf, '\n');
        if (nl) {
            *nl = '\'';
            nl[1] = '\0';
        }
        return NULL;
    }
    /* trailing text after the value */
    const char *p = end ? end : text + len;
    while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p < text + len && *p) {
        int line, col;
        line_col(text, p, &line, &col);
        snprintf(errbuf, errsize, "%s:%d:%d: JSON syntax error: text after the end of the %s",
                 source, line, col, what);
        cJSON_Delete(root);
        return NULL;
    }
    literals l = {text, text + len, text};
    annotate(root, &l);
    return root;
}

/* ---- validation ------------------------------------------------------------------------------ */

int sim_json_fail(const sim_json_ctx *c, const char *path, const char *fmt, ...) {
    char msg[512], emsg[1024], epath[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errbuf && c->errsize)
        snprintf(c->errbuf, c->errsize, "%s: %s: %s", c->source,
                 sim_escape(path, epath, sizeof epath), sim_escape(msg, emsg, sizeof emsg));
    return -1;
}

const char *sim_json_type_name(const cJSON *j) {
    if (cJSON_IsObject(j))
        return "an object";
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsNull(j))
        return "null";
    return "invalid";
}

void sim_json_join(char *out, size_t size, const char *path, const char *key) {
    size_t n = 0;
    for (const char *s = path; s && *s && n + 1 < size; s++)
        out[n++] = *s;
    if (path && *path && n + 1 < size)
        out[n++] = '.';
    for (const char *s = key; *s && n + 1 < size; s++)
        out[n++] = *s;
    out[n] = '\0';
}

bool sim_json_seen_before(const cJSON *obj, const cJSON *k) {
    for (const cJSON *e = obj->child; e != k; e = e->next)
        if (!strcmp(e->string, k->string))
            return true;
    return false;
}

const char *sim_json_number_text(const cJSON *j, char *buf, size_t size) {
    if (j->valuestring) {
        snprintf(buf, size, "%s", j->valuestring);
        return buf;
    }
    return sim_format_number(j->valuedouble, buf, size);
}

int sim_json_check_keys(const sim_json_ctx *c, const cJSON *obj, const char *path,
                        const char *const *allowed) {
    for (const cJSON *k = obj->child; k; k = k->next) {
        char p[256];
        sim_json_join(p, sizeof p, path, k->string);
        bool known = false;
        for (int i = 0; allowed[i] && !known; i++)
            known = !strcmp(allowed[i], k->string);
        if (!known) {
            char list[400];
            size_t n = 0;
            list[0] = '\0';
            for (int i = 0; allowed[i] && n < sizeof list - 1; i++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", allowed[i]);
            return sim_json_fail(c, p, "unknown key (expected one of: %s)", list);
        }
        if (sim_json_seen_before(obj, k))
            return sim_json_fail(c, p, "duplicate key");
    }
    return 0;
}

int sim_json_int(const sim_json_ctx *c, const cJSON *j, const char *path, int64_t lo, int64_t hi,
                 int64_t *out) {
    char lit[64];
    if (!cJSON_IsNumber(j))
        return sim_json_fail(c, path, "expected an integer, got %s", sim_json_type_name(j));
    double v = j->valuedouble;
    sim_json_number_text(j, lit, sizeof lit);
    if (isfinite(v) && floor(v) != v)
        return sim_json_fail(c, path, "%s is not a whole number", lit);
    if (!isfinite(v) || v < (double)lo || v > (double)hi)
        return sim_json_fail(c, path, "%s is out of range (%lld..%lld)", lit, (long long)lo,
                             (long long)hi);
    *out = (int64_t)v;
    return 0;
}

int sim_json_get_int(const sim_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                     bool required, int64_t lo, int64_t hi, int64_t def, int64_t *out) {
    char p[256];
    sim_json_join(p, sizeof p, path, key);
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j) {
        if (required)
            return sim_json_fail(c, p, "missing (required)");
        *out = def;
        return 0;
    }
    return sim_json_int(c, j, p, lo, hi, out);
}

int sim_json_get_bool(const sim_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                      bool *out) {
    char p[256];
    sim_json_join(p, sizeof p, path, key);
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j)
        return 0;
    if (!cJSON_IsBool(j))
        return sim_json_fail(c, p, "expected true or false, got %s", sim_json_type_name(j));
    *out = cJSON_IsTrue(j);
    return 0;
}
