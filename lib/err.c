/* lib/err — see err.h. */
#include "lib/err.h"

struct hm_err_desc {
    int code;
    const char *name;
    const char *text;
};

static const struct hm_err_desc hm_err_table[] = {
    {HM_OK, "HM_OK", "success"},
    {HM_ERR_NOMEM, "HM_ERR_NOMEM", "out of memory"},
    {HM_ERR_INVALID, "HM_ERR_INVALID", "malformed input"},
    {HM_ERR_TOO_LARGE, "HM_ERR_TOO_LARGE", "input exceeds its size limit"},
    {HM_ERR_BAD_SIGNATURE, "HM_ERR_BAD_SIGNATURE", "signature does not verify"},
    {HM_ERR_NOT_FOUND, "HM_ERR_NOT_FOUND", "not found"},
    {HM_ERR_IO, "HM_ERR_IO", "input/output error"},
    {HM_ERR_CRYPTO, "HM_ERR_CRYPTO", "cryptographic library failure"},
    {HM_ERR_EXISTS, "HM_ERR_EXISTS", "already exists"},
    {HM_ERR_STATE, "HM_ERR_STATE", "operation not allowed in the current state"},
    {HM_ERR_WRONG_CHAIN, "HM_ERR_WRONG_CHAIN", "signed for another chain"},
    {HM_ERR_PROOF, "HM_ERR_PROOF", "proof does not verify"},
    {HM_ERR_OVERFLOW, "HM_ERR_OVERFLOW", "integer overflow"},
    {HM_ERR_LIMIT, "HM_ERR_LIMIT", "capacity limit reached"},
    {HM_ERR_CORRUPT, "HM_ERR_CORRUPT", "stored data is corrupt"},
    {HM_ERR_AUTH, "HM_ERR_AUTH", "authentication failed"},
    {HM_ERR_TIMEOUT, "HM_ERR_TIMEOUT", "timed out"},
    {HM_ERR_CLOSED, "HM_ERR_CLOSED", "connection or resource closed"},
    {HM_ERR_UNSUPPORTED, "HM_ERR_UNSUPPORTED", "not supported"},
};

static const struct hm_err_desc *hm_err_find(int err)
{
    for (unsigned i = 0; i < sizeof hm_err_table / sizeof hm_err_table[0]; i++)
        if (hm_err_table[i].code == err)
            return &hm_err_table[i];
    return 0;
}

const char *hm_strerror(int err)
{
    const struct hm_err_desc *d = hm_err_find(err);
    return d ? d->text : "unknown error";
}

const char *hm_errname(int err)
{
    const struct hm_err_desc *d = hm_err_find(err);
    return d ? d->name : "HM_ERR_UNKNOWN";
}
