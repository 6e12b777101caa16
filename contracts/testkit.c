/* contracts/testkit — see testkit.h. Test support only. */
#include "contracts/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"
#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/keys.h"

int ctk_key(ctk_key_t *k, uint64_t seed)
{
    uint8_t in[16];
    memset(k, 0, sizeof *k);
    for (uint64_t ctr = 0; ctr < 16; ctr++) {
        hm_put_u64be(in, seed);
        hm_put_u64be(in + 8, ctr);
        hm_tagged_hash(k->sk, HM_TAG_GENESIS, in, sizeof in);
        if (hm_key_pubkey(k->pk, k->sk) == HM_OK)
            return HM_OK;
    }
    return HM_ERR_CRYPTO;
}

int ctk_world_init(ctk_world_t *w, hm_store_t *store, bool sign)
{
    memset(w, 0, sizeof *w);
    w->store = store;
    w->sign = sign;
    hm_tagged_hash(w->blk.chain_id, HM_TAG_GENESIS, "ctk", 3);
    w->blk.height = 1;
    w->blk.time_ms = 1000000;
    return hm_state_begin(&w->st, store);
}

void ctk_world_free(ctk_world_t *w)
{
    hm_state_free(w->st);
    w->st = NULL;
}

int ctk_genesis(ctk_world_t *w, ctk_key_t *const *accreditors, size_t na,
                const ctk_key_t *const *validators, size_t nv)
{
    contracts_genesis_accreditor_t *acc = calloc(na ? na : 1, sizeof *acc);
    Hallmark__ValidatorInfo *vi = calloc(nv ? nv : 1, sizeof *vi);
    Hallmark__ValidatorInfo **vp = calloc(nv ? nv : 1, sizeof *vp);
    uint8_t fp[32] = {0};
    int rc = HM_ERR_NOMEM;
    if (!acc || !vi || !vp)
        goto done;
    for (size_t i = 0; i < na; i++) {
        acc[i].name = "accreditor";
        acc[i].kind = HALLMARK__IDENTITY_KIND__KIND_OPERATOR;
        acc[i].keys = (const uint8_t(*)[32])accreditors[i]->pk;
        acc[i].n_keys = 1;
        contracts_genesis_gid(accreditors[i]->gid, accreditors[i]->pk);
    }
    for (size_t i = 0; i < nv; i++) {
        Hallmark__ValidatorInfo init = HALLMARK__VALIDATOR_INFO__INIT;
        vi[i] = init;
        vi[i].pubkey.data = (uint8_t *)validators[i]->pk;
        vi[i].pubkey.len = 32;
        vi[i].tls_fingerprint.data = fp;
        vi[i].tls_fingerprint.len = 32;
        vi[i].address = "127.0.0.1:26656";
        vp[i] = &vi[i];
    }
    contracts_genesis_t g = {acc, na, vp, nv};
    rc = contracts_genesis(w->st, &g);
    if (rc == HM_OK)
        rc = hm_state_commit(w->st, false);
done:
    free(acc);
    free(vi);
    free(vp);
    return rc;
}

int ctk_commit(ctk_world_t *w, uint8_t root[32])
{
    uint8_t r[32];
    int rc = hm_state_root(w->st, r);
    if (rc == HM_OK)
        rc = hm_state_commit(w->st, false);
    if (rc != HM_OK)
        return rc;
    if (root)
        memcpy(root, r, 32);
    w->blk.height++;
    w->blk.time_ms += 1000;
    return HM_OK;
}

void ctk_tx(ctk_world_t *w, Hallmark__Tx *tx, ctk_key_t *signer, const ctk_key_t *actor)
{
    Hallmark__Tx init = HALLMARK__TX__INIT;
    *tx = init;
    tx->chain_id.data = w->blk.chain_id;
    tx->chain_id.len = 32;
    tx->signer.data = signer->pk;
    tx->signer.len = 32;
    tx->nonce = signer->nonce++;
    if (actor) {
        tx->actor.data = (uint8_t *)actor->gid;
        tx->actor.len = HM_GID_LEN;
    }
}

