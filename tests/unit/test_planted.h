/* test_planted.h: the recommender tests' synthetic interaction matrix (header-only, for the unit tests). */
#ifndef ULM_TEST_PLANTED_H
#define ULM_TEST_PLANTED_H

#include <stdlib.h>

#include "ulm/ulm_rectrain.h"

/* A deterministic pseudo-random matrix of nu users x ni items with a planted block structure: users of
 * group a % groups take items of the same group with probability p_in, others with p_out (an LCG from
 * seed). Weights are 1, or 1..4 when weighted. Non-zero on failure. */
static inline int ulm_test_planted(uint32_t nu, uint32_t ni, uint32_t groups, double p_in, double p_out, uint32_t seed,
                                   int weighted, ulm_imatrix *x) {
    size_t cells = (size_t)nu * ni;
    uint32_t *u = malloc(cells * sizeof *u), *it = malloc(cells * sizeof *it);
    float *w = malloc(cells * sizeof *w);
    size_t n = 0;
    uint32_t s = seed;
    for (uint32_t a = 0; u && it && w && a < nu; a++)
        for (uint32_t b = 0; b < ni; b++) {
            s = s * 1664525u + 1013904223u;
            double r = (s >> 8) / 16777216.0;
            if (r < ((a % groups == b % groups) ? p_in : p_out))
                u[n] = a, it[n] = b, w[n] = weighted ? 1.0f + (float)(s >> 30) : 1.0f, n++;
        }
    int bad = !u || !it || !w || ulm_imatrix_from_triplets(nu, ni, n, u, it, w, NULL, x, NULL) != ULM_OK;
    free(u), free(it), free(w);
    return bad;
}

#endif
