/* wallet/cmd_tx — transaction subcommands: build + sign + submit for every
 * kind of wallet/txbuild ("GROUP ACTION"), offline signing ("sign GROUP
 * ACTION --out FILE"), multi-signing ("cosign"), "decode" and "submit". */
#include "wallet/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "wallet/nodeapi.h"
#include "wallet/txjson.h"

static const wallet_opt_spec_t OPTS_TX_COMMON[] = {
    {"key", 'k', "NAME", WALLET_OPT_REQUIRED, "the keystore key that signs"},
    {"actor", 0, "GID", 0, "the GID the key acts for (default: the GID recorded for the key)"},
    {"nonce", 0, "N", 0, "the signer's next nonce (default: asked from the node)"},
    WALLET_OPT_END};

static const wallet_opt_spec_t OPTS_SIGN_OUT[] = {
    {"out", 'o', "FILE", WALLET_OPT_REQUIRED, "write the signed tx (hex) to FILE ('-': stdout)"},
    WALLET_OPT_END};

static void print_tx_help(const wallet_txkind_t *k, bool sign_only,
                          const wallet_opt_spec_t *const *specs)
{
    printf("Usage: hallmark-wallet %s%s %s --key NAME [options]\n\n%s.\n\n", sign_only ? "sign " : "",
           k->group, k->action, k->summary);
    if (sign_only)
        printf("Signs offline and writes the signed tx to --out; contacts no node, so --nonce\n"
               "and --genesis (or --chain-id) are required. Send it later with `submit`.\n\n");
    else
        printf("Signs and submits to the node. The nonce and chain id are asked from the node\n"
               "unless --nonce and --genesis/--chain-id are given. With --wait: exit 0 when\n"
               "applied, 1 when committed but rejected, 2 on timeout or error.\n\n");
    wallet_opts_print_help(stdout, specs);
}

/* The ids a tx creates, added to the output (register -> GID, grant ->
 * licence id, mint -> cert id). */
static void derived_ids(json_t *out, const Hallmark__Tx *tx, const uint8_t txid[32])
{
    char hex[65], did[WALLET_DID_STRLEN];
    if (tx->body_case == HALLMARK__TX__BODY_REGISTER_IDENTITY) {
        uint8_t gid[HM_GID_LEN];
        wallet_gid_derive(gid, tx->signer.data, tx->nonce);
        hm_hex_encode(hex, gid, sizeof gid);
        wallet_gid_format(did, gid);
        json_object_set_new(out, "gid", json_string(hex));
        json_object_set_new(out, "did", json_string(did));
    } else if (tx->body_case == HALLMARK__TX__BODY_GRANT_LICENCE ||
               tx->body_case == HALLMARK__TX__BODY_MINT_CERTIFICATE) {
        uint8_t id[32];
        bool lic = tx->body_case == HALLMARK__TX__BODY_GRANT_LICENCE;
        if (lic)
            wallet_licence_id(id, txid);
        else
            wallet_cert_id(id, txid);
        hm_hex_encode(hex, id, sizeof id);
        json_object_set_new(out, lic ? "licence_id" : "cert_id", json_string(hex));
    }
}

/* After signing (offline) or submitting (online) an identity registration,
 * record the new GID for the key so later txs act for it. */
static void record_gid(wallet_keystore_t *ks, const char *key, const Hallmark__Tx *tx)
{
    uint8_t gid[HM_GID_LEN];
    char did[WALLET_DID_STRLEN];
    wallet_keyinfo_t k;
    wallet_diag_t sub = {{0}};
    if (tx->body_case != HALLMARK__TX__BODY_REGISTER_IDENTITY)
        return;
    wallet_gid_derive(gid, tx->signer.data, tx->nonce);
    wallet_gid_format(did, gid);
    if (wallet_key_info(ks, &k, key, &sub) == HM_OK && k.has_gid &&
        memcmp(k.gid, gid, sizeof gid) != 0)
        fprintf(stderr, "hallmark-wallet: note: key %s acted for another GID before; it now "
                        "records %s\n",
                key, did);
    if (wallet_key_set_gid(ks, key, gid, &sub) != HM_OK)
        fprintf(stderr, "hallmark-wallet: warning: could not record the GID: %s\n", sub.msg);
}

static void print_result(const json_t *r, bool as_json)
{
    if (as_json) {
        wallet_print_json(r);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)r, key, v)
    {
        if (json_is_string(v))
            printf("%-11s %s\n", key, json_string_value(v));
        else if (json_is_integer(v))
            printf("%-11s %lld\n", key, (long long)json_integer_value(v));
    }
}

