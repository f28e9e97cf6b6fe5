/* recs_data.c: interaction files, stores and splits for `ulm eval recs`, `ulm tune recs` and `ulm train --recs`. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "recs_data.h"
#include "store.h"

/* Grows the triplet arrays to hold at least need entries. */
static bool grow(uint32_t **u, uint32_t **it, float **w, int64_t **t, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap * 2 : 4096;
    while (nc < need) nc *= 2;
    uint32_t *a = realloc(*u, nc * sizeof *a);
    if (!a) return false;
    *u = a;
    uint32_t *b = realloc(*it, nc * sizeof *b);
    if (!b) return false;
    *it = b;
    float *c = realloc(*w, nc * sizeof *c);
    if (!c) return false;
    *w = c;
    int64_t *d = realloc(*t, nc * sizeof *d);
    if (!d) return false;
    *t = d;
    *cap = nc;
    return true;
}

/* Splits line[0..len) at sep into at most cap fields (surrounding double quotes stripped). */
static int split_fields(char *line, size_t len, char sep, char **f, size_t *fl, int cap) {
    int n = 0;
    size_t a = 0;
    for (size_t k = 0; k <= len && n < cap; k++) {
        if (k < len && line[k] != sep) continue;
        size_t b = k;
        while (a < b && (line[a] == ' ')) a++;
        while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\r')) b--;
        if (b - a >= 2 && line[a] == '"' && line[b - 1] == '"') a++, b--;
        f[n] = line + a;
        fl[n] = b - a;
        n++;
        a = k + 1;
    }
    return n;
}

ulm_status ulm_recs_read_file(const char *path, ulm_dict *users, ulm_dict *items, bool intern, uint32_t **u,
                              uint32_t **it, float **w, int64_t **t, size_t *n, size_t *skip_user, size_t *skip_item,
                              ulm_dict *unknown_users, ulm_diag *diag) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    *u = NULL, *it = NULL, *w = NULL, *t = NULL, *n = 0;
    ulm_status s = ulm_file_read(path, true, &buf, &len, diag);
    if (s != ULM_OK) return s;
    char *nl = memchr(buf, '\n', len);
    size_t hl = nl ? (size_t)(nl - buf) : len;
    char sep = memchr(buf, '\t', hl) ? '\t' : ',';
    char *f[64];
    size_t fl[64];
    int nf = split_fields(buf, hl, sep, f, fl, 64);
    int cu = -1, ci = -1, cw = -1, ct = -1;
    for (int k = 0; k < nf; k++) {
        if (fl[k] == 4 && strncasecmp(f[k], "user", 4) == 0) cu = k;
        else if (fl[k] == 4 && strncasecmp(f[k], "item", 4) == 0) ci = k;
        else if (fl[k] == 6 && strncasecmp(f[k], "weight", 6) == 0) cw = k;
        else if (fl[k] == 4 && strncasecmp(f[k], "time", 4) == 0) ct = k;
    }
    if (cu < 0 || ci < 0) {
        free(buf);
        return ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:1: the header must name `user` and `item` columns", path);
    }
    size_t line_no = 1;
    for (char *p = nl ? nl + 1 : buf + len, *end = buf + len; p < end;) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        line_no++;
        size_t ll = (size_t)(e - p);
        if (ll && p[ll - 1] == '\r') ll--;
        char *line = p;
        p = e + 1;
        if (ll == 0) continue;
        int k = split_fields(line, ll, sep, f, fl, 64);
        int need = cu > ci ? cu : ci;
        if (cw > need) need = cw;
        if (ct > need) need = ct;
        if (k <= need) {
            s = ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%zu: expected %d fields, found %d", path, line_no, need + 1, k);
            break;
        }
        if (fl[cu] == 0 || fl[ci] == 0) {
            s = ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%zu: empty %s", path, line_no, fl[cu] == 0 ? "user" : "item");
            break;
        }
        float wt = 1.0f;
        int64_t tm = 0;
        char tmp[64];
        if (cw >= 0) {
            size_t l = fl[cw] < 63 ? fl[cw] : 63;
            memcpy(tmp, f[cw], l);
            tmp[l] = 0;
            char *q;
            double v = strtod(tmp, &q);
            if (q == tmp || *q || !isfinite(v) || v < 0) {
                s = ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%zu: field weight: '%s' is not a finite number >= 0", path,
                                  line_no, tmp);
                break;
            }
            wt = (float)v;
        }
        if (ct >= 0) {
            size_t l = fl[ct] < 63 ? fl[ct] : 63;
            memcpy(tmp, f[ct], l);
            tmp[l] = 0;
            char *q;
            errno = 0;
            long long v = strtoll(tmp, &q, 10);
            if (q == tmp || *q || errno) {
                if (!ulm_parse_date(tmp, strlen(tmp), &tm)) {
                    s = ulm_diag_set(diag, ULM_ERR_PARSE, NULL, 0, "%s:%zu: field time: '%s' is neither Unix seconds nor YYYY-MM-DD",
                                      path, line_no, tmp);
                    break;
                }
            } else {
                tm = v;
            }
        }
        uint32_t uu, ii;
        if (intern) {
            uu = ulm_dict_intern(users, f[cu], fl[cu], NULL);
            ii = ulm_dict_intern(items, f[ci], fl[ci], NULL);
            if (uu == ULM_NONE || ii == ULM_NONE) {
                s = ULM_ERR_NOMEM;
                break;
            }
        } else {
            uu = ulm_dict_find(users, f[cu], fl[cu]);
            ii = ulm_dict_find(items, f[ci], fl[ci]);
            if (uu == ULM_NONE) {
                (*skip_user)++;
                if (unknown_users) ulm_dict_intern(unknown_users, f[cu], fl[cu], NULL);
                continue;
            }
            if (ii == ULM_NONE) {
                (*skip_item)++;
                continue;
            }
        }
        if (!grow(u, it, w, t, &cap, *n + 1)) {
            s = ULM_ERR_NOMEM;
            break;
        }
        (*u)[*n] = uu, (*it)[*n] = ii, (*w)[*n] = wt, (*t)[*n] = tm;
        (*n)++;
    }
    free(buf);
    if (s == ULM_ERR_NOMEM) ulm_diag_set(diag, s, NULL, 0, "%s: out of memory", path);
    if (s != ULM_OK) {
        free(*u), free(*it), free(*w), free(*t);
        *u = NULL, *it = NULL, *w = NULL, *t = NULL, *n = 0;
    }
    return s;
}

