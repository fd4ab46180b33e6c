/* etl_ranges.h — cutting the input among ranks.
 *
 * The data regions of all files form one logical stream, cut into P equal
 * byte ranges, one per rank; a rank's share is a list of pieces (a byte
 * range of one file). Plain files are cut anywhere; gzip files (and every
 * file with split_mode = "files") are atomic and go to the rank whose range
 * holds the file's middle. Where a range begins mid-file, the quote parity
 * and line feeds of the ranks before it decide where its first record
 * starts (csv_tokenize.h describes the rule): etl_scan_range measures a
 * chunk, etl_seg_exscan hands the sums along the ranks. */
#ifndef HPCML_ETL_RANGES_H
#define HPCML_ETL_RANGES_H

#include <mpi.h>
#include <stdint.h>

#include "etl/csv_tokenize.h"
#include "etl/etl_inputs.h"
#include "etl/etl_schema.h"

typedef struct {
    int file;
    int64_t begin, end; /* byte offsets in the file (decompressed for .gz) */
    int atomic;         /* whole file, read to its end */
} etl_piece;

/* This rank's pieces, in input order (*out freed by the caller). */
int etl_make_pieces(const etl_options *o, const etl_inputs *in, int rank, int P, etl_piece **out,
                    int *n_out);

/* Scans [begin, end) of a plain file in blocks of cap bytes (buf), composing
 * csv_chunk_scan into acc; adds the bytes read to *bytes. */
int etl_scan_range(const etl_options *o, const char *path, int64_t begin, int64_t end, char *buf,
                   size_t cap, csv_chunk_info *acc, int64_t *bytes);

/* The segmented scan element: quote parity and line feeds of the chunks of
 * one file, accumulated over consecutive ranks. */
typedef struct {
    int64_t file; /* -1: this rank contributes nothing */
    int64_t parity;
    int64_t newlines;
} etl_seg;

/* Collective: *before = the combination of the lower ranks' elements
 * ({-1, 0, 0} on rank 0). Every rank must call it, whatever its status. */
int etl_seg_exscan(MPI_Comm comm, const etl_seg *mine, etl_seg *before);

#endif