int wallet_cmd_tx(const wallet_txkind_t *k, bool sign_only, int argc, char **argv,
                  wallet_diag_t *d)
{
    const wallet_opt_spec_t *const sign_specs[] = {
        k->opts, OPTS_TX_COMMON, OPTS_SIGN_OUT, WALLET_OPTS_CHAIN, WALLET_OPTS_KEYSTORE,
        WALLET_OPTS_JSON, NULL};
    const wallet_opt_spec_t *const send_specs[] = {
        k->opts,          OPTS_TX_COMMON,       WALLET_OPTS_CHAIN, WALLET_OPTS_WAIT,
        WALLET_OPTS_NODE, WALLET_OPTS_KEYSTORE, WALLET_OPTS_JSON,  NULL};
    const wallet_opt_spec_t *const *specs = sign_only ? sign_specs : send_specs;

    wallet_opts_t o;
    wallet_arena_t arena = {0};
    wallet_keystore_t *ks = NULL;
    rpcc_client_t client;
    bool have_client = false;
    hm_buf_t pass = {0};
    uint8_t sk[HM_SECKEY_LEN];
    uint8_t *stx = NULL;
    size_t stx_len = 0;
    uint8_t txid[32];
    json_t *result = NULL;
    wallet_keyinfo_t info;
    wallet_txhead_t head;
    Hallmark__Tx tx;
    int ex = WALLET_EXIT_ERROR;
    bool as_json = false;

    memset(&head, 0, sizeof head);
    memset(sk, 0, sizeof sk);
    if (wallet_opts_parse(&o, specs, argc, argv, d) != HM_OK)
        goto done;
    if (o.help) {
        print_tx_help(k, sign_only, specs);
        ex = WALLET_EXIT_OK;
        goto done;
    }
    as_json = wallet_opt_has(&o, "json");
    if (o.n_pos) {
        wallet_diag_set(d, "unexpected argument \"%.60s\" (see --help)", o.pos[0]);
        goto done;
    }
    const char *key = wallet_opt(&o, "key");
    if (wallet_cmd_keystore(&ks, &o, false, d) != HM_OK ||
        wallet_key_info(ks, &info, key, d) != HM_OK)
        goto done;
    memcpy(head.signer, info.pubkey, sizeof head.signer);

    /* actor */
    const char *actor = wallet_opt(&o, "actor");
    if (actor) {
        if (wallet_parse_gid(head.actor, actor, "--actor", d) != HM_OK)
            goto done;
        head.has_actor = true;
    } else if (k->actor_default && info.has_gid) {
        memcpy(head.actor, info.gid, sizeof head.actor);
        head.has_actor = true;
    }

    /* chain id and nonce: from options, else (not when signing offline) the node */
    bool have_chain = false;
    if (wallet_cmd_read_chain_id(head.chain_id, &have_chain, &o, d) != HM_OK)
        goto done;
    const char *nonce = wallet_opt(&o, "nonce");
    if (nonce && wallet_parse_u64(&head.nonce, nonce, "--nonce", d) != HM_OK)
        goto done;
    if (sign_only && (!have_chain || !nonce)) {
        wallet_diag_set(d, "signing offline needs --nonce and --genesis (or --chain-id)");
        goto done;
    }

    /* build (checks every input) before asking anyone for anything */
    wallet_tx_init(&tx, &head);
    if (wallet_tx_build(&arena, &tx, k, &o, d) != HM_OK)
        goto done;

    if (!sign_only) {
        if (wallet_cmd_client(&client, &o, d) != HM_OK)
            goto done;
        have_client = true;
        if (!have_chain && wallet_api_chain_id(&client, head.chain_id, d) != HM_OK) {
            wallet_diag_prefix(d, "getting the chain id (or give --genesis)");
            goto done;
        }
        if (!nonce && wallet_api_nonce(&client, &head.nonce, head.signer, d) != HM_OK) {
            wallet_diag_prefix(d, "getting the nonce (or give --nonce)");
            goto done;
        }
        tx.nonce = head.nonce;
    }

    if (wallet_cmd_passphrase(&pass, &o, key, false, d) != HM_OK ||
        wallet_key_unlock(ks, sk, NULL, key, (const char *)pass.data, pass.len, d) != HM_OK)
        goto done;
    hm_buf_free_secure(&pass);
    if (wallet_tx_sign(&stx, &stx_len, txid, &tx, sk, d) != HM_OK)
        goto done;
    hm_wipe(sk, sizeof sk);

    char txid_hex[65];
    hm_hex_encode(txid_hex, txid, sizeof txid);
    result = json_pack("{s:s, s:s}", "txid", txid_hex, "kind", hm_tx_kind_name(&tx));
    if (!result) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    json_object_set_new(result, "nonce", json_integer((json_int_t)head.nonce));
    derived_ids(result, &tx, txid);

    if (sign_only) {
        const char *out = wallet_opt(&o, "out");
        if (wallet_stx_write_file(out, stx, stx_len, d) != HM_OK)
            goto done;
        record_gid(ks, key, &tx);
        if (strcmp(out, "-") != 0) {
            json_object_set_new(result, "file", json_string(out));
            print_result(result, as_json);
        } else {
            /* stdout carries the tx: the summary goes to stderr */
            char *t = json_dumps(result, JSON_COMPACT);
            if (t)
                fprintf(stderr, "%s\n", t);
            free(t);
        }
        ex = WALLET_EXIT_OK;
        goto done;
    }

    char node_txid[65], status[64];
    if (wallet_api_submit(&client, node_txid, status, sizeof status, stx, stx_len, txid, d) !=
        HM_OK)
        goto done;
    json_object_set_new(result, "status", json_string(status));
    record_gid(ks, key, &tx);
    if (wallet_opt_has(&o, "wait")) {
        unsigned t;
        if (!as_json)
            print_result(result, false);
        if (wallet_cmd_timeout(&t, &o, d) != HM_OK)
            goto done;
        ex = wallet_cmd_wait(&client, txid_hex, t, as_json, d);
        goto done;
    }
    print_result(result, as_json);
    ex = WALLET_EXIT_OK;
done:
    hm_wipe(sk, sizeof sk);
    hm_buf_free_secure(&pass);
    if (have_client)
        rpcc_client_clear(&client);
    json_decref(result);
    free(stx);
    wallet_arena_free(&arena);
    wallet_keystore_free(ks);
    wallet_opts_free(&o);
    return ex;
}

