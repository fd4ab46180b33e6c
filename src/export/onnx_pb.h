/* onnx_pb.h — the protocol-buffers wire format, written by hand for the few
 * ONNX messages hpcml-export emits (docs/export.md says why not protobuf-c).
 *
 * A pb_buf is one message being built. Fields are appended in any order (a
 * protobuf reader accepts that); a nested message is built in its own pb_buf
 * and appended with pb_message, which prefixes its length. Allocation
 * failure is sticky: the first one sets buf->failed, later calls do nothing,
 * and the caller checks once at the end (pb_ok). Pure: no I/O. */
#ifndef HPCML_EXPORT_ONNX_PB_H
#define HPCML_EXPORT_ONNX_PB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int failed;
} pb_buf;

void pb_init(pb_buf *b);
void pb_free(pb_buf *b);
int pb_ok(const pb_buf *b);

/* wire type 0: int32, int64, enum, bool (negative values as ten bytes, as
 * protobuf encodes a negative int64) */
void pb_varint(pb_buf *b, int field, int64_t v);
/* wire type 2: bytes, string, a packed repeated field, an embedded message */
void pb_bytes(pb_buf *b, int field, const void *data, size_t n);
void pb_string(pb_buf *b, int field, const char *s);
void pb_message(pb_buf *b, int field, const pb_buf *sub);
/* fields already encoded in sub, appended as they are (no length prefix) */
void pb_append(pb_buf *b, const pb_buf *sub);
/* wire type 5 */
void pb_float(pb_buf *b, int field, float v);
/* packed repeated int64 */
void pb_packed_int64(pb_buf *b, int field, const int64_t *v, size_t n);

/* Little-endian bytes of n floats / doubles / int64s into out (the raw_data
 * layout of a TensorProto, whatever the host's byte order). */
void pb_le_floats(uint8_t *out, const float *v, size_t n);
void pb_le_doubles(uint8_t *out, const double *v, size_t n);
void pb_le_int64s(uint8_t *out, const int64_t *v, size_t n);

#endif
