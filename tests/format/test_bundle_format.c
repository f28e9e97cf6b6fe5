/* test_bundle_format.c: the container and model bundle against damage: truncation at every offset,
 * a bit flip in every header bit, in the section table, in every section and in padding; future
 * versions; unknown sections. Each case must give its specific status and never crash. */
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm_impl.h"
#include "ulm_test.h"

/* Builds a small but complete model bundle: 5 items (names, prices, popularity), 3 users. */
static int make_bundle(uint8_t **buf, size_t *len, uint16_t major, const char *extra_tag, uint16_t extra_flags) {
    ulm_writer *w;
    if (ulm_writer_new(ULM_KIND_MODEL, NULL, &w) != ULM_OK) return 1;
    const char *ids[] = {"A1", "B2", "C3", "D4", "E5"}, *names[] = {"apple", "bread", "", "dates", "eggs"};
    uint32_t lens[] = {2, 2, 2, 2, 2}, nlens[] = {5, 5, 0, 5, 4};
    uint8_t *t;
    size_t tl;
    int bad = 0;
    bad |= ulm_strtab_build(ids, lens, 5, &t, &tl) != ULM_OK;
    bad |= ulm_writer_section(w, "ITID", ULM_DT_STRTAB, 5, 0, 1, ULM_SECTION_REQUIRED, t, tl) != ULM_OK;
    free(t);
    bad |= ulm_strtab_build(names, nlens, 5, &t, &tl) != ULM_OK;
    bad |= ulm_writer_section(w, "ITNM", ULM_DT_STRTAB, 5, 0, 1, 0, t, tl) != ULM_OK;
    free(t);
    float pop[5] = {3.0f, 5.0f, 5.0f, 0.5f, 1.0f}, price[5] = {1.5f, 2.0f, 0.0f, 9.0f, 3.25f};
    bad |= ulm_writer_section(w, "ITPR", ULM_DT_F32, 5, 0, 1, 0, price, sizeof price) != ULM_OK;
    bad |= ulm_writer_section(w, "POPR", ULM_DT_F32, 5, 0, 1, ULM_SECTION_REQUIRED, pop, sizeof pop) != ULM_OK;
    const char *users[] = {"u1", "u2", "u3"};
    uint32_t ulens[] = {2, 2, 2}, off[4] = {0, 2, 2, 3}, hist[3] = {1, 2, 0};
    bad |= ulm_strtab_build(users, ulens, 3, &t, &tl) != ULM_OK;
    bad |= ulm_writer_section(w, "USID", ULM_DT_STRTAB, 3, 0, 1, 0, t, tl) != ULM_OK;
    free(t);
    bad |= ulm_writer_section(w, "USOF", ULM_DT_U32, 4, 0, 1, 0, off, sizeof off) != ULM_OK;
    bad |= ulm_writer_section(w, "USIT", ULM_DT_U32, 3, 0, 1, 0, hist, sizeof hist) != ULM_OK;
    if (extra_tag) bad |= ulm_writer_section(w, extra_tag, ULM_DT_BYTES, 0, 0, 1, extra_flags, "xyz", 3) != ULM_OK;
    bad |= ulm_writer_meta(w, "model.recs", "pop") != ULM_OK;
    bad |= ulm_writer_meta(w, "created.by", "test") != ULM_OK;
    ulm_writer_set_version(w, major, 0);
    bad |= ulm_writer_finish(w, buf, len) != ULM_OK;
    ulm_writer_free(w);
    return bad;
}

/* Loads a damaged copy and returns the status (the model, if any, is freed). */
static ulm_status load(const uint8_t *buf, size_t len, ulm_diag *d) {
    ulm_model *m = (ulm_model *)1;
    ulm_status s = ulm_model_load(buf, len, NULL, &m, d);
    if (s != ULM_OK && m != NULL) return (ulm_status)999; /* *out must be NULL after a failure */
    ulm_model_free(m);
    return s;
}

