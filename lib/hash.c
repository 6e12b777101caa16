/* lib/hash — see hash.h. The only other file that calls OpenSSL's digest API
 * is none: everything hashes through here.
 *
 * One-shot hashes (hm_sha256, hm_tagged_hash[2]) take a fast path through
 * OpenSSL's low-level SHA256_CTX when the library still provides it: the
 * per-thread tag midstate is a plain struct, so starting a tagged hash is a
 * ~112-byte copy instead of EVP_MD_CTX_copy_ex (which, on OpenSSL 3,
 * allocates and frees a provider context per hash). It is the same OpenSSL
 * SHA-256 (same assembly, SHA-NI where present); only the EVP dispatch is
 * skipped. The SMT hashes two 32-byte halves per node, so this dominates
 * its cost (doc/benchmarks.md). The streaming hm_hasher_t stays on EVP. */
#if !defined(HM_HASH_EVP_ONLY)
/* SHA256_Init/Update/Final are deprecated (not removed) in OpenSSL 3. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#endif
#include "lib/hash.h"

#include <openssl/evp.h>
#include <openssl/opensslconf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(HM_HASH_EVP_ONLY) && !defined(OPENSSL_NO_DEPRECATED_3_0)
#include <openssl/sha.h>
#define HM_HASH_FAST 1
#endif

static EVP_MD *hm_md_sha256;
static pthread_once_t hm_md_once = PTHREAD_ONCE_INIT;

static void hm_hash_die(const char *what)
{
    fprintf(stderr, "hallmark: fatal: OpenSSL %s failed\n", what);
    abort();
}

static void hm_md_init(void)
{
    hm_md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!hm_md_sha256)
        hm_hash_die("EVP_MD_fetch(SHA256)");
}

static const EVP_MD *hm_md(void)
{
    pthread_once(&hm_md_once, hm_md_init);
    return hm_md_sha256;
}

/* Per-thread cache of tag midstates. Tags are string literals from hash.h,
 * so a small table keyed by content is enough; it never shrinks. */
#define HM_TAG_CACHE 32
struct hm_tag_slot {
    const char *ptr; /* the literal last looked up (fast match by address) */
    char tag[48];
    EVP_MD_CTX *mid;
#ifdef HM_HASH_FAST
    SHA256_CTX fmid; /* the same midstate for the fast path */
#endif
};
static _Thread_local struct hm_tag_slot hm_tag_cache[HM_TAG_CACHE];
static _Thread_local EVP_MD_CTX *hm_scratch;

static EVP_MD_CTX *hm_ctx_new(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        hm_hash_die("EVP_MD_CTX_new");
    return c;
}

static void hm_tag_prefix(EVP_MD_CTX *c, const char *tag)
{
    uint8_t th[HM_HASH_LEN];
    hm_sha256(th, tag, strlen(tag));
    if (EVP_DigestInit_ex(c, hm_md(), NULL) != 1 || EVP_DigestUpdate(c, th, sizeof th) != 1 ||
        EVP_DigestUpdate(c, th, sizeof th) != 1)
        hm_hash_die("digest init");
}

static struct hm_tag_slot *hm_tag_slot_for(const char *tag)
{
    for (int i = 0; i < HM_TAG_CACHE; i++) {
        struct hm_tag_slot *s = &hm_tag_cache[i];
        if (!s->mid)
            break;
        if (s->ptr == tag && strcmp(s->tag, tag) == 0) /* the buffer may be reused */
            return s;
    }
    size_t n = strlen(tag);
    for (int i = 0; i < HM_TAG_CACHE; i++) {
        struct hm_tag_slot *s = &hm_tag_cache[i];
        if (s->mid && strcmp(s->tag, tag) == 0) {
            s->ptr = tag;
            return s;
        }
        if (!s->mid && n < sizeof s->tag) {
            memcpy(s->tag, tag, n + 1);
            s->mid = hm_ctx_new();
            hm_tag_prefix(s->mid, tag);
#ifdef HM_HASH_FAST
            uint8_t th[HM_HASH_LEN];
            hm_sha256(th, tag, n);
            if (SHA256_Init(&s->fmid) != 1 || SHA256_Update(&s->fmid, th, sizeof th) != 1 ||
                SHA256_Update(&s->fmid, th, sizeof th) != 1)
                hm_hash_die("SHA256 init");
#endif
            s->ptr = tag;
            return s;
        }
    }
    return NULL; /* cache full or tag too long: caller computes the prefix */
}

