/* lib/hash — SHA-256 and BIP340-style tagged hashes on OpenSSL EVP (DESIGN §2):
 *   H_tag(x) = SHA256(SHA256(tag) || SHA256(tag) || x)
 * with tags "hallmark/<purpose>". The 64-byte tag prefix is one SHA-256 block,
 * so each tag's midstate is computed once per thread and copied per hash.
 *
 * Thread-safe. Failures of OpenSSL itself (allocation) abort: no caller could
 * recover, and returning a wrong hash silently would be worse. */
#ifndef HM_LIB_HASH_H
#define HM_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define HM_HASH_LEN 32

/* Every purpose has its tag; never invent a tag outside this list. */
#define HM_TAG_TX "hallmark/tx"
#define HM_TAG_VOTE "hallmark/vote"
#define HM_TAG_LEAF "hallmark/leaf"
#define HM_TAG_NODE "hallmark/node"
#define HM_TAG_HEADER "hallmark/header"
#define HM_TAG_GENESIS "hallmark/genesis"
#define HM_TAG_HISTORY "hallmark/history"
#define HM_TAG_GID "hallmark/gid"
#define HM_TAG_LICENCE "hallmark/licence"
#define HM_TAG_CERT "hallmark/cert"
#define HM_TAG_RESULT "hallmark/result"
#define HM_TAG_VALSET "hallmark/valset"
#define HM_TAG_VIEWCHANGE "hallmark/viewchange"
#define HM_TAG_NEWVIEW "hallmark/newview"
#define HM_TAG_SMT_LEAF "hallmark/smt-leaf"
#define HM_TAG_SMT_NODE "hallmark/smt-node"
#define HM_TAG_SMT_KEY "hallmark/smt-key"
#define HM_TAG_SMT_VALUE "hallmark/smt-value"

/* Plain SHA-256 of data. */
void hm_sha256(uint8_t out[HM_HASH_LEN], const void *data, size_t len);

/* H_tag(data) for the NUL-terminated tag. */
void hm_tagged_hash(uint8_t out[HM_HASH_LEN], const char *tag, const void *data, size_t len);

/* H_tag(a || b): the common two-part case without a copy. */
void hm_tagged_hash2(uint8_t out[HM_HASH_LEN], const char *tag, const void *a, size_t alen,
                     const void *b, size_t blen);

/* Streaming SHA-256 / tagged hash. Initialise with one of the init functions,
 * feed with update, finish with final (which also releases the context).
 * hm_hash_abort releases a context that will not be finalised. */
typedef struct hm_hasher {
    void *ctx; /* EVP_MD_CTX, owned */
} hm_hasher_t;

void hm_hasher_init(hm_hasher_t *h);
void hm_hasher_init_tagged(hm_hasher_t *h, const char *tag);
void hm_hasher_update(hm_hasher_t *h, const void *data, size_t len);
void hm_hasher_final(hm_hasher_t *h, uint8_t out[HM_HASH_LEN]);
void hm_hasher_abort(hm_hasher_t *h);

/* Release this thread's cached digest contexts. Worker threads call it
 * before they exit; it is safe to hash again afterwards. */
void hm_hash_thread_cleanup(void);

#endif
