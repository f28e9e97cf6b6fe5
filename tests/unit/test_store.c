/* test_store.c: the event store: round trip, determinism, and a reader that refuses every
 * truncated, bit-flipped or semantically broken store with an error (and never crashes). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "store.h"
#include "ulm_test.h"

static const char *const sample_csv = "user,item,time,type,qty,price,order,description,query\n"
                                      "u1,i1,2010-12-01T08:26:00Z,purchase,2,2.5,o1,Red mug,\n"
                                      "u1,i2,2010-12-01T08:27:00Z,view,,,,Blue cup,\n"
                                      ",i1,2010-12-01T08:28:00Z,cart,1,,,Red mug (new),\n"
                                      "u2,,2010-12-01T08:29:00Z,search,,,,,\"mugs, red\"\n"
                                      "u2,i3,2010-12-01T08:30:00Z,return,3,1.25,o2,,\n"
                                      "u3,i\xc3\xa9,2010-12-02,purchase,1,0.5,o3,Caf\xc3\xa9 cup,\n";

/* Ingests sample_csv into ing. */
static ulm_status load_sample(ulm_ingest *ing) {
    ulm_ingest_init(ing, NULL);
    ulm_diag d;
    return ulm_ingest_buffer(ing, "sample.csv", sample_csv, strlen(sample_csv), strlen(sample_csv), &d);
}

/* Encodes the sample into *buf. */
static ulm_status sample_store(uint8_t **buf, size_t *len) {
    ulm_ingest ing;
    ulm_status s = load_sample(&ing);
    if (s == ULM_OK) s = ulm_store_encode(&ing.ev, ing.etext, "[{\"path\": \"sample.csv\"}]", NULL, buf, len, NULL);
    ulm_ingest_free(&ing);
    return s;
}

ULM_TEST(store_round_trip) {
    ulm_ingest ing;
    ASSERT_STATUS(load_sample(&ing), ULM_OK);
    ASSERT_EQ_INT(ing.kept, 6);
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(ulm_store_encode(&ing.ev, ing.etext, "[1]", NULL, &buf, &len, NULL), ULM_OK);
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_store_extra x;
    ulm_diag d;
    ASSERT_STATUS(ulm_store_decode(buf, len, &ev, &x, &d), ULM_OK);
    ASSERT_EQ_INT(ev.n, ing.ev.n);
    for (size_t i = 0; i < ev.n; i++) {
        ASSERT_EQ_INT(ev.user[i], ing.ev.user[i]);
        ASSERT_EQ_INT(ev.item[i], ing.ev.item[i]);
        ASSERT_EQ_INT(ev.order[i], ing.ev.order[i]);
        ASSERT_EQ_INT(ev.query[i], ing.ev.query[i]);
        ASSERT_EQ_INT(ev.time[i], ing.ev.time[i]);
        ASSERT_EQ_INT(ev.type[i], ing.ev.type[i]);
        ASSERT_TRUE(memcmp(&ev.qty[i], &ing.ev.qty[i], 4) == 0);
        ASSERT_TRUE(memcmp(&ev.price[i], &ing.ev.price[i], 8) == 0);
        ASSERT_EQ_INT(x.event_text[i], ing.etext[i]);
    }
    ASSERT_EQ_INT(ev.users.n, 3);
    ASSERT_EQ_INT(ev.items.n, ing.ev.items.n);
    for (uint32_t i = 0; i < ev.items.n; i++) {
        uint32_t a, b;
        const char *sa = ulm_dict_str(&ev.items, i, &a), *sb = ulm_dict_str(&ing.ev.items, i, &b);
        ASSERT_TRUE(a == b && memcmp(sa, sb, a) == 0);
        sa = ulm_events_item_text(&ev, i, &a);
        sb = ulm_events_item_text(&ing.ev, i, &b);
        ASSERT_TRUE(a == b && (a == 0 || memcmp(sa, sb, a) == 0));
    }
    uint32_t tl;
    const char *t = ulm_events_item_text(&ev, ulm_dict_find(&ev.items, "i1", 2), &tl);
    ASSERT_TRUE(t && tl == 7 && memcmp(t, "Red mug", 7) == 0); /* the first text seen wins */
    ASSERT_EQ_INT(ev.user[2], ULM_NONE);
    ASSERT_EQ_INT(ev.item[3], ULM_NONE);
    ASSERT_TRUE(isnan(ev.price[1]));
    ASSERT_STR_EQ(x.sources, "[1]");
    ulm_store_extra_free(&x);
    ulm_events_free(&ev);
    free(buf);
    ulm_ingest_free(&ing);
    return 0;
}

