/* consensus/pbft — the PBFT replica core (DESIGN §7) as a pure state
 * machine. It owns one replica's consensus state: committed height, view,
 * the votes, view-changes and proposal of the height in flight (window 1).
 * It must not depend on sockets, disk, clocks, randomness or global state:
 * everything arrives as an input call, everything it wants done leaves as an
 * output in a pbft_outbox_t. Includes lib/, proto/ and consensus/ only.
 *
 * DRIVING THE CORE (the environment's contract)
 *   1. pbft_new(), then pbft_start() with what the node persisted: the last
 *      committed CertifiedBlock (NULL at genesis) and every record of kind
 *      PBFT_OUT_PERSIST it was asked to store since (in order). Then report
 *      the executed state with pbft_on_executed(height, ...) — at genesis,
 *      height 0 with the genesis roots.
 *   2. Every input call appends outputs to the caller's outbox. Perform them
 *      in order, except that all PBFT_OUT_PERSIST outputs of one call MUST be
 *      durably stored (fsync) before any PBFT_OUT_SEND of the same call
 *      leaves the process: that is what keeps a restarted replica from
 *      signing two digests for one (view, height, phase).
 *   3. Output kinds:
 *      SEND       Envelope bytes to validator `peer` or to all (PBFT_PEER_ALL;
 *                 the sender itself excluded).
 *      PERSIST    Append (`rec_kind`, bytes) to the replica's record log.
 *                 Records of heights <= the committed height may be dropped.
 *      TIMER_SET  (Re)arm timer `timer` to fire after `ms`; one pending
 *                 instance per id. TIMER_CANCEL disarms it.
 *      COMMIT     CertifiedBlock bytes of `height`: store block + certificate,
 *                 execute, then call pbft_on_executed(height, roots).
 *                 Commits come in height order, each exactly once.
 *      REQUEST    Catch-up: fetch CertifiedBlocks [height, to_height] from
 *                 validator `peer` (BlockRequest) and feed each answer to
 *                 pbft_on_certified_block(), lowest height first.
 *      BUILD      The core is primary and wants a block for (`view`,
 *                 `height`): answer with pbft_propose() and the SignedTx
 *                 bytes to include (may be none), usually at once.
 *   4. Feed the current time (ms, any epoch shared with block times) to
 *      every input; the core never reads a clock.
 *
 * OWNERSHIP: inputs are borrowed for the call. Output data belongs to the
 * outbox and lives until pbft_outbox_clear()/pbft_outbox_free().
 * A pbft_t is not thread-safe; drive it from one thread. */
#ifndef HM_CONSENSUS_PBFT_H
#define HM_CONSENSUS_PBFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/valset.h"
#include "lib/err.h"
#include "lib/merkle.h"

#define PBFT_PEER_ALL (-1)

/* Timer ids. */
#define PBFT_TIMER_VIEW 1    /* no commit in time: start a view change */
#define PBFT_TIMER_BATCH 2   /* primary: batch delay elapsed, build */
#define PBFT_TIMER_STATUS 3  /* periodic status + retransmission */
#define PBFT_TIMER_CATCHUP 4 /* catch-up request outstanding too long */

/* Record kinds of PBFT_OUT_PERSIST. */
#define PBFT_REC_VOTE 1     /* VoteRecord: signed (view, height, phase, digest) */
#define PBFT_REC_VIEW 2     /* VoteRecord, phase 0: sent VIEW-CHANGE for `view` at `height` */
#define PBFT_REC_PREPARED 3 /* PreparedCertificate held at its height */

typedef enum {
    PBFT_OUT_SEND = 1,
    PBFT_OUT_PERSIST,
    PBFT_OUT_TIMER_SET,
    PBFT_OUT_TIMER_CANCEL,
    PBFT_OUT_COMMIT,
    PBFT_OUT_REQUEST,
    PBFT_OUT_BUILD,
} pbft_out_kind_t;

typedef struct {
    pbft_out_kind_t kind;
    int peer;           /* SEND: validator index or PBFT_PEER_ALL; REQUEST: index */
    int timer;          /* TIMER_*: id */
    int rec_kind;       /* PERSIST: PBFT_REC_* */
    uint64_t ms;        /* TIMER_SET: delay */
    uint64_t height;    /* COMMIT, BUILD: height; REQUEST: first height */
    uint64_t to_height; /* REQUEST: last height (inclusive) */
    uint64_t view;      /* BUILD, COMMIT: view */
    uint8_t *data;      /* SEND: Envelope; PERSIST: record; COMMIT: CertifiedBlock */
    size_t len;
} pbft_out_t;

