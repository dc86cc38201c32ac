/* mockbroker/mb_group.h — the group coordinator's and the topic office's handlers (private).
 *
 * group.c serves FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, ListGroups and DescribeGroups; admin.c serves CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs and OffsetForLeaderEpoch. handlers.c puts them in its
 * table. Every handler follows mb_handler_fn's contract (mb_net.h).
 *
 * @locality broker thread; each takes c->lock briefly.
 */
#ifndef COURIER_MOCKBROKER_MB_GROUP_H
#define COURIER_MOCKBROKER_MB_GROUP_H

#include "mockbroker/mb_net.h"

int mb_h_find_coordinator(mb_req *r, char *errbuf, size_t errsize);
int mb_h_join_group(mb_req *r, char *errbuf, size_t errsize);
int mb_h_sync_group(mb_req *r, char *errbuf, size_t errsize);
int mb_h_heartbeat(mb_req *r, char *errbuf, size_t errsize);
int mb_h_leave_group(mb_req *r, char *errbuf, size_t errsize);
int mb_h_offset_commit(mb_req *r, char *errbuf, size_t errsize);
int mb_h_offset_fetch(mb_req *r, char *errbuf, size_t errsize);
int mb_h_list_groups(mb_req *r, char *errbuf, size_t errsize);
int mb_h_describe_groups(mb_req *r, char *errbuf, size_t errsize);

int mb_h_create_topics(mb_req *r, char *errbuf, size_t errsize);
int mb_h_delete_topics(mb_req *r, char *errbuf, size_t errsize);
int mb_h_create_partitions(mb_req *r, char *errbuf, size_t errsize);
int mb_h_describe_configs(mb_req *r, char *errbuf, size_t errsize);
int mb_h_offset_for_leader_epoch(mb_req *r, char *errbuf, size_t errsize);

/* The node id coordinating a group now, or -1 when no broker is up. @locks c->lock held. */
int32_t mb_group_coordinator(struct mb_cluster *c, kw_slice group_id);

/* Keeps p until cluster destroy (then a plain free); false when out of memory (p is then
 * leaked, never freed early). @locks c->lock held. */
bool mb_graveyard_keep(struct mb_cluster *c, void *p);

/* Closes the connection over a body that did not decode (the reason goes to errbuf). */
int mb_decode_failed(mb_req *r, char *errbuf, size_t errsize);

/* Forgets the committed offsets of a deleted topic. @locks c->lock held. */
void mb_groups_forget_topic(struct mb_cluster *c, const char *topic);

#endif
