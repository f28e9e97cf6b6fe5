/* pipeline_state.c: what `ulm pipeline` knows between runs: the live run's manifest, the event files seen,
 * the run folders (ids, crashed leftovers, pruning) and the data time of a store. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline_run.h"

#include <stdint.h>

/* A run folder name: six digits, a dash, then a UTC stamp. */
static bool is_run_name(const char *s) {
    for (int i = 0; i < 6; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return s[6] == '-' && strlen(s) < 48;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The sorted run folder names under runs (malloc'd array of malloc'd names). */
static char **list_runs(const char *runs, size_t *n) {
    *n = 0;
    DIR *d = opendir(runs);
    if (!d) return NULL;
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (!is_run_name(e->d_name)) continue;
        if (*n == cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        if ((v[*n] = strdup(e->d_name))) (*n)++;
    }
    closedir(d);
    if (v) qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Reads DIR/manifest.json, or NULL when absent or unreadable. */
cJSON *ulm_pipe_manifest_load(const char *dir) {
    char *p = ulm_pipe_join(dir, "manifest.json"), *text = NULL;
    size_t len = 0;
    ulm_diag d;
    cJSON *m = NULL;
    if (p && access(p, F_OK) == 0 && ulm_file_read(p, false, &text, &len, &d) == ULM_OK)
        m = cJSON_ParseWithLength(text, len);
    free(p);
    free(text);
    return m;
}

bool ulm_pipe_runs_prepare(pipe_run *r) {
    /* The live run: where `current` points. */
    char target[512];
    char *cur = ulm_pipe_join(r->cfg->runs, "current");
    ssize_t n = cur ? readlink(cur, target, sizeof target - 1) : -1;
    free(cur);
    if (n > 0) {
        target[n] = 0;
        const char *base = strrchr(target, '/');
        r->live_id = strdup(base ? base + 1 : target);
        r->live_dir = ulm_pipe_join(r->cfg->runs, r->live_id);
        r->live = ulm_pipe_manifest_load(r->live_dir);
        if (!r->live) {
            ulm_errorf("pipeline", "%s: `current` points at %s, which has no readable manifest", r->cfg->runs, target);
            return false;
        }
    }
    /* Folders without a manifest are runs that were killed: nobody else can be writing (we hold the lock). */
    size_t nr = 0;
    char **v = list_runs(r->cfg->runs, &nr);
    uint64_t last = 0;
    for (size_t i = 0; i < nr; i++) {
        last = strtoull(v[i], NULL, 10);
        char *dir = ulm_pipe_join(r->cfg->runs, v[i]), *man = dir ? ulm_pipe_join(dir, "manifest.json") : NULL;
        if (man && access(man, F_OK) != 0 && !(r->live_id && !strcmp(r->live_id, v[i]))) {
            if (!ulm_pipe_rmtree(dir)) ulm_errorf("pipeline", "cannot remove the unfinished run %s", dir);
            else r->removed_unfinished++;
        }
        free(dir), free(man);
    }
    free_list(v, nr);
    r->seq = last + 1;
    return true;
}

void ulm_pipe_runs_prune(pipe_run *r) {
    size_t nr = 0;
    char **v = list_runs(r->cfg->runs, &nr);
    size_t keep = (size_t)r->cfg->keep_runs;
    for (size_t i = 0; i + keep < nr; i++) {
        if (!strcmp(v[i], r->id) || (r->live_id && !strcmp(v[i], r->live_id))) continue;
        char *dir = ulm_pipe_join(r->cfg->runs, v[i]);
        if (dir) ulm_pipe_rmtree(dir);
        free(dir);
    }
    free_list(v, nr);
}

/* Finds an input of the live manifest with the same name, size and checksum. */
static bool seen_before(const cJSON *live, const pipe_input *in) {
    const cJSON *arr = live ? cJSON_GetObjectItemCaseSensitive(live, "inputs") : NULL;
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name"), *sz = cJSON_GetObjectItemCaseSensitive(e, "size"),
                    *cr = cJSON_GetObjectItemCaseSensitive(e, "crc32c");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, in->name) && cJSON_IsNumber(sz) &&
            (uint64_t)sz->valuedouble == in->size && cJSON_IsNumber(cr) && (uint32_t)cr->valuedouble == in->crc)
            return true;
    }
    return false;
}

