/* The dispatcher's map (调度员): which broker leads which partition. A kp_cluster is an
 * immutable picture, replaced whole on every Metadata response (so readers keep a consistent
 * one without holding a lock); the producing threads wait here for topics they have not seen
 * yet. */
#include "producer/kp_int.h"

#include <stdlib.h>
#include <string.h>

static kp_cluster *cluster_empty(void) {
    kp_cluster *c = calloc(1, sizeof *c);
    if (c)
        atomic_init(&c->refs, 1);
    return c;
}

static void cluster_free(kp_cluster *c) {
    for (int32_t i = 0; i < c->n_topics; i++) {
        free(c->topics[i].name);
        free(c->topics[i].parts);
    }
    free(c->topics);
    free(c->nodes);
    free(c);
}

void kp_cluster_release(kp_cluster *c) {
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        cluster_free(c);
}

void kp_metadata_init(kp_metadata *md, const kw_clock *clock) {
    memset(md, 0, sizeof *md);
    pthread_mutex_init(&md->lock, NULL);
    kp_cond_init(&md->cv);
    md->cur = cluster_empty();
    md->clock = clock;
    atomic_init(&md->need_update, true);
    atomic_init(&md->new_topics, false);
    atomic_init(&md->version, 0);
    atomic_init(&md->closed, false);
    md->last_update_ms = INT64_MIN / 2;
    md->last_attempt_ms = INT64_MIN / 2;
}

void kp_metadata_destroy(kp_metadata *md) {
    kp_cluster_release(md->cur);
    kp_metadata_free_names(md->wanted, md->n_wanted);
    pthread_mutex_destroy(&md->lock);
    pthread_cond_destroy(&md->cv);
}

kp_cluster *kp_metadata_cluster(kp_metadata *md) {
    pthread_mutex_lock(&md->lock);
    kp_cluster *c = md->cur;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&md->lock);
    return c;
}

const kp_mtopic *kp_cluster_topic(const kp_cluster *c, const char *name) {
    for (int32_t i = 0; i < c->n_topics; i++)
        if (!strcmp(c->topics[i].name, name))
            return &c->topics[i];
    return NULL;
}

const kp_node *kp_cluster_node(const kp_cluster *c, int32_t id) {
    for (int32_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].id == id)
            return &c->nodes[i];
    return NULL;
}

bool kp_metadata_add_topic(kp_metadata *md, const char *topic) {
    bool added = false;
    pthread_mutex_lock(&md->lock);
    for (int32_t i = 0; i < md->n_wanted; i++)
        if (!strcmp(md->wanted[i], topic))
            goto out;
    if (!kw_grow(&md->wanted, md->n_wanted, &md->cap_wanted, sizeof *md->wanted, 8))
        goto out;
    md->wanted[md->n_wanted] = strdup(topic);
    if (md->wanted[md->n_wanted]) {
        md->n_wanted++;
        added = true;
        atomic_store(&md->new_topics, true);
        atomic_store(&md->need_update, true);
    }
out:
    pthread_mutex_unlock(&md->lock);
    return added;
}

int32_t kp_metadata_wanted(kp_metadata *md, char ***names) {
    pthread_mutex_lock(&md->lock);
    int32_t n = md->n_wanted;
    char **v = calloc((size_t)(n ? n : 1), sizeof *v);
    int32_t k = 0;
    for (int32_t i = 0; v && i < n; i++) {
        v[k] = strdup(md->wanted[i]);
        if (v[k])
            k++;
    }
    pthread_mutex_unlock(&md->lock);
    *names = v;
    return k;
}

