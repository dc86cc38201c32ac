/* sim/json_file.h — reading a JSON text file and parsing it with positions in the errors.
 * Shared by the scenario loader and `courier broker --config`; cJSON stays in sim/. */
#ifndef COURIER_SIM_JSON_FILE_H
#define COURIER_SIM_JSON_FILE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Reads the whole file at path into a NUL-terminated buffer the caller frees, *len its length.
 * Refuses files over max_bytes ("PATH: larger than N MiB, not a <what>") and files holding a
 * NUL byte. On error returns NULL with one sentence in errbuf ("cannot read PATH: ..."). */
char *sim_read_text_file(const char *path, size_t max_bytes, const char *what, size_t *len,
                         char *errbuf, size_t errsize);

/* Parses text[0..len) as one JSON value. A syntax error, or text after the value, gives NULL
 * and "SOURCE:LINE:COL: JSON syntax error ..." in errbuf (`what` names the value in "text
 * after the end of the <what>"). The caller owns the result (cJSON_Delete). */
cJSON *sim_json_parse(const char *text, size_t len, const char *source, const char *what,
                      char *errbuf, size_t errsize);

#endif
