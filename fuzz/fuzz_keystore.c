/* fuzz/fuzz_keystore — keystore files (wallet/keystore over lib/seal) opened
 * with a fixed passphrase.
 *
 * The first input byte picks what the rest is:
 *   0 load:  u16be L, L bytes of NAME.json, the rest NAME.key — written into
 *            a keystore directory and opened with wallet_key_unlock (also
 *            info, list and export);
 *   1 import: a sealed key image for wallet_key_import_sealed;
 *   2 round trip: u8 P, P bytes of passphrase, 32 bytes of secret, the rest a
 *            key name — the keystore writes the key, then opens, re-seals,
 *            exports and re-imports it.
 * The seeds' keys are all the one secret FIXED_SECRET sealed under
 * FIXED_PASS (fuzz/mkseeds). Invariants:
 *  - tampered or garbage files are an error with a message, from the
 *    documented set, and never a key: whatever opens is FIXED_SECRET with its
 *    own public key (no forgery without the passphrase);
 *  - a key the keystore wrote opens with its passphrase to the same secret,
 *    not with another passphrase (HM_ERR_AUTH), and survives a passphrase
 *    change and an export/import;
 *  - key names are accepted exactly when they match [A-Za-z0-9._-]{1,64}
 *    not starting with '.'.
 * The sealed header carries its own scrypt cost: lib/seal refuses costs over
 * its ceilings (memory, and work N*r*p since this harness found p = 16 made
 * one open take 32 s); that refusal is fuzzed — it must come before any
 * work, or the run times out — but a cost under the ceilings and above
 * 2^10*8*2 is skipped here so that one run stays in milliseconds (the
 * ceilings themselves are unit tests of lib/seal). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "lib/seal.h"
#include "wallet/keystore.h"

#define FIXED_PASS "fuzz-keystore-pass"
#define FIXED_SECRET_TAG "fuzz-keystore-secret" /* FIXED_SECRET = SHA-256 of this */
#define CHEAP_COST ((1ull << 10) * 8 * 2)

static wallet_keystore_t *ks;
static char dir[256];
static uint8_t fixed_sk[32], fixed_pk[32];

static void cleanup(void)
{
    static const char *names[] = {"k", "imp", "rt", "rt2"};
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.key", dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.json", dir, names[i]);
        unlink(path);
    }
}

static void at_exit(void)
{
    cleanup();
    rmdir(dir);
    wallet_keystore_free(ks);
}

static void init(void)
{
    if (ks)
        return;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/hm-fuzz-keystore-XXXXXX", base);
    HM_FUZZ_CHECK(mkdtemp(dir) != NULL);
    wallet_diag_t d = {{0}};
    HM_FUZZ_CHECK(wallet_keystore_open(&ks, dir, false, &d) == HM_OK);
    ks->params.log2_n = HM_SEAL_MIN_LOG2_N; /* fast seals for the round trips */
    hm_sha256(fixed_sk, FIXED_SECRET_TAG, strlen(FIXED_SECRET_TAG));
    HM_FUZZ_CHECK(hm_key_pubkey(fixed_pk, fixed_sk) == HM_OK);
    atexit(at_exit);
}

static void put_file(const char *name, const char *ext, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    HM_FUZZ_CHECK(fd >= 0);
    HM_FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    close(fd);
}

/* False when the sealed image asks for scrypt work under the ceilings but
 * above what one fuzz run may spend. */
static bool cheap_enough(const uint8_t *img, size_t len)
{
    if (len < 17 || !hm_seal_is_sealed(img, len) || img[6] != HM_SEAL_VERSION ||
        img[7] != HM_SEAL_KDF_SCRYPT)
        return true;
    uint32_t r = ((uint32_t)img[9] << 24) | ((uint32_t)img[10] << 16) | ((uint32_t)img[11] << 8) | img[12];
    uint32_t p = ((uint32_t)img[13] << 24) | ((uint32_t)img[14] << 16) | ((uint32_t)img[15] << 8) | img[16];
    unsigned log2_n = img[8];
    bool within = log2_n >= 1 && log2_n <= HM_SEAL_MAX_LOG2_N && r >= 1 && r <= HM_SEAL_MAX_R &&
                  p >= 1 && p <= HM_SEAL_MAX_P &&
                  (1ull << log2_n) * r * p <= HM_SEAL_MAX_KDF_WORK;
    return !within || (1ull << log2_n) * r * p <= CHEAP_COST;
}

