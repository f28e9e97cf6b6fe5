/* ulm_status.h: status codes returned by every fallible ulm call.
 *
 * One X-macro list feeds the enum, ulm_status_name() and ulm_status_str(), so a
 * name can never drift from its number. 0 is success; errors are small positive
 * integers that are frozen once released (they cross the wasm boundary as-is).
 *
 *     ulm_diag d;
 *     ulm_status s = ulm_model_load(buf, len, NULL, &m, &d);
 *     if (s != ULM_OK) fprintf(stderr, "%s: %s\n", ulm_status_name(s), d.message);
 */
#ifndef ULM_STATUS_H
#define ULM_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ULM_API
#define ULM_API
#endif

/* X(name, value, description) */
#define ULM_STATUS_LIST(X)                                                     \
    X(OK, 0, "success")                                                        \
    X(ERR_NOMEM, 1, "allocation failed")                                       \
    X(ERR_FORMAT, 2, "not a ulm file, or malformed")                           \
    X(ERR_VERSION, 3, "file needs a newer reader")                             \
    X(ERR_CHECKSUM, 4, "checksum mismatch")                                    \
    X(ERR_MISUSE, 5, "bad argument or call order")                             \
    X(ERR_UNSUPPORTED, 6, "not supported by this build or model")              \
    X(ERR_TRUNCATED, 7, "file is shorter than its header says")                \
    X(ERR_NOT_FOUND, 8, "no such item, user or section")                       \
    X(ERR_RANGE, 9, "value out of range")                                      \
    X(ERR_IO, 10, "input/output error")                                        \
    X(ERR_PARSE, 11, "input could not be parsed")

typedef enum ulm_status {
#define ULM__STATUS_ENUM(name, value, text) ULM_##name = value,
    ULM_STATUS_LIST(ULM__STATUS_ENUM)
#undef ULM__STATUS_ENUM
} ulm_status;

/* Returns "OK", "ERR_FORMAT", ...; "UNKNOWN" for a value not in the list. Static storage. @since 0.1 */
ULM_API const char *ulm_status_name(int status);
/* Returns a short English description of status. Static storage. @since 0.1 */
ULM_API const char *ulm_status_str(int status);

/* Optional detail for a failed call, filled by the callee when the caller passes one.
 * section is a NUL-terminated 4-character tag ("" when not about a section). */
typedef struct ulm_diag {
    int status;        /* the status the call returned */
    char section[5];   /* section tag at fault, or "" */
    uint64_t offset;   /* byte offset in the input at fault */
    char message[200]; /* one sentence, NUL-terminated */
} ulm_diag;

/* Fills diag (when non-NULL: status, section tag or "", byte offset or line, a printf-style message)
 * and returns status, so a failing call can `return ulm_diag_set(...)`. @since 0.1 */
ULM_API ulm_status ulm_diag_set(ulm_diag *diag, ulm_status status, const char *section, uint64_t offset,
                                const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Optional allocator (the lua_Alloc idea). NULL members mean malloc/realloc/free. */
typedef struct ulm_allocator {
    void *(*alloc)(void *ud, size_t size);
    void *(*realloc)(void *ud, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ud, void *ptr, size_t size);
    void *ud;
} ulm_allocator;

#ifdef __cplusplus
}
#endif
#endif
