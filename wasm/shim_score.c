/* shim_score.c: ulm_score (core/include/ulm/ulm_score.h) two ways. As one JSON request and one JSON
 * answer (ulm_score_json): the "score" op of ulm_wasm_request (WASI build) and, compiled into the trainer
 * too, `ulm score`. As a binary request and answer (ulm_wasm_score_bin, below): model.score in ulm.mjs,
 * without JSON either way, so the Emscripten build links no JSON code for it. Both fill the same
 * ulm_score_opts and events and call the same core, with the same default now (default_now).
 * JSON request keys (numbers in Unix seconds):
 *   {"history":[{"item":"85123A","type":"purchase","time":1323000000,"price":2.55,"qty":6,"order":"536365"}],
 *    "queries":["mug"], "user":"17850", "k":10, "explain":3, "reasons":3, "now":1323500000,
 *    "allow":["85123A"], "categories":["mug"] | "notCategories":["bag"]}
 * Answer: {"items":[{"item","score","name"?,"because"?}],"unknownItems":N,"churn"?,"clv"?,"segment"?,"stage"?,"offer"?}
 * (docs/api-js.md). Default now: one second after the latest event (an empty history: the bundle's
 * profiler as-of, else 0); search queries count as searches one second before now. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score_json.h"
#include "shim.h"
#include "ulm/ulm_events.h"
#include "ulm/ulm_profile.h"
#include "ulm/ulm_recommend.h"
#include "ulm/ulm_score.h"

static const char *const type_names[] = {"view", "cart", "purchase", "return", "search"};

static cJSON *fail(ulm_status s, ulm_status *status, char *msg, size_t cap, const char *text) {
    *status = s;
    snprintf(msg, cap, "%s", text);
    return NULL;
}

void ulm_json_add_slice(cJSON *o, const char *key, const char *s, uint32_t len) {
    char *z = malloc((size_t)len + 1);
    if (!z) return;
    memcpy(z, s, len);
    z[len] = 0;
    cJSON_AddStringToObject(o, key, z);
    free(z);
}

static void add_num(cJSON *o, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

/* A whole number option in [lo, hi] (default def); 0 on a bad value. */
static int get_int(const cJSON *req, const char *key, double lo, double hi, double def, double *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(req, key);
    if (!j || cJSON_IsNull(j)) return *out = def, 1;
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < lo || j->valuedouble > hi) return 0;
    return *out = j->valuedouble, 1;
}

/* The id string of a JSON string or number into buf; NULL when it is neither. */
static const char *id_of(const cJSON *j, char *buf, size_t cap) {
    if (cJSON_IsString(j)) return j->valuestring;
    if (cJSON_IsNumber(j)) return snprintf(buf, cap, "%.17g", j->valuedouble), buf;
    return NULL;
}

/* Everything the request owns while it is scored. */
typedef struct req_mem {
    ulm_score_event *ev;
    char (*ids)[32];        /* numeric item ids and orders printed */
    const char **order_str; /* order keys, numbered by first appearance */
    uint8_t *allow;
    uint32_t *cats;
    void *work;
} req_mem;

static void req_free(req_mem *r) {
    free(r->ev), free(r->ids), free(r->order_str), free(r->allow), free(r->cats), free(r->work);
}

/* The as-of when the request gives none: one second after the latest event (latest = INT64_MIN: no
 * event), else the bundle's profiler as-of (0 without a profiler). Shared by the JSON and binary requests. */
static int64_t default_now(const ulm_model *m, int64_t latest) {
    if (latest != INT64_MIN) return latest + 1;
    ulm_profiler_info info;
    ulm_profiler_get_info(ulm_model_profiler(m), &info);
    return info.as_of;
}

#define BAD(...) return snprintf(msg, cap, __VA_ARGS__), -1

