/* contracts/result — names and descriptions of the result codes. Owns no
 * state; depends on nothing. */
#include "contracts/result.h"

#include <string.h>

static const char *const names[HM_R_COUNT] = {
#define HM_RESULT_NAME(name, value) [value] = #name,
    HM_RESULT_CODES(HM_RESULT_NAME)
#undef HM_RESULT_NAME
};

/* Keep in step with doc/contracts.md. */
static const char *const texts[HM_R_COUNT] = {
    [HM_R_OK] = "applied",
    [HM_R_BAD_NONCE] = "nonce is not the signer's next nonce",
    [HM_R_MALFORMED] = "a field is missing, too long, out of range or duplicated",
    [HM_R_UNKNOWN_ACTOR] = "actor is empty or not a registered identity",
    [HM_R_UNAUTHORIZED] = "signer and co-signers do not meet the actor's key threshold",
    [HM_R_NOT_ACTIVE] = "actor is suspended, revoked or not yet accredited",
    [HM_R_ROLE_MISSING] = "actor does not hold the required role",
    [HM_R_ACCREDITATION_EXPIRED] = "actor's accreditation has expired at block time",
    [HM_R_NOT_ACCREDITOR] = "actor does not hold the accreditor role",
    [HM_R_IDENTITY_EXISTS] = "an identity with this GID already exists",
    [HM_R_IDENTITY_UNKNOWN] = "the named identity is not registered",
    [HM_R_IDENTITY_REVOKED] = "the named identity is revoked",
    [HM_R_EXTERNAL_ID_TAKEN] = "an external id already belongs to another identity",
    [HM_R_RECIPE_EXISTS] = "recipe hash already registered",
    [HM_R_RECIPE_UNKNOWN] = "recipe hash not registered",
    [HM_R_PREVIOUS_UNKNOWN] = "lineage predecessor not registered",
    [HM_R_RECIPE_DEPRECATED] = "recipe is deprecated",
    [HM_R_NOT_OWNER] = "actor is not entitled to change this record",
    [HM_R_LICENCE_UNKNOWN] = "licence not found",
    [HM_R_LICENCE_REVOKED] = "licence (or its parent) is revoked",
    [HM_R_LICENCE_NOT_YET_VALID] = "block time is before the licence's validity",
    [HM_R_LICENCE_EXPIRED] = "block time is at or after the licence's expiry",
    [HM_R_LICENCE_EXHAUSTED] = "licence quota would be exceeded",
    [HM_R_LICENCE_SITE] = "site not allowed by the licence",
    [HM_R_LICENCE_RECIPE_MISMATCH] = "licence is for another recipe",
    [HM_R_NOT_LICENSEE] = "actor is not the licensee",
    [HM_R_NOT_SUBLICENSABLE] = "parent licence does not allow sub-licences",
    [HM_R_LICENCE_WINDOW] = "sub-licence validity lies outside its parent's",
    [HM_R_BATCH_EXISTS] = "batch id already used by this manufacturer",
    [HM_R_SERIAL_EXISTS] = "serial already on the ledger",
    [HM_R_SERIAL_UNKNOWN] = "serial not on the ledger",
    [HM_R_NOT_HOLDER] = "actor does not hold the part",
    [HM_R_PART_ASSEMBLED] = "part is a component of an assembly",
    [HM_R_PART_SCRAPPED] = "part is scrapped",
    [HM_R_PART_RECALLED] = "part's certificate is revoked",
    [HM_R_PARENT_NOT_CERTIFIED] = "assembly parent's certificate is not CERTIFIED",
    [HM_R_CERT_UNKNOWN] = "certificate not found",
    [HM_R_CERT_REVOKED] = "certificate is revoked",
    [HM_R_QUANTITY_EXCEEDED] = "more parts than the certificate's quantity",
    [HM_R_ALREADY_COSIGNED] = "inspector already co-signed this certificate",
    [HM_R_NOT_INDEPENDENT] = "inspector is the certificate's manufacturer",
    [HM_R_CAPACITY] = "the record's list is full",
    [HM_R_VALIDATOR_QUORUM] = "fewer than 2f+1 current validators signed",
    [HM_R_BAD_EFFECTIVE_HEIGHT] = "effective height is not above the executing height",
    [HM_R_VALIDATOR_PENDING] = "a validator change is already pending",
    [HM_R_VALIDATOR_UNKNOWN] = "removed validator is not in the set",
    [HM_R_VALIDATOR_EXISTS] = "added validator is already in the set",
    [HM_R_VALIDATOR_SET_EMPTY] = "the change would leave no validator",
};

const char *contracts_result_name(uint32_t code)
{
    return code < HM_R_COUNT && names[code] ? names[code] : "HM_R_UNKNOWN";
}

const char *contracts_result_text(uint32_t code)
{
    return code < HM_R_COUNT && texts[code] ? texts[code] : "unknown result code";
}

bool contracts_result_from_name(const char *name, uint32_t *code)
{
    for (uint32_t i = 0; i < HM_R_COUNT; i++) {
        if (names[i] && strcmp(names[i], name) == 0) {
            *code = i;
            return true;
        }
    }
    return false;
}