ULM_TEST(store_deterministic_bytes) {
    uint8_t *a, *b;
    size_t al, bl;
    ASSERT_STATUS(sample_store(&a, &al), ULM_OK);
    ASSERT_STATUS(sample_store(&b, &bl), ULM_OK);
    ASSERT_EQ_INT(al, bl);
    ASSERT_TRUE(memcmp(a, b, al) == 0);
    free(a);
    free(b);
    return 0;
}

ULM_TEST(store_rejects_truncation_and_bit_flips) {
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(sample_store(&buf, &len), ULM_OK);
    uint8_t *copy = malloc(len);
    ASSERT_TRUE(copy != NULL);
    for (size_t cut = 0; cut < len; cut++) {
        ulm_events ev;
        ulm_events_init(&ev);
        memcpy(copy, buf, cut);
        ulm_status s = ulm_store_decode(copy, cut, &ev, NULL, NULL);
        if (s == ULM_OK) {
            fprintf(stderr, "store truncated to %zu of %zu bytes was accepted\n", cut, len);
            return 1;
        }
        ASSERT_EQ_INT(ev.n, 0);
    }
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, buf, len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        ulm_events ev;
        ulm_events_init(&ev);
        ulm_diag d;
        ulm_status s = ulm_store_decode(copy, len, &ev, NULL, &d);
        if (s == ULM_OK) {
            fprintf(stderr, "store with bit %zu of byte %zu flipped was accepted\n", i % 8, i);
            return 1;
        }
        ASSERT_TRUE(d.message[0] != 0);
        ulm_events_free(&ev);
    }
    free(copy);
    free(buf);
    return 0;
}

/* Rebuilds a store through the container writer with one change: section tag replaced by
 * data[0..size) with rows (data NULL: dropped), or a metadata value replaced, or a section added. */
typedef struct edit {
    const char *tag;
    const void *data;
    uint64_t size;
    uint32_t rows;
    bool drop;
    const char *meta_key, *meta_value;
    const char *add_tag;
} edit;

static ulm_status rebuild(const uint8_t *buf, size_t len, const edit *e, uint8_t **out, size_t *out_len) {
    ulm_bundle *b;
    ulm_status s = ulm_bundle_open(buf, len, ULM_KIND_STORE, 0, NULL, &b, NULL);
    if (s != ULM_OK) return s;
    ulm_writer *w;
    ulm_writer_new(ULM_KIND_STORE, NULL, &w);
    for (uint32_t i = 0; i < ulm_bundle_meta_count(b); i++) {
        const char *k, *v;
        ulm_bundle_meta_at(b, i, &k, &v);
        ulm_writer_meta(w, k, e->meta_key && strcmp(k, e->meta_key) == 0 ? e->meta_value : v);
    }
    for (uint32_t i = 0; i < ulm_bundle_section_count(b); i++) {
        ulm_section sec;
        ulm_bundle_section_at(b, i, &sec);
        if (strcmp(sec.tag, "META") == 0) continue;
        if (e->tag && strcmp(sec.tag, e->tag) == 0) {
            if (e->drop) continue;
            ulm_writer_section(w, sec.tag, (ulm_dtype)sec.dtype, e->rows, sec.cols, sec.version, sec.flags, e->data,
                               e->size);
        } else {
            ulm_writer_section(w, sec.tag, (ulm_dtype)sec.dtype, sec.rows, sec.cols, sec.version, sec.flags, sec.data,
                               sec.size);
        }
    }
    if (e->add_tag) ulm_writer_section(w, e->add_tag, ULM_DT_U8, 1, 1, 1, ULM_SECTION_REQUIRED, "x", 1);
    s = ulm_writer_finish(w, out, out_len);
    ulm_writer_free(w);
    ulm_bundle_close(b);
    return s;
}

/* Decodes an edited store and checks the status and the section the diagnostic names. */
static int expect_refused(const uint8_t *buf, size_t len, const edit *e, ulm_status want, const char *section) {
    uint8_t *ed;
    size_t el;
    ASSERT_STATUS(rebuild(buf, len, e, &ed, &el), ULM_OK);
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_diag d;
    ulm_status s = ulm_store_decode(ed, el, &ev, NULL, &d);
    free(ed);
    if (s != want || strcmp(d.section, section) != 0) {
        fprintf(stderr, "edit of %s: got %s in '%s' (%s), expected %s in '%s'\n",
                e->tag        ? e->tag
                : e->meta_key ? e->meta_key
                              : e->add_tag,
                ulm_status_name(s), d.section, d.message, ulm_status_name(want), section);
        return 1;
    }
    ASSERT_EQ_INT(ev.n, 0);
    return 0;
}

