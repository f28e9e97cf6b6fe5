/* ingest_columns.c: what columns and values mean: canonical field names, header column
 * recognition, event type synonyms, and the input format (by extension or content). */
#include <string.h>

#include "ingest.h"

static const char *const field_names[ULM_F__COUNT] = {"user",  "item",  "time", "type", "quantity",
                                                      "price", "order", "text", "query"};

const char *ulm_field_name(int f) { return f >= 0 && f < ULM_F__COUNT ? field_names[f] : NULL; }

/* Lower-cases s[0..len) and drops '_', '-' and spaces into out (cap bytes); false if longer. */
static bool normalise(const char *s, size_t len, char *out, size_t cap, size_t *olen) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '_' || c == '-' || c == ' ') continue;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (o + 1 >= cap) return false;
        out[o++] = c;
    }
    out[o] = 0;
    *olen = o;
    return true;
}

int ulm_field_from_name(const char *s, size_t len) {
    char n[32];
    size_t nl;
    if (!normalise(s, len, n, sizeof n, &nl)) return -1;
    for (int f = 0; f < ULM_F__COUNT; f++)
        if (strcmp(n, field_names[f]) == 0) return f;
    if (strcmp(n, "qty") == 0) return ULM_F_QTY;
    if (strcmp(n, "eventtype") == 0 || strcmp(n, "event") == 0) return ULM_F_TYPE;
    return -1;
}

/* Recognised header names per field, normalised, in order of preference. */
static const char *const detect_names[ULM_F__COUNT][10] = {
    [ULM_F_USER] = {"user", "userid", "customer", "customerid", "clientid", "visitorid", "memberid", NULL},
    [ULM_F_ITEM] = {"item", "itemid", "product", "productid", "stockcode", "sku", "movieid", "asin", NULL},
    [ULM_F_TIME] = {"time", "timestamp", "ts", "date", "datetime", "invoicedate", "eventtime", "createdat", NULL},
    [ULM_F_TYPE] = {"event", "eventtype", "type", "action", "behavior", "behaviour", NULL},
    [ULM_F_QTY] = {"quantity", "qty", "units", NULL},
    [ULM_F_PRICE] = {"price", "unitprice", NULL},
    [ULM_F_ORDER] = {"order", "orderid", "invoice", "invoiceno", "transactionid", NULL},
    [ULM_F_TEXT] = {"description", "name", "title", "productname", "itemname", NULL},
    [ULM_F_QUERY] = {"query", "search", "searchquery", "searchterm", "keyword", NULL},
};

int ulm_field_detect(const char *name, size_t len, int *rank) {
    char n[32];
    size_t nl;
    if (!normalise(name, len, n, sizeof n, &nl) || nl == 0) return -1;
    for (int f = 0; f < ULM_F__COUNT; f++)
        for (int r = 0; detect_names[f][r]; r++)
            if (strcmp(n, detect_names[f][r]) == 0) {
                if (rank) *rank = r;
                return f;
            }
    return -1;
}

int ulm_event_type_parse(const char *s, size_t len) {
    static const struct {
        const char *name;
        int type;
    } syn[] = {
        {"view", ULM_EV_VIEW},
        {"pageview", ULM_EV_VIEW},
        {"detail", ULM_EV_VIEW},
        {"click", ULM_EV_VIEW},
        {"cart", ULM_EV_CART},
        {"addtocart", ULM_EV_CART},
        {"basket", ULM_EV_CART},
        {"purchase", ULM_EV_PURCHASE},
        {"buy", ULM_EV_PURCHASE},
        {"order", ULM_EV_PURCHASE},
        {"transaction", ULM_EV_PURCHASE},
        {"sale", ULM_EV_PURCHASE},
        {"return", ULM_EV_RETURN},
        {"refund", ULM_EV_RETURN},
        {"cancel", ULM_EV_RETURN},
        {"search", ULM_EV_SEARCH},
    };
    char n[32];
    size_t nl;
    if (!normalise(s, len, n, sizeof n, &nl)) return -1;
    for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++)
        if (strcmp(n, syn[i].name) == 0) return syn[i].type;
    return -1;
}

static const char *const format_names[3] = {"csv", "tsv", "jsonl"};

const char *ulm_format_name(int fmt) { return fmt >= 0 && fmt < 3 ? format_names[fmt] : "?"; }

/* True when s[0..len) ends with the lower-case suffix suf, ignoring case. */
static bool ends_with_ci(const char *s, size_t len, const char *suf) {
    size_t sl = strlen(suf);
    if (len < sl) return false;
    for (size_t i = 0; i < sl; i++) {
        char c = s[len - sl + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suf[i]) return false;
    }
    return true;
}

int ulm_format_from_path(const char *path) {
    size_t len = strlen(path);
    if (ends_with_ci(path, len, ".gz")) len -= 3;
    if (ends_with_ci(path, len, ".csv")) return ULM_FMT_CSV;
    if (ends_with_ci(path, len, ".tsv") || ends_with_ci(path, len, ".tab")) return ULM_FMT_TSV;
    if (ends_with_ci(path, len, ".jsonl") || ends_with_ci(path, len, ".ndjson") || ends_with_ci(path, len, ".json"))
        return ULM_FMT_JSONL;
    return -1;
}

int ulm_format_sniff(const char *buf, size_t len) {
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '{') return ULM_FMT_JSONL;
    size_t tabs = 0, commas = 0;
    for (; i < len && buf[i] != '\n'; i++) {
        tabs += buf[i] == '\t';
        commas += buf[i] == ',';
    }
    return tabs > commas ? ULM_FMT_TSV : ULM_FMT_CSV;
}