void ulm_recs_input_free(ulm_recs_input *in) {
    ulm_imatrix_free(&in->train);
    ulm_imatrix_free(&in->test);
    ulm_dict_free(&in->users);
    ulm_dict_free(&in->items);
    if (in->item_text) /* before the events: their item count bounds the text array */
        for (uint32_t i = 0; i < in->ev.items.n; i++) free(in->item_text[i]);
    if (in->from_store) ulm_events_free(&in->ev);
    free(in->item_text);
    free(in->item_text_len);
    memset(in, 0, sizeof *in);
}

ulm_status ulm_recs_load_files(const char *train, const char *test, ulm_recs_input *in, ulm_diag *diag) {
    memset(in, 0, sizeof *in);
    ulm_dict_init(&in->users);
    ulm_dict_init(&in->items);
    uint32_t *u, *it;
    float *w;
    int64_t *t;
    size_t n, su = 0, si = 0;
    ulm_status s = ulm_recs_read_file(train, &in->users, &in->items, true, &u, &it, &w, &t, &n, &su, &si, NULL, diag);
    if (s != ULM_OK) return s;
    s = ulm_imatrix_from_triplets(in->users.n, in->items.n, n, u, it, w, t, &in->train, diag);
    free(u), free(it), free(w), free(t);
    if (s != ULM_OK) return s;
    ulm_dict unknown;
    ulm_dict_init(&unknown);
    s = ulm_recs_read_file(test, &in->users, &in->items, false, &u, &it, &w, &t, &n, &in->test_rows_unknown_user,
                           &in->test_rows_unknown_item, &unknown, diag);
    in->test_users_unknown = unknown.n;
    ulm_dict_free(&unknown);
    if (s != ULM_OK) return s;
    s = ulm_imatrix_from_triplets(in->users.n, in->items.n, n, u, it, w, t, &in->test, diag);
    free(u), free(it), free(w), free(t);
    return s;
}

