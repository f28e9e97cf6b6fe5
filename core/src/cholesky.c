/* cholesky.c: the small dense SPD solve used for ALS fold-in (scoring) and by the ALS trainer. */
#include <math.h>

#include "ulm_impl.h"

int ulm__chol_factor(float *a, size_t n) {
    for (size_t j = 0; j < n; j++) {
        float d = a[j * n + j] - ulm__dot8(a + j * n, a + j * n, j);
        if (!(d > 0) || !isfinite(d)) return 1;
        d = sqrtf(d);
        a[j * n + j] = d;
        float inv = 1.0f / d;
        for (size_t i = j + 1; i < n; i++) a[i * n + j] = (a[i * n + j] - ulm__dot8(a + i * n, a + j * n, j)) * inv;
    }
    return 0;
}

void ulm__chol_subst(const float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (b[i] - ulm__dot8(a + i * n, b, i)) / a[i * n + i];
    for (size_t i = n; i-- > 0;) {
        float s = b[i];
        for (size_t l = i + 1; l < n; l++) s -= a[l * n + i] * b[l];
        b[i] = s / a[i * n + i];
    }
}
