/* cholesky.c: the small dense SPD solve used for ALS fold-in (scoring) and by the ALS trainer.
 * The factor reads only the lower triangle of a; it leaves L there and L^T in the upper triangle,
 * so both substitution passes walk contiguous rows with ulm__dot8 (fixed order: every build
 * gives the same bits). */
#include <math.h>

#include "ulm_impl.h"

int ulm__chol_factor(float *a, size_t n) {
    for (size_t j = 0; j < n; j++) {
        float d = a[j * n + j] - ulm__dot8(a + j * n, a + j * n, j);
        if (!(d > 0) || !isfinite(d)) return 1;
        d = sqrtf(d);
        a[j * n + j] = d;
        float inv = 1.0f / d;
        for (size_t i = j + 1; i < n; i++) {
            float v = (a[i * n + j] - ulm__dot8(a + i * n, a + j * n, j)) * inv;
            a[i * n + j] = v;
            a[j * n + i] = v; /* L^T, for the backward pass */
        }
    }
    return 0;
}

void ulm__chol_subst(const float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (b[i] - ulm__dot8(a + i * n, b, i)) / a[i * n + i];
    for (size_t i = n; i-- > 0;) b[i] = (b[i] - ulm__dot8(a + i * n + i + 1, b + i + 1, n - i - 1)) / a[i * n + i];
}
