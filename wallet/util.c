/* wallet/util — see util.h. */
#include "wallet/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/keys.h"
#include "lib/seal.h"

/* ------------------------------------------------------------ diagnostics */

void wallet_diag_set(wallet_diag_t *d, const char *fmt, ...)
{
    if (!d)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

void wallet_diag_prefix(wallet_diag_t *d, const char *fmt, ...)
{
    if (!d)
        return;
    char pre[256], old[sizeof d->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, d->msg, sizeof old);
    /* pre, then ": " and the old message, cut to fit */
    size_t n = strlen(pre);
    if (n >= sizeof d->msg)
        n = sizeof d->msg - 1;
    memcpy(d->msg, pre, n);
    d->msg[n] = '\0';
    if (old[0] && n + 2 < sizeof d->msg) {
        memcpy(d->msg + n, ": ", 2);
        size_t m = strnlen(old, sizeof old - 1);
        if (m > sizeof d->msg - n - 3)
            m = sizeof d->msg - n - 3;
        memcpy(d->msg + n + 2, old, m);
        d->msg[n + 2 + m] = '\0';
    }
}

/* ------------------------------------------------------------------ arena */

typedef struct {
    size_t len;
    max_align_t pad[]; /* payload follows, aligned */
} arena_block_t;

void *wallet_arena_alloc(wallet_arena_t *a, size_t n)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void **p = realloc(a->ptrs, cap * sizeof *p);
        if (!p)
            return NULL;
        a->ptrs = p;
        a->cap = cap;
    }
    if (n > SIZE_MAX - sizeof(arena_block_t))
        return NULL;
    arena_block_t *b = calloc(1, sizeof *b + (n ? n : 1));
    if (!b)
        return NULL;
    b->len = n;
    a->ptrs[a->n++] = b;
    return b->pad;
}

char *wallet_arena_strdup(wallet_arena_t *a, const char *s)
{
    size_t n = strlen(s);
    char *p = wallet_arena_alloc(a, n + 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

uint8_t *wallet_arena_memdup(wallet_arena_t *a, const void *src, size_t n)
{
    uint8_t *p = wallet_arena_alloc(a, n);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

void wallet_arena_free(wallet_arena_t *a)
{
    for (size_t i = 0; i < a->n; i++) {
        arena_block_t *b = a->ptrs[i];
        hm_wipe(b->pad, b->len);
        free(b);
    }
    free(a->ptrs);
    a->ptrs = NULL;
    a->n = a->cap = 0;
}

/* --------------------------------------------------------- string lists */

int wallet_strlist_add(wallet_strlist_t *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return HM_ERR_NOMEM;
        l->items = p;
        l->cap = cap;
    }
    char *c = strdup(s);
    if (!c)
        return HM_ERR_NOMEM;
    l->items[l->n++] = c;
    return HM_OK;
}

bool wallet_strlist_contains(const wallet_strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

void wallet_strlist_free(wallet_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* ---------------------------------------------------------------- parsing */

/* Quote a value for a message: cut long values, replace unprintables. */
static const char *shown(const char *s, char buf[64])
{
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        memcpy(buf + i, "...", 4);
    } else {
        buf[i] = '\0';
    }
    return buf;
}

static int parse_hex_exact(uint8_t *out, size_t n, const char *s, const char *what,
                           const char *kind, wallet_diag_t *d)
{
    char sb[64];
    if (!s || strlen(s) != 2 * n || hm_hex_decode(out, n, s) != HM_OK) {
        wallet_diag_set(d, "%s: expected %s (%zu hex digits), got \"%s\"", what, kind, 2 * n,
                        s ? shown(s, sb) : "");
        return HM_ERR_INVALID;
    }
    return HM_OK;
}

int wallet_parse_gid(uint8_t out[HM_GID_LEN], const char *s, const char *what, wallet_diag_t *d)
{
    uint8_t g[HM_GID_LEN];
    const char *hex = s;
    if (s && strncmp(s, WALLET_DID_PREFIX, strlen(WALLET_DID_PREFIX)) == 0)
        hex = s + strlen(WALLET_DID_PREFIX);
    if (parse_hex_exact(g, sizeof g, hex, what, "a GID (did:hallmark:<40 hex> or 40 hex)", d) !=
        HM_OK)
        return HM_ERR_INVALID;
    memcpy(out, g, sizeof g);
    return HM_OK;
}

int wallet_parse_hash(uint8_t out[32], const char *s, const char *what, wallet_diag_t *d)
{
    uint8_t h[32];
    if (parse_hex_exact(h, sizeof h, s, what, "a 32-byte id or hash", d) != HM_OK)
        return HM_ERR_INVALID;
    memcpy(out, h, sizeof h);
    return HM_OK;
}

int wallet_parse_pubkey(uint8_t out[32], const char *s, const char *what, wallet_diag_t *d)
{
    uint8_t k[32];
    if (parse_hex_exact(k, sizeof k, s, what, "an x-only public key", d) != HM_OK)
        return HM_ERR_INVALID;
    if (!hm_pubkey_is_valid(k)) {
        wallet_diag_set(d, "%s: %s is not a valid secp256k1 x-only public key", what, s);
        return HM_ERR_INVALID;
    }
    memcpy(out, k, sizeof k);
    return HM_OK;
}

int wallet_parse_u64(uint64_t *out, const char *s, const char *what, wallet_diag_t *d)
{
    char sb[64];
    uint64_t v = 0;
    if (!s || !*s)
        goto bad;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        if (!hm_mul_u64(&v, v, 10) || !hm_add_u64(&v, v, (uint64_t)(*p - '0'))) {
            wallet_diag_set(d, "%s: %s is too large", what, shown(s, sb));
            return HM_ERR_INVALID;
        }
    }
    *out = v;
    return HM_OK;
bad:
    wallet_diag_set(d, "%s: expected a non-negative decimal integer, got \"%s\"", what,
                    s ? shown(s, sb) : "");
    return HM_ERR_INVALID;
}

int wallet_parse_u32(uint32_t *out, const char *s, const char *what, wallet_diag_t *d)
{
    uint64_t v;
    if (wallet_parse_u64(&v, s, what, d) != HM_OK)
        return HM_ERR_INVALID;
    if (v > UINT32_MAX) {
        wallet_diag_set(d, "%s: %s is too large (at most %u)", what, s, UINT32_MAX);
        return HM_ERR_INVALID;
    }
    *out = (uint32_t)v;
    return HM_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned dd)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

int wallet_parse_time_ms(uint64_t *out, const char *s, const char *what, wallet_diag_t *d)
{
    char sb[64];
    if (s && *s && strspn(s, "0123456789") == strlen(s))
        return wallet_parse_u64(out, s, what, d);
    unsigned y, mo, da, h = 0, mi = 0, se = 0;
    size_t n = s ? strlen(s) : 0;
    if (!(n == 10 || n == 20) || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
        !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &da))
        goto bad;
    if (n == 20 && (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
                    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se)))
        goto bad;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || da < 1 || da > mdays[mo - 1] ||
        (mo == 2 && da == 29 && !leap) || h > 23 || mi > 59 || se > 59)
        goto bad;
    int64_t days = days_from_civil(y, mo, da);
    *out = ((uint64_t)days * 86400u + h * 3600u + mi * 60u + se) * 1000u;
    return HM_OK;
