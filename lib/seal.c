/* lib/seal — see seal.h. Owns the sealed-file format; depends on OpenSSL
 * crypto (scrypt, AES-256-GCM), lib/keys (randomness), lib/buf. */
#include "lib/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/keys.h"

#define SEAL_KEY_LEN 32

hm_seal_params_t hm_seal_params_default(void)
{
    hm_seal_params_t p = {HM_SEAL_DEFAULT_LOG2_N, HM_SEAL_DEFAULT_R, HM_SEAL_DEFAULT_P};
    return p;
}

/* Memory scrypt needs for (N, r, p), or 0 when over the ceilings (memory
 * or work). */
static uint64_t kdf_mem(const hm_seal_params_t *pr)
{
    if (pr->log2_n < 1 || pr->log2_n > HM_SEAL_MAX_LOG2_N || pr->r < 1 || pr->r > HM_SEAL_MAX_R ||
        pr->p < 1 || pr->p > HM_SEAL_MAX_P)
        return 0;
    uint64_t n = 1ull << pr->log2_n;
    if (n * pr->r * pr->p > HM_SEAL_MAX_KDF_WORK)
        return 0;
    /* V: 128*r*(N+2), B: 128*r*p, X/T: 256*r — OpenSSL's own accounting. */
    uint64_t mem = 128ull * pr->r * (n + 2) + 128ull * pr->r * pr->p + 256ull * pr->r;
    return mem > HM_SEAL_MAX_KDF_MEM ? 0 : mem;
}

static int derive_key(uint8_t key[SEAL_KEY_LEN], const char *pass, size_t pass_len,
                      const uint8_t *salt, const hm_seal_params_t *pr)
{
    uint64_t mem = kdf_mem(pr);
    if (mem == 0)
        return HM_ERR_LIMIT;
    if (EVP_PBE_scrypt(pass_len ? pass : "", pass_len, salt, HM_SEAL_SALT_LEN,
                       1ull << pr->log2_n, pr->r, pr->p, mem + 65536, key, SEAL_KEY_LEN) != 1)
        return HM_ERR_CRYPTO;
    return HM_OK;
}

static void put_header(uint8_t h[HM_SEAL_HEADER_LEN], const hm_seal_params_t *pr,
                       const uint8_t *salt, const uint8_t *nonce, uint32_t ct_len)
{
    memcpy(h, HM_SEAL_MAGIC, HM_SEAL_MAGIC_LEN);
    h[6] = HM_SEAL_VERSION;
    h[7] = HM_SEAL_KDF_SCRYPT;
    h[8] = pr->log2_n;
    hm_put_u32be(h + 9, pr->r);
    hm_put_u32be(h + 13, pr->p);
    memcpy(h + 17, salt, HM_SEAL_SALT_LEN);
    memcpy(h + 33, nonce, HM_SEAL_NONCE_LEN);
    hm_put_u32be(h + 45, ct_len);
}

int hm_seal(hm_buf_t *out, const uint8_t *secret, size_t secret_len, const char *pass,
            size_t pass_len, const hm_seal_params_t *params)
{
    int rc = HM_ERR_CRYPTO;
    uint8_t key[SEAL_KEY_LEN];
    uint8_t salt[HM_SEAL_SALT_LEN], nonce[HM_SEAL_NONCE_LEN];
    uint8_t header[HM_SEAL_HEADER_LEN];
    EVP_CIPHER_CTX *ctx = NULL;
    hm_seal_params_t pr = params ? *params : hm_seal_params_default();
    int n = 0;

    if (!out || (!secret && secret_len) || (!pass && pass_len) ||
        secret_len > HM_SEAL_MAX_SECRET || pr.log2_n < HM_SEAL_MIN_LOG2_N || kdf_mem(&pr) == 0)
        return HM_ERR_INVALID;
    hm_buf_reset(out);
    if ((rc = hm_random(salt, sizeof salt)) != HM_OK || (rc = hm_random(nonce, sizeof nonce)) != HM_OK)
        goto done;
    if ((rc = derive_key(key, pass, pass_len, salt, &pr)) != HM_OK)
        goto done;
    put_header(header, &pr, salt, nonce, (uint32_t)secret_len);
    if ((rc = hm_buf_reserve(out, HM_SEAL_HEADER_LEN + secret_len + HM_SEAL_TAG_LEN)) != HM_OK)
        goto done;
    memcpy(out->data, header, HM_SEAL_HEADER_LEN);

    rc = HM_ERR_CRYPTO;
    if (!(ctx = EVP_CIPHER_CTX_new()))
        goto done;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HM_SEAL_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, header, HM_SEAL_HEADER_LEN) != 1)
        goto done;
    if (secret_len &&
        EVP_EncryptUpdate(ctx, out->data + HM_SEAL_HEADER_LEN, &n, secret, (int)secret_len) != 1)
        goto done;
    if (EVP_EncryptFinal_ex(ctx, out->data + HM_SEAL_HEADER_LEN + secret_len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, HM_SEAL_TAG_LEN,
                            out->data + HM_SEAL_HEADER_LEN + secret_len) != 1)
        goto done;
    out->len = HM_SEAL_HEADER_LEN + secret_len + HM_SEAL_TAG_LEN;
    rc = HM_OK;
done:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx);
    if (rc != HM_OK && out)
        hm_buf_reset(out);
    return rc;
}

