/* ulm.h: the umbrella header of the ulm core. Include this, or the module headers you need.
 *
 * Modules: ulm_status.h (status codes, diagnostics, allocator), ulm_bundle.h (container
 * read/write), ulm_model.h (loaded bundle, catalogue), ulm_recs.h (top-K), ulm_dict.h
 * (string dictionary), ulm_events.h (event table), ulm_train.h (training, native only),
 * ulm_clv.h (lifetime value), ulm_profile.h (profiles, segments, stages).
 */
#ifndef ULM_H
#define ULM_H

#define ULM_VERSION_STRING "0.1.0"

#include "ulm_status.h"
#include "ulm_bundle.h"
#include "ulm_dict.h"
#include "ulm_events.h"
#include "ulm_model.h"
#include "ulm_recs.h"
#include "ulm_recommend.h"
#include "ulm_clv.h"
#include "ulm_profile.h"

#endif