ULM_TEST(format_round_trip) {
    uint8_t *buf;
    size_t len;
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR, NULL, 0), 0);
    ASSERT_EQ_INT(len % 64, 0);
    ASSERT_TRUE(buf[0] == 0x89 && buf[1] == 'U' && buf[2] == 'L' && buf[3] == 'M');
    ulm_model *m;
    ulm_diag d;
    ASSERT_STATUS(ulm_model_load(buf, len, NULL, &m, &d), ULM_OK);
    ASSERT_EQ_INT(ulm_model_item_count(m), 5);
    ASSERT_EQ_INT(ulm_model_user_count(m), 3);
    ASSERT_STR_EQ(ulm_model_meta(m, "model.recs"), "pop");
    ASSERT_TRUE(ulm_model_meta(m, "nope") == NULL);
    uint32_t idx, n;
    ASSERT_STATUS(ulm_model_item_find(m, "D4", 2, &idx), ULM_OK);
    ASSERT_EQ_INT(idx, 3);
    ASSERT_STATUS(ulm_model_item_find(m, "Z9", 2, &idx), ULM_ERR_NOT_FOUND);
    ASSERT_NEAR(ulm_model_item_price(m, 4), 3.25, 0);
    const char *name = ulm_model_item_name(m, 3, &n);
    ASSERT_TRUE(n == 5 && memcmp(name, "dates", 5) == 0);
    ASSERT_STATUS(ulm_model_user_find(m, "u1", 2, &idx), ULM_OK);
    const uint32_t *h = ulm_model_user_history(m, idx, &n);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_INT(h[0], 1);
    ASSERT_EQ_INT(h[1], 2);
    /* Top-K: B2 and C3 tie at 5.0 (lower index first), then A1, E5, D4; u1 bought B2 and C3. */
    uint32_t items[10];
    float scores[10];
    ASSERT_STATUS(ulm_recs_topk(m, NULL, 0, 10, items, scores, &n), ULM_OK);
    ASSERT_EQ_INT(n, 5);
    ASSERT_EQ_INT(items[0], 1);
    ASSERT_EQ_INT(items[1], 2);
    ASSERT_EQ_INT(items[2], 0);
    ASSERT_EQ_INT(items[3], 4);
    ASSERT_EQ_INT(items[4], 3);
    ASSERT_STATUS(ulm_recs_topk(m, h, 2, 2, items, scores, &n), ULM_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_INT(items[0], 0);
    ASSERT_NEAR(scores[0], 3.0, 0);
    ASSERT_EQ_INT(items[1], 4);
    ASSERT_STATUS(ulm_recs_topk(m, h, 2, 0, items, scores, &n), ULM_OK);
    ASSERT_EQ_INT(n, 0);
    ulm_model_free(m);
    /* The writer is deterministic: the same input gives the same bytes. */
    uint8_t *buf2;
    size_t len2;
    ASSERT_EQ_INT(make_bundle(&buf2, &len2, ULM_FORMAT_MAJOR, NULL, 0), 0);
    ASSERT_TRUE(len == len2 && memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    return 0;
}

ULM_TEST(format_truncation_every_offset) {
    uint8_t *buf;
    size_t len;
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR, NULL, 0), 0);
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact-size copy so ASan sees any overread */
        memcpy(copy, buf, n);
        ulm_diag d;
        ulm_status s = load(copy, n, &d);
        ulm_status want = n < 8 ? ULM_ERR_FORMAT : ULM_ERR_TRUNCATED;
        if (s != want) fprintf(stderr, "truncated to %zu bytes: %s (%s)\n", n, ulm_status_name(s), d.message);
        ASSERT_EQ_INT(s, want);
        free(copy);
    }
    free(buf);
    return 0;
}

ULM_TEST(format_header_bit_flips) {
    uint8_t *buf;
    size_t len;
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR, NULL, 0), 0);
    for (size_t byte = 0; byte < ULM_HEADER_SIZE; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[byte] ^= (uint8_t)(1u << bit);
            ulm_diag d;
            ulm_status s = load(buf, len, &d);
            /* The magic says "not ours"; every other header byte is covered by the header CRC. */
            ulm_status want = byte < 8 ? ULM_ERR_FORMAT : ULM_ERR_CHECKSUM;
            if (s != want) fprintf(stderr, "flip byte %zu bit %d: %s (%s)\n", byte, bit, ulm_status_name(s), d.message);
            ASSERT_EQ_INT(s, want);
            buf[byte] ^= (uint8_t)(1u << bit);
        }
    }
    free(buf);
    return 0;
}

ULM_TEST(format_body_bit_flips) {
    uint8_t *buf;
    size_t len;
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR, NULL, 0), 0);
    ulm_bundle *b;
    ASSERT_STATUS(ulm_bundle_open(buf, len, ULM_KIND_MODEL, 0, NULL, &b, NULL), ULM_OK);
    uint32_t count = ulm_bundle_section_count(b);
    ulm_section sec[16];
    ASSERT_TRUE(count <= 16);
    for (uint32_t i = 0; i < count; i++) ulm_bundle_section_at(b, i, &sec[i]);
    ulm_bundle_close(b);
    /* Every byte after the header: inside a section the section CRC fails (naming the section),
     * in the table the table CRC fails, in padding the zero-padding rule fails. */
    for (size_t byte = ULM_HEADER_SIZE; byte < len; byte++) {
        ulm_status want = ULM_ERR_FORMAT;
        const char *tag = "";
        if (byte < ULM_HEADER_SIZE + (size_t)count * ULM_SECTION_ENTRY_SIZE) want = ULM_ERR_CHECKSUM;
        for (uint32_t i = 0; i < count; i++)
            if (byte >= sec[i].offset && byte < sec[i].offset + sec[i].size) {
                want = ULM_ERR_CHECKSUM;
                tag = sec[i].tag;
            }
        int bit = (int)(byte % 8);
        buf[byte] ^= (uint8_t)(1u << bit);
        ulm_diag d;
        ulm_status s = load(buf, len, &d);
        if (s != want) fprintf(stderr, "flip byte %zu: %s (%s)\n", byte, ulm_status_name(s), d.message);
        ASSERT_EQ_INT(s, want);
        if (tag[0]) ASSERT_STR_EQ(d.section, tag);
        buf[byte] ^= (uint8_t)(1u << bit);
    }
    free(buf);
    return 0;
}

