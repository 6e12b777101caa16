/* lib/hex — see hex.h. */
#include "lib/hex.h"

#include <stdlib.h>
#include <string.h>

static const char hm_hex_digits[] = "0123456789abcdef";

void hm_hex_encode(char *out, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hm_hex_digits[p[i] >> 4];
        out[2 * i + 1] = hm_hex_digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

char *hm_hex_dup(const void *data, size_t len)
{
    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    char *s = malloc(2 * len + 1);
    if (s)
        hm_hex_encode(s, data, len);
    return s;
}

static int hm_hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hm_hex_decode_n(uint8_t *out, const char *hex, size_t nbytes)
{
    for (size_t i = 0; i < nbytes; i++) {
        int hi = hm_hex_nibble(hex[2 * i]);
        int lo = hm_hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return HM_ERR_INVALID;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return HM_OK;
}

int hm_hex_decode(uint8_t *out, size_t outlen, const char *hex)
{
    if (!hex || strlen(hex) != 2 * outlen)
        return HM_ERR_INVALID;
    return hm_hex_decode_n(out, hex, outlen);
}

int hm_hex_decode_alloc(uint8_t **out, size_t *outlen, const char *hex, size_t hexlen,
                        size_t maxlen)
{
    if (!hex || hexlen % 2 != 0)
        return HM_ERR_INVALID;
    if (hexlen / 2 > maxlen)
        return HM_ERR_TOO_LARGE;
    size_t n = hexlen / 2;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return HM_ERR_NOMEM;
    int rc = hm_hex_decode_n(p, hex, n);
    if (rc != HM_OK) {
        free(p);
        return rc;
    }
    *out = p;
    *outlen = n;
    return HM_OK;
}
