/* wallet/cmd_query — read-only subcommands: "query KIND ID" for the records
 * of DESIGN §5 (identity, recipe, licence with its remaining quota,
 * certificate, part), "status" of the node, and the offline "chain-id".
 * The wallet shows records as the node gives them; it does not check their
 * proofs (that is hallmark-audit's job, DESIGN §10). */
#include "wallet/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "wallet/nodeapi.h"
#include "wallet/txjson.h"

typedef enum { ID_GID, ID_HASH, ID_SERIAL } id_kind_t;

/* Normalise the user's id for the URL. Out: id (cap >= 130). */
static int normalise_id(char *id, size_t cap, id_kind_t kind, const char *in, wallet_diag_t *d)
{
    uint8_t raw[32];
    switch (kind) {
    case ID_GID:
        if (wallet_parse_gid(raw, in, "GID", d) != HM_OK)
            return HM_ERR_INVALID;
        hm_hex_encode(id, raw, HM_GID_LEN);
        return HM_OK;
    case ID_HASH:
        if (wallet_parse_hash(raw, in, "ID", d) != HM_OK)
            return HM_ERR_INVALID;
        hm_hex_encode(id, raw, 32);
        return HM_OK;
    case ID_SERIAL:
        if (wallet_check_serial(in, "SERIAL", d) != HM_OK)
            return HM_ERR_INVALID;
        snprintf(id, cap, "%s", in);
        return HM_OK;
    }
    return HM_ERR_INVALID;
}

/* Remaining licence units as JSON: a number, or "unlimited". NULL when the
 * record lacks the fields. */
static json_t *remaining_units(const json_t *rec)
{
    uint64_t max = 0, used = 0;
    json_t *jm = json_object_get(rec, "max_units");
    json_t *ju = json_object_get(rec, "used_units");
    if (wallet_json_u64(&max, jm) != HM_OK)
        return NULL;
    if (ju && wallet_json_u64(&used, ju) != HM_OK)
        return NULL;
    if (max == 0)
        return json_string("unlimited");
    uint64_t left = used >= max ? 0 : max - used;
    return left <= (uint64_t)INT64_MAX ? json_integer((json_int_t)left) : json_null();
}

static int run_record(const wallet_cmd_t *c, const wallet_opts_t *o, const char *kind,
                      id_kind_t idk, wallet_diag_t *d)
{
    char id[160];
    rpcc_client_t client;
    json_t *ans = NULL;
    int ex = WALLET_EXIT_ERROR;
    if (normalise_id(id, sizeof id, idk, o->pos[0], d) != HM_OK)
        return ex;
    if (wallet_cmd_client(&client, o, d) != HM_OK)
        return ex;
    if (wallet_api_record(&client, &ans, kind, id, d) != HM_OK)
        goto done;
    json_t *rec = json_object_get(ans, "record");
    json_t *left = NULL;
    if (strcmp(kind, "licence") == 0) {
        /* the node's own figure when it gives one, else computed here */
        json_t *given = json_object_get(ans, "remaining_units");
        uint64_t v;
        if (json_is_string(given) && strcmp(json_string_value(given), "unlimited") == 0)
            left = json_string("unlimited");
        else if (given && wallet_json_u64(&v, given) == HM_OK && v <= (uint64_t)INT64_MAX)
            left = json_integer((json_int_t)v);
        else
            left = remaining_units(rec);
    }
    if (wallet_opt_has(o, "json")) {
        if (left && !json_object_get(ans, "remaining_units"))
            json_object_set(ans, "remaining_units", left);
        wallet_print_json(ans);
    } else {
        printf("%s %s\n", kind, o->pos[0]);
        if (strcmp(kind, "identity") == 0) {
            uint8_t gid[HM_GID_LEN];
            char did[WALLET_DID_STRLEN];
            if (hm_hex_decode(gid, sizeof gid, id) == HM_OK) {
                wallet_gid_format(did, gid);
                printf("did: %s\n", did);
            }
        }
        if (strcmp(kind, "licence") == 0) {
            uint64_t max = 0;
            if (left && json_is_string(left))
                printf("remaining: unlimited\n");
            else if (left && json_is_integer(left) &&
                     wallet_json_u64(&max, json_object_get(rec, "max_units")) == HM_OK)
                printf("remaining: %lld of %llu units\n", (long long)json_integer_value(left),
                       (unsigned long long)max);
            else
                printf("remaining: (the node's record has no max_units/used_units)\n");
        }
        const char *eff = json_string_value(json_object_get(ans, "effective_status"));
        const char *rc_ = json_string_value(json_object_get(ans, "recalled_component"));
        if (eff)
            printf("effective status: %s\n", eff);
        if (rc_)
            printf("recalled component: %s\n", rc_);
        wallet_json_print_human(stdout, rec, 2);
        json_t *h = json_object_get(ans, "header");
        json_t *height = json_object_get(ans, "header_height");
        if (!height && json_is_object(h))
            height = json_object_get(h, "height");
        if (height && json_is_integer(height))
            printf("as of height %lld (proof included in --json; verify with hallmark-audit)\n",
                   (long long)json_integer_value(height));
    }
    json_decref(left);
    ex = WALLET_EXIT_OK;
done:
    json_decref(ans);
    rpcc_client_clear(&client);
    return ex;
}

