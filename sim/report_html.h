/* sim/report_html.h — a recording's story as one self-contained HTML page (inline SVG, no
 * script, no network): records sent / acknowledged / failed per second, records per request
 * and batch size, request latency p50/p99 per broker, in-flight requests per broker, buffer
 * pool use, ISR size and high watermark per partition, the timeline's faults as vertical
 * markers on every chart, and the audit as a table. `courier replay FILE --html OUT`. */
#ifndef COURIER_SIM_REPORT_HTML_H
#define COURIER_SIM_REPORT_HTML_H

#include "sim/recording.h"

#include <stddef.h>
#include <stdio.h>

/* Writes the page to `path`. Returns 0, or -1 with errbuf. */
int sim_report_html_write(sim_recording *rec, const char *path, char *errbuf, size_t errsize);
/* The same page, to an open stream. Returns 0, or -1 with errbuf. */
int sim_report_html(sim_recording *rec, FILE *out, char *errbuf, size_t errsize);

#endif
