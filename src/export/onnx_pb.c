/* onnx_pb.c — protocol-buffers wire encoding. See onnx_pb.h. */
#include "export/onnx_pb.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_I32 = 5 };

void pb_init(pb_buf *b)
{
    memset(b, 0, sizeof *b);
}

void pb_free(pb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int pb_ok(const pb_buf *b)
{
    return !b->failed;
}

static int reserve(pb_buf *b, size_t extra)
{
    if (b->failed) return 0;
    if (b->len + extra <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

static void put_raw(pb_buf *b, const void *p, size_t n)
{
    if (!n || !reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_varint(pb_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    put_raw(b, tmp, n);
}

static void put_tag(pb_buf *b, int field, int wire)
{
    put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void pb_varint(pb_buf *b, int field, int64_t v)
{
    put_tag(b, field, WIRE_VARINT);
    put_varint(b, (uint64_t)v);
}

void pb_bytes(pb_buf *b, int field, const void *data, size_t n)
{
    put_tag(b, field, WIRE_LEN);
    put_varint(b, n);
    put_raw(b, data, n);
}

void pb_string(pb_buf *b, int field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

void pb_message(pb_buf *b, int field, const pb_buf *sub)
{
    if (sub->failed) b->failed = 1;
    pb_bytes(b, field, sub->data, sub->len);
}

void pb_append(pb_buf *b, const pb_buf *sub)
{
    if (sub->failed) b->failed = 1;
    put_raw(b, sub->data, sub->len);
}

void pb_float(pb_buf *b, int field, float v)
{
    uint8_t le[4];
    pb_le_floats(le, &v, 1);
    put_tag(b, field, WIRE_I32);
    put_raw(b, le, 4);
}

void pb_packed_int64(pb_buf *b, int field, const int64_t *v, size_t n)
{
    pb_buf body;
    pb_init(&body);
    for (size_t i = 0; i < n; i++)
        put_varint(&body, (uint64_t)v[i]);
    pb_message(b, field, &body);
    pb_free(&body);
}

static void le_bytes(uint8_t *out, uint64_t bits, int n)
{
    for (int k = 0; k < n; k++)
        out[k] = (uint8_t)(bits >> (8 * k));
}

void pb_le_floats(uint8_t *out, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        le_bytes(out + 4 * i, bits, 4);
    }
}

void pb_le_doubles(uint8_t *out, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], 8);
        le_bytes(out + 8 * i, bits, 8);
    }
}

void pb_le_int64s(uint8_t *out, const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        le_bytes(out + 8 * i, (uint64_t)v[i], 8);
}
