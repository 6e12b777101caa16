/* node/tls — see tls.h. Owns every SSL_CTX and X.509 detail of the node;
 * depends on lib/ and OpenSSL (ssl, crypto). */
#include "node/tls.h"

#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/log.h"
#include "lib/seal.h"

struct tls_ctx {
    SSL_CTX *ctx;
    tls_allow_fn allow;
    void *arg;
};

const char *tls_last_error(void)
{
    static __thread char buf[256];
    unsigned long e = ERR_get_error();
    if (!e)
        return "no OpenSSL error";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

static int cert_fp(uint8_t fp[TLS_FP_LEN], const X509 *cert)
{
    unsigned int n = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), fp, &n) != 1 || n != TLS_FP_LEN)
        return HM_ERR_CRYPTO;
    return HM_OK;
}

/* Write the PEM produced by fn into path atomically (0600). */
static int write_pem(const char *path, BIO *mem)
{
    char *p = NULL;
    long n = BIO_get_mem_data(mem, &p);
    if (n <= 0 || !p)
        return HM_ERR_CRYPTO;
    return hm_seal_write_atomic(path, (const uint8_t *)p, (size_t)n);
}

int tls_generate(uint8_t fp[TLS_FP_LEN], const char *key_path, const char *cert_path,
                 const char *cn)
{
    int rc = HM_ERR_CRYPTO;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    BIO *kb = NULL, *cb = NULL;
    X509_NAME *name;
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    char subject[128];
    struct stat st;

    if (stat(key_path, &st) == 0 || stat(cert_path, &st) == 0)
        return HM_ERR_EXISTS;
    if (!(key = EVP_EC_gen("P-256")) || !(x = X509_new()))
        goto done;
    if (X509_set_version(x, 2) != 1 || RAND_bytes(serial, sizeof serial) != 1)
        goto done;
    serial[0] &= 0x7f; /* positive */
    if (!(bn = BN_bin2bn(serial, sizeof serial, NULL)) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        goto done;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 20L * 365 * 24 * 3600))
        goto done;
    snprintf(subject, sizeof subject, "hallmark node %s", cn && *cn ? cn : "");
    name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)subject, -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1 ||
        X509_sign(x, key, EVP_sha256()) <= 0)
        goto done;
    if (!(kb = BIO_new(BIO_s_mem())) || !(cb = BIO_new(BIO_s_mem())))
        goto done;
    if (PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509(cb, x) != 1)
        goto done;
    if ((rc = cert_fp(fp, x)) != HM_OK)
        goto done;
    if ((rc = write_pem(key_path, kb)) != HM_OK || (rc = write_pem(cert_path, cb)) != HM_OK)
        goto done;
    rc = HM_OK;
done:
    if (rc == HM_ERR_CRYPTO)
        HM_LOG_ERR("tls", "generating the TLS key/certificate failed: %s", tls_last_error());
    BN_free(bn);
    if (kb) { /* the PEM private key sits in this buffer: wipe it */
        char *kp = NULL;
        long kn = BIO_get_mem_data(kb, &kp);
        if (kn > 0 && kp)
            OPENSSL_cleanse(kp, (size_t)kn);
    }
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

int tls_cert_fingerprint(uint8_t fp[TLS_FP_LEN], const char *cert_path)
{
    int rc = HM_ERR_NOT_FOUND;
    X509 *x = NULL;
    BIO *b = BIO_new_file(cert_path, "r");
    if (!b)
        goto done;
    rc = HM_ERR_CORRUPT;
    if (!(x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        goto done;
    rc = cert_fp(fp, x);
done:
    ERR_clear_error();
    X509_free(x);
    BIO_free(b);
    return rc;
}

/* Pinning is the rule: the chain's validity is irrelevant, only the leaf's
 * fingerprint counts. preverify_ok is ignored on purpose (self-signed). */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    if (X509_STORE_CTX_get_error_depth(store) > 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    tls_ctx_t *t = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    uint8_t fp[TLS_FP_LEN];
    if (!t || cert_fp(fp, X509_STORE_CTX_get_current_cert(store)) != HM_OK)
        return 0;
    if (!t->allow(t->arg, fp)) {
        char hex[2 * TLS_FP_LEN + 1];
        static const char *dig = "0123456789abcdef";
        for (size_t i = 0; i < TLS_FP_LEN; i++) {
            hex[2 * i] = dig[fp[i] >> 4];
            hex[2 * i + 1] = dig[fp[i] & 15];
        }
        hex[2 * TLS_FP_LEN] = '\0';
        HM_LOG_WARN("tls", "refusing peer certificate %s: fingerprint not pinned", hex);
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

int tls_ctx_new(tls_ctx_t **out, uint8_t own_fp[TLS_FP_LEN], const char *cert_path,
                const char *key_path, tls_allow_fn allow, void *arg)
{
    int rc = HM_ERR_NOMEM;
    tls_ctx_t *t = calloc(1, sizeof *t);
    if (!t)
        goto done;
    t->allow = allow;
    t->arg = arg;
    rc = HM_ERR_CRYPTO;
    if (!(t->ctx = SSL_CTX_new(TLS_method())))
        goto done;
    SSL_CTX_set_app_data(t->ctx, t);
    if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(t->ctx, TLS1_3_VERSION) != 1)
        goto done;
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    /* Every handshake presents and checks a certificate: no resumption. */
    SSL_CTX_set_num_tickets(t->ctx, 0);
    rc = HM_ERR_IO;
    if (SSL_CTX_use_certificate_file(t->ctx, cert_path, SSL_FILETYPE_PEM) != 1) {
        HM_LOG_ERR("tls", "cannot load certificate %s: %s", cert_path, tls_last_error());
        goto done;
    }
    if (SSL_CTX_use_PrivateKey_file(t->ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1) {
        HM_LOG_ERR("tls", "cannot load key %s: %s", key_path, tls_last_error());
        goto done;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    if (own_fp && (rc = cert_fp(own_fp, SSL_CTX_get0_certificate(t->ctx))) != HM_OK)
        goto done;
    *out = t;
    t = NULL;
    rc = HM_OK;
done:
    tls_ctx_free(t);
    return rc;
}

void tls_ctx_free(tls_ctx_t *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

struct ssl_st *tls_ssl_new(tls_ctx_t *t)
{
    return SSL_new(t->ctx);
}

int tls_peer_fingerprint(uint8_t fp[TLS_FP_LEN], struct ssl_st *ssl)
{
    X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (!peer)
        return HM_ERR_AUTH;
    return cert_fp(fp, peer);
}
