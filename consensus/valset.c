/* consensus/valset — see valset.h. Depends on lib/ only. */
#include "consensus/valset.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/keys.h"

void valset_hash(uint8_t out[32], const uint8_t (*pks)[32], size_t n)
{
    hm_hasher_t h;
    uint8_t nb[4];
    hm_put_u32be(nb, (uint32_t)n);
    hm_hasher_init_tagged(&h, HM_TAG_VALSET);
    hm_hasher_update(&h, nb, 4);
    for (size_t i = 0; i < n; i++)
        hm_hasher_update(&h, pks[i], 32);
    hm_hasher_final(&h, out);
}

int valset_new(valset_t **out, const uint8_t (*pks)[32], size_t n)
{
    int rc = HM_ERR_INVALID;
    valset_t *vs = NULL;
    if (!out || !pks || n == 0 || n > VALSET_MAX)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (!hm_pubkey_is_valid(pks[i]))
            goto done;
        for (size_t j = 0; j < i; j++)
            if (memcmp(pks[i], pks[j], 32) == 0)
                goto done;
    }
    rc = HM_ERR_NOMEM;
    vs = calloc(1, sizeof *vs);
    if (!vs)
        goto done;
    vs->pks = malloc(n * 32);
    if (!vs->pks)
        goto done;
    memcpy(vs->pks, pks, n * 32);
    vs->n = n;
    valset_hash(vs->hash, pks, n);
    *out = vs;
    vs = NULL;
    rc = HM_OK;
done:
    valset_free(&vs);
    return rc;
}

void valset_free(valset_t **vs)
{
    if (!vs || !*vs)
        return;
    free((*vs)->pks);
    free(*vs);
    *vs = NULL;
}

int valset_index(const valset_t *vs, const uint8_t pk[32])
{
    for (size_t i = 0; i < vs->n; i++)
        if (memcmp(vs->pks[i], pk, 32) == 0)
            return (int)i;
    return -1;
}

size_t valset_f(const valset_t *vs)
{
    return (vs->n - 1) / 3;
}

size_t valset_quorum(const valset_t *vs)
{
    return 2 * valset_f(vs) + 1;
}

size_t valset_primary(const valset_t *vs, uint64_t view)
{
    return (size_t)(view % vs->n);
}
