/* wallet/cmd_key — the `key` subcommands: create, list, show, import,
 * export, passwd, set-gid (the keystore of wallet/keystore). */
#include "wallet/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/seal.h"
#include "wallet/passphrase.h"

static json_t *info_json(const wallet_keyinfo_t *k)
{
    char pub[65], gid[41], did[WALLET_DID_STRLEN];
    hm_hex_encode(pub, k->pubkey, sizeof k->pubkey);
    json_t *o = json_pack("{s:s, s:s}", "name", k->name, "pubkey", pub);
    if (o && k->has_gid) {
        hm_hex_encode(gid, k->gid, sizeof k->gid);
        wallet_gid_format(did, k->gid);
        json_object_set_new(o, "gid", json_string(gid));
        json_object_set_new(o, "did", json_string(did));
    }
    return o;
}

static void print_info(const wallet_keyinfo_t *k, bool as_json)
{
    if (as_json) {
        json_t *o = info_json(k);
        if (o)
            wallet_print_json(o);
        json_decref(o);
        return;
    }
    char pub[65], did[WALLET_DID_STRLEN];
    hm_hex_encode(pub, k->pubkey, sizeof k->pubkey);
    printf("name:   %s\npubkey: %s\n", k->name, pub);
    if (k->has_gid) {
        wallet_gid_format(did, k->gid);
        printf("gid:    %s\n", did);
    } else {
        printf("gid:    (none recorded: `identity register` or `key set-gid`)\n");
    }
}

static void warn_fast_kdf(const wallet_keystore_t *ks)
{
    if (ks->params.log2_n < HM_SEAL_DEFAULT_LOG2_N)
        fprintf(stderr, "hallmark-wallet: warning: %s=1: weak key derivation for tests only\n",
                WALLET_ENV_FAST_KDF);
}

/* ------------------------------------------------------------- create */

