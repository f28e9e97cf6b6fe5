/* offers_write.c: writes the retention offers into a bundle (NBAO + NBAI, docs/format.md; read by
 * core/src/offers_load.c). Training half. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm_bundle.h"
#include "ulm/ulm_score.h"
#include "ulm_impl.h"

static void wrf64(uint8_t *p, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    ulm__wr64(p, u);
}

ulm_status ulm_offers_write(ulm_writer *w, size_t k, const char *const *ids, const ulm_nba_offer *offers,
                            const double *priors, const int *from_campaign, double control_share, uint64_t seed) {
    if (!w || !ids || !offers || !priors || !from_campaign || k < 1 || k > 64) return ULM_ERR_MISUSE;
    if (!(control_share >= 0 && control_share <= 1)) return ULM_ERR_RANGE;
    size_t size = 32 + 32 * k;
    uint8_t *b = calloc(1, size);
    uint32_t lens[64];
    if (!b) return ULM_ERR_NOMEM;
    ulm__wr32(b, (uint32_t)k);
    ulm__wr32(b + 4, 0); /* value basis: CLV when defined, else the annual spend rate */
    wrf64(b + 8, control_share);
    ulm__wr64(b + 16, seed);
    for (size_t i = 0; i < k; i++) {
        uint8_t *p = b + 32 + 32 * i;
        if (!(offers[i].cost >= 0 && isfinite(offers[i].cost)) || !(offers[i].uplift >= -1 && offers[i].uplift <= 1) ||
            !(priors[i] >= -1 && priors[i] <= 1)) {
            free(b);
            return ULM_ERR_RANGE;
        }
        wrf64(p, offers[i].cost);
        wrf64(p + 8, offers[i].uplift);
        wrf64(p + 16, priors[i]);
        ulm__wr32(p + 24, from_campaign[i] ? 1u : 0u);
        lens[i] = (uint32_t)strlen(ids[i]);
    }
    ulm_status s = ulm_writer_section(w, "NBAO", ULM_DT_BYTES, (uint32_t)k, 0, 1, 0, b, size);
    free(b);
    uint8_t *tab = NULL;
    size_t len = 0;
    if (s == ULM_OK) s = ulm_strtab_build(ids, lens, (uint32_t)k, &tab, &len);
    if (s == ULM_OK) s = ulm_writer_section(w, "NBAI", ULM_DT_STRTAB, (uint32_t)k, 0, 1, 0, tab, len);
    free(tab);
    return s;
}
