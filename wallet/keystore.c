/* wallet/keystore — see keystore.h. */
#include "wallet/keystore.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/hex.h"

#define PUBLIC_FILE_MAX (64u * 1024u)

bool wallet_key_name_is_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > WALLET_KEY_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int check_name(const char *name, wallet_diag_t *d)
{
    if (!wallet_key_name_is_valid(name)) {
        wallet_diag_set(d,
                        "invalid key name \"%.70s\": use 1 to %d of A-Z a-z 0-9 . _ - (not "
                        "starting with '.')",
                        name ? name : "", WALLET_KEY_NAME_MAX);
        return HM_ERR_INVALID;
    }
    return HM_OK;
}

int wallet_keystore_dir(char **out, const char *flag_dir, wallet_diag_t *d)
{
    const char *env = getenv(WALLET_ENV_DIR);
    char *dir = NULL;
    if (flag_dir && *flag_dir) {
        dir = strdup(flag_dir);
    } else if (env && *env) {
        dir = strdup(env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            wallet_diag_set(d, "no keystore directory: give --wallet-dir, set " WALLET_ENV_DIR
                               " or HOME");
            return HM_ERR_INVALID;
        }
        size_t n = strlen(home) + sizeof "/.hallmark/wallet";
        dir = malloc(n);
        if (dir)
            snprintf(dir, n, "%s/.hallmark/wallet", home);
    }
    if (!dir) {
        wallet_diag_set(d, "out of memory");
        return HM_ERR_NOMEM;
    }
    *out = dir;
    return HM_OK;
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return HM_ERR_INVALID;
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return HM_ERR_IO;
            tmp[i] = c;
        }
    }
    return HM_OK;
}

int wallet_keystore_open(wallet_keystore_t **out, const char *dir, bool create, wallet_diag_t *d)
{
    struct stat st;
    int rc = HM_ERR_NOMEM;
    wallet_keystore_t *ks = calloc(1, sizeof *ks);
    if (!ks || !(ks->dir = strdup(dir))) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    ks->params = hm_seal_params_default();
    const char *fast = getenv(WALLET_ENV_FAST_KDF);
    if (fast && strcmp(fast, "1") == 0)
        ks->params.log2_n = HM_SEAL_MIN_LOG2_N;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || !create) {
            wallet_diag_set(d, "keystore %s: %s", dir,
                            errno == ENOENT ? "does not exist (create a key first)"
                                            : strerror(errno));
            rc = errno == ENOENT ? HM_ERR_NOT_FOUND : HM_ERR_IO;
            goto done;
        }
        if (mkdir_p(dir) != HM_OK || stat(dir, &st) != 0) {
            wallet_diag_set(d, "keystore %s: cannot create: %s", dir, strerror(errno));
            rc = HM_ERR_IO;
            goto done;
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        wallet_diag_set(d, "keystore %s: not a directory", dir);
        rc = HM_ERR_INVALID;
        goto done;
    }
    if (st.st_mode & 077)
        fprintf(stderr, "hallmark-wallet: warning: keystore %s is accessible by other users "
                        "(chmod 700 it)\n",
                dir);
    rc = HM_OK;
done:
    if (rc == HM_OK)
        *out = ks;
    else
        wallet_keystore_free(ks);
    return rc;
}

void wallet_keystore_free(wallet_keystore_t *ks)
{
    if (!ks)
        return;
    free(ks->dir);
    free(ks);
}

static int entry_path(char *out, size_t cap, const wallet_keystore_t *ks, const char *name,
                      const char *ext)
{
    if ((size_t)snprintf(out, cap, "%s/%s%s", ks->dir, name, ext) >= cap)
        return HM_ERR_INVALID;
    return HM_OK;
}

/* ---------------------------------------------------------- public file */

