/* Harness: P2P envelope decode (every frame a peer sends). Invariant:
 * encoding is a function of the decoded message — decode(encode(m)) encodes
 * to the same bytes again. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Hallmark__Envelope *e = NULL;
    if (hm_decode_envelope(&e, data, size) != HM_OK) {
        HM_FUZZ_CHECK(e == NULL);
        return 0;
    }
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    HM_FUZZ_CHECK(hm_codec_encode(&a, &alen, &e->base) == HM_OK);
    Hallmark__Envelope *e2 = NULL;
    HM_FUZZ_CHECK(hm_decode_envelope(&e2, a, alen) == HM_OK);
    HM_FUZZ_CHECK(e2->msg_case == e->msg_case);
    HM_FUZZ_CHECK(hm_codec_encode(&b, &blen, &e2->base) == HM_OK);
    HM_FUZZ_CHECK(alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
    free(a);
    free(b);
    hm_free_envelope(e2);
    hm_free_envelope(e);
    return 0;
}