static int run_identity(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    return run_record(c, o, "identity", ID_GID, d);
}
static int run_recipe(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    return run_record(c, o, "recipe", ID_HASH, d);
}
static int run_licence(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    return run_record(c, o, "licence", ID_HASH, d);
}
static int run_certificate(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    return run_record(c, o, "certificate", ID_HASH, d);
}
static int run_part(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    return run_record(c, o, "part", ID_SERIAL, d);
}

#define QUERY_OPTS {WALLET_OPTS_NODE, WALLET_OPTS_JSON, NULL}

const wallet_cmd_t wallet_cmd_query_identity = {
    "query identity", "GID", 1, 1, "show a Global ID's record (status, keys, roles)",
    "GID is did:hallmark:<40 hex> or 40 hex.", QUERY_OPTS, run_identity};
const wallet_cmd_t wallet_cmd_query_recipe = {
    "query recipe", "RECIPE_HASH", 1, 1, "show a recipe's record (owner, lineage, deprecation)",
    NULL, QUERY_OPTS, run_recipe};
const wallet_cmd_t wallet_cmd_query_licence = {
    "query licence", "LICENCE_ID", 1, 1, "show a licence and its remaining quota",
    "remaining = max_units - used_units, or unlimited when max_units is 0. --json adds\n"
    "\"remaining_units\" to the node's answer.",
    QUERY_OPTS, run_licence};
const wallet_cmd_t wallet_cmd_query_certificate = {
    "query certificate", "CERT_ID", 1, 1, "show a certificate (status, co-signatures, recall)",
    NULL, QUERY_OPTS, run_certificate};
const wallet_cmd_t wallet_cmd_query_part = {
    "query part", "SERIAL", 1, 1, "show a part (certificate, holder, status, assembly)", NULL,
    QUERY_OPTS, run_part};

/* ------------------------------------------------------------- status */

static int run_status(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    rpcc_client_t client;
    json_t *ans = NULL;
    int ex = WALLET_EXIT_ERROR;
    if (wallet_cmd_client(&client, o, d) != HM_OK)
        return ex;
    if (wallet_api_get(&client, &ans, "/v1/status", d) == HM_OK) {
        if (wallet_opt_has(o, "json"))
            wallet_print_json(ans);
        else
            wallet_json_print_human(stdout, ans, 0);
        ex = WALLET_EXIT_OK;
    }
    json_decref(ans);
    rpcc_client_clear(&client);
    return ex;
}

const wallet_cmd_t wallet_cmd_status = {
    "status", "", 0, 0, "show the node's status (chain id, height, view, peers, mempool)", NULL,
    QUERY_OPTS, run_status};

/* ----------------------------------------------------------- chain-id */

static int run_chain_id(const wallet_cmd_t *c, const wallet_opts_t *o, wallet_diag_t *d)
{
    uint8_t id[HM_CHAIN_ID_LEN];
    char hex[65];
    bool have;
    if (wallet_cmd_read_chain_id(id, &have, o, d) != HM_OK)
        return WALLET_EXIT_ERROR;
    if (!have) {
        wallet_diag_set(d, "--genesis is required");
        return WALLET_EXIT_ERROR;
    }
    hm_hex_encode(hex, id, sizeof id);
    if (wallet_opt_has(o, "json")) {
        json_t *j = json_pack("{s:s}", "chain_id", hex);
        if (j)
            wallet_print_json(j);
        json_decref(j);
    } else {
        printf("%s\n", hex);
    }
    return WALLET_EXIT_OK;
}

const wallet_cmd_t wallet_cmd_chain_id = {
    "chain-id", "", 0, 0, "print the chain id of a genesis file (offline)",
    "chain_id = H_hallmark/genesis(the file's exact bytes).",
    {WALLET_OPTS_CHAIN, WALLET_OPTS_JSON, NULL}, run_chain_id};