static const EVP_MD_CTX *hm_tag_midstate(const char *tag)
{
    struct hm_tag_slot *s = hm_tag_slot_for(tag);
    return s ? s->mid : NULL;
}

static void hm_begin_tagged(EVP_MD_CTX *c, const char *tag)
{
    const EVP_MD_CTX *mid = hm_tag_midstate(tag);
    if (mid) {
        if (EVP_MD_CTX_copy_ex(c, mid) != 1)
            hm_hash_die("EVP_MD_CTX_copy_ex");
    } else {
        hm_tag_prefix(c, tag);
    }
}

static EVP_MD_CTX *hm_scratch_ctx(void)
{
    if (!hm_scratch)
        hm_scratch = hm_ctx_new();
    return hm_scratch;
}

static void hm_finish(EVP_MD_CTX *c, uint8_t out[HM_HASH_LEN])
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c, out, &n) != 1 || n != HM_HASH_LEN)
        hm_hash_die("EVP_DigestFinal_ex");
}

void hm_sha256(uint8_t out[HM_HASH_LEN], const void *data, size_t len)
{
#ifdef HM_HASH_FAST
    SHA256_CTX f;
    if (SHA256_Init(&f) != 1 || SHA256_Update(&f, data, len) != 1 || SHA256_Final(out, &f) != 1)
        hm_hash_die("SHA256");
#else
    EVP_MD_CTX *c = hm_scratch_ctx();
    if (EVP_DigestInit_ex(c, hm_md(), NULL) != 1 || EVP_DigestUpdate(c, data, len) != 1)
        hm_hash_die("digest");
    hm_finish(c, out);
#endif
}

void hm_tagged_hash2(uint8_t out[HM_HASH_LEN], const char *tag, const void *a, size_t alen,
                     const void *b, size_t blen)
{
#ifdef HM_HASH_FAST
    const struct hm_tag_slot *s = hm_tag_slot_for(tag);
    if (s) {
        SHA256_CTX f = s->fmid;
        if ((alen && SHA256_Update(&f, a, alen) != 1) ||
            (blen && SHA256_Update(&f, b, blen) != 1) || SHA256_Final(out, &f) != 1)
            hm_hash_die("SHA256 update");
        return;
    }
#endif
    EVP_MD_CTX *c = hm_scratch_ctx();
    hm_begin_tagged(c, tag);
    if ((alen && EVP_DigestUpdate(c, a, alen) != 1) || (blen && EVP_DigestUpdate(c, b, blen) != 1))
        hm_hash_die("digest update");
    hm_finish(c, out);
}

void hm_tagged_hash(uint8_t out[HM_HASH_LEN], const char *tag, const void *data, size_t len)
{
    hm_tagged_hash2(out, tag, data, len, NULL, 0);
}

void hm_hasher_init(hm_hasher_t *h)
{
    EVP_MD_CTX *c = hm_ctx_new();
    if (EVP_DigestInit_ex(c, hm_md(), NULL) != 1)
        hm_hash_die("digest init");
    h->ctx = c;
}

void hm_hasher_init_tagged(hm_hasher_t *h, const char *tag)
{
    EVP_MD_CTX *c = hm_ctx_new();
    hm_begin_tagged(c, tag);
    h->ctx = c;
}

void hm_hasher_update(hm_hasher_t *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        hm_hash_die("digest update");
}

void hm_hasher_final(hm_hasher_t *h, uint8_t out[HM_HASH_LEN])
{
    hm_finish(h->ctx, out);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void hm_hasher_abort(hm_hasher_t *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void hm_hash_thread_cleanup(void)
{
    for (int i = 0; i < HM_TAG_CACHE; i++) {
        EVP_MD_CTX_free(hm_tag_cache[i].mid);
        hm_tag_cache[i].mid = NULL;
        hm_tag_cache[i].tag[0] = '\0';
        hm_tag_cache[i].ptr = NULL;
    }
    EVP_MD_CTX_free(hm_scratch);
    hm_scratch = NULL;
}