/* ------------------------------------------------------------- cosign */

static const wallet_opt_spec_t OPTS_COSIGN[] = {
    {"key", 'k', "NAME", WALLET_OPT_REQUIRED, "the keystore key that co-signs"},
    {"out", 'o', "FILE", WALLET_OPT_REQUIRED, "write the co-signed tx to FILE ('-': stdout)"},
    WALLET_OPT_END};

static int run_cosign(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    hm_buf_t in = {0}, pass = {0};
    wallet_keystore_t *ks = NULL;
    hm_tx_t *t = NULL;
    uint8_t sk[HM_SECKEY_LEN], chain[HM_CHAIN_ID_LEN];
    uint8_t *out = NULL;
    size_t out_len = 0;
    bool have_chain;
    wallet_keyinfo_t info;
    int ex = WALLET_EXIT_ERROR, rc;
    const char *key = wallet_opt(o, "key");
    memset(sk, 0, sizeof sk);
    if (wallet_stx_read_file(&in, o->pos[0], d) != HM_OK)
        goto done;
    if ((rc = hm_tx_decode(&t, in.data, in.len)) != HM_OK) {
        wallet_diag_set(d, "%s: not a valid signed transaction (%s)", o->pos[0], hm_strerror(rc));
        goto done;
    }
    if (wallet_cmd_read_chain_id(chain, &have_chain, o, d) != HM_OK)
        goto done;
    if (have_chain && (rc = hm_tx_verify(t, chain)) != HM_OK) {
        wallet_diag_set(d, "%s: %s", o->pos[0],
                        rc == HM_ERR_WRONG_CHAIN ? "signed for another chain"
                                                 : "a signature does not verify");
        goto done;
    }
    if (wallet_cmd_keystore(&ks, o, false, d) != HM_OK ||
        wallet_key_info(ks, &info, key, d) != HM_OK)
        goto done;
    if (memcmp(info.pubkey, t->tx->signer.data, HM_PUBKEY_LEN) == 0) {
        wallet_diag_set(d, "key %s is the tx's signer: it cannot co-sign its own tx", key);
        goto done;
    }
    for (size_t i = 0; i < t->stx->n_cosignatures; i++)
        if (memcmp(info.pubkey, t->stx->cosignatures[i]->pubkey.data, HM_PUBKEY_LEN) == 0) {
            wallet_diag_set(d, "key %s has already co-signed this tx", key);
            goto done;
        }
    if (wallet_cmd_passphrase(&pass, o, key, false, d) != HM_OK ||
        wallet_key_unlock(ks, sk, NULL, key, (const char *)pass.data, pass.len, d) != HM_OK)
        goto done;
    rc = hm_tx_cosign(&out, &out_len, in.data, in.len, sk);
    if (rc == HM_OK && out_len > HM_MAX_TX_BYTES)
        rc = HM_ERR_TOO_LARGE;
    if (rc != HM_OK) {
        wallet_diag_set(d, "co-signing failed: %s",
                        rc == HM_ERR_LIMIT ? "too many co-signatures" : hm_strerror(rc));
        goto done;
    }
    if (wallet_stx_write_file(wallet_opt(o, "out"), out, out_len, d) != HM_OK)
        goto done;
    char txid[65];
    hm_hex_encode(txid, t->txid, sizeof t->txid);
    if (wallet_opt_has(o, "json")) {
        json_t *j = json_pack("{s:s, s:i}", "txid", txid, "cosignatures",
                              (int)t->stx->n_cosignatures + 1);
        if (j)
            wallet_print_json(j);
        json_decref(j);
    } else {
        fprintf(strcmp(wallet_opt(o, "out"), "-") ? stdout : stderr,
                "txid         %s\ncosignatures %zu\n", txid, t->stx->n_cosignatures + 1);
    }
    ex = WALLET_EXIT_OK;
done:
    hm_wipe(sk, sizeof sk);
    free(out);
    hm_tx_free(t);
    hm_buf_free(&in);
    hm_buf_free_secure(&pass);
    wallet_keystore_free(ks);
    return ex;
}

