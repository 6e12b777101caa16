/* contracts/query — read-side helpers the node and the auditor share:
 * effective part status (recall is derived from the certificate, never
 * written per part) and the walk over an assembly's components. Reads
 * only; depends on lib/ and proto/. */
#include <stdlib.h>
#include <string.h>

#include "contracts/exec.h"

const char *part_effective_name(part_effective_t s)
{
    switch (s) {
    case PART_EFF_ACTIVE: return "ACTIVE";
    case PART_EFF_ASSEMBLED: return "ASSEMBLED";
    case PART_EFF_SCRAPPED: return "SCRAPPED";
    case PART_EFF_RECALLED: return "RECALLED";
    default: return "UNKNOWN";
    }
}

part_effective_t part_effective_status(const Hallmark__Part *p, const Hallmark__Certificate *c)
{
    if (!p)
        return PART_EFF_UNKNOWN;
    if (c && c->status == HALLMARK__CERTIFICATE_STATUS__CERT_REVOKED)
        return PART_EFF_RECALLED;
    switch (p->status) {
    case HALLMARK__PART_STATUS__PART_ASSEMBLED: return PART_EFF_ASSEMBLED;
    case HALLMARK__PART_STATUS__PART_SCRAPPED: return PART_EFF_SCRAPPED;
    default: return PART_EFF_ACTIVE;
    }
}

/* Read a part and its certificate. Out: *p, *c (either NULL when absent). */
static int part_and_cert(hm_state_t *st, Hallmark__Part **p, Hallmark__Certificate **c,
                         const char *serial)
{
    contracts_key_t k;
    *p = NULL;
    *c = NULL;
    int rc = contracts_key_part(&k, serial);
    if (rc == HM_ERR_TOO_LARGE)
        return HM_OK; /* no such serial can be on the ledger */
    if (rc == HM_OK)
        rc = cx_state_get(st, (void **)p, &k, &hallmark__part__descriptor);
    if (rc != HM_OK || !*p)
        return rc;
    if ((*p)->cert_id.len != 32)
        return HM_OK;
    rc = contracts_key_cert(&k, (*p)->cert_id.data);
    if (rc == HM_OK)
        rc = cx_state_get(st, (void **)c, &k, &hallmark__certificate__descriptor);
    return rc;
}

int part_status_effective(hm_state_t *st, part_effective_t *out, const char *serial)
{
    Hallmark__Part *p = NULL;
    Hallmark__Certificate *c = NULL;
    int rc = part_and_cert(st, &p, &c, serial);
    if (rc == HM_OK)
        *out = part_effective_status(p, c);
    hm_free_part(p);
    hm_free_certificate(c);
    return rc;
}

int part_assembly_status(hm_state_t *st, part_effective_t *out, char **recalled,
                         const char *serial, size_t max_parts)
{
    /* Depth-first over components in stored order (deterministic). The
     * stack holds malloc'd serial copies. */
    char **stack = NULL;
    size_t n = 0, cap = 0, visited = 0;
    part_effective_t top = PART_EFF_UNKNOWN;
    char *found = NULL;
    int rc = HM_OK;

    if (recalled)
        *recalled = NULL;
    stack = malloc(sizeof *stack);
    if (!stack || !(stack[0] = strdup(serial))) {
        rc = HM_ERR_NOMEM;
        goto done;
    }
    n = cap = 1;
    while (n > 0 && !found) {
        char *s = stack[--n];
        Hallmark__Part *p = NULL;
        Hallmark__Certificate *c = NULL;
        if (++visited > max_parts) {
            free(s);
            rc = HM_ERR_LIMIT;
            goto done;
        }
        rc = part_and_cert(st, &p, &c, s);
        part_effective_t e = rc == HM_OK ? part_effective_status(p, c) : PART_EFF_UNKNOWN;
        if (visited == 1)
            top = e;
        if (rc == HM_OK && e == PART_EFF_RECALLED) {
            found = s;
            s = NULL;
        }
        /* push children in reverse so they pop in stored order */
        for (size_t i = p && rc == HM_OK && !found ? p->n_children : 0; i > 0; i--) {
            if (n == cap) {
                size_t ncap = cap * 2;
                char **ns = realloc(stack, ncap * sizeof *ns);
                if (!ns) {
                    rc = HM_ERR_NOMEM;
                    break;
                }
                stack = ns;
                cap = ncap;
            }
            if (!(stack[n] = strdup(p->children[i - 1]))) {
                rc = HM_ERR_NOMEM;
                break;
            }
            n++;
        }
        free(s);
        hm_free_part(p);
        hm_free_certificate(c);
        if (rc != HM_OK)
            goto done;
    }
    *out = found ? PART_EFF_RECALLED : top;
    if (found && recalled) {
        *recalled = found;
        found = NULL;
    }
done:
    free(found);
    for (size_t i = 0; i < n; i++)
        free(stack[i]);
    free(stack);
    return rc;
}
