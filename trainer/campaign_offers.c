/* campaign_offers.c: the offers configuration and past campaign outcomes for `ulm campaign`. */
#include "campaign_offers.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

/* Reports a problem with one key of the offers file; always returns false. */
static bool bad(const char *path, const char *key, const char *what) {
    ulm_errorf("campaign", "%s: %s: %s", path, key, what);
    return false;
}

/* A number item within [lo, hi], or an error naming the key. */
static bool num(const char *path, const char *key, const cJSON *it, double lo, double hi, double *out) {
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return bad(path, key, "must be a number");
    if (!(it->valuedouble >= lo && it->valuedouble <= hi)) {
        char m[96];
        snprintf(m, sizeof m, "%g is outside [%g, %g]", it->valuedouble, lo, hi);
        return bad(path, key, m);
    }
    *out = it->valuedouble;
    return true;
}

void ulm_campaign_cfg_free(ulm_campaign_cfg *c) {
    for (size_t i = 0; i < c->k; i++) free(c->id[i]);
    c->k = 0;
}

/* Checks one offer object into slot i. */
static bool read_offer(const char *path, const cJSON *o, size_t i, ulm_campaign_cfg *c) {
    char key[64];
    snprintf(key, sizeof key, "offers[%zu]", i);
    if (!cJSON_IsObject(o)) return bad(path, key, "must be an object {\"id\", \"cost\", \"uplift\"}");
    bool has_id = false, has_cost = false, has_up = false;
    for (const cJSON *f = o->child; f; f = f->next) {
        char fk[96];
        snprintf(fk, sizeof fk, "offers[%zu].%s", i, f->string);
        if (!strcmp(f->string, "id")) {
            if (!cJSON_IsString(f) || !f->valuestring[0] || strpbrk(f->valuestring, ",\"\r\n"))
                return bad(path, fk, "must be a non-empty string without commas, quotes or line breaks");
            for (size_t j = 0; j < i; j++)
                if (!strcmp(c->id[j], f->valuestring)) return bad(path, fk, "duplicate offer id");
            if (!(c->id[i] = strdup(f->valuestring))) return bad(path, fk, "out of memory");
            has_id = true;
        } else if (!strcmp(f->string, "cost")) {
            if (!num(path, fk, f, 0, 1e12, &c->offer[i].cost)) return false;
            has_cost = true;
        } else if (!strcmp(f->string, "uplift")) {
            if (!num(path, fk, f, -1, 1, &c->offer[i].uplift)) return false;
            c->prior[i] = c->offer[i].uplift;
            has_up = true;
        } else if (strcmp(f->string, "description") != 0) {
            return bad(path, fk, "unknown key (expected id, cost, uplift, description)");
        }
    }
    if (!has_id) return bad(path, key, "missing \"id\"");
    c->k = i + 1;
    if (!has_cost) return bad(path, key, "missing \"cost\"");
    if (!has_up) return bad(path, key, "missing \"uplift\"");
    return true;
}