ulm_status ulm_recs_load_store(const char *store, const ulm_event_weights *w, const char *spec, uint64_t seed,
                               ulm_recs_input *in, ulm_diag *diag) {
    memset(in, 0, sizeof *in);
    ulm_dict_init(&in->users);
    ulm_dict_init(&in->items);
    ulm_events_init(&in->ev);
    in->from_store = true;
    ulm_status s = ulm_store_read(store, &in->ev, diag);
    if (s != ULM_OK) return s;
    ulm_imatrix all;
    s = ulm_imatrix_from_events(&in->ev, w, &all, diag);
    if (s != ULM_OK) return s;
    if (!spec) {
        in->train = all;
    } else if (strncmp(spec, "random:", 7) == 0) {
        char *q;
        double frac = strtod(spec + 7, &q);
        if (q == spec + 7 || *q || !(frac > 0 && frac < 1))
            s = ulm_diag_set(diag, ULM_ERR_RANGE, NULL, 0, "--split random:F needs 0 < F < 1 (got '%s')", spec + 7);
        else
            s = ulm_imatrix_split_random(&all, frac, seed, &in->train, &in->test, diag);
        ulm_imatrix_free(&all);
    } else if (strncmp(spec, "time:", 5) == 0) {
        int64_t cut;
        if (!ulm_parse_date(spec + 5, strlen(spec + 5), &cut))
            s = ulm_diag_set(diag, ULM_ERR_RANGE, NULL, 0, "--split time:DATE needs YYYY-MM-DD (got '%s')", spec + 5);
        else
            s = ulm_imatrix_split_time(&all, cut, &in->train, &in->test, diag);
        ulm_imatrix_free(&all);
    } else if (strcmp(spec, "leave-last") == 0) {
        s = ulm_imatrix_split_last(&all, &in->train, &in->test, diag);
        ulm_imatrix_free(&all);
    } else {
        ulm_imatrix_free(&all);
        return ulm_diag_set(diag, ULM_ERR_RANGE, NULL, 0, "unknown --split '%s' (random:F, time:YYYY-MM-DD or leave-last)", spec);
    }
    if (s != ULM_OK) return s;
    uint32_t ni = in->ev.items.n;
    in->item_text = calloc((size_t)ni + 1, sizeof *in->item_text);
    in->item_text_len = calloc((size_t)ni + 1, sizeof *in->item_text_len);
    if (!in->item_text || !in->item_text_len) return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
    for (uint32_t i = 0; i < ni; i++) {
        uint32_t l;
        const char *txt = ulm_events_item_text(&in->ev, i, &l);
        if (!txt) continue;
        in->item_text[i] = malloc((size_t)l + 1);
        if (!in->item_text[i]) return ulm_diag_set(diag, ULM_ERR_NOMEM, NULL, 0, "out of memory");
        memcpy(in->item_text[i], txt, l);
        in->item_text[i][l] = 0;
        in->item_text_len[i] = l;
    }
    return ULM_OK;
}

