/* churn_webhook.h: POST a JSON body to a webhook with libcurl, retrying with exponential back-off. */
#ifndef ULM_TRAINER_CHURN_WEBHOOK_H
#define ULM_TRAINER_CHURN_WEBHOOK_H

#include <stddef.h>

#include "ulm/ulm.h"

/* POSTs body (Content-Type application/json, header Idempotency-Key: key) to url. Retries connection
 * errors, timeouts, HTTP 408, 429 and 5xx up to `retries` more times, waiting backoff_ms, then twice
 * that, ... between tries. ULM_OK on a 2xx answer; otherwise ULM_ERR_IO with the last error in diag.
 * *attempts gets the number of requests made. */
ulm_status ulm_webhook_post(const char *url, const char *body, size_t len, const char *key, unsigned retries,
                            unsigned backoff_ms, unsigned *attempts, ulm_diag *diag);

#endif
