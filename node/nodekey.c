/* node/nodekey — see nodekey.h. Owns the key file formats (plain hex or a
 * lib/seal image); depends on lib/ only. */
#include "node/nodekey.h"

#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/hex.h"
#include "lib/seal.h"

int nodekey_create(uint8_t pubkey[HM_PUBKEY_LEN], const char *path, const char *pass,
                   size_t pass_len)
{
    int rc;
    uint8_t sk[HM_SECKEY_LEN], pk[HM_PUBKEY_LEN];
    char hex[2 * HM_SECKEY_LEN + 2];
    struct stat st;

    if (stat(path, &st) == 0)
        return HM_ERR_EXISTS;
    if ((rc = hm_key_generate(sk, pk)) != HM_OK)
        goto done;
    if (pass) {
        rc = hm_seal_write_file(path, sk, sizeof sk, pass, pass_len, NULL);
    } else {
        hm_hex_encode(hex, sk, sizeof sk);
        hex[2 * HM_SECKEY_LEN] = '\n';
        hex[2 * HM_SECKEY_LEN + 1] = '\0';
        rc = hm_seal_write_atomic(path, (const uint8_t *)hex, 2 * HM_SECKEY_LEN + 1);
    }
    if (rc == HM_OK)
        memcpy(pubkey, pk, HM_PUBKEY_LEN);
done:
    hm_wipe(sk, sizeof sk);
    hm_wipe(hex, sizeof hex);
    return rc;
}

int nodekey_load(uint8_t seckey[HM_SECKEY_LEN], uint8_t pubkey[HM_PUBKEY_LEN], const char *path,
                 const char *pass, size_t pass_len)
{
    int rc;
    hm_buf_t raw = {0}, plain = {0};
    uint8_t sk[HM_SECKEY_LEN];

    if ((rc = hm_seal_read_file(&raw, path, HM_SEAL_MAX_FILE)) != HM_OK)
        goto done;
    if (hm_seal_is_sealed(raw.data, raw.len)) {
        if (!pass) {
            rc = HM_ERR_STATE;
            goto done;
        }
        if ((rc = hm_unseal(&plain, raw.data, raw.len, pass, pass_len)) != HM_OK)
            goto done;
        rc = HM_ERR_CORRUPT;
        if (plain.len != HM_SECKEY_LEN)
            goto done;
        memcpy(sk, plain.data, HM_SECKEY_LEN);
    } else {
        rc = HM_ERR_CORRUPT;
        size_t n = raw.len;
        if (n > 0 && raw.data[n - 1] == '\n')
            n--;
        if (n != 2 * HM_SECKEY_LEN)
            goto done;
        char hex[2 * HM_SECKEY_LEN + 1];
        memcpy(hex, raw.data, n);
        hex[n] = '\0';
        int drc = hm_hex_decode(sk, sizeof sk, hex);
        hm_wipe(hex, sizeof hex);
        if (drc != HM_OK)
            goto done;
    }
    if ((rc = hm_key_pubkey(pubkey, sk)) != HM_OK) {
        rc = HM_ERR_CORRUPT;
        goto done;
    }
    memcpy(seckey, sk, HM_SECKEY_LEN);
    rc = HM_OK;
done:
    hm_wipe(sk, sizeof sk);
    hm_buf_free_secure(&raw);
    hm_buf_free_secure(&plain);
    return rc;
}

int nodekey_read_passphrase(char **out, size_t *len, const char *path)
{
    hm_buf_t b = {0};
    int rc = hm_seal_read_file(&b, path, NODEKEY_MAX_PASSPHRASE + 2);
    if (rc != HM_OK)
        goto done;
    size_t n = 0;
    while (n < b.len && b.data[n] != '\n' && b.data[n] != '\r')
        n++;
    rc = HM_ERR_TOO_LARGE;
    if (n > NODEKEY_MAX_PASSPHRASE)
        goto done;
    rc = HM_ERR_NOMEM;
    char *p = malloc(n + 1);
    if (!p)
        goto done;
    if (n)
        memcpy(p, b.data, n);
    p[n] = '\0';
    *out = p;
    *len = n;
    rc = HM_OK;
done:
    hm_buf_free_secure(&b);
    return rc;
}
