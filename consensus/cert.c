/* consensus/cert — see cert.h. Depends on lib/, consensus/valset,
 * consensus/vote; never on the replica core. */
#include "consensus/cert.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/vote.h"
#include "lib/keys.h"

const char *cert_reason_name(cert_reason_t r)
{
    switch (r) {
    case CERT_OK: return "CERT_OK";
    case CERT_MALFORMED: return "CERT_MALFORMED";
    case CERT_WRONG_HEIGHT: return "CERT_WRONG_HEIGHT";
    case CERT_WRONG_HASH: return "CERT_WRONG_HASH";
    case CERT_UNKNOWN_VALIDATOR: return "CERT_UNKNOWN_VALIDATOR";
    case CERT_DUPLICATE_VALIDATOR: return "CERT_DUPLICATE_VALIDATOR";
    case CERT_BAD_SIGNATURE: return "CERT_BAD_SIGNATURE";
    case CERT_TOO_FEW: return "CERT_TOO_FEW";
    case CERT_TOO_MANY: return "CERT_TOO_MANY";
    }
    return "CERT_?";
}

int cert_verify(cert_reason_t *reason, const Hallmark__CommitCertificate *cert,
                const uint8_t chain_id[32], const valset_t *vs, const uint64_t *expect_height,
                const uint8_t *expect_hash)
{
    cert_reason_t why = CERT_MALFORMED;
    bool seen[VALSET_MAX] = {false};
    if (!cert || cert->block_hash.len != 32)
        goto done;
    for (size_t i = 0; i < cert->n_signatures; i++) {
        const Hallmark__VoteSignature *s = cert->signatures[i];
        if (!s || s->validator.len != 32 || s->signature.len != 64)
            goto done;
    }
    why = CERT_WRONG_HEIGHT;
    if (expect_height && cert->height != *expect_height)
        goto done;
    why = CERT_WRONG_HASH;
    if (expect_hash && memcmp(expect_hash, cert->block_hash.data, 32) != 0)
        goto done;
    why = CERT_TOO_MANY;
    if (cert->n_signatures > vs->n)
        goto done;
    why = CERT_TOO_FEW;
    if (cert->n_signatures < valset_quorum(vs))
        goto done;
    for (size_t i = 0; i < cert->n_signatures; i++) {
        const Hallmark__VoteSignature *s = cert->signatures[i];
        int idx = valset_index(vs, s->validator.data);
        why = CERT_UNKNOWN_VALIDATOR;
        if (idx < 0)
            goto done;
        why = CERT_DUPLICATE_VALIDATOR;
        if (seen[idx])
            goto done;
        seen[idx] = true;
    }
    why = CERT_BAD_SIGNATURE;
    for (size_t i = 0; i < cert->n_signatures; i++) {
        const Hallmark__VoteSignature *s = cert->signatures[i];
        if (!pbft_vote_verify(s->signature.data, s->validator.data, chain_id, PBFT_PHASE_COMMIT,
                              cert->view, cert->height, cert->block_hash.data))
            goto done;
    }
    why = CERT_OK;
done:
    if (reason)
        *reason = why;
    return why == CERT_OK ? HM_OK : HM_ERR_PROOF;
}

int cert_verify_bytes(cert_reason_t *reason, const uint8_t *data, size_t len,
                      const uint8_t chain_id[32], const valset_t *vs,
                      const uint64_t *expect_height, const uint8_t *expect_hash)
{
    Hallmark__CommitCertificate *c = NULL;
    int rc = hm_decode_commit_cert(&c, data, len);
    if (rc != HM_OK) {
        if (reason)
            *reason = CERT_MALFORMED;
        rc = HM_ERR_PROOF;
        goto done;
    }
    rc = cert_verify(reason, c, chain_id, vs, expect_height, expect_hash);
done:
    hm_free_commit_cert(c);
    return rc;
}

int cert_build(uint8_t **out, size_t *out_len, uint64_t height, uint64_t view,
               const uint8_t block_hash[32], const uint8_t (*pks)[32], const uint8_t (*sigs)[64],
               size_t n)
{
    int rc = HM_ERR_NOMEM;
    Hallmark__CommitCertificate c = HALLMARK__COMMIT_CERTIFICATE__INIT;
    Hallmark__VoteSignature *vs = NULL;
    Hallmark__VoteSignature **vps = NULL;
    if (n > 0) {
        vs = calloc(n, sizeof *vs);
        vps = calloc(n, sizeof *vps);
        if (!vs || !vps)
            goto done;
    }
    for (size_t i = 0; i < n; i++) {
        hallmark__vote_signature__init(&vs[i]);
        vs[i].validator.data = (uint8_t *)pks[i];
        vs[i].validator.len = 32;
        vs[i].signature.data = (uint8_t *)sigs[i];
        vs[i].signature.len = 64;
        vps[i] = &vs[i];
    }
    c.height = height;
    c.view = view;
    c.block_hash.data = (uint8_t *)block_hash;
    c.block_hash.len = 32;
    c.n_signatures = n;
    c.signatures = vps;
    rc = hm_codec_encode(out, out_len, &c.base);
done:
    free(vs);
    free(vps);
    return rc;
}
