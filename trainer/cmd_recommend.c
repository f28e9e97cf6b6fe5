/* cmd_recommend.c: `ulm recommend MODEL`: top-K for a known user, an ad-hoc history, or all users. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "civil.h"
#include "commands.h"

static const char usage[] =
    "usage: ulm recommend MODEL.ulm (--user ID | --history ID,ID,... | --users all|FILE | --histories FILE)\n"
    "                     [--k 10] [--explain 3] [--now DATE] [--allow FILE] [--category C,...]\n"
    "                     [--not-category C,...] [--json]\n\n"
    "Prints the top-K items for a user from the bundle's recommender (popularity when it has none or the\n"
    "history is empty), never an item the user already bought nor a denied one.\n\n"
    "  --user ID        a customer in the bundle's user table (its purchases are excluded)\n"
    "  --history IDS    comma-separated item ids the visitor bought (unknown ids are ignored and counted);\n"
    "                   ID@YYYY-MM-DD gives the purchase date, so a consumable whose learned repurchase\n"
    "                   cycle has passed by --now may be recommended again (also in --histories)\n"
    "  --users all|FILE every known user, or the user ids listed one per line in FILE: one JSON object per\n"
    "                   line (implies --json)\n"
    "  --histories FILE one ad-hoc history per line (comma-separated item ids): one JSON object per line\n"
    "                   (implies --json)\n"
    "  --k N            how many items (default 10)\n"
    "  --explain N      up to N of the user's own items that contributed most to each recommendation\n"
    "                   (\"because\"; default 3, 0 = none; popularity has none)\n"
    "  --now DATE       YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SSZ) the repurchase cycles are judged at\n"
    "                   (default: the current time)\n"
    "  --allow FILE     only recommend the item ids listed one per line in FILE (e.g. in stock)\n"
    "  --category C,... only items whose category (the profiler's, see `ulm profile`) is one of these\n"
    "  --not-category C,...  no items of these categories (denied items are never recommended)\n"
    "  --json           JSON: {\"user\",\"history\":[ids],\"items\":[{\"item\",\"score\",\"name\",\"because\"}]}\n";

/* Output arrays and the scorer's scratch, grown to the longest history seen. */
typedef struct rec_buf {
    uint32_t *items, *because;
    float *scores;
    void *scratch;
    size_t scratch_size;
    ulm_recommend_opts o;
    int64_t now;
} rec_buf;

/* Appends the recommendations for one history to b, as JSON or as a numbered list. */
static void emit(ulm_sb *b, const ulm_model *m, const char *user, const uint32_t *hist, const int64_t *times,
                 uint32_t n_hist, rec_buf *rb, bool json, uint32_t unknown) {
    uint32_t n = 0, e = rb->o.explain, *items = rb->items, *because = rb->because;
    float *scores = rb->scores;
    size_t need = ulm_recommend_scratch_size(m, &rb->o, n_hist);
    if (need > rb->scratch_size) {
        free(rb->scratch);
        rb->scratch = malloc(need);
        rb->scratch_size = rb->scratch ? need : 0;
    }
    rb->o.hist_time = times;
    rb->o.now = rb->now;
    if (ulm_recommend(m, hist, n_hist, &rb->o, rb->scratch, rb->scratch_size, items, scores, because, NULL, &n) != ULM_OK)
        n = 0;
    uint32_t len;
    const char *s;
    if (json) {
        ulm_sb_printf(b, "{");
        if (user) {
            ulm_sb_printf(b, "\"user\":");
            ulm_sb_json_str(b, user, strlen(user));
            ulm_sb_printf(b, ",");
        }
        ulm_sb_printf(b, "\"history\":[");
        for (uint32_t i = 0; i < n_hist; i++) {
            s = ulm_model_item_id(m, hist[i], &len);
            if (i) ulm_sb_append(b, ",", 1);
            ulm_sb_json_str(b, s, len);
        }
        ulm_sb_printf(b, "],\"unknown_items\":%u,\"items\":[", unknown);
        for (uint32_t i = 0; i < n; i++) {
            s = ulm_model_item_id(m, items[i], &len);
            ulm_sb_printf(b, "%s{\"item\":", i ? "," : "");
            ulm_sb_json_str(b, s, len);
            ulm_sb_printf(b, ",\"score\":%.9g", scores[i]);
            s = ulm_model_item_name(m, items[i], &len);
            if (s && len) {
                ulm_sb_printf(b, ",\"name\":");
                ulm_sb_json_str(b, s, len);
            }
            if (e && because[(size_t)i * e] != ULM_NONE) {
                ulm_sb_printf(b, ",\"because\":[");
                for (uint32_t r = 0; r < e && because[(size_t)i * e + r] != ULM_NONE; r++) {
                    s = ulm_model_item_id(m, because[(size_t)i * e + r], &len);
                    if (r) ulm_sb_append(b, ",", 1);
                    ulm_sb_json_str(b, s, len);
                }
                ulm_sb_printf(b, "]");
            }
            ulm_sb_printf(b, "}");
        }
        ulm_sb_printf(b, "]}\n");
        return;
    }
    ulm_sb_printf(b, "top %u for %s%s (history: %u items%s):\n", n, user ? "customer " : "a visitor", user ? user : "",
                  n_hist, unknown ? ", some ids unknown" : "");
    for (uint32_t i = 0; i < n; i++) {
        s = ulm_model_item_id(m, items[i], &len);
        ulm_sb_printf(b, "%3u. %-12.*s %10.3f  ", i + 1, (int)len, s, scores[i]);
        s = ulm_model_item_name(m, items[i], &len);
        if (s) ulm_sb_append(b, s, len);
        for (uint32_t r = 0; r < e && because[(size_t)i * e + r] != ULM_NONE; r++) {
            s = ulm_model_item_id(m, because[(size_t)i * e + r], &len);
            ulm_sb_printf(b, "%s%.*s", r ? ", " : "  (because you bought ", (int)len, s);
            if (r + 1 == e || because[(size_t)i * e + r + 1] == ULM_NONE) ulm_sb_append(b, ")", 1);
        }
        ulm_sb_append(b, "\n", 1);
    }
}

