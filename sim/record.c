/* The recorder (the company's CCTV): a bus sink that queues every event, a sampler that keeps
 * the view model as it was drawn, and a writer thread that packs both into zlib-compressed
 * chunks. Format: sim/record.h and docs/trace.md ("Recordings").
 *
 * Each chunk is one independent zlib stream that starts with the latest sample, so a reader
 * can decode any chunk alone; the index at the end lists the chunks.
 *
 * Locks: rec->lock guards the queues (q_ev, q_smp), `closed`, `stop` and the counters; the
 * writer thread alone touches the chunk buffer and the file until sim_record_finish joins it. */
#include "sim/record.h"

#include "sim/runner_int.h" /* sim_json_str: one escaper for every JSON we write */
#include "sim/view_feed.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define CHUNK_RAW_TARGET (512u << 10) /* raw bytes per chunk before it is compressed */
#define WRITER_PERIOD_MS 20
#define SAMPLE_WALL_MS 50 /* own sampler: 20 samples a wall second ... */
#define SAMPLE_SIM_MS 50  /* ... and at least one per 50 ms of simulated time */

typedef struct queued_sample {
    size_t pos; /* events queued before it: it is written after them */
    uint64_t after_seq;
    sim_view_model *m;
} queued_sample;

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} buf;

typedef struct chunk_ix {
    uint64_t off, first_seq, last_seq;
    int64_t first_t;
} chunk_ix;

struct sim_record {
    FILE *f;
    char path[512];
    bool own_sampler;
    bool active;       /* a file is open and events are kept (guarded by lock once attached) */
    char *scen;        /* the scenario's JSON text (written when the file opens) */
    size_t scen_len;
    struct sim_runner *r;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    sim_event *q_ev;
    size_t q_n, q_cap;
    sim_event *q_fold; /* own sampler: events not yet folded into its feed */
    size_t qf_n, qf_cap;
    queued_sample *q_smp;
    size_t qs_n, qs_cap;
    bool closed;      /* finish: the sink takes no more events */
    bool stop_writer; /* finish: the writer drains and leaves */
    bool stop_sampler;
    uint64_t last_seq; /* last event queued */
    uint64_t n_events;
    uint64_t bytes;
    bool q_oom;
    bool run_started; /* the sink saw run.started: producer and cluster exist */
    bool have_start;
    int64_t start_us; /* the runner's start (events' t_us - start_us = run time) */

    pthread_t writer, sampler;
    bool writer_started, sampler_started, finished;

    /* writer thread only */
    buf raw;
    uint64_t c_first_seq, c_last_seq;
    int64_t c_first_t, c_last_t;
    uint32_t c_events, c_samples;
    sim_view_model *latest; /* the latest sample (each chunk opens with it) */
    uint64_t latest_seq;
    bool have_latest;
    bool tail_is_sample; /* the last record in `raw` is a sample, at tail_off */
    bool c_new_sample;   /* this chunk holds a sample besides the one it opened with */
    size_t tail_off;
    chunk_ix *ix;
    size_t n_ix, cap_ix;
    bool io_error;
    char io_err[800];
};

/* ---- little-endian encoding -------------------------------------------------------------- */

static void put(buf *b, const void *p, size_t n) {
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_u8(buf *b, uint8_t v) {
    put(b, &v, 1);
}
static void put_u16(buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}
static void put_u32(buf *b, uint32_t v) {
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}
static void put_u64(buf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 8);
}
static void put_str(buf *b, const char *s, size_t max) {
    size_t n = strnlen(s, max);
    if (n > 255)
        n = 255;
    put_u8(b, (uint8_t)n);
    put(b, s, n);
}

/* One event record: the layout docs/trace.md gives ("Event record"). */
static void put_event(buf *b, const sim_event *e) {
    size_t at = b->n;
    put_u8(b, SIM_REC_EVENT);
    put_u32(b, 0); /* length, patched below */
    put_u64(b, e->seq);
    put_u64(b, (uint64_t)e->t_us);
    put_u8(b, (uint8_t)e->source);
    put_u32(b, (uint32_t)e->partition);
    put_u32(b, (uint32_t)e->node);
    put_u64(b, (uint64_t)e->record_id);
    put_u64(b, (uint64_t)e->batch_id);
    put_u32(b, (uint32_t)e->corr_id);
    put_u32(b, (uint32_t)e->count);
    put_u64(b, (uint64_t)e->bytes);
    put_u64(b, (uint64_t)e->offset);
    put_u32(b, (uint32_t)e->err);
    put_u16(b, (uint16_t)e->api);
    put_u64(b, (uint64_t)e->offset_end);
    put_u8(b, e->stepped ? 1 : 0);
    put_str(b, e->kind, sizeof e->kind);
    put_str(b, e->topic, sizeof e->topic);
    put_str(b, e->detail, sizeof e->detail);
    if (!b->oom) {
        uint32_t len = (uint32_t)(b->n - at - 5);
        for (int i = 0; i < 4; i++)
            b->p[at + 1 + (size_t)i] = (uint8_t)(len >> (8 * i));
    }
}