static bool spec_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > WALLET_KEY_NAME_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void check_error(int rc, const wallet_diag_t *d)
{
    HM_FUZZ_CHECK(rc == HM_ERR_CORRUPT || rc == HM_ERR_AUTH || rc == HM_ERR_UNSUPPORTED ||
                  rc == HM_ERR_LIMIT || rc == HM_ERR_CRYPTO || rc == HM_ERR_TOO_LARGE);
    HM_FUZZ_CHECK(d->msg[0] != '\0');
}

static void load(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    size_t jl = ((size_t)data[0] << 8) | data[1];
    data += 2;
    size -= 2;
    if (jl > size)
        jl = size;
    const uint8_t *key = data + jl;
    size_t keylen = size - jl;
    if (!cheap_enough(key, keylen))
        return;
    put_file("k", ".json", data, jl);
    put_file("k", ".key", key, keylen);

    wallet_diag_t d = {{0}};
    wallet_keyinfo_t info, info2;
    int irc = wallet_key_info(ks, &info, "k", &d);
    if (irc != HM_OK)
        check_error(irc, &d);
    else
        HM_FUZZ_CHECK(strcmp(info.name, "k") == 0 && hm_pubkey_is_valid(info.pubkey));

    uint8_t sk[32];
    memset(&d, 0, sizeof d);
    int rc = wallet_key_unlock(ks, sk, &info2, "k", FIXED_PASS, strlen(FIXED_PASS), &d);
    if (rc == HM_OK) {
        /* only the genuine secret opens, and it matches its public file */
        HM_FUZZ_CHECK(irc == HM_OK);
        HM_FUZZ_CHECK(memcmp(sk, fixed_sk, 32) == 0);
        HM_FUZZ_CHECK(memcmp(info2.pubkey, fixed_pk, 32) == 0);
        HM_FUZZ_CHECK(memcmp(info.pubkey, fixed_pk, 32) == 0 && info.has_gid == info2.has_gid);
        /* and with any other passphrase it does not */
        uint8_t sk2[32];
        memset(&d, 0, sizeof d);
        HM_FUZZ_CHECK(wallet_key_unlock(ks, sk2, NULL, "k", FIXED_PASS "x",
                                        strlen(FIXED_PASS) + 1, &d) == HM_ERR_AUTH);
        HM_FUZZ_CHECK(d.msg[0] != '\0');
        hm_wipe(sk, sizeof sk);
    } else {
        check_error(rc, &d);
    }

    wallet_keyinfo_t *list = NULL;
    size_t n = 0;
    memset(&d, 0, sizeof d);
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY); /* list warns on stderr */
    if (saved >= 0 && devnull >= 0)
        dup2(devnull, 2);
    int lrc = wallet_key_list(ks, &list, &n, &d);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (devnull >= 0)
        close(devnull);
    HM_FUZZ_CHECK(lrc == HM_OK);
    HM_FUZZ_CHECK(n == (irc == HM_OK ? 1u : 0u));
    if (n)
        HM_FUZZ_CHECK(memcmp(list[0].pubkey, info.pubkey, 32) == 0);
    free(list);

    hm_buf_t img = {0};
    memset(&d, 0, sizeof d);
    int erc = wallet_key_export_sealed(ks, &img, "k", &d);
    if (erc == HM_OK)
        HM_FUZZ_CHECK(irc == HM_OK && img.len == keylen && memcmp(img.data, key, keylen) == 0);
    else
        HM_FUZZ_CHECK(d.msg[0] != '\0');
    hm_buf_free(&img);
}

static void import(const uint8_t *data, size_t size)
{
    if (!cheap_enough(data, size))
        return;
    wallet_diag_t d = {{0}};
    wallet_keyinfo_t info;
    int rc = wallet_key_import_sealed(ks, &info, "imp", data, size, FIXED_PASS,
                                      strlen(FIXED_PASS), &d);
    if (rc != HM_OK) {
        HM_FUZZ_CHECK(rc != HM_ERR_EXISTS);
        check_error(rc, &d);
        struct stat st;
        char path[512];
        snprintf(path, sizeof path, "%s/imp.key", dir);
        HM_FUZZ_CHECK(stat(path, &st) != 0 && errno == ENOENT); /* nothing written */
        return;
    }
    HM_FUZZ_CHECK(memcmp(info.pubkey, fixed_pk, 32) == 0);
    uint8_t sk[32];
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, "imp", FIXED_PASS, strlen(FIXED_PASS), &d) ==
                  HM_OK);
    HM_FUZZ_CHECK(memcmp(sk, fixed_sk, 32) == 0);
    hm_wipe(sk, sizeof sk);
}

