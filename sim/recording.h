/* sim/recording.h — reading a recording (sim/record.h writes them): the scenario, every event,
 * the view model at any event, the audit. `courier replay` and the HTML report read through
 * this, and so does the replay view.
 *
 * Opening checks the whole file (frame tags, lengths, CRC-32s, the zlib streams, every record,
 * seq order, the index) and says what is wrong and at which byte. It then keeps the compressed
 * chunks in memory, a table of event times, the samples' places, the marks (faults, errors,
 * truncations) and, every SIM_RECORDING_KEY_EVENTS events, what the view's feed had folded —
 * so the model at any event is one chunk decode and at most that many folds away.
 *
 * The model at event N is the last sample taken at or before N (the rooms as they were drawn)
 * with everything the feed folds from events (front desk, trace tail, lanes' last responses,
 * faults in force) replayed through sim/view_feed.c up to N — the same code the live view runs.
 *
 * @locality one thread per sim_recording (it caches decoded chunks). */
#ifndef COURIER_SIM_RECORDING_H
#define COURIER_SIM_RECORDING_H

#include "sim/audit.h"
#include "sim/bus.h"
#include "sim/scenario.h"
#include "sim/view_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_RECORDING_KEY_EVENTS 256

typedef struct sim_recording sim_recording;

/* Opens and checks `path`. Returns 0, or -1 with errbuf naming the problem and its byte offset
 * ("run.rec: byte 1234: the file ends inside a CHNK frame (needs 4096 bytes, 100 left): the
 * recording was cut short"). */
int sim_recording_open(const char *path, sim_recording **out, char *errbuf, size_t errsize);
void sim_recording_close(sim_recording *rec);

/* The scenario the run played (parsed from the recorded text), and that text. */
const sim_scenario *sim_recording_scenario(const sim_recording *rec);
const char *sim_recording_scenario_json(const sim_recording *rec, size_t *len);
/* The audit taken at the end of the run; false when the run recorded none. */
bool sim_recording_audit(const sim_recording *rec, sim_audit *out);
/* File size in bytes; chunks; samples. */
uint64_t sim_recording_file_bytes(const sim_recording *rec);
size_t sim_recording_n_chunks(const sim_recording *rec);
size_t sim_recording_n_samples(const sim_recording *rec);

/* Events are numbered by their bus seq: first..last, without gaps (0, 0 when none). */
uint64_t sim_recording_first_seq(const sim_recording *rec);
uint64_t sim_recording_last_seq(const sim_recording *rec);
/* Reads event `seq`. Returns 0, or -1 when out of range or the chunk cannot be decoded. */
int sim_recording_event(sim_recording *rec, uint64_t seq, sim_event *out);
/* The simulated time of event `seq` (µs since the run started), -1 out of range. */
int64_t sim_recording_t_us(const sim_recording *rec, uint64_t seq);
/* The last event at or before simulated time t_us (the first event when none is). */
uint64_t sim_recording_seq_at(const sim_recording *rec, int64_t t_us);

/* Marks for `[` and `]`: faults, events carrying an error, log truncations, broker down/up,
 * leader changes. The nearest mark after / before `seq`; 0 when none. */
uint64_t sim_recording_next_mark(const sim_recording *rec, uint64_t seq);
uint64_t sim_recording_prev_mark(const sim_recording *rec, uint64_t seq);

/* The model as the view would draw it after event `seq` (sim_recording_first_seq - 1 = before
 * the first event). Returns 0, or -1 (out of range, or a chunk that does not decode). */
int sim_recording_model_at(sim_recording *rec, uint64_t seq, sim_view_model *m);

/* Checks the recorded audit against the recorded events, as docs/trace.md's invariants say:
 * delivery.acked / delivery.failed events = acknowledged / failed, record.sent >= the outcomes,
 * Produce request.received per broker = requests_per_broker. Returns 0 when they agree, 1 when
 * there is nothing to check (no audit, or a recording started mid-run), -1 with `why`. */
int sim_recording_check_audit(sim_recording *rec, char *why, size_t size);

/* Follows a parcel (`/`: a record number "123" / "#123", or a key) from the first event on:
 * the models then carry its history. "" follows none. Returns 0, or -1 out of memory. */
int sim_recording_follow(sim_recording *rec, const char *query);

/* Sample i (0-based, in time order): its model as recorded (rooms only when the recorder
 * sampled by itself) and the seq it was taken after. Returns 0 or -1. */
int sim_recording_sample(sim_recording *rec, size_t i, sim_view_model *m, uint64_t *after_seq);

#endif