static void put_sample(buf *b, const sim_view_model *m, uint64_t after_seq) {
    put_u8(b, SIM_REC_SAMPLE);
    put_u32(b, (uint32_t)(8 + 4 + sizeof *m));
    put_u64(b, after_seq);
    put_u32(b, (uint32_t)sizeof *m);
    put(b, m, sizeof *m);
}

/* ---- frames ------------------------------------------------------------------------------ */

static void io_fail(sim_record *rec, const char *what) {
    if (!rec->io_error) {
        rec->io_error = true;
        snprintf(rec->io_err, sizeof rec->io_err, "cannot write %s (%s): %s", rec->path, what,
                 errno ? strerror(errno) : "short write");
    }
}

/* Writes one frame; returns its file offset. */
static uint64_t write_frame(sim_record *rec, uint32_t tag, const void *a, size_t na, const void *b,
                            size_t nb) {
    long off = ftell(rec->f);
    uLong crc = crc32(0L, Z_NULL, 0);
    if (na)
        crc = crc32(crc, a, (uInt)na);
    if (nb)
        crc = crc32(crc, b, (uInt)nb);
    buf h = {0};
    put_u32(&h, tag);
    put_u32(&h, (uint32_t)(na + nb));
    put_u32(&h, (uint32_t)crc);
    errno = 0;
    if (h.oom || fwrite(h.p, 1, h.n, rec->f) != h.n || (na && fwrite(a, 1, na, rec->f) != na) ||
        (nb && fwrite(b, 1, nb, rec->f) != nb))
        io_fail(rec, "frame");
    free(h.p);
    pthread_mutex_lock(&rec->lock);
    rec->bytes += SIM_REC_FRAME_HDR + na + nb;
    pthread_mutex_unlock(&rec->lock);
    return off < 0 ? 0 : (uint64_t)off;
}

static void chunk_begin(sim_record *rec) {
    rec->raw.n = 0;
    rec->c_events = rec->c_samples = 0;
    rec->c_first_seq = rec->c_last_seq = 0;
    rec->c_first_t = rec->c_last_t = 0;
    rec->tail_is_sample = false;
    rec->c_new_sample = false;
    if (rec->have_latest) {
        rec->tail_off = rec->raw.n;
        put_sample(&rec->raw, rec->latest, rec->latest_seq);
        rec->c_samples++;
        rec->tail_is_sample = true;
    }
}

/* Compresses the chunk buffer into one CHNK frame and starts the next chunk. */
static void chunk_flush(sim_record *rec) {
    if (rec->c_events == 0 && !rec->c_new_sample)
        return; /* nothing new since the opening sample */
    if (rec->raw.oom) {
        rec->io_error = true;
        snprintf(rec->io_err, sizeof rec->io_err, "out of memory encoding a chunk");
        chunk_begin(rec);
        return;
    }
    uLongf zn = compressBound((uLong)rec->raw.n);
    uint8_t *z = malloc(SIM_REC_CHNK_HDR + zn);
    if (!z) {
        rec->io_error = true;
        snprintf(rec->io_err, sizeof rec->io_err, "out of memory compressing a chunk");
        chunk_begin(rec);
        return;
    }
    if (compress2(z + SIM_REC_CHNK_HDR, &zn, rec->raw.p, (uLong)rec->raw.n, Z_DEFAULT_COMPRESSION) !=
        Z_OK) {
        rec->io_error = true;
        snprintf(rec->io_err, sizeof rec->io_err, "zlib could not compress a chunk");
        free(z);
        chunk_begin(rec);
        return;
    }
    buf h = {0};
    put_u64(&h, rec->c_first_seq);
    put_u64(&h, rec->c_last_seq);
    put_u64(&h, (uint64_t)rec->c_first_t);
    put_u64(&h, (uint64_t)rec->c_last_t);
    put_u32(&h, rec->c_events);
    put_u32(&h, rec->c_samples);
    put_u32(&h, (uint32_t)rec->raw.n);
    if (!h.oom)
        memcpy(z, h.p, SIM_REC_CHNK_HDR);
    free(h.p);
    uint64_t off = write_frame(rec, SIM_REC_CHNK, z, SIM_REC_CHNK_HDR + zn, NULL, 0);
    free(z);
    if (rec->n_ix == rec->cap_ix) {
        size_t cap = rec->cap_ix ? rec->cap_ix * 2 : 64;
        chunk_ix *ix = realloc(rec->ix, cap * sizeof *ix);
        if (!ix) {
            rec->io_error = true;
            snprintf(rec->io_err, sizeof rec->io_err, "out of memory for the index");
            chunk_begin(rec);
            return;
        }
        rec->ix = ix;
        rec->cap_ix = cap;
    }
    rec->ix[rec->n_ix++] = (chunk_ix){off, rec->c_first_seq, rec->c_last_seq, rec->c_first_t};
    chunk_begin(rec);
}

