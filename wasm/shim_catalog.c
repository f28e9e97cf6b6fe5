/* shim_catalog.c: catalogue details beyond ids and names (the storefront shows prices). */
#include <math.h>
#include <stdint.h>

#include "shim.h"
#include "ulm/ulm_model.h"

/* Price of catalogue index idx (section ITPR), NaN when unknown, out of range or no handle. */
float ulm_wasm_item_price(const ulm_wasm_model *h, uint32_t idx) {
    if (!h) return NAN;
    return ulm_model_item_price(h->model, idx);
}
