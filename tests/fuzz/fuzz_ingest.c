/* fuzz_ingest.c: libFuzzer entry point for event-log parsing and the event store codec.
 * The input is ingested as CSV, TSV and JSON Lines in turn; whatever is kept must survive an
 * encode/decode round trip of the store unchanged in size, and the report's accounting must
 * hold (kept + duplicates + rejected = rows read). The raw input is also decoded as a store. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Ingests data in one format and checks the invariants; aborts on a broken one. */
static void ingest_as(const uint8_t *data, size_t size, int format) {
    ulm_ingest_opts o = {.map = NULL, .strict = false, .format = format, .progress = false};
    ulm_ingest ing;
    ulm_ingest_init(&ing, &o);
    ulm_diag d;
    memset(&d, 0, sizeof d);
    ulm_status s = ulm_ingest_buffer(&ing, "fuzz", (const char *)data, size, size, &d);
    if (s == ULM_OK) {
        if (ing.kept + ing.duplicates + ing.rejected != ing.rows_read) abort();
        if (ing.ev.n != ing.kept) abort();
        uint8_t *buf;
        size_t len;
        if (ulm_store_encode(&ing.ev, ing.etext, NULL, NULL, &buf, &len, &d) == ULM_OK) {
            ulm_events back;
            ulm_events_init(&back);
            if (ulm_store_decode(buf, len, &back, NULL, &d) != ULM_OK || back.n != ing.ev.n) abort();
            ulm_events_free(&back);
            free(buf);
        }
    } else if (d.message[0] == 0 && ing.msg[0] == 0) {
        abort(); /* a refused file always says why */
    }
    ulm_ingest_free(&ing);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ingest_as(data, size, ULM_FMT_CSV);
    ingest_as(data, size, ULM_FMT_TSV);
    ingest_as(data, size, ULM_FMT_JSONL);
    ulm_events ev;
    ulm_events_init(&ev);
    ulm_diag d;
    ulm_store_decode(data, size, &ev, NULL, &d);
    ulm_events_free(&ev);
    return 0;
}