/* Parses the history and queries into r->ev; returns the count or -1 (message in msg). */
static long parse_events(const cJSON *req, req_mem *r, int64_t *latest, char *msg, size_t cap) {
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(req, "history");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(req, "queries");
    if ((hist && !cJSON_IsArray(hist) && !cJSON_IsNull(hist)) || (qs && !cJSON_IsArray(qs) && !cJSON_IsNull(qs)))
        BAD("\"history\" and \"queries\" must be arrays");
    size_t nh = (size_t)cJSON_GetArraySize(hist), nq = (size_t)cJSON_GetArraySize(qs), n = 0, n_orders = 0;
    r->ev = calloc(nh + nq + 1, sizeof *r->ev);
    r->ids = calloc(2 * (nh + 1), sizeof *r->ids);
    r->order_str = calloc(nh + 1, sizeof *r->order_str);
    if (!r->ev || !r->ids || !r->order_str) BAD("out of memory");
    *latest = INT64_MIN;
    const cJSON *e;
    cJSON_ArrayForEach(e, hist) {
        ulm_score_event *v = &r->ev[n];
        const cJSON *jt = cJSON_GetObjectItemCaseSensitive(e, "type"), *jtime = cJSON_GetObjectItemCaseSensitive(e, "time");
        const cJSON *ji = cJSON_GetObjectItemCaseSensitive(e, "item"), *jp = cJSON_GetObjectItemCaseSensitive(e, "price");
        const cJSON *jq = cJSON_GetObjectItemCaseSensitive(e, "qty"), *jo = cJSON_GetObjectItemCaseSensitive(e, "order");
        const cJSON *jquery = cJSON_GetObjectItemCaseSensitive(e, "query");
        v->type = jt ? ULM_EV__COUNT : ULM_EV_PURCHASE;
        for (uint32_t t = 0; t < ULM_EV__COUNT; t++)
            if (cJSON_IsString(jt) ? !strcmp(jt->valuestring, type_names[t]) : cJSON_IsNumber(jt) && jt->valuedouble == t)
                v->type = t;
        if (!cJSON_IsObject(e) || v->type >= ULM_EV__COUNT || !cJSON_IsNumber(jtime) || !(fabs(jtime->valuedouble) < 9e15) ||
            (jp && !cJSON_IsNumber(jp) && !cJSON_IsNull(jp)) || (jq && !cJSON_IsNumber(jq) && !cJSON_IsNull(jq)))
            BAD("history[%zu] needs type view, cart, purchase, return or search, time in Unix seconds, numbers as "
                "price and qty", n);
        v->time = (int64_t)floor(jtime->valuedouble);
        if (v->time > *latest) *latest = v->time;
        v->price = cJSON_IsNumber(jp) ? jp->valuedouble : NAN;
        v->qty = cJSON_IsNumber(jq) ? (float)jq->valuedouble : 1.0f;
        v->order = ULM_NONE;
        const char *id = cJSON_IsNull(ji) ? NULL : id_of(ji, r->ids[2 * n], sizeof r->ids[0]);
        const char *o = cJSON_IsNull(jo) ? NULL : id_of(jo, r->ids[2 * n + 1], sizeof r->ids[0]);
        if ((ji && !cJSON_IsNull(ji) && !id) || (jo && !cJSON_IsNull(jo) && !o))
            BAD("history[%zu].item and .order must be strings or numbers", n);
        if (id) v->item = id, v->item_len = (uint32_t)strlen(id);
        if (o) {
            size_t k = 0;
            while (k < n_orders && strcmp(r->order_str[k], o)) k++;
            if (k == n_orders) r->order_str[n_orders++] = o;
            v->order = (uint32_t)k;
        }
        if (cJSON_IsString(jquery)) v->query = jquery->valuestring, v->query_len = (uint32_t)strlen(jquery->valuestring);
        n++;
    }
    const cJSON *q;
    cJSON_ArrayForEach(q, qs) {
        if (!cJSON_IsString(q)) BAD("\"queries\" must be strings");
        ulm_score_event *v = &r->ev[n++];
        *v = (ulm_score_event){.time = INT64_MIN, .price = NAN, .qty = 1, .order = ULM_NONE, .type = ULM_EV_SEARCH,
                               .query = q->valuestring, .query_len = (uint32_t)strlen(q->valuestring)};
        /* time: now - 1, once now is known */
    }
    return (long)n;
}