const wallet_cmd_t wallet_cmd_cosign = {
    "cosign", "FILE", 1, 1, "add this key's co-signature to a signed tx file (offline)",
    "For controller thresholds and validator-set updates: each further key signs the same\n"
    "txid. Give --genesis or --chain-id to check the tx belongs to that chain first.",
    {OPTS_COSIGN, WALLET_OPTS_CHAIN, WALLET_OPTS_KEYSTORE, WALLET_OPTS_JSON, NULL}, run_cosign};

/* ------------------------------------------------------------- decode */

static int run_decode(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    hm_buf_t in = {0};
    hm_tx_t *t = NULL;
    json_t *j = NULL;
    uint8_t chain[HM_CHAIN_ID_LEN];
    bool have_chain;
    int ex = WALLET_EXIT_ERROR, rc;
    if (wallet_cmd_read_chain_id(chain, &have_chain, o, d) != HM_OK ||
        wallet_stx_read_file(&in, o->pos[0], d) != HM_OK)
        goto done;
    if ((rc = hm_tx_decode(&t, in.data, in.len)) != HM_OK) {
        wallet_diag_set(d, "%s: not a valid signed transaction (%s)", o->pos[0], hm_strerror(rc));
        goto done;
    }
    if (wallet_tx_to_json(&j, t) != HM_OK) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    int vrc = HM_OK;
    if (have_chain) {
        vrc = hm_tx_verify(t, chain);
        json_object_set_new(j, "verified", json_boolean(vrc == HM_OK));
        if (vrc != HM_OK)
            json_object_set_new(j, "verify_error",
                                json_string(vrc == HM_ERR_WRONG_CHAIN ? "wrong chain id"
                                                                      : "bad signature"));
    }
    if (wallet_opt_has(o, "json"))
        wallet_print_json(j);
    else
        wallet_json_print_human(stdout, j, 0);
    if (vrc != HM_OK) {
        wallet_diag_set(d, "%s: %s", o->pos[0],
                        vrc == HM_ERR_WRONG_CHAIN ? "signed for another chain id"
                                                  : "a signature does not verify");
        goto done;
    }
    ex = WALLET_EXIT_OK;
done:
    json_decref(j);
    hm_tx_free(t);
    hm_buf_free(&in);
    return ex;
}

const wallet_cmd_t wallet_cmd_decode = {
    "decode", "FILE", 1, 1, "print a signed tx file's contents (and check its signatures)",
    "With --genesis or --chain-id, also verifies the chain id and every signature and exits 2\n"
    "when they do not check.",
    {WALLET_OPTS_CHAIN, WALLET_OPTS_JSON, NULL}, run_decode};

