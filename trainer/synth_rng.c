/* synth_rng.c: seeding, the continuous samplers and alias-table construction for `ulm synth`. */
#include "synth_rng.h"

#include <math.h>
#include <stdlib.h>

void ulm_rng_seed(ulm_rng *r, uint64_t seed, uint64_t stream) {
    /* Mix the stream id through its own splitmix step first so that neighbouring streams
     * (user 7, user 8) start from unrelated states. */
    uint64_t h = stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull;
    uint64_t x = seed ^ ulm_splitmix64(&h);
    for (int i = 0; i < 4; i++)
        r->s[i] = ulm_splitmix64(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1; /* the all-zero state is a fixed point */
}

/* 1 - u lies in (0, 1] exactly, and log is cheaper than log1p: this runs once per event. */
double ulm_rng_exp(ulm_rng *r) { return -log(1.0 - ulm_rng_unif(r)); }

double ulm_rng_normal(ulm_rng *r) {
    double u1 = 1.0 - ulm_rng_unif(r); /* (0, 1]: log stays finite */
    double u2 = ulm_rng_unif(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint32_t ulm_rng_geometric_q(ulm_rng *r, double neg_log_q) {
    if (!(neg_log_q < INFINITY)) return 0;
    double g = floor(ulm_rng_exp(r) / neg_log_q);
    return g > 4.0e9 ? 4000000000u : (uint32_t)g;
}

uint32_t ulm_rng_geometric(ulm_rng *r, double p) {
    if (p >= 1.0) return 0;
    return ulm_rng_geometric_q(r, -log1p(-p));
}

ulm_status ulm_alias_build(ulm_alias *a, const double *w, uint32_t n) {
    a->n = 0;
    a->slot = NULL;
    if (n == 0) return ULM_ERR_MISUSE;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!(w[i] >= 0) || !isfinite(w[i])) return ULM_ERR_MISUSE;
        sum += w[i];
    }
    if (!(sum > 0) || !isfinite(sum)) return ULM_ERR_MISUSE;
    double *scaled = malloc(sizeof(double) * n);
    uint32_t *small = malloc(sizeof(uint32_t) * n), *large = malloc(sizeof(uint32_t) * n);
    a->slot = malloc(sizeof(ulm_alias_slot) * n);
    if (!scaled || !small || !large || !a->slot) {
        free(scaled);
        free(small);
        free(large);
        ulm_alias_free(a);
        return ULM_ERR_NOMEM;
    }
    /* Vose's method: slots below average weight are topped up by slots above it. */
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        scaled[i] = w[i] * n / sum;
        if (scaled[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[nl - 1];
        a->slot[s].prob = (float)scaled[s];
        a->slot[s].alias = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* Whatever is left is 1 up to rounding. */
    while (nl) {
        uint32_t l = large[--nl];
        a->slot[l].prob = 1.0f;
        a->slot[l].alias = l;
    }
    while (ns) {
        uint32_t s = small[--ns];
        a->slot[s].prob = 1.0f;
        a->slot[s].alias = s;
    }
    a->n = n;
    free(scaled);
    free(small);
    free(large);
    return ULM_OK;
}

void ulm_alias_free(ulm_alias *a) {
    free(a->slot);
    a->slot = NULL;
    a->n = 0;
}
