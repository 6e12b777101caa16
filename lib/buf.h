/* lib/buf — growable byte buffers, a bounds-checked reader, big-endian
 * integer helpers. Depends on lib/err only. */
#ifndef HM_LIB_BUF_H
#define HM_LIB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* A growable buffer. Zero-initialise (or hm_buf_init) before use; the
 * buffer owns `data` until hm_buf_free or hm_buf_detach. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} hm_buf_t;

void hm_buf_init(hm_buf_t *b);
/* Free the storage and reset to empty. Accepts an already-empty buffer. */
void hm_buf_free(hm_buf_t *b);
/* Like hm_buf_free, but wipes the contents first (secrets). */
void hm_buf_free_secure(hm_buf_t *b);
/* Keep the storage, set len to 0. */
void hm_buf_reset(hm_buf_t *b);
/* Ensure room for `extra` more bytes. */
int hm_buf_reserve(hm_buf_t *b, size_t extra) HM_WUR;
int hm_buf_append(hm_buf_t *b, const void *data, size_t len) HM_WUR;
int hm_buf_append_u8(hm_buf_t *b, uint8_t v) HM_WUR;
int hm_buf_append_u32be(hm_buf_t *b, uint32_t v) HM_WUR;
int hm_buf_append_u64be(hm_buf_t *b, uint64_t v) HM_WUR;
int hm_buf_append_str(hm_buf_t *b, const char *s) HM_WUR;
/* Hand the storage to the caller (who frees it with free()); *len gets its
 * length. The buffer is left empty. Returns NULL for an empty buffer. */
uint8_t *hm_buf_detach(hm_buf_t *b, size_t *len);

/* A read cursor over borrowed bytes; every read is bounds-checked and
 * returns HM_ERR_INVALID past the end without moving. */
typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
} hm_reader_t;

void hm_reader_init(hm_reader_t *r, const void *data, size_t len);
int hm_read_bytes(hm_reader_t *r, void *out, size_t n) HM_WUR;
/* Borrow n bytes without copying; *out points into the reader's data. */
int hm_read_view(hm_reader_t *r, const uint8_t **out, size_t n) HM_WUR;
int hm_read_u8(hm_reader_t *r, uint8_t *out) HM_WUR;
int hm_read_u32be(hm_reader_t *r, uint32_t *out) HM_WUR;
int hm_read_u64be(hm_reader_t *r, uint64_t *out) HM_WUR;
size_t hm_reader_remaining(const hm_reader_t *r);

static inline void hm_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void hm_put_u64be(uint8_t *p, uint64_t v)
{
    hm_put_u32be(p, (uint32_t)(v >> 32));
    hm_put_u32be(p + 4, (uint32_t)v);
}

static inline uint32_t hm_get_u32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t hm_get_u64be(const uint8_t *p)
{
    return ((uint64_t)hm_get_u32be(p) << 32) | hm_get_u32be(p + 4);
}

/* Checked arithmetic: return false on overflow, leaving *out untouched. */
static inline bool hm_add_u64(uint64_t *out, uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool hm_mul_u64(uint64_t *out, uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

/* Constant-time comparison of two equal-length byte strings. */
bool hm_ct_equal(const void *a, const void *b, size_t len);

#endif
