/* lib/pbjson — render any decoded protobuf message of proto/hallmark.proto
 * as JSON (jansson), the human and machine format of the API and tools
 * (DESIGN §3): bytes as lowercase hex, enums by name, 64-bit integers as
 * JSON integers (as strings above 2^63-1), repeated fields as arrays, unset
 * messages as null, a oneof as its set member only. Field names are the
 * schema's (snake_case). Walks descriptors only: no packing or unpacking.
 * Depends on lib/hex and jansson. */
#ifndef HM_LIB_PBJSON_H
#define HM_LIB_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON object for msg (caller owns: json_decref), or NULL when out of
 * memory. */
json_t *hm_pb_to_json(const ProtobufCMessage *msg);

/* "did:hallmark:<40 hex>" for a 20-byte GID into out (size >= 54). */
void hm_gid_did(char out[54], const uint8_t gid[20]);

#endif