bad:
    wallet_diag_set(d,
                    "%s: expected milliseconds since the epoch, YYYY-MM-DD or "
                    "YYYY-MM-DDTHH:MM:SSZ (UTC, from 1970), got \"%s\"",
                    what, s ? shown(s, sb) : "");
    return HM_ERR_INVALID;
}

/* Length of the UTF-8 sequence at p (strict: no overlongs, no surrogates,
 * at most U+10FFFF), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

int wallet_check_text(const char *s, size_t max_len, bool allow_empty, const char *what,
                      wallet_diag_t *d)
{
    size_t n = strlen(s);
    if (n == 0 && !allow_empty) {
        wallet_diag_set(d, "%s: must not be empty", what);
        return HM_ERR_INVALID;
    }
    if (n > max_len) {
        wallet_diag_set(d, "%s: too long (%zu bytes, at most %zu)", what, n, max_len);
        return HM_ERR_INVALID;
    }
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            wallet_diag_set(d, "%s: contains a control character at byte %zu", what, i);
            return HM_ERR_INVALID;
        }
        size_t k = utf8_seq(p + i);
        if (k == 0) {
            wallet_diag_set(d, "%s: not valid UTF-8 at byte %zu", what, i);
            return HM_ERR_INVALID;
        }
        i += k;
    }
    return HM_OK;
}

int wallet_check_serial(const char *s, const char *what, wallet_diag_t *d)
{
    size_t n = strlen(s);
    if (n == 0 || n > WALLET_SERIAL_MAX) {
        wallet_diag_set(d, "%s: a serial has 1 to %d characters (got %zu)", what,
                        WALLET_SERIAL_MAX, n);
        return HM_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f) {
            wallet_diag_set(d,
                            "%s: a serial is printable ASCII without spaces (bad byte 0x%02x at "
                            "%zu)",
                            what, c, i);
            return HM_ERR_INVALID;
        }
    }
    return HM_OK;
}

int wallet_serials_parse(wallet_strlist_t *out, const char *text, size_t len, const char *source,
                         wallet_diag_t *d)
{
    char line[WALLET_SERIAL_MAX + 2];
    char what[300];
    size_t lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (memchr(start, '\0', n)) {
            wallet_diag_set(d, "%s line %zu: contains a NUL byte", source, lineno);
            return HM_ERR_INVALID;
        }
        /* trim spaces, tabs and a CR */
        while (n && (start[n - 1] == '\r' || start[n - 1] == ' ' || start[n - 1] == '\t'))
            n--;
        while (n && (*start == ' ' || *start == '\t')) {
            start++;
            n--;
        }
        if (n == 0 || *start == '#')
            continue;
        snprintf(what, sizeof what, "%s line %zu", source, lineno);
        if (n > WALLET_SERIAL_MAX) {
            wallet_diag_set(d, "%s: a serial has 1 to %d characters (got %zu)", what,
                            WALLET_SERIAL_MAX, n);
            return HM_ERR_INVALID;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        if (wallet_check_serial(line, what, d) != HM_OK)
            return HM_ERR_INVALID;
        if (wallet_strlist_contains(out, line)) {
            wallet_diag_set(d, "%s: serial %s is listed twice", what, line);
            return HM_ERR_INVALID;
        }
        if (out->n >= 16 * WALLET_MAX_SERIALS_PER_TX) {
            wallet_diag_set(d, "%s: too many serials", source);
            return HM_ERR_TOO_LARGE;
        }
        if (wallet_strlist_add(out, line) != HM_OK) {
            wallet_diag_set(d, "out of memory");
            return HM_ERR_NOMEM;
        }
    }
    return HM_OK;
}

