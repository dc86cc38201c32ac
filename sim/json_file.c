/* Reading and parsing JSON text files with line:column errors (see json_file.h). */
#include "sim/json_file.h"

#include <errno.h>
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
    return root;
}
