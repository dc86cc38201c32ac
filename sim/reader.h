/* sim/reader.h — reading a topic back as a consumer does, from any Kafka-protocol cluster.
 *
 * The clerk who walks the shelves after the trucks left: a small blocking client (no group,
 * no threads) over the real wire protocol. It connects to a bootstrap server, asks which API
 * versions the broker speaks (ApiVersions v0, which every broker answers), finds the
 * partitions' leaders (Metadata), asks each leader for the first and next offsets
 * (ListOffsets, timestamps -2 earliest and -1 latest) and reads records with Fetch, decoding
 * RecordBatch v2 with protocol/'s iterator. It works against `courier broker`, librdkafka's
 * mock cluster and real Kafka alike: the audit of `courier run --bootstrap` and
 * `courier consume` are built on it.
 *
 * Deadlines: `timeout_ms` bounds every wait — a connect, one request's answer, and the wait
 * for progress while reading (no new record for timeout_ms is an error). A leader that is down
 * or moved makes the reader refresh its metadata and retry until that deadline; it never
 * hangs. Every function that fails leaves a sentence in sim_reader_error() naming what failed
 * and where ("partition 3: leader 2 at 127.0.0.1:40123: connect: Connection refused").
 *
 * Return codes: 0, or a kw_err — negative for local errors (KW_ERR__TRANSPORT,
 * KW_ERR__TIMED_OUT, KW_ERR__MALFORMED...), positive for a Kafka error code the cluster
 * answered (KW_ERR_UNKNOWN_TOPIC_OR_PARTITION, KW_ERR_OFFSET_OUT_OF_RANGE...).
 *
 * @thread a reader is used by one thread at a time; different readers are independent.
 */
#ifndef COURIER_SIM_READER_H
#define COURIER_SIM_READER_H

#include "protocol/kw.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sim_reader sim_reader;

/* Called once per record, in offset order within a partition. `rec` gives offset, timestamp
 * (epoch ms), key, value (both nullable) and the headers; everything it points to is valid
 * only during the call. Return 0 to go on, non-zero to stop reading (sim_reader_read then
 * returns 0). Control records (transaction markers) are skipped. */
typedef int (*sim_reader_record_fn)(void *opaque, int32_t partition, const kw_record *rec);

/* Connects to the first reachable server of `bootstrap` ("host:port[,host:port...]"), fetches
 * the topic's metadata and returns a reader in *out. On failure *out is NULL, errbuf gets a
 * sentence, and the return says why (KW_ERR_UNKNOWN_TOPIC_OR_PARTITION when the topic does
 * not exist: the reader never asks the cluster to create it). The caller closes the reader
 * with sim_reader_close(). */
int sim_reader_open(const char *bootstrap, const char *topic, int timeout_ms, sim_reader **out,
                    char *errbuf, size_t errsize);

/* Number of partitions of the topic (as of the last metadata refresh). */
int sim_reader_partition_count(sim_reader *r);

/* Refreshes the topic's metadata (after CreatePartitions, or to see a new leader). */
int sim_reader_refresh(sim_reader *r);

/* The partition's first offset (log start) and next offset (log end = high watermark, what a
 * consumer can read) from its leader. */
int sim_reader_offsets(sim_reader *r, int32_t partition, int64_t *earliest, int64_t *latest);

/* Reads the partition's records with offsets in [from, until) and calls fn for each. Waits
 * for records not yet there (a follower catching up) up to timeout_ms without progress; an
 * offset that is gone (retention) fails with KW_ERR_OFFSET_OUT_OF_RANGE. */
int sim_reader_read(sim_reader *r, int32_t partition, int64_t from, int64_t until,
                    sim_reader_record_fn fn, void *opaque);

/* One Fetch round for a consumer that follows a partition: reads records from `offset` on,
 * waiting up to max_wait_ms at the broker for the first byte, calls fn for each, and stores
 * the offset to fetch next in *next and the partition's high watermark in *high_watermark
 * (either may be NULL). Returns 0 with *next == offset when nothing new was there. */
int sim_reader_poll(sim_reader *r, int32_t partition, int64_t offset, int max_wait_ms,
                    sim_reader_record_fn fn, void *opaque, int64_t *next, int64_t *high_watermark);

/* The last error's sentence ("" when none). Valid until the next call on the reader. */
const char *sim_reader_error(sim_reader *r);

/* Closes the connections and frees the reader. NULL is ignored. */
void sim_reader_close(sim_reader *r);

#endif /* COURIER_SIM_READER_H */