bool ulm_pipe_inputs_scan(pipe_run *r, char *err, size_t errlen) {
    const ulm_pipe_cfg *c = r->cfg;
    size_t n = 0;
    char **names = NULL;
    if (c->inbox) {
        DIR *d = opendir(c->inbox);
        if (!d) return snprintf(err, errlen, "inbox %s: %s", c->inbox, strerror(errno)), false;
        size_t cap = 16;
        names = malloc(cap * sizeof *names);
        struct dirent *e;
        while (names && (e = readdir(d))) {
            /* Hidden names and *.tmp / *.part are files still being delivered. */
            size_t L = strlen(e->d_name);
            if (e->d_name[0] == '.' || (L > 4 && !strcmp(e->d_name + L - 4, ".tmp")) ||
                (L > 5 && !strcmp(e->d_name + L - 5, ".part")))
                continue;
            if (n == cap) {
                char **nv = realloc(names, (cap *= 2) * sizeof *names);
                if (!nv) break;
                names = nv;
            }
            if ((names[n] = ulm_pipe_join(c->inbox, e->d_name))) n++;
        }
        closedir(d);
        if (!names) return snprintf(err, errlen, "out of memory"), false;
        qsort(names, n, sizeof *names, cmp_str);
    } else {
        if (!(names = calloc(c->n_files ? c->n_files : 1, sizeof *names))) return snprintf(err, errlen, "out of memory"), false;
        for (; n < c->n_files; n++) names[n] = strdup(c->files[n]);
    }
    r->inputs = calloc(n ? n : 1, sizeof *r->inputs);
    bool ok = r->inputs != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        pipe_input *in = &r->inputs[r->n_inputs++];
        in->path = names[i], names[i] = NULL;
        const char *slash = strrchr(in->path, '/');
        in->name = slash ? slash + 1 : in->path;
        ok = ulm_pipe_file_sum(in->path, &in->size, &in->crc, err, errlen);
        in->is_new = ok && !seen_before(r->live, in);
        r->n_new += in->is_new;
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (ok && n == 0 && !r->live) return snprintf(err, errlen, "no event files in %s", c->inbox ? c->inbox : "inputs.files"), false;
    return ok;
}

bool ulm_pipe_store_time(const char *store, int64_t *last, uint64_t *events, uint64_t *items, char *err, size_t errlen) {
    char *buf = NULL;
    size_t len = 0;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    if (ulm_file_read(store, false, &buf, &len, &d) != ULM_OK) return snprintf(err, errlen, "%s", d.message), false;
    ulm_bundle *b = NULL;
    ulm_section s;
    bool ok = ulm_bundle_open(buf, len, ULM_KIND_STORE, 0, NULL, &b, &d) == ULM_OK &&
              ulm_bundle_find(b, "ETIM", &s) == ULM_OK && s.size == (uint64_t)s.rows * 8;
    if (!ok) snprintf(err, errlen, "%s: not a valid event store: %s", store, d.message);
    *last = INT64_MIN, *events = ok ? s.rows : 0;
    for (uint64_t i = 0; ok && i < s.rows; i++) {
        int64_t t;
        memcpy(&t, s.data + i * 8, 8); /* little-endian hosts only, as the store reader */
        if (t > *last) *last = t;
    }
    if (ok && s.rows == 0) ok = false, snprintf(err, errlen, "%s: the store holds no events", store);
    const char *ni = ok ? ulm_bundle_meta(b, "store.items") : NULL;
    *items = ni ? strtoull(ni, NULL, 10) : 0;
    ulm_bundle_close(b);
    free(buf);
    return ok;
}