static int run_create(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    hm_buf_t pass = {0};
    wallet_keyinfo_t k;
    int ex = WALLET_EXIT_ERROR;
    const char *name = o->pos[0];
    if (!wallet_key_name_is_valid(name)) {
        wallet_diag_set(d, "invalid key name \"%.70s\": use 1 to %d of A-Z a-z 0-9 . _ - (not "
                           "starting with '.')",
                        name, WALLET_KEY_NAME_MAX);
        goto done;
    }
    if (wallet_cmd_keystore(&ks, o, true, d) != HM_OK)
        goto done;
    if (wallet_key_info(ks, &k, name, NULL) == HM_OK) {
        wallet_diag_set(d, "a key named \"%s\" already exists in %s", name, ks->dir);
        goto done;
    }
    if (wallet_cmd_passphrase(&pass, o, name, true, d) != HM_OK)
        goto done;
    warn_fast_kdf(ks);
    if (wallet_key_create(ks, &k, name, (const char *)pass.data, pass.len, d) != HM_OK)
        goto done;
    print_info(&k, wallet_opt_has(o, "json"));
    ex = WALLET_EXIT_OK;
done:
    hm_buf_free_secure(&pass);
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_create = {
    "key create", "NAME", 1, 1, "create a new key in the keystore",
    "The secret key is sealed with scrypt + AES-256-GCM under a passphrase (asked twice on a\n"
    "terminal) in NAME.key (mode 0600); NAME.json holds the public key and, later, the GID.",
    {WALLET_OPTS_KEYSTORE, WALLET_OPTS_JSON, NULL}, run_create};

/* --------------------------------------------------------------- list */

static int run_list(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    wallet_keyinfo_t *list = NULL;
    size_t n = 0;
    int ex = WALLET_EXIT_ERROR;
    if (wallet_cmd_keystore(&ks, o, false, d) != HM_OK ||
        wallet_key_list(ks, &list, &n, d) != HM_OK)
        goto done;
    if (wallet_opt_has(o, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, info_json(&list[i]));
        if (arr)
            wallet_print_json(arr);
        json_decref(arr);
    } else if (n == 0) {
        printf("no keys in %s (create one: hallmark-wallet key create NAME)\n", ks->dir);
    } else {
        for (size_t i = 0; i < n; i++) {
            char pub[65], did[WALLET_DID_STRLEN];
            hm_hex_encode(pub, list[i].pubkey, sizeof list[i].pubkey);
            if (list[i].has_gid)
                wallet_gid_format(did, list[i].gid);
            printf("%-20s %s %s\n", list[i].name, pub, list[i].has_gid ? did : "-");
        }
    }
    ex = WALLET_EXIT_OK;
done:
    free(list);
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_list = {
    "key list", "", 0, 0, "list the keys: name, public key, GID (no passphrase needed)", NULL,
    {WALLET_OPTS_WALLETDIR, WALLET_OPTS_JSON, NULL}, run_list};

/* --------------------------------------------------------------- show */

static int run_show(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    wallet_keyinfo_t k;
    int ex = WALLET_EXIT_ERROR;
    if (wallet_cmd_keystore(&ks, o, false, d) == HM_OK &&
        wallet_key_info(ks, &k, o->pos[0], d) == HM_OK) {
        print_info(&k, wallet_opt_has(o, "json"));
        ex = WALLET_EXIT_OK;
    }
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_show = {
    "key show", "NAME", 1, 1, "show a key's public key and GID (no passphrase needed)", NULL,
    {WALLET_OPTS_WALLETDIR, WALLET_OPTS_JSON, NULL}, run_show};

/* ------------------------------------------------------------- import */

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int run_import(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    hm_buf_t file = {0}, pass = {0};
    wallet_keyinfo_t k;
    uint8_t sk[HM_SECKEY_LEN];
    int ex = WALLET_EXIT_ERROR;
    const char *name = o->pos[0], *path = o->pos[1];
    if (wallet_read_file(&file, path, HM_SEAL_MAX_FILE, "key file", d) != HM_OK)
        goto done;
    if (wallet_cmd_keystore(&ks, o, true, d) != HM_OK)
        goto done;
    if (wallet_key_info(ks, &k, name, NULL) == HM_OK) {
        wallet_diag_set(d, "a key named \"%s\" already exists in %s", name, ks->dir);
        goto done;
    }
    if (hm_seal_is_sealed(file.data, file.len)) {
        /* an exported (sealed) key: its own passphrase opens it and stays */
        if (wallet_cmd_passphrase(&pass, o, name, false, d) != HM_OK)
            goto done;
        warn_fast_kdf(ks);
        if (wallet_key_import_sealed(ks, &k, name, file.data, file.len, (const char *)pass.data,
                                     pass.len, d) != HM_OK)
            goto done;
    } else {
        /* a raw secret key: 64 hex digits */
        size_t a = 0, b = file.len;
        while (a < b && is_space(file.data[a]))
            a++;
        while (b > a && is_space(file.data[b - 1]))
            b--;
        char hex[65];
        if (b - a != 64) {
            wallet_diag_set(d, "key file %s: neither a sealed key nor a 64-hex secret key", path);
            goto done;
        }
        memcpy(hex, file.data + a, 64);
        hex[64] = '\0';
        int rc = hm_hex_decode(sk, sizeof sk, hex);
        hm_wipe(hex, sizeof hex);
        if (rc != HM_OK) {
            wallet_diag_set(d, "key file %s: neither a sealed key nor a 64-hex secret key", path);
            goto done;
        }
        if (wallet_cmd_passphrase(&pass, o, name, true, d) != HM_OK)
            goto done;
        warn_fast_kdf(ks);
        if (wallet_key_import_secret(ks, &k, name, sk, (const char *)pass.data, pass.len, d) !=
            HM_OK)
            goto done;
    }
    print_info(&k, wallet_opt_has(o, "json"));
    ex = WALLET_EXIT_OK;
done:
    hm_wipe(sk, sizeof sk);
    hm_buf_free_secure(&file);
    hm_buf_free_secure(&pass);
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_import = {
    "key import", "NAME FILE", 2, 2, "import a key: a sealed key file (from `key export`) or a "
                                     "raw 64-hex secret key",
    "A sealed file is opened with its passphrase and kept under it. A raw secret key is sealed\n"
    "under a new passphrase (asked twice on a terminal). Record its GID with `key set-gid`.",
    {WALLET_OPTS_KEYSTORE, WALLET_OPTS_JSON, NULL}, run_import};

/* ------------------------------------------------------------- export */

static const wallet_opt_spec_t OPTS_EXPORT[] = {
    {"out", 'o', "FILE", WALLET_OPT_REQUIRED, "write the key to FILE (mode 0600)"},
    {"raw", 0, NULL, 0, "write the UNENCRYPTED secret key as hex (asks for the passphrase)"},
    WALLET_OPT_END};

static int run_export(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    hm_buf_t img = {0}, pass = {0};
    uint8_t sk[HM_SECKEY_LEN];
    char hex[2 * HM_SECKEY_LEN + 2];
    int ex = WALLET_EXIT_ERROR;
    const char *name = o->pos[0], *out = wallet_opt(o, "out");
    if (wallet_cmd_keystore(&ks, o, false, d) != HM_OK)
        goto done;
    if (wallet_opt_has(o, "raw")) {
        if (wallet_cmd_passphrase(&pass, o, name, false, d) != HM_OK ||
            wallet_key_unlock(ks, sk, NULL, name, (const char *)pass.data, pass.len, d) != HM_OK)
            goto done;
        hm_hex_encode(hex, sk, sizeof sk);
        hex[2 * HM_SECKEY_LEN] = '\n';
        if (hm_buf_append(&img, hex, sizeof hex - 1) != HM_OK) {
            wallet_diag_set(d, "out of memory");
            goto done;
        }
        fprintf(stderr, "hallmark-wallet: warning: %s holds the UNENCRYPTED secret key\n", out);
    } else if (wallet_key_export_sealed(ks, &img, name, d) != HM_OK) {
        goto done;
    }
    if (strcmp(out, "-") == 0) {
        if (fwrite(img.data, 1, img.len, stdout) != img.len || fflush(stdout) != 0) {
            wallet_diag_set(d, "cannot write to stdout");
            goto done;
        }
    } else if (hm_seal_write_atomic(out, img.data, img.len) != HM_OK) {
        wallet_diag_set(d, "cannot write %s", out);
        goto done;
    } else {
        fprintf(stderr, "exported key %s to %s\n", name, out);
    }
    ex = WALLET_EXIT_OK;
done:
    hm_wipe(sk, sizeof sk);
    hm_wipe(hex, sizeof hex);
    hm_buf_free_secure(&img);
    hm_buf_free_secure(&pass);
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_export = {
    "key export", "NAME", 1, 1, "export a key: its sealed file (still encrypted) or, with --raw, "
                                "the secret key",
    "The sealed export imports elsewhere with `key import NAME FILE` and the same passphrase.",
    {OPTS_EXPORT, WALLET_OPTS_KEYSTORE, NULL}, run_export};

/* ------------------------------------------------------------- passwd */

static const wallet_opt_spec_t OPTS_PASSWD[] = {
    {"new-passphrase-file", 0, "FILE", 0,
     "read the new passphrase from FILE (else $" WALLET_ENV_NEW_PASSPHRASE ", else the terminal)"},
    WALLET_OPT_END};

static int run_passwd(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    hm_buf_t old = {0}, neu = {0};
    wallet_keyinfo_t k;
    char prompt[128];
    int ex = WALLET_EXIT_ERROR;
    const char *name = o->pos[0];
    if (wallet_cmd_keystore(&ks, o, false, d) != HM_OK ||
        wallet_key_info(ks, &k, name, d) != HM_OK)
        goto done;
    if (wallet_cmd_passphrase(&old, o, name, false, d) != HM_OK)
        goto done;
    snprintf(prompt, sizeof prompt, "New passphrase for key %s: ", name);
    if (wallet_passphrase_get(&neu, wallet_opt(o, "new-passphrase-file"),
                              WALLET_ENV_NEW_PASSPHRASE, prompt, true, d) != HM_OK)
        goto done;
    warn_fast_kdf(ks);
    if (wallet_key_change_passphrase(ks, name, (const char *)old.data, old.len,
                                     (const char *)neu.data, neu.len, d) != HM_OK)
        goto done;
    fprintf(stderr, "passphrase of key %s changed\n", name);
    ex = WALLET_EXIT_OK;
done:
    hm_buf_free_secure(&old);
    hm_buf_free_secure(&neu);
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_passwd = {
    "key passwd", "NAME", 1, 1, "change a key's passphrase",
    "The current passphrase comes from --passphrase-file, $HALLMARK_PASSPHRASE or the terminal;\n"
    "the new one from --new-passphrase-file, $" WALLET_ENV_NEW_PASSPHRASE
    " or the terminal (asked twice).",
    {OPTS_PASSWD, WALLET_OPTS_KEYSTORE, NULL}, run_passwd};

/* ------------------------------------------------------------ set-gid */

static const wallet_opt_spec_t OPTS_SET_GID[] = {
    {"clear", 0, NULL, 0, "forget the recorded GID"}, WALLET_OPT_END};

static int run_set_gid(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    wallet_keystore_t *ks = NULL;
    wallet_keyinfo_t k;
    uint8_t gid[HM_GID_LEN];
    int ex = WALLET_EXIT_ERROR;
    bool clear = wallet_opt_has(o, "clear");
    if (clear == (o->n_pos == 2)) {
        wallet_diag_set(d, "give either a GID or --clear");
        return ex;
    }
    if (!clear && wallet_parse_gid(gid, o->pos[1], "GID", d) != HM_OK)
        return ex;
    if (wallet_cmd_keystore(&ks, o, false, d) != HM_OK ||
        wallet_key_set_gid(ks, o->pos[0], clear ? NULL : gid, d) != HM_OK ||
        wallet_key_info(ks, &k, o->pos[0], d) != HM_OK)
        goto done;
    print_info(&k, wallet_opt_has(o, "json"));
    ex = WALLET_EXIT_OK;
done:
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_key_set_gid = {
    "key set-gid", "NAME [GID]", 1, 2, "record the GID a key acts for (e.g. a genesis accreditor's)",
    "Transactions signed with the key then carry this GID as their actor unless --actor is\n"
    "given. `identity register` records the new GID by itself.",
    {OPTS_SET_GID, WALLET_OPTS_WALLETDIR, WALLET_OPTS_JSON, NULL}, run_set_gid};