/* A SignedTx with zero-filled signatures (contracts never check them). */
static int build_unsigned(uint8_t **out, size_t *len, const Hallmark__Tx *tx,
                          const ctk_key_t *const *cos, size_t ncos)
{
    static const uint8_t zsig[64];
    uint8_t *body = NULL;
    size_t blen = 0;
    Hallmark__Cosignature *cs = calloc(ncos ? ncos : 1, sizeof *cs);
    Hallmark__Cosignature **cp = calloc(ncos ? ncos : 1, sizeof *cp);
    int rc = HM_ERR_NOMEM;
    if (!cs || !cp)
        goto done;
    rc = hm_codec_encode(&body, &blen, &tx->base);
    if (rc != HM_OK)
        goto done;
    for (size_t i = 0; i < ncos; i++) {
        Hallmark__Cosignature init = HALLMARK__COSIGNATURE__INIT;
        cs[i] = init;
        cs[i].pubkey.data = (uint8_t *)cos[i]->pk;
        cs[i].pubkey.len = 32;
        cs[i].signature.data = (uint8_t *)zsig;
        cs[i].signature.len = 64;
        cp[i] = &cs[i];
    }
    Hallmark__SignedTx s = HALLMARK__SIGNED_TX__INIT;
    s.tx.data = body;
    s.tx.len = blen;
    s.signature.data = (uint8_t *)zsig;
    s.signature.len = 64;
    s.cosignatures = cp;
    s.n_cosignatures = ncos;
    rc = hm_codec_encode(out, len, &s.base);
done:
    free(body);
    free(cs);
    free(cp);
    return rc;
}

int ctk_build(ctk_world_t *w, hm_tx_t **out, const Hallmark__Tx *tx, const ctk_key_t *signer,
              const ctk_key_t *const *cosigners, size_t ncos)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc;
    if (w->sign) {
        rc = hm_tx_sign(&bytes, &len, NULL, tx, signer->sk);
        for (size_t i = 0; rc == HM_OK && i < ncos; i++) {
            uint8_t *more = NULL;
            size_t mlen = 0;
            rc = hm_tx_cosign(&more, &mlen, bytes, len, cosigners[i]->sk);
            free(bytes);
            bytes = more;
            len = mlen;
        }
    } else {
        rc = build_unsigned(&bytes, &len, tx, cosigners, ncos);
    }
    if (rc == HM_OK)
        rc = w->sign ? hm_tx_decode_verify(out, bytes, len, w->blk.chain_id)
                     : hm_tx_decode(out, bytes, len);
    free(bytes);
    return rc;
}

int ctk_exec(ctk_world_t *w, uint32_t *code, uint8_t txid[32], const Hallmark__Tx *tx,
             const ctk_key_t *signer, const ctk_key_t *const *cosigners, size_t ncos)
{
    hm_tx_t *t = NULL;
    int rc = ctk_build(w, &t, tx, signer, cosigners, ncos);
    if (rc == HM_OK)
        rc = contracts_apply_tx(w->st, code, &w->blk, t);
    if (rc == HM_OK && txid)
        memcpy(txid, t->txid, 32);
    hm_tx_free(t);
    return rc;
}

int ctk_register(ctk_world_t *w, uint32_t *code, ctk_key_t *k, const char *name,
                 Hallmark__IdentityKind kind)
{
    Hallmark__Tx tx;
    Hallmark__RegisterIdentity b = HALLMARK__REGISTER_IDENTITY__INIT;
    b.name = (char *)name;
    b.kind = kind;
    ctk_tx(w, &tx, k, NULL);
    tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
    tx.register_identity = &b;
    int rc = ctk_exec(w, code, NULL, &tx, k, NULL, 0);
    if (rc == HM_OK && *code == HM_R_OK)
        contracts_gid(k->gid, k->pk, tx.nonce);
    return rc;
}

