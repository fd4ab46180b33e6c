/* checkpoint_file.h — one checkpoint as one HDF5 file: named tensors and
 * scalars, a format tag and a checksum over all of them.
 *
 *   /                attributes hpcml_format = "hpcml-checkpoint",
 *                    format_version (int32), checksum (uint64),
 *                    checksum_algorithm = "fnv1a64-mix64/v1"
 *   /model/...       the trainer's items, e.g. /model/layer0.weight [out][in]
 *   /optimizer/...   /state/... /sampler/...   (see src/train/checkpoint.c)
 *
 * The caller describes the contents as a list of items (the same list for
 * writing and reading); groups on the way are created. No time stamps are
 * stored (object time tracking is off), so the same contents give the same
 * bytes, and h5diff of two checkpoints compares values only.
 *
 * The checksum covers, item by item in list order, the item's name, type,
 * shape and data bytes. A reader builds its list from what the file holds
 * (ckpt_file_item_shape, ckpt_file_peek), never from what its own
 * configuration expects, so a file's validity does not depend on the reader. A checkpoint that cannot be opened or read, or
 * whose checksum does not match, is HPCML_EDATA ("corrupt or truncated"),
 * so the caller can fall back to an older one; one that is intact but lacks
 * an item or has another shape is HPCML_EUSAGE (written for another model),
 * which falling back would not cure.
 *
 * These functions are not collective: one rank (rank 0) writes and reads,
 * through the default (POSIX) HDF5 driver.
 *
 * Exported for the tests; programs reach them only through this room's other functions:
 * ckpt_items_checksum. Tests: test_checkpoint_file.c.
 */
#ifndef HPCML_IO_CHECKPOINT_FILE_H
#define HPCML_IO_CHECKPOINT_FILE_H

#include <stddef.h>
#include <stdint.h>

#define HPCML_CHECKPOINT_MAGIC   "hpcml-checkpoint"
/* format_version: bumped whenever the trainer's item list changes (see
 * src/train/checkpoint.c for what each version holds). Files from
 * HPCML_CHECKPOINT_VERSION_MIN on are read (the items a version lacks get
 * defaults there); any other version is HPCML_EUSAGE naming it, never
 * "corrupt", so such a file is kept. */
#define HPCML_CHECKPOINT_VERSION     2
#define HPCML_CHECKPOINT_VERSION_MIN 1

typedef enum { CKPT_F32 = 0, CKPT_F64 = 1, CKPT_I64 = 2 } ckpt_type;

typedef struct {
    const char *name; /* absolute path inside the file: "/model/layer0.weight" */
    ckpt_type type;
    int rank;         /* 0 (scalar), 1 or 2 */
    uint64_t dims[2]; /* used up to rank */
    void *data;       /* write: the values; read: where they go */
} ckpt_item;

/* Write items to path atomically: a temp file in the same directory,
 * H5Fclose, fsync, rename over path, fsync of the directory. A failed
 * write names the reason (strerror: "No space left on device"). */
int ckpt_file_write(const char *path, const ckpt_item *items, int n_items);

/* Read items from path (shapes must match) and verify the checksum. */
int ckpt_file_read(const char *path, ckpt_item *items, int n_items);

/* Read items from path like ckpt_file_read but without the checksum: for
 * learning what a file holds (its architecture, its optimizer) before the
 * item list for ckpt_file_read is built from it. Nothing read this way is
 * trusted until ckpt_file_read has verified the same list. */
int ckpt_file_peek(const char *path, ckpt_item *items, int n_items);

/* The format_version of the checkpoint at path (not verified: the checksum
 * is checked by ckpt_file_read). HPCML_EDATA when path is no hpcml
 * checkpoint or has no version, HPCML_EIO when it cannot be opened, and
 * HPCML_EUSAGE naming the version when this build cannot read it. */
int ckpt_file_version(const char *path, int *version);

/* The rank (0..2) and dims of item `name` in path, *rank = -1 when the file
 * has no such item; HPCML_EDATA / HPCML_EIO when the file cannot be opened. */
int ckpt_file_item_shape(const char *path, const char *name, int *rank, uint64_t dims[2]);

/* The checksum of items as ckpt_file_write stores it. */
uint64_t ckpt_items_checksum(const ckpt_item *items, int n_items);

#endif