void kp_metadata_free_names(char **names, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int cmp_part(const void *x, const void *y) {
    const kp_mpart *a = x, *b = y;
    return (a->partition > b->partition) - (a->partition < b->partition);
}

int32_t kp_metadata_apply(kp_metadata *md, const kw_metadata_resp *resp, int64_t now_ms) {
    kp_cluster *c = cluster_empty();
    if (!c)
        return 0;
    int32_t n_parts = 0;
    c->nodes = calloc((size_t)(resp->n_brokers > 0 ? resp->n_brokers : 1), sizeof *c->nodes);
    c->topics = calloc((size_t)(resp->n_topics > 0 ? resp->n_topics : 1), sizeof *c->topics);
    if (!c->nodes || !c->topics) {
        cluster_free(c);
        return 0;
    }
    for (int32_t i = 0; i < resp->n_brokers; i++) {
        kp_node *n = &c->nodes[c->n_nodes++];
        n->id = resp->brokers[i].node_id;
        kw_slice_cstr(resp->brokers[i].host, n->host, sizeof n->host);
        n->port = resp->brokers[i].port;
    }
    for (int32_t i = 0; i < resp->n_topics; i++) {
        const kw_metadata_topic *t = &resp->topics[i];
        kp_mtopic *mt = &c->topics[c->n_topics];
        char name[256];
        kw_slice_cstr(t->name, name, sizeof name);
        mt->name = strdup(name);
        if (!mt->name)
            continue;
        mt->err = t->error_code;
        mt->parts = calloc((size_t)(t->n_partitions > 0 ? t->n_partitions : 1), sizeof *mt->parts);
        if (!mt->parts) {
            free(mt->name);
            continue;
        }
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const kw_metadata_partition *p = &t->partitions[j];
            kp_mpart *mp = &mt->parts[mt->n_parts++];
            mp->partition = p->partition_index;
            mp->err = p->error_code;
            mp->leader = p->leader_id;
            mp->leader_epoch = p->leader_epoch;
            mp->n_replicas = p->n_replicas < 8 ? p->n_replicas : 8;
            for (int32_t k = 0; k < mp->n_replicas; k++)
                mp->replicas[k] = p->replica_nodes[k];
            mp->n_isr = p->n_isr < 8 ? p->n_isr : 8;
            for (int32_t k = 0; k < mp->n_isr; k++)
                mp->isr[k] = p->isr_nodes[k];
        }
        qsort(mt->parts, (size_t)mt->n_parts, sizeof *mt->parts, cmp_part);
        /* Partitions must be 0..n-1; a gap means the answer is incomplete: treat as unknown. */
        for (int32_t j = 0; j < mt->n_parts; j++)
            if (mt->parts[j].partition != j) {
                mt->n_parts = 0;
                break;
            }
        n_parts += mt->n_parts;
        c->n_topics++;
    }
    pthread_mutex_lock(&md->lock);
    kp_cluster *old = md->cur;
    c->version = old->version + 1;
    md->cur = c;
    md->last_update_ms = now_ms;
    atomic_store(&md->version, c->version);
    pthread_cond_broadcast(&md->cv);
    pthread_mutex_unlock(&md->lock);
    kp_cluster_release(old); /* freed here, or by the last reader still holding it */
    return n_parts;
}

int32_t kp_metadata_wait_topic(kp_metadata *md, const char *topic, int64_t deadline_ms,
                               void (*wake)(void *arg), void *wake_arg, int16_t *topic_err,
                               bool *blocked) {
    *topic_err = 0;
    *blocked = false;
    bool asked = false, waited = false;
    pthread_mutex_lock(&md->lock);
    for (;;) {
        const kp_mtopic *t = kp_cluster_topic(md->cur, topic);
        if (t && t->n_parts > 0) {
            /* Known: it is in the wanted set already (Metadata asks for wanted topics only). */
            int32_t n = t->n_parts;
            pthread_mutex_unlock(&md->lock);
            return n;
        }
        if (t)
            *topic_err = t->err;
        *blocked = true; /* not known at the first look: the caller re-reads the clock */
        if (!asked) {
            pthread_mutex_unlock(&md->lock);
            kp_metadata_add_topic(md, topic);
            atomic_store(&md->need_update, true);
            if (wake)
                wake(wake_arg);
            asked = true;
            pthread_mutex_lock(&md->lock);
            continue;
        }
        if (waited) {
            /* re-ask after every answer that did not have it (topic being created); an
             * answer that has it returns above without asking for one more */
            atomic_store(&md->need_update, true);
            if (wake) {
                pthread_mutex_unlock(&md->lock);
                wake(wake_arg);
                pthread_mutex_lock(&md->lock);
            }
        }
        if (kw_clock_now_ms(md->clock) >= deadline_ms || atomic_load(&md->closed))
            break;
        kp_cond_wait_until(md->clock, &md->cv, &md->lock, deadline_ms);
        waited = true;
    }
    pthread_mutex_unlock(&md->lock);
    return 0;
}

void kp_metadata_wake_all(kp_metadata *md) {
    atomic_store(&md->closed, true);
    pthread_mutex_lock(&md->lock);
    pthread_cond_broadcast(&md->cv);
    pthread_mutex_unlock(&md->lock);
}