bool ulm_campaign_cfg_read(const char *path, ulm_campaign_cfg *c) {
    memset(c, 0, sizeof *c);
    c->budget = INFINITY;
    c->control_share = 0.1;
    c->max_per_customer = 1;
    char *text = NULL;
    size_t len = 0;
    ulm_diag d;
    if (ulm_file_read(path, false, &text, &len, &d) != ULM_OK) {
        ulm_errorf("campaign", "%s", d.message);
        return false;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    bool ok = false;
    if (!root) {
        size_t off = end ? (size_t)(end - text) : 0, line = 1;
        for (size_t i = 0; i < off && i < len; i++) line += text[i] == '\n';
        ulm_errorf("campaign", "%s:%zu: not valid JSON", path, line);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        bad(path, "(top level)", "must be an object with \"offers\"");
        goto done;
    }
    const cJSON *offers = NULL;
    for (const cJSON *f = root->child; f; f = f->next) {
        double v;
        if (!strcmp(f->string, "offers")) {
            offers = f;
        } else if (!strcmp(f->string, "budget")) {
            if (!num(path, "budget", f, 0, 1e15, &c->budget)) goto done;
        } else if (!strcmp(f->string, "control_share")) {
            if (!num(path, "control_share", f, 0, 0.9, &c->control_share)) goto done;
        } else if (!strcmp(f->string, "max_per_customer")) {
            if (!num(path, "max_per_customer", f, 1, 64, &v)) goto done;
            if (v != floor(v)) {
                bad(path, "max_per_customer", "must be a whole number");
                goto done;
            }
            c->max_per_customer = (uint32_t)v;
        } else if (!strcmp(f->string, "seed")) {
            if (!num(path, "seed", f, 0, 9007199254740992.0, &v) || v != floor(v)) {
                if (cJSON_IsNumber(f)) bad(path, "seed", "must be a whole number");
                goto done;
            }
            c->seed = (uint64_t)v;
        } else if (strcmp(f->string, "description") != 0) {
            char m[160];
            snprintf(m, sizeof m, "unknown key (expected offers, budget, max_per_customer, control_share, seed)");
            bad(path, f->string, m);
            goto done;
        }
    }
    if (!offers || !cJSON_IsArray(offers) || !cJSON_GetArraySize(offers)) {
        bad(path, "offers", "missing, or not a non-empty array");
        goto done;
    }
    if (cJSON_GetArraySize(offers) > ULM_CAMPAIGN_MAX_OFFERS) {
        bad(path, "offers", "more than 64 offers");
        goto done;
    }
    size_t i = 0;
    for (const cJSON *o = offers->child; o; o = o->next, i++)
        if (!read_offer(path, o, i, c)) goto done;
    ok = true;
done:
    cJSON_Delete(root);
    free(text);
    if (!ok) ulm_campaign_cfg_free(c);
    return ok;
}

size_t ulm_campaign_csv_split(char *line, char **field, size_t max) {
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return n + 1; /* too many */
        if (*p == '"') {
            char *w = ++p;
            field[n++] = w;
            for (;;) {
                if (!*p) break;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            *w = 0;
            /* skip to the comma */
            while (*p && *p != ',') p++;
        } else {
            field[n++] = p;
            while (*p && *p != ',') p++;
        }
        if (*p != ',') {
            *p = 0;
            return n;
        }
        *p++ = 0;
    }
}

/* Strict 0/1 field. */
static bool bit(const char *s, uint8_t *out) {
    if ((s[0] == '0' || s[0] == '1') && !s[1]) {
        *out = (uint8_t)(s[0] - '0');
        return true;
    }
    return false;
}

bool ulm_campaign_uplift_read(const char *path, ulm_campaign_cfg *c) {
    char *text = NULL;
    size_t len = 0;
    ulm_diag d;
    if (ulm_file_read(path, true, &text, &len, &d) != ULM_OK) {
        ulm_errorf("campaign", "%s", d.message);
        return false;
    }
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
    uint32_t *off = malloc(cap * sizeof *off);
    uint8_t *tr = malloc(cap), *re = malloc(cap);
    bool ok = false;
    size_t n = 0, line = 0;
    if (!off || !tr || !re) goto done;
    for (char *p = text, *end = text + len; p < end;) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        *e = 0;
        if (e > p && e[-1] == '\r') e[-1] = 0;
        line++;
        char *f[5];
        size_t nf = *p ? ulm_campaign_csv_split(p, f, 4) : 0;
        p = e + 1;
        if (!nf) continue;
        if (line == 1) {
            if (nf != 4 || strcmp(f[0], "customer") || strcmp(f[1], "offer") || strcmp(f[2], "treated") ||
                strcmp(f[3], "retained")) {
                ulm_errorf("campaign", "%s:1: header must be customer,offer,treated,retained", path);
                goto done;
            }
            continue;
        }
        if (nf != 4) {
            ulm_errorf("campaign", "%s:%zu: expected 4 fields, got %zu", path, line, nf);
            goto done;
        }
        size_t o = 0;
        while (o < c->k && strcmp(c->id[o], f[1])) o++;
        if (o == c->k) {
            ulm_errorf("campaign", "%s:%zu: offer: '%s' is not in the offers file", path, line, f[1]);
            goto done;
        }
        if (!bit(f[2], &tr[n]) || !bit(f[3], &re[n])) {
            ulm_errorf("campaign", "%s:%zu: %s: must be 0 or 1", path, line, bit(f[2], &tr[n]) ? "retained" : "treated");
            goto done;
        }
        off[n++] = (uint32_t)o;
    }
    if (ulm_nba_uplift(off, tr, re, n, c->k, c->est, &d) != ULM_OK) {
        ulm_errorf("campaign", "%s: %s", path, d.message);
        goto done;
    }
    for (size_t o = 0; o < c->k; o++)
        if (c->est[o].ok) {
            double u = c->est[o].uplift;
            c->offer[o].uplift = u;
        }
    c->has_est = 1;
    ok = true;
done:
    free(off);
    free(tr);
    free(re);
    free(text);
    return ok;
}