static void add_event(sim_record *rec, const sim_event *e) {
    put_event(&rec->raw, e);
    rec->tail_is_sample = false;
    if (rec->c_events++ == 0) {
        rec->c_first_seq = e->seq;
        rec->c_first_t = e->t_us;
    }
    rec->c_last_seq = e->seq;
    rec->c_last_t = e->t_us;
}

static void add_sample(sim_record *rec, sim_view_model *m, uint64_t after_seq) {
    /* Frames drawn while no event came (a paused or finished run) replace each other: the
     * screen at an event is the last frame drawn there, and a class may wait minutes. */
    if (rec->tail_is_sample && rec->have_latest && rec->latest_seq == after_seq) {
        rec->raw.n = rec->tail_off;
        rec->c_samples--;
    }
    rec->tail_off = rec->raw.n;
    put_sample(&rec->raw, m, after_seq);
    rec->tail_is_sample = true;
    rec->c_new_sample = true;
    rec->c_samples++;
    memcpy(rec->latest, m, sizeof *m);
    rec->latest_seq = after_seq;
    rec->have_latest = true;
}

/* Takes what the queues hold and encodes it, samples in their places among the events. */
static void drain_queues(sim_record *rec, sim_event **spare, size_t *spare_cap) {
    pthread_mutex_lock(&rec->lock);
    sim_event *ev = rec->q_ev;
    size_t n = rec->q_n, cap = rec->q_cap;
    rec->q_ev = *spare;
    rec->q_cap = *spare_cap;
    rec->q_n = 0;
    queued_sample *smp = rec->q_smp;
    size_t ns = rec->qs_n;
    rec->q_smp = NULL;
    rec->qs_n = rec->qs_cap = 0;
    pthread_mutex_unlock(&rec->lock);

    size_t si = 0;
    for (size_t i = 0; i <= n; i++) {
        while (si < ns && smp[si].pos <= i) {
            add_sample(rec, smp[si].m, smp[si].after_seq);
            free(smp[si].m);
            si++;
            if (rec->raw.n >= CHUNK_RAW_TARGET)
                chunk_flush(rec);
        }
        if (i == n)
            break;
        add_event(rec, &ev[i]);
        if (rec->raw.n >= CHUNK_RAW_TARGET)
            chunk_flush(rec);
    }
    free(smp);
    *spare = ev;
    *spare_cap = cap;
}

static void *writer_main(void *arg) {
    sim_record *rec = arg;
    sim_event *spare = NULL;
    size_t spare_cap = 0;
    for (;;) {
        pthread_mutex_lock(&rec->lock);
        if (!rec->stop_writer) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += WRITER_PERIOD_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&rec->cond, &rec->lock, &ts);
        }
        bool stop = rec->stop_writer;
        pthread_mutex_unlock(&rec->lock);
        drain_queues(rec, &spare, &spare_cap);
        if (stop)
            break;
    }
    free(spare);
    return NULL;
}

/* ---- the sink and the samplers ----------------------------------------------------------- */

/* Appends an event to a growing queue; false when out of memory. @locks rec->lock held. */
static bool push_event(sim_event **q, size_t *n, size_t *cap, const sim_event *e) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4096;
        sim_event *g = realloc(*q, c * sizeof *g);
        if (!g)
            return false;
        *q = g;
        *cap = c;
    }
    (*q)[(*n)++] = *e;
    return true;
}

