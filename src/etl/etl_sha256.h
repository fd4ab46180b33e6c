/* etl_sha256.h — SHA-256 (FIPS 180-4) of the input files for /meta/source_sha256.
 *
 * Streaming interface; uses the x86 SHA extensions when the CPU has them
 * (about 1.5-2 GB/s) and portable C otherwise (about 0.3 GB/s). Pure: no
 * I/O, no MPI; the ETL spreads the files over ranks. */
#ifndef HPCML_ETL_SHA256_H
#define HPCML_ETL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total_bytes;
    unsigned char block[64];
    size_t block_len;
} etl_sha256;

void etl_sha256_init(etl_sha256 *s);
void etl_sha256_update(etl_sha256 *s, const void *data, size_t n);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void etl_sha256_final_hex(etl_sha256 *s, char hex[65]);
/* The digest as its eight 32-bit words (H0..H7), and those words as hex. */
void etl_sha256_final_words(etl_sha256 *s, uint32_t words[8]);
void etl_sha256_words_hex(const uint32_t words[8], char hex[65]);

#endif
