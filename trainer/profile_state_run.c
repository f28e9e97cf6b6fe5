/* profile_state_run.c: the state file (write, validated read) and the incremental profile run
 * (profile_state.h). File layout, little-endian host order (docs/profile.md):
 *   "ULMPSTAT" u32 version u32 0 u64 fingerprint i64 as_of u64 records u32 n_items u64 item_hash[n_items]
 *   u32 n_words, (u32 len, bytes) per vocabulary word; u32 n_categories, (u32 len, bytes) per category
 *   per record: u32 id_len, id bytes, u64 hsum, u64 events, i64 last_time, f64 gross, returned, units,
 *               ret_units, zs, u32 cnt[5] elig disc orders wkend part[4] hours[24] wdays[7],
 *               u32 nd n_ord n_items n_cats n_words, then u32 data (days as 2 words, orders, items, cats, word pairs)
 *   u32 CRC-32C of everything before it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/src/profile_impl.h"
#include "profile_state.h"

#define PST_MAGIC "ULMPSTAT"
#define PST_VERSION 1u
#define PST_NU32 (5 + 4 + 4 + 24 + 7)

static void cust_u32(ulm_pstate_cust *c, uint32_t **v) {
    size_t k = 0;
    for (int i = 0; i < 5; i++) v[k++] = &c->cnt[i];
    v[k++] = &c->elig, v[k++] = &c->disc, v[k++] = &c->orders, v[k++] = &c->wkend;
    for (int i = 0; i < 4; i++) v[k++] = &c->part[i];
    for (int i = 0; i < 24; i++) v[k++] = &c->hours[i];
    for (int i = 0; i < 7; i++) v[k++] = &c->wdays[i];
}

static void put(ulm_sb *b, const void *p, size_t n) { ulm_sb_append(b, (const char *)p, n); }

static void put_dict(ulm_sb *b, const ulm_dict *d) {
    uint32_t n = d->n, len;
    put(b, &n, 4);
    for (uint32_t i = 0; i < n; i++) {
        const char *str = ulm_dict_str(d, i, &len);
        put(b, &len, 4), put(b, str, len);
    }
}

ulm_status ulm_pstate_write(const char *path, const ulm_pstate *s, const ulm_events *ev, const ulm_profiler *p,
                            size_t *bytes, ulm_diag *diag) {
    ulm_sb b = {0};
    uint32_t v32 = PST_VERSION, z = 0;
    uint64_t n = 0;
    for (size_t u = 0; u < s->n; u++) n += s->c[u].events > 0;
    put(&b, PST_MAGIC, 8);
    put(&b, &v32, 4), put(&b, &z, 4);
    put(&b, &s->fp, 8), put(&b, &s->as_of, 8), put(&b, &n, 8);
    put(&b, &s->n_items, 4);
    if (s->n_items) put(&b, s->item_h, (size_t)s->n_items * 8);
    put_dict(&b, &p->vocab), put_dict(&b, &p->cats);
    for (size_t u = 0; u < s->n; u++) {
        ulm_pstate_cust c = s->c[u];
        if (!c.events) continue;
        uint32_t len;
        const char *id = ulm_dict_str(&ev->users, (uint32_t)u, &len);
        put(&b, &len, 4), put(&b, id, len);
        put(&b, &c.hsum, 8), put(&b, &c.events, 8), put(&b, &c.last_time, 8);
        put(&b, &c.gross, 8), put(&b, &c.returned, 8), put(&b, &c.units, 8);
        put(&b, &c.ret_units, 8), put(&b, &c.zs, 8);
        uint32_t *v[PST_NU32];
        cust_u32(&c, v);
        for (int i = 0; i < PST_NU32; i++) put(&b, v[i], 4);
        put(&b, &c.nd, 4), put(&b, &c.n_ord, 4), put(&b, &c.n_items, 4);
        put(&b, &c.n_cats, 4), put(&b, &c.n_words, 4);
        size_t dw = 2 * (size_t)c.nd + c.n_ord + c.n_items + c.n_cats + 2 * (size_t)c.n_words;
        if (dw) put(&b, s->pool + c.off, dw * 4);
    }
    ulm_status st = ULM_ERR_NOMEM;
    if (!b.oom) {
        uint32_t crc = ulm_crc32c(0, b.s, b.len);
        put(&b, &crc, 4);
    }
    if (!b.oom) st = ulm_file_write_atomic(path, b.s, b.len, diag);
    if (bytes) *bytes = b.len;
    ulm_sb_free(&b);
    return st;
}

typedef struct rd {
    const unsigned char *p;
    size_t len, at;
} rd;
static bool get(rd *r, void *dst, size_t n) {
    if (r->len - r->at < n) return false;
    if (n) memcpy(dst, r->p + r->at, n);
    r->at += n;
    return true;
}

static bool sorted_strict(const uint32_t *v, size_t n, size_t stride) {
    for (size_t i = 1; i < n; i++)
        if (v[i * stride] <= v[(i - 1) * stride]) return false;
    return true;
}

#define WHY(...) (snprintf(why, wlen, __VA_ARGS__), false)

static bool records(rd *rr, const unsigned char *buf, const ulm_events *ev, ulm_pstate *s, uint32_t *const map[2],
                    const uint32_t nold[2], uint64_t n, char *why, size_t wlen) {
    rd r = *rr;
    s->n = ev->users.n;
    s->c = calloc(s->n + 1, sizeof *s->c);
    if (!s->c) return WHY("out of memory");
    for (uint64_t k = 0; k < n; k++) {
        uint32_t idlen;
        if (!get(&r, &idlen, 4) || r.len - r.at < idlen) return WHY("truncated at record %llu", (unsigned long long)k);
        uint32_t u = ulm_dict_find(&ev->users, (const char *)buf + r.at, idlen);
        r.at += idlen;
        if (u == ULM_NONE || u >= s->n) return WHY("record %llu: a customer the store does not have", (unsigned long long)k);
        ulm_pstate_cust *c = &s->c[u];
        if (c->events) return WHY("record %llu: customer repeated", (unsigned long long)k);
        bool ok = get(&r, &c->hsum, 8) && get(&r, &c->events, 8) && get(&r, &c->last_time, 8) && get(&r, &c->gross, 8) &&
                  get(&r, &c->returned, 8) && get(&r, &c->units, 8) && get(&r, &c->ret_units, 8) && get(&r, &c->zs, 8);
        uint32_t *v[PST_NU32];
        cust_u32(c, v);
        for (int i = 0; ok && i < PST_NU32; i++) ok = get(&r, v[i], 4);
        ok = ok && get(&r, &c->nd, 4) && get(&r, &c->n_ord, 4) && get(&r, &c->n_items, 4) && get(&r, &c->n_cats, 4) &&
             get(&r, &c->n_words, 4);
        if (!ok || !c->events) return WHY("record %llu: truncated or empty", (unsigned long long)k);
        uint64_t dw = 2 * (uint64_t)c->nd + c->n_ord + c->n_items + c->n_cats + 2 * (uint64_t)c->n_words;
        if (dw > (r.len - r.at) / 4) return WHY("record %llu: data past the end", (unsigned long long)k);
        if (!(c->orders >= 1 || c->nd == 0) || c->nd > c->events) return WHY("record %llu: inconsistent counts", (unsigned long long)k);
        if (!ulm_pstate_reserve(s, (size_t)dw)) return WHY("out of memory");
        uint32_t *d = s->pool + s->pool_len;
        if (dw) memcpy(d, buf + r.at, (size_t)dw * 4);
        r.at += (size_t)dw * 4;
        c->off = s->pool_len;
        s->pool_len += (size_t)dw;
        const uint32_t *ord = d + 2 * (size_t)c->nd, *it = ord + c->n_ord, *ca = it + c->n_items, *w = ca + c->n_cats;
        for (uint32_t i = 1; i < c->nd; i++) {
            int64_t a = (int64_t)((uint64_t)d[2 * i - 2] | (uint64_t)d[2 * i - 1] << 32);
            int64_t b = (int64_t)((uint64_t)d[2 * i] | (uint64_t)d[2 * i + 1] << 32);
            if (b <= a) return WHY("record %llu: purchase days out of order", (unsigned long long)k);
        }
        if (!sorted_strict(ord, c->n_ord, 1) || !sorted_strict(it, c->n_items, 1) || !sorted_strict(ca, c->n_cats, 1) ||
            !sorted_strict(w, c->n_words, 2) || (c->n_items && it[c->n_items - 1] >= s->n_items) ||
            (c->n_cats && ca[c->n_cats - 1] >= nold[1]) || (c->n_words && w[2 * (c->n_words - 1)] >= nold[0]))
            return WHY("record %llu: sets out of order or ids out of range", (unsigned long long)k);
        /* To this profiler's ids (monotonic: the sets stay sorted); a name it lacks: recomputed. */
        uint32_t *cm = d + 2 * (size_t)c->nd + c->n_ord + c->n_items, *wm = cm + c->n_cats;
        for (uint32_t i = 0; i < c->n_cats; i++)
            if ((cm[i] = map[1][cm[i]]) == ULM_NONE) s->stale[u] = 1;
        for (uint32_t i = 0; i < c->n_words; i++)
            if ((wm[2 * i] = map[0][wm[2 * i]]) == ULM_NONE) s->stale[u] = 1;
        /* New words: earlier searches may hold them (they were not counted): recomputed. */
        if (s->words_new && c->cnt[ULM_EV_SEARCH]) s->stale[u] = 1;
    }
    if (r.at != r.len) return WHY("trailing bytes");
    *rr = r;
    return true;
}


