/* synth_run.c: the day loop of `ulm synth`: worker threads generate a day (each a fixed block of
 * users), order it by second with a stable two-pass counting sort (minute, then second within the
 * minute, so both histograms stay in cache), format it in fixed chunks of events (and gzip each chunk
 * as its own member), and a writer thread streams finished days into a temporary file while the
 * workers go on with the next day. Ties keep user order and chunk boundaries depend only on the
 * events, never on the thread count, so the output bytes do not either. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "synth.h"

#define CHUNK_EVENTS 32768u
#define GZ_LEVEL 1
#define FLUSH_BYTES (64u << 20)

/* One formatted chunk of a day: CSV text, and its gzip member when compressing. */
typedef struct slot {
    char *text;
    size_t cap, len;
    unsigned char *z;
    size_t zcap, zlen;
} slot;

typedef struct run {
    ulm_synth_world *w;
    unsigned nthreads;
    bool gz;
    int fd;
    const char *tmp;
    pthread_barrier_t bar;
    ulm_synth_evbuf **bufs;                 /* one per worker, each on its own cache lines */
    uint32_t **due;                         /* one per worker: the users to visit today */
    uint32_t mstart[ULM_SYNTH_MINUTES + 1]; /* where each minute's events start in the day */
    ulm_synth_ev *by_minute, *sorted;
    size_t sorted_cap, day_n;
    slot *slots[2]; /* days alternate between two slot sets: one formats, one writes */
    size_t nslots[2], day_chunks[2];
    /* Writer hand-off, guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t ready_day, written_day;
    bool done, stop;
    int go; /* start gate: 0 wait, 1 run, -1 leave (a thread failed to start) */
    ulm_status err;
    char msg[200];
    uint64_t bytes, flushed;
    ulm_progress prog;
} run;

typedef struct worker_arg {
    run *r;
    unsigned id;
} worker_arg;

