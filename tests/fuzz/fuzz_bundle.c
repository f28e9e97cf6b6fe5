/* fuzz_bundle.c: libFuzzer entry point for the model bundle reader. Any input must load or fail
 * with a status; on success every accessor and a top-K must run without touching bad memory.
 * Each input is tried twice: as it is (checksums catch nearly every mutation) and with all CRCs
 * recomputed, so that mutations also reach the structural and semantic checks behind them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ulm/ulm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* Recomputes every section CRC that lies inside the buffer, then the table and header CRCs. */
static void repair_crcs(uint8_t *b, size_t n) {
    if (n < 64) return;
    uint64_t table = rd64(b + 32);
    uint32_t count = rd32(b + 40);
    if (table > n || count > (n - table) / 40) return;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = b + table + 40ull * i;
        uint64_t off = rd64(e), size = rd64(e + 8);
        if (off <= n && size <= n - off) wr32(e + 36, ulm_crc32c(0, b + off, (size_t)size));
    }
    wr32(b + 56, ulm_crc32c(0, b + table, 40ull * count));
    wr32(b + 60, ulm_crc32c(0, b, 60));
}

static int try_load(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try_load(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    repair_crcs(copy, size);
    try_load(copy, size);
    free(copy);
    return 0;
}

/* Loads one input and exercises the model when it loads. */
static int try_load(const uint8_t *data, size_t size) {
    ulm_model *m = NULL;
    ulm_diag d;
    ulm_load_opts o = ulm_load_opts_init();
    o.flags |= ULM_LOAD_BORROW;
    ulm_status s = ulm_model_load(data, size, &o, &m, &d);
    if (s != ULM_OK) {
        if (m) abort(); /* the contract: *out is NULL after a failure */
        if (strlen(d.message) == 0) abort(); /* every failure explains itself */
        return 0;
    }
    uint32_t n = ulm_model_item_count(m), len, items[16];
    float scores[16];
    for (uint32_t i = 0; i < n && i < 64; i++) {
        ulm_model_item_id(m, i, &len);
        ulm_model_item_name(m, i, &len);
        (void)ulm_model_item_price(m, i);
    }
    for (uint32_t u = 0; u < ulm_model_user_count(m) && u < 64; u++) {
        uint32_t nh;
        const uint32_t *h = ulm_model_user_history(m, u, &nh);
        ulm_recs_topk(m, h, nh, 16, items, scores, &len);
    }
    ulm_recs_topk(m, NULL, 0, 16, items, scores, &len);
    /* The bundle's recommender, with explanations, on a few histories (user table or made up). */
    ulm_recommend_opts ro = ulm_recommend_opts_init();
    ro.k = 16;
    ro.explain = 2;
    uint32_t because[32], made[4] = {0, 1, n / 2, n ? n - 1 : 0};
    size_t sz = ulm_recommend_scratch_size(m, &ro, 64);
    void *scratch = malloc(sz);
    for (uint32_t u = 0; scratch && u < ulm_model_user_count(m) && u < 8; u++) {
        uint32_t nh;
        const uint32_t *h = ulm_model_user_history(m, u, &nh);
        if (nh <= 64) ulm_recommend(m, h, nh, &ro, scratch, sz, items, scores, because, NULL, &len);
    }
    if (scratch) ulm_recommend(m, made, n ? 4 : 0, &ro, scratch, sz, items, scores, because, NULL, &len);
    free(scratch);
    ulm_model_free(m);
    return 0;
}