cJSON *ulm_score_json(const ulm_model *m, const cJSON *req, ulm_status *status, char *msg, size_t cap) {
    *status = ULM_OK;
    if (!m || !cJSON_IsObject(req)) return fail(ULM_ERR_MISUSE, status, msg, cap, "the request must be a JSON object");
    ulm_score_opts o = ulm_score_opts_init();
    double k, explain, reasons;
    if (!get_int(req, "k", -1e9, 1e9, 10, &k)) return fail(ULM_ERR_MISUSE, status, msg, cap, "\"k\" must be a whole number");
    if (!get_int(req, "explain", 0, 16, 3, &explain) || !get_int(req, "reasons", 0, 16, 3, &reasons))
        return fail(ULM_ERR_MISUSE, status, msg, cap, "\"explain\" and \"reasons\" must be whole numbers 0..16");
    o.k = (int32_t)k;
    o.explain = (uint32_t)explain;
    o.reasons = (uint32_t)reasons;
    req_mem r = {0};
    int64_t latest;
    long n = parse_events(req, &r, &latest, msg, cap);
    if (n < 0) {
        req_free(&r);
        *status = ULM_ERR_MISUSE;
        return NULL;
    }
    const cJSON *jnow = cJSON_GetObjectItemCaseSensitive(req, "now");
    if (jnow && !cJSON_IsNull(jnow)) {
        if (!cJSON_IsNumber(jnow) || !(fabs(jnow->valuedouble) < 9e15)) {
            req_free(&r);
            return fail(ULM_ERR_MISUSE, status, msg, cap, "\"now\" must be Unix seconds");
        }
        o.now = (int64_t)floor(jnow->valuedouble);
    } else {
        o.now = default_now(m, latest);
    }
    for (long i = 0; i < n; i++)
        if (r.ev[i].time == INT64_MIN) r.ev[i].time = o.now - 1;
    char ubuf[32];
    const cJSON *ju = cJSON_GetObjectItemCaseSensitive(req, "user");
    if (ju && !cJSON_IsNull(ju)) {
        if (!(o.user = id_of(ju, ubuf, sizeof ubuf))) {
            req_free(&r);
            return fail(ULM_ERR_MISUSE, status, msg, cap, "\"user\" must be a string");
        }
        o.user_len = (uint32_t)strlen(o.user);
    }
    const cJSON *jallow = cJSON_GetObjectItemCaseSensitive(req, "allow");
    if (jallow && !cJSON_IsNull(jallow)) {
        uint32_t ni = ulm_model_item_count(m), idx;
        if (!cJSON_IsArray(jallow) || !(r.allow = calloc((size_t)ni + 1, 1))) {
            req_free(&r);
            return fail(ULM_ERR_MISUSE, status, msg, cap, "\"allow\" must be an array of item ids");
        }
        const cJSON *a;
        cJSON_ArrayForEach(a, jallow) if (cJSON_IsString(a) &&
                                          ulm_model_item_find(m, a->valuestring, strlen(a->valuestring), &idx) == ULM_OK)
            r.allow[idx] = 1;
        o.allow = r.allow;
    }
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(req, "categories"), *jn = cJSON_GetObjectItemCaseSensitive(req, "notCategories");
    if (jc && cJSON_IsNull(jc)) jc = NULL;
    if (jn && cJSON_IsNull(jn)) jn = NULL;
    if (jc && jn) {
        req_free(&r);
        return fail(ULM_ERR_MISUSE, status, msg, cap, "give \"categories\" or \"notCategories\", not both");
    }
    if (jc || jn) {
        const cJSON *arr = jc ? jc : jn, *c;
        if (!cJSON_IsArray(arr) || !(r.cats = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *r.cats))) {
            req_free(&r);
            return fail(ULM_ERR_MISUSE, status, msg, cap, "categories must be an array of category names");
        }
        cJSON_ArrayForEach(c, arr) {
            if (!cJSON_IsString(c) ||
                ulm_model_category_find(m, c->valuestring, strlen(c->valuestring), &r.cats[o.n_categories]) != ULM_OK) {
                snprintf(msg, cap, "no category '%.80s' in the bundle", cJSON_IsString(c) ? c->valuestring : "?");
                req_free(&r);
                *status = ULM_ERR_NOT_FOUND;
                return NULL;
            }
            o.n_categories++;
        }
        o.categories = r.cats;
        if (jn) o.flags |= ULM_RECOMMEND_NOT_CATEGORIES;
    }
    size_t need = ulm_score_work_size(m, &o, r.ev, (size_t)n);
    ulm_score_result res;
    ulm_status s = (r.work = malloc(need + 8)) ? ulm_score(m, r.ev, (size_t)n, &o, r.work, need + 8, &res) : ULM_ERR_NOMEM;
    if (s != ULM_OK) {
        req_free(&r);
        return fail(s, status, msg, cap, ulm_status_str((int)s));
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    uint32_t len;
    for (uint32_t i = 0; i < res.n_items; i++) {
        cJSON *it = cJSON_CreateObject();
        const char *item = ulm_model_item_id(m, res.items[i], &len);
        ulm_json_add_slice(it, "item", item, len);
        cJSON_AddNumberToObject(it, "score", (double)res.scores[i]);
        const char *name = ulm_model_item_name(m, res.items[i], &len);
        if (name && len) ulm_json_add_slice(it, "name", name, len);
        cJSON *because = NULL;
        for (uint32_t j = 0; j < res.explain && res.because[i * res.explain + j] != ULM_NONE; j++) {
            if (!because) because = cJSON_AddArrayToObject(it, "because");
            const char *id = ulm_model_item_id(m, res.because[i * res.explain + j], &len);
            char *z = malloc((size_t)len + 1);
            if (z) {
                memcpy(z, id, len), z[len] = 0;
                cJSON_AddItemToArray(because, cJSON_CreateString(z));
                free(z);
            }
        }
        cJSON_AddItemToArray(items, it);
    }
    cJSON_AddNumberToObject(out, "unknownItems", res.unknown_items);
    if (res.parts & ULM_SCORE_CHURN) {
        cJSON *c = cJSON_AddObjectToObject(out, "churn");
        add_num(c, "probability", (double)res.p_churn);
        cJSON *rs = cJSON_AddArrayToObject(c, "reasons");
        for (uint32_t i = 0; i < res.n_reasons; i++) {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddNumberToObject(w, "feature", res.reasons[i].feature);
            const char *fname = ulm_model_churn_feature(m, res.reasons[i].feature, &len);
            if (fname) ulm_json_add_slice(w, "name", fname, len);
            cJSON_AddNumberToObject(w, "effect", (double)res.reasons[i].effect);
            cJSON_AddStringToObject(w, "text", res.reasons[i].text);
            cJSON_AddItemToArray(rs, w);
        }
    }
    if (res.parts & ULM_SCORE_CLV) {
        cJSON *c = cJSON_AddObjectToObject(out, "clv");
        add_num(c, "pAlive", res.p_alive);
        add_num(c, "expectedPurchases", res.expected_purchases);
        add_num(c, "clv", res.clv);
    }
    if (res.parts & ULM_SCORE_PROFILE) {
        cJSON *c = cJSON_AddObjectToObject(out, "segment");
        if (res.rfm_segment >= 0) cJSON_AddStringToObject(c, "rfm", ulm_rfm_segment_name(res.rfm_segment));
        else cJSON_AddNullToObject(c, "rfm");
        if (res.segment >= 0) {
            cJSON_AddNumberToObject(c, "kmeans", res.segment);
            const char *d = ulm_profiler_segment_description(ulm_model_profiler(m), (uint32_t)res.segment, &len);
            if (d) ulm_json_add_slice(c, "description", d, len);
            else cJSON_AddNullToObject(c, "description");
        } else {
            cJSON_AddNullToObject(c, "kmeans");
            cJSON_AddNullToObject(c, "description");
        }
        if (res.stage >= 0) cJSON_AddStringToObject(out, "stage", ulm_stage_name(res.stage));
        else cJSON_AddNullToObject(out, "stage");
    }
    if (res.parts & ULM_SCORE_OFFER) {
        cJSON *c = cJSON_AddObjectToObject(out, "offer");
        const char *id = res.offer >= 0 ? ulm_model_offer_id(m, (uint32_t)res.offer, &len) : NULL;
        if (id) ulm_json_add_slice(c, "offer", id, len);
        else cJSON_AddNullToObject(c, "offer");
        cJSON_AddBoolToObject(c, "control", res.control);
        if (id) add_num(c, "net", res.offer_net);
        add_num(c, "value", res.value);
        cJSON_AddStringToObject(c, "valueBasis", res.value_from_clv ? "clv" : "annual_spend_rate");
        add_num(c, "pChurn", (double)res.p_churn);
    }
    req_free(&r);
    return out;
}

