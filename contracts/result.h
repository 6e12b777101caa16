/* contracts/result — the stable result codes of transaction execution
 * (DESIGN §4): 0 = applied, anything else = rejected with that reason.
 *
 * A result code is a verdict stored in the block's results (TxResult.code),
 * never an error: contracts return errors (negative hm_err_t) only for I/O
 * or corrupt state. Codes are STABLE ONCE RELEASED: never renumber, never
 * reuse; add new codes at the end. doc/contracts.md explains each one.
 * Depends on nothing. */
#ifndef HM_CONTRACTS_RESULT_H
#define HM_CONTRACTS_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#define HM_RESULT_CODES(X)                                                                         \
    X(HM_R_OK, 0)                                                                                  \
    X(HM_R_BAD_NONCE, 1)                                                                           \
    X(HM_R_MALFORMED, 2)                                                                           \
    X(HM_R_UNKNOWN_ACTOR, 3)                                                                       \
    X(HM_R_UNAUTHORIZED, 4)                                                                        \
    X(HM_R_NOT_ACTIVE, 5)                                                                          \
    X(HM_R_ROLE_MISSING, 6)                                                                        \
    X(HM_R_ACCREDITATION_EXPIRED, 7)                                                               \
    X(HM_R_NOT_ACCREDITOR, 8)                                                                      \
    X(HM_R_IDENTITY_EXISTS, 9)                                                                     \
    X(HM_R_IDENTITY_UNKNOWN, 10)                                                                   \
    X(HM_R_IDENTITY_REVOKED, 11)                                                                   \
    X(HM_R_EXTERNAL_ID_TAKEN, 12)                                                                  \
    X(HM_R_RECIPE_EXISTS, 13)                                                                      \
    X(HM_R_RECIPE_UNKNOWN, 14)                                                                     \
    X(HM_R_PREVIOUS_UNKNOWN, 15)                                                                   \
    X(HM_R_RECIPE_DEPRECATED, 16)                                                                  \
    X(HM_R_NOT_OWNER, 17)                                                                          \
    X(HM_R_LICENCE_UNKNOWN, 18)                                                                    \
    X(HM_R_LICENCE_REVOKED, 19)                                                                    \
    X(HM_R_LICENCE_NOT_YET_VALID, 20)                                                              \
    X(HM_R_LICENCE_EXPIRED, 21)                                                                    \
    X(HM_R_LICENCE_EXHAUSTED, 22)                                                                  \
    X(HM_R_LICENCE_SITE, 23)                                                                       \
    X(HM_R_LICENCE_RECIPE_MISMATCH, 24)                                                            \
    X(HM_R_NOT_LICENSEE, 25)                                                                       \
    X(HM_R_NOT_SUBLICENSABLE, 26)                                                                  \
    X(HM_R_LICENCE_WINDOW, 27)                                                                     \
    X(HM_R_BATCH_EXISTS, 28)                                                                       \
    X(HM_R_SERIAL_EXISTS, 29)                                                                      \
    X(HM_R_SERIAL_UNKNOWN, 30)                                                                     \
    X(HM_R_NOT_HOLDER, 31)                                                                         \
    X(HM_R_PART_ASSEMBLED, 32)                                                                     \
    X(HM_R_PART_SCRAPPED, 33)                                                                      \
    X(HM_R_PART_RECALLED, 34)                                                                      \
    X(HM_R_PARENT_NOT_CERTIFIED, 35)                                                               \
    X(HM_R_CERT_UNKNOWN, 36)                                                                       \
    X(HM_R_CERT_REVOKED, 37)                                                                       \
    X(HM_R_QUANTITY_EXCEEDED, 38)                                                                  \
    X(HM_R_ALREADY_COSIGNED, 39)                                                                   \
    X(HM_R_NOT_INDEPENDENT, 40)                                                                    \
    X(HM_R_CAPACITY, 41)                                                                           \
    X(HM_R_VALIDATOR_QUORUM, 42)                                                                   \
    X(HM_R_BAD_EFFECTIVE_HEIGHT, 43)                                                               \
    X(HM_R_VALIDATOR_PENDING, 44)                                                                  \
    X(HM_R_VALIDATOR_UNKNOWN, 45)                                                                  \
    X(HM_R_VALIDATOR_EXISTS, 46)                                                                   \
    X(HM_R_VALIDATOR_SET_EMPTY, 47)

typedef enum {
#define HM_RESULT_ENUM(name, value) name = value,
    HM_RESULT_CODES(HM_RESULT_ENUM)
#undef HM_RESULT_ENUM
} contracts_result_t;

/* One past the highest code defined by this build. */
#define HM_R_COUNT 48u

/* The stable symbolic name of code ("HM_R_LICENCE_EXHAUSTED"), or
 * "HM_R_UNKNOWN" for a code this build does not know (a newer node's). */
const char *contracts_result_name(uint32_t code);

/* A short human description of code (static string). */
const char *contracts_result_text(uint32_t code);

/* The code named `name`; false when no code has that name. */
bool contracts_result_from_name(const char *name, uint32_t *code);

#endif
