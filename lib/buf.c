/* lib/buf — see buf.h. */
#include "lib/buf.h"

#include <stdlib.h>
#include <string.h>

void hm_buf_init(hm_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void hm_buf_free(hm_buf_t *b)
{
    free(b->data);
    hm_buf_init(b);
}

void hm_buf_free_secure(hm_buf_t *b)
{
    if (b->data) {
        /* volatile store loop: not optimised away (lib/buf may not call OpenSSL) */
        volatile uint8_t *p = b->data;
        for (size_t i = 0; i < b->cap; i++)
            p[i] = 0;
    }
    hm_buf_free(b);
}

void hm_buf_reset(hm_buf_t *b)
{
    b->len = 0;
}

int hm_buf_reserve(hm_buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return HM_ERR_OVERFLOW;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return HM_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return HM_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return HM_OK;
}

int hm_buf_append(hm_buf_t *b, const void *data, size_t len)
{
    if (len == 0)
        return HM_OK;
    int rc = hm_buf_reserve(b, len);
    if (rc != HM_OK)
        return rc;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return HM_OK;
}

int hm_buf_append_u8(hm_buf_t *b, uint8_t v)
{
    return hm_buf_append(b, &v, 1);
}

int hm_buf_append_u32be(hm_buf_t *b, uint32_t v)
{
    uint8_t tmp[4];
    hm_put_u32be(tmp, v);
    return hm_buf_append(b, tmp, sizeof tmp);
}

int hm_buf_append_u64be(hm_buf_t *b, uint64_t v)
{
    uint8_t tmp[8];
    hm_put_u64be(tmp, v);
    return hm_buf_append(b, tmp, sizeof tmp);
}

int hm_buf_append_str(hm_buf_t *b, const char *s)
{
    return hm_buf_append(b, s, strlen(s));
}

uint8_t *hm_buf_detach(hm_buf_t *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    if (b->len == 0) {
        free(p);
        p = NULL;
    }
    hm_buf_init(b);
    return p;
}

void hm_reader_init(hm_reader_t *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
}

size_t hm_reader_remaining(const hm_reader_t *r)
{
    return r->len - r->pos;
}

int hm_read_view(hm_reader_t *r, const uint8_t **out, size_t n)
{
    if (n > hm_reader_remaining(r))
        return HM_ERR_INVALID;
    *out = r->data + r->pos;
    r->pos += n;
    return HM_OK;
}

int hm_read_bytes(hm_reader_t *r, void *out, size_t n)
{
    const uint8_t *p;
    int rc = hm_read_view(r, &p, n);
    if (rc == HM_OK && n)
        memcpy(out, p, n);
    return rc;
}

int hm_read_u8(hm_reader_t *r, uint8_t *out)
{
    return hm_read_bytes(r, out, 1);
}

int hm_read_u32be(hm_reader_t *r, uint32_t *out)
{
    const uint8_t *p;
    int rc = hm_read_view(r, &p, 4);
    if (rc == HM_OK)
        *out = hm_get_u32be(p);
    return rc;
}

int hm_read_u64be(hm_reader_t *r, uint64_t *out)
{
    const uint8_t *p;
    int rc = hm_read_view(r, &p, 8);
    if (rc == HM_OK)
        *out = hm_get_u64be(p);
    return rc;
}

bool hm_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= x[i] ^ y[i];
    return acc == 0;
}
