/* lib/err — error codes shared by every layer.
 *
 * A function that can fail returns int: HM_OK (0) or a negative hm_err_t.
 * A rejected transaction is a verdict (contracts' result codes), never one of
 * these. Depends on nothing. */
#ifndef HM_LIB_ERR_H
#define HM_LIB_ERR_H

#define HM_WUR __attribute__((warn_unused_result))

typedef enum {
    HM_OK = 0,
    HM_ERR_NOMEM = -1,         /* allocation failed */
    HM_ERR_INVALID = -2,       /* malformed input (bytes, text, arguments) */
    HM_ERR_TOO_LARGE = -3,     /* input over its size cap */
    HM_ERR_BAD_SIGNATURE = -4, /* a signature does not verify */
    HM_ERR_NOT_FOUND = -5,     /* no such key, record, file */
    HM_ERR_IO = -6,            /* the OS or the storage failed */
    HM_ERR_CRYPTO = -7,        /* the crypto library failed */
    HM_ERR_EXISTS = -8,        /* already present */
    HM_ERR_STATE = -9,         /* not allowed in the current state */
    HM_ERR_WRONG_CHAIN = -10,  /* signed for another chain id */
    HM_ERR_PROOF = -11,        /* a proof does not verify */
    HM_ERR_OVERFLOW = -12,     /* integer overflow */
    HM_ERR_LIMIT = -13,        /* a capacity limit (queue, pool) is reached */
    HM_ERR_CORRUPT = -14,      /* stored data fails its own checks */
    HM_ERR_AUTH = -15,         /* authentication failed (passphrase, token, peer) */
    HM_ERR_TIMEOUT = -16,
    HM_ERR_CLOSED = -17,       /* the peer or resource is gone */
    HM_ERR_UNSUPPORTED = -18,
} hm_err_t;

/* Return a static, human-readable description of `err` (any int). */
const char *hm_strerror(int err);

/* Return the stable symbolic name of `err`, e.g. "HM_ERR_INVALID". */
const char *hm_errname(int err);

#endif