static int write_public(const wallet_keystore_t *ks, const wallet_keyinfo_t *info,
                        wallet_diag_t *d)
{
    char path[4096], pub[65], gid[41];
    int rc = HM_ERR_NOMEM;
    char *text = NULL;
    json_t *o = NULL;
    if (entry_path(path, sizeof path, ks, info->name, ".json") != HM_OK) {
        wallet_diag_set(d, "keystore path too long");
        return HM_ERR_INVALID;
    }
    hm_hex_encode(pub, info->pubkey, sizeof info->pubkey);
    o = json_pack("{s:i, s:s, s:s}", "version", 1, "name", info->name, "pubkey", pub);
    if (!o)
        goto done;
    if (info->has_gid) {
        hm_hex_encode(gid, info->gid, sizeof info->gid);
        if (json_object_set_new(o, "gid", json_string(gid)) != 0)
            goto done;
    }
    text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        goto done;
    size_t n = strlen(text);
    text[n] = '\n'; /* written with its length; not used as a C string again */
    errno = 0;
    rc = hm_seal_write_atomic(path, (const uint8_t *)text, n + 1);
    if (rc != HM_OK)
        wallet_diag_set(d, "cannot write %s: %s", path, errno ? strerror(errno) : "I/O error");
done:
    if (rc == HM_ERR_NOMEM)
        wallet_diag_set(d, "out of memory");
    free(text);
    json_decref(o);
    return rc;
}

static int read_public(const wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                       wallet_diag_t *d)
{
    char path[4096];
    hm_buf_t b = {0};
    json_t *o = NULL;
    json_error_t jerr;
    wallet_keyinfo_t k;
    int rc = check_name(name, d);
    if (rc != HM_OK)
        return rc;
    if (entry_path(path, sizeof path, ks, name, ".json") != HM_OK) {
        wallet_diag_set(d, "keystore path too long");
        return HM_ERR_INVALID;
    }
    memset(&k, 0, sizeof k);
    rc = hm_seal_read_file(&b, path, PUBLIC_FILE_MAX);
    if (rc == HM_ERR_NOT_FOUND) {
        wallet_diag_set(d, "no key named \"%s\" in %s", name, ks->dir);
        goto done;
    }
    if (rc != HM_OK) {
        wallet_diag_set(d, "cannot read %s", path);
        goto done;
    }
    rc = HM_ERR_CORRUPT;
    o = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o || !json_is_object(o)) {
        wallet_diag_set(d, "%s: not a keystore public file (%s)", path,
                        o ? "not a JSON object" : jerr.text);
        goto done;
    }
    json_t *jn = json_object_get(o, "name");
    json_t *jp = json_object_get(o, "pubkey");
    json_t *jg = json_object_get(o, "gid");
    json_t *jv = json_object_get(o, "version");
    if (!json_is_integer(jv) || json_integer_value(jv) != 1) {
        wallet_diag_set(d, "%s: unsupported or missing \"version\" (expected 1)", path);
        goto done;
    }
    if (!json_is_string(jn) || strcmp(json_string_value(jn), name) != 0) {
        wallet_diag_set(d, "%s: \"name\" does not match the file name", path);
        goto done;
    }
    if (!json_is_string(jp) || hm_hex_decode(k.pubkey, sizeof k.pubkey, json_string_value(jp)) !=
                                   HM_OK ||
        !hm_pubkey_is_valid(k.pubkey)) {
        wallet_diag_set(d, "%s: \"pubkey\" is not a valid 64-hex public key", path);
        goto done;
    }
    if (jg && !json_is_null(jg)) {
        if (!json_is_string(jg) ||
            hm_hex_decode(k.gid, sizeof k.gid, json_string_value(jg)) != HM_OK) {
            wallet_diag_set(d, "%s: \"gid\" is not 40 hex digits", path);
            goto done;
        }
        k.has_gid = true;
    }
    snprintf(k.name, sizeof k.name, "%s", name);
    *info = k;
    rc = HM_OK;