int wallet_serials_read_file(wallet_strlist_t *out, const char *path, wallet_diag_t *d)
{
    hm_buf_t b = {0};
    int rc = wallet_read_file(&b, path, WALLET_SERIALS_FILE_MAX, "serials file", d);
    if (rc == HM_OK)
        rc = wallet_serials_parse(out, (const char *)b.data, b.len, path, d);
    hm_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------ files */

static int read_stream(hm_buf_t *out, FILE *f, size_t max)
{
    for (;;) {
        if (hm_buf_reserve(out, 4096) != HM_OK)
            return HM_ERR_NOMEM;
        size_t r = fread(out->data + out->len, 1, out->cap - out->len, f);
        out->len += r;
        if (out->len > max)
            return HM_ERR_TOO_LARGE;
        if (r == 0)
            return ferror(f) ? HM_ERR_IO : HM_OK;
    }
}

int wallet_read_file(hm_buf_t *out, const char *path, size_t max, const char *what,
                     wallet_diag_t *d)
{
    int rc;
    hm_buf_reset(out);
    errno = 0;
    if (strcmp(path, "-") == 0)
        rc = read_stream(out, stdin, max);
    else
        rc = hm_seal_read_file(out, path, max);
    switch (rc) {
    case HM_OK: break;
    case HM_ERR_NOT_FOUND: wallet_diag_set(d, "%s %s: no such file", what, path); break;
    case HM_ERR_TOO_LARGE:
        wallet_diag_set(d, "%s %s: larger than %zu bytes", what, path, max);
        break;
    case HM_ERR_NOMEM: wallet_diag_set(d, "out of memory"); break;
    default:
        wallet_diag_set(d, "%s %s: cannot read (%s)", what, path,
                        errno ? strerror(errno) : "not a regular file");
        break;
    }
    if (rc != HM_OK)
        hm_buf_reset(out);
    return rc;
}

int wallet_sha256_file(uint8_t out[32], const char *path, const char *what, wallet_diag_t *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        wallet_diag_set(d, "%s %s: %s", what, path, e == ENOENT ? "no such file" : strerror(e));
        return e == ENOENT ? HM_ERR_NOT_FOUND : HM_ERR_IO;
    }
    hm_hasher_t h;
    hm_hasher_init(&h);
    uint8_t chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        hm_hasher_update(&h, chunk, r);
    int rc = ferror(f) ? HM_ERR_IO : HM_OK;
    fclose(f);
    if (rc != HM_OK) {
        hm_hasher_abort(&h);
        wallet_diag_set(d, "%s %s: read error (is it a directory?)", what, path);
        return rc;
    }
    hm_hasher_final(&h, out);
    return HM_OK;
}