/* Reads an unsigned option into *out (32-bit), keeping the default when absent. */
static bool opt_u32(const ulm_opt *opts, size_t no, const char *name, uint32_t *out) {
    uint64_t v;
    if (!ulm_opt_u64(opts, no, name, *out, &v)) return false;
    if (v > 0xFFFFFFFFu) {
        ulm_errorf("recs", "--%s is too large", name);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool opt_f32(const ulm_opt *opts, size_t no, const char *name, float *out) {
    double v;
    if (!ulm_opt_f64(opts, no, name, *out, &v)) return false;
    if (!isfinite(v)) {
        ulm_errorf("recs", "--%s must be a finite number", name);
        return false;
    }
    *out = (float)v;
    return true;
}

bool ulm_recs_params_from_opts(const char *cmd, const ulm_opt *opts, size_t no, const char *def_algo,
                               ulm_rec_params *p, ulm_event_weights *w) {
    const char *an = ulm_opt_get(opts, no, "algo");
    if (!an) an = def_algo;
    int algo = ulm_rec_algo_parse(an);
    if (algo < 0) {
        ulm_errorf(cmd, "unknown --algo '%s' (pop, itemknn, als, bpr, ease, content, hybrid)", an);
        return false;
    }
    *p = ulm_rec_params_init((ulm_rec_algo)algo);
    *w = ulm_event_weights_init();
    uint64_t seed;
    if (!ulm_opt_u64(opts, no, "seed", p->seed, &seed)) return false;
    p->seed = seed;
    if (!opt_u32(opts, no, "factors", &p->factors) || !opt_u32(opts, no, "iters", &p->iters) ||
        !opt_u32(opts, no, "neighbours", &p->neighbours) || !opt_u32(opts, no, "threads", &p->threads) ||
        !opt_u32(opts, no, "cg-steps", &p->cg_steps) || !opt_f32(opts, no, "reg", &p->reg) ||
        !opt_f32(opts, no, "alpha", &p->alpha) || !opt_f32(opts, no, "lambda", &p->lambda) ||
        !opt_f32(opts, no, "lr", &p->lr) || !opt_f32(opts, no, "shrink", &p->shrink) ||
        !opt_f32(opts, no, "bm25-k1", &p->bm25_k1) || !opt_f32(opts, no, "bm25-b", &p->bm25_b) ||
        !opt_f32(opts, no, "view-weight", &w->view) || !opt_f32(opts, no, "cart-weight", &w->cart) ||
        !opt_f32(opts, no, "purchase-weight", &w->purchase))
        return false;
    const char *solver = ulm_opt_get(opts, no, "solver");
    if (solver && strcmp(solver, "cholesky") == 0) p->cg_steps = 0;
    else if (solver && strcmp(solver, "cg") != 0) {
        ulm_errorf(cmd, "--solver must be cg or cholesky");
        return false;
    }
    if (solver && strcmp(solver, "cg") == 0 && p->cg_steps == 0) {
        ulm_errorf(cmd, "--solver cg needs --cg-steps >= 1");
        return false;
    }
    const char *wt = ulm_opt_get(opts, no, "weighting");
    if (wt) {
        if (strcmp(wt, "bm25") == 0) p->weighting = ULM_KNN_BM25;
        else if (strcmp(wt, "tfidf") == 0) p->weighting = ULM_KNN_TFIDF;
        else if (strcmp(wt, "cosine") == 0 || strcmp(wt, "none") == 0) p->weighting = ULM_KNN_NONE;
        else {
            ulm_errorf(cmd, "--weighting must be bm25, tfidf or cosine");
            return false;
        }
    }
    if (p->threads < 1 || p->threads > 256) {
        ulm_errorf(cmd, "--threads must be 1..256");
        return false;
    }
    return true;
}

void ulm_recs_params_json(ulm_sb *b, const ulm_rec_params *p) {
    ulm_sb_printf(b, ",\"algo\":\"%s\",\"threads\":%u,\"seed\":%llu", ulm_rec_algo_name(p->algo), p->threads,
                  (unsigned long long)p->seed);
    switch (p->algo) {
    case ULM_REC_ALS:
        ulm_sb_printf(b, ",\"factors\":%u,\"iters\":%u,\"reg\":%g,\"alpha\":%g,\"solver\":\"%s\",\"cg_steps\":%u",
                      p->factors, p->iters, p->reg, p->alpha, p->cg_steps ? "cg" : "cholesky", p->cg_steps);
        break;
    case ULM_REC_BPR:
        ulm_sb_printf(b, ",\"factors\":%u,\"iters\":%u,\"reg\":%g,\"lr\":%g", p->factors, p->iters, p->reg, p->lr);
        break;
    case ULM_REC_EASE: ulm_sb_printf(b, ",\"lambda\":%g", p->lambda); break;
    case ULM_REC_ITEMKNN:
    case ULM_REC_HYBRID:
        ulm_sb_printf(b, ",\"neighbours\":%u,\"weighting\":\"%s\",\"shrink\":%g", p->neighbours,
                      p->weighting == ULM_KNN_BM25 ? "bm25" : p->weighting == ULM_KNN_TFIDF ? "tfidf" : "cosine",
                      p->shrink);
        break;
    case ULM_REC_CONTENT: ulm_sb_printf(b, ",\"neighbours\":%u", p->neighbours); break;
    default: break;
    }
}
