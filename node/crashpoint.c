/* node/crashpoint — see crashpoint.h. */
#include "node/crashpoint.h"

#ifdef HM_TEST_HOOKS
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The variable is read once; the daemon is single-threaded where sites are. */
static bool cp_loaded;
static char cp_name[64];
static unsigned long cp_left;

static void crashpoint_load(void)
{
    cp_loaded = true;
    const char *v = getenv("HM_CRASH_AT");
    if (!v || !*v)
        return;
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    if (n == 0 || n >= sizeof cp_name)
        return;
    memcpy(cp_name, v, n);
    cp_name[n] = '\0';
    cp_left = 1;
    if (colon) {
        char *end = NULL;
        unsigned long k = strtoul(colon + 1, &end, 10);
        if (end && *end == '\0' && k > 0)
            cp_left = k;
    }
}

void crashpoint_hit(const char *name)
{
    if (!cp_loaded)
        crashpoint_load();
    if (!cp_name[0] || strcmp(name, cp_name) != 0)
        return;
    if (--cp_left > 0)
        return;
    char line[128];
    int len = snprintf(line, sizeof line, "crashpoint %s hit\n", name);
    if (len > 0 && write(2, line, (size_t)len) < 0)
        len = 0; /* nothing more to do: we are crashing */
    _exit(99);
}
#endif
