/* test_ingest_run.c: whole runs over in-memory logs: counts, reasons, returns, dedup, maps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "ulm_test.h"

static ulm_status run(ulm_ingest *ing, const char *path, const char *text) {
    ulm_diag d;
    return ulm_ingest_buffer(ing, path, text, strlen(text), strlen(text), &d);
}

ULM_TEST(ingest_run_counts_reasons_and_invariant) {
    const char *csv =
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HEART,6,2010-12-01T08:26:00Z,2.55,17850,UK\n"     /* 2 kept */
        "536365,85123A,WHITE HEART,6,2010-12-01T08:26:00Z,2.55,17850,France\n" /* 3 dup (Country ignored) */
        "C536379,D,Discount,-1,2010-12-01T09:41:00Z,27.5,14527,UK\n"           /* 4 return */
        "536366,22633,HAND WARMER,\"1,5\",2010-12-01T08:28:00Z,1.85,,UK\n"     /* 5 bad number */
        "536367,84879,BIRD,32,not a date,1.69,13047,UK\n"                      /* 6 bad time */
        "536368,,NOTHING,1,2010-12-01T08:34:00Z,1,13047,UK\n"                  /* 7 missing item */
        "536369,22745,FRAME,6,2010-12-01T08:35:00Z,,,UK\n"                     /* 8 guest, no price */
        "536370,22728,ALARM,24\n"                                              /* 9 too few */
        "536371,22727,ALARM,24,2010-12-01T08:45:00Z,3.75,12583,UK,extra\n"     /* 10 too many */
        "536372,22,\xff\xfe,1,2010-12-01T08:45:00Z,1,12583,UK\n"               /* 11 invalid UTF-8 */
        "536373,22,X,-2,2010-12-01T08:46:00Z,1,12583,UK\n";                    /* 12 return (qty<0) */
    ulm_ingest ing;
    ulm_ingest_init(&ing, NULL);
    ASSERT_STATUS(run(&ing, "t.csv", csv), ULM_OK);
    ASSERT_EQ_INT(ing.rows_read, 11);
    ASSERT_EQ_INT(ing.kept + ing.duplicates + ing.rejected, ing.rows_read);
    ASSERT_EQ_INT(ing.duplicates, 1);
    ASSERT_EQ_INT(ing.kept, 4);
    ASSERT_EQ_INT(ing.kept_by_type[ULM_EV_RETURN], 2);
    ASSERT_EQ_INT(ing.kept_by_type[ULM_EV_PURCHASE], 2);
    ASSERT_EQ_INT(ing.guests, 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_BAD_NUMBER], 1);
    ASSERT_EQ_INT(ing.reason_first[ULM_R_BAD_NUMBER][0].line, 5);
    ASSERT_STR_EQ(ing.files[0].colname[ing.reason_first[ULM_R_BAD_NUMBER][0].column], "Quantity");
    ASSERT_EQ_INT(ing.reason_count[ULM_R_BAD_TIME], 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_MISSING_ITEM], 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_TOO_FEW], 1);
    ASSERT_EQ_INT(ing.reason_first[ULM_R_TOO_FEW][0].line, 9);
    ASSERT_EQ_INT(ing.reason_first[ULM_R_TOO_FEW][0].column, -1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_TOO_MANY], 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_BAD_UTF8], 1);
    ASSERT_STR_EQ(ing.files[0].colname[ing.reason_first[ULM_R_BAD_UTF8][0].column], "Description");
    /* Returns store the absolute quantity; an empty price is NaN; text is the item's name. */
    size_t ret = ing.ev.n;
    for (size_t i = 0; i < ing.ev.n; i++)
        if (ing.ev.type[i] == ULM_EV_RETURN && ing.ev.qty[i] == 2.0f) ret = i;
    ASSERT_TRUE(ret < ing.ev.n);
    size_t guest = ing.ev.n;
    for (size_t i = 0; i < ing.ev.n; i++)
        if (ing.ev.user[i] == ULM_NONE) guest = i;
    ASSERT_TRUE(guest < ing.ev.n && isnan(ing.ev.price[guest]));
    uint32_t len;
    const char *name = ulm_events_item_text(&ing.ev, ulm_dict_find(&ing.ev.items, "85123A", 6), &len);
    ASSERT_TRUE(name && len == 11 && memcmp(name, "WHITE HEART", 11) == 0);
    ASSERT_EQ_INT(ing.files[0].col[ULM_F_USER], 6);
    ASSERT_TRUE(!ing.files[0].used[7]); /* Country */
    ulm_ingest_free(&ing);
    return 0;
}