static bool parse(const unsigned char *buf, size_t len, const ulm_events *ev, const ulm_profiler *p, uint64_t fp,
                  ulm_pstate *s, char *why, size_t wlen) {
    if (len < 44 || memcmp(buf, PST_MAGIC, 8) != 0) return WHY("not a profile state file");
    uint32_t crc;
    memcpy(&crc, buf + len - 4, 4);
    if (ulm_crc32c(0, buf, len - 4) != crc) return WHY("checksum mismatch (damaged)");
    rd r = {buf, len - 4, 8};
    uint32_t ver, zero;
    uint64_t sfp, n;
    get(&r, &ver, 4), get(&r, &zero, 4), get(&r, &sfp, 8), get(&r, &s->as_of, 8), get(&r, &n, 8);
    if (ver != PST_VERSION) return WHY("version %u, expected %u", ver, PST_VERSION);
    if (!get(&r, &s->n_items, 4) || s->n_items > p->n_items) return WHY("the state knows items the profiler does not");
    if ((r.len - r.at) / 8 < s->n_items) return WHY("truncated item hashes");
    s->item_h = malloc(((size_t)s->n_items + 1) * sizeof *s->item_h);
    if (!s->item_h) return WHY("out of memory");
    get(&r, s->item_h, (size_t)s->n_items * 8);
    /* The saved vocabulary and categories, mapped to this profiler's ids (identity when the same). */
    uint32_t *map[2] = {NULL, NULL}, nold[2] = {0, 0};
    const ulm_dict *dict[2] = {&p->vocab, &p->cats};
    bool ok_maps = true;
    for (int k = 0; k < 2 && ok_maps; k++) {
        ok_maps = get(&r, &nold[k], 4) && nold[k] <= (r.len - r.at) / 4;
        if (!ok_maps) break;
        map[k] = malloc(((size_t)nold[k] + 1) * sizeof *map[k]);
        if (!map[k]) {
            ok_maps = false;
            break;
        }
        uint32_t prev = 0, mapped = 0;
        for (uint32_t i = 0; i < nold[k] && ok_maps; i++) {
            uint32_t l;
            ok_maps = get(&r, &l, 4) && l <= r.len - r.at;
            if (!ok_maps) break;
            map[k][i] = sfp == fp ? i : ulm_dict_find(dict[k], (const char *)buf + r.at, l);
            r.at += l;
            if (map[k][i] != ULM_NONE) {
                if (mapped && map[k][i] <= prev) { /* not monotonic: sets would need re-sorting */
                    snprintf(why, wlen, "the profiler's %s were reordered", k ? "categories" : "words");
                    free(map[0]), free(map[1]);
                    return false;
                }
                prev = map[k][i], mapped++;
            }
        }
        if (k == 0 && ok_maps) s->words_new = p->vocab.n > mapped ? p->vocab.n - mapped : 0;
    }
    if (!ok_maps || (sfp == fp && (nold[0] != p->vocab.n || nold[1] != p->cats.n))) {
        free(map[0]), free(map[1]);
        return WHY("truncated or inconsistent vocabulary");
    }
    s->stale = calloc((size_t)ev->users.n + 1, 1);
    if (!s->stale) {
        free(map[0]), free(map[1]);
        return WHY("out of memory");
    }
    bool ok = records(&r, buf, ev, s, map, nold, n, why, wlen);
    free(map[0]), free(map[1]);
    return ok;
}