/* Recommends for one known user id; returns 0, or 1 when the id is unknown. */
static int for_user(ulm_sb *b, const ulm_model *m, const char *id, rec_buf *rb, bool json) {
    uint32_t u, n_hist;
    if (ulm_model_user_find(m, id, strlen(id), &u) != ULM_OK) return 1;
    const uint32_t *hist = ulm_model_user_history(m, u, &n_hist);
    emit(b, m, id, hist, NULL, n_hist, rb, json, 0);
    return 0;
}

/* Parses "a,b@2011-05-01,c" into item indices and, when some entry has a date, *times (one per
 * index; INT64_MAX = no date, never due; free it); counts ids not in the catalogue and bad dates. */
static uint32_t *parse_history(const ulm_model *m, const char *list, uint32_t *n, uint32_t *unknown, int64_t **times);

/* Answers each line of FILE (comma-separated item ids) as one JSON object; false if unreadable. */
static bool for_histories(ulm_sb *b, const ulm_model *m, const char *path, rec_buf *rb) {
    char *list;
    size_t llen;
    ulm_diag d;
    if (ulm_file_read(path, true, &list, &llen, &d) != ULM_OK) {
        ulm_errorf("recommend", "%s", d.message);
        return false;
    }
    for (char *p = list, *e; p < list + llen; p = e + 1) {
        e = memchr(p, '\n', (size_t)(list + llen - p));
        if (!e) e = list + llen;
        *e = 0;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[--l] = 0;
        uint32_t n_hist, unknown;
        int64_t *t;
        uint32_t *h = parse_history(m, p, &n_hist, &unknown, &t);
        if (h) emit(b, m, NULL, h, t, n_hist, rb, true, unknown);
        free(h);
        free(t);
        if (b->len > (1 << 20)) {
            fwrite(b->s, 1, b->len, stdout);
            b->len = 0;
        }
    }
    free(list);
    return true;
}

static uint32_t *parse_history(const ulm_model *m, const char *list, uint32_t *n, uint32_t *unknown, int64_t **times) {
    size_t cap = 1;
    for (const char *p = list; *p; p++) cap += *p == ',';
    uint32_t *h = malloc(cap * sizeof *h);
    int64_t *t = strchr(list, '@') ? malloc(cap * sizeof *t) : NULL;
    *n = *unknown = 0;
    *times = NULL;
    if (!h || (strchr(list, '@') && !t)) {
        free(h);
        free(t);
        return NULL;
    }
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *at = memchr(p, '@', len);
        size_t idlen = at ? (size_t)(at - p) : len;
        int64_t when = INT64_MAX;
        uint32_t it;
        if (at && !ulm_parse_date(at + 1, len - idlen - 1, &when)) {
            (*unknown)++; /* a bad date: the entry is ignored and counted */
        } else if (idlen) {
            if (ulm_model_item_find(m, p, idlen, &it) == ULM_OK) {
                if (t) t[*n] = when;
                h[(*n)++] = it;
            } else {
                (*unknown)++;
            }
        }
        p += len + (e != NULL);
    }
    *times = t;
    return h;
}