ULM_TEST(ingest_run_types_search_and_map) {
    const char *jl =
        "{\"visitor\": \"v1\", \"sku\": \"a\", \"when\": 1291191960, \"event\": \"page_view\"}\n"
        "\n"
        "{\"visitor\": \"v1\", \"when\": 1291191961000, \"event\": \"search\", \"search_term\": \"red mug\"}\n"
        "{\"visitor\": \"v1\", \"when\": 1291191962, \"event\": \"wishlist\", \"sku\": \"a\"}\n"
        "{\"visitor\": \"v1\", \"when\": 1291191963, \"event\": \"search\"}\n"
        "not json\n";
    ulm_ingest_opts o = {.map = "time=when,user=visitor", .format = -1};
    ulm_ingest ing;
    ulm_ingest_init(&ing, &o);
    ASSERT_STATUS(run(&ing, "e.jsonl", jl), ULM_OK);
    ASSERT_EQ_INT(ing.rows_read, 5);
    ASSERT_EQ_INT(ing.kept, 2);
    ASSERT_EQ_INT(ing.kept_by_type[ULM_EV_VIEW], 1);
    ASSERT_EQ_INT(ing.kept_by_type[ULM_EV_SEARCH], 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_UNKNOWN_TYPE], 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_MISSING_ITEM], 1);
    ASSERT_EQ_INT(ing.reason_count[ULM_R_BAD_JSON], 1);
    ASSERT_EQ_INT(ing.reason_first[ULM_R_BAD_JSON][0].line, 6); /* blank line 2 still counts as a line */
    ASSERT_EQ_INT(ing.ev.item[1], ULM_NONE);
    ASSERT_EQ_INT(ing.ev.time[1], 1291191961); /* milliseconds */
    ASSERT_EQ_INT(ing.ev.queries.n, 1);
    ASSERT_EQ_INT(ing.ev.users.n, 1);
    ASSERT_EQ_INT(ing.guests, 0);
    ulm_ingest_free(&ing);
    return 0;
}

ULM_TEST(ingest_run_fatal_files) {
    ulm_ingest ing;
    ulm_ingest_init(&ing, NULL);
    ulm_diag d;
    ASSERT_STATUS(ulm_ingest_buffer(&ing, "bin.csv", "a,b\0c", 5, 5, &d), ULM_ERR_PARSE);
    ASSERT_TRUE(strstr(ing.msg, "binary") && strstr(ing.msg, "bin.csv"));
    ASSERT_STATUS(run(&ing, "empty.csv", " \n\n"), ULM_ERR_PARSE);
    ASSERT_TRUE(strstr(ing.msg, "empty"));
    ASSERT_STATUS(run(&ing, "h.csv", "user,item,time\n\n"), ULM_ERR_PARSE);
    ASSERT_TRUE(strstr(ing.msg, "header only"));
    ASSERT_STATUS(run(&ing, "n.csv", "who,what,price\nu,i,1\n"), ULM_ERR_PARSE);
    ASSERT_TRUE(strstr(ing.msg, "'who'") && strstr(ing.msg, "--map"));
    ASSERT_STATUS(run(&ing, "a.json", "[{\"a\":1}]\n"), ULM_ERR_PARSE);
    ulm_ingest_free(&ing);
    ulm_ingest_opts o = {.map = "item=nope", .format = -1};
    ulm_ingest_init(&ing, &o);
    ASSERT_STATUS(run(&ing, "m.csv", "user,item,time\nu,i,2010-01-01\n"), ULM_ERR_MISUSE);
    ASSERT_TRUE(strstr(ing.msg, "'nope'"));
    ulm_ingest_free(&ing);
    ASSERT_STATUS(ulm_ingest_check_map("colour=x", &d), ULM_ERR_MISUSE);
    ASSERT_TRUE(strstr(d.message, "colour"));
    ASSERT_STATUS(ulm_ingest_check_map("user=a,item=b,qty=c", &d), ULM_OK);
    return 0;
}

