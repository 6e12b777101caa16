/* node/p2p — the validator mesh (DESIGN §8): TLS 1.3 with pinned
 * certificates (node/tls), length-prefixed Envelope frames, a Hello
 * handshake that binds a validator's consensus key to its TLS certificate,
 * outbound dialing with capped exponential backoff, an inbound listener,
 * per-peer send queues with a byte cap, keepalives.
 *
 * Frame: 4-byte big-endian length L, then L bytes of Envelope (lib/codec).
 * 0 < L <= HM_MAX_FRAME_BYTES is checked before the body is read; a bad
 * length or an undecodable frame disconnects that peer with a log line.
 * Until the Hello is accepted the cap is P2P_MAX_HELLO_BYTES, and at most
 * one frame is buffered per connection.
 *
 * Limits on who may hold a connection: TLS and the Hello must complete
 * within cfg->handshake_timeout_ms; an unpinned certificate fails TLS. At
 * most cfg->max_inbound inbound connections: a new one makes the oldest
 * inbound connection that has not finished its handshake give way, and is
 * refused only when every inbound connection is an authenticated peer.
 * Closes of unauthenticated connections are logged up to P2P_LOG_BURST
 * per P2P_LOG_EVERY_MS, then counted and the count logged. When accept() fails (out of descriptors)
 * the listener pauses for P2P_ACCEPT_PAUSE_MS rather than spin.
 *
 * Handshake: after TLS completes, both sides send Hello{chain_id, node_key,
 * height, version}. The peer's first frame must be a Hello with our chain
 * id; when its certificate is a genesis validator's, node_key must be that
 * validator's consensus key. Only then is the peer "ready" and its frames
 * delivered. One connection per peer identity (certificate fingerprint):
 * of two, the one dialed by the smaller fingerprint survives (both sides
 * agree); a redial by the same side replaces the stale one.
 *
 * Threading: everything runs on the event_base's thread; every function
 * here must be called on it. Depends on lib/, node/tls, node/genesis,
 * node/config, libevent (+ bufferevent_openssl). */
#ifndef HM_NODE_P2P_H
#define HM_NODE_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/codec.h"
#include "lib/err.h"
#include "lib/hash.h"
#include "lib/keys.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/tls.h"

struct event_base;

#define P2P_HANDSHAKE_TIMEOUT_MS 10000 /* when cfg->handshake_timeout_ms is 0 */
#define P2P_MAX_HELLO_BYTES (64u * 1024u)
#define P2P_LOG_EVERY_MS 5000
#define P2P_LOG_BURST 10 /* lines of one kind per P2P_LOG_EVERY_MS before counting instead */
#define P2P_ACCEPT_PAUSE_MS 1000
#define P2P_BACKLOG 1024 /* a burst of connects waits in the kernel, not in SYN retries */
#define P2P_ACCEPT_BURST 32 /* accepted per turn of the event loop */
#define P2P_BACKOFF_INITIAL_MS 200
#define P2P_MAX_ADDR 264

typedef struct p2p p2p_t;

/* Who a connection is. Valid during a callback, or copied out by p2p_peers. */
typedef struct {
    uint64_t id;                     /* unique per process run, never reused */
    int validator_index;             /* genesis index, or -1 for an observer */
    uint8_t tls_fp[TLS_FP_LEN];      /* the authenticated certificate */
    uint8_t node_key[HM_PUBKEY_LEN]; /* from Hello (= the validator's key) */
    char address[P2P_MAX_ADDR];      /* remote host:port */
    bool outbound;
} p2p_peer_info_t;

typedef struct {
    p2p_peer_info_t info;
    bool ready;               /* TLS + Hello done */
    uint64_t height;          /* from its last Hello/Status */
    uint64_t view;
    uint64_t connected_ms;    /* wall clock of TCP connect/accept */
    uint64_t last_recv_ms;
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out;
    size_t queued_bytes;      /* in its send queue now */
} p2p_peer_status_t;

