/* linalg_stub.c: without OpenBLAS, the reference maths (NULL members) on pthreads. */
#include <stdint.h>

#include "ulm_native.h"

void ulm_linalg_native(ulm_linalg *out, unsigned threads) {
    if (threads < 1) threads = 1;
    *out = (ulm_linalg){"reference+pthreads", (void *)(uintptr_t)threads, NULL, NULL, ulm_native_run};
}