/* A deep copy of a cluster picture (refs 1), or NULL when out of memory. */
static kp_cluster *cluster_clone(const kp_cluster *src, int32_t extra_nodes) {
    kp_cluster *c = cluster_empty();
    if (!c)
        return NULL;
    c->nodes = calloc((size_t)(src->n_nodes + extra_nodes + 1), sizeof *c->nodes);
    c->topics = calloc((size_t)(src->n_topics + 1), sizeof *c->topics);
    if (!c->nodes || !c->topics) {
        cluster_free(c);
        return NULL;
    }
    if (src->n_nodes)
        memcpy(c->nodes, src->nodes, (size_t)src->n_nodes * sizeof *c->nodes);
    c->n_nodes = src->n_nodes;
    for (int32_t i = 0; i < src->n_topics; i++) {
        const kp_mtopic *st = &src->topics[i];
        kp_mtopic *dt = &c->topics[c->n_topics];
        *dt = *st;
        dt->name = strdup(st->name);
        dt->parts = calloc((size_t)(st->n_parts + 1), sizeof *dt->parts);
        if (!dt->name || !dt->parts) {
            free(dt->name);
            free(dt->parts);
            cluster_free(c);
            return NULL;
        }
        if (st->n_parts)
            memcpy(dt->parts, st->parts, (size_t)st->n_parts * sizeof *dt->parts);
        c->n_topics++;
    }
    return c;
}

/* The CurrentLeader of one answer that moves our picture forward: a known leader with a
 * newer epoch than ours (Java's Metadata.updatePartitionLeadership keeps the newer epoch). */
static kp_mpart *hinted_part(kp_cluster *c, kw_slice topic, const kw_produce_resp_partition *pr) {
    if (pr->error_code != KW_ERR_NOT_LEADER_OR_FOLLOWER || !pr->has_current_leader ||
        pr->current_leader_id < 0)
        return NULL;
    char name[256];
    kp_mtopic *t = (kp_mtopic *)kp_cluster_topic(c, kw_slice_cstr(topic, name, sizeof name));
    if (!t || pr->index < 0 || pr->index >= t->n_parts)
        return NULL;
    kp_mpart *mp = &t->parts[pr->index];
    if (mp->leader_epoch >= 0 && pr->current_leader_epoch <= mp->leader_epoch)
        return NULL;
    return mp;
}

int32_t kp_metadata_apply_leader_hints(kp_metadata *md, const kw_produce_resp *resp) {
    kp_cluster *cur = kp_metadata_cluster(md);
    int32_t wanted = 0;
    for (int32_t t = 0; t < resp->n_topics; t++)
        for (int32_t i = 0; i < resp->topics[t].n_partitions; i++)
            wanted += hinted_part(cur, resp->topics[t].name, &resp->topics[t].partitions[i]) != NULL;
    if (wanted == 0) {
        kp_cluster_release(cur);
        return 0;
    }
    kp_cluster *c = cluster_clone(cur, resp->n_node_endpoints);
    kp_cluster_release(cur);
    if (!c)
        return 0;
    int32_t updated = 0;
    for (int32_t t = 0; t < resp->n_topics; t++) {
        for (int32_t i = 0; i < resp->topics[t].n_partitions; i++) {
            const kw_produce_resp_partition *pr = &resp->topics[t].partitions[i];
            kp_mpart *mp = hinted_part(c, resp->topics[t].name, pr);
            if (!mp)
                continue;
            /* The leader must be reachable: known already, or named in NodeEndpoints. */
            if (!kp_cluster_node(c, pr->current_leader_id)) {
                const kw_metadata_broker *e = NULL;
                for (int32_t k = 0; k < resp->n_node_endpoints; k++)
                    if (resp->node_endpoints[k].node_id == pr->current_leader_id)
                        e = &resp->node_endpoints[k];
                if (!e)
                    continue;
                kp_node *n = &c->nodes[c->n_nodes++];
                n->id = e->node_id;
                kw_slice_cstr(e->host, n->host, sizeof n->host);
                n->port = e->port;
            }
            mp->leader = pr->current_leader_id;
            mp->leader_epoch = pr->current_leader_epoch;
            updated++;
        }
    }
    if (updated == 0) {
        cluster_free(c);
        return 0;
    }
    pthread_mutex_lock(&md->lock);
    kp_cluster *old = md->cur;
    c->version = old->version + 1;
    md->cur = c;
    atomic_store(&md->version, c->version);
    pthread_cond_broadcast(&md->cv);
    pthread_mutex_unlock(&md->lock);
    kp_cluster_release(old);
    return updated;
}
