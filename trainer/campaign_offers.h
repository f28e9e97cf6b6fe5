/* campaign_offers.h: `ulm campaign`'s inputs: the offers configuration (JSON), past campaign outcomes and
 * a small CSV reader for plans and outcomes. Format: docs/nba.md, example: examples/offers.json. */
#ifndef ULM_TRAINER_CAMPAIGN_OFFERS_H
#define ULM_TRAINER_CAMPAIGN_OFFERS_H

#include "cli.h"
#include "ulm/ulm_nba.h"

#define ULM_CAMPAIGN_MAX_OFFERS 64

typedef struct ulm_campaign_cfg {
    size_t k;
    char *id[ULM_CAMPAIGN_MAX_OFFERS];
    ulm_nba_offer offer[ULM_CAMPAIGN_MAX_OFFERS];
    double prior[ULM_CAMPAIGN_MAX_OFFERS]; /* the configured uplift */
    ulm_nba_uplift_est est[ULM_CAMPAIGN_MAX_OFFERS];
    int has_est;
    double budget, control_share;
    uint32_t max_per_customer;
    uint64_t seed;
} ulm_campaign_cfg;

/* Reads and checks the offers file; on failure prints "ulm campaign: FILE: KEY: problem" and returns false. */
bool ulm_campaign_cfg_read(const char *path, ulm_campaign_cfg *c);
void ulm_campaign_cfg_free(ulm_campaign_cfg *c);
/* Reads past outcomes (CSV customer,offer,treated,retained) and replaces each offer's uplift by the two-model
 * estimate when that offer has treated and control rows; prints errors naming file:line:field. */
bool ulm_campaign_uplift_read(const char *path, ulm_campaign_cfg *c);

/* Splits one CSV line (RFC 4180 quotes) in place into at most max fields; returns the field count. */
size_t ulm_campaign_csv_split(char *line, char **field, size_t max);

#endif