done:
    json_decref(o);
    hm_buf_free(&b);
    return rc;
}

int wallet_key_info(const wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                    wallet_diag_t *d)
{
    return read_public(ks, info, name, d);
}

/* ------------------------------------------------------------- create */

static bool entry_exists(const wallet_keystore_t *ks, const char *name)
{
    char path[4096];
    struct stat st;
    if (entry_path(path, sizeof path, ks, name, ".key") == HM_OK && lstat(path, &st) == 0)
        return true;
    if (entry_path(path, sizeof path, ks, name, ".json") == HM_OK && lstat(path, &st) == 0)
        return true;
    return false;
}

/* Seal seckey under pass into NAME.key and write NAME.json. */
static int store_new(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                     const uint8_t seckey[HM_SECKEY_LEN], const char *pass, size_t pass_len,
                     wallet_diag_t *d)
{
    char path[4096];
    wallet_keyinfo_t k;
    int rc = check_name(name, d);
    if (rc != HM_OK)
        return rc;
    if (entry_exists(ks, name)) {
        wallet_diag_set(d, "a key named \"%s\" already exists in %s", name, ks->dir);
        return HM_ERR_EXISTS;
    }
    memset(&k, 0, sizeof k);
    snprintf(k.name, sizeof k.name, "%s", name);
    rc = hm_key_pubkey(k.pubkey, seckey);
    if (rc != HM_OK) {
        wallet_diag_set(d, "not a valid secp256k1 secret key");
        return rc;
    }
    if (entry_path(path, sizeof path, ks, name, ".key") != HM_OK) {
        wallet_diag_set(d, "keystore path too long");
        return HM_ERR_INVALID;
    }
    errno = 0;
    rc = hm_seal_write_file(path, seckey, HM_SECKEY_LEN, pass, pass_len, &ks->params);
    if (rc != HM_OK) {
        wallet_diag_set(d, "cannot write %s: %s", path,
                        rc == HM_ERR_IO && errno ? strerror(errno) : hm_strerror(rc));
        return rc;
    }
    rc = write_public(ks, &k, d);
    if (rc != HM_OK) {
        unlink(path); /* no half-created entry */
        return rc;
    }
    if (info)
        *info = k;
    return HM_OK;
}

int wallet_key_create(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                      const char *pass, size_t pass_len, wallet_diag_t *d)
{
    uint8_t sk[HM_SECKEY_LEN], pk[HM_PUBKEY_LEN];
    int rc = check_name(name, d);
    if (rc != HM_OK)
        return rc;
    rc = hm_key_generate(sk, pk);
    if (rc != HM_OK) {
        wallet_diag_set(d, "key generation failed: %s", hm_strerror(rc));
        goto done;
    }
    rc = store_new(ks, info, name, sk, pass, pass_len, d);
done:
    hm_wipe(sk, sizeof sk);
    return rc;
}

int wallet_key_import_secret(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                             const uint8_t seckey[HM_SECKEY_LEN], const char *pass,
                             size_t pass_len, wallet_diag_t *d)
{
    return store_new(ks, info, name, seckey, pass, pass_len, d);
}

