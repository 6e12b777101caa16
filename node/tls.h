/* node/tls — TLS 1.3-only OpenSSL contexts for the p2p mesh (DESIGN §8).
 *
 * Each node has a private key and a self-signed X.509 certificate made by
 * `hallmarkd init`. A certificate is identified by its fingerprint, the
 * SHA-256 of its DER encoding. Authentication is by pinning only: the peer's
 * leaf certificate must have a fingerprint the owner allows (genesis
 * validators, the observer allow-list); CA chains, names and dates are not
 * consulted. Both sides present certificates (mutual authentication).
 *
 * One of the two node files allowed to include OpenSSL headers (with
 * node/p2p*); this header keeps OpenSSL types opaque so that callers such as
 * node/main need not include them. Depends on lib/ and OpenSSL. */
#ifndef HM_NODE_TLS_H
#define HM_NODE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define TLS_FP_LEN 32

struct ssl_st;     /* OpenSSL SSL */
struct ssl_ctx_st; /* OpenSSL SSL_CTX */

/* Decide whether a peer certificate fingerprint is allowed. Called from the
 * handshake, on the thread running the event loop. */
typedef bool (*tls_allow_fn)(void *arg, const uint8_t fp[TLS_FP_LEN]);

typedef struct tls_ctx tls_ctx_t;

/* Generate an EC P-256 key and a self-signed certificate (CN = hallmark
 * node `cn`, valid 20 years) and write them as PEM: key_path 0600, both
 * atomically. Refuses to overwrite (HM_ERR_EXISTS). Out: fp of the cert. */
int tls_generate(uint8_t fp[TLS_FP_LEN], const char *key_path, const char *cert_path,
                 const char *cn) HM_WUR;

/* Fingerprint of the PEM certificate at path. */
int tls_cert_fingerprint(uint8_t fp[TLS_FP_LEN], const char *cert_path) HM_WUR;

/* A TLS 1.3-only context serving as client and server, presenting the given
 * certificate and key and requiring a peer certificate that `allow` accepts.
 * allow/arg are borrowed and must outlive the context.
 * Out: *out (caller frees with tls_ctx_free); *own_fp optional. */
int tls_ctx_new(tls_ctx_t **out, uint8_t own_fp[TLS_FP_LEN], const char *cert_path,
                const char *key_path, tls_allow_fn allow, void *arg) HM_WUR;
void tls_ctx_free(tls_ctx_t *t);

/* A fresh SSL object of this context (caller owns; in practice handed to a
 * bufferevent with BEV_OPT_CLOSE_ON_FREE, which frees it). NULL on failure. */
struct ssl_st *tls_ssl_new(tls_ctx_t *t);

/* Fingerprint of the certificate the peer presented on a completed
 * handshake. HM_ERR_AUTH when there is none. */
int tls_peer_fingerprint(uint8_t fp[TLS_FP_LEN], struct ssl_st *ssl) HM_WUR;

/* The most recent OpenSSL error as text (for log lines); static buffer of
 * the calling thread. */
const char *tls_last_error(void);

#endif