/* ---- the binary request of model.score (ulm.mjs): no JSON either way ----------------------------------
 * Request (little-endian, 8-aligned), written by ulm.mjs straight into wasm memory:
 *   0 i64 now   8 i32 k   12 u32 explain   16 u32 reasons   20 u32 n events   24 u32 flags (SB_*)
 *   28 u32 user ptr   32 u32 user length   36 u32 allow ptr (u32 item indices, ULM_NONE skipped)
 *   40 u32 allow count   44 u32 category ptr (u32 indices)   48 u32 category count   52..63 zero
 *   64 ulm_profile_event[n] (40 bytes each in wasm32): items as catalogue indices, ULM_NONE for none,
 *      ULM_SCORE_UNKNOWN_ITEM for an unknown id; time INT64_MIN for a search query (now - 1 here, as
 *      the JSON "queries").
 * Answer (SR_* offsets), in one malloc'd block with the arrays it points to: free it with the exported
 * free. The same ulm_score_ix as the JSON path (through ulm_score), so both answer alike. */
enum { SB_NOW = 1, SB_NOT_CATEGORIES = 2, SB_ALLOW = 4, SB_CATEGORIES = 8, SB_HEAD = 64 };
enum {
    SR_PARTS = 0, SR_UNKNOWN = 4, SR_N_ITEMS = 8, SR_EXPLAIN = 12, SR_ITEMS = 16, SR_SCORES = 20, SR_BECAUSE = 24,
    SR_P_CHURN = 28, SR_N_REASONS = 32, SR_REASONS = 36, SR_RFM = 40, SR_SEGMENT = 44, SR_STAGE = 48,
    SR_OFFER = 52, SR_CONTROL = 56, SR_FROM_CLV = 60, SR_P_ALIVE = 64, SR_EXPECTED = 72, SR_CLV = 80,
    SR_NET = 88, SR_VALUE = 96, SR_SIZE = 104
};
#if UINTPTR_MAX == 0xFFFFFFFFu
_Static_assert(sizeof(ulm_profile_event) == 40 && offsetof(ulm_profile_event, qty) == 16 &&
                   offsetof(ulm_profile_event, item) == 20 && offsetof(ulm_profile_event, order) == 24 &&
                   offsetof(ulm_profile_event, type) == 28 && offsetof(ulm_profile_event, query) == 32 &&
                   offsetof(ulm_profile_event, query_len) == 36,
               "ulm.mjs writes ulm_profile_event with this layout");