/* ------------------------------------------------------------- submit */

static int run_submit(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    size_t n = o->n_pos;
    hm_buf_t *bufs = calloc(n, sizeof *bufs);
    const uint8_t **ptrs = calloc(n, sizeof *ptrs);
    size_t *lens = calloc(n, sizeof *lens);
    rpcc_client_t client;
    bool have_client = false;
    json_t *answer = NULL;
    hm_tx_t *t = NULL;
    uint8_t chain[HM_CHAIN_ID_LEN];
    bool have_chain;
    int ex = WALLET_EXIT_ERROR, rc;
    bool as_json = wallet_opt_has(o, "json");
    if (!bufs || !ptrs || !lens) {
        wallet_diag_set(d, "out of memory");
        goto done;
    }
    if (n > 1 && wallet_opt_has(o, "wait")) {
        wallet_diag_set(d, "--wait follows one tx: submit one file, or follow each with "
                           "`query tx TXID --wait`");
        goto done;
    }
    if (wallet_cmd_read_chain_id(chain, &have_chain, o, d) != HM_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (wallet_stx_read_file(&bufs[i], o->pos[i], d) != HM_OK)
            goto done;
        if ((rc = hm_tx_decode(&t, bufs[i].data, bufs[i].len)) != HM_OK) {
            wallet_diag_set(d, "%s: not a valid signed transaction (%s)", o->pos[i],
                            hm_strerror(rc));
            goto done;
        }
        if (have_chain && (rc = hm_tx_verify(t, chain)) != HM_OK) {
            wallet_diag_set(d, "%s: %s", o->pos[i],
                            rc == HM_ERR_WRONG_CHAIN ? "signed for another chain id"
                                                     : "a signature does not verify");
            goto done;
        }
        hm_tx_free(t);
        t = NULL;
        ptrs[i] = bufs[i].data;
        lens[i] = bufs[i].len;
    }
    if (wallet_cmd_client(&client, o, d) != HM_OK)
        goto done;
    have_client = true;
    if (n > 1) {
        if (wallet_api_submit_batch(&client, &answer, ptrs, lens, n, d) != HM_OK)
            goto done;
        if (as_json)
            wallet_print_json(answer);
        else
            wallet_json_print_human(stdout, answer, 0);
        ex = WALLET_EXIT_OK;
        goto done;
    }
    hm_tx_t *one = NULL;
    if (hm_tx_decode(&one, ptrs[0], lens[0]) != HM_OK) {
        wallet_diag_set(d, "internal: decode");
        goto done;
    }
    uint8_t txid[32];
    memcpy(txid, one->txid, sizeof txid);
    hm_tx_free(one);
    char txid_hex[65], status[64];
    if (wallet_api_submit(&client, txid_hex, status, sizeof status, ptrs[0], lens[0], txid, d) !=
        HM_OK)
        goto done;
    if (wallet_opt_has(o, "wait")) {
        unsigned tmo;
        if (!as_json)
            printf("txid        %s\nstatus      %s\n", txid_hex, status);
        if (wallet_cmd_timeout(&tmo, o, d) != HM_OK)
            goto done;
        ex = wallet_cmd_wait(&client, txid_hex, tmo, as_json, d);
        goto done;
    }
    if (as_json) {
        json_t *j = json_pack("{s:s, s:s}", "txid", txid_hex, "status", status);
        if (j)
            wallet_print_json(j);
        json_decref(j);
    } else {
        printf("txid        %s\nstatus      %s\n", txid_hex, status);
    }
    ex = WALLET_EXIT_OK;
done:
    for (size_t i = 0; bufs && i < n; i++)
        hm_buf_free(&bufs[i]);
    free(bufs);
    free(ptrs);
    free(lens);
    hm_tx_free(t);
    json_decref(answer);
    if (have_client)
        rpcc_client_clear(&client);
    return ex;
}

const wallet_cmd_t wallet_cmd_submit = {
    "submit", "FILE...", 1, 256, "send signed tx files to the node (several: one batch)",
    "With --wait (one file): exit 0 when applied, 1 when committed but rejected, 2 on timeout\n"
    "or error. With --genesis or --chain-id the files are checked before sending.",
    {WALLET_OPTS_WAIT, WALLET_OPTS_CHAIN, WALLET_OPTS_NODE, WALLET_OPTS_JSON, NULL}, run_submit};
