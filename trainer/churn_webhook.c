/* churn_webhook.c: webhook POSTs with retries and back-off (churn_webhook.h). */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "churn_webhook.h"

/* The answer's body is not needed: drop it. */
static size_t discard(char *p, size_t size, size_t n, void *ud) {
    (void)p, (void)ud;
    return size * n;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

ulm_status ulm_webhook_post(const char *url, const char *body, size_t len, const char *key, unsigned retries,
                            unsigned backoff_ms, unsigned *attempts, ulm_diag *diag) {
    *attempts = 0;
    memset(diag, 0, sizeof *diag);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(diag->message, sizeof diag->message, "libcurl could not start");
        return diag->status = ULM_ERR_IO;
    }
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char kh[160];
    snprintf(kh, sizeof kh, "Idempotency-Key: %.100s", key);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, kh);
    ulm_status st = ULM_ERR_IO;
    if (!c || !h) {
        snprintf(diag->message, sizeof diag->message, "libcurl could not start");
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    unsigned wait = backoff_ms;
    for (unsigned a = 0; a <= retries; a++) {
        if (a) {
            sleep_ms(wait);
            wait *= 2;
        }
        (*attempts)++;
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK && code >= 200 && code < 300) {
            st = ULM_OK;
            break;
        }
        if (rc != CURLE_OK)
            snprintf(diag->message, sizeof diag->message, "%s: %s", url, curl_easy_strerror(rc));
        else
            snprintf(diag->message, sizeof diag->message, "%s answered HTTP %ld", url, code);
        bool retry = rc != CURLE_OK ? rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_URL_MALFORMAT
                                    : code == 408 || code == 429 || code >= 500;
        if (!retry) break;
    }
done:
    if (st != ULM_OK) diag->status = st;
    curl_slist_free_all(h);
    if (c) curl_easy_cleanup(c);
    curl_global_cleanup();
    return st;
}