/* Builds the allow mask from FILE (item ids one per line); false when unreadable. */
static bool read_allow(const ulm_model *m, const char *path, uint8_t *allow) {
    char *list;
    size_t llen;
    ulm_diag d;
    if (ulm_file_read(path, true, &list, &llen, &d) != ULM_OK) {
        ulm_errorf("recommend", "--allow: %s", d.message);
        return false;
    }
    unsigned unknown = 0;
    for (char *p = list, *e; p < list + llen; p = e + 1) {
        e = memchr(p, '\n', (size_t)(list + llen - p));
        if (!e) e = list + llen;
        size_t l = (size_t)(e - p);
        if (l && p[l - 1] == '\r') l--;
        uint32_t it;
        if (!l) continue;
        if (ulm_model_item_find(m, p, l, &it) == ULM_OK) allow[it] = 1;
        else unknown++;
    }
    free(list);
    if (unknown) fprintf(stderr, "ulm recommend: --allow: %u unknown item id(s) ignored\n", unknown);
    return true;
}

/* Parses comma-separated category names into indices (*n of them); false (with a message) on an
 * unknown name or a bundle without categories. */
static bool parse_categories(const ulm_model *m, const char *opt, const char *list, uint32_t *cats, uint32_t *n) {
    *n = 0;
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            if (ulm_model_category_find(m, p, len, &cats[*n]) != ULM_OK) {
                ulm_errorf("recommend", "--%s: no category '%.*s' in the bundle (%u categories%s)", opt, (int)len, p,
                           ulm_model_category_count(m),
                           ulm_model_category_count(m) ? "" : "; train with the profiler for item categories");
                return false;
            }
            (*n)++;
        }
        p += len + (e != NULL);
    }
    return true;
}