int ctk_accredit(ctk_world_t *w, uint32_t *code, ctk_key_t *accreditor,
                 const uint8_t gid[HM_GID_LEN], const Hallmark__Role *roles, size_t n,
                 uint64_t until_ms)
{
    Hallmark__Tx tx;
    Hallmark__Accredit b = HALLMARK__ACCREDIT__INIT;
    b.gid.data = (uint8_t *)gid;
    b.gid.len = HM_GID_LEN;
    b.roles = (Hallmark__Role *)roles;
    b.n_roles = n;
    b.valid_until_ms = until_ms;
    ctk_tx(w, &tx, accreditor, accreditor);
    tx.body_case = HALLMARK__TX__BODY_ACCREDIT;
    tx.accredit = &b;
    return ctk_exec(w, code, NULL, &tx, accreditor, NULL, 0);
}

int ctk_recipe(ctk_world_t *w, uint32_t *code, ctk_key_t *owner, const uint8_t hash[32],
               const uint8_t *previous)
{
    Hallmark__Tx tx;
    Hallmark__RegisterRecipe b = HALLMARK__REGISTER_RECIPE__INIT;
    b.recipe_hash.data = (uint8_t *)hash;
    b.recipe_hash.len = 32;
    if (previous) {
        b.previous.data = (uint8_t *)previous;
        b.previous.len = 32;
    }
    b.version = "1.0";
    b.title = "bracket";
    b.material = "Ti-6Al-4V";
    b.process = "SLM";
    ctk_tx(w, &tx, owner, owner);
    tx.body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
    tx.register_recipe = &b;
    return ctk_exec(w, code, NULL, &tx, owner, NULL, 0);
}

int ctk_grant(ctk_world_t *w, uint32_t *code, uint8_t licence_id[32], ctk_key_t *owner,
              const uint8_t recipe[32], const uint8_t licensee[HM_GID_LEN], uint64_t max_units,
              uint64_t from_ms, uint64_t until_ms)
{
    Hallmark__Tx tx;
    Hallmark__GrantLicence b = HALLMARK__GRANT_LICENCE__INIT;
    uint8_t txid[32];
    b.recipe_hash.data = (uint8_t *)recipe;
    b.recipe_hash.len = 32;
    b.licensee.data = (uint8_t *)licensee;
    b.licensee.len = HM_GID_LEN;
    b.max_units = max_units;
    b.valid_from_ms = from_ms;
    b.valid_until_ms = until_ms;
    ctk_tx(w, &tx, owner, owner);
    tx.body_case = HALLMARK__TX__BODY_GRANT_LICENCE;
    tx.grant_licence = &b;
    int rc = ctk_exec(w, code, txid, &tx, owner, NULL, 0);
    if (rc == HM_OK && licence_id)
        contracts_licence_id(licence_id, txid);
    return rc;
}

int ctk_mint(ctk_world_t *w, uint32_t *code, uint8_t cert_id[32], ctk_key_t *mfr,
             const char *batch, const uint8_t recipe[32], const uint8_t licence[32],
             uint64_t quantity, char **serials, size_t n)
{
    Hallmark__Tx tx;
    Hallmark__MintCertificate b = HALLMARK__MINT_CERTIFICATE__INIT;
    uint8_t txid[32];
    b.batch_id = (char *)batch;
    b.recipe_hash.data = (uint8_t *)recipe;
    b.recipe_hash.len = 32;
    b.licence_id.data = (uint8_t *)licence;
    b.licence_id.len = 32;
    b.quantity = quantity;
    b.part_serials = serials;
    b.n_part_serials = n;
    ctk_tx(w, &tx, mfr, mfr);
    tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
    tx.mint_certificate = &b;
    int rc = ctk_exec(w, code, txid, &tx, mfr, NULL, 0);
    if (rc == HM_OK && cert_id)
        contracts_cert_id(cert_id, txid);
    return rc;
}

int ctk_transfer(ctk_world_t *w, uint32_t *code, ctk_key_t *holder, char **serials, size_t n,
                 const uint8_t to[HM_GID_LEN])
{
    Hallmark__Tx tx;
    Hallmark__TransferCustody b = HALLMARK__TRANSFER_CUSTODY__INIT;
    b.serials = serials;
    b.n_serials = n;
    b.to.data = (uint8_t *)to;
    b.to.len = HM_GID_LEN;
    ctk_tx(w, &tx, holder, holder);
    tx.body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
    tx.transfer_custody = &b;
    return ctk_exec(w, code, NULL, &tx, holder, NULL, 0);
}

