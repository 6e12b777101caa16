/* lib/log — levelled, timestamped, categorised logging to stderr or a file.
 *
 * The sink and level are process-wide (the one piece of global state the
 * project allows: logging is configured once at start-up). Writes are
 * serialised with a mutex so lines from threads never interleave.
 * Consensus and contract code must not log decisions that depend on the
 * clock; the timestamp is added here, outside them. */
#ifndef HM_LIB_LOG_H
#define HM_LIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "lib/err.h"

typedef enum {
    HM_LOG_ERROR = 0,
    HM_LOG_WARN = 1,
    HM_LOG_INFO = 2,
    HM_LOG_DEBUG = 3,
    HM_LOG_TRACE = 4,
} hm_log_level_t;

/* Set the most verbose level that is written (default HM_LOG_INFO). */
void hm_log_set_level(hm_log_level_t level);
hm_log_level_t hm_log_get_level(void);

/* Parse "error", "warn", "info", "debug" or "trace" into *out. */
int hm_log_level_parse(const char *name, hm_log_level_t *out) HM_WUR;
const char *hm_log_level_name(hm_log_level_t level);

/* Append log lines to the file at `path` (created 0600 if absent) instead of
 * stderr. Returns HM_ERR_IO if it cannot be opened; the old sink stays. */
int hm_log_open_file(const char *path) HM_WUR;

/* Write to `stream` (not owned; e.g. stderr, or a memstream in tests). */
void hm_log_set_stream(FILE *stream);

/* Close a file opened by hm_log_open_file and return to stderr. */
void hm_log_close(void);

bool hm_log_enabled(hm_log_level_t level);

/* Write one line: "2026-11-24T10:00:00.123Z INFO  [category] message". */
void hm_log(hm_log_level_t level, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hm_logv(hm_log_level_t level, const char *category, const char *fmt, va_list ap);

#define HM_LOG_ERR(cat, ...) hm_log(HM_LOG_ERROR, (cat), __VA_ARGS__)
#define HM_LOG_WARN(cat, ...) hm_log(HM_LOG_WARN, (cat), __VA_ARGS__)
#define HM_LOG_INFO(cat, ...) hm_log(HM_LOG_INFO, (cat), __VA_ARGS__)
#define HM_LOG_DEBUG(cat, ...)                                                 \
    do {                                                                       \
        if (hm_log_enabled(HM_LOG_DEBUG))                                      \
            hm_log(HM_LOG_DEBUG, (cat), __VA_ARGS__);                          \
    } while (0)
#define HM_LOG_TRACE(cat, ...)                                                 \
    do {                                                                       \
        if (hm_log_enabled(HM_LOG_TRACE))                                      \
            hm_log(HM_LOG_TRACE, (cat), __VA_ARGS__);                          \
    } while (0)

#endif
