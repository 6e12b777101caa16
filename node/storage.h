/* node/storage — the LevelDB-backed hm_store_t (lib/state.h) of hallmarkd.
 *
 * Two LevelDB databases per store directory (doc/state.md §"LevelDB
 * layout"). The main one, in the directory, holds under one-byte prefixes:
 *   's' + state key  -> record bytes        (contracts' state)
 *   'a' + aux key    -> node-owned records  (blocks, results, indexes)
 *   'm' + name       -> store metadata      ("root", "format", "R" + root)
 * The node database, in dir/nodes, holds the SMT nodes under
 *   locator(8, big-endian) || hash(32) -> node bytes (never deleted)
 * where the locator is the store's commit sequence, so each commit's nodes
 * follow every older node: memtable inserts stay at the hot end and
 * flushed tables never overlap older ones (no compaction rewrites them).
 * A commit writes the nodes, then everything else, each synced when asked;
 * a crash between leaves only unreferenced nodes, so the store holds all
 * of a block or none of it.
 *
 * This is the only place that includes leveldb/c.h or calls leveldb_free.
 * Depends on lib/ (err, log, state, smt). Thread-safety: none; a store and
 * its sessions belong to one thread. */
#ifndef HM_NODE_STORAGE_H
#define HM_NODE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/state.h"

typedef struct {
    bool create_if_missing;   /* create the database (and the directory) */
    size_t block_cache_bytes; /* LevelDB block cache; 0: 256 MiB */
    size_t node_cache_slots;  /* in-process SMT node cache (8-way set
                                 associative), rounded down to a power of
                                 two, at least 8; 131 bytes each, mapped at
                                 open; it starts with 16,384 slots (2 MiB)
                                 and grows while half full, so a small
                                 store keeps it small; 0: 2^22 (524 MiB;
                                 holds every live node of a
                                 ~1.5*10^6-key state) */
    bool node_cache_huge_pages; /* advise transparent huge pages for the
                                 node cache (default true): it is read and
                                 written at random over hundreds of MiB,
                                 and with 4 KiB pages nearly every access
                                 also misses the TLB. The part in use is
                                 then resident 2 MiB at a time.
                                 hallmarkd's node_cache_huge_pages config
                                 key. */
    int compaction_nice;      /* LevelDB's flush/compaction thread runs this
                                 much nicer than the opening thread (0-19;
                                 default 10): consensus and execution come
                                 first on a busy machine, compaction takes
                                 idle CPU (doc/benchmarks.md). Set by the
                                 first store a process opens. */
} store_options_t;

/* Table files LevelDB keeps open (its table caches, half for each of the
 * two databases): part of the node's open-file budget (node/daemon). */
#define STORE_MAX_OPEN_FILES 1000

/* Defaults: create_if_missing true, the cache sizes above. */
void store_options_default(store_options_t *o);

/* Open (or create) the store in directory dir. opts NULL: defaults.
 * Out: *out (caller owns; release with hm_store_free, which closes the
 * database and its lock). Returns:
 *   HM_ERR_STATE     the directory is locked by another open store/process
 *   HM_ERR_CORRUPT   LevelDB reports corruption, or the database is not a
 *                    Hallmark store of this format, or its root node is
 *                    missing
 *   HM_ERR_NOT_FOUND no database and create_if_missing is false
 *   HM_ERR_IO        the directory cannot be created, read or written
 * The reason is logged once (category "storage"). */
int store_open(hm_store_t **out, const char *dir, const store_options_t *opts) HM_WUR;

/* True when s was made by store_open (so the store_* helpers below apply). */
bool store_is_leveldb(const hm_store_t *s);

/* Aux records. The node keeps blocks, results and indexes here; it writes
 * them through hm_state_aux_put (so they land in the block's batch) and
 * reads them back with these (equivalently hm_store_get_aux /
 * hm_store_iterate_aux from lib/state.h, which work on any backend).
 * Out as lib/state.h: *val malloc'd (caller frees), HM_ERR_NOT_FOUND. */
int store_get_aux(hm_store_t *s, const uint8_t *key, size_t klen, uint8_t **val,
                  size_t *vlen) HM_WUR;
int store_iterate_aux(hm_store_t *s, const uint8_t *prefix, size_t plen, hm_kv_visit_fn fn,
                      void *arg) HM_WUR;

/* Write aux records outside any block (e.g. the node's own bookkeeping),
 * as one batch, synced when sync. Deletes when val is NULL. */
int store_put_aux(hm_store_t *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                  bool sync) HM_WUR;

/* Counters for tests and the benchmark. */
typedef struct {
    uint64_t node_reads;      /* get_node calls */
    uint64_t node_cache_hits; /* of which served from the node cache */
    uint64_t commits;
    uint64_t node_cache_slots; /* in use now (the cache grows, up to
                                  node_cache_slots) */
} store_stats_t;
void store_get_stats(const hm_store_t *s, store_stats_t *out);

#endif