int wallet_key_list(const wallet_keystore_t *ks, wallet_keyinfo_t **out, size_t *n,
                    wallet_diag_t *d)
{
    DIR *dir = opendir(ks->dir);
    wallet_keyinfo_t *list = NULL;
    size_t cnt = 0, cap = 0;
    int rc = HM_OK;
    if (!dir) {
        wallet_diag_set(d, "keystore %s: %s", ks->dir, strerror(errno));
        return HM_ERR_IO;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char name[WALLET_KEY_NAME_MAX + 8];
        size_t len = strlen(e->d_name);
        if (len <= 4 || len - 4 > WALLET_KEY_NAME_MAX || strcmp(e->d_name + len - 4, ".key") != 0)
            continue;
        memcpy(name, e->d_name, len - 4);
        name[len - 4] = '\0';
        if (!wallet_key_name_is_valid(name))
            continue;
        wallet_keyinfo_t k;
        wallet_diag_t sub = {{0}};
        if (read_public(ks, &k, name, &sub) != HM_OK) {
            fprintf(stderr, "hallmark-wallet: warning: skipping key %s: %s\n", name, sub.msg);
            continue;
        }
        if (cnt == cap) {
            cap = cap ? 2 * cap : 8;
            wallet_keyinfo_t *p = realloc(list, cap * sizeof *p);
            if (!p) {
                wallet_diag_set(d, "out of memory");
                rc = HM_ERR_NOMEM;
                goto done;
            }
            list = p;
        }
        list[cnt++] = k;
    }
    /* sort by name (insertion sort: keystores are small) */
    for (size_t i = 1; i < cnt; i++) {
        wallet_keyinfo_t t = list[i];
        size_t j = i;
        while (j > 0 && strcmp(list[j - 1].name, t.name) > 0) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = t;
    }
done:
    closedir(dir);
    if (rc == HM_OK) {
        *out = list;
        *n = cnt;
    } else {
        free(list);
    }
    return rc;
}

/* ------------------------------------------------------------- unlock */

static int unseal_image(uint8_t seckey[HM_SECKEY_LEN], const uint8_t *img, size_t len,
                        const char *pass, size_t pass_len, const char *what, wallet_diag_t *d)
{
    hm_buf_t sec = {0};
    int rc = hm_unseal(&sec, img, len, pass, pass_len);
    switch (rc) {
    case HM_OK:
        if (sec.len != HM_SECKEY_LEN) {
            wallet_diag_set(d, "%s: the sealed secret is not a 32-byte key", what);
            rc = HM_ERR_CORRUPT;
        }
        break;
    case HM_ERR_AUTH:
        wallet_diag_set(d, "%s: wrong passphrase, or the key file was tampered with", what);
        break;
    case HM_ERR_CORRUPT: wallet_diag_set(d, "%s: not a sealed key file (damaged)", what); break;
    case HM_ERR_UNSUPPORTED:
        wallet_diag_set(d, "%s: sealed with an unsupported format version", what);
        break;
    case HM_ERR_LIMIT:
        wallet_diag_set(d, "%s: key-derivation parameters over the allowed limits", what);
        break;
    default: wallet_diag_set(d, "%s: cannot open: %s", what, hm_strerror(rc)); break;
    }
    if (rc == HM_OK)
        memcpy(seckey, sec.data, HM_SECKEY_LEN);
    hm_buf_free_secure(&sec);
    return rc;
}

int wallet_key_unlock(const wallet_keystore_t *ks, uint8_t seckey[HM_SECKEY_LEN],
                      wallet_keyinfo_t *info, const char *name, const char *pass,
                      size_t pass_len, wallet_diag_t *d)
{
    char path[4096], what[128];
    wallet_keyinfo_t k;
    hm_buf_t img = {0};
    uint8_t sk[HM_SECKEY_LEN], pk[HM_PUBKEY_LEN];
    struct stat st;
    int rc = read_public(ks, &k, name, d);
    if (rc != HM_OK)
        return rc;
    snprintf(what, sizeof what, "key \"%s\"", name);
    if (entry_path(path, sizeof path, ks, name, ".key") != HM_OK) {
        wallet_diag_set(d, "keystore path too long");
        return HM_ERR_INVALID;
    }
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "hallmark-wallet: warning: %s is readable by other users (chmod 600 it)\n",
                path);
    rc = hm_seal_read_file(&img, path, HM_SEAL_MAX_FILE);
    if (rc != HM_OK) {
        wallet_diag_set(d, "%s: cannot read %s: %s", what, path,
                        rc == HM_ERR_NOT_FOUND ? "missing" : hm_strerror(rc));
        goto done;
    }
    rc = unseal_image(sk, img.data, img.len, pass, pass_len, what, d);
    if (rc != HM_OK)
        goto done;
    rc = hm_key_pubkey(pk, sk);
    if (rc != HM_OK || memcmp(pk, k.pubkey, sizeof pk) != 0) {
        wallet_diag_set(d, "%s: the sealed secret does not match the public key in %s.json "
                           "(keystore damaged or files swapped)",
                        what, name);
        rc = HM_ERR_CORRUPT;
        goto done;
    }
    memcpy(seckey, sk, sizeof sk);
    if (info)
        *info = k;
