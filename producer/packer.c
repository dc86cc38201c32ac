/* The packing table (打包台): with compression.type set, a crate the sorting room seals is
 * handed here and vacuum-packed by one of a few packers, so the clerk at the front desk (the
 * application thread) goes back to sorting parcels at once.
 *
 * Where the compression runs is the one place Courier leaves Java's model for librdkafka's:
 * - Java compresses on the appending thread: MemoryRecordsBuilder writes every record through
 *   a compression stream as it is appended (RecordAccumulator.tryAppend ->
 *   ProducerBatch.tryAppend), and ProducerBatch.close() at drain only finishes the stream and
 *   feeds CompressionRatioEstimator.
 * - librdkafka compresses in its broker threads: rd_kafka_msgset_writer_finalize() calls
 *   rd_kafka_msgset_writer_compress() while the broker thread builds the ProduceRequest
 *   (src/rdkafka_msgset_writer.c, "@locality broker thread"), one thread per broker, so a
 *   3-broker cluster compresses on up to 3 cores while the application keeps producing; a
 *   failed compression sends the batch uncompressed.
 * Courier's sender is one thread for every broker, so the packers take the sealed batches
 * instead (as many threads as online CPUs, at most KP_PACKERS_MAX); the sender still packs a
 * batch that is sealed at drain (linger.ms or a flush ended it), as librdkafka does, and a
 * batch whose compression failed goes uncompressed (kp_batch_close packs it at drain).
 *
 * Nothing else changes: the batch counts as full by Java's estimate at append time
 * (kp_batch_is_full), the wire batch gets its header and CRC (over the compressed bytes) at
 * drain, the raw records stay for the delivery reports and for a split, and the topic's
 * estimated ratio moves when a batch is packed (Java moves it at close, which is later). While
 * a batch is packed, b->compressing keeps ready/drain/expiry away from it; the packer wakes the
 * sender when it is done. */
#include "producer/kp_int.h"

#include <stdlib.h>
#include <unistd.h>

/* One packer's loop: take the oldest sealed batch, pack it, publish it, wake the sender; at
 * stop, finish what is queued first (the sender may be waiting for those batches). */
static void *packer_main(void *arg) {
    kp_packer *pk = arg;
    pthread_mutex_lock(&pk->lock);
    for (;;) {
        while (!pk->head && !pk->stop)
            pthread_cond_wait(&pk->cv, &pk->lock);
        kp_batch *b = pk->head;
        if (!b)
            break; /* stop, and nothing left */
        pk->head = b->pack_next;
        if (!pk->head)
            pk->tail = NULL;
        b->pack_next = NULL;
        pthread_mutex_unlock(&pk->lock);
        kp_accum_pack(pk->accum, b);
        kp_net_wakeup(pk->net);
        pthread_mutex_lock(&pk->lock);
    }
    pthread_mutex_unlock(&pk->lock);
    return NULL;
}

int32_t kp_packer_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > KP_PACKERS_MAX ? KP_PACKERS_MAX : (int32_t)n;
}

kw_err kp_packer_init(kp_packer *pk, kp_accum *accum, kp_net *net, int32_t n_threads) {
    pk->head = pk->tail = NULL;
    pk->stop = false;
    pk->accum = accum;
    pk->net = net;
    pk->n_threads = 0;
    pthread_mutex_init(&pk->lock, NULL);
    pthread_cond_init(&pk->cv, NULL);
    if (n_threads > KP_PACKERS_MAX)
        n_threads = KP_PACKERS_MAX;
    for (int32_t i = 0; i < n_threads; i++) {
        if (pthread_create(&pk->threads[i], NULL, packer_main, pk) != 0)
            break;
        pk->n_threads++;
    }
    return n_threads > 0 && pk->n_threads == 0 ? KW_ERR__NO_MEMORY : KW_ERR_NONE;
}

void kp_packer_submit(kp_packer *pk, kp_batch *b) {
    pthread_mutex_lock(&pk->lock);
    b->pack_next = NULL;
    if (pk->tail)
        pk->tail->pack_next = b;
    else
        pk->head = b;
    pk->tail = b;
    pthread_cond_signal(&pk->cv);
    pthread_mutex_unlock(&pk->lock);
}

void kp_packer_stop(kp_packer *pk) {
    pthread_mutex_lock(&pk->lock);
    pk->stop = true;
    pthread_cond_broadcast(&pk->cv);
    pthread_mutex_unlock(&pk->lock);
    for (int32_t i = 0; i < pk->n_threads; i++)
        pthread_join(pk->threads[i], NULL);
    pk->n_threads = 0;
}

void kp_packer_destroy(kp_packer *pk) {
    kp_packer_stop(pk);
    pthread_mutex_destroy(&pk->lock);
    pthread_cond_destroy(&pk->cv);
}
