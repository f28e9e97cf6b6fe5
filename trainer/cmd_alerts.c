/* cmd_alerts.c: `ulm alerts STORE --model MODEL.ulm`: customers whose churn risk crossed the threshold since
 * the previous run, with value at risk, reasons and an action; optionally POSTed to a webhook. Idempotent:
 * a state file remembers who was reported, and is updated only after the batch was delivered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "churn_store.h"
#include "churn_webhook.h"
#include "cli.h"
#include "commands.h"
#include "store.h"
#include "ulm/ulm_churn_model.h"

static const char usage[] =
    "usage: ulm alerts STORE --model MODEL.ulm [--threshold P] [--as-of DATE] [--state FILE]\n"
    "                  [--webhook URL [--retries N] [--backoff-ms MS]] [--out FILE] [--json]\n\n"
    "Scores every customer of the store with the bundle's churn model (as of --as-of, default the day after\n"
    "the last event) and lists those whose risk is at or above the threshold and who were not reported by a\n"
    "previous run (the state file; a customer whose risk falls below the threshold is forgotten, so a later\n"
    "crossing is reported again). Each alert has the risk, the value at risk (risk x the customer's annual\n"
    "spend rate: spend x 365 / max(tenure, 30 days)), the three strongest reasons and an action (a 10%%\n"
    "coupon when the value at risk is at least --coupon-above, else a personalised reminder).\n\n"
    "  --threshold P     risk threshold (default 0.5)\n"
    "  --state FILE      who was reported (default STORE.alerts); written atomically after delivery\n"
    "  --webhook URL     POST the batch as JSON (header Idempotency-Key: the batch id); connection errors,\n"
    "                    HTTP 408, 429 and 5xx are retried --retries times (default 4) with back-off from\n"
    "                    --backoff-ms (default 500, doubling); on failure nothing is marked as sent, exit 1\n"
    "  --coupon-above V  value at risk from which the action is a coupon (default 100)\n"
    "  --out FILE        write the batch (JSON) there\n"
    "  --json            print the batch (JSON) on stdout instead of a table\n";

typedef struct alert {
    uint32_t row;
    float p, value;
    ulm_churn_reason why[3];
    uint32_t n_why;
} alert;

/* Sorts alerts by value at risk, largest first (ties: row order), without a comparator context. */
static void sort_alerts(alert *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        alert t = a[i];
        size_t j = i;
        while (j > 0 && (a[j - 1].value < t.value || (a[j - 1].value == t.value && a[j - 1].row > t.row))) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = t;
    }
}

/* Reads the state file (one reported customer id per line; absent = nobody) into set. */
static ulm_status read_state(const char *path, ulm_dict *set, ulm_diag *d) {
    FILE *f = fopen(path, "rb");
    if (!f) return ULM_OK;
    fclose(f);
    char *text = NULL;
    size_t len = 0;
    ulm_status s = ulm_file_read(path, false, &text, &len, d);
    if (s != ULM_OK) return s;
    for (char *p = text, *end = text + len; p < end;) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        char *tab = memchr(p, '\t', (size_t)(e - p));
        size_t n = (size_t)((tab ? tab : e) - p);
        if (n && ulm_dict_intern(set, p, n, NULL) == ULM_NONE) s = ULM_ERR_NOMEM;
        p = e + 1;
    }
    free(text);
    return s;
}