done:
    hm_wipe(sk, sizeof sk);
    hm_buf_free(&img);
    return rc;
}

int wallet_key_change_passphrase(wallet_keystore_t *ks, const char *name, const char *old_pass,
                                 size_t old_len, const char *new_pass, size_t new_len,
                                 wallet_diag_t *d)
{
    char path[4096];
    uint8_t sk[HM_SECKEY_LEN];
    int rc = wallet_key_unlock(ks, sk, NULL, name, old_pass, old_len, d);
    if (rc != HM_OK)
        goto done;
    if (entry_path(path, sizeof path, ks, name, ".key") != HM_OK) {
        rc = HM_ERR_INVALID;
        goto done;
    }
    errno = 0;
    rc = hm_seal_write_file(path, sk, sizeof sk, new_pass, new_len, &ks->params);
    if (rc != HM_OK)
        wallet_diag_set(d, "cannot write %s: %s", path,
                        rc == HM_ERR_IO && errno ? strerror(errno) : hm_strerror(rc));
done:
    hm_wipe(sk, sizeof sk);
    return rc;
}

int wallet_key_set_gid(wallet_keystore_t *ks, const char *name, const uint8_t *gid,
                       wallet_diag_t *d)
{
    wallet_keyinfo_t k;
    int rc = read_public(ks, &k, name, d);
    if (rc != HM_OK)
        return rc;
    k.has_gid = gid != NULL;
    if (gid)
        memcpy(k.gid, gid, HM_GID_LEN);
    else
        memset(k.gid, 0, sizeof k.gid);
    return write_public(ks, &k, d);
}

int wallet_key_export_sealed(const wallet_keystore_t *ks, hm_buf_t *out, const char *name,
                             wallet_diag_t *d)
{
    char path[4096];
    wallet_keyinfo_t k;
    int rc = read_public(ks, &k, name, d);
    if (rc != HM_OK)
        return rc;
    if (entry_path(path, sizeof path, ks, name, ".key") != HM_OK)
        return HM_ERR_INVALID;
    rc = hm_seal_read_file(out, path, HM_SEAL_MAX_FILE);
    if (rc != HM_OK)
        wallet_diag_set(d, "cannot read %s: %s", path, hm_strerror(rc));
    else if (!hm_seal_is_sealed(out->data, out->len)) {
        wallet_diag_set(d, "%s: not a sealed key file", path);
        rc = HM_ERR_CORRUPT;
    }
    return rc;
}

int wallet_key_import_sealed(wallet_keystore_t *ks, wallet_keyinfo_t *info, const char *name,
                             const uint8_t *data, size_t len, const char *pass, size_t pass_len,
                             wallet_diag_t *d)
{
    uint8_t sk[HM_SECKEY_LEN];
    int rc = check_name(name, d);
    if (rc != HM_OK)
        return rc;
    if (entry_exists(ks, name)) {
        wallet_diag_set(d, "a key named \"%s\" already exists in %s", name, ks->dir);
        return HM_ERR_EXISTS;
    }
    rc = unseal_image(sk, data, len, pass, pass_len, "imported key", d);
    if (rc == HM_OK)
        rc = store_new(ks, info, name, sk, pass, pass_len, d);
    hm_wipe(sk, sizeof sk);
    return rc;
}
