/* test_core_basics.c: status names, CRC32C, UTF-8 validation, the string dictionary. */
#include <stdlib.h>

#include "ulm/ulm.h"
#include "ulm_impl.h"
#include "ulm_test.h"

ULM_TEST(status_names) {
    ASSERT_STR_EQ(ulm_status_name(ULM_OK), "OK");
    ASSERT_STR_EQ(ulm_status_name(ULM_ERR_CHECKSUM), "ERR_CHECKSUM");
    ASSERT_STR_EQ(ulm_status_name(999), "UNKNOWN");
    ASSERT_STR_EQ(ulm_status_str(ULM_ERR_VERSION), "file needs a newer reader");
    return 0;
}

ULM_TEST(crc32c_check_value) {
    /* The standard check value of CRC-32C (iSCSI, RFC 3720). */
    ASSERT_EQ_INT(ulm_crc32c(0, "123456789", 9), 0xE3069283u);
    /* Incremental use gives the same result as one call. */
    ASSERT_EQ_INT(ulm_crc32c(ulm_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    ASSERT_EQ_INT(ulm_crc32c(0, "", 0), 0);
    return 0;
}

ULM_TEST(utf8_validation) {
    ASSERT_TRUE(ulm_utf8_valid("plain", 5));
    ASSERT_TRUE(ulm_utf8_valid("caf\xc3\xa9", 5));
    ASSERT_TRUE(ulm_utf8_valid("\xe7\x94\xa8\xe6\x88\xb7", 6));
    ASSERT_TRUE(!ulm_utf8_valid("\xc3", 1));             /* truncated */
    ASSERT_TRUE(!ulm_utf8_valid("\xc0\xaf", 2));         /* overlong */
    ASSERT_TRUE(!ulm_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ASSERT_TRUE(!ulm_utf8_valid("\xff", 1));
    return 0;
}

ULM_TEST(dict_interns_and_finds) {
    ulm_dict d;
    ulm_dict_init(&d);
    char buf[32];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(buf, sizeof buf, "item-%d", i);
        bool added;
        ASSERT_EQ_INT(ulm_dict_intern(&d, buf, (size_t)n, &added), i);
        ASSERT_TRUE(added);
    }
    bool added = true;
    ASSERT_EQ_INT(ulm_dict_intern(&d, "item-42", 7, &added), 42);
    ASSERT_TRUE(!added);
    ASSERT_EQ_INT(ulm_dict_find(&d, "item-9999", 9), 9999);
    ASSERT_EQ_INT(ulm_dict_find(&d, "item-10000", 10), ULM_NONE);
    ASSERT_EQ_INT(ulm_dict_intern(&d, "", 0, NULL), 10000); /* the empty string is a valid key */
    uint32_t len;
    const char *s = ulm_dict_str(&d, 123, &len);
    ASSERT_EQ_INT(len, 8);
    ASSERT_TRUE(memcmp(s, "item-123", 8) == 0);
    ulm_dict_free(&d);
    return 0;
}