int ulm_cmd_recommend(int argc, char **argv) {
    ulm_opt opts[] = {{"user", true, NULL}, {"history", true, NULL}, {"users", true, NULL}, {"k", true, NULL},
                      {"json", false, NULL}, {"explain", true, NULL}, {"histories", true, NULL},
                      {"now", true, NULL}, {"allow", true, NULL}, {"category", true, NULL}, {"not-category", true, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *user = ulm_opt_get(opts, no, "user"), *history = ulm_opt_get(opts, no, "history"),
               *users = ulm_opt_get(opts, no, "users"), *histories = ulm_opt_get(opts, no, "histories");
    if (a.npos != 1 || (!!user + !!history + !!users + !!histories) != 1) {
        fprintf(stderr, "ulm recommend: expected MODEL and exactly one of --user, --history, --users, --histories\n\n%s",
                usage);
        return ULM_EXIT_USAGE;
    }
    uint64_t k;
    uint64_t explain;
    if (!ulm_opt_u64(opts, no, "k", 10, &k) || !ulm_opt_u64(opts, no, "explain", 3, &explain)) return ULM_EXIT_USAGE;
    if (explain > ULM_RECOMMEND_MAX_EXPLAIN) {
        ulm_errorf("recommend", "--explain must be 0..%u", ULM_RECOMMEND_MAX_EXPLAIN);
        return ULM_EXIT_USAGE;
    }
    bool json = ulm_opt_get(opts, no, "json") || users || histories;
    char *buf;
    size_t len;
    ulm_diag d;
    ulm_status s = ulm_file_read(a.pos[0], false, &buf, &len, &d);
    ulm_model *m = NULL;
    if (s == ULM_OK) {
        s = ulm_model_load(buf, len, NULL, &m, &d);
        free(buf);
    }
    if (s != ULM_OK) {
        ulm_errorf("recommend", "%s: %s: %s", a.pos[0], ulm_status_name(s), d.message);
        return ULM_EXIT_FAIL;
    }
    uint32_t n_items = ulm_model_item_count(m);
    if (k > n_items) k = n_items;
    rec_buf rb = {.o = ulm_recommend_opts_init()};
    rb.o.k = (uint32_t)k;
    rb.o.explain = (uint32_t)explain;
    rb.now = (int64_t)time(NULL);
    const char *now = ulm_opt_get(opts, no, "now"), *allow = ulm_opt_get(opts, no, "allow"),
               *cat = ulm_opt_get(opts, no, "category"), *notcat = ulm_opt_get(opts, no, "not-category");
    uint8_t *allow_mask = NULL;
    uint32_t *cats = NULL, n_cats = 0;
    if (now && !ulm_parse_date(now, strlen(now), &rb.now)) {
        ulm_errorf("recommend", "--now: '%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", now);
        ulm_model_free(m);
        return ULM_EXIT_USAGE;
    }
    if (cat && notcat) {
        ulm_errorf("recommend", "give --category or --not-category, not both");
        ulm_model_free(m);
        return ULM_EXIT_USAGE;
    }
    if (cat || notcat) {
        const char *list = cat ? cat : notcat;
        cats = malloc((strlen(list) + 1) * sizeof *cats);
        if (!cats || !parse_categories(m, cat ? "category" : "not-category", list, cats, &n_cats)) {
            free(cats);
            ulm_model_free(m);
            return ULM_EXIT_USAGE;
        }
        rb.o.categories = cats;
        rb.o.n_categories = n_cats;
        if (notcat) rb.o.flags |= ULM_RECOMMEND_NOT_CATEGORIES;
    }
    if (allow) {
        allow_mask = calloc((size_t)n_items + 1, 1);
        if (!allow_mask || !read_allow(m, allow, allow_mask)) {
            free(allow_mask);
            free(cats);
            ulm_model_free(m);
            return ULM_EXIT_FAIL;
        }
        rb.o.allow = allow_mask;
    }
    rb.items = malloc((k + 1) * sizeof *rb.items);
    rb.scores = malloc((k + 1) * sizeof *rb.scores);
    rb.because = malloc((k * explain + 1) * sizeof *rb.because);
    ulm_sb out = {0};
    int rc = ULM_EXIT_OK;
    if (!rb.items || !rb.scores || !rb.because) {
        ulm_errorf("recommend", "out of memory");
        rc = ULM_EXIT_FAIL;
    } else if (histories) {
        if (!for_histories(&out, m, histories, &rb)) rc = ULM_EXIT_FAIL;
    } else if (user) {
        if (for_user(&out, m, user, &rb, json)) {
            ulm_errorf("recommend", "user '%s' is not in the bundle's user table (%u users)%s", user,
                       ulm_model_user_count(m), ulm_model_user_count(m) ? "" : "; train without --no-user-table");
            rc = ULM_EXIT_FAIL;
        }
    } else if (history) {
        uint32_t n_hist, unknown;
        int64_t *t;
        uint32_t *h = parse_history(m, history, &n_hist, &unknown, &t);
        if (h) emit(&out, m, NULL, h, t, n_hist, &rb, json, unknown);
        if (unknown && !json) fprintf(stderr, "ulm recommend: %u unknown item id(s) or bad date(s) ignored\n", unknown);
        free(h);
        free(t);
    } else if (strcmp(users, "all") == 0) {
        for (uint32_t u = 0; u < ulm_model_user_count(m); u++) {
            uint32_t n_hist, idlen;
            const char *id = ulm_model_user_id(m, u, &idlen);
            char *z = malloc(idlen + 1);
            memcpy(z, id, idlen);
            z[idlen] = 0;
            const uint32_t *hist = ulm_model_user_history(m, u, &n_hist);
            emit(&out, m, z, hist, NULL, n_hist, &rb, true, 0);
            free(z);
            if (out.len > (1 << 20)) {
                fwrite(out.s, 1, out.len, stdout);
                out.len = 0;
            }
        }
    } else {
        char *list;
        size_t llen;
        if (ulm_file_read(users, true, &list, &llen, &d) != ULM_OK) {
            ulm_errorf("recommend", "%s", d.message);
            rc = ULM_EXIT_FAIL;
        } else {
            unsigned line = 0, missing = 0;
            for (char *p = list, *e; p < list + llen; p = e + 1) {
                e = memchr(p, '\n', (size_t)(list + llen - p));
                if (!e) e = list + llen;
                *e = 0;
                line++;
                size_t l = strlen(p);
                if (l && p[l - 1] == '\r') p[--l] = 0;
                if (!l) continue;
                if (for_user(&out, m, p, &rb, true)) {
                    fprintf(stderr, "ulm recommend: %s:%u: unknown user '%s'\n", users, line, p);
                    missing++;
                }
            }
            free(list);
            if (missing) rc = ULM_EXIT_FAIL;
        }
    }
    if (out.len) fwrite(out.s, 1, out.len, stdout);
    ulm_sb_free(&out);
    free(rb.items);
    free(rb.scores);
    free(rb.because);
    free(rb.scratch);
    free(allow_mask);
    free(cats);
    ulm_model_free(m);
    return rc;
}
