/* bench/bench_state — hallmark-bench-state: SMT key updates per second on
 * the LevelDB store, one core (doc/benchmarks.md says how to read and rerun
 * it). It prints figures and asserts nothing about time.
 *
 * For each tree size N: build a fresh store to N keys (blocks of 50,000
 * inserts, unsynced), then run blocks of K changed keys (random existing
 * keys get new values) through the real path: hm_state_put for each key,
 * hm_state_root, hm_state_commit (the nodes, then one WriteBatch), synced and
 * unsynced. Depends on lib/ and node/storage only. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/smt.h"
#include "lib/state.h"
#include "node/storage.h"

static uint64_t rng_state = 0x0123456789abcdefULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: what "one core" costs, whatever else the
 * machine is running (LevelDB's compaction thread is not counted). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the whole process: adds LevelDB's background compaction. */
static double pcpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != HM_OK) {                                                                        \
            fprintf(stderr, "bench: %s failed: %s\n", #expr, hm_strerror(rc_));                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* State key and a 96-byte record value for key index i, version ver. */
static size_t make_key(char *k, size_t cap, uint64_t i)
{
    return (size_t)snprintf(k, cap, "p/SN-%012" PRIu64, i);
}

static void make_val(uint8_t v[96], uint64_t i, uint64_t ver)
{
    for (int j = 0; j < 12; j++) {
        uint64_t x = (i * 0x9e3779b97f4a7c15ULL) ^ (ver + (uint64_t)j) * 0xbf58476d1ce4e5b9ULL;
        memcpy(v + 8 * j, &x, 8);
    }
}

typedef struct {
    double put_s, root_s, commit_s; /* main-thread CPU time per phase */
} phase_t;

/* One block: put n keys (fresh indexes from `first` when insert, else
 * random existing ones below `nkeys`), root, commit. */
static void run_block(hm_state_t *st, uint64_t first, uint64_t n, uint64_t nkeys, bool insert,
                      bool sync, uint64_t ver, phase_t *ph)
{
    char k[40];
    uint8_t v[96];
    double t0 = cpu_s();
    for (uint64_t j = 0; j < n; j++) {
        uint64_t i = insert ? first + j : rng() % nkeys;
        size_t kl = make_key(k, sizeof k, i);
        make_val(v, i, ver);
        CHECK(hm_state_put(st, (const uint8_t *)k, kl, v, sizeof v));
    }
    double t1 = cpu_s();
    uint8_t root[32];
    CHECK(hm_state_root(st, root));
    double t2 = cpu_s();
    CHECK(hm_state_commit(st, sync));
    double t3 = cpu_s();
    ph->put_s += t1 - t0;
    ph->root_s += t2 - t1;
    ph->commit_s += t3 - t2;
}

static size_t node_cache_slots; /* 0: the store's default */

static void bench_size(const char *base, uint64_t nkeys, const uint64_t *blocks, size_t nblocks,
                       uint64_t updates_per_run)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/n%" PRIu64, base, nkeys);
    hm_store_t *s = NULL;
    store_options_t o;
    store_options_default(&o);
    if (node_cache_slots)
        o.node_cache_slots = node_cache_slots;
    CHECK(store_open(&s, dir, &o));
    hm_state_t *st = NULL;
    CHECK(hm_state_begin(&st, s));

    phase_t ph = {0};
    double t0 = now_s(), c0 = cpu_s();
    const uint64_t chunk = 50000;
    for (uint64_t i = 0; i < nkeys; i += chunk)
        run_block(st, i, nkeys - i < chunk ? nkeys - i : chunk, 0, true, false, 0, &ph);
    double build = now_s() - t0, cbuild = cpu_s() - c0;
    printf("N=%-8" PRIu64 " build: %" PRIu64 " inserts in %.2f s = %.0f keys/s wall, %.0f keys/s "
           "per main-thread CPU second (CPU: puts %.2f s, SMT root %.2f s, commit %.2f s)\n",
           nkeys, nkeys, build, (double)nkeys / build, (double)nkeys / cbuild, ph.put_s, ph.root_s,
           ph.commit_s);
    fflush(stdout);

    uint64_t ver = 1;
    for (size_t b = 0; b < nblocks; b++) {
        uint64_t k = blocks[b];
        uint64_t nb = updates_per_run / k;
        if (nb < 3)
            nb = 3;
        for (int sync = 1; sync >= 0; sync--) {
            store_stats_t s0, s1;
            store_get_stats(s, &s0);
            memset(&ph, 0, sizeof ph);
            t0 = now_s();
            c0 = cpu_s();
            double p0 = pcpu_s();
            for (uint64_t i = 0; i < nb; i++)
                run_block(st, 0, k, nkeys, false, sync, ver++, &ph);
            double el = now_s() - t0, cel = cpu_s() - c0, pel = pcpu_s() - p0;
            store_get_stats(s, &s1);
            uint64_t reads = s1.node_reads - s0.node_reads;
            uint64_t hits = s1.node_cache_hits - s0.node_cache_hits;
            printf("N=%-8" PRIu64 " block=%-6" PRIu64 " %-6s %3" PRIu64 " blocks: %7.0f updates/s"
                   " wall, %7.0f per CPU-s (%7.0f per process CPU-s)  %7.1f ms/block wall (CPU: puts %.1f, SMT root %.1f, commit"
                   " %.1f ms/block)  node reads/key %.1f, cache hits %.0f%%\n",
                   nkeys, k, sync ? "sync" : "nosync", nb, (double)(nb * k) / el,
                   (double)(nb * k) / cel, (double)(nb * k) / pel,
                   1000.0 * el / (double)nb, 1000.0 * ph.put_s / (double)nb,
                   1000.0 * ph.root_s / (double)nb, 1000.0 * ph.commit_s / (double)nb,
                   (double)reads / (double)(nb * k), reads ? 100.0 * (double)hits / (double)reads : 0);
            fflush(stdout);
        }
    }
    hm_state_free(st);
    hm_store_free(s);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Cost of the two fixed-size SMT hashes (one per new node / leaf). */
static void bench_hash(void)
{
    uint8_t a[32] = {1}, b[32] = {2};
    const int n = 2000000;
    double c0 = cpu_s();
    for (int i = 0; i < n; i++)
        hm_smt_node_hash(a, a, b);
    double c1 = cpu_s();
    for (int i = 0; i < n; i++)
        hm_smt_leaf_hash(b, a, b);
    double c2 = cpu_s();
    printf("hash: smt node %.0f ns, smt leaf %.0f ns per hash (CPU; check %02x%02x)\n",
           1e9 * (c1 - c0) / n, 1e9 * (c2 - c1) / n, a[0], b[0]);
}

static void usage(void)
{
    fprintf(stderr, "usage: hallmark-bench-state [--quick] [--keys N[,N...]] [--dir DIR]\n"
                    "                           [--node-cache SLOTS] | --hash\n"
                    "  default: --keys 100000,1000000; --quick: --keys 20000, small blocks\n"
                    "  DIR (default $TMPDIR or /tmp) gets a scratch store, removed after\n"
                    "  --node-cache: SMT node cache slots (default: the store's)\n"
                    "  --hash: time the SMT node/leaf hash alone\n");
}

int main(int argc, char **argv)
{
    bool quick = false;
    const char *keys_arg = NULL, *dir_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--hash") == 0) {
            bench_hash();
            return 0;
        } else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            keys_arg = argv[++i];
        else if (strcmp(argv[i], "--node-cache") == 0 && i + 1 < argc)
            node_cache_slots = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir_arg = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    const char *tmp = dir_arg ? dir_arg : getenv("TMPDIR");
    char base[4096];
    snprintf(base, sizeof base, "%s/hallmark-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    uint64_t sizes[8];
    size_t nsizes = 0;
    if (keys_arg) {
        const char *p = keys_arg;
        while (*p && nsizes < 8) {
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p || v == 0) {
                usage();
                return 2;
            }
            sizes[nsizes++] = v;
            p = *end == ',' ? end + 1 : end;
            if (*end && *end != ',')
                break;
        }
    } else if (quick) {
        sizes[nsizes++] = 20000;
    } else {
        sizes[nsizes++] = 100000;
        sizes[nsizes++] = 1000000;
    }
    static const uint64_t full_blocks[] = {1000, 10000};
    static const uint64_t quick_blocks[] = {1000};
    printf("hallmark-bench-state: SMT key updates through hm_state on the LevelDB store, one "
           "core\n");
    printf("(each block: puts of K random existing keys with new 96-byte values, SMT root, "
           "one WriteBatch commit)\n");
    for (size_t i = 0; i < nsizes; i++) {
        if (quick)
            bench_size(base, sizes[i], quick_blocks, 1, 5000);
        else
            bench_size(base, sizes[i], full_blocks, 2, 100000);
    }
    rmdir(base);
    return 0;
}