static void record_sink(const sim_event *e, void *opaque) {
    sim_record *rec = opaque;
    pthread_mutex_lock(&rec->lock);
    if (rec->active && !rec->closed) {
        if (push_event(&rec->q_ev, &rec->q_n, &rec->q_cap, e)) {
            rec->last_seq = e->seq;
            if (e->source == SIM_SRC_SIM && !strcmp(e->kind, "run.started"))
                rec->run_started = true;
            rec->n_events++;
            /* Headless, the sampler's feed has no ring: it folds the events from here, so
             * what the events build in the rooms (truncations and the acknowledgements they
             * cut, on the map) is in its samples as in the view's. */
            if (rec->own_sampler && !push_event(&rec->q_fold, &rec->qf_n, &rec->qf_cap, e))
                rec->q_oom = true;
        } else {
            rec->q_oom = true; /* the recording will say it is incomplete */
        }
    }
    pthread_mutex_unlock(&rec->lock);
}

static void queue_sample(sim_record *rec, const sim_view_model *m, uint64_t after_seq) {
    sim_view_model *copy = malloc(sizeof *copy);
    if (!copy)
        return; /* a missing sample only makes the replay coarser */
    memcpy(copy, m, sizeof *copy);
    pthread_mutex_lock(&rec->lock);
    if (rec->closed || !rec->active) {
        pthread_mutex_unlock(&rec->lock);
        free(copy);
        return;
    }
    if (rec->qs_n == rec->qs_cap) {
        size_t cap = rec->qs_cap ? rec->qs_cap * 2 : 16;
        queued_sample *q = realloc(rec->q_smp, cap * sizeof *q);
        if (!q) {
            pthread_mutex_unlock(&rec->lock);
            free(copy);
            return;
        }
        rec->q_smp = q;
        rec->qs_cap = cap;
    }
    /* An event that reached the queue after after_seq goes after the sample (it is the late
     * one: its effect was not folded into what the view drew). */
    size_t pos = rec->q_n;
    while (pos > 0 && rec->q_ev[pos - 1].seq > after_seq)
        pos--;
    rec->q_smp[rec->qs_n++] = (queued_sample){pos, after_seq, copy};
    pthread_mutex_unlock(&rec->lock);
}

void sim_record_view_sample(sim_record *rec, const sim_view_model *m, uint64_t after_seq) {
    if (!rec || rec->own_sampler)
        return;
    queue_sample(rec, m, after_seq);
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Headless: samples the run as a view would, 20 times a wall second and at least every 50 ms
 * of simulated time, until the run is done (then once more). */
static void *sampler_main(void *arg) {
    sim_record *rec = arg;
    sim_bus_exempt_thread(true);
    sim_view_feed *feed = sim_view_feed_new(rec->r);
    sim_view_model *m = calloc(1, sizeof *m);
    sim_clock *clk = sim_runner_clock(rec->r);
    int64_t last_wall = 0, last_sim = -1000000;
    bool done = false;
    while (feed && m && !done) {
        pthread_mutex_lock(&rec->lock);
        bool stop = rec->stop_sampler, started = rec->run_started;
        pthread_mutex_unlock(&rec->lock);
        if (stop)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        if (!started) /* the runner is still building the producer and the cluster */
            continue;
        /* (not sim_runner_wait: that one is the control thread's, it joins the supervisor) */
        sim_progress pr;
        sim_runner_progress(rec->r, &pr);
        done = pr.state == SIM_RUN_DONE;
        int64_t now = mono_ms(), sim_ms = sim_clock_now_us(clk) / 1000;
        if (!done && now - last_wall < SAMPLE_WALL_MS && sim_ms - last_sim < SAMPLE_SIM_MS)
            continue;
        /* The feed has no ring to read (headless): it folds the events queued since the
         * last sample (exactly those up to seq), then samples the rooms, as the view's
         * feed drains its ring. Once the run is done, one last sample: the rooms as the view
         * draws them at DONE (its footer reads the logs a last time, as the view's does). */
        pthread_mutex_lock(&rec->lock);
        uint64_t seq = rec->last_seq;
        sim_event *fold = rec->q_fold;
        size_t n_fold = rec->qf_n;
        rec->q_fold = NULL;
        rec->qf_n = rec->qf_cap = 0;
        pthread_mutex_unlock(&rec->lock);
        for (size_t i = 0; i < n_fold; i++) {
            fold[i].t_us -= pr.start_us; /* run time, as the view's feed makes it */
            sim_view_feed_event(feed, &fold[i]);
        }
        free(fold);
        sim_view_feed_sample(feed, m, now);
        m->bootstrap[0] = '\0'; /* not recorded: a replay's cluster is gone (as the view's) */
        queue_sample(rec, m, seq);
        last_wall = now;
        last_sim = sim_ms;
    }
    sim_view_feed_destroy(feed);
    free(m);
    return NULL;
}

/* ---- life cycle -------------------------------------------------------------------------- */

static int fail(char *errbuf, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *errbuf, size_t errsize, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errsize, fmt, ap);
    va_end(ap);
    return -1;
}