ULM_TEST(ingest_run_strict_message) {
    ulm_ingest_opts o = {.strict = true, .format = -1};
    ulm_ingest ing;
    ulm_ingest_init(&ing, &o);
    ASSERT_STATUS(run(&ing, "s.csv", "user,item,time,qty\nu,i,2010-01-01,1\nu,i,2010-01-02,1x\nu,i,bad,1\n"),
                  ULM_ERR_PARSE);
    ASSERT_STR_EQ(ing.msg, "s.csv:3: column 'qty': bad number");
    ulm_ingest_free(&ing);
    return 0;
}

ULM_TEST(ingest_run_dedup_survives_growth) {
    /* Enough distinct rows to grow the set several times, each written twice. */
    size_t n = 5000;
    char *buf = malloc(n * 2 * 64 + 64);
    ASSERT_TRUE(buf != NULL);
    size_t o = (size_t)sprintf(buf, "user,item,time\n");
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            o += (size_t)sprintf(buf + o, "u%zu,i%zu,%zu\n", i % 97, i % 89, 1000000 + i);
    ulm_ingest ing;
    ulm_ingest_init(&ing, NULL);
    ulm_diag d;
    ASSERT_STATUS(ulm_ingest_buffer(&ing, "g.csv", buf, o, o, &d), ULM_OK);
    ASSERT_EQ_INT(ing.kept, n);
    ASSERT_EQ_INT(ing.duplicates, n);
    ASSERT_EQ_INT(ing.ev.users.n, 97);
    ulm_ingest_free(&ing);
    free(buf);
    return 0;
}

/* Random bytes drawn mostly from the characters tokenizers care about. */
static size_t noise(uint64_t *x, char *out, size_t n, const char *alphabet) {
    size_t na = strlen(alphabet);
    for (size_t i = 0; i < n; i++) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        out[i] = (*x % 8 == 0) ? (char)(*x >> 24) : alphabet[(*x >> 8) % na];
    }
    return n;
}

ULM_TEST(ingest_run_survives_noise) {
    /* Thousands of malformed CSV and JSON Lines bodies: every run ends with a status, and the
     * counts of a successful run always add up (the suite also runs under ASan and UBSan). */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char buf[700];
    for (int k = 0; k < 3000; k++) {
        bool json = k % 2;
        size_t o = (size_t)sprintf(buf, json ? "{\"user\":\"u\",\"item\":\"i\",\"time\":1}\n"
                                             : "user,item,time,qty,description\n");
        o += noise(&x, buf + o, (size_t)(x % 500), json ? "{}[]\":,\\u0aZ \n-19e.tnl" : "\",\n\r 1-2:T/aZ\xc3\xa9");
        ulm_ingest ing;
        ulm_ingest_init(&ing, NULL);
        ulm_diag d;
        ulm_status s = ulm_ingest_buffer(&ing, json ? "n.jsonl" : "n.csv", buf, o, o, &d);
        if (s == ULM_OK) ASSERT_EQ_INT(ing.kept + ing.duplicates + ing.rejected, ing.rows_read);
        ulm_ingest_free(&ing);
    }
    return 0;
}
