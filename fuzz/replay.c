/* fuzz/replay.c — a main() for harnesses without libFuzzer: feeds every file
 * of fuzz/corpus/<target>/ (or the files/dirs named on the command line) to
 * LLVMFuzzerTestOneInput and reports in TAP. A crash or an invariant abort
 * ends the process, which the test driver reports as a failure. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

#ifndef HM_FUZZ_TARGET
#error "HM_FUZZ_TARGET must name the corpus directory"
#endif

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays a file or every regular file of a directory (sorted). Returns the
 * number replayed, or -1 on I/O error. */
static long run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return run_file(path) == 0 ? 1 : -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char **p = realloc(names, (n + 1) * sizeof *names);
        if (!p)
            break;
        names = p;
        size_t need = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(need);
        snprintf(names[n], need, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    long count = 0;
    for (size_t i = 0; i < n; i++) {
        if (run_file(names[i]) == 0)
            count++;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    printf("1..1\n");
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            long n = run_path(argv[i]);
            if (n < 0) {
                printf("not ok 1 - %s: cannot read %s\n", HM_FUZZ_TARGET, argv[i]);
                return 1;
            }
            total += n;
        }
    } else {
        const char *top = getenv("HM_SRCDIR");
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", top && *top ? top : ".", HM_FUZZ_TARGET);
        total = run_path(dir);
        if (total <= 0) {
            printf("not ok 1 - %s: no corpus at %s\n", HM_FUZZ_TARGET, dir);
            return 1;
        }
    }
    printf("ok 1 - %s: %ld inputs replayed\n", HM_FUZZ_TARGET, total);
    return 0;
}
