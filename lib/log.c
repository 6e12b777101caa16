/* lib/log — see log.h. */
#include "lib/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t hm_log_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int hm_log_level = HM_LOG_INFO;
static FILE *hm_log_stream;    /* NULL means stderr */
static FILE *hm_log_owned;     /* opened by hm_log_open_file */

static const char *const hm_level_names[] = {"error", "warn", "info", "debug", "trace"};

void hm_log_set_level(hm_log_level_t level)
{
    atomic_store(&hm_log_level, (int)level);
}

hm_log_level_t hm_log_get_level(void)
{
    return (hm_log_level_t)atomic_load(&hm_log_level);
}

bool hm_log_enabled(hm_log_level_t level)
{
    return (int)level <= atomic_load(&hm_log_level);
}

int hm_log_level_parse(const char *name, hm_log_level_t *out)
{
    if (!name)
        return HM_ERR_INVALID;
    for (int i = 0; i <= HM_LOG_TRACE; i++) {
        if (strcasecmp(name, hm_level_names[i]) == 0) {
            *out = (hm_log_level_t)i;
            return HM_OK;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = HM_LOG_WARN;
        return HM_OK;
    }
    return HM_ERR_INVALID;
}

const char *hm_log_level_name(hm_log_level_t level)
{
    if ((int)level < 0 || level > HM_LOG_TRACE)
        return "?";
    return hm_level_names[level];
}

int hm_log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return HM_ERR_IO;
    FILE *f = fdopen(fd, "a");
    if (!f) {
        close(fd);
        return HM_ERR_IO;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&hm_log_mutex);
    if (hm_log_owned)
        fclose(hm_log_owned);
    hm_log_owned = f;
    hm_log_stream = f;
    pthread_mutex_unlock(&hm_log_mutex);
    return HM_OK;
}

void hm_log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&hm_log_mutex);
    hm_log_stream = stream;
    pthread_mutex_unlock(&hm_log_mutex);
}

void hm_log_close(void)
{
    pthread_mutex_lock(&hm_log_mutex);
    if (hm_log_owned)
        fclose(hm_log_owned);
    hm_log_owned = NULL;
    hm_log_stream = NULL;
    pthread_mutex_unlock(&hm_log_mutex);
}

void hm_logv(hm_log_level_t level, const char *category, const char *fmt, va_list ap)
{
    if (!hm_log_enabled(level))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One record, one line: fold control characters from untrusted text. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            *p = '?';

    pthread_mutex_lock(&hm_log_mutex);
    FILE *out = hm_log_stream ? hm_log_stream : stderr;
    fprintf(out, "%s.%03ldZ %-5s [%s] %s\n", stamp, ts.tv_nsec / 1000000L,
            hm_log_level_name(level), category ? category : "-", msg);
    fflush(out);
    pthread_mutex_unlock(&hm_log_mutex);
}

void hm_log(hm_log_level_t level, const char *category, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hm_logv(level, category, fmt, ap);
    va_end(ap);
}