static void round_trip(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t pl = data[0];
    if (size < 1 + pl + 32)
        return;
    const char *pass = (const char *)data + 1;
    const uint8_t *secret = data + 1 + pl;
    char name[80];
    size_t nl = size - 1 - pl - 32;
    if (nl >= sizeof name)
        nl = sizeof name - 1;
    memcpy(name, data + 1 + pl + 32, nl);
    name[nl] = '\0';
    bool name_ok = spec_name_ok(name, strlen(name));
    HM_FUZZ_CHECK(wallet_key_name_is_valid(name) == name_ok);
    /* the keystore's own names keep the directory clean */
    const char *use = "rt";

    wallet_diag_t d = {{0}};
    wallet_keyinfo_t info;
    uint8_t pk[32], sk[32];
    bool secret_ok = hm_key_pubkey(pk, secret) == HM_OK;
    int rc = wallet_key_import_secret(ks, &info, use, secret, pass, pl, &d);
    if (!secret_ok) {
        HM_FUZZ_CHECK(rc != HM_OK && d.msg[0]);
        return;
    }
    HM_FUZZ_CHECK(rc == HM_OK);
    HM_FUZZ_CHECK(memcmp(info.pubkey, pk, 32) == 0);
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, use, pass, pl, &d) == HM_OK);
    HM_FUZZ_CHECK(memcmp(sk, secret, 32) == 0);
    /* one more byte of passphrase is another passphrase */
    char *other = malloc(pl + 1);
    HM_FUZZ_CHECK(other != NULL);
    memcpy(other, pass, pl);
    other[pl] = 'x';
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, use, other, pl + 1, &d) == HM_ERR_AUTH);
    /* a new passphrase replaces the old */
    HM_FUZZ_CHECK(wallet_key_change_passphrase(ks, use, pass, pl, other, pl + 1, &d) == HM_OK);
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, use, pass, pl, &d) == HM_ERR_AUTH);
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, use, other, pl + 1, &d) == HM_OK);
    HM_FUZZ_CHECK(memcmp(sk, secret, 32) == 0);
    /* a GID is public data and leaves the secret alone */
    uint8_t gid[HM_GID_LEN];
    memset(gid, pl, sizeof gid);
    HM_FUZZ_CHECK(wallet_key_set_gid(ks, use, gid, &d) == HM_OK);
    HM_FUZZ_CHECK(wallet_key_info(ks, &info, use, &d) == HM_OK);
    HM_FUZZ_CHECK(info.has_gid && memcmp(info.gid, gid, sizeof gid) == 0);
    /* export, import under another name */
    hm_buf_t img = {0};
    HM_FUZZ_CHECK(wallet_key_export_sealed(ks, &img, use, &d) == HM_OK);
    HM_FUZZ_CHECK(wallet_key_import_sealed(ks, &info, "rt2", img.data, img.len, other, pl + 1,
                                           &d) == HM_OK);
    HM_FUZZ_CHECK(memcmp(info.pubkey, pk, 32) == 0);
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, "rt2", other, pl + 1, &d) == HM_OK);
    HM_FUZZ_CHECK(memcmp(sk, secret, 32) == 0);
    /* an existing name is never overwritten */
    HM_FUZZ_CHECK(wallet_key_import_secret(ks, NULL, use, fixed_sk, pass, pl, &d) ==
                  HM_ERR_EXISTS);
    HM_FUZZ_CHECK(wallet_key_unlock(ks, sk, NULL, use, other, pl + 1, &d) == HM_OK);
    HM_FUZZ_CHECK(memcmp(sk, secret, 32) == 0);
    hm_buf_free(&img);
    hm_wipe(sk, sizeof sk);
    free(other);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    cleanup();
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: load(data + 1, size - 1); break;
    case 1: import(data + 1, size - 1); break;
    default: round_trip(data + 1, size - 1); break;
    }
    cleanup();
    return 0;
}
