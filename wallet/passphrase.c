/* wallet/passphrase — see passphrase.h. */
#include "wallet/passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lib/keys.h"

static int set_text(hm_buf_t *out, const char *p, size_t n, wallet_diag_t *d)
{
    hm_buf_free_secure(out);
    if (n > WALLET_PASSPHRASE_MAX) {
        wallet_diag_set(d, "passphrase longer than %d bytes", WALLET_PASSPHRASE_MAX);
        return HM_ERR_TOO_LARGE;
    }
    /* one allocation of the final size, so no stale copy is left by a realloc */
    if (hm_buf_reserve(out, n + 1) != HM_OK || hm_buf_append(out, p, n) != HM_OK) {
        wallet_diag_set(d, "out of memory");
        return HM_ERR_NOMEM;
    }
    out->data[n] = '\0';
    return HM_OK;
}

int wallet_passphrase_from_text(hm_buf_t *out, const char *text, size_t len, wallet_diag_t *d)
{
    size_t n = 0;
    while (n < len && text[n] != '\n' && text[n] != '\r')
        n++;
    if (memchr(text, '\0', n)) {
        wallet_diag_set(d, "passphrase contains a NUL byte");
        return HM_ERR_INVALID;
    }
    return set_text(out, text, n, d);
}

static int from_file(hm_buf_t *out, const char *path, wallet_diag_t *d)
{
    char buf[WALLET_PASSPHRASE_MAX + 2];
    size_t n = 0;
    int rc = HM_OK;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        wallet_diag_set(d, "passphrase file %s: %s", path, strerror(errno));
        return HM_ERR_IO;
    }
    /* Read just the first line (bounded). */
    int c;
    while (n < sizeof buf && (c = fgetc(f)) != EOF && c != '\n')
        buf[n++] = (char)c;
    if (ferror(f)) {
        wallet_diag_set(d, "passphrase file %s: read error", path);
        rc = HM_ERR_IO;
    }
    if (f != stdin)
        fclose(f);
    if (rc == HM_OK)
        rc = wallet_passphrase_from_text(out, buf, n, d);
    if (rc == HM_OK && n > WALLET_PASSPHRASE_MAX) {
        wallet_diag_set(d, "passphrase file %s: first line longer than %d bytes", path,
                        WALLET_PASSPHRASE_MAX);
        rc = HM_ERR_TOO_LARGE;
    }
    hm_wipe(buf, sizeof buf);
    if (rc != HM_OK)
        hm_buf_free_secure(out);
    return rc;
}

/* Prompt on fd (the terminal) with echo off; read one line. */
static int read_tty(int fd, const char *prompt, char *buf, size_t cap, size_t *n_out)
{
    struct termios old, noecho;
    bool restored = false;
    size_t n = 0;
    int rc = HM_OK;
    if (write(fd, prompt, strlen(prompt)) < 0)
        return HM_ERR_IO;
    if (tcgetattr(fd, &old) != 0)
        return HM_ERR_IO;
    noecho = old;
    noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    noecho.c_lflag |= ICANON;
    if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0)
        return HM_ERR_IO;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = n ? HM_OK : HM_ERR_IO;
            break;
        }
        if (c == '\n' || c == '\r')
            break;
        if (n < cap)
            buf[n] = c;
        n++;
    }
    restored = tcsetattr(fd, TCSAFLUSH, &old) == 0;
    (void)restored;
    if (write(fd, "\n", 1) < 0) {
        /* nothing to do: the prompt line just stays open */
    }
    *n_out = n;
    return rc;
}

static int from_tty(hm_buf_t *out, const char *prompt, bool confirm, wallet_diag_t *d)
{
    char a[WALLET_PASSPHRASE_MAX + 1], b[WALLET_PASSPHRASE_MAX + 1];
    size_t na = 0, nb = 0;
    int rc;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        wallet_diag_set(d, "no passphrase given: use --passphrase-file FILE or set %s "
                           "(no terminal to ask on)",
                        WALLET_ENV_PASSPHRASE);
        return HM_ERR_INVALID;
    }
    rc = read_tty(fd, prompt, a, sizeof a, &na);
    if (rc == HM_OK && na > WALLET_PASSPHRASE_MAX) {
        wallet_diag_set(d, "passphrase longer than %d bytes", WALLET_PASSPHRASE_MAX);
        rc = HM_ERR_TOO_LARGE;
        goto done;
    }
    if (rc == HM_OK && confirm) {
        rc = read_tty(fd, "Repeat passphrase: ", b, sizeof b, &nb);
        if (rc == HM_OK && (na != nb || memcmp(a, b, na) != 0)) {
            wallet_diag_set(d, "the passphrases do not match");
            rc = HM_ERR_INVALID;
            goto done;
        }
    }
    if (rc != HM_OK) {
        wallet_diag_set(d, "cannot read a passphrase from the terminal");
        goto done;
    }
    rc = wallet_passphrase_from_text(out, a, na, d);
done:
    close(fd);
    hm_wipe(a, sizeof a);
    hm_wipe(b, sizeof b);
    return rc;
}

int wallet_passphrase_get(hm_buf_t *out, const char *file, const char *env, const char *prompt,
                          bool confirm, wallet_diag_t *d)
{
    if (file)
        return from_file(out, file, d);
    const char *v = env ? getenv(env) : NULL;
    if (v)
        return set_text(out, v, strlen(v), d);
    return from_tty(out, prompt, confirm, d);
}