static sim_record *rec_alloc(const char *scenario_json, size_t len, bool own_sampler) {
    sim_record *rec = calloc(1, sizeof *rec);
    if (!rec)
        return NULL;
    rec->latest = calloc(1, sizeof *rec->latest);
    rec->scen = malloc(len ? len : 1);
    if (!rec->latest || !rec->scen) {
        free(rec->latest);
        free(rec->scen);
        free(rec);
        return NULL;
    }
    memcpy(rec->scen, scenario_json, len);
    rec->scen_len = len;
    rec->own_sampler = own_sampler;
    pthread_mutex_init(&rec->lock, NULL);
    pthread_cond_init(&rec->cond, NULL);
    return rec;
}

/* Creates the file and writes the magic, the header and the scenario. */
static int begin_file(sim_record *rec, const char *path, char *errbuf, size_t errsize) {
    snprintf(rec->path, sizeof rec->path, "%s", path);
    rec->f = fopen(path, "wb");
    if (!rec->f)
        return fail(errbuf, errsize, "cannot write the recording %s: %s", path, strerror(errno));
    setvbuf(rec->f, NULL, _IOFBF, 1 << 20);
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "{\"schema\":\"courier-recording\",\"version\":%d,\"model_size\":%zu,"
                      "\"sampler\":\"%s\"}",
                      SIM_REC_VERSION, sizeof(sim_view_model), rec->own_sampler ? "own" : "view");
    errno = 0;
    if (fwrite(SIM_REC_MAGIC, 1, SIM_REC_MAGIC_LEN, rec->f) != SIM_REC_MAGIC_LEN)
        io_fail(rec, "header");
    rec->bytes = SIM_REC_MAGIC_LEN;
    write_frame(rec, SIM_REC_HEAD, head, (size_t)hn, NULL, 0);
    write_frame(rec, SIM_REC_SCEN, rec->scen, rec->scen_len, NULL, 0);
    if (rec->io_error) {
        fclose(rec->f);
        rec->f = NULL;
        return fail(errbuf, errsize, "%s", rec->io_err);
    }
    chunk_begin(rec);
    return 0;
}

int sim_record_open(sim_record **out, const char *path, const char *scenario_json, size_t len,
                    bool own_sampler, char *errbuf, size_t errsize) {
    *out = NULL;
    sim_record *rec = rec_alloc(scenario_json, len, own_sampler);
    if (!rec)
        return fail(errbuf, errsize, "out of memory");
    if (begin_file(rec, path, errbuf, errsize)) {
        rec->finished = true;
        sim_record_destroy(rec);
        return -1;
    }
    rec->active = true;
    *out = rec;
    return 0;
}

int sim_record_new_dormant(sim_record **out, const char *scenario_json, size_t len,
                           bool own_sampler) {
    *out = rec_alloc(scenario_json, len, own_sampler);
    return *out ? 0 : -1;
}

int sim_record_start(sim_record *rec, const char *path, char *errbuf, size_t errsize) {
    pthread_mutex_lock(&rec->lock);
    bool busy = rec->active || rec->closed;
    pthread_mutex_unlock(&rec->lock);
    if (busy)
        return fail(errbuf, errsize, "already recording to %s", rec->path);
    /* The writer thread touches the file only once events are queued, i.e. once active. */
    if (begin_file(rec, path, errbuf, errsize))
        return -1;
    pthread_mutex_lock(&rec->lock);
    rec->active = true;
    pthread_mutex_unlock(&rec->lock);
    return 0;
}

