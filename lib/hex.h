/* lib/hex — lowercase hex encoding (the human format of ids and hashes,
 * DESIGN §3) and strict decoding. Depends on lib/err only. */
#ifndef HM_LIB_HEX_H
#define HM_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Write 2*len lowercase hex digits and a NUL into out (size >= 2*len+1). */
void hm_hex_encode(char *out, const void *data, size_t len);

/* Return a malloc'd NUL-terminated hex string of data (caller frees), or
 * NULL when out of memory. */
char *hm_hex_dup(const void *data, size_t len);

/* Decode exactly `outlen` bytes from the hex string `hex` (upper or lower
 * case accepted; length must be exactly 2*outlen). */
int hm_hex_decode(uint8_t *out, size_t outlen, const char *hex) HM_WUR;

/* Decode a hex string of any even length into a malloc'd buffer (caller
 * frees) of *outlen bytes, refusing strings longer than 2*maxlen. */
int hm_hex_decode_alloc(uint8_t **out, size_t *outlen, const char *hex, size_t hexlen,
                        size_t maxlen) HM_WUR;

#endif
