/* lib/codec — the only place that packs, unpacks or frees protobuf-c
 * messages (DESIGN §3).
 *
 * Other modules read and fill the generated structs of proto/hallmark.proto
 * (they are the typed view of the schema), but every byte string crosses into
 * or out of a struct here, where size caps apply before anything is
 * allocated and malformed input is a clean error:
 *   - input longer than the type's cap        -> HM_ERR_TOO_LARGE
 *   - bytes that do not parse, or that carry   -> HM_ERR_INVALID
 *     fields unknown to this schema (trailing garbage in protobuf terms)
 *
 * Ownership: a decoded message is owned by the caller and released with
 * hm_codec_free (or the typed hm_free_* wrapper), which accept NULL.
 * Decoded `bytes` fields point into the decoded message, not into the input,
 * so the input may be freed after decoding. */
#ifndef HM_LIB_CODEC_H
#define HM_LIB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "proto/hallmark.pb-c.h"

/* Size caps of DESIGN §3. */
#define HM_MAX_TX_BYTES (64u * 1024u)
#define HM_MAX_BLOCK_BYTES (8u * 1024u * 1024u)
#define HM_MAX_FRAME_BYTES (16u * 1024u * 1024u)
#define HM_MAX_RPC_BODY_BYTES (4u * 1024u * 1024u)
/* Caps for the smaller objects (not in DESIGN; chosen with ample room). */
#define HM_MAX_HEADER_BYTES (4u * 1024u)
#define HM_MAX_RECORD_BYTES (1024u * 1024u)
#define HM_MAX_BUNDLE_BYTES (64u * 1024u * 1024u)

/* Decode `len` bytes as a message of `desc`, refusing len > cap.
 * Out: *out (caller owns; hm_codec_free). */
int hm_codec_decode(void **out, const ProtobufCMessageDescriptor *desc, size_t cap,
                    const uint8_t *data, size_t len) HM_WUR;

/* Encode msg into a fresh malloc'd buffer. Out: *out (caller frees with
 * free()), *len. An empty message encodes to zero bytes and *out = NULL. */
int hm_codec_encode(uint8_t **out, size_t *len, const ProtobufCMessage *msg) HM_WUR;

/* Append the encoding of msg to b. */
int hm_codec_encode_append(hm_buf_t *b, const ProtobufCMessage *msg) HM_WUR;

size_t hm_codec_encoded_size(const ProtobufCMessage *msg);

/* Append msg to b as field number `field` (wire type 2) of an enclosing
 * message. Concatenated fields form a valid encoding of the enclosing
 * message (protobuf merges them), so a large message — a proof bundle —
 * can be built piece by piece without holding all its parts as structs. */
int hm_codec_append_field(hm_buf_t *b, uint32_t field, const ProtobufCMessage *msg) HM_WUR;

/* Release a message returned by hm_codec_decode. Accepts NULL. */
void hm_codec_free(void *msg);

/* Typed wrappers: hm_decode_<name>(T **out, data, len) with the type's cap,
 * and hm_free_<name>(T *msg). */
#define HM_CODEC_TYPES(X)                                                                          \
    X(tx, Hallmark__Tx, hallmark__tx__descriptor, HM_MAX_TX_BYTES)                                 \
    X(signed_tx, Hallmark__SignedTx, hallmark__signed_tx__descriptor, HM_MAX_TX_BYTES)             \
    X(header, Hallmark__Header, hallmark__header__descriptor, HM_MAX_HEADER_BYTES)                 \
    X(block, Hallmark__Block, hallmark__block__descriptor, HM_MAX_BLOCK_BYTES)                     \
    X(block_results, Hallmark__BlockResults, hallmark__block_results__descriptor,                  \
      HM_MAX_BLOCK_BYTES)                                                                          \
    X(commit_cert, Hallmark__CommitCertificate, hallmark__commit_certificate__descriptor,          \
      HM_MAX_RECORD_BYTES)                                                                         \
    X(certified_block, Hallmark__CertifiedBlock, hallmark__certified_block__descriptor,            \
      HM_MAX_BLOCK_BYTES + HM_MAX_RECORD_BYTES)                                                    \
    X(envelope, Hallmark__Envelope, hallmark__envelope__descriptor, HM_MAX_FRAME_BYTES)            \
    X(view_change_body, Hallmark__ViewChangeBody, hallmark__view_change_body__descriptor,          \
      HM_MAX_FRAME_BYTES)                                                                          \
    X(new_view_body, Hallmark__NewViewBody, hallmark__new_view_body__descriptor,                   \
      HM_MAX_FRAME_BYTES)                                                                          \
    X(vote_record, Hallmark__VoteRecord, hallmark__vote_record__descriptor, HM_MAX_HEADER_BYTES)   \
    X(identity, Hallmark__Identity, hallmark__identity__descriptor, HM_MAX_RECORD_BYTES)           \
    X(recipe, Hallmark__Recipe, hallmark__recipe__descriptor, HM_MAX_RECORD_BYTES)                 \
    X(licence, Hallmark__Licence, hallmark__licence__descriptor, HM_MAX_RECORD_BYTES)              \
    X(certificate, Hallmark__Certificate, hallmark__certificate__descriptor, HM_MAX_RECORD_BYTES)  \
    X(part, Hallmark__Part, hallmark__part__descriptor, HM_MAX_RECORD_BYTES)                       \
    X(nonce_record, Hallmark__NonceRecord, hallmark__nonce_record__descriptor, HM_MAX_HEADER_BYTES) \
    X(external_id_index, Hallmark__ExternalIdIndex, hallmark__external_id_index__descriptor,       \
      HM_MAX_HEADER_BYTES)                                                                         \
    X(batch_index, Hallmark__BatchIndex, hallmark__batch_index__descriptor, HM_MAX_HEADER_BYTES)   \
    X(validator_set, Hallmark__ValidatorSet, hallmark__validator_set__descriptor,                  \
      HM_MAX_RECORD_BYTES)                                                                         \
    X(smt_proof, Hallmark__SmtProof, hallmark__smt_proof__descriptor, HM_MAX_RECORD_BYTES)         \
    X(proof_bundle, Hallmark__ProofBundle, hallmark__proof_bundle__descriptor, HM_MAX_BUNDLE_BYTES)

#define HM_CODEC_DECLARE(name, T, desc, cap)                                                       \
    static inline int hm_decode_##name(T **out, const uint8_t *data, size_t len)                   \
    {                                                                                              \
        return hm_codec_decode((void **)out, &desc, (cap), data, len);                             \
    }                                                                                              \
    static inline void hm_free_##name(T *msg)                                                      \
    {                                                                                              \
        hm_codec_free(msg);                                                                        \
    }
HM_CODEC_TYPES(HM_CODEC_DECLARE)
#undef HM_CODEC_DECLARE

#endif