bool sim_record_active(sim_record *rec, char *path, size_t size) {
    pthread_mutex_lock(&rec->lock);
    bool on = rec->active;
    pthread_mutex_unlock(&rec->lock);
    if (on && path)
        snprintf(path, size, "%s", rec->path);
    return on;
}

int sim_record_attach(sim_record *rec, struct sim_runner *r, char *errbuf, size_t errsize) {
    rec->r = r;
    if (sim_bus_add_sink(sim_runner_bus(r), record_sink, rec))
        return fail(errbuf, errsize, "recording: the bus has no room for another sink");
    if (pthread_create(&rec->writer, NULL, writer_main, rec))
        return fail(errbuf, errsize, "recording: cannot start the writer thread");
    rec->writer_started = true;
    if (rec->own_sampler) {
        if (pthread_create(&rec->sampler, NULL, sampler_main, rec))
            return fail(errbuf, errsize, "recording: cannot start the sampler thread");
        rec->sampler_started = true;
    }
    return 0;
}

/* Keeps the run's start time while the runner exists (detach and finish call this). */
static void take_start(sim_record *rec) {
    if (rec->r && !rec->have_start) {
        sim_progress pr;
        sim_runner_progress(rec->r, &pr);
        if (pr.state != SIM_RUN_NEW) {
            rec->start_us = pr.start_us;
            rec->have_start = true;
        }
    }
}

void sim_record_detach(sim_record *rec) {
    if (!rec)
        return;
    take_start(rec);
    if (rec->sampler_started) {
        pthread_mutex_lock(&rec->lock);
        rec->stop_sampler = true;
        pthread_mutex_unlock(&rec->lock);
        pthread_join(rec->sampler, NULL);
        rec->sampler_started = false;
    }
    rec->r = NULL; /* the runner is going away */
}

/* The audit as one JSON object; doubles with 17 significant digits so they read back exact. */
static void write_audit(sim_record *rec, const sim_audit *a) {
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        io_fail(rec, "audit");
        return;
    }
    fprintf(m,
            "{\"sent\":%lld,\"acknowledged\":%lld,\"failed\":%lld,\"pending\":%lld,"
            "\"in_log\":%lld,\"lost\":%lld,\"duplicated\":%lld,\"reordered\":%lld,"
            "\"failed_in_log\":%lld,\"records_per_request_avg\":%.17g,\"batch_size_avg\":%.17g,"
            "\"request_latency_avg_ms\":%.17g,\"request_latency_p99_ms\":%.17g,"
            "\"request_latency_max_ms\":%.17g,\"retries\":%lld,\"requests\":%lld,"
            "\"faults_applied\":%d,\"faults_failed\":%d,\"elapsed_ms\":%lld,\"wall_s\":%.17g,"
            "\"interrupted\":%s,\"log_read_error\":%s,\"log_error\":",
            (long long)a->sent, (long long)a->acknowledged, (long long)a->failed,
            (long long)a->pending, (long long)a->in_log, (long long)a->lost,
            (long long)a->duplicated, (long long)a->reordered, (long long)a->failed_in_log,
            a->records_per_request_avg, a->batch_size_avg, a->request_latency_avg_ms,
            a->request_latency_p99_ms, a->request_latency_max_ms, (long long)a->retries,
            (long long)a->requests, a->faults_applied, a->faults_failed,
            (long long)a->elapsed_ms, a->wall_s, a->interrupted ? "true" : "false",
            a->log_read_error ? "true" : "false");
    sim_json_str(m, a->log_error);
    fprintf(m, ",\"log_source\":");
    sim_json_str(m, a->log_source);
    /* the fields added since the JSON's first version: with them an older build's recording
     * replays its audit in full after sim_audit changes (sim/recording.c parse_audit) */
    fprintf(m,
            ",\"deleted_by_retention\":%lld,\"compression_rate_avg\":%.17g,\"batch_bytes\":%lld,"
            "\"batch_raw_bytes\":%lld,\"log_bytes\":%lld,\"log_raw_bytes\":%lld,"
            "\"outgoing_bytes\":%lld",
            (long long)a->deleted_by_retention, a->compression_rate_avg,
            (long long)a->batch_bytes, (long long)a->batch_raw_bytes, (long long)a->log_bytes,
            (long long)a->log_raw_bytes, (long long)a->outgoing_bytes);
    fprintf(m, ",\"requests_per_broker\":[");
    for (int b = 0; b < a->n_brokers; b++)
        fprintf(m, "%s%lld", b ? "," : "", (long long)a->requests_per_broker[b]);
    fprintf(m, "],\"failed_by\":[");
    for (int i = 0; i < a->n_failed_by; i++) {
        fprintf(m, "%s{\"err\":%d,\"name\":", i ? "," : "", (int)a->failed_by[i].err);
        sim_json_str(m, a->failed_by[i].name);
        fprintf(m, ",\"count\":%lld}", (long long)a->failed_by[i].count);
    }
    fprintf(m, "]}");
    fclose(m);
    /* The struct itself first, so the replay prints exactly what the run printed whatever
     * fields the audit gains; the JSON after it is for other readers (and older builds). */
    buf b = {0};
    put_u32(&b, (uint32_t)sizeof *a);
    put(&b, a, sizeof *a);
    put(&b, text, len);
    if (b.oom)
        io_fail(rec, "audit");
    else
        write_frame(rec, SIM_REC_AUDT, b.p, b.n, NULL, 0);
    free(b.p);
    free(text);
}

