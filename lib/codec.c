/* lib/codec — see codec.h. */
#include "lib/codec.h"

#include <stdlib.h>

/* Reject unknown fields anywhere in the tree. The schema has no recursive
 * message types, so this recursion is bounded by the schema's depth. */
static int hm_check_known(const ProtobufCMessage *m)
{
    if (m->n_unknown_fields != 0)
        return HM_ERR_INVALID;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t j = 0; j < n; j++) {
                int rc = arr[j] ? hm_check_known(arr[j]) : HM_ERR_INVALID;
                if (rc != HM_OK)
                    return rc;
            }
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
                if (which != f->id)
                    continue;
            }
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
            if (sub) {
                int rc = hm_check_known(sub);
                if (rc != HM_OK)
                    return rc;
            }
        }
    }
    return HM_OK;
}

int hm_codec_decode(void **out, const ProtobufCMessageDescriptor *desc, size_t cap,
                    const uint8_t *data, size_t len)
{
    if (len > cap)
        return HM_ERR_TOO_LARGE;
    if (!data && len)
        return HM_ERR_INVALID;
    static const uint8_t empty = 0;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data ? data : &empty);
    if (!m)
        return HM_ERR_INVALID;
    int rc = hm_check_known(m);
    if (rc != HM_OK) {
        protobuf_c_message_free_unpacked(m, NULL);
        return rc;
    }
    *out = m;
    return HM_OK;
}

size_t hm_codec_encoded_size(const ProtobufCMessage *msg)
{
    return protobuf_c_message_get_packed_size(msg);
}

int hm_codec_encode(uint8_t **out, size_t *len, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *p = NULL;
    if (n) {
        p = malloc(n);
        if (!p)
            return HM_ERR_NOMEM;
        if (protobuf_c_message_pack(msg, p) != n) {
            free(p);
            return HM_ERR_INVALID;
        }
    }
    *out = p;
    *len = n;
    return HM_OK;
}

int hm_codec_encode_append(hm_buf_t *b, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    int rc = hm_buf_reserve(b, n);
    if (rc != HM_OK)
        return rc;
    if (protobuf_c_message_pack(msg, b->data + b->len) != n)
        return HM_ERR_INVALID;
    b->len += n;
    return HM_OK;
}

static int hm_append_varint(hm_buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return hm_buf_append(b, tmp, n);
}

int hm_codec_append_field(hm_buf_t *b, uint32_t field, const ProtobufCMessage *msg)
{
    if (field == 0 || field > 0x1fffffff)
        return HM_ERR_INVALID;
    size_t n = protobuf_c_message_get_packed_size(msg);
    int rc = hm_append_varint(b, (uint64_t)field << 3 | 2);
    if (rc == HM_OK)
        rc = hm_append_varint(b, n);
    if (rc == HM_OK)
        rc = hm_codec_encode_append(b, msg);
    return rc;
}

void hm_codec_free(void *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}
