/* sim/group_member.h — Courier's own consumer-group member (the classic group protocol).
 *
 * A member of a reading club: it finds the club's desk (FindCoordinator), joins
 * (JoinGroup, again with the id the desk gives it: KIP-394 MEMBER_ID_REQUIRED), and when the
 * desk picks it as leader it shares the topic's partitions out with the "range" assignor, in the
 * "consumer" protocol's byte formats (protocol/kw_groups.h), so it can share a group with
 * kcat -G, kafka-python and Java consumers. It takes its share through SyncGroup, resumes at
 * the committed offsets (OffsetFetch; auto.offset.reset where there are none), reads with
 * sim/reader.c (Fetch), heartbeats every heartbeat.interval.ms, commits every
 * auto.commit.interval.ms and before it gives partitions up, and leaves (LeaveGroup) when
 * closed. REBALANCE_IN_PROGRESS makes it commit, give its partitions up and join again (the
 * eager protocol, as Java's ConsumerCoordinator with the range assignor);
 * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE or a lost connection make it find the desk
 * again, keeping its partitions and positions.
 *
 * No thread of its own: everything happens inside sim_gm_poll(), which the caller calls in a
 * loop (at least every heartbeat.interval.ms). Configuration keys keep Kafka's consumer names
 * and defaults (ConsumerConfig): group.id, session.timeout.ms 45000,
 * heartbeat.interval.ms 3000, max.poll.interval.ms 300000 (the rebalance timeout),
 * enable.auto.commit true, auto.commit.interval.ms 5000, auto.offset.reset latest,
 * request.timeout.ms 30000, partition.assignment.strategy range.
 *
 * @thread a member is used by one thread at a time.
 */
#ifndef COURIER_SIM_GROUP_MEMBER_H
#define COURIER_SIM_GROUP_MEMBER_H

#include "sim/reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_gm_conf sim_gm_conf;
typedef struct sim_group_member sim_group_member;

/* Kafka's consumer keys that sim_gm_conf_set() knows, NULL-terminated (completion, docs). */
extern const char *const sim_gm_keys[];

/* A configuration with Kafka's defaults; NULL when out of memory. Free with
 * sim_gm_conf_destroy() (sim_gm_new copies what it needs). */
sim_gm_conf *sim_gm_conf_new(void);
void sim_gm_conf_destroy(sim_gm_conf *c);
/* Sets one key (Kafka's name). Returns 0, or -1 with a sentence in errbuf naming the key and
 * what is wrong with the value (the value is quoted escaped). */
int sim_gm_conf_set(sim_gm_conf *c, const char *key, const char *value, char *errbuf,
                    size_t errsize);

/* Told when partitions are assigned (after SyncGroup and OffsetFetch) or revoked (before a
 * rejoin, after the commit): the partitions of the topic, and the generation. */
typedef void (*sim_gm_rebalance_fn)(void *opaque, bool assigned, const int32_t *partitions,
                                    int n, int32_t generation, const char *member_id);
/* Told what went wrong and what the member does about it ("coordinator 2 at ...: connection
 * closed: finding the coordinator again"), once per change. */
typedef void (*sim_gm_log_fn)(void *opaque, const char *line);

/* Opens a member of the group in conf ("group.id" is required) for `topic` on the cluster at
 * `bootstrap`; it has not joined yet (sim_gm_poll does). The callbacks may be NULL. Returns 0
 * and *out, or a kw_err with a sentence in errbuf. The caller closes it with sim_gm_close(). */
int sim_gm_new(const char *bootstrap, const char *topic, const sim_gm_conf *conf,
               sim_gm_rebalance_fn on_rebalance, sim_gm_log_fn on_log, void *opaque,
               sim_group_member **out, char *errbuf, size_t errsize);

/* One turn of the member: joins when it has no partitions (one attempt: join, sync, fetch the
 * committed offsets), heartbeats and commits when due, then one Fetch round over its
 * partitions, calling fn for each record (fn returning non-zero stops the round; the record it
 * was given counts as consumed). *progress is set when a record was delivered. Returns 0 (also
 * when a retriable error postponed the work: the next call retries), or a kw_err for an error
 * the member cannot get past (sim_gm_error() says it). */
int sim_gm_poll(sim_group_member *m, sim_reader_record_fn fn, void *opaque, bool *progress);

/* True when the member has partitions and has read each to the end it last saw (the high
 * watermark of its last Fetch) — kcat -e in a group. */
bool sim_gm_at_end(const sim_group_member *m);

/* The last fatal error's sentence ("" when none). */
const char *sim_gm_error(const sim_group_member *m);

/* Commits the positions (when enable.auto.commit), leaves the group (LeaveGroup), closes the
 * connections and frees the member. NULL is ignored. */
void sim_gm_close(sim_group_member *m);

/* The range assignor (Java's RangeAssignor) for one topic, its members already sorted by
 * member id: each gets n_partitions / n_members consecutive partitions, the first
 * n_partitions % n_members one more. Writes the i-th member's first partition and count into
 * first[i] and count[i]. Exposed for the tests. */
void sim_gm_range(int n_partitions, int n_members, int *first, int *count);

#endif
