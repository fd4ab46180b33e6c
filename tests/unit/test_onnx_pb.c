/* test_onnx_pb.c — the protobuf wire encoder and the ONNX message builder
 * (src/export/onnx_pb.c, onnx_graph.c) byte for byte against encodings worked
 * out from the protobuf specification (varints, zig-zag-free negative int64
 * as ten bytes, length prefixes, fixed32, packed fields) and onnx.proto's
 * field numbers. That python3-onnx and ONNX Runtime read whole exported
 * models is tests/scripts/test_export.sh. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "export/onnx_graph.h"
#include "export/onnx_pb.h"

static int bytes_are(const pb_buf *b, const uint8_t *want, size_t n)
{
    return pb_ok(b) && b->len == n && memcmp(b->data, want, n) == 0;
}

static void test_varints(void)
{
    pb_buf b;
    pb_init(&b);
    pb_varint(&b, 1, 150); /* the spec's example: 08 96 01 */
    const uint8_t w1[] = {0x08, 0x96, 0x01};
    CHECK(bytes_are(&b, w1, sizeof w1));
    pb_free(&b);
    pb_varint(&b, 2, 0);
    pb_varint(&b, 3, 127);
    pb_varint(&b, 3, 128);
    const uint8_t w2[] = {0x10, 0x00, 0x18, 0x7f, 0x18, 0x80, 0x01};
    CHECK(bytes_are(&b, w2, sizeof w2));
    pb_free(&b);
    pb_varint(&b, 1, -1); /* int64 -1: ten bytes */
    const uint8_t w3[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK(bytes_are(&b, w3, sizeof w3));
    pb_free(&b);
    pb_varint(&b, 20, 2); /* a field number above 15: two-byte tag (20 << 3 = 160) */
    const uint8_t w4[] = {0xa0, 0x01, 0x02};
    CHECK(bytes_are(&b, w4, sizeof w4));
    pb_free(&b);
}

static void test_length_delimited(void)
{
    pb_buf b, sub;
    pb_init(&b);
    pb_init(&sub);
    pb_string(&b, 2, "testing"); /* 12 07 74 65 73 74 69 6e 67 */
    const uint8_t w1[] = {0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'};
    CHECK(bytes_are(&b, w1, sizeof w1));
    pb_free(&b);
    pb_varint(&sub, 1, 150);
    pb_message(&b, 3, &sub); /* 1a 03 08 96 01 */
    const uint8_t w2[] = {0x1a, 0x03, 0x08, 0x96, 0x01};
    CHECK(bytes_are(&b, w2, sizeof w2));
    pb_free(&b);
    const int64_t v[] = {3, 270, 86942}; /* packed: 22 06 03 8e 02 9e a7 05 */
    pb_packed_int64(&b, 4, v, 3);
    const uint8_t w3[] = {0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05};
    CHECK(bytes_are(&b, w3, sizeof w3));
    pb_free(&b);
    pb_float(&b, 2, 1.0f); /* fixed32: 15 00 00 80 3f */
    const uint8_t w4[] = {0x15, 0x00, 0x00, 0x80, 0x3f};
    CHECK(bytes_are(&b, w4, sizeof w4));
    pb_free(&b);
    pb_free(&sub);
    uint8_t le[8];
    const double one = 1.0;
    pb_le_doubles(le, &one, 1);
    const uint8_t w5[] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    CHECK(memcmp(le, w5, 8) == 0);
}

static void test_model(void)
{
    onnx_graph g;
    onnx_graph_init(&g);
    const int64_t dims[2] = {ONNX_DIM_BATCH, 2};
    onnx_graph_input(&g, "x", ONNX_FLOAT, dims, 2);
    onnx_op(&g, "Relu", "y", "x", NULL);
    onnx_graph_output(&g, "y", ONNX_FLOAT, dims, 2);
    const onnx_model_info info = {.graph_name = "g", .producer_version = "v", .opset = 17};
    pb_buf m;
    CHECK(onnx_model_encode(&g, &info, &m) == 0);
    /* ModelProto starts with ir_version = 8 and the producer "hpcml" */
    const uint8_t head[] = {0x08, 0x08, 0x12, 0x05, 'h', 'p', 'c', 'm', 'l'};
    CHECK(m.len > sizeof head && memcmp(m.data, head, sizeof head) == 0);
    /* the node: NodeProto {op_type "Relu" (4), input "x" (1), output "y" (2)} as graph field 1 */
    const uint8_t node[] = {0x0a, 0x0c, 0x22, 0x04, 'R', 'e', 'l', 'u',
                            0x0a, 0x01, 'x',  0x12, 0x01, 'y'};
    int found = 0;
    for (size_t i = 0; i + sizeof node <= m.len; i++)
        found |= memcmp(m.data + i, node, sizeof node) == 0;
    CHECK(found);
    /* the opset import: OperatorSetIdProto {domain "" (1), version 17 (2)} as field 8 */
    const uint8_t opset[] = {0x42, 0x04, 0x0a, 0x00, 0x10, 0x11};
    CHECK(m.len >= sizeof opset && memcmp(m.data + m.len - sizeof opset, opset, sizeof opset) == 0);
    pb_free(&m);
    onnx_graph_free(&g);
}

int main(void)
{
    test_varints();
    test_length_delimited();
    test_model();
    CHECK_DONE();
}