/* Records the first failure (message and status) under the lock. */
static void fail(run *r, ulm_status s, const char *msg) {
    pthread_mutex_lock(&r->mu);
    if (r->err == ULM_OK) {
        r->err = s;
        snprintf(r->msg, sizeof r->msg, "%s", msg);
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Writes all of buf to the file descriptor, retrying short writes. */
static bool write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Compresses in[0..n) as one complete gzip member into s->z. */
static bool gzip_member(z_stream *zs, const char *in, size_t n, slot *s) {
    if (deflateReset(zs) != Z_OK) return false;
    size_t need = deflateBound(zs, (uLong)n) + 64;
    if (need > s->zcap) {
        unsigned char *z = realloc(s->z, need);
        if (!z) return false;
        s->z = z;
        s->zcap = need;
    }
    zs->next_in = (unsigned char *)in;
    zs->avail_in = (uInt)n;
    zs->next_out = s->z;
    zs->avail_out = (uInt)s->zcap;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END) return false;
    s->zlen = s->zcap - zs->avail_out;
    return true;
}

/* The writer thread: waits for each finished day and appends its chunks in order. */
static void *writer_main(void *arg) {
    run *r = arg;
    for (int64_t d = 0;; d++) {
        pthread_mutex_lock(&r->mu);
        while (r->ready_day < d && !r->done && r->err == ULM_OK)
            pthread_cond_wait(&r->cv, &r->mu);
        bool have = r->ready_day >= d && r->err == ULM_OK;
        pthread_mutex_unlock(&r->mu);
        if (!have) break;
        int set = (int)(d & 1);
        for (size_t k = 0; k < r->day_chunks[set]; k++) {
            slot *s = &r->slots[set][k];
            const void *p = r->gz ? (const void *)s->z : (const void *)s->text;
            size_t n = r->gz ? s->zlen : s->len;
            if (!write_all(r->fd, p, n)) {
                char m[200];
                snprintf(m, sizeof m, "cannot write %s: %s", r->tmp, strerror(errno));
                fail(r, ULM_ERR_IO, m);
                return NULL;
            }
            r->bytes += n;
        }
        /* Start writeback of what is written so far (POSIX_FADV_DONTNEED does on Linux, without
         * waiting): otherwise the kernel holds gigabytes dirty until the final fsync, which then
         * spends seconds writing while nothing else runs. */
        if (r->bytes - r->flushed >= FLUSH_BYTES) {
            posix_fadvise(r->fd, (off_t)r->flushed, (off_t)(r->bytes - r->flushed), POSIX_FADV_DONTNEED);
            r->flushed = r->bytes;
        }
        pthread_mutex_lock(&r->mu);
        r->written_day = d;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

/* Between the generate and order phases (worker 0 alone): sizes the day's buffers and waits until
 * the writer has released the slot set this day will fill. Returns false to stop the run. */
static bool prepare_day(run *r, uint32_t d) {
    size_t total = 0;
    for (unsigned t = 0; t < r->nthreads; t++) {
        if (r->bufs[t]->oom) {
            fail(r, ULM_ERR_NOMEM, "out of memory holding one day's events");
            return false;
        }
        total += r->bufs[t]->n;
    }
    if (total > r->sorted_cap) {
        size_t nc = total + total / 4 + 1024;
        ulm_synth_ev *p = realloc(r->sorted, nc * sizeof *p), *q = p ? realloc(r->by_minute, nc * sizeof *q) : NULL;
        if (p) r->sorted = p;
        if (q) r->by_minute = q;
        if (!p || !q) {
            fail(r, ULM_ERR_NOMEM, "out of memory ordering one day's events");
            return false;
        }
        r->sorted_cap = nc;
    }
    r->day_n = total;
    size_t acc = 0;
    for (uint32_t m = 0; m < ULM_SYNTH_MINUTES; m++) {
        r->mstart[m] = (uint32_t)acc;
        for (unsigned t = 0; t < r->nthreads; t++)
            acc += r->bufs[t]->hist[m];
    }
    r->mstart[ULM_SYNTH_MINUTES] = (uint32_t)acc;
    int set = (int)(d & 1);
    pthread_mutex_lock(&r->mu);
    while (r->written_day < (int64_t)d - 2 && r->err == ULM_OK)
        pthread_cond_wait(&r->cv, &r->mu);
    bool ok = r->err == ULM_OK;
    pthread_mutex_unlock(&r->mu);
    if (!ok) return false;
    size_t chunks = (total + CHUNK_EVENTS - 1) / CHUNK_EVENTS;
    if (chunks > r->nslots[set]) {
        slot *p = realloc(r->slots[set], chunks * sizeof *p);
        if (!p) {
            fail(r, ULM_ERR_NOMEM, "out of memory for output buffers");
            return false;
        }
        memset(p + r->nslots[set], 0, (chunks - r->nslots[set]) * sizeof *p);
        r->slots[set] = p;
        r->nslots[set] = chunks;
    }
    r->day_chunks[set] = chunks;
    return true;
}

/* Visits the users due today, prefetching a few ahead: user records are read in a sparse pattern
 * over a large array, and without the prefetch each visit waited for memory. */
static void generate(ulm_synth_world *w, uint32_t d, const uint32_t *due, size_t n, ulm_synth_evbuf *buf) {
    enum { AHEAD = 8 };
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n) {
            const char *p = (const char *)&w->users[due[i + AHEAD]];
            for (size_t off = 0; off < sizeof(ulm_synth_user); off += 64)
                __builtin_prefetch(p + off, 1, 3);
        }
        ulm_synth_user_day(w, due[i], d, buf);
    }
}

/* Stable counting sort, pass 1: this worker's events into their minute buckets; within a minute,
 * lower workers (lower users) first, each in generation order. */
static void sort_minutes(run *r, unsigned id) {
    uint32_t off[ULM_SYNTH_MINUTES];
    const ulm_synth_evbuf *buf = r->bufs[id];
    for (uint32_t m = 0; m < ULM_SYNTH_MINUTES; m++) {
        uint32_t o = r->mstart[m];
        for (unsigned t = 0; t < id; t++)
            o += r->bufs[t]->hist[m];
        off[m] = o;
    }
    for (size_t i = 0; i < buf->n; i++) {
        uint32_t m = (buf->ev[i].key & 0x1FFFF) / 60;
        r->by_minute[off[m]++] = buf->ev[i];
    }
}

/* Pass 2: each minute bucket of this worker's share ordered by second, stably, into sorted. */
static void sort_seconds(run *r, unsigned id) {
    uint32_t m0 = ULM_SYNTH_MINUTES * id / r->nthreads, m1 = ULM_SYNTH_MINUTES * (id + 1) / r->nthreads;
    for (uint32_t m = m0; m < m1; m++) {
        uint32_t a = r->mstart[m], b = r->mstart[m + 1], cnt[61] = {0};
        for (uint32_t i = a; i < b; i++)
            cnt[(r->by_minute[i].key & 0x1FFFF) % 60 + 1]++;
        cnt[0] = a;
        for (int k = 1; k < 61; k++)
            cnt[k] += cnt[k - 1];
        for (uint32_t i = a; i < b; i++)
            r->sorted[cnt[(r->by_minute[i].key & 0x1FFFF) % 60]++] = r->by_minute[i];
    }
}

/* One worker: its block of users every day, its share of the ordering and of the chunks. */
static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    run *r = wa->r;
    unsigned id = wa->id, T = r->nthreads;
    ulm_synth_world *w = r->w;
    uint64_t U = w->p.users;
    uint32_t lo = (uint32_t)(U * id / T), hi = (uint32_t)(U * (id + 1) / T);
    ulm_synth_evbuf *buf = r->bufs[id];
    uint32_t *due = r->due[id];
    /* Wait at the gate: every worker must exist before any enters a barrier. */
    pthread_mutex_lock(&r->mu);
    while (r->go == 0)
        pthread_cond_wait(&r->cv, &r->mu);
    bool leave = r->go < 0;
    pthread_mutex_unlock(&r->mu);
    if (leave) return NULL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    bool zok = !r->gz || deflateInit2(&zs, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    if (!zok) fail(r, ULM_ERR_NOMEM, "cannot start the gzip compressor");
    for (uint32_t d = 0; d < w->p.days; d++) {
        /* 1. Generate this worker's users. */
        buf->n = 0;
        memset(buf->hist, 0, sizeof buf->hist);
        uint32_t day_end = (d + 1) * ULM_SYNTH_DAY;
        size_t ndue = 0;
        for (uint32_t u = lo; u < hi; u++)
            if (w->wake[u] < day_end) due[ndue++] = u;
        generate(w, d, due, ndue, buf);
        pthread_barrier_wait(&r->bar);
        if (id == 0) r->stop = !prepare_day(r, d);
        pthread_barrier_wait(&r->bar);
        if (r->stop) break;
        /* 2. Order by second. */
        sort_minutes(r, id);
        pthread_barrier_wait(&r->bar);
        sort_seconds(r, id);
        pthread_barrier_wait(&r->bar);
        /* 3. Format (and compress) chunks id, id + T, ... */
        int set = (int)(d & 1);
        for (size_t k = id; k < r->day_chunks[set]; k += T) {
            slot *s = &r->slots[set][k];
            size_t first = k * CHUNK_EVENTS, n = r->day_n - first < CHUNK_EVENTS ? r->day_n - first : CHUNK_EVENTS;
            size_t need = n * ULM_SYNTH_LINE_MAX;
            if (need > s->cap) {
                char *p = realloc(s->text, need);
                if (!p) {
                    fail(r, ULM_ERR_NOMEM, "out of memory formatting events");
                    s->len = s->zlen = 0;
                    continue;
                }
                s->text = p;
                s->cap = need;
            }
            s->len = ulm_synth_format(w, d, r->sorted + first, n, s->text);
            if (r->gz && zok && !gzip_member(&zs, s->text, s->len, s))
                fail(r, ULM_ERR_NOMEM, "gzip compression failed");
        }
        pthread_barrier_wait(&r->bar);
        /* 4. Hand the day to the writer. */
        if (id == 0) {
            pthread_mutex_lock(&r->mu);
            r->ready_day = d;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
            ulm_progress_update(&r->prog, d + 1);
        }
    }
    if (r->gz) deflateEnd(&zs);
    return NULL;
}

/* Opens the temporary file next to path. */
static int open_tmp(const char *path, char **tmp, ulm_diag *diag) {
    size_t n = strlen(path) + 32;
    *tmp = malloc(n);
    if (!*tmp) return -1;
    snprintf(*tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        snprintf(diag->message, sizeof diag->message, "cannot write %s: %s (creating %s)", path, strerror(errno),
                 *tmp);
    return fd;
}

/* Writes the CSV header (as its own gzip member when compressing). */
static bool write_header(run *r) {
    size_t n = strlen(ulm_synth_header);
    if (!r->gz) {
        if (!write_all(r->fd, ulm_synth_header, n)) return false;
        r->bytes += n;
        return true;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    slot s = {0};
    bool ok = gzip_member(&zs, ulm_synth_header, n, &s) && write_all(r->fd, s.z, s.zlen);
    if (ok) r->bytes += s.zlen;
    deflateEnd(&zs);
    free(s.z);
    return ok;
}

/* Frees everything a run allocated. */
static void run_free(run *r) {
    for (unsigned t = 0; t < r->nthreads; t++) {
        if (r->bufs && r->bufs[t]) free(r->bufs[t]->ev);
        if (r->bufs) free(r->bufs[t]);
        if (r->due) free(r->due[t]);
    }
    free(r->bufs);
    free(r->due);
    free(r->sorted);
    free(r->by_minute);
    for (int s = 0; s < 2; s++) {
        for (size_t k = 0; k < r->nslots[s]; k++) {
            free(r->slots[s][k].text);
            free(r->slots[s][k].z);
        }
        free(r->slots[s]);
    }
}

/* Whether s ends with suf (".gz" decides compression). */
static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

ulm_status ulm_synth_run(ulm_synth_world *w, const char *path, ulm_synth_result *res, ulm_diag *diag) {
    ulm_diag local;
    if (!diag) diag = &local;
    memset(diag, 0, sizeof *diag);
    memset(res, 0, sizeof *res);
    double t0 = ulm_now();
    run r;
    memset(&r, 0, sizeof r);
    r.w = w;
    r.gz = ends_with(path, ".gz");
    r.nthreads = w->p.threads;
    if (r.nthreads == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        r.nthreads = nc < 1 ? 1 : nc > 8 ? 8 : (unsigned)nc;
    }
    if (r.nthreads > w->p.users) r.nthreads = (unsigned)w->p.users;
    r.ready_day = r.written_day = -1;
    char *tmp = NULL;
    r.fd = open_tmp(path, &tmp, diag);
    r.tmp = tmp;
    if (r.fd < 0) {
        free(tmp);
        return diag->status = tmp ? ULM_ERR_IO : ULM_ERR_NOMEM;
    }
    ulm_status s = ULM_OK;
    r.bufs = calloc(r.nthreads, sizeof *r.bufs);
    r.due = calloc(r.nthreads, sizeof *r.due);
    if (!r.bufs || !r.due) s = ULM_ERR_NOMEM;
    for (unsigned t = 0; s == ULM_OK && t < r.nthreads; t++) {
        /* Each worker's counters on their own cache lines: shared lines made two threads no faster than one. */
        size_t bsz = (sizeof(ulm_synth_evbuf) + 127) / 128 * 128;
        r.bufs[t] = aligned_alloc(128, bsz);
        uint64_t mine = w->p.users * (t + 1) / r.nthreads - w->p.users * t / r.nthreads;
        r.due[t] = malloc(sizeof(uint32_t) * (mine ? mine : 1));
        if (!r.bufs[t] || !r.due[t])
            s = ULM_ERR_NOMEM;
        else
            memset(r.bufs[t], 0, bsz);
    }
    if (s != ULM_OK) snprintf(diag->message, sizeof diag->message, "out of memory starting the generator");
    if (s == ULM_OK && !write_header(&r)) {
        s = ULM_ERR_IO;
        snprintf(diag->message, sizeof diag->message, "cannot write %s: %s", tmp, strerror(errno));
    }
    if (s == ULM_OK) {
        pthread_mutex_init(&r.mu, NULL);
        pthread_cond_init(&r.cv, NULL);
        pthread_barrier_init(&r.bar, NULL, r.nthreads);
        ulm_progress_start(&r.prog, "synth (days)", w->p.days);
        pthread_t writer, th[64];
        worker_arg args[64];
        bool writer_ok = pthread_create(&writer, NULL, writer_main, &r) == 0;
        unsigned started = 1;
        if (!writer_ok) {
            s = ULM_ERR_NOMEM;
            snprintf(diag->message, sizeof diag->message, "cannot start the writer thread");
        } else {
            for (unsigned t = 0; t < r.nthreads; t++)
                args[t] = (worker_arg){&r, t};
            for (unsigned t = 1; t < r.nthreads; t++) {
                if (pthread_create(&th[t], NULL, worker_main, &args[t]) != 0) break;
                started++;
            }
            /* The barrier counts every worker, so either all run or all leave. */
            pthread_mutex_lock(&r.mu);
            r.go = started == r.nthreads ? 1 : -1;
            pthread_cond_broadcast(&r.cv);
            pthread_mutex_unlock(&r.mu);
            if (started == r.nthreads)
                worker_main(&args[0]);
            else
                fail(&r, ULM_ERR_NOMEM, "cannot start worker threads");
            for (unsigned t = 1; t < started; t++)
                pthread_join(th[t], NULL);
            pthread_mutex_lock(&r.mu);
            r.done = true;
            pthread_cond_broadcast(&r.cv);
            pthread_mutex_unlock(&r.mu);
            pthread_join(writer, NULL);
        }
        ulm_progress_end(&r.prog);
        pthread_barrier_destroy(&r.bar);
        pthread_cond_destroy(&r.cv);
        pthread_mutex_destroy(&r.mu);
        if (s == ULM_OK && r.err != ULM_OK) {
            s = r.err;
            snprintf(diag->message, sizeof diag->message, "%s", r.msg);
        }
    }
    for (unsigned t = 0; r.bufs && t < r.nthreads; t++)
        for (int k = 0; r.bufs[t] && k < 5; k++)
            res->by_type[k] += r.bufs[t]->by_type[k];
    for (int k = 0; k < 5; k++)
        res->events += res->by_type[k];
    res->bytes = r.bytes;
    for (uint64_t u = 0; u < w->p.users; u++) {
        const ulm_synth_user *usr = &w->users[u];
        res->active_users += usr->events > 0;
        res->churned_users += usr->end_t < (int64_t)(w->p.days * ULM_SYNTH_DAY);
    }
    run_free(&r);
    if (s == ULM_OK && fsync(r.fd) != 0) {
        s = ULM_ERR_IO;
        snprintf(diag->message, sizeof diag->message, "cannot flush %s: %s", tmp, strerror(errno));
    }
    if (close(r.fd) != 0 && s == ULM_OK) {
        s = ULM_ERR_IO;
        snprintf(diag->message, sizeof diag->message, "cannot close %s: %s", tmp, strerror(errno));
    }
    if (s == ULM_OK) s = ulm_synth_write_truth(w, path, res, diag);
    if (s == ULM_OK && rename(tmp, path) != 0) {
        s = ULM_ERR_IO;
        snprintf(diag->message, sizeof diag->message, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    }
    if (s != ULM_OK) unlink(tmp);
    free(tmp);
    res->seconds = ulm_now() - t0;
    diag->status = s;
    return s;
}