int ctk_cosign(ctk_world_t *w, uint32_t *code, ctk_key_t *inspector, const uint8_t cert_id[32],
               Hallmark__Verdict verdict)
{
    Hallmark__Tx tx;
    Hallmark__CoSignCertificate b = HALLMARK__CO_SIGN_CERTIFICATE__INIT;
    b.cert_id.data = (uint8_t *)cert_id;
    b.cert_id.len = 32;
    b.verdict = verdict;
    ctk_tx(w, &tx, inspector, inspector);
    tx.body_case = HALLMARK__TX__BODY_COSIGN_CERTIFICATE;
    tx.cosign_certificate = &b;
    return ctk_exec(w, code, NULL, &tx, inspector, NULL, 0);
}

int ctk_revoke_cert(ctk_world_t *w, uint32_t *code, ctk_key_t *k, const uint8_t cert_id[32])
{
    Hallmark__Tx tx;
    Hallmark__RevokeCertificate b = HALLMARK__REVOKE_CERTIFICATE__INIT;
    b.cert_id.data = (uint8_t *)cert_id;
    b.cert_id.len = 32;
    b.reason = "recall";
    ctk_tx(w, &tx, k, k);
    tx.body_case = HALLMARK__TX__BODY_REVOKE_CERTIFICATE;
    tx.revoke_certificate = &b;
    return ctk_exec(w, code, NULL, &tx, k, NULL, 0);
}

int ctk_assemble(ctk_world_t *w, uint32_t *code, ctk_key_t *holder, const char *parent,
                 char **children, size_t n)
{
    Hallmark__Tx tx;
    Hallmark__Assemble b = HALLMARK__ASSEMBLE__INIT;
    b.parent = (char *)parent;
    b.children = children;
    b.n_children = n;
    ctk_tx(w, &tx, holder, holder);
    tx.body_case = HALLMARK__TX__BODY_ASSEMBLE;
    tx.assemble = &b;
    return ctk_exec(w, code, NULL, &tx, holder, NULL, 0);
}

int ctk_get(ctk_world_t *w, void **out, const contracts_key_t *k,
            const ProtobufCMessageDescriptor *desc)
{
    return cx_state_get(w->st, out, k, desc);
}

/* ------------------------------------------------------------ script */

#define SK_CAST 7   /* 0 = genesis accreditor, 1..6 the cast */
#define SK_VALS 4
#define SK_SERIALS 24
#define SK_POOL 8
#define SK_MAX_TXS 256

typedef struct {
    ctk_world_t w;
    ctk_key_t cast[SK_CAST];
    ctk_key_t vals[SK_VALS];
    uint8_t recipes[4][32];
    uint8_t licences[SK_POOL][32]; /* ids of grants made (applied or not) */
    size_t n_lic;
    uint8_t certs[SK_POOL][32];
    size_t n_cert;
    hm_buf_t *trace;
    hm_tx_t *block[SK_MAX_TXS];
    size_t n_block;
    const uint8_t *data;
    size_t len, pos;
} script_t;

static uint8_t sk_byte(script_t *s)
{
    return s->pos < s->len ? s->data[s->pos++] : 0;
}

static void sk_serial(char out[16], unsigned i)
{
    snprintf(out, 16, "S%u", i % SK_SERIALS);
}

/* Execute the current block (in order), trace codes and root, commit. */
static int sk_flush(script_t *s)
{
    uint32_t codes[SK_MAX_TXS];
    uint8_t root[32];
    int rc = contracts_apply_block(s->w.st, codes, root, &s->w.blk, s->block, s->n_block);
    for (size_t i = 0; rc == HM_OK && i < s->n_block; i++)
        rc = hm_buf_append_u32be(s->trace, codes[i]);
    if (rc == HM_OK)
        rc = hm_buf_append(s->trace, root, 32);
    if (rc == HM_OK)
        rc = hm_state_commit(s->w.st, false);
    for (size_t i = 0; i < s->n_block; i++)
        hm_tx_free(s->block[i]);
    s->n_block = 0;
    s->w.blk.height++;
    s->w.blk.time_ms += 1000;
    return rc;
}

