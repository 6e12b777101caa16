/* lib/kvmap — an ordered byte-string map (AVL tree) used by lib/state: the
 * memory store's tables and a session's overlay. Keys compare as unsigned
 * bytes, shorter-is-smaller on a common prefix (memcmp order), so iteration
 * order is deterministic and matches LevelDB's default comparator. Depth is
 * O(log n) whatever the keys, so attacker-chosen state keys cannot degrade it.
 *
 * Internal to lib/: other layers use lib/state. Depends on lib/err only.
 * Thread-safety: none. */
#ifndef HM_LIB_KVMAP_H
#define HM_LIB_KVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* One entry. key/val are owned by the map; val may be NULL (vlen 0) and
 * `flag` is free for the user (lib/state marks tombstones with it). */
typedef struct hm_kvnode {
    struct hm_kvnode *left, *right;
    uint8_t *val;
    size_t vlen;
    size_t klen;
    int height;
    int flag;
    uint8_t key[]; /* klen bytes */
} hm_kvnode_t;

/* Zero-initialise; hm_kvmap_clear releases. */
typedef struct {
    hm_kvnode_t *root;
    size_t n;
} hm_kvmap_t;

/* Insert or replace key with a copy of val (val may be NULL when vlen is 0)
 * and flag. Out: *node (optional; borrowed until the next change to the map). */
int hm_kvmap_put(hm_kvmap_t *m, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 int flag, hm_kvnode_t **node) HM_WUR;

/* Like hm_kvmap_put, but takes ownership of val (malloc'd) on success. */
int hm_kvmap_put_owned(hm_kvmap_t *m, const uint8_t *key, size_t klen, uint8_t *val, size_t vlen,
                       int flag) HM_WUR;

/* Two-phase insert for all-or-nothing updates: hm_kvmap_node_new allocates
 * an entry (taking ownership of val, malloc'd, on success) that the caller
 * either frees with hm_kvmap_node_free or hands to hm_kvmap_put_node, which
 * cannot fail: it inserts the entry, or moves its value into the existing
 * entry of the same key and frees it. */
int hm_kvmap_node_new(hm_kvnode_t **out, const uint8_t *key, size_t klen, uint8_t *val,
                      size_t vlen, int flag) HM_WUR;
void hm_kvmap_node_free(hm_kvnode_t *n);
void hm_kvmap_put_node(hm_kvmap_t *m, hm_kvnode_t *n);

/* Entry for key, or NULL. Borrowed until the next change to the map. */
hm_kvnode_t *hm_kvmap_get(const hm_kvmap_t *m, const uint8_t *key, size_t klen);

/* Remove key; returns whether it was present. */
bool hm_kvmap_del(hm_kvmap_t *m, const uint8_t *key, size_t klen);

/* Visit entries whose key starts with prefix (plen 0: all), ascending.
 * fn returns 0 to continue; a non-zero value stops and is returned.
 * fn must not change the map. */
typedef int (*hm_kvmap_visit_fn)(void *arg, const hm_kvnode_t *n);
int hm_kvmap_visit(const hm_kvmap_t *m, const uint8_t *prefix, size_t plen, hm_kvmap_visit_fn fn,
                   void *arg);

/* Release every entry; the map is left empty and reusable. */
void hm_kvmap_clear(hm_kvmap_t *m);

/* memcmp order on byte strings of different lengths. */
int hm_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
