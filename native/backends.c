/* backends.c: nothing to select yet beyond what CMake compiled in; kept as the one place a
 * future kernel table registers native backends. */
#include "ulm_native.h"