#endif

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p + 0, &v, 4); }
static void wr64f(uint8_t *p, double v) { memcpy(p, &v, 8); }
static void wrptr(uint8_t *p, const void *v) { wr32(p, (uint32_t)(uintptr_t)v); }

/* model.score's call: req as above (its events' query times are filled in), *out the answer block.
 * Returns the status (ULM_ERR_MISUSE for a malformed request). */
int32_t ulm_wasm_score_bin(const ulm_wasm_model *h, uint8_t *req, uint8_t **out) {
    if (!h || !req || !out || ((uintptr_t)req & 7)) return ULM_ERR_MISUSE;
    *out = NULL;
    const ulm_model *m = h->model;
    ulm_score_opts o = ulm_score_opts_init();
    uint32_t n = rd32(req + 20), flags = rd32(req + 24), ni = ulm_model_item_count(m);
    memcpy(&o.now, req, 8);
    memcpy(&o.k, req + 8, 4);
    o.explain = rd32(req + 12);
    o.reasons = rd32(req + 16);
    if (o.explain > ULM_SCORE_MAX_REASONS || o.reasons > ULM_SCORE_MAX_REASONS) return ULM_ERR_MISUSE;
    ulm_profile_event *ev = (ulm_profile_event *)(req + SB_HEAD);
    if (!(flags & SB_NOW)) {
        int64_t latest = INT64_MIN;
        for (uint32_t i = 0; i < n; i++)
            if (ev[i].time > latest) latest = ev[i].time;
        o.now = default_now(m, latest);
    }
    for (uint32_t i = 0; i < n; i++)
        if (ev[i].time == INT64_MIN) ev[i].time = o.now - 1;
    if (rd32(req + 28)) o.user = (const char *)(uintptr_t)rd32(req + 28), o.user_len = rd32(req + 32);
    if (flags & SB_CATEGORIES) {
        o.categories = (const uint32_t *)(uintptr_t)rd32(req + 44);
        o.n_categories = rd32(req + 48);
        if (flags & SB_NOT_CATEGORIES) o.flags |= ULM_RECOMMEND_NOT_CATEGORIES;
    }
    size_t mask = flags & SB_ALLOW ? ((size_t)ni + 8) & ~(size_t)7 : 0;
    size_t need = ulm_score_ix_work_size(m, &o, ev, n);
    uint8_t *blk = malloc(SR_SIZE + mask + need);
    if (!blk) return ULM_ERR_NOMEM;
    if (mask) {
        uint8_t *allow = blk + SR_SIZE;
        const uint32_t *a = (const uint32_t *)(uintptr_t)rd32(req + 36);
        memset(allow, 0, ni);
        for (uint32_t i = 0, na = rd32(req + 40); i < na; i++)
            if (a[i] < ni) allow[a[i]] = 1;
        o.allow = allow;
    }
    ulm_score_result r;
    ulm_status s = ulm_score_ix(m, ev, n, &o, blk + SR_SIZE + mask, need, &r);
    if (s != ULM_OK) {
        free(blk);
        return (int32_t)s;
    }
    wr32(blk + SR_PARTS, r.parts), wr32(blk + SR_UNKNOWN, r.unknown_items), wr32(blk + SR_N_ITEMS, r.n_items);
    wr32(blk + SR_EXPLAIN, r.explain), wrptr(blk + SR_ITEMS, r.items), wrptr(blk + SR_SCORES, r.scores);
    wrptr(blk + SR_BECAUSE, r.because), memcpy(blk + SR_P_CHURN, &r.p_churn, 4);
    wr32(blk + SR_N_REASONS, r.n_reasons), wrptr(blk + SR_REASONS, r.reasons);
    wr32(blk + SR_RFM, (uint32_t)r.rfm_segment), wr32(blk + SR_SEGMENT, (uint32_t)r.segment);
    wr32(blk + SR_STAGE, (uint32_t)r.stage), wr32(blk + SR_OFFER, (uint32_t)r.offer);
    wr32(blk + SR_CONTROL, (uint32_t)r.control), wr32(blk + SR_FROM_CLV, (uint32_t)r.value_from_clv);
    wr64f(blk + SR_P_ALIVE, r.p_alive), wr64f(blk + SR_EXPECTED, r.expected_purchases), wr64f(blk + SR_CLV, r.clv);
    wr64f(blk + SR_NET, r.offer_net), wr64f(blk + SR_VALUE, r.value);
    *out = blk;
    return ULM_OK;
}

/* Offer o's id (length in *len), or NULL. */
const char *ulm_wasm_offer_id(const ulm_wasm_model *h, uint32_t o, uint32_t *len) {
    if (!h || !len) return NULL;
    return ulm_model_offer_id(h->model, o, len);
}
