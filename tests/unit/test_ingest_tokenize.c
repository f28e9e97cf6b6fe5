/* test_ingest_tokenize.c: CSV/TSV and JSON Lines tokenizers, column and type recognition. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "ulm_test.h"

/* True when field f holds the text want once decoded. */
static int field_is(const ulm_fieldv *f, const char *want) {
    char scratch[256];
    size_t used = 0;
    uint32_t len;
    if (f->len > sizeof scratch) return 0;
    const char *t = ulm_fieldv_text(f, scratch, &used, &len);
    return t && len == strlen(want) && memcmp(t, want, len) == 0;
}

ULM_TEST(ingest_csv_quotes_newlines_and_lines) {
    const char *s = "a,b,c\r\n"
                    "1,\"x,\"\"y\"\"\",3\r\n"
                    "\n"
                    "2,\"multi\nline\",4\n"
                    "5,6,7";
    ulm_csv c;
    ulm_csv_init(&c, s, strlen(s), ',');
    ulm_fieldv f[8];
    uint32_t nf;
    uint64_t line;
    ulm_row_err err;
    ASSERT_TRUE(ulm_csv_next(&c, f, 8, &nf, &line, &err));
    ASSERT_EQ_INT(nf, 3);
    ASSERT_EQ_INT(line, 1);
    ASSERT_TRUE(field_is(&f[2], "c")); /* CR stripped */
    ASSERT_TRUE(ulm_csv_next(&c, f, 8, &nf, &line, &err));
    ASSERT_EQ_INT(err, ULM_ROW_OK);
    ASSERT_EQ_INT(nf, 3);
    ASSERT_EQ_INT(line, 2);
    ASSERT_EQ_INT(f[1].kind, ULM_FV_CSV_ESC);
    ASSERT_TRUE(field_is(&f[1], "x,\"y\""));
    ASSERT_TRUE(ulm_csv_next(&c, f, 8, &nf, &line, &err)); /* blank line 3 skipped */
    ASSERT_EQ_INT(line, 4);
    ASSERT_TRUE(field_is(&f[1], "multi\nline"));
    ASSERT_TRUE(ulm_csv_next(&c, f, 8, &nf, &line, &err)); /* the quoted newline moved us to line 6 */
    ASSERT_EQ_INT(line, 6);
    ASSERT_EQ_INT(nf, 3);
    ASSERT_TRUE(field_is(&f[2], "7")); /* no final newline */
    ASSERT_TRUE(!ulm_csv_next(&c, f, 8, &nf, &line, &err));
    return 0;
}

ULM_TEST(ingest_csv_field_counts_and_errors) {
    const char *s = "a,b,c\n"
                    "1,2\n"          /* too few */
                    "1,2,3,4,5\n"    /* too many: counted past cap */
                    "1,\"bad\"x,3\n" /* text after closing quote */
                    "1,2,\n"         /* trailing delimiter: 3 fields, last empty */
                    "1,\"open,3\n"   /* unterminated: resumes on the next line */
                    "7,8,9\n";
    ulm_csv c;
    ulm_csv_init(&c, s, strlen(s), ',');
    ulm_fieldv f[4];
    uint32_t nf;
    uint64_t line;
    ulm_row_err err;
    ulm_csv_next(&c, f, 4, &nf, &line, &err);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_EQ_INT(nf, 2);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_EQ_INT(nf, 5);
    ASSERT_EQ_INT(line, 3);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_EQ_INT(err, ULM_ROW_BAD_QUOTE);
    ASSERT_EQ_INT(line, 4);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_EQ_INT(err, ULM_ROW_OK);
    ASSERT_EQ_INT(nf, 3);
    ASSERT_EQ_INT(f[2].len, 0);
    ASSERT_EQ_INT(line, 5);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_EQ_INT(err, ULM_ROW_UNTERMINATED_QUOTE);
    ASSERT_EQ_INT(line, 6);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_EQ_INT(err, ULM_ROW_OK);
    ASSERT_EQ_INT(line, 7);
    ASSERT_TRUE(field_is(&f[0], "7"));
    ASSERT_TRUE(!ulm_csv_next(&c, f, 4, &nf, &line, &err));
    return 0;
}

ULM_TEST(ingest_tsv_and_sniffing) {
    const char *s = "user\titem\ttime\nu1\t\"i 1\"\t2010-12-01\n";
    ASSERT_EQ_INT(ulm_format_sniff(s, strlen(s)), ULM_FMT_TSV);
    ASSERT_EQ_INT(ulm_format_sniff("a,b\tc,d\n", 8), ULM_FMT_CSV);
    ASSERT_EQ_INT(ulm_format_sniff("  \n{\"a\":1}\n", 11), ULM_FMT_JSONL);
    ASSERT_EQ_INT(ulm_format_from_path("x/Events.CSV.gz"), ULM_FMT_CSV);
    ASSERT_EQ_INT(ulm_format_from_path("e.ndjson"), ULM_FMT_JSONL);
    ASSERT_EQ_INT(ulm_format_from_path("e.tsv"), ULM_FMT_TSV);
    ASSERT_EQ_INT(ulm_format_from_path("e.log"), -1);
    ulm_csv c;
    ulm_csv_init(&c, s, strlen(s), '\t');
    ulm_fieldv f[4];
    uint32_t nf;
    uint64_t line;
    ulm_row_err err;
    ulm_csv_next(&c, f, 4, &nf, &line, &err);
    ASSERT_EQ_INT(nf, 3);
    ASSERT_TRUE(ulm_csv_next(&c, f, 4, &nf, &line, &err));
    ASSERT_TRUE(field_is(&f[1], "i 1"));
    return 0;
}