int wallet_chain_id_from_genesis(uint8_t out[HM_CHAIN_ID_LEN], const char *path, wallet_diag_t *d)
{
    hm_buf_t b = {0};
    int rc = wallet_read_file(&b, path, WALLET_GENESIS_MAX, "genesis file", d);
    if (rc == HM_OK && b.len == 0) {
        wallet_diag_set(d, "genesis file %s: empty", path);
        rc = HM_ERR_INVALID;
    }
    if (rc == HM_OK)
        hm_tagged_hash(out, HM_TAG_GENESIS, b.data, b.len);
    hm_buf_free(&b);
    return rc;
}

/* The longest hex text accepted in a signed tx file (payload cap plus room
 * for whitespace). */
#define STX_FILE_MAX (2u * HM_MAX_TX_BYTES + 4096u)

int wallet_stx_parse_hex(hm_buf_t *out, const char *text, size_t len, const char *source,
                         wallet_diag_t *d)
{
    size_t a = 0, b = len;
    while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r' || text[a] == '\n'))
        a++;
    while (b > a &&
           (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r' || text[b - 1] == '\n'))
        b--;
    if (a == b) {
        wallet_diag_set(d, "%s: empty (expected the hex of a signed transaction)", source);
        return HM_ERR_INVALID;
    }
    uint8_t *bytes = NULL;
    size_t n = 0;
    int rc = hm_hex_decode_alloc(&bytes, &n, text + a, b - a, HM_MAX_TX_BYTES);
    if (rc == HM_ERR_TOO_LARGE) {
        wallet_diag_set(d, "%s: signed transaction larger than %u bytes", source,
                        HM_MAX_TX_BYTES);
        return rc;
    }
    if (rc != HM_OK) {
        wallet_diag_set(d, "%s: not a hex-encoded signed transaction (odd length or a non-hex "
                           "character)",
                        source);
        return HM_ERR_INVALID;
    }
    hm_buf_reset(out);
    rc = hm_buf_append(out, bytes, n);
    free(bytes);
    if (rc != HM_OK)
        wallet_diag_set(d, "out of memory");
    return rc;
}

int wallet_stx_read_file(hm_buf_t *out, const char *path, wallet_diag_t *d)
{
    hm_buf_t text = {0};
    int rc = wallet_read_file(&text, path, STX_FILE_MAX, "signed tx file", d);
    if (rc == HM_ERR_TOO_LARGE)
        wallet_diag_set(d, "signed tx file %s: larger than a transaction can be", path);
    if (rc == HM_OK)
        rc = wallet_stx_parse_hex(out, (const char *)text.data, text.len, path, d);
    hm_buf_free(&text);
    return rc;
}

int wallet_stx_write_file(const char *path, const uint8_t *stx, size_t len, wallet_diag_t *d)
{
    int rc = HM_OK;
    char *hex = hm_hex_dup(stx, len);
    if (!hex) {
        wallet_diag_set(d, "out of memory");
        return HM_ERR_NOMEM;
    }
    size_t n = strlen(hex);
    hex[n] = '\n'; /* replaces the NUL; written with its length */
    if (strcmp(path, "-") == 0) {
        if (fwrite(hex, 1, n + 1, stdout) != n + 1 || fflush(stdout) != 0) {
            wallet_diag_set(d, "cannot write the signed tx to stdout");
            rc = HM_ERR_IO;
        }
    } else if ((errno = 0, hm_seal_write_atomic(path, (const uint8_t *)hex, n + 1)) != HM_OK) {
        wallet_diag_set(d, "cannot write %s: %s", path, errno ? strerror(errno) : "I/O error");
        rc = HM_ERR_IO;
    }
    free(hex);
    return rc;
}

/* -------------------------------------------------------------- identifiers */

void wallet_gid_derive(uint8_t gid[HM_GID_LEN], const uint8_t signer[32], uint64_t nonce)
{
    uint8_t n8[8], h[32];
    hm_put_u64be(n8, nonce);
    hm_tagged_hash2(h, HM_TAG_GID, signer, 32, n8, sizeof n8);
    memcpy(gid, h, HM_GID_LEN);
}

void wallet_gid_format(char out[WALLET_DID_STRLEN], const uint8_t gid[HM_GID_LEN])
{
    memcpy(out, WALLET_DID_PREFIX, strlen(WALLET_DID_PREFIX));
    hm_hex_encode(out + strlen(WALLET_DID_PREFIX), gid, HM_GID_LEN);
}

void wallet_licence_id(uint8_t out[32], const uint8_t txid[32])
{
    hm_tagged_hash(out, HM_TAG_LICENCE, txid, 32);
}

void wallet_cert_id(uint8_t out[32], const uint8_t txid[32])
{
    hm_tagged_hash(out, HM_TAG_CERT, txid, 32);
}