bool ulm_pstate_read(const char *path, const ulm_events *ev, const ulm_profiler *p, ulm_pstate *s, char *why,
                     size_t wlen) {
    memset(s, 0, sizeof *s);
    char *buf = NULL;
    size_t len = 0;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    if (ulm_file_read(path, false, &buf, &len, &d) != ULM_OK) return WHY("cannot read %s: %s", path, d.message);
    s->fp = ulm_pstate_fingerprint(p);
    bool ok = parse((const unsigned char *)buf, len, ev, p, s->fp, s, why, wlen);
    free(buf);
    if (!ok) ulm_pstate_free(s);
    return ok;
}

ulm_status ulm_profile_run_state(const ulm_events *ev, const ulm_profiler *p, int64_t as_of, const char *state_in,
                                 const char *state_out, ulm_profile_set *out, ulm_profile_state_report *rep,
                                 ulm_diag *diag) {
    memset(rep, 0, sizeof *rep);
    memset(out, 0, sizeof *out);
    rep->mode = "full";
    out->as_of = as_of;
    ulm_pstate old = {0}, neu = {0};
    bool have = false;
    if (!state_in) snprintf(rep->reason, sizeof rep->reason, "no previous state");
    else if (ulm_pstate_read(state_in, ev, p, &old, rep->reason, sizeof rep->reason)) {
        if (as_of < old.as_of) snprintf(rep->reason, sizeof rep->reason, "as-of before the state's");
        else have = true;
    }
    if (have) rep->mode = "incremental", rep->reason[0] = 0, rep->words_new = old.words_new;
    /* Items whose words, category or reference price changed (a retrained profiler): their buyers are recomputed. */
    uint8_t *changed = have ? calloc((size_t)p->n_items + 1, 1) : NULL;
    if (have && !changed) {
        ulm_pstate_free(&old);
        return diag->status = ULM_ERR_NOMEM;
    }
    for (uint32_t i = 0; have && i < old.n_items; i++)
        if (ulm_pstate_item_hash(p, i) != old.item_h[i]) changed[i] = 1, rep->items_changed++;
    uint32_t nu = ev->users.n;
    /* One pass: per customer, the count and hash sum of its events up to its saved last event (those the
     * state aggregated), and whether it has later ones. Then each customer is kept (nothing new), appended
     * (history as saved, later events only: gathered below) or computed from all its events (new,
     * changed, or bought a changed item). */
    enum { HAS = 1, LATER = 2, ALL = 4 };
    uint8_t *what = calloc((size_t)nu + 1, 1);
    uint64_t *hs = have ? calloc((size_t)nu + 1, sizeof *hs) : NULL, *cnt = have ? calloc((size_t)nu + 1, sizeof *cnt) : NULL;
    uint32_t *off = calloc((size_t)nu + 2, sizeof *off);
    /* Each saved customer's last event time and the first second after its day (compact: one pass). */
    int64_t *last = have ? malloc(((size_t)nu + 1) * sizeof *last) : NULL, *next_day = have ? malloc(((size_t)nu + 1) * sizeof *next_day) : NULL;
    ulm_status s = what && off && (!have || (hs && cnt && last && next_day)) ? ULM_OK : ULM_ERR_NOMEM;
    for (uint32_t u = 0; s == ULM_OK && have && u < nu; u++) {
        int64_t t = old.c[u].last_time;
        last[u] = old.c[u].events ? t : INT64_MIN;
        next_day[u] = !old.c[u].events ? INT64_MIN : t > INT64_MAX - 2 * 86400 ? INT64_MAX : (t / 86400 - (t % 86400 < 0) + 1) * 86400;
    }
    for (size_t i = 0; s == ULM_OK && i < ev->n; i++) {
        uint32_t u = ev->user[i];
        int64_t t = ev->time[i];
        if (u >= nu || t >= as_of) continue;
        what[u] |= HAS;
        if (have && t <= last[u]) cnt[u]++, hs[u] += ulm_pstate_event_hash(ev, i);
        else {
            what[u] |= LATER;
            /* On the last saved event's day (a return there could subtract from a day already summed): all. */
            if (have && t < next_day[u]) what[u] |= ALL;
        }
    }
    free(next_day);
    size_t users = 0;
    for (uint32_t u = 0; s == ULM_OK && u < nu; u++) {
        if (!what[u]) continue;
        users++;
        if (!have || !old.c[u].events) {
            what[u] |= ALL;
            if (have) rep->added++;
            else rep->recomputed++;
            continue;
        }
        bool stale = old.stale && old.stale[u]; /* a word or category gone, or searches and new words */
        const uint32_t *src = old.pool + old.c[u].off;
        if (rep->items_changed) {
            const uint32_t *its = src + 2 * (size_t)old.c[u].nd + old.c[u].n_ord;
            for (uint32_t k = 0; k < old.c[u].n_items && !stale; k++) stale = changed[its[k]];
        }
        if (stale || cnt[u] != old.c[u].events || hs[u] != old.c[u].hsum) what[u] |= ALL;
    }
    free(hs), free(cnt);
    /* last[] stays for the gathering below (INT64_MIN: every event). */
    /* Gather the events needed (all of a customer's, or those after its last saved event), table order. */
    for (size_t i = 0; s == ULM_OK && i < ev->n; i++) {
        uint32_t u = ev->user[i];
        if (u >= nu || ev->time[i] >= as_of || !(what[u] & (LATER | ALL))) continue;
        if ((what[u] & ALL) || ev->time[i] > last[u]) off[u + 2]++;
    }
    for (uint32_t u = 0; s == ULM_OK && u < nu; u++) off[u + 2] += off[u + 1];
    size_t total = s == ULM_OK ? off[nu + 1] : 0;
    uint32_t *idx = malloc((total + 1) * sizeof *idx);
    out->user = malloc((users + 1) * sizeof *out->user);
    out->pr = malloc((users + 1) * sizeof *out->pr);
    neu.n = nu, neu.as_of = as_of, neu.fp = ulm_pstate_fingerprint(p);
    neu.c = calloc((size_t)nu + 1, sizeof *neu.c);
    if (s == ULM_OK && !(idx && out->user && out->pr && neu.c && ulm_pstate_set_items(&neu, p))) s = ULM_ERR_NOMEM;
    for (size_t i = 0; s == ULM_OK && i < ev->n; i++) {
        uint32_t u = ev->user[i];
        if (u >= nu || ev->time[i] >= as_of || !(what[u] & (LATER | ALL))) continue;
        if ((what[u] & ALL) || ev->time[i] > last[u]) idx[off[u + 1]++] = (uint32_t)i;
    }
    for (uint32_t u = 0; s == ULM_OK && u < nu; u++) {
        if (!what[u]) continue;
        const uint32_t *e = idx + off[u];
        size_t n = off[u + 1] - off[u];
        ulm_pstate_cust c;
        memset(&c, 0, sizeof c);
        bool done = false;
        if (!(what[u] & ALL)) {
            const uint32_t *src = old.pool + old.c[u].off;
            c = old.c[u];
            if (!(what[u] & LATER)) {
                size_t dw = 2 * (size_t)c.nd + c.n_ord + c.n_items + c.n_cats + 2 * (size_t)c.n_words;
                if (!ulm_pstate_reserve(&neu, dw)) {
                    s = ULM_ERR_NOMEM;
                    break;
                }
                if (dw) memcpy(neu.pool + neu.pool_len, src, dw * sizeof *src);
                c.off = neu.pool_len;
                neu.pool_len += dw;
                rep->kept++;
                done = true;
            } else if (ulm_pstate_fold(p, ev, e, n, &c, src, &neu, &s)) {
                rep->appended++;
                done = true;
            }
            if (s != ULM_OK) break;
            if (!done) {
                /* New events on the last saved day: this customer alone from all its events. */
                rep->recomputed++;
                memset(&c, 0, sizeof c);
                size_t m = 0;
                for (size_t i = 0; i < ev->n; i++)
                    if (ev->user[i] == u && ev->time[i] < as_of) m++;
                uint32_t *all = malloc((m + 1) * sizeof *all);
                if (!all) {
                    s = ULM_ERR_NOMEM;
                    break;
                }
                m = 0;
                for (size_t i = 0; i < ev->n; i++)
                    if (ev->user[i] == u && ev->time[i] < as_of) all[m++] = (uint32_t)i;
                done = ulm_pstate_fold(p, ev, all, m, &c, NULL, &neu, &s);
                free(all);
            }
        } else {
            if (have && old.c[u].events) rep->recomputed++;
            done = ulm_pstate_fold(p, ev, e, n, &c, NULL, &neu, &s);
        }
        if (!done) {
            if (s == ULM_OK) s = ULM_ERR_MISUSE;
            break;
        }
        neu.c[u] = c;
        ulm_pstate_finish(p, &c, neu.pool + c.off, as_of, &out->pr[out->n]);
        out->user[out->n++] = u;
    }
    free(what), free(last);
    free(idx), free(off), free(changed);
    ulm_pstate_free(&old);
    if (s == ULM_OK && state_out) s = ulm_pstate_write(state_out, &neu, ev, p, &rep->state_bytes, diag);
    ulm_pstate_free(&neu);
    if (s != ULM_OK) {
        ulm_profile_set_free(out);
        if (!diag->message[0]) snprintf(diag->message, sizeof diag->message, "incremental profiles: %s", ulm_status_str(s));
        return diag->status = s;
    }
    return ULM_OK;
}
