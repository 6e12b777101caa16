/* Harness: SMT proofs from an untrusted node (the auditor's trust boundary).
 * Input: root[32] || key length[1] || key || SmtProof bytes. Invariants: a
 * malformed proof is refused cleanly; verification is deterministic; a
 * proof that verifies still verifies after an encode/decode round trip, and
 * stops verifying for another root. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/smt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 33)
        return 0;
    const uint8_t *root = data;
    size_t klen = data[32];
    if (size < 33 + klen)
        return 0;
    const uint8_t *key = data + 33;
    const uint8_t *pb = data + 33 + klen;
    size_t plen = size - 33 - klen;

    hm_smt_proof_t *p = malloc(sizeof *p), *q = malloc(sizeof *q);
    HM_FUZZ_CHECK(p && q);
    if (hm_smt_proof_decode(p, pb, plen) != HM_OK)
        goto done;
    uint8_t kh[32];
    hm_smt_key_hash(kh, key, klen);
    /* absence, and membership claimed with the leaf's own value hash */
    int a1 = hm_smt_verify_hashed(root, kh, NULL, p);
    int a2 = hm_smt_verify_hashed(root, kh, NULL, p);
    HM_FUZZ_CHECK(a1 == a2 && (a1 == HM_OK || a1 == HM_ERR_PROOF));
    int m = p->has_leaf ? hm_smt_verify_hashed(root, p->leaf_key, p->leaf_value_hash, p)
                        : HM_ERR_PROOF;
    HM_FUZZ_CHECK(m == HM_OK || m == HM_ERR_PROOF);

    uint8_t *enc = NULL;
    size_t elen = 0;
    HM_FUZZ_CHECK(hm_smt_proof_encode(&enc, &elen, p) == HM_OK);
    HM_FUZZ_CHECK(hm_smt_proof_decode(q, enc, elen) == HM_OK);
    free(enc);
    HM_FUZZ_CHECK(hm_smt_verify_hashed(root, kh, NULL, q) == a1);
    if (m == HM_OK) {
        HM_FUZZ_CHECK(hm_smt_verify_hashed(root, q->leaf_key, q->leaf_value_hash, q) == HM_OK);
        uint8_t other[32];
        memcpy(other, root, 32);
        other[0] ^= 1;
        HM_FUZZ_CHECK(hm_smt_verify_hashed(other, p->leaf_key, p->leaf_value_hash, p) ==
                      HM_ERR_PROOF);
    }
done:
    free(p);
    free(q);
    return 0;
}