ULM_TEST(format_versions_and_unknown_sections) {
    uint8_t *buf;
    size_t len;
    ulm_diag d;
    /* A newer major version is refused with ERR_VERSION before anything else is read. */
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR + 1, NULL, 0), 0);
    ASSERT_STATUS(load(buf, len, &d), ULM_ERR_VERSION);
    ASSERT_TRUE(strstr(d.message, "newer") != NULL);
    free(buf);
    /* An unknown optional section is skipped; an unknown required one is ERR_VERSION. */
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR, "ZZZZ", 0), 0);
    ASSERT_STATUS(load(buf, len, &d), ULM_OK);
    free(buf);
    ASSERT_EQ_INT(make_bundle(&buf, &len, ULM_FORMAT_MAJOR, "ZZZZ", ULM_SECTION_REQUIRED), 0);
    ASSERT_STATUS(load(buf, len, &d), ULM_ERR_VERSION);
    ASSERT_STR_EQ(d.section, "ZZZZ");
    free(buf);
    /* An event store is not a model bundle. */
    ulm_writer *w;
    ASSERT_STATUS(ulm_writer_new(ULM_KIND_STORE, NULL, &w), ULM_OK);
    ASSERT_STATUS(ulm_writer_finish(w, &buf, &len), ULM_OK);
    ulm_writer_free(w);
    ASSERT_STATUS(load(buf, len, &d), ULM_ERR_FORMAT);
    ASSERT_TRUE(strstr(d.message, "event store") != NULL);
    free(buf);
    return 0;
}

ULM_TEST(format_semantic_checks) {
    /* Well-formed container, wrong contents: histories naming items that do not exist. */
    ulm_writer *w;
    ASSERT_STATUS(ulm_writer_new(ULM_KIND_MODEL, NULL, &w), ULM_OK);
    const char *ids[] = {"A", "A"};
    uint32_t lens[] = {1, 1};
    uint8_t *t, *buf;
    size_t tl, len;
    ASSERT_STATUS(ulm_strtab_build(ids, lens, 2, &t, &tl), ULM_OK);
    ASSERT_STATUS(ulm_writer_section(w, "ITID", ULM_DT_STRTAB, 2, 0, 1, ULM_SECTION_REQUIRED, t, tl), ULM_OK);
    free(t);
    float pop[2] = {1, 2};
    ASSERT_STATUS(ulm_writer_section(w, "POPR", ULM_DT_F32, 2, 0, 1, ULM_SECTION_REQUIRED, pop, 8), ULM_OK);
    ASSERT_STATUS(ulm_writer_finish(w, &buf, &len), ULM_OK);
    ulm_writer_free(w);
    ulm_diag d;
    ASSERT_STATUS(load(buf, len, &d), ULM_ERR_FORMAT); /* duplicate item id */
    ASSERT_STR_EQ(d.section, "ITID");
    free(buf);
    /* A non-finite score is refused by deep loading. */
    ASSERT_STATUS(ulm_writer_new(ULM_KIND_MODEL, NULL, &w), ULM_OK);
    ids[1] = "B";
    ASSERT_STATUS(ulm_strtab_build(ids, lens, 2, &t, &tl), ULM_OK);
    ASSERT_STATUS(ulm_writer_section(w, "ITID", ULM_DT_STRTAB, 2, 0, 1, ULM_SECTION_REQUIRED, t, tl), ULM_OK);
    free(t);
    pop[1] = NAN;
    ASSERT_STATUS(ulm_writer_section(w, "POPR", ULM_DT_F32, 2, 0, 1, ULM_SECTION_REQUIRED, pop, 8), ULM_OK);
    ASSERT_STATUS(ulm_writer_finish(w, &buf, &len), ULM_OK);
    ulm_writer_free(w);
    ASSERT_STATUS(load(buf, len, &d), ULM_ERR_FORMAT);
    ASSERT_STR_EQ(d.section, "POPR");
    free(buf);
    return 0;
}