ULM_TEST(ingest_json_line_fields) {
    ulm_jkeys k = {0};
    const char *l1 = "{\"user\": \"u\\u00e9\", \"item\": 42, \"meta\": {\"a\": [1, \"}\"]}, \"q\": null, \"ok\": true}";
    ASSERT_EQ_INT(ulm_json_line(l1, strlen(l1), &k, true, NULL, 0), ULM_ROW_OK);
    ASSERT_EQ_INT(k.n, 5);
    ulm_fieldv f[5];
    ASSERT_EQ_INT(ulm_json_line(l1, strlen(l1), &k, false, f, 5), ULM_ROW_OK);
    ASSERT_TRUE(field_is(&f[0], "u\xc3\xa9"));
    ASSERT_TRUE(field_is(&f[1], "42"));
    ASSERT_EQ_INT(f[2].kind, ULM_FV_NESTED);
    ASSERT_EQ_INT(f[3].kind, ULM_FV_ABSENT);
    ASSERT_TRUE(field_is(&f[4], "true"));
    /* A line without some keys leaves them absent. */
    ASSERT_EQ_INT(ulm_json_line("{\"item\":\"x\"}", 12, &k, false, f, 5), ULM_ROW_OK);
    ASSERT_EQ_INT(f[0].kind, ULM_FV_ABSENT);
    const char *bad[] = {"{\"a\":1",    "{\"a\" 1}",        "[1,2]", "{\"a\":1} x",
                         "{\"a\":tru}", "{\"a\":\"x\ny\"}", "{a:1}", "{\"a\":1,}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ulm_json_line(bad[i], strlen(bad[i]), &k, false, f, 5) != ULM_ROW_BAD_JSON) {
            fprintf(stderr, "accepted bad JSON '%s'\n", bad[i]);
            return 1;
        }
    }
    /* A lone surrogate escape decodes to an error, not to invalid UTF-8 bytes. */
    const char *ls = "{\"user\":\"\\ud800x\"}";
    ASSERT_EQ_INT(ulm_json_line(ls, strlen(ls), &k, false, f, 5), ULM_ROW_OK);
    char scratch[64];
    size_t used = 0;
    uint32_t len;
    ASSERT_TRUE(ulm_fieldv_text(&f[0], scratch, &used, &len) == NULL);
    ulm_jkeys_free(&k);
    return 0;
}

ULM_TEST(ingest_column_detection) {
    const char *names[] = {"InvoiceNo",   "StockCode", "Description", "Quantity",
                           "InvoiceDate", "UnitPrice", "CustomerID",  "Country"};
    const int want[] = {ULM_F_ORDER, ULM_F_ITEM, ULM_F_TEXT, ULM_F_QTY, ULM_F_TIME, ULM_F_PRICE, ULM_F_USER, -1};
    for (int i = 0; i < 8; i++)
        ASSERT_EQ_INT(ulm_field_detect(names[i], strlen(names[i]), NULL), want[i]);
    ASSERT_EQ_INT(ulm_field_detect("User ID", 7, NULL), ULM_F_USER);
    ASSERT_EQ_INT(ulm_field_detect("visitor-id", 10, NULL), ULM_F_USER);
    ASSERT_EQ_INT(ulm_field_detect("event_time", 10, NULL), ULM_F_TIME);
    ASSERT_EQ_INT(ulm_field_detect("search_term", 11, NULL), ULM_F_QUERY);
    ASSERT_EQ_INT(ulm_field_detect("movieId", 7, NULL), ULM_F_ITEM);
    ASSERT_EQ_INT(ulm_field_detect("behaviour", 9, NULL), ULM_F_TYPE);
    ASSERT_EQ_INT(ulm_field_detect("rating", 6, NULL), -1);
    ASSERT_EQ_INT(ulm_field_detect("", 0, NULL), -1);
    int r1, r2;
    ulm_field_detect("description", 11, &r1);
    ulm_field_detect("title", 5, &r2);
    ASSERT_TRUE(r1 < r2); /* description is preferred over title when both exist */
    ASSERT_EQ_INT(ulm_field_from_name("quantity", 8), ULM_F_QTY);
    ASSERT_EQ_INT(ulm_field_from_name("qty", 3), ULM_F_QTY);
    ASSERT_EQ_INT(ulm_field_from_name("colour", 6), -1);
    return 0;
}

ULM_TEST(ingest_event_type_synonyms) {
    const char *v[] = {"view",        "PageView",    "page_view", "detail",   "click",  "cart",
                       "addtocart",   "Add-To-Cart", "basket",    "purchase", "BUY",    "order",
                       "transaction", "sale",        "return",    "refund",   "cancel", "search"};
    const int t[] = {ULM_EV_VIEW,     ULM_EV_VIEW,     ULM_EV_VIEW,   ULM_EV_VIEW,     ULM_EV_VIEW,     ULM_EV_CART,
                     ULM_EV_CART,     ULM_EV_CART,     ULM_EV_CART,   ULM_EV_PURCHASE, ULM_EV_PURCHASE, ULM_EV_PURCHASE,
                     ULM_EV_PURCHASE, ULM_EV_PURCHASE, ULM_EV_RETURN, ULM_EV_RETURN,   ULM_EV_RETURN,   ULM_EV_SEARCH};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ASSERT_EQ_INT(ulm_event_type_parse(v[i], strlen(v[i])), t[i]);
    ASSERT_EQ_INT(ulm_event_type_parse("wishlist", 8), -1);
    ASSERT_EQ_INT(ulm_event_type_parse("", 0), -1);
    return 0;
}
