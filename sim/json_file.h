/* sim/json_file.h — reading a JSON text file and parsing it with positions in the errors.
 * Shared by the scenario loader and `courier broker --config`; cJSON stays in sim/. */
#ifndef COURIER_SIM_JSON_FILE_H
#define COURIER_SIM_JSON_FILE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the whole file at path into a NUL-terminated buffer the caller frees, *len its length.
 * Refuses files over max_bytes ("PATH: larger than N MiB, not a <what>") and files holding a
 * NUL byte. On error returns NULL with one sentence in errbuf ("cannot read PATH: ..."). */
char *sim_read_text_file(const char *path, size_t max_bytes, const char *what, size_t *len,
                         char *errbuf, size_t errsize);

/* Parses text[0..len) as one JSON value. A syntax error, or text after the value, gives NULL
 * and "SOURCE:LINE:COL: JSON syntax error ..." in errbuf (`what` names the value in "text
 * after the end of the <what>"). The caller owns the result (cJSON_Delete). Each number node
 * keeps its literal as written in valuestring (cJSON_Delete frees it), so a message can quote
 * 9223372036854775807 as the reader wrote it instead of the double it became. */
cJSON *sim_json_parse(const char *text, size_t len, const char *source, const char *what,
                      char *errbuf, size_t errsize);

/* ---- validating a parsed document (the scenario loader and `courier broker --config`) ------
 * Every error is one sentence "SOURCE: PATH: what is wrong" in the context's errbuf, with the
 * user's bytes escaped (sim_escape: no control bytes, no invalid UTF-8 reach the terminal).
 * Functions return 0, or -1 after filling errbuf. */
typedef struct sim_json_ctx {
    const char *source; /* the file name */
    char *errbuf;
    size_t errsize;
} sim_json_ctx;

int sim_json_fail(const sim_json_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "an object", "a number", ... */
const char *sim_json_type_name(const cJSON *j);
/* out = path + "." + key (or just key at the top level), truncated to size. */
void sim_json_join(char *out, size_t size, const char *path, const char *key);
/* True when a member before k in obj has k's name (cJSON keeps both). */
bool sim_json_seen_before(const cJSON *obj, const cJSON *k);
/* The number as the file wrote it (its literal), else formatted (sim_format_number). */
const char *sim_json_number_text(const cJSON *j, char *buf, size_t size);

/* Rejects keys not in `allowed` (NULL-terminated) and keys that appear twice; the unknown key
 * is named before anything is said about its value. */
int sim_json_check_keys(const sim_json_ctx *c, const cJSON *obj, const char *path,
                        const char *const *allowed);
/* Checks that j (at path) is a whole number in [lo, hi]: "expected an integer, got a string",
 * "-738605.42 is not a whole number", "9223372036854775807 is out of range (1..16)". */
int sim_json_int(const sim_json_ctx *c, const cJSON *j, const char *path, int64_t lo, int64_t hi,
                 int64_t *out);
/* obj.key as above; absent: *out = def, or "missing (required)" when required. */
int sim_json_get_int(const sim_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                     bool required, int64_t lo, int64_t hi, int64_t def, int64_t *out);
/* obj.key must be true or false; absent: *out untouched. */
int sim_json_get_bool(const sim_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                      bool *out);

#endif
