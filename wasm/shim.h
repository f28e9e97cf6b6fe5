/* shim.h: what the files of the wasm export layer (wasm/shim*.c) share. */
#ifndef ULM_WASM_SHIM_H
#define ULM_WASM_SHIM_H

#include "ulm/ulm_model.h"

/* A loaded model plus the bundle bytes it borrows, freed together by ulm_wasm_free. */
typedef struct ulm_wasm_model {
    ulm_model *model;
    void *bytes;
} ulm_wasm_model;

#endif