typedef struct {
    pbft_out_t *v;
    size_t n, cap;
} pbft_outbox_t;

void pbft_outbox_init(pbft_outbox_t *o);
/* Free the outputs' data, keep the storage. */
void pbft_outbox_clear(pbft_outbox_t *o);
void pbft_outbox_free(pbft_outbox_t *o);

/* Why an input was not acted upon. Stable: tests assert exact reasons. */
typedef enum {
    PBFT_OK = 0,
    PBFT_REJ_DECODE,          /* bytes do not decode, or a field has the wrong length */
    PBFT_REJ_NOT_CONSENSUS,   /* an envelope the core does not handle (hello, blocks, txs) */
    PBFT_REJ_CHAIN,           /* another chain id */
    PBFT_REJ_PHASE,           /* wrong vote phase for this message */
    PBFT_REJ_SENDER,          /* signer not in the validator set */
    PBFT_REJ_SIGNATURE,       /* signature does not verify */
    PBFT_REJ_DIGEST,          /* digest is not the hash of the carried block */
    PBFT_REJ_OLD_HEIGHT,      /* height already committed */
    PBFT_REJ_FUTURE_HEIGHT,   /* height beyond the one in flight (catch-up asked) */
    PBFT_REJ_OLD_VIEW,        /* view below ours */
    PBFT_REJ_FUTURE_VIEW,     /* view above ours (or beyond the accepted window) */
    PBFT_REJ_NOT_PRIMARY,     /* proposer/new-view sender is not the view's primary */
    PBFT_REJ_DUPLICATE,       /* already have exactly this */
    PBFT_REJ_CONFLICT,        /* a second, different message for the same slot */
    PBFT_REJ_NOT_EXECUTED,    /* parent not executed yet: held, retried on execution */
    PBFT_REJ_IN_VIEW_CHANGE,  /* a pre-prepare while changing view */
    PBFT_REJ_BLOCK,           /* block does not decode */
    PBFT_REJ_BLOCK_SIZE,      /* block over the byte or tx cap */
    PBFT_REJ_HEADER_HEIGHT,   /* header height != vote height */
    PBFT_REJ_HEADER_PREV,     /* prev_hash != committed parent */
    PBFT_REJ_HEADER_STATE,    /* state_root != executed state after h-1 */
    PBFT_REJ_HEADER_RESULTS,  /* results_root != results of h-1 */
    PBFT_REJ_HEADER_VALSET,   /* validator_set_hash != ours */
    PBFT_REJ_HEADER_VIEW,     /* header view inconsistent with the proposal */
    PBFT_REJ_HEADER_PROPOSER, /* header proposer != primary of header view */
    PBFT_REJ_TIME_OLD,        /* time_ms <= parent time */
    PBFT_REJ_TIME_FUTURE,     /* time_ms > now + max_clock_skew */
    PBFT_REJ_TX_ROOT,         /* tx_root != Merkle root of txids */
    PBFT_REJ_TX_INVALID,      /* a tx fails stateless checks */
    PBFT_REJ_VC_COMMITTED,    /* view-change's committed cert disagrees with ours */
    PBFT_REJ_VC_PREPARED,     /* view-change's prepared certificate invalid */
    PBFT_REJ_NV_VIEW_CHANGE,  /* a view-change inside new-view is invalid */
    PBFT_REJ_NV_TOO_FEW,      /* new-view carries < 2f+1 view-changes from distinct senders */
    PBFT_REJ_NV_PROPOSAL,     /* new-view proposal is not the one its contents dictate */
    PBFT_REJ_CERT,            /* commit certificate does not verify */
    PBFT_REJ_STATE,           /* not expected in the current state */
} pbft_reason_t;

const char *pbft_reason_name(pbft_reason_t r);