ULM_TEST(store_rejects_semantic_damage) {
    uint8_t *buf;
    size_t len;
    ASSERT_STATUS(sample_store(&buf, &len), ULM_OK);
    ulm_events ev;
    ulm_events_init(&ev);
    ASSERT_STATUS(ulm_store_decode(buf, len, &ev, NULL, NULL), ULM_OK);
    const uint32_t n = (uint32_t)ev.n, ni = ev.items.n;
    uint32_t *col = malloc(n * 4);
    ASSERT_TRUE(col != NULL);
    /* An item index past the dictionary. */
    for (uint32_t i = 0; i < n; i++)
        col[i] = ev.item[i];
    col[n - 1] = ni;
    edit e1 = {.tag = "EITM", .data = col, .size = n * 4, .rows = n};
    if (expect_refused(buf, len, &e1, ULM_ERR_FORMAT, "EITM")) return 1;
    /* A user column one event short. */
    edit e2 = {.tag = "EUSR", .data = ev.user, .size = (n - 1) * 4, .rows = n - 1};
    if (expect_refused(buf, len, &e2, ULM_ERR_FORMAT, "EUSR")) return 1;
    /* An event type outside the frozen enum. */
    uint8_t types[64];
    memcpy(types, ev.type, n);
    types[0] = 9;
    edit e3 = {.tag = "ETYP", .data = types, .size = n, .rows = n};
    if (expect_refused(buf, len, &e3, ULM_ERR_FORMAT, "ETYP")) return 1;
    /* A dictionary with a repeated string would shift every later id. */
    const char *dup[3] = {"i1", "i1", "i3"};
    uint32_t dl[3] = {2, 2, 2};
    uint8_t *tab;
    size_t tl;
    ASSERT_STATUS(ulm_strtab_build(dup, dl, 3, &tab, &tl), ULM_OK);
    edit e4 = {.tag = "DITM", .data = tab, .size = tl, .rows = 3};
    if (expect_refused(buf, len, &e4, ULM_ERR_FORMAT, "DITM")) return 1;
    free(tab);
    /* The event count in META disagreeing with the columns. */
    edit e5 = {.meta_key = "store.events", .meta_value = "7"};
    if (expect_refused(buf, len, &e5, ULM_ERR_FORMAT, "EUSR")) return 1;
    edit e6 = {.meta_key = "store.events", .meta_value = "6x"};
    if (expect_refused(buf, len, &e6, ULM_ERR_FORMAT, "META")) return 1;
    /* A missing column, a missing item-text table, an item text past the texts. */
    edit e7 = {.tag = "EQRY", .drop = true};
    if (expect_refused(buf, len, &e7, ULM_ERR_FORMAT, "EQRY")) return 1;
    edit e8 = {.tag = "ITXT", .drop = true};
    if (expect_refused(buf, len, &e8, ULM_ERR_FORMAT, "ITXT")) return 1;
    for (uint32_t i = 0; i < ni; i++)
        col[i] = ev.item_text[i];
    col[0] = ev.texts.n + 5;
    edit e9 = {.tag = "ITXT", .data = col, .size = ni * 4, .rows = ni};
    if (expect_refused(buf, len, &e9, ULM_ERR_FORMAT, "ITXT")) return 1;
    /* A required section this reader does not know. */
    edit e10 = {.add_tag = "ZZZZ"};
    if (expect_refused(buf, len, &e10, ULM_ERR_VERSION, "ZZZZ")) return 1;
    free(col);
    ulm_events_free(&ev);
    free(buf);
    return 0;
}

ULM_TEST(store_file_write_and_read) {
    ulm_ingest ing;
    ASSERT_STATUS(load_sample(&ing), ULM_OK);
    char path[] = "/tmp/ulm_store_test_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    uint64_t bytes = 0;
    ulm_diag d;
    ASSERT_STATUS(ulm_store_write_ex(path, &ing.ev, ing.etext, NULL, NULL, &bytes, &d), ULM_OK);
    ASSERT_TRUE(bytes > 0);
    ulm_events ev;
    ulm_events_init(&ev);
    ASSERT_STATUS(ulm_store_read(path, &ev, &d), ULM_OK);
    ASSERT_EQ_INT(ev.n, ing.ev.n);
    ulm_events_free(&ev);
    ulm_events_init(&ev);
    ASSERT_STATUS(ulm_store_read("/nonexistent/dir/x.store", &ev, &d), ULM_ERR_IO);
    unlink(path);
    ulm_ingest_free(&ing);
    return 0;
}
