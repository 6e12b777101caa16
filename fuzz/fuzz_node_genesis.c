/* Harness: the genesis parser (node/genesis) on arbitrary bytes — the file
 * an operator receives from the consortium. Invariants: a rejected input
 * leaves no output; an accepted one has a chain id equal to the tagged hash
 * of exactly those bytes, re-serialises (genesis_dump) into a file that
 * parses to the same validators and parameters. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/hash.h"
#include "node/genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    genesis_t *g = NULL, *g2 = NULL;
    char err[256];
    if (genesis_parse(&g, data, size, err, sizeof err) != HM_OK) {
        HM_FUZZ_CHECK(g == NULL);
        return 0;
    }
    uint8_t want[HM_HASH_LEN];
    hm_tagged_hash(want, HM_TAG_GENESIS, data, size);
    HM_FUZZ_CHECK(memcmp(want, g->chain_id, HM_HASH_LEN) == 0);
    HM_FUZZ_CHECK(g->n_validators >= 1 && g->n_validators <= GENESIS_MAX_VALIDATORS);
    char *json = NULL;
    size_t len = 0;
    HM_FUZZ_CHECK(genesis_dump(&json, &len, g) == HM_OK);
    HM_FUZZ_CHECK(genesis_parse(&g2, (const uint8_t *)json, len, err, sizeof err) == HM_OK);
    HM_FUZZ_CHECK(g2->n_validators == g->n_validators && g2->n_accreditors == g->n_accreditors);
    HM_FUZZ_CHECK(memcmp(&g2->params, &g->params, sizeof g->params) == 0);
    for (size_t i = 0; i < g->n_validators; i++)
        HM_FUZZ_CHECK(memcmp(&g->validators[i], &g2->validators[i], sizeof g->validators[i]) == 0);
    free(json);
    genesis_free(g2);
    genesis_free(g);
    return 0;
}
