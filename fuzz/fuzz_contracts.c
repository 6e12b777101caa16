/* Harness: contracts over a random tx sequence. The input bytes drive
 * contracts/testkit's workload (genesis with one accreditor and four
 * validators, a small accredited cast, then txs of every kind with
 * parameters, signers, nonces and block boundaries taken from the input)
 * on a fresh memory store. Invariants: nothing crashes or errors, and two
 * fresh executions give identical result codes and state roots. */
#include <string.h>

#include "contracts/testkit.h"
#include "fuzz/fuzz.h"
#include "lib/buf.h"

#define CONTRACTS_FUZZ_MAX_INPUT 4096 /* ~1000 txs: enough to reach deep states, fast enough */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CONTRACTS_FUZZ_MAX_INPUT)
        size = CONTRACTS_FUZZ_MAX_INPUT;
    hm_buf_t t1 = {0}, t2 = {0};
    hm_store_t *s1 = NULL, *s2 = NULL;
    HM_FUZZ_CHECK(hm_store_mem_new(&s1) == HM_OK);
    HM_FUZZ_CHECK(hm_store_mem_new(&s2) == HM_OK);
    HM_FUZZ_CHECK(ctk_script_run(s1, &t1, data, size) == HM_OK);
    HM_FUZZ_CHECK(ctk_script_run(s2, &t2, data, size) == HM_OK);
    HM_FUZZ_CHECK(t1.len == t2.len && t1.len >= 32);
    HM_FUZZ_CHECK(memcmp(t1.data, t2.data, t1.len) == 0);
    uint8_t r1[32], r2[32];
    hm_store_root(s1, r1);
    hm_store_root(s2, r2);
    HM_FUZZ_CHECK(memcmp(r1, r2, 32) == 0);
    /* the trace ends with the final root */
    HM_FUZZ_CHECK(memcmp(t1.data + t1.len - 32, r1, 32) == 0);
    hm_buf_free(&t1);
    hm_buf_free(&t2);
    hm_store_free(s1);
    hm_store_free(s2);
    return 0;
}
