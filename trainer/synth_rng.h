/* synth_rng.h: random numbers for `ulm synth`: seeded streams and the samplers its model draws from.
 *
 * Every stream is a xoshiro256** generator seeded through splitmix64 from (seed, stream id), so each
 * user gets its own stream and the output never depends on how work is spread over threads.
 * Samplers use only the bits of their own stream and libm's log/exp/cos/sqrt, so a given binary
 * produces the same numbers on every run.
 *
 *     ulm_rng r;
 *     ulm_rng_seed(&r, 42, 7);                       // stream 7 of seed 42
 *     double x = ulm_rng_exp(&r);                    // Exp(1)
 *     ulm_alias a;
 *     if (ulm_alias_build(&a, weights, n) == ULM_OK) {
 *         uint32_t k = ulm_alias_sample(&a, &r);     // k with probability weights[k] / sum
 *         ulm_alias_free(&a);
 *     }
 */
#ifndef ULM_TRAINER_SYNTH_RNG_H
#define ULM_TRAINER_SYNTH_RNG_H

#include <stdint.h>

#include "ulm/ulm_status.h"

/* One xoshiro256** stream (Blackman & Vigna 2018). Plain data: copy it to fork a stream. */
typedef struct ulm_rng {
    uint64_t s[4];
} ulm_rng;

/* Advances a splitmix64 state and returns its next output (used for seeding and hashing). */
static inline uint64_t ulm_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seeds r as stream `stream` of `seed`; distinct (seed, stream) pairs give unrelated streams. */
void ulm_rng_seed(ulm_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t ulm__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Next 64 random bits. */
static inline uint64_t ulm_rng_next(ulm_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = ulm__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ulm__rotl(s[3], 45);
    return out;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double ulm_rng_unif(ulm_rng *r) { return (double)(ulm_rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n) for n >= 1 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32). */
static inline uint32_t ulm_rng_below(ulm_rng *r, uint32_t n) {
    return (uint32_t)(((ulm_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability p. */
static inline int ulm_rng_bern(ulm_rng *r, double p) { return ulm_rng_unif(r) < p; }

/* Exp(1): -log(1 - u), never infinite. */
double ulm_rng_exp(ulm_rng *r);
/* Geometric draw as ulm_rng_geometric, with neg_log_q = -log(1 - p) computed once by the caller. */
uint32_t ulm_rng_geometric_q(ulm_rng *r, double neg_log_q);
/* Standard normal by Box-Muller, one draw per call (no cached second value, so streams stay simple). */
double ulm_rng_normal(ulm_rng *r);
/* Number of failures before the first success of Bernoulli(p) trials, 0 < p <= 1; mean (1-p)/p. */
uint32_t ulm_rng_geometric(ulm_rng *r, double p);

/* One slot of an alias table: keep k with probability prob, else take alias. Interleaved so that
 * a draw touches one cache line. */
typedef struct ulm_alias_slot {
    float prob;
    uint32_t alias;
} ulm_alias_slot;

/* A Walker/Vose alias table: O(1) draws from a fixed discrete distribution over [0, n). */
typedef struct ulm_alias {
    uint32_t n;
    ulm_alias_slot *slot;
} ulm_alias;

/* Builds a table for weights w[0..n) (finite, >= 0, sum > 0; n >= 1). Allocates; ULM_ERR_MISUSE
 * for bad weights, ULM_ERR_NOMEM on allocation failure (then a is empty and free is a no-op). */
ulm_status ulm_alias_build(ulm_alias *a, const double *w, uint32_t n);
/* Frees the table; a zeroed or already freed table is a no-op. */
void ulm_alias_free(ulm_alias *a);

/* One draw: the slot from the high 32 bits, the coin from 24 of the low bits. */
static inline uint32_t ulm_alias_sample(const ulm_alias *a, ulm_rng *r) {
    uint64_t x = ulm_rng_next(r);
    uint32_t k = (uint32_t)(((x >> 32) * (uint64_t)a->n) >> 32);
    float u = (float)(x & 0xFFFFFF) * 0x1.0p-24f;
    return u < a->slot[k].prob ? k : a->slot[k].alias;
}

#endif