/* Queue tx (built now, applied at flush). */
static int sk_queue(script_t *s, const Hallmark__Tx *tx, const ctk_key_t *signer,
                    const ctk_key_t *const *cos, size_t ncos, uint8_t txid[32])
{
    int rc = HM_OK;
    if (s->n_block == SK_MAX_TXS && (rc = sk_flush(s)) != HM_OK)
        return rc;
    hm_tx_t *t = NULL;
    rc = ctk_build(&s->w, &t, tx, signer, cos, ncos);
    if (rc != HM_OK)
        return rc;
    if (txid)
        memcpy(txid, t->txid, 32);
    s->block[s->n_block++] = t;
    return HM_OK;
}

static int sk_prelude(script_t *s)
{
    uint32_t code;
    int rc = HM_OK;
    static const Hallmark__Role roles[SK_CAST][2] = {
        {0, 0},
        {HALLMARK__ROLE__ROLE_DESIGNER, 0},
        {HALLMARK__ROLE__ROLE_MANUFACTURER, 0},
        {HALLMARK__ROLE__ROLE_MANUFACTURER, 0},
        {HALLMARK__ROLE__ROLE_INSPECTOR, 0},
        {HALLMARK__ROLE__ROLE_MANUFACTURER, HALLMARK__ROLE__ROLE_INSPECTOR},
        {0, 0},
    };
    for (size_t i = 1; rc == HM_OK && i < SK_CAST; i++) {
        rc = ctk_register(&s->w, &code, &s->cast[i], "cast", HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER);
        if (rc == HM_OK && roles[i][0])
            rc = ctk_accredit(&s->w, &code, &s->cast[0], s->cast[i].gid, roles[i],
                              roles[i][1] ? 2 : 1, 0);
    }
    for (size_t i = 0; i < 4; i++)
        hm_tagged_hash(s->recipes[i], HM_TAG_LEAF, &i, 1);
    if (rc == HM_OK)
        rc = ctk_recipe(&s->w, &code, &s->cast[1], s->recipes[0], NULL);
    if (rc == HM_OK)
        rc = ctk_grant(&s->w, &code, s->licences[0], &s->cast[1], s->recipes[0], s->cast[2].gid,
                       20, 0, 0);
    if (rc == HM_OK)
        rc = ctk_grant(&s->w, &code, s->licences[1], &s->cast[1], s->recipes[0], s->cast[5].gid,
                       0, 0, 0);
    s->n_lic = 2;
    if (rc == HM_OK)
        rc = ctk_commit(&s->w, NULL);
    return rc;
}

