/* sim/record.h — recordings (the company's CCTV): everything needed to redraw every room at
 * every event of a run, written while it runs, replayed later by `courier replay`.
 *
 * A recording holds the scenario (its JSON text), every bus event (a binary sim_event), the
 * view model sampled while the run went (the deques with their batches, the trucks with their
 * requests, the map with HWs and ISRs, the pool, the footer — see sim/view_model.h), each
 * sample tagged with the seq of the last event folded before it, and at the end the audit.
 * The format is in docs/trace.md ("Recordings"); the reader is sim/recording.h.
 *
 *   sim_record *rec;
 *   sim_record_open(&rec, "run.rec", json_text, json_len, true, err, sizeof err);
 *   opts.recorder = rec;  sim_runner_new(s, &opts, &r, ...);   (attaches: sink + sampler)
 *   ... the run ...
 *   sim_runner_audit(r, &a);  sim_record_finish(rec, &a, err, sizeof err);
 *   sim_runner_destroy(r);  sim_record_destroy(rec);
 *
 * Threads: the bus sink runs on emitting threads and only appends to a queue (under the
 * recorder's lock, never blocking on I/O); a writer thread encodes, compresses (zlib) and
 * writes; the samples come either from the live view's feed (its thread) or, headless, from
 * the recorder's own sampler thread (20 per second of wall time, at least every 50 ms of
 * simulated time). */
#ifndef COURIER_SIM_RECORD_H
#define COURIER_SIM_RECORD_H

#include "sim/audit.h"
#include "sim/view_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- the file format (version 1), shared with the reader ---------------------------------- */
#define SIM_REC_MAGIC "CRRECORD" /* 8 bytes at offset 0 */
#define SIM_REC_MAGIC_LEN 8
#define SIM_REC_VERSION 1
#define SIM_REC_FRAME_HDR 12 /* u32 tag, u32 payload length, u32 CRC-32 of the payload */
/* Frame tags, in file order: HEAD SCEN CHNK* RUNI AUDT? INDX ENDR. */
#define SIM_REC_TAG(a, b, c, d)                                                                    \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define SIM_REC_HEAD SIM_REC_TAG('H', 'E', 'A', 'D')
#define SIM_REC_SCEN SIM_REC_TAG('S', 'C', 'E', 'N')
#define SIM_REC_CHNK SIM_REC_TAG('C', 'H', 'N', 'K')
#define SIM_REC_RUNI SIM_REC_TAG('R', 'U', 'N', 'I')
#define SIM_REC_AUDT SIM_REC_TAG('A', 'U', 'D', 'T')
#define SIM_REC_INDX SIM_REC_TAG('I', 'N', 'D', 'X')
#define SIM_REC_ENDR SIM_REC_TAG('E', 'N', 'D', 'R')
#define SIM_REC_CHNK_HDR 44 /* first_seq, last_seq, first_t_us, last_t_us (8 each), n_events,
                               n_samples, raw_len (4 each), then the zlib stream */
#define SIM_REC_EVENT 'E'   /* records inside a chunk: u8 type, u32 length, payload */
#define SIM_REC_SAMPLE 'S'
#define SIM_REC_MAX_FRAME (64u << 20) /* a reader refuses larger frames */

typedef struct sim_record sim_record;
struct sim_runner;

/* Creates `path` and writes the header and the scenario's JSON text (scenario_json[0..len)).
 * own_sampler: true when no view will run (headless: the recorder samples the run itself);
 * false when the live view's feed hands it each frame (sim_record_view_sample).
 * Returns 0, or -1 with errbuf ("cannot write PATH: ..."). */
int sim_record_open(sim_record **out, const char *path, const char *scenario_json, size_t len,
                    bool own_sampler, char *errbuf, size_t errsize);

/* A recorder that keeps nothing until sim_record_start() (the live view's R key): its sink
 * and writer are attached with the runner as usual. Returns 0, or -1 out of memory. */
int sim_record_new_dormant(sim_record **out, const char *scenario_json, size_t len,
                           bool own_sampler);
/* Starts a dormant recorder now: creates `path`, then keeps every event from the next one on
 * (the recording begins there: the events before it are not in it). Returns 0, or -1 with
 * errbuf (already recording, or the file cannot be written). */
int sim_record_start(sim_record *rec, const char *path, char *errbuf, size_t errsize);
/* True when the recorder keeps events; its file in path (may be NULL). */
bool sim_record_active(sim_record *rec, char *path, size_t size);

/* Called by sim_runner_new (sim_run_opts.recorder): adds the bus sink and starts the writer
 * (and the sampler). Returns 0, or -1 with errbuf. */
int sim_record_attach(sim_record *rec, struct sim_runner *r, char *errbuf, size_t errsize);

/* A frame the live view drew: the model after folding events up to after_seq. Copies m.
 * @locality the view thread. Ignored with an own sampler. */
void sim_record_view_sample(sim_record *rec, const sim_view_model *m, uint64_t after_seq);

/* Stops the sampler (the runner calls this before it frees the producer and the cluster);
 * events go on being queued until sim_record_finish. Idempotent. */
void sim_record_detach(sim_record *rec);

/* Ends the recording: no more events, the queue written, the audit (may be NULL when none was
 * taken), the index and the end marker; the file is closed. Returns 0, or -1 with errbuf when
 * anything could not be written (the file is then incomplete). */
int sim_record_finish(sim_record *rec, const sim_audit *a, char *errbuf, size_t errsize);

/* Frees the recorder (finishing it without an audit first if needed). NULL is fine. */
void sim_record_destroy(sim_record *rec);

/* Bytes written so far (compressed), events recorded so far. */
uint64_t sim_record_bytes(sim_record *rec);
uint64_t sim_record_events(sim_record *rec);

#endif
