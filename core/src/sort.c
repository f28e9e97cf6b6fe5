/* sort.c: ranking helpers with no hidden state (qsort has no context argument in C11). */
#include "ulm_impl.h"

void ulm__merge_order(uint32_t *idx, size_t n, uint32_t *tmp, int (*before)(const void *ctx, uint32_t a, uint32_t b),
                      const void *ctx) {
    /* Bottom-up merge sort: O(n log n), stable, no recursion, deterministic on every build. */
    uint32_t *src = idx, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = before(ctx, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

/* a ranks before b: higher score first, then lower index. */
static int score_before(const void *ctx, uint32_t a, uint32_t b) {
    const float *score = ctx;
    return score[a] > score[b] || (score[a] == score[b] && a < b);
}

void ulm__rank_by_score(uint32_t *idx, size_t n, const float *score, uint32_t *tmp) {
    ulm__merge_order(idx, n, tmp, score_before, score);
}