static int sk_step(script_t *s)
{
    /* Who signs: any of the cast, or (high bit) the one the op suits, so
     * sequences reach deep states instead of piling up rejections. */
    static const uint8_t suits[21] = {6, 0, 0, 0, 3, 1, 1, 1, 1, 1, 2, 2, 4, 2, 2, 3, 4, 2, 0, 2, 0};
    uint8_t op = sk_byte(s), wb = sk_byte(s), a = sk_byte(s), b = sk_byte(s);
    uint8_t who = wb % SK_CAST;
    if (wb & 0x80) {
        who = suits[op % 21];
        if (who == 2 && (wb & 1)) /* the other manufacturer (holds licence 1) */
            who = 5;
        if (who == 4 && (wb & 1)) /* the manufacturer-inspector */
            who = 5;
    }
    ctk_key_t *k = &s->cast[who];
    ctk_key_t *other = &s->cast[a % SK_CAST];
    /* accreditation ops spare the genesis accreditor, or it soon loses its
     * role and every later accreditation is rejected */
    if (op % 21 >= 1 && op % 21 <= 3)
        other = &s->cast[1 + a % (SK_CAST - 1)];
    Hallmark__Tx tx;
    uint8_t txid[32];
    char sa[16], sb[16], sc[16];
    char *ser[3] = {sa, sb, sc};
    sk_serial(sa, a);
    sk_serial(sb, b);
    sk_serial(sc, (unsigned)a + b);
    size_t nser = 1 + b % 3;
    /* suspension and revocation stop the world quickly: keep them rare */
    uint8_t kind = op % 21;
    if ((kind == 2 && (b & 3)) || (kind == 3 && b < 0xf0))
        kind = 1;
    ctk_tx(&s->w, &tx, k, k);
    switch (kind) {
    case 0: {
        Hallmark__RegisterIdentity r = HALLMARK__REGISTER_IDENTITY__INIT;
        Hallmark__ExternalId e = HALLMARK__EXTERNAL_ID__INIT, *ep = &e;
        char v[8];
        snprintf(v, sizeof v, "%u", b % 4);
        e.scheme = "duns";
        e.value = v;
        r.name = "new";
        r.kind = 1 + a % 5;
        r.external_ids = &ep;
        r.n_external_ids = a & 1;
        tx.actor.len = 0;
        tx.body_case = HALLMARK__TX__BODY_REGISTER_IDENTITY;
        tx.register_identity = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 1: {
        Hallmark__Accredit r = HALLMARK__ACCREDIT__INIT;
        Hallmark__Role roles[2] = {1 + b % 6, 1 + (b / 8) % 6};
        r.gid = (ProtobufCBinaryData){HM_GID_LEN, other->gid};
        r.roles = roles;
        r.n_roles = roles[0] == roles[1] ? 1 : 2;
        r.valid_until_ms = (b & 0x80) ? s->w.blk.time_ms + 1000u * (b & 7) : 0;
        tx.body_case = HALLMARK__TX__BODY_ACCREDIT;
        tx.accredit = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 2: {
        Hallmark__Suspend r = HALLMARK__SUSPEND__INIT;
        r.gid = (ProtobufCBinaryData){HM_GID_LEN, other->gid};
        tx.body_case = HALLMARK__TX__BODY_SUSPEND;
        tx.suspend = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 3: {
        Hallmark__RevokeIdentity rv = HALLMARK__REVOKE_IDENTITY__INIT;
        rv.gid = (ProtobufCBinaryData){HM_GID_LEN, other->gid};
        tx.body_case = HALLMARK__TX__BODY_REVOKE_IDENTITY;
        tx.revoke_identity = &rv;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 4: {
        Hallmark__RotateKeys r = HALLMARK__ROTATE_KEYS__INIT;
        ProtobufCBinaryData keys[2] = {{32, k->pk}, {32, other->pk}};
        r.gid = (ProtobufCBinaryData){HM_GID_LEN, k->gid};
        r.controller_keys = keys;
        r.n_controller_keys = (b & 1) && other != k ? 2 : 1;
        tx.body_case = HALLMARK__TX__BODY_ROTATE_KEYS;
        tx.rotate_keys = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 5: {
        Hallmark__RegisterRecipe r = HALLMARK__REGISTER_RECIPE__INIT;
        r.recipe_hash = (ProtobufCBinaryData){32, s->recipes[a % 4]};
        if (b & 1)
            r.previous = (ProtobufCBinaryData){32, s->recipes[b % 4]};
        tx.body_case = HALLMARK__TX__BODY_REGISTER_RECIPE;
        tx.register_recipe = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 6: {
        Hallmark__TransferRecipe r = HALLMARK__TRANSFER_RECIPE__INIT;
        r.recipe_hash = (ProtobufCBinaryData){32, s->recipes[a % 4]};
        r.new_owner = (ProtobufCBinaryData){HM_GID_LEN, s->cast[b % SK_CAST].gid};
        tx.body_case = HALLMARK__TX__BODY_TRANSFER_RECIPE;
        tx.transfer_recipe = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 7: {
        Hallmark__DeprecateRecipe r = HALLMARK__DEPRECATE_RECIPE__INIT;
        r.recipe_hash = (ProtobufCBinaryData){32, s->recipes[a % 4]};
        tx.body_case = HALLMARK__TX__BODY_DEPRECATE_RECIPE;
        tx.deprecate_recipe = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 8: {
        Hallmark__GrantLicence r = HALLMARK__GRANT_LICENCE__INIT;
        char *sites[] = {"site-a"};
        r.recipe_hash = (ProtobufCBinaryData){32, s->recipes[a % 4]};
        r.licensee = (ProtobufCBinaryData){HM_GID_LEN, s->cast[b % SK_CAST].gid};
        r.max_units = b % 40;
        r.valid_until_ms = (b & 0x40) ? s->w.blk.time_ms + 3000 : 0;
        r.sites = sites;
        r.n_sites = (b & 0x20) ? 1 : 0;
        r.sublicensable = (a & 0x80) != 0;
        if ((a & 0x40) && s->n_lic) {
            r.parent_licence = (ProtobufCBinaryData){32, s->licences[b % s->n_lic]};
            r.sublicensable = false;
        }
        tx.body_case = HALLMARK__TX__BODY_GRANT_LICENCE;
        tx.grant_licence = &r;
        int rc = sk_queue(s, &tx, k, NULL, 0, txid);
        if (rc == HM_OK) {
            contracts_licence_id(s->licences[s->n_lic % SK_POOL], txid);
            if (s->n_lic < SK_POOL)
                s->n_lic++;
        }
        return rc;
    }
    case 9: {
        Hallmark__RevokeLicence r = HALLMARK__REVOKE_LICENCE__INIT;
        r.licence_id = (ProtobufCBinaryData){32, s->licences[a % (s->n_lic ? s->n_lic : 1)]};
        tx.body_case = HALLMARK__TX__BODY_REVOKE_LICENCE;
        tx.revoke_licence = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 10: {
        Hallmark__MintCertificate r = HALLMARK__MINT_CERTIFICATE__INIT;
        char batch[8];
        snprintf(batch, sizeof batch, "B%u", a % 16);
        r.batch_id = batch;
        r.recipe_hash = (ProtobufCBinaryData){32, s->recipes[(b >> 6) % 2 ? a % 4 : 0]};
        size_t li = b % (s->n_lic ? s->n_lic : 1);
        if (wb & 0x80) /* the prelude's licences: 0 to cast 2, 1 to cast 5 */
            li = who == 5 ? 1 : 0;
        r.licence_id = (ProtobufCBinaryData){32, s->licences[li]};
        r.quantity = 1 + b % 8;
        r.part_serials = ser;
        r.n_part_serials = nser;
        r.site = (b & 0x20) ? "site-a" : "";
        tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
        tx.mint_certificate = &r;
        int rc = sk_queue(s, &tx, k, NULL, 0, txid);
        if (rc == HM_OK) {
            contracts_cert_id(s->certs[s->n_cert % SK_POOL], txid);
            if (s->n_cert < SK_POOL)
                s->n_cert++;
        }
        return rc;
    }
    case 11:
    case 12:
    case 13: {
        uint8_t *cert = s->certs[a % (s->n_cert ? s->n_cert : 1)];
        Hallmark__AddParts ap = HALLMARK__ADD_PARTS__INIT;
        Hallmark__CoSignCertificate cs = HALLMARK__CO_SIGN_CERTIFICATE__INIT;
        Hallmark__RevokeCertificate rv = HALLMARK__REVOKE_CERTIFICATE__INIT;
        if (kind == 11) {
            ap.cert_id = (ProtobufCBinaryData){32, cert};
            ap.serials = ser;
            ap.n_serials = nser;
            tx.body_case = HALLMARK__TX__BODY_ADD_PARTS;
            tx.add_parts = &ap;
        } else if (kind == 12) {
            cs.cert_id = (ProtobufCBinaryData){32, cert};
            cs.verdict = 1 + (b & 1);
            tx.body_case = HALLMARK__TX__BODY_COSIGN_CERTIFICATE;
            tx.cosign_certificate = &cs;
        } else {
            rv.cert_id = (ProtobufCBinaryData){32, cert};
            tx.body_case = HALLMARK__TX__BODY_REVOKE_CERTIFICATE;
            tx.revoke_certificate = &rv;
        }
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 14: {
        Hallmark__TransferCustody r = HALLMARK__TRANSFER_CUSTODY__INIT;
        r.serials = ser;
        r.n_serials = nser;
        r.to = (ProtobufCBinaryData){HM_GID_LEN, s->cast[b % SK_CAST].gid};
        tx.body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
        tx.transfer_custody = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 15: {
        Hallmark__Assemble r = HALLMARK__ASSEMBLE__INIT;
        r.parent = sa;
        r.children = ser + 1;
        r.n_children = 1 + (b & 1);
        tx.body_case = HALLMARK__TX__BODY_ASSEMBLE;
        tx.assemble = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 16: {
        Hallmark__RecordInspection r = HALLMARK__RECORD_INSPECTION__INIT;
        r.serial = sa;
        r.verdict = b % 3;
        tx.body_case = HALLMARK__TX__BODY_RECORD_INSPECTION;
        tx.record_inspection = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 17: {
        Hallmark__Scrap r = HALLMARK__SCRAP__INIT;
        r.serials = ser;
        r.n_serials = nser;
        tx.body_case = HALLMARK__TX__BODY_SCRAP;
        tx.scrap = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    case 18: {
        Hallmark__UpdateValidators r = HALLMARK__UPDATE_VALIDATORS__INIT;
        ProtobufCBinaryData rm = {32, s->vals[a % SK_VALS].pk};
        Hallmark__ValidatorInfo add = HALLMARK__VALIDATOR_INFO__INIT, *addp = &add;
        uint8_t fp[32] = {0};
        add.pubkey = (ProtobufCBinaryData){32, s->cast[a % SK_CAST].pk};
        add.tls_fingerprint = (ProtobufCBinaryData){32, fp};
        if (b & 1) {
            r.remove = &rm;
            r.n_remove = 1;
        } else {
            r.add = &addp;
            r.n_add = 1;
        }
        r.effective_height = s->w.blk.height + b % 4;
        const ctk_key_t *cos[SK_VALS - 1];
        size_t nc = b % SK_VALS;
        for (size_t i = 0; i < nc; i++)
            cos[i] = &s->vals[i + 1];
        ctk_tx(&s->w, &tx, &s->vals[0], NULL);
        s->cast[who].nonce--; /* the tx prepared above was not used */
        tx.body_case = HALLMARK__TX__BODY_UPDATE_VALIDATORS;
        tx.update_validators = &r;
        return sk_queue(s, &tx, &s->vals[0], cos, nc, NULL);
    }
    case 19: { /* a wrong nonce: rejected, consumes nothing */
        Hallmark__Scrap r = HALLMARK__SCRAP__INIT;
        r.serials = ser;
        r.n_serials = 1;
        k->nonce--;
        tx.nonce = k->nonce + 1 + a % 3;
        tx.body_case = HALLMARK__TX__BODY_SCRAP;
        tx.scrap = &r;
        return sk_queue(s, &tx, k, NULL, 0, NULL);
    }
    default:
        k->nonce--; /* no tx */
        s->w.blk.time_ms += 1000u * (b % 4);
        return sk_flush(s);
    }
}

int ctk_script_run(hm_store_t *store, hm_buf_t *trace, const uint8_t *data, size_t len)
{
    script_t *s = calloc(1, sizeof *s);
    if (!s)
        return HM_ERR_NOMEM;
    int rc = ctk_world_init(&s->w, store, false);
    s->trace = trace;
    s->data = data;
    s->len = len;
    for (size_t i = 0; rc == HM_OK && i < SK_CAST; i++)
        rc = ctk_key(&s->cast[i], 7000 + i);
    for (size_t i = 0; rc == HM_OK && i < SK_VALS; i++)
        rc = ctk_key(&s->vals[i], 7100 + i);
    if (rc == HM_OK) {
        ctk_key_t *accs[] = {&s->cast[0]};
        const ctk_key_t *vals[SK_VALS];
        for (size_t i = 0; i < SK_VALS; i++)
            vals[i] = &s->vals[i];
        rc = ctk_genesis(&s->w, accs, 1, vals, SK_VALS);
    }
    if (rc == HM_OK)
        rc = sk_prelude(s);
    while (rc == HM_OK && s->pos < s->len)
        rc = sk_step(s);
    if (rc == HM_OK)
        rc = sk_flush(s);
    for (size_t i = 0; i < s->n_block; i++)
        hm_tx_free(s->block[i]);
    ctk_world_free(&s->w);
    free(s);
    return rc;
}
