/* sha256.h — SHA-256 (FIPS 180-4): the input files' /meta/source_sha256
 * (hpcml-etl), the shards' checksums in manifest.json (hpcml-gen) and the
 * model file's checksum (io/model_file.c).
 *
 * Streaming interface; uses the x86 SHA extensions when the CPU has them
 * (about 1.5-2 GB/s) and portable C otherwise (about 0.3 GB/s). Pure: no
 * I/O, no MPI; callers spread files over ranks. */
#ifndef HPCML_CORE_SHA256_H
#define HPCML_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total_bytes;
    unsigned char block[64];
    size_t block_len;
} sha256;

void sha256_init(sha256 *s);
void sha256_update(sha256 *s, const void *data, size_t n);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_final_hex(sha256 *s, char hex[65]);
/* The digest as its eight 32-bit words (H0..H7), and those words as hex. */
void sha256_final_words(sha256 *s, uint32_t words[8]);
void sha256_words_hex(const uint32_t words[8], char hex[65]);

#endif