/* A frame from a ready peer. env and bytes (the exact Envelope bytes,
 * without the length prefix) are borrowed for the call only. The callback
 * may call p2p_send / p2p_disconnect, including on this peer. */
typedef void (*p2p_recv_fn)(void *arg, const p2p_peer_info_t *peer, const Hallmark__Envelope *env,
                            const uint8_t *bytes, size_t len);
/* A peer became ready (connected = true) or a ready peer went away. */
typedef void (*p2p_peer_fn)(void *arg, const p2p_peer_info_t *peer, bool connected);

typedef struct {
    struct event_base *base;     /* borrowed; outlives the p2p */
    const node_config_t *cfg;    /* borrowed; listen, peers, observers, caps, TLS files */
    const genesis_t *genesis;    /* borrowed; validators, chain id */
    uint8_t node_key[HM_PUBKEY_LEN]; /* sent in Hello */
    const char *version;         /* sent in Hello; borrowed */
    p2p_recv_fn on_recv;         /* may be NULL */
    p2p_peer_fn on_peer;         /* may be NULL */
    void *cb_arg;
} p2p_options_t;

/* Create the mesh: loads the TLS context (cfg->tls_cert_file / tls_key_file
 * resolved against cfg->datadir). Nothing listens or dials until p2p_start.
 * Out: *out (caller frees with p2p_free). */
int p2p_new(p2p_t **out, const p2p_options_t *opt) HM_WUR;

/* Bind the listener (cfg->listen; HM_ERR_IO when the port is taken) and
 * start dialing the targets: cfg->peers, or every genesis validator but
 * ourselves when none is configured. */
int p2p_start(p2p_t *p) HM_WUR;

/* Close every connection and the listener, cancel timers. Accepts NULL. */
void p2p_free(p2p_t *p);

/* Our own certificate fingerprint. */
const uint8_t *p2p_own_fingerprint(const p2p_t *p);

/* Whether fp may connect: a genesis validator's or an observer's. */
bool p2p_is_allowed(const p2p_t *p, const uint8_t fp[TLS_FP_LEN]);

/* Queue exact Envelope bytes to one ready peer. HM_ERR_NOT_FOUND (no such
 * ready peer), HM_ERR_TOO_LARGE (over the frame cap), HM_ERR_LIMIT (its
 * queue would pass the cap: the peer is disconnected). */
int p2p_send_bytes(p2p_t *p, uint64_t peer_id, const uint8_t *env, size_t len) HM_WUR;

/* Encode and queue env to one peer. Errors as p2p_send_bytes. */
int p2p_send(p2p_t *p, uint64_t peer_id, const Hallmark__Envelope *env) HM_WUR;

/* Queue env to every ready peer that is a validator (validators_only) or to
 * every ready peer. Out: *sent (may be NULL) the number of peers queued.
 * Per-peer failures disconnect that peer and are not an error. */
int p2p_broadcast(p2p_t *p, const Hallmark__Envelope *env, bool validators_only,
                  size_t *sent) HM_WUR;

/* Close one connection (any state). No-op for an unknown id. */
void p2p_disconnect(p2p_t *p, uint64_t peer_id, const char *reason);

/* The chain position sent in Hello and in keepalive Status frames. */
void p2p_set_status(p2p_t *p, uint64_t height, uint64_t view,
                    const uint8_t last_block_hash[HM_HASH_LEN]);

/* Ready peers now. */
size_t p2p_peer_count(const p2p_t *p);

/* Copy the status of up to max connections (ready first) into out.
 * Returns how many were written. */
size_t p2p_peers(const p2p_t *p, p2p_peer_status_t *out, size_t max);

/* Total connections (any state), for sizing p2p_peers' buffer. */
size_t p2p_connection_count(const p2p_t *p);

/* The port the listener is bound to (after p2p_start), 0 before. */
uint16_t p2p_listen_port(const p2p_t *p);

#endif