typedef struct {
    uint8_t chain_id[32];
    const valset_t *vs;          /* borrowed; must outlive the core */
    const uint8_t *seckey;       /* 32 bytes, copied; NULL: observer (never votes) */
    uint64_t genesis_time_ms;    /* parent time of height 1 */
    uint64_t view_timeout_ms;    /* base; doubles per consecutive view change */
    uint64_t status_interval_ms; /* status broadcast + retransmission period */
    uint64_t batch_delay_ms;     /* primary waits this long for more work (0: build at once) */
    uint64_t catchup_timeout_ms; /* retry a catch-up request after this */
    uint64_t max_clock_skew_ms;  /* proposals at most this far ahead of now */
    size_t max_block_bytes;      /* <= HM_MAX_BLOCK_BYTES */
    size_t max_block_txs;
    bool deterministic_sigs;     /* zero BIP340 aux randomness (sim, tests) */
    /* Stateless tx checks of a proposal (ours or a primary's), injected by
     * the environment so that a node verifies each tx once: set ok[i] to
     * whether txs[i] (lens[i] bytes) passes hm_tx_decode_verify for
     * chain_id. It must be a pure function of the bytes: the node may answer
     * true without re-checking bytes it verified already (its mempool holds
     * exactly them) and check the rest in parallel. Called on the core's
     * thread; must not call back into the core. NULL: pbft_verify_txs_serial. */
    void (*verify_txs)(void *arg, bool *ok, const uint8_t chain_id[32],
                       const uint8_t *const *txs, const size_t *lens, size_t n);
    void *verify_arg;
    /* Test hook: accept 2f prepares/commits instead of 2f+1. Must be false
     * outside tests: it exists so the simulator can prove it catches it. */
    bool planted_bug_weak_quorum;
} pbft_config_t;

/* The default verify_txs: hm_tx_decode_verify of each tx on this thread
 * (arg unused). */
void pbft_verify_txs_serial(void *arg, bool *ok, const uint8_t chain_id[32],
                            const uint8_t *const *txs, const size_t *lens, size_t n);

/* Fill cfg with defaults (timeout 2 s, status 1 s, skew 10 s, ...). */
void pbft_config_default(pbft_config_t *cfg);

typedef struct pbft pbft_t;

/* Create a core. HM_ERR_INVALID if the config is inconsistent (no set,
 * seckey's key not in the set). Out: *out (caller owns; pbft_free). */
int pbft_new(pbft_t **out, const pbft_config_t *cfg) HM_WUR;
void pbft_free(pbft_t **p);

/* Restore persisted state and arm the timers. committed: CertifiedBlock
 * bytes of the last committed height (NULL, 0 at genesis); its certificate
 * is verified. recs: the record log (kinds and bytes, in order).
 * Call once, before any other input. */
int pbft_start(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, const uint8_t *committed,
               size_t committed_len, const int *rec_kinds, const uint8_t *const *recs,
               const size_t *rec_lens, size_t n_recs) HM_WUR;

/* A message from the network (Envelope bytes). from: validator index of the
 * connection it came on, or -1 (signed messages are authenticated by their
 * signatures; `from` only picks whom to ask for catch-up).
 * Returns the reason it was ignored, or PBFT_OK. Never fails otherwise. */
pbft_reason_t pbft_on_message(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, int from,
                              const uint8_t *env, size_t len);

/* A timer set by a TIMER_SET output fired (stale ids are ignored). */
void pbft_on_timer(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, int timer);

/* The application executed committed `height` (0: genesis): state root and
 * results root after it, which the header of height+1 must carry. */
void pbft_on_executed(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, uint64_t height,
                      const uint8_t state_root[32], const uint8_t results_root[32]);

/* Whether client work (mempool txs) is pending. */
void pbft_on_work(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, bool pending);

/* Pending work fills a block (max txs or max bytes): a primary builds now
 * rather than waiting out the batch delay (DESIGN §7: "up to max bytes /
 * max txs, or when the batch timer fires"). Implies pbft_on_work(true). */
void pbft_on_full_batch(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms);

/* Answer to a BUILD output: the SignedTx byte strings to propose (in
 * order; any that fail stateless checks or exceed the caps are left out).
 * txids: NULL, and the core decodes and verifies each tx (verify_txs); or
 * the txid of each tx, which the caller vouches passed hm_tx_decode_verify
 * for this chain (its mempool admitted exactly these bytes): then the core
 * neither decodes nor verifies them again. Ignored (PBFT_REJ_STATE) if the
 * core no longer wants that block. */
pbft_reason_t pbft_propose(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms, uint64_t height,
                           uint64_t view, const uint8_t *const *txs, const size_t *tx_lens,
                           const hm_hash32_t *txids, size_t n_txs);

/* A CertifiedBlock fetched by catch-up. Accepted (and output as COMMIT)
 * when it is the next height, its certificate verifies against the set and
 * it links to the committed chain. */
pbft_reason_t pbft_on_certified_block(pbft_t *p, pbft_outbox_t *out, uint64_t now_ms,
                                      const uint8_t *data, size_t len);

/* Read-only state, for status and tests. */
typedef struct {
    uint64_t height;      /* last committed */
    uint8_t last_hash[32];
    uint64_t view;
    bool in_view_change;
    uint64_t view_changes; /* view changes this core started */
    int self;              /* own index, -1 for an observer */
} pbft_status_t;

void pbft_get_status(const pbft_t *p, pbft_status_t *st);

#endif
