/* offers_load.c: the retention offers stored in a bundle (sections NBAO + NBAI, docs/format.md), read for
 * the device-side next best offer (ulm_score.h). Validated like the planner validates its inputs. */
#include <math.h>
#include <string.h>

#include "ulm/ulm_score.h"
#include "ulm_impl.h"
#include "ulm_model_impl.h"

#define NBAO_HEAD 32u  /* u32 k, u32 value basis, f64 control share, u64 seed, u64 reserved */
#define NBAO_OFFER 32u /* f64 cost, f64 uplift, f64 prior, u32 source, u32 reserved */
#define NBAO_MAX 64u

struct ulm__offers {
    uint32_t k;
    double share;
    uint64_t seed;
    ulm_nba_offer offer[NBAO_MAX];
    double prior[NBAO_MAX];
    int from_campaign[NBAO_MAX];
    ulm_strtab ids;
};

static double rdf64(const uint8_t *p) {
    uint64_t u = ulm__rd64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

ulm_status ulm__offers_load(ulm_model *m, ulm_diag *diag) {
    ulm_section o, ids;
    int has_o = ulm_bundle_find(m->bundle, "NBAO", &o) == ULM_OK, has_i = ulm_bundle_find(m->bundle, "NBAI", &ids) == ULM_OK;
    if (!has_o && !has_i) return ULM_OK;
    if (!has_o || !has_i)
        return ulm__fail(diag, ULM_ERR_FORMAT, has_o ? "NBAO" : "NBAI", 0, "offers need both NBAO and NBAI");
    if (o.dtype != ULM_DT_BYTES || o.version != 1 || o.size < NBAO_HEAD)
        return ulm__fail(diag, ULM_ERR_FORMAT, "NBAO", o.offset, "NBAO must be version-1 bytes of at least %u", NBAO_HEAD);
    uint32_t k = ulm__rd32(o.data), basis = ulm__rd32(o.data + 4);
    if (k < 1 || k > NBAO_MAX || o.size != NBAO_HEAD + (uint64_t)k * NBAO_OFFER)
        return ulm__fail(diag, ULM_ERR_FORMAT, "NBAO", o.offset, "%u offers (1..64) do not fill %llu bytes", k,
                         (unsigned long long)o.size);
    if (basis != 0) return ulm__fail(diag, ULM_ERR_VERSION, "NBAO", o.offset + 4, "unknown value basis %u", basis);
    struct ulm__offers *f = ulm__calloc(m->alloc, 1, sizeof *f);
    if (!f) return ULM_ERR_NOMEM;
    m->offers = f;
    f->k = k;
    f->share = rdf64(o.data + 8);
    f->seed = ulm__rd64(o.data + 16);
    if (!(f->share >= 0 && f->share <= 1))
        return ulm__fail(diag, ULM_ERR_FORMAT, "NBAO", o.offset + 8, "control share %g is outside [0, 1]", f->share);
    for (uint32_t i = 0; i < k; i++) {
        const uint8_t *p = o.data + NBAO_HEAD + (size_t)i * NBAO_OFFER;
        f->offer[i].cost = rdf64(p);
        f->offer[i].uplift = rdf64(p + 8);
        f->prior[i] = rdf64(p + 16);
        uint32_t src = ulm__rd32(p + 24);
        f->from_campaign[i] = (int)src;
        if (!(f->offer[i].cost >= 0 && isfinite(f->offer[i].cost)) || !(f->offer[i].uplift >= -1 && f->offer[i].uplift <= 1) ||
            !(f->prior[i] >= -1 && f->prior[i] <= 1) || src > 1)
            return ulm__fail(diag, ULM_ERR_FORMAT, "NBAO", o.offset + (p - o.data),
                             "offer %u: cost %g must be finite and >= 0, uplift %g and prior %g in [-1, 1], source %u 0 or 1",
                             i, f->offer[i].cost, f->offer[i].uplift, f->prior[i], src);
    }
    if (ids.dtype != ULM_DT_STRTAB || ulm_strtab_view(ids.data, ids.size, &f->ids) != ULM_OK || f->ids.count != k)
        return ulm__fail(diag, ULM_ERR_FORMAT, "NBAI", ids.offset, "NBAI must be a string table of %u offer ids", k);
    return ULM_OK;
}

void ulm__offers_free(ulm_model *m) {
    if (m->offers) ulm__free(m->alloc, m->offers, sizeof *m->offers);
    m->offers = NULL;
}

uint32_t ulm_model_offer_count(const ulm_model *m) { return m && m->offers ? m->offers->k : 0; }

const ulm_nba_offer *ulm_model_offers(const ulm_model *m) { return m && m->offers ? m->offers->offer : NULL; }

const char *ulm_model_offer_id(const ulm_model *m, uint32_t o, uint32_t *len) {
    if (!m || !m->offers || o >= m->offers->k) return NULL;
    return ulm_strtab_get(&m->offers->ids, o, len);
}

double ulm_model_offer_prior(const ulm_model *m, uint32_t o, int *from_campaign) {
    if (!m || !m->offers || o >= m->offers->k) {
        if (from_campaign) *from_campaign = 0;
        return NAN;
    }
    if (from_campaign) *from_campaign = m->offers->from_campaign[o];
    return m->offers->prior[o];
}

void ulm_model_offer_control(const ulm_model *m, double *share, uint64_t *seed) {
    if (share) *share = m && m->offers ? m->offers->share : 0;
    if (seed) *seed = m && m->offers ? m->offers->seed : 0;
}