int sim_record_finish(sim_record *rec, const sim_audit *a, char *errbuf, size_t errsize) {
    if (rec->finished)
        return rec->io_error ? fail(errbuf, errsize, "%s", rec->io_err) : 0;
    rec->finished = true;
    sim_record_detach(rec);
    char run[128];
    int rn = snprintf(run, sizeof run, "{\"start_us\":%lld}",
                      (long long)(rec->have_start ? rec->start_us : 0));
    pthread_mutex_lock(&rec->lock);
    rec->closed = true;
    rec->stop_writer = true;
    pthread_cond_signal(&rec->cond);
    bool oom = rec->q_oom;
    uint64_t total = rec->n_events;
    pthread_mutex_unlock(&rec->lock);
    if (rec->writer_started) {
        pthread_join(rec->writer, NULL);
        rec->writer_started = false;
    }
    if (!rec->f)
        return 0; /* never started (a dormant recorder): no file */
    chunk_flush(rec);
    if (oom && !rec->io_error) {
        rec->io_error = true;
        snprintf(rec->io_err, sizeof rec->io_err, "out of memory: events were left out");
    }
    write_frame(rec, SIM_REC_RUNI, run, (size_t)rn, NULL, 0);
    if (a)
        write_audit(rec, a);
    buf ix = {0};
    put_u32(&ix, (uint32_t)rec->n_ix);
    for (size_t i = 0; i < rec->n_ix; i++) {
        put_u64(&ix, rec->ix[i].off);
        put_u64(&ix, rec->ix[i].first_seq);
        put_u64(&ix, rec->ix[i].last_seq);
        put_u64(&ix, (uint64_t)rec->ix[i].first_t);
    }
    uint64_t ix_off = write_frame(rec, SIM_REC_INDX, ix.p, ix.n, NULL, 0);
    free(ix.p);
    buf end = {0};
    put_u64(&end, ix_off);
    put_u64(&end, total);
    write_frame(rec, SIM_REC_ENDR, end.p, end.n, NULL, 0);
    free(end.p);
    errno = 0;
    if (fclose(rec->f) != 0)
        io_fail(rec, "close");
    rec->f = NULL;
    return rec->io_error ? fail(errbuf, errsize, "%s", rec->io_err) : 0;
}

void sim_record_destroy(sim_record *rec) {
    if (!rec)
        return;
    if (!rec->finished) {
        char err[160];
        sim_record_finish(rec, NULL, err, sizeof err);
    }
    if (rec->f)
        fclose(rec->f);
    for (size_t i = 0; i < rec->qs_n; i++)
        free(rec->q_smp[i].m);
    free(rec->q_smp);
    free(rec->q_ev);
    free(rec->q_fold);
    free(rec->raw.p);
    free(rec->latest);
    free(rec->scen);
    free(rec->ix);
    pthread_mutex_destroy(&rec->lock);
    pthread_cond_destroy(&rec->cond);
    free(rec);
}

uint64_t sim_record_bytes(sim_record *rec) {
    pthread_mutex_lock(&rec->lock);
    uint64_t n = rec->bytes;
    pthread_mutex_unlock(&rec->lock);
    return n;
}

uint64_t sim_record_events(sim_record *rec) {
    pthread_mutex_lock(&rec->lock);
    uint64_t n = rec->n_events;
    pthread_mutex_unlock(&rec->lock);
    return n;
}