/* 64-bit FNV-1a, for the batch id. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int ulm_cmd_alerts(int argc, char **argv) {
    ulm_opt opts[] = {{"model", true, NULL},   {"threshold", true, NULL}, {"as-of", true, NULL},
                      {"state", true, NULL},   {"webhook", true, NULL},   {"retries", true, NULL},
                      {"backoff-ms", true, NULL}, {"out", true, NULL},    {"json", false, NULL},
                      {"coupon-above", true, NULL}};
    const size_t no = sizeof opts / sizeof opts[0];
    ulm_args a;
    int r = ulm_args_parse(&a, argc, argv, opts, no, usage);
    if (r) return r == 1 ? ULM_EXIT_OK : ULM_EXIT_USAGE;
    const char *model_path = ulm_opt_get(opts, no, "model");
    if (a.npos != 1 || !model_path) {
        fprintf(stderr, "ulm alerts: expected STORE and --model MODEL.ulm\n\n%s", usage);
        return ULM_EXIT_USAGE;
    }
    double thr, coupon;
    uint64_t retries, backoff;
    if (!ulm_opt_f64(opts, no, "threshold", 0.5, &thr) || !ulm_opt_u64(opts, no, "retries", 4, &retries) ||
        !ulm_opt_u64(opts, no, "backoff-ms", 500, &backoff) || !ulm_opt_f64(opts, no, "coupon-above", 100, &coupon))
        return ULM_EXIT_USAGE;
    if (!(thr > 0 && thr < 1) || retries > 20 || backoff > 60000) {
        ulm_errorf("alerts", "--threshold must be in (0, 1), --retries at most 20, --backoff-ms at most 60000");
        return ULM_EXIT_USAGE;
    }
    const char *store = a.pos[0], *webhook = ulm_opt_get(opts, no, "webhook"), *out = ulm_opt_get(opts, no, "out");
    char state_path[4096];
    snprintf(state_path, sizeof state_path, "%s", ulm_opt_get(opts, no, "state") ? ulm_opt_get(opts, no, "state") : "");
    if (!state_path[0]) snprintf(state_path, sizeof state_path, "%s.alerts", store);
    bool json = ulm_opt_get(opts, no, "json") != NULL;
    ulm_diag d;
    memset(&d, 0, sizeof d);
    int rc = ULM_EXIT_FAIL;
    ulm_model *m = NULL;
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_churn_rows rows;
    memset(&rows, 0, sizeof rows);
    ulm_dict before, now;
    ulm_dict_init(&before);
    ulm_dict_init(&now);
    alert *al = NULL;
    float *scratch = NULL;
    ulm_sb batch = {0}, st = {0};
    ulm_status s = ULM_OK;
    if (!(m = ulm_churn_model_open("alerts", model_path))) goto done;
    if (!ulm_store_load("alerts", store, &ev)) goto done;
    int64_t as_of = INT64_MIN;
    if (!ulm_churn_as_of("alerts", ulm_opt_get(opts, no, "as-of"), &ev, &as_of)) {
        rc = ULM_EXIT_USAGE;
        goto done;
    }
    if ((s = read_state(state_path, &before, &d)) != ULM_OK) {
        ulm_errorf("alerts", "%s: %s", state_path, d.message);
        goto done;
    }
    if ((s = ulm_churn_rows_build(&ev, &as_of, 1, 0, &rows)) != ULM_OK) goto done;
    al = malloc(((size_t)rows.n_rows + 1) * sizeof *al);
    scratch = malloc((ulm_model_churn_scratch(m) + 1) * sizeof *scratch);
    if (!al || !scratch) goto done;
    size_t n_new = 0, n_above = 0;
    for (uint32_t i = 0; i < rows.n_rows; i++) {
        const float *x = rows.x + (size_t)i * ULM_CF_COUNT;
        alert t;
        memset(&t, 0, sizeof t);
        t.row = i;
        ulm_model_churn_score(m, x, &t.p, t.why, 3, &t.n_why, scratch);
        if (!(t.p >= thr)) continue;
        n_above++;
        uint32_t il;
        const char *id = ulm_dict_str(&ev.users, rows.user[i], &il);
        if (ulm_dict_intern(&now, id, il, NULL) == ULM_NONE) goto done;
        if (ulm_dict_find(&before, id, il) != ULM_NONE) continue; /* reported before and still at risk */
        t.value = ulm_churn_value_at_risk(t.p, x);
        al[n_new++] = t;
    }
    sort_alerts(al, n_new);
    char day[16];
    ulm_format_date(as_of, day);
    uint64_t h = fnv(0xcbf29ce484222325ull, day, strlen(day));
    for (size_t k = 0; k < n_new; k++) {
        uint32_t il;
        const char *id = ulm_dict_str(&ev.users, rows.user[al[k].row], &il);
        h = fnv(fnv(h, id, il), "\n", 1);
    }
    char key[40];
    snprintf(key, sizeof key, "ulm-alerts-%016llx", (unsigned long long)h);
    ulm_sb_printf(&batch, "{\"batch\":\"%s\",\"as_of\":\"%s\",\"threshold\":%g,\"at_risk\":%zu,\"alerts\":[", key, day,
                  thr, n_above);
    for (size_t k = 0; k < n_new; k++) {
        uint32_t il;
        const char *id = ulm_dict_str(&ev.users, rows.user[al[k].row], &il);
        ulm_sb_printf(&batch, "%s{\"customer\":", k ? "," : "");
        ulm_sb_json_str(&batch, id, il);
        ulm_sb_printf(&batch, ",\"p_churn\":%.6f,\"value_at_risk\":%.2f,\"value_basis\":\"annual spend rate\",\"reasons\":[",
                      (double)al[k].p, (double)al[k].value);
        for (uint32_t j = 0; j < al[k].n_why; j++) {
            if (j) ulm_sb_append(&batch, ",", 1);
            ulm_sb_json_str(&batch, al[k].why[j].text, strlen(al[k].why[j].text));
        }
        ulm_sb_printf(&batch, "],\"action\":\"%s\"}", al[k].value >= coupon ? "10% coupon" : "personalised reminder");
    }
    ulm_sb_printf(&batch, "]}\n");
    if (batch.oom) goto done;
    unsigned attempts = 0;
    if (webhook && n_new) {
        if ((s = ulm_webhook_post(webhook, batch.s, batch.len, key, (unsigned)retries, (unsigned)backoff, &attempts, &d)) !=
            ULM_OK) {
            ulm_errorf("alerts", "webhook failed after %u attempt(s): %s; nothing was marked as sent", attempts, d.message);
            goto done;
        }
    }
    if (out && ulm_file_write_atomic(out, batch.s, batch.len, &d) != ULM_OK) {
        ulm_errorf("alerts", "%s", d.message);
        goto done;
    }
    /* the new state: everyone at or above the threshold now (reported now or before) */
    for (uint32_t i = 0; i < now.n; i++) {
        uint32_t il;
        const char *id = ulm_dict_str(&now, i, &il);
        ulm_sb_append(&st, id, il);
        ulm_sb_printf(&st, "\t%s\n", day);
    }
    if (st.oom || ulm_file_write_atomic(state_path, st.s ? st.s : "", st.len, &d) != ULM_OK) {
        ulm_errorf("alerts", "%s: %s", state_path, d.message);
        goto done;
    }
    if (json) {
        if (!out) fputs(batch.s, stdout);
    } else {
        printf("%zu customers at or above %.2f as of %s; %zu new alert(s), %zu reported before\n", n_above, thr, day,
               n_new, n_above - n_new);
        for (size_t k = 0; k < n_new && k < 20; k++) {
            uint32_t il;
            const char *id = ulm_dict_str(&ev.users, rows.user[al[k].row], &il);
            printf("  %-12.*s p=%.2f  value at risk %9.2f  %s; %s\n", (int)il, id, (double)al[k].p,
                   (double)al[k].value, al[k].n_why ? al[k].why[0].text : "",
                   al[k].value >= coupon ? "10% coupon" : "personalised reminder");
        }
        if (n_new > 20) printf("  ... %zu more\n", n_new - 20);
        if (webhook && n_new) printf("posted batch %s to %s (%u attempt(s))\n", key, webhook, attempts);
    }
    rc = ULM_EXIT_OK;
done:
    ulm_sb_free(&batch);
    ulm_sb_free(&st);
    free(al);
    free(scratch);
    ulm_dict_free(&before);
    ulm_dict_free(&now);
    ulm_churn_rows_free(&rows);
    ulm_events_free(&ev);
    ulm_model_free(m);
    return rc;
}