bool hm_seal_is_sealed(const uint8_t *data, size_t len)
{
    return data && len >= HM_SEAL_MAGIC_LEN && memcmp(data, HM_SEAL_MAGIC, HM_SEAL_MAGIC_LEN) == 0;
}

int hm_unseal(hm_buf_t *out, const uint8_t *data, size_t len, const char *pass, size_t pass_len)
{
    int rc = HM_ERR_CORRUPT;
    uint8_t key[SEAL_KEY_LEN];
    hm_buf_t plain = {0};
    EVP_CIPHER_CTX *ctx = NULL;
    hm_seal_params_t pr;
    uint32_t ct_len;
    int n = 0;

    if (!out || (!pass && pass_len))
        return HM_ERR_INVALID;
    if (!data || len < HM_SEAL_HEADER_LEN + HM_SEAL_TAG_LEN || !hm_seal_is_sealed(data, len))
        return HM_ERR_CORRUPT;
    if (data[6] != HM_SEAL_VERSION || data[7] != HM_SEAL_KDF_SCRYPT)
        return HM_ERR_UNSUPPORTED;
    pr.log2_n = data[8];
    pr.r = hm_get_u32be(data + 9);
    pr.p = hm_get_u32be(data + 13);
    ct_len = hm_get_u32be(data + 45);
    if (ct_len > HM_SEAL_MAX_SECRET || (size_t)ct_len + HM_SEAL_HEADER_LEN + HM_SEAL_TAG_LEN != len)
        return HM_ERR_CORRUPT;
    if (kdf_mem(&pr) == 0)
        return HM_ERR_LIMIT;

    if ((rc = derive_key(key, pass, pass_len, data + 17, &pr)) != HM_OK)
        goto done;
    /* +1: never a zero-size reservation, so data is non-NULL below. */
    if ((rc = hm_buf_reserve(&plain, (size_t)ct_len + 1)) != HM_OK)
        goto done;
    rc = HM_ERR_CRYPTO;
    if (!(ctx = EVP_CIPHER_CTX_new()))
        goto done;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, HM_SEAL_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, data + 33) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &n, data, HM_SEAL_HEADER_LEN) != 1)
        goto done;
    if (ct_len &&
        EVP_DecryptUpdate(ctx, plain.data, &n, data + HM_SEAL_HEADER_LEN, (int)ct_len) != 1)
        goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, HM_SEAL_TAG_LEN,
                            (void *)(data + HM_SEAL_HEADER_LEN + ct_len)) != 1)
        goto done;
    if (EVP_DecryptFinal_ex(ctx, plain.data + ct_len, &n) != 1) {
        rc = HM_ERR_AUTH;
        goto done;
    }
    plain.len = ct_len;
    hm_buf_free_secure(out);
    *out = plain;
    plain = (hm_buf_t){0};
    rc = HM_OK;
done:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx);
    hm_buf_free_secure(&plain);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return HM_ERR_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    return HM_OK;
}

int hm_seal_write_atomic(const char *path, const uint8_t *data, size_t len)
{
    int rc = HM_ERR_IO;
    int fd = -1;
    char tmp[PATH_MAX];
    char dir[PATH_MAX];
    bool created = false;

    if (!path || (!data && len))
        return HM_ERR_INVALID;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return HM_ERR_INVALID;
    /* mkstemp creates the file 0600. */
    if ((fd = mkstemp(tmp)) < 0)
        goto done;
    created = true;
    if (fchmod(fd, 0600) != 0)
        goto done;
    if (write_all(fd, data, len) != HM_OK || fsync(fd) != 0)
        goto done;
    if (close(fd) != 0) {
        fd = -1;
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto done;
    created = false;
    /* Make the rename durable: fsync the directory (best effort). */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = HM_OK;
done:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    return rc;
}

int hm_seal_read_file(hm_buf_t *out, const char *path, size_t max_len)
{
    int rc = HM_ERR_IO;
    int fd;
    struct stat st;

    if (!out || !path)
        return HM_ERR_INVALID;
    hm_buf_reset(out);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? HM_ERR_NOT_FOUND : HM_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto done;
    if ((uint64_t)st.st_size > max_len) {
        rc = HM_ERR_TOO_LARGE;
        goto done;
    }
    for (;;) {
        if ((rc = hm_buf_reserve(out, 4096)) != HM_OK)
            goto done;
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = HM_ERR_IO;
            goto done;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        if (out->len > max_len) { /* grew while we read */
            rc = HM_ERR_TOO_LARGE;
            goto done;
        }
    }
    rc = HM_OK;
done:
    close(fd);
    if (rc != HM_OK)
        hm_buf_reset(out);
    return rc;
}

int hm_seal_write_file(const char *path, const uint8_t *secret, size_t secret_len,
                       const char *pass, size_t pass_len, const hm_seal_params_t *params)
{
    hm_buf_t img = {0};
    int rc = hm_seal(&img, secret, secret_len, pass, pass_len, params);
    if (rc == HM_OK)
        rc = hm_seal_write_atomic(path, img.data, img.len);
    hm_buf_free(&img);
    return rc;
}

int hm_seal_read_sealed(hm_buf_t *out, const char *path, const char *pass, size_t pass_len)
{
    hm_buf_t img = {0};
    int rc = hm_seal_read_file(&img, path, HM_SEAL_MAX_FILE);
    if (rc == HM_OK)
        rc = hm_unseal(out, img.data, img.len, pass, pass_len);
    hm_buf_free(&img);
    return rc;
}
