/* tests/unit/testutil.h — small helpers shared by the cmocka unit tests.
 * Header-only so each test program links only the layers it tests. */
#ifndef HM_TESTS_TESTUTIL_H
#define HM_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Path of a file under the source tree (HM_SRCDIR is set by make check;
 * falls back to the current directory). Returns a static buffer. */
static inline const char *tu_srcpath(const char *rel)
{
    static char path[4096];
    const char *top = getenv("HM_SRCDIR");
    snprintf(path, sizeof path, "%s/%s", top && *top ? top : ".", rel);
    return path;
}

/* Read a whole file into a malloc'd buffer; fails the test if unreadable. */
static inline uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Deterministic bytes for tests (xorshift64*), so failures replay. */
static inline void tu_fill(uint8_t *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        p[i] = (uint8_t)((x * 2685821657736338717ULL) >> 56);
    }
}

#endif
